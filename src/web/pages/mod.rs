//! The dashboard's pages, one file each, with the server functions they call.

pub mod audit;
pub mod contracts;
pub mod dropped_orders;
pub mod find_order;
pub mod live_flow;
pub mod manual_queue;
pub mod order;
pub mod stale_orders;
pub mod statements;

use leptos::prelude::*;

use super::{auth::SessionInfo, error::AppError};
use crate::domain::access::Action;

/// Who the page is for: read once on the server as the page renders, and shared with
/// every part that depends on it (the nav's links, the badge, the controls a role may
/// use). Reading it costs no I/O (the session came with the request), so it is a plain
/// value: no resource for each part to await in its own `Suspense`, as there was. Every
/// page is a full load (only islands run in the browser, and they get what they need of
/// it as props), so it is never stale.
#[derive(Clone, Debug, Default)]
pub struct PageSession {
    pub info: SessionInfo,
}

impl PageSession {
    /// This request's session; nobody's outside a request (when Leptos lists the routes
    /// at start, and in the browser, which renders islands only, from their props).
    pub fn of_this_request() -> PageSession {
        #[cfg(feature = "ssr")]
        let info = crate::web::auth::request_session()
            .map(crate::web::auth::session_info_of)
            .unwrap_or_default();
        #[cfg(not(feature = "ssr"))]
        let info = SessionInfo::default();
        PageSession { info }
    }

    /// Whether the page's person may do `action`.
    pub fn may(&self, action: Action) -> bool {
        self.info.who.as_ref().is_some_and(|w| w.may(action))
    }
}

/// The page's session, as the shell provided it.
pub fn page_session() -> PageSession {
    use_context::<PageSession>().unwrap_or_default()
}

/// Shows `children` only to a person whose roles allow `action`. The server refuses the
/// action anyway; this only keeps the page from offering it.
#[component]
pub fn IfAllowed(action: Action, children: ChildrenFn) -> impl IntoView {
    page_session().may(action).then(|| children())
}

/// A moment as people read it, as the queue's ages do: "12 min ago" or "in 3 d 4 h"
/// against `now` (the server's time of the answer), the exact time on hover. Without a
/// `now`, the time itself, to the minute, in UTC.
#[component]
pub fn When(at: String, #[prop(optional, into)] now: String) -> impl IntoView {
    use crate::domain::format::{epoch_secs, readable};
    let text = match (epoch_secs(&now), epoch_secs(&at)) {
        (Some(n), Some(a)) if a > n => format!("in {}", readable(a - n)),
        (Some(n), Some(a)) => format!("{} ago", readable(n - a)),
        _ => match at.get(..16) {
            Some(minute) if epoch_secs(&at).is_some() => {
                format!("{} UTC", minute.replacen('T', " ", 1))
            }
            _ => at.clone(),
        },
    };
    view! { <Moment at text /> }
}

/// A moment: `text` in a `<time>`, its UTC time on hover. [`LocalTimes`] puts the
/// viewer's own zone in the hover once the page is live.
#[component]
pub fn Moment(at: String, text: String) -> impl IntoView {
    let utc = at.replacen('T', " ", 1).replace('Z', " UTC");
    view! { <time datetime=at title=utc>{text}</time> }
}

/// Once the page is live, every `<time datetime>` on it says on hover when it is in the
/// viewer's own locale and time zone (the browser knows them; the server does not), and is
/// marked `data-local="yes"`. One island for the whole page, not one per time.
#[island]
pub fn LocalTimes() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| local_times());
}

#[cfg(feature = "hydrate")]
fn local_times() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(times) = document.query_selector_all("time[datetime]:not([data-local])") else {
        return;
    };
    for i in 0..times.length() {
        let Some(time) = times
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        let Some(local) = time
            .get_attribute("datetime")
            .and_then(|at| local_time(&at))
        else {
            continue;
        };
        let _ = time.set_attribute("title", &local);
        let _ = time.set_attribute("data-local", "yes");
    }
}

