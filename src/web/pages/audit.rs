//! The audit trail (finance and admin): who did what and when, across orders, contracts
//! and statement imports, filtered by person, action, days and one order, contract or
//! import; the same rows as CSV at `/audit.csv`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{FilterField, FilterForm, Loading};
use crate::{
    domain::audit::{AuditEntry, AuditFilter, AuditPage},
    web::error::AppError,
};

#[server]
pub async fn load_audit(filter: AuditFilter, page: Option<String>) -> Result<AuditPage, AppError> {
    use crate::operations::audit::{contract_entries, lists_cut, orders_page, statement_entries};
    crate::web::auth::require(crate::domain::access::Action::Audit)?;
    let state = crate::web::state::app_state()?;
    let client = &state.client;
    let mut listed = orders_page(client, &filter, page.as_deref()).await?;
    // Contracts once, on the first page.
    if page.is_none() {
        listed
            .entries
            .extend(contract_entries(client, &filter).await?);
        listed
            .entries
            .extend(statement_entries(client, &filter).await?);
        listed.cut = lists_cut(client, &filter).await?;
    }
    Ok(listed)
}

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        AuditFilter {
            actor: q.get("actor").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            since: q.get("since").unwrap_or_default(),
            until: q.get("until").unwrap_or_default(),
            target: q.get("target").unwrap_or_default(),
        }
    };
    let page = move || query.read().get("page");
    let data = Resource::new(move || (filter(), page()), |(f, p)| load_audit(f, p));
    view! {
        <h1 class="text-2xl font-bold mb-3">"Audit trail"</h1>
        <FilterForm action="/audit" label="Filter the audit trail">
            <FilterField label="Person" name="actor" value=Signal::derive(move || filter().actor) />
            <FilterField label="Action" name="action" value=Signal::derive(move || filter().action) placeholder="approve" />
            <FilterField label="From (UTC day)" name="since" value=Signal::derive(move || filter().since) placeholder="2026-11-01" />
            <FilterField label="To (UTC day)" name="until" value=Signal::derive(move || filter().until) placeholder="2026-11-30" />
            <FilterField label="Order, contract or import" name="target" value=Signal::derive(move || filter().target) placeholder="its whole id" />
        </FilterForm>
        <a class="underline text-blue-700" href=move || format!("/audit.csv?{}", filter().query()) download="audit.csv">
            "Export as CSV"
        </a>
        <Loading what="the audit trail">
            {move || Suspend::new(async move {
                let f = filter();
                data.await.map(|p| view! { <AuditTable page=p filter=f /> })
            })}
        </Loading>
    }
}

#[component]
fn AuditTable(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    let next = page
        .next_page
        .map(|token| format!("/audit?{}&page={token}", filter.query()));
    let cut = (!page.cut.is_empty()).then(|| {
        view! {
            <ul class="text-sm text-amber-800 mt-2" data-testid="audit-cut">
                {page.cut.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
            </ul>
        }
    });
    if page.entries.is_empty() {
        return view! { {cut} <p data-testid="audit-empty">"Nobody did anything that matches."</p> }
            .into_any();
    }
    view! {
        {cut}
        <div class="overflow-x-auto mt-3">
            <table class="w-full bg-white shadow rounded text-sm" data-testid="audit">
                <thead class="text-left bg-slate-100">
                    <tr>
                        <th class="p-2">"When (UTC)"</th>
                        <th class="p-2">"Who"</th>
                        <th class="p-2">"Action"</th>
                        <th class="p-2">"Order or contract"</th>
                        <th class="p-2">"Outcome"</th>
                        <th class="p-2">"Channel"</th>
                        <th class="p-2">"Client"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.entries.into_iter().map(|entry| view! { <AuditLine entry /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <a class="inline-block mt-3 underline" href=href rel="next">"Older orders →"</a> })}
    }
    .into_any()
}

#[component]
fn AuditLine(entry: AuditEntry) -> impl IntoView {
    let link = match entry.contract {
        true => format!("/contracts/{}", entry.target),
        false if crate::domain::statement::is_import_id(&entry.target) => {
            format!("/statements/{}", entry.target)
        }
        false => format!("/orders/{}", entry.target),
    };
    view! {
        <tr class="border-t">
            <td class="p-2">{match entry.at.is_empty() {
                true => view! { <span>"—"</span> }.into_any(),
                false => view! { <time datetime=entry.at.clone()>{entry.at.replacen('T', " ", 1).replace('Z', "")}</time> }.into_any(),
            }}</td>
            <td class="p-2">{entry.actor}</td>
            <td class="p-2">{entry.action}</td>
            <td class="p-2"><a class="underline text-blue-700" href=link>{entry.target}</a></td>
            <td class="p-2">{entry.outcome}</td>
            <td class="p-2" data-testid="channel">{super::or_dash(entry.channel)}</td>
            <td class="p-2 text-xs">{entry.origin}</td>
        </tr>
    }
}
