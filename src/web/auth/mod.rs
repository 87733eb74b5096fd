//! Who is at the keyboard, and whether their role allows what they ask. Sign-in modes:
//! `local` (an accounts file), `oidc` (the company's identity provider), `none` (a typed
//! name, loopback only); sessions live in a
//! signed, encrypted cookie (`tower-sessions-cookie-store`, `private`), so replicas share
//! nothing but the key; `axum-login` keeps the signed-in person on every request.
//!
//! Every server function starts with [`require`]: it names the person from the session
//! (never from the request's fields) and refuses what their roles do not allow. Refusals
//! are logged under the `audit` target, since Temporal keeps no record of a request it
//! never received.

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
mod backend;
#[cfg(feature = "ssr")]
mod layer;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
pub mod revocations;
mod sign_in;
#[cfg(feature = "ssr")]
pub mod throttle;

#[cfg(feature = "ssr")]
pub use backend::{AuthMode, Backend, Credentials, Operator};
#[cfg(feature = "ssr")]
pub use layer::{
    AuthConfig, DEFAULT_IDLE_MINUTES, DEFAULT_LIFETIME_HOURS, SessionKeyError, auth_layers,
    load_or_create_key, mark_new_session, pages_need_sign_in, parse_key, session_ended,
    session_marks,
};
#[cfg(feature = "ssr")]
pub use sign_in::session_info_of;
pub use sign_in::{
    Me, SessionInfo, SignIn, SignInPage, SignOut, SignedInBadge, UnverifiedBanner, local_path, me,
};

#[cfg(feature = "ssr")]
use super::error::AppError;
#[cfg(feature = "ssr")]
use crate::domain::access::{Action, SignedIn, allows};

/// The session of this request (set by the auth layer), from inside a server function.
#[cfg(feature = "ssr")]
pub fn session() -> Result<axum_login::AuthSession<Backend>, AppError> {
    request_session().ok_or_else(|| AppError::bug("the request has no session layer"))
}

/// The session of this request, if it came through the session layer: not when Leptos
/// renders the app to list its routes at start.
#[cfg(feature = "ssr")]
pub fn request_session() -> Option<axum_login::AuthSession<Backend>> {
    leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|p| {
        p.extensions
            .get::<axum_login::AuthSession<Backend>>()
            .cloned()
    })
}

/// The person asking, if their roles allow `action`; otherwise a refusal (401 when nobody
/// is signed in, 403 when their role does not allow it), logged under `audit`.
#[cfg(feature = "ssr")]
pub fn require(action: Action) -> Result<SignedIn, AppError> {
    let who = session()?.user.map(|u| u.signed_in());
    check(who, action, &origin())
}

/// [`require`] on a person already known (the live stream's handler).
#[cfg(feature = "ssr")]
pub fn check(who: Option<SignedIn>, action: Action, origin: &str) -> Result<SignedIn, AppError> {
    match who {
        None => {
            tracing::warn!(target: "audit", actor = "", action = ?action, origin = ?origin, outcome = "refused", reason = "not signed in");
            Err(AppError::SignedOut)
        }
        Some(person) if !allows(&person.roles, action) => {
            tracing::warn!(target: "audit", actor = ?person.name, action = ?action, origin = ?origin, outcome = "refused", reason = "role");
            Err(AppError::Forbidden(format!(
                "your role does not allow you to {}",
                action.describe()
            )))
        }
        Some(person) => Ok(person),
    }
}

/// Where the request came from, for the audit log: the peer's address, the proxy's
/// `X-Forwarded-For` when there is one, and the request id.
#[cfg(feature = "ssr")]
pub fn origin() -> String {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .map(|p| origin_of(&p))
        .unwrap_or_default()
}

/// The address a request came from: the proxy's first `X-Forwarded-For` entry when the
/// peer is loopback (a proxy on the same host), else the peer's own.
#[cfg(feature = "ssr")]
pub fn address_of(p: &axum::http::request::Parts) -> String {
    use axum::extract::ConnectInfo;
    let peer = p
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = p
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    match (peer, forwarded) {
        (Some(ip), Some(f)) if ip.is_loopback() => f,
        (Some(ip), _) => ip.to_string(),
        (None, f) => f.unwrap_or_default(),
    }
}

#[cfg(feature = "ssr")]
pub fn origin_of(p: &axum::http::request::Parts) -> String {
    use axum::extract::ConnectInfo;
    let header = |name: &str| {
        p.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let peer = p
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let forwarded = header("x-forwarded-for");
    let via = match forwarded.is_empty() {
        true => peer,
        false => format!("{forwarded} via {peer}"),
    };
    format!("{via} (request {})", header("x-request-id"))
}
