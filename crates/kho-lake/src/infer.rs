//! Suy luận kiểu — column type inference that understands Vietnamese conventions:
//! numbers with `.` between thousands and `,` before decimals (`1.234.567,5`), dates
//! written `dd/mm/yyyy` or `dd-mm-yyyy`, `có`/`không` for yes/no, and codes with
//! leading zeros (`07210`, `0912345678`) kept as text.

use chrono::NaiveDate;

/// How numbers are written in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberStyle {
    /// `1.234.567,89` — the Vietnamese (and continental) convention.
    Vietnamese,
    /// `1,234,567.89` or `1234567.89`.
    International,
}

/// How dates are written in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// `31/12/2025` or `31-12-2025` (day first).
    DayFirst,
    /// `2025-12-31`.
    Iso,
}

/// The type a column gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer(NumberStyle),
    Decimal(NumberStyle),
    Date(DateStyle),
    Boolean,
    Text,
}

impl ColumnType {
    /// How a person would describe what the column expects, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Self::Integer(NumberStyle::Vietnamese) => "a whole number such as 1.234.567",
            Self::Integer(NumberStyle::International) => "a whole number such as 1234567",
            Self::Decimal(NumberStyle::Vietnamese) => "a number such as 1.234,5",
            Self::Decimal(NumberStyle::International) => "a number such as 1234.5",
            Self::Date(DateStyle::DayFirst) => "a date written dd/mm/yyyy",
            Self::Date(DateStyle::Iso) => "a date written yyyy-mm-dd",
            Self::Boolean => "có/không, true/false or yes/no",
            Self::Text => "text",
        }
    }
}

