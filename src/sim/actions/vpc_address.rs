//! Elastic and ordinary public IPs: AllocateAddresses, DescribeAddresses, AssociateAddress,
//! DisassociateAddress, ReleaseAddresses, TransformAddress, ReturnNormalAddresses
//! (reference §4.13–§4.20). EIP changes run as tasks (`TaskId`, DescribeTaskResult); while a
//! task runs on an address every other change to it is refused (`MutexTaskRunning`).

use super::common::{Filters, check_id, exclusive, page, paging, unsigned};
use super::views;
use super::vpc_nat::check_eip_quota;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::transitions::iso_now;
use crate::sim::world::{self, AddressStatus, EipTask, TaskEffect, TimerKind, World};
use crate::tencent::models::U64Str;
use crate::tencent::models::vpc::*;

/// A fresh EIP record (not yet inserted).
pub fn new_eip(w: &mut World, status: AddressStatus) -> world::Address {
    world::Address {
        id: w.new_id("eip"),
        ip: w.new_public_ip(),
        name: "未命名".into(),
        status,
        instance_id: None,
        bandwidth: 1,
        charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
        isp: "BGP".into(),
        created_time: iso_now(),
        busy_task: None,
    }
}

/// Starts an EIP task marking `addresses` busy until it completes.
pub(super) fn start_task(w: &mut World, addresses: &[String], effect: TaskEffect) -> u64 {
    let id = w.new_task_id();
    for a in addresses {
        if let Some(address) = w.addresses.get_mut(a) {
            address.busy_task = Some(id);
        }
    }
    w.tasks.insert(
        id,
        EipTask {
            id,
            result: "RUNNING".into(),
            effect,
        },
    );
    w.schedule(TimerKind::EipTask(id));
    id
}

fn address<'a>(w: &'a World, id: &str) -> SimResult<&'a world::Address> {
    check_id(id, "eip", "InvalidParameterValue.AddressIdMalformed")?;
    let a = w.addresses.get(id).ok_or_else(|| {
        SimError::new(
            "InvalidAddressId.NotFound",
            format!("The EIP {id} does not exist."),
        )
    })?;
    if let Some(task) = a.busy_task {
        return Err(SimError::new(
            "OperationDenied.MutexTaskRunning",
            format!(
                "Task {task} is still running on {id}; wait for it (DescribeTaskResult) and retry."
            ),
        ));
    }
    Ok(a)
}

pub(super) fn instance<'a>(w: &'a World, id: &str) -> SimResult<&'a world::Instance> {
    check_id(id, "ins", "InvalidParameterValue.InstanceIdMalformed")?;
    w.instance(id).ok_or_else(|| {
        SimError::new(
            "InvalidInstanceId.NotFound",
            format!("The instance {id} does not exist."),
        )
    })
}

fn status_not_permit(a: &world::Address, wanted: &str) -> SimError {
    SimError::new(
        "UnsupportedOperation.AddressStatusNotPermit",
        format!(
            "EIP {} is {}; this needs it to be {wanted}.",
            a.id,
            a.status.as_str()
        ),
    )
}

