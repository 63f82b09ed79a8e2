//! Service foundation against a real server on port 0, on SQLite and on PostgreSQL: service
//! endpoints, authentication, each role's allowed and forbidden actions on authorities, tokens
//! and keys, key rotation and compromise, and bad input answered with 4xx JSON and no change.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer};
use permitseal_server::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    service_endpoints,
    every_answer_carries_security_headers,
    openapi_matches_the_router,
    documented_input_rules_are_the_servers,
    documented_roles_are_enforced,
    authentication_is_required_and_checked,
    admin_manages_authorities_and_tokens,
    role_matrix,
    key_lifecycle,
    bad_input_changes_nothing,
    control_characters_in_paths_and_queries_are_refused,
    wrong_master_key_is_refused,
    concurrent_servers_share_one_database,
);

async fn service_endpoints(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, body) = s.get("/healthz", None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = s.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK);
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
    let (status, body) = s.get("/api/v1/trust/root-key", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["algorithm"], "Ed25519");
    assert_eq!(body["kid"].as_str().unwrap().len(), 12);

    let (status, body) = s.get("/no/such/path", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, body) = s.call(Method::PUT, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");

    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "permitseal_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("route=\"/api/v1/trust/root-key\""));
    assert!(text.contains("permitseal_http_request_duration_seconds_bucket"));
    s.stop().await;
}

