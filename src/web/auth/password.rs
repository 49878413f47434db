//! argon2id password hashing and verification, always on the blocking pool (each takes
//! tens of milliseconds of CPU; on the async runtime it would stall every other request).

use std::sync::OnceLock;

use anyhow::Context;
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use secrecy::{ExposeSecret, SecretString};

/// Minimum length for a new password; long passphrases beat composition rules.
pub const MIN_LEN: usize = 10;

pub fn check_new(password: &SecretString) -> Result<(), String> {
    let n = password.expose_secret().chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "choose a password of at least {MIN_LEN} characters"
        ));
    }
    if n > 1024 {
        return Err("a password has at most 1024 characters".into());
    }
    Ok(())
}

/// Hashes a password into an argon2id PHC string (random salt, default parameters).
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    let hash: argon2::password_hash::phc::PasswordHash = Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        .context("hashing the password")?;
    Ok(hash.to_string())
}

/// Verifies a password. With no stored hash (unknown user) it still does the full argon2 work
/// against a dummy hash, so response time does not reveal which user names exist.
pub async fn verify(password: SecretString, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (dummy_hash()?.to_owned(), false),
        };
        let ok = Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), hash.as_str())
            .is_ok();
        Ok(ok && real)
    })
    .await?
}

fn dummy_hash() -> anyhow::Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let h = hash_blocking(&SecretString::from("natpilot dummy password for timing"))?;
    Ok(DUMMY.get_or_init(|| h))
}
