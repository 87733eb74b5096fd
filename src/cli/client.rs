//! `client …`: what the gateway, support and finance do from a terminal.

use clap::{Args, Subcommand};
use std::{
    io::Write,
    time::{Duration, Instant},
};
use temporalio_client::Client;

use super::CliError;
use crate::{
    domain::contract::{
        Cadence, ContractLimits, ContractTerms, DEFAULT_TIME_ZONE, NewContract, parse_interval,
        validate_change,
    },
    domain::input::{InputError, validate_note, validate_operator, validate_order_id},
    domain::order::{
        OrderRequest, ReconcilePolicy, Resolution, parse_environment, parse_priority,
        query_workflow_id,
    },
    domain::resolution::ResolveRequest,
    operations::contracts,
    operations::orders::{self, Settled, Signalled, StartOutcome},
};

/// Where an order comes from, as the Go original's `-e -b -p` say it.
#[derive(Debug, Clone, Args)]
pub struct OriginFlags {
    /// Environment: dev, staging or prod (as the Go original), or another name
    #[arg(
        short = 'e',
        long = "environment",
        visible_alias = "env",
        default_value = "production"
    )]
    pub environment: String,
    /// Business unit
    #[arg(short = 'b', long = "business-unit", default_value = "payments")]
    pub business_unit: String,
    /// Priority: urgent, high, normal or low (as the Go original), or 1 (most urgent) to 5
    #[arg(short = 'p', long, default_value = "normal")]
    pub priority: String,
}

/// The checked origin of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub environment: String,
    pub business_unit: String,
    pub priority: i64,
}

impl OriginFlags {
    fn check(self) -> Result<Origin, CliError> {
        let checked = || -> Result<Origin, InputError> {
            Ok(Origin {
                environment: parse_environment(&self.environment)?,
                business_unit: self.business_unit.clone(),
                priority: parse_priority(&self.priority)?,
            })
        };
        checked().map_err(usage)
    }
}

