//! Kế hoạch kiểm tra — how a rule set runs: every row-level check becomes one column of
//! a single aggregate query (one pass over the table however many checks there are);
//! uniqueness, references and custom SQL get a query each; the schema, the last load's
//! age and the standard-form checks are answered without SQL by the caller
//! ([`Observed`]). [`Plan::results`] turns what the queries returned into
//! [`CheckResult`]s; [`Plan::sample_sql`] asks for a failing check's first rows.
//!
//! The SQL is written for DataFusion (Kho's engine) or DuckDB (the benchmark's
//! reference), which differ only in the name of the regular-expression function.

use crate::result::{CheckResult, Observed};
use crate::rules::{Bound, Check, Format, Rule, RuleSet};
use crate::shape::{ColumnKind, TableShape};
use chrono::NaiveDate;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Which SQL engine the plan is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DataFusion,
    DuckDb,
}

/// Code lists' codes, by list and the date they are wanted as of.
pub type CodeLists = BTreeMap<(String, Option<NaiveDate>), Vec<String>>;

/// How one check is answered.
#[derive(Debug, Clone)]
enum Step {
    /// Failing rows are the aggregate's column `f{i}`; rows checked the aggregate's `n`.
    Rows { fails: String },
    /// The aggregate's `n` against bounds.
    RowCount,
    /// The aggregate's column `x{i}`: the newest value of a date column.
    NewestValue,
    /// A query returning one row with `failed` and `checked`.
    Query(String),
    /// Answered by the caller.
    Local,
}

/// A rule set made into SQL for one table.
#[derive(Debug, Clone)]
pub struct Plan {
    table: String,
    checks: Vec<Check>,
    steps: Vec<Step>,
    aggregate: String,
    dialect: Dialect,
}

