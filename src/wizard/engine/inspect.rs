//! The run's cloud outside a background job — for plans and for read-only views of the VPC as
//! it is now and as the assessment saw it (the topology picture, the Terraform export).
//! Calls made for a plan land in the run's ledger like those of a job. Calls made only to
//! show someone the VPC ([`Engine::view_inventory`]) do not: the ledger is exactly the calls
//! the run made, and a viewer looking at a finished run must not add to it (issue 10). They
//! are logged at debug level instead.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Engine;
use super::ctx::LedgerWriter;
use super::errors::EngineError;
use super::records::RecordError;
use crate::store::{self, RunId, Step, runs::Run};
use crate::tencent::Refusal;
use crate::wizard::cloud::{CallScope, Cloud, LedgerAnswer, LedgerCall, LedgerFuture, LedgerSink};
use crate::wizard::observed::Inventory;

impl Engine {
    /// The run's VPC for its step pages: the page-view snapshot while the run waits for the
    /// operator (see `snapshots`), else a fresh inventory (every page). Changes nothing.
    pub async fn current_inventory(&self, run: RunId) -> Result<Arc<Inventory>, EngineError> {
        let r = self.run(run).await?;
        Ok(self.snapshot(&r).await?.inventory)
    }

    /// A fresh inventory of the run's VPC for a read-only view (topology, Terraform export):
    /// the same calls as [`Engine::current_inventory`], kept out of the run's ledger.
    pub async fn view_inventory(&self, run: RunId) -> Result<Inventory, EngineError> {
        let r = self.run(run).await?;
        let cloud =
            (self.inner.connector).connect(&r.account, &r.region, Arc::new(NotRecorded(r.id)))?;
        Ok(cloud.inventory(&r.vpc_id).await?)
    }

    /// Runs `f` on a cloud for `r` whose calls land in its ledger under `step` (written ahead,
    /// like a job's). Only reads are expected here: a mutating call is refused unless this
    /// process holds the run's lease.
    pub(super) async fn with_cloud<'a, T, F, Fut>(
        &self,
        r: &Run,
        step: Step,
        f: F,
    ) -> Result<T, EngineError>
    where
        F: FnOnce(Arc<dyn Cloud>) -> Fut,
        Fut: Future<Output = Result<T, EngineError>> + 'a,
    {
        let scope = CallScope { run: r.id, step };
        let ledger = Arc::new(LedgerWriter::new(
            self.store().clone(),
            scope,
            self.inner.holder.clone(),
        ));
        match self.inner.connector.connect(&r.account, &r.region, ledger) {
            Ok(cloud) => f(cloud).await,
            Err(e) => Err(e.into()),
        }
    }

    /// The VPC as the run's assessment saw it (before any change) and when, if recorded.
    pub async fn inventory_before(
        &self,
        run: RunId,
    ) -> Result<Option<(Inventory, DateTime<Utc>)>, EngineError> {
        let stored = store::inventories::get_before(self.store().readers(), run).await?;
        match stored {
            None => Ok(None),
            Some((body, at)) => {
                let inv = serde_json::from_value(body).map_err(|e| RecordError::Corrupt {
                    what: "inventory before the run".into(),
                    run,
                    detail: e.to_string(),
                })?;
                Ok(Some((inv, at)))
            }
        }
    }
}

/// The ledger of a read-only view: reads are logged, not recorded with the run; anything that
/// would change the cloud is refused (a view never changes anything).
struct NotRecorded(RunId);

impl LedgerSink for NotRecorded {
    fn sent<'a>(&'a self, call: LedgerCall<'a>) -> LedgerFuture<'a, Result<i64, Refusal>> {
        let run = self.0;
        Box::pin(async move {
            if call.mutates {
                return Err(Refusal {
                    code: "natpilot.ReadOnlyView".into(),
                    reason: format!("a read-only view of run {run} never sends {}", call.action),
                });
            }
            tracing::debug!(%run, action = call.action, "read-only view call (not in the run's ledger)");
            Ok(0)
        })
    }

    fn answered(&self, _entry: i64, _answer: LedgerAnswer) -> LedgerFuture<'_, ()> {
        Box::pin(async {})
    }
}
