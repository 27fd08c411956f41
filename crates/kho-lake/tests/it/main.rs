//! The warehouse on real files: loads in every encoding and delimiter offices use,
//! Vietnamese numbers and dates, replace and append with time travel, errors that
//! name the row and column, loads that fail or are killed leaving the previous
//! version intact, an independent read of the Delta log and Parquet files, and
//! downloads in every format read back by other readers.

mod download;
mod formats;
mod independent;
mod query;
mod rewrite;
mod s3;
mod versions;

use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use deltalake::arrow::record_batch::RecordBatch;
use kho_lake::{IngestOptions, Lake, LakeError, LoadMode};
use std::path::{Path, PathBuf};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub lake: Lake,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::new(&format!("file://{}/objects", dir.path().display())).unwrap();
    Fixture { dir, lake }
}

impl Fixture {
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub async fn load(&self, path: &Path, mode: LoadMode) -> Result<kho_lake::IngestReport, LakeError> {
        self.load_keyed(path, mode, &[]).await
    }

    /// Loads with the columns that identify a row.
    pub async fn load_keyed(
        &self,
        path: &Path,
        mode: LoadMode,
        key: &[&str],
    ) -> Result<kho_lake::IngestReport, LakeError> {
        let options = IngestOptions {
            mode,
            loaded_by: "user:tester".into(),
            source_name: path.file_name().unwrap().to_string_lossy().into(),
            key: key.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        };
        self.lake.ingest("r1", "main", path, options, |_| {}).await
    }

    pub async fn rows(&self, version: Option<i64>) -> Vec<RecordBatch> {
        self.lake.preview("r1", "main", version, 1_000_000).await.unwrap()
    }
}

pub fn count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Every value of a column as text, in order, across batches.
pub fn column(batches: &[RecordBatch], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let c = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        for i in 0..c.len() {
            out.push(if c.is_null(i) {
                "∅".into()
            } else {
                match c.data_type() {
                    DataType::Int64 => c.as_primitive::<Int64Type>().value(i).to_string(),
                    DataType::Float64 => c.as_primitive::<Float64Type>().value(i).to_string(),
                    DataType::Date32 => c.as_primitive::<Date32Type>().value_as_date(i).unwrap().to_string(),
                    DataType::Boolean => c.as_boolean().value(i).to_string(),
                    DataType::Utf8 => c.as_string::<i32>().value(i).to_string(),
                    DataType::Utf8View => c.as_string_view().value(i).to_string(),
                    other => panic!("unexpected type {other}"),
                }
            });
        }
    }
    out
}

const HOUSEHOLDS: &str = "Mã hộ;Họ và tên chủ hộ;Ngày sinh;Thu nhập (VNĐ);Mã xã;Hộ nghèo\n\
    1;Nguyễn Văn An;01/02/1980;1.250.000,5;07210;có\n\
    2;Trần Thị Bình;15/11/1975;980.000;07228;không\n\
    3;Lê Văn Đức;;2.000.000;07246;không\n";

#[tokio::test]
async fn a_vietnamese_csv_loads_with_typed_columns() {
    let f = fixture();
    let report = f.load(&f.file("ho-ngheo.csv", HOUSEHOLDS.as_bytes()), LoadMode::Replace).await.unwrap();
    assert_eq!(report.version, 1);
    assert_eq!(report.rows, 3);
    assert_eq!(report.delimiter, ";");
    assert_eq!(report.encoding, "UTF-8");
    assert_eq!(report.sha256.len(), 64);
    let kinds: Vec<(&str, &str)> = report.columns.iter().map(|c| (c.name.as_str(), c.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("ma_ho", "integer"),
            ("ho_va_ten_chu_ho", "text"),
            ("ngay_sinh", "date"),
            ("thu_nhap_vnd", "decimal"),
            ("ma_xa", "text"),
            ("ho_ngheo", "boolean")
        ]
    );
    assert_eq!(report.columns[1].header, "Họ và tên chủ hộ");

    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "ho_va_ten_chu_ho"), ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Đức"]);
    assert_eq!(column(&rows, "ngay_sinh"), ["1980-02-01", "1975-11-15", "∅"]);
    assert_eq!(column(&rows, "thu_nhap_vnd"), ["1250000.5", "980000", "2000000"]);
    assert_eq!(column(&rows, "ma_xa"), ["07210", "07228", "07246"]);
    assert_eq!(column(&rows, "ho_ngheo"), ["true", "false", "false"]);

    let history = f.lake.history("r1", "main").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].version, 1);
    assert_eq!(history[0].source_file.as_deref(), Some("ho-ngheo.csv"));
    assert_eq!(history[0].loaded_by.as_deref(), Some("user:tester"));
    assert_eq!(history[0].mode, "replace");
}

