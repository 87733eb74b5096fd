//! ContractChange: the record of one change to a recurring contract (created, paused,
//! resumed, cancelled), kept in Temporal as a workflow of its own: its start is the date,
//! its client identity where it came from, its memo what was done and why. A schedule
//! keeps only its latest note; these keep every change, each findable by contract and by
//! person (`ContractId`, `Actors`). The workflow has nothing to do but end.

use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};
use temporalio_client::{
    Client, WorkflowDescribeOptions, WorkflowGetResultOptions, WorkflowStartOptions,
    errors::{WorkflowGetResultError, WorkflowStartError},
    tonic::Code,
};
use temporalio_common::{
    MemoValues,
    error::ApplicationFailure,
    protos::temporal::api::{
        history::v1::history_event::Attributes, workflowservice::v1::DescribeScheduleResponse,
    },
    search_attributes::SearchAttributes,
};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};

use crate::{
    domain::contract::{Cadence, ContractTerms},
    domain::format::waited,
    domain::input::validate_order_id,
    domain::money::{format_amount, minor_units},
    temporal::{
        TemporalError,
        histories::{self, Events},
        names::{task_queues, workflow_types},
        readiness, schedules, search_attributes as sa, visibility,
    },
};

/// The memo key that holds the change.
pub const MEMO_KEY: &str = "change";

/// What a contract charges, to whom and when, as a change left it. The record of its
/// creation holds it and each later change carries it on: a contract's terms and cadence
/// never change after it is made (the console and our CLI have no such change), so a
/// schedule whose own differ was rewritten outside them (`temporal schedule update`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractState {
    /// The schedule's input: what each term charges.
    pub terms: ContractTerms,
    /// When it charges, as [`schedules::contract_cadence`] reads the schedule Temporal keeps.
    pub cadence: Cadence,
    pub time_zone: String,
    /// The terms it charges in all, as made (0: until cancelled, or not known: a contract
    /// made before this was recorded). A schedule's own count of terms left can be raised
    /// from outside (`schedule update --remaining-actions`); this cannot.
    #[serde(default)]
    pub total_terms: u32,
}

impl ContractState {
    /// `terms` with the cadence of the schedule `described` (`None` when it has none a
    /// contract can have).
    pub fn of(terms: ContractTerms, described: &DescribeScheduleResponse) -> Option<Self> {
        let spec = described.schedule.as_ref()?.spec.as_ref()?;
        let (cadence, time_zone) = schedules::contract_cadence(spec).ok()?;
        Some(ContractState {
            terms,
            cadence,
            time_zone,
            total_terms: 0,
        })
    }

    /// How `now` differs from this state, in finance's words (`None`: it does not). Whether
    /// "until cancelled" was chosen is not money: resuming holds a contract to it.
    pub fn differs(&self, now: &ContractState) -> Option<String> {
        let (was, is) = (&self.terms, &now.terms);
        let mut said = Vec::new();
        if (was.amount_cents, &was.currency) != (is.amount_cents, &is.currency) {
            said.push(format!(
                "it charges {} a term where {} was recorded",
                amount(is),
                amount(was)
            ));
        }
        if (&was.customer, &was.plan) != (&is.customer, &is.plan) {
            said.push(format!(
                "it charges {:?} on {:?} where {:?} on {:?} was recorded",
                is.customer, is.plan, was.customer, was.plan
            ));
        }
        // An interval charges at the same instants whatever the zone; a cron line does not.
        let zoned = |c: &Cadence| matches!(c, Cadence::Cron { .. });
        let zones_differ =
            (zoned(&self.cadence) || zoned(&now.cadence)) && self.time_zone != now.time_zone;
        if self.cadence != now.cadence || zones_differ {
            said.push(format!(
                "it charges {} ({}) where {} ({}) was recorded",
                cadence(&now.cadence),
                now.time_zone,
                cadence(&self.cadence),
                self.time_zone
            ));
        }
        if was.contract_id != is.contract_id {
            said.push(format!(
                "it charges as contract {:?} where {:?} was recorded",
                is.contract_id, was.contract_id
            ));
        }
        (!said.is_empty()).then(|| said.join("; "))
    }
}