/// A parsed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Decimal(f64),
    Date(NaiveDate),
    Boolean(bool),
    Text(String),
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1.234.567` with `sep` = `.`: 1–3 digits, then groups of exactly three.
fn grouped(s: &str, sep: char) -> bool {
    let mut parts = s.split(sep);
    let first = parts.next().unwrap_or("");
    let mut groups = 0;
    for p in parts {
        if p.len() != 3 || !digits(p) {
            return false;
        }
        groups += 1;
    }
    groups > 0 && (1..=3).contains(&first.len()) && digits(first)
}

/// A leading zero on a multi-digit number marks a code, not a quantity.
fn is_code(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0') && s.as_bytes()[1].is_ascii_digit()
}

/// What one value could be read as.
#[derive(Debug, Default, Clone, Copy)]
struct Candidates {
    int_plain: bool,
    int_vn: bool,
    int_intl: bool,
    dec_vn: bool,
    dec_intl: bool,
    date_dmy: bool,
    date_iso: bool,
    boolean: bool,
}

fn split_sign(s: &str) -> &str {
    s.strip_prefix('-').or_else(|| s.strip_prefix('+')).unwrap_or(s)
}

fn candidates(raw: &str) -> Candidates {
    let v = raw.trim();
    let n = split_sign(v);
    let code = is_code(n.split([',', '.']).next().unwrap_or(""));
    let dec = |int_part: &str, frac: &str, sep: char| {
        digits(frac) && (digits(int_part) && !is_code(int_part) || grouped(int_part, sep))
    };
    Candidates {
        int_plain: digits(n) && !code,
        int_vn: grouped(n, '.'),
        int_intl: grouped(n, ','),
        dec_vn: n.split_once(',').is_some_and(|(i, f)| dec(i, f, '.')),
        dec_intl: n.split_once('.').is_some_and(|(i, f)| dec(i, f, ',')) && !n.ends_with('.'),
        date_dmy: parse_date(v, DateStyle::DayFirst).is_some(),
        date_iso: parse_date(v, DateStyle::Iso).is_some(),
        boolean: parse_bool(v).is_some(),
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "true" | "có" | "co" | "yes" | "đúng" => Some(true),
        "false" | "không" | "khong" | "no" | "sai" => Some(false),
        _ => None,
    }
}

fn parse_date(v: &str, style: DateStyle) -> Option<NaiveDate> {
    match style {
        DateStyle::DayFirst => {
            ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"].iter().find_map(|f| NaiveDate::parse_from_str(v, f).ok())
        }
        DateStyle::Iso => NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().filter(|_| v.len() == 10),
    }
}

/// Infers a column's type from sample values (empty values are ignored). When a
/// number like `1.234` could be read either way, the Vietnamese reading wins.
///
/// A few stray values do not turn a column into text: with at least ten values that
/// fit, up to one in fifty may not (at least one), so that a typo such as `31/02/2025`
/// in a date column is reported by the load instead of silently changing the type.
pub fn infer<'a>(values: impl IntoIterator<Item = &'a str>) -> ColumnType {
    // Misses per reading, in the order of preference below.
    let mut misses = [0usize; 8];
    let mut seen = 0usize;
    for v in values.into_iter().map(str::trim).filter(|v| !v.is_empty()) {
        seen += 1;
        let c = candidates(v);
        let fits = [
            c.boolean,
            c.date_iso,
            c.date_dmy,
            c.int_plain,
            c.int_plain || c.int_vn,
            c.int_plain || c.int_vn || c.dec_vn,
            c.int_plain || c.int_intl,
            c.int_plain || c.int_intl || c.dec_intl,
        ];
        for (m, fit) in misses.iter_mut().zip(fits) {
            *m += usize::from(!fit);
        }
    }
    use ColumnType::*;
    let readings = [
        Boolean,
        Date(DateStyle::Iso),
        Date(DateStyle::DayFirst),
        Integer(NumberStyle::Vietnamese),
        Integer(NumberStyle::Vietnamese),
        Decimal(NumberStyle::Vietnamese),
        Integer(NumberStyle::International),
        Decimal(NumberStyle::International),
    ];
    // Exact fits first; then fits that tolerate a few strays.
    for tolerance in [0, (seen / 50).max(1)] {
        for (reading, m) in readings.iter().zip(misses) {
            let enough = tolerance == 0 || seen - m >= 10;
            if seen > 0 && m <= tolerance && enough {
                return *reading;
            }
        }
    }
    Text
}

/// Reads one value as `ty`; `None` when it does not fit (the caller knows the file,
/// row and column, and [`ColumnType::expected`] says what would have).
pub fn parse(ty: ColumnType, raw: &str) -> Option<Cell> {
    let v = raw.trim();
    if v.is_empty() {
        return Some(Cell::Null);
    }
    let number = |style: NumberStyle| -> String {
        match style {
            NumberStyle::Vietnamese => v.replace('.', "").replace(',', "."),
            NumberStyle::International => v.replace(',', ""),
        }
    };
    match ty {
        ColumnType::Text => Some(Cell::Text(raw.to_string())),
        ColumnType::Boolean => parse_bool(v).map(Cell::Boolean),
        ColumnType::Date(style) => parse_date(v, style).map(Cell::Date),
        ColumnType::Integer(style) => {
            let c = candidates(v);
            let ok = c.int_plain
                || (style == NumberStyle::Vietnamese && c.int_vn)
                || (style == NumberStyle::International && c.int_intl);
            if !ok {
                return None;
            }
            number(style).parse().map(Cell::Integer).ok()
        }
        ColumnType::Decimal(style) => {
            let c = candidates(v);
            let ok = c.int_plain
                || match style {
                    NumberStyle::Vietnamese => c.int_vn || c.dec_vn,
                    NumberStyle::International => c.int_intl || c.dec_intl,
                };
            if !ok {
                return None;
            }
            number(style).parse().map(Cell::Decimal).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType::*;
    use NumberStyle::*;

    #[test]
    fn vietnamese_numbers_and_dates() {
        assert_eq!(infer(["1.234.567", "12", "3.500"]), Integer(Vietnamese));
        assert_eq!(infer(["1.234,5", "12", "0,75"]), Decimal(Vietnamese));
        assert_eq!(infer(["1234.5", "12.25"]), Decimal(International));
        assert_eq!(infer(["1,234,567", "89"]), Integer(International));
        assert_eq!(infer(["31/12/2025", "1/7/2025", ""]), Date(DateStyle::DayFirst));
        assert_eq!(infer(["31-12-2025"]), Date(DateStyle::DayFirst));
        assert_eq!(infer(["2025-07-01"]), Date(DateStyle::Iso));
        assert_eq!(infer(["Có", "không", "có"]), Boolean);
        assert_eq!(parse(Integer(Vietnamese), "1.234.567"), Some(Cell::Integer(1_234_567)));
        assert_eq!(parse(Decimal(Vietnamese), "1.234,5"), Some(Cell::Decimal(1234.5)));
        assert_eq!(parse(Decimal(Vietnamese), "-0,25"), Some(Cell::Decimal(-0.25)));
        assert_eq!(
            parse(Date(DateStyle::DayFirst), "01/07/2025"),
            Some(Cell::Date(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()))
        );
        assert_eq!(parse(Integer(Vietnamese), ""), Some(Cell::Null));
    }

    #[test]
    fn ambiguous_thousands_read_the_vietnamese_way() {
        assert_eq!(infer(["1.234", "2.500"]), Integer(Vietnamese));
        assert_eq!(parse(Integer(Vietnamese), "2.500"), Some(Cell::Integer(2500)));
        // One unambiguous value decides for the column.
        assert_eq!(infer(["1.234", "2.5"]), Decimal(International));
    }

    #[test]
    fn codes_with_leading_zeros_stay_text() {
        assert_eq!(infer(["07210", "07228"]), Text);
        assert_eq!(infer(["0912345678"]), Text);
        assert_eq!(infer(["0", "10"]), Integer(Vietnamese));
        assert_eq!(infer(["0,5"]), Decimal(Vietnamese));
        assert_eq!(infer(["Phường Bắc Giang", "12"]), Text);
        assert_eq!(infer(["", " "]), Text);
    }

    #[test]
    fn a_stray_value_does_not_change_the_type() {
        let mut dates: Vec<String> = (1..=20).map(|d| format!("{d:02}/01/2025")).collect();
        dates.push("31/02/2025".into());
        assert_eq!(infer(dates.iter().map(String::as_str)), Date(DateStyle::DayFirst));
        assert_eq!(infer(["01/01/2025", "31/02/2025"]), Text, "too few values to tell");
        let mut mixed = dates.clone();
        mixed.extend(["không rõ".to_string(), "chưa có".to_string()]);
        assert_eq!(infer(mixed.iter().map(String::as_str)), Text, "more than one in fifty");
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(parse(Integer(Vietnamese), "12a"), None);
        assert_eq!(parse(Date(DateStyle::DayFirst), "31/02/2025"), None);
        assert_eq!(parse(Decimal(International), "1.234,5"), None);
        assert!(Date(DateStyle::DayFirst).expected().contains("dd/mm/yyyy"));
    }
}
