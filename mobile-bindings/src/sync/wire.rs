//! The server's routes and JSON for sync: the only place that knows them.

use serde::{Deserialize, Serialize};

use crate::outbox::{Payload, StoredItem};

/// The offline bundle.
pub const BUNDLE_PATH: &str = "/v1/bundle";
/// Scan reports, in batches.
pub const SCANS_PATH: &str = "/v1/scans";
/// Export endorsements, in batches.
pub const ENDORSEMENTS_PATH: &str = "/v1/endorsements";

#[derive(Serialize)]
struct Batch<'a, T> {
    items: Vec<Item<'a, T>>,
}

#[derive(Serialize)]
struct Item<'a, T> {
    id: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Deserialize)]
struct Ack {
    accepted: Vec<String>,
}

/// The path and JSON body for a batch of items of one kind.
pub fn batch_body(batch: &[StoredItem]) -> Result<(&'static str, Vec<u8>), serde_json::Error> {
    let scans: Vec<Item<'_, _>> = batch
        .iter()
        .filter_map(|i| match &i.payload {
            Payload::Scan(s) => Some(Item { id: &i.id, body: s }),
            Payload::Endorsement(_) => None,
        })
        .collect();
    if !scans.is_empty() {
        return Ok((SCANS_PATH, serde_json::to_vec(&Batch { items: scans })?));
    }
    let endorsements: Vec<Item<'_, _>> = batch
        .iter()
        .filter_map(|i| match &i.payload {
            Payload::Endorsement(e) => Some(Item { id: &i.id, body: e }),
            Payload::Scan(_) => None,
        })
        .collect();
    Ok((
        ENDORSEMENTS_PATH,
        serde_json::to_vec(&Batch {
            items: endorsements,
        })?,
    ))
}

/// The ids of `batch` the server acknowledged; `None` when the answer is not understood.
pub fn acknowledged(body: &[u8], batch: &[StoredItem]) -> Option<Vec<String>> {
    let ack: Ack = serde_json::from_slice(body).ok()?;
    Some(
        batch
            .iter()
            .filter(|i| ack.accepted.contains(&i.id))
            .map(|i| i.id.clone())
            .collect(),
    )
}
