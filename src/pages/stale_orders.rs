//! Stale orders: waiting on their delayed retry, with a countdown; retry now for one, or
//! for a filtered set after saying how many it will touch.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{ErrorBanner, action_error, order_lane::RetryStale, waited};

/// Most orders one bulk retry touches.
pub const BULK_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleRow {
    pub order_id: String,
    pub provider: String,
    pub retry_at: String,
    /// Seconds until the retry when the page was made; negative once due.
    pub retry_in_secs: i64,
    pub error_reason: String,
    /// Upstream queries so far; unknown for orders handed off before it was recorded.
    pub attempts: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StalePage {
    pub rows: Vec<StaleRow>,
    pub matching: usize,
    pub next_page: Option<String>,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::temporal::{search_attributes as sa, visibility};

    pub fn query(provider: &str, reason: &str) -> Result<String, ServerFnError> {
        let ok = |v: &str| {
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && v.len() <= 64
        };
        if !ok(provider) || !ok(reason) {
            return Err(ServerFnError::new(
                "filters may only hold letters, digits, '-', '_' and '.'",
            ));
        }
        let mut q =
            "WorkflowType = 'StaleOrder' AND ExecutionStatus = 'Running' AND OrderStage = 'stale'"
                .to_string();
        if !provider.is_empty() {
            q += &format!(" AND {} = '{provider}'", sa::UPSTREAM_PROVIDER.name());
        }
        if !reason.is_empty() {
            q += &format!(" AND {} = '{reason}'", sa::ERROR_REASON.name());
        }
        Ok(q)
    }

    pub async fn load(
        provider: String,
        reason: String,
        page: Option<String>,
    ) -> Result<StalePage, ServerFnError> {
        let state = expect_context::<crate::server::AppState>();
        let q = query(&provider, &reason)?;
        let fail = |e: String| ServerFnError::new(format!("Temporal did not answer: {e}"));
        let listed = visibility::list_page(
            &state.client,
            &q,
            50,
            page.as_deref(),
            Some("StaleRetryAt ASC"),
        )
        .await
        .map_err(fail)?;
        let matching = visibility::count(&state.client, &q).await.map_err(fail)?;
        let now = std::time::SystemTime::now();
        let rows = listed
            .executions
            .into_iter()
            .map(|e| {
                let at = e
                    .attributes
                    .get(&sa::STALE_RETRY_AT)
                    .and_then(|t| std::time::SystemTime::try_from(t.to_prost()).ok());
                let retry_in_secs = at
                    .map(|t| match t.duration_since(now) {
                        Ok(d) => d.as_secs() as i64,
                        Err(e) => -(e.duration().as_secs() as i64),
                    })
                    .unwrap_or(0);
                StaleRow {
                    order_id: e.attributes.get(&sa::ORDER_ID).unwrap_or_default(),
                    provider: e.attributes.get(&sa::UPSTREAM_PROVIDER).unwrap_or_default(),
                    retry_at: at.map(crate::workflows::rfc3339).unwrap_or_default(),
                    retry_in_secs,
                    error_reason: e.attributes.get(&sa::ERROR_REASON).unwrap_or_default(),
                    attempts: e.attributes.get(&sa::UPSTREAM_ATTEMPTS),
                }
            })
            .collect();
        Ok(StalePage {
            rows,
            matching,
            next_page: listed.next_page,
        })
    }

    /// Retries every stale order matching the filter, if there are still `expected`.
    pub async fn bulk(
        provider: String,
        reason: String,
        expected: usize,
    ) -> Result<usize, ServerFnError> {
        let operator = super::super::operator::require_operator()?;
        let state = expect_context::<crate::server::AppState>();
        let q = query(&provider, &reason)?;
        let fail = |e: String| ServerFnError::new(format!("Temporal did not answer: {e}"));
        let matching = visibility::count(&state.client, &q).await.map_err(fail)?;
        if matching != expected {
            return Err(ServerFnError::new(format!(
                "the set changed: {matching} orders match now, not {expected}; look again before retrying"
            )));
        }
        if matching > BULK_LIMIT {
            return Err(ServerFnError::new(format!(
                "{matching} orders match: narrow the filter to at most {BULK_LIMIT}"
            )));
        }
        let mut touched = 0;
        let mut token: Option<String> = None;
        loop {
            let page = visibility::list_page(&state.client, &q, 100, token.as_deref(), None)
                .await
                .map_err(fail)?;
            for e in &page.executions {
                if let Some(order_id) = e.attributes.get(&sa::ORDER_ID)
                    && crate::temporal::orders::retry_now(&state.client, &order_id, &operator)
                        .await
                        .is_ok()
                {
                    touched += 1;
                }
            }
            match page.next_page {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(touched)
    }
}

#[server]
pub async fn stale_orders(
    provider: String,
    reason: String,
    page: Option<String>,
) -> Result<StalePage, ServerFnError> {
    server::load(provider, reason, page).await
}

#[server]
pub async fn retry_stale_set(
    provider: String,
    reason: String,
    expected: usize,
) -> Result<usize, ServerFnError> {
    server::bulk(provider, reason, expected).await
}

#[component]
pub fn StaleOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let provider = move || query.read().get("provider").unwrap_or_default();
    let reason = move || query.read().get("reason").unwrap_or_default();
    let page = move || query.read().get("page");
    let confirm = move || query.read().get("confirm").is_some();
    let retry_one = ServerAction::<RetryStale>::new();
    let retry_set = ServerAction::<RetryStaleSet>::new();
    let data = Resource::new(
        move || {
            (
                provider(),
                reason(),
                page(),
                retry_one.version().get(),
                retry_set.version().get(),
            )
        },
        |(p, r, page, ..)| stale_orders(p, r, page),
    );
    // A countdown that moves in the browser; the server's figure stands without JS.
    let tick = RwSignal::new(0i64);
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
    view! {
        <h1 class="text-2xl font-bold mb-3">"Stale orders"</h1>
        <form method="get" action="/stale" class="flex flex-wrap gap-2 mb-3 items-end" aria-label="Filter stale orders">
            <label class="flex flex-col text-sm">"Upstream"<input name="provider" value=provider class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Error reason"<input name="reason" value=reason class="border rounded px-2 py-1" /></label>
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white">"Filter"</button>
        </form>
        {action_error(retry_one.value())}
        {move || retry_set.value().get().map(|r| match r {
            Ok(n) => view! { <p role="status" class="text-green-800" data-testid="bulk-result">{format!("Retrying {n} orders now.")}</p> }.into_any(),
            Err(e) => view! { <p role="alert" class="text-red-700">{e.to_string()}</p> }.into_any(),
        })}
        <Suspense fallback=|| view! { <p role="status">"Loading stale orders from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorBanner errors /> }>
                {move || Suspend::new(async move {
                    data.await.map(|d| {
                        let matching = d.matching;
                        let (p, r) = (provider(), reason());
                        view! {
                            <div class="mb-3 flex gap-3 items-center">
                                <span>{matching} " waiting"</span>
                                {if confirm() {
                                    view! {
                                        <ActionForm action=retry_set attr:class="flex gap-2 items-center">
                                            <input type="hidden" name="provider" value=p.clone() />
                                            <input type="hidden" name="reason" value=r.clone() />
                                            <input type="hidden" name="expected" value=matching.to_string() />
                                            <span data-testid="bulk-confirm">{format!("This will retry {matching} orders now.")}</span>
                                            <button type="submit" class="px-3 py-1 rounded bg-amber-600 text-white">"Yes, retry them"</button>
                                            <a href=format!("/stale?provider={p}&reason={r}") class="underline">"Cancel"</a>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! { <a class="px-3 py-1 rounded border" href=format!("/stale?provider={p}&reason={r}&confirm=1")>"Retry all matching…"</a> }.into_any()
                                }}
                            </div>
                            <table class="w-full bg-white shadow rounded text-sm" data-testid="stale-orders">
                                <thead class="text-left bg-slate-100"><tr>
                                    <th class="p-2">"Order"</th><th class="p-2">"Upstream"</th><th class="p-2">"Next retry"</th><th class="p-2">"Attempts"</th><th class="p-2">"Last error"</th><th class="p-2"></th>
                                </tr></thead>
                                <tbody>
                                    {d.rows.into_iter().map(|row| {
                                        let secs = row.retry_in_secs;
                                        let id = row.order_id.clone();
                                        view! {
                                            <tr class="border-t" data-order=row.order_id.clone()>
                                                <td class="p-2"><a class="underline text-blue-700" href=format!("/orders/{}", row.order_id)>{row.order_id.clone()}</a></td>
                                                <td class="p-2">{row.provider}</td>
                                                <td class="p-2" title=row.retry_at>{move || {
                                                    let left = secs - tick.get();
                                                    if left > 0 { format!("in {}", waited(left)) } else { "due".to_string() }
                                                }}</td>
                                                <td class="p-2" data-testid="attempts">{row.attempts.map(|a| a.to_string()).unwrap_or_else(|| "—".into())}</td>
                                                <td class="p-2"><code>{row.error_reason}</code></td>
                                                <td class="p-2">
                                                    <ActionForm action=retry_one>
                                                        <input type="hidden" name="order_id" value=id />
                                                        <button type="submit" class="px-2 py-1 rounded bg-amber-600 text-white">"Retry now"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                    })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}
