//! Cổng dữ liệu mở in real headless Chromium, as an anonymous citizen would use it —
//! the acceptance point "search without diacritics → open a dataset → filter the
//! preview → build a chart → download CSV; switch language", on the demo province's
//! open datasets. What the pages show is checked against the table read through the
//! public API. Then the request-a-dataset and feedback round trip, answered by the
//! publishing agency's steward.

use crate::spawn_app_with;
use crate::webdriver::Browser;
use serde_json::Value;
use std::collections::BTreeMap;

const TITLE: &str = "Danh sách trường học mầm non, tiểu học, trung học cơ sở";
const TITLE_EN: &str = "Nursery, primary and lower-secondary schools";
const COLUMNS: [&str; 7] =
    ["ma_truong", "ten_truong", "cap_hoc", "ma_xa", "xa_phuong", "so_hoc_sinh", "ngay_thanh_lap"];
/// Where `xa_phuong` and `so_hoc_sinh` sit in a preview row.
const XA_PHUONG: usize = 4;
const SO_HOC_SINH: usize = 5;

/// The cells of every row of the dataset page's preview, row by row.
async fn preview(browser: &Browser) -> Vec<Vec<String>> {
    let cells = browser.texts("table.preview tbody td").await;
    assert_eq!(cells.len() % COLUMNS.len(), 0, "{cells:?}");
    cells.chunks(COLUMNS.len()).map(|r| r.to_vec()).collect()
}

fn pupils(rows: &[Vec<String>]) -> Vec<i64> {
    rows.iter().map(|r| r[SO_HOC_SINH].parse().unwrap_or_else(|_| panic!("pupils in {r:?}"))).collect()
}

