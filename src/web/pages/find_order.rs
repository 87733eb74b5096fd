//! *Find an order*: the header's search box. An order id (or a gateway reference one order
//! has) opens its lane; the start of an id lists every order it begins, whatever its stage,
//! running or closed.

use leptos::prelude::*;

use super::{Loading, When, or_dash};
use crate::{
    domain::listing::{FoundOrder, FoundOrders},
    web::error::AppError,
};

/// The orders whose id starts with `q`; the lane itself when one's id is exactly `q`.
#[server]
pub async fn find_orders(q: String) -> Result<(FoundOrders, String), AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    let found = crate::operations::find::find_orders(&state.client, &q).await?;
    if let Some(order) = crate::operations::find::exact(&found) {
        super::show_next("/orders/", &order.order_id);
    } else if let Some(contract) = &found.contract {
        super::show_next("/contracts/", contract);
    }
    let now = crate::domain::format::rfc3339(std::time::SystemTime::now());
    Ok((found, now))
}

/// The search box every page's header carries (`/` puts the cursor in it).
#[component]
pub fn FindBox() -> impl IntoView {
    view! {
        <form action="/find" method="get" role="search" class="flex gap-1 items-center">
            <label for="find-order" class="sr-only">"Find an order by its id or reference"</label>
            <input
                id="find-order"
                type="search"
                name="q"
                data-key="/"
                required
                maxlength=crate::domain::input::MAX_ORDER_ID_LEN.to_string()
                placeholder="Find an order"
                class="rounded px-2 py-1 text-sm bg-white text-slate-900 w-48"
            />
        </form>
    }
}

#[component]
pub fn FindOrderPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let text = move || query.read().get("q").unwrap_or_default();
    let found = Resource::new(text, find_orders);
    view! {
        <h1 class="text-2xl font-bold mb-3">"Find an order"</h1>
        <form action="/find" method="get" role="search" class="flex gap-2 items-center mb-3">
            <label for="find-page-order">"Order id, how it starts, or the gateway's reference"</label>
            <input id="find-page-order" name="q" value=text required class="border rounded px-2 py-1" />
            <button type="submit" class="px-3 py-1 rounded bg-blue-800 text-white">"Find"</button>
        </form>
        <p class="text-sm text-slate-600 mb-3 max-w-3xl">
            "Every order whose id starts with what you type, or whose gateway reference is what you type, in any stage: still asking the bank, stale, in the manual queue, resolved or dropped. An order's whole id (or a reference only one order has) opens its lane."
        </p>
        {move || (!text().trim().is_empty()).then(|| view! {
            <Loading what="the orders found">
                {move || Suspend::new(async move {
                    found.await.map(|(found, now)| view! { <FoundList found now /> })
                })}
            </Loading>
        })}
    }
}

#[component]
fn FoundList(found: FoundOrders, now: String) -> impl IntoView {
    if let Some(contract) = found.contract.clone() {
        let link = format!(
            "/contracts/{}",
            crate::domain::format::url_component(&contract)
        );
        return view! {
            <p data-testid="found-contract">
                {format!("No order's id starts with {:?}; it is a recurring contract: ", found.text)}
                <a class="underline text-blue-700" href=link>{contract}</a>
            </p>
        }
        .into_any();
    }
    if found.rows.is_empty() {
        return view! {
            <p data-testid="found-none">{format!("No order's id starts with {:?}, and no order has it as its gateway reference.", found.text)}</p>
        }
        .into_any();
    }
    let summary = match found.more {
        true => format!(
            "More orders start with {:?} than one search shows: these are some of them. Type more of the id.",
            found.text
        ),
        false => format!("{} found, newest first.", found.rows.len()),
    };
    view! {
        <p class="mb-2" data-testid="found-summary">{summary}</p>
        <table class="w-full bg-white shadow rounded text-sm" data-testid="found-orders">
            <thead class="text-left bg-slate-100">
                <tr>
                    <th class="p-2">"Order"</th>
                    <th class="p-2">"Stage"</th>
                    <th class="p-2">"Amount"</th>
                    <th class="p-2">"Reference"</th>
                    <th class="p-2">"Upstream"</th>
                    <th class="p-2">"Started"</th>
                </tr>
            </thead>
            <tbody>
                {found.rows.into_iter().map(|row| view! { <FoundLine row now=now.clone() /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn FoundLine(row: FoundOrder, now: String) -> impl IntoView {
    let link = format!(
        "/orders/{}",
        crate::domain::format::url_component(&row.order_id)
    );
    let stage = row.standing();
    let amount = crate::domain::money::amount_shown(row.amount.as_ref());
    let id = row.order_id.clone();
    view! {
        <tr class="border-t align-top" data-order=id data-row="">
            <td class="p-2"><a class="underline text-blue-700" href=link>{row.order_id}</a></td>
            <td class="p-2" data-testid="found-stage">{stage}</td>
            <td class="p-2">{amount}</td>
            <td class="p-2">{or_dash(row.reference)}</td>
            <td class="p-2">{or_dash(row.provider)}</td>
            <td class="p-2"><When at=row.started_at now /></td>
        </tr>
    }
}
