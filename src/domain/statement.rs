//! A bank's statement as the console reads it: its entries, what each matched, and the
//! import's review. Shared with the browser; parsed and matched on the server.

use serde::{Deserialize, Serialize};

use super::money::Money;

/// Whether `id` has the shape of an import's workflow id: `statement-` and the hex of
/// its file's hash.
pub fn is_import_id(id: &str) -> bool {
    let hex = id.strip_prefix("statement-").unwrap_or_default();
    !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether an entry of `entry` money pays an order of `order` money: the same currency, in
/// the same minor units, within `tolerance_minor` of it (0: exactly; the `[statements]`
/// tolerance). An order without an amount is paid by no entry: a person settles it. The
/// import's match uses it, and so does every order before a statement settles it (the
/// import's "matched" is its starter's word; the order's money is the order's).
pub fn entry_pays(
    entry: &Money,
    order: Option<&Money>,
    tolerance_minor: i64,
) -> Result<(), String> {
    let Some(order) = order else {
        return Err(format!(
            "the order's amount is unknown, so the entry's {entry} cannot be checked against it"
        ));
    };
    let tolerance = tolerance_minor.max(0).unsigned_abs();
    if entry.currency == order.currency
        && entry.exponent == order.exponent
        && entry.minor.abs_diff(order.minor) <= tolerance
    {
        return Ok(());
    }
    Err(match tolerance {
        0 => format!("the entry's {entry} is not the order's {order}"),
        _ => format!(
            "the entry's {entry} is not within {} of the order's {order}",
            Money {
                minor: tolerance_minor.max(0),
                ..order.clone()
            }
        ),
    })
}

/// An entry an approver left out of an import's approval, and what it was for: the order
/// it matched (or the term whose charge it booked), as the import's memo keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOutFor {
    pub entry_ref: String,
    /// The order id (or term id) it was for.
    pub target: String,
    pub amount: super::money::Money,
    pub booking_date: String,
}

/// On an order's lane: a statement booked money for it, and its approver left that entry
/// out (it waits for a person), who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOutNotice {
    pub import_id: String,
    pub statement_id: String,
    pub entry: LeftOutFor,
    pub by: super::resolution::Stamp,
    pub why: String,
}

impl LeftOutNotice {
    /// "Statement STMT-1 books 12.50 MYR for this order (entry B2, 2026-12-01); bo left it
    /// out of the approval: why".
    pub fn sentence(&self) -> String {
        self.sentence_for("order")
    }

    /// [`Self::sentence`] for what the entry was for: "order", "term".
    pub fn sentence_for(&self, what: &str) -> String {
        format!(
            "Statement {} books {} for this {what} (entry {}, {}); {} left it out of the \
             approval: {}",
            self.statement_id,
            self.entry.amount,
            self.entry.entry_ref,
            self.entry.booking_date,
            self.by.operator,
            self.why
        )
    }
}

/// One page of the statements page's list of imports, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportsPage {
    pub imports: Vec<ListedImport>,
    /// Opaque token of the next (older) page, if there is one.
    pub next_page: Option<String>,
}

/// One import in the statements page's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedImport {
    pub import_id: String,
    /// When it was imported (RFC 3339, UTC).
    pub at: String,
    /// Who imported it.
    pub imported_by: String,
    /// How it stands, in words: awaiting approval (or being applied), decided, …
    pub standing: String,
}

/// The formats a statement comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementFormat {
    /// ISO 20022 end-of-day statement.
    Camt053,
    /// ISO 20022 debit/credit notification.
    Camt054,
    /// SWIFT MT940.
    Mt940,
    /// The bank's CSV report (see [`CsvLayout`]).
    Csv,
}

