//! Read-only views of a run's VPC as it is now, for the topology picture and the Terraform
//! export. The describe calls land in the run's ledger like every other call, so the history
//! shows that someone looked.

use chrono::{DateTime, Utc};

use super::Engine;
use super::ctx::LedgerWriter;
use super::errors::EngineError;
use crate::store::{self, RunId};
use crate::wizard::cloud::CallScope;
use crate::wizard::observed::Inventory;

impl Engine {
    /// A fresh inventory (every page) of the run's VPC. Changes nothing.
    pub async fn current_inventory(&self, run: RunId) -> Result<Inventory, EngineError> {
        let r = self.run(run).await?;
        let (ledger, sink) = LedgerWriter::start(self.store().clone());
        let scope = CallScope {
            run,
            step: r.current_step,
        };
        let result = match self
            .inner
            .connector
            .connect(&r.account, &r.region, scope, sink)
        {
            Ok(cloud) => cloud.inventory(&r.vpc_id).await,
            Err(e) => Err(e),
        };
        ledger.finish().await;
        Ok(result?)
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
