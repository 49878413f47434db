//! Every write of this process goes through `Writer` (one statement) or `WriteTx` (a
//! transaction), and both count the store's `write_generation` once the write is over: a
//! guard moved into the statement's future or the transaction is dropped after its commit
//! (or rollback). That is what lets the portal's caches (sessions, history, approval counts)
//! know a cached value may be stale, on either database; counting a rolled-back write too
//! only costs a re-read.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::{StreamExt, future::BoxFuture, stream::BoxStream};
use sqlx::{
    Any, AnyPool, Database, Either, Error, Execute, Executor, SqlStr, Transaction,
    any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo},
};

/// Counts one write when dropped.
#[derive(Debug)]
pub(super) struct Bump(pub(super) Arc<AtomicU64>);

impl Clone for Bump {
    fn clone(&self) -> Self {
        Bump(self.0.clone())
    }
}

impl Drop for Bump {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The writer pool as an executor for one statement (`store.writer()`). A clone is counted
/// on its own, for functions that run a few statements one after another.
#[derive(Clone, Debug)]
pub struct Writer<'p> {
    pub(super) pool: &'p AnyPool,
    pub(super) bump: Bump,
}

impl<'p> Writer<'p> {
    /// A transaction on the writer; counted once it is committed or dropped.
    pub async fn begin(self) -> sqlx::Result<WriteTx> {
        let mut tx = self.pool.begin_with(super::sql::begin_write()).await?;
        if let Some(lock) = super::sql::write_lock() {
            crate::store::sql::query(lock).execute(&mut *tx).await?;
        }
        Ok(WriteTx {
            tx,
            _bump: self.bump,
        })
    }
}

impl<'p> Executor<'p> for Writer<'p> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let bump = self.bump;
        // The guard rides along until the stream is dropped, i.e. after the last row.
        Box::pin(self.pool.fetch_many(query).map(move |item| {
            let _ = &bump;
            item
        }))
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let bump = self.bump;
        let fetched = self.pool.fetch_optional(query);
        Box::pin(async move {
            let row = fetched.await;
            drop(bump);
            row
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, Error>>
    where
        'p: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<Any>, Error>>
    where
        'p: 'e,
    {
        self.pool.describe(sql)
    }
}

/// A write transaction (`store.begin_write()`); counted once it is committed or dropped.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _bump: Bump,
}

impl WriteTx {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
        // `_bump` is dropped here, after the commit.
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

impl Deref for WriteTx {
    type Target = <Any as Database>::Connection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
