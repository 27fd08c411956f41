//! `GET /api/v1/refdata/admin-units/convert` over real HTTP, without logging in: by
//! legacy code and by free-text address, and the 422s for a request that does not
//! say exactly one of them.

use crate::{client, expect_error, spawn_app};
use serde_json::{json, Value};

const PATH: &str = "/api/v1/refdata/admin-units/convert";

#[tokio::test]
async fn converts_codes_and_addresses_for_anyone() {
    let app = spawn_app().await;
    let get = |query: &'static [(&'static str, &'static str)]| {
        let url = app.url(PATH);
        async move {
            let r = client().get(url).query(query).send().await.unwrap();
            assert_eq!(r.status(), 200, "{query:?}");
            r.json::<Value>().await.unwrap()
        }
    };

    // Legacy 00007 (Phường Cống Vị) was split; Phường Ngọc Hà (00008) is the default.
    let body = get(&[("code", "00007")]).await;
    assert_eq!(body["kind"], "split-default");
    assert_eq!(
        body["unit"],
        json!({"code": "00008", "name": "Phường Ngọc Hà", "province_code": "01", "province_name": "Thành phố Hà Nội"})
    );
    let candidates: Vec<&str> =
        body["candidates"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert!(candidates.len() >= 2 && candidates.contains(&"00008"), "{body}");
    assert_eq!(body["rest"], "");

    // Codes are looked up in the legacy list: legacy 00004 is Phường Trúc Bạch.
    let body = get(&[("code", "00004")]).await;
    assert_eq!((body["kind"].as_str(), body["unit"]["name"].as_str()), (Some("merged"), Some("Phường Ba Đình")));

    let body = get(&[("address", "123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang")]).await;
    assert_eq!(
        body,
        json!({
            "kind": "merged",
            "unit": {"code": "07228", "name": "Phường Đa Mai", "province_code": "24", "province_name": "Tỉnh Bắc Ninh"},
            "candidates": [{"code": "07228", "name": "Phường Đa Mai", "province_code": "24", "province_name": "Tỉnh Bắc Ninh"}],
            "rest": "123 Lê Lợi"
        })
    );

    let body = get(&[("address", "Phường Bắc Giang, Tỉnh Bắc Ninh")]).await;
    assert_eq!((body["kind"].as_str(), body["unit"]["code"].as_str()), (Some("exact"), Some("07210")));

    // Two Phường Quang Trung in Hà Nội and no district: candidates, no unit.
    let body = get(&[("address", "Phường Quang Trung, Hà Nội")]).await;
    assert_eq!(body["kind"], "split-candidates");
    assert!(body["unit"].is_null(), "{body}");
    assert_eq!(body["candidates"].as_array().unwrap().len(), 4, "{body}");

    for query in [&[("code", "99999")][..], &[("address", "Xã Không Có, Tỉnh Bắc Giang")][..]] {
        let body = get(query).await;
        assert_eq!(body, json!({"kind": "not-found", "unit": null, "candidates": [], "rest": ""}), "{query:?}");
    }
}

#[tokio::test]
async fn anything_but_exactly_one_parameter_is_422() {
    let app = spawn_app().await;
    let ask = |query: &'static str| client().get(format!("{}{query}", app.url(PATH))).send();
    let body = expect_error(ask("").await.unwrap(), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("give code"), "{body}");
    expect_error(ask("?code=&address=%20").await.unwrap(), 422, "invalid_field").await;
    let body =
        expect_error(ask("?code=00004&address=Ph%C6%B0%E1%BB%9Dng%201").await.unwrap(), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("not both"), "{body}");
    let body = expect_error(ask("?ma=00004").await.unwrap(), 422, "invalid_field").await;
    assert!(body["message"].as_str().unwrap().contains("ma"), "{body}");
    // Only GET.
    let r = client().post(app.url(PATH)).send().await.unwrap();
    expect_error(r, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_conversion() {
    let app = spawn_app().await;
    let doc: Value = app.get_public("/api/v1/openapi.json").await;
    let get = &doc["paths"][PATH]["get"];
    assert!(get.is_object(), "{}", doc["paths"]);
    let params: Vec<&str> = get["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(params, ["code", "address"]);
    let kinds = &doc["components"]["schemas"]["Kind"]["enum"];
    assert_eq!(kinds, &json!(["exact", "merged", "split-default", "split-candidates", "not-found"]));
    assert!(doc["components"]["schemas"]["Conversion"]["properties"]["candidates"].is_object());
}
