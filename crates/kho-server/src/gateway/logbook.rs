//! Nhật ký thông điệp — the gateway's message log writer. One task appends records in
//! batches (group commit: one transaction for every record waiting), chains them under
//! the store's `message_head` lock, and signs a checkpoint with the node's Ed25519 key
//! every N records or T seconds. A second task copies the store's write-ahead log into
//! the database beside it (SQLite), so that the writer's commits only append.
//!
//! A response is never complete before its record is stored: [`LoggedBody`] holds back
//! the response's last chunk until the writer says the record is committed. A client
//! that has the whole response therefore has a logged exchange, also when the server
//! is stopped mid-run.

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use kho_exchange::msglog::{MessageRecord, NodeKey};
use kho_store::MetadataStore;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Records a batch takes at most.
const BATCH: usize = 512;
/// Records waiting for the writer before callers wait to hand theirs over.
const QUEUE: usize = 16_384;
/// How often the write-ahead log is copied into the database beside the writer.
const WAL_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// When checkpoints are signed.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many records…
    pub every_records: i64,
    /// …or this long after the first record not yet signed.
    pub every: Duration,
}

type Ack = oneshot::Sender<Result<(), String>>;

/// The handle the gateway writes through.
pub struct Logbook {
    sender: mpsc::Sender<(MessageRecord, Option<Ack>)>,
    stop: watch::Sender<bool>,
    writer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    public_key: String,
}

impl Logbook {
    /// Starts the writer on `store`, signing with `key`.
    pub fn start(store: Arc<dyn MetadataStore>, key: NodeKey, policy: CheckpointPolicy) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let (stop, stopped) = watch::channel(false);
        let public_key = key.public_hex();
        tokio::spawn(copy_wal(store.clone(), stopped.clone()));
        let writer = Writer { store, key, policy, last_checkpoint: None };
        let handle = tokio::spawn(writer.run(receiver, stopped));
        Self { sender, stop, writer: tokio::sync::Mutex::new(Some(handle)), public_key }
    }

    /// The node's public key (hex), as checkpoints carry it.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Hands a record over; the receiver says when it is committed.
    pub async fn submit(&self, record: MessageRecord) -> oneshot::Receiver<Result<(), String>> {
        let (ack, done) = oneshot::channel();
        if let Err(mpsc::error::SendError((_, Some(ack)))) = self.sender.send((record, Some(ack))).await {
            let _ = ack.send(Err("the message log is closed".into()));
        }
        done
    }

    /// Hands a record over without waiting (a response that was abandoned).
    pub fn submit_detached(&self, record: MessageRecord) {
        if self.sender.try_send((record, None)).is_err() {
            tracing::error!("the message log queue is full or closed; a record of an abandoned exchange is lost");
        }
    }

    /// Writes what is queued, signs a last checkpoint and stops the writer.
    pub async fn close(&self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.writer.lock().await.take() {
            let _ = handle.await;
        }
    }
}

/// Copies the store's write-ahead log into the database every
/// [`WAL_CHECKPOINT_EVERY`] until the log stops, so that the writer's commits only
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

struct Writer {
    store: Arc<dyn MetadataStore>,
    key: NodeKey,
    policy: CheckpointPolicy,
    /// The seq of the last signed checkpoint (read on the first write).
    last_checkpoint: Option<i64>,
}

impl Writer {
    async fn run(
        mut self,
        mut receiver: mpsc::Receiver<(MessageRecord, Option<Ack>)>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(self.policy.every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                first = receiver.recv() => match first {
                    Some(first) => self.write_waiting(first, &mut receiver).await,
                    None => break,
                },
                _ = ticker.tick() => self.checkpoint(false, None).await,
                _ = stop.changed() => {
                    receiver.close();
                    while let Some(first) = receiver.recv().await {
                        self.write_waiting(first, &mut receiver).await;
                    }
                    break;
                }
            }
        }
        self.checkpoint(false, None).await;
    }

    async fn write_waiting(
        &mut self,
        first: (MessageRecord, Option<Ack>),
        receiver: &mut mpsc::Receiver<(MessageRecord, Option<Ack>)>,
    ) {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (mut records, acks): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let mut outcome = Err(String::new());
        let mut head = None;
        for attempt in 0..3 {
            match self.store.append_messages(&mut records).await {
                Ok(h) => {
                    head = Some(h);
                    outcome = Ok(());
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, attempt, "cannot append to the message log");
                    outcome = Err(format!("the message log could not be written: {e}"));
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
        for ack in acks.into_iter().flatten() {
            let _ = ack.send(outcome.clone());
        }
        if let Some(head) = head {
            self.checkpoint(true, Some(head)).await;
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

/// What finishes an exchange's record when its response body ends.
pub trait Finish: Send + 'static {
    /// A chunk of the response went by.
    fn chunk(&mut self, _data: &Bytes) {}
    /// Completes the record (sizes, time out) and hands it to the log; the receiver
    /// says when it is stored.
    fn finish(
        self: Box<Self>,
        response_size: i64,
    ) -> futures::future::BoxFuture<'static, oneshot::Receiver<Result<(), String>>>;
    /// The response was abandoned before its end (the client left, the body broke).
    fn abandon(self: Box<Self>, response_size: i64, why: String);
}

enum Stage {
    Streaming,
    Handing(futures::future::BoxFuture<'static, oneshot::Receiver<Result<(), String>>>),
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
