//! Recurring contracts (finance): every schedule, a contract's page with its payment
//! history, create, pause / resume / cancel with a reason.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::{IfAllowed, Loading, Moment, When, action_error, live_marker, own_error};
use crate::{
    domain::access::Action,
    domain::audit::AuditEntry,
    domain::contract::{
        Charge, ContractDetail, ContractSummary, ContractsPage, DEFAULT_TIME_ZONE, TermRun,
        UnconfirmedCharges,
    },
    domain::input::{MAX_NOTE_LEN, MAX_ORDER_ID_LEN},
    domain::money::format_amount_grouped,
    web::error::AppError,
};

/// One page of contracts with their terms.
#[server]
pub async fn list_contracts(page: Option<String>) -> Result<ContractsPage, AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    let contracts = crate::operations::contracts::page_with_details(&state.client, page.as_deref());
    Ok(contracts.await?)
}

/// One contract as its schedule describes it (the list's line after a create).
#[server]
pub async fn describe_contract(contract_id: String) -> Result<ContractDetail, AppError> {
    crate::web::auth::require(crate::domain::access::Action::Read)?;
    let state = crate::web::state::app_state()?;
    let detail = crate::operations::contracts::detail(&state.client, &contract_id);
    Ok(detail.await?)
}

/// A contract's page: its facts, its payment history and, for those who may read the
/// audit trail, its recorded changes (`None` for the others).
pub type ContractView = (ContractDetail, Vec<TermRun>, Option<Vec<AuditEntry>>);

#[server]
pub async fn load_contract(contract_id: String) -> Result<ContractView, AppError> {
    use crate::operations::{
        audit::contract_changes,
        contracts::{TERMS_SHOWN, detail, terms_run},
    };
    let person = crate::web::auth::require(Action::Read)?;
    let state = crate::web::state::app_state()?;
    let client = &state.client;
    let detail = detail(client, &contract_id).await?;
    let runs = terms_run(client, &contract_id, TERMS_SHOWN).await?;
    let changes = match crate::domain::access::allows(&person.roles, Action::Audit) {
        true => Some(contract_changes(client, &contract_id).await?),
        false => None,
    };
    Ok((detail, runs, changes))
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
) -> Result<Vec<Charge>, AppError> {
    use crate::domain::contract::{Cadence, NewContract, parse_interval};
    let operator = crate::web::auth::require(crate::domain::access::Action::ManageContracts)?.name;
    let cadence = match cron.trim() {
        "" => Cadence::Every {
            seconds: parse_interval(&every)?,
        },
        expression => Cadence::Cron {
            expression: expression.to_string(),
        },
    };
    let contract = NewContract {
        terms: crate::domain::contract::ContractTerms {
            contract_id: contract_id.trim().to_string(),
            customer,
            plan,
            amount_cents,
            currency: currency.trim().to_string(),
            until_cancelled: None,
        },
        cadence,
        time_zone: time_zone.trim().to_string(),
        total_terms,
    };
    let id = contract.terms.contract_id.clone();
    let state = crate::web::state::app_state()?;
    let limits = &state.contract_limits;
    let next = crate::operations::contracts::create(&state.client, contract, limits, &operator);
    let next = next.await?;
    // Back to the list, which says what was created.
    super::show_next("/contracts?created=", &id);
    Ok(next)
}

/// `pause`, `resume` or `cancel`, with a reason.
#[server]
pub async fn change_contract(
    contract_id: String,
    change: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::operations::contracts::{cancel, set_paused};
    let operator = crate::web::auth::require(crate::domain::access::Action::ManageContracts)?.name;
    if reason.trim().is_empty() {
        return Err(AppError::Refused(
            "give a reason: it is recorded on the contract".into(),
        ));
    }
    let state = crate::web::state::app_state()?;
    let c = &state.client;
    let (id, op, why) = (contract_id.as_str(), operator.as_str(), reason.as_str());
    match change.as_str() {
        "pause" => set_paused(c, id, op, why, true).await,
        "resume" => set_paused(c, id, op, why, false).await,
        "cancel" => cancel(c, id, op, why).await,
        other => {
            return Err(AppError::Refused(format!(
                "{other:?} is not a change: use pause, resume or cancel"
            )));
        }
    }?;
    super::show_next("/contracts/", &contract_id);
    Ok(())
}

