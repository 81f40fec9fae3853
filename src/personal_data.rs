//! How a capability that stores personal data lets privacy export and erase it.
//!
//! Each such capability has a `personal_data` module with two functions over one
//! [`Subject`]: `export`, which returns what it holds as [`Found`] records by kind, and
//! `erase`, which deletes exactly those rows (the same conditions) and returns how many of
//! each kind went. Privacy calls them all in one transaction, so an export always shows
//! what an erasure would remove.

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The person whose data is exported or erased, and what identifies their rows.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The canonical (lowercase) address.
    pub email: String,
    /// A Postgres regular expression (for `~*`) that finds the address as a whole address
    /// in free text and JSON: "ana@example.com" is not found in "diana@example.com".
    pub pattern: String,
    /// SHA-256 of the address, for records that name the person only by it.
    pub email_hash: Vec<u8>,
    /// Their leads and bookings (rows elsewhere refer to them by id).
    pub lead_ids: Vec<Uuid>,
    pub booking_ids: Vec<Uuid>,
}

impl Subject {
    pub fn new(email: &str) -> Self {
        let email = email.trim().to_lowercase();
        Self {
            pattern: whole_address(&email),
            email_hash: Sha256::digest(email.as_bytes()).to_vec(),
            email,
            lead_ids: Vec::new(),
            booking_ids: Vec::new(),
        }
    }

    /// The lead and booking ids as text, for matching ids inside JSON payloads.
    pub fn related_ids(&self) -> Vec<String> {
        self.lead_ids
            .iter()
            .chain(&self.booking_ids)
            .map(Uuid::to_string)
            .collect()
    }
}

/// Records of one kind held about the subject.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub kind: &'static str,
    pub records: Vec<serde_json::Value>,
}

impl Found {
    pub fn of<T: Serialize>(kind: &'static str, rows: &[T]) -> anyhow::Result<Self> {
        Ok(Self {
            kind,
            records: rows
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// How many records of one kind an erasure removed.
pub type Removed = (&'static str, u64);

/// The regular expression of [`Subject::pattern`].
fn whole_address(email: &str) -> String {
    // In Postgres regular expressions a backslash before a non-alphanumeric character
    // makes it literal.
    let escaped: String = email
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect();
    // In JSON text a line break before the address is the two characters `\n`.
    format!(r"(^|[^[:alnum:]._%+-]|\\[nrt]){escaped}($|[^[:alnum:]._%+-]|\.($|[^[:alnum:]]))")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_canonical() {
        let subject = Subject::new("  Ada@Example.com ");
        assert_eq!(subject.email, "ada@example.com");
        assert_eq!(
            subject.email_hash,
            Sha256::digest(b"ada@example.com").to_vec()
        );
        assert!(subject.pattern.contains(r"ada\@example\.com"));
    }
}
