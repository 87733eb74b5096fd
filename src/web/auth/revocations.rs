//! The ended sessions this replica refuses: the list kept in Temporal
//! (`workflows::console_sessions`), read again every [`REFRESH`]. A sign-out or a
//! `user revoke` takes effect on every replica within that time and one query.

use std::{sync::Arc, time::Duration};
use temporalio_client::Client;
use tokio::sync::RwLock;

use crate::{operations::sessions, workflows::console_sessions::Revocations};

/// How often a replica reads the list again: the bound on how long an ended session
/// still works elsewhere.
pub const REFRESH: Duration = Duration::from_secs(2);
/// How long a console starting waits for Temporal to begin the list.
pub const BEGIN_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, Default)]
pub struct RevocationList(Arc<RwLock<Revocations>>);

impl RevocationList {
    /// Whether `session` (its id, its person's name and id, begun at `signed_in_at`) is
    /// ended.
    pub async fn ends(&self, session: &str, keys: &[&str], signed_in_at: i64) -> bool {
        self.0.read().await.ends(session, keys, signed_in_at)
    }

    /// Adds what this replica itself just ended, before the next read brings it back.
    pub async fn note(&self, ended: Revocations) {
        let mut list = self.0.write().await;
        list.sessions.extend(ended.sessions);
        list.people.extend(ended.people);
    }

    /// Reads the list now; `false` if it could not be read. Then the last list read
    /// stands, with what the list's history shows it was signalled since (a sign-out or
    /// `user revoke` on any replica while no worker answers; [`sessions::signalled`]).
    pub async fn refresh(&self, client: &Client) -> bool {
        match sessions::revocations(client).await {
            Ok(list) => {
                *self.0.write().await = list;
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "the ended sessions could not be read");
                match sessions::signalled(client).await {
                    Ok(signalled) => self.0.write().await.add(signalled),
                    Err(e) => {
                        tracing::debug!(error = %e, "nor the list's history");
                    }
                }
                false
            }
        }
    }

    /// Begins the list in Temporal if it is not there, before this console signs anyone
    /// in: a list's first run ends every session begun before it. Best effort, within
    /// [`BEGIN_WAIT`]: a list not begun here begins at the first sign-out.
    pub async fn begin(client: &Client) {
        match tokio::time::timeout(BEGIN_WAIT, sessions::ensure_list(client)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the list of ended sessions could not be begun")
            }
            Err(_) => {
                tracing::warn!("the list of ended sessions was not begun within {BEGIN_WAIT:?}")
            }
        }
    }

    /// Reads the list every [`REFRESH`], for as long as the process runs; says once when
    /// it cannot, and once when it can again.
    pub fn spawn_refresher(&self, client: Client) {
        let list = self.clone();
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                let read = list.refresh(&client).await;
                if read == failing {
                    failing = !read;
                    match read {
                        true => tracing::info!("the ended sessions are read again"),
                        false => tracing::warn!(
                            "the ended sessions cannot be read (no worker answers the \
                             console-sessions query?): ending those its history holds"
                        ),
                    }
                }
                tokio::time::sleep(REFRESH).await;
            }
        });
    }
}
