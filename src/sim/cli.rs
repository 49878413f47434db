//! `natpilot sim`: the simulator alone, for other clients (the official SDK, tccli).
//! Arguments live here; `cli.rs` only embeds them (issue 3 item 5).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::config::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, FaultConfig, SimConfig};
use super::scenario::ScenarioSource;

#[derive(Debug, Clone, Default, Args)]
pub struct SimArgs {
    /// Address to listen on [default: 127.0.0.1:9000].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// SecretId clients must sign with [default: printed at start].
    #[arg(long, env = "NATPILOT_SIM_SECRET_ID", value_name = "ID")]
    pub secret_id: Option<String>,
    /// SecretKey clients must sign with [default: printed at start].
    #[arg(
        long,
        env = "NATPILOT_SIM_SECRET_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub secret_key: Option<String>,
    /// Region the simulated account lives in [default: the scenario's, ap-guangzhou].
    #[arg(long)]
    pub region: Option<String>,
    /// `tutorial`, `large`, `conflict`, or a scenario file (.json/.toml) [default: tutorial].
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// Number of instances of the `large` scenario (≤ 50000) [default: 1000].
    #[arg(long, value_name = "N")]
    pub instances: Option<usize>,
    /// Length of each asynchronous step, e.g. `2s`, `500ms`, `0s` [default: 2s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub async_delay: Option<Duration>,
    /// Make every NAT gateway creation end in PENDFAILURE.
    #[arg(long)]
    pub nat_creation_fails: bool,
    /// Probability (0–1) that a request meets an injected fault [default: 0].
    #[arg(long, value_name = "P")]
    pub fault_rate: Option<f64>,
    /// Seed of fault injection and generated ids [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Do not enforce the documented per-action rate limits.
    #[arg(long)]
    pub no_rate_limit: bool,
}

/// Parses `2s`, `500ms`, `1m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| text.split_at(i))
        .unwrap_or((text, "s"));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 2s or 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit in `{text}`; use ms, s or m")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

impl SimArgs {
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        let rate = self.fault_rate.unwrap_or(0.0);
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "--fault-rate must be between 0 and 1, got {rate}"
        );
        let seed = self.seed.unwrap_or(1);
        let scenario = self.scenario.as_deref().unwrap_or("tutorial");
        Ok(SimConfig {
            listen: self
                .listen
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 9000))),
            secret_id: self
                .secret_id
                .clone()
                .unwrap_or_else(|| DEFAULT_SECRET_ID.into()),
            secret_key: self
                .secret_key
                .clone()
                .unwrap_or_else(|| DEFAULT_SECRET_KEY.into())
                .into(),
            region: self.region.clone(),
            scenario: ScenarioSource::parse(scenario, self.instances.unwrap_or(1000)),
            async_delay: self.async_delay.unwrap_or(Duration::from_secs(2)),
            nat_creation_fails: self.nat_creation_fails,
            faults: FaultConfig {
                rate,
                seed,
                ..FaultConfig::default()
            },
            rate_limit: !self.no_rate_limit,
            manual_clock: false,
            seed,
            ..SimConfig::default()
        })
    }
}

/// Runs the simulator until Ctrl-C.
pub async fn run(args: &SimArgs) -> anyhow::Result<ExitCode> {
    let config = args.to_config()?;
    let sim = super::spawn(config).await?;
    let endpoint = sim.endpoint();
    println!(
        "natpilot sim: simulated Tencent Cloud listening on {endpoint} (region {})",
        sim.region()
    );
    println!("  SecretId:  {}", sim.secret_id());
    if args.secret_key.is_some() {
        println!("  SecretKey: (as given by --secret-key / NATPILOT_SIM_SECRET_KEY)");
    } else {
        println!(
            "  SecretKey: {DEFAULT_SECRET_KEY}  (the built-in default; not a real credential)"
        );
    }
    println!("  state:     GET {endpoint}/_sim/state");
    println!(
        "  tccli:     tccli vpc DescribeVpcs --endpoint {endpoint} --region {}",
        sim.region()
    );
    tokio::signal::ctrl_c().await?;
    println!("natpilot sim: stopping");
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_humans_write_them() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("2 weeks").is_err());
    }
}
