//! [`ExchangePermit`] → `CITESEPermit` XML, in the element order of the toolkit's schema.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use verifier_core::date::{Date, format_unix};
use verifier_core::permit::DocRef;

use super::units::rec20;
use super::{
    ExchangeLine, ExchangePermit, IMPORT_PERMIT_NAME, JUSTIFICATION, NS_RAM, NS_RSM, QR_SCHEME,
    REPLACEMENT, RETROSPECTIVE, TradeParty, type_code,
};

/// Why a permit could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A unit of quantity has no UN/ECE Rec. 20 code (docs/FEDERATION.md, the unit table).
    #[error("block {block}: the unit {unit} has no UN/ECE Recommendation 20 code")]
    Unit {
        /// The block.
        block: char,
        /// The CITES unit code.
        unit: &'static str,
    },
    /// The XML writer failed (writing to memory: not expected).
    #[error("XML: {0}")]
    Xml(#[from] std::io::Error),
}

/// A date as the start of its day, UTC.
fn day_start(d: Date) -> String {
    format_unix(d.start_unix())
}

/// A date as the last second of its day, UTC: box 2's "valid until" is the whole day.
fn day_end(d: Date) -> String {
    format_unix(d.end_unix() - 1)
}

struct Out {
    w: Writer<Vec<u8>>,
}