impl Origin {
    /// An order of this origin.
    fn order(
        &self,
        order_id: String,
        provider: String,
        policy: ReconcilePolicy,
        defaults: &Defaults,
    ) -> OrderRequest {
        OrderRequest {
            order_id,
            provider,
            business_unit: self.business_unit.clone(),
            environment: self.environment.clone(),
            priority: self.priority,
            policy,
            four_eyes: Some(defaults.four_eyes.clone()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Start reconciling one order
    Start {
        /// Order id [default: a new one]
        #[arg(short = 'o', long = "order-id")]
        order_id: Option<String>,
        #[command(flatten)]
        origin: OriginFlags,
        /// Upstream bank or wallet
        #[arg(long, default_value = "simbank")]
        provider: String,
        /// Accepted as the Go original did; the workflow id is always payment-<order id>
        #[arg(short = 'w', long = "workflow-id")]
        workflow_id: Option<String>,
        /// The order's amount in major units (12.50), with --currency [default: amount unknown]
        #[arg(long, requires = "currency")]
        amount: Option<String>,
        /// ISO 4217 currency of --amount (MYR, USD, JPY…)
        #[arg(long, requires = "amount")]
        currency: Option<String>,
        /// The gateway's reference for the order (what the bank's statement quotes)
        #[arg(long)]
        reference: Option<String>,
        /// When the gateway created the order, RFC 3339 [default: now]
        #[arg(long = "created-at")]
        created_at: Option<String>,
    },
    /// Start orders at a steady rate until Ctrl-C (or --count)
    SimulatePayment {
        /// Orders per second
        #[arg(long, default_value_t = 2.0)]
        rate: f64,
        /// Stop after this many orders [default: until Ctrl-C]
        #[arg(long)]
        count: Option<u64>,
        /// Prefix of the generated order ids
        #[arg(long, default_value = "SIM")]
        prefix: String,
        /// Demo pace: two quick attempts and a 10 s stale wait, so orders reach the manual
        /// queue within a minute (the configured policy otherwise)
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        origin: OriginFlags,
    },
    /// Send the Go original's resolve signal to a manual order (a resolution that needs a
    /// second person waits for an approver)
    SignalManual {
        /// Workflow id (manual-<order>) or order id
        #[arg(short = 'w', long = "workflow-id")]
        workflow_id: String,
        /// paid, failed, refunded or cancelled
        #[arg(default_value = "paid")]
        resolution: String,
    },
    /// Resolve a manual order with a reason and your name (an update: bad input is refused);
    /// a resolution that needs a second person is proposed for an approver
    Resolve {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        /// paid, failed, refunded or cancelled
        #[arg(long)]
        resolution: String,
        /// Reason code, e.g. BANK_CONFIRMED
        #[arg(long)]
        reason: String,
        /// Who is resolving it
        #[arg(long)]
        operator: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Approve a colleague's proposed resolution (four eyes): it becomes the resolution
    Approve {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        /// Who approves it (never its proposer)
        #[arg(long)]
        operator: String,
    },
    /// Reject a colleague's proposed resolution, saying why: the order waits again
    Reject {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long)]
        operator: String,
        /// Why (recorded on the order)
        #[arg(long)]
        note: String,
    },
    /// Import a bank statement (camt.053, camt.054, MT940 or CSV): its entries are matched
    /// to orders and wait for a second person's approval; nothing is applied before
    ImportStatement {
        /// The statement file
        file: std::path::PathBuf,
        /// camt053, camt054, mt940 or csv [default: what the file says]
        #[arg(long)]
        format: Option<String>,
        /// Who imports it
        #[arg(long)]
        operator: String,
    },
    /// Approve a colleague's statement import: every matched order is settled as paid, and
    /// every term in doubt it books is settled as charged, but the entries left out
    ApproveStatement {
        /// The import's id (statement-…), as the import printed it
        #[arg(short = 'i', long = "import-id")]
        import_id: String,
        /// Who approves it (never its importer)
        #[arg(long)]
        operator: String,
        /// An entry (its reference, as the review lists it) the approval does not apply: its
        /// order or term waits for a person. Repeat for more; say why with --note
        #[arg(long = "leave-out")]
        leave_out: Vec<String>,
        /// Why the entries are left out (recorded; required with --leave-out)
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject a colleague's statement import, saying why: nothing is applied
    RejectStatement {
        #[arg(short = 'i', long = "import-id")]
        import_id: String,
        #[arg(long)]
        operator: String,
        #[arg(long)]
        note: String,
    },
    /// Show an order: its path, where it stands, its resolution or claim and proposal, the
    /// bank's last answer to a person's question, and its notes
    Show {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
    },
    /// Find orders by their id or how it starts, or by the gateway's reference, in any stage
    /// (asking the bank, stale, in the manual queue, resolved or dropped): one line each,
    /// newest first
    Find {
        /// An order id, its first characters, or a gateway reference
        text: String,
    },
    /// List the statement imports, newest first, a page at a time: when, who imported
    /// each, and how it stands (who approved or rejected it)
    Statements {
        /// The page the previous list named as the next one
        #[arg(long)]
        page: Option<String>,
    },
    /// Show a statement import: its entries, what each matched, and where it stands
    ShowStatement {
        #[arg(short = 'i', long = "import-id")]
        import_id: String,
    },
    /// Claim an order waiting in the manual queue: colleagues are told you work it
    Claim {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long)]
        operator: String,
    },
    /// Give your claim on an order back to the queue (only its holder can)
    Release {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long)]
        operator: String,
    },
    /// The proposal you should review next (approvers): of the resolutions awaiting a second
    /// person, the one proposed longest ago that is not your own; prints its order id and
    /// what it proposes, or says none awaits you
    ReviewNext {
        #[arg(long)]
        operator: String,
    },
    /// Give back every claim you hold on an order waiting in the manual queue (the end of a
    /// shift): they wait for anyone again; proposals awaiting approval keep theirs
    ReleaseAll {
        #[arg(long)]
        operator: String,
    },
    /// Take over a colleague's claim on a manual order, saying why
    TakeOver {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long)]
        operator: String,
        /// Why (recorded on the order)
        #[arg(long)]
        note: String,
    },
    /// Leave a note on an order waiting in the manual queue (shown on its lane, kept in the
    /// audit trail); it decides nothing
    Note {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long)]
        operator: String,
        /// What colleagues should know (at most 500 characters)
        #[arg(long)]
        note: String,
    },
    /// Skip a stale order's wait and query the upstream now
    RetryNow {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long)]
        operator: String,
    },
    /// Create a recurring payment contract (a Temporal Schedule)
    CreateRecurringPayment {
        /// Contract id [default: a new one]
        #[arg(short = 'o', long = "order-id")]
        order_id: Option<String>,
        /// Number of terms; 0 means until cancelled
        #[arg(short = 'r', long, default_value_t = 12)]
        terms: u32,
        /// Interval between charges: 30d, 12h, 90m … (at least `[contracts] min_interval_secs`, an
        /// hour by default)
        #[arg(long, conflicts_with = "cron")]
        every: Option<String>,
        /// Cron expression in the contract's time zone, e.g. "0 9 1 * *"
        #[arg(long)]
        cron: Option<String>,
        /// IANA time zone
        #[arg(long, default_value = DEFAULT_TIME_ZONE)]
        tz: String,
        /// Amount per term, in the currency's minor units (cents; yen for JPY)
        #[arg(long, default_value_t = 999)]
        amount_cents: i64,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long, default_value = "membership-monthly")]
        plan: String,
        #[arg(long, default_value = "customer")]
        customer: String,
        /// Who creates it (recorded on the contract)
        #[arg(long, default_value = "cli")]
        operator: String,
        /// Accepted as the Go original's `-e -b -p`: each term's run carries them
        #[command(flatten)]
        origin: OriginFlags,
    },
    /// Cancel a recurring payment contract
    CancelRecurringPayment {
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        #[arg(long, default_value = "cancelled from the CLI")]
        reason: String,
        #[arg(long, default_value = "cli")]
        operator: String,
    },
    /// Ask the bank again. With --term: what became of a contract term's charge that had no
    /// answer (its row reads "charge unconfirmed"); the answer is kept in Temporal and
    /// settles the term's money. Without: about an order waiting in the manual queue; its
    /// verdict settles the order as the bank's own answer, no verdict leaves it waiting with
    /// the bank's words (prints the answer; waits up to 20 s for it)
    AskTheBank {
        /// The order waiting in the manual queue, or with --term the contract
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        /// A contract's term: its workflow id, as the contract's payment history lists it
        #[arg(long)]
        term: Option<String>,
        /// Who asks (recorded with the answer)
        #[arg(long)]
        operator: String,
    },
    /// After an outage: ask the bank again about every order waiting in the manual queue
    /// that matches the filters. Without --expect it only says how many match; with the
    /// number it said, it asks (only if that many still match), and each answer lands on its
    /// order
    AskTheBankAll {
        /// Order ids that start with this
        #[arg(long, default_value = "")]
        prefix: String,
        /// The upstream (bank or wallet)
        #[arg(long, default_value = "")]
        provider: String,
        /// The error reason the order waits with (http_503, timeout, pending …)
        #[arg(long, default_value = "")]
        reason: String,
        /// How many orders you were told match (at most 500)
        #[arg(long)]
        expect: Option<usize>,
        /// Who asks (recorded on each order)
        #[arg(long)]
        operator: String,
    },
    /// Claim the next order to work: of the unclaimed ones matching the filters (none
    /// awaiting approval), one past the service level first, else at risk, else any, the
    /// one that has waited longest; a colleague's claim made meanwhile moves on to the
    /// next. Prints the order id, or says none matches
    TakeNext {
        /// Order ids that start with this
        #[arg(long, default_value = "")]
        prefix: String,
        /// The upstream (bank or wallet)
        #[arg(long, default_value = "")]
        provider: String,
        /// The error reason the order waits with (http_503, timeout, pending …)
        #[arg(long, default_value = "")]
        reason: String,
        /// Only orders at risk (at_risk) or past the service level (breached)
        #[arg(long, default_value = "")]
        age: String,
        /// Who takes it (the claim is theirs)
        #[arg(long)]
        operator: String,
    },
    /// After an outage: ask the bank about every contract term whose charge had no answer
    /// (the console's list of charges to confirm). Without --expect it lists them and says
    /// how many; with the number it said, it asks (only if that many still wait), each its
    /// own question, and each answer lands on its term's row
    AskTheBankAllCharges {
        /// How many charges you were told wait to be confirmed
        #[arg(long)]
        expect: Option<usize>,
        /// Who asks (recorded with each answer)
        #[arg(long)]
        operator: String,
    },
    /// List the orders that dropped out of every queue: their run ended without a
    /// resolution (terminated, failed, timed out, cancelled) in the last 30 days
    Dropped,
    /// Put a dropped order back in the manual queue, saying why (recorded on the order)
    PutBack {
        /// The dropped order
        #[arg(short = 'o', long = "order-id")]
        order_id: String,
        /// Why it goes back
        #[arg(long)]
        reason: String,
        /// Who puts it back
        #[arg(long)]
        operator: String,
    },
}

