//! `oidc` sign-in end to end: a real OpenID Connect provider on loopback (npm's
//! oauth2-mock-server: discovery, JWKS, PKCE, signed ID tokens), the console's real router,
//! and plain HTTP doing what a browser does with the redirects.

use crate::support::*;
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};
use temporal_playground::{
    upstream::simulator::UpstreamBehaviour,
    web::auth::oidc::OidcConfig,
    web::auth::{AuthConfig, AuthMode},
    web::state::WebConfig,
};

struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn provider() -> (Provider, String) {
    provider_with(None).await
}

/// The provider, its groups read from `groups` (JSON, subject -> groups) when given.
async fn provider_with(groups: Option<&std::path::Path>) -> (Provider, String) {
    let port = free_port();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/oidc/mock-idp.mjs");
    let child = Command::new("node")
        .arg(script)
        .arg(port.to_string())
        .args(groups.map(|g| g.as_os_str().to_owned()))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs the test identity provider (make deps installs it)");
    let issuer = format!("http://localhost:{port}");
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    eventually("the identity provider", Duration::from_secs(30), || {
        answers(discovery.clone())
    })
    .await;
    (Provider(child), issuer)
}

/// The `tp_session` cookie a response sets, if any.
fn session_set(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tp_session=") && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// A browser's sign-in as `person`: to the provider and back. Returns the callback's
/// answer and the session cookie it holds by then.
async fn sign_in_as(
    addr: std::net::SocketAddr,
    person: &str,
) -> (reqwest::Response, Option<String>) {
    let plain = browser(addr, None);
    let start = plain
        .get(format!("http://{addr}/auth/oidc?next=%2Fstale"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status().as_u16(), 303, "to the provider");
    let cookie = session_set(&start).expect("the flow's state is kept in the session");
    let authorize = format!("{}&login_hint={person}", location(&start));
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(authorize.contains("nonce="), "{authorize}");
    let at_provider = plain.get(&authorize).send().await.unwrap();
    assert!(
        at_provider.status().is_redirection(),
        "{}",
        at_provider.status()
    );
    let callback = location(&at_provider);
    assert!(
        callback.starts_with(&format!("http://{addr}/auth/callback?")),
        "{callback}"
    );
    let back = browser(addr, Some(&cookie))
        .get(&callback)
        .send()
        .await
        .unwrap();
    let session = session_set(&back).or(Some(cookie));
    (back, session)
}

/// A console signing people in at `issuer`, roles read again every `roles_minutes`.
async fn console(
    client: temporalio_client::Client,
    issuer: String,
    roles_minutes: f64,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = WebConfig {
        auth: AuthConfig {
            mode: AuthMode::Oidc(OidcConfig {
                issuer_url: issuer,
                client_id: "temporal-playground".into(),
                client_secret: None,
                redirect_url: format!("http://{addr}/auth/callback"),
                name_claim: "preferred_username".into(),
                roles_claim: "groups".into(),
                // The shipped default: `tp-` groups only, roles matched exactly.
                group_prefix: temporal_playground::web::auth::oidc::DEFAULT_GROUP_PREFIX.into(),
                roles_minutes,
            }),
            ..AuthConfig::default()
        },
        ..WebConfig::default()
    };
    serve_dashboard_on(listener, client, config).await;
    addr
}

/// Who the console says is signed in, as the page's `me` call answers.
async fn me(addr: std::net::SocketAddr, cookie: Option<&str>) -> serde_json::Value {
    use leptos::server_fn::ServerFn;
    let me_path = temporal_playground::web::auth::Me::PATH;
    let text = browser(addr, cookie)
        .post(format!("http://{addr}{me_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("me answers JSON: {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn people_sign_in_at_the_identity_provider_with_the_roles_their_groups_give() {
    let (_idp, issuer) = provider().await;
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = console(env.client.clone(), issuer, 15.0).await;

    // The sign-in page offers the provider; passwords are refused here.
    let page = browser(addr, None)
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Sign in with single sign-on")
    );
    assert!(
        session_cookie(addr, &[("name", "ana"), ("password", "long enough pw")])
            .await
            .is_err()
    );

    let (back, cookie) = sign_in_as(addr, "sso-ana").await;
    assert_eq!(
        back.status().as_u16(),
        303,
        "{}",
        back.text().await.unwrap()
    );
    assert_eq!(location(&back), "/stale", "back where they were going");
    let http = browser(addr, cookie.as_deref());
    use leptos::server_fn::ServerFn;
    let me_path = temporal_playground::web::auth::Me::PATH;
    let me = http
        .post(format!("http://{addr}{me_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        me.contains("\"sso-ana\"") && me.contains("support") && !me.contains("admin"),
        "{me}"
    );
    let stale = http
        .get(format!("http://{addr}/stale"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 200);
    // A support person is still refused finance's export.
    let export = http
        .get(format!("http://{addr}/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 403);

    let (back, _) = sign_in_as(addr, "sso-fin").await;
    assert_eq!(back.status().as_u16(), 303);

    // Groups that name no role of ours: refused, with a sentence.
    let (back, _) = sign_in_as(addr, "sso-nobody").await;
    assert_eq!(back.status().as_u16(), 403);
    assert!(
        back.text()
            .await
            .unwrap()
            .contains("no role in this console")
    );
    // The provider cannot make anyone `system`.
    let (back, _) = sign_in_as(addr, "system").await;
    assert_eq!(back.status().as_u16(), 401);

    // A callback whose state is not the session's, or a replayed one, signs nobody in.
    let plain = browser(addr, None);
    let start = plain
        .get(format!("http://{addr}/auth/oidc"))
        .send()
        .await
        .unwrap();
    let cookie = session_set(&start).unwrap();
    let at_provider = plain.get(location(&start)).send().await.unwrap();
    let callback = location(&at_provider);
    let forged = callback.replace("state=", "state=x");
    let refused = browser(addr, Some(&cookie))
        .get(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    // The browser now holds the session the refusal wrote: the flow is spent.
    let after = session_set(&refused).unwrap_or_default();
    let replay = browser(addr, Some(&after))
        .get(&callback)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status().as_u16(),
        401,
        "the flow was spent by the first answer"
    );
}

/// Case 8 of the authority issue: a person is their issuer and subject, not a name they can
/// change; a name is shown, an unverified email never; only `tp-` groups give roles, exactly.
/// And the roles are read again: a person whose groups change loses what they lost.
#[tokio::test(flavor = "multi_thread")]
async fn a_person_is_who_the_provider_says_and_loses_roles_the_provider_takes_away() {
    let groups = std::env::temp_dir().join(format!("tp-groups-{}.json", free_port()));
    std::fs::write(&groups, r#"{"sso-ana": ["tp-support"]}"#).unwrap();
    let (_idp, issuer) = provider_with(Some(&groups)).await;
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    // Roles read again every 1.2 s here (15 minutes by default).
    let addr = console(env.client.clone(), issuer.clone(), 0.02).await;

    let (_, first) = sign_in_as(addr, "sso-ana").await;
    let who = me(addr, first.as_deref()).await;
    let id = who["who"]["id"].as_str().unwrap().to_string();
    assert_eq!(id, format!("oidc:{issuer}#sso-ana"), "{who}");
    // The same subject under a new name, with an email nobody verified: the same person,
    // shown by the new name, never by the email.
    let (_, renamed) = sign_in_as(addr, "sso-ana/ana-renamed/boss@example.com").await;
    let who = me(addr, renamed.as_deref()).await;
    assert_eq!(who["who"]["id"], id.as_str(), "{who}");
    assert_eq!(who["who"]["name"], "ana-renamed", "{who}");
    // A name that is someone else's subject is someone else.
    let (_, other) = sign_in_as(addr, "sso-fin/sso-ana").await;
    let who = me(addr, other.as_deref()).await;
    assert_ne!(who["who"]["id"], id.as_str(), "{who}");

    // A company group named `admin`, or `tp-Admin` in another case, gives nothing.
    let (back, _) = sign_in_as(addr, "sso-shouty").await;
    assert_eq!(
        back.status().as_u16(),
        403,
        "no role from admin or tp-Admin"
    );

    // The provider takes support away: within the refresh, the session has ended.
    let page = browser(addr, renamed.as_deref())
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    std::fs::write(&groups, r#"{"sso-ana": ["staff"]}"#).unwrap();
    eventually(
        "the session to end once the roles are read again",
        Duration::from_secs(15),
        || async {
            let page = browser(addr, renamed.as_deref())
                .get(format!("http://{addr}/"))
                .send()
                .await
                .ok()?;
            (page.status().as_u16() == 303).then_some(())
        },
    )
    .await;
    let _ = std::fs::remove_file(&groups);
}

/// Case 4, for the single sign-on start: `next` payloads land on this site, and a line
/// break in one is refused as a path, not a panic.
#[tokio::test(flavor = "multi_thread")]
async fn the_single_sign_on_start_follows_only_paths_of_this_site() {
    let (_idp, issuer) = provider().await;
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let addr = console(env.client.clone(), issuer, 15.0).await;
    for (next, lands) in [
        ("%2Fstale", "/stale"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%0D%0A%2Fx", "/"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2F%252F%252Fevil.example", "/"),
    ] {
        let plain = browser(addr, None);
        let start = plain
            .get(format!("http://{addr}/auth/oidc?next={next}"))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status().as_u16(), 303, "{next}");
        let cookie = session_set(&start).unwrap();
        let at_provider = plain.get(location(&start)).send().await.unwrap();
        let back = browser(addr, Some(&cookie))
            .get(location(&at_provider))
            .send()
            .await
            .unwrap();
        assert_eq!(back.status().as_u16(), 303, "{next}");
        assert_eq!(location(&back), lands, "{next}");
    }
}
