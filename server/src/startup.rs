//! From configuration to a running service: master key, database, demo data, listener.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clock::Clock;
use crate::crypto::{CryptoError, MasterKey};
use crate::state::AppState;
use crate::storage::{DatabaseTarget, Db, StorageError};

/// Where `serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Name of the master key file that `--demo` creates in the data directory.
pub const DEMO_MASTER_KEY_FILE: &str = "master.key";

/// Where the master key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// A file holding base64 of 32 bytes.
    File(PathBuf),
    /// Base64 text (from `PERMITSEAL_MASTER_KEY`).
    Text(zeroize::Zeroizing<String>),
    /// Not configured: use `<data dir>/master.key` if present; with `--demo`, create it.
    Unset,
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Text(_) => f.write_str("Text(..)"),
            Self::Unset => f.write_str("Unset"),
        }
    }
}

/// Configuration of `permitseal serve`. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, the demo master key and demo tokens.
    pub data_dir: PathBuf,
    /// Database.
    pub database: DatabaseTarget,
    /// Master key.
    pub master_key: MasterKeySource,
    /// Create demo data on start.
    pub demo: bool,
    /// The verify page printed on permit documents (`<public URL>/verify` by default).
    pub verify_url: String,
    /// Where the service reads the time.
    pub clock: Clock,
    /// Mark the portal's cookies `Secure` (served over TLS, at the load balancer or here).
    pub secure_cookies: bool,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No master key configured and not in demo mode.
    #[error(
        "no master key: pass --master-key-file, set PERMITSEAL_MASTER_KEY (base64 of 32 bytes), \
         or run with --demo to generate one into the data directory"
    )]
    NoMasterKey,
    /// The master key could not be read or does not open this database's keys.
    #[error("master key: {0}")]
    Crypto(#[from] CryptoError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    /// Files or sockets.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The demo data (`--demo`) could not be made.
    #[error("demo data: {0}")]
    Demo(#[from] crate::demo::DemoError),
}

/// Notes for the operator produced while starting (printed by the binary).
#[derive(Debug, Default)]
pub struct StartNotes {
    /// Lines to print.
    pub lines: Vec<String>,
}

/// Resolves the master key. With `demo` and no key anywhere, generates one into the data dir.
pub fn load_master_key(
    source: &MasterKeySource,
    data_dir: &Path,
    demo: bool,
    notes: &mut StartNotes,
) -> Result<MasterKey, StartError> {
    match source {
        MasterKeySource::File(path) => Ok(MasterKey::from_file(path)?),
        MasterKeySource::Text(text) => Ok(MasterKey::from_base64(text)?),
        MasterKeySource::Unset => {
            let path = data_dir.join(DEMO_MASTER_KEY_FILE);
            if path.exists() {
                notes
                    .lines
                    .push(format!("using master key file {}", path.display()));
                return Ok(MasterKey::from_file(&path)?);
            }
            if !demo {
                return Err(StartError::NoMasterKey);
            }
            std::fs::create_dir_all(data_dir)?;
            let key = MasterKey::generate()?;
            key.write_new_file(&path)?;
            notes.lines.push(format!(
                "demo mode: generated a master key into {} (mode 0600); keep it, it unlocks every private key in this database",
                path.display()
            ));
            Ok(key)
        }
    }
}

/// Creates `dir` (and its parents) if missing; a directory this creates is readable by this
/// user only (0700), since it holds the database, the demo master key and demo tokens. An
/// existing directory is the operator's and is left as it is.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        // Another process created it in between: fine.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// Makes the SQLite database and its journal files readable by this user only (0600): they
/// hold permits, tokens' hashes and sealed private keys.
fn restrict_sqlite_files(db: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut name = db.as_os_str().to_owned();
        let base = name.clone();
        for suffix in ["", "-wal", "-shm"] {
            name.clone_from(&base);
            name.push(suffix);
            let path = Path::new(&name);
            if path.exists() {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

/// Opens the database, checks the master key against it, ensures a root key, and (with `demo`)
/// creates demo data.
pub async fn open_state(config: &ServeConfig) -> Result<(AppState, StartNotes), StartError> {
    let mut notes = StartNotes::default();
    if config.demo || matches!(config.database, DatabaseTarget::Sqlite(_)) {
        create_private_dir(&config.data_dir)?;
    }
    let master = load_master_key(
        &config.master_key,
        &config.data_dir,
        config.demo,
        &mut notes,
    )?;
    let db = Db::open(&config.database).await?;
    if let DatabaseTarget::Sqlite(path) = &config.database {
        restrict_sqlite_files(path)?;
    }
    db.init_deployment(&master, config.clock.now()).await?;
    let mut state =
        AppState::new(db, master, config.clock.clone()).with_verify_url(&config.verify_url);
    state.portal.secure_cookies = config.secure_cookies;
    if config.demo {
        let demo = crate::demo::ensure(&state, &config.data_dir).await?;
        notes.lines.extend(demo);
    }
    Ok((state, notes))
}

/// How the server treats connections: what a slow or idle client may hold, and how long a stop
/// waits for requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request head (request line and headers) must arrive within this time, and a kept-alive
    /// connection with no request is closed after it: a client sending half a head, or
    /// nothing, holds no connection longer.
    pub header_read_timeout: Duration,
    /// Open connections at most; a connection beyond is closed at once (and counted).
    pub max_connections: usize,
    /// After the stop signal, requests in flight get this long to finish; then the remaining
    /// connections are dropped and the database is closed.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 2048,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Serves HTTP on `listener` until `shutdown` completes, then drains in-flight requests and
/// closes the database, with the default [`ConnectionLimits`]. Tests bind port 0 and pass their
/// own shutdown future.
pub async fn launch(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    launch_with(listener, state, shutdown, ConnectionLimits::default()).await
}

/// [`launch`] with explicit connection limits.
///
/// The accept loop is hyper's own (axum's `serve` sets no header read timeout and no cap):
/// each connection is served by hyper's HTTP/1.1 connection with the header read timeout, counted against `max_connections`, and watched for a graceful stop.
pub async fn launch_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let app = crate::http::app(state.clone());
    // HTTP/1.1 only: phones, browsers over a TLS-terminating proxy and customs systems speak
    // it, and serving cleartext HTTP/2 too would mean sniffing the first bytes with no timeout
    // (an idle connection would be held forever). TLS and HTTP/2 are the load balancer's.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            state.metrics.connection_refused();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The peer's address, for throttling logins per address (`ConnectInfo`); behind a load
        // balancer it is the balancer's.
        let service = TowerToHyperService::new(tower::util::MapRequest::new(
            app.clone(),
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        ));
        let connection = graceful.watch(builder.serve_connection(
            TokioIo::new(crate::parse_errors::JsonParseErrors::new(stream)),
            service,
        ));
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection: nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "connections still open after the shutdown grace: dropped"
        );
    }
    state.db.close().await;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_debug_hides_the_master_key_and_db_password() {
        let config = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: "data".into(),
            database: DatabaseTarget::Postgres("postgres://u:topsecret@h/db".into()),
            master_key: MasterKeySource::Text(zeroize::Zeroizing::new(
                "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=".into(),
            )),
            demo: false,
            verify_url: crate::state::DEFAULT_VERIFY_URL.to_owned(),
            secure_cookies: false,
            clock: Clock::system(),
        };
        let text = format!("{config:?}");
        assert!(!text.contains("topsecret"));
        assert!(!text.contains("c2VjcmV0"));
    }

    #[test]
    fn master_key_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let mut notes = StartNotes::default();
        assert!(matches!(
            load_master_key(&MasterKeySource::Unset, dir.path(), false, &mut notes),
            Err(StartError::NoMasterKey)
        ));
        load_master_key(&MasterKeySource::Unset, dir.path(), true, &mut notes).unwrap();
        assert!(dir.path().join(DEMO_MASTER_KEY_FILE).exists());
        // Second start finds the file, also without --demo.
        load_master_key(&MasterKeySource::Unset, dir.path(), false, &mut notes).unwrap();
    }
}
