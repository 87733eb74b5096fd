//! Sign-in, roles and sessions from outside, over plain HTTP against the real router and a
//! real dev server: every action by every role, allowed or refused, and a refusal leaves
//! Temporal as it was.

use crate::support::*;
use leptos::server_fn::ServerFn;
use std::{net::SocketAddr, time::Duration};
use temporal_playground::{
    domain::access::{Action, Role, allows},
    upstream::simulator::UpstreamBehaviour,
    web::auth::accounts::AccountsFile,
    web::auth::{AuthConfig, AuthMode},
    web::pages::contracts::ChangeContract,
    web::pages::live_flow::SetFailureRate,
    web::pages::order::{
        ApproveOrder, ClaimOrder, LoadOrderLane, ReleaseOrder, ResolveOrder, RetryStale,
        TakeOverOrder,
    },
    web::state::WebConfig,
};

/// Each action as the browser sends it, against order `id` (or contract `C-none`).
fn request_of(action: Action, id: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let order = vec![("order_id", id.to_string())];
    Some(match action {
        Action::Read => (LoadOrderLane::PATH, order),
        Action::Claim => (ClaimOrder::PATH, order),
        Action::Release => (ReleaseOrder::PATH, order),
        Action::Resolve => (
            ResolveOrder::PATH,
            vec![
                ("order_id", id.to_string()),
                ("resolution", "failed".into()),
                ("reason_code", "BANK_CONFIRMED".into()),
                ("note", String::new()),
            ],
        ),
        Action::RetryNow => (RetryStale::PATH, order),
        Action::Approve => (ApproveOrder::PATH, order),
        Action::TakeOver => (
            TakeOverOrder::PATH,
            vec![
                ("order_id", id.to_string()),
                ("note", "left sitting".into()),
            ],
        ),
        Action::ManageContracts => (
            ChangeContract::PATH,
            vec![
                ("contract_id", "C-none".into()),
                ("change", "pause".into()),
                ("reason", "audit test".into()),
            ],
        ),
        Action::Simulate => (SetFailureRate::PATH, vec![("percent", "5".into())]),
        // The audit export is a GET (below); accounts are the `user` command's; the upload
        // is a multipart form (`statements.rs` tries it by role).
        Action::Audit | Action::ManageAccounts | Action::ImportStatement => return None,
    })
}

