//! Runtime configuration: `Leptos.toml` (or `--config FILE`), overridden by flags.
//!
//! Precedence: command-line flags, then environment (`TEMPORAL_ADDRESS`,
//! `TEMPORAL_NAMESPACE`, `temporal.toml` profiles), then this file, then defaults.

use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::{
    domain::contract::ContractLimits, domain::listing::ServiceLevel,
    domain::order::ReconcilePolicy, upstream::simulator::UpstreamBehaviour,
};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "Leptos.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// This configuration runs real money: a simulated upstream is refused.
    pub production: bool,
    pub temporal: TemporalSettings,
    pub reconcile: ReconcileSettings,
    pub upstream: UpstreamSettings,
    pub dashboard: DashboardSettings,
    /// Bounds on recurring contracts: checked when one is made, and by the worker before
    /// each term charges.
    pub contracts: ContractLimits,
    pub metrics: MetricsSettings,
    pub auth: AuthSettings,
    pub approval: ApprovalSettings,
    pub log: LogSettings,
    pub statements: StatementSettings,
    pub worker: WorkerSettings,
}

pub use crate::operations::statements::StatementSettings;

/// `[log]`: how log lines are written (to standard error).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people (fields a client sent are quoted), `json` for log collectors.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Four eyes: which resolutions a second person must approve.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalSettings {
    /// By default `paid` and `refunded`: they settle money against the upstream's
    /// silence. An empty list turns four eyes off.
    pub resolutions: Vec<String>,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            resolutions: crate::domain::order::DEFAULT_FOUR_EYES
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        }
    }
}

impl ApprovalSettings {
    pub fn resolutions(
        &self,
    ) -> Result<Vec<crate::domain::order::Resolution>, crate::domain::input::InputError> {
        self.resolutions
            .iter()
            .map(|r| crate::domain::order::Resolution::parse(r))
            .collect()
    }
}

/// How people sign in to the dashboard (README: Sign-in and roles).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `local` (the accounts file), `oidc` (the company's identity provider) or `none`
    /// (a typed name; loopback only).
    pub mode: AuthModeSetting,
    /// The identity provider, for `mode = "oidc"`.
    pub oidc: Option<OidcSettings>,
    /// `local` mode's accounts; created with an `admin` on the first start.
    pub accounts_file: PathBuf,
    /// The session key, base64 of 64 bytes or more; `TP_SESSION_KEY` wins over it. Every
    /// replica needs the same one. Required with `production = true`.
    pub session_key: Option<String>,
    /// Without a key: the file it is kept in, generated on the first start.
    pub session_key_file: PathBuf,
    /// A session unused this long ends.
    pub idle_minutes: u64,
    /// A session this old ends, however busy.
    pub lifetime_hours: u64,
    /// The dashboard is served over TLS (by itself or a proxy): `Secure`, `__Host-` cookies.
    pub secure_cookies: bool,
    /// Failed sign-ins one name may have a minute before it is refused a while.
    pub sign_in_failures_per_name_per_minute: u32,
    /// Sign-ins one client address may try a minute.
    pub sign_ins_per_address_per_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthModeSetting {
    Local,
    Oidc,
    None,
}

/// `[auth.oidc]`: the authorization code flow with PKCE.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer (its discovery document is under it).
    pub issuer_url: String,
    pub client_id: String,
    /// `TP_OIDC_CLIENT_SECRET` wins over it; none for a public client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// This console's `https://…/auth/callback`, as registered with the provider.
    pub redirect_url: String,
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// Groups named exactly `<prefix><role>` give that role (`tp-support`).
    #[serde(default = "default_group_prefix")]
    pub group_prefix: String,
    /// Roles read at sign-in hold this long, then are read again from the provider.
    #[serde(default = "default_roles_minutes")]
    pub roles_minutes: f64,
}

fn default_group_prefix() -> String {
    crate::web::auth::oidc::DEFAULT_GROUP_PREFIX.into()
}

