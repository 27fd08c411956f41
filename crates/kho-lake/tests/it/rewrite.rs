//! Rewriting a version into a new one: values change, types, headers and key stay,
//! the old version stays readable, and a rewrite that fails commits nothing.

use crate::{column, fixture};
use kho_lake::rewrite::map_text;
use kho_lake::{LakeError, LoadMode, RewriteOptions, RowChanges};

const PEOPLE: &str = "Mã,Họ tên,Điện thoại,Số người\n\
    01,nguyễn văn an,0168 123 4567,3\n\
    02,Trần Thị Bình,+84912345678,\n\
    03,,0912.345.678,5\n";

fn options() -> RewriteOptions {
    RewriteOptions { rewritten_by: "user:tester".into(), source_name: "cleaning of version 1".into() }
}

#[tokio::test]
async fn a_rewrite_writes_a_new_version_with_the_same_columns() {
    let f = fixture();
    f.load_keyed(&f.file("people.csv", PEOPLE.as_bytes()), LoadMode::Replace, &["ma"]).await.unwrap();
    let columns = vec!["ho_ten".to_string(), "dien_thoai".to_string()];
    let report = f
        .lake
        .rewrite(
            "r1",
            "main",
            None,
            move |batch| {
                map_text(&batch, &columns, |i, v| match i {
                    0 => Some(v.to_uppercase()).filter(|u| u != v),
                    _ => Some(v.replace(['.', ' '], "")).filter(|u| u != v),
                })
            },
            options(),
        )
        .await
        .unwrap();
    assert_eq!((report.version, report.rows), (2, 3));
    assert_eq!(report.changes, Some(RowChanges { added: 0, removed: 0, changed: 3 }));

    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "ho_ten"), ["NGUYỄN VĂN AN", "TRẦN THỊ BÌNH", "∅"]);
    assert_eq!(column(&rows, "dien_thoai"), ["01681234567", "+84912345678", "0912345678"]);
    assert_eq!(column(&rows, "ma"), ["01", "02", "03"], "text codes keep their zeros");
    assert_eq!(column(&rows, "so_nguoi"), ["3", "∅", "5"], "numbers stay numbers");
    assert_eq!(column(&f.rows(Some(1)).await, "ho_ten")[0], "nguyễn văn an", "version 1 is unchanged");

    let history = f.lake.history("r1", "main").await.unwrap();
    let v2 = &history[0];
    assert_eq!((v2.version, v2.mode.as_str(), v2.rows), (2, "replace", Some(3)));
    assert_eq!(v2.source_file.as_deref(), Some("cleaning of version 1"));
    assert_eq!(v2.loaded_by.as_deref(), Some("user:tester"));
    assert_eq!(v2.key, ["ma"]);
    let columns = v2.columns.as_ref().unwrap();
    assert_eq!((columns[1].name.as_str(), columns[1].header.as_str()), ("ho_ten", "Họ tên"));
    assert_eq!(columns[3].kind, "integer");
    let diff = f.lake.diff("r1", "main", 2).await.unwrap();
    assert!(diff.columns_added.is_empty() && diff.columns_removed.is_empty() && diff.columns_retyped.is_empty());
}

#[tokio::test]
async fn a_failed_rewrite_leaves_the_newest_version_as_it_was() {
    let f = fixture();
    f.load(&f.file("people.csv", PEOPLE.as_bytes()), LoadMode::Replace).await.unwrap();
    let rewrite = |columns: Vec<String>| {
        f.lake.rewrite("r1", "main", None, move |batch| map_text(&batch, &columns, |_, _| None), options())
    };
    let err = rewrite(vec!["email".into()]).await.unwrap_err();
    assert!(err.to_string().contains("no column \"email\"; its columns are ma, ho_ten"), "{err}");
    let err = rewrite(vec!["so_nguoi".into()]).await.unwrap_err();
    assert_eq!(err.to_string(), "column so_nguoi holds integer, not text; only text columns are rewritten");
    // A transform that stops midway.
    let err = f
        .lake
        .rewrite("r1", "main", None, |_| Err(LakeError::Invalid("the standardiser stopped".into())), options())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "the standardiser stopped");
    let history = f.lake.history("r1", "main").await.unwrap();
    assert_eq!(history.len(), 1, "nothing was committed");
    assert_eq!(column(&f.rows(None).await, "ho_ten")[0], "nguyễn văn an");
}

#[tokio::test]
async fn an_older_version_can_be_rewritten_on_top_of_the_newest() {
    let f = fixture();
    f.load(&f.file("v1.csv", b"ma,ten\n1,an\n"), LoadMode::Replace).await.unwrap();
    f.load(&f.file("v2.csv", b"ma,ten,lop\n1,binh,A\n"), LoadMode::Replace).await.unwrap();
    let columns = vec!["ten".to_string()];
    let report = f
        .lake
        .rewrite("r1", "main", Some(1), move |b| map_text(&b, &columns, |_, v| Some(v.to_uppercase())), options())
        .await
        .unwrap();
    assert_eq!(report.version, 3);
    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "ten"), ["AN"]);
    assert_eq!(rows[0].num_columns(), 2, "version 1's columns");
}
