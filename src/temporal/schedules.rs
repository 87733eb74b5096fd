//! Temporal Schedules as the raw service calls and protobuf messages: create, describe,
//! change the state under the conflict token, list, and read back what a schedule starts.
//! The contracts' use-cases (`operations::contracts`) are built on these; the calls answer
//! with the server's status so that each use-case can say what a code means for it.

use std::time::{Duration, SystemTime};
use temporalio_client::{
    Client, NamespacedClient,
    tonic::{IntoRequest, Status},
};
use temporalio_common::{
    data_converters::{SerializationContextData, WorkflowSerializationContext},
    protos::temporal::api::{
        common::v1::{Payloads, WorkflowExecution, WorkflowType},
        schedule::v1::{
            IntervalSpec, Range, Schedule, ScheduleAction, ScheduleListEntry, ScheduleSpec,
            ScheduleState, StructuredCalendarSpec, schedule_action::Action,
        },
        taskqueue::v1::TaskQueue,
        workflow::v1::NewWorkflowExecutionInfo,
        workflowservice::v1::{
            CreateScheduleRequest, DescribeScheduleRequest, DescribeScheduleResponse,
            ListSchedulesRequest, TerminateWorkflowExecutionRequest, UpdateScheduleRequest,
        },
    },
};

use super::TemporalError;
use crate::{domain::contract::Cadence, domain::format::rfc3339};

/// A schedule's spec: one interval or one cron line, in `time_zone`. An interval counts
/// from `anchor` (the contract's creation): `every 30d` made on 6 December charges on 5
/// January, 4 February, … Without a phase Temporal counts intervals from 1970, so that
/// contract's first charge would have come on 2 January, after 27 days, at 00:00 UTC.
pub fn spec(cadence: &Cadence, time_zone: &str, anchor: SystemTime) -> ScheduleSpec {
    let mut spec = ScheduleSpec {
        timezone_name: time_zone.to_string(),
        ..Default::default()
    };
    match cadence {
        Cadence::Every { seconds } => spec.interval.push(IntervalSpec {
            interval: Duration::from_secs(*seconds).try_into().ok(),
            phase: phase(*seconds, anchor).try_into().ok(),
        }),
        Cadence::Cron { expression } => spec.cron_string.push(expression.clone()),
    }
    spec
}

/// The offset that makes an interval of `seconds` fall on `anchor` (whole seconds).
fn phase(seconds: u64, anchor: SystemTime) -> Duration {
    let since_1970 = anchor
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Duration::from_secs(since_1970.checked_rem(seconds).unwrap_or(0))
}

