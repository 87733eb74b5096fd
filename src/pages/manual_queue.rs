//! The manual queue (support's home): every order waiting in ManualHandle, from one
//! visibility query, paged by Temporal's page tokens, with counts per filter.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{ErrorBanner, waited};

pub const PAGE_SIZE: i32 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRow {
    pub order_id: String,
    pub provider: String,
    pub waiting_since: String,
    pub waiting_secs: i64,
    pub priority: i64,
    /// Why QueryOrder gave up (empty for orders handed off before it was recorded).
    pub original_reason: String,
    /// Why the stale retry failed: the latest error.
    pub error_reason: String,
    pub attempts: Option<i64>,
    pub claimed_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Opaque token for the next page, if there is one.
    pub next_page: Option<String>,
    pub matching: usize,
    pub all: usize,
    pub unclaimed: usize,
    pub mine: usize,
    /// Whether the server sorted oldest first (SQL visibility cannot sort).
    pub oldest_first: bool,
    pub operator: Option<String>,
}

/// The filters, as they appear in the page's query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueFilter {
    pub prefix: String,
    pub provider: String,
    pub reason: String,
    /// `all`, `mine` or `unclaimed`.
    pub claim: String,
}

#[cfg(feature = "ssr")]
pub mod server {
    //! The visibility queries behind the page.

    use super::*;
    use crate::temporal::{search_attributes as sa, visibility};

    /// A value safe inside a quoted visibility literal: our id alphabet only.
    fn literal(field: &str, value: &str) -> Result<String, ServerFnError> {
        if value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '@'))
            && value.len() <= 64
        {
            Ok(value.to_string())
        } else {
            Err(ServerFnError::new(format!(
                "the {field} filter may only hold letters, digits, spaces and - _ . @"
            )))
        }
    }

    pub const BASE: &str =
        "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running' AND OrderStage = 'manual'";

    pub fn unclaimed() -> String {
        format!("({0} IS NULL OR {0} = '')", sa::CLAIMED_BY.name())
    }

    /// The query for a filter, and the operator's own query for "mine".
    pub fn query(filter: &QueueFilter, operator: Option<&str>) -> Result<String, ServerFnError> {
        let mut q = BASE.to_string();
        if !filter.prefix.is_empty() {
            q += &format!(
                " AND {} STARTS_WITH '{}'",
                sa::ORDER_ID.name(),
                literal("order id", &filter.prefix)?
            );
        }
        if !filter.provider.is_empty() {
            q += &format!(
                " AND {} = '{}'",
                sa::UPSTREAM_PROVIDER.name(),
                literal("upstream", &filter.provider)?
            );
        }
        if !filter.reason.is_empty() {
            // Either error: the one that ended QueryOrder or the stale retry's.
            let reason = literal("error reason", &filter.reason)?;
            q += &format!(
                " AND ({} = '{reason}' OR {} = '{reason}')",
                sa::ERROR_REASON.name(),
                sa::ORIGINAL_ERROR_REASON.name(),
            );
        }
        match filter.claim.as_str() {
            "" | "all" => {}
            "unclaimed" => q += &format!(" AND {}", unclaimed()),
            "mine" => {
                let op = operator.ok_or_else(|| {
                    ServerFnError::new("enter your name at the top to see your own orders")
                })?;
                q += &format!(
                    " AND {} = '{}'",
                    sa::CLAIMED_BY.name(),
                    literal("operator", op)?
                );
            }
            other => {
                return Err(ServerFnError::new(format!(
                    "{other:?} is not a claim filter: use all, mine or unclaimed"
                )));
            }
        }
        Ok(q)
    }

    pub async fn load(
        client: &temporalio_client::Client,
        filter: &QueueFilter,
        page: Option<String>,
        operator: Option<String>,
    ) -> Result<QueuePage, ServerFnError> {
        let q = query(filter, operator.as_deref())?;
        let fail = |e: String| ServerFnError::new(format!("Temporal did not answer: {e}"));
        let count = |q: String| async move { visibility::count(client, &q).await.map_err(fail) };
        let mine_q = operator
            .as_deref()
            .and_then(|op| literal("operator", op).ok())
            .map(|op| format!("{BASE} AND {} = '{op}'", sa::CLAIMED_BY.name()));
        let filtered = q != BASE;
        // One list and the tab counts at once: the page costs the slowest of them.
        let (listed, matching, all, unclaimed, mine) = futures::try_join!(
            async {
                visibility::list_page(
                    client,
                    &q,
                    PAGE_SIZE,
                    page.as_deref(),
                    Some("StartTime ASC"),
                )
                .await
                .map_err(fail)
            },
            async {
                if filtered {
                    count(q.clone()).await
                } else {
                    Ok(0)
                }
            },
            count(BASE.to_string()),
            count(format!("{BASE} AND {}", unclaimed())),
            async {
                match mine_q {
                    Some(q) => count(q).await,
                    None => Ok(0),
                }
            }
        )?;
        let matching = if filtered { matching } else { all };
        let now = std::time::SystemTime::now();
        let rows = listed
            .executions
            .into_iter()
            .map(|e| QueueRow {
                order_id: e.attributes.get(&sa::ORDER_ID).unwrap_or_default(),
                provider: e.attributes.get(&sa::UPSTREAM_PROVIDER).unwrap_or_default(),
                waiting_secs: e
                    .start_time
                    .and_then(|t| now.duration_since(t).ok())
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0),
                waiting_since: e
                    .start_time
                    .map(crate::workflows::rfc3339)
                    .unwrap_or_default(),
                priority: e.attributes.get(&sa::ORDER_PRIORITY).unwrap_or(3),
                original_reason: e
                    .attributes
                    .get(&sa::ORIGINAL_ERROR_REASON)
                    .unwrap_or_default(),
                error_reason: e.attributes.get(&sa::ERROR_REASON).unwrap_or_default(),
                attempts: e.attributes.get(&sa::UPSTREAM_ATTEMPTS),
                claimed_by: e.attributes.get(&sa::CLAIMED_BY).unwrap_or_default(),
            })
            .collect();
        Ok(QueuePage {
            rows,
            next_page: listed.next_page,
            matching,
            all,
            unclaimed,
            mine,
            oldest_first: listed.sorted,
            operator,
        })
    }
}

