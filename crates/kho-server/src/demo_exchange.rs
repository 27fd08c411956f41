//! The demo's sharing platform: the poor-households list (personal data, shared
//! between agencies) loaded with synthetic rows, offered by the Department of Health's
//! subsystem as a dataset service, and an approved agreement that lets the Department
//! of Finance's subsidy system read it for one purpose, with citizen IDs masked. The
//! consumer's token is printed once at the first start, for the README's first call.

use crate::services::{Kho, Load, OnError};
use kho_core::audit::AuditContext;
use kho_core::identity::{NewSubsystem, Role, Subject, SubsystemId, TokenOwner};
use kho_core::{Error, Result};
use kho_exchange::{AgreementTerms, NewService, ServiceTarget};
use kho_lake::LoadMode;
use std::fmt::Write;

pub const PROVIDER: &str = "VN/GOV/000.00.03.H24/BAO-TRO-XA-HOI";
pub const CONSUMER: &str = "VN/GOV/000.00.02.H24/CHI-TRA-TRO-CAP";
pub const SERVICE: &str = "ho-ngheo";
pub const PURPOSE: &str = "xac-minh-ho-ngheo";

const GIVEN: [&str; 10] =
    ["Văn An", "Thị Bình", "Văn Cường", "Thị Dung", "Đức Em", "Thị Hoa", "Văn Hùng", "Thị Lan", "Minh Tuấn", "Thị Yến"];
const FAMILY: [&str; 6] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"];
const WARDS: [(&str, &str); 4] =
    [("07210", "Phường Bắc Giang"), ("07306", "Xã Nhã Nam"), ("09187", "Phường Kinh Bắc"), ("09253", "Xã Tiên Du")];

/// 40 households; the first one's head has citizen ID 027050001234.
fn households_csv() -> String {
    let mut csv = String::from("Mã hộ,Chủ hộ,Số CCCD,Mã xã,Xã/Phường,Loại hộ,Số nhân khẩu,Năm\n");
    for i in 0..40u32 {
        let given = GIVEN[(i as usize * 7) % GIVEN.len()];
        let female = given.starts_with("Thị");
        let year = 1950 + (i * 13) % 50;
        let id = format!("027{}{:02}{:06}", u32::from(female), year % 100, 1234 + i * 7919 % 1_000_000);
        let (ward_code, ward) = WARDS[i as usize % WARDS.len()];
        let kind = if i % 3 == 0 { "Hộ cận nghèo" } else { "Hộ nghèo" };
        let _ = writeln!(
            csv,
            "BN-{:05},{} {given},{id},{ward_code},{ward},{kind},{},2025",
            i + 1,
            FAMILY[i as usize % FAMILY.len()],
            2 + i % 5
        );
    }
    csv
}

/// Seeds the exchange; returns the consumer and its token.
pub async fn seed(kho: &Kho, operator: &Subject, ctx: &AuditContext, households_id: &str) -> Result<(String, String)> {
    let dir = tempfile::tempdir().map_err(|e| Error::internal(format!("demo data: {e}")))?;
    let path = dir.path().join("ho-ngheo.csv");
    std::fs::write(&path, households_csv()).map_err(|e| Error::internal(format!("demo data: {e}")))?;
    let load = Load {
        resource: households_id,
        table: "main",
        path: &path,
        source_name: "ho-ngheo-2025.csv".into(),
        mode: LoadMode::Replace,
        key: vec![],
        format: None,
        sheet: None,
        header_row: None,
        schema: ["Mã hộ", "Số CCCD", "Mã xã"].iter().map(|c| (c.to_string(), "text".to_string())).collect(),
        on_error: OnError::Fail,
    };
    kho.load_table(operator, ctx, load, |_| {}).await?;

    let agency_of = |id: &SubsystemId| id.member_code.clone();
    let mut token = None;
    for (xroad, name) in [(PROVIDER, "Hệ thống bảo trợ xã hội"), (CONSUMER, "Hệ thống chi trả trợ cấp")]
    {
        let xroad_id = SubsystemId::parse(xroad)?;
        let agency = kho.store.agency_by_code(&agency_of(&xroad_id)).await?.ok_or_else(|| Error::not_found(xroad))?;
        let new = NewSubsystem { xroad_id, name: name.into(), agency_id: agency.id, roles: vec![Role::Viewer] };
        let s = kho.create_subsystem(operator, ctx, new).await?;
        if xroad == CONSUMER {
            token = Some(kho.create_token(operator, ctx, TokenOwner::Subsystem(s.id), "demo gateway", 365).await?.1);
        }
    }
    let service = NewService {
        provider: SubsystemId::parse(PROVIDER)?,
        code: SERVICE.into(),
        description: "Hộ nghèo, hộ cận nghèo theo số CCCD của chủ hộ".into(),
        target: ServiceTarget::Dataset {
            resource_id: households_id.into(),
            table: "main".into(),
            columns: vec![],
            filter: None,
            key_column: Some("so_cccd".into()),
        },
        timeout_ms: None,
        log_bodies: false,
    };
    kho.register_service(operator, ctx, service).await?;
    let terms = AgreementTerms {
        endpoints: vec!["GET /rows".into(), "GET /rows/*".into()],
        fields: ["ma_ho", "chu_ho", "so_cccd", "xa_phuong", "loai_ho", "so_nhan_khau", "nam"]
            .map(String::from)
            .to_vec(),
        masked: vec!["so_cccd".into()],
        purposes: vec![PURPOSE.into()],
        legal_basis: "Nghị định 20/2021/NĐ-CP về chính sách trợ giúp xã hội".into(),
        valid_from: None,
        valid_until: Some(kho_core::time::now().date_naive() + chrono::Days::new(365)),
        rate_per_second: 20,
        burst: Some(40),
        daily_quota: Some(10_000),
    };
    let consumer = SubsystemId::parse(CONSUMER)?;
    let service_id = format!("{PROVIDER}/{SERVICE}");
    kho.request_agreement(operator, ctx, &consumer, &service_id, &terms, true).await?;
    Ok((CONSUMER.into(), token.expect("the consumer gets a token")))
}
