//! The CITES rules of issuance (docs/RULES.md) against a real server on port 0, on SQLite and
//! PostgreSQL: each rule with a request that breaks it and one that obeys it.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, export_draft, valid_until};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    document_types_take_their_appendices_sources_and_purposes,
    units_must_fit_their_term,
    appendix_i_import_permits_are_never_commercial,
    live_appendix_i_re_exports_need_an_import_permit,
    import_permits_cover_taxon_term_and_summed_quantity,
    revocations_say_why_and_name_the_replacement,
    form_content_is_stored_and_shown,
    only_exports_of_unseized_specimens_count_against_a_quota,
    quotas_of_a_term_source_or_purpose_and_their_endorsed_total,
    pre_convention_and_origin_certificates_against_the_listing,
    the_portal_sets_scoped_quotas_and_shows_box_11a,
);

/// POSTs one permit; returns status and body.
async fn post(s: &TestServer, token: &str, authority: &str, body: Value) -> (StatusCode, Value) {
    s.post(
        &format!("/api/v1/authorities/{authority}/permits"),
        Some(token),
        body,
    )
    .await
}

/// Expects a 422 with `code`, whose message names `field`.
async fn refused(
    s: &TestServer,
    token: &str,
    authority: &str,
    body: Value,
    code: &str,
    field: &str,
) {
    let (status, err) = post(s, token, authority, body).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
        "{err}"
    );
    let message = err["message"].as_str().unwrap();
    assert!(message.contains(field), "{field} not in {message}");
}

/// A one-line draft of `ty` from KE (to DE unless multi-use).
fn draft(ty: &str, number: &str, purpose: &str, line: Value) -> Value {
    let mut d = export_draft(number, "KE", "DE");
    d["document_type"] = json!(ty);
    d["purpose"] = json!(purpose);
    d["lines"] = json!([line]);
    if matches!(
        ty,
        "ownership" | "travelling_exhibition" | "musical_instrument"
    ) {
        d.as_object_mut().unwrap().remove("importer");
    }
    d
}

fn line(appendix: &str, source: &str, term: &str, unit: &str) -> Value {
    let mut l = json!({"scientific_name": "Loxodonta africana", "kingdom": "animal",
        "term": term, "appendix": appendix, "source": source, "quantity": 2, "unit": unit});
    if source == "O" {
        l["acquisition_date"] = json!("1970-01-01");
    }
    l
}