impl StatementFormat {
    pub const ALL: [StatementFormat; 4] = [
        StatementFormat::Camt053,
        StatementFormat::Camt054,
        StatementFormat::Mt940,
        StatementFormat::Csv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatementFormat::Camt053 => "camt053",
            StatementFormat::Camt054 => "camt054",
            StatementFormat::Mt940 => "mt940",
            StatementFormat::Csv => "csv",
        }
    }

    pub fn parse(text: &str) -> Result<Self, super::input::InputError> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                super::input::InputError::not_one_of(
                    "a statement format",
                    text,
                    "camt053, camt054, mt940 or csv",
                )
            })
    }

    /// The format a file's first bytes say it is in.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4_096)]);
        if head.contains("camt.053") || head.contains("BkToCstmrStmt") {
            Some(StatementFormat::Camt053)
        } else if head.contains("camt.054") || head.contains("BkToCstmrDbtCdtNtfctn") {
            Some(StatementFormat::Camt054)
        } else if head.trim_start().starts_with(":20:")
            || head.trim_start().starts_with("{1:")
            || head.contains("\n:20:")
        {
            Some(StatementFormat::Mt940)
        } else if head.lines().next().is_some_and(|l| l.contains(',')) {
            Some(StatementFormat::Csv)
        } else {
            None
        }
    }
}

impl std::fmt::Display for StatementFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which columns of a bank's CSV report hold what (by header name). The default is the
/// layout this console documents; `[statements.csv]` names another bank's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvLayout {
    pub booking_date: String,
    pub reference: String,
    pub amount: String,
    pub currency: String,
    /// `C`/`credit` or `D`/`debit`; a negative amount is a debit too.
    pub direction: String,
    pub entry_ref: String,
    /// Optional: `true` (or `yes`, `1`) when the line is the bank's reversal of an earlier
    /// one; empty, `false`, `no` or `0` when not.
    pub reversal: String,
    /// The field separator (one character).
    pub delimiter: char,
    /// The decimal mark in amounts (`.` or `,`).
    pub decimal_mark: char,
}

impl Default for CsvLayout {
    fn default() -> Self {
        CsvLayout {
            booking_date: "booking_date".into(),
            reference: "reference".into(),
            amount: "amount".into(),
            currency: "currency".into(),
            direction: "credit_debit".into(),
            entry_ref: "entry_ref".into(),
            reversal: "reversal".into(),
            delimiter: ',',
            decimal_mark: '.',
        }
    }
}

/// One booked entry of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementEntry {
    /// Its place in the file, from 1.
    pub index: u32,
    /// The bank's reference of the entry (AcctSvcrRef, NtryRef, MT940's bank reference,
    /// the CSV's `entry_ref`).
    pub entry_ref: String,
    /// What the entry says about the payment: end-to-end id, else the remittance text.
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub booking_date: String,
    pub amount: Money,
    /// Money in (a credit), not out.
    pub credit: bool,
    /// The bank's reversal of an earlier entry (camt's `RvslInd`, MT940's `RC` and `RD`):
    /// a reversed credit is money that went back out, a reversed debit money that came
    /// back. Neither is a customer's payment.
    #[serde(default)]
    pub reversal: bool,
}

/// A statement as read from its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The bank's id of the statement (camt's Stmt/Id or MsgId, MT940's `:20:`).
    pub statement_id: String,
    pub account: String,
    pub format: StatementFormat,
    pub entries: Vec<StatementEntry>,
}

/// What a statement's entry means for the orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EntryOutcome {
    /// It names a waiting order, for its money: approving the import settles it as paid.
    Matched { order_id: String, stage: String },
    /// It names a waiting order, for other money: a person decides, with both figures.
    AmountMismatch {
        order_id: String,
        order_amount: Option<Money>,
    },
    /// It names no order this console knows.
    UnknownOrder,
    /// It names an order already resolved: never applied again; a conflict when the order
    /// was resolved otherwise than paid.
    AlreadyResolved {
        order_id: String,
        resolution: String,
        conflict: bool,
    },
    /// Money out: nothing to settle.
    Debit,
    /// A credit naming a waiting order whose payment the same statement reverses (a
    /// reversed credit names it too): the money went back, so it is never applied; a
    /// person decides.
    Reversed { order_id: String },
    /// The bank reversing an earlier entry: never settles an order. `paid_before` when it
    /// names an order already resolved as paid (the payment went back after the order was
    /// settled: a person looks at it).
    Reversal {
        order_id: Option<String>,
        paid_before: bool,
    },
    /// A credit naming a term of one of our recurring contracts whose charge had no answer
    /// (`term_check::TermCharge::InDoubt`), for the term's money: approving the import
    /// gives the entry to the term's charge question (`charge_lookup`), which checks it
    /// with this import and settles the term as charged.
    ChargeInDoubt {
        contract_id: String,
        term_id: String,
    },
    /// A credit naming a term whose charge our record already has: nothing to settle.
    ChargeOnRecord {
        contract_id: String,
        term_id: String,
    },
    /// A credit naming a term whose record disagrees with it (not charged, other money,
    /// named twice, still charging): never applied; a person looks, for the reason given.
    ChargeConflict {
        contract_id: String,
        term_id: String,
        why: String,
    },
}

