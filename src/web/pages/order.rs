//! An order's lane: its whole path across QueryOrder → StaleOrder → ManualHandle, a
//! timeline from their histories, and the actions its stage allows.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{IfAllowed, Keys, Loading, Moment, When, action_error, live_marker, own_error};
use crate::{
    domain::access::Action,
    domain::format::age,
    domain::input::{MAX_CODE_LEN, MAX_NOTE_LEN},
    domain::listing::{LaneStage, OrderLane},
    domain::order::{Resolution, Stage},
    domain::resolution::{
        ConclusionRefusal, ManualContext, ProposalRejection, ResolutionRecord, StaleStatus,
    },
    web::error::AppError,
};

#[server]
pub async fn load_order_lane(order_id: String) -> Result<OrderLane, AppError> {
    let operator = Some(crate::web::auth::require(crate::domain::access::Action::Read)?.name);
    let state = crate::web::state::app_state()?;
    let lane =
        crate::operations::lane::order_lane(&state.client, order_id, &state.temporal_ui, operator)
            .await?;
    // Its live state unread (no worker), the page answers as an outage would, with the lane.
    if let Some(why) = &lane.unread {
        AppError::NoWorker(why.clone()).set_answer_status();
    }
    Ok(lane)
}

/// After a form island's action: the browser loads the lane again, as it does after a
/// plain form post.
#[cfg(feature = "ssr")]
fn back_to_lane(order_id: &str) {
    super::show_next("/orders/", order_id);
}

#[server]
pub async fn claim_order(order_id: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Claim)?.actor();
    let state = crate::web::state::app_state()?;
    crate::operations::orders::claim(&state.client, &order_id, actor).await?;
    state.board.nudge();
    Ok(())
}

#[server]
pub async fn release_order(order_id: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Release)?.actor();
    let state = crate::web::state::app_state()?;
    crate::operations::orders::release(&state.client, &order_id, actor).await?;
    state.board.nudge();
    Ok(())
}

/// Takes over a colleague's claim, with the reason (admins).
#[server]
pub async fn take_over_order(order_id: String, note: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::TakeOver)?.actor();
    let state = crate::web::state::app_state()?;
    crate::operations::orders::take_over(&state.client, &order_id, actor, &note).await?;
    state.board.nudge();
    back_to_lane(&order_id);
    Ok(())
}

#[server]
pub async fn resolve_order(
    order_id: String,
    resolution: String,
    reason_code: String,
    note: String,
) -> Result<String, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Resolve)?.actor();
    let state = crate::web::state::app_state()?;
    let request = crate::domain::resolution::ResolveRequest {
        resolution,
        reason_code,
        operator: actor.name,
        note,
        operator_id: actor.id,
    };
    use crate::operations::orders::{Settled, resolve_or_propose};
    // The order's own rule (fixed when it started) says whether it needs a second person.
    let settled = resolve_or_propose(&state.client, &order_id, request).await?;
    state.board.nudge();
    back_to_lane(&order_id);
    Ok(match settled {
        Settled::Resolved(record) => record.to_string(),
        Settled::Proposed(record) => format!(
            "proposed {}: it needs a second person's approval",
            record.resolution
        ),
    })
}

/// The order's upstream over the last minutes, from this server's workers.
#[server]
pub async fn upstream_health(
    provider: String,
) -> Result<(Option<crate::domain::listing::UpstreamHealth>, bool), AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let view = crate::web::state::app_state()?.live.upstreams().await;
    let row = view.rows.into_iter().find(|h| h.provider == provider);
    Ok((row, view.sees_calls))
}

#[server]
pub async fn approve_order(order_id: String) -> Result<String, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Approve)?.actor();
    let state = crate::web::state::app_state()?;
    let record = crate::operations::orders::approve(&state.client, &order_id, actor).await?;
    state.board.nudge();
    Ok(record.to_string())
}

#[server]
pub async fn reject_order(order_id: String, note: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Approve)?.actor();
    let state = crate::web::state::app_state()?;
    crate::operations::orders::reject(&state.client, &order_id, actor, &note).await?;
    state.board.nudge();
    back_to_lane(&order_id);
    Ok(())
}

/// Leaves a note on a manual order (those who may claim it); the lane comes back with it.
#[server]
pub async fn note_order(order_id: String, note: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Claim)?.actor();
    let state = crate::web::state::app_state()?;
    crate::operations::orders::add_note(&state.client, &order_id, actor, &note).await?;
    back_to_lane(&order_id);
    Ok(())
}

