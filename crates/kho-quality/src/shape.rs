//! The shape of a table as the checks see it: its name and its columns' kinds.

use serde::{Deserialize, Serialize};

/// What a column holds, as far as the checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    Integer,
    Decimal,
    Boolean,
    Date,
    Timestamp,
    Other,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Text => "text",
            ColumnKind::Integer => "integer",
            ColumnKind::Decimal => "decimal",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Date => "date",
            ColumnKind::Timestamp => "timestamp",
            ColumnKind::Other => "other",
        }
    }

    /// The kind of an Arrow type, from its display name (`Utf8`, `Int64`,
    /// `Decimal128(38, 4)`, `Date32`, `Timestamp(Microsecond, None)`, …).
    pub fn from_arrow_name(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if n.contains("utf8") || n == "string" {
            ColumnKind::Text
        } else if n.starts_with("int") || n.starts_with("uint") {
            ColumnKind::Integer
        } else if n.starts_with("float") || n.starts_with("decimal") {
            ColumnKind::Decimal
        } else if n == "boolean" {
            ColumnKind::Boolean
        } else if n.starts_with("date") {
            ColumnKind::Date
        } else if n.starts_with("timestamp") {
            ColumnKind::Timestamp
        } else {
            ColumnKind::Other
        }
    }

    pub fn is_number(self) -> bool {
        matches!(self, ColumnKind::Integer | ColumnKind::Decimal)
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(name: &str, kind: ColumnKind) -> Self {
        Self { name: name.to_string(), kind }
    }
}

/// A table: its name (as SQL names it) and its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableShape {
    pub name: String,
    pub columns: Vec<Column>,
}

impl TableShape {
    pub fn new(name: &str, columns: Vec<Column>) -> Self {
        Self { name: name.to_string(), columns }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_types_map_to_kinds() {
        for (name, kind) in [
            ("Utf8", ColumnKind::Text),
            ("Utf8View", ColumnKind::Text),
            ("Int64", ColumnKind::Integer),
            ("Decimal128(38, 4)", ColumnKind::Decimal),
            ("Float64", ColumnKind::Decimal),
            ("Date32", ColumnKind::Date),
            ("Timestamp(Microsecond, Some(\"UTC\"))", ColumnKind::Timestamp),
            ("Boolean", ColumnKind::Boolean),
            ("Binary", ColumnKind::Other),
        ] {
            assert_eq!(ColumnKind::from_arrow_name(name), kind, "{name}");
        }
    }
}
