//! The one poller behind every live page, and the simulated payments it reports.

use super::{LiveSnapshot, Tenths, UpstreamView};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};
use temporalio_client::Client;
use tokio::sync::{Mutex, watch};

use crate::{
    domain::format::rfc3339, domain::order::OrderRequest, operations::OpError,
    operations::orders::start_order, operations::queues::stage_counts,
    upstream::simulator::SimulatedUpstream,
};

pub const POLL: Duration = Duration::from_secs(1);
/// How long a poll waits for a worker's upstream tallies before naming it silent.
pub const WORKER_ASK: Duration = Duration::from_millis(500);
/// A page load takes the last snapshot if it is younger than this, instead of asking
/// Temporal again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);
/// Live streams one server holds open; more are refused (503) until some close.
pub const MAX_LIVE_STREAMS: usize = 500;

/// The simulated payments this server is starting: their rate and the task.
type Running = Arc<Mutex<Option<(Tenths, bool, tokio::task::JoinHandle<()>)>>>;

/// Simulated payments to start: each order like `template` (its id aside), `rate` a
/// second, at most `limit`; `demo` says the template's policy is demo pace.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub template: OrderRequest,
    pub rate: Tenths,
    pub demo: bool,
    pub limit: u64,
}

/// Shared by all requests; holds no workflow state, only the last snapshot.
#[derive(Clone)]
pub struct LiveHub {
    pub sender: Arc<watch::Sender<LiveSnapshot>>,
    simulation: Running,
    /// Times the hub asked Temporal, whatever the number of listeners and page loads.
    polls: Arc<AtomicU64>,
    /// The configured dispatch rate, in tenths, for the upstream panel.
    dispatch_limit: Arc<std::sync::atomic::AtomicU32>,
    /// Workers in other processes whose upstream tallies the panel adds up.
    worker_upstreams: Arc<std::sync::RwLock<Vec<String>>>,
    http: reqwest::Client,
    /// When the last snapshot was taken; held while one is being taken, so page loads
    /// that arrive together share one.
    taken_at: Arc<Mutex<Option<Instant>>>,
    /// Set when the server stops: open live streams end, so shutdown does not wait on
    /// them.
    closing: Arc<watch::Sender<bool>>,
}

impl LiveHub {
    pub fn new() -> Self {
        let (sender, _) = watch::channel(LiveSnapshot::default());
        LiveHub {
            sender: Arc::new(sender),
            simulation: Arc::new(Mutex::new(None)),
            polls: Arc::new(AtomicU64::new(0)),
            dispatch_limit: Arc::new(std::sync::atomic::AtomicU32::new(0)),
            worker_upstreams: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(WORKER_ASK)
                .build()
                .unwrap_or_default(),
            taken_at: Arc::new(Mutex::new(None)),
            closing: Arc::new(watch::channel(false).0),
        }
    }

