//! Campaigns (issue 13 item 5): the campaign rows, their members (one per selected VPC, with
//! where the campaign stands with its run), the campaign's timeline, and the campaign lease
//! that keeps one driver per campaign across processes (the idea of `lease`, for campaigns).
//! Every enum column is read back strictly: an unknown value is a decode error.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{AnyExecutor, Row, any::AnyRow};

use super::types::{BadValue, RunId, RunStatus, Step, decode, from_millis, now_millis};

/// A campaign's id: a uuid, like a run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CampaignId(pub uuid::Uuid);

impl CampaignId {
    pub fn new() -> CampaignId {
        CampaignId(uuid::Uuid::new_v4())
    }
}

impl Default for CampaignId {
    fn default() -> Self {
        CampaignId::new()
    }
}

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for CampaignId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<CampaignId, uuid::Error> {
        uuid::Uuid::parse_str(s).map(CampaignId)
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = BadValue;
            fn from_str(s: &str) -> Result<$name, BadValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(BadValue { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}

text_enum!(
    /// Where a campaign stands.
    CampaignState, "campaign state" {
        /// Its driver starts and drives runs.
        Running = "running",
        /// Someone pressed Stop: no run is started or driven by it any more.
        Stopped = "stopped",
        /// Every member has ended (done, failed, refused or skipped).
        Finished = "finished",
    }
);

text_enum!(
    /// Where the campaign stands with one VPC.
    MemberState, "campaign member state" {
        /// Not started yet (waits for a free slot).
        Waiting = "waiting",
        /// Its run is started and the campaign drives it.
        Driving = "driving",
        /// Its run waits for a person (a blocker, a warning, step 1's review); the campaign
        /// drives it again once someone moves the run past `held`.
        NeedsYou = "needs_you",
        /// A confirmation waits for a second person's approval (four eyes).
        Approval = "approval",
        /// Its run completed.
        Done = "done",
        /// Its run failed, or ended without completing.
        Failed = "failed",
        /// Its run could not be started (the VPC was busy, or the input was refused).
        Refused = "refused",
        /// Never started: the campaign stopped first.
        Skipped = "skipped",
    }
);

impl MemberState {
    /// Whether the campaign is done with this VPC.
    pub fn is_end(&self) -> bool {
        matches!(
            self,
            MemberState::Done | MemberState::Failed | MemberState::Refused | MemberState::Skipped
        )
    }

    /// Whether this VPC takes one of the campaign's slots: its run is started and unfinished.
    pub fn in_flight(&self) -> bool {
        matches!(
            self,
            MemberState::Driving | MemberState::NeedsYou | MemberState::Approval
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub state: CampaignState,
    pub concurrency: u32,
    pub keep_going: bool,
    pub confirm_assessed: bool,
    /// JSON of `wizard::campaign::CampaignInputs` (decoded strictly by the wizard).
    pub inputs: serde_json::Value,
    /// The failure that stopped new runs from starting (when not keeping going).
    pub halted_by_failure: Option<String>,
    pub stopped_by: Option<String>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub position: i64,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub run_id: Option<RunId>,
    pub state: MemberState,
    pub detail: String,
    /// The run position a person must move the run past before the campaign drives it again.
    pub held: Option<(RunStatus, Step)>,
    pub approval_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A campaign to insert, with its VPCs in start order.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub name: &'a str,
    pub started_by: &'a str,
    pub concurrency: u32,
    pub keep_going: bool,
    pub confirm_assessed: bool,
    pub inputs: &'a serde_json::Value,
    /// (account, region, VPC id).
    pub members: &'a [(String, String, String)],
}

fn bool_col(r: &AnyRow, col: &str) -> sqlx::Result<bool> {
    Ok(r.try_get::<i64, _>(col)? != 0)
}

fn opt_time(r: &AnyRow, col: &str) -> sqlx::Result<Option<DateTime<Utc>>> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(from_millis))
}

fn campaign_from_row(r: &AnyRow) -> sqlx::Result<Campaign> {
    let id: String = r.try_get("id")?;
    let state: String = r.try_get("state")?;
    let inputs: String = r.try_get("inputs")?;
    let concurrency: i64 = r.try_get("concurrency")?;
    Ok(Campaign {
        id: decode(id.parse())?,
        name: r.try_get("name")?,
        started_by: r.try_get("started_by")?,
        started_at: from_millis(r.try_get("started_at")?),
        state: decode(state.parse())?,
        concurrency: decode(u32::try_from(concurrency))?,
        keep_going: bool_col(r, "keep_going")?,
        confirm_assessed: bool_col(r, "confirm_assessed")?,
        inputs: decode(serde_json::from_str(&inputs))?,
        halted_by_failure: r.try_get("halted_by_failure")?,
        stopped_by: r.try_get("stopped_by")?,
        stopped_at: opt_time(r, "stopped_at")?,
        finished_at: opt_time(r, "finished_at")?,
    })
}

fn member_from_row(r: &AnyRow) -> sqlx::Result<Member> {
    let run: Option<String> = r.try_get("run_id")?;
    let state: String = r.try_get("state")?;
    let held_status: Option<String> = r.try_get("held_status")?;
    let held_step: Option<i64> = r.try_get("held_step")?;
    let held = match (held_status, held_step) {
        (Some(s), Some(n)) => Some((decode(s.parse())?, decode(Step::from_number(n))?)),
        (None, None) => None,
        _ => {
            return Err(sqlx::Error::Decode(Box::new(BadValue {
                what: "campaign member hold",
                value: "a status without a step (or the reverse)".into(),
            })));
        }
    };
    Ok(Member {
        position: r.try_get("position")?,
        account: r.try_get("account")?,
        region: r.try_get("region")?,
        vpc_id: r.try_get("vpc_id")?,
        run_id: run.map(|s| decode(s.parse())).transpose()?,
        state: decode(state.parse())?,
        detail: r.try_get("detail")?,
        held,
        approval_id: r.try_get("approval_id")?,
        started_at: opt_time(r, "started_at")?,
        ended_at: opt_time(r, "ended_at")?,
    })
}

/// Inserts the campaign, its members (all `waiting`) and its first timeline entry, in the
/// caller's transaction.
pub async fn insert(
    tx: &mut sqlx::AnyConnection,
    new: &NewCampaign<'_>,
) -> sqlx::Result<CampaignId> {
    let id = CampaignId::new();
    let now = now_millis();
    crate::store::sql::query(
        "INSERT INTO campaigns (id, name, started_by, started_at, state, concurrency, keep_going, \
         confirm_assessed, inputs) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(new.name)
    .bind(new.started_by)
    .bind(now)
    .bind(i64::from(new.concurrency))
    .bind(i64::from(new.keep_going))
    .bind(i64::from(new.confirm_assessed))
    .bind(new.inputs.to_string())
    .execute(&mut *tx)
    .await?;
    for (i, (account, region, vpc)) in new.members.iter().enumerate() {
        crate::store::sql::query(
            "INSERT INTO campaign_members (campaign_id, position, account, region, vpc_id, state) \
             VALUES (?, ?, ?, ?, ?, 'waiting')",
        )
        .bind(id.to_string())
        .bind(i as i64)
        .bind(account)
        .bind(region)
        .bind(vpc)
        .execute(&mut *tx)
        .await?;
    }
    Ok(id)
}

pub async fn get(conn: impl AnyExecutor<'_>, id: CampaignId) -> sqlx::Result<Option<Campaign>> {
    let row = crate::store::sql::query("SELECT * FROM campaigns WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(campaign_from_row).transpose()
}

/// The newest campaigns first.
pub async fn list(conn: impl AnyExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Campaign>> {
    let rows =
        crate::store::sql::query("SELECT * FROM campaigns ORDER BY started_at DESC, id LIMIT ?")
            .bind(limit)
            .fetch_all(conn)
            .await?;
    rows.iter().map(campaign_from_row).collect()
}

/// Campaigns whose driver should be running.
pub async fn running(conn: impl AnyExecutor<'_>) -> sqlx::Result<Vec<CampaignId>> {
    let rows = crate::store::sql::query(
        "SELECT id FROM campaigns WHERE state = 'running' ORDER BY started_at",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| decode(r.try_get::<String, _>("id")?.parse()))
        .collect()
}

pub async fn members(conn: impl AnyExecutor<'_>, id: CampaignId) -> sqlx::Result<Vec<Member>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM campaign_members WHERE campaign_id = ? ORDER BY position",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(member_from_row).collect()
}

/// Writes a member's changing columns as `m` has them.
pub async fn put_member(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
    m: &Member,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE campaign_members SET run_id = ?, state = ?, detail = ?, held_status = ?, \
         held_step = ?, approval_id = ?, started_at = ?, ended_at = ? \
         WHERE campaign_id = ? AND position = ?",
    )
    .bind(m.run_id.map(|r| r.to_string()))
    .bind(m.state.as_str())
    .bind(&m.detail)
    .bind(m.held.map(|(s, _)| s.as_str()))
    .bind(m.held.map(|(_, s)| s.number()))
    .bind(m.approval_id)
    .bind(m.started_at.map(|t| t.timestamp_millis()))
    .bind(m.ended_at.map(|t| t.timestamp_millis()))
    .bind(id.to_string())
    .bind(m.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims a waiting member for starting its run (driving, since `now`), only while it is
/// waiting and its campaign runs: a Stop recorded meanwhile wins. False when not claimed.
pub async fn claim_member(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
    position: i64,
    detail: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    let now = now_millis();
    let done = crate::store::sql::query(
        "UPDATE campaign_members SET state = 'driving', started_at = ?, detail = ? \
         WHERE campaign_id = ? AND position = ? AND state = 'waiting' \
           AND EXISTS (SELECT 1 FROM campaigns WHERE id = ? AND state = 'running')",
    )
    .bind(now)
    .bind(detail)
    .bind(id.to_string())
    .bind(position)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok((done.rows_affected() == 1).then(|| from_millis(now)))
}

/// Stops a running campaign (the Stop button). False when it was not running.
pub async fn stop(conn: impl AnyExecutor<'_>, id: CampaignId, by: &str) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE campaigns SET state = 'stopped', stopped_by = ?, stopped_at = ? \
         WHERE id = ? AND state = 'running'",
    )
    .bind(by)
    .bind(now_millis())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the failure after which no new run starts (the first one only).
pub async fn halt(conn: impl AnyExecutor<'_>, id: CampaignId, why: &str) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE campaigns SET halted_by_failure = ? WHERE id = ? AND halted_by_failure IS NULL",
    )
    .bind(why)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a running campaign finished. False when it was not running (stopped meanwhile).
pub async fn finish(conn: impl AnyExecutor<'_>, id: CampaignId) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE campaigns SET state = 'finished', finished_at = ? WHERE id = ? AND state = 'running'",
    )
    .bind(now_millis())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn append_event(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
    message: &str,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO campaign_events (campaign_id, at, message) VALUES (?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(now_millis())
    .bind(message)
    .execute(conn)
    .await?;
    Ok(())
}

/// The campaign's timeline, oldest first: (id, when, what).
pub async fn events(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
) -> sqlx::Result<Vec<(i64, DateTime<Utc>, String)>> {
    let rows = crate::store::sql::query(
        "SELECT id, at, message FROM campaign_events WHERE campaign_id = ? ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                from_millis(r.try_get("at")?),
                r.try_get("message")?,
            ))
        })
        .collect()
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Takes the campaign's lease for `holder` (free, expired, or already `holder`'s), in one
/// statement so two processes racing for it cannot both win. `Some(other holder)` when a
/// live lease is another's.
pub async fn take_lease(
    conn: impl AnyExecutor<'_> + Clone,
    id: CampaignId,
    holder: &str,
    ttl: std::time::Duration,
) -> sqlx::Result<Option<String>> {
    let now = now_millis();
    let row = crate::store::sql::query(
        "INSERT INTO campaign_leases (campaign_id, holder, expires_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (campaign_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE campaign_leases.holder = excluded.holder OR campaign_leases.expires_at <= ?4 \
         RETURNING holder",
    )
    .bind(id.to_string())
    .bind(holder)
    .bind(now.saturating_add(ms(ttl)))
    .bind(now)
    .fetch_optional(conn.clone())
    .await?;
    if row.is_some() {
        return Ok(None);
    }
    let other =
        crate::store::sql::query("SELECT holder FROM campaign_leases WHERE campaign_id = ?")
            .bind(id.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(Some(match other {
        Some(r) => r.try_get("holder")?,
        None => String::new(),
    }))
}

/// Extends `holder`'s lease; false when another process holds it now (stop driving).
pub async fn renew_lease(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
    holder: &str,
    ttl: std::time::Duration,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE campaign_leases SET expires_at = ? WHERE campaign_id = ? AND holder = ?",
    )
    .bind(now_millis().saturating_add(ms(ttl)))
    .bind(id.to_string())
    .bind(holder)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `holder` holds the campaign's lease now (checked before each action of a driver).
pub async fn holds_lease(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
    holder: &str,
) -> sqlx::Result<bool> {
    let row = crate::store::sql::query(
        "SELECT 1 FROM campaign_leases WHERE campaign_id = ? AND holder = ? AND expires_at > ?",
    )
    .bind(id.to_string())
    .bind(holder)
    .bind(now_millis())
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Whether some process holds a live lease on the campaign.
pub async fn lease_holder(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
) -> sqlx::Result<Option<String>> {
    let row = crate::store::sql::query(
        "SELECT holder FROM campaign_leases WHERE campaign_id = ? AND expires_at > ?",
    )
    .bind(id.to_string())
    .bind(now_millis())
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.try_get("holder")).transpose()
}

/// Gives the lease up (the driver ended or the process shuts down).
pub async fn release_lease(
    conn: impl AnyExecutor<'_>,
    id: CampaignId,
    holder: &str,
) -> sqlx::Result<()> {
    crate::store::sql::query("DELETE FROM campaign_leases WHERE campaign_id = ? AND holder = ?")
        .bind(id.to_string())
        .bind(holder)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::tests::temp_store;

    async fn one(store: &crate::store::Store) -> CampaignId {
        let inputs = serde_json::json!({});
        let members = [("a".into(), "ap-guangzhou".into(), "vpc-1".into())];
        let new = NewCampaign {
            name: "c",
            started_by: "alice",
            concurrency: 2,
            keep_going: false,
            confirm_assessed: false,
            inputs: &inputs,
            members: &members,
        };
        let mut tx = store.begin_write().await.unwrap();
        let id = insert(&mut tx, &new).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    #[tokio::test]
    async fn a_campaign_lease_is_held_by_one_process_until_it_expires() {
        let (_dir, store) = temp_store().await;
        let id = one(&store).await;
        let w = store.writer();
        let ttl = Duration::from_secs(15);
        assert_eq!(take_lease(w.clone(), id, "a", ttl).await.unwrap(), None);
        assert_eq!(
            take_lease(w.clone(), id, "b", ttl).await.unwrap(),
            Some("a".into())
        );
        assert!(renew_lease(w.clone(), id, "a", ttl).await.unwrap());
        assert!(!renew_lease(w.clone(), id, "b", ttl).await.unwrap());
        // Expired: another process takes it, the old holder cannot renew it.
        assert!(
            renew_lease(w.clone(), id, "a", Duration::ZERO)
                .await
                .unwrap()
        );
        assert_eq!(take_lease(w.clone(), id, "b", ttl).await.unwrap(), None);
        assert!(!renew_lease(w.clone(), id, "a", ttl).await.unwrap());
        assert!(holds_lease(w.clone(), id, "b").await.unwrap());
        release_lease(w.clone(), id, "b").await.unwrap();
        assert_eq!(lease_holder(w.clone(), id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_member_is_claimed_once_and_never_after_a_stop() {
        let (_dir, store) = temp_store().await;
        let id = one(&store).await;
        let w = store.writer();
        assert!(
            claim_member(w.clone(), id, 0, "starting")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            claim_member(w.clone(), id, 0, "starting")
                .await
                .unwrap()
                .is_none()
        );
        let other = one(&store).await;
        assert!(stop(w.clone(), other, "bob").await.unwrap());
        assert!(
            claim_member(w.clone(), other, 0, "starting")
                .await
                .unwrap()
                .is_none()
        );
        let m = members(store.readers(), other).await.unwrap().remove(0);
        assert_eq!(m.state, MemberState::Waiting);
    }

    #[tokio::test]
    async fn a_member_row_that_does_not_decode_is_an_error_not_a_default() {
        let (_dir, store) = temp_store().await;
        let id = one(&store).await;
        let mut m = members(store.readers(), id).await.unwrap().remove(0);
        assert_eq!(m.state, MemberState::Waiting);
        m.held = Some((RunStatus::Active, Step::Route));
        put_member(store.writer(), id, &m).await.unwrap();
        let back = members(store.readers(), id).await.unwrap().remove(0);
        assert_eq!(back.held, Some((RunStatus::Active, Step::Route)));
        crate::store::sql::query("UPDATE campaign_members SET held_step = NULL")
            .execute(store.writer())
            .await
            .unwrap();
        assert!(members(store.readers(), id).await.is_err());
        assert!(stop(store.writer(), id, "bob").await.unwrap());
        assert!(!finish(store.writer(), id).await.unwrap());
    }
}
