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

/// How long a replica waits for the list's query: a running worker answers in
/// milliseconds, and without one the replica reads the list's history instead
/// ([`signalled`]) rather than wait half a minute for Temporal to give up.
pub const LIST_QUERY_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The list as it is now; empty if nobody ever ended a session.
pub async fn revocations(client: &Client) -> Result<Revocations, OpError> {
    let handle = client.get_workflow_handle::<ConsoleSessions>(WORKFLOW_ID);
    let query = handle.query(
        ConsoleSessions::revocations,
        (),
        WorkflowQueryOptions::default(),
    );
    match tokio::time::timeout(LIST_QUERY_WAIT, query).await {
        Ok(Ok(list)) => Ok(list),
        Ok(Err(WorkflowQueryError::NotFound(_))) => Ok(Revocations::default()),
        Ok(Err(e)) => Err(OpError::Temporal(e.into())),
        Err(_) => Err(OpError::Temporal(TemporalError::WorkerSilent {
            workflow_id: WORKFLOW_ID.to_string(),
            secs: LIST_QUERY_WAIT.as_secs(),
        })),
    }
}

/// What the list's latest run was signalled to end, read from its history (which needs no
/// worker): every well-formed `end_session` and `revoke_person`, held as the workflow holds
/// them to the time Temporal recorded each (a session ended at most `KEEP_PERSON_SECS`
/// ahead, a cut at most `CUT_AHEAD_SECS`). While no worker answers the list's query, a
/// replica adds these to the last list it read, so a sign-out or `user revoke` made
/// meanwhile still ends the session everywhere. It only ever adds: what the workflow would
/// ignore (a cut moved back) ends nothing more than the list already does.
pub async fn signalled(client: &Client) -> Result<Revocations, OpError> {
    use crate::temporal::histories::{Events, events};
    use crate::workflows::console_sessions::{
        CUT_AHEAD_SECS, EndedSession, KEEP_PERSON_SECS, PersonCut,
    };
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let history = events(client, WORKFLOW_ID, "", Events::Every).await?;
    let mut list = Revocations::default();
    for event in &history {
        let Some(Attributes::WorkflowExecutionSignaledEventAttributes(a)) = &event.attributes
        else {
            continue;
        };
        let at = event
            .event_time
            .and_then(|t| std::time::SystemTime::try_from(t).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        let Some(data) = a
            .input
            .as_ref()
            .and_then(|p| p.payloads.first())
            .map(|p| p.data.as_slice())
        else {
            continue;
        };
        match a.signal_name.as_str() {
            "end_session" => {
                let Ok(request) = serde_json::from_slice::<EndSession>(data) else {
                    continue;
                };
                if request.well_formed()
                    && !list.sessions.iter().any(|s| s.session == request.session)
                {
                    list.sessions.push(EndedSession {
                        until: request.until.min(at.saturating_add(KEEP_PERSON_SECS)),
                        session: request.session,
                        by: request.by,
                    });
                }
            }
            "revoke_person" => {
                let Ok(request) = serde_json::from_slice::<RevokePerson>(data) else {
                    continue;
                };
                if request.well_formed() {
                    list.people.push(PersonCut {
                        after: request.after.min(at.saturating_add(CUT_AHEAD_SECS)),
                        person: request.person,
                        by: request.by,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(list)
}
