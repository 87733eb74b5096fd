//! The check each term of a recurring contract makes before it charges. The console and
//! our CLI hold a new contract to its rules (`domain::contract_rules`), but a schedule can
//! be made, and a RecurringPayment started, by any client with access to the namespace
//! (Temporal's CLI, an SDK script). So a term asks Temporal, through this activity,
//! whether its contract's own schedule started it, and holds that schedule to the same
//! rules, with the bounds in force when it charges. A schedule can be paused, resumed or
//! changed the same way, so the term also holds its schedule to the state the contract's
//! latest recorded change left it in (`contract_change::latest`): a contract charges only
//! in a state its audit trail accounts for. Only then does it charge.

use serde::{Deserialize, Serialize};
use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};
use temporalio_client::tonic::Code;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::{
    ActivityOptions,
    activities::{ActivityContext, ActivityError},
};

use crate::{
    domain::contract::{Cadence, ContractLimits, ContractTerms, NewContract},
    domain::contract_rules::{check_term, repeats_the_term_before},
    temporal::{
        histories,
        names::{task_queues, workflow_types},
        schedules, search_attributes as sa, visibility,
    },
    upstream::activities::{UpstreamActivities, error_types},
    workflows::charge_lookup::{self, BankAnswer},
    workflows::contract_change::{self, ContractChangeRecord, ContractState, TERM_CHECK_ACTOR},
};
use temporalio_common::protos::temporal::api::{
    failure::v1::{Failure, failure::FailureInfo},
    history::v1::{HistoryEvent, history_event::Attributes},
    workflowservice::v1::DescribeScheduleResponse,
};

/// The check's activity type, as histories record it (the `#[activity]` below spells the
/// same: the macro takes a literal).
pub const CHECK_ACTIVITY: &str = "CheckContractTerm";

/// How long the check waits for the schedule to record the run it started (it records a
/// start just after making it); a run it has not recorded by then was not its.
pub const SCHEDULE_RECORD_WAIT: Duration = Duration::from_secs(10);
const SCHEDULE_RECORD_POLL: Duration = Duration::from_millis(250);

/// What the check answers a term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermVerdict {
    /// The contract's own schedule started this run: it is one of the contract's terms.
    pub from_schedule: bool,
    /// Why the term must not charge, in finance's words; `None` to charge.
    pub refused: Option<String>,
}

impl TermVerdict {
    fn refused(from_schedule: bool, why: impl Into<String>) -> Self {
        TermVerdict {
            from_schedule,
            refused: Some(why.into()),
        }
    }
}

/// Holds terms to their contract's schedule and to the bounds in force.
pub struct ContractActivities {
    limits: ContractLimits,
}

impl ContractActivities {
    pub fn new(limits: ContractLimits) -> Self {
        ContractActivities { limits }
    }
}

