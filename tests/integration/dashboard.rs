//! The dashboard's server-side loaders against a real dev server: the manual queue pages
//! through Temporal's tokens and counts per filter.

use crate::support::{queue_page as load, *};
use futures::{StreamExt, stream};
use std::time::Duration;
use temporal_playground::{
    domain::listing::{LIST_PAGE_SIZE as PAGE_SIZE, QueueFilter},
    operations::orders::claim,
    upstream::simulator::UpstreamBehaviour,
};

fn filter(prefix: &str, provider: &str, reason: &str, claim: &str) -> QueueFilter {
    QueueFilter {
        prefix: prefix.into(),
        provider: provider.into(),
        reason: reason.into(),
        claim: claim.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_manual_queue_pages_by_token_and_counts_each_filter() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let total = PAGE_SIZE as usize + 5;
    stream::iter(0..total)
        .for_each_concurrent(16, |i| {
            let client = env.client.clone();
            async move {
                let (provider, reason) = if i % 2 == 0 {
                    ("bankA", "http_503")
                } else {
                    ("walletB", "timeout")
                };
                start_manual(&client, &format!("Q{i:03}"), provider, reason).await;
            }
        })
        .await;
    for i in 0..3 {
        // A claim goes through ManualHandle's update: the worker must be running.
        eventually("a claim", Duration::from_secs(20), || {
            let client = env.client.clone();
            async move { claim(&client, &format!("Q{i:03}"), "ana").await.ok() }
        })
        .await;
    }
    eventually(
        "every order and claim in visibility",
        Duration::from_secs(20),
        || async {
            let page = load(
                &env.client,
                &filter("", "", "", "mine"),
                None,
                Some("ana".into()),
                &Default::default(),
            )
            .await
            .ok()?;
            (page.all == total && page.mine == 3).then_some(())
        },
    )
    .await;

    let first = load(
        &env.client,
        &filter("", "", "", "all"),
        None,
        Some("ana".into()),
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(first.rows.len(), PAGE_SIZE as usize);
    assert_eq!(
        (first.matching, first.all, first.unclaimed, first.mine),
        (total, total, total - 3, 3)
    );
    let token = first.next_page.clone().expect("a second page");
    let second = load(
        &env.client,
        &filter("", "", "", "all"),
        Some(token),
        None,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(second.rows.len(), 5);
    assert!(second.next_page.is_none());
    let mut seen: Vec<String> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|r| r.order_id.clone())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "no order twice, none missing");

    let bank = load(
        &env.client,
        &filter("", "bankA", "", "all"),
        None,
        None,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(bank.matching, total.div_ceil(2));
    assert!(
        bank.rows
            .iter()
            .all(|r| r.provider == "bankA" && r.error_reason == "http_503")
    );
    let timeouts = load(
        &env.client,
        &filter("", "", "timeout", "unclaimed"),
        None,
        None,
        &Default::default(),
    )
    .await
    .unwrap();
    assert!(
        timeouts
            .rows
            .iter()
            .all(|r| r.error_reason == "timeout" && r.claimed_by.is_empty())
    );
    let prefixed = load(
        &env.client,
        &filter("Q00", "", "", "all"),
        None,
        None,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(prefixed.matching, 10);
    let mine = load(
        &env.client,
        &filter("", "", "", "mine"),
        None,
        Some("ana".into()),
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(mine.rows.len(), 3);
    assert!(mine.rows.iter().all(|r| r.claimed_by == "ana"));

    // A quote in a filter is escaped, never read as query syntax: it matches no order.
    let injected = load(
        &env.client,
        &filter("x' OR '1'='1", "", "", "all"),
        None,
        None,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!((injected.rows.len(), injected.matching), (0, 0));
    let err = load(
        &env.client,
        &filter("x\u{0}", "", "", "all"),
        None,
        None,
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("control characters"), "{err}");
    let err = load(
        &env.client,
        &filter("", "", "", "mine"),
        None,
        None,
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("enter your name"), "{err}");
}

/// The figure in a tab of the queue page (`count-{claim}`).
fn tab_count(html: &str, claim: &str) -> Option<u64> {
    let marker = format!("data-testid=\"count-{claim}\">");
    let at = html.find(&marker)? + marker.len();
    html[at..].split('<').next()?.trim().parse().ok()
}

/// A page costs one visibility list: its tab counts come from the console's one shared
/// count of what waits. A claim made through the console has that count made again at
/// once, so the person who claimed sees it in "Mine" on their next page, although the
/// console's own round is ten minutes away and a count stays fresh for 15 seconds.
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_through_the_console_shows_in_its_tab_counts_at_once() {
    use temporal_playground::web::{pages::order::ClaimOrder, state::WebConfig};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    for id in ["tabs-1", "tabs-2"] {
        start_manual(&env.client, id, "bankA", "http_503").await;
    }
    for id in ["tabs-1", "tabs-2"] {
        eventually("the order to settle", Duration::from_secs(30), || async {
            temporal_playground::operations::orders::manual_context(&env.client, id)
                .await
                .ok()
        })
        .await;
    }
    let config = WebConfig {
        policy: fast_policy(3, 60),
        watch_every: Duration::from_secs(600),
        ..WebConfig::default()
    };
    let (addr, _hub) = serve_dashboard_with(env.client.clone(), config).await;
    let http = signed_in(addr, "ana").await;
    let page = || async {
        let html = page_text(&http, &format!("http://{addr}/")).await;
        ["all", "unclaimed", "mine"].map(|claim| tab_count(&html, claim))
    };
    assert_eq!(page().await, [Some(2), Some(2), Some(0)]);

    let claimed = http
        .post(format!(
            "http://{addr}{}",
            <ClaimOrder as leptos::server_fn::ServerFn>::PATH
        ))
        .form(&[("order_id", "tabs-1")])
        .send()
        .await
        .unwrap();
    assert!(claimed.status().is_success(), "{}", claimed.status());
    let started = std::time::Instant::now();
    eventually(
        "the claim in the tab counts",
        Duration::from_secs(5),
        || async { (page().await == [Some(2), Some(1), Some(1)]).then_some(()) },
    )
    .await;
    println!("claim seen in the counts after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_temporal_outage_shows_a_banner_not_a_blank_page() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let http = signed_in(addr, "ana").await;

    let up = page_text(&http, &format!("http://{addr}/")).await;
    assert!(
        up.contains("Manual queue") && up.contains("No order is waiting here."),
        "{up}"
    );
    let missing = http
        .get(format!("http://{addr}/orders/no-such-order"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.status().as_u16(),
        404,
        "an order that does not exist"
    );

    let mut env = env;
    env.server.kill();
    for path in ["/", "/stale", "/contracts", "/live", "/orders/ORD-1"] {
        let response = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let html = response.text().await.unwrap();
        assert!(html.contains("Could not load this page:"), "{path}: {html}");
        assert_eq!(
            status, 503,
            "{path}: an outage, for monitoring as for people"
        );
        assert!(
            html.contains("<header"),
            "{path}: the page around the banner still renders"
        );
    }
}

/// Workers down (a deploy, a crash) while Temporal answers: an order's live state is a
/// query its worker answers, and Temporal held each one half a minute, so the lane answered
/// 408 "the request took too long" after 30 s, and so did a claim.
#[tokio::test(flavor = "multi_thread")]
async fn an_order_no_worker_runs_says_so_at_once_and_nothing_is_sent_to_it() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::web::pages::order::ClaimOrder;
    let mut env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let hp = env.server.hostport.clone();
    start_manual(&env.client, "noworker-1", "bankA", "http_503").await;
    let addr = serve_dashboard(env.client.clone()).await;
    let http = signed_in(addr, "ana").await;
    let lane = format!("http://{addr}/orders/noworker-1");
    let claim_path = format!("http://{addr}{}", ClaimOrder::PATH);
    let queue = format!("http://{addr}/");
    let no_workers = "No worker runs the query-order, stale-order, manual-handle, \
                      recurring-schedule, upstream queues";

    // Every page says which queues no worker runs, from the console's own watch.
    eventually("the workers banner", Duration::from_secs(20), || async {
        let html = page_text(&http, &queue).await;
        html.contains(no_workers).then_some(())
    })
    .await;

    // The lane answers with the order's path and why its state is missing; nothing to do.
    let response = http.get(&lane).send().await.unwrap();
    let status = response.status().as_u16();
    let html = response.text().await.unwrap();
    assert_eq!(status, 503, "{html}");
    assert!(
        html.contains("no worker runs the manual-handle queue (none has polled it"),
        "{html}"
    );
    assert!(html.contains("ManualHandle"), "the path is there: {html}");
    assert!(!html.contains(ClaimOrder::PATH), "no claim offered: {html}");
    // A claim through the console, and a resolution through our CLI, are refused with the
    // sentence, and nothing is sent that could land once a worker is back.
    let claimed = http
        .post(&claim_path)
        .form(&[("order_id", "noworker-1")])
        .send()
        .await
        .unwrap();
    let status = claimed.status().as_u16();
    let body = claimed.text().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("no worker runs the manual-handle queue"),
        "{body}"
    );
    let resolve = [
        "client",
        "resolve",
        "-o",
        "noworker-1",
        "--resolution",
        "failed",
        "--reason",
        "X",
        "--operator",
        "bo",
    ];
    let (ok, said) = ours(&hp, &resolve);
    assert!(
        !ok && said.contains("no worker runs the manual-handle queue"),
        "{said}"
    );
    let (ok, said) = ours(&hp, &["client", "show", "-o", "noworker-1"]);
    assert!(
        ok && said.contains("could not be read: no worker runs"),
        "{said}"
    );
    // Asking the bank about every waiting order says so once, not after each order.
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "ask-the-bank-all",
            "--prefix",
            "noworker",
            "--expect",
            "1",
            "--operator",
            "ana",
        ],
    );
    assert!(
        !ok && said.contains("no worker runs the manual-handle queue"),
        "{said}"
    );
    // A statement is not half imported: nothing starts.
    let dir = std::env::temp_dir().join(format!("tp-noworker-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("statement.csv");
    std::fs::write(
        &file,
        "booking_date,reference,amount,currency,credit_debit,entry_ref\n\
         2026-12-01,payment noworker-1,12.50,MYR,C,C1\n",
    )
    .unwrap();
    let file = file.to_string_lossy().to_string();
    let (ok, said) = import_statement(&hp, &file, "ana");
    assert!(
        !ok && said.contains("no worker runs the manual-handle queue"),
        "{said}"
    );
    assert_eq!(
        count(&env.client, "WorkflowType = 'StatementImport'").await,
        0
    );

    // A worker back: the lane reads the order, the refused acts never arrived, and a claim
    // is the only update the order ever took.
    env.add_workers(50.0).await;
    let html = eventually(
        "the lane to read the order",
        Duration::from_secs(30),
        || async {
            let response = http.get(&lane).send().await.ok()?;
            (response.status().as_u16() == 200).then_some(())?;
            response.text().await.ok()
        },
    )
    .await;
    assert!(html.contains(ClaimOrder::PATH) && !html.contains("data-testid=\"unread\""));
    eventually("the banner gone", Duration::from_secs(20), || async {
        let html = page_text(&http, &queue).await;
        (!html.contains("data-testid=\"no-workers\"")).then_some(())
    })
    .await;
    let claimed = http
        .post(&claim_path)
        .form(&[("order_id", "noworker-1")])
        .send()
        .await
        .unwrap();
    assert!(claimed.status().is_success(), "{}", claimed.status());
    let history = temporal(
        &hp,
        &["workflow", "show", "-w", "manual-noworker-1", "-o", "json"],
    );
    let history = String::from_utf8_lossy(&history.stdout).to_string();
    assert_eq!(
        history
            .matches("EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
            .count(),
        1,
        "only the claim made with a worker running: {history}"
    );

    // A worker that stopped a moment ago still counts as running: the lane waits for it
    // `QUERY_WAIT`, not half a minute, and says no worker answered.
    env.stop_workers().await;
    let response = http.get(&lane).send().await.unwrap();
    let status = response.status().as_u16();
    let html = response.text().await.unwrap();
    assert_eq!(status, 503, "{html}");
    assert!(
        html.contains("no worker answered for manual-noworker-1 within 10 s"),
        "{html}"
    );
    assert!(!html.contains(ClaimOrder::PATH), "no claim offered: {html}");
    // The readiness answer says when each queue's worker last polled.
    let ready = page_text(&http, &format!("http://{addr}/readyz")).await;
    assert!(ready.contains("\"last_seen\":\"20"), "{ready}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_live_pages_cost_temporal_what_one_does() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let (addr, hub) = serve_dashboard_with_hub(env.client.clone()).await;
    let http = signed_in(addr, "ana").await;
    let started = std::time::Instant::now();
    // Fifty browsers on the live page, each waiting for three snapshots over SSE.
    let listeners = (0..50).map(|_| {
        let http = http.clone();
        async move {
            let mut response = http
                .get(format!("http://{addr}/api/live"))
                .send()
                .await
                .expect("the live stream opens");
            let mut events = 0;
            while events < 3 {
                let chunk = response
                    .chunk()
                    .await
                    .expect("the stream reads")
                    .expect("the stream stays open");
                let text = String::from_utf8_lossy(&chunk);
                if text.contains("\"counts\"") {
                    events += text.matches("data:").count();
                }
            }
            events
        }
    });
    let received = tokio::time::timeout(
        Duration::from_secs(60),
        futures::future::join_all(listeners),
    )
    .await
    .expect("every listener gets three snapshots");
    let seconds = started.elapsed().as_secs();
    assert!(received.iter().all(|n| *n >= 3), "{received:?}");
    // One poll a second for everyone; fifty pollers would have made about 150.
    let polls = hub.polls();
    assert!(
        polls <= seconds + 2,
        "{polls} polls of Temporal in {seconds}s for 50 listeners"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_says_whether_workers_poll_every_queue() {
    let mut env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let url = format!("http://{addr}/readyz");
    let status = |url: String| async move {
        reqwest::get(&url)
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert_eq!(status(url.clone()).await, 503, "no worker polls yet");
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200, "the process itself answers");
    env.add_workers(50.0).await;
    eventually("ready once workers poll", Duration::from_secs(30), || {
        let url = url.clone();
        async move { (status(url).await == 200).then_some(()) }
    })
    .await;
    let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(body.contains("\"queue\":\"upstream\""), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_reads_as_a_sentence_with_a_reference_not_grpc_detail() {
    let mut env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let http = signed_in(addr, "ana").await;
    env.server.kill();
    for path in ["/", "/stale", "/contracts", "/orders/ORD-1"] {
        let response = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            !request_id.is_empty(),
            "{path}: every response names its request"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("try again in a moment"), "{path}: {html}");
        // The reference is the request's id: the log lines of that request carry it.
        assert!(
            html.contains(&format!("reference {request_id}")),
            "{path}: {html}"
        );
        for detail in [
            "tcp connect",
            "Connection refused",
            "transport error",
            "status:",
        ] {
            assert!(!html.contains(detail), "{path} shows {detail:?}: {html}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn page_loads_of_the_live_page_share_one_poll() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let (addr, hub) = serve_dashboard_with_hub(env.client.clone()).await;
    // Bounded, so that a stall (seen once in a full run, not reproduced) fails here and
    // says where, instead of holding the suite.
    let http = tokio::time::timeout(Duration::from_secs(60), signed_in(addr, "ana"))
        .await
        .expect("signing in answered within a minute");
    let before = hub.polls();
    // Twenty people open the live page at once: each page load reads the counts.
    let loads = (0..20).map(|_| {
        let http = http.clone();
        async move {
            http.get(format!("http://{addr}/live"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    let pages = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(loads))
        .await
        .expect("twenty page loads answered within a minute");
    assert!(pages.iter().all(|p| p.contains("live-querying")));
    let polls = hub.polls() - before;
    assert!(polls <= 2, "{polls} polls of Temporal for 20 page loads");
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_site_posts_and_foreign_hosts_are_refused_and_pages_cannot_be_framed() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::web::auth::SignIn;
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let own = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = |origin: &str, name: &str| {
        http.post(format!("{own}{}", SignIn::PATH))
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("name={name}"))
            .send()
    };
    // Another site posting the sign-in form (login CSRF): refused, and no cookie is set.
    let forged = sign_in("https://evil.example", "mallory").await.unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(forged.headers().get("set-cookie").is_none());
    let same_site = sign_in(&own, "ana").await.unwrap();
    assert!(same_site.status().as_u16() < 400, "{}", same_site.status());
    assert!(same_site.headers().get("set-cookie").is_some());
    let fetched = http
        .post(format!("{own}{}", SignIn::PATH))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=mallory")
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status().as_u16(), 403);

    // DNS rebinding: a page asked for under another name is not served.
    let rebound = http
        .get(format!("{own}/"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status().as_u16(), 421);

    let page = http.get(format!("{own}/login")).send().await.unwrap();
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(
        page.headers().get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );
    assert_eq!(
        page.headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_hold_the_sdks_worker_metrics_and_ours() {
    use temporal_playground::{operations::orders::start_order, temporal::metrics};
    // The process's registry first, so the workers below report into it.
    let exporter = metrics::init("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .address;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let addr = serve_dashboard(env.client.clone()).await;
    let http = signed_in(addr, "ana").await;
    start_order(&env.client, order("paid-metrics", fast_policy(2, 60)))
        .await
        .unwrap();
    assert!(
        start_order(&env.client, order("..", fast_policy(2, 60)))
            .await
            .is_err()
    );
    visible_once(
        &env.client,
        "the order paid",
        "OrderId = 'paid-metrics' AND OrderResolution = 'paid'",
    )
    .await;
    http.get(format!("http://{addr}/")).send().await.unwrap();
    // Metrics live on their own listener, never on the console's port.
    let on_console = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_console.status().as_u16(), 404);
    let text = eventually("the metrics", Duration::from_secs(10), || async {
        let text = http
            .get(format!("http://{exporter}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("tp_upstream_calls").then_some(text)
    })
    .await;
    let line = |name: &str, labels: &[&str]| {
        text.lines()
            .any(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
    };
    assert!(
        line("tp_actions_total", &["kind=\"start\"", "outcome=\"ok\""]),
        "{text}"
    );
    assert!(
        line(
            "tp_actions_total",
            &["kind=\"start\"", "outcome=\"refused\""]
        ),
        "{text}"
    );
    assert!(
        line(
            "tp_upstream_calls_total",
            &["call=\"query\"", "outcome=\"paid\""]
        ),
        "{text}"
    );
    assert!(line("tp_page_duration", &["section=\"queue\""]), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("temporal_")),
        "the SDK's worker metrics: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn past_its_budget_the_dashboard_answers_busy_not_an_error() {
    use temporal_playground::{web::guard::RequestBudget, web::state::WebConfig};
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let config = WebConfig {
        budget: RequestBudget::new(2),
        ..WebConfig::default()
    };
    let (addr, _) = serve_dashboard_with(env.client.clone(), config).await;
    let http = signed_in(addr, "ana").await;
    // Fifty people load the queue at once: each page asks Temporal for a list and counts.
    let loads = (0..50).map(|_| {
        let http = http.clone();
        async move {
            let response = http.get(format!("http://{addr}/")).send().await.unwrap();
            let retry_after = response.headers().get("retry-after").is_some();
            (response.status().as_u16(), retry_after)
        }
    });
    let answers = futures::future::join_all(loads).await;
    let busy = answers.iter().filter(|(s, _)| *s == 503).count();
    assert!(busy > 0, "a budget of 2 refused none of 50: {answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, retry)| *s == 200 || (*s == 503 && *retry)),
        "{answers:?}"
    );
    let health = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(
        health.status().is_success(),
        "health checks are outside the budget"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_travel_compressed_and_hashed_assets_are_kept_for_good() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    // A site as `cargo leptos build` with `hash-files` leaves it: hashed names, and one
    // file without a hash.
    let site = std::env::temp_dir().join(format!("tp-site-{}", free_port()));
    std::fs::create_dir_all(site.join("pkg")).expect("site dir");
    let wasm = vec![b'a'; 64 * 1024];
    std::fs::write(site.join("pkg/temporal-playground.Qx7_hash.wasm"), &wasm).expect("wasm");
    std::fs::write(
        site.join("pkg/temporal-playground.css"),
        "body{}".repeat(100),
    )
    .expect("css");
    let mut options = temporal_playground::web::server::leptos_options().expect("options");
    options.site_root = site.to_string_lossy().into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (addr, _hub) = serve_site_on(
        listener,
        env.client.clone(),
        temporal_playground::web::state::WebConfig::default(),
        options,
    )
    .await;
    let http = signed_in(addr, "ana").await;
    let get = |path: &str| {
        http.get(format!("http://{addr}{path}"))
            .header("accept-encoding", "br, gzip")
            .send()
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };

    let page = get("/").await.expect("queue page");
    assert!(page.status().is_success());
    assert_eq!(header(&page, "content-encoding"), "br", "the queue page");
    // A signed-in page renews the session's cookie ...
    assert!(header(&page, "set-cookie").starts_with("tp_session="));
    // ... and carries the stylesheet inside it: nothing to fetch before the first paint.
    let html = http
        .get(format!("http://{addr}/"))
        .send()
        .await
        .expect("queue page")
        .text()
        .await
        .expect("page text");
    assert!(
        html.contains(r#"<style id="leptos">body{}body{}"#),
        "{html}"
    );
    assert!(!html.contains(r#"rel="stylesheet""#));

    let hashed = get("/pkg/temporal-playground.Qx7_hash.wasm")
        .await
        .expect("wasm");
    assert_eq!(header(&hashed, "content-encoding"), "br");
    assert!(header(&hashed, "cache-control").contains("immutable"));
    // What anyone may cache never carries a session, even asked for with one.
    assert_eq!(header(&hashed, "set-cookie"), "");
    assert!(hashed.bytes().await.expect("body").len() < wasm.len() / 10);

    let plain = get("/pkg/temporal-playground.css").await.expect("css");
    assert_eq!(header(&plain, "cache-control"), "no-cache");
    let missing = get("/pkg/temporal-playground.Zz9.wasm").await.expect("404");
    assert_eq!(missing.status(), 404);
    assert!(!header(&missing, "cache-control").contains("immutable"));

    // The live stream is never held back by a compressor.
    let live = get("/api/live").await.expect("stream");
    assert_eq!(header(&live, "content-type"), "text/event-stream");
    assert_eq!(header(&live, "content-encoding"), "");
    let _ = std::fs::remove_dir_all(site);
}

/// A console with no workers of its own adds up the upstream calls of `worker` processes
/// on other hosts (here: another process) from their `/upstreams`, and names one that does
/// not answer instead of waiting for it.
#[tokio::test(flavor = "multi_thread")]
async fn the_upstream_panel_adds_up_the_calls_of_workers_in_other_processes() {
    use temporal_playground::operations::orders::start_order;
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let (tallies_port, dead_port) = (free_port(), free_port());
    let config = std::env::temp_dir().join(format!("tp-tallies-{tallies_port}.toml"));
    std::fs::write(
        &config,
        format!(
            "[upstream]\nurl = \"{url}\"\n[metrics]\nupstreams_listen = \"127.0.0.1:{tallies_port}\"\n",
            url = env.upstream_url
        ),
    )
    .expect("config");
    let _worker = Process::spawn(
        &["worker", "--hostport", env.server.hostport.as_str()],
        &config,
    );
    let theirs = format!("http://127.0.0.1:{tallies_port}/upstreams");
    let silent = format!("http://127.0.0.1:{dead_port}/upstreams");
    let (_addr, hub) = serve_dashboard_with(
        env.client.clone(),
        temporal_playground::web::state::WebConfig {
            worker_upstreams: vec![theirs, silent.clone()],
            ..Default::default()
        },
    )
    .await;

    // Orders of a bank only that worker process calls.
    let bank = format!("farbank-{tallies_port}");
    for i in 0..3 {
        let mut request = order(&format!("far-{tallies_port}-{i}"), fast_policy(3, 60));
        request.provider = bank.clone();
        start_order(&env.client, request)
            .await
            .expect("order starts");
    }
    // The worker process may still be starting: wait until it answers with the calls.
    let view = eventually(
        "the worker's calls on the panel",
        Duration::from_secs(60),
        || {
            let (hub, bank) = (hub.clone(), bank.clone());
            async move {
                let view = hub.upstreams().await;
                let counted = view
                    .rows
                    .iter()
                    .any(|h| h.provider == bank && h.answered >= 3);
                counted.then_some(view)
            }
        },
    )
    .await;
    assert_eq!(view.silent_workers, vec![silent], "the dead one is named");
    assert!(view.sees_calls);
    let row = view.rows.iter().find(|h| h.provider == bank).expect("row");
    assert_eq!((row.throttled, row.errors_5xx), (0, 0));
    let _ = std::fs::remove_file(config);
}

/// The islands console without JavaScript (or before a page is live): a button posts as a
/// plain form and the browser is sent back to the page, which shows the outcome; a refusal
/// comes back in the address as the page's sentence and changes nothing in Temporal.
#[tokio::test(flavor = "multi_thread")]
async fn plain_form_posts_come_back_to_the_page_with_their_outcome() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::web::pages::{order::ClaimOrder, stale_orders::RetryStaleSet};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let id = "plain-post-1";
    start_manual(&env.client, id, "bankA", "http_503").await;
    let claimed_by = || async {
        temporal_playground::operations::orders::manual_context(&env.client, id)
            .await
            .ok()
            .map(|c| c.claim.map(|c| c.operator))
    };
    eventually("the order to wait", Duration::from_secs(30), || {
        claimed_by()
    })
    .await;
    let addr = serve_dashboard(env.client.clone()).await;
    let lane = format!("http://{addr}/orders/{id}");
    // As a browser posts a form: it accepts HTML and names the page it is on.
    let post = |http: reqwest::Client, path: &'static str, form: Vec<(&'static str, String)>| {
        let referer = lane.clone();
        async move {
            let response = http
                .post(format!("http://{addr}{path}"))
                .header("accept", "text/html")
                .header("referer", referer)
                .form(&form)
                .send()
                .await
                .expect("the dashboard answers");
            assert!(response.status().is_redirection(), "{}", response.status());
            let to = response.headers()["location"].to_str().unwrap().to_string();
            let url = match to.starts_with("http") {
                true => to.clone(),
                false => format!("http://{addr}{to}"),
            };
            let page = page_text(&http, &url).await;
            (to, page)
        }
    };
    let ana = signed_in(addr, "ana").await;
    let (to, page) = post(ana, ClaimOrder::PATH, vec![("order_id", id.into())]).await;
    // (server_fn leaves the `?` where a refusal of an earlier post would be.)
    assert_eq!(to.trim_end_matches('?'), lane, "back to the lane");
    assert!(
        page.contains(r#"data-testid="claimed-by">ana"#),
        "the lane shows the claim: {page}"
    );
    assert_eq!(claimed_by().await, Some(Some("ana".into())));

    let bo = signed_in(addr, "bo").await;
    let (to, page) = post(bo.clone(), ClaimOrder::PATH, vec![("order_id", id.into())]).await;
    assert!(
        to.starts_with(&lane) && to.len() > lane.len(),
        "the refusal rides in the address: {to}"
    );
    assert!(
        page.contains("already claimed by ana"),
        "the lane says why: {page}"
    );
    assert_eq!(
        claimed_by().await,
        Some(Some("ana".into())),
        "nothing changed"
    );

    let form = vec![
        ("provider", "no-such-bank".to_string()),
        ("reason", String::new()),
        ("expected", "0".into()),
    ];
    let (to, page) = post(bo, RetryStaleSet::PATH, form).await;
    assert!(to.ends_with("retried=0"), "{to}");
    assert!(page.contains("Retrying 0 orders now."), "{page}");
}

/// A console starting holds back no page of one already serving, as the tests and the
/// benches run many in one process. Leptos lists a console's routes by rendering its app
/// with every resource of the process held back (one process-wide flag): a page of a
/// console already serving that began meanwhile never loaded its data and hung until the
/// request's time limit (a 408 after 30 s: once in CI, about one run in twenty of the
/// sign-in tests). Here a page's data is begun over and over, as fast as a thread can,
/// while ten more consoles start: each must be there at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_console_starting_holds_back_no_page_of_another() {
    use leptos::prelude::{ArcResource, Get, Owner};
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    };
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    // The console already serving a page.
    let addr = serve_dashboard(env.client.clone()).await;
    let login = page_text(&browser(addr, None), &format!("http://{addr}/login")).await;
    assert!(login.contains("Sign in"), "{login}");
    let done = Arc::new(AtomicBool::new(false));
    let (begun, held) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let pages = tokio::task::spawn_blocking({
        let (done, begun, held) = (done.clone(), begun.clone(), held.clone());
        move || {
            while !done.load(Ordering::Relaxed) {
                let owner = Owner::new();
                let data = owner.with(|| ArcResource::new(|| (), |_| async { 1 }));
                if owner.with(|| data.get()) != Some(1) {
                    held.fetch_add(1, Ordering::Relaxed);
                }
                begun.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    for _ in 0..10 {
        serve_dashboard(env.client.clone()).await;
    }
    done.store(true, Ordering::Relaxed);
    pages.await.expect("the page loop ends");
    let (begun, held) = (begun.load(Ordering::Relaxed), held.load(Ordering::Relaxed));
    assert!(begun > 0);
    assert_eq!(held, 0, "{held} of {begun} page loads were held back");
}

#[tokio::test(flavor = "multi_thread")]
async fn finding_an_order_by_how_its_id_starts_shows_every_stage_and_its_whole_id_opens_its_lane() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let (c, hp) = (&env.client, env.server.hostport.clone());
    let mut paid = order("find-1", fast_policy(3, 60));
    paid.reference = Some("GW-FIND-9".into());
    temporal_playground::operations::orders::start_order(c, paid)
        .await
        .unwrap();
    start_manual(c, "find-2", "bank-a", "http_503").await;
    start_manual(c, "find-3", "bank-a", "http_503").await;
    start_manual(c, "other-1", "bank-a", "http_503").await;
    assert_resolved(
        c,
        "find-1",
        temporal_playground::domain::order::Resolution::Paid,
    )
    .await;
    // One of them ends from outside, unresolved.
    let out = temporal(
        &hp,
        &[
            "workflow",
            "terminate",
            "--workflow-id",
            "manual-find-3",
            "--reason",
            "by hand",
        ],
    );
    assert!(out.status.success(), "{out:?}");

    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let find = |text: &str| format!("http://{addr}/find?q={text}");
    let listed = eventually(
        "the three orders found as they stand",
        Duration::from_secs(20),
        || async {
            let page = shown_text(&page_text(&support, &find("find-")).await);
            (page.contains("3 found")
                && page.contains("find-1 resolved (paid)")
                && page.contains("find-2 manual")
                && page.contains("find-3 dropped (terminated)"))
            .then_some(page.clone())
            .or_else(|| {
                eprintln!("{page}");
                None
            })
        },
    )
    .await;
    assert!(!listed.contains("other-1"), "{listed}");
    // The header carries the search box on every page.
    let queue = page_text(&support, &format!("http://{addr}/")).await;
    assert!(queue.contains(r#"action="/find""#), "{queue}");

    // An order's whole id opens its lane at once (a browser asks for a page).
    let open = |url: String| {
        let sent = support.get(url).header("accept", "text/html").send();
        async move { sent.await.unwrap() }
    };
    let opened = open(find("find-2")).await;
    assert!(opened.status().is_redirection(), "{}", opened.status());
    assert_eq!(location(&opened), "/orders/find-2");
    // So does the gateway's reference for it, which a merchant quotes.
    let opened = open(find("GW-FIND-9")).await;
    assert_eq!(location(&opened), "/orders/find-1");
    // Finance types a recurring contract's id into the same box: its page.
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "create-recurring-payment",
            "-o",
            "C-find",
            "-r",
            "2",
            "--every",
            "1d",
            "--operator",
            "fin",
        ],
    );
    assert!(ok, "{said}");
    let opened = open(find("C-find")).await;
    assert_eq!(location(&opened), "/contracts/C-find");
    let (ok, said) = ours(&hp, &["client", "find", "C-find"]);
    assert!(ok && said.contains("it is a recurring contract"), "{said}");
    let none = shown_text(&page_text(&support, &find("nobody-")).await);
    assert!(
        none.contains("No order's id starts with \"nobody-\""),
        "{none}"
    );
    // What no order id can hold is refused with a sentence, and nothing is asked.
    let bad = support
        .get(find("find%27%20OR%201%3D1"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    // Signed out: to the sign-in page.
    let anonymous = browser(addr, None).get(find("find-")).send().await.unwrap();
    assert!(
        anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );

    // The same from our CLI.
    let (ok, said) = ours(&hp, &["client", "find", "find-"]);
    assert!(
        ok && said.contains("find-1  resolved (paid)")
            && said.contains("find-2  manual")
            && said.contains("find-3  dropped (terminated)")
            && !said.contains("other-1"),
        "{said}"
    );
}
