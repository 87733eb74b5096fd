//! Metrics: one Prometheus registry per process, the Temporal SDK's exporter's, holding the
//! SDK's worker metrics and ours (actions by kind and outcome, upstream calls by outcome,
//! page latency, live hub polls). Every process serves it at its exporter's address;
//! `serve` also at `/metrics`. The SDK keeps its registry private, so ours are recorded
//! through its meter rather than a second registry.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::Arc,
    sync::OnceLock,
    time::Duration,
};
use temporalio_common::telemetry::{
    PrometheusExporterOptions,
    metrics::{
        CoreMeter, Counter, GaugeF64, HistogramDuration, MetricKeyValue, MetricParameters,
        NewAttributes,
    },
    start_prometheus_metric_exporter,
};

/// Where a process's exporter listens unless configured: loopback, any free port (`serve`
/// reads it through `/metrics`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:0";

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("the metrics exporter cannot listen on {addr}: {cause}")]
    Listen { addr: SocketAddr, cause: String },
    #[error("the metrics exporter did not answer: {0}")]
    Scrape(String),
}

/// The process's meter and the instruments of ours.
pub struct Telemetry {
    meter: Arc<dyn CoreMeter>,
    /// Where the exporter serves the registry.
    pub address: SocketAddr,
    actions: Counter,
    upstream_calls: Counter,
    pages: HistogramDuration,
    live_polls: Counter,
    /// The gauges of what waits, one instrument a family, made when first set.
    gauges: std::sync::Mutex<HashMap<Gauge, (GaugeF64, HashSet<Labels>)>>,
}

/// A gauge's labels, in order: name and value.
pub type Labels = Vec<(&'static str, String)>;

/// The console's gauges of what waits, read from its watch's last round (never from a
/// Temporal call per scrape). Names and units follow Prometheus's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gauge {
    /// `{stage}`: querying, stale, manual.
    OrdersWaiting,
    ManualPastServiceLevel,
    ManualAtRisk,
    /// `{claim}`: claimed, unclaimed.
    ManualClaims,
    ManualAwaitingApproval,
    ManualOldestWaiting,
    ManualOldestApprovalWaiting,
    /// `{currency}`: orders and amount (major units) waiting in the manual queue.
    ManualOrdersByCurrency,
    ManualAmountWaiting,
    StaleDue,
    StatementImportsWaiting,
    StatementImportOldestWaiting,
    ChargesUnconfirmed,
    ChargeUnconfirmedOldest,
    OrdersDropped,
    /// `{task_queue}`.
    TaskQueuePollers,
    Ready,
    WatchLastSuccess,
    /// `{upstream}` (and `{outcome}`, `{quantile}`, `{state}`): the upstream panel.
    UpstreamCallsPerSecond,
    UpstreamWindowCalls,
    UpstreamLatency,
    UpstreamState,
}

