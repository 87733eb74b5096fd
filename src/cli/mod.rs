//! The `temporal-playground` command line: flags of the Go original, plus `serve` and
//! `upstream`.

pub mod client;
pub mod namespace;
pub mod settings;
pub mod user;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::{
    cli::settings::{
        AuthModeSetting, SESSION_KEY_ENV, Settings, SettingsError, Upstream, parse_addr,
    },
    operations::OpError,
    runtime::worker::{self, WorkerConfig, WorkerError},
    temporal::connection::{self, ConnectArgs, DEFAULT_UI_URL},
    temporal::{TemporalError, namespaces, search_attributes},
    upstream::simulator::SimulatedUpstream,
    web::auth::accounts::first_admin,
    web::auth::{AuthConfig, AuthMode, load_or_create_key, parse_key},
    web::guard::{AllowedHosts, RequestBudget},
    web::server::{ServeConfig, ServeError, UpstreamChoice, serve},
    web::state::WebConfig,
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
    ///
    /// It reads the configuration's `[upstream]` (the bank's address and rate),
    /// `[contracts]` (the bounds each term of a recurring contract is held to before it
    /// charges) and `[statements]` (how far a statement entry's money may be from an
    /// order's and still settle it): give every worker, and the console, the same file.
    Worker(WorkerArgs),
    /// The simulated bank / wallet on its own
    Upstream(UpstreamArgs),
    /// Register or list namespaces
    #[command(subcommand)]
    Namespace(namespace::NamespaceCommand),
    /// Start orders, resolve them, manage recurring payments
    #[command(subcommand)]
    Client(Box<client::ClientCommand>),
    /// Accounts of the dashboard's `local` sign-in (auth.accounts_file)
    #[command(subcommand)]
    User(user::UserCommand),
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
    Temporal(#[from] TemporalError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Operation(#[from] OpError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Telemetry(#[from] crate::temporal::metrics::TelemetryError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
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
            compression: settings.temporal.grpc_compression,
        }
    }
}

impl Command {
    /// The runtime threads this command runs on (`runtime::tokio_runtime`): a `worker`
    /// process its `[worker] threads`, every other command one per core (`None`).
    pub fn runtime_threads(&self, settings: &Settings) -> Option<usize> {
        match self {
            Command::Worker(_) => Some(settings.worker.threads),
            _ => None,
        }
    }
}

