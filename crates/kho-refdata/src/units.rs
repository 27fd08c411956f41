//! The three lists — 2025 units, legacy units, lineage — loaded into memory with the
//! indexes the conversions use: codes of each list, and names folded without their
//! type word (`tan my` for `Phường Tân Mỹ`). Also the conversion of a legacy code and
//! the rules that turn the communes an input fits into one [`Conversion`].

use crate::name::{reading_of_listed, UnitType};
use crate::table;
use crate::{Conversion, Kind, Unit};
use kho_core::{Error, Result};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The files carried in `data/`, under the names errors use.
const FILE_2025: (&str, &str) = ("data/admin-units-2025.csv", include_str!("../../../data/admin-units-2025.csv"));
const FILE_LEGACY: (&str, &str) = ("data/admin-units-legacy.csv", include_str!("../../../data/admin-units-legacy.csv"));
const FILE_LINEAGE: (&str, &str) =
    ("data/admin-units-lineage-2025.csv", include_str!("../../../data/admin-units-lineage-2025.csv"));

/// Other names people write for a province, as folded keys: (alias, the key of the
/// province's own name).
const PROVINCE_ALIASES: &[(&str, &str)] = &[
    ("hcm", "ho chi minh"),
    ("tphcm", "ho chi minh"),
    ("sai gon", "ho chi minh"),
    ("thua thien hue", "hue"),
    ("tt hue", "hue"),
    ("brvt", "ba ria vung tau"),
];

/// A province of one of the lists.
#[derive(Debug, Clone)]
pub(crate) struct Province {
    pub name: String,
    pub ty: Option<UnitType>,
}

/// A province named by an address: of the legacy list or of the 2025 list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProvinceRef {
    Legacy(u32),
    New(u32),
}

/// A 2025 commune, ward or special zone.
#[derive(Debug, Clone)]
pub(crate) struct Commune2025 {
    pub unit: Unit,
    pub province: u32,
    pub ty: Option<UnitType>,
    pub marks: String,
}

/// Huyện, quận, thị xã, thành phố thuộc tỉnh — a legacy district.
#[derive(Debug, Clone)]
pub(crate) struct District {
    pub province: u32,
    pub ty: Option<UnitType>,
    pub marks: String,
}

/// Where a legacy commune went (phương án sắp xếp).
#[derive(Debug, Clone)]
pub(crate) enum Lineage {
    /// Whole into one 2025 unit.
    Whole(u32),
    /// Split between several 2025 units, one of them maybe the default.
    Split { targets: Vec<u32>, default: Option<u32> },
}

/// Xã, phường, thị trấn cũ — a commune of the legacy list, as the list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyCommune {
    /// The legacy commune code, five digits.
    pub code: String,
    /// With its type word, e.g. `Phường Tân Mỹ`.
    pub name: String,
    /// `Phường`, `Xã` or `Thị trấn`.
    pub ward_type: String,
    /// Three digits.
    pub district_code: String,
    /// With its type word, e.g. `Thành phố Bắc Giang`.
    pub district_name: String,
    /// `Quận`, `Huyện`, `Thị xã` or `Thành phố`.
    pub district_type: String,
    /// Two digits.
    pub province_code: String,
    /// With its type word, e.g. `Tỉnh Bắc Giang`.
    pub province_name: String,
}

/// A legacy commune with what the conversions need.
#[derive(Debug, Clone)]
pub(crate) struct Legacy {
    pub district: u32,
    pub province: u32,
    pub ty: Option<UnitType>,
    pub marks: String,
    pub lineage: Lineage,
}

