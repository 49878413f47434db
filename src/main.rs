//! `natpilot` binary: parse flags, load the configuration, start tracing, run the subcommand.

use std::process::ExitCode;

use clap::Parser;
use natpilot::cli::{Cli, Command};
use natpilot::config::Config;

/// mimalloc instead of glibc malloc: the simulator and the portal allocate many small JSON
/// strings per request (see the simulator benchmark in the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::Serve(_) => natpilot::app::serve(&config)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Sim(args) => natpilot::sim::cli::run(&args).await,
        Command::Doctor(_) => Ok(doctor(&config).await),
        Command::Snapshot(args) => natpilot::snapshot::run(&config, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::User(args) => user(&config, args).await,
        Command::Backup(args) => backup(&config, &args).await,
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

/// `natpilot user …` against the configured database.
async fn user(config: &Config, args: natpilot::cli::UserArgs) -> anyhow::Result<ExitCode> {
    use natpilot::web::user_cli::{self, PasswordSource};
    let store = natpilot::store::Store::connect(&config.server.database).await?;
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let source = PasswordSource::Reader(&mut lock);
    user_cli::run(&store, args.action, source, &mut std::io::stdout()).await?;
    Ok(ExitCode::SUCCESS)
}

/// `natpilot backup --to FILE`: a consistent copy of the configured database.
async fn backup(config: &Config, args: &natpilot::cli::BackupArgs) -> anyhow::Result<ExitCode> {
    let database = match &config.server.database {
        natpilot::store::Database::Sqlite(path) => path,
        natpilot::store::Database::Postgres(url) => anyhow::bail!(
            "natpilot backup copies a SQLite file; the database is PostgreSQL ({url}): back it \
             up with pg_dump (README, \"Backup and restore\")"
        ),
    };
    let summary = natpilot::store::backup::to_file(database, &args.to).await?;
    println!(
        "Backed up {} to {} ({} bytes, {} runs, {} users; integrity check ok).",
        database.display(),
        args.to.display(),
        summary.bytes,
        summary.runs,
        summary.users
    );
    Ok(ExitCode::SUCCESS)
}
