//! Recurring contracts as Temporal Schedules: create, read, pause, resume, cancel. The
//! schedule id is the contract id; Temporal holds every fact about it. The raw schedule
//! calls are `temporal::schedules`; here is what they mean for a contract.

use futures::StreamExt;
use std::time::SystemTime;
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
    WorkflowStartOptions,
    errors::WorkflowStartError,
    tonic::{Code, Status},
};
use temporalio_common::protos::temporal::api::{
    common::v1::WorkflowExecution,
    enums::v1::ScheduleOverlapPolicy,
    schedule::v1::{Schedule, ScheduleListEntry, SchedulePolicies, ScheduleState},
    workflowservice::v1::DescribeScheduleResponse,
};

use super::{Missing, OpError, counted};
/// The rules a new contract is held to (the CLI checks a command line with them first).
pub use crate::domain::contract_rules::check;
use crate::domain::contract_rules::clock_change_ahead;
use crate::{
    domain::contract::{
        Cadence, Charge, ContractDetail, ContractLimits, ContractSummary, ContractTerms,
        ContractsPage, NewContract, TermRun, UNCONFIRMED_WINDOW_DAYS, UnconfirmedCharges,
        validate_change,
    },
    domain::format::{rfc3339, waited},
    domain::input::validate_order_id,
    domain::money::minor_units,
    temporal::names::{task_queues, workflow_types},
    temporal::{TemporalError, schedules, search_attributes as sa, visibility},
    workflows::charge_lookup::{self, BankSaid, ChargeLookup, ChargeQuestion},
    workflows::contract_change::{self, ContractChangeRecord, ContractState, LatestChange},
    workflows::recurring_payment::TERM_REFUSED_PREFIX,
    workflows::term_check::{ClosedTerm, TermCharge, charged_terms, closed_term, late_term_grace},
};

/// The note a cancelled contract's schedule carries.
pub const CANCELLED_NOTE_PREFIX: &str = "cancelled";
/// The note the old two-step create left on a schedule whose term limit may be missing.
const HALF_CREATED_NOTE: &str = "creating";
/// Next charges shown in a contract's detail, and in the list.
pub const NEXT_CHARGES_SHOWN: usize = 5;
pub const NEXT_CHARGES_LISTED: usize = 3;
/// Term runs shown on a contract's page, newest first.
pub const TERMS_SHOWN: i32 = 100;
/// Contracts described at once when the list shows their terms.
const DESCRIBES_AT_ONCE: usize = 8;
/// Decimals assumed for a currency the table does not know (contracts made before the
/// check).
const USUAL_MINOR_UNITS: u32 = 2;

/// What a schedule call's status means for a contract.
fn status_error(contract_id: &str, status: Status) -> OpError {
    match status.code() {
        Code::NotFound => OpError::NotFound(Missing::Contract(contract_id.into())),
        Code::AlreadyExists => OpError::AlreadyExists(contract_id.into()),
        // The conflict token did not match: someone changed the contract meanwhile.
        Code::FailedPrecondition => OpError::Rejected(format!(
            "the contract {contract_id:?} changed while this was being done: look again, \
             then try once more"
        )),
        // Anything else Temporal refused (a spec it cannot read) is the person's to fix;
        // no answer at all is an outage: `TemporalError` tells them apart.
        _ => OpError::Temporal(TemporalError::from(status)),
    }
}

/// A change to a contract as its record will hold it (its [`note`](ContractChangeRecord::note)
/// is what the change writes on the schedule).
fn change_of(
    client: &Client,
    contract_id: &str,
    action: &str,
    operator: &str,
    reason: &str,
) -> ContractChangeRecord {
    ContractChangeRecord {
        contract_id: contract_id.to_string(),
        action: action.to_string(),
        operator: operator.to_string(),
        reason: reason.to_string(),
        origin: temporalio_client::NamespacedClient::identity(client),
        contract: None,
    }
}

/// Records a change to a contract as a workflow of its own (`ContractChange`): dated,
/// kept, findable by contract and person, and confirmed against the contract's schedule
/// (waited for, up to `CONFIRM_WAIT`, so that a change made right after it does not
/// overtake its confirmation). A failure to record is said, not hidden: the change itself
/// stands (the schedule holds it).
async fn record_change(client: &Client, change: ContractChangeRecord) -> Result<(), OpError> {
    let request = format!("{:016x}", rand::random::<u64>());
    let (contract_id, action) = (change.contract_id.clone(), change.action.clone());
    if let Err(e) = contract_change::record(client, change, &request).await {
        tracing::error!(contract_id, action, error = %e, "a contract change was made but not recorded");
        return Err(OpError::Rejected(format!(
            "the contract {contract_id:?} is {action}, but the change could not be recorded \
             in the audit trail: Temporal did not answer ({e})"
        )));
    }
    match contract_change::confirmed(client, &contract_id, &request).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            tracing::warn!(
                contract_id,
                action,
                "a contract change's record is not confirmed yet"
            );
            Ok(())
        }
        Err(why) => {
            tracing::error!(
                contract_id,
                action,
                error = why,
                "a contract change's record was not confirmed"
            );
            Err(OpError::Rejected(format!(
                "the contract {contract_id:?} is {action}, but its record in the audit trail was \
                 not confirmed: {why} (another change made at the same moment?); look at the \
                 contract, then try again"
            )))
        }
    }
}

