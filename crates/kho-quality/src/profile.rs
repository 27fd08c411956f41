//! Hồ sơ dữ liệu — column profiles: per column its kind, missing values, distinct values
//! (approximate), smallest and largest value, text lengths, most frequent values, the
//! pattern classes of a sample (`NNNNNNNNNNNN`, `+NNNNNNNNNNN`) and the legacy encodings
//! seen in it; and the checks a steward would start from ([`suggest`]).
//!
//! The counts come from one aggregate query over the version ([`aggregate_sql`]) and
//! one query per column for its most frequent values ([`top_values_sql`]); patterns and
//! encodings are read from a sample of values the caller takes. [`TableProfile::build`]
//! puts the three together. No IO.

use crate::plan::{ident, Dialect};
use crate::rules::{Bound, Check, Columns, Format, Rule, RuleSet, Severity};
use crate::shape::{ColumnKind, TableShape};
use kho_standard::{Kind, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Most frequent values kept per column.
pub const TOP_VALUES: usize = 10;
/// Pattern classes kept per column.
pub const PATTERNS: usize = 10;
/// A pattern class longer than this is cut and ends with `…`.
const PATTERN_CHARS: usize = 40;
/// Share of sampled values that must be valid in a format for a check to be suggested.
const FORMAT_SHARE: f64 = 0.8;
/// Share of values that must be distinct for an id-like column to get a `unique` check.
const UNIQUE_SHARE: f64 = 0.95;
/// Codes no longer than this get a `length` check.
const SHORT_CODE: u64 = 20;

/// A table version's profile (hồ sơ bảng).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TableProfile {
    pub table: String,
    /// Kho's version of the table that was profiled.
    pub version: i64,
    pub rows: u64,
    pub columns: Vec<ColumnProfile>,
}

/// One column's profile (hồ sơ cột).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ColumnProfile {
    pub name: String,
    pub kind: ColumnKind,
    /// Rows without a value (an empty or blank text counts as none).
    pub nulls: u64,
    /// Distinct values, approximate (within a few percent on large tables).
    pub distinct: u64,
    /// The smallest and largest value, as text.
    pub min: Option<String>,
    pub max: Option<String>,
    /// Text lengths in characters (text columns only).
    pub min_length: Option<u64>,
    pub avg_length: Option<f64>,
    pub max_length: Option<u64>,
    /// The most frequent values with their counts, most frequent first.
    #[schema(value_type = Vec<Object>)]
    pub top_values: Vec<(String, u64)>,
    /// The pattern classes of the sampled values (digit → `N`, letter → `A`, other
    /// characters kept) with their counts in the sample, most frequent first.
    #[schema(value_type = Vec<Object>)]
    pub patterns: Vec<(String, u64)>,
    /// Values sampled for the patterns, the encodings and the suggestions.
    pub sampled: u64,
    /// The legacy encoding (`TCVN3`, `VNI`) most sampled values that read as one are
    /// written in, when any does.
    pub legacy_encoding: Option<String>,
    /// Sampled values that read as legacy TCVN3 or VNI text.
    pub legacy_values: u64,
}

/// The pattern class of a value: each digit becomes `N`, each letter `A` (Vietnamese
/// letters with their marks too), every other character stays (`0912 345 678` →
/// `NNNN NNN NNN`). A long value's class is cut after 40 characters with `…`.
pub fn pattern_class(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == PATTERN_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_numeric() {
            'N'
        } else if c.is_alphabetic() {
            'A'
        } else {
            c
        });
    }
    out
}

/// The column as text, for lengths and for engines that count distinct text only.
fn as_text(column: &str, kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Text => ident(column),
        _ => format!("CAST({} AS VARCHAR)", ident(column)),
    }
}