#[tokio::test]
async fn a_citizen_finds_filters_charts_and_downloads_open_data_in_the_browser() {
    let app = spawn_app_with(|s| s.demo_datasets = true).await;
    let Some(browser) = Browser::start().await else { return };
    let open = app.kho.open_catalogue().await.unwrap();
    let slug = open.resources().find(|r| r.draft.title == TITLE).expect("the demo's schools dataset").slug.clone();
    let dataset = format!("/dataset/{slug}");

    // The whole table, read anonymously through the public API: what the pages must agree with.
    let all: Value = reqwest::get(app.url(&format!("/api/v1/resources/{slug}/tables/main/rows?limit=1000")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = all["items"].as_array().expect("rows").clone();
    assert!(all.len() > 20, "more rows than the preview shows: {}", all.len());
    let mut per_commune: BTreeMap<String, i64> = BTreeMap::new();
    for row in &all {
        *per_commune.entry(row["xa_phuong"].as_str().unwrap().to_string()).or_default() +=
            row["so_hoc_sinh"].as_i64().unwrap();
    }

    // 1. Search from the home page, typing without diacritics.
    browser.goto(&app.url("/")).await;
    assert!(browser.source().await.contains("lang=\"vi\""));
    let counts = browser.text("#counts").await;
    assert!(counts.starts_with(&format!("{} bộ dữ liệu mở", open.datasets.len())), "{counts}");
    browser.type_into("#q", "truong hoc").await;
    browser.click("form[role=search] button[type=submit]").await;
    let url = browser.wait_for_url(|u| u.contains("/datasets?")).await;
    assert!(url.ends_with("/datasets?q=truong+hoc"), "{url}");
    browser.wait_for("#results").await;
    let found = browser.count("#results > li").await;
    assert_eq!(browser.text("#result-count").await, format!("{found} bộ dữ liệu"));
    assert!(
        found >= 1 && found < open.datasets.len(),
        "the words narrow the {} open datasets to {found}",
        open.datasets.len()
    );
    let titles = browser.texts("#results > li a strong").await;
    assert!(titles.iter().any(|t| t == TITLE), "{titles:?}");
    assert!(!titles.iter().any(|t| t == "Danh sách cơ sở y tế" || t == "Điểm du lịch tiêu biểu"), "{titles:?}");
    assert_eq!(browser.property("#q", "value").await, "truong hoc", "the box keeps the words");

    // 2. Open the dataset: its title, publisher and DCAT link.
    browser.click(&format!("#results a[href='{dataset}']")).await;
    browser.wait_for_url(|u| u.ends_with(&dataset)).await;
    assert_eq!(browser.text("h1").await, TITLE);
    let metadata = browser.text("#metadata").await;
    assert!(metadata.contains("Cơ quan công bố Sở Giáo dục và Đào tạo"), "{metadata}");
    assert!(metadata.contains("Lĩnh vực giáo dục"), "{metadata}");
    let id = open.dataset(&slug).unwrap().resource.id.clone();
    let page = browser.source().await;
    let head = &page[..page.find("</head>").expect("a head")];
    assert!(
        head.contains(&format!("<link rel=\"alternate\" type=\"text/turtle\" href=\"/dataset/{id}.ttl\">")),
        "{head}"
    );
    assert!(browser.text("section.card p.muted").await.starts_with(&format!("{} dòng · phiên bản 1", all.len())));

    // 3. Filter the preview by a commune, chosen from what the page shows, typed without
    // diacritics; then sort by the number of pupils, both ways.
    let before = preview(&browser).await;
    assert_eq!(before.len(), 20, "the preview shows the first 20 rows");
    let commune = before[0][XA_PHUONG].clone();
    let schools_there: Vec<&str> =
        all.iter().filter(|r| r["xa_phuong"] == commune.as_str()).map(|r| r["ma_truong"].as_str().unwrap()).collect();
    assert!(!schools_there.is_empty() && schools_there.len() < before.len());
    browser.type_into("#q-main", &kho_vn::fold(&commune)).await;
    browser.click("#q-main ~ button[type=submit]").await;
    browser.wait_for_url(|u| u.contains("q=")).await;
    assert_eq!(browser.property("#q-main", "value").await, kho_vn::fold(&commune));
    let filtered = preview(&browser).await;
    assert!(filtered.len() < before.len(), "{} rows of {}", filtered.len(), before.len());
    assert!(filtered.iter().all(|r| r[XA_PHUONG] == commune), "only {commune}: {filtered:?}");
    let codes: Vec<&str> = filtered.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(codes, schools_there, "every school of {commune}, in table order");
    assert!(browser.text("section.card p.muted").await.starts_with(&format!("{} dòng", schools_there.len())));
    let unsorted = pupils(&filtered);
    let mut ascending = unsorted.clone();
    ascending.sort();
    assert_ne!(ascending.first(), ascending.last(), "the pupils differ, so the order can be told: {unsorted:?}");

    browser.click("table.preview th a[href$='sort=so_hoc_sinh']").await;
    browser.wait_for_url(|u| u.ends_with("sort=so_hoc_sinh")).await;
    assert_eq!(browser.text("table.preview th a[href$='sort=-so_hoc_sinh']").await, "Số học sinh");
    let sorted = preview(&browser).await;
    assert!(sorted.iter().all(|r| r[XA_PHUONG] == commune), "the filter stays while sorting");
    assert_eq!(pupils(&sorted), ascending, "fewest pupils first");
    browser.click("table.preview th a[href$='sort=-so_hoc_sinh']").await;
    browser.wait_for_url(|u| u.ends_with("sort=-so_hoc_sinh")).await;
    let descending: Vec<i64> = ascending.iter().rev().copied().collect();
    assert_eq!(pupils(&preview(&browser).await), descending, "most pupils first");

    // 4. Draw a bar chart of the pupils per commune.
    browser.click("#x-main option[value=xa_phuong]").await;
    browser.click("#y-main option[value=so_hoc_sinh]").await;
    browser.click("#chart-main option[value=bar]").await;
    browser.click("form.chart-form button[type=submit]").await;
    let url = browser.wait_for_url(|u| u.contains("x=xa_phuong")).await;
    assert!(url.contains("y=so_hoc_sinh") && url.contains("chart=bar"), "{url}");
    browser.wait_for("figure.chart svg").await;
    assert_eq!(browser.text("figure.chart figcaption").await, "Số học sinh — Xã/Phường");
    assert_eq!(browser.count("figure.chart rect.bar").await, per_commune.len(), "one bar per commune");
    assert_eq!(browser.count("figure.chart polyline.line").await, 0);
    assert_eq!(browser.count("table.chart-data tbody tr").await, per_commune.len());
    assert_eq!(browser.property("#x-main", "value").await, "xa_phuong", "the form keeps the choice");
    assert_eq!(browser.property("#y-main", "value").await, "so_hoc_sinh");
    // The numbers behind the bars, opened as a reader would.
    browser.click("figure.chart + details > summary").await;
    let labels = browser.texts("table.chart-data th").await;
    let values = browser.texts("table.chart-data td").await;
    let expected_labels: Vec<&String> = per_commune.keys().collect();
    assert_eq!(labels.iter().collect::<Vec<_>>(), expected_labels);
    let expected_values: Vec<String> = per_commune.values().map(|n| kho_vn::number(*n as f64)).collect();
    assert_eq!(values, expected_values, "pupils summed per commune");
    let (first, total) = (labels[0].clone(), per_commune[&labels[0]]);
    let page = browser.source().await;
    assert!(page.contains(&format!("<title>{first}: {}</title>", kho_vn::number(total as f64))), "the bar of {first}");

    // 5. Download the table as CSV, through the link on the page.
    let href = browser.property("p.downloads a[href$='format=csv']", "href").await;
    assert_eq!(browser.text("p.downloads a[href$='format=csv']").await, "CSV");
    assert!(href.starts_with(&app.url(&format!("/api/v1/resources/{slug}/tables/main/download?"))), "{href}");
    let r = reqwest::get(&href).await.unwrap();
    assert_eq!(r.status(), 200, "GET {href}");
    let header = |name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(header("content-disposition"), format!("attachment; filename=\"{slug}-main-v1.csv\""));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], COLUMNS.join(","));
    assert_eq!(lines.len(), 1 + all.len(), "a header and every row");
    let first_school = &all[0];
    assert!(
        lines[1].starts_with(&format!(
            "{},{},",
            first_school["ma_truong"].as_str().unwrap(),
            first_school["ten_truong"].as_str().unwrap()
        )),
        "{}",
        lines[1]
    );

    // 6. Switch to English and back.
    browser.click("a[lang=en]").await;
    browser.wait_for("html[lang=en]").await;
    assert!(browser.url().await.contains(&dataset), "still on the dataset's page");
    assert_eq!(browser.text("h1").await, TITLE_EN);
    assert_eq!(browser.text("form.chart-form h3").await, "Draw a chart");
    assert_eq!(browser.text("label[for=q-main]").await, "Filter the preview");
    assert!(browser.text("#metadata").await.contains("Publisher Sở Giáo dục và Đào tạo"));
    assert!(browser.text("p.downloads").await.starts_with("Download version 1:"));
    // The chart speaks English too, down to its numbers table.
    browser.goto(&app.url(&format!("{dataset}?table=main&x=xa_phuong&y=so_hoc_sinh&chart=bar"))).await;
    assert_eq!(browser.text("figure.chart figcaption").await, "Số học sinh — Xã/Phường", "headers are the file's");
    assert_eq!(browser.text("figure.chart + details > summary").await, "The numbers");
    browser.click("a[lang=vi]").await;
    browser.wait_for("html[lang=vi]").await;
    assert_eq!(browser.text("h1").await, TITLE);
    assert_eq!(browser.text("form.chart-form h3").await, "Vẽ biểu đồ");
}

