//! Payment orders: their stages, resolutions and the requests people make about them.
//!
//! Shared by the browser and the server, so a form, a CLI flag and a workflow's update
//! validator all reject bad input with the same words.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest order id we accept: ids go into workflow ids and search attributes.
pub const MAX_ORDER_ID_LEN: usize = 64;
/// Longest free-text note on a resolution.
pub const MAX_NOTE_LEN: usize = 500;
/// Longest reason code or operator name.
pub const MAX_CODE_LEN: usize = 64;
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
        InputError::Other(format!(
            "the priority {:?} is not a number from {MOST_URGENT_PRIORITY} to \
             {LEAST_URGENT_PRIORITY} nor one of urgent, high, normal, low",
            short(text)
        ))
    })
}

/// Reads an environment: one of [`ENVIRONMENT_WORDS`] (as the Go original wrote them), or
/// a name of letters, digits, '-', '_' and '.'.
pub fn parse_environment(text: &str) -> Result<String, InputError> {
    let wanted = text.trim().to_ascii_lowercase();
    if let Some((_, name)) = ENVIRONMENT_WORDS.iter().find(|(word, _)| *word == wanted) {
        return Ok(name.to_string());
    }
    validate_code("environment", &wanted)?;
    Ok(wanted)
}

/// The first characters of a bad input, for an error message: enough to recognise it.
pub fn short(text: &str) -> String {
    const QUOTED: usize = 40;
    match text.char_indices().nth(QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
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
            .ok_or_else(|| InputError::UnknownResolution(short(text)))
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bad input, said so that the person who typed it knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum InputError {
    #[error("the order id is empty: give the id the gateway sent, e.g. ORD-1001")]
    EmptyOrderId,
    #[error("the order id {0:?} is too long: at most {MAX_ORDER_ID_LEN} characters are allowed")]
    OrderIdTooLong(String),
    #[error(
        "the order id {0:?} has characters other than letters, digits, '-', '_' and '.': remove them"
    )]
    OrderIdCharacters(String),
    #[error("the order id {0:?} is only dots: give the id the gateway sent")]
    OrderIdDots(String),
    #[error("{0:?} is not a resolution: use one of paid, failed, refunded, cancelled")]
    UnknownResolution(String),
    #[error("the {field} is empty: it is required")]
    Missing { field: &'static str },
    #[error("the {field} is {len} characters long: at most {max} are allowed")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the {field} {value:?} may only hold letters, digits, '-', '_' and '.'")]
    BadCode { field: &'static str, value: String },
    #[error("{0}")]
    Other(String),
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Checks an order id (or contract id) before it goes near Temporal.
pub fn validate_order_id(id: &str) -> Result<(), InputError> {
    if id.is_empty() {
        return Err(InputError::EmptyOrderId);
    }
    if id.chars().count() > MAX_ORDER_ID_LEN {
        return Err(InputError::OrderIdTooLong(short(id)));
    }
    if !id.chars().all(is_id_char) {
        return Err(InputError::OrderIdCharacters(short(id)));
    }
    // `.` and `..` are path segments of their own in a URL: `/orders/../status` is `/status`.
    if id.chars().all(|c| c == '.') {
        return Err(InputError::OrderIdDots(id.to_string()));
    }
    Ok(())
}

fn validate_code(field: &'static str, value: &str) -> Result<(), InputError> {
    if value.trim().is_empty() {
        return Err(InputError::Missing { field });
    }
    let len = value.chars().count();
    if len > MAX_CODE_LEN {
        return Err(InputError::TooLong {
            field,
            len,
            max: MAX_CODE_LEN,
        });
    }
    if !value.chars().all(is_id_char) {
        return Err(InputError::BadCode {
            field,
            value: short(value),
        });
    }
    Ok(())
}

/// Checks an operator's name: who did it goes into history, so it must be there.
pub fn validate_operator(name: &str) -> Result<(), InputError> {
    if name.trim().is_empty() {
        return Err(InputError::Missing {
            field: "operator name",
        });
    }
    let len = name.chars().count();
    if len > MAX_CODE_LEN {
        return Err(InputError::TooLong {
            field: "operator name",
            len,
            max: MAX_CODE_LEN,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(InputError::Other(
            "the operator name may not hold control characters".into(),
        ));
    }
    Ok(())
}

/// Who asked for a thing, and when (workflow time, RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub operator: String,
    pub at: String,
}

/// A person's resolution of an order in the manual queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    /// One of [`Resolution`], as text so a bad value reaches the validator and gets its words.
    pub resolution: String,
    pub reason_code: String,
    pub operator: String,
    #[serde(default)]
    pub note: String,
}

impl ResolveRequest {
    /// Every check that does not depend on the order's state.
    pub fn validate(&self) -> Result<Resolution, InputError> {
        let resolution = Resolution::parse(&self.resolution)?;
        validate_code("reason code", &self.reason_code)?;
        validate_operator(&self.operator)?;
        validate_note(&self.note)?;
        Ok(resolution)
    }
}

/// A free-text note: at most [`MAX_NOTE_LEN`] characters.
pub fn validate_note(note: &str) -> Result<(), InputError> {
    let len = note.chars().count();
    if len > MAX_NOTE_LEN {
        return Err(InputError::TooLong {
            field: "note",
            len,
            max: MAX_NOTE_LEN,
        });
    }
    Ok(())
}

/// The recorded outcome of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionRecord {
    pub resolution: Resolution,
    pub reason_code: String,
    /// `system` when the upstream answered; a person's name otherwise.
    pub resolved_by: String,
    pub resolved_at: String,
    #[serde(default)]
    pub note: String,
    /// The second person who approved it (four eyes), when it needed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<Stamp>,
}

impl ResolutionRecord {
    /// A person's resolution, checked by [`ResolveRequest::validate`], recorded at `at`.
    pub fn by_person(request: ResolveRequest, resolution: Resolution, at: String) -> Self {
        ResolutionRecord {
            resolution,
            reason_code: request.reason_code,
            resolved_by: request.operator,
            resolved_at: at,
            note: request.note,
            approved_by: None,
        }
    }

    /// How every refusal of a second resolution reads.
    pub fn already_resolved(&self) -> String {
        format!(
            "already resolved by {} at {} as {}",
            self.resolved_by, self.resolved_at, self.resolution
        )
    }
}

impl fmt::Display for ResolutionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} by {} at {} ({})",
            self.resolution, self.resolved_by, self.resolved_at, self.reason_code
        )
    }
}

