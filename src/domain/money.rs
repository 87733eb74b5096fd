//! Money: integer amounts in a currency's minor units (cents for USD, yen for JPY, fils for
//! KWD), how they read, and how people's decimal amounts (`12.50`) become them, never
//! through a float.

use super::input::InputError;
use serde::{Deserialize, Serialize};

/// An amount of money: integer minor units of an ISO 4217 currency, with that currency's
/// exponent carried along so that the browser (which has no currency table) reads it
/// exactly. Orders and contracts both speak it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// In minor units: 1250 is 12.50 USD, 1250 JPY, 1.250 KWD.
    pub minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The currency's decimals (2 for USD, 0 for JPY, 3 for KWD).
    pub exponent: u32,
}

impl Money {
    /// The amount in major units, for a visibility filter only (never for arithmetic).
    pub fn major(&self) -> f64 {
        self.minor as f64 / 10f64.powi(self.exponent as i32)
    }

    /// Whether two amounts are the same money: the same currency and minor units.
    pub fn same_as(&self, minor: i64, currency: &str) -> bool {
        self.minor == minor && self.currency == currency
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_amount(self.minor, &self.currency, self.exponent))
    }
}

/// What an order's amount reads as, `amount unknown` for orders the gateway sent without
/// one (never 0).
pub fn amount_text(amount: Option<&Money>) -> String {
    amount.map_or_else(|| AMOUNT_UNKNOWN.to_string(), Money::to_string)
}

/// The words for an order without an amount.
pub const AMOUNT_UNKNOWN: &str = "amount unknown";

/// The largest order amount accepted, in major units of any currency: far above a real
/// payment, far below where minor units could overflow.
pub const MAX_ORDER_AMOUNT_MAJOR: i64 = 1_000_000_000;

/// Checks an amount a person or gateway gave: positive, at most
/// [`MAX_ORDER_AMOUNT_MAJOR`], a currency of this shape.
pub fn check_money(money: &Money) -> Result<(), InputError> {
    super::contract::check_currency_code(&money.currency)?;
    let unit = 10i64.checked_pow(money.exponent).unwrap_or(i64::MAX);
    let most = MAX_ORDER_AMOUNT_MAJOR.saturating_mul(unit);
    if money.minor <= 0 || money.minor > most {
        return Err(InputError::out_of_range(
            "an order's amount",
            money.to_string(),
            format!(
                "more than 0 and at most {MAX_ORDER_AMOUNT_MAJOR} {}",
                money.currency
            ),
        ));
    }
    Ok(())
}

/// Reads `12.50` of `MYR` into money, with the currency's own decimals.
#[cfg(feature = "ssr")]
pub fn money(amount: &str, currency: &str) -> Result<Money, InputError> {
    let currency = currency.trim().to_ascii_uppercase();
    super::contract::check_currency_code(&currency)?;
    let exponent = minor_units(&currency).ok_or_else(|| {
        InputError::malformed(
            "a currency",
            &currency,
            "use an ISO 4217 currency such as USD, EUR, MYR or JPY",
        )
    })?;
    let money = Money {
        minor: parse_amount(amount, exponent)?,
        currency,
        exponent,
    };
    check_money(&money)?;
    Ok(money)
}

/// A realistic amount for a simulated payment, drawn from `seed` (the order's number):
/// a few currencies, most orders small, a few large.
pub fn simulated_amount(seed: u64) -> Money {
    const CURRENCIES: [(&str, u32, i64); 5] = [
        ("USD", 2, 1),
        ("MYR", 2, 4),
        ("EUR", 2, 1),
        ("SGD", 2, 1),
        ("JPY", 0, 150),
    ];
    // splitmix64: spread consecutive seeds.
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let (currency, exponent, rate) = CURRENCIES[(z % CURRENCIES.len() as u64) as usize];
    // 2 to about 20,000 major units of USD's worth, log-spread.
    let magnitude = ((z >> 8) % 10_000) as f64 / 10_000.0;
    let usd = 2.0 * 10f64.powf(magnitude * 4.0);
    let major = usd * rate as f64;
    let unit = 10f64.powi(exponent as i32);
    Money {
        minor: ((major * unit).round() as i64).max(1),
        currency: currency.to_string(),
        exponent,
    }
}

