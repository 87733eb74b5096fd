//! Live flow (presenters): the stages with live counts and orders per second, pushed by
//! server-sent events from one server-side poller, and controls for simulated payments
//! and the upstream's failure rate.

use leptos::prelude::*;

use super::{Loading, action_error, own_error};
use crate::{
    domain::access::Action,
    domain::listing::{UpstreamHealth, UpstreamState},
    domain::order::{DEMO_STALE_WAIT_SECS, StageCounts},
    web::error::AppError,
    web::live::{LiveSnapshot, Tenths},
};

/// The fastest simulation the page starts, in orders per second.
pub const MAX_SIMULATED_RATE: f64 = 50.0;
/// Most simulated orders one start makes before it stops by itself (a presenter who
/// forgets the page leaves no endless stream of orders behind).
pub const MAX_SIMULATED_ORDERS: u64 = 5_000;

#[server]
pub async fn load_live_snapshot() -> Result<LiveSnapshot, AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    let simulator = state.simulator.as_ref();
    Ok(state.live.latest(&state.client, simulator).await?)
}

/// Starts (`rate` > 0) or stops (`rate` = 0) simulated payments from this server.
#[server]
pub async fn simulate(rate: String, #[server(default)] pace: String) -> Result<(), AppError> {
    crate::web::auth::require(crate::domain::access::Action::Simulate)?;
    // A string, parsed here: the browser then carries no float formatting code.
    let rate = match rate.trim().parse::<f64>() {
        Ok(r) if (0.0..=MAX_SIMULATED_RATE).contains(&r) => crate::web::live::Tenths::from_rate(r),
        _ => {
            return Err(AppError::Refused(format!(
                "the rate must be a number of orders per second between 0 and \
                 {MAX_SIMULATED_RATE}, not {rate:?}"
            )));
        }
    };
    let state = crate::web::state::app_state()?;
    // Simulated payments go to the simulated bank only: never to a real one.
    if state.simulator.is_none() && rate.0 > 0 {
        return Err(AppError::Refused(
            "this console talks to a real upstream: simulated payments are not started here".into(),
        ));
    }
    let (policy, demo) = match pace.as_str() {
        "" | "demo" => (crate::domain::order::ReconcilePolicy::demo(), true),
        "production" => (state.policy.clone(), false),
        other => {
            return Err(AppError::Refused(format!(
                "{:?} is not a pace: use demo or production",
                crate::domain::input::short(other)
            )));
        }
    };
    let client = state.client.clone();
    let template = crate::domain::order::OrderRequest {
        four_eyes: Some(state.four_eyes.clone()),
        ..crate::domain::order::OrderRequest::simulated(String::new(), policy)
    };
    let plan = crate::web::live::hub::Simulation {
        template,
        rate,
        demo,
        limit: MAX_SIMULATED_ORDERS,
    };
    state.live.simulate(client, plan).await;
    Ok(())
}

/// Sets the share of upstream queries that fail, on this server's simulator.
#[server]
pub async fn set_failure_rate(
    percent: u32,
    #[server(default)] kind: String,
) -> Result<(), AppError> {
    crate::web::auth::require(crate::domain::access::Action::Simulate)?;
    let state = crate::web::state::app_state()?;
    let sim = state.simulator.as_ref().ok_or_else(|| {
        AppError::Refused("this server talks to a real upstream: its failures are its own".into())
    })?;
    let mut behaviour = sim.behaviour();
    let throttling = match kind.as_str() {
        "" | "5xx" => false,
        "429" => true,
        other => {
            return Err(AppError::Refused(format!(
                "{:?} is not a failure kind: use 5xx or 429",
                crate::domain::input::short(other)
            )));
        }
    };
    let others = match throttling {
        true => behaviour.error_5xx_pct,
        false => behaviour.throttle_pct,
    }
    .saturating_add(behaviour.timeout_pct);
    if percent.saturating_add(others) > 100 {
        return Err(AppError::Refused(
            "the failure rate must be between 0 and 100 percent".into(),
        ));
    }
    match throttling {
        true => behaviour.throttle_pct = percent,
        false => behaviour.error_5xx_pct = percent,
    }
    sim.set_behaviour(behaviour)
        .map_err(|e| AppError::Refused(e.to_string()))
}

