//! An order's lane: each workflow of its path (described, with a timeline from its
//! history) and the state its open stage reports.

use std::time::SystemTime;
use temporalio_client::{
    Client, NamespacedClient, UntypedWorkflow, WorkflowDescribeOptions,
    errors::WorkflowInteractionError, tonic::IntoRequest,
};
use temporalio_common::protos::temporal::api::{
    common::v1::WorkflowExecution, enums::v1::EventType, history::v1::HistoryEvent,
    workflowservice::v1::GetWorkflowExecutionHistoryReverseRequest,
};

use super::{
    Missing, OpError,
    orders::{manual_context, stale_status},
};
use crate::{
    domain::format::rfc3339,
    domain::input::validate_order_id,
    domain::listing::{LaneStage, OrderLane, PendingCall, TimelineEvent},
    domain::order::OrderRequest,
    domain::order::{Stage, manual_workflow_id, query_workflow_id, stale_workflow_id},
    domain::resolution::{
        ApprovalRequest, Handoff, OrderNote, OrderOutcome, ResolutionRecord, Stamp,
    },
};

/// Events of one workflow shown in its timeline: the newest, in the order they happened.
/// One page of history per workflow, whatever its length.
pub const TIMELINE_EVENTS: usize = 200;

/// Where an execution's page is in Temporal's web UI.
#[derive(Debug, Clone)]
pub struct TemporalUi {
    pub url: String,
    pub namespace: String,
}

fn time(t: Option<SystemTime>) -> String {
    t.map(rfc3339).unwrap_or_default()
}

fn timeline_event(
    e: &temporalio_common::protos::temporal::api::history::v1::HistoryEvent,
) -> TimelineEvent {
    TimelineEvent {
        at: time(e.event_time.and_then(|t| SystemTime::try_from(t).ok())),
        what: EventType::try_from(e.event_type)
            .map(|t| {
                t.as_str_name()
                    .trim_start_matches("EVENT_TYPE_")
                    .replace('_', " ")
                    .to_lowercase()
            })
            .unwrap_or_else(|_| "event".into()),
    }
}

/// One workflow of the path as read: what the lane shows of it, and the events read.
struct StageRead {
    stage: LaneStage,
    run_id: String,
    /// The newest [`TIMELINE_EVENTS`] of its history, oldest of them first.
    events: Vec<HistoryEvent>,
}

/// One workflow of the path, or `None` if the order never reached it.
async fn stage(client: &Client, id: String, ui: &TemporalUi) -> Result<Option<StageRead>, OpError> {
    let handle = client.get_workflow_handle::<UntypedWorkflow>(id.clone());
    let description = match handle.describe(WorkflowDescribeOptions::default()).await {
        Ok(d) => d,
        Err(WorkflowInteractionError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(OpError::Temporal(e.into())),
    };
    let (events, earlier_events) = newest_events(client, &id, description.run_id()).await?;
    let stage = LaneStage {
        temporal_link: format!(
            "{}/namespaces/{}/workflows/{id}/{}/history",
            ui.url,
            ui.namespace,
            description.run_id()
        ),
        workflow_type: description.workflow_type().to_string(),
        status: format!("{:?}", description.status()),
        started_at: time(description.start_time()),
        closed_at: time(description.close_time()),
        workflow_id: id,
        timeline: events.iter().map(timeline_event).collect(),
        earlier_events,
        pending: description
            .raw_description
            .pending_activities
            .iter()
            .map(pending_call)
            .collect(),
    };
    Ok(Some(StageRead {
        stage,
        run_id: description.run_id().to_string(),
        events,
    }))
}

/// What an activity of ours does, as a person reads it.
fn call_words(activity_type: &str) -> String {
    match activity_type {
        "QueryUpstreamStatus" => "asking the bank about the order".into(),
        "ConcludeOrder" => "telling the bank the order's resolution".into(),
        "VerifyStatementSettlement" => "checking the statement import that settles it".into(),
        other => format!("running {other}"),
    }
}

/// A call Temporal holds for a running stage, with its tries.
fn pending_call(
    info: &temporalio_common::protos::temporal::api::workflow::v1::PendingActivityInfo,
) -> PendingCall {
    let at = |t: Option<&prost_wkt_types::Timestamp>| {
        time(t.and_then(|t| SystemTime::try_from(*t).ok()))
    };
    PendingCall {
        what: call_words(
            info.activity_type
                .as_ref()
                .map(|t| t.name.as_str())
                .unwrap_or_default(),
        ),
        attempt: u32::try_from(info.attempt).unwrap_or(0),
        max_attempts: u32::try_from(info.maximum_attempts).unwrap_or(0),
        since: at(info.scheduled_time.as_ref()),
        last_failure: info
            .last_failure
            .as_ref()
            .map(|f| f.message.clone())
            .unwrap_or_default(),
        last_tried_at: at(info.last_attempt_complete_time.as_ref()),
        next_try_at: at(info.next_attempt_schedule_time.as_ref()),
    }
}

/// What the order is for, as a run of its path was started with: QueryOrder's input, or
/// the hand-off a later stage was started with (which carries it).
fn order_started_in(events: &[HistoryEvent]) -> Option<OrderRequest> {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    events.iter().find_map(|e| match &e.attributes {
        Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
            let payload = a.input.as_ref()?.payloads.first()?;
            serde_json::from_slice::<OrderRequest>(&payload.data)
                .ok()
                .or_else(|| {
                    serde_json::from_slice::<Handoff>(&payload.data)
                        .ok()
                        .map(|h| h.order)
                })
        }
        _ => None,
    })
}

