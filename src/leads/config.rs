//! Lead capture's configuration variables.

use crate::config::{ConfigError, Reader, email};
use crate::rate_limit::Limit;
use crate::var;

/// Lead capture.
#[derive(Debug, Clone)]
pub struct LeadsConfig {
    pub form_limit: Limit,
    pub team_email: Option<String>,
}

impl LeadsConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Forms");
        Ok(Self {
            form_limit: r.limit(
                var!(
                    "FORM_RATE_LIMIT",
                    "10",
                    "submissions of each public form (consultation, plan, newsletter) per client IP within FORM_RATE_WINDOW_SECS; more answer 429; 0 turns the limit off"
                ),
                var!("FORM_RATE_WINDOW_SECS", "600", "the window of FORM_RATE_LIMIT"),
            )?,
            team_email: r.optional(
                var!(
                    "TEAM_EMAIL",
                    "",
                    "who is told about new leads; the site profile's contact email when empty"
                ),
                email,
            )?,
        })
    }
}
