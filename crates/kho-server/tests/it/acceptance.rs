//! Nghiệm thu — the acceptance point of the catalogue/warehouse issue, in real
//! headless Chromium against the real server: a steward, tried as a new user would,
//! creates a resource in the UI, uploads an XLSX exported from a government office
//! (a merged title row, dd/mm/yyyy dates written as text), sees the inferred schema
//! and a preview, publishes it, loads a corrected CSV as version 2, sees the diff,
//! downloads version 1 as CSV and version 2 as XLSX.

use crate::webdriver::Browser;
use crate::{spawn_app, PASSWORD};
use calamine::{Data, DataType, Reader};
use chrono::NaiveDate;

const TITLE: &str = "Doanh nghiệp khoa học và công nghệ năm 2025";
const SLUG: &str = "doanh-nghiep-khoa-hoc-va-cong-nghe-nam-2025";
const HEADERS: [&str; 5] = ["STT", "Tên doanh nghiệp", "Mã số thuế", "Ngày cấp", "Vốn điều lệ (đồng)"];

/// Doanh nghiệp KH&CN — the rows as the office typed them: STT a number, everything
/// else text, dates `dd/mm/yyyy` and amounts with `.` between thousands. One company
/// has its head office in Hà Nội, so its tax code keeps a leading zero.
const COMPANIES_V1: [(f64, &str, &str, &str, &str); 5] = [
    (1.0, "Công ty TNHH Công nghệ Kinh Bắc", "2300123456", "15/03/2019", "1.250.000.000"),
    (2.0, "Công ty Cổ phần Vật liệu mới Từ Sơn", "2300234567", "02/11/2020", "3.500.000.000"),
    (3.0, "Công ty TNHH Phần mềm Quế Võ", "0108765432", "28/06/2021", "800.000.000"),
    (4.0, "Công ty Cổ phần Sinh học Thuận Thành", "2300456789", "10/01/2022", "2.000.000.000"),
    (5.0, "Công ty TNHH Điện tử Yên Phong", "2300567890", "31/12/2023", "5.000.000.000"),
];

/// The corrected list (bản đính chính): Từ Sơn's charter capital raised, Yên Phong
/// gone, Gia Bình added.
const COMPANIES_V2_CSV: &str = "STT,Tên doanh nghiệp,Mã số thuế,Ngày cấp,Vốn điều lệ (đồng)\n\
    1,Công ty TNHH Công nghệ Kinh Bắc,2300123456,15/03/2019,1.250.000.000\n\
    2,Công ty Cổ phần Vật liệu mới Từ Sơn,2300234567,02/11/2020,4.000.000.000\n\
    3,Công ty TNHH Phần mềm Quế Võ,0108765432,28/06/2021,800.000.000\n\
    4,Công ty Cổ phần Sinh học Thuận Thành,2300456789,10/01/2022,2.000.000.000\n\
    5,Công ty Cổ phần Công nghệ Gia Bình,2300678901,20/05/2025,1.500.000.000\n";

/// The workbook as an office exports it: a title merged across the table, a blank
/// row, the header, then the rows.
fn office_workbook(path: &std::path::Path) {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Danh sách").unwrap();
    let title = Format::new().set_bold().set_align(FormatAlign::Center);
    sheet.merge_range(0, 0, 0, 4, "DANH SÁCH DOANH NGHIỆP KH&CN NĂM 2025", &title).unwrap();
    let bold = Format::new().set_bold();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold).unwrap();
    }
    for (i, (stt, name, tax, date, capital)) in COMPANIES_V1.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_number(row, 0, *stt).unwrap();
        for (c, text) in [name, tax, date, capital].iter().enumerate() {
            sheet.write_string(row, 1 + c as u16, **text).unwrap();
        }
    }
    workbook.save(path).unwrap();
}

/// The cells of every row of `table` on the page, row by row.
async fn rows_of(browser: &Browser, table: &str, columns: usize) -> Vec<Vec<String>> {
    let cells = browser.texts(&format!("section[aria-labelledby=data-h] {table} tbody td")).await;
    assert_eq!(cells.len() % columns, 0, "{table}: {cells:?}");
    cells.chunks(columns).map(|r| r.to_vec()).collect()
}

