//! Dropped orders: an order whose latest run ended without a resolution (terminated from
//! Temporal's CLI or web UI, failed, timed out, cancelled) waits in no queue, and nothing
//! would ever bring it back. The list finds them in visibility; a person puts one back in
//! the manual queue, saying why, and the new run records who did and what had ended.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
    errors::WorkflowStartError,
};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::search_attributes::SearchAttributes;

use super::{OpError, counted};
use crate::{
    domain::format::rfc3339,
    domain::input::{InputError, validate_note, validate_operator, validate_order_id},
    domain::listing::{DROPPED_WINDOW_DAYS, DroppedOrder, DroppedOrders},
    domain::order::{OrderRequest, Stage, manual_workflow_id},
    domain::resolution::{Handoff, PutBack, Stamp},
    temporal::histories::{self, Events},
    temporal::names::{task_queues, workflow_types},
    temporal::search_attributes as sa,
    temporal::visibility::{self, ListedExecution},
    upstream::activities::error_types,
    workflows::manual_handle::ManualHandle,
    workflows::manual_start_attributes,
};

/// Orders the list shows at most (newest first); past them it says it is partial.
pub const DROPPED_READ: i32 = 100;
/// Runs that ended unresolved one page reads (newest first), and pages read at most: an
/// order put back keeps its ended run, so after a batch terminate put back a hundred at a
/// time the next hundred lie behind those. Past the pages the list says it is partial.
const ENDED_PAGE: i32 = 500;
const ENDED_PAGES: usize = 10;
/// Orders asked about in one list of the runs that hold them (its `IN` clause).
const HELD_ASKED_AT_ONCE: usize = 100;
/// Close events read at once.
const HISTORIES_AT_ONCE: usize = 8;

/// The runs of an order's path (its three stages).
fn order_runs() -> String {
    use crate::temporal::names::on_our_queue;
    // On our queues only: a run started elsewhere never ran our code, and a handoff it
    // was given is no order of ours to put back.
    format!(
        "({} OR {} OR {})",
        on_our_queue(workflow_types::QUERY_ORDER),
        on_our_queue(workflow_types::STALE_ORDER),
        on_our_queue(workflow_types::MANUAL_HANDLE)
    )
}

/// Runs that ended without completing.
const ENDED_UNRESOLVED: &str =
    "ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut', 'Canceled')";

/// Every dropped order of the last [`DROPPED_WINDOW_DAYS`], newest first.
pub async fn dropped_orders(client: &Client) -> Result<DroppedOrders, OpError> {
    let since = SystemTime::now() - Duration::from_secs(DROPPED_WINDOW_DAYS * 86_400);
    let query = format!(
        "{} AND {ENDED_UNRESOLVED} AND CloseTime >= '{}'",
        order_runs(),
        rfc3339(since)
    );
    // The newest ended run of each order; an id no order of ours could have is not one.
    let mut seen = HashSet::new();
    let mut dropped: Vec<(String, ListedExecution)> = Vec::new();
    let mut token: Option<String> = None;
    let mut partial = false;
    for read in 1..=ENDED_PAGES {
        let page =
            visibility::list_page(client, &query, ENDED_PAGE, token.as_deref(), None).await?;
        let ended: Vec<(String, ListedExecution)> = page
            .executions
            .into_iter()
            .filter_map(|e| {
                let id: String = e.attributes.get(&sa::ORDER_ID).unwrap_or_default();
                (validate_order_id(&id).is_ok() && seen.insert(id.clone())).then_some((id, e))
            })
            .collect();
        for batch in ended.chunks(HELD_ASKED_AT_ONCE) {
            let ids: Vec<&str> = batch.iter().map(|(id, _)| id.as_str()).collect();
            let held = held_orders(client, &ids).await?;
            dropped.extend(batch.iter().filter(|(id, _)| !held.contains(id)).cloned());
        }
        let more = page.next_page.is_some();
        if dropped.len() >= DROPPED_READ as usize {
            partial = more || dropped.len() > DROPPED_READ as usize;
            dropped.truncate(DROPPED_READ as usize);
            break;
        }
        match page.next_page {
            Some(next) if read < ENDED_PAGES => token = Some(next),
            Some(_) => partial = true,
            None => break,
        }
    }
    let rows = futures::stream::iter(dropped)
        .map(|(id, e)| dropped_row(client, id, e))
        .buffered(HISTORIES_AT_ONCE)
        .collect()
        .await;
    Ok(DroppedOrders { rows, partial })
}

