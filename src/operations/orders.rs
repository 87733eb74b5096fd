//! What people and the gateway do to orders through Temporal: start, claim, release,
//! resolve, retry now, read their state.

use temporalio_client::{
    Client, WorkflowExecuteUpdateOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
    WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{
        WorkflowInteractionError, WorkflowQueryError, WorkflowStartError, WorkflowUpdateError,
    },
};
use temporalio_common::{
    HasWorkflowDefinition, UpdateDefinition, search_attributes::SearchAttributes,
};

use super::{Missing, OpError, counted};
use crate::{
    domain::input::{validate_operator, validate_order_id},
    domain::order::{
        OrderRequest, Resolution, Stage, manual_workflow_id, query_workflow_id, stale_workflow_id,
    },
    domain::resolution::{
        Actor, ApprovalRequest, BankQuestion, ClaimRequest, ManualContext, OrderNote,
        ResolutionRecord, ResolveRequest, StaleStatus, Stamp,
    },
    temporal::TemporalError,
    temporal::names::task_queues,
    temporal::readiness,
    workflows::manual_handle::ManualHandle,
    workflows::order_attributes,
    workflows::query_order::QueryOrder,
    workflows::stale_order::StaleOrder,
};

pub(super) fn not_found(workflow_id: &str) -> OpError {
    OpError::NotFound(Missing::Workflow(workflow_id.into()))
}

fn interaction(workflow_id: &str, e: WorkflowInteractionError) -> OpError {
    match e {
        WorkflowInteractionError::NotFound(_) => not_found(workflow_id),
        other => OpError::Temporal(other.into()),
    }
}

pub(super) fn update_error(workflow_id: &str, e: WorkflowUpdateError) -> OpError {
    match e {
        WorkflowUpdateError::NotFound(_) => not_found(workflow_id),
        // The validator's words, as they are.
        WorkflowUpdateError::Failed(failure) => OpError::Rejected(failure.message.clone()),
        WorkflowUpdateError::Rpc(status)
            if status
                .message()
                .contains("workflow execution already completed") =>
        {
            OpError::Rejected(format!("{workflow_id} has already finished"))
        }
        WorkflowUpdateError::Rpc(status) => OpError::Temporal(status.into()),
        other => OpError::Temporal(TemporalError::client(other)),
    }
}

pub(super) fn query_error(workflow_id: &str, e: WorkflowQueryError) -> OpError {
    match e {
        WorkflowQueryError::NotFound(_) => not_found(workflow_id),
        other => OpError::Temporal(other.into()),
    }
}

/// How long a read of a workflow's live state (a query) waits for the worker to answer.
/// A worker stopped within the last [`WORKER_SEEN_WITHIN`] still counts as running, and
/// Temporal would hold such a query half a minute before it gives up.
///
/// [`WORKER_SEEN_WITHIN`]: crate::temporal::readiness::WORKER_SEEN_WITHIN
pub const QUERY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Asks `query` of `workflow_id`, a workflow on `queue`: at once "no worker runs the queue"
/// when none does, and "no worker answered" after [`QUERY_WAIT`].
pub(super) async fn live_state<T>(
    client: &Client,
    queue: &str,
    workflow_id: &str,
    query: impl std::future::Future<Output = Result<T, WorkflowQueryError>>,
) -> Result<T, OpError> {
    readiness::worker_running(client, queue).await?;
    match tokio::time::timeout(QUERY_WAIT, query).await {
        Ok(answer) => answer.map_err(|e| query_error(workflow_id, e)),
        Err(_) => Err(OpError::Temporal(TemporalError::WorkerSilent {
            workflow_id: workflow_id.to_string(),
            secs: QUERY_WAIT.as_secs(),
        })),
    }
}

/// How a start request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started {
        workflow_id: String,
        run_id: String,
    },
    /// The order is already being processed: nothing was started.
    AlreadyProcessing {
        workflow_id: String,
    },
}

