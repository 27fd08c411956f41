//! Nhật ký thông điệp — the sharing gateway's message log: one [`MessageRecord`] per
//! exchanged request, chained by SHA-256 ([`seal_chain`]), anchored by checkpoints the node
//! signs with its Ed25519 key ([`NodeKey`]), verified as a stream ([`ChainVerifier`]) or from
//! an exported bundle ([`BundleWriter`], [`verify_bundle`]). Bodies are sealed with
//! ChaCha20-Poly1305 ([`SealKey`]); data subjects are kept as keyed digests
//! ([`subject_digest`]). No network; file IO only for the key files. See ADR 0008.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::Path;

use crate::health::Outcome;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use kho_core::time;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of record 1: 64 zeros, as in the audit chain.
pub const GENESIS_HASH: &str = kho_core::audit::GENESIS_HASH;

/// The first line's `format` of an exported bundle.
pub const BUNDLE_FORMAT: &str = "kho-message-log-bundle/1";

/// One exchanged request as the gateway logged it (bản ghi thông điệp).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MessageRecord {
    pub seq: i64,
    /// `X-Road-Id`.
    pub message_id: String,
    /// `X-Road-Request-Id`, unique per request.
    pub request_id: String,
    /// Consumer subsystem `INSTANCE/CLASS/MEMBER/SUBSYSTEM`, `""` when unknown.
    pub client: String,
    /// `INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICECODE`, `""` when unknown.
    pub service: String,
    pub method: String,
    /// The path after the service code, with the query.
    pub path: String,
    /// `X-Road-Purpose`, `""` when absent.
    pub purpose: String,
    pub agreement_id: Option<String>,
    /// `X-Road-UserId`.
    pub user_id: Option<String>,
    /// `X-Road-Issue`.
    pub issue: Option<String>,
    #[serde(with = "time::canonical")]
    pub request_in_ts: DateTime<Utc>,
    #[serde(with = "time::canonical::option", default)]
    pub request_out_ts: Option<DateTime<Utc>>,
    #[serde(with = "time::canonical::option", default)]
    pub response_in_ts: Option<DateTime<Utc>>,
    #[serde(with = "time::canonical")]
    pub response_out_ts: DateTime<Utc>,
    pub request_size: i64,
    pub response_size: i64,
    pub status_code: u16,
    pub succeeded: bool,
    pub fault_code: Option<String>,
    pub fault_string: Option<String>,
    /// `X-Road-Request-Hash`.
    pub request_hash: String,
    /// Digests of the data subjects' identifiers served ([`subject_digest`]).
    pub subjects: Vec<String>,
    /// Sealed request/response bodies ([`SealKey::seal`]), when the service logs bodies.
    pub body: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl MessageRecord {
    /// Lowercase hex SHA-256 of the UTF-8 bytes of this compact JSON array (no whitespace;
    /// only `"`, `\` and control characters escaped, as Python's
    /// `json.dumps(a, separators=(",", ":"), ensure_ascii=False)` writes it):
    /// `["kho-message-record/1", seq, message_id, request_id, client, service, method, path,
    /// purpose, agreement_id, user_id, issue, request_in_ts, request_out_ts, response_in_ts,
    /// response_out_ts, request_size, response_size, status_code, succeeded, fault_code,
    /// fault_string, request_hash, [subjects…], body, prev_hash]` — absent options are
    /// `null`, timestamps are their canonical text (`2026-01-31T08:00:00.000000Z`). The
    /// part from `message_id` to `body` is [`MessageRecord::fields_text`].
    pub fn compute_hash(&self) -> String {
        chain_hash(self.seq, &self.fields_text(), &self.prev_hash)
    }

    /// The record's fields from `message_id` to `body` as the compact JSON array the hash
    /// covers (without the seq and the previous hash, which the log adds when it chains
    /// the record): the form the journal and the store keep a record in.
    pub fn fields_text(&self) -> String {
        // A record's fields take a few hundred bytes: one allocation, not a doubling series.
        let mut text = String::with_capacity(512);
        write_fields(self, &mut text);
        text
    }

    /// The record whose [`fields_text`](MessageRecord::fields_text) is `fields`, with its
    /// place in the chain.
    pub fn from_fields(seq: i64, fields: &str, prev_hash: String, hash: String) -> Result<MessageRecord, String> {
        let f: OwnedFields =
            serde_json::from_str(fields).map_err(|e| format!("not the fields of a message record: {e}"))?;
        Ok(MessageRecord {
            seq,
            message_id: f.0,
            request_id: f.1,
            client: f.2,
            service: f.3,
            method: f.4,
            path: f.5,
            purpose: f.6,
            agreement_id: f.7,
            user_id: f.8,
            issue: f.9,
            request_in_ts: f.10,
            request_out_ts: f.11,
            response_in_ts: f.12,
            response_out_ts: f.13,
            request_size: f.14,
            response_size: f.15,
            status_code: f.16,
            succeeded: f.17,
            fault_code: f.18,
            fault_string: f.19,
            request_hash: f.20,
            subjects: f.21,
            body: f.22,
            prev_hash,
            hash,
        })
    }

    /// The record as the log writer carries it: its fields written once, as text.
    pub fn into_entry(self) -> LogEntry {
        let fields = self.fields_text();
        LogEntry { fields, ..self.into_entry_unwritten() }
    }

    /// [`MessageRecord::into_entry`] without writing the fields (the caller has them).
    fn into_entry_unwritten(self) -> LogEntry {
        LogEntry {
            seq: 0,
            message_id: self.message_id,
            client: self.client,
            service: self.service,
            request_in_ts: self.request_in_ts,
            outcome: Outcome {
                succeeded: self.succeeded,
                response_out_ts: self.response_out_ts,
                request_size: self.request_size,
                response_size: self.response_size,
            },
            subjects: self.subjects,
            fields: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }
}

/// Bản ghi chờ ghi — a record on its way into the log: the text of its fields
/// ([`MessageRecord::fields_text`]), kept as it is by the journal and the store, and what
/// the store finds records by. The log numbers and chains it ([`seal_chain`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub seq: i64,
    pub message_id: String,
    pub client: String,
    pub service: String,
    pub request_in_ts: DateTime<Utc>,
    /// How the exchange ended: what its service's [health](crate::health) counts.
    pub outcome: Outcome,
    pub subjects: Vec<String>,
    pub fields: String,
    pub prev_hash: String,
    pub hash: String,
}

impl LogEntry {
    /// The entry of a record's fields text (as a journal line holds it).
    pub fn from_fields(fields: String) -> Result<LogEntry, String> {
        let r = MessageRecord::from_fields(0, &fields, String::new(), String::new())?;
        Ok(LogEntry { fields, ..r.into_entry_unwritten() })
    }
}

/// A record as the store keeps it: its place in the chain and its fields text, unread.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMessage {
    pub seq: i64,
    pub fields: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredMessage {
    /// The whole record, in its place in the chain.
    pub fn record(&self) -> Result<MessageRecord, String> {
        MessageRecord::from_fields(self.seq, &self.fields, self.prev_hash.clone(), self.hash.clone())
    }
}

/// What the chain check needs of a record, however it was read.
struct Link<'a> {
    seq: i64,
    prev_hash: &'a str,
    hash: &'a str,
}

/// The hash of record `seq` with fields text `fields` after the record hashed `prev_hash`
/// ([`MessageRecord::compute_hash`]), without parsing or writing the fields again.
pub fn chain_hash(seq: i64, fields: &str, prev_hash: &str) -> String {
    let inner = fields.strip_prefix('[').and_then(|f| f.strip_suffix(']')).unwrap_or(fields);
    let mut d = Sha256::new();
    write!(d, "[\"kho-message-record/1\",{seq},{inner},").expect("a hasher takes every byte");
    serde_json::to_writer(&mut d, prev_hash).expect("a string serialises");
    d.update(b"]");
    let mut text = [0u8; 64];
    hex::encode_to_slice(d.finalize(), &mut text).expect("64 hex digits for 32 bytes");
    std::str::from_utf8(&text).expect("hex digits are ASCII").to_owned()
}

