//! The upstream's rate limit holds across workers: Temporal dispatches upstream calls at
//! a task-queue rate, so adding workers adds no traffic.

use crate::support::*;
use std::time::Duration;
use temporal_playground::{
    operations::orders::start_order, upstream::simulator::UpstreamBehaviour,
};

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_never_exceed_the_upstreams_limit() {
    // The upstream refuses an 11th request in any one-second span. Temporal dispatches at
    // 5/s: its token bucket bursts to twice that within a second, so half the limit is
    // the most that never exceeds it (at 8/s this test saw 6 refusals out of 46).
    let mut env = TestEnv::start(UpstreamBehaviour::always_paid(10), 5.0).await;
    env.add_workers(5.0).await;
    assert_eq!(env.workers.len(), 2);

    let orders = 40;
    for i in 0..orders {
        start_order(
            &env.client,
            order(&format!("paid-rl{i}"), fast_policy(3, 60)),
        )
        .await
        .unwrap();
    }
    eventually("every order resolved", Duration::from_secs(60), || async {
        (count(
            &env.client,
            "OrderStage = 'resolved' AND OrderResolution = 'paid'",
        )
        .await
            == orders)
            .then_some(())
    })
    .await;

    let stats = env.upstream.stats();
    println!("upstream saw {stats:?}");
    assert_eq!(stats.status_queries, orders as u64, "{stats:?}");
    assert_eq!(
        stats.over_limit, 0,
        "the upstream refused requests: {stats:?}"
    );
    assert!(stats.peak_per_second <= 10, "{stats:?}");
}
