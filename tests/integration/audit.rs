//! The audit trail from Temporal: who did what to orders (their histories, found through
//! the `Actors` search attribute) and contracts (their schedules), on the page's server
//! function and as CSV, for finance and admin only.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::audit::{AuditFilter, AuditPage},
    domain::resolution::ResolveRequest,
    operations::audit::{contract_entries, orders_page},
    operations::orders::{approve, claim, resolve_or_propose},
    upstream::simulator::UpstreamBehaviour,
};

/// A contract of three daily terms of 9.99 USD for ana.
fn daily(id: &str) -> temporal_playground::domain::contract::NewContract {
    temporal_playground::domain::contract::NewContract {
        terms: temporal_playground::domain::contract::ContractTerms {
            contract_id: id.into(),
            customer: "ana".into(),
            plan: "monthly".into(),
            amount_cents: 999,
            currency: "USD".into(),
            until_cancelled: None,
        },
        cadence: temporal_playground::domain::contract::Cadence::Every { seconds: 86_400 },
        time_zone: "Asia/Kuala_Lumpur".into(),
        total_terms: 3,
    }
}

fn paid(operator: &str) -> ResolveRequest {
    ResolveRequest {
        resolution: "paid".into(),
        reason_code: "BANK_CONFIRMED".into(),
        operator: operator.into(),
        note: String::new(),
        operator_id: String::new(),
    }
}