fn new_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("{prefix}-{millis}-{:04}", rand::random::<u16>() % 10_000)
}

/// A client command whose input has been checked: nothing here needs a server, so bad
/// flags are reported before any connection is tried. The checks are the domain's own,
/// the same the operations (and the workflows' validators) apply.
#[derive(Debug)]
pub enum Prepared {
    Start {
        order: OrderRequest,
        /// A `-w` that is not the order's workflow id, to say so.
        ignored_workflow_id: Option<String>,
    },
    Simulate {
        rate: f64,
        count: Option<u64>,
        prefix: String,
        template: OrderRequest,
    },
    SignalManual {
        order_id: String,
        resolution: Resolution,
    },
    Resolve {
        order_id: String,
        request: ResolveRequest,
    },
    Answer {
        order_id: String,
        verb: Answer,
        operator: String,
        note: String,
    },
    RetryNow {
        order_id: String,
        operator: String,
    },
    AskAboutOrder {
        order_id: String,
        operator: String,
    },
    AskAboutCharges {
        expect: Option<usize>,
        operator: String,
    },
    AskAboutAll {
        filter: crate::domain::listing::QueueFilter,
        expect: Option<usize>,
        operator: String,
    },
    TakeNext {
        filter: crate::domain::listing::QueueFilter,
        operator: String,
        sla: crate::domain::listing::ServiceLevel,
    },
    Note {
        order_id: String,
        operator: String,
        note: String,
    },
    Claim {
        order_id: String,
        operator: String,
        release: bool,
    },
    ReleaseAll {
        operator: String,
        sla: crate::domain::listing::ServiceLevel,
    },
    ReviewNext {
        operator: String,
    },
    CreateContract {
        contract: NewContract,
        limits: ContractLimits,
        operator: String,
    },
    CancelContract {
        contract_id: String,
        operator: String,
        reason: String,
    },
    AskTheBank {
        contract_id: String,
        term_id: String,
        operator: String,
    },
    Dropped,
    Statements {
        page: Option<String>,
    },
    Show {
        order_id: String,
    },
    Find {
        text: String,
    },
    PutBack {
        order_id: String,
        operator: String,
        reason: String,
    },
    ImportStatement {
        bytes: Vec<u8>,
        file_name: String,
        format: Option<crate::domain::statement::StatementFormat>,
        operator: String,
        layout: crate::domain::statement::CsvLayout,
        rules: crate::operations::statements::MatchRules,
    },
    Statement {
        import_id: String,
        decision: Decision,
        operator: String,
    },
}

/// What `client …-statement` does with an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Show,
    /// Approve it, but the entries left out, for the reason given.
    Approve {
        leave_out: Vec<String>,
        note: String,
    },
    /// Reject it, saying why.
    Reject(String),
}

/// A person's answer about an order someone else acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Approve,
    Reject,
    TakeOver,
}

/// What the configuration gives every client command.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub policy: ReconcilePolicy,
    pub limits: ContractLimits,
    /// The resolutions a second person approves, fixed into each order started here.
    pub four_eyes: Vec<Resolution>,
    pub statements: super::settings::StatementSettings,
    /// The console's service level (`[dashboard]`), which orders `take-next` by.
    pub service_level: crate::domain::listing::ServiceLevel,
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// The order id of `-w manual-<order>` or a bare order id.
fn order_of_workflow(workflow_id: &str) -> Result<String, CliError> {
    let order_id = workflow_id.strip_prefix("manual-").unwrap_or(workflow_id);
    validate_order_id(order_id).map_err(usage)?;
    Ok(order_id.to_string())
}

