//! The composition root: the one place that knows every capability. It reads the whole
//! configuration (the plumbing's and each capability's), builds each capability's state,
//! composes their routes and OpenAPI description, and starts the background work (the cache
//! listener, the job runner with its handlers, the scheduled publisher, housekeeping with
//! every capability's retention jobs).

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::db::Databases;
use axum::Router;
use axum::extract::FromRef;
use tokio::net::TcpListener;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::assistant::{AssistantConfig, AssistantState};
use crate::auth::{AuthConfig, AuthState};
use crate::blog::{BlogConfig, BlogState};
use crate::config::{self, ConfigError, CoreConfig, Entry, Reader};
use crate::jobs::{Handlers, Mailer, RetentionJob, Runner, WorkerSettings};
use crate::leads::{LeadsConfig, LeadsState};
use crate::newsletter::{NewsletterConfig, NewsletterState};
use crate::scheduling::{SchedulingConfig, SchedulingState};
use crate::signing::Signer;
use crate::state::Core;
use crate::web::{WebConfig, WebState};
use crate::webhooks::{WebhooksConfig, WebhooksState};

/// The whole configuration: the plumbing's (reachable directly: `config.http`, ...) and
/// each capability's.
#[derive(Debug, Clone)]
pub struct Config {
    pub core: CoreConfig,
    pub blog: BlogConfig,
    pub leads: LeadsConfig,
    pub scheduling: SchedulingConfig,
    pub auth: AuthConfig,
    pub assistant: AssistantConfig,
    pub webhooks: WebhooksConfig,
    pub newsletter: NewsletterConfig,
    pub web: WebConfig,
}

impl Deref for Config {
    type Target = CoreConfig;

    fn deref(&self) -> &CoreConfig {
        &self.core
    }
}

impl DerefMut for Config {
    fn deref_mut(&mut self) -> &mut CoreConfig {
        &mut self.core
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&mut Reader::new(&lookup))
    }

    /// Reads every variable, in the order `frontdesk config` and .env.example list them.
    pub fn read(r: &mut Reader) -> Result<Self, ConfigError> {
        Ok(Self {
            core: CoreConfig::read(r)?,
            blog: BlogConfig::read(r)?,
            leads: LeadsConfig::read(r)?,
            scheduling: SchedulingConfig::read(r)?,
            auth: AuthConfig::read(r)?,
            assistant: AssistantConfig::read(r)?,
            webhooks: WebhooksConfig::read(r)?,
            newsletter: NewsletterConfig::read(r)?,
            web: WebConfig::read(r)?,
        })
    }

    fn read_all(r: &mut Reader) -> Result<(), ConfigError> {
        Self::read(r).map(drop)
    }

    /// The defaults, with another database: what tests use.
    pub fn with_database_url(url: &str) -> Self {
        let mut config = Self::from_lookup(|_| None).expect("the defaults are valid");
        config.core.database.url = secrecy::SecretString::from(url.to_owned());
        config
    }
}

/// Every variable with the value in effect (secrets redacted), for `frontdesk config`.
pub fn describe(lookup: impl Fn(&str) -> Option<String>) -> Result<Vec<Entry>, ConfigError> {
    config::describe(Config::read_all, lookup)
}

pub fn variables() -> Vec<&'static config::Var> {
    config::variables(Config::read_all)
}

/// The text of `.env.example`.
pub fn env_example() -> String {
    config::env_example(Config::read_all)
}

/// The README's configuration table.
pub fn markdown_table() -> String {
    config::markdown_table(Config::read_all)
}

/// Everything a handler may extract: the plumbing's state and each capability's. Cloned
/// for every request (the router hands each handler its own), so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// What [`AppState`] holds.
pub struct AppParts {
    pub core: Core,
    pub config: Arc<Config>,
    pub blog: BlogState,
    pub leads: LeadsState,
    pub newsletter: NewsletterState,
    pub scheduling: SchedulingState,
    pub auth: AuthState,
    pub assistant: AssistantState,
    pub webhooks: WebhooksState,
    pub web: WebState,
}

impl Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl Deref for AppParts {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

/// Each part can be extracted on its own (`State<BlogState>`...).
macro_rules! parts {
    ($($field:ident: $type:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> Self {
                state.0.$field.clone()
            }
        })*
    };
}

parts!(
    core: Core,
    config: Arc<Config>,
    blog: BlogState,
    leads: LeadsState,
    newsletter: NewsletterState,
    scheduling: SchedulingState,
    auth: AuthState,
    assistant: AssistantState,
    webhooks: WebhooksState,
    web: WebState,
);

