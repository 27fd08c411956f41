//! An independent reader: replays the Delta log's JSON commits by hand to find the
//! live Parquet files and reads them with the Parquet crate alone — no Delta code —
//! so the files Kho writes are proven readable by other engines.

use crate::{column, fixture, HOUSEHOLDS};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use kho_lake::LoadMode;
use std::collections::BTreeSet;

fn live_files(table_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut commits: Vec<_> = std::fs::read_dir(table_dir.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    commits.sort();
    let mut live = BTreeSet::new();
    for commit in commits {
        for line in std::fs::read_to_string(commit).unwrap().lines() {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(path) = action["add"]["path"].as_str() {
                live.insert(path.to_string());
            }
            if let Some(path) = action["remove"]["path"].as_str() {
                live.remove(path);
            }
        }
    }
    live.into_iter().map(|p| table_dir.join(p)).collect()
}

#[tokio::test]
async fn the_parquet_files_in_the_delta_log_hold_the_same_rows() {
    let f = fixture();
    f.load(&f.file("a.csv", b"x\n1\n"), LoadMode::Replace).await.unwrap();
    f.load(&f.file("ho-ngheo.csv", HOUSEHOLDS.as_bytes()), LoadMode::Replace).await.unwrap();
    let table_dir = f.dir.path().join("objects/lake/r1/main");
    let files = live_files(&table_dir);
    assert!(!files.is_empty());
    let mut batches = Vec::new();
    for file in files {
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).unwrap()).unwrap().build().unwrap();
        batches.extend(reader.map(|b| b.unwrap()));
    }
    let through_kho = f.rows(None).await;
    for name in ["ma_ho", "ho_va_ten_chu_ho", "ngay_sinh", "thu_nhap_vnd", "ma_xa", "ho_ngheo"] {
        assert_eq!(column(&batches, name), column(&through_kho, name), "{name}");
    }
}
