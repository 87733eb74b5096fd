//! StatementImport: one bank statement, imported by one person, applied when a second
//! person approves it. Its id is the file's content hash (`statement-<hash>`), so the same
//! file imported twice is one import. Entries arrive in chunks of at most
//! [`CHUNK_ENTRIES`] (the start carries the first, `add_entries` updates the rest, each
//! chunk once), so a 10,000-entry statement stays inside Temporal's 2 MB payload limit:
//! every payload is at most about 250 KB, the history about 2.5 MB. On approval each
//! matched order is settled through its own workflow, by a signal carrying the entry as
//! evidence; the orders' validators and handlers keep their rules (never twice, never
//! over a resolution). Each term of a recurring contract whose charge had no answer and
//! that the statement books is given its entry the same way: a question about the term's
//! charge (`charge_lookup`), started by the import, which asks the import before it
//! settles the term ([`STATEMENT_CHARGES_PATCH`]).

use serde::{Deserialize, Serialize};
use std::error::Error;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ChildWorkflowOptions, MemoValue, ParentClosePolicy, SignalWorkflowOptions, SyncWorkflowContext,
    WorkflowContext, WorkflowContextView, WorkflowIdReusePolicy, WorkflowResult,
};

use super::{
    charge_lookup::{self, ChargeLookup, ChargeQuestion, StatementGiven},
    manual_handle::ManualHandle,
    recorded_at,
    stale_order::StaleOrder,
};
use crate::domain::{
    input::{validate_note, validate_operator, validate_recorded_operator},
    order::{Stage, manual_workflow_id, stale_workflow_id},
    resolution::{ApprovalRequest, Evidence, Stamp, person, same_person},
    statement::{EntryOutcome, ReviewedEntry, StatementFormat},
};
use crate::temporal::search_attributes as sa;

type Rejection = Box<dyn Error + Send + Sync>;

/// Entries in one chunk (the start's or one `add_entries` update's).
pub const CHUNK_ENTRIES: usize = 1_000;
/// Orders settled at once while applying (in groups of `JOIN_DIRECTLY`).
const APPLY_AT_ONCE: usize = 100;

/// The workflow id of the import of a file whose SHA-256 is `hash` (hex).
pub fn workflow_id(hash: &str) -> String {
    format!("statement-{}", &hash[..hash.len().min(32)])
}

/// What the importer starts the import with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStart {
    /// The bank's id of the statement, or for a CSV report (which has none) its file name.
    pub statement_id: String,
    pub account: String,
    pub format: StatementFormat,
    pub file_name: String,
    pub content_hash: String,
    pub imported_by: String,
    #[serde(default)]
    pub imported_by_id: String,
    /// How many chunks the entries come in; the first is `first`.
    pub chunks: u32,
    pub first: Vec<ReviewedEntry>,
    /// Orders waiting in the queue that the statement does not mention.
    pub unmentioned: Vec<String>,
}

/// One more chunk of entries (`index` from 1; the start's is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryChunk {
    pub index: u32,
    pub entries: Vec<ReviewedEntry>,
}

pub use crate::domain::statement::ImportView;

/// An order's question to the import a settlement names: did you, approved by this
/// person, match this entry of this amount to me? Asked by [`settles`](StatementImport::settles)
/// through an activity, since a signal's sender cannot be told apart from any client's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementCheck {
    pub import_id: String,
    pub order_id: String,
    pub entry_ref: String,
    pub amount: crate::domain::money::Money,
    pub imported_by: Stamp,
    pub approved_by: Stamp,
    /// The order's own money, which the check holds the entry's to (absent on checks
    /// scheduled before the [`SETTLEMENT_MONEY_PATCH`](super::settlement_check::SETTLEMENT_MONEY_PATCH)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_money: Option<OrderMoney>,
}

/// A term's question to the import its statement names: did you, approved by a second
/// person, book this entry as this term's charge? Asked through an activity
/// (`settlement_check::SettlementActivities::verify_charge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeEntryCheck {
    pub import_id: String,
    pub entry_ref: String,
    pub contract_id: String,
    pub term_id: String,
}