/// Creates the contract's schedule in one call, its term limit included: no term can run
/// before the limit is in place. A failed charge pauses the contract (`pause_on_failure`).
/// The schedule's note records who created it.
pub async fn create(
    client: &Client,
    mut contract: NewContract,
    limits: &ContractLimits,
    operator: &str,
) -> Result<Vec<Charge>, OpError> {
    counted(
        "create_contract",
        async {
            check(&contract, limits)?;
            let id = contract.terms.contract_id.clone();
            let mut created = change_of(client, &id, "created", operator, "");
            let terms = contract.total_terms;
            contract.terms.until_cancelled = Some(terms == 0);
            let action = schedules::start_workflow(
                client,
                crate::domain::contract::terms_workflow_id(&id),
                workflow_types::RECURRING_PAYMENT,
                task_queues::RECURRING_SCHEDULE,
                &contract.terms,
            )
            .await?;
            let schedule = Schedule {
                spec: Some(schedules::spec(
                    &contract.cadence,
                    &contract.time_zone,
                    std::time::SystemTime::now(),
                )),
                action: Some(action),
                policies: Some(SchedulePolicies {
                    overlap_policy: ScheduleOverlapPolicy::Skip as i32,
                    pause_on_failure: true,
                    // A term missed by more than this (Temporal away) is skipped, not
                    // charged late: the term check would refuse it.
                    catchup_window: Some(prost_wkt_types::Duration {
                        seconds: late_term_grace(limits),
                        nanos: 0,
                    }),
                    ..Default::default()
                }),
                state: Some(ScheduleState {
                    limited_actions: terms > 0,
                    remaining_actions: i64::from(terms),
                    paused: false,
                    notes: created.note(),
                }),
            };
            schedules::create(client, &id, schedule)
                .await
                .map_err(|s| status_error(&id, s))?;
            // What it charges and when, as Temporal keeps it: every term is held to this.
            created.contract = match schedules::describe(client, &id).await {
                Ok(described) => ContractState::of(contract.terms.clone(), &described).map(
                    |state| ContractState {
                        total_terms: terms,
                        ..state
                    },
                ),
                Err(status) => {
                    tracing::warn!(contract_id = id, error = %status, "a new contract could not be read back");
                    None
                }
            };
            record_change(client, created).await?;
            let description = client
                .get_schedule_handle(&id)
                .describe(Default::default())
                .await
                .map_err(|e| OpError::Temporal(e.into()))?;
            Ok(charges(
                description.future_action_times().into_iter(),
                NEXT_CHARGES_SHOWN,
                &contract.time_zone,
            ))
        }
        .await,
    )
}

/// Describes a contract's schedule; a schedule of another workflow is not a contract, and
/// is treated as missing (this app changes only its own).
async fn describe_contract(
    client: &Client,
    contract_id: &str,
) -> Result<DescribeScheduleResponse, OpError> {
    let described = schedules::describe(client, contract_id)
        .await
        .map_err(|s| status_error(contract_id, s))?;
    if schedules::started_type(&described) != Some(workflow_types::RECURRING_PAYMENT) {
        return Err(OpError::NotFound(Missing::Contract(contract_id.into())));
    }
    Ok(described)
}

/// Cancels a contract: no further term starts, and a term still charging is stopped. The
/// schedule stays, paused with no terms left, so its history can still be read; its note
/// says who cancelled it and why.
pub async fn cancel(
    client: &Client,
    contract_id: &str,
    operator: &str,
    reason: &str,
) -> Result<(), OpError> {
    counted(
        "cancel_contract",
        async {
            validate_change(contract_id, operator, reason)?;
            let described = describe_contract(client, contract_id).await?;
            if schedules::note(&described).starts_with(CANCELLED_NOTE_PREFIX) {
                return Err(OpError::AlreadyCancelled(contract_id.into()));
            }
            let running: Vec<WorkflowExecution> = described
                .info
                .as_ref()
                .map(|i| i.running_workflows.clone())
                .unwrap_or_default();
            let change = change_of(client, contract_id, CANCELLED_NOTE_PREFIX, operator, reason);
            let note = change.note();
            schedules::change_state(client, contract_id, described, |state| {
                state.paused = true;
                state.notes = note.clone();
                state.limited_actions = true;
                state.remaining_actions = 0;
            })
            .await
            .map_err(|s| status_error(contract_id, s))?;
            record_change(client, change).await?;
            // A term still charging is retried no more.
            for execution in running {
                schedules::terminate(client, execution, &note)
                    .await
                    .map_err(|s| OpError::Temporal(s.into()))?;
            }
            Ok(())
        }
        .await,
    )
}

/// The first `count` of `times` as charges: in UTC and in the contract's `zone` (Temporal's
/// own default, UTC, when the schedule names none or one this build does not know).
fn charges(times: impl Iterator<Item = SystemTime>, count: usize, zone: &str) -> Vec<Charge> {
    let zone = zone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
    times
        .take(count)
        .map(|t| Charge {
            at: rfc3339(t),
            local: chrono::DateTime::<chrono::Utc>::from(t)
                .with_timezone(&zone)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
        })
        .collect()
}

/// Contracts shown on one page of the list.
pub const CONTRACTS_PAGE_SIZE: i32 = 50;

