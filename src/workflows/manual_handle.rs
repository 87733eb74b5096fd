//! ManualHandle: the order waits in the manual queue until a person resolves it. Claims
//! keep two agents off one order; a resolution that settles money waits for a second
//! person (four eyes); the resolution records who, when and why, and is written to the
//! upstream, or comes back to the queue with the upstream's refusal.
//!
//! `run` reads like the sequence: wait for a resolution, then conclude it or put the
//! order back in the queue. Each update's validator sits above its handler.

use std::error::Error;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult};

use super::{
    conclude, conclude_as, now, query_failure, recorded_at, set_stage,
    settlement_check::{
        SETTLED_BY_PATCH, confirmed_by_import, list_unsettling_names, record_settled_by,
    },
    statement_import::StatementSettlement,
};
use crate::{
    domain::input::{validate_note, validate_operator},
    domain::order::{Resolution, Stage},
    domain::resolution::{
        ApprovalRequest, BankQuestion, ClaimRequest, ConclusionRefusal, Handoff, ManualContext,
        OrderNote, ProposalRejection, ResolutionRecord, ResolveRequest, Stamp, TakeOver,
    },
    temporal::search_attributes as sa,
    upstream::activities::error_types,
};

type Rejection = Box<dyn Error + Send + Sync>;

/// Name of the Go original's signal, kept so existing tooling still works.
pub const RESOLVE_SIGNAL: &str = "resolve-manual-order";

/// The change that keeps an order in the queue when the upstream refuses its conclusion
/// (before it, a 4xx failed the workflow and 5xx were retried forever). Runs recorded
/// before it replay down the old path.
pub const CONCLUSION_REFUSAL_PATCH: &str = "conclusion-refusal-returns-to-queue";
/// Claims and releases one order may see. Temporal takes at most 2,000 updates in one
/// execution; this keeps an order far from that, and resolving stays possible past it.
pub const MAX_CLAIM_CHANGES: u32 = 200;

/// The change that records every person who acts on the order in the `Actors` search
/// attribute (the audit's "everything Alice touched"). Claims, releases and resolutions
/// recorded before it replay without the write.
pub const ACTORS_PATCH: &str = "record-actors";

/// The change that stops the seed's signal from naming the claimant as its resolver (a
/// signal says nothing of who sent it): it is recorded as `signal`, the claim in its note.
pub const SIGNAL_RESOLVER_PATCH: &str = "signal-resolver-is-signal";

/// The change that holds the seed's signal to four eyes: a resolution that needs a second
/// person becomes a proposal (never overriding a pending one), and the signal is among
/// the order's actors. Signals recorded before it replay as they ran.
pub const SIGNAL_FOUR_EYES_PATCH: &str = "signal-proposes-what-needs-approval";

/// The change that records when a claim was made (`ClaimedAt`), so the queue can show
/// claims held too long. Claims recorded before it replay without the write.
pub const CLAIMED_AT_PATCH: &str = "record-claimed-at";

/// The change that records when a resolution was proposed (`ProposedAt`), so approvals
/// left waiting can be seen and alerted on. Proposals recorded before it replay without
/// the write.
pub const PROPOSED_AT_PATCH: &str = "record-proposed-at";

/// A statement's settlement waits until the import it names confirms it (an activity
/// asks the import's `settles` query): a raw signal naming two people settles nothing.
/// Shared with StaleOrder.
pub const SETTLEMENT_CHECK_PATCH: &str = "settlement-confirmed-by-import";

/// Who a signal's resolution is recorded under: a signal says nothing of who sent it (the
/// audit trail reads the client identity Temporal recorded on its event).
pub const SIGNAL_ACTOR: &str = "signal";

/// Times people may have one order ask the bank again: each is a call on the bank's shared
/// rate, and a few events in the order's history.
pub const MAX_BANK_QUESTIONS: u32 = 10;

/// Calls at the bank for one question before it is answered "no answer" (with the
/// order's own backoff between them; fewer when the order allows fewer).
pub const BANK_QUESTION_ATTEMPTS: u32 = 3;

/// Notes one order takes: each is an update in its history (Temporal takes at most 2,000 in
/// one execution, claims and releases at most `MAX_CLAIM_CHANGES` of them).
pub const MAX_NOTES: usize = 50;

/// The change that lists how many notes an order holds (`NoteCount`), so that its queue
/// row shows them. Runs noted before it replay as they ran (their rows show none).
pub const NOTE_COUNT_PATCH: &str = "note-count-listed";

/// The activity id of the `nth` question to the bank about `order_id` (from 1): the trail
/// reads each answer by it.
pub fn bank_question_activity_id(order_id: &str, nth: u32) -> String {
    format!("{order_id}-ask-{nth}")
}

