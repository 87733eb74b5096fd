//! `make bench`: orders reconciled per second on the happy path against the engine's
//! ceiling (a bare workflow with one no-op activity), on one in-memory dev server, the CPU
//! the process spends per order; then, with 2,000 orders in the manual queue, the queue's
//! server-side latency, the queue page's time to first byte, and the release assets' size.
//! Prints figures; asserts nothing.

#[path = "../tests/integration/support.rs"]
#[allow(dead_code)]
mod support;

use futures::{StreamExt, stream};
use std::time::{Duration, Instant};
use support::{TestEnv, count, fast_policy, order, percentile, settle, start_manual};
use temporal_playground::{
    operations::orders::start_order, upstream::simulator::UpstreamBehaviour,
};
use temporalio_client::WorkflowStartOptions;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
    runtime::RuntimeOptions,
};

const ORDERS: usize = 300;
const CONCURRENT_STARTS: usize = 32;

struct Noop;

#[activities]
impl Noop {
    #[activity(name = "BenchNoop")]
    async fn noop(_ctx: ActivityContext, _input: String) -> Result<(), ActivityError> {
        Ok(())
    }
}

#[workflow]
#[derive(Default)]
struct BareWorkflow;

#[workflow_methods]
impl BareWorkflow {
    #[run(name = "BenchBare")]
    async fn run(ctx: &mut WorkflowContext<Self>, input: String) -> WorkflowResult<()> {
        ctx.execute_activity(
            Noop::noop,
            input,
            ActivityOptions::start_to_close_timeout(Duration::from_secs(10)),
        )
        .await?;
        Ok(())
    }
}

/// User + system CPU of this process, in milliseconds.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks * 1000.0 / 100.0
}

