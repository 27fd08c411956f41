//! Nhật ký thông điệp — the gateway's message log writer, in two steps:
//!
//! 1. **Journal.** A record is written to the [`journal`](super::journal) before its
//!    response may complete. When the journal is not synced (SQLite), the exchange
//!    copies its own record into the journal's mapped segment under a lock and goes on:
//!    no system call, no hand-off to another task and no wake-up back. When it is
//!    synced (PostgreSQL), the exchange hands its record to the writer task, which
//!    takes every record waiting (group commit), writes and syncs them at once and only
//!    then lets their responses go.
//! 2. **Move.** Every [`MOVE_EVERY`] (or [`MOVE_RECORDS`] records) the writer task
//!    closes the journal's segment and hands it to a second task, which appends its
//!    records to the store in one transaction — chained under the store's
//!    `message_head` lock — deletes the segment and signs a checkpoint with the node's
//!    Ed25519 key every N records or T seconds. Segments left at start are moved first.
//!
//! The store thus sees a few large commits instead of one per batch of responses,
//! while a record is still durable before its response ends. Readers of the message
//! log first [`settle`](Logbook::settle) it: they see every record written so far.
//! A third task copies the store's write-ahead log into the database beside them
//! (SQLite), so that the commits only append. When the store does not take the journal
//! (it is down), exchanges wait once [`BACKLOG_LIMIT`] records are waiting for it: the
//! gateway slows down rather than holding an unbounded backlog in memory.
//!
//! A response is never complete before its record is journaled: [`LoggedBody`] holds
//! back the response's last chunk until the record is written. A client that has the
//! whole response therefore has a logged exchange, also when the server is stopped
//! mid-run.

use super::journal::{self, Journal};
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use kho_exchange::msglog::{LogEntry, MessageRecord, NodeKey};
use kho_store::exchange::HEALTH_PAGE;
use kho_store::{Backend, MessageQuery, MetadataStore};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch, Notify};

/// Entries the writer takes at most in one journal write (synced journal).
const BATCH: usize = 512;
/// Entries waiting for the writer before callers wait to hand theirs over.
const QUEUE: usize = 16_384;
/// How often the journal's records are moved into the store… Larger moves cost less a
/// record when callers send their own random `X-Road-Id`s: each record then changes a
/// page of the `message_id` index anywhere in it, and a page changed by many records of
/// one move is written once (docs/benchmarks.md, 2026-12-02).
pub const MOVE_EVERY: Duration = Duration::from_millis(1000);
/// …or after how many records, whichever comes first.
pub const MOVE_RECORDS: usize = 20_000;
/// Segments handed to the mover and not yet moved before the writer waits.
const MOVES_WAITING: usize = 4;
/// Records journaled and not yet in the store before exchanges wait for the mover.
pub const BACKLOG_LIMIT: i64 = ((MOVES_WAITING + 1) * MOVE_RECORDS) as i64;
/// How often the write-ahead log is copied into the database.
const WAL_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// How long the mover keeps trying a segment before it leaves it for the next start.
const MOVE_ATTEMPTS: u32 = 8;

/// When checkpoints are signed.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many records…
    pub every_records: i64,
    /// …or this long after the first record not yet signed.
    pub every: Duration,
}

type Ack = oneshot::Sender<Result<(), String>>;

/// What the log writer shows on `/metrics`: a backlog that only grows means the store
/// does not take the journal any more.
#[derive(Clone, Default)]
pub struct JournalStats {
    /// Records journaled and not yet in the store.
    pub backlog: Gauge,
    /// Segments moved into the store.
    pub moved: Counter,
    /// Segments the mover gave up on (they stay in the journal for the next start).
    pub failed: Counter,
}

// Nearly every entry is a record: boxing it would add an allocation per exchange to
// spare the rare `Settle` its size.
#[allow(clippy::large_enum_variant)]
enum Entry {
    /// A record for the synced journal, and who waits for it to be written.
    Record(LogEntry, Option<Ack>),
    /// Someone waits for everything journaled so far to be in the store.
    Settle(Ack),
}

/// The journal and what was written to it since the last hand-over to the mover.
struct Shelf {
    journal: Journal,
    /// The records of the segments below, in journal order.
    pending: Vec<LogEntry>,
    /// Segments closed and not yet handed over (one cut short by a failed write).
    closed: Vec<PathBuf>,
    /// Set when the log stops: nothing is written any more.
    stopped: bool,
    stats: JournalStats,
    held: Arc<Held>,
}

