//! The check an order makes before a statement settles it. A `settle-by-statement` signal
//! can come from any client with access to the namespace, and an order cannot tell its
//! sender, so the order asks the import the settlement names, through this activity,
//! whether that import (approved by that person through its validated `approve` update)
//! matched that entry of that amount to this order. Only then does it settle.

use std::{sync::Arc, time::Duration};
use temporalio_client::{
    Client, WorkflowDescribeOptions, WorkflowQueryOptions,
    errors::{WorkflowInteractionError, WorkflowQueryError},
    tonic::Code,
};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::{
    ActivityOptions, WorkflowContext,
    activities::{ActivityContext, ActivityError},
};

use super::statement_import::{
    ChargeEntryCheck, OrderMoney, SettlementCheck, StatementCharge, StatementImport,
    StatementSettlement,
};
use super::term_check::TermCharge;
use crate::{
    domain::{
        money::Money,
        statement::{entry_pays, is_import_id},
    },
    temporal::{
        TemporalError, histories,
        names::{task_queues, workflow_types},
        search_attributes as sa,
    },
};
use serde::{Deserialize, Serialize};

/// Settlements an order holds for checking at once; more are ignored until it has checked
/// some (a flood of forged signals cannot grow its state without bound). A real import's
/// settlement comes once per order, so it is never the one left out but behind this many.
pub const MAX_PENDING_SETTLEMENTS: usize = 20;

/// The check's activity type, as histories record it (the `#[activity]` below spells the
/// same: the macro takes a literal); the audit trail reads each answer by it.
pub const VERIFY_ACTIVITY: &str = "VerifyStatementSettlement";

/// The change that has an order send its own money with each check, so the check holds
/// the entry's money to it (`domain::statement::entry_pays`) once the import has confirmed
/// the settlement: an import started from another client can call any entry "matched".
/// Checks made before it carry no money, and replay as they ran.
pub const SETTLEMENT_MONEY_PATCH: &str = "settlement-held-to-the-orders-money";

/// The change that has an order record which import settled it (`SettledBy`), so the
/// import's page counts the orders it settled rather than the signals it sent. Runs
/// settled before it replay as they ran.
pub const SETTLED_BY_PATCH: &str = "settled-by-recorded";

/// In workflow code, once a statement's settlement is accepted: records the import it came
/// from in the order's `SettledBy`, on runs with the [`SETTLED_BY_PATCH`].
pub fn record_settled_by<W>(ctx: &WorkflowContext<W>, settlement: &StatementSettlement) {
    if ctx.patched(SETTLED_BY_PATCH) {
        ctx.upsert_search_attributes([
            sa::SETTLED_BY.value_set(vec![settlement.evidence.import_id.clone()])
        ]);
    }
}

/// The change that lists an order in the audit trail once a statement's settlement did not
/// settle it (its import did not confirm it, the money was not the order's, a person came
/// first), though no person has acted on it yet. The trail shows such a settlement's row
/// under its approver when the import itself sent it, and under its sender's identity on
/// the `signal` channel when a client did (a forged one): the order's `Actors` gets the
/// names it gives and `signal` (the seed's bare signal is listed the same way), so the
/// trail's search by either finds it. Runs checked before it replay as they ran.
pub const REFUSED_NAMES_PATCH: &str = "unsettling-settlement-names-listed";

/// An order's `Actors` grows by the names of settlements that did not settle it only while
/// it holds fewer than this many keys: a stream of forged signals cannot grow it without
/// end (a person's own acts are always added).
pub const MAX_ACTORS_FOR_UNSETTLING_NAMES: usize = 20;

