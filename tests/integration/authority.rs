//! The authority issue's attacks, tried from outside as someone with a terminal would: our
//! CLI, Temporal's own CLI (a raw signal or update, as Temporal's web UI sends them) and
//! raw HTTP. Each checks in Temporal that the attack changed nothing it should not.

use crate::support::*;
use std::{
    process::{Command, Output},
    time::Duration,
};
use temporal_playground::{
    domain::audit::AuditFilter,
    domain::order::Resolution,
    operations::audit::orders_page,
    operations::orders::{approve, claim, manual_context, retry_now, stale_status, start_order},
    upstream::simulator::{Script, UpstreamBehaviour},
};

/// Our binary against `hostport`, with the shipped configuration.
fn ours(hostport: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
        .args(args)
        .args(["--hostport", hostport])
        .env_remove("TEMPORAL_ADDRESS")
        .env_remove("TEMPORAL_NAMESPACE")
        .env(
            "TEMPORAL_PLAYGROUND_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .output()
        .expect("the binary runs")
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `client resolve ORDER --resolution paid --reason BANK_CONFIRMED --operator ana`: a
/// proposal, where four eyes holds.
fn resolve_paid_as_ana(hostport: &str, order_id: &str) -> Output {
    let args = ["client", "resolve", "-o", order_id, "--resolution", "paid"];
    ours(
        hostport,
        &[
            &args[..],
            &["--reason", "BANK_CONFIRMED", "--operator", "ana"],
        ]
        .concat(),
    )
}

fn resolve_json(resolution: &str, operator: &str) -> String {
    serde_json::json!({
        "resolution": resolution,
        "reason_code": "BANK_CONFIRMED",
        "operator": operator,
        "note": "",
    })
    .to_string()
}

/// Case 1 and 2: four eyes holds for the CLI, a raw signal, a raw update and the stale
/// stage's signal; every change is in the trail with who sent it and through what.
#[tokio::test(flavor = "multi_thread")]
async fn four_eyes_holds_whichever_client_asks_and_the_trail_names_who_asked() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let hp = hp.as_str();
    for id in ["auth-cli", "auth-raw", "auth-update"] {
        start_manual(c, id, "bank-a", "http_503").await;
    }
    for id in ["auth-cli", "auth-raw", "auth-update"] {
        eventually("the order to wait", Duration::from_secs(30), || async {
            manual_context(c, id).await.ok()
        })
        .await;
    }

    // Our CLI, as the Go original's `resolve` line: a proposal, said so, nothing concluded.
    let out = resolve_paid_as_ana(hp, "auth-cli");
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("needs a second person's approval"),
        "{}",
        said(&out)
    );
    let context = manual_context(c, "auth-cli").await.unwrap();
    assert!(context.resolution.is_none(), "paid never concludes alone");
    assert_eq!(
        context.proposal.as_ref().map(|p| p.resolved_by.as_str()),
        Some("ana")
    );
    // The seed's signal on a pending proposal changes nothing, and says so.
    let out = ours(
        hp,
        &[
            "client",
            "signal-manual",
            "-w",
            "manual-auth-cli",
            "refunded",
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("changed nothing"), "{}", said(&out));
    // The same signal from Temporal's own CLI, as its web UI would send it.
    let out = raw_signal(
        hp,
        "manual-auth-cli",
        "resolve-manual-order",
        "\"refunded\"",
    );
    assert!(out.status.success(), "{}", said(&out));
    let context = manual_context(c, "auth-cli").await.unwrap();
    assert_eq!(
        context.proposal.map(|p| p.resolution),
        Some(Resolution::Paid),
        "a pending proposal is never overridden"
    );
    assert!(context.resolution.is_none());

    // A raw signal of `paid` on an order nobody proposed for: a proposal, not a conclusion.
    let out = raw_signal(hp, "manual-auth-raw", "resolve-manual-order", "\"paid\"");
    assert!(out.status.success(), "{}", said(&out));
    let context = eventually(
        "the raw signal's proposal",
        Duration::from_secs(10),
        || async {
            manual_context(c, "auth-raw")
                .await
                .ok()
                .filter(|m| m.proposal.is_some())
        },
    )
    .await;
    assert!(context.resolution.is_none());

    // A raw `resolve` update of `paid` is refused by the workflow's validator, and one
    // person approving their own proposal under the same name is refused too.
    let out = raw_update(
        hp,
        "manual-auth-update",
        "resolve",
        &resolve_json("paid", "mallory"),
    );
    assert!(!out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("second person"), "{}", said(&out));
    let out = raw_update(
        hp,
        "manual-auth-cli",
        "approve",
        &serde_json::json!({"operator": "ana", "note": ""}).to_string(),
    );
    assert!(!out.status.success(), "{}", said(&out));
    assert!(
        manual_context(c, "auth-update")
            .await
            .unwrap()
            .resolution
            .is_none()
    );
    assert!(
        manual_context(c, "auth-cli")
            .await
            .unwrap()
            .resolution
            .is_none()
    );
    assert_eq!(env.upstream.stats().conclusions, 0, "nothing concluded");

    // StaleOrder's resolve signal, raw: the order goes to the queue with a proposal.
    let stale = Script::Down.id("auth-stale");
    start_order(c, order(&stale, fast_policy(1, 600)))
        .await
        .unwrap();
    eventually("the order to go stale", Duration::from_secs(30), || async {
        stale_status(c, &stale).await.ok()
    })
    .await;
    let out = raw_signal(
        hp,
        &format!("stale-{stale}"),
        "resolve",
        &resolve_json("refunded", "mallory"),
    );
    assert!(out.status.success(), "{}", said(&out));
    let context = eventually(
        "the stale order's proposal",
        Duration::from_secs(30),
        || async {
            manual_context(c, &stale)
                .await
                .ok()
                .filter(|m| m.proposal.is_some())
        },
    )
    .await;
    assert!(context.resolution.is_none());
    assert_eq!(
        context.proposal.map(|p| p.resolved_by),
        Some("mallory".into())
    );
    assert_eq!(env.upstream.stats().conclusions, 0, "nothing concluded");

    // A second person approves; only then does the order conclude.
    approve(c, "auth-cli", "bo").await.unwrap();
    assert_resolved(c, "auth-cli", Resolution::Paid).await;

    // The trail: the CLI's operator through the command line; the raw signal under the
    // identity Temporal recorded, through a signal; the console's approver.
    claim(c, "auth-raw", "O'Neil").await.unwrap();
    let everyone = eventually("every entry", Duration::from_secs(15), || async {
        let page = orders_page(c, &AuditFilter::default(), None).await.ok()?;
        let raw = page
            .entries
            .iter()
            .any(|e| e.target == "auth-raw" && e.channel == "signal");
        raw.then_some(page)
    })
    .await;
    let rows: Vec<_> = everyone
        .entries
        .iter()
        .map(|e| {
            (
                e.target.as_str(),
                e.actor.as_str(),
                e.channel.as_str(),
                e.action.as_str(),
            )
        })
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.0 == "auth-cli" && r.1 == "ana" && r.2 == "command line"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.0 == "auth-cli" && r.1 == "bo" && r.3.starts_with("approve")),
        "{rows:?}"
    );
    let raw = rows
        .iter()
        .find(|r| r.0 == "auth-raw" && r.2 == "signal")
        .expect("the raw signal is in the trail");
    assert!(
        raw.1.starts_with("temporal-cli"),
        "the identity Temporal recorded, not the resolution: {raw:?}"
    );
    // The stale stage's run and the queue's run are both read.
    assert!(
        rows.iter()
            .any(|r| r.0 == stale && r.1 == "mallory" && r.2 == "signal"),
        "{rows:?}"
    );
    // Real names filter the trail: an apostrophe is escaped, not refused.
    for name in ["O'Neil", "José", "ana+ops@example.com"] {
        let filter = AuditFilter {
            actor: name.into(),
            ..Default::default()
        };
        let page = orders_page(c, &filter, None).await;
        assert!(page.is_ok(), "{name}: {page:?}");
    }
    let oneil = AuditFilter {
        actor: "O'Neil".into(),
        ..Default::default()
    };
    let page = eventually("O'Neil's claim", Duration::from_secs(10), || async {
        let page = orders_page(c, &oneil, None).await.ok()?;
        (!page.entries.is_empty()).then_some(page)
    })
    .await;
    assert!(
        page.entries
            .iter()
            .all(|e| e.actor == "O'Neil" && e.target == "auth-raw"),
        "{:?}",
        page.entries
    );
}

