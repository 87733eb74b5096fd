//! The manual queue (support's home): every order waiting in ManualHandle, from one
//! visibility query, paged by Temporal's page tokens, with counts per filter.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{FilterField, FilterForm, IfAllowed, Keys, Loading, Moment, action_error, or_dash};
use crate::{
    domain::access::Action,
    domain::format::readable,
    domain::listing::{
        AGE_COLUMNS, AgeBand, BULK_LIMIT, QueueFilter, QueuePage, QueueRow, ServiceLevel,
        WaitingBoard, age_filter, amount_band, claim_filter,
    },
    web::error::AppError,
};

#[server]
pub async fn manual_queue(
    filter: QueueFilter,
    page: Option<String>,
) -> Result<QueuePage, AppError> {
    let operator = Some(crate::web::auth::require(crate::domain::access::Action::Read)?.name);
    let state = crate::web::state::app_state()?;
    let sla = &state.service_level;
    let tally = state.board.tally(&state.client, sla).await?;
    let page = crate::operations::queues::manual_queue(
        &state.client,
        &filter,
        page,
        operator,
        sla,
        &tally,
    );
    let mut page = page.await?;
    (page.dropped, page.dropped_more) = state.board.dropped();
    Ok(page)
}

/// Has every order matching the queue's filter ask the bank again (those who may retry),
/// if `expected` still match; back to the queue saying how many took the question.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn ask_bank_set(
    prefix: String,
    provider: String,
    reason: String,
    claim: String,
    age: String,
    currency: String,
    band: String,
    expected: usize,
) -> Result<usize, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::RetryNow)?.actor();
    let state = crate::web::state::app_state()?;
    let filter = QueueFilter {
        prefix,
        provider,
        reason,
        claim,
        age,
        currency,
        band,
    };
    let asked = crate::operations::queues::ask_bank_matching(
        &state.client,
        &filter,
        expected,
        &actor,
        &state.service_level,
    )
    .await?;
    state.board.nudge();
    leptos_axum::redirect(&format!("{}&asked={asked}", filter.link(&filter.claim)));
    Ok(asked)
}

/// Claims the next order for the person (of the unclaimed ones the filter shows: past the
/// service level first, the longest waiting) and opens its lane; back to the queue saying
/// so when none matches.
#[server]
pub async fn take_next(
    prefix: String,
    provider: String,
    reason: String,
    age: String,
    currency: String,
    band: String,
) -> Result<String, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Claim)?.actor();
    let state = crate::web::state::app_state()?;
    let filter = QueueFilter {
        prefix,
        provider,
        reason,
        claim: claim_filter::UNCLAIMED.into(),
        age,
        currency,
        band,
    };
    let taken =
        crate::operations::queues::take_next(&state.client, &filter, &actor, &state.service_level)
            .await?;
    state.board.nudge();
    match taken {
        Some(order_id) => {
            super::show_next("/orders/", &order_id);
            Ok(order_id)
        }
        None => {
            leptos_axum::redirect(&format!("{}&taken=none", filter.link(&filter.claim)));
            Ok(String::new())
        }
    }
}

/// Opens the proposal the approver should review next (the longest waiting, not their
/// own); back to the tab saying so when none awaits them.
#[server]
pub async fn review_next() -> Result<String, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Approve)?.actor();
    let state = crate::web::state::app_state()?;
    match crate::operations::queues::next_proposal(&state.client, &actor).await? {
        Some(order_id) => {
            super::show_next("/orders/", &order_id);
            Ok(order_id)
        }
        None => {
            leptos_axum::redirect(&format!(
                "/?claim={}&proposals=none",
                claim_filter::AWAITING_APPROVAL
            ));
            Ok(String::new())
        }
    }
}

/// Gives back every claim the person holds on a waiting order (the end of a shift); back to
/// their tab saying how many.
#[server]
pub async fn release_mine() -> Result<usize, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Release)?.actor();
    let state = crate::web::state::app_state()?;
    let given =
        crate::operations::queues::release_all_mine(&state.client, &actor, &state.service_level)
            .await?;
    state.board.nudge();
    leptos_axum::redirect(&format!(
        "/?claim={}&released={}&kept={}",
        claim_filter::MINE,
        given.released,
        given.kept
    ));
    Ok(given.released)
}

