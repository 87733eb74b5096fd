//! Who may do what: the roles a person holds and the actions each allows. Shared with the
//! browser (which hides what a person cannot do); the server checks every request against
//! the same table, and only the server's answer counts.

use serde::{Deserialize, Serialize};

use super::{
    input::{InputError, validate_operator},
    order::SYSTEM_OPERATOR,
};

/// A person's job in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works the manual queue: claim, release, resolve, retry now.
    Support,
    /// Recurring contracts (create, pause, resume, cancel) and the audit trail.
    Finance,
    /// Reads everything; runs the live page's simulation while the upstream is simulated.
    Presenter,
    /// Approves or rejects a colleague's proposed resolution (four eyes).
    Approver,
    /// Everything, and the accounts.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Support,
        Role::Finance,
        Role::Presenter,
        Role::Approver,
        Role::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Presenter => "presenter",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// A role by its exact name (an identity provider's group names it so: `Support` is
    /// not `support`).
    pub fn exact(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }

    pub fn parse(text: &str) -> Result<Role, InputError> {
        Role::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                InputError::not_one_of(
                    "a role",
                    text,
                    "support, finance, presenter, approver or admin",
                )
            })
    }
}

/// Everything the console lets a person do, each checked on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Read the queue, lanes, stale orders, contracts and the live page.
    Read,
    Claim,
    Release,
    /// Resolve an order (or propose a resolution that needs a second person).
    Resolve,
    /// Cut a stale order's wait short (one order, or every matching one).
    RetryNow,
    /// Approve or reject a colleague's proposed resolution.
    Approve,
    /// Take over a colleague's claim, with a reason.
    TakeOver,
    /// Create, pause, resume or cancel a recurring contract.
    ManageContracts,
    /// Read and export the audit trail.
    Audit,
    /// Start simulated payments and change the simulated bank's mix.
    Simulate,
    /// Add, change and remove accounts.
    ManageAccounts,
    /// Import a bank statement (a second person's approval applies it: [`Action::Approve`]).
    ImportStatement,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Read,
        Action::Claim,
        Action::Release,
        Action::Resolve,
        Action::RetryNow,
        Action::Approve,
        Action::TakeOver,
        Action::ManageContracts,
        Action::Audit,
        Action::Simulate,
        Action::ManageAccounts,
        Action::ImportStatement,
    ];

    /// The roles that allow this action (admin allows everything).
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::Read => &[Support, Finance, Presenter, Approver, Admin],
            Action::Claim | Action::Release | Action::Resolve | Action::RetryNow => {
                &[Support, Admin]
            }
            Action::Approve => &[Approver, Admin],
            // A claim left sitting is a lead's to move: the admins'.
            Action::TakeOver => &[Admin],
            Action::ManageContracts => &[Finance, Admin],
            Action::Audit => &[Finance, Admin],
            Action::Simulate => &[Presenter, Admin],
            Action::ManageAccounts => &[Admin],
            Action::ImportStatement => &[Support, Finance, Admin],
        }
    }

    /// What the action is, as a refusal names it.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Read => "read the console",
            Action::Claim => "claim orders",
            Action::Release => "release orders",
            Action::Resolve => "resolve orders",
            Action::RetryNow => "retry stale orders",
            Action::Approve => "approve resolutions",
            Action::TakeOver => "take over a colleague's claim",
            Action::ManageContracts => "change recurring contracts",
            Action::Audit => "read the audit trail",
            Action::Simulate => "run the simulation",
            Action::ManageAccounts => "manage accounts",
            Action::ImportStatement => "import statements",
        }
    }
}

/// Whether any of `roles` allows `action`.
pub fn allows(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| action.roles().contains(r))
}

/// The person signed in, as the browser is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub name: String,
    pub roles: Vec<Role>,
    /// Nobody is really signed in: the name was typed (`auth.mode = "none"`).
    pub unverified: bool,
    /// The person's stable id when their sign-in has one (`oidc:<issuer>#<subject>`):
    /// what four eyes and claims compare, since a provider's names can change.
    #[serde(default)]
    pub id: String,
}

impl SignedIn {
    pub fn may(&self, action: Action) -> bool {
        allows(&self.roles, action)
    }

    /// The person as the workflows record them.
    pub fn actor(&self) -> crate::domain::resolution::Actor {
        crate::domain::resolution::Actor {
            name: self.name.clone(),
            id: self.id.clone(),
        }
    }
}

/// A name a person may sign in as or be recorded under: an operator name that is not the
/// upstream's own (`system` marks the bank's verdicts).
pub fn validate_person(name: &str) -> Result<(), InputError> {
    validate_operator(name)?;
    if name.trim().eq_ignore_ascii_case(SYSTEM_OPERATOR) {
        return Err(InputError::ReservedName(name.trim().to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_does_its_job_and_admin_does_all() {
        assert!(allows(&[Role::Support], Action::Resolve));
        assert!(!allows(&[Role::Support], Action::ManageContracts));
        assert!(!allows(&[Role::Finance], Action::Claim));
        assert!(allows(&[Role::Finance], Action::Audit));
        assert!(!allows(&[Role::Presenter], Action::Resolve));
        assert!(allows(&[Role::Presenter], Action::Simulate));
        assert!(!allows(&[Role::Approver], Action::Resolve));
        assert!(allows(&[Role::Approver], Action::Approve));
        assert!(!allows(&[], Action::Read));
        assert!(Action::ALL.iter().all(|a| allows(&[Role::Admin], *a)));
        assert!(!allows(
            &[Role::Support, Role::Finance],
            Action::ManageAccounts
        ));
    }

    #[test]
    fn system_cannot_be_a_person() {
        assert!(validate_person("System").is_err());
        assert!(validate_person(" system ").is_err());
        assert!(validate_person("ana").is_ok());
        assert_eq!(Role::parse("Approver").ok(), Some(Role::Approver));
        assert!(Role::parse("root").is_err());
    }
}
