//! The demo's starter data dictionary (từ điển dữ liệu): the shared elements nearly
//! every agency's data holds, with definitions and patterns, registered as
//! `candidate` so that the province reviews them before they become standard.

use crate::services::Kho;
use kho_catalog::dictionary::{ElementDraft, RegistrationStatus};
use kho_core::audit::AuditContext;
use kho_core::{Error, Result};
use serde_json::json;

/// (identifier, name, English name, definition, technical definition, value domain,
/// personal data, synonyms).
fn starter(owner: &str) -> Vec<serde_json::Value> {
    let element = |identifier: &str,
                   name: &str,
                   name_en: &str,
                   definition: &str,
                   technical: serde_json::Value,
                   value_domain: serde_json::Value,
                   personal_data: &str,
                   synonyms: &[&str]| {
        json!({
            "identifier": identifier, "name": name, "name_en": name_en, "definition": definition,
            "technical": technical, "value_domain": value_domain, "personal_data": personal_data,
            "synonyms": synonyms,
            "management": {"owner_agency_id": owner, "steward": "Sở Khoa học và Công nghệ",
                           "update_responsibility": "Rà soát 6 tháng một lần"},
        })
    };
    vec![
        element(
            "so-dinh-danh-ca-nhan",
            "Số định danh cá nhân",
            "Personal identification number",
            "Số định danh cá nhân của công dân Việt Nam, in trên thẻ căn cước (CCCD): 3 chữ số mã tỉnh nơi đăng ký khai sinh, 1 chữ số giới tính và thế kỷ sinh, 2 chữ số năm sinh, 6 chữ số ngẫu nhiên.",
            json!({"data_type": "text", "max_length": 12, "pattern": "^[0-9]{12}$"}),
            json!({"rule": "12 chữ số; 3 chữ số đầu là mã tỉnh"}),
            "basic",
            &["CCCD", "số CCCD", "căn cước công dân", "citizen ID"],
        ),
        element(
            "ho-va-ten",
            "Họ và tên",
            "Full name",
            "Họ, chữ đệm và tên của một người như trên giấy khai sinh, viết hoa chữ cái đầu mỗi từ.",
            json!({"data_type": "text", "max_length": 100}),
            json!({}),
            "basic",
            &["họ tên", "tên người"],
        ),
        element(
            "ngay-sinh",
            "Ngày sinh",
            "Date of birth",
            "Ngày, tháng, năm sinh của một người như trên giấy khai sinh.",
            json!({"data_type": "date", "format": "dd/mm/yyyy"}),
            json!({}),
            "basic",
            &["ngày tháng năm sinh"],
        ),
        element(
            "gioi-tinh",
            "Giới tính",
            "Sex",
            "Giới tính của một người như trên giấy khai sinh.",
            json!({"data_type": "text", "max_length": 3}),
            json!({"rule": "Nam hoặc Nữ"}),
            "basic",
            &["phái"],
        ),
        element(
            "so-dien-thoai",
            "Số điện thoại",
            "Phone number",
            "Số điện thoại liên hệ của một người hoặc tổ chức, theo kế hoạch đánh số 10 chữ số từ năm 2018.",
            json!({"data_type": "text", "max_length": 12, "pattern": "^(\\+84|0)[0-9]{9}$"}),
            json!({}),
            "basic",
            &["điện thoại", "SĐT", "di động"],
        ),
        element(
            "thu-dien-tu",
            "Thư điện tử",
            "E-mail address",
            "Địa chỉ thư điện tử để liên hệ với một người hoặc tổ chức.",
            json!({"data_type": "text", "max_length": 254, "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"}),
            json!({}),
            "basic",
            &["email", "e-mail"],
        ),
        element(
            "ma-so-thue",
            "Mã số thuế doanh nghiệp",
            "Business tax code",
            "Mã số thuế do cơ quan thuế cấp cho doanh nghiệp: 10 chữ số, hoặc 13 chữ số (10 chữ số, dấu gạch ngang và 3 chữ số) cho đơn vị phụ thuộc.",
            json!({"data_type": "text", "max_length": 14, "pattern": "^[0-9]{10}(-?[0-9]{3})?$"}),
            json!({}),
            "none",
            &["MST", "mã số doanh nghiệp"],
        ),
        element(
            "ten-doanh-nghiep",
            "Tên doanh nghiệp",
            "Business name",
            "Tên đầy đủ của doanh nghiệp như trên giấy chứng nhận đăng ký doanh nghiệp.",
            json!({"data_type": "text", "max_length": 255}),
            json!({}),
            "none",
            &["tên công ty", "tên đơn vị"],
        ),
        element(
            "dia-chi",
            "Địa chỉ chi tiết",
            "Address line",
            "Số nhà, ngõ, đường, thôn, tổ dân phố — phần địa chỉ dưới cấp xã; xã và tỉnh được ghi bằng mã riêng.",
            json!({"data_type": "text", "max_length": 255}),
            json!({}),
            "basic",
            &["địa chỉ", "số nhà"],
        ),
        element(
            "ma-xa",
            "Mã đơn vị hành chính cấp xã",
            "Commune code",
            "Mã của xã, phường, đặc khu theo danh mục đơn vị hành chính có hiệu lực vào ngày của dữ liệu (từ 01/07/2025: 3.321 đơn vị).",
            json!({"data_type": "code", "max_length": 5, "pattern": "^[0-9]{5}$"}),
            json!({"code_list": "admin-units"}),
            "none",
            &["mã phường xã", "mã xã phường"],
        ),
        element(
            "ma-tinh",
            "Mã tỉnh",
            "Province code",
            "Mã của tỉnh, thành phố trực thuộc trung ương theo danh mục đơn vị hành chính (từ 01/07/2025: 34 đơn vị).",
            json!({"data_type": "code", "max_length": 2, "pattern": "^[0-9]{2}$"}),
            json!({"code_list": "provinces"}),
            "none",
            &["mã tỉnh thành phố"],
        ),
    ]
}

/// Registers the starter elements, owned by the province, as candidates.
pub async fn seed(kho: &Kho, ctx: &AuditContext, owner_agency_id: &str) -> Result<()> {
    for value in starter(owner_agency_id) {
        let draft: ElementDraft =
            serde_json::from_value(value).map_err(|e| Error::internal(format!("demo data element: {e}")))?;
        kho.store.create_element(ctx, &draft.validate()?, RegistrationStatus::Candidate).await?;
    }
    Ok(())
}