/// The latest snapshot the server pushed, once the browser listens.
fn live_snapshots() -> RwSignal<Option<LiveSnapshot>> {
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
    live
}

#[component]
pub fn LiveFlowPage() -> impl IntoView {
    // Read once: afterwards the pushed snapshots carry every change, the controls' own
    // included (within a second), so the diagram, the chart's history and what a person
    // typed are never rebuilt by an action.
    let initial = Resource::new(|| (), |_| load_live_snapshot());
    let may_simulate = super::page_session().may(Action::Simulate);
    // A plain post's refusal (before the page was live), from the address; the island
    // shows its own.
    let (sim, fail) = (
        ServerAction::<Simulate>::new(),
        ServerAction::<SetFailureRate>::new(),
    );
    view! {
        <h1 class="text-2xl font-bold mb-3">"Live flow"</h1>
        {action_error(sim.value())}
        {action_error(fail.value())}
        <Loading what="counts">
            {move || Suspend::new(async move {
                initial.await.map(|first| view! { <LiveFlow first may_simulate /> })
            })}
        </Loading>
    }
}

/// The page's live part (an island): the first snapshot from the server, then the pushed
/// ones; the simulation controls for a person allowed to simulate.
#[island(lazy)]
fn LiveFlow(first: LiveSnapshot, may_simulate: bool) -> impl IntoView {
    let sim = ServerAction::<Simulate>::new();
    let fail = ServerAction::<SetFailureRate>::new();
    let live = live_snapshots();
    let current = move || live.get().unwrap_or_else(|| first.clone());
    view! {
        {own_error(sim)}
        {own_error(fail)}
        <Flow current=Signal::derive(current) sim fail may_simulate />
    }
}

/// One stage's box with its live count.
#[component]
fn StageBox(
    current: Signal<LiveSnapshot>,
    name: &'static str,
    label: &'static str,
    count: fn(&StageCounts) -> usize,
    /// Where those orders are listed, for a presenter to open next.
    #[prop(optional)]
    list: Option<&'static str>,
) -> impl IntoView {
    let label = match list {
        Some(href) => view! { <a class="underline" href=href>{label}</a> }.into_any(),
        None => label.into_any(),
    };
    view! {
        <div class="bg-white rounded shadow p-4 text-center min-w-28" data-stage=name>
            <div class="text-sm text-slate-500">{label}</div>
            <div class="text-3xl font-bold" data-testid=format!("live-{name}")>
                {move || count(&current.get().counts)}
            </div>
        </div>
    }
}

/// An arrow between two stages; its dashes run while orders arrive at the stage it leads
/// to (that stage's count rose in the last snapshot).
#[component]
fn Arrow(moving: Signal<bool>) -> impl IntoView {
    view! {
        <div aria-hidden="true" class="flow-arrow pt-8 text-slate-400" data-flowing=move || moving.get().to_string()>
            <svg width="44" height="12" viewBox="0 0 44 12">
                <line x1="0" y1="6" x2="36" y2="6" stroke="currentColor" stroke-width="2" />
                <path d="M36 1 L44 6 L36 11 Z" fill="currentColor" />
            </svg>
        </div>
    }
}

/// Which stages orders arrived at between the two latest snapshots: stale, manual,
/// resolved (any resolution).
#[derive(Clone, Copy, Default, PartialEq)]
struct Arrivals {
    stale: bool,
    manual: bool,
    resolved: bool,
}

impl Arrivals {
    fn between(before: &StageCounts, now: &StageCounts) -> Self {
        let resolved = |c: &StageCounts| c.resolved_paid + c.resolved_failed + c.resolved_other;
        Arrivals {
            stale: now.stale > before.stale,
            manual: now.manual > before.manual,
            resolved: resolved(now) > resolved(before),
        }
    }
}

