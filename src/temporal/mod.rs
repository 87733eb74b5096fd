//! Temporal infrastructure only: connection, names, search attributes, namespaces, paging.
//!
//! Nothing here knows a workflow's code: the layers above use these pieces.

pub mod connection;
pub mod namespaces;
pub mod readiness;
pub mod search_attributes;
pub mod visibility;

/// Task queues: one per workflow family, plus one for every call to the upstream so that a
/// single server-side rate limit covers all of them.
pub mod task_queues {
    pub const QUERY_ORDER: &str = "query-order";
    pub const STALE_ORDER: &str = "stale-order";
    pub const MANUAL_HANDLE: &str = "manual-handle";
    pub const RECURRING_SCHEDULE: &str = "recurring-schedule";
    /// Activities that call the bank or wallet. Rate limited across every worker.
    pub const UPSTREAM: &str = "upstream";

    pub const ALL: [&str; 5] = [
        QUERY_ORDER,
        STALE_ORDER,
        MANUAL_HANDLE,
        RECURRING_SCHEDULE,
        UPSTREAM,
    ];
}

/// Workflow type names, pinned so that renaming a Rust type never breaks running workflows.
/// The workflows' `#[run(name = …)]` attributes spell the same names (a test checks).
pub mod workflow_types {
    pub const QUERY_ORDER: &str = "QueryOrder";
    pub const STALE_ORDER: &str = "StaleOrder";
    pub const MANUAL_HANDLE: &str = "ManualHandle";
    pub const RECURRING_PAYMENT: &str = "RecurringPayment";
}

/// What can go wrong between us and the Temporal server.
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
    #[error("Temporal refused the request: {0}")]
    Refused(String),
}

impl From<temporalio_client::tonic::Status> for TemporalError {
    fn from(status: temporalio_client::tonic::Status) -> Self {
        TemporalError::Refused(status.message().to_string())
    }
}
