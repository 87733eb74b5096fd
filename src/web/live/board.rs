//! The ageing board, counted once for every page of this console: a page load takes the
//! last count while it is fresh, and loads that arrive together share one count.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use temporalio_client::Client;
use tokio::sync::Mutex;

use crate::{domain::listing::WaitingBoard, operations::OpError};

/// How long one count of what waits is shown before it is counted again.
pub const BOARD_FRESH_FOR: Duration = Duration::from_secs(5);

/// The last board and when it was counted.
#[derive(Clone, Default)]
pub struct BoardCache(Arc<Mutex<Option<(Instant, WaitingBoard)>>>);

impl BoardCache {
    pub async fn get(&self, client: &Client) -> Result<WaitingBoard, OpError> {
        let mut last = self.0.lock().await;
        if let Some((at, board)) = last.as_ref()
            && at.elapsed() < BOARD_FRESH_FOR
        {
            return Ok(board.clone());
        }
        let board = crate::operations::queues::waiting_board(client).await?;
        *last = Some((Instant::now(), board.clone()));
        Ok(board)
    }
}
