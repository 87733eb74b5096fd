//! The `local` mode's accounts file: name, Argon2id hash (`password-auth`), roles. Read on
//! every sign-in and every request of a session, so a removed account or a changed password
//! takes effect at the next click, on every replica that reads the same file.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::domain::access::{Role, validate_person};

/// Shortest password `user` accepts; generated ones are longer.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Length of a generated password (letters and digits: about 119 bits).
pub const GENERATED_PASSWORD_LEN: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AccountsFile {
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot read the accounts file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the accounts file {path} is invalid: {source}")]
    Invalid {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("cannot write the accounts file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(#[from] crate::domain::input::InputError),
    #[error("there is no account named {0:?}")]
    NoSuchAccount(String),
    #[error("an account named {0:?} exists already (names that differ only by case are one name)")]
    Exists(String),
    #[error("a password needs at least {MIN_PASSWORD_LEN} characters")]
    ShortPassword,
    #[error("an account needs at least one role")]
    NoRole,
    #[error("the last admin cannot be removed or lose the admin role")]
    LastAdmin,
    #[error("the password check failed: {0}")]
    Hash(String),
}

impl AccountsFile {
    /// Reads the file; a missing file is no accounts.
    pub fn load(path: &Path) -> Result<AccountsFile, AccountsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(AccountsError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|source| AccountsError::Invalid {
            path: path.into(),
            source,
        })
    }

    /// Writes the file whole: a new file, readable by its owner only from its creation,
    /// written and synced, then renamed over the old (a reader sees the old or the new).
    pub fn save(&self, path: &Path) -> Result<(), AccountsError> {
        let write = |source| AccountsError::Write {
            path: path.into(),
            source,
        };
        let text = toml::to_string_pretty(self)
            .map_err(|e| write(std::io::Error::other(e.to_string())))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let temp = path.with_extension("toml.new");
        write_private(&temp, text.as_bytes()).map_err(write)?;
        std::fs::rename(&temp, path).map_err(write)
    }

    /// Reads, changes and writes the file under an exclusive lock (a `.lock` file beside
    /// it), so two `user` commands at once both land: the second reads what the first
    /// wrote.
    pub fn update<T>(
        path: &Path,
        change: impl FnOnce(&mut AccountsFile) -> Result<T, AccountsError>,
    ) -> Result<T, AccountsError> {
        let write = |source| AccountsError::Write {
            path: path.into(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.with_extension("toml.lock"))
            .map_err(write)?;
        lock.lock().map_err(write)?;
        let mut file = AccountsFile::load(path)?;
        let done = change(&mut file)?;
        file.save(path)?;
        drop(lock);
        Ok(done)
    }

    pub fn find(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn add(
        &mut self,
        name: &str,
        password: &str,
        roles: Vec<Role>,
    ) -> Result<(), AccountsError> {
        validate_person(name)?;
        // `Ana` beside `ana` would read as one person in every record.
        if let Some(same) = self
            .accounts
            .iter()
            .find(|a| a.name.to_lowercase() == name.to_lowercase())
        {
            return Err(AccountsError::Exists(same.name.clone()));
        }
        if roles.is_empty() {
            return Err(AccountsError::NoRole);
        }
        self.accounts.push(Account {
            name: name.into(),
            password_hash: hash(password)?,
            roles,
        });
        Ok(())
    }

    pub fn set_password(&mut self, name: &str, password: &str) -> Result<(), AccountsError> {
        let hashed = hash(password)?;
        self.account_mut(name)?.password_hash = hashed;
        Ok(())
    }

    pub fn set_roles(&mut self, name: &str, roles: Vec<Role>) -> Result<(), AccountsError> {
        if roles.is_empty() {
            return Err(AccountsError::NoRole);
        }
        if !roles.contains(&Role::Admin) && self.only_admin_is(name) {
            return Err(AccountsError::LastAdmin);
        }
        self.account_mut(name)?.roles = roles;
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<(), AccountsError> {
        self.account_mut(name)?;
        if self.only_admin_is(name) {
            return Err(AccountsError::LastAdmin);
        }
        self.accounts.retain(|a| a.name != name);
        Ok(())
    }

    fn only_admin_is(&self, name: &str) -> bool {
        let admins: Vec<_> = self
            .accounts
            .iter()
            .filter(|a| a.roles.contains(&Role::Admin))
            .collect();
        admins.len() == 1 && admins[0].name == name
    }

    fn account_mut(&mut self, name: &str) -> Result<&mut Account, AccountsError> {
        self.accounts
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| AccountsError::NoSuchAccount(name.into()))
    }
}

/// Argon2id with `password-auth`'s parameters, after the length rule.
fn hash(password: &str) -> Result<String, AccountsError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountsError::ShortPassword);
    }
    Ok(password_auth::generate_hash(password))
}

