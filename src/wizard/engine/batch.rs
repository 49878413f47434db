//! Applying a confirmed plan's changes, each with its undo record written before the call and
//! its result recorded after it. Changes of the NAT and route steps run one by one; the
//! retirements of step 4 run as one chain per instance (TransformAddress, then
//! DisassociateAddress, then any release — in plan order), many chains at once, because each
//! waits seconds for its EIP task while DisassociateAddress allows 10 calls a second (reference
//! §3.5). The client's per-action limiter keeps the concurrent calls within those rates.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt as _;
use serde_json::json;

use super::changes::{self, key};
use super::ctx::{CrashPoint, Ctx, JobError};
use super::jobs::{UndoEntry, to_json};
use super::records::{self, RecordError};
use crate::store::{self, EventLevel, Step, UndoState, nat_gateways};
use crate::wizard::ids::NatGatewayId;
use crate::wizard::observed::Address;
use crate::wizard::plan::{Change, Plan, Undo};

/// Undo records this step already has, by change key: a resumed or retried step finds them.
type Existing = BTreeMap<String, (i64, UndoState)>;

/// One change of the plan: its position (for events), the change and its planned undo.
type Item<'a> = (usize, &'a Change, &'a Undo);

/// Applies every change of `plan` not yet recorded as done.
pub async fn apply_changes(ctx: &Ctx, step: Step, plan: &Plan) -> Result<(), JobError> {
    let existing = existing_records(ctx, step).await?;
    let items: Vec<Item> = plan
        .items
        .iter()
        .enumerate()
        .map(|(i, p)| (i, &p.change, &p.undo))
        .collect();
    let (retirements, others): (Vec<Item>, Vec<Item>) = items
        .into_iter()
        .partition(|(_, c, _)| instance_of(c).is_some());
    for item in others {
        apply_one(ctx, step, &existing, item, &mut Vec::new()).await?;
    }
    if retirements.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = retirements
        .iter()
        .filter_map(|(_, c, _)| instance_of(c))
        .collect();
    // One snapshot for all chains, taken after any crash: reconcile-first needs the truth now.
    let snapshot = ctx.cloud.addresses(&ids).await?;
    let chains = chains(retirements, snapshot);
    run_chains(ctx, step, &existing, chains).await
}

/// A record that does not decode stops the step: skipping it would repeat its change.
async fn existing_records(ctx: &Ctx, step: Step) -> Result<Existing, RecordError> {
    Ok(records::undo_records(&ctx.store, ctx.id())
        .await?
        .into_iter()
        .filter(|u| u.record.step == step)
        .map(|u| (u.entry.key, (u.record.id, u.record.state)))
        .collect())
}

/// Runs the chains, `ctx.concurrency` at once (see [`run_bounded`]).
async fn run_chains(
    ctx: &Ctx,
    step: Step,
    existing: &Existing,
    chains: Vec<Chain<'_>>,
) -> Result<(), JobError> {
    let stop = AtomicBool::new(false);
    // Futures collected first (they start only when polled): a closure inside the stream
    // would make the job's future lose `Send` (rust-lang/rust#102211).
    let futures: Vec<_> = chains
        .into_iter()
        .map(|chain| run_chain(ctx, step, existing, chain, &stop))
        .collect();
    run_bounded(futures, ctx.concurrency, &stop).await.map(drop)
}

