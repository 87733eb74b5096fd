//! "What waits where": the visibility queries behind the manual queue, the stale list and
//! the live counts, built from the named search attributes, workflow types and stages, with
//! one check for every value that goes inside a query.

use std::time::SystemTime;
use temporalio_client::Client;

use super::{
    OpError,
    orders::{ask_bank_now, retry_now},
};
use crate::{
    domain::format::rfc3339,
    domain::input::{Characters, InputError, MAX_CODE_LEN, TextRule},
    domain::listing::{
        LIST_PAGE_SIZE, QueueFilter, QueuePage, QueueRow, QueueTally, ServiceLevel, StaleFilter,
        StalePage, StaleRow, Waiting, WaitingBoard, age_filter, amount_band, claim_filter,
    },
    domain::order::{DEFAULT_PRIORITY, Resolution, Stage, StageCounts},
    domain::resolution::Actor,
    temporal::names::{task_queues, workflow_types},
    temporal::readiness,
    temporal::search_attributes as sa,
    temporal::visibility::{self, ListedExecution},
};

pub use crate::domain::listing::BULK_LIMIT;
/// Executions read per visibility page when a bulk retry walks its set.
const BULK_PAGE_SIZE: i32 = 100;

/// The rule a value a person filters by is held to before it goes into a query: any
/// name a person can have (`O'Neil`, `José`, `ana+ops@example.com`), on one line.
const FILTER_VALUE: TextRule = TextRule {
    field: "filter",
    required: false,
    max: MAX_CODE_LEN,
    characters: Characters::Line,
};

/// `value` as a quoted visibility literal: any text a filter may hold, with `\` and `'`
/// escaped as Temporal's query parser reads them, so no value can end the literal.
pub(super) fn literal(field: &'static str, value: &str) -> Result<String, OpError> {
    TextRule {
        field,
        ..FILTER_VALUE
    }
    .check(value)?;
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    Ok(format!("'{escaped}'"))
}

/// Open workflows of one type in one stage.
fn waiting(workflow_type: &str, stage: Stage) -> String {
    format!(
        "WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running' AND {} = '{}' \
         AND {}",
        sa::ORDER_STAGE.name(),
        stage.as_str(),
        crate::temporal::names::on_our_queue(workflow_type)
    )
}

/// The runs of an order's workflow that can be in `stage`, on the queues our workers poll
/// ([`crate::temporal::names::on_our_queue`]): a resolved order is the run that resolved it.
fn stage_on_our_queue(stage: Stage) -> String {
    use crate::temporal::names::on_our_queue;
    match stage {
        Stage::Querying => on_our_queue(workflow_types::QUERY_ORDER),
        Stage::Stale => on_our_queue(workflow_types::STALE_ORDER),
        Stage::Manual => on_our_queue(workflow_types::MANUAL_HANDLE),
        Stage::Resolved => format!(
            "({} OR {} OR {})",
            on_our_queue(workflow_types::QUERY_ORDER),
            on_our_queue(workflow_types::STALE_ORDER),
            on_our_queue(workflow_types::MANUAL_HANDLE)
        ),
    }
}

/// Every order in the manual queue.
pub fn manual_queue_base() -> String {
    waiting(workflow_types::MANUAL_HANDLE, Stage::Manual)
}

fn unclaimed() -> String {
    format!("({0} IS NULL OR {0} = '')", sa::CLAIMED_BY.name())
}

fn claimed() -> String {
    format!("({0} IS NOT NULL AND {0} != '')", sa::CLAIMED_BY.name())
}

fn awaiting_approval() -> String {
    format!("{} = 1", sa::AWAITING_APPROVAL.name())
}

fn claimed_by(operator: &str) -> Result<String, OpError> {
    Ok(format!(
        " AND {} = {}",
        sa::CLAIMED_BY.name(),
        literal("operator", operator)?
    ))
}

/// The manual queue's query for a filter; "mine" needs the operator.
pub fn manual_queue_query(filter: &QueueFilter, operator: Option<&str>) -> Result<String, OpError> {
    manual_queue_query_at(
        filter,
        operator,
        &ServiceLevel::default(),
        SystemTime::now(),
    )
}

/// Orders that have waited at least `secs` by `now`: a window on `StartTime`, which SQL
/// visibility filters on although it cannot sort.
fn waited_at_least(secs: u32, now: SystemTime) -> String {
    let cutoff = now
        .checked_sub(std::time::Duration::from_secs(u64::from(secs)))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    format!("StartTime <= '{}'", rfc3339(cutoff))
}