/// `30 Nov 2026, 10:04:17 EST`: the viewer's locale and time zone, from the browser.
#[cfg(feature = "hydrate")]
fn local_time(at: &str) -> Option<String> {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(at));
    if date.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
    js_sys::Reflect::set(&options, &"timeStyle".into(), &"long".into()).ok()?;
    Some(date.to_locale_string("default", &options).into())
}

/// The page's keys, shown on it, and their handler (an island: in the browser only, marked
/// `data-ready="yes"` once it listens). `j`/`k` (or the arrow keys) move between the rows'
/// links, Enter opens one; an element marked `data-key="c"` is clicked (a button or link)
/// or focused (a field) by its key, the one in the selected row before any other. Keys are
/// ignored while typing in a field or with a modifier held.
#[island]
pub fn Keys(#[prop(into)] help: String) -> impl IntoView {
    let ready = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        keyboard::install();
        ready.set(true);
    });
    view! {
        <p class="text-xs text-slate-500 mb-2" data-testid="keys" data-ready=move || ready.get().then_some("yes")>
            <span class="font-semibold">"Keys: "</span>
            {help}
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod keyboard {
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{HtmlElement, KeyboardEvent};

    fn typing(event: &KeyboardEvent) -> bool {
        let tag = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|e| e.tag_name().to_lowercase())
            .unwrap_or_default();
        matches!(tag.as_str(), "input" | "textarea" | "select")
            || event.ctrl_key()
            || event.meta_key()
            || event.alt_key()
    }

    /// Moves focus `step` rows (the links of `[data-row]` elements) from the focused one.
    fn move_rows(document: &web_sys::Document, step: i32) {
        let Ok(links) = document.query_selector_all("[data-row] a") else {
            return;
        };
        let links: Vec<HtmlElement> = (0..links.length())
            .filter_map(|i| links.item(i)?.dyn_into::<HtmlElement>().ok())
            .collect();
        if links.is_empty() {
            return;
        }
        let active = document.active_element();
        let at = links.iter().position(|l| {
            active
                .as_ref()
                .is_some_and(|a| a == l.as_ref() as &web_sys::Element)
        });
        let next = match at {
            Some(i) => (i as i32 + step).clamp(0, links.len() as i32 - 1) as usize,
            None => 0,
        };
        let _ = links[next].focus();
    }

    pub fn install() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let handler = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
            if typing(&event) {
                return;
            }
            let Some(document) = web_sys::window().and_then(|w| w.document()) else {
                return;
            };
            let key = event.key();
            match key.as_str() {
                "j" | "ArrowDown" => move_rows(&document, 1),
                "k" | "ArrowUp" => move_rows(&document, -1),
                other if other.chars().count() == 1 => {
                    let selector = format!("[data-key=\"{other}\"]");
                    // The selected row's own control first (retry now on that order),
                    // then the page's.
                    let in_row = document
                        .active_element()
                        .and_then(|a| a.closest("[data-row]").ok().flatten())
                        .and_then(|row| row.query_selector(&selector).ok().flatten());
                    let Some(target) =
                        in_row.or_else(|| document.query_selector(&selector).ok().flatten())
                    else {
                        return;
                    };
                    let Ok(target) = target.dyn_into::<HtmlElement>() else {
                        return;
                    };
                    match target.tag_name().to_lowercase().as_str() {
                        "input" | "select" | "textarea" => {
                            let _ = target.focus();
                        }
                        _ => target.click(),
                    }
                }
                _ => return,
            }
            event.prevent_default();
        });
        let _ =
            window.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
        let handler = send_wrapper::SendWrapper::new(handler);
        let window = send_wrapper::SendWrapper::new(window);
        leptos::prelude::on_cleanup(move || {
            let _ = window
                .remove_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
        });
    }
}