/// Runs `futures`, `concurrency` at once, and collects their results. After a cloud error it
/// sets `stop` (each future checks it before starting another change), lets the ones in
/// flight finish and be recorded, and returns the first error, so nothing is left
/// half-recorded. A test crash returns at once: a real crash stops everything dead.
pub(super) async fn run_bounded<T>(
    futures: Vec<impl Future<Output = Result<T, JobError>>>,
    concurrency: usize,
    stop: &AtomicBool,
) -> Result<Vec<T>, JobError> {
    let mut running = futures_util::stream::iter(futures).buffer_unordered(concurrency);
    let (mut done, mut first_error) = (Vec::new(), None);
    while let Some(result) = running.next().await {
        match result {
            Ok(value) => done.push(value),
            Err(e @ JobError::Crashed(_)) => return Err(e),
            Err(e) => {
                stop.store(true, Ordering::SeqCst);
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(done), Err)
}

/// The changes of one instance, in plan order, with the addresses they touch.
struct Chain<'a> {
    items: Vec<Item<'a>>,
    addresses: Vec<Address>,
}

async fn run_chain(
    ctx: &Ctx,
    step: Step,
    existing: &Existing,
    mut chain: Chain<'_>,
    stop: &AtomicBool,
) -> Result<(), JobError> {
    for item in chain.items {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        apply_one(ctx, step, existing, item, &mut chain.addresses).await?;
    }
    Ok(())
}

/// Groups retirements by instance and hands each group the snapshot's addresses that belong to
/// it (bound to the instance, or named by one of its changes), so chains share nothing.
fn chains<'a>(items: Vec<Item<'a>>, snapshot: Vec<Address>) -> Vec<Chain<'a>> {
    let mut order: Vec<String> = Vec::new();
    let mut by_instance: HashMap<String, Chain<'a>> = HashMap::new();
    let mut owner: HashMap<String, String> = HashMap::new();
    for item in items {
        let instance = instance_of(item.1).unwrap_or_default();
        if let Some((ip, id)) = address_of(item.1) {
            owner.insert(ip.to_owned(), instance.clone());
            if !id.is_empty() {
                owner.insert(id.to_owned(), instance.clone());
            }
        }
        let chain = by_instance.entry(instance.clone()).or_insert_with(|| {
            order.push(instance.clone());
            Chain {
                items: Vec::new(),
                addresses: Vec::new(),
            }
        });
        chain.items.push(item);
    }
    for a in snapshot {
        let who = a
            .instance_id
            .clone()
            .filter(|i| by_instance.contains_key(i))
            .or_else(|| owner.get(&a.ip).cloned())
            .or_else(|| owner.get(&a.id).cloned());
        if let Some(chain) = who.and_then(|i| by_instance.get_mut(&i)) {
            chain.addresses.push(a);
        }
    }
    order.iter().filter_map(|i| by_instance.remove(i)).collect()
}

/// One change: undo record first, then the (reconciled) call, then its result and an event.
async fn apply_one(
    ctx: &Ctx,
    step: Step,
    existing: &Existing,
    (i, change, undo): Item<'_>,
    addresses: &mut Vec<Address>,
) -> Result<(), JobError> {
    let key = key(change);
    let record = match existing.get(&key) {
        Some((_, UndoState::Done | UndoState::NotNeeded | UndoState::Irreversible)) => {
            return Ok(());
        }
        Some((id, _)) => *id,
        None => {
            let entry = UndoEntry {
                key: key.clone(),
                undo: undo.clone(),
            };
            store::undo::insert_pending(ctx.store.writer(), ctx.id(), step, &to_json(&entry))
                .await?
        }
    };
    ctx.crash_at(CrashPoint::UndoWritten, &key)?;
    let applied = changes::apply(ctx, change, addresses).await?;
    ctx.crash_at(CrashPoint::CallSent, &key)?;
    let final_undo = applied.undo.unwrap_or_else(|| undo.clone());
    let state = match &final_undo {
        Undo::CannotUndo { .. } if change.irreversible() => UndoState::Irreversible,
        _ => UndoState::Done,
    };
    let entry = to_json(&UndoEntry {
        key: key.clone(),
        undo: final_undo.clone(),
    });
    let note = (!applied.called).then_some("already in place; not repeated");
    let mut tx = ctx.store.begin_write().await?;
    store::undo::set_state(&mut *tx, record, state, Some(&entry), note).await?;
    // The run's gateway is a record of its own, written with the undo record naming it.
    if let Some((nat_id, how)) = gateway_named(change, &final_undo) {
        store::nat_gateways::set(&mut *tx, ctx.id(), nat_id.as_str(), how).await?;
    }
    tx.commit().await?;
    ctx.event(
        Some(step),
        EventLevel::Info,
        &describe(change, applied.called),
        json!({"change": i, "key": key}),
    )
    .await?;
    ctx.crash_at(CrashPoint::ResultRecorded, &key)
}

