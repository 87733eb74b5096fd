//! Payment orders: what the gateway tells us about one, the stages it goes through, how it
//! ends, how hard the workflows try, and the ids of its workflows.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::input::{ENVIRONMENT, InputError, validate_order_id};

/// Order priorities run from 1 (most urgent) to 5; orders that do not say are 3.
pub const MOST_URGENT_PRIORITY: i64 = 1;
pub const LEAST_URGENT_PRIORITY: i64 = 5;
pub const DEFAULT_PRIORITY: i64 = 3;
/// The Go original's priority words (`-p low|normal|high|urgent`) and the numbers they
/// mean here. 5 has no word: it is below the original's range.
pub const PRIORITY_WORDS: [(&str, i64); 4] =
    [("urgent", 1), ("high", 2), ("normal", 3), ("low", 4)];
/// The Go original's environment words (`-e dev|staging|prod`) and the names they mean.
pub const ENVIRONMENT_WORDS: [(&str, &str); 3] = [
    ("dev", "development"),
    ("staging", "staging"),
    ("prod", "production"),
];

/// Reads a priority as a number (1 most urgent to 5) or one of [`PRIORITY_WORDS`].
pub fn parse_priority(text: &str) -> Result<i64, InputError> {
    let wanted = text.trim().to_ascii_lowercase();
    if let Some((_, n)) = PRIORITY_WORDS.iter().find(|(word, _)| *word == wanted) {
        return Ok(*n);
    }
    wanted.parse::<i64>().map_err(|_| {
        InputError::not_one_of(
            "a priority",
            text,
            "a number from 1 (most urgent) to 5, or one of urgent, high, normal, low",
        )
    })
}

/// Reads an environment: one of [`ENVIRONMENT_WORDS`] (as the Go original wrote them), or
/// a name of letters, digits, '-', '_' and '.'.
pub fn parse_environment(text: &str) -> Result<String, InputError> {
    let wanted = text.trim().to_ascii_lowercase();
    if let Some((_, name)) = ENVIRONMENT_WORDS.iter().find(|(word, _)| *word == wanted) {
        return Ok(name.to_string());
    }
    ENVIRONMENT.check(&wanted)?;
    Ok(wanted)
}

/// Who resolved an order when the upstream gave the verdict by itself.
pub const SYSTEM_OPERATOR: &str = "system";

/// Where an order is in its reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// QueryOrder is asking the upstream, with retries.
    Querying,
    /// StaleOrder waits on its durable timer before one more query.
    Stale,
    /// ManualHandle waits for tech support.
    Manual,
    /// Done: see the resolution.
    Resolved,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Querying,
        Stage::Stale,
        Stage::Manual,
        Stage::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Querying => "querying",
            Stage::Stale => "stale",
            Stage::Manual => "manual",
            Stage::Resolved => "resolved",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an order ended. The first two come from the upstream; all may come from a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    Paid,
    Failed,
    Refunded,
    Cancelled,
}

