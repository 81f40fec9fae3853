//! Random secrets handed out as bearer strings (login tokens, API tokens, manage links,
//! confirmation links) and how they are stored: only as a SHA-256, which is enough for 256
//! random bits. Also the hash that names a person by their address without storing it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random token: the prefix and 256 bits, URL-safe.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for a token. A fast hash is right here: the token has 256 random bits.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Failed logins are counted per email without storing the typed email itself.
pub fn email_hash(email: &str) -> Vec<u8> {
    Sha256::digest(email.trim().to_lowercase().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = new_token("fds_");
        let b = new_token("fds_");
        assert_ne!(a, b);
        assert!(a.starts_with("fds_"));
        assert_eq!(a.len(), 4 + 43);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
