//! Configuration from environment variables, with defaults that work on a developer machine.
//!
//! Each variable is declared once, where it is read: its name, default, meaning and whether
//! it is a secret (the [`var!`] and [`secret!`] macros). Reading the configuration records
//! every variable in order, so `frontdesk config`, `.env.example` and the README's table are
//! all made from that one list ([`describe`], [`env_example`], [`markdown_table`]; tests
//! check the committed files agree).

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use axum::http::HeaderValue;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use crate::rate_limit::Limit;

/// One configuration variable.
#[derive(Debug)]
pub struct Var {
    pub name: &'static str,
    /// The value used when the variable is unset or empty (`""`: none).
    pub default: &'static str,
    /// What it does, for `frontdesk config`, .env.example and the README.
    pub help: &'static str,
    /// Never printed.
    pub secret: bool,
}

/// Declares a variable where it is read: `var!("NAME", "default", "what it does")`.
#[macro_export]
macro_rules! var {
    ($name:literal, $default:literal, $help:literal) => {
        &$crate::config::Var {
            name: $name,
            default: $default,
            help: $help,
            secret: false,
        }
    };
}

/// Declares a secret variable (never printed).
#[macro_export]
macro_rules! secret {
    ($name:literal, $help:literal) => {
        &$crate::config::Var {
            name: $name,
            default: "",
            help: $help,
            secret: true,
        }
    };
}

/// A configuration variable with a value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

/// What reading the configuration saw, in order: section titles and variables with the
/// value in effect (secrets and URL passwords redacted).
#[derive(Debug, Clone)]
pub enum Entry {
    Section(&'static str),
    Var(&'static Var, String),
}

/// Reads variables from a source (the environment, or a test's map), recording each.
pub struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    entries: Vec<Entry>,
}

impl<'a> Reader<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            entries: Vec::new(),
        }
    }

    pub fn entries(self) -> Vec<Entry> {
        self.entries
    }

    /// Starts a group of variables (a heading in .env.example and the README).
    pub fn section(&mut self, title: &'static str) {
        self.entries.push(Entry::Section(title));
    }

    /// The raw value: the variable if set and not blank, else its default.
    pub fn raw(&mut self, var: &'static Var) -> String {
        let value = (self.lookup)(var.name)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| var.default.to_owned());
        let shown = if var.secret {
            if value.is_empty() {
                String::new()
            } else {
                "(set, not shown)".to_owned()
            }
        } else if var.name.ends_with("_URL") && !value.is_empty() {
            redact_url(&value)
        } else {
            value.clone()
        };
        self.entries.push(Entry::Var(var, shown));
        value
    }

    pub fn parse<T: FromStr>(
        &mut self,
        var: &'static Var,
        check: fn(&T) -> Result<(), String>,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.raw(var);
        let parsed = value.trim().parse::<T>().map_err(|e| e.to_string());
        parsed
            .and_then(|v| check(&v).map(|()| v))
            .map_err(|reason| invalid(var, &value, reason))
    }

    /// A variable that may be left empty.
    pub fn optional(
        &mut self,
        var: &'static Var,
        check: fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, ConfigError> {
        let value = self.raw(var);
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        check(value).map_err(|reason| invalid(var, value, reason))?;
        Ok(Some(value.to_owned()))
    }

    /// Whole seconds, more than zero.
    pub fn seconds(&mut self, var: &'static Var) -> Result<Duration, ConfigError> {
        self.parse::<u64>(var, positive).map(Duration::from_secs)
    }

    /// Whole seconds, zero allowed.
    pub fn seconds_or_zero(&mut self, var: &'static Var) -> Result<Duration, ConfigError> {
        self.parse::<u64>(var, any).map(Duration::from_secs)
    }

    pub fn millis(&mut self, var: &'static Var) -> Result<Duration, ConfigError> {
        self.parse::<u64>(var, positive).map(Duration::from_millis)
    }

    /// `true`/`false` (also 1/0, yes/no, on/off).
    pub fn flag(&mut self, var: &'static Var) -> Result<bool, ConfigError> {
        let value = self.raw(var);
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(invalid(var, &value, "expected true or false".to_owned())),
        }
    }

    /// A rate limit: hits per window; a limit of 0 turns it off.
    pub fn limit(&mut self, max: &'static Var, window: &'static Var) -> Result<Limit, ConfigError> {
        Ok(Limit {
            max: self.parse(max, any)?,
            window: self.seconds(window)?,
        })
    }

    pub fn list<T>(
        &mut self,
        var: &'static Var,
        item: fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConfigError> {
        let value = self.raw(var);
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| item(s).map_err(|reason| invalid(var, &value, format!("{s:?}: {reason}"))))
            .collect()
    }
}

