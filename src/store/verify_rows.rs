//! Step 4's per-instance rows as shown on the Verify page, stored with the inputs they were
//! built from (a header per run naming its generation of rows), read one page at a time
//! through an index per sort column (keyset pagination). Display only: nothing that changes
//! the cloud reads them.

use sqlx::{Any, AnyExecutor, QueryBuilder, Row, any::AnyRow};

use super::types::{RunId, now_millis};

/// One row as stored; the web layer fills and reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyRecord {
    pub instance_id: String,
    pub name: String,
    pub public_ip: String,
    pub kind: String,
    pub before: String,
    pub after: String,
    pub verdict: String,
    pub reason: String,
    pub protected: bool,
    /// JSON `[[text, irreversible], ...]`.
    pub actions: String,
    pub action: String,
    pub kept: String,
    /// Empty, or the exception's word.
    pub exception: String,
    pub choosable: bool,
    /// The sort keys, by sort name (`instance` is always empty).
    pub key_public_ip: String,
    pub key_kind: String,
    pub key_verdict: String,
    pub key_plan: String,
}

/// The header of a run's rows: which generation is complete, what it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub generation: i64,
    pub version: i64,
    pub basis: String,
    pub body: String,
}

/// The run's inputs version: bumped by triggers on every write of egress results, protected
/// hosts and exceptions (0 before any).
pub async fn inputs_version(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<i64> {
    let v: Option<i64> =
        crate::store::sql::query_scalar("SELECT version FROM verify_inputs WHERE run_id = ?")
            .bind(run.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(v.unwrap_or(0))
}

pub async fn header(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Option<Header>> {
    let row = crate::store::sql::query(
        "SELECT gen, version, basis, body FROM verify_views WHERE run_id = ?",
    )
    .bind(run.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Header {
            generation: r.try_get("gen")?,
            version: r.try_get("version")?,
            basis: r.try_get("basis")?,
            body: r.try_get("body")?,
        })
    })
    .transpose()
}

/// Rows per INSERT statement (24 values each) and per transaction: each stays short, since
/// the writer is shared with every run's lease heartbeat.
const ROWS_PER_STATEMENT: usize = 100;
const ROWS_PER_TX: usize = 2_000;

/// Writes `rows` as generation `generation`, then the header naming it (unless a newer generation's
/// header is already there), then drops the older generations. A reader sees the previous
/// complete generation until the header moves.
pub async fn write(
    store: &super::Store,
    run: RunId,
    generation: i64,
    header_of: &Header,
    rows: &[VerifyRecord],
) -> sqlx::Result<()> {
    write_counted(store, run, generation, header_of, rows, |_| {}).await
}

/// [`write`], telling `stored` how many rows are written after each transaction (a page
/// shows how far a rebuild is).
pub async fn write_counted(
    store: &super::Store,
    run: RunId,
    generation: i64,
    header_of: &Header,
    rows: &[VerifyRecord],
    mut stored: impl FnMut(usize),
) -> sqlx::Result<()> {
    let id = run.to_string();
    let mut done = 0;
    for chunk in rows.chunks(ROWS_PER_TX) {
        let mut tx = store.begin_write().await?;
        for part in chunk.chunks(ROWS_PER_STATEMENT) {
            insert(&mut tx, &id, generation, part).await?;
        }
        tx.commit().await?;
        done += chunk.len();
        stored(done);
    }
    let mut tx = store.begin_write().await?;
    crate::store::sql::query(
        "INSERT INTO verify_views (run_id, gen, version, basis, body, at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (run_id) DO UPDATE SET gen = excluded.gen, version = excluded.version, \
         basis = excluded.basis, body = excluded.body, at = excluded.at \
         WHERE excluded.gen > verify_views.gen",
    )
    .bind(&id)
    .bind(generation)
    .bind(header_of.version)
    .bind(&header_of.basis)
    .bind(&header_of.body)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    crate::store::sql::query("DELETE FROM verify_rows WHERE run_id = ? AND gen < ?")
        .bind(&id)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// One stored row of generation `generation`.
pub async fn row(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    generation: i64,
    instance_id: &str,
) -> sqlx::Result<Option<VerifyRecord>> {
    let r = crate::store::sql::query(
        "SELECT * FROM verify_rows WHERE run_id = ? AND gen = ? AND instance_id = ?",
    )
    .bind(run.to_string())
    .bind(generation)
    .bind(instance_id)
    .fetch_optional(conn)
    .await?;
    r.as_ref().map(record).transpose()
}

/// An edit of the rows in place (an exception saved): the header moves from exactly `from`
/// (generation, version and basis, as read) to `to`'s version, basis and body, and `rows`
/// replace theirs in that generation — in the caller's transaction, with the edit itself.
/// `false`, and nothing written, when the header is no longer `from` (another view rebuilt
/// the rows, or an input changed): those rows are then stale and the next view rebuilds.
pub async fn patch(
    conn: &mut sqlx::AnyConnection,
    run: RunId,
    from: &Header,
    to: &Header,
    rows: &[VerifyRecord],
) -> sqlx::Result<bool> {
    let id = run.to_string();
    let moved = crate::store::sql::query(
        "UPDATE verify_views SET version = ?, basis = ?, body = ?, at = ? \
         WHERE run_id = ? AND gen = ? AND version = ? AND basis = ?",
    )
    .bind(to.version)
    .bind(&to.basis)
    .bind(&to.body)
    .bind(now_millis())
    .bind(&id)
    .bind(from.generation)
    .bind(from.version)
    .bind(&from.basis)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    for r in rows {
        crate::store::sql::query(
            "DELETE FROM verify_rows WHERE run_id = ? AND gen = ? AND instance_id = ?",
        )
        .bind(&id)
        .bind(from.generation)
        .bind(&r.instance_id)
        .execute(&mut *conn)
        .await?;
    }
    if !rows.is_empty() {
        insert(conn, &id, from.generation, rows).await?;
    }
    Ok(true)
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    run: &str,
    generation: i64,
    rows: &[VerifyRecord],
) -> sqlx::Result<()> {
    let mut qb = QueryBuilder::<Any>::new(
        "INSERT INTO verify_rows (run_id, gen, instance_id, name, public_ip, kind, before_text, \
         after_text, verdict, reason, protected, actions, action, kept, exception, choosable, \
         id_lower, name_lower, ip_lower, key_instance, key_public_ip, key_kind, key_verdict, \
         key_plan) ",
    );
    qb.push_values(rows, |mut b, r| {
        b.push_bind(run.to_owned())
            .push_bind(generation)
            .push_bind(r.instance_id.clone())
            .push_bind(r.name.clone())
            .push_bind(r.public_ip.clone())
            .push_bind(r.kind.clone())
            .push_bind(r.before.clone())
            .push_bind(r.after.clone())
            .push_bind(r.verdict.clone())
            .push_bind(r.reason.clone())
            .push_bind(i64::from(r.protected))
            .push_bind(r.actions.clone())
            .push_bind(r.action.clone())
            .push_bind(r.kept.clone())
            .push_bind(r.exception.clone())
            .push_bind(i64::from(r.choosable))
            .push_bind(r.instance_id.to_lowercase())
            .push_bind(r.name.to_lowercase())
            .push_bind(r.public_ip.to_lowercase())
            .push_bind("")
            .push_bind(r.key_public_ip.clone())
            .push_bind(r.key_kind.clone())
            .push_bind(r.key_verdict.clone())
            .push_bind(r.key_plan.clone());
    });
    crate::store::sql::build(&mut qb).execute(conn).await?;
    Ok(())
}

/// What a view selects: filters as stored values (empty: any).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub verdict: String,
    pub kind: String,
    /// `Some(true)`: protected only.
    pub protected: Option<bool>,
    /// `Some(true)`: rows with an exception only.
    pub exception: Option<bool>,
    /// Lower-cased text the instance id, name or public IP must contain.
    pub text: String,
}

/// The view's order: the sort column and its direction; `backwards` reads from a cursor
/// towards the start (for the previous page's link).
#[derive(Debug, Clone)]
pub struct Order<'a> {
    /// One of `instance`, `public_ip`, `kind`, `verdict`, `plan`.
    pub sort: &'a str,
    pub descending: bool,
    pub backwards: bool,
}

