//! Scheduling calls: hosts with working hours in their own zones, call types, free slots in
//! the visitor's zone, bookings that never collide (enforced by the database), and invites.
//!
//! `setup` (hosts, hours, call types), `meeting` (locations, questions, reminders), `slots`
//! (pure slot arithmetic), `booking` (book, move, cancel), `notify` (emails with invites,
//! reminders, webhooks), `agenda` (reading bookings, feeds), `ics` (iCalendar), `calendars`
//! (the hosts' CalDAV calendars and iCalendar feeds: busy times in, bookings out).

mod agenda;
mod booking;
mod calendars;
mod config;
mod handlers;
mod ics;
mod meeting;
mod model;
mod notify;
pub(crate) mod personal_data;
mod setup;
mod slots;

use std::sync::Arc;

pub use agenda::{count as count_bookings, purge};
pub use booking::{BookingSubmission, SLOT_TAKEN, book, free_slots};
pub use calendars::Calendars;
pub use calendars::writeback::CalendarWriter;
pub use config::{CalendarsConfig, SchedulingConfig};
pub use handlers::router;
pub use meeting::{LocationSpec, Question};
pub use model::{BookingCreated, BookingRequest, CallTypeInput, HostInput, HoursInput};
pub use notify::{CALENDAR_JOB, REMINDER_JOB, Reminders};
pub use setup::{list_call_types, put_host, save_call_type};

use crate::leads::LeadsConfig;

/// What scheduling keeps besides the plumbing: its configuration, and lead capture's (a
/// booking makes the visitor a lead).
#[derive(Clone)]
pub struct SchedulingState {
    pub config: Arc<SchedulingConfig>,
    pub leads: Arc<LeadsConfig>,
    /// Reads and writes the hosts' connected calendars.
    pub calendars: Calendars,
}
