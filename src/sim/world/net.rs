//! IPv4 addresses and CIDR blocks, just enough for route matching (longest prefix) and the
//! CreateRoutes validity checks. No dependency: the simulator only needs IPv4.

use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`; host bits must be zero, as the VPC API demands.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.trim().split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let network = u32::from(addr);
        let cidr = Cidr { network, prefix };
        (network & cidr.mask() == network).then_some(cidr)
    }

    pub fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    pub fn contains(self, ip: u32) -> bool {
        ip & self.mask() == self.network
    }

    /// Whether the two blocks share any address.
    pub fn overlaps(self, other: Cidr) -> bool {
        let shorter = if self.prefix <= other.prefix {
            self
        } else {
            other
        };
        let longer = if shorter == self { other } else { self };
        shorter.contains(longer.network)
    }
}

pub fn parse_ip(text: &str) -> Option<u32> {
    text.trim().parse::<Ipv4Addr>().ok().map(u32::from)
}

pub fn format_ip(ip: u32) -> String {
    Ipv4Addr::from(ip).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parses_and_matches_addresses_inside_it() {
        let c = Cidr::parse("10.0.0.0/16").unwrap();
        assert!(c.contains(parse_ip("10.0.255.1").unwrap()));
        assert!(!c.contains(parse_ip("10.1.0.1").unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(parse_ip("8.8.8.8").unwrap())
        );
    }

    #[test]
    fn cidr_rejects_host_bits_and_garbage() {
        assert_eq!(Cidr::parse("10.0.0.1/16"), None);
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nonsense"), None);
    }

    #[test]
    fn overlap_is_symmetric() {
        let a = Cidr::parse("10.0.0.0/16").unwrap();
        let b = Cidr::parse("10.0.3.0/24").unwrap();
        let c = Cidr::parse("172.16.0.0/16").unwrap();
        assert!(a.overlaps(b) && b.overlaps(a));
        assert!(!a.overlaps(c));
    }
}
