//! ChargeLookup: someone asks the bank what became of a term's charge that had no answer
//! (its tries ran out on timeouts or errors, or the term was stopped while charging:
//! `term_check::TermCharge::InDoubt`). The bank keeps each charge under its idempotency key, the
//! term's workflow id, so its answer to that key settles the term's money: the contract's
//! payment history reads it, and the term check counts the term by it.
//!
//! Each question is a workflow of its own, `charge-lookup-<term>` (a new run each time it is
//! asked), so Temporal keeps who asked, when, and what the bank said. Its one call to the
//! bank runs on the rate-limited upstream queue like every other. Anyone with access to the
//! namespace can start one (Temporal's CLI, an SDK script): what it records is still the
//! bank's own answer, read by our worker. A "no charge" counts only if it was asked after
//! every try of the term's charge had ended ([`SETTLED_AFTER`]): a try still on its way
//! when the bank was asked could have charged after.
//!
//! The bank's statement is its answer too: a question may name the entry of an approved
//! statement import that books the term's charge ([`StatementGiven`], what an import gives
//! each term in doubt it books once a second person approves it). Such a question asks the
//! import, not the bank's API, through an activity on the imports' queue, and settles the
//! term as charged only if that import (approved by a person other than its importer)
//! books that entry for this term, and the entry's money is the term's.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};
use temporalio_common::{
    error::ApplicationFailure,
    protos::temporal::api::history::v1::{HistoryEvent, history_event::Attributes},
};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

use super::{
    settlement_check::{self, SettlementActivities, StatementAnswer},
    statement_import::ChargeEntryCheck,
    upstream_write_options,
};
use crate::{
    domain::contract::terms_workflow_id,
    domain::format::rfc3339,
    domain::input::{validate_operator, validate_order_id},
    temporal::{
        TemporalError,
        histories::{self, Events},
        names::{task_queues, workflow_types},
        search_attributes as sa,
    },
    upstream::activities::{ChargeOnRecord, UpstreamActivities},
};

/// How a question is started: which term, of which contract, and who asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeQuestion {
    pub contract_id: String,
    /// The term's workflow id: the key its charge was sent under.
    pub term_id: String,
    pub operator: String,
    /// The statement entry that books the charge, when an approved import gives it (the
    /// question then asks the import, not the bank's API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementGiven>,
}

/// An approved statement import's entry, given to a term's question as the bank's record
/// of its charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementGiven {
    pub import_id: String,
    pub entry_ref: String,
}

/// The change that lets a question be answered by a statement's entry. Questions started
/// before it named none, so they replay down the bank's path either way.
pub const STATEMENT_ANSWER_PATCH: &str = "charge-answered-by-statement";

/// How a question whose statement did not settle the term fails: this, then why.
pub const NOT_ON_STATEMENT_PREFIX: &str = "the statement does not settle the charge: ";

impl ChargeQuestion {
    /// Why this question is not one this system asks (`None`: it is).
    pub fn refusal(&self) -> Option<String> {
        if let Err(e) = validate_order_id(&self.contract_id) {
            return Some(format!("the contract: {e}"));
        }
        if let Err(e) = validate_operator(&self.operator) {
            return Some(format!("who asks: {e}"));
        }
        // A contract's schedule names each term's run `recurring-<contract>-<time>`.
        let named = terms_workflow_id(&self.contract_id);
        let of_contract = self
            .term_id
            .strip_prefix(&named)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|time| {
                (1..=TERM_TIME_MAX_CHARS).contains(&time.len())
                    && time
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
            });
        (!of_contract).then(|| {
            format!(
                "{:?} is not a term of the contract {:?} (its terms are named {:?})",
                self.term_id,
                self.contract_id,
                format!("{named}-…")
            )
        })
    }
}

/// The longest time a term's id carries after its contract's (`2026-12-07T14:00:00Z`).
const TERM_TIME_MAX_CHARS: usize = 40;

/// The workflow id of the questions about one term.
pub fn workflow_id(term_id: &str) -> String {
    format!("{WORKFLOW_ID_PREFIX}{term_id}")
}

const WORKFLOW_ID_PREFIX: &str = "charge-lookup-";

/// The term a question's workflow id names.
pub fn term_of(workflow_id: &str) -> Option<&str> {
    workflow_id.strip_prefix(WORKFLOW_ID_PREFIX)
}

