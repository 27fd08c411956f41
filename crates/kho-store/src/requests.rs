//! Persistence of the public's requests and feedback (yêu cầu, góp ý) and the
//! agencies' answers; each write is audited in the same transaction.

use crate::sql::{new_id, parse_opt_ts, parse_ts, ts, SqlStore};
use crate::{Page, StoreError, StoreResult};
use async_trait::async_trait;
use kho_catalog::requests::{CitizenRequest, NewRequest, RequestKind};
use kho_core::audit::AuditContext;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Which requests to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Only requests to agencies in this subtree (materialised path prefix).
    pub agency_within: Option<String>,
    /// Only those about this dataset.
    pub resource_id: Option<String>,
    /// Only those not answered yet.
    pub unanswered: bool,
    pub limit: i64,
    pub offset: i64,
}

#[async_trait]
pub trait RequestStore: Send + Sync {
    async fn create_request(&self, ctx: &AuditContext, new: &NewRequest) -> StoreResult<CitizenRequest>;
    async fn citizen_request(&self, id: &str) -> StoreResult<Option<CitizenRequest>>;
    async fn list_requests(&self, query: &RequestQuery) -> StoreResult<Page<CitizenRequest>>;
    async fn answer_request(&self, ctx: &AuditContext, id: &str, answer: &str) -> StoreResult<CitizenRequest>;
}

const COLS: &str =
    "q.id, q.kind, q.resource_id, q.agency_id, q.name, q.email, q.message, q.created_at, q.answer, q.answered_by, q.answered_at";

fn request_from(r: &AnyRow) -> StoreResult<CitizenRequest> {
    let kind: String = r.try_get("kind")?;
    Ok(CitizenRequest {
        id: r.try_get("id")?,
        kind: RequestKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.message))?,
        resource_id: r.try_get("resource_id")?,
        agency_id: r.try_get("agency_id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        message: r.try_get("message")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        answer: r.try_get("answer")?,
        answered_by: r.try_get("answered_by")?,
        answered_at: parse_opt_ts(r.try_get("answered_at")?)?,
    })
}

#[async_trait]
impl RequestStore for SqlStore {
    async fn create_request(&self, ctx: &AuditContext, new: &NewRequest) -> StoreResult<CitizenRequest> {
        let mut tx = self.begin_audited().await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO citizen_requests (id, kind, resource_id, agency_id, name, email, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(new.kind.as_str())
        .bind(&new.resource_id)
        .bind(&new.agency_id)
        .bind(&new.name)
        .bind(&new.email)
        .bind(&new.message)
        .bind(ts(&kho_core::time::now()))
        .execute(&mut *tx)
        .await?;
        let detail = json!({"kind": new.kind.as_str(), "agency_id": new.agency_id, "resource_id": new.resource_id});
        Self::append_in(&mut tx, ctx.event("request.create", format!("request:{id}")).detail(detail)).await?;
        tx.commit().await?;
        self.citizen_request(&id).await?.ok_or_else(|| StoreError::NotFound(format!("request {id}")))
    }

    async fn citizen_request(&self, id: &str) -> StoreResult<Option<CitizenRequest>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM citizen_requests q WHERE q.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from).transpose()
    }

    async fn list_requests(&self, query: &RequestQuery) -> StoreResult<Page<CitizenRequest>> {
        let mut clauses = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some(path) = &query.agency_within {
            args.push(format!("{path}%"));
            clauses.push(format!("a.path LIKE ${}", args.len()));
        }
        if let Some(resource) = &query.resource_id {
            args.push(resource.clone());
            clauses.push(format!("q.resource_id = ${}", args.len()));
        }
        if query.unanswered {
            clauses.push("q.answer IS NULL".to_string());
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let from = format!("FROM citizen_requests q JOIN agencies a ON a.id = q.agency_id {where_sql}");
        let count_sql = format!("SELECT COUNT(*) {from}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in &args {
            count = count.bind(a.as_str());
        }
        let total = count.fetch_one(&self.pool).await?;
        let (limit, offset) = (args.len() + 1, args.len() + 2);
        let sql = format!("SELECT {COLS} {from} ORDER BY q.created_at DESC, q.id LIMIT ${limit} OFFSET ${offset}");
        let mut rows = sqlx::query(&sql);
        for a in &args {
            rows = rows.bind(a.as_str());
        }
        let rows = rows.bind(query.limit).bind(query.offset).fetch_all(&self.pool).await?;
        Ok(Page { items: rows.iter().map(request_from).collect::<StoreResult<_>>()?, total })
    }

    async fn answer_request(&self, ctx: &AuditContext, id: &str, answer: &str) -> StoreResult<CitizenRequest> {
        let mut tx = self.begin_audited().await?;
        let done =
            sqlx::query("UPDATE citizen_requests SET answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4")
                .bind(answer)
                .bind(&ctx.actor)
                .bind(ts(&kho_core::time::now()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("request {id}")));
        }
        Self::append_in(&mut tx, ctx.event("request.answer", format!("request:{id}"))).await?;
        tx.commit().await?;
        self.citizen_request(id).await?.ok_or_else(|| StoreError::NotFound(format!("request {id}")))
    }
}
