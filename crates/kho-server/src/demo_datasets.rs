//! Open datasets for the demo province, so that a newcomer's first look at the portal
//! is not empty: the communes and wards of Bắc Ninh from the official 2025 list, and
//! synthetic but realistic lists of schools, health facilities and tourist sites
//! (Vietnamese names, `dd/mm/yyyy` dates, amounts with `.` separators, 2025 commune
//! codes) — each loaded through the same path a steward's file takes.

use crate::demo::ADMIN_UNITS_2025;
use crate::services::{Kho, Load, OnError};
use kho_catalog::{ResourceDraft, Status};
use kho_core::admin_units::AdminUnit;
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::{Error, Result};
use kho_lake::LoadMode;
use std::fmt::Write;

const PROVINCE_CODE: &str = "24";

/// A small deterministic generator, so that every demo shows the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next(items.len())]
    }
}

/// `1250000` → `1.250.000`.
fn vn_amount(n: u64) -> String {
    kho_vn::number(n as f64)
}

fn communes_csv(units: &[&AdminUnit]) -> String {
    let mut csv = String::from("Mã đơn vị,Tên đơn vị,Loại,Mã tỉnh,Tên tỉnh\n");
    for u in units {
        let _ =
            writeln!(csv, "{},{},{},{},{}", u.ward_code, u.ward_name, u.ward_type, u.province_code, u.province_name);
    }
    csv
}

fn short(u: &AdminUnit) -> &str {
    u.ward_name.trim_start_matches("Phường ").trim_start_matches("Xã ")
}

fn schools_csv(units: &[&AdminUnit], g: &mut Lcg) -> String {
    let levels = [("Trường Mầm non", 120, 450), ("Trường Tiểu học", 350, 1200), ("Trường THCS", 300, 1000)];
    let mut csv = String::from("Mã trường,Tên trường,Cấp học,Mã xã,Xã/Phường,Số học sinh,Ngày thành lập\n");
    for (i, u) in units.iter().enumerate() {
        for (j, (level, low, high)) in levels.iter().enumerate() {
            let pupils = low + g.next(high - low);
            let (day, month, year) = (1 + g.next(28), [8, 9][g.next(2)], 1960 + g.next(60));
            let _ = writeln!(
                csv,
                "{:05},{level} {},{},{},{},{},{day:02}/{month:02}/{year}",
                i * 3 + j + 1,
                short(u),
                ["Mầm non", "Tiểu học", "Trung học cơ sở"][j],
                u.ward_code,
                u.ward_name,
                vn_amount(pupils as u64)
            );
        }
    }
    csv
}

fn health_csv(units: &[&AdminUnit], g: &mut Lcg) -> String {
    let mut csv = String::from("Tên cơ sở,Loại hình,Mã xã,Xã/Phường,Số giường bệnh\n");
    for u in units {
        let _ =
            writeln!(csv, "Trạm Y tế {},Trạm y tế xã,{},{},{}", u.ward_name, u.ward_code, u.ward_name, 3 + g.next(8));
    }
    for (name, beds) in [("Bệnh viện Đa khoa tỉnh Bắc Ninh", 1200), ("Bệnh viện Sản - Nhi Bắc Ninh", 600)]
    {
        let u = units[g.next(units.len())];
        let _ = writeln!(csv, "{name},Bệnh viện,{},{},{}", u.ward_code, u.ward_name, vn_amount(beds));
    }
    csv
}

fn tourism_csv(units: &[&AdminUnit], g: &mut Lcg) -> String {
    let sites = [
        ("Chùa Dâu", "Di tích lịch sử"),
        ("Đền Đô", "Di tích lịch sử"),
        ("Chùa Bút Tháp", "Di tích lịch sử"),
        ("Làng tranh Đông Hồ", "Làng nghề"),
        ("Đồi Lim", "Lễ hội"),
        ("Làng gốm Phù Lãng", "Làng nghề"),
        ("Văn miếu Bắc Ninh", "Di tích lịch sử"),
        ("Chùa Phật Tích", "Di tích lịch sử"),
    ];
    let mut csv = String::from("Tên điểm,Loại hình,Mã xã,Xã/Phường,Lượt khách năm 2024,Giá vé (đồng)\n");
    for (name, kind) in sites {
        let u = units[g.next(units.len())];
        let visitors = 20_000 + g.next(400_000) as u64;
        let ticket = g.pick(&["0", "10.000", "20.000", "30.000"]);
        let _ = writeln!(csv, "{name},{kind},{},{},{},{ticket}", u.ward_code, u.ward_name, vn_amount(visitors));
    }
    csv
}

