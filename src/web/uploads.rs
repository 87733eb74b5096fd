//! The statement upload: a plain multipart form post (it works without JavaScript), checked
//! against the session like a server function, with its own body limit (a statement may
//! be up to `MAX_STATEMENT_BYTES`; every other request stays at 64 KiB).

use axum::{
    extract::{Multipart, State},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    auth::{Backend, check},
    state::AppState,
};
use crate::domain::{access::Action, format::url_component, statement::StatementFormat};

/// The largest upload body: the largest statement and the form around it.
pub const MAX_UPLOAD_BYTES: usize = crate::upstream::statement::MAX_STATEMENT_BYTES + 64 * 1024;

/// Back to the statements page with the sentence shown there.
fn refused(sentence: impl std::fmt::Display) -> Response {
    Redirect::to(&format!(
        "/statements?error={}",
        url_component(&sentence.to_string())
    ))
    .into_response()
}

/// Imports the uploaded file as the signed-in person, then shows its review.
pub async fn import_statement(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    request: axum::http::request::Parts,
    mut form: Multipart,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    let origin = super::auth::origin_of(&request);
    let person = match check(who, Action::ImportStatement, &origin) {
        Ok(p) => p,
        Err(refusal) => return super::exports::refusal(refusal),
    };
    let (mut bytes, mut name, mut format) = (None, String::new(), None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("file") => {
                    name = field.file_name().unwrap_or("statement").to_string();
                    match field.bytes().await {
                        Ok(b) => bytes = Some(b),
                        Err(e) => return refused(format!("the file could not be read: {e}")),
                    }
                }
                Some("format") => match field.text().await.map(|t| t.trim().to_string()) {
                    Ok(t) if t.is_empty() => {}
                    Ok(t) => match StatementFormat::parse(&t) {
                        Ok(f) => format = Some(f),
                        Err(e) => return refused(e),
                    },
                    Err(e) => return refused(format!("the form could not be read: {e}")),
                },
                _ => {}
            },
            Ok(None) => break,
            Err(e) => return refused(format!("the form could not be read: {e}")),
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return refused("choose a statement file to import");
    };
    let imported = crate::operations::statements::import(
        &state.client,
        &bytes,
        &name,
        format,
        &state.statements.csv,
        &state.statements.rules(),
        person.actor(),
    )
    .await;
    match imported {
        Ok(view) => {
            tracing::info!(target: "audit", actor = ?person.name, action = "import-statement", origin = ?origin, import = ?view.import_id, entries = view.entries.len(), outcome = "ok");
            Redirect::to(&format!("/statements/{}", view.import_id)).into_response()
        }
        Err(e) => {
            let refusal = super::error::AppError::from(e);
            tracing::warn!(target: "audit", actor = ?person.name, action = "import-statement", origin = ?origin, outcome = "refused", reason = %refusal);
            refused(refusal)
        }
    }
}
