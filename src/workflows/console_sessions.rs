//! ConsoleSessions: the console's ended sessions, kept in Temporal, where every replica
//! already reads (sessions themselves live in the browser's encrypted cookie). Sign-out
//! ends one session, `user revoke` every session of a person signed in before it; each
//! replica reads the list once every few seconds and refuses what it names. Changes are
//! signals, which the server keeps whether or not a worker is running at that moment.
//!
//! One workflow (`console-sessions`) for the namespace. Entries leave once the sessions
//! they end would have ended anyway; the run continues as new before its history grows
//! long.

use serde::{Deserialize, Serialize};
use std::time::SystemTime;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ContinueAsNewOptions, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};

use crate::domain::input::{MAX_CODE_LEN, validate_recorded_operator};

/// The one workflow id of the list.
pub const WORKFLOW_ID: &str = "console-sessions";
/// Changes one run takes before it continues as new (its history stays short).
pub const CHANGES_PER_RUN: u32 = 500;
/// How long a person's revocation is kept: past the longest session a console allows
/// (`auth.lifetime_hours`, at most a week), no session it could end is left.
pub const KEEP_PERSON_SECS: i64 = 8 * 86_400;
/// Longest session id accepted.
const MAX_SESSION_ID_LEN: usize = 128;
/// The change that makes a person's cut move only later: a `revoke_person` signal that
/// would move it earlier (which would bring back the sessions it ended) is ignored, and
/// one ahead of the workflow's clock by more than [`CUT_AHEAD_SECS`] is held to that.
pub const CUT_ONLY_LATER_PATCH: &str = "revocation-cut-only-moves-later";
/// The change that makes a list's run that did not continue an earlier one (the first,
/// or one started after the list was terminated from outside, whose ended sessions it
/// cannot know) end every session begun before it: [`Revocations::whole_since`].
pub const WHOLE_SINCE_PATCH: &str = "revocations-whole-since-the-run-began";
/// The change that bounds the list: an ended session is listed at most
/// [`KEEP_PERSON_SECS`] (no session lasts longer), and past [`MAX_LISTED`] entries the list
/// ends everything begun until then instead ([`Revocations::bound`]).
pub const BOUNDED_PATCH: &str = "revocations-bounded";
/// The most entries (ended sessions and cut people) the list holds: every replica reads
/// all of it every 2 s, and a run carries it on when it continues as new. A team signing
/// out a few times a day stays far below it within the week a session can last.
pub const MAX_LISTED: usize = 5_000;
/// How far ahead of the workflow's clock a cut may be: room for a client's clock running
/// fast. Further ahead, it would lock the person out until then, and no later cut could
/// lift it.
pub const CUT_AHEAD_SECS: i64 = 300;

/// One session ended before its time (sign-out): refused until it would have expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSession {
    pub session: String,
    /// Seconds since 1970 after which the session would have expired by itself.
    pub until: i64,
    pub by: String,
}

/// Every session of a person signed in before `after` ends (`user revoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonCut {
    /// The person's name, or their stable id (`oidc:<issuer>#<subject>`).
    pub person: String,
    /// Seconds since 1970.
    pub after: i64,
    pub by: String,
}

/// The list, as the query answers it and as a new run carries it on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocations {
    pub sessions: Vec<EndedSession>,
    pub people: Vec<PersonCut>,
    /// Seconds since 1970 from which the list is whole: it cannot know what was ended
    /// before its first run began, so every session begun before then is ended. A run
    /// that did not continue an earlier one sets it to its own start (on runs with the
    /// [`WHOLE_SINCE_PATCH`]); 0 for lists begun before.
    #[serde(default)]
    pub whole_since: i64,
}

impl Revocations {
    /// Whether a session (`session` id, its person's `keys`, begun at `signed_in_at`) is
    /// ended by this list.
    pub fn ends(&self, session: &str, keys: &[&str], signed_in_at: i64) -> bool {
        signed_in_at < self.whole_since
            || self.sessions.iter().any(|s| s.session == session)
            || self
                .people
                .iter()
                .any(|p| keys.contains(&p.person.as_str()) && signed_in_at <= p.after)
    }

