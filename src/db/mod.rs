//! Connecting to Postgres: create the database if it is missing, open the pools (the one
//! every query uses, perhaps through a pooler; a direct one for LISTEN and migrations; a
//! read replica's), migrate; and the unit of work.

mod pooled;
pub mod replica;

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

pub use pooled::Db;
pub use replica::Replica;

use crate::config::{DatabaseConfig, Pooler};

/// The migrations in migrations/, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Why the service could not get a working database; printed as one line at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error(
        "cannot reach Postgres at {target} ({cause}). Set DATABASE_URL to a reachable Postgres (see .env.example), or start one with `docker compose up -d db`."
    )]
    Unreachable { target: String, cause: String },
    #[error(
        "DATABASE_URL is not a valid Postgres URL ({0}); expected postgres://user:password@host:5432/database"
    )]
    InvalidUrl(String),
    #[error("migrating the database at {target} failed: {cause}")]
    Migration { target: String, cause: String },
    #[error("{0}")]
    Pooler(String),
}

/// Host, port and database of the URL, for messages; never the password.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{} (database {})",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    )
}

fn unreachable(target: &str, err: &sqlx::Error) -> DbSetupError {
    let cause = match err {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out".to_owned(),
        other => other.to_string(),
    };
    DbSetupError::Unreachable {
        target: target.to_owned(),
        cause,
    }
}

/// The pools a serving process uses.
pub struct Databases {
    /// Every query's pool (through the pooler, when there is one).
    pub primary: Db,
    /// Postgres itself: LISTEN and migrations. The primary's pool when there is no pooler.
    pub direct: PgPool,
    /// The read replica's pool, when DATABASE_READ_URL is set.
    pub read: Option<Db>,
}

impl Databases {
    /// One pool straight to Postgres for everything (tests, tools).
    pub fn single(pool: PgPool) -> Self {
        Self {
            primary: Db::direct(pool.clone()),
            direct: pool,
            read: None,
        }
    }
}

fn options(url: &SecretString) -> Result<PgConnectOptions, DbSetupError> {
    PgConnectOptions::from_str(url.expose_secret())
        .map_err(|e| DbSetupError::InvalidUrl(e.to_string()))
}

/// Opens the pools, creating the database first (directly) if it does not exist yet.
pub async fn connect(config: &DatabaseConfig) -> Result<Databases, DbSetupError> {
    let direct_options = options(config.direct_url())?.application_name("frontdesk-direct");
    let direct_target = describe(&direct_options);
    let pooled = config.pooler == Pooler::Transaction;
    create_database_if_missing(config.direct_url().expose_secret())
        .await
        .map_err(|e| explain_pooler(unreachable(&direct_target, &e), &e, pooled))?;
    let mut primary_options = options(&config.url)?.application_name("frontdesk");
    if pooled {
        // A pooler refuses start-up parameters it does not know, and keeps no statements.
        primary_options = primary_options
            .extra_float_digits(None)
            .statement_cache_capacity(0);
    }
    let primary_target = describe(&primary_options);
    let primary = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(primary_options)
        .await
        .map_err(|e| explain_pooler(unreachable(&primary_target, &e), &e, pooled))?;

    let direct = if config.direct_url.is_some() {
        // LISTEN holds one connection; migrations take another for their lock.
        PgPoolOptions::new()
            .max_connections(3)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(direct_options)
            .await
            .map_err(|e| unreachable(&direct_target, &e))?
    } else {
        primary.clone()
    };

    let read = match &config.read_url {
        None => None,
        Some(url) => {
            let read_options = options(url)?.application_name("frontdesk-read");
            // Lazily: a replica that is down must not keep the service from starting.
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(Duration::from_secs(2))
                .connect_lazy_with(read_options);
            Some(Db::direct(pool))
        }
    };
    Ok(Databases {
        primary: Db::new(primary, pooled),
        direct,
        read,
    })
}

