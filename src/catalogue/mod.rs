//! The services catalogue ("Our expertise"): the firm's offerings, public at /v1/services
//! and edited by editors and owners under /v1/admin/services.
//!
//! Named "catalogue" and "offering" so as not to be confused with the service layer.

mod handlers;
pub mod model;
pub mod service;

pub use handlers::router;