fn invalid(var: &'static Var, value: &str, reason: String) -> ConfigError {
    ConfigError {
        name: var.name,
        // A URL's password never reaches a message.
        value: if var.secret {
            "(secret)".to_owned()
        } else if var.name.ends_with("_URL") {
            redact_url(value)
        } else {
            value.to_owned()
        },
        reason,
    }
}

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

/// What sits between the service and Postgres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooler {
    /// DATABASE_URL reaches Postgres itself (or a session-mode pooler).
    None,
    /// A transaction-mode pooler such as PgBouncer: see `crate::db::pooled`.
    Transaction,
}

impl FromStr for Pooler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "none" => Ok(Self::None),
            "transaction" => Ok(Self::Transaction),
            _ => Err("expected `none` or `transaction`".into()),
        }
    }
}

/// The database.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
    pub pooler: Pooler,
    /// Postgres itself, for LISTEN and migrations; `None`: DATABASE_URL.
    pub direct_url: Option<SecretString>,
    /// A streaming replica for public reads.
    pub read_url: Option<SecretString>,
    pub read_max_lag: Duration,
    pub migrate_on_start: bool,
}

impl DatabaseConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Database");
        let url = SecretString::from(r.raw(var!(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/frontdesk?sslmode=disable",
            "Postgres URL (or a pooler's); the database is created if missing and migrated at start"
        )));
        let max_connections = r.parse(
            var!("DATABASE_MAX_CONNECTIONS", "16", "connection pool size"),
            positive,
        )?;
        let pooler_var = var!(
            "DATABASE_POOLER",
            "none",
            "`transaction` when DATABASE_URL is a transaction-mode pooler (PgBouncer): no statement cache, each statement in a transaction of its own; needs DATABASE_DIRECT_URL"
        );
        let pooler: Pooler = r.parse(pooler_var, any)?;
        let direct_url_var = var!(
            "DATABASE_DIRECT_URL",
            "",
            "Postgres itself, for LISTEN/NOTIFY (cache invalidation) and migrations, which no transaction pooler carries; empty: DATABASE_URL"
        );
        let direct_url = Some(r.raw(direct_url_var))
            .filter(|s| !s.trim().is_empty())
            .map(SecretString::from);
        if pooler == Pooler::Transaction && direct_url.is_none() {
            return Err(ConfigError {
                name: direct_url_var.name,
                value: String::new(),
                reason: "DATABASE_POOLER=transaction needs DATABASE_DIRECT_URL (the primary itself): a transaction pooler drops LISTEN/NOTIFY and the migrations' advisory lock".into(),
            });
        }
        let read_url = Some(r.raw(var!(
            "DATABASE_READ_URL",
            "",
            "a streaming replica for public reads (posts, lists, search, feeds, slots); bypassed while down or more than DATABASE_READ_MAX_LAG_SECS behind; empty: none"
        )))
        .filter(|s| !s.trim().is_empty())
        .map(SecretString::from);
        let read_max_lag = r.seconds(var!(
            "DATABASE_READ_MAX_LAG_SECS",
            "5",
            "how far behind the primary the read replica may be and still serve reads"
        ))?;
        let migrate_on_start = r.flag(var!(
            "MIGRATE_ON_START",
            "true",
            "apply pending migrations when `serve` starts (under an advisory lock, so replicas may start together); false when a separate `frontdesk migrate` job does it"
        ))?;
        Ok(Self {
            url,
            max_connections,
            pooler,
            direct_url,
            read_url,
            read_max_lag,
            migrate_on_start,
        })
    }

    /// The URL of Postgres itself.
    pub fn direct_url(&self) -> &SecretString {
        self.direct_url.as_ref().unwrap_or(&self.url)
    }
}

