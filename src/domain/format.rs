//! How times and waits read on a page and in the CLI, and the text encodings the pages
//! and exports share (URL components, CSV lines). Shared with the browser.

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

/// `2 h 14 min`, `3 d 4 h`, `12 min`, `40 s`: an age as a person reads it.
pub fn readable(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s >= 86_400 => match (s % 86_400) / 3_600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
        s if s >= 3_600 => match (s % 3_600) / 60 {
            0 => format!("{} h", s / 3_600),
            m => format!("{} h {m} min", s / 3_600),
        },
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Refuses what is not an RFC 3339 time (`2026-11-30T15:04:17Z`), naming the field.
pub fn check_rfc3339(field: &'static str, text: &str) -> Result<(), super::input::InputError> {
    match text.len() <= 40 && epoch_secs(text).is_some() {
        true => Ok(()),
        false => Err(super::input::InputError::malformed(
            field,
            text,
            "write an RFC 3339 time such as 2026-11-30T15:04:17Z",
        )),
    }
}

/// Seconds since 1970 of an RFC 3339 time (`2026-11-30T15:04:17Z`, fractions and
/// offsets allowed); `None` if it is not one. Integer arithmetic (days from the civil
/// date), so the browser needs no date library.
pub fn epoch_secs(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = text.get(from..from + len)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hh, mm, ss) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    // The offset: after any fraction.
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    // Nothing after the offset: `Z`, or `±hh:mm`.
    let ends_at = match b.get(i) {
        Some(b'Z' | b'z') => i + 1,
        _ => i + 6,
    };
    if b.len() != ends_at {
        return None;
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 || b.get(i + 3) != Some(&b':') {
                return None;
            }
            let minutes = oh * 60 + om;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    // A calendar date and a clock time that exist (`2026-02-30` and `25:00` do not; a
    // leap second's `:60` does), and an offset within a day.
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3_600 + mm * 60 + ss - offset)
}

/// How long before `now` the time `at` was, as a person reads it (`2 h 14 min`); empty if
/// either is not a time.
pub fn age(now: &str, at: &str) -> String {
    match (epoch_secs(now), epoch_secs(at)) {
        (Some(n), Some(a)) => readable(n - a),
        _ => String::new(),
    }
}

/// Text for one query-string value or path piece: unreserved characters as they are,
/// every other byte percent-encoded (shared with the browser, which has no url crate here).
pub fn url_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// One CSV line (RFC 4180, CRLF): every field quoted, quotes doubled, and a leading `=`,
/// `+`, `-` or `@` prefixed with `'` so a spreadsheet does not run it as a formula.
pub fn csv_line(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|text| {
            let safe = match text.chars().next() {
                Some('=' | '+' | '-' | '@') => format!("'{text}"),
                _ => text.to_string(),
            };
            format!("\"{}\"", safe.replace('"', "\"\""))
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
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
    fn ages_read_as_people_say_them_and_times_parse_exactly() {
        assert_eq!(readable(40), "40 s");
        assert_eq!(readable(12 * 60 + 5), "12 min");
        assert_eq!(readable(2 * 3_600 + 14 * 60), "2 h 14 min");
        assert_eq!(readable(3 * 86_400 + 4 * 3_600), "3 d 4 h");
        assert_eq!(epoch_secs("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            epoch_secs("2023-11-15T06:13:20.123+08:00"),
            Some(1_700_000_000)
        );
        assert_eq!(epoch_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_secs("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(epoch_secs("yesterday"), None);
        // Dates and times that do not exist are not times.
        for text in [
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-12-00T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T23:60:00Z",
            "2026-12-01T23:59:61Z",
            "2026-12-01T10:00:00+24:00",
            "2026-12-01T10:00:00+05:60",
            "2026-12-01T10x00x00Z",
            "2026-12-01T10:00:00Z' OR 1=1",
            "2026-12-01T10:00:00+05:00:00",
            "2026-12-01T10:00:00+0500",
        ] {
            assert_eq!(epoch_secs(text), None, "{text}");
        }
        assert!(epoch_secs("2000-02-29T23:59:60-23:59").is_some());
        assert_eq!(
            age("2026-11-30T17:18:00Z", "2026-11-30T15:04:00Z"),
            "2 h 14 min"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn workflow_time_formats_as_utc_seconds() {
        use std::time::{Duration, SystemTime};
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
    }
}