/// Whether `password` is the account's (constant-time in `password-auth`); slow on purpose.
pub fn verify(account: &Account, password: &str) -> bool {
    password_auth::verify_password(password, &account.password_hash).is_ok()
}

/// A fresh password of letters and digits, from the OS's generator.
pub fn generate_password() -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(GENERATED_PASSWORD_LEN)
        .map(char::from)
        .collect()
}

/// On `local` mode's first start (no accounts file), creates `admin` with a generated
/// password and returns it, to be printed once. `None` when accounts exist already.
pub fn first_admin(path: &Path) -> Result<Option<String>, AccountsError> {
    if path.exists() {
        return Ok(None);
    }
    AccountsFile::update(path, |file| {
        if !file.accounts.is_empty() {
            return Ok(None);
        }
        let password = generate_password();
        file.add("admin", &password, vec![Role::Admin])?;
        Ok(Some(password))
    })
}

/// Creates `path` (or replaces it) with `bytes`, readable and writable by its owner only
/// from the moment it exists: never world-readable between the write and a chmod.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_keep_hashes_not_passwords_and_one_admin_stays() {
        let dir = std::env::temp_dir().join(format!("tp-accounts-{}", rand::random::<u32>()));
        let path = dir.join("accounts.toml");
        let password = first_admin(&path).unwrap().expect("a first admin");
        assert!(
            first_admin(&path).unwrap().is_none(),
            "only on the first start"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(&password) && text.contains("$argon2id$"),
            "{text}"
        );
        let mut file = AccountsFile::load(&path).unwrap();
        assert!(verify(file.find("admin").unwrap(), &password));
        assert!(!verify(file.find("admin").unwrap(), "not the password"));
        assert!(matches!(
            file.remove("admin"),
            Err(AccountsError::LastAdmin)
        ));
        assert!(matches!(
            file.add("ana", "short", vec![Role::Support]),
            Err(AccountsError::ShortPassword)
        ));
        assert!(
            file.add("system", "long enough pass", vec![Role::Support])
                .is_err()
        );
        file.add("ana", "long enough pass", vec![Role::Support])
            .unwrap();
        assert!(matches!(
            file.add("ana", "long enough pass", vec![Role::Support]),
            Err(AccountsError::Exists(_))
        ));
        // Names that would read as ana's in the records are refused, saying whose.
        assert!(matches!(
            file.add("ANA", "long enough pass", vec![Role::Support]),
            Err(AccountsError::Exists(same)) if same == "ana"
        ));
        for look_alike in ["ana ", " ana", "a  na", "ana\u{200b}"] {
            let err = file
                .add(look_alike, "long enough pass", vec![Role::Support])
                .unwrap_err();
            assert!(
                err.to_string().contains("look alike"),
                "{look_alike:?}: {err}"
            );
        }
        file.save(&path).unwrap();
        assert_eq!(AccountsFile::load(&path).unwrap().accounts.len(), 2);
        std::fs::remove_dir_all(dir).ok();
    }
}
