//! Recurring contracts as Temporal Schedules: create, read, cancel.
//! The schedule id is the contract id; Temporal holds every fact about it.

use futures::StreamExt;
use std::time::{Duration, SystemTime};
use temporalio_client::{
    Client, RpcOptions,
    schedules::{
        CreateScheduleOptions, ListSchedulesOptions, ScheduleAction, ScheduleError,
        ScheduleOverlapPolicy, ScheduleSpec,
    },
    tonic::Code,
};

use super::{Missing, OpError};
use crate::{
    contracts::{
        Cadence, ContractDetail, ContractSummary, ContractTerms, NewContract, TermRun,
        validate_cancellation,
    },
    format::{rfc3339, waited},
    orders::{InputError, validate_operator, validate_order_id},
    temporal::{search_attributes as sa, task_queues, visibility, workflow_types},
    workflows::recurring_payment::RecurringPayment,
};

/// The note a cancelled contract's schedule carries.
pub const CANCELLED_NOTE_PREFIX: &str = "cancelled";
/// Next charges shown in a contract's detail, and in the list.
pub const NEXT_CHARGES_SHOWN: usize = 5;
pub const NEXT_CHARGES_LISTED: usize = 3;
/// Term runs shown on a contract's page, newest first.
pub const TERMS_SHOWN: i32 = 100;
/// Contracts described at once when the list shows their terms.
const DESCRIBES_AT_ONCE: usize = 8;

fn schedule_error(contract_id: &str, e: ScheduleError) -> OpError {
    match e {
        ScheduleError::Rpc(status) if status.code() == Code::NotFound => {
            OpError::NotFound(Missing::Contract(contract_id.into()))
        }
        ScheduleError::Rpc(status) if status.code() == Code::AlreadyExists => {
            OpError::AlreadyExists(contract_id.into())
        }
        other => OpError::temporal(other),
    }
}

/// The contract's own checks plus its time zone, which needs the server's tz database.
pub fn check(contract: &NewContract) -> Result<(), InputError> {
    contract.validate()?;
    if contract.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(InputError::Other(format!(
            "{:?} is not an IANA time zone: use a name such as Asia/Shanghai or Europe/Berlin",
            contract.time_zone
        )));
    }
    Ok(())
}

/// Creates the contract's schedule. It is created paused and unpaused together with its
/// term limit, so no term can run before the limit is in place.
pub async fn create(client: &Client, contract: NewContract) -> Result<Vec<String>, OpError> {
    check(&contract)?;
    let id = contract.terms.contract_id.clone();
    let mut spec = match &contract.cadence {
        Cadence::Every { seconds } => ScheduleSpec::from_interval(Duration::from_secs(*seconds)),
        Cadence::Cron { expression } => ScheduleSpec::builder()
            .cron_strings(vec![expression.clone()])
            .build(),
    };
    spec.timezone_name = contract.time_zone.clone();
    let handle = client
        .create_schedule(
            id.clone(),
            CreateScheduleOptions::builder()
                .action(ScheduleAction::start_workflow(
                    RecurringPayment::run,
                    contract.terms.clone(),
                    task_queues::RECURRING_SCHEDULE,
                    format!("recurring-{id}"),
                ))
                .spec(spec)
                .overlap_policy(ScheduleOverlapPolicy::Skip)
                .paused(true)
                .note("creating")
                .build(),
        )
        .await
        .map_err(|e| schedule_error(&id, e))?;
    let terms = contract.total_terms;
    handle
        .update(
            move |update| {
                if terms > 0 {
                    update.set_remaining_actions(Some(terms as i64));
                }
                update.set_paused(false).set_note("");
            },
            RpcOptions::default(),
        )
        .await
        .map_err(|e| schedule_error(&id, e))?;
    let description = handle
        .describe(Default::default())
        .await
        .map_err(|e| schedule_error(&id, e))?;
    Ok(description
        .future_action_times()
        .into_iter()
        .take(NEXT_CHARGES_SHOWN)
        .map(rfc3339)
        .collect())
}

/// Cancels a contract: no further terms run. The schedule stays, paused, so its history
/// can still be read; its note says who cancelled it and why.
pub async fn cancel(
    client: &Client,
    contract_id: &str,
    operator: &str,
    reason: &str,
) -> Result<(), OpError> {
    validate_cancellation(contract_id, operator, reason)?;
    let handle = client.get_schedule_handle(contract_id);
    let description = handle
        .describe(Default::default())
        .await
        .map_err(|e| schedule_error(contract_id, e))?;
    if description
        .note()
        .is_some_and(|n| n.starts_with(CANCELLED_NOTE_PREFIX))
    {
        return Err(OpError::AlreadyCancelled(contract_id.into()));
    }
    let note = format!("{CANCELLED_NOTE_PREFIX} by {operator}: {reason}");
    handle
        .update(
            move |update| {
                update
                    .set_paused(true)
                    .set_note(note)
                    .set_remaining_actions(Some(0));
            },
            RpcOptions::default(),
        )
        .await
        .map_err(|e| schedule_error(contract_id, e))
}

