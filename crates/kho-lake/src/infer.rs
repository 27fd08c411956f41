//! Suy luận kiểu — column type inference that understands Vietnamese conventions:
//! numbers with `.` between thousands and `,` before decimals (`1.234.567,5`), dates
//! written `dd/mm/yyyy` or `dd-mm-yyyy`, `có`/`không` for yes/no, and codes with
//! leading zeros (`07210`, `0912345678`) kept as text. Values a file already typed
//! (spreadsheet numbers and dates, JSON numbers, Parquet columns) vote and parse as
//! they are.

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
    /// `integer`, `decimal`, `date`, `boolean` or `text`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Integer(_) => "integer",
            Self::Decimal(_) => "decimal",
            Self::Date(_) => "date",
            Self::Boolean => "boolean",
            Self::Text => "text",
        }
    }

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

/// A parsed cell, owning its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Decimal(f64),
    Date(NaiveDate),
    Boolean(bool),
    Text(String),
}

/// One cell as a source hands it over: text to be read the Vietnamese way (CSV, text
/// cells of a spreadsheet, JSON strings), or a value whose type the file already
/// knows (a spreadsheet number or date cell, a JSON number, a Parquet column). Typed
/// values are taken as they are: a JSON number `1.234` stays 1.234.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    Empty,
    Text(&'a str),
    Integer(i64),
    Decimal(f64),
    Date(NaiveDate),
    Boolean(bool),
}

impl<'a> From<&'a str> for CellRef<'a> {
    fn from(s: &'a str) -> Self {
        CellRef::Text(s)
    }
}

impl<'a> From<&'a String> for CellRef<'a> {
    fn from(s: &'a String) -> Self {
        CellRef::Text(s)
    }
}

impl<'a> From<&'a Cell> for CellRef<'a> {
    fn from(c: &'a Cell) -> Self {
        match c {
            Cell::Null => CellRef::Empty,
            Cell::Integer(v) => CellRef::Integer(*v),
            Cell::Decimal(v) => CellRef::Decimal(*v),
            Cell::Date(d) => CellRef::Date(*d),
            Cell::Boolean(b) => CellRef::Boolean(*b),
            Cell::Text(s) => CellRef::Text(s),
        }
    }
}

impl<'a> CellRef<'a> {
    /// Nothing in it (empty or blank text).
    pub fn is_empty(&self) -> bool {
        match self {
            CellRef::Empty => true,
            CellRef::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as text, typed values written canonically: dates `yyyy-mm-dd`,
    /// numbers with `.` before decimals and no grouping, booleans `true`/`false`.
    pub fn to_text(&self) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        match self {
            CellRef::Empty => Cow::Borrowed(""),
            CellRef::Text(s) => Cow::Borrowed(s),
            CellRef::Integer(v) => Cow::Owned(v.to_string()),
            CellRef::Decimal(v) => Cow::Owned(v.to_string()),
            CellRef::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
            CellRef::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        }
    }

    /// An owned copy.
    pub fn to_cell(&self) -> Cell {
        match self {
            CellRef::Empty => Cell::Null,
            CellRef::Text(s) => Cell::Text(s.to_string()),
            CellRef::Integer(v) => Cell::Integer(*v),
            CellRef::Decimal(v) => Cell::Decimal(*v),
            CellRef::Date(d) => Cell::Date(*d),
            CellRef::Boolean(b) => Cell::Boolean(*b),
        }
    }
}

/// A cell read as its column's type; `Text` means "the cell as text".
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parsed {
    Null,
    Integer(i64),
    Decimal(f64),
    Date(NaiveDate),
    Boolean(bool),
    Text,
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

/// Text that reads as a value (a number, a code of digits, a date, yes/no) rather
/// than a label; used to tell header rows from data rows.
pub(crate) fn looks_like_value(raw: &str) -> bool {
    let v = raw.trim();
    let c = candidates(v);
    digits(split_sign(v)) || c.int_vn || c.int_intl || c.dec_vn || c.dec_intl || c.date_dmy || c.date_iso || c.boolean
}

fn typed_candidates(cell: CellRef<'_>) -> Candidates {
    let none = Candidates::default();
    match cell {
        CellRef::Text(s) => candidates(s),
        CellRef::Empty => none,
        CellRef::Integer(_) => Candidates { int_plain: true, ..none },
        CellRef::Decimal(_) => Candidates { dec_vn: true, dec_intl: true, ..none },
        CellRef::Date(_) => Candidates { date_dmy: true, date_iso: true, ..none },
        CellRef::Boolean(_) => Candidates { boolean: true, ..none },
    }
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
        DateStyle::DayFirst => match day_first_digits(v) {
            Some(date) => date,
            None => ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"].iter().find_map(|f| NaiveDate::parse_from_str(v, f).ok()),
        },
        DateStyle::Iso if v.len() != 10 => None,
        DateStyle::Iso => match iso_digits(v) {
            Some(date) => date,
            None => NaiveDate::parse_from_str(v, "%Y-%m-%d").ok(),
        },
    }
}

/// The common shape of a day-first date read without chrono's format parser (a
/// million dates a second make it matter): `dd/mm/yyyy` with one separator `/`, `-` or
/// `.`, day and month of one or two digits. `Some(None)` when the shape is right but the
/// date does not exist (`31/02/2025`); `None` when the shape is another, for chrono.
fn day_first_digits(v: &str) -> Option<Option<NaiveDate>> {
    let b = v.as_bytes();
    let sep = *b.iter().find(|c| !c.is_ascii_digit())?;
    if !matches!(sep, b'/' | b'-' | b'.') {
        return None;
    }
    let mut parts = v.split(sep as char);
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    let small = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit());
    if parts.next().is_some() || !small(d) || !small(m) || y.len() != 4 || !y.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
}