/// The fields from `message_id` to `body` as their compact JSON array, written straight
/// into `out` — the very text `serde_json` writes for them (a test holds the two
/// together), without a serializer's call for every piece: the gateway writes one for
/// every call it serves.
fn write_fields(r: &MessageRecord, out: &mut String) {
    fn timestamp(out: &mut String, t: Option<&DateTime<Utc>>) {
        match t {
            Some(t) => json_text(out, time::Canonical::of(t).as_str()),
            None => out.push_str("null"),
        }
    }
    fn option(out: &mut String, text: Option<&str>) {
        match text {
            Some(text) => json_text(out, text),
            None => out.push_str("null"),
        }
    }
    out.push('[');
    for text in [&r.message_id, &r.request_id, &r.client, &r.service, &r.method, &r.path, &r.purpose] {
        json_text(out, text);
        out.push(',');
    }
    for text in [&r.agreement_id, &r.user_id, &r.issue] {
        option(out, text.as_deref());
        out.push(',');
    }
    for t in [Some(&r.request_in_ts), r.request_out_ts.as_ref(), r.response_in_ts.as_ref(), Some(&r.response_out_ts)] {
        timestamp(out, t);
        out.push(',');
    }
    let mut number = itoa::Buffer::new();
    for n in [r.request_size, r.response_size, i64::from(r.status_code)] {
        out.push_str(number.format(n));
        out.push(',');
    }
    out.push_str(if r.succeeded { "true," } else { "false," });
    for text in [&r.fault_code, &r.fault_string] {
        option(out, text.as_deref());
        out.push(',');
    }
    json_text(out, &r.request_hash);
    out.push_str(",[");
    for (i, subject) in r.subjects.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_text(out, subject);
    }
    out.push_str("],");
    option(out, r.body.as_deref());
    out.push(']');
}

/// `text` as a JSON string: only `"`, `\` and control characters escaped (the short
/// forms where JSON has them, else `\u00xx`), as `serde_json` and Python's `json.dumps(…,
/// ensure_ascii=False)` write it.
fn json_text(out: &mut String, text: &str) {
    fn escaped(b: u8) -> bool {
        b < 0x20 || b == b'"' || b == b'\\'
    }
    out.push('"');
    // Nearly every text has nothing to escape: a check of every byte (without stopping
    // early, which lets it run many bytes at a time) and one copy.
    if !text.bytes().fold(false, |any, b| any | escaped(b)) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if !escaped(b) {
            continue;
        }
        // `b` is ASCII: `i` and `i + 1` are character boundaries.
        out.push_str(&text[start..i]);
        start = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// The fields from `message_id` to `body` serialised by `serde_json`: what
/// [`write_fields`] is held to.
#[cfg(test)]
struct Fields<'a>(&'a MessageRecord);

#[cfg(test)]
impl Serialize for Fields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let r = self.0;
        let ts = time::Canonical::of;
        fn text(t: &Option<time::Canonical>) -> Option<&str> {
            t.as_ref().map(time::Canonical::as_str)
        }
        let mut a = s.serialize_tuple(23)?;
        a.serialize_element(&r.message_id)?;
        a.serialize_element(&r.request_id)?;
        a.serialize_element(&r.client)?;
        a.serialize_element(&r.service)?;
        a.serialize_element(&r.method)?;
        a.serialize_element(&r.path)?;
        a.serialize_element(&r.purpose)?;
        a.serialize_element(&r.agreement_id)?;
        a.serialize_element(&r.user_id)?;
        a.serialize_element(&r.issue)?;
        a.serialize_element(ts(&r.request_in_ts).as_str())?;
        a.serialize_element(&text(&r.request_out_ts.as_ref().map(ts)))?;
        a.serialize_element(&text(&r.response_in_ts.as_ref().map(ts)))?;
        a.serialize_element(ts(&r.response_out_ts).as_str())?;
        a.serialize_element(&r.request_size)?;
        a.serialize_element(&r.response_size)?;
        a.serialize_element(&r.status_code)?;
        a.serialize_element(&r.succeeded)?;
        a.serialize_element(&r.fault_code)?;
        a.serialize_element(&r.fault_string)?;
        a.serialize_element(&r.request_hash)?;
        a.serialize_element(&r.subjects)?;
        a.serialize_element(&r.body)?;
        a.end()
    }
}

/// [`Fields`] read back.
#[derive(Deserialize)]
struct OwnedFields(
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    #[serde(with = "time::canonical")] DateTime<Utc>,
    #[serde(with = "time::canonical::option")] Option<DateTime<Utc>>,
    #[serde(with = "time::canonical::option")] Option<DateTime<Utc>>,
    #[serde(with = "time::canonical")] DateTime<Utc>,
    i64,
    i64,
    u16,
    bool,
    Option<String>,
    Option<String>,
    String,
    Vec<String>,
    Option<String>,
);

/// Numbers `entries` `after_seq + 1, …` and links each to the one before, the first to
/// `after_hash` (the log's head, or [`GENESIS_HASH`] for a new log).
pub fn seal_chain(entries: &mut [LogEntry], after_seq: i64, after_hash: &str) {
    let (mut seq, mut prev) = (after_seq, after_hash.to_string());
    for e in entries {
        seq += 1;
        e.seq = seq;
        e.hash = chain_hash(seq, &e.fields, &prev);
        e.prev_hash = std::mem::replace(&mut prev, e.hash.clone());
    }
}

/// Khóa ký của nút — the node's Ed25519 signing key for checkpoints.
#[derive(Clone)]
pub struct NodeKey {
    key: SigningKey,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", self.public_hex())
    }
}

impl NodeKey {
    /// A fresh random key (tests, or before it is written with [`NodeKey::load_or_create`]).
    pub fn generate() -> NodeKey {
        NodeKey { key: SigningKey::from_bytes(&random_32()) }
    }

    /// Reads the 32-byte seed kept as 64 hex characters in `path`; creates the file (mode
    /// 0600, parent directories too) with a random seed when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<NodeKey, String> {
        Ok(NodeKey { key: SigningKey::from_bytes(&load_or_create_secret(path, "node signing key")?) })
    }

    /// The public key as 64 hex characters.
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// Signs `kho-message-log-checkpoint/1\n{seq}\n{hash}\n{at}` (`at` in canonical text).
    /// Signs `archive` (its `archived_at` is kept to the precision it is stored with).
    pub fn sign_archive(&self, archive: &mut MessageArchive) {
        archive.archived_at = time::parse(&time::format(&archive.archived_at)).unwrap_or(archive.archived_at);
        archive.signature = hex::encode(self.key.sign(archive.signed_message().as_bytes()).to_bytes());
    }

    pub fn sign_checkpoint(&self, seq: i64, hash: &str, at: DateTime<Utc>) -> Checkpoint {
        let at = time::parse(&time::format(&at)).unwrap_or(at);
        let signature = self.key.sign(checkpoint_message(seq, hash, &at).as_bytes());
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at,
            public_key: self.public_hex(),
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// A signed statement that the log's record `seq` had hash `hash` at time `at`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The signer's Ed25519 public key, 64 hex characters.
    pub public_key: String,
    /// The Ed25519 signature, 128 hex characters.
    pub signature: String,
}

/// Lưu trữ nhật ký — a run of the log moved out of the store into a bundle file (an
/// archive): the records after `start` through `end`, where a signed checkpoint stands.
/// The store keeps this row; verification of what it still holds starts after `end`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MessageArchive {
    pub start: Anchor,
    pub end: Anchor,
    pub records: i64,
    /// When the first and the last archived request came in.
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    /// When the checkpoint over `end` was signed.
    pub checkpoint_at: DateTime<Utc>,
    /// The bundle file as it was written (an absolute path on the node).
    pub file: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub archived_at: DateTime<Utc>,
    /// The node's Ed25519 signature (hex) over the range, the file's hash and the time
    /// ([`NodeKey::sign_archive`]): without the node's key, nobody can record an
    /// archive, so records cannot be removed from the store's log as if archived.
    pub signature: String,
}

