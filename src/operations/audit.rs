//! The audit trail, read from Temporal (no copy): who did what to which order, from the
//! histories of every run of the orders whose `Actors` name a person (or that someone
//! terminated or cancelled), and every change to each contract, from its `ContractChange`
//! records. The actor is the person the request names (the session's, the CLI's
//! `--operator`), or for a raw signal the client identity Temporal recorded; the channel
//! comes from that identity. Refused requests never reach Temporal; they are in the log
//! under the `audit` target.

use std::{
    collections::{HashMap, HashSet},
    time::SystemTime,
};
use temporalio_client::{Client, tonic};
use temporalio_common::protos::temporal::api::{
    common::v1::{Payloads, WorkflowExecution},
    failure::v1::failure::FailureInfo,
    history::v1::{HistoryEvent, history_event::Attributes},
    update::v1::outcome,
};

use super::{OpError, contracts, queues::literal};
use crate::{
    domain::{
        audit::{AuditEntry, AuditFilter, AuditPage, SIGNAL_CHANNEL},
        format::rfc3339,
        resolution::PutBack,
    },
    temporal::{
        connection::Channel,
        histories,
        names::workflow_types,
        schedules, search_attributes as sa,
        visibility::{self, ListedExecution},
    },
    workflows::charge_lookup,
    workflows::contract_change::{ContractChangeRecord, MEMO_KEY},
    workflows::settlement_check::{SETTLEMENT_REFUSED, VERIFY_ACTIVITY},
};

/// A settlement check that failed without a refusal (Temporal away past its tries).
const COULD_NOT_ASK: &str = "not settled: its import could not be asked";

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
    q += &window(filter)?;
    q += &about(filter, sa::ORDER_ID.name())?;
    Ok(q)
}

/// The filter's one order, contract or import as a visibility condition on `field` (` AND
/// field = …`, or empty): `OrderId` for orders, `ContractId` for a contract's records and
/// questions, `WorkflowId` for an import.
fn about(filter: &AuditFilter, field: &str) -> Result<String, OpError> {
    Ok(match filter.target.trim() {
        "" => String::new(),
        target => format!(" AND {field} = {}", literal("order or contract", target)?),
    })
}

/// The filter's days as a visibility condition (` AND …`, or empty): runs open at some
/// time within them (started by the last day's end, and still running or closed since the
/// first day began), so each list reads the runs of those days, not the newest of all.
fn window(filter: &AuditFilter) -> Result<String, OpError> {
    let mut q = String::new();
    if let Some(since) = filter.since()? {
        q += &format!(" AND (CloseTime >= '{since}' OR ExecutionStatus = 'Running')");
    }
    if let Some(until) = filter.until()? {
        q += &format!(" AND StartTime <= '{until}'");
    }
    Ok(q)
}

/// The statement imports a filter covers (the trail reads the newest [`IMPORTS_READ`]).
fn imports_query(filter: &AuditFilter) -> Result<String, OpError> {
    Ok(format!(
        "WorkflowType = '{}'{}{}{}",
        workflow_types::STATEMENT_IMPORT,
        by_person(filter)?,
        window(filter)?,
        about(filter, "WorkflowId")?
    ))
}

/// The contract change records a filter covers (the trail reads [`CONTRACT_CHANGES_READ`]).
fn changes_query(filter: &AuditFilter) -> Result<String, OpError> {
    Ok(format!(
        "WorkflowType = '{}'{}{}{}",
        workflow_types::CONTRACT_CHANGE,
        by_person(filter)?,
        window(filter)?,
        about(filter, sa::CONTRACT_ID.name())?
    ))
}

/// The questions to the bank `condition` covers (the trail reads [`QUESTIONS_READ`]).
fn questions_query(condition: &str) -> String {
    format!(
        "{}{condition}",
        crate::temporal::names::on_our_queue(workflow_types::CHARGE_LOOKUP)
    )
}

/// The lists of the trail that a filter's rows do not fit in, each in a sentence ("140
/// statement imports match; the trail shows the newest 100: narrow the days to see the
/// rest"): one count each. Orders page on; these lists are read once, up to their limit.
pub async fn lists_cut(client: &Client, filter: &AuditFilter) -> Result<Vec<String>, OpError> {
    let condition = format!(
        "{}{}{}",
        by_person(filter)?,
        window(filter)?,
        about(filter, sa::CONTRACT_ID.name())?
    );
    let lists = [
        (imports_query(filter)?, IMPORTS_READ, "statement imports"),
        (
            changes_query(filter)?,
            CONTRACT_CHANGES_READ,
            "contract changes",
        ),
        (
            questions_query(&condition),
            QUESTIONS_READ,
            "questions to the bank about charges",
        ),
    ];
    let mut cut = Vec::new();
    for (query, read, what) in lists {
        let n = visibility::count(client, &query).await?;
        if n > read as usize {
            cut.push(format!(
                "{n} {what} match; the trail shows the newest {read}: narrow the days to see \
                 the rest"
            ));
        }
    }
    Ok(cut)
}