#[activities]
impl ContractActivities {
    /// Whether the term that runs this check may charge. Temporal being away is retried;
    /// a schedule that cannot be found, or that did not start this run, is a refusal.
    #[activity(name = "CheckContractTerm")]
    pub async fn check(
        self: Arc<Self>,
        ctx: ActivityContext,
        terms: ContractTerms,
    ) -> Result<TermVerdict, ActivityError> {
        let info = ctx.info();
        let (Some(workflow_id), Some(run_id)) =
            (info.workflow_id.clone(), info.workflow_run_id.clone())
        else {
            return Ok(TermVerdict::refused(false, "no workflow asked"));
        };
        let client = ctx.client();
        let contract_id = &terms.contract_id;
        let waited_until = Instant::now() + SCHEDULE_RECORD_WAIT;
        loop {
            let described = match schedules::describe(&client, contract_id).await {
                Ok(described) => described,
                Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                    tracing::warn!(
                        contract_id,
                        workflow_id,
                        "a term named a contract with no schedule"
                    );
                    return Ok(TermVerdict::refused(
                        false,
                        format!(
                            "the contract {contract_id:?} has no schedule: a term is charged only \
                             when its contract's schedule starts it"
                        ),
                    ));
                }
                Err(status) => return Err(unavailable(status)),
            };
            match judge(&described, &workflow_id, &run_id, &terms, &self.limits) {
                None if Instant::now() < waited_until => {
                    tokio::time::sleep(SCHEDULE_RECORD_POLL).await;
                }
                None => {
                    tracing::warn!(
                        contract_id,
                        workflow_id,
                        "a term its contract's schedule did not start"
                    );
                    return Ok(TermVerdict::refused(
                        false,
                        format!(
                            "this run was not started by the contract {contract_id:?}'s \
                             schedule: a term is charged only when its schedule starts it"
                        ),
                    ));
                }
                Some(mut verdict) => {
                    if verdict.refused.is_none() {
                        let latest = contract_change::latest(&client, contract_id)
                            .await
                            .map_err(unavailable)?;
                        let now = ContractState::of(terms.clone(), &described);
                        if let Some(why) = latest.refusal(schedules::note(&described), now.as_ref())
                        {
                            // A change writes its schedule's note, then its record: the
                            // record is given the same time to follow.
                            if Instant::now() < waited_until {
                                tokio::time::sleep(SCHEDULE_RECORD_POLL).await;
                                continue;
                            }
                            verdict = TermVerdict::refused(true, why);
                        } else if let Some(made) = latest
                            .record()
                            .and_then(|r| r.contract.as_ref())
                            .filter(|made| made.total_terms > 0)
                        {
                            let limit = u64::from(made.total_terms);
                            let charged = charged_terms(&client, contract_id, limit)
                                .await
                                .map_err(unavailable)?;
                            if charged >= limit {
                                verdict = TermVerdict::refused(
                                    true,
                                    format!(
                                        "it has charged all {} of its terms (a term limit raised \
                                         outside the console charges no more)",
                                        made.total_terms
                                    ),
                                );
                            }
                        }
                    }
                    if let Some(why) = verdict.refused.as_deref() {
                        tracing::warn!(contract_id, workflow_id, why, "a term was refused");
                        pause(&client, contract_id, described, why, &run_id).await;
                    }
                    return Ok(verdict);
                }
            }
        }
    }
}

/// How many terms of the contract charged the customer: every completed term, and every
/// term that closed otherwise after its charge went through (a receipt the bank refused,
/// a run stopped from outside) or may have ([`TermCharge::InDoubt`]), as its history
/// says. Histories are read only when those terms could reach `limit`, at most
/// [`UNFINISHED_TERMS_READ`] of them; any beyond are counted as charged, so that a doubt
/// refuses a term rather than charge one too many.
pub async fn charged_terms(
    client: &temporalio_client::Client,
    contract_id: &str,
    limit: u64,
) -> Result<u64, crate::temporal::TemporalError> {
    let of_contract = format!(
        "{} AND {} = '{contract_id}'",
        crate::temporal::names::on_our_queue(workflow_types::RECURRING_PAYMENT),
        sa::CONTRACT_ID.name()
    );
    let completed = visibility::count(
        client,
        &format!("{of_contract} AND ExecutionStatus = 'Completed'"),
    )
    .await? as u64;
    if completed >= limit {
        return Ok(completed);
    }
    let unfinished_query = format!(
        "{of_contract} AND ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut', 'Canceled')"
    );
    let unfinished = visibility::count(client, &unfinished_query).await? as u64;
    if completed + unfinished < limit {
        return Ok(completed);
    }
    let page = visibility::list_page(
        client,
        &unfinished_query,
        UNFINISHED_TERMS_READ as i32,
        None,
        None,
    )
    .await?;
    let read = page.executions.len() as u64;
    let mut charged = completed + unfinished.saturating_sub(read);
    for run in &page.executions {
        if closed_term(client, &run.workflow_id, &run.run_id)
            .await?
            .charge
            .may_have_charged()
        {
            charged += 1;
        }
    }
    Ok(charged)
}

/// The most closed, uncompleted terms of one contract whose histories a term check reads
/// to learn whether they charged (each such term paused its contract until finance
/// resumed it, so a contract rarely has more).
pub const UNFINISHED_TERMS_READ: usize = 50;

/// Whether a closed term charged the customer, as its history tells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TermCharge {
    /// It never charged: no charge was asked for (the term check refused it), or the bank
    /// refused the charge. The charge's idempotency key is the term's own, so a bank that
    /// had taken an earlier try would have answered a later one with that charge.
    #[default]
    NotCharged,
    /// The bank answered the charge activity with a charge.
    Charged,
    /// A charge was asked for and no answer says what became of it: its tries ran out on
    /// timeouts or errors, or the run was stopped while it was charging. The bank may have
    /// taken it; only the bank can say.
    InDoubt,
}

impl TermCharge {
    /// Whether the customer may have been charged: counted among a contract's terms.
    pub fn may_have_charged(self) -> bool {
        self != TermCharge::NotCharged
    }
}