/// The HTTP server and what every request passes through.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub listen_addr: SocketAddr,
    /// Where visitors reach this API, for links in emails and replies; no trailing slash.
    pub public_api_url: String,
    pub cors_allowed_origins: Vec<HeaderValue>,
    pub trusted_proxies: Vec<IpNet>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_delay: Duration,
    pub shutdown_grace: Duration,
    /// Where /metrics is served; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
}

impl HttpConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("HTTP");
        let listen_addr: SocketAddr = r.parse(
            var!(
                "LISTEN_ADDR",
                "127.0.0.1:8080",
                "address and port the HTTP server binds (0.0.0.0:8080 in containers)"
            ),
            any,
        )?;
        let public_api_url = r
            .optional(
                var!(
                    "PUBLIC_API_URL",
                    "",
                    "where visitors reach this API, for links in emails and the assistant's replies; when empty, http:// and LISTEN_ADDR (127.0.0.1 for an unspecified address)"
                ),
                http_url,
            )?
            .map_or_else(
                || {
                    let mut addr = listen_addr;
                    if addr.ip().is_unspecified() {
                        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                    }
                    format!("http://{addr}")
                },
                |url| url.trim_end_matches('/').to_owned(),
            );
        Ok(Self {
            listen_addr,
            public_api_url,
            cors_allowed_origins: r.list(
                var!(
                    "CORS_ALLOWED_ORIGINS",
                    "",
                    "comma-separated browser origins allowed to call the API, e.g. https://example.com"
                ),
                parse_origin,
            )?,
            trusted_proxies: r.list(
                var!(
                    "TRUSTED_PROXIES",
                    "",
                    "comma-separated IPs or CIDRs of proxies whose X-Forwarded-For is believed"
                ),
                parse_net,
            )?,
            body_limit_bytes: r.parse(
                var!(
                    "BODY_LIMIT_BYTES",
                    "1048576",
                    "largest accepted request body; larger ones get 413"
                ),
                positive,
            )?,
            request_timeout: r.seconds(var!(
                "REQUEST_TIMEOUT_SECS",
                "30",
                "a request still running after this long gets 503"
            ))?,
            header_read_timeout: r.seconds(var!(
                "HEADER_READ_TIMEOUT_SECS",
                "15",
                "a connection must send each request's headers within this time (also the idle limit of a kept-alive connection; keep a balancer's upstream keep-alive timeout below it)"
            ))?,
            max_connections: r.parse(
                var!(
                    "MAX_CONNECTIONS",
                    "10000",
                    "connections served at once; further ones wait in the listen backlog"
                ),
                positive,
            )?,
            shutdown_delay: r.seconds_or_zero(var!(
                "SHUTDOWN_DELAY_SECS",
                "0",
                "after SIGTERM, seconds readiness answers 503 while still serving with `Connection: close` (5 in the image)"
            ))?,
            shutdown_grace: r.seconds(var!(
                "SHUTDOWN_GRACE_SECS",
                "20",
                "then, seconds in-flight requests may take to finish"
            ))?,
            metrics_addr: r
                .optional(
                    var!(
                        "METRICS_ADDR",
                        "127.0.0.1:9464",
                        "address of the Prometheus /metrics listener, apart from the API; `off` for none"
                    ),
                    socket_addr_or_off,
                )?
                .filter(|v| v != "off")
                .and_then(|v| v.parse().ok()),
        })
    }
}

/// Logs.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
}

