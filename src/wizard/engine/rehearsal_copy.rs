//! Starting a rehearsal (issue 13 item 7): the run starts at once, marked as a rehearsal in
//! the phase "copying the VPC", and a background job of this process — the twin's owner —
//! copies the real VPC into the twin: `snapshot` through the real account's client, describe
//! calls only, each written ahead in the run's ledger with no step (calls to the real
//! account, before step 1; the ledger refuses any mutating call), with what it lists and how
//! many so far on the run page. Then the twin is registered and the job drives step 1's
//! assessment on it. A copy that fails ends the run (abandoned, fail closed) with the code and
//! RequestId; one cut by a shutdown or crash is ended as lost by the next start
//! (`end_lost_rehearsals`), its twin never having existed anywhere else. An operator may
//! abandon the rehearsal during the copy (`Engine::abandon`): the copy stops at once, here or
//! on whichever process copies, and no twin is registered.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;

use super::actor::Actor;
use super::ctx::LedgerWriter;
use super::errors::StartError;
use super::rehearsal::NATPILOT;
use super::{Engine, Job};
use crate::rehearsal::{SnapshotFailure, TwinCopy, TwinError, make_twin};
use crate::snapshot::Progress;
use crate::store::{
    self, EventLevel, RunId, RunStatus, Step, rehearsals::CopyProgress, runs::Failure, runs::Run,
};

/// The real account's client as a copy uses it: a read-only survey, at background priority
/// like an estate scan, so a run on the same account and region (same action budgets) goes
/// first and a rehearsal never slows the real rollout it prepares.
fn surveying(real: &crate::tencent::Client) -> crate::tencent::Client {
    real.in_background()
}

/// How often a copy looks whether its rehearsal was abandoned on another process.
const COPY_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// The `phase` of a run's `last_error` when the copy failed.
pub const COPY_PHASE: &str = "copy of the real VPC";

