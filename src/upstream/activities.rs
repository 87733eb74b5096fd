//! Calls to the bank or wallet: query an order, record its conclusion, charge a term.
//!
//! Every call runs on the `upstream` task queue, whose server-side rate limit is the
//! upstream's, so the limit holds however many workers run. Each call is idempotent: a
//! query is a read, and writes carry an idempotency key derived from the business id.

use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::domain::order::Resolution;

/// Error types Temporal sees; `non_retryable_error_types` and the dashboard use them.
pub mod error_types {
    pub const PENDING: &str = "pending";
    pub const THROTTLED: &str = "http_429";
    pub const TIMEOUT: &str = "timeout";
    pub const TRANSPORT: &str = "transport";
    pub const REJECTED: &str = crate::domain::resolution::REJECTED_REASON;
    /// A person's resolution the upstream did not record (ManualHandle's `ErrorReason`).
    pub const CONCLUSION_REFUSED: &str = "conclusion_refused";
    /// An order a person put back in the queue after the run that held it ended unresolved.
    pub const PUT_BACK: &str = "put_back";
}

/// What the upstream says about an order once it knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpstreamVerdict {
    Paid {
        reference: String,
        /// The amount the bank saw, in minor units, when it says (older answers did not).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusQuery {
    pub order_id: String,
    pub provider: String,
    pub timeout_ms: u64,
    /// The order's amount, sent along as the gateway knows it (a bank that quotes what it
    /// saw ignores it; the simulated bank echoes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<crate::domain::money::Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conclusion {
    pub order_id: String,
    pub resolution: Resolution,
    pub reason_code: String,
    pub resolved_by: String,
}

/// The bank's answer to a conclusion: the outcome it holds for the order, when it says.
#[derive(Debug, Default, Deserialize)]
struct ConclusionBody {
    #[serde(default)]
    resolution: Option<String>,
}