impl ContractState {
    /// What it charges, in finance's words, as the audit trail's row of its creation
    /// reads: `9.99 USD a term, every 1d, "ana" on "monthly", 3 terms`.
    pub fn summary(&self) -> String {
        let terms = match self.total_terms {
            0 => "until cancelled".to_string(),
            1 => "1 term".to_string(),
            n => format!("{n} terms"),
        };
        let zone = match self.cadence {
            Cadence::Cron { .. } => format!(" ({})", self.time_zone),
            Cadence::Every { .. } => String::new(),
        };
        format!(
            "{} a term, {}{zone}, {:?} on {:?}, {terms}",
            amount(&self.terms),
            cadence(&self.cadence),
            self.terms.customer,
            self.terms.plan
        )
    }
}

/// An amount as finance reads it.
fn amount(terms: &ContractTerms) -> String {
    format_amount(
        terms.amount_cents,
        &terms.currency,
        minor_units(&terms.currency).unwrap_or(2),
    )
}

/// A cadence as finance reads it.
fn cadence(cadence: &Cadence) -> String {
    match cadence {
        Cadence::Every { seconds } => {
            format!(
                "every {}",
                waited(i64::try_from(*seconds).unwrap_or(i64::MAX))
            )
        }
        Cadence::Cron { expression } => format!("on cron {expression}"),
    }
}

/// One change to a contract, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractChangeRecord {
    pub contract_id: String,
    /// `created`, `paused`, `resumed`, `cancelled`.
    pub action: String,
    pub operator: String,
    #[serde(default)]
    pub reason: String,
    /// The client that made it (its Temporal identity: the console's or the CLI's).
    #[serde(default)]
    pub origin: String,
    /// What the contract charges and when, as this change left it (records made before
    /// this was kept, and changes that could not read it, have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractState>,
}

impl ContractChangeRecord {
    /// Whether the contract charges nothing after this change (paused or cancelled).
    pub fn stops(&self) -> bool {
        matches!(self.action.as_str(), "paused" | "cancelled")
    }

    /// The note the contract's schedule carries right after this change: the change writes
    /// it, and the record is confirmed by it. `created by fin`, `paused by fin: holiday`;
    /// the term check's pause reads `paused: a term was refused: …`.
    pub fn note(&self) -> String {
        match (self.action.as_str(), self.operator.as_str()) {
            ("created", operator) => format!("created by {operator}"),
            (action, TERM_CHECK_ACTOR) => format!("{action}: {}", self.reason),
            (action, operator) => format!("{action} by {operator}: {}", self.reason),
        }
    }
}

/// The change that has a record confirm itself before it completes: a ContractChange can
/// be started by any client with access to the namespace, with any memo, so a record
/// says a contract changed only once its own memo and index are its input and the
/// contract's schedule carries the note the change wrote ([`ContractChangeRecord::note`]).
/// Records made before it completed as they came.
pub const CONFIRMED_PATCH: &str = "contract-change-confirmed";

/// The failure type of a record its contract's schedule does not confirm.
pub const UNCONFIRMED: &str = "contract_change_unconfirmed";

/// How long one attempt at the confirmation may take.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a change made through the console or the CLI waits for its record to be
/// confirmed before it answers (the change stands either way; a record a worker has not
/// confirmed yet shows as such in the trail).
pub const CONFIRM_WAIT: Duration = Duration::from_secs(10);

/// The workflow id of a change: the contract's, then the server's request to tell
/// changes apart (a retried call makes the same record once).
pub fn workflow_id(contract_id: &str, request: &str) -> String {
    format!("contract-change-{contract_id}-{request}")
}

/// Who the trail names for a change the worker made itself: a term refused by its check
/// (`term_check`) pauses its contract.
pub const TERM_CHECK_ACTOR: &str = "term check";

