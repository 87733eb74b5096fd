//! What the dashboard lists about orders: the manual queue's and the stale list's rows and
//! filters, and an order's lane. Shared with the browser; filled by `operations`.

use serde::{Deserialize, Serialize};

use super::resolution::{ManualContext, StaleStatus};

/// Rows a list page shows at once.
pub const LIST_PAGE_SIZE: i32 = 50;

/// The manual queue's claim filters, as they appear in the page's query string.
pub mod claim_filter {
    pub const ALL: &str = "all";
    pub const UNCLAIMED: &str = "unclaimed";
    pub const MINE: &str = "mine";
    /// Proposed resolutions waiting for a second person (four eyes).
    pub const AWAITING_APPROVAL: &str = "awaiting";
}

/// The queue's age filter.
pub mod age_filter {
    pub const ANY: &str = "";
    /// Waiting longer than the service level's warning.
    pub const AT_RISK: &str = "at_risk";
    /// Waiting longer than the service level.
    pub const BREACHED: &str = "breached";
}

/// The queue as CSV: one line an order, amounts in the currency's own units.
pub fn queue_csv(rows: &[QueueRow]) -> String {
    use super::format::csv_line;
    let mut text = csv_line(&[
        "order_id",
        "upstream",
        "amount",
        "currency",
        "waiting_since_utc",
        "waiting_secs",
        "priority",
        "first_error",
        "stale_retry_error",
        "attempts",
        "claimed_by",
        "awaiting_approval",
        "notes",
        "reference",
    ]);
    for r in rows {
        let (amount, currency) = match &r.amount {
            Some(m) => {
                let text = m.to_string();
                let figure = text.split(' ').next().unwrap_or_default().to_string();
                (figure, m.currency.clone())
            }
            None => (String::new(), String::new()),
        };
        text.push_str(&csv_line(&[
            &r.order_id,
            &r.provider,
            &amount,
            &currency,
            &r.waiting_since,
            &r.waiting_secs.to_string(),
            &r.priority.to_string(),
            &r.original_reason,
            &r.error_reason,
            &r.attempts.map(|a| a.to_string()).unwrap_or_default(),
            &r.claimed_by,
            if r.awaiting_approval { "yes" } else { "no" },
            &r.notes.to_string(),
            &r.reference,
        ]));
    }
    text
}

/// The queue's amount bands, in the currency's major units: `[from, below)`.
pub mod amount_band {
    pub const ANY: &str = "";
    pub const BANDS: [(&str, &str, f64, f64); 4] = [
        ("small", "under 100", 0.0, 100.0),
        ("medium", "100 to 1,000", 100.0, 1_000.0),
        ("large", "1,000 to 10,000", 1_000.0, 10_000.0),
        ("huge", "10,000 and more", 10_000.0, f64::MAX),
    ];

    /// The `[from, below)` of a band's name.
    pub fn bounds(name: &str) -> Option<(f64, f64)> {
        BANDS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, _, from, below)| (*from, *below))
    }
}

/// The ageing board's columns: how long orders have waited, `[from, below)` seconds.
pub const AGE_COLUMNS: [(&str, i64, i64); 4] = [
    ("under 1 h", 0, 3_600),
    ("1 to 4 h", 3_600, 14_400),
    ("4 to 24 h", 14_400, 86_400),
    ("over 1 day", 86_400, i64::MAX),
];

/// What waits in the manual queue, in money: per currency, count and total, split by age.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitingBoard {
    pub rows: Vec<BoardRow>,
    /// Orders sent without an amount, per age column.
    pub unknown: [u64; 4],
    /// The board stopped counting at its limit (`MAX_BOARD_ORDERS`): the figures are a floor.
    pub truncated: bool,
    /// When it was counted (RFC 3339).
    pub counted_at: String,
    /// Orders at risk (past the warning, not yet past the service level) and past the
    /// service level (amounts weighed as it says).
    #[serde(default)]
    pub at_risk: u64,
    #[serde(default)]
    pub breached: u64,
    /// Orders someone has claimed, and those whose proposed resolution awaits approval.
    #[serde(default)]
    pub claimed: u64,
    #[serde(default)]
    pub awaiting_approval: u64,
    /// How long the oldest waiting order has waited, in seconds (0: none waits).
    #[serde(default)]
    pub oldest_secs: i64,
    /// How long the oldest proposal has awaited approval, where its time is recorded.
    #[serde(default)]
    pub oldest_approval_secs: i64,
}