impl EntryOutcome {
    /// The word the review and the CSV use.
    pub fn word(&self) -> &'static str {
        match self {
            EntryOutcome::Matched { .. } => "matched",
            EntryOutcome::AmountMismatch { .. } => "amount_mismatch",
            EntryOutcome::UnknownOrder => "unknown_order",
            EntryOutcome::AlreadyResolved { conflict: true, .. } => "conflict",
            EntryOutcome::AlreadyResolved { .. } => "already_resolved",
            EntryOutcome::Debit => "debit",
            EntryOutcome::Reversed { .. } => "reversed",
            EntryOutcome::Reversal {
                paid_before: true, ..
            } => "reversal_of_paid",
            EntryOutcome::Reversal { .. } => "reversal",
            EntryOutcome::ChargeInDoubt { .. } => "charge_in_doubt",
            EntryOutcome::ChargeOnRecord { .. } => "charge_on_record",
            EntryOutcome::ChargeConflict { .. } => "charge_conflict",
        }
    }

    /// The contract and term a charge's entry names.
    pub fn term(&self) -> Option<(&str, &str)> {
        match self {
            EntryOutcome::ChargeInDoubt {
                contract_id,
                term_id,
            }
            | EntryOutcome::ChargeOnRecord {
                contract_id,
                term_id,
            }
            | EntryOutcome::ChargeConflict {
                contract_id,
                term_id,
                ..
            } => Some((contract_id, term_id)),
            _ => None,
        }
    }

    pub fn order_id(&self) -> Option<&str> {
        match self {
            EntryOutcome::Matched { order_id, .. }
            | EntryOutcome::AmountMismatch { order_id, .. }
            | EntryOutcome::AlreadyResolved { order_id, .. }
            | EntryOutcome::Reversed { order_id } => Some(order_id),
            EntryOutcome::Reversal { order_id, .. } => order_id.as_deref(),
            _ => None,
        }
    }
}

/// An entry and what it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewedEntry {
    pub entry: StatementEntry,
    pub outcome: EntryOutcome,
}