/// In workflow code, after a settlement did not settle the order: adds the names (and ids)
/// it gives to `actors`, on runs with the [`REFUSED_NAMES_PATCH`]; the list to write to
/// `Actors` when it changed.
pub fn list_unsettling_names<W>(
    ctx: &WorkflowContext<W>,
    actors: &mut Vec<String>,
    settlement: &StatementSettlement,
) -> Option<Vec<String>> {
    if !ctx.patched(REFUSED_NAMES_PATCH) || actors.len() >= MAX_ACTORS_FOR_UNSETTLING_NAMES {
        return None;
    }
    let (importer, approver) = (&settlement.imported_by, &settlement.approved_by);
    let keys = [
        importer.operator.as_str(),
        &importer.operator_id,
        &approver.operator,
        &approver.operator_id,
        super::manual_handle::SIGNAL_ACTOR,
    ];
    super::add_actors(actors, &keys).then(|| actors.clone())
}

/// The failure type of a check that refused a settlement for its money: its message is the
/// reason, which the audit trail shows.
pub const SETTLEMENT_REFUSED: &str = "settlement_refused";

/// Asks imports about the settlements that name them.
pub struct SettlementActivities {
    client: Client,
    /// The `[statements]` tolerance an entry's money may differ from an order's by.
    tolerance_minor: i64,
}

impl SettlementActivities {
    pub fn new(client: Client, tolerance_minor: i64) -> Self {
        SettlementActivities {
            client,
            tolerance_minor,
        }
    }
}

