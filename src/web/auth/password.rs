//! argon2id password hashing and verification, always on the blocking pool (each takes
//! tens of milliseconds of CPU; on the async runtime it would stall every other request),
//! and the rule for new passwords: long enough, and not guessable (zxcvbn score 3 or more,
//! which refuses common and breached-list passwords, names, dates and keyboard walks).

use std::sync::OnceLock;

use anyhow::Context;
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use secrecy::{ExposeSecret, SecretString};

/// Minimum length for a new password; long passphrases beat composition rules.
pub const MIN_LEN: usize = 10;

/// The lowest zxcvbn score accepted: 3 means more than 10^8 guesses (ASVS 5.0 V6.2.4 asks
/// that common and breached passwords be refused; zxcvbn's dictionaries include the
/// most common leaked passwords).
pub const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks a new password. `context` are words the password should not be built from (the
/// user name, "natpilot"); the error says why the password was refused and how to fix it.
pub fn check_new(password: &SecretString, context: &[&str]) -> Result<(), String> {
    let pw = password.expose_secret();
    let n = pw.chars().count();
    if n < MIN_LEN {
        return Err(format!(
            "choose a password of at least {MIN_LEN} characters"
        ));
    }
    if n > 1024 {
        return Err("a password has at most 1024 characters".into());
    }
    // zxcvbn's cost grows with the length; 256 characters of passphrase are strong anyway.
    let scored: String = pw.chars().take(256).collect();
    let mut words = vec!["natpilot"];
    words.extend_from_slice(context);
    let entropy = zxcvbn::zxcvbn(&scored, &words);
    if entropy.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut why = match entropy.feedback().and_then(|f| f.warning()) {
        Some(w) => format!("this password is too easy to guess ({w})"),
        None => "this password is too easy to guess".to_owned(),
    };
    why.push_str(
        "; it is among common or leaked passwords, or built from your name, dates or keyboard patterns.",
    );
    match entropy
        .feedback()
        .map(|f| f.suggestions())
        .unwrap_or_default()
    {
        [] => why.push_str(" Use a few unrelated words or a longer passphrase"),
        hints => {
            for h in hints {
                why.push(' ');
                why.push_str(&h.to_string());
            }
            why.truncate(why.trim_end_matches('.').len());
        }
    }
    Err(why)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str, context: &[&str]) -> Result<(), String> {
        check_new(&SecretString::from(pw.to_owned()), context)
    }

    #[test]
    fn common_and_leaked_passwords_are_refused_with_why_and_how() {
        for weak in [
            "password123",
            "qwertyuiop",
            "1234567890",
            "iloveyou12",
            "natpilot2026",
        ] {
            let e = check(weak, &[]).unwrap_err();
            assert!(e.contains("too easy to guess"), "{weak}: {e}");
            assert!(e.contains("common or leaked"), "{weak}: {e}");
        }
    }

    #[test]
    fn a_password_built_from_the_user_name_is_refused() {
        assert!(check("olgaolga2024", &["olgaolga"]).is_err());
    }

    #[test]
    fn a_passphrase_of_unrelated_words_is_accepted() {
        check("correct horse battery", &["olga"]).unwrap();
        check("tulip-gravel-orbit-47", &[]).unwrap();
    }

    #[test]
    fn the_length_rule_comes_first() {
        assert!(check("Xq9!", &[]).unwrap_err().contains("at least 10"));
        assert!(
            check(&"x".repeat(1025), &[])
                .unwrap_err()
                .contains("at most 1024")
        );
    }
}
