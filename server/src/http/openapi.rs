//! The OpenAPI 3.1 document, generated from the same [`Api`] values that build the router.
//!
//! A path is routed only through [`Api::route`], which takes the path's operations alongside its
//! handlers, so the document cannot silently miss a path; the integration tests also check each
//! documented method against the live router (documented ⇒ served, undocumented ⇒ 405).

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};
use serde_json::{Map, Value, json};

use crate::model::Role;
use crate::state::AppState;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no token.
    Public,
    /// Anyone; a token, if given, may unlock more detail.
    PublicOrToken,
    /// A token with one of these roles (scoping is described in the summary).
    Roles(&'static [Role]),
}

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    access: Access,
    request: Option<&'static str>,
    /// Whether the request body may be left out.
    request_optional: bool,
    success: u16,
    response: Option<&'static str>,
    content_type: &'static str,
    query: &'static [(&'static str, &'static str)],
}

impl Op {
    fn new(method: &'static str, summary: &'static str, access: Access) -> Self {
        Self {
            method,
            path: "",
            summary,
            access,
            request: None,
            request_optional: false,
            success: 200,
            response: None,
            content_type: "application/json",
            query: &[],
        }
    }

    /// A GET operation.
    pub fn get(summary: &'static str, access: Access) -> Self {
        Self::new("get", summary, access)
    }

    /// A POST operation.
    pub fn post(summary: &'static str, access: Access) -> Self {
        Self::new("post", summary, access)
    }

    /// A PUT operation.
    pub fn put(summary: &'static str, access: Access) -> Self {
        Self::new("put", summary, access)
    }

    /// A DELETE operation.
    pub fn delete(summary: &'static str, access: Access) -> Self {
        Self::new("delete", summary, access)
    }

    /// JSON request body of the named schema.
    pub fn body(mut self, schema: &'static str) -> Self {
        self.request = Some(schema);
        self
    }

    /// JSON request body of the named schema that may be left out (defaults apply).
    pub fn optional_body(mut self, schema: &'static str) -> Self {
        self.request = Some(schema);
        self.request_optional = true;
        self
    }

    /// Success status and the named JSON schema of its body.
    pub fn returns(mut self, status: u16, schema: &'static str) -> Self {
        self.success = status;
        self.response = Some(schema);
        self
    }

    /// Success body of another media type (described as a string).
    pub fn returns_media(mut self, content_type: &'static str) -> Self {
        self.content_type = content_type;
        self
    }

    /// Documented query parameters: (name, description).
    pub fn query(mut self, params: &'static [(&'static str, &'static str)]) -> Self {
        self.query = params;
        self
    }

    /// Method in lower case.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// Path template.
    pub fn path(&self) -> &'static str {
        self.path
    }
}

/// Routes of one or more resources, with their documentation.
pub struct Api {
    tag: &'static str,
    router: Router<AppState>,
    ops: Vec<(&'static str, Op)>,
    paths: Vec<&'static str>,
    schemas: Vec<(&'static str, Value)>,
}

impl Api {
    /// Empty; operations added later are tagged `tag`.
    pub fn new(tag: &'static str) -> Self {
        Self {
            tag,
            router: Router::new(),
            ops: Vec::new(),
            paths: Vec::new(),
            schemas: Vec::new(),
        }
    }

    /// Routes `path` to `handlers`, documented by `ops`.
    pub fn route(
        mut self,
        path: &'static str,
        handlers: MethodRouter<AppState>,
        ops: impl IntoIterator<Item = Op>,
    ) -> Self {
        self.router = self.router.route(path, handlers);
        self.paths.push(path);
        for mut op in ops {
            op.path = path;
            self.ops.push((self.tag, op));
        }
        self
    }

    /// Adds a named JSON schema to the document's components.
    pub fn schema(mut self, name: &'static str, schema: Value) -> Self {
        self.schemas.push((name, schema));
        self
    }

    /// Merges another resource's routes and documentation.
    pub fn merge(mut self, other: Api) -> Self {
        self.router = self.router.merge(other.router);
        self.ops.extend(other.ops);
        self.paths.extend(other.paths);
        self.schemas.extend(other.schemas);
        self
    }

    /// The router (documentation dropped).
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    /// Every routed path.
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }

    /// Every documented operation.
    pub fn operations(&self) -> impl Iterator<Item = &Op> {
        self.ops.iter().map(|(_, op)| op)
    }

    /// The OpenAPI document.
    pub fn document(&self) -> Value {
        let mut paths = Map::new();
        for (tag, op) in &self.ops {
            let entry = paths
                .entry(op.path.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(methods) = entry {
                methods.insert(op.method.to_owned(), operation(tag, op));
            }
        }
        let mut schemas = Map::new();
        schemas.insert("Error".to_owned(), error_schema());
        for (name, schema) in &self.schemas {
            schemas.insert((*name).to_owned(), schema.clone());
        }
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "permitseal",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Issue, revoke and verify Ed25519-signed CITES permits; sync trust and status lists to field devices; collect scans and export endorsements."
            },
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "description": "A token minted by an admin (`pst_…`)."}
                }
            }
        })
    }
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "Stable snake_case error code."},
            "message": {"type": "string"}
        }
    })
}

