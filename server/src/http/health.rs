//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use utoipa_axum::routes;

use super::{Access, Api};
use crate::http::error::{ApiError, Json};
use crate::state::AppState;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("service")
        .routes(Access::Public, routes!(healthz))
        .routes(Access::Public, routes!(readyz))
        .routes(Access::Public, routes!(metrics))
}

/// What a health answer says.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// The process answers.
    Ok,
    /// The database answers too.
    Ready,
}

/// How long readiness waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Health answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    status: HealthStatus,
    /// `sqlite` or `postgres`: the database this server uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    database: Option<&'static str>,
}

/// Liveness: the process answers
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
        database: None,
    })
}

/// Readiness: the database answers
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = Health)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // A load balancer asks often and must hear "not ready" quickly, not after the pool's
    // acquire timeout.
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(answer) => answer.map_err(ApiError::unavailable)?,
        Err(_) => return Err(ApiError::unavailable("the database did not answer in time")),
    }
    Ok(Json(Health {
        status: HealthStatus::Ready,
        database: Some(state.db.backend()),
    }))
}

/// Prometheus metrics of this process
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Metrics in the Prometheus text format", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}
