//! Nhật ký thông điệp — the gateway's message log writer, in two steps:
//!
//! 1. **Journal.** One task takes every record waiting (group commit), writes them
//!    to the [`journal`](super::journal) in one write and only then lets their
//!    responses complete.
//! 2. **Move.** Every [`MOVE_EVERY`] (or [`MOVE_RECORDS`] records) that task closes
//!    the journal's segment and hands it to a second task, which appends its records
//!    to the store in one transaction — chained under the store's `message_head`
//!    lock — deletes the segment and signs a checkpoint with the node's Ed25519 key
//!    every N records or T seconds. Segments left at start are moved first.
//!
//! The store thus sees a few large commits instead of one per batch of responses,
//! while a record is still durable before its response ends. Readers of the message
//! log first [`settle`](Logbook::settle) it: they see every record written so far.
//! A third task copies the store's write-ahead log into the database beside them
//! (SQLite), so that the commits only append.
//!
//! A response is never complete before its record is journaled: [`LoggedBody`] holds
//! back the response's last chunk until the writer says the record is written. A
//! client that has the whole response therefore has a logged exchange, also when the
//! server is stopped mid-run.

use super::journal::{self, Journal};
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use kho_exchange::msglog::{MessageRecord, NodeKey};
use kho_store::{Backend, MessageQuery, MetadataStore};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Entries the writer takes at most in one journal write.
const BATCH: usize = 512;
/// Records waiting for the writer before callers wait to hand theirs over.
const QUEUE: usize = 16_384;
/// How often the journal's records are moved into the store…
pub const MOVE_EVERY: Duration = Duration::from_millis(200);
/// …or after how many records, whichever comes first.
pub const MOVE_RECORDS: usize = 20_000;
/// Segments handed to the mover and not yet moved before the writer waits.
const MOVES_WAITING: usize = 4;
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
    /// A record and who waits for it to be journaled.
    Record(MessageRecord, Option<Ack>),
    /// Someone waits for everything journaled so far to be in the store.
    Settle(Ack),
}

