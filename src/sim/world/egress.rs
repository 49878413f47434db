//! Which public IP an instance's outbound traffic leaves from, following reference §5.1
//! exactly: the subnet's route table, enabled routes only, longest prefix; at the best prefix
//! an `EIP`-type route wins for an instance that has a public IP (instances without one use
//! the other routes of that prefix); a `NAT` route works only while the gateway is
//! `AVAILABLE` and holds an EIP; with no matching route the instance's own public IP is used.
//! "Route beats public IP" (DESIGN.md) is the whole point of the wizard's step 3.

use super::World;
use super::net::{Cidr, parse_ip};
use super::types::{AddressStatus, Instance, NatState, Route};

/// The IP-echo services the TAT shell understands, with a fixed public address each (only
/// their being outside every VPC matters for routing).
pub const ECHO_SERVICES: &[(&str, &str)] = &[
    ("ifconfig.co", "104.21.54.91"),
    ("ifconfig.me", "34.160.111.145"),
    ("icanhazip.com", "104.16.184.241"),
    ("api.ipify.org", "104.26.13.205"),
    ("ipinfo.io", "34.117.59.81"),
];

/// A gateway CVM may itself route through another gateway; give up after this many hops.
const MAX_HOPS: usize = 4;

impl World {
    /// The source IP the instance's traffic to `destination` leaves from, or `None` when it
    /// has no way out (curl would time out).
    pub fn egress_ip(&self, instance_id: &str, destination: &str) -> Option<String> {
        let instance = self.instance(instance_id)?;
        self.egress_from(instance, parse_ip(destination)?, 0)
    }

    fn egress_from(&self, instance: &Instance, destination: u32, hops: usize) -> Option<String> {
        if hops > MAX_HOPS {
            return None;
        }
        let own_ip = self.public_ips(instance).into_iter().next();
        let table = self
            .subnets
            .get(&instance.subnet_id)
            .and_then(|s| self.route_tables.get(&s.route_table_id))?;
        let matching: Vec<(&Route, Cidr)> = table
            .routes
            .iter()
            .filter(|r| r.enabled)
            .filter_map(|r| Cidr::parse(&r.destination).map(|c| (r, c)))
            .filter(|(_, c)| c.contains(destination))
            .collect();
        let Some(best) = matching.iter().map(|(_, c)| c.prefix).max() else {
            return own_ip; // §5.1 step 5: no route → the instance's own public IP (or none).
        };
        let best: Vec<&Route> = matching
            .iter()
            .filter(|(_, c)| c.prefix == best)
            .map(|(r, _)| *r)
            .collect();
        if own_ip.is_some() && best.iter().any(|r| r.gateway_type == "EIP") {
            return own_ip; // §5.1 step 3: the EIP route wins for an instance with a public IP.
        }
        let others: Vec<&Route> = best
            .into_iter()
            .filter(|r| r.gateway_type != "EIP")
            .collect();
        if others.is_empty() {
            return None;
        }
        // ECMP: a flow sticks to one next hop; hash on the private IP so it is stable.
        let route = others[affinity(instance, others.len())];
        self.through_gateway(instance, route, destination, hops)
    }

    fn through_gateway(
        &self,
        instance: &Instance,
        route: &Route,
        destination: u32,
        hops: usize,
    ) -> Option<String> {
        match route.gateway_type.as_str() {
            "NAT" => {
                let nat = self.nat_gateways.get(&route.gateway_id)?;
                if nat.state != NatState::Available {
                    return None;
                }
                let bound: Vec<&str> = self
                    .addresses_of(&nat.id)
                    .filter(|a| a.status == AddressStatus::Bind)
                    .map(|a| a.ip.as_str())
                    .collect();
                // A matching SNAT rule picks from its own pool (addendum 2 §2.6), else any
                // of the gateway's EIPs.
                let eips: Vec<&str> = match self.snat_rule_for(&nat.id, instance) {
                    Some(rule) => bound
                        .into_iter()
                        .filter(|ip| rule.public_ips.iter().any(|p| p == ip))
                        .collect(),
                    None => bound,
                };
                // PublicAddressAffinity (default on): one private IP keeps one EIP.
                (!eips.is_empty()).then(|| eips[affinity(instance, eips.len())].to_string())
            }
            // A CVM acting as gateway forwards (SNATs) with its own egress.
            "NORMAL_CVM" | "CVM" => {
                let gateway = self
                    .instances_in_vpc(&instance.vpc_id)
                    .find(|g| g.private_ip == route.gateway_id || g.id == route.gateway_id)?;
                if gateway.state != "RUNNING" || gateway.id == instance.id {
                    return None;
                }
                self.egress_from(gateway, destination, hops + 1)
            }
            // VPN, peering, HAVIP, CCN…: no Internet path is modelled behind them.
            _ => None,
        }
    }

