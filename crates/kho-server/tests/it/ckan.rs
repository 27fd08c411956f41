//! The CKAN Action API as CKAN clients and harvesters call it: both paths, GET and
//! POST (JSON and legacy form), CKAN's envelope and error types, searches with the
//! Solr subset harvesters send, the datastore — and only open data, also by id.

use crate::{client, spawn_app, TestApp};
use serde_json::{json, Value};

const SCHOOLS: &str = "Mã trường,Tên trường,Số học sinh,Xã\n\
    01,Trường Mầm non Hoa Sen,1.250,25108\n\
    02,Trường Tiểu học Kinh Bắc,980,25108\n\
    03,Trường THCS Đa Mai,640,25111\n";
const SCHOOLS_SLUG: &str = "danh-sach-co-so-giao-duc";
const HOUSEHOLDS_SLUG: &str = "danh-sach-ho-ngheo-ho-can-ngheo";

/// GETs an action; returns the status and the envelope.
async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let r = client().get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn post(app: &TestApp, action: &str, body: Value) -> (u16, Value) {
    let r = client().post(app.url(&format!("/api/action/{action}"))).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn dataset_id(app_packages: &Value, slug: &str) -> String {
    app_packages["result"]["results"].as_array().unwrap().iter().find(|p| p["name"] == slug).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn ckan_clients_see_the_open_datasets_and_nothing_else() {
    let app = spawn_app().await;
    app.load_csv(&app.token("admin").await, SCHOOLS_SLUG, "main", SCHOOLS).await;
    app.load_csv(&app.token("admin").await, HOUSEHOLDS_SLUG, "main", "Mã hộ,Chủ hộ\nH1,Nguyễn Văn An\n").await;

    let (status, list) = get(&app, "/api/3/action/package_list").await;
    assert_eq!(status, 200);
    assert_eq!(list["success"], true);
    assert!(list["help"].as_str().unwrap().ends_with("/api/3/action/help_show?name=package_list"));
    let names: Vec<&str> = list["result"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(names, ["bang-gia-dat", "danh-muc-thu-tuc-hanh-chinh", SCHOOLS_SLUG], "shared data is not listed");

    // Shared data stays hidden when asked for by name or id.
    let households = app.kho.store.resource(HOUSEHOLDS_SLUG).await.unwrap().unwrap();
    for key in [HOUSEHOLDS_SLUG, households.id.as_str()] {
        let (status, shown) = get(&app, &format!("/api/action/package_show?id={key}")).await;
        assert_eq!(
            (status, &shown["success"], &shown["error"]["__type"]),
            (404, &json!(false), &json!("Not Found Error"))
        );
    }
    let (status, _) = get(&app, &format!("/api/action/datastore_search?resource_id={}-main", households.id)).await;
    assert_eq!(status, 404);
    let sql = format!("SELECT * FROM \"{}-main\"", households.id);
    let (status, _) = post(&app, "datastore_search_sql", json!({ "sql": sql })).await;
    assert_eq!(status, 404);

    let (_, shown) = post(&app, "package_show", json!({"id": SCHOOLS_SLUG})).await;
    let p = &shown["result"];
    assert_eq!((p["name"].as_str(), p["title"].as_str()), (Some(SCHOOLS_SLUG), Some("Danh sách cơ sở giáo dục")));
    assert_eq!(p["organization"]["name"], "000-00-04-h24");
    assert_eq!(p["license_id"], "CC-BY-4.0");
    assert_eq!(p["license_title"], "Creative Commons Attribution 4.0");
    assert_eq!(p["num_resources"], 1);
    let resource = &p["resources"][0];
    assert_eq!(resource["datastore_active"], true);
    assert_eq!(resource["format"], "CSV");
    assert!(p["extras"].as_array().unwrap().contains(&json!({"key": "sharing_scope", "value": "open"})));
    assert!(p["metadata_modified"].as_str().unwrap().len() == 26, "ISO time without zone: {}", p["metadata_modified"]);
    let csv = client().get(resource["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(csv.starts_with("ma_truong,ten_truong,so_hoc_sinh,xa\n"), "{csv}");

    let (_, orgs) = get(&app, "/api/action/organization_list?all_fields=true").await;
    let orgs = orgs["result"].as_array().unwrap();
    assert_eq!(orgs.len(), 3, "the agencies publishing open data: {orgs:?}");
    assert!(orgs.iter().all(|o| o["package_count"] == 1 && o["is_organization"] == true));
    let (status, org) = get(&app, "/api/action/organization_show?id=000-00-04-h24&include_datasets=true").await;
    assert_eq!(status, 200);
    assert_eq!(org["result"]["packages"][0]["name"], SCHOOLS_SLUG);
    let (_, tags) = get(&app, "/api/action/tag_list?query=giao").await;
    assert_eq!(tags["result"], json!(["giáo dục"]));
}

#[tokio::test]
async fn package_search_speaks_the_harvesters_solr_subset() {
    let app = spawn_app().await;
    app.load_csv(&app.token("admin").await, SCHOOLS_SLUG, "main", SCHOOLS).await;
    let search = |query: &str| {
        let path = format!("/api/3/action/package_search?{query}");
        let app = &app;
        async move { get(app, &path).await }
    };

    // Words without diacritics, any case.
    let (_, found) = search("q=GIAO%20duc").await;
    assert_eq!(found["result"]["count"], 1);
    assert_eq!(found["result"]["results"][0]["name"], SCHOOLS_SLUG);
    let (_, all) = search("q=*:*&rows=2&sort=name%20asc").await;
    assert_eq!(all["result"]["count"], 3);
    let names: Vec<&str> =
        all["result"]["results"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["bang-gia-dat", "danh-muc-thu-tuc-hanh-chinh"]);
    let (_, next) = search("q=*:*&rows=2&start=2&sort=name%20asc").await;
    assert_eq!(next["result"]["results"][0]["name"], SCHOOLS_SLUG);

    let (_, or) = search("fq=organization:000-00-04-h24%20OR%20organization:000-00-05-h24").await;
    assert_eq!(or["result"]["count"], 2);
    let (_, not) = search("fq=-groups:giao-duc").await;
    assert_eq!(not["result"]["count"], 2);
    let (_, quoted) = search("fq=tags:%22gi%C3%A1o%20d%E1%BB%A5c%22").await;
    assert_eq!(quoted["result"]["count"], 1);
    let (_, recent) = search("fq=metadata_modified:%5B2024-01-01T00:00:00Z%20TO%20*%5D").await;
    assert_eq!(recent["result"]["count"], 3);
    let (_, future) = search("fq=metadata_modified:%5B2999-01-01T00:00:00Z%20TO%20*%5D").await;
    assert_eq!(future["result"]["count"], 0);

    let (_, faceted) =
        post(&app, "package_search", json!({"facet.field": ["groups", "res_format"], "facet.limit": 10})).await;
    let items = &faceted["result"]["search_facets"]["groups"]["items"];
    assert_eq!(items.as_array().unwrap().len(), 3);
    assert!(items.as_array().unwrap().contains(&json!({"name": "giao-duc", "display_name": "giáo dục", "count": 1})));
    assert_eq!(faceted["result"]["facets"]["res_format"], json!({"CSV": 1}));

    let (status, bad) = search("fq=colour:red").await;
    assert_eq!((status, &bad["error"]["__type"]), (400, &json!("Search Query Error")));
}

#[tokio::test]
async fn the_datastore_answers_rows_and_sql() {
    let app = spawn_app().await;
    app.load_csv(&app.token("admin").await, SCHOOLS_SLUG, "main", SCHOOLS).await;
    let (_, found) = get(&app, "/api/action/package_search?q=giao").await;
    let rid = format!("{}-main", dataset_id(&found, SCHOOLS_SLUG));

    let (status, rows) = post(
        &app,
        "datastore_search",
        json!({"resource_id": rid, "filters": {"xa": "25108"}, "sort": "so_hoc_sinh desc", "limit": 1}),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let r = &rows["result"];
    assert_eq!(r["total"], 2);
    assert_eq!(
        r["records"],
        json!([{"ma_truong": "01", "ten_truong": "Trường Mầm non Hoa Sen", "so_hoc_sinh": 1250, "xa": 25108}])
    );
    assert_eq!(r["fields"][2], json!({"id": "so_hoc_sinh", "type": "int8"}));
    assert_eq!(r["_links"]["next"], format!("/api/3/action/datastore_search?resource_id={rid}&offset=1"));
    let (_, words) = get(&app, &format!("/api/action/datastore_search?resource_id={rid}&q=da%20mai")).await;
    assert_eq!(words["result"]["records"][0]["ma_truong"], "03");

    // A legacy form post whose one key is the JSON text.
    let form = format!(
        "{}=",
        json!({"sql": format!("SELECT xa, sum(so_hoc_sinh) AS hs FROM \"{rid}\" GROUP BY xa ORDER BY xa")})
    );
    let r = client()
        .post(app.url("/api/3/action/datastore_search_sql"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.replace('"', "%22").replace(' ', "+").replace('{', "%7B").replace('}', "%7D").replace(',', "%2C"))
        .send()
        .await
        .unwrap();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["result"]["records"], json!([{"xa": 25108, "hs": 2230}, {"xa": 25111, "hs": 640}]), "{answer}");
    let (status, refused) = post(&app, "datastore_search_sql", json!({"sql": format!("DELETE FROM \"{rid}\"")})).await;
    assert_eq!((status, &refused["error"]["__type"]), (409, &json!("Validation Error")));
}

#[tokio::test]
async fn errors_use_ckans_envelope_and_statuses() {
    let app = spawn_app().await;
    let (status, unknown) = get(&app, "/api/3/action/package_delete_everything").await;
    assert_eq!((status, &unknown["success"]), (400, &json!(false)));
    let (status, missing) = get(&app, "/api/action/package_show").await;
    assert_eq!(status, 409);
    assert_eq!(
        missing["error"],
        json!({"__type": "Validation Error", "message": "Missing value", "id": ["Missing value"]})
    );
    let r =
        client().get(app.url("/api/action/package_list")).header("X-CKAN-API-Key", "kho_wrong").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["__type"], "Authorization Error");
    // A valid token, sent bare as ckanapi does, is accepted; it does not widen the portal.
    let token = app.token("admin").await;
    let r = client().get(app.url("/api/action/package_list")).header("Authorization", &token).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["result"].as_array().unwrap().len(), 3);
    let (_, help) = get(&app, "/api/action/help_show?name=datastore_search").await;
    assert!(help["result"].as_str().unwrap().contains("resource_id"));
    let (_, status_show) = get(&app, "/api/action/status_show").await;
    assert_eq!(status_show["result"]["locale_default"], "vi");
}

/// What the `ckanapi` client does against Kho, printed as one JSON object.
const CKANAPI_SCRIPT: &str = r#"
import json, sys
from ckanapi import RemoteCKAN, NotFound
site, resource = sys.argv[1], sys.argv[2]
ckan = RemoteCKAN(site, user_agent="kho-tests/1.0")
found = ckan.action.package_search(q="giao duc", rows=10)
shown = ckan.action.package_show(id=found["results"][0]["name"])
orgs = ckan.action.organization_list(all_fields=True)
rows = ckan.action.datastore_search(resource_id=resource, filters={"xa": "25111"})
try:
    ckan.action.package_show(id="danh-sach-ho-ngheo-ho-can-ngheo")
    hidden = False
except NotFound:
    hidden = True
print(json.dumps({"count": found["count"], "title": shown["title"], "orgs": len(orgs),
                  "rows": rows["records"], "hidden": hidden}))
"#;

/// A Python environment with `ckanapi` and `rdflib` from PyPI, made once under the
/// cache directory; `None` (outside CI) when it cannot be made here.
pub fn test_python() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let venv = std::path::PathBuf::from(home).join(".cache/kho-test-python");
    let python = venv.join("bin/python");
    let ready = || {
        std::process::Command::new(&python).args(["-c", "import ckanapi, rdflib"]).status().is_ok_and(|s| s.success())
    };
    if !ready() {
        let made = std::process::Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
        let installed = made.is_ok_and(|s| s.success())
            && std::process::Command::new(&python)
                .args(["-m", "pip", "install", "-q", "ckanapi", "rdflib"])
                .status()
                .is_ok_and(|s| s.success());
        if !installed || !ready() {
            assert!(std::env::var_os("CI").is_none(), "CI must be able to install ckanapi and rdflib from PyPI");
            eprintln!("ckanapi and rdflib could not be installed: skipping the test");
            return None;
        }
    }
    Some(venv)
}

#[tokio::test]
async fn the_ckanapi_client_reads_kho() {
    let Some(venv) = test_python() else { return };
    let app = spawn_app().await;
    app.load_csv(&app.token("admin").await, SCHOOLS_SLUG, "main", SCHOOLS).await;
    app.load_csv(&app.token("admin").await, HOUSEHOLDS_SLUG, "main", "Mã hộ,Chủ hộ\nH1,Nguyễn Văn An\n").await;
    let schools = app.kho.store.resource(SCHOOLS_SLUG).await.unwrap().unwrap();
    let site = app.url("");
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .args(["-c", CKANAPI_SCRIPT, &site, &format!("{}-main", schools.id)])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        seen,
        json!({"count": 1, "title": "Danh sách cơ sở giáo dục", "orgs": 3, "hidden": true,
               "rows": [{"ma_truong": "03", "ten_truong": "Trường THCS Đa Mai", "so_hoc_sinh": 640, "xa": 25111}]})
    );

    // `ckanapi dump datasets --all` gives every open dataset and nothing else.
    // Its workers are `ckanapi` processes found on PATH.
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let dump = tokio::process::Command::new(venv.join("bin/ckanapi"))
        .env("PATH", path)
        .args(["dump", "datasets", "--all", "-q", "-p", "1", "-r", &site])
        .output()
        .await
        .unwrap();
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    let mut names: Vec<String> = String::from_utf8(dump.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["bang-gia-dat", "danh-muc-thu-tuc-hanh-chinh", SCHOOLS_SLUG]);
}
