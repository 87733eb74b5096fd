//! Who is at the keyboard. Until real sign-in exists, a name the operator types, kept in
//! a cookie. Everything asks [`current_operator`], so sign-in replaces only this file.

use leptos::prelude::*;

use super::{error::AppError, pages::action_error};
use crate::orders::MAX_CODE_LEN;

pub const COOKIE: &str = "tp_operator";
/// How long the name is remembered: 30 days.
#[cfg(feature = "ssr")]
const COOKIE_MAX_AGE_SECS: u32 = 30 * 86_400;

/// The operator of the current request, if they have said who they are.
#[cfg(feature = "ssr")]
pub fn current_operator() -> Option<String> {
    let parts = use_context::<axum::http::request::Parts>()?;
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| {
            form_urlencoded::parse(format!("n={value}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        })
        .filter(|name| crate::orders::validate_operator(name).is_ok())
}

/// The operator, or an error that tells them to give their name first.
#[cfg(feature = "ssr")]
pub fn require_operator() -> Result<String, AppError> {
    current_operator().ok_or_else(|| {
        AppError::Refused("say who you are first: enter your name at the top of the page".into())
    })
}

#[server]
pub async fn whoami() -> Result<Option<String>, AppError> {
    Ok(current_operator())
}

#[server]
pub async fn set_operator(name: String) -> Result<(), AppError> {
    let name = name.trim().to_string();
    crate::orders::validate_operator(&name)?;
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let response = use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| AppError::Internal("the request has no response to set".into()))?;
    let cookie = format!(
        "{COOKIE}={encoded}; Path=/; SameSite=Lax; HttpOnly; Max-Age={COOKIE_MAX_AGE_SECS}"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
    Ok(())
}

/// The name field at the top of every page.
#[component]
pub fn OperatorBadge() -> impl IntoView {
    let set = ServerAction::<SetOperator>::new();
    let who = Resource::new(move || set.version().get(), |_| whoami());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let current = who.await.ok().flatten();
                view! { <OperatorForm set current /> }
            })}
        </Suspense>
        {action_error(set.value())}
    }
}

#[component]
fn OperatorForm(set: ServerAction<SetOperator>, current: Option<String>) -> impl IntoView {
    let label = if current.is_some() { "Change" } else { "Save" };
    view! {
        <ActionForm action=set attr:class="flex gap-2 items-center text-sm ml-auto">
            <label for="operator-name" class="text-slate-300">
                "You are"
            </label>
            <input
                id="operator-name"
                name="name"
                required
                maxlength=MAX_CODE_LEN
                value=current.unwrap_or_default()
                placeholder="your name"
                class="px-2 py-1 rounded bg-white text-slate-900 w-36"
            />
            <button type="submit" class="px-2 py-1 rounded bg-slate-700 hover:bg-slate-600">
                {label}
            </button>
        </ActionForm>
    }
}
