//! Recurring payments on a real dev server: a schedule runs exactly its terms, stops when
//! cancelled, and the `patched()` v2 change replays v1 histories.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::contract::{Cadence, ContractLimits, ContractTerms, NewContract},
    operations::OpError,
    operations::contracts::{cancel, create, detail, list, set_paused, terms_run},
    temporal::search_attributes,
    upstream::activities::{ChargeReceipt, ChargeRequest, UpstreamActivities},
    upstream::simulator::UpstreamBehaviour,
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
            until_cancelled: None,
        },
        cadence: Cadence::Every {
            seconds: every_secs,
        },
        time_zone: "Asia/Shanghai".into(),
        total_terms,
    }
}

/// The production bounds, but terms a second apart so that tests see several.
fn limits() -> ContractLimits {
    test_contract_limits()
}

async fn completed_terms(env: &TestEnv, id: &str) -> usize {
    terms_in(env, id, "Completed").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_charges_exactly_its_terms_and_a_cancelled_one_stops() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // An interval counts from the contract's creation, not from 1970: every 30 days from
    // now, not on whichever day the 30-day grid since 1970 falls next.
    const DAYS_30: i64 = 30 * 24 * 3600;
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let monthly = create(
        &env.client,
        contract("C-anchor", DAYS_30 as u64, 12),
        &limits(),
        "fin",
    )
    .await
    .unwrap();
    let at: Vec<i64> = monthly
        .iter()
        .map(|t| temporal_playground::domain::format::epoch_secs(&t.at).unwrap())
        .collect();
    assert!(
        (at[0] - (created_at + DAYS_30)).abs() <= 5,
        "the first charge comes 30 days after the contract was made: {monthly:?}"
    );
    assert_eq!(at[1] - at[0], DAYS_30, "then every 30 days: {monthly:?}");
    let next = create(&env.client, contract("C-terms", 1, 2), &limits(), "fin")
        .await
        .unwrap();
    assert!(!next.is_empty(), "the contract shows its next charges");

    eventually("two terms", Duration::from_secs(30), || async {
        (completed_terms(&env, "C-terms").await >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(completed_terms(&env, "C-terms").await, 2, "no third term");
    // The contract's payment history, in finance's words.
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, "C-terms", 10)
        .await
        .unwrap();
    let said: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(said, ["charged", "charged"], "{runs:?}");
    assert_eq!(env.upstream.stats().distinct_charges, 2);
    assert_eq!(
        env.upstream.stats().receipts,
        2,
        "v2 sends a receipt per term"
    );

    create(&env.client, contract("C-open", 1, 0), &limits(), "fin")
        .await
        .unwrap();
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
        create(&env.client, contract("C-terms", 1, 2), &limits(), "fin").await,
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
            temporal_playground::upstream::activities::ReceiptRequest {
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

/// The schedule as Temporal holds it, proto and all.
async fn raw_schedule(
    env: &TestEnv,
    id: &str,
) -> temporalio_common::protos::temporal::api::workflowservice::v1::DescribeScheduleResponse {
    env.client
        .get_schedule_handle(id)
        .describe(Default::default())
        .await
        .unwrap()
        .into_raw()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_is_made_in_one_call_with_its_term_limit_and_pauses_when_a_charge_fails() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let mut c = contract("C-one", 3_600, 3);
    c.time_zone = temporal_playground::domain::contract::DEFAULT_TIME_ZONE.into();
    create(&env.client, c, &ContractLimits::default(), "fin")
        .await
        .unwrap();
    let raw = raw_schedule(&env, "C-one").await;
    let schedule = raw.schedule.unwrap();
    let state = schedule.state.unwrap();
    assert!(
        state.limited_actions && state.remaining_actions == 3,
        "{state:?}"
    );
    assert!(!state.paused, "{state:?}");
    let policies = schedule.policies.unwrap();
    assert!(policies.pause_on_failure);
    // A term Temporal could not start within an hour of its time is skipped, not charged
    // late (the term check would refuse it).
    assert_eq!(policies.catchup_window.map(|w| w.seconds), Some(3_600));
    // One call: the schedule was never updated after it was created.
    assert!(raw.info.unwrap().update_time.is_none());
    assert_eq!(
        schedule.spec.unwrap().timezone_name,
        "Asia/Kuala_Lumpur",
        "the Go original's time zone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_refuses_a_contract_whose_term_limit_is_missing_unless_chosen() {
    use temporalio_client::schedules::{
        CreateScheduleOptions, ScheduleAction, ScheduleOverlapPolicy, ScheduleSpec,
    };
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    // What the old two-step create left when its second call failed: paused, no limit.
    env.client
        .create_schedule(
            "C-half",
            CreateScheduleOptions::builder()
                .action(ScheduleAction::start_workflow(
                    RecurringPayment::run,
                    contract("C-half", 3_600, 12).terms,
                    "recurring-schedule",
                    "recurring-C-half",
                ))
                .spec(ScheduleSpec::from_interval(Duration::from_secs(3_600)))
                .overlap_policy(ScheduleOverlapPolicy::Skip)
                .paused(true)
                .note("creating")
                .build(),
        )
        .await
        .unwrap();
    let refused = set_paused(&env.client, "C-half", "fin", "go", false).await;
    match refused {
        Err(OpError::Rejected(message)) => assert!(message.contains("no term limit"), "{message}"),
        other => panic!("resumed a contract with no term limit: {other:?}"),
    }
    assert!(
        raw_schedule(&env, "C-half")
            .await
            .schedule
            .unwrap()
            .state
            .unwrap()
            .paused
    );

    // Until cancelled on purpose: pause and resume work.
    create(
        &env.client,
        contract("C-open-ended", 3_600, 0),
        &limits(),
        "fin",
    )
    .await
    .unwrap();
    set_paused(&env.client, "C-open-ended", "fin", "holiday", true)
        .await
        .unwrap();
    // A paused contract charges nothing, and lists no next charge (Temporal still computes
    // the times its schedule would fire).
    let paused = detail(&env.client, "C-open-ended").await.unwrap();
    assert!(
        paused.paused && paused.next_charges.is_empty(),
        "{paused:?}"
    );
    let row = eventually(
        "the list shows it paused",
        Duration::from_secs(15),
        || async {
            let listed = list(&env.client).await.ok()?;
            listed
                .into_iter()
                .find(|c| c.contract_id == "C-open-ended" && c.paused)
        },
    )
    .await;
    assert!(row.next_charges.is_empty(), "{row:?}");
    set_paused(&env.client, "C-open-ended", "fin", "back", false)
        .await
        .unwrap();
    let detail = detail(&env.client, "C-open-ended").await.unwrap();
    assert!(!detail.paused && detail.terms_left.is_none(), "{detail:?}");
    assert!(
        !detail.next_charges.is_empty(),
        "resumed, it charges again: {detail:?}"
    );
    assert!(detail.note.contains("resumed by fin: back"), "{detail:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_stops_a_term_that_is_still_charging() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // A `down-…` contract's bank refuses every charge: its first term keeps retrying.
    create(&env.client, contract("down-C-mid", 1, 0), &limits(), "fin")
        .await
        .unwrap();
    eventually("a charge attempt", Duration::from_secs(30), || async {
        (env.upstream.stats().charges >= 1).then_some(())
    })
    .await;
    cancel(&env.client, "down-C-mid", "fin", "customer left")
        .await
        .unwrap();
    eventually(
        "no term of the contract running",
        Duration::from_secs(10),
        || async {
            let running = count(
                &env.client,
                "ContractId = 'down-C-mid' AND ExecutionStatus = 'Running'",
            )
            .await;
            (running == 0).then_some(())
        },
    )
    .await;
    let after_cancel = env.upstream.stats().charges;
    // Retries were 1 s, 2 s, 4 s apart: five seconds would have seen more.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        env.upstream.stats().charges,
        after_cancel,
        "a cancelled contract charges nothing more"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn amounts_are_held_to_iso_4217_and_shown_in_their_own_units() {
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let with = |id: &str, amount: i64, currency: &str| {
        let mut c = contract(id, 3_600, 3);
        c.terms.amount_cents = amount;
        c.terms.currency = currency.into();
        c
    };
    let err = create(&env.client, with("C-zzz", 999, "ZZZ"), &limits(), "fin")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not an ISO 4217 currency"),
        "{err}"
    );
    let err = create(
        &env.client,
        with("C-max", i64::MAX, "USD"),
        &limits(),
        "fin",
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("at most 10000 USD a term"),
        "{err}"
    );
    create(&env.client, with("C-yen", 999, "JPY"), &limits(), "fin")
        .await
        .unwrap();
    create(&env.client, with("C-dinar", 1_250, "KWD"), &limits(), "fin")
        .await
        .unwrap();
    let yen = detail(&env.client, "C-yen").await.unwrap();
    let dinar = detail(&env.client, "C-dinar").await.unwrap();
    assert_eq!((yen.minor_units, dinar.minor_units), (0, 3));
    let shown = |d: &temporal_playground::domain::contract::ContractDetail| {
        let t = d.terms.as_ref().unwrap();
        temporal_playground::domain::money::format_amount(
            t.amount_cents,
            &t.currency,
            d.minor_units,
        )
    };
    assert_eq!(shown(&yen), "999 JPY");
    assert_eq!(shown(&dinar), "1.250 KWD");
    for refused in ["C-zzz", "C-max"] {
        assert!(
            matches!(
                detail(&env.client, refused).await,
                Err(OpError::NotFound(_))
            ),
            "a refused contract leaves no schedule"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_contracts_list_pages_and_shows_only_this_apps_contracts() {
    use temporal_playground::operations::contracts::{CONTRACTS_PAGE_SIZE, page_with_details};
    use temporalio_client::schedules::{CreateScheduleOptions, ScheduleAction, ScheduleSpec};
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let total = CONTRACTS_PAGE_SIZE as usize + 3;
    for n in 0..total {
        create(
            &env.client,
            contract(&format!("C-page-{n:03}"), 3_600, 3),
            &limits(),
            "fin",
        )
        .await
        .unwrap();
    }
    // Someone else's schedule in the same namespace: not a contract.
    env.client
        .create_schedule(
            "nightly-report",
            CreateScheduleOptions::builder()
                .action(ScheduleAction::start_workflow(
                    temporalio_client::UntypedWorkflow::new("NightlyReport"),
                    temporalio_common::data_converters::RawValue::empty(),
                    "reports",
                    "nightly-report",
                ))
                .spec(ScheduleSpec::from_interval(Duration::from_secs(86_400)))
                .paused(true)
                .build(),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    eventually("every schedule listed", Duration::from_secs(30), || async {
        (list(&env.client).await.ok()?.len() >= total).then_some(())
    })
    .await;
    loop {
        let page = page_with_details(&env.client, token.as_deref())
            .await
            .unwrap();
        pages += 1;
        assert!(page.rows.len() <= CONTRACTS_PAGE_SIZE as usize);
        assert!(
            page.rows.iter().all(|(_, d)| d.is_some()),
            "each row described"
        );
        seen.extend(page.rows.into_iter().map(|(s, _)| s.contract_id));
        match page.next_page {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert!(pages >= 2, "{pages} pages");
    assert_eq!(seen.len(), total, "{seen:?}");
    assert!(!seen.iter().any(|id| id == "nightly-report"));
    let foreign = cancel(&env.client, "nightly-report", "fin", "not ours").await;
    assert!(matches!(foreign, Err(OpError::NotFound(_))), "{foreign:?}");
    assert!(matches!(
        set_paused(&env.client, "nightly-report", "fin", "not ours", false).await,
        Err(OpError::NotFound(_))
    ));
}

/// A contract's terms as JSON, for Temporal's own CLI.
fn terms_json(id: &str, amount_cents: i64) -> String {
    let mut terms = contract(id, 3_600, 0).terms;
    terms.amount_cents = amount_cents;
    serde_json::to_string(&terms).unwrap()
}

/// Runs Temporal's own CLI and insists it did what it was asked.
fn temporal_ok(env: &TestEnv, args: &[&str]) {
    let out = temporal(&env.server.hostport, args);
    assert!(
        out.status.success(),
        "temporal {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A schedule made with Temporal's CLI, as anyone with the namespace can: no console, no
/// CLI of ours, none of the checks a new contract passes there.
fn schedule_in_temporal(env: &TestEnv, id: &str, when: &[&str], terms: &str) {
    let workflow_id = format!("recurring-{id}");
    let mut args = vec!["schedule", "create", "--schedule-id", id];
    args.extend_from_slice(when);
    args.extend_from_slice(&[
        "--workflow-id",
        &workflow_id,
        "--type",
        "RecurringPayment",
        "--task-queue",
        temporal_playground::temporal::names::task_queues::RECURRING_SCHEDULE,
        "--input",
        terms,
    ]);
    temporal_ok(env, &args);
}

async fn terms_in(env: &TestEnv, id: &str, status: &str) -> usize {
    count(
        &env.client,
        &format!(
            "WorkflowType = 'RecurringPayment' AND ContractId = '{id}' \
             AND ExecutionStatus = '{status}'"
        ),
    )
    .await
}

/// A schedule's state as Temporal holds it: paused, and its note.
async fn schedule_state(env: &TestEnv, id: &str) -> (bool, String) {
    let state = raw_schedule(env, id)
        .await
        .schedule
        .and_then(|s| s.state)
        .unwrap_or_default();
    (state.paused, state.notes)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_made_straight_in_temporal_charges_nothing_outside_the_contract_rules() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // 1,000,000.00 USD every second, and a calendar that fires every second: neither could
    // be made through the console or our CLI.
    schedule_in_temporal(
        &env,
        "C-huge",
        &["--interval", "1s"],
        &terms_json("C-huge", 100_000_000),
    );
    schedule_in_temporal(
        &env,
        "C-secs",
        &["--calendar", r#"{"second":"*","minute":"*","hour":"*"}"#],
        &terms_json("C-secs", 999),
    );
    // Within the rules (the test workers allow terms a second apart), such a schedule
    // charges nothing either: no record says who made it.
    schedule_in_temporal(
        &env,
        "C-fine",
        &["--interval", "2s"],
        &terms_json("C-fine", 999),
    );
    eventually(
        "a refused term of each",
        Duration::from_secs(60),
        || async {
            (terms_in(&env, "C-huge", "Failed").await >= 1
                && terms_in(&env, "C-secs", "Failed").await >= 1
                && terms_in(&env, "C-fine", "Failed").await >= 1)
                .then_some(())
        },
    )
    .await;
    let (huge_paused, huge_note) = schedule_state(&env, "C-huge").await;
    assert!(
        huge_paused && huge_note.contains("at most 10000 USD a term"),
        "{huge_note}"
    );
    let (secs_paused, secs_note) = schedule_state(&env, "C-secs").await;
    assert!(
        secs_paused && secs_note.contains("at second *"),
        "{secs_note}"
    );
    let (fine_paused, fine_note) = schedule_state(&env, "C-fine").await;
    assert!(
        fine_paused && fine_note.contains("no change to this contract is recorded"),
        "{fine_note}"
    );
    // The bank was asked for no term at all.
    assert_eq!(env.upstream.stats().distinct_charges, 0);
    assert_eq!(terms_in(&env, "C-fine", "Completed").await, 0);
    // The refusal is the term's own failure, in finance's words.
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, "C-huge", 10)
        .await
        .unwrap();
    let failed = env
        .client
        .get_workflow_handle::<RecurringPayment>(runs[0].workflow_id.clone())
        .get_result(WorkflowGetResultOptions::default())
        .await
        .expect_err("a refused term fails");
    assert!(
        format!("{failed:?}").contains("the term was not charged"),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_term_its_schedule_did_not_start_or_started_too_soon_charges_nothing() {
    let mut env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    // Production's bounds: an hour at least between two charges.
    env.add_workers_holding(50.0, ContractLimits::default())
        .await;
    create(
        &env.client,
        contract("C-real", 3_600, 0),
        &ContractLimits::default(),
        "fin",
    )
    .await
    .unwrap();
    // A term forged with Temporal's CLI: the contract's own terms, started by hand.
    raw_start(
        &env.server.hostport,
        "RecurringPayment",
        temporal_playground::temporal::names::task_queues::RECURRING_SCHEDULE,
        "recurring-C-real-forged",
        Some(&terms_json("C-real", 999)),
    );
    // "Charge now", twice, with Temporal's CLI: the first is a term like any other (the
    // contract has charged nothing yet), the second comes seconds after it.
    temporal_ok(&env, &["schedule", "trigger", "--schedule-id", "C-real"]);
    eventually(
        "the first term charged",
        Duration::from_secs(30),
        || async { (terms_in(&env, "C-real", "Completed").await == 1).then_some(()) },
    )
    .await;
    temporal_ok(&env, &["schedule", "trigger", "--schedule-id", "C-real"]);
    eventually(
        "the second term refused",
        Duration::from_secs(30),
        || async { (terms_in(&env, "C-real", "Failed").await == 1).then_some(()) },
    )
    .await;
    let forged = env
        .client
        .get_workflow_handle::<RecurringPayment>("recurring-C-real-forged".to_string())
        .get_result(WorkflowGetResultOptions::default())
        .await
        .expect_err("a forged term fails");
    assert!(
        format!("{forged:?}").contains("not started by the contract"),
        "{forged:?}"
    );
    assert_eq!(
        env.upstream.stats().distinct_charges,
        1,
        "only the first term reached the bank"
    );
    // The contract's page lists its own two terms, not the forged run.
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, "C-real", 10)
        .await
        .unwrap();
    // The refused term says why, in the check's words.
    let said: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(said.len(), 2, "{runs:?}");
    assert!(
        said[0].starts_with("not charged: it comes ")
            && said[0].contains("seconds after the term before it"),
        "{runs:?}"
    );
    assert_eq!(said[1], "charged", "{runs:?}");
    // It stops until finance looks, and its page says why.
    let (paused, note) = schedule_state(&env, "C-real").await;
    assert!(
        paused && note.contains("seconds after the term before it"),
        "{note}"
    );
    // The trail names who paused it: the term check, with the reason.
    let trail = term_check_pauses(&env, 1).await;
    assert!(
        trail.len() == 1
            && trail[0].target == "C-real"
            && trail[0]
                .action
                .starts_with("paused: a term was refused: it comes"),
        "{trail:?}"
    );

    // Finance resumes it; then a backfill from Temporal's CLI starts the terms of three
    // hours ago, which the contract never charged: each is refused as late.
    set_paused(&env.client, "C-real", "fin", "looked at it", false)
        .await
        .unwrap();
    let ago = |hours: i64| (chrono::Utc::now() - chrono::Duration::hours(hours)).to_rfc3339();
    let (from, to) = (ago(3), ago(1));
    temporal_ok(
        &env,
        &[
            "schedule",
            "backfill",
            "--schedule-id",
            "C-real",
            "--start-time",
            &from,
            "--end-time",
            &to,
        ],
    );
    eventually(
        "a backfilled term refused",
        Duration::from_secs(30),
        || async { (terms_in(&env, "C-real", "Failed").await >= 2).then_some(()) },
    )
    .await;
    let (paused, note) = schedule_state(&env, "C-real").await;
    assert!(paused && note.contains("after it was due"), "{note}");
    assert_eq!(env.upstream.stats().distinct_charges, 1, "still one charge");
}

/// The term check's pauses in the contracts' audit trail, once there are `n`, each
/// confirmed.
async fn term_check_pauses(
    env: &TestEnv,
    n: usize,
) -> Vec<temporal_playground::domain::audit::AuditEntry> {
    let by_check = temporal_playground::domain::audit::AuditFilter {
        actor: temporal_playground::workflows::contract_change::TERM_CHECK_ACTOR.into(),
        ..Default::default()
    };
    eventually(
        &format!("{n} term check pauses in the trail"),
        Duration::from_secs(15),
        || async {
            let entries =
                temporal_playground::operations::audit::contract_entries(&env.client, &by_check)
                    .await
                    .ok()?;
            (entries.len() == n && entries.iter().all(|e| e.outcome == "done")).then_some(entries)
        },
    )
    .await
}

/// Resumes a contract's schedule from Temporal's CLI under `note` (`toggle` writes it).
fn unpause_in_temporal(env: &TestEnv, id: &str, note: &str) {
    temporal_ok(
        env,
        &[
            "schedule",
            "toggle",
            "--unpause",
            "--schedule-id",
            id,
            "--reason",
            note,
        ],
    );
}

/// Triggers a contract's term from Temporal's CLI and waits until `status` counts `n`.
async fn trigger_until(env: &TestEnv, id: &str, status: &str, n: usize) {
    temporal_ok(env, &["schedule", "trigger", "--schedule-id", id]);
    eventually(
        &format!("{n} {status} terms of {id}"),
        Duration::from_secs(30),
        || async { (terms_in(env, id, status).await == n).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_resumed_or_changed_outside_the_console_charges_nothing() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    create(&env.client, contract("C-held", 3_600, 0), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(&env, "C-held", "Completed", 1).await;
    // Finance pauses it over a dispute, resumes it once checked, and pauses it again.
    for (reason, pause) in [
        ("customer disputes it", true),
        ("checked with the customer", false),
        ("disputed again", true),
    ] {
        set_paused(&env.client, "C-held", "fin", reason, pause)
            .await
            .unwrap();
    }
    // From Temporal's CLI, someone charges it now while it is paused (Temporal starts a
    // paused schedule's term on `trigger`): the note is finance's, but finance stopped it.
    // (Terms a second apart are allowed here; closer, the check refuses for that first.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    trigger_until(&env, "C-held", "Failed", 1).await;
    assert_eq!(env.upstream.stats().distinct_charges, 1, "no second charge");
    let (_, note) = schedule_state(&env, "C-held").await;
    assert!(
        note.contains("(\"paused by fin: disputed again\") stopped it"),
        "{note}"
    );
    // Then resumes it under the note of finance's earlier resume (a real record's, not the
    // latest), and charges now.
    unpause_in_temporal(&env, "C-held", "resumed by fin: checked with the customer");
    // Its page tells finance before any term is refused (once the term check's pause is
    // confirmed: a worker reads it within seconds).
    eventually("the heads-up", Duration::from_secs(15), || async {
        let told = detail(&env.client, "C-held").await.ok()?.heads_up?;
        told.starts_with(
            "Its terms will be refused: its schedule reads \"resumed by fin: checked with the customer\"",
        )
        .then_some(())
    })
    .await;
    trigger_until(&env, "C-held", "Failed", 2).await;
    assert_eq!(env.upstream.stats().distinct_charges, 1, "no second charge");
    // It stops again, and its page says why.
    let (paused, note) = schedule_state(&env, "C-held").await;
    assert!(
        paused && note.contains("its latest recorded change left \"paused: a term was refused"),
        "{note}"
    );
    // Finance resumes it from the console: it charges again.
    set_paused(&env.client, "C-held", "fin", "looked into it", false)
        .await
        .unwrap();
    trigger_until(&env, "C-held", "Completed", 2).await;
    assert_eq!(detail(&env.client, "C-held").await.unwrap().heads_up, None);
    // Temporal's CLI writes a schedule anew on `schedule update`: here 9,999.99 USD a term.
    // (Terms a second apart are allowed here; closer, the check refuses for that first.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    temporal_ok(
        &env,
        &[
            "schedule",
            "update",
            "--schedule-id",
            "C-held",
            "--interval",
            "1h",
            "--workflow-id",
            "recurring-C-held",
            "--type",
            "RecurringPayment",
            "--task-queue",
            temporal_playground::temporal::names::task_queues::RECURRING_SCHEDULE,
            "--input",
            &terms_json("C-held", 999_999),
        ],
    );
    trigger_until(&env, "C-held", "Failed", 3).await;
    assert_eq!(
        env.upstream.stats().distinct_charges,
        2,
        "nothing at 9,999.99"
    );
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, "C-held", 10)
        .await
        .unwrap();
    assert!(
        runs[0]
            .status
            .starts_with("not charged: its schedule reads \"\", but its latest recorded change"),
        "{runs:?}"
    );
    // The trail names who stopped it each time: the term check.
    let trail = term_check_pauses(&env, 3).await;
    assert!(trail.iter().all(|e| e.target == "C-held"), "{trail:?}");
}

/// `temporal schedule update` for a contract, with `extra` flags (its note, say): every
/// hour, the contract's own workflow, `amount_cents` a term.
fn rewrite_in_temporal(env: &TestEnv, id: &str, amount_cents: i64, extra: &[&str]) {
    let workflow_id = format!("recurring-{id}");
    let terms = terms_json(id, amount_cents);
    let mut args = vec![
        "schedule",
        "update",
        "--schedule-id",
        id,
        "--interval",
        "1h",
        "--workflow-id",
        &workflow_id,
        "--type",
        "RecurringPayment",
        "--task-queue",
        temporal_playground::temporal::names::task_queues::RECURRING_SCHEDULE,
        "--input",
        &terms,
    ];
    args.extend_from_slice(extra);
    temporal_ok(env, &args);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_rewritten_outside_the_console_under_its_own_note_charges_nothing() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    create(&env.client, contract("C-copy", 3_600, 0), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(&env, "C-copy", "Completed", 1).await;
    // From Temporal's CLI, someone rewrites it at 9,999.99 USD a term, hourly as before,
    // keeping the note its creation wrote: its note and state read as recorded.
    tokio::time::sleep(Duration::from_secs(2)).await;
    rewrite_in_temporal(&env, "C-copy", 999_999, &["--notes", "created by fin"]);
    let rewritten = "it charges 9999.99 USD a term where 9.99 USD was recorded";
    let told = detail(&env.client, "C-copy").await.unwrap().heads_up;
    assert!(
        told.as_deref().is_some_and(|t| t.contains(rewritten)
            && t.ends_with("Cancel it, and make it again with the terms agreed.")),
        "{told:?}"
    );
    trigger_until(&env, "C-copy", "Failed", 1).await;
    assert_eq!(
        env.upstream.stats().distinct_charges,
        1,
        "nothing at 9,999.99"
    );
    let (paused, note) = schedule_state(&env, "C-copy").await;
    assert!(
        paused && note.contains("rewritten outside the console") && note.ends_with(rewritten),
        "{note}"
    );
    // Finance cannot resume it as it is: its terms are set by making it.
    let resumed = set_paused(&env.client, "C-copy", "fin", "looks fine", false).await;
    assert!(
        matches!(&resumed, Err(OpError::Rejected(why)) if why.contains(rewritten)),
        "{resumed:?}"
    );
    assert!(schedule_state(&env, "C-copy").await.0, "still paused");
    // Rewritten back to its own terms, it is resumed and charges again.
    rewrite_in_temporal(&env, "C-copy", 999, &["--paused"]);
    set_paused(&env.client, "C-copy", "fin", "terms restored", false)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    trigger_until(&env, "C-copy", "Completed", 2).await;
    assert_eq!(env.upstream.stats().distinct_charges, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_whose_term_limit_is_raised_outside_the_console_charges_no_more() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    create(&env.client, contract("C-two", 3_600, 2), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(&env, "C-two", "Completed", 1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    trigger_until(&env, "C-two", "Completed", 2).await;
    // Both terms charged. From Temporal's CLI, someone gives it five more, keeping its note.
    tokio::time::sleep(Duration::from_secs(2)).await;
    rewrite_in_temporal(
        &env,
        "C-two",
        999,
        &["--notes", "created by fin", "--remaining-actions", "5"],
    );
    // Its page says no more will charge, not the five its schedule now says.
    let page = detail(&env.client, "C-two").await.unwrap();
    assert_eq!(page.terms_left, Some(0), "{page:?}");
    assert!(
        page.heads_up.as_deref().is_some_and(|h| h.contains(
            "Its schedule says 5 terms left, but it was made for 2 and has charged 2: no more \
             than 0 will charge"
        )),
        "{page:?}"
    );
    trigger_until(&env, "C-two", "Failed", 1).await;
    assert_eq!(
        env.upstream.stats().distinct_charges,
        2,
        "two terms, no more"
    );
    let (paused, note) = schedule_state(&env, "C-two").await;
    assert!(
        paused && note.contains("it has charged all 2 of its terms"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_term_that_charged_and_then_failed_reads_charged_and_counts_among_its_terms() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // The bank takes this contract's charges and refuses its receipts.
    let id = "noreceipt-C-one";
    create(&env.client, contract(id, 3_600, 1), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(&env, id, "Failed", 1).await;
    assert_eq!(env.upstream.stats().distinct_charges, 1, "the term charged");
    // Finance reads that the customer was charged, not that nothing was taken.
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, id, 10)
        .await
        .unwrap();
    let said: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("charged, then failed: ") && said[0].contains("no address"),
        "{said:?}"
    );
    // The failed term paused the contract (Temporal does, moments after the run fails);
    // finance resumes it. Its one term is taken, so
    // nothing more charges, until someone raises its limit from Temporal's CLI under the
    // note finance's resume wrote.
    eventually(
        "the contract paused on its failed term",
        Duration::from_secs(10),
        || async { schedule_state(&env, id).await.0.then_some(()) },
    )
    .await;
    set_paused(&env.client, id, "fin", "receipt sent by post", false)
        .await
        .unwrap();
    let (paused, resumed) = schedule_state(&env, id).await;
    assert!(!paused, "{resumed}");
    raised_limit_charges_nothing(&env, id, &resumed, 1).await;
    assert_eq!(
        env.upstream.stats().distinct_charges,
        1,
        "one term, charged once"
    );
}

/// From Temporal's CLI, the one-term contract `id`'s limit is raised under its own latest
/// `note` and a term triggered: it is refused as past the contract's terms (its `failed`
/// failed terms one more), asks the bank for no charge, and pauses the contract.
async fn raised_limit_charges_nothing(env: &TestEnv, id: &str, note: &str, failed: usize) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    rewrite_in_temporal(env, id, 999, &["--notes", note, "--remaining-actions", "5"]);
    let asked = env.upstream.stats().charges;
    trigger_until(env, id, "Failed", failed + 1).await;
    assert_eq!(
        env.upstream.stats().charges,
        asked,
        "no charge was asked for"
    );
    let (paused, note) = schedule_state(env, id).await;
    assert!(
        paused && note.contains("it has charged all 1 of its terms"),
        "{note}"
    );
}

/// A term stopped while the bank had not answered its charge may have charged: its row
/// says so and sends finance to the bank, and it counts among the contract's terms.
#[tokio::test(flavor = "multi_thread")]
async fn a_term_stopped_while_charging_reads_unconfirmed_and_counts_among_its_terms() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // This contract's bank answers every charge 503: its term keeps trying.
    let id = "down-C-doubt";
    create(&env.client, contract(id, 3_600, 1), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(&env, id, "Running", 1).await;
    eventually(
        "the bank asked to charge",
        Duration::from_secs(30),
        || async { (env.upstream.stats().charges >= 1).then_some(()) },
    )
    .await;
    // Someone stops the stuck term from Temporal's CLI.
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, id, 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    temporal_ok(
        &env,
        &[
            "workflow",
            "terminate",
            "--workflow-id",
            &runs[0].workflow_id,
            "--reason",
            "stuck",
        ],
    );
    eventually("the term stopped", Duration::from_secs(30), || async {
        (terms_in(&env, id, "Terminated").await == 1).then_some(())
    })
    .await;
    // Finance reads neither "charged" nor a plain "stopped", but to ask the bank.
    let runs = temporal_playground::operations::contracts::terms_run(&env.client, id, 10)
        .await
        .unwrap();
    let said: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(
        said,
        [
            "charge unconfirmed, then stopped. Ask the bank whether it charged before charging again."
        ],
    );
    // Its one term may be taken: a limit raised from Temporal's CLI under the contract's
    // own note charges no second one.
    let (paused, note) = schedule_state(&env, id).await;
    let note = match paused {
        true => {
            set_paused(&env.client, id, "fin", "asked the bank", false)
                .await
                .unwrap();
            schedule_state(&env, id).await.1
        }
        false => note,
    };
    raised_limit_charges_nothing(&env, id, &note, 0).await;
}

/// A full page of contracts reads every row's latest recorded change in one visibility
/// list: finance opening it together, again and again, gets the whole page each time,
/// with the heads-up of a contract changed outside the console, within Temporal's limit
/// on a namespace's visibility calls (which one read per row ran past).
#[tokio::test(flavor = "multi_thread")]
async fn a_full_page_of_contracts_answers_whole_each_time_finance_opens_it() {
    use temporal_playground::operations::contracts::{CONTRACTS_PAGE_SIZE, page_with_details};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let made = CONTRACTS_PAGE_SIZE as usize - 1;
    futures::future::join_all((0..made).map(|i| {
        let client = env.client.clone();
        async move {
            create(
                &client,
                contract(&format!("C-p{i:02}"), 86_400, 0),
                &limits(),
                "fin",
            )
            .await
            .unwrap();
        }
    }))
    .await;
    // One made straight in Temporal: its page tells finance its terms will be refused.
    schedule_in_temporal(
        &env,
        "C-outside",
        &["--interval", "24h"],
        &terms_json("C-outside", 999),
    );
    eventually(
        "the page of contracts listed",
        Duration::from_secs(30),
        || async {
            let page = page_with_details(&env.client, None).await.ok()?;
            (page.rows.len() == made + 1).then_some(())
        },
    )
    .await;
    // Four people of finance open it at once, five times over.
    for opened in 1..=5 {
        let pages =
            futures::future::join_all((0..4).map(|_| page_with_details(&env.client, None))).await;
        for page in pages {
            let page = page.unwrap_or_else(|e| panic!("opened {opened} times: {e}"));
            assert_eq!(page.rows.len(), made + 1, "opened {opened} times");
            for (summary, detail) in &page.rows {
                let detail = detail
                    .as_ref()
                    .unwrap_or_else(|| panic!("{} has no detail", summary.contract_id));
                assert_eq!(
                    detail.heads_up.is_some(),
                    summary.contract_id == "C-outside",
                    "opened {opened} times: {}: {:?}",
                    summary.contract_id,
                    detail.heads_up
                );
            }
        }
    }
    // The list marks the contract whose page has a heads-up, and only that one.
    let (addr, _hub) = serve_dashboard_with_hub(env.client.clone()).await;
    let http = signed_in(addr, "fin").await;
    let html = page_text(&http, &format!("http://{addr}/contracts")).await;
    assert_eq!(
        html.matches("data-testid=\"row-heads-up\"").count(),
        1,
        "{html}"
    );
    let row = html
        .split("<tr")
        .find(|row| row.contains("data-contract=\"C-outside\""))
        .expect("C-outside's row");
    assert!(row.contains("heads-up: see its page"), "{row}");
}

/// A ChargeLookup started straight in Temporal, as anyone with the namespace can: the
/// question's answer, or the CLI's words when the workflow refused it.
fn ask_in_temporal(env: &TestEnv, contract_id: &str, term_id: &str) -> String {
    let question = serde_json::json!({
        "contract_id": contract_id,
        "term_id": term_id,
        "operator": "ops",
    });
    question_in_temporal(env, term_id, &question)
}

/// `question` started as a ChargeLookup about `term_id` straight in Temporal: what
/// Temporal's CLI said.
fn question_in_temporal(env: &TestEnv, term_id: &str, question: &serde_json::Value) -> String {
    use temporal_playground::workflows::charge_lookup::workflow_id;
    let question = question.to_string();
    let out = temporal(
        &env.server.hostport,
        &[
            "workflow",
            "execute",
            "--type",
            "ChargeLookup",
            "--task-queue",
            temporal_playground::temporal::names::task_queues::RECURRING_SCHEDULE,
            "--workflow-id",
            &workflow_id(term_id),
            "--input",
            &question,
        ],
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One term of `id`, triggered, stuck at the bank and stopped from Temporal's CLI; its id.
async fn stopped_while_charging(env: &TestEnv, id: &str) -> String {
    create(&env.client, contract(id, 3_600, 1), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(env, id, "Running", 1).await;
    let term = terms_run(&env.client, id, 10).await.unwrap()[0]
        .workflow_id
        .clone();
    eventually(
        "the bank asked to charge",
        Duration::from_secs(30),
        || async { env.upstream.charge_keys().contains(&term).then_some(()) },
    )
    .await;
    temporal_ok(
        env,
        &[
            "workflow",
            "terminate",
            "--workflow-id",
            &term,
            "--reason",
            "stuck",
        ],
    );
    eventually("the term stopped", Duration::from_secs(30), || async {
        (terms_in(env, id, "Terminated").await == 1).then_some(())
    })
    .await;
    term
}

/// The term's row on the contract's page.
/// The import id our CLI's `import-statement` names.
async fn row_of(env: &TestEnv, id: &str) -> String {
    let runs = terms_run(&env.client, id, 10).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].status.clone()
}

/// A term whose charge had no answer is settled by the bank's own answer, asked by finance
/// or by anyone with the namespace: its row says what the bank said, and the term counts
/// among the contract's terms by it. A "no charge" asked while a try may still have been
/// on its way settles nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_banks_answer_settles_a_term_whose_charge_had_none() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        operations::contracts::{ask_the_bank, unconfirmed_charges, unconfirmed_charges_reading},
        web::pages::contracts::AskBank,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // `down-…`: the bank never takes the charge. `lost-…`: it takes it, and its answer is
    // lost. Both terms are stopped from Temporal's CLI while they try.
    let (never, lost) = ("down-C-asked", "lost-C-asked");
    let (never_term, lost_term) = futures::join!(
        stopped_while_charging(&env, never),
        stopped_while_charging(&env, lost)
    );
    // At once, someone asks the bank from Temporal's CLI: it has no charge yet, but a try
    // may still have been on its way. The row says so, and the term stays in doubt.
    let early = ask_in_temporal(&env, never, &never_term);
    assert!(
        early.contains("charge_id") && !early.contains("ch_"),
        "{early}"
    );
    let row = row_of(&env, never).await;
    assert!(
        row.starts_with("charge unconfirmed, then stopped. The bank had taken no charge under its key when asked (asked by ops, ")
            && row.ends_with("but a try may still have been on its way: ask again."),
        "{row}"
    );
    // The console says when it may ask.
    let refused = ask_the_bank(&env.client, never, &never_term, "fin").await;
    assert!(
        matches!(&refused, Err(OpError::Rejected(why)) if why.contains("ask in")),
        "{refused:?}"
    );
    // A question about another contract's term, or filed under another term, is refused
    // by the workflow itself.
    let forged = ask_in_temporal(&env, lost, &never_term);
    assert!(
        forged.contains("not a question this system asks"),
        "{forged}"
    );
    // In the console, finance is offered to ask the bank on the row; support is not, and
    // support's post is refused and asks nothing.
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let page = format!("http://{addr}/contracts/{never}");
    let ask_form = [("contract_id", never), ("term_id", never_term.as_str())];
    let questions = || count(&env.client, "WorkflowType = 'ChargeLookup'");
    let asked_before = questions().await;
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    assert!(!page_text(&support, &page).await.contains("ask-the-bank"));
    let refused = support
        .post(format!("http://{addr}{}", AskBank::PATH))
        .form(&ask_form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let finance = sign_in_with(addr, &[("name", "finance"), ("password", PASSWORD)]).await;
    assert!(
        page_text(&finance, &page)
            .await
            .contains("data-testid=\"ask-the-bank\"")
    );
    // Both terms wait on finance's list of charges to confirm, each with its button.
    let unconfirmed = || async {
        let list = unconfirmed_charges(&env.client).await.unwrap();
        assert!(!list.partial);
        let mut terms: Vec<String> = list.terms.into_iter().map(|r| r.workflow_id).collect();
        terms.sort();
        terms
    };
    let mut both = vec![never_term.clone(), lost_term.clone()];
    both.sort();
    assert_eq!(unconfirmed().await, both);
    // Read one at a time, the list says it may not hold them all.
    let one = unconfirmed_charges_reading(&env.client, 1, 1)
        .await
        .unwrap();
    assert!(one.partial && one.terms.len() <= 1, "{one:?}");
    let list = page_text(&finance, &format!("http://{addr}/charges")).await;
    assert!(
        list.contains(&never_term)
            && list.contains(&lost_term)
            && list.matches("data-testid=\"ask-the-bank\"").count() == 2,
        "{list}"
    );
    tokio::time::sleep(temporal_playground::workflows::charge_lookup::SETTLED_AFTER).await;
    assert_eq!(
        questions().await,
        asked_before,
        "a refused post asked the bank"
    );
    // Someone holds the question's id with a workflow no worker runs, from Temporal's CLI:
    // it neither answers for the bank nor keeps finance from asking.
    temporal_ok(
        &env,
        &[
            "workflow",
            "start",
            "--type",
            "Stall",
            "--task-queue",
            "nowhere",
            "--workflow-id",
            &temporal_playground::workflows::charge_lookup::workflow_id(&never_term),
        ],
    );
    assert_eq!(
        unconfirmed().await,
        both,
        "a stalled question settles nothing"
    );
    // Finance asks from the list; the bank has no charge: not charged, and off the list.
    let asked = finance
        .post(format!("http://{addr}{}", AskBank::PATH))
        .header("accept", "text/html")
        .form(&[ask_form.as_slice(), &[("back", "list")]].concat())
        .send()
        .await
        .unwrap();
    // A plain form's post comes back to the list (followed, or told where).
    let landed = match asked.headers().get("location") {
        Some(location) => location.to_str().unwrap_or_default().to_string(),
        None => asked.url().path().to_string(),
    };
    assert_eq!(landed, "/charges");
    assert!(
        asked.status().as_u16() < 400,
        "{}",
        asked.text().await.unwrap()
    );
    assert_eq!(unconfirmed().await, std::slice::from_ref(&lost_term));
    let row = row_of(&env, never).await;
    assert!(
        row.starts_with("stopped. The bank took no charge under its key (asked by finance, "),
        "{row}"
    );
    let shown = page_text(&finance, &page).await;
    assert!(
        shown.contains("The bank took no charge under its key") && !shown.contains("ask-the-bank")
    );
    // The contract's trail keeps both questions: who asked, how, and what the bank said.
    let trail = temporal_playground::operations::audit::contract_changes(&env.client, never)
        .await
        .unwrap();
    let asked: Vec<(&str, &str, &str)> = trail
        .iter()
        .filter(|e| e.action == format!("asked the bank about the charge of {never_term}"))
        .map(|e| (e.actor.as_str(), e.outcome.as_str(), e.channel.as_str()))
        .collect();
    assert_eq!(
        asked,
        [
            ("finance", "the bank took no charge", "console"),
            ("ops", "the bank took no charge", "another client"),
        ],
        "{trail:#?}"
    );
    // Asked once more, it says the term is settled.
    let again = ask_the_bank(&env.client, never, &never_term, "fin").await;
    assert!(
        matches!(&again, Err(OpError::Rejected(why)) if why.contains("is not in doubt")),
        "{again:?}"
    );
    // Someone asks about the other from Temporal's CLI: the bank took it.
    let answer = ask_in_temporal(&env, lost, &lost_term);
    assert!(answer.contains("ch_"), "{answer}");
    assert!(unconfirmed().await.is_empty());
    let row = row_of(&env, lost).await;
    assert!(
        row.starts_with("charged, then stopped. The bank took charge ch_")
            && row.contains("under its key (asked by ops, "),
        "{row}"
    );
    // A term limit raised from Temporal's CLI: the contract that charged its one term
    // charges no second; the one the bank never charged charges its one term.
    for id in [never, lost] {
        if schedule_state(&env, id).await.0 {
            set_paused(&env.client, id, "fin", "asked the bank", false)
                .await
                .unwrap();
        }
    }
    let note = schedule_state(&env, lost).await.1;
    raised_limit_charges_nothing(&env, lost, &note, 0).await;
    let note = schedule_state(&env, never).await.1;
    tokio::time::sleep(Duration::from_secs(2)).await;
    rewrite_in_temporal(
        &env,
        never,
        999,
        &["--notes", &note, "--remaining-actions", "5"],
    );
    trigger_until(&env, never, "Running", 1).await;
    eventually(
        "the bank asked to charge the term it never charged",
        Duration::from_secs(30),
        || async {
            let runs = terms_run(&env.client, never, 10).await.ok()?;
            let second = runs.iter().find(|r| r.workflow_id != never_term)?;
            env.upstream
                .charge_keys()
                .contains(&second.workflow_id)
                .then_some(())
        },
    )
    .await;
}

/// Waits until the record `workflow_id` has closed as `status` (`Completed`, `Failed`).
async fn record_closed(env: &TestEnv, workflow_id: &str, status: &str) {
    let query = format!("WorkflowId = '{workflow_id}' AND ExecutionStatus = '{status}'");
    eventually(
        &format!("the record {workflow_id} {status}"),
        Duration::from_secs(30),
        || async { (count(&env.client, &query).await == 1).then_some(()) },
    )
    .await;
}

/// A record of a change made from Temporal's CLI can stop a contract, but cannot set what
/// it charges. Someone rewrites a contract at 9,999.99 USD a term under a note of their own
/// and records that change consistently (its note, their own identity): first saying
/// nothing of its terms, then saying the rewritten ones, then as the contract's making. No
/// term charges, and the records that say other terms are refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_record_from_outside_sets_no_terms_of_a_contract() {
    use temporal_playground::{
        domain::contract::Cadence, workflows::contract_change::ContractState,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let id = "C-forged-terms";
    create(&env.client, contract(id, 3_600, 0), &limits(), "fin")
        .await
        .unwrap();
    trigger_until(&env, id, "Completed", 1).await;
    let charged = env.upstream.stats().charges;
    let hostport = env.server.hostport.clone();
    let record = |suffix: &str, action: &str, reason: &str, terms: Option<&ContractState>| {
        let workflow_id = format!("contract-change-{id}-{suffix}");
        let mut memo = serde_json::json!({
            "contract_id": id, "action": action, "operator": "mallory",
            "reason": reason, "origin": "mallory-script",
        });
        if let Some(terms) = terms {
            memo["contract"] = serde_json::to_value(terms).unwrap();
        }
        record_from_temporal(
            &hostport,
            &workflow_id,
            &memo,
            &["--identity", "mallory-script"],
        );
        workflow_id
    };
    // Rewritten, resumed under mallory's own note, and recorded saying nothing of its terms.
    tokio::time::sleep(Duration::from_secs(2)).await;
    rewrite_in_temporal(&env, id, 999_999, &["--notes", "resumed by mallory: fixed"]);
    let bare = record("bare", "resumed", "fixed", None);
    record_closed(&env, &bare, "Completed").await;
    trigger_until(&env, id, "Failed", 1).await;
    let (paused, note) = schedule_state(&env, id).await;
    assert!(
        paused && note.contains("its schedule was rewritten outside the console"),
        "{note}"
    );
    // Then recorded saying the rewritten terms: the record is refused.
    let dearer = ContractState {
        terms: serde_json::from_str(&terms_json(id, 999_999)).unwrap(),
        cadence: Cadence::Every { seconds: 3_600 },
        time_zone: "Asia/Shanghai".into(),
        total_terms: 0,
    };
    // Then resumed under a new note and recorded saying the rewritten terms, and then as
    // the contract's making: each record is refused, and the term with it.
    let cases = [
        (
            "dear",
            "resumed",
            "fixed again",
            "resumed by mallory: fixed again",
        ),
        ("made", "created", "", "created by mallory"),
    ];
    for (refused, (suffix, action, reason, note)) in (2..).zip(cases) {
        unpause_in_temporal(&env, id, note);
        let forged = record(suffix, action, reason, Some(&dearer));
        record_closed(&env, &forged, "Failed").await;
        trigger_until(&env, id, "Failed", refused).await;
    }
    assert_eq!(
        env.upstream.stats().charges,
        charged,
        "a rewritten term charged"
    );
    // Finance resuming it hears that it was rewritten.
    let resumed = set_paused(&env.client, id, "fin", "checked", false).await;
    assert!(
        matches!(&resumed, Err(OpError::Rejected(why)) if why.contains("was rewritten outside the console")),
        "{resumed:?}"
    );
}

/// After an outage many charges wait to be confirmed at once: finance asks the bank about
/// all of them from the list, once it has said how many; a stale count is refused and asks
/// nothing, support may not, and each answer takes its term off the list.
#[tokio::test(flavor = "multi_thread")]
async fn finance_asks_the_bank_about_every_charge_in_doubt_once_it_confirms_the_count() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        operations::contracts::unconfirmed_charges, web::pages::contracts::AskBankAll,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // `lost-…`: the bank takes each charge and its answer is lost.
    let (one, two) = ("lost-C-all1", "lost-C-all2");
    futures::join!(
        stopped_while_charging(&env, one),
        stopped_while_charging(&env, two)
    );
    // No try of either charge is on its way any more.
    tokio::time::sleep(temporal_playground::workflows::charge_lookup::SETTLED_AFTER).await;
    let waiting = || async { unconfirmed_charges(&env.client).await.unwrap().terms.len() };
    assert_eq!(waiting().await, 2);
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let finance = sign_in_with(addr, &[("name", "finance"), ("password", PASSWORD)]).await;
    let list = page_text(&finance, &format!("http://{addr}/charges")).await;
    assert!(list.contains("Ask the bank about all 2"), "{list}");
    let confirm = page_text(&finance, &format!("http://{addr}/charges?confirm=1")).await;
    assert!(
        confirm.contains("This will ask the bank about 2 charges"),
        "{confirm}"
    );

    let url = format!("http://{addr}{}", AskBankAll::PATH);
    let questions = || count(&env.client, "WorkflowType = 'ChargeLookup'");
    let support = sign_in_with(addr, &[("name", "support"), ("password", PASSWORD)]).await;
    let refused = support
        .post(&url)
        .form(&[("expected", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let stale = finance
        .post(&url)
        .form(&[("expected", "3")])
        .send()
        .await
        .unwrap();
    assert!(stale.status().is_client_error(), "{}", stale.status());
    let said = stale.text().await.unwrap();
    assert!(said.contains("the list changed"), "{said}");
    assert_eq!(questions().await, 0, "a refused post asked the bank");

    let asked = finance
        .post(&url)
        .header("accept", "text/html")
        .form(&[("expected", "2")])
        .send()
        .await
        .unwrap();
    let to = location(&asked);
    assert_eq!(to, "/charges?asked=2");
    eventually("both answered", Duration::from_secs(30), || async {
        (waiting().await == 0).then_some(())
    })
    .await;
    assert_eq!(questions().await, 2);
    for contract in [one, two] {
        let row = row_of(&env, contract).await;
        assert!(row.contains("The bank took charge"), "{row}");
    }

    // Our CLI does the same: it lists what waits, refuses a count that is not the list's,
    // and asks about each once given the count.
    let three = "lost-C-all3";
    let third = stopped_while_charging(&env, three).await;
    let cli = |args: &[&str]| {
        let mut all = vec!["client", "ask-the-bank-all-charges", "--operator", "fin"];
        all.extend(args);
        ours(&env.server.hostport, &all)
    };
    let (ok, said) = cli(&[]);
    assert!(
        ok && said.contains(&format!("{third} of contract {three}"))
            && said.contains("1 charges wait to be confirmed")
            && said.contains("--expect 1"),
        "{said}"
    );
    let (ok, said) = cli(&["--expect", "2"]);
    assert!(!ok && said.contains("the list changed"), "{said}");
    assert_eq!(questions().await, 2, "a refused count asked the bank");
    // At once, a try may still be on its way: it says so and asks nothing; then it asks.
    let (ok, said) = cli(&["--expect", "1"]);
    assert!(
        ok && said.contains("asked the bank about 0 of 1 charges")
            && said.contains("1 could not be asked now"),
        "{said}"
    );
    tokio::time::sleep(temporal_playground::workflows::charge_lookup::SETTLED_AFTER).await;
    let (ok, said) = cli(&["--expect", "1"]);
    assert!(
        ok && said.contains("asked the bank about 1 of 1 charges"),
        "{said}"
    );
    let row = eventually("the third answered", Duration::from_secs(30), || async {
        let row = row_of(&env, three).await;
        row.contains("The bank took charge").then_some(row)
    })
    .await;
    assert!(row.contains("asked by fin"), "{row}");
}

/// A ChargeLookup started straight in Temporal that gives a statement's entry as the
/// bank's record of the term's charge: what Temporal's CLI said.
fn give_entry_in_temporal(
    env: &TestEnv,
    contract_id: &str,
    term_id: &str,
    import_id: &str,
) -> String {
    let question = serde_json::json!({
        "contract_id": contract_id,
        "term_id": term_id,
        "operator": "ops",
        "statement": {"import_id": import_id, "entry_ref": "B1"},
    });
    question_in_temporal(env, term_id, &question)
}

/// The bank's statement settles a term whose charge had no answer: the import names the
/// entry as that term's charge, and once a second person approves it the term's question
/// checks the entry with the import and the term's own money, and the term reads charged.
/// An entry given from Temporal's CLI before anyone approved, or an import started from
/// outside that books other money for a term, settles nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_bank_statement_settles_a_term_whose_charge_had_no_answer() {
    use temporal_playground::upstream::statement::fixtures;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let hp = env.server.hostport.clone();
    let (booked, forged) = ("lost-C-booked", "lost-C-forged");
    let (term, other_term) = futures::join!(
        stopped_while_charging(&env, booked),
        stopped_while_charging(&env, forged)
    );
    // The statement books the first term's charge (9.99 USD, under the term's key).
    let dir = std::env::temp_dir().join(format!("tp-charges-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stmt.xml");
    std::fs::write(
        &file,
        fixtures::camt053(
            &[
                ("B1", term.as_str(), "9.99", "USD", true),
                ("B2", "fees", "1.00", "USD", false),
            ],
            false,
        ),
    )
    .unwrap();
    let (ok, said) = import_statement(&hp, &file.to_string_lossy(), "ana");
    assert!(ok && said.contains("1 charge_in_doubt"), "{said}");
    assert!(
        said.contains(&format!("{term} of contract {booked}")),
        "{said}"
    );
    let import_id = import_id_in(&said);
    // Before anyone approved it, the entry given from Temporal's CLI settles nothing.
    let early = give_entry_in_temporal(&env, booked, &term, &import_id);
    assert!(
        early.contains("the statement does not settle the charge")
            && early.contains("with a second person's approval"),
        "{early}"
    );
    let row = row_of(&env, booked).await;
    assert!(
        row.starts_with("charge unconfirmed") && row.contains("did not settle it"),
        "{row}"
    );
    // The importer cannot approve it; a second person does.
    let approve = |who: &str| {
        ours(
            &hp,
            &[
                "client",
                "approve-statement",
                "-i",
                &import_id,
                "--operator",
                who,
            ],
        )
    };
    let (ok, said) = approve("ana");
    assert!(
        !ok && said.contains("a second person must approve it"),
        "{said}"
    );
    let (ok, said) = approve("bo");
    assert!(ok, "{said}");
    let row = eventually(
        "the term settled by the statement",
        Duration::from_secs(30),
        || async {
            let row = row_of(&env, booked).await;
            row.starts_with("charged").then_some(row)
        },
    )
    .await;
    assert!(
        row.contains("The bank's statement STMT-2026-12-01 books its charge as entry B1 (approved by bo; asked by bo"),
        "{row}"
    );
    // Its import says so, entry by entry.
    let shown = eventually("the import done", Duration::from_secs(30), || async {
        let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &import_id]);
        (ok && said.contains("1 of 1 charges in doubt given to their terms:")).then_some(said)
    })
    .await;
    assert!(
        shown.contains("charge_in_doubt") && shown.contains("· settled"),
        "{shown}"
    );
    // The console's review shows the entry with its contract, settled.
    let addr = local_dashboard(env.client.clone(), Duration::from_secs(600)).await;
    let finance = sign_in_with(addr, &[("name", "finance"), ("password", PASSWORD)]).await;
    let review = page_text(&finance, &format!("http://{addr}/statements/{import_id}")).await;
    assert!(
        review.contains(&format!("href=\"/contracts/{booked}\""))
            && review.contains("1 of 1 charges in doubt given to their terms")
            && review.contains("data-outcome=\"charge_in_doubt\" data-settled=\"yes\"")
            && review.contains(
                "(a term whose charge had no answer: the approval settles it as charged) · settled"
            )
            && !review.contains("0 of 0 matched orders"),
        "{review}"
    );
    // The contract's trail keeps both: the entry given from Temporal's CLI, and the
    // approver's, given by the import.
    let trail = temporal_playground::operations::audit::contract_changes(&env.client, booked)
        .await
        .unwrap();
    let given: Vec<(&str, &str, &str)> = trail
        .iter()
        .filter(|e| e.action == format!("gave the bank's statement for the charge of {term}"))
        .map(|e| (e.actor.as_str(), e.outcome.as_str(), e.channel.as_str()))
        .collect();
    assert_eq!(given.len(), 2, "{trail:#?}");
    assert_eq!(
        given[0],
        (
            "bo",
            "the bank's statement STMT-2026-12-01 books it as entry B1",
            "worker"
        ),
        "{trail:#?}"
    );
    assert!(
        given[1].0 == "ops"
            && given[1]
                .1
                .starts_with("the statement given does not settle it: the import")
            && given[1].2 == "another client",
        "{trail:#?}"
    );

    // An import started from Temporal's CLI calls an entry of other money the other term's
    // charge; approved by a second person, its question checks the term's own money.
    let start = serde_json::json!({
        "statement_id": "STMT-F", "account": "US-1", "format": "csv",
        "file_name": "forged.csv", "content_hash": "c0c0c0c0", "imported_by": "ana",
        "chunks": 1, "unmentioned": [],
        "first": [{
            "entry": {"index": 1, "entry_ref": "B1", "reference": other_term,
                      "booking_date": "2026-12-01", "credit": true,
                      "amount": {"minor": 100, "currency": "USD", "exponent": 2}},
            "outcome": {"outcome": "charge_in_doubt", "contract_id": forged, "term_id": other_term},
        }],
    });
    let forged_import = "statement-c0c0c0c0";
    raw_start(
        &hp,
        "StatementImport",
        "manual-handle",
        forged_import,
        Some(&start.to_string()),
    );
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "approve-statement",
            "-i",
            forged_import,
            "--operator",
            "bo",
        ],
    );
    assert!(ok, "{said}");
    let row = eventually(
        "the forged entry refused",
        Duration::from_secs(30),
        || async {
            let row = row_of(&env, forged).await;
            row.contains("did not settle it").then_some(row)
        },
    )
    .await;
    assert!(
        row.starts_with("charge unconfirmed")
            && row.contains("the entry books 1.00 USD, the term is for 9.99 USD"),
        "{row}"
    );

    // A statement books the other term's charge too, and the approver leaves it out: the
    // term stays for a person, and its row says the statement booked it and why.
    let file = dir.join("stmt2.xml");
    std::fs::write(
        &file,
        fixtures::camt053(&[("C1", other_term.as_str(), "9.99", "USD", true)], false),
    )
    .unwrap();
    let (ok, said) = import_statement(&hp, &file.to_string_lossy(), "ana");
    assert!(ok && said.contains("1 charge_in_doubt"), "{said}");
    let second = import_id_in(&said);
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "approve-statement",
            "-i",
            &second,
            "--operator",
            "bo",
            "--leave-out",
            "C1",
            "--note",
            "the customer disputes it",
        ],
    );
    assert!(ok, "{said}");
    let row = row_of(&env, forged).await;
    assert!(
        row.starts_with("charge unconfirmed")
            && row.contains(" books 9.99 USD for this term (entry C1, ")
            && row.ends_with("bo left it out of the approval: the customer disputes it."),
        "{row}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// After an outage finance asks the bank about the newest charges in doubt; their terms stay
/// the newest that closed without completing, so a list that read only the newest few
/// showed none of the older ones still in doubt (and said only that more had closed). The
/// list reads on, page after page, past the terms the bank's answers settled.
#[tokio::test(flavor = "multi_thread")]
async fn charges_still_in_doubt_show_behind_the_ones_the_bank_settled() {
    use temporal_playground::operations::contracts::{ask_the_bank, unconfirmed_charges_reading};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    // The older first, then the newer: both stopped while they try, the bank never charged.
    let older = stopped_while_charging(&env, "down-C-older").await;
    // A "term" of the older contract started from Temporal's CLI on a queue nobody polls,
    // then terminated: it never ran, so it is no term of the contract and charged nothing.
    temporal_ok(
        &env,
        &[
            "workflow",
            "start",
            "--type",
            "RecurringPayment",
            "--task-queue",
            "nobody-polls-this",
            "--workflow-id",
            "recurring-down-C-older-phantom",
            "--search-attribute",
            "ContractId=\"down-C-older\"",
        ],
    );
    temporal_ok(
        &env,
        &[
            "workflow",
            "terminate",
            "-w",
            "recurring-down-C-older-phantom",
        ],
    );
    let newer = stopped_while_charging(&env, "down-C-newer").await;
    tokio::time::sleep(temporal_playground::workflows::charge_lookup::SETTLED_AFTER).await;
    let said = ask_the_bank(&env.client, "down-C-newer", &newer, "fin")
        .await
        .unwrap();
    assert!(said.contains("no charge"), "{said}");
    // A page of one holds the newer term, settled: the older is behind it.
    let first = unconfirmed_charges_reading(&env.client, 1, 1)
        .await
        .unwrap();
    assert!(first.terms.is_empty() && first.partial, "{first:?}");
    let list = unconfirmed_charges_reading(&env.client, 1, 5)
        .await
        .unwrap();
    let terms: Vec<&str> = list.terms.iter().map(|t| t.workflow_id.as_str()).collect();
    assert_eq!(terms, [older.as_str()], "{list:?}");
    assert!(!list.partial, "{list:?}");
    // The contract's page lists its one term.
    let run = terms_run(&env.client, "down-C-older", 10).await.unwrap();
    let ids: Vec<&str> = run.iter().map(|t| t.workflow_id.as_str()).collect();
    assert_eq!(ids, [older.as_str()], "{run:?}");
}