/// What a closed term's history says of its money.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClosedTerm {
    /// Whether its charge went through.
    pub charge: TermCharge,
    /// The innermost cause of the failure the run closed with (the bank's refusal under
    /// the activity's, or the term check's sentence); `None` if it did not fail.
    pub failure: Option<String>,
    /// When it closed (its last event).
    pub closed_at: Option<SystemTime>,
    /// The bank's latest answer about a charge that had no answer (`charge_lookup`), once
    /// someone asked; when it settles the charge, `charge` is what it says.
    pub bank: Option<BankAnswer>,
    /// The terms it was started with (its amount and contract), as its history records.
    pub terms: Option<ContractTerms>,
}

/// Reads a closed term's history (a few dozen events) and, when its charge had no answer,
/// the bank's latest answer about it: one more read, once someone asked.
pub async fn closed_term(
    client: &temporalio_client::Client,
    workflow_id: &str,
    run_id: &str,
) -> Result<ClosedTerm, crate::temporal::TemporalError> {
    let events = histories::events(client, workflow_id, run_id, histories::Events::Every).await?;
    let mut closed = closed_term_of(&events);
    if closed.charge == TermCharge::InDoubt {
        closed.bank = charge_lookup::latest_answer(client, workflow_id).await?;
        match closed
            .bank
            .as_ref()
            .and_then(|b| b.settles(closed.closed_at))
        {
            Some(true) => closed.charge = TermCharge::Charged,
            Some(false) => closed.charge = TermCharge::NotCharged,
            None => {}
        }
    }
    Ok(closed)
}

/// [`closed_term`] from the events read.
pub fn closed_term_of(events: &[HistoryEvent]) -> ClosedTerm {
    let charge = UpstreamActivities::charge.name();
    let mut charges_scheduled = Vec::new();
    let mut refused = 0;
    let mut closed = ClosedTerm::default();
    for event in events {
        if let Some(at) = &event.event_time {
            closed.closed_at = Some(crate::temporal::schedules::system_time(at));
        }
        match &event.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                closed.terms = a
                    .input
                    .as_ref()
                    .and_then(|p| p.payloads.first())
                    .and_then(|p| serde_json::from_slice(&p.data).ok());
            }
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type.as_ref().is_some_and(|t| t.name == charge) =>
            {
                charges_scheduled.push(event.event_id);
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(a))
                if charges_scheduled.contains(&a.scheduled_event_id) =>
            {
                closed.charge = TermCharge::Charged;
            }
            Some(Attributes::ActivityTaskFailedEventAttributes(a))
                if charges_scheduled.contains(&a.scheduled_event_id)
                    && a.failure.as_ref().is_some_and(bank_refused) =>
            {
                refused += 1;
            }
            Some(Attributes::WorkflowExecutionFailedEventAttributes(a)) => {
                closed.failure = a.failure.as_ref().map(|failure| {
                    let mut innermost = failure;
                    while let Some(cause) = innermost.cause.as_deref() {
                        innermost = cause;
                    }
                    innermost.message.clone()
                });
            }
            _ => {}
        }
    }
    if closed.charge == TermCharge::NotCharged && charges_scheduled.len() > refused {
        closed.charge = TermCharge::InDoubt;
    }
    closed
}

/// Whether an activity's failure is the bank's refusal (or a request that could not be
/// sent): the one answer after which no try of it charged.
fn bank_refused(failure: &Failure) -> bool {
    let mut next = Some(failure);
    while let Some(failure) = next {
        if let Some(FailureInfo::ApplicationFailureInfo(info)) = &failure.failure_info {
            return info.r#type == error_types::REJECTED;
        }
        next = failure.cause.as_deref();
    }
    false
}

/// Temporal could not be asked: the check is tried again.
fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(error)
            .type_name("term_check_unavailable".to_string())
            .build(),
    )
}

