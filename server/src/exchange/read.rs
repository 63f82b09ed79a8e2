//! `CITESEPermit` XML → [`ExchangePermit`]: every required element present, every code known,
//! or an error that names the element's path.

use roxmltree::{Document, Node, ParsingOptions};
use verifier_core::codes::{Appendix, Country, DocumentType, Purpose, Source, Term};
use verifier_core::date::{Date, parse_rfc3339};
use verifier_core::permit::{DocRef, Quantity};

use super::units::from_rec20;
use super::{
    Examination, ExchangeLine, ExchangePermit, IMPORT_PERMIT_NAME, JUSTIFICATION, NS_RAM, NS_RSM,
    QR_SCHEME, REPLACEMENT, RETROSPECTIVE, Replaced, TradeParty,
};

/// Why a message could not be read. `path` is the element path below `CITESEPermit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Not well-formed XML, or not a `CITESEPermit` message in its namespace.
    #[error("not a CITESEPermit message: {0}")]
    Malformed(String),
    /// A required element is absent or empty.
    #[error("{path} is missing")]
    Missing {
        /// The element's path.
        path: String,
    },
    /// An element holds a value that is not what the format allows.
    #[error("{path}: {problem}")]
    Invalid {
        /// The element's path.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl ReadError {
    /// The error code answered over HTTP.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "cites_xml_malformed",
            Self::Missing { .. } => "cites_xml_missing_element",
            Self::Invalid { .. } => "cites_xml_invalid_value",
        }
    }
}