/// The manual queue's counts, which every page's tabs read: a handful of visibility counts
/// and the list of claimed orders, made by the console's watch every few seconds for all
/// its pages (see `web::live::watch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueTally {
    pub all: u64,
    pub unclaimed: u64,
    pub awaiting_approval: u64,
    /// Past the service level, and past its warning but not yet past it (amounts weighed
    /// as it says).
    pub breached: u64,
    pub at_risk: u64,
    /// Claimed orders per claimant, for each person's "Mine" tab. Kept on the server: a
    /// browser is shown its own figure, never the list of who holds what.
    #[serde(skip)]
    pub claims: std::collections::BTreeMap<String, u64>,
    /// When it was counted (RFC 3339).
    pub counted_at: String,
}

impl QueueTally {
    /// Orders `who` has claimed.
    pub fn claimed_by(&self, who: &str) -> u64 {
        self.claims.get(who).copied().unwrap_or(0)
    }

    /// Orders someone has claimed.
    pub fn claimed(&self) -> u64 {
        self.all.saturating_sub(self.unclaimed)
    }
}

/// One currency's line of the board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardRow {
    pub currency: String,
    pub exponent: u32,
    /// Orders and total minor units, per age column.
    pub count: [u64; 4],
    pub total: [i64; 4],
}

impl BoardRow {
    pub fn all_count(&self) -> u64 {
        self.count.iter().sum()
    }
    pub fn all_total(&self) -> i64 {
        self.total.iter().fold(0i64, |a, b| a.saturating_add(*b))
    }
    /// A total of this currency, as people read it (grouped by thousands).
    pub fn money(&self, minor: i64) -> String {
        super::money::format_amount_grouped(minor, &self.currency, self.exponent)
    }
}

/// What the board reads of one waiting order.
#[derive(Debug, Clone, Default)]
pub struct Waiting<'a> {
    pub amount: Option<&'a super::money::Money>,
    pub waiting_secs: i64,
    pub claimed: bool,
    pub awaiting_approval: bool,
    /// Seconds since the resolution was proposed, where the order recorded it.
    pub proposed_secs: Option<i64>,
}

impl WaitingBoard {
    /// Counts one waiting order against the service level.
    pub fn count(&mut self, order: &Waiting, sla: &ServiceLevel) {
        match sla.band_of(order.waiting_secs, order.amount) {
            AgeBand::Within => {}
            AgeBand::AtRisk => self.at_risk += 1,
            AgeBand::Breached => self.breached += 1,
        }
        self.claimed += u64::from(order.claimed);
        if order.awaiting_approval {
            self.awaiting_approval += 1;
            self.oldest_approval_secs = self
                .oldest_approval_secs
                .max(order.proposed_secs.unwrap_or_default());
        }
        self.oldest_secs = self.oldest_secs.max(order.waiting_secs);
        self.add(order.amount, order.waiting_secs);
    }

    /// Every waiting order counted.
    pub fn orders(&self) -> u64 {
        self.rows.iter().map(BoardRow::all_count).sum::<u64>() + self.unknown.iter().sum::<u64>()
    }