/// Attempts at writing one conclusion (backoff 1 s doubling to 60 s: about 15 minutes)
/// before a person is asked again.
pub const CONCLUDE_ATTEMPTS: u32 = 20;

#[workflow]
pub struct ManualHandle {
    handoff: Handoff,
    waiting_since: String,
    claim: Option<Stamp>,
    resolution: Option<ResolutionRecord>,
    concluded: bool,
    /// The last resolution the upstream did not record.
    refused: Option<ConclusionRefusal>,
    /// Conclusions tried so far (each its own activity id).
    conclusions_tried: u32,
    /// Claims and releases accepted so far.
    claim_changes: u32,
    /// A resolution awaiting a second person (four eyes).
    proposal: Option<ResolutionRecord>,
    /// The last proposal turned down.
    rejected: Option<ProposalRejection>,
    /// Everyone who acted on this order, in order of first action.
    actors: Vec<String>,
    /// The last claim a lead took over.
    taken_over: Option<TakeOver>,
    /// A statement's settlement not yet confirmed by the import it names
    /// ([`SETTLEMENT_CHECK_PATCH`]).
    pending_settlements: Vec<StatementSettlement>,
    /// Settlements checked so far (each check its own activity id).
    settlement_checks: u32,
    /// The latest time a person had the order ask the bank again, and its answer.
    asked_bank: Option<BankQuestion>,
    /// Questions asked so far (each its own activity id).
    bank_questions: u32,
    /// Notes people left on the order, oldest first (at most [`MAX_NOTES`]).
    notes: Vec<OrderNote>,
}

/// How one try at concluding a resolution ended.
// Made once per conclusion: boxing the record would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Concluded {
    /// The upstream recorded it: the order is done.
    Done(ResolutionRecord),
    /// The upstream refused it (or could not be reached in time): the order waits again.
    BackInQueue,
}

/// The activity id of a conclusion: the first keeps the id runs before the conclusion
/// refusal patch used, each retry gets its own (`{order}-conclude-2`, `-3`, …).
fn conclusion_activity_id(order_id: &str, tried_before: u32) -> String {
    match tried_before {
        0 => format!("{order_id}-conclude"),
        n => format!("{order_id}-conclude-{}", n + 1),
    }
}

/// Records in visibility that a resolution was proposed now, on runs with the
/// [`PROPOSED_AT_PATCH`] (its own write: the awaiting-approval write before it is one that
/// earlier runs recorded as it is).
fn proposed_now(ctx: &mut SyncWorkflowContext<ManualHandle>) {
    if ctx.patched(PROPOSED_AT_PATCH) {
        let at = ctx
            .workflow_time()
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        ctx.upsert_search_attributes([sa::PROPOSED_AT.value_set(super::timestamp(at))]);
    }
}

#[workflow_methods]
impl ManualHandle {
    #[init]
    pub fn new(ctx: &WorkflowContextView, handoff: Handoff) -> Self {
        // A proposal handed on with the order (from the stale stage) names its proposer.
        let mut handoff_actors = handoff
            .proposal
            .as_ref()
            .map(super::proposal_actors)
            .unwrap_or_default();
        // So does a person who put the order back in the queue.
        if let Some(put_back) = &handoff.put_back {
            let by = &put_back.by;
            super::add_actors(&mut handoff_actors, &[&by.operator, &by.operator_id]);
        }
        // A refusal in the stage before waits here, as one of this stage's would.
        let refused = handoff.refused.clone();
        ManualHandle {
            proposal: handoff.proposal.clone(),
            handoff,
            waiting_since: recorded_at(ctx.start_time()),
            claim: None,
            resolution: None,
            concluded: false,
            refused,
            conclusions_tried: 0,
            claim_changes: 0,
            rejected: None,
            taken_over: None,
            actors: handoff_actors,
            pending_settlements: Vec::new(),
            settlement_checks: 0,
            asked_bank: None,
            bank_questions: 0,
            notes: Vec::new(),
        }
    }

