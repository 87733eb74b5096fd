//! `serve`: the dashboard's HTTP server, with an embedded worker and, when asked for, the
//! simulated upstream. It takes a resolved [`ServeConfig`]; `cli` builds one.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use futures::Stream;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::{convert::Infallible, net::SocketAddr};

use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use super::{
    app::{App, shell},
    auth::{Backend, auth_layers, check},
    guard::{guard, within_budget},
    live::LiveSnapshot,
    state::{AppState, WebConfig},
};
use crate::{
    signals::stop_requested,
    simulated_upstream::{SimulatedUpstream, UpstreamBehaviour},
    telemetry::{self, TelemetryError},
    temporal::{TemporalError, connection, readiness, search_attributes},
    worker::{self, WorkerConfig, WorkerError},
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
    telemetry::init(config.metrics_listen)?;
    let client = connection::connect(&config.connect).await?;
    search_attributes::register_when_ready(&client).await?;
    let (upstream_url, simulator) = upstream(config.upstream).await?;
    let workers = match config.embedded_worker {
        true => Some(worker::start(
            client.clone(),
            WorkerConfig::all_queues(upstream_url.clone(), config.dispatch_rps),
        )?),
        false => None,
    };

    let mut leptos_options = leptos_options()?;
    leptos_options.site_addr = config.listen;
    let state = AppState::new(client, leptos_options, simulator, config.web);
    state.start_live_poller();

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
        .nest_service("/pkg", assets.with_state(state.clone()))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/api/live", get(live_events))
        .route("/audit.csv", get(audit_csv))
        .route("/contracts.csv", get(contracts_csv))
        .route("/auth/oidc", get(super::auth::oidc::start))
        .route("/auth/callback", get(super::auth::oidc::callback))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    auth_layers(routes, &auth)
        // Pages, server functions and exports compressed as the browser accepts (the live
        // stream is not: tower-http leaves `text/event-stream` alone); `/pkg` answers
        // with its precompressed files, which this layer passes through.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .layer(axum::middleware::from_fn_with_state(budget, within_budget))
        .layer(axum::middleware::from_fn(timed))
        .layer(axum::middleware::from_fn_with_state(hosts, guard))
        // Every request gets an id (or keeps the proxy's), logs under it, and answers with it.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
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

/// `/pkg` (the WASM, its JavaScript and the CSS), brotli or gzip as the browser accepts:
/// the files `cargo leptos build --release --precompress` made, else compressed on the fly
/// by the router's compression layer. A file whose name carries its content's hash
/// (`hash-files`) is cached for a year and never revalidated; any other is revalidated by
/// `Last-Modified` on each use.
fn assets(options: &LeptosOptions) -> axum::routing::MethodRouter<AppState> {
    use axum::http::{HeaderValue, header::CACHE_CONTROL};
    use tower_http::services::ServeDir;
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let output_name = options.output_name.clone();
    let cache = axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let hashed = is_hashed_asset(request.uri().path(), &output_name);
            async move {
                let mut response = next.run(request).await;
                let policy = match hashed && response.status().is_success() {
                    true => ASSET_IMMUTABLE,
                    false => "no-cache",
                };
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
                response
            }
        },
    );
    axum::routing::get_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(cache)
}

/// How long a browser keeps an asset whose name carries its hash: a year, unrevalidated
/// (a new build has new names).
const ASSET_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether `path` (under `/pkg`) names a hashed asset, `<output>.<hash>.<ext>`, as
/// cargo-leptos's `hash-files` writes them.
fn is_hashed_asset(path: &str, output_name: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    file.strip_prefix(output_name)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(hash, ext)| !hash.is_empty() && !ext.is_empty())
}

/// The span a request logs under: method, path and its id.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id
    )
}

/// The process's metrics registry, in Prometheus's text format.
async fn metrics() -> Response {
    match telemetry::scrape().await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics are not available").into_response()
        }
    }
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
    telemetry::page(section, started.elapsed());
    response
}

