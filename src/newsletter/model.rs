//! What visitors and admins send the newsletter.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, Result};
use crate::validation::Validator;

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct SubscribeRequest {
    #[schema(example = "ada@example.com")]
    email: String,
    /// Must be true.
    consent: bool,
    consent_text_version: Option<String>,
}

impl SubscribeRequest {
    /// The address and the consent text version.
    pub fn validate(&self) -> Result<(String, String)> {
        let mut v = Validator::new();
        let email = v.email("email", &self.email);
        let version = v.consent(
            self.consent,
            self.consent_text_version.as_deref(),
            "you agree to receive the newsletter",
        );
        v.finish()?;
        Ok((email, version))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the confirmation email.
    token: Option<String>,
}

impl TokenQuery {
    pub fn validate(&self) -> Result<String> {
        let mut v = Validator::new();
        let token = v.required_text("token", self.token.as_deref().unwrap_or_default(), 200);
        v.finish()?;
        Ok(token)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    email: Option<String>,
    /// The signature from the link.
    sig: Option<String>,
}

impl UnsubscribeQuery {
    pub fn parts(&self) -> Result<(String, &str)> {
        let email = self
            .email
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let sig = self.sig.as_deref().unwrap_or_default();
        if email.is_empty() || sig.is_empty() {
            return Err(AppError::not_found("This unsubscribe link is not valid."));
        }
        Ok((email, sig))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriberQuery {
    /// pending, confirmed or unsubscribed.
    status: Option<String>,
}

impl SubscriberQuery {
    pub fn validate(&self) -> Result<Option<String>> {
        let mut v = Validator::new();
        let status = v.optional_choice(
            "status",
            self.status.as_deref(),
            &["pending", "confirmed", "unsubscribed"],
        );
        v.finish()?;
        Ok(status)
    }
}
