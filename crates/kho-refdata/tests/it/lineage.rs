//! Legacy → 2025 cases drawn from `data/admin-units-lineage-2025.csv` (every 40th
//! legacy commune and every 4th split one, in file order) and checked against the
//! file's own rows: by code, and by the full legacy address with and without
//! diacritics.

use crate::{codes, data_file, units};
use kho_refdata::{Conversion, Kind};
use std::collections::BTreeMap;

/// One row of the lineage file.
#[derive(Debug, Clone)]
struct Row {
    legacy_code: String,
    legacy_name: String,
    legacy_district: String,
    legacy_province: String,
    code: String,
    name: String,
    province: String,
    kind: String,
    is_default: bool,
}

/// The lineage rows grouped by legacy commune, in file order.
fn lineage() -> Vec<Vec<Row>> {
    let text = data_file("admin-units-lineage-2025.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut groups: Vec<Vec<Row>> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    for record in reader.records() {
        let r = record.unwrap();
        let row = Row {
            legacy_code: r[0].to_string(),
            legacy_name: r[1].to_string(),
            legacy_district: r[2].to_string(),
            legacy_province: r[3].to_string(),
            code: r[4].to_string(),
            name: r[5].to_string(),
            province: r[6].to_string(),
            kind: r[7].to_string(),
            is_default: &r[8] == "1",
        };
        match at.get(&row.legacy_code) {
            Some(&i) => groups[i].push(row),
            None => {
                at.insert(row.legacy_code.clone(), groups.len());
                groups.push(vec![row]);
            }
        }
    }
    groups
}

/// The cases: every 40th legacy commune, and every 4th of those that were split.
fn cases() -> Vec<Vec<Row>> {
    let all = lineage();
    let splits: Vec<&Vec<Row>> = all.iter().filter(|g| g[0].kind == "split").collect();
    let mut cases: Vec<Vec<Row>> = all.iter().step_by(40).cloned().collect();
    for g in splits.iter().step_by(4) {
        if !cases.iter().any(|c| c[0].legacy_code == g[0].legacy_code) {
            cases.push((*g).clone());
        }
    }
    cases
}

/// Asserts that `c` is what the lineage rows `rows` say.
#[track_caller]
fn assert_as_in_file(c: &Conversion, rows: &[Row], input: &str) {
    let first = &rows[0];
    let targets: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes(c), targets, "{input}: the candidates are the file's targets");
    for (unit, row) in c.candidates.iter().zip(rows) {
        assert_eq!((&unit.name, &unit.province_name), (&row.name, &row.province), "{input}");
        assert_eq!(unit.province_code.len(), 2, "{input}");
    }
    let unit = c.unit.as_ref().unwrap_or_else(|| panic!("{input}: no unit in {c:?}"));
    match first.kind.as_str() {
        "whole" => {
            assert_eq!(rows.len(), 1);
            let same = first.code == first.legacy_code && first.name == first.legacy_name;
            assert_eq!(c.kind, if same { Kind::Exact } else { Kind::Merged }, "{input}");
            assert_eq!(unit.code, first.code, "{input}");
        }
        "split" => {
            let default = rows.iter().find(|r| r.is_default).expect("a split has a default in the file");
            assert_eq!(c.kind, Kind::SplitDefault, "{input}");
            assert_eq!((&unit.code, &unit.name), (&default.code, &default.name), "{input}");
        }
        other => panic!("kind {other:?} in the lineage file"),
    }
}

#[test]
fn at_least_200_cases_whole_and_split() {
    let cases = cases();
    let split = cases.iter().filter(|g| g[0].kind == "split").count();
    let whole = cases.iter().filter(|g| g[0].kind == "whole").count();
    assert!(cases.len() >= 200 && split >= 100 && whole >= 200, "{} cases: {whole} whole, {split} split", cases.len());
    // Some whole cases keep their code and name, most do not.
    let exact =
        cases.iter().filter(|g| g[0].kind == "whole" && g[0].code == g[0].legacy_code && g[0].name == g[0].legacy_name);
    assert!(exact.count() >= 5);
}

#[test]
fn legacy_codes_convert_as_the_lineage_file_says() {
    for rows in cases() {
        let code = &rows[0].legacy_code;
        assert_as_in_file(&units().convert_code(code), &rows, code);
    }
}

#[test]
fn full_legacy_addresses_convert_as_their_codes() {
    for rows in cases() {
        let r = &rows[0];
        let address = format!("{}, {}, {}", r.legacy_name, r.legacy_district, r.legacy_province);
        let c = units().convert_address(&address);
        assert_as_in_file(&c, &rows, &address);
        assert_eq!(c, units().convert_code(&r.legacy_code), "{address}");
    }
}

#[test]
fn full_legacy_addresses_without_diacritics_convert_or_list_candidates() {
    let mut ambiguous = 0;
    let cases = cases();
    for rows in &cases {
        let r = &rows[0];
        let address = kho_vn::fold(&format!("{}, {}, {}", r.legacy_name, r.legacy_district, r.legacy_province));
        let c = units().convert_address(&address);
        if c.kind == Kind::SplitCandidates {
            // Two communes of the district whose names differ only by diacritics.
            assert!(c.unit.is_none(), "{address}");
            for row in rows {
                assert!(codes(&c).contains(&row.code.as_str()), "{address}: {c:?}");
            }
            ambiguous += 1;
        } else {
            assert_as_in_file(&c, rows, &address);
        }
    }
    assert!(ambiguous * 50 < cases.len(), "{ambiguous} of {} ambiguous without diacritics", cases.len());
}

#[test]
fn every_legacy_commune_converts_to_one_of_its_targets() {
    let all = lineage();
    assert_eq!(all.len(), units().legacy_communes().len());
    for rows in all {
        let c = units().convert_code(&rows[0].legacy_code);
        assert_ne!(c.kind, Kind::NotFound, "{}", rows[0].legacy_code);
        let unit = c.unit.expect("every split in the file has a default");
        assert!(rows.iter().any(|r| r.code == unit.code), "{}", rows[0].legacy_code);
    }
}
