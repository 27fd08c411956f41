//! Free-text addresses (địa chỉ) to 2025 units: the address is cut into parts at
//! commas (and at ` - `), then read from the right — province, optional legacy
//! district, commune — each part looked up by its folded name in the indexes of
//! [`AdminUnits`]. What stands left of the commune is the `rest`.
//!
//! The search goes in tiers and stops at the first that finds something:
//!
//! 1. within the province the address names: its 2025 communes (only when no district
//!    is given: 2025 has no districts) and the communes of the legacy province of
//!    that name;
//! 2. within the legacy provinces that went into the 2025 province of that name (an
//!    old commune written with its new province: `Phường Tân Mỹ, Tỉnh Bắc Ninh`).
//!
//! Without a recognisable province every province is searched.

use crate::name::{readings, tokens, type_at, Level, Reading};
use crate::units::{AdminUnits, ProvinceRef};
use crate::Conversion;

/// A part of an address: a byte range of the text, and whether ` - ` (rather than a
/// comma) separates it from the part before, in which case the two may belong to one
/// name (`Tỉnh Bà Rịa - Vũng Tàu`).
#[derive(Debug, Clone, Copy)]
struct Part {
    start: usize,
    end: usize,
    dash_before: bool,
}

/// At most this many parts joined by ` - ` are read as one name.
const MAX_DASHED: usize = 3;

/// What a last part may say besides the province.
const COUNTRY: &[&str] = &["viet nam", "vietnam", "vn"];

