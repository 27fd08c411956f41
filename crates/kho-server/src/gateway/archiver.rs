//! Lưu trữ tự động — the node archives its own message log once a day when
//! `archive_dir` is set: at `archive_hour` (Vietnam time, UTC+7) the records of requests
//! older than `archive_keep_days` move out of the store into a new file in that
//! directory, exactly as `kho audit archive --messages` moves them
//! ([`Kho::archive_messages`]: verified first, the file written, read back and verified,
//! then the records removed with the archive's signed row in one audited transaction).

use crate::services::Kho;
use chrono::{DateTime, Days, FixedOffset, Utc};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_exchange::msglog::{thousands, MessageArchive};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Vietnam's time (UTC+7, no daylight saving), in which `archive_hour` is given.
const VIETNAM: i32 = 7 * 3600;

/// The running archiver: stopped between archives, never in the middle of one.
pub struct Archiver {
    kho: Arc<Kho>,
    stop: watch::Sender<bool>,
    task: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// When and where the node archives its log, as the API and the log page show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ArchiveSchedule {
    /// The directory the archives are written to.
    pub dir: String,
    /// Records of requests younger than this many days stay in the store.
    pub keep_days: u32,
    /// The hour of the day (Vietnam time, UTC+7) the node archives at.
    pub hour: u32,
    /// The next archive.
    pub next_at: DateTime<Utc>,
}

impl Archiver {
    /// Starts the daily archive when the settings name a directory.
    pub fn start(kho: Arc<Kho>) -> Option<Self> {
        kho.settings.archive_dir.as_ref()?;
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(run(kho.clone(), stopping));
        Some(Self { kho, stop, task: tokio::sync::Mutex::new(Some(task)) })
    }

    /// When and where the next archive is made, from the settings it runs with.
    pub fn schedule(&self) -> ArchiveSchedule {
        let (s, now) = (&self.kho.settings, Utc::now());
        ArchiveSchedule {
            dir: s.archive_dir.as_deref().map(|d| d.display().to_string()).unwrap_or_default(),
            keep_days: s.archive_keep_days,
            hour: s.archive_hour,
            next_at: now + until_next(now, s.archive_hour),
        }
    }

    /// Stops the archiver, after the archive it is making, if any.
    pub async fn close(&self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

async fn run(kho: Arc<Kho>, mut stop: watch::Receiver<bool>) {
    loop {
        let wait = until_next(Utc::now(), kho.settings.archive_hour);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = archive_once(&kho, Utc::now()).await {
            tracing::error!(error = %e, "the daily archive of the message log failed; the records stay in the store");
        }
    }
}

/// How long from `now` until the next `hour` o'clock, Vietnam time.
pub fn until_next(now: DateTime<Utc>, hour: u32) -> Duration {
    let zone = FixedOffset::east_opt(VIETNAM).expect("UTC+7 is a valid offset");
    let local = now.with_timezone(&zone);
    let today = local.date_naive().and_hms_opt(hour.min(23), 0, 0).expect("an hour of the day");
    let mut next = today.and_local_timezone(zone).single().expect("a fixed offset has one reading");
    if next <= local {
        next = next + Days::new(1);
    }
    (next.with_timezone(&Utc) - now).to_std().unwrap_or_default()
}

/// Archives, at `now`, the records of requests older than `archive_keep_days` into a new
/// file in `archive_dir`, named by the time; `None` when nothing is old enough (or no
/// directory is set).
pub async fn archive_once(kho: &Kho, now: DateTime<Utc>) -> kho_core::Result<Option<MessageArchive>> {
    let Some(dir) = kho.settings.archive_dir.as_deref() else { return Ok(None) };
    let before = now - chrono::Duration::days(i64::from(kho.settings.archive_keep_days));
    if !kho.has_records_to_archive(before).await? {
        tracing::info!(before = %kho_core::time::format(&before), "no message-log records old enough to archive");
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        kho_core::Error::internal(format!("cannot create the archive directory {}: {e}", dir.display()))
    })?;
    let file = dir.join(format!("nhat-ky-thong-diep-{}.ndjson", now.format("%Y%m%dT%H%M%SZ")));
    let ctx = AuditContext::new(&Subject::operator(), Some("daily-archive".into()));
    let step = |what: &str| tracing::info!(step = what, "archiving the message log");
    let archive = kho.archive_messages(&ctx, before, &file, &step).await?;
    tracing::info!(
        records = %thousands(archive.records),
        first = archive.start.seq + 1,
        last = archive.end.seq,
        file = %archive.file,
        sha256 = %archive.sha256,
        "archived the message log"
    );
    Ok(Some(archive))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_daily_archive_waits_for_the_hour_in_vietnam() {
        // 18:30 UTC is 01:30 in Vietnam: 02:00 there is half an hour away.
        assert_eq!(until_next(at("2026-12-01T18:30:00Z"), 2), Duration::from_secs(30 * 60));
        // Just past 02:00 in Vietnam (19:00:01 UTC): the next is a day later, less a second.
        assert_eq!(until_next(at("2026-12-01T19:00:01Z"), 2), Duration::from_secs(24 * 3600 - 1));
        // Exactly on the hour: the next day's, not now again.
        assert_eq!(until_next(at("2026-12-01T19:00:00Z"), 2), Duration::from_secs(24 * 3600));
        // 23:00 Vietnam time on 1 December is 16:00 UTC.
        assert_eq!(until_next(at("2026-12-01T15:00:00Z"), 23), Duration::from_secs(3600));
    }
}