    #[run(name = "ManualHandle")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<ResolutionRecord> {
        // An order none of our starters would send never waits for a person.
        let order = ctx.state(|s| s.handoff.order.clone());
        super::check_order_at_start(ctx, &order)?;
        // Whoever started it set the stage already; running workflows recorded this write,
        // so it stays (dropping a command breaks their replay). A start that carried other
        // attributes than its handoff gives (from Temporal's CLI) has them set right in it.
        let expected = ctx.state(|s| super::manual_start_attributes(&s.handoff));
        let corrections = super::held_to_input(ctx, expected);
        set_stage(ctx, Stage::Manual, corrections);
        loop {
            let record = wait_for_resolution(ctx).await?;
            // The bank's own verdict, asked again by a person, is what the bank holds: it
            // is not written back to it.
            if ctx.state(|s| s.concluded) {
                return Ok(record);
            }
            if !ctx.patched(CONCLUSION_REFUSAL_PATCH) {
                return conclude_until_it_lands(ctx, record).await;
            }
            if let Concluded::Done(record) = conclude_or_requeue(ctx, record).await? {
                return Ok(record);
            }
        }
    }

    // Claims: one agent works one order.

    #[update_validator(claim)]
    fn validate_claim(
        &self,
        _ctx: &WorkflowContextView,
        request: &ClaimRequest,
    ) -> Result<(), Rejection> {
        self.still_open_to(&request.operator)?;
        self.within_claim_changes()?;
        match &self.claim {
            Some(claim) if claim.person() != request.person() => {
                Err(format!("already claimed by {} since {}", claim.operator, claim.at).into())
            }
            // Accepting it would change nothing but grow history (Temporal caps updates
            // per execution): the client answers a re-claim from the query instead.
            Some(claim) => Err(format!("you have claimed it already, since {}", claim.at).into()),
            None => Ok(()),
        }
    }

    /// Claims the order for one agent. Claiming one's own claim again changes nothing.
    #[update(name = "claim")]
    pub fn claim(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ClaimRequest) -> Stamp {
        if let Some(claim) = &self.claim {
            return claim.clone();
        }
        let stamp = Stamp {
            operator: request.operator,
            operator_id: request.operator_id,
            at: recorded_at(ctx.workflow_time()),
        };
        self.hold(ctx, stamp.clone());
        stamp
    }

    #[update_validator(release)]
    fn validate_release(
        &self,
        _ctx: &WorkflowContextView,
        request: &ClaimRequest,
    ) -> Result<(), Rejection> {
        validate_operator(&request.operator)?;
        self.within_claim_changes()?;
        match &self.claim {
            None => Err("nobody has claimed this order".into()),
            Some(claim) if claim.person() != request.person() => Err(format!(
                "claimed by {}, not {}: only they can release it",
                claim.operator, request.operator
            )
            .into()),
            Some(_) => Ok(()),
        }
    }

    #[update(name = "release")]
    pub fn release(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ClaimRequest) {
        // Empty rather than unset: this SDK's unset of a Keyword is refused by the server
        // ("invalid value … from <>"). Queries treat '' as unclaimed.
        ctx.upsert_search_attributes([sa::CLAIMED_BY.value_set(String::new())]);
        self.acted(ctx, &request.operator, &request.operator_id);
        self.claim = None;
        self.claim_changes += 1;
    }

    #[update_validator(take_over)]
    fn validate_take_over(
        &self,
        _ctx: &WorkflowContextView,
        request: &ApprovalRequest,
    ) -> Result<(), Rejection> {
        self.still_open_to(&request.operator)?;
        self.within_claim_changes()?;
        match &self.claim {
            None => return Err("nobody holds a claim on this order: claim it instead".into()),
            Some(claim) if claim.person() == request.person() => {
                return Err("you hold the claim already".into());
            }
            Some(_) => {}
        }
        if request.note.trim().is_empty() {
            return Err("say why you take the claim over: the note is recorded".into());
        }
        validate_note(&request.note)?;
        Ok(())
    }

    /// Takes a colleague's claim over (a lead's move, for a claim left sitting), with the
    /// reason; the colleague and the reason stay on the order.
    #[update(name = "take_over")]
    pub fn take_over(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ApprovalRequest,
    ) -> Result<Stamp, Rejection> {
        let from = self
            .claim
            .clone()
            .ok_or("nobody holds a claim on this order")?;
        let by = Stamp {
            operator: request.operator,
            operator_id: request.operator_id,
            at: recorded_at(ctx.workflow_time()),
        };
        self.hold(ctx, by.clone());
        self.taken_over = Some(TakeOver {
            from,
            by: by.clone(),
            note: request.note,
        });
        Ok(by)
    }

    // Asking the bank again: its verdict settles the order, as in the first stage.

    #[update_validator(ask_bank)]
    fn validate_ask_bank(
        &self,
        _ctx: &WorkflowContextView,
        request: &ClaimRequest,
    ) -> Result<(), Rejection> {
        self.still_open_to(&request.operator)?;
        if let Some(asking) = self.asked_bank.as_ref().filter(|q| q.answer.is_none()) {
            return Err(format!(
                "{} is asking the bank already, since {}: its answer shows here",
                asking.asked.operator, asking.asked.at
            )
            .into());
        }
        if self.bank_questions >= MAX_BANK_QUESTIONS {
            return Err(format!(
                "the bank has been asked about this order {MAX_BANK_QUESTIONS} times: decide \
                 it from what it said"
            )
            .into());
        }
        Ok(())
    }

    /// Has the order ask the bank again, once (a few calls on the bank's shared rate). A
    /// verdict settles it as the bank's (`resolved_by` the system, the asker in the
    /// note); no verdict leaves it waiting with the bank's words.
    #[update(name = "ask_bank")]
    pub fn ask_bank(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ClaimRequest,
    ) -> Stamp {
        let asked = Stamp {
            operator: request.operator,
            operator_id: request.operator_id,
            at: recorded_at(ctx.workflow_time()),
        };
        self.acted(ctx, &asked.operator, &asked.operator_id);
        self.bank_questions += 1;
        self.asked_bank = Some(BankQuestion {
            asked: asked.clone(),
            answer: None,
            settled: false,
            answered_at: String::new(),
        });
        asked
    }

    // Notes: what a person wants colleagues (and an auditor) to know, without deciding.

    #[update_validator(add_note)]
    fn validate_add_note(
        &self,
        _ctx: &WorkflowContextView,
        request: &ApprovalRequest,
    ) -> Result<(), Rejection> {
        self.still_open_to(&request.operator)?;
        if request.note.trim().is_empty() {
            return Err("write the note: an empty one says nothing".into());
        }
        validate_note(&request.note)?;
        if self.notes.len() >= MAX_NOTES {
            return Err(format!(
                "this order holds {MAX_NOTES} notes, the most one order takes: resolve it, \
                 or say it in the resolution's note"
            )
            .into());
        }
        Ok(())
    }

    /// Leaves a note on the order: who, when, what. It decides nothing.
    #[update(name = "add_note")]
    pub fn add_note(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ApprovalRequest,
    ) -> OrderNote {
        let note = OrderNote {
            by: Stamp {
                operator: request.operator,
                operator_id: request.operator_id,
                at: recorded_at(ctx.workflow_time()),
            },
            text: request.note,
        };
        self.acted(ctx, &note.by.operator, &note.by.operator_id);
        self.notes.push(note.clone());
        if ctx.patched(NOTE_COUNT_PATCH) {
            ctx.upsert_search_attributes([sa::NOTE_COUNT.value_set(self.notes.len() as f64)]);
        }
        note
    }

    // Resolutions: a person's decision, or a proposal that a second person answers.

    #[update_validator(resolve)]
    fn validate_resolve(
        &self,
        _ctx: &WorkflowContextView,
        request: &ResolveRequest,
    ) -> Result<(), Rejection> {
        self.open_for(request)?;
        let resolution = request.validate()?;
        if self.handoff.order.needs_approval(resolution) {
            return Err(format!(
                "{resolution} needs a second person's approval on this order: propose it \
                 (the console and `client resolve` propose it for you)"
            )
            .into());
        }
        Ok(())
    }

    /// Resolves the order. The validator has checked everything; this records it.
    #[update(name = "resolve")]
    pub fn resolve(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ResolveRequest,
    ) -> Result<ResolutionRecord, Rejection> {
        let record = self.record_of(ctx, request)?;
        self.acted(ctx, &record.resolved_by, &record.resolved_by_id);
        self.resolution = Some(record.clone());
        Ok(record)
    }

    #[update_validator(propose)]
    fn validate_propose(
        &self,
        _ctx: &WorkflowContextView,
        request: &ResolveRequest,
    ) -> Result<(), Rejection> {
        self.open_for(request)
    }

    /// Proposes a resolution that a second person must approve (four eyes). The order
    /// stays in the queue, marked as awaiting approval.
    #[update(name = "propose")]
    pub fn propose(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ResolveRequest,
    ) -> Result<ResolutionRecord, Rejection> {
        let record = self.record_of(ctx, request)?;
        ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(1)]);
        proposed_now(ctx);
        self.acted(ctx, &record.resolved_by, &record.resolved_by_id);
        self.proposal = Some(record.clone());
        Ok(record)
    }

    #[update_validator(approve)]
    fn validate_approve(
        &self,
        _ctx: &WorkflowContextView,
        request: &ApprovalRequest,
    ) -> Result<(), Rejection> {
        let proposal = self.answerable(request)?;
        // A proposal handed in by another client under no proposer's name has no first
        // person: the approver would be the only one. It can still be rejected.
        if let Err(e) = crate::domain::input::OPERATOR.check(&proposal.resolved_by) {
            return Err(format!(
                "the proposal names no proposer a second person could follow ({e}): reject \
                 it, then resolve the order"
            )
            .into());
        }
        Ok(())
    }

    /// Approves the pending proposal: it becomes the resolution, with both names.
    #[update(name = "approve")]
    pub fn approve(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        request: ApprovalRequest,
    ) -> Option<ResolutionRecord> {
        // The validator saw a proposal; nothing runs between it and this handler.
        let mut record = self.proposal.take()?;
        record.approved_by = Some(Stamp {
            operator: request.operator.clone(),
            operator_id: request.operator_id.clone(),
            at: recorded_at(ctx.workflow_time()),
        });
        ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(0)]);
        self.acted(ctx, &request.operator, &request.operator_id);
        self.resolution = Some(record.clone());
        Some(record)
    }

    #[update_validator(reject)]
    fn validate_reject(
        &self,
        _ctx: &WorkflowContextView,
        request: &ApprovalRequest,
    ) -> Result<(), Rejection> {
        self.answerable(request)?;
        if request.note.trim().is_empty() {
            return Err("say why the proposal is rejected: the note is recorded".into());
        }
        validate_note(&request.note)?;
        Ok(())
    }

    /// Rejects the pending proposal: the order waits for a person again, the rejection
    /// shown on it.
    #[update(name = "reject")]
    pub fn reject(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: ApprovalRequest) {
        let Some(proposal) = self.proposal.take() else {
            return;
        };
        ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(0)]);
        self.acted(ctx, &request.operator, &request.operator_id);
        self.rejected = Some(ProposalRejection {
            proposal,
            by: Stamp {
                operator: request.operator,
                operator_id: request.operator_id,
                at: recorded_at(ctx.workflow_time()),
            },
            note: request.note,
        });
    }

    /// The Go original's signal: a bare resolution. Bad input cannot be refused on a
    /// signal, so it is ignored (the CLI checks before sending).
    #[signal(name = "resolve-manual-order")]
    pub fn resolve_manual_order(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        resolution: String,
    ) {
        if self.resolution.is_some() {
            return;
        }
        let Ok(resolution) = Resolution::parse(&resolution) else {
            return;
        };
        if ctx.patched(SIGNAL_FOUR_EYES_PATCH) {
            self.signalled(ctx, resolution);
            return;
        }
        let (resolved_by, note) = match ctx.patched(SIGNAL_RESOLVER_PATCH) {
            true => (
                "signal".to_string(),
                self.claim
                    .as_ref()
                    .map(|c| format!("sent while {} held the claim", c.operator))
                    .unwrap_or_default(),
            ),
            false => (
                self.claim
                    .as_ref()
                    .map(|c| c.operator.clone())
                    .unwrap_or_else(|| "signal".into()),
                String::new(),
            ),
        };
        self.resolution = Some(ResolutionRecord {
            resolution,
            reason_code: "SIGNAL".into(),
            resolved_by,
            resolved_at: recorded_at(ctx.workflow_time()),
            note,
            approved_by: None,
            resolved_by_id: String::new(),
            evidence: None,
        });
    }

    /// A bank statement's entry settles the order as paid, approved by a second person
    /// on the import (`StatementImport`). An order already resolved is left as it is; one
    /// whose amount is not the entry's is never matched (the import sends it to a person).
    #[signal(name = "settle-by-statement")]
    pub fn settle_by_statement(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        settlement: super::statement_import::StatementSettlement,
    ) {
        if self.resolution.is_some() || !settlement.is_sound() {
            return;
        }
        // The signal may come from any client: the import it names confirms it first.
        if ctx.patched(SETTLEMENT_CHECK_PATCH) {
            if self.pending_settlements.len() < super::settlement_check::MAX_PENDING_SETTLEMENTS {
                self.pending_settlements.push(settlement);
            }
            return;
        }
        let (importer, approver) = (&settlement.imported_by, &settlement.approved_by);
        let (importer, approver) = (importer.clone(), approver.clone());
        self.acted(ctx, &importer.operator, &importer.operator_id);
        self.acted(ctx, &approver.operator, &approver.operator_id);
        if self.proposal.take().is_some() {
            ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(0)]);
        }
        self.resolution = Some(settlement.record(recorded_at(ctx.workflow_time())));
    }

    #[query(name = "context")]
    pub fn context(&self, _ctx: &WorkflowContextView) -> ManualContext {
        ManualContext {
            handoff: self.handoff.clone(),
            waiting_since: self.waiting_since.clone(),
            claim: self.claim.clone(),
            resolution: self.resolution.clone(),
            concluded: self.concluded,
            refused: self.refused.clone(),
            proposal: self.proposal.clone(),
            rejected: self.rejected.clone(),
            four_eyes: self.handoff.order.four_eyes_rule().to_vec(),
            taken_over: self.taken_over.clone(),
            asked_bank: self.asked_bank.clone(),
            bank_questions: self.bank_questions,
            notes: self.notes.clone(),
        }
    }
}