/// The entry an approved import books a term's charge as, with who imported and approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementCharge {
    pub term_id: String,
    pub statement_id: String,
    pub entry_ref: String,
    pub booking_date: String,
    pub amount: crate::domain::money::Money,
    pub imported_by: Stamp,
    pub approved_by: Stamp,
}

/// The change that has an approved import give each term in doubt it books its entry
/// (a `ChargeLookup` started as an abandoned child). Imports of statements that booked no
/// term in doubt never reach it, so every earlier history replays as it ran.
pub const STATEMENT_CHARGES_PATCH: &str = "statement-gives-charges-in-doubt";

/// A second person's approval of an import: who, and the entries they leave out (matched
/// orders or charges in doubt the approval then does not apply: each waits for a person),
/// with why (required when any is left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportApproval {
    pub operator: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator_id: String,
    /// The entries' references (`entry_ref`), as the review lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leave_out: Vec<String>,
}

impl ImportApproval {
    pub fn person(&self) -> &str {
        person(&self.operator, &self.operator_id)
    }
}

/// The memo key under which an import keeps its decisions ([`ImportDecisions`]): the audit
/// trail reads them from visibility, without the import's entries.
pub const DECISIONS_MEMO: &str = "decisions";

/// The change that has an import keep its decisions in its memo and list its decider in
/// `Actors`, so the audit trail shows who imported, approved or rejected it, what was left
/// out and why. Imports decided before it replay as they ran (the trail lists them by
/// their start only).
pub const DECISIONS_PATCH: &str = "import-decisions-listed";

/// The change that has an import clear a decision its start carried in its memo (a start
/// from Temporal's CLI can give any memo): only its own handlers write its decisions.
/// Imports started before it replay as they ran.
pub const START_MEMO_PATCH: &str = "import-start-memo-cleared";

/// What an import's memo says of it once decided: the statement, who imported it, and the
/// decision, who made it, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDecisions {
    pub statement_id: String,
    pub file_name: String,
    pub imported_by: Stamp,
    pub approved: Option<Stamp>,
    pub rejected: Option<(Stamp, String)>,
    #[serde(default)]
    pub left_out: Vec<String>,
    #[serde(default)]
    pub left_out_note: String,
    /// What each entry left out was for (the order it matched, or the term whose charge it
    /// booked): the order's lane reads it here (`left-out-entries-name-their-orders`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out_for: Vec<crate::domain::statement::LeftOutFor>,
}

/// The change that has an approval's memo name what each entry it left out was for, so
/// the order's lane can say a statement booked its money and the approver doubted it.
/// Approvals before it, and those that leave nothing out, replay as they ran.
pub const LEFT_OUT_FOR_PATCH: &str = "left-out-entries-name-their-orders";

/// The most entries one approval leaves out: more, and the import is better rejected.
pub const MAX_LEFT_OUT: usize = 100;

/// What an order's money is, as the order holds it: `amount` is `None` for an order the
/// gateway sent without one (no entry pays it; a person settles it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMoney {
    pub amount: Option<crate::domain::money::Money>,
}

/// What an order's workflow is told when a statement settles it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSettlement {
    pub evidence: Evidence,
    pub imported_by: Stamp,
    pub approved_by: Stamp,
}

impl StatementSettlement {
    /// What an order asks the import this settlement names, before it settles (with its
    /// own money, when the check holds the entry's to it).
    pub fn check(&self, order_id: &str, order_money: Option<OrderMoney>) -> SettlementCheck {
        SettlementCheck {
            order_money,
            import_id: self.evidence.import_id.clone(),
            order_id: order_id.to_string(),
            entry_ref: self.evidence.entry_ref.clone(),
            amount: self.evidence.amount.clone(),
            imported_by: self.imported_by.clone(),
            approved_by: self.approved_by.clone(),
        }
    }

    /// Whether it names two people, each a valid name: anything else is ignored.
    pub fn is_sound(&self) -> bool {
        // Replayed as recorded: the import's own validators hold names to today's rule,
        // and only a settlement its import confirms settles.
        validate_recorded_operator(&self.imported_by.operator).is_ok()
            && validate_recorded_operator(&self.approved_by.operator).is_ok()
            && self.imported_by.person() != self.approved_by.person()
    }

