//! The application workflow against a real server on port 0, on SQLite and PostgreSQL: trader
//! registration and approval, sessions, the whole path from draft to issued permit (which
//! verifies offline and links back), refusal, withdrawal, every forbidden transition refused
//! with its documented error and no change, rule results at submission, attachments, two clerks
//! at once, and the trader's notifications delivered over SMTP.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, count_rows, enc, valid_until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verifier_core::Verdict;

on_both_backends!(
    registration_approval_and_sessions,
    the_whole_path_to_an_issued_permit,
    refusal_and_withdrawal,
    forbidden_transitions_change_nothing,
    rules_at_submission,
    attachments_by_the_right_people_only,
    two_clerks_at_once,
    notifications_reach_the_trader_by_smtp,
    unknown_stored_values_fail_closed,
);

const PASSWORD: &str = "a long enough password";

/// Creates a staff user of `authority` through the API and logs them in.
async fn staff(s: &TestServer, authority: &str, email: &str, roles: &[&str]) -> String {
    let (status, body) = s
        .post(
            &format!("/api/v1/authorities/{authority}/users"),
            Some(&s.admin),
            json!({"email": email, "password": PASSWORD, "name": email, "roles": roles}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    login(s, email).await
}

async fn login(s: &TestServer, email: &str) -> String {
    let (status, body) = s
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["csrf_token"].as_str().unwrap().len() >= 40);
    body["token"].as_str().unwrap().to_owned()
}

/// Registers a trader with `authority`, has `approver` approve them, logs them in.
async fn trader(
    s: &TestServer,
    authority: &str,
    country: &str,
    email: &str,
    approver: &str,
) -> (String, String) {
    let (status, body) = s
        .post(
            &format!("/api/v1/authorities/{authority}/registrations"),
            None,
            json!({"email": email, "password": PASSWORD, "name": "Wanjiru K.", "company": "Rift Valley Reptiles Ltd",
                   "address": "PO Box 7, Naivasha", "country": country, "phone": "+254 700 000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = s
        .post_empty(
            &format!("/api/v1/authorities/{authority}/users/{id}/approve"),
            Some(approver),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, login(s, email).await)
}

/// A wild Appendix-II reptile skin export (needs the Scientific Authority's advice).
fn python_skins(quantity: u32) -> Value {
    json!({
        "document_type": "export", "valid_until": valid_until(), "purpose": "T",
        "exporter": {"name": "Rift Valley Reptiles Ltd", "country": "KE", "address": "PO Box 7, Naivasha"},
        "importer": {"name": "Maison du Cuir SA", "country": "FR"},
        "lines": [{"scientific_name": "Python reticulatus", "kingdom": "animal", "term": "SKI",
                   "appendix": "II", "source": "W", "quantity": quantity, "unit": "NAR"}]
    })
}

/// Cape aloe extract of propagated plants (no advice needed).
fn aloe() -> Value {
    json!({
        "document_type": "export", "valid_until": valid_until(), "purpose": "T",
        "exporter": {"name": "Rift Valley Reptiles Ltd", "country": "KE"},
        "importer": {"name": "Hamburg Botanicals GmbH", "country": "DE"},
        "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                   "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"}]
    })
}

fn app_path(id: &str) -> String {
    format!("/api/v1/authorities/KE/applications/{id}")
}

async fn draft(s: &TestServer, trader: &str, permit: Value) -> Value {
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/applications",
            Some(trader),
            json!({"permit": permit}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"], "draft");
    body
}

/// Takes `action` at the application's current version.
async fn act(
    s: &TestServer,
    who: &str,
    app: &Value,
    action: &str,
    extra: Value,
) -> (StatusCode, Value) {
    let mut body = json!({"version": app["version"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let id = app["id"].as_str().unwrap();
    s.post(&format!("{}/{action}", app_path(id)), Some(who), body)
        .await
}

async fn ok(s: &TestServer, who: &str, app: &Value, action: &str, extra: Value) -> Value {
    let (status, body) = act(s, who, app, action, extra).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

async fn fetch(s: &TestServer, who: &str, app: &Value) -> Value {
    let (status, body) = s
        .get(&app_path(app["id"].as_str().unwrap()), Some(who))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// An authority KE with a signing key, its staff, and a registered trader.
struct Office {
    s: TestServer,
    issuer: String,
    clerk: String,
    clerk2: String,
    advisor: String,
    signatory: String,
    /// Holds both clerk and signatory roles.
    dual: String,
    trader: String,
    trader_id: String,
}

async fn office(backend: Backend) -> Office {
    let s = TestServer::start(backend).await;
    let issuer = s.issuing_authority("KE").await;
    let clerk = staff(&s, "KE", "clerk@kws.example", &["clerk"]).await;
    let clerk2 = staff(&s, "KE", "clerk2@kws.example", &["clerk"]).await;
    let advisor = staff(&s, "KE", "sa@kws.example", &["scientific_authority"]).await;
    let signatory = staff(&s, "KE", "sign@kws.example", &["signatory"]).await;
    let dual = staff(&s, "KE", "dual@kws.example", &["clerk", "signatory"]).await;
    let (trader_id, trader) = trader(&s, "KE", "KE", "trader@reptiles.example", &clerk).await;
    Office {
        s,
        issuer,
        clerk,
        clerk2,
        advisor,
        signatory,
        dual,
        trader,
        trader_id,
    }
}

async fn registration_approval_and_sessions(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.issuing_authority("KE").await;
    s.authority("UG", "UG").await;
    let admin_ke = staff(&s, "KE", "admin@kws.example", &["authority_admin"]).await;
    let clerk_ug = staff(&s, "UG", "clerk@uwa.example", &["clerk"]).await;

    // A trader registers with the authority of their own country only.
    let register = |email: &str, country: &str| {
        json!({"email": email, "password": PASSWORD, "name": "A. Trader", "company": "Co",
               "address": "Nairobi", "country": country})
    };
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/registrations",
            None,
            register("t@x.example", "UG"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_authority"))
    );
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/registrations",
            None,
            json!({"email": "t@x.example", "password": "short",
              "name": "A", "company": "C", "address": "A", "country": "KE"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("weak_password"))
    );
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/registrations",
            None,
            register("T@X.example", "KE"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["roles"], json!(["applicant"]));
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/registrations",
            None,
            register("t@x.example", "KE"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "one account per email");

    // Not before approval; a wrong password is the same answer as an unknown email.
    let creds = json!({"email": "t@x.example", "password": PASSWORD});
    let (status, body) = s.post("/api/v1/sessions", None, creds.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, wrong) = s
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": "t@x.example", "password": "not the password"}),
        )
        .await;
    let (status2, unknown) = s
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": "nobody@x.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, status2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong, unknown);

    // Another authority's clerk may not approve; an issuer token may not either.
    let approve = format!("/api/v1/authorities/KE/users/{id}/approve");
    let (status, body) = s.post_empty(&approve, Some(&clerk_ug)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("other_authority"))
    );
    let (status, body) = s.get("/api/v1/authorities/KE/users", Some(&admin_ke)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["users"][0]["status"], "pending",
        "pending first: {body}"
    );
    let (status, body) = s.post_empty(&approve, Some(&admin_ke)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );
    let (status, body) = s.post_empty(&approve, Some(&admin_ke)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_pending"))
    );

    let (status, session) = s.post("/api/v1/sessions", None, creds).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let token = session["token"].as_str().unwrap();
    assert!(token.starts_with("pss_"));
    let (status, me) = s.get("/api/v1/sessions/current", Some(token)).await;
    assert_eq!(
        (status, me["email"].as_str()),
        (StatusCode::OK, Some("t@x.example"))
    );
    // A trader manages no users; API tokens keep working beside sessions.
    let (status, _) = s.get("/api/v1/authorities/KE/users", Some(token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.get("/api/v1/authorities", Some(&s.admin)).await;
    assert_eq!(status, StatusCode::OK);

    // Logout ends the session in the database, so no replica accepts it.
    let (status, _) = s.delete("/api/v1/sessions/current", Some(token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.get("/api/v1/sessions/current", Some(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        count_rows(&s.state.db, "sessions").await,
        2,
        "the staff sessions remain"
    );
    s.stop().await;
}

async fn the_whole_path_to_an_issued_permit(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    let audit_before = s.audit_count().await;
    let app = draft(s, &o.trader, python_skins(40)).await;
    assert_eq!(app["rules"], json!([]), "{app}");
    assert_eq!(app["advice_required"], true);
    assert_eq!(app["applicant_id"], o.trader_id.as_str());

    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    assert_eq!(app["state"], "submitted");
    let app = ok(s, &o.clerk, &app, "review", json!({})).await;
    assert_eq!(app["state"], "under_review");
    let app = ok(
        s,
        &o.clerk,
        &app,
        "request-changes",
        json!({"comment": "Give the exporter's address in full"}),
    )
    .await;
    assert_eq!(app["state"], "changes_requested");

    // The trader answers: the draft changes (rules run again), then resubmits.
    let mut permit = python_skins(40);
    permit["exporter"]["address"] = json!("Plot 12, Moi South Lake Road, PO Box 7, Naivasha");
    let (status, app) = s
        .call(
            Method::PUT,
            &app_path(app["id"].as_str().unwrap()),
            Some(&o.trader),
            Some(json!({"version": app["version"], "permit": permit})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{app}");
    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    assert_eq!(app["state"], "resubmitted");
    let app = ok(s, &o.clerk, &app, "review", json!({})).await;

    // Wild Appendix II: no approval without advice.
    let (status, body) = act(s, &o.signatory, &app, "approve", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("advice_required"))
    );
    let app = ok(
        s,
        &o.clerk,
        &app,
        "request-advice",
        json!({"comment": "NDF for 40 skins"}),
    )
    .await;
    assert_eq!(app["state"], "advice_requested");
    let app = ok(
        s,
        &o.advisor,
        &app,
        "advice",
        json!({"opinion": "conditional", "text": "Skins of at least 2 m only"}),
    )
    .await;
    assert_eq!(app["state"], "advice_given");
    assert_eq!(
        app["advice"],
        json!({"opinion": "conditional", "text": "Skins of at least 2 m only"})
    );

    let app = ok(s, &o.signatory, &app, "approve", json!({})).await;
    assert_eq!(app["state"], "approved");
    let year =
        verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now())
            .ymd()
            .0;
    let number = format!("KE/{year}/000001");
    assert_eq!(app["permit_number"], number.as_str());
    assert_eq!(app["reviewed_by"].as_array().unwrap().len(), 1);

    let app = ok(s, &o.signatory, &app, "issue", json!({})).await;
    assert_eq!(app["state"], "issued");
    let actions: Vec<&str> = app["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "review",
            "request_changes",
            "submit",
            "review",
            "request_advice",
            "give_advice",
            "approve",
            "issue"
        ]
    );
    assert_eq!(
        app["history"][2]["comment"],
        "Give the exporter's address in full"
    );
    assert!(
        app["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("usr_"))
    );

    // The permit: issued by the existing path, linked back, and verifying offline.
    let (status, permit) = s
        .get(
            &format!("/api/v1/authorities/KE/permits/{}", enc(&number)),
            Some(&o.issuer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{permit}");
    assert_eq!(permit["application_id"], app["id"]);
    assert_eq!(
        permit["draft"]["exporter"]["address"],
        "Plot 12, Moi South Lake Road, PO Box 7, Naivasha"
    );
    let v = s.phone_verify(permit["qr_text"].as_str().unwrap()).await;
    assert_eq!(v.verdict, Verdict::Valid, "{v:?}");
    assert_eq!(v.permit.unwrap().number, number);

    // Every transition went through the audit trail; the trader was told of each.
    let audited = s.audit_count().await - audit_before;
    assert!(audited >= 11, "{audited} audit events");
    assert_eq!(count_rows(&s.state.db, "outbox").await, 9);
    // Issued is final.
    let (status, body) = act(s, &o.trader, &app, "withdraw", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("transition_not_allowed"))
    );
    o.s.stop().await;
}

async fn refusal_and_withdrawal(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    let app = draft(s, &o.trader, aloe()).await;
    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    let app = ok(s, &o.clerk, &app, "review", json!({})).await;
    let (status, body) = act(s, &o.clerk, &app, "refuse", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("comment_required"))
    );
    let app = ok(
        s,
        &o.clerk,
        &app,
        "refuse",
        json!({"comment": "The exporter holds no licence"}),
    )
    .await;
    assert_eq!(app["state"], "refused");
    for (who, action) in [
        (&o.trader, "submit"),
        (&o.clerk, "review"),
        (&o.signatory, "approve"),
        (&o.trader, "withdraw"),
    ] {
        let (status, body) = act(s, who, &app, action, json!({})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("transition_not_allowed")),
            "{action}"
        );
    }

    // Withdrawal: only by the applicant; another trader does not even see it.
    let app = draft(s, &o.trader, aloe()).await;
    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    let (_, other) = trader(s, "KE", "KE", "other@traders.example", &o.clerk).await;
    let (status, body) = act(s, &other, &app, "withdraw", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let app = ok(
        s,
        &o.trader,
        &app,
        "withdraw",
        json!({"comment": "Order cancelled"}),
    )
    .await;
    assert_eq!(app["state"], "withdrawn");
    // The trader's list holds their own; the other trader's is empty.
    let (_, mine) = s
        .get("/api/v1/authorities/KE/applications", Some(&o.trader))
        .await;
    assert_eq!(mine["applications"].as_array().unwrap().len(), 2);
    let (_, theirs) = s
        .get("/api/v1/authorities/KE/applications", Some(&other))
        .await;
    assert_eq!(theirs["applications"], json!([]));
    // Staff filter by state, taxon, trader and date, with paging.
    let (_, refused) = s
        .get(
            "/api/v1/authorities/KE/applications?state=refused",
            Some(&o.clerk),
        )
        .await;
    assert_eq!(refused["applications"].as_array().unwrap().len(), 1);
    let (_, aloes) = s
        .get(
            "/api/v1/authorities/KE/applications?taxon=Aloe%20ferox",
            Some(&o.clerk),
        )
        .await;
    assert_eq!(aloes["applications"].as_array().unwrap().len(), 2);
    let (_, pythons) = s
        .get(
            "/api/v1/authorities/KE/applications?taxon=Python%20reticulatus",
            Some(&o.clerk),
        )
        .await;
    assert_eq!(pythons["applications"], json!([]));
    let (_, by) = s
        .get(
            &format!(
                "/api/v1/authorities/KE/applications?applicant={}",
                o.trader_id
            ),
            Some(&o.clerk),
        )
        .await;
    assert_eq!(by["applications"].as_array().unwrap().len(), 2);
    let (_, future) = s
        .get(
            "/api/v1/authorities/KE/applications?from=2100-01-01T00:00:00Z",
            Some(&o.clerk),
        )
        .await;
    assert_eq!(future["applications"], json!([]));
    let (_, page) = s
        .get(
            "/api/v1/authorities/KE/applications?limit=1",
            Some(&o.clerk),
        )
        .await;
    assert_eq!(page["applications"].as_array().unwrap().len(), 1);
    let cursor = page["next_after"].as_str().unwrap();
    let (_, rest) = s
        .get(
            &format!("/api/v1/authorities/KE/applications?limit=1&after={cursor}"),
            Some(&o.clerk),
        )
        .await;
    assert_eq!(rest["applications"].as_array().unwrap().len(), 1);
    assert_ne!(rest["applications"][0]["id"], page["applications"][0]["id"]);
    let (status, body) = s
        .get(
            "/api/v1/authorities/KE/applications?state=lost",
            Some(&o.clerk),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    o.s.stop().await;
}

async fn forbidden_transitions_change_nothing(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    s.authority("UG", "UG").await;
    let clerk_ug = staff(s, "UG", "clerk@uwa.example", &["clerk"]).await;
    let app = draft(s, &o.trader, aloe()).await;
    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    let audit = s.audit_count().await;

    let refused: [(&str, &str, Value, StatusCode, &str); 7] = [
        // Wrong state.
        (
            &o.signatory,
            "issue",
            json!({}),
            StatusCode::CONFLICT,
            "transition_not_allowed",
        ),
        (
            &o.advisor,
            "advice",
            json!({"opinion": "positive", "text": "fine"}),
            StatusCode::CONFLICT,
            "transition_not_allowed",
        ),
        // Wrong role (the route's layer).
        (
            &o.trader,
            "approve",
            json!({}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &o.advisor,
            "review",
            json!({}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &o.issuer,
            "review",
            json!({}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        // Another authority.
        (
            &clerk_ug,
            "review",
            json!({}),
            StatusCode::FORBIDDEN,
            "other_authority",
        ),
        // Not the applicant (staff see it, but may not submit for the trader).
        (
            &o.clerk,
            "withdraw",
            json!({}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ];
    for (who, action, extra, status, code) in refused {
        let (got, body) = act(s, who, &app, action, extra).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{action}: {body}"
        );
    }
    // A stale version.
    let (status, body) = s
        .post(
            &format!("{}/review", app_path(app["id"].as_str().unwrap())),
            Some(&o.clerk),
            json!({"version": 1}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_conflict"))
    );
    let now = fetch(s, &o.clerk, &app).await;
    assert_eq!(
        (&now["state"], &now["version"]),
        (&app["state"], &app["version"])
    );
    assert_eq!(s.audit_count().await, audit, "nothing was recorded");

    // Same person reviewing and signing: the dual-role user reviews, then may not approve.
    let app = ok(s, &o.dual, &app, "review", json!({})).await;
    let (status, body) = act(s, &o.dual, &app, "approve", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("separation_of_duties"))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("another signatory")
    );
    let app = ok(s, &o.signatory, &app, "approve", json!({})).await;
    let (status, body) = act(s, &o.dual, &app, "issue", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("separation_of_duties"))
    );
    let now = fetch(s, &o.clerk, &app).await;
    assert_eq!(
        (now["state"].as_str(), &now["version"]),
        (Some("approved"), &app["version"])
    );
    assert_eq!(count_rows(&s.state.db, "permits").await, 0);
    // Negative advice blocks approval.
    let app2 = draft(s, &o.trader, python_skins(5)).await;
    let app2 = ok(s, &o.trader, &app2, "submit", json!({})).await;
    let app2 = ok(s, &o.clerk, &app2, "review", json!({})).await;
    let app2 = ok(s, &o.clerk, &app2, "request-advice", json!({})).await;
    let app2 = ok(
        s,
        &o.advisor,
        &app2,
        "advice",
        json!({"opinion": "negative", "text": "Population in decline"}),
    )
    .await;
    let (status, body) = act(s, &o.signatory, &app2, "approve", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("negative_advice"))
    );
    // Bad input is a 4xx with its code.
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/applications",
            Some(&o.trader),
            json!({"permit": {"number": "X", "document_type": "export"}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("number_assigned_by_authority")
        )
    );
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/applications",
            Some(&o.trader),
            json!({"permit": {"document_type": 7}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_permit"))
    );
    let (status, _) = s.get(&app_path("app_nothere"), Some(&o.clerk)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    o.s.stop().await;
}

async fn rules_at_submission(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    // The reference table lists the grey parrot in Appendix I only.
    let (status, body) = s
        .call(
            Method::PUT,
            "/api/v1/taxa/Psittacus%20erithacus",
            Some(&s.admin),
            Some(json!({"kingdom": "animal", "appendices": ["I"], "common_name": "Grey parrot"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let year =
        verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now())
            .ymd()
            .0;
    let (status, body) = s
        .call(Method::PUT, "/api/v1/authorities/KE/quotas", Some(&o.issuer),
              Some(json!({"year": year, "scientific_name": "Python reticulatus", "unit": "NAR", "quantity": 30})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let rules = |app: &Value| -> Vec<String> {
        app["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let far = verifier_core::date::Date::from_unix(
        permitseal_server::clock::Clock::system().now() + 300 * 86_400,
    )
    .to_string();
    let cases = [
        // Appendix-I export without the import permit.
        (
            json!({"lines": [{"scientific_name": "Psittacus erithacus", "kingdom": "animal", "term": "LIV",
                           "appendix": "I", "source": "C", "quantity": 2}]}),
            "import_permit_required",
        ),
        // Over the quota (30 skins a year).
        (
            json!({"lines": [{"scientific_name": "Python reticulatus", "kingdom": "animal", "term": "SKI",
                           "appendix": "II", "source": "W", "quantity": 31, "unit": "NAR"}]}),
            "quota_exceeded",
        ),
        // Validity longer than an export permit's six months.
        (json!({"valid_until": far}), "validity_too_long"),
        // A plant source for an animal.
        (
            json!({"lines": [{"scientific_name": "Python reticulatus", "kingdom": "animal", "term": "SKI",
                           "appendix": "II", "source": "A", "quantity": 3, "unit": "NAR"}]}),
            "source_not_for_kingdom",
        ),
        // The parrot is not in Appendix II.
        (
            json!({"lines": [{"scientific_name": "Psittacus erithacus", "kingdom": "animal", "term": "LIV",
                           "appendix": "II", "source": "C", "quantity": 2}]}),
            "taxon_not_in_appendix",
        ),
    ];
    for (change, rule) in cases {
        let mut permit = python_skins(10);
        for (k, v) in change.as_object().unwrap() {
            permit[k] = v.clone();
        }
        let app = draft(s, &o.trader, permit).await;
        assert_eq!(rules(&app), [rule], "{app}");
        let finding = &app["rules"][0];
        assert_eq!(finding["severity"], "error");
        assert!(!finding["message"].as_str().unwrap().is_empty());
        // Submission runs them again and records them for the clerk.
        let app = ok(s, &o.trader, &app, "submit", json!({})).await;
        assert_eq!(rules(&app), [rule]);
        assert_eq!(rules(&fetch(s, &o.clerk, &app).await), [rule]);
    }
    // A quota used up after drafting shows at submission.
    let app = draft(s, &o.trader, python_skins(20)).await;
    assert!(rules(&app).is_empty());
    let (status, body) = s
        .call(Method::PUT, "/api/v1/authorities/KE/quotas", Some(&o.issuer),
              Some(json!({"year": year, "scientific_name": "Python reticulatus", "unit": "NAR", "quantity": 10})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    assert_eq!(rules(&app), ["quota_exceeded"]);
    // Issuance applies the same rules through the issuing path: refused, nothing changes.
    let app = ok(s, &o.clerk, &app, "review", json!({})).await;
    let app = ok(s, &o.clerk, &app, "request-advice", json!({})).await;
    let app = ok(
        s,
        &o.advisor,
        &app,
        "advice",
        json!({"opinion": "positive", "text": "ok"}),
    )
    .await;
    let app = ok(s, &o.signatory, &app, "approve", json!({})).await;
    let (status, body) = act(s, &o.signatory, &app, "issue", json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quota_exceeded"))
    );
    assert_eq!(fetch(s, &o.clerk, &app).await["state"], "approved");
    assert_eq!(count_rows(&s.state.db, "permits").await, 0);
    o.s.stop().await;
}

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn attachments_by_the_right_people_only(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    s.authority("UG", "UG").await;
    let clerk_ug = staff(s, "UG", "clerk@uwa.example", &["clerk"]).await;
    let (_, other) = trader(s, "KE", "KE", "other@traders.example", &o.clerk).await;
    let app = draft(s, &o.trader, aloe()).await;
    let base = format!("{}/attachments", app_path(app["id"].as_str().unwrap()));

    let (status, att) = s
        .post_raw(
            &format!("{base}?filename=licence.pdf"),
            Some(&o.trader),
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    assert_eq!(
        (att["content_type"].as_str(), att["size"].as_i64()),
        (Some("application/pdf"), Some(PDF.len() as i64))
    );
    let (status, png) = s
        .post_raw(
            &format!("{base}?filename=photo.png"),
            Some(&o.trader),
            "image/png",
            PNG.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{png}");

    // Bytes that are not what they claim, or not a document type at all, are refused.
    for (ctype, bytes, code) in [
        ("application/pdf", PNG.to_vec(), "content_type_mismatch"),
        ("image/jpeg", PDF.to_vec(), "content_type_mismatch"),
        (
            "application/pdf",
            b"MZ\x90\0 not a pdf".to_vec(),
            "unsupported_attachment",
        ),
        ("text/plain", b"hello".to_vec(), "unsupported_attachment"),
    ] {
        let (status, body) = s
            .post_raw(
                &format!("{base}?filename=x.pdf"),
                Some(&o.trader),
                ctype,
                bytes,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(code))
        );
    }
    let big = [PDF, &vec![b' '; 5 * 1024 * 1024]].concat();
    let (status, body) = s
        .post_raw(
            &format!("{base}?filename=big.pdf"),
            Some(&o.trader),
            "application/pdf",
            big,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (status, _) = s
        .post_raw(
            &format!("{base}?filename=x.pdf"),
            Some(&other),
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .post_raw(
            &format!("{base}?filename=x.pdf"),
            Some(&o.clerk),
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let listed = fetch(s, &o.clerk, &app).await;
    assert_eq!(listed["attachments"].as_array().unwrap().len(), 2);
    let one = format!("{base}/{}", att["id"].as_str().unwrap());
    for who in [&o.trader, &o.clerk, &o.signatory, &o.advisor] {
        let (status, headers, bytes) = s.get_bytes(&one, Some(who), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/pdf");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(bytes, PDF);
    }
    for (who, status) in [
        (&other, StatusCode::NOT_FOUND),
        (&clerk_ug, StatusCode::FORBIDDEN),
        (&o.issuer, StatusCode::FORBIDDEN),
    ] {
        let (got, _, _) = s.get_bytes(&one, Some(who), None).await;
        assert_eq!(got, status);
    }
    let (status, _, _) = s.get_bytes(&one, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(count_rows(&s.state.db, "attachments").await, 2);
    // Once submitted, the documents are what the clerk reviews: no more uploads.
    let app = fetch(s, &o.trader, &app).await;
    ok(s, &o.trader, &app, "submit", json!({})).await;
    let (status, body) = s
        .post_raw(
            &format!("{base}?filename=late.pdf"),
            Some(&o.trader),
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_editable"))
    );
    o.s.stop().await;
}

async fn two_clerks_at_once(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    for _ in 0..3 {
        let app = draft(s, &o.trader, aloe()).await;
        let app = ok(s, &o.trader, &app, "submit", json!({})).await;
        let (a, b) = tokio::join!(
            act(s, &o.clerk, &app, "review", json!({})),
            act(s, &o.clerk2, &app, "review", json!({})),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{a:?} {b:?}"
        );
        let loser = if a.0 == StatusCode::CONFLICT {
            a.1
        } else {
            b.1
        };
        assert!(
            matches!(
                loser["code"].as_str(),
                Some("version_conflict" | "transition_not_allowed")
            ),
            "{loser}"
        );
        let now = fetch(s, &o.clerk, &app).await;
        let reviews = now["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "review")
            .count();
        assert_eq!(reviews, 1, "one review recorded");
        assert_eq!(
            now["version"].as_i64().unwrap(),
            app["version"].as_i64().unwrap() + 1
        );
    }
    o.s.stop().await;
}

/// A minimal SMTP server on a real socket: accepts every message and hands its DATA on.
async fn smtp_listener() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = sock.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            tx.send(data.take().unwrap()).unwrap();
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 test\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

async fn notifications_reach_the_trader_by_smtp(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    let app = draft(s, &o.trader, aloe()).await;
    let app = ok(s, &o.trader, &app, "submit", json!({})).await;
    ok(s, &o.clerk, &app, "review", json!({})).await;
    assert_eq!(count_rows(&s.state.db, "outbox").await, 2);

    let (port, mut inbox) = smtp_listener().await;
    let sender = permitseal_server::notify::SmtpSender::new(
        &format!("smtp://127.0.0.1:{port}"),
        "permits@kws.example",
    )
    .unwrap();
    let now = permitseal_server::clock::Clock::system().now();
    let sent = permitseal_server::notify::deliver_pending(&s.state.db, &sender, 10, now)
        .await
        .unwrap();
    assert_eq!(sent, 2);
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(
            tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert!(
        got.iter()
            .all(|m| m.contains("To: trader@reptiles.example")),
        "{got:?}"
    );
    assert!(got[0].contains("submitted"), "{}", got[0]);
    assert!(got[1].contains("under review"), "{}", got[1]);
    // Sent once: a second run has nothing to do.
    assert_eq!(
        permitseal_server::notify::deliver_pending(&s.state.db, &sender, 10, now)
            .await
            .unwrap(),
        0
    );

    // A mail server that is away: the message stays pending with its error.
    let app2 = draft(s, &o.trader, aloe()).await;
    ok(s, &o.trader, &app2, "submit", json!({})).await;
    let away =
        permitseal_server::notify::SmtpSender::new("smtp://127.0.0.1:1", "permits@kws.example")
            .unwrap();
    assert_eq!(
        permitseal_server::notify::deliver_pending(&s.state.db, &away, 10, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        permitseal_server::notify::deliver_pending(&s.state.db, &sender, 10, now)
            .await
            .unwrap(),
        1
    );
    o.s.stop().await;
}

/// Runs one statement behind the API (to plant what a newer version or damage would leave).
async fn exec(db: &permitseal_server::storage::Db, sql: &str, id: &str) {
    match db {
        permitseal_server::storage::Db::Sqlite { write, .. } => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .execute(write)
                .await
                .unwrap();
        }
        permitseal_server::storage::Db::Postgres(pool) => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn unknown_stored_values_fail_closed(backend: Backend) {
    let o = office(backend).await;
    let s = &o.s;
    let app = draft(s, &o.trader, aloe()).await;
    let id = app["id"].as_str().unwrap();
    exec(
        &s.state.db,
        "UPDATE applications SET state = 'escalated' WHERE id = $1",
        id,
    )
    .await;
    let (status, body) = s.get(&app_path(id), Some(&o.clerk)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal_error"))
    );
    let (status, _) = act(s, &o.trader, &app, "submit", json!({})).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "no transition from a state not known"
    );

    // A user whose stored role is unknown has no session: the login is refused, not guessed.
    exec(
        &s.state.db,
        "UPDATE users SET roles = 'superuser' WHERE id = $1",
        &o.trader_id,
    )
    .await;
    let (status, _) = s.get("/api/v1/sessions/current", Some(&o.trader)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    o.s.stop().await;
}
