//! Recurring payments on a real dev server: a schedule runs exactly its terms, stops when
//! cancelled, and the `patched()` v2 change replays v1 histories.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    activities::upstream::{ChargeReceipt, ChargeRequest, UpstreamActivities},
    contracts::{Cadence, ContractTerms, NewContract},
    operations::{
        OpError,
        contracts::{cancel, create, list},
    },
    simulated_upstream::UpstreamBehaviour,
    temporal::search_attributes,
    workflows::recurring_payment::RecurringPayment,
};
use temporalio_client::{WorkflowGetResultOptions, WorkflowHistory, WorkflowStartOptions};
use temporalio_common::{RetryPolicy, WorkflowDefinition};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult,
    runtime::RuntimeOptions,
    workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions},
};
use temporalio_workflow::workflows::WorkflowImplementation;

fn contract(id: &str, every_secs: u64, total_terms: u32) -> NewContract {
    NewContract {
        terms: ContractTerms {
            contract_id: id.into(),
            customer: "ana".into(),
            plan: "membership".into(),
            amount_cents: 999,
            currency: "USD".into(),
        },
        cadence: Cadence::Every {
            seconds: every_secs,
        },
        time_zone: "Asia/Shanghai".into(),
        total_terms,
    }
}

async fn completed_terms(env: &TestEnv, id: &str) -> usize {
    count(
        &env.client,
        &format!("ContractId = '{id}' AND ExecutionStatus = 'Completed'"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_charges_exactly_its_terms_and_a_cancelled_one_stops() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let next = create(&env.client, contract("C-terms", 1, 2))
        .await
        .unwrap();
    assert!(!next.is_empty(), "the contract shows its next charges");

    eventually("two terms", Duration::from_secs(30), || async {
        (completed_terms(&env, "C-terms").await >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(completed_terms(&env, "C-terms").await, 2, "no third term");
    assert_eq!(env.upstream.stats().distinct_charges, 2);
    assert_eq!(
        env.upstream.stats().receipts,
        2,
        "v2 sends a receipt per term"
    );

    create(&env.client, contract("C-open", 1, 0)).await.unwrap();
    eventually(
        "a first open-ended term",
        Duration::from_secs(30),
        || async { (completed_terms(&env, "C-open").await >= 1).then_some(()) },
    )
    .await;
    cancel(&env.client, "C-open", "fin", "customer left")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_cancel = completed_terms(&env, "C-open").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        completed_terms(&env, "C-open").await,
        after_cancel,
        "no term after cancel"
    );

    let contracts = list(&env.client).await.unwrap();
    let open = contracts
        .iter()
        .find(|c| c.contract_id == "C-open")
        .unwrap();
    assert!(open.cancelled && open.paused, "{open:?}");
    assert!(open.note.contains("fin: customer left"), "{open:?}");
    assert!(matches!(
        cancel(&env.client, "C-open", "fin", "again").await,
        Err(OpError::AlreadyCancelled(_))
    ));
    assert!(matches!(
        cancel(&env.client, "C-nope", "fin", "x").await,
        Err(OpError::NotFound(_))
    ));
    assert!(matches!(
        create(&env.client, contract("C-terms", 1, 2)).await,
        Err(OpError::AlreadyExists(_))
    ));
}

/// RecurringPayment as it was before the receipt patch: the history v1 workers recorded.
#[workflow]
#[derive(Default)]
struct RecurringPaymentV1;

#[workflow_methods]
impl RecurringPaymentV1 {
    #[run(name = "RecurringPayment")]
    async fn run(
        ctx: &mut WorkflowContext<Self>,
        terms: ContractTerms,
    ) -> WorkflowResult<ChargeReceipt> {
        ctx.upsert_search_attributes([
            search_attributes::CONTRACT_ID.value_set(terms.contract_id.clone())
        ]);
        let key = ctx.workflow_id().to_string();
        Ok(ctx
            .execute_activity(
                UpstreamActivities::charge,
                ChargeRequest {
                    contract_id: terms.contract_id,
                    amount_cents: terms.amount_cents,
                    currency: terms.currency,
                    idempotency_key: key.clone(),
                },
                ActivityOptions::with_start_to_close_timeout(Duration::from_secs(15))
                    .task_queue("upstream".to_string())
                    .activity_id(format!("{key}-charge"))
                    .retry_policy(RetryPolicy::default())
                    .build(),
            )
            .await?)
    }
}

/// v2 without `patched()`: what a careless change would look like. It must not replay.
#[workflow]
#[derive(Default)]
struct RecurringPaymentUnpatched;

#[workflow_methods]
impl RecurringPaymentUnpatched {
    #[run(name = "RecurringPayment")]
    async fn run(
        ctx: &mut WorkflowContext<Self>,
        terms: ContractTerms,
    ) -> WorkflowResult<ChargeReceipt> {
        let options = || {
            ActivityOptions::with_start_to_close_timeout(Duration::from_secs(15))
                .task_queue("upstream".to_string())
                .build()
        };
        ctx.execute_activity(
            UpstreamActivities::send_receipt,
            temporal_playground::activities::upstream::ReceiptRequest {
                contract_id: terms.contract_id.clone(),
                charge_id: String::new(),
                idempotency_key: String::new(),
            },
            options(),
        )
        .await?;
        Ok(ChargeReceipt {
            charge_id: String::new(),
            duplicate: false,
        })
    }
}

async fn replays<W>(history_json: &[u8]) -> bool
where
    W: WorkflowImplementation,
    <W::Run as WorkflowDefinition>::Input: Send,
{
    let replayer = WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<W>()
            .expect("registers")
            .build(),
    )
    .expect("replayer");
    replayer
        .replay_workflow(WorkflowHistory::from_json(history_json).expect("history json"))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_receipt_patch_replays_histories_recorded_by_v1() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // A v1 worker on its own queue records a fresh v1 history on this server.
    let runtime = Runtime::from_current_tokio(RuntimeOptions::default()).unwrap();
    let mut v1 = Worker::new(
        &runtime,
        env.client.clone(),
        WorkerOptions::new("recurring-v1")
            .register_workflow::<RecurringPaymentV1>()
            .unwrap()
            .build(),
    )
    .unwrap();
    let stop_v1 = v1.shutdown_handle();
    let handle = tokio::runtime::Handle::current();
    let v1_thread = std::thread::spawn(move || handle.block_on(async move { v1.run().await }));
    let run = env
        .client
        .start_workflow(
            RecurringPaymentV1::run,
            contract("C-v1", 60, 1).terms,
            WorkflowStartOptions::new("recurring-v1", "recurring-C-v1-term1").build(),
        )
        .await
        .unwrap();
    run.get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    stop_v1();
    let _ = tokio::task::spawn_blocking(move || v1_thread.join()).await;
    let fresh = env
        .client
        .get_workflow_handle::<RecurringPayment>("recurring-C-v1-term1")
        .fetch_history(Default::default())
        .to_json()
        .await
        .unwrap();

    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/histories/recurring_payment_v1.json"
    );
    if std::env::var_os("RECORD_V1_HISTORY").is_some() {
        std::fs::write(fixture, &fresh).unwrap();
    }
    // The committed history was recorded by the v1 worker above when v2 shipped.
    let recorded = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/integration/histories/recurring_payment_v1.json"
    ))
    .expect("the recorded v1 history is committed");

    for history in [&fresh, &recorded] {
        assert!(
            replays::<RecurringPayment>(history).await,
            "v2 must replay v1 histories"
        );
        assert!(
            !replays::<RecurringPaymentUnpatched>(history).await,
            "an unpatched change must fail to replay: the test can tell"
        );
    }
}