    /// The order's resolution: paid, by the importer, approved by the second person, with
    /// the entry as evidence.
    pub fn record(self, at: String) -> crate::domain::resolution::ResolutionRecord {
        let evidence = self.evidence;
        crate::domain::resolution::ResolutionRecord {
            resolution: crate::domain::order::Resolution::Paid,
            reason_code: "STATEMENT".into(),
            resolved_by: self.imported_by.operator.clone(),
            resolved_at: at,
            note: format!(
                "statement {} entry {} booked {} on {}",
                evidence.statement_id, evidence.entry_ref, evidence.amount, evidence.booking_date
            ),
            approved_by: Some(self.approved_by),
            resolved_by_id: self.imported_by.operator_id,
            evidence: Some(evidence),
        }
    }
}

#[workflow]
pub struct StatementImport {
    start: ImportStart,
    imported_at: String,
    chunks_in: Vec<u32>,
    entries: Vec<ReviewedEntry>,
    approved: Option<Stamp>,
    rejected: Option<(Stamp, String)>,
    applied: u32,
    done: bool,
    charges_given: u32,
    /// Entry references the approver left out (each then waits for a person), and why.
    left_out: Vec<String>,
    left_out_note: String,
}

impl StatementImport {
    /// Keeps the decision just made in the memo, and its decider in `Actors` (with the
    /// importer), on runs with the [`DECISIONS_PATCH`].
    fn record_decision(&self, ctx: &mut SyncWorkflowContext<Self>) {
        if !ctx.patched(DECISIONS_PATCH) {
            return;
        }
        let imported_by = Stamp {
            operator: self.start.imported_by.clone(),
            operator_id: self.start.imported_by_id.clone(),
            at: self.imported_at.clone(),
        };
        let decisions = ImportDecisions {
            statement_id: self.start.statement_id.clone(),
            file_name: self.start.file_name.clone(),
            imported_by,
            approved: self.approved.clone(),
            rejected: self.rejected.clone(),
            left_out: self.left_out.clone(),
            left_out_note: self.left_out_note.clone(),
            left_out_for: match !self.left_out.is_empty() && ctx.patched(LEFT_OUT_FOR_PATCH) {
                true => self.left_out_for(),
                false => Vec::new(),
            },
        };
        let decider = self
            .approved
            .as_ref()
            .or(self.rejected.as_ref().map(|(by, _)| by));
        let mut actors = Vec::new();
        let keys = [
            self.start.imported_by.as_str(),
            &self.start.imported_by_id,
            decider.map_or("", |d| d.operator.as_str()),
            decider.map_or("", |d| d.operator_id.as_str()),
        ];
        super::add_actors(&mut actors, &keys);
        ctx.upsert_search_attributes([sa::ACTORS.value_set(actors)]);
        // A memo that cannot be written leaves the decision in the history all the same.
        if let Err(e) = ctx.upsert_memo([(DECISIONS_MEMO, Some(MemoValue::new(decisions)))]) {
            tracing::warn!(error = %e, "an import's decisions could not be kept in its memo");
        }
    }

    /// Why the entries an approval leaves out cannot be: each must be an entry the approval
    /// would apply, named once, at most [`MAX_LEFT_OUT`], and the note must say why.
    fn check_left_out(&self, request: &ImportApproval) -> Result<(), Rejection> {
        if request.leave_out.is_empty() {
            return Ok(());
        }
        if request.leave_out.len() > MAX_LEFT_OUT {
            return Err(format!(
                "an approval leaves out at most {MAX_LEFT_OUT} entries: reject the import instead"
            )
            .into());
        }
        if request.note.trim().is_empty() {
            return Err("say why the entries are left out: the note is recorded".into());
        }
        validate_note(&request.note)?;
        for (i, entry_ref) in request.leave_out.iter().enumerate() {
            if request.leave_out[..i].contains(entry_ref) {
                return Err(format!("entry {entry_ref:?} is named twice").into());
            }
            let applies = self.entries.iter().any(|e| {
                e.entry.entry_ref == *entry_ref
                    && matches!(
                        e.outcome,
                        EntryOutcome::Matched { .. } | EntryOutcome::ChargeInDoubt { .. }
                    )
            });
            if !applies {
                return Err(format!(
                    "entry {entry_ref:?} is no entry this approval applies (only matched \
                     orders and charges in doubt can be left out)"
                )
                .into());
            }
        }
        Ok(())
    }

