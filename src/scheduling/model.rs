//! Scheduling: what admins set up (hosts, call types), what visitors send (a booking), and
//! what both see.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Result;
use chrono::Duration;
use utoipa::IntoParams;

use super::meeting::{
    Answer, Location, LocationSpec, Question, validate_questions, validate_reminders,
};
use crate::validation::{Bound, Validator, slugify};

fn parse_time(v: &mut Validator, field: &str, value: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .ok()
        .or_else(|| {
            v.error(
                field,
                "invalid_time",
                format!("{field} must be a time like 09:30"),
            );
            None
        })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HoursInput {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    #[schema(example = 1)]
    pub weekday: u32,
    /// Wall-clock time in the host's zone, `HH:MM`.
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "17:30")]
    pub end: String,
}

/// A host's set-up (PUT replaces it whole).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HostInput {
    #[schema(example = "Europe/London")]
    pub time_zone: String,
    /// Several intervals per day are fine (e.g. a lunch break).
    pub working_hours: Vec<HoursInput>,
    /// Defaults to true.
    pub active: Option<bool>,
    /// The host's own video-call link (for call types with a video location and no link).
    pub video_url: Option<String>,
    /// The number visitors call (for call types where the visitor calls).
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidHost {
    pub time_zone: Tz,
    pub hours: Vec<(i16, NaiveTime, NaiveTime)>,
    pub active: bool,
    pub video_url: Option<String>,
    pub phone: Option<String>,
}

