//! Cơ quan — agencies in a tree: the province's people's committee at the top,
//! departments and units under it, communes and wards (xã, phường) carrying their
//! 2025 admin-unit code. Each agency has an electronic identifier code
//! (mã định danh điện tử, QCVN 102:2016) and a materialised path of ancestor ids
//! that makes "is this inside that subtree" a prefix test.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Loại cơ quan — what kind of agency this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// UBND tỉnh — the provincial people's committee.
    Province,
    /// Sở, ban, ngành — a provincial department.
    Department,
    /// Đơn vị — a unit under a department.
    Unit,
    /// Xã, phường, đặc khu — a commune, ward or special zone.
    Commune,
}

impl AgencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Department => "department",
            Self::Unit => "unit",
            Self::Commune => "commune",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "province" => Ok(Self::Province),
            "department" => Ok(Self::Department),
            "unit" => Ok(Self::Unit),
            "commune" => Ok(Self::Commune),
            other => Err(Error::invalid(
                "kind",
                format!("unknown agency kind {other:?}; use province, department, unit or commune"),
            )),
        }
    }
}

/// Mã định danh điện tử — an agency's electronic identifier code, four groups
/// `V1V2V3.Z1Z2.Y1Y2.Hnn` (levels 4, 3, 2 and 1), e.g. `000.00.00.H49`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "000.00.00.H06")]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(raw: &str) -> Result<Self> {
        let code = raw.trim().to_ascii_uppercase();
        let groups: Vec<&str> = code.split('.').collect();
        let alnum = |g: &str, n: usize| g.len() == n && g.bytes().all(|b| b.is_ascii_alphanumeric());
        let ok = groups.len() == 4
            && alnum(groups[0], 3)
            && alnum(groups[1], 2)
            && alnum(groups[2], 2)
            && groups[3].len() == 3
            && groups[3].as_bytes()[0].is_ascii_uppercase()
            && groups[3][1..].bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(code))
        } else {
            Err(Error::invalid(
                "code",
                format!(
                    "{raw:?} is not an electronic identifier code; expected four groups \
                     V1V2V3.Z1Z2.Y1Y2.Hnn such as 000.00.00.H49"
                ),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The level-1 group (`H49` in `000.00.00.H49`), shared by a province and its agencies.
    pub fn level1(&self) -> &str {
        &self.0[10..]
    }
}

impl TryFrom<String> for AgencyCode {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        Self::parse(&s).map_err(|e| e.without_field().to_string())
    }
}
impl From<AgencyCode> for String {
    fn from(c: AgencyCode) -> String {
        c.0
    }
}
impl std::fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Cơ quan — an agency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Agency {
    pub id: String,
    pub code: AgencyCode,
    /// Tên — the Vietnamese name.
    pub name: String,
    pub name_en: Option<String>,
    pub kind: AgencyKind,
    pub parent_id: Option<String>,
    /// Mã ĐVHC — the 2025 admin-unit code, for communes and wards.
    pub admin_unit_code: Option<String>,
    /// Ids from the root down to this agency, as `/root/…/self/`.
    pub path: String,
    pub created_at: DateTime<Utc>,
}

impl Agency {
    /// The path a child of `parent` (or a root, when `None`) with this id gets.
    pub fn child_path(parent: Option<&str>, id: &str) -> String {
        format!("{}{id}/", parent.unwrap_or("/"))
    }
    /// Whether `self` is `other` or one of its descendants.
    pub fn is_within(&self, other_path: &str) -> bool {
        path_within(&self.path, other_path)
    }
}

/// Whether the agency at `path` lies in the subtree rooted at `root_path`.
pub fn path_within(path: &str, root_path: &str) -> bool {
    !root_path.is_empty() && path.starts_with(root_path)
}

/// What a caller supplies to create an agency.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    pub code: AgencyCode,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub kind: AgencyKind,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub admin_unit_code: Option<String>,
}

impl NewAgency {
    /// Checks the rules that do not need the store.
    pub fn validate(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 300 {
            return Err(Error::invalid("name", "must be 1 to 300 characters"));
        }
        match (self.kind, &self.parent_id) {
            (AgencyKind::Province, Some(_)) => {
                return Err(Error::invalid("parent_id", "a province agency has no parent; leave it empty"))
            }
            (AgencyKind::Province, None) => {}
            (_, None) => {
                return Err(Error::invalid("parent_id", "departments, units and communes need a parent agency"))
            }
            _ => {}
        }
        if let Some(code) = &self.admin_unit_code {
            if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(
                    "admin_unit_code",
                    format!("{code:?} is not a 2025 commune code; expected 5 digits such as 07210"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes_follow_the_four_group_format() {
        let c = AgencyCode::parse("000.00.00.h49").unwrap();
        assert_eq!(c.as_str(), "000.00.00.H49");
        assert_eq!(c.level1(), "H49");
        for bad in ["", "000.00.00", "000.00.00.49", "0000.00.00.H49", "000.00.00.HH9", "000-00-00-H49"] {
            let err = AgencyCode::parse(bad).unwrap_err();
            assert!(err.message.contains("V1V2V3.Z1Z2.Y1Y2.Hnn"), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn subtree_is_a_path_prefix() {
        assert!(path_within("/a/b/", "/a/"));
        assert!(path_within("/a/", "/a/"));
        assert!(!path_within("/ab/", "/a/b/"));
        assert!(!path_within("/a/", "/a/b/"));
        assert!(!path_within("/a/", ""));
        assert_eq!(Agency::child_path(Some("/a/"), "b"), "/a/b/");
        assert_eq!(Agency::child_path(None, "a"), "/a/");
    }

    #[test]
    fn provinces_are_roots_and_others_need_parents() {
        let mut a = NewAgency {
            code: AgencyCode::parse("000.00.01.H06").unwrap(),
            name: "Sở Khoa học và Công nghệ".into(),
            name_en: None,
            kind: AgencyKind::Department,
            parent_id: None,
            admin_unit_code: None,
        };
        assert!(a.validate().unwrap_err().message.starts_with("parent_id"));
        a.parent_id = Some("p".into());
        a.validate().unwrap();
        a.admin_unit_code = Some("7210".into());
        assert!(a.validate().unwrap_err().message.starts_with("admin_unit_code"));
    }
}
