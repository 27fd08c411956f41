//! Quy tắc kiểm tra — a table's quality rules, written as a YAML document (JSON is YAML
//! too, so either is read):
//!
//! ```yaml
//! block_publish: true          # a failing `error` check refuses publishing (default false)
//! checks:
//!   - row_count: { min: 100 }
//!   - not_null: [so_cccd, ho_ten]
//!     threshold: 98            # percent of rows that must pass (default 100)
//!   - unique: so_cccd          # a list makes a compound key
//!   - format: { column: so_cccd, format: citizen_id }
//!     severity: warning        # error (default), warning or info
//! ```
//!
//! [`RuleSet::parse`] reports a syntax error with its line and column;
//! [`RuleSet::check_against`] says which check names a column the table lacks, a
//! pattern that does not compile, and the like — each with how to fix it.

use crate::shape::{ColumnKind, TableShape};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The rules of one table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// A failing `error`-level check refuses publishing the resource until a newer
    /// version passes.
    #[serde(default)]
    pub block_publish: bool,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<Check>,
}

/// One check: what it asks, how bad a failure is, and the share of rows that must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// A name for reports (a generated one when absent, e.g. `not_null(so_cccd)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Severity::is_default")]
    pub severity: Severity,
    /// Percent of the rows checked that must pass, 0–100 [default 100].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(flatten)]
    pub rule: Rule,
}

/// How bad a failure is (mức độ).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    #[default]
    Error,
}

impl Severity {
    fn is_default(&self) -> bool {
        *self == Severity::Error
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a check asks of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Rows within bounds.
    RowCount {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// Each column has a value (an empty or blank text is missing).
    NotNull(Columns),
    /// No two rows share the value (of the columns together, when several); rows
    /// missing a key value are not counted.
    Unique(Columns),
    /// Values match a regular expression (Rust/RE2 syntax; anchor it with `^…$`).
    Regex { column: String, pattern: String },
    /// Values are valid in a built-in format.
    Format { column: String, format: Format },
    /// Values are codes of a code list (danh mục), as of a date [default: today].
    CodeList {
        column: String,
        list: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        as_of: Option<NaiveDate>,
    },
    /// Numbers (or dates) within bounds.
    Range {
        column: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<Bound>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<Bound>,
    },
    /// Text lengths (in characters) within bounds.
    Length {
        column: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// Values exist in another table's column: `table: <resource slug>.<table>`.
    Reference {
        column: String,
        table: String,
        /// The other table's column [default: the same name].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
    },
    /// The newest value of a date column — or, without a column, the last load — is
    /// at most `within` old (`12h`, `30d`, `2w`).
    Freshness {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        within: String,
    },
    /// The table has these columns, with these types (text, integer, decimal, boolean,
    /// date, timestamp).
    Schema { columns: BTreeMap<String, String> },
    /// A query returning the failing rows; it names the table by its name.
    Sql(String),
    /// Values are already in their standard form (chuẩn hóa): text, name, phone,
    /// citizen-id, tax-code, date, amount or address. What the cleaning step would
    /// change counts as a defect.
    Standard { column: String, kind: String },
}

/// One column or several, written `a` or `[a, b]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(c) => vec![c.as_str()],
            Columns::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// A bound of a range: a number, or a date written `yyyy-mm-dd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Number(f64),
    Date(String),
}

/// The built-in formats (định dạng).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A 12-digit CCCD starting with `0` and a province code of birth registration.
    CitizenId,
    /// A Vietnamese phone number in any usual writing (spaces, dots, `+84`, `0`).
    Phone,
    Email,
    /// A tax code (mã số thuế) with a valid check digit, optionally `-NNN`.
    TaxCode,
    /// A date: `yyyy-mm-dd` or `dd/mm/yyyy` (`-` or `.` also), or a date column.
    Date,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CitizenId => "citizen_id",
            Format::Phone => "phone",
            Format::Email => "email",
            Format::TaxCode => "tax_code",
            Format::Date => "date",
        }
    }
}

