//! Writing posts (editors and owners): create, replace, delete, preview, revisions.

mod handlers;
mod input;
mod service;

pub use handlers::router;
pub(crate) use input::GENERATED_EXCERPT_CHARS;
pub use input::PostInput;
pub(crate) use service::announce;
pub use service::{copy_published, create, publish_due};
