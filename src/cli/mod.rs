//! The `temporal-playground` command line: flags of the Go original, plus `serve` and
//! `upstream`.

pub mod client;
pub mod namespace;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::{
    settings::{Settings, SettingsError},
    temporal::connection::{ConnectArgs, ConnectError},
};

#[derive(Debug, Parser)]
#[command(
    name = "temporal-playground",
    version,
    about = "Reconciles payment orders whose status is unknown, on Temporal, with a dashboard \
             for the ones machines could not.",
    after_help = "Connection: flags win over TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / \
                  temporal.toml profiles, which win over Leptos.toml."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to run [default: serve]
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Temporal namespace [default: default]
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Temporal frontend host:port [default: localhost:7233]
    #[arg(long, global = true)]
    pub hostport: Option<String>,
    /// Profile in the Temporal config file (temporal.toml)
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Runtime configuration file [default: ./Leptos.toml if present]
    #[arg(long, global = true, env = "TEMPORAL_PLAYGROUND_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The dashboard, with an embedded worker and (unless upstream.url is set) the
    /// simulated upstream
    Serve(ServeArgs),
    /// A worker for some or all task queues
    Worker(WorkerArgs),
    /// The simulated bank / wallet on its own
    Upstream(UpstreamArgs),
    /// Register or list namespaces
    #[command(subcommand)]
    Namespace(namespace::NamespaceCommand),
    /// Start orders, resolve them, manage recurring payments
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Print the version
    Version,
}

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address for the dashboard [default: dashboard.listen, 127.0.0.1:3000]
    #[arg(long)]
    pub listen: Option<String>,
    /// Do not run a worker in this process
    #[arg(long)]
    pub no_worker: bool,
    /// The upstream's base URL; empty runs the simulator in-process
    #[arg(long)]
    pub upstream_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Task queues to poll, comma separated [default: all]
    #[arg(long, value_delimiter = ',')]
    pub queues: Vec<String>,
    /// The upstream's base URL [default: upstream.url, or the simulator's address]
    #[arg(long)]
    pub upstream_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpstreamArgs {
    /// Address to listen on [default: upstream.simulator_listen]
    #[arg(long)]
    pub listen: Option<String>,
}

/// Every error a command can end with; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Order(#[from] crate::temporal::orders::OrderOpError),
    #[error(transparent)]
    Contract(#[from] crate::temporal::contracts::ContractOpError),
    #[error(transparent)]
    Worker(#[from] crate::worker::WorkerError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("Temporal refused the request: {0}")]
    Temporal(String),
}

impl GlobalArgs {
    /// Connection flags over the config file's defaults (env sits between, in the SDK).
    pub fn connect_args(&self, settings: &Settings) -> ConnectArgs {
        let env_has = |name: &str| std::env::var_os(name).is_some();
        ConnectArgs {
            namespace: self.namespace.clone().or_else(|| {
                (!env_has("TEMPORAL_NAMESPACE"))
                    .then(|| settings.temporal.namespace.clone())
                    .flatten()
            }),
            hostport: self.hostport.clone().or_else(|| {
                (!env_has("TEMPORAL_ADDRESS"))
                    .then(|| settings.temporal.hostport.clone())
                    .flatten()
            }),
            profile: self.profile.clone(),
        }
    }
}

/// Runs one command to its end.
pub async fn run(global: &GlobalArgs, command: Command) -> Result<(), CliError> {
    let settings = Settings::load(global.config.as_deref())?;
    let connect = global.connect_args(&settings);
    match command {
        Command::Version => {
            println!("temporal-playground {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Upstream(args) => {
            let listen = args
                .listen
                .unwrap_or_else(|| settings.upstream.simulator_listen.clone());
            let addr = parse_addr(&listen, "--listen")?;
            let sim = crate::simulated_upstream::SimulatedUpstream::new(
                settings.upstream.simulator.clone(),
            );
            let bound = sim.serve(addr).await?;
            println!("simulated upstream on http://{bound} (Ctrl-C to stop)");
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Serve(args) => crate::server::serve(&settings, &connect, args).await,
        Command::Worker(args) => {
            let client = crate::temporal::connection::connect(&connect).await?;
            namespace::register_search_attributes(&client).await?;
            let upstream_url = args
                .upstream_url
                .or_else(|| {
                    (!settings.upstream.url.is_empty()).then(|| settings.upstream.url.clone())
                })
                .unwrap_or_else(|| format!("http://{}", settings.upstream.simulator_listen));
            let mut config = crate::worker::WorkerConfig::all_queues(
                upstream_url,
                settings.upstream.dispatch_rps,
            );
            if !args.queues.is_empty() {
                config.queues = args.queues;
            }
            let workers = crate::worker::start(client, config)?;
            println!("worker running (Ctrl-C to stop)");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = wait_finished(&workers) => {}
            }
            workers.shutdown();
            tokio::task::spawn_blocking(move || workers.join())
                .await
                .map_err(|e| CliError::Usage(e.to_string()))??;
            Ok(())
        }
        Command::Namespace(command) => match command {
            namespace::NamespaceCommand::Register {
                name,
                description,
                retention_days,
            } => {
                let client = crate::temporal::connection::connect(&connect).await?;
                let created =
                    namespace::register(&client, &name, &description, retention_days).await?;
                let mut in_ns = connect.clone();
                in_ns.namespace = Some(name.clone());
                let ns_client = crate::temporal::connection::connect(&in_ns).await?;
                let added = namespace::register_search_attributes(&ns_client).await?;
                if created {
                    println!("registered namespace {name} (retention {retention_days} days)");
                } else {
                    println!("namespace {name} already exists: kept as it is");
                }
                if !added.is_empty() {
                    println!("registered search attributes: {}", added.join(", "));
                }
                Ok(())
            }
            namespace::NamespaceCommand::List => {
                let client = crate::temporal::connection::connect(&connect).await?;
                for (name, description) in namespace::list(&client).await? {
                    println!("{name}\t{description}");
                }
                Ok(())
            }
        },
        Command::Client(command) => {
            // Bad flags are reported before a connection is tried.
            let prepared = command.prepare(settings.reconcile.policy())?;
            let client = crate::temporal::connection::connect(&connect).await?;
            client::run(&client, prepared).await
        }
    }
}

async fn wait_finished(workers: &crate::worker::RunningWorkers) {
    while !workers.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

pub fn parse_addr(text: &str, flag: &str) -> Result<std::net::SocketAddr, CliError> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| CliError::Usage(format!("{flag} {text:?} is not a host:port address")))
}
