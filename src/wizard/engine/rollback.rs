//! Rollback: the run's undo records in reverse order (step 4's many at once). Each undo looks at the cloud first, so a
//! rollback resumed after a crash never undoes twice. What cannot be undone (released or
//! returned addresses, a public IP that stays an EIP) is named in the rollback report.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::batch::run_bounded;
use super::ctx::{CrashPoint, Ctx, JobError};
use super::jobs::{UndoEntry, to_json};
use crate::store::{self, EventLevel, ReportKind, Step, UndoState, undo::UndoRecord};
use crate::wizard::cloud::CloudError;
use crate::wizard::input::{EipChoice, ProvisionInput, StepInput};
use crate::wizard::observed::{AddressKind, Route};
use crate::wizard::plan::Undo;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackReport {
    pub release_nat_eips: bool,
    pub undone: Vec<String>,
    pub cannot_undo: Vec<String>,
    pub finished: bool,
}

enum Outcome {
    Undone(String),
    NotNeeded,
}

/// What undoing one record adds to the report.
enum Note {
    Undone(String),
    Cannot(String),
}

/// What a rollback does with one undo record, from the record alone.
pub enum Disposition {
    /// Already undone, nothing to undo, or not an undo record this engine wrote.
    Skip,
    /// Its change cannot be taken back (a released or returned address); the report names it.
    Irreversible(UndoEntry),
    /// Undone after a look at the cloud. `maybe_not_made`: the change may never have reached
    /// the cloud (the record was written before the call and no result came back).
    Undo {
        entry: UndoEntry,
        maybe_not_made: bool,
    },
}

pub fn disposition(r: &UndoRecord) -> Disposition {
    let Ok(entry) = serde_json::from_value::<UndoEntry>(r.action.clone()) else {
        return Disposition::Skip;
    };
    match r.state {
        UndoState::Undone | UndoState::NotNeeded => Disposition::Skip,
        UndoState::Irreversible => Disposition::Irreversible(entry),
        UndoState::Pending => Disposition::Undo {
            entry,
            maybe_not_made: true,
        },
        UndoState::Done | UndoState::Failed => Disposition::Undo {
            entry,
            maybe_not_made: false,
        },
    }
}

/// The undo records a rollback would act on, in the order it takes them (newest first), with
/// what it would do to each. For the run page, before the operator rolls back.
pub fn preview(records: &[UndoRecord]) -> Vec<Disposition> {
    records
        .iter()
        .rev()
        .map(disposition)
        .filter(|d| !matches!(d, Disposition::Skip))
        .collect()
}

