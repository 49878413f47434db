//! The engine's side of rehearsals (issue 13 item 7): starting a run on a twin, marked in the
//! same transaction, and ending — fail closed — the rehearsals whose twin died with the
//! previous process. Making the twin (snapshot, simulator) is `crate::rehearsal`'s job.

use serde_json::json;

use super::Engine;
use super::actor::Actor;
use super::errors::{EngineError, StartError};
use crate::rehearsal::{LOST, TwinLabel};
use crate::store::{self, EventLevel, RunId, RunStatus, rehearsals::RehearsalOf};

/// Who ends a lost rehearsal (the audit log's user column).
const NATPILOT: &str = "natpilot";

impl Engine {
    /// Starts the rollout of `of.vpc_id` on the twin `twin` (already registered with the
    /// connector), marked as a rehearsal of `of` with the snapshot's `warnings`.
    pub async fn start_rehearsal(
        &self,
        twin: &TwinLabel,
        of: &RehearsalOf,
        warnings: &[String],
        actor: impl Into<Actor<'_>>,
    ) -> Result<RunId, StartError> {
        let account = twin.to_string();
        let mark = Some((of, warnings));
        self.start_marked(&account, &of.region, &of.vpc_id, actor.into(), mark)
            .await
    }

    /// Ends every unfinished rehearsal not driven by another live process: its twin lived in
    /// the memory of a process that is gone, so it cannot go on against anything. Call once
    /// at start-up, before [`Engine::resume`]. Returns how many were ended.
    pub async fn end_lost_rehearsals(&self) -> Result<usize, EngineError> {
        let lost = store::rehearsals::unfinished(self.store().readers()).await?;
        let mut ended = 0;
        for h in lost {
            if self.driver(h.run).await?.is_some() {
                continue;
            }
            ended += usize::from(self.end_lost(h.run).await?);
        }
        Ok(ended)
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
