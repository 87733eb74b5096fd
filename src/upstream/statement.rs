//! Reading the bank's own record: ISO 20022 camt.053 / camt.054 (XML, read with
//! `quick-xml`'s serde), SWIFT MT940 (the `mt940` crate) and the bank's CSV report (`csv`).
//! A file that cannot be read is refused whole, with the place that failed.

use serde::Deserialize;

use crate::domain::{
    money::{Money, minor_units, parse_amount},
    statement::{CsvLayout, Statement, StatementEntry, StatementFormat},
};

/// The largest statement file accepted: a 10,000-entry camt.053 is about 15 MB.
pub const MAX_STATEMENT_BYTES: usize = 20 * 1024 * 1024;
/// The most entries one import holds (see the README on how they fit in Temporal).
pub const MAX_STATEMENT_ENTRIES: usize = 10_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatementError {
    #[error("the file is {bytes} bytes; a statement may be at most {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error(
        "the file is not in a format this console reads: name it (camt053, camt054, mt940 or csv)"
    )]
    UnknownFormat,
    #[error("the {format} file cannot be read at {place}: {why}")]
    Unreadable {
        format: StatementFormat,
        place: String,
        why: String,
    },
    #[error("{place}: {code:?} is not an ISO 4217 currency")]
    Currency { place: String, code: String },
    #[error("{place}: the amount {amount:?} cannot be read in {currency}: {why}")]
    Amount {
        place: String,
        amount: String,
        currency: String,
        why: String,
    },
    #[error(
        "the balances do not add up in statement {statement}: opening {opening} plus the entries makes {computed}, but the closing balance is {closing}"
    )]
    Balance {
        statement: String,
        opening: String,
        computed: String,
        closing: String,
    },
    #[error("{place}: entry reference {entry_ref:?} appears twice in the file")]
    Duplicate { place: String, entry_ref: String },
    #[error("{place}: the booking date {date:?} is not a date (YYYY-MM-DD)")]
    BookingDate { place: String, date: String },
    #[error("the statement has no entries")]
    Empty,
    #[error("the statement has {entries} entries; one import holds at most {max}")]
    TooManyEntries { entries: usize, max: usize },
}

/// Reads a statement file. `format` if the person named it, else what the file says.
pub fn parse(
    bytes: &[u8],
    format: Option<StatementFormat>,
    layout: &CsvLayout,
) -> Result<Statement, StatementError> {
    if bytes.len() > MAX_STATEMENT_BYTES {
        return Err(StatementError::TooLarge {
            bytes: bytes.len(),
            max: MAX_STATEMENT_BYTES,
        });
    }
    let format = format
        .or_else(|| StatementFormat::sniff(bytes))
        .ok_or(StatementError::UnknownFormat)?;
    let text = std::str::from_utf8(bytes).map_err(|e| StatementError::Unreadable {
        format,
        place: format!("byte {}", e.valid_up_to()),
        why: "it is not UTF-8 text".into(),
    })?;
    let statement = match format {
        StatementFormat::Camt053 | StatementFormat::Camt054 => camt(text, format)?,
        StatementFormat::Mt940 => mt940(text)?,
        StatementFormat::Csv => csv(text, layout)?,
    };
    check_entries(&statement)?;
    Ok(statement)
}

fn check_entries(statement: &Statement) -> Result<(), StatementError> {
    if statement.entries.is_empty() {
        return Err(StatementError::Empty);
    }
    if statement.entries.len() > MAX_STATEMENT_ENTRIES {
        return Err(StatementError::TooManyEntries {
            entries: statement.entries.len(),
            max: MAX_STATEMENT_ENTRIES,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for e in &statement.entries {
        // Recorded on every order it settles: a date that does not exist is refused.
        if crate::domain::format::epoch_secs(&format!("{}T00:00:00Z", e.booking_date)).is_none() {
            return Err(StatementError::BookingDate {
                place: format!("entry {}", e.index),
                date: crate::domain::input::short(&e.booking_date),
            });
        }
        if !e.entry_ref.is_empty() && !seen.insert(e.entry_ref.as_str()) {
            return Err(StatementError::Duplicate {
                place: format!("entry {}", e.index),
                entry_ref: e.entry_ref.clone(),
            });
        }
    }
    Ok(())
}

/// Money from a decimal text in a currency, with its own decimals.
fn money(place: &str, amount: &str, currency: &str) -> Result<Money, StatementError> {
    let exponent = minor_units(currency).ok_or_else(|| StatementError::Currency {
        place: place.to_string(),
        code: currency.to_string(),
    })?;
    let minor = parse_amount(amount, exponent).map_err(|e| StatementError::Amount {
        place: place.to_string(),
        amount: amount.to_string(),
        currency: currency.to_string(),
        why: e.to_string(),
    })?;
    Ok(Money {
        minor,
        currency: currency.to_string(),
        exponent,
    })
}

/// The line and column of a byte offset, for a person to find it.
fn line_of(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {column}")
}

// --- ISO 20022 camt.053 / camt.054 ---------------------------------------------------

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "BkToCstmrStmt")]
    statement: Option<Camt053>,
    #[serde(rename = "BkToCstmrDbtCdtNtfctn")]
    notification: Option<Camt054>,
}

