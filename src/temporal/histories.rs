//! Reading a run's history straight from the workflow service: every event (the audit
//! trail), the first few (whether a run ever ran), or only the close event (why a run
//! failed). The SDK's handle reads whole histories only.

use temporalio_client::{Client, NamespacedClient, tonic::IntoRequest};
use temporalio_common::protos::temporal::api::{
    common::v1::WorkflowExecution, enums::v1::HistoryEventFilterType, history::v1::HistoryEvent,
    workflowservice::v1::GetWorkflowExecutionHistoryRequest,
};

use super::TemporalError;

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
            maximum_page_size: match which {
                Events::First(n) => n,
                _ => 0,
            },
            history_event_filter_type: match which {
                Events::Close => HistoryEventFilterType::CloseEvent as i32,
                _ => HistoryEventFilterType::AllEvent as i32,
            },
            next_page_token: token,
            ..Default::default()
        };
        let page = service
            .get_workflow_execution_history(request.into_request())
            .await?
            .into_inner();
        events.extend(page.history.map(|h| h.events).unwrap_or_default());
        if page.next_page_token.is_empty() || which != Events::Every {
            return Ok(events);
        }
        token = page.next_page_token;
    }
}