/// `12.50 USD`, `999 JPY`, `1.250 KWD`: an amount in minor units, with as many decimals as
/// the currency has (`minor_units`), in integer arithmetic, never through a float.
pub fn format_amount(minor: i64, currency: &str, minor_units: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    match 10u64.checked_pow(minor_units) {
        Some(1) => format!("{sign}{minor} {currency}"),
        Some(unit) => format!(
            "{sign}{}.{:0width$} {currency}",
            minor / unit,
            minor % unit,
            width = minor_units as usize
        ),
        None => format!("{sign}{minor} (minor units) {currency}"),
    }
}

/// An amount as a page shows it: [`format_amount`] with its whole units grouped by
/// thousands (`1,234,567.89 MYR`, `906,015 JPY`), easier to read at a glance. Exports and
/// the command line keep [`format_amount`], whose figures a spreadsheet or a script reads.
pub fn format_amount_grouped(minor: i64, currency: &str, minor_units: u32) -> String {
    let plain = format_amount(minor, currency, minor_units);
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (whole, tail) = rest.split_at(digits);
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{tail}")
}

/// An order's amount as a page shows it (grouped by thousands), or `amount unknown`.
pub fn amount_shown(amount: Option<&Money>) -> String {
    amount.map_or_else(
        || AMOUNT_UNKNOWN.to_string(),
        |m| format_amount_grouped(m.minor, &m.currency, m.exponent),
    )
}

