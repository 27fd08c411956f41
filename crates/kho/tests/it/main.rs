//! The `kho` binary as an operator uses it: serve on an empty data directory and
//! stop on SIGTERM; the administrative commands on the same store; `audit verify`
//! failing loudly on a tampered log; a gateway node killed under load keeping the log
//! record of every call it answered.

mod bench;
mod codelist;
mod gateway_crash;
mod quality;
mod refdata;
mod service;
mod standardize;
mod subsystem;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const KHO: &str = env!("CARGO_BIN_EXE_kho");

fn kho(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(KHO)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("KHO_DATABASE_URL")
        .env_remove("KHO_CONFIG")
        .output()
        .expect("run kho")
}

fn ok(output: Output) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "kho failed ({}):\n{stdout}\n{stderr}", output.status);
    stdout.into_owned()
}

/// The province agency 000.00.00.H24 and, under it, a department 000.00.01.H24.
fn province_and_department(d: &Path, department: &str) {
    ok(kho(d, &["agency", "create", "--code", "000.00.00.H24", "--name", "UBND tỉnh Bắc Ninh", "--kind", "province"]));
    let dept = [
        "agency",
        "create",
        "--code",
        "000.00.01.H24",
        "--name",
        department,
        "--kind",
        "department",
        "--parent",
        "000.00.00.H24",
    ];
    ok(kho(d, &dept));
}

fn repo_file(name: &str) -> String {
    format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn help_explains_each_command() {
    let help = ok(Command::new(KHO).arg("--help").output().unwrap());
    for command in ["serve", "user", "token", "subsystem", "agency", "audit"] {
        assert!(help.contains(command), "{help}");
    }
    let serve = ok(Command::new(KHO).args(["serve", "--help"]).output().unwrap());
    assert!(serve.contains("--demo") && serve.contains("KHO_LISTEN") && serve.contains("--data-dir"), "{serve}");
}

/// `kho serve` on a free port: the child, its address and what it printed up to it.
fn serve(data_dir: &Path) -> (std::process::Child, String, String) {
    let mut child = Command::new(KHO)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("KHO_ADMIN_PASSWORD")
        .env_remove("KHO_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("Kho is listening on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    (child, url, printed)
}

#[test]
fn serve_initialises_an_empty_data_dir_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, printed) = serve(dir.path());
    assert!(printed.contains("administrator: admin   password: "), "{printed}");
    let password = printed.split("password: ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(password.len(), 20, "a generated password is printed once");
    assert!(dir.path().join("kho.db").exists() && dir.path().join("objects").is_dir());

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
        assert_eq!(health.status(), 200);
        let login = reqwest::Client::new()
            .post(format!("{url}/api/v1/session"))
            .json(&serde_json_value(&password))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
    });

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits cleanly: {status}");
}

/// The portal keeps the open catalogue in memory; a change made from the command line
/// on the same store, while the server runs, shows on the next request.
#[test]
fn the_portal_follows_changes_made_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(kho(d, &["agency", "create", "--code", "000.00.00.H24", "--name", "UBND tỉnh", "--kind", "province"]));
    let create = ["resource", "create", "--title", "Bảng giá đất 2025", "--agency", "000.00.00.H24", "--scope", "open"];
    ok(kho(d, &create));
    ok(kho(d, &["resource", "status", "bang-gia-dat-2025", "published"]));
    let (mut child, url, _) = serve(d);
    let get = |path: &str| -> (u16, serde_json::Value) {
        let r = reqwest::blocking::get(format!("{url}{path}")).unwrap();
        (r.status().as_u16(), r.json().unwrap_or_default())
    };
    let (status, shown) = get("/api/3/action/package_show?id=bang-gia-dat-2025");
    assert_eq!((status, shown["result"]["title"].as_str()), (200, Some("Bảng giá đất 2025")));

    // A second open dataset, then the first retired, both from the command line.
    let create = ["resource", "create", "--title", "Danh sách chợ", "--agency", "000.00.00.H24", "--scope", "open"];
    ok(kho(d, &create));
    ok(kho(d, &["resource", "status", "danh-sach-cho", "published"]));
    assert_eq!(
        get("/api/3/action/package_list").1["result"],
        serde_json::json!(["bang-gia-dat-2025", "danh-sach-cho"])
    );
    ok(kho(d, &["resource", "status", "bang-gia-dat-2025", "retired"]));
    assert_eq!(get("/api/3/action/package_show?id=bang-gia-dat-2025").0, 404);
    let (_, found) = get("/api/3/action/package_search?q=gia%20dat");
    assert_eq!(found["result"]["count"], 0, "{found}");
    assert_eq!(get("/api/3/action/package_list").1["result"], serde_json::json!(["danh-sach-cho"]));
    let page = reqwest::blocking::get(format!("{url}/dataset/bang-gia-dat-2025")).unwrap();
    assert_eq!(page.status(), 404);

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
}

fn serde_json_value(password: &str) -> std::collections::HashMap<&'static str, String> {
    [("username", "admin".to_string()), ("password", password.to_string())].into_iter().collect()
}