/// What the page and the CLI read of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub import_id: String,
    pub statement_id: String,
    pub account: String,
    pub format: StatementFormat,
    pub file_name: String,
    pub imported_by: String,
    pub imported_at: String,
    pub chunks: u32,
    pub chunks_in: u32,
    /// Entries from `offset`, at most [`VIEW_ENTRIES`] (a view stays far below Temporal's
    /// payload limits whatever the statement's size).
    pub entries: Vec<ReviewedEntry>,
    pub offset: u32,
    /// Every entry of the import.
    pub total_entries: u32,
    /// How many entries of each outcome, over all of them.
    pub tally: Vec<(String, usize)>,
    pub unmentioned: Vec<String>,
    pub approved: Option<super::resolution::Stamp>,
    pub rejected: Option<(super::resolution::Stamp, String)>,
    /// Matched orders the approval has told so far (each settles once it has checked the
    /// import and the entry's money against its own).
    pub applied: u32,
    pub to_apply: u32,
    pub done: bool,
    /// Matched orders this import settled, as the orders record it (`SettledBy`): filled
    /// by the console from visibility once the import is approved, never by the workflow.
    #[serde(default)]
    pub settled: Option<u32>,
    /// Of the orders matched in `entries`, those this import settled (filled as `settled`).
    #[serde(default)]
    pub settled_orders: Vec<String>,
    /// How its run was stopped outside the console (terminated from Temporal's CLI or web
    /// UI, failed, timed out), in a sentence: it decides and applies nothing more. Filled by
    /// the console from the run's description, never by the workflow.
    #[serde(default)]
    pub stopped: Option<String>,
    /// Terms in doubt the statement books a charge for ([`EntryOutcome::ChargeInDoubt`]),
    /// and how many of them the approval has given their entry to so far (each term's
    /// question checks the entry with this import before it settles the term).
    #[serde(default)]
    pub charges_to_give: u32,
    #[serde(default)]
    pub charges_given: u32,
    /// Of the terms in doubt in `entries`, those whose latest question settled them by this
    /// import's entry: filled by the console once the approval has given them, never by
    /// the workflow.
    #[serde(default)]
    pub settled_terms: Vec<String>,
    /// Entries (their `entry_ref`) the approver left out, and why: the approval applies
    /// none of them (each waits for a person).
    #[serde(default)]
    pub left_out: Vec<String>,
    #[serde(default)]
    pub left_out_note: String,
    /// The runs of this import's file before the one shown (a rejected or stopped import
    /// imported again), newest first, each in a sentence: who imported it, and who rejected
    /// it and why, or how it was stopped. Filled by the console, never by the workflow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<String>,
}

impl ImportView {
    /// How far an approved import has settled its matched orders, in words: the page's and
    /// `client show-statement`'s. The count is the orders' own record; while the approval
    /// is still telling them, "so far"; after, the ones it did not settle are explained.
    /// Once the approval has told every matched order: whether the order `entry` matched
    /// settled by this import (`None` for an entry that matched none, or before then).
    /// A term in doubt's entry: whether the term's question settled it by this entry.
    pub fn entry_settled(&self, entry: &ReviewedEntry) -> Option<bool> {
        if self.is_left_out(entry) {
            return None;
        }
        let told = self.done && self.approved.is_some();
        match &entry.outcome {
            EntryOutcome::Matched { order_id, .. } => {
                told.then(|| self.settled_orders.contains(order_id))
            }
            EntryOutcome::ChargeInDoubt { term_id, .. } => {
                told.then(|| self.settled_terms.contains(term_id))
            }
            _ => None,
        }
    }

    /// What [`entry_settled`](Self::entry_settled) says, after the entry's outcome (or that
    /// the approver left it out).
    pub fn entry_settled_text(&self, entry: &ReviewedEntry) -> &'static str {
        match self.is_left_out(entry) {
            true => LEFT_OUT_MARK,
            false => settled_mark(self.entry_settled(entry), entry.outcome.term().is_some()),
        }
    }

    /// Whether the approver left `entry` out.
    pub fn is_left_out(&self, entry: &ReviewedEntry) -> bool {
        self.left_out.contains(&entry.entry.entry_ref)
    }

    /// What the approver left out, and why; `None` when nothing.
    pub fn left_out_text(&self) -> Option<String> {
        (!self.left_out.is_empty()).then(|| {
            format!(
                "{} {} left out by the approver, for a person: {}",
                self.left_out.len(),
                match self.left_out.len() {
                    1 => "entry",
                    _ => "entries",
                },
                self.left_out_note
            )
        })
    }

    /// What an approved import has applied: its orders (unless it matched none but booked
    /// charges in doubt), then its charges in doubt.
    pub fn applied_text(&self) -> String {
        let orders = (self.to_apply > 0 || self.charges_to_give == 0).then(|| self.settled_text());
        orders
            .into_iter()
            .chain(self.charges_text())
            .chain(self.left_out_text())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// How far an approved import has given its charges in doubt to their terms; `None`
    /// when it books none.
    pub fn charges_text(&self) -> Option<String> {
        (self.charges_to_give > 0).then(|| {
            let given = format!(
                "{} of {} charges in doubt given to their terms",
                self.charges_given, self.charges_to_give
            );
            match (
                self.done,
                self.charges_to_give - self.charges_given.min(self.charges_to_give),
            ) {
                (false, _) => format!("{given} so far"),
                (true, 0) => format!(
                    "{given}: each term's question checks its entry with this import, and \
                     the term then reads charged on its contract's page"
                ),
                (true, rest) => format!(
                    "{given}; the other {rest} were being asked about already: the bank's \
                     answer to that question settles them"
                ),
            }
        })
    }

    pub fn settled_text(&self) -> String {
        let settled = self.settled.unwrap_or(self.applied);
        let text = format!("{settled} of {} matched orders settled", self.to_apply);
        match (self.done, self.to_apply.saturating_sub(settled)) {
            (false, _) => format!("{text} so far"),
            (true, 0) => text,
            (true, rest) => format!(
                "{text}; the other {rest} not (yet): each checks this import and the entry's \
                 money against its own first, and one that refuses it, or was resolved \
                 before, is a person's (the audit trail says why)"
            ),
        }
    }
}