impl Out {
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), WriteError> {
        let start = BytesStart::new(name).with_attributes(attrs.iter().copied());
        self.w.write_event(Event::Start(start))?;
        Ok(())
    }

    fn close(&mut self, name: &str) -> Result<(), WriteError> {
        self.w.write_event(Event::End(BytesEnd::new(name)))?;
        Ok(())
    }

    /// `<ram:name attrs>text</ram:name>`.
    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> Result<(), WriteError> {
        let tag = format!("ram:{name}");
        self.open(&tag, attrs)?;
        self.w.write_event(Event::Text(BytesText::new(text)))?;
        self.close(&tag)
    }

    fn group(&mut self, name: &str) -> Result<(), WriteError> {
        self.open(&format!("ram:{name}"), &[])
    }

    fn end(&mut self, name: &str) -> Result<(), WriteError> {
        self.close(&format!("ram:{name}"))
    }

    /// A trade party: name and postal address (the address as one street line).
    fn party(&mut self, name: &str, p: &TradeParty) -> Result<(), WriteError> {
        self.group(name)?;
        self.leaf("Name", &[], &p.name)?;
        self.group("PostalTradeAddress")?;
        if let Some(a) = &p.address {
            self.leaf("StreetName", &[], a)?;
        }
        self.leaf("CountryID", &[], p.country.as_str())?;
        self.end("PostalTradeAddress")?;
        self.end(name)
    }

    /// Box 12 or 12a: the referenced document of type `code` (861 origin, 811 last re-export).
    fn doc_ref(&mut self, code: &str, r: &DocRef) -> Result<(), WriteError> {
        self.group("AssociatedReferencedDocument")?;
        self.leaf("IssueDateTime", &[], &day_start(r.date))?;
        self.leaf(
            "TypeCode",
            &[("listID", "1001"), ("listAgencyID", "6")],
            code,
        )?;
        self.leaf("ID", &[], &r.number)?;
        self.end("AssociatedReferencedDocument")
    }

    fn line(&mut self, l: &ExchangeLine) -> Result<(), WriteError> {
        let unit = rec20(l.unit).ok_or(WriteError::Unit {
            block: l.block,
            unit: l.unit.code(),
        })?;
        self.group("IncludedSupplyChainConsignmentItem")?;
        self.leaf("ID", &[], &l.block.to_string())?;
        if let Some(r) = &l.origin {
            self.group("OriginTradeCountry")?;
            self.leaf("ID", &[], r.country.as_str())?;
            self.end("OriginTradeCountry")?;
        }
        if let Some(r) = &l.last_reexport {
            self.group("ExportTradeCountry")?;
            self.leaf("ID", &[], r.country.as_str())?;
            self.end("ExportTradeCountry")?;
        }
        if let Some(r) = &l.origin {
            self.doc_ref("861", r)?;
        }
        if let Some(r) = &l.last_reexport {
            self.doc_ref("811", r)?;
        }
        self.group("TransportLogisticsPackage")?;
        self.leaf(
            "ItemQuantity",
            &[("unitCode", unit)],
            &l.quantity.to_string(),
        )?;
        self.end("TransportLogisticsPackage")?;
        self.group("IncludedSupplyChainTradeLineItem")?;
        self.leaf("TypeCode", &[], l.appendix.code())?;
        self.leaf("TypeExtensionCode", &[], l.source.code())?;
        self.group("SpecifiedTradeProduct")?;
        if let Some(d) = &l.description {
            self.leaf("Description", &[], d)?;
        }
        if let Some(j) = &l.justification {
            self.leaf("Description", &[], &format!("{JUSTIFICATION}{j}"))?;
        }
        self.leaf("TypeCode", &[], l.term.code())?;
        if let Some(c) = &l.common_name {
            self.leaf("CommonName", &[], c)?;
        }
        self.leaf("ScientificName", &[], &l.scientific_name)?;
        self.end("SpecifiedTradeProduct")?;
        self.end("IncludedSupplyChainTradeLineItem")?;
        if let Some(q) = &l.endorsed {
            self.group("ExaminationTransportEvent")?;
            self.leaf("UnitQuantity", &[("unitCode", unit)], q)?;
            self.end("ExaminationTransportEvent")?;
        }
        let procedure =
            l.quota.is_some() || l.operation_number.is_some() || l.acquisition_date.is_some();
        if procedure {
            self.group("ApplicableCrossBorderRegulatoryProcedure")?;
            if let Some(op) = &l.operation_number {
                self.leaf("CategoryCode", &[], op)?;
            }
            if let Some(d) = l.acquisition_date {
                self.leaf("AcquisitionDateTime", &[], &day_start(d))?;
            }
            if let Some((used, total)) = &l.quota {
                self.leaf("UsedToDateQuotaQuantity", &[("unitCode", unit)], used)?;
                self.leaf("AnnualQuotaQuantity", &[("unitCode", unit)], total)?;
            }
            self.end("ApplicableCrossBorderRegulatoryProcedure")?;
        }
        self.end("IncludedSupplyChainConsignmentItem")
    }

    fn signatory(
        &mut self,
        n: &str,
        letter: &str,
        write: impl FnOnce(&mut Self) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        let name = format!("{n}SignatoryDocumentAuthentication");
        self.group(&name)?;
        self.leaf("TypeCode", &[], letter)?;
        write(self)?;
        self.end(&name)
    }
}

