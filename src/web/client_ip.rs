//! The client's address for throttling and the audit log. Behind a reverse proxy every
//! request comes from the proxy, so `X-Forwarded-For` is believed, but only when the direct
//! peer is one of `security.trusted_proxies`: then the client is the right-most address in
//! the header that is not itself a trusted proxy (addresses further left were written by
//! the client and prove nothing). Anywhere else the header is ignored, so a client cannot
//! pick its own address to dodge throttling or to forge the audit log.
//!
//! The middleware replaces the request's `ConnectInfo<ClientAddr>` with the result, so every
//! handler and the access check read the same, resolved address.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

use crate::app::AppState;

use super::tls::ClientAddr;

/// The client address for a request from `peer` with these headers.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    // Every X-Forwarded-For header, in order, as one list (proxies may add a header each).
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|hop| hop.parse::<IpAddr>().ok())
        .collect::<Option<Vec<_>>>()
        // An unreadable entry: nothing to the left of it can be trusted, and we cannot tell
        // where it is, so believe only the proxy itself.
        .unwrap_or_default();
    let mut client = peer;
    for hop in hops.iter().rev() {
        client = canonical(*hop);
        if !is_trusted(hop) {
            break;
        }
    }
    client
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as IPv4, so one CIDR list covers dual-stack sockets.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let trusted = &state.settings.trusted_proxies;
    if !trusted.is_empty()
        && let Some(ConnectInfo(ClientAddr(peer))) =
            req.extensions().get::<ConnectInfo<ClientAddr>>().copied()
    {
        let client = resolve(peer.ip(), req.headers(), trusted);
        if client != peer.ip() {
            // The port belongs to the proxy's connection, not the client's: 0 says "unknown".
            let addr = ClientAddr(SocketAddr::new(client, 0));
            req.extensions_mut().insert(ConnectInfo(addr));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let h = xff(&["198.51.100.1, 203.0.113.9, 10.0.0.2"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Several headers count as one list, in order.
        let h = xff(&["198.51.100.1", "203.0.113.9", "10.0.0.2"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // A dual-stack socket's mapped address is the IPv4 one.
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_missing_or_unreadable_header_leaves_the_proxy_address() {
        let trusted = nets(&["127.0.0.1/32"]);
        let peer = ip("127.0.0.1");
        assert_eq!(resolve(peer, &HeaderMap::new(), &trusted), peer);
        assert_eq!(
            resolve(peer, &xff(&["203.0.113.9, nonsense"]), &trusted),
            peer
        );
    }
}
