//! The transparency log's storage: appending a leaf inside the audited transaction, tree heads,
//! proofs from stored subtrees, and the full recomputation that names the first bad entry.
//!
//! Appending first increments the one `log_state` row, which makes appenders wait for each
//! other (a row lock held to commit on PostgreSQL, the single writer on SQLite), so positions
//! are dense and in commit order; the primary keys of `log_nodes` and the unique index on
//! `audit_events.seq` refuse a second leaf at one index whatever happens.

use std::collections::HashMap;

use verifier_core::keys::SecretKey;
use verifier_core::log::{Checkpoint, Hash, Leaf, digest, node_hash};

use super::{AuditEvent, BeginWrite as _, Db, ROWS_PER_INSERT, StorageError, on_db, push_rows};
use crate::crypto::MasterKey;
use crate::domain::trail::{self, MissingNode, Planner};

/// Rows read per query while recomputing the log.
const VERIFY_CHUNK: i64 = 5_000;

/// The subject of a permit's events: `permit/<authority>/<number>`.
pub fn permit_subject(authority: &str, number: &str) -> String {
    format!("permit/{authority}/{number}")
}

/// A signed tree head as stored and served.
#[derive(Debug, Clone)]
pub struct SignedHead {
    /// What it says.
    pub checkpoint: Checkpoint,
    /// The signed note (docs/FORMAT.md §12.4).
    pub note: String,
}

/// One event of the log with its position.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogEntry {
    /// Position in the log.
    pub seq: i64,
    /// When.
    pub at: i64,
    /// The authority, if any.
    pub authority_id: Option<String>,
    /// Who.
    pub actor: String,
    /// What kind of event.
    pub action: String,
    /// What it is about.
    pub subject: String,
    /// Its particulars (the digest in the leaf is SHA-256 of these bytes).
    pub detail: String,
}

impl LogEntry {
    /// The leaf this row stands for.
    pub fn leaf(&self) -> Result<Leaf<'_>, StorageError> {
        Ok(Leaf {
            seq: to_u64(self.seq)?,
            at: self.at,
            authority: self.authority_id.as_deref().unwrap_or(""),
            actor: &self.actor,
            kind: &self.action,
            subject: &self.subject,
            digest: digest(self.detail.as_bytes()),
        })
    }

    /// The leaf's hash.
    pub fn leaf_hash(&self) -> Result<Hash, StorageError> {
        self.leaf()?
            .hash()
            .map_err(|e| StorageError::Corrupt(e.to_string()))
    }
}

/// A permit's events with their inclusion proofs in one signed tree head.
#[derive(Debug, Clone)]
pub struct ProvenEvents {
    /// The tree head the proofs lead to.
    pub head: SignedHead,
    /// Each event with its proof, in log order.
    pub events: Vec<(LogEntry, Vec<Hash>)>,
}

/// What recomputing the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// Leaves the log says it has.
    pub size: u64,
    /// Entries recomputed and found good before the first bad one (or all).
    pub checked: u64,
    /// Signed tree heads whose root was recomputed and matched.
    pub heads_checked: u64,
    /// The first entry that does not match, if any.
    pub first_bad: Option<BadEntry>,
    /// Issued permits without an issuance event in the log (each raised an alert).
    pub unlogged_permits: Vec<String>,
}

/// The first entry that does not match what is stored about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// Its position.
    pub seq: u64,
    /// What is wrong.
    pub problem: String,
}

fn to_u64(v: i64) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|_| StorageError::Corrupt(format!("negative log position {v}")))
}

fn to_i64(v: u64) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::Corrupt(format!("log position {v} too large")))
}

fn to_hash(bytes: &[u8]) -> Result<Hash, StorageError> {
    bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt("a stored log hash is not 32 bytes".into()))
}

impl From<MissingNode> for StorageError {
    fn from(e: MissingNode) -> Self {
        StorageError::Corrupt(e.to_string())
    }
}