impl ClientCommand {
    /// Checks every flag that can be checked without Temporal.
    pub fn prepare(self, defaults: &Defaults) -> Result<Prepared, CliError> {
        let policy = defaults.policy.clone();
        Ok(match self {
            ClientCommand::Start {
                order_id,
                origin,
                provider,
                workflow_id,
                amount,
                currency,
                reference,
                created_at,
            } => {
                let order_id = order_id.unwrap_or_else(|| new_id("ORD"));
                let mut order = origin.check()?.order(order_id, provider, policy, defaults);
                if let (Some(amount), Some(currency)) = (amount, currency) {
                    order.amount =
                        Some(crate::domain::money::money(&amount, &currency).map_err(usage)?);
                }
                order.reference = reference;
                order.created_at = Some(created_at.unwrap_or_else(|| {
                    crate::domain::format::rfc3339(std::time::SystemTime::now())
                }));
                order.validate().map_err(usage)?;
                let ignored_workflow_id =
                    workflow_id.filter(|w| *w != query_workflow_id(&order.order_id));
                Prepared::Start {
                    order,
                    ignored_workflow_id,
                }
            }
            ClientCommand::SimulatePayment {
                rate,
                count,
                prefix,
                demo,
                origin,
            } => {
                let policy = if demo {
                    ReconcilePolicy::demo()
                } else {
                    policy
                };
                if !(rate.is_finite() && rate > 0.0 && rate <= MAX_CLI_RATE) {
                    return Err(usage(format!(
                        "--rate must be between 0 and {MAX_CLI_RATE} orders per second, not {rate}"
                    )));
                }
                let template =
                    origin
                        .check()?
                        .order(prefix.clone(), "simbank".into(), policy, defaults);
                template.validate().map_err(usage)?;
                Prepared::Simulate {
                    rate,
                    count,
                    prefix,
                    template,
                }
            }
            ClientCommand::SignalManual {
                workflow_id,
                resolution,
            } => Prepared::SignalManual {
                resolution: Resolution::parse(&resolution).map_err(usage)?,
                order_id: order_of_workflow(&workflow_id)?,
            },
            ClientCommand::Resolve {
                order_id,
                resolution,
                reason,
                operator,
                note,
            } => {
                validate_order_id(&order_id).map_err(usage)?;
                let request = ResolveRequest {
                    resolution,
                    reason_code: reason,
                    operator,
                    note,
                    operator_id: String::new(),
                };
                request.validate().map_err(usage)?;
                Prepared::Resolve { order_id, request }
            }
            ClientCommand::Approve { order_id, operator } => {
                answer(order_id, Answer::Approve, operator, String::new())?
            }
            ClientCommand::Reject {
                order_id,
                operator,
                note,
            } => answer(order_id, Answer::Reject, operator, note)?,
            ClientCommand::TakeOver {
                order_id,
                operator,
                note,
            } => answer(order_id, Answer::TakeOver, operator, note)?,
            ClientCommand::ImportStatement {
                file,
                format,
                operator,
            } => {
                validate_operator(&operator).map_err(usage)?;
                let format = format
                    .map(|f| crate::domain::statement::StatementFormat::parse(&f))
                    .transpose()
                    .map_err(usage)?;
                let size = std::fs::metadata(&file)
                    .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?
                    .len();
                let max = crate::upstream::statement::MAX_STATEMENT_BYTES;
                if size > max as u64 {
                    return Err(usage(format!(
                        "{} is {size} bytes; a statement may be at most {max} bytes",
                        file.display()
                    )));
                }
                let bytes = std::fs::read(&file)
                    .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
                // Read here, so a bad file is refused before any connection.
                crate::upstream::statement::parse(&bytes, format, &defaults.statements.csv)
                    .map_err(usage)?;
                Prepared::ImportStatement {
                    bytes,
                    file_name: file
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default(),
                    format,
                    operator,
                    layout: defaults.statements.csv.clone(),
                    rules: defaults.statements.rules(),
                }
            }
            ClientCommand::ApproveStatement {
                import_id,
                operator,
                leave_out,
                note,
            } => {
                validate_operator(&operator).map_err(usage)?;
                if !leave_out.is_empty() && note.trim().is_empty() {
                    return Err(usage(
                        "--note: say why the entries are left out: the note is recorded",
                    ));
                }
                validate_note(&note).map_err(usage)?;
                Prepared::Statement {
                    import_id,
                    decision: Decision::Approve { leave_out, note },
                    operator,
                }
            }
            ClientCommand::RejectStatement {
                import_id,
                operator,
                note,
            } => {
                validate_operator(&operator).map_err(usage)?;
                Prepared::Statement {
                    import_id,
                    decision: Decision::Reject(note),
                    operator,
                }
            }
            ClientCommand::ShowStatement { import_id } => Prepared::Statement {
                import_id,
                decision: Decision::Show,
                operator: String::new(),
            },
            ClientCommand::RetryNow { order_id, operator } => {
                validate_order_id(&order_id).map_err(usage)?;
                validate_operator(&operator).map_err(usage)?;
                Prepared::RetryNow { order_id, operator }
            }
            ClientCommand::CreateRecurringPayment {
                order_id,
                terms,
                every,
                cron,
                tz,
                amount_cents,
                currency,
                plan,
                customer,
                operator,
                origin,
            } => {
                validate_operator(&operator).map_err(usage)?;
                // Checked like an order's, then carried by each term's run.
                origin.check()?;
                let cadence = match (every, cron) {
                    (_, Some(expression)) => Cadence::Cron { expression },
                    (Some(every), None) => Cadence::Every {
                        seconds: parse_interval(&every).map_err(usage)?,
                    },
                    (None, None) => Cadence::Every {
                        seconds: 30 * 86_400,
                    },
                };
                let contract = NewContract {
                    terms: ContractTerms {
                        contract_id: order_id.unwrap_or_else(|| new_id("CTR")),
                        customer,
                        plan,
                        amount_cents,
                        currency,
                        until_cancelled: None,
                    },
                    cadence,
                    time_zone: tz,
                    total_terms: terms,
                };
                contracts::check(&contract, &defaults.limits).map_err(usage)?;
                Prepared::CreateContract {
                    contract,
                    limits: defaults.limits.clone(),
                    operator,
                }
            }
            ClientCommand::CancelRecurringPayment {
                order_id,
                reason,
                operator,
            } => {
                validate_change(&order_id, &operator, &reason).map_err(usage)?;
                Prepared::CancelContract {
                    contract_id: order_id,
                    operator,
                    reason,
                }
            }
            ClientCommand::Claim { order_id, operator } => {
                validate_order_id(&order_id).map_err(usage)?;
                validate_operator(&operator).map_err(usage)?;
                Prepared::Claim {
                    order_id,
                    operator,
                    release: false,
                }
            }
            ClientCommand::ReviewNext { operator } => {
                validate_operator(&operator).map_err(usage)?;
                Prepared::ReviewNext { operator }
            }
            ClientCommand::ReleaseAll { operator } => {
                validate_operator(&operator).map_err(usage)?;
                Prepared::ReleaseAll {
                    operator,
                    sla: defaults.service_level.clone(),
                }
            }
            ClientCommand::Release { order_id, operator } => {
                validate_order_id(&order_id).map_err(usage)?;
                validate_operator(&operator).map_err(usage)?;
                Prepared::Claim {
                    order_id,
                    operator,
                    release: true,
                }
            }
            ClientCommand::Note {
                order_id,
                operator,
                note,
            } => {
                validate_order_id(&order_id).map_err(usage)?;
                validate_operator(&operator).map_err(usage)?;
                if note.trim().is_empty() {
                    return Err(usage("--note: write the note: an empty one says nothing"));
                }
                crate::domain::input::validate_note(&note).map_err(usage)?;
                Prepared::Note {
                    order_id,
                    operator,
                    note,
                }
            }
            ClientCommand::AskTheBankAll {
                prefix,
                provider,
                reason,
                expect,
                operator,
            } => {
                validate_operator(&operator).map_err(usage)?;
                let filter = crate::domain::listing::QueueFilter {
                    prefix,
                    provider,
                    reason,
                    claim: crate::domain::listing::claim_filter::ALL.into(),
                    ..Default::default()
                };
                Prepared::AskAboutAll {
                    filter,
                    expect,
                    operator,
                }
            }
            ClientCommand::TakeNext {
                prefix,
                provider,
                reason,
                age,
                operator,
            } => {
                validate_operator(&operator).map_err(usage)?;
                use crate::domain::listing::age_filter;
                if ![age_filter::ANY, age_filter::AT_RISK, age_filter::BREACHED]
                    .contains(&age.as_str())
                {
                    return Err(usage(format!(
                        "--age takes at_risk or breached, not {age:?}"
                    )));
                }
                Prepared::TakeNext {
                    filter: crate::domain::listing::QueueFilter {
                        prefix,
                        provider,
                        reason,
                        age,
                        ..Default::default()
                    },
                    operator,
                    sla: defaults.service_level.clone(),
                }
            }
            ClientCommand::AskTheBankAllCharges { expect, operator } => {
                validate_operator(&operator).map_err(usage)?;
                Prepared::AskAboutCharges { expect, operator }
            }
            ClientCommand::AskTheBank {
                order_id,
                term: None,
                operator,
            } => {
                validate_order_id(&order_id).map_err(usage)?;
                validate_operator(&operator).map_err(usage)?;
                Prepared::AskAboutOrder { order_id, operator }
            }
            ClientCommand::AskTheBank {
                order_id,
                term: Some(term),
                operator,
            } => {
                let question = crate::workflows::charge_lookup::ChargeQuestion {
                    contract_id: order_id,
                    term_id: term,
                    operator,
                    statement: None,
                };
                if let Some(why) = question.refusal() {
                    return Err(usage(why));
                }
                Prepared::AskTheBank {
                    contract_id: question.contract_id,
                    term_id: question.term_id,
                    operator: question.operator,
                }
            }
            ClientCommand::Dropped => Prepared::Dropped,
            ClientCommand::Statements { page } => Prepared::Statements { page },
            ClientCommand::Show { order_id } => {
                validate_order_id(&order_id).map_err(usage)?;
                Prepared::Show { order_id }
            }
            ClientCommand::Find { text } => {
                if text.trim().is_empty() {
                    return Err(usage(crate::domain::input::InputError::Missing {
                        field: "order id",
                    }));
                }
                Prepared::Find { text }
            }
            ClientCommand::PutBack {
                order_id,
                reason,
                operator,
            } => {
                crate::operations::dropped::check_put_back(&order_id, &operator, &reason)
                    .map_err(usage)?;
                Prepared::PutBack {
                    order_id,
                    operator,
                    reason,
                }
            }
        })
    }
}

