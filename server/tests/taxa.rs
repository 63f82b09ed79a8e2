//! Reference taxa: who may change them, and issuance refusing lines that contradict a listing.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, export_draft};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(taxa_are_checked_at_issuance);

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
