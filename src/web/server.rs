//! `serve`: the console's HTTP server, with an embedded worker and, when asked for, the
//! simulated upstream. It takes a resolved [`ServeConfig`]; `cli` builds one. The routes
//! are here; what they answer lives beside: `assets`, `health`, `exports`, `live`,
//! `auth`, `pages`.

use axum::{Router, response::Response, routing::get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;

use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use super::{
    app::{App, shell},
    assets::assets,
    auth::auth_layers,
    exports,
    guard::{guard, within_budget},
    health, live,
    state::{AppState, WebConfig},
};
use crate::{
    runtime::signals::stop_requested,
    runtime::worker::{self, WorkerConfig, WorkerError},
    temporal::metrics::{self, TelemetryError},
    temporal::{TemporalError, connection, search_attributes},
    upstream::simulator::{SimulatedUpstream, UpstreamBehaviour},
};

/// Where the upstream is: a real one's base URL, or the simulator to run in-process.
#[derive(Debug, Clone)]
pub enum UpstreamChoice {
    Url(String),
    Simulated {
        listen: SocketAddr,
        behaviour: UpstreamBehaviour,
    },
}

/// Everything `serve` needs, resolved from flags, environment and configuration.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub connect: connection::ConnectArgs,
    pub listen: SocketAddr,
    pub upstream: UpstreamChoice,
    /// Upstream calls per second Temporal dispatches (for the embedded worker).
    pub dispatch_rps: f64,
    /// Run the workers in this process too.
    pub embedded_worker: bool,
    /// What the dashboard itself is told.
    pub web: WebConfig,
    /// Where this process's metrics exporter listens.
    pub metrics_listen: SocketAddr,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Temporal(#[from] TemporalError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error("the Leptos configuration is invalid: {0}")]
    Leptos(String),
    #[error("cannot serve on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the simulated upstream cannot listen on {addr}: {source}")]
    Simulator {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the dashboard stopped: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
}

/// Starts the simulator if the configuration asks for it; returns the upstream's URL.
async fn upstream(
    choice: UpstreamChoice,
) -> Result<(String, Option<SimulatedUpstream>), ServeError> {
    match choice {
        UpstreamChoice::Url(url) => Ok((url, None)),
        UpstreamChoice::Simulated { listen, behaviour } => {
            let sim = SimulatedUpstream::new(behaviour);
            let bound =
                sim.clone()
                    .serve(listen)
                    .await
                    .map_err(|source| ServeError::Simulator {
                        addr: listen,
                        source,
                    })?;
            Ok((format!("http://{bound}"), Some(sim)))
        }
    }
}

/// Serves the dashboard until Ctrl-C or SIGTERM, then stops the embedded workers.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    metrics::init(config.metrics_listen)?;
    let client = connection::connect(&config.connect).await?;
    search_attributes::register_when_ready(&client).await?;
    let (upstream_url, simulator) = upstream(config.upstream).await?;
    let workers = match config.embedded_worker {
        true => Some(worker::start(
            connection::speaking_as(&client, connection::Channel::Worker),
            WorkerConfig {
                contract_limits: config.web.contract_limits.clone(),
                statement_tolerance_minor: config.web.statements.rules().tolerance_minor,
                ..WorkerConfig::all_queues(upstream_url.clone(), config.dispatch_rps)
            },
        )?),
        false => None,
    };

    let mut leptos_options = leptos_options()?;
    leptos_options.site_addr = config.listen;
    let state = AppState::new(client, leptos_options, simulator, config.web);
    state.start_live_poller().await;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    println!("dashboard: http://{addr}");
    println!("upstream:  {upstream_url}");
    tracing::info!(%addr, %upstream_url, "serving");
    let hub = state.live.clone();
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            stop_requested().await;
            tracing::info!("stopping: closing live streams, finishing requests");
            hub.close();
        })
        .await
        .map_err(ServeError::Serve)?;
    if let Some(workers) = workers {
        workers.stop().await?;
    }
    Ok(())
}