/// The rules the handlers share.
impl ManualHandle {
    /// What resolving and proposing both need: an open order, no proposal pending, a
    /// valid request, and the claim (if any) the requester's.
    fn open_for(&self, request: &ResolveRequest) -> Result<(), Rejection> {
        if let Some(done) = &self.resolution {
            return Err(done.already_resolved().into());
        }
        if let Some(proposal) = &self.proposal {
            return Err(format!(
                "{} proposed {} at {}: it awaits a second person's approval or rejection",
                proposal.resolved_by, proposal.resolution, proposal.resolved_at
            )
            .into());
        }
        request.validate()?;
        if let Some(claim) = &self.claim
            && claim.person() != request.person()
        {
            return Err(format!(
                "claimed by {} since {}: ask them, or have them release it first",
                claim.operator, claim.at
            )
            .into());
        }
        Ok(())
    }

    /// The record of a person's request, at workflow time. The validator checked the
    /// request; were it ever to disagree, the update fails rather than record a guess.
    fn record_of(
        &self,
        ctx: &SyncWorkflowContext<Self>,
        request: ResolveRequest,
    ) -> Result<ResolutionRecord, Rejection> {
        let resolution = request.validate_recorded()?;
        let at = recorded_at(ctx.workflow_time());
        Ok(ResolutionRecord::by_person(request, resolution, at))
    }

