//! Persistence of the sharing platform: services, agreements (changes audited in the
//! same transaction) and the gateway's message log — records appended in batches
//! under the `message_head` lock, chained with [`kho_exchange::msglog`], and the
//! signed checkpoints over them.

use crate::sql::{new_id, parse_opt_ts, parse_ts, ts, values_rows, SqlStore};
use crate::{Backend, MetadataStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kho_core::audit::AuditContext;
use kho_core::identity::{SubsystemCertificate, SubsystemId};
use kho_exchange::health::{self, ServiceHealth};
use kho_exchange::msglog::{seal_chain, Anchor, Checkpoint, LogEntry, MessageArchive, MessageRecord, StoredMessage};
use kho_exchange::registry::CheckedTerms;
use kho_exchange::{Agreement, AgreementStatus, EndpointRule, NewService, Service, ServiceTarget, Suspension};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

/// A subsystem's active API token, as the gateway checks callers.
#[derive(Debug, Clone)]
pub struct GatewayCredential {
    pub token_hash: String,
    pub subsystem_id: String,
    pub expires_at: DateTime<Utc>,
}

/// Which agreements to list.
#[derive(Debug, Clone, Default)]
pub struct AgreementQuery {
    pub consumer_id: Option<String>,
    pub service_id: Option<String>,
    pub status: Option<AgreementStatus>,
}

/// Which message-log records to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub client: Option<String>,
    /// `INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE`.
    pub service: Option<String>,
    pub message_id: Option<String>,
    /// A data subject's digest: only exchanges that served their records.
    pub subject: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keyset pagination: only records with a smaller seq.
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[async_trait]
pub trait ExchangeStore: Send + Sync {
    async fn create_service(&self, ctx: &AuditContext, provider_id: &str, new: &NewService) -> StoreResult<Service>;
    async fn service(&self, id: &str) -> StoreResult<Option<Service>>;
    /// Replaces a service's settings (description, target, timeout, body logging).
    async fn update_service(&self, ctx: &AuditContext, id: &str, changed: &NewService) -> StoreResult<Service>;
    /// Suspends a service with a notice for its callers (`Some`), or resumes it (`None`).
    async fn set_service_disabled(&self, ctx: &AuditContext, id: &str, notice: Option<&str>) -> StoreResult<Service>;
    async fn list_services(&self) -> StoreResult<Vec<Service>>;

    async fn create_agreement(
        &self,
        ctx: &AuditContext,
        consumer_id: &str,
        service_id: &str,
        terms: &CheckedTerms,
        status: AgreementStatus,
    ) -> StoreResult<Agreement>;
    async fn agreement(&self, id: &str) -> StoreResult<Option<Agreement>>;
    async fn list_agreements(&self, query: &AgreementQuery) -> StoreResult<Vec<Agreement>>;
    /// Records a decision; `terms` replaces the requested terms (narrowing).
    async fn decide_agreement(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: AgreementStatus,
        terms: Option<&CheckedTerms>,
        note: &str,
    ) -> StoreResult<Agreement>;

    /// Active API tokens of subsystems.
    async fn gateway_credentials(&self) -> StoreResult<Vec<GatewayCredential>>;
    /// Registers a client certificate (by fingerprint) for a subsystem.
    async fn add_certificate(
        &self,
        ctx: &AuditContext,
        subsystem_id: &str,
        fingerprint: &str,
        label: &str,
    ) -> StoreResult<SubsystemCertificate>;
    /// The certificates registered for a subsystem, revoked ones included, newest first.
    async fn subsystem_certificates(&self, subsystem_id: &str) -> StoreResult<Vec<SubsystemCertificate>>;
    /// Every subsystem's certificates, revoked ones included.
    async fn all_certificates(&self) -> StoreResult<Vec<SubsystemCertificate>>;
    /// Revokes a subsystem's certificate: the gateway no longer accepts it.
    async fn revoke_certificate(
        &self,
        ctx: &AuditContext,
        subsystem_id: &str,
        fingerprint: &str,
    ) -> StoreResult<SubsystemCertificate>;
    /// Fingerprints of the registered, unrevoked certificates, with their subsystem ids.
    async fn gateway_certificates(&self) -> StoreResult<Vec<(String, String)>>;

    /// Chains `records` after the head and stores them in one transaction; they come
    /// back with their seq and hashes. Returns the new head.
    async fn append_messages(&self, records: &mut [LogEntry]) -> StoreResult<(i64, String)>;
    async fn message_head(&self) -> StoreResult<(i64, String)>;
    /// Each service's health, counted from the log's records as they were appended.
    async fn service_health(&self) -> StoreResult<Vec<ServiceHealth>>;
    /// Counts up to `limit` stored records not yet in the services' health (a log stored
    /// before health was kept); `true` once every record is counted. Appends count their
    /// records only then.
    async fn count_health(&self, limit: i64) -> StoreResult<bool>;
    /// Records with seq > `after_seq`, in seq order.
    async fn message_range(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<MessageRecord>>;
    /// Records after `after_seq` as stored, their fields text unread (for verification:
    /// a text altered so that it no longer reads as a record is still checked).
    async fn stored_messages(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<StoredMessage>>;
    async fn list_messages(&self, query: &MessageQuery) -> StoreResult<Vec<MessageRecord>>;
    async fn count_messages(&self) -> StoreResult<i64>;
    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()>;
    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>>;
    /// On SQLite, copies the write-ahead log into the database without waiting for
    /// readers or writers (a passive WAL checkpoint; nothing on PostgreSQL). The
    /// gateway runs it beside the log writer, so that a commit does not copy and sync
    /// the WAL itself (connections do so only past 20,000 pages).
    async fn checkpoint_wal(&self) -> StoreResult<()>;
    /// The archives made of the log, oldest first.
    async fn message_archives(&self) -> StoreResult<Vec<MessageArchive>>;
    /// Records `archive` and removes its records from the log, in one audited
    /// transaction. Refused (`Conflict`) unless it starts where the last archive ended
    /// and its end is the stored record's seq and hash.
    async fn archive_messages(&self, ctx: &AuditContext, archive: &MessageArchive) -> StoreResult<()>;
}

const SERVICE_COLS: &str = "e.id, e.provider_id, s.xroad_id AS provider, e.code, e.description, e.target, \
                            e.timeout_ms, e.log_bodies, e.created_at, e.updated_at, e.disabled_at, e.disabled_notice";
const SERVICE_FROM: &str = "exchange_services e JOIN subsystems s ON s.id = e.provider_id";

const AGREEMENT_COLS: &str = "a.id, c.xroad_id AS consumer, p.xroad_id AS provider, e.code AS service, a.service_id, \
     a.endpoints, a.fields, a.masked, a.purposes, a.legal_basis, a.valid_from, a.valid_until, a.rate_per_second, \
     a.burst, a.daily_quota, a.status, a.requested_by, a.decided_by, a.decided_at, a.note, a.created_at";
const AGREEMENT_FROM: &str = "exchange_agreements a JOIN subsystems c ON c.id = a.consumer_id \
     JOIN exchange_services e ON e.id = a.service_id JOIN subsystems p ON p.id = e.provider_id";

/// A message-log row: the record's fields as the text its hash covers, and its place in
/// the chain; `message_id`, `client`, `service` and `request_in_ts` are kept beside the
/// text to find records by.
const MESSAGE_COLS: &str = "seq, fields, prev_hash, hash";
const MESSAGE_INSERT_COLS: &str = "seq, message_id, client, service, request_in_ts, fields, prev_hash, hash";

const CERTIFICATE_COLS: &str = "fingerprint, subsystem_id, label, added_at, revoked_at";

fn certificate_from(r: &AnyRow) -> StoreResult<SubsystemCertificate> {
    Ok(SubsystemCertificate {
        fingerprint: r.try_get("fingerprint")?,
        subsystem_id: r.try_get("subsystem_id")?,
        label: r.try_get("label")?,
        added_at: parse_ts(&r.try_get::<String, _>("added_at")?)?,
        revoked_at: parse_opt_ts(r.try_get("revoked_at")?)?,
    })
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn json_list<T: serde::de::DeserializeOwned>(r: &AnyRow, column: &str) -> StoreResult<Vec<T>> {
    serde_json::from_str(&r.try_get::<String, _>(column)?).map_err(|e| corrupt(column, e))
}

fn subsystem_id(r: &AnyRow, column: &str) -> StoreResult<SubsystemId> {
    SubsystemId::parse(&r.try_get::<String, _>(column)?).map_err(|e| corrupt(column, e.message))
}

fn date(s: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| corrupt("date", e))
}

fn service_from(r: &AnyRow) -> StoreResult<Service> {
    let target: ServiceTarget =
        serde_json::from_str(&r.try_get::<String, _>("target")?).map_err(|e| corrupt("service target", e))?;
    Ok(Service {
        id: r.try_get("id")?,
        provider_id: r.try_get("provider_id")?,
        provider: subsystem_id(r, "provider")?,
        code: r.try_get("code")?,
        description: r.try_get("description")?,
        target,
        timeout_ms: r.try_get::<i64, _>("timeout_ms")? as u64,
        log_bodies: r.try_get::<i64, _>("log_bodies")? != 0,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        updated_at: parse_opt_ts(r.try_get("updated_at")?)?,
        disabled: match parse_opt_ts(r.try_get("disabled_at")?)? {
            Some(at) => {
                Some(Suspension { at, notice: r.try_get::<Option<String>, _>("disabled_notice")?.unwrap_or_default() })
            }
            None => None,
        },
    })
}

fn agreement_from(r: &AnyRow) -> StoreResult<Agreement> {
    let status: String = r.try_get("status")?;
    let endpoints: Vec<String> = json_list(r, "endpoints")?;
    Ok(Agreement {
        id: r.try_get("id")?,
        consumer: subsystem_id(r, "consumer")?,
        provider: subsystem_id(r, "provider")?,
        service: r.try_get("service")?,
        service_id: r.try_get("service_id")?,
        endpoints: endpoints
            .iter()
            .map(|e| EndpointRule::parse(e).map_err(|m| corrupt("endpoint", m)))
            .collect::<StoreResult<_>>()?,
        fields: json_list(r, "fields")?,
        masked: json_list(r, "masked")?,
        purposes: json_list(r, "purposes")?,
        legal_basis: r.try_get("legal_basis")?,
        valid_from: date(&r.try_get::<String, _>("valid_from")?)?,
        valid_until: r.try_get::<Option<String>, _>("valid_until")?.as_deref().map(date).transpose()?,
        rate_per_second: r.try_get::<i64, _>("rate_per_second")? as u32,
        burst: r.try_get::<i64, _>("burst")? as u32,
        daily_quota: r.try_get::<Option<i64>, _>("daily_quota")?.map(|q| q as u64),
        status: AgreementStatus::parse(&status).ok_or_else(|| corrupt("agreement status", &status))?,
        requested_by: r.try_get("requested_by")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: parse_opt_ts(r.try_get("decided_at")?)?,
        note: r.try_get("note")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
    })
}

fn stored_message_from(r: &AnyRow) -> StoreResult<StoredMessage> {
    Ok(StoredMessage {
        seq: r.try_get("seq")?,
        fields: r.try_get("fields")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

fn message_from(r: &AnyRow) -> StoreResult<MessageRecord> {
    record_of(&stored_message_from(r)?)
}

fn record_of(s: &StoredMessage) -> StoreResult<MessageRecord> {
    s.record().map_err(|e| corrupt(&format!("message-log record {}", s.seq), e))
}

fn checkpoint_from(r: &AnyRow) -> StoreResult<Checkpoint> {
    Ok(Checkpoint {
        seq: r.try_get("seq")?,
        hash: r.try_get("hash")?,
        at: parse_ts(&r.try_get::<String, _>("at")?)?,
        public_key: r.try_get("public_key")?,
        signature: r.try_get("signature")?,
    })
}

fn archive_from(r: &AnyRow) -> StoreResult<MessageArchive> {
    Ok(MessageArchive {
        start: Anchor { seq: r.try_get("start_seq")?, hash: r.try_get("start_hash")? },
        end: Anchor { seq: r.try_get("end_seq")?, hash: r.try_get("end_hash")? },
        records: r.try_get("records")?,
        first_at: parse_opt_ts(r.try_get("first_at")?)?,
        last_at: parse_opt_ts(r.try_get("last_at")?)?,
        checkpoint_at: parse_ts(&r.try_get::<String, _>("checkpoint_at")?)?,
        file: r.try_get("file")?,
        sha256: r.try_get("sha256")?,
        archived_at: parse_ts(&r.try_get::<String, _>("archived_at")?)?,
        signature: r.try_get("signature")?,
    })
}

const ARCHIVE_COLS: &str = concat!(
    "start_seq, start_hash, end_seq, end_hash, records, first_at, last_at, ",
    "checkpoint_at, file, sha256, archived_at, signature"
);

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

fn endpoint_texts(terms: &CheckedTerms) -> String {
    to_json(&terms.endpoints.iter().map(|e| e.to_string()).collect::<Vec<_>>())
}

#[async_trait]
impl ExchangeStore for SqlStore {
    async fn create_service(&self, ctx: &AuditContext, provider_id: &str, new: &NewService) -> StoreResult<Service> {
        let mut tx = self.begin_audited().await?;
        let id = new_id();
        let timeout = new.timeout_ms.unwrap_or(kho_exchange::registry::DEFAULT_TIMEOUT_MS);
        sqlx::query(
            "INSERT INTO exchange_services (id, provider_id, code, description, target, timeout_ms, log_bodies, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(provider_id)
        .bind(&new.code)
        .bind(&new.description)
        .bind(to_json(&StoredTarget(&new.target)))
        .bind(timeout as i64)
        .bind(i64::from(new.log_bodies))
        .bind(ts(&kho_core::time::now()))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            crate::sql::conflict_on_unique(e, || format!("{} already offers a service {:?}", new.provider, new.code))
        })?;
        let detail = json!({"kind": new.target.kind(), "code": new.code});
        let target = format!("service:{}/{}", new.provider, new.code);
        Self::append_in(&mut tx, ctx.event("service.create", target).detail(detail)).await?;
        tx.commit().await?;
        self.service(&id).await?.ok_or_else(|| StoreError::NotFound(format!("service {id}")))
    }

    async fn service(&self, id: &str) -> StoreResult<Option<Service>> {
        service_on(&self.pool, id).await
    }

    async fn update_service(&self, ctx: &AuditContext, id: &str, changed: &NewService) -> StoreResult<Service> {
        // Read after the audit's lock: no other change comes between it and this one.
        let mut tx = self.begin_audited().await?;
        let before = existing_service(&mut tx, id).await?;
        let timeout = changed.timeout_ms.unwrap_or(before.timeout_ms);
        sqlx::query(
            "UPDATE exchange_services SET description = $1, target = $2, timeout_ms = $3, log_bodies = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(&changed.description)
        .bind(to_json(&StoredTarget(&changed.target)))
        .bind(timeout as i64)
        .bind(i64::from(changed.log_bodies))
        .bind(ts(&kho_core::time::now()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // What changed, without the backend token's value.
        let fields = changed.changed_settings(&before);
        let detail = json!({"changed": fields, "timeout_ms": timeout, "log_bodies": changed.log_bodies});
        Self::append_in(&mut tx, ctx.event("service.update", format!("service:{}", before.full_id())).detail(detail))
            .await?;
        let after = existing_service(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn set_service_disabled(&self, ctx: &AuditContext, id: &str, notice: Option<&str>) -> StoreResult<Service> {
        let mut tx = self.begin_audited().await?;
        let before = existing_service(&mut tx, id).await?;
        let at = notice.map(|_| ts(&kho_core::time::now()));
        // Only from the other state: of two suspensions at once, the second finds the
        // service suspended already instead of replacing the first one's notice.
        let from = if notice.is_some() { "disabled_at IS NULL" } else { "disabled_at IS NOT NULL" };
        let sql =
            format!("UPDATE exchange_services SET disabled_at = $1, disabled_notice = $2 WHERE id = $3 AND {from}");
        let done = sqlx::query(&sql).bind(at).bind(notice).bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            let id = before.full_id();
            return Err(StoreError::Conflict(match (notice, &before.disabled) {
                (Some(_), Some(d)) => format!(
                    "{id} is already suspended since {} ({}); resume it first to change the notice",
                    kho_core::time::format(&d.at),
                    d.notice
                ),
                (Some(_), None) => format!("{id} is already suspended; resume it first to change the notice"),
                (None, _) => format!("{id} is not suspended"),
            }));
        }
        let (action, detail) = match notice {
            Some(n) => ("service.disable", json!({"notice": n})),
            None => ("service.enable", json!({"was_disabled_since": before.disabled.as_ref().map(|d| ts(&d.at))})),
        };
        Self::append_in(&mut tx, ctx.event(action, format!("service:{}", before.full_id())).detail(detail)).await?;
        let after = existing_service(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_services(&self) -> StoreResult<Vec<Service>> {
        let sql = format!("SELECT {SERVICE_COLS} FROM {SERVICE_FROM} ORDER BY s.xroad_id, e.code");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(service_from).collect()
    }

    async fn create_agreement(
        &self,
        ctx: &AuditContext,
        consumer_id: &str,
        service_id: &str,
        terms: &CheckedTerms,
        status: AgreementStatus,
    ) -> StoreResult<Agreement> {
        let mut tx = self.begin_audited().await?;
        let id = new_id();
        let now = ts(&kho_core::time::now());
        let decided = (status != AgreementStatus::Requested).then(|| ctx.actor.clone());
        sqlx::query(
            "INSERT INTO exchange_agreements (id, consumer_id, service_id, endpoints, fields, masked, purposes, \
             legal_basis, valid_from, rate_per_second, burst, status, requested_by, decided_by, decided_at, note, \
             created_at) VALUES ($1, $2, $3, '[]', '[]', '[]', '[]', '', $4, 0, 0, $5, $6, $7, $8, '', $9)",
        )
        .bind(&id)
        .bind(consumer_id)
        .bind(service_id)
        .bind(terms.valid_from.to_string())
        .bind(status.as_str())
        .bind(&ctx.actor)
        .bind(&decided)
        .bind(decided.as_ref().map(|_| now.clone()))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        write_terms(&mut tx, &id, terms).await?;
        let detail = json!({"consumer_id": consumer_id, "service_id": service_id, "status": status.as_str(),
            "endpoints": endpoint_texts(terms), "purposes": terms.purposes});
        Self::append_in(&mut tx, ctx.event("agreement.create", format!("agreement:{id}")).detail(detail)).await?;
        tx.commit().await?;
        self.agreement(&id).await?.ok_or_else(|| StoreError::NotFound(format!("agreement {id}")))
    }

    async fn agreement(&self, id: &str) -> StoreResult<Option<Agreement>> {
        let sql = format!("SELECT {AGREEMENT_COLS} FROM {AGREEMENT_FROM} WHERE a.id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(agreement_from).transpose()
    }

    async fn list_agreements(&self, query: &AgreementQuery) -> StoreResult<Vec<Agreement>> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        for (column, value) in [
            ("a.consumer_id", query.consumer_id.clone()),
            ("a.service_id", query.service_id.clone()),
            ("a.status", query.status.map(|s| s.as_str().to_string())),
        ] {
            if let Some(v) = value {
                binds.push(v);
                conditions.push(format!("{column} = ${}", binds.len()));
            }
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {AGREEMENT_COLS} FROM {AGREEMENT_FROM} {filter} ORDER BY a.created_at DESC, a.id");
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(&self.pool).await?.iter().map(agreement_from).collect()
    }

    async fn decide_agreement(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: AgreementStatus,
        terms: Option<&CheckedTerms>,
        note: &str,
    ) -> StoreResult<Agreement> {
        let mut tx = self.begin_audited().await?;
        let now = ts(&kho_core::time::now());
        let changed = sqlx::query(
            "UPDATE exchange_agreements SET status = $1, decided_by = $2, decided_at = $3, note = $4 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(&ctx.actor)
        .bind(&now)
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("agreement {id}")));
        }
        if let Some(t) = terms {
            write_terms(&mut tx, id, t).await?;
        }
        let detail = json!({"status": status.as_str(), "narrowed": terms.is_some(), "note": note});
        Self::append_in(&mut tx, ctx.event("agreement.decide", format!("agreement:{id}")).detail(detail)).await?;
        tx.commit().await?;
        self.agreement(id).await?.ok_or_else(|| StoreError::NotFound(format!("agreement {id}")))
    }

    async fn gateway_credentials(&self) -> StoreResult<Vec<GatewayCredential>> {
        let rows = sqlx::query(
            "SELECT token_hash, subsystem_id, expires_at FROM api_tokens \
             WHERE subsystem_id IS NOT NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(ts(&kho_core::time::now()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GatewayCredential {
                    token_hash: r.try_get("token_hash")?,
                    subsystem_id: r.try_get("subsystem_id")?,
                    expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
                })
            })
            .collect()
    }

    async fn add_certificate(
        &self,
        ctx: &AuditContext,
        subsystem_id: &str,
        fingerprint: &str,
        label: &str,
    ) -> StoreResult<SubsystemCertificate> {
        let mut tx = self.begin_audited().await?;
        let added = SubsystemCertificate {
            fingerprint: fingerprint.to_string(),
            subsystem_id: subsystem_id.to_string(),
            label: label.to_string(),
            added_at: kho_core::time::now(),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO subsystem_certificates (fingerprint, subsystem_id, label, added_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(fingerprint)
        .bind(subsystem_id)
        .bind(label)
        .bind(ts(&added.added_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            crate::sql::conflict_on_unique(e, || {
                format!(
                    "the certificate {fingerprint} is already registered (a revoked certificate stays revoked: \
                     issue a new one)"
                )
            })
        })?;
        let detail = json!({"fingerprint": fingerprint, "label": label});
        let target = subsystem_target(&mut tx, subsystem_id).await?;
        Self::append_in(&mut tx, ctx.event("subsystem.certificate.add", target).detail(detail)).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn subsystem_certificates(&self, subsystem_id: &str) -> StoreResult<Vec<SubsystemCertificate>> {
        let rows = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLS} FROM subsystem_certificates WHERE subsystem_id = $1 \
             ORDER BY added_at DESC, fingerprint"
        ))
        .bind(subsystem_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(certificate_from).collect()
    }

    async fn all_certificates(&self) -> StoreResult<Vec<SubsystemCertificate>> {
        let rows = sqlx::query(&format!("SELECT {CERTIFICATE_COLS} FROM subsystem_certificates"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(certificate_from).collect()
    }

    async fn revoke_certificate(
        &self,
        ctx: &AuditContext,
        subsystem_id: &str,
        fingerprint: &str,
    ) -> StoreResult<SubsystemCertificate> {
        let mut tx = self.begin_audited().await?;
        let row = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLS} FROM subsystem_certificates WHERE subsystem_id = $1 AND fingerprint = $2"
        ))
        .bind(subsystem_id)
        .bind(fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        let mut certificate = match row {
            Some(r) => certificate_from(&r)?,
            None => return Err(StoreError::NotFound(format!("certificate {fingerprint} of this subsystem"))),
        };
        if let Some(at) = certificate.revoked_at {
            return Err(StoreError::Conflict(format!(
                "the certificate {fingerprint} was already revoked at {}",
                kho_core::time::format(&at)
            )));
        }
        let now = kho_core::time::now();
        sqlx::query("UPDATE subsystem_certificates SET revoked_at = $1 WHERE fingerprint = $2")
            .bind(ts(&now))
            .bind(fingerprint)
            .execute(&mut *tx)
            .await?;
        let detail = json!({"fingerprint": fingerprint, "label": certificate.label});
        let target = subsystem_target(&mut tx, subsystem_id).await?;
        Self::append_in(&mut tx, ctx.event("subsystem.certificate.revoke", target).detail(detail)).await?;
        tx.commit().await?;
        certificate.revoked_at = Some(now);
        Ok(certificate)
    }

    async fn gateway_certificates(&self) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT fingerprint, subsystem_id FROM subsystem_certificates WHERE revoked_at IS NULL")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("fingerprint")?, r.try_get("subsystem_id")?))).collect()
    }

    async fn append_messages(&self, records: &mut [LogEntry]) -> StoreResult<(i64, String)> {
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let (seq, hash) = (head.seq, head.hash);
        seal_chain(records, seq, &hash);
        insert_messages(self.backend(), &mut tx, records).await?;
        let Some(last) = records.last() else {
            return Ok((seq, hash));
        };
        // Health counts the records in order: these only once the ones before are.
        let mut health_seq = head.health_seq;
        if health_seq == seq {
            add_health(&mut tx, health::tally(records.iter())).await?;
            health_seq = last.seq;
        }
        sqlx::query("UPDATE message_head SET seq = $1, hash = $2, health_seq = $3 WHERE id = 1")
            .bind(last.seq)
            .bind(&last.hash)
            .bind(health_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((last.seq, last.hash.clone()))
    }

    async fn message_head(&self) -> StoreResult<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM message_head WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((row.try_get("seq")?, row.try_get("hash")?))
    }

    async fn service_health(&self) -> StoreResult<Vec<ServiceHealth>> {
        let rows = sqlx::query("SELECT * FROM service_health ORDER BY service").fetch_all(&self.pool).await?;
        rows.iter().map(health_from).collect()
    }

    async fn count_health(&self, limit: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        if head.health_seq >= head.seq {
            return Ok(true);
        }
        let counted = count_stored(&mut tx, head.health_seq, limit).await?.unwrap_or(head.seq);
        sqlx::query("UPDATE message_head SET health_seq = $1 WHERE id = 1").bind(counted).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(counted >= head.seq)
    }

    async fn stored_messages(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<StoredMessage>> {
        stored_messages_after(&self.pool, after_seq, limit).await
    }

    async fn message_range(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<MessageRecord>> {
        self.stored_messages(after_seq, limit).await?.iter().map(record_of).collect()
    }

    async fn list_messages(&self, query: &MessageQuery) -> StoreResult<Vec<MessageRecord>> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        let mut add = |condition: &str, value: String| {
            binds.push(value);
            conditions.push(condition.replace('?', &format!("${}", binds.len())));
        };
        if let Some(c) = &query.client {
            add("client = ?", c.clone());
        }
        if let Some(s) = &query.service {
            add("service = ?", s.clone());
        }
        if let Some(m) = &query.message_id {
            add("message_id = ?", m.clone());
        }
        if let Some(s) = &query.subject {
            add("seq IN (SELECT seq FROM message_subjects WHERE subject = ?)", s.clone());
        }
        if let Some(f) = &query.from {
            add("request_in_ts >= ?", ts(f));
        }
        if let Some(u) = &query.until {
            add("request_in_ts < ?", ts(u));
        }
        if let Some(b) = query.before_seq {
            add("seq < CAST(? AS BIGINT)", b.to_string());
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!(
            "SELECT {MESSAGE_COLS} FROM message_log {filter} ORDER BY seq DESC LIMIT {}",
            query.limit.clamp(1, 1000)
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(&self.pool).await?.iter().map(message_from).collect()
    }

    async fn count_messages(&self) -> StoreResult<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM message_log").fetch_one(&self.pool).await?.try_get("n")?)
    }

    async fn add_checkpoint(&self, c: &Checkpoint) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO message_checkpoints (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.seq)
        .bind(&c.hash)
        .bind(ts(&c.at))
        .bind(&c.public_key)
        .bind(&c.signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn checkpoint_wal(&self) -> StoreResult<()> {
        if self.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_all(&self.pool).await?;
        }
        Ok(())
    }

    async fn message_archives(&self) -> StoreResult<Vec<MessageArchive>> {
        let sql = format!("SELECT {ARCHIVE_COLS} FROM message_archives ORDER BY end_seq");
        sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(archive_from).collect()
    }

    async fn archive_messages(&self, ctx: &AuditContext, a: &MessageArchive) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // The mover appends under this lock too: the log does not move meanwhile.
        let head = lock_head(&mut tx).await?;
        let last_end: Option<i64> =
            sqlx::query("SELECT MAX(end_seq) AS s FROM message_archives").fetch_one(&mut *tx).await?.try_get("s")?;
        if last_end.unwrap_or(0) != a.start.seq {
            return Err(StoreError::Conflict(format!(
                "the log was archived through record {} meanwhile; archive again from there",
                last_end.unwrap_or(0)
            )));
        }
        let stored: Option<String> = sqlx::query("SELECT hash FROM message_log WHERE seq = $1")
            .bind(a.end.seq)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("hash"))
            .transpose()?;
        if stored.as_deref() != Some(a.end.hash.as_str()) {
            return Err(StoreError::Conflict(format!(
                "record {} of the store is not the one the archive ends with; nothing was archived",
                a.end.seq
            )));
        }
        let sql = format!(
            "INSERT INTO message_archives ({ARCHIVE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        sqlx::query(&sql)
            .bind(a.start.seq)
            .bind(&a.start.hash)
            .bind(a.end.seq)
            .bind(&a.end.hash)
            .bind(a.records)
            .bind(a.first_at.as_ref().map(ts))
            .bind(a.last_at.as_ref().map(ts))
            .bind(ts(&a.checkpoint_at))
            .bind(&a.file)
            .bind(&a.sha256)
            .bind(ts(&a.archived_at))
            .bind(&a.signature)
            .execute(&mut *tx)
            .await?;
        // Records still to be counted into the services' health (a log stored before it
        // was kept, and no gateway started since) are counted before they leave.
        let mut counted = head.health_seq;
        while counted < a.end.seq {
            counted = count_stored(&mut tx, counted, HEALTH_PAGE).await?.unwrap_or(head.seq);
        }
        if counted != head.health_seq {
            sqlx::query("UPDATE message_head SET health_seq = $1 WHERE id = 1").bind(counted).execute(&mut *tx).await?;
        }
        for table in ["message_subjects", "message_log"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE seq <= $1")).bind(a.end.seq).execute(&mut *tx).await?;
        }
        let detail = json!({
            "start_seq": a.start.seq, "end_seq": a.end.seq, "records": a.records, "file": a.file, "sha256": a.sha256,
        });
        Self::append_in(&mut tx, ctx.event("message_log.archive", "message_log").detail(detail)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        sqlx::query("SELECT seq, hash, at, public_key, signature FROM message_checkpoints ORDER BY seq")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(checkpoint_from)
            .collect()
    }
}

/// Writes an agreement's terms (on creation, and when the provider narrows them).
async fn write_terms(tx: &mut crate::sql::Tx, id: &str, t: &CheckedTerms) -> StoreResult<()> {
    sqlx::query(
        "UPDATE exchange_agreements SET endpoints = $1, fields = $2, masked = $3, purposes = $4, legal_basis = $5, \
         valid_from = $6, valid_until = $7, rate_per_second = $8, burst = $9, daily_quota = $10 WHERE id = $11",
    )
    .bind(endpoint_texts(t))
    .bind(to_json(&t.fields))
    .bind(to_json(&t.masked))
    .bind(to_json(&t.purposes))
    .bind(&t.legal_basis)
    .bind(t.valid_from.to_string())
    .bind(t.valid_until.map(|d| d.to_string()))
    .bind(i64::from(t.rate_per_second))
    .bind(i64::from(t.burst))
    .bind(t.daily_quota.map(|q| q as i64))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rows per multi-row statement, largest first: a batch is cut into these sizes, so
/// that only a few statements exist and each is prepared once and reused.
const ROWS_PER_INSERT: [usize; 4] = [64, 16, 4, 1];

/// The audit target of a subsystem's credentials: its X-Road identifier, as the
/// services name it when they refuse a change, so that both show under one target.
async fn subsystem_target(tx: &mut crate::sql::Tx, id: &str) -> StoreResult<String> {
    let row = sqlx::query("SELECT xroad_id FROM subsystems WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("subsystem {id}")))?;
    Ok(subsystem_id(&row, "xroad_id")?.audit_target())
}

async fn service_on<'e>(on: impl sqlx::Executor<'e, Database = sqlx::Any>, id: &str) -> StoreResult<Option<Service>> {
    let sql = format!("SELECT {SERVICE_COLS} FROM {SERVICE_FROM} WHERE e.id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(on).await?.as_ref().map(service_from).transpose()
}

/// The service `id` as `tx` sees it; `NotFound` when there is none.
async fn existing_service(tx: &mut crate::sql::Tx, id: &str) -> StoreResult<Service> {
    service_on(&mut **tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("service {id}")))
}

/// The message log's head, locked until the transaction ends.
struct Head {
    seq: i64,
    hash: String,
    /// The last record the services' health counts.
    health_seq: i64,
}

async fn lock_head(tx: &mut crate::sql::Tx) -> StoreResult<Head> {
    // Locks the head row and reads it in one statement.
    let row = sqlx::query("UPDATE message_head SET seq = seq WHERE id = 1 RETURNING seq, hash, health_seq")
        .fetch_one(&mut **tx)
        .await?;
    Ok(Head { seq: row.try_get("seq")?, hash: row.try_get("hash")?, health_seq: row.try_get("health_seq")? })
}

async fn stored_messages_after<'e>(
    on: impl sqlx::Executor<'e, Database = sqlx::Any>,
    after_seq: i64,
    limit: i64,
) -> StoreResult<Vec<StoredMessage>> {
    let sql = format!("SELECT {MESSAGE_COLS} FROM message_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    sqlx::query(&sql).bind(after_seq).bind(limit).fetch_all(on).await?.iter().map(stored_message_from).collect()
}

/// Records counted into the services' health a transaction at a time when a stored log
/// is counted ([`ExchangeStore::count_health`]).
pub const HEALTH_PAGE: i64 = 5_000;

/// Counts up to `limit` stored records after `after` into the services' health: the
/// seq of the last one when there may be more, `None` when none are left.
async fn count_stored(tx: &mut crate::sql::Tx, after: i64, limit: i64) -> StoreResult<Option<i64>> {
    let stored = stored_messages_after(&mut **tx, after, limit).await?;
    let more = stored.last().filter(|_| stored.len() as i64 == limit).map(|m| m.seq);
    // A record whose text no longer reads as one (altered) is left for verification to
    // report; it is not counted.
    let entries: Vec<LogEntry> = stored.into_iter().filter_map(|m| LogEntry::from_fields(m.fields).ok()).collect();
    add_health(tx, health::tally(entries.iter())).await?;
    Ok(more)
}

/// Adds `counted` to the services' stored health.
async fn add_health(tx: &mut crate::sql::Tx, counted: BTreeMap<String, ServiceHealth>) -> StoreResult<()> {
    for (service, later) in counted {
        let before = sqlx::query("SELECT * FROM service_health WHERE service = $1")
            .bind(&service)
            .fetch_optional(&mut **tx)
            .await?;
        let h = match before {
            Some(row) => {
                let mut h = health_from(&row)?;
                h.merge(&later);
                h
            }
            None => later,
        };
        sqlx::query(
            "INSERT INTO service_health (service, since, successes, failures, last_success, last_failure, \
             min_ms, max_ms, total_ms, request_bytes, response_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (service) DO UPDATE SET since = excluded.since, successes = excluded.successes, \
             failures = excluded.failures, last_success = excluded.last_success, last_failure = excluded.last_failure, \
             min_ms = excluded.min_ms, max_ms = excluded.max_ms, total_ms = excluded.total_ms, \
             request_bytes = excluded.request_bytes, response_bytes = excluded.response_bytes",
        )
        .bind(&h.service)
        .bind(ts(&h.since))
        .bind(h.successes as i64)
        .bind(h.failures as i64)
        .bind(h.last_success.as_ref().map(ts))
        .bind(h.last_failure.as_ref().map(ts))
        .bind(h.min_ms)
        .bind(h.max_ms)
        .bind(h.total_ms)
        .bind(h.request_bytes)
        .bind(h.response_bytes)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn health_from(r: &AnyRow) -> StoreResult<ServiceHealth> {
    let mut h = ServiceHealth::new(&r.try_get::<String, _>("service")?, parse_ts(&r.try_get::<String, _>("since")?)?);
    h.successes = r.try_get::<i64, _>("successes")? as u64;
    h.failures = r.try_get::<i64, _>("failures")? as u64;
    h.last_success = parse_opt_ts(r.try_get("last_success")?)?;
    h.last_failure = parse_opt_ts(r.try_get("last_failure")?)?;
    h.min_ms = r.try_get("min_ms")?;
    h.max_ms = r.try_get("max_ms")?;
    h.total_ms = r.try_get("total_ms")?;
    h.average();
    h.request_bytes = r.try_get("request_bytes")?;
    h.response_bytes = r.try_get("response_bytes")?;
    Ok(h)
}

async fn insert_messages(backend: Backend, tx: &mut crate::sql::Tx, records: &[LogEntry]) -> StoreResult<()> {
    const COLUMNS: usize = 8;
    let mut rest = records;
    while !rest.is_empty() {
        let size = ROWS_PER_INSERT.into_iter().find(|n| *n <= rest.len()).unwrap_or(1);
        let (chunk, after) = rest.split_at(size);
        rest = after;
        // On SQLite a statement of several rows that may abort halfway (the default on a
        // constraint) first copies every page it changes into a statement journal — a
        // temporary file, 16 KiB a page — so as to undo only itself. `OR FAIL` stops at a
        // failing row without undoing the rows before it, which needs no such journal: the
        // whole transaction is rolled back on any error anyway.
        let verb = match backend {
            Backend::Sqlite => "INSERT OR FAIL INTO",
            Backend::Postgres => "INSERT INTO",
        };
        let sql = format!("{verb} message_log ({MESSAGE_INSERT_COLS}) VALUES {}", values_rows(backend, size, COLUMNS));
        let mut q = sqlx::query(&sql);
        // Text is bound as `&str`, which the driver borrows; a `&String` would be copied.
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(r.message_id.as_str())
                .bind(r.client.as_str())
                .bind(r.service.as_str())
                .bind(ts(&r.request_in_ts))
                .bind(r.fields.as_str())
                .bind(r.prev_hash.as_str())
                .bind(r.hash.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    for r in records {
        for subject in &r.subjects {
            sqlx::query("INSERT INTO message_subjects (subject, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(subject)
                .bind(r.seq)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// A service target as stored: the backend token kept (it is skipped when a target is
/// shown).
struct StoredTarget<'a>(&'a ServiceTarget);

impl serde::Serialize for StoredTarget<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        if let (ServiceTarget::Proxied { backend_token: Some(t), .. }, Some(o)) = (self.0, v.as_object_mut()) {
            o.insert("backend_token".into(), json!(t));
        }
        v.serialize(s)
    }
}
