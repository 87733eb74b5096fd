//! The rules a recurring contract is held to, where it is created (`operations::contracts`,
//! which the CLI and the console share) and again before each of its terms charges (the
//! RecurringPayment workflow's `CheckContractTerm` activity): the money bounds, the
//! currency and time zone, how often it may charge, and the hours the clocks change.
//! Server-side only: it needs the currency table, the time zone database and `croner`.

use super::{
    contract::{Cadence, ContractLimits, NewContract},
    input::InputError,
    money::{format_amount, minor_units},
};

/// Every rule a new contract is held to: its own checks, plus what needs the server's
/// tables: the currency (ISO 4217, with its minor units), the largest amount in it, the
/// time zone, how often a cron line charges, and the hours its zone skips or repeats.
pub fn check(contract: &NewContract, limits: &ContractLimits) -> Result<(), InputError> {
    let (zone, cron) = standing(contract, limits)?;
    if let (Cadence::Cron { expression }, Some(cron)) = (&contract.cadence, cron) {
        check_clock_changes(expression, &cron, zone, chrono::Utc::now().timestamp())?;
    }
    Ok(())
}

/// The rules each term of a contract is held to before it charges, with the bounds in
/// force then: every rule of [`check`] but the clock changes (a contract made before that
/// rule keeps its other terms; the one term that repeats an hour is caught by
/// [`repeats_the_term_before`]). The number of terms is not looked at: a contract may run
/// until cancelled.
pub fn check_term(contract: &NewContract, limits: &ContractLimits) -> Result<(), InputError> {
    let mut contract = contract.clone();
    contract.total_terms = 0;
    standing(&contract, limits).map(|_| ())
}

/// The rules both [`check`] and [`check_term`] hold to: the zone, and the cron line as
/// read (when it is one) for the clock changes.
fn standing(
    contract: &NewContract,
    limits: &ContractLimits,
) -> Result<(chrono_tz::Tz, Option<croner::Cron>), InputError> {
    contract.validate(limits)?;
    let currency = &contract.terms.currency;
    let units = minor_units(currency).ok_or_else(|| {
        InputError::malformed(
            "an ISO 4217 currency",
            currency,
            "use a code such as USD, MYR or JPY",
        )
    })?;
    let max = i64::from(limits.max_amount).saturating_mul(10i64.saturating_pow(units));
    if contract.terms.amount_cents > max {
        return Err(InputError::out_of_range(
            "amount",
            format_amount(contract.terms.amount_cents, currency, units),
            format!("at most {} {currency} a term", limits.max_amount),
        ));
    }
    let Ok(zone) = contract.time_zone.parse::<chrono_tz::Tz>() else {
        return Err(InputError::malformed(
            "an IANA time zone",
            &contract.time_zone,
            "use a name such as Asia/Kuala_Lumpur or Europe/Berlin",
        ));
    };
    let Cadence::Cron { expression } = &contract.cadence else {
        return Ok((zone, None));
    };
    let cron = read_cron(expression)?;
    check_cron_gap(expression, &cron, zone, limits)?;
    Ok((zone, Some(cron)))
}

/// Whether a cron line charges every hour (`*` hours): its charges stay an hour apart
/// through both clock changes, so neither rule about them applies.
fn hourly(expression: &str) -> bool {
    expression.split_whitespace().nth(1) == Some("*")
}

/// Whether a term of a cron line, due at `at` (Unix seconds), falls on the same
/// wall-clock minute in `zone` as the term before it, due at `previous`: the second pass
/// of an hour the clocks repeat (01:30 EST after 01:30 EDT), which would charge the
/// customer twice. Hourly lines are never told so.
pub fn repeats_the_term_before(
    expression: &str,
    zone: chrono_tz::Tz,
    previous: i64,
    at: i64,
) -> bool {
    let wall = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
    };
    !hourly(expression) && previous < at && wall(previous).is_some() && wall(previous) == wall(at)
}

/// A cron line that cannot be used, and why.
fn unusable_cron(expression: &str, why: String) -> InputError {
    InputError::malformed("a cron expression", expression, why)
}

/// A cron line as `croner` reads it, for the checks below.
fn read_cron(expression: &str) -> Result<croner::Cron, InputError> {
    croner::Cron::new(expression)
        .parse()
        .map_err(|e| unusable_cron(expression, format!("it cannot be read: {e}")))
}