    /// The terms in doubt the statement books, each with its contract and entry.
    fn charges_in_doubt(&self) -> impl Iterator<Item = (&ReviewedEntry, &str, &str)> {
        self.entries.iter().filter_map(|e| match &e.outcome {
            EntryOutcome::ChargeInDoubt {
                contract_id,
                term_id,
            } if !self.left_out(e) => Some((e, contract_id.as_str(), term_id.as_str())),
            _ => None,
        })
    }

    fn complete(&self) -> bool {
        self.chunks_in.len() as u32 >= self.start.chunks
    }

    fn decided(&self) -> Result<(), Rejection> {
        if let Some(by) = &self.approved {
            return Err(
                format!("{} approved this import already at {}", by.operator, by.at).into(),
            );
        }
        if let Some((by, _)) = &self.rejected {
            return Err(format!("{} rejected this import at {}", by.operator, by.at).into());
        }
        Ok(())
    }

    /// The matched entries the approval applies: every one, but those its approver left
    /// out.
    fn matched(&self) -> impl Iterator<Item = (&ReviewedEntry, &str, &str)> {
        self.entries.iter().filter_map(|e| match &e.outcome {
            EntryOutcome::Matched { order_id, stage } if !self.left_out(e) => {
                Some((e, order_id.as_str(), stage.as_str()))
            }
            _ => None,
        })
    }

    fn left_out(&self, entry: &ReviewedEntry) -> bool {
        self.left_out.contains(&entry.entry.entry_ref)
    }

    /// What each entry left out was for: the order it matched, or the term whose charge
    /// it booked.
    fn left_out_for(&self) -> Vec<crate::domain::statement::LeftOutFor> {
        self.entries
            .iter()
            .filter(|e| self.left_out(e))
            .filter_map(|e| {
                let target = match &e.outcome {
                    EntryOutcome::Matched { order_id, .. } => order_id.clone(),
                    EntryOutcome::ChargeInDoubt { term_id, .. } => term_id.clone(),
                    _ => return None,
                };
                Some(crate::domain::statement::LeftOutFor {
                    entry_ref: e.entry.entry_ref.clone(),
                    target,
                    amount: e.entry.amount.clone(),
                    booking_date: e.entry.booking_date.clone(),
                })
            })
            .collect()
    }
}

/// Futures that `futures::future::join_all` polls itself, with the workflow's own waker:
/// past 30 it switches to `FuturesOrdered`, whose wakers the SDK takes for a
/// non-deterministic source and fails the workflow task (seen with 100 signals at once).
const JOIN_DIRECTLY: usize = 25;
const _: () = assert!(APPLY_AT_ONCE <= JOIN_DIRECTLY * JOIN_DIRECTLY);

/// Every future's output, in order, the futures driven together as one `join_all` of
/// them would, but in groups small enough that every waker is the workflow's: the same
/// commands, in the same order, in the same workflow task.
async fn join_in_small_groups<F: std::future::Future>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut groups = Vec::new();
    while !futures.is_empty() {
        let rest = futures.split_off(futures.len().min(JOIN_DIRECTLY));
        groups.push(futures::future::join_all(std::mem::replace(
            &mut futures,
            rest,
        )));
    }
    futures::future::join_all(groups)
        .await
        .into_iter()
        .flatten()
        .collect()
}

#[workflow_methods]
impl StatementImport {
    #[init]
    pub fn new(ctx: &WorkflowContextView, start: ImportStart) -> Self {
        StatementImport {
            imported_at: recorded_at(ctx.start_time()),
            chunks_in: vec![0],
            entries: start.first.clone(),
            start,
            approved: None,
            rejected: None,
            applied: 0,
            done: false,
            charges_given: 0,
            left_out: Vec::new(),
            left_out_note: String::new(),
        }
    }

