//! The storage seam: one type, [`Db`], with a SQLite and a PostgreSQL implementation.
//!
//! Every query is written once with `$1`-style placeholders (SQLite accepts them too). Steps
//! that run inside a transaction are plain functions generic over the sqlx database (see
//! [`Bookkeeping`] and `field_reports::Ingest`); a `Db` method picks its pool with [`on_db!`]
//! and calls them. Times are unix seconds (`BIGINT`). Counters and versions are assigned inside
//! transactions by the database, never in process memory, so several server processes can share
//! one PostgreSQL database.
//!
//! SQLite gets one writer connection and a pool of readers: SQLite admits one writer at a time
//! anyway, and funnelling writes through one connection avoids lock-upgrade failures under load.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::crypto::CryptoError;
use crate::domain::PermitState;

pub mod annual_report;
pub mod applications;
pub mod authorities;
pub mod devices;
pub mod documents;
pub mod field_reports;
pub mod keys;
pub mod outbox;
pub mod partner_imports;
pub mod permits;
pub mod sync;
pub mod taxa;
pub mod tokens;
pub mod trail;
pub mod users;
pub mod webhooks;

/// Runs `$body` with `$pool` bound to the writer (`write`) or a reader (`read`) of the backend.
/// A `write` body is one transaction, run again while [`after_attempt`] says so (PostgreSQL
/// cancelled it to resolve a deadlock or a serialization conflict): it is an async block, so
/// its `return`s leave the attempt, it gives a `Result<_, StorageError>`, and it must not move
/// out values that a next attempt uses again.
///
/// The one macro of the storage layer, kept because it earns its place: `Db` is an enum over
/// two pool types, and the body that runs on the chosen pool has to be compiled once per pool
/// type. A function would need a closure generic over the backend, which Rust does not have
/// (the alternatives are a trait object per query or a hand-written trait impl per method).
/// The macro only chooses the pool; the SQL lives in functions.
macro_rules! on_db {
    ($db:expr, write, |$pool:ident| $body:expr) => {{
        let mut tries = 1;
        loop {
            let attempt: Result<_, $crate::storage::StorageError> = async {
                match $db {
                    $crate::storage::Db::Sqlite { write: $pool, .. } => $body,
                    $crate::storage::Db::Postgres($pool) => $body,
                }
            }
            .await;
            if let Some(done) = $crate::storage::after_attempt(attempt, &mut tries).await {
                break done;
            }
        }
    }};
    ($db:expr, read, |$pool:ident| $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite { read: $pool, .. } => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Bookkeeping that writes in several storage modules share, run inside their transaction and
/// written once for both backends: the audit trail, the trust list version, an authority's
/// status list version and its change log.
pub(crate) trait Bookkeeping {
    /// Appends an audit event that concerns nothing in particular, as the log's next leaf.
    async fn audit(&mut self, event: AuditEvent<'_>) -> Result<(), sqlx::Error> {
        self.audit_about(event, "").await
    }
    /// Appends an audit event about `subject` (e.g. [`trail::permit_subject`]) as the log's
    /// next leaf, in the caller's transaction: nothing changes without its leaf.
    async fn audit_about(
        &mut self,
        event: AuditEvent<'_>,
        subject: &str,
    ) -> Result<(), sqlx::Error>;
    /// Appends audit events, each about its subject, as the log's next leaves in order (as
    /// [`Bookkeeping::audit_about`] once each, in fewer statements).
    async fn audit_about_each(
        &mut self,
        events: &[(AuditEvent<'_>, &str)],
    ) -> Result<(), sqlx::Error>;
    /// Bumps the trust list version (and its change time).
    async fn bump_trust(&mut self, now: i64) -> Result<(), sqlx::Error>;
    /// Bumps an authority's status version (and its change time); returns the new version.
    async fn bump_status(&mut self, authority: &str, now: i64) -> Result<i64, sqlx::Error>;
    /// Records that a permit took `state` in status list `version`, for deltas; its
    /// subscribers get the event (`webhooks.rs`).
    async fn record_change(&mut self, change: StatusChange<'_>) -> Result<(), sqlx::Error>;
    /// Writes `event` of a permit into the webhook outbox, one message per subscription, in
    /// this transaction: the event is delivered if and only if the change commits.
    async fn webhook_event(&mut self, event: WebhookEvent<'_>) -> Result<(), sqlx::Error>;
}

/// An event of a permit for its webhook subscribers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebhookEvent<'a> {
    /// The permit's authority.
    pub authority: &'a str,
    /// The permit's index.
    pub index: i64,
    /// What happened.
    pub event: crate::domain::webhooks::PermitEvent,
    /// When.
    pub at: i64,
}

/// One line of the audit trail.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuditEvent<'a> {
    /// When.
    pub at: i64,
    /// Who (a token id, `server`, or the command line's name).
    pub actor: &'a str,
    /// The authority concerned, if any.
    pub authority: Option<&'a str>,
    /// What was done, e.g. `key.rotate`.
    pub action: &'a str,
    /// Its particulars.
    pub detail: &'a str,
}

/// One change of a permit's state in its authority's status list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatusChange<'a> {
    /// The authority.
    pub authority: &'a str,
    /// The status list version the change belongs to.
    pub version: i64,
    /// The permit's index.
    pub index: i64,
    /// Its new state.
    pub state: PermitState,
    /// When.
    pub at: i64,
}

// What the shared SQL needs of a backend: an executor, and the types it binds and reads.
// Rust does not imply a trait's where-clauses at its uses, so each generic storage impl states
// its own (here and on `field_reports::Ingest`); both backends meet them.
impl<DB> Bookkeeping for sqlx::Transaction<'_, DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    str: sqlx::Type<DB>,
    for<'a, 'q> &'a str: sqlx::Encode<'q, DB>,
    for<'a, 'q> &'a [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn audit_about(&mut self, e: AuditEvent<'_>, subject: &str) -> Result<(), sqlx::Error> {
        trail::LogSteps::append_leaf(self, e, subject).await
    }

    async fn audit_about_each(
        &mut self,
        events: &[(AuditEvent<'_>, &str)],
    ) -> Result<(), sqlx::Error> {
        trail::LogSteps::append_leaves(self, events).await
    }

    async fn bump_trust(&mut self, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE deployment SET trust_version = trust_version + 1, \
             trust_changed_at = CASE WHEN trust_changed_at > $1 THEN trust_changed_at ELSE $1 END \
             WHERE id = 1",
        )
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn bump_status(&mut self, authority: &str, now: i64) -> Result<i64, sqlx::Error> {
        let (version,): (i64,) = sqlx::query_as(
            "UPDATE authorities SET status_version = status_version + 1, \
             status_changed_at = CASE WHEN status_changed_at > $1 THEN status_changed_at ELSE $1 END \
             WHERE id = $2 RETURNING status_version",
        )
        .bind(now)
        .bind(authority)
        .fetch_one(&mut **self)
        .await?;
        Ok(version)
    }

    async fn record_change(&mut self, c: StatusChange<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO status_changes (authority_id, version, status_index, state, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.authority)
        .bind(c.version)
        .bind(c.index)
        .bind(c.state)
        .bind(c.at)
        .execute(&mut **self)
        .await?;
        if let Some(event) = crate::domain::webhooks::PermitEvent::of_state(c.state) {
            self.webhook_event(WebhookEvent {
                authority: c.authority,
                index: c.index,
                event,
                at: c.at,
            })
            .await?;
        }
        Ok(())
    }

    async fn webhook_event(&mut self, e: WebhookEvent<'_>) -> Result<(), sqlx::Error> {
        let WebhookEvent {
            authority,
            index,
            event,
            at,
        } = e;
        let permit: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT number, state, state_reason FROM permits \
             WHERE authority_id = $1 AND status_index = $2",
        )
        .bind(authority)
        .bind(index)
        .fetch_optional(&mut **self)
        .await?;
        let Some((number, state, reason)) = permit else {
            return Ok(());
        };
        let body = serde_json::json!({
            "type": event.as_str(),
            "timestamp": crate::clock::format_time(at),
            "data": {
                "authority_id": authority,
                "number": number,
                "status_index": index,
                "state": state,
                "state_reason": reason,
            },
        })
        .to_string();
        sqlx::query(
            "INSERT INTO webhook_outbox (id, subscription_id, seq, event, body, created_at, \
             next_attempt_at) \
             SELECT s.id || '.' || CAST(n.seq AS TEXT), s.id, n.seq, $3, $4, $5, $5 \
             FROM webhook_subscriptions s, (SELECT w.id AS sid, \
               (SELECT COALESCE(MAX(o.seq), 0) + 1 FROM webhook_outbox o \
                WHERE o.subscription_id = w.id) AS seq \
               FROM webhook_subscriptions w) n \
             WHERE n.sid = s.id AND s.authority_id = $1 AND s.status_index = $2 \
             AND s.deleted_at IS NULL",
        )
        .bind(authority)
        .bind(index)
        .bind(event.as_str())
        .bind(body)
        .bind(at)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}

/// Rows per multi-row INSERT: at most 7 × 100 parameters, far below both backends' limits.
pub(crate) const ROWS_PER_INSERT: usize = 100;

/// Appends `rows` parenthesised groups of `width` numbered parameters, comma-separated, to a
/// `VALUES` clause: `($1, $2), ($3, $4)`.
pub(crate) fn push_rows(sql: &mut String, rows: usize, width: usize) {
    use std::fmt::Write as _;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            // Writing to a String cannot fail.
            let _ = write!(
                sql,
                "{}${}",
                if c == 0 { "" } else { ", " },
                r * width + c + 1
            );
        }
        sql.push(')');
    }
}

/// How many rows a statement wrote, for code generic over the backend: sqlx's query results
/// share no trait for it.
pub(crate) trait RowsAffected {
    /// Rows inserted, updated or deleted.
    fn rows(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

/// Starts a write transaction. SQLite's default deferred transactions take the write lock only at
/// the first write, and a second process upgrading at the same time fails at once with "database
/// is locked" instead of waiting; `BEGIN IMMEDIATE` takes the lock up front and so waits for it.
pub(crate) trait BeginWrite {
    /// The driver.
    type Database: sqlx::Database;
    /// Begins a transaction that will write.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
    /// Begins a read-only transaction in which every statement sees one snapshot.
    fn begin_snapshot(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        use sqlx::Connection as _;
        let mut conn = self.acquire().await?;
        if conn.is_in_transaction() {
            // A write that failed with "disk full" made SQLite roll the transaction back by
            // itself; the driver's own rollback then failed ("no transaction is active") and
            // left its count of open transactions at one, so every later BEGIN would be refused
            // until a restart. Such a connection is dropped and the pool opens a fresh one.
            tracing::warn!("dropping a SQLite connection left inside a failed transaction");
            conn.close_on_drop();
            drop(conn);
            conn = self.acquire().await?;
        }
        sqlx::Transaction::begin(conn, Some(sqlx::SqlStr::from_static("BEGIN IMMEDIATE"))).await
    }
    async fn begin_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        // In WAL mode a read transaction keeps the snapshot of its first read.
        self.begin().await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
    async fn begin_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
    }
}

/// Most attempts of one write transaction that PostgreSQL keeps cancelling for a deadlock or a
/// serialization conflict; each one waits a little longer (with jitter) than the one before.
const WRITE_ATTEMPTS: u32 = 8;

/// What follows one attempt of a write transaction: its result, or `None` to run it again
/// after a pause, while PostgreSQL cancels it for a deadlock (40P01) or a serialization
/// failure (40001), at most [`WRITE_ATTEMPTS`] times. Both mean the transaction was rolled back
/// whole and may simply run again; the caller never sees them, unless every attempt conflicted
/// ([`StorageError::WriteConflict`], a 409 to retry). SQLite never reports either: its writes
/// take the one write lock at `BEGIN IMMEDIATE`. Every write transaction runs through it
/// (`on_db!(…, write, …)`).
pub(crate) async fn after_attempt<T>(
    result: Result<T, StorageError>,
    tries: &mut u32,
) -> Option<Result<T, StorageError>> {
    match result {
        Err(e) if e.is_transient_conflict() => {
            if *tries >= WRITE_ATTEMPTS {
                tracing::warn!(tries, error = %e, "write transaction kept conflicting");
                return Some(Err(StorageError::WriteConflict));
            }
            tracing::info!(tries, error = %e, "write transaction conflicted; running it again");
            tokio::time::sleep(retry_pause(*tries)).await;
            *tries += 1;
            None
        }
        other => Some(other),
    }
}

/// The pause before attempt `tries + 1`: 4 ms doubling up to 256 ms, plus up to as much again
/// at random, so that two transactions that deadlocked do not meet again in step.
fn retry_pause(tries: u32) -> Duration {
    let base = 4u64 << tries.min(6);
    let mut raw = [0u8; 2];
    // Without randomness the pause is only not jittered; the retry still runs.
    let jitter = match getrandom::fill(&mut raw) {
        Ok(()) => u64::from(u16::from_le_bytes(raw)) % base,
        Err(_) => 0,
    };
    Duration::from_millis(base + jitter)
}

/// ` FOR UPDATE` on PostgreSQL, to lock the rows a write transaction reads before it changes
/// them; nothing on SQLite, where a write transaction holds the database's one write lock from
/// `BEGIN IMMEDIATE` on (SQLite has no row locks, nor the syntax).
pub(crate) fn for_update<DB: sqlx::Database>() -> &'static str {
    if DB::NAME == <sqlx::Postgres as sqlx::Database>::NAME {
        " FOR UPDATE"
    } else {
        ""
    }
}

/// Below this much free space on the SQLite file system, the service reports itself not ready.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Bytes available to this process on the file system holding `dir`, where it can be told.
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let stat = rustix::fs::statvfs(dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A row with the same unique key exists already.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The row the operation needs does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The operation does not fit the current state of the data (e.g. retiring a retired key).
    #[error("{0}")]
    State(&'static str),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value this code cannot read (written by a newer version, or damaged): the
    /// operation fails rather than guess.
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// Sealing or opening a private key failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The database cannot take writes now (its disk is full); retry later.
    #[error("{0}")]
    Unavailable(String),
    /// A write was cancelled for deadlocks or serialization conflicts on every attempt
    /// ([`after_attempt`]): others are changing the same rows right now; retry.
    #[error("the data is being changed by concurrent requests; retry")]
    WriteConflict,
}

impl StorageError {
    /// True for PostgreSQL's deadlock (40P01) and serialization failure (40001): the
    /// transaction was rolled back and may run again.
    pub(crate) fn is_transient_conflict(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40001" | "40P01"))
            }
            _ => false,
        }
    }

    /// Maps a unique-constraint violation to [`StorageError::Conflict`].
    pub(crate) fn conflict_on_unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(what),
            _ => Self::Database(err),
        }
    }
}

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseTarget {
    /// Chooses the backend from an optional URL: none → SQLite file in `data_dir`;
    /// `postgres://` or `postgresql://` → PostgreSQL; `sqlite:` → that SQLite file.
    pub fn from_url(url: Option<&str>, data_dir: &Path) -> Result<Self, String> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Self::Sqlite(data_dir.join("permitseal.db"))),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Self::Postgres(u.to_owned()))
            }
            Some(u) => {
                let path = u
                    .strip_prefix("sqlite://")
                    .or_else(|| u.strip_prefix("sqlite:"))
                    .ok_or_else(|| {
                        "DATABASE_URL must start with postgres://, postgresql:// or sqlite:"
                            .to_owned()
                    })?;
                let path = path.split('?').next().unwrap_or(path);
                if path.is_empty() {
                    return Err("sqlite: URL without a file path".to_owned());
                }
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
        }
    }

    /// Short name of the backend for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&redact_url_password(url))
                .finish(),
        }
    }
}

