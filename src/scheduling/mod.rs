//! Scheduling calls: hosts with working hours in their own zones, call types, free slots in
//! the visitor's zone, bookings that never collide (enforced by the database), and invites.

pub mod bookings;
mod handlers;
pub mod ics;
pub mod model;
pub mod personal_data;
pub mod setup;
pub mod slots;

pub use handlers::router;
