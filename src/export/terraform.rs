//! The resources a run created, as Terraform for the `tencentcloud` provider, with `import`
//! blocks (Terraform ≥ 1.5) and the equivalent `terraform import` commands, so a team can
//! adopt what natpilot made without recreating it.
//!
//! Import ids follow the provider docs: `tencentcloud_nat_gateway` and `tencentcloud_eip` by
//! their ids, `tencentcloud_route_table_entry` as `<RouteId>.<RouteTableId>`.
//! Every string comes from the cloud (names, descriptions) and is escaped for HCL, including
//! `${`/`%{` template sequences, so a hostile name cannot inject configuration.

use std::fmt::Write;

mod snat;
pub use snat::SnatResource;

/// The NAT gateway a run created or adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatResource {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    pub zone: Option<String>,
    /// Mbps (`InternetMaxBandwidthOut`).
    pub bandwidth: Option<u64>,
    /// `MaxConcurrentConnection`.
    pub max_concurrent: Option<u64>,
    pub eips: Vec<EipResource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EipResource {
    pub id: String,
    pub ip: String,
    pub name: Option<String>,
}

/// One route table entry the run created or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntryResource {
    pub route_table_id: String,
    /// The numeric `RouteId` (not the `rti-` item id).
    pub route_id: i64,
    pub destination: String,
    /// `NAT`, `EIP`, ... as Tencent spells `GatewayType`.
    pub next_type: String,
    pub next_hub: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunResources {
    pub run_id: String,
    pub nat: Option<NatResource>,
    pub routes: Vec<RouteEntryResource>,
    /// Issue 12: the SNAT rules that keep egress IPs, on the run's gateway.
    pub snat_rules: Vec<SnatResource>,
}

/// Renders the whole `.tf` file.
pub fn render(resources: &RunResources) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Resources managed by natpilot run {}.\n# Terraform >= 1.5 adopts them through the import blocks; older versions:\n#   run the `terraform import` commands listed at the end of this file.\n",
        comment_safe(&resources.run_id)
    );
    let mut imports: Vec<(String, String)> = Vec::new();
    if let Some(nat) = &resources.nat {
        render_nat(&mut out, nat, &mut imports);
    }
    for route in &resources.routes {
        render_route(&mut out, route, resources.nat.as_ref(), &mut imports);
    }
    if let Some(nat) = &resources.nat {
        for rule in &resources.snat_rules {
            snat::render(&mut out, rule, nat, &mut imports);
        }
    }
    for (address, id) in &imports {
        let _ = writeln!(
            out,
            "import {{\n  to = {address}\n  id = {}\n}}\n",
            quote(id)
        );
    }
    if !imports.is_empty() {
        out.push_str("# Without import blocks:\n");
        for (address, id) in &imports {
            let _ = writeln!(out, "#   terraform import {address} {}", comment_safe(id));
        }
    }
    out
}

fn render_nat(out: &mut String, nat: &NatResource, imports: &mut Vec<(String, String)>) {
    let mut eip_refs = Vec::new();
    for (index, eip) in nat.eips.iter().enumerate() {
        let label = format!("nat_eip_{}", index + 1);
        let _ = writeln!(out, "resource \"tencentcloud_eip\" \"{label}\" {{");
        if let Some(name) = &eip.name {
            let _ = writeln!(out, "  name = {}", quote(name));
        }
        let _ = writeln!(
            out,
            "  # {} ({})\n}}\n",
            comment_safe(&eip.ip),
            comment_safe(&eip.id)
        );
        eip_refs.push(format!("tencentcloud_eip.{label}.public_ip"));
        imports.push((format!("tencentcloud_eip.{label}"), eip.id.clone()));
    }
    out.push_str("resource \"tencentcloud_nat_gateway\" \"natpilot\" {\n");
    let _ = writeln!(out, "  name             = {}", quote(&nat.name));
    let _ = writeln!(out, "  vpc_id           = {}", quote(&nat.vpc_id));
    if let Some(bandwidth) = nat.bandwidth {
        let _ = writeln!(out, "  bandwidth        = {bandwidth}");
    }
    if let Some(max) = nat.max_concurrent {
        let _ = writeln!(out, "  max_concurrent   = {max}");
    }
    if let Some(zone) = &nat.zone {
        let _ = writeln!(out, "  zone             = {}", quote(zone));
    }
    let _ = writeln!(out, "  assigned_eip_set = [{}]", eip_refs.join(", "));
    out.push_str("}\n\n");
    imports.push(("tencentcloud_nat_gateway.natpilot".into(), nat.id.clone()));
}

