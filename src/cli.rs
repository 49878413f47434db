//! Command-line interface: `natpilot [--config FILE] [--log-format F] [serve|sim|doctor|snapshot|user]`.
//!
//! Flags that are also settings become the last configuration layer through
//! [`Cli::overrides`]; each subcommand's owner keeps its arguments small and here.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{LogFormat, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "natpilot",
    version,
    about = "Move a Tencent Cloud VPC behind a NAT gateway, step by step."
)]
pub struct Cli {
    /// Configuration file (TOML). Without it, ./natpilot.toml is read if present.
    #[arg(long, global = true, env = "NATPILOT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log output format (default: readable; verbosity via RUST_LOG).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the web portal (the default).
    Serve(ServeArgs),
    /// Run the simulated Tencent Cloud alone.
    Sim(SimArgs),
    /// Check configuration and credentials with read-only calls to each service.
    Doctor(DoctorArgs),
    /// Write a scenario file describing one VPC.
    Snapshot(SnapshotArgs),
    /// Manage portal users.
    User(UserArgs),
    /// Copy the database to a new file, consistently, while the portal runs.
    Backup(BackupArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The new file to write (it must not exist).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// SQLite database file [default: server.database, ./natpilot.db].
    #[arg(long, value_name = "FILE")]
    pub database: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// SQLite database file, or a postgres:// URL for replicas [default: ./natpilot.db]. A URL
    /// with a password belongs in NATPILOT_SERVER__DATABASE: a command line is visible to
    /// every user of the machine.
    #[arg(long, value_name = "FILE|URL")]
    pub database: Option<String>,
    /// Serve Prometheus metrics on this separate address.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Browsers reach the portal over HTTPS through a proxy: Secure cookies, HSTS.
    #[arg(long)]
    pub behind_https: bool,
}

pub use crate::sim::cli::SimArgs;

#[derive(Debug, Clone, Default, Args)]
pub struct DoctorArgs {
    /// Region to check, e.g. ap-guangzhou.
    #[arg(long)]
    pub region: Option<String>,
    /// tccli profile to read credentials from (~/.tccli/<profile>.credential).
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every call to this base URL instead of Tencent Cloud (e.g. http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

pub use crate::snapshot::SnapshotArgs;

pub use crate::web::user_cli::UserArgs;

impl Cli {
    /// The subcommand to run; `serve` when none is given.
    pub fn command(&self) -> Command {
        self.command
            .clone()
            .unwrap_or(Command::Serve(ServeArgs::default()))
    }

    /// The flags that override configuration settings, as the last configuration layer.
    pub fn overrides(&self) -> Overrides {
        let mut o = Overrides::default();
        o.set("server.log_format", self.log_format);
        match &self.command {
            Some(Command::Serve(a)) => {
                o.set("server.listen", a.listen)
                    .set("server.database", a.database.as_ref())
                    .set("server.metrics_listen", a.metrics_listen)
                    .set("security.tls_cert", a.tls_cert.as_ref())
                    .set("security.tls_key", a.tls_key.as_ref())
                    .set("security.behind_https", a.behind_https.then_some(true));
            }
            Some(Command::Backup(a)) => {
                o.set("server.database", a.database.as_ref());
            }
            Some(Command::Snapshot(a)) => {
                o.set("tencent.region", a.region.as_ref())
                    .set("tencent.profile", a.profile.as_ref())
                    .set("tencent.endpoint", a.endpoint.as_ref());
            }
            Some(Command::Doctor(a)) => {
                o.set("tencent.region", a.region.as_ref())
                    .set("tencent.profile", a.profile.as_ref())
                    .set("tencent.endpoint", a.endpoint.as_ref());
            }
            _ => {}
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::try_parse_from(["natpilot"]).unwrap();
        assert!(matches!(cli.command(), Command::Serve(_)));
    }

    #[test]
    fn serve_and_global_flags_become_the_last_config_layer() {
        let cli = Cli::try_parse_from([
            "natpilot",
            "serve",
            "--listen",
            "0.0.0.0:1234",
            "--log-format",
            "json",
        ])
        .unwrap();
        let vars = [("NATPILOT_SERVER__LISTEN".to_owned(), "0.0.0.0:9".to_owned())];
        let config = Config::load_from(None, vars, &cli.overrides()).unwrap();
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:1234");
        assert_eq!(config.server.log_format, LogFormat::Json);
    }

    #[test]
    fn doctor_flags_set_the_tencent_section() {
        let cli = Cli::try_parse_from([
            "natpilot",
            "doctor",
            "--region",
            "ap-guangzhou",
            "--endpoint",
            "http://127.0.0.1:9000",
        ])
        .unwrap();
        let config = Config::load_from(None, [], &cli.overrides()).unwrap();
        assert_eq!(config.tencent.region.as_deref(), Some("ap-guangzhou"));
        assert_eq!(
            config.tencent.endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
    }
}
