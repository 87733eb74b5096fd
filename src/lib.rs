//! temporal-playground: reconciles payment orders whose status is unknown, on Temporal,
//! with a dashboard for the ones that machines could not.
//!
//! Layers, each importing only from those above it in this list (README: Layout):
//! 1. `orders`, `contracts`, `listings`, `format`, `access`, `audit`: domain types shared with the browser;
//! 2. `temporal`, `telemetry`, `upstream_window`: infrastructure (connection, names,
//!    search attributes, paging; the metrics registry; the last minutes of upstream calls);
//! 3. `workflows`, `activities`: the code Temporal runs;
//! 4. `operations`: what the dashboard and the CLI do through Temporal;
//! 5. `worker`, `simulated_upstream`, `signals`: processes beside the dashboard;
//! 6. `web`: the dashboard (state, errors, live hub, shell, pages);
//! 7. `cli`, `settings` (and `main.rs`): nothing depends on them.

pub mod access;
pub mod audit;
pub mod contracts;
pub mod format;
pub mod listings;
pub mod orders;

#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
pub mod temporal;
#[cfg(feature = "ssr")]
pub mod upstream_window;

#[cfg(feature = "ssr")]
pub mod activities;
#[cfg(feature = "ssr")]
pub mod workflows;

#[cfg(feature = "ssr")]
pub mod operations;

#[cfg(feature = "ssr")]
pub mod signals;
#[cfg(feature = "ssr")]
pub mod simulated_upstream;
#[cfg(feature = "ssr")]
pub mod worker;

pub mod web;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod settings;

/// The browser's entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(web::app::App);
}
