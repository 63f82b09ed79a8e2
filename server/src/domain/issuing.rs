//! What issuing a permit must satisfy beyond the core's own checks of the draft: the document
//! type against appendix, source, term and purpose (one table, `DOCUMENT_RULES`, mirrored in
//! docs/RULES.md), the unit against the term, the taxon's listing in the reference table, the
//! import permit an Appendix-I export refers to and how much of it exports already use, and the
//! annual quota. The request checks run before storage; storage runs the others inside the
//! issuing transaction, with the facts it read.

use verifier_core::codes::{Appendix, DocumentType, Purpose, Source, Term, Unit};
use verifier_core::date::Date;
use verifier_core::permit::{LineItem, MAX_SCALE, PermitData, Quantity};

use super::PermitState;

/// Quantity in millionths of its unit (the format allows at most six decimals); `None` when
/// that does not fit 64 bits. A quantity within `MAX_ISSUED_QUANTITY` always fits (10¹⁸).
pub fn micro(q: Quantity) -> Option<i64> {
    let factor = 10u64.checked_pow(u32::from(MAX_SCALE.checked_sub(q.scale())?))?;
    i64::try_from(q.mantissa().checked_mul(factor)?).ok()
}

/// Formats millionths as a decimal.
pub fn format_micro(v: i64) -> String {
    let whole = v / 1_000_000;
    let frac = (v % 1_000_000).abs();
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:06}")
            .trim_end_matches('0')
            .to_owned()
    }
}

/// A taxon's listing in the reference table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Listing {
    /// `plant` or `animal`.
    pub kingdom: String,
    /// Appendices, `/`-separated (e.g. `I/II` for split listings).
    pub appendices: String,
    /// First included in the Appendices (YYYY-MM-DD), when known.
    pub listed_on: Option<String>,
    /// The Party that listed it in Appendix III (ISO alpha-2), when known.
    pub app3_party: Option<String>,
}

/// A line that the listing's dates or Party refuse (RULES.md T2, T3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingFinding {
    /// A pre-Convention specimen acquired on or after the taxon's first listing.
    AcquiredAfterListing {
        /// Box 12b.
        acquired: Date,
        /// The first listing.
        listed: Date,
    },
    /// A certificate of origin issued by the Party that listed the taxon in Appendix III.
    OriginFromListingParty {
        /// The listing Party.
        party: String,
    },
}

impl ListingFinding {
    /// The stable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AcquiredAfterListing { .. } => "acquired_after_listing",
            Self::OriginFromListingParty { .. } => "origin_from_listing_party",
        }
    }

    /// What the issuer reads.
    pub fn message(&self, taxon: &str) -> String {
        match self {
            Self::AcquiredAfterListing { acquired, listed } => format!(
                "{taxon} was first listed on {listed}: a specimen acquired on {acquired} is not \
                 pre-Convention (its acquisition date must be before the listing)"
            ),
            Self::OriginFromListingParty { party } => format!(
                "{taxon} is listed in Appendix III by {party}: {party}'s exports travel on an \
                 export permit, a certificate of origin is for other Parties"
            ),
        }
    }
}

/// The listing rules of pre-Convention certificates and certificates of origin for one line:
/// `Err` names a stored value that does not read (fail closed), `Ok(None)` when the line fits
/// or the listing does not hold the fact needed.
pub fn listing_finding(
    listing: &Listing,
    document_type: DocumentType,
    issuing_country: &str,
    appendix: &str,
    acquired: Option<Date>,
) -> Result<Option<ListingFinding>, String> {
    match document_type {
        DocumentType::PreConvention => {
            let (Some(acquired), Some(text)) = (acquired, listing.listed_on.as_deref()) else {
                return Ok(None);
            };
            let listed: Date = text
                .parse()
                .map_err(|_| format!("taxa.listed_on {text:?}"))?;
            Ok((acquired >= listed)
                .then_some(ListingFinding::AcquiredAfterListing { acquired, listed }))
        }
        DocumentType::CertificateOfOrigin if appendix == "III" => Ok(listing
            .app3_party
            .as_deref()
            .filter(|party| *party == issuing_country)
            .map(|party| ListingFinding::OriginFromListingParty {
                party: party.to_owned(),
            })),
        _ => Ok(None),
    }
}

/// The contradiction between a permit line and the taxon's listing, described as the table
/// lists it (`animal, Appendix I`); `None` when the line fits.
pub fn listing_contradiction(listing: &Listing, kingdom: &str, appendix: &str) -> Option<String> {
    let fits = listing.kingdom == kingdom && listing.appendices.split('/').any(|a| a == appendix);
    (!fits).then(|| format!("{}, Appendix {}", listing.kingdom, listing.appendices))
}

