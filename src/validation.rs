//! Field validation that collects every error of a request before answering 422.
//!
//! Request types deserialize leniently (missing fields default to empty), then a
//! `validate` function walks them with a [`Validator`], which records each problem and
//! hands back cleaned values.

use email_address::EmailAddress;
use url::Url;

use crate::error::{AppError, FieldError};

#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ok when no error was recorded, otherwise a 422 listing them all.
    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }

    /// A required text: trimmed, not empty, at most `max` characters.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.error(field, "required", format!("{field} is required"));
        } else {
            self.check_length(field, value, max);
        }
        value.to_owned()
    }

    /// An optional text: trimmed; empty becomes `None`; at most `max` characters.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.check_length(field, value, max);
        Some(value.to_owned())
    }

    /// A text that may be empty: trimmed, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        self.check_length(field, value, max);
        value.to_owned()
    }

    fn check_length(&mut self, field: &str, value: &str, max: usize) {
        // Postgres text cannot hold NUL, and no form has a use for it.
        if value.contains('\0') {
            self.error(
                field,
                "invalid_character",
                format!("{field} must not contain NUL characters"),
            );
        }
        let len = value.chars().count();
        if len > max {
            self.error(
                field,
                "too_long",
                format!("{field} must be at most {max} characters (got {len})"),
            );
        }
    }

    pub fn email(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.error(field, "required", format!("{field} is required"));
        } else if !is_valid_email(value) {
            self.error(
                field,
                "invalid_email",
                format!("{field} must be an email address like name@example.com"),
            );
        }
        value.to_lowercase()
    }

    /// An absolute http(s) URL.
    pub fn http_url(&mut self, field: &str, value: &str) -> Option<Url> {
        let value = value.trim();
        if value.is_empty() {
            self.error(field, "required", format!("{field} is required"));
            return None;
        }
        if value.len() > 2048 {
            self.error(
                field,
                "too_long",
                format!("{field} must be at most 2048 characters"),
            );
            return None;
        }
        match Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                self.error(
                    field,
                    "invalid_url",
                    format!(
                        "{field} must be an absolute http or https URL like https://example.com/"
                    ),
                );
                None
            }
        }
    }

    pub fn slug(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        if !is_valid_slug(value) {
            self.error(
                field,
                "invalid_slug",
                format!(
                    "{field} must be 1 to {MAX_SLUG_LEN} lowercase letters, digits and single hyphens, like `web-development`"
                ),
            );
        }
        value.to_owned()
    }

    pub fn range_i32(&mut self, field: &str, value: i32, min: i32, max: i32) -> i32 {
        if !(min..=max).contains(&value) {
            self.error(
                field,
                "out_of_range",
                format!("{field} must be between {min} and {max}"),
            );
        }
        value
    }
}

pub const MAX_SLUG_LEN: usize = 80;

pub fn is_valid_email(value: &str) -> bool {
    value.len() <= 254
        && EmailAddress::parse_with_options(
            value,
            email_address::Options::default().with_required_tld(),
        )
        .is_ok()
}

pub fn is_valid_slug(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_SLUG_LEN
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--")
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A URL-safe slug from a title: "Rust & Web APIs!" → "rust-web-apis".
pub fn slugify(title: &str) -> String {
    let slug = slug::slugify(title);
    let mut cut: String = slug.chars().take(MAX_SLUG_LEN).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut v = Validator::new();
        v.required_text("title", "  ", 10);
        v.email("email", "not-an-email");
        v.http_url("url", "ftp://example.com");
        v.slug("slug", "Bad Slug");
        let Err(AppError::Validation(errors)) = v.finish() else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("title", "required"),
                ("email", "invalid_email"),
                ("url", "invalid_url"),
                ("slug", "invalid_slug")
            ]
        );
    }

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        let mut v = Validator::new();
        assert_eq!(v.required_text("name", "  Zoë  ", 3), "Zoë");
        assert!(v.is_valid());
        v.required_text("name", "Zoëy", 3);
        assert!(!v.is_valid());
    }

    #[test]
    fn nul_characters_are_refused_in_every_text() {
        let mut v = Validator::new();
        v.required_text("a", "x\0y", 10);
        v.optional_text("b", Some("\0"), 10);
        v.text("c", "ok", 10);
        let Err(AppError::Validation(errors)) = v.finish() else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [("a", "invalid_character"), ("b", "invalid_character")]
        );
    }

    #[test]
    fn emails_are_lowercased_and_need_a_domain_with_a_dot() {
        let mut v = Validator::new();
        assert_eq!(v.email("email", "Ada@Example.COM"), "ada@example.com");
        assert!(v.is_valid());
        v.email("email", "ada@localhost");
        assert!(!v.is_valid());
    }

    #[test]
    fn slugs() {
        assert!(is_valid_slug("web-development-2"));
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "é", &"a".repeat(81)] {
            assert!(!is_valid_slug(bad), "{bad:?} should be rejected");
        }
        assert_eq!(slugify("Rust & Web APIs!"), "rust-web-apis");
        assert_eq!(slugify("Ünïcödé Façade"), "unicode-facade");
        assert!(is_valid_slug(&slugify(&"long title ".repeat(20))));
    }
}
