//! The one state shared by every handler.

use std::sync::Arc;

use crate::crypto::MasterKey;
use crate::http::metrics::Metrics;
use crate::signed::SyncCache;
use crate::storage::Db;

/// Shared state: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Seals and opens private keys.
    pub master: Arc<MasterKey>,
    /// Request counters and latencies of this process.
    pub metrics: Arc<Metrics>,
    /// Signed lists of this process, keyed by database versions.
    pub sync: Arc<SyncCache>,
}

impl AppState {
    /// State over an opened database and the deployment's master key.
    pub fn new(db: Db, master: MasterKey) -> Self {
        Self {
            db,
            master: Arc::new(master),
            metrics: Arc::new(Metrics::default()),
            sync: Arc::new(SyncCache::default()),
        }
    }
}