async fn document_types_take_their_appendices_sources_and_purposes(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let cases = [
        // (type, purpose, breaking line, code, field, obeying line)
        (
            "certificate_of_origin",
            "T",
            line("II", "W", "SKI", "NAR"),
            "appendix_not_for_document",
            "lines[0].appendix",
            line("III", "W", "SKI", "NAR"),
        ),
        (
            "introduction_from_the_sea",
            "T",
            line("II", "W", "MEA", "KIL"),
            "source_not_for_document",
            "lines[0].source",
            line("II", "X", "MEA", "KIL"),
        ),
        (
            "export",
            "T",
            line("II", "X", "MEA", "KIL"),
            "source_not_for_document",
            "lines[0].source",
            line("II", "W", "MEA", "KIL"),
        ),
        (
            "pre_convention",
            "T",
            line("II", "W", "IVC", "NAR"),
            "source_not_for_document",
            "lines[0].source",
            line("II", "O", "IVC", "NAR"),
        ),
        (
            "captive_breeding",
            "T",
            line("II", "F", "LIV", "NAR"),
            "source_not_for_document",
            "lines[0].source",
            line("II", "C", "LIV", "NAR"),
        ),
        (
            "ownership",
            "P",
            line("II", "C", "SKI", "NAR"),
            "term_not_for_document",
            "lines[0].term",
            line("II", "C", "LIV", "NAR"),
        ),
        (
            "travelling_exhibition",
            "Q",
            line("II", "W", "LIV", "NAR"),
            "source_not_for_document",
            "lines[0].source",
            line("II", "C", "LIV", "NAR"),
        ),
        (
            "musical_instrument",
            "P",
            line("II", "I", "IVC", "NAR"),
            "source_not_for_document",
            "lines[0].source",
            line("II", "O", "IVC", "NAR"),
        ),
    ];
    for (i, (ty, purpose, bad, code, field, good)) in cases.into_iter().enumerate() {
        let number = format!("KE/R/{i}");
        refused(
            &s,
            &ke,
            "KE",
            json!({"permit": draft(ty, &number, purpose, bad)}),
            code,
            field,
        )
        .await;
        let (status, body) = post(
            &s,
            &ke,
            "KE",
            json!({"permit": draft(ty, &number, purpose, good)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ty}: {body}");
        assert_eq!(body["document_type"], ty);
    }
    // Multi-use certificates are for non-commercial movements.
    refused(
        &s, &ke, "KE",
        json!({"permit": draft("musical_instrument", "KE/R/T", "T", line("II", "O", "IVC", "NAR"))}),
        "purpose_not_for_document", "purpose",
    )
    .await;
    // Up to three years, not more (the core's validity per type).
    let mut long = draft(
        "musical_instrument",
        "KE/R/L",
        "P",
        line("II", "O", "IVC", "NAR"),
    );
    let now = permitseal_server::clock::Clock::system().now();
    long["valid_until"] =
        json!(verifier_core::date::Date::from_unix(now + 1000 * 86_400).to_string());
    let (status, body) = post(&s, &ke, "KE", json!({"permit": long.clone()})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    long["number"] = json!("KE/R/L2");
    long["valid_until"] =
        json!(verifier_core::date::Date::from_unix(now + 1200 * 86_400).to_string());
    refused(
        &s,
        &ke,
        "KE",
        json!({"permit": long}),
        "invalid_permit",
        "valid_until",
    )
    .await;
    s.stop().await;
}

async fn units_must_fit_their_term(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let cases = [
        (line("II", "C", "LIV", "KIL"), line("II", "C", "LIV", "NAR")),
        (line("II", "C", "SKI", "SHP"), line("II", "C", "SKI", "SQM")),
        (line("II", "C", "SKI", "CAS"), line("II", "C", "SKI", "NAR")),
        (line("II", "C", "MEA", "NAR"), line("II", "C", "MEA", "KIL")),
    ];
    for (i, (bad, good)) in cases.into_iter().enumerate() {
        let number = format!("KE/U/{i}");
        refused(
            &s,
            &ke,
            "KE",
            json!({"permit": draft("export", &number, "T", bad)}),
            "unit_not_for_term",
            "lines[0].unit",
        )
        .await;
        let (status, body) = post(
            &s,
            &ke,
            "KE",
            json!({"permit": draft("export", &number, "T", good)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, err) = post(
        &s,
        &ke,
        "KE",
        json!({"permit": draft("export", "KE/U/9", "T", line("II", "C", "LIV", "KIL"))}),
    )
    .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("LIV is counted in NAR, not KIL"),
        "{err}"
    );
    s.stop().await;
}

async fn appendix_i_import_permits_are_never_commercial(backend: Backend) {
    let s = TestServer::start(backend).await;
    let de = s.issuing_authority("DE").await;
    let import = |number: &str, purpose: &str, appendix: &str| {
        json!({"permit": {
            "document_type": "import", "number": number, "valid_until": valid_until(),
            "purpose": purpose, "exporter": {"name": "Exporter Ltd", "country": "KE"},
            "importer": {"name": "Zoo Berlin", "country": "DE"},
            "lines": [line(appendix, "C", "LIV", "NAR")]}})
    };
    refused(
        &s,
        &de,
        "DE",
        import("DE/I/1", "T", "I"),
        "commercial_appendix_i_import",
        "purpose",
    )
    .await;
    let (status, body) = post(&s, &de, "DE", import("DE/I/1", "Z", "I")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Appendix II: an import permit only under stricter national measures, commercial allowed.
    let (status, body) = post(&s, &de, "DE", import("DE/I/2", "T", "II")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    s.stop().await;
}

async fn live_appendix_i_re_exports_need_an_import_permit(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let re_export = |number: &str, term: &str| {
        let mut l = line("I", "C", term, "NAR");
        l["origin"] = json!({"country": "ZA", "number": "ZA/2025/1", "date": "2025-03-01"});
        draft("re_export", number, "Z", l)
    };
    // Live: needs it (Art. III(4)(c)).
    refused(
        &s,
        &ke,
        "KE",
        json!({"permit": re_export("KE/RE/1", "LIV")}),
        "import_permit_required",
        "import_permit",
    )
    .await;
    let (status, body) = post(
        &s,
        &ke,
        "KE",
        json!({"permit": re_export("KE/RE/1", "LIV"),
        "import_permit": {"country": "DE", "number": "DE/IMP/40"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["import_permit"]["number"], "DE/IMP/40");
    // Not live: the Convention asks none.
    let (status, body) = post(
        &s,
        &ke,
        "KE",
        json!({"permit": re_export("KE/RE/2", "IVC")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    s.stop().await;
}

async fn import_permits_cover_taxon_term_and_summed_quantity(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let parrot = |quantity: i64| {
        json!({"scientific_name": "Psittacus erithacus", "kingdom": "animal", "term": "LIV",
               "appendix": "I", "source": "C", "quantity": quantity, "unit": "NAR"})
    };
    let import = json!({
        "document_type": "import", "number": "DE/IMP/2", "valid_until": valid_until(),
        "purpose": "Z", "exporter": {"name": "Exporter Ltd", "country": "KE"},
        "importer": {"name": "Zoo Berlin", "country": "DE"}, "lines": [parrot(2)]});
    s.issue(&de, "DE", import).await;
    let reference = json!({"country": "DE", "number": "de-imp-2"});
    let export = |number: &str, l: Value| draft("export", number, "Z", l);

    // Forty wild tusks on an import permit for two live parrots.
    let tusks = json!({"scientific_name": "Loxodonta africana", "kingdom": "animal",
        "term": "TUS", "appendix": "I", "source": "W", "quantity": 40, "unit": "NAR"});
    let body = json!({"permit": export("KE/E/1", tusks), "import_permit": reference});
    let gap = "covers no Loxodonta africana TUS counted in NAR";
    refused(&s, &ke, "KE", body, "import_permit_not_covering", gap).await;
    // The same taxon (by comparison key), term and quantity: issued, verified.
    let mut first = export("KE/E/2", parrot(2));
    first["lines"][0]["scientific_name"] = json!("PSITTACUS  ERITHACUS");
    let (status, ok) = post(
        &s,
        &ke,
        "KE",
        json!({"permit": first, "import_permit": reference}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["import_permit"]["verified"], true, "{ok}");
    // Reused for one more: the sum is past what it covers, and the refusal says the numbers.
    let body = json!({"permit": export("KE/E/3", parrot(1)), "import_permit": reference});
    let gap =
        "covers 2 NAR of Psittacus erithacus LIV; exports already reference 2, this line asks 1";
    refused(&s, &ke, "KE", body, "import_permit_not_covering", gap).await;
    // A revoked export no longer holds its share.
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE%2FE%2F2/revoke",
            Some(&ke),
            json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, ok) = post(
        &s,
        &ke,
        "KE",
        json!({"permit": export("KE/E/3", parrot(1)), "import_permit": reference}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");

    // An import permit of a Party that does not issue here: issued, recorded as unverified,
    // and shown so in the permit's view.
    let mut to_us = export("KE/E/4", parrot(2));
    to_us["importer"]["country"] = json!("US");
    let (status, ok) = post(
        &s,
        &ke,
        "KE",
        json!({"permit": to_us, "import_permit": {"country": "US", "number": "US/9"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!(
        ok["import_permit"],
        json!({"country": "US", "number": "US/9", "verified": false})
    );
    let (status, view) = s
        .get("/api/v1/authorities/KE/permits/KE%2FE%2F4", Some(&ke))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["import_permit"]["verified"], false, "{view}");
    s.stop().await;
}

async fn revocations_say_why_and_name_the_replacement(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    for n in ["KE/V/1", "KE/V/2", "KE/V/3"] {
        s.issue(&ke, "KE", export_draft(n, "KE", "DE")).await;
    }
    let change = |number: &str, action: &str, body: Value| {
        let s = &s;
        let ke = ke.clone();
        let path = format!(
            "/api/v1/authorities/KE/permits/{}/{action}",
            common::enc(number)
        );
        async move { s.post(&path, Some(&ke), body).await }
    };
    let bad = [
        (
            "revoke",
            json!({"reason": "r", "kind": "replaced"}),
            "invalid_revocation",
        ),
        (
            "revoke",
            json!({"reason": "r", "kind": "lost", "replacement": "KE/V/2"}),
            "invalid_revocation",
        ),
        (
            "suspend",
            json!({"reason": "r", "kind": "fraud"}),
            "invalid_revocation",
        ),
        (
            "revoke",
            json!({"reason": "r", "kind": "misplaced"}),
            "invalid_json",
        ),
    ];
    for (action, body, code) in bad {
        let (status, err) = change("KE/V/1", action, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        if code != "invalid_json" {
            assert_eq!(err["code"], code, "{body}: {err}");
        }
    }
    // The replacement must be another live permit of the authority.
    for replacement in ["KE/V/9", "KE/V/1"] {
        let (status, err) = change(
            "KE/V/1",
            "revoke",
            json!({"reason": "r", "kind": "replaced", "replacement": replacement}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{replacement}: {err}");
    }
    let (status, view) = change(
        "KE/V/1",
        "revoke",
        json!({"reason": "replaced after a typing error in box 3", "kind": "replaced",
               "replacement": "ke-v-2"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        (
            view["revocation_kind"].as_str(),
            view["replaced_by"].as_str()
        ),
        (Some("replaced"), Some("KE/V/2")),
        "{view}"
    );
    let (_, view) = s
        .get("/api/v1/authorities/KE/permits/KE%2FV%2F1", Some(&ke))
        .await;
    assert_eq!(view["revocation_kind"], "replaced", "{view}");
    // A revoked permit replaces nothing.
    let (status, _) = change(
        "KE/V/3",
        "revoke",
        json!({"reason": "r", "kind": "replaced", "replacement": "KE/V/1"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, view) = change(
        "KE/V/3",
        "revoke",
        json!({"reason": "stolen from the courier", "kind": "stolen"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["revocation_kind"], "stolen");
    assert_eq!(view["replaced_by"], Value::Null);
    s.stop().await;
}

async fn form_content_is_stored_and_shown(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let form = json!({
        "copy": true,
        "replacement_of": {"number": "KE/F/0", "date": "2026-01-05", "reason": "lost by the carrier"},
        "retrospective": "Issued after export: the exporter's permit was destroyed in transit; agreed with DE",
        "place_of_issue": "Nairobi",
        "signatory": "J. Mwangi, Director",
        "authority_address": "Kenya Wildlife Service, P.O. Box 40241-00100, Nairobi"
    });
    let with = |number: &str, form: Value| json!({"permit": export_draft(number, "KE", "DE"), "form": form});
    let mut future = form.clone();
    future["replacement_of"]["date"] = json!("2999-01-01");
    refused(
        &s,
        &ke,
        "KE",
        with("KE/F/1", future),
        "invalid_form",
        "form.replacement_of.date",
    )
    .await;
    let mut empty = form.clone();
    empty["signatory"] = json!("  ");
    let (status, _) = post(&s, &ke, "KE", with("KE/F/1", empty)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut unknown = form.clone();
    unknown["stamp"] = json!("x");
    let (status, _) = post(&s, &ke, "KE", with("KE/F/1", unknown)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, ok) = post(&s, &ke, "KE", with("KE/F/1", form.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["form"], form);
    let (_, view) = s
        .get("/api/v1/authorities/KE/permits/KE%2FF%2F1", Some(&ke))
        .await;
    assert_eq!(view["form"], form, "{view}");
    // Without any: nothing stored.
    let (status, ok) = post(&s, &ke, "KE", with("KE/F/2", json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["form"], Value::Null);
    s.stop().await;
}

async fn only_exports_of_unseized_specimens_count_against_a_quota(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let now = permitseal_server::clock::Clock::system().now();
    let year = verifier_core::date::Date::from_unix(now).ymd().0;
    let (status, q) = s
        .call(reqwest::Method::PUT, "/api/v1/authorities/KE/quotas", Some(&ke),
            Some(json!({"year": year, "scientific_name": "Aloe ferox", "unit": "KIL", "quantity": "20"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    s.issue(&ke, "KE", export_draft("KE/Q/1", "KE", "DE")).await;
    // An import permit of KE and an export of seized specimens move nothing out of the quota.
    let mut import = export_draft("KE/Q/2", "DE", "KE");
    import["document_type"] = json!("import");
    s.issue(&ke, "KE", import).await;
    let mut seized = export_draft("KE/Q/3", "KE", "DE");
    seized["lines"][0]["source"] = json!("I");
    s.issue(&ke, "KE", seized).await;
    let (_, quotas) = s.get("/api/v1/authorities/KE/quotas", Some(&ke)).await;
    assert_eq!(quotas["quotas"][0]["used"], "12.5", "{quotas}");
    // A second export does count, and is refused with the numbers.
    let body = json!({"permit": export_draft("KE/Q/4", "KE", "DE")});
    refused(&s, &ke, "KE", body, "quota_exceeded", "12.5 used of 20").await;
    s.stop().await;
}

/// Q3, Q4: a quota may be of one term, source and purpose; a line counts against the most
/// specific quota it matches, the refusal names the quota's scope and gives the numbers, the
/// quota API returns issued and endorsed totals, and the permit's view carries box 11a.
async fn quotas_of_a_term_source_or_purpose_and_their_endorsed_total(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let now = permitseal_server::clock::Clock::system().now();
    let year = verifier_core::date::Date::from_unix(now).ymd().0;
    let put = |body: Value| {
        let s = &s;
        let ke = ke.clone();
        async move {
            s.call(
                reqwest::Method::PUT,
                "/api/v1/authorities/KE/quotas",
                Some(&ke),
                Some(body),
            )
            .await
        }
    };
    let quota = |extra: Value| {
        let mut q = json!({"year": year, "scientific_name": "Aloe ferox", "unit": "KIL",
                           "quantity": "20"});
        for (k, v) in extra.as_object().unwrap() {
            q[k] = v.clone();
        }
        q
    };
    // Bad scopes: a clear 4xx each, nothing stored.
    for (extra, code) in [
        (json!({"term": "XYZ"}), "unknown_code"),
        (json!({"purpose": "9"}), "unknown_code"),
        (json!({"source": "I"}), "invalid_field"),
    ] {
        let (status, body) = put(quota(extra.clone())).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{extra}: {body}"
        );
    }
    let (status, q) = put(quota(json!({"term": "EXT", "source": "A", "purpose": "T"}))).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(
        (&q["term"], &q["source"], &q["purpose"], &q["endorsed"]),
        (&json!("EXT"), &json!("A"), &json!("T"), &json!("0")),
        "{q}"
    );
    let (status, q) = put(quota(json!({"quantity": "100"}))).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["term"], Value::Null, "{q}");
    let (status, q) = put(quota(json!({"source": "W"}))).await;
    assert_eq!(status, StatusCode::OK, "{q}");

    // EXT, A, T: the most specific quota; roots (ROO): the quota of every term.
    s.issue(&ke, "KE", export_draft("KE/T/1", "KE", "DE")).await;
    let mut roots = export_draft("KE/T/2", "KE", "DE");
    roots["lines"][0]["term"] = json!("ROO");
    s.issue(&ke, "KE", roots).await;
    // Of another purpose: not the EXT/A/T quota, the general one.
    let mut scientific = export_draft("KE/T/3", "KE", "DE");
    scientific["purpose"] = json!("S");
    s.issue(&ke, "KE", scientific).await;
    let (_, list) = s.get("/api/v1/authorities/KE/quotas", Some(&ke)).await;
    let used: Vec<(Value, Value, Value)> = list["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["term"].clone(), q["source"].clone(), q["used"].clone()))
        .collect();
    assert_eq!(
        used,
        [
            (Value::Null, Value::Null, json!("25")),
            (Value::Null, json!("W"), json!("0")),
            (json!("EXT"), json!("A"), json!("12.5")),
        ],
        "{list}"
    );
    // The EXT/A/T quota refuses a second such line, with its scope and the numbers.
    let body = json!({"permit": export_draft("KE/T/4", "KE", "DE")});
    let (status, err) = post(&s, &ke, "KE", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("(KIL, term EXT, source A, purpose T)")
            && message.contains("12.5 used of 20, the line asks 12.5"),
        "{message}"
    );

    // Box 11a in the permit's view; a permit under no quota has none.
    let (_, view) = s
        .get("/api/v1/authorities/KE/permits/KE%2FT%2F1", Some(&ke))
        .await;
    assert_eq!(
        view["quota_use"],
        json!([{"block": "A", "used": "12.5", "quota": "20"}]),
        "{view}"
    );

    // The export endorsement counts as endorsed, once: a second endorsement (re-use) does not.
    for id in ["e-1", "e-2"] {
        let e = json!({"id": id, "device_id": "dev-9",
            "endorsed_at": permitseal_server::http::format_time(now - 60),
            "place": {"locode": "KEMBA"}, "transport_document": "AWB 176-12345675",
            "lines": [{"block": "A", "quantity": "10"}], "qr": view["qr_text"]});
        let (status, r) = s
            .post(
                "/api/v1/endorsements",
                Some(&officer),
                json!({"endorsements": [e]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
    }
    let (_, list) = s.get("/api/v1/authorities/KE/quotas", Some(&ke)).await;
    let endorsed: Vec<&Value> = list["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["endorsed"])
        .collect();
    assert_eq!(endorsed, [&json!("0"), &json!("0"), &json!("10")], "{list}");
    s.stop().await;
}

/// T2, T3: a pre-Convention specimen was acquired before its taxon was first listed; a
/// certificate of origin is not issued by the Party that listed the taxon in Appendix III.
/// The reference taxa carry both facts (API, with bad values refused); where they are not
/// known, nothing more is checked.
async fn pre_convention_and_origin_certificates_against_the_listing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let put = |name: &'static str, body: Value| {
        let s = &s;
        async move {
            s.call(
                reqwest::Method::PUT,
                &format!("/api/v1/taxa/{name}"),
                Some(&s.admin),
                Some(body),
            )
            .await
        }
    };
    for (body, code, field) in [
        (
            json!({"kingdom": "animal", "appendices": ["I"], "listed_on": "01/07/1975"}),
            "invalid_field",
            "listed_on",
        ),
        (
            json!({"kingdom": "animal", "appendices": ["I"], "listed_on": "1970-01-01"}),
            "invalid_field",
            "1975-07-01",
        ),
        (
            json!({"kingdom": "animal", "appendices": ["I"], "listed_on": "2999-01-01"}),
            "invalid_field",
            "future",
        ),
        (
            json!({"kingdom": "animal", "appendices": ["I"], "app3_party": "GH"}),
            "invalid_field",
            "Appendix III",
        ),
        (
            json!({"kingdom": "animal", "appendices": ["III"], "app3_party": "G1"}),
            "unknown_code",
            "app3_party",
        ),
    ] {
        let (status, err) = put("Testudo testa", body.clone()).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}: {err}"
        );
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }
    let (status, t) = put(
        "Testudo testa",
        json!({"kingdom": "animal", "appendices": ["I", "II"], "listed_on": "1975-07-01"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["listed_on"], "1975-07-01", "{t}");
    put(
        "Civetta kenyensis",
        json!({"kingdom": "animal", "appendices": ["III"], "app3_party": "KE"}),
    )
    .await;
    put(
        "Civetta ghanensis",
        json!({"kingdom": "animal", "appendices": ["III"], "app3_party": "GH",
               "listed_on": "1976-02-26"}),
    )
    .await;
    let (_, list) = s.get("/api/v1/taxa", None).await;
    let ghana = list["taxa"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scientific_name"] == "Civetta ghanensis")
        .unwrap();
    assert_eq!(
        (&ghana["app3_party"], &ghana["listed_on"]),
        (&json!("GH"), &json!("1976-02-26")),
        "{list}"
    );

    let pre = |number: &str, acquired: &str| {
        let mut l = line("I", "O", "CAR", "NAR");
        l["scientific_name"] = json!("Testudo testa");
        l["acquisition_date"] = json!(acquired);
        json!({"permit": draft("pre_convention", number, "P", l)})
    };
    refused(
        &s,
        &ke,
        "KE",
        pre("KE/PC/1", "1975-07-01"),
        "acquired_after_listing",
        "first listed on 1975-07-01",
    )
    .await;
    let (status, ok) = post(&s, &ke, "KE", pre("KE/PC/2", "1975-06-30")).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");

    let origin = |number: &str, taxon: &str| {
        let mut l = line("III", "W", "SKI", "NAR");
        l["scientific_name"] = json!(taxon);
        json!({"permit": draft("certificate_of_origin", number, "T", l)})
    };
    refused(
        &s,
        &ke,
        "KE",
        origin("KE/CO/1", "Civetta kenyensis"),
        "origin_from_listing_party",
        "listed in Appendix III by KE",
    )
    .await;
    let (status, ok) = post(&s, &ke, "KE", origin("KE/CO/2", "Civetta ghanensis")).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    // A taxon with no listing Party recorded: only the appendix is checked, as before.
    put(
        "Civetta ignota",
        json!({"kingdom": "animal", "appendices": ["III"]}),
    )
    .await;
    let (status, ok) = post(&s, &ke, "KE", origin("KE/CO/3", "Civetta ignota")).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    s.stop().await;
}

/// A portal page as the signed-in `session` sees it: status and HTML.
async fn page(
    s: &TestServer,
    session: &str,
    path: &str,
    form: Option<&[(&str, &str)]>,
) -> (StatusCode, String) {
    let url = s.url(path);
    let req = match form {
        None => s.client.get(url),
        Some(fields) => s
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap()),
    };
    let resp = req
        .header("cookie", format!("ps_session={session}"))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// The CSRF token of the first form of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).unwrap() + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Q3, Q4 on the portal: the authority administrator sets a quota of one term on the quotas
/// page (a bad code comes back beside its field), the list shows scope, used and endorsed, and
/// the permit page shows box 11a.
async fn the_portal_sets_scoped_quotas_and_shows_box_11a(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let session = s
        .user_session("KE", "admin@ke.example", &["authority_admin"])
        .await;
    let (status, html) = page(&s, &session, "/a/KE/quotas", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<select id="term" name="term""#), "{html}");
    let csrf = csrf_of(&html);
    let year =
        verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now())
            .ymd()
            .0
            .to_string();
    let form = |term: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("year", year.clone()),
            ("scientific_name", "Aloe ferox".to_owned()),
            ("unit", "KIL".to_owned()),
            ("quantity", "20".to_owned()),
            ("term", term.to_owned()),
            ("source", String::new()),
            ("purpose", String::new()),
        ]
    };
    let bad = form("XYZ");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html) = page(&s, &session, "/a/KE/quotas", Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let beside = html.split(r#"id="term-error">"#).nth(1).unwrap();
    assert!(
        !beside.starts_with('<'),
        "the message is beside the field: {html}"
    );
    let good = form("EXT");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html) = page(&s, &session, "/a/KE/quotas", Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "after the redirect: {html}");
    assert!(html.contains("<td>EXT</td>"), "{html}");

    s.issue(&ke, "KE", export_draft("KE/P/1", "KE", "DE")).await;
    let (status, html) = page(&s, &session, "/a/KE/permit?number=KE%2FP%2F1", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("(11a)") && html.contains("12.5/20"), "{html}");
    s.stop().await;
}
