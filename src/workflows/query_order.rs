//! QueryOrder: asks the upstream for an order's status, retrying with backoff; after the
//! last failure hands the order to StaleOrder, which outlives it.

use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

use super::{
    mark_resolved, next_stage_options, now, query_upstream, stale_order::StaleOrder,
    system_resolution,
};
use crate::{
    orders::{Handoff, OrderOutcome, OrderRequest, Stage, stale_workflow_id},
    temporal::{search_attributes as sa, task_queues},
};

#[workflow]
#[derive(Default)]
pub struct QueryOrder {
    /// The last error, for the `status` query while retries go on elsewhere.
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
        match query_upstream(ctx, &order).await {
            Ok(verdict) => {
                let record = system_resolution(&verdict, now(ctx));
                mark_resolved(ctx, &record);
                Ok(OrderOutcome::Resolved(record))
            }
            Err(failure) => {
                let next = stale_workflow_id(&order.order_id);
                let handoff = Handoff {
                    attempts: failure.attempts,
                    original_error: failure.message.clone(),
                    stale_retry_error: None,
                    error_reason: failure.reason.clone(),
                    original_reason: failure.reason.clone(),
                    order: order.clone(),
                };
                // Returns once the child has started: the order is never left nowhere.
                ctx.start_child_workflow(
                    StaleOrder::run,
                    handoff.clone(),
                    next_stage_options(
                        next.clone(),
                        task_queues::STALE_ORDER,
                        &order,
                        Stage::Stale,
                        &handoff,
                    ),
                )
                .await?;
                ctx.upsert_search_attributes([
                    sa::ORDER_STAGE.value_set(Stage::Stale.as_str().to_string()),
                    sa::ERROR_REASON.value_set(failure.reason),
                ]);
                ctx.state_mut(|s| s.handed_off_to = Some(next.clone()));
                Ok(OrderOutcome::HandedOff {
                    next_workflow_id: next,
                })
            }
        }
    }

    /// Where the order went after this workflow, if it has gone on.
    #[query(name = "handed-off-to")]
    pub fn handed_off_to(&self, _ctx: &WorkflowContextView) -> Option<String> {
        self.handed_off_to.clone()
    }
}
