//! The topology picture: a server-rendered SVG of one VPC — route tables, their subnets, the
//! instances with public-IP badges, protected hosts marked, and the NAT gateways with their
//! EIPs, with an arrow from every route table whose `0.0.0.0/0` points at a NAT gateway.
//!
//! No JavaScript and no inline styles (the portal's CSP forbids them): shapes carry classes
//! that the stylesheet colours for light and dark mode, plus presentation attributes as a
//! fallback. Every text comes from the cloud and is XML-escaped. Large VPCs stay readable:
//! each subnet shows its first few instances and a "+N more" line.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use crate::wizard::observed::{AddressKind, Instance, Inventory};

mod diff;
pub use diff::changes;

/// Instances drawn per subnet before the rest are summarised.
const SHOWN_PER_SUBNET: usize = 8;
const COLUMN_WIDTH: u32 = 250;
const GAP: u32 = 20;
const ROW: u32 = 22;
const NAT_BAND: u32 = 110;

/// Route tables per row of the picture: more would shrink the text until it cannot be read,
/// so further tables wrap onto the next row.
const COLUMNS_PER_ROW: usize = 4;

/// Renders `inventory` as an SVG document fragment (an `<svg>` element).
pub fn render(inventory: &Inventory, protected: &BTreeSet<String>, title: &str) -> String {
    let tables = &inventory.route_tables;
    let columns = tables.len().clamp(1, COLUMNS_PER_ROW) as u32;
    let width = GAP + columns * (COLUMN_WIDTH + GAP);
    let members = members_by_subnet(inventory);
    let mut body = String::new();
    let mut top = NAT_BAND + 10;
    for row in tables.chunks(COLUMNS_PER_ROW) {
        let mut bottom = top;
        for (index, table) in row.iter().enumerate() {
            let x = GAP + index as u32 * (COLUMN_WIDTH + GAP);
            let ctx = Draw {
                inventory,
                protected,
                members: &members,
            };
            bottom = bottom.max(draw_route_table(&mut body, &ctx, table, x, top));
        }
        top = bottom + GAP;
    }
    let height = top.max(NAT_BAND + 60) + GAP;
    draw_nat_band(&mut body, inventory, width);

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{label}">"#,
        label = escape(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape(title));
    let _ = write!(
        svg,
        r##"<rect class="topo-vpc" x="4" y="4" width="{}" height="{}" rx="8" fill="none" stroke="#8a94a6"/>"##,
        width - 8,
        height - 8
    );
    let _ = write!(
        svg,
        r##"<text class="topo-label" x="14" y="22" fill="#445">VPC {}</text>"##,
        escape(&inventory.vpc_id)
    );
    svg.push_str(&body);
    svg.push_str("</svg>");
    svg
}

fn draw_nat_band(out: &mut String, inventory: &Inventory, width: u32) {
    let mut x = GAP;
    for nat in &inventory.nat_gateways {
        let ips: Vec<&str> = nat.eip_ips().collect();
        let _ = write!(
            out,
            r##"<g class="topo-nat" data-nat="{id}"><rect x="{x}" y="34" width="{w}" height="{h}" rx="6" fill="#e6f4ea" stroke="#2e7d32"/><text x="{tx}" y="52" class="topo-label">NAT {id} · {state}</text><text x="{tx}" y="70" class="topo-ip">{ips}</text></g>"##,
            id = escape(nat.id.as_str()),
            state = escape(nat.state.as_str()),
            w = COLUMN_WIDTH,
            h = NAT_BAND - 50,
            tx = x + 10,
            ips = escape(&if ips.is_empty() {
                "no EIP".to_string()
            } else {
                ips.join(", ")
            }),
        );
        x += COLUMN_WIDTH + GAP;
        if x + COLUMN_WIDTH > width {
            break;
        }
    }
}

/// What every part of the picture draws from: the inventory, the protected hosts, and the
/// instances of each subnet (grouped once, not searched per subnet).
struct Draw<'a> {
    inventory: &'a Inventory,
    protected: &'a BTreeSet<String>,
    members: &'a HashMap<&'a str, Vec<&'a Instance>>,
}

fn members_by_subnet(inventory: &Inventory) -> HashMap<&str, Vec<&Instance>> {
    let mut out: HashMap<&str, Vec<&Instance>> = HashMap::new();
    for i in &inventory.instances {
        out.entry(i.subnet_id.as_str()).or_default().push(i);
    }
    out
}

fn draw_route_table(
    out: &mut String,
    ctx: &Draw<'_>,
    table: &crate::wizard::observed::RouteTable,
    x: u32,
    top: u32,
) -> u32 {
    let inventory = ctx.inventory;
    let mut y = top;
    let default_route = table.default_route().filter(|r| r.enabled);
    let egress = match default_route {
        Some(r) => format!("0.0.0.0/0 → {} {}", r.gateway_type, r.gateway_id),
        None => "no default route".to_string(),
    };
    // An arrow up to the NAT band when this table sends its default route to a NAT gateway.
    let nat_position = default_route.and_then(|route| {
        inventory
            .nat_gateways
            .iter()
            .position(|n| route.points_at(&n.id))
    });
    if let Some(pos) = nat_position {
        let nat_x = GAP + pos as u32 * (COLUMN_WIDTH + GAP) + COLUMN_WIDTH / 2;
        let _ = write!(
            out,
            r##"<line class="topo-route" x1="{}" y1="{y}" x2="{nat_x}" y2="{}" stroke="#2e7d32" stroke-width="2"/>"##,
            x + COLUMN_WIDTH / 2,
            NAT_BAND - 16
        );
    }
    let _ = write!(
        out,
        r##"<g class="topo-rtb" data-route-table="{id}"><text x="{x}" y="{ty}" class="topo-label">Route table {id}</text><text x="{x}" y="{ey}" class="topo-muted">{egress}</text></g>"##,
        id = escape(&table.id),
        ty = y + 14,
        ey = y + 30,
        egress = escape(&egress),
    );
    y += 40;
    for subnet in inventory
        .subnets
        .iter()
        .filter(|s| s.route_table_id == table.id)
    {
        y = draw_subnet(out, ctx, subnet, x, y) + 10;
    }
    y
}