/// The words after an entry's outcome when the approver left it out.
pub const LEFT_OUT_MARK: &str = " · left out by the approver";

/// The words after a matched entry's outcome once its import has told the orders (or,
/// for a `charge`, the terms).
pub fn settled_mark(settled: Option<bool>, charge: bool) -> &'static str {
    match (settled, charge) {
        (Some(true), _) => " · settled",
        (Some(false), false) => " · not settled by it (the order's trail says why)",
        (Some(false), true) => {
            " · not settled by it (yet: the term's row on its contract's page says what its \
             question found)"
        }
        (None, _) => "",
    }
}

/// Entries one view of an import carries (about 250 KB).
pub const VIEW_ENTRIES: usize = 1_000;

/// How many entries of each outcome a review holds.
pub fn tally(entries: &[ReviewedEntry]) -> Vec<(&'static str, usize)> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for e in entries {
        let word = e.outcome.word();
        match counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => counts.push((word, 1)),
        }
    }
    counts
}

/// The review as CSV: one line an entry, with what it matched, and whether the approver
/// left it out (`left_out`: their references).
pub fn review_csv(entries: &[ReviewedEntry], left_out: &[String]) -> String {
    use super::format::csv_line;
    let mut text = csv_line(&[
        "index",
        "entry_ref",
        "booking_date",
        "amount",
        "currency",
        "reference",
        "outcome",
        "order_id",
        "contract_id",
        "term_id",
        "left_out",
    ]);
    for e in entries {
        let amount = e.entry.amount.to_string();
        let figure = amount.split(' ').next().unwrap_or_default();
        text.push_str(&csv_line(&[
            &e.entry.index.to_string(),
            &e.entry.entry_ref,
            &e.entry.booking_date,
            figure,
            &e.entry.amount.currency,
            &e.entry.reference,
            e.outcome.word(),
            e.outcome.order_id().unwrap_or_default(),
            e.outcome.term().map_or("", |(contract, _)| contract),
            e.outcome.term().map_or("", |(_, term)| term),
            match left_out.contains(&e.entry.entry_ref) {
                true => "yes",
                false => "",
            },
        ]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_import_id_has_an_import_ids_shape() {
        assert!(is_import_id("statement-0123456789abcdef"));
        for id in [
            "statement-",
            "statement-xyz",
            "manual-ORD-1",
            "",
            "statement-00 OR 1",
        ] {
            assert!(!is_import_id(id), "{id}");
        }
    }

    fn myr(minor: i64) -> Money {
        Money {
            minor,
            currency: "MYR".into(),
            exponent: 2,
        }
    }

    #[test]
    fn an_approved_import_counts_the_orders_that_settled_not_the_ones_it_told() {
        let view = |applied, done, settled| ImportView {
            import_id: "statement-ab".into(),
            statement_id: "S".into(),
            account: String::new(),
            format: StatementFormat::Csv,
            file_name: "s.csv".into(),
            imported_by: "ana".into(),
            imported_at: String::new(),
            chunks: 1,
            chunks_in: 1,
            entries: vec![],
            offset: 0,
            total_entries: 4,
            tally: vec![],
            unmentioned: vec![],
            approved: Some(crate::domain::resolution::Stamp {
                operator: "bo".into(),
                operator_id: String::new(),
                at: String::new(),
            }),
            rejected: None,
            applied,
            to_apply: 4,
            done,
            settled,
            settled_orders: vec!["ORD-1".into()],
            stopped: None,
            charges_to_give: 0,
            charges_given: 0,
            settled_terms: vec![],
            earlier: vec![],
            left_out: vec![],
            left_out_note: String::new(),
        };
        assert_eq!(
            view(2, false, Some(1)).settled_text(),
            "1 of 4 matched orders settled so far"
        );
        assert_eq!(
            view(4, true, Some(4)).settled_text(),
            "4 of 4 matched orders settled"
        );
        let said = view(4, true, Some(1)).settled_text();
        assert!(
            said.starts_with("1 of 4 matched orders settled; the other 3 not (yet)"),
            "{said}"
        );
        // Each matched entry says whether its order settled by it, once all were told.
        let entry = |order_id: &str, outcome: EntryOutcome| ReviewedEntry {
            entry: StatementEntry {
                index: 1,
                entry_ref: "E1".into(),
                reference: order_id.into(),
                booking_date: "2026-12-01".into(),
                amount: myr(2_000),
                credit: true,
                reversal: false,
            },
            outcome,
        };
        let matched = |order_id: &str| {
            entry(
                order_id,
                EntryOutcome::Matched {
                    order_id: order_id.into(),
                    stage: "manual".into(),
                },
            )
        };
        let done = view(4, true, Some(1));
        assert_eq!(done.entry_settled(&matched("ORD-1")), Some(true));
        assert_eq!(done.entry_settled(&matched("ORD-2")), Some(false));
        assert_eq!(
            done.entry_settled(&entry("ORD-3", EntryOutcome::UnknownOrder)),
            None
        );
        assert_eq!(
            view(2, false, Some(1)).entry_settled(&matched("ORD-1")),
            None
        );
        assert_eq!(
            done.entry_settled_text(&matched("ORD-2")),
            " · not settled by it (the order's trail says why)"
        );
    }

    #[test]
    fn an_entry_pays_an_order_only_in_its_own_money() {
        assert_eq!(entry_pays(&myr(2_000), Some(&myr(2_000)), 0), Ok(()));
        assert_eq!(
            entry_pays(&myr(100), Some(&myr(2_000)), 0),
            Err("the entry's 1.00 MYR is not the order's 20.00 MYR".into())
        );
        let usd = Money {
            currency: "USD".into(),
            ..myr(2_000)
        };
        assert!(entry_pays(&usd, Some(&myr(2_000)), 0).is_err());
        // The same figure in another exponent is other money.
        let thousandths = Money {
            exponent: 3,
            ..myr(2_000)
        };
        assert!(entry_pays(&thousandths, Some(&myr(2_000)), 0).is_err());
        // Within the tolerance, either side; not past it; a negative one is none.
        assert_eq!(entry_pays(&myr(1_995), Some(&myr(2_000)), 5), Ok(()));
        assert_eq!(entry_pays(&myr(2_005), Some(&myr(2_000)), 5), Ok(()));
        assert_eq!(
            entry_pays(&myr(2_006), Some(&myr(2_000)), 5),
            Err("the entry's 20.06 MYR is not within 0.05 MYR of the order's 20.00 MYR".into())
        );
        assert!(entry_pays(&myr(1_999), Some(&myr(2_000)), -5).is_err());
        // No overflow at the ends of the range.
        assert!(entry_pays(&myr(i64::MIN), Some(&myr(i64::MAX)), i64::MAX).is_err());
        assert!(entry_pays(&myr(2_000), None, 0).is_err());
    }
}
