//! The pool every query goes through, and what it does behind a transaction-mode pooler.
//!
//! sqlx sends a statement with parameters as Parse (then Sync, to learn its types) and,
//! once that is answered, Bind and Execute. A transaction-mode pooler such as PgBouncer
//! hands the client a server connection per transaction, so outside a transaction the two
//! halves may reach two different server connections: the Bind then runs whatever another
//! client last prepared there, or fails. PgBouncer before 1.21 (Debian's 1.18) also keeps
//! no prepared statements across server connections, so sqlx's named, cached statements
//! collide ("sqlx_s_1 already exists") or vanish.
//!
//! With `DATABASE_POOLER=transaction` therefore: the statement cache is off; a statement
//! run on the pool runs unnamed inside a transaction of its own (BEGIN … COMMIT, committed
//! before the call returns, so a caller reads its own writes); and every explicit
//! transaction starts by dropping the named statements other clients left on its server
//! connection (`DEALLOCATE ALL`), so the names sqlx gives its statements cannot collide.
//! Without a pooler every call goes straight to the pool.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Describe, Either, Execute, Executor, PgConnection, PgPool, Postgres, Transaction};

#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    pooled: bool,
}

impl Db {
    /// `pooled`: the pool's connections lead to a transaction-mode pooler.
    pub fn new(pool: PgPool, pooled: bool) -> Self {
        Self { pool, pooled }
    }

    /// A pool reached directly (no pooler in between).
    pub fn direct(pool: PgPool) -> Self {
        Self::new(pool, false)
    }

    pub fn is_pooled(&self) -> bool {
        self.pooled
    }

    /// The pool itself, for what needs one (a LISTEN connection, the migrator): only ever
    /// a direct one.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.pooled {
            // A simple query: it prepares nothing itself.
            (&mut *tx).execute("deallocate all").await?;
        }
        Ok(tx)
    }

    /// A connection for several statements that only read. Behind a pooler it is a
    /// read-only transaction (the only way to keep one server connection), so a write
    /// through it fails loudly rather than being rolled back unseen.
    pub async fn read_session(&self) -> Result<ReadSession, sqlx::Error> {
        if !self.pooled {
            return Ok(ReadSession::Connection(self.pool.acquire().await?));
        }
        let mut tx = self.begin().await?;
        (&mut *tx).execute("set transaction read only").await?;
        Ok(ReadSession::Transaction(tx))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// See [`Db::read_session`].
pub enum ReadSession {
    Connection(PoolConnection<Postgres>),
    Transaction(Transaction<'static, Postgres>),
}

impl Deref for ReadSession {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Self::Connection(conn) => conn,
            Self::Transaction(tx) => tx,
        }
    }
}

impl DerefMut for ReadSession {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Connection(conn) => conn,
            Self::Transaction(tx) => tx,
        }
    }
}

/// A statement run without a name (never cached): what a pooled statement needs.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(&self) -> &'q str {
        self.0.sql()
    }

    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.0.statement()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}

impl<'c> Executor<'c> for &'c Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.pooled {
            return self.pool.fetch_many(query);
        }
        let pool = self.pool.clone();
        futures_util::stream::once(async move {
            let mut tx = pool.begin().await?;
            let items: Vec<_> = (&mut *tx).fetch_many(Unnamed(query)).try_collect().await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(futures_util::stream::iter(items.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.pooled {
            return self.pool.fetch_optional(query);
        }
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await?;
            let row = (&mut *tx).fetch_optional(Unnamed(query)).await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.describe(sql)
    }
}
