//! Login throttling buckets (`login_buckets`, GCRA), shared by every process on the database:
//! see migration 0371 and `web::auth::throttle`. One statement per attempt and bucket, so two
//! replicas counting the same bucket at once cannot both take its last cell.

use sqlx::AnyExecutor;

use super::sql::{self, Dialect};

/// A bucket's shape: one attempt back every `period_ms`, at most `burst` at once.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub period_ms: i64,
    pub burst: i64,
}

/// Takes one attempt from `bucket` at `now_ms`. `Ok(None)` when allowed, `Ok(Some(ms))` with
/// how long to wait when the bucket is empty (nothing is taken then).
pub async fn take(
    db: impl AnyExecutor<'_> + Clone,
    bucket: &str,
    quota: Quota,
    now_ms: i64,
) -> sqlx::Result<Option<i64>> {
    let greatest = match sql::dialect() {
        Dialect::Sqlite => "MAX",
        Dialect::Postgres => "GREATEST",
    };
    let window = quota.period_ms.saturating_mul(quota.burst);
    let taken: Option<i64> = sql::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO login_buckets (bucket, tat) VALUES (?1, ?2 + ?3) \
         ON CONFLICT (bucket) DO UPDATE SET tat = {greatest}(login_buckets.tat, ?2) + ?3 \
         WHERE {greatest}(login_buckets.tat, ?2) + ?3 - ?2 <= ?4 \
         RETURNING tat"
    )))
    .bind(bucket)
    .bind(now_ms)
    .bind(quota.period_ms)
    .bind(window)
    .fetch_optional(db.clone())
    .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let tat: Option<i64> = sql::query_scalar("SELECT tat FROM login_buckets WHERE bucket = ?")
        .bind(bucket)
        .fetch_optional(db)
        .await?;
    // Refused: the next attempt fits once max(tat, now) + period is within the window again.
    let wait = tat.map_or(0, |tat| tat.max(now_ms) + quota.period_ms - now_ms - window);
    Ok(Some(wait.max(1)))
}

/// Deletes the buckets that are full again (bounded size under a spray of names).
pub async fn delete_full(db: impl AnyExecutor<'_>, now_ms: i64) -> sqlx::Result<u64> {
    let done = sql::query("DELETE FROM login_buckets WHERE tat <= ?")
        .bind(now_ms)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, test_store};

    const QUOTA: Quota = Quota {
        period_ms: 60_000,
        burst: 3,
    };

    #[tokio::test]
    async fn two_processes_on_one_database_share_a_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let database = test_store::database(dir.path()).await.unwrap();
        let (a, b) = (
            Store::connect(&database).await.unwrap(),
            Store::connect(&database).await.unwrap(),
        );
        let now = 1_800_000_000_000;
        // Three attempts at once, spread over both processes, then the fourth is refused on
        // either, with the time until one attempt is back.
        assert_eq!(
            take(a.writer(), "name:olga", QUOTA, now).await.unwrap(),
            None
        );
        assert_eq!(
            take(b.writer(), "name:olga", QUOTA, now).await.unwrap(),
            None
        );
        assert_eq!(
            take(a.writer(), "name:olga", QUOTA, now).await.unwrap(),
            None
        );
        assert_eq!(
            take(b.writer(), "name:olga", QUOTA, now + 1_000)
                .await
                .unwrap(),
            Some(59_000)
        );
        assert_eq!(
            take(a.writer(), "name:olga", QUOTA, now + 1_000)
                .await
                .unwrap(),
            Some(59_000),
            "a refused attempt takes nothing"
        );
        // Another bucket is untouched; one period later one attempt is back.
        assert_eq!(
            take(b.writer(), "name:ivan", QUOTA, now).await.unwrap(),
            None
        );
        assert_eq!(
            take(b.writer(), "name:olga", QUOTA, now + 60_000)
                .await
                .unwrap(),
            None
        );
        assert!(
            take(a.writer(), "name:olga", QUOTA, now + 60_000)
                .await
                .unwrap()
                .is_some()
        );
        // Once full again, buckets are deleted; the first attempt after that is allowed.
        assert_eq!(delete_full(a.writer(), now + 10 * 60_000).await.unwrap(), 2);
        assert_eq!(
            take(a.writer(), "name:olga", QUOTA, now + 10 * 60_000)
                .await
                .unwrap(),
            None
        );
    }
}