    /// Counts one waiting order's money.
    pub fn add(&mut self, amount: Option<&super::money::Money>, waiting_secs: i64) {
        let column = AGE_COLUMNS
            .iter()
            .position(|(_, from, below)| waiting_secs >= *from && waiting_secs < *below)
            .unwrap_or(0);
        let Some(money) = amount else {
            self.unknown[column] += 1;
            return;
        };
        let row = match self.rows.iter().position(|r| r.currency == money.currency) {
            Some(i) => &mut self.rows[i],
            None => {
                self.rows.push(BoardRow {
                    currency: money.currency.clone(),
                    exponent: money.exponent,
                    ..Default::default()
                });
                self.rows.sort_by(|a, b| a.currency.cmp(&b.currency));
                let i = self
                    .rows
                    .iter()
                    .position(|r| r.currency == money.currency)
                    .unwrap_or(0);
                &mut self.rows[i]
            }
        };
        row.count[column] += 1;
        row.total[column] = row.total[column].saturating_add(money.minor);
    }
}

/// How long an order may wait in the manual queue (`[dashboard] sla_at_risk_minutes`,
/// `sla_breach_minutes`), and sooner for large orders (`[dashboard.sla_large]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevel {
    /// Seconds (configured in minutes, fractions allowed).
    pub at_risk_secs: u32,
    pub breach_secs: u32,
    /// A claim held this long without a resolution shows as stale: a lead may take it
    /// over (`[dashboard] claim_stale_minutes`).
    #[serde(default = "default_stale_claim_mins")]
    pub stale_claim_mins: u32,
    /// Large orders are urgent sooner: their own minutes, from an amount per currency.
    #[serde(default)]
    pub large: LargeOrders,
}

/// The service level of large orders: an order of at least `from`'s amount in its
/// currency is at risk after `at_risk_secs` and past the service level after
/// `breach_secs`. Currencies not listed (and orders of unknown amount) are never large.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LargeOrders {
    pub at_risk_secs: u32,
    pub breach_secs: u32,
    /// Per currency, the smallest large amount in its minor units, sorted by currency.
    pub from: Vec<LargeFrom>,
}

/// Orders of at least `minor` units of `currency` are large.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LargeFrom {
    pub currency: String,
    pub exponent: u32,
    pub minor: i64,
}

impl LargeFrom {
    /// The threshold in the currency's major units, as the `OrderAmount` attribute holds it.
    pub fn major(&self) -> f64 {
        self.minor as f64 / 10f64.powi(self.exponent as i32)
    }
}

fn default_stale_claim_mins() -> u32 {
    60
}

impl Default for ServiceLevel {
    fn default() -> Self {
        ServiceLevel {
            at_risk_secs: 30 * 60,
            breach_secs: 120 * 60,
            stale_claim_mins: default_stale_claim_mins(),
            large: LargeOrders::default(),
        }
    }
}

/// Where an order's wait stands against the service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBand {
    Within,
    AtRisk,
    Breached,
}

impl ServiceLevel {
    /// The band of an order of unknown or ordinary amount.
    pub fn band(&self, waiting_secs: i64) -> AgeBand {
        self.band_of(waiting_secs, None)
    }

    /// Whether an order of this amount is large (its own, shorter service level).
    pub fn is_large(&self, amount: Option<&super::money::Money>) -> bool {
        amount.is_some_and(|m| {
            self.large
                .from
                .iter()
                .any(|f| f.currency == m.currency && m.minor >= f.minor)
        })
    }

    /// The at-risk and breach seconds that hold for an order of this amount.
    pub fn seconds_for(&self, amount: Option<&super::money::Money>) -> (u32, u32) {
        match self.is_large(amount) {
            true => (self.large.at_risk_secs, self.large.breach_secs),
            false => (self.at_risk_secs, self.breach_secs),
        }
    }

    /// Where an order of this amount that has waited `waiting_secs` stands.
    pub fn band_of(&self, waiting_secs: i64, amount: Option<&super::money::Money>) -> AgeBand {
        let (at_risk, breach) = self.seconds_for(amount);
        match waiting_secs {
            s if s >= i64::from(breach) => AgeBand::Breached,
            s if s >= i64::from(at_risk) => AgeBand::AtRisk,
            _ => AgeBand::Within,
        }
    }