impl AppState {
    /// The state of a serving process; reads (or makes) the shared link-signing key.
    /// The state over one pool straight to Postgres (tests, tools).
    pub async fn new(pool: sqlx::PgPool, config: Config) -> anyhow::Result<Self> {
        Self::with_databases(Databases::single(pool), config).await
    }

    /// The state of a serving process over its pools; reads (or makes) the link-signing key.
    pub async fn with_databases(dbs: Databases, config: Config) -> anyhow::Result<Self> {
        let signer = Signer::load(&dbs.primary, config.signing_secret.as_ref()).await?;
        Self::with_signer(dbs, config, signer)
    }

    pub fn with_signer(dbs: Databases, config: Config, signer: Signer) -> anyhow::Result<Self> {
        let core = Core::with_signer(dbs, config.core.clone(), signer);
        let leads = LeadsState {
            config: Arc::new(config.leads.clone()),
        };
        let scheduling = SchedulingState {
            config: Arc::new(config.scheduling.clone()),
            leads: leads.config.clone(),
            calendars: crate::scheduling::Calendars::new(
                &core,
                config.scheduling.calendars.clone(),
            )?,
        };
        Ok(Self(Arc::new(AppParts {
            core,
            blog: BlogState::new(config.blog.clone()),
            newsletter: NewsletterState {
                form_limit: config.leads.form_limit,
                config: Arc::new(config.newsletter.clone()),
            },
            assistant: AssistantState::new(
                config.assistant.clone(),
                leads.clone(),
                scheduling.clone(),
            ),
            auth: AuthState {
                config: Arc::new(config.auth.clone()),
            },
            webhooks: WebhooksState {
                config: Arc::new(config.webhooks.clone()),
            },
            web: WebState::new(config.web.clone()),
            leads,
            scheduling,
            config: Arc::new(config),
        })))
    }

    /// Starts the background work of a serving process: the cache's change listener, the
    /// job runner (mail and webhook deliveries), the scheduler that publishes scheduled
    /// posts, and housekeeping. All stop at shutdown.
    pub fn start_background(&self) -> anyhow::Result<()> {
        let core = &self.core;
        let outbox = &core.config.outbox;
        let mailer = Mailer::from_config(&core.config.mail, outbox.workers)?;
        let handlers = Handlers::default()
            .with("email", mailer.clone())
            .with(
                crate::webhooks::JOB_KIND,
                crate::webhooks::Deliverer::new(core.db.clone(), &self.config.webhooks)?,
            )
            .with(
                crate::newsletter::START_JOB,
                crate::newsletter::Starter::new(core.clone(), self.newsletter.config.clone()),
            )
            .with(
                crate::newsletter::DELIVERY_JOB,
                crate::newsletter::Sender::new(core.clone(), mailer),
            )
            .with(
                crate::scheduling::REMINDER_JOB,
                crate::scheduling::Reminders::new(core.clone()),
            )
            .with(
                crate::scheduling::CALENDAR_JOB,
                crate::scheduling::CalendarWriter::new(
                    core.clone(),
                    self.scheduling.calendars.clone(),
                ),
            );
        let runner = Runner::new(
            core.db.clone(),
            handlers,
            WorkerSettings {
                workers: outbox.workers,
                poll: outbox.poll,
                retry_base: outbox.retry_base,
                lease: outbox.lease,
            },
        );
        tokio::spawn(runner.run(core.jobs.waker(), core.shutdown.clone()));
        tokio::spawn(crate::jobs::worker::housekeeping(
            core.db.clone(),
            retention_jobs(core.config.retention.days),
            core.shutdown.clone(),
        ));
        tokio::spawn(crate::memory::release_periodically(core.shutdown.clone()));
        tokio::spawn(core.cache.clone().listen(
            core.direct.clone(),
            core.db.clone(),
            core.shutdown.clone(),
        ));
        if let Some(replica) = &core.replica {
            tokio::spawn(
                replica
                    .clone()
                    .watch(core.db.clone(), core.shutdown.clone()),
            );
        }
        tokio::spawn(self.scheduling.calendars.clone().run(core.clone()));
        tokio::spawn(crate::blog::run_scheduler(
            core.clone(),
            self.config.blog.scheduler_interval,
        ));
        Ok(())
    }
}

