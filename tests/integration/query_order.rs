//! QueryOrder on a real dev server: happy path, retries, definitive failure, duplicate
//! start, and an order in flight surviving a worker restart.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::order::Resolution,
    domain::resolution::OrderOutcome,
    operations::orders::{StartOutcome, start_order},
    upstream::simulator::{Script, UpstreamBehaviour},
};

async fn outcome(env: &TestEnv, order_id: &str) -> OrderOutcome {
    query_outcome(&env.client, order_id).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_order_is_resolved_paid_and_visible_as_resolved() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let id = Script::Paid.id("1");
    start_order(&env.client, order(&id, fast_policy(3, 60)))
        .await
        .unwrap();
    match outcome(&env, &id).await {
        OrderOutcome::Resolved(record) => {
            assert_eq!(record.resolution, Resolution::Paid);
            assert_eq!(record.resolved_by, "system");
        }
        other => panic!("expected resolved, got {other:?}"),
    }
    assert_resolved(&env.client, &id, Resolution::Paid).await;
    assert_eq!(env.upstream.stats().status_queries, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_errors_are_retried_until_the_order_is_paid() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // Two 503s, then paid: within three attempts.
    let id = Script::flaky(2).id("a");
    start_order(&env.client, order(&id, fast_policy(3, 60)))
        .await
        .unwrap();
    assert_eq!(
        resolved_as(&outcome(&env, &id).await),
        Some(Resolution::Paid)
    );
    assert_eq!(env.upstream.stats().status_queries, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_order_is_resolved_failed_without_retrying() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let id = Script::Failed.id("1");
    start_order(&env.client, order(&id, fast_policy(3, 60)))
        .await
        .unwrap();
    match outcome(&env, &id).await {
        OrderOutcome::Resolved(record) => {
            assert_eq!(record.resolution, Resolution::Failed);
            assert_eq!(record.reason_code, "card_declined");
        }
        other => panic!("expected resolved, got {other:?}"),
    }
    assert_eq!(env.upstream.stats().status_queries, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_start_of_the_same_order_starts_nothing() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let first = start_order(&env.client, order("dup-1", fast_policy(3, 60)))
        .await
        .unwrap();
    assert!(matches!(first, StartOutcome::Started { .. }));
    let second = start_order(&env.client, order("dup-1", fast_policy(3, 60)))
        .await
        .unwrap();
    assert_eq!(
        second,
        StartOutcome::AlreadyProcessing {
            workflow_id: "payment-dup-1".into()
        }
    );
    assert_eq!(count(&env.client, "WorkflowId = 'payment-dup-1'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_order_ids_never_reach_temporal() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let err = start_order(&env.client, order("two words", fast_policy(3, 60)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("characters other than"), "{err}");
    assert_eq!(count(&env.client, "WorkflowType = 'QueryOrder'").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_in_flight_survives_a_worker_restart() {
    let mut env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // Four 503s then paid; five attempts with a 1 s first backoff leave time to restart.
    let mut policy = fast_policy(5, 60);
    policy.backoff_ms = 1_000;
    let id = Script::flaky(4).id("restart");
    start_order(&env.client, order(&id, policy)).await.unwrap();
    let upstream = env.upstream.clone();
    eventually("the first upstream query", Duration::from_secs(20), || {
        let upstream = upstream.clone();
        async move { (upstream.stats().status_queries >= 1).then_some(()) }
    })
    .await;
    env.stop_workers().await;
    let seen_while_down = env.upstream.stats().status_queries;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        env.upstream.stats().status_queries,
        seen_while_down,
        "no worker, no calls"
    );
    env.add_workers(50.0).await;
    assert_eq!(
        resolved_as(&outcome(&env, &id).await),
        Some(Resolution::Paid)
    );
    assert_eq!(env.upstream.stats().status_queries, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_started_from_outside_with_a_policy_no_starter_allows_never_asks_the_bank() {
    use temporal_playground::{
        domain::order::{manual_workflow_id, query_workflow_id, stale_workflow_id},
        domain::resolution::Handoff,
        temporal::names::task_queues,
    };
    use temporalio_client::{UntypedWorkflow, WorkflowGetResultOptions};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // From Temporal's CLI, as anyone with the namespace can: an order that never answers,
    // asked without end (0 attempts is Temporal's "unlimited") and without a pause, which
    // would take the bank's shared rate from every other order for good; as a new order,
    // as one gone stale, and as one waiting for a person (whose queue it would join).
    let id = Script::Down.id("hostile");
    let mut hostile = order(&id, fast_policy(2, 1));
    hostile.policy.attempts = 0;
    hostile.policy.backoff_ms = 0;
    let stale = Handoff {
        order: hostile.clone(),
        attempts: 2,
        original_error: "503".into(),
        stale_retry_error: None,
        error_reason: "http_503".into(),
        original_reason: "http_503".into(),
        proposal: None,
        seen: None,
        refused: None,
        put_back: None,
    };
    for (kind, queue, workflow_id, input) in [
        (
            "QueryOrder",
            task_queues::QUERY_ORDER,
            query_workflow_id(&id),
            serde_json::to_string(&hostile).unwrap(),
        ),
        (
            "StaleOrder",
            task_queues::STALE_ORDER,
            stale_workflow_id(&id),
            serde_json::to_string(&stale).unwrap(),
        ),
        (
            "ManualHandle",
            task_queues::MANUAL_HANDLE,
            manual_workflow_id(&id),
            serde_json::to_string(&stale).unwrap(),
        ),
    ] {
        raw_start(
            &env.server.hostport,
            kind,
            queue,
            &workflow_id,
            Some(&input),
        );
        let ended = tokio::time::timeout(
            Duration::from_secs(20),
            env.client
                .get_workflow_handle::<UntypedWorkflow>(workflow_id.clone())
                .get_result(WorkflowGetResultOptions::default()),
        )
        .await
        .unwrap_or_else(|_| panic!("{kind} ends at once"));
        let refused = format!("{:?}", ended.expect_err("it is refused"));
        assert!(
            refused.contains("not an order this system takes") && refused.contains("attempts"),
            "{kind}: {refused}"
        );
    }
    assert_eq!(
        env.upstream.stats().status_queries,
        0,
        "the bank was never asked"
    );
}

/// Anyone with the namespace can start an order's workflow from Temporal's CLI with any
/// search attributes: claimed by carol, settled by a statement, resolved paid, with notes,
/// under another order's id. The queue, an import's count of what it settled and the
/// trail's filter read those as the workflow's own. Each order workflow holds them, on its
/// first step, to what its input gives: in Temporal, none of the forged values remain.
#[tokio::test(flavor = "multi_thread")]
async fn an_order_started_from_outside_with_attributes_its_input_does_not_give_is_listed_as_it_is()
{
    use temporal_playground::{
        domain::order::{manual_workflow_id, query_workflow_id, stale_workflow_id},
        temporal::names::task_queues,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let handoff = |id: &str| handoff_of(order(id, fast_policy(2, 3_600)), "http_503");
    let (queried, stale, manual) = (
        Script::Down.id("forged-q"),
        Script::Down.id("forged-s"),
        Script::Down.id("forged-m"),
    );
    let starts = [
        (
            "QueryOrder",
            task_queues::QUERY_ORDER,
            query_workflow_id(&queried),
            serde_json::to_string(&order(&queried, fast_policy(2, 3_600))).unwrap(),
            queried.clone(),
        ),
        (
            "StaleOrder",
            task_queues::STALE_ORDER,
            stale_workflow_id(&stale),
            serde_json::to_string(&handoff(&stale)).unwrap(),
            stale.clone(),
        ),
        (
            "ManualHandle",
            task_queues::MANUAL_HANDLE,
            manual_workflow_id(&manual),
            serde_json::to_string(&handoff(&manual)).unwrap(),
            manual.clone(),
        ),
    ];
    for (kind, queue, workflow_id, input, _) in &starts {
        let mut args = vec![
            "workflow",
            "start",
            "--type",
            kind,
            "--task-queue",
            queue,
            "--workflow-id",
            workflow_id,
            "--input",
            input,
        ];
        for forged in [
            "ClaimedBy=\"carol\"",
            "SettledBy=[\"statement-abc\"]",
            "OrderResolution=\"paid\"",
            "NoteCount=3",
            "Actors=[\"carol\"]",
            "AwaitingApproval=1",
            "OrderId=\"ORD-SOMEONE-ELSES\"",
            "GatewayReference=\"GW-SOMEONE-ELSES\"",
        ] {
            args.extend(["--search-attribute", forged]);
        }
        let out = temporal(&env.server.hostport, &args);
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (kind, _, workflow_id, _, order_id) in &starts {
        let forged = format!(
            "WorkflowId = '{workflow_id}' AND (ClaimedBy = 'carol' OR SettledBy = 'statement-abc' \
             OR OrderResolution = 'paid' OR NoteCount > 0 OR Actors = 'carol' \
             OR AwaitingApproval = 1 OR OrderId = 'ORD-SOMEONE-ELSES' \
             OR GatewayReference = 'GW-SOMEONE-ELSES')"
        );
        let own = format!("WorkflowId = '{workflow_id}' AND OrderId = '{order_id}'");
        eventually(
            &format!("{kind}'s forged attributes gone"),
            Duration::from_secs(20),
            || async { (count(c, &forged).await == 0 && count(c, &own).await >= 1).then_some(()) },
        )
        .await;
    }
    // The order the first handed on to its stale stage, started by our code, needed no
    // correction: only the three forged starts carry the change's marker.
    let ours = format!("WorkflowId = '{}'", stale_workflow_id(&queried));
    visible_once(c, "the stale stage our code started", &ours).await;
    assert_eq!(
        count(
            c,
            "TemporalChangeVersion = 'start-attributes-held-to-input'"
        )
        .await,
        3
    );
    // The queue lists the one waiting for a person as nobody's, with no notes.
    let context = temporal_playground::operations::orders::manual_context(c, &manual)
        .await
        .unwrap();
    assert!(context.claim.is_none(), "{context:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lane_of_an_order_the_bank_settled_says_what_it_was_for_and_how_it_ended() {
    use temporal_playground::domain::money::Money;
    let mut env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let hp = env.server.hostport.clone();
    let (paid, declined) = (Script::Paid.id("lane"), Script::Failed.id("lane"));
    let mut o = order(&paid, fast_policy(3, 60));
    o.amount = Some(Money {
        minor: 1_250_000,
        currency: "JPY".into(),
        exponent: 0,
    });
    o.reference = Some("GW-REF-77".into());
    start_order(&env.client, o).await.unwrap();
    start_order(&env.client, order(&declined, fast_policy(3, 60)))
        .await
        .unwrap();
    assert_resolved(&env.client, &paid, Resolution::Paid).await;
    assert_resolved(&env.client, &declined, Resolution::Failed).await;

    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let lane_of = |id: &str| format!("http://{addr}/orders/{id}");
    let origin = "upstream simbank · business unit payments · environment test · priority 2 (high)";
    let lane = shown_text(&page_text(&support, &lane_of(&paid)).await);
    for shown in [
        "Resolved paid from the bank's own answer",
        "UPSTREAM_PAID",
        "1,250,000 JPY",
        "GW-REF-77",
        origin,
    ] {
        assert!(lane.contains(shown), "{shown:?} missing from {lane}");
    }
    // Its keys are those of what it offers: nothing to claim or resolve.
    assert!(
        !lane.contains("c claim") && lane.contains("n take the next order"),
        "{lane}"
    );
    let lane = shown_text(&page_text(&support, &lane_of(&declined)).await);
    for shown in [
        "Resolved failed from the bank's own answer",
        "card_declined",
        "amount unknown",
        origin,
    ] {
        assert!(lane.contains(shown), "{shown:?} missing from {lane}");
    }
    let (ok, shown) = ours(&hp, &["client", "show", "-o", &paid]);
    assert!(
        ok && shown.contains("resolved paid from the bank's own answer")
            && shown.contains("amount 1,250,000 JPY · reference GW-REF-77")
            && shown.contains(origin),
        "{shown}"
    );

    // Both come from Temporal's history: with no worker running they read the same.
    env.stop_workers().await;
    let lane = shown_text(&page_text(&support, &lane_of(&paid)).await);
    assert!(
        lane.contains("Resolved paid from the bank's own answer") && lane.contains("GW-REF-77"),
        "{lane}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lane_of_an_order_still_asking_the_bank_says_which_try_and_when_the_next() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let hp = env.server.hostport.clone();
    let id = Script::Down.id("asking");
    let mut policy = fast_policy(3, 60);
    // A minute between tries: the order waits in its first stage while the lane is read.
    policy.backoff_ms = 60_000;
    start_order(&env.client, order(&id, policy)).await.unwrap();
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let url = format!("http://{addr}/orders/{id}");
    let lane = eventually(
        "the lane to show the second try waiting",
        Duration::from_secs(20),
        || async {
            let page = shown_text(&page_text(&support, &url).await);
            page.contains("attempt 2 of 3").then_some(page)
        },
    )
    .await;
    assert!(
        lane.contains("Now: asking the bank about the order, attempt 2 of 3")
            && lane.contains("The last try failed")
            && lane.contains("503")
            && lane.contains("Next try in"),
        "{lane}"
    );
    let (ok, shown) = ours(&hp, &["client", "show", "-o", &id]);
    assert!(
        ok && shown.contains("now: asking the bank about the order, attempt 2 of 3")
            && shown.contains("next try at"),
        "{shown}"
    );
}
