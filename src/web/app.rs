//! The dashboard's HTML shell and routes; the pages are in `pages/`.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};

use super::{
    auth::{SignInPage, SignedInBadge, UnverifiedBanner},
    error::AppError,
    pages::{
        IfAllowed,
        audit::AuditTrailPage,
        contracts::{ContractPage, ContractsPage},
        live_flow::LiveFlowPage,
        manual_queue::ManualQueuePage,
        order::OrderLanePage,
        stale_orders::StaleOrdersPage,
        statements::{StatementPage, StatementsPage},
    },
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                // Islands: the rows and forms are HTML; the script and the WASM only bring
                // the interactive parts to life, when the browser is idle.
                <HydrationScripts options islands=true />
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
        <Title text="temporal-playground" />
        <Router>
            <Chrome />
        </Router>
    }
}

/// Header, banners and pages. The session is read again on each navigation, so signing
/// in or out shows at once.
#[component]
fn Chrome() -> impl IntoView {
    let path = leptos_router::hooks::use_location().pathname;
    let session: super::pages::SessionResource =
        Resource::new(move || path.get(), |_| super::auth::me());
    provide_context(session);
    view! {
        <a
            href="#content"
            class="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-10 focus:bg-white focus:text-slate-900 focus:px-3 focus:py-2 focus:rounded"
        >
            "Skip to content"
        </a>
        <header class="bg-slate-900 text-white px-4 py-3 flex flex-wrap gap-x-6 gap-y-2 items-center">
            <A href="/" attr:class="font-semibold">"temporal-playground"</A>
            <nav aria-label="Pages" class="flex flex-wrap gap-4 text-sm">
                <A href="/">"Manual queue"</A>
                <A href="/stale">"Stale orders"</A>
                <A href="/contracts">"Recurring contracts"</A>
                <A href="/live">"Live flow"</A>
                <IfAllowed action=crate::domain::access::Action::ImportStatement>
                    <A href="/statements">"Statements"</A>
                </IfAllowed>
                <IfAllowed action=crate::domain::access::Action::Audit>
                    <A href="/audit">"Audit"</A>
                </IfAllowed>
            </nav>
            <SignedInBadge />
        </header>
        <UnverifiedBanner />
        <SimulatorBanner />
        <super::pages::LocalTimes />
        <main id="content" tabindex="-1" class="max-w-6xl mx-auto p-4 focus:outline-none">
            <Routes fallback=|| view! { <p>"Page not found."</p> }>
                <Route path=StaticSegment("") view=ManualQueuePage ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("orders"), ParamSegment("id"))
                    view=OrderLanePage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("stale") view=StaleOrdersPage ssr=SsrMode::Async />
                <Route path=StaticSegment("contracts") view=ContractsPage ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("contracts"), ParamSegment("id"))
                    view=ContractPage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("live") view=LiveFlowPage ssr=SsrMode::Async />
                <Route path=StaticSegment("audit") view=AuditTrailPage ssr=SsrMode::Async />
                <Route path=StaticSegment("statements") view=StatementsPage ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("statements"), ParamSegment("id"))
                    view=StatementPage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("login") view=SignInPage ssr=SsrMode::Async />
            </Routes>
        </main>
    }
}

/// Whether this dashboard's orders go to the simulated bank, not a real one.
#[server]
pub async fn upstream_is_simulated() -> Result<bool, AppError> {
    // The sign-in page shows no banner: nobody there may read anything yet.
    if crate::web::auth::session()?.user.is_none() {
        return Ok(false);
    }
    Ok(crate::web::state::app_state()?.simulator.is_some())
}

/// Says on every page when the upstream is the simulator: its verdicts are random.
#[component]
fn SimulatorBanner() -> impl IntoView {
    let simulated = Resource::new(|| (), |_| upstream_is_simulated());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                simulated.await.unwrap_or(false).then(|| view! {
                    <p
                        role="status"
                        class="bg-amber-100 text-amber-900 text-sm px-4 py-1"
                        data-testid="simulated-upstream"
                    >
                        "Simulated bank: orders here are answered by the built-in simulator, not a real upstream."
                    </p>
                })
            })}
        </Suspense>
    }
}
