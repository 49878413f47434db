//! Cloud words that drive decisions, as types: the NAT gateway id, a NAT gateway's state and a
//! route's next-hop type. Each has one place that maps the wire string, so a decision ("is this
//! route ours?", "has the gateway failed?") is made by comparing types, not strings spelled in
//! several modules.
//!
//! They serialise as the plain wire strings, so stored records written before these types
//! existed read back unchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A NAT gateway id (`nat-xxxxxxxx`). Stored records and plans name a gateway with this, never
/// with a bare string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NatGatewayId(String);

impl NatGatewayId {
    /// Accepts what Tencent Cloud hands out: `nat-` and at least one more letter or digit.
    pub fn parse(s: &str) -> Result<NatGatewayId, String> {
        let rest = s.strip_prefix("nat-").unwrap_or_default();
        if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(NatGatewayId(s.to_owned()))
        } else {
            Err(format!(
                "{s:?} is not a NAT gateway id (they look like nat-xxxxxxxx)"
            ))
        }
    }

    /// An id as Tencent Cloud answered it, kept even if it does not look like one (it is
    /// then matched against nothing natpilot recorded, since records only hold parsed ids).
    pub(crate) fn from_cloud(s: &str) -> NatGatewayId {
        NatGatewayId(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored record naming a gateway that is not an id is a broken record: decoding fails.
impl<'de> Deserialize<'de> for NatGatewayId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NatGatewayId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for NatGatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Unit tests name gateways with literals; everything else parses.
#[cfg(test)]
impl From<&str> for NatGatewayId {
    fn from(s: &str) -> NatGatewayId {
        NatGatewayId::parse(s).expect("a test gateway id")
    }
}

impl PartialEq<str> for NatGatewayId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Defines a wire-string enum with an `Other` for values Tencent may add: one table maps both
/// ways, and an unknown value is kept as it was spelled (shown to the operator, never matched).
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this version does not know, as the cloud spelled it.
            Other(String),
        }

        impl $name {
            pub fn from_wire(s: &str) -> $name {
                match s {
                    $($wire => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name::from_wire(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok($name::from_wire(&String::deserialize(d)?))
            }
        }
    };
}

wire_enum! {
    /// `NatGateway.State` (reference §4.10).
    NatState {
        Pending = "PENDING",
        Available = "AVAILABLE",
        Updating = "UPDATING",
        /// Creation failed; the gateway is useless and must be deleted, never adopted.
        PendFailure = "PENDFAILURE",
        Deleting = "DELETING",
        DeleteFailure = "DELETEFAILURE",
    }
}

impl NatState {
    /// A gateway in this state will never carry traffic: it failed, or it is going away.
    pub fn is_dead(&self) -> bool {
        matches!(
            self,
            NatState::PendFailure | NatState::Deleting | NatState::DeleteFailure
        )
    }
}

wire_enum! {
    /// A route's `GatewayType` (reference §4.5): where its traffic goes next.
    GatewayType {
        Nat = "NAT",
        Cvm = "CVM",
        NormalCvm = "NORMAL_CVM",
        Vpn = "VPN",
        DirectConnect = "DIRECTCONNECT",
        PeerConnection = "PEERCONNECTION",
        Havip = "HAVIP",
        Eip = "EIP",
        LocalGateway = "LOCAL_GATEWAY",
        Ccn = "CCN",
        Local = "LOCAL",
    }
}

impl GatewayType {
    /// The next hop's kind as Tencent's console names it in English ("CVM", "NAT gateway"),
    /// for pages and messages; `as_str` stays the wire value. An unknown value is shown as
    /// the cloud spelled it.
    pub fn words(&self) -> &str {
        match self {
            GatewayType::Nat => "NAT gateway",
            GatewayType::Cvm | GatewayType::NormalCvm => "CVM",
            GatewayType::Vpn => "VPN gateway",
            GatewayType::DirectConnect => "Direct Connect gateway",
            GatewayType::PeerConnection => "peering connection",
            GatewayType::Havip => "HAVIP",
            GatewayType::Eip => "public IP",
            GatewayType::LocalGateway => "local gateway",
            GatewayType::Ccn => "CCN",
            GatewayType::Local => "local",
            GatewayType::Other(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_gateway_id_that_is_not_an_id_does_not_decode() {
        assert!(serde_json::from_str::<NatGatewayId>("\"nat-1a2b\"").is_ok());
        for bad in ["\"\"", "\"vpc-1\"", "\"nat-\"", "\"nat-a/../b\""] {
            assert!(
                serde_json::from_str::<NatGatewayId>(bad).is_err(),
                "{bad} decoded"
            );
        }
    }

    #[test]
    fn wire_strings_map_both_ways_and_unknown_ones_are_kept() {
        assert_eq!(NatState::from_wire("PENDFAILURE"), NatState::PendFailure);
        assert_eq!(NatState::PendFailure.as_str(), "PENDFAILURE");
        assert_eq!(GatewayType::from_wire("NAT"), GatewayType::Nat);
        let odd = GatewayType::from_wire("GWLB");
        assert_eq!(odd, GatewayType::Other("GWLB".into()));
        assert_eq!(serde_json::to_string(&odd).unwrap(), "\"GWLB\"");
        assert!(NatState::PendFailure.is_dead() && !NatState::Available.is_dead());
    }

    #[test]
    fn next_hop_kinds_read_as_the_console_names_them() {
        assert_eq!(GatewayType::from_wire("NORMAL_CVM").words(), "CVM");
        assert_eq!(GatewayType::from_wire("NAT").words(), "NAT gateway");
        assert_eq!(GatewayType::from_wire("GWLB").words(), "GWLB");
    }
}
