//! The OpenAPI 3.1 document, derived from the code: every handler carries `#[utoipa::path]`,
//! every request and response type derives `utoipa::ToSchema` (queries `IntoParams`), and the
//! routes are registered with `utoipa_axum::routes!`, which takes a handler's path and method
//! from the same attribute the document reads.
//!
//! Who may call a route is declared once, as the [`Access`] given to [`Api::routes`]. That one
//! value writes the operation's `security` and its `x-permitseal-roles` extension into the
//! document, and becomes the route layer that enforces it ([`enforce`]): a role not listed gets
//! 403 (401 without a token) before the handler runs. Which authority a caller may act for is
//! checked in the handlers, next to the data it concerns.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr,
    ResponseBuilder, ServerBuilder,
};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::model::Role;
use crate::state::AppState;

/// Who may call an operation: declared once per route, documented and enforced from the same
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no token.
    Public,
    /// Anyone; a token, if given, may unlock more detail (a bad token is still refused).
    PublicOrToken,
    /// A token with one of these roles.
    Roles(&'static [Role]),
}

/// The schema of a binary answer (a signed list, an image, a PDF): bytes, not JSON.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// The extension that lists the roles an operation admits.
pub const ROLES_EXTENSION: &str = "x-permitseal-roles";
/// The name of the bearer security scheme.
const BEARER: &str = "bearer";

impl Access {
    fn security(self) -> Vec<SecurityRequirement> {
        match self {
            Access::Public => Vec::new(),
            Access::PublicOrToken => vec![
                SecurityRequirement::default(),
                SecurityRequirement::new(BEARER, Vec::<String>::new()),
            ],
            Access::Roles(_) => vec![SecurityRequirement::new(BEARER, Vec::<String>::new())],
        }
    }

    fn note(self) -> String {
        match self {
            Access::Public => "Public.".to_owned(),
            Access::PublicOrToken => "Public; a token may add detail.".to_owned(),
            Access::Roles(roles) => {
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                format!("Roles: {}.", names.join(", "))
            }
        }
    }

    /// Writes this access into an operation of the document.
    fn document(self, op: &mut Operation) {
        op.security = Some(self.security());
        let note = self.note();
        op.description = Some(match op.description.take() {
            Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
            _ => note,
        });
        if let Access::Roles(roles) = self {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let ext = ExtensionsBuilder::new()
                .add(ROLES_EXTENSION, serde_json::json!(names))
                .build();
            match op.extensions.as_mut() {
                Some(existing) => existing.merge(ext),
                None => op.extensions = Some(ext),
            }
        }
    }
}

/// Route layer of an operation with [`Access::Roles`]: 401 without a valid token, 403 for a
/// role not admitted. The principal is handed on to the handler, which need not look it up
/// again.
async fn enforce(
    State((state, roles)): State<(AppState, &'static [Role])>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let principal = crate::http::auth::required(&parts, &state).await?;
    principal.require(roles)?;
    parts.extensions.insert(principal);
    request = Request::from_parts(parts, body);
    Ok(next.run(request).await)
}

/// One group of routes with its access.
struct Entry {
    tag: &'static str,
    access: Access,
    routes: UtoipaMethodRouter<AppState>,
}

/// Routes of one or more resources, with their documentation and access.
pub struct Api {
    tag: &'static str,
    entries: Vec<Entry>,
}

impl Api {
    /// Empty; operations added later are tagged `tag`.
    pub fn new(tag: &'static str) -> Self {
        Self {
            tag,
            entries: Vec::new(),
        }
    }

    /// Adds the handlers of `routes!(…)` (one path), all callable as `access` says.
    pub fn routes(mut self, access: Access, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.entries.push(Entry {
            tag: self.tag,
            access,
            routes,
        });
        self
    }

    /// Merges another resource's routes.
    pub fn merge(mut self, other: Api) -> Self {
        self.entries.extend(other.entries);
        self
    }

    /// The router, each route behind the layer its access asks for.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        let mut router = OpenApiRouter::new();
        for Entry {
            access,
            routes: (schemas, paths, method_router),
            ..
        } in self.entries
        {
            let method_router = match access {
                Access::Public | Access::PublicOrToken => method_router,
                Access::Roles(roles) => method_router.route_layer(
                    axum::middleware::from_fn_with_state((state.clone(), roles), enforce),
                ),
            };
            router = router.routes((schemas, paths, method_router));
        }
        router.split_for_parts().0
    }

    /// The OpenAPI document.
    pub fn document(self) -> OpenApi {
        let mut router = OpenApiRouter::with_openapi(base());
        for Entry {
            tag,
            access,
            routes: (schemas, mut paths, method_router),
        } in self.entries
        {
            for (path, item) in paths.paths.iter_mut() {
                for (method, op) in operations(item) {
                    access.document(op);
                    op.tags = Some(vec![tag.to_owned()]);
                    op.operation_id = Some(format!(
                        "{method}{}",
                        path.replace(['/', '{', '}', '-', '.'], "_")
                    ));
                    add_error_responses(op);
                }
            }
            router = router.routes((schemas, paths, method_router));
        }
        let mut doc = router.into_openapi();
        state_input_rules(&mut doc);
        doc
    }
}

