//! Who acts in Kho: people (users with roles in one agency), machine clients
//! (subsystems, identified X-Road style `instance/class/member/subsystem`) and the
//! API tokens they present. A [`Subject`] is what the policy sees of any of them.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Vai trò — a role. A user holds one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Quản trị hệ thống — manages the whole system.
    Admin,
    /// Cán bộ quản lý dữ liệu — manages its agency's data.
    Steward,
    /// Người xem — reads what its agency may read.
    Viewer,
    /// Kiểm toán viên — reads the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Steward, Role::Viewer, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Steward => "steward",
            Self::Viewer => "viewer",
            Self::Auditor => "auditor",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            Error::invalid("roles", format!("unknown role {s:?}; use admin, steward, viewer or auditor"))
        })
    }
    /// Parses a comma-separated list such as `steward,viewer`.
    pub fn parse_list(s: &str) -> Result<Vec<Role>> {
        let mut roles = s.split(',').filter(|p| !p.trim().is_empty()).map(Role::parse).collect::<Result<Vec<_>>>()?;
        roles.sort();
        roles.dedup();
        Ok(roles)
    }
    pub fn join(roles: &[Role]) -> String {
        roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// Người dùng — a person who logs in.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub agency_id: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// What a caller supplies to create a user.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub agency_id: String,
    pub roles: Vec<Role>,
    /// At least 10 characters.
    pub password: String,
}

pub const MIN_PASSWORD_CHARS: usize = 10;

impl NewUser {
    pub fn validate(&self) -> Result<()> {
        validate_username(&self.username)?;
        validate_password(&self.password)?;
        if self.roles.is_empty() {
            return Err(Error::invalid("roles", "give at least one role: admin, steward, viewer or auditor"));
        }
        Ok(())
    }
}

pub fn validate_username(u: &str) -> Result<()> {
    let ok = (3..=64).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            format!("{u:?} is not allowed; use 3 to 64 lowercase letters, digits, '.', '_' or '-'"),
        ))
    }
}

pub fn validate_password(p: &str) -> Result<()> {
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid("password", format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if p.len() > 1024 {
        return Err(Error::invalid("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

/// Định danh phân hệ — an X-Road style subsystem identifier
/// `INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEMCODE`, e.g. `VN/GOV/000.00.00.H06/PORTAL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubsystemId {
    pub instance: String,
    pub member_class: String,
    pub member_code: String,
    pub subsystem_code: String,
}

impl SubsystemId {
    /// How the subsystem appears in the audit log, as actor or target: `subsystem:VN/GOV/…`.
    pub fn audit_target(&self) -> String {
        format!("subsystem:{self}")
    }

    pub fn parse(raw: &str) -> Result<Self> {
        let (mut parts, mut count) = ([""; 4], 0);
        for part in raw.split('/') {
            if let Some(slot) = parts.get_mut(count) {
                *slot = part;
            }
            count += 1;
        }
        if count != 4 {
            return Err(Self::malformed(raw, &format!("it has {count} of the 4 parts")));
        }
        match Self::problem(&parts) {
            Some(problem) => Err(Self::malformed(raw, &problem)),
            None => Ok(Self::new(parts)),
        }
    }

    /// The identifier of `INSTANCE`, `CLASS`, `MEMBER` and `SUBSYSTEM` given apart.
    pub fn from_parts(parts: [&str; 4]) -> Result<Self> {
        match Self::problem(&parts) {
            Some(problem) => Err(Self::malformed(&parts.join("/"), &problem)),
            None => Ok(Self::new(parts)),
        }
    }

    fn new(parts: [&str; 4]) -> Self {
        let [instance, member_class, member_code, subsystem_code] = parts.map(String::from);
        Self { instance, member_class, member_code, subsystem_code }
    }

    /// What makes `parts` no identifier: the first part that is empty, too long or
    /// holds a character X-Road identifiers do not.
    fn problem(parts: &[&str; 4]) -> Option<String> {
        const NAMES: [&str; 4] = ["INSTANCE", "CLASS", "MEMBER", "SUBSYSTEM"];
        parts.iter().zip(NAMES).find_map(|(part, name)| {
            if part.is_empty() {
                Some(format!("its {name} is empty"))
            } else if part.len() > 255 {
                Some(format!("its {name} is longer than 255 characters"))
            } else {
                if part.bytes().all(identifier_byte) {
                    return None;
                }
                let c = part.chars().find(|c| !c.is_ascii() || !identifier_byte(*c as u8))?;
                Some(format!("its {name} holds {c:?}"))
            }
        })
    }

    /// The error for `raw`, saying what is wrong with it (`problem`) and what is right.
    fn malformed(raw: &str, problem: &str) -> Error {
        Error::invalid(
            "xroad_id",
            format!(
                "{raw:?} is not a subsystem identifier: {problem}; write INSTANCE/CLASS/MEMBER/SUBSYSTEM \
                 such as VN/GOV/000.00.00.H06/PORTAL, each part of A-Z a-z 0-9 ' ( ) + , - . = ?"
            ),
        )
    }

    /// Whether `text` is this identifier's `INSTANCE/CLASS/MEMBER/SUBSYSTEM` form
    /// (without writing that form out).
    pub fn is(&self, text: &str) -> bool {
        let mut parts = text.splitn(4, '/');
        [&self.instance, &self.member_class, &self.member_code, &self.subsystem_code]
            .into_iter()
            .all(|own| parts.next() == Some(own.as_str()))
    }
}

/// Whether `b` may stand in an X-Road identifier's part: A-Z a-z 0-9 and `'()+,-.=?`
/// (a byte of a multi-byte character never may). Checked a byte at a time: the gateway
/// checks the parts of every call's client and service.
pub fn identifier_byte(b: u8) -> bool {
    IDENTIFIER_BYTES[b as usize]
}

/// [`identifier_byte`]'s answer for every byte, worked out once.
const IDENTIFIER_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'=' | b'?');
        b += 1;
    }
    table
};

impl std::fmt::Display for SubsystemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}/{}", self.instance, self.member_class, self.member_code, self.subsystem_code)
    }
}
impl TryFrom<String> for SubsystemId {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        Self::parse(&s).map_err(|e| e.without_field().to_string())
    }
}
impl From<SubsystemId> for String {
    fn from(s: SubsystemId) -> String {
        s.to_string()
    }
}

