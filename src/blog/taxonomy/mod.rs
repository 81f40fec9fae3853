//! Authors, tags and series: edited by editors and owners, read by visitors.

mod handlers;
mod model;
mod service;

pub use handlers::router;
pub use model::{AuthorInput, AuthorProfile, SeriesInput, TagDetails, TagInput};
pub use service::{save_author, save_series, save_tag};
