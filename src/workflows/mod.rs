//! The workflows, one file each, and the steps they share: handing an order to its next
//! stage, setting its stage in visibility, asking the upstream, concluding a resolution.
//!
//! Workflow code is deterministic: time comes from the workflow context, and every call
//! to the outside world is an activity. Every committed history in
//! `tests/integration/histories/` must replay on this code (`tests/integration/replay.rs`).

pub mod charge_lookup;
pub mod console_sessions;
pub mod contract_change;
pub mod manual_handle;
pub mod query_order;
pub mod recurring_payment;
pub mod settlement_check;
pub mod stale_order;
pub mod statement_import;
pub mod term_check;

use std::time::{Duration, SystemTime};
use temporalio_common::{
    RetryPolicy, WorkflowDefinition,
    error::ApplicationFailure,
    protos::temporal::api::failure::v1::{Failure, failure::FailureInfo},
    search_attributes::{SearchAttributeUpdate, SearchAttributes, Timestamp},
};
use temporalio_sdk::{
    ActivityExecutionError, ActivityOptions, ChildWorkflowOptions, ParentClosePolicy,
    WorkflowContext, WorkflowIdReusePolicy, WorkflowResult,
};

use crate::{
    domain::format::rfc3339,
    domain::order::{OrderRequest, Resolution, SYSTEM_OPERATOR, Stage},
    domain::resolution::{Handoff, OrderOutcome, ResolutionRecord},
    temporal::names::task_queues,
    temporal::search_attributes as sa,
    upstream::activities::{
        Conclusion, FailureDetails, StatusQuery, UpstreamActivities, UpstreamVerdict, error_types,
    },
};

/// Adds each non-empty key (a name, a person's id) to an order's `actors` once; whether
/// any was new, so the caller writes the `Actors` search attribute only then.
pub fn add_actors(actors: &mut Vec<String>, keys: &[&str]) -> bool {
    let before = actors.len();
    for key in keys {
        if !key.is_empty() && !actors.iter().any(|a| a == key) {
            actors.push(key.to_string());
        }
    }
    actors.len() > before
}

