//! Replay: every committed history of every workflow type runs against today's code.
//!
//! The histories in `tests/integration/histories/` were recorded by the scenarios below on
//! a real dev server (`RECORD_HISTORIES=1 cargo test --features ssr replay::` adds the
//! ones not committed yet). A change to workflow code that a running workflow would replay
//! differently fails here; such a change goes behind `patched()`.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::contract::ContractTerms,
    domain::resolution::{OrderOutcome, ResolveRequest},
    operations::orders::{claim, release, resolve_manual, retry_now, signal_manual, start_order},
    temporal::names::task_queues,
    upstream::simulator::UpstreamBehaviour,
    workflows::charge_lookup::{ChargeLookup, ChargeQuestion},
    workflows::console_sessions::ConsoleSessions,
    workflows::contract_change::ContractChange,
    workflows::manual_handle::ManualHandle,
    workflows::query_order::QueryOrder,
    workflows::recurring_payment::RecurringPayment,
    workflows::stale_order::StaleOrder,
    workflows::statement_import::StatementImport,
};
use temporalio_client::{
    Client, UntypedWorkflow, WorkflowGetResultOptions, WorkflowHistory, WorkflowStartOptions,
};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    WorkflowContext, WorkflowResult,
    workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions},
};

const HISTORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/integration/histories");

