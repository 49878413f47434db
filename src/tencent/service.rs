//! The Tencent Cloud products natpilot calls, with their API version and default host.
//! Source: reference §2 (`_apiVersion/_endpoint/_service` of the official Python SDK clients).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Vpc,
    Cvm,
    Tat,
    Dnspod,
    /// Security Token Service: AssumeRole, GetCallerIdentity (reference-2 §6).
    Sts,
    /// The region service: DescribeRegions (reference-2 §5.2).
    Region,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Vpc,
        Service::Cvm,
        Service::Tat,
        Service::Dnspod,
        Service::Sts,
        Service::Region,
    ];

    /// The product name used in the credential scope and as the first label of the host.
    pub fn name(self) -> &'static str {
        match self {
            Service::Vpc => "vpc",
            Service::Cvm => "cvm",
            Service::Tat => "tat",
            Service::Dnspod => "dnspod",
            Service::Sts => "sts",
            Service::Region => "region",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Service::Vpc | Service::Cvm => "2017-03-12",
            Service::Tat => "2020-10-28",
            Service::Dnspod => "2021-03-23",
            Service::Sts => "2018-08-13",
            Service::Region => "2022-06-27",
        }
    }

    /// DNSPod ignores the region; the SDK omits `X-TC-Region` for it.
    pub fn is_regional(self) -> bool {
        !matches!(self, Service::Dnspod)
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