#[derive(Deserialize)]
struct Camt053 {
    #[serde(rename = "GrpHdr")]
    header: GroupHeader,
    #[serde(rename = "Stmt", default)]
    statements: Vec<Report>,
}

#[derive(Deserialize)]
struct Camt054 {
    #[serde(rename = "GrpHdr")]
    header: GroupHeader,
    #[serde(rename = "Ntfctn", default)]
    notifications: Vec<Report>,
}

#[derive(Deserialize)]
struct GroupHeader {
    #[serde(rename = "MsgId")]
    message_id: String,
}

#[derive(Deserialize)]
struct Report {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Acct", default)]
    account: Option<Account>,
    #[serde(rename = "Bal", default)]
    balances: Vec<CamtBalance>,
    #[serde(rename = "Ntry", default)]
    entries: Vec<CamtEntry>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(rename = "Id", default)]
    id: Option<AccountId>,
}

#[derive(Deserialize)]
struct AccountId {
    #[serde(rename = "IBAN", default)]
    iban: Option<String>,
}

#[derive(Deserialize)]
struct CamtBalance {
    #[serde(rename = "Tp")]
    kind: BalanceType,
    #[serde(rename = "Amt")]
    amount: CamtAmount,
    #[serde(rename = "CdtDbtInd")]
    direction: String,
}

#[derive(Deserialize)]
struct BalanceType {
    #[serde(rename = "CdOrPrtry")]
    code: CodeOrProprietary,
}

#[derive(Deserialize)]
struct CodeOrProprietary {
    #[serde(rename = "Cd", default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct CamtAmount {
    #[serde(rename = "@Ccy")]
    currency: String,
    #[serde(rename = "$text")]
    value: String,
}

#[derive(Deserialize)]
struct CamtEntry {
    #[serde(rename = "NtryRef", default)]
    entry_ref: Option<String>,
    #[serde(rename = "Amt")]
    amount: CamtAmount,
    #[serde(rename = "CdtDbtInd")]
    direction: String,
    /// `true` (or `1`): the bank reverses an earlier entry.
    #[serde(rename = "RvslInd", default)]
    reversal: Option<String>,
    #[serde(rename = "Sts", default)]
    status: Option<Status>,
    #[serde(rename = "BookgDt", default)]
    booking: Option<DateChoice>,
    #[serde(rename = "AcctSvcrRef", default)]
    servicer_ref: Option<String>,
    #[serde(rename = "NtryDtls", default)]
    details: Vec<EntryDetails>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "Cd", default)]
    code: Option<String>,
    #[serde(rename = "$text", default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct DateChoice {
    #[serde(rename = "Dt", default)]
    date: Option<String>,
    #[serde(rename = "DtTm", default)]
    date_time: Option<String>,
}

#[derive(Deserialize)]
struct EntryDetails {
    #[serde(rename = "TxDtls", default)]
    transactions: Vec<TransactionDetails>,
}

#[derive(Deserialize)]
struct TransactionDetails {
    #[serde(rename = "Refs", default)]
    refs: Option<Refs>,
    #[serde(rename = "RmtInf", default)]
    remittance: Option<Remittance>,
}

#[derive(Deserialize)]
struct Refs {
    #[serde(rename = "EndToEndId", default)]
    end_to_end: Option<String>,
}

#[derive(Deserialize)]
struct Remittance {
    #[serde(rename = "Ustrd", default)]
    unstructured: Vec<String>,
}

/// Checks the XML is well formed first, so that a broken file is refused with its line.
fn well_formed(text: &str, format: StatementFormat) -> Result<(), StatementError> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                let at = reader.error_position() as usize;
                return Err(StatementError::Unreadable {
                    format,
                    place: line_of(text, at),
                    why: e.to_string(),
                });
            }
        }
    }
}

