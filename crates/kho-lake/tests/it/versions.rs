//! Load modes and what a version tells: upsert by key, the file's hash and the
//! columns recorded with each version, and the diff against the version before.

use crate::{column, fixture};
use kho_lake::{LoadMode, RowChanges};

#[tokio::test]
async fn an_upsert_replaces_rows_by_key_and_adds_new_ones() {
    let f = fixture();
    f.load_keyed(&f.file("v1.csv", b"ma_ho,chu_ho,so_nguoi\n01,An,3\n02,Binh,4\n03,Cuong,2\n"), LoadMode::Replace, &[])
        .await
        .unwrap();
    // Household 02 changes, 03 is sent unchanged, 04 is new.
    let file = f.file("v2.csv", b"ma_ho,chu_ho,so_nguoi\n02,Binh,5\n03,Cuong,2\n04,Dung,1\n");
    let report = f.load_keyed(&file, LoadMode::Upsert, &["ma_ho"]).await.unwrap();
    assert_eq!(report.version, 2);
    assert_eq!(report.changes, Some(RowChanges { added: 1, removed: 0, changed: 1 }));

    let rows = f.rows(None).await;
    let mut pairs: Vec<(String, String)> = column(&rows, "ma_ho").into_iter().zip(column(&rows, "so_nguoi")).collect();
    pairs.sort();
    let expected = [("01", "3"), ("02", "5"), ("03", "2"), ("04", "1")];
    assert_eq!(pairs, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(column(&f.rows(Some(1)).await, "so_nguoi"), ["3", "4", "2"], "version 1 is unchanged");

    let history = f.lake.history("r1", "main").await.unwrap();
    assert_eq!(
        (history[0].mode.as_str(), history[0].rows, &history[0].key[..]),
        ("upsert", Some(4), &["ma_ho".to_string()][..])
    );
}

#[tokio::test]
async fn an_upsert_needs_a_key_the_file_has() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma_ho,ten\n01,An\n"), LoadMode::Replace).await.unwrap();
    let file = f.file("v2.csv", b"ma_ho,ten\n01,Anh\n");
    let err = f.load_keyed(&file, LoadMode::Upsert, &[]).await.unwrap_err();
    assert!(err.to_string().contains("an upsert needs the column(s) that identify a row"), "{err}");
    let err = f.load_keyed(&file, LoadMode::Upsert, &["so_cccd"]).await.unwrap_err();
    assert_eq!(err.to_string(), "key: the file has no column \"so_cccd\"; its columns are ma_ho, ten");
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1, "nothing was committed");
}

#[tokio::test]
async fn an_upsert_into_a_new_table_loads_the_file() {
    let f = fixture();
    let report = f.load_keyed(&f.file("v1.csv", b"ma,ten\n1,An\n"), LoadMode::Upsert, &["ma"]).await.unwrap();
    assert_eq!((report.version, report.rows), (1, 1));
}

#[tokio::test]
async fn a_version_records_its_file_hash_columns_and_rows() {
    let f = fixture();
    let bytes = b"Ma ho,Ngay dang ky\n01,01/07/2025\n";
    let report = f.load(&f.file("v1.csv", bytes), LoadMode::Replace).await.unwrap();
    let history = f.lake.history("r1", "main").await.unwrap();
    let v1 = &history[0];
    use sha2::Digest;
    let expected = hex::encode(sha2::Sha256::digest(bytes));
    assert_eq!(v1.source_sha256.as_deref(), Some(expected.as_str()));
    assert_eq!(report.sha256, expected);
    let columns: Vec<(&str, &str)> =
        v1.columns.as_ref().unwrap().iter().map(|c| (c.name.as_str(), c.kind.as_str())).collect();
    assert_eq!(columns, [("ma_ho", "text"), ("ngay_dang_ky", "date")]);
    assert_eq!(v1.rows, Some(1));
}