#[activities]
impl SettlementActivities {
    /// True when the import the check names approved that settlement of this order; false
    /// when it did not, or there is no such import. Temporal being away is retried.
    #[activity(name = "VerifyStatementSettlement")]
    pub async fn verify(
        self: Arc<Self>,
        _ctx: ActivityContext,
        check: SettlementCheck,
    ) -> Result<bool, ActivityError> {
        let handle = self
            .client
            .get_workflow_handle::<StatementImport>(check.import_id.clone());
        let import_id = check.import_id.clone();
        if !is_import_id(&import_id) || !self.our_import(&import_id).await? {
            return Ok(false);
        }
        let (order_money, amount, order_id) = (
            check.order_money.clone(),
            check.amount.clone(),
            check.order_id.clone(),
        );
        match handle
            .query(
                StatementImport::settles,
                check,
                WorkflowQueryOptions::default(),
            )
            .await
        {
            // Then the order's money: whatever the import says, an entry of other money does
            // not settle it (no import of ours calls such an entry matched). Asked last, so
            // a settlement its import does not confirm is refused for that.
            Ok(true) => match order_money
                .map(|order| entry_pays(&amount, order.amount.as_ref(), self.tolerance_minor))
            {
                Some(Err(why)) => {
                    tracing::warn!(
                        import_id,
                        order_id,
                        reason = why,
                        "an import settles an order with other money than the order's"
                    );
                    Err(ActivityError::application(
                        ApplicationFailure::builder(why)
                            .type_name(SETTLEMENT_REFUSED.to_string())
                            .non_retryable(true)
                            .build(),
                    ))
                }
                _ => Ok(true),
            },
            Ok(false) => Ok(false),
            // No such workflow, another type (no such query), an answer that is not ours.
            Err(
                WorkflowQueryError::NotFound(_)
                | WorkflowQueryError::Rejected { .. }
                | WorkflowQueryError::PayloadConversion(_),
            ) => Ok(false),
            Err(WorkflowQueryError::Rpc(status))
                if matches!(
                    status.code(),
                    Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition
                ) =>
            {
                tracing::warn!(import_id, error = %status, "a settlement named an import that cannot answer");
                Ok(false)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Whether the import a term's question names, approved by a second person, books that
    /// entry as the term's charge in doubt, for the term's money (the term's own history
    /// says its contract, its money and that its charge had no answer). Temporal being away
    /// is retried.
    #[activity(name = "VerifyStatementCharge")]
    pub async fn verify_charge(
        self: Arc<Self>,
        _ctx: ActivityContext,
        check: ChargeEntryCheck,
    ) -> Result<StatementAnswer, ActivityError> {
        let refused = |why: &str| {
            tracing::warn!(
                import_id = check.import_id,
                term_id = check.term_id,
                reason = why,
                "a statement's entry given for a term's charge does not settle it"
            );
            Ok(StatementAnswer::Refused(why.to_string()))
        };
        if !is_import_id(&check.import_id) || !self.our_import(&check.import_id).await? {
            return refused(&format!(
                "{:?} is no statement import of ours",
                check.import_id
            ));
        }
        let handle = self
            .client
            .get_workflow_handle::<StatementImport>(check.import_id.clone());
        let entry = match handle
            .query(
                StatementImport::charge_entry,
                check.clone(),
                WorkflowQueryOptions::default(),
            )
            .await
        {
            Ok(entry) => entry,
            Err(
                WorkflowQueryError::NotFound(_)
                | WorkflowQueryError::Rejected { .. }
                | WorkflowQueryError::PayloadConversion(_),
            ) => None,
            Err(WorkflowQueryError::Rpc(status))
                if matches!(
                    status.code(),
                    Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition
                ) =>
            {
                None
            }
            Err(e) => return Err(unavailable(e)),
        };
        let Some(entry) = entry else {
            return refused(&format!(
                "the import {} does not book entry {:?} as this term's charge with a second \
                 person's approval",
                check.import_id, check.entry_ref
            ));
        };
        match self.term_refuses(&check, &entry).await? {
            Some(why) => refused(&why),
            None => Ok(StatementAnswer::Books(Box::new(entry))),
        }
    }
}

/// What a term's question learns from the import its statement's entry names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatementAnswer {
    /// The import, approved by a second person, books the entry as the term's charge, for
    /// the term's money.
    Books(Box<StatementCharge>),
    /// It does not, or the term's own record disagrees: why, in finance's words.
    Refused(String),
}

/// The charge check's activity type, as histories record it (the `#[activity]` below
/// spells the same); a term's question reads its answer by it.
pub const VERIFY_CHARGE_ACTIVITY: &str = "VerifyStatementCharge";

impl SettlementActivities {
    /// Whether `import_id` is a StatementImport our workers run, and ran. Only such an
    /// import can answer: anything else named as one (another type, or an import on a
    /// queue nobody polls, started from Temporal's CLI) is a no at once, not a query left
    /// to time out, try after try, while real settlements wait behind it.
    async fn our_import(&self, import_id: &str) -> Result<bool, ActivityError> {
        let handle = self
            .client
            .get_workflow_handle::<StatementImport>(import_id.to_string());
        match handle.describe(WorkflowDescribeOptions::default()).await {
            Ok(described)
                if described.workflow_type() == workflow_types::STATEMENT_IMPORT
                    && described.task_queue() == task_queues::MANUAL_HANDLE =>
            {
                // An import with no workflow task pending is idle between tasks: it ran. Only
                // one with a task pending (at work, or failing task after task) is read.
                let ran = match described.raw_description.pending_workflow_task {
                    None => Ok(true),
                    Some(_) => ran_our_code(&self.client, import_id).await,
                };
                match ran {
                    Ok(true) => Ok(true),
                    Ok(false) => {
                        tracing::warn!(
                            import_id,
                            "a settlement named an import that never ran (its code fails on its input)"
                        );
                        Ok(false)
                    }
                    Err(status) => Err(unavailable(status)),
                }
            }
            Ok(described) => {
                tracing::warn!(
                    import_id,
                    workflow_type = described.workflow_type(),
                    task_queue = described.task_queue(),
                    "a settlement named a workflow that is no import of ours"
                );
                Ok(false)
            }
            Err(WorkflowInteractionError::NotFound(_)) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// What the term's own record says against the entry: `None` when the term, closed
    /// with its charge in doubt, is of that contract and for the entry's money.
    async fn term_refuses(
        &self,
        check: &ChargeEntryCheck,
        entry: &StatementCharge,
    ) -> Result<Option<String>, ActivityError> {
        use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
        let events =
            match histories::events(&self.client, &check.term_id, "", histories::Events::Every)
                .await
            {
                Ok(events) => events,
                Err(TemporalError::NotFound(_)) => {
                    return Ok(Some(format!("no term {:?} ran", check.term_id)));
                }
                Err(e) => return Err(unavailable(e)),
            };
        let started = events.first().and_then(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => Some(a),
            _ => None,
        });
        let ours = started.is_some_and(|a| {
            a.workflow_type
                .as_ref()
                .is_some_and(|t| t.name == workflow_types::RECURRING_PAYMENT)
                && a.task_queue
                    .as_ref()
                    .is_some_and(|q| q.name == task_queues::RECURRING_SCHEDULE)
        });
        let closed = events.last().is_some_and(histories::closes);
        let term = super::term_check::closed_term_of(&events);
        Ok(match term.terms {
            _ if !ours => Some(format!("{:?} is not a term of ours", check.term_id)),
            _ if !closed => Some("the term is still charging: its own answer settles it".into()),
            None => Some("the term's record holds no terms".into()),
            Some(terms) if terms.contract_id != check.contract_id => Some(format!(
                "the term is of the contract {:?}, not {:?}",
                terms.contract_id, check.contract_id
            )),
            Some(_) if term.charge != TermCharge::InDoubt => Some(format!(
                "the term's own record settles its charge already ({})",
                match term.charge {
                    TermCharge::Charged => "charged",
                    _ => "not charged: the bank refused it",
                }
            )),
            Some(terms) if !entry.amount.same_as(terms.amount_cents, &terms.currency) => {
                Some(format!(
                    "the entry books {}, the term is for {}",
                    entry.amount,
                    crate::domain::money::format_amount(
                        terms.amount_cents,
                        &terms.currency,
                        crate::domain::money::minor_units(&terms.currency)
                            .unwrap_or(entry.amount.exponent)
                    )
                ))
            }
            Some(_) => None,
        })
    }
}

/// Events read from the start of an import's history to find its first completed
/// workflow task (the fourth event of a run that ran).
const FIRST_EVENTS_READ: i32 = 10;

/// Whether our code ever completed a workflow task of the import: one that never did (an
/// "import" started from Temporal's CLI with no statement in it, whose code fails on its
/// input) approved nothing, and a query to it would wait for a task that never completes.
async fn ran_our_code(client: &Client, import_id: &str) -> Result<bool, TemporalError> {
    use temporalio_common::protos::temporal::api::enums::v1::EventType;
    let first = histories::events(
        client,
        import_id,
        "",
        histories::Events::First(FIRST_EVENTS_READ),
    )
    .await?;
    Ok(first
        .iter()
        .any(|e| e.event_type == EventType::WorkflowTaskCompleted as i32))
}

/// A check that could not be made: retried.
fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(error)
            .type_name("settlement_check_unavailable".to_string())
            .build(),
    )
}

/// How long one attempt at the check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for the check: on the manual-handle queue, where the imports' workers run.
pub fn check_options(activity_id: String) -> ActivityOptions {
    super::temporal_check_options(task_queues::MANUAL_HANDLE, CHECK_TIMEOUT, activity_id)
}

/// In workflow code: asks the import a settlement names whether it settles this order
/// (the `nth` check of the order's run: each its own activity id). A settlement that
/// names no import, or a check that cannot be made, counts as no.
pub async fn confirmed_by_import<W>(
    ctx: &WorkflowContext<W>,
    order_id: &str,
    order_amount: Option<&Money>,
    settlement: &StatementSettlement,
    nth: u32,
) -> bool {
    if !is_import_id(&settlement.evidence.import_id) {
        return false;
    }
    let order_money = ctx.patched(SETTLEMENT_MONEY_PATCH).then(|| OrderMoney {
        amount: order_amount.cloned(),
    });
    let activity_id = format!("{order_id}-settlement-check-{nth}");
    ctx.execute_activity(
        SettlementActivities::verify,
        settlement.check(order_id, order_money),
        check_options(activity_id),
    )
    .await
    .unwrap_or(false)
}
