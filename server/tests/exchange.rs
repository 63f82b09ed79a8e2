//! The CITES exchange format (docs/FEDERATION.md) against a real server on port 0, on SQLite and
//! PostgreSQL: a permit served as CITESEPermit XML with the element paths of the toolkit's
//! schema (written out here from the reference, not from the writer's constants), who may read
//! it, and a partner's import permit received as XML backing an Appendix-I export.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, valid_until};
use permitseal_server::exchange;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    served_xml_has_every_box_at_its_path,
    who_may_read_the_xml,
    box_14_is_the_recorded_endorsement,
    partner_xml_import_permit_backs_an_appendix_i_export,
    malformed_partner_xml_is_refused_naming_the_element,
);

const RSM: &str = "urn:un:unece:uncefact:data:standard:CITESEPermit:2";
const RAM: &str = "urn:un:unece:uncefact:data:draft:ReusableAggregateBusinessInformationEntity:1";

/// The elements at `path` (names separated by `/`, below the root; the first step in the
/// message namespace, the others in the aggregate namespace).
fn at<'a, 'i>(doc: &'a roxmltree::Document<'i>, path: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    let root = doc.root_element();
    assert_eq!(
        (root.tag_name().namespace(), root.tag_name().name()),
        (Some(RSM), "CITESEPermit")
    );
    let mut nodes = vec![root];
    for (i, step) in path.split('/').enumerate() {
        let ns = if i == 0 { RSM } else { RAM };
        nodes = nodes
            .iter()
            .flat_map(|n| n.children())
            .filter(|c| {
                c.is_element()
                    && c.tag_name().name() == step
                    && c.tag_name().namespace() == Some(ns)
            })
            .collect();
    }
    nodes
}

/// The text of the one element at `path`.
fn text(doc: &roxmltree::Document<'_>, path: &str) -> String {
    let nodes = at(doc, path);
    assert_eq!(nodes.len(), 1, "{path}: {} elements", nodes.len());
    nodes[0].text().unwrap_or("").trim().to_owned()
}

async fn xml(s: &TestServer, token: Option<&str>, number: &str) -> (StatusCode, String) {
    let (status, headers, body) = s
        .get_bytes(
            &format!(
                "/api/v1/authorities/KE/permits/{}/cites-xml",
                common::enc(number)
            ),
            token,
            None,
        )
        .await;
    if status == StatusCode::OK {
        assert_eq!(headers["content-type"], "application/xml");
    }
    (status, String::from_utf8(body).unwrap())
}

/// A KE export of two blocks to DE with every box the form has filled.
fn full_export(number: &str) -> Value {
    json!({
        "permit": {
            "document_type": "re_export", "number": number, "valid_until": valid_until(),
            "purpose": "T", "security_stamp": "KE-S-0042",
            "exporter": {"name": "Exporter Ltd", "country": "KE", "address": "1 Harbour Rd, Mombasa"},
            "importer": {"name": "Importer GmbH", "country": "DE", "address": "Hafenstr. 2, Hamburg"},
            "special_conditions": "Keep dry & cool",
            "lines": [
                {"scientific_name": "Aloe ferox", "common_name": "Cape aloe", "kingdom": "plant",
                 "description": "Dried leaf extract <drums 1-4>", "term": "EXT", "appendix": "II",
                 "source": "A", "quantity": "12.5", "unit": "KIL",
                 "origin": {"country": "ZA", "number": "ZA/2026/77", "date": "2026-01-10"}},
                {"scientific_name": "Psittacus erithacus", "kingdom": "animal", "term": "FEA",
                 "appendix": "II", "source": "C", "quantity": 30, "unit": "NAR",
                 "origin": {"country": "ZA", "number": "ZA/2026/78", "date": "2026-01-11"},
                 "last_reexport": {"country": "TZ", "number": "TZ/2026/5", "date": "2026-02-01"}}
            ]
        },
        "form": {"copy": false, "place_of_issue": "Nairobi", "signatory": "J. Mwangi",
                 "authority_address": "P.O. Box 40241, Nairobi",
                 "retrospective": "Issued after export: the permit was lost in transit"}
    })
}