impl LogConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Logs");
        let format = r.parse(
            var!(
                "LOG_FORMAT",
                "text",
                "`text` for terminals, `json` for log collectors"
            ),
            any,
        )?;
        // Read by tracing-subscriber itself; listed so that it is documented and printed.
        r.raw(var!(
            "RUST_LOG",
            "info",
            "log filter, e.g. `info,frontdesk=debug`"
        ));
        Ok(Self { format })
    }
}

/// Outgoing mail.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_url: Option<SecretString>,
    pub from: String,
}

impl MailConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Mail");
        Ok(Self {
            smtp_url: r
                .optional(
                    var!(
                        "SMTP_URL",
                        "",
                        "SMTP server, e.g. smtps://user:password@mail.example.com; without it mail is kept and readable at GET /v1/admin/emails"
                    ),
                    smtp_url,
                )?
                .map(SecretString::from),
            from: r
                .parse::<lettre::message::Mailbox>(
                    var!(
                        "MAIL_FROM",
                        "frontdesk <frontdesk@localhost>",
                        "the From of every email"
                    ),
                    any,
                )?
                .to_string(),
        })
    }
}

/// The job runner and webhook deliveries.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub workers: usize,
    pub poll: Duration,
    pub max_attempts: i32,
    pub retry_base: Duration,
    /// How long a claimed job is a worker's; a running delivery renews it.
    pub lease: Duration,
}

impl OutboxConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Outbox");
        Ok(Self {
            workers: r.parse(
                var!(
                    "OUTBOX_WORKERS",
                    "2",
                    "concurrent deliveries (emails, webhooks) per replica"
                ),
                positive,
            )?,
            poll: r.millis(var!(
                "OUTBOX_POLL_MS",
                "1000",
                "how often idle workers look for due jobs (new jobs wake them at once)"
            ))?,
            max_attempts: r.parse(
                var!(
                    "OUTBOX_MAX_ATTEMPTS",
                    "8",
                    "failed deliveries before a job is parked for an admin to retry"
                ),
                positive,
            )?,
            retry_base: r.millis(var!(
                "OUTBOX_RETRY_BASE_MS",
                "2000",
                "the first retry's delay; each further one doubles (at most an hour)"
            ))?,
            lease: r.seconds(var!(
                "OUTBOX_LEASE_SECS",
                "15",
                "how long a claimed job is a worker's; a running delivery renews it, so a crashed replica's jobs are delivered again after at most this long"
            ))?,
        })
    }
}

/// What is kept, and for how long.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Done outbox jobs (with the emails they held), webhook delivery logs and cancelled or
    /// past bookings older than this are deleted.
    pub days: u32,
}

impl RetentionConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Retention");
        Ok(Self {
            days: r.parse(
                var!(
                    "RETENTION_DAYS",
                    "90",
                    "days kept: sent emails and delivered webhooks (done outbox jobs), webhook delivery logs, cancelled bookings and bookings long past; expired sessions go after a day"
                ),
                positive,
            )?,
        })
    }
}

/// The content cache.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub max_bytes: u64,
    /// The most memory the in-process search index may take; 0: searches go to Postgres.
    pub search_index_max_bytes: usize,
}

impl CacheConfig {
    fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        r.section("Content cache");
        Ok(Self {
            max_bytes: r.parse::<u64>(
                var!(
                    "CONTENT_CACHE_MB",
                    "8",
                    "memory for cached public content, in MiB (a post page is a few KiB; lists, feeds and pages share seven eighths, searches the last eighth, least used out first in each)"
                ),
                positive,
            )? << 20,
            search_index_max_bytes: r.parse::<usize>(
                var!(
                    "SEARCH_INDEX_MB",
                    "16",
                    "memory for the in-process search index, in MiB (about 1 MiB per 1,000 short posts); content that outgrows it is searched by Postgres alone, as everything is when 0"
                ),
                |_: &usize| Ok(()),
            )?
            .saturating_mul(1 << 20),
        })
    }
}

