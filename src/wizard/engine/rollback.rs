//! Rollback: the run's undo records in reverse order (step 4's many at once). Each undo looks at the cloud first, so a
//! rollback resumed after a crash never undoes twice. What cannot be undone (released or
//! returned addresses, a public IP that stays an EIP) is named in the rollback report.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::batch::run_bounded;
use super::ctx::{CrashPoint, Ctx, JobError, LEASE_NOT_HELD};
use super::jobs::{UndoEntry, to_json};
use super::records::{self, RecordError};
use crate::store::{self, EventLevel, ReportKind, Step, UndoState, undo::UndoRecord};
use crate::wizard::cloud::CloudError;
use crate::wizard::ids::{NatGatewayId, NatState};
use crate::wizard::observed::{AddressKind, Route};
use crate::wizard::plan::Undo;

mod nat;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackReport {
    pub release_nat_eips: bool,
    pub undone: Vec<String>,
    pub cannot_undo: Vec<String>,
    pub finished: bool,
}

pub(super) enum Outcome {
    Undone(String),
    NotNeeded,
    /// Found to be impossible (an EIP this run may have released is gone): recorded as
    /// irreversible with the reason, and the rollback goes on.
    CannotUndo(String),
}

/// The EIPs this run's own records say it released (step 4's release changes): `made` when the
/// release's call succeeded, `maybe` when it may have been made (pending, failed). Unbinding
/// such an EIP cannot be undone: binding it back would fail on every attempt.
#[derive(Debug, Default)]
pub struct Released {
    made: HashSet<String>,
    maybe: HashSet<String>,
}

impl Released {
    pub fn from_records(records: &[UndoRecord]) -> Released {
        let mut released = Released::default();
        for r in records {
            let Ok(entry) = serde_json::from_value::<UndoEntry>(r.action.clone()) else {
                continue; // an unreadable record stops the rollback on its own
            };
            let Some(address) = super::changes::released_address(&entry.key) else {
                continue;
            };
            // A release is recorded irreversible once its call succeeded (`batch`); pending or
            // failed, it may have reached the cloud or not: the rebind looks first.
            let set = match r.state {
                UndoState::Irreversible | UndoState::Done => &mut released.made,
                _ => &mut released.maybe,
            };
            set.insert(address.to_owned());
        }
        released
    }

    fn made(&self, undo: &Undo) -> Option<String> {
        match undo {
            Undo::ReassociateEip {
                instance_id,
                address_id: Some(address),
                ip,
            } if self.made.contains(address) => Some(released_words(ip, address, instance_id)),
            _ => None,
        }
    }

    /// Whether undoing `undo` would bind back an EIP this run released: it cannot be.
    pub fn was_released(&self, undo: &Undo) -> bool {
        self.made(undo).is_some()
    }

    fn maybe(&self, address: Option<&str>) -> bool {
        address.is_some_and(|a| self.maybe.contains(a) || self.made.contains(a))
    }
}

fn released_words(ip: &str, address: &str, instance: &str) -> String {
    format!("EIP {ip} ({address}) of {instance} was released by this run; it cannot be bound back")
}

/// What a rollback does with one undo record, from the record alone.
pub enum Disposition {
    /// Already undone, or nothing to undo.
    Skip,
    /// Its change cannot be taken back (a released or returned address, an ordinary IP that
    /// stays an EIP, an adopted gateway left in place); the report names it.
    Irreversible(UndoEntry),
    /// Undone after a look at the cloud. `maybe_not_made`: the change may never have reached
    /// the cloud (the record was written before the call and no result came back).
    Undo {
        entry: UndoEntry,
        maybe_not_made: bool,
    },
    /// The record does not decode: the rollback stops here rather than guess what it undoes.
    Unreadable { record: i64, detail: String },
}

pub fn disposition(r: &UndoRecord, released: &Released) -> Disposition {
    let entry = match serde_json::from_value::<UndoEntry>(r.action.clone()) {
        Ok(entry) => entry,
        Err(e) => {
            return Disposition::Unreadable {
                record: r.id,
                detail: e.to_string(),
            };
        }
    };
    if let Some(what) = released.made(&entry.undo)
        && !matches!(r.state, UndoState::Undone | UndoState::NotNeeded)
    {
        return Disposition::Irreversible(UndoEntry {
            key: entry.key,
            undo: Undo::CannotUndo { what },
        });
    }
    match (&entry.undo, r.state) {
        (_, UndoState::Undone | UndoState::NotNeeded) => Disposition::Skip,
        (Undo::NothingToUndo { .. }, _) => Disposition::Skip,
        (Undo::CannotUndo { .. }, _) | (_, UndoState::Irreversible) => {
            Disposition::Irreversible(entry)
        }
        (_, UndoState::Pending) => Disposition::Undo {
            entry,
            maybe_not_made: true,
        },
        (_, UndoState::Done | UndoState::Failed) => Disposition::Undo {
            entry,
            maybe_not_made: false,
        },
    }
}