    /// Seconds of waiting an age filter asks for at least, for ordinary and for large
    /// orders; `None` for any age.
    pub fn older_than_secs(&self, filter: &str) -> Option<(u32, u32)> {
        match filter {
            age_filter::AT_RISK => Some((self.at_risk_secs, self.large.at_risk_secs)),
            age_filter::BREACHED => Some((self.breach_secs, self.large.breach_secs)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRow {
    pub order_id: String,
    pub provider: String,
    pub waiting_since: String,
    pub waiting_secs: i64,
    pub priority: i64,
    /// Why QueryOrder gave up (empty for orders handed off before it was recorded).
    pub original_reason: String,
    /// Why the stale retry failed: the latest error.
    pub error_reason: String,
    pub attempts: Option<i64>,
    pub claimed_by: String,
    /// How long the claim has been held, in seconds (claims made before it was recorded:
    /// unknown).
    #[serde(default)]
    pub claimed_secs: Option<i64>,
    /// A proposed resolution awaits a second person's approval.
    #[serde(default)]
    pub awaiting_approval: bool,
    /// What the order is for (`None`: amount unknown).
    #[serde(default)]
    pub amount: Option<super::money::Money>,
    /// Notes colleagues left on it (orders noted before they were counted: 0).
    #[serde(default)]
    pub notes: u32,
    /// The gateway's reference for it, which a merchant or a statement quotes (empty when
    /// the gateway sent none, or the order waited since before it was listed).
    #[serde(default)]
    pub reference: String,
}

impl QueueRow {
    /// Whether the claim has been held past the service level's stale-claim time.
    pub fn claim_is_stale(&self, sla: &ServiceLevel) -> bool {
        !self.claimed_by.is_empty()
            && self
                .claimed_secs
                .is_some_and(|s| s >= i64::from(sla.stale_claim_mins) * 60)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Opaque token for the next page, if there is one.
    pub next_page: Option<String>,
    pub matching: usize,
    pub all: usize,
    pub unclaimed: usize,
    pub mine: usize,
    #[serde(default)]
    pub awaiting_approval: usize,
    /// Orders past the service level (whatever the other filters).
    #[serde(default)]
    pub breached: usize,
    /// The service level the ages are read against.
    #[serde(default)]
    pub service_level: ServiceLevel,
    /// Whether the server sorted oldest first (SQL visibility cannot sort).
    pub oldest_first: bool,
    /// When the tab counts were counted (RFC 3339): they come from the console's shared
    /// count of what waits, not from this page's own queries.
    #[serde(default)]
    pub counted_at: String,
    pub operator: Option<String>,
    /// Orders that dropped out of every queue, as the console's watch last read them, and
    /// whether more are dropped than its list holds (`DROPPED_READ`).
    #[serde(default)]
    pub dropped: usize,
    #[serde(default)]
    pub dropped_more: bool,
}

/// Most orders one bulk action (a retry, a question to the bank) touches: the pages offer
/// it only to a filter that holds no more.
pub const BULK_LIMIT: usize = 500;

/// The manual queue's filters, as they appear in the page's query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    pub prefix: String,
    pub provider: String,
    pub reason: String,
    /// One of [`claim_filter`].
    pub claim: String,
    /// One of [`age_filter`].
    #[serde(default)]
    pub age: String,
    /// An ISO 4217 code, or empty for every currency.
    #[serde(default)]
    pub currency: String,
    /// One of [`amount_band::BANDS`]' names, or empty.
    #[serde(default)]
    pub band: String,
}

impl QueueFilter {
    /// The queue's address with this filter and another claim tab. Every value is
    /// percent-encoded: a filter typed as `Bank & Trust` or `50%` comes back as typed.
    pub fn link(&self, claim: &str) -> String {
        use crate::domain::format::url_component as enc;
        format!(
            "/?prefix={}&provider={}&reason={}&claim={}&age={}&currency={}&band={}",
            enc(&self.prefix),
            enc(&self.provider),
            enc(&self.reason),
            enc(claim),
            enc(&self.age),
            enc(&self.currency),
            enc(&self.band)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleRow {
    pub order_id: String,
    pub provider: String,
    pub retry_at: String,
    /// Seconds until the retry when the page was made; negative once due.
    pub retry_in_secs: i64,
    pub error_reason: String,
    /// Upstream queries so far; unknown for orders handed off before it was recorded.
    pub attempts: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StalePage {
    pub rows: Vec<StaleRow>,
    pub matching: usize,
    pub next_page: Option<String>,
}

/// The stale list's filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StaleFilter {
    pub provider: String,
    pub reason: String,
}

impl StaleFilter {
    /// The stale list's address with this filter.
    pub fn link(&self) -> String {
        use crate::domain::format::url_component;
        let (provider, reason) = (url_component(&self.provider), url_component(&self.reason));
        format!("/stale?provider={provider}&reason={reason}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: String,
    pub what: String,
}

/// A call a running stage is making now (an activity Temporal holds for it, with its
/// retries): "asking the bank, attempt 3 of 5, the last try answered 503, the next in 40 s".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCall {
    /// What it does, in words ("asking the bank about the order").
    pub what: String,
    /// This try (1 for the first).
    pub attempt: u32,
    /// Most tries it makes; 0 when Temporal sets no bound.
    pub max_attempts: u32,
    /// When the call was first scheduled (RFC 3339).
    pub since: String,
    /// Why the last try failed, as the worker reported it; empty before any failed.
    pub last_failure: String,
    /// When the last try ended (RFC 3339), if one did.
    pub last_tried_at: String,
    /// When the next try is due (RFC 3339), while it waits out its backoff.
    pub next_try_at: String,
}

impl PendingCall {
    /// "attempt 3 of 5", or "attempt 3" with no bound.
    pub fn attempts_text(&self) -> String {
        match self.max_attempts {
            0 => format!("attempt {}", self.attempt),
            max => format!("attempt {} of {max}", self.attempt),
        }
    }
}

/// One workflow of an order's path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneStage {
    pub workflow_id: String,
    pub workflow_type: String,
    pub status: String,
    pub started_at: String,
    pub closed_at: String,
    /// This execution in Temporal's web UI.
    pub temporal_link: String,
    /// The newest events, in the order they happened.
    pub timeline: Vec<TimelineEvent>,
    /// The run has older events than the timeline shows (see them in Temporal's UI).
    #[serde(default)]
    pub earlier_events: bool,
    /// The calls it is making now, while it runs (from Temporal's description of it).
    #[serde(default)]
    pub pending: Vec<PendingCall>,
}

/// An order as *Find an order* lists it: where it stands, from its furthest run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundOrder {
    pub order_id: String,
    /// `querying`, `stale`, `manual`, `resolved`, or `dropped` (its furthest run ended
    /// without a resolution).
    pub stage: String,
    /// `paid`, `failed` …: once resolved.
    pub resolution: String,
    /// How its furthest run ended when it did not complete ("terminated" …).
    pub ended: String,
    pub provider: String,
    pub amount: Option<super::money::Money>,
    /// The gateway's reference for it, if the gateway sent one.
    #[serde(default)]
    pub reference: String,
    /// When its first listed run started (RFC 3339).
    pub started_at: String,
}

impl FoundOrder {
    /// Where it stands in a few words: "manual", "resolved (paid)", "dropped (terminated)".
    pub fn standing(&self) -> String {
        match [self.resolution.as_str(), self.ended.as_str()]
            .into_iter()
            .find(|w| !w.is_empty())
        {
            Some(how) => format!("{} ({how})", self.stage),
            None => self.stage.clone(),
        }
    }
}

/// What *Find an order* found for the text typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FoundOrders {
    /// The text as searched (trimmed).
    pub text: String,
    /// Newest first.
    pub rows: Vec<FoundOrder>,
    /// More orders start with the text than were read: type more of the id.
    pub more: bool,
    /// The text is the id of a recurring contract of ours (looked for when no order
    /// matched).
    #[serde(default)]
    pub contract: Option<String>,
}

/// An order's whole path across QueryOrder → StaleOrder → ManualHandle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLane {
    pub order_id: String,
    pub stages: Vec<LaneStage>,
    pub stale: Option<StaleStatus>,
    pub manual: Option<ManualContext>,
    /// The open stage, if any: `stale` or `manual` allow actions.
    pub open_stage: Option<String>,
    pub operator: Option<String>,
    /// When the server read it (RFC 3339): ages on the page count from here.
    #[serde(default)]
    pub now: String,
    /// When no run holds the order and it was not resolved: the run that ended unresolved.
    #[serde(default)]
    pub dropped: Option<DroppedOrder>,
    /// Notes people left on the order's earlier manual runs, before it was put back (each
    /// run keeps its own), oldest first.
    #[serde(default)]
    pub earlier_notes: Vec<super::resolution::OrderNote>,
    /// Statement entries booked for this order that an approver left out of the import's
    /// approval (each then waits for a person), newest first.
    #[serde(default)]
    pub left_out: Vec<super::statement::LeftOutNotice>,
    /// Why the open stage's live state (claim, proposal, notes, timer) could not be read,
    /// when it could not: no worker runs its queue, or none answered in time. The lane then
    /// shows its path from Temporal's history and offers no action.
    #[serde(default)]
    pub unread: Option<String>,
    /// What the order is for, as the gateway sent it (the input its first run was started
    /// with, from Temporal's history): shown on every lane, whatever its stage.
    #[serde(default)]
    pub order: Option<super::order::OrderRequest>,
    /// The resolution the order's furthest run returned when it completed (from its close
    /// event): how an order the bank's answer settled was resolved, and a resolved order's
    /// record when no worker answers its query.
    #[serde(default)]
    pub returned: Option<super::resolution::ResolutionRecord>,
}

/// How one upstream (bank or wallet) has answered over the last minutes, from the calls
/// the workers in this process made: "is the bank down, or is it us?".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamHealth {
    pub provider: String,
    /// The window the figures cover, in seconds.
    pub window_secs: u32,
    /// Calls a second over the last minute, in tenths (25 is 2.5/s).
    pub calls_per_sec_tenths: u32,
    /// Answers with a verdict or `pending`.
    pub answered: u32,
    /// 429: the upstream asked us to slow down.
    pub throttled: u32,
    pub errors_5xx: u32,
    pub timeouts: u32,
    /// 4xx other than 429 (an unknown order is a 404), and transport failures.
    pub rejected: u32,
    pub p50_ms: u32,
    pub p95_ms: u32,
    pub p99_ms: u32,
}

/// What the figures say, in a word a person reads at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamState {
    Quiet,
    Healthy,
    Slow,
    Throttling,
    Down,
}

impl UpstreamHealth {
    pub fn calls(&self) -> u32 {
        self.answered + self.throttled + self.errors_5xx + self.timeouts + self.rejected
    }

    pub fn state(&self) -> UpstreamState {
        let calls = self.calls();
        if calls == 0 {
            return UpstreamState::Quiet;
        }
        let share = |n: u32| n * 100 / calls;
        if share(self.errors_5xx + self.timeouts) >= 50 {
            UpstreamState::Down
        } else if share(self.throttled) >= 10 {
            UpstreamState::Throttling
        } else if self.p95_ms >= 2_000 {
            UpstreamState::Slow
        } else {
            UpstreamState::Healthy
        }
    }

    pub fn state_word(&self) -> &'static str {
        match self.state() {
            UpstreamState::Quiet => "quiet",
            UpstreamState::Healthy => "healthy",
            UpstreamState::Slow => "slow",
            UpstreamState::Throttling => "throttling",
            UpstreamState::Down => "down",
        }
    }
}

#[cfg(test)]
mod board_tests {
    use super::*;
    use crate::domain::money::Money;

