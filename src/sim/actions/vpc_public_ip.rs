//! Ordinary (non-EIP) public IPs: TransformAddress turns one into an EIP, ReturnNormalAddresses
//! gives it back (reference §4.18–§4.20). Both keep or drop the instance's egress IP exactly
//! as the real actions do: transform keeps the address, return removes it for good.

use super::vpc_address::{instance, new_eip, start_task};
use super::vpc_nat::check_eip_quota;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::{AddressStatus, TaskEffect, World};
use crate::tencent::models::U64Num;
use crate::tencent::models::vpc::*;

pub fn transform_address(
    w: &mut World,
    req: TransformAddressRequest,
) -> SimResult<TransformAddressResponse> {
    let i = instance(w, &req.instance_id)?;
    if w.addresses_of(&i.id).next().is_some() {
        return Err(SimError::new(
            "InvalidInstanceId.AlreadyBindEip",
            format!("Instance {} already has an EIP.", i.id),
        ));
    }
    let Some(ip) = i.public_ip.clone() else {
        return Err(SimError::new(
            "InvalidParameterValue.InstanceHasNoWanIP",
            format!("Instance {} has no ordinary public IP.", i.id),
        ));
    };
    check_eip_quota(w, 1, "AddressQuotaLimitExceeded")?;
    let mut a = new_eip(w, AddressStatus::Bind);
    a.ip = ip;
    let id = a.id.clone();
    w.insert_address(a);
    w.set_binding(&id, Some(&req.instance_id));
    if let Some(instance) = w.instance_mut(&req.instance_id) {
        instance.public_ip = None;
    }
    let task = start_task(
        w,
        std::slice::from_ref(&id),
        TaskEffect::Transform {
            address: id.clone(),
        },
    );
    Ok(TransformAddressResponse {
        task_id: U64Num(task),
        address_id: id,
    })
}

pub fn return_normal_addresses(
    w: &mut World,
    req: ReturnNormalAddressesRequest,
) -> SimResult<ReturnNormalAddressesResponse> {
    if req.address_ips.is_empty() {
        return Err(SimError::missing("AddressIps"));
    }
    let mut owners = Vec::new();
    for ip in &req.address_ips {
        let owner = w
            .instances()
            .iter()
            .find(|i| i.public_ip.as_deref() == Some(ip.as_str()))
            .ok_or_else(|| {
                SimError::new(
                    "InvalidParameterValue.AddressIpsNotFound",
                    format!("{ip} is not an ordinary public IP of any instance."),
                )
            })?;
        owners.push(owner.id.clone());
    }
    for id in owners {
        if let Some(instance) = w.instance_mut(&id) {
            instance.public_ip = None;
        }
    }
    Ok(ReturnNormalAddressesResponse {})
}
