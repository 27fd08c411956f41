//! The demo province (`kho serve --demo`): Bắc Ninh (2025 province code 24) with its
//! people's committee, several departments, communes and wards from the official
//! 2025 list, one user per role and a machine client. Agency codes are illustrative.

use crate::services::{commune_agency_code, Kho};
use kho_catalog::ResourceDraft;
use kho_core::agency::{AgencyCode, AgencyKind, NewAgency};
use kho_core::audit::AuditContext;
use kho_core::identity::{NewSubsystem, NewUser, Role, Subject, SubsystemId};
use kho_core::Result;

/// The official 2025 admin-unit list, carried in the binary.
pub const ADMIN_UNITS_2025: &[u8] = include_bytes!("../../../data/admin-units-2025.csv");

const PROVINCE_CODE: &str = "24";
const LEVEL1: &str = "H24";
const DEMO_COMMUNES: usize = 12;

const DEPARTMENTS: [(&str, &str); 6] = [
    ("Sở Khoa học và Công nghệ", "Department of Science and Technology"),
    ("Sở Tài chính", "Department of Finance"),
    ("Sở Y tế", "Department of Health"),
    ("Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"),
    ("Sở Xây dựng", "Department of Construction"),
];

fn agency(code: &str, name: &str, name_en: Option<&str>, kind: AgencyKind, parent: Option<&str>) -> Result<NewAgency> {
    Ok(NewAgency {
        code: AgencyCode::parse(code)?,
        name: name.into(),
        name_en: name_en.map(String::from),
        kind,
        parent_id: parent.map(String::from),
        admin_unit_code: None,
    })
}

/// Seeds the demo province; every demo user gets `password`. Returns the usernames.
/// What the demo created that is shown once: its users, and the demo consumer's
/// gateway token.
pub struct Seeded {
    pub users: Vec<String>,
    pub gateway_token: Option<(String, String)>,
}

pub async fn seed(kho: &Kho, operator: &Subject, ctx: &AuditContext, password: &str) -> Result<Seeded> {
    let province = kho
        .create_agency(
            operator,
            ctx,
            agency(
                &format!("000.00.00.{LEVEL1}"),
                "UBND tỉnh Bắc Ninh",
                Some("Bac Ninh Provincial People's Committee"),
                AgencyKind::Province,
                None,
            )?,
        )
        .await?;
    let mut departments = Vec::new();
    for (i, (vi, en)) in DEPARTMENTS.iter().enumerate() {
        let code = format!("000.00.{:02}.{LEVEL1}", i + 1);
        let new = agency(&code, vi, Some(en), AgencyKind::Department, Some(&province.id))?;
        departments.push(kho.create_agency(operator, ctx, new).await?);
    }
    let units = kho_core::admin_units::read_2025("admin-units-2025.csv", ADMIN_UNITS_2025)?;
    let communes: Vec<_> = units.iter().filter(|u| u.province_code == PROVINCE_CODE).take(DEMO_COMMUNES).collect();
    let mut commune_agencies = Vec::new();
    for (i, unit) in communes.iter().enumerate() {
        let mut new = agency(
            &commune_agency_code(LEVEL1, i + 1),
            &format!("UBND {}", unit.ward_name),
            None,
            AgencyKind::Commune,
            Some(&province.id),
        )?;
        new.admin_unit_code = Some(unit.ward_code.clone());
        commune_agencies.push(kho.create_agency(operator, ctx, new).await?);
    }

    let users = [
        ("admin", "Quản trị hệ thống", &province.id, Role::Admin),
        ("steward.khcn", "Cán bộ dữ liệu Sở KH&CN", &departments[0].id, Role::Steward),
        ("viewer.taichinh", "Chuyên viên Sở Tài chính", &departments[1].id, Role::Viewer),
        ("auditor", "Kiểm toán viên", &province.id, Role::Auditor),
        ("steward.xa", "Cán bộ dữ liệu cấp xã", &commune_agencies[0].id, Role::Steward),
    ];
    let mut names = Vec::new();
    for (username, display, agency_id, role) in users {
        let new = NewUser {
            username: username.into(),
            display_name: Some(display.into()),
            agency_id: agency_id.clone(),
            roles: vec![role],
            password: password.into(),
        };
        kho.create_user(operator, ctx, new).await?;
        names.push(username.to_string());
    }
    let portal = NewSubsystem {
        xroad_id: SubsystemId::parse(&format!("VN/GOV/{}/DATA-PORTAL", departments[0].code))?,
        name: "Cổng dữ liệu tỉnh".into(),
        agency_id: departments[0].id.clone(),
        roles: vec![Role::Viewer],
    };
    kho.create_subsystem(operator, ctx, portal).await?;

    // A few published catalogue entries (descriptions only; their data is loaded separately).
    let resources = [
        (3, "Danh sách cơ sở giáo dục", "List of schools", "giáo dục", "open", "none", "annual"),
        (4, "Bảng giá đất", "Land price table", "đất đai", "open", "none", "annual"),
        (0, "Danh mục thủ tục hành chính", "Administrative procedures", "hành chính công", "open", "none", "monthly"),
        (
            2,
            "Danh sách hộ nghèo, hộ cận nghèo",
            "Poor and near-poor households",
            "an sinh xã hội",
            "shared",
            "basic",
            "annual",
        ),
    ];
    let mut households = None;
    for (dept, title, title_en, theme, scope, personal, frequency) in resources {
        let draft: ResourceDraft = serde_json::from_value(serde_json::json!({
            "title": title,
            "title_en": title_en,
            "theme": theme,
            "keywords": [theme, "Bắc Ninh"],
            "publisher_agency_id": departments[dept].id,
            "sharing_scope": scope,
            "personal_data": personal,
            "update_frequency": frequency,
            "update_commitment": "Cập nhật trong vòng 3 tháng kể từ khi có thay đổi",
            "spatial": [PROVINCE_CODE],
        }))
        .map_err(|e| kho_core::Error::internal(format!("demo resource: {e}")))?;
        let r = kho.create_resource(operator, ctx, draft).await?;
        kho.set_resource_status(operator, ctx, &r.id, kho_catalog::Status::Published).await?;
        if personal != "none" {
            households = Some(r.id);
        }
    }
    let mut gateway_token = None;
    if kho.settings.demo_datasets {
        let ids: Vec<(usize, String)> = departments.iter().enumerate().map(|(i, d)| (i, d.id.clone())).collect();
        crate::demo_datasets::seed(kho, operator, ctx, &ids).await?;
        if let Some(id) = &households {
            gateway_token = Some(crate::demo_exchange::seed(kho, operator, ctx, id).await?);
        }
    }
    crate::demo_dictionary::seed(kho, ctx, &province.id).await?;
    Ok(Seeded { users: names, gateway_token })
}
