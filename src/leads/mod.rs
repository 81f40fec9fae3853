//! Leads: "Book a consultation" and "Get a custom development plan" (public, idempotent,
//! rate-limited, with a honeypot), their notifications through the outbox, and the inbox
//! where sales work them.

mod config;
mod export;
mod handlers;
mod model;
pub(crate) mod personal_data;
mod service;

pub use config::LeadsConfig;
pub use handlers::router;
pub use model::{
    BUDGET_RANGES, ConsultationRequest, LeadReceipt, NewLead, PROJECT_TYPES, PlanRequest,
    TIMELINES, Utm,
};
pub use service::{
    CallLead, Submission, capture, count as count_leads, id_of_reference, note_booking, record_call,
};

use std::sync::Arc;

/// What lead capture keeps besides the plumbing: its configuration.
#[derive(Clone)]
pub struct LeadsState {
    pub config: Arc<LeadsConfig>,
}