fn default_roles_minutes() -> f64 {
    crate::web::auth::oidc::DEFAULT_ROLES_MINUTES
}

fn default_name_claim() -> String {
    "preferred_username".into()
}

fn default_roles_claim() -> String {
    "groups".into()
}

/// The longest session a console allows: ended sessions are remembered this long.
pub const MAX_LIFETIME_HOURS: u64 = 7 * 24;

/// The environment variable holding the OIDC client secret.
pub const OIDC_SECRET_ENV: &str = "TP_OIDC_CLIENT_SECRET";

/// The environment variable holding the session key.
pub const SESSION_KEY_ENV: &str = "TP_SESSION_KEY";

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            mode: AuthModeSetting::Local,
            oidc: None,
            accounts_file: PathBuf::from("data/accounts.toml"),
            session_key: None,
            session_key_file: PathBuf::from("data/session.key"),
            idle_minutes: crate::web::auth::DEFAULT_IDLE_MINUTES,
            lifetime_hours: crate::web::auth::DEFAULT_LIFETIME_HOURS,
            secure_cookies: false,
            sign_in_failures_per_name_per_minute:
                crate::web::auth::throttle::SIGN_IN_FAILURES_PER_NAME_PER_MINUTE,
            sign_ins_per_address_per_minute:
                crate::web::auth::throttle::SIGN_INS_PER_ADDRESS_PER_MINUTE,
        }
    }
}

/// Where this process serves its Prometheus metrics.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// `host:port` of the exporter [default: loopback, a free port]. Give every process
    /// Prometheus scrapes a fixed one.
    pub listen: Option<String>,
    /// Seconds between two readings of what waits by a console's watch (the queue's tab
    /// counts and gauges; the ageing board at most a tenth of the time) [default: 5; at
    /// least 1].
    pub watch_secs: Option<u64>,
    /// `host:port` where a `worker` serves its upstream tallies (`GET /upstreams`, JSON)
    /// for consoles' upstream panels (`dashboard.worker_upstreams`); unset: not served.
    pub upstreams_listen: Option<String>,
}

impl MetricsSettings {
    pub fn address(&self) -> Result<std::net::SocketAddr, SettingsError> {
        let listen = self
            .listen
            .as_deref()
            .unwrap_or(crate::temporal::metrics::DEFAULT_LISTEN);
        parse_addr(listen, "metrics.listen")
    }

    /// How often a console's watch reads what waits (checked when the file is read).
    pub fn watch_every(&self) -> std::time::Duration {
        self.watch_secs
            .map(std::time::Duration::from_secs)
            .unwrap_or(crate::web::live::watch::DEFAULT_WATCH_EVERY)
    }
}

/// `[worker]`: the `worker` command's own process (the console's embedded worker shares
/// the console's runtime and is not affected).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Threads under the worker's calls to Temporal and to the upstream (Tokio's runtime),
    /// 1 to [`MAX_WORKER_THREADS`]. Workflow code runs outside them whatever this says: on
    /// the workers' own thread (`runtime::worker`) and the SDK's history threads. One thread costs the least CPU per order (README: Figures); raise it only
    /// on a machine of the worker's own whose one runtime thread is busy.
    pub threads: usize,
}

/// Most `[worker] threads`: far more than the calls of a worker need, and a typo such as
/// `threads = 10000` is refused rather than started.
pub const MAX_WORKER_THREADS: usize = 256;

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings { threads: 1 }
    }
}

/// Connection defaults; flags and `TEMPORAL_*` variables win over these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemporalSettings {
    pub hostport: Option<String>,
    pub namespace: Option<String>,
    /// Where people open Temporal's own web UI (links from the dashboard).
    pub ui_url: Option<String>,
    /// `"none"` (the default) or `"gzip"`: whether calls to Temporal are compressed.
    pub grpc_compression: crate::temporal::connection::Compression,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconcileSettings {
    pub attempts: u32,
    pub backoff_ms: u64,
    pub call_timeout_ms: u64,
    /// How long a stale order waits, in seconds (30 minutes in production).
    pub stale_wait_secs: u64,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        let p = ReconcilePolicy::default();
        ReconcileSettings {
            attempts: p.attempts,
            backoff_ms: p.backoff_ms,
            call_timeout_ms: p.call_timeout_ms,
            stale_wait_secs: p.stale_wait_secs,
        }
    }
}

