//! Recurring payment contracts: what finance creates, reads and cancels.

use serde::{Deserialize, Serialize};

use super::{
    format::csv_line,
    input::{
        CHANGE_REASON, CUSTOMER, InputError, MAX_ORDER_ID_LEN, PLAN, validate_operator,
        validate_order_id,
    },
    money::format_amount,
};

/// The time zone contracts use when none is given (the Go original's default).
pub const DEFAULT_TIME_ZONE: &str = "Asia/Kuala_Lumpur";

/// What each term of a contract charges. It is the scheduled workflow's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractTerms {
    pub contract_id: String,
    pub customer: String,
    pub plan: String,
    /// The amount in the currency's minor units (cents for USD, yen for JPY, fils for
    /// KWD). The name is kept: it is in every recorded schedule and term.
    pub amount_cents: i64,
    /// An ISO 4217 code.
    pub currency: String,
    /// Whether "until cancelled" was chosen on purpose (no term limit). `None` for
    /// contracts made before this was recorded.
    #[serde(default)]
    pub until_cancelled: Option<bool>,
}

/// The bounds a contract is held to when it is made, and each of its terms before it
/// charges (by the worker, with its own configuration); `[contracts]` in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractLimits {
    /// Largest amount per term, in the currency's major units (10000 means 10,000.00 USD
    /// or 10,000 JPY).
    pub max_amount: u32,
    /// Shortest interval between two charges, in seconds.
    pub min_interval_secs: u64,
    /// Most terms a contract may have (0, until cancelled, is always allowed).
    pub max_terms: u32,
}

impl Default for ContractLimits {
    fn default() -> Self {
        ContractLimits {
            max_amount: 10_000,
            min_interval_secs: 3_600,
            max_terms: 1_200,
        }
    }
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

/// Checks a change (pause, resume, cancel) before it reaches the schedule.
pub fn validate_change(contract_id: &str, operator: &str, reason: &str) -> Result<(), InputError> {
    validate_order_id(contract_id)?;
    validate_operator(operator)?;
    CHANGE_REASON.check(reason)
}

impl NewContract {
    /// Every check that needs no currency table nor time zone database.
    pub fn validate(&self, limits: &ContractLimits) -> Result<(), InputError> {
        validate_order_id(&self.terms.contract_id)?;
        CUSTOMER.check(&self.terms.customer)?;
        PLAN.check(&self.terms.plan)?;
        if self.terms.amount_cents <= 0 {
            return Err(InputError::out_of_range(
                "amount",
                self.terms.amount_cents,
                "above zero",
            ));
        }
        check_currency_code(&self.terms.currency)?;
        if self.total_terms > limits.max_terms {
            return Err(InputError::out_of_range(
                "number of terms",
                self.total_terms,
                format!("at most {} (or 0 for until cancelled)", limits.max_terms),
            ));
        }
        match &self.cadence {
            Cadence::Every { seconds } if *seconds < limits.min_interval_secs.max(1) => {
                return Err(InputError::out_of_range(
                    "interval",
                    format!("{seconds} seconds"),
                    format!("at least {} seconds", limits.min_interval_secs.max(1)),
                ));
            }
            Cadence::Cron { expression } => check_cron_shape(expression)?,
            _ => {}
        }
        TIME_ZONE.check(&self.time_zone)
    }
}

/// A charge to come: when, in UTC and in the contract's own time zone (where its terms
/// were agreed: `0 9 1 * *` in Asia/Kuala_Lumpur is 09:00 there, 01:00 UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// RFC 3339 in UTC.
    pub at: String,
    /// `2026-12-07 02:30 EST`: the contract's zone, to the minute, with its abbreviation
    /// (or its offset, `+08`, where the zone has none).
    pub local: String,
}

impl std::fmt::Display for Charge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.at, self.local)
    }
}

/// A contract as the schedule tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractSummary {
    pub contract_id: String,
    pub paused: bool,
    pub note: String,
    pub next_charges: Vec<Charge>,
    pub cancelled: bool,
}

/// One page of the contracts list: each contract with its detail (if it could be read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractsPage {
    pub rows: Vec<(ContractSummary, Option<ContractDetail>)>,
    /// Opaque token for the next page, if there is one.
    pub next_page: Option<String>,
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
    /// Digits after the decimal point in its currency (2 for USD, 0 for JPY, 3 for KWD).
    pub minor_units: u32,
    pub charges_started: i64,
    /// None while paused: a paused schedule starts nothing.
    pub next_charges: Vec<Charge>,
    /// What finance should know ahead (a term the clocks will skip or repeat, a schedule
    /// whose terms will be refused), in a sentence; `None` when nothing.
    #[serde(default)]
    pub heads_up: Option<String>,
}