fn key_column(sort: &str) -> &'static str {
    match sort {
        "public_ip" => "key_public_ip",
        "kind" => "key_kind",
        "verdict" => "key_verdict",
        "plan" => "key_plan",
        _ => "key_instance",
    }
}

fn push_filter(qb: &mut QueryBuilder<Any>, run: RunId, generation: i64, f: &Filter) {
    qb.push(" WHERE run_id = ")
        .push_bind(run.to_string())
        .push(" AND gen = ")
        .push_bind(generation);
    if !f.verdict.is_empty() {
        qb.push(" AND verdict = ").push_bind(f.verdict.clone());
    }
    if !f.kind.is_empty() {
        qb.push(" AND kind = ").push_bind(f.kind.clone());
    }
    if let Some(p) = f.protected {
        qb.push(" AND protected = ").push_bind(i64::from(p));
    }
    match f.exception {
        Some(true) => qb.push(" AND exception != ''"),
        Some(false) => qb.push(" AND exception = ''"),
        None => qb,
    };
    if !f.text.is_empty() {
        let instr = crate::store::sql::instr();
        qb.push(format!(" AND ({instr}id_lower, "))
            .push_bind(f.text.clone())
            .push(format!(") > 0 OR {instr}name_lower, "))
            .push_bind(f.text.clone())
            .push(format!(") > 0 OR {instr}ip_lower, "))
            .push_bind(f.text.clone())
            .push(") > 0)");
    }
}

