//! Webhook deliveries' configuration variables.

use std::time::Duration;

use crate::config::{ConfigError, Reader};
use crate::var;

/// Webhook deliveries.
#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// Receivers may be on loopback, link-local or private addresses.
    pub allow_private: bool,
}

impl WebhooksConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Webhooks");
        Ok(Self {
            timeout: r.seconds(var!(
                "WEBHOOK_TIMEOUT_SECS",
                "10",
                "how long a webhook receiver has to answer"
            ))?,
            allow_private: r.flag(var!(
                "WEBHOOK_ALLOW_PRIVATE",
                "false",
                "allow webhook receivers on loopback, link-local and private addresses (tests, on-premises receivers); otherwise only public addresses, checked after DNS resolution"
            ))?,
        })
    }
}