/// Contracts as CSV for finance: amounts in the currency's own units (`9.99`, `999` for
/// JPY), the time zone each contract's schedule runs in, the next charge in UTC and in
/// that zone, and the page's heads-up. Columns added later go last, so that a spreadsheet
/// reading by position keeps working.
pub fn contracts_csv(details: &[ContractDetail]) -> String {
    let mut out = csv_line(&[
        "contract_id",
        "customer",
        "plan",
        "amount",
        "currency",
        "cadence",
        "time_zone",
        "state",
        "terms_left",
        "charges_started",
        "next_charge_utc",
        "note",
        "next_charge_local",
        "heads_up",
    ]);
    for d in details {
        let (customer, plan, amount, currency) = match &d.terms {
            Some(t) => {
                let shown = format_amount(t.amount_cents, &t.currency, d.minor_units);
                let number = shown
                    .trim_end_matches(t.currency.as_str())
                    .trim()
                    .to_string();
                (
                    t.customer.clone(),
                    t.plan.clone(),
                    number,
                    t.currency.clone(),
                )
            }
            None => Default::default(),
        };
        let state = match (d.cancelled, d.paused) {
            (true, _) => "cancelled",
            (false, true) => "paused",
            (false, false) => "active",
        };
        let left = d
            .terms_left
            .map(|n| n.to_string())
            .unwrap_or_else(|| "until cancelled".into());
        let started = d.charges_started.to_string();
        let (next, next_local) = d
            .next_charges
            .first()
            .map(|c| (c.at.clone(), c.local.clone()))
            .unwrap_or_default();
        out.push_str(&csv_line(&[
            &d.contract_id,
            &customer,
            &plan,
            &amount,
            &currency,
            &d.cadence,
            &d.time_zone,
            state,
            &left,
            &started,
            &next,
            &d.note,
            &next_local,
            d.heads_up.as_deref().unwrap_or_default(),
        ]));
    }
    out
}

/// One term's run, from visibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermRun {
    /// The contract it is a term of.
    #[serde(default)]
    pub contract_id: String,
    pub workflow_id: String,
    pub status: String,
    pub started_at: String,
    /// Its charge had no answer and nobody is asking the bank about it now: finance may.
    #[serde(default)]
    pub ask_the_bank: bool,
}

/// Finance's list of charges to confirm (`operations::contracts::unconfirmed_charges`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnconfirmedCharges {
    /// The terms whose charge is in doubt, newest first.
    pub terms: Vec<TermRun>,
    /// More terms closed without completing in the window than one read takes: some in
    /// doubt may not be listed (the page says so).
    pub partial: bool,
}

/// How far back finance's list of charges to confirm looks, in days
/// (`operations::contracts::unconfirmed_charges`).
pub const UNCONFIRMED_WINDOW_DAYS: u64 = 30;

/// The workflow id a contract's schedule gives its terms; Temporal appends each term's
/// time (`recurring-C-1-2026-12-07T14:00:00Z`), which makes each term's id its own.
pub fn terms_workflow_id(contract_id: &str) -> String {
    format!("recurring-{contract_id}")
}

/// A time zone's name, before the time zone database is asked about it.
const TIME_ZONE: super::input::TextRule = super::input::TextRule {
    field: "time zone",
    required: true,
    max: MAX_ORDER_ID_LEN,
    characters: super::input::Characters::Line,
};

/// A cron line as this console accepts it: five fields (minute hour day month weekday) of
/// digits, `*`, `,`, `-` and `/` only. Temporal also reads `@every`, `@daily`, names,
/// `CRON_TZ=` and `#` comments; each could mean something other than what was checked
/// (Temporal ignores what follows a `#`), so none is accepted.
pub fn check_cron_shape(expression: &str) -> Result<(), InputError> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let plain = |f: &&str| {
        f.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '*' | ',' | '-' | '/'))
    };
    if fields.len() != 5 || !fields.iter().all(plain) {
        return Err(InputError::malformed(
            "a cron expression this console accepts",
            expression,
            "write five fields (minute hour day month weekday) of digits and * , - / only, \
             e.g. 0 9 1 * *",
        ));
    }
    for (field, (name, low, high)) in fields.iter().zip(CRON_FIELDS) {
        check_cron_field(expression, field, name, low, high)?;
    }
    Ok(())
}

/// Each cron field's name and the numbers it may hold (Sunday is 0 or 7).
const CRON_FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 7),
];

/// One field's numbers within its range, ranges low to high and steps above zero, so the
/// person reads which field is wrong, not the parser's "number out of bounds".
fn check_cron_field(
    expression: &str,
    field: &str,
    name: &str,
    low: u32,
    high: u32,
) -> Result<(), InputError> {
    let wrong = |why: String| InputError::malformed("a cron expression", expression, why);
    let number = |text: &str| -> Result<u32, InputError> {
        match text.parse::<u32>() {
            Ok(n) if (low..=high).contains(&n) => Ok(n),
            _ => Err(wrong(format!(
                "the {name} field holds {text:?}: write {low} to {high}"
            ))),
        }
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (part, None),
        };
        if let Some(step) = step
            && !matches!(step.parse::<u32>(), Ok(n) if n >= 1)
        {
            return Err(wrong(format!(
                "the {name} field's step {step:?} must be a number above zero"
            )));
        }
        if range == "*" {
            continue;
        }
        match range.split_once('-') {
            Some((from, to)) => {
                let (from_n, to_n) = (number(from)?, number(to)?);
                if from_n > to_n {
                    return Err(wrong(format!(
                        "the {name} field's range {range} runs backwards: write {to}-{from}"
                    )));
                }
            }
            None => {
                number(range)?;
            }
        }
    }
    Ok(())
}

