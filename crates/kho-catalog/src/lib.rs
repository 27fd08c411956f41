//! Danh mục dữ liệu — the catalogue. A [`DataResource`] is one catalogue entry
//! (a DCAT-AP dataset) with the fields Vietnamese law asks for. [`ResourceDraft`] is
//! what a steward writes; [`ResourceDraft::validate`] names every field that breaks a
//! rule.

pub mod conformance;
pub mod dcat;
pub mod dictionary;
pub mod personal;
pub mod rdf;
pub mod requests;

use chrono::{DateTime, NaiveDate, Utc};
use kho_core::policy::SharingScope;
use kho_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Longest slug, in characters.
pub const MAX_SLUG: usize = 80;

/// Mức độ quan trọng — importance under the Law on Data (60/2024/QH15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Importance {
    /// Dữ liệu cốt lõi.
    Core,
    /// Dữ liệu quan trọng.
    Important,
    /// Dữ liệu thông thường.
    #[default]
    Ordinary,
}

/// Dữ liệu cá nhân — whether the data holds personal data (Decree 13/2023/NĐ-CP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonalData {
    #[default]
    None,
    /// Dữ liệu cá nhân cơ bản.
    Basic,
    /// Dữ liệu cá nhân nhạy cảm.
    Sensitive,
}

/// Tần suất cập nhật — update frequency (the DCAT frequency vocabulary, simplified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Continuous,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Annual,
    #[default]
    Irregular,
    Never,
}

/// Trạng thái — where the resource is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Bản nháp — being prepared; visible to its agency only.
    #[default]
    Draft,
    /// Đã công bố — published within its sharing scope.
    Published,
    /// Ngừng cung cấp — retired; kept for the record.
    Retired,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(field: &str, s: &str) -> Result<Self> {
                match s { $($s => Ok(Self::$v),)* other => Err(Error::invalid(field, format!(
                    "{other:?} is not allowed; use one of: {}", [$($s),*].join(", ")))) }
            }
        }
    };
}
text_enum!(Importance { Core = "core", Important = "important", Ordinary = "ordinary" });
text_enum!(PersonalData { None = "none", Basic = "basic", Sensitive = "sensitive" });
text_enum!(Status { Draft = "draft", Published = "published", Retired = "retired" });
text_enum!(Frequency {
    Continuous = "continuous", Daily = "daily", Weekly = "weekly", Monthly = "monthly",
    Quarterly = "quarterly", Annual = "annual", Irregular = "irregular", Never = "never",
});

/// Reads a sharing scope from its text form.
pub fn parse_scope(field: &str, s: &str) -> Result<SharingScope> {
    match s {
        "open" => Ok(SharingScope::Open),
        "shared" => Ok(SharingScope::Shared),
        "specialised" => Ok(SharingScope::Specialised),
        "private" => Ok(SharingScope::Private),
        other => {
            Err(Error::invalid(field, format!("{other:?} is not allowed; use open, shared, specialised or private")))
        }
    }
}

pub fn scope_str(s: SharingScope) -> &'static str {
    match s {
        SharingScope::Open => "open",
        SharingScope::Shared => "shared",
        SharingScope::Specialised => "specialised",
        SharingScope::Private => "private",
    }
}

/// Đầu mối liên hệ — who answers questions about the data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

/// What a steward writes about a resource: everything but identity and lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDraft {
    /// Tên — title in Vietnamese.
    pub title: String,
    #[serde(default)]
    pub title_en: Option<String>,
    /// Mô tả — description in Vietnamese.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub description_en: Option<String>,
    /// Human identifier; generated from the title when absent. A stored resource
    /// keeps its slug in [`DataResource::slug`], never here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Từ khóa.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Lĩnh vực — theme or sector, e.g. `giáo dục`, `đất đai`.
    #[serde(default)]
    pub theme: String,
    /// Cơ quan chủ quản — the publishing agency.
    pub publisher_agency_id: String,
    #[serde(default)]
    pub contact_point: ContactPoint,
    /// Giấy phép — licence identifier, e.g. `CC-BY-4.0`.
    #[serde(default = "default_licence")]
    pub licence: String,
    /// Phạm vi không gian — 2025 admin-unit codes (2-digit provinces, 5-digit communes).
    #[serde(default)]
    pub spatial: Vec<String>,
    #[serde(default)]
    pub temporal_start: Option<NaiveDate>,
    #[serde(default)]
    pub temporal_end: Option<NaiveDate>,
    #[serde(default)]
    pub update_frequency: Frequency,
    /// Cam kết cập nhật — e.g. "updated within 3 months of a change".
    #[serde(default)]
    pub update_commitment: String,
    #[schema(value_type = String, example = "open")]
    pub sharing_scope: SharingScope,
    #[serde(default)]
    pub importance: Importance,
    #[serde(default)]
    pub personal_data: PersonalData,
    /// Điều kiện truy cập.
    #[serde(default)]
    pub access_conditions: String,
    /// Căn cứ pháp lý.
    #[serde(default)]
    pub legal_basis: String,
}

fn default_licence() -> String {
    "CC-BY-4.0".into()
}

