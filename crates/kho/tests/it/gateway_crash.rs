//! A node killed (SIGKILL) while it serves gateway calls keeps the message-log record
//! of every call it answered: the records were in its journal — a mapped segment file —
//! and `kho audit verify --messages` moves what the node left there before verifying.
//! Also `kho audit archive --messages` on a stopped node's log, as an operator runs it.

use super::{kho, ok, serve};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROVINCE: &str = "000.00.00.H24";
const CONSUMER: &str = "VN/GOV/000.00.00.H24/CRASH-CONSUMER";
const PROVIDER: &str = "VN/GOV/000.00.00.H24/CRASH-PROVIDER";
const CALLERS: u64 = 4;

/// A backend that answers every HTTP/1.1 request on a kept-alive connection with `{}`.
fn backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut line = String::new();
                    // The request line and headers, up to the empty line (GET: no body).
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// The record count of an intact log, from `kho audit verify --messages`.
fn verified_records(d: &std::path::Path) -> u64 {
    let out = ok(kho(d, &["audit", "verify", "--messages"]));
    let line = out.lines().find(|l| l.starts_with("ok: ")).unwrap_or_else(|| panic!("not intact: {out}"));
    let count = line.split(" records").next().and_then(|s| s.rsplit(' ').next()).unwrap();
    count.replace(',', "").parse().unwrap_or_else(|_| panic!("no record count in {line:?}"))
}

/// A new data dir where a consumer may call an echo service of a provider, and the
/// consumer's token.
fn echo_service_and_agreement() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(kho(d, &["agency", "create", "--code", PROVINCE, "--name", "UBND tỉnh Bắc Ninh", "--kind", "province"]));
    let token = ok(kho(d, &["subsystem", "create", CONSUMER, "--agency", PROVINCE])).trim().to_string();
    ok(kho(d, &["subsystem", "create", PROVIDER, "--agency", PROVINCE]));
    let backend = format!("http://{}", backend());
    ok(kho(d, &["service", "add", "--provider", PROVIDER, "--code", "echo", "--backend", &backend]));
    let service = format!("{PROVIDER}/echo");
    let agreement = ["agreement", "add", "--consumer", CONSUMER, "--service", &service, "--endpoints", "GET /*"];
    ok(kho(d, &[&agreement[..], &["--purpose", "audit", "--rate", "100000/s", "--approve"]].concat()));
    (dir, token)
}

/// The consumer's call of the echo service at `url`.
fn echo_call(
    client: &reqwest::blocking::Client,
    url: &str,
    token: &str,
) -> reqwest::Result<reqwest::blocking::Response> {
    client.get(url).header("X-Road-Client", CONSUMER).header("X-Road-Purpose", "audit").bearer_auth(token).send()
}

#[test]
fn a_killed_node_keeps_the_record_of_every_call_it_answered() {
    let (dir, token) = echo_service_and_agreement();
    let d = dir.path();

    let (mut child, url, _) = serve(d);
    let call = format!("{url}/r1/{PROVIDER}/echo/rows/1");
    let (answered, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (call, token, answered, stop) = (call.clone(), token.clone(), answered.clone(), stop.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = echo_call(&client, &call, &token).and_then(|r| Ok((r.status(), r.bytes()?)));
                    match sent {
                        Ok((status, body)) => {
                            assert_eq!((status.as_u16(), &body[..]), (200, &b"{}"[..]), "an agreed call is answered");
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        // The node was killed under this call.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while answered.load(Ordering::Relaxed) < 2_000 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.join().unwrap();
    }
    let answered = answered.load(Ordering::Relaxed);
    assert!(answered >= 100, "the node answered calls before it was killed ({answered})");

    let records = verified_records(d);
    // A call whose record was journaled but whose answer the kill cut off is in the
    // log too: at most one a caller.
    assert!(
        (answered..=answered + CALLERS).contains(&records),
        "{records} records for {answered} answered calls from {CALLERS} callers"
    );
}

/// A failed `kho` run: its stderr.
fn fails(output: std::process::Output) -> String {
    assert!(!output.status.success(), "kho should have failed: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_operator_archives_a_stopped_nodes_log_and_checks_the_file_offline() {
    let (dir, token) = echo_service_and_agreement();
    let d = dir.path();
    let (mut child, url, _) = serve(d);
    let client = reqwest::blocking::Client::new();
    for _ in 0..20 {
        assert_eq!(echo_call(&client, &format!("{url}/r1/{PROVIDER}/echo/rows/1"), &token).unwrap().status(), 200);
    }
    // A graceful stop signs a checkpoint over the last record.
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());

    let file = d.join("nhat-ky-2026.ndjson");
    let archive =
        |before: &str| kho(d, &["audit", "archive", "--messages", "--before", before, "--out", file.to_str().unwrap()]);
    let e = fails(archive("30/11/2026"));
    assert!(e.contains("before") && e.contains("neither a day"), "{e}");
    let e = fails(archive("2000-01-01"));
    assert!(e.contains("nothing to archive yet"), "{e}");
    assert!(!file.exists());

    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    // What an interrupted archive left beside the file is written over.
    let partial = d.join(".nhat-ky-2026.ndjson.partial");
    std::fs::write(&partial, "{\"format\":\"cut short\"}").unwrap();
    let archived = archive(&tomorrow);
    let steps = String::from_utf8_lossy(&archived.stderr).into_owned();
    let out = ok(archived);
    for step in ["verifying the message log", "writing records 1 to 20 into", "removing records 1 to 20 from the store"]
    {
        assert!(steps.contains(step), "each step is shown as it starts: {steps}");
    }
    assert!(out.contains("archived records 1 to 20 (20 records)"), "{out}");
    let sha = out.lines().find_map(|l| l.strip_prefix("sha256 ")).expect("the file's SHA-256");
    assert!(!partial.exists(), "the partial file became the archive");
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap())));
    let e = fails(archive(&tomorrow));
    assert!(e.contains("no checkpoint was signed after record 20"), "archived once: {e}");

    let verified = ok(kho(d, &["audit", "verify", "--messages"]));
    assert!(verified.contains("ok: intact: 0 records after record 20, where a signed checkpoint ends"), "{verified}");
    assert!(verified.contains("records 1 to 20 are archived in 1 file(s)"), "{verified}");
    let offline = ok(kho(d, &["audit", "verify", "--bundle", file.to_str().unwrap()]));
    assert!(offline.contains("ok: intact: 20 records, 1 signed checkpoints"), "{offline}");

    // The echo service serves no personal data: nobody's access report has a line. The
    // report searches the archive where it was written, and says so; moved elsewhere,
    // the file is named as missing, and a copy given with --bundle is searched.
    let access = kho(d, &["audit", "access", "--subject", "027050001234"]);
    let said = String::from_utf8_lossy(&access.stderr).into_owned();
    assert_eq!(ok(access), "");
    assert!(said.contains("archive of records 1 to 20: searched, 0 exchange(s) found"), "{said}");
    assert!(said.contains("nobody was served"), "{said}");
    let moved = dir.path().join("elsewhere.ndjson");
    std::fs::rename(&file, &moved).unwrap();
    let access = kho(d, &["audit", "access", "--subject", "027050001234", "--bundle", moved.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&access.stderr).into_owned();
    assert_eq!(ok(access), "");
    assert!(said.contains("archive of records 1 to 20: not searched: the file is not on this node at"), "{said}");
    assert!(said.contains("nobody was served"), "{said}");
}
