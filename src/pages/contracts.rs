//! Recurring contracts (finance): every schedule, a contract's page with its payment
//! history, create, pause / resume / cancel with a reason.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{ErrorBanner, action_error};
use crate::contracts::{ContractDetail, ContractSummary, DEFAULT_TIME_ZONE, TermRun};

#[cfg(feature = "ssr")]
fn contract_error(e: crate::temporal::contracts::ContractOpError) -> ServerFnError {
    ServerFnError::new(e.to_string())
}

/// Every contract with its terms: the list, then one describe per contract, eight at a time.
#[server]
pub async fn list_contracts()
-> Result<Vec<(ContractSummary, Option<ContractDetail>)>, ServerFnError> {
    use futures::StreamExt;
    let state = expect_context::<crate::server::AppState>();
    let client = &state.client;
    let list = crate::temporal::contracts::list(client)
        .await
        .map_err(contract_error)?;
    Ok(futures::stream::iter(list)
        .map(|summary| async move {
            let detail = crate::temporal::contracts::detail(client, &summary.contract_id)
                .await
                .ok();
            (summary, detail)
        })
        .buffered(8)
        .collect()
        .await)
}

#[server]
pub async fn load_contract(
    contract_id: String,
) -> Result<(ContractDetail, Vec<TermRun>), ServerFnError> {
    let state = expect_context::<crate::server::AppState>();
    let detail = crate::temporal::contracts::detail(&state.client, &contract_id)
        .await
        .map_err(contract_error)?;
    let runs = crate::temporal::contracts::terms_run(&state.client, &contract_id, 100)
        .await
        .map_err(contract_error)?;
    Ok((detail, runs))
}

// One argument per form field: that is how ActionForm posts without JavaScript.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_contract(
    contract_id: String,
    customer: String,
    plan: String,
    amount_cents: i64,
    currency: String,
    every: String,
    cron: String,
    time_zone: String,
    total_terms: u32,
) -> Result<Vec<String>, ServerFnError> {
    use crate::contracts::{Cadence, ContractTerms, NewContract, parse_interval};
    super::operator::require_operator()?;
    let cadence = if !cron.trim().is_empty() {
        Cadence::Cron {
            expression: cron.trim().to_string(),
        }
    } else {
        Cadence::Every {
            seconds: parse_interval(&every).map_err(|e| ServerFnError::new(e.to_string()))?,
        }
    };
    let state = expect_context::<crate::server::AppState>();
    let next = crate::temporal::contracts::create(
        &state.client,
        NewContract {
            terms: ContractTerms {
                contract_id: contract_id.trim().to_string(),
                customer,
                plan,
                amount_cents,
                currency: currency.trim().to_string(),
            },
            cadence,
            time_zone: time_zone.trim().to_string(),
            total_terms,
        },
    )
    .await
    .map_err(contract_error)?;
    Ok(next)
}

/// `pause`, `resume` or `cancel`, with a reason.
#[server]
pub async fn change_contract(
    contract_id: String,
    change: String,
    reason: String,
) -> Result<(), ServerFnError> {
    let operator = super::operator::require_operator()?;
    if reason.trim().is_empty() {
        return Err(ServerFnError::new(
            "give a reason: it is recorded on the contract",
        ));
    }
    let state = expect_context::<crate::server::AppState>();
    let c = &state.client;
    match change.as_str() {
        "pause" => {
            crate::temporal::contracts::set_paused(c, &contract_id, &operator, &reason, true).await
        }
        "resume" => {
            crate::temporal::contracts::set_paused(c, &contract_id, &operator, &reason, false).await
        }
        "cancel" => crate::temporal::contracts::cancel(c, &contract_id, &operator, &reason).await,
        other => {
            return Err(ServerFnError::new(format!(
                "{other:?} is not a change: use pause, resume or cancel"
            )));
        }
    }
    .map_err(contract_error)
}