/// Free text as the server checks it (`model::text_field`, the core's draft and report
/// checks): not empty, no white space around it, no control characters (C0, DEL, C1). An
/// ECMA-262 pattern, as JSON Schema reads it.
pub const TEXT_PATTERN: &str = "^[^\\s\\u0000-\\u001F\\u007F-\\u009F](?:[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F])?$";

/// A report id as the core's report check takes it: 1 to 64 of `A-Z a-z 0-9 - _ . :`.
pub const REPORT_ID_PATTERN: &str = "^[A-Za-z0-9._:-]{1,64}$";

/// A UN/LOCODE: a country and three letters or digits 2-9 (the core's place check).
pub const LOCODE_PATTERN: &str = "^[A-Za-z]{2}[A-Za-z2-9]{3}$";

/// The string fields of request bodies whose form the server checks and the derive cannot be
/// given from a constant (its attributes take literals only): schema, fields, pattern.
const INPUT_RULES: &[(&str, &[&str], &str)] = &[
    (
        "PermitDraft",
        &["number", "security_stamp", "special_conditions"],
        TEXT_PATTERN,
    ),
    ("PartyDraft", &["name", "address"], TEXT_PATTERN),
    (
        "LineDraft",
        &[
            "scientific_name",
            "common_name",
            "description",
            "operation_number",
            "justification",
        ],
        TEXT_PATTERN,
    ),
    ("DocRefDraft", &["number"], TEXT_PATTERN),
    ("ScanWire", &["device_id", "officer", "qr"], TEXT_PATTERN),
    (
        "EndorsementWire",
        &["device_id", "officer", "transport_document", "qr"],
        TEXT_PATTERN,
    ),
    ("ConfirmationWire", &["qr"], TEXT_PATTERN),
    ("ScanWire", &["id"], REPORT_ID_PATTERN),
    ("EndorsementWire", &["id"], REPORT_ID_PATTERN),
    ("ConfirmationWire", &["id"], REPORT_ID_PATTERN),
    ("PlaceWire", &["locode"], LOCODE_PATTERN),
    (
        "CreateAuthority",
        &["name", "address", "issue_place"],
        TEXT_PATTERN,
    ),
    ("PaperSettings", &["address", "issue_place"], TEXT_PATTERN),
    ("CreateToken", &["label"], TEXT_PATTERN),
    ("StateChange", &["reason"], TEXT_PATTERN),
    ("SetQuota", &["scientific_name"], TEXT_PATTERN),
    ("TaxonDto", &["common_name"], TEXT_PATTERN),
    ("LocationDto", &["name"], TEXT_PATTERN),
];

/// Writes [`INPUT_RULES`] into the document's schemas. A field that is not a plain schema
/// there is left as it is; the foundation test names every one and fails on a missing
/// pattern.
fn state_input_rules(doc: &mut OpenApi) {
    use utoipa::openapi::schema::Schema;
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (schema, fields, pattern) in INPUT_RULES {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            continue;
        };
        for field in *fields {
            if let Some(RefOr::T(Schema::Object(property))) = object.properties.get_mut(*field) {
                property.pattern = Some((*pattern).to_owned());
            }
        }
    }
}

/// The operations of a path item, with their method names.
fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// Every failure is `{code, message}`: client errors, and the 503/500 a server under trouble
/// answers.
fn add_error_responses(op: &mut Operation) {
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Error")))
                        .build(),
                )
                .build(),
        )
    };
    op.responses
        .responses
        .entry("4XX".to_owned())
        .or_insert_with(|| error("The request was refused"));
    op.responses
        .responses
        .entry("5XX".to_owned())
        .or_insert_with(|| error("The server could not answer"));
}