    #[run(name = "StatementImport")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<ImportView> {
        let import_id = ctx.workflow_id().to_string();
        // A decision in the memo the import was started with is no one's: cleared, unless
        // a decision made meanwhile (handled before this first step) has replaced it.
        let undecided = ctx.state(|s| s.approved.is_none() && s.rejected.is_none());
        if undecided
            && ctx.info().memo().contains_key(DECISIONS_MEMO)
            && ctx.patched(START_MEMO_PATCH)
        {
            tracing::warn!(import_id, "an import started with a decision in its memo");
            if let Err(e) = ctx.upsert_memo([(DECISIONS_MEMO, None)]) {
                tracing::warn!(error = %e, "an import's memo could not be cleared");
            }
        }
        // Its `Actors` name its importer, as our start gives them: the trail and the list
        // of imports read the first as who imported it.
        if undecided {
            let importer = ctx.state(|s| s.start.imported_by.clone());
            let corrections = super::held_to_input(ctx, vec![sa::ACTORS.value_set(vec![importer])]);
            if !corrections.is_empty() {
                ctx.upsert_search_attributes(corrections);
            }
        }
        ctx.wait_condition(|s: &Self| s.approved.is_some() || s.rejected.is_some())
            .await?;
        let (approved, rejected) = ctx.state(|s| (s.approved.clone(), s.rejected.clone()));
        let _ = rejected;
        let Some(approver) = approved else {
            ctx.state_mut(|s| s.done = true);
            return Ok(ctx.state(|s| s.view(&import_id, 0)));
        };
        let settlements = ctx.state(|s| {
            let importer = Stamp {
                operator: s.start.imported_by.clone(),
                operator_id: s.start.imported_by_id.clone(),
                at: s.imported_at.clone(),
            };
            let list: Vec<(String, String, StatementSettlement)> = s
                .matched()
                .map(|(e, order_id, stage)| {
                    (
                        order_id.to_string(),
                        stage.to_string(),
                        StatementSettlement {
                            evidence: Evidence {
                                statement_id: s.start.statement_id.clone(),
                                import_id: import_id.clone(),
                                entry_ref: e.entry.entry_ref.clone(),
                                booking_date: e.entry.booking_date.clone(),
                                amount: e.entry.amount.clone(),
                            },
                            imported_by: importer.clone(),
                            approved_by: approver.clone(),
                        },
                    )
                })
                .collect();
            list
        });
        for batch in settlements.chunks(APPLY_AT_ONCE) {
            let sends = batch.iter().map(|(order_id, stage, settlement)| {
                let target = match stage.as_str() {
                    s if s == Stage::Stale.as_str() => stale_workflow_id(order_id),
                    _ => manual_workflow_id(order_id),
                };
                let handle = ctx.external_workflow(target, None);
                let stale = stage == Stage::Stale.as_str();
                let settlement = settlement.clone();
                async move {
                    match stale {
                        true => {
                            handle
                                .signal(
                                    StaleOrder::settle_by_statement,
                                    settlement,
                                    SignalWorkflowOptions::default(),
                                )
                                .await
                        }
                        false => {
                            handle
                                .signal(
                                    ManualHandle::settle_by_statement,
                                    settlement,
                                    SignalWorkflowOptions::default(),
                                )
                                .await
                        }
                    }
                }
            });
            let results = join_in_small_groups(sends.collect()).await;
            // An order that ended meanwhile (a person resolved it) is not settled again.
            let landed = results.iter().filter(|r| r.is_ok()).count() as u32;
            ctx.state_mut(|s| s.applied += landed);
        }
        let charges: Vec<(String, ChargeQuestion)> = ctx.state(|s| {
            s.charges_in_doubt()
                .map(|(e, contract_id, term_id)| {
                    (
                        charge_lookup::workflow_id(term_id),
                        ChargeQuestion {
                            contract_id: contract_id.to_string(),
                            term_id: term_id.to_string(),
                            operator: approver.operator.clone(),
                            statement: Some(StatementGiven {
                                import_id: import_id.clone(),
                                entry_ref: e.entry.entry_ref.clone(),
                            }),
                        },
                    )
                })
                .collect()
        });
        if !charges.is_empty() && ctx.patched(STATEMENT_CHARGES_PATCH) {
            for batch in charges.chunks(APPLY_AT_ONCE) {
                let starts = batch.iter().map(|(question_id, question)| {
                    let options = ChildWorkflowOptions::builder()
                        .workflow_id(question_id.clone())
                        .task_queue(
                            crate::temporal::names::task_queues::RECURRING_SCHEDULE.to_string(),
                        )
                        .parent_close_policy(ParentClosePolicy::Abandon)
                        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
                        .execution_timeout(charge_lookup::QUESTION_TIMEOUT)
                        .build();
                    ctx.start_child_workflow(ChargeLookup::run, question.clone(), options)
                });
                let results = join_in_small_groups(starts.collect()).await;
                // A term already being asked about (its question still open) is not given
                // the entry: that question's answer settles it.
                let given = results.iter().filter(|r| r.is_ok()).count() as u32;
                ctx.state_mut(|s| s.charges_given += given);
            }
        }
        ctx.state_mut(|s| s.done = true);
        let _ = approver;
        Ok(ctx.state(|s| s.view(&import_id, 0)))
    }

    #[update_validator(add_entries)]
    fn validate_add_entries(
        &self,
        _ctx: &WorkflowContextView,
        chunk: &EntryChunk,
    ) -> Result<(), Rejection> {
        self.decided()?;
        if chunk.index == 0 || chunk.index >= self.start.chunks {
            return Err(format!(
                "chunk {} is not one of this import's 1 to {}",
                chunk.index,
                self.start.chunks.saturating_sub(1)
            )
            .into());
        }
        if chunk.entries.len() > CHUNK_ENTRIES {
            return Err(format!("a chunk holds at most {CHUNK_ENTRIES} entries").into());
        }
        Ok(())
    }

    /// One more chunk of the statement's entries; a chunk already in changes nothing (a
    /// console that died mid-import sends what is missing again).
    #[update(name = "add_entries")]
    pub fn add_entries(&mut self, _ctx: &mut SyncWorkflowContext<Self>, chunk: EntryChunk) -> u32 {
        if !self.chunks_in.contains(&chunk.index) {
            self.chunks_in.push(chunk.index);
            self.entries.extend(chunk.entries);
            self.entries.sort_by_key(|e| e.entry.index);
        }
        self.chunks_in.len() as u32
    }

    #[update_validator(approve)]
    fn validate_approve(
        &self,
        _ctx: &WorkflowContextView,
        request: &ImportApproval,
    ) -> Result<(), Rejection> {
        validate_operator(&request.operator)?;
        self.decided()?;
        self.check_left_out(request)?;
        if !self.complete() {
            return Err(format!(
                "the import is still arriving ({} of {} chunks)",
                self.chunks_in.len(),
                self.start.chunks
            )
            .into());
        }
        // An import started by another client under no name (or one no person could have)
        // has no first person: anyone's approval would be the only one.
        if let Err(e) = crate::domain::input::OPERATOR.check(&self.start.imported_by) {
            return Err(format!(
                "the import names no importer a second person could follow ({e}): import the \
                 statement again under a person's name"
            )
            .into());
        }
        // An import started by another client under a name that reads like someone's
        // (`bo` with a zero-width space) cannot be approved by them as two people.
        if crate::domain::input::look_alike(&self.start.imported_by).is_some() {
            return Err(format!(
                "the importer's name {:?} reads like another's: import the statement again \
                 under a plain name",
                self.start.imported_by
            )
            .into());
        }
        let importer = person(&self.start.imported_by, &self.start.imported_by_id);
        if same_person(request.person(), importer) {
            return Err(format!(
                "{} imported this statement: a second person must approve it",
                self.start.imported_by
            )
            .into());
        }
        Ok(())
    }

    /// The second person's approval: every matched order is then settled, and every term
    /// in doubt given its entry, but those the approver left out.
    #[update(name = "approve")]
    pub fn approve(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ImportApproval) {
        self.approved = Some(Stamp {
            operator: request.operator,
            operator_id: request.operator_id,
            at: recorded_at(ctx.workflow_time()),
        });
        if !request.leave_out.is_empty() {
            self.left_out = request.leave_out;
            self.left_out_note = request.note;
        }
        self.record_decision(ctx);
    }

    #[update_validator(reject)]
    fn validate_reject(
        &self,
        _ctx: &WorkflowContextView,
        request: &ApprovalRequest,
    ) -> Result<(), Rejection> {
        validate_operator(&request.operator)?;
        self.decided()?;
        if request.note.trim().is_empty() {
            return Err("say why the import is rejected: the note is recorded".into());
        }
        validate_note(&request.note)?;
        Ok(())
    }

    /// Turns the import down, saying why: nothing is applied.
    #[update(name = "reject")]
    pub fn reject(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ApprovalRequest) {
        self.rejected = Some((
            Stamp {
                operator: request.operator,
                operator_id: request.operator_id,
                at: recorded_at(ctx.workflow_time()),
            },
            request.note,
        ));
        self.record_decision(ctx);
    }

    #[query(name = "review")]
    pub fn review(&self, ctx: &WorkflowContextView, offset: u32) -> ImportView {
        self.view(ctx.workflow_id(), offset)
    }

    /// Whether this import, approved by the person the check names (through the approve
    /// update, whose validator refuses the importer), matched that entry of that amount to
    /// that order: what an order asks before a statement settles it.
    #[query(name = "settles")]
    pub fn settles(&self, _ctx: &WorkflowContextView, check: SettlementCheck) -> bool {
        let Some(approver) = &self.approved else {
            return false;
        };
        let importer = person(&self.start.imported_by, &self.start.imported_by_id);
        approver.operator == check.approved_by.operator
            && approver.person() == check.approved_by.person()
            && self.start.imported_by == check.imported_by.operator
            && importer == check.imported_by.person()
            && self.matched().any(|(e, order_id, _)| {
                order_id == check.order_id
                    && e.entry.entry_ref == check.entry_ref
                    && e.entry.amount == check.amount
            })
    }

    /// Whether this import, approved by a second person, books that entry as that term's
    /// charge in doubt: what a term's question asks before the statement settles it.
    #[query(name = "charge_entry")]
    pub fn charge_entry(
        &self,
        _ctx: &WorkflowContextView,
        check: ChargeEntryCheck,
    ) -> Option<StatementCharge> {
        let approver = self.approved.clone()?;
        let importer = person(&self.start.imported_by, &self.start.imported_by_id);
        if same_person(approver.person(), importer) {
            return None;
        }
        let (entry, contract_id, _) = self
            .charges_in_doubt()
            .find(|(e, _, term)| *term == check.term_id && e.entry.entry_ref == check.entry_ref)?;
        (contract_id == check.contract_id).then(|| StatementCharge {
            term_id: check.term_id.clone(),
            statement_id: self.start.statement_id.clone(),
            entry_ref: entry.entry.entry_ref.clone(),
            booking_date: entry.entry.booking_date.clone(),
            amount: entry.entry.amount.clone(),
            imported_by: Stamp {
                operator: self.start.imported_by.clone(),
                operator_id: self.start.imported_by_id.clone(),
                at: self.imported_at.clone(),
            },
            approved_by: approver,
        })
    }
}