fn first_json(payloads: Option<&Payloads>) -> serde_json::Value {
    payloads
        .and_then(|p| p.payloads.first())
        .and_then(|p| serde_json::from_slice(&p.data).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The channel of a settlement a statement import sent, once approved.
pub const STATEMENT_CHANNEL: &str = "statement import";

/// How a request came, from the client identity Temporal recorded on it.
fn channel_of(identity: &str, signal: bool) -> &'static str {
    match Channel::of_identity(identity) {
        Some(Channel::Console) => "console",
        Some(Channel::CommandLine) => "command line",
        Some(Channel::Worker) => "worker",
        None if signal => SIGNAL_CHANNEL,
        None => "another client",
    }
}

/// The person an update's argument names, and their id.
fn person_of(argument: &serde_json::Value) -> (String, String) {
    let field = |k: &str| {
        argument
            .get(k)
            .and_then(|o| o.as_str())
            .unwrap_or_default()
            .to_string()
    };
    (field("operator"), field("operator_id"))
}

/// What an update or signal did, in words: `claim`, `resolve paid`, `reject: why`.
fn action_of(name: &str, argument: &serde_json::Value) -> String {
    let field = |k: &str| argument.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    match name {
        "resolve" | "propose" => {
            format!("{name} {} ({})", field("resolution"), field("reason_code"))
        }
        "reject" => format!("reject: {}", field("note")),
        "take_over" => format!("take over the claim: {}", field("note")),
        "ask_bank" => "ask the bank again".to_string(),
        "add_note" => format!("note: {}", field("note")),
        "resolve-manual-order" => {
            format!("resolve {} (signal)", argument.as_str().unwrap_or_default())
        }
        "settle-by-statement" => {
            let at = |path: &str| {
                argument
                    .pointer(path)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            format!(
                "settle paid by statement {} entry {} (import {}, imported by {}, approved by {})",
                at("/evidence/statement_id"),
                at("/evidence/entry_ref"),
                at("/evidence/import_id"),
                at("/imported_by/operator"),
                at("/approved_by/operator"),
            )
        }
        other => other.to_string(),
    }
}

/// Who a signal names: `retry-now` carries the operator, the stale stage's `resolve` a
/// request; the seed's signal names nobody, so its sender is the identity Temporal
/// recorded.
fn signal_actor(name: &str, argument: &serde_json::Value, identity: &str) -> (String, String) {
    match (name, argument) {
        ("retry-now", serde_json::Value::String(operator)) => (operator.clone(), String::new()),
        ("resolve", request) if request.get("operator").is_some() => person_of(request),
        _ => (identity.to_string(), String::new()),
    }
}

/// The statement import that sent a settlement, when Temporal recorded that workflow as
/// its sender (a client's signal has none) and the settlement names that same import.
fn settling_import<'a>(
    name: &str,
    argument: &serde_json::Value,
    sender: Option<&'a WorkflowExecution>,
) -> Option<&'a str> {
    let sender = sender?.workflow_id.as_str();
    let named = argument.pointer("/evidence/import_id")?.as_str()?;
    (name == "settle-by-statement" && !sender.is_empty() && named == sender).then_some(sender)
}

/// What a settlement asks, the same whether read from its `settle-by-statement` signal or
/// from the check the order made of it (`VerifyStatementSettlement`'s input): the import,
/// the entry, the money and both people.
fn settlement_key(value: &serde_json::Value) -> String {
    let evidence = value.get("evidence").unwrap_or(value);
    [
        evidence.pointer("/import_id"),
        evidence.pointer("/entry_ref"),
        evidence.pointer("/amount/minor"),
        evidence.pointer("/amount/currency"),
        value.pointer("/imported_by/operator"),
        value.pointer("/approved_by/operator"),
    ]
    .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
    .join("|")
}