/// Tài nguyên dữ liệu — a catalogue entry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DataResource {
    /// Stable identifier; never changes.
    pub id: String,
    /// Human identifier, unique across Kho.
    pub slug: String,
    #[serde(flatten)]
    pub draft: ResourceDraft,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl ResourceDraft {
    /// Normalises the text fields and checks every rule; the first broken rule is
    /// returned, naming its field.
    pub fn validate(mut self) -> Result<Self> {
        self.title = self.title.trim().to_string();
        let chars = self.title.chars().count();
        if !(3..=300).contains(&chars) {
            return Err(Error::invalid("title", "must be 3 to 300 characters"));
        }
        if self.description.chars().count() > 20_000 {
            return Err(Error::invalid("description", "must be at most 20,000 characters"));
        }
        if let Some(slug) = &self.slug {
            if !kho_vn::is_slug(slug, MAX_SLUG) {
                return Err(Error::invalid(
                    "slug",
                    format!(
                        "{slug:?} is not a slug; use lowercase letters, digits and single hyphens, at most {MAX_SLUG}"
                    ),
                ));
            }
        }
        let mut keywords: Vec<String> =
            self.keywords.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
        keywords.dedup();
        if keywords.len() > 50 || keywords.iter().any(|k| k.chars().count() > 100) {
            return Err(Error::invalid("keywords", "give at most 50 keywords of at most 100 characters each"));
        }
        self.keywords = keywords;
        for code in &self.spatial {
            if !(code.len() == 2 || code.len() == 5) || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(
                    "spatial",
                    format!("{code:?} is not a 2025 admin-unit code; use 2 digits for a province or 5 for a commune"),
                ));
            }
        }
        if let (Some(start), Some(end)) = (self.temporal_start, self.temporal_end) {
            if end < start {
                return Err(Error::invalid("temporal_end", "must not be before temporal_start"));
            }
        }
        let email = self.contact_point.email.trim();
        let looks_like_email = email.contains('@') && !email.starts_with('@') && !email.ends_with('@');
        if !email.is_empty() && !looks_like_email {
            return Err(Error::invalid("contact_point.email", format!("{email:?} is not an e-mail address")));
        }
        if self.licence.trim().is_empty() {
            return Err(Error::invalid("licence", "name a licence, e.g. CC-BY-4.0"));
        }
        // Decree 47/2020: open data carries no personal data.
        if self.sharing_scope == SharingScope::Open && self.personal_data != PersonalData::None {
            return Err(Error::invalid(
                "sharing_scope",
                "open data must not hold personal data (Decree 47/2020); choose shared or specialised, \
                 or remove the personal data and set personal_data to none",
            ));
        }
        Ok(self)
    }

    /// The slug to use: the one given, or one made from the title.
    pub fn slug_or_generated(&self) -> String {
        self.slug.clone().unwrap_or_else(|| kho_vn::slugify(&self.title, MAX_SLUG))
    }
}

/// The allowed moves between statuses.
pub fn check_transition(from: Status, to: Status) -> Result<()> {
    use Status::*;
    match (from, to) {
        (a, b) if a == b => Ok(()),
        (Draft, Published) | (Published, Retired) | (Retired, Published) | (Published, Draft) => Ok(()),
        _ => Err(Error::invalid(
            "status",
            format!("a {} resource cannot become {}; draft → published → retired", from.as_str(), to.as_str()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ResourceDraft {
        serde_json::from_value(serde_json::json!({
            "title": "  Danh sách trường học  ",
            "publisher_agency_id": "a1",
            "sharing_scope": "open",
            "keywords": ["giáo dục", " ", "trường học"],
            "spatial": ["24", "07210"],
        }))
        .unwrap()
    }

    #[test]
    fn a_minimal_draft_gets_defaults() {
        let d = draft().validate().unwrap();
        assert_eq!(d.title, "Danh sách trường học");
        assert_eq!(d.keywords, ["giáo dục", "trường học"]);
        assert_eq!(d.licence, "CC-BY-4.0");
        assert_eq!(d.update_frequency, Frequency::Irregular);
        assert_eq!(d.slug_or_generated(), "danh-sach-truong-hoc");
    }

    #[test]
    fn rules_name_their_field() {
        type Change = Box<dyn Fn(&mut ResourceDraft)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|d| d.title = "x".into()), "title"),
            (Box::new(|d| d.slug = Some("Bad Slug".into())), "slug"),
            (Box::new(|d| d.spatial = vec!["7210".into()]), "spatial"),
            (Box::new(|d| d.contact_point.email = "no-at-sign".into()), "contact_point.email"),
            (Box::new(|d| d.personal_data = PersonalData::Basic), "sharing_scope"),
            (
                Box::new(|d| {
                    d.temporal_start = NaiveDate::from_ymd_opt(2025, 7, 1);
                    d.temporal_end = NaiveDate::from_ymd_opt(2025, 1, 1);
                }),
                "temporal_end",
            ),
        ];
        for (change, field) in cases {
            let mut d = draft();
            change(&mut d);
            let err = d.validate().unwrap_err();
            assert!(err.message.starts_with(&format!("{field}:")), "{field}: {}", err.message);
        }
    }

    #[test]
    fn statuses_move_along_the_lifecycle() {
        check_transition(Status::Draft, Status::Published).unwrap();
        check_transition(Status::Published, Status::Retired).unwrap();
        assert!(check_transition(Status::Draft, Status::Retired).is_err());
        assert_eq!(Status::parse("status", "published").unwrap(), Status::Published);
        assert!(Frequency::parse("update_frequency", "hourly").unwrap_err().message.contains("monthly"));
    }
}
