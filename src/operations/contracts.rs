//! Recurring contracts as Temporal Schedules: create, read, cancel.
//! The schedule id is the contract id; Temporal holds every fact about it.

use futures::StreamExt;
use std::time::{Duration, SystemTime};
use temporalio_client::{
    Client, NamespacedClient,
    schedules::ScheduleError,
    tonic::{Code, IntoRequest, Status},
};
use temporalio_common::{
    data_converters::{SerializationContextData, WorkflowSerializationContext},
    protos::temporal::api::{
        common::v1::WorkflowExecution,
        common::v1::{Payloads, WorkflowType},
        enums::v1::ScheduleOverlapPolicy,
        schedule::v1::{
            IntervalSpec, Schedule, ScheduleAction, ScheduleListEntry, SchedulePolicies,
            ScheduleSpec, ScheduleState, schedule_action::Action,
        },
        taskqueue::v1::TaskQueue,
        workflow::v1::NewWorkflowExecutionInfo,
        workflowservice::v1::{
            CreateScheduleRequest, DescribeScheduleRequest, DescribeScheduleResponse,
            ListSchedulesRequest, TerminateWorkflowExecutionRequest, UpdateScheduleRequest,
        },
    },
};

use super::{Missing, OpError, counted};
use crate::{
    contracts::{
        Cadence, ContractDetail, ContractLimits, ContractSummary, ContractTerms, ContractsPage,
        NewContract, TermRun, validate_change,
    },
    format::{rfc3339, waited},
    orders::{InputError, short, validate_order_id},
    temporal::{TemporalError, search_attributes as sa, task_queues, visibility, workflow_types},
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

fn schedule_error(contract_id: &str, e: ScheduleError) -> OpError {
    match e {
        ScheduleError::Rpc(status) => status_error(contract_id, status),
        other => OpError::temporal(other),
    }
}

fn status_error(contract_id: &str, status: Status) -> OpError {
    match status.code() {
        Code::NotFound => OpError::NotFound(Missing::Contract(contract_id.into())),
        Code::AlreadyExists => OpError::AlreadyExists(contract_id.into()),
        // The conflict token did not match: someone changed the contract meanwhile.
        Code::FailedPrecondition => OpError::Rejected(format!(
            "the contract {contract_id:?} changed while this was being done: look again, \
             then try once more"
        )),
        _ => OpError::Temporal(TemporalError::from(status)),
    }
}

/// The currency's decimals, if it is an ISO 4217 currency (not a fund or metal code).
pub fn minor_units(currency: &str) -> Option<u32> {
    iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .map(u32::from)
}

/// The contract's own checks, plus what needs the server's tables: the currency (ISO
/// 4217, with its minor units), the largest amount in it, and the time zone.
pub fn check(contract: &NewContract, limits: &ContractLimits) -> Result<(), InputError> {
    contract.validate(limits)?;
    let currency = &contract.terms.currency;
    let units = minor_units(currency).ok_or_else(|| {
        InputError::Other(format!(
            "{currency:?} is not an ISO 4217 currency: use a code such as USD, MYR or JPY"
        ))
    })?;
    let max = i64::from(limits.max_amount).saturating_mul(10i64.saturating_pow(units));
    if contract.terms.amount_cents > max {
        return Err(InputError::Other(format!(
            "the amount {} is over the largest a term may charge, {} {currency}",
            crate::format::format_amount(contract.terms.amount_cents, currency, units),
            limits.max_amount
        )));
    }
    if contract.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(InputError::Other(format!(
            "{:?} is not an IANA time zone: use a name such as Asia/Kuala_Lumpur or Europe/Berlin",
            short(&contract.time_zone)
        )));
    }
    Ok(())
}

fn spec(contract: &NewContract) -> ScheduleSpec {
    let mut spec = ScheduleSpec {
        timezone_name: contract.time_zone.clone(),
        ..Default::default()
    };
    match &contract.cadence {
        Cadence::Every { seconds } => spec.interval.push(IntervalSpec {
            interval: Duration::from_secs(*seconds).try_into().ok(),
            phase: None,
        }),
        Cadence::Cron { expression } => spec.cron_string.push(expression.clone()),
    }
    spec
}

async fn action(client: &Client, terms: &ContractTerms) -> Result<ScheduleAction, OpError> {
    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    let input = client
        .data_converter()
        .to_payloads(&context, terms)
        .await
        .map_err(OpError::temporal)?;
    Ok(ScheduleAction {
        action: Some(Action::StartWorkflow(NewWorkflowExecutionInfo {
            workflow_id: format!("recurring-{}", terms.contract_id),
            workflow_type: Some(WorkflowType {
                name: workflow_types::RECURRING_PAYMENT.to_string(),
            }),
            task_queue: Some(TaskQueue {
                name: task_queues::RECURRING_SCHEDULE.to_string(),
                ..Default::default()
            }),
            input: Some(Payloads { payloads: input }),
            ..Default::default()
        })),
    })
}

