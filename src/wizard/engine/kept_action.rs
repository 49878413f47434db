//! Releasing or re-binding one kept EIP (issue 13 item 6), from the typed record that names
//! exactly that address (`kept_list`), never from "everything except…". In order:
//! 1. the request: the address is one the run still keeps, the operator typed its IP or id,
//!    the run is finished (a live run's rollback binds it back), and — for a release, which is
//!    irreversible — the soak period is over;
//! 2. the run's lease (and this process's run lock), so no job or other process acts on the
//!    run meanwhile, and the calls go into the run's ledger like a step's;
//! 3. a look at the cloud right before the call: the EIP still exists with the same IP and id,
//!    is bound to nothing (not to a NAT gateway, not to a server); for a re-bind, the target
//!    instance is in the run's VPC and has no public IP. Anything else fails closed, saying why;
//! 4. the call, then — in one transaction — the action row, the audit entry and the run's
//!    undo record (a released EIP cannot be bound back by a rollback, and a re-bound one is
//!    left where the operator put it).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Engine;
use super::ctx::LedgerWriter;
use super::jobs::{UndoEntry, to_json};
use super::kept_list::{KeptEip, KeptOrigin, kept_list};
use crate::store::{self, RunId, UndoState, kept_eips::ActionKind};
use crate::wizard::cloud::{CallScope, Cloud, CloudError};
use crate::wizard::observed::AddressKind;
use crate::wizard::plan::Undo;

