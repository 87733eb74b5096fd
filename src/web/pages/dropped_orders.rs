//! Dropped orders: orders whose run ended without a resolution (terminated from outside,
//! failed, timed out) and that wait in no queue; support puts one back in the manual queue,
//! saying why.

use leptos::prelude::*;

use super::{Loading, When, action_error};
use crate::{
    domain::access::Action,
    domain::listing::{DroppedOrder, DroppedOrders},
    web::error::AppError,
};

#[server]
pub async fn load_dropped_orders() -> Result<(DroppedOrders, String), AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    let list = crate::operations::dropped::dropped_orders(&state.client).await?;
    // Ages on the page count from when it was read.
    let now = crate::domain::format::rfc3339(std::time::SystemTime::now());
    Ok((list, now))
}

/// Who asks to put orders back, if their role allows it (`Resolve`).
#[cfg(feature = "ssr")]
fn who_puts_back() -> Result<crate::domain::resolution::Stamp, AppError> {
    let actor = crate::web::auth::require(crate::domain::access::Action::Resolve)?.actor();
    Ok(crate::domain::resolution::Stamp {
        operator: actor.name,
        operator_id: actor.id,
        at: String::new(),
    })
}

/// Puts a dropped order back in the manual queue, then opens its lane.
#[server]
pub async fn put_back(order_id: String, reason: String) -> Result<(), AppError> {
    let by = who_puts_back()?;
    let state = crate::web::state::app_state()?;
    let started =
        crate::operations::dropped::put_back(&state.client, &order_id, by.clone(), &reason).await?;
    tracing::info!(
        order_id,
        started,
        operator = by.operator,
        reason,
        "an order was put back in the queue"
    );
    state.board.recount_dropped();
    super::show_next("/orders/", &order_id);
    Ok(())
}

/// Puts every listed dropped order back in the queue (if the list still holds the
/// `expected` orders the person was shown), then back to the list, saying how many.
#[server]
pub async fn put_back_all(expected: usize, reason: String) -> Result<usize, AppError> {
    let by = who_puts_back()?;
    let state = crate::web::state::app_state()?;
    let done =
        crate::operations::dropped::put_back_all(&state.client, expected, by.clone(), &reason)
            .await?;
    for (order_id, why) in &done.refused {
        tracing::warn!(
            order_id,
            why,
            "a dropped order could not go back to the queue"
        );
    }
    tracing::info!(
        put_back = done.put_back,
        refused = done.refused.len(),
        operator = by.operator,
        reason,
        "dropped orders were put back in the queue"
    );
    state.board.recount_dropped();
    leptos_axum::redirect(&format!(
        "/dropped?put_back={}&refused={}",
        done.put_back,
        done.refused.len()
    ));
    Ok(done.put_back)
}

#[component]
pub fn DroppedOrdersPage() -> impl IntoView {
    let put = ServerAction::<PutBack>::new();
    let put_all = ServerAction::<PutBackAll>::new();
    let query = leptos_router::hooks::use_query_map();
    let confirm = move || query.read().get("confirm").is_some();
    // What the bulk put-back answered with (numbers, else nothing).
    let number = move |key: &str| query.read().get(key)?.parse::<usize>().ok();
    let data = Resource::new(|| (), |_| load_dropped_orders());
    view! {
        <h1 class="text-2xl font-bold mb-3">"Dropped orders"</h1>
        <p class="text-sm mb-3 max-w-3xl">
            {format!("Orders of the last {} days whose run ended without a resolution (terminated from Temporal's CLI or web UI, failed, timed out) and that wait in no queue. Put one back in the manual queue, saying why: its lane will say who did, when, and what had ended.", crate::domain::listing::DROPPED_WINDOW_DAYS)}
        </p>
        {action_error(put.value())}
        {action_error(put_all.value())}
        {move || number("put_back").map(|n| {
            let refused = number("refused").unwrap_or(0);
            let more = match refused {
                0 => String::new(),
                m => format!(" {m} could not: they are still listed, and each one's lane says why when you try it alone."),
            };
            view! {
                <p role="status" class="text-green-800" data-testid="put-back-result">
                    {format!("Put {n} orders back in the queue.{more}")}
                </p>
            }
        })}
        <Loading what="the dropped orders">
            {move || Suspend::new(async move {
                data.await.map(|(list, now)| {
                    let partial = list.partial.then(|| view! {
                        <p class="text-amber-800 mb-2" data-testid="dropped-partial">
                            "More orders are dropped than one list shows: these are the newest. Put them back, and the next ones show."
                        </p>
                    });
                    let rows = list.rows;
                    let all = (may_put_back() && !rows.is_empty())
                        .then(|| view! { <PutAllBack count=rows.len() confirm=confirm() put_all /> });
                    view! {
                        {partial}
                        {all}
                        {match rows.is_empty() {
                            true => view! { <p data-testid="no-dropped">"No order has dropped out of the queues."</p> }.into_any(),
                            false => view! { <DroppedTable rows put now /> }.into_any(),
                        }}
                    }
                })
            })}
        </Loading>
    }
}