    /// What every request on a waiting order needs: a named person, and the order not
    /// resolved.
    fn still_open_to(&self, operator: &str) -> Result<(), Rejection> {
        validate_operator(operator)?;
        match &self.resolution {
            Some(done) => Err(done.already_resolved().into()),
            None => Ok(()),
        }
    }

    /// Approval and rejection: a proposal must be pending, and the answer comes from
    /// someone other than its proposer.
    fn answerable(&self, request: &ApprovalRequest) -> Result<&ResolutionRecord, Rejection> {
        self.still_open_to(&request.operator)?;
        let Some(proposal) = &self.proposal else {
            return Err("no resolution awaits approval on this order".into());
        };
        if crate::domain::resolution::same_person(proposal.resolver(), request.person()) {
            return Err(
                "you proposed this resolution: a second person must approve or reject it".into(),
            );
        }
        Ok(proposal)
    }

    /// Refuses another claim or release once the order has seen [`MAX_CLAIM_CHANGES`].
    fn within_claim_changes(&self) -> Result<(), Rejection> {
        if self.claim_changes >= MAX_CLAIM_CHANGES {
            return Err(format!(
                "this order has been claimed and released {MAX_CLAIM_CHANGES} times: resolve it \
                 as it is held now"
            )
            .into());
        }
        Ok(())
    }

