//! The bank's statement settles the queue: imported from the CLI, matched entry by entry,
//! applied only when a second person approves, each order through its own workflow with
//! the entry as evidence. The same file twice is one import; bad files change nothing.

use crate::support::*;
use std::{process::Command, time::Duration};
use temporal_playground::{
    domain::money::Money,
    domain::order::Resolution,
    operations::orders::{manual_context, stale_status, start_order},
    upstream::simulator::{Script, UpstreamBehaviour},
    upstream::statement::fixtures,
};

fn myr(minor: i64) -> Option<Money> {
    Some(Money {
        minor,
        currency: "MYR".into(),
        exponent: 2,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_settles_what_it_matches_once_a_second_person_approves() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let (matched, short, silent, stale, done) = (
        Script::Down.id("st-a"),
        Script::Down.id("st-b"),
        Script::Down.id("st-c"),
        Script::Down.id("st-d"),
        Script::Paid.id("st-e"),
    );
    for (id, amount, wait) in [
        (&matched, 1_250, 1),
        (&short, 2_000, 1),
        (&silent, 500, 1),
        (&stale, 1_200, 3_600),
        (&done, 700, 1),
    ] {
        let mut o = order(id, fast_policy(1, wait));
        o.amount = myr(amount);
        start_order(c, o).await.unwrap();
    }
    for id in [&matched, &short, &silent] {
        eventually(
            "the order in the queue",
            Duration::from_secs(30),
            || async { manual_context(c, id).await.ok() },
        )
        .await;
    }
    eventually("the stale order", Duration::from_secs(30), || async {
        stale_status(c, &stale).await.ok()
    })
    .await;
    assert_resolved(c, &done, Resolution::Paid).await;
    // The queue's attributes are visible before the match reads them.
    eventually("four waiting", Duration::from_secs(15), || async {
        (count(
            c,
            "ExecutionStatus = 'Running' AND (WorkflowType = 'ManualHandle' OR WorkflowType = 'StaleOrder') AND OrderCurrency = 'MYR'",
        )
        .await
            == 4)
            .then_some(())
    })
    .await;

    let dir = std::env::temp_dir().join(format!("tp-statements-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stmt.xml");
    std::fs::write(
        &file,
        fixtures::camt053(
            &[
                ("B1", matched.as_str(), "12.50", "MYR", true),
                ("B2", short.as_str(), "25.00", "MYR", true),
                ("B3", stale.as_str(), "12.00", "MYR", true),
                ("B4", done.as_str(), "7.00", "MYR", true),
                ("B5", "ORD-NOBODY-KNOWS", "3.00", "MYR", true),
                ("B6", "fees", "1.00", "MYR", false),
            ],
            false,
        ),
    )
    .unwrap();
    let path = file.to_string_lossy().to_string();

    // A broken file is refused with its place, before anything starts.
    let broken = dir.join("broken.xml");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("</AcctSvcrRef>", "</Oops>"),
    )
    .unwrap();
    let (ok, said) = import_statement(&hp, &broken.to_string_lossy(), "ana");
    assert!(!ok && said.contains("line 1, column"), "{said}");
    assert_eq!(count(c, "WorkflowType = 'StatementImport'").await, 0);

    let (ok, said) = ours(
        &hp,
        &["client", "import-statement", &path, "--operator", "ana"],
    );
    assert!(ok, "{said}");
    let import_id = import_id_in(&said);
    for word in [
        "2 matched",
        "1 amount_mismatch",
        "1 unknown_order",
        "1 already_resolved",
        "1 debit",
        "awaits a second person's approval",
    ] {
        assert!(said.contains(word), "{word}: {said}");
    }
    // Stale and queued orders are both matched (B3 is the stale one).
    // The same file again is the same import.
    let (ok, again) = ours(
        &hp,
        &["client", "import-statement", &path, "--operator", "cy"],
    );
    assert!(ok && again.contains(&import_id), "{again}");
    assert!(
        again.contains("imported by ana"),
        "the first import stands: {again}"
    );
    eventually("one import", Duration::from_secs(10), || async {
        (count(c, "WorkflowType = 'StatementImport'").await == 1).then_some(())
    })
    .await;
    // Nothing is applied before approval.
    assert_eq!(env.upstream.stats().conclusions, 0);

    // The importer cannot approve their own import, from any client.
    let (ok, said) = approve_statement(&hp, &import_id, "ana");
    assert!(!ok && said.contains("second person"), "{said}");
    // A forged settlement signal naming one person twice is ignored by the order.
    let forged = serde_json::json!({
        "evidence": {"statement_id": "X", "import_id": "statement-00", "entry_ref": "F1",
                     "booking_date": "2026-12-01",
                     "amount": {"minor": 2000, "currency": "MYR", "exponent": 2}},
        "imported_by": {"operator": "mallory", "at": ""},
        "approved_by": {"operator": "mallory", "at": ""},
    });
    forge_settlement(&hp, &format!("manual-{short}"), &forged);
    let (ok, said) = approve_statement(&hp, &import_id, "bo");
    assert!(ok, "{said}");
    for id in [&matched, &stale] {
        assert_resolved(c, id, Resolution::Paid).await;
        let record = match id == &stale {
            true => stale_status(c, id).await.unwrap().resolution,
            false => manual_context(c, id).await.unwrap().resolution,
        }
        .expect("the resolution");
        let evidence = record.evidence.clone().expect("the entry as evidence");
        assert_eq!(evidence.statement_id, "STMT-2026-12-01");
        assert_eq!(evidence.import_id, import_id);
        assert_eq!(record.resolved_by, "ana");
        assert_eq!(record.approved_by.map(|a| a.operator), Some("bo".into()));
        assert_eq!(record.reason_code, "STATEMENT");
    }
    // Settlements sent straight to orders from Temporal's own CLI, naming the two people
    // and the real, approved import: each order asks the import, which matched neither of
    // them with that entry, and settles nothing. One more names an import that does not
    // exist, sent to a stale order.
    let waiting = Script::Down.id("st-f");
    let mut o = order(&waiting, fast_policy(1, 3_600));
    o.amount = myr(900);
    start_order(c, o).await.unwrap();
    eventually("the other stale order", Duration::from_secs(30), || async {
        stale_status(c, &waiting).await.ok()
    })
    .await;
    let claimed = |import: &str, entry: &str, amount: &str| {
        serde_json::json!({
            "evidence": {"statement_id": "STMT-2026-12-01", "import_id": import,
                         "entry_ref": entry, "booking_date": "2026-12-01",
                         "amount": {"minor": amount.replace('.', "").parse::<i64>().unwrap(),
                                    "currency": "MYR", "exponent": 2}},
            "imported_by": {"operator": "ana", "at": ""},
            "approved_by": {"operator": "bo", "at": ""},
        })
    };
    for (workflow_id, settlement) in [
        (
            format!("manual-{silent}"),
            claimed(&import_id, "B1", "12.50"),
        ),
        (
            format!("manual-{short}"),
            claimed(&import_id, "B2", "25.00"),
        ),
        (
            format!("stale-{waiting}"),
            claimed("statement-00", "F1", "9.00"),
        ),
    ] {
        forge_settlement(&hp, &workflow_id, &settlement);
        // The order acted on it: asked the import (a check, an activity in its history),
        // or, were it to take the signal's word, concluded it with the bank (another).
        eventually("the order's answer", Duration::from_secs(30), || async {
            let history = c
                .get_workflow_handle::<temporalio_client::UntypedWorkflow>(workflow_id.clone())
                .fetch_history(Default::default())
                .to_json()
                .await
                .ok()?;
            String::from_utf8_lossy(&history)
                .contains("ActivityTaskCompletedEventAttributes")
                .then_some(())
        })
        .await;
    }
    for id in [&silent, &short] {
        let context = manual_context(c, id).await.unwrap();
        assert!(
            context.resolution.is_none(),
            "{id} settled by a forged signal"
        );
    }
    let still = stale_status(c, &waiting).await.unwrap();
    assert!(still.resolution.is_none(), "{still:?}");
    assert!(
        still.next_retry_at.is_some(),
        "the stale order still waits on its timer: {still:?}"
    );

    // The audit trail: each settlement is the approver's act, naming the statement, the
    // entry and the importer; the forged signal is nobody's it names.
    use temporal_playground::{domain::audit::AuditFilter, operations::audit::orders_page};
    let person = |name: &str| AuditFilter {
        actor: name.into(),
        ..Default::default()
    };
    let page = eventually(
        "bo's settlements in the trail",
        Duration::from_secs(15),
        || async {
            let page = orders_page(c, &person("bo"), None).await.ok()?;
            (page.entries.len() >= 2).then_some(page)
        },
    )
    .await;
    for id in [&matched, &stale] {
        assert!(
            page.entries.iter().any(|e| e.target == *id
                && e.actor == "bo"
                && e.channel == "statement import"
                && e.outcome == "settled: its import confirmed it"
                && e.origin == import_id
                && e.action
                    .starts_with("settle paid by statement STMT-2026-12-01 entry ")
                && e.action.ends_with(&format!(
                    "(import {import_id}, imported by ana, approved by bo)"
                ))),
            "{id}: {:?}",
            page.entries
        );
    }
    assert!(
        orders_page(c, &person("mallory"), None)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    // The forged settlements that settled nothing are in the trail, though no person has
    // acted on those orders: each under the client that sent it, on the `signal` channel
    // (not under bo, whom they name).
    let signals = AuditFilter {
        actor: "signal".into(),
        ..Default::default()
    };
    let refused = eventually(
        "the forged settlements in the trail",
        Duration::from_secs(15),
        || async {
            let page = orders_page(c, &signals, None).await.ok()?;
            let rows: Vec<_> = page
                .entries
                .into_iter()
                .filter(|e| e.action.starts_with("settle paid by statement STMT-"))
                .collect();
            (rows.len() == 3).then_some(rows)
        },
    )
    .await;
    for id in [&silent, &short, &waiting] {
        assert!(
            refused.iter().any(|e| e.target == *id
                && e.channel == "signal"
                && e.actor.starts_with("temporal-cli")
                && e.outcome.starts_with("not settled")),
            "{id}: {refused:?}"
        );
    }
    assert!(
        !orders_page(c, &person("bo"), None)
            .await
            .unwrap()
            .entries
            .iter()
            .any(|e| [&silent, &short, &waiting].contains(&&e.target)),
        "a forged settlement is not bo's"
    );
    // The mismatch, the silent one and the forged one wait for a person.
    for id in [&short, &silent] {
        let context = manual_context(c, id).await.unwrap();
        assert!(context.resolution.is_none(), "{id}");
    }
    assert_eq!(
        env.upstream.stats().distinct_conclusions,
        2,
        "the two settled, concluded once each"
    );
    let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &import_id]);
    assert!(
        ok && said.contains("approved by bo") && said.contains("2 of 2"),
        "{said}"
    );
    // Approving again changes nothing.
    let (ok, said) = approve_statement(&hp, &import_id, "cy");
    assert!(!ok && said.contains("already"), "{said}");
    // The same file after the import has ended is still the same import.
    let (ok, again) = ours(
        &hp,
        &["client", "import-statement", &path, "--operator", "cy"],
    );
    assert!(
        ok && again.contains(&import_id) && again.contains("approved by bo"),
        "{again}"
    );
    assert_eq!(count(c, "WorkflowType = 'StatementImport'").await, 1);
    // The lane shows the bank's record that settled the order.
    let addr = serve_dashboard(c.clone()).await;
    let lane = signed_in(addr, "sup")
        .await
        .get(format!("http://{addr}/orders/{matched}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        lane.contains("data-testid=\"evidence\"")
            && lane.contains("STMT-2026-12-01")
            && lane.contains("B1"),
        "the lane names the statement entry"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The other formats through the CLI: an MT940 and a CSV report match the same way, a
/// camt.054 notification too; a rejected import applies nothing.
#[tokio::test(flavor = "multi_thread")]
async fn mt940_csv_and_camt054_match_alike_and_a_rejected_import_applies_nothing() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let id = Script::Down.id("fmt-a");
    waiting_in_myr(c, &[&id], 1_250).await;
    let dir = std::env::temp_dir().join(format!("tp-formats-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let camt054 = fixtures::camt053(&[("N1", id.as_str(), "12.50", "MYR", true)], false)
        .replace("camt.053.001.08", "camt.054.001.08")
        .replace("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn")
        .replace("<Stmt>", "<Ntfctn>")
        .replace("</Stmt>", "</Ntfctn>");
    for (name, text, format) in [
        (
            "s.sta",
            fixtures::mt940(&[("M1", id.as_str(), "12.50", true)]),
            "mt940",
        ),
        (
            "s.csv",
            format!(
                "booking_date,reference,amount,currency,credit_debit,entry_ref\n2026-12-01,payment {id},12.50,MYR,C,C1\n"
            ),
            "csv",
        ),
        ("n.xml", camt054, "camt054"),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let (ok, said) = ours(
            &hp,
            &[
                "client",
                "import-statement",
                &file.to_string_lossy(),
                "--format",
                format,
                "--operator",
                "ana",
            ],
        );
        assert!(ok, "{format}: {said}");
        assert!(
            said.contains("1 matched") && said.contains(&id),
            "{format}: {said}"
        );
        if format == "csv" {
            // A CSV report names no statement: its file does.
            assert!(said.contains("statement \"s.csv\" (csv"), "{said}");
        }
        let import_id = import_id_in(&said);
        let (ok, said) = ours(
            &hp,
            &[
                "client",
                "reject-statement",
                "-i",
                &import_id,
                "--operator",
                "bo",
                "--note",
                " ",
            ],
        );
        assert!(!ok && said.contains("say why"), "{said}");
        let (ok, said) = ours(
            &hp,
            &[
                "client",
                "reject-statement",
                "-i",
                &import_id,
                "--operator",
                "bo",
                "--note",
                "wrong account",
            ],
        );
        assert!(
            ok && said.contains("rejected by bo")
                && said.contains("the file can be imported again for a fresh review"),
            "{said}"
        );
    }
    assert!(manual_context(c, &id).await.unwrap().resolution.is_none());
    assert_eq!(
        env.upstream.stats().conclusions,
        0,
        "a rejected import applies nothing"
    );
    // A rejected import applied nothing, so its file can be imported again: reviewed afresh
    // and decided by a second person once more.
    let csv = dir.join("s.csv").to_string_lossy().to_string();
    let (ok, said) = ours(
        &hp,
        &["client", "import-statement", &csv, "--operator", "cy"],
    );
    assert!(
        ok && said.contains("1 matched")
            && said.contains("imported by cy")
            && said.contains("awaits a second person's approval"),
        "{said}"
    );
    // The new review says why the file was rejected before, and by whom.
    assert!(said.contains("imported before (newest first):"), "{said}");
    let earlier: Vec<&str> = said
        .lines()
        .filter(|l| l.trim_start().starts_with("imported by ana at "))
        .collect();
    assert!(
        earlier.len() == 1
            && earlier
                .iter()
                .all(|l| l.contains("; rejected by bo at ") && l.ends_with(": wrong account")),
        "{said}"
    );
    let again = import_id_in(&said);
    let (ok, said) = approve_statement(&hp, &again, "cy");
    assert!(
        !ok && said.contains("a second person must approve it"),
        "{said}"
    );
    let (ok, said) = approve_statement(&hp, &again, "bo");
    assert!(ok, "{said}");
    assert_resolved(c, &id, Resolution::Paid).await;
    // Approved, the same file is the same import: never applied twice.
    let (ok, said) = ours(
        &hp,
        &["client", "import-statement", &csv, "--operator", "dee"],
    );
    assert!(
        ok && said.contains("approved by bo") && !said.contains("imported by dee"),
        "{said}"
    );
    // The trail lists each rejection under its decider, with why, and the approval.
    let by_bo = temporal_playground::operations::audit::statement_entries(
        c,
        &temporal_playground::domain::audit::AuditFilter {
            actor: "bo".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let rejected = by_bo
        .iter()
        .filter(|e| {
            e.action.starts_with("reject statement") && e.action.ends_with(": wrong account")
        })
        .count();
    assert_eq!(rejected, 3, "{by_bo:#?}");
    assert!(
        by_bo
            .iter()
            .any(|e| e.action.starts_with("approve statement") && e.target == again),
        "{by_bo:#?}"
    );
    let listed = temporal_playground::operations::statements::recent(c)
        .await
        .unwrap();
    let rows: Vec<&str> = listed
        .iter()
        .filter(|r| r.import_id == again)
        .map(|r| r.standing.as_str())
        .collect();
    assert_eq!(
        rows,
        ["approved by bo (imported again after an earlier run was stopped or rejected)"]
    );
    // A format named wrongly is refused with what was expected.
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "import-statement",
            &dir.join("s.csv").to_string_lossy(),
            "--format",
            "camt053",
            "--operator",
            "ana",
        ],
    );
    assert!(!ok && said.contains("camt053"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An import stopped from Temporal's CLI before anyone approved it approved nothing, so the
/// bank's file can be imported again: the new import waits for its approver and settles what
/// it matches. Before, the same file was refused for good (one id per file, never reused)
/// and the import shown could only say it had ended.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_whose_import_was_terminated_from_outside_can_be_imported_again() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let id = Script::Down.id("again");
    waiting_in_myr(c, &[&id], 1_250).await;
    let dir = std::env::temp_dir().join(format!("tp-again-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("again.csv");
    std::fs::write(
        &file,
        format!(
            "booking_date,reference,amount,currency,credit_debit,entry_ref\n2026-12-01,payment {id},12.50,MYR,C,A1\n"
        ),
    )
    .unwrap();
    let import = |who: &str| import_statement(&hp, &file.to_string_lossy(), who);
    let (ok, said) = import("ana");
    assert!(ok && said.contains("1 matched"), "{said}");
    let import_id = import_id_in(&said);
    let out = temporal(
        &hp,
        &[
            "workflow",
            "terminate",
            "-w",
            &import_id,
            "--reason",
            "cleaning up",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let terminated = format!("WorkflowId = '{import_id}' AND ExecutionStatus = 'Terminated'");
    eventually(
        "the import listed as terminated",
        Duration::from_secs(15),
        || async { (count(c, &terminated).await == 1).then_some(()) },
    )
    .await;

    // Read or approved, it says how it was stopped and what to do, not that it is missing.
    let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &import_id]);
    assert!(
        ok && said.contains("was terminated outside the console")
            && !said.contains("awaits a second person")
            && said.contains("cleaning up")
            && said.contains("Import the file again"),
        "{said}"
    );
    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let approver = sign_in_with(addr, &[("name", "approver"), ("password", PASSWORD)]).await;
    let page = page_text(&approver, &format!("http://{addr}/statements/{import_id}")).await;
    assert!(
        page.contains("was terminated outside the console")
            && page.contains("cleaning up")
            && !page.contains("awaits a second person")
            && !page.contains("Approve and settle"),
        "{page}"
    );
    let (ok, said) = approve_statement(&hp, &import_id, "bo");
    assert!(
        !ok && said.contains("was terminated outside the console"),
        "{said}"
    );
    assert!(manual_context(c, &id).await.unwrap().resolution.is_none());
    let unknown = format!("statement-{}", "ab".repeat(32));
    let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &unknown]);
    assert!(!ok && said.contains("no statement import"), "{said}");

    // The same file again is a new import of it, awaiting a second person.
    let (ok, said) = import("ana");
    assert!(ok && said.contains("1 matched"), "{said}");
    assert_eq!(import_id_in(&said), import_id, "one id per file");
    let (ok, said) = approve_statement(&hp, &import_id, "ana");
    assert!(!ok, "the importer cannot approve: {said}");
    let (ok, said) = approve_statement(&hp, &import_id, "bo");
    assert!(ok, "{said}");
    assert_resolved(c, &id, Resolution::Paid).await;
    assert_eq!(env.upstream.conclusion_of(&id).as_deref(), Some("paid"));

    // Once decided, the file is one import for good: importing it again shows that import
    // and starts nothing.
    let (ok, said) = import("cy");
    assert!(ok, "{said}");
    let runs = format!("WorkflowId = '{import_id}'");
    assert_eq!(
        count(c, &runs).await,
        2,
        "the terminated run and the approved one"
    );
    let (ok, said) = approve_statement(&hp, &import_id, "dee");
    assert!(!ok, "approved once: {said}");
    // Its review says how the earlier run ended, on the page and in the terminal.
    let review = page_text(&approver, &format!("http://{addr}/statements/{import_id}")).await;
    assert!(
        review.contains("Imported before") && review.contains("terminated outside the console at"),
        "{review}"
    );
    let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &import_id]);
    assert!(
        ok && said.contains("imported by ana at ")
            && said.contains("; terminated outside the console at "),
        "{said}"
    );
    // The statements page lists the file once, as its latest run stands.
    let list = page_text(&approver, &format!("http://{addr}/statements")).await;
    assert_eq!(
        list.matches(&format!("/statements/{import_id}\"")).count(),
        1,
        "{list}"
    );
    assert!(
        list.contains("imported again after an earlier run was stopped"),
        "{list}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A payment the bank reverses in the same statement (MT940's `RC`, written as a bank
/// writes it) is not matched, and money back from an earlier debit (`RD`) naming an order
/// is not its payment: the approval settles neither, only the plain credit beside them.
/// A settlement sent straight to the reversed order from Temporal's CLI, naming the real
/// import and both people, is refused by the import's answer.
#[tokio::test(flavor = "multi_thread")]
async fn a_payment_the_statement_reverses_is_settled_by_no_approval() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let (reversed, returned, paid) = (
        Script::Down.id("rv-a"),
        Script::Down.id("rv-b"),
        Script::Down.id("rv-c"),
    );
    waiting_in_myr(c, &[&reversed, &returned, &paid], 1_250).await;
    let text = format!(
        ":20:STMT-RV-1\r\n:25:MY00TEST0001\r\n:28C:1/1\r\n:60F:C261201MYR1000,00\r\n\
         :61:2612011201C12,50NTRF{reversed}//R1\r\n:86:order {reversed}\r\n\
         :61:2612011201RC12,50NRTI{reversed}//R2\r\n:86:returned {reversed}\r\n\
         :61:2612011201RD12,50NMSC{returned}//R3\r\n:86:refund {returned}\r\n\
         :61:2612011201C12,50NTRF{paid}//R4\r\n:86:order {paid}\r\n\
         :62F:C261201MYR1025,00\r\n"
    );
    let dir = std::env::temp_dir().join(format!("tp-reversals-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("reversals.sta");
    std::fs::write(&file, text).unwrap();
    let (ok, said) = import_statement(&hp, &file.to_string_lossy(), "ana");
    assert!(ok, "{said}");
    for word in ["1 matched", "1 reversed", "2 reversal"] {
        assert!(said.contains(word), "{word}: {said}");
    }
    let import_id = import_id_in(&said);
    let (ok, said) = approve_statement(&hp, &import_id, "bo");
    assert!(ok, "{said}");
    assert_resolved(c, &paid, Resolution::Paid).await;
    // From outside: the reversed credit, claimed as the approved import's settlement.
    let workflow_id = format!("manual-{reversed}");
    let forged = serde_json::json!({
        "evidence": {"statement_id": "STMT-RV-1", "import_id": import_id,
                     "entry_ref": "R1", "booking_date": "2026-12-01",
                     "amount": {"minor": 1250, "currency": "MYR", "exponent": 2}},
        "imported_by": {"operator": "ana", "at": ""},
        "approved_by": {"operator": "bo", "at": ""},
    });
    forge_settlement(&hp, &workflow_id, &forged);
    eventually("the import's answer", Duration::from_secs(30), || async {
        settlement_check(c, &workflow_id)
            .await
            .filter(|(_, answered)| *answered)
    })
    .await;
    for id in [&reversed, &returned] {
        let context = manual_context(c, id).await.unwrap();
        assert!(context.resolution.is_none(), "{id} settled: {context:?}");
    }
    assert_eq!(
        env.upstream.stats().conclusions,
        1,
        "only the plain credit is concluded with the bank"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A forged settlement naming an "import" that could never answer (a workflow with an
/// import's id on a task queue no worker polls, or on ours with no statement in it, started
/// from Temporal's CLI) is a no at once: the check sees it is no import of ours, or one
/// that never ran, instead of asking it, 30 s a try, twenty times, while the order's real
/// settlements wait behind it. Neither order is settled by
/// it, and a person's resolution and retry are taken as ever.
#[tokio::test(flavor = "multi_thread")]
async fn a_settlement_naming_no_import_of_ours_is_answered_no_at_once() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let queued = Script::Down.id("hung-q");
    start_manual(c, &queued, "bank-a", "http_503").await;
    // Two 503s use up QueryOrder's two tries; the stale retry is then paid.
    let stale = "flaky2-hung-s";
    start_order(c, order(stale, fast_policy(2, 3_600)))
        .await
        .unwrap();
    eventually("both orders waiting", Duration::from_secs(60), || async {
        manual_context(c, &queued).await.ok()?;
        stale_status(c, stale).await.ok()
    })
    .await;
    // Two "imports" started from Temporal's CLI: one on a queue nobody polls, one on ours
    // with no statement in it (our code fails on it, task after task).
    let (unpolled, broken) = ("statement-dead0001", "statement-dead0002");
    for (import_id, queue) in [(unpolled, "nobody-polls-this"), (broken, "manual-handle")] {
        raw_start(&hp, "StatementImport", queue, import_id, None);
    }
    let forged = |import_id: &str| {
        serde_json::json!({
            "evidence": {"statement_id": "STMT-X", "import_id": import_id, "entry_ref": "E1",
                         "booking_date": "2026-12-01",
                         "amount": {"minor": 2000, "currency": "MYR", "exponent": 2}},
            "imported_by": {"operator": "ana", "at": ""},
            "approved_by": {"operator": "bo", "at": ""},
        })
    };
    let (manual_wf, stale_wf) = (format!("manual-{queued}"), format!("stale-{stale}"));
    for (workflow_id, import_id) in [(&manual_wf, unpolled), (&stale_wf, broken)] {
        forge_settlement(&hp, workflow_id, &forged(import_id));
        eventually("the check to answer", Duration::from_secs(20), || async {
            let (asked, answered) = settlement_check(c, workflow_id).await?;
            (asked && answered).then_some(())
        })
        .await;
    }

    // A person resolves the queued order (failed needs no second person), from our CLI.
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "resolve",
            "-o",
            &queued,
            "--resolution",
            "failed",
            "--reason",
            "BANK_CONFIRMED",
            "--operator",
            "cy",
        ],
    );
    assert!(ok, "{said}");
    // And retries the stale one now.
    temporal_playground::operations::orders::retry_now(c, stale, "cy")
        .await
        .unwrap();
    assert_resolved(c, &queued, Resolution::Failed).await;
    assert_resolved(c, stale, Resolution::Paid).await;
    let record = manual_context(c, &queued)
        .await
        .unwrap()
        .resolution
        .expect("the person's resolution");
    assert_eq!(record.resolved_by, "cy");
    assert!(record.evidence.is_none(), "{record:?}");
    // The trail says the forged settlement settled nothing.
    use temporal_playground::{domain::audit::AuditFilter, operations::audit::orders_page};
    eventually(
        "the forged row's outcome",
        Duration::from_secs(30),
        || async {
            let page = orders_page(c, &AuditFilter::default(), None).await.ok()?;
            page.entries
                .iter()
                .any(|e| {
                    e.target == queued
                        && e.action.starts_with("settle paid by statement STMT-X")
                        && e.outcome == "not settled: the import it names did not confirm it"
                })
                .then_some(())
        },
    )
    .await;
}

/// An import started from Temporal's CLI, not from a file, can call any entry "matched":
/// here one of 1.00 MYR and one of 20.00 USD to two orders of 20.00 MYR. A second person
/// approving it reads "matched" and cannot see the orders' money, so each order holds the
/// entry's money to its own before it settles: those two wait for a person, with the
/// reason in the trail, while the entry that is the order's money settles its order.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_matching_other_money_to_an_order_settles_nothing() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let (short, other, fair) = (
        Script::Down.id("fm-a"),
        Script::Down.id("fm-b"),
        Script::Down.id("fm-c"),
    );
    // The bank refuses the conclusion of the fifth: settled by the import, it comes back.
    let refused = Script::RefuseConclusions(1).id("fm-e");
    waiting_in_myr(c, &[&short, &other, &fair, &refused], 2_000).await;
    // And one waiting out its stale stage (two 503s use up QueryOrder's two tries).
    let stale = "flaky2-fm-d";
    let mut o = order(stale, fast_policy(2, 3_600));
    o.amount = myr(2_000);
    start_order(c, o).await.unwrap();
    eventually("the stale order", Duration::from_secs(60), || async {
        stale_status(c, stale).await.ok()
    })
    .await;
    let entry = |index: u32, order_id: &str, minor: i64, currency: &str| {
        let stage = match order_id == stale {
            true => "stale",
            false => "manual",
        };
        serde_json::json!({
            "entry": {"index": index, "entry_ref": format!("E{index}"), "reference": order_id,
                      "booking_date": "2026-12-01", "credit": true,
                      "amount": {"minor": minor, "currency": currency, "exponent": 2}},
            "outcome": {"outcome": "matched", "order_id": order_id, "stage": stage},
        })
    };
    let import_id = "statement-f0f0f0f0";
    let start = serde_json::json!({
        "statement_id": "STMT-F", "account": "MY-1", "format": "csv",
        "file_name": "forged.csv", "content_hash": "f0f0f0f0", "imported_by": "ana",
        "chunks": 1, "unmentioned": [],
        "first": [entry(1, &short, 100, "MYR"), entry(2, &other, 2_000, "USD"),
                  entry(3, &fair, 2_000, "MYR"), entry(4, stale, 500, "MYR"),
                  entry(5, &refused, 2_000, "MYR")],
    });
    raw_start(
        &hp,
        "StatementImport",
        "manual-handle",
        import_id,
        Some(&start.to_string()),
    );
    let (ok, said) = approve_statement(&hp, import_id, "bo");
    assert!(ok, "{said}");
    assert_resolved(c, &fair, Resolution::Paid).await;
    eventually(
        "the bank's refusal of the fifth",
        Duration::from_secs(30),
        || async { manual_context(c, &refused).await.ok()?.refused },
    )
    .await;
    for id in [&short, &other] {
        let workflow_id = format!("manual-{id}");
        eventually("the check to answer", Duration::from_secs(30), || async {
            let (asked, answered) = settlement_check(c, &workflow_id).await?;
            (asked && answered).then_some(())
        })
        .await;
        let context = manual_context(c, id).await.unwrap();
        assert!(
            context.resolution.is_none(),
            "{id} settled by an entry of other money: {:?}",
            context.resolution
        );
    }
    let stale_wf = format!("stale-{stale}");
    eventually(
        "the stale check to answer",
        Duration::from_secs(30),
        || async {
            let (asked, answered) = settlement_check(c, &stale_wf).await?;
            (asked && answered).then_some(())
        },
    )
    .await;
    let status = stale_status(c, stale).await.unwrap();
    assert!(
        status.resolution.is_none(),
        "the stale order settled by 5.00 MYR: {:?}",
        status.resolution
    );
    // A run started from Temporal's CLI on a queue nobody polls, calling itself one of
    // the orders and settled by this import, is not among them.
    let out = temporal(
        &hp,
        &[
            "workflow",
            "start",
            "--type",
            "ManualHandle",
            "--task-queue",
            "nobody-polls-this",
            "--workflow-id",
            "manual-phantom-fm",
            "--search-attribute",
            &format!("OrderId={short:?}"),
            "--search-attribute",
            &format!("SettledBy=[{import_id:?}]"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    visible_once(c, "the phantom", "WorkflowId = 'manual-phantom-fm'").await;
    // The import counts the orders it settled (their own record), not the ones it told.
    eventually("the import's count", Duration::from_secs(15), || async {
        let (ok, said) = ours(&hp, &["client", "show-statement", "-i", import_id]);
        (ok && said.contains("approved by bo")
            && said.contains("1 of 5 matched orders settled; the other 4 not (yet)"))
        .then_some(())
    })
    .await;
    // And which: the review marks the one it settled among its matched entries.
    let view = temporal_playground::operations::statements::view_of(c, import_id)
        .await
        .unwrap();
    assert_eq!(view.settled_orders, vec![fair.clone()], "{view:?}");
    // A person resolves both as the bank says (failed needs no second person), from our
    // CLI; the trail, which lists the orders people acted on, then says why the statement
    // settled neither.
    for id in [&short, &other] {
        let (ok, said) = ours(
            &hp,
            &[
                "client",
                "resolve",
                "-o",
                id,
                "--resolution",
                "failed",
                "--reason",
                "BANK_CONFIRMED",
                "--operator",
                "cy",
            ],
        );
        assert!(ok, "{said}");
        assert_resolved(c, id, Resolution::Failed).await;
    }
    use temporal_playground::{domain::audit::AuditFilter, operations::audit::orders_page};
    for (id, why) in [
        (
            &short,
            "not settled: the entry's 1.00 MYR is not the order's 20.00 MYR",
        ),
        (
            &other,
            "not settled: the entry's 20.00 USD is not the order's 20.00 MYR",
        ),
    ] {
        eventually("the row's outcome", Duration::from_secs(30), || async {
            let page = orders_page(c, &AuditFilter::default(), None).await.ok()?;
            page.entries
                .iter()
                .any(|e| {
                    &e.target == id
                        && e.action.starts_with("settle paid by statement STMT-F")
                        && e.outcome == why
                })
                .then_some(())
        })
        .await;
    }
}

/// Whether `workflow_id`'s history has a settlement check scheduled, and whether any check
/// came back (completed, failed or timed out).
async fn settlement_check(
    c: &temporalio_client::Client,
    workflow_id: &str,
) -> Option<(bool, bool)> {
    let history = c
        .get_workflow_handle::<temporalio_client::UntypedWorkflow>(workflow_id.to_string())
        .fetch_history(Default::default())
        .to_json()
        .await
        .ok()?;
    let history: serde_json::Value = serde_json::from_slice(&history).ok()?;
    let events = history["events"].as_array()?;
    let checks: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| {
            e["attributes"]["ActivityTaskScheduledEventAttributes"]["activity_type"]["name"]
                == "VerifyStatementSettlement"
        })
        .map(|e| &e["event_id"])
        .collect();
    let answered = events.iter().any(|e| {
        [
            "ActivityTaskCompletedEventAttributes",
            "ActivityTaskFailedEventAttributes",
            "ActivityTaskTimedOutEventAttributes",
        ]
        .iter()
        .any(|attrs| checks.contains(&&e["attributes"][*attrs]["scheduled_event_id"]))
    });
    Some((!checks.is_empty(), answered))
}

/// Starts an order of `minor` MYR for each id, upstream down, and waits until each waits in
/// the manual queue with its attributes visible (what a statement's match reads).
async fn waiting_in_myr(c: &temporalio_client::Client, ids: &[&str], minor: i64) {
    for id in ids {
        let mut o = order(id, fast_policy(1, 1));
        o.amount = myr(minor);
        start_order(c, o).await.unwrap();
    }
    for id in ids {
        eventually(
            "the order in the queue",
            Duration::from_secs(30),
            || async { manual_context(c, id).await.ok() },
        )
        .await;
        eventually(
            "its attributes visible",
            Duration::from_secs(15),
            || async {
                let visible = format!("WorkflowId = 'manual-{id}' AND OrderCurrency = 'MYR'");
                (count(c, &visible).await == 1).then_some(())
            },
        )
        .await;
    }
}

/// `client approve-statement` as `operator`: whether it was approved, and what it said.
fn approve_statement(hostport: &str, import_id: &str, operator: &str) -> (bool, String) {
    ours(
        hostport,
        &[
            "client",
            "approve-statement",
            "-i",
            import_id,
            "--operator",
            operator,
        ],
    )
}

/// A `settle-by-statement` signal sent straight to `workflow_id` from Temporal's own CLI.
fn forge_settlement(hostport: &str, workflow_id: &str, settlement: &serde_json::Value) {
    let input = settlement.to_string();
    let out = raw_signal(hostport, workflow_id, "settle-by-statement", &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A multipart form post as a browser sends it, with `cookie`.
async fn upload(
    addr: std::net::SocketAddr,
    cookie: &str,
    file_name: &str,
    content: &str,
) -> reqwest::Response {
    let boundary = "----tp-boundary-7d1";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/xml\r\n\r\n{content}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\n\r\n--{boundary}--\r\n"
    );
    browser(addr, Some(cookie))
        .post(format!("http://{addr}/statements/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The statements page over HTTP: support uploads, a presenter may not, the importer
/// cannot approve, an approver does; the review and its CSV show what each entry matched.
#[tokio::test(flavor = "multi_thread")]
async fn the_statements_page_imports_reviews_and_approves_by_role() {
    use leptos::server_fn::ServerFn;
    use temporal_playground::{
        domain::access::Role,
        web::auth::accounts::AccountsFile,
        web::auth::{AuthConfig, AuthMode},
        web::state::WebConfig,
    };
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let id = Script::Down.id("page-a");
    waiting_in_myr(c, &[&id], 4_200).await;

    let accounts = std::env::temp_dir().join(format!("tp-st-accounts-{}.toml", free_port()));
    let mut file = AccountsFile::default();
    let password = "correct horse battery";
    for (name, role) in [
        ("sup", Role::Support),
        ("pres", Role::Presenter),
        ("appr", Role::Approver),
    ] {
        file.add(name, password, vec![role]).unwrap();
    }
    file.save(&accounts).unwrap();
    let config = WebConfig {
        policy: fast_policy(3, 60),
        auth: AuthConfig {
            mode: AuthMode::Local { accounts },
            ..AuthConfig::default()
        },
        ..WebConfig::default()
    };
    let (addr, _) = serve_dashboard_with(c.clone(), config).await;
    let cookie = |name: &'static str| async move {
        session_cookie(addr, &[("name", name), ("password", password)])
            .await
            .unwrap()
    };
    let (sup, pres, appr) = (
        cookie("sup").await,
        cookie("pres").await,
        cookie("appr").await,
    );
    let statement = fixtures::camt053(
        &[
            ("P1", id.as_str(), "42.00", "MYR", true),
            ("P2", "ORD-NOBODY", "1.00", "MYR", true),
        ],
        false,
    );

    // A presenter may not import; nothing starts.
    let refused = upload(addr, &pres, "s.xml", &statement).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(count(c, "WorkflowType = 'StatementImport'").await, 0);
    // A broken file goes back to the page with the place that failed.
    let broken = upload(
        addr,
        &sup,
        "s.xml",
        &statement.replace("</Ntry>", "</Oops>"),
    )
    .await;
    assert_eq!(broken.status().as_u16(), 303);
    let back = broken.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with("/statements?error=") && back.contains("line"),
        "{back}"
    );
    // Support imports it and lands on its review.
    let done = upload(addr, &sup, "s.xml", &statement).await;
    assert_eq!(done.status().as_u16(), 303);
    let review = done.headers()["location"].to_str().unwrap().to_string();
    assert!(review.starts_with("/statements/statement-"), "{review}");
    let import_id = review.trim_start_matches("/statements/").to_string();
    let page = browser(addr, Some(&sup))
        .get(format!("http://{addr}{review}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("1 matched") && page.contains("1 unknown_order"),
        "the tally"
    );
    assert!(page.contains("awaits a second person"), "the standing");
    // The list of imports says who imported it and that it waits.
    async fn listed(addr: std::net::SocketAddr, cookie: &str, import_id: &str) -> Option<String> {
        let page = page_text(
            &browser(addr, Some(cookie)),
            &format!("http://{addr}/statements"),
        )
        .await;
        let from = page.find(&format!("data-import=\"{import_id}\""))?;
        let line = &page[from..];
        // Leptos's `<!>` markers between the parts, gone: the line as it reads.
        Some(line[..line.find("</li>").unwrap_or(line.len())].replace("<!>", ""))
    }
    let line = listed(addr, &sup, &import_id)
        .await
        .expect("the import is listed");
    assert!(line.contains("imported by sup · "), "{line}");
    assert!(line.contains("awaiting approval"), "{line}");
    let csv = browser(addr, Some(&sup))
        .get(format!("http://{addr}/statement.csv?id={import_id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .any(|l| l.contains("\"P1\"") && l.contains("\"matched\"") && l.contains(&id)),
        "{csv}"
    );

    // Support cannot approve (no role); the approver does, and the order is settled.
    let path = temporal_playground::web::pages::statements::ApproveImport::PATH;
    let no = browser(addr, Some(&sup))
        .post(format!("http://{addr}{path}"))
        .form(&[("import_id", import_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(no.status().as_u16(), 403);
    let yes = browser(addr, Some(&appr))
        .post(format!("http://{addr}{path}"))
        .form(&[("import_id", import_id.as_str())])
        .send()
        .await
        .unwrap();
    assert!(yes.status().as_u16() < 400, "{}", yes.status());
    assert_resolved(c, &id, Resolution::Paid).await;
    let record = manual_context(c, &id).await.unwrap().resolution.unwrap();
    assert_eq!(record.resolved_by, "sup");
    assert_eq!(record.approved_by.map(|a| a.operator), Some("appr".into()));
    eventually(
        "the import listed as approved by its approver",
        Duration::from_secs(30),
        || async {
            listed(addr, &sup, &import_id)
                .await
                .filter(|line| line.contains("approved by appr"))
        },
    )
    .await;
}

/// A 10,000-entry statement through Temporal, with the importing process killed (kill -9)
/// as soon as its import exists: importing the file again completes it, every entry once,
/// and it is still one import. Whether the kill landed mid-way or after the last chunk,
/// what Temporal holds afterwards must be the same.
#[tokio::test(flavor = "multi_thread")]
async fn a_ten_thousand_entry_import_killed_mid_way_is_completed_by_importing_again() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let id = Script::Down.id("bulk-a");
    waiting_in_myr(c, &[&id], 1_000).await;
    let mut rows: Vec<(String, String)> = (1..10_000)
        .map(|i| (format!("B{i}"), format!("ORD-BULK-{i}")))
        .collect();
    rows.push(("B10000".into(), id.clone()));
    let entries: Vec<(&str, &str, &str, &str, bool)> = rows
        .iter()
        .enumerate()
        .map(|(i, (r, e2e))| {
            let amount = if i == rows.len() - 1 { "10.00" } else { "1.00" };
            (r.as_str(), e2e.as_str(), amount, "MYR", true)
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("tp-bulk-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bulk.xml");
    std::fs::write(&file, fixtures::camt053(&entries, false)).unwrap();
    let path = file.to_string_lossy().to_string();

    let mut child = Command::new(env!("CARGO_BIN_EXE_temporal-playground"))
        .args([
            "client",
            "import-statement",
            &path,
            "--operator",
            "ana",
            "--hostport",
            &hp,
        ])
        .env(
            "TEMPORAL_PLAYGROUND_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("the import to exist", Duration::from_secs(60), || async {
        (count(c, "WorkflowType = 'StatementImport'").await == 1).then_some(())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();

    let started = std::time::Instant::now();
    let (ok, said) = ours(
        &hp,
        &["client", "import-statement", &path, "--operator", "ana"],
    );
    println!(
        "re-import of 10,000 entries (parse, match, complete): {:?}",
        started.elapsed()
    );
    assert!(ok, "{said}");
    assert!(
        said.contains("10000 entries"),
        "{}",
        said.lines().next().unwrap_or_default()
    );
    assert!(
        said.contains("1 matched") && said.contains("9999 unknown_order"),
        "{}",
        said.lines().take(3).collect::<Vec<_>>().join("\n")
    );
    assert!(
        said.contains("awaits a second person's approval"),
        "every chunk is in"
    );
    assert_eq!(
        count(c, "WorkflowType = 'StatementImport'").await,
        1,
        "one import"
    );
    let import_id = import_id_in(&said);
    let (ok, said) = approve_statement(&hp, &import_id, "bo");
    assert!(
        ok,
        "{}",
        said.lines().take(3).collect::<Vec<_>>().join("\n")
    );
    assert_resolved(c, &id, Resolution::Paid).await;
    assert_eq!(env.upstream.stats().distinct_conclusions, 1);
    assert_eq!(env.upstream.stats().conclusions, 1, "applied once");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One approval settles a hundred and twenty orders: more than `join_all` polls itself
/// (30), which once failed the import's workflow task as non-deterministic and left every
/// order waiting (found by the 10,000-entry bench).
#[tokio::test(flavor = "multi_thread")]
async fn an_approval_settles_more_orders_than_one_batch_holds() {
    use temporal_playground::{domain::statement::CsvLayout, operations::statements};
    const ORDERS: usize = 120;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 200.0).await;
    let c = &env.client;
    let ids: Vec<String> = (0..ORDERS).map(|i| format!("many-{i:03}")).collect();
    futures::future::join_all(ids.iter().map(|id| async move {
        let mut o = order(id, fast_policy(1, 1));
        o.amount = myr(1_000);
        start_manual_order(c, o, "http_503").await;
    }))
    .await;
    let waiting =
        "WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running' AND OrderCurrency = 'MYR'";
    eventually("the orders visible", Duration::from_secs(60), || async {
        (count(c, waiting).await == ORDERS).then_some(())
    })
    .await;
    let rows: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("M{i}"), id.clone()))
        .collect();
    let entries: Vec<(&str, &str, &str, &str, bool)> = rows
        .iter()
        .map(|(r, id)| (r.as_str(), id.as_str(), "10.00", "MYR", true))
        .collect();
    let file = fixtures::camt053(&entries, false);
    let rules = statements::MatchRules { tolerance_minor: 0 };
    let view = statements::import(
        c,
        file.as_bytes(),
        "many.xml",
        None,
        &CsvLayout::default(),
        &rules,
        "ana",
    )
    .await
    .unwrap();
    assert_eq!(view.to_apply as usize, ORDERS);
    statements::approve(c, &view.import_id, "bo").await.unwrap();
    eventually("every order settled", Duration::from_secs(120), || async {
        (count(c, waiting).await == 0).then_some(())
    })
    .await;
    let done = statements::view_of(c, &view.import_id).await.unwrap();
    assert!(done.done, "the import finished applying");
    assert_eq!(done.applied as usize, ORDERS, "each order settled once");
    assert_eq!(
        count(
            c,
            "WorkflowType = 'ManualHandle' AND OrderResolution = 'paid' AND ExecutionStatus = 'Completed'"
        )
        .await,
        ORDERS
    );
}

/// An approver who doubts one matched entry leaves it out of the approval, saying why:
/// the rest settle, its order waits for a person, and the import itself confirms no
/// settlement by that entry (a forged one from Temporal's CLI settles nothing). The
/// workflow refuses a leave-out without a reason, or naming an entry it would not apply.
#[tokio::test(flavor = "multi_thread")]
async fn an_approver_leaves_out_an_entry_they_doubt_and_the_rest_settle() {
    use leptos::server_fn::ServerFn;
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let (first, doubted, third) = (
        Script::Down.id("lo-a"),
        Script::Down.id("lo-b"),
        Script::Down.id("lo-c"),
    );
    waiting_in_myr(c, &[&first, &doubted, &third], 1_250).await;
    let dir = std::env::temp_dir().join(format!("tp-leave-out-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stmt.xml");
    std::fs::write(
        &file,
        fixtures::camt053(
            &[
                ("B1", first.as_str(), "12.50", "MYR", true),
                ("B2", doubted.as_str(), "12.50", "MYR", true),
                ("B3", third.as_str(), "12.50", "MYR", true),
                ("B4", "fees", "1.00", "MYR", false),
            ],
            false,
        ),
    )
    .unwrap();
    let (ok, said) = import_statement(&hp, &file.to_string_lossy(), "ana");
    assert!(ok && said.contains("3 matched"), "{said}");
    let import_id = import_id_in(&said);

    // Our CLI wants the reason before it asks; the workflow refuses from any client a
    // leave-out with no reason, or one naming an entry the approval would not apply.
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "approve-statement",
            "-i",
            &import_id,
            "--operator",
            "bo",
            "--leave-out",
            "B2",
        ],
    );
    assert!(!ok && said.contains("say why"), "{said}");
    let approve_raw = |leave_out: &[&str], note: &str| {
        let out = raw_update(
            &hp,
            &import_id,
            "approve",
            &serde_json::json!({"operator": "bo", "note": note, "leave_out": leave_out})
                .to_string(),
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let said = approve_raw(&["B2"], "");
    assert!(said.contains("say why the entries are left out"), "{said}");
    let said = approve_raw(&["B4"], "a debit");
    assert!(said.contains("no entry this approval applies"), "{said}");
    let said = approve_raw(&["B2", "B2"], "twice");
    assert!(said.contains("named twice"), "{said}");
    let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &import_id]);
    assert!(
        ok && said.contains("awaits a second person's approval"),
        "{said}"
    );

    // The approver ticks the doubted entry on the review and says why (a plain form post).
    let addr = local_dashboard(c.clone(), Duration::from_secs(600)).await;
    let approver = sign_in_with(addr, &[("name", "approver"), ("password", PASSWORD)]).await;
    let review = page_text(&approver, &format!("http://{addr}/statements/{import_id}")).await;
    assert_eq!(
        review.matches("name=\"leave_out[]\"").count(),
        3,
        "one box for each matched entry: {review}"
    );
    let why = "the customer says B2 paid another order";
    let posted = approver
        .post(format!(
            "http://{addr}{}",
            temporal_playground::web::pages::statements::ApproveImport::PATH
        ))
        .header("accept", "text/html")
        .form(&[
            ("import_id", import_id.as_str()),
            ("leave_out[]", "B2"),
            ("note", why),
        ])
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    for id in [&first, &third] {
        assert_resolved(c, id, Resolution::Paid).await;
    }
    // From Temporal's CLI, the left-out entry claimed as the import's settlement: the
    // import does not confirm it, and the order still waits.
    let workflow_id = format!("manual-{doubted}");
    let forged = serde_json::json!({
        "evidence": {"statement_id": "STMT-2026-12-01", "import_id": import_id,
                     "entry_ref": "B2", "booking_date": "2026-12-01",
                     "amount": {"minor": 1250, "currency": "MYR", "exponent": 2}},
        "imported_by": {"operator": "ana", "at": ""},
        "approved_by": {"operator": "approver", "at": ""},
    });
    forge_settlement(&hp, &workflow_id, &forged);
    eventually("the import's answer", Duration::from_secs(30), || async {
        settlement_check(c, &workflow_id)
            .await
            .filter(|(_, answered)| *answered)
    })
    .await;
    let context = manual_context(c, &doubted).await.unwrap();
    assert!(context.resolution.is_none(), "{context:?}");
    // The review says what was left out, by whom and why.
    let (ok, said) = ours(&hp, &["client", "show-statement", "-i", &import_id]);
    assert!(
        ok && said.contains("2 of 2 matched orders settled")
            && said.contains(&format!(
                "1 entry left out by the approver, for a person: {why}"
            ))
            && said.contains("· left out by the approver"),
        "{said}"
    );
    // The review's CSV marks the entry left out.
    let csv = approver
        .get(format!("http://{addr}/statement.csv?id={import_id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marked: Vec<&str> = csv
        .lines()
        .filter(|l| l.ends_with(",\"yes\"") || l.ends_with(",yes"))
        .collect();
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.ends_with("\"left_out\""))
            && marked.len() == 1
            && marked[0].contains("B2"),
        "{csv}"
    );
    // The audit trail lists the import under its importer, and the approval, with what was
    // left out and why, under the approver; each links the import's review.
    let admin = sign_in_with(addr, &[("name", "admin"), ("password", PASSWORD)]).await;
    let trail = page_text(&admin, &format!("http://{addr}/audit?actor=approver")).await;
    assert!(
        trail.contains(&format!(
            "approve statement STMT-2026-12-01, leaving out B2: {why}"
        )) && trail.contains(&format!("href=\"/statements/{import_id}\"")),
        "{trail}"
    );
    let trail = page_text(&admin, &format!("http://{addr}/audit?actor=ana")).await;
    assert!(
        trail.contains("import statement STMT-2026-12-01 (stmt.xml)"),
        "{trail}"
    );
    // The order's lane says the statement booked its money and why the approver left it
    // out, on the page and in the terminal; the orders it settled say nothing of it.
    let notice = format!(
        "Statement STMT-2026-12-01 books 12.50 MYR for this order (entry B2, 2026-12-01); \
         approver left it out of the approval: {why}"
    );
    let lane = page_text(&approver, &format!("http://{addr}/orders/{doubted}")).await;
    assert!(
        lane.contains(&notice) && lane.contains(&format!("href=\"/statements/{import_id}\"")),
        "{lane}"
    );
    let (ok, said) = ours(&hp, &["client", "show", "-o", &doubted]);
    assert!(ok && said.contains(&notice), "{said}");
    let (ok, said) = ours(&hp, &["client", "show", "-o", &first]);
    assert!(ok && !said.contains("left it out"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A statement import started from Temporal's CLI with a decision already in its memo
/// ("approved by carol", which no one did) would show that decision in the audit trail and
/// the list of imports: both read the memo where an import keeps its decisions. The import
/// clears a memo its start carried, and the console counts a decision only when the
/// import's own workflow wrote it: here neither the import our worker ran nor one left on
/// a queue nobody polls lists carol, and in Temporal the first's memo no longer says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_decision_forged_into_an_imports_memo_is_not_in_the_trail() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let stamp = |who: &str| serde_json::json!({"operator": who, "at": "2026-12-01T09:00:00Z"});
    let decisions = serde_json::json!({
        "statement_id": "STMT-FORGED", "file_name": "forged.csv",
        "imported_by": stamp("mallory"), "approved": stamp("carol"), "rejected": null,
    });
    let start = serde_json::json!({
        "statement_id": "STMT-FORGED", "account": "MY-1", "format": "csv",
        "file_name": "forged.csv", "content_hash": "f1f1f1f1", "imported_by": "mallory",
        "chunks": 1, "unmentioned": [], "first": [],
    });
    let (ran, unpolled) = ("statement-f1f1f1f1", "statement-f1f1f1f2");
    for (import_id, queue) in [(ran, "manual-handle"), (unpolled, "nobody-polls-this")] {
        let out = temporal(
            &hp,
            &[
                "workflow",
                "start",
                "--type",
                "StatementImport",
                "--task-queue",
                queue,
                "--workflow-id",
                import_id,
                "--input",
                &start.to_string(),
                "--memo",
                &format!("decisions={decisions}"),
                "--search-attribute",
                "Actors=[\"mallory\",\"carol\"]",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Our worker has run the first (its review answers), and kept the memo it was given?
    eventually("the import to run", Duration::from_secs(30), || async {
        temporal_playground::operations::statements::view_of(c, ran)
            .await
            .ok()
    })
    .await;
    let memo = |import_id: &str| {
        let out = temporal(
            &hp,
            &["workflow", "describe", "-w", import_id, "-o", "json"],
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    eventually(
        "the forged memo cleared",
        Duration::from_secs(15),
        || async { (!memo(ran).contains("carol")).then_some(()) },
    )
    .await;
    let by_carol = temporal_playground::operations::audit::statement_entries(
        c,
        &temporal_playground::domain::audit::AuditFilter {
            actor: "carol".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        by_carol.iter().all(|e| !e.action.starts_with("approve")),
        "{by_carol:#?}"
    );
    // The import our worker ran names its importer alone, as its input does.
    let named = format!("WorkflowId = '{ran}' AND Actors = 'carol'");
    eventually(
        "carol gone from its actors",
        Duration::from_secs(15),
        || async { (count(c, &named).await == 0).then_some(()) },
    )
    .await;
    // The one left unrun is listed under its starter, marked as what it is.
    let by_mallory = temporal_playground::operations::audit::statement_entries(
        c,
        &temporal_playground::domain::audit::AuditFilter {
            actor: "mallory".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        by_mallory.iter().any(|e| e.target == unpolled
            && e.outcome == temporal_playground::operations::audit::FORGED_DECISION),
        "{by_mallory:#?}"
    );
    let listed = temporal_playground::operations::statements::recent(c)
        .await
        .unwrap();
    for import_id in [ran, unpolled] {
        let row = listed
            .iter()
            .find(|r| r.import_id == import_id)
            .expect("the import listed");
        assert!(!row.standing.contains("carol"), "{import_id}: {row:?}");
    }
    // Nothing was approved: carol's approval never reached the import.
    let view = temporal_playground::operations::statements::view_of(c, ran)
        .await
        .unwrap();
    assert!(view.approved.is_none(), "{view:?}");
}

/// Finance imports a statement or more a day: past fifty, the statements page showed the
/// newest fifty and nothing of the rest. It now pages on, each file once (its latest run,
/// marked when imported again), with "Older imports →".
#[tokio::test(flavor = "multi_thread")]
async fn the_statements_page_lists_every_import_a_page_at_a_time() {
    use temporal_playground::operations::statements::{IMPORTS_PER_PAGE, recent_page};
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let total = IMPORTS_PER_PAGE as usize + 7;
    let start = |i: usize| {
        serde_json::json!({
            "statement_id": format!("S-{i}"), "account": "", "format": "csv",
            "file_name": format!("s{i}.csv"), "content_hash": format!("{i:04x}"),
            "imported_by": "ana", "chunks": 1, "first": [], "unmentioned": [],
        })
        .to_string()
    };
    // Before any import, the page says so rather than show an empty heading.
    let addr = serve_dashboard(c.clone()).await;
    let finance = signed_in(addr, "fin").await;
    let page = shown_text(&page_text(&finance, &format!("http://{addr}/statements")).await);
    assert!(
        page.contains("No statement has been imported yet."),
        "{page}"
    );
    for i in 0..total {
        raw_start(
            &hp,
            "StatementImport",
            "manual-handle",
            &format!("statement-cd{i:04x}"),
            Some(&start(i)),
        );
    }
    // The oldest file was rejected and imported again: the newest run, on the first page.
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "reject-statement",
            "-i",
            "statement-cd0000",
            "--operator",
            "bo",
            "--note",
            "wrong account",
        ],
    );
    assert!(ok, "{said}");
    eventually("the rejection listed", Duration::from_secs(15), || async {
        let q = "WorkflowId = 'statement-cd0000' AND ExecutionStatus = 'Completed'";
        (count(c, q).await == 1).then_some(())
    })
    .await;
    raw_start(
        &hp,
        "StatementImport",
        "manual-handle",
        "statement-cd0000",
        Some(&start(0)),
    );
    let listed = eventually("every run listed", Duration::from_secs(30), || async {
        let first = recent_page(c, None).await.ok()?;
        (first.imports.len() == IMPORTS_PER_PAGE as usize && first.next_page.is_some())
            .then_some(first)
    })
    .await;
    let mut seen: Vec<String> = listed.imports.iter().map(|r| r.import_id.clone()).collect();
    assert_eq!(listed.imports[0].import_id, "statement-cd0000");
    assert!(
        listed.imports[0]
            .standing
            .ends_with("(imported again after an earlier run was stopped or rejected)"),
        "{:?}",
        listed.imports[0]
    );
    let older = recent_page(c, listed.next_page.as_deref()).await.unwrap();
    assert!(older.next_page.is_none(), "{older:?}");
    seen.extend(older.imports.iter().map(|r| r.import_id.clone()));
    // Each file once: its rejected run, on the older page, is not listed again.
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");
    assert_eq!(seen.len(), total, "{seen:?}");
    // Our CLI lists them the same way, a page at a time.
    let (ok, said) = ours(&hp, &["client", "statements"]);
    let rows = said
        .lines()
        .filter(|l| l.starts_with("statement-cd"))
        .count();
    assert!(ok && rows == IMPORTS_PER_PAGE as usize, "{said}");
    let next = said
        .lines()
        .find_map(|l| l.strip_prefix("(older imports: client statements --page "))
        .and_then(|l| l.strip_suffix(')'))
        .expect("the next page named")
        .to_string();
    let (ok, said) = ours(&hp, &["client", "statements", "--page", &next]);
    let rows = said
        .lines()
        .filter(|l| l.starts_with("statement-cd"))
        .count();
    assert!(ok && rows == 7 && !said.contains("older imports"), "{said}");
    let (ok, said) = ours(&hp, &["client", "statements", "--page", "not-a-page"]);
    assert!(!ok && said.contains("the page link is damaged"), "{said}");
    // The page links the older imports, and says when each came as an age.
    let page = page_text(&finance, &format!("http://{addr}/statements")).await;
    assert!(page.contains("Older imports →"), "{page}");
    let shown = shown_text(&page);
    assert!(
        shown.contains(" s ago · imported by ana") || shown.contains(" min ago · imported by ana"),
        "{shown}"
    );
    assert!(
        !shown.contains("No statement has been imported yet."),
        "{shown}"
    );
    let next = listed.next_page.unwrap();
    let page = page_text(&finance, &format!("http://{addr}/statements?page={next}")).await;
    assert!(
        page.contains("statement-cd0001") && !page.contains("Older imports →"),
        "{page}"
    );
}

/// The trail's rows of a statement import said who imported, approved or rejected it but
/// not through which client, where an order's rows do: an approval sent from Temporal's CLI
/// (the validator sees a name, never a sender) read as any other.
#[tokio::test(flavor = "multi_thread")]
async fn the_trail_says_through_which_client_an_import_was_made_and_decided() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let (by_cli, by_raw) = ("down-channel-cli", "down-channel-raw");
    waiting_in_myr(c, &[by_cli, by_raw], 1250).await;
    let dir = std::env::temp_dir().join(format!("tp-channels-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut imports = Vec::new();
    for (n, id) in [by_cli, by_raw].into_iter().enumerate() {
        let file = dir.join(format!("s{n}.csv"));
        std::fs::write(
            &file,
            format!(
                "booking_date,reference,amount,currency,credit_debit,entry_ref\n\
                 2026-12-01,payment {id},12.50,MYR,C,C{n}\n"
            ),
        )
        .unwrap();
        let (ok, said) = import_statement(&hp, &file.to_string_lossy(), "ana");
        assert!(ok, "{said}");
        imports.push(import_id_in(&said));
    }
    let (ok, said) = approve_statement(&hp, &imports[0], "bo");
    assert!(ok, "{said}");
    let out = raw_update(
        &hp,
        &imports[1],
        "approve",
        r#"{"operator":"bo","note":"looks right"}"#,
    );
    assert!(out.status.success(), "{out:?}");
    for id in [by_cli, by_raw] {
        assert_resolved(c, id, Resolution::Paid).await;
    }
    let trail = temporal_playground::operations::audit::statement_entries(
        c,
        &temporal_playground::domain::audit::AuditFilter::default(),
    )
    .await
    .unwrap();
    let row = |import: &str, action: &str| {
        trail
            .iter()
            .find(|e| e.target == import && e.action.starts_with(action))
            .unwrap_or_else(|| panic!("{action} {import}: {trail:#?}"))
            .clone()
    };
    for import in &imports {
        assert_eq!(row(import, "import statement").channel, "command line");
    }
    assert_eq!(
        row(&imports[0], "approve statement").channel,
        "command line"
    );
    let raw = row(&imports[1], "approve statement");
    assert_eq!(raw.channel, "another client", "{raw:?}");
    assert!(raw.origin.contains("temporal-cli"), "{raw:?}");
}

/// A bank statement may quote the gateway's reference for a payment rather than our order
/// id: the entry names the one waiting order that carries that reference.
#[tokio::test(flavor = "multi_thread")]
async fn an_entry_quoting_the_gateways_reference_settles_the_one_order_that_has_it() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let (quoted, twin_a, twin_b) = (
        Script::Down.id("ref-q"),
        Script::Down.id("ref-t1"),
        Script::Down.id("ref-t2"),
    );
    let orders = [
        (&quoted, "GW-PAYOUT-31"),
        (&twin_a, "GW-TWIN"),
        (&twin_b, "GW-TWIN"),
    ];
    for (id, reference) in orders {
        let mut o = order(id, fast_policy(1, 1));
        o.amount = myr(1_250);
        o.reference = Some(reference.into());
        start_order(c, o).await.unwrap();
    }
    for (id, reference) in orders {
        eventually(
            "the order in the queue, its reference listed",
            Duration::from_secs(30),
            || async {
                let visible =
                    format!("WorkflowId = 'manual-{id}' AND GatewayReference = '{reference}'");
                (count(c, &visible).await == 1).then_some(())
            },
        )
        .await;
    }
    // And one the bank's own answer settled yesterday: its payment is on the statement too.
    let done = Script::Paid.id("ref-done");
    let mut o = order(&done, fast_policy(1, 1));
    o.amount = myr(1_250);
    o.reference = Some("GW-DONE-5".into());
    start_order(c, o).await.unwrap();
    assert_resolved(c, &done, Resolution::Paid).await;
    eventually("its reference listed", Duration::from_secs(15), || async {
        let visible = format!("WorkflowId = 'payment-{done}' AND GatewayReference = 'GW-DONE-5'");
        (count(c, &visible).await == 1).then_some(())
    })
    .await;
    let dir = std::env::temp_dir().join(format!("tp-reference-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("payouts.csv");
    std::fs::write(
        &file,
        "booking_date,reference,amount,currency,credit_debit,entry_ref\n\
         2026-12-01,payout GW-PAYOUT-31,12.50,MYR,C,R1\n\
         2026-12-01,GW-TWIN,12.50,MYR,C,R2\n\
         2026-12-01,payout GW-DONE-5,12.50,MYR,C,R3\n",
    )
    .unwrap();
    let (ok, said) = import_statement(&hp, &file.to_string_lossy(), "ana");
    assert!(ok, "{said}");
    assert!(
        said.contains("1 matched") && said.contains(quoted.as_str()),
        "the reference names its order: {said}"
    );
    assert!(
        said.contains("1 unknown_order") && !said.contains(twin_a.as_str()),
        "a reference two waiting orders share names neither: {said}"
    );
    assert!(
        said.contains("1 already_resolved") && said.contains(done.as_str()),
        "a resolved order's reference reads as its order, paid once already: {said}"
    );
    let (ok, said) = approve_statement(&hp, &import_id_in(&said), "bo");
    assert!(ok, "{said}");
    assert_resolved(c, &quoted, Resolution::Paid).await;
    for twin in [&twin_a, &twin_b] {
        assert!(manual_context(c, twin).await.unwrap().resolution.is_none());
    }
    // Support finds the order by the reference the merchant quotes.
    let (ok, said) = ours(&hp, &["client", "find", "GW-PAYOUT-31"]);
    assert!(
        ok && said.contains(&format!("{quoted}  resolved (paid)"))
            && said.contains("reference GW-PAYOUT-31")
            && !said.contains(twin_a.as_str()),
        "{said}"
    );
}
