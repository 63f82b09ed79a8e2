//! Reference taxa: who may change them, and issuance refusing lines that contradict a listing.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, export_draft};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    taxa_are_checked_at_issuance,
    a_checklist_imports_all_or_nothing_and_again_changes_nothing,
);

async fn taxa_are_checked_at_issuance(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let put = |token: String, name: &'static str, body: serde_json::Value| {
        let s = &s;
        async move {
            s.call(
                reqwest::Method::PUT,
                &format!("/api/v1/taxa/{name}"),
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    // Only the platform admin maintains the reference; bad codes are refused with the field.
    let (status, _) = put(
        ke.clone(),
        "Aloe ferox",
        json!({"kingdom": "plant", "appendices": ["II"]}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = put(
        s.admin.clone(),
        "Aloe ferox",
        json!({"kingdom": "plant", "appendices": ["IV"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("appendices"),
        "{body}"
    );
    let (status, _) = put(
        s.admin.clone(),
        "Aloe ferox",
        json!({"kingdom": "fungus", "appendices": ["II"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = put(
        s.admin.clone(),
        "Aloe ferox",
        json!({"kingdom": "plant", "appendices": ["II"], "common_name": "Cape aloe"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = put(
        s.admin.clone(),
        "Loxodonta africana",
        json!({"kingdom": "animal", "appendices": ["II", "I"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["appendices"], json!(["I", "II"]));
    let (_, list) = s.get("/api/v1/taxa", None).await;
    let names: Vec<&str> = list["taxa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["scientific_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Aloe ferox", "Loxodonta africana"]);

    // The export draft's line is Aloe ferox, Appendix II, plant: accepted.
    let issued = s.issue(&ke, "KE", export_draft("KE/T/1", "KE", "DE")).await;
    assert_eq!(issued["number"], "KE/T/1");
    // Appendix III for a taxon listed in II only: refused, nothing issued.
    let mut wrong = export_draft("KE/T/2", "KE", "DE");
    wrong["lines"][0]["appendix"] = json!("III");
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/permits",
            Some(&ke),
            json!({"permit": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "taxon_listing_mismatch");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Aloe ferox is listed as plant, Appendix II"),
        "{body}"
    );
    let (status, _) = s
        .get("/api/v1/authorities/KE/permits/KE-T-2", Some(&ke))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused permit leaves nothing behind"
    );
    // A split listing accepts either appendix; a taxon not in the table is not checked.
    let mut elephant = export_draft("KE/T/3", "KE", "DE");
    elephant["lines"][0] = json!({"scientific_name": "Loxodonta africana", "kingdom": "animal",
        "term": "TUS", "appendix": "II", "source": "W", "quantity": 2});
    s.issue(&ke, "KE", elephant).await;
    let mut unlisted = export_draft("KE/T/4", "KE", "DE");
    unlisted["lines"][0]["scientific_name"] = json!("Euphorbia ingens");
    s.issue(&ke, "KE", unlisted).await;
}

/// The hand-written checklists in tests/data (Species+ data may not be redistributed).
fn checklist(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// T4: a checklist CSV in the shape of a Species+ export is imported by an authority
/// administrator or the platform admin: accepted names and synonyms (listed as their accepted
/// name), listing date and Appendix-III Party; counts added/updated/unchanged; importing it
/// again changes nothing; a file with bad rows names each with its line and stores nothing;
/// a synonym is checked at issuance like its accepted name.
async fn a_checklist_imports_all_or_nothing_and_again_changes_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let import = |token: String, body: Vec<u8>| {
        let s = &s;
        async move {
            s.post_raw("/api/v1/taxa/import", Some(&token), "text/csv", body)
                .await
        }
    };
    // An issuer may not change the reference.
    let (status, _) = import(ke.clone(), checklist("checklist-small.csv")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = import(s.admin.clone(), checklist("checklist-bad.csv")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_checklist_rows", "{body}");
    let message = body["message"].as_str().unwrap();
    for part in [
        "3 bad rows",
        "line 3: Kingdom",
        "line 4: \"Civetta probata\": app3_party",
        "line 5: \"Testudo testa\" is given again (first on line 2)",
    ] {
        assert!(message.contains(part), "{part} not in {message}");
    }
    let (_, list) = s.get("/api/v1/taxa", None).await;
    assert_eq!(list["taxa"], json!([]), "nothing half-imported");
    let (status, body) = import(s.admin.clone(), b"Name;Appendix\nx;I\n".to_vec()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_checklist")),
        "{body}"
    );

    let (status, counts) = import(s.admin.clone(), checklist("checklist-small.csv")).await;
    assert_eq!(status, StatusCode::OK, "{counts}");
    assert_eq!(
        counts,
        json!({"added": 5, "updated": 0, "unchanged": 0, "skipped": 1})
    );
    let (_, list) = s.get("/api/v1/taxa", None).await;
    let by_name = |name: &str| {
        list["taxa"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["scientific_name"] == name)
            .cloned()
            .unwrap()
    };
    let synonym = by_name("Testudo vetus");
    assert_eq!(
        (
            &synonym["accepted_name"],
            &synonym["appendices"],
            &synonym["listed_on"]
        ),
        (
            &json!("Testudo testa"),
            &json!(["I", "II"]),
            &json!("1975-07-01")
        ),
        "{synonym}"
    );
    assert_eq!(by_name("Testudo testa")["common_name"], "Test tortoise");
    assert_eq!(by_name("Civetta probata")["app3_party"], "GH");
    assert_eq!(by_name("Cactus probatus")["annotation"], "#4");

    // Again: nothing changes. An authority administrator may import too.
    let admin_ke = s
        .user_session("KE", "admin@ke.example", &["authority_admin"])
        .await;
    let (status, counts) = import(admin_ke, checklist("checklist-small.csv")).await;
    assert_eq!(status, StatusCode::OK, "{counts}");
    assert_eq!(
        counts,
        json!({"added": 0, "updated": 0, "unchanged": 5, "skipped": 1})
    );
    // One changed row: one update.
    let changed = String::from_utf8(checklist("checklist-small.csv"))
        .unwrap()
        .replace("Probe civet", "Probe civet cat");
    let (_, counts) = import(s.admin.clone(), changed.into_bytes()).await;
    assert_eq!(
        counts,
        json!({"added": 0, "updated": 1, "unchanged": 4, "skipped": 1})
    );

    // A line written with the synonym meets the accepted name's listing.
    let mut wrong = export_draft("KE/S/1", "KE", "DE");
    wrong["lines"][0] = json!({"scientific_name": "Testudo vetus", "kingdom": "animal",
        "term": "LIV", "appendix": "III", "source": "W", "quantity": 1, "unit": "NAR"});
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/permits",
            Some(&ke),
            json!({"permit": wrong}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "taxon_listing_mismatch", "{body}");
    s.stop().await;
}
