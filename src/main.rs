//! `natpilot` binary: parse flags, load the configuration, start tracing, run the subcommand.

use std::process::ExitCode;

use clap::Parser;
use natpilot::cli::{Cli, Command};
use natpilot::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), &cli.overrides()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("natpilot: {e}");
            return ExitCode::from(2);
        }
    };
    natpilot::telemetry::init(config.server.log_format);
    let result = match cli.command() {
        Command::Serve(_) => not_yet("serve"),
        Command::Sim(_) => not_yet("sim"),
        Command::Doctor(_) => Ok(doctor(&config).await),
        Command::Snapshot(args) => natpilot::snapshot::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::User(_) => not_yet("user"),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("natpilot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn doctor(config: &Config) -> ExitCode {
    let report = natpilot::doctor::run(config).await;
    print!("{report}");
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn not_yet(name: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`natpilot {name}` is not implemented yet")
}
