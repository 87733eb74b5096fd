//! The sign-in page, the badge at the top of every page, and their server functions.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    domain::access::SignedIn, domain::input::MAX_CODE_LEN, web::error::AppError,
    web::pages::action_error,
};

/// Who is signed in on this browser, and how people sign in here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub who: Option<SignedIn>,
    /// `none` mode: a typed name, no password.
    pub names_only: bool,
    /// `oidc` mode: people sign in at the company's identity provider.
    #[serde(default)]
    pub single_sign_on: bool,
}

#[server]
pub async fn me() -> Result<SessionInfo, AppError> {
    Ok(session_info_of(super::session()?))
}

/// A session as [`me`] answers it: no I/O, so a page reads it as it renders.
#[cfg(feature = "ssr")]
pub fn session_info_of(auth: axum_login::AuthSession<super::Backend>) -> SessionInfo {
    SessionInfo {
        who: auth.user.map(|u| u.signed_in()),
        names_only: matches!(auth.backend.mode, super::AuthMode::None),
        single_sign_on: matches!(auth.backend.mode, super::AuthMode::Oidc(_)),
    }
}

/// Where to go after sign-in: `next` only if it is a path of this site however a browser
/// reads it, else `/`. A browser drops tabs and line breaks from a URL and reads `\` as
/// `/`, so `/\t/evil.example` and `/\\evil.example` are `//evil.example`, another site;
/// `%2F` and `%5C` may be decoded along the way too. So: a `/`, then only printable
/// ASCII without a space or backslash, no second `/` at the start, no encoded slash,
/// backslash or control character anywhere.
pub fn local_path(next: &str) -> &str {
    let printable = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let lower = next.to_ascii_lowercase();
    let encoded_danger = ["%2f", "%5c", "%09", "%0a", "%0d", "%00", "%25"]
        .iter()
        .any(|e| lower.contains(e));
    let ok = printable
        && next.starts_with('/')
        && !next.starts_with("//")
        && !encoded_danger
        && next.len() <= MAX_NEXT_LEN;
    if ok { next } else { "/" }
}

/// The longest `next` kept: a page address with its filters.
const MAX_NEXT_LEN: usize = 2_000;

#[server]
pub async fn sign_in(
    name: String,
    #[server(default)] password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use super::{AuthMode, Credentials};
    let mut auth = super::session()?;
    let origin = super::origin();
    let name = name.trim().to_string();
    crate::domain::access::validate_person(&name)?;
    let address = leptos::prelude::use_context::<axum::http::request::Parts>()
        .map(|p| super::address_of(&p))
        .unwrap_or_default();
    let throttle = crate::web::state::app_state()?.auth.throttle.clone();
    if let Err(which) = throttle.admit(&name, &address) {
        tracing::warn!(target: "audit", actor = ?name, action = "sign-in", origin = ?origin, outcome = "refused", reason = "throttled", per = which);
        return Err(AppError::TooMany(
            "too many sign-ins were tried: wait a minute and try again".into(),
        ));
    }
    let credentials = match auth.backend.mode {
        AuthMode::None => Credentials::Typed { name: name.clone() },
        AuthMode::Local { .. } => Credentials::Password {
            name: name.clone(),
            password,
        },
        AuthMode::Oidc(_) => {
            return Err(AppError::Refused(
                "this console signs people in with single sign-on: use that button".into(),
            ));
        }
    };
    let user = auth.authenticate(credentials).await.map_err(|e| {
        tracing::error!(error = %e, "sign-in could not check the accounts");
        AppError::bug("the accounts could not be read")
    })?;
    let Some(user) = user else {
        throttle.failed(&name);
        tracing::warn!(target: "audit", actor = ?name, action = "sign-in", origin = ?origin, outcome = "refused", reason = "wrong name or password");
        return Err(AppError::Refused(
            "that name and password do not match an account".into(),
        ));
    };
    auth.login(&user).await.map_err(|e| {
        tracing::error!(error = %e, "the session could not be written");
        AppError::bug("the session could not be started")
    })?;
    super::mark_new_session(&auth).await;
    tracing::info!(target: "audit", actor = ?user.name, action = "sign-in", origin = ?origin, outcome = "ok");
    // Checked above: printable ASCII only, so the header value cannot be refused.
    leptos_axum::redirect(local_path(&next));
    Ok(())
}

