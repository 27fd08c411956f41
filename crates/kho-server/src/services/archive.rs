//! Lưu trữ nhật ký thông điệp — archiving the message log. The log only grows; an
//! operator moves a closed run of it out of the store into a bundle file (the export
//! format, starting where the previous archive ended), kept and verified offline like
//! any export. A run ends at a checkpoint the node signed, so every archive is anchored
//! by its own signature, and the archives with what the store keeps verify as one chain
//! (`kho audit verify --bundle A --bundle B …`). The store keeps a row per archive (its
//! range, file and SHA-256), signed by the node; verification of the store checks the
//! rows and starts after the last one.

use super::Kho;
use chrono::{DateTime, Utc};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::{Action, Resource, ResourceKind};
use kho_core::{time, Error, Result};
use kho_exchange::msglog::{
    subject_digest, subject_records_in_bundle, thousands, verify_bundle, Anchor, BundleWriter, Checkpoint,
    MessageArchive, MessageRecord,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Records read from the store at a time while an archive is written.
const PAGE: i64 = 5_000;
/// Archives of at least this many records report each tenth written.
const PROGRESS_FROM: i64 = 100_000;
/// What an access report read from the archive files at once.
const SEARCH_BUFFER: usize = 256 * 1024;

/// Báo cáo truy cập — who was served a person's records, over the store and its archives.
#[derive(Debug, Clone)]
pub struct AccessReport {
    /// The exchanges, newest first.
    pub records: Vec<MessageRecord>,
    /// The archives, newest first: searched, or why not.
    pub archives: Vec<ArchiveSearch>,
}

/// What an access report did with one archive of the log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArchiveSearch {
    /// The archive holds the records after `start` up to `end` (seq).
    pub start: i64,
    pub end: i64,
    /// The archive's file, at the path its row names.
    pub file: String,
    pub outcome: SearchOutcome,
    /// The person's exchanges found in it.
    pub found: usize,
    /// Why it was not searched, or not trusted, and what to do.
    pub note: Option<String>,
}

/// Whether an archive's file was searched, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchOutcome {
    /// Searched, and trusted: its SHA-256 is the one its signed row records.
    Searched,
    /// Not searched: newer exchanges fill the report to its limit.
    NotNeeded,
    /// Not searched: the file is not where its row names it.
    Missing,
    /// Not searched: the file cannot be read as a bundle.
    Unreadable,
    /// Searched and not trusted: its SHA-256 is not the one its row records.
    Altered,
    /// Not searched: its row in the store is not signed by this node.
    RowBroken,
}

impl ArchiveSearch {
    fn of(a: &MessageArchive, outcome: SearchOutcome) -> Self {
        Self { start: a.start.seq, end: a.end.seq, file: a.file.clone(), outcome, found: 0, note: None }
    }

    fn not_needed(a: &MessageArchive, limit: i64) -> (Self, Vec<MessageRecord>) {
        let note = format!("not searched: the report already holds {limit} newer exchanges, its limit");
        (Self { note: Some(note), ..Self::of(a, SearchOutcome::NotNeeded) }, Vec::new())
    }
}

impl Kho {
    /// The archives of the message log, oldest first, for those who may read the log.
    /// The list names ranges and files, no exchange: reading it is not audited (a
    /// refusal is).
    pub async fn message_archives(&self, subject: &Subject, ctx: &AuditContext) -> Result<Vec<MessageArchive>> {
        let log = Resource::new(ResourceKind::AuditLog);
        self.check(subject, ctx, Action::Read, log, "message_log.archives", "message_log").await?;
        Ok(self.store.message_archives().await?)
    }

