//! Admin users (owners manage them): who may log in, with which role.

mod handlers;
pub mod service;

pub use handlers::router;