/// An import permit as found on this deployment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportPermitFound {
    /// Its issuing authority.
    pub authority_id: String,
    /// Its index in that authority's status list.
    pub status_index: i64,
    /// Its state.
    pub state: PermitState,
    /// Last day of validity (YYYY-MM-DD).
    pub valid_until: String,
    /// Document type code.
    pub document_type: String,
}

/// True when an export can rely on the import permit it names, when that import permit's
/// country issues on this deployment (`found` is what was found under its number): an import
/// permit, valid, not past its last day. Import permits of other countries cannot be checked
/// here and are taken as declared. Which of these fails is not told: the document is another
/// Party's.
pub fn import_permit_usable(found: Option<&ImportPermitFound>, now: i64) -> bool {
    found.is_some_and(|p| {
        p.document_type == "import"
            && p.state == PermitState::Valid
            && p.valid_until >= Date::from_unix(now).to_string()
    })
}

/// What the Convention's texts allow on one document type. Validity is the core's
/// (`DocumentType::max_validity_months`, enforced by `Permit::new`); it is repeated here so the
/// table in docs/RULES.md is read from one place, and a unit test keeps the two equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentRule {
    /// The document type.
    pub document_type: DocumentType,
    /// Appendices its lines may have.
    pub appendices: &'static [Appendix],
    /// Sources its lines may have.
    pub sources: &'static [Source],
    /// Terms its lines may have; `None` for any.
    pub terms: Option<&'static [Term]>,
    /// Whether purpose T (commercial) is allowed.
    pub commercial: bool,
    /// Longest validity, in months from the issue date.
    pub max_validity_months: u32,
}

const ALL_APPENDICES: &[Appendix] = &[Appendix::I, Appendix::II, Appendix::III];
const ALL_SOURCES: &[Source] = &[
    Source::W,
    Source::X,
    Source::R,
    Source::D,
    Source::A,
    Source::C,
    Source::F,
    Source::Y,
    Source::I,
    Source::O,
    Source::U,
];
/// Every source but X: a specimen taken in the marine environment outside any State's
/// jurisdiction enters trade by a certificate of introduction from the sea, not by export.
const NOT_FROM_THE_SEA: &[Source] = &[
    Source::W,
    Source::R,
    Source::D,
    Source::A,
    Source::C,
    Source::F,
    Source::Y,
    Source::I,
    Source::O,
    Source::U,
];
/// Legally acquired specimens in personal possession: not confiscated (I), not from the sea (X).
const PERSONAL: &[Source] = &[
    Source::W,
    Source::R,
    Source::D,
    Source::A,
    Source::C,
    Source::F,
    Source::Y,
    Source::O,
    Source::U,
];

/// One row per document type (docs/RULES.md, "Document types"), in the core's wire order.
pub const DOCUMENT_RULES: &[DocumentRule] = &[
    DocumentRule {
        document_type: DocumentType::Export,
        appendices: ALL_APPENDICES,
        sources: NOT_FROM_THE_SEA,
        terms: None,
        commercial: true,
        max_validity_months: 6,
    },
    DocumentRule {
        document_type: DocumentType::ReExport,
        appendices: ALL_APPENDICES,
        sources: ALL_SOURCES,
        terms: None,
        commercial: true,
        max_validity_months: 6,
    },
    DocumentRule {
        document_type: DocumentType::Import,
        appendices: ALL_APPENDICES,
        sources: ALL_SOURCES,
        terms: None,
        commercial: true,
        max_validity_months: 12,
    },
    DocumentRule {
        document_type: DocumentType::CertificateOfOrigin,
        appendices: &[Appendix::III],
        sources: NOT_FROM_THE_SEA,
        terms: None,
        commercial: true,
        max_validity_months: 12,
    },
    DocumentRule {
        document_type: DocumentType::IntroductionFromTheSea,
        appendices: &[Appendix::I, Appendix::II],
        sources: &[Source::X],
        terms: None,
        commercial: true,
        max_validity_months: 12,
    },
    DocumentRule {
        document_type: DocumentType::PreConvention,
        appendices: ALL_APPENDICES,
        sources: &[Source::O],
        terms: None,
        commercial: true,
        max_validity_months: 6,
    },
    DocumentRule {
        document_type: DocumentType::CaptiveBreeding,
        appendices: ALL_APPENDICES,
        sources: &[Source::C, Source::A],
        terms: None,
        commercial: true,
        max_validity_months: 6,
    },
    DocumentRule {
        document_type: DocumentType::Ownership,
        appendices: ALL_APPENDICES,
        sources: PERSONAL,
        terms: Some(&[Term::Liv]),
        commercial: false,
        max_validity_months: 36,
    },
    DocumentRule {
        document_type: DocumentType::TravellingExhibition,
        appendices: ALL_APPENDICES,
        sources: &[Source::O, Source::C, Source::A, Source::D],
        terms: None,
        commercial: false,
        max_validity_months: 36,
    },
    DocumentRule {
        document_type: DocumentType::MusicalInstrument,
        appendices: ALL_APPENDICES,
        sources: PERSONAL,
        terms: None,
        commercial: false,
        max_validity_months: 36,
    },
    DocumentRule {
        document_type: DocumentType::SampleCollection,
        appendices: ALL_APPENDICES,
        sources: ALL_SOURCES,
        terms: None,
        commercial: false,
        max_validity_months: 12,
    },
    DocumentRule {
        document_type: DocumentType::ScientificExchange,
        appendices: ALL_APPENDICES,
        sources: NOT_FROM_THE_SEA,
        terms: None,
        commercial: false,
        max_validity_months: 12,
    },
];