/// How a question that is not one this system asks fails: this, then why.
pub const REFUSED_PREFIX: &str = "not a question this system asks: ";

/// How long a question asked through the console or our CLI may stay open: one that no
/// worker takes up (none polls the contracts' queue) ends then, and can be asked again.
pub const QUESTION_TIMEOUT: Duration = Duration::from_secs(600);

/// Tries at the bank before a question ends without its answer (a few seconds apart).
const LOOKUP_ATTEMPTS: u32 = 5;

/// How long after a term closed the bank's "no charge" settles it: a try of its charge that
/// was under way then has ended by this time (the activity's start-to-close timeout, which
/// also outlasts the HTTP call's own).
pub const SETTLED_AFTER: Duration = super::WRITE_TIMEOUT;

#[workflow]
#[derive(Default)]
pub struct ChargeLookup;

#[workflow_methods]
impl ChargeLookup {
    #[run(name = "ChargeLookup")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        question: ChargeQuestion,
    ) -> WorkflowResult<ChargeOnRecord> {
        let refusal = question.refusal().or_else(|| {
            (ctx.workflow_id() != workflow_id(&question.term_id)).then(|| {
                format!(
                    "its answer would be filed under {:?}, not under its term's {:?}",
                    ctx.workflow_id(),
                    workflow_id(&question.term_id)
                )
            })
        });
        if let Some(why) = refusal {
            return Err(ApplicationFailure::non_retryable(format!("{REFUSED_PREFIX}{why}")).into());
        }
        // Findable by contract and by person, however it was started (the trail lists it).
        ctx.upsert_search_attributes([
            sa::CONTRACT_ID.value_set(question.contract_id.clone()),
            sa::ACTORS.value_set(vec![question.operator.clone()]),
        ]);
        if let Some(given) = question.statement.clone()
            && ctx.patched(STATEMENT_ANSWER_PATCH)
        {
            let check = ChargeEntryCheck {
                import_id: given.import_id,
                entry_ref: given.entry_ref,
                contract_id: question.contract_id.clone(),
                term_id: question.term_id.clone(),
            };
            let answer = ctx
                .execute_activity(
                    SettlementActivities::verify_charge,
                    check,
                    settlement_check::check_options(format!(
                        "{}-statement-check",
                        question.term_id
                    )),
                )
                .await?;
            return match answer {
                StatementAnswer::Books(entry) => Ok(ChargeOnRecord {
                    idempotency_key: question.term_id,
                    charge_id: Some(format!(
                        "entry {} of statement {}",
                        entry.entry_ref, entry.statement_id
                    )),
                }),
                StatementAnswer::Refused(why) => Err(ApplicationFailure::non_retryable(format!(
                    "{NOT_ON_STATEMENT_PREFIX}{why}"
                ))
                .into()),
            };
        }
        let options = upstream_write_options(
            format!("{}-look-up", question.term_id),
            Some(LOOKUP_ATTEMPTS),
        );
        Ok(ctx
            .execute_activity(
                UpstreamActivities::look_up_charge,
                question.term_id,
                options,
            )
            .await?)
    }
}

/// What the bank said when it was last asked about a term's charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankSaid {
    /// The question is still open: the bank has not answered yet.
    Asking,
    /// The bank took this charge under the term's key.
    Charged(String),
    /// The bank took no charge under the term's key.
    NoCharge,
    /// The question ended without the bank's answer.
    NoAnswer,
    /// An approved import of the bank's statement books the term's charge as this entry.
    OnStatement {
        statement_id: String,
        entry_ref: String,
        approved_by: String,
    },
    /// The question named a statement's entry, which did not settle the term (why).
    NotOnStatement(String),
}

/// The latest question about a term's charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAnswer {
    pub asked_by: String,
    pub asked_at: SystemTime,
    pub said: BankSaid,
}

impl BankAnswer {
    /// Whether the term that closed at `closed_at`, whose charge had no answer, charged the
    /// customer, as this answer settles it: `None` while it settles nothing (no answer, or a
    /// "no charge" asked before every try had ended).
    pub fn settles(&self, closed_at: Option<SystemTime>) -> Option<bool> {
        match &self.said {
            BankSaid::Charged(_) | BankSaid::OnStatement { .. } => Some(true),
            BankSaid::NoCharge if self.asked_late_enough(closed_at) => Some(false),
            _ => None,
        }
    }

