//! `natpilot user add | list | set-role | reset-password | disable | enable`: manage portal
//! users from the shell (e.g. when the last admin forgot their password). Passwords are read
//! without echo, or from stdin with `--password-stdin` (for scripts).

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::store::{Store, users::Role};

use super::accounts::{self, Actor};

#[derive(Debug, Clone, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserAction {
    /// Add a user.
    Add {
        name: String,
        /// viewer, operator or admin.
        #[arg(long, default_value = "viewer")]
        role: Role,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with their roles.
    List,
    /// Change a user's role.
    SetRole { name: String, role: Role },
    /// Set a new password (ends the user's sessions).
    ResetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user (ends their sessions at once).
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
}

/// Where a password comes from: a no-echo prompt (asked twice) or a line of stdin.
pub enum PasswordSource<'a> {
    Prompt,
    Reader(&'a mut dyn BufRead),
}

fn read_password(source: &mut PasswordSource<'_>) -> anyhow::Result<SecretString> {
    match source {
        PasswordSource::Reader(r) => {
            let mut line = String::new();
            r.read_line(&mut line)
                .context("reading the password from stdin")?;
            Ok(SecretString::from(
                line.trim_end_matches(['\r', '\n']).to_owned(),
            ))
        }
        PasswordSource::Prompt => {
            let first = rpassword::prompt_password("Password: ")?;
            let again = rpassword::prompt_password("Password again: ")?;
            anyhow::ensure!(
                first == again,
                "the two passwords differ; nothing was changed"
            );
            Ok(SecretString::from(first))
        }
    }
}

/// Runs one user command against the store, writing results to `out`.
pub async fn run(
    store: &Store,
    action: UserAction,
    mut source: PasswordSource<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let os_user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor_name = format!("shell:{os_user}");
    let actor = Actor {
        name: &actor_name,
        ip: "",
    };
    match action {
        UserAction::Add {
            name,
            role,
            password_stdin,
        } => {
            let pw = pick(&mut source, password_stdin)?;
            accounts::add(store, &actor, &name, role, pw).await?;
            writeln!(out, "added {name} ({role})")?;
        }
        UserAction::List => {
            for u in accounts::list(store).await? {
                let state = if u.disabled { "disabled" } else { "active" };
                writeln!(out, "{}\t{}\t{state}", u.name, u.role)?;
            }
        }
        UserAction::SetRole { name, role } => {
            accounts::set_role(store, &actor, &name, role).await?;
            writeln!(out, "{name} is now {role}")?;
        }
        UserAction::ResetPassword {
            name,
            password_stdin,
        } => {
            let pw = pick(&mut source, password_stdin)?;
            accounts::reset_password(store, &actor, &name, pw).await?;
            writeln!(
                out,
                "new password set for {name}; their sessions were ended"
            )?;
        }
        UserAction::Disable { name } => {
            accounts::set_disabled(store, &actor, &name, true).await?;
            writeln!(out, "{name} is disabled; their sessions were ended")?;
        }
        UserAction::Enable { name } => {
            accounts::set_disabled(store, &actor, &name, false).await?;
            writeln!(out, "{name} is enabled")?;
        }
    }
    Ok(())
}

fn pick(source: &mut PasswordSource<'_>, from_stdin: bool) -> anyhow::Result<SecretString> {
    let pw = if from_stdin {
        read_password(source)?
    } else {
        read_password(&mut PasswordSource::Prompt)?
    };
    anyhow::ensure!(
        !pw.expose_secret().is_empty(),
        "the password is empty; nothing was changed"
    );
    Ok(pw)
}