/// Rows the filter selects, over all pages.
pub async fn count(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    generation: i64,
    f: &Filter,
) -> sqlx::Result<usize> {
    let mut qb = QueryBuilder::<Any>::new("SELECT count(*) FROM verify_rows");
    push_filter(&mut qb, run, generation, f);
    let n: i64 = crate::store::sql::build_scalar(&mut qb)
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Rows the filter selects that come at or before `(key, id)` in `order`: where the page
/// after that cursor starts.
pub async fn count_through(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    generation: i64,
    f: &Filter,
    order: &Order<'_>,
    cursor: (&str, &str),
) -> sqlx::Result<usize> {
    let mut qb = QueryBuilder::<Any>::new("SELECT count(*) FROM verify_rows");
    push_filter(&mut qb, run, generation, f);
    push_bound(
        &mut qb,
        order,
        cursor,
        if order.descending { ">=" } else { "<=" },
    );
    let n: i64 = crate::store::sql::build_scalar(&mut qb)
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn push_bound(qb: &mut QueryBuilder<Any>, order: &Order<'_>, cursor: (&str, &str), op: &str) {
    qb.push(format!(
        " AND ({}, instance_id) {op} (",
        key_column(order.sort)
    ))
    .push_bind(cursor.0.to_owned())
    .push(", ")
    .push_bind(cursor.1.to_owned())
    .push(")");
}

/// Up to `limit` rows in `order` strictly after `cursor` (or from the start), or, with
/// `backwards`, the rows at or before `cursor` nearest it first.
pub async fn page(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    generation: i64,
    f: &Filter,
    order: &Order<'_>,
    cursor: Option<(&str, &str)>,
    limit: usize,
) -> sqlx::Result<Vec<VerifyRecord>> {
    let mut qb = QueryBuilder::<Any>::new("SELECT * FROM verify_rows");
    push_filter(&mut qb, run, generation, f);
    // Reading backwards walks the other way: the bound and the order flip.
    let backwards = order.backwards;
    let descending = order.descending != backwards;
    if let Some(c) = cursor {
        let op = match (order.descending, backwards) {
            (false, false) => ">",
            (true, false) => "<",
            (false, true) => "<=",
            (true, true) => ">=",
        };
        push_bound(&mut qb, order, c, op);
    }
    let dir = if descending { "DESC" } else { "ASC" };
    let key = key_column(order.sort);
    qb.push(format!(" ORDER BY {key} {dir}, instance_id {dir} LIMIT "))
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let rows = crate::store::sql::build(&mut qb).fetch_all(conn).await?;
    rows.iter().map(record).collect()
}

fn record(r: &AnyRow) -> sqlx::Result<VerifyRecord> {
    Ok(VerifyRecord {
        instance_id: r.try_get("instance_id")?,
        name: r.try_get("name")?,
        public_ip: r.try_get("public_ip")?,
        kind: r.try_get("kind")?,
        before: r.try_get("before_text")?,
        after: r.try_get("after_text")?,
        verdict: r.try_get("verdict")?,
        reason: r.try_get("reason")?,
        protected: crate::store::sql::flag(r, "protected")?,
        actions: r.try_get("actions")?,
        action: r.try_get("action")?,
        kept: r.try_get("kept")?,
        exception: r.try_get("exception")?,
        choosable: crate::store::sql::flag(r, "choosable")?,
        key_public_ip: r.try_get("key_public_ip")?,
        key_kind: r.try_get("key_kind")?,
        key_verdict: r.try_get("key_verdict")?,
        key_plan: r.try_get("key_plan")?,
    })
}