#[tokio::test]
async fn every_encoding_reads_the_same_text() {
    let text = "Tỉnh,Xã\nBắc Ninh,Phường Đa Mai\n";
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
    let bom: Vec<u8> = b"\xEF\xBB\xBF".iter().copied().chain(text.bytes()).collect();
    // Windows-1258 writes tones as combining marks after the letter: ă + acute, ư ơ + grave, i + hook, a + tilde.
    let cp1258: &[u8] = b"Ti\xD2nh,Xa\xDE\nB\xE3\xECc Ninh,Ph\xFD\xF5\xCCng \xD0a Mai\n";
    assert_eq!(unicode_nfc(&encoding_rs::WINDOWS_1258.decode(cp1258).0), text, "the test bytes are right");
    for (name, bytes, encoding) in [
        ("utf8.csv", text.as_bytes().to_vec(), "UTF-8"),
        ("bom.csv", bom, "UTF-8"),
        ("utf16.csv", utf16, "UTF-16LE"),
        ("cp1258.csv", cp1258.to_vec(), "windows-1258"),
    ] {
        let f = fixture();
        let report = f.load(&f.file(name, &bytes), LoadMode::Replace).await.unwrap();
        assert_eq!(report.encoding, encoding, "{name}");
        let rows = f.rows(None).await;
        // Text is stored composed (NFC) whatever the file's encoding wrote.
        assert_eq!(column(&rows, "tinh"), ["Bắc Ninh"], "{name}");
        assert_eq!(column(&rows, "xa"), ["Phường Đa Mai"], "{name}");
    }
}

/// A file added to a table is read with the table's column types: a value that does not
/// fit is named by file, row and column, and the table keeps its versions.
#[tokio::test]
async fn an_appended_value_that_does_not_fit_the_table_is_named() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma;ten\n1;An\n2;Binh\n"), LoadMode::Replace).await.unwrap();
    let err = f.load(&f.file("them.csv", b"ma;ten\nmot;Cuong\n"), LoadMode::Append).await.unwrap_err().to_string();
    assert!(err.contains("them.csv") && err.contains("row 2") && err.contains("ma"), "{err}");
    assert!(err.contains("\"mot\""), "the value: {err}");
    // A value that only looks different but fits (a zero-padded number) is read as the table reads it.
    f.load(&f.file("them2.csv", b"ma;ten\n003;Cuong\n"), LoadMode::Append).await.unwrap();
    assert_eq!(column(&f.rows(None).await, "ma").len(), 3);
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 2);
}