async fn history_length(env: &TestEnv, workflow_id: &str) -> usize {
    env.client
        .get_workflow_handle::<temporalio_client::UntypedWorkflow>(workflow_id)
        .fetch_history(Default::default())
        .into_events()
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_may_do_its_job_and_nothing_else_and_a_refusal_changes_nothing() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    start_manual(&env.client, "roles-1", "bank-a", "http_503").await;
    // Settled: its first workflow task done (the query answers), its history still.
    eventually("the order to settle", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::manual_context(&env.client, "roles-1")
            .await
            .ok()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = history_length(&env, "manual-roles-1").await;

    // Refusals first, on an untouched order: nobody signed in, then each wrong role.
    let anonymous = browser(addr, None);
    let mut table = Vec::new();
    for action in Action::ALL {
        let Some((path, form)) = request_of(action, "roles-1") else {
            continue;
        };
        let status = anonymous
            .post(format!("http://{addr}{path}"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 401, "{action:?} with no session");
    }
    let mut sessions = Vec::new();
    for role in Role::ALL {
        let http = sign_in_with(addr, &[("name", role.name()), ("password", PASSWORD)]).await;
        sessions.push((role, http));
    }
    for (role, http) in &sessions {
        for action in Action::ALL {
            let Some((path, form)) = request_of(action, "roles-1") else {
                continue;
            };
            if allows(&[*role], action) {
                continue;
            }
            let response = http
                .post(format!("http://{addr}{path}"))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert_eq!(status, 403, "{role:?} {action:?}: {body}");
            assert!(body.contains("your role does not allow"), "{body}");
            table.push(format!("{}\t{action:?}\trefused", role.name()));
        }
    }
    assert_eq!(
        history_length(&env, "manual-roles-1").await,
        before,
        "refused requests wrote to the order's history"
    );
    let context = temporal_playground::operations::orders::manual_context(&env.client, "roles-1")
        .await
        .unwrap();
    assert!(context.claim.is_none() && context.resolution.is_none());

    // Then what each role may do: the server lets it through (the workflow may still say
    // no, with a 4xx of its own, but never 401 or 403).
    for (role, http) in &sessions {
        for action in Action::ALL {
            let Some((path, form)) = request_of(action, "roles-1") else {
                continue;
            };
            if !allows(&[*role], action) {
                continue;
            }
            let response = http
                .post(format!("http://{addr}{path}"))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(
                status != 401 && status != 403 && status < 500,
                "{role:?} {action:?}: {status} {}",
                response.text().await.unwrap()
            );
            table.push(format!("{}\t{action:?}\tallowed", role.name()));
        }
    }
    // The operator is the session's: support's claim reads "support", whatever the form said.
    let claimed = temporal_playground::operations::orders::manual_context(&env.client, "roles-1")
        .await
        .unwrap();
    let actors: Vec<_> = [
        claimed.claim.map(|c| c.operator),
        claimed.resolution.map(|r| r.resolved_by),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(
        actors.iter().all(|a| a == "support" || a == "admin"),
        "{actors:?}"
    );
    // The audit export, a GET: finance and admin only.
    for (role, http) in &sessions {
        let status = http
            .get(format!("http://{addr}/audit.csv"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let allowed = allows(&[*role], Action::Audit);
        assert_eq!(
            status,
            if allowed { 200 } else { 403 },
            "{role:?} audit export"
        );
        let verdict = if allowed { "allowed" } else { "refused" };
        table.push(format!("{}\tAudit\t{verdict}", role.name()));
    }
    println!("role × action, as tested:\n{}", table.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn from_outside_without_a_good_session_nothing_opens() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(2)).await;
    let own = format!("http://{addr}");
    let anonymous = browser(addr, None);

    // Pages send a visitor to the sign-in page, coming back afterwards; the stream says 401.
    let page = anonymous
        .get(format!("{own}/stale?provider=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 303);
    let location = page
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(location, "/login?next=%2Fstale%3Fprovider%3Dx");
    let login = anonymous.get(format!("{own}/login")).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let live = anonymous
        .get(format!("{own}/api/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status().as_u16(), 401);

    // A wrong password, an unknown name and `system` are refused alike, with no session.
    for form in [
        [("name", "support"), ("password", "not the password")],
        [("name", "nobody"), ("password", PASSWORD)],
        [("name", "system"), ("password", PASSWORD)],
    ] {
        assert!(session_cookie(addr, &form).await.is_err(), "{form:?}");
    }

    // The old typed-name cookie means nothing now.
    let old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let with_old = old
        .get(format!("{own}/"))
        .header("cookie", "tp_operator=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(with_old.status().as_u16(), 303);

    // A tampered or forged session cookie is refused (and cleared), not trusted.
    let cookie = session_cookie(addr, &[("name", "support"), ("password", PASSWORD)])
        .await
        .unwrap();
    let good = browser(addr, Some(&cookie));
    assert_eq!(
        good.get(format!("{own}/"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let (name, value) = cookie.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
    let forged = format!("{name}=eyJ1c2VyIjoiYWRtaW4ifQ");
    for cookie in [tampered, forged] {
        let response = browser(addr, Some(&cookie))
            .get(format!("{own}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "{cookie}");
    }

    // A session unused past its idle timeout (2 s here) has ended.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = good.get(format!("{own}/")).send().await.unwrap();
    assert_eq!(
        idle.status().as_u16(),
        303,
        "the idle session still opened a page"
    );

    // Sign-out ends the session at once.
    let cookie = session_cookie(addr, &[("name", "finance"), ("password", PASSWORD)])
        .await
        .unwrap();
    let http = browser(addr, Some(&cookie));
    use temporal_playground::web::auth::SignOut;
    let out = http
        .post(format!("{own}{}", SignOut::PATH))
        .send()
        .await
        .unwrap();
    assert!(out.status().as_u16() < 400, "{:?}", out.status());
    let cleared = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("tp_session=") && v.contains("Max-Age=0"));
    assert!(cleared, "sign-out clears the cookie");
}

/// Case 6: a name's password cannot be guessed at full speed. Five failures a minute, then
/// the name is refused without its password checked, even the right one; others are not.
#[tokio::test(flavor = "multi_thread")]
async fn guessing_a_password_is_refused_after_five_failures_a_minute() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    for _ in 0..5 {
        let refused = session_cookie(addr, &[("name", "support"), ("password", "guess")]).await;
        assert!(matches!(refused, Err(s) if s != 429), "{refused:?}");
    }
    let locked = session_cookie(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    assert_eq!(
        locked,
        Err(429),
        "the right password, too soon after five wrong ones"
    );
    let other = session_cookie(addr, &[("name", "finance"), ("password", PASSWORD)]).await;
    assert!(other.is_ok(), "another name signs in: {other:?}");
    // Signing in well many times never locks a name.
    for _ in 0..8 {
        assert!(
            session_cookie(addr, &[("name", "admin"), ("password", PASSWORD)])
                .await
                .is_ok()
        );
    }
}

#[test]
fn the_user_command_adds_changes_and_removes_accounts() {
    use std::process::{Command, Stdio};
    // A new file: a port is reused across runs, and an earlier run's file would hold its
    // accounts.
    let path = std::env::temp_dir().join(format!(
        "tp-users-{}-{}.toml",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_file(&path);
    let config = path.with_extension("conf.toml");
    std::fs::write(
        &config,
        format!("[auth]\naccounts_file = \"{}\"\n", path.display()),
    )
    .unwrap();
    let user = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
            .arg("user")
            .args(args)
            .env("TEMPORAL_PLAYGROUND_CONFIG", &config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = user(&["add", "ana", "--roles", "support,approver"], None);
    assert!(ok && text.contains("password: "), "{text}");
    let (ok, text) = user(
        &["add", "bo", "--roles", "finance", "--password-stdin"],
        Some("long enough pw\n"),
    );
    assert!(ok && !text.contains("password:"), "{text}");
    let file = AccountsFile::load(&path).unwrap();
    assert!(temporal_playground::web::auth::accounts::verify(
        file.find("bo").unwrap(),
        "long enough pw"
    ));
    let (ok, text) = user(&["add", "system", "--roles", "support"], None);
    assert!(!ok && text.contains("reserved"), "{text}");
    let (ok, text) = user(&["add", "cy", "--roles", "root"], None);
    assert!(!ok && text.contains("not a role"), "{text}");
    let (ok, text) = user(
        &["add", "cy", "--roles", "support", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && text.contains("at least 12"), "{text}");
    let (ok, text) = user(&["change", "ana", "--roles", "support"], None);
    assert!(ok, "{text}");
    let (ok, text) = user(&["list"], None);
    assert!(
        ok && text.contains("ana\tsupport\n") && text.contains("bo\tfinance"),
        "{text}"
    );
    let (ok, text) = user(&["remove", "bo"], None);
    assert!(ok, "{text}");
    let (_, text) = user(&["list"], None);
    assert!(!text.contains("bo\t"), "{text}");
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("long enough pw")
    );

    // Case 10: the file is the owner's alone, from the moment it exists.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "accounts file mode {mode:o}");
    // Eight `user add` at once: the file is locked while written, so none is lost.
    let adding: Vec<_> = (0..8)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
                .args(["user", "add", &format!("p{i}"), "--roles", "support"])
                .env("TEMPORAL_PLAYGROUND_CONFIG", &config)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in adding {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let file = AccountsFile::load(&path).unwrap();
    for i in 0..8 {
        assert!(file.find(&format!("p{i}")).is_some(), "p{i} was lost");
    }
    assert!(file.find("ana").is_some());
    for leftover in [path.clone(), config, path.with_extension("toml.lock")] {
        let _ = std::fs::remove_file(leftover);
    }
}

/// A replica of the console sharing `key` and `accounts` with the others (as `serve` on
/// several machines would), with its own list of ended sessions.
async fn replica(
    client: temporalio_client::Client,
    accounts: &std::path::Path,
    key: &str,
) -> SocketAddr {
    let config = WebConfig {
        policy: fast_policy(3, 60),
        auth: AuthConfig {
            mode: AuthMode::Local {
                accounts: accounts.to_path_buf(),
            },
            key: temporal_playground::web::auth::parse_key(key).unwrap(),
            ..AuthConfig::default()
        },
        ..WebConfig::default()
    };
    serve_dashboard_with(client, config).await.0
}

/// Signs the session of `cookie` out at the replica `addr`.
async fn sign_out(addr: SocketAddr, cookie: &str) {
    use leptos::server_fn::ServerFn;
    let out = browser(addr, Some(cookie))
        .post(format!(
            "http://{addr}{}",
            temporal_playground::web::auth::SignOut::PATH
        ))
        .send()
        .await
        .unwrap();
    assert!(out.status().as_u16() < 400, "{}", out.status());
}

async fn opens(addr: SocketAddr, cookie: &str) -> bool {
    browser(addr, Some(cookie))
        .get(format!("http://{addr}/"))
        .send()
        .await
        .map(|r| r.status().as_u16() == 200)
        .unwrap_or(false)
}

/// Case 9: sign-out ends the session signed out, and `user revoke` every session of a
/// person, on every replica within the list's bound, live streams included; a copy of the
/// cookie is worth nothing after. The list is in Temporal.
#[tokio::test(flavor = "multi_thread")]
async fn sign_out_and_user_revoke_end_sessions_on_every_replica_and_their_streams() {
    use base64::Engine;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let accounts = accounts();
    let a = replica(env.client.clone(), &accounts, &key).await;
    let b = replica(env.client.clone(), &accounts, &key).await;
    let support = [("name", "support"), ("password", PASSWORD)];

    // A copied cookie works on the other replica while the session stands...
    let cookie = session_cookie(a, &support).await.unwrap();
    let copy = cookie.clone();
    assert!(opens(b, &copy).await, "one session, every replica");
    let other = session_cookie(b, &support).await.unwrap();
    sign_out(a, &cookie).await;
    // ...and on neither once it is signed out (the lists refresh every 2 s).
    eventually(
        "the copy refused everywhere",
        Duration::from_secs(10),
        || async { (!opens(a, &copy).await && !opens(b, &copy).await).then_some(()) },
    )
    .await;
    assert!(
        opens(b, &other).await,
        "another session of the same person stands"
    );

    // `user revoke` ends every session of a person, and their open live stream.
    let finance = [("name", "finance"), ("password", PASSWORD)];
    let on_a = session_cookie(a, &finance).await.unwrap();
    let on_b = session_cookie(b, &finance).await.unwrap();
    let mut stream = browser(b, Some(&on_b))
        .get(format!("http://{b}/api/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    // Sessions begun before the cut are cut; the cut is by the second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
        .args(["user", "revoke", "finance", "--operator", "root"])
        .args(["--hostport", env.server.hostport.as_str()])
        .env(
            "TEMPORAL_PLAYGROUND_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually(
        "every finance session ended",
        Duration::from_secs(10),
        || async { (!opens(a, &on_a).await && !opens(b, &on_b).await).then_some(()) },
    )
    .await;
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match stream.chunk().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the live stream ends with its session");
    // In Temporal: one ended session, one person cut, by whom.
    let list = temporal_playground::operations::sessions::revocations(&env.client)
        .await
        .unwrap();
    assert_eq!(list.sessions.len(), 1, "{list:?}");
    assert!(
        list.people
            .iter()
            .any(|p| p.person == "finance" && p.by == "root"),
        "{list:?}"
    );
    // Signing in again afterwards works.
    let again = session_cookie(a, &finance).await.unwrap();
    assert!(opens(a, &again).await);
}

/// Workers down: a replica read the list of ended sessions by its query, which only a
/// worker answers, and while none did it refused nothing ended elsewhere: a session signed
/// out on one replica, or a person revoked, went on working on the others (a copied cookie
/// included) until a worker was back. The list's history holds the signals meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_ended_while_no_worker_runs_is_refused_on_every_replica() {
    use base64::Engine;
    let mut env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let key = base64::engine::general_purpose::STANDARD.encode([11u8; 64]);
    let accounts = accounts();
    let a = replica(env.client.clone(), &accounts, &key).await;
    let b = replica(env.client.clone(), &accounts, &key).await;
    let support = [("name", "support"), ("password", PASSWORD)];
    let finance = [("name", "finance"), ("password", PASSWORD)];
    let cookie = session_cookie(a, &support).await.unwrap();
    let other = session_cookie(b, &support).await.unwrap();
    let finance_on_b = session_cookie(b, &finance).await.unwrap();
    assert!(opens(b, &cookie).await, "one session, every replica");

    env.stop_workers().await;
    sign_out(a, &cookie).await;
    eventually(
        "the copy refused on the other replica",
        Duration::from_secs(30),
        || async { (!opens(b, &cookie).await).then_some(()) },
    )
    .await;
    assert!(
        opens(b, &other).await,
        "another session of the person stands"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    temporal_playground::operations::sessions::revoke_person(&env.client, "finance", "root")
        .await
        .unwrap();
    eventually(
        "the revoked person refused",
        Duration::from_secs(30),
        || async { (!opens(b, &finance_on_b).await).then_some(()) },
    )
    .await;

    // A worker back: the list itself holds both, and nothing comes back.
    env.add_workers(50.0).await;
    eventually("the list read again", Duration::from_secs(30), || async {
        let list = temporal_playground::operations::sessions::revocations(&env.client)
            .await
            .ok()?;
        (list.sessions.len() == 1 && list.people.iter().any(|p| p.person == "finance"))
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!opens(b, &cookie).await && !opens(b, &finance_on_b).await);
    assert!(opens(b, &other).await);
}

/// `user revoke` cannot be undone from outside the console: the list's `revoke_person`
/// signal, sent from Temporal's CLI with an earlier cut, brings back none of the sessions
/// it ended; a cut far ahead (which would lock the person out until then) is held to a few
/// minutes ahead, and a session ended "forever" is listed no longer than a session lasts.
#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_cannot_be_moved_back_or_kept_far_ahead_from_temporals_cli() {
    use base64::Engine;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let key = base64::engine::general_purpose::STANDARD.encode([9u8; 64]);
    let a = replica(env.client.clone(), &accounts(), &key).await;
    let finance = [("name", "finance"), ("password", PASSWORD)];
    let cut_off = session_cookie(a, &finance).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cut =
        temporal_playground::operations::sessions::revoke_person(&env.client, "finance", "root")
            .await
            .unwrap();
    eventually("the session ended", Duration::from_secs(10), || async {
        (!opens(a, &cut_off).await).then_some(())
    })
    .await;
    // From Temporal's CLI: a session ended until the end of time, finance's cut moved back
    // to 1970, and support's to ten days on.
    let forever = raw_signal(
        &env.server.hostport,
        temporal_playground::workflows::console_sessions::WORKFLOW_ID,
        "end_session",
        &format!(
            r#"{{"session":"forever","until":{},"by":"root"}}"#,
            i64::MAX
        ),
    );
    assert!(
        forever.status.success(),
        "{}",
        String::from_utf8_lossy(&forever.stderr)
    );
    let ahead = chrono::Utc::now().timestamp() + 10 * 86_400;
    for (person, after) in [("finance", 0), ("support", ahead)] {
        let out = raw_signal(
            &env.server.hostport,
            temporal_playground::workflows::console_sessions::WORKFLOW_ID,
            "revoke_person",
            &format!(r#"{{"person":"{person}","after":{after},"by":"root"}}"#),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list = eventually("support's cut listed", Duration::from_secs(10), || async {
        let list = temporal_playground::operations::sessions::revocations(&env.client)
            .await
            .ok()?;
        list.people
            .iter()
            .any(|p| p.person == "support")
            .then_some(list)
    })
    .await;
    let after = |person: &str| {
        list.people
            .iter()
            .find(|p| p.person == person)
            .map(|p| p.after)
    };
    assert_eq!(after("finance"), Some(cut), "{list:?}");
    let held = after("support").unwrap_or_default();
    assert!(
        held <= chrono::Utc::now().timestamp()
            + temporal_playground::workflows::console_sessions::CUT_AHEAD_SECS,
        "a cut {} s ahead: {list:?}",
        held - chrono::Utc::now().timestamp()
    );
    // No session lasts past eight days: none is listed longer.
    let until = list
        .sessions
        .iter()
        .find(|s| s.session == "forever")
        .map(|s| s.until);
    assert!(
        until.is_some_and(|until| until
            <= chrono::Utc::now().timestamp()
                + temporal_playground::workflows::console_sessions::KEEP_PERSON_SECS),
        "{list:?}"
    );
    // The replica reads the list every 2 s: the session stays ended.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!opens(a, &cut_off).await, "the revoked session came back");
}

/// Terminating the list from Temporal's CLI does not bring back what it ended: the run the
/// next sign-out begins cannot know what the old one listed, so every session begun before
/// it is ended (everyone signs in again), the revoked ones with them.
#[tokio::test(flavor = "multi_thread")]
async fn a_list_terminated_from_outside_brings_back_no_session_it_ended() {
    use base64::Engine;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let key = base64::engine::general_purpose::STANDARD.encode([5u8; 64]);
    let a = replica(env.client.clone(), &accounts(), &key).await;
    let revoked = session_cookie(a, &[("name", "finance"), ("password", PASSWORD)])
        .await
        .unwrap();
    let bystander = session_cookie(a, &[("name", "support"), ("password", PASSWORD)])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    temporal_playground::operations::sessions::revoke_person(&env.client, "finance", "root")
        .await
        .unwrap();
    eventually("the session ended", Duration::from_secs(10), || async {
        (!opens(a, &revoked).await).then_some(())
    })
    .await;
    assert!(opens(a, &bystander).await);
    let out = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "terminate",
            "--workflow-id",
            temporal_playground::workflows::console_sessions::WORKFLOW_ID,
            "--reason",
            "tidying up",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The next sign-out begins the list again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    temporal_playground::operations::sessions::end_session(
        &env.client,
        "elsewhere",
        i64::MAX / 2,
        "ana",
    )
    .await
    .unwrap();
    eventually("the new list read", Duration::from_secs(10), || async {
        let list = temporal_playground::operations::sessions::revocations(&env.client)
            .await
            .ok()?;
        list.sessions
            .iter()
            .any(|s| s.session == "elsewhere")
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!opens(a, &revoked).await, "the revoked session came back");
    assert!(
        !opens(a, &bystander).await,
        "a session begun before the new list stands"
    );
    let again = session_cookie(a, &[("name", "support"), ("password", PASSWORD)])
        .await
        .unwrap();
    assert!(opens(a, &again).await, "signing in again works");
}