impl Resolution {
    pub const ALL: [Resolution; 4] = [
        Resolution::Paid,
        Resolution::Failed,
        Resolution::Refunded,
        Resolution::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Paid => "paid",
            Resolution::Failed => "failed",
            Resolution::Refunded => "refunded",
            Resolution::Cancelled => "cancelled",
        }
    }

    /// Parses a resolution as people type it (`Paid`, `paid`, ` PAID `).
    pub fn parse(text: &str) -> Result<Resolution, InputError> {
        let wanted = text.trim().to_ascii_lowercase();
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                InputError::not_one_of(
                    "a resolution",
                    text,
                    "one of paid, failed, refunded, cancelled",
                )
            })
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the gateway told us about an order, carried through every stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub order_id: String,
    /// Which bank or wallet to ask.
    pub provider: String,
    pub business_unit: String,
    pub environment: String,
    /// [`MOST_URGENT_PRIORITY`] to [`LEAST_URGENT_PRIORITY`].
    pub priority: i64,
    pub policy: ReconcilePolicy,
    /// The resolutions a second person must approve on this order, fixed when it starts
    /// (from the starter's `[approval] resolutions`): a later change of configuration
    /// does not rewrite a running order's rules. `None` in orders started before it was
    /// recorded: they are held to [`DEFAULT_FOUR_EYES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub four_eyes: Option<Vec<Resolution>>,
    /// What the order is for, as the gateway sent it; `None` for orders sent without one
    /// (and every order started before amounts were carried): "amount unknown", never 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<super::money::Money>,
    /// The gateway's own reference for the order (what a bank statement quotes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the gateway created the order (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl OrderRequest {
    /// A simulated payment, as the live page and `client simulate-payment` start them.
    pub fn simulated(order_id: String, policy: ReconcilePolicy) -> Self {
        OrderRequest {
            order_id,
            provider: "simbank".into(),
            business_unit: "payments".into(),
            environment: "simulation".into(),
            priority: DEFAULT_PRIORITY,
            policy,
            four_eyes: None,
            amount: None,
            reference: None,
            created_at: None,
        }
    }

    /// Its priority as people read it: "3 (normal)", or the bare number past the Go
    /// original's words.
    pub fn priority_shown(&self) -> String {
        PRIORITY_WORDS
            .iter()
            .find(|(_, n)| *n == self.priority)
            .map_or_else(
                || self.priority.to_string(),
                |(word, n)| format!("{n} ({word})"),
            )
    }

    /// Where the order came from: "upstream simbank · business unit payments ·
    /// environment production · priority 3 (normal)".
    pub fn origin(&self) -> String {
        format!(
            "upstream {} · business unit {} · environment {} · priority {}",
            self.provider,
            self.business_unit,
            self.environment,
            self.priority_shown()
        )
    }

    /// The whole order in one line, for a terminal: its amount ("amount unknown" when the
    /// gateway sent none), reference, creation time and [`Self::origin`].
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "amount {}",
            super::money::amount_shown(self.amount.as_ref())
        )];
        if let Some(reference) = &self.reference {
            parts.push(format!("reference {reference}"));
        }
        if let Some(at) = &self.created_at {
            parts.push(format!("created {at}"));
        }
        parts.push(self.origin());
        parts.join(" · ")
    }

    /// Whether a person's `resolution` of this order needs a second person's approval.
    pub fn needs_approval(&self, resolution: Resolution) -> bool {
        self.four_eyes_rule().contains(&resolution)
    }

    /// The resolutions that need a second person on this order.
    pub fn four_eyes_rule(&self) -> &[Resolution] {
        self.four_eyes.as_deref().unwrap_or(&DEFAULT_FOUR_EYES)
    }

    /// Everything Temporal would be asked to store, checked first.
    pub fn validate(&self) -> Result<(), InputError> {
        validate_order_id(&self.order_id)?;
        self.policy.validate()?;
        if !(MOST_URGENT_PRIORITY..=LEAST_URGENT_PRIORITY).contains(&self.priority) {
            return Err(InputError::out_of_range(
                "priority",
                self.priority,
                format!("between {MOST_URGENT_PRIORITY} (most urgent) and {LEAST_URGENT_PRIORITY}"),
            ));
        }
        if let Some(amount) = &self.amount {
            super::money::check_money(amount)?;
        }
        if let Some(reference) = &self.reference {
            super::input::GATEWAY_REFERENCE.check(reference)?;
        }
        if let Some(at) = &self.created_at {
            super::format::check_rfc3339("the order's creation time", at)?;
        }
        Ok(())
    }
}

/// Most upstream queries one stage may make before it gives up.
pub const MAX_ATTEMPTS: u32 = 100;
/// Longest first backoff between queries (ten minutes).
pub const MAX_BACKOFF_MS: u64 = 600_000;
/// Longest single upstream call (five minutes).
pub const MAX_CALL_TIMEOUT_MS: u64 = 300_000;
/// Longest a stale order waits before its last automatic query (thirty days).
pub const MAX_STALE_WAIT_SECS: u64 = 30 * 86_400;

/// How hard to try before a person has to look: set by whoever starts the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcilePolicy {
    /// Upstream queries before the order goes stale (Temporal's activity attempts).
    pub attempts: u32,
    /// First backoff between attempts, doubled each time.
    pub backoff_ms: u64,
    /// Longest single upstream call.
    pub call_timeout_ms: u64,
    /// How long a stale order waits before its last automatic query.
    pub stale_wait_secs: u64,
}

/// How long a demo-pace stale order waits: short enough that a live audience sees the
/// whole chain (querying, stale, manual) within a minute.
pub const DEMO_STALE_WAIT_SECS: u64 = 10;

