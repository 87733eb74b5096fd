//! The `temporal-playground` binary: dashboard, worker, simulated upstream and CLI.

use clap::Parser;
use std::process::ExitCode;
use temporal_playground::cli::{
    Cli, Command, ServeArgs, run,
    settings::{LogFormat, Settings},
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,temporalio_sdk_core=warn,temporalio_client=warn".into());
    // Read once. A configuration that cannot be read is reported by `run`; the log is
    // plain and the runtime has its defaults meanwhile.
    let settings = Settings::load(cli.global.config.as_deref());
    let format = settings.as_ref().map(|s| s.log.format).unwrap_or_default();
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => log.json().flatten_event(true).init(),
        LogFormat::Text => log.init(),
    }
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    let threads = settings
        .as_ref()
        .ok()
        .and_then(|s| command.runtime_threads(s));
    let runtime = match temporal_playground::runtime::tokio_runtime(threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: the async runtime could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli.global, settings, command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
