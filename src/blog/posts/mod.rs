//! Writing posts (editors and owners): create, replace, delete, preview, revisions.

mod handlers;
mod input;
mod service;

pub use handlers::router;
pub use input::PostInput;
pub(crate) use service::announce;
pub use service::{copy_published, create, publish_due};
