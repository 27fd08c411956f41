//! `kho standardize` as an operator uses it: values on standard input or in a column of
//! a CSV file, CSV rows `input,output,status,note` out, no store needed.

use std::process::Output;

/// The rows written (header checked) and what standard error said.
fn rows(output: &Output) -> (Vec<[String; 4]>, String) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "kho failed:\n{stdout}\n{stderr}");
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>().join(","), "input,output,status,note");
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            [0, 1, 2, 3].map(|i| r.get(i).unwrap_or("").to_string())
        })
        .collect();
    (rows, stderr)
}

fn status_of(rows: &[[String; 4]]) -> Vec<(&str, &str)> {
    rows.iter().map(|r| (r[1].as_str(), r[2].as_str())).collect()
}

#[test]
fn names_phones_and_legacy_text_come_out_standard_with_their_status() {
    let (out, _dir) = super::kho_piped(&["standardize", "--kind", "name"], "NGUYỄN văn  an\nTrần Thị Bình\nNguyễn 2\n");
    let (names, tally) = rows(&out);
    assert_eq!(status_of(&names), [("Nguyễn Văn An", "fixed"), ("Trần Thị Bình", "ok"), ("Nguyễn 2", "invalid")]);
    assert!(!names[2][3].is_empty(), "an invalid value says why");
    assert!(tally.contains("ok 1, fixed 1, invalid 1"), "{tally}");

    let (out, _dir) = super::kho_piped(&["standardize", "--kind", "phone"], "0168 123 4567\n+84 912 345 678\n");
    let (phones, _) = rows(&out);
    assert_eq!(status_of(&phones), [("+84381234567", "fixed"), ("+84912345678", "fixed")]);

    // Hà Nội typed with a TCVN3 font and with a VNI font.
    let (out, _dir) = super::kho_piped(&["standardize", "--kind", "text"], "Hµ Néi\nHaø Noäi\nHà Nội\n");
    let (texts, _) = rows(&out);
    assert_eq!(status_of(&texts), [("Hà Nội", "fixed"), ("Hà Nội", "fixed"), ("Hà Nội", "ok")]);
}

#[test]
fn citizen_ids_in_a_csv_column_are_checked_against_the_date_of_birth() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cong-dan.csv");
    std::fs::write(
        &csv,
        "ho_ten;so_cccd;ngay_sinh\nNguyễn Văn An;027 050 001234;15/03/1950\nLê Thị Hoa;027150001234;15/03/1951\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    let args = ["standardize", "--kind", "citizen-id", "--csv", file, "--column", "so_cccd", "--dob", "ngay_sinh"];
    let (out, _run) = super::kho_piped(&args, "");
    let (ids, _) = rows(&out);
    assert_eq!(status_of(&ids), [("027050001234", "fixed"), ("027150001234", "invalid")]);
    assert!(ids[1][3].contains("1951"), "the note names the mismatch: {}", ids[1][3]);

    let (out, _run) = super::kho_piped(&["standardize", "--kind", "citizen-id", "--csv", file, "--column", "cccd"], "");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no column \"cccd\"") && said.contains("\"so_cccd\""), "{said}");
    assert!(out.stdout.is_empty(), "nothing is written before the column is found");
}
