//! The estate's VPC rows grouped account → region (issue 13 item 3), each group with its
//! subtotals, so a team with many accounts reads one line per account and region before the
//! VPCs. Sorting applies at every level: by exposure (most public IPs first, the default) or
//! by name. Pure: the page builds the lines, this arranges them.

use super::estate_page::VpcLine;

/// What a group adds up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Subtotal {
    pub vpcs: i64,
    pub instances: i64,
    pub eip_hosts: i64,
    pub ordinary_hosts: i64,
    /// Counted protected hosts (a VPC scanned before they were counted adds nothing; see
    /// `uncounted`).
    pub protected_hosts: i64,
    /// VPCs whose scan did not count protected hosts.
    pub uncounted: i64,
    pub kept_eips: i64,
    pub nat_routed_vpcs: i64,
}

impl Subtotal {
    fn add(&mut self, l: &VpcLine) {
        self.vpcs += 1;
        self.instances += l.vpc.instances;
        self.eip_hosts += l.vpc.eip_hosts;
        self.ordinary_hosts += l.vpc.ordinary_hosts;
        match l.vpc.protected_hosts {
            n if n >= 0 => self.protected_hosts += n,
            _ => self.uncounted += 1,
        }
        self.kept_eips += l.kept_eips as i64;
        if l.vpc.route_tables > 0 && l.vpc.nat_routed_tables == l.vpc.route_tables {
            self.nat_routed_vpcs += 1;
        }
    }

    pub fn public_hosts(&self) -> i64 {
        self.eip_hosts + self.ordinary_hosts
    }

    /// "3 VPCs · 12 public IPs (8 EIP, 4 ordinary) · 2 protected · 1 of 3 routed through NAT".
    pub fn words(&self) -> String {
        let plural =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = vec![
            plural(self.vpcs, "VPC", "VPCs"),
            format!(
                "{} ({} EIP, {} ordinary)",
                plural(self.public_hosts(), "public IP", "public IPs"),
                self.eip_hosts,
                self.ordinary_hosts
            ),
            format!("{} protected", self.protected_hosts),
        ];
        if self.kept_eips > 0 {
            parts.push(plural(self.kept_eips, "kept EIP", "kept EIPs"));
        }
        parts.push(format!(
            "{} of {} routed through NAT",
            self.nat_routed_vpcs, self.vpcs
        ));
        parts.join(" · ")
    }
}

pub struct RegionGroup {
    pub region: String,
    pub subtotal: Subtotal,
    pub vpcs: Vec<VpcLine>,
}

pub struct AccountGroup {
    pub account: String,
    pub subtotal: Subtotal,
    pub regions: Vec<RegionGroup>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Most public IPs first (ties by name), at every level.
    Exposure,
    /// Account, region, VPC id.
    Name,
}

impl Order {
    /// `?sort=name`, anything else (or nothing) is by exposure.
    pub fn from_query(q: Option<&str>) -> Order {
        match q {
            Some("name") => Order::Name,
            _ => Order::Exposure,
        }
    }
}

