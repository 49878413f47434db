//! Applying one planned change, reconcile-first: look at the cloud before acting, so a change
//! that already happened (before a crash, or by an earlier attempt) is recognised, not repeated.
//! The undo record is written by the caller BEFORE this runs.

use crate::wizard::cloud::CloudError;
use crate::wizard::observed::{Address, AddressKind};
use crate::wizard::plan::{Change, Undo};

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
        Change::CreateNatGateway { .. } => "create_nat".into(),
        Change::AdoptNatGateway { nat_id } => format!("adopt:{nat_id}"),
        Change::CreateRoute { route_table_id, .. }
        | Change::ReplaceRoute { route_table_id, .. } => {
            format!("route:{route_table_id}")
        }
        Change::DisassociateEip { instance_id, .. } => format!("disassociate:{instance_id}"),
        Change::ReleaseEip { address_id, .. } => format!("release:{address_id}"),
        Change::TransformAddress { instance_id, .. } => format!("transform:{instance_id}"),
        Change::ReturnNormalAddress { instance_id, .. } => format!("return:{instance_id}"),
    }
}

fn done(undo: Option<Undo>) -> Applied {
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
        Change::CreateNatGateway { run_tag, .. } => create_nat(ctx, change, run_tag).await,
        Change::AdoptNatGateway { .. } => Ok(done(None)),
        Change::CreateRoute {
            route_table_id,
            nat_id,
        }
        | Change::ReplaceRoute {
            route_table_id,
            nat_id,
            ..
        } => route(ctx, change, route_table_id, nat_id).await,
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
    }
}

fn called(undo: Option<Undo>) -> Applied {
    Applied { called: true, undo }
}

/// No idempotency token (reference §4.9): the gateway tagged with this run is looked for first.
async fn create_nat(ctx: &Ctx, change: &Change, run_tag: &str) -> Result<Applied, CloudError> {
    let existing = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
    let (nat_id, was_called) = match existing.iter().find(|n| n.run_tag() == Some(run_tag)) {
        Some(n) => (n.id.clone(), false),
        None => (ctx.cloud.create_nat(&ctx.run.vpc_id, change).await?, true),
    };
    let undo = Undo::DeleteNatGateway {
        nat_id: Some(nat_id),
        run_tag: run_tag.to_owned(),
        allocated_eips: vec![],
    };
    Ok(Applied {
        called: was_called,
        undo: Some(undo),
    })
}

/// The table's default route as it is now decides: already ours, absent (create), the old one
/// the operator agreed to replace (replace), or something the plan did not expect (stop).
async fn route(
    ctx: &Ctx,
    change: &Change,
    route_table_id: &str,
    nat_id: &str,
) -> Result<Applied, CloudError> {
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
    match (table.default_route(), change) {
        (Some(r), _) if r.gateway_type == "NAT" && r.gateway_id == nat_id => Ok(done(None)),
        (None, _) => {
            ctx.cloud
                .create_default_route(route_table_id, nat_id)
                .await?;
            Ok(called(None))
        }
        (Some(current), Change::ReplaceRoute { old, .. }) if current.route_id == old.route_id => {
            ctx.cloud
                .replace_route(route_table_id, current, "NAT", nat_id)
                .await?;
            Ok(called(None))
        }
        (Some(current), _) => Err(CloudError::state(
            "CreateRoutes",
            "natpilot.RouteChanged",
            format!(
                "{route_table_id} now sends 0.0.0.0/0 to {} {}, which the confirmed plan did not expect; \
                 plan this step again",
                current.gateway_type, current.gateway_id
            ),
        )),
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
