//! The web app: its state, errors, live hub, sign-in and roles, the shell and the
//! pages (Leptos 0.8, rendered on the server and hydrated in the browser).

pub mod app;
pub mod auth;
pub mod error;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