/// Groups the lines account → region and sorts every level.
pub fn group(lines: Vec<VpcLine>, order: Order) -> Vec<AccountGroup> {
    let mut accounts: Vec<AccountGroup> = Vec::new();
    for l in lines {
        let a = match accounts.iter().position(|a| a.account == l.account) {
            Some(i) => &mut accounts[i],
            None => {
                accounts.push(AccountGroup {
                    account: l.account.clone(),
                    subtotal: Subtotal::default(),
                    regions: Vec::new(),
                });
                accounts.last_mut().expect("just pushed")
            }
        };
        a.subtotal.add(&l);
        let r = match a.regions.iter().position(|r| r.region == l.region) {
            Some(i) => &mut a.regions[i],
            None => {
                a.regions.push(RegionGroup {
                    region: l.region.clone(),
                    subtotal: Subtotal::default(),
                    vpcs: Vec::new(),
                });
                a.regions.last_mut().expect("just pushed")
            }
        };
        r.subtotal.add(&l);
        r.vpcs.push(l);
    }
    for a in &mut accounts {
        for r in &mut a.regions {
            match order {
                Order::Exposure => r.vpcs.sort_by(|x, y| {
                    y.public_hosts()
                        .cmp(&x.public_hosts())
                        .then_with(|| x.vpc.vpc_id.cmp(&y.vpc.vpc_id))
                }),
                Order::Name => r.vpcs.sort_by(|x, y| x.vpc.vpc_id.cmp(&y.vpc.vpc_id)),
            }
        }
        match order {
            Order::Exposure => a.regions.sort_by(|x, y| {
                y.subtotal
                    .public_hosts()
                    .cmp(&x.subtotal.public_hosts())
                    .then_with(|| x.region.cmp(&y.region))
            }),
            Order::Name => a.regions.sort_by(|x, y| x.region.cmp(&y.region)),
        }
    }
    match order {
        Order::Exposure => accounts.sort_by(|x, y| {
            y.subtotal
                .public_hosts()
                .cmp(&x.subtotal.public_hosts())
                .then_with(|| x.account.cmp(&y.account))
        }),
        Order::Name => accounts.sort_by(|x, y| x.account.cmp(&y.account)),
    }
    accounts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::estate::VpcRow;

    fn line(account: &str, region: &str, vpc: &str, eip: i64, protected: i64) -> VpcLine {
        VpcLine {
            account: account.into(),
            region: region.into(),
            vpc: VpcRow {
                region: region.into(),
                vpc_id: vpc.into(),
                instances: 10,
                eip_hosts: eip,
                protected_hosts: protected,
                route_tables: 1,
                nat_routed_tables: u8::from(eip == 0).into(),
                ..VpcRow::default()
            },
            last_run: None,
            scanned: String::new(),
            kept_eips: 1,
        }
    }

    #[test]
    fn groups_by_account_then_region_with_subtotals_most_exposed_first() {
        let groups = group(
            vec![
                line("prod", "ap-guangzhou", "vpc-a", 1, 0),
                line("dev", "ap-shanghai", "vpc-b", 9, 2),
                line("prod", "ap-shanghai", "vpc-c", 3, 1),
                line("prod", "ap-shanghai", "vpc-d", 0, -1),
            ],
            Order::Exposure,
        );
        let names: Vec<&str> = groups.iter().map(|a| a.account.as_str()).collect();
        assert_eq!(names, ["dev", "prod"], "dev has 9 public IPs, prod 4");
        let prod = &groups[1];
        assert_eq!(prod.regions[0].region, "ap-shanghai");
        let vpcs: Vec<&str> = prod.regions[0]
            .vpcs
            .iter()
            .map(|l| l.vpc.vpc_id.as_str())
            .collect();
        assert_eq!(vpcs, ["vpc-c", "vpc-d"]);
        let t = prod.subtotal;
        assert_eq!((t.vpcs, t.eip_hosts, t.protected_hosts), (3, 4, 1));
        assert_eq!(t.uncounted, 1, "vpc-d's scan did not count protected hosts");
        assert_eq!((t.kept_eips, t.nat_routed_vpcs), (3, 1));
        assert_eq!(
            prod.regions[0].subtotal.words(),
            "2 VPCs · 3 public IPs (3 EIP, 0 ordinary) · 1 protected · 2 kept EIPs · 1 of 2 routed through NAT"
        );
    }

    #[test]
    fn by_name_sorts_every_level_alphabetically() {
        let groups = group(
            vec![
                line("prod", "ap-shanghai", "vpc-z", 9, 0),
                line("prod", "ap-guangzhou", "vpc-y", 0, 0),
                line("dev", "ap-guangzhou", "vpc-x", 0, 0),
            ],
            Order::Name,
        );
        let order: Vec<(String, String)> = groups
            .iter()
            .flat_map(|a| {
                a.regions
                    .iter()
                    .map(move |r| (a.account.clone(), r.region.clone()))
            })
            .collect();
        assert_eq!(
            order,
            [
                ("dev".into(), "ap-guangzhou".into()),
                ("prod".into(), "ap-guangzhou".into()),
                ("prod".into(), "ap-shanghai".into()),
            ]
        );
    }
}
