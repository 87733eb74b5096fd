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
/// Where the session records when it began.
const SIGNED_IN_AT: &str = "signed_in_at";

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// Encrypts and signs the session cookie; every replica needs the same one.
    pub key: Key,
    pub idle: Duration,
    pub lifetime: Duration,
    /// Served over TLS: `Secure` and `__Host-` cookies.
    pub secure: bool,
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
            std::fs::write(path, text).map_err(file)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(file)?;
            }
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
    let lifetime = config.lifetime;
    router
        .layer(axum::middleware::from_fn(pages_need_sign_in))
        .layer(axum::middleware::from_fn(move |r, n| {
            within_lifetime(lifetime, r, n)
        }))
        .layer(tower::layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        .layer(CookieSessionManagerLayer::private(config.key.clone()).with_config(cookie))
        .layer(tower_cookies::CookieManagerLayer::new())
}

/// Records when a session began; ends one older than `lifetime`, however busy.
async fn within_lifetime(lifetime: Duration, request: Request, next: Next) -> Response {
    if let Some(mut auth) = request.extensions().get::<AuthSession<Backend>>().cloned()
        && auth.user.is_some()
    {
        let now = chrono::Utc::now().timestamp();
        let began = auth.session.get::<i64>(SIGNED_IN_AT).await.ok().flatten();
        match began {
            None => {
                let _ = auth.session.insert(SIGNED_IN_AT, now).await;
            }
            Some(t) if now.saturating_sub(t) > lifetime.as_secs() as i64 => {
                let who = auth
                    .user
                    .as_ref()
                    .map(|u| u.name.clone())
                    .unwrap_or_default();
                tracing::info!(target: "audit", actor = %who, action = "sign-out", outcome = "session lifetime reached");
                let _ = auth.logout().await;
                let mut request = request;
                request.extensions_mut().insert(auth);
                return next.run(request).await;
            }
            Some(_) => {}
        }
    }
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