/// What waits in money, per currency and age: read by the console's watch for every page
/// (see `web::live::watch`), never per page load.
#[server]
pub async fn load_waiting_board() -> Result<WaitingBoard, AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    Ok(state
        .board
        .board(&state.client, &state.service_level)
        .await?)
}

/// The ageing board: per currency, orders and their total in each age column.
#[component]
fn AgeingBoard(board: WaitingBoard) -> impl IntoView {
    if board.rows.is_empty() && board.unknown.iter().all(|n| *n == 0) {
        return ().into_any();
    }
    let floor = board
        .truncated
        .then_some(" (at least: the board stops counting at its limit)");
    view! {
        <section class="mb-3" aria-labelledby="board-title">
            <h2 id="board-title" class="font-semibold">
                "What waits"
                <span class="text-sm font-normal text-slate-600">
                    " · counted " <Moment at=board.counted_at.clone() text="just now".to_string() />
                    {floor}
                </span>
            </h2>
            <table class="bg-white shadow rounded text-sm" data-testid="ageing-board">
                <thead class="text-left bg-slate-100">
                    <tr>
                        <th class="p-2" scope="col">"Currency"</th>
                        {AGE_COLUMNS.iter().map(|(words, _, _)| view! { <th class="p-2" scope="col">{*words}</th> }).collect_view()}
                        <th class="p-2" scope="col">"All"</th>
                    </tr>
                </thead>
                <tbody>
                    {board.rows.into_iter().map(|row| {
                        let cells: Vec<String> = (0..AGE_COLUMNS.len())
                            .map(|i| match row.count[i] {
                                0 => "–".to_string(),
                                n => format!("{n} · {}", row.money(row.total[i])),
                            })
                            .collect();
                        let all = format!("{} · {}", row.all_count(), row.money(row.all_total()));
                        let currency = row.currency.clone();
                        view! {
                            <tr class="border-t" data-currency=currency.clone()>
                                <th class="p-2" scope="row">
                                    <a class="underline" href=format!("/?currency={currency}")>{currency.clone()}</a>
                                </th>
                                {cells.into_iter().map(|c| view! { <td class="p-2">{c}</td> }).collect_view()}
                                <td class="p-2 font-semibold" data-testid="board-total">{all}</td>
                            </tr>
                        }
                    }).collect_view()}
                    {(board.unknown.iter().any(|n| *n > 0)).then(|| view! {
                        <tr class="border-t">
                            <th class="p-2" scope="row">"amount unknown"</th>
                            {board.unknown.iter().map(|n| view! { <td class="p-2">{n.to_string()}</td> }).collect_view()}
                            <td class="p-2 font-semibold">{board.unknown.iter().sum::<u64>().to_string()}</td>
                        </tr>
                    })}
                </tbody>
            </table>
            <a class="text-sm underline" href="/queue.csv" rel="external" download="">"Export the queue as CSV"</a>
        </section>
    }
    .into_any()
}

