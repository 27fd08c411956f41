//! Sổ ghi tạm — the message log's journal: the file a record is written to before its
//! response completes. Records go in as lines (a record, or a batch on PostgreSQL, at
//! a time), each the record's fields text — the JSON array its hash covers
//! ([`MessageRecord::fields_text`]), written once and kept as it is by the store —
//! into numbered segments
//! (`segment-00000000000000000001.jsonl`, …) under `<data dir>/message-journal`.
//! The log writer closes a segment every few hundred milliseconds and moves its records
//! into the store in one transaction, where they are chained; a moved segment is deleted.
//! Segments still there at start were not moved (or not known to be): they are moved
//! first. The directory is locked while a node uses it.
//!
//! A segment is written through a shared memory map of the file rather than a `write`
//! call a record: space is reserved in [`CHUNK`]-sized pieces with `fallocate` (so that a
//! full disk is an error when a piece is reserved, not a fault when a page is touched),
//! each piece is mapped, and a record is copied into the mapping. The pages are the
//! file's page cache, so a record copied in survives the process stopping or crashing
//! exactly as a written one would; there is no system call, and no file lock, per record.
//! A closed segment is cut to its length; one the process did not close (it stopped)
//! ends in zero bytes, which [`read_segment`] leaves out. After the machine itself
//! stopped, pages in the middle that never reached the disk read as zeros too: their
//! lines are left out and counted, and the records around them are read.
//!
//! The journal is not synced when the store is SQLite, whose commits (in WAL mode with
//! `synchronous = NORMAL`) are not synced either: both survive the process stopping or
//! crashing, not the machine losing power. On PostgreSQL, whose commits are synced,
//! every batch is synced too (`msync` of the pages it touched).

use kho_exchange::msglog::{LogEntry, MessageRecord};
use memmap2::{MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

const PREFIX: &str = "segment-";
const SUFFIX: &str = ".jsonl";
/// The space a segment reserves and maps at a time (a multiple of the page size).
pub const CHUNK: usize = 16 * 1024 * 1024;

/// The journal a node appends to.
pub struct Journal {
    dir: PathBuf,
    /// Held (locked) while the node uses the directory; `None` once released.
    lock: Option<File>,
    /// The open segment, once something was written to it.
    open: Option<Segment>,
    next: u64,
    sync: bool,
    buffer: Vec<u8>,
}

/// An open segment: its file, mapped piece by piece, and the bytes written so far.
struct Segment {
    file: File,
    path: PathBuf,
    /// The mapped pieces; piece `i` maps the file's bytes from `i * CHUNK`.
    chunks: Vec<MmapMut>,
    len: usize,
}

impl Segment {
    fn create(path: PathBuf) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        Ok(Self { file, path, chunks: Vec::new(), len: 0 })
    }

    /// Copies `bytes` in at the end, reserving and mapping pieces as needed; `sync`
    /// flushes the pages touched to the disk before returning.
    fn append(&mut self, bytes: &[u8], sync: bool) -> io::Result<()> {
        let start = self.len;
        let mut rest = bytes;
        while !rest.is_empty() {
            let (piece, at) = (self.len / CHUNK, self.len % CHUNK);
            if piece == self.chunks.len() {
                self.chunks.push(self.reserve(piece)?);
            }
            let n = rest.len().min(CHUNK - at);
            self.chunks[piece][at..at + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
        }
        if sync {
            let mut at = start;
            while at < self.len {
                let (piece, offset) = (at / CHUNK, at % CHUNK);
                let n = (self.len - at).min(CHUNK - offset);
                self.chunks[piece].flush_range(offset, n)?;
                at += n;
            }
        }
        Ok(())
    }

    /// Reserves the disk space of piece `piece` and maps it.
    fn reserve(&self, piece: usize) -> io::Result<MmapMut> {
        let offset = (piece * CHUNK) as u64;
        allocate(&self.file, offset, CHUNK as u64)?;
        // SAFETY: the mapping is of a file in the journal directory, which this node
        // holds locked; nothing else writes or truncates the file while it is mapped,
        // and the range was just reserved above.
        unsafe { MmapOptions::new().offset(offset).len(CHUNK).map_mut(&self.file) }
    }

    /// Unmaps the segment and cuts the file to the bytes written.
    fn close(self) -> PathBuf {
        let Segment { file, path, chunks, len } = self;
        drop(chunks);
        if let Err(e) = file.set_len(len as u64) {
            // The reader leaves the zero bytes after the last record out.
            tracing::warn!(error = %e, path = %path.display(), "cannot cut a journal segment to its length");
        }
        path
    }
}

/// Grows `file` to cover `len` bytes from `offset`, with the disk blocks reserved, so
/// that touching a mapped page never needs space the disk lacks.
#[cfg(target_os = "linux")]
fn allocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on a descriptor that stays open through it.
    let r = unsafe { libc::posix_fallocate(file.as_raw_fd(), offset as libc::off_t, len as libc::off_t) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

/// Grows `file` to cover `len` bytes from `offset`. Without `posix_fallocate` the
/// blocks are not reserved: a full disk shows when a page is written back.
#[cfg(not(target_os = "linux"))]
fn allocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    file.set_len(offset + len)
}

impl Journal {
    /// Lets the directory go once the log is closed: another node (or this process,
    /// started again) may open it. Segments still there are found by the next opener.
    pub fn release(&mut self) {
        self.open = None;
        self.lock = None;
    }

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
        let journal = Self { dir: dir.to_path_buf(), lock: Some(lock), open: None, next, sync, buffer: Vec::new() };
        Ok((journal, found.into_iter().map(|(_, p)| p).collect()))
    }

    /// Appends `entries` to the open segment (and syncs them on PostgreSQL).
    pub fn append(&mut self, entries: &[LogEntry]) -> io::Result<()> {
        self.buffer.clear();
        for e in entries {
            self.buffer.extend_from_slice(e.fields.as_bytes());
            self.buffer.push(b'\n');
        }
        if self.open.is_none() {
            let path = self.dir.join(format!("{PREFIX}{:020}{SUFFIX}", self.next));
            self.next += 1;
            self.open = Some(Segment::create(path)?);
        }
        let segment = self.open.as_mut().expect("opened above");
        segment.append(&self.buffer, self.sync)
    }

    /// Closes the open segment and returns its path (`None` when nothing was written
    /// since the last one).
    pub fn close_segment(&mut self) -> Option<PathBuf> {
        self.open.take().map(Segment::close)
    }
}