    /// The SNAT rule of `nat_id` that covers `instance`: its own (`NETWORKINTERFACE`, by
    /// instance id and primary private IP) before its subnet's. Tencent does not document the
    /// precedence of overlapping rules (addendum 2 §2.6 item 4); the more specific wins here.
    pub fn snat_rule_for(&self, nat_id: &str, instance: &Instance) -> Option<&super::SnatRule> {
        let rules = || self.snat_rules.values().filter(move |r| r.nat_id == nat_id);
        rules()
            .find(|r| {
                r.resource_type == "NETWORKINTERFACE"
                    && r.resource_id == instance.id
                    && r.private_ip == instance.private_ip
            })
            .or_else(|| {
                rules().find(|r| r.resource_type == "SUBNET" && r.resource_id == instance.subnet_id)
            })
    }

    pub fn instances_in_vpc<'a>(&'a self, vpc_id: &str) -> impl Iterator<Item = &'a Instance> + 'a {
        let all = self.instances();
        self.instance_positions_in_vpc(vpc_id)
            .iter()
            .map(move |&p| &all[p])
    }
}

fn affinity(instance: &Instance, n: usize) -> usize {
    let ip = parse_ip(&instance.private_ip).unwrap_or(0);
    (ip as usize) % n.max(1)
}

#[cfg(test)]
mod tests {
    use crate::sim::scenario::ScenarioSource;
    use crate::sim::world::{Route, World};

    const ECHO: &str = "104.21.54.91";

    fn world() -> World {
        World::from_scenario(ScenarioSource::Tutorial.load().unwrap(), 1).unwrap()
    }

    fn add(w: &mut World, destination: &str, gateway_type: &str, gateway_id: &str) {
        let mut route = Route {
            id: 0,
            item_id: String::new(),
            destination: destination.into(),
            gateway_type: gateway_type.into(),
            gateway_id: gateway_id.into(),
            description: String::new(),
            enabled: true,
            route_type: "USER".into(),
            created_time: String::new(),
        };
        w.fill_route_ids(&mut route);
        w.route_tables
            .get_mut("rtb-default0")
            .unwrap()
            .routes
            .push(route);
    }

    #[test]
    fn the_longest_matching_prefix_decides_the_next_hop() {
        let mut w = world();
        // A more specific route to the echo service through a gateway CVM (backend-1 at
        // 10.0.2.11, which has an ordinary public IP) beats a shorter EIP-type route.
        add(&mut w, "0.0.0.0/0", "EIP", "0");
        add(&mut w, "104.16.0.0/12", "NORMAL_CVM", "10.0.2.11");
        assert_eq!(
            w.egress_ip("ins-worker02", ECHO),
            None,
            "the gateway loops back to itself"
        );
        w.route_tables.get_mut("rtb-default0").unwrap().routes.pop();
        assert_eq!(
            w.egress_ip("ins-worker02", ECHO).as_deref(),
            Some("119.28.20.22")
        );
        assert_eq!(
            w.egress_ip("ins-worker03", ECHO),
            None,
            "EIP route without a public IP"
        );
    }

    #[test]
    fn a_gateway_route_leaves_with_the_gateways_own_egress_and_routing_loops_give_up() {
        let mut w = world();
        add(&mut w, "0.0.0.0/0", "NORMAL_CVM", "10.0.1.10");
        // The gateway (frontend) shares the table, so its own traffic loops: no way out.
        assert_eq!(w.egress_ip("ins-worker03", ECHO), None);
    }

    #[test]
    fn without_a_route_instances_use_their_own_public_ip_or_have_no_way_out() {
        let w = world();
        assert_eq!(w.egress_ip("ins-worker03", ECHO), None);
        assert_eq!(
            w.egress_ip("ins-backend1", ECHO).as_deref(),
            Some("119.28.20.11")
        );
        assert_eq!(w.egress_ip("ins-nothere", ECHO), None);
    }
}
