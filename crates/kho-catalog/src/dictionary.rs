//! Từ điển dữ liệu — the data dictionary: shared data elements described the ISO/IEC
//! 11179 way, with what Decision 2439/QĐ-TTg asks of each shared field: a name, a
//! business definition, a technical definition and management rules. An element goes
//! through a registration lifecycle `draft → candidate → standard → superseded →
//! retired`; every change makes a new version of it, and the versions are kept.

use chrono::{DateTime, Utc};
use kho_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::PersonalData;

/// Trạng thái đăng ký — where an element stands in the registration lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Dự thảo — being written.
    Draft,
    /// Đề xuất — proposed for the province to review.
    Candidate,
    /// Chuẩn — the standard every agency follows.
    Standard,
    /// Bị thay thế — replaced by a newer element.
    Superseded,
    /// Hủy bỏ — no longer used.
    Retired,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 5] =
        [Self::Draft, Self::Candidate, Self::Standard, Self::Superseded, Self::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Candidate => "candidate",
            Self::Standard => "standard",
            Self::Superseded => "superseded",
            Self::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            Error::invalid(
                "status",
                format!("{s:?} is not a status; use draft, candidate, standard, superseded or retired"),
            )
        })
    }

    /// The statuses an element may move to from this one: forward through the
    /// lifecycle, a candidate back to draft for rework, and anything to retired.
    pub fn next(self) -> &'static [RegistrationStatus] {
        use RegistrationStatus::*;
        match self {
            Draft => &[Candidate, Retired],
            Candidate => &[Standard, Draft, Retired],
            Standard => &[Superseded, Retired],
            Superseded => &[Retired],
            Retired => &[],
        }
    }

    /// Checks a move, explaining a refused one.
    pub fn check_move(self, to: RegistrationStatus) -> Result<()> {
        if self.next().contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
        Err(Error::invalid(
            "status",
            match allowed.is_empty() {
                true => format!("a {} element cannot change status", self.as_str()),
                false => format!(
                    "a {} element cannot become {}; it can become {}",
                    self.as_str(),
                    to.as_str(),
                    allowed.join(" or ")
                ),
            },
        ))
    }
}

/// Kiểu dữ liệu — the kind of value an element holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Text,
    Integer,
    Decimal,
    Date,
    Boolean,
    /// A code from a code list.
    Code,
}

/// Định nghĩa kỹ thuật — how a value is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicalDefinition {
    pub data_type: Option<ValueType>,
    /// Most characters.
    #[serde(default)]
    pub max_length: Option<u32>,
    /// A regular expression the whole value matches, e.g. `^[0-9]{12}$`.
    #[serde(default)]
    pub pattern: Option<String>,
    /// How it is written for people, e.g. `dd/mm/yyyy`.
    #[serde(default)]
    pub format: Option<String>,
    /// Đơn vị tính, e.g. `đồng`, `m2`.
    #[serde(default)]
    pub unit: Option<String>,
}

/// Miền giá trị — the values allowed: a code list (by its identifier) or a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueDomain {
    #[serde(default)]
    pub code_list: Option<String>,
    #[serde(default)]
    pub rule: Option<String>,
}

/// Quy tắc quản lý — who answers for the element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagementRules {
    /// The owning agency (its id).
    pub owner_agency_id: String,
    /// Who keeps it: a person or a unit.
    #[serde(default)]
    pub steward: String,
    /// Who updates it and how often.
    #[serde(default)]
    pub update_responsibility: String,
}

/// What a steward writes about an element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElementDraft {
    /// Mã phần tử — a stable identifier: lowercase letters, digits and `-` (e.g.
    /// `so-dinh-danh-ca-nhan`).
    pub identifier: String,
    /// Tên (tiếng Việt).
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Định nghĩa nghiệp vụ — what it means, for people.
    pub definition: String,
    #[serde(default)]
    pub technical: TechnicalDefinition,
    #[serde(default)]
    pub value_domain: ValueDomain,
    pub management: ManagementRules,
    /// Phân loại dữ liệu cá nhân (Decree 13/2023).
    #[serde(default)]
    pub personal_data: PersonalData,
    /// Tên gọi khác — other names columns go by (help binding).
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// The identifier of the element this one replaces.
    #[serde(default)]
    pub supersedes: Option<String>,
}