/// Records `change` as a ContractChange workflow under `request` (a second record under
/// the same request is the same change, made once).
pub async fn record(
    client: &Client,
    change: ContractChangeRecord,
    request: &str,
) -> Result<(), WorkflowStartError> {
    let mut memo = MemoValues::new();
    memo.insert(MEMO_KEY, change.clone());
    let options = WorkflowStartOptions::new(
        task_queues::RECURRING_SCHEDULE,
        workflow_id(&change.contract_id, request),
    )
    .search_attributes(SearchAttributes::new(vec![
        sa::CONTRACT_ID.value_set(change.contract_id.clone()),
        sa::ACTORS.value_set(vec![change.operator.clone()]),
    ]))
    .memo(memo)
    .build();
    match client
        .start_workflow(ContractChange::run, change, options)
        .await
    {
        Ok(_) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether the record started under `request` was confirmed, waiting at most
/// [`CONFIRM_WAIT`]: `Ok(true)` confirmed, `Ok(false)` not yet (no worker confirmed it in
/// time, or none polls the queue, so it is not waited for), `Err` with the reason when its
/// contract's schedule does not show it.
pub async fn confirmed(client: &Client, contract_id: &str, request: &str) -> Result<bool, String> {
    match readiness::pollers(client, task_queues::RECURRING_SCHEDULE).await {
        Ok(0) => return Ok(false),
        Ok(_) => {}
        Err(e) => {
            tracing::debug!(contract_id, error = %e, "the contracts' queue could not be described");
            return Ok(false);
        }
    }
    let handle = client.get_workflow_handle::<ContractChange>(workflow_id(contract_id, request));
    match tokio::time::timeout(
        CONFIRM_WAIT,
        handle.get_result(WorkflowGetResultOptions::default()),
    )
    .await
    {
        Err(_) => Ok(false),
        Ok(Ok(_)) => Ok(true),
        // The record failed: its confirmation's reason is the innermost cause.
        Ok(Err(WorkflowGetResultError::Failed(e))) => {
            let mut innermost = e.failure();
            while let Some(cause) = innermost.cause.as_deref() {
                innermost = cause;
            }
            Err(innermost.message.clone())
        }
        // Temporal did not answer, or the record ended otherwise (terminated by hand): the
        // change stands, and the trail shows how its record stands.
        Ok(Err(e)) => {
            tracing::warn!(contract_id, error = %e, "a contract change's record could not be read");
            Ok(false)
        }
    }
}

/// Records read to find a contract's latest change. Where the store cannot sort by start
/// (SQL visibility), it lists open records first, then the latest closed; a record closes
/// within seconds of its start, so the latest is among the first.
pub const RECORDS_READ: i32 = 50;

/// A contract's latest recorded change that was not refused: the state its schedule must
/// be in for a term to charge (`term_check`).
#[derive(Debug, Clone, PartialEq)]
pub enum LatestChange {
    /// No record of any change: a schedule made outside the console and our CLI.
    None,
    /// The latest record, not confirmed yet (a worker reads it within seconds).
    Unconfirmed(ContractChangeRecord),
    /// The latest record, confirmed against the schedule when it was made.
    Confirmed(ContractChangeRecord),
}

impl LatestChange {
    /// The latest record, confirmed or not.
    pub fn record(&self) -> Option<&ContractChangeRecord> {
        match self {
            LatestChange::None => None,
            LatestChange::Unconfirmed(change) | LatestChange::Confirmed(change) => Some(change),
        }
    }

    /// How a schedule that charges `now` differs from what the confirmed latest change left
    /// (`None` when it does not, or the record does not say).
    pub fn rewritten(&self, now: Option<&ContractState>) -> Option<String> {
        match (self, now) {
            (LatestChange::Confirmed(change), Some(now)) => {
                change.contract.as_ref().and_then(|was| was.differs(now))
            }
            _ => None,
        }
    }

    /// Whether a schedule whose note reads `note` is in the state this change left it in.
    pub fn shows(&self, note: &str) -> bool {
        matches!(self, LatestChange::Confirmed(change) if change.note() == note)
    }

    /// Why a schedule whose note reads `note` and that charges `now` may not charge, in
    /// finance's words: `None` when it [`shows`](Self::shows) the change, that change left
    /// it running (a paused schedule still starts a term on `temporal schedule trigger` or
    /// `backfill`), and it charges what the change left (when the record says).
    pub fn refusal(&self, note: &str, now: Option<&ContractState>) -> Option<String> {
        match self {
            LatestChange::Confirmed(change) if change.stops() && self.shows(note) => Some(format!(
                "its latest recorded change ({note:?}) stopped it: it charges again only \
                     once a recorded change resumes it"
            )),
            _ if self.shows(note) => self.rewritten(now).map(|how| {
                format!(
                    "its schedule was rewritten outside the console (Temporal's CLI, UI or a \
                     script), and no record says who rewrote it or why: {how}"
                )
            }),
            LatestChange::None => Some(
                "no change to this contract is recorded, not even its creation: it was made \
                 outside the console (Temporal's CLI, UI or a script), and no record says who \
                 made it or why"
                    .into(),
            ),
            LatestChange::Unconfirmed(change) => Some(format!(
                "its latest change ({:?}) has not been confirmed against its schedule",
                change.note()
            )),
            LatestChange::Confirmed(change) => Some(format!(
                "its schedule reads {note:?}, but its latest recorded change left {:?}: it was \
                 changed outside the console (Temporal's CLI, UI or a script), and no record \
                 says who changed it or why",
                change.note()
            )),
        }
    }
}

/// The latest change recorded for `contract_id` that was not refused (a record its
/// schedule did not confirm is no change).
pub async fn latest(client: &Client, contract_id: &str) -> Result<LatestChange, TemporalError> {
    // An id no contract can have (quotes included) has no records, and is not queried.
    if validate_order_id(contract_id).is_err() {
        return Ok(LatestChange::None);
    }
    let query = records_of(&format!("= '{contract_id}'"));
    let listed =
        visibility::list_page(client, &query, RECORDS_READ, None, Some("StartTime DESC")).await?;
    Ok(latest_among(listed.executions.iter()))
}

/// Records one read for a page of contracts takes at most (Temporal's largest page).
pub const PAGE_RECORDS_READ: i32 = 1_000;

/// The latest change of each of `contract_ids`, in one visibility list (a page of
/// contracts would otherwise make one each, and Temporal limits a namespace's visibility
/// calls a second). A contract whose latest record this one read cannot
/// promise (the records of the page's contracts run past [`PAGE_RECORDS_READ`], where the
/// store cannot sort by start) is left out: [`latest`] reads it alone.
pub async fn latest_of(
    client: &Client,
    contract_ids: &[&str],
) -> Result<std::collections::HashMap<String, LatestChange>, TemporalError> {
    use std::collections::HashMap;
    // Ids no contract can have have no records, and are not queried.
    let (asked, unlistable): (Vec<&str>, Vec<&str>) = contract_ids
        .iter()
        .partition(|id| validate_order_id(id).is_ok());
    let mut found: HashMap<String, LatestChange> = unlistable
        .into_iter()
        .map(|id| (id.to_string(), LatestChange::None))
        .collect();
    if asked.is_empty() {
        return Ok(found);
    }
    let quoted: Vec<String> = asked.iter().map(|id| format!("'{id}'")).collect();
    let query = records_of(&format!("IN ({})", quoted.join(", ")));
    let listed = visibility::list_page(
        client,
        &query,
        PAGE_RECORDS_READ,
        None,
        Some("StartTime DESC"),
    )
    .await?;
    let mut by_contract: HashMap<String, Vec<&visibility::ListedExecution>> = HashMap::new();
    for e in &listed.executions {
        if let Some(id) = e.attributes.get(&sa::CONTRACT_ID) {
            by_contract.entry(id).or_default().push(e);
        }
    }
    let whole = listed.next_page.is_none();
    for id in asked {
        let of_it = by_contract.remove(id).unwrap_or_default();
        // Sorted newest first, a contract listed has its latest record on this page.
        if whole || (listed.sorted && !of_it.is_empty()) {
            found.insert(id.to_string(), latest_among(of_it.into_iter()));
        }
    }
    Ok(found)
}

/// The visibility query for the records, not refused, of the contracts `which` selects
/// (`= 'C-1'`, `IN ('C-1', 'C-2')`).
fn records_of(which: &str) -> String {
    format!(
        "WorkflowType = '{}' AND {} {which} AND ExecutionStatus IN ('Running', 'Completed')",
        workflow_types::CONTRACT_CHANGE,
        sa::CONTRACT_ID.name(),
    )
}

/// The latest by start among one contract's listed records. A record that does not say what
/// the contract charges (a cancellation, one made while the records could not be read)
/// reads as the contract's: what the newest confirmed record that says it says, since
/// every confirmed record says the same ([`ChangeActivities::confirm`]).
fn latest_among<'a>(
    executions: impl Iterator<Item = &'a visibility::ListedExecution>,
) -> LatestChange {
    let listed: Vec<_> = executions
        .filter_map(|e| {
            Some((
                e.start_time,
                e.memo::<ContractChangeRecord>(MEMO_KEY)?,
                e.status == "COMPLETED",
            ))
        })
        .collect();
    let carried = listed
        .iter()
        .filter(|(_, change, confirmed)| *confirmed && change.contract.is_some())
        .max_by_key(|(at, _, _)| *at)
        .and_then(|(_, change, _)| change.contract.clone());
    let latest = listed.into_iter().max_by_key(|(at, _, _)| *at);
    match latest {
        None => LatestChange::None,
        Some((_, mut change, confirmed)) => {
            if change.contract.is_none() {
                change.contract = carried;
            }
            match confirmed {
                true => LatestChange::Confirmed(change),
                false => LatestChange::Unconfirmed(change),
            }
        }
    }
}

#[workflow]
#[derive(Default)]
pub struct ContractChange;

#[workflow_methods]
impl ContractChange {
    #[run(name = "ContractChange")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        change: ContractChangeRecord,
    ) -> WorkflowResult<ContractChangeRecord> {
        if ctx.patched(CONFIRMED_PATCH) {
            let options = super::temporal_check_options(
                task_queues::RECURRING_SCHEDULE,
                CONFIRM_TIMEOUT,
                format!("{}-confirm", ctx.workflow_id()),
            );
            ctx.execute_activity(ChangeActivities::confirm, change.clone(), options)
                .await?;
        }
        Ok(change)
    }
}