/// The order workflows' recorded histories: file name and the workflow id it holds.
const RECORDED: [(&str, &str); 69] = [
    ("query_order_paid.json", "payment-paid-rec"),
    // An order the gateway sent with its reference, from before `GatewayReference` was
    // listed: its start carried no such attribute, which today's code would set (through
    // `start-attributes-held-to-input`), and does not on replay.
    ("query_order_with_reference.json", "payment-down-refrec"),
    ("stale_order_with_reference.json", "stale-down-refrec"),
    ("manual_handle_with_reference.json", "manual-down-refrec"),
    // An order started from outside with unlimited attempts: refused at its start.
    (
        "query_order_refused_at_start.json",
        "payment-down-hostile-rec",
    ),
    ("query_order_failed.json", "payment-failed-rec"),
    ("query_order_to_stale.json", "payment-down-rec"),
    ("stale_order_timed_out.json", "stale-down-rec"),
    ("stale_order_retried_now.json", "stale-flaky1-rec"),
    ("stale_order_resolved_by_person.json", "stale-pending-rec"),
    ("manual_handle_claimed_and_resolved.json", "manual-down-rec"),
    ("manual_handle_seed_signal.json", "manual-down-sig"),
    ("manual_handle_reclaimed.json", "manual-down-again"),
    // One term started straight, not by a schedule: v2 charged it; since the term check
    // (v3) it is refused. And a term its contract's schedule started, charged (v3).
    ("recurring_payment_v2.json", "recurring-C-rec-term1"),
    ("recurring_payment_refused.json", "recurring-C-rec-term1"),
    ("recurring_payment_v3.json", SCHEDULED_TERM),
    (
        "manual_handle_conclusion_refused.json",
        "manual-refuse1-rec",
    ),
    // Four eyes, and the actors patch: claimed, proposed, rejected, proposed, approved.
    ("manual_handle_four_eyes.json", "manual-down-4eyes"),
    // The same path once proposals record their time (`ProposedAt`).
    ("manual_handle_proposed_at.json", "manual-down-4eyes"),
    ("stale_order_retried_now_actors.json", "stale-flaky1-act"),
    // The seed's signal once it records `signal`, not the claimant, as its resolver.
    ("manual_handle_seed_signal_named.json", "manual-down-sig2"),
    // Four eyes for every client: the seed's paid signal proposes, an approver approves.
    ("manual_handle_signal_proposes.json", "manual-down-sig4"),
    // The stale stage's resolve signal of paid hands the order on as a proposal, which the
    // manual stage starts with.
    ("stale_order_resolve_proposes.json", "stale-pending-4eyes"),
    (
        "manual_handle_handed_a_proposal.json",
        "manual-pending-4eyes",
    ),
    // A claim with its time recorded, taken over by a lead with a reason, then resolved.
    ("manual_handle_taken_over.json", "manual-down-take"),
    // A contract change's record, and the console's list of ended sessions.
    // A resolution the bank refuses in the stale stage: handed on to the manual queue with
    // the refusal, and resolved there.
    (
        "stale_order_refused_to_the_queue.json",
        "stale-refuse1-srec",
    ),
    ("manual_handle_refused_in_stale.json", "manual-refuse1-srec"),
    ("contract_change.json", "contract-change-C-rec-created"),
    ("console_sessions.json", "console-sessions"),
    // An order with its money: the bank's paid for other money goes to a person.
    ("query_order_amount_mismatch.json", "payment-mismatch-rec"),
    ("manual_handle_amount_mismatch.json", "manual-mismatch-rec"),
    // A statement import approved by a second person, and the two orders it settled.
    (
        "statement_import_approved.json",
        "statement-0123456789abcdef",
    ),
    (
        "manual_handle_settled_by_statement.json",
        "manual-down-strec",
    ),
    ("stale_order_settled_by_statement.json", "stale-down-strec2"),
    // The same two once an order asks the import before it settles (the settlement check).
    ("manual_handle_settlement_checked.json", "manual-down-strec"),
    ("stale_order_settlement_checked.json", "stale-down-strec2"),
    // A settlement no import confirms: the manual order refuses it and a person resolves
    // it; the stale order refuses it, waits out its timer and hands the order on.
    (
        "manual_handle_settlement_refused.json",
        "manual-down-strec3",
    ),
    ("stale_order_settlement_refused.json", "stale-down-strec4"),
    // A retry and a resolution signalled under names that read like another's, ignored
    // (the plain-names patch), then the real ones.
    (
        "stale_order_retried_now_plain_names.json",
        "stale-flaky1-act",
    ),
    (
        "stale_order_resolve_plain_names.json",
        "stale-pending-4eyes",
    ),
    // The two settled once an order holds the entry's money to its own, and a third whose
    // entry was other money: refused, then resolved by a person.
    (
        "manual_handle_settlement_money_checked.json",
        "manual-down-strec",
    ),
    (
        "stale_order_settlement_money_checked.json",
        "stale-down-strec2",
    ),
    (
        "manual_handle_settlement_money_refused.json",
        "manual-down-strec5",
    ),
    // The two settled once an order records the import that settled it (`SettledBy`).
    (
        "manual_handle_settled_by_recorded.json",
        "manual-down-strec",
    ),
    ("stale_order_settled_by_recorded.json", "stale-down-strec2"),
    // A contract change's record confirmed against its contract's schedule, and one started
    // bare (no memo, a contract with no schedule) that is not.
    ("contract_change_confirmed.json", CONFIRMED_RECORD),
    // A statement's settlement whose conclusion the bank refused: `SettledBy` emptied.
    (
        "manual_handle_settled_by_refused.json",
        "manual-refuse1-strec6",
    ),
    (
        "contract_change_unconfirmed.json",
        "contract-change-C-rec-created",
    ),
    // A settlement no import confirms lists its order in the trail (`Actors`: the names it
    // gives, and `signal`) before any person acts on it.
    (
        "manual_handle_unsettling_names_listed.json",
        "manual-down-strec3",
    ),
    (
        "stale_order_unsettling_names_listed.json",
        "stale-down-strec4",
    ),
    // The list of ended sessions once a person's cut only moves later: one moved back from
    // Temporal's CLI, ignored.
    ("console_sessions_cut_only_later.json", "console-sessions"),
    // The same once a run that continues no earlier one is whole only since it began.
    ("console_sessions_whole_since.json", "console-sessions"),
    // The same once the list is bounded: a session ended "forever" is listed eight days.
    ("console_sessions_bounded.json", "console-sessions"),
    // A person has a waiting order ask the bank again: no verdict (then a person resolves
    // it), and a verdict that settles it.
    ("manual_handle_asked_bank.json", "manual-down-askrec"),
    // The same once a question with no verdict sets the order's latest error.
    ("manual_handle_asked_bank_reason.json", "manual-down-askrec"),
    ("manual_handle_settled_by_bank.json", "manual-flaky2-askrec"),
    // A note left on a waiting order, then a person's resolution.
    ("manual_handle_noted.json", "manual-down-noterec"),
    // The same once the order lists how many notes it holds (`NoteCount`).
    ("manual_handle_note_counted.json", "manual-down-noterec"),
    // Someone asks the bank what became of a term's charge (the bank took none).
    (
        "charge_lookup_asked.json",
        "charge-lookup-recurring-C-rec-term1",
    ),
    // An approved import that books a term's charge in doubt gives its entry to the term's
    // question, which asks the import (listed after it: the import starts it).
    (
        "statement_import_gave_charges.json",
        "statement-fedcba9876543210",
    ),
    (
        "charge_lookup_by_statement.json",
        "charge-lookup-recurring-C-rec-term2",
    ),
    // An import approved with an entry left out, which it does not apply.
    (
        "statement_import_left_out.json",
        "statement-abcdef0123456789",
    ),
    // The same once an import keeps its decisions in its memo and its decider in `Actors`.
    (
        "statement_import_decisions_listed.json",
        "statement-abcdef0123456789",
    ),
    // An import started with a decision in its memo (no one's): it clears it, then is
    // rejected by a person.
    (
        "statement_import_start_memo_cleared.json",
        "statement-0f0f0f0f0f0f0f0f",
    ),
    // Each order workflow started from outside with attributes its input does not give
    // (claimed by carol, settled by a statement, another order's id): held to its input.
    (
        "query_order_start_attributes_held.json",
        "payment-down-forgedrec",
    ),
    (
        "stale_order_start_attributes_held.json",
        "stale-pending-forgedrec",
    ),
    (
        "manual_handle_start_attributes_held.json",
        "manual-down-forgedrec2",
    ),
    // The import with a decision in its memo, once imports hold their `Actors` to their
    // importer too (it was started with none).
    (
        "statement_import_start_attributes_held.json",
        "statement-0f0f0f0f0f0f0f0f",
    ),
    // The import approved with an entry left out, once its memo names what the entry was
    // for (the order's lane reads it).
    (
        "statement_import_left_out_for.json",
        "statement-abcdef0123456789",
    ),
];

/// The term the contract `C-rec3`'s schedule starts: its id carries the time it was due,
/// so the scenario looks it up by contract.
const SCHEDULED_TERM: &str = "the first term of C-rec3";