/// Starts reconciling an order. A second start while one runs (or after one succeeded)
/// starts nothing: a new run is allowed only after a failed one, as in the Go original.
pub async fn start_order(client: &Client, order: OrderRequest) -> Result<StartOutcome, OpError> {
    counted(
        "start",
        async {
            order.validate()?;
            let workflow_id = query_workflow_id(&order.order_id);
            let options = WorkflowStartOptions::new(task_queues::QUERY_ORDER, workflow_id.clone())
                .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
                .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
                .search_attributes(SearchAttributes::new(order_attributes(
                    &order,
                    Stage::Querying,
                )))
                .build();
            match client.start_workflow(QueryOrder::run, order, options).await {
                Ok(handle) => Ok(StartOutcome::Started {
                    workflow_id,
                    run_id: handle.run_id().unwrap_or_default().to_string(),
                }),
                Err(WorkflowStartError::AlreadyStarted { .. }) => {
                    Ok(StartOutcome::AlreadyProcessing { workflow_id })
                }
                Err(WorkflowStartError::Rpc(status)) => Err(OpError::Temporal(status.into())),
                Err(e) => Err(OpError::Temporal(TemporalError::client(e))),
            }
        }
        .await,
    )
}

/// Resolves an order in the manual queue (an update: rejected input changes nothing).
pub async fn resolve_manual(
    client: &Client,
    order_id: &str,
    request: ResolveRequest,
) -> Result<ResolutionRecord, OpError> {
    counted(
        "resolve",
        async {
            validate_order_id(order_id)?;
            request.validate()?;
            update_manual(client, order_id, ManualHandle::resolve, request).await
        }
        .await,
    )
}

/// What a person's resolution became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Recorded as the resolution.
    Resolved(ResolutionRecord),
    /// A proposal awaiting a second person's approval (four eyes).
    Proposed(ResolutionRecord),
}

/// Resolves a manual order, or proposes the resolution when the order's own rule (fixed
/// when it started, read from the workflow) says it needs a second person's approval.
pub async fn resolve_or_propose(
    client: &Client,
    order_id: &str,
    request: ResolveRequest,
) -> Result<Settled, OpError> {
    let resolution = request.validate()?;
    let rule = manual_context(client, order_id).await?.four_eyes;
    if !rule.contains(&resolution) {
        return resolve_manual(client, order_id, request)
            .await
            .map(Settled::Resolved);
    }
    counted(
        "propose",
        async {
            validate_order_id(order_id)?;
            update_manual(client, order_id, ManualHandle::propose, request).await
        }
        .await,
    )
    .map(Settled::Proposed)
}

/// A second person's answer (or a take-over): who, and why.
pub(super) fn answer(actor: &Actor, note: &str) -> Result<ApprovalRequest, OpError> {
    validate_operator(&actor.name)?;
    Ok(ApprovalRequest {
        operator: actor.name.clone(),
        note: note.trim().to_string(),
        operator_id: actor.id.clone(),
    })
}

/// Approves the resolution proposed on an order: it becomes the order's resolution. The
/// proposer cannot approve their own (the workflow refuses).
pub async fn approve(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
) -> Result<ResolutionRecord, OpError> {
    let actor = actor.into();
    counted(
        "approve",
        async {
            validate_order_id(order_id)?;
            let request = answer(&actor, "")?;
            update_manual(client, order_id, ManualHandle::approve, request)
                .await?
                .ok_or_else(|| OpError::Rejected("no resolution awaits approval".into()))
        }
        .await,
    )
}

/// Rejects the resolution proposed on an order, saying why; it waits for a person again.
pub async fn reject(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
    note: &str,
) -> Result<(), OpError> {
    let actor = actor.into();
    counted(
        "reject",
        async {
            validate_order_id(order_id)?;
            let request = answer(&actor, note)?;
            update_manual(client, order_id, ManualHandle::reject, request).await
        }
        .await,
    )
}

/// Takes over a colleague's claim, saying why: the colleague and the reason stay on the
/// order.
pub async fn take_over(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
    note: &str,
) -> Result<Stamp, OpError> {
    let actor = actor.into();
    counted(
        "take_over",
        async {
            validate_order_id(order_id)?;
            let request = answer(&actor, note)?;
            update_manual(client, order_id, ManualHandle::take_over, request).await
        }
        .await,
    )
}

/// Leaves a note on an order waiting in the manual queue, for `actor`: colleagues see it on
/// the lane, the trail keeps it. The workflow holds the rules (a note says something, at
/// most `MAX_NOTES` per order, none once resolved).
pub async fn add_note(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
    note: &str,
) -> Result<OrderNote, OpError> {
    let actor = actor.into();
    counted(
        "add_note",
        async {
            validate_order_id(order_id)?;
            if note.trim().is_empty() {
                return Err(OpError::Rejected(
                    "write the note: an empty one says nothing".into(),
                ));
            }
            crate::domain::input::validate_note(note)?;
            let request = answer(&actor, note)?;
            update_manual(client, order_id, ManualHandle::add_note, request).await
        }
        .await,
    )
}