/// The undo records a rollback would act on, in the order it takes them (newest first), with
/// what it would do to each. For the run page, before the operator rolls back.
pub fn preview(records: &[UndoRecord]) -> Vec<Disposition> {
    let released = Released::from_records(records);
    records
        .iter()
        .rev()
        .map(|r| disposition(r, &released))
        .filter(|d| !matches!(d, Disposition::Skip))
        .collect()
}

pub async fn rollback(ctx: &Ctx, release_nat_eips: bool) -> Result<(), JobError> {
    let records = store::undo::list(ctx.store.readers(), ctx.id()).await?;
    // Every record must be readable before anything is undone: a rollback that stopped half
    // way at an unreadable record would leave the run in a state nobody planned.
    let released = &Released::from_records(&records);
    for r in &records {
        if let Disposition::Unreadable { record, detail } = disposition(r, released) {
            return Err(RecordError::Corrupt {
                what: format!("undo record {record}"),
                run: ctx.id(),
                detail,
            }
            .into());
        }
    }
    // A kept EIP still on the gateway with no record to take it off would be bound back
    // while the gateway holds it, or counted among the gateway's own: stop before anything.
    super::kept_eips::kept_eips(&ctx.store, ctx.id())
        .await?
        .precheck(ctx)
        .await?;
    // Newest first. Step 4's records are the newest and independent across instances (an
    // instance's own records only rebind one EIP), so they are undone many at once like they
    // were applied; then routes, then the NAT gateway, one by one.
    let (retirements, others): (Vec<&UndoRecord>, Vec<&UndoRecord>) =
        records.iter().rev().partition(|r| r.step == Step::Verify);
    undo_concurrently(ctx, retirements, released, release_nat_eips).await?;
    for r in others {
        undo_record(ctx, r, released, release_nat_eips).await?;
    }
    let report = report_from_records(ctx, release_nat_eips).await?;
    store::results::put_report(
        ctx.store.writer(),
        ctx.id(),
        ReportKind::Rollback,
        &to_json(&report),
    )
    .await?;
    if !report.cannot_undo.is_empty() {
        let msg = format!("could not undo: {}", report.cannot_undo.join("; "));
        ctx.event(None, EventLevel::Warn, &msg, json!({})).await?;
    }
    Ok(())
}

/// The report from the stored records, newest first: what each undone record's note says was
/// done (written when it was undone, by whichever process did it) and what cannot be undone.
/// A rollback resumed after a crash thus reports what was undone before the crash too.
async fn report_from_records(
    ctx: &Ctx,
    release_nat_eips: bool,
) -> Result<RollbackReport, JobError> {
    let mut report = RollbackReport {
        release_nat_eips,
        finished: true,
        ..Default::default()
    };
    for u in records::undo_records(&ctx.store, ctx.id())
        .await?
        .iter()
        .rev()
    {
        match (u.record.state, &u.entry.undo) {
            (UndoState::Undone, _) => report.undone.push(
                u.record
                    .note
                    .clone()
                    .unwrap_or_else(|| format!("{}: undone", u.entry.key)),
            ),
            (
                UndoState::Irreversible,
                undo @ (Undo::CannotUndo { .. } | Undo::NothingToUndo { .. }),
            ) => report.cannot_undo.push(cannot(undo)),
            // An undo found impossible at rollback (an EIP this run released): its note says why.
            (UndoState::Irreversible, undo) => report
                .cannot_undo
                .push(u.record.note.clone().unwrap_or_else(|| cannot(undo))),
            _ => {}
        }
    }
    Ok(report)
}

