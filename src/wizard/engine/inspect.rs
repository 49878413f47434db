//! The run's cloud outside a background job — for plans and for read-only views of the VPC as
//! it is now and as the assessment saw it (the topology picture, the Terraform export). Every call lands in the run's
//! ledger like those of a job, so the history shows that someone looked.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Engine;
use super::ctx::LedgerWriter;
use super::errors::EngineError;
use crate::store::{self, RunId, Step, runs::Run};
use crate::wizard::cloud::{CallScope, Cloud};
use crate::wizard::observed::Inventory;

impl Engine {
    /// A fresh inventory (every page) of the run's VPC. Changes nothing.
    pub async fn current_inventory(&self, run: RunId) -> Result<Inventory, EngineError> {
        let r = self.run(run).await?;
        let vpc = r.vpc_id.as_str();
        self.with_cloud(&r, r.current_step, |cloud| async move {
            Ok(cloud.inventory(vpc).await?)
        })
        .await
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
        Ok(stored.and_then(|(body, at)| Some((serde_json::from_value(body).ok()?, at))))
    }
}
