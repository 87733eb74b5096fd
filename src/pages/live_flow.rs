//! Live flow (presenters): the stages with live counts and orders per second, pushed by
//! server-sent events from one server-side poller (fifty browsers cost Temporal what one
//! does), and controls for simulated payments and the upstream's failure rate.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ErrorBanner, action_error};
use crate::orders::StageCounts;

/// A rate in tenths per second. The browser never formats or parses a float: that code
/// alone was about 30 KB of the WASM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tenths(pub u32);

impl Tenths {
    /// The nearest tenth; negative and non-finite rates are zero.
    pub fn from_rate(rate: f64) -> Tenths {
        if rate.is_finite() && rate > 0.0 {
            Tenths((rate * 10.0).round().min(u32::MAX as f64) as u32)
        } else {
            Tenths(0)
        }
    }

    pub fn as_rate(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// `12.5`, or `2.0` as `2` when `whole` is set.
    fn show(self, whole: bool) -> String {
        match (self.0 % 10, whole) {
            (0, true) => format!("{}", self.0 / 10),
            (tenth, _) => format!("{}.{tenth}", self.0 / 10),
        }
    }
}

/// What every open browser sees, once a second.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    pub counts: StageCounts,
    /// Orders resolved per second over the last poll.
    pub resolved_per_sec: Tenths,
    pub at: String,
    /// Simulated orders per second being started by this server, if any.
    pub simulating: Option<Tenths>,
    /// Percent of upstream queries that fail (5xx), when this server runs the simulator.
    pub upstream_failure_pct: Option<u32>,
}

#[cfg(feature = "ssr")]
pub mod hub {
    //! The one poller behind every live page.

    use super::*;
    use std::{
        sync::{
            Arc,
            atomic::{AtomicU64, Ordering},
        },
        time::{Duration, Instant},
    };
    use tokio::sync::{Mutex, watch};

    pub const POLL: Duration = Duration::from_secs(1);

    /// The simulated payments this server is starting: their rate and the task.
    pub type Simulation = Arc<Mutex<Option<(Tenths, tokio::task::JoinHandle<()>)>>>;

    /// Shared by all requests; holds no workflow state, only the last snapshot.
    #[derive(Clone)]
    pub struct LiveHub {
        pub sender: Arc<watch::Sender<LiveSnapshot>>,
        pub simulation: Simulation,
        /// Times the poller asked Temporal, whatever the number of listeners.
        polls: Arc<AtomicU64>,
    }

    impl LiveHub {
        pub fn new() -> Self {
            let (sender, _) = watch::channel(LiveSnapshot::default());
            LiveHub {
                sender: Arc::new(sender),
                simulation: Arc::new(Mutex::new(None)),
                polls: Arc::new(AtomicU64::new(0)),
            }
        }

        /// How many times the poller has asked Temporal since the hub was made.
        pub fn polls(&self) -> u64 {
            self.polls.load(Ordering::Relaxed)
        }

        /// Polls Temporal once a second while anyone listens.
        pub fn spawn_poller(&self, state: crate::server::AppState) {
            let hub = self.clone();
            tokio::spawn(async move {
                let mut last: Option<(usize, Instant)> = None;
                loop {
                    tokio::time::sleep(POLL).await;
                    if hub.sender.receiver_count() == 0 {
                        last = None;
                        continue;
                    }
                    hub.polls.fetch_add(1, Ordering::Relaxed);
                    match snapshot(&state, &hub, &mut last).await {
                        Ok(s) => {
                            hub.sender.send_replace(s);
                        }
                        Err(e) => tracing::warn!(error = %e, "live poll failed"),
                    }
                }
            });
        }
    }

    impl Default for LiveHub {
        fn default() -> Self {
            Self::new()
        }
    }