/// A failed load: says what went wrong instead of a blank page.
#[component]
pub fn ErrorBanner(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let text = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, e)| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    };
    view! {
        <div
            role="alert"
            class="border border-red-300 bg-red-50 text-red-800 p-3 rounded my-2"
            data-testid="error-banner"
        >
            <strong>"Could not load this page: "</strong>
            {text}
        </div>
    }
}

/// A page that shows a banner answers with the status of what it could not load, the
/// highest if several (422 for a filter it cannot read, 403, 404 for an order that does
/// not exist, 503 with Temporal away), as a server function's own answer would. Its data
/// comes from calling those functions in the page, where their own answer's status is
/// not set.
#[cfg(feature = "ssr")]
fn answer_with_status_of(errors: &ArcRwSignal<Errors>) {
    let errors = errors.read_untracked();
    let worst = errors
        .iter()
        .filter_map(|(_, error)| (***error).downcast_ref::<AppError>())
        .max_by_key(|error| error.status());
    if let Some(error) = worst {
        error.set_answer_status();
    }
}

/// A page's data while Temporal answers, and its banner if it does not.
#[component]
pub fn Loading(what: &'static str, children: Children) -> impl IntoView {
    view! {
        <Suspense fallback=move || view! { <p role="status">{format!("Loading {what} from Temporal…")}</p> }>
            <ErrorBoundary fallback=|errors| {
                #[cfg(feature = "ssr")]
                answer_with_status_of(&errors);
                view! { <ErrorBanner errors /> }
            }>
                {children()}
            </ErrorBoundary>
        </Suspense>
    }
}

/// A list's filter form: a GET, so the filter is in the address and works without WASM.
#[component]
pub fn FilterForm(action: &'static str, label: &'static str, children: Children) -> impl IntoView {
    view! {
        <form method="get" action=action class="flex flex-wrap gap-2 mb-3 items-end" aria-label=label>
            {children()}
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white">
                "Filter"
            </button>
        </form>
    }
}

/// One text field of a filter form, showing the filter's current value.
#[component]
pub fn FilterField(
    label: &'static str,
    name: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    view! {
        <label class="flex flex-col text-sm">
            {label}
            <input name=name value=value placeholder=placeholder class="border rounded px-2 py-1" />
        </label>
    }
}

/// The last failure of an action, shown as it is (a validator's message, say).
pub fn action_error<S, T>(value: S) -> impl IntoView
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            view! {
                <p
                    role="alert"
                    class="text-red-700 bg-red-50 border border-red-200 rounded p-2 my-2"
                    data-testid="action-error"
                >
                    {e.to_string()}
                </p>
            }
        })
    }
}

/// For a form island's `data-live`: `"yes"` once the island runs in the browser. Until then
/// its form posts as a plain form (and a refusal comes back in the address, with what was
/// typed gone); the end-to-end tests wait for it before typing a refusal they expect kept.
pub fn live_marker() -> impl Fn() -> Option<&'static str> + Copy + Send + Sync + 'static {
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    move || live.get().then_some("yes")
}

/// After a server function succeeds: the page the browser loads next, `prefix` then the
/// thing's id (encoded). A plain form post is redirected there; a form island's post asks
/// the browser to go there (the redirect hook in `hydrate`).
#[cfg(feature = "ssr")]
pub fn show_next(prefix: &str, id: &str) {
    let id = crate::domain::format::url_component(id);
    leptos_axum::redirect(&format!("{prefix}{id}"));
}

/// The last failure of a form island's own action, once it posted from the browser. A
/// plain post's failure (before the page was live, or without JavaScript) comes back in the
/// page's address and is shown by the page itself, outside the island, so the island
/// renders the same on the server as in the browser.
pub fn own_error<S>(action: ServerAction<S>) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    action_error(Signal::derive(move || {
        (action.version().get() > 0)
            .then(|| action.value().get())
            .flatten()
    }))
}

/// A value, or a dash when there is none.
pub fn or_dash(value: impl Into<Option<String>>) -> String {
    value
        .into()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "—".into())
}