fn draw_subnet(
    out: &mut String,
    ctx: &Draw<'_>,
    subnet: &crate::wizard::observed::Subnet,
    x: u32,
    y: u32,
) -> u32 {
    let members: &[&Instance] = ctx
        .members
        .get(subnet.id.as_str())
        .map_or(&[], Vec::as_slice);
    let shown = members.len().min(SHOWN_PER_SUBNET);
    let more = members.len() - shown;
    // A subnet with more instances than it draws says what it holds: counts by kind of public
    // address and its protected hosts by name (the exposure table lists every instance).
    let summary = (more > 0).then(|| summarise(ctx, members));
    let summary_rows = summary
        .as_ref()
        .map_or(0, |(_, p)| 1 + u32::from(!p.is_empty()));
    let rows = shown as u32 + u32::from(more > 0) + summary_rows;
    let height = 30 + rows * ROW + 6;
    let _ = write!(
        out,
        r##"<g class="topo-subnet" data-subnet="{id}"><rect x="{x}" y="{y}" width="{w}" height="{height}" rx="6" fill="none" stroke="#8a94a6"/><text x="{tx}" y="{ty}" class="topo-label">{id} {cidr}</text>"##,
        id = escape(&subnet.id),
        cidr = escape(&subnet.cidr),
        w = COLUMN_WIDTH,
        tx = x + 8,
        ty = y + 18,
    );
    let mut row_y = y + 30;
    if let Some((counts, protected)) = &summary {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" class="topo-counts">{}</text>"#,
            x + 8,
            row_y + 14,
            escape(counts)
        );
        row_y += ROW;
        if !protected.is_empty() {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" class="topo-protected-names">* {}</text>"#,
                x + 8,
                row_y + 14,
                escape(&shorten(protected, 36))
            );
            row_y += ROW;
        }
    }
    for instance in members.iter().take(shown) {
        draw_instance(out, ctx.inventory, ctx.protected, instance, x + 8, row_y);
        row_y += ROW;
    }
    if more > 0 {
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" class="topo-muted">+{more} more</text>"#,
            x + 8,
            row_y + 14
        );
    }
    out.push_str("</g>");
    y + height
}

/// "412 instances: 120 EIP, 80 IP, 212 none" and the protected hosts' names.
fn summarise(ctx: &Draw<'_>, members: &[&Instance]) -> (String, String) {
    let bound: BTreeSet<&str> = ctx
        .inventory
        .addresses
        .iter()
        .filter(|a| a.kind == AddressKind::Eip)
        .filter_map(|a| a.instance_id.as_deref())
        .collect();
    let (mut eip, mut ip) = (0, 0);
    let mut protected = Vec::new();
    for i in members {
        if bound.contains(i.id.as_str()) {
            eip += 1;
        } else if i.public_ip.is_some() {
            ip += 1;
        }
        if ctx.protected.contains(&i.id) {
            protected.push(label_of(i));
        }
    }
    let none = members.len() - eip - ip;
    let counts = format!(
        "{} instances: {eip} EIP, {ip} IP, {none} none",
        members.len()
    );
    let names = match protected.len() {
        0 => String::new(),
        n if n <= 3 => protected.join(", "),
        n => format!("{} and {} more protected", protected[..3].join(", "), n - 3),
    };
    (counts, names)
}

fn draw_instance(
    out: &mut String,
    inventory: &Inventory,
    protected: &BTreeSet<String>,
    instance: &Instance,
    x: u32,
    y: u32,
) {
    let (badge, class) = match (&instance.public_ip, inventory.eip_of(instance)) {
        (_, Some(a)) if a.kind == AddressKind::Eip => ("EIP", "topo-badge-eip"),
        (Some(_), _) => ("IP", "topo-badge-ip"),
        (None, _) => ("", ""),
    };
    let is_protected = protected.contains(&instance.id);
    let _ = write!(
        out,
        r#"<g class="topo-instance{p}" data-instance="{id}"><text x="{x}" y="{ty}" class="topo-text">{mark}{name}</text>"#,
        p = if is_protected { " topo-protected" } else { "" },
        id = escape(&instance.id),
        ty = y + 15,
        mark = if is_protected { "* " } else { "" },
        name = escape(&label_of(instance)),
    );
    if !badge.is_empty() {
        let ip = instance.public_ip.as_deref().unwrap_or_default();
        let _ = write!(
            out,
            r##"<rect class="{class}" x="{bx}" y="{by}" width="98" height="16" rx="3" fill="#fdecea" stroke="#c62828"/><text x="{tx}" y="{ty}" class="topo-badge-text">{badge} {ip}</text>"##,
            bx = x + 136,
            by = y + 3,
            tx = x + 140,
            ty = y + 15,
            ip = escape(&shorten(ip, 15)),
        );
    }
    out.push_str("</g>");
}

fn label_of(instance: &Instance) -> String {
    let name = if instance.name.is_empty() {
        &instance.id
    } else {
        &instance.name
    };
    shorten(name, 20)
}

fn shorten(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_string()
    } else {
        let mut s: String = value.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// XML text/attribute escaping.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