#[test]
fn administrative_commands_work_on_the_store_and_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An empty store's lists print nothing, and say on stderr how to make the first entry.
    for (list, first) in [
        ("agency", "kho agency create"),
        ("subsystem", "kho subsystem create"),
        ("service", "kho service add"),
        ("agreement", "kho agreement add"),
    ] {
        let output = kho(d, &[list, "list"]);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(ok(output), "", "{list}");
        assert!(stderr.contains(&format!("no {list} yet; create one with `{first}")), "{list}: {stderr}");
    }
    province_and_department(d, "Sở KH&CN");
    let import = ok(kho(d, &["agency", "import", &repo_file("admin-units-2025.csv"), "--province", "24"]));
    assert!(import.contains("99 created, 0 already present"), "{import}");
    let again = ok(kho(d, &["agency", "import", &repo_file("admin-units-2025.csv"), "--province", "24"]));
    assert!(again.contains("0 created, 99 already present"), "{again}");
    let list = ok(kho(d, &["agency", "list"]));
    assert!(list.contains("  000.00.01.H24  Sở KH&CN  [department]"), "{list}");
    assert!(list.contains("UBND Phường Bắc Giang  [commune]"), "{list}");

    // A password from stdin.
    let mut child = Command::new(KHO)
        .arg("--data-dir")
        .arg(d)
        .args([
            "user",
            "create",
            "--username",
            "lan",
            "--agency",
            "000.00.01.H24",
            "--roles",
            "steward,viewer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"mot-mat-khau-rat-dai\n").unwrap();
    let created = ok(child.wait_with_output().unwrap());
    assert!(created.contains("created user lan (steward,viewer)") && !created.contains("password:"), "{created}");
    let users = ok(kho(d, &["user", "list"]));
    assert!(users.contains("lan") && users.contains("Sở KH&CN"), "{users}");

    let bad = kho(d, &["user", "create", "--username", "x", "--agency", "000.00.01.H24"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("username: \"x\" is not allowed"));

    let secret = ok(kho(d, &["token", "create", "--user", "lan", "--name", "etl", "--days", "7"]));
    assert!(secret.trim().starts_with("kho_"), "{secret}");
    let tokens = ok(kho(d, &["token", "list"]));
    let id = tokens.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert!(ok(kho(d, &["token", "revoke", &id])).contains("revoked token"));
    assert!(ok(kho(d, &["token", "list"])).contains("revoked"));

    let first = ok(kho(d, &["subsystem", "create", "VN/GOV/000.00.01.H24/ETL", "--agency", "000.00.01.H24"]));
    assert!(first.trim().starts_with("kho_"), "subsystem create prints the new token alone: {first}");
    let machine = ok(kho(d, &["token", "create", "--subsystem", "VN/GOV/000.00.01.H24/ETL", "--name", "etl"]));
    assert!(machine.trim().starts_with("kho_"));

    let verified = ok(kho(d, &["audit", "verify"]));
    assert!(verified.starts_with("ok: the chain of") && verified.contains("entries is intact"), "{verified}");
}

#[test]
fn audit_verify_fails_and_names_the_broken_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    province_and_department(d, "Sở A");
    ok(kho(
        d,
        &[
            "agency",
            "create",
            "--code",
            "000.00.02.H24",
            "--name",
            "Sở B",
            "--kind",
            "department",
            "--parent",
            "000.00.00.H24",
        ],
    ));

    let url = format!("sqlite://{}/kho.db", d.display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let out = kho(d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("BROKEN: entry 2 was altered"), "{stdout}");
}

#[test]
fn resources_are_registered_listed_and_published_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(kho(d, &["agency", "create", "--code", "000.00.00.H24", "--name", "UBND tỉnh", "--kind", "province"]));
    let created = ok(kho(
        d,
        &[
            "resource",
            "create",
            "--title",
            "Bảng giá đất 2025",
            "--agency",
            "000.00.00.H24",
            "--scope",
            "open",
            "--keywords",
            "đất đai, giá đất",
            "--theme",
            "đất đai",
        ],
    ));
    assert!(created.contains("created data resource bang-gia-dat-2025"), "{created}");

    // `show` prints JSON that, without its stored-only fields, is a valid description.
    let mut shown: serde_json::Value =
        serde_json::from_str(&ok(kho(d, &["resource", "show", "bang-gia-dat-2025"]))).unwrap();
    assert_eq!(shown["keywords"], serde_json::json!(["đất đai", "giá đất"]));
    let body = shown.as_object_mut().unwrap();
    for stored in ["id", "slug", "status", "created_at", "updated_at", "published_at"] {
        body.remove(stored);
    }
    body.insert("title".into(), "Giá đất nông nghiệp".into());
    let json = dir.path().join("r.json");
    std::fs::write(&json, serde_json::to_string(&body).unwrap()).unwrap();
    let from_file = ok(kho(d, &["resource", "create", "--from", json.to_str().unwrap()]));
    assert!(from_file.contains("created data resource gia-dat-nong-nghiep"), "{from_file}");

    let refused = kho(
        d,
        &[
            "resource",
            "create",
            "--title",
            "Hộ nghèo",
            "--agency",
            "000.00.00.H24",
            "--scope",
            "open",
            "--personal-data",
            "basic",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("open data must not hold personal data"));

    assert!(ok(kho(d, &["resource", "status", "bang-gia-dat-2025", "published"])).contains("is now published"));
    let list = ok(kho(d, &["resource", "list", "--status", "published"]));
    assert!(list.contains("bang-gia-dat-2025") && !list.contains("gia-dat-nong-nghiep"), "{list}");
    let found = ok(kho(d, &["resource", "list", "--q", "GIA DAT"]));
    assert_eq!(found.lines().count(), 3, "a header and both resources: {found}");
}

#[test]
fn one_command_takes_a_file_to_a_versioned_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(kho(d, &["agency", "create", "--code", "000.00.00.H24", "--name", "UBND tỉnh", "--kind", "province"]));
    let csv = d.join("gia-dat-2025.csv");
    std::fs::write(&csv, "Mã xã;Vị trí;Giá (đồng/m2);Ngày áp dụng\n07210;Đường Hùng Vương;25.000.000;01/01/2025\n07228;Đường Lê Lợi;18.500.000;01/01/2025\n").unwrap();
    let out = Command::new(KHO)
        .arg("--data-dir")
        .arg(d)
        .args(["ingest"])
        .arg(&csv)
        .args(["--resource", "gia-dat"])
        .output()
        .unwrap();
    let stdout = ok(out.clone());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("created data resource gia-dat as a private draft"), "{stderr}");
    assert!(stdout.contains("loaded 2 rows, 4 columns into gia-dat/main as version 1"), "{stdout}");
    assert!(stdout.contains("gia_dong_m2") && stdout.contains("integer"), "{stdout}");

    std::fs::write(&csv, "Mã xã;Vị trí;Giá (đồng/m2);Ngày áp dụng\n07246;Xã Xuân Lương;900.000;01/07/2025\n").unwrap();
    let appended = ok(kho(d, &["ingest", csv.to_str().unwrap(), "--resource", "gia-dat", "--mode", "append"]));
    assert!(appended.contains("as version 2"), "{appended}");
    let versions = ok(kho(d, &["versions", "gia-dat"]));
    let lines: Vec<&str> = versions.lines().collect();
    assert_eq!(lines.len(), 3, "{versions}");
    assert!(lines[1].starts_with("2 ") && lines[1].contains("append") && lines[1].contains("operator"), "{versions}");
    assert!(lines[1].contains("           3  "), "three rows after the append: {versions}");

    // Declared types, and bad rows set aside in a file of their own.
    std::fs::write(&csv, "BẢNG GIÁ BỔ SUNG;\nMã xã;Giá\n07210;1.000\n07228;không rõ\n").unwrap();
    let rejects = d.join("loi.csv");
    let args = ["--resource", "gia-dat", "--table", "bo_sung", "--schema", "Giá:integer", "--rejects"];
    let out = ok(kho(d, &[&["ingest", csv.to_str().unwrap()], args.as_slice(), &[rejects.to_str().unwrap()]].concat()));
    assert!(out.contains("loaded 1 rows") && out.contains("header on row 2"), "{out}");
    assert!(out.contains("rejected 1 rows with bad cells"), "{out}");
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(rejected.contains("\n4,Giá,không rõ,a whole number such as 1.234.567,07228,không rõ\n"), "{rejected}");

    // The table answers SQL at once, in each output format; writes are refused.
    let sql = "SELECT ma_xa, gia_dong_m2 FROM gia_dat.main WHERE gia_dong_m2 > 1000000 ORDER BY ma_xa";
    let table = ok(kho(d, &["query", sql]));
    assert!(table.contains("| ma_xa | gia_dong_m2 |") && table.contains("| 07210 | 25000000    |"), "{table}");
    assert_eq!(ok(kho(d, &["query", sql, "--format", "csv"])), "ma_xa,gia_dong_m2\n07210,25000000\n07228,18500000\n");
    let json: serde_json::Value = serde_json::from_str(&ok(kho(d, &["query", sql, "--format", "json"]))).unwrap();
    assert_eq!(json[1]["gia_dong_m2"], 18500000);
    assert_eq!(ok(kho(d, &["search", "reindex"])), "indexed 0 open datasets\n", "a draft is not open data");
    let refused = kho(d, &["query", "DELETE FROM gia_dat.main"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("DELETE is refused"));

    std::fs::write(&csv, "Mã xã;Giá\n07210;không rõ\n").unwrap();
    let bad = kho(d, &["ingest", csv.to_str().unwrap(), "--resource", "gia-dat", "--mode", "append"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("columns do not match"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// Runs `kho ARGS…` with `stdin`, in an empty directory and with no KHO_* settings (for
/// the commands that need no store).
pub fn kho_piped(args: &[&str], stdin: &str) -> (Output, tempfile::TempDir) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(KHO);
    command.args(args).current_dir(dir.path());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KHO_") {
            command.env_remove(name);
        }
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (output, dir)
}