/// An update that failed on a ManualHandle. Updates to a closed workflow come back as
/// NotFound or an RPC error: if the order was resolved, say by whom instead.
async fn manual_update_error(client: &Client, id: &str, e: WorkflowUpdateError) -> OpError {
    if matches!(e, WorkflowUpdateError::Failed(_)) {
        return update_error(id, e);
    }
    let handle = client.get_workflow_handle::<ManualHandle>(id.to_string());
    let closed = handle
        .describe(Default::default())
        .await
        .is_ok_and(|d| d.status() != temporalio_client::WorkflowExecutionStatus::Running);
    if !closed {
        return update_error(id, e);
    }
    match handle.get_result(Default::default()).await {
        Ok(done) => OpError::Rejected(done.already_resolved()),
        Err(_) => OpError::Rejected(format!("{id} has already finished")),
    }
}

/// Sends an update to an order's ManualHandle.
async fn update_manual<U>(
    client: &Client,
    order_id: &str,
    update: U,
    input: U::Input,
) -> Result<U::Output, OpError>
where
    U: UpdateDefinition<Workflow = <ManualHandle as HasWorkflowDefinition>::Run>,
    U::Input: Send,
    U::Output: 'static,
{
    let id = manual_workflow_id(order_id);
    // With no worker, Temporal holds the update half a minute and then drops it: say so at
    // once, and send nothing that could land later.
    readiness::worker_running(client, task_queues::MANUAL_HANDLE).await?;
    let result = client
        .get_workflow_handle::<ManualHandle>(id.clone())
        .execute_update(update, input, WorkflowExecuteUpdateOptions::default())
        .await;
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(manual_update_error(client, &id, e).await),
    }
}

/// A claim or release by `actor`.
fn claim_request(actor: &Actor) -> Result<ClaimRequest, OpError> {
    validate_operator(&actor.name)?;
    Ok(ClaimRequest {
        operator: actor.name.clone(),
        operator_id: actor.id.clone(),
    })
}

/// Claims a manual order for `actor`: colleagues are then told who works it. A second
/// claim by the same person returns their claim and writes nothing.
pub async fn claim(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
) -> Result<Stamp, OpError> {
    let actor = actor.into();
    counted(
        "claim",
        async {
            validate_order_id(order_id)?;
            let request = claim_request(&actor)?;
            // Claiming one's own claim again is answered from the workflow's state: an update
            // would only grow its history.
            if let Some(claim) = manual_context(client, order_id).await?.claim
                && claim.person() == actor.person()
            {
                return Ok(claim);
            }
            update_manual(client, order_id, ManualHandle::claim, request).await
        }
        .await,
    )
}

/// How long the CLI's [`ask_bank`] waits for the bank's answer before it says the question
/// is on its way (the order records the answer whenever it comes).
pub const ASK_BANK_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// How long the console's waits: its lane then shows the question on its way, and reads
/// the order again every few seconds until the answer is there.
pub const ASK_BANK_PAGE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Has an order waiting in the manual queue ask the bank again, for `actor`, and waits up
/// to `wait` for the answer: a verdict settles the order as the bank's; anything
/// else leaves it waiting with the bank's words. The workflow holds the rules (one
/// question at a time, at most `MAX_BANK_QUESTIONS`, none once resolved).
pub async fn ask_bank(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
    wait: std::time::Duration,
) -> Result<BankQuestion, OpError> {
    let actor = actor.into();
    counted(
        "ask_bank",
        async {
            let asked = ask_bank_now(client, order_id, &actor).await?;
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let question = manual_context(client, order_id)
                    .await
                    .ok()
                    .and_then(|c| c.asked_bank)
                    .filter(|q| q.asked == asked);
                match question {
                    Some(q) if q.answer.is_some() => return Ok(q),
                    _ if tokio::time::Instant::now() >= deadline => {
                        return Ok(question.unwrap_or(BankQuestion {
                            asked,
                            answer: None,
                            settled: false,
                            answered_at: String::new(),
                        }));
                    }
                    _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
                }
            }
        }
        .await,
    )
}

/// Has an order waiting in the manual queue ask the bank again for `actor`, without waiting
/// for the answer (the order records it): when the question was taken.
pub async fn ask_bank_now(
    client: &Client,
    order_id: &str,
    actor: &Actor,
) -> Result<Stamp, OpError> {
    validate_order_id(order_id)?;
    let request = claim_request(actor)?;
    update_manual(client, order_id, ManualHandle::ask_bank, request).await
}