/// Cuts `text` at commas, semicolons and line breaks, then at a dash with spaces
/// around it (` - `, ` – `, ` — `); blank parts are dropped.
fn parts(text: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in text.split([',', ';', '\n']) {
        let mut dash_before = false;
        let mut inner = 0;
        let bytes = piece.as_bytes();
        let mut i = 0;
        while i < piece.len() {
            let dash_len = ["-", "–", "—"].iter().find(|d| piece[i..].starts_with(**d)).map(|d| d.len());
            match dash_len {
                Some(len) if i > 0 && bytes[i - 1] == b' ' && bytes.get(i + len) == Some(&b' ') => {
                    push_part(&mut out, text, start + inner, start + i, dash_before);
                    dash_before = true;
                    inner = i + len;
                    i += len;
                }
                _ => i += piece[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        push_part(&mut out, text, start + inner, start + piece.len(), dash_before);
        start += piece.len() + 1;
    }
    out
}

fn push_part(out: &mut Vec<Part>, text: &str, start: usize, end: usize, dash_before: bool) {
    let raw = &text[start..end];
    let trimmed_start = start + (raw.len() - raw.trim_start().len());
    let trimmed_end = end - (raw.len() - raw.trim_end().len());
    if trimmed_start < trimmed_end {
        out.push(Part { start: trimmed_start, end: trimmed_end, dash_before });
    }
}

/// The first part of each group of parts that ends with `parts[end - 1]` and may be
/// one name: the longest group of parts joined by dashes first.
fn groups(parts: &[Part], end: usize) -> impl Iterator<Item = usize> {
    let mut first = end - 1;
    while first > 0 && parts[first].dash_before && end - first < MAX_DASHED {
        first -= 1;
    }
    first..end
}

/// The provinces, legacy and 2025, an address is searched in.
#[derive(Debug, Clone, Default)]
struct Scope {
    /// Legacy provinces; `None`: every one.
    legacy: Option<Vec<u32>>,
    /// 2025 provinces; `None`: every one.
    new: Option<Vec<u32>>,
}

impl Scope {
    fn has_legacy(&self, p: u32) -> bool {
        self.legacy.as_ref().is_none_or(|l| l.contains(&p))
    }
    fn has_new(&self, p: u32) -> bool {
        self.new.as_ref().is_none_or(|n| n.contains(&p))
    }
}

/// An address being read: its text, its parts, and whether it is written with
/// diacritics (then marks break ties between names that fold alike).
struct Address<'a> {
    text: &'a str,
    parts: Vec<Part>,
    diacritics: bool,
}

impl Address<'_> {
    /// The text of the parts `first..end`.
    fn slice(&self, first: usize, end: usize) -> &str {
        &self.text[self.parts[first].start..self.parts[end - 1].end]
    }
}

/// The communes one reading of a part fits.
#[derive(Debug, Default)]
struct Found {
    legacy: Vec<u32>,
    new: Vec<u32>,
}

impl Found {
    fn is_empty(&self) -> bool {
        self.legacy.is_empty() && self.new.is_empty()
    }
}

/// Keeps the items that pass `keep`, unless none would: a tie-break only narrows.
fn narrow(found: &mut Found, keep_legacy: impl Fn(u32) -> bool, keep_new: impl Fn(u32) -> bool) {
    if found.legacy.iter().any(|&l| keep_legacy(l)) || found.new.iter().any(|&n| keep_new(n)) {
        found.legacy.retain(|&l| keep_legacy(l));
        found.new.retain(|&n| keep_new(n));
    }
}

impl AdminUnits {
    /// Converts a free-text legacy (or 2025) address to the 2025 units; see the crate
    /// documentation for what is read and what each kind means.
    pub fn convert_address(&self, text: &str) -> Conversion {
        let address = Address { text, parts: parts(text), diacritics: !kho_vn::marks(text).is_empty() };
        let mut end = address.parts.len();
        if end > 1 {
            let last = address.slice(end - 1, end);
            if readings(&tokens(last)).iter().any(|r| r.ty.is_none() && COUNTRY.contains(&r.key.as_str())) {
                end -= 1;
            }
        }
        if end == 0 {
            return Conversion::not_found();
        }
        let tiers = match self.province(&address, end) {
            Some((refs, first)) => {
                end = first;
                let legacy: Vec<u32> = refs
                    .iter()
                    .filter_map(|r| match r {
                        ProvinceRef::Legacy(p) => Some(*p),
                        ProvinceRef::New(_) => None,
                    })
                    .collect();
                let new: Vec<u32> = refs
                    .iter()
                    .filter_map(|r| match r {
                        ProvinceRef::New(p) => Some(*p),
                        ProvinceRef::Legacy(_) => None,
                    })
                    .collect();
                let mut merged: Vec<u32> = Vec::new();
                for &n in &new {
                    for &p in &self.merged_into[n as usize] {
                        if !legacy.contains(&p) && !merged.contains(&p) {
                            merged.push(p);
                        }
                    }
                }
                let mut tiers = vec![Scope { legacy: Some(legacy), new: Some(new) }];
                if !merged.is_empty() {
                    tiers.push(Scope { legacy: Some(merged), new: Some(Vec::new()) });
                }
                tiers
            }
            None => vec![Scope::default()],
        };
        if end == 0 {
            return Conversion::not_found();
        }
        for scope in &tiers {
            if let Some(c) = self.within(&address, end, scope) {
                return c;
            }
        }
        Conversion::not_found()
    }

    /// The province named by the parts that end at `end`, and where they start.
    fn province(&self, address: &Address<'_>, end: usize) -> Option<(Vec<ProvinceRef>, usize)> {
        for first in groups(&address.parts, end) {
            let tokens = tokens(address.slice(first, end));
            for reading in readings(&tokens) {
                if reading.ty.is_some_and(|t| !t.fits(Level::Province)) {
                    continue;
                }
                let Some(refs) = self.provinces_by_key.get(&reading.key) else { continue };
                let ty_of = |r: &ProvinceRef| match *r {
                    ProvinceRef::Legacy(p) => self.legacy_provinces[p as usize].ty,
                    ProvinceRef::New(p) => self.provinces[p as usize].ty,
                };
                let mut refs = refs.clone();
                if let Some(ty) = reading.ty {
                    if refs.iter().any(|r| ty_of(r) == Some(ty)) {
                        refs.retain(|r| ty_of(r) == Some(ty));
                    }
                }
                return Some((refs, first));
            }
        }
        None
    }

    /// The answer within one scope: with a district when the part before the commune
    /// names one, else without.
    /// A name written with ` - ` inside (`Phường Xuân Trường - Đà Lạt`) is read as
    /// one commune before its last piece is taken for a district.
    fn within(&self, address: &Address<'_>, end: usize, scope: &Scope) -> Option<Conversion> {
        let answer =
            |(found, start): (Found, usize)| self.resolve(&found.legacy, &found.new, rest(address.text, start));
        if address.parts[end - 1].dash_before {
            if let Some(found) = self.commune(address, end, scope, None, true) {
                return Some(answer(found));
            }
        }
        if let Some((districts, first, typed)) = self.district(address, end, scope) {
            if first > 0 {
                if let Some(found) = self.commune(address, first, scope, Some(&districts), false) {
                    return Some(answer(found));
                }
            }
            if typed {
                // The part is a district by its type word; its commune is not there.
                return None;
            }
        }
        self.commune(address, end, scope, None, false).map(answer)
    }

    /// The legacy districts named by the parts that end at `end`, where they start,
    /// and whether a district type word said so.
    fn district(&self, address: &Address<'_>, end: usize, scope: &Scope) -> Option<(Vec<u32>, usize, bool)> {
        for first in groups(&address.parts, end) {
            let tokens = tokens(address.slice(first, end));
            for reading in readings(&tokens) {
                if reading.ty.is_some_and(|t| !t.fits(Level::District)) {
                    continue;
                }
                let Some(all) = self.districts_by_key.get(&reading.key) else { continue };
                let mut districts: Vec<u32> =
                    all.iter().copied().filter(|&d| scope.has_legacy(self.districts[d as usize].province)).collect();
                if districts.is_empty() {
                    continue;
                }
                if let Some(ty) = reading.ty {
                    if districts.iter().any(|&d| self.districts[d as usize].ty == Some(ty)) {
                        districts.retain(|&d| self.districts[d as usize].ty == Some(ty));
                    }
                }
                if address.diacritics && districts.iter().any(|&d| self.districts[d as usize].marks == reading.marks) {
                    districts.retain(|&d| self.districts[d as usize].marks == reading.marks);
                }
                return Some((districts, first, reading.ty.is_some()));
            }
        }
        None
    }

    /// The communes named by the parts that end at `end` (within `districts` when
    /// given), and the byte offset where their name starts. A part may hold a street
    /// before the commune's type word (`12 Lê Lợi P. Tân Mỹ`): each type word in it
    /// is tried as the start of the name, leftmost first. With `joined_only`, only
    /// whole names of several parts joined by ` - ` are tried.
    fn commune(
        &self,
        address: &Address<'_>,
        end: usize,
        scope: &Scope,
        districts: Option<&[u32]>,
        joined_only: bool,
    ) -> Option<(Found, usize)> {
        for first in groups(&address.parts, end).filter(|&f| !joined_only || f + 1 < end) {
            let base = address.parts[first].start;
            let tokens = tokens(address.slice(first, end));
            for reading in readings(&tokens) {
                if reading.ty.is_some_and(|t| !t.fits(Level::Commune)) {
                    continue;
                }
                let found = self.communes(&reading, scope, districts, address.diacritics);
                if !found.is_empty() {
                    return Some((found, base));
                }
            }
            if joined_only {
                continue;
            }
            for i in 1..tokens.len() {
                if !type_at(&tokens[i..]).is_some_and(|(t, _, _)| t.fits(Level::Commune)) {
                    continue;
                }
                // Not the `xã` of `Thị xã` or the `P` of `T.P.`: a word inside a longer type word.
                if type_at(&tokens[i - 1..]).is_some_and(|(_, used, _)| used > 1) {
                    continue;
                }
                let Some(reading) = readings(&tokens[i..]).into_iter().find(|r| r.ty.is_some()) else { continue };
                let found = self.communes(&reading, scope, districts, address.diacritics);
                if !found.is_empty() {
                    return Some((found, base + tokens[i].start));
                }
            }
        }
        None
    }

    /// The communes, legacy and 2025, one reading fits.
    fn communes(&self, reading: &Reading, scope: &Scope, districts: Option<&[u32]>, diacritics: bool) -> Found {
        let mut found = Found::default();
        if let Some(all) = self.legacy_by_key.get(&reading.key) {
            found.legacy = all
                .iter()
                .copied()
                .filter(|&l| {
                    let c = &self.legacy[l as usize];
                    scope.has_legacy(c.province) && districts.is_none_or(|d| d.contains(&c.district))
                })
                .collect();
        }
        if districts.is_none() {
            if let Some(all) = self.units_by_key.get(&reading.key) {
                found.new = all.iter().copied().filter(|&n| scope.has_new(self.units[n as usize].province)).collect();
            }
        }
        if found.is_empty() {
            return found;
        }
        if let Some(ty) = reading.ty {
            narrow(&mut found, |l| self.legacy[l as usize].ty == Some(ty), |n| self.units[n as usize].ty == Some(ty));
        }
        if diacritics {
            narrow(
                &mut found,
                |l| self.legacy[l as usize].marks == reading.marks,
                |n| self.units[n as usize].marks == reading.marks,
            );
        }
        found
    }
}

/// The text left of `start`, without the separators around it.
fn rest(text: &str, start: usize) -> String {
    text[..start].trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '-' | '–' | '—')).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(&str, bool)> {
        parts(text).into_iter().map(|p| (&text[p.start..p.end], p.dash_before)).collect()
    }

    #[test]
    fn parts_are_cut_at_commas_and_spaced_dashes() {
        assert_eq!(
            texts(" 12 Lê Lợi ,P. Tân Mỹ,, TP Bắc Giang - Bắc Giang "),
            [("12 Lê Lợi", false), ("P. Tân Mỹ", false), ("TP Bắc Giang", false), ("Bắc Giang", true)]
        );
        assert_eq!(
            texts("Phường Phan Rang-Tháp Chàm, Tỉnh Bà Rịa – Vũng Tàu"),
            [("Phường Phan Rang-Tháp Chàm", false), ("Tỉnh Bà Rịa", false), ("Vũng Tàu", true)]
        );
        assert!(texts(" , ,").is_empty());
    }

    #[test]
    fn groups_take_dashed_parts_longest_first() {
        let p = parts("a, b - c - d");
        assert_eq!(groups(&p, 4).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(groups(&p, 1).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn rest_drops_separators() {
        assert_eq!(rest("12 Lê Lợi, P. Tân Mỹ", 13), "12 Lê Lợi");
        assert_eq!(rest("Khu 3 - Phường X", 8), "Khu 3");
        assert_eq!(rest("Phường X", 0), "");
    }
}