#[component]
pub fn ManualQueuePage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        QueueFilter {
            prefix: q.get("prefix").unwrap_or_default(),
            provider: q.get("provider").unwrap_or_default(),
            reason: q.get("reason").unwrap_or_default(),
            claim: q.get("claim").unwrap_or_else(|| claim_filter::ALL.into()),
            age: q.get("age").unwrap_or_default(),
            currency: q.get("currency").unwrap_or_default(),
            band: q.get("band").unwrap_or_default(),
        }
    };
    let page = move || query.read().get("page");
    // "Ask the bank about all matching…" asked for its confirmation, and the count a bulk
    // question answered with (a number, else nothing).
    let confirm_ask = move || query.read().get("ask").is_some();
    let asked = move || query.read().get("asked")?.parse::<usize>().ok();
    let none_to_take = move || query.read().get("taken").is_some_and(|t| t == "none");
    let given_back = move || {
        let q = query.read();
        let released = q.get("released")?.parse::<usize>().ok()?;
        let kept = q
            .get("kept")
            .and_then(|k| k.parse::<usize>().ok())
            .unwrap_or(0);
        Some((released, kept))
    };
    let release_all = ServerAction::<ReleaseMine>::new();
    let review = ServerAction::<ReviewNext>::new();
    let no_proposal = move || query.read().get("proposals").is_some_and(|p| p == "none");
    let ask_set = ServerAction::<AskBankSet>::new();
    let take = ServerAction::<TakeNext>::new();
    let data = Resource::new(move || (filter(), page()), |(f, p)| manual_queue(f, p));
    let board = Resource::new(|| (), |_| load_waiting_board());
    view! {
        <h1 class="text-2xl font-bold mb-3">"Manual queue"</h1>
        <Keys help="j / k or ↓ / ↑ move between orders · Enter opens one · n takes the next order · v reviews the next proposal · / find an order" />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                board.await.ok().map(|b| view! { <AgeingBoard board=b /> })
            })}
        </Suspense>
        <QueueFilterForm filter=Signal::derive(filter) />
        <IfAllowed action=Action::Claim>
            <TakeNextForm filter=filter() take />
        </IfAllowed>
        {action_error(take.value())}
        {move || none_to_take().then(|| view! {
            <p role="status" class="text-slate-700 mb-2" data-testid="none-to-take">
                "No unclaimed order matches this filter (orders awaiting approval wait for an approver): nothing was taken."
            </p>
        })}
        {action_error(ask_set.value())}
        {action_error(release_all.value())}
        {action_error(review.value())}
        {move || no_proposal().then(|| view! {
            <p role="status" class="text-slate-700 mb-2" data-testid="no-proposal">
                "No proposal awaits your approval (your own wait for a colleague)."
            </p>
        })}
        {move || given_back().map(|(released, kept)| view! {
            <p role="status" class="text-green-800 mb-2" data-testid="given-back">
                {match kept {
                    0 => format!("Gave back {released} orders: they wait for anyone again."),
                    kept => format!("Gave back {released} orders: they wait for anyone again. {kept} kept their claim (resolved or changed meanwhile: see each)."),
                }}
            </p>
        })}
        {move || asked().map(|n| view! {
            <p role="status" class="text-green-800 mb-2" data-testid="asked-result">
                {format!("Asked the bank about {n} orders: each answer shows on its lane, and a verdict takes the order off the queue.")}
            </p>
        })}
        <Loading what="the queue">
            {move || Suspend::new(async move {
                let f = filter();
                data.await.map(|q| {
                    let matching = q.matching;
                    view! {
                        {(f.claim == claim_filter::AWAITING_APPROVAL && q.awaiting_approval > 0).then(|| view! {
                            <IfAllowed action=Action::Approve>
                                <ActionForm action=review attr:class="mb-2" attr:aria-label="Review the next proposal">
                                    <button type="submit" data-key="v" class="px-3 py-1 rounded bg-blue-800 text-white">"Review the next proposal"</button>
                                    <span class="text-sm text-slate-600">" opens the proposal waiting longest that is not yours"</span>
                                </ActionForm>
                            </IfAllowed>
                        })}
                        {(f.claim == claim_filter::MINE && q.mine > 0).then(|| view! {
                            <IfAllowed action=Action::Release>
                                <ActionForm action=release_all attr:class="mb-2" attr:aria-label="Give back all my claims">
                                    <button type="submit" class="px-3 py-1 rounded border">
                                        {format!("Give back all {} of my claims", q.mine)}
                                    </button>
                                    <span class="text-sm text-slate-600">" at the end of a shift: they wait for anyone again (proposals awaiting approval keep theirs)"</span>
                                </ActionForm>
                            </IfAllowed>
                        })}
                        <QueueTable page=q filter=f.clone() />
                        <IfAllowed action=Action::RetryNow>
                            <BulkAsk filter=f.clone() matching confirm=confirm_ask() ask_set />
                        </IfAllowed>
                    }
                })
            })}
        </Loading>
    }
}