    /// Gives the claim to `stamp`'s person: in visibility (`ClaimedBy`, and `ClaimedAt` on
    /// runs with the [`CLAIMED_AT_PATCH`]) and among the actors.
    fn hold(&mut self, ctx: &mut SyncWorkflowContext<Self>, stamp: Stamp) {
        let mut attributes = vec![sa::CLAIMED_BY.value_set(stamp.operator.clone())];
        if ctx.patched(CLAIMED_AT_PATCH) {
            let at = ctx
                .workflow_time()
                .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
            attributes.push(sa::CLAIMED_AT.value_set(super::timestamp(at)));
        }
        ctx.upsert_search_attributes(attributes);
        self.acted(ctx, &stamp.operator, &stamp.operator_id);
        self.claim = Some(stamp);
        self.claim_changes += 1;
    }

    /// The seed's signal under four eyes: a resolution that needs a second person becomes
    /// a proposal, never over a pending one; any other is the resolution.
    fn signalled(&mut self, ctx: &mut SyncWorkflowContext<Self>, resolution: Resolution) {
        if self.proposal.is_some() {
            return;
        }
        self.acted(ctx, SIGNAL_ACTOR, "");
        let record = ResolutionRecord {
            resolution,
            reason_code: "SIGNAL".into(),
            resolved_by: SIGNAL_ACTOR.into(),
            resolved_at: recorded_at(ctx.workflow_time()),
            note: self
                .claim
                .as_ref()
                .map(|c| format!("sent while {} held the claim", c.operator))
                .unwrap_or_default(),
            approved_by: None,
            resolved_by_id: String::new(),
            evidence: None,
        };
        match self.handoff.order.needs_approval(resolution) {
            true => {
                ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(1)]);
                proposed_now(ctx);
                self.proposal = Some(record);
            }
            false => self.resolution = Some(record),
        }
    }

    /// A person's question to the bank is waiting to be asked.
    fn asking_bank(&self) -> bool {
        self.asked_bank.as_ref().is_some_and(|q| q.answer.is_none())
    }

    /// Adds the person to the `Actors` search attribute (their name, and their id when
    /// they have one; once each), on runs that have the [`ACTORS_PATCH`].
    fn acted(&mut self, ctx: &mut SyncWorkflowContext<Self>, name: &str, id: &str) {
        if !ctx.patched(ACTORS_PATCH) {
            return;
        }
        let changed = super::add_actors(&mut self.actors, &[name, id]);
        if changed {
            ctx.upsert_search_attributes([sa::ACTORS.value_set(self.actors.clone())]);
        }
    }
}

