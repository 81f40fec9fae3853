//! Configuration from environment variables, with defaults that work on a developer machine.
//!
//! Every variable is listed in [`VARIABLES`] (name, default, meaning); `frontdesk config`
//! prints the effective values with secrets redacted, and .env.example mirrors the list.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use axum::http::HeaderValue;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

pub const DEFAULT_DATABASE_URL: &str =
    "postgres://postgres@127.0.0.1:5432/frontdesk?sslmode=disable";

/// One configuration variable: its name, its default and what it does.
pub struct Variable {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "DATABASE_URL",
        default: DEFAULT_DATABASE_URL,
        help: "Postgres connection URL; the database is created if missing",
    },
    Variable {
        name: "DATABASE_MAX_CONNECTIONS",
        default: "16",
        help: "size of the connection pool",
    },
    Variable {
        name: "LISTEN_ADDR",
        default: "127.0.0.1:8080",
        help: "address and port the HTTP server binds",
    },
    Variable {
        name: "LOG_FORMAT",
        default: "text",
        help: "`text` for terminals, `json` for log collectors",
    },
    Variable {
        name: "RUST_LOG",
        default: "info",
        help: "log filter, e.g. `info,frontdesk=debug`",
    },
    Variable {
        name: "CORS_ALLOWED_ORIGINS",
        default: "",
        help: "comma-separated origins allowed to call the API from a browser, e.g. https://example.com",
    },
    Variable {
        name: "TRUSTED_PROXIES",
        default: "",
        help: "comma-separated IPs or CIDRs of proxies whose X-Forwarded-For is believed",
    },
    Variable {
        name: "BODY_LIMIT_BYTES",
        default: "1048576",
        help: "largest accepted request body; larger ones get 413",
    },
    Variable {
        name: "REQUEST_TIMEOUT_SECS",
        default: "30",
        help: "a request still running after this long gets 503",
    },
    Variable {
        name: "SHUTDOWN_DELAY_SECS",
        default: "0",
        help: "after SIGTERM, how long readiness answers 503 while still serving, so a load balancer can stop sending traffic (5 in containers)",
    },
    Variable {
        name: "SHUTDOWN_GRACE_SECS",
        default: "20",
        help: "after SIGTERM, how long in-flight requests may take to finish",
    },
    Variable {
        name: "CONTENT_CACHE_MB",
        default: "8",
        help: "memory for cached public content (posts, lists, feeds), in MiB",
    },
    Variable {
        name: "SCHEDULER_INTERVAL_SECS",
        default: "1",
        help: "how often each replica looks for scheduled posts whose time has come",
    },
    Variable {
        name: "SHARE_COUNTER_SHARDS",
        default: "16",
        help: "rows each post's share count per network is spread over, so bursts do not queue on one row",
    },
    Variable {
        name: "PUBLIC_API_URL",
        default: "http://127.0.0.1:8080",
        help: "where visitors reach this API, for links in emails (confirm, unsubscribe)",
    },
    Variable {
        name: "SIGNING_SECRET",
        default: "",
        help: "secret for signed links (unsubscribe); set it in production, the same on every replica",
    },
    Variable {
        name: "SMTP_URL",
        default: "",
        help: "SMTP server, e.g. smtps://user:pass@mail.example.com; without it mail is kept and readable at GET /v1/admin/emails",
    },
    Variable {
        name: "MAIL_FROM",
        default: "frontdesk <frontdesk@localhost>",
        help: "the From of every email",
    },
    Variable {
        name: "TEAM_EMAIL",
        default: "",
        help: "who is told about new leads; the site profile's contact email when empty",
    },
    Variable {
        name: "FORM_RATE_LIMIT",
        default: "10",
        help: "submissions of each public form per client IP within FORM_RATE_WINDOW_SECS (then 429); 0 turns the limit off",
    },
    Variable {
        name: "FORM_RATE_WINDOW_SECS",
        default: "600",
        help: "the window of FORM_RATE_LIMIT",
    },
    Variable {
        name: "OUTBOX_WORKERS",
        default: "2",
        help: "concurrent deliveries (emails, webhooks) per replica",
    },
    Variable {
        name: "OUTBOX_POLL_MS",
        default: "1000",
        help: "how often idle workers look for due jobs (new jobs also wake them at once)",
    },
    Variable {
        name: "OUTBOX_MAX_ATTEMPTS",
        default: "8",
        help: "failed deliveries before a job is parked for an admin to retry",
    },
    Variable {
        name: "OUTBOX_RETRY_BASE_MS",
        default: "2000",
        help: "the first retry's delay; each further one doubles (capped at an hour)",
    },
    Variable {
        name: "WEBHOOK_TIMEOUT_SECS",
        default: "10",
        help: "how long a webhook receiver has to answer",
    },
    Variable {
        name: "SESSION_TTL_SECS",
        default: "43200",
        help: "lifetime of a login token",
    },
    Variable {
        name: "LOGIN_MAX_FAILURES",
        default: "5",
        help: "failed logins for one email within the window before logins are refused (429)",
    },
    Variable {
        name: "LOGIN_FAILURE_WINDOW_SECS",
        default: "900",
        help: "the window over which failed logins are counted",
    },
    Variable {
        name: "ASSISTANT_LLM_URL",
        default: "",
        help: "an OpenAI-compatible chat-completions API for the assistant, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama); empty: the built-in engine answers alone",
    },
    Variable {
        name: "ASSISTANT_LLM_MODEL",
        default: "gpt-4o-mini",
        help: "the model the assistant asks",
    },
    Variable {
        name: "ASSISTANT_LLM_KEY",
        default: "",
        help: "the API key sent as a bearer token to ASSISTANT_LLM_URL (secret)",
    },
    Variable {
        name: "ASSISTANT_LLM_TIMEOUT_SECS",
        default: "20",
        help: "how long one model request may take before the built-in engine answers instead",
    },
    Variable {
        name: "ASSISTANT_RATE_LIMIT",
        default: "200",
        help: "assistant conversations started plus messages sent per client IP within ASSISTANT_RATE_WINDOW_SECS (then 429); 0 turns it off",
    },
    Variable {
        name: "ASSISTANT_RATE_WINDOW_SECS",
        default: "3600",
        help: "the window of ASSISTANT_RATE_LIMIT",
    },
    Variable {
        name: "ASSISTANT_MESSAGES_PER_MINUTE",
        default: "20",
        help: "messages one conversation may send per minute (then 429); 0 turns it off",
    },
    Variable {
        name: "ASSISTANT_MAX_MESSAGE_CHARS",
        default: "2000",
        help: "the longest visitor message the assistant takes (longer: 422)",
    },
    Variable {
        name: "ASSISTANT_CONVERSATION_TTL_HOURS",
        default: "24",
        help: "how long a conversation can be continued; it is deleted a week after it expires",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected `text` or `json`".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub listen_addr: SocketAddr,
    pub log_format: LogFormat,
    pub cors_allowed_origins: Vec<HeaderValue>,
    pub trusted_proxies: Vec<IpNet>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_delay: Duration,
    pub shutdown_grace: Duration,
    pub content_cache_bytes: u64,
    pub scheduler_interval: Duration,
    pub share_counter_shards: i16,
    pub public_api_url: String,
    pub signing_secret: SecretString,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub team_email: Option<String>,
    pub form_rate_limit: u32,
    pub form_rate_window: Duration,
    pub outbox_workers: usize,
    pub outbox_poll: Duration,
    pub outbox_max_attempts: i32,
    pub outbox_retry_base: Duration,
    pub webhook_timeout: Duration,
    pub session_ttl: Duration,
    pub login_max_failures: u32,
    pub login_failure_window: Duration,
    pub assistant_llm_url: Option<String>,
    pub assistant_llm_model: String,
    pub assistant_llm_key: SecretString,
    pub assistant_llm_timeout: Duration,
    pub assistant_rate_limit: u32,
    pub assistant_rate_window: Duration,
    pub assistant_messages_per_minute: u32,
    /// The window of `assistant_messages_per_minute`: a minute (not a variable; tests widen it
    /// so that no window boundary falls inside them).
    pub assistant_message_window: Duration,
    pub assistant_max_message_chars: usize,
    pub assistant_ttl: Duration,
}

