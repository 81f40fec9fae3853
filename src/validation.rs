//! Field validation that collects every error of a request before answering 422.
//!
//! Request types deserialize leniently (missing fields default to empty), then a
//! `validate` function walks them with a [`Validator`], which records each problem and
//! hands back cleaned values.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
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

    /// A phone number: 7 to 15 digits, with spaces, `-().` and a leading `+` allowed.
    pub fn phone(&mut self, field: &str, phone: &str) {
        let allowed = phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0));
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(7..=15).contains(&digits) {
            self.error(
                field,
                "invalid_phone",
                format!("{field} must be a phone number of 7 to 15 digits, like +44 117 496 0000"),
            );
        }
    }

    /// An optional phone number, trimmed; empty becomes `None`.
    pub fn optional_phone(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let phone = self.optional_text(field, value, 40)?;
        self.phone(field, &phone);
        Some(phone)
    }

    /// The visitor's consent (`consent` must be true; `why` says what for) and the
    /// version of the consent text they saw (`default` when not given).
    pub fn consent(&mut self, given: bool, version: Option<&str>, why: &str) -> String {
        if !given {
            self.error(
                "consent",
                "required",
                format!("consent must be true: {why}"),
            );
        }
        self.optional_text("consent_text_version", version, 50)
            .unwrap_or_else(|| DEFAULT_CONSENT_VERSION.to_owned())
    }

    /// A whole number within `min..=max`.
    pub fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        field: &str,
        value: T,
        min: T,
        max: T,
    ) -> T {
        if value < min || value > max {
            self.error(
                field,
                "out_of_range",
                format!("{field} must be between {min} and {max}"),
            );
        }
        value
    }

    /// An IANA time zone name (`Europe/London`).
    pub fn zone(&mut self, field: &str, value: &str) -> Option<Tz> {
        let value = value.trim();
        if value.is_empty() {
            self.error(
                field,
                "required",
                format!("{field} is required: an IANA time zone like Europe/London"),
            );
            return None;
        }
        value.parse::<Tz>().ok().or_else(|| {
            self.error(
                field,
                "invalid_time_zone",
                format!("{field} must be an IANA time zone like Europe/London or America/New_York"),
            );
            None
        })
    }

    /// An RFC 3339 time (any offset), in UTC.
    pub fn instant(&mut self, field: &str, value: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(value.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| {
                self.error(
                    field,
                    "invalid_time",
                    format!("{field} must be an RFC 3339 time like 2026-12-07T10:00:00Z"),
                );
                None
            })
    }

    /// A bound of a time range, given as an RFC 3339 time or as a date (`2026-12-07`) in
    /// `zone`. A date means the start of that day, or for an `end` bound (inclusive days)
    /// the start of the next. Empty is `None`.
    pub fn date_or_instant(
        &mut self,
        field: &str,
        value: Option<&str>,
        zone: Tz,
        end: Bound,
    ) -> Option<DateTime<Utc>> {
        let value = value.map(str::trim).filter(|s| !s.is_empty())?;
        if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            let day = match end {
                Bound::End => day.succ_opt().unwrap_or(day),
                Bound::Start => day,
            };
            return Some(start_of_day(zone, day));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(value) {
            return Some(at.with_timezone(&Utc));
        }
        self.error(
            field,
            "invalid_time",
            format!("{field} must be a date like 2026-12-07 or an RFC 3339 time like 2026-12-07T10:00:00Z"),
        );
        None
    }

    /// One of `choices` when given; empty is `None`.
    pub fn optional_choice(
        &mut self,
        field: &str,
        value: Option<&str>,
        choices: &[&str],
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        Some(self.choice(field, value, choices))
    }

    /// A content language: an ISO 639-1 code ("en", "de"), lowercased; none when absent.
    /// Languages Postgres has stemming for are searched with it, any other word for word.
    pub fn optional_language(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        let code = value.to_ascii_lowercase();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
            self.error(
                field,
                "invalid_language",
                format!("{field} must be an ISO 639-1 language code, like en or de"),
            );
        }
        Some(code)
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

    /// An optional absolute http(s) URL (blank is absent), as a string.
    pub fn optional_http_url(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value.map(str::trim).filter(|s| !s.is_empty())?;
        self.http_url(field, value).map(|u| u.to_string())
    }

    /// An optional colour `#rrggbb`, lowercased (blank is absent).
    pub fn optional_color(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let color = value
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())?;
        let hex = color.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.error(
                field,
                "invalid_color",
                format!("{field} must be a colour like #ff5a1f"),
            );
        }
        Some(color)
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

/// Which end of a range a date names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Start,
    /// The range includes the whole day.
    End,
}

/// The first instant of `day` in `zone` (a day that starts in a DST gap starts when the
/// clocks allow).
pub fn start_of_day(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut local = day.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(at) = zone.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(30);
    }
    local.and_utc()
}

pub const MAX_SLUG_LEN: usize = 80;

/// The consent text version recorded when a form does not say which one it showed.
pub const DEFAULT_CONSENT_VERSION: &str = "default";

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
    fn range_bounds_are_dates_in_a_zone_or_instants() {
        let zone: Tz = "America/New_York".parse().expect("zone");
        let mut v = Validator::new();
        let from = v.date_or_instant("from", Some("2026-12-07"), zone, Bound::Start);
        let to = v.date_or_instant("to", Some("2026-12-07"), zone, Bound::End);
        let at = v.date_or_instant("at", Some("2026-12-07T10:00:00+01:00"), zone, Bound::Start);
        assert!(v.is_valid());
        assert_eq!(
            from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-07T05:00:00+00:00")
        );
        assert_eq!(
            to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-08T05:00:00+00:00")
        );
        assert_eq!(
            at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-07T09:00:00+00:00")
        );
        assert_eq!(v.date_or_instant("x", Some(""), zone, Bound::Start), None);
        v.date_or_instant("bad", Some("next tuesday"), zone, Bound::Start);
        v.zone("tz", "Mars/Olympus");
        let Err(AppError::Validation(errors)) = v.finish() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["bad", "tz"]);
    }

    #[test]
    fn phones() {
        for ok in ["+44 117 496 0000", "(555) 010-1234", "0117.496.0000"] {
            let mut v = Validator::new();
            v.phone("phone", ok);
            assert!(v.is_valid(), "{ok}");
        }
        for bad in [
            "12345",
            "+1 555 CALL NOW",
            "1+5550101234",
            "1234567890123456",
        ] {
            let mut v = Validator::new();
            v.phone("phone", bad);
            assert!(!v.is_valid(), "{bad}");
        }
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
