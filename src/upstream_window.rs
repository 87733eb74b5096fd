//! The last minutes of upstream calls made by this process's workers, per upstream: the
//! figures of the upstream panel (calls a second, 429s, the error mix, latency
//! percentiles). Fed by the query activity as it runs; read by the live hub with its one
//! poll, so an open page costs nothing more. Only this process's workers are seen: a
//! console without an embedded worker sees none and says so (each worker's `/metrics` has
//! its own counts).

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::listings::UpstreamHealth;

/// How far back the panel looks.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Calls a second are counted over the last minute.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Calls remembered at most (the oldest go first): a bound on memory at any rate.
pub const MAX_SAMPLES: usize = 100_000;

/// How a call ended, as the panel groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Answered,
    Throttled,
    Error5xx,
    Timeout,
    Rejected,
}

impl Outcome {
    /// From the activity's outcome words (`paid`, `pending`, `http_503`, `http_429`,
    /// `timeout`, `rejected`, `transport` …).
    pub fn from_reason(reason: &str) -> Outcome {
        match reason {
            "paid" | "failed" | "pending" => Outcome::Answered,
            "http_429" | "throttled" => Outcome::Throttled,
            "timeout" => Outcome::Timeout,
            r if r.starts_with("http_5") => Outcome::Error5xx,
            _ => Outcome::Rejected,
        }
    }
}

struct Sample {
    at: Instant,
    provider: String,
    outcome: Outcome,
    latency_ms: u32,
}

static SAMPLES: Mutex<VecDeque<Sample>> = Mutex::new(VecDeque::new());

/// Set once a worker of this process polls the upstream queue: its calls come here.
static WATCHED: AtomicBool = AtomicBool::new(false);

/// Says that this process runs workers that call upstreams (they feed this window).
pub fn watch() {
    WATCHED.store(true, Ordering::Relaxed);
}

/// Whether this process runs workers that call upstreams: a console without them sees no
/// calls, whatever the banks do, and says so.
pub fn watched() -> bool {
    WATCHED.load(Ordering::Relaxed)
}

/// Records one call.
pub fn record(provider: &str, outcome: Outcome, latency: Duration) {
    let Ok(mut samples) = SAMPLES.lock() else {
        return;
    };
    let now = Instant::now();
    while samples
        .front()
        .is_some_and(|s| now.duration_since(s.at) > WINDOW)
        || samples.len() >= MAX_SAMPLES
    {
        samples.pop_front();
    }
    samples.push_back(Sample {
        at: now,
        provider: provider.to_string(),
        outcome,
        latency_ms: latency.as_millis().min(u128::from(u32::MAX)) as u32,
    });
}

fn percentile(sorted: &[u32], p: usize) -> u32 {
    match sorted.len() {
        0 => 0,
        n => sorted[((n - 1) * p / 100).min(n - 1)],
    }
}

/// Every upstream seen in the window, by name.
pub fn health() -> Vec<UpstreamHealth> {
    let Ok(samples) = SAMPLES.lock() else {
        return Vec::new();
    };
    let now = Instant::now();
    let mut by: BTreeMap<&str, (UpstreamHealth, Vec<u32>, u32)> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| now.duration_since(s.at) <= WINDOW)
    {
        let (h, latencies, recent) = by.entry(&s.provider).or_default();
        match s.outcome {
            Outcome::Answered => h.answered += 1,
            Outcome::Throttled => h.throttled += 1,
            Outcome::Error5xx => h.errors_5xx += 1,
            Outcome::Timeout => h.timeouts += 1,
            Outcome::Rejected => h.rejected += 1,
        }
        latencies.push(s.latency_ms);
        if now.duration_since(s.at) <= RATE_WINDOW {
            *recent += 1;
        }
    }
    by.into_iter()
        .map(|(provider, (mut h, mut latencies, recent))| {
            latencies.sort_unstable();
            h.provider = provider.to_string();
            h.window_secs = WINDOW.as_secs() as u32;
            h.calls_per_sec_tenths = recent * 10 / RATE_WINDOW.as_secs() as u32;
            h.p50_ms = percentile(&latencies, 50);
            h.p95_ms = percentile(&latencies, 95);
            h.p99_ms = percentile(&latencies, 99);
            h
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_groups_calls_by_upstream_and_reads_their_state() {
        for i in 0..20u64 {
            record("bank-up", Outcome::Answered, Duration::from_millis(10 + i));
        }
        for _ in 0..8 {
            record(
                "bank-slowdown",
                Outcome::Throttled,
                Duration::from_millis(5),
            );
        }
        for _ in 0..12 {
            record(
                "bank-slowdown",
                Outcome::Answered,
                Duration::from_millis(40),
            );
        }
        let all = health();
        let up = all.iter().find(|h| h.provider == "bank-up").unwrap();
        assert_eq!(up.answered, 20);
        assert_eq!(up.state_word(), "healthy");
        assert_eq!(up.p50_ms, 19);
        assert_eq!(up.p99_ms, 28);
        let slow = all.iter().find(|h| h.provider == "bank-slowdown").unwrap();
        assert_eq!((slow.throttled, slow.calls()), (8, 20));
        assert_eq!(slow.state_word(), "throttling");
        assert_eq!(Outcome::from_reason("http_503"), Outcome::Error5xx);
        assert_eq!(Outcome::from_reason("http_404"), Outcome::Rejected);
    }
}
