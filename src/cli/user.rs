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

/// Runs one `user` command against `path`; changes write the file whole.
pub fn run(path: &Path, command: UserCommand) -> Result<(), CliError> {
    let mut file = AccountsFile::load(path).map_err(usage)?;
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
            file.add(&name, &password, roles(&names)?).map_err(usage)?;
            file.save(path).map_err(usage)?;
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
            if !names.is_empty() {
                file.set_roles(&name, roles(&names)?).map_err(usage)?;
            }
            let generated = new_password.then(generate_password);
            let password = match (&generated, password_stdin) {
                (Some(p), _) => Some(p.clone()),
                (None, true) => Some(read_password()?),
                (None, false) => None,
            };
            if let Some(password) = password {
                file.set_password(&name, &password).map_err(usage)?;
            }
            file.save(path).map_err(usage)?;
            println!("changed {name}");
            if let Some(password) = generated {
                println!("password: {password}  (shown once)");
            }
        }
        UserCommand::Remove { name } => {
            file.remove(&name).map_err(usage)?;
            file.save(path).map_err(usage)?;
            println!("removed {name}");
        }
        UserCommand::List => {
            for account in &file.accounts {
                let roles: Vec<_> = account.roles.iter().map(|r| r.name()).collect();
                println!("{}\t{}", account.name, roles.join(","));
            }
        }
    }
    Ok(())
}