#[component]
fn Flow(
    current: Signal<LiveSnapshot>,
    sim: ServerAction<Simulate>,
    fail: ServerAction<SetFailureRate>,
    may_simulate: bool,
) -> impl IntoView {
    // The forms below render again only when the server's figure changes, not with every
    // snapshot: a person typing a new figure keeps what they typed until they submit.
    let failure_pct = Memo::new(move |_| current.get().upstream_failure_pct);
    let throttle_pct = Memo::new(move |_| current.get().upstream_throttle_pct);
    let arrivals = Memo::new(move |previous: Option<&(StageCounts, Arrivals)>| {
        let now = current.get().counts;
        let arrived = previous
            .map(|(before, _)| Arrivals::between(before, &now))
            .unwrap_or_default();
        (now, arrived)
    });
    let moving = |stage: fn(&Arrivals) -> bool| Signal::derive(move || stage(&arrivals.get().1));
    view! {
        <div class="flex flex-wrap gap-3 items-start mb-4" role="group" aria-label="Stages">
            <StageBox current name="querying" label="Querying" count=|c| c.querying />
            <Arrow moving=moving(|a| a.stale) />
            <StageBox current name="stale" label="Stale" count=|c| c.stale list="/stale" />
            <Arrow moving=moving(|a| a.manual) />
            <StageBox current name="manual" label="Manual" count=|c| c.manual list="/" />
            <Arrow moving=moving(|a| a.resolved) />
            <div class="flex flex-col gap-2">
                <StageBox current name="paid" label="Resolved · paid" count=|c| c.resolved_paid />
                <StageBox current name="failed" label="Resolved · failed" count=|c| c.resolved_failed />
            </div>
        </div>
        <Chart current />
        <p class="mb-4">
            <span data-testid="rate">{move || current.get().resolved_per_sec.show(false)}</span>
            " orders/s resolved · updated "
            <time datetime=move || current.get().at title=move || current.get().at>
                {move || current.get().at.get(11..19).map(|t| format!("{t} UTC")).unwrap_or_default()}
            </time>
        </p>
        {may_simulate.then(|| view! {
            <div class="flex flex-wrap gap-4">
                <SimulationControls current sim />
                {move || failure_pct.get().map(|pct| view! { <FailureRate pct fail kind="5xx" label="Upstream failure %" button="Set failures" /> })}
                {move || throttle_pct.get().map(|pct| view! { <FailureRate pct fail kind="429" label="Upstream throttling % (429)" button="Set throttling" /> })}
            </div>
        })}
        <UpstreamPanel current />
    }
}

#[component]
fn SimulationControls(current: Signal<LiveSnapshot>, sim: ServerAction<Simulate>) -> impl IntoView {
    let state = move || {
        let now = current.get();
        match (now.simulating, now.demo_pace) {
            (Some(r), true) => format!(
                "running at {}/s, demo pace (stale wait {DEMO_STALE_WAIT_SECS} s)",
                r.show(true)
            ),
            (Some(r), false) => format!("running at {}/s, production pace", r.show(true)),
            (None, _) => "stopped".into(),
        }
    };
    // One card: Start and Stop side by side (two forms, since forms do not nest).
    view! {
        <div class="bg-white rounded shadow p-3 flex flex-wrap gap-2 items-end">
        <ActionForm action=sim attr:data-live=super::live_marker() attr:class="flex gap-2 items-end" attr:aria-label="Simulated payments">
            <label class="flex flex-col text-sm">
                "Simulated orders per second"
                <input name="rate" type="number" min="0" max="50" step="0.5" value="2" class="border rounded px-2 py-1 w-24" />
            </label>
            <label class="flex flex-col text-sm">
                "Pace"
                <select name="pace" class="border rounded px-2 py-1">
                    <option value="demo" selected>{format!("demo: stale wait {DEMO_STALE_WAIT_SECS} s")}</option>
                    <option value="production">"production: the configured policy"</option>
                </select>
            </label>
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white">"Start"</button>
        </ActionForm>
        <ActionForm action=sim attr:aria-label="Stop simulated payments">
            <input type="hidden" name="rate" value="0" />
            <button type="submit" class="px-3 py-1 rounded border">"Stop"</button>
        </ActionForm>
        <span class="text-sm self-center" data-testid="simulating">{state}</span>
        </div>
    }
}