/// Asks the bank what became of the charge of a term whose charge had no answer; back to
/// the contract's page, whose payment history reads the bank's answer (or, `back=list`, to
/// the list of charges to confirm).
#[server]
pub async fn ask_bank(
    contract_id: String,
    term_id: String,
    back: Option<String>,
) -> Result<(), AppError> {
    let operator = crate::web::auth::require(crate::domain::access::Action::ManageContracts)?.name;
    let state = crate::web::state::app_state()?;
    let asked = crate::operations::contracts::ask_the_bank(
        &state.client,
        &contract_id,
        &term_id,
        &operator,
    );
    let said = asked.await?;
    tracing::info!(
        contract_id,
        term_id,
        operator,
        said,
        "the bank was asked about a charge"
    );
    match back.as_deref() {
        // Back to the list of charges to confirm it was asked from.
        Some("list") => leptos_axum::redirect("/charges"),
        _ => super::show_next("/contracts/", &contract_id),
    }
    Ok(())
}

/// `active`, `paused` or `cancelled`.
fn state_word(cancelled: bool, paused: bool) -> &'static str {
    match (cancelled, paused) {
        (true, _) => "cancelled",
        (false, true) => "paused",
        (false, false) => "active",
    }
}

fn amount(detail: &ContractDetail) -> String {
    detail
        .terms
        .as_ref()
        .map(|t| format_amount_grouped(t.amount_cents, &t.currency, detail.minor_units))
        .unwrap_or_default()
}

fn terms_left(detail: &ContractDetail) -> String {
    detail
        .terms_left
        .map(|n| n.to_string())
        .unwrap_or_else(|| "until cancelled".into())
}