/// Undoes `records`, `ctx.concurrency` at once (see `batch::run_bounded`).
async fn undo_concurrently(
    ctx: &Ctx,
    records: Vec<&UndoRecord>,
    released: &Released,
    release_nat_eips: bool,
) -> Result<(), JobError> {
    let stop = AtomicBool::new(false);
    let stop = &stop;
    // Futures collected first: a closure in the stream would lose `Send` (rust#102211).
    let futures: Vec<_> = records
        .into_iter()
        .map(|r| async move {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            undo_record(ctx, r, released, release_nat_eips).await
        })
        .collect();
    run_bounded(futures, ctx.concurrency, stop).await.map(drop)
}

/// One undo record: skipped when already undone, marked irreversible when it cannot be undone,
/// else undone after a look at the cloud (so a resumed rollback never undoes twice) and
/// recorded with what was done.
async fn undo_record(
    ctx: &Ctx,
    r: &UndoRecord,
    released: &Released,
    release_nat_eips: bool,
) -> Result<(), JobError> {
    let entry = match disposition(r, released) {
        Disposition::Skip => {
            if r.state != UndoState::Undone && r.state != UndoState::NotNeeded {
                let nothing = Some("nothing to undo");
                store::undo::set_state(
                    ctx.store.writer(),
                    r.id,
                    UndoState::NotNeeded,
                    None,
                    nothing,
                )
                .await?;
            }
            return Ok(());
        }
        Disposition::Unreadable { record, detail } => {
            return Err(RecordError::Corrupt {
                what: format!("undo record {record}"),
                run: ctx.id(),
                detail,
            }
            .into());
        }
        Disposition::Irreversible(entry) => {
            if r.state != UndoState::Irreversible {
                let why = cannot(&entry.undo);
                store::undo::set_state(
                    ctx.store.writer(),
                    r.id,
                    UndoState::Irreversible,
                    None,
                    Some(&why),
                )
                .await?;
            }
            return Ok(());
        }
        Disposition::Undo { entry, .. } => entry,
    };
    let key = format!("undo:{}", entry.key);
    ctx.crash_at(CrashPoint::UndoWritten, &key)?;
    let outcome = match undo_one(ctx, r.id, &entry, released, release_nat_eips).await {
        Ok(o) => o,
        // Refused for want of the lease: nothing was sent and the record is the new holder's
        // to undo; marking it failed would record a failure that did not happen.
        Err(JobError::Cloud(e)) if e.code == LEASE_NOT_HELD => return Err(e.into()),
        Err(e) => {
            let why = Some(e.to_string());
            store::undo::set_state(
                ctx.store.writer(),
                r.id,
                UndoState::Failed,
                None,
                why.as_deref(),
            )
            .await?;
            return Err(e);
        }
    };
    ctx.crash_at(CrashPoint::CallSent, &key)?;
    let (state, msg) = match outcome {
        Outcome::Undone(m) => (UndoState::Undone, m),
        Outcome::CannotUndo(m) => (UndoState::Irreversible, m),
        Outcome::NotNeeded => (
            UndoState::NotNeeded,
            format!("{}: nothing to undo", entry.key),
        ),
    };
    store::undo::set_state(ctx.store.writer(), r.id, state, None, Some(&msg)).await?;
    ctx.event(Some(r.step), EventLevel::Info, &msg, json!({"undo": r.id}))
        .await?;
    ctx.crash_at(CrashPoint::ResultRecorded, &key)
}

fn cannot(undo: &Undo) -> String {
    match undo {
        Undo::CannotUndo { what } | Undo::NothingToUndo { what } => what.clone(),
        other => format!("{other:?}"),
    }
}