#[server]
pub async fn manual_queue(
    filter: QueueFilter,
    page: Option<String>,
) -> Result<QueuePage, ServerFnError> {
    let state = expect_context::<crate::server::AppState>();
    let operator = super::operator::current_operator();
    server::load(&state.client, &filter, page, operator).await
}

fn filter_link(filter: &QueueFilter, claim: &str) -> String {
    let mut f = filter.clone();
    f.claim = claim.to_string();
    format!(
        "/?prefix={}&provider={}&reason={}&claim={}",
        f.prefix, f.provider, f.reason, f.claim
    )
}

#[component]
pub fn ManualQueuePage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        QueueFilter {
            prefix: q.get("prefix").unwrap_or_default(),
            provider: q.get("provider").unwrap_or_default(),
            reason: q.get("reason").unwrap_or_default(),
            claim: q.get("claim").unwrap_or_else(|| "all".into()),
        }
    };
    let page = move || query.read().get("page");
    let data = Resource::new(move || (filter(), page()), |(f, p)| manual_queue(f, p));
    view! {
        <h1 class="text-2xl font-bold mb-3">"Manual queue"</h1>
        <form method="get" action="/" class="flex flex-wrap gap-2 mb-3 items-end" aria-label="Filter the queue">
            <label class="flex flex-col text-sm">"Order id starts with"
                <input name="prefix" value=move || filter().prefix class="border rounded px-2 py-1" />
            </label>
            <label class="flex flex-col text-sm">"Upstream"
                <input name="provider" value=move || filter().provider class="border rounded px-2 py-1" />
            </label>
            <label class="flex flex-col text-sm">"Error reason"
                <input name="reason" value=move || filter().reason placeholder="http_503" class="border rounded px-2 py-1" />
            </label>
            <input type="hidden" name="claim" value=move || filter().claim />
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p role="status">"Loading the queue from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorBanner errors /> }>
                {move || Suspend::new(async move {
                    let f = filter();
                    data.await.map(|q| view! { <QueueTable page=q filter=f /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn QueueTable(page: QueuePage, filter: QueueFilter) -> impl IntoView {
    let tab = |claim: &'static str, label: &'static str, n: usize, current: &str| {
        let active = current == claim || (claim == "all" && current.is_empty());
        view! {
            <a
                href=filter_link(&filter, claim)
                aria-current=if active { Some("page") } else { None }
                class=if active { "px-3 py-1 rounded bg-slate-800 text-white" } else { "px-3 py-1 rounded bg-white border" }
            >
                {label} " " <span data-testid=format!("count-{claim}")>{n}</span>
            </a>
        }
    };
    let next = page
        .next_page
        .clone()
        .map(|token| format!("{}&page={}", filter_link(&filter, &filter.claim), token));
    view! {
        <nav class="flex gap-2 mb-2" aria-label="Claim filter">
            {tab("all", "All", page.all, &filter.claim)}
            {tab("unclaimed", "Unclaimed", page.unclaimed, &filter.claim)}
            {tab("mine", "Mine", page.mine, &filter.claim)}
        </nav>
        <p class="text-sm text-slate-600 mb-2">
            {page.matching} " matching · "
            {if page.oldest_first { "oldest first" } else { "newest first (this Temporal's visibility store cannot sort)" }}
        </p>
        {if page.rows.is_empty() {
            view! { <p data-testid="queue-empty">"No order is waiting here."</p> }.into_any()
        } else {
            view! {
                <div class="overflow-x-auto">
                <table class="w-full bg-white shadow rounded text-sm" data-testid="manual-queue">
                    <thead class="text-left bg-slate-100">
                        <tr>
                            <th class="p-2">"Order"</th>
                            <th class="p-2">"Upstream"</th>
                            <th class="p-2">"Waiting"</th>
                            <th class="p-2">"Priority"</th>
                            <th class="p-2">"First error"</th>
                            <th class="p-2">"Stale-retry error"</th>
                            <th class="p-2">"Attempts"</th>
                            <th class="p-2">"Claimed by"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.rows.into_iter().map(|r| view! {
                            <tr class="border-t" data-order=r.order_id.clone()>
                                <td class="p-2"><a class="text-blue-700 underline" href=format!("/orders/{}", r.order_id)>{r.order_id.clone()}</a></td>
                                <td class="p-2">{r.provider}</td>
                                <td class="p-2" title=r.waiting_since>{waited(r.waiting_secs)}</td>
                                <td class="p-2">{r.priority}</td>
                                <td class="p-2"><code>{if r.original_reason.is_empty() { "—".to_string() } else { r.original_reason }}</code></td>
                                <td class="p-2"><code>{r.error_reason}</code></td>
                                <td class="p-2">{r.attempts.map(|a| a.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td class="p-2">{if r.claimed_by.is_empty() { "—".to_string() } else { r.claimed_by }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
        {next.map(|href| view! { <a class="inline-block mt-3 underline" href=href rel="next">"Next page →"</a> })}
    }
}