async fn wait_for(env: &TestEnv, query: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while count(&env.client, query).await < n {
        assert!(Instant::now() < deadline, "timed out waiting for {query}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100_000), 50_000.0).await;

    // The ceiling: one no-op activity per workflow, its own worker.
    let runtime = Runtime::from_current_tokio(RuntimeOptions::default()).expect("runtime");
    let mut bare = Worker::new(
        &runtime,
        env.server.client().await,
        WorkerOptions::new("bench-bare")
            .register_workflow::<BareWorkflow>()
            .expect("register")
            .register_activities(Noop)
            .build(),
    )
    .expect("worker");
    let stop_bare = bare.shutdown_handle();
    let handle = tokio::runtime::Handle::current();
    let bare_thread = std::thread::spawn(move || handle.block_on(async move { bare.run().await }));

    let started = Instant::now();
    stream::iter(0..ORDERS)
        .for_each_concurrent(CONCURRENT_STARTS, |i| {
            let client = env.client.clone();
            async move {
                client
                    .start_workflow(
                        BareWorkflow::run,
                        format!("{i}"),
                        WorkflowStartOptions::new("bench-bare", format!("bare-{i}")).build(),
                    )
                    .await
                    .expect("start");
            }
        })
        .await;
    wait_for(
        &env,
        "WorkflowType = 'BenchBare' AND ExecutionStatus = 'Completed'",
        ORDERS,
    )
    .await;
    let bare_secs = started.elapsed().as_secs_f64();
    stop_bare();
    let _ = tokio::task::spawn_blocking(move || bare_thread.join()).await;

    // Our pipeline on the happy path: QueryOrder asks the (simulated) upstream once.
    let cpu_before = cpu_ms();
    let started = Instant::now();
    stream::iter(0..ORDERS)
        .for_each_concurrent(CONCURRENT_STARTS, |i| {
            let client = env.client.clone();
            async move {
                start_order(
                    &client,
                    order(&format!("paid-bench{i}"), fast_policy(3, 60)),
                )
                .await
                .expect("start");
            }
        })
        .await;
    wait_for(
        &env,
        "WorkflowType = 'QueryOrder' AND ExecutionStatus = 'Completed' AND OrderResolution = 'paid'",
        ORDERS,
    )
    .await;
    let ours_secs = started.elapsed().as_secs_f64();
    let cpu_per_order = (cpu_ms() - cpu_before) / ORDERS as f64;

    let ceiling = ORDERS as f64 / bare_secs;
    let ours = ORDERS as f64 / ours_secs;
    println!(
        "orders:                        {ORDERS} (starts {CONCURRENT_STARTS} at a time, in-memory dev server)"
    );
    println!("ceiling (bare + no-op act.):   {ceiling:.1} workflows/s");
    println!("happy path (QueryOrder):       {ours:.1} orders/s");
    println!(
        "ratio:                         {:.2} (target >= 0.90)",
        ours / ceiling
    );
    println!(
        "process CPU per order:         {cpu_per_order:.2} ms (worker + starter + simulated upstream; an upper bound for the worker)"
    );
    println!("upstream:                      {:?}", env.upstream.stats());

    dashboard(&env).await;
    assets();
}

const WAITING: usize = 2_000;

async fn timed<F, Fut>(runs: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (percentile(&mut ms, 0.5), percentile(&mut ms, 0.95))
}

async fn dashboard(env: &TestEnv) {
    use temporal_playground::{
        domain::listing::QueueFilter, operations::queues::manual_queue as load,
    };
    let started = Instant::now();
    stream::iter(0..WAITING)
        .for_each_concurrent(CONCURRENT_STARTS, |i| {
            let client = env.client.clone();
            async move {
                let (provider, reason) = if i % 4 == 0 {
                    ("bankA", "http_503")
                } else {
                    ("walletB", "timeout")
                };
                start_manual(&client, &format!("M{i:05}"), provider, reason).await;
            }
        })
        .await;
    wait_for(
        env,
        "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running'",
        WAITING,
    )
    .await;
    println!(
        "manual queue:                  {WAITING} waiting orders (made in {:.0}s)",
        started.elapsed().as_secs_f64()
    );
    settle(
        env,
        temporal_playground::temporal::names::task_queues::MANUAL_HANDLE,
    )
    .await;

    let all = QueueFilter {
        claim: "all".into(),
        ..Default::default()
    };
    let filtered = QueueFilter {
        provider: "bankA".into(),
        reason: "http_503".into(),
        claim: "unclaimed".into(),
        ..Default::default()
    };
    let (p50, p95) = timed(50, || async {
        load(
            &env.client,
            &all,
            None,
            Some("ana".into()),
            &Default::default(),
        )
        .await
        .expect("first page");
    })
    .await;
    println!(
        "queue first page (server):     p50 {p50:.1} ms, p95 {p95:.1} ms (target p95 < 100 ms; 1 list + 6 counts)"
    );
    let (p50, p95) = timed(50, || async {
        load(
            &env.client,
            &filtered,
            None,
            Some("ana".into()),
            &Default::default(),
        )
        .await
        .expect("filtered page");
    })
    .await;
    println!("queue filtered page (server):  p50 {p50:.1} ms, p95 {p95:.1} ms");

    // The whole page through the real router, signed in: SSR waits for the data.
    let (addr, hub) = support::serve_site_on(
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind"),
        env.client.clone(),
        temporal_playground::web::state::WebConfig {
            policy: fast_policy(3, 60),
            ..Default::default()
        },
        release_site(),
    )
    .await;
    let http = support::signed_in(addr, "ana").await;
    let url = format!("http://{addr}/");
    let (p50, p95) = timed(30, || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http.get(&url).send().await.expect("page");
            assert!(response.status().is_success());
        }
    })
    .await;
    println!("queue page time to first byte: p50 {p50:.1} ms, p95 {p95:.1} ms (target < 200 ms)");
    transferred(&http, addr).await;
    live_cost(&http, addr, &hub).await;
}

/// The site `cargo leptos build --release` made: its hashed names are in
/// `target/release/hash.txt` (beside the release binary, not this bench's).
fn release_site() -> leptos::prelude::LeptosOptions {
    let mut options = temporal_playground::web::server::leptos_options().expect("leptos options");
    let hashes = std::path::Path::new("target/release/hash.txt");
    if let Ok(absolute) = hashes.canonicalize() {
        options.hash_file = absolute.to_string_lossy().into();
        options.hash_files = true;
    }
    options
}

