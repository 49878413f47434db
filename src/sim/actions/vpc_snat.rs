//! SNAT rules: Create/Describe/Modify/DeleteNatGatewaySourceIpTranslationNatRule (addendum 2
//! §2). Rules: the gateway must be AVAILABLE to change its rules; a rule's EIPs must be bound
//! to the gateway; an instance rule names an instance of the gateway's VPC by id and primary
//! private IP, a subnet rule a subnet of that VPC by id and CIDR; one private source per
//! gateway; 200 rules per gateway. Unbinding an EIP from the gateway prunes it from every
//! pool and deletes rules left without one (§2.7). Egress follows the rules (`egress.rs`).

use super::common::{Filters, page, paging, unsigned};
use super::vpc_nat::{available, nat};
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::transitions::local_now;
use crate::sim::world::{AddressStatus, SnatRule, World};
use crate::tencent::models::vpc::*;

const SNAT_FILTERS: &[&str] = &["resource-id", "public-ip-address", "description"];

fn rule_not_found(nat_id: &str, id: &str) -> SimError {
    SimError::new(
        "InvalidParameterValue.NatGatewaySnatRuleNotExists",
        format!("The SNAT rule {id} does not exist on NAT gateway {nat_id}."),
    )
}

/// The private source the rule covers must be what it names: an instance of the gateway's
/// VPC with that primary private IP, or a subnet of that VPC with that CIDR.
fn check_source(w: &World, vpc_id: &str, r: &SnatRuleInput) -> SimResult<()> {
    match r.resource_type.as_str() {
        "NETWORKINTERFACE" => {
            let ok = w
                .instance(&r.resource_id)
                .is_some_and(|i| i.vpc_id == vpc_id && i.private_ip == r.private_ip_address);
            if ok {
                Ok(())
            } else {
                Err(SimError::new(
                    "UnsupportedOperation.NatGatewaySnatPipNeedVm",
                    format!(
                        "{} is not the primary private IP of an instance {} in {vpc_id}.",
                        r.private_ip_address, r.resource_id
                    ),
                ))
            }
        }
        "SUBNET" => match w.subnets.get(&r.resource_id) {
            Some(s) if s.vpc_id == vpc_id && s.cidr == r.private_ip_address => Ok(()),
            Some(s) if s.vpc_id == vpc_id => Err(SimError::invalid_value(format!(
                "`PrivateIpAddress` of a SUBNET rule must be the subnet's CIDR {}, got {}.",
                s.cidr, r.private_ip_address
            ))),
            _ => Err(SimError::invalid_value(format!(
                "The subnet {} is not a subnet of {vpc_id}.",
                r.resource_id
            ))),
        },
        "USERDEFINED" => Err(SimError::invalid_value(
            "USERDEFINED SNAT rules are not simulated; use SUBNET or NETWORKINTERFACE.",
        )),
        other => Err(SimError::invalid_value(format!(
            "`ResourceType` must be SUBNET, NETWORKINTERFACE or USERDEFINED, got `{other}`."
        ))),
    }
}

/// Every IP of the pool must be an EIP bound to the gateway; `code` differs per action.
fn check_pool(w: &World, nat_id: &str, ips: &[String], code: &str) -> SimResult<()> {
    if ips.is_empty() {
        return Err(SimError::invalid_value(
            "`PublicIpAddresses` must name at least one EIP of the NAT gateway.",
        ));
    }
    for ip in ips {
        let bound = w
            .addresses_of(nat_id)
            .any(|a| &a.ip == ip && a.status == AddressStatus::Bind);
        if !bound {
            return Err(SimError::new(
                code,
                format!("{ip} is not an EIP bound to NAT gateway {nat_id}."),
            ));
        }
    }
    Ok(())
}

pub fn create_snat_rules(w: &mut World, req: CreateSnatRulesRequest) -> SimResult<EmptyResponse> {
    let vpc_id = available(w, &req.nat_gateway_id)?.vpc_id.clone();
    if req.source_ip_translation_nat_rules.is_empty() {
        return Err(SimError::new(
            "InvalidParameter",
            "`SourceIpTranslationNatRules` must hold at least one rule.",
        ));
    }
    let existing: Vec<&SnatRule> = w
        .snat_rules
        .values()
        .filter(|r| r.nat_id == req.nat_gateway_id)
        .collect();
    let total = existing.len() + req.source_ip_translation_nat_rules.len();
    if total as u64 > w.quotas.snat_rules_per_nat {
        return Err(SimError::new(
            "LimitExceeded",
            format!(
                "A NAT gateway holds at most {} SNAT rules ({} exist, {} requested).",
                w.quotas.snat_rules_per_nat,
                existing.len(),
                req.source_ip_translation_nat_rules.len()
            ),
        ));
    }
    let mut sources: Vec<&str> = existing.iter().map(|r| r.private_ip.as_str()).collect();
    for r in &req.source_ip_translation_nat_rules {
        if r.nat_gateway_snat_id.is_some() {
            return Err(SimError::new(
                "UnknownParameter",
                "`NatGatewaySnatId` is not sent when creating a rule.",
            ));
        }
        check_source(w, &vpc_id, r)?;
        check_pool(
            w,
            &req.nat_gateway_id,
            &r.public_ip_addresses,
            "UnsupportedOperation.NatGatewayEipNotExists",
        )?;
        if let Some(same) = existing.iter().find(|e| {
            e.resource_id == r.resource_id
                && e.private_ip == r.private_ip_address
                && e.public_ips == r.public_ip_addresses
        }) {
            return Err(SimError::new(
                "InvalidParameterValue.NatSnatRuleExists",
                format!("This SNAT rule already exists as {}.", same.id),
            ));
        }
        if sources.contains(&r.private_ip_address.as_str()) {
            return Err(SimError::new(
                "UnsupportedOperation.NatGatewayRulePipExists",
                format!(
                    "{} is already the source of another SNAT rule of {}.",
                    r.private_ip_address, req.nat_gateway_id
                ),
            ));
        }
        sources.push(&r.private_ip_address);
    }
    for r in req.source_ip_translation_nat_rules {
        let id = w.new_id("snat");
        let rule = SnatRule {
            id: id.clone(),
            nat_id: req.nat_gateway_id.clone(),
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            private_ip: r.private_ip_address,
            public_ips: r.public_ip_addresses,
            description: r.description,
            created_time: local_now(),
        };
        w.snat_rules.insert(id, rule);
    }
    Ok(EmptyResponse {})
}

