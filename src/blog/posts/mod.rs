//! Writing posts (editors and owners): create, replace, delete, preview, revisions.

mod handlers;
pub mod input;
pub mod service;

pub use handlers::router;
