//! Leads: "Book a consultation" and "Get a custom development plan" (public, idempotent,
//! rate-limited, with a honeypot), their notifications through the outbox, and the inbox
//! where sales work them.

mod export;
mod handlers;
pub mod model;
pub mod personal_data;
pub mod service;

pub use handlers::router;