/// Has a manual order ask the bank again (those who may retry stale orders); the lane
/// comes back with the bank's answer, or with the question on its way.
#[server]
pub async fn ask_bank_order(order_id: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::RetryNow)?.actor();
    let state = crate::web::state::app_state()?;
    let wait = crate::operations::orders::ASK_BANK_PAGE_WAIT;
    crate::operations::orders::ask_bank(&state.client, &order_id, actor, wait).await?;
    state.board.nudge();
    back_to_lane(&order_id);
    Ok(())
}

#[server]
pub async fn retry_stale(order_id: String) -> Result<(), AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::RetryNow)?.actor();
    let state = crate::web::state::app_state()?;
    Ok(crate::operations::orders::retry_now(&state.client, &order_id, actor).await?)
}

/// The actions a lane offers. Each posts as a form and the lane comes back, refused ones
/// with their sentence (read here from the address); the forms a person types into are
/// islands that keep what was typed when refused.
#[derive(Clone, Copy)]
struct Actions {
    claim: ServerAction<ClaimOrder>,
    release: ServerAction<ReleaseOrder>,
    resolve: ServerAction<ResolveOrder>,
    retry: ServerAction<RetryStale>,
    approve: ServerAction<ApproveOrder>,
    reject: ServerAction<RejectOrder>,
    take_over: ServerAction<TakeOverOrder>,
    ask_bank: ServerAction<AskBankOrder>,
}

#[component]
pub fn OrderLanePage() -> impl IntoView {
    let params = use_params_map();
    let order_id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions {
        claim: ServerAction::new(),
        release: ServerAction::new(),
        resolve: ServerAction::new(),
        retry: ServerAction::new(),
        approve: ServerAction::new(),
        reject: ServerAction::new(),
        take_over: ServerAction::new(),
        ask_bank: ServerAction::new(),
    };
    let lane = Resource::new(order_id, load_order_lane);
    view! {
        <h1 class="text-2xl font-bold mb-3">
            "Order "
            <span data-testid="order-id">{order_id}</span>
        </h1>
        <a href="/" data-key="q" class="sr-only">"Back to the queue"</a>
        {action_error(actions.claim.value())}
        {action_error(actions.release.value())}
        {action_error(actions.resolve.value())}
        {action_error(actions.retry.value())}
        {action_error(actions.approve.value())}
        {action_error(actions.reject.value())}
        {action_error(actions.take_over.value())}
        {action_error(actions.ask_bank.value())}
        <Loading what="the order">
            {move || Suspend::new(async move {
                lane.await.map(|lane| view! { <Lane lane actions /> })
            })}
        </Loading>
    }
}

/// What a lane's stage reads when the order dropped out of every queue.
const DROPPED: &str = "dropped";

/// An order no run holds and nobody resolved: how its run ended, and (to those who may
/// resolve) the way back to the queue.
#[component]
fn DroppedBanner(dropped: crate::domain::listing::DroppedOrder, now: String) -> impl IntoView {
    let put = ServerAction::<super::dropped_orders::PutBack>::new();
    let may_put_back = super::page_session().may(Action::Resolve);
    let order_id = dropped.order_id.clone();
    let ended = format!(
        "This order waits in no queue: its {} was {}{}",
        dropped.stage,
        dropped.ended,
        match dropped.by.is_empty() {
            true => String::new(),
            false => format!(" by {}", dropped.by),
        }
    );
    let why = match dropped.why.is_empty() {
        true => ".".to_string(),
        false => format!(": {}.", dropped.why),
    };
    view! {
        <div class="mb-2 p-2 bg-red-50 border border-red-200 rounded" role="alert" data-testid="dropped">
            <p>{ended} " " <When at=dropped.ended_at now /> {why}</p>
            {action_error(put.value())}
            {may_put_back.then(|| view! {
                <ActionForm action=put attr:class="flex gap-2 items-center mt-2">
                    <input type="hidden" name="order_id" value=order_id />
                    <label for="put-back-reason">"Why it goes back"</label>
                    <input id="put-back-reason" name="reason" required class="border rounded px-2 py-1" />
                    <button type="submit" class="px-3 py-1 rounded bg-blue-800 text-white">"Back to the queue"</button>
                </ActionForm>
            })}
        </div>
    }
}

