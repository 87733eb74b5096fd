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

/// The browser's entry point. The console renders in islands mode: the pages are HTML
/// from the server, and only their interactive parts (`#[island]`: the keys, local times,
/// countdowns, the live page, the forms a person types into) hydrate; buttons post as plain
/// forms.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A form island's server function that succeeds names the page to show next (the
    // lane, the contract): the browser loads it, as a plain form post would.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|to: &str| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(to);
        }
    });
    leptos::mount::hydrate_islands();
}
