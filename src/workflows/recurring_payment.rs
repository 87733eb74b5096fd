//! RecurringPayment: one term of a contract, started by the contract's Temporal Schedule.
//!
//! Versioned with `patched`: v2 sends a receipt after the charge; v3 checks the term
//! against its contract's schedule and rules before it charges (`term_check`). Runs
//! recorded before each replay down the earlier path (see
//! `tests/integration/recurring_payment.rs` and `replay.rs`).

use temporalio_common::error::ApplicationFailure;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

use super::{term_check, upstream_write_options};
use crate::{
    domain::contract::ContractTerms,
    temporal::search_attributes as sa,
    upstream::activities::{ChargeReceipt, ChargeRequest, ReceiptRequest, UpstreamActivities},
};

/// The v2 change: a receipt after each charge.
pub const RECEIPT_PATCH: &str = "send-receipt-after-charge";
/// The v3 change: a term charges only if its contract's schedule started it and that
/// schedule keeps to the contract rules in force.
pub const TERM_CHECK_PATCH: &str = "term-checked-against-its-contract";
/// How a term the check refused fails: this, then the check's reason (the contract's
/// payment history shows the reason).
pub const TERM_REFUSED_PREFIX: &str = "the term was not charged: ";

/// Attempts at one charge or receipt before the term fails.
const WRITE_ATTEMPTS: u32 = 20;

fn upstream_call(activity_id: String) -> temporalio_sdk::ActivityOptions {
    upstream_write_options(activity_id, Some(WRITE_ATTEMPTS))
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
        if ctx.patched(TERM_CHECK_PATCH) {
            let verdict = ctx
                .execute_activity(
                    term_check::ContractActivities::check,
                    terms.clone(),
                    term_check::check_options(format!("{}-check", ctx.workflow_id())),
                )
                .await?;
            // Only the contract's own terms are listed on its page.
            if verdict.from_schedule {
                ctx.upsert_search_attributes(
                    [sa::CONTRACT_ID.value_set(terms.contract_id.clone())],
                );
            }
            if let Some(why) = verdict.refused {
                return Err(ApplicationFailure::non_retryable(format!(
                    "{TERM_REFUSED_PREFIX}{why}"
                ))
                .into());
            }
        } else {
            ctx.upsert_search_attributes([sa::CONTRACT_ID.value_set(terms.contract_id.clone())]);
        }
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
