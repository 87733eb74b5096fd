//! What people and the gateway do through Temporal, shared by the dashboard and the CLI:
//! start, claim, resolve, retry now, contracts, and the visibility queries for "what waits
//! where". Every input is checked here before it reaches Temporal.

pub mod audit;
pub mod contracts;
pub mod dropped;
pub mod find;
pub mod lane;
pub mod orders;
pub mod queues;
pub mod sessions;
pub mod statements;

use std::fmt;

use crate::{domain::ErrorKind, domain::input::InputError, temporal::TemporalError};

/// What was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// A workflow of an order's path, by workflow id.
    Workflow(String),
    /// Every workflow of an order's path, by order id.
    Order(String),
    /// A recurring contract, by contract id.
    Contract(String),
    /// A statement import, by import id.
    Import(String),
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Workflow(id) => write!(
                f,
                "{id} was not found: check the order id, or it may not have reached that stage"
            ),
            Missing::Order(id) => write!(f, "no order {id:?} is known to Temporal"),
            Missing::Contract(id) => write!(
                f,
                "there is no recurring contract with id {id:?}: list them with the dashboard \
                 or `temporal schedule list`"
            ),
            Missing::Import(id) => write!(
                f,
                "no statement import {id:?} is known to Temporal: the Statements page lists \
                 the recent ones"
            ),
        }
    }
}

/// Why an operation did not happen; each says what to do about it, and [`OpError::kind`]
/// classifies it once for the metrics and the console's HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{0}")]
    Invalid(#[from] InputError),
    #[error("{0}")]
    NotFound(Missing),
    #[error("a recurring contract with id {0:?} already exists: choose another id")]
    AlreadyExists(String),
    #[error("the contract {0:?} is already cancelled")]
    AlreadyCancelled(String),
    /// The workflow (a validator, or its state) refused it: its words, as they are.
    #[error("{0}")]
    Rejected(String),
    /// A person must say who they are first.
    #[error("{0}")]
    NeedsOperator(&'static str),
    #[error(transparent)]
    Temporal(#[from] TemporalError),
}

impl OpError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            OpError::Invalid(_)
            | OpError::AlreadyExists(_)
            | OpError::AlreadyCancelled(_)
            | OpError::Rejected(_)
            | OpError::NeedsOperator(_) => ErrorKind::Refused,
            OpError::NotFound(_) => ErrorKind::NotFound,
            OpError::Temporal(e) => e.kind(),
        }
    }
}

/// Counts an action by how it ended (`ok`, or its kind's outcome: `refused`, `failed`),
/// and hands its result back.
pub(crate) fn counted<T>(kind: &'static str, result: Result<T, OpError>) -> Result<T, OpError> {
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.kind().outcome(),
    };
    crate::temporal::metrics::action(kind, outcome);
    result
}
