//! temporal-playground: reconciles payment orders whose status is unknown, on Temporal,
//! with a console for the ones that machines could not.
//!
//! The folders are the layers; each imports only from those before it (README: Layout):
//! `domain` (also compiled for the browser), `temporal`, `upstream`, `workflows`,
//! `operations`, `runtime`, `web`, `cli`.

pub mod domain;

#[cfg(feature = "ssr")]
pub mod temporal;

#[cfg(feature = "ssr")]
pub mod upstream;

#[cfg(feature = "ssr")]
pub mod workflows;

#[cfg(feature = "ssr")]
pub mod operations;

#[cfg(feature = "ssr")]
pub mod runtime;

pub mod web;

#[cfg(feature = "ssr")]
pub mod cli;

/// The browser's entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(web::app::App);
}
