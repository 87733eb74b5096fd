//! The dashboard's pages, one file each, with the server functions they call.

pub mod contracts;
pub mod live_flow;
pub mod manual_queue;
pub mod operator;
pub mod order_lane;
pub mod stale_orders;

use leptos::prelude::*;

/// A failed load: says what Temporal said instead of a blank page.
#[component]
pub fn ErrorBanner(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div role="alert" class="border border-red-300 bg-red-50 text-red-800 p-3 rounded my-2" data-testid="error-banner">
            <strong>"Could not load this page. "</strong>
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|(_, e)| {
                        let text = e.to_string();
                        text.strip_prefix("error running server function: ")
                            .unwrap_or(&text)
                            .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }}
        </div>
    }
}

/// The words of a server function's error, without the framework's prefix.
pub fn error_text(e: &ServerFnError) -> String {
    let text = e.to_string();
    text.strip_prefix("error running server function: ")
        .unwrap_or(&text)
        .to_string()
}

/// The last failure of an action, shown as it is (a validator's message, say).
pub fn action_error<S, T>(value: S) -> impl IntoView
where
    S: Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            view! {
                <p role="alert" class="text-red-700 bg-red-50 border border-red-200 rounded p-2 my-2" data-testid="action-error">
                    {error_text(&e)}
                </p>
            }
        })
    }
}

/// `3d 4h`, `12m`, `40s`: how long something has waited.
pub fn waited(secs: i64) -> String {
    let secs = secs.max(0);
    let (big, small) = match secs {
        s if s >= 86_400 => ((s / 86_400, "d"), ((s % 86_400) / 3_600, "h")),
        s if s >= 3_600 => ((s / 3_600, "h"), ((s % 3_600) / 60, "m")),
        s if s >= 60 => ((s / 60, "m"), (0, "")),
        s => ((s, "s"), (0, "")),
    };
    if small.0 == 0 {
        format!("{}{}", big.0, big.1)
    } else {
        format!("{}{} {}{}", big.0, big.1, small.0, small.1)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn waiting_times_read_at_a_glance() {
        assert_eq!(super::waited(42), "42s");
        assert_eq!(super::waited(125), "2m");
        assert_eq!(super::waited(3 * 3_600 + 120), "3h 2m");
        assert_eq!(super::waited(2 * 86_400 + 5 * 3_600), "2d 5h");
        assert_eq!(super::waited(30 * 86_400), "30d");
    }
}
