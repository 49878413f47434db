//! Step 1's exposure rows (one per assessed instance) and the run's protection rules: written
//! when the assessment is stored, read one page at a time through an index per sort column
//! (keyset pagination), counted per state for the summary.

use sqlx::{QueryBuilder, Row, Sqlite, SqliteExecutor, sqlite::SqliteRow};

use super::types::{RunId, now_millis};

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

/// Replaces the run's rows (a re-run assessment writes them again).
pub async fn replace_rows(
    tx: &mut sqlx::Transaction<'static, Sqlite>,
    run: RunId,
    rows: &[ExposureRecord],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM exposure_rows WHERE run_id = ?")
        .bind(run.to_string())
        .execute(&mut **tx)
        .await?;
    let run = run.to_string();
    for r in rows {
        sqlx::query(
            "INSERT INTO exposure_rows (run_id, instance_id, name, subnet_id, private_ip, \
             public_ip, kind, tags, dns_names, egress_outcome, egress_ip, egress_detail, \
             agent_online, search, private_key, public_key, dns_key, egress_key, protected, \
             protected_key, reason_kind, reason) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&run)
        .bind(&r.instance_id)
        .bind(&r.name)
        .bind(&r.subnet_id)
        .bind(&r.private_ip)
        .bind(&r.public_ip)
        .bind(r.kind)
        .bind(&r.tags)
        .bind(&r.dns_names)
        .bind(r.egress_outcome)
        .bind(&r.egress_ip)
        .bind(&r.egress_detail)
        .bind(r.agent_online)
        .bind(&r.search)
        .bind(r.private_key)
        .bind(r.public_key)
        .bind(&r.dns_key)
        .bind(r.egress_key)
        .bind(r.protected)
        .bind(i64::from(!r.protected))
        .bind(&r.reason_kind)
        .bind(&r.reason)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Whether the run has any row (one index probe, not a count).
pub async fn has_rows(conn: impl SqliteExecutor<'_>, run: RunId) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM exposure_rows WHERE run_id = ? LIMIT 1)",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

pub async fn has_instance(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    instance_id: &str,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM exposure_rows WHERE run_id = ? AND instance_id = ?",
    )
    .bind(run.to_string())
    .bind(instance_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

pub async fn has_subnet(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    subnet_id: &str,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM exposure_rows WHERE run_id = ? AND subnet_id = ? \
         LIMIT 1)",
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
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    only: Option<&str>,
) -> sqlx::Result<Vec<FactsRow>> {
    let rows = sqlx::query(
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
                has_dns: r.try_get("has_dns")?,
                protected: r.try_get("protected")?,
                reason_kind: r.try_get("reason_kind")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

/// Rewrites one row's protection.
pub async fn set_protection(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    instance_id: &str,
    protected: bool,
    reason_kind: &str,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE exposure_rows SET protected = ?, protected_key = ?, reason_kind = ?, reason = ? \
         WHERE run_id = ? AND instance_id = ?",
    )
    .bind(protected)
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
}

fn push_filter(qb: &mut QueryBuilder<Sqlite>, run: RunId, f: &ExposureFilter) {
    qb.push(" WHERE run_id = ").push_bind(run.to_string());
    if let Some(t) = &f.text {
        qb.push(" AND (instr(search, ")
            .push_bind(t.clone())
            .push(") > 0 OR instr(lower(reason), ")
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
        qb.push(" AND protected = ").push_bind(p);
    }
    if let Some(a) = f.agent_online {
        qb.push(" AND agent_online = ").push_bind(a);
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
}

fn page_row(r: &SqliteRow, integer: bool) -> sqlx::Result<PageRow> {
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
        agent_online: r.try_get("agent_online")?,
        protected: r.try_get("protected")?,
        reason_kind: r.try_get("reason_kind")?,
        reason: r.try_get("reason")?,
    })
}

/// Up to `limit` rows in (sort, instance id) order — both descending when `descending` —
/// starting at `at`. Always in display order, also for `Last` and `Before`.
pub async fn page(
    conn: impl SqliteExecutor<'_>,
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
         reason_kind, reason FROM exposure_rows"
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
    let rows = qb.build().fetch_all(conn).await?;
    let mut out = rows
        .iter()
        .map(|r| page_row(r, sort.is_integer()))
        .collect::<sqlx::Result<Vec<_>>>()?;
    if backwards {
        out.reverse();
    }
    Ok(out)
}

pub async fn count_matching(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    filter: &ExposureFilter,
) -> sqlx::Result<i64> {
    let mut qb = QueryBuilder::new("SELECT count(*) FROM exposure_rows");
    push_filter(&mut qb, run, filter);
    qb.build_query_scalar().fetch_one(conn).await
}

/// Counts per state for the summary at the top of the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExposureCounts {
    pub instances: i64,
    pub eip: i64,
    pub ordinary: i64,
    pub no_public_ip: i64,
    pub protected: i64,
    pub by_dns: i64,
    pub by_tag: i64,
    pub by_subnet: i64,
    pub by_name: i64,
    pub by_operator: i64,
    pub exceptions: i64,
    pub agent_offline: i64,
    pub untestable: i64,
    pub egress_failed: i64,
    pub egress_own_ip: i64,
    pub egress_other_ip: i64,
    pub egress_ips: i64,
}

pub async fn counts(conn: impl SqliteExecutor<'_>, run: RunId) -> sqlx::Result<ExposureCounts> {
    let r = sqlx::query(
        "SELECT count(*) AS n, \
         coalesce(sum(kind = 'eip'), 0) AS eip, coalesce(sum(kind = 'ordinary'), 0) AS ordinary, \
         coalesce(sum(kind = 'none'), 0) AS no_ip, coalesce(sum(protected), 0) AS protected, \
         coalesce(sum(protected AND reason_kind = 'dns'), 0) AS dns, \
         coalesce(sum(protected AND reason_kind = 'tag'), 0) AS tag, \
         coalesce(sum(protected AND reason_kind = 'subnet'), 0) AS subnet, \
         coalesce(sum(protected AND reason_kind = 'name'), 0) AS name, \
         coalesce(sum(protected AND reason_kind = 'operator'), 0) AS operator, \
         coalesce(sum(reason_kind = 'exception'), 0) AS exceptions, \
         coalesce(sum(NOT agent_online), 0) AS offline, \
         coalesce(sum(egress_outcome = 'untestable'), 0) AS untestable, \
         coalesce(sum(egress_outcome = 'failed'), 0) AS failed, \
         coalesce(sum(egress_outcome = 'ip' AND egress_ip = public_ip), 0) AS own, \
         coalesce(sum(egress_outcome = 'ip' AND egress_ip != public_ip), 0) AS other, \
         count(DISTINCT CASE WHEN egress_outcome = 'ip' THEN egress_ip END) AS ips \
         FROM exposure_rows WHERE run_id = ?",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await?;
    Ok(ExposureCounts {
        instances: r.try_get("n")?,
        eip: r.try_get("eip")?,
        ordinary: r.try_get("ordinary")?,
        no_public_ip: r.try_get("no_ip")?,
        protected: r.try_get("protected")?,
        by_dns: r.try_get("dns")?,
        by_tag: r.try_get("tag")?,
        by_subnet: r.try_get("subnet")?,
        by_name: r.try_get("name")?,
        by_operator: r.try_get("operator")?,
        exceptions: r.try_get("exceptions")?,
        agent_offline: r.try_get("offline")?,
        untestable: r.try_get("untestable")?,
        egress_failed: r.try_get("failed")?,
        egress_own_ip: r.try_get("own")?,
        egress_other_ip: r.try_get("other")?,
        egress_ips: r.try_get("ips")?,
    })
}

/// The egress IPs shared by more than one instance (gateways, proxies), most used first.
pub async fn shared_egress_ips(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    limit: i64,
) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT egress_ip, count(*) AS n FROM exposure_rows WHERE run_id = ? \
         AND egress_outcome = 'ip' AND egress_ip != public_ip GROUP BY egress_ip \
         ORDER BY n DESC, egress_ip LIMIT ?",
    )
    .bind(run.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("egress_ip")?, r.try_get("n")?)))
        .collect()
}

