//! ManualHandle on a real dev server: validators, claims, a second resolution, and the Go
//! original's signal.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::input::MAX_NOTE_LEN,
    domain::order::Resolution,
    domain::resolution::ResolveRequest,
    operations::OpError,
    operations::orders::{
        Signalled, approve, claim, manual_context, release, resolve_manual, signal_manual,
        start_order,
    },
    upstream::simulator::UpstreamBehaviour,
    workflows::manual_handle::ManualHandle,
};
use temporalio_client::{WorkflowExecuteUpdateOptions, WorkflowGetResultOptions};

async fn env_with_manual_order(order_id: &str) -> TestEnv {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    start_order(&env.client, order(order_id, fast_policy(1, 1)))
        .await
        .unwrap();
    eventually(
        "the order to reach the manual queue",
        Duration::from_secs(30),
        || async { manual_context(&env.client, order_id).await.ok() },
    )
    .await;
    env
}

/// `id` put straight into the manual queue, once its workflow has taken its first step.
async fn waiting(c: &temporalio_client::Client, id: &str) {
    start_manual(c, id, "bank-a", "http_503").await;
    eventually(
        "the order in the queue",
        Duration::from_secs(30),
        || async { manual_context(c, id).await.ok() },
    )
    .await;
}

/// Who holds the claim on `id` now.
async fn holder(c: &temporalio_client::Client, id: &str) -> Option<String> {
    manual_context(c, id)
        .await
        .unwrap()
        .claim
        .map(|claim| claim.operator)
}

