//! Runs the Temporal workers: one per task queue, on a thread of their own (the SDK's
//! `Worker::run` is not `Send`), beside whatever else the process serves.

use std::{sync::Arc, thread::JoinHandle};
use temporalio_client::Client;
use temporalio_common::telemetry::TelemetryOptions;
use temporalio_sdk::{Runtime, Worker, WorkerOptions, runtime::RuntimeOptions};

use crate::{
    domain::contract::ContractLimits,
    temporal::names::task_queues,
    upstream::activities::UpstreamActivities,
    workflows::charge_lookup::ChargeLookup,
    workflows::console_sessions::ConsoleSessions,
    workflows::contract_change::{ChangeActivities, ContractChange},
    workflows::manual_handle::ManualHandle,
    workflows::query_order::QueryOrder,
    workflows::recurring_payment::RecurringPayment,
    workflows::settlement_check::SettlementActivities,
    workflows::stale_order::StaleOrder,
    workflows::statement_import::StatementImport,
    workflows::term_check::ContractActivities,
};

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("unknown task queue {0:?}: choose from {all}", all = task_queues::ALL.join(", "))]
    UnknownQueue(String),
    #[error("could not set up the worker for {queue}: {message}")]
    Setup { queue: String, message: String },
    #[error("the worker for {queue} stopped: {message}")]
    Run { queue: String, message: String },
    #[error("the worker thread could not start: {0}")]
    Thread(String),
    #[error("the upstream tallies cannot be served on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Serves this process's upstream tallies at `GET /upstreams` (JSON) on `addr`, for the
/// consoles whose upstream panels add them up (`dashboard.worker_upstreams`); returns the
/// address bound. Like `/metrics`, it says how the banks answered, nothing about orders.
pub async fn serve_upstream_tallies(
    addr: std::net::SocketAddr,
) -> Result<std::net::SocketAddr, WorkerError> {
    let failed = |source| WorkerError::Listen { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    let app = axum::Router::new().route(
        "/upstreams",
        axum::routing::get(|| async { axum::Json(crate::upstream::window::tallies()) }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "upstream tallies stopped");
        }
    });
    Ok(bound)
}

/// What a worker process runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub queues: Vec<String>,
    /// Base URL of the bank or wallet.
    pub upstream_url: String,
    /// Most upstream calls per second, for all workers together (Temporal enforces it).
    pub upstream_rps: f64,
    /// The bounds each term of a contract is held to before it charges (`[contracts]`).
    pub contract_limits: ContractLimits,
    /// How far a statement entry's money may be from an order's and still settle it
    /// (`[statements] amount_tolerance_minor`; 0: exactly).
    pub statement_tolerance_minor: i64,
}

impl WorkerConfig {
    pub fn all_queues(upstream_url: impl Into<String>, upstream_rps: f64) -> Self {
        WorkerConfig {
            queues: task_queues::ALL.iter().map(|q| q.to_string()).collect(),
            upstream_url: upstream_url.into(),
            upstream_rps,
            contract_limits: ContractLimits::default(),
            statement_tolerance_minor: 0,
        }
    }

    pub fn validate(&self) -> Result<(), WorkerError> {
        for queue in &self.queues {
            if !task_queues::ALL.contains(&queue.as_str()) {
                return Err(WorkerError::UnknownQueue(queue.clone()));
            }
        }
        if !(self.upstream_rps.is_finite() && self.upstream_rps > 0.0) {
            return Err(WorkerError::Setup {
                queue: task_queues::UPSTREAM.into(),
                message: format!(
                    "the upstream rate must be above zero, not {}",
                    self.upstream_rps
                ),
            });
        }
        Ok(())
    }
}

fn options_for(
    queue: &str,
    config: &WorkerConfig,
    client: &Client,
) -> Result<WorkerOptions, WorkerError> {
    let setup = |e: &dyn std::fmt::Display| WorkerError::Setup {
        queue: queue.to_string(),
        message: e.to_string(),
    };
    let options = match queue {
        task_queues::QUERY_ORDER => WorkerOptions::new(queue)
            .register_workflow::<QueryOrder>()
            .map_err(|e| setup(&e))?
            .build(),
        task_queues::STALE_ORDER => WorkerOptions::new(queue)
            .register_workflow::<StaleOrder>()
            .map_err(|e| setup(&e))?
            .build(),
        task_queues::MANUAL_HANDLE => WorkerOptions::new(queue)
            .register_workflow::<ManualHandle>()
            .and_then(|o| o.register_workflow::<ConsoleSessions>())
            .and_then(|o| o.register_workflow::<StatementImport>())
            .map_err(|e| setup(&e))?
            // An order asks the import a settlement names before it settles.
            .register_activities(SettlementActivities::new(
                client.clone(),
                config.statement_tolerance_minor,
            ))
            .build(),
        task_queues::RECURRING_SCHEDULE => WorkerOptions::new(queue)
            .register_workflow::<RecurringPayment>()
            .and_then(|o| o.register_workflow::<ContractChange>())
            // Someone asks the bank what became of a term's charge that had no answer.
            .and_then(|o| o.register_workflow::<ChargeLookup>())
            .map_err(|e| setup(&e))?
            // A term checks its contract's schedule and rules before it charges.
            .register_activities(ContractActivities::new(config.contract_limits.clone()))
            // A contract change's record is confirmed against the contract's schedule.
            .register_activities(ChangeActivities)
            .build(),
        task_queues::UPSTREAM => WorkerOptions::new(queue)
            .register_activities(UpstreamActivities::new(&config.upstream_url))
            // Server-side: the limit holds across every worker polling this queue.
            .max_task_queue_activities_per_second(config.upstream_rps)
            .build(),
        other => return Err(WorkerError::UnknownQueue(other.to_string())),
    };
    Ok(options)
}

