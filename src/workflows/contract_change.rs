//! ContractChange: the record of one change to a recurring contract (created, paused,
//! resumed, cancelled), kept in Temporal as a workflow of its own: its start is the date,
//! its client identity where it came from, its memo what was done and why. A schedule
//! keeps only its latest note; these keep every change, each findable by contract and by
//! person (`ContractId`, `Actors`). The workflow has nothing to do but end.

use serde::{Deserialize, Serialize};
use temporalio_client::{Client, WorkflowStartOptions, errors::WorkflowStartError};
use temporalio_common::{MemoValues, search_attributes::SearchAttributes};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

use crate::temporal::{names::task_queues, search_attributes as sa};

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

/// Who the trail names for a change the worker made itself: a term refused by its check
/// (`term_check`) pauses its contract.
pub const TERM_CHECK_ACTOR: &str = "term check";

/// Records `change` as a ContractChange workflow under `request` (a second record under
/// the same request is the same change, made once).
pub async fn record(
    client: &Client,
    change: ContractChangeRecord,
    request: &str,
) -> Result<(), WorkflowStartError> {
    let mut memo = MemoValues::new();
    memo.insert(MEMO_KEY, change.clone());
    let options = WorkflowStartOptions::new(
        task_queues::RECURRING_SCHEDULE,
        workflow_id(&change.contract_id, request),
    )
    .search_attributes(SearchAttributes::new(vec![
        sa::CONTRACT_ID.value_set(change.contract_id.clone()),
        sa::ACTORS.value_set(vec![change.operator.clone()]),
    ]))
    .memo(memo)
    .build();
    match client
        .start_workflow(ContractChange::run, change, options)
        .await
    {
        Ok(_) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(e) => Err(e),
    }
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