impl std::fmt::Display for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "SQLite {}", path.display()),
            Self::Postgres(url) => write!(f, "PostgreSQL {}", redact_url_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also hides `password=`
/// query parameters.
pub fn redact_url_password(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", redacted.join("&"));
    }
    out
}

/// A handle on the database: cheap to clone (pools are shared).
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite: one writer connection, several readers.
    Sqlite {
        /// The single writer connection.
        write: SqlitePool,
        /// Read-only connections.
        read: SqlitePool,
    },
    /// PostgreSQL.
    Postgres(PgPool),
}

/// Number of SQLite reader connections.
const SQLITE_READERS: u32 = 8;
/// Maximum PostgreSQL connections per server process.
const POSTGRES_CONNECTIONS: u32 = 16;

impl Db {
    /// Opens (creating a SQLite file if needed) and migrates the database.
    pub async fn open(target: &DatabaseTarget) -> Result<Self, StorageError> {
        let db = match target {
            DatabaseTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StorageError::Database(sqlx::Error::Configuration(
                            format!("cannot create {}: {e}", dir.display()).into(),
                        ))
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // Acknowledged means committed: FULL syncs the WAL on every commit.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .connect_with(options.clone())
                    .await?;
                // Migrate before opening the readers so that they see the final schema.
                sqlx::migrate!("./migrations/sqlite").run(&write).await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(SQLITE_READERS)
                    .connect_with(options.read_only(true))
                    .await?;
                Self::Sqlite { write, read }
            }
            DatabaseTarget::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                // sqlx takes an advisory lock while migrating, so several processes starting at
                // once against one database apply each migration exactly once.
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                Self::Postgres(pool)
            }
        };
        let placed = db.backfill_log().await?;
        if placed > 0 {
            tracing::info!(events = placed, "earlier audit events appended to the log");
        }
        db.fill_name_keys().await?;
        Ok(db)
    }

    /// Short name of the backend.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Checks that the database answers and, for SQLite, that its file system has room for
    /// writes: a full disk refuses every write while reads still answer, and a load balancer
    /// must hear that.
    pub async fn ping(&self) -> Result<(), StorageError> {
        on_db!(self, read, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        if let Self::Sqlite { write, .. } = self {
            let file = write.connect_options().get_filename().to_owned();
            let dir = file.parent().unwrap_or(std::path::Path::new("."));
            if let Some(free) = free_bytes(dir)
                && free < MIN_FREE_BYTES
            {
                return Err(StorageError::Unavailable(format!(
                    "the database's disk is full ({free} bytes free)"
                )));
            }
        }
        Ok(())
    }

    /// Closes every connection (waits for checked-out connections to come back).
    pub async fn close(&self) {
        match self {
            Self::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_from_url() {
        let dir = Path::new("/data");
        assert_eq!(
            DatabaseTarget::from_url(None, dir).unwrap(),
            DatabaseTarget::Sqlite(PathBuf::from("/data/permitseal.db"))
        );
        assert_eq!(
            DatabaseTarget::from_url(Some("sqlite:///tmp/x.db?mode=rwc"), dir).unwrap(),
            DatabaseTarget::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!(matches!(
            DatabaseTarget::from_url(Some("postgresql://u@h/db"), dir).unwrap(),
            DatabaseTarget::Postgres(_)
        ));
        assert!(DatabaseTarget::from_url(Some("mysql://x"), dir).is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let t = DatabaseTarget::Postgres("postgres://app:hunter2@db:5432/ps".into());
        assert!(!format!("{t:?}").contains("hunter2"));
        assert!(!t.to_string().contains("hunter2"));
        assert_eq!(
            redact_url_password("postgres://h/db?user=a&password=hunter2"),
            "postgres://h/db?user=a&password=***"
        );
        assert_eq!(
            redact_url_password("postgres://u@h/db"),
            "postgres://u@h/db"
        );
    }
}