/// Bytes each page costs a browser that accepts brotli, as sent: cold (the page and every
/// `/pkg` asset it names) and warm (the page again; an asset with a hashed name is not
/// asked for at all, any other is revalidated, a 304).
async fn transferred(http: &reqwest::Client, addr: std::net::SocketAddr) {
    for path in ["/", "/stale", "/contracts", "/live", "/audit"] {
        let page = http
            .get(format!("http://{addr}{path}"))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .expect("page");
        let encoding = page
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_string();
        // reqwest is built without decompression: these are the bytes on the wire. The
        // names of the assets are read from the same page asked for uncompressed.
        let body = page.bytes().await.unwrap_or_default();
        let html = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .unwrap_or_default();
        let mut assets: Vec<String> = html
            .split(['"', '\''])
            .filter(|s| s.starts_with("/pkg/"))
            .map(str::to_string)
            .collect();
        assets.sort();
        assets.dedup();
        let (mut cold, mut warm) = (body.len(), body.len());
        let mut missing = Vec::new();
        for asset in &assets {
            let url = format!("http://{addr}{asset}");
            let first = http
                .get(&url)
                .header("accept-encoding", "br, gzip")
                .send()
                .await
                .expect("asset");
            if !first.status().is_success() {
                missing.push(format!("{asset} ({})", first.status()));
                continue;
            }
            let headers = first.headers().clone();
            cold += first.bytes().await.map(|b| b.len()).unwrap_or(0);
            let immutable = headers
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("immutable"));
            if immutable {
                continue;
            }
            let mut again = http.get(&url).header("accept-encoding", "br, gzip");
            if let Some(m) = headers.get("last-modified") {
                again = again.header("if-modified-since", m);
            }
            let again = again.send().await.expect("asset again");
            warm += again.bytes().await.map(|b| b.len()).unwrap_or(0);
        }
        println!(
            "page {path:<12} transferred:   cold {:>4} KiB, warm {:>3} KiB ({} assets, page {encoding}){}",
            cold / 1024,
            warm / 1024,
            assets.len(),
            match missing.is_empty() {
                true => String::new(),
                false => format!(" MISSING {}", missing.join(", ")),
            }
        );
    }
}

/// Temporal calls a second behind the live page with 1 and with 50 pages open: the hub
/// polls once a second for everyone, each poll 6 visibility counts.
async fn live_cost(
    http: &reqwest::Client,
    addr: std::net::SocketAddr,
    hub: &temporal_playground::web::live::hub::LiveHub,
) {
    const COUNTS_PER_POLL: f64 = 6.0;
    for pages in [1usize, 50] {
        let mut streams = Vec::new();
        for _ in 0..pages {
            streams.push(
                http.get(format!("http://{addr}/api/live"))
                    .send()
                    .await
                    .expect("stream"),
            );
        }
        let before = hub.polls();
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let polls = (hub.polls() - before) as f64 / started.elapsed().as_secs_f64();
        println!(
            "live page, {pages:>2} open:            {polls:.2} polls/s = {:.1} Temporal calls/s",
            polls * COUNTS_PER_POLL
        );
        drop(streams);
    }
}

/// Raw and gzip sizes of the release WASM, JS and CSS (`cargo leptos build --release`).
fn assets() {
    let dir = std::path::Path::new("target/site/pkg");
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!(
            "assets:                        target/site/pkg missing: run `cargo leptos build --release` first"
        );
        return;
    };
    let (mut raw, mut gz) = (0u64, 0u64);
    for entry in entries.flatten() {
        let path = entry.path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "js" | "css")
        ) {
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let zipped = std::process::Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&path)
            .output()
            .map(|o| o.stdout.len() as u64)
            .unwrap_or(0);
        println!(
            "  {:<40} {:>8} B raw {:>8} B gzip",
            path.display(),
            size,
            zipped
        );
        raw += size;
        gz += zipped;
    }
    println!(
        "assets (wasm + js + css):      {} KB raw, {} KB gzip (target < 400 KB gzip)",
        raw / 1024,
        gz / 1024
    );
}
