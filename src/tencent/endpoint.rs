//! Where a call goes: the URL to POST to and the exact `Host` value, which is both sent and
//! signed (reference §1.2, §1.7: the server signs the Host header as received, port included).
//!
//! Hosts (reference §2): `<service>.tencentcloudapi.com` (nearest region),
//! `<service>.<region>.tencentcloudapi.com` (region-pinned), `<service>.intl.tencentcloudapi.com`
//! (international site), or one override base URL for every service (the simulator, a test
//! server: plain `http://127.0.0.1:PORT` is allowed).

use reqwest::Url;

use super::{
    Service,
    region::{Region, RegionError},
};

const ROOT_DOMAIN: &str = "tencentcloudapi.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `<service>.tencentcloudapi.com`: Tencent routes to the nearest region.
    Default,
    /// `<service>.<region>.tencentcloudapi.com`; services without a region (DNSPod) use the default host.
    RegionPinned,
    /// `<service>.intl.tencentcloudapi.com`.
    International,
    /// Every service at this base URL (scheme, host, optional port; path `/`).
    Override(Url),
}

/// One resolved target: POST `url` with header `Host: host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub host: String,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid endpoint `{url}`: {reason}")]
pub struct EndpointError {
    pub url: String,
    pub reason: String,
}

impl Endpoint {
    /// Parses an override base URL, e.g. `http://127.0.0.1:9000` or `https://vpc.example.com/`.
    /// The API always posts to `/` (it is part of the signature), so a path is refused.
    pub fn override_url(raw: &str) -> Result<Endpoint, EndpointError> {
        let err = |reason: &str| EndpointError {
            url: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(raw)
            .map_err(|e| err(&format!("{e}; expected e.g. http://127.0.0.1:9000")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(err("the scheme must be http or https"));
        }
        if url.host_str().is_none() {
            return Err(err("a host is required"));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(err(
                "Tencent Cloud API calls always go to path `/`; remove the path",
            ));
        }
        Ok(Endpoint::Override(url))
    }

    /// Where a call of `service` in `region` goes. An empty region means "none" (DNSPod);
    /// any other region must parse as a [`Region`], whatever the endpoint: the region is put
    /// into the host name (region-pinned) and into a signed header, and a text such as
    /// `x@127.0.0.1:9000/#` would otherwise send signed requests to another host (issue 10).
    /// Callers parse regions at the edge already; this is the last line of defence.
    pub fn target(&self, service: Service, region: &str) -> Result<Target, RegionError> {
        let region = match region {
            "" => None,
            raw => Some(Region::parse(raw)?),
        };
        let name = service.name();
        let host = match (self, region) {
            (Endpoint::Override(url), _) => return Ok(override_target(url)),
            (Endpoint::RegionPinned, Some(region)) if service.is_regional() => {
                format!("{name}.{region}.{ROOT_DOMAIN}")
            }
            (Endpoint::International, _) => format!("{name}.intl.{ROOT_DOMAIN}"),
            (Endpoint::Default | Endpoint::RegionPinned, _) => format!("{name}.{ROOT_DOMAIN}"),
        };
        Ok(Target {
            url: format!("https://{host}/"),
            host,
        })
    }
}

/// The Host value is the URL's authority as reqwest/hyper would send it (the `Url` type
/// already dropped a default port such as `:80` for http), so what we sign is what goes out.
fn override_target(url: &Url) -> Target {
    let host_name = url.host_str().unwrap_or_default();
    let host = match url.port() {
        Some(port) => format!("{host_name}:{port}"),
        None => host_name.to_owned(),
    };
    Target {
        url: url.as_str().to_owned(),
        host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_host_is_service_dot_root_domain() {
        let t = Endpoint::Default
            .target(Service::Vpc, "ap-guangzhou")
            .unwrap();
        assert_eq!(t.host, "vpc.tencentcloudapi.com");
        assert_eq!(t.url, "https://vpc.tencentcloudapi.com/");
    }

    #[test]
    fn region_pinned_host_includes_the_region_except_for_dnspod() {
        let t = Endpoint::RegionPinned
            .target(Service::Cvm, "ap-shanghai")
            .unwrap();
        assert_eq!(t.host, "cvm.ap-shanghai.tencentcloudapi.com");
        let t = Endpoint::RegionPinned
            .target(Service::Dnspod, "ap-shanghai")
            .unwrap();
        assert_eq!(t.host, "dnspod.tencentcloudapi.com");
    }

    #[test]
    fn international_host_uses_the_intl_label() {
        let t = Endpoint::International
            .target(Service::Tat, "ap-singapore")
            .unwrap();
        assert_eq!(t.host, "tat.intl.tencentcloudapi.com");
    }

    #[test]
    fn override_on_loopback_sends_and_signs_host_with_port() {
        let e = Endpoint::override_url("http://127.0.0.1:18765").unwrap();
        for service in Service::ALL {
            let t = e.target(service, "ap-guangzhou").unwrap();
            assert_eq!(t.host, "127.0.0.1:18765");
            assert_eq!(t.url, "http://127.0.0.1:18765/");
        }
    }

    #[test]
    fn override_with_default_port_sends_the_bare_host() {
        let e = Endpoint::override_url("https://vpc.example.com:443/").unwrap();
        assert_eq!(e.target(Service::Vpc, "").unwrap().host, "vpc.example.com");
    }

    #[test]
    fn a_region_that_is_not_a_region_name_is_refused_for_every_endpoint() {
        let evil = "x@127.0.0.1:9000/#";
        let endpoints = [
            Endpoint::Default,
            Endpoint::RegionPinned,
            Endpoint::International,
            Endpoint::override_url("http://127.0.0.1:18765").unwrap(),
        ];
        for endpoint in endpoints {
            let e = endpoint.target(Service::Vpc, evil).unwrap_err();
            assert!(
                e.to_string().contains("is not a Tencent Cloud region"),
                "{e}"
            );
        }
    }

    #[test]
    fn override_with_a_path_or_without_scheme_is_refused() {
        assert!(Endpoint::override_url("http://127.0.0.1:9000/api").is_err());
        assert!(Endpoint::override_url("127.0.0.1:9000").is_err());
        assert!(Endpoint::override_url("ftp://example.com").is_err());
    }
}
