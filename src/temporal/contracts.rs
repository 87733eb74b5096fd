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

use super::task_queues;
use crate::{
    contracts::{Cadence, NewContract},
    orders::{InputError, validate_order_id},
    workflows::{recurring_payment::RecurringPayment, rfc3339},
};

/// The note a cancelled contract's schedule carries.
pub const CANCELLED_NOTE_PREFIX: &str = "cancelled";

#[derive(Debug, thiserror::Error)]
pub enum ContractOpError {
    #[error("{0}")]
    Invalid(#[from] InputError),
    #[error(
        "there is no recurring contract with id {0:?}: list them with the dashboard or `temporal schedule list`"
    )]
    NotFound(String),
    #[error("a recurring contract with id {0:?} already exists: choose another id")]
    AlreadyExists(String),
    #[error("the contract {0:?} is already cancelled")]
    AlreadyCancelled(String),
    #[error("Temporal refused the request: {0}")]
    Temporal(String),
}

fn schedule_error(contract_id: &str, e: ScheduleError) -> ContractOpError {
    match e {
        ScheduleError::Rpc(status) if status.code() == Code::NotFound => {
            ContractOpError::NotFound(contract_id.into())
        }
        ScheduleError::Rpc(status) if status.code() == Code::AlreadyExists => {
            ContractOpError::AlreadyExists(contract_id.into())
        }
        other => ContractOpError::Temporal(other.to_string()),
    }
}

/// Creates the contract's schedule. It is created paused and unpaused together with its
/// term limit, so no term can run before the limit is in place.
pub async fn create(
    client: &Client,
    contract: NewContract,
) -> Result<Vec<String>, ContractOpError> {
    contract.validate()?;
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
        .take(5)
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
) -> Result<(), ContractOpError> {
    validate_order_id(contract_id)?;
    crate::orders::validate_operator(operator)?;
    if reason.chars().count() > crate::orders::MAX_NOTE_LEN {
        return Err(InputError::TooLong {
            field: "reason",
            len: reason.chars().count(),
            max: crate::orders::MAX_NOTE_LEN,
        }
        .into());
    }
    let handle = client.get_schedule_handle(contract_id);
    let description = handle
        .describe(Default::default())
        .await
        .map_err(|e| schedule_error(contract_id, e))?;
    if description
        .note()
        .is_some_and(|n| n.starts_with(CANCELLED_NOTE_PREFIX))
    {
        return Err(ContractOpError::AlreadyCancelled(contract_id.into()));
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

/// A contract as the schedule tells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContractSummary {
    pub contract_id: String,
    pub paused: bool,
    pub note: String,
    pub next_charges: Vec<String>,
    pub cancelled: bool,
}

pub async fn list(client: &Client) -> Result<Vec<ContractSummary>, ContractOpError> {
    let mut stream = client.list_schedules(ListSchedulesOptions::default());
    let mut out = Vec::new();
    while let Some(entry) = stream.next().await {
        let entry = entry.map_err(|e| ContractOpError::Temporal(e.to_string()))?;
        let note = entry.note().unwrap_or_default().to_string();
        out.push(ContractSummary {
            contract_id: entry.schedule_id().to_string(),
            paused: entry.paused(),
            cancelled: note.starts_with(CANCELLED_NOTE_PREFIX),
            note,
            next_charges: entry
                .future_action_times()
                .into_iter()
                .take(3)
                .map(|t: SystemTime| rfc3339(t))
                .collect(),
        });
    }
    out.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok(out)
}