#[component]
pub fn ContractsPage() -> impl IntoView {
    // A plain post's refusal, from the address (the form island shows its own).
    let create = ServerAction::<CreateContract>::new();
    let query = leptos_router::hooks::use_query_map();
    let page = move || query.read().get("page");
    let contracts = Resource::new(page, list_contracts);
    // After a create: the contract as Temporal now describes it.
    let created = Resource::new(
        move || query.read().get("created"),
        |id| async move {
            match id {
                Some(id) => describe_contract(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let created = move || {
        Suspend::new(async move {
            created.await.ok().flatten().map(|detail| {
                view! {
                    <p role="status" class="text-green-800" data-testid="created">
                        {format!("Created {}. Next charges: ", detail.contract_id)}
                        <Moments charges=detail.next_charges />
                    </p>
                }
            })
        })
    };
    view! {
        <h1 class="text-2xl font-bold mb-3">"Recurring contracts"</h1>
        <p class="flex flex-wrap gap-4 mb-2">
            <a class="underline text-blue-700" href="/contracts.csv" download="contracts.csv">
                "Export as CSV (amounts in each currency's units, with each contract's time zone)"
            </a>
            <a class="underline text-blue-700" href="/charges">"Charges to confirm"</a>
        </p>
        {action_error(create.value())}
        <Suspense fallback=|| ()>{created}</Suspense>
        <Loading what="contracts">
            {move || Suspend::new(async move {
                contracts.await.map(|page| view! {
                    <ContractsTable list=page.rows />
                    {page.next_page.map(|token| view! {
                        <a class="inline-block mb-4 underline" href=format!("/contracts?page={token}") rel="next">
                            "Next page →"
                        </a>
                    })}
                })
            })}
        </Loading>
        <IfAllowed action=Action::ManageContracts>
            <CreateContractForm />
        </IfAllowed>
    }
}

#[component]
fn ContractsTable(list: Vec<(ContractSummary, Option<ContractDetail>)>) -> impl IntoView {
    view! {
        <table class="w-full bg-white shadow rounded text-sm mb-6" data-testid="contracts">
            <thead class="text-left bg-slate-100">
                <tr>
                    <th class="p-2">"Contract"</th>
                    <th class="p-2">"State"</th>
                    <th class="p-2">"Amount"</th>
                    <th class="p-2">"Plan"</th>
                    <th class="p-2">"Schedule"</th>
                    <th class="p-2">"Terms left"</th>
                    <th class="p-2">"Next charges"</th>
                    <th class="p-2">"Note"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|(summary, detail)| view! { <ContractLine summary detail /> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn ContractLine(summary: ContractSummary, detail: Option<ContractDetail>) -> impl IntoView {
    let terms = detail.as_ref().and_then(|d| d.terms.clone());
    let schedule = detail
        .as_ref()
        .map(|d| format!("{} ({})", d.cadence, d.time_zone))
        .unwrap_or_default();
    let left = detail.as_ref().map(terms_left).unwrap_or_default();
    // What its page warns of (terms that will be refused, clocks that change), marked here.
    let heads_up = detail.as_ref().and_then(|d| d.heads_up.clone());
    view! {
        <tr class="border-t" data-contract=summary.contract_id.clone()>
            <td class="p-2">
                <a class="underline text-blue-700" href=format!("/contracts/{}", summary.contract_id)>
                    {summary.contract_id.clone()}
                </a>
            </td>
            <td class="p-2">
                {state_word(summary.cancelled, summary.paused)}
                {heads_up.map(|heads_up| view! {
                    <span class="block text-xs text-amber-800" data-testid="row-heads-up" title=heads_up>
                        "heads-up: see its page"
                    </span>
                })}
            </td>
            <td class="p-2">{detail.as_ref().map(amount).unwrap_or_default()}</td>
            <td class="p-2">{terms.map(|t| t.plan).unwrap_or_default()}</td>
            <td class="p-2">{schedule}</td>
            <td class="p-2">{left}</td>
            <td class="p-2">{summary.next_charges.first().cloned().map(|c| view! { <Moment at=c.at text=c.local /> })}</td>
            <td class="p-2">{summary.note}</td>
        </tr>
    }
}

/// One labelled input of the create form.
#[component]
fn Field(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <label class="flex flex-col text-sm">
            {label}
            {children()}
        </label>
    }
}

/// The create form (an island: a refusal keeps what was typed; success loads the list
/// with the new contract).
#[island(lazy)]
fn CreateContractForm() -> impl IntoView {
    let create = ServerAction::<CreateContract>::new();
    let input = "border rounded px-2 py-1";
    let live = live_marker();
    view! {
        {own_error(create)}
        <ActionForm
            action=create
            attr:data-live=live
            attr:class="bg-white rounded shadow p-3 grid gap-2 sm:grid-cols-3 max-w-3xl"
            attr:aria-label="Create a contract"
        >
            <h2 class="font-semibold sm:col-span-3">"New contract"</h2>
            <Field label="Contract id">
                <input name="contract_id" required maxlength=MAX_ORDER_ID_LEN class=input />
            </Field>
            <Field label="Customer">
                <input name="customer" required class=input />
            </Field>
            <Field label="Plan">
                <input name="plan" value="membership-monthly" class=input />
            </Field>
            <Field label="Amount (minor units: cents, or yen for JPY)">
                <input name="amount_cents" type="number" min="1" value="999" class=input />
            </Field>
            <Field label="Currency">
                <input name="currency" value="USD" maxlength="3" class=input />
            </Field>
            <Field label="Terms (0 = until cancelled)">
                <input name="total_terms" type="number" min="0" value="12" class=input />
            </Field>
            <Field label="Every">
                <input name="every" value="30d" class=input />
            </Field>
            <Field label="or cron">
                <input name="cron" placeholder="0 9 1 * *" class=input />
            </Field>
            <Field label="Time zone">
                <input name="time_zone" value=DEFAULT_TIME_ZONE class=input />
            </Field>
            <button type="submit" class="px-3 py-1 rounded bg-blue-700 text-white justify-self-start">
                "Create"
            </button>
        </ActionForm>
    }
}

#[component]
pub fn ContractPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // A plain post's refusal, from the address (the form island shows its own).
    let change = ServerAction::<ChangeContract>::new();
    let ask = ServerAction::<AskBank>::new();
    let data = Resource::new(id, load_contract);
    view! {
        <h1 class="text-2xl font-bold mb-3">"Contract " {id}</h1>
        {action_error(change.value())}
        {action_error(ask.value())}
        <Loading what="the contract">
            {move || Suspend::new(async move {
                data.await.map(|(detail, runs, changes)| view! {
                    <ContractFacts detail=detail.clone() />
                    <IfAllowed action=Action::ManageContracts>
                        {
                            let detail = detail.clone();
                            view! { <ChangeForm detail /> }
                        }
                    </IfAllowed>
                    <PaymentHistory runs ask />
                    {changes.map(|changes| view! { <Changes changes /> })}
                })
            })}
        </Loading>
    }
}

#[component]
fn ContractFacts(detail: ContractDetail) -> impl IntoView {
    let terms = detail.terms.clone();
    let left = terms_left(&detail);
    view! {
        <dl class="grid grid-cols-2 gap-x-4 gap-y-1 bg-white rounded shadow p-3 mb-3 max-w-2xl text-sm">
            <dt>"State"</dt>
            <dd data-testid="contract-state">{state_word(detail.cancelled, detail.paused)}</dd>
            <dt>"Amount"</dt>
            <dd>{amount(&detail)}</dd>
            <dt>"Plan"</dt>
            <dd>{terms.as_ref().map(|t| t.plan.clone()).unwrap_or_default()}</dd>
            <dt>"Customer"</dt>
            <dd>{terms.map(|t| t.customer).unwrap_or_default()}</dd>
            <dt>"Schedule"</dt>
            <dd>{detail.cadence} " (" {detail.time_zone} ")"</dd>
            <dt>"Terms left"</dt>
            <dd>{left}</dd>
            <dt>"Charges started"</dt>
            <dd>{detail.charges_started}</dd>
            <dt>"Next charges"</dt>
            <dd data-testid="next-charges">
                {match (detail.next_charges.is_empty(), detail.paused) {
                    (true, true) => "none while paused".into_any(),
                    (true, false) => "none".into_any(),
                    (false, _) => view! { <Moments charges=detail.next_charges /> }.into_any(),
                }}
            </dd>
            <dt>"Note"</dt>
            <dd>{detail.note}</dd>
            {detail.heads_up.map(|heads_up| view! {
                <dt class="text-amber-800 font-semibold">"Heads-up"</dt>
                <dd class="text-amber-800" data-testid="heads-up">{heads_up}</dd>
            })}
        </dl>
    }
}

/// Pause or resume (whichever applies) or cancel, with a reason; nothing once cancelled.
#[component]
fn ChangeForm(detail: ContractDetail) -> impl IntoView {
    (!detail.cancelled).then(|| {
        view! { <ChangeContractForm contract_id=detail.contract_id paused=detail.paused /> }
    })
}

/// The change form (an island: a refusal keeps the reason typed; success loads the
/// contract again).
#[island(lazy)]
fn ChangeContractForm(contract_id: String, paused: bool) -> impl IntoView {
    let change = ServerAction::<ChangeContract>::new();
    let live = live_marker();
    let (value, label) = if paused {
        ("resume", "Resume")
    } else {
        ("pause", "Pause")
    };
    view! {
            {own_error(change)}
            <ActionForm action=change attr:data-live=live attr:class="flex flex-wrap gap-2 items-end mb-4" attr:aria-label="Change the contract">
                <input type="hidden" name="contract_id" value=contract_id />
                <label class="flex flex-col text-sm">
                    "Reason"
                    <input name="reason" required maxlength=MAX_NOTE_LEN class="border rounded px-2 py-1" />
                </label>
                <label class="flex flex-col text-sm">
                    "Change"
                    <select name="change" class="border rounded px-2 py-1">
                        <option value=value>{label}</option>
                        <option value="cancel">"Cancel"</option>
                    </select>
                </label>
                <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">"Apply"</button>
            </ActionForm>
    }
}

/// The contract's terms, newest first; a term whose charge had no answer has a button
/// for finance to ask the bank (a plain form: it works before any WASM arrives).
#[component]
fn PaymentHistory(runs: Vec<TermRun>, ask: ServerAction<AskBank>) -> impl IntoView {
    let list = if runs.is_empty() {
        view! { <p>"No term has run yet."</p> }.into_any()
    } else {
        view! { <TermRows runs ask linked=false /> }.into_any()
    };
    view! {
        <h2 class="text-xl font-semibold mb-2">"Payment history"</h2>
        {list}
    }
}

/// Terms, one a line: when, which (with its contract, `linked`, on a list of several
/// contracts' terms), how it stands, and "Ask the bank" where its charge is in doubt.
#[component]
fn TermRows(runs: Vec<TermRun>, ask: ServerAction<AskBank>, linked: bool) -> impl IntoView {
    // The server refuses anyone else anyway; this keeps the page from offering it.
    let may_ask = super::page_session().may(Action::ManageContracts);
    view! {
        <ul class="text-sm" data-testid="payment-history">
            {runs.into_iter().map(|r| {
                let (contract_id, term_id) = (r.contract_id.clone(), r.workflow_id.clone());
                let back = linked.then_some("list");
                let asking = (r.ask_the_bank && may_ask).then(move || view! {
                    <ActionForm action=ask attr:class="inline ml-2" attr:aria-label="Ask the bank">
                        <input type="hidden" name="contract_id" value=contract_id />
                        <input type="hidden" name="term_id" value=term_id />
                        {back.map(|back| view! { <input type="hidden" name="back" value=back /> })}
                        <button type="submit" data-testid="ask-the-bank" class="px-2 py-0.5 rounded border">"Ask the bank"</button>
                    </ActionForm>
                });
                let contract = linked.then(|| {
                    let href = format!("/contracts/{}", crate::domain::format::url_component(&r.contract_id));
                    view! { <a class="underline text-blue-700" href=href>{r.contract_id.clone()}</a> " · " }
                });
                view! {
                    <li>
                        <When at=r.started_at />
                        " · "
                        {contract}
                        {r.workflow_id}
                        " · "
                        <strong>{r.status}</strong>
                        {asking}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Every contract's terms whose charge is in doubt (`operations::contracts::unconfirmed_charges`).
#[server]
pub async fn load_unconfirmed_charges() -> Result<UnconfirmedCharges, AppError> {
    crate::web::auth::require(Action::Read)?;
    let state = crate::web::state::app_state()?;
    let charges = crate::operations::contracts::unconfirmed_charges(&state.client);
    Ok(charges.await?)
}

/// Asks the bank about every term on the list of charges to confirm (finance), if the list
/// still holds `expected`; back to the list saying how many questions went out.
#[server]
pub async fn ask_bank_all(expected: usize) -> Result<usize, AppError> {
    let operator = crate::web::auth::require(Action::ManageContracts)?.name;
    let state = crate::web::state::app_state()?;
    let asked = crate::operations::contracts::ask_about_every_unconfirmed(
        &state.client,
        expected,
        &operator,
    )
    .await?;
    leptos_axum::redirect(&format!("/charges?asked={asked}"));
    Ok(asked)
}

/// Finance's list of charges to confirm: the terms of every contract whose charge had no
/// answer, each with "Ask the bank".
#[component]
pub fn UnconfirmedChargesPage() -> impl IntoView {
    use crate::domain::contract::UNCONFIRMED_WINDOW_DAYS;
    let ask = ServerAction::<AskBank>::new();
    let ask_all = ServerAction::<AskBankAll>::new();
    let query = leptos_router::hooks::use_query_map();
    let confirm = move || query.read().get("confirm").is_some();
    let asked = move || query.read().get("asked")?.parse::<usize>().ok();
    let data = Resource::new(|| (), |_| load_unconfirmed_charges());
    view! {
        <h1 class="text-2xl font-bold mb-3">"Charges to confirm"</h1>
        <p class="text-sm mb-3 max-w-3xl">
            {format!("Terms of the last {UNCONFIRMED_WINDOW_DAYS} days whose charge had no answer: the bank may have charged the customer. Ask the bank: its answer settles the term, on its contract's page and in the count of its terms. A bank statement that books the charge settles it too, once its import is approved (Statements).")}
        </p>
        {action_error(ask.value())}
        {action_error(ask_all.value())}
        {move || asked().map(|n| view! {
            <p role="status" class="text-green-800 mb-2" data-testid="asked-all">
                {format!("Asked the bank about {n} charges: each answer shows on its term's row, and an answer takes the term off this list.")}
            </p>
        })}
        <Loading what="the charges to confirm">
            {move || Suspend::new(async move {
                data.await.map(|list| {
                    let partial = list.partial.then(|| view! {
                        <p class="text-amber-800 mb-2" data-testid="unconfirmed-partial">
                            "More terms stopped or failed in these days than one read takes: only the latest are checked here, and older charges may still wait. Their contracts' pages show each term."
                        </p>
                    });
                    let runs = list.terms;
                    let count = runs.len();
                    view! {
                        {partial}
                        {(count > 1).then(|| view! {
                            <IfAllowed action=Action::ManageContracts>
                                <AskAll count confirm=confirm() ask_all />
                            </IfAllowed>
                        })}
                        {match runs.is_empty() {
                            true => view! { <p data-testid="no-unconfirmed">"No charge waits to be confirmed."</p> }.into_any(),
                            false => view! { <TermRows runs ask linked=true /> }.into_any(),
                        }}
                    }
                })
            })}
        </Loading>
    }
}

/// "Ask the bank about all N…", then the question with the number it will ask about.
#[component]
fn AskAll(count: usize, confirm: bool, ask_all: ServerAction<AskBankAll>) -> impl IntoView {
    let question = match confirm {
        true => view! {
            <ActionForm action=ask_all attr:class="flex gap-2 items-center" attr:aria-label="Ask the bank about every charge">
                <input type="hidden" name="expected" value=count.to_string() />
                <span data-testid="ask-all-confirm">{format!("This will ask the bank about {count} charges.")}</span>
                <button type="submit" class="px-3 py-1 rounded bg-slate-800 text-white">"Yes, ask the bank"</button>
                <a href="/charges" class="underline">"Cancel"</a>
            </ActionForm>
        }
        .into_any(),
        false => view! {
            <a class="px-3 py-1 rounded border" href="/charges?confirm=1">{format!("Ask the bank about all {count}…")}</a>
        }
        .into_any(),
    };
    view! { <div class="mb-3 flex gap-3 items-center">{question}</div> }
}

/// The contract's recorded changes, newest first, as the audit trail reads them: who, what
/// and why, and whether its schedule confirmed it.
#[component]
fn Changes(changes: Vec<AuditEntry>) -> impl IntoView {
    let list = if changes.is_empty() {
        view! { <p>"No change is recorded: it was made before changes were recorded, or outside the console."</p> }
            .into_any()
    } else {
        view! {
            <ul class="text-sm" data-testid="changes">
                {changes.into_iter().map(|c| view! {
                    <li>
                        <When at=c.at />
                        " · "
                        <strong>{c.actor}</strong>
                        " · "
                        {c.action}
                        " · "
                        {c.outcome}
                        " · "
                        {c.channel}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h2 class="text-xl font-semibold mt-4 mb-2">"Changes"</h2>
        {list}
    }
}

/// Charges in the contract's own time zone, separated by commas; UTC on hover.
#[component]
fn Moments(charges: Vec<Charge>) -> impl IntoView {
    charges
        .into_iter()
        .enumerate()
        .map(|(i, c)| view! { {(i > 0).then_some(", ")} <Moment at=c.at text=c.local /> })
        .collect_view()
}
