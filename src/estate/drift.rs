//! Drift (issue 13 item 4): what a scan finds in a VPC whose latest run completed that the
//! run's result does not allow. Pure: the typed finding, what the run allows (its
//! [`Baseline`], built from its stored plans by `drift_scan`), and the comparison of a
//! scan's snapshot of the VPC against it. Nothing here reads the store or the cloud.
//!
//! A run allows, after it completed: public IPs on the instances step 4 kept (protected
//! hosts, failed egress tests, exceptions), and every route table step 3 pointed at its NAT
//! gateway still pointing there. Anything else public is drift.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::store::RunId;
use crate::wizard::plan::{Change, Plan};

/// Which VPC of which account a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VpcKey {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
}

/// The kind of public IP an instance has, as the scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpKind {
    Eip,
    Ordinary,
}

impl IpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IpKind::Eip => "EIP",
            IpKind::Ordinary => "ordinary public IP",
        }
    }
}

/// One drift finding, stored as JSON and read back strictly (`deny_unknown_fields`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DriftKind {
    /// An instance the run did not keep has a public IP (e.g. a CVM created with "assign
    /// public IP" after the run).
    NewPublicIp {
        instance: String,
        ip: String,
        kind: IpKind,
    },
    /// An EIP the run took off an instance is bound to an instance again.
    EipBoundAgain {
        /// The EIP's id when the run recorded it, else its IP.
        eip: String,
        ip: String,
        instance: String,
    },
    /// A route table the run pointed at its NAT gateway sends `0.0.0.0/0` elsewhere (or
    /// nowhere: `none`).
    DefaultRouteChanged {
        route_table: String,
        next_hop_now: String,
        expected_nat: String,
    },
}

/// The stored names of the kinds, for the `kind` column, the metrics and the page.
pub const KINDS: [&str; 3] = ["new_public_ip", "eip_bound_again", "default_route_changed"];

impl DriftKind {
    pub fn kind(&self) -> &'static str {
        match self {
            DriftKind::NewPublicIp { .. } => KINDS[0],
            DriftKind::EipBoundAgain { .. } => KINDS[1],
            DriftKind::DefaultRouteChanged { .. } => KINDS[2],
        }
    }

    /// What there is at most one live finding of per VPC and kind.
    pub fn subject(&self) -> &str {
        match self {
            DriftKind::NewPublicIp { instance, .. } => instance,
            DriftKind::EipBoundAgain { eip, .. } => eip,
            DriftKind::DefaultRouteChanged { route_table, .. } => route_table,
        }
    }

    /// A short title: "new public IP", "EIP bound again", "default route changed".
    pub fn title(&self) -> &'static str {
        match self {
            DriftKind::NewPublicIp { .. } => "new public IP",
            DriftKind::EipBoundAgain { .. } => "EIP bound again",
            DriftKind::DefaultRouteChanged { .. } => "default route changed",
        }
    }

    /// What was found, in words.
    pub fn words(&self) -> String {
        match self {
            DriftKind::NewPublicIp { instance, ip, kind } => {
                format!("{instance} with the {} {ip}", kind.as_str())
            }
            DriftKind::EipBoundAgain { eip, ip, instance } => {
                format!("the EIP {eip} ({ip}) the run unbound, bound again to {instance}")
            }
            DriftKind::DefaultRouteChanged {
                route_table,
                next_hop_now,
                expected_nat,
            } => format!(
                "route table {route_table} sending 0.0.0.0/0 to {next_hop_now} instead of the \
                 NAT gateway {expected_nat}"
            ),
        }
    }

    /// Decodes a stored finding; `kind` and `subject` are its row's columns and must agree.
    pub fn decode(kind: &str, subject: &str, json: &str) -> Result<DriftKind, String> {
        let d: DriftKind = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if d.kind() != kind || d.subject() != subject {
            return Err(format!(
                "the finding says {} {} but is filed as {kind} {subject}",
                d.kind(),
                d.subject()
            ));
        }
        Ok(d)
    }
}

/// What a completed run allows in its VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub run: RunId,
    pub nat_id: String,
    /// Instances step 4 left their public IP on.
    pub kept: BTreeSet<String>,
    /// IPs step 4 took off instances, with the EIP id when the plan named one.
    pub retired: BTreeMap<String, String>,
    /// Route tables step 3 pointed at the NAT gateway.
    pub routed: BTreeSet<String>,
}

impl Baseline {
    /// From the run's confirmed plans of step 3 (routes) and step 4 (verify and retire).
    pub fn from_plans(run: RunId, nat_id: String, route: &Plan, verify: &Plan) -> Baseline {
        let routed = route
            .changes()
            .filter_map(|c| match c {
                Change::CreateRoute { route_table_id, .. }
                | Change::ReplaceRoute { route_table_id, .. } => Some(route_table_id.clone()),
                _ => None,
            })
            .collect();
        let retired = verify
            .changes()
            .filter_map(|c| match c {
                Change::DisassociateEip { address_id, ip, .. }
                | Change::ReleaseEip { address_id, ip, .. } => {
                    Some((ip.clone(), address_id.clone()))
                }
                Change::TransformAddress { ip, .. } | Change::ReturnNormalAddress { ip, .. } => {
                    Some((ip.clone(), ip.clone()))
                }
                _ => None,
            })
            .collect();
        Baseline {
            run,
            nat_id,
            kept: verify.kept.iter().map(|k| k.instance_id.clone()).collect(),
            retired,
            routed,
        }
    }
}

