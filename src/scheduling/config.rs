//! Scheduling's configuration variables.

use std::time::Duration;

use crate::config::{ConfigError, Reader, any};
use crate::rate_limit::Limit;
use crate::var;

/// Booking calls.
#[derive(Debug, Clone)]
pub struct SchedulingConfig {
    pub booking_limit: Limit,
    pub change_limit: Limit,
    pub bookings_per_email_per_day: u32,
    pub calendars: CalendarsConfig,
}

/// The hosts' connected calendars.
#[derive(Debug, Clone)]
pub struct CalendarsConfig {
    /// How often each connected calendar is read again.
    pub refresh: Duration,
    /// How long a calendar server has to answer.
    pub timeout: Duration,
    /// How long a booking waits for its host's calendars to be read again first.
    pub confirm_wait: Duration,
    /// A calendar read this recently is not read again for a booking.
    pub confirm_fresh: Duration,
    /// Calendar servers may be on loopback, link-local or private addresses.
    pub allow_private: bool,
}

impl SchedulingConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Bookings");
        Ok(Self {
            booking_limit: r.limit(
                var!(
                    "BOOKING_RATE_LIMIT",
                    "10",
                    "bookings per client IP within BOOKING_RATE_WINDOW_SECS; more answer 429; 0 turns the limit off"
                ),
                var!(
                    "BOOKING_RATE_WINDOW_SECS",
                    "3600",
                    "the window of BOOKING_RATE_LIMIT"
                ),
            )?,
            change_limit: r.limit(
                var!(
                    "BOOKING_CHANGE_RATE_LIMIT",
                    "20",
                    "cancellations and reschedules per client IP within BOOKING_CHANGE_RATE_WINDOW_SECS; 0 turns the limit off"
                ),
                var!(
                    "BOOKING_CHANGE_RATE_WINDOW_SECS",
                    "3600",
                    "the window of BOOKING_CHANGE_RATE_LIMIT"
                ),
            )?,
            bookings_per_email_per_day: r.parse(
                var!(
                    "BOOKINGS_PER_EMAIL_PER_DAY",
                    "3",
                    "calls one email address may book per day, whatever the IP; 0 turns the cap off"
                ),
                any,
            )?,
            calendars: CalendarsConfig::read(r)?,
        })
    }
}

impl CalendarsConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Hosts' calendars");
        Ok(Self {
            refresh: r.seconds(var!(
                "CALENDAR_REFRESH_SECS",
                "300",
                "how often each connected calendar (CalDAV or iCalendar feed) is read again for busy times"
            ))?,
            timeout: r.seconds(var!(
                "CALENDAR_TIMEOUT_SECS",
                "10",
                "how long a calendar server has to answer"
            ))?,
            confirm_wait: r.millis(var!(
                "CALENDAR_CONFIRM_WAIT_MS",
                "3000",
                "how long a booking waits for its host's calendars to be read again before it is confirmed; past it, what was read last counts"
            ))?,
            confirm_fresh: r.seconds_or_zero(var!(
                "CALENDAR_CONFIRM_FRESH_SECS",
                "10",
                "a calendar read this recently is not read again before a booking (so a burst of booking attempts does not become a burst of calendar requests); 0 reads it for every booking"
            ))?,
            allow_private: r.flag(var!(
                "CALENDAR_ALLOW_PRIVATE",
                "false",
                "allow calendar servers on loopback, link-local and private addresses (tests, on-premises servers); otherwise only public addresses, checked after DNS resolution"
            ))?,
        })
    }
}
