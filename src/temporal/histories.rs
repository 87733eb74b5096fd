//! Reading a run's history straight from the workflow service: every event (the audit
//! trail), the first few (whether a run ever ran), or only the close event (why a run
//! failed). The SDK's handle reads whole histories only.

use temporalio_client::{Client, NamespacedClient, WorkflowExecutionStatus, tonic::IntoRequest};
use temporalio_common::protos::temporal::api::{
    common::v1::WorkflowExecution,
    enums::v1::HistoryEventFilterType,
    history::v1::{HistoryEvent, history_event::Attributes},
    workflowservice::v1::GetWorkflowExecutionHistoryRequest,
};

use super::TemporalError;

/// Whether `event` closes its run (completed, failed, timed out, terminated, cancelled or
/// continued as new).
pub fn closes(event: &HistoryEvent) -> bool {
    matches!(
        event.attributes,
        Some(
            Attributes::WorkflowExecutionCompletedEventAttributes(_)
                | Attributes::WorkflowExecutionFailedEventAttributes(_)
                | Attributes::WorkflowExecutionTimedOutEventAttributes(_)
                | Attributes::WorkflowExecutionTerminatedEventAttributes(_)
                | Attributes::WorkflowExecutionCanceledEventAttributes(_)
                | Attributes::WorkflowExecutionContinuedAsNewEventAttributes(_)
        )
    )
}

/// Which events of a run to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    /// Every event, page after page.
    Every,
    /// The first `n` events (one page).
    First(i32),
    /// The close event only (none while the run is open).
    Close,
}

/// The events `which` of the run `run_id` of `workflow_id` (its latest run when `run_id`
/// is empty).
pub async fn events(
    client: &Client,
    workflow_id: &str,
    run_id: &str,
    which: Events,
) -> Result<Vec<HistoryEvent>, TemporalError> {
    let (page_size, filter) = match which {
        Events::First(n) => (n, HistoryEventFilterType::AllEvent),
        Events::Close => (0, HistoryEventFilterType::CloseEvent),
        Events::Every => (0, HistoryEventFilterType::AllEvent),
    };
    // One page, except for every event.
    read(client, workflow_id, run_id, page_size, filter, |_| {
        which != Events::Every
    })
    .await
}

/// The events of the run `run_id` of `workflow_id` from its start, page after page, until
/// `enough` says so of the events read or `limit` events are read (a page may bring a few
/// more).
pub async fn events_until(
    client: &Client,
    workflow_id: &str,
    run_id: &str,
    limit: usize,
    mut enough: impl FnMut(&[HistoryEvent]) -> bool,
) -> Result<Vec<HistoryEvent>, TemporalError> {
    read(
        client,
        workflow_id,
        run_id,
        200,
        HistoryEventFilterType::AllEvent,
        |events| events.len() >= limit || enough(events),
    )
    .await
}

/// Pages of a run's history, `page_size` events each (0: the server's), until the last
/// page or until `done` says so of the events read.
async fn read(
    client: &Client,
    workflow_id: &str,
    run_id: &str,
    page_size: i32,
    filter: HistoryEventFilterType,
    mut done: impl FnMut(&[HistoryEvent]) -> bool,
) -> Result<Vec<HistoryEvent>, TemporalError> {
    let mut service = client.connection().workflow_service();
    let mut events = Vec::new();
    let mut token = Vec::new();
    loop {
        let request = GetWorkflowExecutionHistoryRequest {
            namespace: client.namespace(),
            execution: Some(WorkflowExecution {
                workflow_id: workflow_id.to_string(),
                run_id: run_id.to_string(),
            }),
            maximum_page_size: page_size,
            history_event_filter_type: filter as i32,
            next_page_token: token,
            ..Default::default()
        };
        let page = service
            .get_workflow_execution_history(request.into_request())
            .await?
            .into_inner();
        events.extend(page.history.map(|h| h.events).unwrap_or_default());
        if page.next_page_token.is_empty() || done(&events) {
            return Ok(events);
        }
        token = page.next_page_token;
    }
}

/// Who ended a run that did not complete, and why, as its close event records it: a
/// termination's identity and reason, a failure's message, a timeout. Empty for a run that
/// completed, was cancelled without a reason, or is still open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ending {
    /// The identity Temporal recorded for a termination (`temporal-cli:…`, a worker's, ours).
    pub by: String,
    pub why: String,
}

/// How a run ended when it did not complete, in a word ("terminated", "failed", "timed
/// out", "cancelled"); `None` while it runs, once it completed or continued as new.
pub fn ended_unfinished(status: WorkflowExecutionStatus) -> Option<&'static str> {
    match status {
        WorkflowExecutionStatus::Terminated => Some("terminated"),
        WorkflowExecutionStatus::Failed => Some("failed"),
        WorkflowExecutionStatus::TimedOut => Some("timed out"),
        WorkflowExecutionStatus::Canceled => Some("cancelled"),
        _ => None,
    }
}

/// How the run `run_id` of `workflow_id` ended (its latest run when `run_id` is empty):
/// one read of its close event.
pub async fn ending(
    client: &Client,
    workflow_id: &str,
    run_id: &str,
) -> Result<Ending, TemporalError> {
    let close = events(client, workflow_id, run_id, Events::Close).await?;
    Ok(match close.first().and_then(|e| e.attributes.as_ref()) {
        Some(Attributes::WorkflowExecutionTerminatedEventAttributes(a)) => Ending {
            by: a.identity.clone(),
            why: a.reason.clone(),
        },
        Some(Attributes::WorkflowExecutionFailedEventAttributes(a)) => Ending {
            by: String::new(),
            why: a
                .failure
                .as_ref()
                .map(|f| f.message.clone())
                .unwrap_or_default(),
        },
        Some(Attributes::WorkflowExecutionTimedOutEventAttributes(_)) => Ending {
            by: String::new(),
            why: "it ran past its execution timeout".into(),
        },
        _ => Ending::default(),
    })
}
