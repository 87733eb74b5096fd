//! The console's watch on what waits: one round of Temporal calls every few seconds (the
//! queue's tally: five counts and the claimed orders; two stage counts, the overdue stale
//! orders, the open statement imports, the task queues' pollers; every minute, the charges
//! to confirm and the dropped orders) whose answer the queue
//! page's tabs and the `/metrics` gauges both read; and, less often, the ageing board
//! (every waiting order read through, a thousand a page), at most a tenth of the time: at
//! 2,000 waiting orders the board takes about a second and is read every 10. A scrape or a
//! page load never asks Temporal for these itself, so any number of pages and Prometheus
//! servers cost what one does. Each console replica keeps its own watch (nothing a second
//! replica needs lives here: it is re-read every round).

use std::time::{Duration, Instant, SystemTime};

use super::board::BoardCache;
use crate::{
    domain::listing::{ServiceLevel, UpstreamHealth, WaitingBoard},
    operations::queues::{WaitingFigures, waiting_figures},
    temporal::metrics::{Gauge, Labels, set_gauge, set_gauges},
};

/// How often the watch reads what waits unless configured (`[metrics] watch_secs`).
pub const DEFAULT_WATCH_EVERY: Duration = Duration::from_secs(5);

/// How long after a nudge the watch counts again: visibility shows a change a moment
/// after the workflow made it.
pub const NUDGE_SETTLES_IN: Duration = Duration::from_millis(300);

/// The board is read again only after this many times as long as its last read took
/// (and never more often than the watch's rounds): reading every waiting order takes at
/// most a tenth of the watch's time, whatever the queue's size.
pub const BOARD_READ_SHARE: u32 = 10;

/// How often the watch reads the charges to confirm (`operations::contracts::
/// unconfirmed_charges`: one list, and one history read per term that closed without
/// completing) and the dropped orders (`operations::dropped`: two lists, and one close
/// event per dropped order), whatever its own pace: either waits for a person for hours.
pub const CHARGES_READ_EVERY: Duration = Duration::from_secs(60);

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
            let mut board_due = Instant::now();
            let mut charges_due = Instant::now();
            loop {
                let started = Instant::now();
                if started >= charges_due {
                    if self.charges().await & self.dropped().await {
                        charges_due = started + CHARGES_READ_EVERY;
                    }
                } else if self.board.take_dropped_recount() {
                    self.dropped().await;
                }
                let with_board = started >= board_due;
                if self.round(with_board).await && with_board {
                    let took = started.elapsed();
                    board_due = started + (took * BOARD_READ_SHARE).max(self.every);
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.every) => {}
                    _ = self.board.nudged() => tokio::time::sleep(NUDGE_SETTLES_IN).await,
                }
            }
        });
    }

    /// One round: every figure read at once (the board too when `with_board`), then the
    /// gauges set; whether Temporal answered. What it did not answer keeps its last figure
    /// (the last-success gauge says how old it is).
    pub async fn round(&self, with_board: bool) -> bool {
        let (figures, readiness, upstreams) = tokio::join!(
            waiting_figures(&self.client, &self.service_level, with_board),
            self.readiness.get(&self.client),
            self.live.upstreams(),
        );
        let answered = match figures {
            Ok(figures) => {
                self.board.put_tally(figures.tally.clone());
                if let Some(board) = &figures.board {
                    self.board.put_board(board.clone());
                    board_gauges(board);
                }
                waiting_gauges(&figures);
                set_gauge(Gauge::WatchLastSuccess, unix_now());
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "the watch could not read what waits");
                false
            }
        };
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
        answered
    }
}

impl Watch {
    /// Reads the dropped orders and sets their gauge; whether Temporal answered.
    pub async fn dropped(&self) -> bool {
        match crate::operations::dropped::dropped_orders(&self.client).await {
            Ok(list) => {
                set_gauge(Gauge::OrdersDropped, count(list.rows.len()));
                self.board.put_dropped(list.rows.len(), list.partial);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "the watch could not read the dropped orders");
                false
            }
        }
    }

    /// Reads the charges to confirm and sets their gauges; whether Temporal answered.
    pub async fn charges(&self) -> bool {
        match crate::operations::contracts::unconfirmed_charges(&self.client).await {
            Ok(unconfirmed) => {
                let terms = unconfirmed.terms;
                let now = unix_now();
                let oldest = terms
                    .iter()
                    .filter_map(|t| crate::domain::format::epoch_secs(&t.started_at))
                    .map(|at| (now - at as f64).max(0.0))
                    .fold(0.0, f64::max);
                set_gauge(Gauge::ChargesUnconfirmed, count(terms.len()));
                set_gauge(Gauge::ChargeUnconfirmedOldest, oldest);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "the watch could not read the charges to confirm");
                false
            }
        }
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
    let tally = &f.tally;
    set_gauges(
        Gauge::OrdersWaiting,
        [
            ("querying", count(f.querying)),
            ("stale", count(f.stale)),
            ("manual", count(tally.all)),
        ]
        .into_iter()
        .map(|(stage, n)| (vec![("stage", stage.to_string())], n))
        .collect(),
    );
    set_gauge(Gauge::ManualPastServiceLevel, count(tally.breached));
    set_gauge(Gauge::ManualAtRisk, count(tally.at_risk));
    set_gauges(
        Gauge::ManualClaims,
        vec![
            (
                vec![("claim", "claimed".to_string())],
                count(tally.claimed()),
            ),
            (
                vec![("claim", "unclaimed".to_string())],
                count(tally.unclaimed),
            ),
        ],
    );
    set_gauge(
        Gauge::ManualAwaitingApproval,
        count(tally.awaiting_approval),
    );
    set_gauge(Gauge::StaleDue, count(f.stale_due));
    set_gauge(Gauge::StatementImportsWaiting, count(f.imports_open));
    set_gauge(
        Gauge::StatementImportOldestWaiting,
        f.oldest_import_secs as f64,
    );
}

/// The gauges only a read through every waiting order gives: the oldest, and the money.
fn board_gauges(board: &WaitingBoard) {
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
