//! Connecting to Temporal: flags, then the environment, then a `temporal.toml` profile.

use std::time::Duration;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, GrpcCompression};
use temporalio_common::envconfig::{LoadClientConfigProfileOptions, load_client_config_profile};

use super::TemporalError;

/// Where a default local server listens (the Temporal CLI dev server).
pub const DEFAULT_HOSTPORT: &str = "localhost:7233";
pub const DEFAULT_NAMESPACE: &str = "default";
/// Where the dev server's web UI listens (links from the dashboard).
pub const DEFAULT_UI_URL: &str = "http://localhost:8233";
/// How long to wait for a server to answer before saying it is not there.
const CONNECT_DEADLINE: Duration = Duration::from_secs(8);

/// Whether gRPC calls to Temporal are compressed (`[temporal] grpc_compression`).
///
/// The Rust SDK compresses every call with gzip unless told otherwise, and its encoder
/// allocates and zeroes a fresh compressor for each message. In `perf`, a fifth of our
/// worker's samples were in gzip, which shrinks messages of a few hundred bytes. Without
/// it, the worker's CPU per order fell from 3.0-3.6 to 2.2-2.4 ms (README: Figures).
/// So the default is `None`, as in the Go SDK the original used. `Gzip` is for a link
/// where bytes cost more than CPU, such as a worker far from its cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
}

/// What the command line said about the connection; `None` defers to env and file.
#[derive(Debug, Clone, Default)]
pub struct ConnectArgs {
    pub namespace: Option<String>,
    pub hostport: Option<String>,
    /// A profile in the Temporal config file (`TEMPORAL_PROFILE` otherwise).
    pub profile: Option<String>,
    pub compression: Compression,
}

impl ConnectArgs {
    pub fn local(hostport: impl Into<String>, namespace: impl Into<String>) -> Self {
        ConnectArgs {
            namespace: Some(namespace.into()),
            hostport: Some(hostport.into()),
            profile: None,
            compression: Compression::default(),
        }
    }
}

/// The settings that will be used, resolved but not yet connected.
#[derive(Debug, Clone)]
pub struct ResolvedConnection {
    pub address: String,
    pub namespace: String,
    options: ConnectionOptions,
}

/// Resolves flags over environment over file, without touching the network.
pub fn resolve(args: &ConnectArgs) -> Result<ResolvedConnection, TemporalError> {
    let mut profile = load_client_config_profile(
        LoadClientConfigProfileOptions::builder()
            .maybe_config_file_profile(args.profile.clone())
            .build(),
        None,
    )
    .map_err(|e| TemporalError::Config(e.to_string()))?;
    if let Some(hostport) = &args.hostport {
        profile.address = Some(hostport.clone());
    }
    if let Some(namespace) = &args.namespace {
        profile.namespace = Some(namespace.clone());
    }
    let address = profile
        .address
        .clone()
        .unwrap_or_else(|| DEFAULT_HOSTPORT.to_string());
    let namespace = profile
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    if namespace.trim().is_empty() {
        return Err(TemporalError::Config(
            "the namespace is empty: pass -n/--namespace".into(),
        ));
    }
    let mut options = ConnectionOptions::try_from(profile)
        .map_err(|e| TemporalError::Config(format!("{e} (address {address:?})")))?;
    options.connect_timeout = Some(Duration::from_secs(5));
    options.grpc_compression = match args.compression {
        Compression::None => GrpcCompression::None,
        Compression::Gzip => GrpcCompression::Gzip,
    };
    options.identity = identity(Channel::CommandLine);
    Ok(ResolvedConnection {
        address,
        namespace,
        options,
    })
}

/// Which of our clients speaks to Temporal: each has its own identity prefix, which
/// Temporal records on every start, signal and update it sends, and the audit trail reads
/// back as the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Console,
    CommandLine,
    Worker,
}

