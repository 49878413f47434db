//! Step 1's exposure rows (one per assessed instance): written when the assessment is stored,
//! read one page at a time through an index per sort column (keyset pagination), counted per
//! state for the summary.

use sqlx::{Any, AnyExecutor, QueryBuilder, Row, any::AnyRow};

use super::types::RunId;

/// One instance's row as stored; the keys are computed by the caller (engine).
#[derive(Debug, Clone, Default)]
pub struct ExposureRecord {
    pub instance_id: String,
    pub name: String,
    pub subnet_id: String,
    pub private_ip: String,
    pub public_ip: String,
    /// `eip`, `ordinary` or `none`.
    pub kind: &'static str,
    /// JSON `[[key, value], ...]`.
    pub tags: String,
    pub dns_names: String,
    /// `ip`, `failed`, `untestable` or `none` (not tested).
    pub egress_outcome: &'static str,
    pub egress_ip: String,
    pub egress_detail: String,
    pub agent_online: bool,
    pub search: String,
    pub private_key: i64,
    pub public_key: i64,
    pub dns_key: String,
    pub egress_key: i64,
    pub protected: bool,
    pub reason_kind: String,
    pub reason: String,
}

/// Deletes the run's rows (before an assessment writes them again).
pub async fn delete_rows(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<()> {
    crate::store::sql::query("DELETE FROM exposure_rows WHERE run_id = ?")
        .bind(run.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Rows per INSERT statement: 22 values each, far under SQLite's 32,766 parameters.
const ROWS_PER_STATEMENT: usize = 100;

/// Inserts rows, a hundred per statement (one statement per row costs ten times as long, and
/// the writer is shared with every run's lease heartbeat).
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    run: RunId,
    rows: &[ExposureRecord],
) -> sqlx::Result<()> {
    let run = run.to_string();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut qb = QueryBuilder::<Any>::new(
            "INSERT INTO exposure_rows (run_id, instance_id, name, subnet_id, private_ip, \
             public_ip, kind, tags, dns_names, egress_outcome, egress_ip, egress_detail, \
             agent_online, search, private_key, public_key, dns_key, egress_key, protected, \
             protected_key, reason_kind, reason) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(run.clone())
                .push_bind(r.instance_id.clone())
                .push_bind(r.name.clone())
                .push_bind(r.subnet_id.clone())
                .push_bind(r.private_ip.clone())
                .push_bind(r.public_ip.clone())
                .push_bind(r.kind)
                .push_bind(r.tags.clone())
                .push_bind(r.dns_names.clone())
                .push_bind(r.egress_outcome)
                .push_bind(r.egress_ip.clone())
                .push_bind(r.egress_detail.clone())
                .push_bind(i64::from(r.agent_online))
                .push_bind(r.search.clone())
                .push_bind(r.private_key)
                .push_bind(r.public_key)
                .push_bind(r.dns_key.clone())
                .push_bind(r.egress_key)
                .push_bind(i64::from(r.protected))
                .push_bind(i64::from(!r.protected))
                .push_bind(r.reason_kind.clone())
                .push_bind(r.reason.clone());
        });
        crate::store::sql::build(&mut qb)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Whether the assessment's report is stored (rows are written before it, so this is what
/// says they are complete).
pub async fn has_report(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<bool> {
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT count(*) FROM run_reports WHERE run_id = ? AND kind = 'exposure'",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Whether the run has any row (one index probe, not a count).
pub async fn has_rows(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<bool> {
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM exposure_rows WHERE run_id = ? LIMIT 1) AS one",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

pub async fn has_instance(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    instance_id: &str,
) -> sqlx::Result<bool> {
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT count(*) FROM exposure_rows WHERE run_id = ? AND instance_id = ?",
    )
    .bind(run.to_string())
    .bind(instance_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Per instance with a tested egress IP: (instance id, its own public IP or "", the IP it left
/// through), in id order. What step 1 needs to find shared egress IPs (issue 12) without
/// decoding the stored inventory on every view.
pub async fn egress_ips(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Vec<(String, String, String)>> {
    crate::store::sql::query_as(
        "SELECT instance_id, public_ip, egress_ip FROM exposure_rows \
         WHERE run_id = ? AND egress_outcome = 'ip' ORDER BY instance_id",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await
}

pub async fn has_subnet(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    subnet_id: &str,
) -> sqlx::Result<bool> {
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM exposure_rows WHERE run_id = ? AND subnet_id = ? \
         LIMIT 1) AS one",
    )
    .bind(run.to_string())
    .bind(subnet_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// What the protection rules look at, with the protection currently stored.
#[derive(Debug, Clone)]
pub struct FactsRow {
    pub instance_id: String,
    pub name: String,
    pub subnet_id: String,
    /// JSON `[[key, value], ...]`; the caller decodes it strictly.
    pub tags: String,
    pub has_dns: bool,
    pub protected: bool,
    pub reason_kind: String,
    pub reason: String,
}

/// Every row's facts, or only `only`'s.
pub async fn facts(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    only: Option<&str>,
) -> sqlx::Result<Vec<FactsRow>> {
    let rows = crate::store::sql::query(
        "SELECT instance_id, name, subnet_id, tags, dns_names != '' AS has_dns, protected, \
         reason_kind, reason FROM exposure_rows WHERE run_id = ?1 \
         AND (?2 IS NULL OR instance_id = ?2)",
    )
    .bind(run.to_string())
    .bind(only)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FactsRow {
                instance_id: r.try_get("instance_id")?,
                name: r.try_get("name")?,
                subnet_id: r.try_get("subnet_id")?,
                tags: r.try_get("tags")?,
                has_dns: crate::store::sql::flag(r, "has_dns")?,
                protected: crate::store::sql::flag(r, "protected")?,
                reason_kind: r.try_get("reason_kind")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

/// Rewrites one row's protection.
pub async fn set_protection(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    instance_id: &str,
    protected: bool,
    reason_kind: &str,
    reason: &str,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE exposure_rows SET protected = ?, protected_key = ?, reason_kind = ?, reason = ? \
         WHERE run_id = ? AND instance_id = ?",
    )
    .bind(i64::from(protected))
    .bind(i64::from(!protected))
    .bind(reason_kind)
    .bind(reason)
    .bind(run.to_string())
    .bind(instance_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The sortable columns; each has an index `(run_id, column, instance_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Instance,
    Subnet,
    PrivateIp,
    PublicIp,
    Kind,
    Dns,
    Egress,
    Agent,
    Protected,
}

impl SortColumn {
    fn column(self) -> &'static str {
        match self {
            SortColumn::Instance => "instance_id",
            SortColumn::Subnet => "subnet_id",
            SortColumn::PrivateIp => "private_key",
            SortColumn::PublicIp => "public_key",
            SortColumn::Kind => "kind",
            SortColumn::Dns => "dns_key",
            SortColumn::Egress => "egress_key",
            SortColumn::Agent => "agent_online",
            SortColumn::Protected => "protected_key",
        }
    }

    /// Whether the column holds integers (else text); cursors carry the value as typed.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            SortColumn::PrivateIp
                | SortColumn::PublicIp
                | SortColumn::Egress
                | SortColumn::Agent
                | SortColumn::Protected
        )
    }
}

/// A sort key value, as it travels in a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// Where a page starts: the first or last page, or next to a row (keyset cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    First,
    Last,
    After(SortValue, String),
    Before(SortValue, String),
}

#[derive(Debug, Clone, Default)]
pub struct ExposureFilter {
    /// Lower-case text to find in ids, names, IPs, DNS names, tags and reasons.
    pub text: Option<String>,
    /// `eip`, `ordinary`, `none`, or `public` (either of the first two).
    pub kind: Option<String>,
    pub protected: Option<bool>,
    pub agent_online: Option<bool>,
    /// Whether the row keeps its egress IP (issue 12).
    pub keeps_egress: Option<bool>,
}

fn push_filter(qb: &mut QueryBuilder<Any>, run: RunId, f: &ExposureFilter) {
    qb.push(" WHERE run_id = ").push_bind(run.to_string());
    if let Some(t) = &f.text {
        let instr = crate::store::sql::instr();
        qb.push(format!(" AND ({instr}search, "))
            .push_bind(t.clone())
            .push(format!(") > 0 OR {instr}lower(reason), "))
            .push_bind(t.clone())
            .push(") > 0)");
    }
    match f.kind.as_deref() {
        Some("public") => {
            qb.push(" AND kind != 'none'");
        }
        Some(k) => {
            qb.push(" AND kind = ").push_bind(k.to_owned());
        }
        None => {}
    }
    if let Some(p) = f.protected {
        qb.push(" AND protected = ").push_bind(i64::from(p));
    }
    if let Some(a) = f.agent_online {
        qb.push(" AND agent_online = ").push_bind(i64::from(a));
    }
    if let Some(k) = f.keeps_egress {
        qb.push(" AND keeps_egress = ").push_bind(i64::from(k));
    }
}

/// One displayed row, with its sort key for the cursor.
#[derive(Debug, Clone)]
pub struct PageRow {
    pub key: SortValue,
    pub instance_id: String,
    pub name: String,
    pub subnet_id: String,
    pub private_ip: String,
    pub public_ip: String,
    pub kind: String,
    pub tags: String,
    pub dns_names: String,
    pub egress_outcome: String,
    pub egress_ip: String,
    pub egress_detail: String,
    pub agent_online: bool,
    pub protected: bool,
    pub reason_kind: String,
    pub reason: String,
    /// Why the row keeps its egress IP, or empty (never read while not worked out: the
    /// engine's `keep_rows::ensure` runs before a page is read).
    pub keep_reason: String,
}

fn page_row(r: &AnyRow, integer: bool) -> sqlx::Result<PageRow> {
    Ok(PageRow {
        key: if integer {
            SortValue::Int(r.try_get("sort_key")?)
        } else {
            SortValue::Text(r.try_get("sort_key")?)
        },
        instance_id: r.try_get("instance_id")?,
        name: r.try_get("name")?,
        subnet_id: r.try_get("subnet_id")?,
        private_ip: r.try_get("private_ip")?,
        public_ip: r.try_get("public_ip")?,
        kind: r.try_get("kind")?,
        tags: r.try_get("tags")?,
        dns_names: r.try_get("dns_names")?,
        egress_outcome: r.try_get("egress_outcome")?,
        egress_ip: r.try_get("egress_ip")?,
        egress_detail: r.try_get("egress_detail")?,
        agent_online: crate::store::sql::flag(r, "agent_online")?,
        protected: crate::store::sql::flag(r, "protected")?,
        reason_kind: r.try_get("reason_kind")?,
        reason: r.try_get("reason")?,
        keep_reason: r.try_get("keep_reason")?,
    })
}

/// Up to `limit` rows in (sort, instance id) order — both descending when `descending` —
/// starting at `at`. Always in display order, also for `Last` and `Before`.
pub async fn page(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    filter: &ExposureFilter,
    sort: SortColumn,
    descending: bool,
    at: &PageAt,
    limit: i64,
) -> sqlx::Result<Vec<PageRow>> {
    let col = sort.column();
    let mut qb = QueryBuilder::new(format!(
        "SELECT {col} AS sort_key, instance_id, name, subnet_id, private_ip, public_ip, kind, \
         tags, dns_names, egress_outcome, egress_ip, egress_detail, agent_online, protected, \
         reason_kind, reason, keep_reason FROM exposure_rows"
    ));
    push_filter(&mut qb, run, filter);
    // Walking backwards (last page, previous page) reads the opposite order, then flips it.
    let backwards = matches!(at, PageAt::Last | PageAt::Before(..));
    let read_desc = descending != backwards;
    if let PageAt::After(v, id) | PageAt::Before(v, id) = at {
        let op = if read_desc { "<" } else { ">" };
        qb.push(format!(" AND ({col}, instance_id) {op} ("));
        match v {
            SortValue::Int(i) => qb.push_bind(*i),
            SortValue::Text(s) => qb.push_bind(s.clone()),
        };
        qb.push(", ").push_bind(id.clone()).push(")");
    }
    let dir = if read_desc { "DESC" } else { "ASC" };
    qb.push(format!(" ORDER BY {col} {dir}, instance_id {dir} LIMIT "))
        .push_bind(limit);
    let rows = crate::store::sql::build(&mut qb).fetch_all(conn).await?;
    let mut out = rows
        .iter()
        .map(|r| page_row(r, sort.is_integer()))
        .collect::<sqlx::Result<Vec<_>>>()?;
    if backwards {
        out.reverse();
    }
    Ok(out)
}

/// How many matching rows come before the row (`key`, `id`) in display order: where a page
/// starts, for "rows 51–100 of 5,000" (one indexed count, not an offset scan of the rows).
pub async fn count_before(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    filter: &ExposureFilter,
    sort: SortColumn,
    descending: bool,
    key: &SortValue,
    id: &str,
) -> sqlx::Result<i64> {
    let col = sort.column();
    let mut qb = QueryBuilder::new("SELECT count(*) FROM exposure_rows");
    push_filter(&mut qb, run, filter);
    let op = if descending { ">" } else { "<" };
    qb.push(format!(" AND ({col}, instance_id) {op} ("));
    match key {
        SortValue::Int(i) => qb.push_bind(*i),
        SortValue::Text(s) => qb.push_bind(s.clone()),
    };
    qb.push(", ").push_bind(id.to_owned()).push(")");
    crate::store::sql::build_scalar(&mut qb)
        .fetch_one(conn)
        .await
}

pub async fn count_matching(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    filter: &ExposureFilter,
) -> sqlx::Result<i64> {
    let mut qb = QueryBuilder::new("SELECT count(*) FROM exposure_rows");
    push_filter(&mut qb, run, filter);
    crate::store::sql::build_scalar(&mut qb)
        .fetch_one(conn)
        .await
}

/// What decides whether a row keeps its egress IP (issue 12), with what is stored now
/// (`keeps_egress` -1 while not worked out).
#[derive(Debug, Clone)]
pub struct KeepFactsRow {
    pub instance_id: String,
    pub name: String,
    pub subnet_id: String,
    /// JSON `[[key, value], ...]`; the caller decodes it strictly.
    pub tags: String,
    /// The IP the baseline egress test printed, or empty when it printed none.
    pub egress_ip: String,
    pub keeps_egress: i64,
    pub keep_reason: String,
}

/// Every row's keep facts.
pub async fn keep_facts(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Vec<KeepFactsRow>> {
    let rows = crate::store::sql::query(
        "SELECT instance_id, name, subnet_id, tags, \
         CASE WHEN egress_outcome = 'ip' THEN egress_ip ELSE '' END AS egress_ip, \
         keeps_egress, keep_reason FROM exposure_rows WHERE run_id = ?",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KeepFactsRow {
                instance_id: r.try_get("instance_id")?,
                name: r.try_get("name")?,
                subnet_id: r.try_get("subnet_id")?,
                tags: r.try_get("tags")?,
                egress_ip: r.try_get("egress_ip")?,
                keeps_egress: r.try_get("keeps_egress")?,
                keep_reason: r.try_get("keep_reason")?,
            })
        })
        .collect()
}

/// Rewrites one row's keep-egress decision.
pub async fn set_keeps_egress(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    instance_id: &str,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE exposure_rows SET keeps_egress = ?, keep_reason = ? \
         WHERE run_id = ? AND instance_id = ?",
    )
    .bind(i64::from(reason.is_some()))
    .bind(reason.unwrap_or_default())
    .bind(run.to_string())
    .bind(instance_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether some row's keep-egress decision has not been worked out yet.
pub async fn keeps_unknown(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<bool> {
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM exposure_rows WHERE run_id = ? \
         AND keeps_egress = -1 LIMIT 1) AS one",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// How many rows keep their egress IP (through the `keeps_egress` index).
pub async fn count_keeps_egress(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "SELECT count(*) FROM exposure_rows WHERE run_id = ? AND keeps_egress = 1",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await
}