/// What a segment holds when read back.
#[derive(Debug)]
pub struct SegmentRead {
    pub records: Vec<LogEntry>,
    /// Lines holding zero bytes, left out: pages of the file that never reached the
    /// disk before the machine stopped (the journal is not synced on SQLite). Each
    /// such line is at least one record lost; the records around it are read.
    pub zeroed_lines: usize,
}

/// The records of a segment. A last line cut short (the process stopped in the
/// middle of a write) is left out: its responses were never completed. A line with
/// zero bytes in it (a record never holds one: JSON escapes control characters) is a
/// page lost to a machine crash and is left out and counted. Any other line that is
/// not a record is an error naming the file and line. A line that is a whole record
/// as a JSON object (the journal's earlier form) is read too.
pub fn read_segment(path: &Path) -> Result<SegmentRead, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // A segment the process did not close ends in the zero bytes it had reserved.
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = &bytes[..end];
    let complete = text.ends_with(b"\n");
    let lines: Vec<&[u8]> = match text.strip_suffix(b"\n").unwrap_or(text) {
        [] => Vec::new(),
        body => body.split(|&b| b == b'\n').collect(),
    };
    let mut read = SegmentRead { records: Vec::with_capacity(lines.len()), zeroed_lines: 0 };
    for (i, line) in lines.iter().enumerate() {
        if line.contains(&0) {
            read.zeroed_lines += 1;
            continue;
        }
        let entry = match std::str::from_utf8(line) {
            Err(e) => Err(e.to_string()),
            Ok(line) if line.starts_with('{') => {
                serde_json::from_str(line).map(MessageRecord::into_entry).map_err(|e| e.to_string())
            }
            Ok(line) => LogEntry::from_fields(line.to_string()),
        };
        match entry {
            Ok(e) => read.records.push(e),
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => return Err(format!("{} line {}: not a message record ({e})", path.display(), i + 1)),
        }
    }
    Ok(read)
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

    pub(crate) fn entry(id: &str) -> LogEntry {
        record(id).into_entry()
    }

    /// A segment's records as their fields text, the form the journal keeps.
    fn read_texts(path: &Path) -> Vec<String> {
        let read = read_segment(path).unwrap();
        assert_eq!(read.zeroed_lines, 0);
        read.records.into_iter().map(|e| e.fields).collect()
    }

    fn texts<'a>(entries: impl IntoIterator<Item = &'a LogEntry>) -> Vec<String> {
        entries.into_iter().map(|e| e.fields.clone()).collect()
    }

    #[test]
    fn segments_are_numbered_read_back_and_found_again_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, leftover) = Journal::open(dir.path(), false).unwrap();
        assert!(leftover.is_empty());
        assert_eq!(j.close_segment(), None, "nothing written, no segment");
        let (a, b, c) = (entry("a"), entry("b"), entry("c"));
        j.append(&[a.clone(), b.clone()]).unwrap();
        j.append(std::slice::from_ref(&c)).unwrap();
        let first = j.close_segment().unwrap();
        assert!(first.ends_with("segment-00000000000000000001.jsonl"), "{}", first.display());
        assert_eq!(read_texts(&first), texts([&a, &b, &c]));
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
    fn a_closed_segment_is_cut_to_its_records_and_an_unclosed_one_reads_past_its_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), false).unwrap();
        let (a, b) = (entry("a"), entry("b"));
        j.append(&[a.clone(), b.clone()]).unwrap();
        let closed = j.close_segment().unwrap();
        let expected = format!("{}\n{}\n", a.fields, b.fields);
        assert_eq!(std::fs::read_to_string(&closed).unwrap(), expected, "no reserved bytes are left after closing");

        j.append(std::slice::from_ref(&a)).unwrap();
        let unclosed = dir.path().join("segment-00000000000000000002.jsonl");
        assert_eq!(std::fs::metadata(&unclosed).unwrap().len(), CHUNK as u64, "the piece is reserved on disk");
        drop(j);
        assert_eq!(read_texts(&unclosed), texts([&a]));
    }

    #[test]
    fn records_larger_than_a_piece_span_pieces_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), false).unwrap();
        let big =
            |id: &str, fill: char| MessageRecord { body: Some(fill.to_string().repeat(CHUNK * 2 / 3)), ..record(id) };
        let records: Vec<_> = [big("a", 'x'), record("b"), big("c", 'y')].map(MessageRecord::into_entry).into();
        j.append(&records[..2]).unwrap();
        j.append(&records[2..]).unwrap();
        let path = j.close_segment().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > CHUNK as u64, "the segment spans two pieces");
        assert_eq!(read_texts(&path), texts(&records));
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_a_broken_one_elsewhere_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("segment-00000000000000000001.jsonl");
        let line = entry("a").fields;
        std::fs::write(&path, format!("{line}\n{}", &line[..40])).unwrap();
        assert_eq!(read_texts(&path), vec![line.clone()]);
        let b = record("b");
        let earlier_form = serde_json::to_string(&b).unwrap();
        std::fs::write(&path, format!("{line}\n{earlier_form}\n")).unwrap();
        assert_eq!(read_texts(&path), vec![line.clone(), b.fields_text()], "a whole record as an object is read too");
        std::fs::write(&path, format!("{line}\n{{oops\n{line}\n")).unwrap();
        let e = read_segment(&path).unwrap_err();
        assert!(e.contains("line 2: not a message record"), "{e}");
    }

    #[test]
    fn pages_a_machine_crash_left_as_zeros_lose_their_records_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("segment-00000000000000000001.jsonl");
        let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|id| entry(id).fields);
        // b's end, all of c and d's start never reached the disk; e and the reserved
        // tail follow.
        let mut bytes = format!("{a}\n{b}\n{c}\n{d}\n{e}\n").into_bytes();
        let hole = a.len() + 1 + b.len() / 2..a.len() + b.len() + c.len() + 3 + d.len() / 2;
        bytes[hole].fill(0);
        bytes.extend(std::iter::repeat_n(0, 4096));
        std::fs::write(&path, &bytes).unwrap();
        let read = read_segment(&path).unwrap();
        assert_eq!(texts(&read.records), vec![a, e], "the records around the hole are read");
        assert_eq!(read.zeroed_lines, 1, "b, c and d ran together into one zeroed line");
    }
}
