use clap::Parser;

fn main() -> anyhow::Result<()> {
    let _cli = natpilot::cli::Cli::parse();
    Ok(())
}
