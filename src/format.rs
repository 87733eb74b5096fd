//! How times, waits and money read on a page and in the CLI (shared with the browser).

/// `3d 4h`, `12m`, `40s`: how long something has waited.
pub fn waited(secs: i64) -> String {
    let secs = secs.max(0);
    let (big, small) = match secs {
        s if s >= 86_400 => ((s / 86_400, "d"), ((s % 86_400) / 3_600, "h")),
        s if s >= 3_600 => ((s / 3_600, "h"), ((s % 3_600) / 60, "m")),
        s if s >= 60 => ((s / 60, "m"), (0, "")),
        s => ((s, "s"), (0, "")),
    };
    if small.0 == 0 {
        format!("{}{}", big.0, big.1)
    } else {
        format!("{}{} {}{}", big.0, big.1, small.0, small.1)
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

/// A time as RFC 3339 (UTC, seconds): workflow time, visibility times, schedule times.
#[cfg(feature = "ssr")]
pub fn rfc3339(time: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_times_read_at_a_glance() {
        assert_eq!(waited(42), "42s");
        assert_eq!(waited(125), "2m");
        assert_eq!(waited(3 * 3_600 + 120), "3h 2m");
        assert_eq!(waited(2 * 86_400 + 5 * 3_600), "2d 5h");
        assert_eq!(waited(30 * 86_400), "30d");
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

    #[cfg(feature = "ssr")]
    #[test]
    fn workflow_time_formats_as_utc_seconds() {
        use std::time::{Duration, SystemTime};
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
    }
}