/// The rule of a document type; `None` only for a type the table lacks, which the unit test
/// `every_document_type_has_one_rule` rules out (callers refuse such a type: fail closed).
pub fn document_rule(ty: DocumentType) -> Option<&'static DocumentRule> {
    DOCUMENT_RULES.iter().find(|r| r.document_type == ty)
}

/// Units that say nothing of the specimens' amount ("one case", "one shipment" are not
/// acceptable quantities, Res. Conf. 12.3 Annex 2 / annual report guidelines).
pub const VAGUE_UNITS: &[Unit] = &[Unit::Shp, Unit::Cas];

const MASS: &[Unit] = &[Unit::Kil, Unit::Grm, Unit::Mgm, Unit::Myg, Unit::Ton];
const MASS_OR_LIQUID: &[Unit] = &[
    Unit::Kil,
    Unit::Grm,
    Unit::Mgm,
    Unit::Myg,
    Unit::Ton,
    Unit::Ltr,
    Unit::Mlt,
];

/// Units a term may be counted in, for the terms whose unit the annual report guidelines fix;
/// `None` for a term that may take any unit not in `VAGUE_UNITS`.
pub fn units_for_term(term: Term) -> Option<&'static [Unit]> {
    Some(match term {
        // Live animals and plants, and live eggs, are counted.
        Term::Liv | Term::Egl => &[Unit::Number],
        Term::Log | Term::Saw | Term::Tim => &[Unit::Mtq],
        Term::Ven | Term::Ply => &[Unit::Sqm, Unit::Mtq],
        Term::Cav | Term::Mea => MASS,
        Term::Ext => MASS_OR_LIQUID,
        _ => return None,
    })
}

/// Whether a line's specimens are alive (Art. III(4)(c): the re-export of a live Appendix-I
/// specimen needs an import permit).
pub fn is_live(term: Term) -> bool {
    matches!(term, Term::Liv | Term::Egl)
}

/// Whether this line needs the import permit granted by the country of import: every line of
/// an Appendix-I export (Art. III(2)(d)), and the live lines of an Appendix-I re-export
/// (Art. III(4)(c)).
pub fn line_needs_import_permit(ty: DocumentType, line: &LineItem) -> bool {
    line.appendix == Appendix::I
        && match ty {
            DocumentType::Export => true,
            DocumentType::ReExport => is_live(line.term),
            _ => false,
        }
}

/// Whether a permit needs an import permit (some line does).
pub fn needs_import_permit(data: &PermitData) -> bool {
    data.lines
        .iter()
        .any(|l| line_needs_import_permit(data.document_type, l))
}