fn summary(entry: ScheduleListEntry) -> Option<ContractSummary> {
    let info = entry.info?;
    // Only this app's contracts: schedules of other workflows are not ours to show.
    if info.workflow_type.as_ref().map(|t| t.name.as_str())
        != Some(workflow_types::RECURRING_PAYMENT)
    {
        return None;
    }
    Some(ContractSummary {
        contract_id: entry.schedule_id,
        paused: info.paused,
        cancelled: info.notes.starts_with(CANCELLED_NOTE_PREFIX),
        // A paused schedule starts nothing; Temporal still lists when it would.
        next_charges: match info.paused {
            true => Vec::new(),
            false => charges(
                info.future_action_times.iter().map(schedules::system_time),
                NEXT_CHARGES_LISTED,
                info.spec.as_ref().map_or("", |s| s.timezone_name.as_str()),
            ),
        },
        note: info.notes,
    })
}

/// One page of the contracts, and the token of the next page if there is one.
pub async fn list_page(
    client: &Client,
    page_token: Option<&str>,
) -> Result<(Vec<ContractSummary>, Option<String>), OpError> {
    let token = visibility::decode_page_token(page_token)?;
    let (entries, next) = schedules::list_page(client, CONTRACTS_PAGE_SIZE, token)
        .await
        .map_err(|s| OpError::Temporal(s.into()))?;
    let mut contracts: Vec<ContractSummary> = entries.into_iter().filter_map(summary).collect();
    contracts.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok((contracts, visibility::encode_page_token(&next)))
}

/// Every contract (page after page).
pub async fn list(client: &Client) -> Result<Vec<ContractSummary>, OpError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (page, next) = list_page(client, token.as_deref()).await?;
        all.extend(page);
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    all.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok(all)
}

pub async fn detail(client: &Client, contract_id: &str) -> Result<ContractDetail, OpError> {
    // The latest recorded change, read once for the heads-up and the terms it was made for.
    let latest = match contract_change::latest(client, contract_id).await {
        Ok(latest) => Some(latest),
        Err(e) => {
            tracing::warn!(contract_id, error = %e, "a contract's latest change could not be read");
            None
        }
    };
    let known = latest
        .clone()
        .map_or(Latest::Unreadable, |l| Latest::Read(Box::new(l)));
    let mut detail = detail_knowing(client, contract_id, known).await?;
    if let Some(latest) = &latest {
        held_to_its_terms(client, &mut detail, latest).await;
    }
    Ok(detail)
}

/// Holds a contract's "terms left" to what it was made for: its schedule's own count can be
/// raised from outside (`temporal schedule update --remaining-actions`), and the term check
/// refuses any term past the number it was made with (`term_check::charged_terms`). When
/// the schedule says more, the page says how many will really charge, with a heads-up. A
/// contract's own page only (one or two visibility counts more); the list shows the
/// schedule's count. Best effort: a count that fails leaves the schedule's count.
async fn held_to_its_terms(client: &Client, detail: &mut ContractDetail, latest: &LatestChange) {
    if detail.cancelled {
        return;
    }
    let id = detail.contract_id.as_str();
    let Some(made) = latest
        .record()
        .and_then(|r| r.contract.as_ref())
        .map(|c| c.total_terms)
        .filter(|total| *total > 0)
    else {
        return;
    };
    let charged = match charged_terms(client, id, u64::from(made)).await {
        Ok(charged) => charged,
        Err(e) => {
            tracing::debug!(contract_id = id, error = %e, "a contract's charged terms could not be counted");
            return;
        }
    };
    let left = i64::from(made)
        .saturating_sub(i64::try_from(charged).unwrap_or(i64::MAX))
        .max(0);
    let says = match detail.terms_left {
        Some(scheduled) if scheduled <= left => return,
        Some(scheduled) => format!("Its schedule says {scheduled} terms left"),
        None => "Its schedule has no term limit".to_string(),
    };
    let held = format!(
        "{says}, but it was made for {made} and has charged {charged}: no more than {left} will \
         charge (a limit raised outside the console charges nothing)."
    );
    detail.terms_left = Some(left);
    detail.heads_up = Some(match detail.heads_up.take() {
        Some(first) => format!("{first} {held}"),
        None => held,
    });
}

/// A contract's latest recorded change, as [`detail_knowing`] is given it.
enum Latest {
    /// Not read yet: read it for this contract alone.
    ReadHere,
    /// Read with the rest of its page.
    Read(Box<LatestChange>),
    /// Its page's read failed: the heads-up it could give is not told.
    Unreadable,
}

