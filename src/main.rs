//! The `temporal-playground` binary: dashboard, worker, simulated upstream and CLI.

use clap::Parser;
use std::process::ExitCode;
use temporal_playground::cli::{Cli, Command, ServeArgs, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,temporalio_sdk_core=warn,temporalio_client=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    match run(&cli.global, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
