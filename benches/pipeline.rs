//! `make bench`: throughput of the happy path against the engine's ceiling (a bare
//! workflow with one no-op activity), each shape's worker in a process of its own so that
//! its CPU per workflow is its own: the bare shape in Rust and in the Python SDK (the
//! peer, `benches/peer_worker.py`, at its default gzip and uncompressed as ours runs), three variants of our pipeline that show where its gap
//! to the ceiling goes, and our `worker` itself; three rounds, alternating. Then, with
//! 2,000 and with 10,000 orders in the manual queue, the queue's server-side latency, the
//! queue page's time to first byte, the contracts page at a full page of contracts (at
//! 2,000 only), what pages cost a browser, the live page's cost to
//! Temporal, the queue page beside Temporal UI's list of the same workflows in Chromium
//! (`benches/side_by_side.mjs`), and the release assets' size. Prints figures; asserts
//! nothing. `BENCH_PART=pipeline` (`make bench-pipeline`) stops after the workers'
//! figures, `BENCH_PART=pages` (`make bench-pages`) runs only the console's, and
//! `BENCH_SHAPES` picks some of the shapes.

#[path = "../tests/integration/support.rs"]
#[allow(dead_code)]
mod support;

use futures::{StreamExt, stream};
use std::time::{Duration, Instant};
use support::{
    DevServer, Process, TestEnv, count, fast_policy, order, percentile, settle, start_manual,
};
use temporal_playground::{
    domain::order::{OrderRequest, Stage},
    operations::orders::start_order,
    temporal::connection::{ConnectArgs, connect},
    temporal::search_attributes as sa,
    upstream::activities::{StatusQuery, UpstreamActivities},
    upstream::simulator::UpstreamBehaviour,
    workflows::{mark_resolved, now, order_attributes, system_resolution},
};
use temporalio_client::{Client, WorkflowStartOptions};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
    runtime::RuntimeOptions,
};

/// Workflows per shape and round, after a warm-up of `WARM_UP`.
const ORDERS: usize = 400;
const WARM_UP: usize = 30;
const ROUNDS: usize = 3;
const CONCURRENT_STARTS: usize = 32;
/// Upstream calls a second every worker may make together: far above what the bench
/// reaches, so the limit is in place but never the bottleneck.
const DISPATCH_RPS: f64 = 50_000.0;

const BARE_QUEUE: &str = "bench-bare";
const PEER_QUEUE: &str = "bench-python";
const PEER_PLAIN_QUEUE: &str = "bench-python-plain";
const VARIANT_QUEUE: &str = "bench-variants";
const VARIANT_UPSTREAM_QUEUE: &str = "bench-variants-upstream";

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

/// Asks the upstream once, its activity on `queue`: the workflow's own queue lets Temporal
/// hand the activity straight back to the worker that asked (eager dispatch); another,
/// rate-limited queue, as ours, does not.
async fn ask<W>(
    ctx: &WorkflowContext<W>,
    order: &OrderRequest,
    queue: &str,
) -> WorkflowResult<temporal_playground::upstream::activities::UpstreamVerdict> {
    let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10))
        .task_queue(queue.to_string())
        .activity_id(format!("{}-query", order.order_id))
        .build();
    let query = StatusQuery {
        order_id: order.order_id.clone(),
        provider: order.provider.clone(),
        timeout_ms: order.policy.call_timeout_ms,
        expected: order.amount.clone(),
    };
    Ok(ctx
        .execute_activity(UpstreamActivities::query_status, query, options)
        .await?)
}

/// Variant 1: the upstream asked on the workflow's own queue, nothing written back.
#[workflow]
#[derive(Default)]
struct AskSameQueue;

#[workflow_methods]
impl AskSameQueue {
    #[run(name = "BenchAskSameQueue")]
    async fn run(ctx: &mut WorkflowContext<Self>, order: OrderRequest) -> WorkflowResult<()> {
        ask(ctx, &order, VARIANT_QUEUE).await?;
        Ok(())
    }
}

/// Variant 2: as 1, then the outcome written to visibility before close, as ours does.
#[workflow]
#[derive(Default)]
struct AskSameQueueUpsert;

#[workflow_methods]
impl AskSameQueueUpsert {
    #[run(name = "BenchAskSameQueueUpsert")]
    async fn run(ctx: &mut WorkflowContext<Self>, order: OrderRequest) -> WorkflowResult<()> {
        let verdict = ask(ctx, &order, VARIANT_QUEUE).await?;
        mark_resolved(ctx, &system_resolution(&verdict, now(ctx)));
        Ok(())
    }
}