/// The six criteria (tiêu chí) of the province's quality standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Đúng.
    Accurate,
    /// Đủ.
    Complete,
    /// Sạch.
    Clean,
    /// Sống.
    Live,
    /// Thống nhất.
    Unified,
    /// Dùng chung.
    Shared,
}

impl Criterion {
    pub const ALL: [Criterion; 6] = [
        Criterion::Accurate,
        Criterion::Complete,
        Criterion::Clean,
        Criterion::Live,
        Criterion::Unified,
        Criterion::Shared,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Accurate => "accurate",
            Criterion::Complete => "complete",
            Criterion::Clean => "clean",
            Criterion::Live => "live",
            Criterion::Unified => "unified",
            Criterion::Shared => "shared",
        }
    }

    /// The Vietnamese name, as the strategy writes it.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Criterion::Accurate => "Đúng",
            Criterion::Complete => "Đủ",
            Criterion::Clean => "Sạch",
            Criterion::Live => "Sống",
            Criterion::Unified => "Thống nhất",
            Criterion::Shared => "Dùng chung",
        }
    }
}

impl Rule {
    /// The kind's name as the rules file writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::RowCount { .. } => "row_count",
            Rule::NotNull(_) => "not_null",
            Rule::Unique(_) => "unique",
            Rule::Regex { .. } => "regex",
            Rule::Format { .. } => "format",
            Rule::CodeList { .. } => "code_list",
            Rule::Range { .. } => "range",
            Rule::Length { .. } => "length",
            Rule::Reference { .. } => "reference",
            Rule::Freshness { .. } => "freshness",
            Rule::Schema { .. } => "schema",
            Rule::Sql(_) => "sql",
            Rule::Standard { .. } => "standard",
        }
    }

    /// The columns the check reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Rule::NotNull(cs) | Rule::Unique(cs) => cs.names(),
            Rule::Regex { column, .. }
            | Rule::Format { column, .. }
            | Rule::CodeList { column, .. }
            | Rule::Range { column, .. }
            | Rule::Length { column, .. }
            | Rule::Reference { column, .. }
            | Rule::Standard { column, .. } => vec![column.as_str()],
            Rule::Freshness { column, .. } => column.iter().map(String::as_str).collect(),
            Rule::RowCount { .. } | Rule::Schema { .. } | Rule::Sql(_) => vec![],
        }
    }

    /// The criterion the check's pass rate counts towards.
    pub fn criterion(&self) -> Criterion {
        match self {
            Rule::RowCount { .. } | Rule::NotNull(_) => Criterion::Complete,
            Rule::Unique(_) | Rule::Standard { .. } => Criterion::Clean,
            Rule::Freshness { .. } => Criterion::Live,
            Rule::Schema { .. } => Criterion::Unified,
            Rule::Regex { .. }
            | Rule::Format { .. }
            | Rule::CodeList { .. }
            | Rule::Range { .. }
            | Rule::Length { .. }
            | Rule::Reference { .. }
            | Rule::Sql(_) => Criterion::Accurate,
        }
    }
}

impl Check {
    /// The name reports use: the given one, else `kind(columns)`.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.clone(),
            _ => {
                let columns = self.rule.columns();
                let detail = match &self.rule {
                    Rule::Format { format, .. } => format!("{}, {}", columns.join(", "), format.as_str()),
                    Rule::CodeList { list, .. } => format!("{}, {list}", columns.join(", ")),
                    Rule::Standard { kind, .. } => format!("{}, {kind}", columns.join(", ")),
                    Rule::Reference { table, .. } => format!("{} → {table}", columns.join(", ")),
                    Rule::RowCount { min, max } => {
                        let bound = |b: &Option<u64>| b.map_or(String::new(), |n| n.to_string());
                        format!("{}..{}", bound(min), bound(max))
                    }
                    Rule::Freshness { within, .. } => {
                        columns.iter().map(|c| format!("{c}, ")).collect::<String>() + within
                    }
                    Rule::Schema { columns } => format!("{} columns", columns.len()),
                    _ => columns.join(", "),
                };
                format!("{}({detail})", self.rule.kind())
            }
        }
    }

    /// The pass threshold as a share, 0–1.
    pub fn threshold_share(&self) -> f64 {
        self.threshold.unwrap_or(100.0) / 100.0
    }
}