impl ReconcilePolicy {
    /// Demo pace, for simulated orders a presenter starts: two quick attempts, a short
    /// stale wait. Real orders keep the configured policy.
    pub fn demo() -> Self {
        ReconcilePolicy {
            attempts: 2,
            backoff_ms: 200,
            call_timeout_ms: 2_000,
            stale_wait_secs: DEMO_STALE_WAIT_SECS,
        }
    }
}

impl Default for ReconcilePolicy {
    fn default() -> Self {
        ReconcilePolicy {
            attempts: 3,
            backoff_ms: 1_000,
            call_timeout_ms: 5_000,
            stale_wait_secs: 30 * 60,
        }
    }
}

impl ReconcilePolicy {
    pub fn validate(&self) -> Result<(), InputError> {
        let within = |field, value: u64, min: u64, max: u64, unit: &str| match (min..=max)
            .contains(&value)
        {
            true => Ok(()),
            false => Err(InputError::out_of_range(
                field,
                value,
                format!("between {min} and {max}{unit}"),
            )),
        };
        within(
            "attempts",
            u64::from(self.attempts),
            1,
            u64::from(MAX_ATTEMPTS),
            "",
        )?;
        within(
            "upstream call timeout",
            self.call_timeout_ms,
            1,
            MAX_CALL_TIMEOUT_MS,
            " ms",
        )?;
        within("backoff", self.backoff_ms, 0, MAX_BACKOFF_MS, " ms")?;
        within(
            "stale wait",
            self.stale_wait_secs,
            0,
            MAX_STALE_WAIT_SECS,
            " seconds",
        )
    }
}

/// The resolutions that need a second person by default: they settle money against the
/// upstream's silence (`[approval] resolutions` changes the list).
pub const DEFAULT_FOUR_EYES: [Resolution; 2] = [Resolution::Paid, Resolution::Refunded];

/// Live counts of orders per stage: open workflows by stage, closed by resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCounts {
    pub querying: usize,
    pub stale: usize,
    pub manual: usize,
    pub resolved_paid: usize,
    pub resolved_failed: usize,
    pub resolved_other: usize,
}

/// Workflow ids, one per order and stage.
pub fn query_workflow_id(order_id: &str) -> String {
    format!("payment-{order_id}")
}
pub fn stale_workflow_id(order_id: &str) -> String {
    format!("stale-{order_id}")
}
pub fn manual_workflow_id(order_id: &str) -> String {
    format!("manual-{order_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_parse_as_people_type_them() {
        assert_eq!(Resolution::parse(" PAID "), Ok(Resolution::Paid));
        assert_eq!(Resolution::parse("refunded"), Ok(Resolution::Refunded));
        let err = Resolution::parse("maybe").unwrap_err();
        assert!(
            err.to_string()
                .contains("paid, failed, refunded, cancelled")
        );
    }

    #[test]
    fn the_go_originals_priority_and_environment_words_are_understood() {
        assert_eq!(parse_priority("urgent"), Ok(1));
        assert_eq!(parse_priority("High"), Ok(2));
        assert_eq!(parse_priority("normal"), Ok(DEFAULT_PRIORITY));
        assert_eq!(parse_priority("low"), Ok(4));
        assert_eq!(parse_priority("5"), Ok(5));
        assert!(parse_priority("soon").is_err());
        assert_eq!(parse_environment("dev").as_deref(), Ok("development"));
        assert_eq!(parse_environment("prod").as_deref(), Ok("production"));
        assert_eq!(parse_environment("staging").as_deref(), Ok("staging"));
        assert_eq!(parse_environment("sandbox-2").as_deref(), Ok("sandbox-2"));
        assert!(parse_environment("two words").is_err());
    }

    #[test]
    fn policies_are_bounded_so_workflow_arithmetic_cannot_overflow() {
        let ok = ReconcilePolicy::default();
        assert!(ok.validate().is_ok());
        for bad in [
            ReconcilePolicy {
                stale_wait_secs: u64::MAX,
                ..ok.clone()
            },
            ReconcilePolicy {
                call_timeout_ms: u64::MAX,
                ..ok.clone()
            },
            ReconcilePolicy {
                backoff_ms: u64::MAX,
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
