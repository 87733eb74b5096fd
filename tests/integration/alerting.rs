//! People are told: the queue's gauges and the shipped alert rules, end to end with the
//! real parts. A console (`serve --no-worker`) and a worker run as processes of our
//! binary on a real dev server; Debian's Prometheus scrapes both and evaluates
//! `deploy/prometheus/tp-alerts.yml`; Debian's Alertmanager routes what fires to a
//! webhook receiver this test runs. Orders pass a short service level (6 seconds), the
//! alert reaches the receiver; a person settles them, and the resolved notice follows.
//!
//! The only change to the shipped rules: each `for:` is 2 s instead of minutes, so the test
//! takes seconds; the expressions, labels and texts are the shipped ones (and
//! `promtool test rules` checks the shipped durations in `make test`).

use crate::support::*;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use temporal_playground::{
    domain::resolution::ResolveRequest,
    operations::orders::{approve, claim, resolve_manual, resolve_or_propose},
};

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");

/// A notification as Alertmanager's webhook sends it: its status, and each alert's.
#[derive(Debug, Clone, serde::Deserialize)]
struct Notification {
    status: String,
    alerts: Vec<NotifiedAlert>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct NotifiedAlert {
    status: String,
    labels: std::collections::HashMap<String, String>,
    annotations: std::collections::HashMap<String, String>,
}

/// The webhook receiver: every notification it was sent, in order.
async fn receiver() -> (u16, Arc<Mutex<Vec<Notification>>>) {
    let got: Arc<Mutex<Vec<Notification>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/alerts/{kind}",
        axum::routing::post(move |axum::Json(n): axum::Json<Notification>| {
            let store = store.clone();
            async move {
                store.lock().expect("lock").push(n);
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

/// The alert `name` as the receiver last heard of it, with `status` (`firing`, `resolved`).
fn heard(got: &Arc<Mutex<Vec<Notification>>>, name: &str, status: &str) -> Option<NotifiedAlert> {
    got.lock()
        .expect("lock")
        .iter()
        .flat_map(|n| n.alerts.iter())
        .rfind(|a| a.labels.get("alertname").map(String::as_str) == Some(name))
        .filter(|a| a.status == status)
        .cloned()
}

/// The value of a metric line `name{labels…} value` in a scrape, where every label is there.
fn gauge(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            let metric = l.split([' ', '{']).next().unwrap_or_default();
            metric == name && labels.iter().all(|label| l.contains(label))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(port: u16) -> Option<String> {
    reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

fn person(resolution: &str, operator: &str) -> ResolveRequest {
    ResolveRequest {
        resolution: resolution.into(),
        reason_code: "BANK_CONFIRMED".into(),
        operator: operator.into(),
        note: String::new(),
        operator_id: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_past_the_service_level_page_someone_and_settling_them_resolves_the_page() {
    let server = DevServer::start();
    let client = server.client().await;
    let [
        bank,
        console,
        console_metrics,
        worker_metrics,
        prometheus,
        alertmanager,
    ] = [(); 6].map(|_| free_port());
    let (webhook, got) = receiver().await;
    let dir = std::env::temp_dir().join(format!("tp-alerting-{console}"));
    std::fs::create_dir_all(&dir).unwrap();

    // Our two processes: a console whose service level is 3 s at risk, 6 s past, that
    // reads what waits every second; a worker for every queue; the simulated bank.
    let ours = |metrics: u16| {
        format!(
            "[upstream]\nurl = \"http://127.0.0.1:{bank}\"\nsimulator_listen = \"127.0.0.1:{bank}\"\n\
             [upstream.simulator]\npaid_pct = 100\nfailed_pct = 0\npending_pct = 0\n\
             error_5xx_pct = 0\nthrottle_pct = 0\ntimeout_pct = 0\nlatency_ms = 0\n\
             [dashboard]\nlisten = \"127.0.0.1:{console}\"\n\
             sla_at_risk_minutes = 0.05\nsla_breach_minutes = 0.1\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics}\"\nwatch_secs = 1\n\
             [auth]\nmode = \"none\"\nsession_key_file = \"{key}\"\n",
            key = dir.join("session.key").display()
        )
    };
    let (console_toml, worker_toml) = (dir.join("console.toml"), dir.join("worker.toml"));
    std::fs::write(&console_toml, ours(console_metrics)).unwrap();
    std::fs::write(&worker_toml, ours(worker_metrics)).unwrap();
    let hostport = server.hostport.as_str();
    let _bank = Process::spawn(
        &["upstream", "--listen", &format!("127.0.0.1:{bank}")],
        &console_toml,
    );
    let _console = Process::spawn(
        &["serve", "--no-worker", "--hostport", hostport],
        &console_toml,
    );
    let _worker = Process::spawn(&["worker", "--hostport", hostport], &worker_toml);

    // Prometheus with the shipped rules (their `for:` shortened), scraping both each second.
    let rules = std::fs::read_to_string(format!("{DEPLOY}/prometheus/tp-alerts.yml")).unwrap();
    let rules = shortened_for(&rules);
    std::fs::write(dir.join("tp-alerts.yml"), rules).unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [tp-alerts.yml]\n\
             alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{alertmanager}']\n\
             scrape_configs:\n\
             \x20 - job_name: tp-console\n    static_configs:\n      - targets: ['127.0.0.1:{console_metrics}']\n\
             \x20 - job_name: tp-worker\n    static_configs:\n      - targets: ['127.0.0.1:{worker_metrics}']\n"
        ),
    )
    .unwrap();
    // Alertmanager as deploy/alertmanager/alertmanager.yml routes, to this test's receiver,
    // without waiting to group.
    let routes = std::fs::read_to_string(format!("{DEPLOY}/alertmanager/alertmanager.yml"))
        .unwrap()
        .replace(
            "http://127.0.0.1:5001",
            &format!("http://127.0.0.1:{webhook}"),
        )
        .replace("group_wait: 30s", "group_wait: 1s")
        .replace("group_interval: 5m", "group_interval: 1s");
    std::fs::write(dir.join("alertmanager.yml"), routes).unwrap();
    let path = |f: &str| dir.join(f).display().to_string();
    let _alertmanager = Process::other(
        "prometheus-alertmanager",
        &[
            format!("--config.file={}", path("alertmanager.yml")),
            format!("--storage.path={}", path("am-data")),
            format!("--web.listen-address=127.0.0.1:{alertmanager}"),
            "--cluster.listen-address=".into(),
        ],
    );
    let _prometheus = Process::other(
        "prometheus",
        &[
            format!("--config.file={}", path("prometheus.yml")),
            format!("--storage.tsdb.path={}", path("prom-data")),
            format!("--web.listen-address=127.0.0.1:{prometheus}"),
        ],
    );

    // Prometheus sees both processes up, and the console ready (a worker polls every queue).
    let query = |q: &'static str| async move {
        let body: serde_json::Value = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{prometheus}/api/v1/query"))
            .query(&[("query", q)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let results = body["data"]["result"].as_array()?.clone();
        (!results.is_empty()).then_some(results)
    };
    for q in [
        "up{job=\"tp-console\"} == 1",
        "up{job=\"tp-worker\"} == 1",
        "tp_ready == 1",
    ] {
        eventually(q, Duration::from_secs(90), || query(q)).await;
    }

    // Three orders wait in the manual queue, one of them with a proposal awaiting approval.
    for id in ["alert-1", "alert-2", "alert-3"] {
        start_manual(&client, id, "maybank", "http_503").await;
    }
    eventually("the orders visible", Duration::from_secs(20), || async {
        (count(
            &client,
            "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running'",
        )
        .await
            == 3)
            .then_some(())
    })
    .await;
    claim(&client, "alert-3", "ana").await.unwrap();
    resolve_or_propose(&client, "alert-3", person("paid", "ana"))
        .await
        .unwrap();

    // The console's gauges say so, without a Temporal call per scrape.
    let text = eventually(
        "the gauges past the service level",
        Duration::from_secs(30),
        || async {
            let text = scrape(console_metrics).await?;
            (gauge(&text, "tp_manual_orders_past_service_level", &[]) == Some(3.0)).then_some(text)
        },
    )
    .await;
    assert!(
        text.contains("# HELP tp_manual_orders_past_service_level orders in the manual queue past the service level"),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "tp_orders_waiting", &["stage=\"manual\""]),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "tp_manual_orders", &["claim=\"claimed\""]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "tp_manual_orders", &["claim=\"unclaimed\""]),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "tp_manual_orders_awaiting_approval", &[]),
        Some(1.0),
        "{text}"
    );
    assert!(
        gauge(&text, "tp_manual_oldest_waiting_seconds", &[]).is_some_and(|s| s >= 6.0),
        "{text}"
    );
    assert!(
        gauge(&text, "tp_manual_oldest_approval_waiting_seconds", &[]).is_some(),
        "the proposal's time is recorded (ProposedAt): {text}"
    );
    assert_eq!(
        gauge(&text, "tp_task_queue_pollers", &["task_queue=\"upstream\""]).map(|n| n >= 1.0),
        Some(true),
        "{text}"
    );
    // No order dropped out of the queues here either.
    assert_eq!(gauge(&text, "tp_orders_dropped", &[]), Some(0.0), "{text}");
    // No recurring charge is in doubt here: the gauge is there, and says none.
    assert_eq!(
        gauge(&text, "tp_charges_unconfirmed", &[]),
        Some(0.0),
        "{text}"
    );
    let worker_text = scrape(worker_metrics).await.unwrap_or_default();
    assert!(
        worker_text.lines().any(|l| l.starts_with("temporal_")),
        "the worker's own metrics are scraped too: {worker_text}"
    );

    // The page reaches the on-call receiver, saying how many.
    let firing = eventually(
        "TpQueuePastServiceLevel firing at the receiver",
        Duration::from_secs(90),
        || async { heard(&got, "TpQueuePastServiceLevel", "firing") },
    )
    .await;
    assert_eq!(
        firing.labels.get("severity").map(String::as_str),
        Some("page")
    );
    assert_eq!(
        firing.annotations.get("summary").map(String::as_str),
        Some("3 orders in the manual queue are past the service level"),
        "{firing:?}"
    );
    assert!(
        heard(&got, "TpNoWorkerPolling", "firing").is_none(),
        "every queue has a worker: {:?}",
        got.lock().unwrap()
    );

    // Support settles them: two by a person, the proposal by an approver.
    for id in ["alert-1", "alert-2"] {
        resolve_manual(&client, id, person("failed", "ana"))
            .await
            .unwrap();
    }
    approve(&client, "alert-3", "bo").await.unwrap();
    eventually("the orders settled", Duration::from_secs(30), || async {
        (count(
            &client,
            "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running'",
        )
        .await
            == 0)
            .then_some(())
    })
    .await;
    eventually(
        "TpQueuePastServiceLevel resolved at the receiver",
        Duration::from_secs(90),
        || async { heard(&got, "TpQueuePastServiceLevel", "resolved") },
    )
    .await;
    let notices = got.lock().unwrap().clone();
    assert!(
        notices.iter().any(|n| n.status == "resolved"),
        "{notices:?}"
    );
    let text = scrape(console_metrics).await.unwrap_or_default();
    assert_eq!(
        gauge(&text, "tp_manual_orders_past_service_level", &[]),
        Some(0.0),
        "{text}"
    );
}

/// The shipped rules with every `for:` of minutes made 2 seconds.
fn shortened_for(rules: &str) -> String {
    rules
        .lines()
        .map(|line| match line.trim_start().strip_prefix("for: ") {
            Some(_) => format!("{}for: 2s", &line[..line.len() - line.trim_start().len()]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
