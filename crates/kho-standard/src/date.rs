//! Dates (ngày tháng) in the Vietnamese forms, to ISO `yyyy-mm-dd`.

use chrono::NaiveDate;

use crate::{standardize, Outcome, Standardized};

/// Standardises a date to ISO `yyyy-mm-dd`. Reads day first (`05/03/2024`, `5/3/2024`,
/// `05-03-2024`, `05.03.2024`), ISO (`2024-03-05`, `2024/03/05`) and the written form
/// `ngày 5 tháng 3 năm 2024` (with or without diacritics), also followed by a midnight
/// time (`05/03/2024 00:00:00`, as spreadsheets write dates). Years have four digits;
/// an impossible date (`31/02/2024`) is `invalid`.
pub fn date(s: &str) -> Standardized {
    standardize(s, rules)
}

fn rules(s: &str) -> Outcome {
    let folded = kho_vn::fold(s.trim());
    let mut words: Vec<&str> = folded.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    // `05/03/2024 00:00:00`: a spreadsheet's date-time at midnight.
    if let Some(time) = words.last().filter(|w| w.contains(':')) {
        if !time.split(':').all(|t| !t.is_empty() && t.bytes().all(|b| b == b'0')) {
            return Err("a date with a time of day".into());
        }
        words.pop();
    }
    let (year, month, day) = if words.iter().any(|w| matches!(*w, "ngay" | "thang" | "nam")) {
        written(&words)?
    } else {
        let [part] = words.as_slice() else {
            return Err("not a date".into());
        };
        numeric(part)?
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("no such date: day {day}, month {month}, year {year}"))?;
    let output = date.format("%Y-%m-%d").to_string();
    let note = if output == s { "" } else { "written as yyyy-mm-dd" };
    Ok((output, note.into()))
}

/// `ngày 5 tháng 3 năm 2024`, folded into words.
fn written(words: &[&str]) -> Result<(i32, u32, u32), String> {
    let mut day = None;
    let mut month = None;
    let mut year = None;
    let mut i = 0;
    while i < words.len() {
        let slot = match words[i] {
            "ngay" => &mut day,
            "thang" => &mut month,
            "nam" => &mut year,
            w => return Err(format!("unexpected word '{w}'")),
        };
        let value = words.get(i + 1).ok_or("a number is missing")?;
        if slot.replace(*value).is_some() {
            return Err("a part is given twice".into());
        }
        i += 2;
    }
    match (day, month, year) {
        (Some(d), Some(m), Some(y)) => Ok((year_of(y)?, number(m)?, number(d)?)),
        _ => Err("day, month and year are all needed".into()),
    }
}

/// `dd/mm/yyyy` (also with `-` or `.`, one or two digits) or `yyyy-mm-dd`.
fn numeric(part: &str) -> Result<(i32, u32, u32), String> {
    let sep = part.chars().find(|c| matches!(c, '/' | '-' | '.')).ok_or("not a date")?;
    let fields: Vec<&str> = part.split(sep).collect();
    let [a, b, c] = fields.as_slice() else {
        return Err("a date has three parts".into());
    };
    if a.len() == 4 && sep != '.' {
        Ok((year_of(a)?, number(b)?, number(c)?))
    } else {
        Ok((year_of(c)?, number(b)?, number(a)?))
    }
}

fn number(s: &str) -> Result<u32, String> {
    if (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().map_err(|_| format!("'{s}' is not a day or month"))
    } else {
        Err(format!("'{s}' is not a day or month"))
    }
}

fn year_of(s: &str) -> Result<i32, String> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().map_err(|_| format!("'{s}' is not a year"))
    } else {
        Err(format!("'{s}' is not a four-digit year"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn vietnamese_dates_become_iso() {
        let cases = [
            ("05/03/2024", "2024-03-05", Status::Fixed),
            ("5/3/2024", "2024-03-05", Status::Fixed),
            ("05-03-2024", "2024-03-05", Status::Fixed),
            ("05.03.2024", "2024-03-05", Status::Fixed),
            ("2024-03-05", "2024-03-05", Status::Ok),
            ("2024/3/5", "2024-03-05", Status::Fixed),
            ("ngày 5 tháng 3 năm 2024", "2024-03-05", Status::Fixed),
            ("Ngày 05 tháng 03 năm 2024", "2024-03-05", Status::Fixed),
            ("ngay 29 thang 2 nam 2024", "2024-02-29", Status::Fixed),
            (" 31/12/1999 ", "1999-12-31", Status::Fixed),
            ("05/03/2024 00:00:00", "2024-03-05", Status::Fixed),
            ("2024-03-05 0:00", "2024-03-05", Status::Fixed),
        ];
        for (input, output, status) in cases {
            let r = date(input);
            assert_eq!((r.output.as_str(), r.status), (output, status), "{input}: {}", r.note);
        }
    }

    #[test]
    fn impossible_dates_are_invalid() {
        let cases = [
            ("31/02/2024", "no such date: day 31, month 2, year 2024"),
            ("29/02/2023", "no such date: day 29, month 2, year 2023"),
            ("05/13/2024", "no such date: day 5, month 13, year 2024"),
            ("5/3/24", "'24' is not a four-digit year"),
            ("ngày 5 tháng 3", "day, month and year are all needed"),
            ("hôm qua", "not a date"),
            ("", "not a date"),
            ("2024-03", "a date has three parts"),
            ("05/03/2024 08:30", "a date with a time of day"),
        ];
        for (input, note) in cases {
            let r = date(input);
            assert_eq!((r.status, r.note.as_str()), (Status::Invalid, note), "{input}");
        }
    }
}