    #[test]
    fn the_board_adds_money_per_currency_and_age_and_counts_the_unknown_apart() {
        let usd = |minor| Money {
            minor,
            currency: "USD".into(),
            exponent: 2,
        };
        let jpy = Money {
            minor: 5_000,
            currency: "JPY".into(),
            exponent: 0,
        };
        let mut board = WaitingBoard::default();
        board.add(Some(&usd(1_250)), 60);
        board.add(Some(&usd(750)), 90);
        board.add(Some(&usd(10_000)), 5 * 3_600);
        board.add(Some(&jpy), 2 * 86_400);
        board.add(None, 10);
        assert_eq!(board.rows.len(), 2);
        let (jpy_row, usd_row) = (&board.rows[0], &board.rows[1]);
        assert_eq!(usd_row.count, [2, 0, 1, 0]);
        assert_eq!(usd_row.money(usd_row.total[0]), "20.00 USD");
        assert_eq!(usd_row.money(usd_row.all_total()), "120.00 USD");
        assert_eq!(jpy_row.count, [0, 0, 0, 1]);
        assert_eq!(jpy_row.money(jpy_row.all_total()), "5,000 JPY");
        assert_eq!(board.unknown, [1, 0, 0, 0]);
        assert_eq!(amount_band::bounds("large"), Some((1_000.0, 10_000.0)));
        assert_eq!(amount_band::bounds("giant"), None);
    }
}

#[cfg(test)]
mod service_level_tests {
    use super::*;
    use crate::domain::money::Money;