    /// The data subject's access report (báo cáo truy cập) over the whole log: every
    /// exchange that served records of the person with this identifier, newest first,
    /// at most `limit` — from the store, from the archive files at the paths their rows
    /// name (each trusted only when its SHA-256 is the one its signed row records), and
    /// from the bundle files `extra` gives (copies kept elsewhere, searched as they
    /// are). The report says, archive by archive, what was searched and why not. Audited
    /// like the store's report.
    pub async fn access_report(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        identifier: &str,
        limit: i64,
        extra: Vec<(String, Box<dyn std::io::BufRead + Send>)>,
    ) -> Result<AccessReport> {
        let mut records = self.subject_access(subject, ctx, identifier, limit).await?;
        let archives = self.store.message_archives().await?;
        if archives.is_empty() && extra.is_empty() {
            return Ok(AccessReport { records, archives: Vec::new() });
        }
        let keys = self.node_keys()?;
        let (digest, key) = (subject_digest(&keys.seal, identifier.trim()), keys.signing.public_hex());
        let search = move || {
            for (name, r) in extra {
                let found = subject_records_in_bundle(r, &digest)
                    .map_err(|e| Error::invalid("bundle", format!("{name}, {e}")))?;
                records.extend(found);
            }
            // An export given with the archives repeats what the store holds: once each.
            records.sort_by_key(|r| std::cmp::Reverse(r.seq));
            records.dedup_by_key(|r| r.seq);
            let mut searched = Vec::new();
            for a in archives.iter().rev() {
                // Records newer than the whole archive that already fill the report.
                let newer = records.iter().filter(|r| r.seq > a.end.seq).count() as i64;
                let search =
                    if newer >= limit { ArchiveSearch::not_needed(a, limit) } else { search_archive(a, &key, &digest) };
                records.extend(search.1);
                searched.push(search.0);
            }
            records.sort_by_key(|r| std::cmp::Reverse(r.seq));
            records.dedup_by_key(|r| r.seq);
            records.truncate(limit.max(0) as usize);
            Ok::<_, Error>(AccessReport { records, archives: searched })
        };
        tokio::task::spawn_blocking(search)
            .await
            .map_err(|e| Error::internal(format!("the archive search stopped: {e}")))?
    }

    /// Whether an archive made now with `before` would move any record: a checkpoint
    /// was signed after the last archive and before `before`.
    pub async fn has_records_to_archive(&self, before: DateTime<Utc>) -> Result<bool> {
        self.settle_message_log().await?;
        Ok(self.archive_span(before).await?.2.is_some())
    }

    /// Where the next archive starts, the checkpoints after that, and the last of them
    /// signed before `before`, where the archive would end.
    async fn archive_span(&self, before: DateTime<Utc>) -> Result<(Anchor, Vec<Checkpoint>, Option<Checkpoint>)> {
        let start = self.archived_through().await?;
        let checkpoints: Vec<Checkpoint> =
            self.store.checkpoints().await?.into_iter().filter(|c| c.seq > start.seq).collect();
        let end = checkpoints.iter().rfind(|c| c.at < before).cloned();
        Ok((start, checkpoints, end))
    }

    /// The record the store's log starts after: the end of the last archive, or the
    /// log's start (seq 0).
    pub async fn archived_through(&self) -> Result<Anchor> {
        Ok(self.store.message_archives().await?.pop().map_or_else(Anchor::genesis, |a| a.end))
    }