/// The site's pages, listed once per process. Leptos lists them by rendering the app
/// with every resource of the process held back (`SuppressResourceLoad` raises one
/// process-wide flag while it walks the app): a page rendering at that moment never
/// loads its data and hangs until the request's time limit. `serve` builds one router
/// before it serves, but the tests run many consoles in one process, and a console
/// starting froze pages of another (a 408 after 30 s, about one run in twenty of the
/// sign-in tests, and once in CI). Listed once, before any console serves, nothing
/// serving is ever held back.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The dashboard's routes: pages, server functions, assets, `/healthz` (the process
/// answers), `/readyz` (Temporal answers and every task queue has workers) and `/api/live`.
pub fn router(mut state: AppState) -> Router {
    // Pages fail fast to the outage banner instead of retrying for ten seconds.
    state.client = connection::interactive(&state.client);
    let options = state.leptos_options.clone();
    let hosts = state.allowed_hosts.clone();
    let budget = state.budget.clone();
    let auth = state.auth.clone();
    let assets = assets(&state.leptos_options);
    let routes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(health::ready))
        .route("/api/live", get(live::stream::live_events))
        .route("/audit.csv", get(exports::audit_csv))
        .route("/contracts.csv", get(exports::contracts_csv))
        .route("/queue.csv", get(exports::queue_csv))
        .route("/statement.csv", get(exports::statement_csv))
        .route("/auth/oidc", get(super::auth::oidc::start))
        .route("/auth/callback", get(super::auth::oidc::callback))
        .leptos_routes_with_context(
            &state,
            route_list(),
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            super::guard::MAX_BODY_BYTES,
        ));
    // The one route with a larger body: a statement file.
    let uploads = Router::new()
        .route(
            "/statements/import",
            axum::routing::post(super::uploads::import_statement),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            super::uploads::MAX_UPLOAD_BYTES,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            super::uploads::MAX_UPLOAD_BYTES,
        ));
    auth_layers(routes.merge(uploads), &auth)
        // `/pkg` is the same for everyone and cached by anyone: it reads no session and
        // answers with no cookie (a shared cache must never keep someone's session).
        .nest_service("/pkg", assets.with_state(state.clone()))
        // Pages, server functions and exports compressed as the browser accepts (the live
        // stream is not: tower-http leaves `text/event-stream` alone); `/pkg` answers
        // with its precompressed files, which this layer passes through.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .layer(axum::middleware::from_fn(super::guard::within_time))
        .layer(axum::middleware::from_fn_with_state(budget, within_budget))
        .layer(axum::middleware::from_fn(timed))
        .layer(axum::middleware::from_fn_with_state(hosts, guard))
        // Every request gets an id (or keeps the proxy's), logs under it, and answers with it.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::from_fn(super::guard::sane_request_id))
        .with_state(state)
}

/// The site's options: `Cargo.toml`'s `[package.metadata.leptos]` when the server runs
/// from the source tree, else the `LEPTOS_*` environment. Hashed asset names are used
/// exactly when the build wrote its `hash.txt` beside this binary, so a binary without a
/// site build (a test's) names plain files instead of failing on each page.
pub fn leptos_options() -> Result<LeptosOptions, ServeError> {
    let cargo_toml = std::path::Path::new("Cargo.toml");
    let conf = get_configuration(cargo_toml.exists().then_some("Cargo.toml"))
        .map_err(|e| ServeError::Leptos(e.to_string()))?;
    let mut options = conf.leptos_options;
    let hash_file = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
    options.hash_files = hash_file.is_some_and(|file| file.exists());
    Ok(options)
}

/// The span a request logs under: method, path and its id.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // Debug-quoted: nothing a client sends can pass for another field of the line.
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = ?request.uri().path(),
        request_id = ?id
    )
}

/// Records how long each request took, by the section of the dashboard it asked for.
async fn timed(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let section = match request.uri().path().split('/').nth(1).unwrap_or_default() {
        "" => "queue",
        "orders" => "lane",
        "stale" => "stale",
        "contracts" => "contracts",
        "live" => "live",
        "api" => "api",
        "pkg" => "assets",
        _ => "other",
    };
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics::page(section, started.elapsed());
    response
}
