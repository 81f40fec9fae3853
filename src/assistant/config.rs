//! The assistant's configuration variables.

use std::time::Duration;

use crate::config::{ConfigError, Reader};
use crate::{secret, var};
use secrecy::SecretString;

use crate::config::{any, llm_url, positive};
use crate::rate_limit::Limit;

/// The on-site assistant.
#[derive(Debug, Clone)]
pub struct AssistantConfig {
    pub llm_url: Option<String>,
    pub llm_model: String,
    pub llm_key: SecretString,
    pub llm_timeout: Duration,
    /// The model's time for one message, all its requests together.
    pub llm_budget: Duration,
    pub rate_limit: Limit,
    pub messages_per_minute: u32,
    /// The window of `messages_per_minute`: a minute (not a variable; tests widen it so
    /// that no window boundary falls inside them).
    pub message_window: Duration,
    pub max_message_chars: usize,
    pub ttl: Duration,
    pub read_limit: Limit,
}

impl AssistantConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Assistant");
        Ok(Self {
            llm_url: r
                .optional(
                    var!(
                        "ASSISTANT_LLM_URL",
                        "",
                        "an OpenAI-compatible chat-completions API, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1; empty: the built-in engine answers alone"
                    ),
                    llm_url,
                )?
                .map(|u| u.trim_end_matches('/').to_owned()),
            llm_model: r.raw(var!(
                "ASSISTANT_LLM_MODEL",
                "gpt-4o-mini",
                "the model asked"
            )),
            llm_key: SecretString::from(r.raw(secret!(
                "ASSISTANT_LLM_KEY",
                "the model API's key, sent as a bearer token"
            ))),
            llm_timeout: r.seconds(var!(
                "ASSISTANT_LLM_TIMEOUT_SECS",
                "20",
                "one model request's limit before the built-in engine answers"
            ))?,
            llm_budget: r.seconds(var!(
                "ASSISTANT_LLM_BUDGET_SECS",
                "10",
                "how long the model may take over one message, tool rounds and answer together; then the built-in engine answers"
            ))?,
            rate_limit: r.limit(
                var!(
                    "ASSISTANT_RATE_LIMIT",
                    "200",
                    "conversations started plus messages sent per client IP within ASSISTANT_RATE_WINDOW_SECS; 0 turns the limit off"
                ),
                var!(
                    "ASSISTANT_RATE_WINDOW_SECS",
                    "3600",
                    "the window of ASSISTANT_RATE_LIMIT"
                ),
            )?,
            messages_per_minute: r.parse(
                var!(
                    "ASSISTANT_MESSAGES_PER_MINUTE",
                    "20",
                    "messages one conversation may send per minute; 0 turns the limit off"
                ),
                any,
            )?,
            message_window: Duration::from_secs(60),
            max_message_chars: r.parse(
                var!(
                    "ASSISTANT_MAX_MESSAGE_CHARS",
                    "2000",
                    "the longest visitor message taken (longer: 422)"
                ),
                positive,
            )?,
            ttl: Duration::from_secs(
                r.parse::<u64>(
                    var!(
                        "ASSISTANT_CONVERSATION_TTL_HOURS",
                        "24",
                        "how long a conversation can be continued; it is deleted a week after it expires"
                    ),
                    positive,
                )? * 3600,
            ),
            read_limit: r.limit(
                var!(
                    "ASSISTANT_READ_RATE_LIMIT",
                    "120",
                    "conversation history reads per client IP within ASSISTANT_READ_RATE_WINDOW_SECS; 0 turns the limit off"
                ),
                var!(
                    "ASSISTANT_READ_RATE_WINDOW_SECS",
                    "60",
                    "the window of ASSISTANT_READ_RATE_LIMIT"
                ),
            )?,
        })
    }
}
