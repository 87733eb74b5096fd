//! Is this Temporal ready to reconcile orders: does it answer, and does every task queue
//! have workers polling it (in this process or any other)?

use std::time::{Duration, SystemTime};

use serde::Serialize;
use temporalio_client::{Client, NamespacedClient, tonic::IntoRequest};
use temporalio_common::protos::temporal::api::{
    enums::v1::TaskQueueType,
    taskqueue::v1::{PollerInfo, TaskQueue},
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
    /// Workers seen polling it within [`WORKER_SEEN_WITHIN`].
    pub pollers: usize,
    /// When a worker last polled it (RFC 3339), if any did in the last five minutes: how
    /// long a queue with none has been without.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
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
        let workers = queue_workers(client, queue).await?;
        queues.push(QueuePollers {
            queue,
            pollers: workers.running,
            last_seen: workers.last_seen.map(crate::domain::format::rfc3339),
        });
    }
    Ok(Readiness { queues })
}

/// How recently a worker must have polled a queue to count as running. Temporal lists a
/// poller for five minutes after its last poll, so a worker stopped four minutes ago is
/// still listed; a running one polls again as soon as a poll ends, and a poll waits at most
/// a minute on the server (measured on the dev server: an idle worker's activity poller was
/// last seen at most 48 s before, its workflow poller 15 s). Ninety seconds leaves room
/// for the clocks of the console and Temporal to differ a little.
pub const WORKER_SEEN_WITHIN: Duration = Duration::from_secs(90);

/// The workers on one task queue: how many polled it within [`WORKER_SEEN_WITHIN`], and
/// when any last did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueWorkers {
    pub running: usize,
    pub last_seen: Option<SystemTime>,
}

impl QueueWorkers {
    /// From the pollers Temporal lists and the time now.
    pub fn from_pollers(pollers: &[PollerInfo], now: SystemTime) -> QueueWorkers {
        let seen: Vec<SystemTime> = pollers
            .iter()
            .filter_map(|p| SystemTime::try_from(p.last_access_time?).ok())
            .collect();
        let running = seen
            .iter()
            .filter(|at| {
                now.duration_since(**at)
                    .map_or(true, |ago| ago <= WORKER_SEEN_WITHIN)
            })
            .count();
        QueueWorkers {
            running,
            last_seen: seen.into_iter().max(),
        }
    }

    /// Nothing on the queue can be read live (a query) or changed (an update) until a
    /// worker is back: the sentence that says so, or `None` while one runs.
    pub fn none_running(&self, queue: &str) -> Option<TemporalError> {
        (self.running == 0).then(|| TemporalError::NoWorker {
            queue: queue.to_string(),
            last_seen: self.last_seen.map(crate::domain::format::rfc3339),
        })
    }
}

/// The workers polling `queue` (its activity tasks for the upstream queue, its workflow
/// tasks for the others).
pub async fn queue_workers(client: &Client, queue: &str) -> Result<QueueWorkers, TemporalError> {
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
    Ok(QueueWorkers::from_pollers(
        &response.into_inner().pollers,
        SystemTime::now(),
    ))
}

/// Workers running on `queue`: those Temporal saw polling it within
/// [`WORKER_SEEN_WITHIN`].
pub async fn pollers(client: &Client, queue: &str) -> Result<usize, TemporalError> {
    Ok(queue_workers(client, queue).await?.running)
}

/// How long [`worker_running`] looks again before it says no worker runs: a worker that
/// is starting (the console's own, a redeployed host's) is listed from its first poll,
/// a moment after it starts.
pub const WORKER_STARTING_GRACE: Duration = Duration::from_secs(3);

/// Fails with [`TemporalError::NoWorker`] when no worker runs on `queue` (nor starts within
/// [`WORKER_STARTING_GRACE`]): a query there would wait half a minute for Temporal to give
/// up, and an update would too.
pub async fn worker_running(client: &Client, queue: &str) -> Result<(), TemporalError> {
    let until = tokio::time::Instant::now() + WORKER_STARTING_GRACE;
    loop {
        match queue_workers(client, queue).await?.none_running(queue) {
            None => return Ok(()),
            Some(none) if tokio::time::Instant::now() >= until => return Err(none),
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polled(ago_secs: u64, now: SystemTime) -> PollerInfo {
        PollerInfo {
            last_access_time: Some((now - Duration::from_secs(ago_secs)).into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_worker_stopped_minutes_ago_is_listed_but_not_running() {
        let now = SystemTime::now();
        // Temporal still lists a worker stopped four minutes ago.
        let stopped = QueueWorkers::from_pollers(&[polled(240, now), polled(100, now)], now);
        assert_eq!(stopped.running, 0);
        assert!(stopped.none_running("manual-handle").is_some());
        let newest = stopped.last_seen.expect("last seen");
        assert_eq!(
            now.duration_since(newest).map(|d| d.as_secs()).ok(),
            Some(100)
        );
        // An idle worker's poller, last seen within the window, runs.
        let idle = QueueWorkers::from_pollers(&[polled(240, now), polled(48, now)], now);
        assert_eq!(idle.running, 1);
        assert!(idle.none_running("manual-handle").is_none());
        // No poller at all: none runs, and none was seen.
        let never = QueueWorkers::from_pollers(&[], now);
        assert_eq!((never.running, never.last_seen), (0, None));
        let sentence = never
            .none_running("manual-handle")
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            sentence.contains("no worker runs the manual-handle queue"),
            "{sentence}"
        );
    }
}
