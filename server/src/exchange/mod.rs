//! The CITES exchange format: a permit as a UN/CEFACT `CITESEPermit` XML message (version 2,
//! the CITES electronic permitting toolkit's schema as EPIX exchanges it), written from an
//! issued permit and read from a partner's message. docs/FEDERATION.md gives every element
//! path box by box and the decisions where the toolkit is silent.
//!
//! Pure: no I/O, no SQL, no clock. [`write`] and [`read`] are inverse on [`ExchangePermit`];
//! [`from_stored`] builds one from the stored rows, checked against the signed QR text like the
//! paper permit.

mod read;
pub mod units;
mod write;

use verifier_core::codes::{Appendix, Country, DocumentType, Purpose, Source, Term, Unit};
use verifier_core::date::Date;
use verifier_core::permit::{DocRef, Quantity};

pub use read::{ReadError, read};
pub use write::{WriteError, write};

/// Namespace of the message and its three top-level parts.
pub const NS_RSM: &str = "urn:un:unece:uncefact:data:standard:CITESEPermit:2";
/// Namespace of every element below them (the reusable aggregate business information entities).
pub const NS_RAM: &str =
    "urn:un:unece:uncefact:data:draft:ReusableAggregateBusinessInformationEntity:1";
/// `schemeID` of the signatory-C `ID` that carries the signed QR text.
pub const QR_SCHEME: &str = "permitseal-PS1";
/// Prefix of the `Information` that carries the retrospective statement.
pub const RETROSPECTIVE: &str = "Retrospective: ";
/// Prefix of the `Description` that carries the justification of source U.
pub const JUSTIFICATION: &str = "Justification: ";
/// `Name` of the referenced document that is the import permit an export was issued against.
pub const IMPORT_PERMIT_NAME: &str = "Import permit";
/// Prefix of the `Name` of the referenced document that this one replaces (then the reason).
pub const REPLACEMENT: &str = "Replaces: ";

/// A name, a country and an optional address (boxes 3, 4 and 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeParty {
    /// Name.
    pub name: String,
    /// Country.
    pub country: Country,
    /// Postal address as one text.
    pub address: Option<String>,
}

/// A document referenced by number and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// Its number.
    pub number: String,
    /// Its date of issue.
    pub date: Date,
    /// Why it is replaced.
    pub reason: String,
}

/// One block of the form (boxes 7 to 12b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeLine {
    /// Block letter.
    pub block: char,
    /// Box 7.
    pub scientific_name: String,
    /// Box 8.
    pub common_name: Option<String>,
    /// Box 9: description, marks.
    pub description: Option<String>,
    /// Box 9: the term code.
    pub term: Term,
    /// Box 10.
    pub appendix: Appendix,
    /// Box 10.
    pub source: Source,
    /// Box 11.
    pub quantity: Quantity,
    /// Box 11 (a CITES unit; written as its Rec. 20 code).
    pub unit: Unit,
    /// Box 11a: used to date including this block, and the annual quota (decimal texts).
    pub quota: Option<(String, String)>,
    /// Box 12: country of origin, permit number and date.
    pub origin: Option<DocRef>,
    /// Box 12a: country of last re-export, certificate number and date.
    pub last_reexport: Option<DocRef>,
    /// Box 12b: registered operation.
    pub operation_number: Option<String>,
    /// Box 12b: date of acquisition.
    pub acquisition_date: Option<Date>,
    /// Why the source is unknown (source U).
    pub justification: Option<String>,
    /// Box 14: the quantity actually exported (decimal text, the block's unit), when endorsed.
    pub endorsed: Option<String>,
}

/// Box 14 at consignment level: when and where the export was endorsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examination {
    /// Time of the endorsement (Unix seconds).
    pub at: i64,
    /// Port of export (UN/LOCODE).
    pub locode: Option<String>,
}