/// The one query over every row: for column `j`, missing values `z{j}`, distinct
/// values `d{j}` (approximate), smallest and largest as text `lo{j}` `hi{j}`, and for
/// text the lengths `ln{j}` `la{j}` `lx{j}`; the rows are `n`.
pub fn aggregate_sql(shape: &TableShape, dialect: Dialect) -> String {
    let approx = match dialect {
        Dialect::DataFusion => "approx_distinct",
        Dialect::DuckDb => "approx_count_distinct",
    };
    let mut measures = vec!["count(*) AS n".to_string()];
    for (j, c) in shape.columns.iter().enumerate() {
        let col = ident(&c.name);
        match c.kind {
            ColumnKind::Text => {
                let value = format!("CASE WHEN trim({col}) = '' THEN NULL ELSE {col} END");
                measures.push(format!("sum(CASE WHEN {col} IS NULL OR trim({col}) = '' THEN 1 ELSE 0 END) AS z{j}"));
                measures.push(format!("{approx}({value}) AS d{j}"));
                measures.push(format!("min({value}) AS lo{j}"));
                measures.push(format!("max({value}) AS hi{j}"));
                measures.push(format!("min(length({value})) AS ln{j}"));
                measures.push(format!("avg(length({value})) AS la{j}"));
                measures.push(format!("max(length({value})) AS lx{j}"));
            }
            ColumnKind::Other => {
                measures.push(format!("sum(CASE WHEN {col} IS NULL THEN 1 ELSE 0 END) AS z{j}"));
            }
            kind => {
                let distinct = if kind.is_number() { col.clone() } else { as_text(&c.name, kind) };
                measures.push(format!("sum(CASE WHEN {col} IS NULL THEN 1 ELSE 0 END) AS z{j}"));
                measures.push(format!("{approx}({distinct}) AS d{j}"));
                measures.push(format!("CAST(min({col}) AS VARCHAR) AS lo{j}"));
                measures.push(format!("CAST(max({col}) AS VARCHAR) AS hi{j}"));
            }
        }
    }
    format!("SELECT {} FROM {}", measures.join(", "), ident(&shape.name))
}

/// The `limit` most frequent values of column `j` (`value`, `n`), most frequent first,
/// ties in value order; `None` for a column of another kind (binary, nested).
pub fn top_values_sql(shape: &TableShape, j: usize, limit: usize) -> Option<String> {
    let c = shape.columns.get(j)?;
    if c.kind == ColumnKind::Other {
        return None;
    }
    let col = ident(&c.name);
    let present = match c.kind {
        ColumnKind::Text => format!("{col} IS NOT NULL AND trim({col}) <> ''"),
        _ => format!("{col} IS NOT NULL"),
    };
    Some(format!(
        "SELECT {} AS value, count(*) AS n FROM {} WHERE {present} GROUP BY {col} ORDER BY n DESC, value LIMIT {limit}",
        as_text(&c.name, c.kind),
        ident(&shape.name)
    ))
}

/// A whole number from a row of query output.
fn int(row: &Map<String, Value>, key: &str) -> Option<u64> {
    match row.get(key)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0).round() as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(row: &Map<String, Value>, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Counts, most frequent first, ties in value order, at most `limit`.
fn ranked(counts: HashMap<String, u64>, limit: usize) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(limit);
    out
}

impl TableProfile {
    /// The profile from what the queries returned: the aggregate's row, each column's
    /// most frequent values (`value`, `n` rows, by column index) and a sample of each
    /// column's non-empty values as text (by column name).
    pub fn build(
        shape: &TableShape,
        version: i64,
        aggregate: &Map<String, Value>,
        top: &BTreeMap<usize, Vec<Map<String, Value>>>,
        samples: &BTreeMap<String, Vec<String>>,
    ) -> Self {
        let rows = int(aggregate, "n").unwrap_or(0);
        let columns = shape
            .columns
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let sample = samples.get(&c.name).map(Vec::as_slice).unwrap_or_default();
                let mut patterns: HashMap<String, u64> = HashMap::new();
                let mut encodings: HashMap<&'static str, u64> = HashMap::new();
                for v in sample {
                    *patterns.entry(pattern_class(v)).or_default() += 1;
                    if c.kind == ColumnKind::Text {
                        if let Some(e) = kho_standard::detect_legacy(v) {
                            *encodings.entry(e.as_str()).or_default() += 1;
                        }
                    }
                }
                let legacy_values = encodings.values().sum();
                let legacy_encoding = encodings
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|(e, _)| e.into());
                let top_values = top
                    .get(&j)
                    .map(|rows| {
                        rows.iter()
                            .filter_map(|r| Some((text(r, "value")?, int(r, "n").unwrap_or(0))))
                            .take(TOP_VALUES)
                            .collect()
                    })
                    .unwrap_or_default();
                ColumnProfile {
                    name: c.name.clone(),
                    kind: c.kind,
                    nulls: int(aggregate, &format!("z{j}")).unwrap_or(0),
                    distinct: int(aggregate, &format!("d{j}")).unwrap_or(0),
                    min: text(aggregate, &format!("lo{j}")),
                    max: text(aggregate, &format!("hi{j}")),
                    min_length: int(aggregate, &format!("ln{j}")),
                    avg_length: aggregate.get(&format!("la{j}")).and_then(Value::as_f64),
                    max_length: int(aggregate, &format!("lx{j}")),
                    top_values,
                    patterns: ranked(patterns, PATTERNS),
                    sampled: sample.len() as u64,
                    legacy_encoding,
                    legacy_values,
                }
            })
            .collect();
        Self { table: shape.name.clone(), version, rows, columns }
    }

    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column name folded to lowercase ASCII words joined by `_` (`Họ tên` → `ho_ten`).