/// A file that begins as UTF-8 and turns into another encoding past the part that
/// detection reads is refused at the first bad line, naming it, and nothing is loaded.
#[tokio::test]
async fn bytes_that_are_not_utf8_in_a_utf8_file_are_named() {
    let f = fixture();
    f.load(&f.file("v1.csv", "ma,ten\n1,Hà Nội\n".as_bytes()), LoadMode::Replace).await.unwrap();
    let mut bytes = "ma,ten\n".as_bytes().to_vec();
    for i in 0..10_000 {
        bytes.extend(format!("{i},Phường Đa Mai\n").as_bytes());
    }
    bytes.extend(b"10000,B\xE3\xECc Ninh\n");
    let err = f.load(&f.file("mixed.csv", &bytes), LoadMode::Replace).await.unwrap_err().to_string();
    assert!(err.contains("mixed.csv"), "{err}");
    assert!(err.contains("line 10002, column 2: these bytes are not UTF-8"), "{err}");
    assert_eq!(column(&f.rows(None).await, "ten"), ["Hà Nội"], "version 1 stays");
}

fn unicode_nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc().collect()
}

#[tokio::test]
async fn replace_and_append_make_versions_and_old_ones_stay_readable() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ten\n1,An\n2,Binh\n"), LoadMode::Replace).await.unwrap();
    // A replace may change the columns.
    let v2 = f.load(&f.file("v2.csv", b"ma,ten,diem\n1,An,9\n"), LoadMode::Replace).await.unwrap();
    assert_eq!(v2.version, 2);
    let v3 = f.load(&f.file("v3.csv", b"ma,ten,diem\n3,Cuong,7\n"), LoadMode::Append).await.unwrap();
    assert_eq!(v3.version, 3);

    assert_eq!(column(&f.rows(Some(1)).await, "ten"), ["An", "Binh"]);
    assert_eq!(column(&f.rows(Some(2)).await, "ten"), ["An"]);
    let latest = f.rows(None).await;
    assert_eq!(count(&latest), 2);
    let history = f.lake.history("r1", "main").await.unwrap();
    let modes: Vec<(i64, &str, Option<&str>, Option<u64>)> =
        history.iter().map(|h| (h.version, h.mode.as_str(), h.source_file.as_deref(), h.rows)).collect();
    assert_eq!(
        modes,
        [
            (3, "append", Some("v3.csv"), Some(2)),
            (2, "replace", Some("v2.csv"), Some(1)),
            (1, "replace", Some("v1.csv"), Some(2))
        ]
    );
}

#[tokio::test]
async fn appending_different_columns_is_refused_and_changes_nothing() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ten\n1,An\n"), LoadMode::Replace).await.unwrap();
    let err = f.load(&f.file("other.csv", b"code,amount\nx,1.5\n"), LoadMode::Append).await.unwrap_err();
    assert!(err.to_string().contains("columns do not match"), "{err}");
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1);
    assert_eq!(column(&f.rows(None).await, "ten"), ["An"]);
}

#[tokio::test]
async fn a_bad_cell_is_named_and_the_previous_version_stays() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ngay\n1,01/01/2025\n"), LoadMode::Replace).await.unwrap();
    // The bad value comes after the type-inference sample, deep in the file.
    let mut big = String::from("ma,ngay\n");
    for i in 0..5000 {
        big.push_str(&format!("{i},01/07/2025\n"));
    }
    big.push_str("5000,31/02/2025\n");
    let err = f.load(&f.file("v2.csv", big.as_bytes()), LoadMode::Replace).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "v2.csv, row 5002, column \"ngay\": \"31/02/2025\" is not a date written dd/mm/yyyy; fix the value or declare the column as text"
    );
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1, "nothing was committed");
    assert_eq!(column(&f.rows(None).await, "ngay"), ["2025-01-01"]);
}

#[tokio::test]
async fn a_load_killed_midway_leaves_the_previous_version_intact() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ten\n1,An\n"), LoadMode::Replace).await.unwrap();
    let mut big = String::with_capacity(40 << 20);
    big.push_str("ma,ten\n");
    for i in 0..1_500_000 {
        big.push_str(&format!("{i},Nguyễn Văn {i}\n"));
    }
    let path = f.file("big.csv", big.as_bytes());
    let lake = f.lake.clone();
    let task = tokio::spawn(async move {
        let options = IngestOptions { loaded_by: "t".into(), source_name: "big.csv".into(), ..Default::default() };
        lake.ingest("r1", "main", &path, options, |_| {}).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled(), "the load was still running when it was killed");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1);
    assert_eq!(column(&f.rows(None).await, "ten"), ["An"]);
}