/// `"name"`, with quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Plan {
    /// Plans `rules` (already checked against `shape`) with the code lists they name.
    pub fn new(rules: &RuleSet, shape: &TableShape, code_lists: &CodeLists, dialect: Dialect) -> Result<Self, String> {
        let planner = Planner { shape, dialect };
        let mut steps = Vec::new();
        let mut measures = vec!["count(*) AS n".to_string()];
        for (i, check) in rules.checks.iter().enumerate() {
            let step = planner.step(check, code_lists)?;
            match &step {
                Step::Rows { fails } => {
                    measures.push(format!("sum(CASE WHEN {fails} THEN 1 ELSE 0 END) AS f{i}"));
                }
                Step::NewestValue => {
                    let column = check.rule.columns()[0];
                    measures.push(format!("CAST(max({}) AS VARCHAR) AS x{i}", ident(column)));
                }
                _ => {}
            }
            steps.push(step);
        }
        // Values present in each column: completeness when no not_null check says more.
        for (j, c) in shape.columns.iter().enumerate() {
            measures.push(format!("count({}) AS v{j}", ident(&c.name)));
        }
        let aggregate = format!("SELECT {} FROM {}", measures.join(", "), ident(&shape.name));
        Ok(Self { table: shape.name.clone(), checks: rules.checks.clone(), steps, aggregate, dialect })
    }

    /// The one query over every row.
    pub fn aggregate_sql(&self) -> &str {
        &self.aggregate
    }

    /// The other queries, each with the index of its check.
    pub fn queries(&self) -> Vec<(usize, &str)> {
        self.steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Step::Query(sql) => Some((i, sql.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The checks the caller answers: schema, the last load's age, standard forms.
    pub fn local_checks(&self) -> Vec<(usize, &Check)> {
        self.steps
            .iter()
            .zip(&self.checks)
            .enumerate()
            .filter_map(|(i, (s, c))| matches!(s, Step::Local).then_some((i, c)))
            .collect()
    }

    /// A query for the first `limit` failing rows of check `i`, when rows can show it.
    pub fn sample_sql(&self, i: usize, limit: usize) -> Option<String> {
        let table = ident(&self.table);
        match (&self.steps[i], &self.checks[i].rule) {
            (Step::Rows { fails }, _) => Some(format!("SELECT * FROM {table} WHERE {fails} LIMIT {limit}")),
            (Step::Query(_), Rule::Unique(cs)) => {
                let cols: Vec<String> = cs.names().iter().map(|c| ident(c)).collect();
                Some(format!(
                    "SELECT {cols}, count(*) AS so_dong FROM {table} WHERE {present} GROUP BY {cols} \
                     HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT {limit}",
                    cols = cols.join(", "),
                    present = present(&cols)
                ))
            }
            (Step::Query(_), Rule::Reference { column, table: other, target }) => Some(format!(
                "SELECT * FROM {table} AS t WHERE {} LIMIT {limit}",
                missing_reference(column, other, target.as_deref())
            )),
            (Step::Query(_), Rule::Sql(sql)) => {
                Some(format!("SELECT * FROM ({}) AS failing LIMIT {limit}", strip(sql)))
            }
            _ => None,
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Every check's result from what the queries and the caller observed.
    pub fn results(&self, observed: &Observed) -> Vec<CheckResult> {
        let rows = int(&observed.aggregate, "n");
        self.checks
            .iter()
            .enumerate()
            .map(|(i, check)| {
                let base = CheckResult::of(check);
                match &self.steps[i] {
                    Step::Rows { .. } => base.counted(rows, int(&observed.aggregate, &format!("f{i}"))),
                    Step::RowCount => {
                        let Rule::RowCount { min, max } = &check.rule else { unreachable!("a row count step") };
                        let within = min.is_none_or(|m| rows >= m) && max.is_none_or(|m| rows <= m);
                        base.all_or_nothing(within, Some(rows.to_string()))
                    }
                    Step::NewestValue => {
                        let newest = observed.aggregate.get(&format!("x{i}")).and_then(Value::as_str);
                        crate::result::freshness(
                            check,
                            newest.and_then(crate::result::parse_time),
                            observed.now,
                            Some(rows),
                        )
                    }
                    Step::Query(_) => match observed.queries.get(&i) {
                        Some(row) => {
                            let checked = row.get("checked").map_or(rows, |_| int(row, "checked"));
                            base.counted(checked, int(row, "failed"))
                        }
                        None => base.not_run("the query did not run"),
                    },
                    Step::Local => match observed.local.get(&i) {
                        Some(result) => result.clone(),
                        None => base.not_run("not observed"),
                    },
                }
            })
            .collect()
    }

    /// Rows of the table, as the aggregate counted them.
    pub fn rows(observed: &Observed) -> u64 {
        int(&observed.aggregate, "n")
    }

    /// The share of cells holding a value, over every column.
    pub fn filled_share(&self, observed: &Observed, columns: usize) -> Option<f64> {
        let rows = int(&observed.aggregate, "n");
        if rows == 0 || columns == 0 {
            return None;
        }
        let filled: u64 = (0..columns).map(|j| int(&observed.aggregate, &format!("v{j}"))).sum();
        Some(filled as f64 / (rows as f64 * columns as f64))
    }
}

/// A number from a row of query output (SQL sums are null over no rows).
fn int(row: &Map<String, Value>, key: &str) -> u64 {
    match row.get(key) {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)).unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A custom query without a trailing `;`.
fn strip(sql: &str) -> &str {
    sql.trim().trim_end_matches(';').trim_end()
}

fn present(cols: &[String]) -> String {
    cols.iter().map(|c| format!("{c} IS NOT NULL")).collect::<Vec<_>>().join(" AND ")
}

/// Rows of `t` whose `column` names no row of `other`.
fn missing_reference(column: &str, other: &str, target: Option<&str>) -> String {
    let (schema, table) = other.split_once('.').unwrap_or(("", other));
    let other = if schema.is_empty() { ident(table) } else { format!("{}.{}", ident(schema), ident(table)) };
    let c = ident(column);
    let target = ident(target.unwrap_or(column));
    format!(
        "t.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {other} AS r \
         WHERE CAST(r.{target} AS VARCHAR) = CAST(t.{c} AS VARCHAR))"
    )
}

struct Planner<'a> {
    shape: &'a TableShape,
    dialect: Dialect,
}

impl Planner<'_> {
    fn kind(&self, column: &str) -> ColumnKind {
        self.shape.column(column).map_or(ColumnKind::Other, |c| c.kind)
    }

    /// The column as text (a number keeps its digits; leading zeros it lost are not
    /// guessed back).
    fn text(&self, column: &str) -> String {
        match self.kind(column) {
            ColumnKind::Text => ident(column),
            _ => format!("CAST({} AS VARCHAR)", ident(column)),
        }
    }

    fn matches(&self, expr: &str, pattern: &str) -> String {
        let function = match self.dialect {
            Dialect::DataFusion => "regexp_like",
            Dialect::DuckDb => "regexp_matches",
        };
        format!("{function}({expr}, {})", literal(pattern))
    }

    /// A condition true for a failing row.
    fn step(&self, check: &Check, code_lists: &CodeLists) -> Result<Step, String> {
        let table = ident(&self.shape.name);
        let rows = |fails: String| Ok(Step::Rows { fails });
        match &check.rule {
            Rule::RowCount { .. } => Ok(Step::RowCount),
            Rule::NotNull(cs) => rows(
                cs.names()
                    .iter()
                    .map(|c| match self.kind(c) {
                        ColumnKind::Text => format!("({0} IS NULL OR trim({0}) = '')", ident(c)),
                        _ => format!("{} IS NULL", ident(c)),
                    })
                    .collect::<Vec<_>>()
                    .join(" OR "),
            ),
            Rule::Unique(cs) => {
                let cols: Vec<String> = cs.names().iter().map(|c| ident(c)).collect();
                Ok(Step::Query(format!(
                    "SELECT coalesce(sum(c), 0) AS checked, coalesce(sum(CASE WHEN c > 1 THEN c ELSE 0 END), 0) \
                     AS failed FROM (SELECT count(*) AS c FROM {table} WHERE {} GROUP BY {}) AS g",
                    present(&cols),
                    cols.join(", ")
                )))
            }
            Rule::Regex { column, pattern } => {
                rows(format!("{} IS NOT NULL AND NOT {}", ident(column), self.matches(&self.text(column), pattern)))
            }
            Rule::Format { column, format } => match self.format_valid(column, *format) {
                Some(valid) => rows(format!("{} IS NOT NULL AND NOT ({valid})", ident(column))),
                None => rows("FALSE".into()),
            },
            Rule::CodeList { column, list, as_of } => {
                let codes = code_lists
                    .get(&(list.clone(), *as_of))
                    .ok_or_else(|| format!("the code list {list:?} was not given to the plan"))?;
                if codes.is_empty() {
                    return rows(format!("{} IS NOT NULL", ident(column)));
                }
                let codes: Vec<String> = codes.iter().map(|c| literal(c)).collect();
                rows(format!("{} NOT IN ({})", self.text(column), codes.join(", ")))
            }
            Rule::Range { column, min, max } => {
                let bound = |b: &Bound| match b {
                    Bound::Number(n) => format!("{n}"),
                    Bound::Date(d) => format!("CAST({} AS DATE)", literal(d)),
                };
                let c = ident(column);
                let mut parts = Vec::new();
                if let Some(b) = min {
                    parts.push(format!("{c} < {}", bound(b)));
                }
                if let Some(b) = max {
                    parts.push(format!("{c} > {}", bound(b)));
                }
                rows(format!("({})", parts.join(" OR ")))
            }
            Rule::Length { column, min, max } => {
                let len = format!("length({})", self.text(column));
                let mut parts = Vec::new();
                if let Some(m) = min {
                    parts.push(format!("{len} < {m}"));
                }
                if let Some(m) = max {
                    parts.push(format!("{len} > {m}"));
                }
                rows(format!("({})", parts.join(" OR ")))
            }
            Rule::Reference { column, table: other, target } => Ok(Step::Query(format!(
                "SELECT count(*) AS failed FROM {table} AS t WHERE {}",
                missing_reference(column, other, target.as_deref())
            ))),
            Rule::Freshness { column: Some(_), .. } => Ok(Step::NewestValue),
            Rule::Freshness { column: None, .. } | Rule::Schema { .. } | Rule::Standard { .. } => Ok(Step::Local),
            Rule::Sql(sql) => Ok(Step::Query(format!("SELECT count(*) AS failed FROM ({}) AS failing", strip(sql)))),
        }
    }

    /// A condition true for a valid value, `None` when every value of the column is.
    fn format_valid(&self, column: &str, format: Format) -> Option<String> {
        let kind = self.kind(column);
        let text = self.text(column);
        Some(match format {
            Format::Date if matches!(kind, ColumnKind::Date | ColumnKind::Timestamp) => return None,
            Format::Date => self.matches(
                &format!("trim({text})"),
                r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4})$",
            ),
            Format::Email => self.matches(&text, r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
            Format::Phone => {
                // A number column lost its leading 0: put it back.
                let digits = match kind {
                    ColumnKind::Text => format!("regexp_replace({text}, '[ .()-]', '', 'g')"),
                    _ => format!("'0' || {text}"),
                };
                self.matches(&digits, r"^(\+?84|0)([35789][0-9]{8}|2[0-9]{9})$")
            }
            Format::CitizenId => {
                let mut codes: Vec<String> = kho_standard::province_codes().iter().map(|c| literal(c)).collect();
                codes.sort();
                format!("{} AND substr({text}, 2, 2) IN ({})", self.matches(&text, "^0[0-9]{11}$"), codes.join(", "))
            }
            Format::TaxCode => {
                const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];
                let digit = |p: usize| format!("TRY_CAST(substr({text}, {p}, 1) AS INTEGER)");
                let sum: Vec<String> =
                    WEIGHTS.iter().enumerate().map(|(i, w)| format!("{w} * {}", digit(i + 1))).collect();
                format!(
                    "{} AND (10 - ({}) % 11) = {}",
                    self.matches(&text, "^[0-9]{10}(-[0-9]{3})?$"),
                    sum.join(" + "),
                    digit(10)
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Column;

    fn shape() -> TableShape {
        TableShape::new(
            "ho",
            vec![Column::new("so_cccd", ColumnKind::Text), Column::new("thu_nhap", ColumnKind::Integer)],
        )
    }

    fn plan(text: &str, dialect: Dialect) -> Plan {
        let rules = RuleSet::parse(text).unwrap();
        rules.check_against(&shape()).unwrap();
        let mut lists = CodeLists::new();
        lists.insert(("tinh".into(), None), vec!["01".into(), "79".into()]);
        Plan::new(&rules, &shape(), &lists, dialect).unwrap()
    }

    #[test]
    fn row_checks_share_one_aggregate_query() {
        let p = plan(
            "checks: [{not_null: so_cccd}, {range: {column: thu_nhap, min: 0}}, {code_list: {column: so_cccd, list: tinh}}, {row_count: {min: 1}}]",
            Dialect::DataFusion,
        );
        let sql = p.aggregate_sql();
        assert!(
            sql.starts_with("SELECT count(*) AS n, sum(CASE WHEN (\"so_cccd\" IS NULL OR trim(\"so_cccd\") = '')"),
            "{sql}"
        );
        assert!(sql.contains("\"thu_nhap\" < 0"), "{sql}");
        assert!(sql.contains("NOT IN ('01', '79')"), "{sql}");
        assert!(sql.ends_with("count(\"thu_nhap\") AS v1 FROM \"ho\""), "{sql}");
        assert!(p.queries().is_empty());
        assert!(p.sample_sql(0, 5).unwrap().ends_with("LIMIT 5"));
        assert!(p.sample_sql(3, 5).is_none());
    }

    #[test]
    fn uniqueness_references_and_custom_sql_are_queries_of_their_own() {
        let p = plan(
            "checks: [{unique: [so_cccd, thu_nhap]}, {reference: {column: so_cccd, table: dan-cu.cong_dan, target: cccd}}, {sql: 'SELECT * FROM ho WHERE thu_nhap < 0;'}]",
            Dialect::DataFusion,
        );
        let queries = p.queries();
        assert_eq!(queries.len(), 3);
        assert!(queries[0].1.contains("GROUP BY \"so_cccd\", \"thu_nhap\""), "{}", queries[0].1);
        assert!(queries[1].1.contains("FROM \"dan-cu\".\"cong_dan\" AS r"), "{}", queries[1].1);
        assert_eq!(queries[2].1, "SELECT count(*) AS failed FROM (SELECT * FROM ho WHERE thu_nhap < 0) AS failing");
        assert!(p.sample_sql(0, 3).unwrap().contains("HAVING count(*) > 1"));
    }

    #[test]
    fn the_dialect_names_the_regex_function() {
        let rules = "checks: [{regex: {column: so_cccd, pattern: '^[0-9]+$'}}]";
        assert!(plan(rules, Dialect::DataFusion).aggregate_sql().contains("regexp_like(\"so_cccd\", '^[0-9]+$')"));
        assert!(plan(rules, Dialect::DuckDb).aggregate_sql().contains("regexp_matches(\"so_cccd\", '^[0-9]+$')"));
    }

    #[test]
    fn quotes_in_names_and_values_are_doubled() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn results_read_the_counts_against_thresholds() {
        let p = plan(
            "checks: [{not_null: so_cccd, threshold: 90}, {not_null: thu_nhap}, {row_count: {min: 100}}]",
            Dialect::DataFusion,
        );
        let mut observed = Observed::at(chrono::Utc::now());
        observed.aggregate = serde_json::from_str(r#"{"n": 50, "f0": 4, "f1": 1, "v0": 46, "v1": 49}"#).unwrap();
        let results = p.results(&observed);
        assert!(results[0].passed, "{:?}", results[0]);
        assert_eq!((results[0].checked, results[0].failed), (50, 4));
        assert!(!results[1].passed);
        assert!(!results[2].passed);
        assert_eq!(results[2].observed.as_deref(), Some("50"));
        assert_eq!(p.filled_share(&observed, 2), Some(0.95));
    }
}
