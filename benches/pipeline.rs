//! `make bench`: orders reconciled per second on the happy path against the engine's
//! ceiling (a bare workflow with one no-op activity), on one in-memory dev server, and the
//! CPU the process spends per order. Prints figures; asserts nothing.

#[path = "../tests/support/mod.rs"]
mod support;

use futures::{StreamExt, stream};
use std::time::{Duration, Instant};
use support::{TestEnv, count, fast_policy, order};
use temporal_playground::{simulated_upstream::UpstreamBehaviour, temporal::orders::start_order};
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
}