/// Variant 3: as 1, the upstream asked on its own rate-limited queue, as ours does.
#[workflow]
#[derive(Default)]
struct AskOwnQueue;

#[workflow_methods]
impl AskOwnQueue {
    #[run(name = "BenchAskOwnQueue")]
    async fn run(ctx: &mut WorkflowContext<Self>, order: OrderRequest) -> WorkflowResult<()> {
        ask(ctx, &order, VARIANT_UPSTREAM_QUEUE).await?;
        Ok(())
    }
}

/// What the bench measures, each run by its own worker process.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Bare,
    BareAttributes,
    Peer,
    PeerPlain,
    AskSameQueue,
    AskSameQueueUpsert,
    AskOwnQueue,
    Ours,
}

impl Shape {
    const ALL: [Shape; 8] = [
        Shape::Bare,
        Shape::BareAttributes,
        Shape::Peer,
        Shape::PeerPlain,
        Shape::AskSameQueue,
        Shape::AskSameQueueUpsert,
        Shape::AskOwnQueue,
        Shape::Ours,
    ];

    fn words(self) -> &'static str {
        match self {
            Shape::Bare => "bare + no-op activity, Rust (ceiling)",
            Shape::BareAttributes => "  started with the order's search attributes",
            Shape::Peer => "bare + no-op activity, Python SDK",
            Shape::PeerPlain => "  the same, gRPC uncompressed (as ours)",
            Shape::AskSameQueue => "asks upstream, workflow's own queue",
            Shape::AskSameQueueUpsert => "  + outcome upserted before close",
            Shape::AskOwnQueue => "asks upstream on its rate-limited queue",
            Shape::Ours => "QueryOrder, our worker (happy path)",
        }
    }

    /// The completed workflows of this shape, all rounds together.
    fn completed(self) -> String {
        let stage = sa::ORDER_STAGE.name();
        let (workflow_type, queue) = match self {
            Shape::Bare => {
                return format!(
                    "WorkflowType = 'BenchBare' AND TaskQueue = '{BARE_QUEUE}' AND {stage} IS NULL AND ExecutionStatus = 'Completed'"
                );
            }
            Shape::BareAttributes => {
                return format!(
                    "WorkflowType = 'BenchBare' AND TaskQueue = '{BARE_QUEUE}' AND {stage} IS NOT NULL AND ExecutionStatus = 'Completed'"
                );
            }
            Shape::Peer => ("BenchBare", PEER_QUEUE),
            Shape::PeerPlain => ("BenchBare", PEER_PLAIN_QUEUE),
            Shape::AskSameQueue => ("BenchAskSameQueue", VARIANT_QUEUE),
            Shape::AskSameQueueUpsert => ("BenchAskSameQueueUpsert", VARIANT_QUEUE),
            Shape::AskOwnQueue => ("BenchAskOwnQueue", VARIANT_QUEUE),
            Shape::Ours => (
                temporal_playground::temporal::names::workflow_types::QUERY_ORDER,
                temporal_playground::temporal::names::task_queues::QUERY_ORDER,
            ),
        };
        format!(
            "WorkflowType = '{workflow_type}' AND TaskQueue = '{queue}' AND ExecutionStatus = 'Completed'"
        )
    }

    async fn start(self, client: &Client, id: String) {
        let bare = |queue: &str| WorkflowStartOptions::new(queue, id.clone()).build();
        let paid = order(&id, fast_policy(3, 60));
        // Started as ours is: with the order's search attributes.
        let attributed = |queue: &str| {
            WorkflowStartOptions::new(queue, id.clone())
                .search_attributes(SearchAttributes::new(order_attributes(
                    &paid,
                    Stage::Querying,
                )))
                .build()
        };
        macro_rules! start {
            ($run:expr, $input:expr, $options:expr) => {
                client
                    .start_workflow($run, $input, $options)
                    .await
                    .map(drop)
            };
        }
        let started = match self {
            Shape::Bare => start!(BareWorkflow::run, id.clone(), bare(BARE_QUEUE)),
            Shape::BareAttributes => {
                start!(BareWorkflow::run, id.clone(), attributed(BARE_QUEUE))
            }
            Shape::Peer => start!(BareWorkflow::run, id.clone(), bare(PEER_QUEUE)),
            Shape::PeerPlain => start!(BareWorkflow::run, id.clone(), bare(PEER_PLAIN_QUEUE)),
            Shape::AskSameQueue => {
                start!(AskSameQueue::run, paid.clone(), attributed(VARIANT_QUEUE))
            }
            Shape::AskSameQueueUpsert => start!(
                AskSameQueueUpsert::run,
                paid.clone(),
                attributed(VARIANT_QUEUE)
            ),
            Shape::AskOwnQueue => {
                start!(AskOwnQueue::run, paid.clone(), attributed(VARIANT_QUEUE))
            }
            Shape::Ours => {
                start_order(client, paid.clone()).await.expect("start");
                Ok(())
            }
        };
        started.expect("start");
    }
}