/// Of `ids`, the orders a run holds now (running) or that were resolved.
async fn held_orders(client: &Client, ids: &[&str]) -> Result<HashSet<String>, OpError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let quoted: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
    let query = format!(
        "{} AND {} IN ({}) AND (ExecutionStatus = 'Running' OR {} = '{}')",
        order_runs(),
        sa::ORDER_ID.name(),
        quoted.join(", "),
        sa::ORDER_STAGE.name(),
        Stage::Resolved.as_str()
    );
    // Each order has a few such runs (its stages, and runs before a reset): a page or two.
    let mut held = HashSet::new();
    let mut token: Option<String> = None;
    for _ in 0..HELD_PAGES {
        let page =
            visibility::list_page(client, &query, HELD_PAGE_SIZE, token.as_deref(), None).await?;
        held.extend(
            page.executions
                .into_iter()
                .filter_map(|e| e.attributes.get(&sa::ORDER_ID)),
        );
        match page.next_page {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(held)
}

/// Runs read a page when finding which orders a run holds or resolved, and pages at most:
/// past them an order is listed as dropped, and putting it back is refused ("not
/// dropped"), since that reads its own runs alone.
const HELD_PAGE_SIZE: i32 = 1_000;
const HELD_PAGES: usize = 5;

/// A dropped run's row: how it ended, by whom and why, from its close event (a run whose
/// history cannot be read is still listed, with its status alone).
async fn dropped_row(client: &Client, order_id: String, e: ListedExecution) -> DroppedOrder {
    let mut row = DroppedOrder {
        order_id,
        workflow_id: e.workflow_id.clone(),
        stage: e.workflow_type.clone(),
        ended: e.ended_unfinished().unwrap_or("ended").to_string(),
        ended_at: e.close_time.map(rfc3339).unwrap_or_default(),
        by: String::new(),
        why: String::new(),
    };
    match histories::ending(client, &e.workflow_id, &e.run_id).await {
        Ok(ending) => {
            row.by = ending.by;
            row.why = ending.why;
        }
        Err(error) => {
            tracing::warn!(workflow_id = %e.workflow_id, %error, "a dropped run's close event")
        }
    }
    row
}

/// Whether an order is dropped, and if so its latest run that ended unresolved.
// Read once per order, so boxing the listed run would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Dropped {
    Yes(ListedExecution, DroppedOrder),
    /// None of its runs ended without a resolution.
    NeverEnded,
    /// A run holds it now, or it was resolved.
    Held,
}

/// Whether `order_id` is dropped: its latest run that ended unresolved, and no run that
/// holds it or resolved it (one list, one more, one close event).
pub async fn dropped_order(client: &Client, order_id: &str) -> Result<Dropped, OpError> {
    validate_order_id(order_id)?;
    let query = format!(
        "{} AND {ENDED_UNRESOLVED} AND {} = '{order_id}'",
        order_runs(),
        sa::ORDER_ID.name()
    );
    let listed = visibility::list_page(client, &query, 1, None, None).await?;
    let Some(run) = listed.executions.into_iter().next() else {
        return Ok(Dropped::NeverEnded);
    };
    if !held_orders(client, &[order_id]).await?.is_empty() {
        return Ok(Dropped::Held);
    }
    let row = dropped_row(client, order_id.to_string(), run.clone()).await;
    Ok(Dropped::Yes(run, row))
}

/// Puts a dropped order back in the manual queue for `by`, saying `reason`: a new
/// ManualHandle run with the order the ended run held, and who put it back, when, why and
/// what had ended. Refused when the order is not dropped (a run holds it, it was resolved,
/// or no run of it ended unresolved) and when its order is not one this system takes.
pub async fn put_back(
    client: &Client,
    order_id: &str,
    by: Stamp,
    reason: &str,
) -> Result<String, OpError> {
    counted(
        "put_back",
        put_back_checked(client, order_id, by, reason).await,
    )
}

/// The checks of a put-back's input, before anything is asked of Temporal (the CLI makes
/// them before it connects): an order id, a person, and a reason.
pub fn check_put_back(order_id: &str, operator: &str, reason: &str) -> Result<(), InputError> {
    validate_order_id(order_id)?;
    validate_operator(operator)?;
    if reason.trim().is_empty() {
        return Err(InputError::Missing { field: "reason" });
    }
    validate_note(reason)
}