    fn sla() -> ServiceLevel {
        ServiceLevel {
            large: LargeOrders {
                at_risk_secs: 10 * 60,
                breach_secs: 30 * 60,
                from: vec![LargeFrom {
                    currency: "USD".into(),
                    exponent: 2,
                    minor: 500_000,
                }],
            },
            ..ServiceLevel::default()
        }
    }

    #[test]
    fn a_large_order_is_urgent_sooner_and_other_currencies_and_unknown_amounts_are_not_large() {
        let usd = |minor| Money {
            minor,
            currency: "USD".into(),
            exponent: 2,
        };
        let sla = sla();
        let forty_minutes = 40 * 60;
        assert_eq!(
            sla.band_of(forty_minutes, Some(&usd(500_000))),
            AgeBand::Breached
        );
        assert_eq!(sla.band_of(15 * 60, Some(&usd(900_000))), AgeBand::AtRisk);
        assert_eq!(
            sla.band_of(forty_minutes, Some(&usd(499_999))),
            AgeBand::AtRisk
        );
        let eur = Money {
            minor: 9_000_000,
            currency: "EUR".into(),
            exponent: 2,
        };
        assert!(!sla.is_large(Some(&eur)));
        assert_eq!(sla.band_of(forty_minutes, Some(&eur)), AgeBand::AtRisk);
        assert_eq!(sla.band_of(forty_minutes, None), AgeBand::AtRisk);
        assert_eq!(
            ServiceLevel::default().band_of(forty_minutes, Some(&usd(500_000))),
            AgeBand::AtRisk,
            "without [dashboard.sla_large] amounts do not weigh"
        );
    }

