//! `axum-login`'s backend: who a session belongs to, and how a person proves it.

use std::path::PathBuf;

use super::accounts::{AccountsError, AccountsFile, verify};
use crate::domain::access::{Role, SignedIn, validate_person};

/// How people sign in.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Name and password against the accounts file.
    Local { accounts: PathBuf },
    /// The company's identity provider (OpenID Connect).
    Oidc(super::oidc::OidcConfig),
    /// A typed name, nothing checked: loopback only, every page says so.
    None,
}

/// What a `none`-mode name may do: every job but the accounts (there are none).
pub const UNVERIFIED_ROLES: [Role; 4] = [
    Role::Support,
    Role::Finance,
    Role::Presenter,
    Role::Approver,
];

#[derive(Debug, Clone)]
pub struct Backend {
    pub mode: AuthMode,
}

/// The person a session belongs to, as found on this request.
#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub roles: Vec<Role>,
    pub unverified: bool,
    /// Changes when the password does: older sessions end.
    auth_hash: Vec<u8>,
    /// The person's stable id: empty for accounts and typed names (the name is the
    /// person), `oidc:<issuer>#<subject>` for the identity provider's people.
    pub person_id: String,
    /// What the session stores: the name, or for `oidc` the person's id, name and the
    /// roles the provider gave (there is no account to read them from again).
    id: String,
}

/// Separates the name from the roles in an `oidc` session's id.
const OIDC_ID_SEPARATOR: char = '\u{1f}';

impl Operator {
    pub fn signed_in(&self) -> SignedIn {
        SignedIn {
            name: self.name.clone(),
            roles: self.roles.clone(),
            unverified: self.unverified,
            id: self.person_id.clone(),
        }
    }

    fn typed(name: &str) -> Operator {
        Operator {
            name: name.into(),
            roles: UNVERIFIED_ROLES.to_vec(),
            unverified: true,
            auth_hash: format!("none:{name}").into_bytes(),
            person_id: String::new(),
            id: name.into(),
        }
    }

    fn account(a: &super::accounts::Account) -> Operator {
        Operator {
            name: a.name.clone(),
            roles: a.roles.clone(),
            unverified: false,
            auth_hash: a.password_hash.clone().into_bytes(),
            person_id: String::new(),
            id: a.name.clone(),
        }
    }

    fn verified(person_id: &str, name: &str, roles: Vec<Role>) -> Operator {
        let names: Vec<_> = roles.iter().map(|r| r.name()).collect();
        let id = [person_id, name, &names.join(",")].join(&OIDC_ID_SEPARATOR.to_string());
        Operator {
            name: name.into(),
            roles,
            unverified: false,
            // The session ends if the person's roles or name change at the provider.
            auth_hash: format!("oidc:{id}").into_bytes(),
            person_id: person_id.into(),
            id,
        }
    }

    /// An `oidc` session's person, from its id.
    fn from_oidc_id(id: &str) -> Option<Operator> {
        let mut parts = id.split(OIDC_ID_SEPARATOR);
        let (person_id, name, roles) = (parts.next()?, parts.next()?, parts.next()?);
        let roles = roles
            .split(',')
            .map(Role::exact)
            .collect::<Option<Vec<_>>>()?;
        validate_person(name).ok()?;
        person_id.starts_with("oidc:").then_some(())?;
        Some(Operator::verified(person_id, name, roles))
    }
}

impl axum_login::AuthUser for Operator {
    type Id = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }
}

pub enum Credentials {
    Password {
        name: String,
        password: String,
    },
    Typed {
        name: String,
    },
    /// Checked by the identity provider already (`oidc`).
    Verified {
        /// `oidc:<issuer>#<subject>`.
        person_id: String,
        name: String,
        roles: Vec<Role>,
    },
}

impl Backend {
    fn load(&self) -> Result<AccountsFile, AccountsError> {
        match &self.mode {
            AuthMode::Local { accounts } => AccountsFile::load(accounts),
            AuthMode::None | AuthMode::Oidc(_) => Ok(AccountsFile::default()),
        }
    }
}

impl axum_login::AuthnBackend for Backend {
    type User = Operator;
    type Credentials = Credentials;
    type Error = AccountsError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<Operator>, AccountsError> {
        match (&self.mode, creds) {
            (AuthMode::Local { .. }, Credentials::Password { name, password }) => {
                let Some(account) = self.load()?.find(name.trim()).cloned() else {
                    // As slow as a wrong password, so a name's existence does not show.
                    let _ = tokio::task::spawn_blocking(move || {
                        password_auth::verify_password(&password, &DUMMY_HASH)
                    })
                    .await;
                    return Ok(None);
                };
                let checked = account.clone();
                let ok = tokio::task::spawn_blocking(move || verify(&checked, &password))
                    .await
                    .unwrap_or(false);
                Ok(ok.then(|| Operator::account(&account)))
            }
            (
                AuthMode::Oidc(_),
                Credentials::Verified {
                    person_id,
                    name,
                    roles,
                },
            ) => {
                validate_person(&name)?;
                Ok(Some(Operator::verified(&person_id, &name, roles)))
            }
            (AuthMode::None, Credentials::Typed { name }) => {
                let name = name.trim();
                validate_person(name)?;
                Ok(Some(Operator::typed(name)))
            }
            _ => Ok(None),
        }
    }

    async fn get_user(&self, name: &String) -> Result<Option<Operator>, AccountsError> {
        match &self.mode {
            AuthMode::Local { .. } => Ok(self.load()?.find(name).map(Operator::account)),
            AuthMode::Oidc(_) => Ok(Operator::from_oidc_id(name)),
            AuthMode::None => Ok(validate_person(name).is_ok().then(|| Operator::typed(name))),
        }
    }
}

/// An Argon2id hash of a random password, checked when the name is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password_auth::generate_hash(super::accounts::generate_password()));
