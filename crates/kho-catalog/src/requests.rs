//! Yêu cầu dữ liệu và góp ý — what the public asks of the province: a dataset that is
//! not published yet (addressed to an agency), or feedback on a published one (to its
//! publisher). The agency answers in the management UI; together they are the
//! standing survey of citizens' needs the open-data strategy asks for.

use chrono::{DateTime, Utc};
use kho_core::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Đề nghị công bố dữ liệu — ask for a dataset.
    DatasetRequest,
    /// Góp ý — feedback on a published dataset.
    Feedback,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DatasetRequest => "dataset_request",
            Self::Feedback => "feedback",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "dataset_request" => Ok(Self::DatasetRequest),
            "feedback" => Ok(Self::Feedback),
            other => Err(Error::invalid("kind", format!("{other:?} is not dataset_request or feedback"))),
        }
    }
}

/// What a citizen writes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct NewRequest {
    pub kind: RequestKind,
    /// The dataset commented on (feedback).
    pub resource_id: Option<String>,
    /// The agency asked (a dataset request; feedback goes to the dataset's publisher).
    pub agency_id: String,
    pub name: String,
    pub email: String,
    pub message: String,
}

impl NewRequest {
    /// Trims the fields and checks them, naming the field at fault.
    pub fn validate(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        self.email = self.email.trim().to_string();
        self.message = self.message.trim().to_string();
        if !(2..=120).contains(&self.name.chars().count()) {
            return Err(Error::invalid("name", "write your name (2 to 120 characters)"));
        }
        let at = self.email.find('@');
        if !at.is_some_and(|i| i > 0 && self.email[i + 1..].contains('.')) || self.email.contains(' ') {
            return Err(Error::invalid(
                "email",
                format!("{:?} is not an e-mail address; the answer is sent there", self.email),
            ));
        }
        if !(10..=4000).contains(&self.message.chars().count()) {
            return Err(Error::invalid("message", "write what you need in 10 to 4,000 characters"));
        }
        if self.kind == RequestKind::Feedback && self.resource_id.is_none() {
            return Err(Error::invalid("resource_id", "feedback names the dataset it is about"));
        }
        Ok(self)
    }
}

/// A request as stored, with the agency's answer once given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CitizenRequest {
    pub id: String,
    pub kind: RequestKind,
    pub resource_id: Option<String>,
    pub agency_id: String,
    pub name: String,
    pub email: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> NewRequest {
        NewRequest {
            kind: RequestKind::DatasetRequest,
            resource_id: None,
            agency_id: "a1".into(),
            name: " Nguyễn Văn An ".into(),
            email: "an@example.vn".into(),
            message: "Đề nghị công bố danh sách điểm thu gom rác.".into(),
        }
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        assert_eq!(request().validate().unwrap().name, "Nguyễn Văn An");
        let bad_email = NewRequest { email: "an at example".into(), ..request() };
        assert!(bad_email.validate().unwrap_err().message.starts_with("email:"));
        let short = NewRequest { message: "ngắn".into(), ..request() };
        assert!(short.validate().unwrap_err().message.starts_with("message:"));
        let feedback = NewRequest { kind: RequestKind::Feedback, ..request() };
        assert!(feedback.validate().unwrap_err().message.starts_with("resource_id:"));
    }
}