#[tokio::test]
async fn empty_and_headerless_files_are_explained() {
    let f = fixture();
    let err = f.load(&f.file("empty.csv", b""), LoadMode::Replace).await.unwrap_err();
    assert!(err.to_string().contains("empty.csv: the file is empty"), "{err}");
    let err = f.lake.history("r1", "main").await.unwrap_err();
    assert!(matches!(err, LakeError::NoTable(_)));
}

#[tokio::test]
async fn rows_filter_sort_and_page() {
    use kho_lake::RowQuery;
    let f = fixture();
    f.load(&f.file("hh.csv", HOUSEHOLDS.as_bytes()), LoadMode::Replace).await.unwrap();
    let q = |filters: Vec<(&str, &str)>, sort: Option<(&str, bool)>, offset: usize| RowQuery {
        filters: filters.into_iter().map(|(a, b)| kho_lake::Filter::from_param(a, b).unwrap()).collect(),
        sort: sort.map(|(c, d)| (c.to_string(), d)),
        limit: 2,
        offset,
        ..Default::default()
    };
    let page =
        f.lake.rows("r1", "main", &q(vec![("ho_ngheo", "false")], Some(("thu_nhap_vnd", true)), 0)).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(column(&page.batches, "ho_va_ten_chu_ho"), ["Lê Văn Đức", "Trần Thị Bình"]);
    let page = f.lake.rows("r1", "main", &q(vec![("ngay_sinh", "01/02/1980")], None, 0)).await.unwrap();
    assert_eq!(column(&page.batches, "ma_ho"), ["1"]);
    let page = f.lake.rows("r1", "main", &q(vec![], Some(("ma_ho", false)), 2)).await.unwrap();
    assert_eq!((page.total, column(&page.batches, "ma_ho")), (3, vec!["3".to_string()]));
    let err = f.lake.rows("r1", "main", &q(vec![("tuoi", "1")], None, 0)).await.err().unwrap();
    assert!(err.to_string().starts_with("tuoi: the table has no such column"), "{err}");
    let err = f.lake.rows("r1", "main", &q(vec![("ma_ho", "mot")], None, 0)).await.err().unwrap();
    assert_eq!(err.to_string(), "ma_ho: \"mot\" is not a whole number");

    // Ranges, several conditions on one column.
    let page = f.lake.rows("r1", "main", &q(vec![("ma_ho.gte", "2"), ("ma_ho.lt", "3")], None, 0)).await.unwrap();
    assert_eq!((page.total, column(&page.batches, "ma_ho")), (1, vec!["2".to_string()]));
    let born = q(vec![("ngay_sinh.gt", "01/01/1978")], Some(("ma_ho", false)), 0);
    assert_eq!(column(&f.lake.rows("r1", "main", &born).await.unwrap().batches, "ma_ho"), ["1"]);
    let err = kho_lake::Filter::from_param("ma_ho.about", "2").unwrap_err();
    assert!(err.to_string().contains("use eq, ne, gt, gte, lt or lte"), "{err}");

    // Words match with or without diacritics, in any case; fields choose the columns.
    let words = RowQuery { q: Some("DUC le".into()), fields: vec!["ma_ho".into()], limit: 10, ..Default::default() };
    let page = f.lake.rows("r1", "main", &words).await.unwrap();
    assert_eq!((page.total, page.total_is_estimate), (1, false));
    assert_eq!(page.batches[0].num_columns(), 1);
    assert_eq!(column(&page.batches, "ma_ho"), ["3"]);
    let words = RowQuery { q: Some("Bình".into()), limit: 10, ..Default::default() };
    assert_eq!(f.lake.rows("r1", "main", &words).await.unwrap().total, 1);
}