    pub async fn snapshot(
        state: &crate::server::AppState,
        hub: &LiveHub,
        last: &mut Option<(usize, Instant)>,
    ) -> Result<LiveSnapshot, String> {
        let counts = crate::temporal::orders::stage_counts(&state.client)
            .await
            .map_err(|e| e.to_string())?;
        let resolved = counts.resolved_paid + counts.resolved_failed + counts.resolved_other;
        let now = Instant::now();
        let resolved_per_sec = match *last {
            Some((before, at)) => Tenths::from_rate(
                resolved.saturating_sub(before) as f64
                    / now.duration_since(at).as_secs_f64().max(0.001),
            ),
            None => Tenths(0),
        };
        *last = Some((resolved, now));
        Ok(LiveSnapshot {
            counts,
            resolved_per_sec,
            at: crate::workflows::rfc3339(std::time::SystemTime::now()),
            simulating: hub.simulation.lock().await.as_ref().map(|(rate, _)| *rate),
            upstream_failure_pct: state
                .simulator
                .as_ref()
                .map(|s| s.behaviour().error_5xx_pct),
        })
    }
}

#[server]
pub async fn load_live_snapshot() -> Result<LiveSnapshot, ServerFnError> {
    let state = expect_context::<crate::server::AppState>();
    let mut last = None;
    hub::snapshot(&state, &state.live, &mut last)
        .await
        .map_err(|e| ServerFnError::new(format!("Temporal did not answer: {e}")))
}

/// Starts (`rate` > 0) or stops (`rate` = 0) simulated payments from this server.
#[server]
pub async fn simulate(rate: String) -> Result<(), ServerFnError> {
    super::operator::require_operator()?;
    // A string, parsed here: the browser then carries no float formatting code.
    let rate = match rate.trim().parse::<f64>() {
        Ok(r) if (0.0..=50.0).contains(&r) => Tenths::from_rate(r),
        _ => {
            return Err(ServerFnError::new(format!(
                "the rate must be a number of orders per second between 0 and 50, not {rate:?}"
            )));
        }
    };
    let state = expect_context::<crate::server::AppState>();
    let mut slot = state.live.simulation.lock().await;
    if let Some((_, task)) = slot.take() {
        task.abort();
    }
    if rate.0 > 0 {
        let client = state.client.clone();
        let policy = state.policy.clone();
        let task = tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(std::time::Duration::from_secs_f64(1.0 / rate.as_rate()));
            let mut n: u64 = 0;
            let run =
                crate::workflows::rfc3339(std::time::SystemTime::now()).replace([':', '-'], "");
            loop {
                tick.tick().await;
                n += 1;
                let order = crate::orders::OrderRequest {
                    order_id: format!("LIVE-{run}-{n}"),
                    provider: "simbank".into(),
                    business_unit: "payments".into(),
                    environment: "simulation".into(),
                    priority: 3,
                    policy: policy.clone(),
                };
                if let Err(e) = crate::temporal::orders::start_order(&client, order).await {
                    tracing::warn!(error = %e, "simulated order not started");
                }
            }
        });
        *slot = Some((rate, task));
    }
    Ok(())
}

/// Sets the share of upstream queries that fail, on this server's simulator.
#[server]
pub async fn set_failure_rate(percent: u32) -> Result<(), ServerFnError> {
    super::operator::require_operator()?;
    let state = expect_context::<crate::server::AppState>();
    let sim = state.simulator.as_ref().ok_or_else(|| {
        ServerFnError::new("this server talks to a real upstream: its failures are its own")
    })?;
    let mut behaviour = sim.behaviour();
    if percent + behaviour.throttle_pct + behaviour.timeout_pct > 100 {
        return Err(ServerFnError::new(
            "the failure rate must be between 0 and 100 percent",
        ));
    }
    behaviour.error_5xx_pct = percent;
    sim.set_behaviour(behaviour).map_err(ServerFnError::new)
}

