//! A person's data: export everything held about an email address, or erase it everywhere,
//! leaving only anonymized counts.

mod handlers;
mod model;
mod service;

pub use handlers::router;
pub use service::{Coverage, TABLES};
