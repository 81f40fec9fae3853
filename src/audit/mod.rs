//! The audit log: every admin write, who made it, when and from where, recorded inside the
//! write's own transaction. Shared plumbing: it knows no capability (the operators' view of
//! it is `ops`).

mod service;

pub use service::{AuditActor, AuditEntry, AuditEvent, AuditFilter, list, record};
