//! Import permits of Parties that issue elsewhere, received as CITESEPermit XML by the
//! authority whose Appendix-I exports they back (docs/FEDERATION.md). Issuance reads their
//! lines (`storage::permits`) as it reads a local import permit's.

use verifier_core::permit::normalize_number;
use verifier_core::text::comparison_key;

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};
use crate::domain::issuing::micro;
use crate::exchange::ExchangePermit;
use crate::model::AuthorityId;

/// A received import permit, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerImport<'a> {
    /// The authority it was submitted to.
    pub authority: &'a AuthorityId,
    /// The message as read.
    pub permit: &'a ExchangePermit,
    /// The message as received.
    pub xml: &'a str,
}

impl Db {
    /// True if an authority of `country` issues on this deployment.
    pub async fn authority_of_country(&self, country: &str) -> Result<bool, StorageError> {
        let found: Option<(String,)> = on_db!(self, read, |pool| {
            sqlx::query_as("SELECT id FROM authorities WHERE country = $1 LIMIT 1")
                .bind(country)
                .fetch_optional(pool)
                .await
        })?;
        Ok(found.is_some())
    }

    /// Stores a partner's import permit and its lines; [`StorageError::Conflict`] if the
    /// authority holds one of that country and number already.
    pub async fn store_partner_import(
        &self,
        actor: &str,
        import: &PartnerImport<'_>,
        now: i64,
    ) -> Result<(), StorageError> {
        let p = import.permit;
        let country = p.authority.country.as_str().to_owned();
        let number_key = normalize_number(&p.number);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO partner_import_permits (authority_id, import_country, number, \
                 number_key, valid_until, xml, submitted_by, submitted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(import.authority.as_str())
            .bind(&country)
            .bind(&p.number)
            .bind(&number_key)
            .bind(p.valid_until.to_string())
            .bind(import.xml)
            .bind(actor)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StorageError::conflict_on_unique("partner import permit"))?;
            for line in &p.lines {
                let q = micro(line.quantity)
                    .ok_or(StorageError::State("quantity beyond the issuing bound"))?;
                sqlx::query(
                    "INSERT INTO partner_import_lines (authority_id, import_country, number_key, \
                     block, name_key, term, unit, quantity_micro) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(import.authority.as_str())
                .bind(&country)
                .bind(&number_key)
                .bind(line.block.to_string())
                .bind(comparison_key(&line.scientific_name))
                .bind(line.term.code())
                .bind(line.unit.code())
                .bind(q)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::conflict_on_unique(
                    "block of the import permit",
                ))?;
            }
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(import.authority.as_str()),
                action: "partner_import.store",
                detail: &format!("country={country} number={}", p.number),
            })
            .await?;
            tx.commit().await?;
            Ok::<(), StorageError>(())
        })
    }
}
