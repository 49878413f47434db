//! Kept EIPs (issue 13 item 6), SQL only: the undo records a kept EIP is derived from (with
//! the run each belongs to), and the release / re-bind actions of migration 0230. What is kept
//! is decided by `wizard::engine::kept_list` from the typed records; the store does not
//! interpret them beyond picking the rows by their JSON `kind` and `key`.

use chrono::{DateTime, Utc};
use sqlx::{AnyExecutor, AssertSqlSafe, Row};

use super::types::{RunId, RunStatus, decode, from_millis, now_millis};
use super::undo::{UndoRecord, from_row};

/// An undo record a kept EIP may come from, with the run it belongs to.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub record: UndoRecord,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub status: RunStatus,
}

/// Step 4's rebind records (what it unbound and kept), its release and transform records (an
/// unbound EIP that was then released is not kept; a converted one says so), and step 2's
/// gateway record (the EIPs a rollback kept). `run`: one run, else every run but rehearsals
/// (a twin's EIPs are not the estate's). Oldest first.
pub async fn candidates(
    conn: impl AnyExecutor<'_>,
    run: Option<RunId>,
) -> sqlx::Result<Vec<Candidate>> {
    let (kind, key) = (
        crate::store::sql::json_text("u.action", &["undo", "kind"]),
        crate::store::sql::json_text("u.action", &["key"]),
    );
    let rows = crate::store::sql::query(AssertSqlSafe(format!(
        "SELECT u.id, u.run_id, u.step, u.action, u.state, u.note, u.created_at, u.updated_at, \
                r.account, r.region, r.vpc_id, r.status \
         FROM undo_records u JOIN runs r ON r.id = u.run_id \
         WHERE (?1 IS NULL OR u.run_id = ?1) \
           AND (?1 IS NOT NULL OR NOT EXISTS (SELECT 1 FROM rehearsals h WHERE h.run_id = u.run_id)) \
           AND ( \
           (u.step = 4 AND ({kind} = 'reassociate_eip' \
                            OR {key} LIKE 'release:%' \
                            OR {key} LIKE 'transform:%')) \
           OR (u.step = 2 AND {kind} = 'delete_nat_gateway')) \
         ORDER BY u.id"
    )))
    .bind(run.map(|r| r.to_string()))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let run: String = r.try_get("run_id")?;
            let run: RunId = decode(run.parse())?;
            let status: String = r.try_get("status")?;
            Ok(Candidate {
                record: from_row(r, run)?,
                account: r.try_get("account")?,
                region: r.try_get("region")?,
                vpc_id: r.try_get("vpc_id")?,
                status: decode(status.parse())?,
            })
        })
        .collect()
}

/// What an operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Release,
    Rebind,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Release => "release",
            ActionKind::Rebind => "rebind",
        }
    }

    fn parse(s: &str) -> Result<ActionKind, super::types::BadValue> {
        match s {
            "release" => Ok(ActionKind::Release),
            "rebind" => Ok(ActionKind::Rebind),
            other => Err(super::types::BadValue {
                what: "kept EIP action",
                value: other.to_owned(),
            }),
        }
    }
}

/// One release or re-bind as it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub id: i64,
    pub run: RunId,
    pub address_id: String,
    pub ip: String,
    pub kind: ActionKind,
    pub instance_id: Option<String>,
    /// `true`: done (the address is no longer kept); `false`: failed or refused at the check.
    pub done: bool,
    pub actor: String,
    pub detail: String,
    pub code: Option<String>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// A new action row, before it has an id and a time.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    pub run: RunId,
    pub address_id: &'a str,
    pub ip: &'a str,
    pub kind: ActionKind,
    pub instance_id: Option<&'a str>,
    pub done: bool,
    pub actor: &'a str,
    pub detail: &'a str,
    pub code: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

pub async fn insert(conn: impl AnyExecutor<'_>, a: &NewAction<'_>) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "INSERT INTO kept_eip_actions (run_id, address_id, ip, action, instance_id, state, actor, \
         detail, code, request_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(a.run.to_string())
    .bind(a.address_id)
    .bind(a.ip)
    .bind(a.kind.as_str())
    .bind(a.instance_id)
    .bind(if a.done { "done" } else { "failed" })
    .bind(a.actor)
    .bind(a.detail)
    .bind(a.code)
    .bind(a.request_id)
    .bind(now_millis())
    .fetch_one(conn)
    .await
}

/// The actions of one run, or of every run; newest first.
pub async fn list(conn: impl AnyExecutor<'_>, run: Option<RunId>) -> sqlx::Result<Vec<Action>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM kept_eip_actions WHERE (?1 IS NULL OR run_id = ?1) ORDER BY at DESC, id DESC",
    )
    .bind(run.map(|r| r.to_string()))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let run: String = r.try_get("run_id")?;
            let kind: String = r.try_get("action")?;
            let state: String = r.try_get("state")?;
            let done = match state.as_str() {
                "done" => true,
                "failed" => false,
                other => {
                    return Err(sqlx::Error::Decode(Box::new(super::types::BadValue {
                        what: "kept EIP action state",
                        value: other.to_owned(),
                    })));
                }
            };
            Ok(Action {
                id: r.try_get("id")?,
                run: decode(run.parse())?,
                address_id: r.try_get("address_id")?,
                ip: r.try_get("ip")?,
                kind: decode(ActionKind::parse(&kind))?,
                instance_id: r.try_get("instance_id")?,
                done,
                actor: r.try_get("actor")?,
                detail: r.try_get("detail")?,
                code: r.try_get("code")?,
                request_id: r.try_get("request_id")?,
                at: from_millis(r.try_get("at")?),
            })
        })
        .collect()
}