/// Phân hệ — a machine client of one agency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Subsystem {
    pub id: String,
    #[schema(value_type = String, example = "VN/GOV/000.00.00.H06/PORTAL")]
    pub xroad_id: SubsystemId,
    pub name: String,
    pub agency_id: String,
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
}

/// Chứng thư số — a client TLS certificate registered for a subsystem, known by the
/// SHA-256 fingerprint of its DER bytes. The gateway accepts the subsystem when it
/// presents one that is not revoked; a revoked certificate cannot be registered again.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SubsystemCertificate {
    /// SHA-256 of the certificate (DER), in hex.
    pub fingerprint: String,
    pub subsystem_id: String,
    /// What the certificate is for, e.g. the server or Agent Node it is installed on.
    pub label: String,
    pub added_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubsystem {
    #[schema(value_type = String, example = "VN/GOV/000.00.00.H06/PORTAL")]
    pub xroad_id: SubsystemId,
    pub name: String,
    pub agency_id: String,
    #[serde(default = "default_subsystem_roles")]
    pub roles: Vec<Role>,
}

fn default_subsystem_roles() -> Vec<Role> {
    vec![Role::Viewer]
}

impl NewSubsystem {
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        if self.roles.contains(&Role::Admin) {
            return Err(Error::invalid("roles", "a subsystem cannot hold the admin role"));
        }
        Ok(())
    }
}

/// Whose token it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum TokenOwner {
    User(String),
    Subsystem(String),
}

/// Khóa API — an API token's record. The secret itself is shown once at creation
/// and stored only as a hash; `prefix` lets people tell their tokens apart.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub owner: TokenOwner,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token this close to its expiry is shown as expiring: its holder needs a new one
/// before calls start failing.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

impl ApiToken {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// The whole days an active token has left when it is within
    /// [`EXPIRY_WARNING_DAYS`] of its expiry (0 on its last day); `None` otherwise.
    pub fn expiring_in(&self, now: DateTime<Utc>) -> Option<i64> {
        let left = self.expires_at - now;
        (self.is_active(now) && left <= chrono::Duration::days(EXPIRY_WARNING_DAYS)).then(|| left.num_days())
    }
}

/// Longest lifetime a token may be given.
pub const MAX_TOKEN_DAYS: i64 = 730;

/// Checks a requested token lifetime in days.
pub fn validate_token_days(days: i64) -> Result<i64> {
    if (1..=MAX_TOKEN_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Error::invalid("expires_in_days", format!("must be between 1 and {MAX_TOKEN_DAYS}")))
    }
}

/// Who is asking, as the authorisation policy sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    Anonymous,
    User {
        id: String,
        username: String,
    },
    Subsystem {
        id: String,
        xroad_id: String,
    },
    /// The local operator running CLI commands on the server machine.
    Operator,
}

/// The caller of one request: principal, roles and the agency it acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub principal: Principal,
    pub roles: Vec<Role>,
    pub agency_id: Option<String>,
    /// Materialised path of the caller's agency (see [`crate::agency::Agency::path`]).
    pub agency_path: Option<String>,
}