/// What housekeeping removes, and after how long (`days`: RETENTION_DAYS).
pub fn retention_jobs(days: u32) -> Vec<RetentionJob> {
    vec![
        RetentionJob::new("idempotency keys", |db| async move {
            crate::idempotency::forget_old(&db).await
        }),
        RetentionJob::new("rate-limit windows", |db| async move {
            crate::rate_limit::forget_old(&db).await
        }),
        RetentionJob::new("expired assistant conversations", |db| async move {
            crate::assistant::forget_old(&db).await
        }),
        RetentionJob::new("old sessions", |db| async move {
            crate::auth::purge_sessions(&db).await
        }),
        RetentionJob::new("old login failures", |db| async move {
            crate::auth::forget_old_failures(&db).await
        }),
        RetentionJob::new("delivered outbox jobs", move |db| async move {
            crate::jobs::queue::purge_done(&db, days).await
        }),
        RetentionJob::new("webhook delivery logs", move |db| async move {
            crate::webhooks::purge_deliveries(&db, days).await
        }),
        RetentionJob::new("old bookings", move |db| async move {
            crate::scheduling::purge(&db, days).await
        }),
    ]
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "frontdesk",
        description = "The backend of a software consultancy's website. Errors are RFC 9457 \
                       problem+json; admin routes need `Authorization: Bearer <token>`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "site", description = "The firm's public profile"),
        (name = "services", description = "The services catalogue"),
        (name = "blog", description = "Posts, tags, authors, series, search, shares and feeds"),
        (name = "leads", description = "Consultation and plan requests"),
        (name = "newsletter", description = "Double opt-in newsletter"),
        (name = "scheduling", description = "Call types, free slots and bookings"),
        (name = "assistant", description = "The on-site assistant: conversations that answer from the site's content, prefill and send quote requests, and book calls"),
        (name = "auth", description = "Admin login"),
        (name = "admin", description = "Administration (bearer token)"),
        (name = "ops", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route of the API with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::ops::router())
        .merge(crate::site::router())
        .merge(crate::catalogue::router())
        .merge(crate::blog::router())
        .merge(crate::leads::router())
        .merge(crate::newsletter::router())
        .merge(crate::scheduling::router())
        .merge(crate::assistant::router())
        .merge(crate::webhooks::router())
        .merge(crate::privacy::router())
        .merge(crate::auth::router())
        .merge(crate::web::router())
}

/// The OpenAPI document, as served at /openapi.json.
pub fn openapi() -> OpenApiDoc {
    api_routes().into_openapi()
}

/// The whole application: routes and middleware. Tests drive exactly this router.
pub fn build_router(state: AppState) -> Router {
    let (routes, openapi) = api_routes().split_for_parts();
    let config = state.config.clone();
    let app = routes
        .merge(crate::blog::ghost_content_router())
        .with_state(state)
        .merge(crate::ops::docs_router(openapi));
    crate::http::with_middleware(app, &config)
}

/// Serves the application on `listener` until `shutdown` completes, then drains (see
/// [`crate::http::server`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = build_router(state.clone());
    // Building the router and its OpenAPI document freed a few MB the process won't reuse.
    crate::memory::release_free_memory();
    crate::http::serve_router(listener, router, state.core.clone(), shutdown).await
}