/// The element children of `n` named `name` in `ns`.
fn children<'a, 'i>(
    n: Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// One step down: an element with its path for errors.
#[derive(Clone, Copy)]
struct At<'a, 'i> {
    node: Node<'a, 'i>,
}

struct Reader {
    path: Vec<String>,
}

fn text_of(n: Node<'_, '_>) -> Option<String> {
    let t = n.text().unwrap_or("").trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl Reader {
    fn here(&self, name: &str) -> String {
        let mut p = self.path.join("/");
        if !name.is_empty() {
            if !p.is_empty() {
                p.push('/');
            }
            p.push_str(name);
        }
        p
    }

    fn missing(&self, name: &str) -> ReadError {
        ReadError::Missing {
            path: self.here(name),
        }
    }

    fn invalid(&self, name: &str, problem: impl Into<String>) -> ReadError {
        ReadError::Invalid {
            path: self.here(name),
            problem: problem.into(),
        }
    }

    fn ns(&self) -> &'static str {
        if self.path.len() <= 1 { NS_RSM } else { NS_RAM }
    }

    /// The first child element `name`, if any.
    fn opt<'a, 'i>(&self, at: At<'a, 'i>, name: &'a str) -> Option<At<'a, 'i>> {
        let ns = self.ns();
        children(at.node, ns, name).next().map(|node| At { node })
    }

    fn req<'a, 'i>(&self, at: At<'a, 'i>, name: &'a str) -> Result<At<'a, 'i>, ReadError> {
        self.opt(at, name).ok_or_else(|| self.missing(name))
    }

    /// Runs `f` one level down in `name`.
    fn within<'a, 'i, T>(
        &mut self,
        at: At<'a, 'i>,
        name: &'a str,
        f: impl FnOnce(&mut Self, At<'a, 'i>) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        let child = self.req(at, name)?;
        self.path.push(name.to_owned());
        let r = f(self, child);
        self.path.pop();
        r
    }

    fn opt_text(&self, at: At<'_, '_>, name: &str) -> Option<String> {
        self.opt(at, name).and_then(|c| text_of(c.node))
    }

    fn req_text(&self, at: At<'_, '_>, name: &str) -> Result<String, ReadError> {
        self.opt_text(at, name).ok_or_else(|| self.missing(name))
    }

    fn all_texts(&self, at: At<'_, '_>, name: &str) -> Vec<String> {
        children(at.node, self.ns(), name)
            .filter_map(text_of)
            .collect()
    }

    fn code<T: std::str::FromStr>(&self, at: At<'_, '_>, name: &str) -> Result<T, ReadError> {
        let t = self.req_text(at, name)?;
        t.parse()
            .map_err(|_| self.invalid(name, format!("unknown code {t:?}")))
    }

    fn date_of(&self, name: &str, t: &str) -> Result<Date, ReadError> {
        // A date, or a date-time whose date part is taken as written.
        let day = t.get(..10).unwrap_or(t);
        day.parse()
            .map_err(|_| self.invalid(name, format!("{t:?} is not a date or date-time")))
    }

    fn opt_date(&self, at: At<'_, '_>, name: &str) -> Result<Option<Date>, ReadError> {
        self.opt_text(at, name)
            .map(|t| self.date_of(name, &t))
            .transpose()
    }

    fn req_date(&self, at: At<'_, '_>, name: &str) -> Result<Date, ReadError> {
        let t = self.req_text(at, name)?;
        self.date_of(name, &t)
    }

    fn country(&self, at: At<'_, '_>, name: &str) -> Result<Country, ReadError> {
        self.code(at, name)
    }

    fn party(&mut self, at: At<'_, '_>, name: &str) -> Result<TradeParty, ReadError> {
        self.within(at, name, |r, p| {
            let name = r.req_text(p, "Name")?;
            r.within(p, "PostalTradeAddress", |r, a| {
                Ok(TradeParty {
                    name,
                    country: r.country(a, "CountryID")?,
                    address: r.opt_text(a, "StreetName"),
                })
            })
        })
    }

    fn doc_refs(&self, at: At<'_, '_>, code: &str) -> Result<Option<(String, Date)>, ReadError> {
        let name = "AssociatedReferencedDocument";
        for d in children(at.node, NS_RAM, name) {
            let d = At { node: d };
            if self.opt_text(d, "TypeCode").as_deref() == Some(code) {
                let path = format!("{name}[TypeCode={code}]");
                let id = self
                    .opt_text(d, "ID")
                    .ok_or_else(|| self.missing(&format!("{path}/ID")))?;
                let date = self
                    .opt_text(d, "IssueDateTime")
                    .ok_or_else(|| self.missing(&format!("{path}/IssueDateTime")))?;
                return Ok(Some((
                    id,
                    self.date_of(&format!("{path}/IssueDateTime"), &date)?,
                )));
            }
        }
        Ok(None)
    }

    fn country_ref(
        &mut self,
        at: At<'_, '_>,
        country_el: &str,
        code: &str,
    ) -> Result<Option<DocRef>, ReadError> {
        let doc = self.doc_refs(at, code)?;
        let country = match self.opt(at, country_el) {
            None => None,
            Some(_) => Some(self.within(at, country_el, |r, c| r.country(c, "ID"))?),
        };
        match (country, doc) {
            (None, None) => Ok(None),
            (Some(country), Some((number, date))) => Ok(Some(DocRef {
                country,
                number,
                date,
            })),
            (None, Some(_)) => Err(self.missing(&format!("{country_el}/ID"))),
            (Some(_), None) => {
                Err(self.missing(&format!("AssociatedReferencedDocument[TypeCode={code}]")))
            }
        }
    }

    fn line(&mut self, at: At<'_, '_>) -> Result<ExchangeLine, ReadError> {
        let id = self.req_text(at, "ID")?;
        let mut chars = id.chars();
        let block = match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_uppercase() => c,
            _ => return Err(self.invalid("ID", format!("{id:?} is not a block letter"))),
        };
        let origin = self.country_ref(at, "OriginTradeCountry", "861")?;
        let last_reexport = self.country_ref(at, "ExportTradeCountry", "811")?;
        let (quantity, unit) = self.within(at, "TransportLogisticsPackage", |r, p| {
            let q = r.req(p, "ItemQuantity")?;
            let t = text_of(q.node).ok_or_else(|| r.missing("ItemQuantity"))?;
            let quantity: Quantity = t.parse().map_err(|_| {
                r.invalid("ItemQuantity", format!("{t:?} is not a decimal quantity"))
            })?;
            let code = q
                .node
                .attribute("unitCode")
                .ok_or_else(|| r.missing("ItemQuantity@unitCode"))?;
            let unit = from_rec20(code).ok_or_else(|| {
                r.invalid(
                    "ItemQuantity@unitCode",
                    format!("{code:?} is not a Recommendation 20 code of a CITES unit"),
                )
            })?;
            Ok((quantity, unit))
        })?;
        let (appendix, source, product) =
            self.within(at, "IncludedSupplyChainTradeLineItem", |r, li| {
                let appendix: Appendix = r.code(li, "TypeCode")?;
                let source: Source = r.code(li, "TypeExtensionCode")?;
                let product = r.within(li, "SpecifiedTradeProduct", |r, p| {
                    let mut description = None;
                    let mut justification = None;
                    for d in r.all_texts(p, "Description") {
                        match d.strip_prefix(JUSTIFICATION) {
                            Some(j) => justification = Some(j.to_owned()),
                            None => description = Some(d),
                        }
                    }
                    let term: Term = r.code(p, "TypeCode")?;
                    Ok((
                        r.req_text(p, "ScientificName")?,
                        r.opt_text(p, "CommonName"),
                        description,
                        justification,
                        term,
                    ))
                })?;
                Ok((appendix, source, product))
            })?;
        let (scientific_name, common_name, description, justification, term) = product;
        let endorsed = match self.opt(at, "ExaminationTransportEvent") {
            None => None,
            Some(_) => self.within(at, "ExaminationTransportEvent", |r, e| {
                let q = r.req_text(e, "UnitQuantity")?;
                q.parse::<Quantity>().map_err(|_| {
                    r.invalid("UnitQuantity", format!("{q:?} is not a decimal quantity"))
                })?;
                Ok(Some(q))
            })?,
        };
        let mut quota = None;
        let mut operation_number = None;
        let mut acquisition_date = None;
        if self
            .opt(at, "ApplicableCrossBorderRegulatoryProcedure")
            .is_some()
        {
            self.within(at, "ApplicableCrossBorderRegulatoryProcedure", |r, p| {
                operation_number = r.opt_text(p, "CategoryCode");
                acquisition_date = r.opt_date(p, "AcquisitionDateTime")?;
                let used = r.opt_text(p, "UsedToDateQuotaQuantity");
                let total = r.opt_text(p, "AnnualQuotaQuantity");
                quota = match (used, total) {
                    (Some(u), Some(t)) => Some((u, t)),
                    (None, None) => None,
                    (Some(_), None) => return Err(r.missing("AnnualQuotaQuantity")),
                    (None, Some(_)) => return Err(r.missing("UsedToDateQuotaQuantity")),
                };
                Ok(())
            })?;
        }
        Ok(ExchangeLine {
            block,
            scientific_name,
            common_name,
            description,
            term,
            appendix,
            source,
            quantity,
            unit,
            quota,
            origin,
            last_reexport,
            operation_number,
            acquisition_date,
            justification,
            endorsed,
        })
    }

    fn header(&mut self, h: At<'_, '_>) -> Result<Header, ReadError> {
        let number = self.req_text(h, "ID")?;
        let code = self.req_text(h, "TypeCode")?;
        let document_type = match code.as_str() {
            "E" => DocumentType::Export,
            "R" => DocumentType::ReExport,
            "I" => DocumentType::Import,
            "O" => {
                let name = self.req_text(h, "Name")?;
                DocumentType::ALL
                    .iter()
                    .copied()
                    .find(|t| t.name_en() == name || t.code() == name)
                    .ok_or_else(|| self.invalid("Name", format!("unknown certificate {name:?}")))?
            }
            other => {
                return Err(
                    self.invalid("TypeCode", format!("unknown type {other:?}: E, R, I or O"))
                );
            }
        };
        let issued = self.req_text(h, "IssueDateTime")?;
        let issued_at = parse_rfc3339(&issued).ok_or_else(|| {
            self.invalid(
                "IssueDateTime",
                format!("{issued:?} is not an RFC 3339 time"),
            )
        })?;
        let copy = match self.opt_text(h, "CopyIndicator").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(
                    self.invalid("CopyIndicator", format!("{other:?} is not true or false"))
                );
            }
        };
        let purpose: Purpose = self.code(h, "PurposeCode")?;
        let mut special_conditions = None;
        let mut retrospective = None;
        for i in self.all_texts(h, "Information") {
            match i.strip_prefix(RETROSPECTIVE) {
                Some(r) => retrospective = Some(r.to_owned()),
                None => special_conditions = Some(i),
            }
        }
        let mut import_permit = None;
        let mut replacement_of = None;
        for d in children(h.node, NS_RAM, "ReferenceReferencedDocument") {
            let d = At { node: d };
            let path = "ReferenceReferencedDocument";
            let name = self.opt_text(d, "Name").unwrap_or_default();
            let id = || {
                self.opt_text(d, "ID")
                    .ok_or_else(|| self.missing(&format!("{path}/ID")))
            };
            if name == IMPORT_PERMIT_NAME {
                let country = self
                    .opt(d, "ID")
                    .and_then(|n| n.node.attribute("schemeAgencyID"))
                    .ok_or_else(|| self.missing(&format!("{path}/ID@schemeAgencyID")))?;
                let country: Country = country.parse().map_err(|_| {
                    self.invalid(&format!("{path}/ID@schemeAgencyID"), "not an ISO country")
                })?;
                import_permit = Some((country, id()?));
            } else if let Some(reason) = name.strip_prefix(REPLACEMENT) {
                let date = self
                    .opt_text(d, "IssueDateTime")
                    .ok_or_else(|| self.missing(&format!("{path}/IssueDateTime")))?;
                replacement_of = Some(Replaced {
                    number: id()?,
                    date: self.date_of(&format!("{path}/IssueDateTime"), &date)?,
                    reason: reason.to_owned(),
                });
            }
        }
        let (valid_from, valid_until) = self.within(h, "EffectiveSpecifiedPeriod", |r, p| {
            Ok((
                r.opt_date(p, "StartDateTime")?,
                r.req_date(p, "EndDateTime")?,
            ))
        })?;
        let place_of_issue = match self.opt(h, "IssueLogisticsLocation") {
            None => None,
            Some(l) => self.opt_text(l, "Name"),
        };
        let (security_stamp, authority) =
            self.within(h, "FirstSignatoryDocumentAuthentication", |r, a| {
                Ok((r.opt_text(a, "ID"), r.party(a, "ProviderTradeParty")?))
            })?;
        let (qr_text, signatory) = match self.opt(h, "ThirdSignatoryDocumentAuthentication") {
            None => (None, None),
            Some(c) => {
                let qr = children(c.node, NS_RAM, "ID")
                    .find(|n| n.attribute("schemeID") == Some(QR_SCHEME))
                    .and_then(text_of);
                let signatory = self
                    .opt(c, "ProviderTradeParty")
                    .and_then(|p| self.opt(p, "SpecifiedAuthoritativeSignatoryPerson"))
                    .and_then(|s| self.opt_text(s, "Name"));
                (qr, signatory)
            }
        };
        Ok(Header {
            number,
            document_type,
            copy,
            issued_at,
            valid_from: valid_from.unwrap_or_else(|| Date::from_unix(issued_at)),
            valid_until,
            purpose,
            special_conditions,
            retrospective,
            security_stamp,
            authority,
            place_of_issue,
            signatory,
            import_permit,
            replacement_of,
            qr_text,
        })
    }
}