/// Workflow time, falling back to the epoch only if the server sent none.
pub fn now<W>(ctx: &WorkflowContext<W>) -> SystemTime {
    ctx.workflow_time().unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A workflow time as people read it in a record (empty if the server sent none).
pub fn recorded_at(time: Option<SystemTime>) -> String {
    time.map(rfc3339).unwrap_or_default()
}

pub fn timestamp(time: SystemTime) -> Timestamp {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Timestamp::new(since.as_secs() as i64, since.subsec_nanos() as i32)
}

/// The attributes that describe an order, set on every workflow of its path.
pub fn order_attributes(order: &OrderRequest, stage: Stage) -> Vec<SearchAttributeUpdate> {
    let mut attributes = vec![
        sa::ORDER_ID.value_set(order.order_id.clone()),
        sa::ORDER_STAGE.value_set(stage.as_str().to_string()),
        sa::UPSTREAM_PROVIDER.value_set(order.provider.clone()),
        sa::BUSINESS_UNIT.value_set(order.business_unit.clone()),
        sa::ORDER_ENVIRONMENT.value_set(order.environment.clone()),
        sa::ORDER_PRIORITY.value_set(order.priority),
    ];
    // Orders sent without an amount (and every order from before amounts) have neither.
    if let Some(amount) = &order.amount {
        attributes.push(sa::ORDER_AMOUNT.value_set(amount.major()));
        attributes.push(sa::ORDER_CURRENCY.value_set(vec![amount.currency.clone()]));
    }
    // Upserted and child-start attributes are not compared on replay (only the command's
    // kind, and a child's id and type), so runs from before replay as they ran.
    if let Some(reference) = &order.reference {
        attributes.push(sa::GATEWAY_REFERENCE.value_set(reference.clone()));
    }
    attributes
}

/// The attributes of a stage that an order reached after failed queries: the order's,
/// plus its errors and the upstream calls made so far.
pub fn handoff_attributes(
    order: &OrderRequest,
    stage: Stage,
    handoff: &Handoff,
) -> Vec<SearchAttributeUpdate> {
    let mut attributes = order_attributes(order, stage);
    attributes.push(sa::ERROR_REASON.value_set(handoff.error_reason.clone()));
    attributes.push(sa::ORIGINAL_ERROR_REASON.value_set(handoff.original_reason.clone()));
    attributes.push(sa::UPSTREAM_ATTEMPTS.value_set(i64::from(handoff.attempts)));
    if let Some(proposal) = &handoff.proposal {
        attributes.push(sa::AWAITING_APPROVAL.value_set(1));
        attributes.push(sa::ACTORS.value_set(proposal_actors(proposal)));
    }
    attributes
}

/// Who a proposal handed on with an order names, for its `Actors`.
pub fn proposal_actors(proposal: &ResolutionRecord) -> Vec<String> {
    [&proposal.resolved_by, &proposal.resolved_by_id]
        .into_iter()
        .filter(|k| !k.is_empty())
        .cloned()
        .collect()
}

/// The attributes a ManualHandle run starts with: its handoff's, and for an order put back
/// in the queue, who put it back as its `Actors` (its run holds them so).
pub fn manual_start_attributes(handoff: &Handoff) -> Vec<SearchAttributeUpdate> {
    let mut attributes = handoff_attributes(&handoff.order, Stage::Manual, handoff);
    if let Some(p) = &handoff.put_back {
        let mut actors = Vec::new();
        add_actors(&mut actors, &[&p.by.operator, &p.by.operator_id]);
        attributes.push(sa::ACTORS.value_set(actors));
    }
    attributes
}

/// The change that has an order's workflow hold, on its first step, the search attributes
/// its start carried to those its input gives. A start from Temporal's CLI can carry any
/// (`ClaimedBy`, `SettledBy`, `OrderResolution`, `Actors` …), which the queue, an import's
/// count of the orders it settled and the trail's filter would read as the workflow's own.
/// Our starters give exactly those of the input, so their runs write nothing more.
pub const START_ATTRIBUTES_PATCH: &str = "start-attributes-held-to-input";

/// The updates that make the attributes a run `started` with into `expected` (what its
/// input gives): each of ours set otherwise is set as expected, and each the input does
/// not give is emptied (`""`, `[]`, 0: the values our workflows clear them to, and what
/// the queries read as unset; this SDK's unset is refused by the server). Times are left:
/// each is read only beside the attribute that says it applies (`ClaimedAt` with
/// `ClaimedBy`, `ProposedAt` with `AwaitingApproval`), and a stale order sets its own
/// `StaleRetryAt` next. Empty when they agree.
pub fn start_corrections(
    started: &SearchAttributes,
    expected: Vec<SearchAttributeUpdate>,
) -> Vec<SearchAttributeUpdate> {
    use temporalio_common::search_attributes::{SearchAttributeKey, SearchAttributeValue};
    fn hold<T: SearchAttributeValue + PartialEq>(
        key: &SearchAttributeKey<T>,
        empty: T,
        started: &SearchAttributes,
        expected: &SearchAttributes,
        out: &mut Vec<SearchAttributeUpdate>,
    ) {
        let want = match expected.get(key) {
            Some(want) => want,
            None if started.contains_key(key) => empty,
            None => return,
        };
        if started.get(key).as_ref() != Some(&want) {
            out.push(key.value_set(want));
        }
    }
    let expected = SearchAttributes::new(expected);
    let mut out = Vec::new();
    let out_ = &mut out;
    for key in [
        &sa::ORDER_ID,
        &sa::ORDER_STAGE,
        &sa::ORDER_RESOLUTION,
        &sa::UPSTREAM_PROVIDER,
        &sa::BUSINESS_UNIT,
        &sa::ORDER_ENVIRONMENT,
        &sa::CLAIMED_BY,
        &sa::ERROR_REASON,
        &sa::CONTRACT_ID,
        &sa::ORIGINAL_ERROR_REASON,
        &sa::GATEWAY_REFERENCE,
    ] {
        hold(key, String::new(), started, &expected, out_);
    }
    for key in [
        &sa::ORDER_PRIORITY,
        &sa::UPSTREAM_ATTEMPTS,
        &sa::AWAITING_APPROVAL,
    ] {
        hold(key, 0, started, &expected, out_);
    }
    for key in [&sa::ACTORS, &sa::ORDER_CURRENCY, &sa::SETTLED_BY] {
        hold(key, Vec::new(), started, &expected, out_);
    }
    for key in [&sa::ORDER_AMOUNT, &sa::NOTE_COUNT] {
        hold(key, 0.0, started, &expected, out_);
    }
    out
}

/// [`start_corrections`] for this run, on runs with the [`START_ATTRIBUTES_PATCH`] (asked
/// only when a correction is due, so our own starts record no marker).
pub fn held_to_input<W>(
    ctx: &WorkflowContext<W>,
    expected: Vec<SearchAttributeUpdate>,
) -> Vec<SearchAttributeUpdate> {
    let started = ctx.info().search_attributes().unwrap_or_default();
    let corrections = start_corrections(&started, expected);
    if corrections.is_empty() || !ctx.patched(START_ATTRIBUTES_PATCH) {
        return Vec::new();
    }
    tracing::warn!(
        workflow_id = ctx.workflow_id(),
        corrected = corrections.len(),
        "a run started with search attributes its input does not give"
    );
    corrections
}

/// Sets the order's stage in visibility, with whatever else changed at the same moment
/// (one visibility write).
pub fn set_stage<W>(
    ctx: &WorkflowContext<W>,
    stage: Stage,
    also: impl IntoIterator<Item = SearchAttributeUpdate>,
) {
    let mut updates = vec![sa::ORDER_STAGE.value_set(stage.as_str().to_string())];
    updates.extend(also);
    ctx.upsert_search_attributes(updates);
}

/// Options for starting the next stage of an order: its own queue, and it outlives us.
fn next_stage_options(
    workflow_id: String,
    task_queue: &str,
    stage: Stage,
    handoff: &Handoff,
) -> ChildWorkflowOptions {
    ChildWorkflowOptions::builder()
        .workflow_id(workflow_id)
        .task_queue(task_queue.to_string())
        .parent_close_policy(ParentClosePolicy::Abandon)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
        .search_attributes(SearchAttributes::new(handoff_attributes(
            &handoff.order,
            stage,
            handoff,
        )))
        .build()
}

/// Where an order goes next: the child workflow, its id, queue and stage.
pub struct NextStage<WD> {
    pub workflow: WD,
    pub workflow_id: String,
    pub task_queue: &'static str,
    pub stage: Stage,
}

/// Hands the order to its next stage: starts the child (abandoned, so it outlives us),
/// returns once it has started (the order is never left nowhere), then records the stage
/// and the error that sent it there.
pub async fn hand_off<W, WD>(
    ctx: &WorkflowContext<W>,
    next: NextStage<WD>,
    handoff: Handoff,
) -> WorkflowResult<OrderOutcome>
where
    WD: WorkflowDefinition<Input = Handoff> + 'static,
{
    let options = next_stage_options(
        next.workflow_id.clone(),
        next.task_queue,
        next.stage,
        &handoff,
    );
    let reason = handoff.error_reason.clone();
    ctx.start_child_workflow(next.workflow, handoff, options)
        .await?;
    set_stage(ctx, next.stage, [sa::ERROR_REASON.value_set(reason)]);
    Ok(OrderOutcome::HandedOff {
        next_workflow_id: next.workflow_id,
    })
}

/// Why the upstream could not give a verdict, after every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFailure {
    /// Short machine-readable reason (`http_503`, `timeout`, `pending`…).
    pub reason: String,
    pub message: String,
    /// Calls made to the upstream: the last attempt's number, as the activity reported it.
    pub attempts: u32,
    /// What the bank said it was paid, when that is not the order's amount.
    pub seen: Option<crate::domain::money::Money>,
}