/// Log steps inside a transaction, written once for both backends.
pub(crate) trait LogSteps {
    /// Appends `e` about `subject` as the next leaf: its row in `audit_events` with its
    /// position, and the subtrees it completes.
    async fn append_leaf(&mut self, e: AuditEvent<'_>, subject: &str) -> Result<(), sqlx::Error> {
        self.append_leaves(&[(e, subject)]).await
    }
    /// Appends `events`, each about its subject, as the next leaves in order: the same rows
    /// as one [`LogSteps::append_leaf`] each, written with a few multi-row statements (a batch
    /// of 500 permits took some 2,500 statements one leaf at a time).
    async fn append_leaves(&mut self, events: &[(AuditEvent<'_>, &str)])
    -> Result<(), sqlx::Error>;
    /// The stored subtrees `wanted`.
    async fn read_nodes(
        &mut self,
        wanted: &[(u8, u64)],
    ) -> Result<HashMap<(u8, u64), Hash>, sqlx::Error>;
    /// The number of leaves.
    async fn log_size(&mut self) -> Result<i64, sqlx::Error>;
}

fn corrupt(message: String) -> sqlx::Error {
    sqlx::Error::Decode(message.into())
}

impl<DB> LogSteps for sqlx::Transaction<'_, DB>
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
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn append_leaves(
        &mut self,
        events: &[(AuditEvent<'_>, &str)],
    ) -> Result<(), sqlx::Error> {
        if events.is_empty() {
            return Ok(());
        }
        let count = i64::try_from(events.len()).map_err(|_| corrupt("too many leaves".into()))?;
        let (size,): (i64,) =
            sqlx::query_as("UPDATE log_state SET size = size + $1 WHERE id = 1 RETURNING size")
                .bind(count)
                .fetch_one(&mut **self)
                .await?;
        let first = u64::try_from(size - count).map_err(|_| corrupt(format!("log size {size}")))?;
        let mut hashes = Vec::with_capacity(events.len());
        for (n, (e, subject)) in (first..).zip(events) {
            let leaf = Leaf {
                seq: n,
                at: e.at,
                authority: e.authority.unwrap_or(""),
                actor: e.actor,
                kind: e.action,
                subject,
                digest: digest(e.detail.as_bytes()),
            };
            hashes.push(
                leaf.hash()
                    .map_err(|err| sqlx::Error::Encode(Box::new(err)))?,
            );
        }
        for (c, chunk) in events.chunks(ROWS_PER_INSERT).enumerate() {
            let mut sql = String::from(
                "INSERT INTO audit_events (at, actor, authority_id, action, detail, seq, subject) \
                 VALUES ",
            );
            push_rows(&mut sql, chunk.len(), 7);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, (e, subject)) in chunk.iter().enumerate() {
                let seq = size - count + i64::try_from(c * ROWS_PER_INSERT + i).unwrap_or(i64::MAX);
                q = q
                    .bind(e.at)
                    .bind(e.actor)
                    .bind(e.authority)
                    .bind(e.action)
                    .bind(e.detail)
                    .bind(seq)
                    .bind(*subject);
            }
            q.execute(&mut **self).await?;
        }
        // The stored subtrees the new leaves join: those that end before the first of them
        // (the others are made here, leaf by leaf).
        let mut planner = Planner::default();
        for (n, hash) in (first..).zip(&hashes) {
            trail::appended_nodes(&mut planner, n, *hash).map_err(|m| corrupt(m.to_string()))?;
        }
        let stored: Vec<(u8, u64)> = planner
            .wanted
            .into_iter()
            .filter(|&(level, idx)| (u128::from(idx) + 1) << level <= u128::from(first))
            .collect();
        let mut known = self.read_nodes(&stored).await?;
        let mut new = Vec::new();
        for (n, hash) in (first..).zip(&hashes) {
            for (level, idx, h) in
                trail::appended_nodes(&mut known, n, *hash).map_err(|m| corrupt(m.to_string()))?
            {
                known.insert((level, idx), h);
                new.push((level, idx, h));
            }
        }
        for chunk in new.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from("INSERT INTO log_nodes (level, idx, hash) VALUES ");
            push_rows(&mut sql, chunk.len(), 3);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (level, idx, h) in chunk {
                q = q
                    .bind(i64::from(*level))
                    .bind(i64::try_from(*idx).map_err(|_| corrupt(format!("log index {idx}")))?)
                    .bind(h.as_slice());
            }
            q.execute(&mut **self).await?;
        }
        Ok(())
    }

    async fn read_nodes(
        &mut self,
        wanted: &[(u8, u64)],
    ) -> Result<HashMap<(u8, u64), Hash>, sqlx::Error> {
        let mut out = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(64) {
            let mut sql = String::from("SELECT level, idx, hash FROM log_nodes WHERE ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!(
                    "(level = ${} AND idx = ${})",
                    2 * i + 1,
                    2 * i + 2
                ));
            }
            let mut q = sqlx::query_as::<_, (i64, i64, Vec<u8>)>(sqlx::AssertSqlSafe(sql));
            for &(level, idx) in chunk {
                q = q
                    .bind(i64::from(level))
                    .bind(i64::try_from(idx).map_err(|_| corrupt(format!("log index {idx}")))?);
            }
            for (level, idx, hash) in q.fetch_all(&mut **self).await? {
                let key = (
                    u8::try_from(level).map_err(|_| corrupt(format!("log level {level}")))?,
                    u64::try_from(idx).map_err(|_| corrupt(format!("log index {idx}")))?,
                );
                let hash: Hash = hash
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("a stored log hash is not 32 bytes".into()))?;
                out.insert(key, hash);
            }
        }
        Ok(out)
    }

    async fn log_size(&mut self) -> Result<i64, sqlx::Error> {
        let (size,): (i64,) = sqlx::query_as("SELECT size FROM log_state WHERE id = 1")
            .fetch_one(&mut **self)
            .await?;
        Ok(size)
    }
}

