//! Path parameters: each means the same on every route, so one type per combination carries
//! its schema (what the handlers accept) into the document.

use serde::Deserialize;
use utoipa::IntoParams;

/// `{authority}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AuthorityPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    pub authority: String,
}

/// `{authority}/permits/{number}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PermitPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    pub authority: String,
    /// The permit number (box 1).
    pub number: String,
}

/// `{authority}/keys/{kid}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    pub authority: String,
    /// Key id: 12 lower-case hex digits.
    pub kid: String,
}