impl Shelf {
    /// Appends `records` to the journal at once (synced when the journal is) and keeps
    /// them for the mover; `Ok(true)` when the segment is due to be moved ([`MOVE_RECORDS`]).
    /// A failed write closes the segment, so that the next records start a clean one.
    fn write(&mut self, records: impl IntoIterator<Item = LogEntry>) -> Result<bool, String> {
        if self.stopped {
            return Err("the message log is closed".into());
        }
        let start = self.pending.len();
        self.pending.extend(records);
        let written = (self.pending.len() - start) as i64;
        match self.journal.append(&self.pending[start..]) {
            Ok(()) => {
                self.stats.backlog.inc_by(written);
                self.held.records.fetch_add(written, Ordering::Relaxed);
                Ok(self.pending.len() >= MOVE_RECORDS)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot write the message journal");
                self.pending.truncate(start);
                self.closed.extend(self.journal.close_segment());
                Err(format!("the message log could not be written: {e}"))
            }
        }
    }

    /// Closes the open segment and takes every record written so far.
    fn take(&mut self) -> (Vec<PathBuf>, Vec<LogEntry>) {
        let mut paths = std::mem::take(&mut self.closed);
        paths.extend(self.journal.close_segment());
        (paths, std::mem::replace(&mut self.pending, self.held.spare()))
    }
}

/// The handle the gateway writes through.
pub struct Logbook {
    shelf: Arc<Mutex<Shelf>>,
    /// Whether an exchange writes its own record (the journal is not synced) rather
    /// than handing it to the writer task.
    inline: bool,
    sender: mpsc::Sender<Entry>,
    /// Wakes the writer task when the open segment holds [`MOVE_RECORDS`].
    full: Arc<Notify>,
    held: Arc<Held>,
    stop: watch::Sender<bool>,
    tasks: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    public_key: String,
}

/// Records of this run held in memory until the mover is done with them, and the
/// signal exchanges waiting for room wait on.
#[derive(Default)]
struct Held {
    records: AtomicI64,
    released: Notify,
    /// A moved segment's record list, emptied, for the next segment to fill: the list
    /// grows to [`MOVE_RECORDS`] entries (megabytes), and reusing it spares the serving
    /// threads growing a fresh one — its copies and first touches of new pages — every
    /// segment.
    spare: Mutex<Vec<LogEntry>>,
}

impl Held {
    fn release(&self, records: usize) {
        self.records.fetch_sub(records as i64, Ordering::Relaxed);
        self.released.notify_waiters();
    }

    /// Keeps `records`' room for the next segment (its entries are dropped here).
    fn recycle(&self, mut records: Vec<LogEntry>) {
        records.clear();
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if records.capacity() > spare.capacity() {
            *spare = records;
        }
    }

    /// The room kept by [`recycle`](Self::recycle), or an empty list.
    fn spare(&self) -> Vec<LogEntry> {
        std::mem::take(&mut *self.spare.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn full(&self) -> bool {
        self.records.load(Ordering::Relaxed) >= BACKLOG_LIMIT
    }
}

fn lock(shelf: &Mutex<Shelf>) -> MutexGuard<'_, Shelf> {
    shelf.lock().unwrap_or_else(|e| e.into_inner())
}

impl Logbook {
    /// Opens the journal in `journal_dir` and starts the writer and the mover on
    /// `store`, signing with `key`.
    pub fn start(
        store: Arc<dyn MetadataStore>,
        key: NodeKey,
        policy: CheckpointPolicy,
        journal_dir: &Path,
        stats: JournalStats,
    ) -> std::io::Result<Self> {
        Self::start_moving_every(store, key, policy, journal_dir, stats, MOVE_EVERY)
    }