fn may_put_back() -> bool {
    super::page_session().may(Action::Resolve)
}

/// "Put all back…", then the question with the number it will touch and a reason.
#[component]
fn PutAllBack(count: usize, confirm: bool, put_all: ServerAction<PutBackAll>) -> impl IntoView {
    let question = match confirm {
        true => view! {
            <ActionForm action=put_all attr:class="flex gap-2 items-center">
                <input type="hidden" name="expected" value=count.to_string() />
                <span data-testid="put-all-confirm">{format!("This will put {count} orders back in the manual queue.")}</span>
                <label for="put-all-reason">"Why"</label>
                <input id="put-all-reason" name="reason" required class="border rounded px-2 py-1" />
                <button type="submit" class="px-3 py-1 rounded bg-amber-800 text-white">"Yes, put them back"</button>
                <a href="/dropped" class="underline">"Cancel"</a>
            </ActionForm>
        }
        .into_any(),
        false => view! { <a class="px-3 py-1 rounded border" href="/dropped?confirm=1">"Put all back…"</a> }
            .into_any(),
    };
    view! {
        <div class="mb-3 flex gap-3 items-center">
            <span data-testid="dropped-count">{count} " dropped"</span>
            {question}
        </div>
    }
}

#[component]
fn DroppedTable(rows: Vec<DroppedOrder>, put: ServerAction<PutBack>, now: String) -> impl IntoView {
    view! {
        <table class="w-full bg-white shadow rounded text-sm" data-testid="dropped-orders">
            <thead class="text-left bg-slate-100">
                <tr>
                    <th class="p-2">"Order"</th>
                    <th class="p-2">"Stage"</th>
                    <th class="p-2">"Ended"</th>
                    <th class="p-2">"By"</th>
                    <th class="p-2">"Why"</th>
                    <th class="p-2"></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| view! { <DroppedLine row put now=now.clone() /> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn DroppedLine(row: DroppedOrder, put: ServerAction<PutBack>, now: String) -> impl IntoView {
    let link = format!("/orders/{}", row.order_id);
    let label = format!("Why {} goes back to the queue", row.order_id);
    let order_id = row.order_id.clone();
    // The server refuses a put-back to anyone else anyway; this only keeps it off the row.
    let may_put_back = may_put_back();
    view! {
        <tr class="border-t align-top" data-order=row.order_id.clone() data-row="">
            <td class="p-2"><a class="underline text-blue-700" href=link>{row.order_id.clone()}</a></td>
            <td class="p-2">{row.stage}</td>
            <td class="p-2">{row.ended} " " <When at=row.ended_at now /></td>
            <td class="p-2">{row.by}</td>
            <td class="p-2">{row.why}</td>
            <td class="p-2">
                {may_put_back.then(|| view! {
                    <ActionForm action=put attr:class="flex gap-2 items-center" attr:data-testid="put-back">
                        <input type="hidden" name="order_id" value=order_id />
                        <input name="reason" required aria-label=label placeholder="why" class="border rounded px-2 py-1" />
                        <button type="submit" class="px-3 py-1 rounded bg-blue-800 text-white">"Back to the queue"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
