//! Nhật ký kiểm toán — the append-only audit log as a SHA-256 hash chain. Each entry
//! carries the hash of the one before it and a hash over its own fields, so altering,
//! deleting or reordering entries breaks the chain at a place [`ChainVerifier`] names.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Kết quả — how the recorded action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Denied,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Success, Self::Denied, Self::Failure].into_iter().find(|o| o.as_str() == s)
    }
}

/// What happened, before it is placed in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub actor: String,
    pub actor_agency_id: Option<String>,
    /// Dotted verb such as `user.create`, `token.revoke`, `audit.read`.
    pub action: String,
    /// What was acted upon, such as `user:0193…` or `agency:000.00.00.H06`.
    pub target: String,
    pub request_id: Option<String>,
    pub outcome: Outcome,
    /// Free-form JSON text with details (never secrets).
    pub detail: String,
}

impl AuditEvent {
    pub fn new(actor: impl Into<String>, action: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            actor_agency_id: None,
            action: action.into(),
            target: target.into(),
            request_id: None,
            outcome: Outcome::Success,
            detail: "{}".into(),
        }
    }
    pub fn agency(mut self, id: Option<String>) -> Self {
        self.actor_agency_id = id;
        self
    }
    pub fn request(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail.to_string();
        self
    }
}

/// Who acts and in which request: enough to turn an action into an [`AuditEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub actor: String,
    pub actor_agency_id: Option<String>,
    pub request_id: Option<String>,
}

impl AuditContext {
    pub fn new(subject: &crate::identity::Subject, request_id: Option<String>) -> Self {
        Self { actor: subject.actor(), actor_agency_id: subject.agency_id.clone(), request_id }
    }
    /// The local operator (CLI on the server machine).
    pub fn operator() -> Self {
        Self::new(&crate::identity::Subject::operator(), None)
    }
    pub fn event(&self, action: impl Into<String>, target: impl Into<String>) -> AuditEvent {
        AuditEvent::new(self.actor.clone(), action, target)
            .agency(self.actor_agency_id.clone())
            .request(self.request_id.clone())
    }
}

/// One entry of the chain as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_agency_id: Option<String>,
    pub action: String,
    pub target: String,
    pub request_id: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Places `event` after the entry `(prev_seq, prev_hash)` at time `at`.
    pub fn chain(prev_seq: i64, prev_hash: &str, at: DateTime<Utc>, event: AuditEvent) -> Self {
        let mut entry = AuditEntry {
            seq: prev_seq + 1,
            at,
            actor: event.actor,
            actor_agency_id: event.actor_agency_id,
            action: event.action,
            target: event.target,
            request_id: event.request_id,
            outcome: event.outcome,
            detail: event.detail,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// SHA-256 over every field but `hash`, each length-prefixed so that no two
    /// different entries serialise alike.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        field(&self.seq.to_string());
        field(&crate::time::format(&self.at));
        field(&self.actor);
        field(self.actor_agency_id.as_deref().unwrap_or(""));
        field(&self.action);
        field(&self.target);
        field(self.request_id.as_deref().unwrap_or(""));
        field(self.outcome.as_str());
        field(&self.detail);
        field(&self.prev_hash);
        hex::encode(h.finalize())
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry's content no longer matches its hash (it was altered).
    Altered { seq: i64 },
    /// The entry does not point at the hash of the entry before it (entries were
    /// removed, inserted or reordered before this one).
    BrokenLink { seq: i64 },
    /// Sequence numbers jump: entries between were deleted.
    Missing { expected_seq: i64, found_seq: i64 },
    /// The chain ends before the recorded head: the newest entries were deleted.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { seq } => write!(f, "entry {seq} was altered: its content does not match its hash"),
            Self::BrokenLink { seq } => {
                write!(f, "entry {seq} does not link to the entry before it: entries were removed or reordered")
            }
            Self::Missing { expected_seq, found_seq } => {
                write!(f, "entry {expected_seq} is missing: the chain jumps from {} to {found_seq}", expected_seq - 1)
            }
            Self::Truncated { last_seq, head_seq } => {
                write!(
                    f,
                    "the chain ends at entry {last_seq} but the head records {head_seq}: newest entries were deleted"
                )
            }
        }
    }
}

/// Walks the chain entry by entry (in `seq` order) and stops at the first break.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { last_seq: 0, last_hash: GENESIS_HASH.into() }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.last_seq + 1 {
            return Err(ChainBreak::Missing { expected_seq: self.last_seq + 1, found_seq: e.seq });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainBreak::Altered { seq: e.seq });
        }
        if e.prev_hash != self.last_hash {
            return Err(ChainBreak::BrokenLink { seq: e.seq });
        }
        self.last_seq = e.seq;
        self.last_hash = e.hash.clone();
        Ok(())
    }

    /// Compares the end of the walk with the head the store recorded.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        if self.last_seq < head_seq {
            return Err(ChainBreak::Truncated { last_seq: self.last_seq, head_seq });
        }
        if self.last_seq > head_seq || self.last_hash != head_hash {
            return Err(ChainBreak::BrokenLink { seq: self.last_seq });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let (seq, hash) = out.last().map(|e| (e.seq, e.hash.clone())).unwrap_or((0, GENESIS_HASH.into()));
            out.push(AuditEntry::chain(
                seq,
                &hash,
                crate::time::now(),
                AuditEvent::new("operator", "test", format!("t{i}")),
            ));
        }
        out
    }

    fn verify(entries: &[AuditEntry], head: (i64, &str)) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, (5, &c[4].hash)), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let c = chain(5);
        let head = (5, c[4].hash.as_str());

        let mut altered = c.clone();
        altered[2].target = "other".into();
        assert_eq!(verify(&altered, head), Err(ChainBreak::Altered { seq: 3 }));

        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, head), Err(ChainBreak::Missing { expected_seq: 2, found_seq: 3 }));

        let mut tail = c.clone();
        tail.pop();
        assert_eq!(verify(&tail, head), Err(ChainBreak::Truncated { last_seq: 4, head_seq: 5 }));

        // Swapping two entries' positions and renumbering them (rehashing each so
        // their own hashes look right) still breaks the links.
        let mut reordered = c.clone();
        reordered.swap(1, 2);
        for (i, e) in reordered.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
            e.hash = e.compute_hash();
        }
        assert_eq!(verify(&reordered, head), Err(ChainBreak::BrokenLink { seq: 2 }));
    }
}