    /// Moves the records up to the last checkpoint signed before `before` out of the
    /// store into a new bundle file at `out` (never overwritten). The file is written
    /// beside `out` first, synced, read back and verified against the node's key; only
    /// then is it put in place and are the records removed from the store, with the
    /// archive's row, in one audited transaction. A log that does not verify up to the
    /// archive's end is not archived: the error names its first bad record and nothing
    /// changes. `progress` is told each step as it starts (the steps of a large archive
    /// take minutes).
    pub async fn archive_messages(
        &self,
        ctx: &AuditContext,
        before: DateTime<Utc>,
        out: &Path,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<MessageArchive> {
        // The row names the file wherever the command ran from.
        let out = &std::path::absolute(out).map_err(|e| Error::invalid("out", format!("{}: {e}", out.display())))?;
        self.settle_message_log().await?;
        let key = self.node_keys()?.signing.public_hex();
        let (start, checkpoints, end) = self.archive_span(before).await?;
        let Some(end) = end else {
            return Err(Error::invalid(
                "before",
                format!(
                    "no checkpoint was signed after record {} and before {}: nothing to archive yet (checkpoints are \
                     signed every few seconds while the gateway serves, and when it stops)",
                    start.seq,
                    time::format(&before)
                ),
            ));
        };
        if out.exists() {
            return Err(Error::invalid(
                "out",
                format!("{} exists; an archive is never overwritten: name a new file", out.display()),
            ));
        }
        // A record that does not verify is evidence: it is never moved out of sight.
        progress(&format!("verifying the message log after record {} first…", thousands(start.seq)));
        let report = self.verify_messages_showing(progress).await?;
        if let Some(b) = report.first_break.as_ref().filter(|b| b.seq <= end.seq) {
            return Err(Error::conflict(format!(
                "the message log does not verify, so nothing was archived: broken at record {}: {}",
                b.seq, b.reason
            )));
        }
        let partial = partial_path(out)?;
        let (first, last) = (thousands(start.seq + 1), thousands(end.seq));
        progress(&format!("writing records {first} to {last} into {}…", partial.display()));
        let written = self.write_archive(&partial, &key, &start, &checkpoints, &end, progress).await;
        let archive = written.and_then(|(first_at, last_at)| {
            progress("reading the file back to verify it…");
            let report = std::fs::File::open(&partial)
                .map_err(|e| Error::internal(format!("cannot read back {}: {e}", partial.display())))
                .and_then(|f| verify_bundle(std::io::BufReader::new(f), Some(&key)).map_err(Error::internal))?;
            if !report.intact {
                return Err(Error::conflict(format!(
                    "the message log does not verify, so it was not archived: {}",
                    report.message
                )));
            }
            let sha256 = file_sha256(&partial)?;
            place(&partial, out)?;
            Ok(MessageArchive {
                records: end.seq - start.seq,
                start: start.clone(),
                end: Anchor { seq: end.seq, hash: end.hash.clone() },
                first_at,
                last_at,
                checkpoint_at: end.at,
                file: out.display().to_string(),
                sha256,
                archived_at: time::now(),
                signature: String::new(),
            })
        });
        let mut archive = match archive {
            Ok(a) => a,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        self.node_keys()?.signing.sign_archive(&mut archive);
        progress(&format!("removing records {first} to {last} from the store…"));
        if let Err(e) = self.store.archive_messages(ctx, &archive).await {
            // The records stay in the store; a file beside them would only mislead.
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
        Ok(archive)
    }

    /// Writes the bundle of the records after `start` through checkpoint `end`, synced;
    /// returns when the first and the last of them came in. A large one tells
    /// `progress` each tenth written.
    async fn write_archive(
        &self,
        path: &Path,
        key: &str,
        start: &Anchor,
        checkpoints: &[Checkpoint],
        end: &Checkpoint,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)> {
        let io = |e: std::io::Error| Error::internal(format!("cannot write {}: {e}", path.display()));
        // One left by an interrupted archive is written over.
        let file = std::fs::File::create(path).map_err(io)?;
        let node = self.settings.public_url.clone().unwrap_or_else(|| "kho".into());
        let mut w = BundleWriter::new(std::io::BufWriter::new(file), key, &node, Some(start)).map_err(io)?;
        for c in checkpoints.iter().filter(|c| c.seq <= end.seq) {
            w.checkpoint(c).map_err(io)?;
        }
        let (mut after, mut first_at, mut last_at) = (start.seq, None, None);
        while after < end.seq {
            let page = self.store.message_range(after, PAGE.min(end.seq - after)).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            first_at = first_at.or(page.first().map(|r| r.request_in_ts));
            last_at = Some(last.request_in_ts);
            for r in &page {
                w.record(r).map_err(io)?;
            }
            if let Some(step) = tenth(after - start.seq - page.len() as i64, after - start.seq, end.seq - start.seq) {
                progress(&format!("  {step} records written"));
            }
        }
        let file = w.finish((end.seq, &end.hash)).map_err(io)?.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        Ok((first_at, last_at))
    }
}

/// `"N of TOTAL"` when going from `before` to `done` of `total` records passes a tenth
/// of a long run ([`PROGRESS_FROM`] records or more) short of its end.
pub(super) fn tenth(before: i64, done: i64, total: i64) -> Option<String> {
    let step = total / 10;
    (total >= PROGRESS_FROM && done < total && before / step < done / step)
        .then(|| format!("{} of {}", thousands(done), thousands(total)))
}

/// Where an archive is written before it is verified and put in place: a hidden file
/// beside it, on the same file system.
fn partial_path(out: &Path) -> Result<PathBuf> {
    let name = out
        .file_name()
        .ok_or_else(|| Error::invalid("out", format!("{} names no file", out.display())))?
        .to_string_lossy();
    Ok(out.with_file_name(format!(".{name}.partial")))
}

/// Puts a verified archive in place without replacing a file that appeared meanwhile,
/// and syncs the directory so the name survives a crash.
fn place(partial: &Path, out: &Path) -> Result<()> {
    let io = |e: std::io::Error| Error::internal(format!("cannot put the archive at {}: {e}", out.display()));
    std::fs::hard_link(partial, out).map_err(io)?;
    std::fs::remove_file(partial).map_err(io)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

/// Searches an archive's file at the path its row names for the person's exchanges.
/// The file is trusted only when the row is the node's and the file's SHA-256 is the
/// one the row records; otherwise the search says why and finds nothing.
fn search_archive(a: &MessageArchive, key: &str, digest: &str) -> (ArchiveSearch, Vec<MessageRecord>) {
    use SearchOutcome::*;
    let refused =
        |outcome, note: String| (ArchiveSearch { note: Some(note), ..ArchiveSearch::of(a, outcome) }, Vec::new());
    let elsewhere = "search a verified copy with `kho audit access --subject … --bundle FILE`";
    if let Err(e) = a.verify(key) {
        let note =
            format!("not searched: its row in the store does not verify ({e}); run `kho audit verify --messages`");
        return refused(RowBroken, note);
    }
    let file = match std::fs::File::open(&a.file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return refused(Missing, format!("not searched: the file is not on this node at {}; {elsewhere}", a.file))
        }
        Err(e) => return refused(Unreadable, format!("not searched: cannot open {}: {e}", a.file)),
    };
    let mut reader = std::io::BufReader::with_capacity(SEARCH_BUFFER, Hashed { inner: file, hasher: Sha256::new() });
    let found = match subject_records_in_bundle(&mut reader, digest) {
        Ok(found) => found,
        Err(e) => return refused(Unreadable, format!("not searched: {}, {e}; {elsewhere}", a.file)),
    };
    if hex::encode(reader.into_inner().hasher.finalize()) != a.sha256 {
        let note = format!(
            "not trusted: the file at {} is not the one archived (its SHA-256 is not the one its signed row records); \
             {elsewhere}",
            a.file
        );
        return refused(Altered, note);
    }
    let found: Vec<MessageRecord> = found.into_iter().filter(|r| r.seq > a.start.seq && r.seq <= a.end.seq).collect();
    (ArchiveSearch { found: found.len(), ..ArchiveSearch::of(a, Searched) }, found)
}

/// A reader that hashes what goes through it.
struct Hashed<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut file =
        std::fs::File::open(path).map_err(|e| Error::internal(format!("cannot read back {}: {e}", path.display())))?;
    std::io::copy(&mut file, &mut hasher)
        .map_err(|e| Error::internal(format!("cannot read back {}: {e}", path.display())))?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::tenth;

    #[test]
    fn a_long_run_reports_each_tenth_passed_once_and_a_short_one_nothing() {
        assert_eq!(tenth(5_000, 10_000, 100_000).as_deref(), Some("10,000 of 100,000"));
        assert_eq!(tenth(10_000, 15_000, 100_000), None, "between two tenths");
        assert_eq!(tenth(15_000, 35_000, 100_000).as_deref(), Some("35,000 of 100,000"), "a page past two tenths");
        assert_eq!(tenth(95_000, 100_000, 100_000), None, "the end is reported by what follows");
        assert_eq!(tenth(0, 5_000, 50_000), None, "a short run");
    }
}
