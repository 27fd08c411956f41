//! `kho refdata` as an operator uses it: addresses on standard input or in a column
//! of a CSV file, legacy codes as arguments; CSV out; no store needed.

use std::process::{Command, Output};

const HEADER: &str = "input,kind,code,name,province_code,province_name,rest";

/// Runs `kho refdata …` with `stdin`, in an empty directory and with no KHO_* settings.
fn refdata(args: &[&str], stdin: &str) -> (Output, tempfile::TempDir) {
    super::kho_piped(&[&["refdata"], args].concat(), stdin)
}

/// The CSV rows written, the header checked.
fn rows(output: &Output) -> Vec<Vec<String>> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "kho failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>().join(","), HEADER);
    reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
}

#[test]
fn convert_address_reads_one_address_a_line_from_stdin() {
    let input = "Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang\n\
                 123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang\r\n\
                 \n\
                 Phường Quang Trung, Hà Nội\n\
                 Phường Bắc Giang, Tỉnh Bắc Ninh\n\
                 Xã Không Có, Tỉnh Bắc Giang\n";
    let (output, dir) = refdata(&["convert-address"], input);
    let rows = rows(&output);
    let expected = [
        [
            "Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang",
            "merged",
            "07228",
            "Phường Đa Mai",
            "24",
            "Tỉnh Bắc Ninh",
            "",
        ],
        [
            "123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang",
            "merged",
            "07228",
            "Phường Đa Mai",
            "24",
            "Tỉnh Bắc Ninh",
            "123 Lê Lợi",
        ],
        ["", "not-found", "", "", "", "", ""],
        ["Phường Quang Trung, Hà Nội", "split-candidates", "", "", "", "", ""],
        ["Phường Bắc Giang, Tỉnh Bắc Ninh", "exact", "07210", "Phường Bắc Giang", "24", "Tỉnh Bắc Ninh", ""],
        ["Xã Không Có, Tỉnh Bắc Giang", "not-found", "", "", "", "", ""],
    ];
    assert_eq!(rows, expected.map(|r| r.map(String::from)));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("converted 6, exact 1, merged 2, split-candidates 1, not-found 2"), "{stderr}");
    // Pure: no data directory or store was made.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn convert_address_reads_a_column_of_a_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ho-so.csv");
    std::fs::write(
        &file,
        "\u{feff}Số hồ sơ;Địa chỉ;Ghi chú\n\
         HS-1;\"Số 1, P.1, Q.3, TP.HCM\";\n\
         HS-2;Xã Minh Quân - Huyện Trấn Yên - Tỉnh Yên Bái;x\n\
         HS-3;;\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (output, _) = refdata(&["convert-address", "--csv", path, "--column", "Địa chỉ"], "");
    let rows = rows(&output);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        ["Số 1, P.1, Q.3, TP.HCM", "merged", "27154", "Phường Bàn Cờ", "79", "Thành phố Hồ Chí Minh", "Số 1"]
    );
    assert_eq!(rows[1][..4], ["Xã Minh Quân - Huyện Trấn Yên - Tỉnh Yên Bái", "merged", "04543", "Phường Âu Lâu"]);
    assert_eq!(rows[2][..2], ["", "not-found"]);

    // A column that is not there: named, with the columns that are, and nothing written.
    let (output, _) = refdata(&["convert-address", "--csv", path, "--column", "dia_chi"], "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"has no column "dia_chi"; its columns are "Số hồ sơ", "Địa chỉ", "Ghi chú""#),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));

    // --csv needs --column.
    let (output, _) = refdata(&["convert-address", "--csv", path], "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--column"));
}

#[test]
fn convert_code_takes_legacy_codes() {
    let (output, _) = refdata(&["convert-code", "00007", "4", "99999"], "");
    let rows = rows(&output);
    assert_eq!(rows[0], ["00007", "split-default", "00008", "Phường Ngọc Hà", "01", "Thành phố Hà Nội", ""]);
    assert_eq!(rows[1], ["4", "merged", "00004", "Phường Ba Đình", "01", "Thành phố Hà Nội", ""]);
    assert_eq!(rows[2], ["99999", "not-found", "", "", "", "", ""]);
    let (output, _) = refdata(&["convert-code"], "");
    assert!(!output.status.success(), "a code is required");
}

/// `kho bench refdata`: every figure named, the target judged, the missing reference
/// said. Nothing here is timed; the figures are the benchmark's business.
#[test]
fn bench_refdata_reports_its_measurements() {
    let mut bench = Command::new(super::KHO);
    bench.args(["bench", "refdata", "--seed", "7"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KHO_") {
            bench.env_remove(name);
        }
    }
    let out = bench.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "kho bench refdata failed:\n{stdout}\n{stderr}");
    for line in [
        "== refdata: 100,000 free-text legacy addresses → 2025 administrative units ==",
        "reference: none",
        "convert_address × 100,000",
        "convert_code × 10,035 (every legacy code)",
        "p50",
        "p99",
        "addresses answered as their commune's code: ",
        "100,000 addresses < 10 s",
        "Kho::lookup_code as of a date × 100,000",
        "code as of a date: p99 < 1 ms",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    assert!(stdout.contains("PASS (") || stdout.contains("MISS ("), "{stdout}");
    // Ingest, reads and the portal are other benchmarks.
    assert!(!stdout.contains("== ingest") && !stdout.contains("== portal"), "{stdout}");
}