/// Orders that have waited at least `secs` by `now`, or `large_secs` for orders
/// `sla` counts as large: the large ones by currency and amount (`OrderCurrency`,
/// `OrderAmount`), which SQL visibility filters on.
fn waited_past(sla: &ServiceLevel, (secs, large_secs): (u32, u32), now: SystemTime) -> String {
    let ordinary = waited_at_least(secs, now);
    if sla.large.from.is_empty() {
        return ordinary;
    }
    let large = sla
        .large
        .from
        .iter()
        .map(|f| {
            // Currency codes were checked against ISO 4217 when the settings were read.
            format!(
                "({} = '{}' AND {} >= {})",
                sa::ORDER_CURRENCY.name(),
                f.currency,
                sa::ORDER_AMOUNT.name(),
                f.major()
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "({ordinary} OR ({} AND ({large})))",
        waited_at_least(large_secs, now)
    )
}

/// The manual queue's query with the age filter read against `sla` at `now`.
pub fn manual_queue_query_at(
    filter: &QueueFilter,
    operator: Option<&str>,
    sla: &ServiceLevel,
    now: SystemTime,
) -> Result<String, OpError> {
    let mut q = manual_queue_base();
    match filter.age.as_str() {
        age_filter::ANY => {}
        age => match sla.older_than_secs(age) {
            Some(secs) => q += &format!(" AND {}", waited_past(sla, secs, now)),
            None => {
                return Err(
                    InputError::not_one_of("an age filter", age, "at_risk or breached").into(),
                );
            }
        },
    }
    if !filter.prefix.is_empty() {
        let prefix = literal("order id", &filter.prefix)?;
        q += &format!(" AND {} STARTS_WITH {prefix}", sa::ORDER_ID.name());
    }
    if !filter.provider.is_empty() {
        let provider = literal("upstream", &filter.provider)?;
        q += &format!(" AND {} = {provider}", sa::UPSTREAM_PROVIDER.name());
    }
    if !filter.reason.is_empty() {
        // Either error: the one that ended QueryOrder or the stale retry's.
        let reason = literal("error reason", &filter.reason)?;
        q += &format!(
            " AND ({} = {reason} OR {} = {reason})",
            sa::ERROR_REASON.name(),
            sa::ORIGINAL_ERROR_REASON.name(),
        );
    }
    // `myr` or ` MYR ` as typed finds MYR, as an order's own currency is read.
    let currency = filter.currency.trim().to_ascii_uppercase();
    if !currency.is_empty() {
        crate::domain::contract::check_currency_code(&currency)?;
        q += &format!(
            " AND {} = {}",
            sa::ORDER_CURRENCY.name(),
            literal("currency", &currency)?
        );
    }
    if !filter.band.is_empty() {
        let (from, below) = amount_band::bounds(&filter.band).ok_or_else(|| {
            InputError::not_one_of(
                "an amount band",
                &filter.band,
                "small, medium, large or huge",
            )
        })?;
        q += &format!(" AND {} >= {from}", sa::ORDER_AMOUNT.name());
        if below < f64::MAX {
            q += &format!(" AND {} < {below}", sa::ORDER_AMOUNT.name());
        }
    }
    match filter.claim.as_str() {
        "" | claim_filter::ALL => {}
        claim_filter::UNCLAIMED => q += &format!(" AND {}", unclaimed()),
        claim_filter::AWAITING_APPROVAL => q += &format!(" AND {}", awaiting_approval()),
        claim_filter::MINE => {
            let op = operator.ok_or(OpError::NeedsOperator(
                "enter your name at the top to see your own orders",
            ))?;
            q += &claimed_by(op)?;
        }
        other => {
            return Err(InputError::not_one_of(
                "a claim filter",
                other,
                "all, mine, unclaimed or awaiting",
            )
            .into());
        }
    }
    Ok(q)
}

fn seconds_between(earlier: SystemTime, later: SystemTime) -> i64 {
    match later.duration_since(earlier) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn queue_row(e: ListedExecution, now: SystemTime) -> QueueRow {
    let attributes = &e.attributes;
    QueueRow {
        order_id: attributes.get(&sa::ORDER_ID).unwrap_or_default(),
        provider: attributes.get(&sa::UPSTREAM_PROVIDER).unwrap_or_default(),
        waiting_secs: e
            .start_time
            .map(|t| seconds_between(t, now).max(0))
            .unwrap_or(0),
        waiting_since: e.start_time.map(rfc3339).unwrap_or_default(),
        priority: attributes
            .get(&sa::ORDER_PRIORITY)
            .unwrap_or(DEFAULT_PRIORITY),
        original_reason: attributes
            .get(&sa::ORIGINAL_ERROR_REASON)
            .unwrap_or_default(),
        error_reason: attributes.get(&sa::ERROR_REASON).unwrap_or_default(),
        attempts: attributes.get(&sa::UPSTREAM_ATTEMPTS),
        claimed_by: attributes.get(&sa::CLAIMED_BY).unwrap_or_default(),
        claimed_secs: attributes
            .get(&sa::CLAIMED_AT)
            .and_then(|t| SystemTime::try_from(t.to_prost()).ok())
            .map(|t| seconds_between(t, now).max(0)),
        awaiting_approval: attributes.get(&sa::AWAITING_APPROVAL) == Some(1),
        amount: listed_amount(attributes),
        notes: attributes
            .get(&sa::NOTE_COUNT)
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(0, |n| n.min(u32::MAX as f64) as u32),
        reference: attributes.get(&sa::GATEWAY_REFERENCE).unwrap_or_default(),
    }
}

/// An order's money from its search attributes: the currency, and the amount back in
/// minor units (a Double holds every amount up to the named limit exactly).
pub(super) fn listed_amount(
    attributes: &temporalio_common::search_attributes::SearchAttributes,
) -> Option<crate::domain::money::Money> {
    let currency = attributes.get(&sa::ORDER_CURRENCY)?.into_iter().next()?;
    let major = attributes.get(&sa::ORDER_AMOUNT)?;
    let exponent = crate::domain::money::minor_units(&currency)?;
    let minor = (major * 10f64.powi(exponent as i32)).round();
    (minor.is_finite() && minor >= 1.0 && minor < i64::MAX as f64).then_some(
        crate::domain::money::Money {
            minor: minor as i64,
            currency,
            exponent,
        },
    )
}

/// Most orders one queue export holds.
pub const MAX_EXPORT_ROWS: usize = 10_000;

/// The queue's orders matching `filter`, for the CSV: up to [`MAX_EXPORT_ROWS`], and
/// whether it stopped there.
pub async fn export(
    client: &Client,
    filter: &QueueFilter,
    operator: Option<&str>,
    sla: &ServiceLevel,
) -> Result<(Vec<QueueRow>, bool), OpError> {
    let now = SystemTime::now();
    let q = manual_queue_query_at(filter, operator, sla, now)?;
    let mut rows = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let listed =
            visibility::list_page(client, &q, 1_000, page.as_deref(), Some("StartTime ASC"))
                .await?;
        rows.extend(listed.executions.into_iter().map(|e| queue_row(e, now)));
        match listed.next_page {
            Some(_) if rows.len() >= MAX_EXPORT_ROWS => {
                rows.truncate(MAX_EXPORT_ROWS);
                return Ok((rows, true));
            }
            Some(next) => page = Some(next),
            None => return Ok((rows, false)),
        }
    }
}

/// Most waiting orders the ageing board reads; past it the board says it is a floor.
pub const MAX_BOARD_ORDERS: usize = 50_000;

/// What waits in the manual queue: in money, per currency and age, and against the
/// service level (at risk, past it, claimed, awaiting approval, the oldest): every waiting
/// order read, a thousand a page (2,000 orders take about a second on the dev server).
/// The console reads it for all its pages and its metrics (see `web::live::watch`), never
/// per page load or scrape, and less often the longer it takes.
pub async fn waiting_board(client: &Client, sla: &ServiceLevel) -> Result<WaitingBoard, OpError> {
    let base = manual_queue_base();
    let now = SystemTime::now();
    let mut board = WaitingBoard {
        counted_at: rfc3339(now),
        ..Default::default()
    };
    let mut page: Option<String> = None;
    let mut read = 0usize;
    let since = |t: Option<SystemTime>| t.map(|t| seconds_between(t, now).max(0));
    loop {
        let listed = visibility::list_page(client, &base, 1_000, page.as_deref(), None).await?;
        for e in &listed.executions {
            let a = &e.attributes;
            let amount = listed_amount(a);
            let at = |key| {
                a.get(key)
                    .and_then(|t: temporalio_common::search_attributes::Timestamp| {
                        SystemTime::try_from(t.to_prost()).ok()
                    })
            };
            board.count(
                &Waiting {
                    amount: amount.as_ref(),
                    waiting_secs: since(e.start_time).unwrap_or(0),
                    claimed: a.get(&sa::CLAIMED_BY).is_some_and(|c| !c.is_empty()),
                    awaiting_approval: a.get(&sa::AWAITING_APPROVAL) == Some(1),
                    proposed_secs: since(at(&sa::PROPOSED_AT)),
                },
                sla,
            );
        }
        read += listed.executions.len();
        match listed.next_page {
            Some(next) if read < MAX_BOARD_ORDERS => page = Some(next),
            Some(_) => {
                board.truncated = true;
                return Ok(board);
            }
            None => return Ok(board),
        }
    }
}

/// The manual queue's tab counts: five visibility counts and the claimed orders read
/// (people hold tens, not thousands). Cheap at any size, so the console's watch makes it
/// every round, and again at once after a change made through the console.
pub async fn queue_tally(client: &Client, sla: &ServiceLevel) -> Result<QueueTally, OpError> {
    let base = manual_queue_base();
    let now = SystemTime::now();
    let past = |filter: &str| {
        let secs = sla.older_than_secs(filter).unwrap_or_default();
        format!("{base} AND {}", waited_past(sla, secs, now))
    };
    let count = |q: String| async move { visibility::count(client, &q).await };
    let claimed_q = format!("{base} AND {}", claimed());
    let claims = async {
        let mut claims = std::collections::BTreeMap::<String, u64>::new();
        let mut page: Option<String> = None;
        let mut read = 0usize;
        loop {
            let listed =
                visibility::list_page(client, &claimed_q, 1_000, page.as_deref(), None).await?;
            for e in &listed.executions {
                if let Some(who) = e.attributes.get(&sa::CLAIMED_BY).filter(|w| !w.is_empty()) {
                    *claims.entry(who).or_default() += 1;
                }
            }
            read += listed.executions.len();
            match listed.next_page {
                Some(next) if read < MAX_BOARD_ORDERS => page = Some(next),
                _ => return Ok::<_, OpError>(claims),
            }
        }
    };
    let (all, unclaimed, awaiting_approval, breached, past_risk, claims) = futures::try_join!(
        async { Ok(count(base.clone()).await?) },
        async { Ok(count(format!("{base} AND {}", unclaimed())).await?) },
        async { Ok(count(format!("{base} AND {}", awaiting_approval())).await?) },
        async { Ok(count(past(age_filter::BREACHED)).await?) },
        async { Ok(count(past(age_filter::AT_RISK)).await?) },
        claims,
    )?;
    let figure = |n: usize| n as u64;
    Ok(QueueTally {
        all: figure(all),
        unclaimed: figure(unclaimed),
        awaiting_approval: figure(awaiting_approval),
        breached: figure(breached),
        at_risk: figure(past_risk.saturating_sub(breached)),
        claims,
        counted_at: rfc3339(now),
    })
}

/// A stale order is overdue when its retry time passed this long ago and it still waits
/// (no worker took its timer).
pub const STALE_OVERDUE_SECS: u64 = 60;

/// What the console's watch reads in one round (see `web::live::watch`).
#[derive(Debug, Clone, Default)]
pub struct WaitingFigures {
    pub tally: QueueTally,
    /// The board, in the rounds that read it through.
    pub board: Option<WaitingBoard>,
    /// Orders open in each stage.
    pub querying: usize,
    pub stale: usize,
    /// Stale orders past their retry time by [`STALE_OVERDUE_SECS`].
    pub stale_due: usize,
    /// Statement imports still open (awaiting approval, or applying), and the oldest's age.
    pub imports_open: usize,
    pub oldest_import_secs: i64,
}

/// One round of what waits: the queue's tally, two stage counts, the overdue stale orders
/// and the open statement imports; the board too when `with_board`.
pub async fn waiting_figures(
    client: &Client,
    sla: &ServiceLevel,
    with_board: bool,
) -> Result<WaitingFigures, OpError> {
    let now = SystemTime::now();
    let open = |stage: Stage| {
        format!(
            "ExecutionStatus = 'Running' AND {} = '{}' AND {}",
            sa::ORDER_STAGE.name(),
            stage.as_str(),
            stage_on_our_queue(stage)
        )
    };
    let overdue = now
        .checked_sub(std::time::Duration::from_secs(STALE_OVERDUE_SECS))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let stale_due = format!(
        "{} AND {} <= '{}'",
        waiting(workflow_types::STALE_ORDER, Stage::Stale),
        sa::STALE_RETRY_AT.name(),
        rfc3339(overdue)
    );
    let imports = format!(
        "WorkflowType = '{}' AND ExecutionStatus = 'Running'",
        workflow_types::STATEMENT_IMPORT
    );
    let count = |q: String| async move { Ok::<_, OpError>(visibility::count(client, &q).await?) };
    let (tally, board, querying, stale, stale_due, imports) = futures::try_join!(
        queue_tally(client, sla),
        async {
            match with_board {
                true => waiting_board(client, sla).await.map(Some),
                false => Ok(None),
            }
        },
        count(open(Stage::Querying)),
        count(open(Stage::Stale)),
        count(stale_due),
        async { Ok(visibility::list_page(client, &imports, 1_000, None, None).await?) },
    )?;
    let oldest_import_secs = imports
        .executions
        .iter()
        .filter_map(|e| e.start_time)
        .map(|t| seconds_between(t, now).max(0))
        .max()
        .unwrap_or(0);
    Ok(WaitingFigures {
        tally,
        board,
        querying,
        stale,
        stale_due,
        imports_open: imports.executions.len(),
        oldest_import_secs,
    })
}

/// One page of the manual queue, with the counts of its claim tabs. The tabs are read off
/// `tally`, the console's one shared count (see [`queue_tally`] and `web::live::watch`),
/// so a page costs one visibility list, and a filtered page one count more for its matches.
pub async fn manual_queue(
    client: &Client,
    filter: &QueueFilter,
    page: Option<String>,
    operator: Option<String>,
    sla: &ServiceLevel,
    tally: &QueueTally,
) -> Result<QueuePage, OpError> {
    let base = manual_queue_base();
    let now = SystemTime::now();
    let q = manual_queue_query_at(filter, operator.as_deref(), sla, now)?;
    let filtered = q != base;
    let (listed, matching) = futures::try_join!(
        visibility::list_page(
            client,
            &q,
            LIST_PAGE_SIZE,
            page.as_deref(),
            Some("StartTime ASC"),
        ),
        async {
            match filtered {
                true => visibility::count(client, &q).await,
                false => Ok(0),
            }
        },
    )?;
    let figure = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let all = figure(tally.all);
    Ok(QueuePage {
        rows: listed
            .executions
            .into_iter()
            .map(|e| queue_row(e, now))
            .collect(),
        next_page: listed.next_page,
        matching: if filtered { matching } else { all },
        all,
        unclaimed: figure(tally.unclaimed),
        mine: operator
            .as_deref()
            .map_or(0, |op| figure(tally.claimed_by(op))),
        awaiting_approval: figure(tally.awaiting_approval),
        breached: figure(tally.breached),
        service_level: sla.clone(),
        oldest_first: listed.sorted,
        operator,
        counted_at: tally.counted_at.clone(),
        dropped: 0,
        dropped_more: false,
    })
}

/// The stale list's query for a filter.
pub fn stale_query(filter: &StaleFilter) -> Result<String, OpError> {
    let mut q = waiting(workflow_types::STALE_ORDER, Stage::Stale);
    if !filter.provider.is_empty() {
        let provider = literal("upstream", &filter.provider)?;
        q += &format!(" AND {} = {provider}", sa::UPSTREAM_PROVIDER.name());
    }
    if !filter.reason.is_empty() {
        let reason = literal("error reason", &filter.reason)?;
        q += &format!(" AND {} = {reason}", sa::ERROR_REASON.name());
    }
    Ok(q)
}

fn stale_row(e: ListedExecution, now: SystemTime) -> StaleRow {
    let attributes = &e.attributes;
    let at = attributes
        .get(&sa::STALE_RETRY_AT)
        .and_then(|t| SystemTime::try_from(t.to_prost()).ok());
    StaleRow {
        order_id: attributes.get(&sa::ORDER_ID).unwrap_or_default(),
        provider: attributes.get(&sa::UPSTREAM_PROVIDER).unwrap_or_default(),
        retry_at: at.map(rfc3339).unwrap_or_default(),
        retry_in_secs: at.map(|t| seconds_between(now, t)).unwrap_or(0),
        error_reason: attributes.get(&sa::ERROR_REASON).unwrap_or_default(),
        attempts: attributes.get(&sa::UPSTREAM_ATTEMPTS),
    }
}

/// One page of the stale list, soonest retry first where the store can sort.
pub async fn stale_orders(
    client: &Client,
    filter: &StaleFilter,
    page: Option<String>,
) -> Result<StalePage, OpError> {
    let q = stale_query(filter)?;
    let listed = visibility::list_page(
        client,
        &q,
        LIST_PAGE_SIZE,
        page.as_deref(),
        Some("StaleRetryAt ASC"),
    )
    .await?;
    let matching = visibility::count(client, &q).await?;
    let now = SystemTime::now();
    Ok(StalePage {
        rows: listed
            .executions
            .into_iter()
            .map(|e| stale_row(e, now))
            .collect(),
        matching,
        next_page: listed.next_page,
    })
}

/// Retries every stale order matching the filter, if there are still `expected` of them
/// (the person saw that number). Returns how many it told to retry.
pub async fn retry_matching(
    client: &Client,
    filter: &StaleFilter,
    expected: usize,
    operator: &str,
) -> Result<usize, OpError> {
    let q = stale_query(filter)?;
    let matching = visibility::count(client, &q).await?;
    if matching != expected {
        return Err(OpError::Rejected(format!(
            "the set changed: {matching} orders match now, not {expected}; look again before retrying"
        )));
    }
    if matching > BULK_LIMIT {
        return Err(OpError::Rejected(format!(
            "{matching} orders match: narrow the filter to at most {BULK_LIMIT}"
        )));
    }
    // Each retry reads its order first, which needs a worker: say so once, not per order.
    readiness::worker_running(client, task_queues::STALE_ORDER).await?;
    // Never more than the person was told: the set may grow while this runs.
    let mut touched = 0;
    let mut seen = 0;
    let mut token: Option<String> = None;
    while seen < expected {
        let page =
            visibility::list_page(client, &q, BULK_PAGE_SIZE, token.as_deref(), None).await?;
        for e in page.executions.iter().take(expected - seen) {
            seen += 1;
            if let Some(order_id) = e.attributes.get(&sa::ORDER_ID)
                && retry_now(client, &order_id, operator).await.is_ok()
            {
                touched += 1;
            }
        }
        match page.next_page {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok(touched)
}

/// How many orders waiting in the manual queue match `filter` (as `operator` sees the
/// queue, for its "mine" tab): what a bulk question would touch.
pub async fn manual_matching(
    client: &Client,
    filter: &QueueFilter,
    operator: &str,
    sla: &ServiceLevel,
) -> Result<usize, OpError> {
    let q = manual_queue_query_at(filter, Some(operator), sla, SystemTime::now())?;
    Ok(visibility::count(client, &q).await?)
}

/// Questions to the bank a bulk ask has in flight at once (each an update; the calls to
/// the bank then go through its shared rate-limited queue whatever this is).
const BULK_ASKS_AT_ONCE: usize = 8;

/// Has every order waiting in the manual queue that matches `filter` ask the bank again,
/// for `actor`, if there are still `expected` of them (the person saw that number), at most
/// [`BULK_LIMIT`]. Returns how many took the question (an order resolved meanwhile, or
/// asked too often, does not). The answers come to each order; nobody waits for them here.
pub async fn ask_bank_matching(
    client: &Client,
    filter: &QueueFilter,
    expected: usize,
    actor: &Actor,
    sla: &ServiceLevel,
) -> Result<usize, OpError> {
    use futures::StreamExt;
    // One query, built once: the count and the list read the same set (its ages at one
    // instant).
    let q = manual_queue_query_at(filter, Some(&actor.name), sla, SystemTime::now())?;
    let matching = visibility::count(client, &q).await?;
    if matching != expected {
        return Err(OpError::Rejected(format!(
            "the set changed: {matching} orders match now, not {expected}; look again before \
             asking the bank"
        )));
    }
    if matching > BULK_LIMIT {
        return Err(OpError::Rejected(format!(
            "{matching} orders match: narrow the filter to at most {BULK_LIMIT}"
        )));
    }
    // Each question is an update, which needs a worker: say so once, not per order.
    readiness::worker_running(client, task_queues::MANUAL_HANDLE).await?;
    // Never more than the person was told: the set may grow while this runs.
    let mut order_ids = Vec::with_capacity(expected);
    let mut token: Option<String> = None;
    while order_ids.len() < expected {
        let page =
            visibility::list_page(client, &q, BULK_PAGE_SIZE, token.as_deref(), None).await?;
        let left = expected - order_ids.len();
        order_ids.extend(
            page.executions
                .iter()
                .filter_map(|e| e.attributes.get(&sa::ORDER_ID))
                .take(left),
        );
        match page.next_page {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let asked = futures::stream::iter(order_ids)
        .map(|order_id| async move {
            let asked = ask_bank_now(client, &order_id, actor).await;
            if let Err(error) = &asked {
                tracing::info!(order_id, %error, "a bulk question to the bank was not taken");
            }
            asked.is_ok()
        })
        .buffer_unordered(BULK_ASKS_AT_ONCE)
        .filter(|taken| futures::future::ready(*taken))
        .count()
        .await;
    Ok(asked)
}

/// Waiting orders read at most to choose the next one to take: one visibility page of the
/// most urgent age band that holds any.
pub const TAKE_NEXT_READ: i32 = 1_000;

/// Orders tried in turn when colleagues claim the chosen ones first.
pub const TAKE_NEXT_TRIES: usize = 5;

/// The next order `actor` should work, claimed for them: of the unclaimed orders matching
/// `filter` that await no approval, one past the service level if any, else one at risk,
/// else any; within that, the most urgent priority the gateway gave, then the one that has
/// waited longest (the store sorts by start time where it can; otherwise these are among
/// the band's first [`TAKE_NEXT_READ`]). A colleague's claim
/// made meanwhile (the workflow refuses the second) sends it on to the next, at most
/// [`TAKE_NEXT_TRIES`] times. `None`: nothing matches.
pub async fn take_next(
    client: &Client,
    filter: &QueueFilter,
    actor: &Actor,
    sla: &ServiceLevel,
) -> Result<Option<String>, OpError> {
    let now = SystemTime::now();
    let open = QueueFilter {
        claim: claim_filter::UNCLAIMED.into(),
        ..filter.clone()
    };
    let base = format!(
        "{} AND ({1} IS NULL OR {1} != 1)",
        manual_queue_query_at(&open, None, sla, now)?,
        sa::AWAITING_APPROVAL.name()
    );
    // The bands a filter on age leaves (it already holds to its own).
    let urgent = match filter.age.as_str() {
        age_filter::ANY => vec![age_filter::BREACHED, age_filter::AT_RISK],
        age_filter::AT_RISK => vec![age_filter::BREACHED],
        _ => Vec::new(),
    };
    let bands = urgent
        .into_iter()
        .filter_map(|age| sla.older_than_secs(age))
        .map(|secs| format!("{base} AND {}", waited_past(sla, secs, now)))
        .chain([base.clone()]);
    for q in bands {
        let listed =
            visibility::list_page(client, &q, TAKE_NEXT_READ, None, Some("StartTime ASC")).await?;
        let mut rows: Vec<QueueRow> = listed
            .executions
            .into_iter()
            .map(|e| queue_row(e, now))
            .collect();
        if rows.is_empty() {
            continue;
        }
        // The gateway's priority first (1, urgent, before 4), then the longest waiting.
        rows.sort_by_key(|r| (r.priority, std::cmp::Reverse(r.waiting_secs)));
        for row in rows.into_iter().take(TAKE_NEXT_TRIES) {
            match super::orders::claim(client, &row.order_id, actor.clone()).await {
                Ok(_) => return Ok(Some(row.order_id)),
                // Claimed by a colleague a moment ago, or resolved: the next one.
                Err(OpError::Rejected(why)) => {
                    tracing::info!(order_id = row.order_id, why, "taken first, trying the next");
                }
                Err(e) => return Err(e),
            }
        }
        return Err(OpError::Rejected(format!(
            "colleagues took the next {TAKE_NEXT_TRIES} orders first: take the next again"
        )));
    }
    Ok(None)
}

/// Proposals the next-proposal read looks into at most, the longest waiting first, to find
/// one that is not the approver's own.
pub const NEXT_PROPOSAL_TRIES: usize = 20;

/// The order whose proposed resolution `approver` should review next: of the proposals
/// awaiting a second person, the one proposed longest ago (`ProposedAt`) that is not their
/// own (the workflow would refuse their approval of it). Opens nothing and claims nothing:
/// two approvers may open the same one, and the second to decide is told the first did.
/// `None` when no proposal awaits them.
pub async fn next_proposal(client: &Client, approver: &Actor) -> Result<Option<String>, OpError> {
    let q = format!("{} AND {}", manual_queue_base(), awaiting_approval());
    let listed = visibility::list_page(client, &q, TAKE_NEXT_READ, None, None).await?;
    let mut proposals: Vec<(SystemTime, String)> = listed
        .executions
        .into_iter()
        .filter_map(|e| {
            let order_id = e.attributes.get(&sa::ORDER_ID)?;
            let proposed = e
                .attributes
                .get(&sa::PROPOSED_AT)
                .and_then(|t| SystemTime::try_from(t.to_prost()).ok())
                .or(e.start_time)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            Some((proposed, order_id))
        })
        .collect();
    proposals.sort();
    for (_, order_id) in proposals.into_iter().take(NEXT_PROPOSAL_TRIES) {
        let context = super::orders::manual_context(client, &order_id).await?;
        let theirs = context.proposal.is_some_and(|p| {
            crate::domain::resolution::same_person(p.resolver(), approver.person())
        });
        if !theirs && context.resolution.is_none() {
            return Ok(Some(order_id));
        }
    }
    Ok(None)
}

/// What giving back every claim of one person came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GivenBack {
    /// Claims released: those orders wait for anyone again.
    pub released: usize,
    /// Claims the order kept (its workflow refused the release: resolved meanwhile, say).
    pub kept: usize,
}

/// Gives back every claim `actor` holds on an order waiting in the manual queue (the end
/// of a shift), at most [`BULK_LIMIT`]: each a release, which the order's workflow checks
/// (only the holder can). Orders awaiting approval keep their claim: the proposal waits for
/// an approver with it.
pub async fn release_all_mine(
    client: &Client,
    actor: &Actor,
    sla: &ServiceLevel,
) -> Result<GivenBack, OpError> {
    use futures::StreamExt;
    let mine = QueueFilter {
        claim: claim_filter::MINE.into(),
        ..Default::default()
    };
    let q = format!(
        "{} AND ({1} IS NULL OR {1} != 1)",
        manual_queue_query_at(&mine, Some(&actor.name), sla, SystemTime::now())?,
        sa::AWAITING_APPROVAL.name()
    );
    let mut order_ids = Vec::new();
    let mut token: Option<String> = None;
    while order_ids.len() < BULK_LIMIT {
        let page =
            visibility::list_page(client, &q, BULK_PAGE_SIZE, token.as_deref(), None).await?;
        order_ids.extend(
            page.executions
                .iter()
                .filter_map(|e| e.attributes.get(&sa::ORDER_ID)),
        );
        match page.next_page {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    order_ids.truncate(BULK_LIMIT);
    if order_ids.is_empty() {
        return Ok(GivenBack {
            released: 0,
            kept: 0,
        });
    }
    // Each release is an update, which needs a worker: say so once, not per order.
    readiness::worker_running(client, task_queues::MANUAL_HANDLE).await?;
    let total = order_ids.len();
    let released = futures::stream::iter(order_ids)
        .map(|order_id| async move {
            let released = super::orders::release(client, &order_id, actor.clone()).await;
            if let Err(error) = &released {
                tracing::info!(order_id, %error, "a claim given back in bulk was kept");
            }
            released.is_ok()
        })
        .buffer_unordered(BULK_ASKS_AT_ONCE)
        .filter(|released| futures::future::ready(*released))
        .count()
        .await;
    Ok(GivenBack {
        released,
        kept: total - released,
    })
}

/// Live counts of orders per stage: open workflows by stage, closed ones by resolution.
pub async fn stage_counts(client: &Client) -> Result<StageCounts, OpError> {
    let count = |query: String| async move { visibility::count(client, &query).await };
    let open = |stage: Stage| {
        format!(
            "ExecutionStatus = 'Running' AND {} = '{}' AND {}",
            sa::ORDER_STAGE.name(),
            stage.as_str(),
            stage_on_our_queue(stage)
        )
    };
    let resolved = format!(
        "{} = '{}' AND {}",
        sa::ORDER_STAGE.name(),
        Stage::Resolved.as_str(),
        stage_on_our_queue(Stage::Resolved)
    );
    let resolved_as = |resolution: Resolution| {
        format!(
            "{resolved} AND {} = '{}'",
            sa::ORDER_RESOLUTION.name(),
            resolution.as_str()
        )
    };
    let resolved_all = count(resolved.clone()).await?;
    let resolved_paid = count(resolved_as(Resolution::Paid)).await?;
    let resolved_failed = count(resolved_as(Resolution::Failed)).await?;
    Ok(StageCounts {
        querying: count(open(Stage::Querying)).await?,
        stale: count(open(Stage::Stale)).await?,
        manual: count(open(Stage::Manual)).await?,
        resolved_paid,
        resolved_failed,
        resolved_other: resolved_all.saturating_sub(resolved_paid + resolved_failed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_escape_every_value_a_person_filters_by() {
        let hostile = QueueFilter {
            prefix: "x' OR '1'='1".into(),
            provider: "bank\\' OR 'a'='a".into(),
            ..Default::default()
        };
        let q = manual_queue_query(&hostile, None).unwrap();
        assert!(q.contains(r"OrderId STARTS_WITH 'x\' OR \'1\'=\'1'"), "{q}");
        assert!(
            q.contains(r"UpstreamProvider = 'bank\\\' OR \'a\'=\'a'"),
            "{q}"
        );
        let control = QueueFilter {
            reason: "a\nb".into(),
            ..Default::default()
        };
        let err = manual_queue_query(&control, None).unwrap_err();
        assert!(err.to_string().contains("control characters"), "{err}");
        let fine = QueueFilter {
            prefix: "ORD-1".into(),
            claim: claim_filter::UNCLAIMED.into(),
            ..Default::default()
        };
        let q = manual_queue_query(&fine, None).unwrap();
        assert!(q.starts_with("WorkflowType = 'ManualHandle' AND ExecutionStatus = 'Running' AND OrderStage = 'manual'"), "{q}");
        assert!(q.contains("OrderId STARTS_WITH 'ORD-1'"), "{q}");
        let long = StaleFilter {
            provider: "p".repeat(MAX_CODE_LEN + 1),
            ..Default::default()
        };
        assert!(stale_query(&long).is_err());
    }

    #[test]
    fn age_bands_are_windows_on_start_time() {
        use std::time::Duration;
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let sla = ServiceLevel {
            at_risk_secs: 30 * 60,
            breach_secs: 120 * 60,
            ..Default::default()
        };
        let breached = QueueFilter {
            age: age_filter::BREACHED.into(),
            ..Default::default()
        };
        let q = manual_queue_query_at(&breached, None, &sla, now).unwrap();
        assert!(q.contains("StartTime <= '2023-11-14T20:13:20Z'"), "{q}");
        let bad = QueueFilter {
            age: "ancient".into(),
            ..Default::default()
        };
        assert!(manual_queue_query_at(&bad, None, &sla, now).is_err());
    }
}