/// The resolution a run returned when it completed (an order QueryOrder or StaleOrder
/// settled from the bank's answer, or ManualHandle from a person's or a statement's).
fn resolution_returned_in(events: &[HistoryEvent]) -> Option<ResolutionRecord> {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    events.iter().rev().find_map(|e| match &e.attributes {
        Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) => {
            let payload = a.result.as_ref()?.payloads.first()?;
            match serde_json::from_slice::<OrderOutcome>(&payload.data).ok()? {
                OrderOutcome::Resolved(record) => Some(record),
                OrderOutcome::HandedOff { .. } => None,
            }
        }
        _ => None,
    })
}

/// What the order is for, from the first run of its path that was started with it: the
/// events already read, else that run's first event (a history longer than a timeline).
async fn order_of(
    client: &Client,
    reads: &[&Option<StageRead>],
) -> Result<Option<OrderRequest>, OpError> {
    let present = || reads.iter().filter_map(|r| r.as_ref());
    if let Some(order) = present().find_map(|r| order_started_in(&r.events)) {
        return Ok(Some(order));
    }
    let Some(first) = present().next() else {
        return Ok(None);
    };
    let events = crate::temporal::histories::events(
        client,
        &first.stage.workflow_id,
        &first.run_id,
        crate::temporal::histories::Events::First(1),
    )
    .await?;
    Ok(order_started_in(&events))
}

/// The newest [`TIMELINE_EVENTS`] of a run, oldest of them first, and whether it has more.
async fn newest_events(
    client: &Client,
    workflow_id: &str,
    run_id: &str,
) -> Result<(Vec<HistoryEvent>, bool), OpError> {
    let request = GetWorkflowExecutionHistoryReverseRequest {
        namespace: client.namespace(),
        execution: Some(WorkflowExecution {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
        }),
        maximum_page_size: TIMELINE_EVENTS as i32,
        next_page_token: Vec::new(),
    };
    let response = client
        .connection()
        .workflow_service()
        .get_workflow_execution_history_reverse(request.into_request())
        .await
        .map_err(|s| OpError::Temporal(s.into()))?
        .into_inner();
    let mut events = response.history.map(|h| h.events).unwrap_or_default();
    // The server pages in batches of events: a page may hold more than was asked for.
    let earlier = !response.next_page_token.is_empty() || events.len() > TIMELINE_EVENTS;
    events.truncate(TIMELINE_EVENTS);
    events.reverse();
    Ok((events, earlier))
}