/// Runs one command to its end, with the configuration `main` read (`Settings::load`):
/// one that could not be read is this command's error.
pub async fn run(
    global: &GlobalArgs,
    settings: Result<Settings, SettingsError>,
    command: Command,
) -> Result<(), CliError> {
    let settings = settings?;
    let connect = global.connect_args(&settings);
    match command {
        Command::Version => {
            println!("temporal-playground {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Upstream(args) => run_upstream(&settings, args).await,
        Command::Serve(args) => Ok(serve(serve_config(&settings, connect, args)?).await?),
        Command::Worker(args) => run_worker(&settings, &connect, args).await,
        Command::Namespace(command) => run_namespace(&connect, command).await,
        Command::User(user::UserCommand::Revoke { name, operator }) => {
            let client = connection::connect(&connect).await?;
            user::revoke(&client, &name, &operator).await
        }
        Command::User(command) => user::run(&settings.auth.accounts_file, command),
        Command::Client(command) => {
            // Bad flags are reported before a connection is tried.
            let defaults = client::Defaults {
                policy: settings.reconcile.policy(),
                limits: settings.contracts.clone(),
                four_eyes: settings.approval.resolutions().map_err(usage)?,
                statements: settings.statements.clone(),
                service_level: settings.dashboard.service_level().map_err(usage)?,
            };
            let prepared = command.prepare(&defaults)?;
            let client = connection::connect(&connect).await?;
            client::run(&client, prepared).await
        }
    }
}

/// `serve`'s configuration: its flags over `LEPTOS_SITE_ADDR` over the file.
fn serve_config(
    settings: &Settings,
    connect: ConnectArgs,
    args: ServeArgs,
) -> Result<ServeConfig, CliError> {
    let listen = args
        .listen
        .or_else(|| std::env::var("LEPTOS_SITE_ADDR").ok())
        .unwrap_or_else(|| settings.dashboard.listen.clone());
    let upstream = match settings.upstream(args.upstream_url)? {
        Upstream::Url(url) => UpstreamChoice::Url(url),
        Upstream::Simulator { listen } => UpstreamChoice::Simulated {
            listen: parse_addr(&listen, "upstream.simulator_listen")?,
            behaviour: settings.upstream.simulator.clone(),
        },
    };
    Ok(ServeConfig {
        connect,
        listen: parse_addr(&listen, "--listen")?,
        upstream,
        dispatch_rps: settings.upstream.dispatch_rps,
        embedded_worker: !args.no_worker,
        web: WebConfig {
            temporal_ui_url: settings
                .temporal
                .ui_url
                .clone()
                .unwrap_or_else(|| DEFAULT_UI_URL.into()),
            policy: settings.reconcile.policy(),
            contract_limits: settings.contracts.clone(),
            allowed_hosts: AllowedHosts::new(settings.dashboard.allowed_hosts.clone()),
            budget: RequestBudget::new(settings.dashboard.requests_at_once),
            auth: auth_config(settings, &listen)?,
            four_eyes: settings.approval.resolutions().map_err(usage)?,
            statements: settings.statements.clone(),
            dispatch_rps: settings.upstream.dispatch_rps,
            worker_upstreams: settings.dashboard.worker_upstreams.clone(),
            service_level: settings.dashboard.service_level().map_err(usage)?,
            watch_every: settings.metrics.watch_every(),
        },
        metrics_listen: settings.metrics.address()?,
    })
}

/// The sign-in mode and session settings; `local` mode's first start creates `admin`
/// and prints its generated password once.
fn auth_config(settings: &Settings, listen: &str) -> Result<AuthConfig, CliError> {
    let auth = &settings.auth;
    let key = match std::env::var(SESSION_KEY_ENV)
        .ok()
        .or_else(|| auth.session_key.clone())
    {
        Some(text) => parse_key(&text).map_err(usage)?,
        None if settings.production => {
            return Err(CliError::Usage(format!(
                "production = true needs auth.session_key or {SESSION_KEY_ENV}: every replica \
                 must share one key"
            )));
        }
        None => load_or_create_key(&auth.session_key_file).map_err(usage)?,
    };
    let mode = match auth.mode {
        AuthModeSetting::Local => {
            if let Some(password) = first_admin(&auth.accounts_file).map_err(usage)? {
                println!(
                    "created the first account in {}: name admin, password {password}\n\
                     (shown once; add people with `temporal-playground user add`)",
                    auth.accounts_file.display()
                );
            }
            AuthMode::Local {
                accounts: auth.accounts_file.clone(),
            }
        }
        AuthModeSetting::Oidc => {
            let Some(oidc) = auth.oidc.clone() else {
                return Err(usage("auth.mode = \"oidc\" needs [auth.oidc]"));
            };
            AuthMode::Oidc(crate::web::auth::oidc::OidcConfig {
                issuer_url: oidc.issuer_url,
                client_id: oidc.client_id,
                client_secret: std::env::var(crate::cli::settings::OIDC_SECRET_ENV)
                    .ok()
                    .or(oidc.client_secret),
                redirect_url: oidc.redirect_url,
                name_claim: oidc.name_claim,
                roles_claim: oidc.roles_claim,
                group_prefix: oidc.group_prefix,
                roles_minutes: oidc.roles_minutes,
            })
        }
        AuthModeSetting::None => {
            let loopback = parse_addr(listen, "--listen")?.ip().is_loopback();
            if !loopback {
                return Err(CliError::Usage(format!(
                    "auth.mode = \"none\" only serves on loopback, not {listen}: use local \
                     accounts to serve others"
                )));
            }
            AuthMode::None
        }
    };
    Ok(AuthConfig {
        mode,
        key,
        idle: std::time::Duration::from_secs(auth.idle_minutes.saturating_mul(60)),
        lifetime: std::time::Duration::from_secs(auth.lifetime_hours.saturating_mul(3600)),
        secure: auth.secure_cookies,
        revocations: Default::default(),
        throttle: crate::web::auth::throttle::SignInThrottle::new(
            auth.sign_in_failures_per_name_per_minute,
            auth.sign_ins_per_address_per_minute,
        ),
    })
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

async fn run_upstream(settings: &Settings, args: UpstreamArgs) -> Result<(), CliError> {
    let listen = args
        .listen
        .unwrap_or_else(|| settings.upstream.simulator_listen.clone());
    let addr = parse_addr(&listen, "--listen")?;
    let sim = SimulatedUpstream::new(settings.upstream.simulator.clone());
    let bound = sim.serve(addr).await?;
    println!("simulated upstream on http://{bound} (Ctrl-C to stop)");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

async fn run_worker(
    settings: &Settings,
    connect: &ConnectArgs,
    args: WorkerArgs,
) -> Result<(), CliError> {
    let upstream_url = match settings.upstream(args.upstream_url)? {
        Upstream::Url(url) => url,
        Upstream::Simulator { listen } => format!("http://{listen}"),
    };
    let client = connection::connect(connect).await?;
    search_attributes::register_when_ready(&client).await?;
    let telemetry = crate::temporal::metrics::init(settings.metrics.address()?)?;
    println!("metrics: http://{}/metrics", telemetry.address);
    if let Some(listen) = &settings.metrics.upstreams_listen {
        let addr = parse_addr(listen, "metrics.upstreams_listen")?;
        let bound = worker::serve_upstream_tallies(addr).await?;
        println!("upstream tallies: http://{bound}/upstreams");
    }
    let mut config = WorkerConfig::all_queues(upstream_url, settings.upstream.dispatch_rps);
    config.contract_limits = settings.contracts.clone();
    config.statement_tolerance_minor = settings.statements.rules().tolerance_minor;
    if !args.queues.is_empty() {
        config.queues = args.queues;
    }
    let workers = worker::start(
        connection::speaking_as(&client, connection::Channel::Worker),
        config,
    )?;
    println!("worker running (Ctrl-C to stop)");
    tokio::select! {
        _ = crate::runtime::signals::stop_requested() => {}
        _ = workers.finished() => {}
    }
    Ok(workers.stop().await?)
}

async fn run_namespace(
    connect: &ConnectArgs,
    command: namespace::NamespaceCommand,
) -> Result<(), CliError> {
    let client = connection::connect(connect).await?;
    match command {
        namespace::NamespaceCommand::Register {
            name,
            description,
            retention_days,
        } => {
            let created =
                namespaces::register(&client, &name, &description, retention_days).await?;
            let mut in_ns = connect.clone();
            in_ns.namespace = Some(name.clone());
            let ns_client = connection::connect(&in_ns).await?;
            let added = search_attributes::register_when_ready(&ns_client).await?;
            if created {
                println!("registered namespace {name} (retention {retention_days} days)");
            } else {
                println!("namespace {name} already exists: kept as it is");
            }
            if !added.is_empty() {
                println!("registered search attributes: {}", added.join(", "));
            }
        }
        namespace::NamespaceCommand::List => {
            for (name, description) in namespaces::list(&client).await? {
                println!("{name}\t{description}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_worker_process_runs_on_its_configured_threads() {
        let settings = Settings::parse("[worker]\nthreads = 3\n").expect("valid");
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("temporal-playground").chain(args.iter().copied()))
                .expect("a command line of ours")
                .command
                .expect("a command")
        };
        assert_eq!(parse(&["worker"]).runtime_threads(&settings), Some(3));
        assert_eq!(
            parse(&["worker", "--queues", "upstream"]).runtime_threads(&settings),
            Some(3)
        );
        assert_eq!(parse(&["serve"]).runtime_threads(&settings), None);
        assert_eq!(parse(&["upstream"]).runtime_threads(&settings), None);
    }
}