impl Engine {
    /// Starts the rehearsal of `copy.of` on the twin `copy.label`: the run (audited as
    /// `rehearsal.start`) in the copying phase, and the job that copies the real VPC and then
    /// assesses the twin. Returns as soon as the run is recorded.
    pub async fn start_rehearsal(
        &self,
        copy: TwinCopy,
        actor: impl Into<Actor<'_>>,
    ) -> Result<RunId, StartError> {
        let account = copy.label.to_string();
        let (region, vpc_id) = (copy.of.region.clone(), copy.of.vpc_id.clone());
        let run = self
            .start_marked(&account, &region, &vpc_id, actor.into(), Some(&copy.of))
            .await?;
        let id = run.id;
        if self.is_shutting_down() {
            // No job now; the next start ends it as lost (the twin was never made).
            tracing::info!(run = %id, "shutting down: the rehearsal's copy is not started");
            return Ok(id);
        }
        let engine = self.clone();
        let handle = tokio::spawn(async move { engine.copy_then_assess(run, copy).await });
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, handle);
        Ok(id)
    }

    /// The copy job: the twin, then step 1's assessment on it (`wait` waits for both).
    async fn copy_then_assess(&self, run: Run, copy: TwinCopy) {
        let id = run.id;
        let ledger =
            LedgerWriter::copy_of_real_vpc(self.store().clone(), id, self.inner.holder.clone());
        let real = crate::wizard::tencent_cloud::ledgered(&surveying(&copy.real), Arc::new(ledger));
        let (progress, mut heard) = mpsc::unbounded_channel();
        let report = move |p: Progress| {
            let _ = progress.send(p);
        };
        let (region, vpc_id, delay) = (run.region.clone(), run.vpc_id.clone(), copy.async_delay);
        let make = async move {
            let made = make_twin(&real, &region, &vpc_id, delay, &report).await;
            // The progress stream ends with the snapshot.
            drop(report);
            made
        };
        let mut shutdown = self.shutdown_signal();
        let stopping = async move {
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        };
        let made = tokio::select! {
            (made, ()) = async { tokio::join!(make, self.show_copy(id, &mut heard)) } => made,
            () = stopping => {
                tracing::info!(run = %id, "shutting down during a rehearsal's copy; the next start ends it as lost");
                return;
            }
            () = self.until_not_copying(id) => {
                // Abandoned: the call in flight is dropped (its ledger row stays "sent", no
                // answer recorded); the twin was never registered.
                tracing::info!(run = %id, "the rehearsal ended during its copy; the copy stops");
                return;
            }
        };
        let failure = match made {
            Ok((twin, warnings)) => {
                copy.twins.insert(&copy.label, twin);
                match self.copied(id, &warnings).await {
                    Ok(true) => return self.drive(run, Job::Assess).await,
                    Ok(false) => {
                        // The run ended meanwhile: no run will use this twin.
                        copy.twins.remove(&copy.label);
                        return;
                    }
                    Err(e) => {
                        copy.twins.remove(&copy.label);
                        SnapshotFailure {
                            action: None,
                            code: "natpilot.Database".into(),
                            request_id: None,
                            message: format!("could not record the end of the copy: {e}"),
                        }
                    }
                }
            }
            Err(TwinError::Snapshot(failure)) => failure,
            Err(TwinError::Simulator(message)) => SnapshotFailure {
                action: None,
                code: "natpilot.TwinSimulator".into(),
                request_id: None,
                message,
            },
        };
        copy.twins.remove(&copy.label);
        if let Err(e) = self.end_failed_copy(id, &failure).await {
            // It stays copying; the next start ends it as lost.
            tracing::error!(run = %id, error = %e, "could not record a rehearsal's failed copy");
        }
    }

    /// Resolves once run `id` no longer waits for its copy (step 1 "applying"): abandoned by
    /// an operator on this process (its event wakes this at once) or another one (the tick).
    /// A failed read does not stop the copy: `copied` looks again before the twin is used.
    async fn until_not_copying(&self, id: RunId) {
        let mut events = self.subscribe(id);
        loop {
            let tick = tokio::time::sleep(COPY_CHECK);
            tokio::pin!(tick);
            tokio::select! {
                heard = events.recv() => {
                    if matches!(heard, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        tick.as_mut().await;
                    }
                }
                () = tick.as_mut() => {}
            }
            match store::runs::get(self.store().readers(), id).await {
                Ok(Some(r))
                    if (r.status, r.current_step) == (RunStatus::Applying, Step::Assess) => {}
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(run = %id, error = %e, "could not look whether a rehearsal still copies");
                }
            }
        }
    }

    /// Shows the copy's progress as it comes: what it lists and how many so far on the
    /// rehearsal's row (the live fragment reads it), and an event per completed list. Only
    /// the newest count of a burst is written. Ends with the snapshot.
    async fn show_copy(&self, run: RunId, heard: &mut mpsc::UnboundedReceiver<Progress>) {
        let mut burst = Vec::new();
        while heard.recv_many(&mut burst, 256).await > 0 {
            let newest = burst
                .iter()
                .rposition(|p| matches!(p, Progress::Listing { .. }));
            for (i, p) in burst.drain(..).enumerate() {
                let shown = match p {
                    Progress::Listing {
                        what,
                        action,
                        listed,
                        total,
                    } if Some(i) == newest => {
                        let copy = CopyProgress {
                            what: what.to_owned(),
                            action: action.to_owned(),
                            listed: i64::try_from(listed).unwrap_or(i64::MAX),
                            total: total.map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
                        };
                        store::rehearsals::set_copy_progress(self.store().writer(), run, &copy)
                            .await
                    }
                    Progress::Listing { .. } => Ok(()),
                    Progress::Listed {
                        what,
                        action,
                        count,
                    } => {
                        let message = format!("copy of the real VPC — {what}: {count} ({action})");
                        let data = json!({"copy": action, "count": count});
                        self.copy_event(run, EventLevel::Info, &message, &data)
                            .await
                    }
                };
                if let Err(e) = shown {
                    // Progress only: the copy goes on; its calls are in the ledger anyway.
                    tracing::warn!(run = %run, error = %e, "could not show a rehearsal's copy progress");
                }
            }
        }
    }

    async fn copy_event(
        &self,
        run: RunId,
        level: EventLevel,
        message: &str,
        data: &serde_json::Value,
    ) -> sqlx::Result<()> {
        let step = Some(Step::Assess);
        let ev =
            store::events::append(self.store().writer(), run, step, level, message, data).await?;
        let _ = self.sender(run).send(ev);
        Ok(())
    }

    /// The copy is done: the rehearsal goes on on its twin. False when the run no longer
    /// waits for its copy (it ended meanwhile).
    async fn copied(&self, run: RunId, warnings: &[String]) -> sqlx::Result<bool> {
        let mut tx = self.store().begin_write().await?;
        // A write, not a read: it holds the run's row until this commits, so an abandon made
        // meanwhile (which changes the row, then looks at the phase) is either seen here or
        // sees the copy done and is refused.
        let waiting = store::runs::still(&mut *tx, run, RunStatus::Applying, Step::Assess).await?;
        if !waiting || !store::rehearsals::copied(&mut *tx, run, warnings).await? {
            return Ok(false);
        }
        let message = "the real VPC is copied into the twin; assessing the twin";
        let ev = store::events::append(
            &mut *tx,
            run,
            Some(Step::Assess),
            EventLevel::Info,
            message,
            &json!({"warnings": warnings.len()}),
        )
        .await?;
        tx.commit().await?;
        let _ = self.sender(run).send(ev);
        Ok(true)
    }

    /// Ends a rehearsal whose copy failed, fail closed: abandoned, with the failure's code and
    /// RequestId as its error and its reason; nothing real was changed (describe calls only).
    async fn end_failed_copy(&self, run: RunId, failure: &SnapshotFailure) -> sqlx::Result<()> {
        let reason = format!(
            "the copy of the real VPC failed, so the rehearsal cannot start: {failure}. Nothing \
             real was changed (describe calls only); check the VPC, the region and the account's \
             permissions, then rehearse again"
        );
        let mut tx = self.store().begin_write().await?;
        let from = [RunStatus::Applying];
        let (abandoned, step) = (RunStatus::Abandoned, Step::Assess);
        if !store::runs::transition(&mut *tx, run, &from, abandoned, step, Some(NATPILOT)).await? {
            return Ok(());
        }
        let error = Failure {
            step,
            phase: COPY_PHASE.to_owned(),
            code: failure.code.clone(),
            message: failure.message.clone(),
            request_id: failure.request_id.clone(),
        };
        let by = Some(NATPILOT);
        store::runs::set_status(&mut *tx, run, abandoned, step, Some(&error), by).await?;
        store::rehearsals::set_ended_reason(&mut *tx, run, &reason).await?;
        let details = json!({
            "code": failure.code,
            "request_id": failure.request_id,
            "action": failure.action,
        });
        let ev = store::events::append(
            &mut *tx,
            run,
            Some(step),
            EventLevel::Error,
            &format!("rehearsal ended: {reason}"),
            &details,
        )
        .await?;
        Actor::from(NATPILOT)
            .audit(&mut *tx, "rehearsal.copy_failed", run, &details)
            .await?;
        tx.commit().await?;
        let _ = self.sender(run).send(ev);
        tracing::warn!(run = %run, code = %failure.code, "a rehearsal's copy failed; run abandoned");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::tencent::{Client, ratelimit::Priority};

    #[test]
    fn a_copy_calls_the_real_account_at_background_priority() {
        let real = Client::for_endpoint("http://127.0.0.1:9", "AKIDtest", "secret").unwrap();
        assert_eq!(real.priority(), Priority::Foreground);
        assert_eq!(super::surveying(&real).priority(), Priority::Background);
    }
}
