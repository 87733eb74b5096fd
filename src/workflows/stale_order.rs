//! StaleOrder: waits on a durable timer (or a person's "retry now"), then asks the
//! upstream once more; on failure hands the order to ManualHandle.

use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    CancellableFuture, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

use super::{
    NextStage, conclude, hand_off,
    manual_handle::{ManualHandle, SETTLEMENT_CHECK_PATCH},
    now, query_failure, recorded_at, settle_by_upstream,
    settlement_check::{confirmed_by_import, list_unsettling_names, record_settled_by},
    timestamp,
};
use crate::{
    domain::format::rfc3339,
    domain::input::{validate_operator, validate_recorded_operator},
    domain::order::{MAX_STALE_WAIT_SECS, Resolution, Stage, manual_workflow_id},
    domain::resolution::{
        ConclusionRefusal, Handoff, OrderOutcome, ResolutionRecord, ResolveRequest, StaleStatus,
        Stamp,
    },
    temporal::names::task_queues,
    temporal::search_attributes as sa,
    upstream::activities::error_types,
};

#[workflow]
pub struct StaleOrder {
    handoff: Handoff,
    next_retry_at: Option<String>,
    retry_requested: Option<Stamp>,
    retrying: bool,
    resolve_requested: Option<ResolveRequest>,
    resolution: Option<ResolutionRecord>,
    /// Everyone who acted on the order here.
    actors: Vec<String>,
    /// A bank statement's entry that settles the order, approved on its import.
    statement: Option<super::statement_import::StatementSettlement>,
    /// A settlement not yet confirmed by the import it names (see ManualHandle's
    /// [`SETTLEMENT_CHECK_PATCH`]).
    pending_settlements: Vec<super::statement_import::StatementSettlement>,
    /// Settlements checked so far (each check its own activity id).
    settlement_checks: u32,
}

/// The change that holds the stale stage's resolve signal to four eyes: a resolution that
/// needs a second person goes to the manual queue as a proposal instead of being
/// concluded, and the sender is among the order's actors. Runs recorded before it replay
/// as they ran.
pub const FOUR_EYES_PATCH: &str = "stale-resolve-proposes-what-needs-approval";
/// A retry or a resolution signalled under a name that reads like another's (a space at
/// an end, a zero-width character: `domain::input::look_alike`) is ignored, as the update
/// validators refuse it; runs before it took any valid name.
pub const PLAIN_NAMES_PATCH: &str = "operator-names-read-as-one";
/// A resolution the bank refuses in this stage goes on to the manual queue with the bank's
/// words ([`conclude_or_hand_on`]); runs before it failed.
pub const REFUSAL_TO_QUEUE_PATCH: &str = "stale-refused-conclusion-goes-to-the-queue";

