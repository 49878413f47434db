//! Step 4's stored rows follow an exception as it is saved (issue 11). Operators save
//! exceptions one row at a time, each POST answered at once, and look at the table again:
//! so the save plans once in memory (the engine's plan with the exception, for the page's plan
//! and digest), builds only that instance's row, and moves the row, the header's counts and
//! plan and its inputs version in the transaction that records the exception. The next view is
//! a stored read, as current as a rebuild would be (tests compare the two).
//!
//! It patches nothing when anything else moved under it — another input written (the version),
//! another rule or snapshot (the basis), another view's rebuild (the generation): the rows are
//! then stale by their version and the next view has them rebuilt (`verify_build`). The
//! confirm is decided by the engine's fresh plan and the plan digest, whatever was stored.

use std::collections::BTreeMap;

use crate::{
    app::AppState,
    store::{
        RunId, RunStatus, Step,
        runs::Run,
        types::decode,
        verify_rows::{self, Header, VerifyRecord},
    },
    web::error::WebError,
    wizard::{
        engine::{EngineError, Snapshot},
        input::{RetireException, StepInput},
    },
};

use super::{
    run_actions::engine_error,
    step_details,
    step_view::{PlanView, plan_view},
    verify_query::VerifyCounts,
    verify_step::{EgressLine, VerifyQuery},
    verify_step_form,
    verify_stored::{self, Body},
};

/// One exception's edit of the stored rows: planned before the write transaction (the slow
/// part, in memory), applied in it.
pub struct Edit {
    run: RunId,
    /// The header as read when the edit was planned: only exactly it is moved.
    from: Header,
    /// The stored inputs' version the plan was made at, before the exception is written.
    version: i64,
    basis: String,
    plan: PlanView,
    counts: VerifyCounts,
    nat_ips: Vec<String>,
    row: VerifyRecord,
    line: EgressLine,
}

/// The edit `instance`'s exception becoming `choice` makes to the stored rows of the view
/// with `rules` (the rules of the page the button was pressed on), or `None` when those rows
/// are not the current ones (the next view rebuilds them anyway).
pub async fn prepare(
    state: &AppState,
    run: &Run,
    instance: &str,
    choice: Option<RetireException>,
    rules: &VerifyQuery,
) -> Result<Option<Edit>, WebError> {
    if !(run.status == RunStatus::Active && run.current_step == Step::Verify) {
        return Ok(None);
    }
    let Some(snapshot) = state.engine.kept_snapshot(run, Step::Verify) else {
        return Ok(None);
    };
    let picture = state.verify_builds.picture(run.id, &snapshot);
    let readers = state.store.readers();
    let version = verify_rows::inputs_version(readers, run.id).await?;
    let Some(from) = verify_rows::header(readers, run.id).await? else {
        return Ok(None);
    };
    if from.version != version {
        return Ok(None);
    }
    let exceptions: BTreeMap<String, RetireException> = (state.engine)
        .retire_exceptions(run.id)
        .await
        .map_err(engine_error)?;
    let Ok(mut input) =
        verify_step_form::parse(&rules.eip, &rules.ordinary, &rules.vpc, run, exceptions)
    else {
        return Ok(None);
    };
    if verify_stored::basis(run, &picture, &input) != from.basis {
        return Ok(None);
    }
    match choice {
        Some(c) => input.exceptions.insert(instance.to_owned(), c),
        None => input.exceptions.remove(instance),
    };
    let wrapped = StepInput::Verify(input.clone());
    let (plan, inventory, seen) = match state.engine.preview_step_seen(run.id, &wrapped).await {
        Ok(planned) => planned,
        Err(EngineError::Db(e)) => return Err(e.into()),
        Err(_) => return Ok(None),
    };
    let (Some(inventory), Some(taken_at)) = (inventory, seen) else {
        return Ok(None);
    };
    let planned_from = Snapshot {
        inventory: inventory.clone(),
        taken_at,
    };
    if state.verify_builds.picture(run.id, &planned_from) != picture {
        return Ok(None);
    }
    let Some(line) =
        step_details::verify_line(state, run, &inventory, &plan, &input, instance).await?
    else {
        return Ok(None);
    };
    // Written by this program: one that does not decode is an error, not a guess.
    let body: Body = decode(serde_json::from_str(&from.body))?;
    Ok(Some(Edit {
        run: run.id,
        basis: verify_stored::basis(run, &picture, &input),
        plan: plan_view(&plan, Some(&inventory)),
        counts: body.counts,
        nat_ips: body.nat_ips,
        row: verify_stored::record_of(&line),
        line,
        from,
        version,
    }))
}

impl Edit {
    /// In the exception's write transaction, `before` being the stored inputs' version just
    /// before the exception was written: the row and the header move with it, or (something
    /// else moved since the edit was planned) nothing does.
    pub async fn apply(self, conn: &mut sqlx::AnyConnection, before: i64) -> sqlx::Result<()> {
        if before != self.version {
            return Ok(());
        }
        let stored = verify_rows::row(
            &mut *conn,
            self.run,
            self.from.generation,
            &self.row.instance_id,
        )
        .await?;
        let Some(stored) = stored else {
            return Ok(());
        };
        let mut counts = self.counts;
        counts.count(&verify_stored::line_of(&stored)?, false);
        counts.count(&self.line, true);
        let body = Body {
            counts,
            plan: self.plan,
            nat_ips: self.nat_ips,
        };
        let to = Header {
            generation: self.from.generation,
            // The exception's own write bumped it: these rows are of the inputs with it.
            version: verify_rows::inputs_version(&mut *conn, self.run).await?,
            basis: self.basis,
            body: serde_json::to_string(&body).map_err(|e| sqlx::Error::Encode(e.into()))?,
        };
        verify_rows::patch(conn, self.run, &self.from, &to, &[self.row]).await?;
        Ok(())
    }
}
