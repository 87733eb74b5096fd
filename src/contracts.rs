//! Recurring payment contracts: what finance creates, reads and cancels.

use serde::{Deserialize, Serialize};

use crate::orders::{InputError, MAX_NOTE_LEN, validate_operator, validate_order_id};

/// The time zone contracts use when none is given (the seed's default).
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// What each term of a contract charges. It is the scheduled workflow's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractTerms {
    pub contract_id: String,
    pub customer: String,
    pub plan: String,
    pub amount_cents: i64,
    pub currency: String,
}

/// When a contract charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cadence {
    /// Every N seconds (`--every 30d`, `--every 10s`).
    Every { seconds: u64 },
    /// A cron expression in the contract's time zone (`--cron "0 9 1 * *"`).
    Cron { expression: String },
}

/// A request to create a contract, from the CLI or the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewContract {
    pub terms: ContractTerms,
    pub cadence: Cadence,
    pub time_zone: String,
    /// Number of charges; 0 means until cancelled.
    pub total_terms: u32,
}

/// Checks a cancellation before it reaches the schedule.
pub fn validate_cancellation(
    contract_id: &str,
    operator: &str,
    reason: &str,
) -> Result<(), InputError> {
    validate_order_id(contract_id)?;
    validate_operator(operator)?;
    let len = reason.chars().count();
    if len > MAX_NOTE_LEN {
        return Err(InputError::TooLong {
            field: "reason",
            len,
            max: MAX_NOTE_LEN,
        });
    }
    Ok(())
}

impl NewContract {
    pub fn validate(&self) -> Result<(), InputError> {
        validate_order_id(&self.terms.contract_id)?;
        if self.terms.amount_cents <= 0 {
            return Err(InputError::Other(format!(
                "the amount must be above zero, not {} cents",
                self.terms.amount_cents
            )));
        }
        let currency = &self.terms.currency;
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(InputError::Other(format!(
                "the currency {currency:?} is not a three-letter ISO code such as USD or CNY"
            )));
        }
        match &self.cadence {
            Cadence::Every { seconds } if *seconds == 0 => {
                return Err(InputError::Other("the interval must be above zero".into()));
            }
            Cadence::Cron { expression } if expression.split_whitespace().count() != 5 => {
                return Err(InputError::Other(format!(
                    "the cron expression {expression:?} needs five fields: minute hour day month weekday"
                )));
            }
            _ => {}
        }
        if self.time_zone.trim().is_empty() {
            return Err(InputError::Missing { field: "time zone" });
        }
        Ok(())
    }
}

/// A contract as the schedule tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractSummary {
    pub contract_id: String,
    pub paused: bool,
    pub note: String,
    pub next_charges: Vec<String>,
    pub cancelled: bool,
}

/// Everything finance reads about one contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDetail {
    pub contract_id: String,
    pub terms: Option<ContractTerms>,
    /// `every 30d` or `cron 0 9 1 * *`.
    pub cadence: String,
    pub time_zone: String,
    pub paused: bool,
    pub cancelled: bool,
    pub note: String,
    /// Terms left, if the contract has a limit.
    pub terms_left: Option<i64>,
    pub charges_started: i64,
    pub next_charges: Vec<String>,
}

/// One term's run, from visibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermRun {
    pub workflow_id: String,
    pub status: String,
    pub started_at: String,
}

/// Parses `30s`, `15m`, `12h`, `30d` (or bare seconds) into seconds.
pub fn parse_interval(text: &str) -> Result<u64, InputError> {
    let text = text.trim();
    let bad = || {
        InputError::Other(format!(
            "{text:?} is not an interval: write a number with s, m, h or d, e.g. 30d or 10s"
        ))
    };
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&text[..i], &text[i..]),
        None => (text, "s"),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    match n.checked_mul(factor) {
        Some(0) | None => Err(bad()),
        Some(seconds) => Ok(seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> NewContract {
        NewContract {
            terms: ContractTerms {
                contract_id: "C-1".into(),
                customer: "ana".into(),
                plan: "monthly".into(),
                amount_cents: 999,
                currency: "USD".into(),
            },
            cadence: Cadence::Every { seconds: 60 },
            time_zone: DEFAULT_TIME_ZONE.into(),
            total_terms: 3,
        }
    }

    #[test]
    fn intervals_read_like_people_write_them() {
        assert_eq!(parse_interval("30d"), Ok(30 * 86_400));
        assert_eq!(parse_interval("10s"), Ok(10));
        assert_eq!(parse_interval("90"), Ok(90));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5 weeks").is_err());
    }

    #[test]
    fn contracts_are_checked_before_a_schedule_exists() {
        assert!(contract().validate().is_ok());
        let mut c = contract();
        c.terms.currency = "usd".into();
        assert!(c.validate().unwrap_err().to_string().contains("ISO"));
        let mut c = contract();
        c.cadence = Cadence::Cron {
            expression: "every day".into(),
        };
        assert!(c.validate().is_err());
        let mut c = contract();
        c.terms.amount_cents = 0;
        assert!(c.validate().is_err());
    }
}