/// A document-type, source, term or unit rule a permit breaks; `line` is the index in `lines`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentRefusal {
    /// The table has no row for the document type.
    #[error("document_type: {0} has no issuing rule on this server")]
    UnknownType(DocumentType),
    /// The line's appendix is not one the document type covers.
    #[error("lines[{line}].appendix: document type {ty} covers Appendix {allowed}, not {appendix}")]
    Appendix {
        /// Line index.
        line: usize,
        /// Document type.
        ty: DocumentType,
        /// The line's appendix.
        appendix: Appendix,
        /// The appendices allowed, `/`-separated.
        allowed: String,
    },
    /// The line's source is not one the document type covers.
    #[error("lines[{line}].source: document type {ty} covers sources {allowed}, not {given}")]
    Source {
        /// Line index.
        line: usize,
        /// Document type.
        ty: DocumentType,
        /// The line's source.
        given: Source,
        /// The sources allowed, without separator.
        allowed: String,
    },
    /// The line's term is not one the document type covers.
    #[error("lines[{line}].term: document type {ty} covers terms {allowed}, not {term}")]
    Term {
        /// Line index.
        line: usize,
        /// Document type.
        ty: DocumentType,
        /// The line's term.
        term: Term,
        /// The terms allowed, `/`-separated.
        allowed: String,
    },
    /// Purpose T on a document for non-commercial movements.
    #[error("purpose: document type {0} is for non-commercial movements; purpose T is not allowed")]
    Commercial(DocumentType),
    /// An Appendix-I import permit for a primarily commercial purpose (Art. III(3)(c)).
    #[error(
        "purpose: an import permit for Appendix-I specimens cannot be granted for primarily commercial purposes (T)"
    )]
    CommercialAppendixIImport,
    /// The unit says nothing of the amount.
    #[error("lines[{line}].unit: {unit} is not a quantity; give the number, mass or volume")]
    VagueUnit {
        /// Line index.
        line: usize,
        /// The unit.
        unit: Unit,
    },
    /// The unit is not one the term is counted in.
    #[error("lines[{line}].unit: {term} is counted in {allowed}, not {unit}")]
    UnitForTerm {
        /// Line index.
        line: usize,
        /// The term.
        term: Term,
        /// The unit.
        unit: Unit,
        /// The units allowed, `/`-separated.
        allowed: String,
    },
}

impl DocumentRefusal {
    /// The refusal's stable code, in API errors and application findings.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownType(_) => "unknown_code",
            Self::Appendix { .. } => "appendix_not_for_document",
            Self::Source { .. } => "source_not_for_document",
            Self::Term { .. } => "term_not_for_document",
            Self::Commercial(_) => "purpose_not_for_document",
            Self::CommercialAppendixIImport => "commercial_appendix_i_import",
            Self::VagueUnit { .. } | Self::UnitForTerm { .. } => "unit_not_for_term",
        }
    }

    /// The path of the field the refusal is about.
    pub fn field(&self) -> String {
        match self {
            Self::UnknownType(_) => "document_type".to_owned(),
            Self::Commercial(_) | Self::CommercialAppendixIImport => "purpose".to_owned(),
            Self::Appendix { line, .. } => format!("lines[{line}].appendix"),
            Self::Source { line, .. } => format!("lines[{line}].source"),
            Self::Term { line, .. } => format!("lines[{line}].term"),
            Self::VagueUnit { line, .. } | Self::UnitForTerm { line, .. } => {
                format!("lines[{line}].unit")
            }
        }
    }
}

fn joined<T: std::fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// Checks a permit against its document type's row, the unit rules and the Appendix-I import
/// purpose rule; the first broken rule is returned.
pub fn check_document(data: &PermitData) -> Result<(), DocumentRefusal> {
    let ty = data.document_type;
    let rule = document_rule(ty).ok_or(DocumentRefusal::UnknownType(ty))?;
    if data.purpose == Purpose::T {
        if !rule.commercial {
            return Err(DocumentRefusal::Commercial(ty));
        }
        if ty == DocumentType::Import && data.lines.iter().any(|l| l.appendix == Appendix::I) {
            return Err(DocumentRefusal::CommercialAppendixIImport);
        }
    }
    for (line, l) in data.lines.iter().enumerate() {
        if !rule.appendices.contains(&l.appendix) {
            return Err(DocumentRefusal::Appendix {
                line,
                ty,
                appendix: l.appendix,
                allowed: joined(rule.appendices, "/"),
            });
        }
        if !rule.sources.contains(&l.source) {
            return Err(DocumentRefusal::Source {
                line,
                ty,
                given: l.source,
                allowed: joined(rule.sources, ""),
            });
        }
        if let Some(terms) = rule.terms.filter(|t| !t.contains(&l.term)) {
            return Err(DocumentRefusal::Term {
                line,
                ty,
                term: l.term,
                allowed: joined(terms, "/"),
            });
        }
        if VAGUE_UNITS.contains(&l.unit) {
            return Err(DocumentRefusal::VagueUnit { line, unit: l.unit });
        }
        if let Some(units) = units_for_term(l.term).filter(|u| !u.contains(&l.unit)) {
            return Err(DocumentRefusal::UnitForTerm {
                line,
                term: l.term,
                unit: l.unit,
                allowed: joined(units, "/"),
            });
        }
    }
    Ok(())
}

/// Whether a line counts against an annual export quota: only exports and re-exports do (an
/// import permit or a certificate moves nothing out of the quota), and never confiscated or
/// seized specimens (source I), which were not taken under the quota.
pub fn counts_against_quota(ty: DocumentType, source: Source) -> bool {
    matches!(ty, DocumentType::Export | DocumentType::ReExport) && source != Source::I
}