/// The order's whole path; `operator` is who is looking (for their own claim).
pub async fn order_lane(
    client: &Client,
    order_id: String,
    ui: &TemporalUi,
    operator: Option<String>,
) -> Result<OrderLane, OpError> {
    validate_order_id(&order_id)?;
    let (q, s, m) = futures::try_join!(
        stage(client, query_workflow_id(&order_id), ui),
        stage(client, stale_workflow_id(&order_id), ui),
        stage(client, manual_workflow_id(&order_id), ui),
    )?;
    if q.is_none() && s.is_none() && m.is_none() {
        return Err(OpError::NotFound(Missing::Order(order_id)));
    }
    // What the order is for, and the resolution its furthest run returned, come from
    // Temporal's history: they read the same with no worker running.
    let order = order_of(client, &[&q, &s, &m]).await?;
    let returned = [&m, &s, &q]
        .into_iter()
        .flatten()
        .next()
        .and_then(|furthest| resolution_returned_in(&furthest.events));
    let (q, s, m) = (q.map(|r| r.stage), s.map(|r| r.stage), m.map(|r| r.stage));
    let running = |st: &Option<LaneStage>| st.as_ref().is_some_and(|s| s.status == "Running");
    let open_stage = [
        (&m, Stage::Manual),
        (&s, Stage::Stale),
        (&q, Stage::Querying),
    ]
    .into_iter()
    .find(|(st, _)| running(st))
    .map(|(_, stage)| stage.as_str().to_string());
    // Nothing running and the furthest stage did not complete: the order dropped out of
    // every queue (its lane must not read "resolved").
    let furthest_ended_unresolved = [&m, &s, &q]
        .into_iter()
        .flatten()
        .next()
        .is_some_and(|st| st.status != "Completed");
    let dropped = match open_stage.is_none() && furthest_ended_unresolved {
        true => match super::dropped::dropped_order(client, &order_id).await? {
            super::dropped::Dropped::Yes(_, row) => Some(row),
            _ => None,
        },
        false => None,
    };
    // A stage's live state (claim, proposal, notes, the stale timer) is its query's, which
    // needs a worker on its queue: when none answers, the lane says so, and offers nothing
    // to do, rather than show an order nobody has claimed.
    // Both are asked together: with a worker just stopped, each waits out its bound.
    let (stale, manual) = futures::join!(
        async {
            match s {
                Some(_) => Some(stale_status(client, &order_id).await),
                None => None,
            }
        },
        async {
            match m {
                Some(_) => Some(manual_context(client, &order_id).await),
                None => None,
            }
        },
    );
    let mut unread = None;
    let manual = manual.and_then(|read| read_live(read, &mut unread));
    let stale = stale.and_then(|read| read_live(read, &mut unread));
    // A put-back starts a new run, without the notes left on the one that ended: they are
    // read from the earlier runs' histories (what each run's validator accepted).
    let earlier_notes = match manual
        .as_ref()
        .is_some_and(|m| m.handoff.put_back.is_some())
    {
        true => earlier_notes(client, &order_id).await?,
        false => Vec::new(),
    };
    let stages: Vec<LaneStage> = [q, s, m].into_iter().flatten().collect();
    let since = stages
        .iter()
        .map(|st| st.started_at.as_str())
        .filter(|at| !at.is_empty())
        .min()
        .unwrap_or_default()
        .to_string();
    let left_out = super::statements::left_out_for(client, &[order_id.as_str()], &since).await?;
    Ok(OrderLane {
        order_id,
        stages,
        stale,
        manual,
        open_stage,
        operator,
        now: rfc3339(SystemTime::now()),
        dropped,
        earlier_notes,
        left_out,
        unread,
        order,
        returned,
    })
}

/// A stage's live state, or `None` with the reason it could not be read kept in `unread`
/// (the first such). A stage that is gone by now (a race with its end) is simply absent.
fn read_live<T>(read: Result<T, OpError>, unread: &mut Option<String>) -> Option<T> {
    match read {
        Ok(state) => Some(state),
        Err(OpError::NotFound(_)) => None,
        Err(e) => {
            tracing::warn!(error = %e, "an order's live state could not be read");
            let why = match e.kind() {
                crate::domain::ErrorKind::NoWorker => e.to_string(),
                _ => "Temporal did not answer in time".to_string(),
            };
            unread.get_or_insert(why);
            None
        }
    }
}

/// Runs of an order's ManualHandle before its latest whose notes its lane reads, at most
/// (each is one put-back after a run ended unresolved).
pub const EARLIER_RUNS_READ: i32 = 10;

/// The notes people left on the order's earlier manual runs (all but its latest), oldest
/// first: the `add_note` updates each run accepted, as its history keeps them.
async fn earlier_notes(client: &Client, order_id: &str) -> Result<Vec<OrderNote>, OpError> {
    let workflow_id = manual_workflow_id(order_id);
    let query = format!(
        "WorkflowId = {} AND WorkflowType = '{}'",
        super::queues::literal("order", &workflow_id)?,
        crate::temporal::names::workflow_types::MANUAL_HANDLE
    );
    let listed = crate::temporal::visibility::list_page(
        client,
        &query,
        EARLIER_RUNS_READ + 1,
        None,
        Some("StartTime DESC"),
    )
    .await?;
    let mut notes = Vec::new();
    for run in listed.executions.iter().skip(1) {
        let events = crate::temporal::histories::events(
            client,
            &workflow_id,
            &run.run_id,
            crate::temporal::histories::Events::Every,
        )
        .await?;
        notes.extend(notes_in(&events));
    }
    notes.sort_by(|a, b| a.by.at.cmp(&b.by.at));
    // A run reset from an earlier one carries its events (and notes) up to the reset.
    notes.dedup();
    Ok(notes)
}

/// The notes a run's history holds: each `add_note` update its validator accepted, with
/// when it was accepted.
fn notes_in(events: &[HistoryEvent]) -> Vec<OrderNote> {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => {
                let input = a.accepted_request.as_ref()?.input.as_ref()?;
                if input.name != "add_note" {
                    return None;
                }
                let payload = input.args.as_ref()?.payloads.first()?;
                let request: ApprovalRequest = serde_json::from_slice(&payload.data).ok()?;
                Some(OrderNote {
                    by: Stamp {
                        operator: request.operator,
                        operator_id: request.operator_id,
                        at: time(e.event_time.and_then(|t| SystemTime::try_from(t).ok())),
                    },
                    text: request.note,
                })
            }
            _ => None,
        })
        .collect()
}