/// What became of each settlement an order checked with its import, by what it asked
/// ([`settlement_key`]): the sentence the trail shows as the signal's outcome. An order
/// settles only what its import confirms, so "received" alone would not say whether a
/// settlement signal moved money.
fn settlement_answers(events: &[HistoryEvent]) -> HashMap<String, String> {
    let ended = events.iter().any(|e| {
        matches!(
            e.attributes,
            Some(Attributes::WorkflowExecutionCompletedEventAttributes(_))
                | Some(Attributes::WorkflowExecutionFailedEventAttributes(_))
                | Some(Attributes::WorkflowExecutionTerminatedEventAttributes(_))
                | Some(Attributes::WorkflowExecutionTimedOutEventAttributes(_))
                | Some(Attributes::WorkflowExecutionContinuedAsNewEventAttributes(
                    _
                ))
        )
    });
    let mut asked: HashMap<i64, String> = HashMap::new();
    let mut answers = HashMap::new();
    for e in events {
        match &e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type
                    .as_ref()
                    .is_some_and(|t| t.name == VERIFY_ACTIVITY) =>
            {
                let key = settlement_key(&first_json(a.input.as_ref()));
                answers.insert(
                    key.clone(),
                    match ended {
                        true => "not settled: the order ended before its import answered",
                        false => "being checked with the import it names",
                    }
                    .to_string(),
                );
                asked.insert(e.event_id, key);
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(a)) => {
                if let Some(key) = asked.get(&a.scheduled_event_id) {
                    let confirmed = first_json(a.result.as_ref()) == serde_json::Value::Bool(true);
                    answers.insert(
                        key.clone(),
                        match confirmed {
                            true => "settled: its import confirmed it",
                            false => "not settled: the import it names did not confirm it",
                        }
                        .to_string(),
                    );
                }
            }
            Some(Attributes::ActivityTaskFailedEventAttributes(a)) => {
                if let Some(key) = asked.get(&a.scheduled_event_id) {
                    // The check's refusal says why (the entry's money is not the order's).
                    let refused = a.failure.as_ref().filter(|f| {
                        matches!(
                            &f.failure_info,
                            Some(FailureInfo::ApplicationFailureInfo(info))
                                if info.r#type == SETTLEMENT_REFUSED
                        )
                    });
                    answers.insert(
                        key.clone(),
                        match refused {
                            Some(f) => format!("not settled: {}", f.message),
                            None => COULD_NOT_ASK.to_string(),
                        },
                    );
                }
            }
            Some(Attributes::ActivityTaskTimedOutEventAttributes(a)) => {
                if let Some(key) = asked.get(&a.scheduled_event_id) {
                    answers.insert(key.clone(), COULD_NOT_ASK.to_string());
                }
            }
            _ => {}
        }
    }
    answers
}