impl Subject {
    pub fn anonymous() -> Self {
        Self { principal: Principal::Anonymous, roles: vec![], agency_id: None, agency_path: None }
    }
    pub fn operator() -> Self {
        Self { principal: Principal::Operator, roles: vec![Role::Admin], agency_id: None, agency_path: None }
    }
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    pub fn is_authenticated(&self) -> bool {
        self.principal != Principal::Anonymous
    }
    pub fn user_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::User { id, .. } => Some(id),
            _ => None,
        }
    }
    /// How the actor appears in the audit log: `user:alice`, `subsystem:VN/GOV/…`, `operator`.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Anonymous => "anonymous".into(),
            Principal::User { username, .. } => format!("user:{username}"),
            Principal::Subsystem { xroad_id, .. } => format!("subsystem:{xroad_id}"),
            Principal::Operator => "operator".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_bytes_are_the_characters_x_road_allows() {
        for b in 0..=u8::MAX {
            let allowed = b.is_ascii() && ((b as char).is_ascii_alphanumeric() || "'()+,-.=?".contains(b as char));
            assert_eq!(identifier_byte(b), allowed, "byte {b:#04x}");
        }
        assert!(SubsystemId::parse("VN/GOV/000.00.00.H24/CỔNG").is_err(), "a letter beyond ASCII is refused");
    }

    #[test]
    fn a_token_within_thirty_days_of_its_expiry_is_expiring_and_a_revoked_one_is_not() {
        let now = crate::time::now();
        let token = |days: i64, revoked: bool| ApiToken {
            id: "t".into(),
            name: "n".into(),
            owner: TokenOwner::Subsystem("s".into()),
            prefix: "kho_x".into(),
            created_at: now,
            expires_at: now + chrono::Duration::days(days) + chrono::Duration::minutes(1),
            revoked_at: revoked.then_some(now),
            last_used_at: None,
        };
        assert_eq!(token(10, false).expiring_in(now), Some(10));
        assert_eq!(token(0, false).expiring_in(now), Some(0), "its last day");
        assert_eq!(token(30, false).expiring_in(now), None, "a minute more than thirty days");
        assert_eq!(token(29, false).expiring_in(now), Some(29));
        assert_eq!(token(10, true).expiring_in(now), None, "revoked");
        assert_eq!(token(-1, false).expiring_in(now), None, "expired already");
    }

    #[test]
    fn a_subsystem_is_its_text_form_only() {
        let id = SubsystemId::parse("VN/GOV/000.00.00.H24/PORTAL").unwrap();
        assert!(id.is("VN/GOV/000.00.00.H24/PORTAL"));
        for other in ["VN/GOV/000.00.00.H24/PORTAL/x", "VN/GOV/000.00.00.H24", "VN/GOV/000.00.00.H24/PORTA", "", "VN"] {
            assert!(!id.is(other), "{other}");
        }
    }

    #[test]
    fn roles_parse_from_lists() {
        assert_eq!(Role::parse_list("viewer, steward,viewer").unwrap(), vec![Role::Steward, Role::Viewer]);
        assert!(Role::parse_list("root").unwrap_err().message.contains("unknown role"));
    }

    #[test]
    fn subsystem_ids_use_xroad_characters() {
        let id = SubsystemId::parse("VN/GOV/000.00.00.H06/PORTAL").unwrap();
        assert_eq!(id.member_code, "000.00.00.H06");
        assert_eq!(id.to_string(), "VN/GOV/000.00.00.H06/PORTAL");
        for (bad, problem) in [
            ("VN/GOV/PORTAL", "it has 3 of the 4 parts"),
            ("VN/GOV/000.00.03.H24", "it has 3 of the 4 parts"),
            ("VN/GOV/x/y/z", "it has 5 of the 4 parts"),
            ("VN/GOV/a b/P", "its MEMBER holds ' '"),
            ("VN//x/P", "its CLASS is empty"),
            ("VN/GOV/x/", "its SUBSYSTEM is empty"),
        ] {
            let message = SubsystemId::parse(bad).unwrap_err().message;
            let expected =
                format!("{bad:?} is not a subsystem identifier: {problem}; write INSTANCE/CLASS/MEMBER/SUBSYSTEM");
            assert!(message.contains(&expected), "{message}");
        }
    }

    #[test]
    fn usernames_and_passwords_have_rules() {
        validate_username("can.bo-01").unwrap();
        assert!(validate_username("Admin").is_err());
        assert!(validate_username("ab").is_err());
        assert!(validate_password("short").is_err());
        validate_password("mật khẩu đủ dài").unwrap();
    }
}