fn camt(text: &str, format: StatementFormat) -> Result<Statement, StatementError> {
    well_formed(text, format)?;
    let unreadable = |why: String| StatementError::Unreadable {
        format,
        place: "the document".into(),
        why,
    };
    let document: Document =
        quick_xml::de::from_str(text).map_err(|e| unreadable(e.to_string()))?;
    let (message_id, reports, check_balances) = match (format, document) {
        (
            StatementFormat::Camt053,
            Document {
                statement: Some(s), ..
            },
        ) => (s.header.message_id, s.statements, true),
        (
            StatementFormat::Camt054,
            Document {
                notification: Some(n),
                ..
            },
        ) => (n.header.message_id, n.notifications, false),
        _ => {
            return Err(unreadable(format!(
                "it is not a {format} document (no BkToCstmrStmt or BkToCstmrDbtCdtNtfctn)"
            )));
        }
    };
    let mut entries = Vec::new();
    let mut account = String::new();
    let mut statement_id = message_id;
    for (r, report) in reports.into_iter().enumerate() {
        if r == 0 {
            statement_id = report.id.clone();
            account = report
                .account
                .and_then(|a| a.id)
                .and_then(|i| i.iban)
                .unwrap_or_default();
        }
        let mut sum: i64 = 0;
        let mut currency = None;
        for entry in report.entries {
            let index = entries.len() as u32 + 1;
            let place = format!("entry {index}");
            let status = entry
                .status
                .as_ref()
                .and_then(|s| s.code.clone().or_else(|| s.text.clone()))
                .unwrap_or_default();
            let amount = money(&place, entry.amount.value.trim(), &entry.amount.currency)?;
            let credit = match entry.direction.trim() {
                "CRDT" => true,
                "DBIT" => false,
                other => {
                    return Err(unreadable(format!(
                        "{place}: CdtDbtInd {other:?} is neither CRDT nor DBIT"
                    )));
                }
            };
            let reversal = match entry.reversal.as_deref().map(str::trim) {
                None | Some("false" | "0") => false,
                Some("true" | "1") => true,
                Some(other) => {
                    return Err(unreadable(format!(
                        "{place}: RvslInd {other:?} is neither true nor false"
                    )));
                }
            };
            // Only booked entries count: pending ones may still change.
            if status.trim() != "BOOK" {
                continue;
            }
            sum = sum.saturating_add(if credit { amount.minor } else { -amount.minor });
            currency.get_or_insert(amount.currency.clone());
            let booking_date = entry
                .booking
                .and_then(|d| {
                    d.date
                        .or_else(|| d.date_time.map(|t| t.chars().take(10).collect()))
                })
                .unwrap_or_default();
            let details = entry.details.into_iter().flat_map(|d| d.transactions);
            let mut reference = String::new();
            let mut remittance = String::new();
            for tx in details {
                if let Some(e2e) = tx.refs.and_then(|r| r.end_to_end)
                    && e2e != "NOTPROVIDED"
                    && reference.is_empty()
                {
                    reference = e2e;
                }
                if let Some(rmt) = tx.remittance
                    && remittance.is_empty()
                {
                    remittance = rmt.unstructured.join(" ");
                }
            }
            if reference.is_empty() {
                reference = remittance;
            }
            entries.push(StatementEntry {
                index,
                entry_ref: entry.servicer_ref.or(entry.entry_ref).unwrap_or_default(),
                reference: reference.trim().to_string(),
                booking_date,
                amount,
                credit,
                reversal,
            });
        }
        if check_balances {
            check_camt_balances(&report.id, &report.balances, sum, currency.as_deref())?;
        }
    }
    Ok(Statement {
        statement_id,
        account,
        format,
        entries,
    })
}

fn check_camt_balances(
    statement: &str,
    balances: &[CamtBalance],
    sum: i64,
    currency: Option<&str>,
) -> Result<(), StatementError> {
    let find = |code: &str| -> Result<Option<Money>, StatementError> {
        let Some(b) = balances
            .iter()
            .find(|b| b.kind.code.code.as_deref() == Some(code))
        else {
            return Ok(None);
        };
        let mut m = money(
            &format!("balance {code}"),
            b.amount.value.trim(),
            &b.amount.currency,
        )?;
        if b.direction.trim() == "DBIT" {
            m.minor = -m.minor;
        }
        Ok(Some(m))
    };
    let (Some(opening), Some(closing)) = (find("OPBD")?, find("CLBD")?) else {
        return Ok(());
    };
    if currency.is_some_and(|c| c != opening.currency) {
        return Err(StatementError::Currency {
            place: format!("statement {statement}"),
            code: currency.unwrap_or_default().to_string(),
        });
    }
    let computed = opening.minor.saturating_add(sum);
    if computed != closing.minor {
        let show =
            |minor| crate::domain::money::format_amount(minor, &opening.currency, opening.exponent);
        return Err(StatementError::Balance {
            statement: statement.to_string(),
            opening: show(opening.minor),
            computed: show(computed),
            closing: show(closing.minor),
        });
    }
    Ok(())
}

