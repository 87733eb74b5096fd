//! A simulated bank or wallet: a real HTTP service with a configurable outcome mix, error
//! rates, latency and a hard requests-per-second limit. It counts what it receives, so
//! tests and benchmarks can prove the workers never exceed the limit.
//!
//! Order ids can script an outcome, for tests and live demos:
//! `paid-…` is paid, `failed-…` failed, `pending-…` stays pending, `down-…` always answers
//! 503, `slow-…` never answers in time, `throttle-…` always answers 429, `unknown-…`
//! answers 404 (the upstream does not know the order: not worth retrying), and
//! `flakyN-…` answers 503 N times, then paid; `refuseN-…` answers 503 to queries and
//! refuses its first N conclusions with 422. Any other id draws from the mix. A charge for
//! a `down-…` contract always answers 503.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

/// What the upstream does with requests; changeable at run time (`PUT /config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpstreamBehaviour {
    /// Of the answers that are verdicts, percent paid, failed and pending (sum 100).
    pub paid_pct: u32,
    pub failed_pct: u32,
    pub pending_pct: u32,
    /// Percent of requests that fail before any verdict.
    pub error_5xx_pct: u32,
    pub throttle_pct: u32,
    pub timeout_pct: u32,
    /// Added to every answer.
    pub latency_ms: u64,
    /// How long a "timeout" request hangs before it answers 504.
    pub hang_ms: u64,
    /// Requests in any one-second span beyond this are refused with 429.
    pub rps_limit: u32,
}

impl Default for UpstreamBehaviour {
    fn default() -> Self {
        UpstreamBehaviour {
            paid_pct: 80,
            failed_pct: 10,
            pending_pct: 10,
            error_5xx_pct: 5,
            throttle_pct: 2,
            timeout_pct: 1,
            latency_ms: 20,
            hang_ms: 30_000,
            rps_limit: 50,
        }
    }
}

impl UpstreamBehaviour {
    /// Every answer immediate and paid: for benchmarks.
    pub fn always_paid(rps_limit: u32) -> Self {
        UpstreamBehaviour {
            paid_pct: 100,
            failed_pct: 0,
            pending_pct: 0,
            error_5xx_pct: 0,
            throttle_pct: 0,
            timeout_pct: 0,
            latency_ms: 0,
            hang_ms: 30_000,
            rps_limit,
        }
    }

    pub fn validate(&self) -> Result<(), BehaviourError> {
        let verdicts = self
            .paid_pct
            .saturating_add(self.failed_pct)
            .saturating_add(self.pending_pct);
        if verdicts != 100 {
            return Err(BehaviourError::Verdicts(verdicts));
        }
        let errors = self
            .error_5xx_pct
            .saturating_add(self.throttle_pct)
            .saturating_add(self.timeout_pct);
        if errors > 100 {
            return Err(BehaviourError::Errors(errors));
        }
        if self.rps_limit == 0 {
            return Err(BehaviourError::NoLimit);
        }
        if self.latency_ms > MAX_LATENCY_MS || self.hang_ms > MAX_HANG_MS {
            return Err(BehaviourError::TooSlow);
        }
        Ok(())
    }
}

/// Longest added latency and longest hang the simulator accepts.
pub const MAX_LATENCY_MS: u64 = 60_000;
pub const MAX_HANG_MS: u64 = 600_000;

/// A behaviour the simulator refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BehaviourError {
    #[error("paid_pct + failed_pct + pending_pct must be 100, not {0}")]
    Verdicts(u32),
    #[error("error_5xx_pct + throttle_pct + timeout_pct must be at most 100, not {0}")]
    Errors(u32),
    #[error("rps_limit must be at least 1")]
    NoLimit,
    #[error("latency_ms must be at most {MAX_LATENCY_MS} and hang_ms at most {MAX_HANG_MS}")]
    TooSlow,
}

/// What the upstream has received, for tests, benchmarks and the live view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamStats {
    /// Every request, refused or not.
    pub requests: u64,
    /// Requests refused because they exceeded `rps_limit`: must stay 0.
    pub over_limit: u64,
    /// Most requests seen in any one-second span.
    pub peak_per_second: u32,
    pub status_queries: u64,
    pub conclusions: u64,
    pub distinct_conclusions: u64,
    pub charges: u64,
    pub distinct_charges: u64,
    pub receipts: u64,
    /// Charges asked after by their key (`GET /charges/{key}`).
    #[serde(default)]
    pub charge_lookups: u64,
}

