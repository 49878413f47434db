//! The portal's own typed settings, filled from `config::Config` by `serve` and built
//! directly by tests. Durations and limits here are the security knobs of issue 6.

use std::time::Duration;

/// Which cloud the portal talks to; shown in the banner on every page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudLabel {
    /// The embedded simulator (no Tencent credentials configured).
    Simulated { region: String },
    Tencent {
        account: String,
        region: String,
        /// A custom API endpoint (`tencent.endpoint`), named in the banner: calls then go
        /// there, not to Tencent's public endpoints.
        endpoint: Option<String>,
    },
}

/// An endpoint URL as shown on pages: any `user:password@` part is dropped, so a credential
/// someone put into the URL never reaches a page.
fn without_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            // Both only fail for URLs that cannot carry userinfo at all.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(unparsable endpoint)".to_owned(),
    }
}

impl CloudLabel {
    pub fn banner(&self) -> String {
        match self {
            CloudLabel::Simulated { region } => {
                format!("Simulated cloud ({region}) — nothing here touches Tencent Cloud")
            }
            CloudLabel::Tencent {
                account,
                region,
                endpoint: None,
            } => format!("Tencent Cloud · account {account} · {region}"),
            CloudLabel::Tencent {
                account,
                region,
                endpoint: Some(url),
            } => format!(
                "Tencent Cloud · account {account} · {region} · endpoint {}",
                without_userinfo(url)
            ),
        }
    }

    pub fn is_simulated(&self) -> bool {
        matches!(self, CloudLabel::Simulated { .. })
    }

    /// The account runs are recorded under.
    pub fn account(&self) -> &str {
        match self {
            CloudLabel::Simulated { .. } => "simulated",
            CloudLabel::Tencent { account, .. } => account,
        }
    }

    /// The region offered first on the new-run page.
    pub fn region(&self) -> &str {
        match self {
            CloudLabel::Simulated { region } | CloudLabel::Tencent { region, .. } => region,
        }
    }
}

#[derive(Clone, Debug)]
pub struct WebSettings {
    pub cloud: CloudLabel,
    /// Mark cookies `Secure` (served over TLS, or behind an HTTPS proxy).
    pub secure_cookies: bool,
    /// Send `Strict-Transport-Security` (only when the browser reached us over HTTPS).
    pub hsts: bool,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, used or not.
    pub session_absolute: Duration,
    /// Login attempts allowed per account before throttling starts; per client IP the
    /// allowance is four times this (a team may share one NAT'd office address).
    pub login_attempts: u32,
    /// One attempt is given back per this period.
    pub login_replenish: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long the first-admin setup link works after it is printed.
    pub setup_link_ttl: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see `web::client_ip`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where notifications go (`[[webhooks]]`), and how the outbox paces its deliveries.
    pub webhooks: Vec<crate::notify::Webhook>,
    pub webhook_delivery: crate::notify::DeliveryOptions,
    /// How people sign in: passwords, single sign-on (`[auth]`, see `auth::oidc`).
    pub auth: crate::web::auth::oidc::AuthSettings,
    /// The `[[accounts]]` besides the default one, resolved at start-up (issue 13).
    pub accounts: Vec<crate::estate::ExtraAccount>,
    /// `[estate] scan_interval`; `None`: scans only on demand (tests, `"0"`).
    pub estate_scan_interval: Option<Duration>,
    /// `[kept_eips]` and `[costs]`: soak period and idle-EIP prices (issue 13 item 6).
    pub kept_eips: crate::kept_eips::KeptSettings,
    /// How long each asynchronous step takes on a rehearsal's twin (`[sim] async_delay`,
    /// default 2 s; issue 13 item 7).
    pub rehearsal_async_delay: Duration,
}

impl Default for WebSettings {
    fn default() -> WebSettings {
        WebSettings {
            cloud: CloudLabel::Simulated {
                region: "ap-guangzhou".into(),
            },
            secure_cookies: false,
            hsts: false,
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            login_attempts: 5,
            login_replenish: Duration::from_secs(60),
            body_limit: 64 * 1024,
            setup_link_ttl: Duration::from_secs(60 * 60),
            trusted_proxies: Vec::new(),
            webhooks: Vec::new(),
            webhook_delivery: Default::default(),
            auth: Default::default(),
            accounts: Vec::new(),
            estate_scan_interval: None,
            kept_eips: Default::default(),
            rehearsal_async_delay: Duration::from_secs(2),
        }
    }
}

impl WebSettings {
    /// From the `[security]` configuration; `tls` says whether we serve HTTPS ourselves.
    pub fn from_config(
        sec: &crate::config::SecurityConfig,
        cloud: CloudLabel,
        tls: bool,
    ) -> WebSettings {
        let https = tls || sec.behind_https;
        WebSettings {
            cloud,
            secure_cookies: https,
            hsts: https,
            session_idle: Duration::from_secs(sec.session_idle_minutes.max(1) * 60),
            session_absolute: Duration::from_secs(sec.session_absolute_hours.max(1) * 3600),
            login_attempts: sec.login_attempts.max(1),
            login_replenish: Duration::from_secs(sec.login_replenish_secs.max(1)),
            body_limit: sec.body_limit_kib.max(4) * 1024,
            setup_link_ttl: Duration::from_secs(60 * 60),
            trusted_proxies: sec.trusted_proxies.clone(),
            webhooks: Vec::new(),
            webhook_delivery: Default::default(),
            auth: Default::default(),
            accounts: Vec::new(),
            estate_scan_interval: None,
            kept_eips: Default::default(),
            rehearsal_async_delay: Duration::from_secs(2),
        }
    }
}

#[cfg(test)]
mod banner_tests {
    use super::CloudLabel;

    #[test]
    fn the_banner_names_a_custom_endpoint_without_its_userinfo() {
        let label = |endpoint: Option<&str>| CloudLabel::Tencent {
            account: "prod".into(),
            region: "ap-guangzhou".into(),
            endpoint: endpoint.map(str::to_owned),
        };
        assert_eq!(
            label(None).banner(),
            "Tencent Cloud · account prod · ap-guangzhou"
        );
        let custom = label(Some("https://u:secret@vpc.internal.example:8443/")).banner();
        assert!(
            custom.ends_with("endpoint https://vpc.internal.example:8443/"),
            "{custom}"
        );
        assert!(!custom.contains("secret"));
    }
}
