//! The public portal pages over real HTTP: the home page counts and lists open data,
//! search finds datasets without diacritics and narrows by facets, a dataset's page
//! shows its metadata, a filterable and sortable preview, downloads, an API example and
//! its DCAT links — and shared data never appears, also when asked for by name.

use crate::{client, spawn_app, TestApp};

const SCHOOLS: &str = "Mã trường,Tên trường,Số học sinh\n\
    01,Trường Mầm non Hoa Sen,1.250\n\
    02,Trường Tiểu học Kinh Bắc,980\n\
    03,Trường THCS Đa Mai,640\n";

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = client().get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn citizens_find_preview_and_download_open_data() {
    let app = spawn_app().await;
    for (slug, csv) in [("danh-sach-co-so-giao-duc", SCHOOLS), ("danh-sach-ho-ngheo-ho-can-ngheo", "Mã hộ\nH1\n")] {
        let r = client()
            .post(app.url(&format!("/api/v1/resources/{slug}/tables/main/versions")))
            .bearer_auth(app.token("admin").await)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    let (status, home) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("<strong>3</strong> bộ dữ liệu mở"), "{home}");
    assert!(home.contains("Danh sách cơ sở giáo dục") && !home.contains("hộ nghèo"), "shared data is not listed");

    let (_, found) = page(&app, "/datasets?q=CO%20SO%20giao").await;
    assert!(found.contains("1 bộ dữ liệu"), "{found}");
    assert!(found.contains("href=\"/dataset/danh-sach-co-so-giao-duc\""));
    let (_, all) = page(&app, "/datasets").await;
    assert!(all.contains("3 bộ dữ liệu") && all.contains("Sở Giáo dục và Đào tạo"), "facets name the publishers");
    // Format and administrative unit are facets too: only the schools have a table, and
    // every demo dataset covers the province (2025 code 24, Bắc Ninh).
    assert!(all.contains("Định dạng") && all.contains("href=\"/datasets?q=&amp;res_format=CSV\">CSV</a> (1)"), "{all}");
    assert!(all.contains("href=\"/datasets?q=&amp;spatial=24\">Tỉnh Bắc Ninh</a> (3)"), "{all}");
    let (_, with_data) = page(&app, "/datasets?res_format=CSV").await;
    assert!(with_data.contains("1 bộ dữ liệu") && with_data.contains("Danh sách cơ sở giáo dục"), "{with_data}");
    // Ordered by title, A to Z whatever the diacritics; the order stays on the facet links.
    let (_, by_title) = page(&app, "/datasets?sort=title").await;
    let titles: Vec<&str> = by_title.split("<strong>").skip(1).filter_map(|t| t.split("</strong>").next()).collect();
    let listed: Vec<&str> = titles.iter().copied().filter(|t| !t.chars().all(|c| c.is_ascii_digit())).collect();
    let mut expected = listed.clone();
    expected.sort_by_key(|t| kho_vn::fold(t));
    assert!(listed.len() == 3 && listed == expected, "{listed:?}");
    assert!(by_title.contains("<option value=\"title\" selected>"), "the choice is kept");
    assert!(by_title.contains("href=\"/datasets?q=&amp;sort=title&amp;groups="), "facet links keep the order");
    let (_, narrowed) = page(&app, "/datasets?q=&groups=dat-dai").await;
    assert!(narrowed.contains("1 bộ dữ liệu") && narrowed.contains("Bảng giá đất"), "{narrowed}");
    let (_, none) = page(&app, "/datasets?q=ho%20ngheo").await;
    assert!(none.contains("0 bộ dữ liệu"));

    let (status, ds) = page(&app, "/dataset/danh-sach-co-so-giao-duc").await;
    assert_eq!(status, 200);
    let id = app.kho.store.resource("danh-sach-co-so-giao-duc").await.unwrap().unwrap().id;
    assert!(ds.contains(&format!("<link rel=\"alternate\" type=\"text/turtle\" href=\"/dataset/{id}.ttl\">")), "{ds}");
    assert!(ds.contains("Sở Giáo dục và Đào tạo") && ds.contains("CC-BY-4.0"));
    assert!(ds.contains("Trường Mầm non Hoa Sen") && ds.contains("Trường THCS Đa Mai"));
    assert!(ds.contains("/api/v1/resources/danh-sach-co-so-giao-duc/tables/main/download?version=1&amp;format=csv"));
    assert!(ds.contains("datastore_search?resource_id="), "an API example");
    let (_, filtered) = page(&app, "/dataset/danh-sach-co-so-giao-duc?table=main&q=da%20mai").await;
    assert!(filtered.contains("Trường THCS Đa Mai") && !filtered.contains("Trường Mầm non Hoa Sen"));
    let (_, sorted) = page(&app, "/dataset/danh-sach-co-so-giao-duc?table=main&sort=so_hoc_sinh").await;
    let (a, b) = (sorted.find("Đa Mai").unwrap(), sorted.find("Hoa Sen").unwrap());
    assert!(a < b, "sorted by pupils, fewest first");

    let (_, chart) =
        page(&app, "/dataset/danh-sach-co-so-giao-duc?table=main&x=ten_truong&y=so_hoc_sinh&chart=bar").await;
    assert_eq!(chart.matches("<rect class=\"bar\"").count(), 3, "{chart}");
    assert!(chart.contains("Trường Mầm non Hoa Sen: 1.250"), "bars carry their values");
    let (_, line) = page(&app, "/dataset/danh-sach-co-so-giao-duc?table=main&x=ten_truong&chart=line").await;
    assert_eq!(line.matches("<circle").count(), 3, "rows counted per school");

    let households = app.kho.store.resource("danh-sach-ho-ngheo-ho-can-ngheo").await.unwrap().unwrap();
    for path in [format!("/dataset/{}", households.slug), format!("/dataset/{}", households.id)] {
        assert_eq!(page(&app, &path).await.0, 404, "{path}");
    }
    let (status, org) = page(&app, "/organization/000-00-04-h24").await;
    assert_eq!(status, 200);
    assert!(org.contains("Danh sách cơ sở giáo dục"));
    let (status, feed) = page(&app, "/feed.atom").await;
    assert_eq!(status, 200);
    assert_eq!(feed.matches("<entry>").count(), 3, "{feed}");
    assert!(feed.contains("<title>Danh sách cơ sở giáo dục</title>") && !feed.contains("hộ nghèo"));
    let (_, english) = page(&app, "/datasets?lang=en").await;
    assert!(english.contains("lang=\"en\"") && english.contains("Publisher"));
}