/// What the gateway told us about an order, carried through every stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub order_id: String,
    /// Which bank or wallet to ask.
    pub provider: String,
    pub business_unit: String,
    pub environment: String,
    /// [`MOST_URGENT_PRIORITY`] to [`LEAST_URGENT_PRIORITY`].
    pub priority: i64,
    pub policy: ReconcilePolicy,
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
        }
    }

    /// Everything Temporal would be asked to store, checked first.
    pub fn validate(&self) -> Result<(), InputError> {
        validate_order_id(&self.order_id)?;
        self.policy.validate()?;
        if !(MOST_URGENT_PRIORITY..=LEAST_URGENT_PRIORITY).contains(&self.priority) {
            return Err(InputError::Other(format!(
                "priority must be between {MOST_URGENT_PRIORITY} (most urgent) and \
                 {LEAST_URGENT_PRIORITY}, not {}",
                self.priority
            )));
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
        if self.attempts == 0 || self.attempts > MAX_ATTEMPTS {
            return Err(InputError::Other(format!(
                "attempts must be between 1 and {MAX_ATTEMPTS}, not {}",
                self.attempts
            )));
        }
        if self.call_timeout_ms == 0 || self.call_timeout_ms > MAX_CALL_TIMEOUT_MS {
            return Err(InputError::Other(format!(
                "the upstream call timeout must be between 1 and {MAX_CALL_TIMEOUT_MS} ms, not {}",
                self.call_timeout_ms
            )));
        }
        if self.backoff_ms > MAX_BACKOFF_MS {
            return Err(InputError::Other(format!(
                "the backoff must be at most {MAX_BACKOFF_MS} ms, not {}",
                self.backoff_ms
            )));
        }
        if self.stale_wait_secs > MAX_STALE_WAIT_SECS {
            return Err(InputError::Other(format!(
                "the stale wait must be at most {MAX_STALE_WAIT_SECS} seconds, not {}",
                self.stale_wait_secs
            )));
        }
        Ok(())
    }
}

