//! An order's lane: its whole path across QueryOrder → StaleOrder → ManualHandle, a
//! timeline from their histories, and the actions its stage allows.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::{ErrorBanner, action_error};
use crate::orders::{ManualContext, Resolution, StaleStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: String,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneStage {
    pub workflow_id: String,
    pub workflow_type: String,
    pub status: String,
    pub started_at: String,
    pub closed_at: String,
    /// This execution in Temporal's web UI.
    pub temporal_link: String,
    pub timeline: Vec<TimelineEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLane {
    pub order_id: String,
    pub stages: Vec<LaneStage>,
    pub stale: Option<StaleStatus>,
    pub manual: Option<ManualContext>,
    /// The open stage, if any: `stale` or `manual` allow actions.
    pub open_stage: Option<String>,
    pub operator: Option<String>,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::orders::{manual_workflow_id, query_workflow_id, stale_workflow_id};
    use temporalio_client::{Client, UntypedWorkflow, WorkflowDescribeOptions};
    use temporalio_common::protos::temporal::api::enums::v1::EventType;

    const MAX_EVENTS: usize = 200;

    fn fmt(t: Option<std::time::SystemTime>) -> String {
        t.map(crate::workflows::rfc3339).unwrap_or_default()
    }

    pub async fn stage(
        client: &Client,
        id: String,
        ui: &str,
        namespace: &str,
    ) -> Result<Option<LaneStage>, String> {
        let handle = client.get_workflow_handle::<UntypedWorkflow>(id.clone());
        let description = match handle.describe(WorkflowDescribeOptions::default()).await {
            Ok(d) => d,
            Err(temporalio_client::errors::WorkflowInteractionError::NotFound(_)) => {
                return Ok(None);
            }
            Err(e) => return Err(e.to_string()),
        };
        let events = handle
            .fetch_history(Default::default())
            .into_events()
            .await
            .map_err(|e| e.to_string())?;
        let timeline = events
            .iter()
            .take(MAX_EVENTS)
            .map(|e| TimelineEvent {
                at: e
                    .event_time
                    .and_then(|t| std::time::SystemTime::try_from(t).ok())
                    .map(crate::workflows::rfc3339)
                    .unwrap_or_default(),
                what: EventType::try_from(e.event_type)
                    .map(|t| {
                        t.as_str_name()
                            .trim_start_matches("EVENT_TYPE_")
                            .replace('_', " ")
                            .to_lowercase()
                    })
                    .unwrap_or_else(|_| "event".into()),
            })
            .collect();
        Ok(Some(LaneStage {
            temporal_link: format!(
                "{ui}/namespaces/{namespace}/workflows/{id}/{}/history",
                description.run_id()
            ),
            workflow_type: description.workflow_type().to_string(),
            status: format!("{:?}", description.status()),
            started_at: fmt(description.start_time()),
            closed_at: fmt(description.close_time()),
            workflow_id: id,
            timeline,
        }))
    }

    pub async fn lane(order_id: String) -> Result<OrderLane, ServerFnError> {
        crate::orders::validate_order_id(&order_id)
            .map_err(|e| ServerFnError::new(e.to_string()))?;
        let state = expect_context::<crate::server::AppState>();
        let client = &state.client;
        let fail = |e: String| ServerFnError::new(format!("Temporal did not answer: {e}"));
        let (q, s, m) = futures::try_join!(
            stage(
                client,
                query_workflow_id(&order_id),
                &state.temporal_ui,
                &state.namespace
            ),
            stage(
                client,
                stale_workflow_id(&order_id),
                &state.temporal_ui,
                &state.namespace
            ),
            stage(
                client,
                manual_workflow_id(&order_id),
                &state.temporal_ui,
                &state.namespace
            ),
        )
        .map_err(fail)?;
        if q.is_none() && s.is_none() && m.is_none() {
            return Err(ServerFnError::new(format!(
                "no order {order_id:?} is known to Temporal"
            )));
        }
        let running = |st: &Option<LaneStage>| st.as_ref().is_some_and(|s| s.status == "Running");
        let open_stage = if running(&m) {
            Some("manual")
        } else if running(&s) {
            Some("stale")
        } else if running(&q) {
            Some("querying")
        } else {
            None
        };
        let stale = if s.is_some() {
            crate::temporal::orders::stale_status(client, &order_id)
                .await
                .ok()
        } else {
            None
        };
        let manual = if m.is_some() {
            crate::temporal::orders::manual_context(client, &order_id)
                .await
                .ok()
        } else {
            None
        };
        Ok(OrderLane {
            order_id,
            stages: [q, s, m].into_iter().flatten().collect(),
            stale,
            manual,
            open_stage: open_stage.map(str::to_string),
            operator: super::super::operator::current_operator(),
        })
    }

    pub fn op_error(e: crate::temporal::orders::OrderOpError) -> ServerFnError {
        ServerFnError::new(e.to_string())
    }
}

#[server]
pub async fn load_order_lane(order_id: String) -> Result<OrderLane, ServerFnError> {
    server::lane(order_id).await
}

#[server]
pub async fn claim_order(order_id: String) -> Result<(), ServerFnError> {
    let operator = super::operator::require_operator()?;
    let state = expect_context::<crate::server::AppState>();
    crate::temporal::orders::claim(&state.client, &order_id, &operator)
        .await
        .map(|_| ())
        .map_err(server::op_error)
}

#[server]
pub async fn release_order(order_id: String) -> Result<(), ServerFnError> {
    let operator = super::operator::require_operator()?;
    let state = expect_context::<crate::server::AppState>();
    crate::temporal::orders::release(&state.client, &order_id, &operator)
        .await
        .map_err(server::op_error)
}

#[server]
pub async fn resolve_order(
    order_id: String,
    resolution: String,
    reason_code: String,
    note: String,
) -> Result<String, ServerFnError> {
    let operator = super::operator::require_operator()?;
    let state = expect_context::<crate::server::AppState>();
    crate::temporal::orders::resolve_manual(
        &state.client,
        &order_id,
        crate::orders::ResolveRequest {
            resolution,
            reason_code,
            operator,
            note,
        },
    )
    .await
    .map(|r| r.to_string())
    .map_err(server::op_error)
}

#[server]
pub async fn retry_stale(order_id: String) -> Result<(), ServerFnError> {
    let operator = super::operator::require_operator()?;
    let state = expect_context::<crate::server::AppState>();
    crate::temporal::orders::retry_now(&state.client, &order_id, &operator)
        .await
        .map_err(server::op_error)
}

#[component]
pub fn OrderLanePage() -> impl IntoView {
    let params = use_params_map();
    let order_id = move || params.read().get("id").unwrap_or_default();
    let claim = ServerAction::<ClaimOrder>::new();
    let release = ServerAction::<ReleaseOrder>::new();
    let resolve = ServerAction::<ResolveOrder>::new();
    let retry = ServerAction::<RetryStale>::new();
    let lane = Resource::new(
        move || {
            (
                order_id(),
                claim.version().get(),
                release.version().get(),
                resolve.version().get(),
                retry.version().get(),
            )
        },
        |(id, ..)| load_order_lane(id),
    );
    view! {
        <h1 class="text-2xl font-bold mb-3">"Order " <span data-testid="order-id">{order_id}</span></h1>
        {action_error(claim.value())}
        {action_error(release.value())}
        {action_error(resolve.value())}
        {action_error(retry.value())}
        <Suspense fallback=|| view! { <p role="status">"Loading the order from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorBanner errors /> }>
                {move || Suspend::new(async move {
                    lane.await.map(|l| view! { <Lane lane=l claim release resolve retry /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn Lane(
    lane: OrderLane,
    claim: ServerAction<ClaimOrder>,
    release: ServerAction<ReleaseOrder>,
    resolve: ServerAction<ResolveOrder>,
    retry: ServerAction<RetryStale>,
) -> impl IntoView {
    let id = lane.order_id.clone();
    let open = lane.open_stage.clone().unwrap_or_else(|| "resolved".into());
    let manual = lane.manual.clone();
    let resolution = manual
        .as_ref()
        .and_then(|m| m.resolution.clone())
        .or_else(|| lane.stale.as_ref().and_then(|s| s.resolution.clone()));
    let claimed_by = manual.as_ref().and_then(|m| m.claim.clone());
    let me = lane.operator.clone();
    let mine = claimed_by
        .as_ref()
        .zip(me.as_ref())
        .is_some_and(|(c, me)| &c.operator == me);
    view! {
        <p class="mb-2">"Stage: " <strong data-testid="open-stage">{open.clone()}</strong></p>
        {resolution.map(|r| view! {
            <p class="mb-2 p-2 bg-green-50 border border-green-200 rounded" data-testid="resolution">
                "Resolved " <strong>{r.resolution.to_string()}</strong> " by " {r.resolved_by} " at " {r.resolved_at}
                " (" {r.reason_code} ")" {(!r.note.is_empty()).then(|| format!(" — {}", r.note))}
            </p>
        })}
        {manual.clone().map(|m| view! {
            <section class="bg-white rounded shadow p-3 mb-3" aria-label="Manual handling">
                <h2 class="font-semibold">"Manual handling"</h2>
                <p>"Attempts: " {m.handoff.attempts} " · waiting since " {m.waiting_since}</p>
                <p>"Original error: " <code>{m.handoff.original_error}</code></p>
                <p>"Stale retry error: " <code>{m.handoff.stale_retry_error.unwrap_or_default()}</code></p>
                <p>"Claimed by: " <span data-testid="claimed-by">{m.claim.map(|c| format!("{} since {}", c.operator, c.at)).unwrap_or_else(|| "nobody".into())}</span></p>
            </section>
        })}
        {(open == "manual").then({
            let id = id.clone();
            move || {
            let id2 = id.clone();
            let id3 = id.clone();
            view! {
                <div class="flex gap-2 mb-3">
                    <ActionForm action=claim>
                        <input type="hidden" name="order_id" value=id.clone() />
                        <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">"Claim"</button>
                    </ActionForm>
                    {mine.then(|| view! {
                        <ActionForm action=release>
                            <input type="hidden" name="order_id" value=id2.clone() />
                            <button type="submit" class="px-3 py-1 rounded border">"Release"</button>
                        </ActionForm>
                    })}
                </div>
                <ActionForm action=resolve attr:class="bg-white rounded shadow p-3 mb-3 flex flex-col gap-2 max-w-md" attr:aria-label="Resolve">
                    <h2 class="font-semibold">"Resolve"</h2>
                    <input type="hidden" name="order_id" value=id3 />
                    <label class="flex flex-col text-sm">"Resolution"
                        <select name="resolution" class="border rounded px-2 py-1">
                            {Resolution::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="flex flex-col text-sm">"Reason code"
                        <input name="reason_code" required maxlength="64" placeholder="BANK_CONFIRMED" class="border rounded px-2 py-1" />
                    </label>
                    <label class="flex flex-col text-sm">"Note"
                        <textarea name="note" maxlength="500" class="border rounded px-2 py-1"></textarea>
                    </label>
                    <button type="submit" class="px-3 py-1 rounded bg-green-700 text-white self-start">"Resolve"</button>
                </ActionForm>
            }
        }})}
        {lane.stale.clone().filter(|_| open == "stale").map(|s| view! {
            <section class="bg-white rounded shadow p-3 mb-3" aria-label="Stale retry">
                <h2 class="font-semibold">"Waiting to retry"</h2>
                <p>"Next retry: " <span data-testid="next-retry">{s.next_retry_at.unwrap_or_else(|| "now".into())}</span></p>
                <p>"Last error: " <code>{s.handoff.original_error}</code></p>
                <ActionForm action=retry>
                    <input type="hidden" name="order_id" value=id.clone() />
                    <button type="submit" class="mt-2 px-3 py-1 rounded bg-amber-600 text-white">"Retry now"</button>
                </ActionForm>
            </section>
        })}
        <h2 class="text-xl font-semibold mt-4 mb-2">"Path"</h2>
        <ol class="grid gap-3 md:grid-cols-3">
            {lane.stages.into_iter().map(|s| view! {
                <li class="bg-white rounded shadow p-3" data-workflow=s.workflow_type.clone()>
                    <h3 class="font-semibold">{s.workflow_type.clone()}</h3>
                    <p class="text-sm"><span data-testid="status">{s.status}</span> " · " {s.started_at} " → " {s.closed_at}</p>
                    <a class="text-blue-700 underline text-sm" href=s.temporal_link>"Open in Temporal"</a>
                    <details class="mt-2"><summary class="text-sm cursor-pointer">"Timeline (" {s.timeline.len()} ")"</summary>
                        <ul class="text-xs mt-1">
                            {s.timeline.into_iter().map(|e| view! { <li><time>{e.at}</time> " " {e.what}</li> }).collect_view()}
                        </ul>
                    </details>
                </li>
            }).collect_view()}
        </ol>
    }
}