/// Case 1, the rule's lifetime: what needs approval is fixed when the order starts. An
/// order started under a rule that asks no second person keeps it, whatever the console's
/// configuration says later.
#[tokio::test(flavor = "multi_thread")]
async fn the_rule_an_order_started_with_is_the_rule_it_keeps() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let mut lenient = order(&Script::Down.id("auth-rule"), fast_policy(1, 1));
    lenient.four_eyes = Some(vec![]);
    let id = lenient.order_id.clone();
    start_order(c, lenient).await.unwrap();
    let context = eventually(
        "the order in the queue",
        Duration::from_secs(30),
        || async { manual_context(c, &id).await.ok() },
    )
    .await;
    assert!(context.four_eyes.is_empty(), "{:?}", context.four_eyes);
    let hp = env.server.hostport.clone();
    let out = ours(
        &hp,
        &[
            "client",
            "resolve",
            "-o",
            &id,
            "--resolution",
            "paid",
            "--reason",
            "BANK_CONFIRMED",
            "--operator",
            "ana",
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("resolved"), "{}", said(&out));
    assert_resolved(c, &id, Resolution::Paid).await;
}

/// Case 3: a contract charges no faster than the bound, whatever the cadence's spelling;
/// a spec Temporal would refuse is the person's error, and nothing is scheduled.
#[tokio::test(flavor = "multi_thread")]
async fn a_contract_charges_no_faster_than_the_bound_however_its_cadence_is_spelled() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let hp = env.server.hostport.clone();
    // A time New York passes twice in November would charge twice; one it skips in March,
    // not at all.
    let (ny, kl) = (
        "America/New_York",
        temporal_playground::domain::contract::DEFAULT_TIME_ZONE,
    );
    for (cron, zone, expected) in [
        ("* * * * *", kl, "at least"),
        ("*/5 * * * *", kl, "at least"),
        ("@every 1s # x", kl, "cron"),
        ("0 * * * * # hourly", kl, "cron"),
        ("99 99 99 99 99", kl, "cron"),
        ("30 1 * * *", ny, "charged twice"),
        ("30 2 * * *", ny, "skips"),
    ] {
        let out = ours(
            &hp,
            &[
                "client",
                "create-recurring-payment",
                "-o",
                "C-fast",
                "--cron",
                cron,
                "--tz",
                zone,
            ],
        );
        assert!(!out.status.success(), "{cron}: {}", said(&out));
        assert!(said(&out).contains(expected), "{cron}: {}", said(&out));
        assert!(
            !said(&out).contains("reference"),
            "not an outage: {}",
            said(&out)
        );
    }
    // Over HTTP, the same refusal is a 422 with the reason, never a 503.
    let addr = serve_dashboard(env.client.clone()).await;
    let finance = signed_in(addr, "fin").await;
    use leptos::server_fn::ServerFn;
    let path = temporal_playground::web::pages::contracts::CreateContract::PATH;
    for cron in ["* * * * *", "99 99 99 99 99", "@every 1s # x"] {
        let answer = finance
            .post(format!("http://{addr}{path}"))
            .form(&[
                ("contract_id", "C-fast"),
                ("customer", "ana"),
                ("plan", "monthly"),
                ("amount_cents", "999"),
                ("currency", "USD"),
                ("every", ""),
                ("cron", cron),
                ("time_zone", "UTC"),
                ("total_terms", "0"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 422, "{cron}");
    }
    // Nothing was scheduled; an hourly cron is fine.
    let out = temporal(&hp, &["schedule", "list"]);
    assert!(!said(&out).contains("C-fast"), "{}", said(&out));
    let out = ours(
        &hp,
        &[
            "client",
            "create-recurring-payment",
            "-o",
            "C-hourly",
            "--cron",
            "0 * * * *",
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    // Finance reads each contract's cron line as it was written (Temporal keeps it as a
    // structured calendar), in the list and on the contract's page.
    let out = ours(
        &hp,
        &[
            "client",
            "create-recurring-payment",
            "-o",
            "C-quarterly",
            "--cron",
            "30 2 1,15 */3 1-5",
            "--tz",
            "America/New_York",
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    // Its charges read in its own zone too: 02:30 in New York, winter or summer.
    let told = said(&out);
    let charges: Vec<&str> = told
        .lines()
        .filter(|l| l.contains("next charge:"))
        .collect();
    assert!(!charges.is_empty(), "{told}");
    for line in charges {
        assert!(
            line.ends_with("02:30 EST)") || line.ends_with("02:30 EDT)"),
            "{line}"
        );
    }
    let list = page_text(&finance, &format!("http://{addr}/contracts")).await;
    for line in ["cron 0 * * * *", "cron 30 2 1,15 */3 1-5"] {
        assert!(list.contains(line), "{line} in the list: {list}");
    }
    let detail = page_text(&finance, &format!("http://{addr}/contracts/C-quarterly")).await;
    assert!(
        detail.contains("cron 30 2 1,15 */3 1-5") && detail.contains("America/New_York"),
        "{detail}"
    );
    assert!(detail.contains(" 02:30 E"), "{detail}");
    assert!(!detail.contains("Heads-up"), "{detail}");
    // A contract made before such lines were refused (here straight in Temporal): its page
    // tells finance ahead of the day its zone skips the hour it charges in (and that no
    // record says who made it, so its terms will be refused until finance resumes it).
    let out = temporal(
        &hp,
        &[
            "schedule",
            "create",
            "--schedule-id",
            "C-before",
            "--cron",
            "30 2 * * *",
            "--time-zone",
            "America/New_York",
            "--workflow-id",
            "recurring-C-before",
            "--type",
            "RecurringPayment",
            "--task-queue",
            temporal_playground::temporal::names::task_queues::RECURRING_SCHEDULE,
            "--input",
            r#"{"contract_id":"C-before","customer":"ana","plan":"daily","amount_cents":999,"currency":"USD"}"#,
        ],
    );
    assert!(out.status.success(), "{}", said(&out));
    let before = page_text(&finance, &format!("http://{addr}/contracts/C-before")).await;
    assert!(
        before.contains("Heads-up")
            && before.contains("no change to this contract is recorded")
            && before.contains("02:30 on 20")
            && before.contains("will not be charged"),
        "{before}"
    );
    // And finance's export carries it in its last column.
    let csv = page_text(&finance, &format!("http://{addr}/contracts.csv")).await;
    let row = csv
        .lines()
        .find(|l| l.starts_with("\"C-before\""))
        .unwrap_or_default();
    assert!(
        row.ends_with("will not be charged.\"") && row.contains("02:30 on 20"),
        "{csv}"
    );
}

/// Cases 4, 5, 6 and 10 over raw HTTP: redirects, simulation, body and time limits, forged
/// request ids (throttling is `access.rs`'s, with passwords).
#[tokio::test(flavor = "multi_thread")]
async fn raw_http_cannot_redirect_elsewhere_or_starve_the_console() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let own = format!("http://{addr}");
    use leptos::server_fn::ServerFn;
    let sign_in = temporal_playground::web::auth::SignIn::PATH;

    // Sign-in's `next`: known open-redirect payloads all land on this site.
    for (name, next, lands) in [
        ("r1", "/stale", "/stale"),
        ("r2", "/\t/evil.example", "/"),
        ("r3", "/\r\n/x", "/"),
        ("r4", "//evil.example", "/"),
        ("r5", "/\\evil.example", "/"),
        ("r6", "https://evil.example", "/"),
        ("r7", "/%2F%2Fevil.example", "/"),
    ] {
        let answer = browser(addr, None)
            .post(format!("{own}{sign_in}"))
            .header("accept", "text/html")
            .form(&[("name", name), ("next", next)])
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().as_u16() < 400,
            "{next:?}: {}",
            answer.status()
        );
        assert_eq!(answer.headers()["location"], lands, "{next:?}");
    }

    // Simulated payments start only against the simulator; this console has none.
    let presenter = signed_in(addr, "pres").await;
    let path = temporal_playground::web::pages::live_flow::Simulate::PATH;
    let answer = presenter
        .post(format!("{own}{path}"))
        .form(&[("rate", "50"), ("pace", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 422);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        count(&env.client, "WorkflowType = 'QueryOrder'").await,
        0,
        "no order was started"
    );

    // A body past the limit is refused before it is read.
    let big = "x".repeat(200 * 1024);
    let answer = presenter
        .post(format!("{own}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("rate=1&pace={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 413);

    // A slow body is cut off at the request time limit instead of holding a slot.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    slow.write_all(
        format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1000\r\n\r\nrate="
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(60), slow.read(&mut answer))
        .await
        .expect("the console answers a slow body before a minute passes")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");

    // A forged request id never reaches a log line or a response.
    let answer = browser(addr, None)
        .get(format!("{own}/healthz"))
        .header("x-request-id", "x outcome=ok actor=admin")
        .send()
        .await
        .unwrap();
    let echoed = answer
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        !echoed.is_empty() && !echoed.contains(" ") && !echoed.contains("="),
        "{echoed}"
    );
}

/// Case 7: a claim left sitting shows as stale in the queue, and an admin takes it over
/// with a reason; support cannot, and nobody can without a reason, from any client.
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_left_sitting_shows_as_stale_and_an_admin_takes_it_over_with_a_reason() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    start_manual(c, "auth-sit", "bank-a", "http_503").await;
    eventually("the order to wait", Duration::from_secs(30), || async {
        manual_context(c, "auth-sit").await.ok()
    })
    .await;
    claim(c, "auth-sit", "ana").await.unwrap();
    // Claims count as stale at once here (60 minutes by default).
    let mut config = temporal_playground::web::state::WebConfig {
        policy: fast_policy(3, 60),
        ..Default::default()
    };
    config.service_level.stale_claim_mins = 0;
    let (addr, _) = serve_dashboard_with(c.clone(), config).await;
    let support = signed_in(addr, "sup").await;
    let page = eventually(
        "the queue to show the claim",
        Duration::from_secs(15),
        || async {
            let html = support
                .get(format!("http://{addr}/"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            html.contains("auth-sit").then_some(html)
        },
    )
    .await;
    assert!(
        page.contains("data-testid=\"stale-claim\""),
        "a stale badge"
    );

    // Support may not take it over (typed names never hold admin).
    use leptos::server_fn::ServerFn;
    let path = temporal_playground::web::pages::order::TakeOverOrder::PATH;
    let answer = support
        .post(format!("http://{addr}{path}"))
        .form(&[("order_id", "auth-sit"), ("note", "mine now")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 403);
    // A raw update without a reason is refused by the workflow.
    let hp = env.server.hostport.clone();
    let out = raw_update(
        &hp,
        "manual-auth-sit",
        "take_over",
        &serde_json::json!({"operator": "lead", "note": " "}).to_string(),
    );
    assert!(!out.status.success(), "{}", said(&out));
    let context = manual_context(c, "auth-sit").await.unwrap();
    assert_eq!(context.claim.map(|s| s.operator), Some("ana".into()));
    assert!(context.taken_over.is_none());

    // The admin takes it over, with why; both names and the reason stay on the order.
    temporal_playground::operations::orders::take_over(c, "auth-sit", "root", "ana is away")
        .await
        .unwrap();
    let context = manual_context(c, "auth-sit").await.unwrap();
    assert_eq!(context.claim.map(|s| s.operator), Some("root".into()));
    let taken = context.taken_over.expect("recorded");
    assert_eq!(
        (taken.from.operator.as_str(), taken.note.as_str()),
        ("ana", "ana is away")
    );
}

/// A name that reads like another's (a space at an end, a zero-width character) is refused
/// by the workflows themselves, whichever client sends it: a raw update cannot approve
/// ana's proposal as `ana\u{200b}` or `ana ` (the trail would read "proposed by ana,
/// approved by ana"), nor claim the order as `bo `; a raw retry signalled as `bo\u{200b}` is
/// not recorded as anyone's; our CLI says what is wrong before it connects.
#[tokio::test(flavor = "multi_thread")]
async fn a_name_that_reads_like_another_is_refused_by_the_workflows_from_any_client() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let hp = hp.as_str();
    start_manual(c, "alike-q", "bank-a", "http_503").await;
    // Two 503s use up QueryOrder's two tries; the stale retry is then paid.
    start_order(c, order("flaky2-alike", fast_policy(2, 3_600)))
        .await
        .unwrap();
    eventually("both orders waiting", Duration::from_secs(60), || async {
        manual_context(c, "alike-q").await.ok()?;
        stale_status(c, "flaky2-alike").await.ok()
    })
    .await;
    let out = resolve_paid_as_ana(hp, "alike-q");
    assert!(out.status.success(), "{}", said(&out));

    for (update, operator) in [
        ("approve", "ana\u{200b}"),
        ("approve", "ana "),
        ("approve", "a\u{a0}na"),
        ("claim", "bo "),
    ] {
        let input = serde_json::json!({"operator": operator, "note": ""}).to_string();
        let out = raw_update(hp, "manual-alike-q", update, &input);
        assert!(
            !out.status.success(),
            "{update} as {operator:?}: {}",
            said(&out)
        );
        assert!(
            said(&out).contains("no two names look alike"),
            "{update} as {operator:?}: {}",
            said(&out)
        );
    }
    // Names that differ only by case are one person to four eyes.
    for operator in ["ANA", "Ana"] {
        let input = serde_json::json!({"operator": operator, "note": ""}).to_string();
        let out = raw_update(hp, "manual-alike-q", "approve", &input);
        assert!(
            !out.status.success(),
            "approve as {operator}: {}",
            said(&out)
        );
        assert!(
            said(&out).contains("you proposed this resolution"),
            "approve as {operator}: {}",
            said(&out)
        );
    }
    let context = manual_context(c, "alike-q").await.unwrap();
    assert!(context.resolution.is_none(), "{:?}", context.resolution);
    assert!(context.claim.is_none(), "{:?}", context.claim);
    assert_eq!(
        context.proposal.map(|p| p.resolved_by),
        Some("ana".to_string())
    );

    // A raw retry under a look-alike name is ignored; bo's own retry is the one recorded.
    let out = raw_signal(hp, "stale-flaky2-alike", "retry-now", "\"bo\u{200b}\"");
    assert!(out.status.success(), "{}", said(&out));
    retry_now(c, "flaky2-alike", "bo").await.unwrap();
    assert_resolved(c, "flaky2-alike", Resolution::Paid).await;
    let retried = stale_status(c, "flaky2-alike")
        .await
        .unwrap()
        .retry_requested
        .expect("the retry's record");
    assert_eq!(retried.operator, "bo");

    // An import started from Temporal's CLI under `bo` with a zero-width space cannot be
    // approved by bo as a second person, nor can `CY` approve what `cy` imported, nor can
    // anyone be the only person on an import that names no importer.
    for (import_id, importer, approver, refusal) in [
        (
            "statement-a11ce",
            "bo\u{200b}",
            "bo",
            "reads like another's",
        ),
        ("statement-a11cf", "cy", "CY", "cy imported this statement"),
        ("statement-a11d0", "", "bo", "names no importer"),
    ] {
        let start = serde_json::json!({
            "statement_id": "S-1", "account": "", "format": "csv", "file_name": "s.csv",
            "content_hash": "ab", "imported_by": importer, "chunks": 1, "first": [],
            "unmentioned": [],
        })
        .to_string();
        raw_start(
            hp,
            "StatementImport",
            "manual-handle",
            import_id,
            Some(&start),
        );
        let approval = serde_json::json!({"operator": approver, "note": ""}).to_string();
        let out = raw_update(hp, import_id, "approve", &approval);
        assert!(!out.status.success(), "{approver}: {}", said(&out));
        assert!(said(&out).contains(refusal), "{approver}: {}", said(&out));
        let (ok, shown) = crate::support::ours(hp, &["client", "show-statement", "-i", import_id]);
        assert!(ok && !shown.contains("approved by"), "{shown}");
    }

    // An order started from Temporal's CLI straight into the manual queue with a proposal
    // of `paid` by nobody: bo cannot be its only person. Rejecting it is still possible.
    {
        use temporal_playground::domain::resolution::{Handoff, ResolutionRecord};
        let id = Script::Down.id("noname");
        let handoff = Handoff {
            order: order(&id, fast_policy(2, 1)),
            attempts: 2,
            original_error: "503".into(),
            stale_retry_error: None,
            error_reason: "http_503".into(),
            original_reason: "http_503".into(),
            proposal: Some(ResolutionRecord {
                resolution: Resolution::Paid,
                reason_code: "BANK_CONFIRMED".into(),
                resolved_by: String::new(),
                resolved_at: "2026-12-06T10:00:00Z".into(),
                note: String::new(),
                approved_by: None,
                resolved_by_id: String::new(),
                evidence: None,
            }),
            seen: None,
            refused: None,
            put_back: None,
        };
        let workflow_id = format!("manual-{id}");
        let input = serde_json::to_string(&handoff).unwrap();
        raw_start(
            hp,
            "ManualHandle",
            "manual-handle",
            &workflow_id,
            Some(&input),
        );
        let approval = serde_json::json!({"operator": "bo", "note": ""}).to_string();
        let out = raw_update(hp, &workflow_id, "approve", &approval);
        assert!(!out.status.success(), "{}", said(&out));
        assert!(said(&out).contains("names no proposer"), "{}", said(&out));
        let waiting = manual_context(c, &id).await.unwrap();
        assert!(waiting.resolution.is_none(), "{waiting:?}");
        let rejection = serde_json::json!({"operator": "bo", "note": "nobody proposed it"});
        let out = raw_update(hp, &workflow_id, "reject", &rejection.to_string());
        assert!(out.status.success(), "{}", said(&out));
    }

    // Our CLI refuses the name before it connects.
    let out = ours(
        "127.0.0.1:9",
        &["client", "approve", "-o", "alike-q", "--operator", "ana "],
    );
    assert!(!out.status.success());
    assert!(
        said(&out).contains("no two names look alike"),
        "{}",
        said(&out)
    );
    assert!(!said(&out).contains("127.0.0.1:9"), "{}", said(&out));
}