/// The reason of a `paid` for another amount or currency than the order's: it goes to a
/// person, with both figures, never concluded.
pub const AMOUNT_MISMATCH: &str = "amount_mismatch";

/// The change that holds a `paid` to the order's amount. Only orders that carry an amount
/// reach it, and none did before it, so older histories replay without it either way.
pub const AMOUNT_CHECK_PATCH: &str = "paid-amount-must-match";

/// A `paid` whose amount or currency is not the order's, as a failure to settle. A bank
/// that quotes no amount cannot be checked: its `paid` stands, as before.
pub fn amount_mismatch(order: &OrderRequest, verdict: &UpstreamVerdict) -> Option<QueryFailure> {
    let (
        Some(expected),
        UpstreamVerdict::Paid {
            amount: Some(minor),
            currency: Some(currency),
            ..
        },
    ) = (&order.amount, verdict)
    else {
        return None;
    };
    if expected.same_as(*minor, currency) {
        return None;
    }
    let exponent = crate::domain::money::minor_units(currency).unwrap_or(expected.exponent);
    let seen = crate::domain::money::Money {
        minor: *minor,
        currency: currency.clone(),
        exponent,
    };
    Some(QueryFailure {
        reason: AMOUNT_MISMATCH.into(),
        message: format!("the bank reports {seen} paid; the order is for {expected}"),
        attempts: 1,
        seen: Some(seen),
    })
}