/// The header's part of a permit.
struct Header {
    number: String,
    document_type: DocumentType,
    copy: bool,
    issued_at: i64,
    valid_from: Date,
    valid_until: Date,
    purpose: Purpose,
    special_conditions: Option<String>,
    retrospective: Option<String>,
    security_stamp: Option<String>,
    authority: TradeParty,
    place_of_issue: Option<String>,
    signatory: Option<String>,
    import_permit: Option<(Country, String)>,
    replacement_of: Option<Replaced>,
    qr_text: Option<String>,
}

/// Reads a `CITESEPermit` message. A DTD is refused (no entities to expand).
pub fn read(xml: &str) -> Result<ExchangePermit, ReadError> {
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, options)
        .map_err(|e| ReadError::Malformed(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "CITESEPermit" || root.tag_name().namespace() != Some(NS_RSM) {
        return Err(ReadError::Malformed(format!(
            "the root element must be CITESEPermit in {NS_RSM}"
        )));
    }
    let mut r = Reader {
        path: vec!["CITESEPermit".to_owned()],
    };
    let at = At { node: root };
    let h = r.within(at, "HeaderExchangedDocument", |r, h| r.header(h))?;
    let (exporter, importer, examination, lines) =
        r.within(at, "SpecifiedSupplyChainConsignment", |r, c| {
            let exporter = r.party(c, "ConsignorTradeParty")?;
            let importer = match r.opt(c, "ConsigneeTradeParty") {
                None => None,
                Some(_) => Some(r.party(c, "ConsigneeTradeParty")?),
            };
            let examination = match r.opt(c, "ExaminationTransportEvent") {
                None => None,
                Some(_) => Some(r.within(c, "ExaminationTransportEvent", |r, e| {
                    let t = r.req_text(e, "ActualOccurrenceDateTime")?;
                    let at = parse_rfc3339(&t).ok_or_else(|| {
                        r.invalid(
                            "ActualOccurrenceDateTime",
                            format!("{t:?} is not an RFC 3339 time"),
                        )
                    })?;
                    let locode = r
                        .opt(e, "OccurrenceLogisticsLocation")
                        .and_then(|l| r.opt_text(l, "ID"));
                    Ok(Examination { at, locode })
                })?),
            };
            let mut lines = Vec::new();
            let name = "IncludedSupplyChainConsignmentItem";
            for (i, item) in children(c.node, NS_RAM, name).enumerate() {
                r.path.push(format!("{name}[{}]", i + 1));
                let line = r.line(At { node: item });
                r.path.pop();
                lines.push(line?);
            }
            if lines.is_empty() {
                return Err(r.missing(name));
            }
            Ok((exporter, importer, examination, lines))
        })?;
    Ok(ExchangePermit {
        number: h.number,
        document_type: h.document_type,
        copy: h.copy,
        issued_at: h.issued_at,
        valid_from: h.valid_from,
        valid_until: h.valid_until,
        purpose: h.purpose,
        special_conditions: h.special_conditions,
        retrospective: h.retrospective,
        security_stamp: h.security_stamp,
        authority: h.authority,
        place_of_issue: h.place_of_issue,
        signatory: h.signatory,
        exporter,
        importer,
        import_permit: h.import_permit,
        replacement_of: h.replacement_of,
        qr_text: h.qr_text,
        examination,
        lines,
    })
}
