//! Step 4's per-instance exceptions to the retire rules, edited one at a time while the step
//! waits for the operator: recorded at once (so paging, sorting and filtering the table never
//! lose one), with an event on the timeline and an audit entry in the same transaction —
//! and, when the caller asks, whatever else must commit with the edit or not at all (the step
//! 4 page's stored row and counts, `web::pages::verify_edit`).

use std::collections::BTreeMap;

use serde_json::json;

use super::Engine;
use super::actor::Actor;
use super::errors::EngineError;
use crate::store::{self, RunId, RunStatus, Step};
use crate::wizard::input::{FieldErrors, RetireException};

impl Engine {
    /// Records `choice` as the exception for one instance (`None`: the rule applies again).
    /// Only while step 4 waits for input, and only for an instance of the run's VPC.
    pub async fn set_retire_exception(
        &self,
        run: RunId,
        instance_id: &str,
        choice: Option<RetireException>,
        actor: impl Into<Actor<'_>>,
    ) -> Result<(), EngineError> {
        self.set_retire_exception_with(run, instance_id, choice, actor, async |_, _| Ok(()))
            .await
    }

    /// [`Engine::set_retire_exception`], running `also` in the same write transaction after
    /// the exception is written, given the stored inputs' version
    /// (`store::verify_rows::inputs_version`) read in it just before: both commit, or
    /// neither. `also` must be short (the writer is shared with every lease heartbeat).
    pub async fn set_retire_exception_with<F>(
        &self,
        run: RunId,
        instance_id: &str,
        choice: Option<RetireException>,
        actor: impl Into<Actor<'_>>,
        also: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncFnOnce(&mut sqlx::AnyConnection, i64) -> sqlx::Result<()>,
    {
        let actor = actor.into();
        let user = actor.user;
        let r = self.run(run).await?;
        if r.status != RunStatus::Active || r.current_step != Step::Verify {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "exceptions to the retire rules can change only while step 4 waits for you",
            ));
        }
        // One row by id, not the whole report: this answers every click of a large table.
        let known = super::protection::ensure_rows(self.store(), run).await?
            && store::exposure::has_instance(self.store().readers(), run, instance_id).await?;
        if !known {
            let mut errs = FieldErrors::default();
            errs.0.insert(
                "instance_id".into(),
                format!(
                    "{instance_id} is not an instance of {}; reload the table and pick one from it",
                    r.vpc_id
                ),
            );
            return Err(errs.into());
        }
        let mut tx = self.store().begin_write().await?;
        let before = store::verify_rows::inputs_version(&mut *tx, run).await?;
        store::retire_exceptions::set(&mut *tx, run, instance_id, choice, user).await?;
        let what = match choice {
            None => "follows the rule again".to_owned(),
            Some(RetireException::Keep) => "keeps its public IP".to_owned(),
            Some(RetireException::Reversible) => "takes the reversible path".to_owned(),
            Some(RetireException::Irreversible) => "takes the irreversible path".to_owned(),
        };
        let msg = format!("{user}: {instance_id} {what} (exception to the retire rules)");
        self.append_event(&mut tx, run, Step::Verify, &msg).await?;
        let details = json!({
            "instance_id": instance_id,
            "choice": choice.map_or("rule", RetireException::as_str),
        });
        actor
            .audit(&mut *tx, "run.retire_exception", run, &details)
            .await?;
        also(&mut tx, before).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The run's exceptions to the retire rules as edited so far.
    pub async fn retire_exceptions(
        &self,
        run: RunId,
    ) -> Result<BTreeMap<String, RetireException>, EngineError> {
        Ok(store::retire_exceptions::list(self.store().readers(), run).await?)
    }
}
