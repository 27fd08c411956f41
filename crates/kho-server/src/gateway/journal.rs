//! Sổ ghi tạm — the message log's journal: the file a record is written to before its
//! response completes. Records go in as JSON lines, one `write` per call (a record, or
//! a batch on PostgreSQL), into numbered segments
//! (`segment-00000000000000000001.jsonl`, …) under `<data dir>/message-journal`.
//! The log writer closes a segment every few hundred milliseconds and moves its records
//! into the store in one transaction, where they are chained; a moved segment is deleted.
//! Segments still there at start were not moved (or not known to be): they are moved
//! first. The directory is locked while a node uses it.
//!
//! The journal is written without `fsync` when the store is SQLite, whose commits (in
//! WAL mode with `synchronous = NORMAL`) are not synced either: both survive the
//! process stopping or crashing, not the machine losing power. On PostgreSQL, whose
//! commits are synced, every batch is synced too.

use kho_exchange::msglog::MessageRecord;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const PREFIX: &str = "segment-";
const SUFFIX: &str = ".jsonl";

/// The journal a node appends to.
pub struct Journal {
    dir: PathBuf,
    /// Held (locked) while the node uses the directory.
    _lock: File,
    /// The open segment and its path, once something was written to it.
    open: Option<(File, PathBuf)>,
    next: u64,
    sync: bool,
    buffer: Vec<u8>,
}

impl Journal {
    /// Opens (creates) the journal in `dir`, returning it and the segments found there,
    /// oldest first, which were not moved into the store yet.
    pub fn open(dir: &Path, sync: bool) -> io::Result<(Self, Vec<PathBuf>)> {
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("LOCK"))?;
        lock.try_lock().map_err(|_| {
            io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!("{} is in use by another Kho process; each node needs its own data directory", dir.display()),
            )
        })?;
        let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        found.sort();
        let next = found.last().map_or(1, |(n, _)| n + 1);
        let journal = Self { dir: dir.to_path_buf(), _lock: lock, open: None, next, sync, buffer: Vec::new() };
        Ok((journal, found.into_iter().map(|(_, p)| p).collect()))
    }

    /// Appends `records` to the open segment in one write (and syncs it on PostgreSQL).
    pub fn append(&mut self, records: &[MessageRecord]) -> io::Result<()> {
        self.buffer.clear();
        for r in records {
            serde_json::to_writer(&mut self.buffer, r)?;
            self.buffer.push(b'\n');
        }
        if self.open.is_none() {
            let path = self.dir.join(format!("{PREFIX}{:020}{SUFFIX}", self.next));
            self.next += 1;
            let file = OpenOptions::new().create_new(true).append(true).open(&path)?;
            self.open = Some((file, path));
        }
        let (file, _) = self.open.as_mut().expect("opened above");
        file.write_all(&self.buffer)?;
        if self.sync {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Closes the open segment and returns its path (`None` when nothing was written
    /// since the last one).
    pub fn close_segment(&mut self) -> Option<PathBuf> {
        self.open.take().map(|(_, path)| path)
    }
}

/// The records of a segment. A last line cut short (the process stopped in the
/// middle of a write) is left out: its responses were never completed. Any other
/// line that is not a record is an error naming the file and line.
pub fn read_segment(path: &Path) -> Result<Vec<MessageRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => return Err(format!("{} line {}: not a message record ({e})", path.display(), i + 1)),
        }
    }
    Ok(records)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(id: &str) -> MessageRecord {
        MessageRecord {
            message_id: id.into(),
            request_id: format!("r-{id}"),
            client: "VN/GOV/A/B".into(),
            service: "VN/GOV/C/D/x".into(),
            method: "GET".into(),
            path: "/rows".into(),
            purpose: "p".into(),
            response_size: 10,
            status_code: 200,
            succeeded: true,
            request_hash: "h".into(),
            ..crate::gateway::exchange::empty_record()
        }
    }

    #[test]
    fn segments_are_numbered_read_back_and_found_again_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, leftover) = Journal::open(dir.path(), false).unwrap();
        assert!(leftover.is_empty());
        assert_eq!(j.close_segment(), None, "nothing written, no segment");
        let (a, b, c) = (record("a"), record("b"), record("c"));
        j.append(&[a.clone(), b.clone()]).unwrap();
        j.append(std::slice::from_ref(&c)).unwrap();
        let first = j.close_segment().unwrap();
        assert!(first.ends_with("segment-00000000000000000001.jsonl"), "{}", first.display());
        assert_eq!(read_segment(&first).unwrap(), vec![a.clone(), b, c]);
        j.append(&[a]).unwrap();
        drop(j);
        let (_again, leftover) = Journal::open(dir.path(), false).unwrap();
        assert_eq!(leftover.len(), 2, "both segments are still there");
        assert!(leftover[1].ends_with("segment-00000000000000000002.jsonl"));
    }

    #[test]
    fn a_second_node_cannot_use_the_same_journal() {
        let dir = tempfile::tempdir().unwrap();
        let (_first, _) = Journal::open(dir.path(), false).unwrap();
        let Err(e) = Journal::open(dir.path(), false) else { panic!("the journal was opened twice") };
        assert!(e.to_string().contains("in use by another Kho process"), "{e}");
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_a_broken_one_elsewhere_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("segment-00000000000000000001.jsonl");
        let line = serde_json::to_string(&record("a")).unwrap();
        std::fs::write(&path, format!("{line}\n{}", &line[..40])).unwrap();
        assert_eq!(read_segment(&path).unwrap().len(), 1);
        std::fs::write(&path, format!("{line}\n{{oops\n{line}\n")).unwrap();
        let e = read_segment(&path).unwrap_err();
        assert!(e.contains("line 2: not a message record"), "{e}");
    }
}