fn request_id(contract_id: &str, what: &str) -> String {
    format!("{contract_id}-{what}-{:016x}", rand::random::<u64>())
}

/// Creates the contract's schedule in one call, its term limit included: no term can run
/// before the limit is in place. A failed charge pauses the contract (`pause_on_failure`).
/// The schedule's note records who created it.
pub async fn create(
    client: &Client,
    mut contract: NewContract,
    limits: &ContractLimits,
    operator: &str,
) -> Result<Vec<String>, OpError> {
    counted(
        "create_contract",
        async {
            check(&contract, limits)?;
            let id = contract.terms.contract_id.clone();
            let terms = contract.total_terms;
            contract.terms.until_cancelled = Some(terms == 0);
            let schedule = Schedule {
                spec: Some(spec(&contract)),
                action: Some(action(client, &contract.terms).await?),
                policies: Some(SchedulePolicies {
                    overlap_policy: ScheduleOverlapPolicy::Skip as i32,
                    pause_on_failure: true,
                    ..Default::default()
                }),
                state: Some(ScheduleState {
                    limited_actions: terms > 0,
                    remaining_actions: i64::from(terms),
                    paused: false,
                    notes: format!("created by {operator}"),
                }),
            };
            let request = CreateScheduleRequest {
                namespace: client.namespace(),
                schedule_id: id.clone(),
                schedule: Some(schedule),
                identity: client.identity(),
                request_id: request_id(&id, "create"),
                ..Default::default()
            };
            client
                .connection()
                .workflow_service()
                .create_schedule(request.into_request())
                .await
                .map_err(|s| status_error(&id, s))?;
            let description = client
                .get_schedule_handle(&id)
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
        .await,
    )
}

/// Describes a contract's schedule; a schedule of another workflow is not a contract, and
/// is treated as missing (this app changes only its own).
async fn describe_raw(
    client: &Client,
    contract_id: &str,
) -> Result<DescribeScheduleResponse, OpError> {
    let described = describe_any(client, contract_id).await?;
    let workflow_type = match described
        .schedule
        .as_ref()
        .and_then(|s| s.action.as_ref())
        .and_then(|a| a.action.as_ref())
    {
        Some(Action::StartWorkflow(start)) => start.workflow_type.as_ref().map(|t| t.name.as_str()),
        None => None,
    };
    if workflow_type != Some(workflow_types::RECURRING_PAYMENT) {
        return Err(OpError::NotFound(Missing::Contract(contract_id.into())));
    }
    Ok(described)
}

async fn describe_any(
    client: &Client,
    contract_id: &str,
) -> Result<DescribeScheduleResponse, OpError> {
    let request = DescribeScheduleRequest {
        namespace: client.namespace(),
        schedule_id: contract_id.to_string(),
    };
    Ok(client
        .connection()
        .workflow_service()
        .describe_schedule(request.into_request())
        .await
        .map_err(|s| status_error(contract_id, s))?
        .into_inner())
}

/// Changes a contract's state only if nobody changed the contract since `described`
/// (its conflict token): a pause cannot undo a cancel that landed in between.
async fn change_state(
    client: &Client,
    contract_id: &str,
    described: DescribeScheduleResponse,
    change: impl FnOnce(&mut ScheduleState),
) -> Result<(), OpError> {
    let mut schedule = described.schedule.unwrap_or_default();
    change(schedule.state.get_or_insert_with(Default::default));
    let request = UpdateScheduleRequest {
        namespace: client.namespace(),
        schedule_id: contract_id.to_string(),
        schedule: Some(schedule),
        conflict_token: described.conflict_token,
        identity: client.identity(),
        request_id: request_id(contract_id, "change"),
        ..Default::default()
    };
    client
        .connection()
        .workflow_service()
        .update_schedule(request.into_request())
        .await
        .map_err(|s| status_error(contract_id, s))?;
    Ok(())
}

fn note_of(described: &DescribeScheduleResponse) -> &str {
    described
        .schedule
        .as_ref()
        .and_then(|s| s.state.as_ref())
        .map(|s| s.notes.as_str())
        .unwrap_or_default()
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
            let described = describe_raw(client, contract_id).await?;
            if note_of(&described).starts_with(CANCELLED_NOTE_PREFIX) {
                return Err(OpError::AlreadyCancelled(contract_id.into()));
            }
            let running: Vec<WorkflowExecution> = described
                .info
                .as_ref()
                .map(|i| i.running_workflows.clone())
                .unwrap_or_default();
            let note = format!("{CANCELLED_NOTE_PREFIX} by {operator}: {reason}");
            change_state(client, contract_id, described, |state| {
                state.paused = true;
                state.notes = note.clone();
                state.limited_actions = true;
                state.remaining_actions = 0;
            })
            .await?;
            for execution in running {
                stop_term(client, execution, &note).await?;
            }
            Ok(())
        }
        .await,
    )
}

