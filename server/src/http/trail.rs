//! The transparency log: the signed tree head, consistency proofs, a permit's events with
//! inclusion proofs, and the recomputation that names the first entry that does not match.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::params::PermitPath;
use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;
use crate::storage::trail::{LogReport, permit_subject};

const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("log")
        .routes(Access::Public, routes!(checkpoint))
        .routes(Access::Public, routes!(consistency))
        .routes(Access::Roles(MANAGERS), routes!(permit_events))
        .routes(Access::Roles(&[Role::Admin]), routes!(verify))
}

/// The newest signed tree head (docs/FORMAT.md §12.4)
///
/// A signed note: origin, size, root (hex) and time, an empty line, then one line per root key
/// that signed it.
#[utoipa::path(get, path = "/api/v1/log/checkpoint", responses((status = 200, description = "The signed checkpoint", content_type = "text/plain; charset=utf-8", body = String)))]
async fn checkpoint(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let head = state.db.log_head(&state.master, state.clock.now()).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        head.note,
    ))
}

/// Query of the consistency proof.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The smaller tree size (at least 1).
    pub first: u64,
    /// The larger tree size (at most the log's size).
    pub second: u64,
}

/// A consistency proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    first: u64,
    second: u64,
    /// RFC 9162 §2.1.4 proof hashes, lower-case hex.
    proof: Vec<String>,
}

/// The RFC 9162 consistency proof between two tree sizes
#[utoipa::path(get, path = "/api/v1/log/consistency", params(ConsistencyQuery), responses((status = 200, body = ConsistencyProof)))]
async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let proof = state
        .db
        .log_consistency(q.first, q.second)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_tree_sizes",
                "sizes must satisfy 0 < first ≤ second ≤ the log's size",
            )
        })?;
    Ok(Json(ConsistencyProof {
        first: q.first,
        second: q.second,
        proof: proof.iter().map(hex::encode).collect(),
    }))
}

/// One event of the log with its inclusion proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoggedEvent {
    /// Position (leaf index).
    seq: u64,
    /// Unix seconds.
    at: i64,
    /// The authority (empty for deployment-wide events).
    authority: String,
    /// Who.
    actor: String,
    /// What kind of event.
    kind: String,
    /// What it is about.
    subject: String,
    /// SHA-256 of the particulars, hex.
    digest: String,
    /// The RFC 9162 leaf hash, hex.
    leaf_hash: String,
    /// Inclusion proof in the checkpoint's tree, hex.
    proof: Vec<String>,
}

/// A permit's events with inclusion proofs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermitEvents {
    /// The signed checkpoint the proofs lead to.
    checkpoint: String,
    /// Its tree size.
    size: u64,
    /// Its root, hex.
    root: String,
    events: Vec<LoggedEvent>,
}

/// A permit's events in the transparency log, each with its inclusion proof
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}/events", params(PermitPath),
    responses((status = 200, body = PermitEvents)))]
async fn permit_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
) -> Result<Json<PermitEvents>, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    principal.require_manages(&id)?;
    let permit = state
        .db
        .permit_by_number(&id, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("permit"))?;
    let head = state.db.log_head(&state.master, state.clock.now()).await?;
    let proven = state
        .db
        .log_events(&permit_subject(id.as_str(), &permit.number), head)
        .await?;
    let mut events = Vec::with_capacity(proven.events.len());
    for (entry, proof) in proven.events {
        let leaf = entry.leaf()?;
        events.push(LoggedEvent {
            seq: leaf.seq,
            at: leaf.at,
            authority: leaf.authority.to_owned(),
            actor: leaf.actor.to_owned(),
            kind: leaf.kind.to_owned(),
            subject: leaf.subject.to_owned(),
            digest: hex::encode(leaf.digest),
            leaf_hash: hex::encode(entry.leaf_hash()?),
            proof: proof.iter().map(hex::encode).collect(),
        });
    }
    Ok(Json(PermitEvents {
        size: proven.head.checkpoint.size,
        root: hex::encode(proven.head.checkpoint.root),
        checkpoint: proven.head.note,
        events,
    }))
}

/// What recomputing the log found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogVerification {
    /// True when every entry, subtree and signed head matched and every issued permit has its
    /// issuance event.
    ok: bool,
    /// Leaves the log says it has.
    size: u64,
    /// Entries found good before the first bad one.
    checked: u64,
    /// Signed tree heads recomputed and matched.
    heads_checked: u64,
    /// The first entry that does not match.
    first_bad: Option<BadEntryView>,
    /// Subjects of issued permits without an issuance event (each raised an alert).
    unlogged_permits: Vec<String>,
}

/// The first entry that does not match.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BadEntryView {
    seq: u64,
    problem: String,
}

impl From<LogReport> for LogVerification {
    fn from(r: LogReport) -> Self {
        Self {
            ok: r.first_bad.is_none() && r.unlogged_permits.is_empty(),
            size: r.size,
            checked: r.checked,
            heads_checked: r.heads_checked,
            first_bad: r.first_bad.map(|b| BadEntryView {
                seq: b.seq,
                problem: b.problem,
            }),
            unlogged_permits: r.unlogged_permits,
        }
    }
}

/// Recomputes the transparency log from the database and names the first entry that does not match
///
/// Also raises an `unlogged_issuance` alert for each issued permit whose issuance event is
/// missing from the log.
#[utoipa::path(post, path = "/api/v1/log/verify", responses((status = 200, body = LogVerification)))]
async fn verify(State(state): State<AppState>) -> Result<Json<LogVerification>, ApiError> {
    let report = state.db.verify_log(state.clock.now(), |_, _| {}).await?;
    Ok(Json(report.into()))
}