/// Years ahead looked at for the hours a contract's time zone skips or repeats.
pub const CLOCK_CHANGE_YEARS_CHECKED: i64 = 2;

/// Refuses a cron line that charges in an hour its time zone skips or repeats when the
/// clocks change (after `from`, Unix seconds, for `CLOCK_CHANGE_YEARS_CHECKED` years).
/// Temporal's schedule charges nothing at a time that does not exist (`30 2 * * *` in New
/// York skips the second Sunday of March) and charges twice at one that comes twice (`30 1
/// * * *` charges at 01:30 EDT and again at 01:30 EST on the first Sunday of November): a
/// missed term or a customer charged twice. The person chooses another time. A line that
/// charges every hour (`*` hours) is taken: its charges stay an hour apart through both.
fn check_clock_changes(
    expression: &str,
    cron: &croner::Cron,
    zone: chrono_tz::Tz,
    from: i64,
) -> Result<(), InputError> {
    let Some(hit) = clock_change_hit(expression, cron, zone, from) else {
        return Ok(());
    };
    let when = &hit.when;
    Err(unusable_cron(
        expression,
        match hit.skipped {
            true => format!(
                "it charges at {when}, a time {zone} skips when its clocks go forward: that \
                 term would not be charged. Choose a time outside that hour"
            ),
            false => format!(
                "it charges at {when}, a time {zone} passes twice when its clocks go back: the \
                 customer would be charged twice. Choose a time outside that hour"
            ),
        },
    ))
}

/// What a standing contract's cron line meets at the next clock change in its zone (within
/// `CLOCK_CHANGE_YEARS_CHECKED` years), in finance's words; `None` when nothing. Contracts
/// made before [`check`] refused such lines keep them: their page says so.
pub fn clock_change_ahead(expression: &str, zone_name: &str) -> Option<String> {
    let zone = zone_name.parse::<chrono_tz::Tz>().ok()?;
    let cron = read_cron(expression).ok()?;
    let hit = clock_change_hit(expression, &cron, zone, chrono::Utc::now().timestamp())?;
    let when = &hit.when;
    Some(match hit.skipped {
        true => format!(
            "It charges at {when}, a time {zone} skips when its clocks go forward: that term \
             will not be charged."
        ),
        false => format!(
            "It charges at {when}, a time {zone} passes twice when its clocks go back: the \
             second charge will be refused, which pauses the contract until it is resumed."
        ),
    })
}

/// A charge in an hour the clocks skip or repeat: when (`02:30 on 2027-03-14`), and which.
struct ClockChangeHit {
    when: String,
    skipped: bool,
}

/// The first time after `from` that a cron line charges in an hour its zone skips or
/// repeats, within `CLOCK_CHANGE_YEARS_CHECKED` years; never for an hourly line.
fn clock_change_hit(
    expression: &str,
    cron: &croner::Cron,
    zone: chrono_tz::Tz,
    from: i64,
) -> Option<ClockChangeHit> {
    use chrono::{Offset, TimeZone};
    if hourly(expression) {
        return None;
    }
    let offset_at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|utc| {
                zone.offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
            .unwrap_or(0)
    };
    let wall = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.naive_utc());
    let start = from - from.rem_euclid(3_600);
    let until = start + CLOCK_CHANGE_YEARS_CHECKED * 366 * 86_400;
    let mut before = offset_at(start);
    let mut day = start;
    while day < until {
        // A zone's offset changes at most once a day: a day whose two ends agree has no
        // change, so days are looked at, then the hour and the minute of a change.
        if offset_at(day + 86_400) == before {
            day += 86_400;
            continue;
        }
        let mut change = day;
        while offset_at(change + 3_600) == before {
            change += 3_600;
        }
        while offset_at(change) == before {
            change += 60;
        }
        let after = offset_at(change);
        // Wall-clock times (as if UTC) the change skips or repeats.
        let (first, end, skipped) = match after > before {
            true => (change + i64::from(before), change + i64::from(after), true),
            false => (change + i64::from(after), change + i64::from(before), false),
        };
        for at in (first..end).step_by(60) {
            let Some(local) = wall(at) else { continue };
            let matches = cron
                .is_time_matching(&chrono::Utc.from_utc_datetime(&local))
                .unwrap_or(false);
            if matches {
                return Some(ClockChangeHit {
                    when: local.format("%H:%M on %Y-%m-%d").to_string(),
                    skipped,
                });
            }
        }
        before = after;
        day = change;
    }
    None
}