#[derive(Default)]
struct Ledger {
    stats: UpstreamStats,
    recent: VecDeque<Instant>,
    per_order: HashMap<String, u32>,
    conclusions: HashMap<String, serde_json::Value>,
    /// Conclusions refused so far, per order (scripted `refuseN-…` orders).
    refused: HashMap<String, u32>,
    charges: HashMap<String, String>,
    /// Every key a charge was asked under, taken or not.
    charge_keys: std::collections::BTreeSet<String>,
    receipts: HashMap<String, String>,
}

/// The simulator's state: behaviour and ledger.
#[derive(Clone)]
pub struct SimulatedUpstream {
    behaviour: Arc<Mutex<UpstreamBehaviour>>,
    ledger: Arc<Mutex<Ledger>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves counters that are still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An outcome an order id scripts (`paid-…`, `flaky2-…`): how tests and live demos ask the
/// simulated bank for one. [`Script::id`] writes the id, [`Script::of`] reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Paid,
    Failed,
    Pending,
    /// Every query answers 503.
    Down,
    /// Every query hangs past its timeout.
    Slow,
    /// Every query answers 429.
    Throttle,
    /// 404: the bank does not know the order (not worth retrying).
    Unknown,
    /// 503 this many times, then paid.
    Flaky(u32),
    /// Queries answer 503 (the order reaches the manual queue); the first N conclusions
    /// are refused with 422, later ones recorded.
    RefuseConclusions(u32),
    /// Paid, but for one minor unit more than the order's amount (a reconciliation
    /// exception: the order goes to a person with both figures).
    Mismatch,
    /// For a contract: its charges go through, and its receipts are refused (422), so a
    /// term charges the customer and then fails.
    NoReceipt,
    /// For a contract: the bank takes each charge, and its answer is lost (503), so a
    /// term's charge is in doubt until someone asks the bank by its key.
    LostAnswer,
}

impl Script {
    pub fn flaky(failures: u32) -> Script {
        Script::Flaky(failures)
    }

    pub fn refusing(conclusions: u32) -> Script {
        Script::RefuseConclusions(conclusions)
    }

    /// The order id that scripts this outcome, with `name` to tell orders apart.
    pub fn id(self, name: &str) -> String {
        let prefix = match self {
            Script::Paid => "paid".to_string(),
            Script::Failed => "failed".into(),
            Script::Pending => "pending".into(),
            Script::Down => "down".into(),
            Script::Slow => "slow".into(),
            Script::Throttle => "throttle".into(),
            Script::Unknown => "unknown".into(),
            Script::Flaky(n) => format!("flaky{n}"),
            Script::RefuseConclusions(n) => format!("refuse{n}"),
            Script::Mismatch => "mismatch".into(),
            Script::NoReceipt => "noreceipt".into(),
            Script::LostAnswer => "lost".into(),
        };
        format!("{prefix}-{name}")
    }

    /// The outcome an order id scripts, if it scripts one.
    pub fn of(order_id: &str) -> Option<Script> {
        let (prefix, _) = order_id.split_once('-')?;
        match prefix {
            "paid" => Some(Script::Paid),
            "failed" => Some(Script::Failed),
            "pending" => Some(Script::Pending),
            "down" => Some(Script::Down),
            "slow" => Some(Script::Slow),
            "throttle" => Some(Script::Throttle),
            "unknown" => Some(Script::Unknown),
            "mismatch" => Some(Script::Mismatch),
            "noreceipt" => Some(Script::NoReceipt),
            "lost" => Some(Script::LostAnswer),
            p => {
                let numbered = |word: &str| p.strip_prefix(word).and_then(|n| n.parse().ok());
                numbered("flaky")
                    .map(Script::Flaky)
                    .or_else(|| numbered("refuse").map(Script::RefuseConclusions))
            }
        }
    }
}