/// User + system CPU of process `pid` (every thread), in milliseconds.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|t| t.parse::<f64>().ok()))
        .sum();
    ticks * 1000.0 / 100.0
}

async fn wait_for(env: &TestEnv, query: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while count(&env.client, query).await < n {
        assert!(Instant::now() < deadline, "timed out waiting for {query}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The bench started as a worker process (`--bench-worker ROLE HOSTPORT UPSTREAM_URL`):
/// polls until killed.
async fn bench_worker(role: &str, hostport: &str, upstream_url: &str) {
    let client = connect(&ConnectArgs::local(hostport.to_string(), "default"))
        .await
        .expect("the bench's dev server answers");
    let runtime = Runtime::from_current_tokio(RuntimeOptions::default()).expect("runtime");
    let options = match role {
        "bare" => vec![
            WorkerOptions::new(BARE_QUEUE)
                .register_workflow::<BareWorkflow>()
                .expect("register")
                .register_activities(Noop)
                .build(),
        ],
        _ => vec![
            WorkerOptions::new(VARIANT_QUEUE)
                .register_workflow::<AskSameQueue>()
                .and_then(|o| o.register_workflow::<AskSameQueueUpsert>())
                .and_then(|o| o.register_workflow::<AskOwnQueue>())
                .expect("register")
                .register_activities(UpstreamActivities::new(upstream_url))
                .build(),
            WorkerOptions::new(VARIANT_UPSTREAM_QUEUE)
                .register_activities(UpstreamActivities::new(upstream_url))
                .max_task_queue_activities_per_second(DISPATCH_RPS)
                .build(),
        ],
    };
    let mut workers: Vec<Worker> = options
        .into_iter()
        .map(|o| Worker::new(&runtime, client.clone(), o).expect("worker"))
        .collect();
    futures::future::join_all(workers.iter_mut().map(|w| w.run())).await;
}

/// The Python SDK worker of the bare shape on `queue`, if `temporalio` is installed;
/// `compression` is its gRPC compression (`gzip`, the SDK's default, or `none`).
fn python_peer(hostport: &str, queue: &str, compression: &str) -> Option<Process> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let installed = std::process::Command::new(&python)
        .args(["-c", "import temporalio"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!("(no Python peer: `pip install temporalio`, as `make bench` does)");
        return None;
    }
    Some(Process::other(
        &python,
        &[
            "benches/peer_worker.py".into(),
            hostport.to_string(),
            queue.into(),
            compression.into(),
        ],
    ))
}

/// The shapes to run: all, or those `BENCH_SHAPES` names (comma-separated, as the enum
/// spells them: `BENCH_SHAPES=Ours,AskOwnQueue,Peer`), for a focused run or a profile of
/// one worker.
fn chosen_shapes() -> Vec<Shape> {
    let Ok(names) = std::env::var("BENCH_SHAPES") else {
        return Shape::ALL.to_vec();
    };
    let chosen: Vec<Shape> = Shape::ALL
        .into_iter()
        .filter(|s| names.split(',').any(|n| n.trim() == format!("{s:?}")))
        .collect();
    assert!(
        !chosen.is_empty(),
        "BENCH_SHAPES={names:?} names no shape; choose from {:?}",
        Shape::ALL
    );
    chosen
}

/// `lo-hi` of some figures.
fn range(figures: &[f64], decimals: usize) -> String {
    let lo = figures.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = figures.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.decimals$}-{hi:.decimals$}")
}

/// Runs `n` workflows of `shape` (ids `{prefix}{i}`) and waits for the `total`th of its
/// shape to complete; seconds taken and the worker's CPU in that time.
async fn run_shape(
    env: &TestEnv,
    shape: Shape,
    pid: u32,
    prefix: &str,
    n: usize,
    total: usize,
) -> (f64, f64) {
    let cpu_before = cpu_ms(pid);
    let started = Instant::now();
    stream::iter(0..n)
        .for_each_concurrent(CONCURRENT_STARTS, |i| {
            let client = env.client.clone();
            async move { shape.start(&client, format!("{prefix}{i}")).await }
        })
        .await;
    wait_for(env, &shape.completed(), total).await;
    (started.elapsed().as_secs_f64(), cpu_ms(pid) - cpu_before)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--bench-worker") {
        let arg = |k: usize| args.get(i + k).map(String::as_str).unwrap_or_default();
        bench_worker(arg(1), arg(2), arg(3)).await;
        return;
    }

    let env = TestEnv::on_server(
        DevServer::start_with_ui(),
        UpstreamBehaviour::always_paid(100_000),
    )
    .await;
    let hostport = env.server.hostport.clone();
    let me = std::env::current_exe()
        .expect("the bench's own path")
        .to_string_lossy()
        .to_string();
    let role = |r: &str| {
        Process::other(
            &me,
            &[
                "--bench-worker".into(),
                r.into(),
                hostport.clone(),
                env.upstream_url.clone(),
            ],
        )
    };
    let bare = role("bare");
    let variants = role("variants");
    let config = std::env::temp_dir().join(format!("tp-bench-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        format!(
            "[upstream]\nurl = \"{}\"\ndispatch_rps = {DISPATCH_RPS:.1}\n",
            env.upstream_url
        ),
    )
    .expect("worker config");
    let ours = Process::spawn(&["worker", "--hostport", &hostport], &config);
    // `BENCH_PART=pages` (`make bench-pages`): only the console's figures at the first
    // queue size (our worker serves the queue), side by side with Temporal UI included.
    if std::env::var("BENCH_PART").is_ok_and(|p| p == "pages") {
        drop((bare, variants));
        dashboard(&env, &WAITING[..1]).await;
        drop(ours);
        let _ = std::fs::remove_file(&config);
        assets();
        return;
    }
    let peer = python_peer(&hostport, PEER_QUEUE, "gzip");
    let peer_plain = python_peer(&hostport, PEER_PLAIN_QUEUE, "none");
    let pid_of = |shape: Shape| match shape {
        Shape::Bare | Shape::BareAttributes => Some(bare.pid()),
        Shape::Peer => peer.as_ref().map(Process::pid),
        Shape::PeerPlain => peer_plain.as_ref().map(Process::pid),
        Shape::AskSameQueue | Shape::AskSameQueueUpsert | Shape::AskOwnQueue => {
            Some(variants.pid())
        }
        Shape::Ours => Some(ours.pid()),
    };
    let chosen = chosen_shapes();
    let shapes: Vec<Shape> = Shape::ALL
        .into_iter()
        .filter(|s| pid_of(*s).is_some() && chosen.contains(s))
        .collect();

    for shape in &shapes {
        let pid = pid_of(*shape).unwrap_or_default();
        run_shape(
            &env,
            *shape,
            pid,
            &format!("warm-{shape:?}-"),
            WARM_UP,
            WARM_UP,
        )
        .await;
    }
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
    for round in 1..=ROUNDS {
        for (k, shape) in shapes.iter().enumerate() {
            let pid = pid_of(*shape).unwrap_or_default();
            let total = WARM_UP + round * ORDERS;
            let prefix = format!("r{round}-{shape:?}-");
            let (secs, cpu_ms) = run_shape(&env, *shape, pid, &prefix, ORDERS, total).await;
            rates[k].push(ORDERS as f64 / secs);
            cpu[k].push(cpu_ms / ORDERS as f64);
        }
    }
    println!(
        "throughput: {ORDERS} workflows a shape and round, {ROUNDS} rounds alternating, starts {CONCURRENT_STARTS} at a time, in-memory dev server; each shape's worker its own process"
    );
    // All rounds together: the orders over the time they took (the harmonic mean).
    let together = |k: usize| rates[k].len() as f64 / rates[k].iter().map(|r| 1.0 / r).sum::<f64>();
    println!(
        "  {:<42} {:>12} {:>9} {:>18}",
        "shape", "workflows/s", "together", "worker CPU/workflow"
    );
    for (k, shape) in shapes.iter().enumerate() {
        println!(
            "  {:<42} {:>12} {:>9.1} {:>15} ms",
            shape.words(),
            range(&rates[k], 1),
            together(k),
            range(&cpu[k], 2)
        );
    }
    let of = |s: Shape| shapes.iter().position(|x| *x == s);
    let ratio = |a: Shape, b: Shape, what: &[Vec<f64>]| -> Option<String> {
        let (a, b) = (of(a)?, of(b)?);
        let per_round: Vec<f64> = what[a].iter().zip(&what[b]).map(|(x, y)| x / y).collect();
        Some(range(&per_round, 2))
    };
    let show = |label: &str, r: Option<String>| {
        if let Some(r) = r {
            println!("  {label:<58} {r}");
        }
    };
    show(
        "ours / ceiling, per round (target >= 0.90):",
        ratio(Shape::Ours, Shape::Bare, &rates),
    );
    if let (Some(o), Some(b)) = (of(Shape::Ours), of(Shape::Bare)) {
        println!(
            "  {:<58} {:.2}",
            "ours / ceiling, all rounds together:",
            together(o) / together(b)
        );
    }
    let (rate, per_workflow) = (&rates[..], &cpu[..]);
    for (label, a, b, what) in [
        (
            "own queue / same queue (the cost of the separate queue):",
            Shape::AskOwnQueue,
            Shape::AskSameQueue,
            rate,
        ),
        (
            "upsert / without (the cost of the visibility write):",
            Shape::AskSameQueueUpsert,
            Shape::AskSameQueue,
            rate,
        ),
        (
            "search attributes at start / ceiling:",
            Shape::BareAttributes,
            Shape::Bare,
            rate,
        ),
        (
            "asking the upstream (same queue) / bare with attributes:",
            Shape::AskSameQueue,
            Shape::BareAttributes,
            rate,
        ),
        (
            "worker CPU: Rust bare / Python bare (target <= 0.33):",
            Shape::Bare,
            Shape::Peer,
            per_workflow,
        ),
        (
            "worker CPU: our pipeline / Python bare (target <= 0.33):",
            Shape::Ours,
            Shape::Peer,
            per_workflow,
        ),
        (
            "worker CPU: our pipeline / Python bare, uncompressed:",
            Shape::Ours,
            Shape::PeerPlain,
            per_workflow,
        ),
        (
            "worker CPU: Python uncompressed / Python (its default gzip):",
            Shape::PeerPlain,
            Shape::Peer,
            per_workflow,
        ),
    ] {
        show(label, ratio(a, b, what));
    }
    println!("upstream:                      {:?}", env.upstream.stats());
    drop((bare, variants, peer, peer_plain));
    let _ = std::fs::remove_file(&config);
    // `BENCH_PART=pipeline`: the throughput and CPU figures only.
    if std::env::var("BENCH_PART").is_ok_and(|p| p == "pipeline") {
        return;
    }

    dashboard(&env, &WAITING).await;
    drop(ours);
    assets();
}

/// The manual queue's sizes measured: the first is the one the other figures are taken at.
const WAITING: [usize; 2] = [2_000, 10_000];

/// Refused samples `timed` waits out before it gives up (each already spent the client's
/// own retries, about 10 s).
const MAX_REFUSED_SAMPLES: usize = 12;

/// Times `runs` answers of `f`. The dev server (SQLite) can refuse calls for a while after a
/// burst of starts ("System Persistence Max QPS Reached", past the client's own retries):
/// such a sample is waited out and taken again, not counted, and the refusals are printed.
async fn timed<F, Fut, E>(runs: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut ms = Vec::with_capacity(runs);
    let mut refused: Vec<String> = Vec::new();
    while ms.len() < runs {
        let t = Instant::now();
        match f().await {
            Ok(()) => ms.push(t.elapsed().as_secs_f64() * 1000.0),
            Err(e) => {
                refused.push(e.to_string());
                assert!(
                    refused.len() <= MAX_REFUSED_SAMPLES,
                    "Temporal kept refusing: {refused:?}"
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    if let Some(first) = refused.first() {
        println!(
            "  ({} samples refused, waited out and taken again; the first: {first})",
            refused.len()
        );
    }
    (percentile(&mut ms, 0.5), percentile(&mut ms, 0.95))
}

/// Starts ManualHandle for orders `from..to` and waits for the workers to take them.
async fn fill_queue(env: &TestEnv, from: usize, to: usize) {
    let started = Instant::now();
    stream::iter(from..to)
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
        to,
    )
    .await;
    println!(
        "manual queue:                  {to} waiting orders ({} made in {:.0}s)",
        to - from,
        started.elapsed().as_secs_f64()
    );
    settle(
        env,
        temporal_playground::temporal::names::task_queues::MANUAL_HANDLE,
    )
    .await;
}

async fn dashboard(env: &TestEnv, sizes: &[usize]) {
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
    let cookie = support::session_cookie(addr, &[("name", "ana")])
        .await
        .expect("signed in");
    let http = support::browser(addr, Some(&cookie));
    let mut made = 0;
    for &waiting in sizes {
        fill_queue(env, made, waiting).await;
        made = waiting;
        queue_figures(env, &http, addr, waiting).await;
        if waiting == WAITING[0] {
            contracts_figures(env, &http, addr).await;
            transferred(&http, addr).await;
            live_cost(&http, addr, &hub).await;
            side_by_side(env, addr, &cookie).await;
            hold(env, addr, &cookie).await;
        }
    }
}

/// The queue at `waiting` orders: the shared count every page's tabs and board read (the
/// watch makes it every few seconds), a page's own queries, and the whole page signed in.
async fn queue_figures(
    env: &TestEnv,
    http: &reqwest::Client,
    addr: std::net::SocketAddr,
    waiting: usize,
) {
    use temporal_playground::{
        domain::listing::QueueFilter,
        operations::queues::{manual_queue as load, queue_tally, waiting_board},
    };
    let sla = Default::default();
    // The last tally taken is the one the page figures below use.
    let last_tally = std::cell::RefCell::new(None);
    let (p50, p95) = timed(20, || async {
        let tally = queue_tally(&env.client, &sla).await?;
        *last_tally.borrow_mut() = Some(tally);
        Ok::<_, temporal_playground::operations::OpError>(())
    })
    .await;
    println!(
        "  [{waiting}] the queue's tally (5 counts + claimed orders; the watch, every 5 s for all pages): p50 {p50:.0} ms, p95 {p95:.0} ms"
    );
    let (p50, p95) = timed(5, || async {
        waiting_board(&env.client, &sla).await.map(drop)
    })
    .await;
    println!(
        "  [{waiting}] the ageing board (every order read; the watch, at most a tenth of its time): p50 {p50:.0} ms, p95 {p95:.0} ms"
    );
    let tally = last_tally
        .into_inner()
        .expect("timed returns after 20 tallies taken");
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
    for (what, filter) in [
        ("first page (1 list)", &all),
        ("filtered (1 list + 1 count)", &filtered),
    ] {
        let (p50, p95) = timed(50, || async {
            load(&env.client, filter, None, Some("ana".into()), &sla, &tally)
                .await
                .map(drop)
        })
        .await;
        println!(
            "  [{waiting}] queue {what:<28} server: p50 {p50:.1} ms, p95 {p95:.1} ms (target p95 < 50 ms)"
        );
    }
    let (p50, p95) = whole_page(http, &format!("http://{addr}/"), 30).await;
    println!(
        "  [{waiting}] queue page, signed in, whole answer: p50 {p50:.1} ms, p95 {p95:.1} ms (target < 200 ms)"
    );
}

/// The contracts page finance opens: a full page of running contracts
/// ([`CONTRACTS_PAGE_SIZE`](temporal_playground::operations::contracts::CONTRACTS_PAGE_SIZE)),
/// each described for its next charges and read for its latest recorded change.
async fn contracts_figures(env: &TestEnv, http: &reqwest::Client, addr: std::net::SocketAddr) {
    use temporal_playground::{
        domain::contract::{Cadence, ContractLimits, ContractTerms, NewContract},
        operations::contracts::{CONTRACTS_PAGE_SIZE, create, page_with_details},
    };
    let n = CONTRACTS_PAGE_SIZE as usize;
    let started = Instant::now();
    stream::iter(0..n)
        .for_each_concurrent(8, |i| async move {
            let contract = NewContract {
                terms: ContractTerms {
                    contract_id: format!("C-bench-{i:03}"),
                    customer: format!("customer-{i:03}"),
                    plan: "membership".into(),
                    amount_cents: 999,
                    currency: "USD".into(),
                    until_cancelled: None,
                },
                cadence: Cadence::Every { seconds: 86_400 },
                time_zone: "Europe/Berlin".into(),
                total_terms: 0,
            };
            create(&env.client, contract, &ContractLimits::default(), "fin")
                .await
                .expect("a contract is made");
        })
        .await;
    // The schedule list lags the schedules made.
    let deadline = Instant::now() + Duration::from_secs(60);
    while page_with_details(&env.client, None)
        .await
        .map_or(0, |p| p.rows.len())
        < n
    {
        assert!(
            Instant::now() < deadline,
            "the {n} contracts were not listed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "contracts:                     {n} running ({:.0}s to make)",
        started.elapsed().as_secs_f64()
    );
    let (p50, p95) = timed(20, || async {
        page_with_details(&env.client, None).await.map(drop)
    })
    .await;
    println!(
        "  contracts page server ({n} rows: 2 lists, then a describe per row, 8 at once): p50 {p50:.0} ms, p95 {p95:.0} ms"
    );
    let (p50, p95) = whole_page(http, &format!("http://{addr}/contracts"), 20).await;
    println!("  contracts page, signed in, whole answer: p50 {p50:.0} ms, p95 {p95:.0} ms");
}

/// Times `runs` whole answers of the page at `url` (p50, p95 in ms); a refusal is waited
/// out and taken again ([`timed`]).
async fn whole_page(http: &reqwest::Client, url: &str, runs: usize) -> (f64, f64) {
    timed(runs, || {
        let (http, url) = (http.clone(), url.to_string());
        async move {
            let response = http.get(&url).send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let _ = response.bytes().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("{url} answered {status}"))
            }
        }
    })
    .await
}

/// `BENCH_HOLD_SECS=N`: keeps the console and the dev server up N seconds after the side by
/// side, printing where they are, for a trace or a probe by hand.
async fn hold(env: &TestEnv, addr: std::net::SocketAddr, cookie: &str) {
    let Some(secs) = std::env::var("BENCH_HOLD_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    println!(
        "holding {secs} s: console http://{addr}/ (cookie {cookie}), Temporal UI {}",
        env.server.ui.clone().unwrap_or_default()
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

/// `benches/side_by_side.mjs`: our queue page and Temporal UI's list of the same waiting
/// workflows in Chromium, when Node, Playwright (`npm ci`) and Chromium are there.
async fn side_by_side(env: &TestEnv, addr: std::net::SocketAddr, cookie: &str) {
    let Some(ui) = env.server.ui.clone() else {
        return;
    };
    let query = "WorkflowType=\"ManualHandle\" AND ExecutionStatus=\"Running\"";
    let theirs = format!(
        "{ui}/namespaces/default/workflows?query={}",
        temporal_playground::domain::format::url_component(query)
    );
    let ran = tokio::process::Command::new("node")
        .arg("benches/side_by_side.mjs")
        .env("OURS_URL", format!("http://{addr}/"))
        .env("OURS_COOKIE", cookie)
        .env("THEIRS_URL", theirs)
        .env("RUNS", "7")
        .status()
        .await;
    match ran {
        Ok(status) if status.success() => {}
        Ok(status) => println!("(side by side failed: {status}; its error is above)"),
        Err(e) => println!(
            "(side by side did not run ({e}): it needs node, `npm ci` and /usr/bin/chromium)"
        ),
    }
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
    // (raw, brotli as sent) for what every page loads, and for the lazy islands' files,
    // which only the pages showing those islands fetch.
    let (mut every_page, mut lazy) = ((0u64, 0u64), (0u64, 0u64));
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "js" | "css")
        ) {
            continue;
        }
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let raw = size(&path);
        let br = size(&path.with_extension(format!(
            "{}.br",
            path.extension().and_then(|e| e.to_str()).unwrap_or_default()
        )));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let sum = match name.starts_with("temporal-playground.") {
            true => &mut every_page,
            false => &mut lazy,
        };
        sum.0 += raw;
        sum.1 += br;
        println!("  {name:<72} {raw:>8} B raw {br:>7} B brotli");
    }
    println!(
        "assets every page loads (wasm + js, and the css each page carries inline): {} KB raw, {} KB brotli",
        every_page.0 / 1024,
        every_page.1 / 1024
    );
    println!(
        "lazy islands' files (fetched by the pages that show them): {} KB raw, {} KB brotli",
        lazy.0 / 1024,
        lazy.1 / 1024
    );
}
