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
    /// Topics (tag slugs, see GET /v1/tags) to also receive issues about; issues sent to
    /// everyone come regardless. Changeable later from the preferences link in every issue.
    #[schema(example = json!(["rust"]))]
    topics: Vec<String>,
}

/// The most topics one reader may choose.
pub const MAX_TOPICS: usize = 50;

/// Topics as sent: slugs, each once, at most [`MAX_TOPICS`].
fn valid_topics(v: &mut Validator, topics: &[String]) -> Vec<String> {
    if topics.len() > MAX_TOPICS {
        v.error(
            "topics",
            "too_many",
            format!("at most {MAX_TOPICS} topics can be chosen"),
        );
    }
    let mut valid: Vec<String> = topics.iter().map(|t| v.slug("topics", t)).collect();
    valid.sort();
    valid.dedup();
    valid
}

impl SubscribeRequest {
    /// The address, the consent text version and the topics.
    pub fn validate(&self) -> Result<(String, String, Vec<String>)> {
        let mut v = Validator::new();
        let email = v.email("email", &self.email);
        let version = v.consent(
            self.consent,
            self.consent_text_version.as_deref(),
            "you agree to receive the newsletter",
        );
        let topics = valid_topics(&mut v, &self.topics);
        v.finish()?;
        Ok((email, version, topics))
    }
}

/// A reader's new topics.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PreferencesInput {
    /// Tag slugs; empty: only issues sent to everyone.
    #[schema(example = json!(["rust", "design"]))]
    topics: Vec<String>,
}

impl PreferencesInput {
    /// The topics ticked in the preferences page's form (`topics=a&topics=b`).
    pub fn from_form(fields: Vec<(String, String)>) -> Self {
        Self {
            topics: fields
                .into_iter()
                .filter(|(name, _)| name == "topics")
                .map(|(_, value)| value)
                .collect(),
        }
    }

    pub fn validate(&self) -> Result<Vec<String>> {
        let mut v = Validator::new();
        let topics = valid_topics(&mut v, &self.topics);
        v.finish()?;
        Ok(topics)
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