/// "Take the next order": the filter's unclaimed orders, the most urgent first, one
/// claimed for the person and opened.
#[component]
fn TakeNextForm(filter: QueueFilter, take: ServerAction<TakeNext>) -> impl IntoView {
    let hidden = [
        ("prefix", filter.prefix),
        ("provider", filter.provider),
        ("reason", filter.reason),
        ("age", filter.age),
        ("currency", filter.currency),
        ("band", filter.band),
    ];
    view! {
        <ActionForm action=take attr:class="flex gap-2 items-center mb-3" attr:aria-label="Take the next order">
            {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
            <button type="submit" data-key="n" class="px-3 py-1 rounded bg-blue-800 text-white">"Take the next order"</button>
            <span class="text-sm text-slate-600">"claims the unclaimed order of this filter that has waited longest, past the service level first, and opens it"</span>
        </ActionForm>
    }
}

#[component]
fn QueueFilterForm(filter: Signal<QueueFilter>) -> impl IntoView {
    view! {
        <FilterForm action="/" label="Filter the queue">
            <FilterField label="Order id starts with" name="prefix" value=Signal::derive(move || filter.get().prefix) />
            <FilterField label="Upstream" name="provider" value=Signal::derive(move || filter.get().provider) />
            <FilterField
                label="Error reason"
                name="reason"
                value=Signal::derive(move || filter.get().reason)
                placeholder="http_503"
            />
            <label class="flex flex-col text-sm">
                "Waiting"
                <select name="age" class="border rounded px-2 py-1">
                    <option value="" selected=move || filter.get().age.is_empty()>"any time"</option>
                    <option value=age_filter::AT_RISK selected=move || filter.get().age == age_filter::AT_RISK>"at risk or worse"</option>
                    <option value=age_filter::BREACHED selected=move || filter.get().age == age_filter::BREACHED>"past the service level"</option>
                </select>
            </label>
            <FilterField
                label="Currency"
                name="currency"
                value=Signal::derive(move || filter.get().currency)
                placeholder="USD"
            />
            <label class="flex flex-col text-sm">
                "Amount"
                <select name="band" class="border rounded px-2 py-1">
                    <option value="" selected=move || filter.get().band.is_empty()>"any amount"</option>
                    {amount_band::BANDS.iter().map(|(name, words, _, _)| view! {
                        <option value=*name selected=move || filter.get().band == *name>{*words}</option>
                    }).collect_view()}
                </select>
            </label>
            <input type="hidden" name="claim" value=move || filter.get().claim />
        </FilterForm>
    }
}

/// One claim tab (all, unclaimed, mine) with its count.
#[component]
fn ClaimTab(
    filter: QueueFilter,
    claim: &'static str,
    label: &'static str,
    count: usize,
) -> impl IntoView {
    let active = filter.claim == claim || (claim == claim_filter::ALL && filter.claim.is_empty());
    let class = if active {
        "px-3 py-1 rounded bg-slate-800 text-white"
    } else {
        "px-3 py-1 rounded bg-white border"
    };
    view! {
        <a href=filter.link(claim) aria-current=active.then_some("page") class=class>
            {label}
            " "
            <span data-testid=format!("count-{claim}")>{count}</span>
        </a>
    }
}

#[component]
fn QueueTable(page: QueuePage, filter: QueueFilter) -> impl IntoView {
    let next = page
        .next_page
        .clone()
        .map(|token| format!("{}&page={token}", filter.link(&filter.claim)));
    let order = if page.oldest_first {
        "oldest first"
    } else {
        "newest first (this Temporal's visibility store cannot sort)"
    };
    view! {
        <nav class="flex gap-2 mb-2" aria-label="Claim filter">
            <ClaimTab filter=filter.clone() claim=claim_filter::ALL label="All" count=page.all />
            <ClaimTab filter=filter.clone() claim=claim_filter::UNCLAIMED label="Unclaimed" count=page.unclaimed />
            <ClaimTab filter=filter.clone() claim=claim_filter::MINE label="Mine" count=page.mine />
            <ClaimTab filter=filter.clone() claim=claim_filter::AWAITING_APPROVAL label="Awaiting approval" count=page.awaiting_approval />
        </nav>
        <p class="text-sm text-slate-600 mb-2">
            {page.matching}
            " matching · "
            {order}
            " · "
            <a href=format!("/?age={}", age_filter::BREACHED) class="underline" data-testid="count-breached">
                {format!("{} past the service level ({})", page.breached, readable(i64::from(page.service_level.breach_secs)))}
            </a>
            " · counts from " <Moment at=page.counted_at.clone() text="just now".to_string() />
        </p>
        {(page.dropped > 0).then(|| view! {
            <p class="mb-2 p-2 bg-red-50 border border-red-200 rounded" role="alert" data-testid="dropped-banner">
                {match (page.dropped, page.dropped_more) {
                    (n, true) => format!("More than {n} orders dropped out of every queue: their runs ended without a resolution. "),
                    (1, false) => "1 order dropped out of every queue: its run ended without a resolution. ".to_string(),
                    (n, false) => format!("{n} orders dropped out of every queue: their runs ended without a resolution. "),
                }}
                <a href="/dropped" class="underline">"See the dropped orders"</a>
            </p>
        })}
        {large_note(&page.service_level)}
        <QueueRows rows=page.rows sla=page.service_level />
        {next.map(|href| view! {
            <a class="inline-block mt-3 underline" href=href rel="next">
                "Next page →"
            </a>
        })}
    }
}

/// "Ask the bank about all matching…" under the queue, then the question with the number
/// it will touch (after an outage, the bank often has the verdicts it could not give).
#[component]
fn BulkAsk(
    filter: QueueFilter,
    matching: usize,
    confirm: bool,
    ask_set: ServerAction<AskBankSet>,
) -> impl IntoView {
    if matching == 0 {
        return ().into_any();
    }
    let question = if matching > BULK_LIMIT {
        view! {
            <span class="text-sm text-slate-600" data-testid="ask-too-many">
                {format!("To ask the bank about them all, narrow the filter to at most {BULK_LIMIT} orders.")}
            </span>
        }
        .into_any()
    } else if confirm {
        let hidden = [
            ("prefix", filter.prefix.clone()),
            ("provider", filter.provider.clone()),
            ("reason", filter.reason.clone()),
            ("claim", filter.claim.clone()),
            ("age", filter.age.clone()),
            ("currency", filter.currency.clone()),
            ("band", filter.band.clone()),
            ("expected", matching.to_string()),
        ];
        view! {
            <ActionForm action=ask_set attr:class="flex gap-2 items-center" attr:aria-label="Ask the bank about all matching">
                {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value /> }).collect_view()}
                <span data-testid="ask-confirm">{format!("This will ask the bank again about {matching} orders.")}</span>
                <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">"Yes, ask the bank"</button>
                <a href=filter.link(&filter.claim) class="underline">"Cancel"</a>
            </ActionForm>
        }
        .into_any()
    } else {
        let ask = format!("{}&ask=1", filter.link(&filter.claim));
        view! { <a class="px-3 py-1 rounded border" href=ask>{format!("Ask the bank about all {matching} matching…")}</a> }.into_any()
    };
    view! { <div class="mt-3 flex gap-3 items-center">{question}</div> }.into_any()
}