/// Each row of a page of the trail as (who, what, to which order or contract).
fn who_did_what(page: &AuditPage) -> Vec<(&str, &str, &str)> {
    page.entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trail_names_who_did_what_to_each_order_and_contract() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    start_manual(c, "audit-1", "bank-a", "http_503").await;
    start_manual(c, "audit-2", "bank-a", "http_503").await;
    eventually("the orders to settle", Duration::from_secs(30), || async {
        temporal_playground::operations::orders::manual_context(c, "audit-2")
            .await
            .ok()
    })
    .await;
    claim(c, "audit-1", "ana").await.unwrap();
    resolve_or_propose(c, "audit-1", paid("ana")).await.unwrap();
    approve(c, "audit-1", "bo").await.unwrap();
    claim(c, "audit-2", "cy").await.unwrap();
    temporal_playground::operations::contracts::create(
        c,
        daily("C-audit"),
        &Default::default(),
        "fin",
    )
    .await
    .unwrap();
    temporal_playground::operations::contracts::set_paused(
        c,
        "C-audit",
        "fin",
        "customer on holiday",
        true,
    )
    .await
    .unwrap();

    // Everything Ana touched: one visibility query, then the histories it names.
    let ana = AuditFilter {
        actor: "ana".into(),
        ..Default::default()
    };
    let page = eventually("ana's orders visible", Duration::from_secs(10), || async {
        let page = orders_page(c, &ana, None).await.ok()?;
        (page.entries.len() >= 2).then_some(page)
    })
    .await;
    let actions = who_did_what(&page);
    assert!(
        actions.contains(&("ana", "claim", "audit-1")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("ana", "propose paid (BANK_CONFIRMED)", "audit-1")),
        "{actions:?}"
    );
    assert!(
        actions.iter().all(|(who, _, _)| *who == "ana"),
        "{actions:?}"
    );
    assert!(
        page.entries
            .iter()
            .all(|e| !e.at.is_empty() && e.outcome == "done"),
        "{:?}",
        page.entries
    );

    // Everyone, by action: Bo's approval and Cy's claim on another order.
    let approvals = AuditFilter {
        action: "approve".into(),
        ..Default::default()
    };
    let page = eventually("every actor visible", Duration::from_secs(10), || async {
        let page = orders_page(c, &approvals, None).await.ok()?;
        (!page.entries.is_empty()).then_some(page)
    })
    .await;
    assert_eq!(page.entries.len(), 1, "{:?}", page.entries);
    assert_eq!(page.entries[0].actor, "bo");
    let everyone = orders_page(c, &AuditFilter::default(), None).await.unwrap();
    assert!(
        everyone
            .entries
            .iter()
            .any(|e| e.actor == "cy" && e.target == "audit-2")
    );
    // One order's rows, whoever did them: an auditor's "what happened to audit-1".
    let one = AuditFilter {
        target: "audit-1".into(),
        ..Default::default()
    };
    let page = orders_page(c, &one, None).await.unwrap();
    let actions = who_did_what(&page);
    assert!(
        actions.contains(&("ana", "claim", "audit-1"))
            && actions.contains(&("bo", "approve", "audit-1"))
            && actions.iter().all(|(_, _, target)| *target == "audit-1"),
        "{actions:?}"
    );
    // Days outside the trail find nothing.
    let long_ago = AuditFilter {
        until: "2001-01-01".into(),
        ..Default::default()
    };
    assert!(
        orders_page(c, &long_ago, None)
            .await
            .unwrap()
            .entries
            .is_empty()
    );

    // Contracts: every change, dated: created (and what it charges), then paused and why.
    let fin = AuditFilter {
        actor: "fin".into(),
        ..Default::default()
    };
    let contracts = eventually("both contract changes", Duration::from_secs(10), || async {
        let entries = contract_entries(c, &fin).await.ok()?;
        (entries.len() == 2).then_some(entries)
    })
    .await;
    let actions: Vec<&str> = contracts.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"paused: customer on holiday")
            && actions
                .contains(&"created: 9.99 USD a term, every 1d, \"ana\" on \"monthly\", 3 terms"),
        "{contracts:?}"
    );
    assert!(
        contracts
            .iter()
            .all(|e| e.target == "C-audit" && !e.at.is_empty() && e.channel == "command line"),
        "{contracts:?}"
    );

    // The CSV, for finance; support is refused; nobody signed in is sent to sign in.
    let addr = serve_dashboard(c.clone()).await;
    let finance = signed_in(addr, "fin").await;
    let csv = finance
        .get(format!("http://{addr}/audit.csv?actor=ana"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = csv.text().await.unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| {
            l.split("\",\"")
                .map(|f| f.trim_matches('"').to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        text.lines().next(),
        Some("time_utc,actor,action,target,outcome,channel,origin")
    );
    assert!(
        rows.iter().skip(1).all(|r| r.len() == 7 && r[1] == "ana"),
        "{text}"
    );
    assert!(rows.len() >= 3, "{text}");
    // The page and its CSV, for one contract: its changes only, and the lane links there.
    let trail =
        shown_text(&page_text(&finance, &format!("http://{addr}/audit?target=C-audit")).await);
    assert!(
        trail.contains("paused: customer on holiday") && !trail.contains("audit-1"),
        "{trail}"
    );
    let csv = finance
        .get(format!("http://{addr}/audit.csv?target=audit-2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines().skip(1).all(|l| l.contains("\"audit-2\"")) && csv.lines().count() >= 2,
        "{csv}"
    );
    let bad = finance
        .get(format!("http://{addr}/audit.csv?target=audit-1%07"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422, "a control character is no id");
    let lane = page_text(&finance, &format!("http://{addr}/orders/audit-1")).await;
    assert!(lane.contains("href=\"/audit?target=audit-1\""), "{lane}");
    let bad = finance
        .get(format!("http://{addr}/audit.csv?since=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    // In `none` mode a typed name holds every role but admin, finance included; a local
    // support account is refused (the role table in access.rs covers that).
    let anonymous = browser(addr, None)
        .get(format!("http://{addr}/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);

    // The contract's page lists its changes, newest first, to those who read the trail.
    let page = page_text(&finance, &format!("http://{addr}/contracts/C-audit")).await;
    let changes = page
        .split("data-testid=\"changes\"")
        .nth(1)
        .expect("the contract's changes")
        .replace("<!>", "");
    let (paused, created) = (
        changes.find("paused: customer on holiday · done"),
        changes.find("created: 9.99 USD a term, every 1d, \"ana\" on \"monthly\", 3 terms · done"),
    );
    assert!(paused.zip(created).is_some_and(|(p, c)| p < c), "{changes}");
    // Support reads the contract, not who changed it.
    use temporal_playground::{
        domain::access::Role,
        web::auth::accounts::AccountsFile,
        web::auth::{AuthConfig, AuthMode},
        web::state::WebConfig,
    };
    let accounts = std::env::temp_dir().join(format!("tp-audit-accounts-{}.toml", free_port()));
    let mut file = AccountsFile::default();
    let password = "correct horse battery";
    file.add("sup", password, vec![Role::Support]).unwrap();
    file.save(&accounts).unwrap();
    let config = WebConfig {
        auth: AuthConfig {
            mode: AuthMode::Local { accounts },
            ..AuthConfig::default()
        },
        ..WebConfig::default()
    };
    let (local, _) = serve_dashboard_with(c.clone(), config).await;
    let support = sign_in_with(local, &[("name", "sup"), ("password", password)]).await;
    let page = page_text(&support, &format!("http://{local}/contracts/C-audit")).await;
    assert!(
        page.contains("Payment history")
            && !page.contains("data-testid=\"changes\"")
            && !page.contains("customer on holiday · done"),
        "{page}"
    );
}

/// A contract change "recorded" from Temporal's CLI (a ContractChange started with a memo
/// saying fay cancelled the contract, as anyone with the namespace can) is no change: the
/// contract runs on, and its row reads "not confirmed", beside the real changes, which
/// read "done". The record is checked against the contract's own schedule.
#[tokio::test(flavor = "multi_thread")]
async fn a_contract_change_recorded_from_outside_is_shown_as_not_confirmed() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let id = "C-forged-trail";
    temporal_playground::operations::contracts::create(c, daily(id), &Default::default(), "fin")
        .await
        .unwrap();
    temporal_playground::operations::contracts::set_paused(c, id, "fin", "holiday", true)
        .await
        .unwrap();
    temporal_playground::operations::contracts::set_paused(c, id, "fin", "back", false)
        .await
        .unwrap();
    let memo = serde_json::json!({
        "contract_id": id, "action": "cancelled", "operator": "fay",
        "reason": "customer asked", "origin": "temporal-playground-console",
    });
    record_from_temporal(
        &env.server.hostport,
        &format!("contract-change-{id}-forged"),
        &memo,
        &["--search-attribute", "Actors=[\"fay\"]"],
    );
    let entries = eventually(
        "the four rows, settled",
        Duration::from_secs(30),
        || async {
            let entries = contract_entries(c, &AuditFilter::default()).await.ok()?;
            let ours: Vec<_> = entries.into_iter().filter(|e| e.target == id).collect();
            (ours.len() == 4 && ours.iter().all(|e| !e.outcome.contains("yet"))).then_some(ours)
        },
    )
    .await;
    let row = |action: &str| {
        entries
            .iter()
            .find(|e| e.action.starts_with(action))
            .unwrap_or_else(|| panic!("no {action} row: {entries:?}"))
    };
    for action in ["created", "paused: holiday", "resumed: back"] {
        assert_eq!(row(action).outcome, "done", "{entries:?}");
    }
    let forged = row("cancelled");
    assert_eq!(forged.actor, "fay");
    assert!(forged.outcome.starts_with("not confirmed"), "{entries:?}");
    // And the contract was not cancelled.
    let detail = temporal_playground::operations::contracts::detail(c, id)
        .await
        .unwrap();
    assert!(!detail.cancelled && !detail.paused, "{detail:?}");

    // From Temporal's CLI, someone pauses the contract and records it consistently, but
    // says the record came from the console: it is not confirmed. The same record saying
    // where it did come from (the CLI's identity) is, and its row shows that channel.
    let out = temporal(
        &env.server.hostport,
        &[
            "schedule",
            "toggle",
            "--pause",
            "--schedule-id",
            id,
            "--reason",
            "paused by fay: customer asked",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (suffix, origin) in [("console", "tp-console@host:1"), ("cli", "fay-script")] {
        let memo = serde_json::json!({
            "contract_id": id, "action": "paused", "operator": "fay",
            "reason": "customer asked", "origin": origin,
        });
        record_from_temporal(
            &env.server.hostport,
            &format!("contract-change-{id}-{suffix}"),
            &memo,
            &["--identity", "fay-script"],
        );
    }
    let paused = eventually(
        "the two pause rows, settled",
        Duration::from_secs(30),
        || async {
            let entries = contract_entries(c, &AuditFilter::default()).await.ok()?;
            let rows: Vec<_> = entries
                .into_iter()
                .filter(|e| e.target == id && e.action == "paused: customer asked")
                .collect();
            (rows.len() == 2 && rows.iter().all(|e| !e.outcome.contains("yet"))).then_some(rows)
        },
    )
    .await;
    let by = |origin: &str| {
        paused
            .iter()
            .find(|e| e.origin == origin)
            .unwrap_or_else(|| panic!("no row from {origin}: {paused:?}"))
    };
    assert!(
        by("tp-console@host:1").outcome.starts_with("not confirmed"),
        "{paused:?}"
    );
    let honest = by("fay-script");
    assert!(
        honest.outcome == "done" && honest.channel == "another client",
        "{paused:?}"
    );

    // Deleted from Temporal's CLI (this console never deletes a schedule): the trail says
    // it is gone and that nothing records who deleted it.
    let out = temporal(
        &env.server.hostport,
        &["schedule", "delete", "--schedule-id", id],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = contract_entries(c, &AuditFilter::default()).await.unwrap();
    assert!(
        entries.iter().any(|e| e.target == id
            && e.action == temporal_playground::operations::audit::DELETED_OUTSIDE
            && e.outcome == "not recorded"),
        "{entries:?}"
    );
}

/// A settlement signal's row says what became of it, read from the order's own check in
/// the committed histories: settled when its import confirmed it, not settled when the
/// import it names did not (a forged one), and "received" from before orders checked.
#[test]
fn a_settlement_row_says_whether_its_import_confirmed_it() {
    use temporalio_common::protos::temporal::api::history::v1::History;
    let outcome = |file: &str| {
        let path = format!(
            "{}/tests/integration/histories/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let json = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let history: History = serde_json::from_slice(&json).expect("a history");
        let entries = temporal_playground::operations::audit::entries_of("o", &history.events);
        let settlements: Vec<String> = entries
            .iter()
            .filter(|e| e.action.starts_with("settle paid by statement"))
            .map(|e| e.outcome.clone())
            .collect();
        assert_eq!(settlements.len(), 1, "{file}: {entries:?}");
        settlements[0].clone()
    };
    for file in [
        "manual_handle_settlement_checked.json",
        "stale_order_settlement_checked.json",
    ] {
        assert_eq!(outcome(file), "settled: its import confirmed it", "{file}");
    }
    for file in [
        "manual_handle_settlement_refused.json",
        "stale_order_settlement_refused.json",
    ] {
        assert_eq!(
            outcome(file),
            "not settled: the import it names did not confirm it",
            "{file}"
        );
    }
    assert_eq!(
        outcome("manual_handle_settled_by_statement.json"),
        "received"
    );
}

/// The trail reads the newest hundred statement imports (and so many contract changes and
/// questions) once, then filters them by day: an auditor asking for an earlier month, with
/// a hundred imports since, saw none of that month's and was not told. Each list now reads
/// within the filter's days, and the page and the CSV say when a list holds more than the
/// trail shows.
#[tokio::test(flavor = "multi_thread")]
async fn the_trail_says_when_a_list_holds_more_than_it_shows() {
    use temporal_playground::operations::audit::{IMPORTS_READ, lists_cut, statement_entries};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let total = IMPORTS_READ as usize + 5;
    for i in 0..total {
        let start = serde_json::json!({
            "statement_id": format!("S-{i}"), "account": "", "format": "csv",
            "file_name": format!("s{i}.csv"), "content_hash": format!("{i:04x}"),
            "imported_by": "mallory", "chunks": 1, "first": [], "unmentioned": [],
        })
        .to_string();
        raw_start(
            &hp,
            "StatementImport",
            "manual-handle",
            &format!("statement-ab{i:04x}"),
            Some(&start),
        );
    }
    let mallory = AuditFilter {
        actor: "mallory".into(),
        ..Default::default()
    };
    let said = format!(
        "{total} statement imports match; the trail shows the newest {IMPORTS_READ}: \
         narrow the days to see the rest"
    );
    let cut = eventually("every import listed", Duration::from_secs(60), || async {
        let cut = lists_cut(c, &mallory).await.ok()?;
        (cut == [said.clone()]).then_some(cut)
    })
    .await;
    let rows = statement_entries(c, &mallory).await.unwrap();
    assert_eq!(rows.len(), IMPORTS_READ as usize);
    // Days before any of them: no rows, and nothing cut.
    let before = AuditFilter {
        until: "2026-01-01".into(),
        ..mallory.clone()
    };
    assert!(lists_cut(c, &before).await.unwrap().is_empty());
    assert!(statement_entries(c, &before).await.unwrap().is_empty());
    // The page and the CSV say so.
    let addr = serve_dashboard(c.clone()).await;
    let finance = signed_in(addr, "fin").await;
    let page = page_text(&finance, &format!("http://{addr}/audit?actor=mallory")).await;
    assert!(page.contains(&cut[0]), "{page}");
    let csv = page_text(&finance, &format!("http://{addr}/audit.csv?actor=mallory")).await;
    assert!(csv.contains(&format!("\"({})\"", cut[0])), "{csv}");
}