/// One stored protection rule; `rule` is the JSON the wizard decodes strictly.
#[derive(Debug, Clone)]
pub struct RuleRecord {
    pub id: i64,
    pub rule: String,
    pub matches: i64,
    pub created_by: String,
}

pub async fn list_rules(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Vec<RuleRecord>> {
    let rows = sqlx::query(
        "SELECT id, rule, matches, created_by FROM protection_rules WHERE run_id = ? ORDER BY id",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RuleRecord {
                id: r.try_get("id")?,
                rule: r.try_get("rule")?,
                matches: r.try_get("matches")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

/// Adds a rule; `false` when the run already has it.
pub async fn add_rule(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    rule: &str,
    created_by: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO protection_rules (run_id, rule, matches, created_by, at) \
         VALUES (?, ?, -1, ?, ?) ON CONFLICT (run_id, rule) DO NOTHING",
    )
    .bind(run.to_string())
    .bind(rule)
    .bind(created_by)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a rule; returns its JSON if it was the run's.
pub async fn remove_rule(
    conn: impl SqliteExecutor<'_>,
    run: RunId,
    id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("DELETE FROM protection_rules WHERE run_id = ? AND id = ? RETURNING rule")
        .bind(run.to_string())
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_rule_matches(
    conn: impl SqliteExecutor<'_>,
    id: i64,
    matches: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE protection_rules SET matches = ? WHERE id = ?")
        .bind(matches)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