/// The fastest `simulate-payment` starts orders, per second.
pub const MAX_CLI_RATE: f64 = 1_000.0;

fn answer(
    order_id: String,
    verb: Answer,
    operator: String,
    note: String,
) -> Result<Prepared, CliError> {
    validate_order_id(&order_id).map_err(usage)?;
    validate_operator(&operator).map_err(usage)?;
    validate_note(&note).map_err(usage)?;
    Ok(Prepared::Answer {
        order_id,
        verb,
        operator,
        note,
    })
}

pub async fn run(client: &Client, command: Prepared) -> Result<(), CliError> {
    match command {
        Prepared::Start {
            order,
            ignored_workflow_id,
        } => {
            let order_id = order.order_id.clone();
            if let Some(w) = ignored_workflow_id {
                println!(
                    "note: -w {w} is accepted for the Go original's command lines; the workflow \
                     id is {}",
                    query_workflow_id(&order_id)
                );
            }
            match orders::start_order(client, order).await? {
                StartOutcome::Started {
                    workflow_id,
                    run_id,
                } => println!("started order {order_id}: workflow {workflow_id}, run {run_id}"),
                StartOutcome::AlreadyProcessing { workflow_id } => println!(
                    "order {order_id} is already being processed ({workflow_id}): nothing started"
                ),
            }
        }
        Prepared::Simulate {
            rate,
            count,
            prefix,
            template,
        } => simulate(client, rate, count, &prefix, template).await?,
        Prepared::SignalManual {
            order_id,
            resolution,
        } => match orders::signal_manual(client, &order_id, resolution.as_str()).await? {
            Signalled::Resolved { workflow_id } => {
                println!("sent {resolution} to {workflow_id}: order {order_id} resolved")
            }
            Signalled::AwaitingApproval { workflow_id } => println!(
                "sent {resolution} to {workflow_id}: {resolution} needs a second person's \
                 approval, so order {order_id} now awaits an approver (client approve -o \
                 {order_id} --operator NAME)"
            ),
            Signalled::Ignored { workflow_id, why } => {
                println!("sent {resolution} to {workflow_id}: it changed nothing, {why}")
            }
        },
        Prepared::Resolve { order_id, request } => {
            match orders::resolve_or_propose(client, &order_id, request).await? {
                Settled::Resolved(record) => println!("order {order_id} resolved: {record}"),
                Settled::Proposed(record) => println!(
                    "order {order_id}: {} proposed by {}; it needs a second person's approval",
                    record.resolution, record.resolved_by
                ),
            }
        }
        Prepared::ImportStatement {
            bytes,
            file_name,
            format,
            operator,
            layout,
            rules,
        } => {
            let view = crate::operations::statements::import(
                client, &bytes, &file_name, format, &layout, &rules, &operator,
            )
            .await?;
            print_import(&view);
        }
        Prepared::Statement {
            import_id,
            decision,
            operator,
        } => {
            let view = match decision {
                Decision::Show => {
                    crate::operations::statements::view_of(client, &import_id).await?
                }
                Decision::Approve { leave_out, note } => {
                    crate::operations::statements::approve_leaving_out(
                        client, &import_id, &operator, &leave_out, &note,
                    )
                    .await?
                }
                Decision::Reject(note) => {
                    crate::operations::statements::reject(client, &import_id, &operator, &note)
                        .await?
                }
            };
            print_import(&view);
        }
        Prepared::Answer {
            order_id,
            verb,
            operator,
            note,
        } => match verb {
            Answer::Approve => {
                let record = orders::approve(client, &order_id, &operator).await?;
                println!("order {order_id} approved and resolved: {record}");
            }
            Answer::Reject => {
                orders::reject(client, &order_id, &operator, &note).await?;
                println!("order {order_id}: the proposal is rejected, the order waits again");
            }
            Answer::TakeOver => {
                orders::take_over(client, &order_id, &operator, &note).await?;
                println!("order {order_id}: the claim is {operator}'s now");
            }
        },
        Prepared::RetryNow { order_id, operator } => {
            orders::retry_now(client, &order_id, &operator).await?;
            println!("order {order_id}: retrying now");
        }
        Prepared::Claim {
            order_id,
            operator,
            release: false,
        } => {
            let claim = orders::claim(client, &order_id, &operator).await?;
            println!(
                "order {order_id}: claimed by {} at {}",
                claim.operator, claim.at
            );
        }
        Prepared::Claim {
            order_id,
            operator,
            release: true,
        } => {
            orders::release(client, &order_id, &operator).await?;
            println!("order {order_id}: released by {operator}; it waits for anyone again");
        }
        Prepared::ReviewNext { operator } => {
            let actor = crate::domain::resolution::Actor::from(operator.as_str());
            match crate::operations::queues::next_proposal(client, &actor).await? {
                Some(order_id) => {
                    let proposal = orders::manual_context(client, &order_id)
                        .await?
                        .proposal
                        .map(|p| format!("{p}"))
                        .unwrap_or_default();
                    println!("{order_id}: proposed {proposal}");
                }
                None => {
                    println!("no proposal awaits your approval (your own wait for a colleague)")
                }
            }
        }
        Prepared::ReleaseAll { operator, sla } => {
            let actor = crate::domain::resolution::Actor {
                name: operator,
                id: String::new(),
            };
            let given = crate::operations::queues::release_all_mine(client, &actor, &sla).await?;
            println!(
                "{} of {}'s claims given back: they wait for anyone again",
                given.released, actor.name
            );
            if given.kept > 0 {
                println!(
                    "{} kept their claim (resolved or changed meanwhile: see each)",
                    given.kept
                );
            }
        }
        Prepared::Note {
            order_id,
            operator,
            note,
        } => {
            let note = orders::add_note(client, &order_id, &operator, &note).await?;
            println!(
                "order {order_id}: noted by {} at {}",
                note.by.operator, note.by.at
            );
        }
        Prepared::AskAboutAll {
            filter,
            expect,
            operator,
        } => {
            let sla = crate::domain::listing::ServiceLevel::default();
            let matching =
                crate::operations::queues::manual_matching(client, &filter, &operator, &sla)
                    .await?;
            match expect {
                None => println!(
                    "{matching} orders waiting in the manual queue match: to ask the bank about \
                     them, run this again with --expect {matching}"
                ),
                Some(expected) => {
                    let actor = crate::domain::resolution::Actor {
                        name: operator,
                        id: String::new(),
                    };
                    let asked = crate::operations::queues::ask_bank_matching(
                        client, &filter, expected, &actor, &sla,
                    )
                    .await?;
                    println!(
                        "asked the bank about {asked} orders: each answer lands on its order \
                         (client show -o ID), and a verdict takes it off the queue"
                    );
                }
            }
        }
        Prepared::TakeNext {
            filter,
            operator,
            sla,
        } => {
            let actor = crate::domain::resolution::Actor {
                name: operator,
                id: String::new(),
            };
            match crate::operations::queues::take_next(client, &filter, &actor, &sla).await? {
                Some(order_id) => println!("{order_id}: claimed by {}", actor.name),
                None => println!(
                    "no unclaimed order matches (orders awaiting approval wait for an \
                     approver): nothing was taken"
                ),
            }
        }
        Prepared::AskAboutCharges { expect, operator } => match expect {
            None => {
                let list = crate::operations::contracts::unconfirmed_charges(client).await?;
                for term in &list.terms {
                    println!(
                        "  {} of contract {}: {}",
                        term.workflow_id, term.contract_id, term.status
                    );
                }
                let more = match list.partial {
                    true => " (more terms ended than one read takes: some may not be listed)",
                    false => "",
                };
                println!(
                    "{} charges wait to be confirmed{more}: to ask the bank about them, run \
                     this again with --expect {}",
                    list.terms.len(),
                    list.terms.len()
                );
            }
            Some(expected) => {
                let asked = crate::operations::contracts::ask_about_every_unconfirmed(
                    client, expected, &operator,
                )
                .await?;
                let rest = match expected.saturating_sub(asked) {
                    0 => String::new(),
                    n => format!(
                        "; {n} could not be asked now (a question about it is still open, or \
                         it stopped moments ago and a try may still reach the bank): they stay \
                         on the list, ask again shortly"
                    ),
                };
                println!(
                    "asked the bank about {asked} of {expected} charges: each answer lands on \
                     its term's row on the contract's page{rest}"
                );
            }
        },
        Prepared::AskAboutOrder { order_id, operator } => {
            let question =
                orders::ask_bank(client, &order_id, &operator, orders::ASK_BANK_WAIT).await?;
            match (&question.answer, question.settled) {
                (Some(answer), true) => {
                    println!("order {order_id}: the bank says {answer}: settled")
                }
                (Some(answer), false) => {
                    println!(
                        "order {order_id}: the bank says {answer}; it waits in the manual queue"
                    )
                }
                (None, _) => println!(
                    "order {order_id}: asked at {}; the bank has not answered yet (its answer \
                     shows on the order's lane)",
                    question.asked.at
                ),
            }
        }
        Prepared::CreateContract {
            contract,
            limits,
            operator,
        } => {
            let contract_id = contract.terms.contract_id.clone();
            let terms = contract.total_terms;
            let next = contracts::create(client, contract, &limits, &operator).await?;
            let limit = if terms == 0 {
                "until cancelled".to_string()
            } else {
                format!("{terms} terms")
            };
            println!("created recurring contract {contract_id} ({limit})");
            for at in next {
                println!("  next charge: {at}");
            }
        }
        Prepared::CancelContract {
            contract_id,
            operator,
            reason,
        } => {
            contracts::cancel(client, &contract_id, &operator, &reason).await?;
            println!("cancelled recurring contract {contract_id}");
        }
        Prepared::AskTheBank {
            contract_id,
            term_id,
            operator,
        } => {
            let said = contracts::ask_the_bank(client, &contract_id, &term_id, &operator).await?;
            println!("{said}");
        }
        Prepared::Dropped => {
            let list = crate::operations::dropped::dropped_orders(client).await?;
            if list.rows.is_empty() {
                println!("no order has dropped out of the queues");
            }
            for row in &list.rows {
                println!("{}\t{}", row.order_id, row.sentence());
            }
            if list.partial {
                println!(
                    "(more orders are dropped than one list shows: these are the newest; put \
                     them back, and the next ones show)"
                );
            }
        }
        Prepared::Statements { page } => {
            let listed =
                crate::operations::statements::recent_page(client, page.as_deref()).await?;
            if listed.imports.is_empty() {
                println!("no statement has been imported");
            }
            for row in &listed.imports {
                println!(
                    "{}\t{}\timported by {}\t{}",
                    row.import_id, row.at, row.imported_by, row.standing
                );
            }
            if let Some(next) = listed.next_page {
                println!("(older imports: client statements --page {next})");
            }
        }
        Prepared::Show { order_id } => {
            let ui = crate::operations::lane::TemporalUi {
                url: String::new(),
                namespace: temporalio_client::NamespacedClient::namespace(client),
            };
            let lane = crate::operations::lane::order_lane(client, order_id, &ui, None).await?;
            print_lane(&lane);
        }
        Prepared::Find { text } => {
            let found = crate::operations::find::find_orders(client, &text).await?;
            if let Some(contract) = &found.contract {
                println!(
                    "no order's id starts with {:?}; it is a recurring contract (its page: \
                     /contracts/{contract})",
                    found.text
                );
            } else if found.rows.is_empty() {
                println!(
                    "no order's id starts with {:?}, and no order has it as its gateway reference",
                    found.text
                );
            }
            for row in &found.rows {
                let reference = match row.reference.is_empty() {
                    true => String::new(),
                    false => format!("  reference {}", row.reference),
                };
                println!(
                    "{}  {}  {}{reference}  {}  started {}",
                    row.order_id,
                    row.standing(),
                    crate::domain::money::amount_shown(row.amount.as_ref()),
                    row.provider,
                    row.started_at
                );
            }
            if found.more {
                println!(
                    "(more orders start with {:?} than one search shows: type more of the id)",
                    found.text
                );
            }
        }
        Prepared::PutBack {
            order_id,
            operator,
            reason,
        } => {
            let by = crate::domain::resolution::Stamp {
                operator,
                ..Default::default()
            };
            let started =
                crate::operations::dropped::put_back(client, &order_id, by, &reason).await?;
            println!("order {order_id} waits in the manual queue again ({started})");
        }
    }
    Ok(())
}

