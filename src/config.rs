//! The one typed configuration, loaded once at start-up in layers, later layers winning:
//! built-in defaults → optional `natpilot.toml` → `NATPILOT_*` environment variables (sections
//! nested with `__`, e.g. `NATPILOT_SERVER__LISTEN`) → command-line flags.
//!
//! Errors name the setting at fault and where it came from (figment does the bookkeeping).
//! Secrets live in `SecretString`, so `Debug` of a `Config` never prints them.
//! Sections `sim` and `security` belong to their modules' owners; they extend them here.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

/// The file read when `--config` is not given (and only if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "natpilot.toml";
/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "NATPILOT_";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub tencent: TencentConfig,
    pub sim: SimConfig,
    pub security: SecurityConfig,
    pub engine: EngineConfig,
    /// `[[webhooks]]`: where notifications are sent (see `notify::config`).
    pub webhooks: Vec<crate::notify::WebhookConfig>,
    /// `[auth]`: single sign-on and password sign-in (see `web::auth::oidc::config`).
    pub auth: crate::web::auth::oidc::AuthConfig,
    /// `[approvals]`: which confirmations wait for a second person (see `approvals`).
    pub approvals: crate::approvals::ApprovalsConfig,
    /// `[[accounts]]`: more Tencent Cloud accounts (see `estate::config`).
    pub accounts: Vec<crate::estate::AccountEntry>,
    /// `[estate]`: scans of every account (see `estate::config`).
    pub estate: crate::estate::EstateConfig,
    /// `[kept_eips]`: the soak period before a kept EIP may be released (see `kept_eips`).
    pub kept_eips: crate::kept_eips::KeptEipsConfig,
    /// `[costs]`: what an idle EIP costs per hour, per region (see `kept_eips::config`).
    pub costs: crate::kept_eips::CostsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the web portal listens on.
    pub listen: SocketAddr,
    /// A SQLite database file (created if missing, the embedded default for one process), or
    /// a `postgres://` URL: the store several replicas share (issue 15). Any other URL is
    /// refused at load time, so a URL never becomes a file name.
    #[serde(deserialize_with = "database")]
    pub database: crate::store::Database,
    /// Optional separate listener for Prometheus metrics; off when unset.
    pub metrics_listen: Option<SocketAddr>,
    pub log_format: LogFormat,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: crate::store::Database::default(),
            metrics_listen: None,
            log_format: LogFormat::Readable,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Readable,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How to reach Tencent Cloud and as whom. Every field is optional: the credential chain and
/// endpoint defaults fill the gaps (see `tencent::credentials` and `tencent::endpoint`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TencentConfig {
    /// Default region, e.g. `ap-guangzhou` (else `TENCENTCLOUD_REGION` or the tccli profile).
    pub region: Option<String>,
    /// tccli profile name (`~/.tccli/<profile>.credential`); else `TCCLI_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// One base URL for every service, e.g. `http://127.0.0.1:9000` for the simulator.
    #[serde(deserialize_with = "deserialize_endpoint")]
    pub endpoint: Option<String>,
    /// Use the international domain `<service>.intl.tencentcloudapi.com`.
    pub international: bool,
    /// Pin calls to the region's own host `<service>.<region>.tencentcloudapi.com`.
    pub region_pinned: bool,
    pub secret_id: Option<String>,
    pub secret_key: Option<SecretString>,
    /// STS session token, sent as `X-TC-Token`.
    pub token: Option<SecretString>,
    /// `X-TC-Language` (`en-US` or `zh-CN`); error messages come back in it.
    pub language: String,
    /// Whole-request timeout for one attempt, in seconds.
    pub request_timeout_secs: u64,
    pub connect_timeout_secs: u64,
    /// Attempts per call, the first one included, for retryable errors.
    pub max_attempts: u32,
}

impl Default for TencentConfig {
    fn default() -> Self {
        TencentConfig {
            region: None,
            profile: None,
            endpoint: None,
            international: false,
            region_pinned: false,
            secret_id: None,
            secret_key: None,
            token: None,
            language: "en-US".to_owned(),
            request_timeout_secs: 30,
            connect_timeout_secs: 5,
            max_attempts: 4,
        }
    }
}

/// Settings of the built-in simulator (owned by the simulator module).
pub type SimConfig = crate::sim::settings::EmbeddedSimConfig;

