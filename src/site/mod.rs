//! The firm's public profile: name, tagline, contact details, address, social links and the
//! public site URL.

mod handlers;
pub mod model;
pub mod service;

pub use handlers::router;
