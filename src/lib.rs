//! temporal-playground: reconciles payment orders whose status is unknown, on Temporal,
//! with a dashboard for the ones that machines could not.

pub mod app;
pub mod contracts;
pub mod orders;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod activities;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(feature = "ssr")]
pub mod simulated_upstream;
#[cfg(feature = "ssr")]
pub mod temporal;
#[cfg(feature = "ssr")]
pub mod worker;
#[cfg(feature = "ssr")]
pub mod workflows;

/// The browser's entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