/// A permit as the exchange format carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangePermit {
    /// Box 1: number.
    pub number: String,
    /// Box 1: type (E, R, I, or O with the certificate's name).
    pub document_type: DocumentType,
    /// Box 1: a copy.
    pub copy: bool,
    /// Box 13: issue time (Unix seconds).
    pub issued_at: i64,
    /// First day of validity.
    pub valid_from: Date,
    /// Box 2.
    pub valid_until: Date,
    /// Box 5a.
    pub purpose: Purpose,
    /// Box 5.
    pub special_conditions: Option<String>,
    /// Issued after the export took place: the statement.
    pub retrospective: Option<String>,
    /// Box 5b.
    pub security_stamp: Option<String>,
    /// Box 6.
    pub authority: TradeParty,
    /// Box 13: place of issue.
    pub place_of_issue: Option<String>,
    /// Box 13: the authorised signatory.
    pub signatory: Option<String>,
    /// Box 4.
    pub exporter: TradeParty,
    /// Box 3.
    pub importer: Option<TradeParty>,
    /// The import permit an Appendix-I export was issued against: (country, number).
    pub import_permit: Option<(Country, String)>,
    /// The document this one replaces.
    pub replacement_of: Option<Replaced>,
    /// The signed QR text (`PS1:…`), the signature a verifier checks.
    pub qr_text: Option<String>,
    /// Box 14: the export endorsement, when one is recorded.
    pub examination: Option<Examination>,
    /// Blocks A, B, ….
    pub lines: Vec<ExchangeLine>,
}

/// The letter of box 1 for a document type; every certificate is O with its name.
pub fn type_code(ty: DocumentType) -> &'static str {
    match ty {
        DocumentType::Export => "E",
        DocumentType::ReExport => "R",
        DocumentType::Import => "I",
        DocumentType::CertificateOfOrigin
        | DocumentType::IntroductionFromTheSea
        | DocumentType::PreConvention
        | DocumentType::CaptiveBreeding
        | DocumentType::Ownership
        | DocumentType::TravellingExhibition
        | DocumentType::MusicalInstrument
        | DocumentType::SampleCollection
        | DocumentType::ScientificExchange => "O",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn line(block: char, unit: Unit) -> ExchangeLine {
        ExchangeLine {
            block,
            scientific_name: "Loxodonta africana".into(),
            common_name: Some("African elephant".into()),
            description: Some("carved & polished <\"tusk\">".into()),
            term: Term::Car,
            appendix: Appendix::I,
            source: Source::O,
            quantity: "1.25".parse().unwrap(),
            unit,
            quota: Some(("1.25".into(), "10".into())),
            origin: None,
            last_reexport: None,
            operation_number: Some("A-KE-501".into()),
            acquisition_date: Some("1970-05-01".parse().unwrap()),
            justification: Some("records lost".into()),
            endorsed: Some("1".into()),
        }
    }

    fn permit() -> ExchangePermit {
        let ke: Country = "KE".parse().unwrap();
        ExchangePermit {
            number: "KE/PC/1".into(),
            document_type: DocumentType::PreConvention,
            copy: true,
            issued_at: 1_790_000_000,
            valid_from: "2026-09-21".parse().unwrap(),
            valid_until: "2027-03-20".parse().unwrap(),
            purpose: Purpose::P,
            special_conditions: Some("none".into()),
            retrospective: Some("issued late".into()),
            security_stamp: None,
            authority: TradeParty {
                name: "KWS".into(),
                country: ke,
                address: None,
            },
            place_of_issue: None,
            signatory: Some("A. Signer".into()),
            exporter: TradeParty {
                name: "Owner".into(),
                country: ke,
                address: Some("Nairobi".into()),
            },
            importer: None,
            import_permit: Some(("US".parse().unwrap(), "US/1".into())),
            replacement_of: Some(Replaced {
                number: "KE/PC/0".into(),
                date: "2026-09-01".parse().unwrap(),
                reason: "torn".into(),
            }),
            qr_text: None,
            examination: Some(Examination {
                at: 1_790_100_000,
                locode: Some("KEMBA".into()),
            }),
            lines: vec![line('A', Unit::Set)],
        }
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let p = permit();
        let xml = write(&p).unwrap();
        assert_eq!(read(&xml).unwrap(), p);
        assert!(xml.contains("<ram:Name>Pre-Convention certificate</ram:Name>"));
        assert!(xml.contains("unitCode=\"SET\""));
    }

    #[test]
    fn a_unit_without_a_rec20_code_is_not_written() {
        let mut p = permit();
        p.lines.push(line('B', Unit::Shp));
        assert!(matches!(
            write(&p),
            Err(WriteError::Unit {
                block: 'B',
                unit: "SHP"
            })
        ));
    }
}
