//! Tax codes (mã số thuế): 10 digits with a check digit, or 13 for a branch or
//! dependent unit, written `NNNNNNNNNN-NNN`.

use crate::{standardize, Outcome, Standardized};

const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// Standardises a tax code: 10 digits, or 13 written `NNNNNNNNNN-NNN` (`0100109106 001`
/// → `0100109106-001`); the 10th digit must be the check digit of the first nine
/// (10 − the weighted sum mod 11; a sum giving 10 has no valid check digit).
pub fn tax_code(s: &str) -> Standardized {
    standardize(s, rules)
}

fn rules(s: &str) -> Outcome {
    let mut digits = String::with_capacity(13);
    let mut dash_at = None;
    for c in s.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' => {}
            '-' if dash_at.is_none() => dash_at = Some(digits.len()),
            _ => return Err(format!("unexpected character '{c}'")),
        }
    }
    if dash_at.is_some_and(|at| at != 10) {
        return Err("the branch part starts after 10 digits".into());
    }
    let (main, branch) = match digits.len() {
        10 => (&digits[..], None),
        13 => (&digits[..10], Some(&digits[10..])),
        n => return Err(format!("a tax code has 10 or 13 digits, not {n}")),
    };
    if dash_at.is_some() && branch.is_none() {
        return Err("a dash but no branch part".into());
    }
    let sum: u32 = main.bytes().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let check = 10 - sum % 11;
    if check == 10 {
        return Err("no valid check digit for the first nine digits".into());
    }
    if u32::from(main.as_bytes()[9] - b'0') != check {
        return Err(format!("wrong check digit: the 10th digit should be {check}"));
    }
    if branch == Some("000") {
        return Err("branch number 000".into());
    }
    let output = match branch {
        Some(b) => format!("{main}-{b}"),
        None => main.to_owned(),
    };
    let note = if output == s { "" } else { "formatted" };
    Ok((output, note.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn tax_codes_are_checked_and_formatted() {
        let cases = [
            ("0100109106", "0100109106", Status::Ok),
            ("0100109106-001", "0100109106-001", Status::Ok),
            ("0100109106001", "0100109106-001", Status::Fixed),
            (" 0100 109 106 - 001 ", "0100109106-001", Status::Fixed),
            ("0100.109.106", "0100109106", Status::Fixed),
            ("0300588569", "0300588569", Status::Ok),
        ];
        for (input, output, status) in cases {
            let r = tax_code(input);
            assert_eq!((r.output.as_str(), r.status), (output, status), "{input}: {}", r.note);
        }
    }

    #[test]
    fn wrong_tax_codes_are_invalid_with_a_reason() {
        let cases = [
            ("0100109107", "wrong check digit: the 10th digit should be 6"),
            ("010010910", "a tax code has 10 or 13 digits, not 9"),
            ("01001091060012", "a tax code has 10 or 13 digits, not 14"),
            ("01001-09106001", "the branch part starts after 10 digits"),
            ("0100109106-", "a dash but no branch part"),
            ("0100109106-000", "branch number 000"),
            ("MST0100109106", "unexpected character 'M'"),
            // 1·31 + 2·23 = 77, 77 mod 11 = 0: no check digit exists.
            ("1020000001", "no valid check digit for the first nine digits"),
        ];
        for (input, note) in cases {
            let r = tax_code(input);
            assert_eq!((r.status, r.note.as_str()), (Status::Invalid, note), "{input}");
        }
    }
}
