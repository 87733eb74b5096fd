//! The CSV downloads: the audit trail (finance, admin) and the contracts (anyone who reads
//! them), each checked against the session like a server function.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    auth::{Backend, check},
    state::AppState,
};

/// A refusal outside a server function: its status and its sentence.
pub(crate) fn refusal(refused: super::error::AppError) -> Response {
    let status = StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, refused.to_string()).into_response()
}

/// A CSV download named `file`.
fn csv(file: &'static str, text: String) -> Response {
    let disposition = format!("attachment; filename=\"{file}\"");
    let mut response = (
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        text,
    )
        .into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Every contract and its terms as CSV, for whoever may read the contracts.
pub async fn contracts_csv(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    if let Err(refused) = check(
        who,
        crate::domain::access::Action::Read,
        &super::auth::origin_of(&request),
    ) {
        return refusal(refused);
    }
    match crate::operations::contracts::all_details(&state.client).await {
        Ok(details) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"contracts.csv\"",
                ),
            ],
            crate::domain::contract::contracts_csv(&details),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "contracts export failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporal did not answer: try again in a moment",
            )
                .into_response()
        }
    }
}

/// The manual queue as CSV (whoever reads the queue: support, finance), filtered as the
/// queue page's address says, oldest first where the store sorts.
pub async fn queue_csv(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    axum::extract::Query(filter): axum::extract::Query<crate::domain::listing::QueueFilter>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    let origin = super::auth::origin_of(&request);
    let person = match check(who, crate::domain::access::Action::Read, &origin) {
        Ok(p) => p,
        Err(refused) => return refusal(refused),
    };
    let sla = state.service_level.clone();
    let exported =
        crate::operations::queues::export(&state.client, &filter, Some(&person.name), &sla).await;
    match exported {
        Ok((rows, cut)) => {
            tracing::info!(target: "audit", actor = ?person.name, action = "queue-export", origin = ?origin, rows = rows.len(), outcome = "ok");
            let mut text = crate::domain::listing::queue_csv(&rows);
            if cut {
                text.push_str(&format!(
                    "\"(stopped at {} orders: narrow the filter)\"\r\n",
                    crate::operations::queues::MAX_EXPORT_ROWS
                ));
            }
            csv("queue.csv", text)
        }
        Err(crate::operations::OpError::Invalid(e)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "queue export failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporal did not answer: try again in a moment",
            )
                .into_response()
        }
    }
}

/// A statement import's review as CSV (whoever reads the console).
pub async fn statement_csv(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    if let Err(refused) = check(
        who,
        crate::domain::access::Action::Read,
        &super::auth::origin_of(&request),
    ) {
        return refusal(refused);
    }
    let id = query.get("id").cloned().unwrap_or_default();
    match crate::operations::statements::all_entries(&state.client, &id).await {
        Ok((entries, left_out)) => csv(
            "statement.csv",
            crate::domain::statement::review_csv(&entries, &left_out),
        ),
        Err(e) => refusal(super::error::AppError::from(e)),
    }
}

/// The audit trail as CSV (finance and admin), filtered as the audit page's address says.
pub async fn audit_csv(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    axum::extract::Query(filter): axum::extract::Query<crate::domain::audit::AuditFilter>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    let origin = super::auth::origin_of(&request);
    let person = match check(who, crate::domain::access::Action::Audit, &origin) {
        Ok(p) => p,
        Err(refused) => return refusal(refused),
    };
    match crate::operations::audit::export(&state.client, &filter).await {
        Ok((entries, cut)) => {
            tracing::info!(target: "audit", actor = ?person.name, action = "audit-export", origin = ?origin, rows = entries.len(), outcome = "ok");
            let mut text = crate::domain::audit::to_csv(&entries);
            for sentence in cut {
                text.push_str(&format!("\"({sentence})\",,,,,\r\n"));
            }
            csv("audit.csv", text)
        }
        Err(crate::operations::OpError::Invalid(e)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "audit export failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporal did not answer: try again in a moment",
            )
                .into_response()
        }
    }
}
