//! `kho bench` end to end on a small file with no DuckDB to compare with: every
//! measurement is named, and DuckDB's figures are said to be missing rather than
//! made up. Nothing here is timed; the figures themselves are the benchmark's business.

use std::process::Command;

#[test]
fn bench_measures_each_step_and_says_when_duckdb_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let mut bench = Command::new(super::KHO);
    bench.args(["bench", "--rows", "2000", "--requests", "4", "--runs", "2", "--datasets", "150"]);
    bench.args(["--python", "/nonexistent/python3"]);
    bench.arg("--dir").arg(&work);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KHO_") {
            bench.env_remove(name);
        }
    }
    let out = bench.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "kho bench failed:\n{stdout}\n{stderr}");

    assert!(stdout.contains("DuckDB was not available"), "{stdout}");
    assert!(stdout.contains("dataset: 2,000 rows × 11 columns"), "{stdout}");
    for measurement in [
        "== ingest: CSV",
        "time ",
        "rows/s",
        "peak RSS",
        "== read: filtered rows, 4 requests",
        "p50",
        "p95",
        "== read: SQL aggregate, median of 2 runs",
        "groups",
        "== portal: 150 open datasets from 30 agencies, 1 of them with a table of 500 rows ==",
        "package_search: words + 4 facets",
        "package_search: fq organization + 4 facets",
        "dataset page /dataset/{slug}",
        "first package_search (reads the catalogue)",
        "CKAN with Solr was not run",
        "total wall time: ",
    ] {
        assert!(stdout.contains(measurement), "{measurement:?} missing:\n{stdout}");
    }
    let rows_read = stdout.lines().find(|l| l.trim_start().starts_with("rows read")).unwrap_or_default();
    assert!(rows_read.contains("2,000"), "Kho read every row: {stdout}");
    // No DuckDB figure is invented: its column and every comparison say so.
    assert!(stdout.matches("not available").count() >= 8, "{stdout}");
    assert_eq!(stdout.matches("not compared: DuckDB was not available").count(), 2, "{stdout}");
    assert!(!stdout.contains("agree"), "nothing to agree with: {stdout}");
    // Targets that need no reference are still judged.
    assert!(stdout.contains("peak RSS < 1 GB for a 2 GB CSV"), "{stdout}");
    assert!(stdout.contains("filtered request p50 < 50 ms"), "{stdout}");
    assert!(stdout.contains("package_search p50 < 10 ms"), "{stdout}");
    assert!(stdout.contains("dataset page p50 < 20 ms"), "{stdout}");
    assert!(!work.exists(), "the working directory is removed without --keep");
}