#[tokio::test]
async fn the_demo_publishes_realistic_open_datasets() {
    let app = crate::spawn_app_with(|s| s.demo_datasets = true).await;
    let (_, home) = page(&app, "/").await;
    assert!(home.contains("<strong>7</strong> bộ dữ liệu mở"), "{home}");
    let (_, found) = page(&app, "/datasets?q=benh%20vien").await;
    assert!(found.contains("Danh sách cơ sở y tế"), "{found}");
    let rows: serde_json::Value =
        app.get_public("/api/v1/resources/danh-sach-xa-phuong-tinh-bac-ninh/tables/main/rows?limit=1").await;
    assert!(rows["total"].as_u64().unwrap() > 50, "the communes and wards of Bắc Ninh: {rows}");
    assert_eq!(rows["items"][0]["ma_tinh"], 24);
    let schools: serde_json::Value = app
        .get_public("/api/v1/resources/danh-sach-truong-hoc-mam-non-tieu-hoc-trung-hoc-co-so/tables/main/rows?limit=1")
        .await;
    assert_eq!(schools["items"][0]["ma_truong"], "00001", "codes keep their leading zeros");
    assert!(schools["items"][0]["so_hoc_sinh"].is_i64() && schools["items"][0]["ngay_thanh_lap"].is_string());
}

/// The home page lists the most viewed open datasets, most first, with their views;
/// pages of data that is not open count nothing, and a retired dataset leaves the list.
#[tokio::test]
async fn the_home_page_lists_the_most_viewed_open_datasets() {
    let app = spawn_app().await;
    let names: Vec<String> =
        serde_json::from_value(app.get_public("/api/3/action/package_list").await["result"].clone()).unwrap();
    assert!(names.len() >= 2, "{names:?}");
    let (_, home) = page(&app, "/").await;
    assert!(!home.contains("id=\"most-viewed\""), "nothing viewed yet");

    let (first, second) = (&names[1], &names[0]);
    for _ in 0..3 {
        assert_eq!(page(&app, &format!("/dataset/{first}")).await.0, 200);
    }
    assert_eq!(page(&app, &format!("/dataset/{second}")).await.0, 200);
    for _ in 0..5 {
        assert_eq!(page(&app, "/dataset/danh-sach-ho-ngheo-ho-can-ngheo").await.0, 404, "shared data");
    }
    let (_, home) = page(&app, "/").await;
    let list = &home[home.find("id=\"most-viewed\"").expect("the list")..];
    let list = &list[..list.find("</ol>").unwrap()];
    let (at_first, at_second) = (list.find(&format!("/dataset/{first}\"")), list.find(&format!("/dataset/{second}\"")));
    assert!(at_first.unwrap() < at_second.unwrap(), "most viewed first: {list}");
    assert!(list.contains("3 lượt xem") && list.contains("1 lượt xem"), "{list}");
    assert_eq!(list.matches("<li>").count(), 2, "only open datasets: {list}");

    let token = app.token("admin").await;
    let r = client()
        .post(app.url(&format!("/api/v1/resources/{first}/status")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"status": "retired"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, home) = page(&app, "/").await;
    let list = &home[home.find("id=\"most-viewed\"").expect("the list")..];
    assert!(!list[..list.find("</ol>").unwrap()].contains(&format!("/dataset/{first}\"")), "retired: gone");
}