pub fn allocate_addresses(
    w: &mut World,
    req: AllocateAddressesRequest,
) -> SimResult<AllocateAddressesResponse> {
    if let Some((ids, task)) = req
        .client_token
        .as_ref()
        .and_then(|t| w.client_tokens.get(t))
    {
        return Ok(AllocateAddressesResponse {
            address_set: ids.clone(),
            task_id: U64Str(*task),
        });
    }
    let count = req.address_count.unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(SimError::new(
            "InvalidParameterValue.Range",
            format!("`AddressCount` must be 1–100, got {count}."),
        ));
    }
    let count = count as u64;
    check_eip_quota(w, count, "AddressQuotaLimitExceeded").map_err(|e| match e.code.as_str() {
        "LimitExceeded.DailyAllocateAddressQuotaLimitExceeded" => {
            SimError::new("AddressQuotaLimitExceeded.DailyAllocate", e.message)
        }
        _ => e,
    })?;
    let mut ids = Vec::new();
    for _ in 0..count {
        let mut a = new_eip(w, AddressStatus::Creating);
        a.name = req.address_name.clone().unwrap_or(a.name);
        a.bandwidth = req.internet_max_bandwidth_out.unwrap_or(1).max(1) as u64;
        ids.push(a.id.clone());
        w.insert_address(a);
    }
    w.daily_eip_applied += count;
    let task = start_task(w, &ids, TaskEffect::Allocate(ids.clone()));
    if let Some(token) = req.client_token {
        w.client_tokens.insert(token, (ids.clone(), task));
    }
    Ok(AllocateAddressesResponse {
        address_set: ids,
        task_id: U64Str(task),
    })
}

const ADDRESS_FILTERS: &[&str] = &[
    "address-id",
    "address-name",
    "address-ip",
    "address-status",
    "instance-id",
    "private-ip-address",
    "network-interface-id",
    "is-arrears",
    "instance-type",
    "address-type",
    "address-isp",
    "dedicated-cluster-id",
    "tag-key",
    "tag-value",
    "tag:*",
];

pub fn describe_addresses(
    w: &mut World,
    req: DescribeAddressesRequest,
) -> SimResult<DescribeAddressesResponse> {
    let f = Filters::new(
        req.filters.as_ref(),
        ADDRESS_FILTERS,
        "InvalidParameter.InvalidFilter",
    )?;
    if req.address_ids.as_ref().is_some_and(|i| !i.is_empty()) && f.values("address-id").is_some() {
        exclusive(
            req.address_ids.as_ref(),
            req.filters.as_ref(),
            "InvalidParameter.Coexist",
        )?;
    }
    let (offset, limit) = paging(
        unsigned(req.offset, "Offset")?,
        unsigned(req.limit, "Limit")?,
        20,
        100,
    )?;
    // Without `address-type`, only EIP kinds are listed; ordinary IPs need `WanIP` (§4.14).
    let types = f
        .values("address-type")
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| vec!["EIP".into()]);
    let mut all: Vec<Address> = Vec::new();
    if types.iter().any(|t| t == "EIP") {
        all.extend(w.addresses.values().map(views::address));
    }
    if types.iter().any(|t| t.eq_ignore_ascii_case("WanIP")) {
        all.extend(
            w.instances()
                .iter()
                .filter_map(|i| i.public_ip.as_ref().map(|ip| views::wan_ip(i, ip))),
        );
    }
    let all: Vec<Address> = all
        .into_iter()
        .filter(|a| {
            req.address_ids
                .as_ref()
                .is_none_or(|ids| ids.is_empty() || ids.contains(&a.address_id))
        })
        .filter(|a| {
            f.allows("address-id", &a.address_id) && f.allows("address-name", &a.address_name)
        })
        .filter(|a| {
            f.allows("address-ip", &a.address_ip)
                && f.allows_ci("address-status", &a.address_status)
        })
        .filter(|a| f.allows("instance-id", &a.instance_id))
        .filter(|a| f.allows("instance-type", a.instance_type.as_deref().unwrap_or("")))
        .filter(|a| {
            f.allows(
                "private-ip-address",
                a.private_address_ip.as_deref().unwrap_or(""),
            )
        })
        .filter(|_| f.allows_ci("is-arrears", "false") && f.allows_tags(std::iter::empty()))
        .collect();
    Ok(DescribeAddressesResponse {
        total_count: all.len() as i64,
        address_set: page(&all, offset, limit),
    })
}

