//! The services catalogue ("Our expertise"): the firm's offerings, public at /v1/services
//! and edited by editors and owners under /v1/admin/services.
//!
//! Named "catalogue" and "offering" so as not to be confused with the service layer.

mod handlers;
mod model;
mod service;

pub use handlers::router;
pub use model::{Offering, OfferingInput};
pub use service::{create, find_published, list_published, published_pages, words};
