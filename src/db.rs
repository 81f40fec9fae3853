//! Connecting to Postgres: create the database if it is missing, open the pool, migrate.

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::config::DatabaseConfig;

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

/// Opens the pool, creating the database first if it does not exist yet.
pub async fn connect(config: &DatabaseConfig) -> Result<PgPool, DbSetupError> {
    let url = config.url.expose_secret();
    let options =
        PgConnectOptions::from_str(url).map_err(|e| DbSetupError::InvalidUrl(e.to_string()))?;
    let target = describe(&options);

    create_database_if_missing(url)
        .await
        .map_err(|e| unreachable(&target, &e))?;

    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| unreachable(&target, &e))
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

/// Applies pending migrations. sqlx takes an advisory lock, so replicas may start together.
pub async fn migrate(pool: &PgPool, config: &DatabaseConfig) -> Result<(), DbSetupError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| DbSetupError::Migration {
            target: PgConnectOptions::from_str(config.url.expose_secret())
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
    pub async fn begin(db: &PgPool) -> Result<Self, sqlx::Error> {
        Ok(Self {
            conn: WorkConn::Transaction(db.begin().await?),
            after_commit: Vec::new(),
        })
    }

    /// A connection without a transaction, for work that is a single statement.
    pub async fn single_statement(db: &PgPool) -> Result<Self, sqlx::Error> {
        Ok(Self {
            conn: WorkConn::Connection(db.acquire().await?),
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