/// Pauses a schedule whose term was refused, saying why on the contract's page. Best
/// effort: the term is refused either way, and a contract made here pauses on the failed
/// term too (`pause_on_failure`).
/// The change is recorded in the contract's trail under [`TERM_CHECK_ACTOR`], once per
/// refused term (`run_id`).
async fn pause(
    client: &temporalio_client::Client,
    contract_id: &str,
    described: DescribeScheduleResponse,
    why: &str,
    run_id: &str,
) {
    // The pause carries on what the contract's latest change recorded it charges (never
    // what a refused term's schedule says).
    let carried = match contract_change::latest(client, contract_id).await {
        Ok(latest) => latest.record().and_then(|r| r.contract.clone()),
        Err(e) => {
            tracing::warn!(contract_id, error = %e, "a contract's latest change could not be read");
            None
        }
    };
    let change = ContractChangeRecord {
        contract_id: contract_id.to_string(),
        action: "paused".into(),
        operator: TERM_CHECK_ACTOR.into(),
        reason: format!("a term was refused: {why}"),
        origin: temporalio_client::NamespacedClient::identity(client),
        contract: carried,
    };
    // `paused: a term was refused: …`, which confirms the record.
    let note = change.note();
    let changed = schedules::change_state(client, contract_id, described, |state| {
        state.paused = true;
        state.notes = note;
    })
    .await;
    if let Err(status) = changed {
        tracing::warn!(contract_id, error = %status, "a refused term could not pause its schedule");
    }
    if let Err(e) = contract_change::record(client, change, &format!("refused-{run_id}")).await {
        tracing::error!(contract_id, error = %e, "a refused term's pause was not recorded");
    }
}

/// The least grace a term has to start after it was due, whatever the bounds: the
/// scheduler starts a term within a second or two, and a few minutes cover a restart.
pub const LATE_TERM_GRACE_SECS: i64 = 300;

/// How late a term may start after it was due: the shortest time between two charges, or
/// [`LATE_TERM_GRACE_SECS`] if that is longer. Later than that, it is a term the contract
/// did not charge when due (paused, or Temporal away) started afterwards: refused, as
/// finance would not charge a missed term without deciding to.
/// A contract's schedule skips such terms itself (its catch-up window, set to this).
pub fn late_term_grace(limits: &ContractLimits) -> i64 {
    i64::try_from(limits.min_interval_secs)
        .unwrap_or(i64::MAX)
        .max(LATE_TERM_GRACE_SECS)
}

/// The verdict on the run `workflow_id`/`run_id` of the contract `described` is the
/// schedule of, or `None` while the schedule has not recorded starting it.
pub fn judge(
    described: &DescribeScheduleResponse,
    workflow_id: &str,
    run_id: &str,
    terms: &ContractTerms,
    limits: &ContractLimits,
) -> Option<TermVerdict> {
    let actions = described
        .info
        .as_ref()
        .map(|i| i.recent_actions.as_slice())
        .unwrap_or_default();
    let due = |a: &temporalio_common::protos::temporal::api::schedule::v1::ScheduleActionResult| {
        a.schedule_time.as_ref().map_or(0, |t| t.seconds)
    };
    let this = actions.iter().find(|a| {
        a.start_workflow_result
            .as_ref()
            .is_some_and(|r| r.workflow_id == workflow_id && r.run_id == run_id)
    })?;
    let spec = described
        .schedule
        .as_ref()
        .and_then(|s| s.spec.clone())
        .unwrap_or_default();
    let (cadence, time_zone) = match schedules::contract_cadence(&spec) {
        Ok(read) => read,
        Err(why) => return Some(TermVerdict::refused(true, format!("its schedule: {why}"))),
    };
    let contract = NewContract {
        terms: terms.clone(),
        cadence: cadence.clone(),
        time_zone: time_zone.clone(),
        total_terms: 0,
    };
    if let Err(e) = check_term(&contract, limits) {
        return Some(TermVerdict::refused(true, e.to_string()));
    }
    let at = due(this);
    let started = this.actual_time.as_ref().map_or(at, |t| t.seconds);
    let grace = late_term_grace(limits);
    if started - at > grace {
        return Some(TermVerdict::refused(
            true,
            format!(
                "it was started {} seconds after it was due (a backfill, or a catch-up after an \
                 outage); a term starts at most {grace} seconds late",
                started - at
            ),
        ));
    }
    let before = actions
        .iter()
        .filter(|a| !std::ptr::eq(*a, this))
        .map(due)
        .filter(|t| *t <= at)
        .max();
    if let Some(before) = before {
        let floor = i64::try_from(limits.min_interval_secs.max(1)).unwrap_or(i64::MAX);
        if at - before < floor {
            return Some(TermVerdict::refused(
                true,
                format!(
                    "it comes {} seconds after the term before it; the least time between two \
                     charges is {floor} seconds",
                    at - before
                ),
            ));
        }
        if let (Cadence::Cron { expression }, Ok(zone)) =
            (&cadence, time_zone.parse::<chrono_tz::Tz>())
            && repeats_the_term_before(expression, zone, before, at)
        {
            return Some(TermVerdict::refused(
                true,
                format!(
                    "it comes at the same time of day as the term an hour before it, in an hour \
                     {zone} passes twice when its clocks go back: the customer was charged then"
                ),
            ));
        }
    }
    Some(TermVerdict {
        from_schedule: true,
        refused: None,
    })
}