/// Waits until a person's resolution (or an approved proposal, or a statement's settlement
/// its import confirmed) is there, and takes it.
async fn wait_for_resolution(
    ctx: &mut WorkflowContext<ManualHandle>,
) -> WorkflowResult<ResolutionRecord> {
    loop {
        ctx.wait_condition(|s: &ManualHandle| {
            s.resolution.is_some() || !s.pending_settlements.is_empty() || s.asking_bank()
        })
        .await?;
        if let Some(record) = ctx.state(|s| s.resolution.clone()) {
            return Ok(record);
        }
        // Only a person's `ask_bank` update starts a question: runs without one replay
        // past this as they ran.
        if ctx.state(|s| s.asking_bank()) {
            ask_the_bank(ctx).await;
            continue;
        }
        // Only runs with the settlement check keep a settlement pending.
        let Some(settlement) = ctx.state_mut(|s| {
            (!s.pending_settlements.is_empty()).then(|| s.pending_settlements.remove(0))
        }) else {
            continue;
        };
        let (order_id, amount, nth) = ctx.state_mut(|s| {
            s.settlement_checks += 1;
            let order = &s.handoff.order;
            (
                order.order_id.clone(),
                order.amount.clone(),
                s.settlement_checks,
            )
        });
        // A person's resolution does not wait for a slow check: it wins, and the check's
        // answer is not needed any more.
        let confirmed = temporalio_sdk::workflows::select! {
            yes = futures::FutureExt::fuse(confirmed_by_import(ctx, &order_id, amount.as_ref(), &settlement, nth)) => yes,
            _ = ctx.wait_condition(|s: &ManualHandle| s.resolution.is_some()) => false,
        };
        if confirmed && ctx.state(|s| s.resolution.is_none()) {
            settle_by(ctx, settlement);
        } else {
            let mut actors = ctx.state(|s| s.actors.clone());
            if let Some(actors) = list_unsettling_names(ctx, &mut actors, &settlement) {
                ctx.state_mut(|s| s.actors = actors.clone());
                ctx.upsert_search_attributes([sa::ACTORS.value_set(actors)]);
            }
        }
    }
}

/// Asks the bank about the order once, for the person who asked; a person's resolution
/// that comes meanwhile wins. A verdict for the order's money settles it as the bank's
/// (concluded: the bank holds it); anything else is recorded as the answer.
async fn ask_the_bank(ctx: &mut WorkflowContext<ManualHandle>) {
    let (order, nth, asker) = ctx.state(|s| {
        (
            s.handoff.order.clone(),
            s.bank_questions,
            s.asked_bank
                .as_ref()
                .map(|q| q.asked.operator.clone())
                .unwrap_or_default(),
        )
    });
    let activity_id = bank_question_activity_id(&order.order_id, nth);
    let attempts = order.policy.attempts.clamp(1, BANK_QUESTION_ATTEMPTS);
    let asked = temporalio_sdk::workflows::select! {
        answer = futures::FutureExt::fuse(super::query_upstream_as(ctx, &order, activity_id, attempts)) => Some(answer),
        _ = ctx.wait_condition(|s: &ManualHandle| s.resolution.is_some()) => None,
    };
    let at = now(ctx);
    let (answer, settled) = match asked {
        None => (
            "not needed: the order was resolved meanwhile".to_string(),
            false,
        ),
        Some(Err(failure)) => {
            set_latest_error(ctx, &failure.reason);
            (
                format!("no verdict ({}): {}", failure.reason, failure.message),
                false,
            )
        }
        Some(Ok(verdict)) => match super::amount_mismatch(&order, &verdict) {
            Some(mismatch) => {
                set_latest_error(ctx, &mismatch.reason);
                (mismatch.message, false)
            }
            None => {
                let mut record = super::system_resolution(&verdict, at);
                record.note = format!("the bank's answer when {asker} asked it again");
                let said = format!("{} ({})", record.resolution, record.reason_code);
                if ctx.state_mut(|s| s.proposal.take().is_some()) {
                    ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(0)]);
                }
                super::mark_resolved(ctx, &record);
                ctx.state_mut(|s| {
                    s.resolution = Some(record);
                    s.concluded = true;
                });
                (said, true)
            }
        },
    };
    ctx.state_mut(|s| {
        if let Some(question) = s.asked_bank.as_mut() {
            question.answer = Some(answer);
            question.settled = settled;
            question.answered_at = super::recorded_at(Some(at));
        }
    });
}

