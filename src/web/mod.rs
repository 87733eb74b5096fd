//! The web app: its state, errors, live hub, the signed-in operator, the shell and the
//! pages (Leptos 0.8, rendered on the server and hydrated in the browser).

pub mod app;
pub mod error;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod live;
pub mod operator;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