#[component]
pub fn ContractsPage() -> impl IntoView {
    let create = ServerAction::<CreateContract>::new();
    let contracts = Resource::new(move || create.version().get(), |_| list_contracts());
    view! {
        <h1 class="text-2xl font-bold mb-3">"Recurring contracts"</h1>
        {action_error(create.value())}
        {move || create.value().get().and_then(|r| r.ok()).map(|next| view! {
            <p role="status" class="text-green-800" data-testid="created">"Created. Next charges: " {next.join(", ")}</p>
        })}
        <Suspense fallback=|| view! { <p role="status">"Loading contracts from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorBanner errors /> }>
                {move || Suspend::new(async move {
                    contracts.await.map(|list| view! {
                        <table class="w-full bg-white shadow rounded text-sm mb-6" data-testid="contracts">
                            <thead class="text-left bg-slate-100"><tr>
                                <th class="p-2">"Contract"</th><th class="p-2">"State"</th><th class="p-2">"Amount"</th><th class="p-2">"Plan"</th>
                                <th class="p-2">"Schedule"</th><th class="p-2">"Terms left"</th><th class="p-2">"Next charges"</th><th class="p-2">"Note"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|(c, d)| {
                                    let terms = d.as_ref().and_then(|d| d.terms.clone());
                                    view! {
                                    <tr class="border-t" data-contract=c.contract_id.clone()>
                                        <td class="p-2"><a class="underline text-blue-700" href=format!("/contracts/{}", c.contract_id)>{c.contract_id.clone()}</a></td>
                                        <td class="p-2">{if c.cancelled { "cancelled" } else if c.paused { "paused" } else { "active" }}</td>
                                        <td class="p-2">{terms.as_ref().map(|t| crate::contracts::format_amount(t.amount_cents, &t.currency)).unwrap_or_default()}</td>
                                        <td class="p-2">{terms.map(|t| t.plan).unwrap_or_default()}</td>
                                        <td class="p-2">{d.as_ref().map(|d| format!("{} ({})", d.cadence, d.time_zone)).unwrap_or_default()}</td>
                                        <td class="p-2">{d.as_ref().map(|d| d.terms_left.map(|n| n.to_string()).unwrap_or_else(|| "until cancelled".into())).unwrap_or_default()}</td>
                                        <td class="p-2">{c.next_charges.join(", ")}</td>
                                        <td class="p-2">{c.note}</td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    })
                })}
            </ErrorBoundary>
        </Suspense>
        <ActionForm action=create attr:class="bg-white rounded shadow p-3 grid gap-2 sm:grid-cols-3 max-w-3xl" attr:aria-label="Create a contract">
            <h2 class="font-semibold sm:col-span-3">"New contract"</h2>
            <label class="flex flex-col text-sm">"Contract id"<input name="contract_id" required maxlength="64" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Customer"<input name="customer" required class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Plan"<input name="plan" value="membership-monthly" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Amount (cents)"<input name="amount_cents" type="number" min="1" value="999" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Currency"<input name="currency" value="USD" maxlength="3" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Terms (0 = until cancelled)"<input name="total_terms" type="number" min="0" value="12" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Every"<input name="every" value="30d" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"or cron"<input name="cron" placeholder="0 9 1 * *" class="border rounded px-2 py-1" /></label>
            <label class="flex flex-col text-sm">"Time zone"<input name="time_zone" value=DEFAULT_TIME_ZONE class="border rounded px-2 py-1" /></label>
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white justify-self-start">"Create"</button>
        </ActionForm>
    }
}

#[component]
pub fn ContractPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let change = ServerAction::<ChangeContract>::new();
    let data = Resource::new(
        move || (id(), change.version().get()),
        |(id, _)| load_contract(id),
    );
    view! {
        <h1 class="text-2xl font-bold mb-3">"Contract " {id}</h1>
        {action_error(change.value())}
        <Suspense fallback=|| view! { <p role="status">"Loading the contract from Temporal…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorBanner errors /> }>
                {move || Suspend::new(async move {
                    data.await.map(|(d, runs)| view! { <ContractView detail=d runs change /> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn ContractView(
    detail: ContractDetail,
    runs: Vec<TermRun>,
    change: ServerAction<ChangeContract>,
) -> impl IntoView {
    let state = if detail.cancelled {
        "cancelled"
    } else if detail.paused {
        "paused"
    } else {
        "active"
    };
    let id = detail.contract_id.clone();
    let terms = detail.terms.clone();
    view! {
        <dl class="grid grid-cols-2 gap-x-4 gap-y-1 bg-white rounded shadow p-3 mb-3 max-w-2xl text-sm">
            <dt>"State"</dt><dd data-testid="contract-state">{state}</dd>
            <dt>"Amount"</dt><dd>{terms.as_ref().map(|t| crate::contracts::format_amount(t.amount_cents, &t.currency)).unwrap_or_default()}</dd>
            <dt>"Plan"</dt><dd>{terms.as_ref().map(|t| t.plan.clone()).unwrap_or_default()}</dd>
            <dt>"Customer"</dt><dd>{terms.as_ref().map(|t| t.customer.clone()).unwrap_or_default()}</dd>
            <dt>"Schedule"</dt><dd>{detail.cadence.clone()} " (" {detail.time_zone.clone()} ")"</dd>
            <dt>"Terms left"</dt><dd>{detail.terms_left.map(|n| n.to_string()).unwrap_or_else(|| "until cancelled".into())}</dd>
            <dt>"Charges started"</dt><dd>{detail.charges_started}</dd>
            <dt>"Next charges"</dt><dd data-testid="next-charges">{detail.next_charges.join(", ")}</dd>
            <dt>"Note"</dt><dd>{detail.note.clone()}</dd>
        </dl>
        {(!detail.cancelled).then(|| view! {
            <ActionForm action=change attr:class="flex flex-wrap gap-2 items-end mb-4" attr:aria-label="Change the contract">
                <input type="hidden" name="contract_id" value=id.clone() />
                <label class="flex flex-col text-sm">"Reason"<input name="reason" required maxlength="500" class="border rounded px-2 py-1" /></label>
                <label class="flex flex-col text-sm">"Change"
                    <select name="change" class="border rounded px-2 py-1">
                        {(!detail.paused).then(|| view! { <option value="pause">"Pause"</option> })}
                        {detail.paused.then(|| view! { <option value="resume">"Resume"</option> })}
                        <option value="cancel">"Cancel"</option>
                    </select>
                </label>
                <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">"Apply"</button>
            </ActionForm>
        })}
        <h2 class="text-xl font-semibold mb-2">"Payment history"</h2>
        {if runs.is_empty() {
            view! { <p>"No term has run yet."</p> }.into_any()
        } else {
            view! {
                <ul class="text-sm" data-testid="payment-history">
                    {runs.into_iter().map(|r| view! { <li>{r.started_at} " · " {r.workflow_id} " · " <strong>{r.status}</strong></li> }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}
