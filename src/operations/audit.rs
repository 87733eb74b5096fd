//! The audit trail, read from Temporal (no copy): who did what to which order, from the
//! histories of the orders whose `Actors` name a person, and who last changed each
//! contract, from the contract's schedule. Refused requests never reach Temporal; they are
//! in the log under the `audit` target.

use std::{collections::HashMap, time::SystemTime};
use temporalio_client::{Client, UntypedWorkflow};
use temporalio_common::protos::temporal::api::{
    common::v1::Payloads,
    history::v1::{HistoryEvent, history_event::Attributes},
    update::v1::outcome,
};

use super::{OpError, contracts, queues::literal};
use crate::{
    domain::audit::{AuditEntry, AuditFilter, AuditPage},
    domain::format::rfc3339,
    temporal::names::workflow_types,
    temporal::{search_attributes as sa, visibility},
};

/// Orders whose histories one page reads.
pub const AUDIT_ORDERS_PER_PAGE: i32 = 20;
/// Orders an export reads at most (the CSV says so when it stops there).
pub const MAX_EXPORT_ORDERS: usize = 1_000;

/// The visibility query for the orders a filter covers.
pub fn orders_query(filter: &AuditFilter) -> Result<String, OpError> {
    let mut q = format!(
        "WorkflowType IN ('{}', '{}')",
        workflow_types::MANUAL_HANDLE,
        workflow_types::STALE_ORDER
    );
    match filter.actor.trim() {
        "" => q += &format!(" AND {} IS NOT NULL", sa::ACTORS.name()),
        actor => q += &format!(" AND {} = {}", sa::ACTORS.name(), literal("person", actor)?),
    }
    if let Some(since) = filter.since()? {
        q += &format!(" AND (CloseTime >= '{since}' OR ExecutionStatus = 'Running')");
    }
    if let Some(until) = filter.until()? {
        q += &format!(" AND StartTime <= '{until}'");
    }
    Ok(q)
}