impl Gauge {
    pub fn name(self) -> &'static str {
        match self {
            Gauge::OrdersWaiting => "tp_orders_waiting",
            Gauge::ManualPastServiceLevel => "tp_manual_orders_past_service_level",
            Gauge::ManualAtRisk => "tp_manual_orders_at_risk",
            Gauge::ManualClaims => "tp_manual_orders",
            Gauge::ManualAwaitingApproval => "tp_manual_orders_awaiting_approval",
            Gauge::ManualOldestWaiting => "tp_manual_oldest_waiting_seconds",
            Gauge::ManualOldestApprovalWaiting => "tp_manual_oldest_approval_waiting_seconds",
            Gauge::ManualOrdersByCurrency => "tp_manual_orders_by_currency",
            Gauge::ManualAmountWaiting => "tp_manual_amount_waiting",
            Gauge::StaleDue => "tp_stale_orders_due",
            Gauge::StatementImportsWaiting => "tp_statement_imports_waiting",
            Gauge::StatementImportOldestWaiting => "tp_statement_import_oldest_waiting_seconds",
            Gauge::ChargesUnconfirmed => "tp_charges_unconfirmed",
            Gauge::ChargeUnconfirmedOldest => "tp_charge_unconfirmed_oldest_seconds",
            Gauge::OrdersDropped => "tp_orders_dropped",
            Gauge::TaskQueuePollers => "tp_task_queue_pollers",
            Gauge::Ready => "tp_ready",
            Gauge::WatchLastSuccess => "tp_queue_watch_last_success_timestamp_seconds",
            Gauge::UpstreamCallsPerSecond => "tp_upstream_calls_per_second",
            Gauge::UpstreamWindowCalls => "tp_upstream_window_calls",
            Gauge::UpstreamLatency => "tp_upstream_latency_seconds",
            Gauge::UpstreamState => "tp_upstream_state",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Gauge::OrdersWaiting => "orders open in each stage (querying, stale, manual)",
            Gauge::ManualPastServiceLevel => {
                "orders in the manual queue past the service level (large orders sooner)"
            }
            Gauge::ManualAtRisk => {
                "orders in the manual queue past the warning, not yet past the service level"
            }
            Gauge::ManualClaims => "orders in the manual queue, claimed by someone or not",
            Gauge::ManualAwaitingApproval => {
                "orders whose proposed resolution awaits a second person's approval"
            }
            Gauge::ManualOldestWaiting => {
                "how long the oldest order in the manual queue has waited"
            }
            Gauge::ManualOldestApprovalWaiting => {
                "how long the oldest proposed resolution has awaited approval"
            }
            Gauge::ManualOrdersByCurrency => "orders in the manual queue, per currency",
            Gauge::ManualAmountWaiting => {
                "money waiting in the manual queue, per currency, in its major units"
            }
            Gauge::StaleDue => "stale orders whose retry time has passed by more than a minute",
            Gauge::StatementImportsWaiting => {
                "statement imports awaiting a second person's approval or being applied"
            }
            Gauge::StatementImportOldestWaiting => {
                "how long the oldest open statement import has been open"
            }
            Gauge::ChargesUnconfirmed => {
                "terms of recurring contracts whose charge had no answer, the bank not yet asked"
            }
            Gauge::ChargeUnconfirmedOldest => {
                "how long ago the oldest term whose charge is unconfirmed started"
            }
            Gauge::OrdersDropped => {
                "orders whose run ended without a resolution and that wait in no queue"
            }
            Gauge::TaskQueuePollers => "workers Temporal saw polling each task queue",
            Gauge::Ready => "1 when Temporal answers and every task queue has a worker, else 0",
            Gauge::WatchLastSuccess => "when the console last read what waits from Temporal",
            Gauge::UpstreamCallsPerSecond => "calls a second to each bank or wallet, last minute",
            Gauge::UpstreamWindowCalls => {
                "calls to each bank or wallet over the panel's window, by outcome"
            }
            Gauge::UpstreamLatency => "latency of each bank or wallet over the panel's window",
            Gauge::UpstreamState => {
                "1 for the state each bank or wallet is in (quiet, healthy, slow, throttling, down)"
            }
        }
    }
}

static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();

/// Starts the exporter on `listen` (the first call in a process; later calls return it as
/// it is). Needs a Tokio runtime.
pub fn init(listen: SocketAddr) -> Result<&'static Telemetry, TelemetryError> {
    if let Some(t) = TELEMETRY.get() {
        return Ok(t);
    }
    let options = PrometheusExporterOptions::builder()
        .socket_addr(listen)
        .counters_total_suffix(true)
        .use_seconds_for_durations(true)
        .build();
    let started =
        start_prometheus_metric_exporter(options).map_err(|e| TelemetryError::Listen {
            addr: listen,
            cause: e.to_string(),
        })?;
    let meter: Arc<dyn CoreMeter> = started.meter;
    let named = |name: &'static str, description: &'static str| {
        MetricParameters::builder()
            .name(name)
            .description(description)
            .build()
    };
    let telemetry = Telemetry {
        actions: meter.counter(named(
            "tp_actions",
            "what people and the gateway asked of Temporal, by kind and outcome",
        )),
        upstream_calls: meter.counter(named(
            "tp_upstream_calls",
            "calls to the bank or wallet, by call and outcome (429s are refusals)",
        )),
        pages: meter.histogram_duration(named(
            "tp_page_duration_seconds",
            "time to answer a dashboard request, by section",
        )),
        live_polls: meter.counter(named(
            "tp_live_polls",
            "times the live hub asked Temporal for the counts",
        )),
        gauges: Default::default(),
        address: started.bound_addr,
        meter,
    };
    Ok(TELEMETRY.get_or_init(|| telemetry))
}