/// 200 with the pollers per queue when Temporal answers and every queue has a worker;
/// 503 otherwise, saying what is missing.
async fn ready(State(state): State<AppState>) -> Response {
    match readiness::check(&state.client).await {
        Ok(r) if r.ready() => (StatusCode::OK, Json(r)).into_response(),
        Ok(r) => (StatusCode::SERVICE_UNAVAILABLE, Json(r)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: Temporal did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "Temporal did not answer").into_response()
        }
    }
}

/// A refusal outside a server function: its status and its sentence.
fn refusal(refused: super::error::AppError) -> Response {
    let status = StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, refused.to_string()).into_response()
}

/// A CSV download named `file`.
fn csv(file: &'static str, text: String) -> Response {
    let disposition = format!("attachment; filename=\"{file}\"");
    let mut response = (
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        text,
    )
        .into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Every contract and its terms as CSV, for whoever may read the contracts.
async fn contracts_csv(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    if let Err(refused) = check(
        who,
        crate::access::Action::Read,
        &super::auth::origin_of(&request),
    ) {
        return refusal(refused);
    }
    match crate::operations::contracts::all_details(&state.client).await {
        Ok(details) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"contracts.csv\"",
                ),
            ],
            crate::contracts::contracts_csv(&details),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "contracts export failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporal did not answer: try again in a moment",
            )
                .into_response()
        }
    }
}

/// The audit trail as CSV (finance and admin), filtered as the audit page's address says.
async fn audit_csv(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    axum::extract::Query(filter): axum::extract::Query<crate::audit::AuditFilter>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    let origin = super::auth::origin_of(&request);
    let person = match check(who, crate::access::Action::Audit, &origin) {
        Ok(p) => p,
        Err(refused) => return refusal(refused),
    };
    match crate::operations::audit::export(&state.client, &filter).await {
        Ok((entries, cut)) => {
            tracing::info!(target: "audit", actor = %person.name, action = "audit-export", %origin, rows = entries.len(), outcome = "ok");
            let mut text = crate::audit::to_csv(&entries);
            if cut {
                text.push_str(&format!(
                    "\"(stopped at {} orders: narrow the filter)\",,,,,\r\n",
                    crate::operations::audit::MAX_EXPORT_ORDERS
                ));
            }
            csv("audit.csv", text)
        }
        Err(crate::operations::OpError::Invalid(e)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "audit export failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporal did not answer: try again in a moment",
            )
                .into_response()
        }
    }
}

/// Server-sent events: every snapshot the one poller takes, to every open live page,
/// until the server stops. Past the hub's cap, 503 until some close.
async fn live_events(
    State(state): State<AppState>,
    auth: axum_login::AuthSession<Backend>,
    request: axum::http::request::Parts,
) -> Response {
    let who = auth.user.map(|u| u.signed_in());
    let origin = super::auth::origin_of(&request);
    if let Err(refused) = check(who, crate::access::Action::Read, &origin) {
        return refusal(refused);
    }
    if !state.live.has_room() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live pages are open: try again in a minute",
        )
            .into_response();
    }
    live_stream(state).into_response()
}

fn live_stream(state: AppState) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.live.sender.subscribe();
    let hub = state.live.clone();
    let stream = futures::stream::unfold((receiver, hub), |(mut rx, hub)| async move {
        tokio::select! {
            changed = rx.changed() => changed.ok()?,
            _ = hub.closed() => return None,
        }
        let snapshot: LiveSnapshot = rx.borrow_and_update().clone();
        let event = Event::default().json_data(&snapshot).unwrap_or_default();
        Some((Ok(event), (rx, hub)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn only_names_with_a_hash_are_cached_for_good() {
        let out = "temporal-playground";
        assert!(is_hashed_asset("/temporal-playground.x3Fq_9-Ab.wasm", out));
        assert!(is_hashed_asset("/temporal-playground.x3Fq_9-Ab.css", out));
        assert!(!is_hashed_asset("/temporal-playground.wasm", out));
        assert!(!is_hashed_asset("/temporal-playground_bg.wasm", out));
        assert!(!is_hashed_asset("/temporal-playground..wasm", out));
        assert!(!is_hashed_asset("/other.x3Fq.wasm", out));
    }
}