/// A CVM instance id as an operator types it (`ins-` and letters or digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn parse(s: &str) -> Result<InstanceId, String> {
        let s = s.trim();
        let rest = s.strip_prefix("ins-").unwrap_or_default();
        if !rest.is_empty() && rest.len() <= 40 && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(InstanceId(s.to_owned()))
        } else {
            Err(format!(
                "{s:?} is not an instance id; type the id of a server in the run's VPC, like ins-xxxxxxxx"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to do with the kept EIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptAction {
    Release,
    Rebind(InstanceId),
}

impl KeptAction {
    fn kind(&self) -> ActionKind {
        match self {
            KeptAction::Release => ActionKind::Release,
            KeptAction::Rebind(_) => ActionKind::Rebind,
        }
    }
}

/// One request from the Kept EIPs page.
#[derive(Debug, Clone)]
pub struct KeptRequest<'a> {
    pub run: RunId,
    pub address_id: &'a str,
    /// What the operator typed to confirm: the EIP's IP or its id.
    pub typed: &'a str,
    pub action: KeptAction,
    pub actor: &'a str,
    /// The operator's client address, for the audit log.
    pub client_ip: &'a str,
    /// `[kept_eips] soak`.
    pub soak: std::time::Duration,
}

/// Why a request was refused or failed; `code`/`request_id` when the cloud answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KeptRefusal {
    pub message: String,
    pub code: Option<String>,
    pub request_id: Option<String>,
}

impl KeptRefusal {
    fn plain(message: impl Into<String>) -> KeptRefusal {
        KeptRefusal {
            message: message.into(),
            code: None,
            request_id: None,
        }
    }
}

impl From<CloudError> for KeptRefusal {
    fn from(e: CloudError) -> KeptRefusal {
        KeptRefusal {
            message: format!("{}: {}", e.action, e.message),
            code: Some(e.code),
            request_id: e.request_id,
        }
    }
}

fn db(e: impl std::fmt::Display) -> KeptRefusal {
    KeptRefusal::plain(format!(
        "could not read or write the database ({e}); nothing was changed in the cloud unless the run's ledger says so"
    ))
}

/// When a kept EIP may be released.
pub fn release_from(kept: &KeptEip, soak: std::time::Duration) -> DateTime<Utc> {
    kept.since + chrono::Duration::from_std(soak).unwrap_or(chrono::Duration::MAX)
}

impl Engine {
    /// Every kept EIP of `run`, or of every run (see `kept_list`).
    pub async fn kept_eips(
        &self,
        run: Option<RunId>,
    ) -> Result<Vec<KeptEip>, super::records::RecordError> {
        kept_list(self.store(), run).await
    }

    /// Releases or re-binds one kept EIP; says what was done. See the module comment.
    pub async fn act_on_kept_eip(&self, req: &KeptRequest<'_>) -> Result<String, KeptRefusal> {
        // Refused at once when the request is wrong; checked again under the lease.
        self.kept_to_act_on(req).await?;
        let lock = self.run_lock(req.run);
        let _one_at_a_time = lock.lock().await;
        let ttl = self.inner.options.lease.ttl;
        match store::lease::take(self.store().writer(), req.run, self.holder(), ttl)
            .await
            .map_err(db)?
        {
            Ok(_) => {}
            Err(other) => {
                return Err(KeptRefusal::plain(format!(
                    "run {} is being driven by natpilot process {} (until {}); try again when it is done",
                    req.run,
                    other.holder,
                    other.expires_at.to_rfc3339()
                )));
            }
        }
        let result = tokio::select! {
            r = self.act_leased(req) => r,
            () = self.keep_lease(req.run) => Err(KeptRefusal::plain(
                "lost the run's lease to another natpilot process before the call ended; check the run's ledger",
            )),
        };
        if let Err(e) = store::lease::release(self.store().writer(), req.run, self.holder()).await {
            tracing::error!(run = %req.run, error = %e, "could not release the run's lease");
        }
        result
    }

    /// Step 1: the stored record, the typed confirmation, the run's state and the soak.
    async fn kept_to_act_on(&self, req: &KeptRequest<'_>) -> Result<KeptEip, KeptRefusal> {
        let all = kept_list(self.store(), Some(req.run)).await.map_err(db)?;
        let Some(kept) = all
            .into_iter()
            .find(|k| k.address_id.as_deref() == Some(req.address_id))
        else {
            return Err(KeptRefusal::plain(format!(
                "run {} keeps no EIP {} (already released or re-bound, or never kept by this run); reload the list",
                req.run, req.address_id
            )));
        };
        let typed = req.typed.trim();
        if typed != kept.ip && typed != req.address_id {
            return Err(KeptRefusal::plain(format!(
                "to confirm, type the EIP's IP {} or its id {} exactly",
                kept.ip, req.address_id
            )));
        }
        let run = self.run(req.run).await.map_err(db)?;
        if run.status.holds_vpc() {
            return Err(KeptRefusal::plain(format!(
                "run {} is {}; finish or roll back the run first (a rollback binds its kept EIPs back)",
                req.run, run.status
            )));
        }
        if !kept.origin.idle() {
            return Err(KeptRefusal::plain(format!(
                "EIP {} is bound to its instance again ({}); it has no idle charge and natpilot leaves it alone",
                kept.ip,
                kept.origin.words()
            )));
        }
        if req.action == KeptAction::Release {
            let from = release_from(&kept, req.soak);
            if Utc::now() < from {
                return Err(KeptRefusal::plain(format!(
                    "EIP {} is in its soak period: it may be released from {} (kept since {}); until then it can still be bound back",
                    kept.ip,
                    from.format("%Y-%m-%d %H:%M:%S UTC"),
                    kept.since.format("%Y-%m-%d %H:%M:%S UTC")
                )));
            }
        }
        Ok(kept)
    }

    /// Steps 3 and 4, holding the lease; a failure after the cloud was asked is recorded.
    async fn act_leased(&self, req: &KeptRequest<'_>) -> Result<String, KeptRefusal> {
        // Again under the lease: a request that waited for another one (a double submit) or
        // for a job of the run decides from the records as they are now.
        let kept = &self.kept_to_act_on(req).await?;
        let run = self.run(req.run).await.map_err(db)?;
        let scope = CallScope {
            run: req.run,
            step: kept.step,
        };
        let ledger = std::sync::Arc::new(LedgerWriter::new(
            self.store().clone(),
            scope,
            self.inner.holder.clone(),
        ));
        let outcome = match self
            .inner
            .connector
            .connect(&run.account, &run.region, ledger)
        {
            Ok(cloud) => call(cloud.as_ref(), &run.vpc_id, req, kept).await,
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(done) => {
                self.record(req, kept, Ok(&done)).await.map_err(db)?;
                Ok(done)
            }
            Err(refusal) => {
                self.record(req, kept, Err(&refusal)).await.map_err(db)?;
                Err(refusal)
            }
        }
    }

    /// The action row, the audit entry and (when done) the undo record, in one transaction.
    async fn record(
        &self,
        req: &KeptRequest<'_>,
        kept: &KeptEip,
        outcome: Result<&String, &KeptRefusal>,
    ) -> Result<(), sqlx::Error> {
        let instance = match &req.action {
            KeptAction::Rebind(i) => Some(i.as_str()),
            KeptAction::Release => None,
        };
        let (done, detail, code, request_id) = match outcome {
            Ok(d) => (true, d.clone(), None, None),
            Err(r) => (
                false,
                r.message.clone(),
                r.code.clone(),
                r.request_id.clone(),
            ),
        };
        let mut tx = self.store().begin_write().await?;
        store::kept_eips::insert(
            &mut *tx,
            &store::kept_eips::NewAction {
                run: req.run,
                address_id: req.address_id,
                ip: &kept.ip,
                kind: req.action.kind(),
                instance_id: instance,
                done,
                actor: req.actor,
                detail: &detail,
                code: code.as_deref(),
                request_id: request_id.as_deref(),
            },
        )
        .await?;
        let action = format!(
            "kept_eip.{}{}",
            req.action.kind().as_str(),
            if done { "" } else { "_failed" }
        );
        let details = json!({
            "run": req.run.to_string(),
            "account": kept.account,
            "region": kept.region,
            "address_id": req.address_id,
            "ip": kept.ip,
            "instance_id": instance,
            "detail": detail,
            "code": code,
            "request_id": request_id,
        });
        store::audit::record(
            &mut *tx,
            req.actor,
            req.client_ip,
            &action,
            req.address_id,
            &details,
        )
        .await?;
        if done && kept.step == crate::store::Step::Verify {
            // A rollback must neither bind a released EIP back (it is gone) nor take a re-bound
            // one off the instance the operator chose: the record now says what happened.
            let (undo, state) = match &req.action {
                KeptAction::Release => (
                    Undo::CannotUndo {
                        what: format!(
                            "EIP {} ({}) was released by {} from the Kept EIPs page",
                            kept.ip, req.address_id, req.actor
                        ),
                    },
                    UndoState::Irreversible,
                ),
                KeptAction::Rebind(i) => (
                    Undo::NothingToUndo {
                        what: format!(
                            "EIP {} ({}) was re-bound to {} by {} from the Kept EIPs page",
                            kept.ip,
                            req.address_id,
                            i.as_str(),
                            req.actor
                        ),
                    },
                    UndoState::NotNeeded,
                ),
            };
            let key = match &kept.origin {
                KeptOrigin::Unbound { instance } | KeptOrigin::Converted { instance } => {
                    format!("disassociate:{instance}")
                }
                _ => String::new(),
            };
            let entry = to_json(&UndoEntry { key, undo });
            store::undo::set_state(&mut *tx, kept.record, state, Some(&entry), Some(&detail))
                .await?;
        }
        tx.commit().await?;
        let level = if done {
            store::EventLevel::Info
        } else {
            store::EventLevel::Warn
        };
        // The timeline entry is a courtesy: the action row, audit entry and ledger hold it.
        match store::events::append(
            self.store().writer(),
            req.run,
            Some(kept.step),
            level,
            &format!("kept EIPs page: {detail}"),
            &json!({"kept_eip": req.address_id}),
        )
        .await
        {
            Ok(ev) => {
                let _ = self.sender(req.run).send(ev);
            }
            Err(e) => {
                tracing::warn!(run = %req.run, error = %e, "could not add the kept-EIP action to the run's timeline")
            }
        }
        Ok(())
    }
}

/// The re-check and the call.
async fn call(
    cloud: &dyn Cloud,
    vpc_id: &str,
    req: &KeptRequest<'_>,
    kept: &KeptEip,
) -> Result<String, KeptRefusal> {
    let seen = cloud.eips_with_ip(&kept.ip).await?;
    let Some(addr) = seen.iter().find(|a| a.kind == AddressKind::Eip) else {
        return Err(KeptRefusal::plain(format!(
            "no EIP holds {} any more (released in the console?); nothing was done",
            kept.ip
        )));
    };
    if addr.id != req.address_id {
        return Err(KeptRefusal::plain(format!(
            "{} is now held by EIP {}, not by the kept EIP {}; nothing was done",
            kept.ip, addr.id, req.address_id
        )));
    }
    if let Some(holder) = &addr.instance_id {
        let on = if holder.starts_with("nat-") {
            format!("NAT gateway {holder}")
        } else {
            holder.clone()
        };
        return Err(KeptRefusal::plain(format!(
            "EIP {} ({}) is bound to {on} since it was kept; natpilot releases or re-binds only an unbound EIP. Nothing was done",
            kept.ip, req.address_id
        )));
    }
    if !addr.status.eq_ignore_ascii_case("UNBIND") {
        return Err(KeptRefusal::plain(format!(
            "EIP {} ({}) is {} (not UNBIND); try again once it is unbound. Nothing was done",
            kept.ip, req.address_id, addr.status
        )));
    }
    match &req.action {
        KeptAction::Release => {
            cloud.release_address(req.address_id).await?;
            Ok(format!("released EIP {} ({})", kept.ip, req.address_id))
        }
        KeptAction::Rebind(instance) => {
            let inv = cloud.inventory(vpc_id).await?;
            let Some(target) = inv.instances.iter().find(|i| i.id == instance.as_str()) else {
                return Err(KeptRefusal::plain(format!(
                    "instance {} is not in the run's VPC {vpc_id} (or does not exist); natpilot binds a kept EIP only to a server of that VPC",
                    instance.as_str()
                )));
            };
            let bound = inv
                .addresses
                .iter()
                .find(|a| a.instance_id.as_deref() == Some(instance.as_str()));
            if let Some(ip) = target.public_ip.as_ref().or(bound.map(|a| &a.ip)) {
                return Err(KeptRefusal::plain(format!(
                    "instance {} already has the public IP {ip}; a server takes one public IP, so nothing was done",
                    instance.as_str()
                )));
            }
            cloud
                .associate_address(req.address_id, instance.as_str())
                .await?;
            Ok(format!(
                "bound EIP {} ({}) to {}",
                kept.ip,
                req.address_id,
                instance.as_str()
            ))
        }
    }
}
