//! The on-site assistant: a chat that helps visitors explore the services, answers from the
//! site's own content (with its sources), prefills and sends a quote request, and finds and
//! books a call. Two engines answer: a built-in one that needs nothing (`builtin`, with
//! `understand` for what a message means), and any OpenAI-compatible model when configured
//! (`llm`), which falls back to the built-in one when it fails. Both act only through
//! `tools`, which call the same services as the REST API.

pub mod builtin;
pub mod handlers;
pub mod llm;
pub mod model;
pub mod personal_data;
pub mod service;
pub mod tools;
pub mod understand;

pub use handlers::router;
pub use service::Assistant;