/// Reads the innermost cause of an activity failure: its type, message and attempt.
/// `attempts` is what the retry policy allowed, used when the failure does not say (a
/// start-to-close timeout is the server's, not the activity's).
pub fn query_failure(err: &ActivityExecutionError, attempts: u32) -> QueryFailure {
    let Some(mut failure) = err.failure() else {
        return QueryFailure {
            reason: "internal".into(),
            message: err.to_string(),
            attempts,
            seen: None,
        };
    };
    let mut reason = None;
    let mut reported_attempt = None;
    loop {
        match &failure.failure_info {
            Some(FailureInfo::ApplicationFailureInfo(info)) if !info.r#type.is_empty() => {
                reason = Some(info.r#type.clone());
                reported_attempt = info
                    .details
                    .as_ref()
                    .and_then(|d| d.payloads.first())
                    .and_then(|p| serde_json::from_slice::<FailureDetails>(&p.data).ok())
                    .map(|d| d.attempt);
            }
            Some(FailureInfo::TimeoutFailureInfo(_)) => {
                reason = Some(error_types::TIMEOUT.to_string());
            }
            _ => {}
        }
        match failure.cause.as_deref() {
            Some(cause) => failure = cause,
            None => break,
        }
    }
    QueryFailure {
        reason: reason.unwrap_or_else(|| "unknown".into()),
        message: innermost_message(err.failure()),
        attempts: reported_attempt.unwrap_or(attempts),
        seen: None,
    }
}

fn innermost_message(failure: Option<&Failure>) -> String {
    let mut current = failure;
    let mut message = String::new();
    while let Some(f) = current {
        if !f.message.is_empty() {
            message = f.message.clone();
        }
        current = f.cause.as_deref();
    }
    message
}

/// The change that refuses, at its start, an order whose request none of our starters
/// would send (`OrderRequest::validate`: the id, the policy's attempts, backoff and
/// timeouts, the priority, the amount). Anyone with the namespace can start QueryOrder or
/// StaleOrder themselves; unlimited attempts (Temporal's 0) without a pause would take the
/// bank's shared rate from every other order. Orders that pass record nothing new, so
/// only a refused one carries the marker.
pub const ORDER_CHECK_PATCH: &str = "order-request-checked-at-start";

/// In workflow code, at the start of an order's stage: its request, held to what our
/// starters check.
pub fn check_order_at_start<W>(
    ctx: &WorkflowContext<W>,
    order: &OrderRequest,
) -> temporalio_sdk::WorkflowResult<()> {
    match order.validate() {
        Err(e) if ctx.patched(ORDER_CHECK_PATCH) => Err(ApplicationFailure::non_retryable(
            format!("not an order this system takes: {e}"),
        )
        .into()),
        _ => Ok(()),
    }
}

/// Asks the upstream, retrying with backoff up to the policy's attempts. Retry-After
/// from a 429 overrides the backoff (the activity sets `next_retry_delay`).
pub async fn query_upstream<W>(
    ctx: &WorkflowContext<W>,
    order: &OrderRequest,
) -> Result<UpstreamVerdict, QueryFailure> {
    let activity_id = format!("{}-query", order.order_id);
    query_upstream_as(ctx, order, activity_id, order.policy.attempts).await
}

/// [`query_upstream`] under its own activity id, with at most `attempts` calls.
pub async fn query_upstream_as<W>(
    ctx: &WorkflowContext<W>,
    order: &OrderRequest,
    activity_id: String,
    attempts: u32,
) -> Result<UpstreamVerdict, QueryFailure> {
    let policy = &order.policy;
    let options = ActivityOptions::with_start_to_close_timeout(Duration::from_millis(
        policy.call_timeout_ms.saturating_add(1_000),
    ))
    .task_queue(task_queues::UPSTREAM.to_string())
    .activity_id(activity_id)
    .retry_policy(
        RetryPolicy::builder()
            .initial_interval(Duration::from_millis(policy.backoff_ms.max(1)))
            .backoff_coefficient(2.0)
            .maximum_attempts(attempts)
            .non_retryable_error_types([error_types::REJECTED])
            .build(),
    )
    .build();
    ctx.execute_activity(
        UpstreamActivities::query_status,
        StatusQuery {
            order_id: order.order_id.clone(),
            provider: order.provider.clone(),
            timeout_ms: policy.call_timeout_ms,
            expected: order.amount.clone(),
        },
        options,
    )
    .await
    .map_err(|e| query_failure(&e, attempts))
}

