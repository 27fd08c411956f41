//! Read-only SQL: a query over a loaded table answers right; statements that write or
//! read files are refused before anything runs; a query that would run forever is
//! stopped by its time limit, one that needs too much memory by its memory pool, and
//! a large answer is cut at the row cap and says so.

use crate::{column, fixture, Fixture};
use kho_lake::query::check;
use kho_lake::{LakeError, LoadMode, QueryLimits, QueryResult, QueryTable, TableName};
use std::time::{Duration, Instant};

const PEOPLE: &str = "ma_xa,ho_ten,so_tien\n\
    25108,Nguyễn Văn An,1.500.000\n\
    25108,Trần Thị Bình,2.000.000\n\
    25111,Lê Văn Cường,750.000\n";

async fn loaded() -> Fixture {
    let f = fixture();
    let path = f.file("nguoi.csv", PEOPLE.as_bytes());
    f.load(&path, LoadMode::Replace).await.unwrap();
    f
}

fn tables() -> Vec<QueryTable> {
    vec![QueryTable {
        name: TableName::of("nguoi-dan", "main"),
        resource_id: "r1".into(),
        table: "main".into(),
        version: None,
    }]
}

async fn run(f: &Fixture, sql: &str, limits: QueryLimits) -> Result<QueryResult, LakeError> {
    f.lake.query(check(sql)?, &tables(), limits).await
}

#[tokio::test]
async fn an_aggregate_over_a_loaded_table_answers_right() {
    let f = loaded().await;
    let sql = "SELECT ma_xa, count(*) AS n, sum(so_tien) AS tong FROM nguoi_dan.main GROUP BY ma_xa ORDER BY ma_xa";
    let r = run(&f, sql, QueryLimits::default()).await.unwrap();
    assert_eq!(column(&r.batches, "ma_xa"), ["25108", "25111"]);
    assert_eq!(column(&r.batches, "n"), ["2", "1"]);
    assert_eq!(column(&r.batches, "tong"), ["3500000", "750000"]);
    assert!(!r.truncated);
    assert_eq!(r.columns()[2], ("tong".to_string(), "integer"));
    let csv = String::from_utf8(r.to_csv().unwrap()).unwrap();
    assert_eq!(csv, "ma_xa,n,tong\n25108,2,3500000\n25111,1,750000\n");
}

#[tokio::test]
async fn writes_and_files_are_refused_and_nothing_changes() {
    let f = loaded().await;
    for sql in [
        "INSERT INTO nguoi_dan.main VALUES ('1', 'x', 1)",
        "DELETE FROM nguoi_dan.main",
        "DROP TABLE nguoi_dan.main",
        "COPY (SELECT * FROM nguoi_dan.main) TO '/tmp/kho-leak.csv'",
        "CREATE EXTERNAL TABLE leak STORED AS CSV LOCATION '/etc/passwd'",
    ] {
        let err = run(&f, sql, QueryLimits::default()).await.err().unwrap_or_else(|| panic!("{sql} ran"));
        assert!(matches!(err, LakeError::Refused(_)), "{sql}: {err}");
        assert!(err.to_string().contains("SQL here only reads"), "{err}");
    }
    let err = run(&f, "SELECT * FROM '/etc/passwd'", QueryLimits::default()).await.err().unwrap();
    assert!(err.to_string().contains("is not a warehouse table"), "{err}");
    assert!(!std::path::Path::new("/tmp/kho-leak.csv").exists());
    assert_eq!(crate::count(&f.rows(None).await), 3, "the table is as it was");
}

#[tokio::test]
async fn a_query_that_runs_forever_is_stopped_by_the_time_limit() {
    let f = loaded().await;
    let limits = QueryLimits { timeout: Duration::from_millis(700), ..Default::default() };
    let forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
    let started = Instant::now();
    let err = run(&f, forever, limits).await.err().expect("stopped");
    assert!(matches!(err, LakeError::Limit(_)), "{err}");
    assert!(err.to_string().contains("longer than 0.7 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "stopped near its limit, not at the end");
    // The query threads are free again.
    let r = run(&f, "SELECT count(*) AS n FROM nguoi_dan.main", QueryLimits::default()).await.unwrap();
    assert_eq!(column(&r.batches, "n"), ["3"]);
}

#[tokio::test]
async fn a_query_past_its_memory_fails_with_the_limit_named() {
    let f = loaded().await;
    let limits = QueryLimits { memory_bytes: 1 << 20, ..Default::default() };
    let big_sort = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) \
                    SELECT i, i * 2 AS j FROM n ORDER BY i DESC";
    let err = run(&f, big_sort, limits).await.err().expect("out of memory");
    assert!(matches!(err, LakeError::Limit(_)), "{err}");
    assert!(err.to_string().contains("more than 1 MB of memory"), "{err}");
}

#[tokio::test]
async fn a_large_answer_is_cut_at_the_row_cap() {
    let f = loaded().await;
    let limits = QueryLimits { max_rows: 2, ..Default::default() };
    let r = run(&f, "SELECT ho_ten FROM nguoi_dan.main ORDER BY ho_ten", limits).await.unwrap();
    assert_eq!(r.rows, 2);
    assert!(r.truncated);
    let exact = QueryLimits { max_rows: 3, ..Default::default() };
    let r = run(&f, "SELECT ho_ten FROM nguoi_dan.main", exact).await.unwrap();
    assert_eq!((r.rows, r.truncated), (3, false));
}

#[tokio::test]
async fn a_table_that_is_not_given_cannot_be_read() {
    let f = loaded().await;
    let err = f.lake.query(check("SELECT * FROM khac.main").unwrap(), &tables(), QueryLimits::default()).await;
    assert!(err.err().unwrap().to_string().contains("no table khac.main you may read"));
}