/// Fires of a cron line looked at for its shortest gap: a year of hourly charges.
const CRON_FIRES_CHECKED: usize = 9_000;

/// Holds a cron line to the same bound as an interval: the shortest gap between its next
/// fires (read by `croner`, in the contract's time zone, daylight saving included) must be
/// at least `min_interval_secs`.
fn check_cron_gap(
    expression: &str,
    cron: &croner::Cron,
    zone: chrono_tz::Tz,
    limits: &ContractLimits,
) -> Result<(), InputError> {
    let start = chrono::Utc::now().with_timezone(&zone);
    let fires: Vec<i64> = cron
        .iter_after(start)
        .take(CRON_FIRES_CHECKED)
        .map(|t| t.timestamp())
        .collect();
    if fires.is_empty() {
        return Err(unusable_cron(expression, "it never fires".into()));
    }
    let shortest = fires
        .windows(2)
        .map(|w| w[1] - w[0])
        .min()
        .unwrap_or(i64::MAX);
    let floor = limits.min_interval_secs.max(1);
    if shortest < floor as i64 {
        return Err(InputError::out_of_range(
            "time between two charges",
            format!("{shortest} seconds"),
            format!("at least {floor} seconds"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-06T00:00:00Z.
    const FROM: i64 = 1_796_515_200;

    fn zone(name: &str) -> chrono_tz::Tz {
        name.parse().unwrap()
    }

    /// What a cron line in `zone_name` is told, or `None` if it is taken.
    fn told(line: &str, zone_name: &str) -> Option<String> {
        let cron = read_cron(line).unwrap();
        check_clock_changes(line, &cron, zone(zone_name), FROM)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn a_cron_line_that_charges_in_an_hour_the_clocks_skip_or_repeat_is_refused() {
        assert_eq!(
            chrono::DateTime::from_timestamp(FROM, 0).map(|d| d.to_rfc3339()),
            Some("2026-12-06T00:00:00+00:00".into())
        );
        let spring = told("30 2 * * *", "America/New_York").unwrap_or_default();
        assert!(
            spring.contains("02:30 on 2027-03-14") && spring.contains("skips"),
            "{spring}"
        );
        let autumn = told("30 1 * * *", "America/New_York").unwrap_or_default();
        assert!(
            autumn.contains("01:30 on 2027-11-07") && autumn.contains("charged twice"),
            "{autumn}"
        );
        let berlin = told("15 2 * * *", "Europe/Berlin").unwrap_or_default();
        assert!(berlin.contains("02:15 on 2027-03-28"), "{berlin}");
        // Outside those hours, on days the clocks never change, or in a zone without
        // daylight saving, a contract is taken.
        for (line, name) in [
            ("0 9 * * *", "America/New_York"),
            ("30 2 * * 1-5", "America/New_York"),
            ("30 2 * * *", "Asia/Kuala_Lumpur"),
            ("30 2 * * *", "UTC"),
            ("0 3 * * *", "America/New_York"),
            ("0 * * * *", "America/New_York"),
            ("15 * * * 1-5", "Europe/Berlin"),
        ] {
            assert_eq!(told(line, name), None, "{line} in {name}");
        }
    }

    #[test]
    fn a_term_on_the_wall_clock_minute_of_the_term_before_repeats_it() {
        let new_york = zone("America/New_York");
        // 2027-11-07 01:30 EDT is 05:30 UTC; 01:30 EST an hour later.
        let edt = 1_825_565_400;
        assert_eq!(
            chrono::DateTime::from_timestamp(edt, 0).map(|d| d.to_rfc3339()),
            Some("2027-11-07T05:30:00+00:00".into())
        );
        let est = edt + 3_600;
        assert!(repeats_the_term_before("30 1 * * *", new_york, edt, est));
        // The day after is a new day; an hourly line charges every hour anyway; in UTC the
        // two are an hour apart on the wall too.
        assert!(!repeats_the_term_before(
            "30 1 * * *",
            new_york,
            est,
            est + 86_400
        ));
        assert!(!repeats_the_term_before("30 * * * *", new_york, edt, est));
        assert!(!repeats_the_term_before(
            "30 1 * * *",
            zone("UTC"),
            edt,
            est
        ));
        assert!(!repeats_the_term_before("30 1 * * *", new_york, est, est));
    }
}