    #[test]
    fn the_board_counts_the_service_level_claims_approvals_and_the_oldest() {
        let big = Money {
            minor: 600_000,
            currency: "USD".into(),
            exponent: 2,
        };
        let mut board = WaitingBoard::default();
        let sla = sla();
        board.count(
            &Waiting {
                amount: Some(&big),
                waiting_secs: 31 * 60,
                claimed: true,
                ..Default::default()
            },
            &sla,
        );
        board.count(
            &Waiting {
                waiting_secs: 45 * 60,
                awaiting_approval: true,
                proposed_secs: Some(600),
                ..Default::default()
            },
            &sla,
        );
        board.count(
            &Waiting {
                waiting_secs: 60,
                ..Default::default()
            },
            &sla,
        );
        assert_eq!((board.breached, board.at_risk), (1, 1));
        assert_eq!((board.claimed, board.awaiting_approval), (1, 1));
        assert_eq!(
            (board.oldest_secs, board.oldest_approval_secs),
            (45 * 60, 600)
        );
        assert_eq!(board.orders(), 3);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_run_reads_as_one_sentence_with_what_is_known() {
        let mut row = DroppedOrder {
            order_id: "ORD-1".into(),
            workflow_id: "manual-ORD-1".into(),
            stage: "ManualHandle".into(),
            ended: "terminated".into(),
            ended_at: "2026-12-07T10:00:00Z".into(),
            by: "temporal-cli:ops@host".into(),
            why: "cleanup".into(),
        };
        assert_eq!(
            row.sentence(),
            "ManualHandle manual-ORD-1 terminated by temporal-cli:ops@host at \
             2026-12-07T10:00:00Z: cleanup"
        );
        // A run that failed on its own names nobody.
        row.ended = "failed".into();
        row.by.clear();
        row.why.clear();
        assert_eq!(
            row.sentence(),
            "ManualHandle manual-ORD-1 failed at 2026-12-07T10:00:00Z"
        );
    }

    /// The query of a link, read back as a browser's form would send it.
    fn read_back(link: &str) -> Vec<(String, String)> {
        let query = link.split_once('?').map_or("", |(_, q)| q);
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn a_queue_link_carries_every_filter_back_as_typed() {
        let filter = QueueFilter {
            prefix: "A+B".into(),
            provider: "Bank & Trust".into(),
            reason: "50% #1 é".into(),
            claim: "unclaimed".into(),
            age: "at_risk".into(),
            currency: "MYR".into(),
            band: "large".into(),
        };
        let link = filter.link("mine");
        assert!(link.starts_with("/?"), "{link}");
        assert!(!link.contains('#') && !link.contains(' '), "{link}");
        let pairs = read_back(&link);
        let want = [
            ("prefix", "A+B"),
            ("provider", "Bank & Trust"),
            ("reason", "50% #1 é"),
            ("claim", "mine"),
            ("age", "at_risk"),
            ("currency", "MYR"),
            ("band", "large"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, want);
    }

    #[test]
    fn a_stale_link_carries_its_filter_back_as_typed() {
        let filter = StaleFilter {
            provider: "Bank & Trust".into(),
            reason: "a+b".into(),
        };
        let pairs = read_back(&filter.link());
        assert_eq!(
            pairs,
            vec![
                ("provider".to_string(), "Bank & Trust".to_string()),
                ("reason".to_string(), "a+b".to_string())
            ]
        );
    }
}

/// How far back the dropped-orders list looks for runs that ended unresolved.
pub const DROPPED_WINDOW_DAYS: u64 = 30;

/// An order whose latest run ended without a resolution and that no run holds now: it
/// waits in no queue until a person puts it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedOrder {
    pub order_id: String,
    pub workflow_id: String,
    /// The stage's workflow type (`QueryOrder`, `StaleOrder`, `ManualHandle`).
    pub stage: String,
    /// `terminated`, `failed`, `timed out` or `cancelled`.
    pub ended: String,
    pub ended_at: String,
    /// Who ended it, as Temporal recorded the client (a terminate's identity); empty when
    /// the run ended on its own.
    pub by: String,
    /// The reason given, or the failure's message.
    pub why: String,
}

impl DroppedOrder {
    /// The run and how it ended, in a sentence a put-back records.
    pub fn sentence(&self) -> String {
        let mut s = format!("{} {} {}", self.stage, self.workflow_id, self.ended);
        if !self.by.is_empty() {
            s += &format!(" by {}", self.by);
        }
        if !self.ended_at.is_empty() {
            s += &format!(" at {}", self.ended_at);
        }
        if !self.why.is_empty() {
            s += &format!(": {}", self.why);
        }
        s
    }
}

/// The dropped orders of the last days the list reads; `partial` when more runs ended
/// unresolved than it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedOrders {
    pub rows: Vec<DroppedOrder>,
    pub partial: bool,
}