fn folded(name: &str) -> String {
    let f = kho_vn::fold(name);
    let words: Vec<&str> = f.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words.join("_")
}

fn has_any(name: &str, parts: &[&str]) -> bool {
    let padded = format!("_{name}_");
    parts.iter().any(|p| padded.contains(&format!("_{p}_")))
}

/// A person's name (họ và tên): `ho_ten`, `ho_va_ten`, `ten`, `ten_chu_ho`, `chu_ho`, …
fn name_like(name: &str) -> bool {
    name == "ten"
        || name.contains("ho_ten")
        || name.contains("ho_va_ten")
        || name.contains("hoten")
        || has_any(name, &["chu_ho", "ten_nguoi", "ten_cong_dan", "nguoi_dai_dien"])
}

/// An address (địa chỉ).
fn address_like(name: &str) -> bool {
    name.contains("dia_chi") || name.contains("diachi") || has_any(name, &["thuong_tru", "tam_tru", "noi_o"])
}

/// A phone number (số điện thoại).
fn phone_like(name: &str) -> bool {
    name.contains("dien_thoai") || has_any(name, &["sdt", "so_dt", "phone", "di_dong", "dtdd"])
}

/// A code that identifies a row (mã, số định danh, id).
fn id_like(name: &str) -> bool {
    has_any(name, &["ma", "id", "cccd", "cmnd", "mst", "code", "key", "dinh_danh", "uuid", "stt"])
}

/// Whether a sampled value is valid in `format`.
fn valid_in(format: Format, value: &str) -> bool {
    let ok = |s: kho_standard::Standardized| s.status != Status::Invalid;
    match format {
        Format::CitizenId => {
            // A CMND (9 digits) is recognised but is not the 12-digit CCCD the check asks.
            let s = kho_standard::citizen_id(value, None);
            s.status != Status::Invalid && s.output.len() == 12
        }
        Format::Phone => ok(kho_standard::phone(value)),
        Format::TaxCode => ok(kho_standard::tax_code(value)),
        Format::Date => ok(kho_standard::date(value)),
        Format::Email => {
            let v = value.trim();
            match v.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && !v.contains(char::is_whitespace)
                        && domain.rsplit_once('.').is_some_and(|(h, tld)| {
                            !h.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
                        })
                }
                None => false,
            }
        }
    }
}

/// The format most sampled values are valid in, when at least 80 % are.
fn likely_format(column: &ColumnProfile, sample: &[String]) -> Option<Format> {
    if column.kind != ColumnKind::Text || sample.is_empty() {
        return None;
    }
    let mut best: Option<(Format, f64)> = None;
    for format in [Format::CitizenId, Format::TaxCode, Format::Phone, Format::Email, Format::Date] {
        let valid = sample.iter().filter(|v| valid_in(format, v)).count();
        let share = valid as f64 / sample.len() as f64;
        if share >= FORMAT_SHARE && best.is_none_or(|(_, b)| share > b) {
            best = Some((format, share));
        }
    }
    best.map(|(f, _)| f)
}

fn check(rule: Rule) -> Check {
    Check { name: None, severity: Severity::Error, threshold: None, rule }
}

fn standard(column: &str, kind: Kind) -> Check {
    check(Rule::Standard { column: column.to_string(), kind: kind.as_str().to_string() })
}