/// Creates, loads and publishes the demo's open datasets.
/// The demo schools' quality rules (quy tắc kiểm tra chất lượng).
const SCHOOL_RULES: &str = "checks:
  - row_count: { min: 10 }
  - not_null: [ma_truong, ten_truong, ma_xa]
  - unique: ma_truong
  - regex: { column: ma_truong, pattern: '^[0-9]{5}$' }
  - length: { column: ma_xa, min: 5, max: 5 }
  - range: { column: so_hoc_sinh, min: 0, max: 3000 }
  - standard: { column: ten_truong, kind: text }
  - freshness: { within: 1y }
    severity: warning
";

pub async fn seed(kho: &Kho, operator: &Subject, ctx: &AuditContext, agency_ids: &[(usize, String)]) -> Result<()> {
    let units = kho_core::admin_units::read_2025("admin-units-2025.csv", ADMIN_UNITS_2025)?;
    let province: Vec<&AdminUnit> = units.iter().filter(|u| u.province_code == PROVINCE_CODE).collect();
    let sample: Vec<&AdminUnit> = province.iter().step_by(province.len().div_ceil(15).max(1)).copied().collect();
    let mut g = Lcg(2025);
    let agency =
        |dept: usize| agency_ids.iter().find(|(d, _)| *d == dept).map(|(_, id)| id.clone()).unwrap_or_default();
    let datasets = [
        (
            agency(1),
            "Danh sách xã, phường tỉnh Bắc Ninh",
            "Communes and wards of Bắc Ninh",
            "Các xã, phường của tỉnh theo danh mục đơn vị hành chính có hiệu lực từ 01/07/2025.",
            "hành chính",
            vec!["đơn vị hành chính", "xã phường"],
            communes_csv(&province),
        ),
        (
            agency(3),
            "Danh sách trường học mầm non, tiểu học, trung học cơ sở",
            "Nursery, primary and lower-secondary schools",
            "Trường học theo cấp học và xã, phường, với số học sinh năm học 2024-2025.",
            "giáo dục",
            vec!["trường học", "học sinh"],
            schools_csv(&sample, &mut g),
        ),
        (
            agency(2),
            "Danh sách cơ sở y tế",
            "Health facilities",
            "Trạm y tế xã, phường và bệnh viện tuyến tỉnh, với số giường bệnh.",
            "y tế",
            vec!["y tế", "bệnh viện"],
            health_csv(&sample, &mut g),
        ),
        (
            agency(0),
            "Điểm du lịch tiêu biểu",
            "Notable tourist sites",
            "Di tích, làng nghề và lễ hội tiêu biểu của tỉnh, với lượt khách năm 2024.",
            "du lịch",
            vec!["du lịch", "di tích"],
            tourism_csv(&sample, &mut g),
        ),
    ];
    let dir = tempfile::tempdir().map_err(|e| Error::internal(format!("demo data: {e}")))?;
    for (publisher, title, title_en, description, theme, keywords, csv) in datasets {
        let draft: ResourceDraft = serde_json::from_value(serde_json::json!({
            "title": title, "title_en": title_en, "description": description, "theme": theme,
            "keywords": keywords, "publisher_agency_id": publisher, "sharing_scope": "open",
            "personal_data": "none", "update_frequency": "annual", "spatial": [PROVINCE_CODE],
            "update_commitment": "Cập nhật trong vòng 3 tháng kể từ khi có thay đổi",
        }))
        .map_err(|e| Error::internal(format!("demo dataset: {e}")))?;
        let r = kho.create_resource(operator, ctx, draft).await?;
        let path = dir.path().join(format!("{}.csv", r.slug));
        let header = csv.lines().next().unwrap_or("").to_string();
        std::fs::write(&path, csv).map_err(|e| Error::internal(format!("demo data: {e}")))?;
        let load = Load {
            resource: &r.id,
            table: "main",
            path: &path,
            source_name: format!("{}.csv", r.slug),
            mode: LoadMode::Replace,
            key: vec![],
            format: None,
            sheet: None,
            header_row: None,
            // Codes keep their leading zeros.
            schema: ["Mã đơn vị", "Mã xã", "Mã trường"]
                .iter()
                .filter(|c| header.contains(*c))
                .map(|c| (c.to_string(), "text".to_string()))
                .collect(),
            on_error: OnError::Fail,
        };
        kho.load_table(operator, ctx, load, |_| {}).await?;
        kho.set_resource_status(operator, ctx, &r.id, Status::Published).await?;
        if header.contains("Mã trường") {
            // The schools carry quality rules, so the quality pages have something to show.
            kho.set_quality_rules(operator, ctx, &r.id, "main", SCHOOL_RULES).await?;
            kho.run_quality(operator, ctx, &r.id, "main", None, None).await?;
        }
    }
    Ok(())
}