impl ElementDraft {
    /// Trims the fields and checks them, naming the field at fault.
    pub fn validate(mut self) -> Result<Self> {
        self.identifier = self.identifier.trim().to_string();
        self.name = self.name.trim().to_string();
        self.definition = self.definition.trim().to_string();
        if !kho_vn::is_slug(&self.identifier, 80) {
            return Err(Error::invalid(
                "identifier",
                format!(
                    "{:?} is not an identifier; use lowercase letters, digits and single dashes, e.g. {:?}",
                    self.identifier,
                    kho_vn::slugify(&self.identifier, 80)
                ),
            ));
        }
        if !(2..=200).contains(&self.name.chars().count()) {
            return Err(Error::invalid("name", "give the element a name of 2 to 200 characters"));
        }
        if self.definition.chars().count() < 10 {
            return Err(Error::invalid("definition", "write the business definition (at least 10 characters)"));
        }
        if self.management.owner_agency_id.trim().is_empty() {
            return Err(Error::invalid("management.owner_agency_id", "name the agency that owns the element"));
        }
        if let Some(p) = &self.technical.pattern {
            if let Err(e) = regex_check(p) {
                return Err(Error::invalid("technical.pattern", format!("{p:?} is not a regular expression: {e}")));
            }
        }
        if self.technical.data_type == Some(ValueType::Code) && self.value_domain.code_list.is_none() {
            return Err(Error::invalid("value_domain.code_list", "a code element names the code list of its values"));
        }
        self.synonyms = self.synonyms.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if self.supersedes.as_deref() == Some(self.identifier.as_str()) {
            return Err(Error::invalid("supersedes", "an element cannot supersede itself"));
        }
        Ok(self)
    }
}

/// A light check that a pattern is a well-formed regular expression: balanced groups
/// and classes, nothing dangling. The full check is the regex engine's, where patterns
/// are used.
fn regex_check(p: &str) -> std::result::Result<(), String> {
    let (mut depth, mut class, mut escaped) = (0i32, false, false);
    for c in p.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => depth += 1,
            ')' if !class => {
                depth -= 1;
                if depth < 0 {
                    return Err("a `)` has no `(`".into());
                }
            }
            _ => {}
        }
    }
    match (depth, class, escaped) {
        (0, false, false) => Ok(()),
        (_, true, _) => Err("a `[` is not closed".into()),
        (_, _, true) => Err("it ends with a lone `\\`".into()),
        _ => Err("a `(` is not closed".into()),
    }
}

/// Phần tử dữ liệu — an element as registered, at its current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DataElement {
    pub id: String,
    /// Counts from 1; every change makes the next.
    pub version: i64,
    #[serde(flatten)]
    pub draft: ElementDraft,
    pub status: RegistrationStatus,
    /// Who set the status, and when.
    pub status_changed_by: String,
    pub status_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of an element, as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ElementVersion {
    pub version: i64,
    pub status: RegistrationStatus,
    #[serde(flatten)]
    pub draft: ElementDraft,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// The columns of the CSV form of the dictionary, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "identifier",
    "name",
    "name_en",
    "definition",
    "data_type",
    "max_length",
    "pattern",
    "format",
    "unit",
    "code_list",
    "rule",
    "owner_agency_id",
    "steward",
    "update_responsibility",
    "personal_data",
    "synonyms",
];

