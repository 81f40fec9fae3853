//! The outbox: notifications (email, webhooks) written in the same transaction as the change
//! that causes them, delivered by workers on every replica, retried with backoff, parked
//! when they keep failing, and visible to admins.

mod handlers;
pub mod jobs;
pub mod mailer;
pub mod personal_data;
pub mod webhooks;
pub mod worker;

pub use handlers::router;
pub use jobs::{Attachment, Email, NewJobs, enqueue_email, enqueue_emails, enqueue_event};
pub use worker::wake;
