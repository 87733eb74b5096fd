//! What people ask of an order (claim, resolve, propose, approve) and what the workflows
//! report back (the resolution record, a manual order's context, a stale order's status).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::{
    input::{
        InputError, REASON_CODE, validate_note, validate_operator, validate_recorded_operator,
    },
    order::{OrderRequest, Resolution},
};

/// Where a failed query left off: handed from one stage to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub order: OrderRequest,
    /// Upstream queries made so far, over all stages.
    pub attempts: u32,
    /// The error that ended QueryOrder.
    pub original_error: String,
    /// The error that ended StaleOrder's retry, once there was one.
    #[serde(default)]
    pub stale_retry_error: Option<String>,
    /// Short machine-readable reason of the latest error (`http_503`, `timeout`, `pending`…).
    pub error_reason: String,
    /// Short reason of the error that ended QueryOrder (empty in handoffs made before it
    /// was recorded).
    #[serde(default)]
    pub original_reason: String,
    /// A resolution proposed before this stage began (a person's `paid` sent to a stale
    /// order): it waits here for a second person's approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<ResolutionRecord>,
    /// What the bank reported paid when it was not the order's amount or currency
    /// (`error_reason` is then `amount_mismatch`): both figures go to the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<crate::domain::money::Money>,
    /// A resolution the bank refused to record in the stage before (a person's or a
    /// statement's, in the stale stage): it waits in the queue with the bank's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<ConclusionRefusal>,
    /// Who put the order back in the queue after the run that held it ended unresolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub put_back: Option<PutBack>,
}

/// An order put back in the manual queue after the run that held it ended without a
/// resolution (terminated, failed, timed out, cancelled): who, when, why, and what ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutBack {
    pub by: Stamp,
    pub reason: String,
    /// The run that ended, as the dropped-orders list said it ("ManualHandle
    /// manual-ORD-1 terminated by … : …").
    pub dropped: String,
}

/// The person behind a request: the id when there is one (an identity provider's issuer
/// and subject, which the person cannot change), else the name. Four eyes and claims
/// compare these, never the names shown.
pub fn person<'a>(operator: &'a str, operator_id: &'a str) -> &'a str {
    match operator_id.is_empty() {
        true => operator,
        false => operator_id,
    }
}

/// Whether two people (as [`person`] gives them) are one for four eyes: names that differ
/// only by case (`Ana`, `ana`) read as one person on every record, so they are one. An id
/// is compared the same way; two ids that differ by case alone are refused too, which
/// errs on the side of a second person.
pub fn same_person(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// Who is acting: the name every record shows, and the stable id behind it when their
/// sign-in has one (`oidc:<issuer>#<subject>`); the CLI's `--operator` is a name alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    #[serde(default)]
    pub id: String,
}

impl Actor {
    pub fn person(&self) -> &str {
        person(&self.name, &self.id)
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Actor {
            name: name.to_string(),
            id: String::new(),
        }
    }
}

impl From<&String> for Actor {
    fn from(name: &String) -> Self {
        Actor::from(name.as_str())
    }
}

/// Who asked for a thing, and when (workflow time, RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub operator: String,
    /// The person's stable id, when their sign-in has one (see [`person`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator_id: String,
    pub at: String,
}

impl Stamp {
    pub fn person(&self) -> &str {
        person(&self.operator, &self.operator_id)
    }
}

/// A person's resolution of an order in the manual queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    /// One of [`Resolution`], as text so a bad value reaches the validator and gets its words.
    pub resolution: String,
    pub reason_code: String,
    pub operator: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator_id: String,
}

impl ResolveRequest {
    pub fn person(&self) -> &str {
        person(&self.operator, &self.operator_id)
    }

    /// Every check that does not depend on the order's state: what a new request is held
    /// to, its name one that reads as one ([`validate_operator`]).
    pub fn validate(&self) -> Result<Resolution, InputError> {
        let resolution = self.validate_recorded()?;
        validate_operator(&self.operator)?;
        Ok(resolution)
    }

    /// The same checks under the operator rule that requests already recorded were taken
    /// under ([`validate_recorded_operator`]): for workflow code that replays them (an
    /// update handler after its validator, a stored signal).
    pub fn validate_recorded(&self) -> Result<Resolution, InputError> {
        let resolution = Resolution::parse(&self.resolution)?;
        REASON_CODE.check(&self.reason_code)?;
        validate_recorded_operator(&self.operator)?;
        validate_note(&self.note)?;
        Ok(resolution)
    }
}

