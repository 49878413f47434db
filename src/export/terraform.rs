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
    /// Issue 12: the further gateways (2, 3) the run made when one could not keep every egress
    /// IP, each with its routes and rules.
    pub further: Vec<GatewayResources>,
}

/// One further gateway of a run, with the routes to it and its SNAT rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResources {
    pub nat: NatResource,
    pub routes: Vec<RouteEntryResource>,
    pub snat_rules: Vec<SnatResource>,
}

/// The Terraform labels of a run's gateway number `n` and of its EIPs: the first keeps the
/// labels it always had.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Labels {
    n: usize,
}

impl Labels {
    fn nat(self) -> String {
        match self.n {
            0 | 1 => "natpilot".into(),
            n => format!("natpilot_{n}"),
        }
    }

    fn eip(self, index: usize) -> String {
        match self.n {
            0 | 1 => format!("nat_eip_{}", index + 1),
            n => format!("nat{n}_eip_{}", index + 1),
        }
    }
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
    let first = Labels { n: 1 };
    if let Some(nat) = &resources.nat {
        render_nat(&mut out, nat, first, &mut imports);
    }
    for route in &resources.routes {
        render_route(&mut out, route, resources.nat.as_ref(), first, &mut imports);
    }
    if let Some(nat) = &resources.nat {
        for rule in &resources.snat_rules {
            snat::render(&mut out, rule, nat, first, &mut imports);
        }
    }
    for (k, g) in resources.further.iter().enumerate() {
        let labels = Labels { n: k + 2 };
        render_nat(&mut out, &g.nat, labels, &mut imports);
        for route in &g.routes {
            render_route(&mut out, route, Some(&g.nat), labels, &mut imports);
        }
        for rule in &g.snat_rules {
            snat::render(&mut out, rule, &g.nat, labels, &mut imports);
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

fn render_nat(
    out: &mut String,
    nat: &NatResource,
    labels: Labels,
    imports: &mut Vec<(String, String)>,
) {
    let mut eip_refs = Vec::new();
    for (index, eip) in nat.eips.iter().enumerate() {
        let label = labels.eip(index);
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
    let _ = writeln!(
        out,
        "resource \"tencentcloud_nat_gateway\" \"{}\" {{",
        labels.nat()
    );
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
    imports.push((
        format!("tencentcloud_nat_gateway.{}", labels.nat()),
        nat.id.clone(),
    ));
}

fn render_route(
    out: &mut String,
    route: &RouteEntryResource,
    nat: Option<&NatResource>,
    labels: Labels,
    imports: &mut Vec<(String, String)>,
) {
    let label = format!("natpilot_{}", identifier(&route.route_table_id));
    // Refer to the NAT resource rather than its literal id when it is the next hop, so the
    // configuration keeps its dependency order.
    let next_hub = match nat {
        Some(nat) if route.next_type == "NAT" && route.next_hub == nat.id => {
            format!("tencentcloud_nat_gateway.{}.id", labels.nat())
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
/// `natpilot:run=<run id>` and its EIPs, and every `0.0.0.0/0` route pointing at it — and the
/// same for each further gateway the run made (issue 12, tagged `<run id>-nat2`, `-nat3`).
/// Bandwidth and connection limits are not part of the observed state, so they are left for
/// Terraform to read on import.
pub fn from_inventory(
    run_id: &str,
    inventory: &crate::wizard::observed::Inventory,
) -> RunResources {
    let tagged = |tag: &str| {
        inventory
            .nat_gateways
            .iter()
            .find(|n| n.run_tag() == Some(tag) && !n.state.is_dead())
            .or_else(|| {
                inventory
                    .nat_gateways
                    .iter()
                    .find(|n| n.run_tag() == Some(tag))
            })
    };
    let first = tagged(run_id).map(|n| gateway(run_id, n, inventory));
    let further = (2..=crate::wizard::steps::provision::NATS_PER_VPC as u32)
        .filter_map(|k| tagged(&crate::wizard::steps::gateways::extra_tag(run_id, k)))
        .map(|n| gateway(run_id, n, inventory))
        .collect();
    let (nat, routes, snat_rules) = match first {
        Some(g) => (Some(g.nat), g.routes, g.snat_rules),
        None => (None, vec![], vec![]),
    };
    RunResources {
        run_id: run_id.to_string(),
        snat_rules,
        nat,
        routes,
        further,
    }
}

/// One gateway with the routes pointing at it and the run's SNAT rules on it.
fn gateway(
    run_id: &str,
    nat: &crate::wizard::observed::NatGateway,
    inventory: &crate::wizard::observed::Inventory,
) -> GatewayResources {
    let routes = inventory
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
        .collect();
    GatewayResources {
        snat_rules: snat::from_inventory(run_id, nat.id.as_str(), inventory),
        nat: NatResource {
            id: nat.id.to_string(),
            name: nat.name.clone(),
            vpc_id: inventory.vpc_id.clone(),
            zone: (!nat.zone.is_empty()).then(|| nat.zone.clone()),
            bandwidth: None,
            max_concurrent: None,
            eips: nat
                .eips
                .iter()
                .map(|(id, ip)| EipResource {
                    id: id.clone(),
                    ip: ip.clone(),
                    name: None,
                })
                .collect(),
        },
        routes,
    }
}

#[cfg(test)]
mod tests;