/// A configuration variable with a value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup: &lookup };
        Ok(Self {
            database_url: SecretString::from(vars.raw("DATABASE_URL")),
            database_max_connections: vars.parse("DATABASE_MAX_CONNECTIONS", positive)?,
            listen_addr: vars.parse("LISTEN_ADDR", any)?,
            log_format: vars.parse("LOG_FORMAT", any)?,
            cors_allowed_origins: vars.list("CORS_ALLOWED_ORIGINS", parse_origin)?,
            trusted_proxies: vars.list("TRUSTED_PROXIES", parse_net)?,
            body_limit_bytes: vars.parse("BODY_LIMIT_BYTES", positive)?,
            request_timeout: vars.seconds("REQUEST_TIMEOUT_SECS")?,
            shutdown_delay: vars
                .parse::<u64>("SHUTDOWN_DELAY_SECS", any)
                .map(Duration::from_secs)?,
            shutdown_grace: vars.seconds("SHUTDOWN_GRACE_SECS")?,
            content_cache_bytes: vars.parse::<u64>("CONTENT_CACHE_MB", positive)? << 20,
            scheduler_interval: vars.seconds("SCHEDULER_INTERVAL_SECS")?,
            share_counter_shards: vars.parse("SHARE_COUNTER_SHARDS", shard_count)?,
            public_api_url: vars
                .parse::<url::Url>("PUBLIC_API_URL", http_url)?
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            signing_secret: SecretString::from(vars.raw("SIGNING_SECRET")),
            smtp_url: vars.optional("SMTP_URL", smtp_url)?.map(SecretString::from),
            mail_from: vars
                .parse::<lettre::message::Mailbox>("MAIL_FROM", any)?
                .to_string(),
            team_email: vars.optional("TEAM_EMAIL", email)?,
            form_rate_limit: vars.parse("FORM_RATE_LIMIT", any)?,
            form_rate_window: vars.seconds("FORM_RATE_WINDOW_SECS")?,
            outbox_workers: vars.parse("OUTBOX_WORKERS", positive)?,
            outbox_poll: Duration::from_millis(vars.parse("OUTBOX_POLL_MS", positive)?),
            outbox_max_attempts: vars.parse("OUTBOX_MAX_ATTEMPTS", positive)?,
            outbox_retry_base: Duration::from_millis(vars.parse("OUTBOX_RETRY_BASE_MS", positive)?),
            webhook_timeout: vars.seconds("WEBHOOK_TIMEOUT_SECS")?,
            session_ttl: vars.seconds("SESSION_TTL_SECS")?,
            login_max_failures: vars.parse("LOGIN_MAX_FAILURES", positive)?,
            login_failure_window: vars.seconds("LOGIN_FAILURE_WINDOW_SECS")?,
            assistant_llm_url: vars
                .optional("ASSISTANT_LLM_URL", llm_url)?
                .map(|u| u.trim_end_matches('/').to_owned()),
            assistant_llm_model: vars.raw("ASSISTANT_LLM_MODEL"),
            assistant_llm_key: SecretString::from(vars.raw("ASSISTANT_LLM_KEY")),
            assistant_llm_timeout: vars.seconds("ASSISTANT_LLM_TIMEOUT_SECS")?,
            assistant_rate_limit: vars.parse("ASSISTANT_RATE_LIMIT", any)?,
            assistant_rate_window: vars.seconds("ASSISTANT_RATE_WINDOW_SECS")?,
            assistant_messages_per_minute: vars.parse("ASSISTANT_MESSAGES_PER_MINUTE", any)?,
            assistant_message_window: Duration::from_secs(60),
            assistant_max_message_chars: vars.parse("ASSISTANT_MAX_MESSAGE_CHARS", positive)?,
            assistant_ttl: Duration::from_secs(
                vars.parse::<u64>("ASSISTANT_CONVERSATION_TTL_HOURS", positive)? * 3600,
            ),
        })
    }

    /// The defaults, with another database: what tests use.
    pub fn with_database_url(url: &str) -> Self {
        let mut config = Self::from_lookup(|_| None).expect("the defaults are valid");
        config.database_url = SecretString::from(url.to_owned());
        config
    }

    /// Every variable with its effective value, secrets redacted, for `frontdesk config`.
    pub fn redacted(&self) -> Vec<(&'static str, String)> {
        let join = |items: Vec<String>| items.join(",");
        vec![
            (
                "DATABASE_URL",
                redact_url(self.database_url.expose_secret()),
            ),
            (
                "DATABASE_MAX_CONNECTIONS",
                self.database_max_connections.to_string(),
            ),
            ("LISTEN_ADDR", self.listen_addr.to_string()),
            (
                "LOG_FORMAT",
                match self.log_format {
                    LogFormat::Text => "text".into(),
                    LogFormat::Json => "json".into(),
                },
            ),
            (
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            ),
            (
                "CORS_ALLOWED_ORIGINS",
                join(
                    self.cors_allowed_origins
                        .iter()
                        .map(|o| o.to_str().unwrap_or_default().to_owned())
                        .collect(),
                ),
            ),
            (
                "TRUSTED_PROXIES",
                join(
                    self.trusted_proxies
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                ),
            ),
            ("BODY_LIMIT_BYTES", self.body_limit_bytes.to_string()),
            (
                "REQUEST_TIMEOUT_SECS",
                self.request_timeout.as_secs().to_string(),
            ),
            (
                "SHUTDOWN_DELAY_SECS",
                self.shutdown_delay.as_secs().to_string(),
            ),
            (
                "SHUTDOWN_GRACE_SECS",
                self.shutdown_grace.as_secs().to_string(),
            ),
            (
                "CONTENT_CACHE_MB",
                (self.content_cache_bytes >> 20).to_string(),
            ),
            (
                "SCHEDULER_INTERVAL_SECS",
                self.scheduler_interval.as_secs().to_string(),
            ),
            (
                "SHARE_COUNTER_SHARDS",
                self.share_counter_shards.to_string(),
            ),
            ("PUBLIC_API_URL", self.public_api_url.clone()),
            (
                "SIGNING_SECRET",
                if self.signing_secret.expose_secret().is_empty() {
                    "(not set: a development secret is used)".into()
                } else {
                    "(set, not shown)".into()
                },
            ),
            (
                "SMTP_URL",
                self.smtp_url
                    .as_ref()
                    .map_or_else(String::new, |u| redact_url(u.expose_secret())),
            ),
            ("MAIL_FROM", self.mail_from.clone()),
            ("TEAM_EMAIL", self.team_email.clone().unwrap_or_default()),
            ("FORM_RATE_LIMIT", self.form_rate_limit.to_string()),
            (
                "FORM_RATE_WINDOW_SECS",
                self.form_rate_window.as_secs().to_string(),
            ),
            ("OUTBOX_WORKERS", self.outbox_workers.to_string()),
            ("OUTBOX_POLL_MS", self.outbox_poll.as_millis().to_string()),
            ("OUTBOX_MAX_ATTEMPTS", self.outbox_max_attempts.to_string()),
            (
                "OUTBOX_RETRY_BASE_MS",
                self.outbox_retry_base.as_millis().to_string(),
            ),
            (
                "WEBHOOK_TIMEOUT_SECS",
                self.webhook_timeout.as_secs().to_string(),
            ),
            ("SESSION_TTL_SECS", self.session_ttl.as_secs().to_string()),
            ("LOGIN_MAX_FAILURES", self.login_max_failures.to_string()),
            (
                "LOGIN_FAILURE_WINDOW_SECS",
                self.login_failure_window.as_secs().to_string(),
            ),
            (
                "ASSISTANT_LLM_URL",
                self.assistant_llm_url
                    .as_deref()
                    .map_or_else(String::new, redact_url),
            ),
            ("ASSISTANT_LLM_MODEL", self.assistant_llm_model.clone()),
            (
                "ASSISTANT_LLM_KEY",
                if self.assistant_llm_key.expose_secret().is_empty() {
                    String::new()
                } else {
                    "(set, not shown)".into()
                },
            ),
            (
                "ASSISTANT_LLM_TIMEOUT_SECS",
                self.assistant_llm_timeout.as_secs().to_string(),
            ),
            (
                "ASSISTANT_RATE_LIMIT",
                self.assistant_rate_limit.to_string(),
            ),
            (
                "ASSISTANT_RATE_WINDOW_SECS",
                self.assistant_rate_window.as_secs().to_string(),
            ),
            (
                "ASSISTANT_MESSAGES_PER_MINUTE",
                self.assistant_messages_per_minute.to_string(),
            ),
            (
                "ASSISTANT_MAX_MESSAGE_CHARS",
                self.assistant_max_message_chars.to_string(),
            ),
            (
                "ASSISTANT_CONVERSATION_TTL_HOURS",
                (self.assistant_ttl.as_secs() / 3600).to_string(),
            ),
        ]
    }
}