    fn start_moving_every(
        store: Arc<dyn MetadataStore>,
        key: NodeKey,
        policy: CheckpointPolicy,
        journal_dir: &Path,
        stats: JournalStats,
        move_every: Duration,
    ) -> std::io::Result<Self> {
        let synced = store.backend() == Backend::Postgres;
        let (journal, leftover) = Journal::open(journal_dir, synced)?;
        let (full, held) = (Arc::new(Notify::new()), Arc::new(Held::default()));
        let shelf = Shelf {
            journal,
            pending: Vec::new(),
            closed: Vec::new(),
            stopped: false,
            stats: stats.clone(),
            held: held.clone(),
        };
        let shelf = Arc::new(Mutex::new(shelf));
        let (sender, receiver) = mpsc::channel(QUEUE);
        let (moves, to_move) = mpsc::channel(MOVES_WAITING);
        let (stop, stopped) = watch::channel(false);
        let public_key = key.public_hex();
        let wal = tokio::spawn(copy_wal(store.clone(), stopped.clone()));
        let mover = Mover { store, key, policy, last_checkpoint: None, stats, held: held.clone() };
        let mover = tokio::spawn(mover.run(leftover, to_move));
        let writer = Writer { shelf: shelf.clone(), moves, move_every, full: full.clone() };
        let writer = tokio::spawn(writer.run(receiver, stopped));
        Ok(Self {
            shelf,
            inline: !synced,
            sender,
            full,
            held,
            stop,
            tasks: tokio::sync::Mutex::new(vec![writer, mover, wal]),
            public_key,
        })
    }

    /// The node's public key (hex), as checkpoints carry it.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Journals a record; `Ok` once it is written. Its fields are written as text here,
    /// once: the journal and the store keep that text.
    pub async fn submit(&self, record: MessageRecord) -> Result<(), String> {
        self.wait_for_room().await;
        let record = record.into_entry();
        if self.inline {
            return self.write_inline(record);
        }
        let (ack, done) = oneshot::channel();
        if self.sender.send(Entry::Record(record, Some(ack))).await.is_err() {
            return Err("the message log is closed".into());
        }
        done.await.unwrap_or_else(|_| Err("the message log stopped".into()))
    }

    /// Journals a record without waiting (a response that was abandoned).
    pub fn submit_detached(&self, record: MessageRecord) {
        let record = record.into_entry();
        let outcome = if self.inline {
            self.write_inline(record)
        } else {
            self.sender.try_send(Entry::Record(record, None)).map_err(|_| "the queue is full or closed".to_string())
        };
        if let Err(why) = outcome {
            tracing::error!(%why, "a record of an abandoned exchange is lost");
        }
    }

    fn write_inline(&self, record: LogEntry) -> Result<(), String> {
        if lock(&self.shelf).write(std::iter::once(record))? {
            self.full.notify_one();
        }
        Ok(())
    }

    /// Waits while [`BACKLOG_LIMIT`] records are held for the mover.
    async fn wait_for_room(&self) {
        while self.held.full() {
            let released = self.held.released.notified();
            if !self.held.full() {
                break;
            }
            released.await;
        }
    }

    /// Waits until every record handed over so far is in the store (for readers of
    /// the message log). A closed log has moved everything already.
    pub async fn settle(&self) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        if self.sender.send(Entry::Settle(ack)).await.is_err() {
            return Ok(());
        }
        done.await.unwrap_or(Ok(()))
    }

    /// Writes and moves what is queued, signs a last checkpoint, stops and lets the
    /// journal's directory go.
    pub async fn close(&self) {
        let _ = self.stop.send(true);
        for task in self.tasks.lock().await.drain(..) {
            let _ = task.await;
        }
        lock(&self.shelf).journal.release();
    }
}