/// The configuration of the shared plumbing; each capability reads its own part (see
/// `frontdesk::Config`).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    /// Signs links in emails; `None`: a random secret made on first start and kept in the
    /// database, so every replica shares it.
    pub signing_secret: Option<SecretString>,
    pub cache: CacheConfig,
    pub mail: MailConfig,
    pub outbox: OutboxConfig,
    pub retention: RetentionConfig,
}

impl CoreConfig {
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        let database = DatabaseConfig::read(r)?;
        let http = HttpConfig::read(r)?;
        let log = LogConfig::read(r)?;
        r.section("Secrets");
        let signing_secret = Some(r.raw(secret!(
            "SIGNING_SECRET",
            "signs links in emails (unsubscribe, manage a booking) and seals the calendar passwords kept in the database (changing it means entering them again); when empty, a random secret is made on first start and kept in the database, shared by every replica"
        )))
        .filter(|s| !s.is_empty())
        .map(SecretString::from);
        Ok(Self {
            database,
            http,
            log,
            signing_secret,
            cache: CacheConfig::read(r)?,
            mail: MailConfig::read(r)?,
            outbox: OutboxConfig::read(r)?,
            retention: RetentionConfig::read(r)?,
        })
    }
}

/// Reads a whole configuration (the application's: see `frontdesk::Config::read`).
pub type ReadAll = fn(&mut Reader) -> Result<(), ConfigError>;

/// Every variable with the value in effect (secrets redacted), grouped, for `frontdesk config`.
/// Reading stops at the first invalid value, which is returned instead.
pub fn describe(
    read: ReadAll,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, ConfigError> {
    let mut reader = Reader::new(&lookup);
    read(&mut reader)?;
    Ok(reader.entries())
}

/// Every variable, in order.
pub fn variables(read: ReadAll) -> Vec<&'static Var> {
    describe(read, |_| None)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| match entry {
            Entry::Var(var, _) => Some(var),
            Entry::Section(_) => None,
        })
        .collect()
}

/// The text of `.env.example`: every variable with its default and meaning.
pub fn env_example(read: ReadAll) -> String {
    let mut out = String::from(
        "# frontdesk reads its configuration from environment variables; every one has a default\n\
         # that works on a developer machine. `frontdesk config` prints the effective values, and\n\
         # `frontdesk config --env-example` prints this file.\n",
    );
    for entry in describe(read, |_| None).unwrap_or_default() {
        match entry {
            Entry::Section(title) => out.push_str(&format!("\n## {title}\n")),
            Entry::Var(var, _) => {
                out.push_str(&format!("# {}\n{}={}\n", var.help, var.name, var.default));
            }
        }
    }
    out
}

/// The README's configuration table.
pub fn markdown_table(read: ReadAll) -> String {
    let mut out = String::from("| Variable | Default | Meaning |\n| --- | --- | --- |\n");
    for entry in describe(read, |_| None).unwrap_or_default() {
        if let Entry::Var(var, _) = entry {
            let default = if var.default.is_empty() {
                "(none)".to_owned()
            } else {
                format!("`{}`", var.default)
            };
            out.push_str(&format!(
                "| `{}` | {default} | {} |\n",
                var.name,
                var.help.replace('|', "\\|")
            ));
        }
    }
    out
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

pub fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

pub fn positive<T: PartialEq + Default>(value: &T) -> Result<(), String> {
    if *value == T::default() {
        Err("must be greater than zero".into())
    } else {
        Ok(())
    }
}

pub fn http_url(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| e.to_string())?;
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

pub fn llm_url(value: &str) -> Result<(), String> {
    http_url(value)
}

fn socket_addr_or_off(value: &str) -> Result<(), String> {
    if value == "off" || value.parse::<SocketAddr>().is_ok() {
        Ok(())
    } else {
        Err("expected an address and port like 127.0.0.1:9464, or `off`".into())
    }
}

pub fn email(value: &str) -> Result<(), String> {
    crate::validation::parse_email(value)
        .map(|_| ())
        .map_err(|_| "expected an email address like team@example.com".into())
}

pub fn shard_count(value: &i16) -> Result<(), String> {
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

impl DatabaseConfig {
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}