fn render_route(
    out: &mut String,
    route: &RouteEntryResource,
    nat: Option<&NatResource>,
    imports: &mut Vec<(String, String)>,
) {
    let label = format!("natpilot_{}", identifier(&route.route_table_id));
    // Refer to the NAT resource rather than its literal id when it is the next hop, so the
    // configuration keeps its dependency order.
    let next_hub = match nat {
        Some(nat) if route.next_type == "NAT" && route.next_hub == nat.id => {
            "tencentcloud_nat_gateway.natpilot.id".to_string()
        }
        _ => quote(&route.next_hub),
    };
    let _ = writeln!(
        out,
        "resource \"tencentcloud_route_table_entry\" \"{label}\" {{"
    );
    let _ = writeln!(
        out,
        "  route_table_id         = {}",
        quote(&route.route_table_id)
    );
    let _ = writeln!(
        out,
        "  destination_cidr_block = {}",
        quote(&route.destination)
    );
    let _ = writeln!(
        out,
        "  next_type              = {}",
        quote(&route.next_type)
    );
    let _ = writeln!(out, "  next_hub               = {next_hub}");
    if !route.description.is_empty() {
        let _ = writeln!(
            out,
            "  description            = {}",
            quote(&route.description)
        );
    }
    out.push_str("}\n\n");
    imports.push((
        format!("tencentcloud_route_table_entry.{label}"),
        format!("{}.{}", route.route_id, route.route_table_id),
    ));
}

/// An HCL string literal: quotes, backslashes, control characters and template sequences
/// (`${`, `%{`) escaped.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Terraform resource label built from an id: letters, digits, `_` and `-` only.
fn identifier(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Text for a `#` comment: one line, nothing that could end the comment.
fn comment_safe(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// What a run left in the cloud, read from a fresh inventory: the NAT gateway tagged
/// `natpilot:run=<run id>` and its EIPs, and every `0.0.0.0/0` route pointing at it.
/// Bandwidth and connection limits are not part of the observed state, so they are left for
/// Terraform to read on import.
pub fn from_inventory(
    run_id: &str,
    inventory: &crate::wizard::observed::Inventory,
) -> RunResources {
    let nat = inventory
        .nat_gateways
        .iter()
        .find(|n| n.run_tag() == Some(run_id));
    let routes = nat
        .map(|nat| {
            inventory
                .route_tables
                .iter()
                .flat_map(|table| {
                    table
                        .routes
                        .iter()
                        .filter(|r| r.points_at(&nat.id))
                        .map(|r| RouteEntryResource {
                            route_table_id: table.id.clone(),
                            route_id: r.route_id,
                            destination: r.destination.clone(),
                            next_type: r.gateway_type.to_string(),
                            next_hub: r.gateway_id.clone(),
                            description: r.description.clone(),
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    let snat_rules = nat
        .map(|n| snat::from_inventory(run_id, n.id.as_str(), inventory))
        .unwrap_or_default();
    RunResources {
        run_id: run_id.to_string(),
        snat_rules,
        nat: nat.map(|n| NatResource {
            id: n.id.to_string(),
            name: n.name.clone(),
            vpc_id: inventory.vpc_id.clone(),
            zone: (!n.zone.is_empty()).then(|| n.zone.clone()),
            bandwidth: None,
            max_concurrent: None,
            eips: n
                .eips
                .iter()
                .map(|(id, ip)| EipResource {
                    id: id.clone(),
                    ip: ip.clone(),
                    name: None,
                })
                .collect(),
        }),
        routes,
    }
}

#[cfg(test)]
mod tests;
