//! What load balancers and Prometheus ask: is the process up, is it ready (Temporal answers
//! and every task queue has workers; cached), and its metrics (served on the exporter's own
//! listener, `[metrics] listen`, not on the console's port).

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Mutex;

use super::state::AppState;
use crate::temporal::readiness::{self, Readiness};

/// How long one answer of Temporal's about the task queues is reused: any number of
/// probes cost at most one round of Temporal calls in this time.
pub const READINESS_FRESH_FOR: Duration = Duration::from_secs(1);

/// The last readiness answer and when it was taken; held while a new one is asked for, so
/// probes that arrive together share it.
#[derive(Clone, Default)]
pub struct ReadinessCache(Arc<Mutex<Option<Answer>>>);

/// When an answer was taken, and the answer.
type Answer = (Instant, Result<Readiness, String>);

impl ReadinessCache {
    pub async fn get(&self, client: &temporalio_client::Client) -> Result<Readiness, String> {
        let mut last = self.0.lock().await;
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < READINESS_FRESH_FOR
        {
            return answer.clone();
        }
        let answer = readiness::check(client).await.map_err(|e| e.to_string());
        *last = Some((Instant::now(), answer.clone()));
        answer
    }
}

impl ReadinessCache {
    /// The last answer taken (the console's watch takes one every few seconds), without
    /// asking Temporal: `None` before the first, or while one is being taken.
    pub fn last(&self) -> Option<Result<Readiness, String>> {
        let last = self.0.try_lock().ok()?;
        last.as_ref().map(|(_, answer)| answer.clone())
    }
}

/// 200 with the pollers per queue when Temporal answers and every queue has a worker;
/// 503 otherwise, saying what is missing.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.readiness.get(&state.client).await {
        Ok(r) if r.ready() => (StatusCode::OK, Json(r)).into_response(),
        Ok(r) => (StatusCode::SERVICE_UNAVAILABLE, Json(r)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: Temporal did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "Temporal did not answer").into_response()
        }
    }
}