/// What a large order is, when the service level weighs amounts.
fn large_note(sla: &ServiceLevel) -> Option<impl IntoView + use<>> {
    let from = &sla.large.from;
    (!from.is_empty()).then(|| {
        let amounts = from
            .iter()
            .map(|f| crate::domain::money::format_amount_grouped(f.minor, &f.currency, f.exponent))
            .collect::<Vec<_>>()
            .join(", ");
        view! {
            <p class="text-sm text-slate-700 mb-2" data-testid="large-rule">
                {format!(
                    "Large orders ({amounts} or more) are at risk after {} and past the service level after {}.",
                    readable(i64::from(sla.large.at_risk_secs)),
                    readable(i64::from(sla.large.breach_secs)),
                )}
            </p>
        }
    })
}

#[component]
fn QueueRows(rows: Vec<QueueRow>, sla: ServiceLevel) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p data-testid="queue-empty">"No order is waiting here."</p> }.into_any();
    }
    view! {
        <div class="overflow-x-auto">
            <table class="w-full bg-white shadow rounded text-sm" data-testid="manual-queue">
                <thead class="text-left bg-slate-100">
                    <tr>
                        <th class="p-2">"Order"</th>
                        <th class="p-2">"Upstream"</th>
                        <th class="p-2">"Amount"</th>
                        <th class="p-2">"Waiting"</th>
                        <th class="p-2">"Priority"</th>
                        <th class="p-2">"First error"</th>
                        <th class="p-2" title="the stale retry's error, or the bank's answer to the latest question a person asked">"Latest error"</th>
                        <th class="p-2">"Attempts"</th>
                        <th class="p-2">"Claimed by"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <QueueLine row sla=sla.clone() /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn QueueLine(row: QueueRow, sla: ServiceLevel) -> impl IntoView {
    let band = sla.band_of(row.waiting_secs, row.amount.as_ref());
    let large = sla.is_large(row.amount.as_ref());
    let (class, words) = match band {
        AgeBand::Within => ("text-green-800", "within service level"),
        AgeBand::AtRisk => ("text-amber-800 font-semibold", "at risk"),
        AgeBand::Breached => ("text-red-800 font-bold", "past the service level"),
    };
    let stale_claim = row
        .claim_is_stale(&sla)
        .then(|| readable(row.claimed_secs.unwrap_or_default()));
    view! {
        <tr class="border-t" data-order=row.order_id.clone() data-row="">
            <td class="p-2">
                <a class="text-blue-700 underline" href=format!("/orders/{}", row.order_id)>
                    {row.order_id.clone()}
                </a>
                {(!row.reference.is_empty()).then(|| view! {
                    <div class="text-xs text-slate-600" data-testid="reference" title="the gateway's reference">{row.reference.clone()}</div>
                })}
                {(row.notes > 0).then(|| view! {
                    <span class="ml-1 px-1 rounded bg-sky-100 text-sky-900 text-xs" data-testid="notes" title="notes colleagues left: open the order to read them">
                        {match row.notes { 1 => "1 note".to_string(), n => format!("{n} notes") }}
                    </span>
                })}
            </td>
            <td class="p-2">{row.provider}</td>
            <td class="p-2 tabular-nums" data-testid="amount">
                {crate::domain::money::amount_shown(row.amount.as_ref())}
                {large.then(|| view! {
                    <span class="ml-1 px-1 rounded bg-slate-200 text-slate-900 text-xs" data-testid="large" title="a large order: its service level is shorter">
                        "large"
                    </span>
                })}
            </td>
            <td class=format!("p-2 {class}") data-testid="age">
                <Moment at=row.waiting_since text=readable(row.waiting_secs) />
                <span class="sr-only">{format!(" ({words})")}</span>
                <span aria-hidden="true" title=words class="ml-1">{match band { AgeBand::Within => "", AgeBand::AtRisk => "▲", AgeBand::Breached => "■" }}</span>
            </td>
            <td class="p-2">{row.priority}</td>
            <td class="p-2"><code>{or_dash(row.original_reason)}</code></td>
            <td class="p-2"><code>{row.error_reason}</code></td>
            <td class="p-2">{or_dash(row.attempts.map(|a| a.to_string()))}</td>
            <td class="p-2">
                {stale_claim.map(|held| view! {
                    <span class="mr-1 px-1 rounded bg-red-100 text-red-900 text-xs" data-testid="stale-claim">
                        {format!("held {held}")}
                    </span>
                })}
                {or_dash(row.claimed_by)}
                {row.awaiting_approval.then(|| view! {
                    <span class="ml-1 px-1 rounded bg-amber-100 text-amber-900 text-xs">
                        "awaiting approval"
                    </span>
                })}
            </td>
        </tr>
    }
}