/// Confirms contract change records against their contract's schedule.
pub struct ChangeActivities;

#[activities]
impl ChangeActivities {
    /// Confirms the record that runs it: its memo and `ContractId` say what its input says,
    /// and its contract's schedule (one of ours) carries the note the change wrote. A
    /// record that fails this is refused for good; Temporal being away is retried.
    #[activity(name = "ConfirmContractChange")]
    pub async fn confirm(
        self: Arc<Self>,
        ctx: ActivityContext,
        change: ContractChangeRecord,
    ) -> Result<(), ActivityError> {
        let client = ctx.client();
        let Some(own_id) = ctx.info().workflow_id.clone() else {
            return Err(refused("no record asked"));
        };
        let own = client
            .get_workflow_handle::<ContractChange>(own_id.clone())
            .describe(WorkflowDescribeOptions::default())
            .await
            .map_err(retried)?;
        let info = own
            .raw_description
            .workflow_execution_info
            .unwrap_or_default();
        let memo: Option<ContractChangeRecord> = info
            .memo
            .as_ref()
            .and_then(|m| m.fields.get(MEMO_KEY))
            .and_then(|p| serde_json::from_slice(&p.data).ok());
        if memo.as_ref() != Some(&change) {
            return Err(refused(
                "the record's memo is not the change it was started with",
            ));
        }
        let indexed: Option<String> = info
            .search_attributes
            .as_ref()
            .and_then(|a| a.indexed_fields.get(sa::CONTRACT_ID.name()))
            .and_then(|p| serde_json::from_slice(&p.data).ok());
        if indexed.as_deref() != Some(change.contract_id.as_str()) {
            return Err(refused("the record is not filed under its contract"));
        }
        // Where it says it came from is where Temporal recorded its start from (the trail
        // shows the channel by it): a record from Temporal's CLI cannot pass as the
        // console's.
        let run_id = ctx.info().workflow_run_id.clone().unwrap_or_default();
        let first = histories::events(&client, &own_id, &run_id, Events::First(1))
            .await
            .map_err(retried)?;
        let started_by = first.first().and_then(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                Some(a.identity.as_str())
            }
            _ => None,
        });
        if started_by != Some(change.origin.as_str()) {
            return Err(refused(format!(
                "the record says it came from {:?}, but {:?} started it",
                change.origin,
                started_by.unwrap_or_default()
            )));
        }
        let described = match schedules::describe(&client, &change.contract_id).await {
            Ok(described) => described,
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                return Err(refused(format!(
                    "the contract {:?} has no schedule",
                    change.contract_id
                )));
            }
            Err(status) => return Err(retried(status)),
        };
        if schedules::started_type(&described) != Some(workflow_types::RECURRING_PAYMENT) {
            return Err(refused(format!(
                "{:?} is not a contract of this system",
                change.contract_id
            )));
        }
        let note = schedules::note(&described);
        if note != change.note() {
            tracing::warn!(
                contract_id = change.contract_id,
                recorded = change.note(),
                note,
                "a contract change record its schedule does not show"
            );
            return Err(refused(format!(
                "the contract's schedule does not show it (its note reads {note:?})"
            )));
        }
        let started_at = first
            .first()
            .and_then(|e| e.event_time.as_ref())
            .map(schedules::system_time);
        if let Some(why) = terms_refusal(&client, &change, &own_id, started_at, &described)
            .await
            .map_err(retried)?
        {
            tracing::warn!(
                contract_id = change.contract_id,
                why,
                "a contract change record that says other terms"
            );
            return Err(refused(why));
        }
        Ok(())
    }
}