/// A rules document that cannot be used, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// The check's position in `checks` (0-based), when one is at fault.
    pub check: Option<usize>,
    /// Line and column (1-based) of a syntax error.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.at {
            write!(f, "line {line}, column {column}: ")?;
        }
        if let Some(i) = self.check {
            write!(f, "checks[{}]: ", i + 1)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// Units `within` accepts, in seconds.
const UNITS: [(&str, i64); 4] = [("h", 3_600), ("d", 86_400), ("w", 7 * 86_400), ("y", 365 * 86_400)];

/// Reads `12h`, `30d`, `2w` or `1y` as a duration.
pub fn parse_within(s: &str) -> Result<chrono::Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let seconds = UNITS.iter().find(|(u, _)| *u == unit.trim()).map(|(_, s)| *s);
    match (number.parse::<i64>(), seconds) {
        (Ok(n), Some(s)) if n > 0 => Ok(chrono::Duration::seconds(n * s)),
        _ => Err(format!("within: {s:?} is not a duration; write a number and h, d, w or y, e.g. 30d")),
    }
}

/// Column types a `schema` check names.
pub const SCHEMA_TYPES: [&str; 6] = ["text", "integer", "decimal", "boolean", "date", "timestamp"];

impl RuleSet {
    /// Reads a rules document (YAML or JSON).
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let set: RuleSet = serde_yaml_ng::from_str(text).map_err(|e| RuleError {
            check: None,
            at: e.location().map(|l| (l.line(), l.column())),
            message: format!(
                "{e}; each check is one of row_count, not_null, unique, regex, format, code_list, range, \
                 length, reference, freshness, schema, sql, standard (see the README's quality rules)"
            ),
        })?;
        for (i, c) in set.checks.iter().enumerate() {
            if let Some(t) = c.threshold {
                if !(0.0..=100.0).contains(&t) {
                    return Err(at(i, format!("threshold {t} is not a percent; write a number from 0 to 100")));
                }
            }
        }
        Ok(set)
    }

    /// The document as YAML, as it is stored and shown.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).unwrap_or_default()
    }

    /// Says what in the rules does not fit the table: unknown columns, patterns that
    /// do not compile, a range on text, and the like.
    pub fn check_against(&self, shape: &TableShape) -> Result<(), RuleError> {
        for (i, c) in self.checks.iter().enumerate() {
            let name = c.display_name();
            for column in c.rule.columns() {
                if shape.column(column).is_none() {
                    return Err(at(
                        i,
                        format!(
                            "{name}: table {} has no column {column:?}; its columns are {}",
                            shape.name,
                            shape.column_names().join(", ")
                        ),
                    ));
                }
            }
            let kind_of = |column: &str| shape.column(column).map(|c| c.kind).unwrap_or(ColumnKind::Other);
            match &c.rule {
                Rule::Unique(cs) | Rule::NotNull(cs) if cs.names().is_empty() => {
                    return Err(at(i, format!("{name}: name at least one column")));
                }
                Rule::Regex { pattern, .. } => {
                    regex::Regex::new(pattern)
                        .map_err(|e| at(i, format!("{name}: the pattern does not compile: {e}")))?;
                }
                Rule::Range { column, min, max } => {
                    if min.is_none() && max.is_none() {
                        return Err(at(i, format!("{name}: give min, max or both")));
                    }
                    let kind = kind_of(column);
                    for bound in [min, max].into_iter().flatten() {
                        match (bound, kind) {
                            (Bound::Number(_), ColumnKind::Integer | ColumnKind::Decimal) => {}
                            (Bound::Date(d), ColumnKind::Date | ColumnKind::Timestamp) => {
                                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                                    .map_err(|_| at(i, format!("{name}: {d:?} is not a date; write yyyy-mm-dd")))?;
                            }
                            _ => {
                                return Err(at(
                                    i,
                                    format!(
                                        "{name}: column {column} holds {}; a range needs numbers on a number \
                                         column or yyyy-mm-dd dates on a date column (use length or regex for text)",
                                        kind.as_str()
                                    ),
                                ))
                            }
                        }
                    }
                }
                Rule::Length { min: None, max: None, .. } | Rule::RowCount { min: None, max: None } => {
                    return Err(at(i, format!("{name}: give min, max or both")));
                }
                Rule::Freshness { column, within } => {
                    parse_within(within).map_err(|m| at(i, format!("{name}: {m}")))?;
                    if let Some(column) = column {
                        if !matches!(kind_of(column), ColumnKind::Date | ColumnKind::Timestamp) {
                            return Err(at(
                                i,
                                format!(
                                    "{name}: column {column} holds {}, not dates; load it with a declared \
                                     date type or leave out the column to check the last load",
                                    kind_of(column).as_str()
                                ),
                            ));
                        }
                    }
                }
                Rule::Schema { columns } => {
                    for (column, kind) in columns {
                        if !SCHEMA_TYPES.contains(&kind.as_str()) {
                            return Err(at(
                                i,
                                format!(
                                    "{name}: {column}: {kind:?} is not a type; use one of {}",
                                    SCHEMA_TYPES.join(", ")
                                ),
                            ));
                        }
                    }
                }
                Rule::Reference { table, .. } if !table.contains('.') => {
                    return Err(at(i, format!("{name}: write the other table as <resource slug>.<table>")));
                }
                Rule::Standard { kind, .. } => {
                    kho_standard::Kind::parse(kind).map_err(|m| at(i, format!("{name}: {m}")))?;
                }
                Rule::Sql(sql) if sql.trim().is_empty() => {
                    return Err(at(i, format!("{name}: write a SELECT returning the failing rows")));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The code lists the checks need, with the date each is wanted as of.
    pub fn code_lists(&self) -> Vec<(String, Option<NaiveDate>)> {
        let mut out: Vec<(String, Option<NaiveDate>)> = Vec::new();
        for c in &self.checks {
            if let Rule::CodeList { list, as_of, .. } = &c.rule {
                let key = (list.clone(), *as_of);
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
        out
    }

    /// Whether a check of this severity failing refuses publishing.
    pub fn blocks(&self, severity: Severity) -> bool {
        self.block_publish && severity == Severity::Error
    }
}

fn at(check: usize, message: String) -> RuleError {
    RuleError { check: Some(check), at: None, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Column;

    fn shape() -> TableShape {
        TableShape::new(
            "ho_ngheo",
            vec![
                Column::new("so_cccd", ColumnKind::Text),
                Column::new("thu_nhap", ColumnKind::Integer),
                Column::new("ngay_cap_nhat", ColumnKind::Date),
            ],
        )
    }

    #[test]
    fn every_kind_of_check_reads_from_yaml() {
        let text = r#"
block_publish: true
checks:
  - row_count: { min: 10, max: 1000 }
  - not_null: [so_cccd, thu_nhap]
    threshold: 98
  - unique: so_cccd
  - unique: [so_cccd, thu_nhap]
  - regex: { column: so_cccd, pattern: '^[0-9]{12}$' }
  - format: { column: so_cccd, format: citizen_id }
    severity: warning
  - code_list: { column: so_cccd, list: tinh, as_of: 2025-07-01 }
  - range: { column: thu_nhap, min: 0, max: 5000000 }
  - length: { column: so_cccd, min: 12, max: 12 }
  - reference: { column: so_cccd, table: dan-cu.cong_dan }
  - freshness: { column: ngay_cap_nhat, within: 30d }
  - freshness: { within: 1w }
  - schema: { columns: { so_cccd: text } }
  - sql: SELECT * FROM ho_ngheo WHERE thu_nhap < 0
  - standard: { column: so_cccd, kind: citizen-id }
    name: cccd chuẩn
"#;
        let set = RuleSet::parse(text).unwrap();
        assert!(set.block_publish);
        assert_eq!(set.checks.len(), 15);
        assert_eq!(set.checks[1].threshold_share(), 0.98);
        assert_eq!(set.checks[5].severity, Severity::Warning);
        assert_eq!(set.checks[14].display_name(), "cccd chuẩn");
        assert_eq!(set.checks[3].display_name(), "unique(so_cccd, thu_nhap)");
        assert_eq!(set.checks[0].display_name(), "row_count(10..1000)");
        assert_eq!(set.checks[10].display_name(), "freshness(ngay_cap_nhat, 30d)");
        assert_eq!(set.checks[11].display_name(), "freshness(1w)");
        assert_eq!(set.checks[12].display_name(), "schema(1 columns)");
        set.check_against(&shape()).unwrap();
        // What is written reads back the same.
        assert_eq!(RuleSet::parse(&set.to_yaml()).unwrap(), set);
        assert_eq!(set.code_lists(), vec![("tinh".to_string(), NaiveDate::from_ymd_opt(2025, 7, 1))]);
    }

    #[test]
    fn json_is_read_too() {
        let set = RuleSet::parse(r#"{"checks": [{"not_null": "so_cccd"}]}"#).unwrap();
        assert_eq!(set.checks[0].rule, Rule::NotNull(Columns::One("so_cccd".into())));
    }

    #[test]
    fn a_syntax_error_says_line_and_column() {
        let e = RuleSet::parse("checks:\n  - not_nul: so_cccd\n").unwrap_err();
        assert_eq!(e.at.map(|(l, _)| l), Some(2), "{e}");
        assert!(e.to_string().contains("not_nul"), "{e}");
    }

    #[test]
    fn a_check_that_does_not_fit_the_table_says_which_and_how_to_fix_it() {
        let cases = [
            ("checks: [{not_null: ten}]", "has no column \"ten\""),
            ("checks: [{regex: {column: so_cccd, pattern: '('}}]", "does not compile"),
            ("checks: [{range: {column: so_cccd, min: 1}}]", "use length or regex for text"),
            ("checks: [{freshness: {column: so_cccd, within: 1d}}]", "not dates"),
            ("checks: [{freshness: {within: 3 days}}]", "e.g. 30d"),
            ("checks: [{schema: {columns: {so_cccd: string}}}]", "is not a type"),
            ("checks: [{standard: {column: so_cccd, kind: colour}}]", "not a kind"),
            ("checks: [{reference: {column: so_cccd, table: cong_dan}}]", "<resource slug>.<table>"),
        ];
        for (text, expected) in cases {
            let e = RuleSet::parse(text).and_then(|s| s.check_against(&shape())).unwrap_err();
            assert_eq!(e.check, Some(0), "{text}");
            assert!(e.to_string().contains(expected), "{text}: {e}");
        }
        let e = RuleSet::parse("checks: [{not_null: a, threshold: 120}]").unwrap_err();
        assert!(e.to_string().contains("0 to 100"), "{e}");
    }

    #[test]
    fn within_reads_hours_days_weeks_and_years() {
        assert_eq!(parse_within("12h").unwrap(), chrono::Duration::hours(12));
        assert_eq!(parse_within("30d").unwrap(), chrono::Duration::days(30));
        assert_eq!(parse_within("2w").unwrap(), chrono::Duration::days(14));
        assert!(parse_within("0d").is_err());
        assert!(parse_within("d").is_err());
    }
}