pub async fn rollback(ctx: &Ctx, release_nat_eips: bool) -> Result<(), JobError> {
    let mut report = RollbackReport {
        release_nat_eips,
        ..Default::default()
    };
    let records = store::undo::list(ctx.store.readers(), ctx.id()).await?;
    // Newest first. Step 4's records are the newest and independent across instances (an
    // instance's own records only rebind one EIP), so they are undone many at once like they
    // were applied; then routes, then the NAT gateway, one by one.
    let (retirements, others): (Vec<&UndoRecord>, Vec<&UndoRecord>) =
        records.iter().rev().partition(|r| r.step == Step::Verify);
    let mut notes = undo_concurrently(ctx, retirements, release_nat_eips).await?;
    for r in others {
        notes.extend(undo_record(ctx, r, release_nat_eips).await?);
    }
    for note in notes {
        match note {
            Note::Undone(m) => report.undone.push(m),
            Note::Cannot(m) => report.cannot_undo.push(m),
        }
    }
    report.finished = true;
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

/// Undoes `records`, `ctx.concurrency` at once (see `batch::run_bounded`).
async fn undo_concurrently(
    ctx: &Ctx,
    records: Vec<&UndoRecord>,
    release_nat_eips: bool,
) -> Result<Vec<Note>, JobError> {
    let stop = AtomicBool::new(false);
    let stop = &stop;
    // Futures collected first: a closure in the stream would lose `Send` (rust#102211).
    let futures: Vec<_> = records
        .into_iter()
        .map(|r| async move {
            if stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            undo_record(ctx, r, release_nat_eips).await
        })
        .collect();
    let notes = run_bounded(futures, ctx.concurrency, stop).await?;
    Ok(notes.into_iter().flatten().collect())
}

/// One undo record: skipped when already undone, noted when it cannot be undone, else undone
/// after a look at the cloud (so a resumed rollback never undoes twice) and recorded.
async fn undo_record(
    ctx: &Ctx,
    r: &UndoRecord,
    release_nat_eips: bool,
) -> Result<Option<Note>, JobError> {
    let entry = match disposition(r) {
        Disposition::Skip => return Ok(None),
        Disposition::Irreversible(entry) => return Ok(Some(Note::Cannot(cannot(&entry.undo)))),
        Disposition::Undo { entry, .. } => entry,
    };
    if let Undo::CannotUndo { what } = &entry.undo {
        let nothing = Some("nothing to undo");
        store::undo::set_state(
            ctx.store.writer(),
            r.id,
            UndoState::NotNeeded,
            None,
            nothing,
        )
        .await?;
        return Ok(Some(Note::Cannot(what.clone())));
    }
    let key = format!("undo:{}", entry.key);
    ctx.crash_at(CrashPoint::UndoWritten, &key)?;
    let outcome = match undo_one(ctx, &entry.undo, release_nat_eips).await {
        Ok(o) => o,
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
            return Err(e.into());
        }
    };
    ctx.crash_at(CrashPoint::CallSent, &key)?;
    let (state, msg) = match outcome {
        Outcome::Undone(m) => (UndoState::Undone, m),
        Outcome::NotNeeded => (
            UndoState::NotNeeded,
            format!("{}: nothing to undo", entry.key),
        ),
    };
    store::undo::set_state(ctx.store.writer(), r.id, state, None, None).await?;
    ctx.event(Some(r.step), EventLevel::Info, &msg, json!({"undo": r.id}))
        .await?;
    ctx.crash_at(CrashPoint::ResultRecorded, &key)?;
    Ok(Some(Note::Undone(msg)))
}

fn cannot(undo: &Undo) -> String {
    match undo {
        Undo::CannotUndo { what } => what.clone(),
        other => format!("{other:?}"),
    }
}