/// What the bank answered each question a person had the order ask it (ManualHandle's
/// `ask_bank`), in the order asked: the answer its query activity recorded, read by the
/// question's activity id; `None` for a question still out (or whose call was cancelled by
/// a resolution made meanwhile).
fn bank_answers(order_id: &str, events: &[HistoryEvent]) -> Vec<Option<String>> {
    use crate::upstream::activities::UpstreamVerdict;
    use crate::workflows::manual_handle::bank_question_activity_id;
    let mut asked: HashMap<i64, usize> = HashMap::new();
    let mut answers: Vec<Option<String>> = Vec::new();
    for e in events {
        match &e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_id
                    == bank_question_activity_id(order_id, answers.len() as u32 + 1) =>
            {
                asked.insert(e.event_id, answers.len());
                answers.push(None);
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(a)) => {
                if let Some(nth) = asked.get(&a.scheduled_event_id) {
                    let verdict: Option<UpstreamVerdict> =
                        serde_json::from_value(first_json(a.result.as_ref())).ok();
                    answers[*nth] = Some(match verdict {
                        Some(UpstreamVerdict::Paid { .. }) => "the bank said paid".to_string(),
                        Some(UpstreamVerdict::Failed { reason }) => {
                            format!("the bank said failed ({reason})")
                        }
                        None => "the bank answered".to_string(),
                    });
                }
            }
            Some(Attributes::ActivityTaskFailedEventAttributes(a)) => {
                if let Some(nth) = asked.get(&a.scheduled_event_id) {
                    let why = a.failure.as_ref().map(|f| f.message.as_str()).unwrap_or("");
                    answers[*nth] = Some(format!("no verdict: {why}"));
                }
            }
            Some(Attributes::ActivityTaskTimedOutEventAttributes(a)) => {
                if let Some(nth) = asked.get(&a.scheduled_event_id) {
                    answers[*nth] = Some("no verdict: the bank did not answer in time".into());
                }
            }
            _ => {}
        }
    }
    answers
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
    let settlements = settlement_answers(events);
    let mut answers = bank_answers(order_id, events).into_iter();
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
                let (actor, actor_id) = person_of(&argument);
                let mut outcome = outcomes
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| "accepted".into());
                // A question to the bank says what the bank answered.
                if input.name == "ask_bank"
                    && let Some(answer) = answers.next().flatten()
                {
                    outcome = format!("{outcome}: {answer}");
                }
                entries.push(AuditEntry {
                    at: time(e),
                    actor,
                    action: action_of(&input.name, &argument),
                    target: order_id.to_string(),
                    outcome,
                    channel: channel_of(&origin, false).into(),
                    origin,
                    contract: false,
                    actor_id,
                });
            }
            Some(Attributes::WorkflowExecutionSignaledEventAttributes(a)) => {
                let argument = first_json(a.input.as_ref());
                let sender = a.external_workflow_execution.as_ref();
                let (actor, actor_id, channel, origin) =
                    match settling_import(&a.signal_name, &argument, sender) {
                        // The approval that settled it is the approver's act.
                        Some(import) => {
                            let (approver, id) = argument
                                .get("approved_by")
                                .map(person_of)
                                .unwrap_or_default();
                            (approver, id, STATEMENT_CHANNEL.into(), import.to_string())
                        }
                        None => {
                            let (actor, id) = signal_actor(&a.signal_name, &argument, &a.identity);
                            let channel = channel_of(&a.identity, true).to_string();
                            (actor, id, channel, a.identity.clone())
                        }
                    };
                // A settlement the order checked says what the check answered; one from
                // before orders checked them (or one it ignored) was received.
                let outcome = match a.signal_name.as_str() {
                    "settle-by-statement" => settlements
                        .get(&settlement_key(&argument))
                        .map_or("received", String::as_str),
                    _ => "received",
                };
                entries.push(AuditEntry {
                    at: time(e),
                    actor,
                    action: action_of(&a.signal_name, &argument),
                    target: order_id.to_string(),
                    outcome: outcome.into(),
                    channel,
                    origin,
                    contract: false,
                    actor_id,
                });
            }
            // A dropped order put back in the queue: the run starts with who did it and why.
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                let argument = first_json(a.input.as_ref());
                let Some(back) = argument
                    .get("put_back")
                    .and_then(|p| serde_json::from_value::<PutBack>(p.clone()).ok())
                else {
                    continue;
                };
                entries.push(AuditEntry {
                    at: time(e),
                    actor: back.by.operator,
                    action: format!("put back in the queue: {}", back.reason),
                    target: order_id.to_string(),
                    outcome: format!("done (after {})", back.dropped),
                    channel: channel_of(&a.identity, false).into(),
                    origin: a.identity.clone(),
                    contract: false,
                    actor_id: back.by.operator_id,
                });
            }
            Some(Attributes::WorkflowExecutionTerminatedEventAttributes(a)) => {
                entries.push(AuditEntry {
                    at: time(e),
                    actor: a.identity.clone(),
                    action: format!("terminate: {}", a.reason),
                    target: order_id.to_string(),
                    outcome: "done".into(),
                    channel: channel_of(&a.identity, false).into(),
                    origin: a.identity.clone(),
                    contract: false,
                    actor_id: String::new(),
                });
            }
            Some(Attributes::WorkflowExecutionCancelRequestedEventAttributes(a)) => {
                entries.push(AuditEntry {
                    at: time(e),
                    actor: a.identity.clone(),
                    action: format!("cancel: {}", a.cause),
                    target: order_id.to_string(),
                    outcome: "requested".into(),
                    channel: channel_of(&a.identity, false).into(),
                    origin: a.identity.clone(),
                    contract: false,
                    actor_id: String::new(),
                });
            }
            _ => {}
        }
    }
    entries
}

/// Every event of one run (each run of a workflow id is read on its own).
async fn history(
    client: &Client,
    execution: &ListedExecution,
) -> Result<Vec<HistoryEvent>, OpError> {
    histories::events(
        client,
        &execution.workflow_id,
        &execution.run_id,
        histories::Events::Every,
    )
    .await
    .map_err(OpError::Temporal)
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
        history(client, e)
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
        cut: Vec::new(),
    })
}

/// Changes recorded per contract page of the trail, at most.
pub const CONTRACT_CHANGES_READ: i32 = 1_000;

