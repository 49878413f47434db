//! The `approvals` table (issue 14, item 2): requests to apply a step's exact plan, waiting
//! for a second person. Inputs and plans are opaque JSON here; the wizard owns their shape
//! and decodes them strictly. A request is decided once: every state change is conditional on
//! the request still being `pending`, so two deciders cannot both win.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row, any::AnyRow};

use super::types::{BadValue, RunId, Step, decode, from_millis, to_millis};
use super::users::Role;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    /// Waiting for a decision (until it expires).
    Pending,
    /// Approved, and the unchanged plan was handed to the engine.
    Approved,
    Rejected,
    /// Approved or looked at after the plan changed (the cloud, the run): never applied.
    Void,
    /// Not decided in time.
    Expired,
}

impl ApprovalState {
    pub const ALL: [ApprovalState; 5] = [
        ApprovalState::Pending,
        ApprovalState::Approved,
        ApprovalState::Rejected,
        ApprovalState::Void,
        ApprovalState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Void => "void",
            ApprovalState::Expired => "expired",
        }
    }

    /// The state for people: "waiting for approval", "approved and applied", ….
    pub fn words(self) -> &'static str {
        match self {
            ApprovalState::Pending => "waiting for approval",
            ApprovalState::Approved => "approved and applied",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Void => "void (nothing applied)",
            ApprovalState::Expired => "expired",
        }
    }
}

impl std::str::FromStr for ApprovalState {
    type Err = BadValue;
    fn from_str(s: &str) -> Result<ApprovalState, BadValue> {
        ApprovalState::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| BadValue {
                what: "approval state",
                value: s.to_owned(),
            })
    }
}

impl std::fmt::Display for ApprovalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request would apply once approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// A step's confirmed plan.
    Step,
    /// A rollback that releases the NAT gateway's EIPs.
    Rollback,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Step => "step",
            ApprovalKind::Rollback => "rollback",
        }
    }
}

impl std::str::FromStr for ApprovalKind {
    type Err = BadValue;
    fn from_str(s: &str) -> Result<ApprovalKind, BadValue> {
        [ApprovalKind::Step, ApprovalKind::Rollback]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| BadValue {
                what: "approval kind",
                value: s.to_owned(),
            })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRow {
    pub id: i64,
    pub kind: ApprovalKind,
    pub run_id: RunId,
    pub step: Step,
    pub state: ApprovalState,
    pub input: serde_json::Value,
    pub plan: serde_json::Value,
    pub plan_digest: String,
    pub observed_digest: String,
    pub observed_at: DateTime<Utc>,
    pub irreversible: bool,
    pub needs_role: Role,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    pub outcome: Option<String>,
}

impl ApprovalRow {
    /// What the request would apply, in words: the step's title, or the rollback.
    pub fn subject(&self) -> &'static str {
        match self.kind {
            ApprovalKind::Step => self.step.title(),
            ApprovalKind::Rollback => "Roll back, releasing the NAT gateway's EIPs",
        }
    }

    /// Pending, but past its expiry: it can no longer be approved.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.state == ApprovalState::Pending && now >= self.expires_at
    }

    /// The state as it is at `now` (a pending request past its expiry is expired, whether or
    /// not that has been written yet).
    pub fn state_at(&self, now: DateTime<Utc>) -> ApprovalState {
        if self.is_expired_at(now) {
            ApprovalState::Expired
        } else {
            self.state
        }
    }

    /// Whether `user` with `role` may decide it (ignoring its state): never the requester,
    /// and only with the role it needs.
    pub fn may_decide(&self, user: &str, role: Role) -> bool {
        user != self.requested_by && role >= self.needs_role
    }
}

fn from_row(row: &AnyRow) -> sqlx::Result<ApprovalRow> {
    let run: String = row.try_get("run_id")?;
    let state: String = row.try_get("state")?;
    let input: String = row.try_get("input")?;
    let plan: String = row.try_get("plan")?;
    let role: String = row.try_get("needs_role")?;
    let kind: String = row.try_get("kind")?;
    Ok(ApprovalRow {
        id: row.try_get("id")?,
        kind: decode(kind.parse())?,
        run_id: decode(run.parse())?,
        step: decode(Step::from_number(row.try_get("step")?))?,
        state: decode(state.parse())?,
        input: decode(serde_json::from_str(&input))?,
        plan: decode(serde_json::from_str(&plan))?,
        plan_digest: row.try_get("plan_digest")?,
        observed_digest: row.try_get("observed_digest")?,
        observed_at: from_millis(row.try_get("observed_at")?),
        irreversible: row.try_get::<i64, _>("irreversible")? != 0,
        needs_role: role.parse().map_err(|e: String| {
            sqlx::Error::Decode(Box::new(BadValue {
                what: "approval role",
                value: e,
            }))
        })?,
        requested_by: row.try_get("requested_by")?,
        requested_at: from_millis(row.try_get("requested_at")?),
        expires_at: from_millis(row.try_get("expires_at")?),
        decided_by: row.try_get("decided_by")?,
        decided_at: row
            .try_get::<Option<i64>, _>("decided_at")?
            .map(from_millis),
        comment: row.try_get("comment")?,
        outcome: row.try_get("outcome")?,
    })
}

/// A request as it is filed.
pub struct NewApproval<'a> {
    pub kind: ApprovalKind,
    pub run: RunId,
    pub step: Step,
    pub input: &'a serde_json::Value,
    pub plan: &'a serde_json::Value,
    pub plan_digest: &'a str,
    pub observed_digest: &'a str,
    pub observed_at: DateTime<Utc>,
    pub irreversible: bool,
    pub needs_role: Role,
    pub requested_by: &'a str,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Files a pending request; a unique violation means one is already pending for the step.
