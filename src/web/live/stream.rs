//! `/api/live`: server-sent events carrying every snapshot the one poller takes to every
//! open live page.

use axum::{
    extract::State,
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures::Stream;
use std::convert::Infallible;

use super::LiveSnapshot;
use crate::web::{
    auth::{Backend, check},
    exports::refusal,
    state::AppState,
};

/// Server-sent events: every snapshot the one poller takes, to every open live page,
/// until the server stops. Past the hub's cap, 503 until some close.
pub async fn live_events(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    let origin = crate::web::auth::origin_of(&request);
    if let Err(refused) = check(who, crate::domain::access::Action::Read, &origin) {
        return refusal(refused);
    }
    if !state.live.has_room() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live pages are open: try again in a minute",
        )
            .into_response();
    }
    live_stream(state).into_response()
}

fn live_stream(state: AppState) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.live.sender.subscribe();
    let hub = state.live.clone();
    let stream = futures::stream::unfold((receiver, hub), |(mut rx, hub)| async move {
        tokio::select! {
            changed = rx.changed() => changed.ok()?,
            _ = hub.closed() => return None,
        }
        let snapshot: LiveSnapshot = rx.borrow_and_update().clone();
        let event = Event::default().json_data(&snapshot).unwrap_or_default();
        Some((Ok(event), (rx, hub)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
