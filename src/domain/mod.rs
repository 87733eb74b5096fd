//! The domain: orders, money, contracts, what the lists show, the audit trail, who may do
//! what, and how it all reads. Compiled for the browser too, so a form, a CLI flag and a
//! workflow's validator check input with the same code and refuse it with the same words.

pub mod access;
pub mod audit;
pub mod contract;
#[cfg(feature = "ssr")]
pub mod contract_rules;
pub mod format;
pub mod input;
pub mod listing;
pub mod money;
pub mod order;
pub mod resolution;
pub mod statement;

/// How an error is classified, once, for every layer: the metrics count by it and the
/// console's HTTP status follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The person can act on it: bad input, a rule of the workflow, a conflict (422).
    Refused,
    /// What was asked for does not exist (404).
    NotFound,
    /// Temporal (or the bank behind it) did not answer: try again later (503).
    Unavailable,
    /// No worker runs the queue the workflow waits on: nothing there can be read live or
    /// changed until one is back (503; the sentence says so, since retrying will not help).
    NoWorker,
    /// Our own fault: a bug to fix, logged with its detail (500).
    Bug,
}

impl ErrorKind {
    /// The HTTP status a request that ended so answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Refused => 422,
            ErrorKind::NotFound => 404,
            ErrorKind::Unavailable | ErrorKind::NoWorker => 503,
            ErrorKind::Bug => 500,
        }
    }

    /// How the metrics count an action that ended so.
    pub fn outcome(self) -> &'static str {
        match self {
            ErrorKind::Refused | ErrorKind::NotFound => "refused",
            ErrorKind::Unavailable | ErrorKind::NoWorker | ErrorKind::Bug => "failed",
        }
    }
}
