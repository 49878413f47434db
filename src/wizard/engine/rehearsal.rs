//! The engine's side of rehearsals (issue 13 item 7): ending — fail closed — the rehearsals
//! whose twin died with the previous process. Starting one and its copy job are in
//! `rehearsal_copy`; making the twin (snapshot, simulator) is `crate::rehearsal`'s job.

use serde_json::json;

use super::Engine;
use super::actor::Actor;
use super::errors::EngineError;
use crate::rehearsal::{LOST, TwinLabel};
use crate::store::{self, EventLevel, RunId, RunStatus};

/// Who ends a lost rehearsal (the audit log's user column).
pub(super) const NATPILOT: &str = "natpilot";

impl Engine {
    /// Ends every unfinished rehearsal whose twin's owner is gone: its twin lived in the
    /// memory of a process that no longer renews its claim (or, for a rehearsal from before
    /// owners were recorded, of an earlier process), so it cannot go on against anything.
    /// A rehearsal this process owns, or another live process owns (waiting for its operator,
    /// with no lease) or drives, is left alone. Called at start-up, before
    /// [`Engine::resume`], and then with every lease check. Returns how many were ended.
    pub async fn end_lost_rehearsals(&self) -> Result<usize, EngineError> {
        let lost = store::rehearsals::unfinished(self.store().readers()).await?;
        let now = chrono::Utc::now();
        let mut ended = 0;
        for h in lost {
            let ours = h.owner.as_deref() == Some(self.holder());
            if ours || h.owner_alive(now) || self.driver(h.run).await?.is_some() {
                continue;
            }
            ended += usize::from(self.end_lost(h.run).await?);
        }
        Ok(ended)
    }

    /// This process as the owner of the twins it makes, vouched for one lease period.
    pub(super) fn rehearsal_owner(&self) -> store::rehearsals::Owner<'_> {
        let ttl = chrono::Duration::from_std(self.inner.options.lease.ttl)
            .unwrap_or(chrono::Duration::MAX);
        store::rehearsals::Owner {
            holder: self.holder(),
            until: chrono::Utc::now() + ttl,
        }
    }

    /// The heartbeat of this process's twins (with the lease heartbeat), then the end of the
    /// rehearsals whose owner stopped renewing.
    pub(super) async fn watch_rehearsals(&self) -> Result<(), EngineError> {
        store::rehearsals::renew_owner(self.store().writer(), &self.rehearsal_owner()).await?;
        let lost = self.end_lost_rehearsals().await?;
        if lost > 0 {
            tracing::warn!(
                lost,
                "ended rehearsals whose owning natpilot process is gone"
            );
        }
        Ok(())
    }

    /// Gives up this process's twins (they stop with it): another process starting next ends
    /// their rehearsals at once instead of a lease period later.
    pub(super) async fn give_up_rehearsals(&self) -> Result<(), EngineError> {
        let owner = store::rehearsals::Owner {
            holder: self.holder(),
            until: chrono::Utc::now(),
        };
        store::rehearsals::renew_owner(self.store().writer(), &owner).await?;
        Ok(())
    }

    async fn end_lost(&self, run: RunId) -> Result<bool, EngineError> {
        let r = self.run(run).await?;
        if !TwinLabel::is_twin(&r.account) {
            // A rehearsals row on a run of a real account would be a bug: leave it alone.
            tracing::error!(run = %run, account = %r.account, "rehearsal row on a real run");
            return Ok(false);
        }
        let from = [
            RunStatus::Active,
            RunStatus::Applying,
            RunStatus::Failed,
            RunStatus::RollingBack,
        ];
        let actor = Actor::from(NATPILOT);
        let mut tx = self.store().begin_write().await?;
        let moved = store::runs::transition(
            &mut *tx,
            run,
            &from,
            RunStatus::Abandoned,
            r.current_step,
            Some(NATPILOT),
        )
        .await?;
        if !moved {
            return Ok(false);
        }
        store::rehearsals::set_ended_reason(&mut *tx, run, LOST).await?;
        let msg = format!("rehearsal ended: {LOST}");
        let ev = store::events::append(
            &mut *tx,
            run,
            Some(r.current_step),
            EventLevel::Error,
            &msg,
            &json!({"code": "natpilot.TwinLost"}),
        )
        .await?;
        let details = json!({"reason": LOST});
        actor
            .audit(&mut *tx, "rehearsal.lost", run, &details)
            .await?;
        self.void_pending_in(&mut tx, &r, actor, LOST).await?;
        tx.commit().await?;
        let _ = self.sender(run).send(ev);
        tracing::warn!(run = %run, "{msg}");
        Ok(true)
    }
}
