//! The console's watch on what waits: one round of Temporal calls every few seconds (the
//! manual queue read through a thousand a page, four counts, the open statement imports,
//! the task queues' pollers) whose answer the queue page's ageing board and the `/metrics`
//! gauges both read. A scrape or a page load never asks Temporal for these itself, so any
//! number of pages and Prometheus servers cost what one does. Each console replica keeps
//! its own watch (nothing a second replica needs lives here: it is re-read every round).

use std::time::{Duration, SystemTime};

use super::board::BoardCache;
use crate::{
    domain::listing::{ServiceLevel, UpstreamHealth},
    operations::queues::{WaitingFigures, waiting_figures},
    temporal::metrics::{Gauge, Labels, set_gauge, set_gauges},
};

/// How often the watch reads what waits unless configured (`[metrics] watch_secs`).
pub const DEFAULT_WATCH_EVERY: Duration = Duration::from_secs(5);

/// What one round needs, cloned from the console's state.
#[derive(Clone)]
pub struct Watch {
    pub client: temporalio_client::Client,
    pub service_level: ServiceLevel,
    pub board: BoardCache,
    pub readiness: crate::web::health::ReadinessCache,
    pub live: super::hub::LiveHub,
    pub every: Duration,
}

impl Watch {
    /// Reads what waits every `every`, for as long as the process runs. The last-success
    /// gauge starts at the watch's start, so a console that never reaches Temporal is
    /// seen to be blind (`TpQueueFiguresStale`), not silent.
    pub fn spawn(self) {
        set_gauge(Gauge::WatchLastSuccess, unix_now());
        tokio::spawn(async move {
            loop {
                self.round().await;
                tokio::time::sleep(self.every).await;
            }
        });
    }

    /// One round: every figure read at once, then the gauges set. What Temporal did not
    /// answer keeps its last figure (the last-success gauge says how old it is).
    pub async fn round(&self) {
        let (figures, readiness, upstreams) = tokio::join!(
            waiting_figures(&self.client, &self.service_level),
            self.readiness.get(&self.client),
            self.live.upstreams(),
        );
        match figures {
            Ok(figures) => {
                self.board.put(figures.board.clone());
                waiting_gauges(&figures);
                set_gauge(Gauge::WatchLastSuccess, unix_now());
            }
            Err(e) => tracing::warn!(error = %e, "the watch could not read what waits"),
        }
        match readiness {
            Ok(r) => {
                set_gauges(
                    Gauge::TaskQueuePollers,
                    r.queues
                        .iter()
                        .map(|q| (vec![("task_queue", q.queue.to_string())], q.pollers as f64))
                        .collect(),
                );
                set_gauge(Gauge::Ready, f64::from(u8::from(r.ready())));
            }
            Err(_) => set_gauge(Gauge::Ready, 0.0),
        }
        upstream_gauges(&upstreams.rows);
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn count(n: impl TryInto<u32>) -> f64 {
    f64::from(n.try_into().unwrap_or(u32::MAX))
}

fn waiting_gauges(f: &WaitingFigures) {
    let board = &f.board;
    set_gauges(
        Gauge::OrdersWaiting,
        [
            ("querying", f.querying),
            ("stale", f.stale),
            ("manual", f.manual),
        ]
        .into_iter()
        .map(|(stage, n)| (vec![("stage", stage.to_string())], count(n)))
        .collect(),
    );
    set_gauge(Gauge::ManualPastServiceLevel, count(board.breached));
    set_gauge(Gauge::ManualAtRisk, count(board.at_risk));
    let unclaimed = board.orders().saturating_sub(board.claimed);
    set_gauges(
        Gauge::ManualClaims,
        vec![
            (vec![("claim", "claimed".to_string())], count(board.claimed)),
            (vec![("claim", "unclaimed".to_string())], count(unclaimed)),
        ],
    );
    set_gauge(
        Gauge::ManualAwaitingApproval,
        count(board.awaiting_approval),
    );
    set_gauge(Gauge::ManualOldestWaiting, board.oldest_secs as f64);
    set_gauge(
        Gauge::ManualOldestApprovalWaiting,
        board.oldest_approval_secs as f64,
    );
    let per_currency = |value: &dyn Fn(&crate::domain::listing::BoardRow) -> f64| {
        board
            .rows
            .iter()
            .map(|r| (vec![("currency", r.currency.clone())], value(r)))
            .collect::<Vec<(Labels, f64)>>()
    };
    set_gauges(
        Gauge::ManualOrdersByCurrency,
        per_currency(&|r| count(r.all_count())),
    );
    // Money in its major units as a float: a gauge for dashboards and alerts; the exact
    // figures are the board's integers.
    set_gauges(
        Gauge::ManualAmountWaiting,
        per_currency(&|r| r.all_total() as f64 / 10f64.powi(r.exponent as i32)),
    );
    set_gauge(Gauge::StaleDue, count(f.stale_due));
    set_gauge(Gauge::StatementImportsWaiting, count(f.imports_open));
    set_gauge(
        Gauge::StatementImportOldestWaiting,
        f.oldest_import_secs as f64,
    );
}

const STATES: [&str; 5] = ["quiet", "healthy", "slow", "throttling", "down"];

fn upstream_gauges(rows: &[UpstreamHealth]) {
    let labelled = |row: &UpstreamHealth, extra: Option<(&'static str, &str)>| {
        let mut labels: Labels = vec![("upstream", row.provider.clone())];
        if let Some((k, v)) = extra {
            labels.push((k, v.to_string()));
        }
        labels
    };
    set_gauges(
        Gauge::UpstreamCallsPerSecond,
        rows.iter()
            .map(|r| (labelled(r, None), f64::from(r.calls_per_sec_tenths) / 10.0))
            .collect(),
    );
    set_gauges(
        Gauge::UpstreamWindowCalls,
        rows.iter()
            .flat_map(|r| {
                [
                    ("answered", r.answered),
                    ("throttled", r.throttled),
                    ("5xx", r.errors_5xx),
                    ("timeout", r.timeouts),
                    ("rejected", r.rejected),
                ]
                .map(|(outcome, n)| (labelled(r, Some(("outcome", outcome))), f64::from(n)))
            })
            .collect(),
    );
    set_gauges(
        Gauge::UpstreamLatency,
        rows.iter()
            .flat_map(|r| {
                [("0.5", r.p50_ms), ("0.95", r.p95_ms), ("0.99", r.p99_ms)]
                    .map(|(q, ms)| (labelled(r, Some(("quantile", q))), f64::from(ms) / 1_000.0))
            })
            .collect(),
    );
    set_gauges(
        Gauge::UpstreamState,
        rows.iter()
            .flat_map(|r| {
                let now = r.state_word();
                STATES.map(|state| {
                    (
                        labelled(r, Some(("state", state))),
                        f64::from(u8::from(state == now)),
                    )
                })
            })
            .collect(),
    );
}
