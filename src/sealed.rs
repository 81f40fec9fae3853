//! Secrets kept at rest (calendar passwords and secret feed addresses): sealed with
//! ChaCha20-Poly1305 under a key derived from the link-signing key (SIGNING_SECRET, or the
//! one kept in the database), a random nonce per value, and the value's purpose bound in as
//! associated data so a sealed value cannot be moved to another column. A database dump
//! alone gives them away only when the signing key is kept in that database too: set
//! SIGNING_SECRET to keep them apart. Changing SIGNING_SECRET makes sealed values unreadable
//! (they must be entered again), which is reported, never a panic.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;

use crate::signing::Signer;

/// Seals and opens values for one use.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// A sealed value could not be opened: the key changed, or the bytes are not ours.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be opened (was SIGNING_SECRET changed?); enter it again")]
pub struct Unreadable;

impl Sealer {
    /// The sealer of `purpose` (e.g. `calendar`).
    pub fn new(signer: &Signer, purpose: &str) -> Self {
        let key = signer.derive_key(&format!("sealed:{purpose}"));
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &key)
            .unwrap_or_else(|_| unreachable!("a 32-byte key is a ChaCha20-Poly1305 key"));
        Self {
            key: LessSafeKey::new(unbound),
        }
    }

    /// `nonce ‖ ciphertext ‖ tag`, `field` bound in.
    pub fn seal(&self, field: &str, value: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        // The system's random source does not fail on the platforms this runs on; if it
        // ever did, a zero nonce reused would be worse than stopping.
        SystemRandom::new()
            .fill(&mut nonce)
            .unwrap_or_else(|_| panic!("the system random source failed"));
        let mut data = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(field.as_bytes()),
                &mut data,
            )
            .unwrap_or_else(|_| unreachable!("sealing fails only for over-long inputs"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        out
    }

    pub fn open(&self, field: &str, sealed: &[u8]) -> Result<SecretString, Unreadable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unreadable);
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unreadable)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(field.as_bytes()), &mut data)
            .map_err(|_| Unreadable)?;
        let text = std::str::from_utf8(plain).map_err(|_| Unreadable)?;
        Ok(SecretString::from(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn sealed_values_open_only_with_their_key_and_field() {
        let sealer = Sealer::new(&Signer::from_key(b"one key"), "calendar");
        let sealed = sealer.seal("password", "hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            sealer
                .open("password", &sealed)
                .expect("opens")
                .expose_secret(),
            "hunter2"
        );
        assert!(sealer.open("url", &sealed).is_err(), "bound to its field");
        let other = Sealer::new(&Signer::from_key(b"another key"), "calendar");
        assert!(other.open("password", &sealed).is_err(), "bound to its key");
        assert!(sealer.open("password", &sealed[..5]).is_err());
        assert_ne!(
            sealed,
            sealer.seal("password", "hunter2"),
            "a fresh nonce each time"
        );
    }
}