impl MessageArchive {
    fn signed_message(&self) -> String {
        format!(
            "kho-message-log-archive/1\n{}\n{}\n{}\n{}\n{}\n{}",
            self.start.seq,
            self.start.hash,
            self.end.seq,
            self.end.hash,
            self.sha256,
            time::format(&self.archived_at)
        )
    }

    /// What the archive holds, for messages: "records 3 to 5".
    fn range(&self) -> String {
        format!("records {} to {}", self.start.seq + 1, self.end.seq)
    }

    /// Checks that the node with the key `public_hex` signed this archive.
    pub fn verify(&self, public_hex: &str) -> Result<(), String> {
        verify_signed(public_hex, &self.signed_message(), &self.signature, &format!("the archive of {}", self.range()))
    }
}

fn checkpoint_message(seq: i64, hash: &str, at: &DateTime<Utc>) -> String {
    format!("kho-message-log-checkpoint/1\n{seq}\n{hash}\n{}", time::format(at))
}

impl Checkpoint {
    /// Checks that the checkpoint was signed by the trusted key and that its signature holds.
    pub fn verify(&self, trusted_public_hex: &str) -> Result<(), String> {
        if !self.public_key.eq_ignore_ascii_case(trusted_public_hex.trim()) {
            return Err(format!(
                "checkpoint {} was signed by key {}, not by the trusted key {}",
                self.seq, self.public_key, trusted_public_hex
            ));
        }
        self.verify_signature()
    }

    fn verify_signature(&self) -> Result<(), String> {
        let message = checkpoint_message(self.seq, &self.hash, &self.at);
        verify_signed(&self.public_key, &message, &self.signature, &format!("checkpoint {}", self.seq))
    }
}

/// Checks an Ed25519 signature (hex) of `message` by the key `public_hex`; errors name
/// `what` was signed.
fn verify_signed(public_hex: &str, message: &str, signature_hex: &str, what: &str) -> Result<(), String> {
    let key = decode_hex::<32>(public_hex)
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| format!("{what} has a malformed public key"))?;
    let signature = decode_hex::<64>(signature_hex)
        .map(|b| Signature::from_bytes(&b))
        .ok_or_else(|| format!("{what} has a malformed signature"))?;
    key.verify_strict(message.as_bytes(), &signature)
        .map_err(|_| format!("the signature of {what} does not verify with key {public_hex}"))
}

/// Where and why the log stopped verifying.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MessageBreak {
    pub seq: i64,
    pub reason: String,
}

/// A point of the chain: a record's seq and hash (seq 0 with [`GENESIS_HASH`] is the
/// start of the log).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl Anchor {
    pub fn genesis() -> Anchor {
        Anchor { seq: 0, hash: GENESIS_HASH.to_string() }
    }
}

/// What verifying a log found.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub intact: bool,
    /// Records checked: those after `start`.
    pub records: i64,
    /// Where the checked records begin: the log's start, or the end of what was
    /// archived ([`crate::archive`]) before them.
    pub start: Anchor,
    /// The last record checked.
    pub end: Anchor,
    /// Checkpoints whose hash and signature were checked.
    pub checkpoints: i64,
    /// Records after the last checkpoint: anchored only by the head row.
    pub unsigned_tail: i64,
    /// The key the checkpoints were checked with.
    pub public_key: Option<String>,
    pub first_break: Option<MessageBreak>,
    pub message: String,
}

/// Verifies a log fed record by record in `seq` order, so it can be streamed in pages.
pub struct ChainVerifier {
    key: Option<String>,
    key_trusted: bool,
    pending: VecDeque<Checkpoint>,
    checked: i64,
    start: Anchor,
    last_seq: i64,
    last_hash: String,
    last_checkpoint_seq: i64,
    first_break: Option<MessageBreak>,
}

impl ChainVerifier {
    /// Checkpoints are checked against `trusted_public_hex`; without it, against the key
    /// the first checkpoint names, and the report says that key was not checked.
    pub fn new(trusted_public_hex: Option<String>) -> ChainVerifier {
        let key_trusted = trusted_public_hex.is_some();
        ChainVerifier::with_key(trusted_public_hex, key_trusted)
    }

    fn with_key(key: Option<String>, key_trusted: bool) -> ChainVerifier {
        ChainVerifier {
            key: key.map(|k| k.trim().to_ascii_lowercase()),
            key_trusted,
            pending: VecDeque::new(),
            checked: 0,
            start: Anchor::genesis(),
            last_seq: 0,
            last_hash: GENESIS_HASH.to_string(),
            last_checkpoint_seq: 0,
            first_break: None,
        }
    }

    /// Starts the chain after `start` instead of at the log's beginning: the records up
    /// to it were archived, and the first record pushed must follow it. Call before the
    /// first push; checkpoints at or before `start` are not expected.
    fn start_after(&mut self, start: Anchor) {
        self.last_seq = start.seq;
        self.last_hash = start.hash.clone();
        self.last_checkpoint_seq = start.seq;
        self.pending.retain(|c| c.seq > start.seq);
        self.start = start;
    }

    /// Starts after the log's archives (oldest first), which the store keeps in place
    /// of the records they hold: each must follow the one before it from the log's
    /// start and be signed by the node's key, and the last must end where the node
    /// signed one of `checkpoints`. An archive row that fails any of these is a way of
    /// hiding removed records and breaks the log. Without archives, nothing changes.
    pub fn start_after_archives(&mut self, archives: &[MessageArchive], checkpoints: &[Checkpoint]) {
        let Some(last) = archives.last() else { return };
        let signed = checkpoints.iter().find(|c| c.seq == last.end.seq);
        let problem = self.archives_problem(archives, signed);
        self.start_after(last.end.clone());
        if let Some((seq, problem)) = problem {
            self.first_break = Some(MessageBreak { seq, reason: format!("{problem}: records may have been removed") });
        }
    }

    fn archives_problem(&mut self, archives: &[MessageArchive], signed: Option<&Checkpoint>) -> Option<(i64, String)> {
        let mut previous = Anchor::genesis();
        for a in archives {
            if a.start != previous {
                let after = previous.seq;
                return Some((after + 1, format!("the archive of {} does not follow record {after}", a.range())));
            }
            let Some(key) = self.key.clone() else {
                return Some((a.start.seq + 1, format!("no trusted key to check the archive of {} with", a.range())));
            };
            if let Err(e) = a.verify(&key) {
                return Some((a.start.seq + 1, e));
            }
            previous = a.end.clone();
        }
        let end = previous;
        let problem = match signed {
            None => "no checkpoint was signed over that record".to_string(),
            Some(cp) if cp.seq != end.seq || cp.hash != end.hash => {
                format!("the checkpoint signed over record {} names hash {}, not {}", cp.seq, cp.hash, end.hash)
            }
            Some(cp) => self.check_signature(cp).err()?,
        };
        Some((end.seq, format!("the log is recorded as archived through record {}, but {problem}", end.seq)))
    }

    /// The checkpoints to check as their records are pushed (call before the first push).
    pub fn expect_checkpoints(&mut self, mut cps: Vec<Checkpoint>) {
        cps.retain(|c| c.seq > self.start.seq);
        cps.sort_by_key(|c| c.seq);
        self.pending.extend(cps);
    }

    /// The last record pushed (the start when none was).
    pub fn end(&self) -> Anchor {
        Anchor { seq: self.last_seq, hash: self.last_hash.clone() }
    }

    /// Checks the end of one part of a log verified in parts (an archive bundle): every
    /// checkpoint it named was reached and `head` names its last record. The next
    /// part's records follow on.
    fn close_part(&mut self, head: (i64, String)) {
        if self.first_break.is_none() {
            self.first_break = self.check_end(Some(head)).err();
        }
    }

    /// Whether a break was found so far.
    pub fn broken(&self) -> bool {
        self.first_break.is_some()
    }

    /// Checks the next record. After the first break every push returns that break.
    pub fn push(&mut self, r: &MessageRecord) -> Result<(), MessageBreak> {
        self.push_link(Link { seq: r.seq, prev_hash: &r.prev_hash, hash: &r.hash }, || r.compute_hash())
    }