/// A number from a profile's text, when it reads as one.
fn number(s: Option<&str>) -> Option<f64> {
    s?.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The checks a profile suggests, with a sample of each column's non-empty values as
/// text (by column name):
///
/// - `not_null` on a column without a missing value;
/// - `unique` on an id-like column (`ma_…`, `…_id`, `so_cccd`) whose values are (nearly)
///   all distinct;
/// - `format` (citizen ID, tax code, phone, email, date) when 80 % of the sampled
///   values are valid in it — the standardisers decide;
/// - `standard` name on name columns (`ho_ten`, `ten`, `Họ tên`), phone on phone
///   columns, address on address columns (`dia_chi`), text where legacy TCVN3/VNI text
///   was seen;
/// - `range` on numbers, from their smallest to their largest value;
/// - `length` on short codes (fixed-length codes, or id-like text up to 20 characters).
pub fn suggest(profile: &TableProfile, samples: &BTreeMap<String, Vec<String>>) -> RuleSet {
    let mut checks = Vec::new();
    for c in &profile.columns {
        let name = folded(&c.name);
        let sample = samples.get(&c.name).map(Vec::as_slice).unwrap_or_default();
        let present = profile.rows.saturating_sub(c.nulls);
        if profile.rows > 0 && c.nulls == 0 {
            checks.push(check(Rule::NotNull(Columns::One(c.name.clone()))));
        }
        let format = likely_format(c, sample);
        let identifying = id_like(&name) || matches!(format, Some(Format::CitizenId | Format::TaxCode));
        if identifying
            && present >= 2
            && matches!(c.kind, ColumnKind::Text | ColumnKind::Integer)
            && c.distinct as f64 >= UNIQUE_SHARE * present as f64
        {
            checks.push(check(Rule::Unique(Columns::One(c.name.clone()))));
        }
        if let Some(format) = format {
            checks.push(check(Rule::Format { column: c.name.clone(), format }));
        }
        if c.kind == ColumnKind::Text {
            let kind = if name_like(&name) {
                Some(Kind::Name)
            } else if address_like(&name) {
                Some(Kind::Address)
            } else if phone_like(&name) || format == Some(Format::Phone) {
                Some(Kind::Phone)
            } else if c.legacy_values > 0 {
                Some(Kind::Text)
            } else {
                None
            };
            if let Some(kind) = kind {
                checks.push(standard(&c.name, kind));
            }
        }
        if c.kind.is_number() {
            let (min, max) = (number(c.min.as_deref()), number(c.max.as_deref()));
            if min.is_some() || max.is_some() {
                checks.push(check(Rule::Range {
                    column: c.name.clone(),
                    min: min.map(Bound::Number),
                    max: max.map(Bound::Number),
                }));
            }
        }
        if c.kind == ColumnKind::Text && format.is_none() {
            if let (Some(lo), Some(hi)) = (c.min_length, c.max_length) {
                let fixed = lo == hi && c.distinct > 1;
                if hi <= SHORT_CODE && (fixed || id_like(&name)) {
                    checks.push(check(Rule::Length {
                        column: c.name.clone(),
                        min: Some(lo as u32),
                        max: Some(hi as u32),
                    }));
                }
            }
        }
    }
    RuleSet { block_publish: false, checks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Column;

    fn shape() -> TableShape {
        TableShape::new(
            "dan_cu",
            vec![
                Column::new("so_cccd", ColumnKind::Text),
                Column::new("ho_ten", ColumnKind::Text),
                Column::new("so_dien_thoai", ColumnKind::Text),
                Column::new("dia_chi", ColumnKind::Text),
                Column::new("so_nguoi", ColumnKind::Integer),
                Column::new("ma_xa", ColumnKind::Text),
                Column::new("ngay_sinh", ColumnKind::Date),
            ],
        )
    }

    #[test]
    fn pattern_classes_keep_punctuation() {
        assert_eq!(pattern_class("001085012345"), "NNNNNNNNNNNN");
        assert_eq!(pattern_class("+84912345678"), "+NNNNNNNNNNN");
        assert_eq!(pattern_class("0912 345.678"), "NNNN NNN.NNN");
        assert_eq!(pattern_class("Đà Nẵng-2"), "AA AAAA-N");
        assert_eq!(pattern_class(""), "");
        let long = pattern_class(&"a".repeat(100));
        assert_eq!(long.chars().count(), 41);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn one_aggregate_measures_every_column_in_either_dialect() {
        let sql = aggregate_sql(&shape(), Dialect::DataFusion);
        assert!(sql.starts_with("SELECT count(*) AS n, sum(CASE WHEN \"so_cccd\" IS NULL OR trim(\"so_cccd\") = ''"));
        assert!(sql.contains("approx_distinct(CASE WHEN trim(\"ho_ten\") = '' THEN NULL ELSE \"ho_ten\" END) AS d1"));
        assert!(sql.contains("approx_distinct(\"so_nguoi\") AS d4"), "{sql}");
        assert!(sql.contains("CAST(max(\"ngay_sinh\") AS VARCHAR) AS hi6"), "{sql}");
        assert!(sql.contains("avg(length("), "{sql}");
        assert!(sql.ends_with("FROM \"dan_cu\""));
        let duck = aggregate_sql(&shape(), Dialect::DuckDb);
        assert!(duck.contains("approx_count_distinct(") && !duck.contains("approx_distinct("), "{duck}");
        let top = top_values_sql(&shape(), 4, 10).unwrap();
        assert_eq!(
            top,
            "SELECT CAST(\"so_nguoi\" AS VARCHAR) AS value, count(*) AS n FROM \"dan_cu\" \
             WHERE \"so_nguoi\" IS NOT NULL GROUP BY \"so_nguoi\" ORDER BY n DESC, value LIMIT 10"
        );
        assert!(top_values_sql(&shape(), 9, 10).is_none());
    }

    fn samples() -> BTreeMap<String, Vec<String>> {
        let s = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        let name = kho_standard::to_tcvn3("Nguyễn Thị Thu Hà").unwrap();
        BTreeMap::from([
            ("so_cccd".to_string(), s(&["001085012345", "001090012346", "079185000123", "12"])),
            ("ho_ten".to_string(), vec![name.clone(), "Trần Văn An".into(), name, "Lê Bình".into()]),
            ("so_dien_thoai".to_string(), s(&["0912 345 678", "+84987654321", "01681234567", "0243 8251234"])),
            ("dia_chi".to_string(), s(&["Thôn 1, Xã A, Tỉnh B"])),
            ("ma_xa".to_string(), s(&["07210", "07228", "07246", "07210"])),
        ])
    }

    fn aggregate() -> Map<String, Value> {
        serde_json::from_value(serde_json::json!({
            "n": 4,
            "z0": 0, "d0": 4, "lo0": "001085012345", "hi0": "12", "ln0": 2, "la0": 9.5, "lx0": 12,
            "z1": 0, "d1": 3, "lo1": "Lê Bình", "hi1": "Trần Văn An", "ln1": 7, "la1": 10.0, "lx1": 17,
            "z2": 0, "d2": 4,
            "z3": 3, "d3": 1,
            "z4": 1, "d4": 3, "lo4": "1", "hi4": "12",
            "z5": 0, "d5": 3, "lo5": "07210", "hi5": "07246", "ln5": 5, "la5": 5.0, "lx5": 5,
            "z6": 4, "d6": 0
        }))
        .unwrap()
    }

    fn profile() -> TableProfile {
        let top = BTreeMap::from([(
            5,
            vec![
                serde_json::from_value(serde_json::json!({"value": "07210", "n": 2})).unwrap(),
                serde_json::from_value(serde_json::json!({"value": "07228", "n": 1})).unwrap(),
            ],
        )]);
        TableProfile::build(&shape(), 3, &aggregate(), &top, &samples())
    }

    #[test]
    fn a_profile_reads_the_counts_the_top_values_and_the_sample() {
        let p = profile();
        assert_eq!((p.table.as_str(), p.version, p.rows), ("dan_cu", 3, 4));
        let cccd = p.column("so_cccd").unwrap();
        assert_eq!((cccd.nulls, cccd.distinct, cccd.min_length, cccd.max_length), (0, 4, Some(2), Some(12)));
        assert_eq!(cccd.avg_length, Some(9.5));
        assert_eq!(cccd.patterns, vec![("NNNNNNNNNNNN".to_string(), 3), ("NN".to_string(), 1)]);
        let phones = &p.column("so_dien_thoai").unwrap().patterns;
        assert!(phones.contains(&("+NNNNNNNNNNN".to_string(), 1)), "{phones:?}");
        let name = p.column("ho_ten").unwrap();
        assert_eq!((name.legacy_encoding.as_deref(), name.legacy_values, name.sampled), (Some("TCVN3"), 2, 4));
        assert_eq!(p.column("ma_xa").unwrap().top_values, vec![("07210".to_string(), 2), ("07228".to_string(), 1)]);
        let born = p.column("ngay_sinh").unwrap();
        assert_eq!((born.nulls, born.min.as_deref(), born.sampled), (4, None, 0));
    }

    fn kinds(set: &RuleSet, column: &str) -> Vec<String> {
        set.checks
            .iter()
            .filter(|c| c.rule.columns().contains(&column))
            .map(|c| match &c.rule {
                Rule::Format { format, .. } => format!("format {}", format.as_str()),
                Rule::Standard { kind, .. } => format!("standard {kind}"),
                other => other.kind().to_string(),
            })
            .collect()
    }

    #[test]
    fn suggestions_follow_the_profile_and_the_standardisers() {
        let set = suggest(&profile(), &samples());
        set.check_against(&shape()).unwrap();
        // Three of four sampled CCCDs are valid: 75 % is not most, so no format check.
        assert_eq!(kinds(&set, "so_cccd"), ["not_null", "unique", "length"]);
        assert_eq!(kinds(&set, "ho_ten"), ["not_null", "standard name"]);
        assert_eq!(kinds(&set, "so_dien_thoai"), ["not_null", "format phone", "standard phone"]);
        assert_eq!(kinds(&set, "dia_chi"), ["standard address"]);
        assert_eq!(kinds(&set, "so_nguoi"), ["range"]);
        // Fixed five-character codes, one repeated: a length check, no uniqueness.
        assert_eq!(kinds(&set, "ma_xa"), ["not_null", "length"]);
        assert!(kinds(&set, "ngay_sinh").is_empty());
        let range = set.checks.iter().find(|c| c.rule.kind() == "range").unwrap();
        assert_eq!(
            range.rule,
            Rule::Range { column: "so_nguoi".into(), min: Some(Bound::Number(1.0)), max: Some(Bound::Number(12.0)) }
        );
        // The suggestion is a rules document that reads back the same.
        assert_eq!(RuleSet::parse(&set.to_yaml()).unwrap(), set);
    }

    #[test]
    fn a_format_is_suggested_when_most_values_are_valid_in_it() {
        let column = |kind| ColumnProfile {
            name: "x".into(),
            kind,
            nulls: 0,
            distinct: 0,
            min: None,
            max: None,
            min_length: None,
            avg_length: None,
            max_length: None,
            top_values: vec![],
            patterns: vec![],
            sampled: 0,
            legacy_encoding: None,
            legacy_values: 0,
        };
        let s = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        let text = column(ColumnKind::Text);
        assert_eq!(likely_format(&text, &s(&["001085012345", "079185000123"])), Some(Format::CitizenId));
        assert_eq!(likely_format(&text, &s(&["an@so.gov.vn", "b@x.vn"])), Some(Format::Email));
        assert_eq!(likely_format(&text, &s(&["05/03/2024", "2024-03-05"])), Some(Format::Date));
        assert_eq!(likely_format(&text, &s(&["0168 123 4567", "0912345678"])), Some(Format::Phone));
        assert_eq!(likely_format(&text, &s(&["Hà Nội", "0912345678"])), None);
        assert_eq!(likely_format(&column(ColumnKind::Integer), &s(&["0912345678"])), None);
    }

    #[test]
    fn names_are_read_folded() {
        assert_eq!(folded("Họ tên"), "ho_ten");
        assert!(name_like(&folded("Họ và tên chủ hộ")));
        assert!(name_like("ten"));
        assert!(!name_like("ten_truong"));
        assert!(address_like(&folded("Địa chỉ thường trú")));
        assert!(phone_like("sdt") && phone_like("so_dien_thoai"));
        assert!(id_like("ma_ho") && id_like("so_cccd") && id_like("user_id") && !id_like("so_nguoi"));
    }
}
