//! Requests and feedback from the public (yêu cầu dữ liệu, góp ý): anyone may ask an
//! agency for a dataset or comment on an open one, without logging in; the agency's
//! stewards see what was sent to their subtree and answer it; answered feedback shows
//! on the dataset's page. Every submission and answer is audited.

use super::Kho;
use kho_catalog::requests::{CitizenRequest, NewRequest, RequestKind};
use kho_core::audit::AuditContext;
use kho_core::identity::{Role, Subject};
use kho_core::policy::{Action, Resource, ResourceKind, SharingScope};
use kho_core::{Error, ErrorCode, Result};
use kho_store::{Page, RequestQuery};

impl Kho {
    /// Records a request or feedback sent from `client`. Feedback goes to the open
    /// dataset's publisher. An address may send a few an hour: more is refused with the
    /// time to wait, so that a script cannot flood the agencies' lists.
    pub async fn submit_request(
        &self,
        ctx: &AuditContext,
        client: std::net::IpAddr,
        new: NewRequest,
    ) -> Result<CitizenRequest> {
        let mut new = new.validate()?;
        let address = client.to_string();
        if let Err(wait) = self.submissions.check(&address, 1) {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "this address has sent many requests in the last hour; try again in {} minutes",
                    wait.as_secs().div_ceil(60).max(1)
                ),
            ));
        }
        if new.kind == RequestKind::Feedback {
            let key = new.resource_id.clone().unwrap_or_default();
            let r = self
                .open_resource(&key)
                .await
                .map_err(|_| Error::invalid("resource_id", "no open dataset by that id"))?;
            new.agency_id = r.draft.publisher_agency_id.clone();
            new.resource_id = Some(r.id);
        } else {
            self.agency(&new.agency_id)
                .await
                .map_err(|_| Error::invalid("agency_id", "choose an agency from the list"))?;
            new.resource_id = None;
        }
        let created = self.store.create_request(ctx, &new).await?;
        self.submissions.record(&address);
        Ok(created)
    }

    /// What was sent to the caller's agency subtree (everything, for administrators).
    pub async fn list_requests(
        &self,
        subject: &Subject,
        unanswered: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Page<CitizenRequest>> {
        if !subject.is_authenticated() {
            return Err(Error::new(ErrorCode::Unauthenticated, "log in to see the requests sent to your agency"));
        }
        let agency_within = if subject.has(Role::Admin) {
            None
        } else {
            Some(
                subject
                    .agency_path
                    .clone()
                    .ok_or_else(|| Error::new(ErrorCode::Forbidden, "you belong to no agency"))?,
            )
        };
        let query = RequestQuery {
            agency_within,
            resource_id: None,
            unanswered,
            limit: limit.clamp(1, 200),
            offset: offset.max(0),
        };
        Ok(self.store.list_requests(&query).await?)
    }

    /// Answers a request; only those who manage the addressed agency's data may.
    pub async fn answer_request(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        id: &str,
        answer: &str,
    ) -> Result<CitizenRequest> {
        let request =
            self.store.citizen_request(id).await?.ok_or_else(|| Error::not_found(format!("request {id:?}")))?;
        let path = self.agency_path(&request.agency_id).await?;
        let policy = Resource::new(ResourceKind::DataResource).in_agency(&path).with_scope(SharingScope::Private);
        self.check(subject, ctx, Action::Update, policy, "request.answer", &format!("request:{id}")).await?;
        let answer = answer.trim();
        if !(2..=4000).contains(&answer.chars().count()) {
            return Err(Error::invalid("answer", "write an answer of 2 to 4,000 characters"));
        }
        Ok(self.store.answer_request(ctx, id, answer).await?)
    }

    /// Answered feedback on an open dataset, newest first, for its public page.
    pub async fn answered_feedback(&self, resource_id: &str) -> Result<Vec<CitizenRequest>> {
        let query = RequestQuery { resource_id: Some(resource_id.to_string()), limit: 50, ..Default::default() };
        let page = self.store.list_requests(&query).await?;
        Ok(page.items.into_iter().filter(|r| r.answer.is_some()).collect())
    }
}