/// The record of C-rec3's creation, confirmed against its schedule (its id carries a
/// random request, so the scenario looks it up by contract).
const CONFIRMED_RECORD: &str = "the record of C-rec3's creation";

/// Workflows that never end by themselves: their histories are recorded as they stand.
const RUNNING: [&str; 1] = ["console-sessions"];

/// A replayer that knows every workflow the workers run.
fn replayer() -> WorkflowReplayer {
    WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<QueryOrder>()
            .and_then(|o| o.register_workflow::<StaleOrder>())
            .and_then(|o| o.register_workflow::<ManualHandle>())
            .and_then(|o| o.register_workflow::<RecurringPayment>())
            .and_then(|o| o.register_workflow::<ConsoleSessions>())
            .and_then(|o| o.register_workflow::<ContractChange>())
            .and_then(|o| o.register_workflow::<StatementImport>())
            .and_then(|o| o.register_workflow::<ChargeLookup>())
            .expect("the workflows register")
            .build(),
    )
    .expect("replayer")
}

/// Replays each history; returns the names of those that failed, with the reason.
async fn failures(replayer: &WorkflowReplayer, histories: Vec<(String, Vec<u8>)>) -> Vec<String> {
    let (names, parsed): (Vec<String>, Vec<WorkflowHistory>) = histories
        .into_iter()
        .map(|(name, json)| {
            let history = WorkflowHistory::from_json(&json)
                .unwrap_or_else(|e| panic!("{name} is not a workflow history: {e}"));
            (name, history)
        })
        .unzip();
    let results = replayer
        .replay_workflows(parsed)
        .await
        .expect("the replay worker runs");
    names
        .into_iter()
        .zip(results)
        .filter_map(|(name, r)| r.replay_failure.map(|f| format!("{name}: {f}")))
        .collect()
}