// --- SWIFT MT940 ---------------------------------------------------------------------

fn mt940(text: &str) -> Result<Statement, StatementError> {
    // Banks send CRLF or LF; the parser wants CRLF.
    let normalised = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let messages = mt940::parse_mt940(&normalised).map_err(|e| StatementError::Unreadable {
        format: StatementFormat::Mt940,
        place: mt940_place(&e),
        why: e
            .to_string()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string(),
    })?;
    let mut entries = Vec::new();
    let mut statement_id = String::new();
    let mut account = String::new();
    for (m, message) in messages.iter().enumerate() {
        if m == 0 {
            statement_id = message.transaction_ref_no.clone();
            account = message.account_id.clone();
        }
        let currency = message.opening_balance.iso_currency_code.clone();
        let signed = |dc: &mt940::DebitOrCredit, minor: i64| match dc {
            mt940::DebitOrCredit::Credit => minor,
            mt940::DebitOrCredit::Debit => -minor,
        };
        let opening = money(
            &format!("message {} :60F:", m + 1),
            &message.opening_balance.amount.to_string(),
            &currency,
        )?;
        let mut sum = 0i64;
        for line in &message.statement_lines {
            let index = entries.len() as u32 + 1;
            let place = format!("entry {index} (:61:)");
            let amount = money(&place, &line.amount.to_string(), &currency)?;
            // SWIFT's marks: `C`, `D`, `RC` (a reversed credit: money out) and `RD` (a
            // reversed debit: money in). The crate names them by what the entry is, so it
            // reads `RD` as `ReverseCredit` and `RC` as `ReverseDebit`.
            use mt940::ExtDebitOrCredit as Mark;
            let mark = &line.ext_debit_credit_indicator;
            let credit = matches!(mark, Mark::Credit | Mark::ReverseCredit);
            let reversal = matches!(mark, Mark::ReverseCredit | Mark::ReverseDebit);
            sum = sum.saturating_add(if credit { amount.minor } else { -amount.minor });
            let information = match &line.information_to_account_owner {
                Some(mt940::InformationToAccountOwner::Plain(text)) => text.clone(),
                Some(other) => serde_json::to_value(other)
                    .ok()
                    .and_then(|v| {
                        v.get("purpose")
                            .and_then(|p| p.as_str())
                            .map(str::to_string)
                    })
                    .unwrap_or_default(),
                None => String::new(),
            };
            let reference = match line.customer_ref.as_str() {
                "" | "NONREF" => information,
                customer => format!("{customer} {information}"),
            };
            entries.push(StatementEntry {
                index,
                entry_ref: line
                    .bank_ref
                    .clone()
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| format!("{}-{index}", message.transaction_ref_no)),
                reference: reference.trim().to_string(),
                booking_date: line.entry_date.unwrap_or(line.value_date).to_string(),
                amount,
                credit,
                reversal,
            });
        }
        let closing = money(
            &format!("message {} :62F:", m + 1),
            &message.closing_balance.amount.to_string(),
            &currency,
        )?;
        let computed = signed(
            &message.opening_balance.debit_credit_indicator,
            opening.minor,
        )
        .saturating_add(sum);
        let closing_minor = signed(
            &message.closing_balance.debit_credit_indicator,
            closing.minor,
        );
        if computed != closing_minor {
            let show =
                |minor| crate::domain::money::format_amount(minor, &currency, opening.exponent);
            return Err(StatementError::Balance {
                statement: message.transaction_ref_no.clone(),
                opening: show(signed(
                    &message.opening_balance.debit_credit_indicator,
                    opening.minor,
                )),
                computed: show(computed),
                closing: show(closing_minor),
            });
        }
    }
    Ok(Statement {
        statement_id,
        account,
        format: StatementFormat::Mt940,
        entries,
    })
}

