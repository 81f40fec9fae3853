//! The newsletter's configuration variables.

use secrecy::SecretString;

use crate::config::{ConfigError, Reader};
use crate::{secret, var};

/// Sending issues.
#[derive(Debug, Clone)]
pub struct NewsletterConfig {
    /// Messages per second an issue goes out at, across all replicas; 0: unpaced.
    pub send_rate: f64,
    /// What mail providers sign their bounce and complaint events with.
    pub events_secret: Option<SecretString>,
}

impl NewsletterConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Newsletter");
        Ok(Self {
            send_rate: r.parse(
                var!(
                    "NEWSLETTER_SEND_RATE",
                    "10",
                    "messages per second an issue is sent at, across all replicas (mail providers throttle: match your plan); 0 sends as fast as the outbox workers go"
                ),
                non_negative,
            )?,
            events_secret: r
                .optional(
                    secret!(
                        "NEWSLETTER_EVENTS_SECRET",
                        "the secret mail-provider events (bounces, complaints) to POST /v1/newsletter/events are signed with (X-Frontdesk-Signature, as frontdesk's own webhooks); unset, that endpoint answers 404"
                    ),
                    |_| Ok(()),
                )?
                .map(SecretString::from),
        })
    }
}

fn non_negative(rate: &f64) -> Result<(), String> {
    if rate.is_finite() && (*rate == 0.0 || (0.01..=100_000.0).contains(rate)) {
        Ok(())
    } else {
        Err("expected messages per second: 0 (unpaced), or from 0.01 to 100000".to_owned())
    }
}