pub fn view(w: &World, r: &SnatRule) -> SourceIpTranslationNatRule {
    SourceIpTranslationNatRule {
        resource_id: r.resource_id.clone(),
        resource_type: r.resource_type.clone(),
        private_ip_address: r.private_ip.clone(),
        public_ip_addresses: r.public_ips.clone(),
        description: r.description.clone(),
        nat_gateway_snat_id: r.id.clone(),
        nat_gateway_id: r.nat_id.clone(),
        vpc_id: w
            .nat_gateways
            .get(&r.nat_id)
            .map(|n| n.vpc_id.clone())
            .unwrap_or_default(),
        created_time: r.created_time.clone(),
    }
}

pub fn describe_snat_rules(
    w: &mut World,
    req: DescribeSnatRulesRequest,
) -> SimResult<DescribeSnatRulesResponse> {
    nat(w, &req.nat_gateway_id)?;
    let f = Filters::new(
        req.filters.as_ref(),
        SNAT_FILTERS,
        "InvalidParameter.FilterInvalidKey",
    )?;
    for ip in f.values("public-ip-address").unwrap_or(&[]) {
        if !w.addresses.values().any(|a| &a.ip == ip) {
            return Err(SimError::new(
                "InvalidAddressId.NotFound",
                format!("The EIP {ip} does not exist."),
            ));
        }
    }
    let offset = unsigned(req.offset, "Offset")?;
    let limit = unsigned(req.limit, "Limit")?;
    let (offset, limit) = paging(offset, limit, 20, 100)?;
    let all: Vec<SourceIpTranslationNatRule> = w
        .snat_rules
        .values()
        .filter(|r| r.nat_id == req.nat_gateway_id)
        .filter(|r| {
            f.allows("resource-id", &r.resource_id) && f.allows("description", &r.description)
        })
        .filter(|r| {
            f.values("public-ip-address")
                .is_none_or(|ips| r.public_ips.iter().any(|p| ips.contains(p)))
        })
        .map(|r| view(w, r))
        .collect();
    Ok(DescribeSnatRulesResponse {
        total_count: all.len() as i64,
        source_ip_translation_nat_rule_set: page(&all, offset, limit),
    })
}

pub fn modify_snat_rule(w: &mut World, req: ModifySnatRuleRequest) -> SimResult<EmptyResponse> {
    available(w, &req.nat_gateway_id)?;
    let r = &req.source_ip_translation_nat_rule;
    let id = r
        .nat_gateway_snat_id
        .clone()
        .ok_or_else(|| SimError::missing("SourceIpTranslationNatRule.NatGatewaySnatId"))?;
    let rule = w
        .snat_rules
        .get(&id)
        .filter(|x| x.nat_id == req.nat_gateway_id)
        .ok_or_else(|| rule_not_found(&req.nat_gateway_id, &id))?;
    if rule.resource_id != r.resource_id
        || rule.resource_type != r.resource_type
        || rule.private_ip != r.private_ip_address
    {
        return Err(SimError::invalid_value(
            "Only `PublicIpAddresses` and `Description` of an SNAT rule can be changed; \
             delete and create it to change its source.",
        ));
    }
    check_pool(
        w,
        &req.nat_gateway_id,
        &r.public_ip_addresses,
        "UnsupportedOperation.UnbindEIP",
    )?;
    let rule = w.snat_rules.get_mut(&id).expect("checked above");
    rule.public_ips = r.public_ip_addresses.clone();
    rule.description = r.description.clone();
    Ok(EmptyResponse {})
}

pub fn delete_snat_rules(w: &mut World, req: DeleteSnatRulesRequest) -> SimResult<EmptyResponse> {
    nat(w, &req.nat_gateway_id)?;
    if req.nat_gateway_snat_ids.is_empty() {
        return Err(SimError::new(
            "InvalidParameter",
            "`NatGatewaySnatIds` must name at least one rule.",
        ));
    }
    // All or nothing: check every id before deleting any.
    for id in &req.nat_gateway_snat_ids {
        let here = w
            .snat_rules
            .get(id)
            .is_some_and(|r| r.nat_id == req.nat_gateway_id);
        if !here {
            return Err(rule_not_found(&req.nat_gateway_id, id));
        }
    }
    for id in &req.nat_gateway_snat_ids {
        w.snat_rules.remove(id);
    }
    Ok(EmptyResponse {})
}

/// After `ips` were unbound from `nat_id`: drop them from every pool of its rules, and delete
/// the rules whose only EIPs they were (addendum 2 §2.7).
pub fn prune_unbound_eips(w: &mut World, nat_id: &str, ips: &[String]) {
    for rule in w.snat_rules.values_mut().filter(|r| r.nat_id == nat_id) {
        rule.public_ips.retain(|ip| !ips.contains(ip));
    }
    w.snat_rules
        .retain(|_, r| r.nat_id != nat_id || !r.public_ips.is_empty());
}
