//! Person names (họ và tên): text standardised, then each word capitalised the
//! Vietnamese way.

use crate::text::rules as text_rules;
use crate::{join_notes, standardize, Outcome, Standardized};

/// Standardises a person's name (`NGUYỄN văn  an` → `Nguyễn Văn An`); legacy TCVN3 and
/// VNI text is converted first. `invalid` when empty or holding digits.
pub fn person_name(s: &str) -> Standardized {
    standardize(s, rules)
}

fn rules(s: &str) -> Outcome {
    let (text, text_note) = text_rules(s);
    if text.is_empty() {
        return Err("empty name".into());
    }
    if text.chars().any(char::is_numeric) {
        return Err("a name has no digits".into());
    }
    if !text.chars().any(char::is_alphabetic) {
        return Err("no letters".into());
    }
    let capitalised = capitalise(&text);
    let case_note = if capitalised == text { "" } else { "capitalised" };
    Ok((capitalised, join_notes([text_note.as_str(), case_note])))
}

/// Upper case at the start of each word and after a hyphen or apostrophe
/// (`H'mông` → `H'Mông`), lower case elsewhere.
fn capitalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c.is_whitespace() || matches!(c, '-' | '\'' | '’');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn names_are_capitalised() {
        let cases = [
            ("NGUYỄN văn  an", "Nguyễn Văn An", Status::Fixed),
            ("Nguyễn Văn An", "Nguyễn Văn An", Status::Ok),
            ("trần thị thuỷ", "Trần Thị Thuỷ", Status::Fixed),
            ("  lê   QUÝ đôn ", "Lê Quý Đôn", Status::Fixed),
            ("đặng thị ánh tuyết", "Đặng Thị Ánh Tuyết", Status::Fixed),
            ("ksor h'luân", "Ksor H'Luân", Status::Fixed),
            ("NguyÔn V\u{A8}n §øc", "Nguyễn Văn Đức", Status::Fixed),
            ("Phaïm Thò Ngoïc AÙnh", "Phạm Thị Ngọc Ánh", Status::Fixed),
            ("Hoµng ThÞ Lan", "Hoàng Thị Lan", Status::Fixed),
        ];
        for (input, output, status) in cases {
            let r = person_name(input);
            assert_eq!((r.output.as_str(), r.status), (output, status), "{input}: {}", r.note);
        }
    }

    #[test]
    fn names_with_digits_or_nothing_are_invalid() {
        for input in ["", "   ", "Nguyễn Văn 2", "0912345678", "--"] {
            let r = person_name(input);
            assert_eq!((r.output.as_str(), r.status), (input, Status::Invalid), "{input}");
            assert!(!r.note.is_empty());
        }
    }
}