#[tokio::test]
async fn a_replace_with_a_key_is_compared_row_by_row_with_the_version_before() {
    let f = fixture();
    f.load_keyed(&f.file("v1.csv", b"ma,ten,diem\n1,An,9\n2,Binh,7\n3,Cuong,5\n"), LoadMode::Replace, &["ma"])
        .await
        .unwrap();
    // 1 unchanged, 2 changed, 3 removed, 4 added; a column added, one retyped.
    let v2 = b"ma,ten,diem,lop\n1,An,9,A\n2,Binh,8,B\n4,Dung,6,A\n";
    f.load_keyed(&f.file("v2.csv", v2), LoadMode::Replace, &["ma"]).await.unwrap();
    let diff = f.lake.diff("r1", "main", 2).await.unwrap();
    assert_eq!(diff.previous, Some(1));
    assert_eq!((diff.rows_before, diff.rows_after), (3, 3));
    assert_eq!(diff.rows, Some(RowChanges { added: 1, removed: 1, changed: 1 }));
    assert_eq!(diff.columns_added, ["lop"]);
    assert!(diff.columns_removed.is_empty());

    let v3 = b"ma,ten,diem,lop\n1,An,9.5,A\n";
    f.load_keyed(&f.file("v3.csv", v3), LoadMode::Replace, &["ma"]).await.unwrap();
    let diff = f.lake.diff("r1", "main", 3).await.unwrap();
    let retyped: Vec<(&str, &str, &str)> =
        diff.columns_retyped.iter().map(|r| (r.name.as_str(), r.from.as_str(), r.to.as_str())).collect();
    assert_eq!(retyped, [("diem", "integer", "decimal")]);
    // The score changed type, so row 1 counts as unchanged on the columns still comparable.
    assert_eq!(diff.rows, Some(RowChanges { added: 0, removed: 2, changed: 0 }));
}

#[tokio::test]
async fn without_a_key_a_diff_gives_schema_and_totals() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"a,b\n1,x\n"), LoadMode::Replace).await.unwrap();
    f.load(&f.file("v2.csv", b"a\n1\n2\n"), LoadMode::Replace).await.unwrap();
    let diff = f.lake.diff("r1", "main", 2).await.unwrap();
    assert_eq!((diff.rows_before, diff.rows_after, diff.rows), (1, 2, None));
    assert_eq!(diff.columns_removed, ["b"]);
    let appended = f.load(&f.file("v3.csv", b"a\n3\n"), LoadMode::Append).await.unwrap();
    assert_eq!(appended.changes, Some(RowChanges { added: 1, removed: 0, changed: 0 }));
    let diff = f.lake.diff("r1", "main", 3).await.unwrap();
    assert_eq!(diff.rows, Some(RowChanges { added: 1, removed: 0, changed: 0 }));
    let err = f.lake.diff("r1", "main", 9).await.unwrap_err();
    assert!(err.to_string().contains("has no version 9"), "{err}");
}

#[tokio::test]
async fn an_upsert_with_a_repeated_key_is_refused_and_changes_nothing() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ten\n1,An\n2,Binh\n"), LoadMode::Replace).await.unwrap();
    let file = f.file("v2.csv", b"ma,ten\n2,Binh Minh\n2,Binh An\n");
    let err = f.load_keyed(&file, LoadMode::Upsert, &["ma"]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "v2.csv: the key ma = 2 appears more than once (again at data row 2); an upsert needs one row per key"
    );
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1, "nothing was committed");
    assert_eq!(column(&f.rows(None).await, "ten"), ["An", "Binh"]);
}

#[tokio::test]
async fn retention_removes_the_data_of_replaced_versions_and_keeps_the_newest() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ten\n1,An\n"), LoadMode::Replace).await.unwrap();
    f.load(&f.file("v2.csv", b"ma,ten\n2,Binh\n"), LoadMode::Replace).await.unwrap();
    // A long policy removes nothing.
    let kept = f.lake.apply_retention("r1", "main", std::time::Duration::from_secs(86_400)).await.unwrap();
    assert_eq!(kept.files_deleted, 0);
    assert_eq!(column(&f.rows(Some(1)).await, "ten"), ["An"]);

    let applied = f.lake.apply_retention("r1", "main", std::time::Duration::ZERO).await.unwrap();
    assert_eq!(applied.files_deleted, 1, "version 1's file");
    let err = f.lake.preview("r1", "main", Some(1), 10).await.unwrap_err();
    assert!(err.to_string().contains("retention policy removed its data; read a later version"), "{err}");
    assert_eq!(column(&f.rows(None).await, "ten"), ["Binh"]);
    let history = f.lake.history("r1", "main").await.unwrap();
    let expired: Vec<(i64, bool)> = history.iter().map(|v| (v.version, v.expired)).collect();
    assert_eq!(expired, [(2, false), (1, true)]);
}