async fn detail_knowing(
    client: &Client,
    contract_id: &str,
    latest: Latest,
) -> Result<ContractDetail, OpError> {
    validate_order_id(contract_id)?;
    let description = client
        .get_schedule_handle(contract_id)
        .describe(Default::default())
        .await
        .map_err(|e| match e {
            temporalio_client::schedules::ScheduleError::Rpc(status) => {
                status_error(contract_id, status)
            }
            other => OpError::Temporal(other.into()),
        })?;
    let terms = match description.action() {
        temporalio_client::schedules::ScheduleDescriptionAction::StartWorkflow(a) => {
            a.args::<ContractTerms>().await.ok().flatten()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    };
    let units = terms
        .as_ref()
        .and_then(|t| minor_units(&t.currency))
        .unwrap_or(USUAL_MINOR_UNITS);
    let raw = description.raw();
    let schedule = raw.schedule.as_ref();
    let spec = schedule.and_then(|s| s.spec.as_ref());
    let cadence = spec
        .map(|s| schedules::cadence_text(s, waited))
        .unwrap_or_default();
    let state = schedule.and_then(|s| s.state.as_ref());
    let note = description.note().unwrap_or_default().to_string();
    let cancelled = note.starts_with(CANCELLED_NOTE_PREFIX);
    // The term check holds a schedule to the state its latest recorded change left: a
    // change made outside the console is told here before a term is refused for it (a
    // paused contract charges nothing; Temporal pauses one whose charge failed). A record a
    // worker has not confirmed yet is not told (the term waits for it).
    let latest = match (cancelled || description.paused(), latest) {
        (true, _) | (false, Latest::Unreadable) => None,
        (false, Latest::Read(latest)) => Some(*latest),
        (false, Latest::ReadHere) => match contract_change::latest(client, contract_id).await {
            Ok(latest) => Some(latest),
            Err(e) => {
                tracing::warn!(contract_id, error = %e, "a contract's latest change could not be read");
                None
            }
        },
    };
    let unrecorded = match latest {
        None | Some(LatestChange::Unconfirmed(_)) => None,
        Some(latest) => {
            let now = terms
                .clone()
                .and_then(|t| ContractState::of(t, description.raw()));
            let rewritten = latest.rewritten(now.as_ref()).is_some();
            latest
                .refusal(&note, now.as_ref())
                .map(|why| (why, rewritten))
        }
    };
    let heads_up = spec.filter(|_| !cancelled).and_then(|spec| {
        let (cadence, zone) = match schedules::contract_cadence(spec) {
            Ok(read) => read,
            Err(why) => {
                return Some(format!(
                    "Its terms will be refused: {why}. Was it made outside the console?"
                ));
            }
        };
        let unrecorded = unrecorded.map(|(why, rewritten)| match rewritten {
            // Its terms can be set only by making it: resuming it keeps it as it is.
            true => format!(
                "Its terms will be refused: {why}. Cancel it, and make it again with the terms \
                 agreed."
            ),
            // Told only while it runs: the page offers a pause, then a resume.
            false => format!(
                "Its terms will be refused: {why}. Pause it here, and resume it if it should \
                 charge, so that the trail records who decided."
            ),
        });
        let clocks = match cadence {
            Cadence::Cron { expression } => clock_change_ahead(&expression, &zone),
            Cadence::Every { .. } => None,
        };
        match (unrecorded, clocks) {
            (Some(first), Some(then)) => Some(format!("{first} {then}")),
            (one, other) => one.or(other),
        }
    });
    Ok(ContractDetail {
        contract_id: contract_id.to_string(),
        terms,
        cadence,
        time_zone: spec.map(|s| s.timezone_name.clone()).unwrap_or_default(),
        paused: description.paused(),
        cancelled,
        note,
        terms_left: state
            .filter(|s| s.limited_actions)
            .map(|s| s.remaining_actions),
        minor_units: units,
        charges_started: description.action_count(),
        next_charges: match description.paused() {
            true => Vec::new(),
            false => charges(
                description.future_action_times().into_iter(),
                NEXT_CHARGES_SHOWN,
                spec.map_or("", |s| s.timezone_name.as_str()),
            ),
        },
        heads_up,
    })
}

/// Pauses (`pause = true`) or resumes a contract; the note records who and why. A
/// contract without a term limit resumes only if "until cancelled" was chosen on purpose.
pub async fn set_paused(
    client: &Client,
    contract_id: &str,
    operator: &str,
    reason: &str,
    pause: bool,
) -> Result<(), OpError> {
    counted("pause_or_resume_contract", async {
        validate_change(contract_id, operator, reason)?;
        let described = describe_contract(client, contract_id).await?;
        let note = schedules::note(&described).to_string();
        if note.starts_with(CANCELLED_NOTE_PREFIX) {
            return Err(OpError::AlreadyCancelled(contract_id.into()));
        }
        let terms = schedules::started_input::<ContractTerms>(client, &described).await;
        let now = terms
            .clone()
            .and_then(|t| ContractState::of(t, &described));
        // What the contract charges is carried on from its latest change; a contract whose
        // changes never recorded it (made before) takes what its schedule says now.
        // A pause is never held up by it (the visibility store away): it stops charges.
        let carried = match contract_change::latest(client, contract_id).await {
            Ok(latest) => latest.record().and_then(|r| r.contract.clone()),
            Err(e) if pause => {
                tracing::warn!(contract_id, error = %e, "a contract's latest change could not be read");
                None
            }
            Err(e) => return Err(e.into()),
        };
        if !pause {
            if let (Some(was), Some(now)) = (&carried, &now)
                && let Some(how) = was.differs(now)
            {
                tracing::warn!(contract_id, how, "a rewritten contract was not resumed");
                return Err(OpError::Rejected(format!(
                    "the contract {contract_id:?} was rewritten outside the console: {how}. It \
                     stays paused: cancel it, and make it again with the terms agreed"
                )));
            }
            let limited = described
                .schedule
                .as_ref()
                .and_then(|s| s.state.as_ref())
                .is_some_and(|s| s.limited_actions);
            let on_purpose = match terms.and_then(|t| t.until_cancelled) {
                Some(chosen) => chosen,
                // Made before the choice was recorded: only the old half-made create is suspect.
                None => note != HALF_CREATED_NOTE,
            };
            if !limited && !on_purpose {
                return Err(OpError::Rejected(format!(
                    "the contract {contract_id:?} has no term limit and \"until cancelled\" was not \
                     chosen for it: it stays paused; cancel it and create it again with its terms"
                )));
            }
        }
        let verb = if pause { "paused" } else { "resumed" };
        let change = ContractChangeRecord {
            contract: carried.or(now),
            ..change_of(client, contract_id, verb, operator, reason)
        };
        let note = change.note();
        schedules::change_state(client, contract_id, described, |state| {
            state.paused = pause;
            state.notes = note;
        })
        .await
        .map_err(|s| status_error(contract_id, s))?;
        record_change(client, change).await
    }
    .await)
}

/// The runs a contract started, newest first (at most `limit`). A term that closed
/// without completing says whether it charged the customer all the same (its history
/// holds the bank's answer to the charge) and, if it failed, why, in the words its run
/// failed with: one more Temporal call for each such term.
pub async fn terms_run(
    client: &Client,
    contract_id: &str,
    limit: i32,
) -> Result<Vec<TermRun>, OpError> {
    validate_order_id(contract_id)?;
    let query = format!(
        "{} AND {} = '{contract_id}'",
        crate::temporal::names::on_our_queue(workflow_types::RECURRING_PAYMENT),
        sa::CONTRACT_ID.name()
    );
    let page = visibility::list_page(client, &query, limit, None, None).await?;
    let mut rows: Vec<TermRun> = futures::stream::iter(page.executions)
        .map(|e| async move { term_row(client, e).await.0 })
        .buffered(DESCRIBES_AT_ONCE)
        .collect()
        .await;
    // A statement that booked a term's charge, its entry left out by the approver: said
    // on the term's row (only terms in doubt are given a statement's entry).
    let in_doubt: Vec<&str> = rows
        .iter()
        .filter(|r| r.ask_the_bank)
        .map(|r| r.workflow_id.as_str())
        .collect();
    let since = rows
        .iter()
        .filter(|r| r.ask_the_bank)
        .map(|r| r.started_at.clone())
        .min()
        .unwrap_or_default();
    let notices = super::statements::left_out_for(client, &in_doubt, &since).await?;
    for row in rows.iter_mut() {
        for notice in notices.iter().filter(|n| n.entry.target == row.workflow_id) {
            row.status
                .push_str(&format!(" {}.", notice.sentence_for("term")));
        }
    }
    Ok(rows)
}

/// A term's row in a payment history, and, for a term that closed without completing,
/// whether it charged (its history read, and the bank's answer when someone asked it).
async fn term_row(
    client: &Client,
    e: visibility::ListedExecution,
) -> (TermRun, Option<TermCharge>) {
    let standing = term_standing(&e.status);
    let mut charge = None;
    let mut ask_the_bank = false;
    let status = match e.status.as_str() {
        "RUNNING" | "COMPLETED" => standing.to_string(),
        _ => match closed_term(client, &e.workflow_id, &e.run_id).await {
            Ok(closed) => {
                charge = Some(closed.charge);
                ask_the_bank = closed.charge == TermCharge::InDoubt
                    && closed
                        .bank
                        .as_ref()
                        .is_none_or(|b| b.said != BankSaid::Asking);
                closed_standing(standing, &closed)
            }
            Err(error) => {
                tracing::debug!(run = ?e.workflow_id, %error, "a closed term's history could not be read");
                format!("{standing} (whether it charged could not be read)")
            }
        },
    };
    let row = TermRun {
        contract_id: e.attributes.get(&sa::CONTRACT_ID).unwrap_or_default(),
        workflow_id: e.workflow_id,
        status,
        started_at: e.start_time.map(rfc3339).unwrap_or_default(),
        ask_the_bank,
    };
    (row, charge)
}

/// Terms that closed without completing which the list of charges to confirm reads a
/// page (newest first), and pages at most: each such term paused its contract, so there
/// are few; after an outage, those the bank's answers settled stay the newest, and the
/// ones still in doubt lie behind them.
pub const UNCONFIRMED_TERMS_READ: i32 = 100;
pub const UNCONFIRMED_PAGES: usize = 5;
/// Charges to confirm the list shows at most.
pub const UNCONFIRMED_LISTED: usize = 100;

/// The terms of every contract whose charge is in doubt (no answer said whether the bank
/// took it, and nobody has asked the bank since, or it has not settled it), among those
/// that closed without completing in the last [`UNCONFIRMED_WINDOW_DAYS`]: finance's list
/// of charges to confirm. Visibility lists of [`UNCONFIRMED_TERMS_READ`] terms, page after
/// page (at most [`UNCONFIRMED_PAGES`]) until [`UNCONFIRMED_LISTED`] are in doubt, and one
/// history read per such term; the list says when there may be more.
pub async fn unconfirmed_charges(client: &Client) -> Result<UnconfirmedCharges, OpError> {
    unconfirmed_charges_reading(client, UNCONFIRMED_TERMS_READ, UNCONFIRMED_PAGES).await
}

/// [`unconfirmed_charges`], reading `read` terms a page, at most `pages` pages.
pub async fn unconfirmed_charges_reading(
    client: &Client,
    read: i32,
    pages: usize,
) -> Result<UnconfirmedCharges, OpError> {
    let since =
        SystemTime::now() - std::time::Duration::from_secs(UNCONFIRMED_WINDOW_DAYS * 86_400);
    let query = format!(
        "{} AND {} IS NOT NULL AND ExecutionStatus IN ('Failed', \
         'Terminated', 'TimedOut', 'Canceled') AND CloseTime >= '{}'",
        crate::temporal::names::on_our_queue(workflow_types::RECURRING_PAYMENT),
        sa::CONTRACT_ID.name(),
        rfc3339(since)
    );
    let mut terms: Vec<TermRun> = Vec::new();
    let mut token: Option<String> = None;
    let mut partial = false;
    for n in 1..=pages {
        let page = visibility::list_page(client, &query, read, token.as_deref(), None).await?;
        let in_doubt: Vec<TermRun> = futures::stream::iter(page.executions)
            .map(|e| term_row(client, e))
            .buffered(DESCRIBES_AT_ONCE)
            .filter_map(|(row, charge)| async move {
                (charge == Some(TermCharge::InDoubt)).then_some(row)
            })
            .collect()
            .await;
        terms.extend(in_doubt);
        if terms.len() >= UNCONFIRMED_LISTED {
            partial = page.next_page.is_some() || terms.len() > UNCONFIRMED_LISTED;
            terms.truncate(UNCONFIRMED_LISTED);
            break;
        }
        match page.next_page {
            Some(next) if n < pages => token = Some(next),
            Some(_) => partial = true,
            None => break,
        }
    }
    terms.sort_by(|a, b| b.started_at.cmp(&a.started_at));
    Ok(UnconfirmedCharges { terms, partial })
}

/// How long asking the bank waits for its answer before it answers "asked" (the term's row
/// shows the answer when it comes).
pub const ASK_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Asks the bank what became of the charge of `term_id`, a term of `contract_id` whose
/// charge had no answer, for `operator`; the bank's answer in a sentence. The question is
/// kept in Temporal (`charge_lookup`), and the term's row reads its answer from there.
pub async fn ask_the_bank(
    client: &Client,
    contract_id: &str,
    term_id: &str,
    operator: &str,
) -> Result<String, OpError> {
    counted(
        "ask_the_bank",
        async {
            let question = ChargeQuestion {
                contract_id: contract_id.to_string(),
                term_id: term_id.to_string(),
                operator: operator.to_string(),
                statement: None,
            };
            let handle = start_question(client, question).await?;
            match tokio::time::timeout(
                ASK_WAIT,
                handle.get_result(WorkflowGetResultOptions::default()),
            )
            .await
            {
                Ok(Ok(on_record)) => Ok(match on_record.charge_id {
                    Some(charge) => format!(
                        "The bank took charge {charge} under the term {term_id:?}'s key: the \
                         customer was charged."
                    ),
                    None => format!(
                        "The bank took no charge under the term {term_id:?}'s key: the customer \
                         was not charged."
                    ),
                }),
                Ok(Err(e)) => {
                    tracing::warn!(term_id, error = %e, "the bank was asked and did not answer");
                    Err(OpError::Rejected(
                        "the bank did not answer: ask again later".into(),
                    ))
                }
                Err(_) => Ok(
                    "The bank has not answered yet: the term's row shows its answer when it comes."
                        .into(),
                ),
            }
        }
        .await,
    )
}

/// A question to the bank, started.
type Asked = temporalio_client::WorkflowHandle<
    Client,
    <ChargeLookup as temporalio_common::HasWorkflowDefinition>::Run,
>;

/// Starts a question to the bank about a term in doubt, after the checks that make it one
/// worth asking (a term of that contract, stopped, in doubt, not asked already, and closed
/// long enough ago that no try of its charge is still on its way).
async fn start_question(client: &Client, question: ChargeQuestion) -> Result<Asked, OpError> {
    let (contract_id, term_id) = (question.contract_id.clone(), question.term_id.clone());
    let (contract_id, term_id) = (contract_id.as_str(), term_id.as_str());
    if let Some(why) = question.refusal() {
        return Err(OpError::Rejected(why));
    }
    let query = format!(
        "{} AND WorkflowId = '{term_id}' AND {} = '{contract_id}'",
        crate::temporal::names::on_our_queue(workflow_types::RECURRING_PAYMENT),
        sa::CONTRACT_ID.name()
    );
    let listed = visibility::list_page(client, &query, 1, None, None).await?;
    let Some(term) = listed.executions.into_iter().next() else {
        return Err(OpError::Rejected(format!(
            "the contract {contract_id:?} has no term {term_id:?}"
        )));
    };
    if term.status == "RUNNING" {
        return Err(OpError::Rejected(format!(
            "the term {term_id:?} is still charging: the bank is asked once it has stopped"
        )));
    }
    let closed = closed_term(client, term_id, &term.run_id).await?;
    if closed.charge != TermCharge::InDoubt {
        return Err(OpError::Rejected(format!(
            "the term {term_id:?} is not in doubt: its row says what it charged"
        )));
    }
    if let Some(bank) = closed.bank.as_ref().filter(|b| b.said == BankSaid::Asking) {
        return Err(OpError::Rejected(format!(
            "the bank is being asked already (asked by {})",
            bank.asked_by
        )));
    }
    let ready = closed
        .closed_at
        .map(|at| at + charge_lookup::SETTLED_AFTER)
        .and_then(|ready| ready.duration_since(SystemTime::now()).ok());
    if let Some(wait) = ready {
        return Err(OpError::Rejected(format!(
            "the term stopped moments ago, and a try at its charge may still reach the \
             bank: ask in {} seconds",
            wait.as_secs() + 1
        )));
    }
    let options = WorkflowStartOptions::new(
        task_queues::RECURRING_SCHEDULE,
        charge_lookup::workflow_id(term_id),
    )
    .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
    // A question of ours still open was refused above ("being asked already"); a
    // run that holds the id otherwise (started from outside, of another type or on
    // another queue) answers nothing and must not keep finance from asking.
    .id_conflict_policy(WorkflowIdConflictPolicy::TerminateExisting)
    // A question no worker takes up ends, so that it can be asked again.
    .execution_timeout(charge_lookup::QUESTION_TIMEOUT)
    .build();
    client
        .start_workflow(ChargeLookup::run, question, options)
        .await
        .map_err(|e| match e {
            WorkflowStartError::Rpc(status) => OpError::Temporal(status.into()),
            e => OpError::Temporal(TemporalError::client(e)),
        })
}

/// Asks the bank about every term on finance's list of charges to confirm, for `operator`,
/// if the list still holds the `expected` terms finance was shown (after an outage many
/// answers are lost at once). Each is its own question (`charge-lookup-<term>`), started
/// and not waited for: its answer lands on its row. A term that cannot be asked now (asked
/// already, or stopped moments ago) stays on the list with its button. Returns how many
/// questions it started.
pub async fn ask_about_every_unconfirmed(
    client: &Client,
    expected: usize,
    operator: &str,
) -> Result<usize, OpError> {
    counted(
        "ask_the_bank_all",
        async {
            crate::domain::input::validate_operator(operator)?;
            let list = unconfirmed_charges(client).await?;
            if list.terms.len() != expected {
                return Err(OpError::Rejected(format!(
                    "the list changed: {} charges wait to be confirmed now, not {expected}; \
                     look again before asking the bank",
                    list.terms.len()
                )));
            }
            let asked = futures::stream::iter(list.terms)
                .map(|term| async move {
                    let question = ChargeQuestion {
                        contract_id: term.contract_id.clone(),
                        term_id: term.workflow_id.clone(),
                        operator: operator.to_string(),
                        statement: None,
                    };
                    match start_question(client, question).await {
                        Ok(_) => true,
                        Err(error) => {
                            tracing::info!(term_id = term.workflow_id, %error, "a term not asked about");
                            false
                        }
                    }
                })
                .buffer_unordered(DESCRIBES_AT_ONCE)
                .filter(|asked| futures::future::ready(*asked))
                .count()
                .await;
            Ok(asked)
        }
        .await,
    )
}

/// A failed term's standing when it charged nothing: the bank refused the charge, or the
/// term check refused the term. Either pauses the contract, which its page says with the
/// reason until finance resumes it.
const NOT_CHARGED: &str = "not charged";

/// A term that closed without completing, in finance's words: whether the customer was
/// charged comes first, because a term that charged and then failed (its receipt refused)
/// or was stopped from outside took the money all the same, and one whose charge had no
/// answer may have: finance asks the bank ([`ask_the_bank`]), whose answer ends the row.
fn closed_standing(standing: &str, closed: &ClosedTerm) -> String {
    // A failed run's status reads "not charged"; once the money is known, "failed".
    let failed = standing == NOT_CHARGED;
    let ended = match closed.charge {
        TermCharge::NotCharged => standing,
        TermCharge::Charged | TermCharge::InDoubt if failed => "failed",
        TermCharge::Charged | TermCharge::InDoubt => standing,
    };
    let said = match closed.failure.as_deref().and_then(reason_shown) {
        Some(why) if failed => format!("{ended}: {why}"),
        _ => ended.to_string(),
    };
    let row = match closed.charge {
        TermCharge::NotCharged => said,
        TermCharge::Charged => format!("charged, then {said}"),
        TermCharge::InDoubt => format!("{CHARGE_IN_DOUBT}, then {said}."),
    };
    match (&closed.bank, closed.charge) {
        (Some(bank), _) => {
            let row = row.trim_end_matches('.');
            format!("{row}. {}", bank.sentence(closed.closed_at))
        }
        (None, TermCharge::InDoubt) => format!("{row} {ASK_THE_BANK}"),
        (None, _) => row,
    }
}

/// A term whose charge had no answer ([`TermCharge::InDoubt`]), as its row begins.
const CHARGE_IN_DOUBT: &str = "charge unconfirmed";
/// What finance does about it.
const ASK_THE_BANK: &str = "Ask the bank whether it charged before charging again.";

/// A failed term's reason as its row shows it: without the refusal's own prefix, at most
/// [`TERM_REASON_MAX_CHARS`]; `None` when it says nothing.
fn reason_shown(message: &str) -> Option<String> {
    let said = message.trim_start();
    let why = said
        .strip_prefix(TERM_REFUSED_PREFIX)
        .unwrap_or(said)
        .trim();
    let mut shown: String = why.chars().take(TERM_REASON_MAX_CHARS).collect();
    if why.chars().count() > TERM_REASON_MAX_CHARS {
        shown.push('…');
    }
    (!shown.is_empty()).then_some(shown)
}

/// The longest reason a failed term shows, in characters: a bank's answer can be long;
/// Temporal keeps all of it in the run's history.
const TERM_REASON_MAX_CHARS: usize = 300;

/// A term's standing in finance's words, from its run's status as visibility names it: a
/// run completes once its charge (and receipt) went through.
fn term_standing(status: &str) -> &str {
    match status {
        "RUNNING" => "charging",
        "COMPLETED" => "charged",
        "FAILED" => NOT_CHARGED,
        "TERMINATED" => "stopped",
        "CANCELED" => "cancelled",
        "TIMED_OUT" => "timed out",
        other => other,
    }
}

/// One page of contracts with their terms: the page, then a few describes at a time.
/// Contracts an export reads at most.
pub const MAX_EXPORT_CONTRACTS: usize = 10_000;

/// Every contract with its detail, for the CSV export (at most [`MAX_EXPORT_CONTRACTS`]).
pub async fn all_details(client: &Client) -> Result<Vec<ContractDetail>, OpError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = page_with_details(client, token.as_deref()).await?;
        out.extend(page.rows.into_iter().filter_map(|(_, detail)| detail));
        match page.next_page {
            Some(t) if out.len() < MAX_EXPORT_CONTRACTS => token = Some(t),
            _ => break,
        }
    }
    out.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok(out)
}

