//! Tuân thủ từ điển — whether a table's column holds what the data element it is bound
//! to says: the element's type, length, pattern and code list. The result, per column
//! and table version, is the share of the column's values that conform, with examples
//! of those that do not; the "unified" (thống nhất) quality criterion reads it.

use crate::dictionary::{ElementDraft, ValueType};
use kho_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Examples of violations kept per column.
pub const EXAMPLES: usize = 10;

/// One value that does not conform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Violation {
    /// The row of the table (1 = the first data row).
    pub row: u64,
    pub value: String,
    /// What is wrong, and what was expected.
    pub reason: String,
}

/// How one bound column conforms, in one table version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ColumnConformance {
    pub column: String,
    /// The element's identifier.
    pub element: String,
    /// Kho's version of the table.
    pub version: i64,
    pub rows: u64,
    /// Rows with a value (empty cells are completeness, not conformance).
    pub checked: u64,
    pub conforming: u64,
    /// `conforming / checked` (1 when nothing was checked).
    pub rate: f64,
    /// At most [`EXAMPLES`] of the violations, first rows first.
    pub violations: Vec<Violation>,
}

/// The checks of one element, made once and applied to every value of a column.
pub struct ColumnCheck {
    data_type: Option<ValueType>,
    max_length: Option<u32>,
    pattern: Option<(String, regex::Regex)>,
    code_list: Option<String>,
}

impl ColumnCheck {
    pub fn new(element: &ElementDraft) -> Result<Self> {
        let t = &element.technical;
        let pattern = match &t.pattern {
            None => None,
            Some(p) => {
                let compiled = regex::Regex::new(p).map_err(|e| {
                    Error::invalid(
                        "technical.pattern",
                        format!("element {}: {p:?} is not a pattern: {e}", element.identifier),
                    )
                })?;
                Some((p.clone(), compiled))
            }
        };
        Ok(Self {
            data_type: t.data_type,
            max_length: t.max_length,
            pattern,
            code_list: element.value_domain.code_list.clone(),
        })
    }

    /// The code list the values must belong to, if any.
    pub fn code_list(&self) -> Option<&str> {
        self.code_list.as_deref()
    }

    /// Why `value` does not conform, or `None`. `in_code_list` says whether a code
    /// belongs to the element's code list.
    pub fn check(&self, value: &str, in_code_list: &dyn Fn(&str) -> bool) -> Option<String> {
        let v = value.trim();
        let ok_type = match self.data_type {
            None | Some(ValueType::Text) | Some(ValueType::Code) => true,
            Some(ValueType::Integer) => v.strip_prefix('-').unwrap_or(v).bytes().all(|b| b.is_ascii_digit()),
            Some(ValueType::Decimal) => v.parse::<f64>().is_ok(),
            Some(ValueType::Date) => {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
                    || chrono::NaiveDate::parse_from_str(v, "%d/%m/%Y").is_ok()
            }
            Some(ValueType::Boolean) => matches!(v, "true" | "false"),
        };
        if !ok_type {
            let kind = serde_json::to_value(self.data_type).ok().and_then(|k| k.as_str().map(String::from));
            return Some(format!("not a {}", kind.unwrap_or_default()));
        }
        if let Some(max) = self.max_length {
            let n = v.chars().count();
            if n > max as usize {
                return Some(format!("{n} characters; at most {max}"));
            }
        }
        if let Some((text, p)) = &self.pattern {
            if !p.is_match(v) {
                return Some(format!("does not match {text}"));
            }
        }
        if let Some(list) = &self.code_list {
            if !in_code_list(v) {
                return Some(format!("not a code of the list {list}"));
            }
        }
        None
    }
}

/// Counts a column's values against a check, keeping the first violations.
pub struct Tally<'a> {
    check: &'a ColumnCheck,
    report: ColumnConformance,
}

impl<'a> Tally<'a> {
    pub fn new(check: &'a ColumnCheck, column: &str, element: &str, version: i64) -> Self {
        let report = ColumnConformance {
            column: column.into(),
            element: element.into(),
            version,
            rows: 0,
            checked: 0,
            conforming: 0,
            rate: 1.0,
            violations: Vec::new(),
        };
        Self { check, report }
    }