async fn undo_one(
    ctx: &Ctx,
    record: i64,
    entry: &UndoEntry,
    released: &Released,
    release_nat_eips: bool,
) -> Result<Outcome, JobError> {
    let cloud = |e: CloudError| JobError::Cloud(e);
    match &entry.undo {
        Undo::DeleteNatGateway { .. } => {
            nat::delete_nat(ctx, record, entry, release_nat_eips).await
        }
        Undo::DeleteRoute {
            route_table_id,
            nat_id,
        } => {
            let Some(table) = ctx.cloud.route_table(route_table_id).await? else {
                return Ok(Outcome::NotNeeded);
            };
            match table.default_route() {
                Some(r) if r.points_at(nat_id) => {
                    ctx.cloud.delete_route(route_table_id, r).await?;
                    Ok(Outcome::Undone(format!(
                        "removed 0.0.0.0/0 → {nat_id} from {route_table_id}"
                    )))
                }
                _ => Ok(Outcome::NotNeeded),
            }
        }
        Undo::RestoreRoute {
            route_table_id,
            old,
        } => restore_route(ctx, route_table_id, old).await.map_err(cloud),
        Undo::ReassociateEip {
            instance_id,
            address_id,
            ip,
        } => {
            let rebound = rebind(ctx, instance_id, address_id.as_deref(), ip).await;
            match rebound {
                // Gone, and this run's own record says it may have released it: the release
                // went through, so there is nothing to bind back. Gone otherwise (someone
                // else released it) stays an error: the rollback stops and says so.
                Err(e) if e.code == ADDRESS_GONE && released.maybe(address_id.as_deref()) => {
                    let address = address_id.as_deref().unwrap_or_default();
                    Ok(Outcome::CannotUndo(released_words(
                        ip,
                        address,
                        instance_id,
                    )))
                }
                other => other.map_err(cloud),
            }
        }
        Undo::DisassociateNatEip { nat_id, ip } => super::keep::undo_nat_eip(ctx, nat_id, ip)
            .await
            .map_err(cloud),
        Undo::DeleteSnatRule {
            nat_id,
            snat_id,
            description,
        } => super::keep::undo_snat_rule(ctx, nat_id, snat_id.as_deref(), description)
            .await
            .map_err(cloud),
        Undo::CannotUndo { .. } | Undo::NothingToUndo { .. } => Ok(Outcome::NotNeeded),
    }
}

/// Puts the old default route back as it was: next hop and description.
async fn restore_route(
    ctx: &Ctx,
    route_table_id: &str,
    old: &Route,
) -> Result<Outcome, CloudError> {
    let Some(table) = ctx.cloud.route_table(route_table_id).await? else {
        return Ok(Outcome::NotNeeded);
    };
    let msg = format!(
        "restored 0.0.0.0/0 → {} in {route_table_id}",
        crate::wizard::steps::route::hop_words(old)
    );
    match table.default_route() {
        Some(r)
            if r.gateway_type == old.gateway_type
                && r.gateway_id == old.gateway_id
                && r.description == old.description =>
        {
            Ok(Outcome::NotNeeded)
        }
        Some(r) => {
            ctx.cloud.replace_route(route_table_id, r, old).await?;
            Ok(Outcome::Undone(msg))
        }
        // Deleting our NAT gateway also deletes routes to it (reference §4.11).
        None => {
            ctx.cloud.create_route(route_table_id, old).await?;
            Ok(Outcome::Undone(msg))
        }
    }
}

/// The error of a rebind whose EIP no longer exists.
const ADDRESS_GONE: &str = "natpilot.AddressGone";

/// Binds the kept EIP back, after one look at it by IP (already bound back: nothing to do).
async fn rebind(
    ctx: &Ctx,
    instance_id: &str,
    address_id: Option<&str>,
    ip: &str,
) -> Result<Outcome, CloudError> {
    let addrs = ctx.cloud.eips_with_ip(ip).await?;
    let addr = addrs
        .iter()
        .find(|a| a.kind == AddressKind::Eip && (Some(a.id.as_str()) == address_id || a.ip == ip));
    match addr {
        None => Err(CloudError::state(
            "AssociateAddress",
            ADDRESS_GONE,
            format!(
                "EIP {ip} no longer exists (released?), so it cannot be bound back to {instance_id}"
            ),
        )),
        Some(a) if a.instance_id.as_deref() == Some(instance_id) => Ok(Outcome::NotNeeded),
        Some(a) => {
            ctx.cloud.associate_address(&a.id, instance_id).await?;
            Ok(Outcome::Undone(format!(
                "bound EIP {ip} back to {instance_id}"
            )))
        }
    }
}

/// Polls until the gateway is gone (DeleteNatGateway is asynchronous, reference §4.10).
pub(super) async fn wait_gone(ctx: &Ctx, nat_id: &NatGatewayId) -> Result<(), CloudError> {
    let mut backoff = ctx.poll.start();
    loop {
        let seen = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
        match seen.items.iter().find(|n| n.id == *nat_id) {
            None => return Ok(()),
            Some(n) if n.state == NatState::DeleteFailure => {
                return Err(CloudError::state(
                    "DeleteNatGateway",
                    "NatGateway.DeleteFailure",
                    format!("Tencent Cloud could not delete {nat_id}; retry the rollback"),
                )
                .with_request_id(seen.request_id.clone()));
            }
            Some(_) => backoff.wait().await,
        }
    }
}

#[cfg(test)]
pub(super) mod tests;