/// The acceptance point "the request-a-dataset form round trip": a citizen asks an
/// agency for a dataset and comments on one of its open datasets; the agency's steward
/// answers both in the management UI; the answered feedback shows on the dataset's
/// public page.
#[tokio::test]
async fn a_citizens_request_and_feedback_are_answered_by_the_agency_in_the_browser() {
    let app = spawn_app_with(|s| s.demo_datasets = true).await;
    let Some(browser) = Browser::start().await else { return };
    let agencies = app.kho.list_agencies().await.unwrap();
    let science = agencies.iter().find(|a| a.name == "Sở Khoa học và Công nghệ").expect("a demo department");
    let open = app.kho.open_catalogue().await.unwrap();
    let tourism = open.resources().find(|r| r.draft.title == "Điểm du lịch tiêu biểu").expect("a demo dataset");
    assert_eq!(tourism.draft.publisher_agency_id, science.id, "published by the department");
    let dataset = format!("/dataset/{}", tourism.slug);

    // 1. A dataset request, on /request.
    browser.goto(&app.url("/request")).await;
    browser.click(&format!("#agency_id option[value='{}']", science.id)).await;
    browser.type_into("#name", "Trần Văn Bình").await;
    browser.type_into("#email", "binh@example.vn").await;
    browser.type_into("#message", "Đề nghị công bố danh sách doanh nghiệp khoa học và công nghệ").await;
    browser.click("form.card button[type=submit]").await;
    browser.wait_for("#request-sent").await;
    let request_id = browser.text("#request-sent code").await;
    assert!(!request_id.is_empty());

    // 2. Feedback on the open dataset, from its page.
    browser.goto(&app.url(&dataset)).await;
    browser.type_into("#name", "Lê Thị Hoa").await;
    browser.type_into("#email", "hoa@example.vn").await;
    browser.type_into("#message", "Xin bổ sung giờ mở cửa của các điểm du lịch").await;
    browser.click("form[action$='/feedback'] button[type=submit]").await;
    browser.wait_for("#request-sent").await;
    let feedback_id = browser.text("#request-sent code").await;
    assert_ne!(feedback_id, request_id);

    // 3. The department's steward sees both, unanswered, and answers them.
    browser.goto(&app.url("/login?next=/admin/requests")).await;
    browser.type_into("#username", "steward.khcn").await;
    browser.type_into("#password", crate::PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with("/admin/requests")).await;
    browser.wait_for("article.request").await;
    assert_eq!(browser.count("article.request").await, 2);
    let listed = browser.text("main").await;
    assert!(listed.contains("Trần Văn Bình <binh@example.vn>: Đề nghị công bố danh sách doanh nghiệp"), "{listed}");
    assert!(listed.contains("Lê Thị Hoa <hoa@example.vn>: Xin bổ sung giờ mở cửa"), "{listed}");
    let answers = [
        (&request_id, "Sở sẽ công bố danh sách trong quý I năm 2026."),
        (&feedback_id, "Đã bổ sung cột giờ mở cửa trong phiên bản tới."),
    ];
    for (id, answer) in answers {
        browser.type_into(&format!("#answer-{id}"), answer).await;
        browser.click(&format!("form[action='/admin/requests/{id}/answer'] button[type=submit]")).await;
        browser.wait_for_url(|u| u.ends_with("/admin/requests")).await;
        browser.wait_for(&format!("main:not(:has(#answer-{id}))")).await;
    }
    browser.wait_for("#no-requests").await;
    browser.goto(&app.url("/admin/requests?all=1")).await;
    assert_eq!(browser.texts("p.answer").await.len(), 2, "both answered");

    // 4. The answered feedback is on the dataset's public page, for anyone.
    let page = reqwest::get(app.url(&dataset)).await.unwrap().text().await.unwrap();
    assert!(page.contains("Xin bổ sung giờ mở cửa của các điểm du lịch"), "the feedback");
    assert!(page.contains("Đã bổ sung cột giờ mở cửa trong phiên bản tới."), "its answer");
    assert!(!page.contains("binh@example.vn") && !page.contains("hoa@example.vn"), "no e-mail addresses shown");
}