impl ReconcileSettings {
    pub fn policy(&self) -> ReconcilePolicy {
        ReconcilePolicy {
            attempts: self.attempts,
            backoff_ms: self.backoff_ms,
            call_timeout_ms: self.call_timeout_ms,
            stale_wait_secs: self.stale_wait_secs,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamSettings {
    /// The bank or wallet's base URL.
    pub url: String,
    /// Run against the simulated bank instead (demos and tests). Never with `url`, never
    /// in production; `serve` runs it in-process and says so on every page.
    pub simulate: bool,
    /// Where `serve` (or `upstream`) runs the simulator.
    pub simulator_listen: String,
    /// Upstream calls per second that Temporal dispatches, for all workers together.
    /// At most half the upstream's own limit: Temporal's limiter bursts up to twice its rate
    /// within one second.
    pub dispatch_rps: f64,
    /// The simulator's behaviour (outcome mix, errors, latency, its hard limit).
    pub simulator: UpstreamBehaviour,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            url: String::new(),
            simulate: false,
            simulator_listen: "127.0.0.1:7070".into(),
            dispatch_rps: 25.0,
            simulator: UpstreamBehaviour::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardSettings {
    pub listen: String,
    /// `Host` names the dashboard answers to (`console.example.com`, or with a port);
    /// empty: loopback names only. Others are refused, against DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Requests this process works on at once; more get 503 with `Retry-After`.
    pub requests_at_once: usize,
    /// An order waiting this long in the manual queue is at risk (amber).
    pub sla_at_risk_minutes: f64,
    /// An order waiting this long has broken the service level (red).
    pub sla_breach_minutes: f64,
    /// A claim held this long shows as stale in the queue (an admin may take it over).
    pub claim_stale_minutes: u32,
    /// `worker` processes whose upstream calls the upstream panel adds to this process's
    /// own: each one's `http://host:port/upstreams` (its `metrics.upstreams_listen`).
    pub worker_upstreams: Vec<String>,
    /// Large orders' shorter service level (`[dashboard.sla_large]`).
    pub sla_large: SlaLargeSettings,
}

/// `[dashboard.sla_large]`: orders of at least `from`'s amount in their currency (major
/// units: `USD = 5000` is 5,000.00 USD) are at risk after `at_risk_minutes` and past the
/// service level after `breach_minutes`. No `from`: amounts do not weigh.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaLargeSettings {
    pub at_risk_minutes: f64,
    pub breach_minutes: f64,
    pub from: std::collections::BTreeMap<String, i64>,
}

impl Default for SlaLargeSettings {
    fn default() -> Self {
        SlaLargeSettings {
            at_risk_minutes: 10.0,
            breach_minutes: 30.0,
            from: Default::default(),
        }
    }
}

/// Longest service level: a week.
const MAX_SLA_MINUTES: f64 = 7.0 * 24.0 * 60.0;

/// Minutes (fractions allowed: 0.25 is 15 s) as whole seconds; 0 for anything not
/// between 0 and a week, which the checks then refuse.
fn seconds(minutes: f64) -> u32 {
    match minutes.is_finite() && minutes > 0.0 && minutes <= MAX_SLA_MINUTES {
        true => (minutes * 60.0).round() as u32,
        false => 0,
    }
}

impl DashboardSettings {
    /// The service level the queue, its counts and the metrics read ages against.
    pub fn service_level(&self) -> Result<ServiceLevel, ConfigError> {
        use crate::domain::listing::{LargeFrom, LargeOrders};
        let mut sla = ServiceLevel {
            at_risk_secs: seconds(self.sla_at_risk_minutes),
            breach_secs: seconds(self.sla_breach_minutes),
            stale_claim_mins: self.claim_stale_minutes,
            large: LargeOrders::default(),
        };
        if sla.at_risk_secs == 0 || sla.breach_secs <= sla.at_risk_secs {
            return Err(ConfigError::Value(
                "dashboard.sla_at_risk_minutes must be above zero and below sla_breach_minutes \
                 (a week at most)"
                    .into(),
            ));
        }
        let large = &self.sla_large;
        if large.from.is_empty() {
            return Ok(sla);
        }
        let (at_risk_secs, breach_secs) = (
            seconds(large.at_risk_minutes),
            seconds(large.breach_minutes),
        );
        if at_risk_secs == 0 || breach_secs <= at_risk_secs || breach_secs > sla.breach_secs {
            return Err(ConfigError::Value(
                "dashboard.sla_large: at_risk_minutes must be above zero and below \
                 breach_minutes, and breach_minutes at most dashboard.sla_breach_minutes"
                    .into(),
            ));
        }
        let max = crate::domain::money::MAX_ORDER_AMOUNT_MAJOR;
        let mut from = Vec::new();
        for (currency, major) in &large.from {
            let exponent = crate::domain::money::minor_units(currency).ok_or_else(|| {
                ConfigError::Value(format!(
                    "dashboard.sla_large.from: {currency:?} is not an ISO 4217 currency code"
                ))
            })?;
            if *major <= 0 || *major > max {
                return Err(ConfigError::Value(format!(
                    "dashboard.sla_large.from: {currency}'s amount must be above zero and at most {max}"
                )));
            }
            from.push(LargeFrom {
                currency: currency.clone(),
                exponent,
                minor: major * 10i64.pow(exponent),
            });
        }
        sla.large = LargeOrders {
            at_risk_secs,
            breach_secs,
            from,
        };
        Ok(sla)
    }
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            listen: "127.0.0.1:3000".into(),
            allowed_hosts: Vec::new(),
            requests_at_once: crate::web::guard::DEFAULT_REQUESTS_AT_ONCE,
            sla_at_risk_minutes: f64::from(ServiceLevel::default().at_risk_secs) / 60.0,
            sla_breach_minutes: f64::from(ServiceLevel::default().breach_secs) / 60.0,
            claim_stale_minutes: ServiceLevel::default().stale_claim_mins,
            worker_upstreams: Vec::new(),
            sla_large: SlaLargeSettings::default(),
        }
    }
}

/// Why a configuration's text is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    #[error("{0}")]
    Input(#[from] crate::domain::input::InputError),
    #[error("{0}")]
    Simulator(#[from] crate::upstream::simulator::BehaviourError),
    #[error("{0}")]
    Value(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is invalid: {source}")]
    Invalid { path: PathBuf, source: ConfigError },
    #[error("{flag} {value:?} is not a host:port address")]
    Address { flag: &'static str, value: String },
    #[error(
        "no upstream is configured: set upstream.url (or --upstream-url) to the bank's address, \
         or upstream.simulate = true to run against the simulated bank"
    )]
    NoUpstream,
}

/// Where the bank or wallet is, by one rule for `serve` and `worker`: the flag, else
/// `upstream.url`, else the simulator at `upstream.simulator_listen` if `upstream.simulate`
/// asks for it; nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    Url(String),
    Simulator { listen: String },
}

/// Reads a `host:port` (names allowed); `flag` names where it came from in the error.
pub fn parse_addr(text: &str, flag: &'static str) -> Result<std::net::SocketAddr, SettingsError> {
    use std::net::ToSocketAddrs;
    text.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| SettingsError::Address {
            flag,
            value: text.to_string(),
        })
}

