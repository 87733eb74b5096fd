//! ContractChange: the record of one change to a recurring contract (created, paused,
//! resumed, cancelled), kept in Temporal as a workflow of its own: its start is the date,
//! its client identity where it came from, its memo what was done and why. A schedule
//! keeps only its latest note; these keep every change, each findable by contract and by
//! person (`ContractId`, `Actors`). The workflow has nothing to do but end.

use serde::{Deserialize, Serialize};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

/// The memo key that holds the change.
pub const MEMO_KEY: &str = "change";

/// One change to a contract, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractChangeRecord {
    pub contract_id: String,
    /// `created`, `paused`, `resumed`, `cancelled`.
    pub action: String,
    pub operator: String,
    #[serde(default)]
    pub reason: String,
    /// The client that made it (its Temporal identity: the console's or the CLI's).
    #[serde(default)]
    pub origin: String,
}

/// The workflow id of a change: the contract's, then the server's request to tell
/// changes apart (a retried call makes the same record once).
pub fn workflow_id(contract_id: &str, request: &str) -> String {
    format!("contract-change-{contract_id}-{request}")
}

#[workflow]
#[derive(Default)]
pub struct ContractChange;

#[workflow_methods]
impl ContractChange {
    #[run(name = "ContractChange")]
    pub async fn run(
        _ctx: &mut WorkflowContext<Self>,
        change: ContractChangeRecord,
    ) -> WorkflowResult<ContractChangeRecord> {
        Ok(change)
    }
}