/// One contract change record as the trail's row, and whether it was confirmed.
fn change_entry(e: &visibility::ListedExecution) -> Option<(AuditEntry, bool)> {
    let change = e.memo::<ContractChangeRecord>(MEMO_KEY)?;
    // A record completes once its contract's schedule confirms it (records made before
    // the check completed as they came); one started from another client that the
    // schedule does not show fails, and says so here.
    let (outcome, confirmed) = match e.status.as_str() {
        "COMPLETED" => ("done", true),
        "RUNNING" => (
            "not confirmed yet: the contract's schedule has not been read",
            false,
        ),
        _ => (
            "not confirmed: the contract's schedule or its records do not show this change",
            false,
        ),
    };
    let entry = AuditEntry {
        at: e.start_time.map(rfc3339).unwrap_or_default(),
        actor: change.operator.clone(),
        action: match (change.reason.as_str(), &change.contract) {
            // A creation says what the contract charges (records made before, not).
            ("", Some(made)) if change.action == "created" => {
                format!("created: {}", made.summary())
            }
            ("", _) => change.action.clone(),
            (why, _) => format!("{}: {why}", change.action),
        },
        target: change.contract_id.clone(),
        outcome: outcome.into(),
        channel: channel_of(&change.origin, false).into(),
        origin: change.origin,
        contract: true,
        actor_id: String::new(),
    };
    Some((entry, confirmed))
}

/// Questions asked of the bank about terms' charges that one list of the trail reads, at
/// most (newest first).
pub const QUESTIONS_READ: i32 = 100;

/// The questions asked of the bank about terms' charges (`charge_lookup`) that `condition`
/// (` AND …`, or empty) covers, as the trail's rows: who asked, about which term, what the
/// bank said. One history read each (a handful of events).
async fn question_entries(client: &Client, condition: &str) -> Result<Vec<AuditEntry>, OpError> {
    let q = questions_query(condition);
    let listed =
        visibility::list_page(client, &q, QUESTIONS_READ, None, Some("StartTime DESC")).await?;
    let reads = listed.executions.iter().map(|e| async move {
        history(client, e)
            .await
            .map(|events| question_entry(e, &events))
    });
    Ok(futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// One question's row: `None` for a run that is no question of ours.
fn question_entry(e: &ListedExecution, events: &[HistoryEvent]) -> Option<AuditEntry> {
    let term = charge_lookup::term_of(&e.workflow_id)?;
    let mut origin = String::new();
    let mut started_by_import = false;
    let mut refused = None;
    for event in events {
        match &event.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                origin = a.identity.clone();
                // A statement import gives its entries to terms by starting their
                // questions itself (Temporal records no identity for a child's start).
                if let Some(parent) = a
                    .parent_workflow_execution
                    .as_ref()
                    .filter(|p| crate::domain::statement::is_import_id(&p.workflow_id))
                {
                    origin = format!("started by {}", parent.workflow_id);
                    started_by_import = true;
                }
            }
            Some(Attributes::WorkflowExecutionFailedEventAttributes(a)) => {
                refused = a
                    .failure
                    .as_ref()
                    .and_then(|f| f.message.strip_prefix(charge_lookup::REFUSED_PREFIX))
                    .map(|why| format!("refused: {why}"));
            }
            _ => {}
        }
    }
    let answer = charge_lookup::answer_of(events, term);
    let outcome = match (refused, &answer) {
        (Some(refused), _) => refused,
        (None, Some(answer)) => answer.said.outcome(),
        (None, None) => "not a question of this system's".into(),
    };
    Some(AuditEntry {
        at: e.start_time.map(rfc3339).unwrap_or_default(),
        actor: answer
            .as_ref()
            .map(|a| a.asked_by.clone())
            .unwrap_or_default(),
        action: match answer.as_ref().map(|a| &a.said) {
            Some(
                charge_lookup::BankSaid::OnStatement { .. }
                | charge_lookup::BankSaid::NotOnStatement(_),
            ) => {
                format!("gave the bank's statement for the charge of {term}")
            }
            _ => format!("asked the bank about the charge of {term}"),
        },
        target: e.attributes.get(&sa::CONTRACT_ID).unwrap_or_default(),
        outcome,
        channel: match started_by_import {
            true => "worker".into(),
            false => channel_of(&origin, false).into(),
        },
        origin,
        contract: true,
        actor_id: String::new(),
    })
}

/// The trail's row for a contract whose schedule is gone: Temporal keeps no record of a
/// schedule's deletion, and this console never deletes one (a cancelled contract keeps its
/// schedule, paused).
pub const DELETED_OUTSIDE: &str =
    "deleted: its schedule is gone, and no record says who deleted it or when";

/// Changes one contract's page lists, at most (newest first).
pub const CONTRACT_PAGE_CHANGES: i32 = 100;