/// How a spec reads: `every 30d`, `cron 0 9 1 * *`.
pub fn cadence_text(spec: &ScheduleSpec, waited: impl Fn(i64) -> String) -> String {
    let intervals = spec
        .interval
        .iter()
        .filter_map(|i| i.interval.as_ref())
        .map(|d| format!("every {}", waited(d.seconds)));
    let crons = spec.cron_string.iter().map(|c| format!("cron {c}"));
    let calendars = spec.structured_calendar.iter().map(calendar_text);
    intervals
        .chain(crons)
        .chain(calendars)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A calendar as the cron line it was made from: Temporal keeps a cron line as a
/// structured calendar (`30 2 * * *` comes back as minute 30, hour 2, every day…), so it is
/// written back in the same five fields, and a year or seconds other than 0 are added in
/// words (none of ours has them; a schedule made elsewhere may).
fn calendar_text(calendar: &StructuredCalendarSpec) -> String {
    let mut text = format!("cron {}", calendar_fields(calendar));
    let second = ranges_text(&calendar.second, 0, 59);
    if second != "0" {
        text.push_str(&format!(" at second {second}"));
    }
    if !calendar.year.is_empty() {
        text.push_str(&format!(" in year {}", ranges_text(&calendar.year, 0, 0)));
    }
    text
}

/// A calendar's minute, hour, day of month, month and day of week, as cron writes them.
fn calendar_fields(calendar: &StructuredCalendarSpec) -> String {
    format!(
        "{} {} {} {} {}",
        ranges_text(&calendar.minute, 0, 59),
        ranges_text(&calendar.hour, 0, 23),
        ranges_text(&calendar.day_of_month, 1, 31),
        ranges_text(&calendar.month, 1, 12),
        ranges_text(&calendar.day_of_week, 0, 6),
    )
}

/// A spec read as the one cadence a contract has, with its time zone (UTC when it names
/// none): one interval, or one calendar that a five-field cron line says (at second 0,
/// every year). What no contract has (several intervals or calendars, seconds, years, a
/// random delay) is said in words, for the term it refuses.
pub fn contract_cadence(spec: &ScheduleSpec) -> Result<(Cadence, String), String> {
    let zone = match spec.timezone_name.as_str() {
        "" => "UTC".to_string(),
        name => name.to_string(),
    };
    if spec
        .jitter
        .as_ref()
        .is_some_and(|j| j.seconds > 0 || j.nanos > 0)
    {
        return Err("it charges after a random delay (a jitter), which no contract has".into());
    }
    let count = spec.interval.len()
        + spec.cron_string.len()
        + spec.structured_calendar.len()
        + spec.calendar.len();
    if count != 1 {
        return Err(format!(
            "it has {count} intervals or calendars; a contract has exactly one"
        ));
    }
    let cadence = if let Some(interval) = spec.interval.first() {
        let seconds = interval.interval.as_ref().map_or(0, |d| d.seconds.max(0));
        Cadence::Every {
            seconds: seconds as u64,
        }
    } else if let Some(line) = spec.cron_string.first() {
        Cadence::Cron {
            expression: line.clone(),
        }
    } else if let Some(calendar) = spec.structured_calendar.first() {
        if ranges_text(&calendar.second, 0, 59) != "0" || !calendar.year.is_empty() {
            return Err(format!(
                "it charges on {}, which a contract's cron line cannot say",
                calendar_text(calendar)
            ));
        }
        Cadence::Cron {
            expression: calendar_fields(calendar),
        }
    } else {
        return Err("it charges on a calendar written out in words, which no contract has".into());
    };
    Ok((cadence, zone))
}

/// One calendar field as cron writes it: `*`, `*/15`, `5`, `8-17`, `1-12/3`, `1,15`. A
/// field with no range matches nothing (Temporal's rule); it reads `none`.
fn ranges_text(ranges: &[Range], low: i32, high: i32) -> String {
    if ranges.is_empty() {
        return "none".into();
    }
    ranges
        .iter()
        .map(|r| {
            let end = r.end.max(r.start);
            let step = r.step.max(1);
            let span = if r.start == low && end == high && low < high {
                "*".to_string()
            } else if r.start == end && step == 1 {
                end.to_string()
            } else {
                // `5/2` would mean from 5 to the field's end: a one-value range with a
                // step keeps its end.
                format!("{}-{end}", r.start)
            };
            match step {
                1 => span,
                step => format!("{span}/{step}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// What a schedule does: start `workflow_type` on `task_queue` with `input`, each run
/// under an id of `workflow_id` and the run's time (Temporal appends it).
pub async fn start_workflow<T: serde::Serialize + Send + Sync + 'static>(
    client: &Client,
    workflow_id: String,
    workflow_type: &str,
    task_queue: &str,
    input: &T,
) -> Result<ScheduleAction, TemporalError> {
    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    let input = client
        .data_converter()
        .to_payloads(&context, input)
        .await
        .map_err(TemporalError::client)?;
    Ok(ScheduleAction {
        action: Some(Action::StartWorkflow(NewWorkflowExecutionInfo {
            workflow_id,
            workflow_type: Some(WorkflowType {
                name: workflow_type.to_string(),
            }),
            task_queue: Some(TaskQueue {
                name: task_queue.to_string(),
                ..Default::default()
            }),
            input: Some(Payloads { payloads: input }),
            ..Default::default()
        })),
    })
}

/// A request id unique to this call: the server deduplicates retries of one call by it.
fn request_id(schedule_id: &str, what: &str) -> String {
    format!("{schedule_id}-{what}-{:016x}", rand::random::<u64>())
}

/// Creates a schedule in one call (its state, term limit included, with it).
pub async fn create(client: &Client, schedule_id: &str, schedule: Schedule) -> Result<(), Status> {
    let request = CreateScheduleRequest {
        namespace: client.namespace(),
        schedule_id: schedule_id.to_string(),
        schedule: Some(schedule),
        identity: client.identity(),
        request_id: request_id(schedule_id, "create"),
        ..Default::default()
    };
    client
        .connection()
        .workflow_service()
        .create_schedule(request.into_request())
        .await
        .map(|_| ())
}

pub async fn describe(
    client: &Client,
    schedule_id: &str,
) -> Result<DescribeScheduleResponse, Status> {
    let mut tries = 0;
    loop {
        let request = DescribeScheduleRequest {
            namespace: client.namespace(),
            schedule_id: schedule_id.to_string(),
        };
        match client
            .connection()
            .workflow_service()
            .describe_schedule(request.into_request())
            .await
        {
            Ok(described) => return Ok(described.into_inner()),
            // Temporal answers a describe by querying the schedule's own workflow, which
            // refuses queries while many wait on it (a burst of triggers): a moment later
            // it answers.
            Err(status)
                if status.code() == temporalio_client::tonic::Code::ResourceExhausted
                    && tries < DESCRIBE_BUSY_TRIES =>
            {
                tries += 1;
                tracing::debug!(schedule_id, tries, "a schedule was too busy to describe");
                tokio::time::sleep(DESCRIBE_BUSY_PAUSE * tries).await;
            }
            Err(status) => return Err(status),
        }
    }
}

/// Tries at describing a schedule too busy to answer (its query buffer full) before the
/// caller is told, each [`DESCRIBE_BUSY_PAUSE`] longer than the one before.
pub const DESCRIBE_BUSY_TRIES: u32 = 4;
pub const DESCRIBE_BUSY_PAUSE: Duration = Duration::from_millis(200);

/// Changes a schedule's state only if nobody changed the schedule since `described`
/// (its conflict token): the server answers FailedPrecondition otherwise.
pub async fn change_state(
    client: &Client,
    schedule_id: &str,
    described: DescribeScheduleResponse,
    change: impl FnOnce(&mut ScheduleState),
) -> Result<(), Status> {
    let mut schedule = described.schedule.unwrap_or_default();
    change(schedule.state.get_or_insert_with(Default::default));
    let request = UpdateScheduleRequest {
        namespace: client.namespace(),
        schedule_id: schedule_id.to_string(),
        schedule: Some(schedule),
        conflict_token: described.conflict_token,
        identity: client.identity(),
        request_id: request_id(schedule_id, "change"),
        ..Default::default()
    };
    client
        .connection()
        .workflow_service()
        .update_schedule(request.into_request())
        .await
        .map(|_| ())
}

/// Ends a run a schedule started; one that ended meanwhile is left as it is.
pub async fn terminate(
    client: &Client,
    execution: WorkflowExecution,
    reason: &str,
) -> Result<(), Status> {
    let request = TerminateWorkflowExecutionRequest {
        namespace: client.namespace(),
        workflow_execution: Some(execution),
        reason: reason.to_string(),
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
        Err(status) if status.code() == temporalio_client::tonic::Code::NotFound => Ok(()),
        Err(status) => Err(status),
    }
}

/// One page of schedules and the token of the next page (empty on the last).
pub async fn list_page(
    client: &Client,
    page_size: i32,
    token: Vec<u8>,
) -> Result<(Vec<ScheduleListEntry>, Vec<u8>), Status> {
    let request = ListSchedulesRequest {
        namespace: client.namespace(),
        maximum_page_size: page_size,
        next_page_token: token,
        ..Default::default()
    };
    let response = client
        .connection()
        .workflow_service()
        .list_schedules(request.into_request())
        .await?
        .into_inner();
    Ok((response.schedules, response.next_page_token))
}

/// The workflow type a described schedule starts.
pub fn started_type(described: &DescribeScheduleResponse) -> Option<&str> {
    match described
        .schedule
        .as_ref()?
        .action
        .as_ref()?
        .action
        .as_ref()?
    {
        Action::StartWorkflow(start) => start.workflow_type.as_ref().map(|t| t.name.as_str()),
    }
}

/// The note a described schedule carries (who changed it last, and why).
pub fn note(described: &DescribeScheduleResponse) -> &str {
    described
        .schedule
        .as_ref()
        .and_then(|s| s.state.as_ref())
        .map(|s| s.notes.as_str())
        .unwrap_or_default()
}

/// The input a described schedule starts its workflow with.
pub async fn started_input<T: serde::de::DeserializeOwned + Send + 'static>(
    client: &Client,
    described: &DescribeScheduleResponse,
) -> Option<T> {
    let Action::StartWorkflow(start) = described
        .schedule
        .as_ref()?
        .action
        .as_ref()?
        .action
        .as_ref()?;
    let payloads = start.input.as_ref()?.payloads.clone();
    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    client
        .data_converter()
        .from_payloads::<T>(&context, payloads)
        .await
        .ok()
}

/// A protobuf time as RFC 3339.
pub fn time(t: &prost_wkt_types::Timestamp) -> String {
    rfc3339(system_time(t))
}

/// A protobuf time (before 1970 read as 1970).
pub fn system_time(t: &prost_wkt_types::Timestamp) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(t.seconds.max(0) as u64, t.nanos.max(0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: i32, end: i32, step: i32) -> Range {
        Range { start, end, step }
    }

    /// `minute hour * * *`, as Temporal keeps it.
    fn daily_at(hour: i32, minute: i32) -> StructuredCalendarSpec {
        StructuredCalendarSpec {
            second: vec![range(0, 0, 0)],
            minute: vec![range(minute, 0, 0)],
            hour: vec![range(hour, 0, 0)],
            day_of_month: vec![range(1, 31, 1)],
            month: vec![range(1, 12, 1)],
            day_of_week: vec![range(0, 6, 1)],
            ..Default::default()
        }
    }

    #[test]
    fn a_calendar_reads_as_the_cron_line_it_was_made_from() {
        assert_eq!(calendar_text(&daily_at(2, 30)), "cron 30 2 * * *");
        let working_quarters = StructuredCalendarSpec {
            second: vec![range(0, 0, 0)],
            minute: vec![range(0, 59, 15)],
            hour: vec![range(8, 17, 1)],
            day_of_month: vec![range(1, 0, 0), range(15, 0, 0)],
            month: vec![range(1, 12, 3)],
            day_of_week: vec![range(1, 5, 0)],
            year: vec![range(2027, 0, 0)],
            ..Default::default()
        };
        assert_eq!(
            calendar_text(&working_quarters),
            "cron */15 8-17 1,15 */3 1-5 in year 2027"
        );
        let odd = StructuredCalendarSpec {
            second: vec![range(30, 0, 0)],
            minute: vec![range(5, 5, 2)],
            ..Default::default()
        };
        assert_eq!(
            calendar_text(&odd),
            "cron 5-5/2 none none none none at second 30"
        );
    }

    #[test]
    fn a_spec_reads_as_a_contracts_one_cadence_or_says_what_no_contract_has() {
        let daily = daily_at(1, 30);
        let in_new_york = ScheduleSpec {
            structured_calendar: vec![daily.clone()],
            timezone_name: "America/New_York".into(),
            ..Default::default()
        };
        assert_eq!(
            contract_cadence(&in_new_york),
            Ok((
                Cadence::Cron {
                    expression: "30 1 * * *".into()
                },
                "America/New_York".into()
            ))
        );
        let every_second = spec(&Cadence::Every { seconds: 1 }, "", SystemTime::UNIX_EPOCH);
        assert_eq!(
            contract_cadence(&every_second),
            Ok((Cadence::Every { seconds: 1 }, "UTC".into()))
        );
        let mut both = in_new_york.clone();
        both.interval = every_second.interval.clone();
        assert!(contract_cadence(&both).is_err_and(|e| e.contains("2 intervals or calendars")));
        let each_second = ScheduleSpec {
            structured_calendar: vec![StructuredCalendarSpec {
                second: vec![range(0, 59, 1)],
                ..daily
            }],
            ..Default::default()
        };
        assert!(contract_cadence(&each_second).is_err_and(|e| e.contains("at second *")));
        let jittered = ScheduleSpec {
            jitter: Some(prost_wkt_types::Duration {
                seconds: 600,
                nanos: 0,
            }),
            ..in_new_york
        };
        assert!(contract_cadence(&jittered).is_err_and(|e| e.contains("jitter")));
    }
}
