//! An issued permit as the CITES exchange message's data ([`crate::exchange::ExchangePermit`]),
//! built from what storage holds, checked as the paper permit is. It lives with the views so
//! that `exchange` stays a pure format module below storage and the domain.

use verifier_core::codes::Country;

use super::FormContent;
use crate::document::stored::{PrintError, signed_record, stored_import};
use crate::domain::issuing::format_micro;
use crate::exchange::*;
use crate::storage::authorities::AuthorityRow;
use crate::storage::documents::BlockQuota;
use crate::storage::permits::PermitRow;
/// The export endorsement a permit has, as box 14 shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEndorsement {
    /// When and where.
    pub examination: Examination,
    /// Block letter and quantity in millionths of the block's unit.
    pub lines: Vec<(String, i64)>,
}

/// Builds the exchange form of a stored permit of `authority`, checked as the paper permit is
/// (the data is the signed data; a stored value that does not fit fails closed).
pub fn from_stored(
    authority: &AuthorityRow,
    permit: &PermitRow,
    quotas: &[Option<BlockQuota>],
    endorsement: Option<&StoredEndorsement>,
) -> Result<ExchangePermit, PrintError> {
    let stored = |reason: String| PrintError::Stored {
        number: permit.number.clone(),
        reason,
    };
    let (data, details) = signed_record(permit)?;
    let form: FormContent = match &permit.form_content {
        None => FormContent::default(),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| stored(format!("its form content is not readable: {e}")))?,
    };
    let country: Country = authority.country.parse().map_err(|_| {
        stored(format!(
            "authority country {:?} is not ISO",
            authority.country
        ))
    })?;
    let import_permit = match stored_import(permit)? {
        None => None,
        Some((c, n)) => Some((
            c.parse()
                .map_err(|_| stored(format!("import permit country {c:?} is not ISO")))?,
            n,
        )),
    };
    let replacement_of = match &form.replacement_of {
        None => None,
        Some(r) => Some(Replaced {
            number: r.number.clone(),
            date: r
                .date
                .parse()
                .map_err(|_| stored(format!("replaced document date {:?}", r.date)))?,
            reason: r.reason.clone(),
        }),
    };
    let lines = data
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let d = details.lines.get(i);
            ExchangeLine {
                block: l.block,
                scientific_name: l.scientific_name.clone(),
                common_name: d.and_then(|d| d.common_name.clone()),
                description: d.and_then(|d| d.description.clone()),
                term: l.term,
                appendix: l.appendix,
                source: l.source,
                quantity: l.quantity,
                unit: l.unit,
                quota: quotas
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|q| (format_micro(q.used_micro), format_micro(q.quota_micro))),
                origin: l.origin.clone(),
                last_reexport: l.last_reexport.clone(),
                operation_number: l.operation_number.clone(),
                acquisition_date: l.acquisition_date,
                justification: d.and_then(|d| d.justification.clone()),
                endorsed: endorsement.and_then(|e| {
                    let block = l.block.to_string();
                    e.lines
                        .iter()
                        .find(|(b, _)| *b == block)
                        .map(|(_, q)| format_micro(*q))
                }),
            }
        })
        .collect();
    Ok(ExchangePermit {
        number: data.number.clone(),
        document_type: data.document_type,
        copy: form.copy,
        issued_at: data.issued_at,
        valid_from: data.valid_from,
        valid_until: data.valid_until,
        purpose: data.purpose,
        special_conditions: details.special_conditions.clone(),
        retrospective: form.retrospective.clone(),
        security_stamp: data.security_stamp.clone(),
        authority: TradeParty {
            name: authority.name.clone(),
            country,
            address: form
                .authority_address
                .clone()
                .or_else(|| authority.address.clone()),
        },
        place_of_issue: form
            .place_of_issue
            .clone()
            .or_else(|| authority.issue_place.clone()),
        signatory: form.signatory.clone(),
        exporter: TradeParty {
            name: data.exporter.name.clone(),
            country: data.exporter.country,
            address: details.exporter_address.clone(),
        },
        importer: data.importer.as_ref().map(|p| TradeParty {
            name: p.name.clone(),
            country: p.country,
            address: details.importer_address.clone(),
        }),
        import_permit,
        replacement_of,
        qr_text: Some(permit.qr_text.clone()),
        examination: endorsement.map(|e| e.examination.clone()),
        lines,
    })
}
