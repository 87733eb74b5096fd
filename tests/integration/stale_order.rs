//! StaleOrder on a real dev server: the full chain to the manual queue, and "retry now".

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::order::Resolution,
    domain::resolution::{OrderOutcome, ResolveRequest, StaleStatus},
    operations::orders::{
        Settled, approve, manual_context, resolve_or_propose, retry_now, stale_status, start_order,
    },
    upstream::simulator::UpstreamBehaviour,
    workflows::manual_handle::ManualHandle,
    workflows::stale_order::StaleOrder,
};
use temporalio_client::WorkflowGetResultOptions;

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_upstream_takes_the_order_through_stale_to_manual_and_a_person_resolves_it() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    start_order(&env.client, order("down-chain", fast_policy(2, 1)))
        .await
        .unwrap();

    let context = eventually(
        "the order to reach the manual queue",
        Duration::from_secs(30),
        || async { manual_context(&env.client, "down-chain").await.ok() },
    )
    .await;
    assert_eq!(
        context.handoff.attempts, 4,
        "two queries, then two more after the wait"
    );
    assert_eq!(context.handoff.error_reason, "http_503");
    assert!(
        context.handoff.original_error.contains("503"),
        "{:?}",
        context.handoff
    );
    assert!(
        context
            .handoff
            .stale_retry_error
            .as_deref()
            .unwrap_or("")
            .contains("503")
    );
    assert!(context.resolution.is_none());
    visible_once(
        &env.client,
        "the order in the manual stage, with its attempts and both errors",
        "WorkflowId = 'manual-down-chain' AND OrderStage = 'manual' AND ExecutionStatus = 'Running' \
         AND UpstreamAttempts = 4 AND OriginalErrorReason = 'http_503' AND ErrorReason = 'http_503'",
    )
    .await;

    // Refunded moves money: Ana proposes it, Bo approves it.
    let proposed = resolve_or_propose(
        &env.client,
        "down-chain",
        ResolveRequest {
            resolution: "refunded".into(),
            reason_code: "CUSTOMER_REFUNDED".into(),
            operator: "ana".into(),
            note: "bank confirmed by phone".into(),
            operator_id: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(proposed, Settled::Proposed(_)), "{proposed:?}");
    let record = approve(&env.client, "down-chain", "bo").await.unwrap();
    assert_eq!(record.resolution, Resolution::Refunded);
    assert_eq!(record.resolved_by, "ana");
    let done = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-chain")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done, record);
    assert_eq!(env.upstream.stats().distinct_conclusions, 1);
    visible_once(
        &env.client,
        "the order resolved in visibility",
        "OrderId = 'down-chain' AND OrderStage = 'resolved' AND OrderResolution = 'refunded'",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_now_skips_the_wait() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // Two 503s use up QueryOrder's two attempts; the stale retry then gets paid.
    start_order(&env.client, order("flaky2-retry", fast_policy(2, 3_600)))
        .await
        .unwrap();
    let status = gone_stale(&env, "flaky2-retry").await;
    assert_eq!(status.handoff.attempts, 2);
    visible_once(
        &env.client,
        "StaleRetryAt in visibility",
        "WorkflowId = 'stale-flaky2-retry' AND StaleRetryAt > '2000-01-01T00:00:00Z'",
    )
    .await;

    retry_now(&env.client, "flaky2-retry", "bo").await.unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        env.client
            .get_workflow_handle::<StaleOrder>("stale-flaky2-retry")
            .get_result(WorkflowGetResultOptions::default()),
    )
    .await
    .expect("resolved long before the hour-long timer")
    .unwrap();
    assert!(matches!(outcome, OrderOutcome::Resolved(r) if r.resolution == Resolution::Paid));
    let err = retry_now(&env.client, "flaky2-retry", "bo")
        .await
        .unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_the_upstream_does_not_know_goes_stale_after_one_call_and_says_so() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // The upstream answers 404: retrying cannot help, so QueryOrder stops after one call
    // although its policy allows three, and the stale stage counts one attempt, not three.
    start_order(&env.client, order("unknown-1", fast_policy(3, 3_600)))
        .await
        .unwrap();
    let status = gone_stale(&env, "unknown-1").await;
    assert_eq!(status.handoff.attempts, 1, "{:?}", status.handoff);
    assert_eq!(status.handoff.error_reason, "rejected");
    assert_eq!(status.handoff.original_reason, "rejected");
    assert!(
        status.handoff.original_error.contains("404"),
        "{:?}",
        status.handoff
    );
    assert_eq!(env.upstream.stats().status_queries, 1);
    visible_once(
        &env.client,
        "the attempts and the first error in visibility",
        "WorkflowId = 'stale-unknown-1' AND UpstreamAttempts = 1 \
         AND OriginalErrorReason = 'rejected'",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resolution_the_bank_refuses_in_the_stale_stage_goes_on_to_the_manual_queue() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // `refuse1-…`: every query fails (the order goes stale); the first conclusion gets a 422.
    start_order(&env.client, order("refuse1-stale", fast_policy(1, 3_600)))
        .await
        .unwrap();
    gone_stale(&env, "refuse1-stale").await;
    // Ana knows the answer and resolves it from Temporal's CLI, as the Go original did.
    let sent = raw_signal(
        &env.server.hostport,
        "stale-refuse1-stale",
        "resolve",
        r#"{"resolution":"cancelled","reason_code":"BANK_CONFIRMED","operator":"ana","note":""}"#,
    );
    assert!(sent.status.success(), "{sent:?}");

    // The bank refused it: the order waits for a person in the manual queue, with the
    // bank's words and the resolution it refused (before, the stale stage failed and the
    // order waited nowhere).
    let context = eventually(
        "the order in the manual queue with the refusal",
        Duration::from_secs(30),
        || async { manual_context(&env.client, "refuse1-stale").await.ok() },
    )
    .await;
    let refusal = context.refused.clone().expect("the refusal on the order");
    assert!(
        refusal.message.contains("reference mismatch"),
        "{refusal:?}"
    );
    assert_eq!(refusal.record.resolved_by, "ana");
    assert_eq!(refusal.record.resolution, Resolution::Cancelled);
    assert!(context.resolution.is_none() && !context.concluded);
    visible_once(
        &env.client,
        "the stale stage completed, handing the order on",
        "WorkflowId = 'stale-refuse1-stale' AND ExecutionStatus = 'Completed'",
    )
    .await;
    waits_marked_refused(&env.client, "refuse1-stale").await;

    // Decided again in the queue, the bank records it.
    let settled = resolve_or_propose(
        &env.client,
        "refuse1-stale",
        ResolveRequest {
            resolution: "cancelled".into(),
            reason_code: "BANK_CONFIRMED".into(),
            operator: "bo".into(),
            note: "reference corrected".into(),
            operator_id: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(settled, Settled::Resolved(_)), "{settled:?}");
    let done = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-refuse1-stale")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done.resolved_by, "bo");
    assert_eq!(
        env.upstream.conclusion_of("refuse1-stale").as_deref(),
        Some("cancelled")
    );
}

/// Waits until the order waits on StaleOrder's timer, and returns StaleOrder's status.
async fn gone_stale(env: &TestEnv, order_id: &str) -> StaleStatus {
    eventually("the order to go stale", Duration::from_secs(30), || async {
        stale_status(&env.client, order_id)
            .await
            .ok()
            .filter(|s| s.next_retry_at.is_some())
    })
    .await
}