/// One contract's recorded changes, newest first (at most [`CONTRACT_PAGE_CHANGES`]), as
/// the trail's rows: its page shows them to those who may read the trail.
pub async fn contract_changes(
    client: &Client,
    contract_id: &str,
) -> Result<Vec<AuditEntry>, OpError> {
    let q = format!(
        "WorkflowType = '{}' AND {} = {}",
        workflow_types::CONTRACT_CHANGE,
        sa::CONTRACT_ID.name(),
        literal("contract", contract_id)?
    );
    let listed = visibility::list_page(
        client,
        &q,
        CONTRACT_PAGE_CHANGES,
        None,
        Some("StartTime DESC"),
    )
    .await?;
    let mut listed = listed.executions;
    // Newest first to the instant: changes made within one second keep their order.
    listed.sort_by_key(|e| std::cmp::Reverse(e.start_time));
    let mut entries: Vec<AuditEntry> = listed
        .iter()
        .filter_map(|e| change_entry(e).map(|(entry, _)| entry))
        .collect();
    let of_contract = format!(
        " AND {} = {}",
        sa::CONTRACT_ID.name(),
        literal("contract", contract_id)?
    );
    entries.extend(question_entries(client, &of_contract).await?);
    // Stable: changes within one second keep the order above.
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(entries)
}

/// The visibility condition (` AND Actors = …`) of the filter's person; empty for anyone.
fn by_person(filter: &AuditFilter) -> Result<String, OpError> {
    Ok(match filter.actor.trim() {
        "" => String::new(),
        actor => format!(" AND {} = {}", sa::ACTORS.name(), literal("person", actor)?),
    })
}