async fn put_back_checked(
    client: &Client,
    order_id: &str,
    by: Stamp,
    reason: &str,
) -> Result<String, OpError> {
    check_put_back(order_id, &by.operator, reason)?;
    let (run, dropped) = match dropped_order(client, order_id).await? {
        Dropped::Yes(run, row) => (run, row),
        Dropped::NeverEnded => {
            return Err(OpError::Rejected(format!(
                "order {order_id} has no run that ended without a resolution: there is \
                 nothing to put back"
            )));
        }
        Dropped::Held => {
            return Err(OpError::Rejected(format!(
                "order {order_id} is not dropped: it waits in a queue or was resolved"
            )));
        }
    };
    let first = histories::events(client, &run.workflow_id, &run.run_id, Events::First(1)).await?;
    let input = first.first().and_then(|e| match &e.attributes {
        Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
            a.input.as_ref()?.payloads.first().map(|p| p.data.clone())
        }
        _ => None,
    });
    let unreadable = || {
        OpError::Rejected(format!(
            "order {order_id} cannot go back to the queue: the run that ended holds no order \
             this system can read"
        ))
    };
    let input = input.ok_or_else(unreadable)?;
    let mut handoff = match run.workflow_type.as_str() {
        workflow_types::QUERY_ORDER => {
            let order: OrderRequest = serde_json::from_slice(&input).map_err(|_| unreadable())?;
            Handoff {
                order,
                attempts: 0,
                original_error: String::new(),
                stale_retry_error: None,
                error_reason: String::new(),
                original_reason: String::new(),
                proposal: None,
                seen: None,
                refused: None,
                put_back: None,
            }
        }
        _ => serde_json::from_slice::<Handoff>(&input).map_err(|_| unreadable())?,
    };
    if handoff.order.order_id != order_id {
        return Err(unreadable());
    }
    if let Err(e) = handoff.order.validate() {
        return Err(OpError::Rejected(format!(
            "order {order_id} cannot go back to the queue: it is not an order this system \
             takes: {e}"
        )));
    }
    handoff.error_reason = error_types::PUT_BACK.to_string();
    // A proposal the ended run started with may have been rejected there (its state is
    // gone with it): a person decides afresh, and proposes again if the order needs it.
    handoff.proposal = None;
    handoff.put_back = Some(PutBack {
        by: Stamp {
            at: rfc3339(SystemTime::now()),
            ..by
        },
        reason: reason.trim().to_string(),
        dropped: dropped.sentence(),
    });
    let workflow_id = manual_workflow_id(order_id);
    // Its actors as the run will hold them: who put it back.
    let attributes = manual_start_attributes(&handoff);
    let options = WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, workflow_id.clone())
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
        .search_attributes(SearchAttributes::new(attributes))
        .build();
    match client
        .start_workflow(ManualHandle::run, handoff, options)
        .await
    {
        Ok(_) => Ok(workflow_id),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Err(OpError::Rejected(format!(
            "order {order_id} already waits in the manual queue"
        ))),
        Err(WorkflowStartError::Rpc(status)) => Err(OpError::Temporal(status.into())),
        Err(e) => Err(OpError::Temporal(crate::temporal::TemporalError::client(e))),
    }
}

/// What putting every dropped order back did: how many went back, and each order that
/// could not, with why (it stays on the list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutBackAll {
    pub put_back: usize,
    pub refused: Vec<(String, String)>,
}

/// Puts every order on the dropped list back in the manual queue, for `by`, with one
/// `reason`: only if the list still holds the `expected` orders the person was shown (a
/// batch terminate from Temporal's CLI drops many at once, and the list may change).
pub async fn put_back_all(
    client: &Client,
    expected: usize,
    by: Stamp,
    reason: &str,
) -> Result<PutBackAll, OpError> {
    let checked = async {
        validate_operator(&by.operator)?;
        if reason.trim().is_empty() {
            return Err(InputError::Missing { field: "reason" }.into());
        }
        validate_note(reason)?;
        let list = dropped_orders(client).await?;
        if list.rows.len() != expected {
            return Err(OpError::Rejected(format!(
                "the list changed: {} orders are dropped now, not {expected}; look again \
                 before putting them back",
                list.rows.len()
            )));
        }
        let mut done = PutBackAll::default();
        for row in list.rows {
            match put_back(client, &row.order_id, by.clone(), reason).await {
                Ok(_) => done.put_back += 1,
                Err(e) => done.refused.push((row.order_id, e.to_string())),
            }
        }
        Ok(done)
    };
    counted("put_back_all", checked.await)
}