pub async fn list(client: &Client) -> Result<Vec<ContractSummary>, OpError> {
    let mut stream = client.list_schedules(ListSchedulesOptions::default());
    let mut out = Vec::new();
    while let Some(entry) = stream.next().await {
        let entry = entry.map_err(OpError::temporal)?;
        let note = entry.note().unwrap_or_default().to_string();
        out.push(ContractSummary {
            contract_id: entry.schedule_id().to_string(),
            paused: entry.paused(),
            cancelled: note.starts_with(CANCELLED_NOTE_PREFIX),
            note,
            next_charges: entry
                .future_action_times()
                .into_iter()
                .take(NEXT_CHARGES_LISTED)
                .map(|t: SystemTime| rfc3339(t))
                .collect(),
        });
    }
    out.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok(out)
}

pub async fn detail(client: &Client, contract_id: &str) -> Result<ContractDetail, OpError> {
    validate_order_id(contract_id)?;
    let description = client
        .get_schedule_handle(contract_id)
        .describe(Default::default())
        .await
        .map_err(|e| schedule_error(contract_id, e))?;
    let terms = match description.action() {
        temporalio_client::schedules::ScheduleDescriptionAction::StartWorkflow(a) => {
            a.args::<ContractTerms>().await.ok().flatten()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    };
    let raw = description.raw();
    let schedule = raw.schedule.as_ref();
    let spec = schedule.and_then(|s| s.spec.as_ref());
    let cadence = spec
        .map(|s| {
            let intervals = s
                .interval
                .iter()
                .filter_map(|i| i.interval.as_ref())
                .map(|d| format!("every {}", waited(d.seconds)));
            let crons = s.cron_string.iter().map(|c| format!("cron {c}"));
            let calendars = s.structured_calendar.iter().map(|_| "calendar".to_string());
            intervals
                .chain(crons)
                .chain(calendars)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let state = schedule.and_then(|s| s.state.as_ref());
    let note = description.note().unwrap_or_default().to_string();
    Ok(ContractDetail {
        contract_id: contract_id.to_string(),
        terms,
        cadence,
        time_zone: spec.map(|s| s.timezone_name.clone()).unwrap_or_default(),
        paused: description.paused(),
        cancelled: note.starts_with(CANCELLED_NOTE_PREFIX),
        note,
        terms_left: state
            .filter(|s| s.limited_actions)
            .map(|s| s.remaining_actions),
        charges_started: description.action_count(),
        next_charges: description
            .future_action_times()
            .into_iter()
            .take(NEXT_CHARGES_SHOWN)
            .map(rfc3339)
            .collect(),
    })
}

/// Pauses (`pause = true`) or resumes a contract; the note records who and why.
pub async fn set_paused(
    client: &Client,
    contract_id: &str,
    operator: &str,
    reason: &str,
    pause: bool,
) -> Result<(), OpError> {
    validate_order_id(contract_id)?;
    validate_operator(operator)?;
    let current = detail(client, contract_id).await?;
    if current.cancelled {
        return Err(OpError::AlreadyCancelled(contract_id.into()));
    }
    let handle = client.get_schedule_handle(contract_id);
    let verb = if pause { "paused" } else { "resumed" };
    let note = format!("{verb} by {operator}: {reason}");
    let result = if pause {
        handle.pause(Some(note), Default::default()).await
    } else {
        handle.unpause(Some(note), Default::default()).await
    };
    result.map_err(|e| schedule_error(contract_id, e))
}

/// The runs a contract started, newest first (at most `limit`).
pub async fn terms_run(
    client: &Client,
    contract_id: &str,
    limit: i32,
) -> Result<Vec<TermRun>, OpError> {
    validate_order_id(contract_id)?;
    let query = format!(
        "WorkflowType = '{}' AND {} = '{contract_id}'",
        workflow_types::RECURRING_PAYMENT,
        sa::CONTRACT_ID.name()
    );
    let page = visibility::list_page(client, &query, limit, None, None).await?;
    Ok(page
        .executions
        .into_iter()
        .map(|e| TermRun {
            workflow_id: e.workflow_id,
            status: e.status,
            started_at: e.start_time.map(rfc3339).unwrap_or_default(),
        })
        .collect())
}

/// Every contract with its terms: the list, then a few describes at a time.
pub async fn list_with_details(
    client: &Client,
) -> Result<Vec<(ContractSummary, Option<ContractDetail>)>, OpError> {
    let contracts = list(client).await?;
    Ok(futures::stream::iter(contracts)
        .map(|summary| async move {
            let detail = detail(client, &summary.contract_id).await.ok();
            (summary, detail)
        })
        .buffered(DESCRIBES_AT_ONCE)
        .collect()
        .await)
}