fn committed() -> Vec<(String, Vec<u8>)> {
    RECORDED
        .iter()
        .map(|(file, _)| {
            let path = format!("{HISTORIES}/{file}");
            let json =
                std::fs::read(&path).unwrap_or_else(|e| panic!("{path} must be committed: {e}"));
            (file.to_string(), json)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_committed_history_replays_on_todays_workflow_code() {
    let failed = failures(&replayer(), committed()).await;
    assert!(
        failed.is_empty(),
        "workflow code changed what running workflows replay: {failed:#?}"
    );
}

/// QueryOrder as a careless refactor might leave it: straight to the manual queue,
/// skipping StaleOrder. Registered under QueryOrder's name, it must fail to replay.
#[workflow]
#[derive(Default)]
struct QueryOrderSkippingStale;

#[workflow_methods]
impl QueryOrderSkippingStale {
    #[run(name = "QueryOrder")]
    async fn run(
        ctx: &mut WorkflowContext<Self>,
        order: temporal_playground::domain::order::OrderRequest,
    ) -> WorkflowResult<OrderOutcome> {
        let id = temporal_playground::domain::order::manual_workflow_id(&order.order_id);
        let _ = ctx.timer(Duration::from_secs(1)).await;
        Ok(OrderOutcome::HandedOff {
            next_workflow_id: id,
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replay_check_fails_when_workflow_code_changes_its_commands() {
    let careless = WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<QueryOrderSkippingStale>()
            .expect("registers")
            .build(),
    )
    .expect("replayer");
    let to_stale = committed()
        .into_iter()
        .filter(|(name, _)| name.starts_with("query_order_"))
        .collect::<Vec<_>>();
    let histories = to_stale.len();
    assert!(histories >= 4, "{histories}");
    let failed = failures(&careless, to_stale).await;
    assert_eq!(
        failed.len(),
        histories,
        "each QueryOrder history must refuse the changed code: {failed:#?}"
    );
}

/// The history of a workflow once it ended (completed, or failed as a refused term does).
async fn history_json(client: &Client, workflow_id: &str) -> Vec<u8> {
    let handle = client.get_workflow_handle::<UntypedWorkflow>(workflow_id.to_string());
    if let Err(e) = handle.get_result(WorkflowGetResultOptions::default()).await {
        tracing::info!(workflow_id, error = %e, "ended without a result");
    }
    handle
        .fetch_history(Default::default())
        .to_json()
        .await
        .expect("history")
}

fn person(resolution: &str, operator: &str) -> ResolveRequest {
    ResolveRequest {
        resolution: resolution.into(),
        reason_code: "BANK_CONFIRMED".into(),
        operator: operator.into(),
        note: "confirmed by phone".into(),
        operator_id: String::new(),
    }
}

/// Runs every scenario the committed histories hold, on a real server, and checks that
/// the fresh histories replay too. With `RECORD_HISTORIES` set it writes them.
#[tokio::test(flavor = "multi_thread")]
async fn fresh_histories_of_every_path_replay() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let manual_ready = |id: &'static str| async move {
        eventually(
            "the order in the manual queue",
            Duration::from_secs(30),
            || async {
                temporal_playground::operations::orders::manual_context(c, id)
                    .await
                    .ok()
            },
        )
        .await;
    };

    // QueryOrder: paid, failed, and out of attempts (on to StaleOrder, whose 1 s timer
    // fires, then on to ManualHandle, claimed, released, claimed and resolved).
    for id in ["paid-rec", "failed-rec"] {
        start_order(c, order(id, fast_policy(2, 1))).await.unwrap();
    }
    start_order(c, order("down-rec", fast_policy(2, 1)))
        .await
        .unwrap();
    {
        let mut hostile = order("down-hostile-rec", fast_policy(2, 1));
        hostile.policy.attempts = 0;
        c.start_workflow(
            QueryOrder::run,
            hostile,
            WorkflowStartOptions::new(task_queues::QUERY_ORDER, "payment-down-hostile-rec").build(),
        )
        .await
        .unwrap();
    }
    {
        let mut referenced = order("down-refrec", fast_policy(1, 1));
        referenced.reference = Some("GW-REC-1".into());
        start_order(c, referenced).await.unwrap();
    }
    manual_ready("down-refrec").await;
    claim(c, "down-refrec", "ana").await.unwrap();
    resolve_manual(c, "down-refrec", person("failed", "ana"))
        .await
        .unwrap();
    manual_ready("down-rec").await;
    claim(c, "down-rec", "ana").await.unwrap();
    release(c, "down-rec", "ana").await.unwrap();
    claim(c, "down-rec", "bo").await.unwrap();
    resolve_manual(c, "down-rec", person("cancelled", "bo"))
        .await
        .unwrap();

    // StaleOrder told to retry now (the second query is paid), and one a person resolves.
    start_order(c, order("flaky1-rec", fast_policy(1, 3_600)))
        .await
        .unwrap();
    start_order(c, order("pending-rec", fast_policy(1, 3_600)))
        .await
        .unwrap();
    for id in ["flaky1-rec", "pending-rec"] {
        eventually("the stale order", Duration::from_secs(30), || async {
            temporal_playground::operations::orders::stale_status(c, id)
                .await
                .ok()
        })
        .await;
    }
    retry_now(c, "flaky1-rec", "ana").await.unwrap();
    c.get_workflow_handle::<StaleOrder>("stale-pending-rec")
        .signal(
            StaleOrder::resolve,
            person("failed", "ana"),
            Default::default(),
        )
        .await
        .unwrap();

    // ManualHandle resolved by the Go original's signal, and one claimed twice by the same
    // person (the committed history is from when the second claim was written to history;
    // today the client answers it from the query).
    start_order(c, order("down-sig", fast_policy(1, 1)))
        .await
        .unwrap();
    start_order(c, order("down-again", fast_policy(1, 1)))
        .await
        .unwrap();
    manual_ready("down-sig").await;
    manual_ready("down-again").await;
    claim(c, "down-sig", "ana").await.unwrap();
    // Paid by signal is a proposal now: a second person approves it.
    signal_manual(c, "down-sig", "paid").await.unwrap();
    temporal_playground::operations::orders::approve(c, "down-sig", "bo")
        .await
        .unwrap();
    for _ in 0..2 {
        claim(c, "down-again", "ana").await.unwrap();
    }
    resolve_manual(c, "down-again", person("failed", "ana"))
        .await
        .unwrap();

    // ManualHandle whose first conclusion the upstream refuses (the conclusion-refusal
    // patch): back in the queue, then resolved again.
    start_order(c, order("refuse1-rec", fast_policy(1, 1)))
        .await
        .unwrap();
    manual_ready("refuse1-rec").await;
    resolve_manual(c, "refuse1-rec", person("cancelled", "ana"))
        .await
        .unwrap();
    eventually("the refusal", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::manual_context(c, "refuse1-rec")
            .await
            .ok()
            .and_then(|m| m.refused)
    })
    .await;
    resolve_manual(c, "refuse1-rec", person("failed", "ana"))
        .await
        .unwrap();

    // A resolution signalled to a stale order that the bank refuses: on to the manual
    // queue with the refusal (the stale refusal patch), where a person resolves it again.
    start_order(c, order("refuse1-srec", fast_policy(1, 3_600)))
        .await
        .unwrap();
    eventually("the stale order", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::stale_status(c, "refuse1-srec")
            .await
            .ok()
    })
    .await;
    c.get_workflow_handle::<StaleOrder>("stale-refuse1-srec")
        .signal(
            StaleOrder::resolve,
            person("cancelled", "ana"),
            Default::default(),
        )
        .await
        .unwrap();
    manual_ready("refuse1-srec").await;
    resolve_manual(c, "refuse1-srec", person("cancelled", "bo"))
        .await
        .unwrap();

    start_order(c, order("down-sig2", fast_policy(1, 1)))
        .await
        .unwrap();
    manual_ready("down-sig2").await;
    claim(c, "down-sig2", "ana").await.unwrap();
    signal_manual(c, "down-sig2", "failed").await.unwrap();
    eventually(
        "the signalled order concluded",
        Duration::from_secs(30),
        || async {
            (count(
                c,
                "WorkflowId = 'manual-down-sig2' AND ExecutionStatus = 'Completed'",
            )
            .await
                == 1)
                .then_some(())
        },
    )
    .await;

    // Four eyes (and the actors patch on claims and retries).
    start_order(c, order("down-4eyes", fast_policy(1, 1)))
        .await
        .unwrap();
    manual_ready("down-4eyes").await;
    claim(c, "down-4eyes", "ana").await.unwrap();
    use temporal_playground::operations::orders::{approve, reject, resolve_or_propose};
    resolve_or_propose(c, "down-4eyes", person("paid", "ana"))
        .await
        .unwrap();
    reject(c, "down-4eyes", "bo", "no statement yet")
        .await
        .unwrap();
    resolve_or_propose(c, "down-4eyes", person("paid", "ana"))
        .await
        .unwrap();
    approve(c, "down-4eyes", "cy").await.unwrap();
    start_order(c, order("flaky1-act", fast_policy(1, 3_600)))
        .await
        .unwrap();
    eventually("the stale order", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::stale_status(c, "flaky1-act")
            .await
            .ok()
    })
    .await;
    // A retry signalled under a name that reads like bo's is ignored (on runs with the
    // plain-names patch); bo's own is taken.
    c.get_workflow_handle::<StaleOrder>("stale-flaky1-act")
        .signal(
            StaleOrder::retry_now,
            "bo\u{200b}".to_string(),
            Default::default(),
        )
        .await
        .unwrap();
    retry_now(c, "flaky1-act", "bo").await.unwrap();
    eventually(
        "the retried order resolved",
        Duration::from_secs(30),
        || async {
            (count(
                c,
                "WorkflowId = 'stale-flaky1-act' AND ExecutionStatus = 'Completed'",
            )
            .await
                == 1)
                .then_some(())
        },
    )
    .await;
    eventually(
        "the approved order concluded",
        Duration::from_secs(30),
        || async {
            (count(
                c,
                "WorkflowId = 'manual-down-4eyes' AND ExecutionStatus = 'Completed'",
            )
            .await
                == 1)
                .then_some(())
        },
    )
    .await;

    // Four eyes for every client, and claims a lead takes over.
    start_order(c, order("down-sig4", fast_policy(1, 1)))
        .await
        .unwrap();
    start_order(c, order("down-take", fast_policy(1, 1)))
        .await
        .unwrap();
    start_order(c, order("pending-4eyes", fast_policy(1, 3_600)))
        .await
        .unwrap();
    manual_ready("down-sig4").await;
    signal_manual(c, "down-sig4", "paid").await.unwrap();
    temporal_playground::operations::orders::approve(c, "down-sig4", "cy")
        .await
        .unwrap();
    manual_ready("down-take").await;
    claim(c, "down-take", "ana").await.unwrap();
    temporal_playground::operations::orders::take_over(c, "down-take", "root", "ana is away")
        .await
        .unwrap();
    resolve_manual(c, "down-take", person("failed", "root"))
        .await
        .unwrap();

    // Orders started from outside with attributes their input does not give, each then
    // resolved by a person.
    {
        use temporal_playground::temporal::search_attributes as sa;
        use temporalio_common::search_attributes::SearchAttributes;
        let forged = || {
            SearchAttributes::new(vec![
                sa::CLAIMED_BY.value_set("carol".into()),
                sa::SETTLED_BY.value_set(vec!["statement-abc".into()]),
                sa::ORDER_ID.value_set("ORD-SOMEONE-ELSES".into()),
            ])
        };
        let handoff = |id: &str, wait: u64| handoff_of(order(id, fast_policy(1, wait)), "http_503");
        c.start_workflow(
            QueryOrder::run,
            order("down-forgedrec", fast_policy(1, 1)),
            WorkflowStartOptions::new(task_queues::QUERY_ORDER, "payment-down-forgedrec")
                .search_attributes(forged())
                .build(),
        )
        .await
        .unwrap();
        c.start_workflow(
            StaleOrder::run,
            handoff("pending-forgedrec", 3_600),
            WorkflowStartOptions::new(task_queues::STALE_ORDER, "stale-pending-forgedrec")
                .search_attributes(forged())
                .build(),
        )
        .await
        .unwrap();
        c.start_workflow(
            ManualHandle::run,
            handoff("down-forgedrec2", 1),
            WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, "manual-down-forgedrec2")
                .search_attributes(forged())
                .build(),
        )
        .await
        .unwrap();
        manual_ready("down-forgedrec").await;
        resolve_manual(c, "down-forgedrec", person("failed", "bo"))
            .await
            .unwrap();
        c.get_workflow_handle::<StaleOrder>("stale-pending-forgedrec")
            .signal(
                StaleOrder::resolve,
                person("failed", "ana"),
                Default::default(),
            )
            .await
            .unwrap();
        manual_ready("down-forgedrec2").await;
        resolve_manual(c, "down-forgedrec2", person("failed", "bo"))
            .await
            .unwrap();
    }

    // A note, then a person's resolution.
    start_order(c, order("down-noterec", fast_policy(1, 1)))
        .await
        .unwrap();
    manual_ready("down-noterec").await;
    temporal_playground::operations::orders::add_note(c, "down-noterec", "ana", "called the bank")
        .await
        .unwrap();
    resolve_manual(c, "down-noterec", person("failed", "bo"))
        .await
        .unwrap();

    // Asking the bank again: no verdict, then a person; a verdict that settles the order.
    const WAIT: Duration = temporal_playground::operations::orders::ASK_BANK_WAIT;
    for id in ["down-askrec", "flaky2-askrec"] {
        start_order(c, order(id, fast_policy(1, 1))).await.unwrap();
    }
    manual_ready("down-askrec").await;
    manual_ready("flaky2-askrec").await;
    let asked = temporal_playground::operations::orders::ask_bank(c, "down-askrec", "ana", WAIT)
        .await
        .unwrap();
    assert!(!asked.settled && asked.answer.is_some(), "{asked:?}");
    resolve_manual(c, "down-askrec", person("failed", "bo"))
        .await
        .unwrap();
    let asked = temporal_playground::operations::orders::ask_bank(c, "flaky2-askrec", "ana", WAIT)
        .await
        .unwrap();
    assert!(asked.settled, "{asked:?}");
    eventually("the stale order", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::stale_status(c, "pending-4eyes")
            .await
            .ok()
    })
    .await;
    c.get_workflow_handle::<StaleOrder>("stale-pending-4eyes")
        .signal(
            StaleOrder::resolve,
            person("paid", "ana "),
            Default::default(),
        )
        .await
        .unwrap();
    c.get_workflow_handle::<StaleOrder>("stale-pending-4eyes")
        .signal(
            StaleOrder::resolve,
            person("paid", "ana"),
            Default::default(),
        )
        .await
        .unwrap();
    manual_ready("pending-4eyes").await;
    temporal_playground::operations::orders::approve(c, "pending-4eyes", "bo")
        .await
        .unwrap();
    // A contract change's record, as the operations start it.
    {
        use temporal_playground::workflows::contract_change::ContractChangeRecord;
        c.start_workflow(
            ContractChange::run,
            ContractChangeRecord {
                contract_id: "C-rec".into(),
                action: "created".into(),
                operator: "fin".into(),
                reason: String::new(),
                origin: "tp-cli@rec".into(),
                contract: None,
            },
            WorkflowStartOptions::new(
                task_queues::RECURRING_SCHEDULE,
                "contract-change-C-rec-created",
            )
            .build(),
        )
        .await
        .unwrap();
    }
    // Sessions ended: one by sign-out, every one of a person by `user revoke`.
    temporal_playground::operations::sessions::end_session(c, "rec-session", i64::MAX, "ana")
        .await
        .unwrap();
    temporal_playground::operations::sessions::revoke_person(c, "bo", "admin")
        .await
        .unwrap();
    // From Temporal's CLI, bo's cut moved back to 1970 (ignored: a cut only moves later),
    // then cy cut.
    let moved_back = raw_signal(
        &env.server.hostport,
        "console-sessions",
        "revoke_person",
        r#"{"person":"bo","after":0,"by":"admin"}"#,
    );
    assert!(moved_back.status.success());
    temporal_playground::operations::sessions::revoke_person(c, "cy", "admin")
        .await
        .unwrap();
    eventually(
        "the ended sessions listed",
        Duration::from_secs(30),
        || async {
            let list = temporal_playground::operations::sessions::revocations(c)
                .await
                .ok()?;
            (list.sessions.len() == 1 && list.people.len() == 2).then_some(())
        },
    )
    .await;

    // An order carrying its amount, which the bank reports otherwise.
    let mut priced = order("mismatch-rec", fast_policy(2, 1));
    priced.amount = Some(temporal_playground::domain::money::Money {
        minor: 1_250,
        currency: "MYR".into(),
        exponent: 2,
    });
    start_order(c, priced).await.unwrap();
    manual_ready("mismatch-rec").await;
    resolve_manual(c, "mismatch-rec", person("failed", "ana"))
        .await
        .unwrap();

    // A statement that settles one queued and one stale order, approved by a second person.
    for (id, wait) in [
        ("down-strec", 1),
        ("down-strec2", 3_600),
        ("down-strec5", 1),
        ("refuse1-strec6", 1),
    ] {
        let mut o = order(id, fast_policy(1, wait));
        o.amount = Some(temporal_playground::domain::money::Money {
            minor: 990,
            currency: "MYR".into(),
            exponent: 2,
        });
        start_order(c, o).await.unwrap();
    }
    manual_ready("down-strec").await;
    manual_ready("down-strec5").await;
    manual_ready("refuse1-strec6").await;
    eventually("the stale order", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::stale_status(c, "down-strec2")
            .await
            .ok()
    })
    .await;
    {
        use temporal_playground::domain::statement::*;
        use temporal_playground::workflows::statement_import::ImportStart;
        // The third entry is not its order's money (the order refuses it).
        let entry = |index: u32, order_id: &str, stage: &str| ReviewedEntry {
            entry: StatementEntry {
                index,
                entry_ref: format!("B{index}"),
                reference: order_id.into(),
                booking_date: "2026-12-01".into(),
                amount: temporal_playground::domain::money::Money {
                    minor: if index == 3 { 100 } else { 990 },
                    currency: "MYR".into(),
                    exponent: 2,
                },
                credit: true,
                reversal: false,
            },
            outcome: EntryOutcome::Matched {
                order_id: order_id.into(),
                stage: stage.into(),
            },
        };
        c.start_workflow(
            StatementImport::run,
            ImportStart {
                statement_id: "STMT-REC".into(),
                account: "MY00".into(),
                format: StatementFormat::Camt053,
                file_name: "rec.xml".into(),
                content_hash: "0123456789abcdef".into(),
                imported_by: "ana".into(),
                imported_by_id: String::new(),
                chunks: 1,
                first: vec![
                    entry(1, "down-strec", "manual"),
                    entry(2, "down-strec2", "stale"),
                    entry(3, "down-strec5", "manual"),
                    entry(4, "refuse1-strec6", "manual"),
                ],
                unmentioned: vec![],
            },
            WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, "statement-0123456789abcdef")
                .build(),
        )
        .await
        .unwrap();
        temporal_playground::operations::statements::approve(c, "statement-0123456789abcdef", "bo")
            .await
            .unwrap();
        for id in ["down-strec", "down-strec2"] {
            assert_resolved(c, id, temporal_playground::domain::order::Resolution::Paid).await;
        }
        // The check refuses the third; then a person resolves it. The bank refuses the
        // fourth's conclusion (it comes back to the queue); a person resolves it too.
        tokio::time::sleep(Duration::from_secs(3)).await;
        resolve_manual(c, "down-strec5", person("failed", "cy"))
            .await
            .unwrap();
        resolve_manual(c, "refuse1-strec6", person("failed", "cy"))
            .await
            .unwrap();
    }

    // Settlements that no import confirms, signalled straight to a queued and a stale order.
    for (id, wait) in [("down-strec3", 1), ("down-strec4", 5)] {
        start_order(c, order(id, fast_policy(1, wait)))
            .await
            .unwrap();
    }
    manual_ready("down-strec3").await;
    eventually("the stale order", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::stale_status(c, "down-strec4")
            .await
            .ok()
    })
    .await;
    {
        use temporal_playground::domain::resolution::{Evidence, Stamp};
        use temporal_playground::workflows::statement_import::StatementSettlement;
        let forged = StatementSettlement {
            evidence: Evidence {
                statement_id: "STMT-NONE".into(),
                import_id: "statement-00".into(),
                entry_ref: "F1".into(),
                booking_date: "2026-12-01".into(),
                amount: temporal_playground::domain::money::Money {
                    minor: 990,
                    currency: "MYR".into(),
                    exponent: 2,
                },
            },
            imported_by: Stamp {
                operator: "ana".into(),
                operator_id: String::new(),
                at: String::new(),
            },
            approved_by: Stamp {
                operator: "bo".into(),
                operator_id: String::new(),
                at: String::new(),
            },
        };
        c.get_workflow_handle::<StaleOrder>("stale-down-strec4".to_string())
            .signal(
                StaleOrder::settle_by_statement,
                forged.clone(),
                Default::default(),
            )
            .await
            .unwrap();
        c.get_workflow_handle::<ManualHandle>("manual-down-strec3".to_string())
            .signal(
                ManualHandle::settle_by_statement,
                forged,
                Default::default(),
            )
            .await
            .unwrap();
        // The check answers no; then a person resolves the queued order.
        tokio::time::sleep(Duration::from_secs(3)).await;
        resolve_manual(c, "down-strec3", person("failed", "cy"))
            .await
            .unwrap();
        manual_ready("down-strec4").await;
    }

    // RecurringPayment v2: one term, as its schedule would start it.
    c.start_workflow(
        RecurringPayment::run,
        ContractTerms {
            contract_id: "C-rec".into(),
            customer: "ana".into(),
            plan: "membership".into(),
            amount_cents: 999,
            currency: "USD".into(),
            until_cancelled: None,
        },
        WorkflowStartOptions::new(task_queues::RECURRING_SCHEDULE, "recurring-C-rec-term1").build(),
    )
    .await
    .unwrap();
    // ChargeLookup: someone asks the bank about that term's charge.
    c.start_workflow(
        ChargeLookup::run,
        ChargeQuestion {
            contract_id: "C-rec".into(),
            term_id: "recurring-C-rec-term1".into(),
            operator: "fin".into(),
            statement: None,
        },
        WorkflowStartOptions::new(
            task_queues::RECURRING_SCHEDULE,
            "charge-lookup-recurring-C-rec-term1",
        )
        .build(),
    )
    .await
    .unwrap();
    // A statement import that books a term's charge in doubt, approved: it gives the entry
    // to the term's question, which asks the import (no such term ran: refused).
    {
        use temporal_playground::domain::statement::*;
        use temporal_playground::workflows::statement_import::ImportStart;
        let booked = ReviewedEntry {
            entry: StatementEntry {
                index: 1,
                entry_ref: "B1".into(),
                reference: "recurring-C-rec-term2".into(),
                booking_date: "2026-12-01".into(),
                amount: temporal_playground::domain::money::Money {
                    minor: 999,
                    currency: "USD".into(),
                    exponent: 2,
                },
                credit: true,
                reversal: false,
            },
            outcome: EntryOutcome::ChargeInDoubt {
                contract_id: "C-rec".into(),
                term_id: "recurring-C-rec-term2".into(),
            },
        };
        c.start_workflow(
            StatementImport::run,
            ImportStart {
                statement_id: "STMT-REC-C".into(),
                account: "US00".into(),
                format: StatementFormat::Camt053,
                file_name: "rec-charges.xml".into(),
                content_hash: "fedcba9876543210".into(),
                imported_by: "ana".into(),
                imported_by_id: String::new(),
                chunks: 1,
                first: vec![booked.clone()],
                unmentioned: vec![],
            },
            WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, "statement-fedcba9876543210")
                .build(),
        )
        .await
        .unwrap();
        temporal_playground::operations::statements::approve(c, "statement-fedcba9876543210", "bo")
            .await
            .unwrap();
        // The same statement for another term, approved with its entry left out: nothing
        // is given.
        let mut left = booked.clone();
        left.outcome = EntryOutcome::ChargeInDoubt {
            contract_id: "C-rec".into(),
            term_id: "recurring-C-rec-term3".into(),
        };
        c.start_workflow(
            StatementImport::run,
            ImportStart {
                statement_id: "STMT-REC-L".into(),
                account: "US00".into(),
                format: StatementFormat::Camt053,
                file_name: "rec-left-out.xml".into(),
                content_hash: "abcdef0123456789".into(),
                imported_by: "ana".into(),
                imported_by_id: String::new(),
                chunks: 1,
                first: vec![left],
                unmentioned: vec![],
            },
            WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, "statement-abcdef0123456789")
                .build(),
        )
        .await
        .unwrap();
        temporal_playground::operations::statements::approve_leaving_out(
            c,
            "statement-abcdef0123456789",
            "bo",
            &["B1".to_string()],
            "the term was refunded",
        )
        .await
        .unwrap();
        // An import started with a decision in its memo that no one made.
        let mut forged = temporalio_common::MemoValues::new();
        forged.insert(
            temporal_playground::workflows::statement_import::DECISIONS_MEMO,
            serde_json::json!({
                "statement_id": "STMT-REC-M", "file_name": "rec-memo.xml",
                "imported_by": {"operator": "mallory", "at": "2026-12-01T09:00:00Z"},
                "approved": {"operator": "carol", "at": "2026-12-01T09:00:00Z"},
                "rejected": null,
            }),
        );
        c.start_workflow(
            StatementImport::run,
            ImportStart {
                statement_id: "STMT-REC-M".into(),
                account: "US00".into(),
                format: StatementFormat::Camt053,
                file_name: "rec-memo.xml".into(),
                content_hash: "0f0f0f0f0f0f0f0f".into(),
                imported_by: "ana".into(),
                imported_by_id: String::new(),
                chunks: 1,
                first: vec![],
                unmentioned: vec![],
            },
            WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, "statement-0f0f0f0f0f0f0f0f")
                .memo(forged)
                .build(),
        )
        .await
        .unwrap();
        eventually("the memo cleared", Duration::from_secs(15), || async {
            let listed = temporal_playground::temporal::visibility::list_page(
                c,
                "WorkflowId = 'statement-0f0f0f0f0f0f0f0f'",
                1,
                None,
                None,
            )
            .await
            .ok()?;
            let e = listed.executions.into_iter().next()?;
            e.memo::<serde_json::Value>(
                temporal_playground::workflows::statement_import::DECISIONS_MEMO,
            )
            .is_none_or(|v| v.is_null())
            .then_some(())
        })
        .await;
        temporal_playground::operations::statements::reject(
            c,
            "statement-0f0f0f0f0f0f0f0f",
            "bo",
            "not our account",
        )
        .await
        .unwrap();
    }

    // RecurringPayment v3: one term of a contract, started by its schedule.
    temporal_playground::operations::contracts::create(
        c,
        temporal_playground::domain::contract::NewContract {
            terms: ContractTerms {
                contract_id: "C-rec3".into(),
                customer: "ana".into(),
                plan: "membership".into(),
                amount_cents: 999,
                currency: "USD".into(),
                until_cancelled: None,
            },
            cadence: temporal_playground::domain::contract::Cadence::Every { seconds: 1 },
            time_zone: "UTC".into(),
            total_terms: 1,
        },
        &test_contract_limits(),
        "fin",
    )
    .await
    .unwrap();
    // The term and the record C-rec3 made, whose ids carry a time and a random request.
    let completed_of_c_rec3 = |kind: &'static str| async move {
        eventually("C-rec3's run", Duration::from_secs(30), || async {
            let query = format!(
                "WorkflowType = '{kind}' AND ContractId = 'C-rec3' \
                 AND ExecutionStatus = 'Completed'"
            );
            let page =
                temporal_playground::temporal::visibility::list_page(c, &query, 1, None, None)
                    .await
                    .ok()?;
            page.executions.into_iter().next().map(|e| e.workflow_id)
        })
        .await
    };
    let scheduled_term = completed_of_c_rec3("RecurringPayment").await;
    let confirmed_record = completed_of_c_rec3("ContractChange").await;

    let mut fresh = Vec::new();
    for (file, workflow_id) in RECORDED {
        let workflow_id = match workflow_id {
            SCHEDULED_TERM => scheduled_term.as_str(),
            CONFIRMED_RECORD => confirmed_record.as_str(),
            id => id,
        };
        let json = match RUNNING.contains(&workflow_id) {
            true => c
                .get_workflow_handle::<UntypedWorkflow>(workflow_id.to_string())
                .fetch_history(Default::default())
                .to_json()
                .await
                .expect("history"),
            false => history_json(c, workflow_id).await,
        };
        fresh.push((file.to_string(), json));
    }
    // Recording adds the histories not committed yet; a committed one is never
    // overwritten: it is what running workflows of its day would replay.
    if std::env::var_os("RECORD_HISTORIES").is_some() {
        std::fs::create_dir_all(HISTORIES).unwrap();
        for (file, json) in &fresh {
            let path = format!("{HISTORIES}/{file}");
            if !std::path::Path::new(&path).exists() {
                std::fs::write(path, json).unwrap();
            }
        }
    }
    let failed = failures(&replayer(), fresh).await;
    assert!(
        failed.is_empty(),
        "fresh histories must replay: {failed:#?}"
    );
}