/// The gateway a change gave the run: the one it created, or the one it adopted.
fn gateway_named<'a>(
    change: &'a Change,
    undo: &'a Undo,
) -> Option<(&'a NatGatewayId, nat_gateways::How)> {
    match (change, undo) {
        // A further gateway (issue 12) is found by its tag, never named as the run's.
        (
            Change::CreateNatGateway { gateway, .. },
            Undo::DeleteNatGateway {
                nat_id: Some(id), ..
            },
        ) if *gateway <= 1 => Some((id, nat_gateways::How::Created)),
        (Change::AdoptNatGateway { nat_id }, _) => Some((nat_id, nat_gateways::How::Adopted)),
        _ => None,
    }
}

/// The instance whose public IP a change retires (None for NAT and route changes).
fn instance_of(c: &Change) -> Option<String> {
    match c {
        Change::DisassociateEip { instance_id, .. }
        | Change::ReleaseEip { instance_id, .. }
        | Change::TransformAddress { instance_id, .. }
        | Change::ReturnNormalAddress { instance_id, .. } => Some(instance_id.clone()),
        // Issue 12: a move onto the NAT gateway is part of its instance's chain.
        Change::AssociateNatEip { from_instance, .. } => Some(from_instance.clone()),
        Change::CreateSnatRule { keeps_for, .. } => keeps_for.clone(),
        _ => None,
    }
}

/// The (ip, address id) a retirement names; the id is empty before a transform made it.
fn address_of(c: &Change) -> Option<(&str, &str)> {
    match c {
        Change::DisassociateEip { ip, address_id, .. }
        | Change::ReleaseEip { ip, address_id, .. } => Some((ip, address_id)),
        Change::TransformAddress { ip, .. } | Change::ReturnNormalAddress { ip, .. } => {
            Some((ip, ""))
        }
        _ => None,
    }
}

fn describe(change: &Change, called: bool) -> String {
    let what = match change {
        Change::CreateNatGateway { name, .. } => format!("created NAT gateway {name:?}"),
        Change::AdoptNatGateway { nat_id } => format!("adopted NAT gateway {nat_id}"),
        Change::DeleteFailedNatGateway { nat_id } => {
            format!("deleted NAT gateway {nat_id}, which had failed to create")
        }
        Change::CreateRoute {
            route_table_id,
            nat_id,
            ..
        } => format!("added 0.0.0.0/0 → {nat_id} to {route_table_id}"),
        Change::ReplaceRoute {
            route_table_id,
            nat_id,
            old,
            ..
        } => {
            format!(
                "replaced 0.0.0.0/0 → {} with → {nat_id} in {route_table_id}",
                crate::wizard::steps::route::hop_words(old)
            )
        }
        Change::DisassociateEip {
            instance_id, ip, ..
        } => format!("unbound EIP {ip} from {instance_id} (kept)"),
        Change::ReleaseEip { ip, .. } => format!("released EIP {ip}"),
        Change::TransformAddress { instance_id, ip } => {
            format!("converted {ip} of {instance_id} to an EIP")
        }
        Change::ReturnNormalAddress { instance_id, ip } => {
            format!("returned public IP {ip} of {instance_id}")
        }
        Change::AssociateNatEip {
            nat_id,
            ip,
            from_instance,
        } => format!("bound EIP {ip} (egress IP of {from_instance}) to NAT gateway {nat_id}"),
        Change::CreateSnatRule {
            resource_type,
            resource_id,
            public_ips,
            ..
        } => format!(
            "added SNAT rule: {resource_type} {resource_id} leaves through {}",
            public_ips.join(", ")
        ),
    };
    if called {
        what
    } else {
        format!("{what} — found already done")
    }
}
