//! What people and the gateway do to orders through Temporal: start, claim, resolve,
//! retry now, read. Shared by the CLI and the dashboard.

use temporalio_client::{
    Client, WorkflowCountOptions, WorkflowExecuteUpdateOptions, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions,
    errors::{
        WorkflowInteractionError, WorkflowQueryError, WorkflowStartError, WorkflowUpdateError,
    },
};
use temporalio_common::search_attributes::SearchAttributes;

use super::{search_attributes as sa, task_queues};
use crate::{
    orders::{
        ClaimRequest, InputError, ManualContext, OrderRequest, ResolutionRecord, ResolveRequest,
        Stage, StageCounts, StaleStatus, Stamp, manual_workflow_id, query_workflow_id,
        stale_workflow_id, validate_operator, validate_order_id,
    },
    workflows::{
        manual_handle::ManualHandle, order_attributes, query_order::QueryOrder,
        stale_order::StaleOrder,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum OrderOpError {
    #[error("{0}")]
    Invalid(#[from] InputError),
    #[error("{0} was not found: check the order id, or it may not have reached that stage")]
    NotFound(String),
    #[error("{0}")]
    Rejected(String),
    #[error("Temporal refused the request: {0}")]
    Temporal(String),
}

fn interaction(workflow_id: &str, e: WorkflowInteractionError) -> OrderOpError {
    match e {
        WorkflowInteractionError::NotFound(_) => OrderOpError::NotFound(workflow_id.into()),
        other => OrderOpError::Temporal(other.to_string()),
    }
}

fn update_error(workflow_id: &str, e: WorkflowUpdateError) -> OrderOpError {
    match e {
        WorkflowUpdateError::NotFound(_) => OrderOpError::NotFound(workflow_id.into()),
        // The validator's words, as they are.
        WorkflowUpdateError::Failed(failure) => OrderOpError::Rejected(failure.message.clone()),
        WorkflowUpdateError::Rpc(status)
            if status
                .message()
                .contains("workflow execution already completed") =>
        {
            OrderOpError::Rejected(format!("{workflow_id} has already finished"))
        }
        other => OrderOpError::Temporal(other.to_string()),
    }
}

fn query_error(workflow_id: &str, e: WorkflowQueryError) -> OrderOpError {
    match e {
        WorkflowQueryError::NotFound(_) => OrderOpError::NotFound(workflow_id.into()),
        other => OrderOpError::Temporal(other.to_string()),
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
pub async fn start_order(
    client: &Client,
    order: OrderRequest,
) -> Result<StartOutcome, OrderOpError> {
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
        Err(e) => Err(OrderOpError::Temporal(e.to_string())),
    }
}

/// Resolves an order in the manual queue (an update: rejected input changes nothing).
pub async fn resolve_manual(
    client: &Client,
    order_id: &str,
    request: ResolveRequest,
) -> Result<ResolutionRecord, OrderOpError> {
    validate_order_id(order_id)?;
    request.validate()?;
    let id = manual_workflow_id(order_id);
    let result = client
        .get_workflow_handle::<ManualHandle>(id.clone())
        .execute_update(
            ManualHandle::resolve,
            request,
            WorkflowExecuteUpdateOptions::default(),
        )
        .await;
    match result {
        Ok(record) => Ok(record),
        Err(e) => Err(manual_update_error(client, &id, e).await),
    }
}

/// An update that failed on a ManualHandle. Updates to a closed workflow come back as
/// NotFound or an RPC error: if the order was resolved, say by whom instead.
async fn manual_update_error(client: &Client, id: &str, e: WorkflowUpdateError) -> OrderOpError {
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
        Ok(done) => OrderOpError::Rejected(done.already_resolved()),
        Err(_) => OrderOpError::Rejected(format!("{id} has already finished")),
    }
}

pub async fn claim(client: &Client, order_id: &str, operator: &str) -> Result<Stamp, OrderOpError> {
    validate_order_id(order_id)?;
    validate_operator(operator)?;
    let id = manual_workflow_id(order_id);
    let result = client
        .get_workflow_handle::<ManualHandle>(id.clone())
        .execute_update(
            ManualHandle::claim,
            ClaimRequest {
                operator: operator.to_string(),
            },
            WorkflowExecuteUpdateOptions::default(),
        )
        .await;
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(manual_update_error(client, &id, e).await),
    }
}

pub async fn release(client: &Client, order_id: &str, operator: &str) -> Result<(), OrderOpError> {
    validate_order_id(order_id)?;
    validate_operator(operator)?;
    let id = manual_workflow_id(order_id);
    let result = client
        .get_workflow_handle::<ManualHandle>(id.clone())
        .execute_update(
            ManualHandle::release,
            ClaimRequest {
                operator: operator.to_string(),
            },
            WorkflowExecuteUpdateOptions::default(),
        )
        .await;
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(manual_update_error(client, &id, e).await),
    }
}

/// The Go original's signal. Takes a workflow id (`manual-…`) or a bare order id.
pub async fn signal_manual(
    client: &Client,
    workflow_or_order_id: &str,
    resolution: &str,
) -> Result<String, OrderOpError> {
    let resolution = crate::orders::Resolution::parse(resolution)?;
    let order_id = workflow_or_order_id
        .strip_prefix("manual-")
        .unwrap_or(workflow_or_order_id);
    validate_order_id(order_id)?;
    let id = manual_workflow_id(order_id);
    // A signal cannot be refused by the workflow, so check it is still waiting first.
    let context = manual_context(client, order_id).await?;
    if let Some(done) = context.resolution {
        return Err(OrderOpError::Rejected(done.already_resolved()));
    }
    client
        .get_workflow_handle::<ManualHandle>(id.clone())
        .signal(
            ManualHandle::resolve_manual_order,
            resolution.as_str().to_string(),
            WorkflowSignalOptions::default(),
        )
        .await
        .map_err(|e| interaction(&id, e))?;
    Ok(id)
}

/// Skips a stale order's wait.
pub async fn retry_now(
    client: &Client,
    order_id: &str,
    operator: &str,
) -> Result<(), OrderOpError> {
    validate_order_id(order_id)?;
    validate_operator(operator)?;
    let id = stale_workflow_id(order_id);
    let status = stale_status(client, order_id).await?;
    if status.resolution.is_some() || status.retrying || status.retry_requested.is_some() {
        return Err(OrderOpError::Rejected(format!(
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

pub async fn manual_context(
    client: &Client,
    order_id: &str,
) -> Result<ManualContext, OrderOpError> {
    validate_order_id(order_id)?;
    let id = manual_workflow_id(order_id);
    client
        .get_workflow_handle::<ManualHandle>(id.clone())
        .query(ManualHandle::context, (), WorkflowQueryOptions::default())
        .await
        .map_err(|e| query_error(&id, e))
}

pub async fn stale_status(client: &Client, order_id: &str) -> Result<StaleStatus, OrderOpError> {
    validate_order_id(order_id)?;
    let id = stale_workflow_id(order_id);
    client
        .get_workflow_handle::<StaleOrder>(id.clone())
        .query(StaleOrder::status, (), WorkflowQueryOptions::default())
        .await
        .map_err(|e| query_error(&id, e))
}

pub async fn stage_counts(client: &Client) -> Result<StageCounts, OrderOpError> {
    let count = |query: String| async move {
        client
            .count_workflows(query, WorkflowCountOptions::default())
            .await
            .map(|c| c.count())
            .map_err(|e| OrderOpError::Temporal(e.to_string()))
    };
    let open = |stage: Stage| {
        format!(
            "ExecutionStatus = 'Running' AND {} = '{}'",
            sa::ORDER_STAGE.name(),
            stage.as_str()
        )
    };
    let resolved = |resolution: &str| {
        format!(
            "{} = 'resolved' AND {} = '{resolution}'",
            sa::ORDER_STAGE.name(),
            sa::ORDER_RESOLUTION.name()
        )
    };
    let resolved_all = count(format!("{} = 'resolved'", sa::ORDER_STAGE.name())).await?;
    let resolved_paid = count(resolved("paid")).await?;
    let resolved_failed = count(resolved("failed")).await?;
    Ok(StageCounts {
        querying: count(open(Stage::Querying)).await?,
        stale: count(open(Stage::Stale)).await?,
        manual: count(open(Stage::Manual)).await?,
        resolved_paid,
        resolved_failed,
        resolved_other: resolved_all.saturating_sub(resolved_paid + resolved_failed),
    })
}
