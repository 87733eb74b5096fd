//! The names Temporal knows our work by: task queues and workflow types, pinned here so
//! that renaming a Rust type never breaks a running workflow.

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
    pub const CONTRACT_CHANGE: &str = "ContractChange";
    pub const CONSOLE_SESSIONS: &str = "ConsoleSessions";
    pub const STATEMENT_IMPORT: &str = "StatementImport";
    pub const CHARGE_LOOKUP: &str = "ChargeLookup";
}

/// A visibility condition for runs of an order workflow type on the queue our workers poll
/// for it: a run started from outside on another queue never runs our code, so whatever
/// search attributes its start gave stay as given (a "waiting order" claimed by anyone,
/// settled by any import). Runs on our queue hold theirs to their input on their first step.
pub fn on_our_queue(workflow_type: &str) -> String {
    let queue = match workflow_type {
        workflow_types::QUERY_ORDER => task_queues::QUERY_ORDER,
        workflow_types::STALE_ORDER => task_queues::STALE_ORDER,
        workflow_types::RECURRING_PAYMENT
        | workflow_types::CONTRACT_CHANGE
        | workflow_types::CHARGE_LOOKUP => task_queues::RECURRING_SCHEDULE,
        _ => task_queues::MANUAL_HANDLE,
    };
    format!("(WorkflowType = '{workflow_type}' AND TaskQueue = '{queue}')")
}

/// [`on_our_queue`] for the two stages an order waits in: stale and manual.
pub fn waiting_stages_on_our_queues() -> String {
    format!(
        "({} OR {})",
        on_our_queue(workflow_types::MANUAL_HANDLE),
        on_our_queue(workflow_types::STALE_ORDER)
    )
}