/// A small pool on Postgres itself, on another database of its server (tools that make and
/// drop databases of their own).
pub async fn database_pool(
    config: &DatabaseConfig,
    database: &str,
) -> Result<PgPool, DbSetupError> {
    let options = options(config.direct_url())?.database(database);
    let target = describe(&options);
    PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| unreachable(&target, &e))
}

/// [`database_pool`] on the server's `postgres` database.
pub async fn server_pool(config: &DatabaseConfig) -> Result<PgPool, DbSetupError> {
    database_pool(config, "postgres").await
}

/// A connection a pooler refused for a start-up parameter it does not know: say what to set.
fn explain_pooler(default: DbSetupError, err: &sqlx::Error, pooled: bool) -> DbSetupError {
    let refused = match err {
        sqlx::Error::Database(db) => db.message().contains("unsupported startup parameter"),
        other => other.to_string().contains("unsupported startup parameter"),
    };
    if refused && !pooled {
        DbSetupError::Pooler(
            "DATABASE_URL leads to a connection pooler (it refused a start-up parameter, as PgBouncer does): set DATABASE_POOLER=transaction and DATABASE_DIRECT_URL to Postgres itself".into(),
        )
    } else {
        default
    }
}

async fn create_database_if_missing(url: &str) -> Result<(), sqlx::Error> {
    if Postgres::database_exists(url).await? {
        return Ok(());
    }
    tracing::info!("the database does not exist yet; creating it");
    match Postgres::create_database(url).await {
        // Another replica starting at the same moment may have created it first.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => Ok(()),
        other => other,
    }
}

/// Applies pending migrations on a direct connection. sqlx takes an advisory lock, so
/// replicas may start together.
pub async fn migrate(direct: &PgPool, config: &DatabaseConfig) -> Result<(), DbSetupError> {
    MIGRATOR
        .run(direct)
        .await
        .map_err(|e| DbSetupError::Migration {
            target: PgConnectOptions::from_str(config.direct_url().expose_secret())
                .map(|o| describe(&o))
                .unwrap_or_default(),
            cause: e.to_string(),
        })
}

/// A unit of work: one transaction (or, for a single-statement write, one connection) and
/// what must happen once it has committed, such as dropping this replica's cached content
/// or waking this replica's job workers. What causes such an effect registers it here
/// (see `ContentCache::changed`, `JobQueue`), so no caller can forget it.
pub struct Work {
    conn: WorkConn,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
}

enum WorkConn {
    Transaction(sqlx::Transaction<'static, Postgres>),
    /// Each statement commits by itself: for a write that is one statement.
    Connection(sqlx::pool::PoolConnection<Postgres>),
}

impl Work {
    /// Begins a transaction.
    pub async fn begin(db: &Db) -> Result<Self, sqlx::Error> {
        Ok(Self {
            conn: WorkConn::Transaction(db.begin().await?),
            after_commit: Vec::new(),
        })
    }

    /// A connection without a transaction, for work that is a single statement. Behind a
    /// transaction pooler it is a transaction all the same (see [`pooled`]).
    pub async fn single_statement(db: &Db) -> Result<Self, sqlx::Error> {
        if db.is_pooled() {
            return Self::begin(db).await;
        }
        Ok(Self {
            conn: WorkConn::Connection(db.pool().acquire().await?),
            after_commit: Vec::new(),
        })
    }

    /// Runs `effect` once the work has committed (never if it is dropped or rolled back).
    pub fn after_commit(&mut self, effect: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(effect));
    }

    /// Commits, then runs what was registered to happen after.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        if let WorkConn::Transaction(tx) = self.conn {
            tx.commit().await?;
        }
        for effect in self.after_commit {
            effect();
        }
        Ok(())
    }
}

impl std::ops::Deref for Work {
    type Target = sqlx::PgConnection;

    fn deref(&self) -> &Self::Target {
        match &self.conn {
            WorkConn::Transaction(tx) => tx,
            WorkConn::Connection(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Work {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.conn {
            WorkConn::Transaction(tx) => tx,
            WorkConn::Connection(conn) => conn,
        }
    }
}
