//! Sending: a post goes out as an issue to the confirmed list (or one topic's readers),
//! paced, resumable on any replica, never twice to one address; test sends; bounces and
//! complaints from the mail provider; what happened, per issue.

mod email;
mod handlers;
mod model;
mod service;

pub use handlers::router;
pub use service::{DELIVERY_JOB, START_JOB, Sender, Starter};