impl Settings {
    /// Reads `path`, or `Leptos.toml` if it exists, or the defaults.
    pub fn load(path: Option<&Path>) -> Result<Settings, SettingsError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_FILE).exists() => PathBuf::from(DEFAULT_FILE),
            None => return Ok(Settings::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::Read {
            path: path.clone(),
            source,
        })?;
        Settings::parse(&text).map_err(|source| SettingsError::Invalid { path, source })
    }

    pub fn parse(text: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = toml::from_str(text)?;
        settings.reconcile.policy().validate()?;
        settings.upstream.simulator.validate()?;
        let rps = settings.upstream.dispatch_rps;
        if rps.is_nan() || rps <= 0.0 {
            return Err(ConfigError::Value(
                "upstream.dispatch_rps must be above zero".into(),
            ));
        }
        let upstream = &settings.upstream;
        if upstream.simulate && !upstream.url.trim().is_empty() {
            return Err(ConfigError::Value(
                "upstream.url and upstream.simulate = true contradict each other: choose one"
                    .into(),
            ));
        }
        settings.approval.resolutions()?;
        settings.dashboard.service_level()?;
        if let Some(secs) = settings.metrics.watch_secs
            && !(1..=3_600).contains(&secs)
        {
            return Err(ConfigError::Value(format!(
                "metrics.watch_secs must be between 1 and 3600, not {secs}"
            )));
        }
        let threads = settings.worker.threads;
        if !(1..=MAX_WORKER_THREADS).contains(&threads) {
            return Err(ConfigError::Value(format!(
                "worker.threads must be between 1 and {MAX_WORKER_THREADS}, not {threads}"
            )));
        }
        let auth = &settings.auth;
        if auth.idle_minutes == 0 || auth.lifetime_hours == 0 {
            return Err(ConfigError::Value(
                "auth.idle_minutes and auth.lifetime_hours must be above zero".into(),
            ));
        }
        if auth.mode == AuthModeSetting::Oidc && auth.oidc.is_none() {
            return Err(ConfigError::Value(
                "auth.mode = \"oidc\" needs [auth.oidc] with issuer_url, client_id and \
                 redirect_url"
                    .into(),
            ));
        }
        if settings.production && auth.mode == AuthModeSetting::None {
            return Err(ConfigError::Value(
                "production = true refuses auth.mode = \"none\": people must sign in".into(),
            ));
        }
        if settings.production && !auth.secure_cookies {
            return Err(ConfigError::Value(
                "production = true needs auth.secure_cookies = true: the session cookie must \
                 travel over TLS only (behind a TLS proxy too: the browser speaks https to it)"
                    .into(),
            ));
        }
        if let Some(oidc) = &auth.oidc
            && !(oidc.roles_minutes.is_finite() && oidc.roles_minutes > 0.0)
        {
            return Err(ConfigError::Value(
                "auth.oidc.roles_minutes must be above zero".into(),
            ));
        }
        if auth.lifetime_hours > MAX_LIFETIME_HOURS {
            return Err(ConfigError::Value(format!(
                "auth.lifetime_hours must be at most {MAX_LIFETIME_HOURS} (a week)"
            )));
        }
        if upstream.simulate && settings.production {
            return Err(ConfigError::Value(
                "production = true refuses upstream.simulate: real orders must reach the real \
                 bank"
                    .into(),
            ));
        }
        // Only checkable when we run the simulator; a real upstream's limit is its own.
        if settings.upstream.simulate
            && rps * 2.0 > f64::from(settings.upstream.simulator.rps_limit)
        {
            return Err(ConfigError::Value(format!(
                "upstream.dispatch_rps {rps} is over half the simulator's rps_limit {}: \
                 Temporal's limiter can burst to twice its rate within a second",
                settings.upstream.simulator.rps_limit
            )));
        }
        Ok(settings)
    }

    /// Where the upstream is (see [`Upstream`]); `flag` is `--upstream-url`.
    pub fn upstream(&self, flag: Option<String>) -> Result<Upstream, SettingsError> {
        let url = flag.unwrap_or_else(|| self.upstream.url.clone());
        match url.trim() {
            "" if self.upstream.simulate => Ok(Upstream::Simulator {
                listen: self.upstream.simulator_listen.clone(),
            }),
            "" => Err(SettingsError::NoUpstream),
            url => Ok(Upstream::Url(url.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_leptos_toml_is_valid() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"))
            .expect("Leptos.toml ships with the crate");
        let settings = Settings::parse(&text).expect("valid");
        assert!(
            settings.upstream.dispatch_rps * 2.0 <= settings.upstream.simulator.rps_limit as f64
        );
    }

    #[test]
    fn worker_threads_are_one_by_default_and_refused_outside_their_bounds() {
        let read = |text: &str| Settings::parse(text).map(|s| s.worker.threads);
        assert_eq!(read("").unwrap(), 1);
        assert_eq!(read("[worker]\nthreads = 4\n").unwrap(), 4);
        for bad in [0, MAX_WORKER_THREADS + 1] {
            let err = read(&format!("[worker]\nthreads = {bad}\n")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("worker.threads must be between 1 and {MAX_WORKER_THREADS}, not {bad}")
            );
        }
    }

    #[test]
    fn grpc_compression_is_none_gzip_or_refused_with_the_choices() {
        use crate::temporal::connection::Compression;
        let read = |text: &str| Settings::parse(text).map(|s| s.temporal.grpc_compression);
        assert_eq!(read("").unwrap(), Compression::None);
        assert_eq!(
            read("[temporal]\ngrpc_compression = \"gzip\"\n").unwrap(),
            Compression::Gzip
        );
        let err = read("[temporal]\ngrpc_compression = \"zstd\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("none") && err.contains("gzip"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Settings::parse("[reconcile]\nattempt = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("attempt"), "{err}");
    }

    #[test]
    fn a_dispatch_rate_that_could_burst_over_the_limit_is_refused() {
        let err = Settings::parse(
            "[upstream]\nsimulate = true\ndispatch_rps = 30.0\n[upstream.simulator]\nrps_limit = 50\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("half"), "{err}");
    }

    #[test]
    fn the_simulated_upstream_must_be_chosen_and_never_in_production() {
        let none = Settings::parse("").unwrap();
        assert!(matches!(
            none.upstream(None),
            Err(SettingsError::NoUpstream)
        ));
        let bank = none.upstream(Some("https://bank.example".into())).unwrap();
        assert_eq!(bank, Upstream::Url("https://bank.example".into()));
        let demo = Settings::parse("[upstream]\nsimulate = true\n").unwrap();
        assert!(matches!(
            demo.upstream(None),
            Ok(Upstream::Simulator { .. })
        ));
        let err = Settings::parse("production = true\n[upstream]\nsimulate = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("production"), "{err}");
        let err = Settings::parse("[upstream]\nsimulate = true\nurl = \"http://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose one"), "{err}");
    }

    #[test]
    fn a_zero_attempt_policy_is_refused() {
        let err = Settings::parse("[reconcile]\nattempts = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("attempts"), "{err}");
    }

    #[test]
    fn large_orders_thresholds_are_read_in_each_currencys_own_units_and_bad_ones_refused() {
        let settings = Settings::parse(
            "[dashboard.sla_large]\nat_risk_minutes = 5\nbreach_minutes = 15\nfrom = { USD = 5000, JPY = 750000 }\n",
        )
        .unwrap();
        let sla = settings.dashboard.service_level().unwrap();
        let minor: Vec<_> = sla
            .large
            .from
            .iter()
            .map(|f| (f.currency.as_str(), f.minor))
            .collect();
        assert_eq!(minor, [("JPY", 750_000), ("USD", 500_000)]);
        for (bad, says) in [
            ("from = { XYZ = 5 }", "XYZ"),
            ("from = { USD = 0 }", "above zero"),
            ("breach_minutes = 500\nfrom = { USD = 5 }", "at most"),
            (
                "at_risk_minutes = 20\nbreach_minutes = 20\nfrom = { USD = 5 }",
                "below",
            ),
        ] {
            let err = Settings::parse(&format!("[dashboard.sla_large]\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let err = Settings::parse("[metrics]\nwatch_secs = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("watch_secs"), "{err}");
    }
}