fn verdict(status: &str, order_id: &str, seen: &StatusParams) -> Response {
    let mut body = serde_json::json!({
        "status": status,
        "reference": format!("ref-{order_id}"),
        "reason": if status == "failed" { "card_declined" } else { "" },
    });
    // The bank quotes the amount it saw: the order's, as the query said it.
    if let (Some(amount), Some(currency)) = (seen.amount, &seen.currency) {
        body["amount"] = amount.into();
        body["currency"] = currency.clone().into();
    }
    Json(body).into_response()
}

fn throttled() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "1")],
        "rate limit exceeded",
    )
        .into_response()
}

impl SimulatedUpstream {
    pub fn new(behaviour: UpstreamBehaviour) -> Self {
        SimulatedUpstream {
            behaviour: Arc::new(Mutex::new(behaviour)),
            ledger: Arc::new(Mutex::new(Ledger::default())),
        }
    }

    pub fn behaviour(&self) -> UpstreamBehaviour {
        lock(&self.behaviour).clone()
    }

    pub fn set_behaviour(&self, behaviour: UpstreamBehaviour) -> Result<(), BehaviourError> {
        behaviour.validate()?;
        *lock(&self.behaviour) = behaviour;
        Ok(())
    }

    /// Every idempotency key a charge was asked under, whether the bank took it or not.
    pub fn charge_keys(&self) -> Vec<String> {
        lock(&self.ledger).charge_keys.iter().cloned().collect()
    }

    /// The outcome the bank recorded for an order (`paid`, `cancelled`, …), if any.
    pub fn conclusion_of(&self, order_id: &str) -> Option<String> {
        let ledger = lock(&self.ledger);
        let held = ledger.conclusions.get(&format!("{order_id}-conclude"))?;
        held["resolution"].as_str().map(str::to_string)
    }

    pub fn stats(&self) -> UpstreamStats {
        lock(&self.ledger).stats.clone()
    }

    /// Counts a request; `false` if it is over the limit and must be refused.
    fn admit(&self) -> bool {
        let limit = lock(&self.behaviour).rps_limit;
        let now = Instant::now();
        let mut ledger = lock(&self.ledger);
        ledger.stats.requests += 1;
        while ledger
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            ledger.recent.pop_front();
        }
        if ledger.recent.len() as u32 >= limit {
            ledger.stats.over_limit += 1;
            tracing::warn!(limit, "upstream rate limit exceeded");
            return false;
        }
        ledger.recent.push_back(now);
        let in_window = ledger.recent.len() as u32;
        ledger.stats.peak_per_second = ledger.stats.peak_per_second.max(in_window);
        true
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/orders/{id}/status", get(order_status))
            .route("/orders/{id}/conclusion", post(conclude))
            .route("/charges", post(charge))
            .route("/charges/{key}", get(look_up_charge))
            .route("/receipts", post(receipt))
            .route("/stats", get(stats))
            .route("/config", get(get_config).put(put_config))
            .with_state(self.clone())
    }

    /// Serves on `addr` (port 0 for any free one) until the process ends.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "simulated upstream stopped");
            }
        });
        Ok(bound)
    }
}

#[derive(Deserialize)]
struct StatusParams {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
}

