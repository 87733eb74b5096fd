//! The session cookie and the sign-in rules around every request.

use axum::{
    Router,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_login::{AuthManager, AuthSession};
use std::{path::Path, time::Duration};
use tower_sessions_cookie_store::{
    CookieSessionConfig, CookieSessionManagerLayer, Expiry, Key, SameSite,
};

use super::backend::{AuthMode, Backend};

/// The session cookie's name over plain HTTP, and over TLS (`__Host-`: this host only,
/// path `/`, `Secure`).
pub const COOKIE: &str = "tp_session";
pub const SECURE_COOKIE: &str = "__Host-tp_session";
/// Default idle timeout: a session unused this long ends.
pub const DEFAULT_IDLE_MINUTES: u64 = 30;
/// Default absolute lifetime: a session this old ends, used or not.
pub const DEFAULT_LIFETIME_HOURS: u64 = 12;
/// Where the session records when it began, and its own id (what a sign-out ends).
const SIGNED_IN_AT: &str = "signed_in_at";
const SESSION_ID: &str = "session_id";

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// Encrypts and signs the session cookie; every replica needs the same one.
    pub key: Key,
    pub idle: Duration,
    pub lifetime: Duration,
    /// Served over TLS: `Secure` and `__Host-` cookies.
    pub secure: bool,
    /// The sessions ended before their time, as Temporal keeps them.
    pub revocations: super::revocations::RevocationList,
    /// How fast sign-ins may be tried.
    pub throttle: super::throttle::SignInThrottle,
}

impl Default for AuthConfig {
    /// `none` mode with a key of this process only: what tests and a bare library use.
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::None,
            key: Key::generate(),
            idle: Duration::from_secs(DEFAULT_IDLE_MINUTES * 60),
            lifetime: Duration::from_secs(DEFAULT_LIFETIME_HOURS * 3600),
            secure: false,
            revocations: Default::default(),
            throttle: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionKeyError {
    #[error("the session key must be at least 64 bytes, base64 encoded (it is {0} bytes)")]
    Short(usize),
    #[error("the session key is not base64: {0}")]
    Encoding(String),
    #[error("cannot read or write the session key file {path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A key from its base64 text.
pub fn parse_key(text: &str) -> Result<Key, SessionKeyError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| SessionKeyError::Encoding(e.to_string()))?;
    Key::try_from(bytes.as_slice()).map_err(|_| SessionKeyError::Short(bytes.len()))
}

/// The key in `path`, generated there (readable by its owner only) when the file is new:
/// `make run`'s sessions then outlive a restart.
pub fn load_or_create_key(path: &Path) -> Result<Key, SessionKeyError> {
    use base64::Engine;
    let file = |source| SessionKeyError::File {
        path: path.into(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(file)?;
            }
            let text = base64::engine::general_purpose::STANDARD.encode(key.master());
            super::accounts::write_private(path, text.as_bytes()).map_err(file)?;
            Ok(key)
        }
        Err(e) => Err(file(e)),
    }
}