/// `yyyy-mm-dd` read without chrono's format parser, as [`day_first_digits`].
fn iso_digits(v: &str) -> Option<Option<NaiveDate>> {
    let b = v.as_bytes();
    let digit = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digit(0..4) || !digit(5..7) || !digit(8..10) {
        return None;
    }
    Some(NaiveDate::from_ymd_opt(v[0..4].parse().ok()?, v[5..7].parse().ok()?, v[8..10].parse().ok()?))
}

/// The readings a column may get, in order of preference.
const READINGS: [ColumnType; 8] = [
    ColumnType::Boolean,
    ColumnType::Date(DateStyle::Iso),
    ColumnType::Date(DateStyle::DayFirst),
    ColumnType::Integer(NumberStyle::Vietnamese),
    ColumnType::Integer(NumberStyle::Vietnamese),
    ColumnType::Decimal(NumberStyle::Vietnamese),
    ColumnType::Integer(NumberStyle::International),
    ColumnType::Decimal(NumberStyle::International),
];

/// For each of [`READINGS`], how many non-empty values do not fit; and how many
/// non-empty values there are.
fn misses<'a, C: Into<CellRef<'a>>>(values: impl IntoIterator<Item = C>) -> ([usize; 8], usize) {
    let mut misses = [0usize; 8];
    let mut seen = 0usize;
    for v in values.into_iter().map(|v| -> CellRef<'a> { v.into() }).filter(|v| !v.is_empty()) {
        seen += 1;
        let c = typed_candidates(v);
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
    (misses, seen)
}

/// Infers a column's type from sample values (empty values are ignored). When a
/// number like `1.234` could be read either way, the Vietnamese reading wins. Typed
/// values (a spreadsheet's number or date cells, JSON numbers) vote for their type.
///
/// A few stray values do not turn a column into text: with at least ten values that
/// fit, up to one in fifty may not (at least one), so that a typo such as `31/02/2025`
/// in a date column is reported by the load instead of silently changing the type.
pub fn infer<'a, C: Into<CellRef<'a>>>(values: impl IntoIterator<Item = C>) -> ColumnType {
    let (misses, seen) = misses(values);
    // Exact fits first; then fits that tolerate a few strays.
    for tolerance in [0, (seen / 50).max(1)] {
        for (reading, m) in READINGS.iter().zip(misses) {
            let enough = tolerance == 0 || seen - m >= 10;
            if seen > 0 && m <= tolerance && enough {
                return *reading;
            }
        }
    }
    ColumnType::Text
}

/// The column type for a declared kind (`integer`, `decimal`, `date`, `boolean` or
/// `text`): the way of writing it that fits most sample values.
pub fn declared<'a, C: Into<CellRef<'a>>>(kind: &str, values: impl IntoIterator<Item = C>) -> Option<ColumnType> {
    if kind == "text" {
        return Some(ColumnType::Text);
    }
    let (misses, _) = misses(values);
    READINGS.iter().zip(misses).filter(|(r, _)| r.kind() == kind).min_by_key(|(_, m)| *m).map(|(r, _)| *r)
}

/// The kinds a column can be declared as.
pub const KINDS: [&str; 5] = ["integer", "decimal", "date", "boolean", "text"];

/// Reads one value as `ty`; `None` when it does not fit (the caller knows the file,
/// row and column, and [`ColumnType::expected`] says what would have).
pub fn parse<'a>(ty: ColumnType, cell: impl Into<CellRef<'a>>) -> Option<Cell> {
    let cell = cell.into();
    Some(match read(ty, cell)? {
        Parsed::Null => Cell::Null,
        Parsed::Integer(v) => Cell::Integer(v),
        Parsed::Decimal(v) => Cell::Decimal(v),
        Parsed::Date(d) => Cell::Date(d),
        Parsed::Boolean(b) => Cell::Boolean(b),
        Parsed::Text => Cell::Text(cell.to_text().into_owned()),
    })
}