/// Gives a claim back: only its holder can.
pub async fn release(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
) -> Result<(), OpError> {
    let actor = actor.into();
    counted(
        "release",
        async {
            validate_order_id(order_id)?;
            let request = claim_request(&actor)?;
            update_manual(client, order_id, ManualHandle::release, request).await
        }
        .await,
    )
}

/// What the Go original's signal did to the order, as the workflow reports it after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signalled {
    /// The resolution was recorded (one that needs no second person).
    Resolved { workflow_id: String },
    /// It needs a second person: it waits as a proposal for an approver.
    AwaitingApproval { workflow_id: String },
    /// A proposal was pending already: the signal changed nothing.
    Ignored { workflow_id: String, why: String },
}

/// The Go original's signal. Takes a workflow id (`manual-…`) or a bare order id. The
/// workflow decides what it becomes; this says what it became.
pub async fn signal_manual(
    client: &Client,
    workflow_or_order_id: &str,
    resolution: &str,
) -> Result<Signalled, OpError> {
    counted(
        "signal",
        async {
            let resolution = Resolution::parse(resolution)?;
            let order_id = workflow_or_order_id
                .strip_prefix("manual-")
                .unwrap_or(workflow_or_order_id);
            validate_order_id(order_id)?;
            let id = manual_workflow_id(order_id);
            // A signal cannot be refused by the workflow, so check it is still waiting first.
            let context = manual_context(client, order_id).await?;
            if let Some(done) = context.resolution {
                return Err(OpError::Rejected(done.already_resolved()));
            }
            let pending = context.proposal;
            client
                .get_workflow_handle::<ManualHandle>(id.clone())
                .signal(
                    ManualHandle::resolve_manual_order,
                    resolution.as_str().to_string(),
                    WorkflowSignalOptions::default(),
                )
                .await
                .map_err(|e| interaction(&id, e))?;
            // A query after the signal sees the state the signal left.
            let after = manual_context(client, order_id).await?;
            Ok(match (pending, after.proposal, after.resolution) {
                (Some(p), _, _) => Signalled::Ignored {
                    workflow_id: id,
                    why: format!(
                        "{} proposed {} already: it awaits a second person",
                        p.resolved_by, p.resolution
                    ),
                },
                (None, Some(_), _) => Signalled::AwaitingApproval { workflow_id: id },
                (None, None, _) => Signalled::Resolved { workflow_id: id },
            })
        }
        .await,
    )
}

/// Skips a stale order's wait.
pub async fn retry_now(
    client: &Client,
    order_id: &str,
    actor: impl Into<Actor>,
) -> Result<(), OpError> {
    let operator = actor.into().name;
    let operator = operator.as_str();
    counted(
        "retry_now",
        async {
            validate_order_id(order_id)?;
            validate_operator(operator)?;
            let id = stale_workflow_id(order_id);
            let status = stale_status(client, order_id).await?;
            if status.resolution.is_some() || status.retrying || status.retry_requested.is_some() {
                return Err(OpError::Rejected(format!(
                    "{id} is already retrying or resolved"
                )));
            }
            client
                .get_workflow_handle::<StaleOrder>(id.clone())
                .signal(
                    StaleOrder::retry_now,
                    operator.to_string(),
                    WorkflowSignalOptions::default(),
                )
                .await
                .map_err(|e| interaction(&id, e))
        }
        .await,
    )
}

pub async fn manual_context(client: &Client, order_id: &str) -> Result<ManualContext, OpError> {
    validate_order_id(order_id)?;
    let id = manual_workflow_id(order_id);
    let handle = client.get_workflow_handle::<ManualHandle>(id.clone());
    let query = handle.query(ManualHandle::context, (), WorkflowQueryOptions::default());
    live_state(client, task_queues::MANUAL_HANDLE, &id, query).await
}

pub async fn stale_status(client: &Client, order_id: &str) -> Result<StaleStatus, OpError> {
    validate_order_id(order_id)?;
    let id = stale_workflow_id(order_id);
    let handle = client.get_workflow_handle::<StaleOrder>(id.clone());
    let query = handle.query(StaleOrder::status, (), WorkflowQueryOptions::default());
    live_state(client, task_queues::STALE_ORDER, &id, query).await
}