async fn order_status(
    State(sim): State<SimulatedUpstream>,
    Path(order_id): Path<String>,
    Query(params): Query<StatusParams>,
) -> Response {
    if !sim.admit() {
        return throttled();
    }
    let behaviour = sim.behaviour();
    let seen = {
        let mut ledger = lock(&sim.ledger);
        ledger.stats.status_queries += 1;
        let n = ledger.per_order.entry(order_id.clone()).or_insert(0);
        *n += 1;
        *n
    };
    tokio::time::sleep(Duration::from_millis(behaviour.latency_ms)).await;
    tracing::debug!(%order_id, provider = %params.provider, seen, "status query");
    let hang = || async move {
        tokio::time::sleep(Duration::from_millis(behaviour.hang_ms)).await;
        StatusCode::GATEWAY_TIMEOUT.into_response()
    };
    match Script::of(&order_id) {
        Some(Script::Paid) => return verdict("paid", &order_id, &params),
        Some(Script::Failed) => return verdict("failed", &order_id, &params),
        Some(Script::Pending) => return verdict("pending", &order_id, &params),
        Some(Script::Mismatch) => {
            let off = StatusParams {
                amount: Some(params.amount.unwrap_or(0).saturating_add(1)),
                currency: Some(params.currency.clone().unwrap_or_else(|| "USD".into())),
                provider: String::new(),
            };
            return verdict("paid", &order_id, &off);
        }
        Some(Script::Down | Script::RefuseConclusions(_)) => {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Some(Script::Slow) => return hang().await,
        Some(Script::Throttle) => return throttled(),
        Some(Script::Unknown) => {
            return (StatusCode::NOT_FOUND, format!("no order {order_id}")).into_response();
        }
        Some(Script::Flaky(n)) if seen > n => return verdict("paid", &order_id, &params),
        Some(Script::Flaky(_)) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        // A contract's script: an order named so is answered as any other.
        Some(Script::NoReceipt | Script::LostAnswer) | None => {}
    }
    let (error_roll, verdict_roll) = {
        let mut rng = rand::rng();
        (rng.random_range(0..100u32), rng.random_range(0..100u32))
    };
    if error_roll < behaviour.error_5xx_pct {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if error_roll < behaviour.error_5xx_pct + behaviour.throttle_pct {
        return throttled();
    }
    if error_roll < behaviour.error_5xx_pct + behaviour.throttle_pct + behaviour.timeout_pct {
        return hang().await;
    }
    if verdict_roll < behaviour.paid_pct {
        verdict("paid", &order_id, &params)
    } else if verdict_roll < behaviour.paid_pct + behaviour.failed_pct {
        verdict("failed", &order_id, &params)
    } else {
        verdict("pending", &order_id, &params)
    }
}

impl SimulatedUpstream {
    /// Counts a write and reads its Idempotency-Key, or the response that refuses it.
    #[allow(clippy::result_large_err)]
    fn admit_keyed(&self, headers: &HeaderMap) -> Result<String, Response> {
        if !self.admit() {
            return Err(throttled());
        }
        headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                (
                    StatusCode::BAD_REQUEST,
                    "an Idempotency-Key header is required",
                )
                    .into_response()
            })
    }
}

/// Admits a write that carries an idempotency key, and records it in the ledger.
fn keyed_write(
    sim: &SimulatedUpstream,
    headers: &HeaderMap,
    record: impl FnOnce(&mut Ledger, String) -> Response,
) -> Response {
    match sim.admit_keyed(headers) {
        Ok(key) => record(&mut lock(&sim.ledger), key),
        Err(refused) => refused,
    }
}

async fn conclude(
    State(sim): State<SimulatedUpstream>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let refusals = match Script::of(&order_id) {
        Some(Script::RefuseConclusions(n)) => n,
        _ => 0,
    };
    keyed_write(&sim, &headers, |ledger, key| {
        ledger.stats.conclusions += 1;
        let refused = ledger.refused.entry(order_id.clone()).or_insert(0);
        if *refused < refusals {
            *refused += 1;
            let why = format!("the bank refuses to record order {order_id}: reference mismatch");
            return (StatusCode::UNPROCESSABLE_ENTITY, why).into_response();
        }
        // The bank keeps one conclusion per order, the first it recorded under the key. The
        // same one again is a duplicate (answered as recorded); another outcome under that
        // key is refused with what it holds, as banks refuse a key reused with other terms.
        if let Some(held) = ledger.conclusions.get(&key) {
            let holds = held["resolution"].as_str().unwrap_or_default().to_string();
            if holds != body["resolution"].as_str().unwrap_or_default() {
                let by = held["resolved_by"].as_str().unwrap_or_default();
                let why = format!(
                    "the bank already recorded order {order_id} as {holds} (by {by}): \
                     it keeps one conclusion per order"
                );
                return (StatusCode::CONFLICT, why).into_response();
            }
            let answer = serde_json::json!({
                "order_id": order_id, "first": false, "resolution": holds,
            });
            return Json(answer).into_response();
        }
        let answer = serde_json::json!({
            "order_id": order_id, "first": true, "resolution": body["resolution"],
        });
        ledger.conclusions.insert(key, body);
        ledger.stats.distinct_conclusions += 1;
        Json(answer).into_response()
    })
}