/// The administrative units shipped with Kho and the indexes that convert them.
#[derive(Debug)]
pub struct AdminUnits {
    pub(crate) units: Vec<Commune2025>,
    pub(crate) provinces: Vec<Province>,
    pub(crate) legacy_provinces: Vec<Province>,
    pub(crate) districts: Vec<District>,
    pub(crate) legacy_list: Vec<LegacyCommune>,
    pub(crate) legacy: Vec<Legacy>,
    /// Per 2025 province: the legacy provinces some of whose communes went into it.
    pub(crate) merged_into: Vec<Vec<u32>>,
    legacy_by_code: HashMap<String, u32>,
    units_by_code: HashMap<String, u32>,
    pub(crate) provinces_by_key: HashMap<String, Vec<ProvinceRef>>,
    pub(crate) districts_by_key: HashMap<String, Vec<u32>>,
    pub(crate) legacy_by_key: HashMap<String, Vec<u32>>,
    pub(crate) units_by_key: HashMap<String, Vec<u32>>,
}

static EMBEDDED: OnceLock<AdminUnits> = OnceLock::new();

impl AdminUnits {
    /// The lists carried in `data/`, parsed on first use (a few tens of milliseconds)
    /// and kept for the life of the process.
    ///
    /// # Panics
    /// When an embedded file does not parse; the message names the file, line and
    /// column. The files are part of the build and a test parses them.
    pub fn embedded() -> &'static AdminUnits {
        EMBEDDED.get_or_init(|| match Self::from_csv(FILE_2025, FILE_LEGACY, FILE_LINEAGE) {
            Ok(units) => units,
            Err(e) => panic!("the administrative-unit lists built into Kho do not parse: {e}"),
        })
    }

    /// Reads the three lists from CSV text, each given as (file name for errors, text):
    /// the 2025 list (`province_code, province_name, ward_code, ward_name, ward_type`),
    /// the legacy list (`province_code, province_name, district_code, district_name,
    /// district_type, ward_code, ward_name, ward_type`) and the lineage
    /// (`legacy_ward_code, legacy_ward_name, ward_code, ward_name, kind, is_default`).
    /// Errors name the file, line and column.
    pub fn from_csv(units_2025: (&str, &str), legacy: (&str, &str), lineage: (&str, &str)) -> Result<Self> {
        let mut this = AdminUnits {
            units: Vec::new(),
            provinces: Vec::new(),
            legacy_provinces: Vec::new(),
            districts: Vec::new(),
            legacy_list: Vec::new(),
            legacy: Vec::new(),
            merged_into: Vec::new(),
            legacy_by_code: HashMap::new(),
            units_by_code: HashMap::new(),
            provinces_by_key: HashMap::new(),
            districts_by_key: HashMap::new(),
            legacy_by_key: HashMap::new(),
            units_by_key: HashMap::new(),
        };
        this.units_by_code = this.read_2025(units_2025)?;
        this.read_legacy(legacy)?;
        this.read_lineage(lineage)?;
        this.index_provinces();
        Ok(this)
    }

    fn read_2025(&mut self, (source, text): (&str, &str)) -> Result<HashMap<String, u32>> {
        let rows = kho_core::admin_units::read_2025(source, text.as_bytes())?;
        let mut provinces: HashMap<String, u32> = HashMap::new();
        let mut by_code = HashMap::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let line = i + 2;
            let province = *provinces.entry(row.province_code.clone()).or_insert_with(|| {
                self.provinces
                    .push(Province { name: row.province_name.clone(), ty: reading_of_listed(&row.province_name).ty });
                self.provinces.len() as u32 - 1
            });
            if self.provinces[province as usize].name != row.province_name {
                return Err(Error::invalid(
                    "file",
                    format!(
                        "{source}, line {line}, column province_name: province {} is named {:?} here and {:?} above",
                        row.province_code, row.province_name, self.provinces[province as usize].name
                    ),
                ));
            }
            let index = self.units.len() as u32;
            if by_code.insert(row.ward_code.clone(), index).is_some() {
                return Err(Error::invalid(
                    "file",
                    format!("{source}, line {line}, column ward_code: code {} appears twice", row.ward_code),
                ));
            }
            let reading = reading_of_listed(&row.ward_name);
            self.units_by_key.entry(reading.key).or_default().push(index);
            self.units.push(Commune2025 {
                unit: Unit {
                    code: row.ward_code,
                    name: row.ward_name,
                    province_code: row.province_code,
                    province_name: row.province_name,
                },
                province,
                ty: reading.ty,
                marks: reading.marks,
            });
        }
        Ok(by_code)
    }

    fn read_legacy(&mut self, (source, text): (&str, &str)) -> Result<()> {
        const COLUMNS: [&str; 8] = [
            "province_code",
            "province_name",
            "district_code",
            "district_name",
            "district_type",
            "ward_code",
            "ward_name",
            "ward_type",
        ];
        let mut provinces: HashMap<String, u32> = HashMap::new();
        let mut districts: HashMap<String, u32> = HashMap::new();
        table::read(source, text, &COLUMNS, |row| {
            let province_code = row.code(0, 2)?;
            let province = match provinces.get(province_code) {
                Some(&p) => {
                    if self.legacy_provinces[p as usize].name != row.get(1) {
                        return Err(row.error(1, format!("province {province_code} has another name above")));
                    }
                    p
                }
                None => {
                    self.legacy_provinces
                        .push(Province { name: row.get(1).to_string(), ty: reading_of_listed(row.get(1)).ty });
                    let p = self.legacy_provinces.len() as u32 - 1;
                    provinces.insert(province_code.to_string(), p);
                    p
                }
            };
            let district_code = row.code(2, 3)?;
            let district = match districts.get(district_code) {
                Some(&d) => d,
                None => {
                    if row.get(3).is_empty() {
                        return Err(row.error(3, "the name is empty"));
                    }
                    let reading = reading_of_listed(row.get(3));
                    let d = self.districts.len() as u32;
                    self.districts.push(District { province, ty: reading.ty, marks: reading.marks });
                    self.districts_by_key.entry(reading.key).or_default().push(d);
                    districts.insert(district_code.to_string(), d);
                    d
                }
            };
            if self.districts[district as usize].province != province {
                return Err(row.error(2, format!("district {district_code} is listed under another province above")));
            }
            // A district without communes (the island districts) has an empty commune.
            if row.get(5).is_empty() && row.get(6).is_empty() {
                return Ok(());
            }
            let code = row.code(5, 5)?;
            if row.get(6).is_empty() {
                return Err(row.error(6, "the name is empty"));
            }
            let index = self.legacy_list.len() as u32;
            if self.legacy_by_code.insert(code.to_string(), index).is_some() {
                return Err(row.error(5, format!("code {code} appears twice")));
            }
            self.legacy_list.push(LegacyCommune {
                code: code.to_string(),
                name: row.get(6).to_string(),
                ward_type: row.get(7).to_string(),
                district_code: district_code.to_string(),
                district_name: row.get(3).to_string(),
                district_type: row.get(4).to_string(),
                province_code: province_code.to_string(),
                province_name: row.get(1).to_string(),
            });
            let reading = reading_of_listed(row.get(6));
            self.legacy_by_key.entry(reading.key).or_default().push(index);
            // The lineage is filled in by `read_lineage`.
            self.legacy.push(Legacy {
                district,
                province,
                ty: reading.ty,
                marks: reading.marks,
                lineage: Lineage::Split { targets: Vec::new(), default: None },
            });
            Ok(())
        })
    }

    fn read_lineage(&mut self, (source, text): (&str, &str)) -> Result<()> {
        const COLUMNS: [&str; 6] =
            ["legacy_ward_code", "legacy_ward_name", "ward_code", "ward_name", "kind", "is_default"];
        /// What the rows of one legacy commune said: whole or split, the targets in
        /// file order, the default.
        type Rows = (bool, Vec<u32>, Option<u32>);
        let mut seen: Vec<Option<Rows>> = vec![None; self.legacy.len()];
        table::read(source, text, &COLUMNS, |row| {
            let legacy_code = row.code(0, 5)?;
            let &l = self.legacy_by_code.get(legacy_code).ok_or_else(|| {
                row.error(
                    0,
                    format!("{legacy_code} is not a commune of the legacy list; fix the code or add the commune"),
                )
            })?;
            if row.get(1) != self.legacy_list[l as usize].name {
                return Err(row.error(
                    1,
                    format!("{:?} is not the legacy list's name {:?}", row.get(1), self.legacy_list[l as usize].name),
                ));
            }
            let code = row.code(2, 5)?;
            let &target = self.units_by_code.get(code).ok_or_else(|| {
                row.error(2, format!("{code} is not a unit of the 2025 list; fix the code or add the unit"))
            })?;
            if row.get(3) != self.units[target as usize].unit.name {
                return Err(row.error(
                    3,
                    format!("{:?} is not the 2025 list's name {:?}", row.get(3), self.units[target as usize].unit.name),
                ));
            }
            let whole = match row.get(4) {
                "whole" => true,
                "split" => false,
                other => return Err(row.error(4, format!("{other:?} is not a kind; use whole or split"))),
            };
            let is_default = match row.get(5) {
                "1" => true,
                "0" | "" => false,
                other => return Err(row.error(5, format!("{other:?} is not 0 or 1"))),
            };
            let entry = seen[l as usize].get_or_insert_with(|| (whole, Vec::new(), None));
            if entry.0 != whole {
                return Err(row.error(4, format!("legacy commune {legacy_code} is both whole and split")));
            }
            if whole && !entry.1.is_empty() {
                return Err(row.error(0, format!("legacy commune {legacy_code} went whole into two units")));
            }
            if entry.1.contains(&target) {
                return Err(row.error(2, format!("legacy commune {legacy_code} lists {code} twice")));
            }
            if is_default {
                if entry.2.is_some() {
                    return Err(row.error(5, format!("legacy commune {legacy_code} has two default targets")));
                }
                entry.2 = Some(target);
            }
            entry.1.push(target);
            Ok(())
        })?;
        for (l, entry) in seen.into_iter().enumerate() {
            let Some((whole, targets, default)) = entry else {
                let c = &self.legacy_list[l];
                return Err(Error::invalid(
                    "file",
                    format!("{source}: legacy commune {} {} has no row; add where it went", c.code, c.name),
                ));
            };
            self.legacy[l].lineage =
                if whole { Lineage::Whole(targets[0]) } else { Lineage::Split { targets, default } };
        }
        Ok(())
    }

    /// Province names (without their type word) and aliases, and which legacy
    /// provinces went into which 2025 province.
    fn index_provinces(&mut self) {
        let mut by_key: HashMap<String, Vec<ProvinceRef>> = HashMap::new();
        for (i, p) in self.legacy_provinces.iter().enumerate() {
            by_key.entry(reading_of_listed(&p.name).key).or_default().push(ProvinceRef::Legacy(i as u32));
        }
        for (i, p) in self.provinces.iter().enumerate() {
            by_key.entry(reading_of_listed(&p.name).key).or_default().push(ProvinceRef::New(i as u32));
        }
        for (alias, key) in PROVINCE_ALIASES {
            if let Some(refs) = by_key.get(*key).cloned() {
                by_key.entry(alias.to_string()).or_default().extend(refs);
            }
        }
        self.provinces_by_key = by_key;

        let mut merged_into = vec![Vec::new(); self.provinces.len()];
        for c in &self.legacy {
            let targets = match &c.lineage {
                Lineage::Whole(t) => std::slice::from_ref(t),
                Lineage::Split { targets, .. } => targets.as_slice(),
            };
            for &t in targets {
                let into: &mut Vec<u32> = &mut merged_into[self.units[t as usize].province as usize];
                if !into.contains(&c.province) {
                    into.push(c.province);
                }
            }
        }
        self.merged_into = merged_into;
    }

    /// The communes of the legacy list, in its order.
    pub fn legacy_communes(&self) -> &[LegacyCommune] {
        &self.legacy_list
    }

    /// The 2025 units, in the list's order.
    pub fn units_2025(&self) -> impl ExactSizeIterator<Item = &Unit> + '_ {
        self.units.iter().map(|c| &c.unit)
    }

    /// The 2025 unit with this code (of the 2025 list), if any.
    pub fn unit_2025(&self, code: &str) -> Option<&Unit> {
        self.units_by_code.get(code).map(|&i| &self.units[i as usize].unit)
    }

    /// Converts a legacy commune code (mã xã cũ, of the legacy list) to the 2025 units.
    /// Surrounding spaces are ignored and a shorter number is padded with zeros
    /// (`4` → `00004`, as spreadsheets drop leading zeros); a code that is not in the
    /// legacy list is `not-found`.
    pub fn convert_code(&self, legacy_ward_code: &str) -> Conversion {
        let code = legacy_ward_code.trim();
        let padded;
        let code = if !code.is_empty() && code.len() < 5 && code.bytes().all(|b| b.is_ascii_digit()) {
            padded = format!("{code:0>5}");
            padded.as_str()
        } else {
            code
        };
        match self.legacy_by_code.get(code) {
            Some(&l) => self.legacy_conversion(l, String::new()),
            None => Conversion::not_found(),
        }
    }

    fn unit(&self, index: u32) -> Unit {
        self.units[index as usize].unit.clone()
    }

    /// Where one legacy commune went.
    pub(crate) fn legacy_conversion(&self, l: u32, rest: String) -> Conversion {
        match &self.legacy[l as usize].lineage {
            Lineage::Whole(t) => {
                let (unit, legacy) = (&self.units[*t as usize].unit, &self.legacy_list[l as usize]);
                let kind =
                    if unit.code == legacy.code && unit.name == legacy.name { Kind::Exact } else { Kind::Merged };
                Conversion { kind, unit: Some(unit.clone()), candidates: vec![unit.clone()], rest }
            }
            Lineage::Split { targets, default } => Conversion {
                kind: if default.is_some() { Kind::SplitDefault } else { Kind::SplitCandidates },
                unit: default.map(|d| self.unit(d)),
                candidates: targets.iter().map(|&t| self.unit(t)).collect(),
                rest,
            },
        }
    }

    /// The 2025 units a legacy commune may have gone to.
    fn targets(&self, l: u32) -> &[u32] {
        match &self.legacy[l as usize].lineage {
            Lineage::Whole(t) => std::slice::from_ref(t),
            Lineage::Split { targets, .. } => targets,
        }
    }

    /// One answer for an input that fits the legacy communes `legacy` and the 2025
    /// units `new`. One legacy commune answers as [`Self::convert_code`] does. Else
    /// each reading has an answer (a 2025 unit: itself; a legacy commune: where it
    /// went whole, or its split's default); when they all name the same unit, that
    /// unit is the answer — `exact` when some reading is the 2025 unit itself and none
    /// is a split, `merged` when all are legacy communes gone whole into it,
    /// `split-default` when a split is among them. Otherwise `split-candidates`.
    pub(crate) fn resolve(&self, legacy: &[u32], new: &[u32], rest: String) -> Conversion {
        if let ([l], []) = (legacy, new) {
            return self.legacy_conversion(*l, rest);
        }
        let answer = |l: u32| match &self.legacy[l as usize].lineage {
            Lineage::Whole(t) => Some(*t),
            Lineage::Split { default, .. } => *default,
        };
        let first = new.first().copied().or_else(|| legacy.first().and_then(|&l| answer(l)));
        let agreed = first.filter(|&a| new.iter().all(|&n| n == a) && legacy.iter().all(|&l| answer(l) == Some(a)));
        let all = new.iter().copied().chain(legacy.iter().flat_map(|&l| self.targets(l).iter().copied()));
        let Some(unit) = agreed else {
            return if legacy.is_empty() && new.is_empty() {
                Conversion::not_found()
            } else {
                self.candidates(all, rest)
            };
        };
        let split = legacy.iter().any(|&l| matches!(self.legacy[l as usize].lineage, Lineage::Split { .. }));
        let kind = match (split, new.is_empty()) {
            (true, _) => Kind::SplitDefault,
            (false, false) => Kind::Exact,
            (false, true) => Kind::Merged,
        };
        let mut conversion = self.candidates(all, rest);
        conversion.kind = kind;
        conversion.unit = Some(self.unit(unit));
        conversion
    }

    /// `split-candidates` with these units, each once, by code.
    fn candidates(&self, units: impl Iterator<Item = u32>, rest: String) -> Conversion {
        let mut units: Vec<u32> = units.collect();
        units.sort_by(|a, b| self.units[*a as usize].unit.code.cmp(&self.units[*b as usize].unit.code));
        units.dedup();
        Conversion {
            kind: Kind::SplitCandidates,
            unit: None,
            candidates: units.into_iter().map(|u| self.unit(u)).collect(),
            rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNITS: &str = "province_code,province_name,province_type,ward_code,ward_name,ward_type\n\
        24,Tỉnh Bắc Ninh,tỉnh,07210,Phường Bắc Giang,phường\n";
    const LEGACY: &str =
        "province_code,province_name,district_code,district_name,district_type,ward_code,ward_name,ward_type\n\
        24,Tỉnh Bắc Giang,213,Thành phố Bắc Giang,Thành phố,07210,Phường Trần Phú,Phường\n";
    const LINEAGE: &str = "legacy_ward_code,legacy_ward_name,ward_code,ward_name,kind,is_default\n\
        07210,Phường Trần Phú,07210,Phường Bắc Giang,whole,1\n";

    fn load(units: &str, legacy: &str, lineage: &str) -> Result<AdminUnits> {
        AdminUnits::from_csv(("u.csv", units), ("l.csv", legacy), ("m.csv", lineage))
    }

    #[test]
    fn small_lists_load_and_codes_stay_in_their_list() {
        let units = load(UNITS, LEGACY, LINEAGE).unwrap();
        // The same code in both lists: the legacy commune is converted, not the 2025 unit returned.
        let c = units.convert_code("07210");
        assert_eq!(c.kind, Kind::Merged);
        assert_eq!(c.unit.unwrap().name, "Phường Bắc Giang");
        assert_eq!(units.convert_code("7210").kind, Kind::Merged);
        assert_eq!(units.convert_code("07211").kind, Kind::NotFound);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let bad = LINEAGE.replace("whole,1", "half,1");
        let err = load(UNITS, LEGACY, &bad).unwrap_err();
        assert_eq!(err.message, "file: m.csv, line 2, column kind: \"half\" is not a kind; use whole or split");

        let bad = LINEAGE.replace("07210,Phường Trần Phú,07210", "07210,Phường Trần Phú,07211");
        let err = load(UNITS, LEGACY, &bad).unwrap_err();
        assert!(
            err.message.starts_with("file: m.csv, line 2, column ward_code: 07211 is not a unit"),
            "{}",
            err.message
        );

        let bad = LEGACY.replace(",213,", ",21,");
        let err = load(UNITS, &bad, LINEAGE).unwrap_err();
        assert_eq!(err.message, "file: l.csv, line 2, column district_code: \"21\" is not a 3-digit code");

        let bad = UNITS.replace("07210", "0721");
        let err = load(&bad, LEGACY, LINEAGE).unwrap_err();
        assert!(err.message.contains("u.csv, line 2, column ward_code"), "{}", err.message);

        let err =
            load(UNITS, LEGACY, "legacy_ward_code,legacy_ward_name,ward_code,ward_name,kind,is_default\n").unwrap_err();
        assert!(err.message.contains("07210 Phường Trần Phú has no row"), "{}", err.message);
    }
}