impl HostInput {
    pub fn validate(&self) -> Result<ValidHost> {
        let mut v = Validator::new();
        let zone = v.zone("time_zone", &self.time_zone);
        let mut hours: Vec<(i16, NaiveTime, NaiveTime)> = Vec::new();
        for (i, h) in self.working_hours.iter().enumerate() {
            let field = |name: &str| format!("working_hours[{i}].{name}");
            if !(1..=7).contains(&h.weekday) {
                v.error(
                    &field("weekday"),
                    "out_of_range",
                    "weekday must be 1 (Monday) to 7 (Sunday)",
                );
            }
            let start = parse_time(&mut v, &field("start"), &h.start);
            let end = parse_time(&mut v, &field("end"), &h.end);
            if let (Some(start), Some(end)) = (start, end) {
                if end <= start {
                    v.error(&field("end"), "before_start", "end must be after start");
                } else if let Ok(weekday) = i16::try_from(h.weekday) {
                    let overlapping = hours
                        .iter()
                        .any(|(d, s, e)| *d == weekday && start < *e && *s < end);
                    if overlapping {
                        v.error(
                            &field("start"),
                            "overlapping",
                            "intervals of one day must not overlap",
                        );
                    }
                    hours.push((weekday, start, end));
                }
            }
        }
        let video_url = self
            .video_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .and_then(|u| v.http_url("video_url", u))
            .map(|u| u.to_string());
        let phone = v.optional_phone("phone", self.phone.as_deref());
        v.finish()?;
        Ok(ValidHost {
            video_url,
            phone,
            time_zone: zone.unwrap_or(Tz::UTC),
            hours,
            active: self.active.unwrap_or(true),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OverrideInput {
    /// The date in the host's zone.
    #[schema(example = "2026-12-24")]
    pub date: String,
    /// `day_off`, or `extra` hours (with start and end).
    #[schema(example = "day_off")]
    pub kind: String,
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidOverride {
    pub date: NaiveDate,
    pub kind: &'static str,
    pub start: Option<NaiveTime>,
    pub end: Option<NaiveTime>,
}

impl OverrideInput {
    pub fn validate(&self) -> Result<ValidOverride> {
        let mut v = Validator::new();
        let date = NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d").ok();
        if date.is_none() {
            v.error(
                "date",
                "invalid_date",
                "date must be a date like 2026-12-24",
            );
        }
        let kind = match self.kind.trim() {
            "day_off" => "day_off",
            "extra" => "extra",
            _ => {
                v.error("kind", "invalid_choice", "kind must be day_off or extra");
                "day_off"
            }
        };
        let (mut start, mut end) = (None, None);
        if kind == "extra" {
            start = parse_time(&mut v, "start", self.start.as_deref().unwrap_or_default());
            end = parse_time(&mut v, "end", self.end.as_deref().unwrap_or_default());
            if let (Some(s), Some(e)) = (start, end) {
                if e <= s {
                    v.error("end", "before_start", "end must be after start");
                }
            }
        }
        v.finish()?;
        Ok(ValidOverride {
            date: date.unwrap_or_default(),
            kind,
            start,
            end,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hours {
    pub weekday: i16,
    #[schema(example = "09:00")]
    pub start: String,
    #[schema(example = "17:30")]
    pub end: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DateOverride {
    pub id: Uuid,
    pub date: NaiveDate,
    pub kind: String,
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Host {
    /// The admin user who takes calls.
    pub admin_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub time_zone: String,
    pub active: bool,
    pub video_url: Option<String>,
    pub phone: Option<String>,
    pub working_hours: Vec<Hours>,
    pub overrides: Vec<DateOverride>,
}

/// A call type (create, or replace with PUT).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CallTypeInput {
    #[schema(example = "Discovery call")]
    pub name: String,
    pub slug: Option<String>,
    pub description: String,
    #[schema(example = 30)]
    pub duration_minutes: i32,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    /// How long before the start one may book, at least (default 240).
    pub min_notice_minutes: Option<i32>,
    /// How many days ahead one may book (default 30).
    pub horizon_days: Option<i32>,
    /// Start times are offered every this many minutes (default 15).
    pub slot_step_minutes: Option<i32>,
    /// At most this many calls per host per day.
    pub daily_cap: Option<i32>,
    /// The admins (hosts) who take this call.
    pub host_ids: Vec<Uuid>,
    /// Defaults to true.
    pub active: Option<bool>,
    /// Where the calls happen; none: not said.
    pub location: Option<LocationSpec>,
    /// What visitors answer when booking.
    pub questions: Vec<Question>,
    /// Reminders to the visitor and the host, in minutes before the start (e.g. `[1440, 60]`).
    pub reminder_minutes: Vec<i32>,
}

#[derive(Debug, Clone)]
pub struct ValidCallType {
    pub location: Option<LocationSpec>,
    pub questions: Vec<Question>,
    pub reminder_minutes: Vec<i32>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub duration_minutes: i32,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub min_notice_minutes: i32,
    pub horizon_days: i32,
    pub slot_step_minutes: i32,
    pub daily_cap: Option<i32>,
    pub host_ids: Vec<Uuid>,
    pub active: bool,
}

impl CallTypeInput {
    pub fn validate(&self) -> Result<ValidCallType> {
        let mut v = Validator::new();
        let name = v.required_text("name", &self.name, 120);
        let slug = match self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(slug) => v.slug("slug", slug),
            None => slugify(&name),
        };
        let description = v.multiline("description", &self.description, 2_000);
        let duration = v.range_i32("duration_minutes", self.duration_minutes, 5, 480);
        let before = v.range_i32("buffer_before_minutes", self.buffer_before_minutes, 0, 240);
        let after = v.range_i32("buffer_after_minutes", self.buffer_after_minutes, 0, 240);
        let notice = v.range_i32(
            "min_notice_minutes",
            self.min_notice_minutes.unwrap_or(240),
            0,
            60 * 24 * 30,
        );
        let horizon = v.range_i32("horizon_days", self.horizon_days.unwrap_or(30), 1, 365);
        let step = v.range_i32(
            "slot_step_minutes",
            self.slot_step_minutes.unwrap_or(15),
            5,
            240,
        );
        let cap = self.daily_cap.map(|c| v.range_i32("daily_cap", c, 1, 100));
        if self.host_ids.is_empty() {
            v.error(
                "host_ids",
                "required",
                "host_ids must name at least one host",
            );
        }
        let location = self.location.as_ref().map(|l| l.validate(&mut v));
        let questions = validate_questions(&mut v, &self.questions);
        let reminder_minutes = validate_reminders(&mut v, &self.reminder_minutes);
        v.finish()?;
        let mut host_ids: Vec<Uuid> = Vec::with_capacity(self.host_ids.len());
        for id in &self.host_ids {
            if !host_ids.contains(id) {
                host_ids.push(*id);
            }
        }
        Ok(ValidCallType {
            location,
            questions,
            reminder_minutes,
            name,
            slug,
            description,
            duration_minutes: duration,
            buffer_before_minutes: before,
            buffer_after_minutes: after,
            min_notice_minutes: notice,
            horizon_days: horizon,
            slot_step_minutes: step,
            daily_cap: cap,
            host_ids,
            active: self.active.unwrap_or(true),
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallType {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub duration_minutes: i32,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub min_notice_minutes: i32,
    pub horizon_days: i32,
    pub slot_step_minutes: i32,
    pub daily_cap: Option<i32>,
    pub host_ids: Vec<Uuid>,
    pub active: bool,
    pub location: Option<LocationSpec>,
    pub questions: Vec<Question>,
    pub reminder_minutes: Vec<i32>,
}

/// Who a visitor may meet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicHost {
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicCallType {
    #[schema(example = "discovery-call")]
    pub slug: String,
    pub name: String,
    pub description: String,
    pub duration_minutes: i32,
    /// How far ahead one may book.
    pub horizon_days: i32,
    /// How long before the start one may book, at least.
    pub min_notice_minutes: i32,
    pub hosts: Vec<PublicHost>,
    /// Where the call happens (a video call's link comes with the booking).
    pub location: Option<LocationSpec>,
    /// What to ask when booking (answers go in the booking's `answers`).
    pub questions: Vec<Question>,
    /// A phone number is required when booking (the host calls the visitor).
    pub phone_required: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotView {
    /// In the visitor's zone, with its offset.
    #[schema(example = "2026-12-07T10:00:00-05:00")]
    pub start: String,
    pub end: String,
    pub start_utc: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Slots {
    pub call_type: String,
    pub time_zone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub slots: Vec<SlotView>,
    /// A host's calendar could not be read lately: some of these times may be busy after
    /// all (booking one checks again).
    pub stale: bool,
}

/// "Schedule a call".
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct BookingRequest {
    /// The call type's slug.
    #[schema(example = "discovery-call")]
    pub call_type: String,
    /// A start time from the slots (RFC 3339; any offset).
    #[schema(example = "2026-12-07T10:00:00-05:00")]
    pub start: String,
    /// The visitor's zone, for their invite and emails.
    #[schema(example = "America/New_York")]
    pub time_zone: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub notes: String,
    /// Must be true.
    pub consent: bool,
    pub consent_text_version: Option<String>,
    /// Answers to the call type's questions, by question id.
    #[schema(value_type = Object, example = json!({"company": "Acme"}))]
    pub answers: std::collections::BTreeMap<String, serde_json::Value>,
    /// The visitor's number, when the host calls them.
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidBooking {
    pub call_type: String,
    pub start: DateTime<Utc>,
    pub time_zone: Tz,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub notes: String,
    pub consent_text_version: String,
    pub answers: std::collections::BTreeMap<String, serde_json::Value>,
    pub phone: String,
}

impl BookingRequest {
    pub fn validate(&self) -> Result<ValidBooking> {
        let mut v = Validator::new();
        let call_type = v.slug("call_type", &self.call_type);
        let start = v.instant("start", &self.start);
        let zone = v.zone("time_zone", &self.time_zone);
        let first_name = v.required_text("first_name", &self.first_name, 100);
        let last_name = v.required_text("last_name", &self.last_name, 100);
        let email = v.email("email", &self.email);
        let notes = v.multiline("notes", &self.notes, 2_000);
        let version = v.consent(
            self.consent,
            self.consent_text_version.as_deref(),
            "we store your details to hold the call",
        );
        let phone = v.optional_phone("phone", self.phone.as_deref());
        if self.answers.len() > 20 {
            v.error("answers", "too_many", "at most 20 answers");
        }
        v.finish()?;
        Ok(ValidBooking {
            call_type,
            start: start.unwrap_or_default(),
            time_zone: zone.unwrap_or(Tz::UTC),
            first_name,
            last_name,
            email,
            notes,
            consent_text_version: version,
            answers: self.answers.clone(),
            phone: phone.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct RescheduleRequest {
    /// The new start (RFC 3339), one of the offered slots.
    pub start: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingView {
    pub id: Uuid,
    /// `confirmed` or `cancelled`.
    pub status: String,
    pub call_type: String,
    pub call_type_name: String,
    pub host_name: String,
    /// In the visitor's zone.
    pub start: String,
    pub end: String,
    pub start_utc: DateTime<Utc>,
    pub end_utc: DateTime<Utc>,
    pub time_zone: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub notes: String,
    /// Where the call happens; null when the call type does not say.
    pub location: Option<Location>,
    /// The call type's questions with the visitor's answers.
    pub answers: Vec<Answer>,
    /// The visitor's number, when given.
    pub phone: String,
    /// Raised on every change of the invite.
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingCreated {
    pub booking: BookingView,
    /// Keep it: it is how the visitor sees, moves or cancels the booking. Null when this
    /// answer replays an earlier request with the same Idempotency-Key: the link is secret,
    /// so it is only in the first answer and in the confirmation email.
    pub manage_token: Option<String>,
    pub manage_url: Option<String>,
    pub invite_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminBooking {
    #[serde(flatten)]
    pub booking: BookingView,
    pub host_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<String>,
}

impl CancelRequest {
    /// The reason given, if any.
    pub fn validate(&self) -> Result<Option<String>> {
        let mut v = Validator::new();
        let reason = v.optional_multiline("reason", self.reason.as_deref(), 500);
        v.finish()?;
        Ok(reason)
    }
}

impl RescheduleRequest {
    /// The new start.
    pub fn validate(&self) -> Result<DateTime<Utc>> {
        let mut v = Validator::new();
        let start = v.instant("start", &self.start);
        v.finish()?;
        Ok(start.unwrap_or_default())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// First day (a date in `tz`, like 2026-12-07) or an RFC 3339 time; default now.
    from: Option<String>,
    /// Last day, inclusive (a date in `tz`) or an RFC 3339 time (exclusive); default a week after `from`.
    to: Option<String>,
    /// The visitor's IANA time zone; default UTC.
    tz: Option<String>,
}

/// The longest range one slots request may cover.
pub const MAX_RANGE_DAYS: i64 = 62;

impl SlotQuery {
    /// `from`/`to` (dates in the zone, or instants) as instants, and the zone.
    pub fn validate(&self) -> Result<(DateTime<Utc>, DateTime<Utc>, Tz)> {
        let query = self;
        let mut v = Validator::new();
        let zone = v
            .zone("tz", query.tz.as_deref().unwrap_or("UTC"))
            .unwrap_or(Tz::UTC);
        let from = match query.from.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => v.date_or_instant("from", Some(s), zone, Bound::Start),
            None => Some(Utc::now()),
        };
        let to = match query.to.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => v.date_or_instant("to", Some(s), zone, Bound::End),
            None => from.map(|f| f + Duration::days(7)),
        };
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                v.error("to", "before_from", "to must be after from");
            } else if to - from > Duration::days(MAX_RANGE_DAYS) {
                v.error(
                    "to",
                    "too_long",
                    format!("a range may cover at most {MAX_RANGE_DAYS} days"),
                );
            }
        }
        v.finish()?;
        Ok((from.unwrap_or_default(), to.unwrap_or_default(), zone))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingQuery {
    /// Starting on or after (RFC 3339 or a date, UTC).
    from: Option<String>,
    /// Starting before (RFC 3339 or a date, UTC).
    to: Option<String>,
    host_id: Option<Uuid>,
    /// confirmed or cancelled.
    status: Option<String>,
}

impl BookingQuery {
    pub fn validate(&self) -> Result<BookingFilter> {
        let mut v = Validator::new();
        let from = v.date_or_instant("from", self.from.as_deref(), Tz::UTC, Bound::Start);
        let to = v.date_or_instant("to", self.to.as_deref(), Tz::UTC, Bound::Start);
        let status = v.optional_choice(
            "status",
            self.status.as_deref(),
            &["confirmed", "cancelled"],
        );
        v.finish()?;
        Ok(BookingFilter {
            from,
            to,
            host: self.host_id,
            status,
        })
    }
}

/// Which bookings an agenda shows.
#[derive(Debug, Default)]
pub struct BookingFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub host: Option<Uuid>,
    pub status: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn hours_are_checked_and_may_not_overlap() {
        let input = HostInput {
            time_zone: "Mars/Olympus".into(),
            working_hours: vec![
                HoursInput {
                    weekday: 1,
                    start: "09:00".into(),
                    end: "12:00".into(),
                },
                HoursInput {
                    weekday: 1,
                    start: "11:00".into(),
                    end: "13:00".into(),
                },
                HoursInput {
                    weekday: 8,
                    start: "9am".into(),
                    end: "08:00".into(),
                },
            ],
            active: None,
            video_url: Some("ftp://meet.example.com".into()),
            phone: Some("call me".into()),
        };
        let Err(AppError::Validation(errors)) = input.validate() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "time_zone",
                "working_hours[1].start",
                "working_hours[2].weekday",
                "working_hours[2].start",
                "video_url",
                "phone"
            ]
        );
    }

    #[test]
    fn a_booking_names_a_real_zone_and_an_exact_time() {
        let request = BookingRequest {
            call_type: "discovery-call".into(),
            start: "next tuesday".into(),
            time_zone: "EST5EDT-ish".into(),
            ..BookingRequest::default()
        };
        let Err(AppError::Validation(errors)) = request.validate() else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "start",
                "time_zone",
                "first_name",
                "last_name",
                "email",
                "consent"
            ]
        );
    }
}