async fn simulate(
    client: &Client,
    rate: f64,
    count: Option<u64>,
    prefix: &str,
    template: OrderRequest,
) -> Result<(), CliError> {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let started_at = Instant::now();
    let (mut started, mut failed) = (0u64, 0u64);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        if count.is_some_and(|c| started + failed >= c) {
            break;
        }
        tokio::select! {
            _ = &mut ctrl_c => break,
            _ = ticker.tick() => {}
        }
        let order_id = new_id(prefix);
        let order = OrderRequest {
            amount: Some(crate::domain::money::simulated_amount(started + failed)),
            reference: Some(format!("GW-{order_id}")),
            created_at: Some(crate::domain::format::rfc3339(std::time::SystemTime::now())),
            order_id,
            ..template.clone()
        };
        match orders::start_order(client, order).await {
            Ok(_) => started += 1,
            Err(e) => {
                failed += 1;
                tracing::warn!(error = %e, "could not start a simulated order");
            }
        }
        let elapsed = started_at.elapsed().as_secs_f64().max(0.001);
        print!(
            "\rstarted {started}, failed {failed}, {:.1} orders/s over {:.0}s   ",
            started as f64 / elapsed,
            elapsed
        );
        let _ = std::io::stdout().flush();
    }
    println!("\nstopped: {started} orders started, {failed} failed to start");
    Ok(())
}

