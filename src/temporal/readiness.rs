//! Is this Temporal ready to reconcile orders: does it answer, and does every task queue
//! have workers polling it (in this process or any other)?

use serde::Serialize;
use temporalio_client::{Client, NamespacedClient, tonic::IntoRequest};
use temporalio_common::protos::temporal::api::{
    enums::v1::TaskQueueType, taskqueue::v1::TaskQueue,
    workflowservice::v1::DescribeTaskQueueRequest,
};

use super::{TemporalError, names::task_queues};

/// Pollers Temporal has seen recently on each task queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub queues: Vec<QueuePollers>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuePollers {
    pub queue: &'static str,
    pub pollers: usize,
}

impl Readiness {
    /// Every queue has at least one worker polling it.
    pub fn ready(&self) -> bool {
        self.queues.iter().all(|q| q.pollers > 0)
    }
}

/// Asks Temporal about each of our task queues; an error means it did not answer.
pub async fn check(client: &Client) -> Result<Readiness, TemporalError> {
    let mut queues = Vec::new();
    for queue in task_queues::ALL {
        queues.push(QueuePollers {
            queue,
            pollers: pollers(client, queue).await?,
        });
    }
    Ok(Readiness { queues })
}

/// Workers Temporal has seen polling `queue` recently (its activity tasks for the upstream
/// queue, its workflow tasks for the others).
pub async fn pollers(client: &Client, queue: &str) -> Result<usize, TemporalError> {
    let kind = if queue == task_queues::UPSTREAM {
        TaskQueueType::Activity
    } else {
        TaskQueueType::Workflow
    };
    let request = DescribeTaskQueueRequest {
        namespace: client.namespace(),
        task_queue: Some(TaskQueue {
            name: queue.to_string(),
            ..Default::default()
        }),
        task_queue_type: kind as i32,
        ..Default::default()
    };
    let response = client
        .connection()
        .workflow_service()
        .describe_task_queue(request.into_request())
        .await?;
    Ok(response.into_inner().pollers.len())
}