async fn served_xml_has_every_box_at_its_path(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let (status, issued) = s
        .post(
            "/api/v1/authorities/KE/permits",
            Some(&ke),
            full_export("KE/RX/1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let (status, body) = xml(&s, Some(&ke), "KE/RX/1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let doc = roxmltree::Document::parse(&body).unwrap();
    let h = "HeaderExchangedDocument";
    let c = "SpecifiedSupplyChainConsignment";
    let until = valid_until();
    // Boxes 1 to 6 and 13 (cites-domain.md §3.1).
    let header = [
        (format!("{h}/ID"), "KE/RX/1".to_owned()),
        (format!("{h}/TypeCode"), "R".to_owned()),
        (format!("{h}/CopyIndicator"), "false".to_owned()),
        (format!("{h}/PurposeCode"), "T".to_owned()),
        (
            format!("{h}/FirstSignatoryDocumentAuthentication/ID"),
            "KE-S-0042".to_owned(),
        ),
        (
            format!("{h}/FirstSignatoryDocumentAuthentication/ProviderTradeParty/Name"),
            "Authority KE".to_owned(),
        ),
        (
            format!(
                "{h}/FirstSignatoryDocumentAuthentication/ProviderTradeParty/PostalTradeAddress/CountryID"
            ),
            "KE".to_owned(),
        ),
        (
            format!("{h}/IssueLogisticsLocation/Name"),
            "Nairobi".to_owned(),
        ),
        (
            format!("{c}/ConsigneeTradeParty/Name"),
            "Importer GmbH".to_owned(),
        ),
        (
            format!("{c}/ConsigneeTradeParty/PostalTradeAddress/CountryID"),
            "DE".to_owned(),
        ),
        (
            format!("{c}/ConsignorTradeParty/Name"),
            "Exporter Ltd".to_owned(),
        ),
        (
            format!("{c}/ConsignorTradeParty/PostalTradeAddress/CountryID"),
            "KE".to_owned(),
        ),
    ];
    for (path, want) in &header {
        assert_eq!(&text(&doc, path), want, "{path}");
    }
    assert!(
        text(&doc, &format!("{h}/EffectiveSpecifiedPeriod/EndDateTime")).starts_with(&until),
        "box 2"
    );
    assert!(
        !text(&doc, &format!("{h}/IssueDateTime")).is_empty(),
        "box 13"
    );
    assert_eq!(
        at(&doc, &format!("{h}/ThirdSignatoryDocumentAuthentication")).len(),
        1,
        "signatory C (box 13)"
    );
    let info: Vec<_> = at(&doc, &format!("{h}/Information"))
        .iter()
        .map(|n| n.text().unwrap().to_owned())
        .collect();
    assert!(
        info.contains(&"Keep dry & cool".to_owned()),
        "box 5: {info:?}"
    );
    // The signature: the signed QR text, as issued.
    let qr = issued["qr_text"].as_str().unwrap();
    assert!(body.contains(qr), "the QR payload reference");

    // Blocks A and B (§3.2).
    let items = at(&doc, &format!("{c}/IncludedSupplyChainConsignmentItem"));
    assert_eq!(items.len(), 2);
    let item = |i: usize, path: &str| -> Vec<roxmltree::Node<'_, '_>> {
        let mut nodes = vec![items[i]];
        for step in path.split('/') {
            nodes = nodes
                .iter()
                .flat_map(|n| n.children())
                .filter(|c| c.tag_name().name() == step && c.tag_name().namespace() == Some(RAM))
                .collect();
        }
        nodes
    };
    let one = |i: usize, path: &str| -> String {
        let n = item(i, path);
        assert_eq!(n.len(), 1, "block {i} {path}");
        n[0].text().unwrap_or("").trim().to_owned()
    };
    let product = "IncludedSupplyChainTradeLineItem/SpecifiedTradeProduct";
    for (i, block, name, term, appendix, source, qty, unit) in [
        (0, "A", "Aloe ferox", "EXT", "II", "A", "12.5", "KGM"),
        (1, "B", "Psittacus erithacus", "FEA", "II", "C", "30", "C62"),
    ] {
        assert_eq!(one(i, "ID"), block);
        assert_eq!(one(i, &format!("{product}/ScientificName")), name);
        assert_eq!(one(i, &format!("{product}/TypeCode")), term);
        assert_eq!(
            one(i, "IncludedSupplyChainTradeLineItem/TypeCode"),
            appendix
        );
        assert_eq!(
            one(i, "IncludedSupplyChainTradeLineItem/TypeExtensionCode"),
            source
        );
        let q = item(i, "TransportLogisticsPackage/ItemQuantity");
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].text().unwrap(), q[0].attribute("unitCode")),
            (qty, Some(unit))
        );
        assert_eq!(one(i, "OriginTradeCountry/ID"), "ZA");
    }
    assert_eq!(one(0, &format!("{product}/CommonName")), "Cape aloe");
    assert_eq!(
        one(0, &format!("{product}/Description")),
        "Dried leaf extract <drums 1-4>"
    );
    assert_eq!(one(1, "ExportTradeCountry/ID"), "TZ");
    let refs = item(1, "AssociatedReferencedDocument");
    let by_type = |code: &str| {
        refs.iter()
            .find(|r| {
                r.children()
                    .any(|c| c.tag_name().name() == "TypeCode" && c.text() == Some(code))
            })
            .unwrap_or_else(|| panic!("no AssociatedReferencedDocument {code}"))
            .children()
            .filter(|c| c.tag_name().name() == "ID")
            .map(|c| c.text().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(by_type("861"), vec!["ZA/2026/78"], "box 12");
    assert_eq!(by_type("811"), vec!["TZ/2026/5"], "box 12a");

    // Round trip: what the reader takes from it is the permit as the API shows it, and
    // writing that again gives the same message.
    let read = exchange::read(&body).unwrap();
    let (_, view) = s
        .get("/api/v1/authorities/KE/permits/KE%2FRX%2F1", Some(&ke))
        .await;
    assert_eq!(read.number, view["number"].as_str().unwrap());
    assert_eq!(read.valid_until.to_string(), until);
    assert_eq!(read.qr_text.as_deref(), Some(qr));
    assert_eq!(read.signatory.as_deref(), Some("J. Mwangi"));
    assert_eq!(
        read.authority.address.as_deref(),
        Some("P.O. Box 40241, Nairobi")
    );
    assert_eq!(
        read.retrospective.as_deref(),
        Some("Issued after export: the permit was lost in transit")
    );
    assert_eq!(
        read.exporter.address.as_deref(),
        Some("1 Harbour Rd, Mombasa")
    );
    assert_eq!(read.lines.len(), 2);
    assert_eq!(read.lines[1].unit.code(), "NAR");
    assert_eq!(read.lines[1].quantity.to_string(), "30");
    assert_eq!(
        read.lines[1]
            .last_reexport
            .as_ref()
            .unwrap()
            .date
            .to_string(),
        "2026-02-01"
    );
    assert_eq!(exchange::write(&read).unwrap(), body);
    s.stop().await;
}

async fn who_may_read_the_xml(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let tz = s.issuing_authority("TZ").await;
    s.issue(&ke, "KE", common::export_draft("KE/X/1", "KE", "DE"))
        .await;
    let de = s.token("importer", None, Some("DE")).await;
    let us = s.token("importer", None, Some("US")).await;
    let officer = s.token("officer", None, Some("KE")).await;
    for (token, want) in [
        (Some(ke.as_str()), StatusCode::OK),
        (Some(de.as_str()), StatusCode::OK),
        (Some(us.as_str()), StatusCode::FORBIDDEN),
        (Some(tz.as_str()), StatusCode::FORBIDDEN),
        (Some(officer.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = xml(&s, token, "KE/X/1").await;
        assert_eq!(status, want, "{token:?}: {body}");
        if status != StatusCode::OK {
            let err: Value = serde_json::from_str(&body).unwrap();
            assert!(err["code"].is_string(), "{body}");
        }
    }
    let (status, _) = xml(&s, Some(&ke), "KE/X/404").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = xml(&s, Some(&de), "KE/X/404").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

async fn box_14_is_the_recorded_endorsement(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let permit = s
        .issue(&ke, "KE", common::export_draft("KE/X/14", "KE", "DE"))
        .await;
    let (_, body) = xml(&s, Some(&ke), "KE/X/14").await;
    let doc = roxmltree::Document::parse(&body).unwrap();
    let c = "SpecifiedSupplyChainConsignment";
    assert!(
        at(&doc, &format!("{c}/ExaminationTransportEvent")).is_empty(),
        "not endorsed yet"
    );
    let customs = s.token("customs", None, Some("KE")).await;
    let (status, answer) = s
        .post(
            "/api/v1/customs/endorsements",
            Some(&customs),
            json!({"declaration": "C-14", "qr": permit["qr_text"], "officer": "KRA Kilindini",
                   "place": {"locode": "KEMBA"}, "transport_document": "MSKU1234567",
                   "lines": [{"block": "A", "quantity": "12"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, body) = xml(&s, Some(&ke), "KE/X/14").await;
    let doc = roxmltree::Document::parse(&body).unwrap();
    assert_eq!(
        text(
            &doc,
            &format!("{c}/ExaminationTransportEvent/OccurrenceLogisticsLocation/ID")
        ),
        "KEMBA"
    );
    assert!(
        !text(
            &doc,
            &format!("{c}/ExaminationTransportEvent/ActualOccurrenceDateTime")
        )
        .is_empty()
    );
    let q = at(
        &doc,
        &format!("{c}/IncludedSupplyChainConsignmentItem/ExaminationTransportEvent/UnitQuantity"),
    );
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].text(), q[0].attribute("unitCode")),
        (Some("12"), Some("KGM"))
    );
    let read = exchange::read(&body).unwrap();
    assert_eq!(read.lines[0].endorsed.as_deref(), Some("12"));
    assert_eq!(exchange::write(&read).unwrap(), body);
    s.stop().await;
}

/// A partner's import permit as another national system writes it (EPIX style: its own
/// prefixes, EPIX's element order), for `quantity` live grey parrots from `exporter`.
fn partner_xml(number: &str, exporter: &str, quantity: &str, until: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<p:CITESEPermit xmlns:p="{RSM}" xmlns:q="{RAM}">
  <p:HeaderExchangedDocument>
    <q:ID>{number}</q:ID>
    <q:TypeCode listID="1001" listAgencyID="6">I</q:TypeCode>
    <q:IssueDateTime>2026-11-02T09:30:00.000-05:00</q:IssueDateTime>
    <q:CopyIndicator>false</q:CopyIndicator>
    <q:PurposeCode>Z</q:PurposeCode>
    <q:EffectiveSpecifiedPeriod>
      <q:StartDateTime>2026-11-02T00:00:00Z</q:StartDateTime>
      <q:EndDateTime>{until}T23:59:59Z</q:EndDateTime>
    </q:EffectiveSpecifiedPeriod>
    <q:FirstSignatoryDocumentAuthentication>
      <q:TypeCode>A</q:TypeCode>
      <q:ProviderTradeParty>
        <q:Name>U.S. Fish and Wildlife Service</q:Name>
        <q:PostalTradeAddress><q:CountryID>US</q:CountryID></q:PostalTradeAddress>
      </q:ProviderTradeParty>
    </q:FirstSignatoryDocumentAuthentication>
  </p:HeaderExchangedDocument>
  <p:SpecifiedSupplyChainConsignment>
    <q:ConsignorTradeParty>
      <q:Name>Exporter Ltd</q:Name>
      <q:PostalTradeAddress><q:CountryID>{exporter}</q:CountryID></q:PostalTradeAddress>
    </q:ConsignorTradeParty>
    <q:ConsigneeTradeParty>
      <q:Name>Bronx Zoo</q:Name>
      <q:PostalTradeAddress><q:CityName>New York</q:CityName><q:CountryID>US</q:CountryID></q:PostalTradeAddress>
    </q:ConsigneeTradeParty>
    <q:IncludedSupplyChainConsignmentItem>
      <q:ID>A</q:ID>
      <q:TransportLogisticsPackage><q:ItemQuantity unitCode="C62">{quantity}</q:ItemQuantity></q:TransportLogisticsPackage>
      <q:IncludedSupplyChainTradeLineItem>
        <q:TypeCode>I</q:TypeCode>
        <q:TypeExtensionCode>C</q:TypeExtensionCode>
        <q:SpecifiedTradeProduct>
          <q:Description languageID="EN">live birds</q:Description>
          <q:TypeCode>LIV</q:TypeCode>
          <q:ScientificName languageID="EN">Psittacus erithacus</q:ScientificName>
        </q:SpecifiedTradeProduct>
      </q:IncludedSupplyChainTradeLineItem>
    </q:IncludedSupplyChainConsignmentItem>
  </p:SpecifiedSupplyChainConsignment>
</p:CITESEPermit>"#
    )
}

async fn submit(s: &TestServer, token: &str, xml: String) -> (StatusCode, Value) {
    s.post_raw(
        "/api/v1/authorities/KE/partner-import-permits",
        Some(token),
        "application/xml",
        xml.into_bytes(),
    )
    .await
}

fn parrot_export(number: &str, scientific_name: &str, quantity: i64) -> Value {
    json!({
        "permit": {
            "document_type": "export", "number": number, "valid_until": valid_until(),
            "purpose": "Z", "exporter": {"name": "Exporter Ltd", "country": "KE"},
            "importer": {"name": "Bronx Zoo", "country": "US"},
            "lines": [{"scientific_name": scientific_name, "kingdom": "animal", "term": "LIV",
                       "appendix": "I", "source": "C", "quantity": quantity, "unit": "NAR"}]
        },
        "import_permit": {"country": "US", "number": "26US123456/9"}
    })
}

async fn partner_xml_import_permit_backs_an_appendix_i_export(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let until = valid_until();
    // Not for this authority's country as exporter: refused, nothing stored.
    let (status, err) = submit(&s, &ke, partner_xml("26US123456/9", "TZ", "2", &until)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import_permit_mismatch")
        ),
        "{err}"
    );
    let (status, stored) = submit(&s, &ke, partner_xml("26US123456/9", "KE", "2", &until)).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(stored["verified"], false);
    assert_eq!(stored["lines"][0]["unit"], "NAR");
    assert_eq!(stored["lines"][0]["quantity"], "2");
    let (status, again) = submit(&s, &ke, partner_xml("26us123456-9", "KE", "2", &until)).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("partner_import_permit_exists")),
        "{again}"
    );

    let issue = |body: Value| {
        let s = &s;
        let ke = ke.clone();
        async move {
            s.post("/api/v1/authorities/KE/permits", Some(&ke), body)
                .await
        }
    };
    // Another taxon: not covered.
    let (status, err) = issue(parrot_export("KE/I/1", "Ara macao", 1)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import_permit_not_covering")
        ),
        "{err}"
    );
    // More than it covers.
    let (status, err) = issue(parrot_export("KE/I/1", "Psittacus erithacus", 3)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("covers 2 NAR"),
        "{err}"
    );
    // Covered: issued, the import permit still unverified.
    let (status, ok) = issue(parrot_export("KE/I/1", "Psittacus erithacus", 2)).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["import_permit"]["verified"], false, "{ok}");
    // Its two parrots are taken: one more is refused.
    let (status, err) = issue(parrot_export("KE/I/2", "Psittacus erithacus", 1)).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import_permit_not_covering")
        ),
        "{err}"
    );
    // One past its last day backs nothing (stored directly: the endpoint refuses it at once).
    let mut old = exchange::read(&partner_xml("US/OLD/1", "KE", "5", &until)).unwrap();
    old.valid_until = verifier_core::date::Date::from_unix(
        permitseal_server::clock::Clock::system().now() - 86_400,
    );
    let authority = permitseal_server::model::AuthorityId::parse("KE").unwrap();
    s.state
        .db
        .store_partner_import(
            "test",
            &permitseal_server::storage::partner_imports::PartnerImport {
                authority: &authority,
                permit: &old,
                xml: "<expired/>",
            },
            permitseal_server::clock::Clock::system().now(),
        )
        .await
        .unwrap();
    let mut late = parrot_export("KE/I/3", "Psittacus erithacus", 1);
    late["import_permit"]["number"] = json!("US/OLD/1");
    let (status, err) = issue(late).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import_permit_invalid")
        ),
        "{err}"
    );
    // The export's own XML names the import permit it was issued against.
    let (status, body) = xml(&s, Some(&ke), "KE/I/1").await;
    assert_eq!(status, StatusCode::OK);
    let read = exchange::read(&body).unwrap();
    let (country, number) = read.import_permit.unwrap();
    assert_eq!((country.as_str(), number.as_str()), ("US", "26US123456/9"));
    s.stop().await;
}