/// Settings of portal security: TLS, sessions, login throttling (owned by the web module;
/// turned into `web::settings::WebSettings` by `app::serve`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// PEM certificate chain; with `tls_key`, the portal serves HTTPS itself.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Browsers reach the portal over HTTPS through a proxy: mark cookies Secure, send HSTS.
    pub behind_https: bool,
    /// A session unused this many minutes ends.
    pub session_idle_minutes: u64,
    /// A session ends this many hours after login, used or not.
    pub session_absolute_hours: u64,
    /// Sign-in attempts per account before throttling (four times as many per client IP).
    pub login_attempts: u32,
    /// One sign-in attempt is given back every this many seconds.
    pub login_replenish_secs: u64,
    /// Largest request body accepted, in KiB.
    pub body_limit_kib: usize,
    /// Reverse proxies (IP addresses or CIDR networks) whose `X-Forwarded-For` header is
    /// believed for the client address (login throttling, audit). Empty: never believed.
    #[serde(deserialize_with = "deserialize_proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            tls_cert: None,
            tls_key: None,
            behind_https: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_attempts: 5,
            login_replenish_secs: 60,
            body_limit_kib: 64,
            trusted_proxies: Vec::new(),
        }
    }
}

/// How the cutover engine paces itself against the cloud (turned into
/// `wizard::engine::EngineOptions` and the connector's `Poll` by `app::serve`). The defaults
/// suit Tencent Cloud's documented rate limits (reference §3.5).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// First pause before looking again at asynchronous work (NAT gateway state, EIP tasks,
    /// TAT invocations), in milliseconds; it doubles on each look.
    #[serde(deserialize_with = "poll_first_ms")]
    pub poll_first_ms: u64,
    /// The pause between looks never grows past this many seconds.
    #[serde(deserialize_with = "poll_max_secs")]
    pub poll_max_secs: u64,
    /// Instances whose public IPs are retired (or restored by a rollback) at once in step 4.
    #[serde(deserialize_with = "retire_concurrency")]
    pub retire_concurrency: usize,
    /// A run's lease: the process driving a run renews it every third of this many seconds;
    /// when that process dies, another one on the same database takes the run over after it.
    #[serde(deserialize_with = "lease_secs")]
    pub lease_secs: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            poll_first_ms: 250,
            poll_max_secs: 5,
            retire_concurrency: 64,
            lease_secs: 15,
        }
    }
}

impl EngineConfig {
    /// The pauses between polls: `poll_first_ms`, doubling up to `poll_max_secs`.
    pub fn poll(&self) -> crate::wizard::poll::Poll {
        crate::wizard::poll::Poll {
            first: std::time::Duration::from_millis(self.poll_first_ms),
            max: std::time::Duration::from_secs(self.poll_max_secs),
        }
    }

    /// The run lease: `lease_secs`, renewed every third of it.
    pub fn lease(&self) -> crate::wizard::engine::LeaseOptions {
        crate::wizard::engine::LeaseOptions::with_ttl(std::time::Duration::from_secs(
            self.lease_secs,
        ))
    }
}

/// A whole number in `range`, or an error that says which values are allowed (figment adds
/// the key and where the value came from).
fn bounded<'de, D: Deserializer<'de>>(
    de: D,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, D::Error> {
    let n = u64::deserialize(de)?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "{n} is out of range; use {} to {} {unit}",
            range.start(),
            range.end()
        )))
    }
}

fn poll_first_ms<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    // Below 10 ms a poll loop is a busy loop against a rate-limited API.
    bounded(de, 10..=60_000, "milliseconds")
}

fn poll_max_secs<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    bounded(de, 1..=300, "seconds")
}

fn retire_concurrency<'de, D: Deserializer<'de>>(de: D) -> Result<usize, D::Error> {
    // More than this only queues in the client's rate limiter and the database writer.
    bounded(de, 1..=1_000, "instances at once").map(|n| n as usize)
}