pub async fn page_with_details(
    client: &Client,
    page_token: Option<&str>,
) -> Result<ContractsPage, OpError> {
    let (contracts, next_page) = list_page(client, page_token).await?;
    // The page's latest recorded changes in one visibility list, not one per contract.
    let ids: Vec<&str> = contracts.iter().map(|c| c.contract_id.as_str()).collect();
    let mut latest = match contract_change::latest_of(client, &ids).await {
        Ok(latest) => Some(latest),
        Err(e) => {
            tracing::warn!(error = %e, "a page's latest contract changes could not be read");
            None
        }
    };
    let rows = futures::stream::iter(contracts)
        .map(|summary| {
            let known = match latest.as_mut() {
                None => Latest::Unreadable,
                Some(latest) => latest
                    .remove(&summary.contract_id)
                    .map_or(Latest::ReadHere, |l| Latest::Read(Box::new(l))),
            };
            async move {
                let detail = detail_knowing(client, &summary.contract_id, known)
                    .await
                    .ok();
                (summary, detail)
            }
        })
        .buffered(DESCRIBES_AT_ONCE)
        .collect()
        .await;
    Ok(ContractsPage { rows, next_page })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_terms_reason_reads_as_said_without_the_refusals_prefix_and_within_bounds() {
        assert_eq!(
            reason_shown(&format!(
                "{TERM_REFUSED_PREFIX}it comes 4 seconds after the term before it"
            ))
            .as_deref(),
            Some("it comes 4 seconds after the term before it")
        );
        // A bank's refusal, as its activity said it.
        assert_eq!(
            reason_shown("the bank refused the charge: card_declined").as_deref(),
            Some("the bank refused the charge: card_declined")
        );
        assert_eq!(reason_shown("  "), None);
        assert_eq!(reason_shown(TERM_REFUSED_PREFIX), None);
        let long = reason_shown(&"é".repeat(TERM_REASON_MAX_CHARS + 50)).unwrap_or_default();
        assert_eq!(long.chars().count(), TERM_REASON_MAX_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn a_closed_term_says_first_whether_it_charged() {
        let closed = |charged: bool, failure: Option<&str>| ClosedTerm {
            charge: match charged {
                true => TermCharge::Charged,
                false => TermCharge::NotCharged,
            },
            failure: failure.map(String::from),
            ..ClosedTerm::default()
        };
        let refused = "the bank refused the receipt (422): no address";
        assert_eq!(
            closed_standing(NOT_CHARGED, &closed(true, Some(refused))),
            format!("charged, then failed: {refused}")
        );
        assert_eq!(
            closed_standing(NOT_CHARGED, &closed(false, Some(refused))),
            format!("not charged: {refused}")
        );
        assert_eq!(
            closed_standing("stopped", &closed(true, None)),
            "charged, then stopped"
        );
        assert_eq!(closed_standing("stopped", &closed(false, None)), "stopped");
        assert_eq!(
            closed_standing(NOT_CHARGED, &closed(false, Some(" "))),
            NOT_CHARGED
        );
        // A charge with no answer: neither charged nor not.
        let in_doubt = |failure: Option<&str>| ClosedTerm {
            charge: TermCharge::InDoubt,
            failure: failure.map(String::from),
            ..ClosedTerm::default()
        };
        let timed_out = "activity StartToClose timeout";
        assert_eq!(
            closed_standing(NOT_CHARGED, &in_doubt(Some(timed_out))),
            format!("charge unconfirmed, then failed: {timed_out}. {ASK_THE_BANK}")
        );
        assert_eq!(
            closed_standing("stopped", &in_doubt(None)),
            format!("charge unconfirmed, then stopped. {ASK_THE_BANK}")
        );
        // Once the bank is asked, its answer ends the row, and settles the charge when it
        // can: `closed_term` sets the charge from it.
        let closed_at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let asked = |charge: TermCharge, said: BankSaid| ClosedTerm {
            charge,
            closed_at: Some(closed_at),
            bank: Some(charge_lookup::BankAnswer {
                asked_by: "fin".into(),
                asked_at: closed_at + charge_lookup::SETTLED_AFTER,
                said,
            }),
            ..ClosedTerm::default()
        };
        let at = "(asked by fin, 1970-01-12 13:46 UTC)";
        assert_eq!(
            closed_standing(
                "stopped",
                &asked(TermCharge::Charged, BankSaid::Charged("ch_000007".into()))
            ),
            format!("charged, then stopped. The bank took charge ch_000007 under its key {at}.")
        );
        assert_eq!(
            closed_standing(
                NOT_CHARGED,
                &asked(TermCharge::NotCharged, BankSaid::NoCharge)
            ),
            format!("not charged. The bank took no charge under its key {at}.")
        );
        assert_eq!(
            closed_standing("stopped", &asked(TermCharge::InDoubt, BankSaid::NoAnswer)),
            format!("charge unconfirmed, then stopped. The bank did not answer {at}: ask again.")
        );
    }
}
