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

    /// A required single-line text (a name, a title): trimmed, not empty, at most `max`
    /// characters, no control characters.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.error(field, "required", format!("{field} is required"));
        } else {
            self.check(field, value, max, Lines::One);
        }
        value.to_owned()
    }

    /// An optional single-line text: trimmed; empty becomes `None`.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.check(field, value, max, Lines::One);
        Some(value.to_owned())
    }

    /// A single-line text that may be empty.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        self.check(field, value, max, Lines::One);
        value.to_owned()
    }

    /// A required text of several lines (a message, notes, a body): line breaks and tabs
    /// are kept, every line break becomes `\n`, other control characters are refused.
    pub fn required_multiline(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = normalize_line_breaks(value.trim());
        if value.is_empty() {
            self.error(field, "required", format!("{field} is required"));
        } else {
            self.check(field, &value, max, Lines::Many);
        }
        value
    }

    /// A text of several lines that may be empty.
    pub fn multiline(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = normalize_line_breaks(value.trim());
        self.check(field, &value, max, Lines::Many);
        value
    }

    /// An optional text of several lines; empty becomes `None`.
    pub fn optional_multiline(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        Some(self.multiline(field, value, max))
    }

    fn check(&mut self, field: &str, value: &str, max: usize, lines: Lines) {
        // Postgres text cannot hold NUL, and no form has a use for it.
        if value.contains('\0') {
            self.error(
                field,
                "invalid_character",
                format!("{field} must not contain NUL characters"),
            );
        } else if let Some(c) = value.chars().find(|c| !lines.allows(*c)) {
            // A line break in a name or title would end a header or an iCalendar line of
            // what we send with it.
            self.error(
                field,
                "invalid_character",
                match lines {
                    Lines::One => format!(
                        "{field} must be one line without control characters (found U+{:04X})",
                        u32::from(c)
                    ),
                    Lines::Many => format!(
                        "{field} must not contain control characters other than line breaks and tabs (found U+{:04X})",
                        u32::from(c)
                    ),
                },
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

    /// One of `choices`, named in the message; `value` is trimmed.
    pub fn choice(&mut self, field: &str, value: &str, choices: &[&str]) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.error(
                field,
                "required",
                format!("{field} is required: one of {}", choices.join(", ")),
            );
        } else if !choices.contains(&value) {
            self.error(
                field,
                "invalid_choice",
                format!("{field} must be one of {}", choices.join(", ")),
            );
        }
        value.to_owned()
    }

    /// An email address: only a plain `name@example.com` (no display name, quoting,
    /// comments or domain literal), returned in its canonical form (lowercase).
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.error(field, "required", format!("{field} is required"));
            return String::new();
        }
        match parse_email(trimmed) {
            Ok(email) => email,
            Err(NotAnEmail) => {
                self.error(
                    field,
                    "invalid_email",
                    format!("{field} must be an email address like name@example.com (the address alone, no name or brackets)"),
                );
                trimmed.to_lowercase()
            }
        }
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

/// Which characters a text may hold.
#[derive(Clone, Copy)]
enum Lines {
    One,
    Many,
}

impl Lines {
    fn allows(self, c: char) -> bool {
        let line_break = c == '\n' || c == '\t';
        let forbidden = c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}');
        match self {
            Self::One => !forbidden,
            Self::Many => !forbidden || line_break,
        }
    }
}

/// `\r\n`, a lone `\r` and Unicode line separators all become `\n`.
fn normalize_line_breaks(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .replace(['\r', '\u{2028}', '\u{2029}', '\u{85}'], "\n")
}

/// The value is not a plain email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnEmail;

/// An email address as frontdesk stores and compares it everywhere: a plain addr-spec
/// (`local@domain`, the domain with a top-level part), lowercased. Display names
/// (`Eve <eve@example.com>`), quoted local parts, comments and domain literals are refused:
/// the address must be the same string in the database, the mailer and an erasure request.
pub fn parse_email(value: &str) -> Result<String, NotAnEmail> {
    const SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', '\\', ',', '"'];
    let plain = value.len() <= 254
        && value.matches('@').count() == 1
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || SPECIALS.contains(&c));
    if !plain {
        return Err(NotAnEmail);
    }
    let options = email_address::Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    match EmailAddress::parse_with_options(value, options) {
        Ok(parsed) if parsed.email() == value && !parsed.local_part().is_empty() => {
            Ok(value.to_lowercase())
        }
        _ => Err(NotAnEmail),
    }
}

pub fn is_valid_email(value: &str) -> bool {
    parse_email(value).is_ok()
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
    fn only_a_plain_address_is_an_email() {
        for bad in [
            "Eve <victim@example.org>",
            "<victim@example.org>",
            "\"eve\"@example.org",
            "\"a b\"@example.org",
            "eve@[127.0.0.1]",
            "eve(comment)@example.org",
            "eve@example.org (Eve)",
            "a@b@example.org",
            "eve @example.org",
            "eve@example.org\r\nBcc: x@example.org",
            "a,b@example.org",
            ".eve@example.org",
            "eve..x@example.org",
            "@example.org",
            "eve@",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?} should be refused");
        }
        for good in [
            "ada@example.com",
            "Ada.Lovelace+tag@Example.COM",
            "o'brien@example.ie",
        ] {
            assert_eq!(parse_email(good), Ok(good.to_lowercase()), "{good:?}");
        }
    }

    #[test]
    fn single_line_texts_refuse_line_breaks_and_multiline_texts_normalize_them() {
        let mut v = Validator::new();
        v.required_text("first_name", "Ada\r\nEND:VEVENT", 100);
        v.optional_text("company", Some("A\u{2028}B"), 100);
        v.text("title", "tab\there", 100);
        let notes = v.multiline("notes", "one\rtwo\r\nthree\n\tfour", 100);
        v.multiline("message", "bell\u{7}", 100);
        let Err(AppError::Validation(errors)) = v.finish() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("first_name", "invalid_character"),
                ("company", "invalid_character"),
                ("title", "invalid_character"),
                ("message", "invalid_character"),
            ]
        );
        assert_eq!(notes, "one\ntwo\nthree\n\tfour");
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
