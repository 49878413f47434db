//! Issue 12 in the Terraform export: the SNAT rules a run made on its gateway, as
//! `tencentcloud_nat_gateway_snat` with the provider's import id `<nat id>#<resource id>`
//! (its docs: `nat-r4ip1cwt#subnet-2ap74y35`, `nat-r4ip1cwt#ins-da412f5a`). The EIPs kept on
//! the gateway are part of its `assigned_eip_set` (the association) like its own.

use std::fmt::Write;

use super::{Labels, NatResource, comment_safe, identifier, quote};

/// One SNAT rule of the run's gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnatResource {
    pub id: String,
    /// `SUBNET` or `NETWORKINTERFACE`.
    pub resource_type: String,
    /// `subnet-…` or `ins-…`.
    pub resource_id: String,
    /// The subnet's CIDR, or the instance's primary private IP.
    pub private_ip: String,
    pub public_ips: Vec<String>,
    pub description: String,
}

/// The run's rules: those on its gateway whose description carries the run id.
pub fn from_inventory(
    run_id: &str,
    nat_id: &str,
    inventory: &crate::wizard::observed::Inventory,
) -> Vec<SnatResource> {
    let prefix = crate::wizard::steps::keep::rule_description(run_id, "");
    inventory
        .snat_rules
        .iter()
        .filter(|r| r.nat_id.as_str() == nat_id && r.description.starts_with(&prefix))
        .map(|r| SnatResource {
            id: r.id.clone(),
            resource_type: r.resource_type.clone(),
            resource_id: r.resource_id.clone(),
            private_ip: r.private_ip.clone(),
            public_ips: r.public_ips.clone(),
            description: r.description.clone(),
        })
        .collect()
}

pub(super) fn render(
    out: &mut String,
    rule: &SnatResource,
    nat: &NatResource,
    labels: Labels,
    imports: &mut Vec<(String, String)>,
) {
    let label = format!("natpilot_{}", identifier(&rule.resource_id));
    // The pool by reference to the gateway's EIP resources, so the dependency order holds.
    let pool: Vec<String> = rule
        .public_ips
        .iter()
        .map(|ip| match nat.eips.iter().position(|e| e.ip == *ip) {
            Some(i) => format!("tencentcloud_eip.{}.public_ip", labels.eip(i)),
            None => quote(ip),
        })
        .collect();
    let _ = writeln!(
        out,
        "resource \"tencentcloud_nat_gateway_snat\" \"{label}\" {{"
    );
    let _ = writeln!(out, "  # {}", comment_safe(&rule.id));
    let _ = writeln!(
        out,
        "  nat_gateway_id = tencentcloud_nat_gateway.{}.id",
        labels.nat()
    );
    let _ = writeln!(out, "  resource_type  = {}", quote(&rule.resource_type));
    if rule.resource_type == "SUBNET" {
        let _ = writeln!(out, "  subnet_id          = {}", quote(&rule.resource_id));
        let _ = writeln!(out, "  subnet_cidr_block  = {}", quote(&rule.private_ip));
    } else {
        let _ = writeln!(
            out,
            "  instance_id              = {}",
            quote(&rule.resource_id)
        );
        let _ = writeln!(
            out,
            "  instance_private_ip_addr = {}",
            quote(&rule.private_ip)
        );
    }
    let _ = writeln!(out, "  public_ip_addr = [{}]", pool.join(", "));
    let _ = writeln!(out, "  description    = {}", quote(&rule.description));
    out.push_str("}\n\n");
    imports.push((
        format!("tencentcloud_nat_gateway_snat.{label}"),
        format!("{}#{}", nat.id, rule.resource_id),
    ));
}