/// An instance with a public IP in a scan's snapshot (`estate_vpcs.public_hosts`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicHost {
    pub instance_id: String,
    pub ip: String,
    pub kind: IpKind,
    /// Why the host is protected ("tag", "run"), if it is; absent in scans from before
    /// protected hosts were counted.
    #[serde(default)]
    pub protected: Option<String>,
}

/// A route table's `0.0.0.0/0` in a scan's snapshot (`estate_vpcs.default_routes`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultRoute {
    pub route_table_id: String,
    pub gateway_type: String,
    pub gateway_id: String,
}

/// Decodes a snapshot's JSON columns strictly.
pub fn decode_snapshot(
    public_hosts: &str,
    default_routes: &str,
) -> Result<(Vec<PublicHost>, Vec<DefaultRoute>), String> {
    let hosts = serde_json::from_str(public_hosts).map_err(|e| format!("public hosts: {e}"))?;
    let routes =
        serde_json::from_str(default_routes).map_err(|e| format!("default routes: {e}"))?;
    Ok((hosts, routes))
}

/// Every drift of a VPC's snapshot from what the run allows, in a stable order.
pub fn compare(base: &Baseline, hosts: &[PublicHost], routes: &[DefaultRoute]) -> Vec<DriftKind> {
    let mut found = Vec::new();
    for h in hosts.iter().filter(|h| !base.kept.contains(&h.instance_id)) {
        let again = (h.kind == IpKind::Eip)
            .then(|| base.retired.get(&h.ip))
            .flatten();
        found.push(match again {
            Some(eip) => DriftKind::EipBoundAgain {
                eip: eip.clone(),
                ip: h.ip.clone(),
                instance: h.instance_id.clone(),
            },
            None => DriftKind::NewPublicIp {
                instance: h.instance_id.clone(),
                ip: h.ip.clone(),
                kind: h.kind,
            },
        });
    }
    for table in &base.routed {
        let now = routes.iter().find(|r| &r.route_table_id == table);
        let next_hop_now = match now {
            Some(r) if r.gateway_id == base.nat_id => continue,
            Some(r) => format!("{} {}", r.gateway_type, r.gateway_id),
            None => "none".to_owned(),
        };
        found.push(DriftKind::DefaultRouteChanged {
            route_table: table.clone(),
            next_hop_now,
            expected_nat: base.nat_id.clone(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Baseline {
        Baseline {
            run: RunId::new(),
            nat_id: "nat-1".into(),
            kept: ["ins-kept".to_owned()].into(),
            retired: [("1.1.1.1".to_owned(), "eip-1".to_owned())].into(),
            routed: ["rtb-1".to_owned(), "rtb-2".to_owned()].into(),
        }
    }

    fn host(id: &str, ip: &str, kind: IpKind) -> PublicHost {
        PublicHost {
            instance_id: id.into(),
            ip: ip.into(),
            kind,
            protected: None,
        }
    }

    fn route(table: &str, kind: &str, id: &str) -> DefaultRoute {
        DefaultRoute {
            route_table_id: table.into(),
            gateway_type: kind.into(),
            gateway_id: id.into(),
        }
    }

    #[test]
    fn kept_hosts_and_routes_still_at_the_nat_are_not_drift() {
        let hosts = [host("ins-kept", "9.9.9.9", IpKind::Ordinary)];
        let routes = [
            route("rtb-1", "NAT", "nat-1"),
            route("rtb-2", "NAT", "nat-1"),
        ];
        assert!(compare(&base(), &hosts, &routes).is_empty());
    }

    #[test]
    fn a_new_public_ip_a_rebound_eip_and_a_moved_route_are_each_named() {
        let hosts = [
            host("ins-new", "2.2.2.2", IpKind::Ordinary),
            host("ins-old", "1.1.1.1", IpKind::Eip),
        ];
        let routes = [route("rtb-1", "CVM", "10.0.0.5")];
        let found = compare(&base(), &hosts, &routes);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].kind(), "new_public_ip");
        assert_eq!(found[0].subject(), "ins-new");
        assert_eq!(found[1].subject(), "eip-1");
        assert!(found[2].words().contains("CVM 10.0.0.5"));
        assert!(found[3].words().contains("to none"));
    }

    #[test]
    fn a_stored_finding_reads_back_only_when_it_matches_its_row() {
        let d = DriftKind::NewPublicIp {
            instance: "ins-a".into(),
            ip: "2.2.2.2".into(),
            kind: IpKind::Eip,
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(DriftKind::decode("new_public_ip", "ins-a", &json), Ok(d));
        assert!(DriftKind::decode("new_public_ip", "ins-b", &json).is_err());
        let extra = json.replace("\"kind\"", "\"extra\":1,\"kind\"");
        assert!(DriftKind::decode("new_public_ip", "ins-a", &extra).is_err());
        assert!(DriftKind::decode("new_public_ip", "ins-a", "{}").is_err());
    }
}
