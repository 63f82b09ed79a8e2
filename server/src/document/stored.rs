//! From stored rows to a document: the one place that turns a permit as the database holds it
//! into [`PermitDocument`], for the HTTP endpoint and `permitseal permit print` alike.
//!
//! The data printed is the data signed: it is decoded from the stored QR text, and the details
//! the QR binds by digest are rebuilt from the stored draft and checked against that digest.
//! Anything stored that does not fit fails closed.

use verifier_core::i18n::Lang;
use verifier_core::payload;
use verifier_core::permit::{Details, IssueContext, Permit, PermitData, PermitDraft};

use super::{DocumentError, IssuingAuthority, PermitDocument, QuotaUse, render};
use crate::domain::issuing::format_micro;
use crate::storage::authorities::AuthorityRow;
use crate::storage::documents::BlockQuota;
use crate::storage::permits::PermitRow;

/// Why a stored permit could not be printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// A value cannot be printed with the document font (the caller's input, reported as such).
    #[error(transparent)]
    Unprintable(DocumentError),
    /// The stored record is inconsistent (its signature, draft, state or authority settings).
    #[error("stored permit {number}: {reason}")]
    Stored {
        /// The permit number.
        number: String,
        /// What does not fit.
        reason: String,
    },
    /// Rendering failed.
    #[error(transparent)]
    Render(DocumentError),
}

/// The language stored for an authority; unknown values fail closed.
pub fn stored_language(row: &AuthorityRow) -> Result<Lang, PrintError> {
    super::parse_lang(&row.language).ok_or_else(|| PrintError::Stored {
        number: String::new(),
        reason: format!(
            "authority {} has the unknown language {:?}",
            row.id, row.language
        ),
    })
}

/// Renders a stored permit of `authority` in `lang` (the authority's own when `None`).
pub fn render_stored(
    authority: &AuthorityRow,
    permit: &PermitRow,
    quotas: &[Option<BlockQuota>],
    lang: Option<Lang>,
    verify_url: &str,
) -> Result<Vec<u8>, PrintError> {
    let stored = |reason: String| PrintError::Stored {
        number: permit.number.clone(),
        reason,
    };
    let lang = match lang {
        Some(l) => l,
        None => stored_language(authority)?,
    };
    let revoked = match permit.state.as_str() {
        "revoked" => true,
        "valid" | "suspended" | "used" | "cancelled_on_import" => false,
        other => return Err(stored(format!("unknown state {other:?}"))),
    };
    let (data, details) = signed_record(permit)?;
    let data = &data;
    let country = authority.country.parse().map_err(|_| {
        stored(format!(
            "authority country {:?} is not ISO",
            authority.country
        ))
    })?;
    let quotas: Vec<Option<QuotaUse>> = quotas
        .iter()
        .map(|q| {
            q.map(|q| QuotaUse {
                used: format_micro(q.used_micro),
                total: format_micro(q.quota_micro),
            })
        })
        .collect();
    let import_permit = stored_import(permit)?;
    let doc = PermitDocument {
        permit: data,
        details: &details,
        qr_text: &permit.qr_text,
        authority: IssuingAuthority {
            name: &authority.name,
            country,
            address: authority.address.as_deref(),
            issue_place: authority.issue_place.as_deref(),
        },
        import_permit: import_permit
            .as_ref()
            .map(|(c, n)| (c.as_str(), n.as_str())),
        quotas: &quotas,
        revoked,
        verify_url,
    };
    render(&doc, lang).map_err(|e| match e {
        DocumentError::Unprintable { .. } => PrintError::Unprintable(e),
        other => PrintError::Render(other),
    })
}

/// The signed data of a stored permit, decoded from its QR text, and the details that text
/// binds by digest, rebuilt from the stored draft and checked against it.
pub fn signed_record(permit: &PermitRow) -> Result<(PermitData, Details), PrintError> {
    let stored = |reason: String| PrintError::Stored {
        number: permit.number.clone(),
        reason,
    };
    let (_, signed) = payload::decode_permit(&permit.qr_text)
        .map_err(|e| stored(format!("its QR text does not decode: {e}")))?;
    let data = signed.data().clone();
    let draft: PermitDraft = serde_json::from_str(&permit.draft)
        .map_err(|e| stored(format!("its draft is not readable: {e}")))?;
    let rebuilt = Permit::new(
        &draft,
        IssueContext {
            issuing_country: data.issuing_country,
            issued_at: data.issued_at,
            status_index: data.status_index,
        },
    )
    .map_err(|e| stored(format!("its draft no longer builds: {e}")))?;
    let details = rebuilt.details().cloned().unwrap_or_default();
    if !signed.binds(&details) || rebuilt.data() != &data {
        return Err(stored("its draft is not what its QR code signs".to_owned()));
    }
    Ok((data, details))
}

/// The import permit a stored permit references: (country, number).
pub fn stored_import(permit: &PermitRow) -> Result<Option<(String, String)>, PrintError> {
    let stored = |reason: String| PrintError::Stored {
        number: permit.number.clone(),
        reason,
    };
    Ok(match &permit.import_permit {
        None => None,
        Some(json) => {
            let v: serde_json::Value = serde_json::from_str(json)
                .map_err(|e| stored(format!("its import permit is not readable: {e}")))?;
            match (v["country"].as_str(), v["number"].as_str()) {
                (Some(c), Some(n)) => Some((c.to_owned(), n.to_owned())),
                _ => return Err(stored("its import permit lacks country or number".into())),
            }
        }
    })
}