    /// The value of the next row (`None` for an empty cell).
    pub fn add(&mut self, value: Option<&str>, in_code_list: &dyn Fn(&str) -> bool) {
        self.report.rows += 1;
        let Some(v) = value.filter(|v| !v.trim().is_empty()) else { return };
        self.report.checked += 1;
        match self.check.check(v, in_code_list) {
            None => self.report.conforming += 1,
            Some(reason) if self.report.violations.len() < EXAMPLES => {
                self.report.violations.push(Violation { row: self.report.rows, value: v.to_string(), reason })
            }
            Some(_) => {}
        }
    }

    pub fn finish(mut self) -> ColumnConformance {
        let r = &mut self.report;
        r.rate = if r.checked == 0 { 1.0 } else { r.conforming as f64 / r.checked as f64 };
        self.report
    }
}

/// Whether a column's name (or header) looks like the element: its identifier, name or a
/// synonym, diacritics and separators ignored — how a binding is suggested.
pub fn names_match(column: &str, element: &ElementDraft) -> bool {
    let key = |s: &str| kho_vn::fold(s).chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>();
    let column = key(column);
    !column.is_empty()
        && std::iter::once(element.identifier.as_str())
            .chain(std::iter::once(element.name.as_str()))
            .chain(element.synonyms.iter().map(String::as_str))
            .any(|n| key(n) == column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(technical: serde_json::Value, code_list: Option<&str>) -> ElementDraft {
        serde_json::from_value(serde_json::json!({
            "identifier": "ma-xa", "name": "Mã xã", "definition": "Mã đơn vị hành chính cấp xã.",
            "technical": technical, "value_domain": {"code_list": code_list},
            "management": {"owner_agency_id": "a"}, "synonyms": ["mã phường xã"]
        }))
        .unwrap()
    }

    #[test]
    fn values_are_checked_for_type_length_pattern_and_code_list() {
        let e = element(
            serde_json::json!({"data_type": "code", "max_length": 5, "pattern": "^[0-9]{5}$"}),
            Some("admin-units"),
        );
        let check = ColumnCheck::new(&e).unwrap();
        let known = |c: &str| c == "07210";
        assert_eq!(check.check("07210", &known), None);
        assert_eq!(check.check("7210", &known).unwrap(), "does not match ^[0-9]{5}$");
        assert_eq!(check.check("072100", &known).unwrap(), "6 characters; at most 5");
        assert_eq!(check.check("99999", &known).unwrap(), "not a code of the list admin-units");
        let dates = ColumnCheck::new(&element(serde_json::json!({"data_type": "date"}), None)).unwrap();
        assert_eq!(dates.check("2025-07-01", &known), None);
        assert_eq!(dates.check("01/07/2025", &known), None);
        assert_eq!(dates.check("31/02/2025", &known).unwrap(), "not a date");
    }

    #[test]
    fn a_tally_counts_values_and_keeps_the_first_violations() {
        let check = ColumnCheck::new(&element(serde_json::json!({"pattern": "^[0-9]{5}$"}), None)).unwrap();
        let mut t = Tally::new(&check, "ma_xa", "ma-xa", 2);
        for v in ["07210", "", "abc", "07213"].into_iter().chain(std::iter::repeat_n("x", 20)) {
            t.add(Some(v), &|_| true);
        }
        t.add(None, &|_| true);
        let r = t.finish();
        assert_eq!((r.rows, r.checked, r.conforming), (25, 23, 2));
        assert_eq!(r.violations.len(), EXAMPLES);
        assert_eq!((r.violations[0].row, r.violations[0].value.as_str()), (3, "abc"));
        assert!((r.rate - 2.0 / 23.0).abs() < 1e-9);
    }

    #[test]
    fn bindings_are_suggested_by_name_and_synonyms() {
        let e = element(serde_json::json!({}), None);
        assert!(names_match("ma_xa", &e));
        assert!(names_match("Mã phường/xã", &e));
        assert!(!names_match("ma_tinh", &e));
    }
}
