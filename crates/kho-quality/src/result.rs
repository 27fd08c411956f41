//! Kết quả kiểm tra — what a check found: rows checked and failing, the pass rate
//! against the threshold, and the first failing rows.

use crate::rules::{parse_within, Check, Criterion, Rule, Severity};
use crate::shape::TableShape;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One check's outcome on one table version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckResult {
    /// The check's name (given, or generated: `not_null(so_cccd)`).
    pub check: String,
    /// Its kind as the rules file writes it (`not_null`, `format`, …).
    pub kind: String,
    pub columns: Vec<String>,
    pub severity: Severity,
    pub criterion: Criterion,
    /// The share of rows that must pass, 0–1.
    pub threshold: f64,
    /// Rows the check looked at.
    pub checked: u64,
    /// Rows that failed it.
    pub failed: u64,
    /// `1 − failed / checked` (1 when nothing was checked), 0–1.
    pub pass_rate: f64,
    pub passed: bool,
    /// What was seen, for checks not about rows: the row count, the newest date, the
    /// columns missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// Why the check could not be answered, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first failing rows (or duplicate keys with their counts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<Value>,
}

impl CheckResult {
    /// A result for `check` with nothing counted yet.
    pub fn of(check: &Check) -> Self {
        Self {
            check: check.display_name(),
            kind: check.rule.kind().to_string(),
            columns: check.rule.columns().iter().map(|c| c.to_string()).collect(),
            severity: check.severity,
            criterion: check.rule.criterion(),
            threshold: check.threshold_share(),
            checked: 0,
            failed: 0,
            pass_rate: 1.0,
            passed: true,
            observed: None,
            error: None,
            samples: vec![],
        }
    }

    /// `failed` of `checked` rows failed.
    pub fn counted(mut self, checked: u64, failed: u64) -> Self {
        self.checked = checked;
        self.failed = failed.min(checked.max(failed));
        self.pass_rate = if checked == 0 { 1.0 } else { 1.0 - (failed as f64 / checked as f64).min(1.0) };
        // A rounding margin: 98 % of rows passing meets a 98 % threshold.
        self.passed = self.pass_rate + 1e-9 >= self.threshold;
        self
    }

    /// A check the table meets or not as a whole.
    pub fn all_or_nothing(mut self, met: bool, observed: Option<String>) -> Self {
        self.checked = 1;
        self.failed = u64::from(!met);
        self.pass_rate = if met { 1.0 } else { 0.0 };
        self.passed = met;
        self.observed = observed;
        self
    }

    /// A check that could not be answered: it fails, and says why.
    pub fn not_run(mut self, why: &str) -> Self {
        self.error = Some(why.to_string());
        self.passed = false;
        self.pass_rate = 0.0;
        self
    }
}

/// A freshness check's result as of `now`, the newest time being `newest`.
pub fn freshness(check: &Check, newest: Option<DateTime<Utc>>, now: DateTime<Utc>, rows: Option<u64>) -> CheckResult {
    let base = CheckResult::of(check);
    let within = match &check.rule {
        Rule::Freshness { within, .. } => parse_within(within).ok(),
        _ => None,
    };
    match (newest, within) {
        (_, None) => base.not_run("the check's `within` cannot be read"),
        (Some(t), Some(within)) => {
            let age = now - t;
            let observed = format!("{} ({} days old)", t.format("%Y-%m-%d %H:%M"), age.num_days());
            base.all_or_nothing(age <= within, Some(observed))
        }
        (None, _) if rows == Some(0) => base.all_or_nothing(false, Some("no rows".into())),
        (None, _) => base.all_or_nothing(false, Some("no date".into())),
    }
}

/// A schema check against the table's shape.
pub fn schema(check: &Check, shape: &TableShape) -> CheckResult {
    let base = CheckResult::of(check);
    let Rule::Schema { columns } = &check.rule else {
        return base.not_run("not a schema check");
    };
    let mut wrong = Vec::new();
    for (name, kind) in columns {
        match shape.column(name) {
            None => wrong.push(format!("{name}: missing")),
            Some(c) if c.kind.as_str() != kind => wrong.push(format!("{name}: {} not {kind}", c.kind.as_str())),
            Some(_) => {}
        }
    }
    let checked = columns.len() as u64;
    let failed = wrong.len() as u64;
    let mut result = base.counted(checked, failed);
    // Every column must be there: the threshold does not excuse a missing one.
    result.passed = failed == 0;
    result.observed = (!wrong.is_empty()).then(|| wrong.join("; "));
    result
}

/// A `standard` check's result from what the standardiser found in the column: every
/// value it would change or cannot make valid fails a row.
pub fn standard(check: &Check, found: &crate::clean::ColumnChanges) -> CheckResult {
    let mut r = CheckResult::of(check).counted(found.values, found.fixed + found.invalid);
    r.observed = Some(format!("{} fixable, {} invalid", found.fixed, found.invalid));
    let fixable = found.examples.iter().map(|(value, standard)| (value, standard.clone()));
    let invalid = found.invalid_examples.iter().map(|(value, why)| (value, format!("invalid: {why}")));
    r.samples = fixable
        .chain(invalid)
        .take(5)
        .map(|(value, standard)| serde_json::json!({"value": value, "standard": standard}))
        .collect();
    r
}