#[component]
fn FailureRate(
    pct: u32,
    fail: ServerAction<SetFailureRate>,
    kind: &'static str,
    label: &'static str,
    button: &'static str,
) -> impl IntoView {
    view! {
        <ActionForm action=fail attr:data-live=super::live_marker() attr:class="bg-white rounded shadow p-3 flex gap-2 items-end" attr:aria-label=button>
            <input type="hidden" name="kind" value=kind />
            <label class="flex flex-col text-sm">
                {label}
                <input name="percent" type="number" min="0" max="97" value=pct.to_string() class="border rounded px-2 py-1 w-24" />
            </label>
            <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">{button}</button>
        </ActionForm>
    }
}

/// Samples the chart keeps: five minutes of one-second snapshots.
const CHART_SAMPLES: usize = 300;
/// Where zero is drawn in the chart's 100 units of height.
const CHART_BASELINE: f64 = 97.0;

/// Orders a second coming in and resolutions a second, over the last minutes, drawn from
/// the snapshots this page receives (no request of its own).
#[component]
fn Chart(current: Signal<LiveSnapshot>) -> impl IntoView {
    // (seconds, orders seen in any stage, resolved per second)
    let samples: RwSignal<Vec<(i64, usize, f64)>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let now = current.get();
        let Some(at) = crate::domain::format::epoch_secs(&now.at) else {
            return;
        };
        let c = &now.counts;
        let seen = c.querying + c.stale + c.manual + c.resolved_paid + c.resolved_failed;
        samples.update(|s| {
            if s.last().is_some_and(|(t, _, _)| *t >= at) {
                return;
            }
            s.push((at, seen, now.resolved_per_sec.as_rate()));
            if s.len() > CHART_SAMPLES {
                s.remove(0);
            }
        });
    });
    let series = move || {
        let s = samples.get();
        let incoming: Vec<(i64, f64)> = s
            .windows(2)
            .map(|w| {
                let dt = (w[1].0 - w[0].0).max(1) as f64;
                (w[1].0, w[1].1.saturating_sub(w[0].1) as f64 / dt)
            })
            .collect();
        let resolved: Vec<(i64, f64)> = s.iter().skip(1).map(|(t, _, r)| (*t, *r)).collect();
        (incoming, resolved)
    };
    // The newest sample at the right edge, older ones to its left (as a clock's "now"
    // reads), zero on the baseline, where a 2-unit stroke shows whole.
    let path = move |points: Vec<(i64, f64)>, top: f64| -> String {
        let Some(last) = points.last().map(|p| p.0) else {
            return String::new();
        };
        points
            .iter()
            .map(|(t, v)| {
                let x = 600.0 - (last - t) as f64 * 600.0 / CHART_SAMPLES as f64;
                let y = CHART_BASELINE - (v / top).min(1.0) * (CHART_BASELINE - 4.0);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let top = move || {
        let (a, b) = series();
        a.iter()
            .chain(b.iter())
            .map(|p| p.1)
            .fold(1.0_f64, f64::max)
    };
    view! {
        <figure class="bg-white rounded shadow p-3 mb-4 max-w-3xl" data-testid="chart" data-points=move || samples.get().len()>
            <svg viewBox="0 0 600 100" class="w-full h-32" role="img" aria-label="Orders and resolutions per second, last 5 minutes">
                <line x1="0" y1=CHART_BASELINE x2="600" y2=CHART_BASELINE stroke="#cbd5e1" stroke-width="1" />
                <polyline fill="none" stroke="#1d4ed8" stroke-width="2" points=move || path(series().0, top()) />
                <polyline fill="none" stroke="#15803d" stroke-width="2" points=move || path(series().1, top()) />
            </svg>
            <figcaption class="text-xs text-slate-600">
                <span class="text-blue-700">"■ orders coming in /s"</span>
                " · "
                <span class="text-green-700">"■ resolved /s"</span>
                {move || format!(" · top of the chart {:.1}/s · last 5 minutes", top())}
            </figcaption>
        </figure>
    }
}

/// Each upstream's last minutes, from the calls this server's workers made: calls a
/// second against the dispatch limit, 429s, the error mix and latency percentiles.
/// What the upstream panel says on a console that runs no workers of its own.
pub const NO_WORKERS_HERE: &str = "This console runs no workers, so it sees no upstream calls: \
     list the worker processes' /upstreams in dashboard.worker_upstreams to see theirs.";

#[component]
pub fn UpstreamPanel(current: Signal<LiveSnapshot>) -> impl IntoView {
    view! {
        <section class="mt-4" aria-label="Upstreams">
            <h2 class="text-xl font-semibold mb-2">"Upstreams, last 5 minutes"</h2>
            {move || {
                let now = current.get();
                let limit = Tenths(now.dispatch_limit_tenths).show(true);
                let silent = (!now.silent_workers.is_empty()).then(|| view! {
                    <p class="text-sm text-amber-800 mb-2" data-testid="silent-workers">
                        {format!(
                            "Workers not answering, so their calls are missing here: {}.",
                            now.silent_workers.join(", ")
                        )}
                    </p>
                });
                let rows = match (now.upstreams.is_empty(), now.sees_upstream_calls) {
                    (false, _) => view! { <UpstreamTable rows=now.upstreams limit /> }.into_any(),
                    (true, true) => view! {
                        <p class="text-sm text-slate-600" data-testid="upstreams-quiet">
                            "No upstream calls from this console's workers in the last 5 minutes."
                        </p>
                    }.into_any(),
                    (true, false) => view! {
                        <p class="text-sm text-slate-600" data-testid="upstreams-quiet">
                            {NO_WORKERS_HERE}
                        </p>
                    }.into_any(),
                };
                view! { {silent} {rows} }
            }}
        </section>
    }
}

#[component]
pub fn UpstreamTable(rows: Vec<UpstreamHealth>, limit: String) -> impl IntoView {
    view! {
        <div class="overflow-x-auto">
            <table class="bg-white shadow rounded text-sm" data-testid="upstreams">
                <thead class="text-left bg-slate-100">
                    <tr>
                        <th class="p-2">"Upstream"</th>
                        <th class="p-2">"State"</th>
                        <th class="p-2">{format!("Calls/s (limit {limit}/s, all upstreams)")}</th>
                        <th class="p-2">"Answered"</th>
                        <th class="p-2">"429"</th>
                        <th class="p-2">"5xx"</th>
                        <th class="p-2">"Timeouts"</th>
                        <th class="p-2">"4xx / other"</th>
                        <th class="p-2">"p50 / p95 / p99"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|h| view! { <UpstreamLine h /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UpstreamLine(h: UpstreamHealth) -> impl IntoView {
    let class = match h.state() {
        UpstreamState::Down => "text-red-800 font-bold",
        UpstreamState::Throttling | UpstreamState::Slow => "text-amber-800 font-semibold",
        _ => "text-green-800",
    };
    view! {
        <tr class="border-t" data-upstream=h.provider.clone()>
            <td class="p-2">{h.provider.clone()}</td>
            <td class=format!("p-2 {class}") data-testid="upstream-state">{h.state_word()}</td>
            <td class="p-2">{Tenths(h.calls_per_sec_tenths).show(false)}</td>
            <td class="p-2">{h.answered}</td>
            <td class="p-2">{h.throttled}</td>
            <td class="p-2">{h.errors_5xx}</td>
            <td class="p-2">{h.timeouts}</td>
            <td class="p-2">{h.rejected}</td>
            <td class="p-2">{format!("{} / {} / {} ms", h.p50_ms, h.p95_ms, h.p99_ms)}</td>
        </tr>
    }
}
