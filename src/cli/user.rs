//! `user add | change | remove | list`: the `local` sign-in mode's accounts file.

use clap::Subcommand;
use std::{io::BufRead, path::Path};

use super::CliError;
use crate::{
    domain::access::Role,
    web::auth::accounts::{AccountsFile, generate_password},
};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; its password is generated and printed unless --password-stdin
    Add {
        name: String,
        /// Roles, comma separated: support, finance, presenter, approver, admin
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account's roles or password (their sessions end with a new password)
    Change {
        name: String,
        /// New roles, comma separated
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Generate a new password and print it
        #[arg(long, conflicts_with = "password_stdin")]
        new_password: bool,
        /// Read the new password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an account (its sessions end at their next request)
    Remove { name: String },
    /// End every session of a person now, on every console replica (within a few seconds;
    /// needs Temporal, where the ended sessions are kept). For single sign-on people, give
    /// their name or their id (oidc:<issuer>#<subject>)
    Revoke {
        name: String,
        /// Who revokes them (recorded)
        #[arg(long, default_value = "cli")]
        operator: String,
    },
    /// List accounts and their roles
    List,
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

fn roles(names: &[String]) -> Result<Vec<Role>, CliError> {
    let mut roles = names
        .iter()
        .map(|r| Role::parse(r).map_err(usage))
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs one `user` command against `path`; each change reads, changes and writes the file
/// under its lock. `revoke` is the one that needs Temporal: it is run by [`revoke`].
pub fn run(path: &Path, command: UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::Add {
            name,
            roles: names,
            password_stdin,
        } => {
            let (password, show) = match password_stdin {
                true => (read_password()?, false),
                false => (generate_password(), true),
            };
            let roles = roles(&names)?;
            AccountsFile::update(path, |file| file.add(&name, &password, roles)).map_err(usage)?;
            println!("added {name}");
            if show {
                println!("password: {password}  (shown once)");
            }
        }
        UserCommand::Change {
            name,
            roles: names,
            new_password,
            password_stdin,
        } => {
            if names.is_empty() && !new_password && !password_stdin {
                return Err(usage(
                    "say what changes: --roles, --new-password or --password-stdin",
                ));
            }
            let roles = match names.is_empty() {
                true => None,
                false => Some(roles(&names)?),
            };
            let generated = new_password.then(generate_password);
            let password = match (&generated, password_stdin) {
                (Some(p), _) => Some(p.clone()),
                (None, true) => Some(read_password()?),
                (None, false) => None,
            };
            AccountsFile::update(path, |file| {
                if let Some(roles) = roles {
                    file.set_roles(&name, roles)?;
                }
                if let Some(password) = &password {
                    file.set_password(&name, password)?;
                }
                Ok(())
            })
            .map_err(usage)?;
            println!("changed {name}");
            if let Some(password) = generated {
                println!("password: {password}  (shown once)");
            }
        }
        UserCommand::Remove { name } => {
            AccountsFile::update(path, |file| file.remove(&name)).map_err(usage)?;
            println!("removed {name}");
        }
        UserCommand::List => {
            let file = AccountsFile::load(path).map_err(usage)?;
            for account in &file.accounts {
                let roles: Vec<_> = account.roles.iter().map(|r| r.name()).collect();
                println!("{}\t{}", account.name, roles.join(","));
            }
        }
        UserCommand::Revoke { .. } => {
            return Err(usage(
                "user revoke needs Temporal: it is run with a connection",
            ));
        }
    }
    Ok(())
}

/// `user revoke NAME`: ends every session of the person, on every replica.
pub async fn revoke(
    client: &temporalio_client::Client,
    name: &str,
    operator: &str,
) -> Result<(), CliError> {
    crate::domain::input::validate_operator(operator).map_err(usage)?;
    let at = crate::operations::sessions::revoke_person(client, name.trim(), operator).await?;
    println!(
        "ended every session of {name} begun until {} (each console refuses them within {} s)",
        crate::domain::format::rfc3339(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.max(0) as u64)
        ),
        crate::web::auth::revocations::REFRESH.as_secs()
    );
    Ok(())
}
