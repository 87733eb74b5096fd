//! Money: integer amounts in a currency's minor units (cents for USD, yen for JPY, fils for
//! KWD), how they read, and how people's decimal amounts (`12.50`) become them, never
//! through a float.

use super::input::InputError;

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

/// Reads a decimal amount as people type it (`12.50`, `12.5`, `1250`, `0.005`) into minor
/// units of a currency with `minor_units` decimals. More decimals than the currency has, a
/// sign, or anything that is not a number is refused.
pub fn parse_amount(text: &str, minor_units: u32) -> Result<i64, InputError> {
    let text = text.trim();
    let bad = || {
        InputError::malformed(
            "an amount",
            text,
            format!("write digits with at most {minor_units} decimals, e.g. 12.50"),
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
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let padded = format!("{fraction:0<width$}", width = minor_units as usize);
    let fraction: i64 = match padded.is_empty() {
        true => 0,
        false => padded.parse().map_err(|_| bad())?,
    };
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)
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
    }
}
