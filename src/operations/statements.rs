//! Statement imports, shared by the console and `client import-statement`: read the file,
//! match its entries to orders, start (or resume) its `StatementImport` workflow, and the
//! second person's approval or rejection.

use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use temporalio_client::{
    Client, WorkflowDescribeOptions, WorkflowExecuteUpdateOptions, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowQueryOptions, WorkflowStartOptions,
    errors::{WorkflowInteractionError, WorkflowStartError},
};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

use super::{
    Missing, OpError, counted,
    orders::{answer, live_state, update_error},
};
use crate::{
    domain::contract::{ContractTerms, terms_workflow_id},
    domain::money::{format_amount, minor_units},
    domain::{
        input::{InputError, validate_order_id},
        money::Money,
        order::Stage,
        resolution::Actor,
        statement::{
            CsvLayout, EntryOutcome, ImportsPage, ListedImport, ReviewedEntry, Statement,
            StatementEntry, StatementFormat, entry_pays,
        },
    },
    temporal::{
        TemporalError, histories,
        names::{task_queues, workflow_types},
        readiness, search_attributes as sa, visibility,
    },
    upstream::statement::{StatementError, parse},
    workflows::statement_import::{
        CHUNK_ENTRIES, DECISIONS_MEMO, EntryChunk, ImportApproval, ImportDecisions, ImportStart,
        ImportView, StatementImport, workflow_id,
    },
    workflows::term_check::{TermCharge, closed_term},
};

/// How entries are matched: an amount within `tolerance_minor` of the order's counts as
/// its amount (0: exactly).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchRules {
    pub tolerance_minor: i64,
}

/// `[statements]`: how the bank's statements are read and matched.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatementSettings {
    /// An entry within this many minor units of an order's amount matches it (0: exactly).
    pub amount_tolerance_minor: i64,
    /// The bank's CSV layout (`[statements.csv]`; the documented default otherwise).
    pub csv: CsvLayout,
}

impl StatementSettings {
    pub fn rules(&self) -> MatchRules {
        MatchRules {
            tolerance_minor: self.amount_tolerance_minor.max(0),
        }
    }
}

/// Most waiting orders a match reads; more, and the import is refused (say why).
pub const MAX_MATCH_ORDERS: usize = 50_000;
/// Most "not mentioned" orders an import lists (the rest are counted only).
pub const MAX_UNMENTIONED: usize = 1_000;

impl From<StatementError> for OpError {
    fn from(e: StatementError) -> Self {
        OpError::Rejected(e.to_string())
    }
}

/// A waiting order as a match sees it.
struct Waiting {
    stage: String,
    amount: Option<Money>,
    /// The gateway's reference for it (`GatewayReference`), which an entry may quote
    /// instead of the order id.
    reference: Option<String>,
}

/// The waiting order `names` name: by its id first, else by its gateway reference when
/// exactly one waiting order has that reference (two orders sharing one are a person's to
/// tell apart, so such an entry names neither).
fn waiting_named(waiting: &HashMap<String, Waiting>, names: &[String]) -> Option<String> {
    if let Some(id) = names.iter().find(|c| waiting.contains_key(*c)) {
        return Some(id.clone());
    }
    names.iter().find_map(|name| {
        let mut holders = waiting
            .iter()
            .filter(|(_, w)| w.reference.as_deref() == Some(name.as_str()));
        match (holders.next(), holders.next()) {
            (Some((id, _)), None) => Some(id.clone()),
            _ => None,
        }
    })
}

/// Every order waiting in the stale stage or the manual queue, by order id.
async fn waiting_orders(client: &Client) -> Result<HashMap<String, Waiting>, OpError> {
    let query = format!(
        "ExecutionStatus = 'Running' AND {} AND ({stage} = 'manual' OR {stage} = 'stale')",
        crate::temporal::names::waiting_stages_on_our_queues(),
        stage = sa::ORDER_STAGE.name()
    );
    let mut orders = HashMap::new();
    let mut page: Option<String> = None;
    loop {
        let listed = visibility::list_page(client, &query, 1_000, page.as_deref(), None).await?;
        for e in listed.executions {
            let Some(order_id) = e.attributes.get(&sa::ORDER_ID) else {
                continue;
            };
            let stage = e.attributes.get(&sa::ORDER_STAGE).unwrap_or_default();
            let amount = super::queues::listed_amount(&e.attributes);
            let reference = e
                .attributes
                .get(&sa::GATEWAY_REFERENCE)
                .filter(|r| !r.is_empty());
            orders.insert(
                order_id,
                Waiting {
                    stage,
                    amount,
                    reference,
                },
            );
        }
        if orders.len() > MAX_MATCH_ORDERS {
            return Err(OpError::Rejected(format!(
                "more than {MAX_MATCH_ORDERS} orders wait: a statement cannot be matched against them all at once"
            )));
        }
        match listed.next_page {
            Some(next) => page = Some(next),
            None => return Ok(orders),
        }
    }
}

/// The order ids an entry's reference could name: itself, and each word of it.
fn candidates(reference: &str) -> Vec<String> {
    let mut out = vec![reference.trim().to_string()];
    out.extend(
        reference
            .split(|c: char| c.is_whitespace() || matches!(c, '/' | ',' | ';' | ':'))
            .map(|w| {
                w.trim_matches(|c: char| c == '.' || c == '(' || c == ')')
                    .to_string()
            }),
    );
    out.retain(|c| c.len() >= 3 && validate_order_id(c).is_ok());
    out.dedup();
    out
}

/// Resolved orders among `ids`, with their resolution (one visibility query a hundred).
async fn resolved_orders(
    client: &Client,
    ids: &[String],
) -> Result<HashMap<String, String>, OpError> {
    let mut found = HashMap::new();
    for batch in ids.chunks(100) {
        let list = batch
            .iter()
            .map(|id| super::queues::literal("order id", id))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ");
        let query = format!(
            "{} IN ({list}) AND {} = 'resolved'",
            sa::ORDER_ID.name(),
            sa::ORDER_STAGE.name()
        );
        let mut page: Option<String> = None;
        loop {
            let listed =
                visibility::list_page(client, &query, 1_000, page.as_deref(), None).await?;
            for e in listed.executions {
                if let Some(id) = e.attributes.get(&sa::ORDER_ID) {
                    let resolution = e.attributes.get(&sa::ORDER_RESOLUTION).unwrap_or_default();
                    found.insert(id, resolution);
                }
            }
            match listed.next_page {
                Some(next) => page = Some(next),
                None => break,
            }
        }
    }
    Ok(found)
}

/// Most names a statement's review looks up as resolved orders' gateway references (ten
/// visibility queries): a statement of thousands of entries naming nothing would otherwise
/// spend Temporal's visibility rate on them (the dev server refuses past ten a second,
/// found by the 10,000-entry test); past it those entries read unknown_order.
pub const MAX_REFERENCE_LOOKUPS: usize = 1_000;