/// Every answer, errors included, tells browsers not to sniff, frame or refer, and not to keep
/// what it carries; the verify page keeps its own policy and the public lists their ETag
/// caching.
async fn every_answer_carries_security_headers(backend: Backend) {
    let s = TestServer::start(backend).await;
    let get = |path: &'static str, token: Option<String>| {
        let mut req = s.client.get(s.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.unwrap() }
    };
    let header = |resp: &reqwest::Response, name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    for (path, token, status) in [
        ("/api/v1/whoami", Some(s.admin.clone()), StatusCode::OK),
        ("/api/v1/authorities", None, StatusCode::UNAUTHORIZED),
        ("/no/such/path", None, StatusCode::NOT_FOUND),
        ("/api/v1/openapi.json", None, StatusCode::OK),
    ] {
        let resp = get(path, token).await;
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&resp, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(&resp, "referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header(&resp, "cache-control"), "no-store", "{path}");
        let csp = header(&resp, "content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
    let page = get("/verify", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
    assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    let bundle = get("/api/v1/bundle", None).await;
    assert_eq!(bundle.status(), StatusCode::OK);
    assert_eq!(header(&bundle, "cache-control"), "no-cache");
    assert!(!header(&bundle, "etag").is_empty());
    assert_eq!(header(&bundle, "x-content-type-options"), "nosniff");
    s.stop().await;
}

/// Every documented operation is served, and every method that is not documented on a
/// documented path is refused with 405: the document and the router agree.
async fn openapi_matches_the_router(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, doc) = s.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{}", paths.len());
    for (path, ops) in paths {
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    if seg.contains("kid") {
                        "0000000000ff"
                    } else {
                        "ZZ"
                    }
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "delete", "patch"] {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = s.client.request(m, s.url(&concrete)).send().await.unwrap();
            let documented = ops.get(method).is_some();
            if documented {
                assert_ne!(
                    resp.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is documented but not served"
                );
            } else {
                assert_eq!(
                    resp.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented"
                );
            }
        }
    }
    s.stop().await;
}

/// The input rules the document states are the ones the server applies: every free-text field
/// of a request is non-empty, trimmed and free of control characters, report ids and UN/LOCODEs
/// have their checked form, and a delta asked from a version ahead of the list is a documented
/// 422. A value the document admits is accepted by the server's text check and one it refuses
/// is refused, so schema-driven clients and fuzzers see what the server does.
async fn documented_input_rules_are_the_servers(backend: Backend) {
    use permitseal_server::model::text_field;
    let s = TestServer::start(backend).await;
    let (status, doc) = s.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let schemas = &doc["components"]["schemas"];
    let pattern = |schema: &str, field: &str| -> regex::Regex {
        let p = schemas[schema]["properties"][field]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{field} states no pattern"));
        regex::Regex::new(p).unwrap()
    };
    let text_fields = [
        ("PermitDraft", "number"),
        ("PermitDraft", "security_stamp"),
        ("PermitDraft", "special_conditions"),
        ("PartyDraft", "name"),
        ("PartyDraft", "address"),
        ("LineDraft", "scientific_name"),
        ("LineDraft", "common_name"),
        ("LineDraft", "description"),
        ("LineDraft", "operation_number"),
        ("LineDraft", "justification"),
        ("DocRefDraft", "number"),
        ("ScanWire", "device_id"),
        ("ScanWire", "officer"),
        ("ScanWire", "qr"),
        ("EndorsementWire", "device_id"),
        ("EndorsementWire", "officer"),
        ("EndorsementWire", "transport_document"),
        ("EndorsementWire", "qr"),
        ("ConfirmationWire", "qr"),
        ("CreateAuthority", "name"),
        ("CreateAuthority", "address"),
        ("CreateAuthority", "issue_place"),
        ("CreateToken", "label"),
        ("PaperSettings", "address"),
        ("PaperSettings", "issue_place"),
        ("StateChange", "reason"),
        ("SetQuota", "scientific_name"),
        ("TaxonDto", "common_name"),
        ("LocationDto", "name"),
    ];
    let refused = [
        "", " ", " a", "a ", "a\u{0}b", "a\nb", "\t", "a\u{7f}", "a\u{85}b",
    ];
    let accepted = [
        "a",
        "Kenya Wildlife Service",
        "KE/2026/0001",
        "a b",
        "Ñandú — «x»",
    ];
    for (schema, field) in text_fields {
        let re = pattern(schema, field);
        for v in refused {
            assert!(!re.is_match(v), "{schema}.{field} admits {v:?}");
            // The server's own check (trimmed, then non-empty and without control
            // characters) refuses it or stores it trimmed; never as sent.
            assert_ne!(text_field("f", v, 500).ok().as_deref(), Some(v), "{v:?}");
        }
        for v in accepted {
            assert!(re.is_match(v), "{schema}.{field} refuses {v:?}");
            assert_eq!(text_field("f", v, 500).unwrap(), v);
        }
    }
    for schema in ["ScanWire", "EndorsementWire", "ConfirmationWire"] {
        let re = pattern(schema, "id");
        for v in ["a", "2026-12-02T05:00:00Z.phone-1_x", &"a".repeat(64)] {
            assert!(re.is_match(v), "{schema}.id refuses {v:?}");
        }
        for v in ["", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(!re.is_match(v), "{schema}.id admits {v:?}");
        }
    }
    assert!(pattern("PlaceWire", "locode").is_match("KEMBA"));
    assert!(!pattern("PlaceWire", "locode").is_match("KEMB1"));

    // A report id outside the documented form is refused by the upload.
    s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let scan = |id: &str| {
        json!({"scans": [{"id": id, "device_id": "phone-1",
            "scanned_at": "2026-01-01T00:00:00Z", "place": {"locode": "KEMBA"},
            "verdict": "invalid", "qr": "PS1:x"}]})
    };
    let (status, body) = s.post("/api/v1/scans", Some(&officer), scan("a b")).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(!pattern("ScanWire", "id").is_match("a b"));

    // A delta from a version the list has not reached: the documented 422.
    let documented = &doc["paths"]["/api/v1/authorities/{authority}/status"]["get"]["responses"];
    assert!(documented["422"].is_object(), "{documented}");
    let (status, body) = s
        .get("/api/v1/authorities/KE/status?since=1000000", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("version_ahead")),
        "{body}"
    );
    s.stop().await;
}