/// What the queries returned and the caller saw, for [`crate::Plan::results`].
#[derive(Debug, Clone)]
pub struct Observed {
    /// The aggregate query's one row.
    pub aggregate: Map<String, Value>,
    /// Each other query's one row, by check index.
    pub queries: BTreeMap<usize, Map<String, Value>>,
    /// The results of the checks the caller answered, by check index.
    pub local: BTreeMap<usize, CheckResult>,
    pub now: DateTime<Utc>,
}

impl Observed {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { aggregate: Map::new(), queries: BTreeMap::new(), local: BTreeMap::new(), now }
    }
}

/// A time as SQL engines print one (`2025-07-01`, `2025-07-01 08:00:00`,
/// `2025-07-01T08:00:00.123`, with or without a zone), taken as UTC.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let plain = s.trim_end_matches('Z').replace('T', " ");
    let plain = plain.split('+').next().unwrap_or(&plain).trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(plain, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(plain, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use crate::shape::{Column, ColumnKind};

    fn check(text: &str) -> Check {
        RuleSet::parse(text).unwrap().checks.remove(0)
    }

    #[test]
    fn engines_times_are_read() {
        let t = parse_time("2025-07-01 08:30:00").unwrap();
        assert_eq!(t.format("%F %R").to_string(), "2025-07-01 08:30");
        assert_eq!(parse_time("2025-07-01T08:30:00.250"), parse_time("2025-07-01 08:30:00.250"));
        assert_eq!(parse_time("2025-07-01").unwrap().format("%F").to_string(), "2025-07-01");
        assert!(parse_time("hôm qua").is_none());
    }

    #[test]
    fn freshness_passes_within_its_window() {
        let c = check("checks: [{freshness: {within: 7d}}]");
        let now = parse_time("2025-07-10").unwrap();
        assert!(freshness(&c, parse_time("2025-07-05"), now, None).passed);
        let old = freshness(&c, parse_time("2025-06-01"), now, None);
        assert!(!old.passed);
        assert!(old.observed.unwrap().contains("39 days old"));
        assert!(!freshness(&c, None, now, Some(0)).passed);
    }

    #[test]
    fn a_schema_check_names_what_is_missing_or_of_another_type() {
        let c = check("checks: [{schema: {columns: {so_cccd: text, thu_nhap: integer, ngay: date}}}]");
        let shape = TableShape::new(
            "ho",
            vec![Column::new("so_cccd", ColumnKind::Text), Column::new("thu_nhap", ColumnKind::Text)],
        );
        let r = schema(&c, &shape);
        assert!(!r.passed);
        assert_eq!(r.observed.as_deref(), Some("ngay: missing; thu_nhap: text not integer"));
    }

    #[test]
    fn a_standard_tally_counts_fixable_and_invalid_values() {
        let c = check("checks: [{standard: {column: sdt, kind: phone}}]");
        let mut tally =
            crate::clean::ColumnChanges::new(&crate::clean::Transform::new("sdt", kho_standard::Kind::Phone));
        for v in ["+84912345678", "0912 345 678", "12", " "] {
            tally.apply(kho_standard::Kind::Phone, v);
        }
        assert_eq!((tally.values, tally.fixed, tally.invalid), (3, 1, 1));
        let r = standard(&c, &tally);
        assert_eq!((r.checked, r.failed, r.passed), (3, 2, false));
        assert_eq!(r.samples[0]["standard"], "+84912345678");
    }

    #[test]
    fn a_threshold_lets_some_rows_fail() {
        let c = check("checks: [{not_null: a, threshold: 98}]");
        assert!(CheckResult::of(&c).counted(100, 2).passed);
        assert!(!CheckResult::of(&c).counted(100, 3).passed);
        assert!(CheckResult::of(&c).counted(0, 0).passed);
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A load made the version.
    Load,
    /// Someone asked (CLI, API, UI).
    Manual,
    /// The cleaning step made the version.
    Cleaning,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Load => "load",
            Trigger::Manual => "manual",
            Trigger::Cleaning => "cleaning",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Trigger::Load, Trigger::Manual, Trigger::Cleaning].into_iter().find(|t| t.as_str() == s)
    }
}

/// One run of a table's checks on one version (lần kiểm tra), with its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QualityRun {
    /// Assigned by the store.
    pub id: i64,
    pub resource_id: String,
    pub table: String,
    /// Kho's version of the table the run checked.
    pub version: i64,
    pub trigger: Trigger,
    pub run_by: String,
    pub started_at: DateTime<Utc>,
    pub elapsed_ms: u64,
    pub rows: u64,
    pub results: Vec<CheckResult>,
    pub scores: crate::Scores,
}

impl QualityRun {
    /// Checks that failed, worst first.
    pub fn failures(&self) -> Vec<&CheckResult> {
        let mut out: Vec<&CheckResult> = self.results.iter().filter(|r| !r.passed).collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.severity));
        out
    }

    /// Whether every `error`-level check passed.
    pub fn errors_pass(&self) -> bool {
        self.results.iter().all(|r| r.passed || r.severity != Severity::Error)
    }
}