/// Where a failed query left off: handed from one stage to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub order: OrderRequest,
    /// Upstream queries made so far, over all stages.
    pub attempts: u32,
    /// The error that ended QueryOrder.
    pub original_error: String,
    /// The error that ended StaleOrder's retry, once there was one.
    #[serde(default)]
    pub stale_retry_error: Option<String>,
    /// Short machine-readable reason of the latest error (`http_503`, `timeout`, `pending`…).
    pub error_reason: String,
    /// Short reason of the error that ended QueryOrder (empty in handoffs made before it
    /// was recorded).
    #[serde(default)]
    pub original_reason: String,
}

/// A claim on a manual order: one agent works one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub operator: String,
}

/// A second person's answer to a proposed resolution (four eyes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub operator: String,
    /// Why, for a rejection.
    #[serde(default)]
    pub note: String,
}

/// A proposal a second person turned down: the order waits for a person again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRejection {
    pub proposal: ResolutionRecord,
    pub by: Stamp,
    pub note: String,
}

/// The resolutions that need a second person by default: they settle money against the
/// upstream's silence (`[approval] resolutions` changes the list).
pub const DEFAULT_FOUR_EYES: [Resolution; 2] = [Resolution::Paid, Resolution::Refunded];

/// A person's resolution that the upstream did not record: the order waits for a person
/// again, who may resolve it the same way (a retry) or differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConclusionRefusal {
    pub record: ResolutionRecord,
    /// The upstream's own words (or why it could not be reached).
    pub message: String,
    pub at: String,
}

/// Everything support needs to decide on a manual order, from ManualHandle's query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualContext {
    pub handoff: Handoff,
    pub waiting_since: String,
    pub claim: Option<Stamp>,
    pub resolution: Option<ResolutionRecord>,
    /// The conclusion was written upstream (after resolution).
    pub concluded: bool,
    /// The last resolution the upstream refused, if it did.
    #[serde(default)]
    pub refused: Option<ConclusionRefusal>,
    /// A resolution proposed and awaiting a second person's approval.
    #[serde(default)]
    pub proposal: Option<ResolutionRecord>,
    /// The last proposal a second person rejected.
    #[serde(default)]
    pub rejected: Option<ProposalRejection>,
}

/// StaleOrder's state, from its query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleStatus {
    pub handoff: Handoff,
    pub next_retry_at: Option<String>,
    pub retry_requested: Option<Stamp>,
    pub retrying: bool,
    pub resolution: Option<ResolutionRecord>,
}

/// How a QueryOrder or StaleOrder run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderOutcome {
    Resolved(ResolutionRecord),
    /// Handed on to the next stage, by workflow id.
    HandedOff {
        next_workflow_id: String,
    },
}

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

    fn request(resolution: &str, note: &str) -> ResolveRequest {
        ResolveRequest {
            resolution: resolution.into(),
            reason_code: "BANK_CONFIRMED".into(),
            operator: "ana".into(),
            note: note.into(),
        }
    }

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
    fn order_ids_are_checked_before_they_reach_temporal() {
        assert!(validate_order_id("ORD-1001").is_ok());
        assert_eq!(validate_order_id(""), Err(InputError::EmptyOrderId));
        assert!(matches!(
            validate_order_id("a b"),
            Err(InputError::OrderIdCharacters(_))
        ));
        assert!(matches!(
            validate_order_id(&"x".repeat(65)),
            Err(InputError::OrderIdTooLong(_))
        ));
        assert!(validate_order_id("<script>").is_err());
        for dots in [".", "..", "..."] {
            assert_eq!(
                validate_order_id(dots),
                Err(InputError::OrderIdDots(dots.into()))
            );
        }
        assert!(validate_order_id("a..b").is_ok());
        // A 10,000-character id is quoted by its first characters only.
        let long = validate_order_id(&"x".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(long.len() < 200, "{long}");
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

    #[test]
    fn resolve_requests_are_bounded() {
        assert_eq!(request("paid", "ok").validate(), Ok(Resolution::Paid));
        let long = "n".repeat(MAX_NOTE_LEN + 1);
        assert!(matches!(
            request("paid", &long).validate(),
            Err(InputError::TooLong { field: "note", .. })
        ));
        let mut no_operator = request("paid", "");
        no_operator.operator = " ".into();
        assert!(no_operator.validate().is_err());
        let mut bad_code = request("paid", "");
        bad_code.reason_code = "two words".into();
        assert!(bad_code.validate().is_err());
    }
}