/// Root of the first `size` leaves from the stored subtrees.
async fn stored_root(tx: &mut impl LogSteps, size: u64) -> Result<Hash, StorageError> {
    let mut planner = Planner::default();
    trail::root(&mut planner, size)?;
    let mut nodes = tx.read_nodes(&planner.wanted).await?;
    Ok(trail::root(&mut nodes, size)?)
}

impl Db {
    /// Gives positions to audit events written before the log existed (in the order they
    /// were written). Runs at start; a no-op once every event has one.
    pub async fn backfill_log(&self) -> Result<u64, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let rows: Vec<(i64, i64, String, Option<String>, String, String)> = sqlx::query_as(
                "SELECT id, at, actor, authority_id, action, detail FROM audit_events \
                 WHERE seq IS NULL ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let n = rows.len() as u64;
            for (id, at, actor, authority, action, detail) in rows {
                // The row is appended anew with its position, then the old one goes: the log
                // holds one row per event.
                sqlx::query("DELETE FROM audit_events WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.append_leaf(
                    AuditEvent {
                        at,
                        actor: &actor,
                        authority: authority.as_deref(),
                        action: &action,
                        detail: &detail,
                    },
                    "",
                )
                .await?;
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// The newest signed tree head, signing one for the current size if none exists yet.
    pub async fn log_head(&self, master: &MasterKey, now: i64) -> Result<SignedHead, StorageError> {
        // Most calls find the head already signed: answer those from a reader, without the
        // write lock that signing takes.
        let current: Option<String> = on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let size = tx.log_size().await?;
            let latest: Option<(String,)> =
                sqlx::query_as("SELECT checkpoint FROM log_heads WHERE size = $1")
                    .bind(size)
                    .fetch_optional(&mut *tx)
                    .await?;
            latest.map(|(note,)| note)
        });
        if let Some(note) = current {
            return parse_head(note);
        }
        let signers: Vec<SecretKey> = self
            .root_signers(master)
            .await?
            .iter()
            .map(|s| SecretKey::from_seed(s.seed.expose()))
            .collect();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let size = tx.log_size().await?;
            let latest: Option<(i64, String)> =
                sqlx::query_as("SELECT size, checkpoint FROM log_heads ORDER BY size DESC LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((stored, note)) = latest
                && stored == size
            {
                tx.commit().await?;
                return parse_head(note);
            }
            let root = stored_root(&mut tx, to_u64(size)?).await?;
            let checkpoint = Checkpoint {
                size: to_u64(size)?,
                root,
                time: now,
            };
            let note = checkpoint.sign(&signers.iter().collect::<Vec<_>>());
            sqlx::query(
                "INSERT INTO log_heads (size, root, signed_at, checkpoint) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (size) DO NOTHING",
            )
            .bind(size)
            .bind(root.as_slice())
            .bind(now)
            .bind(&note)
            .execute(&mut *tx)
            .await?;
            let (note,): (String,) =
                sqlx::query_as("SELECT checkpoint FROM log_heads WHERE size = $1")
                    .bind(size)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            parse_head(note)
        })
    }

    /// The RFC 9162 consistency proof from `first` to `second` leaves; `None` when the sizes
    /// are not 0 < first ≤ second ≤ the log's size.
    pub async fn log_consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Option<Vec<Hash>>, StorageError> {
        on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let size = to_u64(tx.log_size().await?)?;
            if first == 0 || first > second || second > size {
                return Ok(None);
            }
            let mut planner = Planner::default();
            trail::consistency_proof(&mut planner, first, second)?;
            let mut nodes = tx.read_nodes(&planner.wanted).await?;
            Ok(Some(trail::consistency_proof(&mut nodes, first, second)?))
        })
    }

    /// The events about `subject`, each with its inclusion proof in `head`.
    pub async fn log_events(
        &self,
        subject: &str,
        head: SignedHead,
    ) -> Result<ProvenEvents, StorageError> {
        let size = head.checkpoint.size;
        on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let rows: Vec<LogEntry> = sqlx::query_as(
                "SELECT seq, at, authority_id, actor, action, subject, detail FROM audit_events \
                 WHERE subject = $1 AND seq IS NOT NULL AND seq < $2 ORDER BY seq",
            )
            .bind(subject)
            .bind(to_i64(size)?)
            .fetch_all(&mut *tx)
            .await?;
            let mut planner = Planner::default();
            for r in &rows {
                trail::inclusion_proof(&mut planner, to_u64(r.seq)?, size)?;
            }
            let mut nodes = tx.read_nodes(&planner.wanted).await?;
            let mut events = Vec::with_capacity(rows.len());
            for r in rows {
                let proof = trail::inclusion_proof(&mut nodes, to_u64(r.seq)?, size)?;
                events.push((r, proof));
            }
            Ok(ProvenEvents { head, events })
        })
    }

    /// Recomputes the log from the events in the database: every leaf from its row, every
    /// stored subtree, every signed head's root. Stops at the first entry that does not
    /// match. Then raises an alert for each issued permit without an issuance event.
    /// `progress(done, size)` is called after each chunk.
    pub async fn verify_log(
        &self,
        now: i64,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<LogReport, StorageError> {
        let mut report = on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let size = to_u64(tx.log_size().await?)?;
            let heads: Vec<(i64, Vec<u8>, String)> =
                sqlx::query_as("SELECT size, root, checkpoint FROM log_heads ORDER BY size")
                    .fetch_all(&mut *tx)
                    .await?;
            let mut heads = heads.into_iter().peekable();
            let mut report = LogReport {
                size,
                checked: 0,
                heads_checked: 0,
                first_bad: None,
                unlogged_permits: Vec::new(),
            };
            let bad = |seq: u64, problem: String| Some(BadEntry { seq, problem });
            let (unplaced,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE seq IS NULL")
                    .fetch_one(&mut *tx)
                    .await?;
            // The complete subtrees on the right edge so far, lowest level last.
            let mut edge: Vec<(u8, Hash)> = Vec::new();
            let mut next: u64 = 0;
            'chunks: while next < size {
                let hi = (next + VERIFY_CHUNK as u64).min(size);
                let rows: Vec<LogEntry> = sqlx::query_as(
                    "SELECT seq, at, authority_id, actor, action, subject, detail \
                     FROM audit_events WHERE seq >= $1 AND seq < $2 ORDER BY seq",
                )
                .bind(to_i64(next)?)
                .bind(to_i64(hi)?)
                .fetch_all(&mut *tx)
                .await?;
                let mut stored: HashMap<(u8, u64), Hash> = HashMap::new();
                for (level, idx, hash) in sqlx::query_as::<_, (i64, i64, Vec<u8>)>(
                    "SELECT level, idx, hash FROM log_nodes WHERE level = 0 AND idx >= $1 AND idx < $2",
                )
                .bind(to_i64(next)?)
                .bind(to_i64(hi)?)
                .fetch_all(&mut *tx)
                .await?
                {
                    stored.insert((0, to_u64(idx)?), to_hash(&hash)?);
                    let _ = level;
                }
                // Higher subtrees completed by leaves next..hi: at level l, indexes
                // from ceil((next+1)/2^l)-1 to (hi >> l)-1.
                for level in 1..64u8 {
                    let lo_idx = (next + 1).div_ceil(1 << level) - 1;
                    let Some(hi_idx) = (hi >> level).checked_sub(1) else {
                        break;
                    };
                    if hi_idx < lo_idx {
                        continue;
                    }
                    for (idx, hash) in sqlx::query_as::<_, (i64, Vec<u8>)>(
                        "SELECT idx, hash FROM log_nodes WHERE level = $1 AND idx >= $2 AND idx <= $3",
                    )
                    .bind(i64::from(level))
                    .bind(to_i64(lo_idx)?)
                    .bind(to_i64(hi_idx)?)
                    .fetch_all(&mut *tx)
                    .await?
                    {
                        stored.insert((level, to_u64(idx)?), to_hash(&hash)?);
                    }
                }
                let mut rows = rows.into_iter();
                while next < hi {
                    let Some(row) = rows.next() else {
                        report.first_bad = bad(next, "the event is missing".into());
                        break 'chunks;
                    };
                    if to_u64(row.seq)? != next {
                        report.first_bad = bad(
                            next,
                            format!(
                                "the event is missing (the next stored one is at {})",
                                row.seq
                            ),
                        );
                        break 'chunks;
                    }
                    let leaf = row.leaf_hash()?;
                    match stored.get(&(0, next)) {
                        Some(h) if *h == leaf => {}
                        Some(_) => {
                            report.first_bad =
                                bad(next, "the event does not match its leaf hash".into());
                            break 'chunks;
                        }
                        None => {
                            report.first_bad = bad(next, "the leaf hash is missing".into());
                            break 'chunks;
                        }
                    }
                    // Fold into the right edge, checking each subtree completed.
                    let mut hash = leaf;
                    let mut level = 0u8;
                    let mut i = next;
                    while i & 1 == 1 {
                        let Some((_, left)) = edge.pop() else {
                            return Err(StorageError::Corrupt("log edge underflow".into()));
                        };
                        hash = node_hash(&left, &hash);
                        i >>= 1;
                        level += 1;
                        if stored.get(&(level, i)) != Some(&hash) {
                            report.first_bad = bad(
                                next,
                                format!(
                                    "the stored subtree (level {level}, index {i}) it completes does not match"
                                ),
                            );
                            break 'chunks;
                        }
                    }
                    edge.push((level, hash));
                    next += 1;
                    report.checked = next;
                    while let Some((hsize, hroot, note)) =
                        heads.next_if(|h| h.0 <= to_i64(next).unwrap_or(i64::MAX))
                    {
                        let signed = parse_head(note)?;
                        let mut root = edge.last().map_or([0; 32], |e| e.1);
                        for (_, left) in edge.iter().rev().skip(1) {
                            root = node_hash(left, &root);
                        }
                        if to_u64(hsize)? != next
                            || signed.checkpoint.size != next
                            || signed.checkpoint.root != root
                            || to_hash(&hroot)? != root
                        {
                            report.first_bad = bad(
                                next - 1,
                                format!(
                                    "the signed tree head of size {hsize} does not match the recomputed root {}",
                                    hex::encode(root)
                                ),
                            );
                            break 'chunks;
                        }
                        report.heads_checked += 1;
                    }
                }
                progress(next, size);
            }
            if report.first_bad.is_none() {
                let (extra,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE seq >= $1")
                        .bind(to_i64(size)?)
                        .fetch_one(&mut *tx)
                        .await?;
                if extra > 0 {
                    report.first_bad = bad(size, format!("{extra} event(s) beyond the log's size"));
                } else if unplaced > 0 {
                    report.first_bad = bad(
                        size,
                        format!("{unplaced} event(s) without a position in the log"),
                    );
                }
            }
            report
        });
        report.unlogged_permits = self.alert_unlogged_permits(now).await?;
        Ok(report)
    }

    /// Raises an `unlogged_issuance` alert for each issued permit whose issuance event is not in
    /// the log; returns their subjects.
    async fn alert_unlogged_permits(&self, now: i64) -> Result<Vec<String>, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let missing: Vec<(String, i64, String)> = sqlx::query_as(
                "SELECT p.authority_id, p.status_index, p.number FROM permits p \
                 WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.action = 'permit.issue' \
                 AND e.seq IS NOT NULL AND e.subject = 'permit/' || p.authority_id || '/' || p.number) \
                 ORDER BY p.authority_id, p.status_index",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut subjects = Vec::with_capacity(missing.len());
            for (authority, index, number) in missing {
                let alert = crate::domain::alerts::unlogged_issuance(&number);
                sqlx::query(
                    // Grouped like every alert (one row per kind and permit): a second
                    // verification that finds the same gap counts it, not a new row.
                    "INSERT INTO alerts (authority_id, kind, status_index, permit_number, source_id, \
                     detail, created_at, group_key, occurrences, last_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $7) \
                     ON CONFLICT (kind, group_key) DO UPDATE SET \
                     occurrences = alerts.occurrences + 1, last_at = excluded.last_at",
                )
                .bind(&authority)
                .bind(alert.kind)
                .bind(index)
                .bind(&number)
                .bind(format!("log/{authority}/{index}"))
                .bind(alert.detail)
                .bind(now)
                .bind(format!("permit:{authority}:{index}"))
                .execute(&mut *tx)
                .await?;
                subjects.push(permit_subject(&authority, &number));
            }
            tx.commit().await?;
            Ok(subjects)
        })
    }
}

fn parse_head(note: String) -> Result<SignedHead, StorageError> {
    let checkpoint = Checkpoint::read_unverified(&note)
        .map_err(|e| StorageError::Corrupt(format!("stored checkpoint: {e}")))?;
    Ok(SignedHead { checkpoint, note })
}