fn request(resolution: &str, operator: &str, note: &str) -> ResolveRequest {
    ResolveRequest {
        resolution: resolution.into(),
        reason_code: "BANK_CONFIRMED".into(),
        operator: operator.into(),
        note: note.into(),
        operator_id: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_validator_refuses_bad_input_money_without_a_second_person_and_a_second_resolution() {
    let env = env_with_manual_order("down-val").await;
    let handle = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-val");
    let before = history_length(&env, "manual-down-val").await;
    // Straight to the workflow, past the client-side checks, as any client of the
    // namespace could send it: the validator must hold.
    let refusals = [
        (request("maybe", "ana", ""), "is not a resolution"),
        (
            request("failed", "ana", &"x".repeat(MAX_NOTE_LEN + 1)),
            "note",
        ),
        (request("failed", " ", ""), "operator name is empty"),
        (
            request("paid", "ana", ""),
            "needs a second person's approval",
        ),
        (
            request("refunded", "ana", ""),
            "needs a second person's approval",
        ),
    ];
    for (bad, says) in refusals {
        let err = handle
            .execute_update(
                ManualHandle::resolve,
                bad.clone(),
                WorkflowExecuteUpdateOptions::default(),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(says), "{bad:?}: {err}");
    }
    let context = manual_context(&env.client, "down-val").await.unwrap();
    assert!(context.resolution.is_none() && context.proposal.is_none());
    assert_eq!(
        history_length(&env, "manual-down-val").await,
        before,
        "refused updates never reach history"
    );

    let first = resolve_manual(&env.client, "down-val", request("cancelled", "ana", "ok"))
        .await
        .unwrap();
    assert_eq!(first.resolution, Resolution::Cancelled);
    let err = resolve_manual(&env.client, "down-val", request("failed", "bo", "")).await;
    match err {
        Err(OpError::Rejected(message)) => {
            assert!(
                message.starts_with("already resolved by ana at "),
                "{message}"
            );
            assert!(message.ends_with(" as cancelled"), "{message}");
        }
        other => panic!("a second resolution must be refused, got {other:?}"),
    }
    let done = handle
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done.resolved_by, "ana");
    assert_eq!(done.resolution, Resolution::Cancelled);
    assert_resolved(&env.client, "down-val", Resolution::Cancelled).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_agent_works_one_order() {
    let env = env_with_manual_order("down-claim").await;
    let stamp = claim(&env.client, "down-claim", "ana").await.unwrap();
    assert_eq!(stamp.operator, "ana");
    let err = claim(&env.client, "down-claim", "bo").await.unwrap_err();
    assert!(err.to_string().contains("already claimed by ana"), "{err}");
    let err = resolve_manual(&env.client, "down-claim", request("paid", "bo", ""))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("claimed by ana"), "{err}");
    let err = release(&env.client, "down-claim", "bo").await.unwrap_err();
    assert!(err.to_string().contains("only they can release"), "{err}");
    visible_once(&env.client, "ClaimedBy in visibility", "ClaimedBy = 'ana'").await;

    release(&env.client, "down-claim", "ana").await.unwrap();
    claim(&env.client, "down-claim", "bo").await.unwrap();
    let record = resolve_manual(&env.client, "down-claim", request("failed", "bo", ""))
        .await
        .unwrap();
    assert_eq!(record.resolved_by, "bo");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_go_originals_signal_proposes_what_needs_a_second_person_and_resolves_the_rest() {
    let env = env_with_manual_order("down-signal").await;
    let err = signal_manual(&env.client, "manual-down-signal", "maybe")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not a resolution"), "{err}");
    // Ana holds the claim; the signal does not say who sent it, so it is not her.
    claim(&env.client, "down-signal", "ana").await.unwrap();
    let sent = signal_manual(&env.client, "manual-down-signal", "Paid")
        .await
        .unwrap();
    assert!(
        matches!(sent, Signalled::AwaitingApproval { .. }),
        "{sent:?}"
    );
    let context = manual_context(&env.client, "down-signal").await.unwrap();
    assert!(context.resolution.is_none(), "paid never concludes alone");
    let proposal = context.proposal.expect("a proposal");
    assert_eq!(proposal.resolved_by, "signal");
    assert!(
        proposal.note.contains("ana held the claim"),
        "{}",
        proposal.note
    );
    visible_once(
        &env.client,
        "awaiting approval, the signal among the actors",
        "OrderId = 'down-signal' AND AwaitingApproval = 1 AND Actors = 'signal'",
    )
    .await;
    // A second signal, of any resolution, never overrides the pending proposal.
    let again = signal_manual(&env.client, "manual-down-signal", "failed")
        .await
        .unwrap();
    assert!(matches!(again, Signalled::Ignored { .. }), "{again:?}");
    assert_eq!(
        manual_context(&env.client, "down-signal")
            .await
            .unwrap()
            .proposal
            .map(|p| p.resolution),
        Some(Resolution::Paid)
    );
    assert_eq!(env.upstream.stats().conclusions, 0, "nothing concluded yet");

    approve(&env.client, "down-signal", "bo").await.unwrap();
    let done = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-signal")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done.resolution, Resolution::Paid);
    assert_eq!(done.reason_code, "SIGNAL");
    assert_eq!(done.resolved_by, "signal");
    assert_eq!(done.approved_by.map(|a| a.operator), Some("bo".into()));
    assert_eq!(env.upstream.stats().distinct_conclusions, 1);

    // A resolution that needs nobody else is the resolution, as in the Go original.
    start_manual(&env.client, "down-signal-2", "bank-a", "http_503").await;
    let sent = signal_manual(&env.client, "down-signal-2", "failed")
        .await
        .unwrap();
    assert!(matches!(sent, Signalled::Resolved { .. }), "{sent:?}");
    assert_resolved(&env.client, "down-signal-2", Resolution::Failed).await;
}

/// Events in a workflow's history.
async fn history_length(env: &TestEnv, workflow_id: &str) -> usize {
    env.client
        .get_workflow_handle::<ManualHandle>(workflow_id)
        .fetch_history(Default::default())
        .into_events()
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn claiming_ones_own_claim_again_changes_nothing_and_writes_nothing() {
    let env = env_with_manual_order("down-reclaim").await;
    let first = claim(&env.client, "down-reclaim", "ana").await.unwrap();
    let before = history_length(&env, "manual-down-reclaim").await;
    for _ in 0..5 {
        let again = claim(&env.client, "down-reclaim", "ana").await.unwrap();
        assert_eq!(again, first, "the same claim, as it was");
    }
    // Straight to the workflow, past the client: the validator refuses it before history.
    let direct = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-reclaim")
        .execute_update(
            ManualHandle::claim,
            temporal_playground::domain::resolution::ClaimRequest {
                operator: "ana".into(),
                ..Default::default()
            },
            WorkflowExecuteUpdateOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(direct.to_string().contains("already"), "{direct}");
    assert_eq!(
        history_length(&env, "manual-down-reclaim").await,
        before,
        "idempotent claims must not grow history"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resolution_the_upstream_refuses_returns_to_the_queue_with_its_message() {
    // `refuse1-…`: queries fail (to the manual queue); the first conclusion gets a 422.
    let env = env_with_manual_order("refuse1-a").await;
    resolve_manual(&env.client, "refuse1-a", request("cancelled", "ana", ""))
        .await
        .unwrap();
    let context = eventually(
        "the refusal on the order",
        Duration::from_secs(30),
        || async {
            manual_context(&env.client, "refuse1-a")
                .await
                .ok()
                .filter(|c| c.refused.is_some())
        },
    )
    .await;
    let refusal = context.refused.unwrap();
    assert!(refusal.message.contains("422"), "{refusal:?}");
    // The bank answered no: the lane says it did not record it (not "may have").
    assert!(refusal.answered(), "{refusal:?}");
    assert_eq!(refusal.reason, "rejected");
    assert!(
        refusal.message.contains("reference mismatch"),
        "{refusal:?}"
    );
    assert_eq!(refusal.record.resolved_by, "ana");
    assert!(context.resolution.is_none() && !context.concluded);
    waits_marked_refused(&env.client, "refuse1-a").await;

    // A person decides again; this time the upstream records it.
    let record = resolve_manual(
        &env.client,
        "refuse1-a",
        request("failed", "ana", "rechecked"),
    )
    .await
    .unwrap();
    let done = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-refuse1-a")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done, record);
    assert_eq!(env.upstream.stats().distinct_conclusions, 1);
    visible_once(
        &env.client,
        "the order resolved",
        "OrderId = 'refuse1-a' AND OrderStage = 'resolved' AND OrderResolution = 'failed'",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_records_no_outcome_other_than_the_one_the_bank_recorded() {
    // Ana cancels; the bank records it under the order's key and the order ends.
    let env = env_with_manual_order("down-undone").await;
    let first = resolve_manual(&env.client, "down-undone", request("cancelled", "ana", ""))
        .await
        .unwrap();
    let handle = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-undone");
    let done = handle
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done, first);
    assert_eq!(
        env.upstream.conclusion_of("down-undone").as_deref(),
        Some("cancelled")
    );

    // From Temporal's CLI, the order is reset to before the resolution (as anyone with the
    // namespace can; a conclusion whose every answer was lost leaves it the same way).
    let reset = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "reset",
            "-w",
            "manual-down-undone",
            "--type",
            "FirstWorkflowTask",
            "--reapply-exclude",
            "All",
            "--reason",
            "undo a resolution",
        ],
    );
    assert!(reset.status.success(), "{reset:?}");
    eventually(
        "the order waiting again after the reset",
        Duration::from_secs(30),
        || async {
            manual_context(&env.client, "down-undone")
                .await
                .ok()
                .filter(|c| c.resolution.is_none())
        },
    )
    .await;

    // Bo decides otherwise: the bank holds "cancelled", so the order may not end "failed".
    resolve_manual(&env.client, "down-undone", request("failed", "bo", ""))
        .await
        .unwrap();
    let context = eventually(
        "the bank's refusal on the order",
        Duration::from_secs(30),
        || async {
            manual_context(&env.client, "down-undone")
                .await
                .ok()
                .filter(|c| c.refused.is_some())
        },
    )
    .await;
    let refusal = context.refused.unwrap();
    assert!(
        refusal
            .message
            .contains("already recorded order down-undone as cancelled"),
        "{refusal:?}"
    );
    assert_eq!(refusal.record.resolved_by, "bo");
    assert!(context.resolution.is_none() && !context.concluded);
    assert_eq!(
        env.upstream.conclusion_of("down-undone").as_deref(),
        Some("cancelled")
    );
    waits_marked_refused(&env.client, "down-undone").await;

    // Resolved as the bank holds it, the order ends, agreeing with the bank.
    let agreed = resolve_manual(
        &env.client,
        "down-undone",
        request("cancelled", "bo", "as the bank recorded it"),
    )
    .await
    .unwrap();
    let done = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-undone")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done, agreed);
    // Both runs (the one reset, kept as it ended, and this one) say what the bank holds.
    eventually(
        "both runs resolved as the bank holds it",
        Duration::from_secs(10),
        || async {
            let query = "WorkflowId = 'manual-down-undone' AND OrderResolution = 'cancelled' \
                         AND ExecutionStatus = 'Completed'";
            (count(&env.client, query).await == 2).then_some(())
        },
    )
    .await;
    let other = "WorkflowId = 'manual-down-undone' AND OrderResolution != 'cancelled'";
    assert_eq!(count(&env.client, other).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_terminated_from_outside_is_listed_as_dropped_and_put_back_by_support() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        domain::resolution::Stamp,
        operations::dropped::{dropped_orders, put_back},
        web::pages::dropped_orders::PutBack,
    };
    let env = env_with_manual_order("down-drop").await;
    // A colleague left a note on it before.
    let note = "called the bank: they look into it";
    temporal_playground::operations::orders::add_note(&env.client, "down-drop", "ana", note)
        .await
        .unwrap();
    // From Temporal's CLI, the order's run is terminated: it waits in no queue now.
    let ended = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "terminate",
            "-w",
            "manual-down-drop",
            "--reason",
            "tidying the namespace",
        ],
    );
    assert!(ended.status.success(), "{ended:?}");
    let runs = "WorkflowId = 'manual-down-drop'";
    let listed = eventually(
        "the order listed as dropped",
        Duration::from_secs(20),
        || async {
            let list = dropped_orders(&env.client).await.ok()?;
            list.rows.into_iter().find(|r| r.order_id == "down-drop")
        },
    )
    .await;
    assert_eq!(listed.ended, "terminated");
    assert_eq!(listed.stage, "ManualHandle");
    assert_eq!(listed.why, "tidying the namespace");
    assert!(
        !listed.by.is_empty(),
        "Temporal records who terminated it: {listed:?}"
    );
    // Our CLI lists it too.
    let (ok, said) = ours(&env.server.hostport, &["client", "dropped"]);
    assert!(
        ok && said.contains("down-drop\tManualHandle manual-down-drop terminated by"),
        "{said}"
    );

    // The console lists it; support may put it back, the presenter may not.
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let page = format!("http://{addr}/dropped");
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let presenter = sign_in_with(addr, &[("name", "presenter"), ("password", PASSWORD)]).await;
    let shown = page_text(&support, &page).await;
    assert!(
        shown.contains("down-drop") && shown.contains("tidying the namespace"),
        "{shown}"
    );
    assert!(shown.contains("data-testid=\"put-back\""));
    // When it ended, as an age (the exact time on hover).
    let read = shown_text(&shown);
    let aged = read.split("terminated ").skip(1).any(|after| {
        let mut words = after.split(' ');
        let number = words.next().is_some_and(|n| n.parse::<u32>().is_ok());
        number && matches!(words.next(), Some("s" | "min")) && words.next() == Some("ago")
    });
    assert!(aged, "{read}");
    let shown = page_text(&presenter, &page).await;
    assert!(shown.contains("down-drop") && !shown.contains("data-testid=\"put-back\""));
    let post = |who: &reqwest::Client, reason: &str| {
        who.post(format!("http://{addr}{}", PutBack::PATH))
            .form(&[("order_id", "down-drop"), ("reason", reason)])
            .send()
    };
    // Its lane says so (it read "resolved" before), and offers the way back to support.
    let lane = page_text(&support, &format!("http://{addr}/orders/down-drop")).await;
    assert!(
        lane.contains("data-testid=\"open-stage\">dropped<")
            && lane.contains("This order waits in no queue: its ManualHandle was terminated by")
            && lane.contains("Back to the queue"),
        "{lane}"
    );
    // The queue says one order dropped out (the console's watch read it as it started).
    let queue = format!("http://{addr}/");
    eventually("the queue's banner", Duration::from_secs(20), || async {
        let shown = page_text(&support, &queue).await;
        shown
            .contains("1 order dropped out of every queue")
            .then_some(())
    })
    .await;
    let refused = post(&presenter, "I want it back").await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    // A put-back must say why.
    let no_reason = post(&support, " ").await.unwrap();
    assert!(no_reason.status().is_client_error(), "{no_reason:?}");
    assert!(no_reason.text().await.unwrap().contains("reason is empty"));
    assert_eq!(count(&env.client, runs).await, 1, "nothing was started");

    // Support puts it back: the lane opens, and the order waits in the queue again,
    // saying who put it back and what had ended.
    let back = support
        .post(format!("http://{addr}{}", PutBack::PATH))
        .header("accept", "text/html")
        .form(&[
            ("order_id", "down-drop"),
            ("reason", "terminated by mistake"),
        ])
        .send()
        .await
        .unwrap();
    assert!(back.status().is_redirection(), "{back:?}");
    let to = back.headers().get("location").and_then(|l| l.to_str().ok());
    assert_eq!(to, Some("/orders/down-drop"));
    let context = manual_context(&env.client, "down-drop").await.unwrap();
    let put = context.handoff.put_back.clone().expect("who put it back");
    assert_eq!(put.by.operator, "support");
    assert_eq!(put.reason, "terminated by mistake");
    assert!(put.dropped.contains("terminated"), "{put:?}");
    assert!(put.dropped.contains("tidying the namespace"), "{put:?}");
    visible_once(
        &env.client,
        "the order back in the manual queue",
        "WorkflowId = 'manual-down-drop' AND ExecutionStatus = 'Running' \
         AND OrderStage = 'manual' AND ErrorReason = 'put_back' AND Actors = 'support'",
    )
    .await;
    let lane = page_text(&support, &format!("http://{addr}/orders/down-drop")).await;
    assert!(
        lane.contains("support put the order back in the queue"),
        "{lane}"
    );
    // The note left on the run that ended is on the lane, marked as from before, and in
    // our CLI's view.
    let earlier = lane
        .split("data-testid=\"earlier-notes\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        lane.contains("Left before the order was put back in the queue:")
            && earlier.contains(note)
            && earlier.contains("ana"),
        "{lane}"
    );
    let (ok, shown) = ours(&env.server.hostport, &["client", "show", "-o", "down-drop"]);
    assert!(
        ok && shown.contains("notes left before the order was put back in the queue:")
            && shown.contains(note),
        "{shown}"
    );
    // The watch reads the list again at once after a put-back: the banner goes.
    eventually(
        "the queue without the banner",
        Duration::from_secs(20),
        || async {
            let shown = page_text(&support, &queue).await;
            (!shown.contains("dropped out of every queue")).then_some(())
        },
    )
    .await;
    // The audit trail lists the put-back under support's name, with what had ended.
    let admin = sign_in_with(addr, &[("name", "admin"), ("password", PASSWORD)]).await;
    let trail = page_text(&admin, &format!("http://{addr}/audit?person=support")).await;
    assert!(
        trail.contains("put back in the queue: terminated by mistake")
            && trail.contains("tidying the namespace"),
        "{trail}"
    );
    eventually(
        "the dropped list without it",
        Duration::from_secs(10),
        || async {
            let list = dropped_orders(&env.client).await.ok()?;
            (!list.rows.iter().any(|r| r.order_id == "down-drop")).then_some(())
        },
    )
    .await;
    // Support asks the bank about it again: still down. Its row's latest error says so (it
    // read `put_back`), so a bulk question by reason finds it with the others still down.
    let (ok, said) = ours(
        &env.server.hostport,
        &[
            "client",
            "ask-the-bank",
            "-o",
            "down-drop",
            "--operator",
            "support",
        ],
    );
    assert!(ok && said.contains("no verdict (http_503)"), "{said}");
    visible_once(
        &env.client,
        "the latest error the bank's",
        "WorkflowId = 'manual-down-drop' AND ExecutionStatus = 'Running' \
         AND ErrorReason = 'http_503'",
    )
    .await;
    // Not dropped any more: a second put-back is refused and starts nothing.
    let by = Stamp {
        operator: "ana".into(),
        ..Default::default()
    };
    let again = put_back(&env.client, "down-drop", by.clone(), "again")
        .await
        .unwrap_err();
    assert!(again.to_string().contains("not dropped"), "{again}");
    let never = put_back(&env.client, "never-seen", by, "why not")
        .await
        .unwrap_err();
    assert!(never.to_string().contains("nothing to put back"), "{never}");
    assert_eq!(count(&env.client, runs).await, 2);

    // And it is resolved as any order in the queue.
    let record = resolve_manual(&env.client, "down-drop", request("cancelled", "ana", ""))
        .await
        .unwrap();
    let done = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-down-drop")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done, record);
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_a_batch_terminate_dropped_go_back_together_once_support_confirms_the_count() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        operations::dropped::dropped_orders, web::pages::dropped_orders::PutBackAll,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let ids = ["down-batch-1", "down-batch-2", "down-batch-3"];
    for id in ids {
        start_order(&env.client, order(id, fast_policy(1, 1)))
            .await
            .unwrap();
    }
    let waiting = "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running'";
    eventually(
        "three orders in the queue",
        Duration::from_secs(30),
        || async { (count(&env.client, waiting).await == 3).then_some(()) },
    )
    .await;
    // Someone cleans the namespace with one batch terminate from Temporal's CLI.
    let batch = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "terminate",
            "--query",
            waiting,
            "--reason",
            "cleanup",
            "--yes",
        ],
    );
    assert!(batch.status.success(), "{batch:?}");
    eventually("three orders dropped", Duration::from_secs(30), || async {
        let list = dropped_orders(&env.client).await.ok()?;
        (list.rows.len() == 3).then_some(())
    })
    .await;

    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let asked = page_text(&support, &format!("http://{addr}/dropped?confirm=1")).await;
    assert!(
        asked.contains("This will put 3 orders back in the manual queue."),
        "{asked}"
    );
    let post = |expected: &str| {
        support
            .post(format!("http://{addr}{}", PutBackAll::PATH))
            .header("accept", "text/html")
            .form(&[("expected", expected), ("reason", "cleanup was a mistake")])
            .send()
    };
    // Told a count the list no longer holds: refused with why, nothing started.
    let stale_count = support
        .post(format!("http://{addr}{}", PutBackAll::PATH))
        .form(&[("expected", "2"), ("reason", "cleanup was a mistake")])
        .send()
        .await
        .unwrap();
    assert!(stale_count.status().is_client_error(), "{stale_count:?}");
    let why = stale_count.text().await.unwrap();
    assert!(
        why.contains("the list changed: 3 orders are dropped now, not 2"),
        "{why}"
    );
    assert_eq!(count(&env.client, waiting).await, 0);
    let done = post("3").await.unwrap();
    let to = done.headers().get("location").and_then(|l| l.to_str().ok());
    assert_eq!(to, Some("/dropped?put_back=3&refused=0"));
    let said = page_text(
        &support,
        &format!("http://{addr}/dropped?put_back=3&refused=0"),
    )
    .await;
    assert!(
        said.contains("Put 3 orders back in the queue.") && said.contains("No order has dropped"),
        "{said}"
    );
    visible_once(
        &env.client,
        "the three back in the queue",
        "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running' \
         AND ErrorReason = 'put_back' AND Actors = 'support' AND OrderId = 'down-batch-2'",
    )
    .await;
    assert_eq!(count(&env.client, waiting).await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_lane_shows_its_newest_events_from_one_page_of_history() {
    use temporal_playground::operations::lane::{TIMELINE_EVENTS, TemporalUi, order_lane};
    let env = env_with_manual_order("down-long").await;
    // Each claim and release is an update: a few events each, well past one page.
    for _ in 0..40 {
        claim(&env.client, "down-long", "ana").await.unwrap();
        release(&env.client, "down-long", "ana").await.unwrap();
    }
    claim(&env.client, "down-long", "bo").await.unwrap();
    let all = history_length(&env, "manual-down-long").await;
    assert!(all > TIMELINE_EVENTS, "{all} events");
    let ui = TemporalUi {
        url: "http://ui".into(),
        namespace: "default".into(),
    };
    let lane = order_lane(&env.client, "down-long".into(), &ui, None)
        .await
        .unwrap();
    let manual = lane
        .stages
        .iter()
        .find(|s| s.workflow_type == "ManualHandle")
        .unwrap();
    assert_eq!(manual.timeline.len(), TIMELINE_EVENTS);
    assert!(manual.earlier_events);
    // The newest events, not the oldest: the start is cut, bo's claim is near the end.
    assert_ne!(
        manual.timeline.first().map(|e| e.what.as_str()),
        Some("workflow execution started")
    );
    assert!(
        manual
            .timeline
            .iter()
            .rev()
            .take(5)
            .any(|e| e.what == "workflow execution update completed"),
        "{:?}",
        &manual.timeline[TIMELINE_EVENTS - 5..]
    );
    assert_eq!(
        lane.manual.and_then(|m| m.claim).map(|c| c.operator),
        Some("bo".to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_changes_hands_a_bounded_number_of_times_and_can_still_be_resolved() {
    use temporal_playground::workflows::manual_handle::MAX_CLAIM_CHANGES;
    let env = env_with_manual_order("down-hands").await;
    for _ in 0..MAX_CLAIM_CHANGES / 2 {
        claim(&env.client, "down-hands", "ana").await.unwrap();
        release(&env.client, "down-hands", "ana").await.unwrap();
    }
    let err = claim(&env.client, "down-hands", "bo").await.unwrap_err();
    assert!(err.to_string().contains("claimed and released"), "{err}");
    let record = resolve_manual(&env.client, "down-hands", request("failed", "bo", ""))
        .await
        .unwrap();
    assert_eq!(record.resolved_by, "bo");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_resolution_needs_a_second_person_and_never_its_proposer() {
    use temporal_playground::operations::orders::{Settled, approve, reject, resolve_or_propose};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    start_manual(&env.client, "four-eyes-1", "bank-a", "http_503").await;
    let c = &env.client;
    let proposed = resolve_or_propose(c, "four-eyes-1", request("paid", "ana", "seen"))
        .await
        .unwrap();
    assert!(matches!(proposed, Settled::Proposed(_)), "{proposed:?}");
    let context = manual_context(c, "four-eyes-1").await.unwrap();
    assert!(
        context.resolution.is_none(),
        "a proposal is not a resolution"
    );
    assert_eq!(context.proposal.map(|p| p.resolved_by), Some("ana".into()));
    visible_once(
        c,
        "awaiting approval",
        "OrderId = 'four-eyes-1' AND AwaitingApproval = 1",
    )
    .await;
    visible_once(
        c,
        "ana among the actors",
        "OrderId = 'four-eyes-1' AND Actors = 'ana'",
    )
    .await;

    // The proposer cannot approve, nor resolve around the proposal.
    let own = approve(c, "four-eyes-1", "ana")
        .await
        .unwrap_err()
        .to_string();
    assert!(own.contains("second person"), "{own}");
    let around = resolve_manual(c, "four-eyes-1", request("failed", "ana", ""))
        .await
        .unwrap_err()
        .to_string();
    assert!(around.contains("awaits"), "{around}");
    // A rejection needs its reason; then the order waits for a person again.
    let bare = reject(c, "four-eyes-1", "bo", " ")
        .await
        .unwrap_err()
        .to_string();
    assert!(bare.contains("say why"), "{bare}");
    reject(c, "four-eyes-1", "bo", "the bank has no record")
        .await
        .unwrap();
    let context = manual_context(c, "four-eyes-1").await.unwrap();
    assert!(context.proposal.is_none());
    assert_eq!(context.rejected.map(|r| r.by.operator), Some("bo".into()));

    // Proposed again, approved by a second person: resolved with both names.
    resolve_or_propose(c, "four-eyes-1", request("paid", "ana", "statement"))
        .await
        .unwrap();
    let record = approve(c, "four-eyes-1", "bo").await.unwrap();
    assert_eq!(record.resolved_by, "ana");
    assert_eq!(record.approved_by.map(|a| a.operator), Some("bo".into()));
    let done: temporal_playground::domain::resolution::ResolutionRecord = env
        .client
        .get_workflow_handle::<ManualHandle>("manual-four-eyes-1")
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(done.resolution, Resolution::Paid);
    visible_once(
        c,
        "both among the actors",
        "OrderId = 'four-eyes-1' AND Actors = 'ana' AND Actors = 'bo' AND AwaitingApproval = 0",
    )
    .await;

    // A resolution outside the list needs nobody else.
    start_manual(&env.client, "four-eyes-2", "bank-a", "http_503").await;
    let failed = resolve_or_propose(c, "four-eyes-2", request("failed", "ana", ""))
        .await
        .unwrap();
    assert!(matches!(failed, Settled::Resolved(_)), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proposal_of_a_dropped_run_does_not_come_back_pending_with_the_order() {
    use temporal_playground::{
        domain::resolution::Stamp, operations::dropped::put_back,
        workflows::stale_order::StaleOrder,
    };
    // Ana's paid, signalled to the stale order, waits for approval in the manual queue.
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    start_order(&env.client, order("down-dprop", fast_policy(1, 3_600)))
        .await
        .unwrap();
    eventually("the stale order", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::stale_status(&env.client, "down-dprop")
            .await
            .ok()
    })
    .await;
    env.client
        .get_workflow_handle::<StaleOrder>("stale-down-dprop")
        .signal(
            StaleOrder::resolve,
            request("paid", "ana", ""),
            Default::default(),
        )
        .await
        .unwrap();
    let context = eventually(
        "the proposal in the queue",
        Duration::from_secs(30),
        || async { manual_context(&env.client, "down-dprop").await.ok() },
    )
    .await;
    assert!(context.proposal.is_some(), "{context:?}");
    // Its run is terminated (bo may have rejected the proposal there: that state is gone),
    // then put back: the proposal does not wait for an approver again.
    let ended = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "terminate",
            "-w",
            "manual-down-dprop",
            "--reason",
            "x",
        ],
    );
    assert!(ended.status.success(), "{ended:?}");
    let by = Stamp {
        operator: "cy".into(),
        ..Default::default()
    };
    eventually("put back", Duration::from_secs(20), || async {
        put_back(
            &env.client,
            "down-dprop",
            by.clone(),
            "terminated by mistake",
        )
        .await
        .ok()
    })
    .await;
    let context = manual_context(&env.client, "down-dprop").await.unwrap();
    assert!(context.proposal.is_none(), "{:?}", context.proposal);
    let awaiting = "WorkflowId = 'manual-down-dprop' AND ExecutionStatus = 'Running' \
                    AND AwaitingApproval = 1";
    assert_eq!(count(&env.client, awaiting).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_whose_run_is_cancelled_from_outside_is_listed_as_dropped() {
    use temporal_playground::operations::dropped::dropped_orders;
    // A cancellation request from Temporal's CLI ends the order's run (Canceled): the
    // order waits in no queue, and the dropped list says so.
    let env = env_with_manual_order("down-cancel").await;
    let out = temporal(
        &env.server.hostport,
        &["workflow", "cancel", "-w", "manual-down-cancel"],
    );
    assert!(out.status.success(), "{out:?}");
    let listed = eventually(
        "the order listed as dropped",
        Duration::from_secs(20),
        || async {
            let list = dropped_orders(&env.client).await.ok()?;
            list.rows.into_iter().find(|r| r.order_id == "down-cancel")
        },
    )
    .await;
    assert_eq!(listed.ended, "cancelled");
    assert_eq!(listed.stage, "ManualHandle");
}

/// Support has an order waiting in the manual queue ask the bank again. No verdict leaves it
/// waiting with the bank's words (our CLI); a verdict settles it as the bank's own answer,
/// with no second person and nothing written back to the bank (the console, as support; a
/// presenter is neither offered nor allowed it). The workflow holds the rules for any
/// client (Temporal's CLI): nobody asks for a resolved order, a question names who asks, and
/// an order is asked about at most `MAX_BANK_QUESTIONS` times.
#[tokio::test(flavor = "multi_thread")]
async fn asking_the_bank_again_settles_a_waiting_order_by_its_verdict() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        domain::order::manual_workflow_id, upstream::simulator::Script,
        web::pages::order::AskBankOrder, workflows::manual_handle::MAX_BANK_QUESTIONS,
    };
    // 503 to the first query and to the stale stage's, then paid.
    let flaky = Script::flaky(2).id("ask");
    let env = env_with_manual_order(&flaky).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let down = Script::Down.id("ask");
    let slow = Script::Slow.id("ask");
    for id in [&down, &slow] {
        start_order(c, order(id, fast_policy(1, 1))).await.unwrap();
    }
    for id in [&down, &slow] {
        eventually(
            "the order in the queue",
            Duration::from_secs(30),
            || async { manual_context(c, id).await.ok() },
        )
        .await;
    }

    // Our CLI: the bank still cannot say; the order waits, with its words.
    let (ok, said) = ours(
        &hp,
        &["client", "ask-the-bank", "-o", &down, "--operator", "ana"],
    );
    assert!(
        ok && said.contains("no verdict") && said.contains("waits in the manual queue"),
        "{said}"
    );
    let context = manual_context(c, &down).await.unwrap();
    assert!(context.resolution.is_none());
    assert_eq!(context.bank_questions, 1);
    assert_eq!(
        context.asked_bank.map(|q| q.asked.operator).as_deref(),
        Some("ana")
    );

    // The console: a presenter is not offered it and is refused; support asks, and the
    // bank's "paid" settles the order.
    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let lane_url = format!("http://{addr}/orders/{flaky}");
    let presenter = sign_in_with(addr, &[("name", "presenter"), ("password", PASSWORD)]).await;
    assert!(
        !page_text(&presenter, &lane_url)
            .await
            .contains("Ask the bank again")
    );
    let ask_url = format!("http://{addr}{}", AskBankOrder::PATH);
    let refused = presenter
        .post(&ask_url)
        .form(&[("order_id", flaky.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(manual_context(c, &flaky).await.unwrap().bank_questions, 0);
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    assert!(
        page_text(&support, &lane_url)
            .await
            .contains("Ask the bank again")
    );
    let asked = support
        .post(&ask_url)
        .header("accept", "text/html")
        .form(&[("order_id", flaky.as_str())])
        .send()
        .await
        .unwrap();
    assert!(asked.status().is_redirection(), "{}", asked.status());
    assert_resolved(c, &flaky, Resolution::Paid).await;
    let record = manual_context(c, &flaky).await.unwrap().resolution.unwrap();
    assert_eq!(record.resolved_by, "system");
    assert!(record.note.contains("support asked"), "{record:?}");
    assert!(record.approved_by.is_none());
    assert_eq!(
        env.upstream.conclusion_of(&flaky),
        None,
        "the bank's own verdict is not written back to it"
    );
    let lane = page_text(&support, &lane_url).await;
    assert!(
        lane.contains("support asked the bank again") && lane.contains("which settled the order"),
        "{lane}"
    );
    // The audit trail lists the question under the person who asked.
    let admin = sign_in_with(addr, &[("name", "admin"), ("password", PASSWORD)]).await;
    let trail = page_text(&admin, &format!("http://{addr}/audit?person=support")).await;
    assert!(
        trail.contains("ask the bank again")
            && trail.contains(&flaky)
            && trail.contains("the bank said paid"),
        "{trail}"
    );
    let trail = page_text(&admin, &format!("http://{addr}/audit?person=ana")).await;
    assert!(
        trail.contains("ask the bank again") && trail.contains("no verdict"),
        "{trail}"
    );

    let (ok, shown) = ours(&hp, &["client", "show", "-o", &flaky]);
    assert!(
        ok && shown.contains(&format!("order {flaky}: resolved"))
            && shown.contains("resolved paid from the bank's own answer")
            && shown.contains("support asked the bank again"),
        "{shown}"
    );

    // Temporal's CLI: the workflow's own rules.
    let said = |out: std::process::Output| {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let ask = |order_id: &str, operator: &str| {
        said(raw_update(
            &hp,
            &manual_workflow_id(order_id),
            "ask_bank",
            &serde_json::json!({ "operator": operator }).to_string(),
        ))
    };
    // A settled order's run has ended: Temporal itself refuses the update.
    let (ok, text) = ask(&flaky, "bo");
    assert!(!ok && text.contains("already completed"), "{text}");
    let (ok, text) = ask(&down, "");
    assert!(!ok, "nobody asks: {text}");
    // One question at a time: the bank takes its time over the first (a call times out
    // after 2 s), and a second meanwhile is refused with who asked.
    let (ok, text) = ask(&slow, "ana");
    assert!(ok, "{text}");
    let (ok, text) = ask(&slow, "bo");
    assert!(
        !ok && text.contains("ana is asking the bank already"),
        "{text}"
    );
    assert_eq!(manual_context(c, &slow).await.unwrap().bank_questions, 1);
    for nth in 2..=MAX_BANK_QUESTIONS {
        let (ok, text) = ask(&down, "bo");
        assert!(ok, "{text}");
        eventually("the bank's answer", Duration::from_secs(30), || async {
            manual_context(c, &down)
                .await
                .ok()
                .and_then(|m| m.asked_bank)
                .filter(|q| q.answer.is_some())
                .map(|_| ())
        })
        .await;
        assert_eq!(manual_context(c, &down).await.unwrap().bank_questions, nth);
    }
    let (ok, text) = ask(&down, "bo");
    assert!(
        !ok && text.contains(&format!("{MAX_BANK_QUESTIONS} times")),
        "{text}"
    );
    let context = manual_context(c, &down).await.unwrap();
    assert_eq!(context.bank_questions, MAX_BANK_QUESTIONS);
    assert!(context.resolution.is_none(), "no verdict settles nothing");
}

/// After an outage: support asks the bank about every order a filter of the manual queue
/// holds, once the page has said how many; a stale count is refused and asks nothing; the
/// bank's verdicts take them off the queue, and an order outside the filter is not asked.
#[tokio::test(flavor = "multi_thread")]
async fn support_asks_the_bank_about_every_matching_order_once_it_confirms_the_count() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{upstream::simulator::Script, web::pages::manual_queue::AskBankSet};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let matching: Vec<String> = (1..=3)
        .map(|n| Script::flaky(2).id(&format!("bulk{n}")))
        .collect();
    let outside = Script::Down.id("bulk-out");
    for id in matching.iter().chain([&outside]) {
        start_order(c, order(id, fast_policy(1, 1))).await.unwrap();
    }
    for id in matching.iter().chain([&outside]) {
        eventually(
            "the order in the queue",
            Duration::from_secs(30),
            || async { manual_context(c, id).await.ok() },
        )
        .await;
    }
    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let queue = format!("http://{addr}/?prefix=flaky2-bulk&claim=all");
    eventually("the three listed", Duration::from_secs(20), || async {
        let shown = page_text(&support, &queue).await;
        shown
            .contains("Ask the bank about all 3 matching")
            .then_some(())
    })
    .await;
    let presenter = sign_in_with(addr, &[("name", "presenter"), ("password", PASSWORD)]).await;
    assert!(
        !page_text(&presenter, &queue)
            .await
            .contains("Ask the bank about all")
    );
    let confirm = page_text(&support, &format!("{queue}&ask=1")).await;
    assert!(
        confirm.contains("This will ask the bank again about 3 orders"),
        "{confirm}"
    );

    let url = format!("http://{addr}{}", AskBankSet::PATH);
    let form = |expected: &str| {
        vec![
            ("prefix", "flaky2-bulk".to_string()),
            ("provider", String::new()),
            ("reason", String::new()),
            ("claim", "all".to_string()),
            ("age", String::new()),
            ("currency", String::new()),
            ("band", String::new()),
            ("expected", expected.to_string()),
        ]
    };
    let refused = presenter.post(&url).form(&form("3")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let stale = support.post(&url).form(&form("2")).send().await.unwrap();
    assert!(stale.status().is_client_error(), "{}", stale.status());
    let said = stale.text().await.unwrap();
    assert!(said.contains("the set changed"), "{said}");
    for id in matching.iter().chain([&outside]) {
        assert_eq!(
            manual_context(c, id).await.unwrap().bank_questions,
            0,
            "{id}"
        );
    }

    let asked = support
        .post(&url)
        .header("accept", "text/html")
        .form(&form("3"))
        .send()
        .await
        .unwrap();
    assert!(asked.status().is_redirection(), "{}", asked.status());
    let to = location(&asked);
    assert!(to.contains("asked=3"), "{to}");
    for id in &matching {
        assert_resolved(c, id, Resolution::Paid).await;
    }
    assert_eq!(manual_context(c, &outside).await.unwrap().bank_questions, 0);
    let shown = page_text(&support, &format!("http://{addr}{to}")).await;
    assert!(shown.contains("Asked the bank about 3 orders"), "{shown}");

    // The same from our CLI: how many match first, then the count it said.
    let by_cli: Vec<String> = (1..=2)
        .map(|n| Script::flaky(2).id(&format!("cli{n}")))
        .collect();
    for id in &by_cli {
        start_order(c, order(id, fast_policy(1, 1))).await.unwrap();
    }
    let hp = env.server.hostport.clone();
    let all = |expect: Option<&str>| {
        let mut args = vec![
            "client",
            "ask-the-bank-all",
            "--prefix",
            "flaky2-cli",
            "--operator",
            "ana",
        ];
        if let Some(n) = expect {
            args.extend(["--expect", n]);
        }
        ours(&hp, &args)
    };
    eventually("both listed", Duration::from_secs(30), || async {
        let (ok, said) = all(None);
        (ok && said.contains("2 orders waiting in the manual queue match")).then_some(())
    })
    .await;
    let (ok, said) = all(Some("3"));
    assert!(!ok && said.contains("the set changed"), "{said}");
    let (ok, said) = all(Some("2"));
    assert!(
        ok && said.contains("asked the bank about 2 orders"),
        "{said}"
    );
    for id in &by_cli {
        assert_resolved(c, id, Resolution::Paid).await;
    }
}

/// Support leaves notes on a waiting order for colleagues (a shift hands over, a call to the
/// bank is pending): from our CLI and the console, shown on the lane in order and kept in
/// the trail under each person. A presenter may not; the workflow refuses, whichever client
/// asks (Temporal's CLI), an empty note, an over-long one and one past `MAX_NOTES`.
#[tokio::test(flavor = "multi_thread")]
async fn support_leaves_notes_on_a_waiting_order_for_colleagues_and_the_trail() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        domain::order::manual_workflow_id, upstream::simulator::Script,
        web::pages::order::NoteOrder, workflows::manual_handle::MAX_NOTES,
    };
    let id = Script::Down.id("notes");
    let env = env_with_manual_order(&id).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();

    let first = "called the bank: ticket 4411, they call back by 3 pm";
    let by_cli = |note: &str| {
        ours(
            &hp,
            &[
                "client",
                "note",
                "-o",
                &id,
                "--operator",
                "ana",
                "--note",
                note,
            ],
        )
    };
    let (ok, said) = by_cli(first);
    assert!(ok && said.contains("noted by ana"), "{said}");
    let (ok, said) = by_cli("  ");
    assert!(!ok && said.contains("empty"), "{said}");

    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let lane_url = format!("http://{addr}/orders/{id}");
    let note_url = format!("http://{addr}{}", NoteOrder::PATH);
    let presenter = sign_in_with(addr, &[("name", "presenter"), ("password", PASSWORD)]).await;
    let seen = page_text(&presenter, &lane_url).await;
    assert!(
        seen.contains(first) && !seen.contains("Add the note"),
        "{seen}"
    );
    let refused = presenter
        .post(&note_url)
        .form(&[("order_id", id.as_str()), ("note", "not mine to say")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let second = "the bank called: paid on their side, waiting for the statement";
    let noted = support
        .post(&note_url)
        .header("accept", "text/html")
        .form(&[("order_id", id.as_str()), ("note", second)])
        .send()
        .await
        .unwrap();
    assert!(noted.status().is_redirection(), "{}", noted.status());
    let lane = page_text(&support, &lane_url).await;
    let (at_first, at_second) = (lane.find(first), lane.find(second));
    assert!(
        at_first.is_some() && at_second.is_some() && at_first < at_second,
        "the notes, oldest first: {lane}"
    );
    assert!(lane.contains("Add the note"), "{lane}");
    let notes = manual_context(c, &id).await.unwrap().notes;
    assert_eq!(
        notes
            .iter()
            .map(|n| n.by.operator.as_str())
            .collect::<Vec<_>>(),
        ["ana", "support"]
    );
    // The queue shows on the order's row that colleagues left notes, and how many.
    let row_notes = || async {
        let queue = page_text(&support, &format!("http://{addr}/")).await;
        let row = queue
            .split("data-row=\"\"")
            .find(|row| row.contains(&format!("href=\"/orders/{id}\"")))
            .map(str::to_string)
            .unwrap_or_default();
        row.contains("data-testid=\"notes\"").then_some(row)
    };
    let row = eventually("the row's notes", Duration::from_secs(10), row_notes).await;
    assert!(row.contains("2 notes"), "{row}");
    // Our CLI shows them too, with where the order stands.
    let (ok, shown) = ours(&hp, &["client", "show", "-o", &id]);
    assert!(
        ok && shown.contains(&format!("order {id}: manual"))
            && shown.contains("ana at")
            && shown.contains(first)
            && shown.contains(second),
        "{shown}"
    );
    let (ok, shown) = ours(&hp, &["client", "show", "-o", "never-seen-1"]);
    assert!(!ok && shown.contains("no order"), "{shown}");

    // Temporal's CLI: the workflow's own rules.
    let note = |text: &str| {
        let out = raw_update(
            &hp,
            &manual_workflow_id(&id),
            "add_note",
            &serde_json::json!({ "operator": "bo", "note": text }).to_string(),
        );
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    };
    let (ok, said) = note("");
    assert!(!ok && said.contains("empty"), "{said}");
    let (ok, said) = note(&"x".repeat(501));
    assert!(!ok, "an over-long note: {said}");
    for n in notes.len()..MAX_NOTES {
        let (ok, said) = note(&format!("note {n}"));
        assert!(ok, "{said}");
    }
    let (ok, said) = note("one too many");
    assert!(
        !ok && said.contains(&format!("{MAX_NOTES} notes")),
        "{said}"
    );
    assert_eq!(manual_context(c, &id).await.unwrap().notes.len(), MAX_NOTES);

    // The trail keeps each under its person.
    let admin = sign_in_with(addr, &[("name", "admin"), ("password", PASSWORD)]).await;
    let trail = page_text(&admin, &format!("http://{addr}/audit?person=ana")).await;
    assert!(trail.contains(&format!("note: {first}")), "{trail}");
    let trail = page_text(&admin, &format!("http://{addr}/audit?person=support")).await;
    assert!(trail.contains(&format!("note: {second}")), "{trail}");
}

/// A batch terminate from Temporal's CLI can drop hundreds of waiting orders at once. The
/// list shows a hundred at a time; once those are put back, their ended runs are still the
/// newest, and the list read only the newest hundred runs: the rest were never shown, nor
/// put back. It now reads on past the orders put back.
#[tokio::test(flavor = "multi_thread")]
async fn orders_dropped_by_the_hundred_are_listed_and_put_back_a_hundred_at_a_time() {
    use temporal_playground::{
        domain::resolution::Stamp,
        operations::dropped::{DROPPED_READ, dropped_orders, put_back_all},
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let total = DROPPED_READ as usize + 30;
    for i in 0..total {
        let o = order(&format!("down-bulkdrop-{i:03}"), fast_policy(1, 1));
        start_manual_order(c, o, "http_503").await;
    }
    let waiting = "WorkflowType = 'ManualHandle' AND OrderId STARTS_WITH 'down-bulkdrop-' \
                   AND ExecutionStatus = 'Running'";
    eventually("every order waiting", Duration::from_secs(60), || async {
        (count(c, waiting).await == total).then_some(())
    })
    .await;
    let out = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "terminate",
            "--query",
            waiting,
            "--reason",
            "tidying the namespace",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let by = Stamp {
        operator: "ana".into(),
        operator_id: String::new(),
        at: String::new(),
    };
    // The first hundred, the list says there are more.
    let first = eventually("the first hundred", Duration::from_secs(60), || async {
        let list = dropped_orders(c).await.ok()?;
        (list.rows.len() == DROPPED_READ as usize && list.partial).then_some(list)
    })
    .await;
    let (ok, said) = ours(&env.server.hostport, &["client", "dropped"]);
    assert!(
        ok && said.contains("more orders are dropped than one list shows"),
        "{said}"
    );
    // The queue's banner says there are more than the hundred its watch read.
    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    eventually("the queue's banner", Duration::from_secs(20), || async {
        page_text(&support, &format!("http://{addr}/"))
            .await
            .contains(&format!(
                "More than {DROPPED_READ} orders dropped out of every queue"
            ))
            .then_some(())
    })
    .await;
    let done = put_back_all(c, first.rows.len(), by.clone(), "terminated by mistake")
        .await
        .unwrap();
    assert_eq!(done.put_back, DROPPED_READ as usize, "{done:?}");
    // The other thirty, behind the hundred put back.
    let rest = dropped_orders(c).await.unwrap();
    assert_eq!(rest.rows.len(), 30, "{:?}", rest.partial);
    assert!(!rest.partial);
    let done = put_back_all(c, 30, by, "terminated by mistake")
        .await
        .unwrap();
    assert_eq!(done.put_back, 30, "{done:?}");
    eventually(
        "every order back in the queue",
        Duration::from_secs(60),
        || async { (count(c, waiting).await == total).then_some(()) },
    )
    .await;
    assert!(dropped_orders(c).await.unwrap().rows.is_empty());
}

/// A ManualHandle started from Temporal's CLI on a queue none of our workers polls never
/// runs our code, so the search attributes it was started with stay: a "waiting order"
/// claimed by carol. The queue, its counts, the live page's and the dropped list read only
/// the runs on our own queues.
#[tokio::test(flavor = "multi_thread")]
async fn an_order_workflow_on_a_queue_nobody_polls_is_in_no_list() {
    use temporal_playground::{
        domain::listing::QueueFilter,
        domain::listing::ServiceLevel,
        operations::{dropped::dropped_orders, queues},
    };
    let env = env_with_manual_order("down-real").await;
    let c = &env.client;
    let handoff = serde_json::to_string(&handoff_of(
        order("down-phantom", fast_policy(1, 1)),
        "http_503",
    ))
    .unwrap();
    let out = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "start",
            "--type",
            "ManualHandle",
            "--task-queue",
            "nobody-polls-this",
            "--workflow-id",
            "manual-down-phantom",
            "--input",
            &handoff,
            "--search-attribute",
            "OrderId=\"down-phantom\"",
            "--search-attribute",
            "OrderStage=\"manual\"",
            "--search-attribute",
            "ClaimedBy=\"carol\"",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    visible_once(c, "the phantom", "WorkflowId = 'manual-down-phantom'").await;
    let sla = ServiceLevel::default();
    let tally = queues::queue_tally(c, &sla).await.unwrap();
    let page = queues::manual_queue(c, &QueueFilter::default(), None, None, &sla, &tally)
        .await
        .unwrap();
    let listed: Vec<&str> = page.rows.iter().map(|r| r.order_id.as_str()).collect();
    assert_eq!(listed, ["down-real"], "{page:?}");
    assert_eq!(page.all, 1, "{page:?}");
    assert_eq!(queues::stage_counts(c).await.unwrap().manual, 1);
    // Terminated, it is no dropped order of ours to put back.
    let out = temporal(
        &env.server.hostport,
        &["workflow", "terminate", "-w", "manual-down-phantom"],
    );
    assert!(out.status.success(), "{out:?}");
    let ended = "WorkflowId = 'manual-down-phantom' AND ExecutionStatus = 'Terminated'";
    visible_once(c, "the phantom ended", ended).await;
    let dropped = dropped_orders(c).await.unwrap();
    assert!(dropped.rows.is_empty(), "{dropped:?}");
}

/// Support's "Take the next order": two people clicking the top row of the queue together
/// both opened the same order, and the second learnt it was taken only when their claim was
/// refused. Taking the next claims, of the unclaimed orders the filter shows (none awaiting
/// approval), the one that has waited longest, and never gives one order to two people.
#[tokio::test(flavor = "multi_thread")]
async fn take_the_next_order_claims_the_longest_waiting_free_one_and_never_one_twice() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        operations::orders::resolve_or_propose, web::pages::manual_queue::TakeNext,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    // Oldest first: one another filter shows, one awaiting approval, the oldest free one,
    // one a colleague claimed, then two more.
    let ids = [
        "elsewhere-1",
        "next-awaiting",
        "next-old",
        "next-claimed",
        "next-mid",
        "next-new",
    ];
    for id in ids {
        waiting(c, id).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    resolve_or_propose(c, "next-awaiting", request("paid", "carol", "seen"))
        .await
        .unwrap();
    claim(c, "next-claimed", "carol").await.unwrap();
    // The newest of all, but the gateway marked it urgent (priority 1; the others are 3).
    let mut urgent = order("next-urgent", fast_policy(1, 1));
    urgent.priority = 1;
    start_manual_order(c, urgent, "http_503").await;
    eventually(
        "the urgent one in the queue",
        Duration::from_secs(30),
        || async { manual_context(c, "next-urgent").await.ok() },
    )
    .await;
    visible_once(
        c,
        "the urgent one",
        "WorkflowId = 'manual-next-urgent' AND OrderPriority = 1",
    )
    .await;
    let awaiting = "WorkflowId = 'manual-next-awaiting' AND AwaitingApproval = 1";
    visible_once(c, "the proposal", awaiting).await;
    let claimed = "WorkflowId = 'manual-next-claimed' AND ClaimedBy = 'carol'";
    visible_once(c, "the claim", claimed).await;

    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let url = format!("http://{addr}{}", TakeNext::PATH);
    let form = [
        ("prefix", "next-"),
        ("provider", ""),
        ("reason", ""),
        ("age", ""),
        ("currency", ""),
        ("band", ""),
    ];
    let take = |http: reqwest::Client| {
        let url = url.clone();
        async move {
            let taken = http
                .post(&url)
                .header("accept", "text/html")
                .form(&form)
                .send()
                .await
                .unwrap();
            assert!(taken.status().is_redirection(), "{}", taken.status());
            location(&taken)
        }
    };
    // A presenter takes no order.
    let presenter = sign_in_with(addr, &[("name", "presenter"), ("password", PASSWORD)]).await;
    let refused = presenter.post(&url).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(holder(c, "next-old").await, None);

    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    assert_eq!(take(support.clone()).await, "/orders/next-urgent");
    assert_eq!(take(support.clone()).await, "/orders/next-old");
    assert_eq!(holder(c, "next-old").await.as_deref(), Some("support"));
    let queue = page_text(&support, &format!("http://{addr}/?prefix=next-")).await;
    assert!(queue.contains("Take the next order"), "{queue}");
    // A colleague's order offers the next one instead of its claim.
    let theirs = page_text(&support, &format!("http://{addr}/orders/next-claimed")).await;
    assert!(theirs.contains("Take the next order"), "{theirs}");
    let mine = page_text(&support, &format!("http://{addr}/orders/next-old")).await;
    assert!(!mine.contains("Take the next order"), "{mine}");

    // Two at once, through the console and our CLI: each gets its own.
    let admin = sign_in_with(addr, &[("name", "admin"), ("password", PASSWORD)]).await;
    let hp = env.server.hostport.clone();
    let cli = tokio::task::spawn_blocking(move || {
        ours(
            &hp,
            &[
                "client",
                "take-next",
                "--prefix",
                "next-",
                "--operator",
                "cy",
            ],
        )
    });
    let (by_admin, by_cli) = tokio::join!(take(admin), cli);
    let (ok, said) = by_cli.unwrap();
    assert!(ok, "{said}");
    let by_cli = said
        .split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let by_admin = by_admin.trim_start_matches("/orders/").to_string();
    let mut got = [by_admin.clone(), by_cli.clone()];
    got.sort();
    assert_eq!(got, ["next-mid", "next-new"], "{said}");
    for (id, who) in [(&by_admin, "admin"), (&by_cli, "cy")] {
        assert_eq!(holder(c, id).await.as_deref(), Some(who), "{id}");
    }

    // None left: it says so, and takes nothing (not the one awaiting approval, not the
    // colleague's, not another filter's).
    let none = take(support.clone()).await;
    assert!(none.contains("taken=none"), "{none}");
    let shown = page_text(&support, &format!("http://{addr}{none}")).await;
    assert!(
        shown.contains("No unclaimed order matches this filter"),
        "{shown}"
    );
    let (ok, said) = ours(
        &env.server.hostport,
        &[
            "client",
            "take-next",
            "--prefix",
            "next-",
            "--operator",
            "cy",
        ],
    );
    assert!(ok && said.contains("no unclaimed order matches"), "{said}");
    assert_eq!(holder(c, "next-claimed").await.as_deref(), Some("carol"));
    assert_eq!(holder(c, "elsewhere-1").await, None);
    let context = manual_context(c, "next-awaiting").await.unwrap();
    assert!(context.proposal.is_some() && context.resolution.is_none());
    assert_ne!(
        context.claim.map(|claim| claim.operator).as_deref(),
        Some("cy")
    );

    // From the terminal, a claim is given back by its holder only, and claimed again.
    let cys = by_cli.as_str();
    let hp = env.server.hostport.as_str();
    let (ok, said) = ours(hp, &["client", "release", "-o", cys, "--operator", "bo"]);
    assert!(!ok, "{said}");
    assert_eq!(holder(c, cys).await.as_deref(), Some("cy"));
    let (ok, said) = ours(hp, &["client", "release", "-o", cys, "--operator", "cy"]);
    assert!(ok && said.contains("released by cy"), "{said}");
    assert_eq!(holder(c, cys).await, None);
    let (ok, said) = ours(hp, &["client", "claim", "-o", cys, "--operator", "dee"]);
    assert!(ok && said.contains("claimed by dee"), "{said}");
    assert_eq!(holder(c, cys).await.as_deref(), Some("dee"));
}

/// The end of a shift: support gave back each claim one by one, or left them held
/// overnight, where colleagues could not take them without an admin. *Give back all my
/// claims* releases every one the person holds, and nobody else's; a proposal awaiting
/// approval keeps its claim.
#[tokio::test(flavor = "multi_thread")]
async fn giving_back_every_claim_at_the_end_of_a_shift_touches_no_one_elses() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        operations::orders::resolve_or_propose, web::pages::manual_queue::ReleaseMine,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let ids = [
        "shift-1",
        "shift-2",
        "shift-3",
        "shift-bo",
        "shift-proposed",
    ];
    for id in ids {
        waiting(c, id).await;
    }
    for id in ["shift-1", "shift-2", "shift-3", "shift-proposed"] {
        claim(c, id, "support").await.unwrap();
    }
    claim(c, "shift-bo", "bo").await.unwrap();
    resolve_or_propose(c, "shift-proposed", request("paid", "support", "seen"))
        .await
        .unwrap();
    let held = "ExecutionStatus = 'Running' AND ClaimedBy = 'support'";
    eventually("the claims visible", Duration::from_secs(15), || async {
        (count(c, held).await == 4).then_some(())
    })
    .await;

    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let url = format!("http://{addr}{}", ReleaseMine::PATH);
    let presenter = sign_in_with(addr, &[("name", "presenter"), ("password", PASSWORD)]).await;
    assert_eq!(presenter.post(&url).send().await.unwrap().status(), 403);
    assert_eq!(holder(c, "shift-1").await.as_deref(), Some("support"));

    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    eventually(
        "the button on the Mine tab",
        Duration::from_secs(20),
        || async {
            let mine = page_text(&support, &format!("http://{addr}/?claim=mine")).await;
            mine.contains("Give back all 4 of my claims").then_some(())
        },
    )
    .await;
    let given = support
        .post(&url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(given.status().is_redirection(), "{}", given.status());
    let to = location(&given);
    assert!(to.contains("released=3"), "{to}");
    let shown = page_text(&support, &format!("http://{addr}{to}")).await;
    assert!(shown.contains("Gave back 3 orders"), "{shown}");
    for id in ["shift-1", "shift-2", "shift-3"] {
        assert_eq!(holder(c, id).await, None, "{id}");
    }
    assert_eq!(holder(c, "shift-bo").await.as_deref(), Some("bo"));
    let proposed = manual_context(c, "shift-proposed").await.unwrap();
    assert!(proposed.proposal.is_some(), "{proposed:?}");
    assert_eq!(
        proposed.claim.map(|claim| claim.operator).as_deref(),
        Some("support")
    );

    // From the terminal, the same for bo.
    let (ok, said) = ours(
        &env.server.hostport,
        &["client", "release-all", "--operator", "bo"],
    );
    assert!(ok && said.contains("1 of bo's claims given back"), "{said}");
    assert_eq!(holder(c, "shift-bo").await, None);
}

/// Approvers work the proposals all day as support works the queue: from the *Awaiting
/// approval* tab they opened one after another, their own among them (which they may not
/// approve). *Review the next proposal* opens the one proposed longest ago that is not theirs.
#[tokio::test(flavor = "multi_thread")]
async fn review_the_next_proposal_opens_the_longest_waiting_one_not_ones_own() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        operations::orders::resolve_or_propose, web::pages::manual_queue::ReviewNext,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    for id in ["review-mine", "review-old", "review-new"] {
        waiting(c, id).await;
    }
    // Proposed in this order: the approver's own first, then two by colleagues.
    for (id, by) in [
        ("review-mine", "approver"),
        ("review-old", "ana"),
        ("review-new", "bo"),
    ] {
        resolve_or_propose(c, id, request("paid", by, "seen"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let awaiting = "ExecutionStatus = 'Running' AND AwaitingApproval = 1";
    eventually("the proposals visible", Duration::from_secs(15), || async {
        (count(c, awaiting).await == 3).then_some(())
    })
    .await;

    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let url = format!("http://{addr}{}", ReviewNext::PATH);
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    assert_eq!(support.post(&url).send().await.unwrap().status(), 403);
    let approver = sign_in_with(addr, &[("name", "approver"), ("password", PASSWORD)]).await;
    let next = || async {
        let answer = approver
            .post(&url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_redirection(), "{}", answer.status());
        location(&answer)
    };
    eventually("the button on the tab", Duration::from_secs(20), || async {
        let tab = page_text(&approver, &format!("http://{addr}/?claim=awaiting")).await;
        tab.contains("Review the next proposal").then_some(())
    })
    .await;
    assert_eq!(next().await, "/orders/review-old");
    // Our CLI names the same, and what it proposes.
    let hp = env.server.hostport.as_str();
    let (ok, said) = ours(hp, &["client", "review-next", "--operator", "approver"]);
    assert!(
        ok && said.starts_with("review-old: proposed paid by ana"),
        "{said}"
    );
    approve(c, "review-old", "approver").await.unwrap();
    // Visibility may still list it as awaiting: the order itself says it is decided.
    assert_eq!(next().await, "/orders/review-new");
    approve(c, "review-new", "approver").await.unwrap();
    let none = next().await;
    assert!(none.contains("proposals=none"), "{none}");
    let shown = page_text(&approver, &format!("http://{addr}{none}")).await;
    assert!(
        shown.contains("No proposal awaits your approval"),
        "{shown}"
    );
    let (ok, said) = ours(hp, &["client", "review-next", "--operator", "approver"]);
    assert!(
        ok && said.contains("no proposal awaits your approval"),
        "{said}"
    );
    // Their own proposal waits for a colleague, untouched.
    let own = manual_context(c, "review-mine").await.unwrap();
    assert!(own.proposal.is_some() && own.resolution.is_none());
}