/// [`parse`] without copying text: `Parsed::Text` stands for the cell itself.
pub fn read(ty: ColumnType, cell: CellRef<'_>) -> Option<Parsed> {
    let raw = match cell {
        CellRef::Text(raw) => raw,
        CellRef::Empty => return Some(Parsed::Null),
        typed => return read_typed(ty, typed),
    };
    let v = raw.trim();
    if v.is_empty() {
        return Some(Parsed::Null);
    }
    match ty {
        ColumnType::Text => Some(Parsed::Text),
        ColumnType::Boolean => parse_bool(v).map(Parsed::Boolean),
        ColumnType::Date(style) => parse_date(v, style).map(Parsed::Date),
        ColumnType::Integer(style) => {
            if !number_fits(v, style, false) {
                return None;
            }
            number_text(v, style).parse().map(Parsed::Integer).ok()
        }
        ColumnType::Decimal(style) => {
            if !number_fits(v, style, true) {
                return None;
            }
            number_text(v, style).parse().map(Parsed::Decimal).ok()
        }
    }
}

/// `v` is a number written in `style` (a whole one unless `decimal`). Leading zeros
/// are fine here: the column is a number (declared so, or a stray code among numbers).
fn number_fits(v: &str, style: NumberStyle, decimal: bool) -> bool {
    let n = split_sign(v);
    let (group, point) = match style {
        NumberStyle::Vietnamese => ('.', ','),
        NumberStyle::International => (',', '.'),
    };
    digits(n)
        || grouped(n, group)
        || decimal
            && n.split_once(point).is_some_and(|(i, f)| digits(f) && (digits(i) && !is_code(i) || grouped(i, group)))
}

/// A number as Rust parses it: grouping removed, `.` before decimals.
fn number_text(v: &str, style: NumberStyle) -> std::borrow::Cow<'_, str> {
    if !v.contains([',', '.']) {
        return std::borrow::Cow::Borrowed(v);
    }
    match style {
        NumberStyle::Vietnamese => v.replace('.', "").replace(',', ".").into(),
        NumberStyle::International => v.replace(',', "").into(),
    }
}