/// An order as the terminal shows it: where it stands, its path, then what people did.
fn print_lane(lane: &crate::domain::listing::OrderLane) {
    let stage = match (&lane.open_stage, &lane.dropped) {
        (Some(open), _) => open.clone(),
        (None, Some(_)) => "dropped".to_string(),
        (None, None) => "resolved".to_string(),
    };
    println!("order {}: {stage}", lane.order_id);
    if let Some(order) = &lane.order {
        println!("  {}", order.summary());
    }
    for s in &lane.stages {
        let closed = match s.closed_at.is_empty() {
            true => String::new(),
            false => format!(", closed {}", s.closed_at),
        };
        println!(
            "  {} {}: {}, started {}{closed}",
            s.workflow_type, s.workflow_id, s.status, s.started_at
        );
        for call in &s.pending {
            let last = match call.last_failure.is_empty() {
                true => String::new(),
                false => format!(
                    "; the last try failed at {}: {}",
                    call.last_tried_at, call.last_failure
                ),
            };
            let next = match call.next_try_at.is_empty() {
                true => String::new(),
                false => format!("; next try at {}", call.next_try_at),
            };
            println!(
                "    now: {}, {} since {}{last}{next}",
                call.what,
                call.attempts_text(),
                call.since
            );
        }
    }
    if let Some(dropped) = &lane.dropped {
        println!("  dropped: {}", dropped.sentence());
    }
    if let Some(why) = &lane.unread {
        println!("  its claim, proposal, notes and timer could not be read: {why}");
    }
    let resolution = lane
        .manual
        .as_ref()
        .and_then(|m| m.resolution.as_ref())
        .or_else(|| lane.stale.as_ref().and_then(|s| s.resolution.as_ref()))
        .or(lane.returned.as_ref());
    if let Some(record) = resolution {
        let approved = record
            .approved_by
            .as_ref()
            .map(|a| format!(", approved by {} at {}", a.operator, a.at))
            .unwrap_or_default();
        let note = match record.note.is_empty() {
            true => String::new(),
            false => format!(": {}", record.note),
        };
        println!("  resolved {record}{approved}{note}");
    }
    for notice in &lane.left_out {
        println!(
            "  {} (at {}; import {})",
            notice.sentence(),
            notice.by.at,
            notice.import_id
        );
    }
    let Some(manual) = &lane.manual else {
        return;
    };
    if let Some(claim) = &manual.claim {
        println!("  claimed by {} at {}", claim.operator, claim.at);
    }
    if let Some(proposal) = &manual.proposal {
        println!("  proposed {proposal}: awaits a second person's approval");
    }
    if let Some(refused) = &manual.refused {
        println!(
            "  the bank did not record {} ({}): {}",
            refused.record.resolution, refused.at, refused.message
        );
    }
    if let Some(q) = &manual.asked_bank {
        let said = q.answer.as_deref().unwrap_or("asking…");
        println!(
            "  {} asked the bank again at {}: {said}",
            q.asked.operator, q.asked.at
        );
    }
    if !lane.earlier_notes.is_empty() {
        println!("  notes left before the order was put back in the queue:");
        for note in &lane.earlier_notes {
            println!("    {} at {}: {}", note.by.operator, note.by.at, note.text);
        }
    }
    if !manual.notes.is_empty() {
        println!("  notes:");
        for note in &manual.notes {
            println!("    {} at {}: {}", note.by.operator, note.by.at, note.text);
        }
    }
}