pub async fn insert(conn: impl AnyExecutor<'_>, a: &NewApproval<'_>) -> sqlx::Result<i64> {
    let id = crate::store::sql::query(
        "INSERT INTO approvals (kind, run_id, step, state, input, plan, plan_digest, \
         observed_digest, observed_at, irreversible, needs_role, requested_by, requested_at, \
         expires_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(a.kind.as_str())
    .bind(a.run.to_string())
    .bind(a.step.number())
    .bind(a.input.to_string())
    .bind(a.plan.to_string())
    .bind(a.plan_digest)
    .bind(a.observed_digest)
    .bind(to_millis(a.observed_at))
    .bind(i64::from(a.irreversible))
    .bind(a.needs_role.as_str())
    .bind(a.requested_by)
    .bind(to_millis(a.requested_at))
    .bind(to_millis(a.expires_at))
    .fetch_one(conn)
    .await?
    .try_get("id")?;
    Ok(id)
}

pub async fn get(conn: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<Option<ApprovalRow>> {
    let row = crate::store::sql::query("SELECT * FROM approvals WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The request waiting for `step` of `run`, if any (expired or not).
pub async fn pending_for(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
) -> sqlx::Result<Option<ApprovalRow>> {
    let row = crate::store::sql::query(
        "SELECT * FROM approvals WHERE run_id = ? AND step = ? AND state = 'pending'",
    )
    .bind(run.to_string())
    .bind(step.number())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Decides a pending request: `state` with who, when, the comment and the outcome. False when
/// it was no longer pending (someone else decided first); nothing is written then.
pub async fn decide(
    conn: impl AnyExecutor<'_>,
    id: i64,
    state: ApprovalState,
    by: Option<&str>,
    comment: Option<&str>,
    outcome: Option<&str>,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, comment = ?, \
         outcome = ? WHERE id = ? AND state = 'pending'",
    )
    .bind(state.as_str())
    .bind(by)
    .bind(to_millis(Utc::now()))
    .bind(comment)
    .bind(outcome)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing<'a> {
    /// Pending, not expired, not requested by this user, and within this role's reach.
    ForMe { user: &'a str, role: Role },
    /// Requested by this user (any state).
    Mine(&'a str),
    /// Every decided (or expired) request, newest first.
    Decided,
    /// Everything, newest first.
    All,
}

/// Newest first, at most `limit`.
pub async fn list(
    conn: impl AnyExecutor<'_>,
    which: Listing<'_>,
    limit: u32,
) -> sqlx::Result<Vec<ApprovalRow>> {
    let now = to_millis(Utc::now());
    let q = match which {
        Listing::ForMe { user, role } => crate::store::sql::query(
            "SELECT * FROM approvals WHERE state = 'pending' AND expires_at > ? \
             AND requested_by <> ? AND (needs_role = 'operator' OR ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(now)
        .bind(user.to_owned())
        .bind(role == Role::Admin),
        Listing::Mine(user) => crate::store::sql::query(
            "SELECT * FROM approvals WHERE requested_by = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(user.to_owned()),
        Listing::Decided => crate::store::sql::query(
            "SELECT * FROM approvals WHERE state <> 'pending' OR expires_at <= ? \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(now),
        Listing::All => {
            crate::store::sql::query("SELECT * FROM approvals ORDER BY id DESC LIMIT ?")
        }
    };
    let rows = q.bind(i64::from(limit)).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// How many pending requests `user` with `role` could decide now (the nav's count).
pub async fn count_for(conn: impl AnyExecutor<'_>, user: &str, role: Role) -> sqlx::Result<i64> {
    if role < Role::Operator {
        return Ok(0);
    }
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT COUNT(*) FROM approvals WHERE state = 'pending' AND expires_at > ? \
         AND requested_by <> ? AND (needs_role = 'operator' OR ?)",
    )
    .bind(to_millis(Utc::now()))
    .bind(user)
    .bind(role == Role::Admin)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// [`count_for`] through the store's short-lived read cache: every signed-in page shows this
/// count in its nav, so a page must not pay a query for it each time. A decision or a new
/// request made by this process shows at once (it bumps the write generation); an expiry or
/// another process's change shows within `read_cache::TTL`.
pub async fn count_for_cached(store: &super::Store, user: &str, role: Role) -> sqlx::Result<i64> {
    if role < Role::Operator {
        return Ok(0);
    }
    let key = format!("{user}|{role:?}");
    // Taken before the read: a write committed during it leaves the entry stale.
    let (generation, now) = (store.write_generation(), std::time::Instant::now());
    if let Some(n) = store.approval_counts().get(&key, generation, now) {
        return Ok(n);
    }
    let n = count_for(store.readers(), user, role).await?;
    store.approval_counts().put(key, n, generation, now);
    Ok(n)
}

/// Runs with a request waiting for a decision now (not expired): history and the dashboard
/// say "waiting for approval" for them instead of "active". Pending requests are few, and
/// `approvals_by_state` finds them without reading the others.
pub async fn runs_waiting(
    conn: impl AnyExecutor<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<std::collections::HashSet<RunId>> {
    let rows: Vec<String> = crate::store::sql::query_scalar(
        "SELECT DISTINCT run_id FROM approvals WHERE state = 'pending' AND expires_at > ?",
    )
    .bind(to_millis(now))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| decode(r.parse())).collect()
}
