//! The ageing board, counted once for every page of this console: the watch
//! (`super::watch`) puts a fresh count every few seconds, a page load takes the last one
//! while it is fresh, and loads that arrive together when it is not share one count.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use temporalio_client::Client;
use tokio::sync::Mutex;

use crate::{
    domain::listing::{ServiceLevel, WaitingBoard},
    operations::OpError,
};

/// How long one count of what waits is shown before a page load counts again (the watch
/// counts more often than this while it runs).
pub const BOARD_FRESH_FOR: Duration = Duration::from_secs(15);

/// The last board and when it was counted.
#[derive(Clone, Default)]
pub struct BoardCache(Arc<Mutex<Option<(Instant, WaitingBoard)>>>);

impl BoardCache {
    pub async fn get(&self, client: &Client, sla: &ServiceLevel) -> Result<WaitingBoard, OpError> {
        let mut last = self.0.lock().await;
        if let Some((at, board)) = last.as_ref()
            && at.elapsed() < BOARD_FRESH_FOR
        {
            return Ok(board.clone());
        }
        let board = crate::operations::queues::waiting_board(client, sla).await?;
        *last = Some((Instant::now(), board.clone()));
        Ok(board)
    }

    /// A count the watch made.
    pub fn put(&self, board: WaitingBoard) {
        if let Ok(mut last) = self.0.try_lock() {
            *last = Some((Instant::now(), board));
        }
    }
}