/// Every recorded change to a contract (its `ContractChange` records, dated), and for
/// contracts made before changes were recorded, the latest note of their schedule.
pub async fn contract_entries(
    client: &Client,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, OpError> {
    let condition = format!(
        "{}{}{}",
        by_person(filter)?,
        window(filter)?,
        about(filter, sa::CONTRACT_ID.name())?
    );
    let q = changes_query(filter)?;
    let listed = visibility::list_page(client, &q, CONTRACT_CHANGES_READ, None, None).await?;
    let mut recorded = std::collections::HashSet::new();
    let mut entries: Vec<AuditEntry> = question_entries(client, &condition)
        .await?
        .into_iter()
        .filter(|e| filter.keeps(e))
        .collect();
    for e in &listed.executions {
        let Some((entry, confirmed)) = change_entry(e) else {
            continue;
        };
        if confirmed {
            recorded.insert(entry.target.clone());
        }
        if filter.keeps(&entry) {
            entries.push(entry);
        }
    }
    let schedules = contracts::list(client).await?;
    // Contracts with confirmed records and no schedule: deleted outside the console (a
    // cancelled contract keeps its schedule). The list lags behind a new schedule, so each
    // is asked for by name first.
    let listed: HashSet<&str> = schedules.iter().map(|s| s.contract_id.as_str()).collect();
    for contract_id in recorded.iter().filter(|id| !listed.contains(id.as_str())) {
        match schedules::describe(client, contract_id).await {
            Err(status) if status.code() == tonic::Code::NotFound => {}
            Ok(_) => continue,
            Err(status) => return Err(OpError::Temporal(status.into())),
        }
        let entry = AuditEntry {
            at: String::new(),
            actor: String::new(),
            action: DELETED_OUTSIDE.into(),
            target: contract_id.clone(),
            outcome: "not recorded".into(),
            origin: String::new(),
            contract: true,
            channel: String::new(),
            actor_id: String::new(),
        };
        if filter.keeps(&entry) {
            entries.push(entry);
        }
    }
    // Contracts whose changes predate the records: their schedule keeps the latest note.
    for summary in schedules {
        if recorded.contains(&summary.contract_id) {
            continue;
        }
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
            channel: String::new(),
            actor_id: String::new(),
        };
        if filter.keeps(&entry) {
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(entries)
}

/// The outcome of an import's row whose memo names a decision its workflow never recorded.
pub const FORGED_DECISION: &str =
    "started with a decision in its memo that no one made (not counted)";

/// Statement imports one list of the trail reads, at most (newest first).
pub const IMPORTS_READ: i32 = 100;

/// Events of one import the trail reads at most to learn the client each of its rows came
/// through: its start, then its entries (a chunk of `CHUNK_ENTRIES` an update) and its
/// approval or rejection come first, before what an approval then does.
pub const IMPORT_EVENTS_READ: usize = 1_000;

/// Imports whose events the trail reads at once.
const IMPORT_READS_AT_ONCE: usize = 8;

/// The identities Temporal recorded for an import's start and for its accepted `approve`
/// and `reject` updates (empty when not read within [`IMPORT_EVENTS_READ`]).
#[derive(Debug, Default, Clone)]
struct ImportOrigins {
    started: String,
    approved: String,
    rejected: String,
}

/// Decided imports whose origins a console keeps once read: a run's start and decision never
/// change, and reading them means reading the import's entries (about 2 MB for 10,000), so
/// each console reads each at most once. Past this many, it forgets them all and reads again.
pub const IMPORT_ORIGINS_KEPT: usize = 5_000;

static KNOWN_ORIGINS: std::sync::LazyLock<std::sync::Mutex<HashMap<String, ImportOrigins>>> =
    std::sync::LazyLock::new(Default::default);

async fn import_origins(
    client: &Client,
    import_id: &str,
    run_id: &str,
    decided: bool,
) -> ImportOrigins {
    let known = KNOWN_ORIGINS
        .lock()
        .ok()
        .and_then(|known| known.get(run_id).cloned());
    if let Some(origins) = known {
        return origins;
    }
    let origins = read_import_origins(client, import_id, run_id, decided).await;
    let settled = !origins.started.is_empty()
        && (!origins.approved.is_empty() || !origins.rejected.is_empty());
    if settled && let Ok(mut known) = KNOWN_ORIGINS.lock() {
        if known.len() >= IMPORT_ORIGINS_KEPT {
            known.clear();
        }
        known.insert(run_id.to_string(), origins.clone());
    }
    origins
}

async fn read_import_origins(
    client: &Client,
    import_id: &str,
    run_id: &str,
    decided: bool,
) -> ImportOrigins {
    let decision = |e: &HistoryEvent| match &e.attributes {
        Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => a
            .accepted_request
            .as_ref()
            .and_then(|r| r.input.as_ref())
            .is_some_and(|i| i.name == "approve" || i.name == "reject"),
        _ => false,
    };
    let read = crate::temporal::histories::events_until(
        client,
        import_id,
        run_id,
        IMPORT_EVENTS_READ,
        |events| !decided || events.iter().any(decision),
    )
    .await;
    let events = match read {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(import_id, error = %e, "an import's history could not be read for its channels");
            return ImportOrigins::default();
        }
    };
    let mut origins = ImportOrigins::default();
    for e in &events {
        match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                origins.started = a.identity.clone();
            }
            Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => {
                let Some(request) = &a.accepted_request else {
                    continue;
                };
                let identity = request
                    .meta
                    .as_ref()
                    .map(|m| m.identity.clone())
                    .unwrap_or_default();
                match request.input.as_ref().map(|i| i.name.as_str()) {
                    Some("approve") => origins.approved = identity,
                    Some("reject") => origins.rejected = identity,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    origins
}

/// The statement imports a filter covers, as the trail's rows: who imported each (and
/// which statement), and who approved or rejected it, when, what they left out and why, as
/// the import keeps them in its memo (`ImportDecisions`), counted as
/// [`super::statements::recorded_decisions`] counts them: a completed import's from
/// visibility alone, a running or stopped one's only once its history shows its own
/// workflow writing them. Imports decided before they kept their decisions list their
/// start only.
pub async fn statement_entries(
    client: &Client,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, OpError> {
    use crate::workflows::statement_import::{DECISIONS_MEMO, ImportDecisions};
    let q = imports_query(filter)?;
    let listed =
        visibility::list_page(client, &q, IMPORTS_READ, None, Some("StartTime DESC")).await?;
    let mut recorded = super::statements::recorded_decisions(client, &listed.executions).await?;
    // Through which client each came: the identities Temporal recorded, as for an order.
    let mut origins: HashMap<String, ImportOrigins> = {
        use futures::StreamExt;
        let runs: Vec<(String, String, bool)> = listed
            .executions
            .iter()
            .map(|e| {
                let decided = recorded
                    .get(&e.run_id)
                    .is_some_and(|d| d.approved.is_some() || d.rejected.is_some());
                (e.workflow_id.clone(), e.run_id.clone(), decided)
            })
            .collect();
        futures::stream::iter(runs)
            .map(|(import_id, run_id, decided)| async move {
                let origins = import_origins(client, &import_id, &run_id, decided).await;
                (run_id, origins)
            })
            .buffer_unordered(IMPORT_READS_AT_ONCE)
            .collect()
            .await
    };
    let mut entries = Vec::new();
    for e in &listed.executions {
        let decisions = recorded.remove(&e.run_id);
        let origin = origins.remove(&e.run_id).unwrap_or_default();
        let row = |at: String,
                   actor: &str,
                   actor_id: &str,
                   action: String,
                   outcome: &str,
                   identity: &str| AuditEntry {
            at,
            actor: actor.to_string(),
            action,
            target: e.workflow_id.clone(),
            outcome: outcome.to_string(),
            origin: identity.to_string(),
            contract: false,
            channel: match identity.is_empty() {
                true => String::new(),
                false => channel_of(identity, false).into(),
            },
            actor_id: actor_id.to_string(),
        };
        let importer = e
            .attributes
            .get(&sa::ACTORS)
            .and_then(|a| a.into_iter().next())
            .unwrap_or_default();
        let imported = match &decisions {
            Some(d) => row(
                d.imported_by.at.clone(),
                &d.imported_by.operator,
                &d.imported_by.operator_id,
                format!("import statement {} ({})", d.statement_id, d.file_name),
                "done",
                &origin.started,
            ),
            None => row(
                e.start_time.map(rfc3339).unwrap_or_default(),
                &importer,
                "",
                "import a statement".into(),
                // A memo naming a decision its workflow never wrote: given at its start.
                match e.memo::<ImportDecisions>(DECISIONS_MEMO) {
                    Some(_) => FORGED_DECISION,
                    None => "done",
                },
                &origin.started,
            ),
        };
        entries.push(imported);
        let Some(d) = decisions else {
            continue;
        };
        if let Some(by) = &d.approved {
            let action = match d.left_out.is_empty() {
                true => format!("approve statement {}", d.statement_id),
                false => format!(
                    "approve statement {}, leaving out {}: {}",
                    d.statement_id,
                    d.left_out.join(", "),
                    d.left_out_note
                ),
            };
            entries.push(row(
                by.at.clone(),
                &by.operator,
                &by.operator_id,
                action,
                "done",
                &origin.approved,
            ));
        }
        if let Some((by, why)) = &d.rejected {
            let action = format!("reject statement {}: {why}", d.statement_id);
            entries.push(row(
                by.at.clone(),
                &by.operator,
                &by.operator_id,
                action,
                "done",
                &origin.rejected,
            ));
        }
    }
    entries.retain(|e| filter.keeps(e));
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(entries)
}

/// Everything a filter covers, for the CSV export: orders (at most
/// [`MAX_EXPORT_ORDERS`]), contracts and statement imports, and a sentence for each list
/// it stopped short of (the orders at their limit, as [`lists_cut`] for the rest).
pub async fn export(
    client: &Client,
    filter: &AuditFilter,
) -> Result<(Vec<AuditEntry>, Vec<String>), OpError> {
    let (entries, stopped) = export_rows(client, filter).await?;
    let mut cut = match stopped {
        true => vec![format!(
            "stopped at {MAX_EXPORT_ORDERS} orders: narrow the filter"
        )],
        false => Vec::new(),
    };
    cut.extend(lists_cut(client, filter).await?);
    Ok((entries, cut))
}

async fn export_rows(
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
                entries.extend(statement_entries(client, filter).await?);
                return Ok((entries, true));
            }
            None => break,
        }
    }
    entries.extend(contract_entries(client, filter).await?);
    entries.extend(statement_entries(client, filter).await?);
    entries.sort_by(|a, b| b.at.cmp(&a.at));
    Ok((entries, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_list_of_the_trail_reads_within_the_filters_days() {
        let filter = AuditFilter {
            actor: "bo".into(),
            since: "2026-11-01".into(),
            until: "2026-11-30".into(),
            ..Default::default()
        };
        let questions = questions_query(&format!(
            "{}{}",
            by_person(&filter).unwrap(),
            window(&filter).unwrap()
        ));
        for q in [
            orders_query(&filter).unwrap(),
            imports_query(&filter).unwrap(),
            changes_query(&filter).unwrap(),
            questions,
        ] {
            assert!(
                q.contains("Actors = 'bo'")
                    && q.contains(
                        "(CloseTime >= '2026-11-01T00:00:00Z' OR ExecutionStatus = 'Running')"
                    )
                    && q.contains("StartTime <= '2026-11-30T23:59:59.999999999Z'"),
                "{q}"
            );
        }
        // No days: every run of the kind, newest first.
        assert_eq!(
            imports_query(&AuditFilter::default()).unwrap(),
            "WorkflowType = 'StatementImport'"
        );
    }
}
