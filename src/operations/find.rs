//! *Find an order*: a merchant or a colleague names an order, the start of its id, or the
//! gateway's reference for it, and support sees where each such order stands, whatever its
//! stage, running or closed (the manual queue's filter sees only what waits there).

use std::collections::HashMap;
use temporalio_client::Client;

use super::OpError;
use crate::{
    domain::format::rfc3339,
    domain::input::InputError,
    domain::listing::{FoundOrder, FoundOrders},
    domain::order::Stage,
    temporal::names::{on_our_queue, workflow_types},
    temporal::search_attributes as sa,
    temporal::visibility::{self, ListedExecution},
};

/// Runs one search reads (an order has one to three, more once put back): past them the
/// page asks for more of the id.
pub const FIND_RUNS_READ: i32 = 300;

/// How far along the path a workflow type is: the furthest run says where an order stands.
fn depth(workflow_type: &str) -> u8 {
    match workflow_type {
        workflow_types::MANUAL_HANDLE => 3,
        workflow_types::STALE_ORDER => 2,
        _ => 1,
    }
}

/// Every order whose id starts with `text` (the id itself included) or whose gateway
/// reference is `text`, newest first, from one read of at most [`FIND_RUNS_READ`] runs on
/// our queues.
pub async fn find_orders(client: &Client, text: &str) -> Result<FoundOrders, OpError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InputError::Missing { field: "order id" }.into());
    }
    // What no order id can hold, no order's id starts with: said as such.
    crate::domain::input::validate_order_id(text)?;
    let literal = super::queues::literal("order id", text)?;
    // Text attributes match by words (`GW-7` finds `gw 7` too): rows are kept exact below.
    let query = format!(
        "({} STARTS_WITH {literal} OR {} = {literal}) AND ({} OR {} OR {})",
        sa::ORDER_ID.name(),
        sa::GATEWAY_REFERENCE.name(),
        on_our_queue(workflow_types::QUERY_ORDER),
        on_our_queue(workflow_types::STALE_ORDER),
        on_our_queue(workflow_types::MANUAL_HANDLE),
    );
    let listed = visibility::list_page(client, &query, FIND_RUNS_READ, None, None).await?;
    let rows: Vec<FoundOrder> = found(listed.executions)
        .into_iter()
        .filter(|r| r.order_id.starts_with(text) || r.reference == text)
        .collect();
    // Typed into the same box by finance: a recurring contract's id, when no order matches.
    let contract = match rows.is_empty() {
        true => contract_named(client, text).await?,
        false => None,
    };
    Ok(FoundOrders {
        text: text.to_string(),
        more: listed.next_page.is_some(),
        rows,
        contract,
    })
}

/// `text`, when it is the id of one of our recurring contracts (a schedule that starts our
/// `RecurringPayment`): one describe.
async fn contract_named(client: &Client, text: &str) -> Result<Option<String>, OpError> {
    use crate::temporal::schedules;
    match schedules::describe(client, text).await {
        Ok(described) => Ok((schedules::started_type(&described)
            == Some(workflow_types::RECURRING_PAYMENT))
        .then(|| text.to_string())),
        Err(status) if status.code() == temporalio_client::tonic::Code::NotFound => Ok(None),
        Err(status) => Err(OpError::Temporal(status.into())),
    }
}

/// The runs read, one row per order: where its furthest run stands (a running one before
/// all, since an order has at most one), newest order first.
fn found(runs: Vec<ListedExecution>) -> Vec<FoundOrder> {
    let mut by_order: HashMap<String, Vec<ListedExecution>> = HashMap::new();
    for run in runs {
        if let Some(id) = run.attributes.get(&sa::ORDER_ID) {
            by_order.entry(id).or_default().push(run);
        }
    }
    let mut rows: Vec<FoundOrder> = by_order
        .into_iter()
        .filter_map(|(order_id, runs)| {
            let started_at = runs.iter().filter_map(|r| r.start_time).min();
            let furthest = runs
                .iter()
                .max_by_key(|r| (r.status == "RUNNING", depth(&r.workflow_type), r.start_time))?;
            let (stage, ended) = match (furthest.status.as_str(), furthest.ended_unfinished()) {
                ("RUNNING", _) => (
                    furthest
                        .attributes
                        .get(&sa::ORDER_STAGE)
                        .unwrap_or_default(),
                    String::new(),
                ),
                (_, Some(how)) => ("dropped".to_string(), how.to_string()),
                _ => (Stage::Resolved.to_string(), String::new()),
            };
            let resolution = match stage == Stage::Resolved.as_str() {
                true => furthest
                    .attributes
                    .get(&sa::ORDER_RESOLUTION)
                    .unwrap_or_default(),
                false => String::new(),
            };
            Some(FoundOrder {
                stage,
                resolution,
                ended,
                provider: furthest
                    .attributes
                    .get(&sa::UPSTREAM_PROVIDER)
                    .unwrap_or_default(),
                amount: super::queues::listed_amount(&furthest.attributes),
                reference: runs
                    .iter()
                    .find_map(|r| r.attributes.get(&sa::GATEWAY_REFERENCE))
                    .unwrap_or_default(),
                started_at: started_at.map(rfc3339).unwrap_or_default(),
                order_id,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.started_at
            .cmp(&a.started_at)
            .then_with(|| a.order_id.cmp(&b.order_id))
    });
    rows
}

/// The lane to open at once: the order whose id is exactly what was typed, else the one
/// order whose gateway reference is.
pub fn exact(found: &FoundOrders) -> Option<&FoundOrder> {
    if let Some(row) = found.rows.iter().find(|r| r.order_id == found.text) {
        return Some(row);
    }
    let mut by_reference = found.rows.iter().filter(|r| r.reference == found.text);
    match (by_reference.next(), by_reference.next()) {
        (Some(row), None) => Some(row),
        _ => None,
    }
}
