//! A subsystem's client certificates from the command line: registered, listed and
//! revoked on the store; a revoked one is neither revoked nor registered again.

use crate::{kho, ok, province_and_department};
use std::path::Path;
use std::process::Command;

const ETL: &str = "VN/GOV/000.00.01.H24/ETL";

/// A self-signed client certificate made with openssl, as an operator would, and its
/// SHA-256 fingerprint as openssl prints it (`AB:CD:…`).
fn certificate(dir: &Path) -> (String, String) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "etl.key"];
    run(&[&["req", "-x509", "-days", "2", "-subj", "/CN=kho-etl", "-out", "etl.pem"], key.as_slice()].concat());
    let printed = run(&["x509", "-noout", "-fingerprint", "-sha256", "-in", "etl.pem"]);
    let fingerprint = printed.trim().split_once('=').unwrap_or_else(|| panic!("a fingerprint: {printed}")).1;
    (dir.join("etl.pem").to_str().unwrap().to_string(), fingerprint.to_string())
}

#[test]
fn certificates_are_registered_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    province_and_department(d, "Sở KH&CN");
    ok(kho(d, &["subsystem", "create", ETL, "--agency", "000.00.01.H24"]));
    let (pem, printed) = certificate(d);
    let fingerprint = printed.replace(':', "").to_lowercase();

    let none = kho(d, &["subsystem", "certificates", ETL]);
    let stderr = String::from_utf8_lossy(&none.stderr).into_owned();
    assert_eq!(ok(none), "");
    assert!(
        stderr.contains(&format!("no certificate yet; create one with `kho subsystem certificate {ETL} --cert FILE`")),
        "{stderr}"
    );

    let registered = ok(kho(d, &["subsystem", "certificate", ETL, "--cert", &pem, "--label", "etl server"]));
    assert_eq!(registered, format!("registered certificate {fingerprint} for {ETL}\n"));
    let listed = ok(kho(d, &["subsystem", "certificates", ETL]));
    let line = listed.lines().collect::<Vec<_>>();
    assert_eq!(line.len(), 1, "{listed}");
    assert!(line[0].starts_with(&format!("{fingerprint}  etl server ")), "{listed}");
    assert!(line[0].contains(" added 20") && line[0].ends_with("  active"), "{listed}");

    // Revoked by the fingerprint as openssl prints it; listed as revoked, with when.
    let revoked = ok(kho(d, &["subsystem", "revoke-certificate", ETL, &printed]));
    assert_eq!(revoked, format!("revoked certificate {fingerprint} of {ETL}\n"));
    let listed = ok(kho(d, &["subsystem", "certificates", ETL]));
    assert!(listed.starts_with(&fingerprint) && listed.contains("  revoked 20"), "{listed}");
    assert!(!listed.contains("active"), "{listed}");

    // Revoking it again, registering it again, or a certificate it does not have all fail, saying why.
    let fails = |args: &[&str], says: &str| {
        let out = kho(d, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    };
    fails(
        &["subsystem", "revoke-certificate", ETL, &fingerprint],
        &format!("the certificate {fingerprint} was already revoked at 20"),
    );
    fails(&["subsystem", "certificate", ETL, "--cert", &pem], "already registered");
    let unknown = "0".repeat(64);
    fails(
        &["subsystem", "revoke-certificate", ETL, &unknown],
        &format!("certificate {unknown} of this subsystem not found"),
    );
    fails(&["subsystem", "certificates", "VN/GOV/000.00.01.H24/NOPE"], "subsystem VN/GOV/000.00.01.H24/NOPE not found");
}
