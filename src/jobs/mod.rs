//! The job runner: work to do after a change commits (emails, webhook deliveries), written
//! in the same unit of work as the change, delivered by workers on every replica, retried
//! with backoff, parked when it keeps failing. It delivers email itself (the mailer); other
//! kinds are delivered by the handler a capability registers (webhooks).

pub mod mailer;
pub mod personal_data;
pub mod queue;
pub mod worker;

pub use mailer::Mailer;
pub use queue::{Attachment, Claimed, Email, JobQueue, JobView, NewJobs};
pub use worker::{Handlers, JobHandler, RetentionJob, Runner, WorkerSettings};
