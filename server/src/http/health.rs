//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use serde_json::json;

use super::{Access, Api, Op};
use crate::http::error::{ApiError, Json};
use crate::state::AppState;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("service")
        .route(
            "/healthz",
            get(healthz),
            [Op::get("Liveness: the process answers", Access::Public).returns(200, "Health")],
        )
        .route(
            "/readyz",
            get(readyz),
            [Op::get("Readiness: the database answers", Access::Public).returns(200, "Health")],
        )
        .route(
            "/metrics",
            get(metrics),
            [
                Op::get("Prometheus metrics of this process", Access::Public)
                    .returns_media("text/plain; version=0.0.4"),
            ],
        )
        .schema(
            "Health",
            json!({
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "string", "enum": ["ok", "ready"]},
                    "database": {"type": "string", "enum": ["sqlite", "postgres"]}
                }
            }),
        )
}

/// How long readiness waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Health answer.
#[derive(Debug, Serialize)]
pub struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        database: None,
    })
}

async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // A load balancer asks often and must hear "not ready" quickly, not after the pool's
    // acquire timeout.
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(answer) => answer.map_err(ApiError::unavailable)?,
        Err(_) => return Err(ApiError::unavailable("the database did not answer in time")),
    }
    Ok(Json(Health {
        status: "ready",
        database: Some(state.db.backend()),
    }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}
