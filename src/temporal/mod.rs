//! Temporal infrastructure only: the connection, the names of task queues and workflow
//! types, search attributes, namespaces, visibility paging, histories, schedules, readiness
//! and the metrics registry (the SDK's Prometheus exporter, which ours share).
//!
//! Nothing here knows a workflow's code: the layers above use these pieces.

pub mod connection;
pub mod histories;
pub mod metrics;
pub mod names;
pub mod namespaces;
pub mod readiness;
pub mod schedules;
pub mod search_attributes;
pub mod visibility;

/// What can go wrong between us and the Temporal server, each classified once by
/// [`TemporalError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum TemporalError {
    #[error("the Temporal connection settings are invalid: {0}")]
    Config(String),
    #[error(
        "no Temporal server answered at {address} (namespace {namespace}): {cause}.\n\
         Start one with `make temporal` (or `temporal server start-dev`), or point \
         --hostport / TEMPORAL_ADDRESS at yours."
    )]
    Unreachable {
        address: String,
        namespace: String,
        cause: String,
    },
    #[error("the page link is damaged: go back to the first page")]
    DamagedPageToken,
    #[error("{0:?} is not a namespace name: use letters, digits, '-' or '.'")]
    BadNamespaceName(String),
    #[error("namespace {namespace} did not become ready: {cause}")]
    NamespaceNotReady { namespace: String, cause: String },
    /// Temporal read the request and refused it (a schedule spec or a query it cannot
    /// read, a change that conflicts): its reason is the person's to act on.
    #[error("Temporal refused it: {0}")]
    Invalid(String),
    /// What the request named does not exist (or no longer does).
    #[error("Temporal does not know it: {0}")]
    NotFound(String),
    /// Temporal did not answer in time, was unavailable or overloaded.
    #[error("Temporal did not answer: {0}")]
    Unavailable(String),
    /// No worker runs the task queue a workflow waits on: what it holds cannot be read
    /// live, nor changed, until one is back (Temporal would wait half a minute, then give
    /// up). When a worker last polled it, if any did in the last five minutes.
    #[error(
        "no worker runs the {queue} queue ({}): what waits on it cannot be read or changed \
         until one is back; tell whoever runs the workers",
        match last_seen {
            Some(at) => format!("the last one polled it at {at}"),
            None => "none has polled it in the last five minutes".to_string(),
        }
    )]
    NoWorker {
        queue: String,
        last_seen: Option<String>,
    },
    /// A worker counted as running did not answer a query in time: one that stopped in
    /// the last minute or two still counts (see `readiness::WORKER_SEEN_WITHIN`).
    #[error(
        "no worker answered for {workflow_id} within {secs} s (one may have stopped in the \
         last minutes): try again shortly, and if it lasts tell whoever runs the workers"
    )]
    WorkerSilent { workflow_id: String, secs: u64 },
    /// The SDK or the data converter failed on our side: a bug of ours.
    #[error("the Temporal client failed: {0}")]
    Client(String),
}

impl TemporalError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            TemporalError::DamagedPageToken
            | TemporalError::BadNamespaceName(_)
            | TemporalError::Invalid(_) => ErrorKind::Refused,
            TemporalError::NotFound(_) => ErrorKind::NotFound,
            TemporalError::Unreachable { .. }
            | TemporalError::NamespaceNotReady { .. }
            | TemporalError::Unavailable(_) => ErrorKind::Unavailable,
            TemporalError::NoWorker { .. } | TemporalError::WorkerSilent { .. } => {
                ErrorKind::NoWorker
            }
            TemporalError::Config(_) | TemporalError::Client(_) => ErrorKind::Bug,
        }
    }

    /// A failure of the SDK or its data converter (never the server's answer).
    pub fn client(detail: impl std::fmt::Display) -> Self {
        TemporalError::Client(detail.to_string())
    }
}

impl From<temporalio_client::tonic::Status> for TemporalError {
    fn from(status: temporalio_client::tonic::Status) -> Self {
        use temporalio_client::tonic::Code;
        let message = status.message().to_string();
        match status.code() {
            Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::OutOfRange
            | Code::AlreadyExists => TemporalError::Invalid(message),
            Code::NotFound => TemporalError::NotFound(message),
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::Internal
            | Code::Unknown
            | Code::DataLoss => {
                TemporalError::Unavailable(format!("{:?}: {message}", status.code()))
            }
            Code::PermissionDenied | Code::Unauthenticated => {
                TemporalError::Config(format!("Temporal refused our credentials: {message}"))
            }
            Code::Ok | Code::Unimplemented => TemporalError::Client(message),
        }
    }
}

/// The client's own error types, each read for the server's answer inside it.
macro_rules! from_client_error {
    ($($error:ident),*) => {$(
        impl From<temporalio_client::errors::$error> for TemporalError {
            fn from(e: temporalio_client::errors::$error) -> Self {
                use temporalio_client::errors::$error as E;
                match e {
                    E::Rpc(status) => status.into(),
                    E::NotFound(status) => TemporalError::NotFound(status.message().to_string()),
                    other => TemporalError::client(other),
                }
            }
        }
    )*};
}
from_client_error!(WorkflowInteractionError, WorkflowQueryError);

impl From<temporalio_client::errors::ClientError> for TemporalError {
    fn from(e: temporalio_client::errors::ClientError) -> Self {
        match e {
            temporalio_client::errors::ClientError::Rpc(status) => status.into(),
            other => TemporalError::client(other),
        }
    }
}

impl From<temporalio_client::schedules::ScheduleError> for TemporalError {
    fn from(e: temporalio_client::schedules::ScheduleError) -> Self {
        match e {
            temporalio_client::schedules::ScheduleError::Rpc(status) => status.into(),
            other => TemporalError::client(other),
        }
    }
}

/// How every error of the layers above is classified once: what the metrics count
/// (`refused`, `failed`) and what HTTP status a person's request answers with.
pub use crate::domain::ErrorKind;