/// How long after its schedule was made the record of a contract's making may start (the
/// console and our CLI record it right after making the schedule, within a second).
pub const CREATION_RECORD_WINDOW: Duration = Duration::from_secs(30);

/// Why `change` cannot say what it says of the contract's terms (`None`: it can). What a
/// contract charges is set once, when it is made: the record of its making is its
/// schedule's first, says what the schedule charged then, and starts within
/// [`CREATION_RECORD_WINDOW`] of the schedule's making; every later record that says it
/// says the same as the records before it. So a
/// record started from another client can stop a contract, but cannot set its terms: a
/// "resumed" record saying 9,999.99 USD a term is refused, and one saying nothing reads as
/// the records before it ([`latest_among`]). Contracts made before records kept their terms
/// take the first record that says them.
async fn terms_refusal(
    client: &Client,
    change: &ContractChangeRecord,
    own_id: &str,
    started_at: Option<std::time::SystemTime>,
    described: &DescribeScheduleResponse,
) -> Result<Option<String>, TemporalError> {
    let made_at = described
        .info
        .as_ref()
        .and_then(|i| i.create_time.as_ref())
        .map(schedules::system_time);
    // The confirmed records of this schedule (not of an earlier one of the same id, deleted
    // and made again), newest first.
    let query = format!(
        "{} AND ExecutionStatus = 'Completed'",
        records_of(&format!("= '{}'", change.contract_id))
    );
    let listed =
        visibility::list_page(client, &query, RECORDS_READ, None, Some("StartTime DESC")).await?;
    let mut before: Vec<_> = listed
        .executions
        .iter()
        .filter(|e| e.workflow_id != own_id)
        .filter(|e| made_at.is_none_or(|made| e.start_time.is_some_and(|at| at >= made)))
        .filter_map(|e| Some((e.start_time, e.memo::<ContractChangeRecord>(MEMO_KEY)?)))
        .collect();
    before.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    if change.action == "created" {
        if let Some((_, made)) = before.iter().find(|(_, r)| r.action == "created") {
            return Ok(Some(format!(
                "its making is recorded already (created by {}): a contract is made once",
                made.operator
            )));
        }
        if let (Some(made), Some(started)) = (made_at, started_at)
            && started > made + CREATION_RECORD_WINDOW
        {
            let late = started.duration_since(made).map_or(0, |d| d.as_secs());
            return Ok(Some(format!(
                "its schedule was made {} before this record of its making: a contract is \
                 made once, with its schedule",
                waited(i64::try_from(late).unwrap_or(i64::MAX))
            )));
        }
        let Some(said) = &change.contract else {
            return Ok(None);
        };
        let terms = schedules::started_input::<ContractTerms>(client, described).await;
        return Ok(terms
            .and_then(|t| ContractState::of(t, described))
            .and_then(|now| now.differs(said))
            .map(|how| format!("its schedule does not charge what it says: {how}")));
    }
    let (Some(said), Some(was)) = (
        &change.contract,
        before.iter().find_map(|(_, r)| r.contract.as_ref()),
    ) else {
        return Ok(None);
    };
    Ok((was != said).then(|| {
        format!(
            "it says the contract charges {}, where its records say {}: a contract's terms are \
             set when it is made",
            said.summary(),
            was.summary()
        )
    }))
}

