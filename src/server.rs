//! `serve`: the dashboard, with an embedded worker and the simulated upstream.

use axum::{
    Router,
    extract::{FromRef, State},
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
};
use futures::Stream;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::convert::Infallible;
use temporalio_client::Client;

use crate::{
    app::{App, shell},
    cli::{CliError, ServeArgs, namespace::register_search_attributes, parse_addr},
    pages::live_flow::{LiveSnapshot, hub::LiveHub},
    settings::Settings,
    simulated_upstream::SimulatedUpstream,
    temporal::connection::{ConnectArgs, connect},
    worker::{self, WorkerConfig},
};

/// What server functions reach through Leptos context. Stateless: Temporal holds the state.
#[derive(Clone)]
pub struct AppState {
    pub client: Client,
    pub leptos_options: LeptosOptions,
    /// Temporal's web UI, for links to executions.
    pub temporal_ui: String,
    pub namespace: String,
    /// The in-process simulator, when this process runs one.
    pub simulator: Option<SimulatedUpstream>,
    /// How orders started from the dashboard are reconciled.
    pub policy: crate::orders::ReconcilePolicy,
    /// The one poller behind every live page.
    pub live: LiveHub,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub async fn serve(
    settings: &Settings,
    connect_args: &ConnectArgs,
    args: ServeArgs,
) -> Result<(), CliError> {
    let client = connect(connect_args).await?;
    register_search_attributes(&client).await?;

    let configured_url = args
        .upstream_url
        .clone()
        .unwrap_or_else(|| settings.upstream.url.clone());
    let (upstream_url, simulator) = if configured_url.is_empty() {
        let sim = SimulatedUpstream::new(settings.upstream.simulator.clone());
        let addr = parse_addr(
            &settings.upstream.simulator_listen,
            "upstream.simulator_listen",
        )?;
        let bound = sim.clone().serve(addr).await?;
        (format!("http://{bound}"), Some(sim))
    } else {
        (configured_url, None)
    };

    let workers = if args.no_worker {
        None
    } else {
        Some(worker::start(
            client.clone(),
            WorkerConfig::all_queues(upstream_url.clone(), settings.upstream.dispatch_rps),
        )?)
    };

    let conf = get_configuration(
        std::path::Path::new("Cargo.toml")
            .exists()
            .then_some("Cargo.toml"),
    )
    .map_err(|e| CliError::Usage(format!("the Leptos configuration is invalid: {e}")))?;
    let mut leptos_options = conf.leptos_options;
    let listen = args
        .listen
        .or_else(|| std::env::var("LEPTOS_SITE_ADDR").ok())
        .unwrap_or_else(|| settings.dashboard.listen.clone());
    leptos_options.site_addr = parse_addr(&listen, "--listen")?;

    let state = AppState {
        namespace: client.namespace_name(),
        client,
        leptos_options: leptos_options.clone(),
        temporal_ui: settings
            .temporal
            .ui_url
            .clone()
            .unwrap_or_else(|| "http://localhost:8233".into()),
        simulator,
        policy: settings.reconcile.policy(),
        live: LiveHub::new(),
    };
    state.live.spawn_poller(state.clone());
    let app = router(state);

    let listener = tokio::net::TcpListener::bind(leptos_options.site_addr).await?;
    let addr = listener.local_addr()?;
    println!("dashboard: http://{addr}");
    println!("upstream:  {upstream_url}");
    tracing::info!(%addr, %upstream_url, "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    if let Some(workers) = workers {
        workers.shutdown();
        tokio::task::spawn_blocking(move || workers.join())
            .await
            .map_err(|e| CliError::Usage(e.to_string()))??;
    }
    Ok(())
}

/// The dashboard's routes: pages, server functions, assets, `/healthz` and `/api/live`.
pub fn router(mut state: AppState) -> Router {
    // Pages fail fast to the outage banner instead of retrying for ten seconds.
    state.client = crate::temporal::connection::interactive(&state.client);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/live", get(live_events))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

/// Server-sent events: every snapshot the one poller takes, to every open live page.
async fn live_events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.live.sender.subscribe();
    let stream = futures::stream::unfold(receiver, |mut rx| async move {
        rx.changed().await.ok()?;
        let snapshot: LiveSnapshot = rx.borrow_and_update().clone();
        let event = Event::default().json_data(&snapshot).unwrap_or_default();
        Some((Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Extension so the namespace reads as a plain string.
trait NamespaceName {
    fn namespace_name(&self) -> String;
}

impl NamespaceName for Client {
    fn namespace_name(&self) -> String {
        use temporalio_client::NamespacedClient;
        self.namespace()
    }
}