fn first_json(payloads: Option<&Payloads>) -> serde_json::Value {
    payloads
        .and_then(|p| p.payloads.first())
        .and_then(|p| serde_json::from_slice(&p.data).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The person an update's or signal's argument names.
fn operator_of(argument: &serde_json::Value) -> String {
    match argument {
        serde_json::Value::String(name) => name.clone(),
        other => other
            .get("operator")
            .and_then(|o| o.as_str())
            .unwrap_or_default()
            .to_string(),
    }
}

/// What an update or signal did, in words: `claim`, `resolve paid`, `reject: why`.
fn action_of(name: &str, argument: &serde_json::Value) -> String {
    let field = |k: &str| argument.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    match name {
        "resolve" | "propose" => {
            format!("{name} {} ({})", field("resolution"), field("reason_code"))
        }
        "reject" => format!("reject: {}", field("note")),
        "resolve-manual-order" => {
            format!("resolve {} (signal)", argument.as_str().unwrap_or_default())
        }
        other => other.to_string(),
    }
}

fn time(e: &HistoryEvent) -> String {
    e.event_time
        .and_then(|t| SystemTime::try_from(t).ok())
        .map(rfc3339)
        .unwrap_or_default()
}

/// The entries of one order's history: every accepted update (with its outcome) and every
/// signal a person sent.
pub fn entries_of(order_id: &str, events: &[HistoryEvent]) -> Vec<AuditEntry> {
    let mut outcomes: HashMap<String, String> = HashMap::new();
    for e in events {
        if let Some(Attributes::WorkflowExecutionUpdateCompletedEventAttributes(a)) = &e.attributes
        {
            let id = a
                .meta
                .as_ref()
                .map(|m| m.update_id.clone())
                .unwrap_or_default();
            let outcome = match a.outcome.as_ref().and_then(|o| o.value.as_ref()) {
                Some(outcome::Value::Failure(f)) => format!("failed: {}", f.message),
                _ => "done".to_string(),
            };
            outcomes.insert(id, outcome);
        }
    }
    let mut entries = Vec::new();
    for e in events {
        match &e.attributes {
            Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => {
                let Some(request) = &a.accepted_request else {
                    continue;
                };
                let (id, origin) = request
                    .meta
                    .as_ref()
                    .map(|m| (m.update_id.clone(), m.identity.clone()))
                    .unwrap_or_default();
                let Some(input) = &request.input else {
                    continue;
                };
                let argument = first_json(input.args.as_ref());
                entries.push(AuditEntry {
                    at: time(e),
                    actor: operator_of(&argument),
                    action: action_of(&input.name, &argument),
                    target: order_id.to_string(),
                    outcome: outcomes
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| "accepted".into()),
                    origin,
                    contract: false,
                });
            }
            Some(Attributes::WorkflowExecutionSignaledEventAttributes(a)) => {
                let argument = first_json(a.input.as_ref());
                entries.push(AuditEntry {
                    at: time(e),
                    actor: operator_of(&argument),
                    action: action_of(&a.signal_name, &argument),
                    target: order_id.to_string(),
                    outcome: "received".into(),
                    origin: a.identity.clone(),
                    contract: false,
                });
            }
            _ => {}
        }
    }
    entries
}

async fn history(client: &Client, workflow_id: &str) -> Result<Vec<HistoryEvent>, OpError> {
    client
        .get_workflow_handle::<UntypedWorkflow>(workflow_id.to_string())
        .fetch_history(Default::default())
        .into_events()
        .await
        .map_err(|e| OpError::Temporal(e.into()))
}

/// One page of orders' entries (newest orders first), filtered by person, action and time.
pub async fn orders_page(
    client: &Client,
    filter: &AuditFilter,
    page: Option<&str>,
) -> Result<AuditPage, OpError> {
    let q = orders_query(filter)?;
    let listed = visibility::list_page(client, &q, AUDIT_ORDERS_PER_PAGE, page, None).await?;
    let reads = listed.executions.iter().map(|e| async move {
        let order = e.attributes.get(&sa::ORDER_ID).unwrap_or_default();
        history(client, &e.workflow_id)
            .await
            .map(|events| entries_of(&order, &events))
    });
    let mut entries: Vec<AuditEntry> = futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .filter(|e| filter.keeps(e))
        .collect();
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(AuditPage {
        entries,
        next_page: listed.next_page,
    })
}

/// Who last changed each contract, and how, from the schedule's note (a schedule keeps
/// its latest note, not every one; each term's run is in its own history).
pub async fn contract_entries(
    client: &Client,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, OpError> {
    let mut entries = Vec::new();
    for summary in contracts::list(client).await? {
        let Some((action, rest)) = summary.note.split_once(" by ") else {
            continue;
        };
        let (actor, why) = rest.split_once(": ").unwrap_or((rest, ""));
        let entry = AuditEntry {
            at: String::new(),
            actor: actor.to_string(),
            action: match why {
                "" => action.to_string(),
                why => format!("{action}: {why}"),
            },
            target: summary.contract_id.clone(),
            outcome: "done".into(),
            origin: String::new(),
            contract: true,
        };
        if filter.keeps(&entry) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Everything a filter covers, for the CSV export: orders (at most
/// [`MAX_EXPORT_ORDERS`]) and contracts. The flag says whether it stopped at the limit.
pub async fn export(
    client: &Client,
    filter: &AuditFilter,
) -> Result<(Vec<AuditEntry>, bool), OpError> {
    let mut entries = Vec::new();
    let mut token: Option<String> = None;
    let mut orders = 0;
    loop {
        let page = orders_page(client, filter, token.as_deref()).await?;
        entries.extend(page.entries);
        orders += AUDIT_ORDERS_PER_PAGE as usize;
        match page.next_page {
            Some(t) if orders < MAX_EXPORT_ORDERS => token = Some(t),
            Some(_) => {
                entries.extend(contract_entries(client, filter).await?);
                return Ok((entries, true));
            }
            None => break,
        }
    }
    entries.extend(contract_entries(client, filter).await?);
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    Ok((entries, false))
}
