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

    /// Reads the list now; `false` if it could not be read (the last list read stands, and
    /// a sign-out on this replica is in it already).
    pub async fn refresh(&self, client: &Client) -> bool {
        match sessions::revocations(client).await {
            Ok(list) => {
                *self.0.write().await = list;
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "the ended sessions could not be read");
                false
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
                             console-sessions query?): sessions ended elsewhere are not refused here"
                        ),
                    }
                }
                tokio::time::sleep(REFRESH).await;
            }
        });
    }
}
