//! `make bench` (second part): a bank statement of 10,000 entries against 10,000 orders
//! waiting in the manual queue, on one in-memory dev server with real workers. Prints the
//! parse time, the match time and throughput, the whole import (parse, match, the
//! StatementImport workflow and its chunks), how fast an approval settles the orders
//! through their own workflows, and the manual queue's first page while that runs.
//! `STATEMENT_ORDERS=N` sets the size. Prints figures; asserts only that every order was
//! settled.

#[path = "../tests/integration/support.rs"]
#[allow(dead_code)]
mod support;

use futures::{StreamExt, stream};
use std::time::{Duration, Instant};
use support::{TestEnv, count, fast_policy, order, percentile, settle, start_manual_order};
use temporal_playground::{
    domain::{listing::QueueFilter, money::Money, statement::CsvLayout},
    operations::{queues::manual_queue, statements},
    upstream::{simulator::UpstreamBehaviour, statement::fixtures},
};

const CONCURRENT_STARTS: usize = 32;

fn waiting_query() -> &'static str {
    "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running'"
}

/// Times one run of the queue's first page (its one visibility list: the tab counts come
/// from the console's shared count, made every few seconds for every page), in
/// milliseconds; `None` if it failed.
async fn first_page(env: &TestEnv) -> Option<f64> {
    let all = QueueFilter {
        claim: "all".into(),
        ..Default::default()
    };
    let t = Instant::now();
    let page = manual_queue(
        &env.client,
        &all,
        None,
        Some("ana".into()),
        &Default::default(),
        &Default::default(),
    )
    .await;
    match page {
        Ok(_) => Some(t.elapsed().as_secs_f64() * 1000.0),
        Err(e) => {
            println!("  queue first page failed: {e}");
            None
        }
    }
}

/// Loads the queue's first page every 250 ms until `done` resolves; its p50 and p95
/// (failed loads are printed and left out).
async fn pages_while<F: std::future::Future>(env: &TestEnv, done: F) -> (F::Output, f64, f64) {
    let mut samples: Vec<f64> = Vec::new();
    tokio::pin!(done);
    let output = loop {
        tokio::select! {
            output = &mut done => break output,
            ms = first_page(env) => {
                samples.extend(ms);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    (
        output,
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.95),
    )
}

#[tokio::main]
async fn main() {
    let orders: usize = std::env::var("STATEMENT_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100_000), 50_000.0).await;
    let id = |i: usize| format!("ST{i:05}");
    let minor = |i: usize| 1_000 + (i as i64 % 5_000);

    let started = Instant::now();
    stream::iter(0..orders)
        .for_each_concurrent(CONCURRENT_STARTS, |i| {
            let client = env.client.clone();
            async move {
                let mut o = order(&id(i), fast_policy(1, 1));
                o.amount = Some(Money {
                    minor: minor(i),
                    currency: "MYR".into(),
                    exponent: 2,
                });
                start_manual_order(&client, o, "http_503").await;
            }
        })
        .await;
    loop {
        let n = count(
            &env.client,
            &format!("{} AND OrderCurrency = 'MYR'", waiting_query()),
        )
        .await;
        if n >= orders {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "statement bench:               {orders} waiting orders (made in {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    settle(
        &env,
        temporal_playground::temporal::names::task_queues::MANUAL_HANDLE,
    )
    .await;

    // One entry an order, its reference the order id, its amount the order's.
    let rows: Vec<(String, String, String)> = (0..orders)
        .map(|i| {
            let m = minor(i);
            (
                format!("E{i}"),
                id(i),
                format!("{}.{:02}", m / 100, m % 100),
            )
        })
        .collect();
    let entries: Vec<(&str, &str, &str, &str, bool)> = rows
        .iter()
        .map(|(r, o, a)| (r.as_str(), o.as_str(), a.as_str(), "MYR", true))
        .collect();
    let file = fixtures::camt053(&entries, false);
    println!(
        "statement:                     camt.053, {} entries, {:.1} MB",
        entries.len(),
        file.len() as f64 / 1e6
    );
    let layout = CsvLayout::default();
    let rules = statements::MatchRules { tolerance_minor: 0 };

    let t = Instant::now();
    let statement = temporal_playground::upstream::statement::parse(file.as_bytes(), None, &layout)
        .expect("the statement parses");
    let parse_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (reviewed, _) = statements::review(&env.client, &statement, &rules)
        .await
        .expect("the statement matches");
    let match_secs = t.elapsed().as_secs_f64();
    let matched = reviewed
        .iter()
        .filter(|e| e.outcome.word() == "matched")
        .count();
    println!(
        "parse:                         {:.2} s ({:.0} entries/s)",
        parse_secs,
        orders as f64 / parse_secs
    );
    println!(
        "match (reads {orders} waiting):   {:.2} s ({:.0} entries/s), {matched} matched (target: parse + match < 10 s)",
        match_secs,
        orders as f64 / match_secs
    );

    // The whole import as a person's upload does it, with the queue read meanwhile.
    let t = Instant::now();
    let (view, p50, p95) = pages_while(
        &env,
        statements::import(
            &env.client,
            file.as_bytes(),
            "bench.xml",
            None,
            &layout,
            &rules,
            "ana",
        ),
    )
    .await;
    let view = view.expect("the import");
    println!(
        "import (parse, match, workflow and {} chunks): {:.2} s; queue first page meanwhile p50 {p50:.0} ms, p95 {p95:.0} ms",
        view.chunks,
        t.elapsed().as_secs_f64()
    );

    // The approval settles each order through its own workflow.
    let t = Instant::now();
    statements::approve(&env.client, &view.import_id, "bo")
        .await
        .expect("the approval");
    let settled = async {
        loop {
            if count(&env.client, waiting_query()).await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    let ((), p50, p95) = pages_while(&env, settled).await;
    let apply_secs = t.elapsed().as_secs_f64();
    println!(
        "apply (approval to every order concluded): {:.1} s, {:.0} entries/s; queue first page meanwhile p50 {p50:.0} ms, p95 {p95:.0} ms",
        apply_secs,
        orders as f64 / apply_secs
    );
    let stats = env.upstream.stats();
    println!("upstream:                      {stats:?}");
}
