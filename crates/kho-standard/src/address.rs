//! Addresses (địa chỉ): read into street, commune and province, with legacy units
//! (before 1 July 2025) converted to the 2025 units by the reference data's converter.

use kho_refdata::{AdminUnits, Kind, Unit};

use crate::text::rules as text_rules;
use crate::{join_notes, standardize, Outcome, Standardized};

/// An address in the 2025 units. The 2025 units have no district (huyện): a legacy
/// district in the input only helps to find the commune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressParts {
    /// What stands left of the commune: house number, street, hamlet (số nhà, đường,
    /// thôn); may be empty.
    pub street: String,
    /// The 2025 commune (xã, phường, đặc khu) with its type word, e.g. `Phường Đa Mai`.
    pub commune: String,
    /// The 2025 commune code (mã xã), five digits.
    pub commune_code: String,
    /// The 2025 province (tỉnh, thành phố) with its type word, e.g. `Tỉnh Bắc Ninh`.
    pub province: String,
    /// The 2025 province code (mã tỉnh), two digits.
    pub province_code: String,
    /// How the input's units led to the commune: `Exact` (already 2025), `Merged`
    /// (sáp nhập) or `SplitDefault` (chia tách, the lineage's default unit).
    pub kind: Kind,
}

impl AddressParts {
    /// `street, commune, province`, without the street when there is none.
    pub fn to_line(&self) -> String {
        [self.street.as_str(), &self.commune, &self.province]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads an address (legacy TCVN3 or VNI text converted first) into its 2025 parts;
/// the error says why no single 2025 commune can be named.
pub fn parse_address(s: &str) -> Result<AddressParts, String> {
    let (text, _) = text_rules(s);
    parts(&text)
}

fn parts(text: &str) -> Result<AddressParts, String> {
    let conversion = AdminUnits::embedded().convert_address(text);
    let unit: Unit = match (conversion.kind, conversion.unit) {
        (Kind::Exact | Kind::Merged | Kind::SplitDefault, Some(unit)) => unit,
        (Kind::SplitCandidates, _) => {
            let names: Vec<&str> = conversion.candidates.iter().map(|u| u.name.as_str()).collect();
            return Err(format!("several 2025 communes are possible: {}", names.join(", ")));
        }
        _ => return Err("no commune and province recognised".into()),
    };
    Ok(AddressParts {
        street: conversion.rest,
        commune: unit.name,
        commune_code: unit.code,
        province: unit.province_name,
        province_code: unit.province_code,
        kind: conversion.kind,
    })
}

/// Standardises an address to `street, commune, province` in the 2025 units
/// (`123 Lê Lợi, P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang` → `123 Lê Lợi, Phường Đa Mai,
/// Tỉnh Bắc Ninh`). `invalid` when no commune is recognised or several are possible.
pub fn address(s: &str) -> Standardized {
    standardize(s, rules)
}

fn rules(s: &str) -> Outcome {
    let (text, text_note) = text_rules(s);
    let parts = parts(&text)?;
    let kind_note = match parts.kind {
        Kind::Merged => "legacy units converted to 2025 (merged)",
        Kind::SplitDefault => "legacy units converted to 2025 (split; the default unit taken)",
        _ => "",
    };
    let output = parts.to_line();
    let format_note = if output != text && kind_note.is_empty() { "written in full" } else { "" };
    Ok((output, join_notes([text_note.as_str(), kind_note, format_note])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn legacy_addresses_become_2025_addresses() {
        let cases = [
            (
                "123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang",
                "123 Lê Lợi, Phường Đa Mai, Tỉnh Bắc Ninh",
                Status::Fixed,
            ),
            ("Phường Tân Mỹ, Tỉnh Bắc Ninh", "Phường Đa Mai, Tỉnh Bắc Ninh", Status::Fixed),
            (
                "123 Lª Lîi, P. T©n Mü, TP. B¾c Giang, T. B¾c Giang",
                "123 Lê Lợi, Phường Đa Mai, Tỉnh Bắc Ninh",
                Status::Fixed,
            ),
            ("123 Lê Lợi, Phường Đa Mai, Tỉnh Bắc Ninh", "123 Lê Lợi, Phường Đa Mai, Tỉnh Bắc Ninh", Status::Ok),
            ("Phöôøng Truùc Baïch, Quaän Ba Ñình, Haø Noäi", "Phường Ba Đình, Thành phố Hà Nội", Status::Fixed),
        ];
        for (input, output, status) in cases {
            let r = address(input);
            assert_eq!((r.output.as_str(), r.status), (output, status), "{input}: {}", r.note);
        }
        let parts = parse_address("123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang").unwrap();
        assert_eq!(
            (parts.street.as_str(), parts.commune_code.as_str(), parts.province_code.as_str(), parts.kind),
            ("123 Lê Lợi", "07228", "24", Kind::Merged)
        );
    }

    #[test]
    fn unknown_addresses_are_invalid() {
        for input in ["", "123 Đường Không Tên", "hello world"] {
            let r = address(input);
            assert_eq!(r.status, Status::Invalid, "{input}");
        }
    }
}