    /// Keeps the list within [`MAX_LISTED`] entries: past it, the list becomes whole only
    /// from the next second on ([`Revocations::whole_since`]), which ends every session it
    /// listed and every other begun until now (everyone signs in again), so that no
    /// ended session comes back and a flood of signals cannot grow the list without end.
    fn bound(&mut self, now: i64) {
        if self.sessions.len() + self.people.len() <= MAX_LISTED {
            return;
        }
        let next_second = now.saturating_add(1);
        self.whole_since = self.whole_since.max(next_second);
        self.sessions.clear();
        self.people.retain(|p| p.after >= next_second);
    }

    /// Adds what `more` ends that this list does not already (a session it does not name,
    /// a person's later cut): the union, never less than either.
    pub fn add(&mut self, more: Revocations) {
        for ended in more.sessions {
            if !self.sessions.iter().any(|s| s.session == ended.session) {
                self.sessions.push(ended);
            }
        }
        for cut in more.people {
            let covered = self
                .people
                .iter()
                .any(|p| p.person == cut.person && p.after >= cut.after);
            if !covered {
                self.people.push(cut);
            }
        }
        self.whole_since = self.whole_since.max(more.whole_since);
    }

    /// Drops what can end nothing any more, as of `now` (seconds since 1970).
    fn prune(&mut self, now: i64) {
        self.sessions.retain(|s| s.until >= now);
        self.people
            .retain(|p| p.after >= now.saturating_sub(KEEP_PERSON_SECS));
    }
}

/// Ends one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndSession {
    pub session: String,
    pub until: i64,
    pub by: String,
}

impl EndSession {
    pub fn well_formed(&self) -> bool {
        validate_recorded_operator(&self.by).is_ok()
            && !self.session.is_empty()
            && self.session.len() <= MAX_SESSION_ID_LEN
    }
}

/// Ends every session of a person begun until `after` (seconds since 1970).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokePerson {
    pub person: String,
    pub after: i64,
    pub by: String,
}

impl RevokePerson {
    pub fn well_formed(&self) -> bool {
        validate_recorded_operator(&self.by).is_ok()
            && !self.person.trim().is_empty()
            && self.person.chars().count() <= MAX_CODE_LEN * 4
    }
}