/// Signs out: the cookie is cleared, and the session is ended in Temporal's list, so a
/// copy of the cookie is refused on every replica too (within the list's refresh).
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    let mut auth = super::session()?;
    let state = crate::web::state::app_state()?;
    if let (Some(user), Some((id, began))) = (auth.user.clone(), super::session_marks(&auth).await)
    {
        let until = began.saturating_add(state.auth.lifetime.as_secs() as i64);
        match crate::operations::sessions::end_session(&state.client, &id, until, &user.name).await
        {
            Ok(()) => {
                let ended = crate::workflows::console_sessions::Revocations {
                    sessions: vec![crate::workflows::console_sessions::EndedSession {
                        session: id,
                        until,
                        by: user.name.clone(),
                    }],
                    ..Default::default()
                };
                state.auth.revocations.note(ended).await;
            }
            Err(e) => {
                tracing::warn!(target: "audit", actor = ?user.name, error = %e, "sign-out not recorded: a copy of the cookie works until it expires");
            }
        }
    }
    if let Ok(Some(user)) = auth.logout().await {
        tracing::info!(target: "audit", actor = ?user.name, action = "sign-out", origin = ?super::origin(), outcome = "ok");
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// `/login`: name and password (or only a name in `none` mode).
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let info = crate::web::pages::page_session().info;
    let next = use_query_map()
        .read()
        .get("next")
        .unwrap_or_else(|| "/".into());
    view! {
        <h1 class="text-2xl font-bold mb-3">"Sign in"</h1>
        {match info.single_sign_on {
            true => view! { <SingleSignOn next /> }.into_any(),
            false => view! { <SignInForm action names_only=info.names_only next /> }.into_any(),
        }}
        {action_error(action.value())}
    }
}

/// `oidc` mode: one button to the company's identity provider (a plain link: it works
/// without JavaScript).
#[component]
fn SingleSignOn(next: String) -> impl IntoView {
    let encoded = crate::domain::format::url_component(&next);
    view! {
        <a href=format!("/auth/oidc?next={encoded}") rel="external" class="inline-block px-3 py-1 rounded bg-blue-700 text-white">
            "Sign in with single sign-on"
        </a>
    }
}

#[component]
fn SignInForm(action: ServerAction<SignIn>, names_only: bool, next: String) -> impl IntoView {
    view! {
        <ActionForm action attr:class="flex flex-col gap-2 max-w-sm" attr:aria-label="Sign in">
            <input type="hidden" name="next" value=next />
            <label for="sign-in-name">"Name"</label>
            <input id="sign-in-name" name="name" required maxlength=MAX_CODE_LEN autocomplete="username" class="px-2 py-1 border rounded" />
            {(!names_only).then(|| view! {
                <label for="sign-in-password">"Password"</label>
                <input id="sign-in-password" name="password" type="password" required autocomplete="current-password" class="px-2 py-1 border rounded" />
            })}
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white">"Sign in"</button>
        </ActionForm>
        {names_only.then(|| view! {
            <p class="text-sm text-slate-600 mt-2">"Nobody is verified here: this console runs with auth.mode = \"none\" (loopback only)."</p>
        })}
    }
}

/// The top right of every page: who is signed in, their roles, and sign-out.
#[component]
pub fn SignedInBadge() -> impl IntoView {
    let out = ServerAction::<SignOut>::new();
    crate::web::pages::page_session()
        .info
        .who
        .map(|who| view! { <Badge who out /> })
}

#[component]
fn Badge(who: SignedIn, out: ServerAction<SignOut>) -> impl IntoView {
    let roles = who
        .roles
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <div class="flex gap-2 items-center text-sm ml-auto" data-testid="signed-in">
            <span>{who.name.clone()}</span>
            <span class="text-slate-400">{roles}</span>
            <ActionForm action=out>
                <button type="submit" class="px-2 py-1 rounded bg-slate-700 hover:bg-slate-600">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

/// Says on every page when nobody's identity is checked (`none` mode).
#[component]
pub fn UnverifiedBanner() -> impl IntoView {
    crate::web::pages::page_session().info.names_only.then(|| view! {
        <p role="status" class="bg-red-100 text-red-900 text-sm px-4 py-1" data-testid="nobody-signed-in">
            "Nobody is signed in: names are typed, not checked (auth.mode = \"none\", loopback only). Do not settle real money here."
        </p>
    })
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        for (next, expected) in [
            ("/stale?provider=bank-a", "/stale?provider=bank-a"),
            ("/orders/ORD-1", "/orders/ORD-1"),
            ("/", "/"),
        ] {
            assert_eq!(local_path(next), expected, "{next:?}");
        }
        // Known open-redirect payloads: each must land on this site's front page.
        for payload in [
            "//evil.example",
            "///evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "http:evil.example",
            "evil.example",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/\r\n/x",
            "/%0D%0ALocation:%20http://evil.example",
            "/\u{0}x",
            "/ evil",
            "/%252F%252Fevil.example",
            "/é",
            "",
        ] {
            assert_eq!(local_path(payload), "/", "{payload:?} must not be followed");
        }
    }
}
