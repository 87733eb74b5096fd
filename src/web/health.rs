//! What load balancers and Prometheus ask: is the process up, is it ready (Temporal answers
//! and every task queue has workers), and its metrics.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::state::AppState;
use crate::temporal::{metrics, readiness};

/// 200 with the pollers per queue when Temporal answers and every queue has a worker;
/// 503 otherwise, saying what is missing.
pub async fn ready(State(state): State<AppState>) -> Response {
    match readiness::check(&state.client).await {
        Ok(r) if r.ready() => (StatusCode::OK, Json(r)).into_response(),
        Ok(r) => (StatusCode::SERVICE_UNAVAILABLE, Json(r)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: Temporal did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "Temporal did not answer").into_response()
        }
    }
}

/// The process's metrics registry, in Prometheus's text format.
pub async fn metrics() -> Response {
    match metrics::scrape().await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics are not available").into_response()
        }
    }
}
