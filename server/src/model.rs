//! Domain values of the server that are not part of the permit format: roles, principals,
//! authority codes. Parsed once at the edge; everything past the parsers holds valid values.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was rejected. The `code` is a stable snake_case identifier for clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    /// Stable snake_case code.
    pub code: &'static str,
    /// Human-readable explanation (never contains secrets).
    pub message: String,
}

impl InvalidValue {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Platform operator: creates authorities and tokens.
    Admin,
    /// Staff of one issuing Management Authority.
    Issuer,
    /// A field device: uploads scans and endorsements, syncs trust and status.
    Officer,
    /// An importing country's authority: confirms receipt, sees usage of permits bound for it.
    Importer,
    /// A registered trader of one authority: drafts, submits and withdraws applications
    /// (user accounts only, docs/WORKFLOW.md).
    Applicant,
    /// Management Authority staff who review applications.
    Clerk,
    /// Gives the non-detriment advice on applications.
    ScientificAuthority,
    /// Approves applications and issues their permits.
    Signatory,
    /// Manages an authority's users and application settings.
    AuthorityAdmin,
    /// A country's customs administration (an ASYCUDA-style system): looks permits up,
    /// records export endorsements from customs declarations, subscribes to permits' events.
    Customs,
}

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Issuer => "issuer",
            Self::Officer => "officer",
            Self::Importer => "importer",
            Self::Applicant => "applicant",
            Self::Clerk => "clerk",
            Self::ScientificAuthority => "scientific_authority",
            Self::Signatory => "signatory",
            Self::AuthorityAdmin => "authority_admin",
            Self::Customs => "customs",
        }
    }

    /// Parses the stored and wire name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text {
            "admin" => Ok(Self::Admin),
            "issuer" => Ok(Self::Issuer),
            "officer" => Ok(Self::Officer),
            "importer" => Ok(Self::Importer),
            "applicant" => Ok(Self::Applicant),
            "clerk" => Ok(Self::Clerk),
            "scientific_authority" => Ok(Self::ScientificAuthority),
            "signatory" => Ok(Self::Signatory),
            "authority_admin" => Ok(Self::AuthorityAdmin),
            "customs" => Ok(Self::Customs),
            other => Err(InvalidValue::new(
                "unknown_role",
                format!(
                    "unknown role {other:?}: expected admin, issuer, officer, importer, \
                     applicant, clerk, scientific_authority, signatory, authority_admin or customs"
                ),
            )),
        }
    }
}

impl Role {
    /// The roles a user account (not an API token) holds.
    pub const USER_ROLES: [Role; 5] = [
        Role::Applicant,
        Role::Clerk,
        Role::ScientificAuthority,
        Role::Signatory,
        Role::AuthorityAdmin,
    ];

    /// True for the roles of user accounts.
    pub fn is_user_role(self) -> bool {
        Self::USER_ROLES.contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO 3166-1 alpha-2 country code in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(String);

impl CountryCode {
    /// Accepts an assigned ISO 3166-1 alpha-2 code (either case), as the permit format does.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.parse::<verifier_core::codes::Country>().is_ok() {
            Ok(Self(upper))
        } else {
            Err(InvalidValue::new(
                "invalid_country",
                format!("{text:?} is not an ISO 3166-1 alpha-2 country code"),
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifier of a Management Authority on this deployment, e.g. `KE` or `US-FWS`:
/// 2 to 16 characters, upper-case letters, digits and `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorityId(String);

impl AuthorityId {
    /// Parses an authority id (upper-casing it).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let upper = text.trim().to_ascii_uppercase();
        let ok = (2..=16).contains(&upper.len())
            && upper.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
            && upper
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(upper))
        } else {
            Err(InvalidValue::new(
                "invalid_authority_id",
                "an authority id has 2 to 16 characters: letters, digits and '-', starting with a letter",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuthorityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a free-text field: trimmed, non-empty, at most `max` characters, no control characters.
pub fn text_field(field: &'static str, text: &str, max: usize) -> Result<String, InvalidValue> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::new(
            "invalid_field",
            format!("{field} must not be empty"),
        ));
    }
    if trimmed.chars().count() > max {
        return Err(InvalidValue::new(
            "invalid_field",
            format!("{field} is longer than {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "invalid_field",
            format!("{field} contains control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Who is calling, as established from a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Public id of the token (for the audit trail).
    pub token_id: String,
    /// What the token may do.
    pub role: Role,
    /// For issuers: their authority.
    pub authority: Option<AuthorityId>,
    /// For officers, importers and customs: their country.
    pub country: Option<CountryCode>,
    /// For a user's session: the user and every role they hold (`role` is the first).
    pub user: Option<SessionUser>,
}

/// The person behind a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The user's id.
    pub id: String,
    /// Every role the user holds, at least one.
    pub roles: Vec<Role>,
}

impl Principal {
    /// True for the platform admin or an issuer of `authority`.
    pub fn manages(&self, authority: &AuthorityId) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Issuer => self.authority.as_ref() == Some(authority),
            Role::Officer
            | Role::Importer
            | Role::Applicant
            | Role::Clerk
            | Role::ScientificAuthority
            | Role::Signatory
            | Role::AuthorityAdmin
            | Role::Customs => false,
        }
    }

    /// True if the caller holds `role` (a user may hold several).
    pub fn holds(&self, role: Role) -> bool {
        self.role == role || self.user.as_ref().is_some_and(|u| u.roles.contains(&role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(CountryCode::parse("ke").unwrap().as_str(), "KE");
        assert!(CountryCode::parse("KEN").is_err());
        assert!(CountryCode::parse("K1").is_err());
        assert!(
            CountryCode::parse("XX").is_err(),
            "pseudo codes are not issuable"
        );
        assert_eq!(AuthorityId::parse("us-fws").unwrap().as_str(), "US-FWS");
        assert!(AuthorityId::parse("1KE").is_err());
        assert!(AuthorityId::parse("K").is_err());
        assert!(AuthorityId::parse("KE/../x").is_err());
        assert_eq!(Role::parse("officer").unwrap(), Role::Officer);
        assert_eq!(Role::parse("root").unwrap_err().code, "unknown_role");
        assert!(text_field("name", "  ", 10).is_err());
        assert!(text_field("name", "a\u{7}b", 10).is_err());
        assert_eq!(text_field("name", " ok ", 10).unwrap(), "ok");
    }
}
