//! The dashboard's shell, routes and overview page.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};

use crate::pages::{
    contracts::{ContractPage, ContractsPage},
    live_flow::LiveFlowPage,
    manual_queue::ManualQueuePage,
    operator::OperatorBadge,
    order_lane::OrderLanePage,
    stale_orders::StaleOrdersPage,
};
use serde::{Deserialize, Serialize};

use crate::orders::StageCounts;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="bg-slate-50 text-slate-900">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/temporal-playground.css" />
        <Title text="temporal-playground" />
        <Router>
            <header class="bg-slate-900 text-white px-4 py-3 flex flex-wrap gap-x-6 gap-y-2 items-center">
                <A href="/" attr:class="font-semibold">"temporal-playground"</A>
                <nav aria-label="Pages" class="flex flex-wrap gap-4 text-sm">
                    <A href="/">"Manual queue"</A>
                    <A href="/stale">"Stale orders"</A>
                    <A href="/contracts">"Recurring contracts"</A>
                    <A href="/live">"Live flow"</A>
                    <A href="/overview">"Overview"</A>
                </nav>
                <OperatorBadge />
            </header>
            <main class="max-w-6xl mx-auto p-4">
                <Routes fallback=|| view! { <p>"Page not found."</p> }>
                    <Route path=StaticSegment("") view=ManualQueuePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("overview") view=Overview ssr=SsrMode::Async />
                    <Route path=(StaticSegment("orders"), ParamSegment("id")) view=OrderLanePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("stale") view=StaleOrdersPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("contracts") view=ContractsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("contracts"), ParamSegment("id")) view=ContractPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("live") view=LiveFlowPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// What the overview shows: Temporal's counts and the oldest manual orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewData {
    pub counts: StageCounts,
    pub manual_queue: Vec<String>,
    pub temporal_ui: String,
    pub namespace: String,
}

#[server]
pub async fn overview() -> Result<OverviewData, ServerFnError> {
    use crate::temporal::orders;
    let state = expect_context::<crate::server::AppState>();
    let counts = orders::stage_counts(&state.client)
        .await
        .map_err(|e| ServerFnError::new(format!("Temporal is not answering: {e}")))?;
    let manual_queue = orders::manual_queue_ids(&state.client, 20)
        .await
        .map_err(|e| ServerFnError::new(format!("Temporal is not answering: {e}")))?;
    Ok(OverviewData {
        counts,
        manual_queue,
        temporal_ui: state.temporal_ui.clone(),
        namespace: state.namespace.clone(),
    })
}

#[component]
fn Overview() -> impl IntoView {
    let data = Resource::new(|| (), |_| overview());
    view! {
        <Title text="Overview · temporal-playground" />
        <h1 class="text-2xl font-bold mb-4">"Orders by stage"</h1>
        <Suspense fallback=|| view! { <p role="status">"Loading counts from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| {
                view! {
                    <crate::pages::ErrorBanner errors />
                }
            }>
                {move || Suspend::new(async move {
                    data.await.map(|d| view! { <OverviewView data=d /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn OverviewView(data: OverviewData) -> impl IntoView {
    let c = data.counts.clone();
    let stages = vec![
        ("querying", c.querying),
        ("stale", c.stale),
        ("manual", c.manual),
        ("resolved · paid", c.resolved_paid),
        ("resolved · failed", c.resolved_failed),
        ("resolved · other", c.resolved_other),
    ];
    let ui = data.temporal_ui.clone();
    let ns = data.namespace.clone();
    view! {
        <dl class="grid grid-cols-2 sm:grid-cols-3 gap-3 mb-6" data-testid="stage-counts">
            {stages
                .into_iter()
                .map(|(name, n)| {
                    view! {
                        <div class="bg-white rounded shadow p-3" data-stage=name>
                            <dt class="text-sm text-slate-500">{name}</dt>
                            <dd class="text-2xl font-semibold">{n}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
        <h2 class="text-xl font-semibold mb-2">"Manual queue"</h2>
        {if data.manual_queue.is_empty() {
            view! { <p>"No order is waiting for a person."</p> }.into_any()
        } else {
            view! {
                <ul class="list-disc pl-6" data-testid="manual-queue">
                    {data
                        .manual_queue
                        .into_iter()
                        .map(|id| {
                            let href = format!("{ui}/namespaces/{ns}/workflows/manual-{id}");
                            view! {
                                <li>
                                    <a class="text-blue-700 underline" href=format!("/orders/{id}")>{id.clone()}</a>
                                    " · "
                                    <a class="text-sm underline" href=href>"in Temporal"</a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
    }
}