pub fn associate_address(
    w: &mut World,
    req: AssociateAddressRequest,
) -> SimResult<AssociateAddressResponse> {
    let a = address(w, &req.address_id)?;
    let Some(instance_id) = req.instance_id.clone() else {
        return Err(SimError::new(
            "InvalidParameterValue.MissingAssociateEntity",
            "Give `InstanceId` (binding to a network interface is not simulated).",
        ));
    };
    if a.status != AddressStatus::Unbind || a.instance_id.is_some() {
        return Err(status_not_permit(a, "UNBIND"));
    }
    let i = instance(w, &instance_id)?;
    if w.addresses_of(&i.id).next().is_some() {
        return Err(SimError::new(
            "InvalidInstanceId.AlreadyBindEip",
            format!("Instance {} already has an EIP.", i.id),
        ));
    }
    if i.public_ip.is_some() {
        return Err(SimError::new(
            "InvalidParameterValue.InstanceHasWanIP",
            format!(
                "Instance {} still has an ordinary public IP; return it (ReturnNormalAddresses) or transform it first.",
                i.id
            ),
        ));
    }
    if !matches!(i.state.as_str(), "RUNNING" | "STOPPED") {
        return Err(SimError::new(
            "UnsupportedOperation.InstanceStateNotSupported",
            format!("Instance {} is {}.", i.id, i.state),
        ));
    }
    w.set_binding(&req.address_id, Some(&instance_id));
    w.set_status(&req.address_id, AddressStatus::Binding);
    let task = start_task(
        w,
        std::slice::from_ref(&req.address_id),
        TaskEffect::Associate {
            address: req.address_id.clone(),
        },
    );
    Ok(AssociateAddressResponse {
        task_id: U64Str(task),
    })
}

pub fn disassociate_address(
    w: &mut World,
    req: DisassociateAddressRequest,
) -> SimResult<DisassociateAddressResponse> {
    let a = address(w, &req.address_id)?;
    if a.instance_type() == Some("NAT") {
        return Err(SimError::new(
            "InvalidInstance.NotSupported",
            format!(
                "EIP {} is bound to NAT gateway {}; use DisassociateNatGatewayAddress.",
                a.id,
                a.instance_id.as_deref().unwrap_or("")
            ),
        ));
    }
    if a.status != AddressStatus::Bind {
        return Err(SimError::new(
            "InvalidAddressIdStatus.NotPermit",
            format!("EIP {} is {}, not BIND.", a.id, a.status.as_str()),
        ));
    }
    let reallocate = req.reallocate_normal_public_ip.unwrap_or(false);
    if reallocate {
        if w.daily_ip_assigned >= w.quotas.public_ip_daily_assign {
            return Err(SimError::new(
                "AddressQuotaLimitExceeded.DailyAllocate",
                "The daily quota of re-assigned public IPs is used up.",
            ));
        }
        w.daily_ip_assigned += 1;
    }
    w.set_status(&req.address_id, AddressStatus::Unbinding);
    let effect = TaskEffect::Disassociate {
        address: req.address_id.clone(),
        reallocate,
    };
    let task = start_task(w, std::slice::from_ref(&req.address_id), effect);
    Ok(DisassociateAddressResponse {
        task_id: U64Str(task),
    })
}

pub fn release_addresses(
    w: &mut World,
    req: ReleaseAddressesRequest,
) -> SimResult<ReleaseAddressesResponse> {
    if req.address_ids.is_empty() {
        return Err(SimError::missing("AddressIds"));
    }
    for id in &req.address_ids {
        let a = address(w, id)?;
        if a.status != AddressStatus::Unbind || a.instance_id.is_some() {
            return Err(SimError::new(
                "InvalidAddressState",
                format!(
                    "EIP {id} is {}; only UNBIND EIPs can be released.",
                    a.status.as_str()
                ),
            ));
        }
    }
    for id in &req.address_ids {
        w.set_status(id, AddressStatus::Offlining);
    }
    let task = start_task(
        w,
        &req.address_ids,
        TaskEffect::Release(req.address_ids.clone()),
    );
    Ok(ReleaseAddressesResponse {
        task_id: U64Str(task),
    })
}