/// Copies the store's write-ahead log into the database every
/// [`WAL_CHECKPOINT_EVERY`] until the log stops, so that the mover's commits only
/// append to it.
async fn copy_wal(store: Arc<dyn MetadataStore>, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(WAL_CHECKPOINT_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(e) = store.checkpoint_wal().await {
                    tracing::warn!(error = %e, "cannot copy the write-ahead log into the database");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Closed segments on their way into the store.
struct Segment {
    paths: Vec<PathBuf>,
    records: Vec<LogEntry>,
    /// How many of the records count as [`Held`] (none for a segment found at start).
    held: usize,
    settled: Vec<Ack>,
}

/// Writes the synced journal's batches and hands closed segments to the mover.
struct Writer {
    shelf: Arc<Mutex<Shelf>>,
    moves: mpsc::Sender<Segment>,
    /// [`MOVE_EVERY`], but in tests.
    move_every: Duration,
    full: Arc<Notify>,
}

impl Writer {
    async fn run(self, mut receiver: mpsc::Receiver<Entry>, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + self.move_every, self.move_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                first = receiver.recv() => match first {
                    Some(first) => self.take_waiting(first, &mut receiver).await,
                    None => break,
                },
                _ = self.full.notified() => self.hand_over(Vec::new()).await,
                _ = ticker.tick() => self.hand_over(Vec::new()).await,
                _ = stop.changed() => {
                    receiver.close();
                    while let Some(first) = receiver.recv().await {
                        self.take_waiting(first, &mut receiver).await;
                    }
                    break;
                }
            }
        }
        lock(&self.shelf).stopped = true;
        self.hand_over(Vec::new()).await;
    }

    /// Journals `first` and every entry waiting behind it in one write, then answers
    /// their senders.
    async fn take_waiting(&self, first: Entry, receiver: &mut mpsc::Receiver<Entry>) {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (mut records, mut acks, mut settled) = (Vec::new(), Vec::new(), Vec::new());
        for entry in batch {
            match entry {
                Entry::Record(r, ack) => {
                    records.push(r);
                    acks.extend(ack);
                }
                Entry::Settle(ack) => settled.push(ack),
            }
        }
        let mut full = false;
        if !records.is_empty() {
            let outcome = lock(&self.shelf).write(records);
            full = outcome == Ok(true);
            for ack in acks {
                let _ = ack.send(outcome.clone().map(|_| ()));
            }
        }
        if !settled.is_empty() || full {
            self.hand_over(settled).await;
        }
    }

    /// Closes the open segment and hands what was written to the mover, with the
    /// readers waiting for it (a reader is answered after earlier segments too).
    async fn hand_over(&self, settled: Vec<Ack>) {
        let (paths, records) = lock(&self.shelf).take();
        if paths.is_empty() && records.is_empty() && settled.is_empty() {
            return;
        }
        let segment = Segment { paths, held: records.len(), records, settled };
        if let Err(mpsc::error::SendError(segment)) = self.moves.send(segment).await {
            for ack in segment.settled {
                let _ = ack.send(Err("the message log stopped".into()));
            }
        }
    }
}

/// Moves journaled records into the store and signs checkpoints.
struct Mover {
    store: Arc<dyn MetadataStore>,
    key: NodeKey,
    policy: CheckpointPolicy,
    /// The seq of the last signed checkpoint (read on the first write).
    last_checkpoint: Option<i64>,
    stats: JournalStats,
    held: Arc<Held>,
}

impl Mover {
    async fn run(mut self, leftover: Vec<PathBuf>, mut segments: mpsc::Receiver<Segment>) {
        self.count_health().await;
        for path in leftover {
            self.recover(&path).await;
        }
        let mut ticker = tokio::time::interval(self.policy.every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                segment = segments.recv() => match segment {
                    Some(s) => self.move_segment(s).await,
                    None => break,
                },
                _ = ticker.tick() => self.checkpoint(false, None).await,
            }
        }
        self.checkpoint(false, None).await;
    }

    /// Counts the records of a log stored before the services' health was kept (nothing
    /// to do otherwise: each move counts its own records).
    async fn count_health(&self) {
        let mut pages: i64 = 0;
        loop {
            match self.store.count_health(HEALTH_PAGE).await {
                Ok(true) => break,
                Ok(false) => pages += 1,
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        "cannot count the stored message log into the services' health; it is counted again at the \
                         next start, and health stays as it is until then"
                    );
                    return;
                }
            }
            if pages % 20 == 0 {
                tracing::info!(
                    records = pages * HEALTH_PAGE,
                    "counting the stored message log into the services' health"
                );
            }
        }
        if pages > 0 {
            tracing::info!("the stored message log is counted into the services' health");
        }
    }

    /// Moves a segment found at start, unless a crash came between its commit and its
    /// deletion (its last record is in the store already).
    async fn recover(&mut self, path: &Path) {
        let records = match journal::read_segment(path) {
            Ok(read) => {
                if read.zeroed_lines > 0 {
                    tracing::warn!(
                        path = %path.display(),
                        zeroed_lines = read.zeroed_lines,
                        records = read.records.len(),
                        "a message-journal segment has lines the machine's stop left as zeros: at least one record \
                         each is lost; the records around them are moved"
                    );
                }
                read.records
            }
            Err(e) => {
                tracing::error!(error = %e, "a message-journal segment cannot be read; it is kept where it is");
                return;
            }
        };
        let moved = match records.last() {
            None => true,
            Some(last) => {
                let query =
                    MessageQuery { message_id: Some(last.message_id.clone()), limit: 1000, ..Default::default() };
                match self.store.list_messages(&query).await {
                    Ok(found) => found.iter().any(|r| r.fields_text() == last.fields),
                    Err(e) => {
                        tracing::error!(error = %e, path = %path.display(), "cannot check a journal segment; kept");
                        return;
                    }
                }
            }
        };
        let segment = Segment { paths: vec![path.to_path_buf()], records, held: 0, settled: Vec::new() };
        if moved {
            remove(&segment);
        } else {
            tracing::info!(records = segment.records.len(), path = %path.display(), "moving a journal segment left from before");
            self.stats.backlog.inc_by(segment.records.len() as i64);
            self.move_segment(segment).await;
        }
    }

    async fn move_segment(&mut self, mut segment: Segment) {
        let mut outcome = Ok(());
        if !segment.records.is_empty() {
            outcome = Err(String::new());
            for attempt in 0..MOVE_ATTEMPTS {
                match self.store.append_messages(&mut segment.records).await {
                    Ok(head) => {
                        outcome = Ok(());
                        self.stats.backlog.dec_by(segment.records.len() as i64);
                        self.stats.moved.inc();
                        remove(&segment);
                        self.checkpoint(true, Some(head)).await;
                        break;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, attempt, "cannot move the message journal into the store");
                        outcome = Err(format!("the message log could not be stored: {e}"));
                        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                    }
                }
            }
            if outcome.is_err() {
                self.stats.failed.inc();
                tracing::error!(
                    paths = ?segment.paths,
                    "a message-journal segment stays in the journal; it is moved at the next start"
                );
            }
        } else {
            remove(&segment);
        }
        self.held.release(segment.held);
        self.held.recycle(segment.records);
        for ack in segment.settled {
            let _ = ack.send(outcome.clone());
        }
    }

    /// Signs the head when enough records are unsigned (`by_count`, with the head the
    /// last append returned) or any are (the timer, and on close: the head is read).
    async fn checkpoint(&mut self, by_count: bool, head: Option<(i64, String)>) {
        let result: Result<(), kho_store::StoreError> = async {
            let last = match self.last_checkpoint {
                Some(seq) => seq,
                None => self.store.checkpoints().await?.last().map(|c| c.seq).unwrap_or(0),
            };
            self.last_checkpoint = Some(last);
            if head.as_ref().is_some_and(|(seq, _)| by_count && seq - last < self.policy.every_records) {
                return Ok(());
            }
            let (seq, hash) = match head {
                Some(h) => h,
                None => self.store.message_head().await?,
            };
            let unsigned = seq - last;
            if unsigned <= 0 || (by_count && unsigned < self.policy.every_records) {
                return Ok(());
            }
            let checkpoint = self.key.sign_checkpoint(seq, &hash, kho_core::time::now());
            self.store.add_checkpoint(&checkpoint).await?;
            self.last_checkpoint = Some(seq);
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot sign a message-log checkpoint");
        }
    }
}