/// Writes the permit as a `CITESEPermit` message (UTF-8, with its XML declaration).
pub fn write(p: &ExchangePermit) -> Result<String, WriteError> {
    let mut o = Out {
        w: Writer::new_with_indent(Vec::new(), b' ', 1),
    };
    o.w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    o.open(
        "rsm:CITESEPermit",
        &[("xmlns:rsm", NS_RSM), ("xmlns:ram", NS_RAM)],
    )?;

    o.open("rsm:HeaderExchangedDocument", &[])?;
    o.leaf("ID", &[], &p.number)?;
    let code = type_code(p.document_type);
    if code == "O" {
        o.leaf("Name", &[], p.document_type.name_en())?;
    }
    o.leaf(
        "TypeCode",
        &[("listID", "1001"), ("listAgencyID", "6")],
        code,
    )?;
    o.leaf("IssueDateTime", &[], &format_unix(p.issued_at))?;
    o.leaf("CopyIndicator", &[], if p.copy { "true" } else { "false" })?;
    o.leaf("Purpose", &[], p.purpose.name_en())?;
    o.leaf("PurposeCode", &[], p.purpose.code())?;
    if let Some(c) = &p.special_conditions {
        o.leaf("Information", &[], c)?;
    }
    if let Some(r) = &p.retrospective {
        o.leaf("Information", &[], &format!("{RETROSPECTIVE}{r}"))?;
    }
    if let Some((country, number)) = &p.import_permit {
        o.group("ReferenceReferencedDocument")?;
        o.leaf(
            "TypeCode",
            &[("listID", "1001"), ("listAgencyID", "6")],
            "I",
        )?;
        o.leaf("ID", &[("schemeAgencyID", country.as_str())], number)?;
        o.leaf("Name", &[], IMPORT_PERMIT_NAME)?;
        o.end("ReferenceReferencedDocument")?;
    }
    if let Some(r) = &p.replacement_of {
        o.group("ReferenceReferencedDocument")?;
        o.leaf("IssueDateTime", &[], &day_start(r.date))?;
        o.leaf(
            "TypeCode",
            &[("listID", "1001"), ("listAgencyID", "6")],
            code,
        )?;
        o.leaf("ID", &[], &r.number)?;
        o.leaf("Name", &[], &format!("{REPLACEMENT}{}", r.reason))?;
        o.end("ReferenceReferencedDocument")?;
    }
    o.group("EffectiveSpecifiedPeriod")?;
    o.leaf("StartDateTime", &[], &day_start(p.valid_from))?;
    o.leaf("EndDateTime", &[], &day_end(p.valid_until))?;
    o.end("EffectiveSpecifiedPeriod")?;
    if let Some(place) = &p.place_of_issue {
        o.group("IssueLogisticsLocation")?;
        o.leaf("Name", &[], place)?;
        o.end("IssueLogisticsLocation")?;
    }
    // A: the issuing Management Authority (box 6) and the security stamp (box 5b).
    o.signatory("First", "A", |o| {
        if let Some(s) = &p.security_stamp {
            o.leaf("ID", &[], s)?;
        }
        o.party("ProviderTradeParty", &p.authority)
    })?;
    // C: the permit issuer (box 13): issue time, the signed QR text, the signatory's name.
    o.signatory("Third", "C", |o| {
        o.leaf("ActualDateTime", &[], &format_unix(p.issued_at))?;
        if let Some(qr) = &p.qr_text {
            o.leaf("ID", &[("schemeID", QR_SCHEME)], qr)?;
        }
        if let Some(name) = &p.signatory {
            o.group("ProviderTradeParty")?;
            o.leaf("Name", &[], &p.authority.name)?;
            o.group("SpecifiedAuthoritativeSignatoryPerson")?;
            o.leaf("Name", &[], name)?;
            o.end("SpecifiedAuthoritativeSignatoryPerson")?;
            o.end("ProviderTradeParty")?;
        }
        Ok(())
    })?;
    o.close("rsm:HeaderExchangedDocument")?;

    o.open("rsm:SpecifiedSupplyChainConsignment", &[])?;
    o.party("ConsignorTradeParty", &p.exporter)?;
    if let Some(i) = &p.importer {
        o.party("ConsigneeTradeParty", i)?;
    }
    // D: the examining authority's endorsement (box 14), when recorded.
    if let Some(e) = &p.examination {
        o.group("ExaminationTransportEvent")?;
        o.leaf("ActualOccurrenceDateTime", &[], &format_unix(e.at))?;
        if let Some(locode) = &e.locode {
            o.group("OccurrenceLogisticsLocation")?;
            o.leaf("ID", &[], locode)?;
            o.end("OccurrenceLogisticsLocation")?;
        }
        o.end("ExaminationTransportEvent")?;
    }
    for l in &p.lines {
        o.line(l)?;
    }
    o.close("rsm:SpecifiedSupplyChainConsignment")?;
    o.close("rsm:CITESEPermit")?;
    let bytes = o.w.into_inner();
    // Every text written is a Rust string and quick-xml escapes, so the bytes are UTF-8.
    String::from_utf8(bytes).map_err(|e| WriteError::Xml(std::io::Error::other(e)))
}
