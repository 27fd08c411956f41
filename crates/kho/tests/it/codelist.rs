//! `kho refdata codelist` on a store: the administrative units are there on first use
//! and answer lookups as of a date; a list is imported from CSV, published, exported
//! and imported again unchanged; a file with errors exits 1 naming row and column.
//! (Every change is audited by the services; the server tests read the log.)

use crate::{kho, ok, province_and_department};

#[test]
fn codelist_import_publish_export_and_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    province_and_department(d, "Sở Khoa học và Công nghệ");

    let before = ok(kho(d, &["refdata", "codelist", "lookup", "admin-units", "00004", "--as-of", "2025-06-01"]));
    assert!(before.contains("Phường Trúc Bạch"), "{before}");
    let after = ok(kho(d, &["refdata", "codelist", "lookup", "admin-units", "00004", "--as-of", "2025-08-01"]));
    assert!(after.contains("Phường Ba Đình"), "{after}");
    let missing = kho(d, &["refdata", "codelist", "lookup", "admin-units", "99999", "--as-of", "2025-08-01"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("99999"));

    let lists = ok(kho(d, &["refdata", "codelist", "list"]));
    assert!(
        lists.contains("admin-units\tĐơn vị hành chính cấp xã\t2 versions") && lists.contains("provinces"),
        "{lists}"
    );

    let file = d.join("tinh.csv");
    std::fs::write(&file, "Mã,Tên\n01,Hà Nội\n04,Cao Bằng\n").unwrap();
    let imported = ok(kho(d, &["refdata", "codelist", "import", file.to_str().unwrap(), "--list", "provinces"]));
    assert!(imported.contains("version 3") && imported.contains("32 removed"), "{imported}");
    let published = ok(kho(d, &["refdata", "codelist", "publish", "provinces", "3", "--from", "2030-01-01"]));
    assert!(published.contains("published version 3"), "{published}");
    let shown = ok(kho(d, &["refdata", "codelist", "show", "provinces"]));
    assert!(shown.contains("version 2\tpublished\t2025-07-01 – 2029-12-31"), "{shown}");

    let csv = ok(kho(d, &["refdata", "codelist", "export", "provinces", "--as-of", "2030-06-01", "--format", "csv"]));
    assert!(csv.contains("01,Hà Nội") && csv.contains("04,Cao Bằng") && csv.lines().count() == 3, "{csv}");
    let xlsx = d.join("p.xlsx");
    ok(kho(
        d,
        &[
            "refdata",
            "codelist",
            "export",
            "provinces",
            "--version",
            "3",
            "--format",
            "xlsx",
            "-o",
            xlsx.to_str().unwrap(),
        ],
    ));
    let again = ok(kho(d, &["refdata", "codelist", "import", xlsx.to_str().unwrap(), "--list", "provinces"]));
    // The preview compares with the version in force today (2, the 34 provinces).
    assert!(again.contains("version 4") && again.contains("against version 2: 0 added, 32 removed"), "{again}");
    let v4 = ok(kho(d, &["refdata", "codelist", "export", "provinces", "--version", "4", "--format", "csv"]));
    assert_eq!(v4, csv, "the XLSX export reads back to the same items");

    let bad = d.join("bad.csv");
    std::fs::write(&bad, "code,name\n01,Hà Nội\n01,Hà Nội 2\n").unwrap();
    let failed = kho(d, &["refdata", "codelist", "import", bad.to_str().unwrap(), "--list", "provinces"]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("bad.csv: row 3, column code (A): code \"01\" appears twice"), "{stderr}");
}