/// Why an export's line is not covered by the import permit it references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoverageShortfall {
    /// The import permit has no line of this taxon (by comparison key), term and unit.
    NoLine,
    /// The import permit's quantity would be exceeded (millionths of the unit).
    Quantity {
        /// What the import permit covers.
        covered: i64,
        /// What earlier exports referencing it already take.
        used: i64,
        /// What this line asks.
        requested: i64,
    },
}

/// Whether an import permit covering `covered` (its lines of the taxon, term and unit; `None`
/// when it has none) leaves room for `requested` after the `used` of earlier exports.
pub fn import_permit_covers(
    covered: Option<i64>,
    used: i64,
    requested: i64,
) -> Result<(), CoverageShortfall> {
    let covered = covered.ok_or(CoverageShortfall::NoLine)?;
    // `requested <= covered - used` cannot overflow where `used + requested` could.
    if used <= covered && requested <= covered - used {
        Ok(())
    } else {
        Err(CoverageShortfall::Quantity {
            covered,
            used,
            requested,
        })
    }
}

/// What a quota is of beyond its taxon and unit: one term, source and purpose each, or any
/// (`None`). A line counts against the most specific quota it matches (RULES.md Q3).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct QuotaScope {
    /// Term code.
    pub term: Option<String>,
    /// Source code.
    pub source: Option<String>,
    /// Purpose code.
    pub purpose: Option<String>,
}

impl QuotaScope {
    /// `, term TUS, source W` or nothing, for messages.
    pub fn described(&self) -> String {
        [
            ("term", &self.term),
            ("source", &self.source),
            ("purpose", &self.purpose),
        ]
        .iter()
        .filter_map(|(name, v)| v.as_deref().map(|v| format!(", {name} {v}")))
        .collect()
    }
}

