//! Applying one planned change, reconcile-first: look at the cloud before acting, so a change
//! that already happened (before a crash, or by an earlier attempt) is recognised, not repeated.
//! The undo record is written by the caller BEFORE this runs.

use crate::wizard::cloud::CloudError;
use crate::wizard::ids::{NatGatewayId, NatState};
use crate::wizard::observed::{Address, AddressKind};
use crate::wizard::plan::{Change, Undo};
use crate::wizard::steps::route::{self, RouteDecision};

use super::ctx::Ctx;

/// What applying a change found or did.
pub struct Applied {
    /// True when a cloud call was sent (false: it had already happened).
    pub called: bool,
    /// The undo record with the ids the call revealed, when they changed.
    pub undo: Option<Undo>,
}

/// Stable name of a change, used as the undo record's key so a resumed or retried step finds
/// the record of the same change.
pub fn key(change: &Change) -> String {
    match change {
        // A further gateway (issue 12) has records of its own.
        Change::CreateNatGateway {
            gateway, attempt, ..
        } if *gateway > 1 => match attempt {
            0 | 1 => format!("create_nat@{gateway}"),
            _ => format!("create_nat@{gateway}#{attempt}"),
        },
        // The first gateway keeps the key records written before attempts existed have.
        Change::CreateNatGateway { attempt, .. } if *attempt <= 1 => "create_nat".into(),
        Change::CreateNatGateway { attempt, .. } => format!("create_nat#{attempt}"),
        Change::AdoptNatGateway { nat_id } => format!("adopt:{nat_id}"),
        Change::DeleteFailedNatGateway { nat_id } => format!("delete_failed:{nat_id}"),
        Change::CreateRoute { route_table_id, .. }
        | Change::ReplaceRoute { route_table_id, .. } => {
            format!("route:{route_table_id}")
        }
        Change::DisassociateEip { instance_id, .. } => format!("disassociate:{instance_id}"),
        Change::ReleaseEip { address_id, .. } => format!("{RELEASE_KEY}{address_id}"),
        Change::TransformAddress { instance_id, .. } => format!("transform:{instance_id}"),
        Change::ReturnNormalAddress { instance_id, .. } => format!("return:{instance_id}"),
        Change::AssociateNatEip { ip, .. } => format!("nat_eip:{ip}"),
        Change::CreateSnatRule { resource_id, .. } => format!("snat:{resource_id}"),
    }
}

/// How the key of a `ReleaseEip` change starts; the address id follows.
const RELEASE_KEY: &str = "release:";

/// The EIP a change key says was released (the key of a `ReleaseEip`), if it is one.
pub(super) fn released_address(key: &str) -> Option<&str> {
    key.strip_prefix(RELEASE_KEY)
}

pub(super) fn done(undo: Option<Undo>) -> Applied {
    Applied {
        called: false,
        undo,
    }
}

/// Applies one change. `addresses` is a snapshot taken at the start of this apply (after any
/// crash), kept current by the changes made since.
pub async fn apply(
    ctx: &Ctx,
    change: &Change,
    addresses: &mut Vec<Address>,
) -> Result<Applied, CloudError> {
    match change {
        Change::CreateNatGateway {
            run_tag,
            existing_eips,
            ..
        } => create_nat(ctx, change, run_tag, existing_eips).await,
        Change::AdoptNatGateway { .. } => Ok(done(None)),
        Change::DeleteFailedNatGateway { nat_id } => delete_failed_nat(ctx, nat_id).await,
        Change::CreateRoute { route_table_id, .. }
        | Change::ReplaceRoute { route_table_id, .. } => route(ctx, change, route_table_id).await,
        Change::DisassociateEip {
            instance_id,
            address_id,
            ip,
        } => disassociate(ctx, addresses, instance_id, address_id, ip).await,
        Change::ReleaseEip { address_id, .. } => {
            let Some(pos) = addresses.iter().position(|a| a.id == *address_id) else {
                return Ok(done(None));
            };
            ctx.cloud.release_address(address_id).await?;
            addresses.remove(pos);
            Ok(called(None))
        }
        Change::TransformAddress { instance_id, ip } => {
            transform(ctx, addresses, instance_id, ip).await
        }
        Change::ReturnNormalAddress { ip, .. } => {
            let Some(pos) = addresses
                .iter()
                .position(|a| a.kind == AddressKind::Ordinary && a.ip == *ip)
            else {
                return Ok(done(None));
            };
            ctx.cloud.return_normal_address(ip).await?;
            addresses.remove(pos);
            Ok(called(None))
        }
        Change::AssociateNatEip { nat_id, ip, .. } => {
            super::keep::associate_nat_eip(ctx, nat_id, ip).await
        }
        Change::CreateSnatRule { .. } => super::keep::create_snat_rule(ctx, change).await,
    }
}

pub(super) fn called(undo: Option<Undo>) -> Applied {
    Applied { called: true, undo }
}

/// No idempotency token (reference §4.9): the live gateway tagged with this run is looked for
/// first. A failed (`PENDFAILURE`) or dying one is not reused; the plan deletes it first.
async fn create_nat(
    ctx: &Ctx,
    change: &Change,
    run_tag: &str,
    existing_eips: &[String],
) -> Result<Applied, CloudError> {
    let existing = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?.items;
    let ours = existing
        .iter()
        .find(|n| n.run_tag() == Some(run_tag) && !n.state.is_dead());
    let (nat_id, was_called) = match ours {
        Some(n) => (n.id.clone(), false),
        None => (ctx.cloud.create_nat(&ctx.run.vpc_id, change).await?, true),
    };
    let undo = Undo::DeleteNatGateway {
        nat_id: Some(nat_id),
        run_tag: run_tag.to_owned(),
        // Filled in as soon as the gateway is seen with its EIPs (`jobs::record_allocated_eips`).
        allocated_eips: vec![],
        operator_eips: Some(existing_eips.to_vec()),
    };
    Ok(Applied {
        called: was_called,
        undo: Some(undo),
    })
}