#[workflow_methods]
impl StaleOrder {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, handoff: Handoff) -> Self {
        StaleOrder {
            handoff,
            next_retry_at: None,
            retry_requested: None,
            retrying: false,
            resolve_requested: None,
            resolution: None,
            actors: Vec::new(),
            statement: None,
            pending_settlements: Vec::new(),
            settlement_checks: 0,
        }
    }

    #[run(name = "StaleOrder")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<OrderOutcome> {
        let handoff = ctx.state(|s| s.handoff.clone());
        let order = handoff.order.clone();
        super::check_order_at_start(ctx, &order)?;
        // Bounded: a policy that skipped the checks cannot overflow the clock.
        let wait = Duration::from_secs(order.policy.stale_wait_secs.min(MAX_STALE_WAIT_SECS));
        let retry_at = now(ctx).checked_add(wait).unwrap_or(now(ctx));
        ctx.state_mut(|s| s.next_retry_at = Some(rfc3339(retry_at)));
        // The stage (`stale`) came with the start; only the retry time is new. A start that
        // carried other attributes (from Temporal's CLI) has them set right first.
        let corrections = super::held_to_input(
            ctx,
            super::handoff_attributes(&order, Stage::Stale, &handoff),
        );
        if !corrections.is_empty() {
            ctx.upsert_search_attributes(corrections);
        }
        ctx.upsert_search_attributes([sa::STALE_RETRY_AT.value_set(timestamp(retry_at))]);

        let mut timer = Box::pin(ctx.timer(wait));
        loop {
            let mut fired = false;
            temporalio_sdk::workflows::select! {
                _ = timer => { fired = true; }
                _ = ctx.wait_condition(|s: &Self| {
                    s.retry_requested.is_some()
                        || s.resolve_requested.is_some()
                        || s.statement.is_some()
                        || !s.pending_settlements.is_empty()
                }) => {}
            }
            if fired {
                break;
            }
            // A settlement its import has not confirmed yet (only runs with the check keep
            // one pending): ask, then wait again, the timer still running.
            if let Some(settlement) = ctx.state_mut(|s| {
                (!s.pending_settlements.is_empty()).then(|| s.pending_settlements.remove(0))
            }) {
                let nth = ctx.state_mut(|s| {
                    s.settlement_checks += 1;
                    s.settlement_checks
                });
                // A person's request does not wait for a slow check: it wins.
                let confirmed = temporalio_sdk::workflows::select! {
                    yes = futures::FutureExt::fuse(confirmed_by_import(ctx, &order.order_id, order.amount.as_ref(), &settlement, nth)) => yes,
                    _ = ctx.wait_condition(|s: &Self| {
                        s.retry_requested.is_some() || s.resolve_requested.is_some()
                    }) => false,
                };
                if confirmed {
                    accept_settlement(ctx, settlement);
                } else {
                    let mut actors = ctx.state(|s| s.actors.clone());
                    if let Some(actors) = list_unsettling_names(ctx, &mut actors, &settlement) {
                        ctx.state_mut(|s| s.actors = actors.clone());
                        ctx.upsert_search_attributes([sa::ACTORS.value_set(actors)]);
                    }
                }
                continue;
            }
            // The timer lost: cancel it so it does not stay scheduled.
            timer.cancel();
            break;
        }
        drop(timer);

        if let Some(settlement) = ctx.state(|s| s.statement.clone()) {
            let record = settlement.record(rfc3339(now(ctx)));
            return conclude_or_hand_on(ctx, &handoff, record).await;
        }
        if let Some(request) = ctx.state(|s| s.resolve_requested.clone()) {
            if ctx.patched(FOUR_EYES_PATCH)
                && let Ok(resolution) = request.validate_recorded()
                && order.needs_approval(resolution)
            {
                return propose_in_the_queue(ctx, handoff, request, resolution).await;
            }
            return resolve_by_person(ctx, &handoff, request).await;
        }

        ctx.state_mut(|s| {
            s.retrying = true;
            s.next_retry_at = None;
        });
        let settled = settle_by_upstream(ctx, &order).await;
        ctx.state_mut(|s| s.retrying = false);
        let failure = match settled {
            Ok(record) => {
                ctx.state_mut(|s| s.resolution = Some(record.clone()));
                return Ok(OrderOutcome::Resolved(record));
            }
            Err(failure) => failure,
        };
        let next_handoff = Handoff {
            attempts: handoff.attempts + failure.attempts,
            stale_retry_error: Some(failure.message),
            error_reason: failure.reason,
            seen: failure.seen.or(handoff.seen),
            ..handoff
        };
        to_the_manual_queue(ctx, next_handoff).await
    }

    /// Skips the rest of the wait. The operator's name goes into history.
    #[signal(name = "retry-now")]
    pub fn retry_now(&mut self, ctx: &mut SyncWorkflowContext<Self>, operator: String) {
        if validate_recorded_operator(&operator).is_err() || self.retry_requested.is_some() {
            return;
        }
        // A name that reads like another's is not recorded as who retried (on runs with
        // the [`PLAIN_NAMES_PATCH`]).
        if ctx.patched(PLAIN_NAMES_PATCH) && validate_operator(&operator).is_err() {
            return;
        }
        let at = recorded_at(ctx.workflow_time());
        if ctx.patched(super::manual_handle::ACTORS_PATCH) {
            self.acted(ctx, &operator);
        }
        self.retry_requested = Some(Stamp {
            operator,
            operator_id: String::new(),
            at,
        });
    }

    /// A person already knows the answer: resolve without asking the upstream again. A
    /// resolution that needs a second person goes to the manual queue as a proposal (on
    /// runs with the [`FOUR_EYES_PATCH`]): a signal never settles it alone.
    #[signal(name = "resolve")]
    pub fn resolve(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ResolveRequest) {
        if request.validate_recorded().is_err() || self.resolve_requested.is_some() {
            return;
        }
        if ctx.patched(PLAIN_NAMES_PATCH) && request.validate().is_err() {
            return;
        }
        if ctx.patched(FOUR_EYES_PATCH) {
            self.acted(ctx, &request.operator);
        }
        self.resolve_requested = Some(request);
    }

    /// A bank statement's entry settles the order as paid (see ManualHandle's signal of
    /// the same name), while it waits; a person's request that came first wins.
    #[signal(name = "settle-by-statement")]
    pub fn settle_by_statement(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        settlement: super::statement_import::StatementSettlement,
    ) {
        if !settlement.is_sound()
            || self.statement.is_some()
            || self.resolve_requested.is_some()
            || self.retry_requested.is_some()
            || self.retrying
            || self.resolution.is_some()
        {
            return;
        }
        // The signal may come from any client: the import it names confirms it first.
        if ctx.patched(SETTLEMENT_CHECK_PATCH) {
            if self.pending_settlements.len() < super::settlement_check::MAX_PENDING_SETTLEMENTS {
                self.pending_settlements.push(settlement);
            }
            return;
        }
        self.acted(ctx, &settlement.imported_by.operator.clone());
        self.acted(ctx, &settlement.approved_by.operator.clone());
        self.statement = Some(settlement);
    }

    /// Adds `name` to the order's `Actors`, once.
    fn acted(&mut self, ctx: &mut SyncWorkflowContext<Self>, name: &str) {
        if super::add_actors(&mut self.actors, &[name]) {
            ctx.upsert_search_attributes([sa::ACTORS.value_set(self.actors.clone())]);
        }
    }

    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> StaleStatus {
        StaleStatus {
            handoff: self.handoff.clone(),
            next_retry_at: self.next_retry_at.clone(),
            retry_requested: self.retry_requested.clone(),
            retrying: self.retrying,
            resolution: self.resolution.clone(),
        }
    }
}