    /// Whether it was asked once every try at the charge had ended.
    pub fn asked_late_enough(&self, closed_at: Option<SystemTime>) -> bool {
        closed_at.is_some_and(|closed| self.asked_at >= closed + SETTLED_AFTER)
    }

    /// The answer as the term's row in the payment history ends: `the bank took charge
    /// ch_000001 under its key (asked by fin, 2026-12-07 14:02 UTC).`
    pub fn sentence(&self, closed_at: Option<SystemTime>) -> String {
        let asked = format!("asked by {}, {}", self.asked_by, minute(self.asked_at));
        match &self.said {
            BankSaid::Asking => format!("The bank is being asked ({asked})."),
            BankSaid::Charged(charge) => {
                format!("The bank took charge {charge} under its key ({asked}).")
            }
            BankSaid::NoCharge if self.asked_late_enough(closed_at) => {
                format!("The bank took no charge under its key ({asked}).")
            }
            BankSaid::NoCharge => format!(
                "The bank had taken no charge under its key when asked ({asked}), but a try \
                 may still have been on its way: ask again."
            ),
            BankSaid::NoAnswer => format!("The bank did not answer ({asked}): ask again."),
            BankSaid::OnStatement {
                statement_id,
                entry_ref,
                approved_by,
            } => format!(
                "The bank's statement {statement_id} books its charge as entry {entry_ref} \
                 (approved by {approved_by}; {asked})."
            ),
            BankSaid::NotOnStatement(why) => format!(
                "A statement's entry was given for its charge and did not settle it: {why} \
                 ({asked}). Ask the bank."
            ),
        }
    }
}

impl BankSaid {
    /// What the bank said, as the audit trail's outcome reads it.
    pub fn outcome(&self) -> String {
        match self {
            BankSaid::Asking => "asking the bank".into(),
            BankSaid::Charged(charge) => format!("the bank took charge {charge}"),
            BankSaid::NoCharge => "the bank took no charge".into(),
            BankSaid::NoAnswer => "the bank did not answer".into(),
            BankSaid::OnStatement {
                statement_id,
                entry_ref,
                ..
            } => format!("the bank's statement {statement_id} books it as entry {entry_ref}"),
            BankSaid::NotOnStatement(why) => {
                format!("the statement given does not settle it: {why}")
            }
        }
    }
}

/// A time as a row reads it, to the minute, in UTC.
fn minute(at: SystemTime) -> String {
    let text = rfc3339(at);
    match text.get(..16) {
        Some(to_minute) => format!("{} UTC", to_minute.replace('T', " ")),
        None => text,
    }
}