/// Deletes a gateway of this run that failed to create, and waits until it is gone, so the
/// create that follows cannot mistake it for a usable one.
async fn delete_failed_nat(ctx: &Ctx, nat_id: &NatGatewayId) -> Result<Applied, CloudError> {
    let seen = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
    let Some(nat) = seen.items.iter().find(|n| n.id == *nat_id) else {
        return Ok(done(None));
    };
    let called = nat.state != NatState::Deleting;
    if called {
        ctx.cloud.delete_nat(nat_id).await?;
    }
    super::rollback::wait_gone(ctx, nat_id).await?;
    Ok(Applied { called, undo: None })
}

/// The table's default route as it is now decides (`route::decide`, the one function plan,
/// apply and page share): already ours, absent (create), the old one the operator agreed to
/// replace (replace), or something the confirmed plan did not expect (stop).
async fn route(ctx: &Ctx, change: &Change, route_table_id: &str) -> Result<Applied, CloudError> {
    let table = ctx
        .cloud
        .route_table(route_table_id)
        .await?
        .ok_or_else(|| {
            CloudError::state(
                "DescribeRouteTables",
                "ResourceNotFound",
                format!("route table {route_table_id} is gone"),
            )
        })?;
    let (nat_id, description, consented) = match change {
        Change::CreateRoute {
            nat_id,
            description,
            ..
        } => (nat_id, description, route::Consent::No),
        Change::ReplaceRoute {
            nat_id,
            description,
            old,
            ..
        } => (nat_id, description, route::Consent::Exactly(old)),
        _ => unreachable!("route() is called for route changes only"),
    };
    match route::decide(&table, nat_id, consented) {
        RouteDecision::AlreadyRouted => Ok(done(None)),
        RouteDecision::Create => {
            ctx.cloud
                .create_default_route(route_table_id, nat_id, description)
                .await?;
            Ok(called(None))
        }
        RouteDecision::Replace(current) => {
            let next = route::nat_route(nat_id, description);
            ctx.cloud
                .replace_route(route_table_id, current, &next)
                .await?;
            Ok(called(None))
        }
        RouteDecision::System(current) | RouteDecision::NeedsConsent(current) => {
            Err(CloudError::state(
                "CreateRoutes",
                "natpilot.RouteChanged",
                format!(
                    "{route_table_id} now sends 0.0.0.0/0 to {}, which the confirmed plan did \
                     not expect; plan this step again",
                    crate::wizard::steps::route::hop_words(current)
                ),
            ))
        }
    }
}

/// The EIP is found by id, or by IP when a transform in this same chain just made it.
async fn disassociate(
    ctx: &Ctx,
    addresses: &mut [Address],
    instance_id: &str,
    address_id: &str,
    ip: &str,
) -> Result<Applied, CloudError> {
    let found = addresses.iter_mut().find(|a| {
        a.kind == AddressKind::Eip && (a.id == address_id || (address_id.is_empty() && a.ip == ip))
    });
    let Some(addr) = found else {
        return Err(CloudError::state(
            "DisassociateAddress",
            "natpilot.AddressMissing",
            format!("EIP {ip} of {instance_id} was not found"),
        ));
    };
    let undo = Undo::ReassociateEip {
        instance_id: instance_id.to_owned(),
        address_id: Some(addr.id.clone()),
        ip: ip.to_owned(),
    };
    if addr.instance_id.as_deref() != Some(instance_id) {
        return Ok(done(Some(undo)));
    }
    ctx.cloud.disassociate_address(&addr.id).await?;
    addr.instance_id = None;
    addr.status = "UNBIND".into();
    Ok(called(Some(undo)))
}

/// Already an EIP means the transform happened (before a crash, or a replay).
async fn transform(
    ctx: &Ctx,
    addresses: &mut Vec<Address>,
    instance_id: &str,
    ip: &str,
) -> Result<Applied, CloudError> {
    if addresses
        .iter()
        .any(|a| a.kind == AddressKind::Eip && a.ip == ip)
    {
        return Ok(done(None));
    }
    let id = ctx.cloud.transform_address(instance_id).await?;
    addresses.retain(|a| a.ip != ip);
    addresses.push(Address {
        id,
        ip: ip.to_owned(),
        kind: AddressKind::Eip,
        status: "BIND".into(),
        instance_id: Some(instance_id.to_owned()),
    });
    Ok(called(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(gateway: u32, attempt: u32) -> Change {
        Change::CreateNatGateway {
            name: "n".into(),
            bandwidth_mbps: 100,
            max_connections: 1_000_000,
            new_eips: 1,
            existing_eips: vec![],
            zone: None,
            run_tag: "run-1".into(),
            attempt,
            gateway,
            route_tables: vec![],
        }
    }

    /// Each gateway and each attempt has an undo record of its own; the first gateway keeps
    /// the keys it always had.
    #[test]
    fn every_gateway_and_attempt_has_a_key_of_its_own() {
        let keys: Vec<String> = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1)]
            .into_iter()
            .map(|(g, a)| key(&create(g, a)))
            .collect();
        assert_eq!(
            keys,
            [
                "create_nat",
                "create_nat#2",
                "create_nat@2",
                "create_nat@2#2",
                "create_nat@3"
            ]
        );
    }
}
