//! Scheduling's configuration variables.

use crate::config::{ConfigError, Reader, any};
use crate::rate_limit::Limit;
use crate::var;

/// Booking calls.
#[derive(Debug, Clone)]
pub struct SchedulingConfig {
    pub booking_limit: Limit,
    pub change_limit: Limit,
    pub bookings_per_email_per_day: u32,
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
        })
    }
}