/// The latest question about `term_id`'s charge, as its history tells (`None`: never asked).
/// Only a ChargeLookup on our contracts' queue counts, and only the bank's answer its
/// activity read on the upstream queue under that term's key.
pub async fn latest_answer(
    client: &temporalio_client::Client,
    term_id: &str,
) -> Result<Option<BankAnswer>, TemporalError> {
    match histories::events(client, &workflow_id(term_id), "", Events::Every).await {
        Ok(events) => Ok(answer_of(&events, term_id)),
        Err(TemporalError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`latest_answer`] from a question's events.
pub fn answer_of(events: &[HistoryEvent], term_id: &str) -> Option<BankAnswer> {
    let look_up = UpstreamActivities::look_up_charge.name();
    let mut answer: Option<BankAnswer> = None;
    let mut asked_bank = Vec::new();
    let mut asked_import = Vec::new();
    let mut closed = false;
    for event in events {
        match &event.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                let ours = a
                    .workflow_type
                    .as_ref()
                    .is_some_and(|t| t.name == workflow_types::CHARGE_LOOKUP)
                    && a.task_queue
                        .as_ref()
                        .is_some_and(|q| q.name == task_queues::RECURRING_SCHEDULE);
                let question: Option<ChargeQuestion> = a
                    .input
                    .as_ref()
                    .and_then(|p| p.payloads.first())
                    .and_then(|p| serde_json::from_slice(&p.data).ok());
                let question = question.filter(|q| ours && q.term_id == term_id)?;
                answer = Some(BankAnswer {
                    asked_by: question.operator,
                    asked_at: event
                        .event_time
                        .as_ref()
                        .map(crate::temporal::schedules::system_time)
                        .unwrap_or(SystemTime::UNIX_EPOCH),
                    said: BankSaid::Asking,
                });
            }
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type.as_ref().is_some_and(|t| t.name == look_up)
                    && a.task_queue
                        .as_ref()
                        .is_some_and(|q| q.name == task_queues::UPSTREAM) =>
            {
                asked_bank.push(event.event_id);
            }
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type
                    .as_ref()
                    .is_some_and(|t| t.name == settlement_check::VERIFY_CHARGE_ACTIVITY)
                    && a.task_queue
                        .as_ref()
                        .is_some_and(|q| q.name == task_queues::MANUAL_HANDLE) =>
            {
                asked_import.push(event.event_id);
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(a))
                if asked_import.contains(&a.scheduled_event_id) =>
            {
                let said: Option<StatementAnswer> = a
                    .result
                    .as_ref()
                    .and_then(|p| p.payloads.first())
                    .and_then(|p| serde_json::from_slice(&p.data).ok());
                if let (Some(answer), Some(said)) = (answer.as_mut(), said) {
                    answer.said = match said {
                        StatementAnswer::Books(entry) if entry.term_id == term_id => {
                            BankSaid::OnStatement {
                                statement_id: entry.statement_id,
                                entry_ref: entry.entry_ref,
                                approved_by: entry.approved_by.operator,
                            }
                        }
                        StatementAnswer::Books(_) => continue,
                        StatementAnswer::Refused(why) => BankSaid::NotOnStatement(why),
                    };
                }
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(a))
                if asked_bank.contains(&a.scheduled_event_id) =>
            {
                let on_record: Option<ChargeOnRecord> = a
                    .result
                    .as_ref()
                    .and_then(|p| p.payloads.first())
                    .and_then(|p| serde_json::from_slice(&p.data).ok());
                if let (Some(answer), Some(on_record)) = (answer.as_mut(), on_record)
                    && on_record.idempotency_key == term_id
                {
                    answer.said = match on_record.charge_id {
                        Some(charge) => BankSaid::Charged(charge),
                        None => BankSaid::NoCharge,
                    };
                }
            }
            _ if histories::closes(event) => closed = true,
            _ => {}
        }
    }
    let mut answer = answer?;
    if closed && answer.said == BankSaid::Asking {
        answer.said = BankSaid::NoAnswer;
    }
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(contract: &str, term: &str) -> ChargeQuestion {
        ChargeQuestion {
            contract_id: contract.into(),
            term_id: term.into(),
            operator: "fin".into(),
            statement: None,
        }
    }

    #[test]
    fn a_question_names_a_term_of_its_own_contract() {
        assert_eq!(
            question("C-1", "recurring-C-1-2026-12-07T14:00:00Z").refusal(),
            None
        );
        for term in [
            "recurring-C-2-2026-12-07T14:00:00Z",
            "C-1-2026-12-07T14:00:00Z",
            "recurring-C-1",
            "recurring-C-1-",
            "recurring-C10-x",
            "recurring-C-1-x' OR '1'='1",
        ] {
            assert!(
                question("C-1", term)
                    .refusal()
                    .is_some_and(|why| why.contains("is not a term of the contract")),
                "{term}"
            );
        }
        assert!(question("C 1", "recurring-C 1-x").refusal().is_some());
    }

    #[test]
    fn no_charge_settles_a_term_only_once_its_tries_have_ended() {
        let closed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let asked = |after: Duration, said: BankSaid| BankAnswer {
            asked_by: "fin".into(),
            asked_at: closed + after,
            said,
        };
        let early = asked(Duration::from_secs(3), BankSaid::NoCharge);
        assert_eq!(early.settles(Some(closed)), None);
        assert!(early.sentence(Some(closed)).contains("ask again"));
        let late = asked(SETTLED_AFTER, BankSaid::NoCharge);
        assert_eq!(late.settles(Some(closed)), Some(false));
        assert_eq!(
            late.sentence(Some(closed)),
            "The bank took no charge under its key (asked by fin, 1970-01-12 13:46 UTC)."
        );
        // A close time not known settles nothing; a charge found is found whenever asked.
        assert_eq!(late.settles(None), None);
        let found = asked(Duration::ZERO, BankSaid::Charged("ch_000001".into()));
        assert_eq!(found.settles(Some(closed)), Some(true));
        for open in [BankSaid::Asking, BankSaid::NoAnswer] {
            assert_eq!(asked(SETTLED_AFTER * 2, open).settles(Some(closed)), None);
        }
    }
}
