//! Admin sign-in's configuration variables.

use std::time::Duration;

use crate::config::positive;
use crate::config::{ConfigError, Reader};
use crate::var;

/// Admin sign-in.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub session_ttl: Duration,
    pub login_max_failures: u32,
    pub login_failure_window: Duration,
}

impl AuthConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Admin sign-in");
        Ok(Self {
            session_ttl: r.seconds(var!(
                "SESSION_TTL_SECS",
                "43200",
                "lifetime of a login token"
            ))?,
            login_max_failures: r.parse(
                var!(
                    "LOGIN_MAX_FAILURES",
                    "5",
                    "failed logins for one email within the window before further attempts are slowed to one per window/max (4× as many per client IP, then 429)"
                ),
                positive,
            )?,
            login_failure_window: r.seconds(var!(
                "LOGIN_FAILURE_WINDOW_SECS",
                "900",
                "the window over which failed logins are counted"
            ))?,
        })
    }
}