/// Where the MT940 parser stopped, as a person finds it (pest's `--> line:column`).
fn mt940_place(error: &mt940::ParseError) -> String {
    let text = error.to_string();
    if let Some(at) = text.split("--> ").nth(1) {
        let position: String = at
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':')
            .collect();
        if let Some((line, column)) = position.split_once(':') {
            return format!("line {line}, column {column}");
        }
    }
    match error {
        mt940::ParseError::UnknownTagError(tag) => format!("tag :{tag}:"),
        _ => "the message".into(),
    }
}

// --- The bank's CSV report -------------------------------------------------------------

fn csv(text: &str, layout: &CsvLayout) -> Result<Statement, StatementError> {
    let unreadable = |place: String, why: String| StatementError::Unreadable {
        format: StatementFormat::Csv,
        place,
        why,
    };
    let delimiter = u8::try_from(layout.delimiter)
        .map_err(|_| unreadable("the layout".into(), "the delimiter must be ASCII".into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| unreadable("line 1".into(), e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| unreadable("line 1".into(), format!("no {name:?} column")))
    };
    let (date, reference, amount, currency) = (
        column(&layout.booking_date)?,
        column(&layout.reference)?,
        column(&layout.amount)?,
        column(&layout.currency)?,
    );
    let direction = column(&layout.direction).ok();
    let entry_ref = column(&layout.entry_ref).ok();
    let reversal = column(&layout.reversal).ok();
    let mut entries = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let place = format!("line {line}");
        let record = record.map_err(|e| unreadable(place.clone(), e.to_string()))?;
        let field = |c: usize| record.get(c).unwrap_or_default().trim().to_string();
        let raw = field(amount).replace(layout.decimal_mark, ".");
        let (negative, figure) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, raw.trim_start_matches('+').to_string()),
        };
        let money = money(&place, &figure, &field(currency).to_ascii_uppercase())?;
        let credit = match direction.map(field).as_deref().map(str::to_ascii_lowercase) {
            Some(d) if d == "c" || d == "credit" || d == "cr" => !negative,
            Some(d) if d == "d" || d == "debit" || d == "dr" => false,
            None => !negative,
            Some(other) => {
                return Err(unreadable(
                    place,
                    format!("direction {other:?} is neither C (credit) nor D (debit)"),
                ));
            }
        };
        let reversal = match reversal.map(field).as_deref().map(str::to_ascii_lowercase) {
            None => false,
            Some(r) if matches!(r.as_str(), "" | "false" | "no" | "0") => false,
            Some(r) if matches!(r.as_str(), "true" | "yes" | "1") => true,
            Some(other) => {
                return Err(unreadable(
                    place,
                    format!("reversal {other:?} is neither true nor false"),
                ));
            }
        };
        let booking_date = field(date);
        if crate::domain::format::epoch_secs(&format!("{booking_date}T00:00:00Z")).is_none() {
            return Err(unreadable(
                place,
                format!("booking date {booking_date:?} is not YYYY-MM-DD"),
            ));
        }
        entries.push(StatementEntry {
            index: i as u32 + 1,
            entry_ref: entry_ref
                .map(field)
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| format!("line-{line}")),
            reference: field(reference),
            booking_date,
            amount: money,
            credit,
            reversal,
        });
    }
    Ok(Statement {
        statement_id: String::new(),
        account: String::new(),
        format: StatementFormat::Csv,
        entries,
    })
}

#[doc(hidden)]
pub mod fixtures {
    //! Statements the tests and the bench write: each format, with the entries given.

