//! Statements (support, finance, admin import; an approver approves): upload a bank
//! statement, review what each entry matched, and approve or reject the import. The
//! upload is a plain multipart form (`web::uploads`), so it works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{IfAllowed, Loading, When, action_error};
use crate::{
    domain::access::Action,
    domain::statement::{EntryOutcome, ImportView, StatementFormat},
    web::error::AppError,
};

/// One import: its entries, what they matched, where it stands.
#[server]
pub async fn load_import(import_id: String) -> Result<ImportView, AppError> {
    crate::web::auth::require(Action::Read)?;
    let state = crate::web::state::app_state()?;
    Ok(crate::operations::statements::view_of(&state.client, &import_id).await?)
}

/// The imports, a page at a time, newest first: id, when, by whom, and how they stand.
#[server]
pub async fn list_imports(
    #[server(default)] page: Option<String>,
) -> Result<(crate::domain::statement::ImportsPage, String), AppError> {
    crate::web::auth::require(Action::Read)?;
    let state = crate::web::state::app_state()?;
    let listed = crate::operations::statements::recent_page(&state.client, page.as_deref()).await?;
    // Ages on the page count from when it was read.
    let now = crate::domain::format::rfc3339(std::time::SystemTime::now());
    Ok((listed, now))
}

/// A second person's approval: the matched orders are settled, but the entries ticked to
/// leave out (their references, `leave_out[]`), for the reason in `note`.
#[server]
pub async fn approve_import(
    import_id: String,
    #[server(default)] leave_out: Vec<String>,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let who = crate::web::auth::require(Action::Approve)?;
    let state = crate::web::state::app_state()?;
    crate::operations::statements::approve_leaving_out(
        &state.client,
        &import_id,
        who.actor(),
        &leave_out,
        &note,
    )
    .await?;
    state.board.nudge();
    Ok(())
}

/// Turns an import down, saying why.
#[server]
pub async fn reject_import(import_id: String, note: String) -> Result<(), AppError> {
    let who = crate::web::auth::require(Action::Approve)?;
    let state = crate::web::state::app_state()?;
    crate::operations::statements::reject(&state.client, &import_id, who.actor(), &note).await?;
    super::show_next("/statements/", &import_id);
    Ok(())
}