/// The recorded outcome of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionRecord {
    pub resolution: Resolution,
    pub reason_code: String,
    /// `system` when the upstream answered; a person's name otherwise.
    pub resolved_by: String,
    pub resolved_at: String,
    #[serde(default)]
    pub note: String,
    /// The second person who approved it (four eyes), when it needed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<Stamp>,
    /// The resolver's stable id, when their sign-in has one (see [`person`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resolved_by_id: String,
    /// The bank's own record that settled it, when a statement did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// A booked statement entry that settled an order: the bank's own record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The bank's id of the statement; a CSV report, which has none, is named by its file.
    pub statement_id: String,
    /// The import that applied it (`statement-<content hash>`).
    pub import_id: String,
    /// The entry's own reference in the statement.
    pub entry_ref: String,
    /// The day the bank booked it (`YYYY-MM-DD`).
    pub booking_date: String,
    /// What the entry booked.
    pub amount: crate::domain::money::Money,
}

impl ResolutionRecord {
    /// A person's resolution, checked by [`ResolveRequest::validate`], recorded at `at`.
    pub fn by_person(request: ResolveRequest, resolution: Resolution, at: String) -> Self {
        ResolutionRecord {
            resolution,
            reason_code: request.reason_code,
            resolved_by: request.operator,
            resolved_at: at,
            note: request.note,
            approved_by: None,
            resolved_by_id: request.operator_id,
            evidence: None,
        }
    }

    /// The person who resolved (or proposed) it.
    pub fn resolver(&self) -> &str {
        person(&self.resolved_by, &self.resolved_by_id)
    }

    /// How every refusal of a second resolution reads.
    pub fn already_resolved(&self) -> String {
        format!(
            "already resolved by {} at {} as {}",
            self.resolved_by, self.resolved_at, self.resolution
        )
    }
}

impl ResolutionRecord {
    /// Who decided it, as a sentence reads it: "by ana", or "from the bank's own answer"
    /// when the upstream gave the verdict by itself (nobody decided it).
    pub fn by_whom(&self) -> String {
        match self.resolved_by == crate::domain::order::SYSTEM_OPERATOR {
            true => "from the bank's own answer".to_string(),
            false => format!("by {}", self.resolved_by),
        }
    }
}

impl fmt::Display for ResolutionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} at {} ({})",
            self.resolution,
            self.by_whom(),
            self.resolved_at,
            self.reason_code
        )
    }
}

/// A claim on a manual order: one agent works one order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub operator: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator_id: String,
}

impl ClaimRequest {
    pub fn person(&self) -> &str {
        person(&self.operator, &self.operator_id)
    }
}

/// A second person's answer to a proposed resolution (four eyes), or a take-over of a
/// colleague's claim: who, and why (required for a rejection and a take-over).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub operator: String,
    /// Why, for a rejection.
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator_id: String,
}

impl ApprovalRequest {
    pub fn person(&self) -> &str {
        person(&self.operator, &self.operator_id)
    }
}

/// A claim a lead took over from the colleague who held it, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeOver {
    pub from: Stamp,
    pub by: Stamp,
    pub note: String,
}

/// A proposal a second person turned down: the order waits for a person again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRejection {
    pub proposal: ResolutionRecord,
    pub by: Stamp,
    pub note: String,
}

/// A person's resolution that the upstream did not record: the order waits for a person
/// again, who may resolve it the same way (a retry) or differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConclusionRefusal {
    pub record: ResolutionRecord,
    /// The upstream's own words (or why it could not be reached).
    pub message: String,
    pub at: String,
    /// Why, as the activity classed it: `rejected` (the bank answered no), else it gave no
    /// answer (`timeout`, `http_503`, …); empty in refusals recorded before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl ConclusionRefusal {
    /// Whether the bank answered no (rather than giving no answer, when it may have
    /// recorded the resolution after all).
    pub fn answered(&self) -> bool {
        self.reason.is_empty() || self.reason == REJECTED_REASON
    }

    /// What a person can do next, in a sentence.
    pub fn advice(&self) -> &'static str {
        match self.answered() {
            true => "Resolve it again to retry, or decide otherwise.",
            false => {
                "The bank may have recorded it all the same: resolving it the same way again \
                 is safe (the bank answers a duplicate as recorded); if it did record it, \
                 another outcome is refused with what it holds."
            }
        }
    }
}

/// The reason of a refusal the bank answered (`upstream::activities::error_types::REJECTED`
/// is this one: the browser's code cannot reach that module).
pub const REJECTED_REASON: &str = "rejected";