fn operation(tag: &str, op: &Op) -> Value {
    let mut out = Map::new();
    out.insert("tags".into(), json!([tag]));
    out.insert("summary".into(), json!(op.summary));
    out.insert(
        "operationId".into(),
        json!(format!(
            "{}{}",
            op.method,
            op.path.replace(['/', '{', '}', '-', '.'], "_")
        )),
    );
    let (security, access_note) = match op.access {
        Access::Public => (json!([]), "Public.".to_owned()),
        Access::PublicOrToken => (
            json!([{}, {"bearer": []}]),
            "Public; a token may add detail.".to_owned(),
        ),
        Access::Roles(roles) => {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            (
                json!([{"bearer": []}]),
                format!("Roles: {}.", names.join(", ")),
            )
        }
    };
    out.insert("security".into(), security);
    out.insert("description".into(), json!(access_note));
    let mut params: Vec<Value> = path_params(op.path)
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": param_schema(name)}))
        .collect();
    params.extend(op.query.iter().map(|(name, desc)| {
        // A report is always of one year; every other query parameter is optional.
        json!({"name": name, "in": "query", "required": *name == "year", "description": desc, "schema": param_schema(name)})
    }));
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(schema) = op.request {
        out.insert(
            "requestBody".into(),
            json!({"required": !op.request_optional, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
        );
    }
    let success = match (op.response, op.content_type) {
        (Some(schema), _) => json!({
            "description": "Success",
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
        }),
        (None, "application/json") => json!({"description": "Success"}),
        (None, media) => json!({
            "description": "Success",
            "content": {media: {"schema": {"type": "string"}}}
        }),
    };
    let error = json!({
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    out.insert(
        "responses".into(),
        json!({ op.success.to_string(): success, "4XX": error.clone(), "5XX": error }),
    );
    Value::Object(out)
}

/// Names of `{param}` segments of a path template.
pub fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// The schema of a path or query parameter. Parameters mean the same in every route, so the
/// name decides; each schema admits only what the handlers accept.
fn param_schema(name: &str) -> Value {
    match name {
        "authority" => json!({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]{1,15}$"}),
        "locode" => json!({"type": "string", "pattern": "^[A-Za-z]{2}[A-Za-z2-9]{3}$"}),
        "import_country" => {
            json!({"type": "string", "enum": verifier_core::codes::Country::ALL_CODES})
        }
        "after" => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
        "since" => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
        "scale" => json!({"type": "integer", "minimum": 1, "maximum": 40, "default": 8}),
        "ecc" => json!({"type": "string", "enum": ["L", "M", "Q", "H"], "default": "Q"}),
        "state" => json!({"type": "string", "enum": ["valid", "suspended", "revoked", "used"]}),
        "kind" => {
            json!({"type": "string", "enum": crate::domain::AlertKind::ALL.map(crate::domain::AlertKind::as_str)})
        }
        "year" => json!({"type": "string", "pattern": "^(197[5-9]|19[89][0-9]|[2-9][0-9]{3})$"}),
        "view" => json!({"type": "string", "enum": ["exports", "imports"], "default": "exports"}),
        "basis" => json!({"type": "string", "enum": ["trade", "permits"], "default": "trade"}),
        _ => json!({"type": "string"}),
    }
}

/// The document route.
pub fn api() -> Api {
    Api::new("service").route(
        "/api/v1/openapi.json",
        get(document),
        [Op::get("This OpenAPI document", Access::Public)],
    )
}

async fn document() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| super::api().document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], text.as_str())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn every_routed_path_is_documented_and_every_documented_path_routed() {
        let api = crate::http::api();
        let routed: BTreeSet<&str> = api.paths().iter().copied().collect();
        let documented: BTreeSet<&str> = api.operations().map(|op| op.path()).collect();
        assert_eq!(routed, documented);
        let doc = api.document();
        for path in &routed {
            assert!(
                doc["paths"][*path].is_object(),
                "{path} missing from document"
            );
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = crate::http::api().document();
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name: String = piece.chars().take_while(|c| *c != '"').collect();
            assert!(
                doc["components"]["schemas"][&name].is_object(),
                "schema {name} referenced but not defined"
            );
        }
    }
}
