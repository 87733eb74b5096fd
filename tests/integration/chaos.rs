//! Resilience, for real: the binaries as separate processes on a real dev server, killed
//! with SIGKILL mid-flight and restarted. Counts come from Temporal's visibility and from
//! the simulated bank's own ledger (a process of its own, so it outlives the kills).

use crate::support::*;
use futures::{StreamExt, stream};
use std::time::Duration;
use temporal_playground::{
    domain::resolution::ResolveRequest,
    operations::OpError,
    operations::orders::{resolve_manual, start_order},
};

#[derive(serde::Deserialize)]
struct BankStats {
    conclusions: u64,
    distinct_conclusions: u64,
}

const ORDERS: usize = 300;

fn order_id(i: usize) -> String {
    match i % 4 {
        0 => format!("down-chaos-{i}"),
        1 => format!("flaky1-chaos-{i}"),
        _ => format!("paid-chaos-{i}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_serve_mid_flight_loses_no_order_and_concludes_none_twice() {
    let server = DevServer::start();
    let client = server.client().await;
    let (bank_port, dashboard_port) = (free_port(), free_port());
    let config = std::env::temp_dir().join(format!("tp-chaos-{dashboard_port}.toml"));
    std::fs::write(
        &config,
        format!(
            "[reconcile]\nattempts = 2\nbackoff_ms = 100\ncall_timeout_ms = 2000\n\
             stale_wait_secs = 1\n\
             [upstream]\nurl = \"http://127.0.0.1:{bank_port}\"\n\
             simulator_listen = \"127.0.0.1:{bank_port}\"\ndispatch_rps = 200.0\n\
             [upstream.simulator]\npaid_pct = 100\nfailed_pct = 0\npending_pct = 0\n\
             error_5xx_pct = 0\nthrottle_pct = 0\ntimeout_pct = 0\nlatency_ms = 0\n\
             rps_limit = 1000\n\
             [dashboard]\nlisten = \"127.0.0.1:{dashboard_port}\"\n\
             [auth]\nmode = \"none\"\nsession_key_file = \"{key}\"\n",
            key = std::env::temp_dir()
                .join(format!("tp-chaos-{dashboard_port}.key"))
                .display()
        ),
    )
    .unwrap();
    let bank_addr = format!("127.0.0.1:{bank_port}");
    let _bank = Process::spawn(&["upstream", "--listen", &bank_addr], &config);
    let serve_args = ["serve", "--hostport", server.hostport.as_str()];
    let healthz = format!("http://127.0.0.1:{dashboard_port}/healthz");
    let mut serve = Process::spawn(&serve_args, &config);
    eventually("the bank", Duration::from_secs(30), || {
        answers(format!("http://{bank_addr}/health"))
    })
    .await;
    eventually("serve", Duration::from_secs(60), || {
        answers(healthz.clone())
    })
    .await;

    // Three hundred orders at once; serve is killed while they are in flight.
    let policy = fast_policy(2, 1);
    let started = stream::iter(0..ORDERS)
        .map(|i| {
            let (client, policy) = (client.clone(), policy.clone());
            async move {
                start_order(&client, order(&order_id(i), policy))
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<_>>();
    let kill_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        serve.kill();
    };
    let (started, ()) = tokio::join!(started, kill_meanwhile);
    assert!(started.iter().all(|ok| *ok), "every order was accepted");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut serve = Process::spawn(&serve_args, &config);
    eventually("serve again", Duration::from_secs(60), || {
        answers(healthz.clone())
    })
    .await;

    let manual = ORDERS / 4;
    let resolved_paid = ORDERS - manual;
    eventually(
        "every order in its stage",
        Duration::from_secs(120),
        || async {
            let paid = count(
                &client,
                "WorkflowType IN ('QueryOrder', 'StaleOrder') AND OrderStage = 'resolved' \
                 AND OrderResolution = 'paid'",
            )
            .await;
            let waiting = count(
                &client,
                "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running' \
                 AND OrderStage = 'manual'",
            )
            .await;
            (paid == resolved_paid && waiting == manual).then_some(())
        },
    )
    .await;

    // Support resolves the manual ones; serve is killed again halfway through.
    let resolve = |i: usize| {
        let client = client.clone();
        async move {
            let id = order_id(i);
            for _ in 0..30 {
                // A resolution that needs no second person: it concludes at once.
                let request = ResolveRequest {
                    resolution: "failed".into(),
                    reason_code: "BANK_CONFIRMED".into(),
                    operator: "ana".into(),
                    note: String::new(),
                    operator_id: String::new(),
                };
                match resolve_manual(&client, &id, request).await {
                    Ok(_) => return,
                    Err(OpError::Rejected(m)) if m.starts_with("already resolved") => return,
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
            panic!("{id} could not be resolved");
        }
    };
    let first_half = stream::iter((0..ORDERS).step_by(4).take(manual / 2))
        .map(resolve)
        .buffer_unordered(10)
        .collect::<Vec<_>>();
    first_half.await;
    serve.kill();
    let second_half = stream::iter((0..ORDERS).step_by(4).skip(manual / 2))
        .map(resolve)
        .buffer_unordered(10)
        .collect::<Vec<_>>();
    let restart = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Process::spawn(&serve_args, &config)
    };
    let (_, _serve) = tokio::join!(second_half, restart);

    eventually(
        "every manual order concluded",
        Duration::from_secs(120),
        || async {
            let done = count(
                &client,
                "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Completed'",
            )
            .await;
            (done == manual).then_some(())
        },
    )
    .await;
    let stats: BankStats = reqwest::get(format!("http://{bank_addr}/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats.distinct_conclusions, manual as u64,
        "each order concluded once at the bank ({} requests)",
        stats.conclusions
    );
    let failed = count(&client, "ExecutionStatus = 'Failed'").await;
    assert_eq!(failed, 0, "no workflow failed");
    let _ = std::fs::remove_file(config);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_people_resolving_one_order_at_once_one_wins_the_other_is_told_who() {
    let env = TestEnv::start(
        temporal_playground::upstream::simulator::UpstreamBehaviour::always_paid(100),
        50.0,
    )
    .await;
    let orders: Vec<String> = (0..10).map(|i| format!("down-race-{i}")).collect();
    for id in &orders {
        start_order(&env.client, order(id, fast_policy(1, 1)))
            .await
            .unwrap();
    }
    for id in &orders {
        eventually("in the manual queue", Duration::from_secs(30), || async {
            temporal_playground::operations::orders::manual_context(&env.client, id)
                .await
                .ok()
        })
        .await;
        // Resolutions that need no second person: both race to conclude.
        let person = |who: &str| ResolveRequest {
            resolution: if who == "ana" { "cancelled" } else { "failed" }.into(),
            reason_code: "RACE".into(),
            operator: who.into(),
            ..Default::default()
        };
        let (a, b) = tokio::join!(
            resolve_manual(&env.client, id, person("ana")),
            resolve_manual(&env.client, id, person("bo")),
        );
        let (winner, loser) = match (a, b) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("{id}: exactly one must win: {other:?}"),
        };
        let told = loser.to_string();
        assert!(
            told.contains(&format!("already resolved by {}", winner.resolved_by)),
            "{id}: {told}"
        );
    }
    eventually("each concluded once", Duration::from_secs(30), || async {
        (env.upstream.stats().distinct_conclusions == orders.len() as u64).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dev_server_stopped_and_started_under_load_workers_and_dashboard_recover() {
    let port = free_port();
    let db = std::env::temp_dir().join(format!("tp-restart-{port}.db"));
    let _ = std::fs::remove_file(&db);
    let server = DevServer::start_on(port, Some(&db));
    let mut env = TestEnv::on_server(
        server,
        temporal_playground::upstream::simulator::UpstreamBehaviour::always_paid(100),
    )
    .await;
    env.add_workers(50.0).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let http = signed_in(addr, "ana").await;
    let page = |path: &'static str| {
        let http = http.clone();
        async move {
            http.get(format!("http://{addr}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let policy = fast_policy(3, 1);
    let before: Vec<String> = (0..40).map(|i| format!("flaky2-restart-{i}")).collect();
    for id in &before {
        start_order(&env.client, order(id, policy.clone()))
            .await
            .unwrap();
    }

    // The server goes away with orders in flight: the dashboard says so.
    env.server.kill();
    let during = page("/").await;
    assert!(during.contains("Could not load this page:"), "{during}");
    // Readiness is one answer of Temporal's reused for READINESS_FRESH_FOR (the live watch
    // may have asked just before the kill), so it turns within that time, not at once.
    let fresh_for = temporal_playground::web::health::READINESS_FRESH_FOR;
    eventually("readiness says not ready", fresh_for * 5, || async {
        let ready = reqwest::get(format!("http://{addr}/readyz")).await.ok()?;
        (ready.status().as_u16() == 503).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Back on the same port with the same data; nothing of ours is restarted.
    env.server = DevServer::start_on(port, Some(&db));
    eventually("the dashboard again", Duration::from_secs(60), || async {
        let html = page("/").await;
        html.contains("Manual queue")
            .then_some(())
            .filter(|_| !html.contains("Could not load this page:"))
    })
    .await;
    let after: Vec<String> = (0..10).map(|i| format!("paid-restart-{i}")).collect();
    for id in &after {
        eventually(
            "a start after the restart",
            Duration::from_secs(30),
            || async {
                start_order(&env.client, order(id, policy.clone()))
                    .await
                    .ok()
            },
        )
        .await;
    }
    eventually(
        "every order, before and after, resolved",
        Duration::from_secs(120),
        || async {
            let resolved = count(
                &env.client,
                "OrderId STARTS_WITH 'flaky2-restart-' OR OrderId STARTS_WITH 'paid-restart-'",
            )
            .await;
            let paid = count(
                &env.client,
                "(OrderId STARTS_WITH 'flaky2-restart-' OR OrderId STARTS_WITH 'paid-restart-') \
                 AND OrderResolution = 'paid'",
            )
            .await;
            (resolved > 0 && paid == before.len() + after.len()).then_some(())
        },
    )
    .await;
    let _ = std::fs::remove_file(db);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_to_every_server_function_is_explained_and_changes_nothing() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        web::auth::SignIn,
        web::pages::contracts::{AskBank, AskBankAll, ChangeContract, CreateContract},
        web::pages::dropped_orders::{PutBack, PutBackAll},
        web::pages::find_order::FindOrders,
        web::pages::live_flow::{SetFailureRate, Simulate},
        web::pages::manual_queue::{AskBankSet, TakeNext},
        web::pages::order::{
            AskBankOrder, ClaimOrder, NoteOrder, ReleaseOrder, ResolveOrder, RetryStale,
        },
        web::pages::stale_orders::RetryStaleSet,
    };
    let env = TestEnv::start(
        temporal_playground::upstream::simulator::UpstreamBehaviour::always_paid(100),
        50.0,
    )
    .await;
    start_order(&env.client, order("down-hostile", fast_policy(1, 1)))
        .await
        .unwrap();
    eventually("in the manual queue", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::manual_context(&env.client, "down-hostile")
            .await
            .ok()
    })
    .await;
    let addr = serve_dashboard(env.client.clone()).await;
    let history = |client: temporalio_client::Client| async move {
        client
            .get_workflow_handle::<temporalio_client::UntypedWorkflow>("manual-down-hostile")
            .fetch_history(Default::default())
            .into_events()
            .await
            .unwrap()
            .len()
    };
    let temporal_state = || async {
        (
            count(&env.client, "").await,
            temporal_playground::operations::contracts::list(&env.client)
                .await
                .unwrap()
                .len(),
            history(env.client.clone()).await,
        )
    };
    // The console begins its list of ended sessions as it starts: counted once visible.
    let list = format!(
        "WorkflowId = '{}'",
        temporal_playground::workflows::console_sessions::WORKFLOW_ID
    );
    eventually(
        "the sessions list visible",
        Duration::from_secs(30),
        || async { (count(&env.client, &list).await == 1).then_some(()) },
    )
    .await;
    let before = temporal_state().await;

    let long = "x".repeat(10_000);
    let note = "n".repeat(600);
    let customer = "c".repeat(500);
    let contract = |field: &str, value: &str| {
        let mut form = vec![
            ("contract_id", "C-hostile".to_string()),
            ("customer", "ana".into()),
            ("plan", "monthly".into()),
            ("amount_cents", "999".into()),
            ("currency", "USD".into()),
            ("every", "30d".into()),
            ("cron", String::new()),
            ("time_zone", "Asia/Kuala_Lumpur".into()),
            ("total_terms", "12".into()),
        ];
        for pair in form.iter_mut() {
            if pair.0 == field {
                pair.1 = value.to_string();
            }
        }
        form
    };
    let resolve = |field: &str, value: &str| {
        let mut form = vec![
            ("order_id", "down-hostile".to_string()),
            ("resolution", "paid".into()),
            ("reason_code", "BANK_CONFIRMED".into()),
            ("note", String::new()),
        ];
        for pair in form.iter_mut() {
            if pair.0 == field {
                pair.1 = value.to_string();
            }
        }
        form
    };
    let one = |k: &'static str, v: &str| vec![(k, v.to_string())];
    let queue_set = |field: &str, value: &str| {
        let mut form: Vec<(&str, String)> = [
            "prefix", "provider", "reason", "claim", "age", "currency", "band",
        ]
        .into_iter()
        .map(|k| (k, String::new()))
        .collect();
        form.push(("expected", "1".into()));
        for pair in form.iter_mut() {
            if pair.0 == field {
                pair.1 = value.to_string();
            }
        }
        form
    };
    let take_set = |field: &str, value: &str| {
        ["prefix", "provider", "reason", "age", "currency", "band"]
            .into_iter()
            .map(|k| (k, if k == field { value } else { "" }.to_string()))
            .collect::<Vec<_>>()
    };
    // (server function, its form, what the refusal says)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            ClaimOrder::PATH,
            one("order_id", "'; DROP TABLE"),
            "characters other than",
        ),
        (ClaimOrder::PATH, one("order_id", &long), "too long"),
        (ClaimOrder::PATH, one("order_id", ".."), "only dots"),
        (ReleaseOrder::PATH, one("order_id", ""), "empty"),
        (
            FindOrders::PATH,
            one("q", "x' OR '1'='1"),
            "characters other than",
        ),
        (FindOrders::PATH, one("q", &long), "too long"),
        (FindOrders::PATH, one("q", "  "), "empty"),
        (
            RetryStale::PATH,
            one("order_id", "a/b"),
            "characters other than",
        ),
        (
            ResolveOrder::PATH,
            resolve("resolution", "maybe"),
            "not a resolution",
        ),
        (
            ResolveOrder::PATH,
            resolve("reason_code", "two words"),
            "may only hold",
        ),
        (ResolveOrder::PATH, resolve("note", &note), "at most 500"),
        (
            RetryStaleSet::PATH,
            vec![
                ("provider", "x' OR '1'='1".into()),
                ("reason", String::new()),
                ("expected", "1".into()),
            ],
            // Escaped, the quote matches no provider: the set the person saw is not there.
            "0 orders match now",
        ),
        (
            RetryStaleSet::PATH,
            vec![
                ("provider", "bank\u{7}".into()),
                ("reason", String::new()),
                ("expected", "1".into()),
            ],
            "control characters",
        ),
        (
            CreateContract::PATH,
            contract("amount_cents", "-5"),
            "above zero",
        ),
        (
            CreateContract::PATH,
            contract("amount_cents", "99999999999"),
            "at most 10000 USD a term",
        ),
        (
            CreateContract::PATH,
            contract("amount_cents", "many"),
            "could not be read",
        ),
        (
            CreateContract::PATH,
            contract("currency", "ZZZ"),
            "ISO 4217",
        ),
        (
            CreateContract::PATH,
            contract("every", "0s"),
            "must be above zero",
        ),
        (
            CreateContract::PATH,
            contract("every", "1.5h"),
            "not an interval",
        ),
        (CreateContract::PATH, contract("every", "1s"), "at least"),
        (
            CreateContract::PATH,
            contract("time_zone", "Mars/Olympus"),
            "IANA",
        ),
        (
            CreateContract::PATH,
            contract("total_terms", "99999"),
            "at most 1200",
        ),
        (
            CreateContract::PATH,
            contract("customer", &customer),
            "at most 128",
        ),
        (
            CreateContract::PATH,
            contract("contract_id", &long),
            "too long",
        ),
        (
            ChangeContract::PATH,
            vec![
                ("contract_id", "C-none".into()),
                ("change", "delete".into()),
                ("reason", "because".into()),
            ],
            "is not a change",
        ),
        (
            AskBank::PATH,
            vec![
                ("contract_id", "C-none".into()),
                ("term_id", "recurring-C-none-x' OR '1'='1".into()),
            ],
            "is not a term of the contract",
        ),
        (
            AskBank::PATH,
            vec![
                ("contract_id", "C-none".into()),
                ("term_id", "recurring-C-none-2026-12-07T14:00:00Z".into()),
            ],
            "has no term",
        ),
        (
            PutBack::PATH,
            vec![
                ("order_id", "x' OR '1'='1".into()),
                ("reason", "why".into()),
            ],
            "characters other than",
        ),
        (
            PutBack::PATH,
            vec![
                ("order_id", "down-hostile".into()),
                ("reason", note.clone()),
            ],
            "at most 500",
        ),
        (
            PutBack::PATH,
            vec![("order_id", "down-hostile".into()), ("reason", " ".into())],
            "reason is empty",
        ),
        // It waits in the queue: putting it back would start a second run.
        (
            PutBack::PATH,
            vec![
                ("order_id", "down-hostile".into()),
                ("reason", "why".into()),
            ],
            "nothing to put back",
        ),
        (
            PutBackAll::PATH,
            vec![("expected", "5".into()), ("reason", "why".into())],
            "not 5",
        ),
        (
            AskBankOrder::PATH,
            one("order_id", "a/b"),
            "characters other than",
        ),
        (
            NoteOrder::PATH,
            vec![("order_id", "x' OR '1'='1".into()), ("note", "why".into())],
            "characters other than",
        ),
        (
            NoteOrder::PATH,
            vec![("order_id", "down-hostile".into()), ("note", note.clone())],
            "at most 500",
        ),
        (
            NoteOrder::PATH,
            vec![("order_id", "down-hostile".into()), ("note", " ".into())],
            "empty",
        ),
        (
            AskBankSet::PATH,
            queue_set("prefix", "x' OR '1'='1"),
            // Escaped, the quote matches no order: the set the person saw is not there.
            "0 orders match now",
        ),
        (
            AskBankSet::PATH,
            queue_set("provider", "bank\u{7}"),
            "control characters",
        ),
        (AskBankAll::PATH, one("expected", "5"), "not 5"),
        (
            TakeNext::PATH,
            take_set("age", "forever"),
            "at_risk or breached",
        ),
        (
            TakeNext::PATH,
            take_set("provider", "bank\u{7}"),
            "control characters",
        ),
        (
            TakeNext::PATH,
            take_set("band", "giant"),
            "small, medium, large or huge",
        ),
        (Simulate::PATH, one("rate", "NaN"), "between 0 and 50"),
        (Simulate::PATH, one("rate", "1e9"), "between 0 and 50"),
        (
            SetFailureRate::PATH,
            one("percent", "4294967295"),
            "real upstream",
        ),
        (SignIn::PATH, one("name", "\u{7}bell"), "control characters"),
        (SignIn::PATH, one("name", &long), "at most 64"),
        (SignIn::PATH, one("name", "system"), "reserved"),
    ];
    let http = signed_in(addr, "ana").await;
    let own = format!("http://{addr}");
    let tried = cases.len();
    for (path, form, expected) in cases {
        let response = http
            .post(format!("{own}{path}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.is_client_error(),
            "{path} {form:?}: a refusal is the sender's to fix, so 4xx, not {status}: {body}"
        );
        // What the page shows: the error the browser decodes from the body.
        let shown = serde_json::from_str::<temporal_playground::web::error::AppError>(&body)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| body.clone());
        assert!(
            shown.contains(expected),
            "{path} {form:?}: {status} {shown}"
        );
        assert!(
            body.len() < 1_000,
            "{path} echoed its input back: {} bytes",
            body.len()
        );
    }
    // A quote in the filter is escaped: it matches no order, and takes none.
    let taken = http
        .post(format!("{own}{}", TakeNext::PATH))
        .header("accept", "text/html")
        .form(&take_set("prefix", "x' OR '1'='1"))
        .send()
        .await
        .unwrap();
    assert!(
        location(&taken).contains("taken=none"),
        "{}",
        taken.status()
    );
    assert_eq!(
        temporal_state().await,
        before,
        "{tried} hostile requests changed Temporal"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misbehaving_bank_never_sees_more_than_its_limit_and_every_order_ends_in_a_stage() {
    use temporal_playground::upstream::simulator::UpstreamBehaviour;
    // A bad day at the bank: 5xx, 429 with Retry-After, answers that never come in time,
    // slow answers, and a hard limit of 20 requests a second.
    let behaviour = UpstreamBehaviour {
        paid_pct: 70,
        failed_pct: 20,
        pending_pct: 10,
        error_5xx_pct: 25,
        throttle_pct: 10,
        timeout_pct: 5,
        latency_ms: 150,
        hang_ms: 3_000,
        rps_limit: 20,
    };
    let env = TestEnv::start(behaviour, 10.0).await;
    let total = 150;
    let started = stream::iter(0..total)
        .map(|i| {
            let client = env.client.clone();
            async move {
                start_order(&client, order(&format!("bad-day-{i}"), fast_policy(3, 1)))
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<_>>()
        .await;
    assert!(started.iter().all(|ok| *ok));
    let settled = eventually(
        "every order resolved or waiting for a person",
        Duration::from_secs(240),
        || async {
            let resolved = count(
                &env.client,
                "OrderId STARTS_WITH 'bad-day-' AND OrderStage = 'resolved' \
                 AND WorkflowType IN ('QueryOrder', 'StaleOrder')",
            )
            .await;
            let manual = count(
                &env.client,
                "OrderId STARTS_WITH 'bad-day-' AND WorkflowType = 'ManualHandle' \
                 AND ExecutionStatus = 'Running'",
            )
            .await;
            (resolved + manual == total).then_some((resolved, manual))
        },
    )
    .await;
    let stats = env.upstream.stats();
    assert_eq!(stats.over_limit, 0, "the bank's limit held: {stats:?}");
    assert!(stats.peak_per_second <= 20, "{stats:?}");
    assert_eq!(count(&env.client, "ExecutionStatus = 'Failed'").await, 0);
    assert!(settled.0 > 0, "some orders resolved: {settled:?}");
}
