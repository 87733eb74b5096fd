//! RecurringPayment: one term of a contract, started by the contract's Temporal Schedule.
//!
//! Versioned with `patched`: v2 sends a receipt after the charge. Runs recorded before v2
//! replay down the v1 path (see `tests/integration/recurring_payment.rs`).

use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowResult};

use crate::{
    activities::upstream::{
        ChargeReceipt, ChargeRequest, ReceiptRequest, UpstreamActivities, error_types,
    },
    contracts::ContractTerms,
    temporal::{search_attributes as sa, task_queues},
};

/// The v2 change: a receipt after each charge.
pub const RECEIPT_PATCH: &str = "send-receipt-after-charge";

fn upstream_call(activity_id: String) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(15))
        .task_queue(task_queues::UPSTREAM.to_string())
        .activity_id(activity_id)
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .maximum_interval(Duration::from_secs(60))
                .maximum_attempts(20)
                .non_retryable_error_types([error_types::REJECTED])
                .build(),
        )
        .build()
}

#[workflow]
#[derive(Default)]
pub struct RecurringPayment;

#[workflow_methods]
impl RecurringPayment {
    #[run(name = "RecurringPayment")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        terms: ContractTerms,
    ) -> WorkflowResult<ChargeReceipt> {
        ctx.upsert_search_attributes([sa::CONTRACT_ID.value_set(terms.contract_id.clone())]);
        // The schedule gives each term's run its own id: the idempotency key of the charge.
        let term_key = ctx.workflow_id().to_string();
        let receipt = ctx
            .execute_activity(
                UpstreamActivities::charge,
                ChargeRequest {
                    contract_id: terms.contract_id.clone(),
                    amount_cents: terms.amount_cents,
                    currency: terms.currency.clone(),
                    idempotency_key: term_key.clone(),
                },
                upstream_call(format!("{term_key}-charge")),
            )
            .await?;
        if ctx.patched(RECEIPT_PATCH) {
            ctx.execute_activity(
                UpstreamActivities::send_receipt,
                ReceiptRequest {
                    contract_id: terms.contract_id,
                    charge_id: receipt.charge_id.clone(),
                    idempotency_key: format!("{term_key}-receipt"),
                },
                upstream_call(format!("{term_key}-receipt")),
            )
            .await?;
        }
        Ok(receipt)
    }
}