/// Serves /metrics on its own listener (METRICS_ADDR) until shutdown.
pub async fn serve_metrics(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let router = crate::ops::metrics_router(state.core.clone());
    crate::http::serve_metrics(listener, router, state.core.clone()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, redact_url};
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn shown(vars: &[(&str, &str)]) -> String {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        format!(
            "{:?}",
            describe(|name| map.get(name).cloned()).expect("valid")
        )
    }

    #[test]
    fn defaults_work_on_a_developer_machine() {
        let c = config(&[]).expect("defaults");
        assert_eq!(
            c.database.url(),
            "postgres://postgres@127.0.0.1:5432/frontdesk?sslmode=disable"
        );
        assert_eq!(c.http.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.http.body_limit_bytes, 1024 * 1024);
        assert!(c.http.cors_allowed_origins.is_empty());
        assert_eq!(
            c.http.metrics_addr.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9464")
        );
        assert!(c.signing_secret.is_none());
    }

    #[test]
    fn the_public_url_follows_the_listen_address_unless_set() {
        let c = config(&[("LISTEN_ADDR", "127.0.0.1:9191")]).expect("valid");
        assert_eq!(c.http.public_api_url, "http://127.0.0.1:9191");
        let c = config(&[("LISTEN_ADDR", "0.0.0.0:8080")]).expect("valid");
        assert_eq!(c.http.public_api_url, "http://127.0.0.1:8080");
        let c = config(&[
            ("LISTEN_ADDR", "0.0.0.0:8080"),
            ("PUBLIC_API_URL", "https://api.example.com/"),
        ])
        .expect("valid");
        assert_eq!(c.http.public_api_url, "https://api.example.com");
    }

    #[test]
    fn every_variable_is_declared_once() {
        let names: Vec<_> = variables().iter().map(|v| v.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
        assert!(names.len() > 40, "{names:?}");
    }

    #[test]
    fn env_example_is_made_from_the_declarations() {
        assert_eq!(
            include_str!("../.env.example"),
            env_example(),
            "regenerate it: cargo run -q -- config --env-example > .env.example"
        );
    }

    #[test]
    fn the_readme_table_is_made_from_the_declarations() {
        let readme = include_str!("../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's configuration table differs; regenerate it with `cargo run -q -- config --markdown`:\n{table}"
        );
    }

    #[test]
    fn secrets_are_never_shown() {
        let printed = shown(&[
            ("ASSISTANT_LLM_URL", "https://user:pw@llm.example.com/v1/"),
            ("ASSISTANT_LLM_KEY", "sk-very-secret"),
            ("SIGNING_SECRET", "a-signing-secret-of-some-length"),
            ("SMTP_URL", "smtps://mailer:s3cret@mail.example.com"),
            ("DATABASE_URL", "postgres://app:hunter22@db:5432/frontdesk"),
        ]);
        for secret in [
            "sk-very-secret",
            ":pw@",
            "a-signing-secret",
            "s3cret",
            "hunter22",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        let bad = config(&[("ASSISTANT_LLM_URL", "ftp://user:pw@x")]).expect_err("not http");
        assert!(!bad.to_string().contains(":pw@"), "{bad}");
        let bad = config(&[("SMTP_URL", "ftp://mailer:s3cret@mail.example.com")])
            .expect_err("bad scheme");
        assert!(!bad.to_string().contains("s3cret"), "{bad}");
    }

    #[test]
    fn the_model_url_loses_its_trailing_slash() {
        let c = config(&[("ASSISTANT_LLM_URL", "https://llm.example.com/v1/")]).expect("valid");
        assert_eq!(
            c.assistant.llm_url.as_deref(),
            Some("https://llm.example.com/v1")
        );
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
            ("METRICS_ADDR", "everywhere"),
            ("WEBHOOK_ALLOW_PRIVATE", "maybe"),
            ("TEAM_EMAIL", "Team <team@example.com>"),
            ("DATABASE_POOLER", "session"),
            ("DATABASE_READ_MAX_LAG_SECS", "0"),
            ("MIGRATE_ON_START", "later"),
        ];
        for (name, value) in cases {
            let err = config(&[(name, value)]).expect_err(name);
            assert_eq!(err.name, name);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn a_transaction_pooler_needs_a_direct_url() {
        let err = config(&[("DATABASE_POOLER", "transaction")]).expect_err("no direct url");
        assert_eq!(err.name, "DATABASE_DIRECT_URL");
        assert!(err.to_string().contains("LISTEN"), "{err}");
        let ok = config(&[
            ("DATABASE_POOLER", "transaction"),
            ("DATABASE_URL", "postgres://app@pgbouncer:6432/frontdesk"),
            (
                "DATABASE_DIRECT_URL",
                "postgres://app@primary:5432/frontdesk",
            ),
            ("DATABASE_READ_URL", "postgres://app@standby:5432/frontdesk"),
        ])
        .expect("valid");
        assert_eq!(ok.database.pooler, crate::config::Pooler::Transaction);
        assert!(ok.database.read_url.is_some());
        assert_eq!(
            ok.database.direct_url().expose_secret(),
            "postgres://app@primary:5432/frontdesk"
        );
    }

    #[test]
    fn lists_limits_and_flags_are_parsed() {
        let c = config(&[
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://example.com/,http://localhost:3000",
            ),
            ("FORM_RATE_LIMIT", "0"),
            ("WEBHOOK_ALLOW_PRIVATE", "true"),
            ("METRICS_ADDR", "off"),
        ])
        .expect("valid");
        assert_eq!(c.http.trusted_proxies.len(), 2);
        assert_eq!(c.http.cors_allowed_origins[0], "https://example.com");
        assert_eq!(c.http.cors_allowed_origins[1], "http://localhost:3000");
        assert_eq!(c.leads.form_limit.max, 0);
        assert!(c.webhooks.allow_private);
        assert!(c.http.metrics_addr.is_none());
    }

    #[test]
    fn passwords_are_redacted() {
        let shown = redact_url("postgres://app:s3cret@db:5432/frontdesk");
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("REDACTED"));
    }
}