    /// How an entry is marked, in SWIFT's words: `C`, `D`, `RC` (a reversed credit: money
    /// out) and `RD` (a reversed debit: money in).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Mark {
        Credit,
        Debit,
        ReversedCredit,
        ReversedDebit,
    }

    impl Mark {
        fn credit(self) -> bool {
            matches!(self, Mark::Credit | Mark::ReversedDebit)
        }

        fn reversal(self) -> bool {
            matches!(self, Mark::ReversedCredit | Mark::ReversedDebit)
        }

        fn swift(self) -> &'static str {
            match self {
                Mark::Credit => "C",
                Mark::Debit => "D",
                Mark::ReversedCredit => "RC",
                Mark::ReversedDebit => "RD",
            }
        }
    }

    impl From<bool> for Mark {
        fn from(credit: bool) -> Self {
            if credit { Mark::Credit } else { Mark::Debit }
        }
    }

    /// A camt.053 with `entries` of (entry ref, end-to-end id, amount, currency, credit).
    pub fn camt053(entries: &[(&str, &str, &str, &str, bool)], closing_off: bool) -> String {
        let marked: Vec<_> = entries
            .iter()
            .map(|&(r, e2e, amount, ccy, credit)| (r, e2e, amount, ccy, Mark::from(credit)))
            .collect();
        camt053_marked(&marked, closing_off)
    }

    /// A camt.053 whose entries may be reversals (`RvslInd`).
    pub fn camt053_marked(entries: &[(&str, &str, &str, &str, Mark)], closing_off: bool) -> String {
        let currency = entries.first().map(|e| e.3).unwrap_or("MYR");
        let mut sum = 0i64;
        let mut body = String::new();
        for (r, e2e, amount, ccy, mark) in entries {
            let minor: i64 = amount.replace('.', "").parse().unwrap_or(0);
            sum += if mark.credit() { minor } else { -minor };
            body.push_str(&format!(
                "<Ntry><Amt Ccy=\"{ccy}\">{amount}</Amt><CdtDbtInd>{}</CdtDbtInd>{}<Sts><Cd>BOOK</Cd></Sts>\
                 <BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>{r}</AcctSvcrRef>\
                 <NtryDtls><TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>\
                 <RmtInf><Ustrd>order {e2e}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>",
                if mark.credit() { "CRDT" } else { "DBIT" },
                if mark.reversal() { "<RvslInd>true</RvslInd>" } else { "" }
            ));
        }
        let closing = 100_000 + sum + i64::from(closing_off);
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
             <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-12-01T23:00:00Z</CreDtTm></GrpHdr>\
             <Stmt><Id>STMT-2026-12-01</Id><Acct><Id><IBAN>MY00TEST0001</IBAN></Id></Acct>\
             <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>\
             <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{}.{:02}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>\
             {body}</Stmt></BkToCstmrStmt></Document>",
            closing / 100,
            closing % 100
        )
    }

    /// An MT940 with the same kind of entries (amounts with a comma, as SWIFT writes).
    pub fn mt940(entries: &[(&str, &str, &str, bool)]) -> String {
        let marked: Vec<_> = entries
            .iter()
            .map(|&(r, reference, amount, credit)| (r, reference, amount, Mark::from(credit)))
            .collect();
        mt940_marked(&marked)
    }

    /// An MT940 whose lines may be marked `RC` or `RD`.
    pub fn mt940_marked(entries: &[(&str, &str, &str, Mark)]) -> String {
        let mut sum = 0i64;
        let mut lines = String::new();
        for (r, reference, amount, mark) in entries {
            let minor: i64 = amount.replace('.', "").parse().unwrap_or(0);
            sum += if mark.credit() { minor } else { -minor };
            lines.push_str(&format!(
                ":61:2612011201{}{}NTRF{reference}//{r}\r\n:86:order {reference}\r\n",
                mark.swift(),
                amount.replace('.', ",")
            ));
        }
        let closing = 100_000 + sum;
        format!(
            ":20:STMT-MT-1\r\n:25:MY00TEST0001\r\n:28C:1/1\r\n:60F:C261201MYR1000,00\r\n{lines}:62F:C261201MYR{},{:02}\r\n",
            closing / 100,
            closing % 100
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_refs(s: &Statement) -> Vec<(&str, &str, String, bool)> {
        s.entries
            .iter()
            .map(|e| {
                (
                    e.entry_ref.as_str(),
                    e.reference.as_str(),
                    e.amount.to_string(),
                    e.credit,
                )
            })
            .collect()
    }

    #[test]
    fn a_camt053_reads_its_booked_entries_and_checks_its_balances() {
        let text = fixtures::camt053(
            &[
                ("B1", "ORD-1", "12.50", "MYR", true),
                ("B2", "ORD-2", "3.00", "MYR", false),
            ],
            false,
        );
        let s = parse(text.as_bytes(), None, &CsvLayout::default()).unwrap();
        assert_eq!(s.format, StatementFormat::Camt053);
        assert_eq!(s.statement_id, "STMT-2026-12-01");
        assert_eq!(
            entry_refs(&s),
            vec![
                ("B1", "ORD-1", "12.50 MYR".to_string(), true),
                ("B2", "ORD-2", "3.00 MYR".to_string(), false)
            ]
        );
        assert_eq!(s.entries[0].booking_date, "2026-12-01");
        let off = fixtures::camt053(&[("B1", "ORD-1", "12.50", "MYR", true)], true);
        let err = parse(off.as_bytes(), None, &CsvLayout::default()).unwrap_err();
        assert!(matches!(err, StatementError::Balance { .. }), "{err}");
        assert!(err.to_string().contains("closing balance"), "{err}");
    }

    #[test]
    fn bad_files_are_refused_with_the_place_that_failed() {
        let layout = CsvLayout::default();
        let good = fixtures::camt053(&[("B1", "ORD-1", "12.50", "MYR", true)], false);
        let broken = good.replace("</AcctSvcrRef>", "</AcctSvcrRefX>");
        let err = parse(broken.as_bytes(), Some(StatementFormat::Camt053), &layout).unwrap_err();
        assert!(err.to_string().contains("line 1, column"), "{err}");
        let metal = good.replace("Ccy=\"MYR\">12.50", "Ccy=\"XAU\">12.50");
        let err = parse(metal.as_bytes(), None, &layout).unwrap_err();
        assert!(
            matches!(&err, StatementError::Currency { place, .. } if place == "entry 1"),
            "{err}"
        );
        let twice = fixtures::camt053(
            &[
                ("B1", "ORD-1", "12.50", "MYR", true),
                ("B1", "ORD-2", "1.00", "MYR", true),
            ],
            false,
        );
        let err = parse(twice.as_bytes(), None, &layout).unwrap_err();
        assert!(matches!(err, StatementError::Duplicate { .. }), "{err}");
        // A booking date that does not exist, in any format, names its entry.
        for date in ["2026-02-30", "tomorrow", "", "2026-12-01T00:00:00Z"] {
            let odd = good.replace(
                "<BookgDt><Dt>2026-12-01</Dt>",
                &format!("<BookgDt><Dt>{date}</Dt>"),
            );
            let err = parse(odd.as_bytes(), None, &layout).unwrap_err();
            assert!(
                matches!(&err, StatementError::BookingDate { place, .. } if place == "entry 1"),
                "{date:?}: {err}"
            );
        }
        let csv = "booking_date,reference,amount,currency\n2026-02-30,ORD-1,1.00,MYR\n";
        let err = parse(csv.as_bytes(), Some(StatementFormat::Csv), &layout).unwrap_err();
        assert!(err.to_string().contains("2026-02-30"), "{err}");
        let huge = vec![b' '; MAX_STATEMENT_BYTES + 1];
        let err = parse(&huge, Some(StatementFormat::Csv), &layout).unwrap_err();
        assert!(matches!(err, StatementError::TooLarge { .. }), "{err}");
        let mt = fixtures::mt940(&[("B1", "ORD-1", "12.50", true)]);
        let torn = mt.replace(":62F:", ":6x2F:");
        let err = parse(torn.as_bytes(), Some(StatementFormat::Mt940), &layout).unwrap_err();
        assert!(
            matches!(err, StatementError::Unreadable { .. }),
            "an MT940 with a broken tag: {err}"
        );
        let err = parse(b"nothing here", None, &layout).unwrap_err();
        assert_eq!(err, StatementError::UnknownFormat);
    }

    #[test]
    fn an_mt940_reads_its_lines_and_balances() {
        let text = fixtures::mt940(&[
            ("B1", "ORD-1", "12.50", true),
            ("B2", "ORD-2", "2.00", false),
        ]);
        let s = parse(text.as_bytes(), None, &CsvLayout::default()).unwrap();
        assert_eq!(s.format, StatementFormat::Mt940);
        assert_eq!(s.statement_id, "STMT-MT-1");
        let rows = entry_refs(&s);
        assert_eq!(rows[0].0, "B1");
        assert!(rows[0].1.contains("ORD-1"), "{rows:?}");
        assert_eq!((rows[0].2.as_str(), rows[0].3), ("12.50 MYR", true));
        assert_eq!((rows[1].2.as_str(), rows[1].3), ("2.00 MYR", false));
        assert_eq!(s.entries[0].booking_date, "2026-12-01");
    }

    #[test]
    fn an_mt940_reads_reversals_as_swift_marks_them() {
        // `RC` reverses a credit (the money went back out), `RD` a debit (it came back in);
        // the bank's closing balance counts them so.
        let text = ":20:STMT-RV-1\r\n:25:MY00TEST0001\r\n:28C:1/1\r\n\
                    :60F:C261201MYR1000,00\r\n\
                    :61:2612011201C12,50NTRFORD-1//B1\r\n:86:order ORD-1\r\n\
                    :61:2612011201RC12,50NRTIORD-1//B2\r\n:86:returned ORD-1\r\n\
                    :61:2612011201RD5,00NMSCNONREF//B3\r\n:86:fee refund\r\n\
                    :62F:C261201MYR1005,00\r\n";
        let s = parse(text.as_bytes(), None, &CsvLayout::default()).unwrap();
        let marks: Vec<_> = s.entries.iter().map(|e| (e.credit, e.reversal)).collect();
        assert_eq!(marks, vec![(true, false), (false, true), (true, true)]);
        // The fixture writes the same marks.
        let written = fixtures::mt940_marked(&[
            ("B1", "ORD-1", "12.50", fixtures::Mark::Credit),
            ("B2", "ORD-1", "12.50", fixtures::Mark::ReversedCredit),
            ("B3", "ORD-2", "5.00", fixtures::Mark::ReversedDebit),
        ]);
        let s = parse(written.as_bytes(), None, &CsvLayout::default()).unwrap();
        let again: Vec<_> = s.entries.iter().map(|e| (e.credit, e.reversal)).collect();
        assert_eq!(again, marks);
    }

    #[test]
    fn a_camt053_reads_its_reversals() {
        let text = fixtures::camt053_marked(
            &[
                ("B1", "ORD-1", "12.50", "MYR", fixtures::Mark::Credit),
                (
                    "B2",
                    "ORD-1",
                    "12.50",
                    "MYR",
                    fixtures::Mark::ReversedCredit,
                ),
                ("B3", "ORD-2", "5.00", "MYR", fixtures::Mark::ReversedDebit),
            ],
            false,
        );
        let s = parse(text.as_bytes(), None, &CsvLayout::default()).unwrap();
        let marks: Vec<_> = s.entries.iter().map(|e| (e.credit, e.reversal)).collect();
        assert_eq!(marks, vec![(true, false), (false, true), (true, true)]);
        let odd = text.replacen("<RvslInd>true", "<RvslInd>maybe", 1);
        let err = parse(odd.as_bytes(), None, &CsvLayout::default()).unwrap_err();
        assert!(err.to_string().contains("entry 2: RvslInd"), "{err}");
    }

    #[test]
    fn a_csv_report_reads_in_the_default_or_a_configured_layout() {
        let text = "booking_date,reference,amount,currency,credit_debit,entry_ref\n\
                    2026-12-01,ORD-1,12.50,MYR,C,B1\n2026-12-01,fees,-1.00,MYR,D,B2\n";
        let s = parse(
            text.as_bytes(),
            Some(StatementFormat::Csv),
            &CsvLayout::default(),
        )
        .unwrap();
        assert_eq!(
            entry_refs(&s),
            vec![
                ("B1", "ORD-1", "12.50 MYR".to_string(), true),
                ("B2", "fees", "1.00 MYR".to_string(), false)
            ]
        );
        let layout = CsvLayout {
            booking_date: "Buchungstag".into(),
            reference: "Verwendungszweck".into(),
            amount: "Betrag".into(),
            currency: "Waehrung".into(),
            direction: "none".into(),
            entry_ref: "Referenz".into(),
            reversal: "Storno".into(),
            delimiter: ';',
            decimal_mark: ',',
        };
        let german = "Buchungstag;Verwendungszweck;Betrag;Waehrung;Referenz\n2026-12-01;ORD-9;1234,56;EUR;X1\n";
        let s = parse(german.as_bytes(), Some(StatementFormat::Csv), &layout).unwrap();
        assert_eq!(
            entry_refs(&s),
            vec![("X1", "ORD-9", "1234.56 EUR".to_string(), true)]
        );
        let bad = "booking_date,reference,amount,currency\nyesterday,ORD-1,1.00,MYR\n";
        let err = parse(
            bad.as_bytes(),
            Some(StatementFormat::Csv),
            &CsvLayout::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        // A reversal column, where the bank writes one.
        let marked = "Buchungstag;Verwendungszweck;Betrag;Waehrung;Referenz;Storno\n\
                      2026-12-01;ORD-9;1234,56;EUR;X1;\n2026-12-01;ORD-9;-1234,56;EUR;X2;ja\n";
        let err = parse(marked.as_bytes(), Some(StatementFormat::Csv), &layout).unwrap_err();
        assert!(err.to_string().contains("line 3: reversal \"ja\""), "{err}");
        let marked = marked.replace(";ja", ";YES");
        let s = parse(marked.as_bytes(), Some(StatementFormat::Csv), &layout).unwrap();
        let marks: Vec<_> = s.entries.iter().map(|e| (e.credit, e.reversal)).collect();
        assert_eq!(marks, vec![(true, false), (false, true)]);
    }
}