async fn undo_one(ctx: &Ctx, undo: &Undo, release_nat_eips: bool) -> Result<Outcome, CloudError> {
    match undo {
        Undo::DeleteNatGateway {
            nat_id, run_tag, ..
        } => delete_nat(ctx, nat_id.as_deref(), run_tag, release_nat_eips).await,
        Undo::DeleteRoute {
            route_table_id,
            nat_id,
        } => {
            let Some(table) = ctx.cloud.route_table(route_table_id).await? else {
                return Ok(Outcome::NotNeeded);
            };
            match table.default_route() {
                Some(r) if r.gateway_type == "NAT" && r.gateway_id == *nat_id => {
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
        } => restore_route(ctx, route_table_id, old).await,
        Undo::ReassociateEip {
            instance_id,
            address_id,
            ip,
        } => rebind(ctx, instance_id, address_id.as_deref(), ip).await,
        Undo::CannotUndo { .. } => Ok(Outcome::NotNeeded),
    }
}

/// Deletes the run's gateway (found by id or by the run tag), waits until it is gone, and
/// releases the EIPs it allocated when asked — never those the operator brought.
async fn delete_nat(
    ctx: &Ctx,
    nat_id: Option<&str>,
    run_tag: &str,
    release_nat_eips: bool,
) -> Result<Outcome, CloudError> {
    let nats = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
    let found = nats
        .iter()
        .find(|n| Some(n.id.as_str()) == nat_id || n.run_tag() == Some(run_tag));
    let Some(nat) = found else {
        return Ok(Outcome::NotNeeded);
    };
    let eips: Vec<(String, String)> = nat.eips.clone();
    ctx.cloud.delete_nat(&nat.id).await?;
    wait_gone(ctx, &nat.id).await?;
    let mut msg = format!(
        "deleted NAT gateway {} (its EIPs were unbound and kept)",
        nat.id
    );
    if release_nat_eips {
        let chosen = operator_chosen_eips(ctx).await;
        for (id, ip) in eips.iter().filter(|(_, ip)| !chosen.contains(ip)) {
            ctx.cloud.release_address(id).await?;
            msg.push_str(&format!("; released EIP {ip}"));
        }
    }
    Ok(Outcome::Undone(msg))
}

async fn restore_route(
    ctx: &Ctx,
    route_table_id: &str,
    old: &Route,
) -> Result<Outcome, CloudError> {
    let Some(table) = ctx.cloud.route_table(route_table_id).await? else {
        return Ok(Outcome::NotNeeded);
    };
    let msg = format!(
        "restored 0.0.0.0/0 → {} {} in {route_table_id}",
        old.gateway_type, old.gateway_id
    );
    match table.default_route() {
        Some(r) if r.gateway_type == old.gateway_type && r.gateway_id == old.gateway_id => {
            Ok(Outcome::NotNeeded)
        }
        Some(r) => {
            ctx.cloud
                .replace_route(route_table_id, r, &old.gateway_type, &old.gateway_id)
                .await?;
            Ok(Outcome::Undone(msg))
        }
        // Deleting our NAT gateway also deletes routes to it (reference §4.11).
        None => {
            ctx.cloud.create_route(route_table_id, old).await?;
            Ok(Outcome::Undone(msg))
        }
    }
}

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
            "natpilot.AddressGone",
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
async fn wait_gone(ctx: &Ctx, nat_id: &str) -> Result<(), CloudError> {
    let mut backoff = ctx.poll.start();
    loop {
        let nats = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
        match nats.iter().find(|n| n.id == nat_id) {
            None => return Ok(()),
            Some(n) if n.state == "DELETEFAILURE" => {
                return Err(CloudError::state(
                    "DeleteNatGateway",
                    "NatGateway.DeleteFailure",
                    format!("Tencent Cloud could not delete {nat_id}; retry the rollback"),
                ));
            }
            Some(_) => backoff.wait().await,
        }
    }
}

/// EIPs the operator brought to the gateway: never released by rollback.
async fn operator_chosen_eips(ctx: &Ctx) -> Vec<String> {
    let Ok(Some(row)) = store::steps::get(ctx.store.readers(), ctx.id(), Step::Provision).await
    else {
        return vec![];
    };
    match serde_json::from_value::<StepInput>(row.input) {
        Ok(StepInput::Provision(ProvisionInput::Create(n))) => match n.eips {
            EipChoice::Existing(ips) => ips,
            EipChoice::New(_) => vec![],
        },
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunId;

    fn record(id: i64, state: UndoState, what: &str) -> UndoRecord {
        let entry = UndoEntry {
            key: format!("k{id}"),
            undo: Undo::CannotUndo { what: what.into() },
        };
        UndoRecord {
            id,
            run_id: RunId::new(),
            step: Step::Verify,
            action: to_json(&entry),
            state,
            note: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_preview_takes_records_newest_first_and_skips_what_is_already_undone() {
        let records = [
            record(1, UndoState::Done, "a"),
            record(2, UndoState::Undone, "b"),
            record(3, UndoState::Irreversible, "c"),
            record(4, UndoState::NotNeeded, "d"),
            record(5, UndoState::Pending, "e"),
        ];
        let seen: Vec<(String, &str)> = preview(&records)
            .into_iter()
            .map(|d| match d {
                Disposition::Undo {
                    entry,
                    maybe_not_made,
                } => (entry.key, if maybe_not_made { "maybe" } else { "undo" }),
                Disposition::Irreversible(entry) => (entry.key, "cannot"),
                Disposition::Skip => unreachable!("the preview leaves skips out"),
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("k5".to_owned(), "maybe"),
                ("k3".to_owned(), "cannot"),
                ("k1".to_owned(), "undo")
            ]
        );
    }
}
