//! The audit trail's rows and filters, shared with the browser: who did what, to which
//! order or contract, when, with what outcome, from where (PCI DSS requirement 10's
//! fields). Built on the server from Temporal's histories and schedules.

use serde::{Deserialize, Serialize};

use super::{
    format::{csv_line, url_component},
    input::InputError,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When Temporal recorded it (RFC 3339, UTC); empty for a contract's latest note.
    pub at: String,
    pub actor: String,
    pub action: String,
    /// The order or contract id.
    pub target: String,
    pub outcome: String,
    /// The client that sent it: the Temporal identity recorded on the event.
    pub origin: String,
    /// The target is a recurring contract, not an order.
    #[serde(default)]
    pub contract: bool,
    /// How it came: `console`, `command line`, `signal` (a raw signal from any other
    /// client: Temporal's web UI, its CLI, an SDK script) or `another client`.
    #[serde(default)]
    pub channel: String,
    /// The actor's stable id, when their sign-in has one.
    #[serde(default)]
    pub actor_id: String,
}

/// The audit page's filters, as its address carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// A person's name: exactly.
    pub actor: String,
    /// Part of the action: `claim`, `approve`, `resolve paid` …
    pub action: String,
    /// First day, `YYYY-MM-DD` (UTC).
    pub since: String,
    /// Last day, `YYYY-MM-DD` (UTC).
    pub until: String,
    /// One order, contract or statement import, by its id: exactly (its rows only).
    pub target: String,
}

/// A `YYYY-MM-DD` day, checked.
fn day(field: &'static str, text: &str) -> Result<Option<String>, InputError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        // A day the calendar has (not 2026-02-30).
        && super::format::epoch_secs(&format!("{text}T00:00:00Z")).is_some();
    if !shape {
        return Err(InputError::malformed(
            field,
            text,
            "write a day the calendar has, like 2026-11-30",
        ));
    }
    Ok(Some(text.to_string()))
}

impl AuditFilter {
    /// The start of the first day, RFC 3339.
    pub fn since(&self) -> Result<Option<String>, InputError> {
        Ok(day("a first day", &self.since)?.map(|d| format!("{d}T00:00:00Z")))
    }

    /// The end of the last day, RFC 3339.
    pub fn until(&self) -> Result<Option<String>, InputError> {
        Ok(day("a last day", &self.until)?.map(|d| format!("{d}T23:59:59.999999999Z")))
    }

    /// Whether an entry passes the person, action and time filters.
    pub fn keeps(&self, e: &AuditEntry) -> bool {
        let actor = self.actor.trim();
        let action = self.action.trim().to_lowercase();
        let since = self.since().ok().flatten();
        let until = self.until().ok().flatten();
        let by_actor = actor.is_empty()
            || e.actor == actor
            || (!e.actor_id.is_empty() && e.actor_id == actor)
            || (actor == SIGNAL_CHANNEL && e.channel == SIGNAL_CHANNEL);
        let target = self.target.trim();
        by_actor
            && (target.is_empty() || e.target == target)
            && (action.is_empty() || e.action.to_lowercase().contains(&action))
            && (e.at.is_empty() || since.is_none_or(|s| e.at.as_str() >= s.as_str()))
            && (e.at.is_empty() || until.is_none_or(|u| e.at.as_str() <= u.as_str()))
    }

    /// The query string of this filter (for the page's links and the export).
    pub fn query(&self) -> String {
        format!(
            "actor={}&action={}&since={}&until={}&target={}",
            url_component(&self.actor),
            url_component(&self.action),
            url_component(&self.since),
            url_component(&self.until),
            url_component(&self.target)
        )
    }
}

/// The channel of a raw signal from a client not ours, and the actor its entries are
/// found under.
pub const SIGNAL_CHANNEL: &str = "signal";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Opaque token for the next page of orders, if there is one.
    pub next_page: Option<String>,
    /// The lists the trail read only the newest part of (statement imports, contract
    /// changes, questions to the bank), each in a sentence: how many match, how many it
    /// shows, and to narrow the days.
    #[serde(default)]
    pub cut: Vec<String>,
}

/// The entries as CSV (RFC 4180), times in UTC as the header says.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("time_utc,actor,action,target,outcome,channel,origin\r\n");
    for e in entries {
        out.push_str(&csv_line(&[
            &e.at, &e.actor, &e.action, &e.target, &e.outcome, &e.channel, &e.origin,
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, actor: &str, action: &str) -> AuditEntry {
        AuditEntry {
            at: at.into(),
            actor: actor.into(),
            action: action.into(),
            target: "ORD-1".into(),
            outcome: "done".into(),
            origin: "console".into(),
            contract: false,
            channel: "console".into(),
            actor_id: String::new(),
        }
    }

    #[test]
    fn filters_keep_the_person_the_action_and_the_days_asked_for() {
        let f = AuditFilter {
            actor: "ana".into(),
            action: "Resolve".into(),
            since: "2026-11-30".into(),
            until: "2026-11-30".into(),
            ..Default::default()
        };
        assert!(f.keeps(&entry("2026-11-30T10:00:00Z", "ana", "resolve paid (X)")));
        let one = AuditFilter {
            target: "ORD-2".into(),
            ..Default::default()
        };
        let mut other = entry("2026-11-30T10:00:00Z", "ana", "claim");
        other.target = "ORD-22".into();
        assert!(
            !one.keeps(&other),
            "one order exactly, not every id it begins"
        );
        other.target = "ORD-2".into();
        assert!(one.keeps(&other));
        assert!(!f.keeps(&entry("2026-11-29T23:59:59Z", "ana", "resolve paid (X)")));
        assert!(!f.keeps(&entry("2026-12-01T00:00:00Z", "ana", "resolve paid (X)")));
        assert!(!f.keeps(&entry("2026-11-30T10:00:00Z", "bo", "resolve paid (X)")));
        assert!(!f.keeps(&entry("2026-11-30T10:00:00Z", "ana", "claim")));
        let bad = AuditFilter {
            since: "30/11/2026".into(),
            ..Default::default()
        };
        assert!(bad.since().is_err());
        for day in ["2026-02-30", "2026-13-01", "2026-00-00"] {
            let bad = AuditFilter {
                until: day.into(),
                ..Default::default()
            };
            let err = bad.until().unwrap_err().to_string();
            assert!(err.contains("calendar"), "{day}: {err}");
        }
    }

    #[test]
    fn csv_quotes_fields_and_defuses_formulas() {
        let csv = to_csv(&[entry(
            "2026-11-30T10:00:00Z",
            "=cmd|' /C calc'!A0",
            "say \"hi\", then",
        )]);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.contains("\"'=cmd|' /C calc'!A0\""), "{line}");
        assert!(line.contains("\"say \"\"hi\"\", then\""), "{line}");
        assert!(csv.starts_with("time_utc,actor,action,target,outcome,channel,origin\r\n"));
    }
}