/// The change that has a question to the bank with no verdict set the order's latest error
/// (`ErrorReason`) to its own, so that the queue (and a filter by reason, as a bulk
/// question after an outage uses) shows what the bank said last. Runs asked before it
/// replay as they ran.
pub const BANK_QUESTION_ERROR_PATCH: &str = "bank-question-sets-error-reason";

fn set_latest_error(ctx: &mut WorkflowContext<ManualHandle>, reason: &str) {
    if ctx.patched(BANK_QUESTION_ERROR_PATCH) {
        ctx.upsert_search_attributes([sa::ERROR_REASON.value_set(reason.to_string())]);
    }
}

/// Settles the order as the statement says, recording both people as actors.
fn settle_by(ctx: &mut WorkflowContext<ManualHandle>, settlement: StatementSettlement) {
    let at = recorded_at(ctx.workflow_time());
    let (importer, approver) = (
        settlement.imported_by.clone(),
        settlement.approved_by.clone(),
    );
    let actors = ctx.state_mut(|s| {
        let keys = [
            importer.operator.as_str(),
            &importer.operator_id,
            &approver.operator,
            &approver.operator_id,
        ];
        super::add_actors(&mut s.actors, &keys).then(|| s.actors.clone())
    });
    if let Some(actors) = actors {
        ctx.upsert_search_attributes([sa::ACTORS.value_set(actors)]);
    }
    if ctx.state_mut(|s| s.proposal.take().is_some()) {
        ctx.upsert_search_attributes([sa::AWAITING_APPROVAL.value_set(0)]);
    }
    record_settled_by(ctx, &settlement);
    ctx.state_mut(|s| s.resolution = Some(settlement.record(at)));
}

/// Runs recorded before the [`CONCLUSION_REFUSAL_PATCH`]: the conclusion is retried until
/// it lands (a refusal fails the workflow).
async fn conclude_until_it_lands(
    ctx: &mut WorkflowContext<ManualHandle>,
    record: ResolutionRecord,
) -> WorkflowResult<ResolutionRecord> {
    let order_id = ctx.state(|s| s.handoff.order.order_id.clone());
    conclude(ctx, &order_id, &record).await?;
    ctx.state_mut(|s| s.concluded = true);
    Ok(record)
}

/// Writes the resolution to the upstream, [`CONCLUDE_ATTEMPTS`] times at most. Refused (a
/// 4xx) or out of attempts, the order goes back to the queue for a person to retry or
/// decide otherwise; the refusal stays on the order and in visibility.
async fn conclude_or_requeue(
    ctx: &mut WorkflowContext<ManualHandle>,
    record: ResolutionRecord,
) -> WorkflowResult<Concluded> {
    let (order_id, tried) = ctx.state(|s| (s.handoff.order.order_id.clone(), s.conclusions_tried));
    let activity_id = conclusion_activity_id(&order_id, tried);
    ctx.state_mut(|s| s.conclusions_tried += 1);
    let concluded = conclude_as(
        ctx,
        &order_id,
        &record,
        activity_id,
        Some(CONCLUDE_ATTEMPTS),
    )
    .await;
    let Err(error) = concluded else {
        ctx.state_mut(|s| s.concluded = true);
        return Ok(Concluded::Done(record));
    };
    // A statement's settlement the bank refused leaves the order unsettled: the import no
    // longer counts it (runs that recorded `SettledBy`; the evidence is asked first, so a
    // person's refused resolution replays as it ran).
    if record.evidence.is_some() && ctx.patched(SETTLED_BY_PATCH) {
        ctx.upsert_search_attributes([sa::SETTLED_BY.value_set(Vec::new())]);
    }
    let failure = query_failure(&error, CONCLUDE_ATTEMPTS);
    let refusal = ConclusionRefusal {
        record,
        message: failure.message,
        reason: failure.reason,
        at: recorded_at(ctx.workflow_time()),
    };
    ctx.upsert_search_attributes([
        sa::ERROR_REASON.value_set(error_types::CONCLUSION_REFUSED.to_string())
    ]);
    ctx.state_mut(|s| {
        s.resolution = None;
        s.refused = Some(refusal);
    });
    Ok(Concluded::BackInQueue)
}