    /// Checks the next record as the store keeps it: its hash is taken over its fields
    /// text as it is. A text written otherwise than the gateway writes it (a log carried
    /// over from the store's earlier columns) is read and written again first; a text
    /// that no longer reads as a record is an altered record.
    pub fn push_stored(&mut self, r: &StoredMessage) -> Result<(), MessageBreak> {
        self.push_link(Link { seq: r.seq, prev_hash: &r.prev_hash, hash: &r.hash }, || {
            let as_stored = chain_hash(r.seq, &r.fields, &r.prev_hash);
            if as_stored == r.hash {
                return as_stored;
            }
            r.record().map_or(as_stored, |record| record.compute_hash())
        })
    }

    fn push_link(&mut self, link: Link<'_>, compute_hash: impl FnOnce() -> String) -> Result<(), MessageBreak> {
        if let Some(b) = &self.first_break {
            return Err(b.clone());
        }
        self.check(link, compute_hash).map_err(|b| self.first_break.insert(b).clone())
    }

    fn check(&mut self, r: Link<'_>, compute_hash: impl FnOnce() -> String) -> Result<(), MessageBreak> {
        let (last, next) = (self.last_seq, self.last_seq + 1);
        let gap = |reason: String| Err(MessageBreak { seq: next, reason });
        if r.seq < next {
            return gap(format!("record {} appears out of order: it follows record {last}", r.seq));
        } else if r.seq == next + 1 {
            return gap(format!("record {next} is missing: record {} follows record {last}", r.seq));
        } else if r.seq > next {
            return gap(format!("records {next} to {} are missing: record {} follows record {last}", r.seq - 1, r.seq));
        }
        let broken = |reason: String| Err(MessageBreak { seq: r.seq, reason });
        if r.prev_hash != self.last_hash {
            return broken(format!("record {next} does not follow record {last} (its prev_hash is {})", r.prev_hash));
        }
        let computed = compute_hash();
        if computed != r.hash {
            return broken(format!("record {next} was altered: its fields hash to {computed} but it says {}", r.hash));
        }
        self.last_seq = r.seq;
        self.last_hash = r.hash.to_string();
        while self.pending.front().is_some_and(|c| c.seq <= r.seq) {
            let cp = self.pending.pop_front().expect("front checked above");
            self.check_checkpoint(&cp, &r)?;
        }
        Ok(())
    }

    fn check_checkpoint(&mut self, cp: &Checkpoint, r: &Link<'_>) -> Result<(), MessageBreak> {
        let broken = |reason: String| Err(MessageBreak { seq: cp.seq, reason });
        if cp.seq != r.seq {
            return broken(format!("checkpoint {} names no record of the log", cp.seq));
        }
        self.check_signature(cp).or_else(broken)?;
        if cp.hash != r.hash {
            return broken(format!(
                "record {} hashes to {} but checkpoint {} was signed over {}: the log was rewritten after it was signed",
                r.seq, r.hash, cp.seq, cp.hash
            ));
        }
        self.checked += 1;
        self.last_checkpoint_seq = cp.seq;
        Ok(())
    }

    fn check_signature(&mut self, cp: &Checkpoint) -> Result<(), String> {
        let key = self.key.get_or_insert_with(|| cp.public_key.to_ascii_lowercase());
        cp.verify(key)
    }

    /// Ends the stream: every checkpoint must have been reached and `head` (the head row's
    /// last seq and hash, when known) must name the last record.
    pub fn finish(mut self, head: Option<(i64, String)>) -> VerifyReport {
        if self.first_break.is_none() {
            self.first_break = self.check_end(head).err();
        }
        let (records, checkpoints) = (self.last_seq - self.start.seq, self.checked);
        let unsigned_tail = self.last_seq - self.last_checkpoint_seq;
        let after = match self.start.seq {
            0 => String::new(),
            seq => format!(" after record {}", thousands(seq)),
        };
        let message = match &self.first_break {
            Some(b) => format!("broken at record {}: {}", b.seq, b.reason),
            None if records == 0 && self.start.seq > 0 => {
                format!("intact: 0 records{after}, where a signed checkpoint ends what was archived")
            }
            None if checkpoints == 0 => format!(
                "intact: {} records{after}, no signed checkpoint (nothing outside the database anchors them)",
                thousands(records)
            ),
            None => {
                let mut m = format!(
                    "intact: {} records{after}, {} signed checkpoints, {} records after the last checkpoint",
                    thousands(records),
                    thousands(checkpoints),
                    thousands(unsigned_tail)
                );
                if !self.key_trusted {
                    let key = self.key.as_deref().unwrap_or_default();
                    m.push_str(&format!("; the signing key {key} was not checked against a trusted key"));
                }
                m
            }
        };
        let end = self.end();
        VerifyReport {
            intact: self.first_break.is_none(),
            records,
            start: self.start,
            end,
            checkpoints,
            unsigned_tail,
            public_key: self.key,
            first_break: self.first_break,
            message,
        }
    }

    fn check_end(&mut self, head: Option<(i64, String)>) -> Result<(), MessageBreak> {
        let last = self.last_seq;
        if let Some(cp) = self.pending.pop_front() {
            let broken = |reason: String| MessageBreak { seq: cp.seq, reason };
            self.check_signature(&cp).map_err(broken)?;
            let s = cp.seq;
            return Err(broken(format!(
                "the log ends at record {last} but checkpoint {s} was signed over record {s}: records were removed"
            )));
        }
        match head {
            Some((seq, hash)) if seq != last || hash != self.last_hash => Err(MessageBreak {
                seq: seq.max(last),
                reason: if seq > last {
                    format!("the head row names record {seq} but the log ends at record {last}: records were removed")
                } else {
                    format!("the head row (record {seq}, hash {hash}) does not match the last record {last}")
                },
            }),
            _ => Ok(()),
        }
    }
}

/// `n` with its thousands grouped by commas, as the log's reports print counts.
pub fn thousands(n: i64) -> String {
    let digits: Vec<char> = n.to_string().chars().rev().collect();
    let groups: Vec<String> = digits.chunks(3).rev().map(|g| g.iter().rev().collect()).collect();
    groups.join(",")
}

#[derive(Serialize, Deserialize)]
struct BundleHeader {
    format: String,
    public_key: String,
    exported_at: String,
    node: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum BundleLine {
    /// The record the bundle's first record follows, when it is not the log's first
    /// (an archive after an earlier one, or an export of a log whose start was archived).
    Start(Anchor),
    Checkpoint(Checkpoint),
    Record(Box<MessageRecord>),
    Head(Anchor),
}

/// Writes an export bundle (NDJSON): a header line, the start when the records do not
/// begin the log, the checkpoints, the records in `seq` order, then the head — each line
/// `{"start":…}`, `{"checkpoint":…}`, `{"record":…}` or `{"head":…}`.
pub struct BundleWriter<W: Write> {
    w: W,
    records_started: bool,
}

impl<W: Write> BundleWriter<W> {
    /// Writes the header line naming the node's public key and the node; `start` is the
    /// record the bundle's records follow (`None`: they begin the log).
    pub fn new(mut w: W, public_key: &str, node: &str, start: Option<&Anchor>) -> std::io::Result<BundleWriter<W>> {
        let header = BundleHeader {
            format: BUNDLE_FORMAT.to_string(),
            public_key: public_key.to_string(),
            exported_at: time::format(&time::now()),
            node: node.to_string(),
        };
        write_line(&mut w, &header)?;
        if let Some(start) = start.filter(|s| s.seq > 0) {
            write_line(&mut w, &BundleLine::Start(start.clone()))?;
        }
        Ok(BundleWriter { w, records_started: false })
    }