async fn resolve_by_person(
    ctx: &mut WorkflowContext<StaleOrder>,
    handoff: &Handoff,
    request: ResolveRequest,
) -> WorkflowResult<OrderOutcome> {
    let Ok(resolution) = request.validate_recorded() else {
        // The signal handler only stores valid requests.
        return Err(temporalio_common::error::ApplicationFailure::non_retryable(
            "invalid resolution request",
        )
        .into());
    };
    let record = ResolutionRecord::by_person(request, resolution, rfc3339(now(ctx)));
    conclude_or_hand_on(ctx, handoff, record).await
}

/// Writes a resolution to the bank (retried until it answers). One the bank refuses (a
/// 4xx, or another outcome than the one it recorded for the order) goes on to the manual
/// queue with the bank's words, for a person to decide again (on runs with the
/// [`REFUSAL_TO_QUEUE_PATCH`]; before it, the stale stage failed and the order waited
/// nowhere).
async fn conclude_or_hand_on(
    ctx: &mut WorkflowContext<StaleOrder>,
    handoff: &Handoff,
    record: ResolutionRecord,
) -> WorkflowResult<OrderOutcome> {
    match conclude(ctx, &handoff.order.order_id, &record).await {
        Ok(()) => {
            ctx.state_mut(|s| s.resolution = Some(record.clone()));
            Ok(OrderOutcome::Resolved(record))
        }
        Err(error) if ctx.patched(REFUSAL_TO_QUEUE_PATCH) => {
            // A statement's settlement the bank refused leaves the order unsettled: the
            // import no longer counts it.
            if record.evidence.is_some() {
                ctx.upsert_search_attributes([sa::SETTLED_BY.value_set(Vec::new())]);
            }
            let failure = query_failure(&error, 1);
            let refusal = ConclusionRefusal {
                record,
                message: failure.message,
                reason: failure.reason,
                at: recorded_at(ctx.workflow_time()),
            };
            let next_handoff = Handoff {
                error_reason: error_types::CONCLUSION_REFUSED.to_string(),
                refused: Some(refusal),
                ..handoff.clone()
            };
            to_the_manual_queue(ctx, next_handoff).await
        }
        Err(error) => Err(error.into()),
    }
}

/// A resolution sent to a stale order that needs a second person: the order goes on to
/// the manual queue with it as a pending proposal, for an approver.
async fn propose_in_the_queue(
    ctx: &mut WorkflowContext<StaleOrder>,
    handoff: Handoff,
    request: ResolveRequest,
    resolution: Resolution,
) -> WorkflowResult<OrderOutcome> {
    let proposal = ResolutionRecord::by_person(request, resolution, rfc3339(now(ctx)));
    let next_handoff = Handoff {
        proposal: Some(proposal),
        ..handoff
    };
    to_the_manual_queue(ctx, next_handoff).await
}

/// Hands the order on to the manual queue (ManualHandle) with `handoff`.
async fn to_the_manual_queue(
    ctx: &mut WorkflowContext<StaleOrder>,
    handoff: Handoff,
) -> WorkflowResult<OrderOutcome> {
    let next = NextStage {
        workflow: ManualHandle::run,
        workflow_id: manual_workflow_id(&handoff.order.order_id),
        task_queue: task_queues::MANUAL_HANDLE,
        stage: Stage::Manual,
    };
    hand_off(ctx, next, handoff).await
}

/// Takes a settlement its import confirmed, unless a person's request or another
/// settlement came first; both people become the order's actors.
fn accept_settlement(
    ctx: &WorkflowContext<StaleOrder>,
    settlement: super::statement_import::StatementSettlement,
) {
    let accepted = ctx.state_mut(|s| {
        if s.statement.is_some() || s.resolve_requested.is_some() || s.retry_requested.is_some() {
            return None;
        }
        let names = [
            settlement.imported_by.operator.as_str(),
            &settlement.approved_by.operator,
        ];
        let changed = super::add_actors(&mut s.actors, &names).then(|| s.actors.clone());
        s.statement = Some(settlement.clone());
        Some(changed)
    });
    let Some(actors) = accepted else {
        return;
    };
    if let Some(actors) = actors {
        ctx.upsert_search_attributes([sa::ACTORS.value_set(actors)]);
    }
    record_settled_by(ctx, &settlement);
}
