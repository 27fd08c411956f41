//! Phone numbers (số điện thoại) in E.164 (`+84…`), with the old 11-digit mobile
//! numbers moved to the 10-digit plan of 2018.

use crate::{standardize, Outcome, Standardized};

/// Old mobile prefixes (without the trunk `0`) and their 2018 replacements.
const OLD_MOBILE: [(&str, &str); 21] = [
    ("120", "70"),
    ("121", "79"),
    ("122", "77"),
    ("126", "76"),
    ("128", "78"),
    ("123", "83"),
    ("124", "84"),
    ("125", "85"),
    ("127", "81"),
    ("129", "82"),
    ("162", "32"),
    ("163", "33"),
    ("164", "34"),
    ("165", "35"),
    ("166", "36"),
    ("167", "37"),
    ("168", "38"),
    ("169", "39"),
    ("186", "56"),
    ("188", "58"),
    ("199", "59"),
];

/// Mobile prefixes (đầu số di động) in use since 2018, without the trunk `0`.
const MOBILE: [&str; 36] = [
    "32", "33", "34", "35", "36", "37", "38", "39", "52", "55", "56", "58", "59", "70", "76", "77", "78", "79", "81",
    "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "96", "97", "98", "99",
];

/// Standardises a Vietnamese phone number to E.164 (`0912 345 678` → `+84912345678`).
/// Spaces, dots, dashes and parentheses are ignored; `0`, `84`, `+84` and `0084` are
/// read as the country and trunk prefixes (also `+84 (0) …`). Mobiles have 9 digits after `+84`,
/// landlines (`02…`, area codes of 2 or 3 digits after the `0`) have 10.
pub fn phone(s: &str) -> Standardized {
    standardize(s, rules)
}

fn rules(s: &str) -> Outcome {
    let s = s.trim();
    let mut digits = String::with_capacity(s.len());
    let mut plus = false;
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            '+' if digits.is_empty() && !plus => plus = true,
            _ => return Err(format!("unexpected character '{c}'")),
        }
    }
    if digits.is_empty() {
        return Err("no digits".into());
    }
    let national = if plus {
        digits.strip_prefix("84").ok_or("not a Vietnamese number (country code is not +84)")?
    } else if let Some(rest) = digits.strip_prefix("0084") {
        rest
    } else if let Some(rest) = digits.strip_prefix('0') {
        return national_number(rest).map(|(n, note)| (format!("+84{n}"), note));
    } else if digits.len() >= 11 && digits.starts_with("84") {
        &digits[2..]
    } else {
        // A leading zero lost in a spreadsheet.
        &digits
    };
    // `+84 (0) 912 …`: the trunk 0 written after the country code.
    let national = national.strip_prefix('0').unwrap_or(national);
    let (national, note) = national_number(national)?;
    let output = format!("+84{national}");
    let note = if output == s { String::new() } else { note };
    Ok((output, note))
}

/// The national significant number (without `0`) and a note, or why it is invalid.
fn national_number(n: &str) -> Result<(String, String), String> {
    let len = n.len();
    match n.as_bytes().first() {
        None => Err("no digits after the prefix".into()),
        Some(b'1') => {
            let Some((old, new)) = OLD_MOBILE.iter().find(|(old, _)| n.starts_with(old)) else {
                return Err(format!("unknown prefix 0{}", &n[..len.min(3)]));
            };
            if len != 10 {
                return Err(format!("an old mobile number 0{old}… has 11 digits, not {}", len + 1));
            }
            Ok((format!("{new}{}", &n[3..]), format!("old mobile prefix 0{old} changed to 0{new}")))
        }
        Some(b'2') if len == 10 => Ok((n.to_owned(), "formatted as E.164".into())),
        Some(b'2') => Err(format!("a landline number has 11 digits with its 0, not {}", len + 1)),
        Some(_) if !MOBILE.iter().any(|p| n.starts_with(p)) => Err(format!("unknown prefix 0{}", &n[..len.min(2)])),
        Some(_) if len == 9 => Ok((n.to_owned(), "formatted as E.164".into())),
        Some(_) => Err(format!("a mobile number has 10 digits with its 0, not {}", len + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn phones_become_e164() {
        let cases = [
            ("0912345678", "+84912345678", Status::Fixed),
            ("0912 345 678", "+84912345678", Status::Fixed),
            ("0912.345.678", "+84912345678", Status::Fixed),
            ("(+84) 912-345-678", "+84912345678", Status::Fixed),
            ("84912345678", "+84912345678", Status::Fixed),
            ("0084 912 345 678", "+84912345678", Status::Fixed),
            ("912345678", "+84912345678", Status::Fixed),
            ("+84912345678", "+84912345678", Status::Ok),
            ("0168 123 4567", "+84381234567", Status::Fixed),
            ("01201234567", "+84701234567", Status::Fixed),
            ("+84 199 123 4567", "+84591234567", Status::Fixed),
            ("0127.123.4567", "+84811234567", Status::Fixed),
            ("024 3825 1234", "+842438251234", Status::Fixed),
            ("(0208) 385 1234", "+842083851234", Status::Fixed),
            ("0389 123 456", "+84389123456", Status::Fixed),
            ("+84 (0) 912 345 678", "+84912345678", Status::Fixed),
        ];
        for (input, output, status) in cases {
            let r = phone(input);
            assert_eq!((r.output.as_str(), r.status), (output, status), "{input}: {}", r.note);
        }
        assert_eq!(phone("0168 123 4567").note, "old mobile prefix 0168 changed to 038");
    }

    #[test]
    fn wrong_phones_are_invalid_with_a_reason() {
        let cases = [
            ("", "no digits"),
            ("091234567", "a mobile number has 10 digits with its 0, not 9"),
            ("09123456789", "a mobile number has 10 digits with its 0, not 11"),
            ("0612345678", "unknown prefix 061"),
            ("0951234567", "unknown prefix 095"),
            ("01301234567", "unknown prefix 0130"),
            ("0168123456", "an old mobile number 0168… has 11 digits, not 10"),
            ("+1 202 555 0100", "not a Vietnamese number (country code is not +84)"),
            ("0912 345 678 ext 2", "unexpected character 'e'"),
            ("024 3825 123", "a landline number has 11 digits with its 0, not 10"),
        ];
        for (input, note) in cases {
            let r = phone(input);
            assert_eq!((r.status, r.note.as_str()), (Status::Invalid, note), "{input}");
        }
    }
}
