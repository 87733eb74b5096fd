//! What every request of the dashboard reaches: the Temporal client and a few settings.
//! Stateless: Temporal holds the state, so replicas share nothing.

use axum::extract::FromRef;
use leptos::prelude::{LeptosOptions, use_context};
use temporalio_client::{Client, NamespacedClient};

use super::{error::AppError, live::hub::LiveHub};
use crate::{
    contracts::ContractLimits, operations::lane::TemporalUi, orders::ReconcilePolicy,
    simulated_upstream::SimulatedUpstream,
};

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
    /// The one poller behind every live page.
    pub live: LiveHub,
}

impl AppState {
    pub fn new(
        client: Client,
        leptos_options: LeptosOptions,
        temporal_ui_url: String,
        simulator: Option<SimulatedUpstream>,
        policy: ReconcilePolicy,
        contract_limits: ContractLimits,
    ) -> Self {
        AppState {
            temporal_ui: TemporalUi {
                url: temporal_ui_url,
                namespace: client.namespace(),
            },
            client,
            leptos_options,
            simulator,
            policy,
            contract_limits,
            live: LiveHub::new(),
        }
    }

    /// Starts the live page's one poller, on this state's client.
    pub fn start_live_poller(&self) {
        self.live
            .spawn_poller(self.client.clone(), self.simulator.clone());
    }
}

/// The state, from inside a server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>()
        .ok_or_else(|| AppError::Internal("the request has no application state".into()))
}