/// A person had an order waiting in the manual queue ask the bank again (ManualHandle's
/// `ask_bank` update), and what the bank said: a verdict settles the order as the bank's
/// own answer would have in the first stage; anything else leaves it waiting, with this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankQuestion {
    pub asked: Stamp,
    /// What the bank answered, in a sentence; `None` while it is being asked.
    pub answer: Option<String>,
    /// Whether that answer settled the order.
    #[serde(default)]
    pub settled: bool,
    /// When it answered (workflow time, RFC 3339; empty while asked).
    #[serde(default)]
    pub answered_at: String,
}

/// A note a person left on an order waiting in the manual queue, for colleagues and the
/// trail (ManualHandle's `add_note` update): who, when, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNote {
    pub by: Stamp,
    pub text: String,
}

/// Everything support needs to decide on a manual order, from ManualHandle's query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualContext {
    pub handoff: Handoff,
    pub waiting_since: String,
    pub claim: Option<Stamp>,
    pub resolution: Option<ResolutionRecord>,
    /// The conclusion was written upstream (after resolution).
    pub concluded: bool,
    /// The last resolution the upstream refused, if it did.
    #[serde(default)]
    pub refused: Option<ConclusionRefusal>,
    /// A resolution proposed and awaiting a second person's approval.
    #[serde(default)]
    pub proposal: Option<ResolutionRecord>,
    /// The last proposal a second person rejected.
    #[serde(default)]
    pub rejected: Option<ProposalRejection>,
    /// The resolutions on this order that need a second person's approval.
    #[serde(default)]
    pub four_eyes: Vec<Resolution>,
    /// The last claim a lead took over.
    #[serde(default)]
    pub taken_over: Option<TakeOver>,
    /// The latest time a person had the order ask the bank again, and its answer.
    #[serde(default)]
    pub asked_bank: Option<BankQuestion>,
    /// How many times people had it ask the bank again (at most the workflow's limit).
    #[serde(default)]
    pub bank_questions: u32,
    /// The notes people left on it, oldest first.
    #[serde(default)]
    pub notes: Vec<OrderNote>,
}

/// StaleOrder's state, from its query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleStatus {
    pub handoff: Handoff,
    pub next_retry_at: Option<String>,
    pub retry_requested: Option<Stamp>,
    pub retrying: bool,
    pub resolution: Option<ResolutionRecord>,
}

/// How a QueryOrder or StaleOrder run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Made once per run and sent once: boxing the record would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum OrderOutcome {
    Resolved(ResolutionRecord),
    /// Handed on to the next stage, by workflow id.
    HandedOff {
        next_workflow_id: String,
    },
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refusal_without_an_answer_says_the_bank_may_have_recorded_it() {
        let refusal = |reason: &str| super::ConclusionRefusal {
            record: super::ResolutionRecord {
                resolution: crate::domain::order::Resolution::Paid,
                reason_code: "BANK_CONFIRMED".into(),
                resolved_by: "ana".into(),
                resolved_at: "2026-12-07T10:00:00Z".into(),
                note: String::new(),
                approved_by: None,
                resolved_by_id: String::new(),
                evidence: None,
            },
            message: "…".into(),
            at: "2026-12-07T10:15:00Z".into(),
            reason: reason.into(),
        };
        for answered in ["", super::REJECTED_REASON] {
            assert!(refusal(answered).answered());
            assert!(refusal(answered).advice().starts_with("Resolve it again"));
        }
        for silent in ["timeout", "http_503", "transport"] {
            assert!(!refusal(silent).answered());
            assert!(refusal(silent).advice().contains("may have recorded it"));
        }
    }

    use super::*;
    use crate::domain::input::MAX_NOTE_LEN;

    #[test]
    fn names_that_differ_only_by_case_are_one_person() {
        assert!(same_person("ana", "ana"));
        assert!(same_person("Ana", "ana"));
        assert!(same_person("ÉLODIE", "élodie"));
        assert!(!same_person("ana", "bo"));
        assert!(!same_person("ana", "oidc:https://id.example#ana"));
    }

    fn request(resolution: &str, note: &str) -> ResolveRequest {
        ResolveRequest {
            resolution: resolution.into(),
            reason_code: "BANK_CONFIRMED".into(),
            operator: "ana".into(),
            note: note.into(),
            operator_id: String::new(),
        }
    }

    #[test]
    fn resolve_requests_are_bounded() {
        assert_eq!(request("paid", "ok").validate(), Ok(Resolution::Paid));
        let long = "n".repeat(MAX_NOTE_LEN + 1);
        assert!(matches!(
            request("paid", &long).validate(),
            Err(InputError::TooLong { field: "note", .. })
        ));
        let mut no_operator = request("paid", "");
        no_operator.operator = " ".into();
        assert!(no_operator.validate().is_err());
        let mut bad_code = request("paid", "");
        bad_code.reason_code = "two words".into();
        assert!(bad_code.validate().is_err());
    }
}