async fn charge(
    State(sim): State<SimulatedUpstream>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let contract_id = body["contract_id"].as_str().unwrap_or_default();
    let script = Script::of(contract_id);
    let down = matches!(script, Some(Script::Down));
    let lost = matches!(script, Some(Script::LostAnswer));
    keyed_write(&sim, &headers, |ledger, key| {
        ledger.stats.charges += 1;
        ledger.charge_keys.insert(key.clone());
        if down {
            // A `down-…` contract's bank never takes the charge: its term retries.
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        let next = ledger.charges.len() + 1;
        let duplicate = ledger.charges.contains_key(&key);
        let charge_id = ledger
            .charges
            .entry(key)
            .or_insert_with(|| format!("ch_{next:06}"))
            .clone();
        if !duplicate {
            ledger.stats.distinct_charges += 1;
        }
        if lost {
            // A `lost-…` contract's bank charged; its answer never reaches the worker.
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Json(serde_json::json!({ "charge_id": charge_id, "duplicate": duplicate })).into_response()
    })
}

/// What the bank knows of a charge by its idempotency key: the charge, or 404 when it
/// never took one under that key.
async fn look_up_charge(State(sim): State<SimulatedUpstream>, Path(key): Path<String>) -> Response {
    if !sim.admit() {
        return throttled();
    }
    let mut ledger = lock(&sim.ledger);
    ledger.stats.charge_lookups += 1;
    match ledger.charges.get(&key) {
        Some(charge_id) => {
            Json(serde_json::json!({ "charge_id": charge_id, "key": key })).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            format!("the bank took no charge under the key {key:?}"),
        )
            .into_response(),
    }
}

async fn receipt(
    State(sim): State<SimulatedUpstream>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let contract_id = body["contract_id"].as_str().unwrap_or_default();
    let refused = matches!(Script::of(contract_id), Some(Script::NoReceipt));
    let why = format!("the bank has no address to send contract {contract_id}'s receipt to");
    keyed_write(&sim, &headers, |ledger, key| {
        ledger.stats.receipts += 1;
        if refused {
            return (StatusCode::UNPROCESSABLE_ENTITY, why).into_response();
        }
        ledger
            .receipts
            .entry(key)
            .or_insert_with(|| body.to_string());
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn stats(State(sim): State<SimulatedUpstream>) -> Json<UpstreamStats> {
    Json(sim.stats())
}

async fn get_config(State(sim): State<SimulatedUpstream>) -> Json<UpstreamBehaviour> {
    Json(sim.behaviour())
}

async fn put_config(
    State(sim): State<SimulatedUpstream>,
    Json(behaviour): Json<UpstreamBehaviour>,
) -> Response {
    match sim.set_behaviour(behaviour) {
        Ok(()) => Json(sim.behaviour()).into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_that_does_not_add_up_is_refused() {
        let sim = SimulatedUpstream::new(UpstreamBehaviour::default());
        let bad = UpstreamBehaviour {
            paid_pct: 90,
            ..UpstreamBehaviour::default()
        };
        let err = sim.set_behaviour(bad).unwrap_err().to_string();
        assert!(err.contains("must be 100"), "{err}");
        assert_eq!(sim.behaviour(), UpstreamBehaviour::default());
    }

    #[test]
    fn requests_over_the_limit_are_refused_and_counted() {
        let sim = SimulatedUpstream::new(UpstreamBehaviour::always_paid(3));
        let admitted = (0..5).filter(|_| sim.admit()).count();
        assert_eq!(admitted, 3);
        let stats = sim.stats();
        assert_eq!(stats.requests, 5);
        assert_eq!(stats.over_limit, 2);
        assert_eq!(stats.peak_per_second, 3);
    }

    #[test]
    fn order_ids_script_outcomes() {
        assert_eq!(Script::of("paid-1"), Some(Script::Paid));
        assert_eq!(Script::of("flaky2-x"), Some(Script::Flaky(2)));
        assert!(Script::of("ORD-1").is_none());
        for script in [
            Script::Down,
            Script::flaky(3),
            Script::refusing(1),
            Script::Unknown,
            Script::NoReceipt,
            Script::LostAnswer,
        ] {
            assert_eq!(Script::of(&script.id("a")), Some(script), "{script:?}");
        }
    }
}
