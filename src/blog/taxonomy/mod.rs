//! Authors, tags and series: edited by editors and owners, read by visitors.

mod handlers;
pub mod model;
pub mod service;

pub use handlers::router;
