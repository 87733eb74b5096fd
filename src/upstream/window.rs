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

use serde::{Deserialize, Serialize};

use crate::domain::listing::UpstreamHealth;

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

/// Latency buckets: a millisecond wide up to `EXACT_MS`, then each 10 % wider than the
/// last, so any percentile read from them is within 10 % (and tallies from several
/// processes add up bucket by bucket).
const EXACT_MS: u32 = 10;
const GROWTH: f64 = 1.1;
/// The last bucket holds everything slower (about 6 minutes and up).
const BUCKETS: u16 = 120;

fn bucket_of(ms: u32) -> u16 {
    if ms <= EXACT_MS {
        return ms as u16;
    }
    let steps = (f64::from(ms) / f64::from(EXACT_MS)).ln() / GROWTH.ln();
    (EXACT_MS as u16 + steps as u16).min(BUCKETS - 1)
}

/// The latency a bucket stands for: its own millisecond, or the middle of its range.
fn bucket_ms(bucket: u16) -> u32 {
    if u32::from(bucket) <= EXACT_MS {
        return u32::from(bucket);
    }
    let low = f64::from(EXACT_MS) * GROWTH.powi(i32::from(bucket) - EXACT_MS as i32);
    (low * (1.0 + GROWTH) / 2.0).round() as u32
}

/// One process's last minutes for one upstream, in a form that adds up across processes:
/// what `worker` serves at `/upstreams` and the console merges with its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamTally {
    pub provider: String,
    pub answered: u32,
    pub throttled: u32,
    pub errors_5xx: u32,
    pub timeouts: u32,
    pub rejected: u32,
    /// Calls in the last minute (`RATE_WINDOW`).
    pub last_minute: u32,
    /// (bucket, calls) for each latency bucket with calls in it.
    pub latency: Vec<(u16, u32)>,
}

impl UpstreamTally {
    fn add(&mut self, other: &UpstreamTally) {
        self.answered += other.answered;
        self.throttled += other.throttled;
        self.errors_5xx += other.errors_5xx;
        self.timeouts += other.timeouts;
        self.rejected += other.rejected;
        self.last_minute += other.last_minute;
        let mut buckets: BTreeMap<u16, u32> = self.latency.iter().copied().collect();
        for (bucket, calls) in &other.latency {
            *buckets.entry(*bucket).or_default() += calls;
        }
        self.latency = buckets.into_iter().collect();
    }

    /// The latency below which `p` percent of the calls came back.
    fn percentile(&self, p: u64) -> u32 {
        let total: u64 = self.latency.iter().map(|(_, n)| u64::from(*n)).sum();
        if total == 0 {
            return 0;
        }
        let rank = (total - 1) * p / 100;
        let mut seen = 0u64;
        for (bucket, calls) in &self.latency {
            seen += u64::from(*calls);
            if seen > rank {
                return bucket_ms(*bucket);
            }
        }
        0
    }

    fn health(&self) -> UpstreamHealth {
        UpstreamHealth {
            provider: self.provider.clone(),
            window_secs: WINDOW.as_secs() as u32,
            calls_per_sec_tenths: self.last_minute * 10 / RATE_WINDOW.as_secs() as u32,
            answered: self.answered,
            throttled: self.throttled,
            errors_5xx: self.errors_5xx,
            timeouts: self.timeouts,
            rejected: self.rejected,
            p50_ms: self.percentile(50),
            p95_ms: self.percentile(95),
            p99_ms: self.percentile(99),
        }
    }
}

/// This process's tallies, one per upstream seen in the window.
pub fn tallies() -> Vec<UpstreamTally> {
    let Ok(samples) = SAMPLES.lock() else {
        return Vec::new();
    };
    let now = Instant::now();
    let mut by: BTreeMap<&str, (UpstreamTally, BTreeMap<u16, u32>)> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| now.duration_since(s.at) <= WINDOW)
    {
        let (t, latency) = by.entry(&s.provider).or_default();
        match s.outcome {
            Outcome::Answered => t.answered += 1,
            Outcome::Throttled => t.throttled += 1,
            Outcome::Error5xx => t.errors_5xx += 1,
            Outcome::Timeout => t.timeouts += 1,
            Outcome::Rejected => t.rejected += 1,
        }
        *latency.entry(bucket_of(s.latency_ms)).or_default() += 1;
        if now.duration_since(s.at) <= RATE_WINDOW {
            t.last_minute += 1;
        }
    }
    by.into_iter()
        .map(|(provider, (mut t, latency))| {
            t.provider = provider.to_string();
            t.latency = latency.into_iter().collect();
            t
        })
        .collect()
}

/// The panel's rows from tallies of one or more processes, added up per upstream.
pub fn health_of(tallies: impl IntoIterator<Item = UpstreamTally>) -> Vec<UpstreamHealth> {
    let mut by: BTreeMap<String, UpstreamTally> = BTreeMap::new();
    for t in tallies {
        match by.get_mut(&t.provider) {
            Some(sum) => sum.add(&t),
            None => {
                by.insert(t.provider.clone(), t);
            }
        }
    }
    by.values().map(UpstreamTally::health).collect()
}

/// Every upstream this process's workers called in the window, by name.
pub fn health() -> Vec<UpstreamHealth> {
    health_of(tallies())
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
        // 10..29 ms: the median 19 and the 99th 28, each read within 10 %.
        assert!((17..=21).contains(&up.p50_ms), "{}", up.p50_ms);
        assert!((26..=31).contains(&up.p99_ms), "{}", up.p99_ms);
        let slow = all.iter().find(|h| h.provider == "bank-slowdown").unwrap();
        assert_eq!((slow.throttled, slow.calls()), (8, 20));
        assert_eq!(slow.state_word(), "throttling");
        assert_eq!(Outcome::from_reason("http_503"), Outcome::Error5xx);
        assert_eq!(Outcome::from_reason("http_404"), Outcome::Rejected);
    }

    #[test]
    fn tallies_from_several_processes_add_up() {
        let tally = |answered: u32, ms: u32| UpstreamTally {
            provider: "bank".into(),
            answered,
            last_minute: answered,
            latency: vec![(bucket_of(ms), answered)],
            ..Default::default()
        };
        let fast = tally(90, 5);
        let slow = tally(10, 3_000);
        let merged = health_of([fast.clone(), slow]);
        assert_eq!(merged.len(), 1);
        let bank = &merged[0];
        assert_eq!(bank.answered, 100);
        assert_eq!(bank.calls_per_sec_tenths, 100 * 10 / 60);
        assert_eq!(bank.p50_ms, 5);
        // The slow tenth is the other process's: the 95th percentile is its latency.
        assert!((2_700..=3_300).contains(&bank.p95_ms), "{}", bank.p95_ms);
        assert_eq!(health_of([fast])[0].p95_ms, 5);
    }

    #[test]
    fn every_latency_reads_back_within_ten_percent() {
        for ms in [0u32, 1, 9, 10, 11, 57, 250, 1_999, 30_000, 60_000] {
            let back = bucket_ms(bucket_of(ms));
            let off = (f64::from(back) - f64::from(ms)).abs();
            assert!(
                off <= f64::from(ms) * 0.1 + 0.5,
                "{ms} ms reads back as {back}"
            );
        }
    }
}