type Shutdown = Arc<dyn Fn() + Send + Sync>;

/// Workers running on their own thread.
pub struct RunningWorkers {
    shutdowns: Vec<Shutdown>,
    thread: JoinHandle<Result<(), WorkerError>>,
}

impl RunningWorkers {
    /// Asks every worker to stop polling; in-flight tasks finish first.
    pub fn shutdown(&self) {
        for stop in &self.shutdowns {
            stop();
        }
    }

    /// Waits for the workers to end (after `shutdown`, or an error).
    pub fn join(self) -> Result<(), WorkerError> {
        self.thread
            .join()
            .map_err(|_| WorkerError::Thread("the worker thread panicked".into()))?
    }

    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// The one way to stop workers from async code: stop polling, let in-flight tasks
    /// finish, wait for the thread.
    pub async fn stop(self) -> Result<(), WorkerError> {
        self.shutdown();
        tokio::task::spawn_blocking(move || self.join())
            .await
            .map_err(|e| WorkerError::Thread(e.to_string()))?
    }

    /// Resolves when the workers have ended by themselves (an error, say).
    pub async fn finished(&self) {
        const CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
        while !self.is_finished() {
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }
}

/// Starts one worker per configured queue. Must be called inside a Tokio runtime.
pub fn start(client: Client, config: WorkerConfig) -> Result<RunningWorkers, WorkerError> {
    config.validate()?;
    if config.queues.iter().any(|q| q == task_queues::UPSTREAM) {
        crate::upstream::window::watch();
    }
    let handle =
        tokio::runtime::Handle::try_current().map_err(|e| WorkerError::Thread(e.to_string()))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Vec<Shutdown>, WorkerError>>();
    let thread = std::thread::Builder::new()
        .name("temporal-workers".into())
        .spawn(move || {
            handle.block_on(async move {
                let built: Result<Vec<Worker>, WorkerError> = (|| {
                    let setup = |e: &dyn std::fmt::Display| WorkerError::Setup {
                        queue: "*".into(),
                        message: e.to_string(),
                    };
                    // The SDK's worker metrics go to the process's registry, if it has one.
                    let telemetry = TelemetryOptions::builder()
                        .maybe_metrics(crate::temporal::metrics::meter())
                        .build();
                    let options = RuntimeOptions::builder()
                        .telemetry_options(telemetry)
                        .build()
                        .map_err(|e| setup(&e))?;
                    let runtime = Runtime::from_current_tokio(options).map_err(|e| setup(&e))?;
                    config
                        .queues
                        .iter()
                        .map(|queue| {
                            Worker::new(
                                &runtime,
                                client.clone(),
                                options_for(queue, &config, &client)?,
                            )
                            .map_err(|e| WorkerError::Setup {
                                queue: queue.clone(),
                                message: e.to_string(),
                            })
                        })
                        .collect()
                })();
                let mut workers = match built {
                    Ok(workers) => workers,
                    Err(e) => {
                        let _ = ready_tx.send(Err(WorkerError::Setup {
                            queue: "*".into(),
                            message: e.to_string(),
                        }));
                        return Err(e);
                    }
                };
                let shutdowns: Vec<Shutdown> = workers
                    .iter()
                    .map(|w| Arc::new(w.shutdown_handle()) as Shutdown)
                    .collect();
                let _ = ready_tx.send(Ok(shutdowns));
                let queues: Vec<String> =
                    workers.iter().map(|w| w.task_queue().to_string()).collect();
                tracing::info!(?queues, "workers polling");
                let results = futures::future::join_all(workers.iter_mut().map(|w| w.run())).await;
                for (queue, result) in queues.into_iter().zip(results) {
                    if let Err(e) = result {
                        return Err(WorkerError::Run {
                            queue,
                            message: e.to_string(),
                        });
                    }
                }
                Ok(())
            })
        })
        .map_err(|e| WorkerError::Thread(e.to_string()))?;
    let shutdowns = ready_rx
        .recv()
        .map_err(|_| WorkerError::Thread("the worker thread ended before it was ready".into()))??;
    Ok(RunningWorkers { shutdowns, thread })
}