/// IP addresses (`10.0.0.5`, `::1`) or networks (`10.0.0.0/8`), each checked at load time
/// (figment adds the key, `security.trusted_proxies`, and where the value came from).
fn deserialize_proxies<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(de)?
        .iter()
        .map(|raw| {
            let raw = raw.trim();
            raw.parse::<ipnet::IpNet>()
                .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{raw}` is not an IP address or CIDR network; use e.g. `10.0.0.5` or `10.0.0.0/8`"
                    ))
                })
        })
        .collect()
}

/// A SQLite file path or a PostgreSQL URL (see `store::location`); errors never repeat what
/// follows a URL's scheme, which may hold a password.
fn database<'de, D: Deserializer<'de>>(de: D) -> Result<crate::store::Database, D::Error> {
    let raw = String::deserialize(de)?;
    crate::store::Database::parse(&raw).map_err(serde::de::Error::custom)
}

fn lease_secs<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    // Under 3 s a renewal every second is at the mercy of one slow disk write; over 10 min a
    // dead process's runs wait too long for a take-over.
    bounded(de, 3..=600, "seconds")
}

/// Rejects an endpoint that is not an absolute http(s) URL at load time, naming the key.
fn deserialize_endpoint<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    let Some(raw) = Option::<String>::deserialize(de)? else {
        return Ok(None);
    };
    let url = reqwest::Url::parse(&raw).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{raw}` is not a URL ({e}); expected e.g. `https://vpc.tencentcloudapi.com` or `http://127.0.0.1:9000`"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(serde::de::Error::custom(format!(
            "`{raw}` must be an http:// or https:// URL with a host"
        )));
    }
    Ok(Some(raw))
}

/// A configuration that could not be loaded; the message names the key and its source.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Command-line values that override every other layer, as dotted keys (`server.listen`).
#[derive(Debug, Clone, Default)]
pub struct Overrides(Vec<(String, Value)>);

impl Overrides {
    /// Sets `key` (dotted, e.g. `tencent.region`) when `value` is `Some`.
    pub fn set<T: Serialize>(&mut self, key: &str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            let v = Value::serialize(v).expect("flag values serialize to plain values");
            self.0.push((key.to_owned(), v));
        }
        self
    }
}

impl Config {
    /// Loads from the real process environment. `file`: `--config`; when `None`,
    /// `./natpilot.toml` is read if it exists.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Config::load_from(file, std::env::vars(), overrides)
    }

    /// Like [`Config::load`] with an explicit environment, so tests need not touch the process env.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError(format!(
                    "config file {} does not exist (given with --config or NATPILOT_CONFIG)",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
            }
            None => {}
        }
        figment = figment.merge(EnvMap::new(env));
        for (key, value) in &overrides.0 {
            figment = figment.merge(Serialized::default(key, value.clone()).into_named());
        }
        figment.extract().map_err(|e| {
            // We use a single profile; its name in key paths would only confuse.
            ConfigError(e.to_string().replace("\"default.", "\""))
        })
    }
}

/// Wraps a flag override so errors say "command-line flag" rather than "Serialized".
trait IntoNamed: Sized {
    fn into_named(self) -> Named<Self>;
}
impl<T: Provider> IntoNamed for T {
    fn into_named(self) -> Named<Self> {
        Named(self)
    }
}
struct Named<P>(P);
impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flag")
    }
    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.0.data()
    }
}

/// `NATPILOT_SECTION__KEY=value` pairs from an injected environment, nested like figment's
/// `Env::prefixed("NATPILOT_").split("__")`. Variables without `__` (e.g. `NATPILOT_CONFIG`,
/// read by clap) are not settings and are skipped.
struct EnvMap(BTreeMap<String, String>);

impl EnvMap {
    fn new(env: impl IntoIterator<Item = (String, String)>) -> EnvMap {
        let vars = env
            .into_iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(ENV_PREFIX)?;
                rest.contains("__")
                    .then(|| (rest.to_ascii_lowercase().replace("__", "."), v))
            })
            .collect();
        EnvMap(vars)
    }
}

impl Provider for EnvMap {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable").interpolater(|_: &Profile, keys: &[&str]| {
            let upper: Vec<String> = keys.iter().map(|k| k.to_ascii_uppercase()).collect();
            format!("{ENV_PREFIX}{}", upper.join("__"))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (key, raw) in &self.0 {
            // Same parsing as figment's own `Env` provider: numbers and booleans typed.
            let value: Value = raw.parse().unwrap_or_else(|never| match never {});
            if let Some(nested) = figment::util::nest(key, value).into_dict() {
                merge_into(&mut dict, nested);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn merge_into(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, new)) => merge_into(existing, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
