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
    let cloud = &ctx.cloud;
    match change {
        Change::CreateNatGateway { run_tag, .. } => {
            let existing = cloud.nat_gateways(&ctx.run.vpc_id).await?;
            let (nat_id, called) = match existing
                .iter()
                .find(|n| n.run_tag() == Some(run_tag.as_str()))
            {
                Some(n) => (n.id.clone(), false),
                None => (cloud.create_nat(&ctx.run.vpc_id, change).await?, true),
            };
            let undo = Undo::DeleteNatGateway {
                nat_id: Some(nat_id),
                run_tag: run_tag.clone(),
                allocated_eips: vec![],
            };
            Ok(Applied {
                called,
                undo: Some(undo),
            })
        }
        Change::AdoptNatGateway { .. } => Ok(done(None)),
        Change::CreateRoute {
            route_table_id,
            nat_id,
        }
        | Change::ReplaceRoute {
            route_table_id,
            nat_id,
            ..
        } => {
            let table = cloud.route_table(route_table_id).await?.ok_or_else(|| {
                CloudError::state(
                    "DescribeRouteTables",
                    "ResourceNotFound",
                    format!("route table {route_table_id} is gone"),
                )
            })?;
            match (table.default_route(), change) {
                (Some(r), _) if r.gateway_type == "NAT" && &r.gateway_id == nat_id => {
                    Ok(done(None))
                }
                (None, _) => {
                    cloud.create_default_route(route_table_id, nat_id).await?;
                    Ok(Applied {
                        called: true,
                        undo: None,
                    })
                }
                (Some(current), Change::ReplaceRoute { old, .. })
                    if current.route_id == old.route_id =>
                {
                    cloud
                        .replace_route(route_table_id, current, "NAT", nat_id)
                        .await?;
                    Ok(Applied {
                        called: true,
                        undo: None,
                    })
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
        Change::DisassociateEip {
            instance_id,
            address_id,
            ip,
        } => {
            let found = addresses.iter_mut().find(|a| {
                a.kind == AddressKind::Eip
                    && (a.id == *address_id || (address_id.is_empty() && a.ip == *ip))
            });
            let Some(addr) = found else {
                return Err(CloudError::state(
                    "DisassociateAddress",
                    "natpilot.AddressMissing",
                    format!("EIP {ip} of {instance_id} was not found"),
                ));
            };
            let undo = Undo::ReassociateEip {
                instance_id: instance_id.clone(),
                address_id: Some(addr.id.clone()),
                ip: ip.clone(),
            };
            if addr.instance_id.as_deref() != Some(instance_id.as_str()) {
                return Ok(done(Some(undo)));
            }
            cloud.disassociate_address(&addr.id).await?;
            addr.instance_id = None;
            addr.status = "UNBIND".into();
            Ok(Applied {
                called: true,
                undo: Some(undo),
            })
        }
        Change::ReleaseEip { address_id, .. } => {
            let Some(pos) = addresses.iter().position(|a| a.id == *address_id) else {
                return Ok(done(None));
            };
            cloud.release_address(address_id).await?;
            addresses.remove(pos);
            Ok(Applied {
                called: true,
                undo: None,
            })
        }
        Change::TransformAddress { instance_id, ip } => {
            if addresses
                .iter()
                .any(|a| a.kind == AddressKind::Eip && a.ip == *ip)
            {
                return Ok(done(None));
            }
            let id = cloud.transform_address(instance_id).await?;
            addresses.retain(|a| a.ip != *ip);
            addresses.push(Address {
                id,
                ip: ip.clone(),
                kind: AddressKind::Eip,
                status: "BIND".into(),
                instance_id: Some(instance_id.clone()),
            });
            Ok(Applied {
                called: true,
                undo: None,
            })
        }
        Change::ReturnNormalAddress { ip, .. } => {
            let Some(pos) = addresses
                .iter()
                .position(|a| a.kind == AddressKind::Ordinary && a.ip == *ip)
            else {
                return Ok(done(None));
            };
            cloud.return_normal_address(ip).await?;
            addresses.remove(pos);
            Ok(Applied {
                called: true,
                undo: None,
            })
        }
    }
}