#[component]
pub fn StatementsPage() -> impl IntoView {
    let query = use_query_map();
    let refused = move || query.read().get("error");
    let page = move || query.read().get("page");
    let imports = Resource::new(page, list_imports);
    view! {
        <h1 class="text-2xl font-bold mb-3">"Statements"</h1>
        {move || refused().map(|e| view! {
            <p role="alert" class="mb-3 p-2 bg-red-50 border border-red-300 rounded" data-testid="import-refused">{e}</p>
        })}
        <IfAllowed action=Action::ImportStatement>
            <form method="post" action="/statements/import" enctype="multipart/form-data"
                class="flex flex-wrap gap-3 items-end bg-white rounded shadow p-3 mb-4" aria-label="Import a statement">
                <label class="flex flex-col text-sm">
                    "Statement file (camt.053, camt.054, MT940 or CSV)"
                    <input type="file" name="file" required class="border rounded px-2 py-1" />
                </label>
                <label class="flex flex-col text-sm">
                    "Format"
                    <select name="format" class="border rounded px-2 py-1">
                        <option value="">"as the file says"</option>
                        {StatementFormat::ALL.iter().map(|f| view! { <option value=f.as_str()>{f.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <button class="px-3 py-1 rounded bg-blue-700 text-white">"Import"</button>
            </form>
        </IfAllowed>
        <h2 class="font-semibold mb-2">"Imports, newest first"</h2>
        <Loading what="the imports">
            {move || Suspend::new(async move {
                imports.await.map(|(list, now)| view! {
                    {(list.imports.is_empty() && list.next_page.is_none()).then(|| view! {
                        <p class="text-sm" data-testid="no-imports">
                            "No statement has been imported yet."
                        </p>
                    })}
                    <ul class="text-sm" data-testid="imports">
                        {list.imports.into_iter().map(|import| view! {
                            <li data-import=import.import_id.clone()>
                                <a class="underline text-blue-700" href=format!("/statements/{}", import.import_id)>{import.import_id.clone()}</a>
                                " · " <When at=import.at now=now.clone() /> " · imported by " {import.imported_by}
                                " · " {import.standing}
                            </li>
                        }).collect_view()}
                    </ul>
                    {list.next_page.map(|token| view! {
                        <a class="inline-block mt-3 underline" rel="next" href=format!("/statements?page={token}")>"Older imports →"</a>
                    })}
                })
            })}
        </Loading>
    }
}

#[component]
pub fn StatementPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let approve = ServerAction::<ApproveImport>::new();
    let reject = ServerAction::<RejectImport>::new();
    let data = Resource::new(id, load_import);
    view! {
        <h1 class="text-2xl font-bold mb-3">"Statement import"</h1>
        {action_error(approve.value())}
        {action_error(reject.value())}
        <Loading what="the import">
            {move || Suspend::new(async move {
                data.await.map(|view| view! { <ImportReview view approve /> })
            })}
        </Loading>
    }
}

#[component]
fn ImportReview(view: ImportView, approve: ServerAction<ApproveImport>) -> impl IntoView {
    // Once the approval has told every order: whether each matched entry's settled by it
    // (or that the approver left it out).
    let settled: Vec<(Option<bool>, &'static str)> = view
        .entries
        .iter()
        .map(|e| (view.entry_settled(e), view.entry_settled_text(e)))
        .collect();
    let counts = view
        .tally
        .iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let shown = ((view.entries.len() as u32) < view.total_entries).then(|| {
        format!(
            "The first {} of {} entries; the CSV holds them all.",
            view.entries.len(),
            view.total_entries
        )
    });
    let standing = match (&view.approved, &view.rejected) {
        _ if view.stopped.is_some() => {
            let approved = view.approved.as_ref().map(|by| {
                view! { {format!("approved by {} ", by.operator)} <When at=by.at.clone() /> ". " }
            });
            let sentence = view.stopped.clone().unwrap_or_default();
            view! { {approved} <strong>{sentence}</strong> }.into_any()
        }
        (Some(by), _) => {
            let settled = format!(": {}", view.applied_text());
            view! { {format!("approved by {} ", by.operator)} <When at=by.at.clone() /> {settled} }
                .into_any()
        }
        (_, Some((by, note))) => {
            let note = format!(
                ": {note}. Nothing was applied: the file can be imported again for a fresh review."
            );
            view! { {format!("rejected by {} ", by.operator)} <When at=by.at.clone() /> {note} }
                .into_any()
        }
        _ if view.chunks_in < view.chunks => format!(
            "still arriving: {} of {} parts",
            view.chunks_in, view.chunks
        )
        .into_any(),
        _ => "awaits a second person's approval".into_any(),
    };
    let open = view.approved.is_none() && view.rejected.is_none() && view.stopped.is_none();
    // An approver may leave entries out of the approval: each row it would apply gets a
    // box, which belongs to the approval's form.
    let may_leave_out = open && super::page_session().may(Action::Approve);
    // While it applies (or its parts still arrive) the page reads it again every few
    // seconds, with or without JavaScript, and shows how far it has come.
    let applying = view.approved.is_some() && !view.done && view.stopped.is_none();
    let moving = applying || (open && view.chunks_in < view.chunks);
    let progress = applying.then(|| {
        view! {
            <p class="text-sm mb-3 max-w-3xl">
                <label for="apply-progress">"Settling the matched orders: "</label>
                <progress id="apply-progress" data-testid="apply-progress" max=view.to_apply.max(1) value=view.applied>
                    {format!("{} of {}", view.applied, view.to_apply)}
                </progress>
                {format!(" {} of {}", view.applied, view.to_apply)}
            </p>
        }
    });
    let id = view.import_id.clone();
    view! {
        {moving.then(|| view! { <meta http-equiv="refresh" content="3" /> })}
        <dl class="grid grid-cols-2 gap-x-4 gap-y-1 bg-white rounded shadow p-3 mb-3 max-w-3xl text-sm">
            <dt>"Import"</dt><dd><code>{view.import_id.clone()}</code></dd>
            <dt>"Statement"</dt><dd>{match view.account.is_empty() {
                true => format!("{} ({})", view.statement_id, view.format),
                false => format!("{} ({}, account {})", view.statement_id, view.format, view.account),
            }}</dd>
            <dt>"File"</dt><dd>{view.file_name.clone()}</dd>
            <dt>"Imported by"</dt><dd>{view.imported_by.clone()} " " <When at=view.imported_at.clone() /></dd>
            <dt>"Entries"</dt><dd data-testid="tally">{counts}</dd>
            <dt>"Standing"</dt><dd data-testid="standing">{standing}</dd>
            {(!view.earlier.is_empty()).then(|| view! {
                <dt>"Imported before"</dt>
                <dd data-testid="earlier">
                    <ul>{view.earlier.clone().into_iter().map(|run| view! { <li>{run}</li> }).collect_view()}</ul>
                </dd>
            })}
            <dt>"Waiting, not on the statement"</dt><dd>{view.unmentioned.len()}</dd>
        </dl>
        {progress}
        {open.then(|| {
            let id = id.clone();
            view! {
                <IfAllowed action=Action::Approve>
                    <ImportDecision id=id.clone() approve />
                </IfAllowed>
            }
        })}
        <a class="text-sm underline" href=format!("/statement.csv?id={id}") rel="external" download="">"Export the review as CSV"</a>
        {shown.map(|s| view! { <p class="text-sm text-slate-600 mt-2">{s}</p> })}
        <div class="overflow-x-auto mt-2">
            <table class="w-full bg-white shadow rounded text-sm" data-testid="entries">
                <thead class="text-left bg-slate-100">
                    <tr>
                        {may_leave_out.then(|| view! { <th class="p-2">"Leave out"</th> })}
                        <th class="p-2">"#"</th>
                        <th class="p-2">"Entry"</th>
                        <th class="p-2">"Booked"</th>
                        <th class="p-2">"Amount"</th>
                        <th class="p-2">"Reference"</th>
                        <th class="p-2">"Outcome"</th>
                        <th class="p-2">"Order or contract"</th>
                    </tr>
                </thead>
                <tbody>
                    {view.entries.into_iter().zip(settled).map(|(e, (settled, mark))| {
                        let detail = match &e.outcome {
                            EntryOutcome::AmountMismatch { order_amount, .. } => format!(
                                " (the order is for {})",
                                crate::domain::money::amount_shown(order_amount.as_ref())
                            ),
                            EntryOutcome::AlreadyResolved { resolution, .. } => format!(" (resolved {resolution})"),
                            EntryOutcome::Reversed { .. } => " (the statement reverses its payment: a person decides)".into(),
                            EntryOutcome::Reversal { paid_before: true, .. } => " (the order was resolved paid: its money went back)".into(),
                            EntryOutcome::Reversal { .. } => " (the bank's reversal: settles nothing)".into(),
                            EntryOutcome::ChargeInDoubt { .. } => " (a term whose charge had no answer: the approval settles it as charged)".into(),
                            EntryOutcome::ChargeOnRecord { .. } => " (the term's charge is on record)".into(),
                            EntryOutcome::ChargeConflict { why, .. } => format!(" ({why}: a person looks)"),
                            _ => String::new(),
                        };
                        let order = e.outcome.order_id().map(str::to_string);
                        let term = e.outcome.term().map(|(c, t)| (c.to_string(), t.to_string()));
                        let detail = format!("{detail}{mark}");
                        let applies = matches!(e.outcome, EntryOutcome::Matched { .. } | EntryOutcome::ChargeInDoubt { .. });
                        let entry_ref = e.entry.entry_ref.clone();
                        view! {
                            <tr class="border-t" data-outcome=e.outcome.word() data-settled=settled.map(|s| if s { "yes" } else { "no" })>
                                {may_leave_out.then(|| view! {
                                    <td class="p-2">{applies.then(|| view! {
                                        <input type="checkbox" form="approve-import" name="leave_out[]" value=entry_ref.clone()
                                            aria-label=format!("Leave out entry {entry_ref}") />
                                    })}</td>
                                })}
                                <td class="p-2">{e.entry.index}</td>
                                <td class="p-2"><code>{e.entry.entry_ref.clone()}</code></td>
                                <td class="p-2">{e.entry.booking_date.clone()}</td>
                                <td class="p-2 tabular-nums">{crate::domain::money::amount_shown(Some(&e.entry.amount))}</td>
                                <td class="p-2">{e.entry.reference.clone()}</td>
                                <td class="p-2">{e.outcome.word()}{detail}</td>
                                <td class="p-2">{order.map(|o| view! {
                                    <a class="underline text-blue-700" href=format!("/orders/{o}")>{o.clone()}</a>
                                })}{term.map(|(contract, term)| view! {
                                    <a class="underline text-blue-700" href=format!("/contracts/{contract}") title=term>{format!("contract {contract}")}</a>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ImportDecision(id: String, approve: ServerAction<ApproveImport>) -> impl IntoView {
    let other = id.clone();
    view! {
        <div class="flex flex-wrap gap-4 mb-3">
            <ActionForm action=approve attr:id="approve-import" attr:class="flex gap-2 items-end" attr:aria-label="Approve the import">
                <input type="hidden" name="import_id" value=other />
                <label class="flex flex-col text-sm">"Why, if you leave entries out"
                    <input name="note" maxlength=crate::domain::input::MAX_NOTE_LEN class="border rounded px-2 py-1" />
                </label>
                <button class="px-3 py-1 rounded bg-green-800 text-white">"Approve and settle the matched orders (but those ticked)"</button>
            </ActionForm>
            <RejectImportForm id />
        </div>
    }
}

/// Turns the import down, saying why (an island: a refusal keeps the note typed).
#[island(lazy)]
fn RejectImportForm(id: String) -> impl IntoView {
    let reject = ServerAction::<RejectImport>::new();
    let live = super::live_marker();
    view! {
        <ActionForm action=reject attr:data-live=live attr:class="flex gap-2 items-end" attr:aria-label="Reject the import">
            <input type="hidden" name="import_id" value=id />
            <label class="flex flex-col text-sm">"Why" <input name="note" required maxlength=crate::domain::input::MAX_NOTE_LEN class="border rounded px-2 py-1" /></label>
            <button class="px-3 py-1 rounded bg-slate-700 text-white">"Reject"</button>
        </ActionForm>
        {super::own_error(reject)}
    }
}