async fn malformed_partner_xml_is_refused_naming_the_element(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let until = valid_until();
    let good = partner_xml("US/M/1", "KE", "2", &until);
    let cases = [
        ("<p:CITESEPermit".to_owned(), "cites_xml_malformed", ""),
        (
            good.replace("<q:ID>US/M/1</q:ID>", ""),
            "cites_xml_missing_element",
            "HeaderExchangedDocument/ID",
        ),
        (
            good.replace(
                "<q:ScientificName languageID=\"EN\">Psittacus erithacus</q:ScientificName>",
                "",
            ),
            "cites_xml_missing_element",
            "SpecifiedTradeProduct/ScientificName",
        ),
        (
            good.replace("unitCode=\"C62\"", "unitCode=\"PCS\""),
            "cites_xml_invalid_value",
            "ItemQuantity@unitCode",
        ),
        (
            good.replace(RSM, "urn:example:other"),
            "cites_xml_malformed",
            "",
        ),
        (
            good.replace(
                ">I</q:TypeCode>\n    <q:IssueDateTime",
                ">E</q:TypeCode>\n    <q:IssueDateTime",
            ),
            "not_an_import_permit",
            "TypeCode",
        ),
        (
            good.replace(
                "<q:PurposeCode>Z</q:PurposeCode>",
                "<q:PurposeCode>T</q:PurposeCode>",
            ),
            "commercial_appendix_i_import",
            "block A",
        ),
        (
            partner_xml("US/M/1", "KE", "2", "2020-01-31"),
            "import_permit_invalid",
            "2020-01-31",
        ),
        (
            good.replace(
                "<q:ID>A</q:ID>",
                "<q:ID>A</q:ID><q:ExportTradeCountry><q:ID>TZ</q:ID></q:ExportTradeCountry>",
            ),
            "cites_xml_missing_element",
            "AssociatedReferencedDocument[TypeCode=811]",
        ),
        (
            good.replace("2026-11-02T00:00:00Z", "2099-01-01T00:00:00Z"),
            "cites_xml_invalid_value",
            "EffectiveSpecifiedPeriod",
        ),
        (
            format!(
                "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>{}",
                good.split_once("?>").unwrap().1
            ),
            "cites_xml_malformed",
            "",
        ),
    ];
    for (body, code, path) in cases {
        let (status, err) = submit(&s, &ke, body).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{err}"
        );
        assert!(err["message"].as_str().unwrap().contains(path), "{err}");
    }
    let (status, _) = s
        .post_raw(
            "/api/v1/authorities/KE/partner-import-permits",
            None,
            "application/xml",
            good.into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}