impl Channel {
    pub fn prefix(self) -> &'static str {
        match self {
            Channel::Console => "tp-console",
            Channel::CommandLine => "tp-cli",
            Channel::Worker => "tp-worker",
        }
    }

    /// The channel a recorded client identity names; `None` for clients not ours (Temporal's
    /// web UI, its CLI, an SDK script).
    pub fn of_identity(identity: &str) -> Option<Channel> {
        [Channel::Console, Channel::CommandLine, Channel::Worker]
            .into_iter()
            .find(|c| identity.starts_with(c.prefix()))
    }
}

/// This process's identity as `channel`: `tp-console@host:pid`, `tp-cli:user@host:pid`.
pub fn identity(channel: Channel) -> String {
    let user = match channel {
        Channel::CommandLine => std::env::var("USER")
            .ok()
            .filter(|u| {
                !u.is_empty()
                    && u.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
            .map(|u| format!(":{u}"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    format!(
        "{}{user}@{}:{}",
        channel.prefix(),
        hostname(),
        std::process::id()
    )
}

/// The same connection under another channel's identity (the console's, the workers').
pub fn speaking_as(client: &Client, channel: Channel) -> Client {
    let mut client = client.clone();
    *client.connection_mut().identity_mut() = identity(channel);
    client
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Connects, or says which address it tried and how to start a server.
pub async fn connect(args: &ConnectArgs) -> Result<Client, TemporalError> {
    let resolved = resolve(args)?;
    let unreachable = |cause: String| TemporalError::Unreachable {
        address: resolved.address.clone(),
        namespace: resolved.namespace.clone(),
        cause,
    };
    let connection = tokio::time::timeout(
        CONNECT_DEADLINE,
        Connection::connect(resolved.options.clone()),
    )
    .await
    .map_err(|_| unreachable(format!("no answer within {}s", CONNECT_DEADLINE.as_secs())))?
    .map_err(|e| unreachable(e.to_string()))?;
    Client::new(
        connection,
        ClientOptions::new(resolved.namespace.clone()).build(),
    )
    .map_err(|e| TemporalError::Config(e.to_string()))
}

/// How long a page waits for Temporal before it shows the outage banner. Workers keep the
/// client's own budget (10 s); a person looking at a page should not.
pub const INTERACTIVE_RETRY_BUDGET: Duration = Duration::from_millis(1500);

/// The same connection with a short retry budget, for requests a person is waiting on.
pub fn interactive(client: &Client) -> Client {
    let mut client = client.clone();
    // Copy-on-write: the workers' clones keep their own retry options.
    client.connection_mut().retry_options_mut().max_elapsed_time = Some(INTERACTIVE_RETRY_BUDGET);
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_environment() {
        // Only the flags are read here: the test environment may hold anything.
        let resolved = resolve(&ConnectArgs::local("127.0.0.1:7999", "payments")).unwrap();
        assert_eq!(resolved.address, "127.0.0.1:7999");
        assert_eq!(resolved.namespace, "payments");
    }

    #[test]
    fn calls_are_uncompressed_unless_gzip_is_chosen() {
        let plain = resolve(&ConnectArgs::local("127.0.0.1:7999", "payments")).unwrap();
        assert_eq!(plain.options.grpc_compression, GrpcCompression::None);
        let gzip = ConnectArgs {
            compression: Compression::Gzip,
            ..ConnectArgs::local("127.0.0.1:7999", "payments")
        };
        assert_eq!(
            resolve(&gzip).unwrap().options.grpc_compression,
            GrpcCompression::Gzip
        );
    }

    #[test]
    fn an_empty_namespace_is_refused() {
        let err = resolve(&ConnectArgs::local("127.0.0.1:7999", " ")).unwrap_err();
        assert!(err.to_string().contains("namespace is empty"));
    }

    #[tokio::test]
    async fn a_missing_server_is_named_with_the_way_to_start_one() {
        // Port 9 (discard) on loopback has no Temporal server.
        let err = connect(&ConnectArgs::local("127.0.0.1:9", "default"))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("127.0.0.1:9"), "{text}");
        assert!(text.contains("temporal server start-dev"), "{text}");
    }
}