/// Resolved orders whose gateway reference is one of `names` (and no other order's),
/// with their resolution, added to `resolved`; returns each such reference's order id. One
/// visibility query per hundred names, of the first [`MAX_REFERENCE_LOOKUPS`]
/// (`GatewayReference` is Text, matched by words, and takes no `IN`: the values read back
/// are kept exact).
async fn resolved_by_reference(
    client: &Client,
    names: &[String],
    resolved: &mut HashMap<String, String>,
) -> Result<HashMap<String, String>, OpError> {
    let mut holders: HashMap<String, HashSet<String>> = HashMap::new();
    let mut resolutions = HashMap::new();
    let names = &names[..names.len().min(MAX_REFERENCE_LOOKUPS)];
    for batch in names.chunks(100) {
        let any = batch
            .iter()
            .map(|name| {
                super::queues::literal("reference", name)
                    .map(|l| format!("{} = {l}", sa::GATEWAY_REFERENCE.name()))
            })
            .collect::<Result<Vec<_>, _>>()?
            .join(" OR ");
        let query = format!("({any}) AND {} = 'resolved'", sa::ORDER_STAGE.name());
        let mut page: Option<String> = None;
        loop {
            let listed =
                visibility::list_page(client, &query, 1_000, page.as_deref(), None).await?;
            for e in listed.executions {
                let (Some(id), Some(reference)) = (
                    e.attributes.get(&sa::ORDER_ID),
                    e.attributes.get(&sa::GATEWAY_REFERENCE),
                ) else {
                    continue;
                };
                if batch.contains(&reference) {
                    let resolution = e.attributes.get(&sa::ORDER_RESOLUTION).unwrap_or_default();
                    resolutions.insert(id.clone(), resolution);
                    holders.entry(reference).or_default().insert(id);
                }
            }
            match listed.next_page {
                Some(next) => page = Some(next),
                None => break,
            }
        }
    }
    // A reference two orders share names neither.
    let mut named = HashMap::new();
    for (reference, ids) in holders {
        if let [id] = ids.into_iter().collect::<Vec<_>>().as_slice() {
            if let Some(resolution) = resolutions.get(id) {
                resolved.insert(id.clone(), resolution.clone());
            }
            named.insert(reference, id.clone());
        }
    }
    Ok(named)
}

/// Matches every entry of `statement` to the orders: what each means, and which waiting
/// orders it does not mention.
pub async fn review(
    client: &Client,
    statement: &Statement,
    rules: &MatchRules,
) -> Result<(Vec<ReviewedEntry>, Vec<String>), OpError> {
    let waiting = waiting_orders(client).await?;
    let names = to_look_up(statement, &waiting);
    let mut resolved = resolved_orders(client, &names).await?;
    // What no resolved order's id answers may be a resolved order's gateway reference.
    let unanswered: Vec<String> = names
        .into_iter()
        .filter(|n| !resolved.contains_key(n))
        .collect();
    let referenced = resolved_by_reference(client, &unanswered, &mut resolved).await?;
    let terms = terms_named(client, &terms_to_look_up(statement)).await?;
    let (mut entries, unmentioned) =
        match_entries(statement, waiting, &resolved, &referenced, rules);
    match_charges(&mut entries, &terms);
    Ok((entries, unmentioned))
}

/// A term of one of our recurring contracts, as a statement's review sees it.
#[derive(Debug, Clone, PartialEq)]
struct TermOnRecord {
    contract_id: String,
    standing: TermStanding,
}

#[derive(Debug, Clone, PartialEq)]
enum TermStanding {
    /// Still running: its own answer will say.
    Charging,
    Charged,
    /// The bank refused it, or it never asked (why, as its row says).
    NotCharged(String),
    /// Its charge had no answer; the terms it was started with.
    InDoubt(Option<ContractTerms>),
}

/// The longest term id a reference is read for (a contract id and a schedule's time).
const MAX_TERM_ID_CHARS: usize = 200;
/// Term histories a review reads at once (terms that closed without completing).
const TERM_READS_AT_ONCE: usize = 8;

/// The term ids an entry's reference could name: each word shaped like a term's id
/// (`recurring-<contract>-<time>`, the charge's idempotency key).
fn term_candidates(reference: &str) -> Vec<String> {
    let prefix = terms_workflow_id("");
    let mut out: Vec<String> = reference
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | ',' | ';'))
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '(' || c == ')'))
        .filter(|w| {
            w.len() > prefix.len()
                && w.len() <= MAX_TERM_ID_CHARS
                && w.starts_with(&prefix)
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        })
        .map(String::from)
        .collect();
    out.dedup();
    out
}