    /// Writes a checkpoint; all checkpoints come before the first record.
    pub fn checkpoint(&mut self, cp: &Checkpoint) -> std::io::Result<()> {
        if self.records_started {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "checkpoints go before the records"));
        }
        write_line(&mut self.w, &BundleLine::Checkpoint(cp.clone()))
    }

    pub fn record(&mut self, r: &MessageRecord) -> std::io::Result<()> {
        self.records_started = true;
        write_line(&mut self.w, &BundleLine::Record(Box::new(r.clone())))
    }

    /// Writes the head line (the last record's seq and hash), flushes and returns the writer.
    pub fn finish(mut self, head: (i64, &str)) -> std::io::Result<W> {
        write_line(&mut self.w, &BundleLine::Head(Anchor { seq: head.0, hash: head.1.to_string() }))?;
        self.w.flush()?;
        Ok(self.w)
    }
}

fn write_line<W: Write, T: Serialize>(w: &mut W, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")
}

/// Verifies a bundle written by [`BundleWriter`] as it is read. `Err` only when the file
/// cannot be read or is not a well-formed bundle (naming the line); a broken chain is a
/// report with `intact: false`. Without a trusted key the bundle's own key is used.
pub fn verify_bundle<R: BufRead>(r: R, trusted_public_hex: Option<&str>) -> Result<VerifyReport, String> {
    verify_bundles(std::iter::once((String::new(), r)), trusted_public_hex)
}

/// Verifies bundles that continue one another — archives of the log in the order they
/// were made, then perhaps an export of what the store kept — as one chain: each
/// bundle's start must be the record the one before it ended with. `Err` names the
/// bundle and line of a file that is not a well-formed bundle. Without a trusted key,
/// the first bundle's key is used for all. An empty name stands for a lone bundle.
pub fn verify_bundles<R: BufRead>(
    bundles: impl IntoIterator<Item = (String, R)>,
    trusted_public_hex: Option<&str>,
) -> Result<VerifyReport, String> {
    let mut verifier: Option<ChainVerifier> = None;
    let mut head = None;
    for (name, r) in bundles {
        let at = |n: usize, what: String| match name.as_str() {
            "" => format!("line {n}: {what}"),
            name => format!("{name}, line {n}: {what}"),
        };
        let whole = if name.is_empty() { "the bundle" } else { name.as_str() };
        let mut lines = r.lines().enumerate().map(|(i, l)| (i + 1, l));
        let header: BundleHeader = match lines.next() {
            Some((n, line)) => {
                let line = line.map_err(|e| at(n, format!("cannot read the bundle: {e}")))?;
                serde_json::from_str(&line).map_err(|e| at(n, format!("not a message-log bundle header: {e}")))?
            }
            None => return Err(format!("{whole} is empty")),
        };
        if header.format != BUNDLE_FORMAT {
            return Err(at(1, format!("unknown bundle format {:?}, expected {BUNDLE_FORMAT:?}", header.format)));
        }
        let first = verifier.is_none();
        let v = verifier.get_or_insert_with(|| match trusted_public_hex {
            Some(key) => ChainVerifier::new(Some(key.to_string())),
            None => ChainVerifier::with_key(Some(header.public_key.clone()), false),
        });
        if let Some((seq, hash)) = head.take() {
            v.close_part((seq, hash));
        }
        let (mut checkpoints, mut records_started, mut start) = (Vec::new(), false, Anchor::genesis());
        for (n, line) in lines {
            let line = line.map_err(|e| at(n, format!("cannot read the bundle: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            if head.is_some() {
                return Err(at(n, "the bundle goes on after its head line".into()));
            }
            match serde_json::from_str(&line).map_err(|e| at(n, format!("malformed bundle line: {e}")))? {
                BundleLine::Start(_) if n != 2 => return Err(at(n, "the start line must follow the header".into())),
                BundleLine::Start(s) => start = s,
                BundleLine::Checkpoint(_) if records_started => {
                    return Err(at(n, "a checkpoint after the records".into()));
                }
                BundleLine::Checkpoint(cp) => checkpoints.push(cp),
                BundleLine::Record(rec) => {
                    if !records_started {
                        begin_part(v, first, &start, std::mem::take(&mut checkpoints));
                        records_started = true;
                    }
                    let _ = v.push(&rec);
                }
                BundleLine::Head(h) => head = Some((h.seq, h.hash)),
            }
        }
        if head.is_none() {
            return Err(format!("{whole} ends without its head line: it is incomplete"));
        }
        if !records_started {
            begin_part(v, first, &start, Vec::new());
        }
        v.expect_checkpoints(checkpoints);
    }
    let verifier = verifier.ok_or("no bundle was given")?;
    Ok(verifier.finish(head))
}

/// The records of a bundle that served the data subject with this digest
/// ([`subject_digest`]), in the bundle's order, without verifying anything (that is
/// [`verify_bundles`]' job): for searching archives. A line without the digest is
/// skipped unread. `Err` names a line holding the digest that is not a bundle line.
pub fn subject_records_in_bundle<R: BufRead>(r: R, digest: &str) -> Result<Vec<MessageRecord>, String> {
    let mut found = Vec::new();
    for (i, line) in r.lines().enumerate().skip(1) {
        let n = i + 1;
        let line = line.map_err(|e| format!("line {n}: cannot read the bundle: {e}"))?;
        if digest.is_empty() || !line.contains(digest) {
            continue;
        }
        match serde_json::from_str(&line).map_err(|e| format!("line {n}: malformed bundle line: {e}"))? {
            BundleLine::Record(r) if r.subjects.iter().any(|s| s == digest) => found.push(*r),
            _ => {}
        }
    }
    Ok(found)
}

/// Starts a bundle's records: the first bundle may start anywhere (its start line says
/// where); every later one must start where the chain stands.
fn begin_part(v: &mut ChainVerifier, first: bool, start: &Anchor, checkpoints: Vec<Checkpoint>) {
    if first {
        v.start_after(start.clone());
    } else if !v.broken() && *start != v.end() {
        let end = v.end();
        v.first_break = Some(MessageBreak {
            seq: end.seq + 1,
            reason: format!(
                "this bundle starts after record {} (hash {}) but the bundle before it ends at record {} (hash {}): \
                 they do not continue one another",
                start.seq, start.hash, end.seq, end.hash
            ),
        });
    }
    v.expect_checkpoints(checkpoints);
}

/// Khóa niêm phong — the ChaCha20-Poly1305 key that seals logged bodies at rest.
pub struct SealKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    pub fn generate() -> SealKey {
        SealKey { key: random_32() }
    }

    /// Same file rules as [`NodeKey::load_or_create`].
    pub fn load_or_create(path: &Path) -> Result<SealKey, String> {
        Ok(SealKey { key: load_or_create_secret(path, "body sealing key")? })
    }

    /// Base64 (standard, padded) of a random 12-byte nonce followed by the ciphertext and tag.
    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = ChaCha20Poly1305::new(&self.key.into())
            .encrypt(Nonce::from_slice(&nonce), plain)
            .expect("ChaCha20-Poly1305 seals any body shorter than 256 GiB");
        base64::engine::general_purpose::STANDARD.encode([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|e| format!("sealed body is not base64: {e}"))?;
        if bytes.len() < 12 + 16 {
            return Err("sealed body is too short to hold a nonce and a tag".to_string());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        ChaCha20Poly1305::new(&self.key.into())
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| "sealed body does not open with this key: wrong key or altered body".to_string())
    }
}

/// Digest of a data subject's identifier (e.g. a citizen ID): hex SHA-256 of
/// `subkey || identifier.trim()`, where `subkey = SHA-256("kho-subject/1" || seal key)`.
/// Deterministic, so an auditor holding the key can find who accessed a subject's data,
/// while the log never holds the identifier in clear.
pub fn subject_digest(key: &SealKey, identifier: &str) -> String {
    let subkey = Sha256::new().chain_update(b"kho-subject/1").chain_update(key.key).finalize();
    hex::encode(Sha256::new().chain_update(subkey).chain_update(identifier.trim().as_bytes()).finalize())
}

fn random_32() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    hex::decode(s.trim()).ok()?.try_into().ok()
}

