//! Stale orders: waiting on their delayed retry, with a countdown; retry now for one, or
//! for a filtered set after saying how many it will touch.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{
    FilterField, FilterForm, IfAllowed, Keys, Loading, action_error, or_dash, order::RetryStale,
};
use crate::{
    domain::access::Action,
    domain::format::waited,
    domain::listing::{StaleFilter, StalePage, StaleRow},
    web::error::AppError,
};

#[server]
pub async fn stale_orders(
    provider: String,
    reason: String,
    page: Option<String>,
) -> Result<StalePage, AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    let filter = StaleFilter { provider, reason };
    Ok(crate::operations::queues::stale_orders(&state.client, &filter, page).await?)
}

#[server]
pub async fn retry_stale_set(
    provider: String,
    reason: String,
    expected: usize,
) -> Result<usize, AppError> {
    let operator = crate::web::auth::require(crate::domain::access::Action::RetryNow)?.name;
    let state = crate::web::state::app_state()?;
    let filter = StaleFilter { provider, reason };
    let client = &state.client;
    let retried =
        crate::operations::queues::retry_matching(client, &filter, expected, &operator).await?;
    // Back to the list, saying how many (the form posts as a plain form).
    leptos_axum::redirect(&format!("{}&retried={retried}", filter.link()));
    Ok(retried)
}

/// "in 59 min", counting down in the browser each second from the server's figure (which
/// stands without JavaScript).
#[island(lazy)]
fn Countdown(secs: i64) -> impl IntoView {
    let tick = RwSignal::new(0i64);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    move || match secs - tick.get() {
        left if left > 0 => format!("in {}", waited(left)),
        _ => "due".to_string(),
    }
}

#[component]
pub fn StaleOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || StaleFilter {
        provider: query.read().get("provider").unwrap_or_default(),
        reason: query.read().get("reason").unwrap_or_default(),
    };
    let page = move || query.read().get("page");
    let confirm = move || query.read().get("confirm").is_some();
    // The count the bulk retry answered with (a number, else nothing: the address is only
    // a way back here; what was retried is in the audit trail).
    let retried = move || query.read().get("retried")?.parse::<usize>().ok();
    let retry_one = ServerAction::<RetryStale>::new();
    let retry_set = ServerAction::<RetryStaleSet>::new();
    let data = Resource::new(
        move || (filter(), page()),
        |(f, page)| stale_orders(f.provider, f.reason, page),
    );
    view! {
        <h1 class="text-2xl font-bold mb-3">"Stale orders"</h1>
        <Keys help="j / k or ↓ / ↑ move between orders · Enter opens one · t retries the selected order now · / find an order" />
        <StaleFilterForm filter=Signal::derive(filter) />
        {action_error(retry_one.value())}
        {action_error(retry_set.value())}
        {move || retried().map(|n| view! {
            <p role="status" class="text-green-800" data-testid="bulk-result">
                {format!("Retrying {n} orders now.")}
            </p>
        })}
        <Loading what="stale orders">
            {move || Suspend::new(async move {
                data.await.map(|d| view! {
                    <IfAllowed action=Action::RetryNow>
                        <BulkRetry filter=filter() matching=d.matching confirm=confirm() retry_set />
                    </IfAllowed>
                    <StaleTable rows=d.rows retry_one />
                })
            })}
        </Loading>
    }
}

#[component]
fn StaleFilterForm(filter: Signal<StaleFilter>) -> impl IntoView {
    view! {
        <FilterForm action="/stale" label="Filter stale orders">
            <FilterField label="Upstream" name="provider" value=Signal::derive(move || filter.get().provider) />
            <FilterField label="Error reason" name="reason" value=Signal::derive(move || filter.get().reason) />
        </FilterForm>
    }
}

/// "Retry all matching…", then the question with the number it will touch.
#[component]
fn BulkRetry(
    filter: StaleFilter,
    matching: usize,
    confirm: bool,
    retry_set: ServerAction<RetryStaleSet>,
) -> impl IntoView {
    let question = if matching == 0 {
        // Nothing to retry: no button that would touch nothing.
        ().into_any()
    } else if confirm {
        view! {
            <ActionForm action=retry_set attr:class="flex gap-2 items-center">
                <input type="hidden" name="provider" value=filter.provider.clone() />
                <input type="hidden" name="reason" value=filter.reason.clone() />
                <input type="hidden" name="expected" value=matching.to_string() />
                <span data-testid="bulk-confirm">{format!("This will retry {matching} orders now.")}</span>
                <button type="submit" class="px-3 py-1 rounded bg-amber-800 text-white">
                    "Yes, retry them"
                </button>
                <a href=filter.link() class="underline">"Cancel"</a>
            </ActionForm>
        }
        .into_any()
    } else {
        let ask = format!("{}&confirm=1", filter.link());
        view! { <a class="px-3 py-1 rounded border" href=ask>"Retry all matching…"</a> }.into_any()
    };
    view! {
        <div class="mb-3 flex gap-3 items-center">
            <span data-testid="stale-count">{matching} " waiting"</span>
            {question}
        </div>
    }
}

#[component]
fn StaleTable(rows: Vec<StaleRow>, retry_one: ServerAction<RetryStale>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p data-testid="stale-empty">"No order is waiting on its timer here."</p> }
            .into_any();
    }
    view! {
        <table class="w-full bg-white shadow rounded text-sm" data-testid="stale-orders">
            <thead class="text-left bg-slate-100">
                <tr>
                    <th class="p-2">"Order"</th>
                    <th class="p-2">"Upstream"</th>
                    <th class="p-2">"Next retry"</th>
                    <th class="p-2">"Attempts"</th>
                    <th class="p-2">"Last error"</th>
                    <th class="p-2"></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! { <StaleLine row retry_one /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn StaleLine(row: StaleRow, retry_one: ServerAction<RetryStale>) -> impl IntoView {
    let secs = row.retry_in_secs;
    let (id, link) = (row.order_id.clone(), format!("/orders/{}", row.order_id));
    let data_order = row.order_id.clone();
    view! {
        <tr class="border-t" data-order=data_order data-row="">
            <td class="p-2">
                <a class="underline text-blue-700" href=link>
                    {id}
                </a>
            </td>
            <td class="p-2">{row.provider}</td>
            <td class="p-2" title=row.retry_at><Countdown secs /></td>
            <td class="p-2" data-testid="attempts">{or_dash(row.attempts.map(|a| a.to_string()))}</td>
            <td class="p-2"><code>{row.error_reason}</code></td>
            <td class="p-2">
                <IfAllowed action=Action::RetryNow>
                    {
                        let id = row.order_id.clone();
                        view! {
                            <ActionForm action=retry_one>
                                <input type="hidden" name="order_id" value=id />
                                <button type="submit" data-key="t" class="px-2 py-1 rounded bg-amber-800 text-white">
                                    "Retry now"
                                </button>
                            </ActionForm>
                        }
                    }
                </IfAllowed>
            </td>
        </tr>
    }
}
