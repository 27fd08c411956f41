//! Reads the official 2025 administrative-unit list (đơn vị hành chính, GSO codes):
//! one row per commune or ward with its province. Used to seed and import commune
//! agencies; the full reference-data module builds on the same reader.

use crate::error::{Error, Result};

/// One row of `admin-units-2025.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminUnit {
    pub province_code: String,
    pub province_name: String,
    pub ward_code: String,
    pub ward_name: String,
    /// `xã`, `phường` or `đặc khu`.
    pub ward_type: String,
}

const REQUIRED: [&str; 5] = ["province_code", "province_name", "ward_code", "ward_name", "ward_type"];

/// Reads the list from CSV text; `source` names the file in error messages.
pub fn read_2025(source: &str, reader: impl std::io::Read) -> Result<Vec<AdminUnit>> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| Error::invalid("file", format!("{source}: cannot read the header row: {e}")))?
        .clone();
    let mut index = [0usize; 5];
    for (slot, name) in index.iter_mut().zip(REQUIRED) {
        *slot = headers.iter().position(|h| h.trim_start_matches('\u{feff}') == name).ok_or_else(|| {
            Error::invalid(
                "file",
                format!("{source}: the header has no column {name:?}; expected columns {}", REQUIRED.join(", ")),
            )
        })?;
    }
    let mut units = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| Error::invalid("file", format!("{source}, line {line}: {e}")))?;
        let get = |k: usize| record.get(index[k]).unwrap_or("").to_string();
        let unit = AdminUnit {
            province_code: get(0),
            province_name: get(1),
            ward_code: get(2),
            ward_name: get(3),
            ward_type: get(4),
        };
        for (value, column, len) in [(&unit.province_code, REQUIRED[0], 2), (&unit.ward_code, REQUIRED[2], 5)] {
            if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(
                    "file",
                    format!("{source}, line {line}, column {column}: {value:?} is not a {len}-digit code"),
                ));
            }
        }
        if unit.ward_name.is_empty() {
            return Err(Error::invalid("file", format!("{source}, line {line}, column ward_name: the name is empty")));
        }
        units.push(unit);
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_names_bad_cells() {
        let ok = "province_code,province_name,province_type,ward_code,ward_name,ward_type\n\
                  24,Tỉnh Bắc Ninh,tỉnh,07210,Phường Bắc Giang,phường\n";
        let units = read_2025("x.csv", ok.as_bytes()).unwrap();
        assert_eq!(units[0].ward_name, "Phường Bắc Giang");

        let bad = ok.replace("07210", "721");
        let err = read_2025("x.csv", bad.as_bytes()).unwrap_err();
        assert_eq!(err.message, "file: x.csv, line 2, column ward_code: \"721\" is not a 5-digit code");

        let err = read_2025("y.csv", "a,b\n1,2\n".as_bytes()).unwrap_err();
        assert!(err.message.contains("no column \"province_code\""));
    }
}
