//! QueryOrder: asks the upstream for an order's status, retrying with backoff; after the
//! last failure hands the order to StaleOrder, which outlives it.

use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

use super::{
    AMOUNT_MISMATCH, NextStage, check_order_at_start, hand_off, manual_handle::ManualHandle,
    settle_by_upstream, stale_order::StaleOrder,
};
use crate::{
    domain::order::{OrderRequest, Stage, manual_workflow_id, stale_workflow_id},
    domain::resolution::{Handoff, OrderOutcome},
    temporal::names::task_queues,
};

#[workflow]
#[derive(Default)]
pub struct QueryOrder {
    /// Where the order went, for the `handed-off-to` query.
    handed_off_to: Option<String>,
}

#[workflow_methods]
impl QueryOrder {
    #[run(name = "QueryOrder")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        order: OrderRequest,
    ) -> WorkflowResult<OrderOutcome> {
        check_order_at_start(ctx, &order)?;
        // The order's attributes (stage `querying` included) were set when it was started:
        // upserting them again would cost a visibility write per order for nothing. Only a
        // start that carried others (from Temporal's CLI) has them set right.
        let corrections =
            super::held_to_input(ctx, super::order_attributes(&order, Stage::Querying));
        if !corrections.is_empty() {
            ctx.upsert_search_attributes(corrections);
        }
        let failure = match settle_by_upstream(ctx, &order).await {
            Ok(record) => return Ok(OrderOutcome::Resolved(record)),
            Err(failure) => failure,
        };
        let mismatch = failure.reason == AMOUNT_MISMATCH;
        let handoff = Handoff {
            attempts: failure.attempts,
            original_error: failure.message,
            stale_retry_error: None,
            error_reason: failure.reason.clone(),
            original_reason: failure.reason,
            order,
            proposal: None,
            seen: failure.seen,
            refused: None,
            put_back: None,
        };
        // A paid for other money is a person's to decide at once: waiting and asking again
        // would only hear the same figure.
        let (next_id, outcome) = if mismatch {
            let next = NextStage {
                workflow: ManualHandle::run,
                workflow_id: manual_workflow_id(&handoff.order.order_id),
                task_queue: task_queues::MANUAL_HANDLE,
                stage: Stage::Manual,
            };
            (
                next.workflow_id.clone(),
                hand_off(ctx, next, handoff).await?,
            )
        } else {
            let next = NextStage {
                workflow: StaleOrder::run,
                workflow_id: stale_workflow_id(&handoff.order.order_id),
                task_queue: task_queues::STALE_ORDER,
                stage: Stage::Stale,
            };
            (
                next.workflow_id.clone(),
                hand_off(ctx, next, handoff).await?,
            )
        };
        ctx.state_mut(|s| s.handed_off_to = Some(next_id));
        Ok(outcome)
    }

    /// Where the order went after this workflow, if it has gone on.
    #[query(name = "handed-off-to")]
    pub fn handed_off_to(&self, _ctx: &WorkflowContextView) -> Option<String> {
        self.handed_off_to.clone()
    }
}
