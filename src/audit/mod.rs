//! The audit log: every admin write, who made it, when and from where.

mod handlers;
mod service;

pub use handlers::router;
pub use service::{AuditActor, AuditEntry, AuditEvent, record};
