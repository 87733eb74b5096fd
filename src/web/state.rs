//! What every request of the dashboard reaches: the Temporal client and a few settings.
//! Stateless: Temporal holds the state, so replicas share nothing.

use axum::extract::FromRef;
use leptos::prelude::{LeptosOptions, use_context};
use temporalio_client::{Client, NamespacedClient};

use super::{
    auth::AuthConfig,
    error::AppError,
    guard::{AllowedHosts, RequestBudget},
    live::hub::LiveHub,
};
use crate::{
    domain::contract::ContractLimits,
    domain::listing::ServiceLevel,
    domain::order::{DEFAULT_FOUR_EYES, ReconcilePolicy, Resolution},
    operations::lane::TemporalUi,
    upstream::simulator::SimulatedUpstream,
};

/// What the dashboard is told by its configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Temporal's web UI, for links to executions.
    pub temporal_ui_url: String,
    /// How orders started from the dashboard are reconciled.
    pub policy: ReconcilePolicy,
    /// Bounds on new recurring contracts.
    pub contract_limits: ContractLimits,
    /// The `Host` names (with or without port) the dashboard answers to; empty: loopback
    /// names only. Anything else is refused (DNS rebinding).
    pub allowed_hosts: AllowedHosts,
    /// Requests worked on at once.
    pub budget: RequestBudget,
    /// How people sign in, and their sessions.
    pub auth: AuthConfig,
    /// Resolutions that need a second person's approval.
    pub four_eyes: Vec<Resolution>,
    /// How statements are read and matched (`[statements]`).
    pub statements: crate::operations::statements::StatementSettings,
    /// How long an order may wait in the manual queue.
    pub service_level: ServiceLevel,
    /// Upstream calls a second Temporal dispatches (shown against the upstream's calls).
    pub dispatch_rps: f64,
    /// Workers in other processes whose upstream tallies the panel adds (their
    /// `/upstreams` addresses).
    pub worker_upstreams: Vec<String>,
    /// How often the watch reads what waits for the board and the metrics.
    pub watch_every: std::time::Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            temporal_ui_url: crate::temporal::connection::DEFAULT_UI_URL.into(),
            policy: ReconcilePolicy::default(),
            contract_limits: ContractLimits::default(),
            allowed_hosts: AllowedHosts::default(),
            budget: RequestBudget::default(),
            auth: AuthConfig::default(),
            four_eyes: DEFAULT_FOUR_EYES.to_vec(),
            statements: Default::default(),
            service_level: ServiceLevel::default(),
            dispatch_rps: 25.0,
            worker_upstreams: Vec::new(),
            watch_every: super::live::watch::DEFAULT_WATCH_EVERY,
        }
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub client: Client,
    pub leptos_options: LeptosOptions,
    /// Temporal's web UI, for links to executions.
    pub temporal_ui: TemporalUi,
    /// The in-process simulator, when this process runs one.
    pub simulator: Option<SimulatedUpstream>,
    /// How orders started from the dashboard are reconciled.
    pub policy: ReconcilePolicy,
    /// Bounds on new recurring contracts.
    pub contract_limits: ContractLimits,
    /// The `Host` names the dashboard answers to.
    pub allowed_hosts: AllowedHosts,
    /// Requests worked on at once.
    pub budget: RequestBudget,
    /// The one poller behind every live page.
    pub live: LiveHub,
    /// How people sign in, and their sessions.
    pub auth: AuthConfig,
    /// Resolutions that need a second person's approval.
    pub four_eyes: Vec<Resolution>,
    /// How long an order may wait in the manual queue.
    pub service_level: ServiceLevel,
    /// The last readiness answer, shared by every probe.
    pub readiness: super::health::ReadinessCache,
    /// The last ageing board, shared by every queue page.
    pub board: super::live::board::BoardCache,
    /// How statements are read and matched.
    pub statements: crate::operations::statements::StatementSettings,
    /// How often the watch reads what waits.
    pub watch_every: std::time::Duration,
}

impl AppState {
    pub fn new(
        client: Client,
        leptos_options: LeptosOptions,
        simulator: Option<SimulatedUpstream>,
        config: WebConfig,
    ) -> Self {
        // What the console sends Temporal records the console as its channel.
        let client = crate::temporal::connection::speaking_as(
            &client,
            crate::temporal::connection::Channel::Console,
        );
        let live = LiveHub::new();
        live.set_dispatch_limit(config.dispatch_rps);
        live.add_worker_upstreams(config.worker_upstreams);
        AppState {
            temporal_ui: TemporalUi {
                url: config.temporal_ui_url,
                namespace: client.namespace(),
            },
            client,
            leptos_options,
            simulator,
            policy: config.policy,
            contract_limits: config.contract_limits,
            allowed_hosts: config.allowed_hosts,
            budget: config.budget,
            live,
            auth: config.auth,
            four_eyes: config.four_eyes,
            statements: config.statements,
            service_level: config.service_level,
            readiness: Default::default(),
            board: Default::default(),
            watch_every: config.watch_every,
        }
    }

    /// Starts what runs beside the requests, on this state's client: the live page's one
    /// poller, the watch on what waits (board and gauges), and the reader of the ended
    /// sessions, once the list of ended sessions is begun (before any sign-in here).
    pub async fn start_live_poller(&self) {
        super::auth::revocations::RevocationList::begin(&self.client).await;
        self.live
            .spawn_poller(self.client.clone(), self.simulator.clone());
        super::live::watch::Watch {
            client: self.client.clone(),
            service_level: self.service_level.clone(),
            board: self.board.clone(),
            readiness: self.readiness.clone(),
            live: self.live.clone(),
            every: self.watch_every,
        }
        .spawn();
        self.auth.revocations.spawn_refresher(self.client.clone());
    }
}

/// The state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::bug("the request has no application state"))
}
