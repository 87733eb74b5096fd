//! Metrics: one Prometheus registry per process, the Temporal SDK's exporter's, holding the
//! SDK's worker metrics and ours (actions by kind and outcome, upstream calls by outcome,
//! page latency, live hub polls). Every process serves it at its exporter's address;
//! `serve` also at `/metrics`. The SDK keeps its registry private, so ours are recorded
//! through its meter rather than a second registry.

use std::{net::SocketAddr, sync::Arc, sync::OnceLock, time::Duration};
use temporalio_common::telemetry::{
    PrometheusExporterOptions,
    metrics::{
        CoreMeter, Counter, HistogramDuration, MetricKeyValue, MetricParameters, NewAttributes,
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
            "tp_page_duration",
            "time to answer a dashboard request, by section",
        )),
        live_polls: meter.counter(named(
            "tp_live_polls",
            "times the live hub asked Temporal for the counts",
        )),
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