/// Wraps `router` in the cookie session, `axum-login`'s manager, the absolute lifetime and
/// the sign-in redirect of pages (innermost first).
pub fn auth_layers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    config: &AuthConfig,
) -> Router<S> {
    let backend = Backend {
        mode: config.mode.clone(),
    };
    let idle = time::Duration::try_from(config.idle).unwrap_or(time::Duration::MINUTE);
    let cookie = CookieSessionConfig::default()
        .with_name(if config.secure { SECURE_COOKIE } else { COOKIE })
        .with_secure(config.secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        // Every answer renews the cookie, so the idle timeout counts from the last click.
        .with_always_save(true);
    let rules = SessionRules {
        lifetime: config.lifetime,
        revocations: config.revocations.clone(),
    };
    router
        .layer(axum::middleware::from_fn(pages_need_sign_in))
        .layer(axum::middleware::from_fn(move |r, n| {
            session_rules(rules.clone(), r, n)
        }))
        .layer(tower::layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        .layer(CookieSessionManagerLayer::private(config.key.clone()).with_config(cookie))
        .layer(tower_cookies::CookieManagerLayer::new())
}

/// What every signed-in request is held to.
#[derive(Clone)]
struct SessionRules {
    lifetime: Duration,
    revocations: super::revocations::RevocationList,
}

/// Marks a session just signed in: a fresh id and its beginning (a session signed in
/// over another never inherits the other's).
pub async fn mark_new_session(auth: &AuthSession<Backend>) {
    let id = format!("{:032x}", rand::random::<u128>());
    let _ = auth.session.insert(SESSION_ID, id).await;
    let _ = auth
        .session
        .insert(SIGNED_IN_AT, chrono::Utc::now().timestamp())
        .await;
}

/// A session's id and when it began (seconds since 1970), once its first request after
/// sign-in has marked them.
pub async fn session_marks(auth: &AuthSession<Backend>) -> Option<(String, i64)> {
    let id = auth
        .session
        .get::<String>(SESSION_ID)
        .await
        .ok()
        .flatten()?;
    let began = auth.session.get::<i64>(SIGNED_IN_AT).await.ok().flatten()?;
    Some((id, began))
}

/// Why a signed-in session may not go on, if it may not: past its lifetime, ended (by its
/// sign-out on any replica, or `user revoke`), or its roles could not be read again from
/// the identity provider.
pub async fn session_ended(
    auth: &mut AuthSession<Backend>,
    lifetime: Duration,
    revocations: &super::revocations::RevocationList,
) -> Option<&'static str> {
    let user = auth.user.clone()?;
    let now = chrono::Utc::now().timestamp();
    let Some((id, began)) = session_marks(auth).await else {
        // Signed in before sessions were marked: marked now.
        mark_new_session(auth).await;
        return None;
    };
    if now.saturating_sub(began) > lifetime.as_secs() as i64 {
        return Some("session lifetime reached");
    }
    if revocations
        .ends(&id, &[user.name.as_str(), user.person_id.as_str()], began)
        .await
    {
        return Some("session ended");
    }
    if super::oidc::roles_due(auth).await
        && let Err(e) = super::oidc::refresh_roles(auth).await
    {
        tracing::warn!(target: "audit", actor = ?user.name, error = %e, "roles could not be read again");
        return Some("roles could not be read again");
    }
    None
}

/// Holds every signed-in request to [`session_ended`]: an ended session is signed out
/// here, and the request goes on as nobody's.
async fn session_rules(rules: SessionRules, request: Request, next: Next) -> Response {
    let Some(mut auth) = request.extensions().get::<AuthSession<Backend>>().cloned() else {
        return next.run(request).await;
    };
    if auth.user.is_none() {
        return next.run(request).await;
    }
    let Some(why) = session_ended(&mut auth, rules.lifetime, &rules.revocations).await else {
        let mut request = request;
        request.extensions_mut().insert(auth);
        return next.run(request).await;
    };
    let who = auth
        .user
        .as_ref()
        .map(|u| u.name.clone())
        .unwrap_or_default();
    tracing::info!(target: "audit", actor = ?who, action = "sign-out", outcome = why);
    let _ = auth.logout().await;
    let mut request = request;
    request.extensions_mut().insert(auth);
    next.run(request).await
}

/// Pages answer a visitor who is not signed in with the sign-in page (303, coming back
/// afterwards). Server functions and the live stream refuse on their own (401).
pub async fn pages_need_sign_in(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let open = path == "/login"
        || path.starts_with("/auth/")
        || path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || matches!(
            path,
            "/healthz" | "/readyz" | "/metrics" | "/robots.txt" | "/favicon.ico"
        );
    let signed_in = request
        .extensions()
        .get::<AuthSession<Backend>>()
        .is_some_and(|a| a.user.is_some());
    if open || signed_in || request.method() != axum::http::Method::GET {
        return next.run(request).await;
    }
    let back = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let encoded: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    Redirect::to(&format!("/login?next={encoded}")).into_response()
}