#[component]
fn Lane(lane: OrderLane, actions: Actions) -> impl IntoView {
    let id = lane.order_id.clone();
    let open = lane
        .open_stage
        .clone()
        .unwrap_or_else(|| match lane.dropped {
            // Ended without a resolution, held by no run: not resolved.
            Some(_) => DROPPED.to_string(),
            None => Stage::Resolved.to_string(),
        });
    let resolution = lane
        .manual
        .as_ref()
        .and_then(|m| m.resolution.clone())
        .or_else(|| lane.stale.as_ref().and_then(|s| s.resolution.clone()))
        .or_else(|| lane.returned.clone());
    let mine = lane
        .manual
        .as_ref()
        .and_then(|m| m.claim.as_ref())
        .zip(lane.operator.as_ref())
        .is_some_and(|(claim, me)| &claim.operator == me);
    // What may be done on a waiting order follows its live state: none read, none offered.
    let manual_open = open == Stage::Manual.as_str() && lane.manual.is_some();
    let claimed_by_other = lane
        .manual
        .as_ref()
        .and_then(|m| m.claim.as_ref())
        .is_some_and(|c| Some(&c.operator) != lane.operator.as_ref());
    let proposal = lane.manual.as_ref().and_then(|m| m.proposal.clone());
    let provider = lane
        .manual
        .as_ref()
        .map(|m| m.handoff.order.provider.clone())
        .or_else(|| {
            lane.stale
                .as_ref()
                .map(|s| s.handoff.order.provider.clone())
        });
    let awaiting = proposal.is_some();
    let stale = lane.stale.clone().filter(|_| open == Stage::Stale.as_str());
    let handoff = lane
        .manual
        .as_ref()
        .map(|m| m.handoff.clone())
        .or_else(|| lane.stale.as_ref().map(|s| s.handoff.clone()));
    // The keys of what this lane offers now (none of a resolved order's controls).
    let take_next_here = !manual_open || claimed_by_other;
    let keys = [
        (manual_open && !awaiting)
            .then_some("c claim · l release · r resolve (the resolution field)"),
        (manual_open && awaiting).then_some("a approve"),
        take_next_here.then_some("n take the next order"),
        Some("q back to the queue · / find an order"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <Keys help=keys />
        <p class="mb-2">
            "Stage: "
            <strong data-testid="open-stage">{open.clone()}</strong>
        </p>
        {lane.unread.clone().map(|why| view! {
            <p class="mb-2 p-2 bg-red-50 border border-red-200 rounded" role="alert" data-testid="unread">
                {format!("This order's claim, proposal, notes and timer could not be read, and nothing can be done on it for now: {why}. Its path below is from Temporal's history.")}
            </p>
        })}
        {handoff
            .map(|h| (h.order, h.seen))
            .or_else(|| lane.order.clone().map(|o| (o, None)))
            .map(|(order, seen)| view! { <OrderMoney order seen now=lane.now.clone() /> })}
        {resolution.map(|record| view! { <ResolutionLine record now=lane.now.clone() /> })}
        {lane
            .stages
            .iter()
            .filter(|st| st.status == "Running")
            .flat_map(|st| st.pending.clone())
            .map(|call| view! { <CallLine call now=lane.now.clone() /> })
            .collect_view()}
        {lane.manual.clone().and_then(|m| m.refused).map(|refusal| view! { <RefusalLine refusal /> })}
        {lane.manual.clone().and_then(|m| m.rejected).map(|rejection| view! { <RejectionLine rejection /> })}
        {lane.dropped.clone().map(|dropped| view! { <DroppedBanner dropped now=lane.now.clone() /> })}
        {lane.left_out.clone().into_iter().map(|notice| view! {
            <p class="mb-2 p-2 bg-amber-50 border border-amber-200 rounded" data-testid="left-out">
                {notice.sentence()} " ("
                <When at=notice.by.at.clone() now=lane.now.clone() />
                "; "
                <a class="underline text-blue-700" href=format!("/statements/{}", notice.import_id)>"the import's review"</a>
                ")."
            </p>
        }).collect_view()}
        {lane.manual.clone().and_then(|m| m.handoff.put_back).map(|back| view! {
            <p class="mb-2 p-2 bg-slate-100 border rounded" data-testid="put-back-by">
                {format!("{} put the order back in the queue ", back.by.operator)}
                <When at=back.by.at now=lane.now.clone() />
                {format!(": {}. What had ended: {}.", back.reason, back.dropped)}
            </p>
        })}
        {lane.manual.clone().and_then(|m| m.taken_over).map(|taken| view! {
            <p class="mb-2 p-2 bg-slate-100 border rounded" data-testid="taken-over">
                {format!("{} took the claim over from {} ", taken.by.operator, taken.from.operator)}
                <When at=taken.by.at now=lane.now.clone() />
                {format!(": {}", taken.note)}
            </p>
        })}
        {lane.manual.clone().map(|context| view! { <ManualSection context now=lane.now.clone() /> })}
        {lane.manual.clone().and_then(|m| m.asked_bank).map(|question| view! { <BankQuestionLine question now=lane.now.clone() /> })}
        {manual_open.then(|| {
            let asking = lane
                .manual
                .as_ref()
                .and_then(|m| m.asked_bank.as_ref())
                .is_some_and(|q| q.answer.is_none());
            let id = id.clone();
            view! { <IfAllowed action=Action::RetryNow><AskBankForm id=id.clone() asking ask=actions.ask_bank /></IfAllowed> }
        })}
        {proposal.map(|proposal| view! { <ProposalSection proposal id=id.clone() actions now=lane.now.clone() /> })}
        {(manual_open && !awaiting).then(|| {
            let id = id.clone();
            view! { <IfAllowed action=Action::Resolve><ManualActions id=id.clone() mine actions /></IfAllowed> }
        })}
        {(manual_open && claimed_by_other).then(|| {
            let id = id.clone();
            view! { <IfAllowed action=Action::TakeOver><TakeOverForm id=id.clone() /></IfAllowed> }
        })}
        {lane.manual.clone().map(|m| {
            let id = id.clone();
            let earlier = lane.earlier_notes.clone();
            view! { <NotesSection notes=m.notes earlier id open=manual_open now=lane.now.clone() /> }
        })}
        {stale.map(|status| view! { <StaleSection status id=id.clone() retry=actions.retry now=lane.now.clone() /> })}
        {take_next_here.then(|| view! { <IfAllowed action=Action::Claim><TakeNextHere /></IfAllowed> })}
        {provider.map(|provider| view! { <LaneUpstream provider /> })}
        <IfAllowed action=Action::Audit>
            <p class="mb-2 text-sm">
                <a class="underline text-blue-700" href=format!("/audit?target={}", crate::domain::format::url_component(&id))>
                    "Who did what to this order: its rows in the audit trail"
                </a>
            </p>
        </IfAllowed>
        <h2 class="text-xl font-semibold mt-4 mb-2">"Path"</h2>
        <ol class="grid gap-3 md:grid-cols-3">
            {lane.stages.into_iter().map(|stage| view! { <StageCard stage now=lane.now.clone() /> }).collect_view()}
        </ol>
    }
}

/// Once this order is no one's to work here (resolved, elsewhere, a colleague's): the next
/// one, as the queue's *Take the next order* chooses it with no filter.
#[component]
fn TakeNextHere() -> impl IntoView {
    let take = ServerAction::<super::manual_queue::TakeNext>::new();
    let fields = ["prefix", "provider", "reason", "age", "currency", "band"];
    view! {
        {action_error(take.value())}
        <ActionForm action=take attr:class="mb-2" attr:aria-label="Take the next order">
            {fields.into_iter().map(|name| view! { <input type="hidden" name=name value="" /> }).collect_view()}
            <button type="submit" data-key="n" class="px-3 py-1 rounded border">"Take the next order"</button>
        </ActionForm>
    }
}

/// The latest time a person had the order ask the bank again, and what it said.
#[component]
fn BankQuestionLine(
    question: crate::domain::resolution::BankQuestion,
    now: String,
) -> impl IntoView {
    let asked = question.asked.clone();
    let said = match (&question.answer, question.settled) {
        (None, _) => ": asking…".to_string(),
        (Some(answer), true) => format!(": the bank said {answer}, which settled the order."),
        (Some(answer), false) => {
            format!(": the bank said {answer}. The order still waits for a person.")
        }
    };
    // While the bank is asked, the lane reads the order again every few seconds (with or
    // without JavaScript) until the answer is there.
    let asking = question.answer.is_none();
    view! {
        {asking.then(|| view! { <meta http-equiv="refresh" content="3" /> })}
        <p class="mb-2 p-2 bg-slate-100 border rounded" data-testid="asked-bank" role="status">
            {format!("{} asked the bank again ", asked.operator)}
            <When at=asked.at now />
            {said}
        </p>
    }
}

/// "Ask the bank again": one more question to the bank about a waiting order (a plain form).
#[component]
fn AskBankForm(id: String, asking: bool, ask: ServerAction<AskBankOrder>) -> impl IntoView {
    view! {
        <ActionForm action=ask attr:class="mb-3" attr:aria-label="Ask the bank again">
            <input type="hidden" name="order_id" value=id />
            <button type="submit" disabled=asking class="px-3 py-1 rounded border border-slate-700">
                "Ask the bank again"
            </button>
            <span class="text-sm text-slate-600 ml-2">"its verdict settles the order; no verdict leaves it here"</span>
        </ActionForm>
    }
}

#[component]
fn ResolutionLine(record: ResolutionRecord, now: String) -> impl IntoView {
    let ago = format!("{} ago", age(&now, &record.resolved_at));
    let note = (!record.note.is_empty()).then(|| format!(" — {}", record.note));
    let by_whom = format!(" {} ", record.by_whom());
    let approved = record.approved_by.map(|a| {
        let now = now.clone();
        view! { {format!(", approved by {} ", a.operator)} <When at=a.at now /> }
    });
    view! {
        <p class="mb-2 p-2 bg-green-50 border border-green-200 rounded" data-testid="resolution">
            "Resolved "
            <strong>{record.resolution.to_string()}</strong>
            {by_whom}
            <Moment at=record.resolved_at text=ago />
            " ("
            {record.reason_code}
            ")"
            {approved}
            {note}
        </p>
        {record.evidence.map(|e| view! {
            <p class="mb-2 text-sm" data-testid="evidence">
                "Bank's record: statement "
                <code>{e.statement_id}</code>
                ", entry "
                <code>{e.entry_ref}</code>
                {format!(", booked {} on {} (import {})", e.amount, e.booking_date, e.import_id)}
            </p>
        })}
    }
}

/// What the open stage is doing now: a call with its tries, the last one's failure and
/// when the next is due (Temporal holds the retries; the lane reads them from it).
#[component]
fn CallLine(call: crate::domain::listing::PendingCall, now: String) -> impl IntoView {
    let last = (!call.last_failure.is_empty()).then(|| {
        let now = now.clone();
        view! {
            " The last try failed "
            <When at=call.last_tried_at.clone() now />
            {format!(": {}.", call.last_failure)}
        }
    });
    let next = (!call.next_try_at.is_empty()).then(|| {
        let now = now.clone();
        view! { " Next try " <When at=call.next_try_at.clone() now /> "." }
    });
    view! {
        <p class="mb-2 p-2 bg-sky-50 border border-sky-200 rounded" data-testid="pending-call" role="status">
            {format!("Now: {}, {} (since ", call.what, call.attempts_text())}
            <When at=call.since.clone() now=now.clone() />
            ")."
            {last}
            {next}
        </p>
    }
}

/// "Is the bank down or is it us?": the order's upstream, last minutes.
#[component]
fn LaneUpstream(provider: String) -> impl IntoView {
    let asked = provider.clone();
    let health = Resource::new(move || asked.clone(), upstream_health);
    view! {
        <section class="bg-white rounded shadow p-3 mb-3" aria-label="Upstream" data-testid="lane-upstream">
            <h2 class="font-semibold">"Upstream " {provider.clone()}</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match health.await.unwrap_or((None, true)) {
                        (Some(h), _) => {
                            let line = format!(
                                "{}: {}/s, {} answered, {} throttled (429), {} 5xx, {} timeout{}, p95 {} ms, over the last {} min",
                                h.state_word(), crate::web::live::Tenths(h.calls_per_sec_tenths).show(false),
                                h.answered, h.throttled, h.errors_5xx, h.timeouts,
                                if h.timeouts == 1 { "" } else { "s" }, h.p95_ms, h.window_secs / 60
                            );
                            view! { <p class="text-sm">{line}</p> }.into_any()
                        }
                        (None, true) => view! { <p class="text-sm text-slate-600">"No calls to it from this console's workers in the last 5 minutes."</p> }.into_any(),
                        (None, false) => view! { <p class="text-sm text-slate-600">{super::live_flow::NO_WORKERS_HERE}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A proposal awaiting a second person: who proposed what, and the approver's buttons.
#[component]
fn ProposalSection(
    proposal: ResolutionRecord,
    id: String,
    actions: Actions,
    now: String,
) -> impl IntoView {
    let (approve_id, reject_id) = (id.clone(), id);
    let note = (!proposal.note.is_empty()).then(|| format!(" — {}", proposal.note));
    view! {
        <section class="mb-3 p-3 bg-amber-50 border border-amber-300 rounded" aria-label="Awaiting approval" data-testid="proposal">
            <p>
                <strong>"Awaiting approval: "</strong>
                {proposal.resolved_by.clone()}
                " proposed "
                <strong>{proposal.resolution.to_string()}</strong>
                " ("
                {proposal.reason_code.clone()}
                ") "
                <When at=proposal.resolved_at.clone() now />
                {note}
            </p>
            <IfAllowed action=Action::Approve>
                {
                    let (approve_id, reject_id) = (approve_id.clone(), reject_id.clone());
                    view! { <ApprovalForms approve_id reject_id actions /> }
                }
            </IfAllowed>
        </section>
    }
}

#[component]
fn ApprovalForms(approve_id: String, reject_id: String, actions: Actions) -> impl IntoView {
    view! {
        <div class="flex flex-wrap gap-2 mt-2 items-end">
            <ActionForm action=actions.approve>
                <input type="hidden" name="order_id" value=approve_id />
                <button type="submit" data-key="a" class="px-3 py-1 rounded bg-green-700 text-white">"Approve"</button>
            </ActionForm>
            <RejectForm id=reject_id />
        </div>
    }
}

/// The reason a person gives for a rejection or a take-over: required, recorded with it.
#[component]
fn NoteField(label: &'static str) -> impl IntoView {
    view! {
        <label class="flex flex-col text-sm">
            {label}
            <input name="note" required maxlength=MAX_NOTE_LEN class="border rounded px-2 py-1" />
        </label>
    }
}

/// The notes people left on the order, oldest first, and (while it waits, to those who may
/// claim it) a field for another.
#[component]
fn NotesSection(
    notes: Vec<crate::domain::resolution::OrderNote>,
    /// Notes left on the order's earlier runs, before it was put back.
    earlier: Vec<crate::domain::resolution::OrderNote>,
    id: String,
    open: bool,
    now: String,
) -> impl IntoView {
    if notes.is_empty() && earlier.is_empty() && !open {
        return ().into_any();
    }
    let earlier_now = now.clone();
    view! {
        <section class="bg-white rounded shadow p-3 mb-3 max-w-3xl" aria-labelledby="notes-title">
            <h2 id="notes-title" class="font-semibold">"Notes"</h2>
            {(!earlier.is_empty()).then(|| view! {
                <p class="text-sm text-slate-600">"Left before the order was put back in the queue:"</p>
                <NoteList notes=earlier now=earlier_now class="text-sm mb-2 text-slate-700" testid="earlier-notes" />
            })}
            {notes.is_empty().then(|| view! { <p class="text-sm text-slate-600">"No notes yet."</p> })}
            <NoteList notes now class="text-sm" testid="notes" />
            {open.then(|| view! { <IfAllowed action=Action::Claim><NoteForm id=id.clone() /></IfAllowed> })}
        </section>
    }
    .into_any()
}

/// Notes, oldest first: who, when (against `now`), what.
#[component]
fn NoteList(
    notes: Vec<crate::domain::resolution::OrderNote>,
    now: String,
    class: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <ul class=class data-testid=testid>
            {notes.into_iter().map(|note| {
                let now = now.clone();
                view! {
                    <li class="border-t py-1">
                        <strong>{note.by.operator.clone()}</strong>
                        " "
                        <When at=note.by.at.clone() now />
                        ": "
                        {note.text}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Another note (an island: a refusal keeps what was typed).
#[island(lazy)]
fn NoteForm(id: String) -> impl IntoView {
    let note = ServerAction::<NoteOrder>::new();
    let live = live_marker();
    view! {
        <ActionForm action=note attr:data-live=live attr:class="flex gap-2 items-end mt-2" attr:aria-label="Leave a note">
            <input type="hidden" name="order_id" value=id />
            <NoteField label="A note for colleagues (it decides nothing)" />
            <button type="submit" class="px-3 py-1 rounded border border-slate-700">"Add the note"</button>
        </ActionForm>
        {own_error(note)}
    }
}

/// Turns a proposal down, saying why (an island: a refusal keeps the note typed).
#[island(lazy)]
fn RejectForm(id: String) -> impl IntoView {
    let reject = ServerAction::<RejectOrder>::new();
    let live = live_marker();
    view! {
        <ActionForm action=reject attr:data-live=live attr:class="flex gap-2 items-end">
            <input type="hidden" name="order_id" value=id />
            <NoteField label="Why not" />
            <button type="submit" class="px-3 py-1 rounded border border-red-700 text-red-800">"Reject"</button>
        </ActionForm>
        {own_error(reject)}
    }
}

/// The last proposal a second person turned down.
#[component]
fn RejectionLine(rejection: ProposalRejection) -> impl IntoView {
    view! {
        <p class="mb-2 p-2 bg-red-50 border border-red-200 rounded" data-testid="proposal-rejected">
            {rejection.by.operator}
            " rejected "
            {rejection.proposal.resolved_by}
            "'s proposal of "
            <strong>{rejection.proposal.resolution.to_string()}</strong>
            " "
            <When at=rejection.by.at />
            ": "
            {rejection.note}
        </p>
    }
}

/// A resolution the bank did not record: the order is back in the queue.
#[component]
fn RefusalLine(refusal: ConclusionRefusal) -> impl IntoView {
    let advice = refusal.advice();
    // A refusal the bank answered, or no answer at all (it may have recorded it).
    let lead = match refusal.answered() {
        true => "The upstream did not record ",
        false => "The upstream did not confirm ",
    };
    let record = refusal.record;
    view! {
        <p class="mb-2 p-2 bg-red-50 border border-red-200 rounded" role="alert" data-testid="conclusion-refused">
            {lead}
            <strong>{record.resolution.to_string()}</strong>
            " by "
            {record.resolved_by}
            " "
            <When at=refusal.at />
            ": "
            {refusal.message}
            ". "
            {advice}
        </p>
    }
}

/// What the order is for, its gateway reference and age, where it came from, and, when the
/// bank reported other money, both figures.
#[component]
fn OrderMoney(
    order: crate::domain::order::OrderRequest,
    seen: Option<crate::domain::money::Money>,
    now: String,
) -> impl IntoView {
    let origin = format!("From {}", order.origin());
    let amount = crate::domain::money::amount_shown(order.amount.as_ref());
    let created = order.created_at.clone().map(|at| {
        let ago = crate::domain::format::age(&now, &at);
        view! { " · created " <Moment at=at text=format!("{ago} ago") /> }
    });
    view! {
        <p class="mb-2">
            "Amount: "
            <strong data-testid="order-amount">{amount}</strong>
            {order.reference.map(|r| view! { " · reference " <code data-testid="order-reference">{r}</code> })}
            {created}
        </p>
        <p class="mb-2 text-sm text-slate-700" data-testid="order-origin">{origin}</p>
        {seen.map(|seen| view! {
            <p class="mb-2 p-2 bg-red-50 border border-red-300 rounded" data-testid="amount-mismatch" role="note">
                {format!(
                    "The bank reports {} paid; the order is for {}. Check the bank's record before resolving.",
                    crate::domain::money::amount_shown(Some(&seen)),
                    crate::domain::money::amount_shown(order.amount.as_ref()),
                )}
            </p>
        })}
    }
}

#[component]
fn ManualSection(context: ManualContext, now: String) -> impl IntoView {
    let claimed_by = match context.claim {
        Some(c) => {
            let ago = format!("{} ago", age(&now, &c.at));
            view! { {c.operator} " (claimed " <Moment at=c.at text=ago /> ")" }.into_any()
        }
        None => "nobody".into_any(),
    };
    let waiting = age(&now, &context.waiting_since);
    let rule = match context.four_eyes.is_empty() {
        true => "No resolution of this order needs a second person.".to_string(),
        false => format!(
            "On this order {} need a second person's approval.",
            context
                .four_eyes
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    view! {
        <section class="bg-white rounded shadow p-3 mb-3" aria-label="Manual handling">
            <h2 class="font-semibold">"Manual handling"</h2>
            <p>
                "Attempts: "
                {context.handoff.attempts}
                " · waiting "
                <span data-testid="waiting"><Moment at=context.waiting_since text=waiting /></span>
            </p>
            <p>
                "Original error: "
                <code>{context.handoff.original_error}</code>
            </p>
            <p>
                "Stale retry error: "
                <code>{context.handoff.stale_retry_error.unwrap_or_default()}</code>
            </p>
            <p>
                "Claimed by: "
                <span data-testid="claimed-by">{claimed_by}</span>
            </p>
            <p class="text-sm text-slate-600" data-testid="four-eyes-rule">{rule}</p>
        </section>
    }
}

#[component]
fn ManualActions(id: String, mine: bool, actions: Actions) -> impl IntoView {
    let (claim_id, release_id) = (id.clone(), id.clone());
    let release = mine.then(|| {
        view! {
            <ActionForm action=actions.release>
                <input type="hidden" name="order_id" value=release_id />
                <button type="submit" data-key="l" class="px-3 py-1 rounded border">"Release"</button>
            </ActionForm>
        }
    });
    view! {
        <div class="flex gap-2 mb-3">
            <ActionForm action=actions.claim>
                <input type="hidden" name="order_id" value=claim_id />
                <button type="submit" data-key="c" class="px-3 py-1 rounded bg-slate-800 text-white">"Claim"</button>
            </ActionForm>
            {release}
        </div>
        <ResolveForm id />
    }
}

/// An admin takes a colleague's claim over, saying why (an island: a refusal keeps the
/// note typed).
#[island(lazy)]
fn TakeOverForm(id: String) -> impl IntoView {
    let take_over = ServerAction::<TakeOverOrder>::new();
    let live = live_marker();
    view! {
        {own_error(take_over)}
        <ActionForm action=take_over attr:data-live=live attr:class="flex gap-2 items-end mb-3" attr:aria-label="Take the claim over">
            <input type="hidden" name="order_id" value=id />
            <NoteField label="Why take the claim over" />
            <button type="submit" class="px-3 py-1 rounded border border-slate-700">"Take over"</button>
        </ActionForm>
    }
}

/// The resolution (an island: a refusal keeps the resolution, code and note typed; success
/// loads the lane again).
#[island(lazy)]
fn ResolveForm(id: String) -> impl IntoView {
    let resolve = ServerAction::<ResolveOrder>::new();
    let options = Resolution::ALL
        .iter()
        .map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> })
        .collect_view();
    let live = live_marker();
    view! {
        {own_error(resolve)}
        <ActionForm
            action=resolve
            attr:data-live=live
            attr:class="bg-white rounded shadow p-3 mb-3 flex flex-col gap-2 max-w-md"
            attr:aria-label="Resolve"
        >
            <h2 class="font-semibold">"Resolve"</h2>
            <input type="hidden" name="order_id" value=id />
            <label class="flex flex-col text-sm">
                "Resolution"
                // No resolution is chosen for the person: the first one would settle money.
                <select name="resolution" data-key="r" required class="border rounded px-2 py-1">
                    <option value="" selected disabled>"choose…"</option>
                    {options}
                </select>
            </label>
            <label class="flex flex-col text-sm">
                "Reason code"
                <input
                    name="reason_code"
                    required
                    maxlength=MAX_CODE_LEN
                    placeholder="BANK_CONFIRMED"
                    class="border rounded px-2 py-1"
                />
            </label>
            <label class="flex flex-col text-sm">
                "Note"
                <textarea name="note" maxlength=MAX_NOTE_LEN class="border rounded px-2 py-1"></textarea>
            </label>
            <button type="submit" class="px-3 py-1 rounded bg-green-700 text-white self-start">
                "Resolve"
            </button>
        </ActionForm>
    }
}

#[component]
fn StaleSection(
    status: StaleStatus,
    id: String,
    retry: ServerAction<RetryStale>,
    now: String,
) -> impl IntoView {
    // When, as the rest of the lane says it ("in 29 min"; the exact time on hover).
    let next = match status.next_retry_at {
        Some(at) => view! { <When at now /> }.into_any(),
        None => "now".into_any(),
    };
    view! {
        <section class="bg-white rounded shadow p-3 mb-3" aria-label="Stale retry">
            <h2 class="font-semibold">"Waiting to retry"</h2>
            <p>
                "Next retry: "
                <span data-testid="next-retry">{next}</span>
            </p>
            <p>
                "Last error: "
                <code>{status.handoff.original_error}</code>
            </p>
                <IfAllowed action=Action::RetryNow>
                {
                    let id = id.clone();
                    view! {
                        <ActionForm action=retry>
                            <input type="hidden" name="order_id" value=id />
                            <button type="submit" class="mt-2 px-3 py-1 rounded bg-amber-800 text-white">
                                "Retry now"
                            </button>
                        </ActionForm>
                    }
                }
            </IfAllowed>
        </section>
    }
}

#[component]
fn StageCard(stage: LaneStage, now: String) -> impl IntoView {
    let events = stage.timeline.len();
    let earlier = stage
        .earlier_events
        .then_some(" (the newest; older ones in Temporal)");
    view! {
        <li class="bg-white rounded shadow p-3" data-workflow=stage.workflow_type.clone()>
            <h3 class="font-semibold">{stage.workflow_type.clone()}</h3>
            <p class="text-sm">
                <span data-testid="status">{stage.status}</span>
                " · "
                "started "
                <When at=stage.started_at now=now.clone() />
                {(!stage.closed_at.is_empty()).then(|| {
                    let closed = stage.closed_at.clone();
                    let now = now.clone();
                    view! { " · closed " <When at=closed now /> }
                })}
            </p>
            <a class="text-blue-700 underline text-sm" href=stage.temporal_link>"Open in Temporal"</a>
            <details class="mt-2">
                <summary class="text-sm cursor-pointer">"Timeline (" {events} ")" {earlier}</summary>
                <ul class="text-xs mt-1">
                    {stage.timeline.into_iter().map(|e| view! {
                        <li>
                            <When at=e.at now=now.clone() />
                            " "
                            {e.what}
                        </li>
                    }).collect_view()}
                </ul>
            </details>
        </li>
    }
}