/// The meter to give the SDK's runtime, once [`init`] has run.
pub fn meter() -> Option<Arc<dyn CoreMeter>> {
    TELEMETRY.get().map(|t| t.meter.clone())
}

fn with(f: impl FnOnce(&Telemetry)) {
    if let Some(t) = TELEMETRY.get() {
        f(t);
    }
}

fn attributes(
    t: &Telemetry,
    pairs: Vec<(&'static str, String)>,
) -> temporalio_common::telemetry::metrics::MetricAttributes {
    t.meter.new_attributes(NewAttributes::from(
        pairs.into_iter().map(|(k, v)| MetricKeyValue::new(k, v)),
    ))
}

/// An action (claim, resolve, create a contract …) and how it ended: `ok`, `refused` or
/// `failed`.
pub fn action(kind: &'static str, outcome: &'static str) {
    with(|t| {
        let a = attributes(t, vec![("kind", kind.into()), ("outcome", outcome.into())]);
        t.actions.add(1, &a);
    });
}

/// An upstream call and its outcome (`paid`, `failed`, `ok`, or the error reason).
pub fn upstream_call(call: &'static str, outcome: String) {
    with(|t| {
        let a = attributes(t, vec![("call", call.into()), ("outcome", outcome)]);
        t.upstream_calls.add(1, &a);
    });
}

/// How long a dashboard request took; `section` is its path's first segment.
pub fn page(section: &'static str, took: Duration) {
    with(|t| {
        let a = attributes(t, vec![("section", section.into())]);
        t.pages.record(took, &a);
    });
}

/// Sets a gauge family to `values` (labels, value); label sets it had before and not now
/// go to 0, so a currency or bank that stopped waiting reads 0, not its last figure.
pub fn set_gauges(gauge: Gauge, values: Vec<(Labels, f64)>) {
    with(|t| {
        let Ok(mut gauges) = t.gauges.lock() else {
            return;
        };
        let (instrument, seen) = gauges.entry(gauge).or_insert_with(|| {
            let params = MetricParameters::builder()
                .name(gauge.name())
                .description(gauge.help())
                .build();
            (t.meter.gauge_f64(params), HashSet::new())
        });
        let now: HashSet<Labels> = values.iter().map(|(l, _)| l.clone()).collect();
        for gone in seen.difference(&now) {
            instrument.record(0.0, &attributes(t, gone.clone()));
        }
        for (labels, value) in values {
            instrument.record(value, &attributes(t, labels));
        }
        seen.extend(now);
    });
}

/// Sets a gauge without labels.
pub fn set_gauge(gauge: Gauge, value: f64) {
    set_gauges(gauge, vec![(Vec::new(), value)]);
}

/// One poll of Temporal by the live hub.
pub fn live_poll() {
    with(|t| t.live_polls.add(1, &attributes(t, Vec::new())));
}

/// The registry as Prometheus reads it, from this process's exporter.
pub async fn scrape() -> Result<String, TelemetryError> {
    let t = TELEMETRY
        .get()
        .ok_or_else(|| TelemetryError::Scrape("the exporter is not running".into()))?;
    let scrape = |e: reqwest::Error| TelemetryError::Scrape(e.to_string());
    reqwest::get(format!("http://{}/metrics", t.address))
        .await
        .map_err(scrape)?
        .text()
        .await
        .map_err(scrape)
}