/// Info, servers, the bearer scheme and the error schema.
fn base() -> OpenApi {
    use utoipa::PartialSchema as _;
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("permitseal")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Issue, revoke and verify Ed25519-signed CITES permits; sync trust and status lists to field devices; collect scans and export endorsements.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .components(Some(
            ComponentsBuilder::new()
                .schema("Error", ErrorBody::schema())
                .security_scheme(
                    BEARER,
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .description(Some("A token minted by an admin (`pst_…`)."))
                            .build(),
                    ),
                )
                .build(),
        ))
        .build()
}

/// The document route.
pub fn api() -> Api {
    Api::new("service").routes(Access::Public, routes!(document))
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json",
    responses((status = 200, description = "The document", content_type = "application/json", body = Object)))]
async fn document() -> Result<Response, ApiError> {
    static DOCUMENT: OnceLock<Result<String, String>> = OnceLock::new();
    let text = DOCUMENT
        .get_or_init(|| serde_json::to_string(&super::api().document()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text.as_str()).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::http::api().document()).unwrap()
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name: String = piece.chars().take_while(|c| *c != '"').collect();
            assert!(
                doc["components"]["schemas"][&name].is_object(),
                "schema {name} referenced but not defined"
            );
        }
    }

    /// The derive takes only literals for limits; these are the constants the checks use.
    #[test]
    fn documented_limits_are_the_checked_limits() {
        use verifier_core::permit::{MAX_LINES, MAX_NAME_LEN, MAX_NUMBER_LEN};
        let doc = document();
        let s = &doc["components"]["schemas"];
        let limits = [
            (
                &s["PermitDraft"]["properties"]["number"]["maxLength"],
                MAX_NUMBER_LEN,
            ),
            (
                &s["PermitDraft"]["properties"]["lines"]["maxItems"],
                MAX_LINES,
            ),
            (
                &s["PartyDraft"]["properties"]["name"]["maxLength"],
                MAX_NAME_LEN,
            ),
            (
                &s["LineDraft"]["properties"]["scientific_name"]["maxLength"],
                MAX_NAME_LEN,
            ),
            (
                &s["IssueBatch"]["properties"]["permits"]["maxItems"],
                crate::http::permits::MAX_BATCH,
            ),
            (
                &s["ScanBatch"]["properties"]["scans"]["maxItems"],
                verifier_core::report::MAX_REPORTS,
            ),
            (
                &s["EndorsementBatch"]["properties"]["endorsements"]["maxItems"],
                verifier_core::report::MAX_REPORTS,
            ),
            (
                &s["ConfirmationBatch"]["properties"]["confirmations"]["maxItems"],
                verifier_core::report::MAX_REPORTS,
            ),
            (
                &s["CreateAuthority"]["properties"]["address"]["maxLength"],
                crate::views::MAX_ADDRESS,
            ),
            (
                &s["ScanWire"]["properties"]["device_id"]["maxLength"],
                verifier_core::report::MAX_DEVICE_ID_LEN,
            ),
            (
                &s["EndorsementWire"]["properties"]["officer"]["maxLength"],
                verifier_core::report::MAX_OFFICER_LEN,
            ),
            (
                &s["EndorsementWire"]["properties"]["transport_document"]["maxLength"],
                verifier_core::report::MAX_TRANSPORT_DOCUMENT_LEN,
            ),
            (
                &s["ConfirmationWire"]["properties"]["qr"]["maxLength"],
                verifier_core::payload::MAX_TEXT_LEN,
            ),
            (
                &s["CreateAuthority"]["properties"]["issue_place"]["maxLength"],
                crate::views::MAX_PLACE,
            ),
        ];
        for (i, (documented, checked)) in limits.iter().enumerate() {
            assert_eq!(documented.as_u64(), Some(*checked as u64), "limit {i}");
        }
    }

    #[test]
    fn every_operation_declares_its_access_and_errors() {
        let doc = document();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(op["security"].is_array(), "{method} {path} has no security");
                assert!(op["responses"]["4XX"].is_object(), "{method} {path}");
                assert!(
                    ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                    "{method} {path}: operationId repeated"
                );
                let needs_token = op["security"] == serde_json::json!([{"bearer": []}]);
                assert_eq!(
                    needs_token,
                    op[super::ROLES_EXTENSION].is_array(),
                    "{method} {path}: roles and security disagree"
                );
            }
        }
    }
}
