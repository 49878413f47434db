//! Undoing the run's NAT gateway: delete it, then — only when the operator asked — release
//! exactly the EIPs its undo record names as allocated for it. The record is the only source
//! of what may be released: it is filled in as soon as the gateway is seen with its EIPs
//! (step 2's poll, or here, before the delete), so a gateway that is already gone when a
//! resumed rollback looks still has its EIPs released, and the operator's own EIPs never are.
//! Nor are the EIPs step 3 moved onto the gateway to keep an instance's egress IP
//! (`kept_eips`): they are bound back to their instances by the newer undo records, and a
//! gateway that still holds one is not deleted at all.

use super::{Outcome, wait_gone};
use crate::store;
use crate::wizard::cloud::CloudError;
use crate::wizard::engine::ctx::{Ctx, JobError};
use crate::wizard::engine::jobs::{UndoEntry, to_json};
use crate::wizard::engine::kept_eips::{KeptEips, kept_eips};
use crate::wizard::ids::NatState;
use crate::wizard::observed::{AddressKind, NatGateway};
use crate::wizard::plan::{AllocatedEip, Undo};

pub(in crate::wizard::engine) async fn delete_nat(
    ctx: &Ctx,
    record: i64,
    entry: &UndoEntry,
    release: bool,
) -> Result<Outcome, JobError> {
    let Undo::DeleteNatGateway {
        nat_id,
        run_tag,
        allocated_eips,
        operator_eips,
    } = &entry.undo
    else {
        unreachable!("delete_nat is called for DeleteNatGateway records only");
    };
    if release && operator_eips.is_none() {
        // Refused before anything is deleted: without the operator's list, "the gateway's EIPs
        // minus the operator's" could take the operator's own EIPs.
        return Err(CloudError::state(
            "ReleaseAddresses",
            "natpilot.AllocatedEipsUnknown",
            "this run's record of its NAT gateway does not say which EIPs the operator brought \
             (it was written by an older natpilot), so which EIPs natpilot allocated cannot be \
             told apart; roll back without \"release the NAT gateway's new EIPs\" and release \
             them in the console",
        )
        .into());
    }
    let kept = kept_eips(&ctx.store, ctx.id()).await?;
    if release {
        kept.check_release(allocated_eips)?;
    }
    let seen = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
    let found = match nat_id {
        Some(id) => seen.items.iter().find(|n| n.id == *id),
        // The create's answer never arrived: the live gateway carrying the run's tag is it.
        None => seen
            .items
            .iter()
            .find(|n| n.run_tag() == Some(run_tag.as_str()) && !n.state.is_dead()),
    };
    let mut allocated = allocated_eips.clone();
    let mut notes = Vec::new();
    if let Some(nat) = found {
        let on_nat: Vec<String> = nat.eips.iter().map(|(_, ip)| ip.clone()).collect();
        kept.check_gateway(&nat.id, &on_nat)?;
        if let Some(operator) = operator_eips {
            learn_allocated(ctx, record, entry, nat, operator, &kept, &mut allocated).await?;
        }
        if nat.state != NatState::Deleting {
            ctx.cloud.delete_nat(&nat.id).await?;
        }
        wait_gone(ctx, &nat.id).await?;
        notes.push(format!(
            "deleted NAT gateway {} (its EIPs were unbound{})",
            nat.id,
            if release { "" } else { " and kept" }
        ));
    }
    if release {
        kept.check_release(&allocated)?;
        for eip in &allocated {
            notes.push(release_one(ctx, eip).await?);
        }
    }
    if notes.is_empty() {
        return Ok(Outcome::NotNeeded);
    }
    Ok(Outcome::Undone(notes.join("; ")))
}

/// Adds the live gateway's EIPs that the operator did not bring and step 3 did not move onto
/// it to the record, and stores the record before the gateway is deleted (after the delete
/// they can no longer be seen on it).
async fn learn_allocated(
    ctx: &Ctx,
    record: i64,
    entry: &UndoEntry,
    nat: &NatGateway,
    operator: &[String],
    kept: &KeptEips,
    allocated: &mut Vec<AllocatedEip>,
) -> Result<(), JobError> {
    let before = allocated.len();
    for (address_id, ip) in &nat.eips {
        if !operator.contains(ip)
            && !kept.contains(ip)
            && !allocated.iter().any(|a| a.address_id == *address_id)
        {
            allocated.push(AllocatedEip {
                address_id: address_id.clone(),
                ip: ip.clone(),
            });
        }
    }
    if allocated.len() == before {
        return Ok(());
    }
    let Undo::DeleteNatGateway { run_tag, .. } = &entry.undo else {
        return Ok(());
    };
    let updated = UndoEntry {
        key: entry.key.clone(),
        undo: Undo::DeleteNatGateway {
            nat_id: Some(nat.id.clone()),
            run_tag: run_tag.clone(),
            allocated_eips: allocated.clone(),
            operator_eips: Some(operator.to_vec()),
        },
    };
    store::undo::set_action(ctx.store.writer(), record, &to_json(&updated)).await?;
    Ok(())
}

/// Releases one recorded EIP if it still exists and is bound to nothing; says what it did.
async fn release_one(ctx: &Ctx, eip: &AllocatedEip) -> Result<String, JobError> {
    let found = ctx.cloud.eips_with_ip(&eip.ip).await?;
    let Some(addr) = found
        .iter()
        .find(|a| a.kind == AddressKind::Eip && a.id == eip.address_id)
    else {
        return Ok(format!(
            "EIP {} ({}) was already released",
            eip.ip, eip.address_id
        ));
    };
    if let Some(holder) = &addr.instance_id {
        return Ok(format!(
            "EIP {} ({}) is bound to {holder} now, so it was not released",
            eip.ip, eip.address_id
        ));
    }
    ctx.cloud.release_address(&eip.address_id).await?;
    Ok(format!("released EIP {} ({})", eip.ip, eip.address_id))
}