/// Stops a term that was running when its contract was cancelled: its charge is retried no
/// more. A term that ended meanwhile is left as it is.
async fn stop_term(
    client: &Client,
    execution: WorkflowExecution,
    note: &str,
) -> Result<(), OpError> {
    let request = TerminateWorkflowExecutionRequest {
        namespace: client.namespace(),
        workflow_execution: Some(execution),
        reason: note.to_string(),
        identity: client.identity(),
        ..Default::default()
    };
    match client
        .connection()
        .workflow_service()
        .terminate_workflow_execution(request.into_request())
        .await
    {
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::NotFound => Ok(()),
        Err(status) => Err(OpError::Temporal(status.into())),
    }
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
        next_charges: info
            .future_action_times
            .iter()
            .take(NEXT_CHARGES_LISTED)
            .map(|t| {
                let since = Duration::new(t.seconds.max(0) as u64, t.nanos.max(0) as u32);
                rfc3339(SystemTime::UNIX_EPOCH + since)
            })
            .collect(),
        note: info.notes,
    })
}

/// One page of the contracts, and the token of the next page if there is one.
pub async fn list_page(
    client: &Client,
    page_token: Option<&str>,
) -> Result<(Vec<ContractSummary>, Option<String>), OpError> {
    let token = visibility::decode_page_token(page_token)?;
    let request = ListSchedulesRequest {
        namespace: client.namespace(),
        maximum_page_size: CONTRACTS_PAGE_SIZE,
        next_page_token: token,
        ..Default::default()
    };
    let response = client
        .connection()
        .workflow_service()
        .list_schedules(request.into_request())
        .await
        .map_err(|s| OpError::Temporal(s.into()))?
        .into_inner();
    let mut contracts: Vec<ContractSummary> =
        response.schedules.into_iter().filter_map(summary).collect();
    contracts.sort_by(|a, b| a.contract_id.cmp(&b.contract_id));
    Ok((
        contracts,
        visibility::encode_page_token(&response.next_page_token),
    ))
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
    let units = terms
        .as_ref()
        .and_then(|t| minor_units(&t.currency))
        .unwrap_or(USUAL_MINOR_UNITS);
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
        minor_units: units,
        charges_started: description.action_count(),
        next_charges: description
            .future_action_times()
            .into_iter()
            .take(NEXT_CHARGES_SHOWN)
            .map(rfc3339)
            .collect(),
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
        let described = describe_raw(client, contract_id).await?;
        let note = note_of(&described).to_string();
        if note.starts_with(CANCELLED_NOTE_PREFIX) {
            return Err(OpError::AlreadyCancelled(contract_id.into()));
        }
        if !pause {
            let limited = described
                .schedule
                .as_ref()
                .and_then(|s| s.state.as_ref())
                .is_some_and(|s| s.limited_actions);
            let terms = terms_of(client, &described).await;
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
        let note = format!("{verb} by {operator}: {reason}");
        change_state(client, contract_id, described, |state| {
            state.paused = pause;
            state.notes = note;
        })
        .await
    }
    .await)
}

/// The terms a schedule charges, from its action's input.
async fn terms_of(client: &Client, described: &DescribeScheduleResponse) -> Option<ContractTerms> {
    let action = described
        .schedule
        .as_ref()?
        .action
        .as_ref()?
        .action
        .as_ref()?;
    let Action::StartWorkflow(start) = action;
    let payloads = start.input.as_ref()?.payloads.clone();
    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    client
        .data_converter()
        .from_payloads::<ContractTerms>(&context, payloads)
        .await
        .ok()
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
    let rows = futures::stream::iter(contracts)
        .map(|summary| async move {
            let detail = detail(client, &summary.contract_id).await.ok();
            (summary, detail)
        })
        .buffered(DESCRIBES_AT_ONCE)
        .collect()
        .await;
    Ok(ContractsPage { rows, next_page })
}