    /// Ends every open live stream; new ones end at once.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`close`](Self::close) has been called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closed| *closed).await;
    }

    /// Whether another live stream may open.
    pub fn has_room(&self) -> bool {
        self.sender.receiver_count() < MAX_LIVE_STREAMS
    }

    /// The last snapshot if it is fresh, else a new one (published to every stream):
    /// page loads cost Temporal at most one poll per [`FRESH_FOR`].
    pub async fn latest(
        &self,
        client: &Client,
        simulator: Option<&SimulatedUpstream>,
    ) -> Result<LiveSnapshot, OpError> {
        let mut taken_at = self.taken_at.lock().await;
        if taken_at.is_some_and(|at| at.elapsed() < FRESH_FOR) {
            let mut snapshot = self.sender.borrow().clone();
            // What this process knows by itself is always current.
            let simulating = self.simulating().await;
            snapshot.simulating = simulating.map(|(rate, _)| rate);
            snapshot.demo_pace = simulating.is_some_and(|(_, demo)| demo);
            snapshot.upstream_failure_pct = simulator.map(|s| s.behaviour().error_5xx_pct);
            return Ok(snapshot);
        }
        let snapshot = self.snapshot(client, simulator, &mut None).await?;
        self.sender.send_replace(snapshot.clone());
        *taken_at = Some(Instant::now());
        Ok(snapshot)
    }

    /// The rate of this server's simulated payments, and whether at demo pace.
    async fn simulating(&self) -> Option<(Tenths, bool)> {
        self.simulation
            .lock()
            .await
            .as_ref()
            .filter(|(_, _, task)| !task.is_finished())
            .map(|(rate, demo, _)| (*rate, *demo))
    }

    /// How many times the hub has asked Temporal since it was made.
    pub fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// Polls Temporal once a second while anyone listens.
    pub fn spawn_poller(&self, client: Client, simulator: Option<SimulatedUpstream>) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut last: Option<(usize, Instant)> = None;
            loop {
                tokio::time::sleep(POLL).await;
                if hub.sender.receiver_count() == 0 {
                    last = None;
                    continue;
                }
                match hub.snapshot(&client, simulator.as_ref(), &mut last).await {
                    Ok(s) => {
                        hub.sender.send_replace(s);
                        *hub.taken_at.lock().await = Some(Instant::now());
                    }
                    Err(e) => tracing::warn!(error = %e, "live poll failed"),
                }
            }
        });
    }

    /// The counts now, and the resolution rate since `last`.
    pub async fn snapshot(
        &self,
        client: &Client,
        simulator: Option<&SimulatedUpstream>,
        last: &mut Option<(usize, Instant)>,
    ) -> Result<LiveSnapshot, OpError> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        crate::temporal::metrics::live_poll();
        // The worker tallies are asked while Temporal counts, not after.
        let (counts, upstreams) = tokio::join!(stage_counts(client), self.upstreams());
        let counts = counts?;
        let resolved = counts.resolved_paid + counts.resolved_failed + counts.resolved_other;
        let now = Instant::now();
        let resolved_per_sec = match *last {
            Some((before, at)) => Tenths::from_rate(
                resolved.saturating_sub(before) as f64
                    / now.duration_since(at).as_secs_f64().max(0.001),
            ),
            None => Tenths(0),
        };
        *last = Some((resolved, now));
        let simulating = self.simulating().await;
        Ok(LiveSnapshot {
            counts,
            resolved_per_sec,
            at: rfc3339(SystemTime::now()),
            simulating: simulating.map(|(rate, _)| rate),
            demo_pace: simulating.is_some_and(|(_, demo)| demo),
            upstream_failure_pct: simulator.map(|s| s.behaviour().error_5xx_pct),
            upstream_throttle_pct: simulator.map(|s| s.behaviour().throttle_pct),
            dispatch_limit_tenths: self.dispatch_limit.load(Ordering::Relaxed),
            upstreams: upstreams.rows,
            sees_upstream_calls: upstreams.sees_calls,
            silent_workers: upstreams.silent_workers,
        })
    }

    /// Adds workers whose upstream tallies the panel adds up (their `/upstreams`).
    pub fn add_worker_upstreams(&self, urls: Vec<String>) {
        if let Ok(mut known) = self.worker_upstreams.write() {
            known.extend(urls);
        }
    }

    /// Every upstream's figures: this process's workers' calls plus those the workers
    /// in `dashboard.worker_upstreams` report, all asked at once, each within
    /// `WORKER_ASK` (one that does not answer is named, not waited for).
    pub async fn upstreams(&self) -> UpstreamView {
        let urls = self
            .worker_upstreams
            .read()
            .map(|u| u.clone())
            .unwrap_or_default();
        let asked = urls.iter().map(|url| async move {
            let answer = async {
                let response = self.http.get(url).send().await?.error_for_status()?;
                response
                    .json::<Vec<crate::upstream::window::UpstreamTally>>()
                    .await
            };
            (url, answer.await)
        });
        let mut tallies = crate::upstream::window::tallies();
        let mut silent_workers = Vec::new();
        for (url, answer) in futures::future::join_all(asked).await {
            match answer {
                Ok(theirs) => tallies.extend(theirs),
                Err(e) => {
                    tracing::warn!(worker = %url, error = %e, "a worker's upstream tallies did not come");
                    silent_workers.push(url.clone());
                }
            }
        }
        UpstreamView {
            rows: crate::upstream::window::health_of(tallies),
            sees_calls: crate::upstream::window::watched() || !urls.is_empty(),
            silent_workers,
        }
    }

    /// The dispatch rate the upstream panel compares calls with.
    pub fn set_dispatch_limit(&self, rps: f64) {
        self.dispatch_limit
            .store(Tenths::from_rate(rps).0, Ordering::Relaxed);
    }

    /// The last snapshot taken, without asking Temporal.
    pub fn current(&self) -> LiveSnapshot {
        self.sender.borrow().clone()
    }

    /// Starts simulated payments as `plan` says (replacing any), or stops them at a rate of
    /// zero; they stop by themselves after `plan.limit` orders.
    pub async fn simulate(&self, client: Client, plan: Simulation) {
        let Simulation {
            template,
            rate,
            demo,
            limit,
        } = plan;
        let mut slot = self.simulation.lock().await;
        if let Some((_, _, task)) = slot.take() {
            task.abort();
        }
        if rate.0 == 0 {
            return;
        }
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.as_rate()));
            let run = rfc3339(SystemTime::now()).replace([':', '-'], "");
            for n in 1..=limit {
                tick.tick().await;
                let order_id = format!("LIVE-{run}-{n}");
                let order = OrderRequest {
                    amount: Some(crate::domain::money::simulated_amount(n)),
                    reference: Some(format!("GW-{order_id}")),
                    created_at: Some(rfc3339(SystemTime::now())),
                    order_id,
                    ..template.clone()
                };
                if let Err(e) = start_order(&client, order).await {
                    tracing::warn!(error = %e, "simulated order not started");
                }
            }
        });
        *slot = Some((rate, demo, task));
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}