/// Replaces the password of a URL, if any, so it can be printed.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("REDACTED"));
            }
            url.to_string()
        }
        Err(_) => "(unparseable URL, not shown)".into(),
    }
}

struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Vars<'_> {
    fn raw(&self, name: &'static str) -> String {
        (self.lookup)(name)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default_of(name).to_owned())
    }

    fn parse<T: FromStr>(
        &self,
        name: &'static str,
        check: fn(&T) -> Result<(), String>,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.raw(name);
        let parsed = value.trim().parse::<T>().map_err(|e| e.to_string());
        parsed
            .and_then(|v| check(&v).map(|()| v))
            .map_err(|reason| ConfigError {
                name,
                value,
                reason,
            })
    }

    /// A variable that may be left empty.
    fn optional(
        &self,
        name: &'static str,
        check: fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, ConfigError> {
        let value = self.raw(name);
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        check(value).map_err(|reason| ConfigError {
            name,
            value: if name.ends_with("_URL") {
                redact_url(value)
            } else {
                value.to_owned()
            },
            reason,
        })?;
        Ok(Some(value.to_owned()))
    }

    fn seconds(&self, name: &'static str) -> Result<Duration, ConfigError> {
        self.parse::<u64>(name, positive).map(Duration::from_secs)
    }

    fn list<T>(
        &self,
        name: &'static str,
        item: fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConfigError> {
        let value = self.raw(name);
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                item(s).map_err(|reason| ConfigError {
                    name,
                    value: value.clone(),
                    reason: format!("{s:?}: {reason}"),
                })
            })
            .collect()
    }
}