impl ElementDraft {
    /// The element as a CSV record of [`CSV_COLUMNS`] (synonyms joined by `|`).
    pub fn to_csv_record(&self) -> Vec<String> {
        let t = &self.technical;
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.identifier.clone(),
            self.name.clone(),
            o(&self.name_en),
            self.definition.clone(),
            t.data_type.map(|d| enum_text(&d)).unwrap_or_default(),
            t.max_length.map(|n| n.to_string()).unwrap_or_default(),
            o(&t.pattern),
            o(&t.format),
            o(&t.unit),
            o(&self.value_domain.code_list),
            o(&self.value_domain.rule),
            self.management.owner_agency_id.clone(),
            self.management.steward.clone(),
            self.management.update_responsibility.clone(),
            self.personal_data.as_str().to_string(),
            self.synonyms.join("|"),
        ]
    }

    /// An element from a CSV record with the given header; `row` names it in errors.
    pub fn from_csv_record(header: &[String], record: &[String], row: u64) -> Result<Self> {
        let get = |name: &str| -> String {
            header.iter().position(|h| h.trim() == name).and_then(|i| record.get(i)).cloned().unwrap_or_default()
        };
        let opt = |name: &str| Some(get(name)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let at = |field: &str, message: String| Error::invalid("file", format!("row {row}, column {field}: {message}"));
        let data_type = match opt("data_type") {
            None => None,
            Some(t) => {
                Some(serde_json::from_value::<ValueType>(serde_json::Value::String(t.clone())).map_err(|_| {
                    at("data_type", format!("{t:?} is not text, integer, decimal, date, boolean or code"))
                })?)
            }
        };
        let max_length = match opt("max_length") {
            None => None,
            Some(n) => Some(n.parse().map_err(|_| at("max_length", format!("{n:?} is not a whole number")))?),
        };
        let personal_data = match opt("personal_data") {
            None => PersonalData::None,
            Some(p) => serde_json::from_value(serde_json::Value::String(p.clone()))
                .map_err(|_| at("personal_data", format!("{p:?} is not none, basic or sensitive")))?,
        };
        let draft = ElementDraft {
            identifier: get("identifier"),
            name: get("name"),
            name_en: opt("name_en"),
            definition: get("definition"),
            technical: TechnicalDefinition {
                data_type,
                max_length,
                pattern: opt("pattern"),
                format: opt("format"),
                unit: opt("unit"),
            },
            value_domain: ValueDomain { code_list: opt("code_list"), rule: opt("rule") },
            management: ManagementRules {
                owner_agency_id: get("owner_agency_id"),
                steward: get("steward"),
                update_responsibility: get("update_responsibility"),
            },
            personal_data,
            synonyms: get("synonyms").split('|').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            supersedes: opt("supersedes"),
        };
        draft.validate().map_err(|e| Error::invalid("file", format!("row {row}: {}", e.message)))
    }
}

fn enum_text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ElementDraft {
        serde_json::from_value(serde_json::json!({
            "identifier": "so-dinh-danh-ca-nhan",
            "name": "Số định danh cá nhân",
            "definition": "Số căn cước công dân 12 chữ số do Bộ Công an cấp.",
            "technical": {"data_type": "text", "max_length": 12, "pattern": "^[0-9]{12}$"},
            "management": {"owner_agency_id": "a1"},
            "personal_data": "basic",
            "synonyms": ["CCCD", " so cccd "]
        }))
        .unwrap()
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        assert_eq!(draft().validate().unwrap().synonyms, ["CCCD", "so cccd"]);
        let mut bad = draft();
        bad.identifier = "Số CCCD".into();
        let e = bad.validate().unwrap_err();
        assert!(e.message.contains("identifier") && e.message.contains("so-cccd"), "{}", e.message);
        let mut bad = draft();
        bad.technical.pattern = Some("^[0-9{12}$".into());
        assert!(bad.validate().unwrap_err().message.contains("technical.pattern"));
        let mut bad = draft();
        bad.technical.data_type = Some(ValueType::Code);
        assert!(bad.validate().unwrap_err().message.contains("value_domain.code_list"));
        let unknown = serde_json::from_value::<ElementDraft>(serde_json::json!({
            "identifier": "x", "name": "x", "definition": "x", "management": {"owner_agency_id": "a"}, "colour": 1
        }));
        assert!(unknown.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn the_lifecycle_moves_forward_and_explains_refusals() {
        use RegistrationStatus::*;
        assert!(Draft.check_move(Candidate).is_ok());
        assert!(Candidate.check_move(Standard).is_ok());
        assert!(Candidate.check_move(Draft).is_ok());
        assert!(Standard.check_move(Superseded).is_ok());
        let e = Draft.check_move(Standard).unwrap_err();
        assert_eq!(e.message, "status: a draft element cannot become standard; it can become candidate or retired");
        assert!(Retired.check_move(Draft).unwrap_err().message.contains("cannot change status"));
        assert_eq!(RegistrationStatus::parse("standard").unwrap(), Standard);
        assert!(RegistrationStatus::parse("approved").is_err());
    }

    #[test]
    fn csv_records_round_trip_and_name_the_row() {
        let d = draft().validate().unwrap();
        let header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
        let back = ElementDraft::from_csv_record(&header, &d.to_csv_record(), 2).unwrap();
        assert_eq!(back, d);
        let mut record = d.to_csv_record();
        record[5] = "mười hai".into();
        let e = ElementDraft::from_csv_record(&header, &record, 7).unwrap_err();
        assert!(e.message.contains("row 7, column max_length"), "{}", e.message);
    }
}