#[component]
pub fn LiveFlowPage() -> impl IntoView {
    let sim = ServerAction::<Simulate>::new();
    let fail = ServerAction::<SetFailureRate>::new();
    let initial = Resource::new(
        move || (sim.version().get(), fail.version().get()),
        |_| load_live_snapshot(),
    );
    let live: RwSignal<Option<LiveSnapshot>> = RwSignal::new(None);

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::{JsCast, closure::Closure};
        let Ok(source) = web_sys::EventSource::new("/api/live") else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if let Some(text) = event.data().as_string()
                    && let Ok(snapshot) = serde_json::from_str::<LiveSnapshot>(&text)
                {
                    live.set(Some(snapshot));
                }
            },
        );
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });

    view! {
        <h1 class="text-2xl font-bold mb-3">"Live flow"</h1>
        {action_error(sim.value())}
        {action_error(fail.value())}
        <Suspense fallback=|| view! { <p role="status">"Loading counts from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorBanner errors /> }>
                {move || Suspend::new(async move {
                    initial.await.map(|first| {
                        let current = move || live.get().unwrap_or_else(|| first.clone());
                        view! { <Flow current=Signal::derive(current) sim fail /> }
                    })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn Flow(
    current: Signal<LiveSnapshot>,
    sim: ServerAction<Simulate>,
    fail: ServerAction<SetFailureRate>,
) -> impl IntoView {
    let stage = move |name: &'static str, label: &'static str, n: fn(&StageCounts) -> usize| {
        view! {
            <div class="bg-white rounded shadow p-4 text-center min-w-28" data-stage=name>
                <div class="text-sm text-slate-500">{label}</div>
                <div class="text-3xl font-bold" data-testid=format!("live-{name}")>{move || n(&current.get().counts)}</div>
            </div>
        }
    };
    let arrow = || view! { <div aria-hidden="true" class="text-2xl text-slate-400 pt-6">"→"</div> };
    view! {
        <div class="flex flex-wrap gap-3 items-start mb-4" role="group" aria-label="Stages">
            {stage("querying", "Querying", |c| c.querying)}
            {arrow()}
            {stage("stale", "Stale", |c| c.stale)}
            {arrow()}
            {stage("manual", "Manual", |c| c.manual)}
            {arrow()}
            <div class="flex flex-col gap-2">
                {stage("paid", "Resolved · paid", |c| c.resolved_paid)}
                {stage("failed", "Resolved · failed", |c| c.resolved_failed)}
            </div>
        </div>
        <p class="mb-4">
            <span data-testid="rate">{move || current.get().resolved_per_sec.show(false)}</span> " orders/s resolved · updated "
            <time>{move || current.get().at}</time>
        </p>
        <div class="flex flex-wrap gap-4">
            <ActionForm action=sim attr:class="bg-white rounded shadow p-3 flex gap-2 items-end" attr:aria-label="Simulated payments">
                <label class="flex flex-col text-sm">"Simulated orders per second"
                    <input name="rate" type="number" min="0" max="50" step="0.5" value="2" class="border rounded px-2 py-1 w-24" />
                </label>
                <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white">"Start"</button>
                <span class="text-sm" data-testid="simulating">{move || match current.get().simulating {
                    Some(r) => format!("running at {}/s", r.show(true)),
                    None => "stopped".into(),
                }}</span>
            </ActionForm>
            <ActionForm action=sim attr:class="self-end">
                <input type="hidden" name="rate" value="0" />
                <button type="submit" class="px-3 py-1 rounded border">"Stop"</button>
            </ActionForm>
            {move || current.get().upstream_failure_pct.map(|pct| view! {
                <ActionForm action=fail attr:class="bg-white rounded shadow p-3 flex gap-2 items-end" attr:aria-label="Upstream failures">
                    <label class="flex flex-col text-sm">"Upstream failure %"
                        <input name="percent" type="number" min="0" max="97" value=pct.to_string() class="border rounded px-2 py-1 w-24" />
                    </label>
                    <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">"Set"</button>
                </ActionForm>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_show_in_tenths_without_floats_in_the_browser() {
        assert_eq!(Tenths::from_rate(2.0).show(true), "2");
        assert_eq!(Tenths::from_rate(2.0).show(false), "2.0");
        assert_eq!(Tenths::from_rate(0.5).show(true), "0.5");
        assert_eq!(Tenths::from_rate(12.34).show(false), "12.3");
        assert_eq!(Tenths::from_rate(f64::NAN), Tenths(0));
        assert_eq!(Tenths::from_rate(-3.0), Tenths(0));
    }
}