fn default_of(name: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|v| v.name == name)
        .map_or("", |v| v.default)
}

fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

fn positive<T: PartialEq + Default>(value: &T) -> Result<(), String> {
    if *value == T::default() {
        Err("must be greater than zero".into())
    } else {
        Ok(())
    }
}

fn http_url(url: &url::Url) -> Result<(), String> {
    if matches!(url.scheme(), "http" | "https") && url.host().is_some() {
        Ok(())
    } else {
        Err("expected an http(s) URL like https://api.example.com".into())
    }
}

fn smtp_url(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| e.to_string())?;
    if matches!(url.scheme(), "smtp" | "smtps") && url.host().is_some() {
        Ok(())
    } else {
        Err("expected smtp://host:port or smtps://user:password@host".into())
    }
}

fn llm_url(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| e.to_string())?;
    http_url(&url)
}

fn email(value: &str) -> Result<(), String> {
    if crate::validation::is_valid_email(value) {
        Ok(())
    } else {
        Err("expected an email address".into())
    }
}

fn shard_count(value: &i16) -> Result<(), String> {
    if (1..=256).contains(value) {
        Ok(())
    } else {
        Err("must be between 1 and 256".into())
    }
}

fn parse_origin(s: &str) -> Result<HeaderValue, String> {
    let url = url::Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("expected an origin like https://example.com".into());
    }
    HeaderValue::from_str(&url.origin().ascii_serialization()).map_err(|e| e.to_string())
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| "expected an IP address or a CIDR like 10.0.0.0/8".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_work_on_a_developer_machine() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.body_limit_bytes, 1024 * 1024);
        assert!(c.cors_allowed_origins.is_empty());
    }

    #[test]
    fn every_variable_has_a_default_entry_and_is_printed() {
        let c = config(&[]).expect("defaults");
        let printed: Vec<_> = c.redacted().into_iter().map(|(n, _)| n).collect();
        let declared: Vec<_> = VARIABLES.iter().map(|v| v.name).collect();
        assert_eq!(printed, declared);
    }

    #[test]
    fn env_example_lists_every_variable() {
        let example = include_str!("../.env.example");
        let listed: Vec<&str> = example
            .lines()
            .map(|l| l.trim_start_matches("# "))
            .filter_map(|l| l.split_once('=').map(|(name, _)| name))
            .collect();
        for variable in VARIABLES {
            assert!(
                listed.contains(&variable.name),
                "{} is missing from .env.example",
                variable.name
            );
        }
    }

    #[test]
    fn the_model_key_is_never_printed() {
        let c = config(&[
            ("ASSISTANT_LLM_URL", "https://user:pw@llm.example.com/v1/"),
            ("ASSISTANT_LLM_KEY", "sk-very-secret"),
        ])
        .expect("valid");
        assert_eq!(
            c.assistant_llm_url.as_deref(),
            Some("https://user:pw@llm.example.com/v1")
        );
        let printed = format!("{:?}", c.redacted());
        assert!(
            !printed.contains("sk-very-secret") && !printed.contains(":pw@"),
            "{printed}"
        );
        let bad = config(&[("ASSISTANT_LLM_URL", "ftp://user:pw@x")]).expect_err("not http");
        assert!(!bad.to_string().contains(":pw@"), "{bad}");
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let cases = [
            ("LISTEN_ADDR", "localhost"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("LOG_FORMAT", "xml"),
            ("TRUSTED_PROXIES", "10.0.0.0/8,nope"),
            ("CORS_ALLOWED_ORIGINS", "example.com"),
            ("REQUEST_TIMEOUT_SECS", "-1"),
            ("SMTP_URL", "http://mail.example.com"),
            ("PUBLIC_API_URL", "not a url"),
            ("MAIL_FROM", "nobody"),
        ];
        for (name, value) in cases {
            let err = config(&[(name, value)]).expect_err(name);
            assert_eq!(err.name, name);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn lists_are_parsed() {
        let c = config(&[
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://example.com/,http://localhost:3000",
            ),
        ])
        .expect("valid");
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.cors_allowed_origins[0], "https://example.com");
        assert_eq!(c.cors_allowed_origins[1], "http://localhost:3000");
    }

    #[test]
    fn smtp_passwords_are_never_printed() {
        let c = config(&[("SMTP_URL", "smtps://mailer:s3cret@mail.example.com")]).expect("valid");
        let printed = format!("{:?}", c.redacted());
        assert!(!printed.contains("s3cret"), "{printed}");
        let err = config(&[("SMTP_URL", "ftp://mailer:s3cret@mail.example.com")])
            .expect_err("bad scheme");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        let shown = redact_url("postgres://app:s3cret@db:5432/frontdesk");
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("REDACTED"));
    }
}