/// The handle the gateway writes through.
pub struct Logbook {
    sender: mpsc::Sender<Entry>,
    stop: watch::Sender<bool>,
    tasks: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    public_key: String,
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
        let (journal, leftover) = Journal::open(journal_dir, store.backend() == Backend::Postgres)?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        let (moves, to_move) = mpsc::channel(MOVES_WAITING);
        let (stop, stopped) = watch::channel(false);
        let public_key = key.public_hex();
        let wal = tokio::spawn(copy_wal(store.clone(), stopped.clone()));
        let mover = Mover { store, key, policy, last_checkpoint: None, stats: stats.clone() };
        let mover = tokio::spawn(mover.run(leftover, to_move));
        let writer = Writer { journal, pending: Vec::new(), moves, move_every, stats };
        let writer = tokio::spawn(writer.run(receiver, stopped));
        Ok(Self { sender, stop, tasks: tokio::sync::Mutex::new(vec![writer, mover, wal]), public_key })
    }

    /// The node's public key (hex), as checkpoints carry it.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Hands a record over; the receiver says when it is journaled.
    pub async fn submit(&self, record: MessageRecord) -> oneshot::Receiver<Result<(), String>> {
        let (ack, done) = oneshot::channel();
        if let Err(mpsc::error::SendError(Entry::Record(_, Some(ack)))) =
            self.sender.send(Entry::Record(record, Some(ack))).await
        {
            let _ = ack.send(Err("the message log is closed".into()));
        }
        done
    }

    /// Hands a record over without waiting (a response that was abandoned).
    pub fn submit_detached(&self, record: MessageRecord) {
        if self.sender.try_send(Entry::Record(record, None)).is_err() {
            tracing::error!("the message log queue is full or closed; a record of an abandoned exchange is lost");
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

    /// Writes and moves what is queued, signs a last checkpoint and stops.
    pub async fn close(&self) {
        let _ = self.stop.send(true);
        for task in self.tasks.lock().await.drain(..) {
            let _ = task.await;
        }
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

/// A closed segment on its way into the store.
struct Segment {
    path: Option<PathBuf>,
    records: Vec<MessageRecord>,
    settled: Vec<Ack>,
}

/// Journals records and hands closed segments to the mover.
struct Writer {
    journal: Journal,
    /// The open segment's records.
    pending: Vec<MessageRecord>,
    moves: mpsc::Sender<Segment>,
    /// [`MOVE_EVERY`], but in tests.
    move_every: Duration,
    stats: JournalStats,
}

impl Writer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Entry>, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + self.move_every, self.move_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                first = receiver.recv() => match first {
                    Some(first) => self.take_waiting(first, &mut receiver).await,
                    None => break,
                },
                _ = ticker.tick() => {
                    if !self.pending.is_empty() {
                        self.hand_over(Vec::new()).await;
                    }
                }
                _ = stop.changed() => {
                    receiver.close();
                    while let Some(first) = receiver.recv().await {
                        self.take_waiting(first, &mut receiver).await;
                    }
                    break;
                }
            }
        }
        self.hand_over(Vec::new()).await;
    }

    /// Journals `first` and every entry waiting behind it in one write, then answers
    /// their senders.
    async fn take_waiting(&mut self, first: Entry, receiver: &mut mpsc::Receiver<Entry>) {
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
        if !records.is_empty() {
            let outcome = match self.journal.append(&records) {
                Ok(()) => {
                    self.stats.backlog.inc_by(records.len() as i64);
                    self.pending.append(&mut records);
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot write the message journal");
                    Err(format!("the message log could not be written: {e}"))
                }
            };
            let failed = outcome.is_err();
            for ack in acks {
                let _ = ack.send(outcome.clone());
            }
            if failed {
                // The failed write may have left part of a line: the segment is closed
                // (and moved) so that the next records start a clean one.
                self.hand_over(Vec::new()).await;
            }
        }
        if !settled.is_empty() || self.pending.len() >= MOVE_RECORDS {
            self.hand_over(settled).await;
        }
    }

    /// Closes the open segment and hands it to the mover.
    async fn hand_over(&mut self, settled: Vec<Ack>) {
        let segment =
            Segment { path: self.journal.close_segment(), records: std::mem::take(&mut self.pending), settled };
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
}

impl Mover {
    async fn run(mut self, leftover: Vec<PathBuf>, mut segments: mpsc::Receiver<Segment>) {
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

    /// Moves a segment found at start, unless a crash came between its commit and its
    /// deletion (its last record is in the store already).
    async fn recover(&mut self, path: &Path) {
        let records = match journal::read_segment(path) {
            Ok(r) => r,
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
                    Ok(found) => found.iter().any(|r| r.request_id == last.request_id),
                    Err(e) => {
                        tracing::error!(error = %e, path = %path.display(), "cannot check a journal segment; kept");
                        return;
                    }
                }
            }
        };
        let segment = Segment { path: Some(path.to_path_buf()), records, settled: Vec::new() };
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
                    path = ?segment.path,
                    "a message-journal segment stays in the journal; it is moved at the next start"
                );
            }
        } else {
            remove(&segment);
        }
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

/// Deletes a moved segment's file.
fn remove(segment: &Segment) {
    if let Some(path) = &segment.path {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(error = %e, path = %path.display(), "cannot delete a moved journal segment");
        }
    }
}

/// What finishes an exchange's record when its response body ends.
pub trait Finish: Send + 'static {
    /// A chunk of the response went by.
    fn chunk(&mut self, _data: &Bytes) {}
    /// Completes the record (sizes, time out) and hands it to the log; the receiver
    /// says when it is stored.
    fn finish(self: Box<Self>, response_size: i64) -> BoxFuture<'static, oneshot::Receiver<Result<(), String>>>;
    /// The response was abandoned before its end (the client left, the body broke).
    fn abandon(self: Box<Self>, response_size: i64, why: String);
}

