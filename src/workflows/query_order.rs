//! QueryOrder: asks the upstream for an order's status, retrying with backoff; after the
//! last failure hands the order to StaleOrder, which outlives it.

use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

use super::{NextStage, hand_off, settle_by_upstream, stale_order::StaleOrder};
use crate::{
    domain::order::{OrderRequest, Stage, stale_workflow_id},
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
        // The order's attributes (stage `querying` included) were set when it was started:
        // upserting them again would cost a visibility write per order for nothing.
        let failure = match settle_by_upstream(ctx, &order).await {
            Ok(record) => return Ok(OrderOutcome::Resolved(record)),
            Err(failure) => failure,
        };
        let next = NextStage {
            workflow: StaleOrder::run,
            workflow_id: stale_workflow_id(&order.order_id),
            task_queue: task_queues::STALE_ORDER,
            stage: Stage::Stale,
        };
        let handoff = Handoff {
            attempts: failure.attempts,
            original_error: failure.message,
            stale_retry_error: None,
            error_reason: failure.reason.clone(),
            original_reason: failure.reason,
            order,
            proposal: None,
        };
        let next_id = next.workflow_id.clone();
        let outcome = hand_off(ctx, next, handoff).await?;
        ctx.state_mut(|s| s.handed_off_to = Some(next_id));
        Ok(outcome)
    }

    /// Where the order went after this workflow, if it has gone on.
    #[query(name = "handed-off-to")]
    pub fn handed_off_to(&self, _ctx: &WorkflowContextView) -> Option<String> {
        self.handed_off_to.clone()
    }
}
