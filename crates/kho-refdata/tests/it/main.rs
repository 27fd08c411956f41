//! The conversions against the lists Kho ships: legacy codes drawn from the lineage
//! file and checked against its own rows, free-text addresses in the ways people
//! write them, and the cases that must answer with candidates or nothing rather than
//! a guess.

mod addresses;
mod lineage;

use kho_refdata::{AdminUnits, Conversion, Kind};

/// A file of `data/`, read as the tests' reference.
pub fn data_file(name: &str) -> String {
    let path = format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

pub fn units() -> &'static AdminUnits {
    AdminUnits::embedded()
}

/// The codes of the candidates, in order.
pub fn codes(c: &Conversion) -> Vec<&str> {
    c.candidates.iter().map(|u| u.code.as_str()).collect()
}

/// Asserts one answer: kind, unit code and name, and the rest.
#[track_caller]
pub fn assert_unit(text: &str, kind: Kind, code: &str, name: &str, rest: &str) {
    let c = units().convert_address(text);
    let unit = c.unit.as_ref().unwrap_or_else(|| panic!("{text:?}: no unit in {c:?}"));
    assert_eq!((c.kind, unit.code.as_str(), unit.name.as_str(), c.rest.as_str()), (kind, code, name, rest), "{text:?}");
    assert!(c.candidates.contains(unit), "{text:?}: the unit is among the candidates: {c:?}");
}
