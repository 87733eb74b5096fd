//! What waits, counted once for every page of this console: the queue's tally (its tab
//! counts: a few visibility counts, cheap at any size) and the ageing board (every waiting
//! order read through: a second at 2,000 orders). The watch (`super::watch`) puts fresh
//! ones; a page load takes the last. A tally older than [`TALLY_FRESH_FOR`] is counted
//! again by the load that finds it (loads that arrive together share one count); the
//! board is never read for a page while one exists, whatever its age, which the page
//! shows. A change made through this console nudges the watch to count the tally again at
//! once, so the person who made it sees it in their tabs on their next page.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use temporalio_client::Client;
use tokio::sync::{Mutex, Notify};

use crate::{
    domain::listing::{QueueTally, ServiceLevel, WaitingBoard},
    operations::{
        OpError,
        queues::{queue_tally, waiting_board},
    },
};

/// How long a tally is shown before a page load counts again (the watch counts more often
/// than this while it runs).
pub const TALLY_FRESH_FOR: Duration = Duration::from_secs(15);

type Last<T> = Arc<Mutex<Option<(Instant, T)>>>;

/// The last tally and board and when each was counted.
#[derive(Clone, Default)]
pub struct BoardCache {
    tally: Last<QueueTally>,
    board: Last<WaitingBoard>,
    /// Orders that dropped out of every queue, as the watch last read them (every
    /// minute): the queue page says so without a read of its own.
    /// With whether more are dropped than its list holds.
    dropped: Arc<std::sync::Mutex<Option<(usize, bool)>>>,
    /// A put-back through this console: the watch reads the dropped orders again at once.
    recount_dropped: Arc<std::sync::atomic::AtomicBool>,
    nudged: Arc<Notify>,
}

impl BoardCache {
    /// The last tally while fresh, or one counted now.
    pub async fn tally(&self, client: &Client, sla: &ServiceLevel) -> Result<QueueTally, OpError> {
        let mut last = self.tally.lock().await;
        if let Some((at, tally)) = last.as_ref()
            && at.elapsed() < TALLY_FRESH_FOR
        {
            return Ok(tally.clone());
        }
        let tally = queue_tally(client, sla).await?;
        *last = Some((Instant::now(), tally.clone()));
        Ok(tally)
    }

    /// The last board, or (before the watch's first) one read now.
    pub async fn board(
        &self,
        client: &Client,
        sla: &ServiceLevel,
    ) -> Result<WaitingBoard, OpError> {
        let mut last = self.board.lock().await;
        if let Some((_, board)) = last.as_ref() {
            return Ok(board.clone());
        }
        let board = waiting_board(client, sla).await?;
        *last = Some((Instant::now(), board.clone()));
        Ok(board)
    }

    /// A tally the watch made.
    pub fn put_tally(&self, tally: QueueTally) {
        if let Ok(mut last) = self.tally.try_lock() {
            *last = Some((Instant::now(), tally));
        }
    }

    /// A board the watch read.
    pub fn put_board(&self, board: WaitingBoard) {
        if let Ok(mut last) = self.board.try_lock() {
            *last = Some((Instant::now(), board));
        }
    }

    /// The dropped orders the watch read, and whether more are dropped than its list holds.
    pub fn put_dropped(&self, dropped: usize, more: bool) {
        if let Ok(mut last) = self.dropped.lock() {
            *last = Some((dropped, more));
        }
    }

    /// An order was put back through this console: have the watch read the dropped orders
    /// again on its next round (other replicas' within their minute).
    pub fn recount_dropped(&self) {
        self.recount_dropped
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.nudge();
    }

    /// Whether the dropped orders are to be read again now (once).
    pub fn take_dropped_recount(&self) -> bool {
        self.recount_dropped
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// The dropped orders as the watch last read them (none before its first read).
    pub fn dropped(&self) -> (usize, bool) {
        self.dropped
            .lock()
            .ok()
            .and_then(|d| *d)
            .unwrap_or((0, false))
    }

    /// Something waiting changed through this console: count again now.
    pub fn nudge(&self) {
        self.nudged.notify_one();
    }

    /// Resolves at the next nudge (one nudged before is kept for this call).
    pub async fn nudged(&self) {
        self.nudged.notified().await;
    }
}