/// Asks the upstream (with its retries); if it gave a verdict, marks the order resolved
/// and returns the record, otherwise why it could not.
pub async fn settle_by_upstream<W>(
    ctx: &WorkflowContext<W>,
    order: &OrderRequest,
) -> Result<ResolutionRecord, QueryFailure> {
    let verdict = query_upstream(ctx, order).await?;
    if let Some(mismatch) = amount_mismatch(order, &verdict)
        && ctx.patched(AMOUNT_CHECK_PATCH)
    {
        return Err(mismatch);
    }
    let record = system_resolution(&verdict, now(ctx));
    mark_resolved(ctx, &record);
    Ok(record)
}

/// The record of a verdict the upstream gave by itself.
pub fn system_resolution(verdict: &UpstreamVerdict, at: SystemTime) -> ResolutionRecord {
    let (resolution, reason_code) = match verdict {
        UpstreamVerdict::Paid { .. } => (Resolution::Paid, "UPSTREAM_PAID".to_string()),
        UpstreamVerdict::Failed { reason } => (Resolution::Failed, reason.clone()),
    };
    ResolutionRecord {
        resolution,
        reason_code,
        resolved_by: SYSTEM_OPERATOR.into(),
        resolved_at: rfc3339(at),
        note: String::new(),
        approved_by: None,
        resolved_by_id: String::new(),
        evidence: None,
    }
}

/// Marks the workflow resolved in visibility.
pub fn mark_resolved<W>(ctx: &WorkflowContext<W>, record: &ResolutionRecord) {
    set_stage(
        ctx,
        Stage::Resolved,
        [sa::ORDER_RESOLUTION.value_set(record.resolution.as_str().to_string())],
    );
}

/// Writes a person's resolution to the upstream (idempotency key: the order), then marks
/// the order resolved. Retried until it lands.
pub async fn conclude<W>(
    ctx: &WorkflowContext<W>,
    order_id: &str,
    record: &ResolutionRecord,
) -> Result<(), ActivityExecutionError> {
    conclude_as(ctx, order_id, record, format!("{order_id}-conclude"), None).await
}

/// [`conclude`] under its own activity id, giving up after `max_attempts` if given.
pub async fn conclude_as<W>(
    ctx: &WorkflowContext<W>,
    order_id: &str,
    record: &ResolutionRecord,
    activity_id: String,
    max_attempts: Option<u32>,
) -> Result<(), ActivityExecutionError> {
    ctx.execute_activity(
        UpstreamActivities::conclude_order,
        Conclusion {
            order_id: order_id.to_string(),
            resolution: record.resolution,
            reason_code: record.reason_code.clone(),
            resolved_by: record.resolved_by.clone(),
        },
        upstream_write_options(activity_id, max_attempts),
    )
    .await?;
    mark_resolved(ctx, record);
    Ok(())
}

/// How long one upstream write may take.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(15);
/// Backoff between write attempts: from the first to the longest.
const WRITE_FIRST_BACKOFF: Duration = Duration::from_secs(1);
const WRITE_LONGEST_BACKOFF: Duration = Duration::from_secs(60);

/// Options for every write to the upstream (a conclusion, a charge, a receipt): on the
/// rate-limited upstream queue, retried with backoff up to `max_attempts` (unlimited
/// without), never after the upstream refused it.
/// Attempts at a check that asks Temporal (a settlement's import, a term's schedule)
/// while Temporal cannot answer, before the check counts as no.
const TEMPORAL_CHECK_ATTEMPTS: u32 = 20;