/// Waits until the page holds `css`, showing the page's error if the load failed.
async fn expect_loaded(browser: &Browser, css: &str) {
    for _ in 0..240 {
        if browser.count(css).await > 0 {
            return;
        }
        if browser.count("[role=alert]").await > 0 {
            panic!("the load was refused: {}", browser.text("[role=alert]").await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("{css} did not appear; the page is at {}", browser.url().await);
}

/// GETs `url` with the browser's session cookie.
async fn fetch_as(browser: &Browser, url: &str) -> reqwest::Response {
    let session = browser.cookie("kho_session").await;
    let r = reqwest::Client::new().get(url).header("cookie", format!("kho_session={session}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_steward_publishes_an_office_workbook_then_a_corrected_version_and_downloads_both() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    let files = tempfile::tempdir().unwrap();

    // 1. From the management page, as a newcomer: log in, find the resources, register one.
    browser.goto(&app.url("/admin")).await;
    browser.wait_for_url(|u| u.contains("/login")).await;
    browser.type_into("#username", "steward.khcn").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with("/admin")).await;
    browser.click("nav a[href='/admin/resources']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/resources")).await;
    assert_eq!(browser.text("a[href='/admin/resources/new']").await, "+ Đăng ký tài nguyên dữ liệu");
    browser.click("a[href='/admin/resources/new']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/resources/new")).await;
    browser.type_into("#title", TITLE).await;
    browser.type_into("#keywords", "doanh nghiệp KH&CN, khoa học và công nghệ").await;
    browser.click("#sharing_scope option[value=open]").await;
    browser.click("#personal_data option[value=none]").await;
    browser.click("form.card > button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/resources/{SLUG}"))).await;
    assert_eq!(browser.text("h1").await, TITLE);
    assert!(browser.text("main").await.contains("Bản nháp · Dữ liệu mở"));
    assert_eq!(browser.text("#data-h + p.muted").await, "Chưa có dữ liệu.");

    // 2. Upload the office's workbook through the form on the resource page.
    let workbook = files.path().join("DS_DN_KHCN_2025.xlsx");
    office_workbook(&workbook);
    browser.type_into("#file", workbook.to_str().unwrap()).await;
    browser.click("form[action$='/load'] button[type=submit]").await;
    expect_loaded(&browser, "table.schema").await;
    assert!(browser.url().await.ends_with(&format!("/admin/resources/{SLUG}#data-h")));

    // 3. The inferred schema: the title and blank rows skipped, headers folded to
    // column names, text dates read as dates, dotted amounts as whole numbers, tax
    // codes kept as text.
    let schema = rows_of(&browser, "table.schema", 3).await;
    let expected = [
        ["stt", "số nguyên", "STT"],
        ["ten_doanh_nghiep", "văn bản", "Tên doanh nghiệp"],
        ["ma_so_thue", "văn bản", "Mã số thuế"],
        ["ngay_cap", "ngày", "Ngày cấp"],
        ["von_dieu_le_dong", "số nguyên", "Vốn điều lệ (đồng)"],
    ];
    assert_eq!(schema, expected.map(|r| r.map(String::from).to_vec()));
    assert_eq!(browser.text("table.preview caption").await, "Xem trước (5 dòng đầu)");
    let preview = rows_of(&browser, "table.preview", 5).await;
    assert_eq!(preview.len(), 5);
    assert_eq!(preview[0], ["1", "Công ty TNHH Công nghệ Kinh Bắc", "2300123456", "2019-03-15", "1250000000"]);
    assert_eq!(preview[2][2], "0108765432", "the leading zero is kept");
    assert_eq!(preview[4][3], "2023-12-31");
    let versions = rows_of(&browser, "table.versions", 9).await;
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0][..3], ["1", "thay thế", "5"]);
    assert_eq!(versions[0][4], "DS_DN_KHCN_2025.xlsx");
    assert_eq!(versions[0][6], "user:steward.khcn");

    // 4. Publish.
    browser.click("form[action$='/status'] button").await;
    browser.wait_for("input[name=status][value=retired]").await;
    assert!(browser.text("main").await.contains("Đã công bố · Dữ liệu mở"));

    // 5. The corrected list as CSV, compared by tax code, replaces the table as version 2.
    let corrected = files.path().join("DS_DN_KHCN_2025_dinh_chinh.csv");
    std::fs::write(&corrected, COMPANIES_V2_CSV).unwrap();
    browser.click("#mode option[value=replace]").await;
    browser.type_into("#key", "ma_so_thue").await;
    browser.type_into("#file", corrected.to_str().unwrap()).await;
    browser.click("form[action$='/load'] button[type=submit]").await;
    expect_loaded(&browser, "a[href$='/tables/main/versions/2/diff']").await;
    assert_eq!(browser.text("p.downloads strong").await, "Tải về phiên bản 2:");
    let versions = rows_of(&browser, "table.versions", 9).await;
    let summary: Vec<_> = versions.iter().map(|v| (v[0].as_str(), v[2].as_str(), v[4].as_str())).collect();
    assert_eq!(summary, [("2", "5", "DS_DN_KHCN_2025_dinh_chinh.csv"), ("1", "5", "DS_DN_KHCN_2025.xlsx")]);
    // The schema shows the key, and the preview the corrected rows.
    assert_eq!(rows_of(&browser, "table.schema", 3).await[2][0], "ma_so_thue (khoá)");
    let preview = rows_of(&browser, "table.preview", 5).await;
    assert!(preview.iter().any(|r| r[1] == "Công ty Cổ phần Vật liệu mới Từ Sơn" && r[4] == "4000000000"));
    assert!(preview.iter().any(|r| r[1] == "Công ty Cổ phần Công nghệ Gia Bình" && r[3] == "2025-05-20"));
    assert!(!preview.iter().any(|r| r[1] == "Công ty TNHH Điện tử Yên Phong"));

    browser.click("a[href$='/tables/main/versions/2/diff']").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/resources/{SLUG}/tables/main/versions/2/diff"))).await;
    assert_eq!(browser.text("h1").await, "So sánh phiên bản 2 — main");
    assert!(browser.text("main").await.contains("So với phiên bản 1."));
    assert_eq!(
        browser.texts("#diff th").await,
        ["Số dòng", "Dòng thêm mới", "Dòng bị xoá", "Dòng thay đổi", "Cột khoá", "Cột thêm", "Cột bỏ", "Cột đổi kiểu"]
    );
    assert_eq!(browser.texts("#diff td").await, ["5 → 5", "1", "1", "1", "ma_so_thue", "", "", ""]);
    browser.click("a[href$='#data-h']").await;
    browser.wait_for_url(|u| u.ends_with(&format!("/admin/resources/{SLUG}#data-h"))).await;

    // 6. Version 1 as CSV, from its row in the versions table.
    let v1_csv = browser.property("table.versions a[href$='/csv?bom=true&version=1']", "href").await;
    assert_eq!(v1_csv, app.url(&format!("/api/v1/resources/{SLUG}/tables/main/csv?bom=true&version=1")));
    let r = fetch_as(&browser, &v1_csv).await;
    assert_eq!(header(&r, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(header(&r, "content-disposition"), format!("attachment; filename=\"{SLUG}-main-v1.csv\""));
    assert_eq!(
        r.text().await.unwrap(),
        "\u{feff}stt,ten_doanh_nghiep,ma_so_thue,ngay_cap,von_dieu_le_dong\n\
         1,Công ty TNHH Công nghệ Kinh Bắc,2300123456,2019-03-15,1250000000\n\
         2,Công ty Cổ phần Vật liệu mới Từ Sơn,2300234567,2020-11-02,3500000000\n\
         3,Công ty TNHH Phần mềm Quế Võ,0108765432,2021-06-28,800000000\n\
         4,Công ty Cổ phần Sinh học Thuận Thành,2300456789,2022-01-10,2000000000\n\
         5,Công ty TNHH Điện tử Yên Phong,2300567890,2023-12-31,5000000000\n"
    );

    // Version 2 as XLSX, from the download links of the newest version.
    let xlsx_link = "p.downloads a[href$='/download?version=2&format=xlsx']";
    assert_eq!(browser.text(xlsx_link).await, "Excel (XLSX)");
    let v2_xlsx = browser.property(xlsx_link, "href").await;
    let r = fetch_as(&browser, &v2_xlsx).await;
    assert_eq!(header(&r, "content-type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(header(&r, "content-disposition"), format!("attachment; filename=\"{SLUG}-main-v2.xlsx\""));
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let sheet = book.worksheet_range_at(0).expect("a sheet").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows.len(), 6, "a header and five rows");
    let names: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(names, ["stt", "ten_doanh_nghiep", "ma_so_thue", "ngay_cap", "von_dieu_le_dong"]);
    let company = |name: &str| rows[1..].iter().find(|r| r[1].get_string() == Some(name)).copied();
    let tu_son = company("Công ty Cổ phần Vật liệu mới Từ Sơn").expect("Từ Sơn is in version 2");
    assert_eq!(tu_son[4].get_float(), Some(4_000_000_000.0), "the corrected capital, as a number");
    assert_eq!(tu_son[3].as_date(), NaiveDate::from_ymd_opt(2020, 11, 2), "a real date cell");
    let gia_binh = company("Công ty Cổ phần Công nghệ Gia Bình").expect("Gia Bình was added");
    assert_eq!(gia_binh[2].get_string(), Some("2300678901"));
    assert_eq!(gia_binh[3].as_date(), NaiveDate::from_ymd_opt(2025, 5, 20));
    assert_eq!(company("Công ty TNHH Phần mềm Quế Võ").unwrap()[2].get_string(), Some("0108765432"));
    assert!(company("Công ty TNHH Điện tử Yên Phong").is_none(), "Yên Phong was removed");
}