/// How long one attempt at the check may take, the wait for the schedule's record
/// included.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Options for the check: on the recurring queue, where the contracts' workers run.
pub fn check_options(activity_id: String) -> ActivityOptions {
    super::temporal_check_options(task_queues::RECURRING_SCHEDULE, CHECK_TIMEOUT, activity_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_wkt_types::Timestamp;
    use temporalio_common::protos::temporal::api::{
        common::v1::WorkflowExecution,
        schedule::v1::{Schedule, ScheduleActionResult, ScheduleInfo, ScheduleSpec},
    };

    /// 2027-11-07 01:30 EDT (05:30 UTC); 01:30 EST comes an hour later.
    const EDT: i64 = 1_825_565_400;
    const EST: i64 = EDT + 3_600;
    const DAY: i64 = 86_400;

    fn action(id: &str, due: i64, started: i64) -> ScheduleActionResult {
        ScheduleActionResult {
            schedule_time: Some(Timestamp {
                seconds: due,
                nanos: 0,
            }),
            actual_time: Some(Timestamp {
                seconds: started,
                nanos: 0,
            }),
            start_workflow_result: Some(WorkflowExecution {
                workflow_id: id.into(),
                run_id: format!("run-{id}"),
            }),
            ..Default::default()
        }
    }

    fn described(
        spec: ScheduleSpec,
        actions: Vec<ScheduleActionResult>,
    ) -> DescribeScheduleResponse {
        DescribeScheduleResponse {
            schedule: Some(Schedule {
                spec: Some(spec),
                ..Default::default()
            }),
            info: Some(ScheduleInfo {
                recent_actions: actions,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn daily_in_new_york() -> ScheduleSpec {
        ScheduleSpec {
            cron_string: vec!["30 1 * * *".into()],
            timezone_name: "America/New_York".into(),
            ..Default::default()
        }
    }

    fn verdict(of: &DescribeScheduleResponse, id: &str, amount_cents: i64) -> Option<TermVerdict> {
        let terms = ContractTerms {
            contract_id: "C-1".into(),
            customer: "ana".into(),
            plan: "daily".into(),
            amount_cents,
            currency: "USD".into(),
            until_cancelled: Some(true),
        };
        judge(
            of,
            id,
            &format!("run-{id}"),
            &terms,
            &ContractLimits::default(),
        )
    }

    fn refusal(of: &DescribeScheduleResponse, id: &str) -> String {
        let v = verdict(of, id, 999).expect("recorded");
        assert!(v.from_schedule, "{v:?}");
        v.refused.unwrap_or_default()
    }

    #[test]
    fn a_term_is_held_to_its_schedule_the_rules_and_the_term_before_it() {
        let days = described(
            daily_in_new_york(),
            vec![
                action("t1", EDT - DAY, EDT - DAY),
                action("t2", EDT, EDT + 1),
                action("t3", EST, EST + 1),
                action("t4", EST + DAY, EST + DAY + 2),
            ],
        );
        // A run the schedule has not recorded (yet, or ever) gets no verdict here.
        assert_eq!(verdict(&days, "forged", 999), None);
        for charged in ["t1", "t2", "t4"] {
            assert_eq!(refusal(&days, charged), "", "{charged}");
        }
        // 01:30 EST after 01:30 EDT: the same minute on the wall, an hour apart.
        assert!(refusal(&days, "t3").contains("passes twice"));
        // Above the bound, for any term.
        let huge = verdict(&days, "t1", 100_000_000).and_then(|v| v.refused);
        assert!(huge.is_some_and(|why| why.contains("at most 10000 USD")));
        // Seconds apart (a second trigger), and hours late (a backfill).
        let triggered = described(
            daily_in_new_york(),
            vec![action("a", EDT, EDT), action("b", EDT + 5, EDT + 5)],
        );
        assert!(refusal(&triggered, "b").contains("5 seconds after the term before it"));
        let backfilled = described(daily_in_new_york(), vec![action("late", EDT, EDT + 3_601)]);
        assert!(refusal(&backfilled, "late").contains("3601 seconds after it was due"));
        // A schedule no contract could have.
        let every_second = ScheduleSpec {
            cron_string: vec!["* * * * *".into()],
            ..Default::default()
        };
        let fast = described(every_second, vec![action("f", EDT, EDT)]);
        assert!(refusal(&fast, "f").contains("at least 3600 seconds"));
    }

    #[test]
    fn a_closed_term_charged_only_if_its_charge_activity_completed_and_not_if_the_bank_refused() {
        use temporalio_common::protos::temporal::api::{
            common::v1::ActivityType,
            failure::v1::ApplicationFailureInfo,
            history::v1::{
                ActivityTaskCompletedEventAttributes, ActivityTaskFailedEventAttributes,
                ActivityTaskScheduledEventAttributes, ActivityTaskTimedOutEventAttributes,
                WorkflowExecutionFailedEventAttributes,
            },
        };
        let scheduled = |id: i64, name: &str| HistoryEvent {
            event_id: id,
            attributes: Some(Attributes::ActivityTaskScheduledEventAttributes(
                ActivityTaskScheduledEventAttributes {
                    activity_type: Some(ActivityType { name: name.into() }),
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        let completed = |id: i64, of: i64| HistoryEvent {
            event_id: id,
            attributes: Some(Attributes::ActivityTaskCompletedEventAttributes(
                ActivityTaskCompletedEventAttributes {
                    scheduled_event_id: of,
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        let failed = HistoryEvent {
            event_id: 9,
            attributes: Some(Attributes::WorkflowExecutionFailedEventAttributes(
                WorkflowExecutionFailedEventAttributes {
                    failure: Some(Failure {
                        message: "activity failed".into(),
                        cause: Some(Box::new(Failure {
                            message: "the bank refused the receipt".into(),
                            ..Default::default()
                        })),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        // The check completed, the charge completed, the receipt failed: charged.
        let receipt_refused = [
            scheduled(1, CHECK_ACTIVITY),
            completed(2, 1),
            scheduled(3, "ChargeTerm"),
            completed(4, 3),
            scheduled(5, "SendReceipt"),
            failed.clone(),
        ];
        assert_eq!(
            closed_term_of(&receipt_refused),
            ClosedTerm {
                charge: TermCharge::Charged,
                failure: Some("the bank refused the receipt".into()),
                ..ClosedTerm::default()
            }
        );
        let charge_failed = |of: i64, kind: &str| HistoryEvent {
            event_id: 4,
            attributes: Some(Attributes::ActivityTaskFailedEventAttributes(
                ActivityTaskFailedEventAttributes {
                    scheduled_event_id: of,
                    failure: Some(Failure {
                        message: "the bank answered".into(),
                        failure_info: Some(FailureInfo::ApplicationFailureInfo(
                            ApplicationFailureInfo {
                                r#type: kind.into(),
                                ..Default::default()
                            },
                        )),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        let charge_closed = |last: HistoryEvent| {
            closed_term_of(&[
                scheduled(1, CHECK_ACTIVITY),
                completed(2, 1),
                scheduled(3, "ChargeTerm"),
                last,
                failed.clone(),
            ])
            .charge
        };
        // The bank refused the charge: not charged.
        assert_eq!(
            charge_closed(charge_failed(3, error_types::REJECTED)),
            TermCharge::NotCharged
        );
        // Its tries ran out on errors or a timeout: it may have charged.
        assert_eq!(
            charge_closed(charge_failed(3, "http_503")),
            TermCharge::InDoubt
        );
        let timed_out = HistoryEvent {
            event_id: 4,
            attributes: Some(Attributes::ActivityTaskTimedOutEventAttributes(
                ActivityTaskTimedOutEventAttributes {
                    scheduled_event_id: 3,
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        assert_eq!(charge_closed(timed_out), TermCharge::InDoubt);
        // Stopped while it was charging (no answer at all): it may have charged.
        let stopped = closed_term_of(&[
            scheduled(1, CHECK_ACTIVITY),
            completed(2, 1),
            scheduled(3, "ChargeTerm"),
        ]);
        assert_eq!(stopped.charge, TermCharge::InDoubt);
        // The term check refused it: no charge was asked for.
        let refused_by_check =
            closed_term_of(&[scheduled(1, CHECK_ACTIVITY), completed(2, 1), failed]);
        assert_eq!(refused_by_check.charge, TermCharge::NotCharged);
        assert!(
            TermCharge::InDoubt.may_have_charged() && !TermCharge::NotCharged.may_have_charged()
        );
        assert_eq!(UpstreamActivities::charge.name(), "ChargeTerm");
    }
}