/// Why a partner's import permit, read from its CITESEPermit message, cannot back this
/// authority's exports (docs/FEDERATION.md): `(code, message)`, or `None` when it can. It must be
/// an import permit issued by the importing Party (box 6 and box 3a the same country, not
/// this one) to an exporter in `exporter_country`, not past its last day on `today`, with
/// distinct block letters, quantities within the issuing bound, and no Appendix-I line for
/// primarily commercial purposes (I4).
pub fn partner_import_fault(
    p: &crate::exchange::ExchangePermit,
    exporter_country: &str,
    today: Date,
) -> Option<(&'static str, String)> {
    if p.document_type != DocumentType::Import {
        return Some((
            "not_an_import_permit",
            format!(
                "HeaderExchangedDocument/TypeCode: a {} is not an import permit",
                p.document_type.name_en()
            ),
        ));
    }
    let issuer = p.authority.country;
    match &p.importer {
        None => {
            return Some((
                "cites_xml_missing_element",
                "SpecifiedSupplyChainConsignment/ConsigneeTradeParty is missing".to_owned(),
            ));
        }
        Some(i) if i.country != issuer => {
            return Some((
                "import_permit_mismatch",
                format!(
                    "ConsigneeTradeParty/PostalTradeAddress/CountryID {} is not the issuing Party {issuer}",
                    i.country
                ),
            ));
        }
        Some(_) => {}
    }
    if issuer.as_str() == exporter_country {
        return Some((
            "import_permit_mismatch",
            format!("the import permit is issued by {issuer}, this authority's own country"),
        ));
    }
    if p.exporter.country.as_str() != exporter_country {
        return Some((
            "import_permit_mismatch",
            format!(
                "ConsignorTradeParty/PostalTradeAddress/CountryID {} is not this authority's country {exporter_country}",
                p.exporter.country
            ),
        ));
    }
    if p.valid_until < today {
        return Some((
            "import_permit_invalid",
            format!(
                "the import permit's last day, {}, has passed",
                p.valid_until
            ),
        ));
    }
    if p.valid_from > p.valid_until {
        return Some((
            "cites_xml_invalid_value",
            format!(
                "HeaderExchangedDocument/EffectiveSpecifiedPeriod: it starts on {} after its last day {}",
                p.valid_from, p.valid_until
            ),
        ));
    }
    for (n, l) in p.lines.iter().enumerate() {
        if p.lines[..n].iter().any(|o| o.block == l.block) {
            return Some((
                "cites_xml_invalid_value",
                format!(
                    "IncludedSupplyChainConsignmentItem/ID: block {} appears twice",
                    l.block
                ),
            ));
        }
        if micro(l.quantity).is_none() {
            return Some((
                "cites_xml_invalid_value",
                format!(
                    "block {}: the quantity is beyond the issuing bound",
                    l.block
                ),
            ));
        }
        if l.appendix == Appendix::I && p.purpose == Purpose::T {
            return Some((
                "commercial_appendix_i_import",
                format!(
                    "block {}: an Appendix-I import permit is never for primarily commercial purposes (T)",
                    l.block
                ),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_convention_and_origin_against_the_listing() {
        let listing = Listing {
            kingdom: "animal".into(),
            appendices: "III".into(),
            listed_on: Some("1976-02-04".into()),
            app3_party: Some("GH".into()),
        };
        let day = |t: &str| t.parse::<Date>().unwrap();
        let pre = |acquired: &str| {
            listing_finding(
                &listing,
                DocumentType::PreConvention,
                "KE",
                "III",
                Some(day(acquired)),
            )
        };
        assert_eq!(pre("1976-02-03"), Ok(None));
        assert_eq!(
            pre("1976-02-04").unwrap().unwrap().code(),
            "acquired_after_listing"
        );
        let origin = |country: &str| {
            listing_finding(
                &listing,
                DocumentType::CertificateOfOrigin,
                country,
                "III",
                None,
            )
        };
        assert_eq!(origin("KE"), Ok(None));
        let found = origin("GH").unwrap().unwrap();
        assert_eq!(found.code(), "origin_from_listing_party");
        assert!(
            found
                .message("Civettictis civetta")
                .contains("listed in Appendix III by GH")
        );
        // Not known: not checked; a stored date that does not read: an error, never a pass.
        let unknown = Listing {
            listed_on: None,
            app3_party: None,
            ..listing.clone()
        };
        assert_eq!(
            listing_finding(
                &unknown,
                DocumentType::PreConvention,
                "KE",
                "III",
                Some(day("2020-01-01"))
            ),
            Ok(None)
        );
        let bad = Listing {
            listed_on: Some("04/02/1976".into()),
            ..listing.clone()
        };
        assert!(
            listing_finding(
                &bad,
                DocumentType::PreConvention,
                "KE",
                "III",
                Some(day("1970-01-01"))
            )
            .is_err()
        );
        // Other documents: nothing.
        assert_eq!(
            listing_finding(
                &listing,
                DocumentType::Export,
                "GH",
                "III",
                Some(day("2020-01-01"))
            ),
            Ok(None)
        );
    }

    #[test]
    fn micro_units() {
        let q: Quantity = "12.5".parse().unwrap();
        assert_eq!(micro(q), Some(12_500_000));
        let most: Quantity = verifier_core::permit::MAX_ISSUED_QUANTITY
            .to_string()
            .parse()
            .unwrap();
        assert_eq!(micro(most), Some(1_000_000_000_000_000_000));
        let huge = Quantity::new(verifier_core::permit::MAX_MANTISSA, 0).unwrap();
        assert_eq!(micro(huge), None, "2^60 units are 2^60 * 10^6 millionths");
        assert_eq!(format_micro(12_500_000), "12.5");
        assert_eq!(format_micro(3_000_000), "3");
        assert_eq!(format_micro(1), "0.000001");
    }

    #[test]
    fn listings() {
        let parrot = Listing {
            listed_on: None,
            app3_party: None,
            kingdom: "animal".into(),
            appendices: "I".into(),
        };
        assert_eq!(listing_contradiction(&parrot, "animal", "I"), None);
        assert_eq!(
            listing_contradiction(&parrot, "animal", "II").as_deref(),
            Some("animal, Appendix I")
        );
        assert!(listing_contradiction(&parrot, "plant", "I").is_some());
        let split = Listing {
            listed_on: None,
            app3_party: None,
            kingdom: "plant".into(),
            appendices: "I/II".into(),
        };
        assert_eq!(listing_contradiction(&split, "plant", "II"), None);
    }

    #[test]
    fn import_permits() {
        let now = Date::from_ymd(2026, 6, 1).unwrap().start_unix();
        let good = ImportPermitFound {
            authority_id: "DE".into(),
            status_index: 0,
            state: PermitState::Valid,
            valid_until: "2026-06-01".into(),
            document_type: "import".into(),
        };
        assert!(import_permit_usable(Some(&good), now), "last day counts");
        assert!(!import_permit_usable(None, now));
        let export = ImportPermitFound {
            document_type: "export".into(),
            ..good.clone()
        };
        assert!(!import_permit_usable(Some(&export), now));
        let used = ImportPermitFound {
            state: PermitState::Used,
            ..good.clone()
        };
        assert!(!import_permit_usable(Some(&used), now));
        let old = ImportPermitFound {
            valid_until: "2026-05-31".into(),
            ..good
        };
        assert!(!import_permit_usable(Some(&old), now));
    }

    fn line(appendix: &str, source: &str, term: &str, unit: &str) -> serde_json::Value {
        let mut l = serde_json::json!({"scientific_name": "Loxodonta africana", "kingdom": "animal",
            "term": term, "appendix": appendix, "source": source, "quantity": 2, "unit": unit});
        if source == "O" {
            l["acquisition_date"] = "1970-01-01".into();
        }
        if source == "D" {
            l["operation_number"] = "A-KE-501".into();
        }
        // A re-export without the country of origin's permit must say why.
        l["justification"] = "origin permit lost in transit; see annex".into();
        l
    }

    /// A draft of `ty` with one line, built and checked by the core.
    fn permit(ty: &str, purpose: &str, l: serde_json::Value) -> PermitData {
        let multi = ty.parse::<DocumentType>().is_ok_and(|t| t.is_multi_use());
        let issuer_importer = ty == "import";
        let mut d = serde_json::json!({"document_type": ty, "number": "KE/1",
            "valid_until": "2026-08-01", "purpose": purpose,
            "exporter": {"name": "E", "country": "KE"},
            "importer": {"name": "I", "country": "DE"}, "lines": [l]});
        if multi {
            d.as_object_mut().unwrap().remove("importer");
        }
        let draft: verifier_core::permit::PermitDraft = serde_json::from_value(d).unwrap();
        let ctx = verifier_core::permit::IssueContext {
            issuing_country: if issuer_importer { "DE" } else { "KE" }.parse().unwrap(),
            issued_at: Date::from_ymd(2026, 6, 1).unwrap().start_unix(),
            status_index: 0,
        };
        verifier_core::permit::Permit::new(&draft, ctx)
            .unwrap()
            .data()
            .clone()
    }

    #[test]
    fn every_document_type_has_one_rule() {
        for b in 0..=u8::MAX {
            let Some(ty) = DocumentType::from_wire(b) else {
                continue;
            };
            let rows: Vec<_> = DOCUMENT_RULES
                .iter()
                .filter(|r| r.document_type == ty)
                .collect();
            assert_eq!(rows.len(), 1, "{ty}");
            assert_eq!(
                rows[0].max_validity_months,
                ty.max_validity_months(),
                "{ty}"
            );
        }
    }

    #[test]
    fn document_types_against_appendix_source_term_and_purpose() {
        let ok = |ty: &str, purpose: &str, l| check_document(&permit(ty, purpose, l));
        // Certificate of origin: Appendix III only.
        assert_eq!(
            ok("certificate_of_origin", "T", line("III", "W", "SKI", "NAR")),
            Ok(())
        );
        assert!(matches!(
            ok("certificate_of_origin", "T", line("II", "W", "SKI", "NAR")),
            Err(DocumentRefusal::Appendix { .. })
        ));
        // Introduction from the sea: source X, Appendices I and II.
        assert_eq!(
            ok(
                "introduction_from_the_sea",
                "T",
                line("II", "X", "MEA", "KIL")
            ),
            Ok(())
        );
        assert!(matches!(
            ok(
                "introduction_from_the_sea",
                "T",
                line("II", "W", "MEA", "KIL")
            ),
            Err(DocumentRefusal::Source { .. })
        ));
        assert!(matches!(
            ok(
                "introduction_from_the_sea",
                "T",
                line("III", "X", "MEA", "KIL")
            ),
            Err(DocumentRefusal::Appendix { .. })
        ));
        // ... and X is not exported.
        assert!(matches!(
            ok("export", "T", line("II", "X", "MEA", "KIL")),
            Err(DocumentRefusal::Source { .. })
        ));
        // Pre-Convention: source O only.
        assert_eq!(
            ok("pre_convention", "T", line("I", "O", "IVC", "NAR")),
            Ok(())
        );
        assert!(matches!(
            ok("pre_convention", "T", line("I", "W", "IVC", "NAR")),
            Err(DocumentRefusal::Source { .. })
        ));
        // Captive breeding: C (animals); F is not "bred in captivity", D goes on an export permit.
        assert_eq!(
            ok("captive_breeding", "T", line("II", "C", "LIV", "NAR")),
            Ok(())
        );
        for source in ["F", "D", "W"] {
            assert!(
                matches!(
                    ok("captive_breeding", "T", line("II", source, "LIV", "NAR")),
                    Err(DocumentRefusal::Source { .. })
                ),
                "{source}"
            );
        }
        // Ownership: live animals, not commercial.
        assert_eq!(ok("ownership", "P", line("II", "C", "LIV", "NAR")), Ok(()));
        assert!(matches!(
            ok("ownership", "P", line("II", "C", "SKI", "NAR")),
            Err(DocumentRefusal::Term { .. })
        ));
        assert_eq!(
            ok("ownership", "T", line("II", "C", "LIV", "NAR")),
            Err(DocumentRefusal::Commercial(DocumentType::Ownership))
        );
        // Musical instrument: legally acquired, not confiscated, not commercial.
        assert_eq!(
            ok("musical_instrument", "P", line("I", "O", "IVC", "NAR")),
            Ok(())
        );
        assert!(matches!(
            ok("musical_instrument", "P", line("I", "I", "IVC", "NAR")),
            Err(DocumentRefusal::Source { .. })
        ));
        // Travelling exhibition: pre-Convention, captive-bred, propagated.
        assert_eq!(
            ok("travelling_exhibition", "Q", line("I", "C", "LIV", "NAR")),
            Ok(())
        );
        assert!(matches!(
            ok("travelling_exhibition", "Q", line("I", "W", "LIV", "NAR")),
            Err(DocumentRefusal::Source { .. })
        ));
        // Appendix-I import permit: never primarily commercial.
        assert_eq!(ok("import", "Z", line("I", "C", "LIV", "NAR")), Ok(()));
        assert_eq!(
            ok("import", "T", line("I", "C", "LIV", "NAR")),
            Err(DocumentRefusal::CommercialAppendixIImport)
        );
        assert_eq!(ok("import", "T", line("II", "C", "LIV", "NAR")), Ok(()));
    }

    #[test]
    fn units_against_terms() {
        let ok = |term: &str, unit: &str| {
            check_document(&permit("export", "T", line("II", "C", term, unit)))
        };
        assert_eq!(ok("LIV", "NAR"), Ok(()));
        assert!(matches!(
            ok("LIV", "KIL"),
            Err(DocumentRefusal::UnitForTerm { .. })
        ));
        assert_eq!(
            ok("SKI", "SHP"),
            Err(DocumentRefusal::VagueUnit {
                line: 0,
                unit: Unit::Shp
            })
        );
        assert!(matches!(
            ok("SKI", "CAS"),
            Err(DocumentRefusal::VagueUnit { .. })
        ));
        assert_eq!(ok("SKI", "SQM"), Ok(()));
        assert_eq!(ok("MEA", "KIL"), Ok(()));
        assert!(matches!(
            ok("MEA", "NAR"),
            Err(DocumentRefusal::UnitForTerm { .. })
        ));
        let msg = ok("LIV", "KIL").unwrap_err().to_string();
        assert_eq!(msg, "lines[0].unit: LIV is counted in NAR, not KIL");
    }

    #[test]
    fn which_lines_need_an_import_permit() {
        let export = permit("export", "T", line("I", "D", "TUS", "NAR"));
        assert!(needs_import_permit(&export), "every Appendix-I export");
        let re_dead = permit("re_export", "T", line("I", "D", "TUS", "NAR"));
        assert!(
            !needs_import_permit(&re_dead),
            "re-export: only live specimens"
        );
        let re_live = permit("re_export", "Z", line("I", "C", "LIV", "NAR"));
        assert!(needs_import_permit(&re_live));
        let app2 = permit("export", "T", line("II", "C", "LIV", "NAR"));
        assert!(!needs_import_permit(&app2));
    }

    #[test]
    fn import_permit_coverage_is_summed() {
        assert_eq!(import_permit_covers(Some(2_000_000), 0, 2_000_000), Ok(()));
        assert_eq!(
            import_permit_covers(None, 0, 1),
            Err(CoverageShortfall::NoLine)
        );
        assert_eq!(
            import_permit_covers(Some(2_000_000), 2_000_000, 1_000_000),
            Err(CoverageShortfall::Quantity {
                covered: 2_000_000,
                used: 2_000_000,
                requested: 1_000_000
            })
        );
        assert!(import_permit_covers(Some(2), 0, 40).is_err());
        assert!(import_permit_covers(Some(i64::MAX), i64::MAX, i64::MAX).is_err());
        assert!(
            import_permit_covers(Some(1), 3, 0).is_err(),
            "already beyond"
        );
    }

    #[test]
    fn what_counts_against_a_quota() {
        assert!(counts_against_quota(DocumentType::Export, Source::W));
        assert!(counts_against_quota(DocumentType::ReExport, Source::C));
        assert!(!counts_against_quota(DocumentType::Import, Source::W));
        assert!(!counts_against_quota(DocumentType::Export, Source::I));
        assert!(!counts_against_quota(
            DocumentType::CertificateOfOrigin,
            Source::W
        ));
    }
}
