//! Orders carry their money: from the CLI to the upstream's answer, the lane, the queue's
//! filters, its ageing board and its CSV. A `paid` for other money goes to a person.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    domain::order::Resolution,
    operations::orders::manual_context,
    upstream::simulator::{Script, UpstreamBehaviour},
};

#[tokio::test(flavor = "multi_thread")]
async fn an_order_carries_its_money_and_a_paid_for_other_money_goes_to_a_person() {
    let env = TestEnv::start(UpstreamBehaviour::always_paid(100), 50.0).await;
    let c = &env.client;
    let hp = env.server.hostport.clone();
    let mismatch = Script::Mismatch.id("money");
    let matched = Script::Paid.id("money");

    // Bad money is refused before anything starts.
    for (args, says) in [
        (
            vec!["--amount", "12.5", "--currency", "JPY"],
            "without decimals",
        ),
        (vec!["--amount", "1", "--currency", "XAU"], "ISO 4217"),
        (vec!["--amount=-3", "--currency", "USD"], "amount"),
        (vec!["--amount", "5"], "--currency"),
    ] {
        let (ok, said) = ours(
            &hp,
            &[&["client", "start", "-o", "bad-money"], &args[..]].concat(),
        );
        assert!(!ok && said.contains(says), "{args:?}: {said}");
    }
    assert_eq!(count(c, "OrderId = 'bad-money'").await, 0);

    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "start",
            "-o",
            &mismatch,
            "--amount",
            "12.50",
            "--currency",
            "MYR",
            "--reference",
            "GW-77",
        ],
    );
    assert!(ok, "{said}");
    let (ok, said) = ours(
        &hp,
        &[
            "client",
            "start",
            "-o",
            &matched,
            "--amount",
            "999",
            "--currency",
            "JPY",
        ],
    );
    assert!(ok, "{said}");

    // The bank's own figure agrees: paid, as before.
    assert_resolved(c, &matched, Resolution::Paid).await;
    // It does not: straight to a person, with both figures, and nothing concluded.
    let context = eventually(
        "the mismatch in the queue",
        Duration::from_secs(30),
        || async { manual_context(c, &mismatch).await.ok() },
    )
    .await;
    assert_eq!(context.handoff.error_reason, "amount_mismatch");
    assert_eq!(
        context.handoff.order.amount.as_ref().map(|m| m.to_string()),
        Some("12.50 MYR".into())
    );
    assert_eq!(
        context.handoff.seen.as_ref().map(|m| m.to_string()),
        Some("12.51 MYR".into())
    );
    assert_eq!(context.handoff.order.reference.as_deref(), Some("GW-77"));
    assert!(context.resolution.is_none());
    assert_eq!(env.upstream.stats().conclusions, 0);
    visible_once(
        c,
        "the mismatch by currency and amount",
        &format!(
            "WorkflowId = 'manual-{mismatch}' AND ErrorReason = 'amount_mismatch' \
             AND OrderCurrency = 'MYR' AND OrderAmount >= 12.4 AND OrderAmount < 12.6"
        ),
    )
    .await;
    // An order the gateway sent without an amount.
    start_manual(c, "money-unknown", "bank-a", "http_503").await;

    // The console: the lane's figures, the queue's filters, its board and its CSV.
    let addr = serve_dashboard(c.clone()).await;
    let support = signed_in(addr, "sup").await;
    let get = |path: String| {
        let support = support.clone();
        async move {
            let r = support
                .get(format!("http://{addr}{path}"))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, lane) = get(format!("/orders/{mismatch}")).await;
    assert_eq!(status, 200);
    assert!(
        lane.contains("12.50 MYR") && lane.contains("12.51 MYR"),
        "both figures"
    );
    assert!(lane.contains("data-testid=\"amount-mismatch\""));
    let (_, unknown) = get("/orders/money-unknown".into()).await;
    assert!(unknown.contains("amount unknown"));

    let listed = |html: &str, id: &str| html.contains(&format!("data-order=\"{id}\""));
    let (_, myr) = eventually("the queue by currency", Duration::from_secs(15), || async {
        let page = get("/?currency=MYR&band=small".into()).await;
        listed(&page.1, &mismatch).then_some(page)
    })
    .await;
    assert!(!listed(&myr, "money-unknown"), "another currency's band");
    assert!(myr.contains("12.50 MYR"));
    let (_, huge) = get("/?currency=MYR&band=huge".into()).await;
    assert!(!listed(&huge, &mismatch));
    // The currency as a person may type it; the tabs keep every filter as typed.
    let (status, typed) = get("/?currency=+myr+&band=small&reason=a%26b+%2350%25".into()).await;
    assert_eq!(status, 200, "a lower-case currency is read, not refused");
    assert!(!listed(&typed, &mismatch), "no order has that reason");
    let (_, typed) = get("/?currency=+myr+&band=small".into()).await;
    assert!(listed(&typed, &mismatch), "myr finds the MYR orders");
    let (_, tabs) = get("/?reason=a%26b+%2350%25".into()).await;
    assert!(
        tabs.contains("reason=a%26b%20%2350%25&amp;claim=unclaimed"),
        "the Unclaimed tab keeps the reason filter whole"
    );
    let (status, bad) = get("/?band=giant".into()).await;
    assert!(bad.contains("an amount band"), "the refusal is a sentence");
    assert_eq!(
        status, 422,
        "a filter the queue cannot read is refused, not a page"
    );

    use leptos::server_fn::ServerFn;
    let path = temporal_playground::web::pages::manual_queue::LoadWaitingBoard::PATH;
    let board: temporal_playground::domain::listing::WaitingBoard = support
        .post(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = board
        .rows
        .iter()
        .find(|r| r.currency == "MYR")
        .expect("MYR");
    assert_eq!(
        (row.all_count(), row.money(row.all_total())),
        (1, "12.50 MYR".into())
    );
    assert_eq!(board.unknown.iter().sum::<u64>(), 1);

    let (status, csv) = get("/queue.csv".into()).await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("\"order_id\",\"upstream\",\"amount\",\"currency\""),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(&mismatch) && l.contains("\"12.50\",\"MYR\"")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains("money-unknown") && l.contains("\"\",\"\"")),
        "{csv}"
    );
    // The gateway's reference a merchant quotes: last in the CSV (columns added later go
    // last), and under the order id on its row.
    assert!(
        csv.lines()
            .next()
            .is_some_and(|l| l.ends_with("\"notes\",\"reference\""))
            && csv
                .lines()
                .any(|l| l.contains(&mismatch) && l.ends_with("\"GW-77\"")),
        "{csv}"
    );
    assert!(
        myr.contains("data-testid=\"reference\"") && myr.contains(">GW-77<"),
        "{myr}"
    );
    let anonymous = browser(addr, None)
        .get(format!("http://{addr}/queue.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_order_passes_the_service_level_sooner_in_the_queue_and_its_counts() {
    use temporal_playground::{
        domain::listing::{LargeFrom, LargeOrders, QueueFilter, ServiceLevel},
        domain::money::Money,
        operations::queues::waiting_board,
    };
    let manual_queue = queue_page;
    let env = TestEnv::without_workers(UpstreamBehaviour::always_paid(100)).await;
    let c = &env.client;
    let usd = |minor| {
        Some(Money {
            minor,
            currency: "USD".into(),
            exponent: 2,
        })
    };
    for (id, amount) in [("sla-large", usd(600_000)), ("sla-small", usd(1_000))] {
        let mut o = order(id, fast_policy(1, 1));
        o.amount = amount;
        start_manual_order(c, o, "http_503").await;
    }
    // Ordinary orders: an hour; large ones (5,000.00 USD and up): 2 seconds.
    let sla = ServiceLevel {
        at_risk_secs: 1_800,
        breach_secs: 3_600,
        large: LargeOrders {
            at_risk_secs: 1,
            breach_secs: 2,
            from: vec![LargeFrom {
                currency: "USD".into(),
                exponent: 2,
                minor: 500_000,
            }],
        },
        ..ServiceLevel::default()
    };
    eventually(
        "both orders visible with their money",
        Duration::from_secs(20),
        || async {
            (count(c, "WorkflowType = 'ManualHandle' AND OrderCurrency = 'USD'").await == 2)
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = QueueFilter::default();
    let page = manual_queue(c, &all, None, None, &sla).await.unwrap();
    assert_eq!(
        (page.all, page.breached),
        (2, 1),
        "only the large one is past it"
    );
    let breached = QueueFilter {
        age: "breached".into(),
        ..Default::default()
    };
    let page = manual_queue(c, &breached, None, None, &sla).await.unwrap();
    let ids: Vec<_> = page.rows.iter().map(|r| r.order_id.as_str()).collect();
    assert_eq!(ids, ["sla-large"]);
    let board = waiting_board(c, &sla).await.unwrap();
    assert_eq!((board.breached, board.at_risk), (1, 0));
    // Without the large-order rule, neither has waited long enough.
    let page = manual_queue(c, &all, None, None, &ServiceLevel::default())
        .await
        .unwrap();
    assert_eq!(page.breached, 0);
}
