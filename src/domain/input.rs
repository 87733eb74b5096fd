//! Bad input, and the rules text fields are held to: one set of checks shared by the
//! browser's forms, the CLI's flags and the workflows' update validators, so each refuses
//! with the same words.

use serde::{Deserialize, Serialize};

/// Longest order id we accept: ids go into workflow ids and search attributes.
pub const MAX_ORDER_ID_LEN: usize = 64;
/// Longest free-text note on a resolution.
pub const MAX_NOTE_LEN: usize = 500;
/// Longest reason code or operator name.
pub const MAX_CODE_LEN: usize = 64;
/// Longest customer or plan name.
pub const MAX_NAME_LEN: usize = 128;

/// Bad input, said so that the person who typed it knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum InputError {
    #[error("the order id is empty: give the id the gateway sent, e.g. ORD-1001")]
    EmptyOrderId,
    #[error("the order id {0:?} is too long: at most {MAX_ORDER_ID_LEN} characters are allowed")]
    OrderIdTooLong(String),
    #[error(
        "the order id {0:?} has characters other than letters, digits, '-', '_' and '.': remove them"
    )]
    OrderIdCharacters(String),
    #[error("the order id {0:?} is only dots: give the id the gateway sent")]
    OrderIdDots(String),
    #[error("the {field} is empty: it is required")]
    Missing { field: &'static str },
    #[error("the {field} is {len} characters long: at most {max} are allowed")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the {field} {value:?} may only hold letters, digits, '-', '_' and '.'")]
    BadCode { field: &'static str, value: String },
    #[error("{0:?} is reserved for the upstream's own verdicts: choose another name")]
    ReservedName(String),
    #[error("the {field} may not hold control characters")]
    ControlCharacters { field: &'static str },
    /// A person's name that would read like another: `why` says how (`begins or ends with
    /// a space`, …).
    #[error("the {field} {why}: write it as it reads, so no two names look alike")]
    LookAlikeName {
        field: &'static str,
        why: &'static str,
    },
    /// A number outside its bounds: `range` says them (`between 1 and 100`, `above zero`).
    #[error("the {field} must be {range}, not {value}")]
    OutOfRange {
        field: &'static str,
        value: String,
        range: String,
    },
    /// A word that is not one of a fixed set: `what` is `a resolution`, `choices` the set.
    #[error("{value:?} is not {what}: use {choices}")]
    NotOneOf {
        what: &'static str,
        value: String,
        choices: &'static str,
    },
    /// A value of the wrong shape: `what` is `an IANA time zone`, `hint` how to write one.
    #[error("{value:?} is not {what}: {hint}")]
    Malformed {
        what: &'static str,
        value: String,
        hint: String,
    },
}

impl InputError {
    pub fn out_of_range(field: &'static str, value: impl ToString, range: impl ToString) -> Self {
        InputError::OutOfRange {
            field,
            value: value.to_string(),
            range: range.to_string(),
        }
    }

    pub fn not_one_of(what: &'static str, value: &str, choices: &'static str) -> Self {
        InputError::NotOneOf {
            what,
            value: short(value),
            choices,
        }
    }

    pub fn malformed(what: &'static str, value: &str, hint: impl ToString) -> Self {
        InputError::Malformed {
            what,
            value: short(value),
            hint: hint.to_string(),
        }
    }
}

/// The first characters of a bad input, for an error message: enough to recognise it.
pub fn short(text: &str) -> String {
    const QUOTED: usize = 40;
    match text.char_indices().nth(QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Which characters a text field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Characters {
    /// Letters, digits, `-`, `_` and `.`: codes that travel in ids and attributes.
    Code,
    /// Any text on one line: no control characters.
    Line,
    /// Free text: line breaks and tabs too, no other control characters.
    Text,
}

/// The rules of one text field: its name (as errors say it), whether it may be empty, its
/// longest length in characters, and the characters it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    pub field: &'static str,
    pub required: bool,
    pub max: usize,
    pub characters: Characters,
}

impl TextRule {
    pub fn check(&self, value: &str) -> Result<(), InputError> {
        let field = self.field;
        if value.trim().is_empty() {
            return match self.required {
                true => Err(InputError::Missing { field }),
                false => Ok(()),
            };
        }
        let len = value.chars().count();
        if len > self.max {
            return Err(InputError::TooLong {
                field,
                len,
                max: self.max,
            });
        }
        let fits = |c: char| match self.characters {
            Characters::Code => c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
            Characters::Line => !c.is_control(),
            Characters::Text => !c.is_control() || matches!(c, '\n' | '\r' | '\t'),
        };
        match value.chars().all(fits) {
            true => Ok(()),
            false if self.characters == Characters::Code => Err(InputError::BadCode {
                field,
                value: short(value),
            }),
            false => Err(InputError::ControlCharacters { field }),
        }
    }
}

/// A resolution's reason code (`BANK_CONFIRMED`).
pub const REASON_CODE: TextRule = TextRule {
    field: "reason code",
    required: true,
    max: MAX_CODE_LEN,
    characters: Characters::Code,
};
/// Who did it: it goes into history, so it must be there.
pub const OPERATOR: TextRule = TextRule {
    field: "operator name",
    required: true,
    max: MAX_CODE_LEN,
    characters: Characters::Line,
};
/// The gateway's reference of an order (what a statement quotes back).
pub const GATEWAY_REFERENCE: TextRule = TextRule {
    field: "reference",
    required: false,
    max: MAX_CODE_LEN,
    characters: Characters::Line,
};
/// A free-text note on a resolution, a rejection or a take-over.
pub const NOTE: TextRule = TextRule {
    field: "note",
    required: false,
    max: MAX_NOTE_LEN,
    characters: Characters::Text,
};
/// Why a contract was paused, resumed or cancelled.
pub const CHANGE_REASON: TextRule = TextRule {
    field: "reason",
    required: false,
    max: MAX_NOTE_LEN,
    characters: Characters::Text,
};
pub const CUSTOMER: TextRule = TextRule {
    field: "customer",
    required: true,
    max: MAX_NAME_LEN,
    characters: Characters::Line,
};
pub const PLAN: TextRule = TextRule {
    field: "plan",
    required: true,
    max: MAX_NAME_LEN,
    characters: Characters::Line,
};
/// An order's environment name, as the Go original's `-e` gives it.
pub const ENVIRONMENT: TextRule = TextRule {
    field: "environment",
    required: true,
    max: MAX_CODE_LEN,
    characters: Characters::Code,
};

/// Checks an operator's name: who did it goes into history, so it must be there, and it
/// must read as one name only ([`look_alike`]). The update validators, the CLI, the console
/// and the accounts file hold every new name to this.
pub fn validate_operator(name: &str) -> Result<(), InputError> {
    OPERATOR.check(name)?;
    match look_alike(name) {
        Some(why) => Err(InputError::LookAlikeName {
            field: OPERATOR.field,
            why,
        }),
        None => Ok(()),
    }
}

/// The operator rule as it stood before names had to read as one ([`OPERATOR`] alone), for
/// the workflow code that replays requests recorded under it: an update handler re-reading
/// the request its validator passed, a signal recorded before the stricter rule.
pub fn validate_recorded_operator(name: &str) -> Result<(), InputError> {
    OPERATOR.check(name)
}

/// Why `name` could be read as another name, if it could: a space at either end, two
/// spaces together or a space other than a plain one (a page shows `ana `, `ana` and
/// `a\u{a0}na` alike), or a character that shows nothing (a zero-width space, a direction
/// mark: `bo\u{200b}` reads as `bo`). A record that says who acted must name one person.
pub fn look_alike(name: &str) -> Option<&'static str> {
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Some("begins or ends with a space");
    }
    if name.chars().any(|c| c.is_whitespace() && c != ' ') || name.contains("  ") {
        return Some("has two spaces together or a space other than a plain one");
    }
    if name.chars().any(is_default_ignorable) {
        return Some(
            "holds a character that shows nothing (a zero-width space or joiner, a direction mark)",
        );
    }
    None
}

/// The name a person's own records show, made to read as one ([`look_alike`]): spaces
/// trimmed and single, characters that show nothing dropped. For names that come from
/// elsewhere (a company's identity provider), which the console cannot send back.
pub fn plain_name(name: &str) -> String {
    name.split(char::is_whitespace)
        .map(|word| {
            word.chars()
                .filter(|c| !is_default_ignorable(*c))
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, Unicode 15.1):
/// characters a renderer shows as nothing. Written out because no crate in the build has
/// the property (a general-category table would miss some and include visible ones), and
/// the list changes rarely and only by additions in the reserved ranges it already covers.
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// A free-text note: at most [`MAX_NOTE_LEN`] characters.
pub fn validate_note(note: &str) -> Result<(), InputError> {
    NOTE.check(note)
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Checks an order id (or contract id) before it goes near Temporal.
pub fn validate_order_id(id: &str) -> Result<(), InputError> {
    if id.is_empty() {
        return Err(InputError::EmptyOrderId);
    }
    if id.chars().count() > MAX_ORDER_ID_LEN {
        return Err(InputError::OrderIdTooLong(short(id)));
    }
    if !id.chars().all(is_id_char) {
        return Err(InputError::OrderIdCharacters(short(id)));
    }
    // `.` and `..` are path segments of their own in a URL: `/orders/../status` is `/status`.
    if id.chars().all(|c| c == '.') {
        return Err(InputError::OrderIdDots(id.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_reads_like_another_is_refused_and_a_plain_one_taken() {
        for name in [
            "ana ",
            " ana",
            "a  na",
            "a\u{a0}na",
            "bo\u{200b}",
            "\u{202e}ana",
            "an\u{ad}a",
        ] {
            let err = validate_operator(name).expect_err(name).to_string();
            assert!(err.contains("no two names look alike"), "{name:?}: {err}");
            // What replays keeps taking what it took before.
            assert!(validate_recorded_operator(name).is_ok(), "{name:?}");
        }
        for name in [
            "ana",
            "Ana Lima",
            "José",
            "Jose\u{301}",
            "李小龙",
            "o'brien-smith",
        ] {
            assert!(validate_operator(name).is_ok(), "{name:?}");
            assert_eq!(plain_name(name), name);
        }
        assert_eq!(plain_name("  Ana\u{200b}   Lima\u{a0}"), "Ana Lima");
        assert_eq!(plain_name("\u{200b}"), "");
    }

    #[test]
    fn order_ids_are_checked_before_they_reach_temporal() {
        assert!(validate_order_id("ORD-1001").is_ok());
        assert_eq!(validate_order_id(""), Err(InputError::EmptyOrderId));
        assert!(matches!(
            validate_order_id("a b"),
            Err(InputError::OrderIdCharacters(_))
        ));
        assert!(matches!(
            validate_order_id(&"x".repeat(65)),
            Err(InputError::OrderIdTooLong(_))
        ));
        assert!(validate_order_id("<script>").is_err());
        for dots in [".", "..", "..."] {
            assert_eq!(
                validate_order_id(dots),
                Err(InputError::OrderIdDots(dots.into()))
            );
        }
        assert!(validate_order_id("a..b").is_ok());
        // A 10,000-character id is quoted by its first characters only.
        let long = validate_order_id(&"x".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(long.len() < 200, "{long}");
    }

    #[test]
    fn each_text_rule_says_which_field_and_what_is_wrong() {
        let cases: [(TextRule, &str, &str); 7] = [
            (REASON_CODE, "", "the reason code is empty"),
            (REASON_CODE, "two words", "may only hold letters"),
            (OPERATOR, "ana\u{7}", "control characters"),
            (OPERATOR, &"a".repeat(MAX_CODE_LEN + 1), "at most 64"),
            (
                NOTE,
                &"n".repeat(MAX_NOTE_LEN + 1),
                "the note is 501 characters",
            ),
            (NOTE, "a\u{0}b", "control characters"),
            (CUSTOMER, " ", "the customer is empty"),
        ];
        for (rule, value, says) in cases {
            let err = rule.check(value).unwrap_err().to_string();
            assert!(err.contains(says), "{:?} on {value:?}: {err}", rule.field);
        }
        for (rule, value) in [
            (NOTE, ""),
            (NOTE, "line one\nline two\ttabbed"),
            (OPERATOR, "O'Neil"),
            (OPERATOR, "José"),
            (OPERATOR, "ana+ops@example.com"),
            (REASON_CODE, "BANK_CONFIRMED"),
        ] {
            assert_eq!(rule.check(value), Ok(()), "{:?} on {value:?}", rule.field);
        }
    }
}
