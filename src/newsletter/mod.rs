//! The newsletter: double opt-in signup that reveals nothing, confirmation by token,
//! unsubscribe by signed link and RFC 8058 one-click, and the list for admins.

mod handlers;
mod model;
pub(crate) mod personal_data;
mod service;

pub use handlers::router;

use crate::rate_limit::Limit;

/// What the newsletter keeps besides the plumbing: the signup form's limit (FORM_RATE_LIMIT).
#[derive(Clone)]
pub struct NewsletterState {
    pub form_limit: Limit,
}