enum Stage {
    Streaming,
    Handing(BoxFuture<'static, oneshot::Receiver<Result<(), String>>>),
    Committing(oneshot::Receiver<Result<(), String>>),
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
                        Some(f) => this.stage = Stage::Handing(f.finish(this.size)),
                        None => this.stage = Stage::Done,
                    },
                },
                Stage::Handing(future) => match future.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(receiver) => this.stage = Stage::Committing(receiver),
                },
                Stage::Committing(receiver) => match Pin::new(receiver).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(Ok(()))) => this.stage = Stage::Done,
                    Poll::Ready(outcome) => {
                        this.stage = Stage::Done;
                        let why = match outcome {
                            Ok(Err(why)) => why,
                            _ => "the message log stopped".to_string(),
                        };
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
    use crate::gateway::journal::tests::record;
    use kho_store::testing::TestDb;

    const POLICY: CheckpointPolicy = CheckpointPolicy { every_records: 1000, every: Duration::from_secs(10) };

    fn segments(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().filter(|e| e.as_ref().unwrap().file_name() != "LOCK").count()
    }

    #[tokio::test]
    async fn records_are_journaled_then_moved_chained_and_signed() {
        let (db, dir) = (TestDb::sqlite(), tempfile::tempdir().unwrap());
        let store = kho_store::connect(&db.url).await.unwrap();
        let hour = Duration::from_secs(3600);
        let stats = JournalStats::default();
        let log =
            Logbook::start_moving_every(store.clone(), NodeKey::generate(), POLICY, dir.path(), stats.clone(), hour)
                .unwrap();
        for id in ["a", "b", "c"] {
            log.submit(record(id)).await.await.unwrap().unwrap();
        }
        assert_eq!(segments(dir.path()), 1, "acknowledged records are in the journal");
        assert_eq!(store.count_messages().await.unwrap(), 0, "and not yet in the store");
        assert_eq!(stats.backlog.get(), 3);
        log.settle().await.unwrap();
        assert_eq!(store.count_messages().await.unwrap(), 3);
        assert_eq!((stats.backlog.get(), stats.moved.get(), stats.failed.get()), (0, 1, 0));
        assert_eq!(segments(dir.path()), 0, "a moved segment is deleted");
        assert_eq!(store.message_head().await.unwrap().0, 3);
        log.close().await;
        assert_eq!(store.checkpoints().await.unwrap().last().map(|c| c.seq), Some(3), "closing signs the head");
    }

    #[tokio::test]
    async fn segments_left_by_a_crash_are_moved_at_start_and_never_twice() {
        let (db, dir) = (TestDb::sqlite(), tempfile::tempdir().unwrap());
        let store = kho_store::connect(&db.url).await.unwrap();
        // A crash after the first segment was committed but before it was deleted, and
        // before the second was moved at all; the third was cut in the middle of a line.
        let (mut journal, _) = Journal::open(dir.path(), false).unwrap();
        let moved = [record("m1"), record("m2")];
        journal.append(&moved).unwrap();
        journal.close_segment().unwrap();
        store.append_messages(&mut moved.clone()).await.unwrap();
        let waiting = [record("w1"), record("w2"), record("w3")];
        journal.append(&waiting).unwrap();
        journal.close_segment().unwrap();
        drop(journal);
        let third = dir.path().join("segment-00000000000000000003.jsonl");
        let line = serde_json::to_string(&record("t1")).unwrap();
        std::fs::write(&third, format!("{line}\n{}", &line[..30])).unwrap();

        let stats = JournalStats::default();
        let log = Logbook::start(store.clone(), NodeKey::generate(), POLICY, dir.path(), stats.clone()).unwrap();
        log.settle().await.unwrap();
        assert_eq!(stats.backlog.get(), 0, "what was moved at start is not waiting any more");
        let ids: Vec<String> = store.message_range(0, 100).await.unwrap().into_iter().map(|r| r.message_id).collect();
        assert_eq!(ids, ["m1", "m2", "w1", "w2", "w3", "t1"], "each record once, in journal order");
        assert_eq!(segments(dir.path()), 0);
        log.submit(record("after")).await.await.unwrap().unwrap();
        log.close().await;
        assert_eq!(store.count_messages().await.unwrap(), 7);
    }
}