impl Conclusion {
    /// Whether the bank's answer holds this conclusion's outcome (an answer that does not
    /// say holds it). Another outcome is a refusal: the bank keeps one per order.
    fn held_as(&self, answer: &ConclusionBody) -> Result<(), UpstreamError> {
        match answer.resolution.as_deref() {
            Some(held) if held != self.resolution.as_str() => {
                Err(UpstreamError::Conflict(format!(
                    "the bank already recorded order {} as {held}, not {}: \
                     it keeps one conclusion per order",
                    self.order_id,
                    self.resolution.as_str()
                )))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeRequest {
    pub contract_id: String,
    pub amount_cents: i64,
    pub currency: String,
    /// One per term: the scheduled run's workflow id.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeReceipt {
    pub charge_id: String,
    /// The upstream had already seen this idempotency key.
    pub duplicate: bool,
}

/// What the bank keeps under a charge's idempotency key, asked after the term that sent it
/// closed without an answer (`workflows::charge_lookup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeOnRecord {
    /// The key asked after: the term's workflow id.
    pub idempotency_key: String,
    /// The charge the bank took under it; `None` when it took none.
    pub charge_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRequest {
    pub contract_id: String,
    pub charge_id: String,
    pub idempotency_key: String,
}

/// What a failed status query tells the workflow besides its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureDetails {
    /// Which attempt this was (1 for the first call).
    pub attempt: u32,
}

/// Why an upstream call did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream has no verdict yet: the order is still pending")]
    Pending,
    #[error("the upstream throttled us (429), retry after {0:?}")]
    Throttled(Duration),
    #[error("the upstream failed with HTTP {0}")]
    Unavailable(u16),
    #[error("the upstream did not answer within {0} ms")]
    Timeout(u64),
    #[error("could not reach the upstream: {0}")]
    Transport(String),
    #[error("the upstream rejected the request with HTTP {status}: {body}")]
    Rejected { status: u16, body: String },
    #[error("the request cannot be sent: {0}")]
    Unsendable(String),
    /// The upstream answered, holding another outcome than the one sent.
    #[error("the upstream holds another outcome: {0}")]
    Conflict(String),
}

impl UpstreamError {
    /// Short reason kept in search attributes (`ErrorReason`) and shown to people.
    pub fn reason(&self) -> String {
        match self {
            UpstreamError::Pending => error_types::PENDING.into(),
            UpstreamError::Throttled(_) => error_types::THROTTLED.into(),
            UpstreamError::Unavailable(code) => format!("http_{code}"),
            UpstreamError::Timeout(_) => error_types::TIMEOUT.into(),
            UpstreamError::Transport(_) => error_types::TRANSPORT.into(),
            UpstreamError::Rejected { .. }
            | UpstreamError::Unsendable(_)
            | UpstreamError::Conflict(_) => error_types::REJECTED.into(),
        }
    }

    fn into_activity_error(self) -> ActivityError {
        self.into_failure(None)
    }

    /// The failure Temporal records. `attempt` rides along as the failure's details, so
    /// the workflow knows how many calls were made when the retries stop early (a 4xx).
    fn into_failure(self, attempt: Option<u32>) -> ActivityError {
        let type_name = self.reason();
        let next_retry_delay = match &self {
            UpstreamError::Throttled(after) => Some(*after),
            _ => None,
        };
        let non_retryable = matches!(
            self,
            UpstreamError::Rejected { .. }
                | UpstreamError::Unsendable(_)
                | UpstreamError::Conflict(_)
        );
        ActivityError::application(
            ApplicationFailure::builder(self)
                .type_name(type_name)
                .non_retryable(non_retryable)
                .maybe_next_retry_delay(next_retry_delay)
                .maybe_details(attempt.map(|a| FailureDetails { attempt: a }))
                .build(),
        )
    }
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
struct ChargeBody {
    charge_id: String,
    #[serde(default)]
    duplicate: bool,
}

/// Characters of an upstream's refusal kept (in history, on screen).
const MAX_QUOTED_BODY: usize = 300;

/// Longest single write (conclusion, charge, receipt).
const WRITE_TIMEOUT_MS: u64 = 10_000;

/// The upstream's HTTP client, shared by every activity on a worker.
pub struct UpstreamActivities {
    http: reqwest::Client,
    base_url: String,
}

impl UpstreamActivities {
    pub fn new(base_url: impl Into<String>) -> Self {
        UpstreamActivities {
            http: reqwest::Client::new(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        timeout_ms: u64,
    ) -> Result<reqwest::Response, UpstreamError> {
        let response = request
            .timeout(Duration::from_millis(timeout_ms))
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    UpstreamError::Timeout(timeout_ms)
                } else {
                    UpstreamError::Transport(e.to_string())
                }
            })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => Ok(response),
            429 => {
                let after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                Err(UpstreamError::Throttled(Duration::from_secs(after.max(1))))
            }
            500..=599 => Err(UpstreamError::Unavailable(status)),
            _ => {
                // The upstream's words go into history and onto a person's screen: its
                // first characters are enough.
                let body = response.text().await.unwrap_or_default();
                Err(UpstreamError::Rejected {
                    status,
                    body: body.chars().take(MAX_QUOTED_BODY).collect(),
                })
            }
        }
    }

    /// The address of `segments` under the base URL, each segment percent-encoded. A
    /// segment of dots (`..` would climb out of `/orders/`) is refused, never sent.
    fn url(&self, segments: &[&str]) -> Result<reqwest::Url, UpstreamError> {
        let refuse = UpstreamError::Unsendable;
        if let Some(dots) = segments
            .iter()
            .find(|s| s.is_empty() || s.chars().all(|c| c == '.'))
        {
            return Err(refuse(format!("{dots:?} cannot be a path segment")));
        }
        let mut url = reqwest::Url::parse(&self.base_url).map_err(|e| {
            refuse(format!(
                "the upstream URL {:?} is invalid: {e}",
                self.base_url
            ))
        })?;
        url.path_segments_mut()
            .map_err(|_| {
                refuse(format!(
                    "the upstream URL {:?} cannot have a path",
                    self.base_url
                ))
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// POSTs a write with its idempotency key, and counts how it went under `call`.
    async fn post_keyed(
        &self,
        call: &'static str,
        segments: &[&str],
        key: &str,
        body: &impl Serialize,
    ) -> Result<reqwest::Response, UpstreamError> {
        let result = self.post_keyed_uncounted(segments, key, body).await;
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => e.reason(),
        };
        crate::temporal::metrics::upstream_call(call, outcome);
        result
    }

    async fn post_keyed_uncounted(
        &self,
        segments: &[&str],
        key: &str,
        body: &impl Serialize,
    ) -> Result<reqwest::Response, UpstreamError> {
        let url = self.url(segments)?;
        self.send(
            self.http
                .post(url)
                .header("Idempotency-Key", key)
                .json(body),
            WRITE_TIMEOUT_MS,
        )
        .await
    }

    /// Reads an order's status. Pending is an error so that Temporal retries it.
    pub async fn fetch_status(
        &self,
        query: &StatusQuery,
    ) -> Result<UpstreamVerdict, UpstreamError> {
        let url = self.url(&["orders", &query.order_id, "status"])?;
        let mut request = self.http.get(url).query(&[("provider", &query.provider)]);
        if let Some(expected) = &query.expected {
            request = request.query(&[
                ("amount", expected.minor.to_string()),
                ("currency", expected.currency.clone()),
            ]);
        }
        let response = self.send(request, query.timeout_ms).await?;
        let body: StatusBody = response
            .json()
            .await
            .map_err(|e| UpstreamError::Transport(format!("unreadable status body: {e}")))?;
        match body.status.as_str() {
            "paid" => Ok(UpstreamVerdict::Paid {
                reference: body.reference,
                amount: body.amount,
                currency: body.currency,
            }),
            "failed" => Ok(UpstreamVerdict::Failed {
                reason: if body.reason.is_empty() {
                    "declined".into()
                } else {
                    body.reason
                },
            }),
            "pending" => Err(UpstreamError::Pending),
            other => Err(UpstreamError::Rejected {
                status: 200,
                body: format!("unknown status {other:?}"),
            }),
        }
    }
}

#[activities]
impl UpstreamActivities {
    /// Asks the upstream for an order's status.
    #[activity(name = "QueryUpstreamStatus")]
    pub async fn query_status(
        self: Arc<Self>,
        ctx: ActivityContext,
        query: StatusQuery,
    ) -> Result<UpstreamVerdict, ActivityError> {
        let attempt = ctx.info().attempt;
        let started = std::time::Instant::now();
        let verdict = self.fetch_status(&query).await;
        let reason = match &verdict {
            Ok(UpstreamVerdict::Paid { .. }) => "paid".to_string(),
            Ok(UpstreamVerdict::Failed { .. }) => "failed".to_string(),
            Err(e) => e.reason(),
        };
        crate::upstream::window::record(
            &query.provider,
            crate::upstream::window::Outcome::from_reason(&reason),
            started.elapsed(),
        );
        match &verdict {
            Ok(v) => {
                let outcome = match v {
                    UpstreamVerdict::Paid { .. } => "paid",
                    UpstreamVerdict::Failed { .. } => "failed",
                };
                crate::temporal::metrics::upstream_call("query", outcome.into());
                tracing::info!(order_id = %query.order_id, verdict = ?v, "upstream answered")
            }
            Err(e) => {
                crate::temporal::metrics::upstream_call("query", e.reason());
                tracing::info!(order_id = %query.order_id, error = %e, "upstream query failed")
            }
        }
        verdict.map_err(|e| e.into_failure(Some(attempt)))
    }

    /// Records how an order ended; the order id is the idempotency key.
    #[activity(name = "ConcludeOrder")]
    pub async fn conclude_order(
        self: Arc<Self>,
        _ctx: ActivityContext,
        conclusion: Conclusion,
    ) -> Result<(), ActivityError> {
        let response = self
            .post_keyed(
                "conclude",
                &["orders", &conclusion.order_id, "conclusion"],
                &format!("{}-conclude", conclusion.order_id),
                &conclusion,
            )
            .await
            .map_err(UpstreamError::into_activity_error)?;
        // A bank that answers a key it already holds with its first answer may hold another
        // outcome than this one: the order must not record what the bank does not.
        let answer: ConclusionBody = response.json().await.unwrap_or_default();
        conclusion
            .held_as(&answer)
            .map_err(UpstreamError::into_activity_error)
    }

    /// Charges one term of a recurring contract.
    #[activity(name = "ChargeTerm")]
    pub async fn charge(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: ChargeRequest,
    ) -> Result<ChargeReceipt, ActivityError> {
        let response = self
            .post_keyed("charge", &["charges"], &request.idempotency_key, &request)
            .await
            .map_err(UpstreamError::into_activity_error)?;
        let body: ChargeBody = response.json().await.map_err(|e| {
            UpstreamError::Transport(format!("unreadable charge body: {e}")).into_activity_error()
        })?;
        Ok(ChargeReceipt {
            charge_id: body.charge_id,
            duplicate: body.duplicate,
        })
    }

    /// Asks the bank whether it took a charge under `idempotency_key`: the charge, or none
    /// (its 404). Only a term's charge sends that key, so the answer is the term's money.
    #[activity(name = "LookUpCharge")]
    pub async fn look_up_charge(
        self: Arc<Self>,
        _ctx: ActivityContext,
        idempotency_key: String,
    ) -> Result<ChargeOnRecord, ActivityError> {
        let asked = async {
            let url = self.url(&["charges", &idempotency_key])?;
            match self.send(self.http.get(url), WRITE_TIMEOUT_MS).await {
                Ok(response) => {
                    let body: ChargeBody = response.json().await.map_err(|e| {
                        UpstreamError::Transport(format!("unreadable charge body: {e}"))
                    })?;
                    Ok(Some(body.charge_id))
                }
                Err(UpstreamError::Rejected { status: 404, .. }) => Ok(None),
                Err(e) => Err(e),
            }
        }
        .await;
        let outcome = match &asked {
            Ok(_) => "ok".to_string(),
            Err(e) => e.reason(),
        };
        crate::temporal::metrics::upstream_call("look_up_charge", outcome);
        Ok(ChargeOnRecord {
            charge_id: asked.map_err(UpstreamError::into_activity_error)?,
            idempotency_key,
        })
    }

    /// Sends the customer's receipt for a charged term (added in RecurringPayment v2).
    #[activity(name = "SendReceipt")]
    pub async fn send_receipt(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: ReceiptRequest,
    ) -> Result<(), ActivityError> {
        self.post_keyed("receipt", &["receipts"], &request.idempotency_key, &request)
            .await
            .map_err(UpstreamError::into_activity_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conclusion_holds_only_if_the_bank_holds_its_outcome() {
        let cancel = Conclusion {
            order_id: "o-1".into(),
            resolution: Resolution::Cancelled,
            reason_code: "BANK_CONFIRMED".into(),
            resolved_by: "ana".into(),
        };
        let holds = |r: Option<&str>| ConclusionBody {
            resolution: r.map(str::to_string),
        };
        assert!(cancel.held_as(&holds(Some("cancelled"))).is_ok());
        // A bank that does not say what it holds is taken at its 2xx.
        assert!(cancel.held_as(&holds(None)).is_ok());
        let other = cancel.held_as(&holds(Some("paid"))).unwrap_err();
        assert_eq!(other.reason(), error_types::REJECTED);
        assert!(
            other
                .to_string()
                .contains("already recorded order o-1 as paid, not cancelled"),
            "{other}"
        );
    }

    #[test]
    fn order_ids_stay_one_path_segment() {
        let upstream = UpstreamActivities::new("http://bank.test/api/");
        let url = upstream.url(&["orders", "a/b?c#d", "status"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://bank.test/api/orders/a%2Fb%3Fc%23d/status"
        );
        for dots in ["..", ".", ""] {
            assert!(
                upstream.url(&["orders", dots, "status"]).is_err(),
                "{dots:?} must not become a path segment"
            );
        }
    }
}