/// The term ids the credits and the reversals name (a reversal settles no term, but one
/// of a term's charge is a person's to look at).
fn terms_to_look_up(statement: &Statement) -> Vec<String> {
    let mut names: Vec<String> = statement
        .entries
        .iter()
        .filter(|e| e.credit || e.reversal)
        .flat_map(|e| term_candidates(&e.reference))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Our contracts' terms among `ids`, each with its standing: one visibility query a
/// hundred, and one history read a term that closed without completing.
async fn terms_named(
    client: &Client,
    ids: &[String],
) -> Result<HashMap<String, TermOnRecord>, OpError> {
    use futures::StreamExt;
    let mut runs: HashMap<String, (String, String, String)> = HashMap::new();
    for batch in ids.chunks(100) {
        let list = batch
            .iter()
            .map(|id| super::queues::literal("term id", id))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ");
        let query = format!(
            "{} AND WorkflowId IN ({list})",
            crate::temporal::names::on_our_queue(workflow_types::RECURRING_PAYMENT)
        );
        let mut page: Option<String> = None;
        loop {
            let listed =
                visibility::list_page(client, &query, 1_000, page.as_deref(), None).await?;
            for e in listed.executions {
                // Only a run its contract's schedule started carries its contract.
                if let Some(contract_id) = e.attributes.get(&sa::CONTRACT_ID) {
                    runs.entry(e.workflow_id)
                        .or_insert((contract_id, e.run_id, e.status));
                }
            }
            match listed.next_page {
                Some(next) => page = Some(next),
                None => break,
            }
        }
    }
    let read = futures::stream::iter(runs)
        .map(|(term_id, (contract_id, run_id, status))| async move {
            let standing = match status.as_str() {
                "RUNNING" => TermStanding::Charging,
                "COMPLETED" => TermStanding::Charged,
                _ => {
                    let closed = closed_term(client, &term_id, &run_id).await?;
                    match closed.charge {
                        TermCharge::Charged => TermStanding::Charged,
                        TermCharge::NotCharged => TermStanding::NotCharged(
                            closed.failure.unwrap_or_else(|| status.to_lowercase()),
                        ),
                        TermCharge::InDoubt => TermStanding::InDoubt(closed.terms),
                    }
                }
            };
            Ok::<_, TemporalError>((
                term_id,
                TermOnRecord {
                    contract_id,
                    standing,
                },
            ))
        })
        .buffer_unordered(TERM_READS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    Ok(read.into_iter().collect::<Result<HashMap<_, _>, _>>()?)
}

/// Gives each credit that named no order, but names a term of ours, what the term's record
/// says of it. A term the statement books twice is a person's to look at the second time.
fn match_charges(entries: &mut [ReviewedEntry], terms: &HashMap<String, TermOnRecord>) {
    let mut booked = HashSet::new();
    for e in entries.iter_mut() {
        let reversal = matches!(e.outcome, EntryOutcome::Reversal { order_id: None, .. });
        if e.outcome != EntryOutcome::UnknownOrder && !reversal {
            continue;
        }
        let Some((term_id, term)) = term_candidates(&e.entry.reference)
            .into_iter()
            .find_map(|id| terms.get(&id).map(|t| (id, t)))
        else {
            continue;
        };
        let contract_id = term.contract_id.clone();
        let conflict = |why: String| EntryOutcome::ChargeConflict {
            contract_id: contract_id.clone(),
            term_id: term_id.clone(),
            why,
        };
        e.outcome = match &term.standing {
            // The bank takes back a term's charge (a chargeback): never settles anything.
            _ if reversal => conflict(
                "the bank reverses a charge of this term (a chargeback?): the customer may \
                 have its money back"
                    .into(),
            ),
            _ if !booked.insert(term_id.clone()) => {
                conflict("the statement books this term's charge twice".into())
            }
            TermStanding::Charged => EntryOutcome::ChargeOnRecord {
                contract_id,
                term_id,
            },
            TermStanding::Charging => conflict(
                "the term is still charging: its own answer will say; import the statement \
                 again once it has ended"
                    .into(),
            ),
            TermStanding::NotCharged(why) => {
                conflict(format!("our record says the term was not charged ({why})"))
            }
            TermStanding::InDoubt(Some(terms))
                if !e.entry.amount.same_as(terms.amount_cents, &terms.currency) =>
            {
                conflict(format!(
                    "the term is for {}",
                    format_amount(
                        terms.amount_cents,
                        &terms.currency,
                        minor_units(&terms.currency).unwrap_or(e.entry.amount.exponent)
                    )
                ))
            }
            TermStanding::InDoubt(None) => conflict("the term's record holds no terms".into()),
            TermStanding::InDoubt(Some(_)) => EntryOutcome::ChargeInDoubt {
                contract_id,
                term_id,
            },
        };
    }
}

/// The order ids the entries name that do not wait: resolved ones, perhaps.
fn to_look_up(statement: &Statement, waiting: &HashMap<String, Waiting>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for e in statement.entries.iter().filter(|e| e.credit || e.reversal) {
        let named = candidates(&e.reference);
        if waiting_named(waiting, &named).is_none() {
            names.extend(named);
        }
    }
    names.sort();
    names.dedup();
    names
}

/// What each entry means, given the waiting orders and the resolved ones it names (with
/// their resolution). Only a credit that is nobody's reversal, naming a waiting order for
/// its money, is matched; a waiting order whose payment the statement also reverses is a
/// person's to decide.
fn match_entries(
    statement: &Statement,
    waiting: HashMap<String, Waiting>,
    resolved: &HashMap<String, String>,
    referenced: &HashMap<String, String>,
    rules: &MatchRules,
) -> (Vec<ReviewedEntry>, Vec<String>) {
    let named = |entry: &StatementEntry| {
        let names = candidates(&entry.reference);
        waiting_named(&waiting, &names)
            .or_else(|| names.iter().find(|c| resolved.contains_key(*c)).cloned())
            .or_else(|| names.iter().find_map(|c| referenced.get(c)).cloned())
    };
    // Orders whose payment went back out in this statement.
    let reversed: HashSet<String> = statement
        .entries
        .iter()
        .filter(|e| e.reversal && !e.credit)
        .filter_map(named)
        .collect();
    let mut mentioned = HashSet::new();
    let mut entries = Vec::with_capacity(statement.entries.len());
    for entry in &statement.entries {
        let order_id = if entry.credit || entry.reversal {
            named(entry)
        } else {
            None
        };
        if let Some(id) = order_id.as_ref().filter(|id| waiting.contains_key(*id)) {
            mentioned.insert(id.clone());
        }
        let outcome = match order_id {
            _ if entry.reversal => EntryOutcome::Reversal {
                paid_before: order_id
                    .as_ref()
                    .is_some_and(|id| resolved.get(id).is_some_and(|r| r == "paid")),
                order_id,
            },
            _ if !entry.credit => EntryOutcome::Debit,
            None => EntryOutcome::UnknownOrder,
            Some(order_id) if reversed.contains(&order_id) && waiting.contains_key(&order_id) => {
                EntryOutcome::Reversed { order_id }
            }
            Some(order_id) => match waiting.get(&order_id) {
                Some(order) => {
                    let fits =
                        entry_pays(&entry.amount, order.amount.as_ref(), rules.tolerance_minor)
                            .is_ok();
                    match fits {
                        true => EntryOutcome::Matched {
                            order_id,
                            stage: order.stage.clone(),
                        },
                        false => EntryOutcome::AmountMismatch {
                            order_id,
                            order_amount: order.amount.clone(),
                        },
                    }
                }
                None => {
                    let resolution = resolved.get(&order_id).cloned().unwrap_or_default();
                    EntryOutcome::AlreadyResolved {
                        conflict: resolution != "paid",
                        order_id,
                        resolution,
                    }
                }
            },
        };
        entries.push(ReviewedEntry {
            entry: entry.clone(),
            outcome,
        });
    }
    // An order two entries match is matched once: the second is a person's to look at.
    let mut seen = HashSet::new();
    for e in &mut entries {
        if let EntryOutcome::Matched { order_id, .. } = &e.outcome
            && !seen.insert(order_id.clone())
        {
            e.outcome = EntryOutcome::AmountMismatch {
                order_id: order_id.clone(),
                order_amount: waiting.get(order_id).and_then(|w| w.amount.clone()),
            };
        }
    }
    let mut unmentioned: Vec<String> = waiting
        .into_iter()
        .filter(|(id, w)| w.stage == Stage::Manual.as_str() && !mentioned.contains(id))
        .map(|(id, _)| id)
        .collect();
    unmentioned.sort();
    unmentioned.truncate(MAX_UNMENTIONED);
    (entries, unmentioned)
}

/// The SHA-256 of a file, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Imports a statement file as `actor`: parsed, matched, and kept in its own workflow
/// (the same file twice is one import; an import a console left half-sent is completed).
/// Nothing is applied until a second person approves it.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    client: &Client,
    bytes: &[u8],
    file_name: &str,
    format: Option<StatementFormat>,
    layout: &CsvLayout,
    rules: &MatchRules,
    actor: impl Into<Actor>,
) -> Result<ImportView, OpError> {
    let actor = actor.into();
    counted(
        "import_statement",
        async {
            crate::domain::input::validate_operator(&actor.name)?;
            let statement = parse(bytes, format, layout)?;
            // An import is read and fed through its worker: with none running, nothing
            // starts (a run begun now would wait, half-fed, until one is back).
            readiness::worker_running(client, task_queues::MANUAL_HANDLE).await?;
            let hash = content_hash(bytes);
            let id = workflow_id(&hash);
            let (entries, unmentioned) = review(client, &statement, rules).await?;
            let mut chunks: Vec<Vec<ReviewedEntry>> =
                entries.chunks(CHUNK_ENTRIES).map(<[_]>::to_vec).collect();
            let first = if chunks.is_empty() {
                Vec::new()
            } else {
                chunks.remove(0)
            };
            // A name as a person gave it, without control characters, at most 200 long.
            let file_name: String = file_name
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            let start = ImportStart {
                // A CSV report names no statement: its file does, on the review and on
                // every order it settles ("statement bank-2026-12-01.csv entry …").
                statement_id: match statement.statement_id.is_empty() {
                    true => file_name.clone(),
                    false => statement.statement_id.clone(),
                },
                account: statement.account.clone(),
                format: statement.format,
                file_name,
                content_hash: hash.clone(),
                imported_by: actor.name.clone(),
                imported_by_id: actor.id.clone(),
                chunks: chunks.len() as u32 + 1,
                first,
                unmentioned,
            };
            let options = |reuse: WorkflowIdReusePolicy| {
                WorkflowStartOptions::new(task_queues::MANUAL_HANDLE, id.clone())
                    .id_conflict_policy(WorkflowIdConflictPolicy::Fail)
                    .id_reuse_policy(reuse)
                    .search_attributes(temporalio_common::search_attributes::SearchAttributes::new(
                        vec![sa::ACTORS.value_set(vec![actor.name.clone()])],
                    ))
                    .build()
            };
            let start_run = |reuse: WorkflowIdReusePolicy| {
                let (start, options) = (start.clone(), options(reuse));
                async move {
                    match client
                        .start_workflow(StatementImport::run, start, options)
                        .await
                    {
                        Ok(_) => Ok(true),
                        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(false),
                        Err(WorkflowStartError::Rpc(status)) => {
                            Err(OpError::Temporal(status.into()))
                        }
                        Err(e) => Err(OpError::Temporal(TemporalError::client(e))),
                    }
                }
            };
            // An approved import too: the same file is imported once. An import stopped
            // outside the console (terminated, failed) decided nothing, so its file starts
            // a new run of the same id.
            let started = start_run(WorkflowIdReusePolicy::AllowDuplicateFailedOnly).await?;
            let mut view = view_of(client, &id).await?;
            // A rejected import applied nothing either: its file is reviewed afresh, and a
            // second person decides again (the rejection stays in the earlier run's history).
            if !started && view.done && view.rejected.is_some() && view.approved.is_none() {
                tracing::info!(import_id = id, "a rejected statement imported again");
                start_run(WorkflowIdReusePolicy::AllowDuplicate).await?;
                view = view_of(client, &id).await?;
            }
            // The rest of the entries, chunk by chunk; a chunk already in changes nothing.
            if view.chunks_in < view.chunks && view.approved.is_none() && view.rejected.is_none() {
                let handle = client.get_workflow_handle::<StatementImport>(id.clone());
                for (i, entries) in chunks.into_iter().enumerate() {
                    handle
                        .execute_update(
                            StatementImport::add_entries,
                            EntryChunk {
                                index: i as u32 + 1,
                                entries,
                            },
                            WorkflowExecuteUpdateOptions::default(),
                        )
                        .await
                        .map_err(|e| update_error(&id, e))?;
                }
            }
            view_of(client, &id).await
        }
        .await,
    )
}

/// An import's view from entry `offset`: its query while it runs, its result (the first
/// entries) once it has ended.
async fn view_from(client: &Client, id: &str, offset: u32) -> Result<ImportView, OpError> {
    let handle = client.get_workflow_handle::<StatementImport>(id.to_string());
    let query = handle.query(
        StatementImport::review,
        offset,
        WorkflowQueryOptions::default(),
    );
    match live_state(client, task_queues::MANUAL_HANDLE, id, query).await {
        Ok(view) => Ok(view),
        // An import that has ended keeps its view (the first entries) as its result, which
        // Temporal gives without a worker; a running one's result would only come when
        // it ends.
        Err(e) => {
            let ended = handle
                .describe(Default::default())
                .await
                .is_ok_and(|d| d.status() != temporalio_client::WorkflowExecutionStatus::Running);
            match ended {
                true => handle.get_result(Default::default()).await.map_err(|_| e),
                false => Err(e),
            }
        }
    }
}

/// How an import's latest run was stopped outside the console, if it was: terminated
/// (from Temporal's CLI or web UI), failed, timed out or cancelled. Such a run decides and
/// applies nothing more, and its file can be imported again. One description of the run,
/// and its close event when it was stopped.
async fn stopped(client: &Client, id: &str) -> Result<Option<String>, OpError> {
    let described = client
        .get_workflow_handle::<StatementImport>(id.to_string())
        .describe(WorkflowDescribeOptions::default())
        .await
        .map_err(|e| match e {
            WorkflowInteractionError::NotFound(_) => not_found(id),
            other => OpError::Temporal(other.into()),
        })?;
    let Some(ended) = histories::ended_unfinished(described.status()) else {
        return Ok(None);
    };
    let ending = histories::ending(client, id, described.run_id())
        .await
        .inspect_err(|error| tracing::warn!(import_id = %id, %error, "an import's close event"))
        .unwrap_or_default();
    let at = described
        .close_time()
        .map(crate::domain::format::rfc3339)
        .unwrap_or_default();
    Ok(Some(stopped_sentence(id, ended, &at, &ending)))
}

/// "Import X was terminated outside the console at T by WHO ("WHY"): …".
fn stopped_sentence(id: &str, ended: &str, at: &str, ending: &histories::Ending) -> String {
    let mut said = format!("import {id} was {ended} outside the console");
    if !at.is_empty() {
        said.push_str(&format!(" at {at}"));
    }
    if !ending.by.is_empty() {
        said.push_str(&format!(" by {}", ending.by));
    }
    if !ending.why.is_empty() {
        said.push_str(&format!(" ({:?})", ending.why));
    }
    said.push_str(
        ": what it had not applied never will be. Import the file again to review it afresh \
         and ask a second person to approve it.",
    );
    said
}

fn not_found(import_id: &str) -> OpError {
    OpError::NotFound(Missing::Import(import_id.to_string()))
}

fn check_import_id(import_id: &str) -> Result<(), OpError> {
    match crate::domain::statement::is_import_id(import_id) {
        true => Ok(()),
        false => Err(InputError::malformed(
            "an import id",
            import_id,
            "use the id the import printed, statement-<hash>",
        )
        .into()),
    }
}

/// An update to an import that has ended: say how it ended, not that it is missing.
async fn ended(client: &Client, import_id: &str, e: OpError) -> OpError {
    if !matches!(e, OpError::NotFound(_)) {
        return e;
    }
    match view_of(client, import_id).await {
        Ok(ImportView {
            stopped: Some(sentence),
            ..
        }) => OpError::Rejected(sentence),
        Ok(v) => match (v.approved, v.rejected) {
            (Some(by), _) => OpError::Rejected(format!(
                "{} approved this import already at {}",
                by.operator, by.at
            )),
            (_, Some((by, _))) => {
                OpError::Rejected(format!("{} rejected this import at {}", by.operator, by.at))
            }
            _ => not_found(import_id),
        },
        Err(missing @ OpError::NotFound(_)) => missing,
        Err(_) => not_found(import_id),
    }
}

async fn view(client: &Client, id: &str) -> Result<ImportView, OpError> {
    let mut view = view_from(client, id, 0).await?;
    if !view.done {
        // An import not done may have been stopped from outside: its query still answers
        // (Temporal replays the ended run), as if it were waiting.
        view.stopped = stopped(client, id).await?;
    }
    view.earlier = earlier_runs(client, id).await?;
    if view.approved.is_some() {
        view.settled = Some(settled_by(client, id).await?);
        let matched: Vec<&str> = view
            .entries
            .iter()
            .filter(|e| matches!(e.outcome, EntryOutcome::Matched { .. }))
            .filter_map(|e| e.outcome.order_id())
            .collect();
        view.settled_orders = settled_among(client, id, &matched).await?;
        if view.done {
            view.settled_terms = terms_settled_by(client, &view).await?;
        }
    }
    Ok(view)
}

/// Earlier runs of one import's file an import's review lists, at most (newest first).
pub const EARLIER_RUNS_LISTED: i32 = 20;

/// The runs of import `id`'s file before its latest, newest first, each in a sentence: who
/// imported it, and who rejected it and why (from its memo, as [`recorded_decisions`] counts
/// it), or how it was stopped. One visibility list; empty for a file imported once.
async fn earlier_runs(client: &Client, id: &str) -> Result<Vec<String>, OpError> {
    let query = format!(
        "WorkflowType = '{}' AND WorkflowId = {}",
        workflow_types::STATEMENT_IMPORT,
        super::queues::literal("import id", id)?
    );
    let listed = visibility::list_page(client, &query, EARLIER_RUNS_LISTED, None, None).await?;
    let mut runs = listed.executions;
    runs.sort_by_key(|e| std::cmp::Reverse(e.start_time));
    let earlier = runs.get(1..).unwrap_or_default();
    if earlier.is_empty() {
        return Ok(Vec::new());
    }
    let recorded = recorded_decisions(client, earlier).await?;
    Ok(earlier
        .iter()
        .map(|e| earlier_sentence(e, recorded.get(&e.run_id)))
        .collect())
}

/// One earlier run of a file, in a sentence: "imported by ana at T; rejected by bo at T2:
/// wrong account".
fn earlier_sentence(e: &visibility::ListedExecution, decided: Option<&ImportDecisions>) -> String {
    use crate::domain::format::rfc3339;
    let importer = decided
        .map(|d| d.imported_by.operator.clone())
        .or_else(|| {
            e.attributes
                .get(&sa::ACTORS)
                .and_then(|a| a.into_iter().next())
        })
        .unwrap_or_default();
    let start = e.start_time.map(rfc3339).unwrap_or_default();
    let mut said = format!("imported by {importer} at {start}; ");
    match decided {
        Some(ImportDecisions {
            rejected: Some((by, why)),
            ..
        }) => said += &format!("rejected by {} at {}: {why}", by.operator, by.at),
        Some(ImportDecisions {
            approved: Some(by), ..
        }) => said += &format!("approved by {} at {}", by.operator, by.at),
        _ => {}
    }
    match e.ended_unfinished() {
        Some(how) => {
            if decided.is_some_and(|d| d.approved.is_some()) {
                said += ", then ";
            }
            let at = e.close_time.map(rfc3339).unwrap_or_default();
            said += &format!("{how} outside the console at {at}");
        }
        None if decided.is_none() => said += "decided before imports kept their decisions",
        None => {}
    }
    said
}

/// Of the terms in doubt among a view's entries, those whose latest question settled them
/// by this import's entry (one history read a term, a few at once).
async fn terms_settled_by(client: &Client, view: &ImportView) -> Result<Vec<String>, OpError> {
    use crate::workflows::charge_lookup::{BankSaid, latest_answer};
    use futures::StreamExt;
    let given: Vec<(String, String, String)> = view
        .entries
        .iter()
        .filter_map(|e| match &e.outcome {
            EntryOutcome::ChargeInDoubt { term_id, .. } => Some((
                term_id.clone(),
                e.entry.entry_ref.clone(),
                view.statement_id.clone(),
            )),
            _ => None,
        })
        .collect();
    let read = futures::stream::iter(given)
        .map(|(term_id, entry_ref, statement)| async move {
            let answer = latest_answer(client, &term_id).await?;
            let settled = answer.is_some_and(|a| {
                matches!(a.said, BankSaid::OnStatement { statement_id, entry_ref: booked, .. }
                    if statement_id == statement && booked == entry_ref)
            });
            Ok::<_, TemporalError>(settled.then_some(term_id))
        })
        .buffer_unordered(TERM_READS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    let mut settled = Vec::new();
    for term in read {
        settled.extend(term?);
    }
    Ok(settled)
}

/// Orders asked about in one visibility list (its `IN` clause and its page).
const SETTLED_ASKED_AT_ONCE: usize = 100;

/// Which of `order_ids` record `import_id` as the import that settled them: one visibility
/// list per [`SETTLED_ASKED_AT_ONCE`] orders (a view shows at most `VIEW_ENTRIES`).
async fn settled_among(
    client: &Client,
    import_id: &str,
    order_ids: &[&str],
) -> Result<Vec<String>, OpError> {
    let mut settled = Vec::new();
    for ids in order_ids.chunks(SETTLED_ASKED_AT_ONCE) {
        // An id no filter could hold (an import started from outside may name anything)
        // names no order of ours: it is left out, not a failed page.
        let listed: Vec<String> = ids
            .iter()
            .filter_map(|id| super::queues::literal("order id", id).ok())
            .collect();
        if listed.is_empty() {
            continue;
        }
        let listed = listed.join(", ");
        let query = format!(
            "{} = '{import_id}' AND {} IN ({listed}) AND {}",
            sa::SETTLED_BY.name(),
            sa::ORDER_ID.name(),
            crate::temporal::names::waiting_stages_on_our_queues()
        );
        let page =
            visibility::list_page(client, &query, SETTLED_ASKED_AT_ONCE as i32, None, None).await?;
        settled.extend(
            page.executions
                .iter()
                .filter_map(|e| e.attributes.get(&sa::ORDER_ID)),
        );
    }
    Ok(settled)
}

/// How many orders record `import_id` as the import that settled them (one visibility
/// count, whatever the statement's size).
async fn settled_by(client: &Client, import_id: &str) -> Result<u32, OpError> {
    check_import_id(import_id)?;
    // Only the orders' own runs: any other run can be started with any `SettledBy`.
    let query = format!(
        "{} = '{import_id}' AND {}",
        sa::SETTLED_BY.name(),
        crate::temporal::names::waiting_stages_on_our_queues()
    );
    let n = visibility::count(client, &query).await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Every entry of an import, a view at a time, and the entries its approver left out (for
/// the CSV).
pub async fn all_entries(
    client: &Client,
    import_id: &str,
) -> Result<(Vec<crate::domain::statement::ReviewedEntry>, Vec<String>), OpError> {
    check_import_id(import_id)?;
    let mut entries = Vec::new();
    loop {
        let view = view_from(client, import_id, entries.len() as u32).await?;
        let left_out = view.left_out;
        // An ended import answers with its result, which holds its first entries only.
        if view.entries.is_empty() || view.offset as usize != entries.len() {
            return Ok((entries, left_out));
        }
        entries.extend(view.entries);
        if entries.len() >= view.total_entries as usize {
            return Ok((entries, left_out));
        }
    }
}

/// Imports one page of the statements page's list shows, at most.
pub const IMPORTS_PER_PAGE: i32 = 50;

/// The most recent imports, newest first ([`recent_page`]'s first page).
pub async fn recent(client: &Client) -> Result<Vec<ListedImport>, OpError> {
    Ok(recent_page(client, None).await?.imports)
}

/// One page of the imports, newest first: id, when it began, who imported it, and how it
/// stands (from visibility; a history read only for an import running or stopped with a
/// decision, as [`recorded_decisions`] proves it), and the token of the next page. A
/// file imported again after its import was stopped or rejected is one row, its latest
/// run's, on the page where that run falls: the runs of the page's files are read in one
/// more list, so an earlier run on a later page is not listed again.
pub async fn recent_page(client: &Client, page: Option<&str>) -> Result<ImportsPage, OpError> {
    let query = format!("WorkflowType = '{}'", workflow_types::STATEMENT_IMPORT);
    let listed = visibility::list_page(client, &query, IMPORTS_PER_PAGE, page, None).await?;
    // Every run of the page's files: which is each file's latest, and how many it has.
    let mut ids: Vec<&str> = listed
        .executions
        .iter()
        .map(|e| e.workflow_id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    let mut runs: HashMap<String, (Option<std::time::SystemTime>, String, usize)> = HashMap::new();
    if !ids.is_empty() {
        let list = ids
            .iter()
            .map(|id| super::queues::literal("import id", id))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ");
        let all = format!("{query} AND WorkflowId IN ({list})");
        let mut token: Option<String> = None;
        loop {
            let read = visibility::list_page(client, &all, 1_000, token.as_deref(), None).await?;
            for e in read.executions {
                let run = runs.entry(e.workflow_id.clone()).or_insert((
                    e.start_time,
                    e.run_id.clone(),
                    0,
                ));
                run.2 += 1;
                if e.start_time > run.0 {
                    (run.0, run.1) = (e.start_time, e.run_id.clone());
                }
            }
            match read.next_page {
                Some(next) => token = Some(next),
                None => break,
            }
        }
    }
    let latest: Vec<visibility::ListedExecution> = listed
        .executions
        .into_iter()
        .filter(|e| runs.get(&e.workflow_id).is_none_or(|r| r.1 == e.run_id))
        .collect();
    let recorded = recorded_decisions(client, &latest).await?;
    let imports = latest
        .into_iter()
        .map(|e| {
            // Decided since imports kept their decisions: who decided, from its memo.
            let decided = recorded
                .get(&e.run_id)
                .and_then(decided_by)
                .filter(|_| e.status == "COMPLETED" || e.status == "RUNNING");
            let mut standing = decided.unwrap_or_else(|| standing(&e.status));
            if runs.get(&e.workflow_id).is_some_and(|r| r.2 > 1) {
                standing.push_str(AGAIN);
            }
            ListedImport {
                standing,
                imported_by: e
                    .attributes
                    .get(&sa::ACTORS)
                    .and_then(|actors| actors.first().cloned())
                    .unwrap_or_default(),
                at: e
                    .start_time
                    .map(crate::domain::format::rfc3339)
                    .unwrap_or_default(),
                import_id: e.workflow_id,
            }
        })
        .collect();
    Ok(ImportsPage {
        imports,
        next_page: listed.next_page,
    })
}

/// Statement imports read for entries left out for an order or a term, at most (newest
/// first, started since the order or the term was).
pub const LEFT_OUT_IMPORTS_READ: i32 = 100;

/// The entries statements booked for any of `targets` (order ids, or term ids) that their
/// approvers left out, newest first: from the memo of each import started since `since`
/// (RFC 3339, or empty), counted only as [`recorded_decisions`] counts decisions (written by
/// the import's own workflow). One visibility list.
pub async fn left_out_for(
    client: &Client,
    targets: &[&str],
    since: &str,
) -> Result<Vec<crate::domain::statement::LeftOutNotice>, OpError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = format!("WorkflowType = '{}'", workflow_types::STATEMENT_IMPORT);
    if !since.is_empty() {
        query += &format!(
            " AND StartTime >= {}",
            super::queues::literal("time", since)?
        );
    }
    let listed = visibility::list_page(
        client,
        &query,
        LEFT_OUT_IMPORTS_READ,
        None,
        Some("StartTime DESC"),
    )
    .await?;
    let names_one = |d: &ImportDecisions| {
        d.left_out_for
            .iter()
            .any(|l| targets.contains(&l.target.as_str()))
    };
    let candidates: Vec<_> = listed
        .executions
        .into_iter()
        .filter(|e| {
            e.memo::<ImportDecisions>(DECISIONS_MEMO)
                .is_some_and(|d| names_one(&d))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let recorded = recorded_decisions(client, &candidates).await?;
    let mut notices = Vec::new();
    for e in &candidates {
        let Some(d) = recorded.get(&e.run_id) else {
            continue;
        };
        let Some(by) = &d.approved else {
            continue;
        };
        for entry in d
            .left_out_for
            .iter()
            .filter(|l| targets.contains(&l.target.as_str()))
        {
            notices.push(crate::domain::statement::LeftOutNotice {
                import_id: e.workflow_id.clone(),
                statement_id: d.statement_id.clone(),
                entry: entry.clone(),
                by: by.clone(),
                why: d.left_out_note.clone(),
            });
        }
    }
    Ok(notices)
}

/// Import histories read at once to prove a decision in a memo.
const DECISION_READS_AT_ONCE: usize = 8;

/// The decisions each of `imports` keeps in its memo (by run id), counted only when its own
/// workflow wrote them: a start from Temporal's CLI can carry any memo. A completed import
/// cleared such a memo on its first step (`import-start-memo-cleared`), so its memo is its
/// own; any other (running, stopped, or on a queue no worker polls) counts only if its
/// history shows the workflow writing its decisions (one read, for those few only).
pub async fn recorded_decisions(
    client: &Client,
    imports: &[visibility::ListedExecution],
) -> Result<HashMap<String, ImportDecisions>, OpError> {
    use futures::StreamExt;
    let mut out = HashMap::new();
    let mut to_prove = Vec::new();
    for e in imports {
        let Some(decisions) = e.memo::<ImportDecisions>(DECISIONS_MEMO) else {
            continue;
        };
        match e.status.as_str() {
            "COMPLETED" => {
                out.insert(e.run_id.clone(), decisions);
            }
            _ => to_prove.push((e.workflow_id.clone(), e.run_id.clone(), decisions)),
        }
    }
    let proven = futures::stream::iter(to_prove)
        .map(|(import_id, run_id, decisions)| async move {
            let events =
                histories::events(client, &import_id, &run_id, histories::Events::Every).await?;
            let written = events.iter().any(|event| {
                matches!(
                    &event.attributes,
                    Some(Attributes::WorkflowPropertiesModifiedEventAttributes(a))
                        if a.upserted_memo.as_ref().is_some_and(|m| {
                            m.fields.get(DECISIONS_MEMO).is_some_and(|p| {
                                serde_json::from_slice::<ImportDecisions>(&p.data).is_ok()
                            })
                        })
                )
            });
            if !written {
                tracing::warn!(
                    import_id,
                    run_id,
                    "an import's memo names a decision its workflow never recorded"
                );
            }
            Ok::<_, TemporalError>(written.then_some((run_id, decisions)))
        })
        .buffer_unordered(DECISION_READS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    for p in proven {
        out.extend(p?);
    }
    Ok(out)
}

/// Who decided an import, as its row in the list says: "approved by bo" (with how many
/// entries were left out) or "rejected by bo: why".
fn decided_by(d: &ImportDecisions) -> Option<String> {
    match (&d.approved, &d.rejected) {
        (Some(by), _) if d.left_out.is_empty() => Some(format!("approved by {}", by.operator)),
        (Some(by), _) => Some(format!(
            "approved by {}, {} left out",
            by.operator,
            match d.left_out.len() {
                1 => "1 entry".to_string(),
                n => format!("{n} entries"),
            }
        )),
        (None, Some((by, why))) => Some(format!("rejected by {}: {why}", by.operator)),
        (None, None) => None,
    }
}

/// Said of an import whose file was imported again after an earlier run was stopped or
/// rejected.
const AGAIN: &str = " (imported again after an earlier run was stopped or rejected)";

/// An import's standing from its workflow's status as visibility names it (`RUNNING`, …):
/// running, it awaits its approver or applies what was approved; completed, someone decided.
fn standing(status: &str) -> String {
    match status {
        "RUNNING" => "awaiting approval, or being applied".to_string(),
        "COMPLETED" => "decided".to_string(),
        "TERMINATED" => "stopped outside the console (terminated)".to_string(),
        other => other.to_lowercase().replace('_', " "),
    }
}

/// What an import holds and where it stands.
pub async fn view_of(client: &Client, import_id: &str) -> Result<ImportView, OpError> {
    check_import_id(import_id)?;
    view(client, import_id).await.map_err(|e| match e {
        OpError::NotFound(Missing::Workflow(_)) => not_found(import_id),
        other => other,
    })
}

/// The second person's approval: the matched orders are then settled, each through its
/// own workflow. The importer cannot approve their own import (the workflow refuses).
pub async fn approve(
    client: &Client,
    import_id: &str,
    actor: impl Into<Actor>,
) -> Result<ImportView, OpError> {
    approve_leaving_out(client, import_id, actor, &[], "").await
}

/// [`approve`], leaving out the entries `leave_out` names (their `entry_ref`), for the
/// reason `note`: the approval applies none of them, and each waits for a person. The
/// workflow refuses an entry it would not apply, and a missing reason.
pub async fn approve_leaving_out(
    client: &Client,
    import_id: &str,
    actor: impl Into<Actor>,
    leave_out: &[String],
    note: &str,
) -> Result<ImportView, OpError> {
    let actor = actor.into();
    counted(
        "approve_statement",
        async {
            check_import_id(import_id)?;
            let answered = answer(&actor, note)?;
            let request = ImportApproval {
                operator: answered.operator,
                operator_id: answered.operator_id,
                note: answered.note,
                leave_out: leave_out.to_vec(),
            };
            readiness::worker_running(client, task_queues::MANUAL_HANDLE).await?;
            let done = client
                .get_workflow_handle::<StatementImport>(import_id.to_string())
                .execute_update(
                    StatementImport::approve,
                    request,
                    WorkflowExecuteUpdateOptions::default(),
                )
                .await
                .map_err(|e| update_error(import_id, e));
            if let Err(e) = done {
                return Err(ended(client, import_id, e).await);
            }
            view_of(client, import_id).await
        }
        .await,
    )
}

/// Turns an import down, saying why: nothing is applied.
pub async fn reject(
    client: &Client,
    import_id: &str,
    actor: impl Into<Actor>,
    note: &str,
) -> Result<ImportView, OpError> {
    let actor = actor.into();
    counted(
        "reject_statement",
        async {
            check_import_id(import_id)?;
            let request = answer(&actor, note)?;
            readiness::worker_running(client, task_queues::MANUAL_HANDLE).await?;
            let done = client
                .get_workflow_handle::<StatementImport>(import_id.to_string())
                .execute_update(
                    StatementImport::reject,
                    request,
                    WorkflowExecuteUpdateOptions::default(),
                )
                .await
                .map_err(|e| update_error(import_id, e));
            if let Err(e) = done {
                return Err(ended(client, import_id, e).await);
            }
            view_of(client, import_id).await
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_names_orders_by_its_reference_or_any_word_of_it() {
        assert_eq!(candidates("ORD-1"), vec!["ORD-1".to_string()]);
        let words = candidates("payment for ORD-7, thanks");
        assert!(words.contains(&"ORD-7".to_string()), "{words:?}");
        assert!(candidates("").is_empty());
        assert_eq!(content_hash(b"abc").len(), 64);
        assert!(check_import_id("statement-abc123").is_ok());
        assert!(check_import_id("statement-' OR 1=1").is_err());
        assert!(check_import_id("payment-x").is_err());
    }

    fn myr(minor: i64) -> Money {
        Money {
            minor,
            currency: "MYR".into(),
            exponent: 2,
        }
    }

    /// Orders waiting in the manual queue for 12.50 MYR, each with its gateway reference.
    fn waiting_for_1250(orders: &[(&str, Option<&str>)]) -> HashMap<String, Waiting> {
        orders
            .iter()
            .map(|(id, reference)| {
                let order = Waiting {
                    stage: "manual".into(),
                    amount: Some(myr(1250)),
                    reference: reference.map(str::to_string),
                };
                (id.to_string(), order)
            })
            .collect()
    }

    fn mt940_of(entries: Vec<StatementEntry>) -> Statement {
        Statement {
            statement_id: "S".into(),
            account: String::new(),
            format: StatementFormat::Mt940,
            entries,
        }
    }

    /// What each entry came to, and the order it names.
    fn said(entries: &[ReviewedEntry]) -> Vec<(&str, Option<&str>)> {
        entries
            .iter()
            .map(|e| (e.outcome.word(), e.outcome.order_id()))
            .collect()
    }

    fn entry(
        index: u32,
        reference: &str,
        minor: i64,
        credit: bool,
        reversal: bool,
    ) -> StatementEntry {
        StatementEntry {
            index,
            entry_ref: format!("B{index}"),
            reference: reference.into(),
            booking_date: "2026-12-01".into(),
            amount: myr(minor),
            credit,
            reversal,
        }
    }

    #[test]
    fn a_credit_naming_a_term_of_ours_reads_what_the_terms_record_says() {
        let term = |t: &str| format!("recurring-C-1-2026-12-0{t}T14:00:00Z");
        let terms_of = |minor: i64| ContractTerms {
            contract_id: "C-1".into(),
            customer: "cust".into(),
            plan: "plan".into(),
            amount_cents: minor,
            currency: "MYR".into(),
            until_cancelled: None,
        };
        let on_record = |standing: TermStanding| TermOnRecord {
            contract_id: "C-1".into(),
            standing,
        };
        let terms = HashMap::from([
            (
                term("1"),
                on_record(TermStanding::InDoubt(Some(terms_of(1250)))),
            ),
            (term("2"), on_record(TermStanding::Charged)),
            (
                term("3"),
                on_record(TermStanding::NotCharged("the bank refused".into())),
            ),
            (term("4"), on_record(TermStanding::Charging)),
            (
                term("5"),
                on_record(TermStanding::InDoubt(Some(terms_of(1250)))),
            ),
        ]);
        let statement = Statement {
            statement_id: "S".into(),
            account: String::new(),
            format: StatementFormat::Csv,
            entries: vec![
                entry(1, &format!("charge {}.", term("1")), 1250, true, false),
                entry(2, &term("2"), 1250, true, false),
                entry(3, &term("3"), 1250, true, false),
                entry(4, &term("4"), 1250, true, false),
                entry(5, &term("5"), 999, true, false),
                // The same term twice: the second is a person's.
                entry(6, &term("1"), 1250, true, false),
                // Money out, and a term nobody knows, settle no term.
                entry(7, &term("2"), 1250, false, false),
                entry(8, &term("9"), 1250, true, false),
                // The bank takes a charge back: a person looks.
                entry(9, &format!("chargeback {}", term("2")), 1250, false, true),
            ],
        };
        assert_eq!(
            terms_to_look_up(&statement),
            ["1", "2", "3", "4", "5", "9"].map(term).to_vec()
        );
        let (mut entries, _) = match_entries(
            &statement,
            HashMap::new(),
            &HashMap::new(),
            &HashMap::new(),
            &MatchRules::default(),
        );
        match_charges(&mut entries, &terms);
        let said: Vec<(&str, Option<&str>)> = entries
            .iter()
            .map(|e| (e.outcome.word(), e.outcome.term().map(|(_, t)| t)))
            .collect();
        let (t1, t2, t3, t4, t5) = (term("1"), term("2"), term("3"), term("4"), term("5"));
        assert_eq!(
            said,
            vec![
                ("charge_in_doubt", Some(t1.as_str())),
                ("charge_on_record", Some(t2.as_str())),
                ("charge_conflict", Some(t3.as_str())),
                ("charge_conflict", Some(t4.as_str())),
                ("charge_conflict", Some(t5.as_str())),
                ("charge_conflict", Some(t1.as_str())),
                ("debit", None),
                ("unknown_order", None),
                ("charge_conflict", Some(t2.as_str())),
            ]
        );
        let why = |i: usize| match &entries[i].outcome {
            EntryOutcome::ChargeConflict { why, .. } => why.clone(),
            other => panic!("{other:?}"),
        };
        assert!(
            why(2).contains("not charged (the bank refused)"),
            "{}",
            why(2)
        );
        assert!(why(3).contains("still charging"), "{}", why(3));
        assert_eq!(why(4), "the term is for 12.50 MYR");
        assert!(why(5).contains("twice"), "{}", why(5));
        assert!(why(8).contains("chargeback"), "{}", why(8));
        // A word shaped like no term's id is not one.
        assert!(term_candidates("recurring- recurring-x' OR '1'='1").is_empty());
    }

    #[test]
    fn an_entry_names_a_waiting_order_by_its_gateway_reference_when_only_one_has_it() {
        let waiting = waiting_for_1250(&[
            ("ORD-A", Some("GW-1")),
            ("ORD-B", Some("GW-DUP")),
            ("ORD-C", Some("GW-DUP")),
            ("ORD-D", Some("ORD-A")),
        ]);
        let statement = mt940_of(vec![
            entry(1, "payout GW-1", 1250, true, false),
            // Two waiting orders carry it: neither is named.
            entry(2, "GW-DUP", 1250, true, false),
            // An order id comes before any order's reference that reads like it.
            entry(3, "ORD-A", 1250, true, false),
            // A resolved order's reference: paid once already.
            entry(4, "GW-DONE", 1250, true, false),
        ]);
        let looked = to_look_up(&statement, &waiting);
        assert_eq!(
            looked,
            vec!["GW-DONE".to_string(), "GW-DUP".to_string()],
            "only the unnamed are looked up"
        );
        let resolved = HashMap::from([("ORD-Z".to_string(), "paid".to_string())]);
        let referenced = HashMap::from([("GW-DONE".to_string(), "ORD-Z".to_string())]);
        let (entries, _) = match_entries(
            &statement,
            waiting,
            &resolved,
            &referenced,
            &MatchRules::default(),
        );
        assert_eq!(
            said(&entries),
            vec![
                ("matched", Some("ORD-A")),
                ("unknown_order", None),
                // ORD-A's second entry: a person's to look at.
                ("amount_mismatch", Some("ORD-A")),
                ("already_resolved", Some("ORD-Z")),
            ]
        );
    }

    #[test]
    fn a_payment_the_statement_reverses_is_never_matched() {
        let waiting = waiting_for_1250(&[("ORD-A", None), ("ORD-B", None), ("ORD-C", None)]);
        let resolved = HashMap::from([
            ("ORD-P".to_string(), "paid".to_string()),
            ("ORD-F".to_string(), "failed".to_string()),
        ]);
        let statement = mt940_of(vec![
            // ORD-A is paid, then the payment goes back (RC): a person decides.
            entry(1, "ORD-A", 1250, true, false),
            entry(2, "returned ORD-A", 1250, false, true),
            // ORD-B: money back from an earlier debit (RD) is not its payment.
            entry(3, "ORD-B", 1250, true, true),
            // ORD-C is paid, as before.
            entry(4, "ORD-C", 1250, true, false),
            // The payment of ORD-P, settled earlier, goes back.
            entry(5, "ORD-P", 1250, false, true),
            entry(6, "ORD-F", 1250, false, true),
            entry(7, "fees", 100, false, false),
        ]);
        let (entries, unmentioned) = match_entries(
            &statement,
            waiting,
            &resolved,
            &HashMap::new(),
            &MatchRules::default(),
        );
        assert_eq!(
            said(&entries),
            vec![
                ("reversed", Some("ORD-A")),
                ("reversal", Some("ORD-A")),
                ("reversal", Some("ORD-B")),
                ("matched", Some("ORD-C")),
                ("reversal_of_paid", Some("ORD-P")),
                ("reversal", Some("ORD-F")),
                ("debit", None),
            ]
        );
        assert!(unmentioned.is_empty(), "{unmentioned:?}");
        // Reversals are looked up among the resolved orders too.
        let looked = to_look_up(&statement, &HashMap::new());
        for id in ["ORD-A", "ORD-P", "ORD-F"] {
            assert!(looked.contains(&id.to_string()), "{looked:?}");
        }
    }
}