/// A 32-byte secret kept as 64 hex characters (plus an optional newline) in `path`.
fn load_or_create_secret(path: &Path, what: &str) -> Result<[u8; 32], String> {
    let shown = path.display();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
            if text.len() != 64 {
                return Err(format!("{what} file {shown} must hold 64 hex characters, it holds {}", text.len()));
            }
            decode_hex(text).ok_or_else(|| format!("{what} file {shown} must hold hex characters only (0-9, a-f)"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_32();
            write_secret(path, &secret).map_err(|e| format!("cannot create {what} file {shown}: {e}"))?;
            Ok(secret)
        }
        Err(e) => Err(format!("cannot read {what} file {shown}: {e}")),
    }
}

fn write_secret(path: &Path, secret: &[u8; 32]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(format!("{}\n", hex::encode(secret)).as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text with what JSON must escape (quotes, backslashes, every control character),
    /// what it must not (DEL, non-ASCII) and plain characters, in runs.
    fn awkward_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let pieces = prop_oneof![
            Just("\"".to_string()),
            Just("\\".to_string()),
            (0u8..0x20).prop_map(|b| char::from(b).to_string()),
            Just("\u{7f}".to_string()),
            Just("Hà Nội — 😀".to_string()),
            "[a-zA-Z0-9 /?=&.-]{0,40}",
        ];
        proptest::collection::vec(pieces, 0..8).prop_map(|p| p.concat())
    }

    proptest::proptest! {
        #[test]
        fn the_fields_text_is_what_serde_json_writes(
            texts in proptest::collection::vec(awkward_text(), 13),
            options in proptest::collection::vec(proptest::option::of(awkward_text()), 6),
            sizes in (proptest::prelude::any::<i64>(), proptest::prelude::any::<i64>(), proptest::prelude::any::<u16>()),
            succeeded in proptest::prelude::any::<bool>(),
            micros in proptest::collection::vec(-62_000_000_000_000_000i64..300_000_000_000_000_000, 4),
            timed in (proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>()),
        ) {
            let at = |i: usize| DateTime::from_timestamp_micros(micros[i]).unwrap();
            let r = MessageRecord {
                seq: 0,
                message_id: texts[0].clone(),
                request_id: texts[1].clone(),
                client: texts[2].clone(),
                service: texts[3].clone(),
                method: texts[4].clone(),
                path: texts[5].clone(),
                purpose: texts[6].clone(),
                agreement_id: options[0].clone(),
                user_id: options[1].clone(),
                issue: options[2].clone(),
                request_in_ts: at(0),
                request_out_ts: timed.0.then(|| at(1)),
                response_in_ts: timed.1.then(|| at(2)),
                response_out_ts: at(3),
                request_size: sizes.0,
                response_size: sizes.1,
                status_code: sizes.2,
                succeeded,
                fault_code: options[3].clone(),
                fault_string: options[4].clone(),
                request_hash: texts[7].clone(),
                subjects: texts[8..8 + (texts[12].len() % 5)].to_vec(),
                body: options[5].clone(),
                prev_hash: String::new(),
                hash: String::new(),
            };
            proptest::prop_assert_eq!(r.fields_text(), serde_json::to_string(&Fields(&r)).unwrap());
        }
    }

    fn record(i: i64) -> MessageRecord {
        let at = time::parse("2026-01-31T08:00:00.123456789Z").unwrap() + chrono::Duration::seconds(i);
        MessageRecord {
            seq: 0,
            message_id: format!("msg-{i}"),
            request_id: format!("req-{i}"),
            client: "VN/GOV/000.00.00.H01/portal".into(),
            service: "VN/GOV/000.00.00.H02/registry/citizens".into(),
            method: "GET".into(),
            path: format!("/v1/citizens/{i}?fields=name"),
            purpose: "xac-minh-cu-tru".into(),
            agreement_id: Some("agr-1".into()),
            user_id: Some("VN12345".into()),
            issue: None,
            request_in_ts: at,
            request_out_ts: Some(at),
            response_in_ts: None,
            response_out_ts: at + chrono::Duration::milliseconds(40),
            request_size: 0,
            response_size: 512 + i,
            status_code: 200,
            succeeded: true,
            fault_code: None,
            fault_string: None,
            request_hash: "abc".into(),
            subjects: vec![format!("subject-{i}")],
            body: None,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<MessageRecord> {
        let mut entries: Vec<_> = (1..=n).map(|i| record(i).into_entry()).collect();
        seal_chain(&mut entries, 0, GENESIS_HASH);
        entries.iter().map(sealed).collect()
    }

    /// The record of an entry the log chained.
    fn sealed(e: &LogEntry) -> MessageRecord {
        MessageRecord::from_fields(e.seq, &e.fields, e.prev_hash.clone(), e.hash.clone()).unwrap()
    }

    fn head(records: &[MessageRecord]) -> Option<(i64, String)> {
        records.last().map(|r| (r.seq, r.hash.clone()))
    }

    fn verify(records: &[MessageRecord], cps: Vec<Checkpoint>, trusted: Option<String>) -> VerifyReport {
        let mut v = ChainVerifier::new(trusted);
        v.expect_checkpoints(cps);
        for r in records {
            let _ = v.push(r);
        }
        v.finish(head(records))
    }

    fn checkpoints(key: &NodeKey, records: &[MessageRecord], at: &[usize]) -> Vec<Checkpoint> {
        at.iter().map(|&s| key.sign_checkpoint(records[s - 1].seq, &records[s - 1].hash, time::now())).collect()
    }

    fn broken_at(report: &VerifyReport) -> (i64, String) {
        let b = report.first_break.clone().expect("a break");
        assert!(!report.intact);
        (b.seq, b.reason)
    }

    #[test]
    fn ten_records_with_checkpoints_verify_intact() {
        let key = NodeKey::generate();
        let records = chain(10);
        let report = verify(&records, checkpoints(&key, &records, &[4, 8]), Some(key.public_hex()));
        assert!(report.intact, "{}", report.message);
        assert_eq!((report.records, report.checkpoints, report.unsigned_tail), (10, 2, 2));
        assert_eq!(report.message, "intact: 10 records, 2 signed checkpoints, 2 records after the last checkpoint");
        assert_eq!(records[0].prev_hash, GENESIS_HASH);
        assert_eq!(records[4].prev_hash, records[3].hash);
    }

    #[test]
    fn an_altered_field_breaks_at_that_record() {
        let mut records = chain(10);
        records[3].purpose = "other".into();
        let (seq, reason) = broken_at(&verify(&records, vec![], None));
        assert_eq!(seq, 4);
        assert!(reason.contains("record 4 was altered"), "{reason}");
    }

    #[test]
    fn a_deleted_record_is_named_as_the_gap() {
        let mut records = chain(10);
        records.remove(3);
        let (seq, reason) = broken_at(&verify(&records, vec![], None));
        assert_eq!((seq, reason.as_str()), (4, "record 4 is missing: record 5 follows record 3"));
    }

    #[test]
    fn reordered_records_break_the_chain() {
        let mut records = chain(10);
        records.swap(2, 3);
        (records[2].seq, records[3].seq) = (3, 4);
        let (seq, _) = broken_at(&verify(&records, vec![], None));
        assert_eq!(seq, 3);
    }

    #[test]
    fn a_resealed_rewrite_is_caught_by_the_checkpoint() {
        let key = NodeKey::generate();
        let mut records = chain(10);
        let cps = checkpoints(&key, &records, &[6]);
        records[3].user_id = None;
        let after = records[2].hash.clone();
        let mut resealed: Vec<_> = records.drain(3..).map(MessageRecord::into_entry).collect();
        seal_chain(&mut resealed, 3, &after);
        records.extend(resealed.iter().map(sealed));
        let (seq, reason) = broken_at(&verify(&records, cps, Some(key.public_hex())));
        assert_eq!(seq, 6);
        assert!(reason.contains("rewritten after it was signed"), "{reason}");
    }

    #[test]
    fn a_checkpoint_over_a_removed_tail_breaks() {
        let key = NodeKey::generate();
        let mut records = chain(10);
        let cps = checkpoints(&key, &records, &[4, 9]);
        records.truncate(7);
        let (seq, reason) = broken_at(&verify(&records, cps, Some(key.public_hex())));
        assert_eq!(seq, 9);
        assert_eq!(reason, "the log ends at record 7 but checkpoint 9 was signed over record 9: records were removed");
    }

    #[test]
    fn a_cut_unsigned_tail_is_caught_only_by_the_head() {
        let key = NodeKey::generate();
        let records = chain(10);
        let cps = checkpoints(&key, &records, &[4]);
        let mut v = ChainVerifier::new(Some(key.public_hex()));
        v.expect_checkpoints(cps);
        records[..8].iter().for_each(|r| v.push(r).unwrap());
        let (seq, reason) = broken_at(&v.finish(head(&records)));
        assert_eq!(seq, 10);
        assert!(reason.contains("records were removed"), "{reason}");
    }

    #[test]
    fn a_checkpoint_by_another_key_breaks() {
        let (key, other) = (NodeKey::generate(), NodeKey::generate());
        let records = chain(10);
        let cps = checkpoints(&other, &records, &[5]);
        let (seq, reason) = broken_at(&verify(&records, cps, Some(key.public_hex())));
        assert_eq!(seq, 5);
        assert!(reason.contains("not by the trusted key"), "{reason}");
        let mut forged = checkpoints(&key, &records, &[5]);
        forged[0].signature = checkpoints(&other, &records, &[5])[0].signature.clone();
        let (_, reason) = broken_at(&verify(&records, forged, Some(key.public_hex())));
        assert!(reason.contains("does not verify"), "{reason}");
    }

    fn bundle(key: &NodeKey, records: &[MessageRecord]) -> String {
        let mut w = BundleWriter::new(Vec::new(), &key.public_hex(), "kho-node-1", None).unwrap();
        for cp in checkpoints(key, records, &[3, 6]) {
            w.checkpoint(&cp).unwrap();
        }
        records.iter().for_each(|r| w.record(r).unwrap());
        String::from_utf8(w.finish((10, &records[9].hash)).unwrap()).unwrap()
    }

    #[test]
    fn a_bundle_round_trips_and_a_tampered_line_is_detected() {
        let key = NodeKey::generate();
        let text = bundle(&key, &chain(10));
        assert_eq!(text.lines().count(), 1 + 2 + 10 + 1);
        let report = verify_bundle(text.as_bytes(), Some(&key.public_hex())).unwrap();
        assert!(report.intact, "{}", report.message);
        assert_eq!((report.records, report.checkpoints, report.unsigned_tail), (10, 2, 4));
        let untrusted = verify_bundle(text.as_bytes(), None).unwrap();
        assert!(untrusted.intact && untrusted.message.contains("was not checked against a trusted key"));

        let tampered = text.replacen("/v1/citizens/5?", "/v1/citizens/6?", 1);
        let (seq, reason) = broken_at(&verify_bundle(tampered.as_bytes(), Some(&key.public_hex())).unwrap());
        assert_eq!(seq, 5);
        assert!(reason.contains("altered"), "{reason}");

        let other = NodeKey::generate().public_hex();
        assert!(!verify_bundle(text.as_bytes(), Some(&other)).unwrap().intact);
        let malformed = text.replacen("{\"record\":", "{\"record\"", 1);
        assert!(verify_bundle(malformed.as_bytes(), None).unwrap_err().starts_with("line 4:"));
        let cut: String = text.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert!(verify_bundle(cut.as_bytes(), None).unwrap_err().contains("without its head line"));
    }

    /// A bundle of `records` (which follow `start`), with checkpoints at the given seqs.
    fn part(key: &NodeKey, records: &[MessageRecord], start: Option<&Anchor>, cps_at: &[i64]) -> String {
        let mut w = BundleWriter::new(Vec::new(), &key.public_hex(), "kho-node-1", start).unwrap();
        for r in records.iter().filter(|r| cps_at.contains(&r.seq)) {
            w.checkpoint(&key.sign_checkpoint(r.seq, &r.hash, time::now())).unwrap();
        }
        records.iter().for_each(|r| w.record(r).unwrap());
        let last = records.last().unwrap();
        String::from_utf8(w.finish((last.seq, &last.hash)).unwrap()).unwrap()
    }

    #[test]
    fn archive_bundles_verify_alone_and_as_one_chain_in_their_order() {
        let key = NodeKey::generate();
        let records = chain(10);
        let after_4 = Anchor { seq: 4, hash: records[3].hash.clone() };
        let first = part(&key, &records[..4], None, &[4]);
        let second = part(&key, &records[4..], Some(&after_4), &[10]);
        let trusted = Some(key.public_hex());
        let alone = verify_bundle(second.as_bytes(), trusted.as_deref()).unwrap();
        assert!(alone.intact, "{}", alone.message);
        assert_eq!((alone.records, alone.start.seq, alone.end.seq), (6, 4, 10));
        assert!(alone.message.contains("6 records after record 4"), "{}", alone.message);

        let both = |a: &str, b: &str| {
            let parts = [("a".to_string(), a.as_bytes()), ("b".to_string(), b.as_bytes())];
            verify_bundles(parts, trusted.as_deref()).unwrap()
        };
        let chained = both(&first, &second);
        assert!(chained.intact, "{}", chained.message);
        assert_eq!((chained.records, chained.checkpoints, chained.start.seq), (10, 2, 0));

        let (seq, reason) = broken_at(&both(&second, &first));
        assert_eq!(seq, 11);
        assert!(reason.contains("do not continue one another"), "{reason}");
        let skipped = part(&key, &records[5..], Some(&Anchor { seq: 5, hash: records[4].hash.clone() }), &[]);
        let (seq, reason) = broken_at(&both(&first, &skipped));
        assert_eq!(seq, 5);
        assert!(reason.contains("bundle before it ends at record 4"), "{reason}");
        let tampered = second.replacen("/v1/citizens/7?", "/v1/citizens/8?", 1);
        assert_eq!(broken_at(&both(&first, &tampered)).0, 7);

        let mut lines: Vec<&str> = second.lines().collect();
        lines.swap(1, 2);
        let start_third = lines.join("\n");
        let e = verify_bundles([("b.ndjson".to_string(), start_third.as_bytes())], None).unwrap_err();
        assert_eq!(e, "b.ndjson, line 3: the start line must follow the header");
    }

    /// The archive of `records[from..to]`, signed by `key`.
    fn archive(key: &NodeKey, records: &[MessageRecord], from: usize, to: usize) -> MessageArchive {
        let anchor = |i: usize| match i {
            0 => Anchor::genesis(),
            i => Anchor { seq: records[i - 1].seq, hash: records[i - 1].hash.clone() },
        };
        let mut a = MessageArchive {
            start: anchor(from),
            end: anchor(to),
            records: (to - from) as i64,
            first_at: None,
            last_at: None,
            checkpoint_at: time::now(),
            file: format!("/srv/luu-tru/{from}-{to}.ndjson"),
            sha256: "ab".repeat(32),
            archived_at: time::now(),
            signature: String::new(),
        };
        key.sign_archive(&mut a);
        a
    }

    #[test]
    fn the_store_verifies_after_signed_archives_that_follow_one_another_to_a_checkpoint() {
        let key = NodeKey::generate();
        let records = chain(10);
        let cps = checkpoints(&key, &records, &[2, 4, 10]);
        let archives = vec![archive(&key, &records, 0, 2), archive(&key, &records, 2, 4)];
        let from = |archives: &[MessageArchive], signed: Option<&Checkpoint>| {
            let mut v = ChainVerifier::new(Some(key.public_hex()));
            v.start_after_archives(archives, &signed.into_iter().cloned().collect::<Vec<_>>());
            v.expect_checkpoints(cps.clone());
            records[4..].iter().for_each(|r| drop(v.push(r)));
            v.finish(head(&records))
        };
        let report = from(&archives, Some(&cps[1]));
        assert!(report.intact, "{}", report.message);
        assert_eq!((report.records, report.checkpoints, report.start.seq), (6, 1, 4));

        let (seq, reason) = broken_at(&from(&archives, None));
        assert_eq!(seq, 4);
        assert!(reason.contains("archived through record 4, but no checkpoint was signed"), "{reason}");
        let over_another_record = key.sign_checkpoint(4, &records[4].hash, time::now());
        let (_, reason) = broken_at(&from(&archives, Some(&over_another_record)));
        assert!(reason.contains("names hash"), "{reason}");
        let stranger = NodeKey::generate();
        let (_, reason) = broken_at(&from(&archives, Some(&checkpoints(&stranger, &records, &[4])[0])));
        assert!(reason.contains("not by the trusted key"), "{reason}");
        // A row made up without the node's key, or one that skips records.
        let forged = vec![archives[0].clone(), archive(&stranger, &records, 2, 4)];
        let (seq, reason) = broken_at(&from(&forged, Some(&cps[1])));
        assert_eq!(seq, 3);
        assert!(reason.contains("the signature of the archive of records 3 to 4 does not verify"), "{reason}");
        let (seq, reason) = broken_at(&from(&archives[1..], Some(&cps[1])));
        assert_eq!(seq, 1);
        assert!(reason.contains("the archive of records 3 to 4 does not follow record 0"), "{reason}");
        let mut widened = archives.clone();
        widened[1].records = 3;
        widened[1].sha256 = "cd".repeat(32);
        assert!(!from(&widened, Some(&cps[1])).intact, "the signature covers the file's hash");
    }

    #[test]
    fn sealed_bodies_open_only_with_their_key() {
        let key = SealKey::generate();
        let sealed = key.seal("{\"hoTen\":\"Nguyễn Văn A\"}".as_bytes());
        assert_ne!(key.seal(b"x"), key.seal(b"x"));
        assert_eq!(key.open(&sealed).unwrap(), "{\"hoTen\":\"Nguyễn Văn A\"}".as_bytes());
        assert!(SealKey::generate().open(&sealed).unwrap_err().contains("does not open"));
        assert!(key.open("not base64!").is_err());
    }

    #[test]
    fn subject_digests_are_keyed_and_deterministic() {
        let (key, other) = (SealKey::generate(), SealKey::generate());
        assert_eq!(subject_digest(&key, " 001203004567\n"), subject_digest(&key, "001203004567"));
        assert_ne!(subject_digest(&key, "001203004567"), subject_digest(&other, "001203004567"));
        assert_eq!(subject_digest(&key, "x").len(), 64);
    }

    #[test]
    fn key_files_are_created_then_reloaded_and_malformed_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/node.key");
        let created = NodeKey::load_or_create(&path).unwrap();
        assert_eq!(NodeKey::load_or_create(&path).unwrap().public_hex(), created.public_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let seal_path = dir.path().join("seal.key");
        let seal = SealKey::load_or_create(&seal_path).unwrap();
        assert_eq!(SealKey::load_or_create(&seal_path).unwrap().open(&seal.seal(b"x")).unwrap(), b"x");

        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "abc\n").unwrap();
        let err = NodeKey::load_or_create(&bad).unwrap_err();
        assert!(err.contains("bad.key") && err.contains("64 hex characters"), "{err}");
        std::fs::write(&bad, "z".repeat(64)).unwrap();
        assert!(NodeKey::load_or_create(&bad).unwrap_err().contains("hex characters only"));
    }

    #[test]
    fn a_record_goes_into_its_fields_text_and_back_unchanged() {
        let mut r = chain(3).remove(2);
        r.fault_string = Some("a \"quoted\" \\ line\nand \u{1} Việt".into());
        r.body = Some("sealed".into());
        let entry = r.clone().into_entry();
        assert!(entry.fields.starts_with("[\"msg-3\",\"req-3\","), "{}", entry.fields);
        let back = MessageRecord::from_fields(r.seq, &entry.fields, r.prev_hash.clone(), r.hash.clone()).unwrap();
        assert_eq!(back.fields_text(), entry.fields);
        assert_eq!(chain_hash(r.seq, &entry.fields, &r.prev_hash), r.compute_hash());
        let e = LogEntry::from_fields(entry.fields.clone()).unwrap();
        assert_eq!((e.message_id.as_str(), e.client.as_str(), e.subjects.len()), ("msg-3", r.client.as_str(), 1));
        let err = MessageRecord::from_fields(1, "[\"only one\"]", String::new(), String::new()).unwrap_err();
        assert!(err.contains("not the fields of a message record"), "{err}");
    }

    #[test]
    fn stored_texts_verify_and_one_that_is_not_a_record_any_more_is_altered() {
        let records = chain(4);
        let stored: Vec<StoredMessage> = records
            .iter()
            .map(|r| StoredMessage {
                seq: r.seq,
                fields: r.fields_text(),
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
            })
            .collect();
        let run = |stored: &[StoredMessage]| {
            let mut v = ChainVerifier::new(None);
            for s in stored {
                let _ = v.push_stored(s);
            }
            v.finish(head(&records))
        };
        let report = run(&stored);
        assert!(report.intact && report.records == 4, "{}", report.message);
        let mut spaced = stored.clone();
        let value: serde_json::Value = serde_json::from_str(&spaced[1].fields).unwrap();
        spaced[1].fields = serde_json::to_string_pretty(&value).unwrap();
        assert!(run(&spaced).intact, "the same fields written with spaces are the same record");
        let mut broken = stored.clone();
        broken[2].fields = "not JSON at all".into();
        let (seq, reason) = broken_at(&run(&broken));
        assert_eq!(seq, 3);
        assert!(reason.contains("record 3 was altered"), "{reason}");
    }

    #[test]
    fn nanosecond_timestamps_hash_the_same_after_a_text_round_trip() {
        let r = &mut record(1);
        let mut sealed = [r.clone().into_entry()];
        seal_chain(&mut sealed, 0, GENESIS_HASH);
        (r.seq, r.prev_hash, r.hash) = (1, GENESIS_HASH.into(), sealed[0].hash.clone());
        assert_eq!(r.request_in_ts.timestamp_subsec_nanos() % 1000, 789);
        let hash = r.compute_hash();
        r.request_in_ts = time::parse(&time::format(&r.request_in_ts)).unwrap();
        r.request_out_ts = r.request_out_ts.map(|t| time::parse(&time::format(&t)).unwrap());
        r.response_out_ts = time::parse(&time::format(&r.response_out_ts)).unwrap();
        assert_eq!(r.compute_hash(), hash);
        assert_eq!(r.hash, hash);
    }

    #[test]
    fn the_hash_is_over_the_documented_json_array() {
        let mut r = record(3);
        r.fault_string = Some("a \"quoted\" \\ line\nand \u{1} Việt".into());
        r.subjects = vec!["s1".into(), "s2".into()];
        for (agreement, out) in [(None, None), (Some("ag-1".to_string()), Some(time::now()))] {
            r.agreement_id = agreement;
            r.response_in_ts = out;
            // The documented text, written by chrono rather than by the fast formatter.
            let ts = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let documented = serde_json::json!([
                "kho-message-record/1",
                r.seq,
                r.message_id,
                r.request_id,
                r.client,
                r.service,
                r.method,
                r.path,
                r.purpose,
                r.agreement_id,
                r.user_id,
                r.issue,
                ts(&r.request_in_ts),
                r.request_out_ts.as_ref().map(ts),
                r.response_in_ts.as_ref().map(ts),
                ts(&r.response_out_ts),
                r.request_size,
                r.response_size,
                r.status_code,
                r.succeeded,
                r.fault_code,
                r.fault_string,
                r.request_hash,
                r.subjects,
                r.body,
                r.prev_hash,
            ]);
            assert_eq!(r.compute_hash(), hex::encode(Sha256::digest(documented.to_string().as_bytes())));
        }
    }

    #[test]
    fn checkpoint_signatures_cover_their_fields() {
        let key = NodeKey::generate();
        let cp = key.sign_checkpoint(7, &"ab".repeat(32), time::now());
        assert_eq!((cp.public_key.len(), cp.signature.len()), (64, 128));
        assert_eq!(cp.verify(&key.public_hex()), Ok(()));
        let moved = Checkpoint { seq: 8, ..cp.clone() };
        assert!(moved.verify(&key.public_hex()).unwrap_err().contains("does not verify"));
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
