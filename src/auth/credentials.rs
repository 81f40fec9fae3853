//! Secrets: argon2id password hashes and random bearer tokens stored only as SHA-256.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::validation::Validator;

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Prefix of login-session tokens.
pub const SESSION_PREFIX: &str = "fds_";
/// Prefix of API tokens (so secret scanners can recognise a leaked one).
pub const API_TOKEN_PREFIX: &str = "fdt_";

/// Hashes a password with argon2id and a random salt. Slow by design: call it off the
/// async workers (see [`hash_password_blocking`]).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Each argon2 run holds 19 MiB for its duration; at most one per core runs at a time, so a
/// flood of logins queues instead of multiplying memory.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// Verifies against the stored hash, or against a dummy hash when there is no such user,
/// so both cases take the same time.
pub async fn verify_password_blocking(password: String, hash: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        verify_password(&password, hash.as_deref().unwrap_or(DUMMY_HASH))
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash, with the default parameters, of a password nobody uses: what unknown
/// emails are checked against.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$KPK9jmsFbKiWPAz5ZxYQ+w$UUneQ9ZtbQuV5Yw5kYAyRVWpNA7h7lkDfn1XvQVQ3K0";

pub fn check_password(v: &mut Validator, field: &str, password: &str) {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        v.error(
            field,
            "too_short",
            format!("{field} must be at least {MIN_PASSWORD_LEN} characters"),
        );
    } else if len > MAX_PASSWORD_LEN {
        v.error(
            field,
            "too_long",
            format!("{field} must be at most {MAX_PASSWORD_LEN} characters"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        assert!(verify_password(
            "not a password anybody has: timing only",
            DUMMY_HASH
        ));
        let real = hash_password("x").expect("hash");
        let params = |h: &str| h.split('$').nth(3).map(str::to_owned);
        assert_eq!(params(&real), params(DUMMY_HASH), "same argon2 parameters");
    }
}
