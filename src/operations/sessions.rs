//! Ended console sessions, kept in Temporal (`workflows::console_sessions`): sign-out ends
//! one, `user revoke` every session of a person; replicas read the list.

use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowQueryOptions, WorkflowStartOptions,
    errors::{WorkflowQueryError, WorkflowStartError},
};

use super::OpError;
use crate::{
    temporal::{TemporalError, names::task_queues},
    workflows::console_sessions::{
        ConsoleSessions, EndSession, Revocations, RevokePerson, WORKFLOW_ID,
    },
};

fn list_start_options() -> WorkflowStartOptions {
    WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, WORKFLOW_ID)
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .build()
}

/// Starts the list's workflow if it is not running (a console does at its start): a run
/// that continues no earlier one ends every session begun before it
/// ([`Revocations::whole_since`]), so the list is best begun before any session is.
pub async fn ensure_list(client: &Client) -> Result<(), OpError> {
    match client
        .start_workflow(
            ConsoleSessions::run,
            Revocations::default(),
            list_start_options(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(WorkflowStartError::Rpc(status)) => Err(OpError::Temporal(status.into())),
        Err(e) => Err(OpError::Temporal(TemporalError::client(e))),
    }
}

/// Starts the list's workflow if it is not running, and signals it `change`: the server
/// keeps the signal at once, whether or not a worker runs now.
async fn signal_list<S>(client: &Client, signal: S, input: S::Input) -> Result<(), OpError>
where
    S: temporalio_common::SignalDefinition<
            Workflow = <ConsoleSessions as temporalio_common::HasWorkflowDefinition>::Run,
        >,
    S::Input: Send,
{
    match client
        .signal_with_start_workflow(
            ConsoleSessions::run,
            Revocations::default(),
            signal,
            input,
            list_start_options(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(WorkflowStartError::Rpc(status)) => Err(OpError::Temporal(status.into())),
        Err(e) => Err(OpError::Temporal(TemporalError::client(e))),
    }
}

/// Ends one session (sign-out): it is refused until `until` (seconds since 1970), when it
/// would have expired by itself.
pub async fn end_session(
    client: &Client,
    session: &str,
    until: i64,
    by: &str,
) -> Result<(), OpError> {
    let request = EndSession {
        session: session.to_string(),
        until,
        by: by.to_string(),
    };
    if !request.well_formed() {
        return Err(OpError::Rejected("that session cannot be ended".into()));
    }
    signal_list(client, ConsoleSessions::end_session, request).await
}

/// Ends every session of `person` (a name, or an `oidc:` id) begun until now; returns
/// that time (seconds since 1970).
pub async fn revoke_person(client: &Client, person: &str, by: &str) -> Result<i64, OpError> {
    let after = chrono::Utc::now().timestamp();
    let request = RevokePerson {
        person: person.to_string(),
        after,
        by: by.to_string(),
    };
    if !request.well_formed() {
        return Err(OpError::Invalid(
            crate::domain::input::InputError::Missing { field: "person" },
        ));
    }
    signal_list(client, ConsoleSessions::revoke_person, request).await?;
    Ok(after)
}

/// The list as it is now; empty if nobody ever ended a session.
pub async fn revocations(client: &Client) -> Result<Revocations, OpError> {
    let answer = client
        .get_workflow_handle::<ConsoleSessions>(WORKFLOW_ID)
        .query(
            ConsoleSessions::revocations,
            (),
            WorkflowQueryOptions::default(),
        )
        .await;
    match answer {
        Ok(list) => Ok(list),
        Err(WorkflowQueryError::NotFound(_)) => Ok(Revocations::default()),
        Err(e) => Err(OpError::Temporal(e.into())),
    }
}
