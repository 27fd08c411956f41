//! The DCAT export read back by an RDF parser (`rdflib`): the catalogue in Turtle,
//! JSON-LD and RDF/XML holds the open datasets with the mapped fields and Hydra
//! paging, and a shared dataset is absent — also when asked for by id.

use crate::ckan::test_python;
use crate::{client, spawn_app, TestApp};
use serde_json::{json, Value};

/// Parses an RDF document and prints what a harvester would read from it.
const RDFLIB_SCRIPT: &str = r#"
import json, sys
from rdflib import Graph, Namespace, RDF, URIRef
DCAT = Namespace("http://www.w3.org/ns/dcat#"); DCT = Namespace("http://purl.org/dc/terms/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#"); FOAF = Namespace("http://xmlns.com/foaf/0.1/")
g = Graph().parse(sys.argv[1], format=sys.argv[2])
out = {}
for d in g.subjects(RDF.type, DCAT.Dataset):
    dists = list(g.objects(d, DCAT.distribution))
    out[str(g.value(d, DCT.identifier))] = {
        "title": sorted(f"{t}@{t.language}" for t in g.objects(d, DCT.title)),
        "keywords": sorted(str(k) for k in g.objects(d, DCAT.keyword)),
        "publisher": str(g.value(g.value(d, DCT.publisher), FOAF.name)),
        "periodicity": str(g.value(d, DCT.accrualPeriodicity)),
        "license": str(g.value(d, DCT.license)),
        "formats": sorted(str(g.value(x, DCT["format"])) for x in dists),
        "download": sorted(str(g.value(x, DCAT.downloadURL)) for x in dists if str(g.value(x, DCT["format"])) == "CSV"),
    }
total = [int(t) for t in g.objects(None, HYDRA.totalItems)]
print(json.dumps({"datasets": out, "total": total}))
"#;

async fn parse(app: &TestApp, venv: &std::path::Path, path: &str, format: &str) -> Value {
    let r = client().get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), r.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new(venv.join("bin/python"))
        .args(["-c", RDFLIB_SCRIPT, file.path().to_str().unwrap(), format])
        .output()
        .unwrap();
    assert!(out.status.success(), "{path} ({content_type}) does not parse: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_dcat_catalogue_parses_as_rdf_and_holds_only_open_data() {
    let Some(venv) = test_python() else { return };
    let app = spawn_app().await;
    let schools = app.kho.store.resource("danh-sach-co-so-giao-duc").await.unwrap().unwrap();
    let households = app.kho.store.resource("danh-sach-ho-ngheo-ho-can-ngheo").await.unwrap().unwrap();
    for slug in [&schools.slug, &households.slug] {
        let r = client()
            .post(app.url(&format!("/api/v1/resources/{slug}/tables/main/versions")))
            .bearer_auth(app.token("admin").await)
            .header("content-type", "text/csv")
            .body("Mã,Tên\n01,Một\n")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    for (path, format) in [("/catalog.ttl", "turtle"), ("/catalog.jsonld", "json-ld"), ("/catalog.rdf", "xml")] {
        let seen = parse(&app, &venv, path, format).await;
        assert_eq!(seen["total"], json!([3]), "{path}: Hydra counts the open datasets");
        let datasets = seen["datasets"].as_object().unwrap();
        assert_eq!(datasets.len(), 3, "{path}: {datasets:?}");
        assert!(!datasets.contains_key(&households.id), "{path}: shared data is not exported");
        let s = &datasets[&schools.id];
        assert_eq!(s["title"], json!(["Danh sách cơ sở giáo dục@vi", "List of schools@en"]), "{path}");
        assert_eq!(s["keywords"], json!(["Bắc Ninh", "giáo dục"]));
        assert_eq!(s["publisher"], "Sở Giáo dục và Đào tạo");
        assert_eq!(s["periodicity"], "http://publications.europa.eu/resource/authority/frequency/ANNUAL");
        assert_eq!(s["license"], "https://creativecommons.org/licenses/by/4.0/");
        assert_eq!(s["formats"], json!(["CSV", "JSON", "NDJSON", "PARQUET", "XLSX"]));
        let csv = s["download"][0].as_str().unwrap();
        assert!(csv.ends_with("/api/v1/resources/danh-sach-co-so-giao-duc/tables/main/download?format=csv"));
    }

    let one = parse(&app, &venv, &format!("/dataset/{}.ttl", schools.id), "turtle").await;
    assert_eq!(one["datasets"].as_object().unwrap().len(), 1);
    for path in [format!("/dataset/{}.ttl", households.id), format!("/dataset/{}.jsonld", households.slug)] {
        assert_eq!(client().get(app.url(&path)).send().await.unwrap().status(), 404, "{path}");
    }
    let none = parse(&app, &venv, "/catalog.ttl?modified_since=2999-01-01", "turtle").await;
    assert_eq!(none["total"], json!([0]));
}
