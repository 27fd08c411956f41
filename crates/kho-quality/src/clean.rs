//! Làm sạch — the cleaning step's transforms and change report. A transform names a
//! column and the kind of value it holds (`ho_ten=name`, `so_dien_thoai=phone`); the
//! cleaning step writes each value's standard form into a new version of the table,
//! never in place. A value that cannot be made valid is kept as it was — never lost —
//! and counted as invalid. No IO: the server reads and writes the table.

use kho_standard::{Kind, Status};
use serde::{Deserialize, Serialize};

/// Changes kept as examples per column.
pub const EXAMPLES: usize = 10;

/// One column to standardise, and how (phép biến đổi).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    pub column: String,
    pub kind: Kind,
}

impl Transform {
    pub fn new(column: &str, kind: Kind) -> Self {
        Self { column: column.to_string(), kind }
    }

    /// Reads `column=kind` (`so_dien_thoai=phone`); the kinds are text, name, phone,
    /// citizen-id, tax-code, date, amount and address.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (column, kind) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not column=kind; write for example ho_ten=name or so_dien_thoai=phone"))?;
        let column = column.trim();
        if column.is_empty() {
            return Err(format!("{s:?} names no column; write column=kind, e.g. ho_ten=name"));
        }
        let kind = Kind::parse(kind).map_err(|m| format!("{column}: {m}"))?;
        Ok(Self::new(column, kind))
    }
}

impl std::str::FromStr for Transform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What the cleaning step did to one column (thay đổi của một cột).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ColumnChanges {
    pub column: String,
    /// The kind of value, as the transform named it (`name`, `phone`, …).
    pub kind: String,
    /// Non-empty values looked at.
    pub values: u64,
    /// Values already in their standard form.
    pub unchanged: u64,
    /// Values changed to their standard form.
    pub fixed: u64,
    /// Values that cannot be made valid; kept as they were.
    pub invalid: u64,
    /// The first changes, (before, after).
    #[schema(value_type = Vec<Object>)]
    pub examples: Vec<(String, String)>,
    /// The first invalid values, (value, why).
    #[schema(value_type = Vec<Object>)]
    pub invalid_examples: Vec<(String, String)>,
}

impl ColumnChanges {
    pub fn new(transform: &Transform) -> Self {
        Self {
            column: transform.column.clone(),
            kind: transform.kind.as_str().to_string(),
            values: 0,
            unchanged: 0,
            fixed: 0,
            invalid: 0,
            examples: vec![],
            invalid_examples: vec![],
        }
    }

    /// Standardises one value as `kind` and counts it: the new value when it changes,
    /// `None` when the value stays (already standard, empty, or invalid — an invalid
    /// value is kept as it was).
    pub fn apply(&mut self, kind: Kind, value: &str) -> Option<String> {
        if value.trim().is_empty() {
            return None;
        }
        self.values += 1;
        let s = kind.standardize(value, None);
        match s.status {
            Status::Ok => {
                self.unchanged += 1;
                None
            }
            Status::Fixed => {
                self.fixed += 1;
                if self.examples.len() < EXAMPLES {
                    self.examples.push((value.to_string(), s.output.clone()));
                }
                Some(s.output)
            }
            Status::Invalid => {
                self.invalid += 1;
                if self.invalid_examples.len() < EXAMPLES {
                    self.invalid_examples.push((value.to_string(), s.note));
                }
                None
            }
        }
    }
}

/// What a cleaning step changed (báo cáo thay đổi): version `from_version` read,
/// version `to_version` written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeReport {
    pub from_version: i64,
    pub to_version: i64,
    /// Rows of the table (the same in both versions).
    pub rows: u64,
    /// Rows with at least one value changed.
    pub rows_changed: u64,
    pub columns: Vec<ColumnChanges>,
}

impl ChangeReport {
    /// Values changed over every column.
    pub fn fixed(&self) -> u64 {
        self.columns.iter().map(|c| c.fixed).sum()
    }

    /// Values kept because they cannot be made valid, over every column.
    pub fn invalid(&self) -> u64 {
        self.columns.iter().map(|c| c.invalid).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transform_reads_column_equals_kind() {
        assert_eq!(Transform::parse("so_dien_thoai=phone").unwrap(), Transform::new("so_dien_thoai", Kind::Phone));
        assert_eq!(" so_cccd = citizen_id".parse::<Transform>().unwrap().kind, Kind::CitizenId);
        let e = Transform::parse("ho_ten").unwrap_err();
        assert!(e.contains("column=kind"), "{e}");
        let e = Transform::parse("ho_ten=colour").unwrap_err();
        assert!(e.starts_with("ho_ten: ") && e.contains("citizen-id"), "{e}");
        assert!(Transform::parse("=name").unwrap_err().contains("names no column"));
    }

    #[test]
    fn values_are_counted_fixed_or_kept() {
        let t = Transform::new("so_dien_thoai", Kind::Phone);
        let mut changes = ColumnChanges::new(&t);
        let out: Vec<Option<String>> = ["0168 123 4567", "+84912345678", "12", "", "  ", "0912.345.678"]
            .iter()
            .map(|v| changes.apply(t.kind, v))
            .collect();
        assert_eq!(out, [Some("+84381234567".to_string()), None, None, None, None, Some("+84912345678".to_string())]);
        assert_eq!((changes.values, changes.unchanged, changes.fixed, changes.invalid), (4, 1, 2, 1));
        assert_eq!(changes.examples[0], ("0168 123 4567".to_string(), "+84381234567".to_string()));
        assert_eq!(changes.invalid_examples[0].0, "12");
        assert_eq!(changes.kind, "phone");
    }

    #[test]
    fn legacy_names_become_unicode() {
        let t = Transform::new("ho_ten", Kind::Name);
        let mut changes = ColumnChanges::new(&t);
        let tcvn3 = kho_standard::to_tcvn3("Nguyễn Thị Thu Hà").unwrap();
        assert_eq!(changes.apply(t.kind, &tcvn3).as_deref(), Some("Nguyễn Thị Thu Hà"));
        assert_eq!(changes.apply(t.kind, "TRẦN văn  an").as_deref(), Some("Trần Văn An"));
        assert_eq!(changes.fixed, 2);
    }

    #[test]
    fn examples_stop_at_ten() {
        let t = Transform::new("ho_ten", Kind::Name);
        let mut a = ColumnChanges::new(&t);
        for i in 0..8 {
            a.apply(t.kind, &format!("an {}", "x".repeat(i + 1)));
            a.apply(t.kind, &format!("binh {}", "y".repeat(i + 1)));
        }
        a.apply(t.kind, "Bình 2");
        assert_eq!((a.values, a.fixed, a.invalid), (17, 16, 1));
        assert_eq!(a.examples.len(), EXAMPLES);
        let report = ChangeReport { from_version: 1, to_version: 2, rows: 17, rows_changed: 16, columns: vec![a] };
        assert_eq!((report.fixed(), report.invalid()), (16, 1));
    }
}
