//! Scheduling calls: hosts with working hours in their own zones, call types, free slots in
//! the visitor's zone, bookings that never collide (enforced by the database), and invites.
//!
//! `setup` (hosts, hours, call types), `slots` (pure slot arithmetic), `booking` (book, move,
//! cancel), `notify` (emails with invites, webhooks), `agenda` (reading bookings, feeds),
//! `ics` (iCalendar).

mod agenda;
mod booking;
mod config;
mod handlers;
mod ics;
mod model;
mod notify;
pub(crate) mod personal_data;
mod setup;
mod slots;

use std::sync::Arc;

pub use agenda::{count as count_bookings, purge};
pub use booking::{BookingSubmission, SLOT_TAKEN, book, free_slots};
pub use config::SchedulingConfig;
pub use handlers::router;
pub use model::{BookingCreated, BookingRequest, CallTypeInput, HostInput, HoursInput};
pub use setup::{list_call_types, put_host, save_call_type};

use crate::leads::LeadsConfig;

/// What scheduling keeps besides the plumbing: its configuration, and lead capture's (a
/// booking makes the visitor a lead).
#[derive(Clone)]
pub struct SchedulingState {
    pub config: Arc<SchedulingConfig>,
    pub leads: Arc<LeadsConfig>,
}
