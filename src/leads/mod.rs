//! Leads: "Book a consultation" and "Get a custom development plan" (public, idempotent,
//! rate-limited, with a honeypot), their notifications through the outbox, and the inbox
//! where sales work them.

pub mod config;
mod export;
mod handlers;
pub mod model;
pub mod personal_data;
pub mod service;

pub use config::LeadsConfig;
pub use handlers::router;

use std::sync::Arc;

/// What lead capture keeps besides the plumbing: its configuration.
#[derive(Clone)]
pub struct LeadsState {
    pub config: Arc<LeadsConfig>,
}