fn seconds(time: Option<SystemTime>) -> i64 {
    time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[workflow]
pub struct ConsoleSessions {
    revoked: Revocations,
    changes: u32,
}

#[workflow_methods]
impl ConsoleSessions {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, carried: Revocations) -> Self {
        ConsoleSessions {
            revoked: carried,
            changes: 0,
        }
    }

    #[run(name = "ConsoleSessions")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        // A run no earlier run continued into knows nothing ended before it began,
        // whatever its input says.
        let info = ctx.info();
        if ctx.patched(WHOLE_SINCE_PATCH) && info.continued_from_run_id().is_none() {
            let began = seconds(info.start_time());
            ctx.state_mut(|s| s.revoked.whole_since = began);
        }
        ctx.wait_condition(|s: &Self| s.changes >= CHANGES_PER_RUN)
            .await?;
        let now = seconds(ctx.workflow_time());
        let mut carried = ctx.state(|s| s.revoked.clone());
        carried.prune(now);
        ctx.continue_as_new(carried, ContinueAsNewOptions::default())?;
        Ok(())
    }

    /// Ends one session. A signal: the server keeps it even while no worker runs (a
    /// sign-out never waits on one); a malformed one is ignored.
    #[signal(name = "end_session")]
    pub fn end_session(&mut self, ctx: &mut SyncWorkflowContext<Self>, request: EndSession) {
        if !request.well_formed() {
            return;
        }
        let now = seconds(ctx.workflow_time());
        self.revoked.prune(now);
        let bounded = ctx.patched(BOUNDED_PATCH);
        let until = match bounded {
            true => request.until.min(now.saturating_add(KEEP_PERSON_SECS)),
            false => request.until,
        };
        if !self
            .revoked
            .sessions
            .iter()
            .any(|s| s.session == request.session)
        {
            self.revoked.sessions.push(EndedSession {
                session: request.session,
                until,
                by: request.by,
            });
        }
        if bounded {
            self.revoked.bound(now);
        }
        self.changes += 1;
    }

    /// Ends every session of the person begun until the request's time. A cut only moves
    /// later (on runs with the [`CUT_ONLY_LATER_PATCH`]): any client can send this signal,
    /// and an earlier cut would bring back the sessions `user revoke` ended.
    #[signal(name = "revoke_person")]
    pub fn revoke_person(
        &mut self,
        ctx: &mut SyncWorkflowContext<Self>,
        mut request: RevokePerson,
    ) {
        if !request.well_formed() {
            return;
        }
        let now = seconds(ctx.workflow_time());
        if ctx.patched(CUT_ONLY_LATER_PATCH) {
            request.after = request.after.min(now.saturating_add(CUT_AHEAD_SECS));
            let already_later = self
                .revoked
                .people
                .iter()
                .any(|p| p.person == request.person && p.after >= request.after);
            if already_later {
                return;
            }
        }
        self.revoked.prune(now);
        self.revoked.people.retain(|p| p.person != request.person);
        self.revoked.people.push(PersonCut {
            person: request.person,
            after: request.after,
            by: request.by,
        });
        if ctx.patched(BOUNDED_PATCH) {
            self.revoked.bound(now);
        }
        self.changes += 1;
    }

    #[query(name = "revocations")]
    pub fn revocations(&self, _ctx: &WorkflowContextView) -> Revocations {
        self.revoked.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_ends_the_sessions_it_names_and_forgets_what_ended_anyway() {
        let mut list = Revocations {
            sessions: vec![EndedSession {
                session: "s1".into(),
                until: 100,
                by: "ana".into(),
            }],
            people: vec![PersonCut {
                person: "bo".into(),
                after: 50,
                by: "admin".into(),
            }],
            whole_since: 0,
        };
        assert!(list.ends("s1", &["ana"], 10));
        assert!(list.ends("s2", &["bo"], 50), "signed in before the cut");
        assert!(!list.ends("s3", &["bo"], 51), "signed in after it");
        assert!(!list.ends("s4", &["cy", "oidc:x#1"], 0));
        // A list whole since 40 ends every session begun before then.
        list.whole_since = 40;
        assert!(list.ends("s5", &["cy"], 39));
        assert!(!list.ends("s5", &["cy"], 40));
        list.whole_since = 0;
        list.prune(101);
        assert!(list.sessions.is_empty());
        assert_eq!(list.people.len(), 1);
        list.prune(50 + KEEP_PERSON_SECS + 1);
        assert!(list.people.is_empty());
    }

    #[test]
    fn what_a_history_adds_to_a_list_never_ends_less_than_either() {
        let cut = |person: &str, after| PersonCut {
            person: person.into(),
            after,
            by: "root".into(),
        };
        let ended = |session: &str| EndedSession {
            session: session.into(),
            until: 100,
            by: "ana".into(),
        };
        let mut list = Revocations {
            sessions: vec![ended("s1")],
            people: vec![cut("finance", 50)],
            whole_since: 10,
        };
        list.add(Revocations {
            sessions: vec![ended("s1"), ended("s2")],
            people: vec![cut("finance", 40), cut("bo", 60)],
            whole_since: 0,
        });
        assert_eq!(list.sessions.len(), 2, "{list:?}");
        assert!(list.ends("s2", &[], 99));
        // An earlier cut from the history ends nothing the list did not already.
        assert!(list.ends("x", &["finance"], 50) && !list.ends("x", &["finance"], 51));
        assert!(list.ends("x", &["bo"], 60));
        assert_eq!(list.whole_since, 10);
    }

    #[test]
    fn a_list_past_its_bound_ends_everything_begun_until_then_and_forgets_no_cut_ahead() {
        let mut list = Revocations::default();
        for i in 0..MAX_LISTED {
            list.sessions.push(EndedSession {
                session: format!("s{i}"),
                until: 10_000,
                by: "ana".into(),
            });
        }
        list.bound(1_000);
        assert_eq!(list.sessions.len(), MAX_LISTED, "at the bound, kept");
        list.people.push(PersonCut {
            person: "bo".into(),
            after: 1_200,
            by: "admin".into(),
        });
        list.people.push(PersonCut {
            person: "cy".into(),
            after: 900,
            by: "admin".into(),
        });
        list.bound(1_000);
        assert!(list.sessions.is_empty());
        assert_eq!(list.whole_since, 1_001);
        assert!(
            list.ends("s7", &["ana"], 999),
            "a listed session stays ended"
        );
        assert!(
            list.ends("s-any", &["cy"], 1_000),
            "so does one begun until then"
        );
        assert!(list.ends("s-bo", &["bo"], 1_100), "a cut ahead is kept");
        assert!(
            !list.ends("s-new", &["dee"], 1_001),
            "a session begun after stands"
        );
    }
}
