//! The web layer's one error type: what a person sees when a page or an action fails,
//! chosen once here (server functions return it; the browser decodes it as it is).

use leptos::{
    prelude::{FromServerFnError, ServerFnErrorErr},
    server_fn::codec::JsonEncoding,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The person can fix it (bad input, a refusal by the workflow): the sentence says how.
    #[error("{0}")]
    Refused(String),
    /// Nobody is signed in on this request (or the session ended).
    #[error("sign in first: you are not signed in, or your session has ended")]
    SignedOut,
    /// The person's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many tries (sign-in): wait, then try again.
    #[error("{0}")]
    TooMany(String),
    /// What the request names does not exist: the sentence says what.
    #[error("{0}")]
    NotFound(String),
    /// Temporal did not answer in time, or failed the request. The detail is in the log
    /// under this reference, not on the screen.
    #[error(
        "Temporal did not answer in time: try again in a moment (if it persists, give \
         support the reference {0})"
    )]
    Unavailable(String),
    /// No worker runs the queue what was asked waits on: the sentence says which, since
    /// trying again will not help until one is back.
    #[error("{0}")]
    NoWorker(String),
    /// Our own fault. The detail is in the log under the reference, not on the screen.
    #[error("the console failed: give support the reference {0}")]
    Internal(String),
    /// The framework's own errors (a request that could not be read, a lost connection).
    #[error("{}", framework_sentence(.0))]
    Framework(ServerFnErrorErr),
}

/// The framework's errors, as a person reads them.
fn framework_sentence(e: &ServerFnErrorErr) -> String {
    match e {
        ServerFnErrorErr::Args(detail) => {
            format!("a value in the form could not be read ({detail}): check it and send again")
        }
        ServerFnErrorErr::MissingArg(field) => format!("the form is missing {field}"),
        ServerFnErrorErr::Request(_) => {
            "the dashboard could not be reached: check the connection and try again".into()
        }
        other => format!("the request could not be completed: {other}"),
    }
}

impl AppError {
    /// The HTTP status a refusal or a fault answers with: 4xx for what the person can
    /// change, 5xx only for ours and Temporal's (monitoring counts those as outages).
    pub fn status(&self) -> u16 {
        match self {
            AppError::Refused(_) => 422,
            AppError::SignedOut => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::TooMany(_) => 429,
            AppError::Unavailable(_) | AppError::NoWorker(_) => 503,
            AppError::Internal(_) => 500,
            AppError::Framework(ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_)) => 400,
            AppError::Framework(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Framework(value)
    }

    /// Encodes the error for the browser and, on the server, sets the response's status;
    /// except for a plain form post (no JavaScript yet, or none at all): that one is sent
    /// back to its page with the error in the URL (server_fn's form redirects), where the
    /// page shows the sentence, and a status here would replace that redirect.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        {
            let plain_form = leptos::prelude::use_context::<axum::http::request::Parts>()
                .and_then(|p| p.headers.get(axum::http::header::ACCEPT).cloned())
                .and_then(|accept| accept.to_str().ok().map(|a| a.contains("text/html")))
                .unwrap_or(false);
            if !plain_form {
                self.set_answer_status();
            }
        }
        <JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(self).unwrap_or_default()
    }
}

impl From<crate::domain::input::InputError> for AppError {
    fn from(e: crate::domain::input::InputError) -> Self {
        AppError::Refused(e.to_string())
    }
}

/// The request's id (the log line of this request carries it too), or a fresh one.
#[cfg(feature = "ssr")]
pub fn reference() -> String {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|p| {
            let id = p.headers.get("x-request-id")?.to_str().ok()?;
            Some(id.to_string())
        })
        .unwrap_or_else(|| format!("{:08x}", rand::random::<u32>()))
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Gives the answer being made (a server function's, or a page's) this error's status.
    pub fn set_answer_status(&self) {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = axum::http::StatusCode::from_u16(self.status())
        {
            response.set_status(status);
        }
    }

    /// Our own fault, logged with its detail; the person is given the reference.
    pub fn bug(detail: impl std::fmt::Display) -> Self {
        let reference = reference();
        tracing::error!(reference = ?reference, detail = %detail, "the console failed");
        AppError::Internal(reference)
    }
}

/// An operation's error as the person reads it, by its one classification.
#[cfg(feature = "ssr")]
impl From<crate::operations::OpError> for AppError {
    fn from(e: crate::operations::OpError) -> Self {
        use crate::domain::ErrorKind;
        match e.kind() {
            ErrorKind::Refused => AppError::Refused(e.to_string()),
            ErrorKind::NotFound => AppError::NotFound(e.to_string()),
            ErrorKind::Unavailable => {
                let reference = reference();
                tracing::warn!(reference = ?reference, detail = %e, "Temporal did not answer a console request");
                AppError::Unavailable(reference)
            }
            ErrorKind::NoWorker => {
                tracing::warn!(detail = %e, "no worker runs the queue a console request needs");
                AppError::NoWorker(e.to_string())
            }
            ErrorKind::Bug => AppError::bug(e),
        }
    }
}
