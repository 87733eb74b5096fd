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
use crate::{
    web::auth::{Backend, check},
    web::exports::refusal,
    web::state::AppState,
};

/// How often an open stream checks that its session still stands.
pub const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Server-sent events: every snapshot the one poller takes, to every open live page,
/// until the server stops or the session ends (signed out anywhere, revoked, past its
/// lifetime, or its account removed). Past the hub's cap, 503 until some close.
pub async fn live_events(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.as_ref().map(|u| u.signed_in());
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
    let watch = SessionWatch {
        marks: crate::web::auth::session_marks(&auth).await,
        user: auth.user.clone(),
        backend: auth.backend.clone(),
        lifetime: state.auth.lifetime,
        revocations: state.auth.revocations.clone(),
    };
    live_stream(state, watch).into_response()
}

/// What a stream needs to tell whether its session still stands.
#[derive(Clone)]
struct SessionWatch {
    marks: Option<(String, i64)>,
    user: Option<crate::web::auth::Operator>,
    backend: Backend,
    lifetime: std::time::Duration,
    revocations: crate::web::auth::revocations::RevocationList,
}

impl SessionWatch {
    async fn stands(&self) -> bool {
        use axum_login::{AuthUser, AuthnBackend};
        let (Some((id, began)), Some(user)) = (&self.marks, &self.user) else {
            return self.user.is_some();
        };
        let now = chrono::Utc::now().timestamp();
        if now.saturating_sub(*began) > self.lifetime.as_secs() as i64 {
            return false;
        }
        let keys = [user.name.as_str(), user.person_id.as_str()];
        if self.revocations.ends(id, &keys, *began).await {
            return false;
        }
        // The account as it is now: removed, or its password changed, ends the stream.
        match self.backend.get_user(&user.id()).await {
            Ok(Some(now)) => now.session_auth_hash() == user.session_auth_hash(),
            _ => false,
        }
    }
}

fn live_stream(
    state: AppState,
    watch: SessionWatch,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.live.sender.subscribe();
    let hub = state.live.clone();
    let checked = std::time::Instant::now();
    let stream = futures::stream::unfold(
        (receiver, hub, watch, checked),
        |(mut rx, hub, watch, mut checked)| async move {
            tokio::select! {
                changed = rx.changed() => changed.ok()?,
                _ = hub.closed() => return None,
            }
            // Snapshots come every second: the session is checked every few of them.
            if checked.elapsed() >= SESSION_CHECK {
                if !watch.stands().await {
                    return None;
                }
                checked = std::time::Instant::now();
            }
            let snapshot: LiveSnapshot = rx.borrow_and_update().clone();
            let event = Event::default().json_data(&snapshot).unwrap_or_default();
            Some((Ok(event), (rx, hub, watch, checked)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
