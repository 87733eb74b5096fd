//! The dashboard's HTML shell and routes; the pages are in `pages/`.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};

use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{A, Route, Router, Routes},
};
#[cfg(feature = "ssr")]
use std::sync::{Arc, Mutex};

use super::{
    auth::{SignInPage, SignedInBadge, UnverifiedBanner},
    pages::{
        IfAllowed,
        audit::AuditTrailPage,
        contracts::{ContractPage, ContractsPage, UnconfirmedChargesPage},
        dropped_orders::DroppedOrdersPage,
        find_order::FindOrderPage,
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
                <link rel="icon" href=TAB_ICON />
                <AutoReload options=options.clone() />
                <PageStyle options=options.clone() />
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

/// The tab's icon, inside the page: a check on the header's slate (about 200 bytes). Without
/// one, a browser asks for `/favicon.ico` on a cold load of every tab, a request that could
/// only fail (and showed as an error in its console).
const TAB_ICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16' viewBox='0 0 16 16'%3E\
%3Crect width='16' height='16' rx='3' fill='%230f172a'/%3E\
%3Cpath d='M4 8.5l2.5 2.5 5.5-6' fill='none' stroke='%234ade80' stroke-width='2'/%3E%3C/svg%3E";

/// The stylesheet, inside the page when the build made one: the browser paints without
/// asking for it first (a cold queue page showed its first row about 15 ms sooner), at
/// the cost of its 4 KB (brotli) on every page. Read once per file; without a site build
/// (a test's binary) or for an unusually large sheet, the `<link>` to `/pkg` as before.
#[component]
fn PageStyle(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(css) = inline_css(&options) {
        return view! { <style id="leptos" inner_html=css.to_string()></style> }.into_any();
    }
    view! { <HashedStylesheet options id="leptos" /> }.into_any()
}

/// The largest stylesheet put inside every page (ours is about 21 KB before compression).
#[cfg(feature = "ssr")]
const INLINE_CSS_MAX_BYTES: usize = 64 * 1024;

/// The built stylesheet's text, cached by its path (one file per build, the hash in its name).
#[cfg(feature = "ssr")]
fn inline_css(options: &LeptosOptions) -> Option<Arc<str>> {
    static CACHE: Mutex<Option<(std::path::PathBuf, Option<Arc<str>>)>> = Mutex::new(None);
    let path = css_path(options)?;
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((cached, css)) = cache.as_ref()
        && *cached == path
    {
        return css.clone();
    }
    let css = std::fs::read_to_string(&path)
        .ok()
        .filter(|css| css.len() <= INLINE_CSS_MAX_BYTES && !css.contains("</"))
        .map(Arc::from);
    *cache = Some((path, css.clone()));
    css
}

/// Where the build wrote the stylesheet: `<site>/<pkg>/<output>.<hash>.css` with hashed
/// names (the hash from `hash.txt` beside this binary), else `<output>.css`.
#[cfg(feature = "ssr")]
fn css_path(options: &LeptosOptions) -> Option<std::path::PathBuf> {
    let mut name = options.output_name.to_string();
    if options.hash_files {
        let hashes = std::env::current_exe()
            .ok()?
            .parent()?
            .join(options.hash_file.as_ref());
        let hashes = std::fs::read_to_string(hashes).ok()?;
        let hash = hashes
            .lines()
            .find_map(|line| line.trim().strip_prefix("css:"))?;
        name = format!("{name}.{}", hash.trim());
    }
    Some(
        std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join(format!("{name}.css")),
    )
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

/// Header, banners and pages, for the session of this request (every page is a full
/// load: only islands run in the browser).
#[component]
fn Chrome() -> impl IntoView {
    provide_context(super::pages::PageSession::of_this_request());
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
                <A href="/dropped">"Dropped orders"</A>
                <A href="/contracts">"Recurring contracts"</A>
                <A href="/live">"Live flow"</A>
                <IfAllowed action=crate::domain::access::Action::ImportStatement>
                    <A href="/statements">"Statements"</A>
                </IfAllowed>
                <IfAllowed action=crate::domain::access::Action::Audit>
                    <A href="/audit">"Audit"</A>
                </IfAllowed>
            </nav>
            <IfAllowed action=crate::domain::access::Action::Read>
                <super::pages::find_order::FindBox />
            </IfAllowed>
            <SignedInBadge />
        </header>
        <UnverifiedBanner />
        <SimulatorBanner />
        <WorkersBanner />
        <super::pages::LocalTimes />
        <main id="content" tabindex="-1" class="max-w-6xl mx-auto p-4 focus:outline-none">
            <Routes fallback=|| view! { <p>"Page not found."</p> }>
                <Route path=StaticSegment("") view=ManualQueuePage ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("orders"), ParamSegment("id"))
                    view=OrderLanePage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("find") view=FindOrderPage ssr=SsrMode::Async />
                <Route path=StaticSegment("stale") view=StaleOrdersPage ssr=SsrMode::Async />
                <Route path=StaticSegment("dropped") view=DroppedOrdersPage ssr=SsrMode::Async />
                <Route path=StaticSegment("contracts") view=ContractsPage ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("contracts"), ParamSegment("id"))
                    view=ContractPage
                    ssr=SsrMode::Async
                />
                <Route path=StaticSegment("charges") view=UnconfirmedChargesPage ssr=SsrMode::Async />
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

/// Says on every page, to those signed in, which task queues no worker runs (from the
/// watch's last look, `[metrics] watch_secs`; no call to Temporal of its own): nothing on
/// them moves on, and their orders cannot be read live or changed, until one is back.
#[component]
fn WorkersBanner() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let idle: Vec<&'static str> = match super::pages::page_session().info.who.is_some() {
        true => crate::web::state::app_state()
            .ok()
            .and_then(|state| state.readiness.last())
            .and_then(Result::ok)
            .map(|r| {
                r.queues
                    .iter()
                    .filter(|q| q.pollers == 0)
                    .map(|q| q.queue)
                    .collect()
            })
            .unwrap_or_default(),
        false => Vec::new(),
    };
    #[cfg(feature = "ssr")]
    let window = crate::temporal::readiness::WORKER_SEEN_WITHIN.as_secs();
    #[cfg(not(feature = "ssr"))]
    let (idle, window): (Vec<&'static str>, u64) = (Vec::new(), 0);
    (!idle.is_empty()).then(|| {
        let (queues, them) = match idle.len() {
            1 => (format!("the {} queue", idle[0]), "it"),
            _ => (format!("the {} queues", idle.join(", ")), "them"),
        };
        view! {
            <p role="alert" class="bg-red-100 text-red-900 text-sm px-4 py-1" data-testid="no-workers">
                {format!(
                    "No worker runs {queues} (none polled in the last {window} s): nothing on {them} moves on, and what waits there cannot be read or changed, until one is back. Tell whoever runs the workers.",
                )}
            </p>
        }
    })
}

/// Says on every page when the upstream is the simulator: its verdicts are random. Not
/// on the sign-in page: nobody there may read anything yet.
#[component]
fn SimulatorBanner() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let simulated = super::pages::page_session().info.who.is_some()
        && crate::web::state::app_state().is_ok_and(|state| state.simulator.is_some());
    #[cfg(not(feature = "ssr"))]
    let simulated = false;
    simulated.then(|| view! {
        <p
            role="status"
            class="bg-amber-100 text-amber-900 text-sm px-4 py-1"
            data-testid="simulated-upstream"
        >
            "Simulated bank: orders here are answered by the built-in simulator, not a real upstream."
        </p>
    })
}
