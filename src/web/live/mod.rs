//! What the live page shows, pushed by server-sent events from one server-side poller
//! (fifty browsers cost Temporal what one does).

use serde::{Deserialize, Serialize};

use crate::domain::order::StageCounts;

/// A rate in tenths per second. The browser never formats or parses a float: that code
/// alone was about 30 KB of the WASM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tenths(pub u32);

impl Tenths {
    /// The nearest tenth; negative and non-finite rates are zero.
    pub fn from_rate(rate: f64) -> Tenths {
        if rate.is_finite() && rate > 0.0 {
            Tenths((rate * 10.0).round().min(u32::MAX as f64) as u32)
        } else {
            Tenths(0)
        }
    }

    pub fn as_rate(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// `12.5`, or `2.0` as `2` when `whole` is set.
    pub fn show(self, whole: bool) -> String {
        match (self.0 % 10, whole) {
            (0, true) => format!("{}", self.0 / 10),
            (tenth, _) => format!("{}.{tenth}", self.0 / 10),
        }
    }
}

/// What every open browser sees, once a second.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    pub counts: StageCounts,
    /// Orders resolved per second over the last poll.
    pub resolved_per_sec: Tenths,
    pub at: String,
    /// Simulated orders per second being started by this server, if any.
    pub simulating: Option<Tenths>,
    /// Those simulated orders run at demo pace (a short stale wait), not production's.
    #[serde(default)]
    pub demo_pace: bool,
    /// Percent of upstream queries that fail (5xx), when this server runs the simulator.
    pub upstream_failure_pct: Option<u32>,
    /// Percent answered 429 (throttled), when this server runs the simulator.
    #[serde(default)]
    pub upstream_throttle_pct: Option<u32>,
    /// Each upstream's last minutes, from this process's workers (no Temporal call).
    #[serde(default)]
    pub upstreams: Vec<crate::domain::listing::UpstreamHealth>,
    /// Upstream calls a second Temporal dispatches to every worker together, in tenths.
    #[serde(default)]
    pub dispatch_limit_tenths: u32,
    /// This process runs workers that call upstreams; without them the panel is empty
    /// whatever the banks do, and says why.
    #[serde(default)]
    pub sees_upstream_calls: bool,
    /// Workers (`dashboard.worker_upstreams`) that did not answer this time: their calls
    /// are missing from the panel.
    #[serde(default)]
    pub silent_workers: Vec<String>,
}

/// The upstream panel's rows, whether any calls can be seen at all, and the workers that
/// did not answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpstreamView {
    pub rows: Vec<crate::domain::listing::UpstreamHealth>,
    pub sees_calls: bool,
    pub silent_workers: Vec<String>,
}

#[cfg(feature = "ssr")]
pub mod board;
#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod stream;
#[cfg(feature = "ssr")]
pub mod watch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_show_in_tenths_without_floats_in_the_browser() {
        assert_eq!(Tenths::from_rate(2.0).show(true), "2");
        assert_eq!(Tenths::from_rate(2.0).show(false), "2.0");
        assert_eq!(Tenths::from_rate(0.5).show(true), "0.5");
        assert_eq!(Tenths::from_rate(12.34).show(false), "12.3");
        assert_eq!(Tenths::from_rate(f64::NAN), Tenths(0));
        assert_eq!(Tenths::from_rate(-3.0), Tenths(0));
    }
}