/// Options for an activity that asks Temporal on `queue`, taking at most `timeout` an
/// attempt, retried from 1 s to 30 s apart while Temporal cannot answer.
pub fn temporal_check_options(
    queue: &str,
    timeout: Duration,
    activity_id: String,
) -> ActivityOptions {
    let retry = RetryPolicy::builder()
        .initial_interval(Duration::from_secs(1))
        .maximum_interval(Duration::from_secs(30))
        .maximum_attempts(TEMPORAL_CHECK_ATTEMPTS)
        .build();
    ActivityOptions::with_start_to_close_timeout(timeout)
        .task_queue(queue.to_string())
        .activity_id(activity_id)
        .retry_policy(retry)
        .build()
}

pub fn upstream_write_options(activity_id: String, max_attempts: Option<u32>) -> ActivityOptions {
    let retry = RetryPolicy::builder()
        .initial_interval(WRITE_FIRST_BACKOFF)
        .maximum_interval(WRITE_LONGEST_BACKOFF)
        .maybe_maximum_attempts(max_attempts)
        .non_retryable_error_types([error_types::REJECTED])
        .build();
    ActivityOptions::with_start_to_close_timeout(WRITE_TIMEOUT)
        .task_queue(task_queues::UPSTREAM.to_string())
        .activity_id(activity_id)
        .retry_policy(retry)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temporal::names::workflow_types;

    fn names(updates: &[SearchAttributeUpdate]) -> Vec<String> {
        let mut out: Vec<String> = updates.iter().map(|u| u.name().to_string()).collect();
        out.sort();
        out
    }

    #[test]
    fn a_start_of_ours_needs_no_correction_and_a_forged_one_is_held_to_its_input() {
        let mut order = OrderRequest::simulated("ORD-1".into(), Default::default());
        order.amount = Some(crate::domain::money::money("19.99", "MYR").unwrap());
        let ours = SearchAttributes::new(order_attributes(&order, Stage::Querying));
        assert!(start_corrections(&ours, order_attributes(&order, Stage::Querying)).is_empty());
        // Claimed, settled, resolved and another order's id: what no input gives.
        let mut forged = order_attributes(&order, Stage::Querying);
        forged.extend([
            sa::CLAIMED_BY.value_set("carol".into()),
            sa::SETTLED_BY.value_set(vec!["statement-abc".into()]),
            sa::ORDER_RESOLUTION.value_set("paid".into()),
            sa::NOTE_COUNT.value_set(3.0),
            sa::ORDER_ID.value_set("ORD-2".into()),
        ]);
        let corrections = start_corrections(
            &SearchAttributes::new(forged),
            order_attributes(&order, Stage::Querying),
        );
        assert_eq!(
            names(&corrections),
            [
                "ClaimedBy",
                "NoteCount",
                "OrderId",
                "OrderResolution",
                "SettledBy"
            ]
        );
        let held = SearchAttributes::new(corrections);
        assert_eq!(held.get(&sa::CLAIMED_BY).as_deref(), Some(""));
        assert_eq!(held.get(&sa::SETTLED_BY), Some(Vec::new()));
        assert_eq!(held.get(&sa::NOTE_COUNT), Some(0.0));
        assert_eq!(held.get(&sa::ORDER_ID).as_deref(), Some("ORD-1"));
        // A start that gave none has them all set.
        let missing = start_corrections(
            &SearchAttributes::new([]),
            order_attributes(&order, Stage::Querying),
        );
        assert_eq!(
            missing.len(),
            order_attributes(&order, Stage::Querying).len()
        );
        assert!(missing.iter().all(|u| !u.is_unset()));
    }

    #[test]
    fn workflow_types_are_the_pinned_names() {
        assert_eq!(
            query_order::QueryOrder::run.name(),
            workflow_types::QUERY_ORDER
        );
        assert_eq!(
            stale_order::StaleOrder::run.name(),
            workflow_types::STALE_ORDER
        );
        assert_eq!(
            manual_handle::ManualHandle::run.name(),
            workflow_types::MANUAL_HANDLE
        );
        assert_eq!(
            recurring_payment::RecurringPayment::run.name(),
            workflow_types::RECURRING_PAYMENT
        );
        assert_eq!(
            charge_lookup::ChargeLookup::run.name(),
            workflow_types::CHARGE_LOOKUP
        );
    }

    #[test]
    fn system_resolutions_keep_the_upstream_reason() {
        let record = system_resolution(
            &UpstreamVerdict::Failed {
                reason: "card_declined".into(),
            },
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(record.resolution, Resolution::Failed);
        assert_eq!(record.reason_code, "card_declined");
        assert_eq!(record.resolved_by, "system");
    }
}
