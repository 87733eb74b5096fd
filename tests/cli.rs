//! The binary as people run it: clear errors and exit codes, against a real dev server.

mod support;

use std::process::{Command, Output};
use support::DevServer;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
        .args(args)
        .env_remove("TEMPORAL_ADDRESS")
        .env_remove("TEMPORAL_NAMESPACE")
        .env(
            "TEMPORAL_PLAYGROUND_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .output()
        .expect("the binary runs")
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
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_verbs_work_against_a_dev_server() {
    let server = DevServer::start();
    let _client = server.client().await;
    let hp = server.hostport.clone();

    let out = run(&["client", "start", "-o", "two words", "--hostport", &hp]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("characters other than"),
        "{}",
        text(&out)
    );

    let out = run(&[
        "client",
        "start",
        "-o",
        "cli-1",
        "-p",
        "1",
        "--hostport",
        &hp,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("started order cli-1"), "{}", text(&out));
    let out = run(&["client", "start", "-o", "cli-1", "--hostport", &hp]);
    assert!(out.status.success(), "a duplicate exits 0: {}", text(&out));
    assert!(
        text(&out).contains("already being processed"),
        "{}",
        text(&out)
    );

    let out = run(&[
        "client",
        "signal-manual",
        "-w",
        "manual-cli-1",
        "maybe",
        "--hostport",
        &hp,
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is not a resolution"), "{}", text(&out));

    let out = run(&[
        "client",
        "cancel-recurring-payment",
        "-o",
        "nope",
        "--hostport",
        &hp,
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no recurring contract"),
        "{}",
        text(&out)
    );

    let out = run(&[
        "client",
        "create-recurring-payment",
        "-o",
        "CLI-C1",
        "-r",
        "3",
        "--every",
        "30d",
        "--hostport",
        &hp,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("next charge:"), "{}", text(&out));
    let out = run(&[
        "client",
        "cancel-recurring-payment",
        "-o",
        "CLI-C1",
        "--hostport",
        &hp,
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let out = run(&[
        "namespace",
        "register",
        "--name",
        "payments",
        "-d",
        "orders",
        "--hostport",
        &hp,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&[
        "namespace",
        "register",
        "--name",
        "payments",
        "--hostport",
        &hp,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    let out = run(&["namespace", "list", "--hostport", &hp]);
    assert!(
        text(&out).lines().any(|l| l.starts_with("payments\t")),
        "{}",
        text(&out)
    );
    let out = run(&[
        "client",
        "start",
        "-o",
        "cli-ns",
        "-n",
        "payments",
        "--hostport",
        &hp,
    ]);
    assert!(
        out.status.success(),
        "search attributes exist in the new namespace: {}",
        text(&out)
    );
}
