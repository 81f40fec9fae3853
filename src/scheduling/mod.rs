//! Scheduling calls: hosts with working hours in their own zones, call types, free slots in
//! the visitor's zone, bookings that never collide (enforced by the database), and invites.
//!
//! `setup` (hosts, hours, call types), `slots` (pure slot arithmetic), `booking` (book, move,
//! cancel), `notify` (emails with invites, webhooks), `agenda` (reading bookings, feeds),
//! `ics` (iCalendar).

pub mod agenda;
pub mod booking;
pub mod config;
mod handlers;
pub mod ics;
pub mod model;
mod notify;
pub mod personal_data;
pub mod setup;
pub mod slots;

use std::sync::Arc;

pub use config::SchedulingConfig;
pub use handlers::router;

use crate::leads::LeadsConfig;

/// What scheduling keeps besides the plumbing: its configuration, and lead capture's (a
/// booking makes the visitor a lead).
#[derive(Clone)]
pub struct SchedulingState {
    pub config: Arc<SchedulingConfig>,
    pub leads: Arc<LeadsConfig>,
}