/// Reads a decimal amount as people type it (`12.50`, `12.5`, `1250`, `0.005`) into minor
/// units of a currency with `minor_units` decimals. More decimals than the currency has, a
/// sign, or anything that is not a number is refused.
pub fn parse_amount(text: &str, minor_units: u32) -> Result<i64, InputError> {
    let text = text.trim();
    let bad = || {
        let hint = match minor_units {
            0 => "write whole units, without decimals, e.g. 1250".to_string(),
            n => format!(
                "write digits with at most {n} decimals, e.g. 12.{:0<width$}",
                5,
                width = n as usize
            ),
        };
        InputError::malformed("an amount", text, hint)
    };
    let too_large = || {
        InputError::malformed(
            "an amount this system can hold",
            text,
            format!(
                "it is too large: at most {} whole units",
                i64::MAX / 10i64.saturating_pow(minor_units)
            ),
        )
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    if fraction.len() > minor_units as usize || (text.contains('.') && fraction.is_empty()) {
        return Err(bad());
    }
    let unit = 10i64.checked_pow(minor_units).ok_or_else(bad)?;
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let padded = format!("{fraction:0<width$}", width = minor_units as usize);
    let fraction: i64 = match padded.is_empty() {
        true => 0,
        false => padded.parse().map_err(|_| bad())?,
    };
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(too_large)
}

/// The currency's decimals, if it is an ISO 4217 currency (not a fund or metal code).
#[cfg(feature = "ssr")]
pub fn minor_units(currency: &str) -> Option<u32> {
    iso_currency::Currency::from_code(currency)
        .and_then(|c| c.exponent())
        .map(u32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_reads_its_money_or_says_it_is_unknown() {
        let m = Money {
            minor: 1_250,
            currency: "KWD".into(),
            exponent: 3,
        };
        assert_eq!(amount_text(Some(&m)), "1.250 KWD");
        assert_eq!(amount_text(None), "amount unknown");
        assert!(m.same_as(1_250, "KWD") && !m.same_as(1_250, "USD"));
        assert!((m.major() - 1.25).abs() < 1e-9);
        assert!(
            check_money(&Money {
                minor: 0,
                ..m.clone()
            })
            .is_err()
        );
        assert!(
            check_money(&Money {
                minor: -5,
                ..m.clone()
            })
            .is_err()
        );
        assert!(check_money(&m).is_ok());
        assert_eq!(money("12.50", "myr").unwrap().to_string(), "12.50 MYR");
        assert_eq!(money("999", "JPY").unwrap().minor, 999);
        assert!(money("12.5", "JPY").is_err(), "yen have no decimals");
        assert!(money("12.50", "XAU").is_err(), "a metal is not money here");
        assert!(money("2000000000", "USD").is_err(), "past the named limit");
    }

    #[test]
    fn simulated_amounts_are_varied_and_valid() {
        let drawn: Vec<Money> = (0..500).map(simulated_amount).collect();
        assert!(drawn.iter().all(|m| check_money(m).is_ok()), "{drawn:?}");
        let currencies: std::collections::HashSet<_> =
            drawn.iter().map(|m| m.currency.as_str()).collect();
        assert!(currencies.len() >= 4, "{currencies:?}");
        assert!(drawn.iter().any(|m| m.major() < 50.0));
        assert!(drawn.iter().any(|m| m.major() > 1_000.0));
    }

    #[test]
    fn amounts_show_cents_exactly() {
        assert_eq!(format_amount(999, "USD", 2), "9.99 USD");
        assert_eq!(format_amount(100_000_005, "CNY", 2), "1000000.05 CNY");
        assert_eq!(format_amount(7, "EUR", 2), "0.07 EUR");
        assert_eq!(format_amount(-250, "USD", 2), "-2.50 USD");
    }

    #[test]
    fn amounts_use_their_currencys_own_decimals() {
        assert_eq!(format_amount(999, "JPY", 0), "999 JPY");
        assert_eq!(format_amount(1_250, "KWD", 3), "1.250 KWD");
        assert_eq!(format_amount(5, "KWD", 3), "0.005 KWD");
    }

    #[test]
    fn pages_group_whole_units_by_thousands() {
        assert_eq!(
            format_amount_grouped(100_000_005, "CNY", 2),
            "1,000,000.05 CNY"
        );
        assert_eq!(format_amount_grouped(906_015, "JPY", 0), "906,015 JPY");
        assert_eq!(format_amount_grouped(-123_456, "USD", 2), "-1,234.56 USD");
        assert_eq!(format_amount_grouped(99_999, "USD", 2), "999.99 USD");
        assert_eq!(format_amount_grouped(1_234_567, "KWD", 3), "1,234.567 KWD");
        assert_eq!(format_amount_grouped(0, "EUR", 2), "0.00 EUR");
        assert_eq!(amount_shown(None), AMOUNT_UNKNOWN);
    }

    #[test]
    fn decimal_amounts_become_minor_units_exactly() {
        assert_eq!(parse_amount("12.50", 2), Ok(1_250));
        assert_eq!(parse_amount("12.5", 2), Ok(1_250));
        assert_eq!(parse_amount("12", 2), Ok(1_200));
        assert_eq!(parse_amount("999", 0), Ok(999));
        assert_eq!(parse_amount("0.005", 3), Ok(5));
        for bad in [
            "",
            "12.505",
            "-1",
            "1e3",
            "12.",
            ".5",
            "12,50",
            "9999999999999999999",
        ] {
            assert!(parse_amount(bad, 2).is_err(), "{bad:?}");
        }
        assert!(parse_amount("1.5", 0).is_err(), "JPY has no decimals");
        // Each refusal says what would be read: the currency's own decimals, or the size.
        let said = |text: &str, units: u32| parse_amount(text, units).unwrap_err().to_string();
        assert!(
            said("100.5", 0).contains("without decimals, e.g. 1250"),
            "{}",
            said("100.5", 0)
        );
        assert!(said("1.2345", 3).contains("at most 3 decimals, e.g. 12.500"));
        assert!(said("1.234", 2).contains("e.g. 12.50"));
        for huge in ["99999999999999999999", "92233720368547758.08"] {
            assert!(said(huge, 2).contains("too large"), "{}", said(huge, 2));
        }
    }
}
