//! The one state shared by every handler.

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::metrics::Metrics;
use crate::storage::Db;
use crate::sync_cache::SyncCache;

/// The verify page of a server on its default address (`serve` without `--public-url`).
pub const DEFAULT_VERIFY_URL: &str = "http://127.0.0.1:8080/verify";

/// The portal's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct PortalSettings {
    /// Mark cookies `Secure` (the deployment is served over TLS).
    pub secure_cookies: bool,
}

/// Shared state: cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Seals and opens private keys.
    pub master: Arc<MasterKey>,
    /// Where every handler reads the time.
    pub clock: Clock,
    /// Request counters and latencies of this process.
    pub metrics: Arc<Metrics>,
    /// Signed lists of this process, keyed by database versions.
    pub sync_cache: Arc<SyncCache>,
    /// The deployment's verify page, printed on every permit document.
    pub verify_url: Arc<str>,
    /// The portal's settings.
    pub portal: PortalSettings,
}

impl AppState {
    /// State over an opened database, the deployment's master key and a clock.
    pub fn new(db: Db, master: MasterKey, clock: Clock) -> Self {
        let master = Arc::new(master);
        Self {
            sync_cache: Arc::new(SyncCache::new(db.clone(), master.clone())),
            db,
            master,
            clock,
            metrics: Arc::new(Metrics::default()),
            verify_url: Arc::from(DEFAULT_VERIFY_URL),
            portal: PortalSettings::default(),
        }
    }

    /// The same state printing `url` as the verify page on documents.
    pub fn with_verify_url(mut self, url: &str) -> Self {
        self.verify_url = Arc::from(url);
        self
    }
}
