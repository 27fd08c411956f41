//! Citizen identity numbers: the 12-digit CCCD (căn cước công dân) and its structure,
//! and the old 9-digit CMND (chứng minh nhân dân), recognised as such.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use kho_refdata::AdminUnits;

use crate::{standardize, Outcome, Standardized};

/// Giới tính — the sex written in the 4th digit of a CCCD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

/// What the first six digits of a CCCD say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenId {
    /// The 12 digits.
    pub number: String,
    /// Mã tỉnh nơi đăng ký khai sinh: `0` and the two-digit code of a province of
    /// the legacy (pre-2025) list, e.g. `001` Hà Nội, `079` TP Hồ Chí Minh.
    pub province_code: String,
    pub sex: Sex,
    /// The year of birth: century from the 4th digit, year from the 5th and 6th.
    pub birth_year: u16,
}

/// Reads a 12-digit CCCD (spaces, dots and dashes ignored); the error says what is
/// wrong with it.
pub fn parse_citizen_id(s: &str) -> Result<CitizenId, String> {
    let digits = digits_of(s)?;
    if digits.len() != 12 {
        return Err(format!("a CCCD has 12 digits, not {}", digits.len()));
    }
    let b = digits.as_bytes();
    let province = &digits[1..3];
    if b[0] != b'0' || !province_codes().contains(province) {
        return Err(format!("{} is not a province code", &digits[..3]));
    }
    let gender = b[3] - b'0';
    let century: u16 = match gender {
        0 | 1 => 1900,
        2 | 3 => 2000,
        4 | 5 => 2100,
        6 | 7 => 2200,
        _ => 1800,
    };
    if century > 2000 {
        return Err(format!("digit 4 ({gender}) gives a birth year in the {century}s"));
    }
    let birth_year = century + u16::from(b[4] - b'0') * 10 + u16::from(b[5] - b'0');
    let sex = if gender.is_multiple_of(2) { Sex::Male } else { Sex::Female };
    Ok(CitizenId { province_code: digits[..3].to_owned(), sex, birth_year, number: digits })
}

/// Standardises a citizen ID: a CCCD is checked (province code, 4th digit, birth year,
/// and the year against `dob` when given); a 9-digit CMND is `ok` with a note saying
/// so. Spaces, dots and dashes are dropped.
pub fn citizen_id(s: &str, dob: Option<NaiveDate>) -> Standardized {
    standardize(s, |s| rules(s, dob))
}

fn rules(s: &str, dob: Option<NaiveDate>) -> Outcome {
    let digits = digits_of(s)?;
    if digits.len() == 9 {
        return Ok((digits, "CMND (9 digits), not a CCCD".into()));
    }
    let id = parse_citizen_id(&digits)?;
    if let Some(dob) = dob {
        if i32::from(id.birth_year) != dob.year() {
            return Err(format!("birth year {} in the ID does not match the date of birth {dob}", id.birth_year));
        }
    }
    let note = if id.number == s { String::new() } else { "separators removed".into() };
    Ok((id.number, note))
}

fn digits_of(s: &str) -> Result<String, String> {
    let mut digits = String::with_capacity(12);
    for c in s.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' => {}
            _ => return Err(format!("unexpected character '{c}'")),
        }
    }
    if digits.is_empty() {
        return Err("no digits".into());
    }
    if digits.len() != 9 && digits.len() != 12 {
        return Err(format!("a CCCD has 12 digits (a CMND 9), not {}", digits.len()));
    }
    Ok(digits)
}

/// The two-digit codes of the legacy provinces, from the reference data: a CCCD starts
/// with `0` and one of them (the province of birth registration).
pub fn province_codes() -> &'static std::collections::HashSet<String> {
    static CODES: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    CODES.get_or_init(|| AdminUnits::embedded().legacy_communes().iter().map(|c| c.province_code.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn the_legacy_list_gives_63_province_codes() {
        let codes = province_codes();
        assert_eq!(codes.len(), 63);
        assert!(codes.contains("01") && codes.contains("79") && codes.contains("24"));
    }

    #[test]
    fn cccd_structure_is_read() {
        let id = parse_citizen_id("001 090 012 345").unwrap();
        assert_eq!((id.province_code.as_str(), id.sex, id.birth_year), ("001", Sex::Male, 1990));
        let id = parse_citizen_id("079305001234").unwrap();
        assert_eq!((id.province_code.as_str(), id.sex, id.birth_year), ("079", Sex::Female, 2005));
        let id = parse_citizen_id("024199000001").unwrap();
        assert_eq!((id.sex, id.birth_year), (Sex::Female, 1999));
    }

    #[test]
    fn citizen_ids_are_checked() {
        let cases = [
            ("001090012345", None, "001090012345", Status::Ok, ""),
            ("001 090 012 345", None, "001090012345", Status::Fixed, "separators removed"),
            ("001.090.012.345", day(1990, 5, 1), "001090012345", Status::Fixed, "separators removed"),
            ("079305001234", day(2005, 12, 31), "079305001234", Status::Ok, ""),
            ("123456789", None, "123456789", Status::Ok, "CMND (9 digits), not a CCCD"),
            ("123 456 789", None, "123456789", Status::Fixed, "CMND (9 digits), not a CCCD"),
        ];
        for (input, dob, output, status, note) in cases {
            let r = citizen_id(input, dob);
            assert_eq!((r.output.as_str(), r.status, r.note.as_str()), (output, status, note), "{input}");
        }
    }

    #[test]
    fn wrong_citizen_ids_are_invalid_with_a_reason() {
        let cases = [
            ("", None, "no digits"),
            ("00109001234", None, "a CCCD has 12 digits (a CMND 9), not 11"),
            ("0010900123456", None, "a CCCD has 12 digits (a CMND 9), not 13"),
            ("003090012345", None, "003 is not a province code"),
            ("101090012345", None, "101 is not a province code"),
            ("001490012345", None, "digit 4 (4) gives a birth year in the 2100s"),
            ("001090012345", day(1991, 1, 1), "birth year 1990 in the ID does not match the date of birth 1991-01-01"),
            ("001290012345", day(1990, 1, 1), "birth year 2090 in the ID does not match the date of birth 1990-01-01"),
            ("00109001234X", None, "unexpected character 'X'"),
        ];
        for (input, dob, note) in cases {
            let r = citizen_id(input, dob);
            assert_eq!((r.output.as_str(), r.status, r.note.as_str()), (input, Status::Invalid, note), "{input}");
        }
    }
}