/// A record its contract does not confirm: failed for good, with the reason.
fn refused(why: impl Into<String>) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(why.into())
            .type_name(UNCONFIRMED.to_string())
            .non_retryable(true)
            .build(),
    )
}

/// Temporal could not be asked: tried again.
fn retried(error: impl std::error::Error + Send + Sync + 'static) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(error)
            .type_name("contract_change_check_unavailable".to_string())
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, operator: &str, reason: &str) -> ContractChangeRecord {
        ContractChangeRecord {
            contract_id: "C-1".into(),
            action: action.into(),
            operator: operator.into(),
            reason: reason.into(),
            origin: String::new(),
            contract: None,
        }
    }

    #[test]
    fn a_record_is_confirmed_by_the_note_its_change_writes() {
        assert_eq!(change("created", "fin", "").note(), "created by fin");
        assert_eq!(
            change("paused", "fin", "holiday").note(),
            "paused by fin: holiday"
        );
        assert_eq!(
            change("cancelled", "fay", "customer asked").note(),
            "cancelled by fay: customer asked"
        );
        // The term check's pause reads as the contract page has always shown it.
        assert_eq!(
            change("paused", TERM_CHECK_ACTOR, "a term was refused: too soon").note(),
            "paused: a term was refused: too soon"
        );
    }

    #[test]
    fn a_schedule_charges_only_in_the_state_its_latest_confirmed_change_left() {
        let resumed = change("resumed", "fin", "checked");
        let confirmed = LatestChange::Confirmed(resumed.clone());
        assert!(confirmed.shows("resumed by fin: checked"));
        assert_eq!(confirmed.refusal("resumed by fin: checked", None), None);
        // Any other note: a change made on the schedule itself.
        for note in ["", "resumed by fin: checked ", "(no reason provided)"] {
            let why = confirmed.refusal(note, None).unwrap_or_default();
            assert!(
                why.starts_with(&format!("its schedule reads {note:?}, but its latest"))
                    && why.contains("\"resumed by fin: checked\""),
                "{why}"
            );
        }
        // A paused contract's note, on a schedule that runs (`toggle --unpause` under the
        // same note) or is triggered while paused: nothing charges.
        let paused = LatestChange::Confirmed(change("paused", "fin", "dispute"));
        assert!(
            paused
                .refusal("paused by fin: dispute", None)
                .is_some_and(|why| why.contains("stopped it"))
        );
        // A record not confirmed yet shows nothing, even with the same note.
        let pending = LatestChange::Unconfirmed(resumed);
        assert!(!pending.shows("resumed by fin: checked"));
        assert!(
            pending
                .refusal("resumed by fin: checked", None)
                .is_some_and(|why| why.contains("has not been confirmed"))
        );
        // The note and the pause as recorded, but the terms or the cadence rewritten.
        let made = ContractState {
            terms: ContractTerms {
                contract_id: "C-1".into(),
                customer: "ana".into(),
                plan: "gym".into(),
                amount_cents: 999,
                currency: "USD".into(),
                until_cancelled: Some(true),
            },
            cadence: Cadence::Every { seconds: 2_592_000 },
            time_zone: "Asia/Shanghai".into(),
            total_terms: 12,
        };
        let recorded = LatestChange::Confirmed(ContractChangeRecord {
            contract: Some(made.clone()),
            ..change("resumed", "fin", "checked")
        });
        let note = "resumed by fin: checked";
        assert_eq!(recorded.refusal(note, Some(&made)), None);
        let mut dearer = made.clone();
        dearer.terms.amount_cents = 999_999;
        assert!(recorded.refusal(note, Some(&dearer)).is_some_and(|why| {
            why.starts_with("its schedule was rewritten outside the console")
                && why.ends_with("it charges 9999.99 USD a term where 9.99 USD was recorded")
        }));
        let mut hourly = made.clone();
        hourly.cadence = Cadence::Every { seconds: 3_600 };
        hourly.terms.customer = "bob".into();
        assert!(recorded.refusal(note, Some(&hourly)).is_some_and(|why| {
            why.ends_with(
            "it charges \"bob\" on \"gym\" where \"ana\" on \"gym\" was recorded; it charges every \
             1h (Asia/Shanghai) where every 30d (Asia/Shanghai) was recorded"
        )
        }));
        // A record made before the terms were kept holds the note only.
        assert_eq!(confirmed.refusal(note, Some(&dearer)), None);
        assert!(
            LatestChange::None
                .refusal("created by fin", None)
                .is_some_and(|why| why.starts_with("no change to this contract is recorded"))
        );
    }
}
