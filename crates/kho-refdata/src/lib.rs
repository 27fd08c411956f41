//! Reference data (danh mục dùng chung): the administrative units (đơn vị hành chính)
//! shipped with Kho, and their conversion from the legacy units (before 1 July 2025:
//! 63 provinces, 696 districts, 10,040 communes) to the 2025 units (34 provinces,
//! 3,321 communes, wards and special zones, no districts).
//!
//! [`AdminUnits::embedded`] holds the three lists carried in `data/` — the 2025 list,
//! the legacy list and the lineage (which legacy commune went where) — parsed once.
//! Codes are reused between the lists (legacy `00004` is Phường Trúc Bạch, 2025
//! `00004` is Phường Ba Đình), so a code is always looked up in the list it belongs to.
//!
//! Two conversions answer a [`Conversion`]:
//!
//! - [`AdminUnits::convert_code`] takes a legacy commune code (mã xã cũ);
//! - [`AdminUnits::convert_address`] takes a free-text address such as
//!   `123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang`: parts separated by commas
//!   (or ` - `), read from the right: the province (legacy or 2025 name, with or
//!   without `Tỉnh`/`Thành phố`), an optional legacy district (`Quận`, `Huyện`,
//!   `Thị xã`, `Thành phố`), then the commune (`Phường`, `Xã`, `Thị trấn`, `Đặc khu`);
//!   with or without diacritics, in any case, with the abbreviations `P.`, `Q.`, `TP.`,
//!   `TX.`, `TT.`, `H.`, `X.`, `T.` (also without the dot, or glued: `P.Tân Mỹ`, `P1`)
//!   and numbered wards (`Phường 1`, `P.01`). What stands left of the commune (house
//!   number, street, hamlet) is returned as `rest`.
//!
//! The [`Kind`] of the answer:
//!
//! | kind | meaning | `unit` | `candidates` |
//! |---|---|---|---|
//! | `exact` | the input already names a 2025 unit: by code, a legacy commune that went whole into the unit of the same code and the same name; by address, a 2025 commune in its 2025 province, when no legacy commune of that name went anywhere else | the unit | the unit |
//! | `merged` | the whole legacy commune went into one 2025 unit (sáp nhập) | the unit | the unit |
//! | `split-default` | the legacy commune was split (chia tách) between several 2025 units; the lineage names one as the default (also: an address whose readings all lead to one unit, one of them through a split's default) | the default | every target |
//! | `split-candidates` | several 2025 units are possible and nothing picks one: a split without a default, or an address that fits several communes (no district given and the name is found in two districts; a name that is both a 2025 commune and a legacy commune that went elsewhere) | `null` | every possible unit |
//! | `not-found` | nothing matches | `null` | empty |
//!
//! Nothing is guessed: when the input fits several units, the answer lists them and
//! names none; when every reading leads to the same unit, that unit is the answer.
//! Two tie-breaks only narrow the list, and only when something is left:
//! a type word (`Xã Mường Tè` is not `Thị trấn Mường Tè`; a type word that fits none
//! of the units of that name is ignored, since many communes changed type), and, when
//! the address is written with diacritics, the marks (`Minh Quân` is not `Minh Quán`;
//! `Hoà` and `Hòa` are the same).
//!
//! ```
//! use kho_refdata::{AdminUnits, Kind};
//!
//! let units = AdminUnits::embedded();
//! let c = units.convert_address("123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang");
//! assert_eq!(c.kind, Kind::Merged);
//! assert_eq!(c.unit.unwrap().name, "Phường Đa Mai");
//! assert_eq!(c.rest, "123 Lê Lợi");
//!
//! // Legacy 00007 (Phường Cống Vị) was split; Phường Ngọc Hà is the default.
//! let c = units.convert_code("00007");
//! assert_eq!((c.kind, c.candidates.len()), (Kind::SplitDefault, 2));
//! assert_eq!(c.unit.unwrap().name, "Phường Ngọc Hà");
//! ```

mod address;
pub mod codelist;
mod name;
mod table;
mod units;

pub use units::{AdminUnits, LegacyCommune};

use serde::{Deserialize, Serialize};

/// A 2025 administrative unit (đơn vị hành chính cấp xã) with its province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    /// The 2025 commune code (mã xã), five digits.
    #[schema(example = "07210")]
    pub code: String,
    /// With its type word, e.g. `Phường Bắc Giang`.
    #[schema(example = "Phường Bắc Giang")]
    pub name: String,
    /// The 2025 province code (mã tỉnh), two digits.
    #[schema(example = "24")]
    pub province_code: String,
    #[schema(example = "Tỉnh Bắc Ninh")]
    pub province_name: String,
}

/// What a conversion found; see the crate documentation for each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The input already names a 2025 unit.
    Exact,
    /// The whole legacy commune went into one 2025 unit (sáp nhập).
    Merged,
    /// The legacy commune was split (chia tách); `unit` is the lineage's default target.
    SplitDefault,
    /// Several 2025 units are possible and none is named; see `candidates`.
    SplitCandidates,
    /// Nothing matches.
    NotFound,
}

impl Kind {
    /// Every kind, in the order of the documentation.
    pub const ALL: [Kind; 5] = [Kind::Exact, Kind::Merged, Kind::SplitDefault, Kind::SplitCandidates, Kind::NotFound];

    /// The name used in JSON and CSV: `exact`, `merged`, `split-default`,
    /// `split-candidates`, `not-found`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::Merged => "merged",
            Kind::SplitDefault => "split-default",
            Kind::SplitCandidates => "split-candidates",
            Kind::NotFound => "not-found",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer of a conversion (chuyển đổi đơn vị hành chính).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conversion {
    pub kind: Kind,
    /// The 2025 unit, when there is one answer (`exact`, `merged`) or a default
    /// (`split-default`); `null` otherwise.
    pub unit: Option<Unit>,
    /// Every 2025 unit the input may stand for; `unit`, when set, is one of them.
    pub candidates: Vec<Unit>,
    /// What stands left of the commune in an address (house number, street, hamlet),
    /// without the commas around it; empty for codes and when nothing matched.
    #[schema(example = "123 Lê Lợi")]
    pub rest: String,
}

impl Conversion {
    /// Nothing matched.
    pub fn not_found() -> Self {
        Self { kind: Kind::NotFound, unit: None, candidates: Vec::new(), rest: String::new() }
    }
}