/// An import as the terminal shows it: where it stands, then each entry.
fn print_import(view: &crate::workflows::statement_import::ImportView) {
    println!(
        "import {}: statement {:?} ({}, {} entries), imported by {} at {}",
        view.import_id,
        view.statement_id,
        view.format,
        view.total_entries,
        view.imported_by,
        view.imported_at
    );
    let counts: Vec<String> = view
        .tally
        .iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect();
    println!("  {}", counts.join(", "));
    if !view.earlier.is_empty() {
        println!("  imported before (newest first):");
        for run in &view.earlier {
            println!("    {run}");
        }
    }
    match (&view.approved, &view.rejected) {
        _ if view.stopped.is_some() => {
            if let Some(by) = &view.approved {
                println!("  approved by {} at {}", by.operator, by.at);
            }
            println!("  {}", view.stopped.as_deref().unwrap_or_default());
        }
        (Some(by), _) => {
            println!(
                "  approved by {} at {}: {}",
                by.operator,
                by.at,
                view.applied_text()
            );
        }
        (_, Some((by, note))) => println!(
            "  rejected by {} at {}: {note}. Nothing was applied: the file can be imported \
             again for a fresh review",
            by.operator, by.at
        ),
        _ if view.chunks_in < view.chunks => println!(
            "  still arriving: {} of {} chunks",
            view.chunks_in, view.chunks
        ),
        _ => println!(
            "  awaits a second person's approval: client approve-statement -i {} --operator NAME",
            view.import_id
        ),
    }
    if !view.unmentioned.is_empty() {
        println!(
            "  {} waiting orders the statement does not mention",
            view.unmentioned.len()
        );
    }
    if (view.entries.len() as u32) < view.total_entries {
        println!(
            "  the first {} entries (the console's review and its CSV hold them all):",
            view.entries.len()
        );
    }
    for e in &view.entries {
        let named = match (&e.outcome, e.outcome.term()) {
            (
                crate::domain::statement::EntryOutcome::ChargeConflict { why, .. },
                Some((contract, term)),
            ) => {
                format!("{term} of contract {contract}: {why}")
            }
            (_, Some((contract, term))) => format!("{term} of contract {contract}"),
            (_, None) => e.outcome.order_id().unwrap_or_default().to_string(),
        };
        println!(
            "  {:>5} {:<16} {} {:>16} {:<16} {}{}",
            e.entry.index,
            e.entry.entry_ref,
            e.entry.booking_date,
            e.entry.amount.to_string(),
            e.outcome.word(),
            named,
            view.entry_settled_text(e)
        );
    }
}
