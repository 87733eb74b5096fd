//! The console: its state, errors, live hub, sign-in and roles, the shell and the pages
//! (Leptos 0.8, rendered on the server and hydrated in the browser), and the HTTP server
//! around them.

pub mod app;
#[cfg(feature = "ssr")]
pub mod assets;
pub mod auth;
pub mod error;
#[cfg(feature = "ssr")]
pub mod exports;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod health;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod uploads;
