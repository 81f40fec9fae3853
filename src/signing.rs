//! Signed values for links in emails (unsubscribe): HMAC-SHA256, so a link works on every
//! replica and cannot be forged for another address. Also the signature of webhook bodies
//! (`X-Frontdesk-Signature`), made for those frontdesk sends and checked on those it receives.
//!
//! The key is SIGNING_SECRET when it is set. Otherwise it is a random secret made on the
//! first start and kept in the database (table `app_secrets`), so every replica shares it,
//! it survives restarts, and `cargo run` needs no configuration. There is no built-in
//! fallback key: a key anyone could read in the source would let anyone forge links.

use std::sync::Arc;

use crate::db::Db;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Signs and verifies values with the service's link-signing key.
#[derive(Clone)]
pub struct Signer {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

const STORED_KEY: &str = "link_signing";

impl Signer {
    pub fn from_key(key: &[u8]) -> Self {
        Self { key: key.into() }
    }

    /// SIGNING_SECRET, or else the key kept in the database (made on first use; the insert
    /// is idempotent, so replicas starting together agree on one key).
    pub async fn load(db: &Db, configured: Option<&SecretString>) -> anyhow::Result<Self> {
        if let Some(secret) = configured {
            return Ok(Self::from_key(secret.expose_secret().as_bytes()));
        }
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let key: Vec<u8> = sqlx::query_scalar!(
            r#"
            with made as (
                insert into app_secrets (name, value) values ($1, $2)
                on conflict (name) do nothing
                returning value
            )
            select value as "value!" from made
            union all
            select value from app_secrets where name = $1
            limit 1
            "#,
            STORED_KEY,
            &fresh[..]
        )
        .fetch_one(db)
        .await?;
        Ok(Self::from_key(&key))
    }

    fn mac(&self, purpose: &str, value: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        mac
    }

    pub fn sign(&self, purpose: &str, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, value).finalize().into_bytes())
    }

    /// A 32-byte key for `purpose`, derived from the signing key (HMAC as the PRF), so a
    /// second secret needs no second configuration variable.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        self.mac("derived-key", purpose)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Constant-time check of a signature made by [`Signer::sign`].
    pub fn verify(&self, purpose: &str, value: &str, signature: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(signature)
            .is_ok_and(|bytes| self.mac(purpose, value).verify_slice(&bytes).is_ok())
    }
}

/// The header webhook bodies are signed in, both ways.
pub const BODY_SIGNATURE_HEADER: &str = "x-frontdesk-signature";

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign_body(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(body_mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn body_mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `header` (as [`sign_body`] makes it; any of several `v1=` values may match) signs
/// `body` with `secret`, at a time within `tolerance_secs` of `now` (so a captured request
/// cannot be replayed later). Constant-time in the signature.
pub fn verify_body(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if now.abs_diff(timestamp) > tolerance_secs.unsigned_abs() {
        return false;
    }
    signatures.iter().any(|signature| {
        body_mac(secret, timestamp, body)
            .verify_slice(signature)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_signatures_cover_the_secret_the_time_and_the_body() {
        let header = sign_body("whsec_a", 1_700_000_000, b"{}");
        assert!(verify_body("whsec_a", &header, b"{}", 1_700_000_100, 300));
        assert!(!verify_body("whsec_b", &header, b"{}", 1_700_000_100, 300));
        assert!(!verify_body("whsec_a", &header, b"{ }", 1_700_000_100, 300));
        // Replayed too late, or a timestamp changed without the signature.
        assert!(!verify_body("whsec_a", &header, b"{}", 1_700_000_400, 300));
        let moved = header.replace("t=1700000000", "t=1700000100");
        assert!(!verify_body("whsec_a", &moved, b"{}", 1_700_000_100, 300));
        assert!(!verify_body("whsec_a", "v1=00", b"{}", 1_700_000_000, 300));
        assert!(!verify_body(
            "whsec_a",
            "garbage",
            b"{}",
            1_700_000_000,
            300
        ));
        let rotated = format!("{header},v1=0011");
        assert!(verify_body("whsec_a", &rotated, b"{}", 1_700_000_000, 300));
    }

    #[test]
    fn signatures_verify_only_for_their_value_purpose_and_key() {
        let signer = Signer::from_key(b"a key of some length");
        let sig = signer.sign("unsubscribe", "ada@example.com");
        assert!(signer.verify("unsubscribe", "ada@example.com", &sig));
        assert!(!signer.verify("unsubscribe", "eve@example.com", &sig));
        assert!(!signer.verify("confirm", "ada@example.com", &sig));
        assert!(!signer.verify("unsubscribe", "ada@example.com", "garbage!"));
        let other = Signer::from_key(b"another key");
        assert!(!other.verify("unsubscribe", "ada@example.com", &sig));
    }
}
