//! Signed values for links in emails (unsubscribe): HMAC-SHA256 with SIGNING_SECRET, so a
//! link works on every replica and cannot be forged for another address.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::config::Config;

/// Used when SIGNING_SECRET is not set (development); `serve` warns about it.
const DEVELOPMENT_SECRET: &str = "frontdesk development signing secret: set SIGNING_SECRET";

fn mac(config: &Config, purpose: &str, value: &str) -> Hmac<Sha256> {
    let secret = config.signing_secret.expose_secret();
    let key = if secret.is_empty() {
        DEVELOPMENT_SECRET
    } else {
        secret
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    mac
}

pub fn sign(config: &Config, purpose: &str, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(config, purpose, value).finalize().into_bytes())
}

/// Constant-time check of a signature made by [`sign`].
pub fn verify(config: &Config, purpose: &str, value: &str, signature: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|bytes| mac(config, purpose, value).verify_slice(&bytes).is_ok())
}

pub fn uses_development_secret(config: &Config) -> bool {
    config.signing_secret.expose_secret().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_value_and_purpose() {
        let config = Config::with_database_url("postgres://x");
        let sig = sign(&config, "unsubscribe", "ada@example.com");
        assert!(verify(&config, "unsubscribe", "ada@example.com", &sig));
        assert!(!verify(&config, "unsubscribe", "eve@example.com", &sig));
        assert!(!verify(&config, "confirm", "ada@example.com", &sig));
        assert!(!verify(
            &config,
            "unsubscribe",
            "ada@example.com",
            "garbage!"
        ));
    }
}
