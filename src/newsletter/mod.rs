//! The newsletter: double opt-in signup that reveals nothing, confirmation by token,
//! unsubscribe by signed link and RFC 8058 one-click, and the list for admins.

mod handlers;
pub mod personal_data;
pub mod service;

pub use handlers::router;
