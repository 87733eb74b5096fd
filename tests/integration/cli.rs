//! The binary as people run it: clear errors and exit codes, against a real dev server.

use crate::support::DevServer;
use std::process::{Command, Output};

/// The binary with the shipped configuration and no Temporal settings from the
/// environment.
fn binary(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_temporal-playground"));
    command
        .args(args)
        .env_remove("TEMPORAL_ADDRESS")
        .env_remove("TEMPORAL_NAMESPACE")
        .env(
            "TEMPORAL_PLAYGROUND_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        );
    command
}

fn run(args: &[&str]) -> Output {
    binary(args).output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn without_a_server_every_command_names_the_address_and_how_to_start_one() {
    for args in [
        vec!["client", "start", "-o", "A1", "--hostport", "127.0.0.1:9"],
        vec!["namespace", "list", "--hostport", "127.0.0.1:9"],
        vec!["worker", "--hostport", "127.0.0.1:9"],
    ] {
        let out = run(&args);
        let said = text(&out);
        assert!(!out.status.success(), "{args:?}: {said}");
        assert!(said.contains("127.0.0.1:9"), "{args:?}: {said}");
        assert!(
            said.contains("temporal server start-dev"),
            "{args:?}: {said}"
        );
        assert!(!said.contains("panicked"), "{args:?}: {said}");
    }
}

#[test]
fn bad_flags_are_refused_before_anything_runs() {
    let out = run(&[
        "client",
        "create-recurring-payment",
        "--every",
        "5 weeks",
        "--hostport",
        "127.0.0.1:9",
    ]);
    assert!(!out.status.success());
    let out = run(&["worker", "--queues", "nope", "--hostport", "127.0.0.1:9"]);
    assert!(!out.status.success());
    let out = run(&["namespace", "register", "--name", "x", "-r", "0"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("0"), "{}", text(&out));

    // With no server at all, bad input is what gets reported: the connection is never tried.
    for (args, expected) in [
        (
            vec!["client", "start", "-o", "bad id!"],
            "characters other than",
        ),
        (vec!["client", "start", "-o", "A1", "-p", "9"], "priority"),
        (
            vec!["client", "signal-manual", "-w", "manual-A1", "maybe"],
            "not a resolution",
        ),
        (
            vec![
                "client",
                "resolve",
                "-o",
                "A1",
                "--resolution",
                "paid",
                "--reason",
                "not a code!",
                "--operator",
                "ana",
            ],
            "reason",
        ),
        (
            vec!["client", "create-recurring-payment", "--tz", "Mars/Base"],
            "IANA time zone",
        ),
        (
            vec!["client", "cancel-recurring-payment", "-o", "x y"],
            "characters other than",
        ),
        (vec!["client", "simulate-payment", "--rate", "0"], "--rate"),
        (
            vec![
                "client",
                "ask-the-bank",
                "-o",
                "C-1",
                "--term",
                "recurring-C-2-2026-12-07T14:00:00Z",
                "--operator",
                "fin",
            ],
            "is not a term of the contract",
        ),
        (
            vec!["client", "ask-the-bank", "-o", "x y", "--operator", "fin"],
            "characters other than",
        ),
        (
            vec![
                "client",
                "note",
                "-o",
                "ORD-1",
                "--operator",
                "ana",
                "--note",
                " ",
            ],
            "empty",
        ),
        (
            vec![
                "client",
                "put-back",
                "-o",
                "ORD-1",
                "--reason",
                " ",
                "--operator",
                "ana",
            ],
            "reason is empty",
        ),
    ] {
        let out = run(&[args.as_slice(), &["--hostport", "127.0.0.1:9"]].concat());
        let said = text(&out);
        assert!(!out.status.success(), "{args:?}: {said}");
        assert!(
            said.contains(expected),
            "{args:?} did not say {expected:?}: {said}"
        );
        assert!(
            !said.contains("127.0.0.1:9"),
            "{args:?} tried to connect: {said}"
        );
    }
}

/// Runs the binary against `hostport`; it must succeed and say `expected`.
fn succeeds(hostport: &str, args: &[&str], expected: &str) {
    let out = run(&[args, &["--hostport", hostport]].concat());
    let said = text(&out);
    assert!(out.status.success(), "{args:?} failed: {said}");
    assert!(
        said.contains(expected),
        "{args:?} did not say {expected:?}: {said}"
    );
}

/// Runs the binary against `hostport`; it must fail and say `expected`.
fn fails(hostport: &str, args: &[&str], expected: &str) {
    let out = run(&[args, &["--hostport", hostport]].concat());
    let said = text(&out);
    assert!(!out.status.success(), "{args:?} succeeded: {said}");
    assert!(
        said.contains(expected),
        "{args:?} did not say {expected:?}: {said}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_verbs_work_against_a_dev_server() {
    let server = DevServer::start();
    let _client = server.client().await;
    let hp = server.hostport.as_str();

    fails(
        hp,
        &["client", "start", "-o", "two words"],
        "characters other than",
    );
    succeeds(
        hp,
        &["client", "start", "-o", "cli-1", "-p", "1"],
        "started order cli-1",
    );
    // A duplicate exits 0.
    succeeds(
        hp,
        &["client", "start", "-o", "cli-1"],
        "already being processed",
    );
    fails(
        hp,
        &["client", "signal-manual", "-w", "manual-cli-1", "maybe"],
        "is not a resolution",
    );
    fails(
        hp,
        &["client", "cancel-recurring-payment", "-o", "nope"],
        "no recurring contract",
    );
    succeeds(
        hp,
        &[
            "client",
            "create-recurring-payment",
            "-o",
            "CLI-C1",
            "-r",
            "3",
            "--every",
            "30d",
        ],
        "next charge:",
    );
    // Asking the bank about a term the contract never ran: a sentence, nothing started.
    fails(
        hp,
        &[
            "client",
            "ask-the-bank",
            "-o",
            "CLI-C1",
            "--term",
            "recurring-CLI-C1-2026-12-07T14:00:00Z",
            "--operator",
            "fin",
        ],
        "has no term",
    );
    // Putting back an order that never dropped: a sentence, nothing started.
    fails(
        hp,
        &[
            "client",
            "put-back",
            "-o",
            "CLI-1",
            "--reason",
            "why not",
            "--operator",
            "ana",
        ],
        "nothing to put back",
    );
    succeeds(
        hp,
        &["client", "dropped"],
        "no order has dropped out of the queues",
    );
    succeeds(
        hp,
        &["client", "cancel-recurring-payment", "-o", "CLI-C1"],
        "cancelled recurring contract CLI-C1",
    );
    succeeds(
        hp,
        &[
            "namespace",
            "register",
            "--name",
            "payments",
            "-d",
            "orders",
        ],
        "payments",
    );
    succeeds(
        hp,
        &["namespace", "register", "--name", "payments"],
        "already exists",
    );
    let out = run(&["namespace", "list", "--hostport", hp]);
    assert!(
        text(&out).lines().any(|l| l.starts_with("payments\t")),
        "{}",
        text(&out)
    );
    // The search attributes exist in the new namespace.
    succeeds(
        hp,
        &["client", "start", "-o", "cli-ns", "-n", "payments"],
        "started order cli-ns",
    );
}

/// Starts the binary, lets it run for `secs`, then presses Ctrl-C (SIGINT) as a person would.
fn run_then_interrupt(args: &[&str], secs: u64) -> Output {
    let child = binary(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    std::thread::sleep(std::time::Duration::from_secs(secs));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    child.wait_with_output().expect("the binary ends")
}

/// Every command line of the Go original's README and flag table, unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn the_go_originals_command_lines_work_unchanged() {
    let server = DevServer::start();
    let client = server.client().await;
    let hp = server.hostport.as_str();

    succeeds(
        hp,
        &["namespace", "register", "--name=local-rex"],
        "local-rex",
    );
    succeeds(
        hp,
        &[
            "namespace",
            "register",
            "--name",
            "go-ns",
            "-d",
            "orders",
            "--retention",
            "7",
        ],
        "retention 7 days",
    );
    // Temporal itself holds what was asked for: the description, the retention, and our
    // search attributes in the new namespace.
    {
        use temporalio_client::tonic::IntoRequest;
        use temporalio_common::protos::temporal::api::{
            operatorservice::v1::ListSearchAttributesRequest,
            workflowservice::v1::DescribeNamespaceRequest,
        };
        let described = client
            .connection()
            .workflow_service()
            .describe_namespace(
                DescribeNamespaceRequest {
                    namespace: "go-ns".into(),
                    ..Default::default()
                }
                .into_request(),
            )
            .await
            .expect("go-ns exists")
            .into_inner();
        let info = described.namespace_info.expect("namespace info");
        assert_eq!(info.description, "orders");
        let retention = described
            .config
            .and_then(|c| c.workflow_execution_retention_ttl)
            .expect("a retention");
        assert_eq!(retention.seconds, 7 * 86_400);
        let attributes = client
            .connection()
            .operator_service()
            .list_search_attributes(
                ListSearchAttributesRequest {
                    namespace: "go-ns".into(),
                }
                .into_request(),
            )
            .await
            .expect("attributes listed")
            .into_inner()
            .custom_attributes;
        for (name, _) in temporal_playground::temporal::search_attributes::all() {
            assert!(attributes.contains_key(name), "{name} missing in go-ns");
        }
    }
    succeeds(hp, &["client", "start", "-n", "local-rex"], "started order");
    succeeds(
        hp,
        &["client", "start", "-o", "test-123", "-n", "local-rex"],
        "started order test-123",
    );
    succeeds(
        hp,
        &[
            "client", "start", "-o", "go-1", "-e", "dev", "-b", "retail", "-p", "high", "-w",
            "some-id",
        ],
        "the workflow id is payment-go-1",
    );
    succeeds(
        hp,
        &[
            "client",
            "start",
            "-o",
            "go-2",
            "--environment",
            "prod",
            "--priority",
            "urgent",
        ],
        "started order go-2",
    );
    succeeds(
        hp,
        &[
            "client", "start", "-o", "go-3", "-e", "staging", "-p", "low",
        ],
        "started order go-3",
    );
    for (order, query) in [
        (
            "go-1",
            "OrderEnvironment = 'development' AND BusinessUnit = 'retail' AND OrderPriority = 2",
        ),
        (
            "go-2",
            "OrderEnvironment = 'production' AND OrderPriority = 1",
        ),
        ("go-3", "OrderEnvironment = 'staging' AND OrderPriority = 4"),
    ] {
        crate::support::visible_once(
            &client,
            &format!("{order} with the meaning of its flags"),
            &format!("OrderId = '{order}' AND {query}"),
        )
        .await;
    }
    fails(
        hp,
        &["client", "start", "-o", "go-4", "-p", "whenever"],
        "urgent, high, normal, low",
    );

    succeeds(
        hp,
        &["client", "create-recurring-payment"],
        "created recurring contract",
    );
    succeeds(
        hp,
        &[
            "client",
            "create-recurring-payment",
            "-o",
            "go-c1",
            "-r",
            "0",
            "-e",
            "dev",
            "-b",
            "retail",
            "-p",
            "normal",
        ],
        "until cancelled",
    );
    succeeds(
        hp,
        &["client", "cancel-recurring-payment", "-o", "go-c1"],
        "cancelled recurring contract go-c1",
    );

    let out = run_then_interrupt(
        &[
            "client",
            "simulate-payment",
            "-n",
            "local-rex",
            "-e",
            "dev",
            "-b",
            "retail",
            "-p",
            "normal",
            "--hostport",
            hp,
        ],
        3,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("stopped:"), "{}", text(&out));
    let out = run_then_interrupt(&["worker", "-n", "local-rex", "--hostport", hp], 3);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("worker running"), "{}", text(&out));
}

/// `serve` on free ports (simulated bank, `none` sign-in on loopback) against `server`,
/// with `extra` arguments, once its dashboard answers: the process, the dashboard's
/// address and the configuration file to remove afterwards. A port picked free can be
/// taken (an outgoing connection's ephemeral port) before `serve` binds it; `serve` then
/// exits, and fresh ports are tried. Its log goes to a file, quoted if it never answers.
async fn spawn_serve(
    server: &DevServer,
    name: &str,
    extra: &[&str],
) -> (
    std::process::Child,
    std::net::SocketAddr,
    std::path::PathBuf,
) {
    use crate::support::{answers, free_port};
    use std::time::{Duration, Instant};
    const TRIES: usize = 3;
    let mut last_log = String::new();
    for _ in 0..TRIES {
        let (dashboard, simulator) = (free_port(), free_port());
        let config = std::env::temp_dir().join(format!("tp-{name}-{dashboard}.toml"));
        let log_path = std::env::temp_dir().join(format!("tp-{name}-{dashboard}.log"));
        std::fs::write(
            &config,
            format!(
                "[upstream]\nsimulate = true\nsimulator_listen = \"127.0.0.1:{simulator}\"\n\
                 [dashboard]\nlisten = \"127.0.0.1:{dashboard}\"\n\
                 [auth]\nmode = \"none\"\nsession_key_file = \"{key}\"\n",
                key = std::env::temp_dir()
                    .join(format!("tp-{name}-{dashboard}.key"))
                    .display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(&log_path).expect("a log file in the temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
            .args(["serve", "--hostport", &server.hostport])
            .args(extra)
            .env_remove("TEMPORAL_ADDRESS")
            .env_remove("LEPTOS_SITE_ADDR")
            .env("TEMPORAL_PLAYGROUND_CONFIG", &config)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("serve starts");
        let addr: std::net::SocketAddr = format!("127.0.0.1:{dashboard}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if answers(format!("http://{addr}/healthz")).await.is_some() {
                let _ = std::fs::remove_file(&log_path);
                return (child, addr, config);
            }
            if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let _ = std::fs::remove_file(&log_path);
                let _ = std::fs::remove_file(&config);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    panic!("serve never answered in {TRIES} tries; its last log:\n{last_log}");
}

/// `serve` as a supervisor stops it: SIGTERM while live pages are open ends the process,
/// streams and all, within seconds.
#[tokio::test(flavor = "multi_thread")]
async fn serve_stops_cleanly_on_sigterm_with_live_streams_open() {
    use std::time::{Duration, Instant};
    let server = DevServer::start();
    let _client = server.client().await;
    let (mut child, addr, config) = spawn_serve(&server, "sigterm", &[]).await;
    let base = format!("http://{addr}");
    let refused = reqwest::get(format!("{base}/api/live")).await.unwrap();
    assert_eq!(
        refused.status().as_u16(),
        401,
        "nobody signed in: no live stream"
    );
    let http = crate::support::signed_in(addr, "ana").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let stream = http.get(format!("{base}/api/live")).send().await.unwrap();
        assert!(stream.status().is_success());
        streams.push(stream);
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve was still running 20 s after SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(status.success(), "serve ended with {status}");
    let _ = std::fs::remove_file(config);
    drop(streams);
}

/// A console run with `--no-worker` makes no upstream calls of its own: its upstream panel
/// says why it is empty rather than suggesting the banks are quiet.
#[tokio::test(flavor = "multi_thread")]
async fn a_console_without_workers_says_its_upstream_panel_cannot_see_calls() {
    let server = DevServer::start();
    let _client = server.client().await;
    let (mut child, addr, config) = spawn_serve(&server, "noworker", &["--no-worker"]).await;
    let http = crate::support::signed_in(addr, "ana").await;
    let page = http
        .get(format!("http://{addr}/live"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(config);
    assert!(
        page.contains("This console runs no workers, so it sees no upstream calls"),
        "{page}"
    );
}