/// Deletes a moved segment's files.
fn remove(segment: &Segment) {
    for path in &segment.paths {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(error = %e, path = %path.display(), "cannot delete a moved journal segment");
        }
    }
}

/// What finishes an exchange's record when its response body ends.
pub trait Finish: Send + 'static {
    /// A chunk of the response went by.
    fn chunk(&mut self, _data: &Bytes) {}
    /// Completes the record (sizes, time out) and journals it; the future ends when
    /// it is written.
    fn finish(self: Box<Self>, response_size: i64) -> BoxFuture<'static, Result<(), String>>;
    /// The response was abandoned before its end (the client left, the body broke).
    fn abandon(self: Box<Self>, response_size: i64, why: String);
}

enum Stage {
    Streaming,
    Journaling(BoxFuture<'static, Result<(), String>>),
    Done,
}

/// A response body that ends only after the exchange's record is stored: it keeps
/// the latest chunk back until then.
pub struct LoggedBody {
    inner: axum::body::Body,
    held: Option<Bytes>,
    size: i64,
    finish: Option<Box<dyn Finish>>,
    stage: Stage,
}

impl LoggedBody {
    pub fn new(inner: axum::body::Body, finish: Box<dyn Finish>) -> Self {
        Self { inner, held: None, size: 0, finish: Some(finish), stage: Stage::Streaming }
    }
}

impl HttpBody for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        loop {
            match &mut this.stage {
                Stage::Streaming => match Pin::new(&mut this.inner).poll_frame(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                        Ok(data) => {
                            this.size += data.len() as i64;
                            if let Some(f) = this.finish.as_mut() {
                                f.chunk(&data);
                            }
                            if let Some(previous) = this.held.replace(data) {
                                return Poll::Ready(Some(Ok(Frame::data(previous))));
                            }
                        }
                        Err(frame) => return Poll::Ready(Some(Ok(frame))),
                    },
                    Poll::Ready(Some(Err(e))) => {
                        if let Some(f) = this.finish.take() {
                            f.abandon(this.size, format!("the response body broke: {e}"));
                        }
                        this.stage = Stage::Done;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Poll::Ready(None) => match this.finish.take() {
                        Some(f) => this.stage = Stage::Journaling(f.finish(this.size)),
                        None => this.stage = Stage::Done,
                    },
                },
                Stage::Journaling(future) => match future.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(())) => this.stage = Stage::Done,
                    Poll::Ready(Err(why)) => {
                        this.stage = Stage::Done;
                        this.held = None;
                        return Poll::Ready(Some(Err(axum::Error::new(why))));
                    }
                },
                Stage::Done => return Poll::Ready(this.held.take().map(|d| Ok(Frame::data(d)))),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.stage, Stage::Done) && self.held.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if let Some(f) = self.finish.take() {
            f.abandon(self.size, "the client closed the connection before the response ended".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::journal::tests::{entry, record};
    use kho_store::testing::TestDb;

    const POLICY: CheckpointPolicy = CheckpointPolicy { every_records: 1000, every: Duration::from_secs(10) };

    fn segments(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().filter(|e| e.as_ref().unwrap().file_name() != "LOCK").count()
    }

    /// On SQLite the exchange writes its record itself; on PostgreSQL the writer task
    /// writes and syncs it: the same steps either way.
    async fn journaled_then_moved_chained_and_signed(db: TestDb) {
        let dir = tempfile::tempdir().unwrap();
        let store = kho_store::connect(&db.url).await.unwrap();
        let hour = Duration::from_secs(3600);
        let stats = JournalStats::default();
        let log =
            Logbook::start_moving_every(store.clone(), NodeKey::generate(), POLICY, dir.path(), stats.clone(), hour)
                .unwrap();
        assert_eq!(log.inline, db.backend == Backend::Sqlite);
        for id in ["a", "b", "c"] {
            log.submit(record(id)).await.unwrap();
        }
        assert_eq!(segments(dir.path()), 1, "acknowledged records are in the journal");
        assert_eq!(store.count_messages().await.unwrap(), 0, "and not yet in the store");
        assert_eq!(stats.backlog.get(), 3);
        log.settle().await.unwrap();
        assert_eq!(store.count_messages().await.unwrap(), 3);
        assert_eq!((stats.backlog.get(), stats.moved.get(), stats.failed.get()), (0, 1, 0));
        assert_eq!(log.held.records.load(Ordering::Relaxed), 0, "the mover let go of what it moved");
        assert_eq!(segments(dir.path()), 0, "a moved segment is deleted");
        assert_eq!(store.message_head().await.unwrap().0, 3);
        log.close().await;
        assert_eq!(store.checkpoints().await.unwrap().last().map(|c| c.seq), Some(3), "closing signs the head");
        let late = log.submit(record("late")).await.unwrap_err();
        assert!(late.contains("closed"), "{late}");
        assert_eq!(store.count_messages().await.unwrap(), 3);
        let health = store.service_health().await.unwrap();
        assert_eq!(health.iter().map(|h| h.exchanges()).collect::<Vec<_>>(), [3], "each move counts its records");
        Journal::open(dir.path(), false).expect("a closed log lets its journal's directory go");
    }

    #[tokio::test]
    async fn records_are_journaled_then_moved_chained_and_signed_on_sqlite() {
        journaled_then_moved_chained_and_signed(TestDb::sqlite()).await;
    }

    #[tokio::test]
    async fn records_are_journaled_then_moved_chained_and_signed_on_postgresql() {
        if let Some(db) = TestDb::postgres().await {
            journaled_then_moved_chained_and_signed(db).await;
        }
    }

    #[tokio::test]
    async fn exchanges_wait_while_the_backlog_is_full_and_go_on_when_the_mover_lets_go() {
        let (db, dir) = (TestDb::sqlite(), tempfile::tempdir().unwrap());
        let store = kho_store::connect(&db.url).await.unwrap();
        let log = Arc::new(
            Logbook::start(store.clone(), NodeKey::generate(), POLICY, dir.path(), JournalStats::default()).unwrap(),
        );
        // As if the store had not taken the journal for a while.
        log.held.records.store(BACKLOG_LIMIT, Ordering::Relaxed);
        let waiting = tokio::spawn({
            let log = log.clone();
            async move { log.submit(record("w")).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "a full backlog holds the exchange back");
        log.held.release(1);
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().unwrap();
        log.held.release(BACKLOG_LIMIT as usize - 1);
        log.settle().await.unwrap();
        assert_eq!(store.count_messages().await.unwrap(), 1);
        log.close().await;
    }

    #[tokio::test]
    async fn a_log_stored_before_health_was_kept_is_counted_when_the_log_starts() {
        let (db, dir) = (TestDb::sqlite(), tempfile::tempdir().unwrap());
        let store = kho_store::connect(&db.url).await.unwrap();
        let n = 2 * HEALTH_PAGE as usize + 10;
        let mut earlier: Vec<LogEntry> = (0..n).map(|i| entry(&format!("e{i}"))).collect();
        store.append_messages(&mut earlier).await.unwrap();
        // The store as migration 15 leaves a log written before it.
        let raw = sqlx::AnyPool::connect(&db.url).await.unwrap();
        sqlx::raw_sql("DELETE FROM service_health; UPDATE message_head SET health_seq = 0")
            .execute(&raw)
            .await
            .unwrap();

        let log =
            Logbook::start(store.clone(), NodeKey::generate(), POLICY, dir.path(), JournalStats::default()).unwrap();
        log.submit(record("after")).await.unwrap();
        log.settle().await.unwrap();
        let health = store.service_health().await.unwrap();
        assert_eq!(health.iter().map(|h| h.exchanges()).collect::<Vec<_>>(), [n as u64 + 1]);
        log.close().await;
    }

    #[tokio::test]
    async fn segments_left_by_a_crash_are_moved_at_start_and_never_twice() {
        let (db, dir) = (TestDb::sqlite(), tempfile::tempdir().unwrap());
        let store = kho_store::connect(&db.url).await.unwrap();
        // A crash after the first segment was committed but before it was deleted, and
        // before the second was moved at all; the third was cut in the middle of a line.
        let (mut journal, _) = Journal::open(dir.path(), false).unwrap();
        let moved = [entry("m1"), entry("m2")];
        journal.append(&moved).unwrap();
        journal.close_segment().unwrap();
        store.append_messages(&mut moved.clone()).await.unwrap();
        let waiting = [entry("w1"), entry("w2"), entry("w3")];
        journal.append(&waiting).unwrap();
        journal.close_segment().unwrap();
        drop(journal);
        let third = dir.path().join("segment-00000000000000000003.jsonl");
        let line = entry("t1").fields;
        std::fs::write(&third, format!("{line}\n{}", &line[..30])).unwrap();

        let stats = JournalStats::default();
        let log = Logbook::start(store.clone(), NodeKey::generate(), POLICY, dir.path(), stats.clone()).unwrap();
        log.settle().await.unwrap();
        assert_eq!(stats.backlog.get(), 0, "what was moved at start is not waiting any more");
        let ids: Vec<String> = store.message_range(0, 100).await.unwrap().into_iter().map(|r| r.message_id).collect();
        assert_eq!(ids, ["m1", "m2", "w1", "w2", "w3", "t1"], "each record once, in journal order");
        assert_eq!(segments(dir.path()), 0);
        log.submit(record("after")).await.unwrap();
        log.close().await;
        assert_eq!(store.count_messages().await.unwrap(), 7);
    }

    #[test]
    fn a_moved_segments_room_is_kept_for_the_next_one() {
        let held = Held::default();
        assert_eq!(held.spare().capacity(), 0, "nothing kept yet");
        let mut full = Vec::with_capacity(64);
        full.extend([entry("a"), entry("b")]);
        held.recycle(full);
        held.recycle(Vec::with_capacity(8));
        let spare = held.spare();
        assert!(spare.is_empty(), "the records are dropped, only their room is kept");
        assert_eq!(spare.capacity(), 64, "the larger room is the one kept");
        assert_eq!(held.spare().capacity(), 0, "a room is handed out once");
    }
}