impl StatementImport {
    fn view(&self, import_id: &str, offset: u32) -> ImportView {
        use crate::domain::statement::{VIEW_ENTRIES, tally};
        let from = (offset as usize).min(self.entries.len());
        let to = (from + VIEW_ENTRIES).min(self.entries.len());
        ImportView {
            import_id: import_id.to_string(),
            statement_id: self.start.statement_id.clone(),
            account: self.start.account.clone(),
            format: self.start.format,
            file_name: self.start.file_name.clone(),
            imported_by: self.start.imported_by.clone(),
            imported_at: self.imported_at.clone(),
            chunks: self.start.chunks,
            chunks_in: self.chunks_in.len() as u32,
            entries: self.entries[from..to].to_vec(),
            offset: from as u32,
            total_entries: self.entries.len() as u32,
            tally: tally(&self.entries)
                .into_iter()
                .map(|(w, n)| (w.to_string(), n))
                .collect(),
            unmentioned: self.start.unmentioned.clone(),
            approved: self.approved.clone(),
            rejected: self.rejected.clone(),
            applied: self.applied,
            to_apply: self.matched().count() as u32,
            done: self.done,
            settled: None,
            settled_orders: Vec::new(),
            stopped: None,
            charges_to_give: self.charges_in_doubt().count() as u32,
            left_out: self.left_out.clone(),
            left_out_note: self.left_out_note.clone(),
            charges_given: self.charges_given,
            settled_terms: Vec::new(),
            earlier: Vec::new(),
        }
    }
}