/// A currency code's shape: three capital letters (the ISO 4217 table is the server's).
pub fn check_currency_code(currency: &str) -> Result<(), InputError> {
    match currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()) {
        true => Ok(()),
        false => Err(InputError::malformed(
            "a currency",
            currency,
            "use a three-letter ISO code such as USD or MYR",
        )),
    }
}

/// Parses `30s`, `15m`, `12h`, `30d` (or bare seconds) into seconds.
pub fn parse_interval(text: &str) -> Result<u64, InputError> {
    let text = text.trim();
    let bad = || {
        InputError::malformed(
            "an interval",
            text,
            "write a whole number with s, m, h or d, e.g. 30d or 12h",
        )
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
        Some(0) => Err(InputError::out_of_range("interval", text, "above zero")),
        None => Err(InputError::out_of_range(
            "interval",
            text,
            format!("at most {} seconds", u64::MAX),
        )),
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
                until_cancelled: Some(false),
            },
            cadence: Cadence::Every { seconds: 3_600 },
            time_zone: DEFAULT_TIME_ZONE.into(),
            total_terms: 3,
        }
    }

    #[test]
    fn intervals_read_like_people_write_them() {
        assert_eq!(parse_interval("30d"), Ok(30 * 86_400));
        assert_eq!(parse_interval("10s"), Ok(10));
        assert_eq!(parse_interval("90"), Ok(90));
        let zero = parse_interval("0s").unwrap_err().to_string();
        assert!(zero.contains("above zero"), "{zero}");
        let huge = parse_interval("99999999999999999d")
            .unwrap_err()
            .to_string();
        assert!(huge.contains("at most"), "{huge}");
        assert!(parse_interval("5 weeks").is_err());
    }

    #[test]
    fn a_cron_field_out_of_its_range_is_named() {
        for (line, said) in [
            ("0 25 * * *", "the hour field holds \"25\": write 0 to 23"),
            ("60 9 * * *", "the minute field holds \"60\": write 0 to 59"),
            ("0 9 0 * *", "the day field holds \"0\": write 1 to 31"),
            ("0 9 1 13 *", "the month field holds \"13\": write 1 to 12"),
            ("0 9 * * 8", "the weekday field holds \"8\": write 0 to 7"),
            ("0 9 * * 1-", "the weekday field holds \"\": write 0 to 7"),
            ("0 17-9 * * *", "the hour field's range 17-9 runs backwards"),
            (
                "*/0 9 * * *",
                "the minute field's step \"0\" must be a number above zero",
            ),
            ("0 9 1,,2 * *", "the day field holds \"\""),
        ] {
            let told = check_cron_shape(line).unwrap_err().to_string();
            assert!(told.contains(said), "{line}: {told}");
        }
        for line in [
            "0 9 1 * *",
            "*/15 8-17 * * 1-5",
            "0 0 1,15 1-12/3 0,7",
            "5 4 31 12 *",
        ] {
            assert!(check_cron_shape(line).is_ok(), "{line}");
        }
    }

    #[test]
    fn contracts_are_checked_before_a_schedule_exists() {
        let limits = ContractLimits::default();
        assert!(contract().validate(&limits).is_ok());
        let mut c = contract();
        c.terms.currency = "usd".into();
        assert!(c.validate(&limits).unwrap_err().to_string().contains("ISO"));
        let mut c = contract();
        c.cadence = Cadence::Cron {
            expression: "every day".into(),
        };
        assert!(c.validate(&limits).is_err());
        let mut c = contract();
        c.terms.amount_cents = 0;
        assert!(c.validate(&limits).is_err());
    }

    #[test]
    fn a_contract_is_held_to_its_limits() {
        let limits = ContractLimits::default();
        let mut c = contract();
        c.cadence = Cadence::Every { seconds: 1 };
        c.total_terms = 0;
        let err = c.validate(&limits).unwrap_err().to_string();
        assert!(err.contains("at least 3600 seconds"), "{err}");
        let mut c = contract();
        c.total_terms = limits.max_terms + 1;
        assert!(c.validate(&limits).is_err());
        let mut c = contract();
        c.terms.customer = "c".repeat(crate::domain::input::MAX_NAME_LEN + 1);
        assert!(c.validate(&limits).is_err());
        let mut c = contract();
        c.terms.plan = " ".into();
        assert!(c.validate(&limits).is_err());
    }
}