/// For every operation of the document and every role its `x-permitseal-roles` does not
/// admit, a real request gets 403, and without a token 401: the roles the document states are
/// the roles the server enforces, for every route, including routes added later.
async fn documented_roles_are_enforced(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.authority("KE", "KE").await;
    let mut tokens = vec![
        (Role::Admin, s.admin.clone()),
        (Role::Issuer, s.token("issuer", Some("KE"), None).await),
        (Role::Officer, s.token("officer", None, Some("KE")).await),
        (
            Role::Importer,
            s.direct_token(Role::Importer, None, Some("DE")).await,
        ),
        (Role::Customs, s.token("customs", None, Some("KE")).await),
    ];
    // A session of a user holding only that role, for each role of the application workflow.
    for role in Role::USER_ROLES {
        let email = format!("{role}@roles.example");
        let password = "a password long enough";
        let (status, body) = s
            .post(
                "/api/v1/authorities/KE/users",
                Some(&s.admin),
                json!({"email": email, "password": password, "name": role.as_str(), "roles": [role]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = s
            .post(
                "/api/v1/sessions",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tokens.push((role, body["token"].as_str().unwrap().to_owned()));
    }
    let (status, doc) = s.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{authority}", "KE")
            .replace("{kid}", "0000000000ff")
            .replace("{locode}", "KEMBA")
            .replace(['{', '}'], "");
        for (method, op) in ops.as_object().unwrap() {
            let Some(admitted) = op["x-permitseal-roles"].as_array() else {
                // Public, or public with optional detail for a token: nothing to refuse.
                assert_ne!(op["security"], json!([{"bearer": []}]), "{method} {path}");
                continue;
            };
            let admitted: Vec<&str> = admitted.iter().map(|r| r.as_str().unwrap()).collect();
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = s.call(m.clone(), &concrete, None, Some(json!({}))).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} without a token: {body}"
            );
            for (role, token) in &tokens {
                if admitted.contains(&role.as_str()) {
                    continue;
                }
                let (status, body) = s
                    .call(m.clone(), &concrete, Some(token), Some(json!({})))
                    .await;
                assert_eq!(
                    (status, body["code"].as_str()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{method} {path} as {role:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "only {checked} refusals checked");
    s.stop().await;
}

async fn authentication_is_required_and_checked(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (status, body) = s.get("/api/v1/authorities", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let resp = s.client.get(s.url("/api/v1/whoami")).send().await.unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");

    let (status, _) = s.get("/api/v1/whoami", Some("pst_not-a-real-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let resp = s
        .client
        .get(s.url("/api/v1/whoami"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let long = format!("pst_{}", "a".repeat(5000));
    let (status, _) = s.get("/api/v1/whoami", Some(&long)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A revoked token stops working at once.
    let officer = s.token("officer", None, Some("KE")).await;
    let (status, me) = s.get("/api/v1/whoami", Some(&officer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "officer");
    let id = me["token_id"].as_str().unwrap().to_owned();
    let (status, body) = s
        .delete(&format!("/api/v1/tokens/{id}"), Some(&s.admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["revoked_at"].is_string());
    let (status, _) = s.get("/api/v1/whoami", Some(&officer)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

async fn admin_manages_authorities_and_tokens(backend: Backend) {
    let s = TestServer::start(backend).await;
    let admin = Some(s.admin.as_str());
    // Id defaults to the country code, upper-cased.
    let (status, body) = s
        .post(
            "/api/v1/authorities",
            admin,
            json!({"country": "ke", "name": "Kenya MA"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], "KE");
    assert_eq!(body["country"], "KE");
    assert_eq!(body["status_version"], 0);
    let (status, body) = s
        .post(
            "/api/v1/authorities",
            admin,
            json!({"country": "KE", "name": "Again"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (status, _) = s
        .post(
            "/api/v1/authorities",
            admin,
            json!({"id": "KE-2", "country": "KE", "name": "Kenya Forest Service"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, list) = s.get("/api/v1/authorities", admin).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["authorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["KE", "KE-2"]);

    // Tokens: scope must fit the role; the secret is shown once and never listed.
    let (status, created) = s
        .post(
            "/api/v1/tokens",
            admin,
            json!({"role": "issuer", "authority_id": "KE", "label": "Jane at KE"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap();
    assert!(secret.starts_with("pst_"));
    let (_, list) = s.get("/api/v1/tokens", admin).await;
    assert!(!list.to_string().contains(secret));
    assert!(
        list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none())
    );
    let (_, me) = s.get("/api/v1/whoami", Some(secret)).await;
    assert_eq!(me["role"], "issuer");
    assert_eq!(me["authority_id"], "KE");

    for (body, code) in [
        (json!({"role": "issuer", "label": "x"}), "invalid_scope"),
        (json!({"role": "officer", "label": "x"}), "invalid_scope"),
        (
            json!({"role": "admin", "country": "KE", "label": "x"}),
            "invalid_scope",
        ),
        (json!({"role": "root", "label": "x"}), "unknown_role"),
        (
            json!({"role": "importer", "country": "K1", "label": "x"}),
            "invalid_country",
        ),
        (
            json!({"role": "officer", "country": "KE", "label": "  "}),
            "invalid_field",
        ),
    ] {
        let (status, err) = s.post("/api/v1/tokens", admin, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {err}");
        assert_eq!(err["code"], code, "{body}");
    }
    let (status, _) = s
        .post(
            "/api/v1/tokens",
            admin,
            json!({"role": "issuer", "authority_id": "ZZ", "label": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.delete("/api/v1/tokens/tok_doesnotexist", admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An admin cannot lock itself out by revoking its own token.
    let (_, me) = s.get("/api/v1/whoami", admin).await;
    let own = me["token_id"].as_str().unwrap();
    let (status, _) = s.delete(&format!("/api/v1/tokens/{own}"), admin).await;
    assert_eq!(status, StatusCode::CONFLICT);
    s.stop().await;
}

/// Who may do what so far. Each row: method, path, body, and the expected status per caller.
async fn role_matrix(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.authority("KE", "KE").await;
    s.authority("DE", "DE").await;
    let issuer_ke = s.token("issuer", Some("KE"), None).await;
    let issuer_de = s.token("issuer", Some("DE"), None).await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer = s.direct_token(Role::Importer, None, Some("DE")).await;
    let admin = s.admin.clone();
    let callers: [(&str, Option<&str>); 6] = [
        ("admin", Some(&admin)),
        ("issuer KE", Some(&issuer_ke)),
        ("issuer DE", Some(&issuer_de)),
        ("officer", Some(&officer)),
        ("importer", Some(&importer)),
        ("anonymous", None),
    ];
    const OK: u16 = 200;
    const CREATED: u16 = 201;
    const UNAUTH: u16 = 401;
    const FORBID: u16 = 403;
    let new_authority = |i: usize| json!({"id": format!("N{i}"), "country": "FR", "name": "n"});
    // (method, path, body builder, expected per caller in the order above)
    type Row<'a> = (Method, &'a str, Option<Value>, [u16; 6]);
    let rows: Vec<Row> = vec![
        (
            Method::GET,
            "/api/v1/authorities",
            None,
            [OK, FORBID, FORBID, FORBID, FORBID, UNAUTH],
        ),
        (
            Method::GET,
            "/api/v1/authorities/KE",
            None,
            [OK, OK, FORBID, FORBID, FORBID, UNAUTH],
        ),
        (
            Method::GET,
            "/api/v1/tokens",
            None,
            [OK, FORBID, FORBID, FORBID, FORBID, UNAUTH],
        ),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"role": "officer", "country": "KE", "label": "d"})),
            [CREATED, FORBID, FORBID, FORBID, FORBID, UNAUTH],
        ),
        (
            Method::GET,
            "/api/v1/authorities/KE/keys",
            None,
            [OK, OK, FORBID, FORBID, FORBID, UNAUTH],
        ),
        (
            Method::GET,
            "/api/v1/whoami",
            None,
            [OK, OK, OK, OK, OK, UNAUTH],
        ),
        (
            Method::GET,
            "/api/v1/trust/root-key",
            None,
            [OK, OK, OK, OK, OK, OK],
        ),
    ];
    for (method, path, body, expected) in rows {
        for ((who, token), want) in callers.iter().zip(expected) {
            let (status, resp) = s.call(method.clone(), path, *token, body.clone()).await;
            assert_eq!(status.as_u16(), want, "{who}: {method} {path} → {resp}");
        }
    }
    // Creating authorities: only the admin; a refused attempt leaves nothing behind.
    for (i, (who, token)) in callers.iter().enumerate() {
        let (status, _) = s
            .post("/api/v1/authorities", *token, new_authority(i))
            .await;
        let want = if *who == "admin" {
            CREATED
        } else if token.is_some() {
            FORBID
        } else {
            UNAUTH
        };
        assert_eq!(status.as_u16(), want, "{who} creating an authority");
    }
    let (_, list) = s.get("/api/v1/authorities", Some(&admin)).await;
    assert_eq!(list["authorities"].as_array().unwrap().len(), 3);

    // Keys: only the admin or the authority's own issuer may generate; others change nothing.
    for (who, token) in &callers[2..] {
        let (status, _) = s.post_empty("/api/v1/authorities/KE/keys", *token).await;
        let want = if token.is_some() { FORBID } else { UNAUTH };
        assert_eq!(status.as_u16(), want, "{who} generating a KE key");
    }
    let (_, keys) = s.get("/api/v1/authorities/KE/keys", Some(&admin)).await;
    assert!(keys["keys"].as_array().unwrap().is_empty());
    let (status, key) = s
        .post_empty("/api/v1/authorities/KE/keys", Some(&issuer_ke))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let kid = key["kid"].as_str().unwrap();
    for (who, token) in &callers[2..] {
        for action in [
            "rotate".to_owned(),
            format!("{kid}/retire"),
            format!("{kid}/compromise"),
        ] {
            let path = format!("/api/v1/authorities/KE/keys/{action}");
            let (status, _) = s.post_empty(&path, *token).await;
            let want = if token.is_some() { FORBID } else { UNAUTH };
            assert_eq!(status.as_u16(), want, "{who}: {path}");
        }
    }
    let (_, keys) = s.get("/api/v1/authorities/KE/keys", Some(&issuer_ke)).await;
    assert_eq!(keys["keys"][0]["status"], "active");
    // An issuer of one authority cannot reach another's keys even by naming them.
    let (status, _) = s
        .post_empty(
            &format!("/api/v1/authorities/DE/keys/{kid}/retire"),
            Some(&issuer_de),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

async fn key_lifecycle(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.authority("KE", "KE").await;
    let issuer = s.token("issuer", Some("KE"), None).await;
    let me = Some(issuer.as_str());
    let base = "/api/v1/authorities/KE/keys";
    let v0 = s.state.db.trust_version().await.unwrap();

    let (status, first) = s.post_empty(base, me).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["status"], "active");
    assert_eq!(first["algorithm"], "Ed25519");
    assert!(first["valid_until"].is_null());
    let first_kid = first["kid"].as_str().unwrap().to_owned();
    // No private material in any answer.
    for field in ["seed", "private_key", "sealed_seed", "secret"] {
        assert!(first.get(field).is_none());
    }
    let (status, err) = s.post_empty(base, me).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("active_key_exists"))
    );

    // Rotation: the old key is retired with valid_until = rotation time and stays listed.
    let (status, rotation) = s.post_empty(&format!("{base}/rotate"), me).await;
    assert_eq!(status, StatusCode::OK, "{rotation}");
    assert_eq!(rotation["retired"]["kid"], first_kid.as_str());
    assert_eq!(rotation["retired"]["status"], "retired");
    assert!(rotation["retired"]["valid_until"].is_string());
    assert_eq!(rotation["active"]["status"], "active");
    let second_kid = rotation["active"]["kid"].as_str().unwrap().to_owned();
    assert_ne!(first_kid, second_kid);
    let (_, keys) = s.get(base, me).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);

    // Only the active key can be retired; then there is nothing to rotate.
    let (status, err) = s
        .post_empty(&format!("{base}/{first_kid}/retire"), me)
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    let (status, retired) = s
        .post_empty(&format!("{base}/{second_kid}/retire"), me)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(retired["status"], "retired");
    let (status, _) = s.post_empty(&format!("{base}/rotate"), me).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, third) = s.post_empty(base, me).await;
    assert_eq!(status, StatusCode::CREATED);
    let third_kid = third["kid"].as_str().unwrap().to_owned();

    // Compromise: a past `since` on a retired key; defaults to now on the active key, which then
    // stops signing. Marking again can only move `since` earlier.
    let (status, c) = s
        .post(
            &format!("{base}/{first_kid}/compromise"),
            me,
            json!({"since": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "compromised");
    assert_eq!(c["compromised_since"], "2026-01-01T00:00:00Z");
    let (_, c) = s
        .post(
            &format!("{base}/{first_kid}/compromise"),
            me,
            json!({"since": "2026-06-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(c["compromised_since"], "2026-01-01T00:00:00Z");
    let (status, c) = s
        .post_empty(&format!("{base}/{third_kid}/compromise"), me)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["status"], "compromised");
    assert!(c["valid_until"].is_string());
    assert!(
        s.state
            .db
            .active_signer(
                &permitseal_server::model::AuthorityId::parse("KE").unwrap(),
                &s.state.master
            )
            .await
            .is_err()
    );

    // Bad compromise requests.
    let (status, err) = s
        .post(
            &format!("{base}/{second_kid}/compromise"),
            me,
            json!({"since": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_time"))
    );
    let (status, _) = s
        .post(
            &format!("{base}/{second_kid}/compromise"),
            me,
            json!({"since": "yesterday"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = s
        .post_empty(&format!("{base}/0000000000ff/compromise"), me)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .post_empty(&format!("{base}/not-a-kid/compromise"), me)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every key change moved the trust list version, in the database.
    let v1 = s.state.db.trust_version().await.unwrap();
    assert_eq!(
        v1 - v0,
        7,
        "generate, rotate, retire, generate, compromise ×3"
    );

    s.stop().await;
}

/// A NUL or another control character in a path segment or a query parameter is a 400 with a
/// JSON error on both databases (PostgreSQL cannot store a NUL: it used to be a 500 there).
async fn control_characters_in_paths_and_queries_are_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.authority("KE", "KE").await;
    let issuer = s.token("issuer", Some("KE"), None).await;
    for (method, path) in [
        (Method::GET, "/api/v1/authorities/KE%00/permits"),
        (Method::GET, "/api/v1/authorities/KE/permits/KE%2F1%00"),
        (
            Method::GET,
            "/api/v1/authorities/KE/permits/KE-1/document.pdf?lang=e%00n",
        ),
        (Method::POST, "/api/v1/authorities/KE/permits/KE%1B1/revoke"),
        (Method::GET, "/api/v1/authorities/KE/permits?state=valid%7F"),
    ] {
        let (status, body) = s.call(method, path, Some(&issuer), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["code"], "control_character", "{path}");
    }
    // Ordinary encoded characters still pass: a slash inside a permit number.
    let (status, body) = s
        .get("/api/v1/authorities/KE/permits/KE%2F1", Some(&issuer))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{body}"
    );
    s.stop().await;
}

async fn bad_input_changes_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.authority("KE", "KE").await;
    let issuer = s.token("issuer", Some("KE"), None).await;
    let admin = Some(s.admin.as_str());
    let audit_before = s.audit_count().await;
    let tokens_before = common::count_rows(&s.state.db, "tokens").await;

    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "/api/v1/authorities",
            "application/json",
            b"{\"country\": \"DE\",".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            b"not json at all".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            b"[1,2,3]".to_vec(),
            422,
            "invalid_body",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            br#"{"country": "DE"}"#.to_vec(),
            422,
            "invalid_body",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            br#"{"country": "DE", "name": "x", "extra": 1}"#.to_vec(),
            422,
            "invalid_body",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            br#"{"country": "DEU", "name": "x"}"#.to_vec(),
            422,
            "invalid_country",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            br#"{"country": "DE", "name": "x", "id": "../etc"}"#.to_vec(),
            422,
            "invalid_authority_id",
        ),
        (
            "/api/v1/authorities",
            "application/json",
            br#"{"country": 12, "name": "x"}"#.to_vec(),
            422,
            "invalid_body",
        ),
        (
            "/api/v1/authorities",
            "text/plain",
            br#"{"country": "DE", "name": "x"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "/api/v1/tokens",
            "application/json",
            br#"{"role": "wizard", "label": "x"}"#.to_vec(),
            422,
            "unknown_role",
        ),
        (
            "/api/v1/tokens",
            "application/json",
            vec![0xff, 0xfe, 0x00],
            400,
            "malformed_json",
        ),
        (
            "/api/v1/authorities/KE/keys/000000000000/compromise",
            "application/json",
            b"{\"since\":".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/api/v1/authorities/KE/keys/000000000000/compromise",
            "application/json",
            br#"{"when": "now"}"#.to_vec(),
            422,
            "invalid_body",
        ),
    ];
    for (path, ctype, body, want, code) in cases {
        let token = if path.contains("/keys/") {
            Some(issuer.as_str())
        } else {
            admin
        };
        let (status, err) = s.post_raw(path, token, ctype, body.clone()).await;
        assert_eq!(
            status.as_u16(),
            want,
            "{path} {} → {err}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            err["code"],
            code,
            "{path} {}",
            String::from_utf8_lossy(&body)
        );
    }

    // Oversize body: 413 JSON, whether or not the sender declares the length.
    let big = format!(
        r#"{{"country": "DE", "name": "{}"}}"#,
        "x".repeat(300 * 1024)
    );
    let (status, err) = s
        .post_raw(
            "/api/v1/authorities",
            admin,
            "application/json",
            big.clone().into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["code"], "payload_too_large");
    let (status, err) = chunked_post(&s, "/api/v1/authorities", big.as_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(err["code"], "payload_too_large");

    // Bad path segments.
    let (status, _) = s.get("/api/v1/authorities/%00%01", admin).await;
    assert!(status.is_client_error());
    let (status, _) = s.get("/api/v1/authorities/a", admin).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing changed.
    assert_eq!(s.audit_count().await, audit_before);
    assert_eq!(
        common::count_rows(&s.state.db, "tokens").await,
        tokens_before
    );
    let (_, list) = s.get("/api/v1/authorities", admin).await;
    assert_eq!(list["authorities"].as_array().unwrap().len(), 1);
    assert_eq!(common::count_rows(&s.state.db, "signing_keys").await, 0);
    s.stop().await;
}

/// Posts `body` with chunked transfer encoding (no Content-Length), so the server must enforce
/// its limit while reading. Returns the status and the JSON body.
async fn chunked_post(s: &TestServer, path: &str, body: &[u8]) -> (u16, Value) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.admin
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if conn.write_all(&framed).await.is_err() {
            break; // the server may answer and close before reading everything
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body_start = text.find("\r\n\r\n").unwrap() + 4;
    let mut body_text = &text[body_start..];
    if text[..body_start]
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // One chunk: "<len>\r\n<json>\r\n0\r\n\r\n".
        body_text = body_text.split_once("\r\n").unwrap().1;
        body_text = body_text
            .rsplit_once("\r\n0\r\n")
            .map_or(body_text, |(b, _)| b);
    }
    (status, serde_json::from_str(body_text.trim()).unwrap())
}

async fn wrong_master_key_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let db = s.stop().await;
    let config = permitseal_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: db.dir.path().to_owned(),
        database: db.target.clone(),
        master_key: permitseal_server::startup::MasterKeySource::Text(zeroize::Zeroizing::new(
            base64_of(&[7u8; 32]),
        )),
        demo: false,
        verify_url: permitseal_server::state::DEFAULT_VERIFY_URL.to_owned(),
        secure_cookies: false,
        clock: permitseal_server::clock::Clock::system(),
    };
    let err = permitseal_server::open_state(&config).await.unwrap_err();
    assert!(err.to_string().contains("master key"), "{err}");
    // The right key still works.
    let again = TestServer::start_on(backend, db).await;
    let (status, _) = again.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK);
    again.stop().await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Two server processes' worth of state on one database: version counters and the one-active-key
/// rule hold because the database assigns them.
async fn concurrent_servers_share_one_database(backend: Backend) {
    let a = TestServer::start(backend).await;
    a.authority("KE", "KE").await;
    let config = permitseal_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: a.db.dir.path().to_owned(),
        database: a.db.target.clone(),
        master_key: permitseal_server::startup::MasterKeySource::Text(zeroize::Zeroizing::new(
            common::master_key_text(),
        )),
        demo: false,
        verify_url: permitseal_server::state::DEFAULT_VERIFY_URL.to_owned(),
        secure_cookies: false,
        clock: permitseal_server::clock::Clock::system(),
    };
    let (b_state, _) = permitseal_server::open_state(&config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let b_task = tokio::spawn(permitseal_server::launch(listener, b_state, async move {
        let _ = rx.await;
    }));
    let issuer = a.token("issuer", Some("KE"), None).await;
    let v0 = a.state.db.trust_version().await.unwrap();
    // Both servers race to generate KE's first key, several times each.
    let mut handles = Vec::new();
    for i in 0..8 {
        let client = a.client.clone();
        let url = if i % 2 == 0 {
            a.url("/api/v1/authorities/KE/keys")
        } else {
            format!("http://{b_addr}/api/v1/authorities/KE/keys")
        };
        let issuer = issuer.clone();
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(issuer)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    for h in handles {
        match h.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(a.state.db.trust_version().await.unwrap(), v0 + 1);
    let _ = tx.send(());
    b_task.await.unwrap().unwrap();
    a.stop().await;
}