/// A value the file typed, read as `ty`: numbers fit number columns (a whole
/// decimal fits an integer column), dates fit date columns, and anything fits text.
fn read_typed(ty: ColumnType, cell: CellRef<'_>) -> Option<Parsed> {
    match (ty, cell) {
        (ColumnType::Text, _) => Some(Parsed::Text),
        (ColumnType::Integer(_), CellRef::Integer(v)) => Some(Parsed::Integer(v)),
        (ColumnType::Integer(_), CellRef::Decimal(v)) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
            Some(Parsed::Integer(v as i64))
        }
        (ColumnType::Decimal(_), CellRef::Integer(v)) => Some(Parsed::Decimal(v as f64)),
        (ColumnType::Decimal(_), CellRef::Decimal(v)) => Some(Parsed::Decimal(v)),
        (ColumnType::Date(_), CellRef::Date(d)) => Some(Parsed::Date(d)),
        (ColumnType::Boolean, CellRef::Boolean(b)) => Some(Parsed::Boolean(b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType::*;
    use NumberStyle::*;

    /// The quick readings of `dd/mm/yyyy` and `yyyy-mm-dd` give what chrono's format
    /// parser gives, for every day of two years (one a leap year) written each way, and
    /// for dates that do not exist or are written otherwise.
    #[test]
    fn quick_date_readings_agree_with_chrono() {
        let chrono_day_first =
            |v: &str| ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"].iter().find_map(|f| NaiveDate::parse_from_str(v, f).ok());
        let chrono_iso = |v: &str| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().filter(|_| v.len() == 10);
        let mut texts = Vec::new();
        for year in [2024, 2025] {
            for month in 1..=12u32 {
                for day in 1..=32u32 {
                    for sep in ['/', '-', '.'] {
                        texts.push(format!("{day:02}{sep}{month:02}{sep}{year}"));
                        texts.push(format!("{day}{sep}{month}{sep}{year}"));
                    }
                    texts.push(format!("{year}-{month:02}-{day:02}"));
                }
            }
        }
        texts.extend(
            ["29/02/2023", "1/1/25", "01/01/02025", "01/13/2025", "00/01/2025", "1/1/2025/1", "01/01-2025", "٣/٣/2025"]
                .map(String::from),
        );
        texts.extend(
            [" 01/01/2025", "01/01/2025 ", "+2025-01-01", "2025-1-01", "2025/01/01", "0000-01-01"].map(String::from),
        );
        for v in &texts {
            assert_eq!(parse_date(v, DateStyle::DayFirst), chrono_day_first(v), "{v:?} day first");
            assert_eq!(parse_date(v, DateStyle::Iso), chrono_iso(v), "{v:?} as ISO");
        }
    }

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
    fn typed_values_vote_and_parse_as_they_are() {
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        assert_eq!(infer([CellRef::Integer(3), CellRef::Integer(1234)]), Integer(Vietnamese));
        assert_eq!(infer([CellRef::Decimal(1.234), CellRef::Integer(2)]), Decimal(Vietnamese));
        assert_eq!(infer([CellRef::Date(d), CellRef::Text("02/07/2025")]), Date(DateStyle::DayFirst));
        assert_eq!(infer([CellRef::Boolean(true), CellRef::Empty]), Boolean);
        // A JSON number 1.234 is one and a bit, never one thousand.
        assert_eq!(parse(Decimal(Vietnamese), CellRef::Decimal(1.234)), Some(Cell::Decimal(1.234)));
        assert_eq!(parse(Integer(Vietnamese), CellRef::Decimal(12.0)), Some(Cell::Integer(12)));
        assert_eq!(parse(Integer(Vietnamese), CellRef::Decimal(1.5)), None);
        assert_eq!(parse(Date(DateStyle::DayFirst), CellRef::Integer(45000)), None);
        // Text columns get typed values written canonically.
        assert_eq!(parse(Text, CellRef::Date(d)), Some(Cell::Text("2025-07-01".into())));
        assert_eq!(parse(Text, CellRef::Decimal(0.5)), Some(Cell::Text("0.5".into())));
        assert_eq!(parse(Text, CellRef::Boolean(false)), Some(Cell::Text("false".into())));
    }

    #[test]
    fn a_declared_kind_picks_the_way_of_writing_that_fits() {
        assert_eq!(declared("decimal", ["1.234,5", "2,5"]), Some(Decimal(Vietnamese)));
        assert_eq!(declared("decimal", ["1234.5", "2.5"]), Some(Decimal(International)));
        assert_eq!(declared("date", ["2025-07-01"]), Some(Date(DateStyle::Iso)));
        assert_eq!(declared("date", ["01/07/2025"]), Some(Date(DateStyle::DayFirst)));
        assert_eq!(declared("integer", ["07210"]), Some(Integer(Vietnamese)));
        assert_eq!(declared("text", ["1"]), Some(Text));
        assert_eq!(declared("money", ["1"]), None);
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(parse(Integer(Vietnamese), "12a"), None);
        assert_eq!(parse(Date(DateStyle::DayFirst), "31/02/2025"), None);
        assert_eq!(parse(Decimal(International), "1.234,5"), None);
        assert!(Date(DateStyle::DayFirst).expected().contains("dd/mm/yyyy"));
    }
}
