//! Status lists: per authority, the state of every permit index it has issued, signed,
//! versioned, Rice-coded so that a million permits with 1 % revoked take about 11 KB, and
//! updated by signed deltas.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::keys::{KEY_ID_LEN, KeyId, Namespace, SecretKey};
use crate::trust::{KeyStatus, TrustList};
use crate::wire::{Problem, Reader, WireError, Writer, err};

/// Format number of status list and delta bodies that hold states 0–3 only.
pub const STATUS_FORMAT: u8 = 1;
/// Format number of bodies that hold state 4 (cancelled on import); written only when needed,
/// so a list without that state has the same bytes as before (FORMAT.md §5).
pub const STATUS_FORMAT_V2: u8 = 2;
/// Most indexes one list may cover.
pub const MAX_SIZE: u32 = 1 << 26;

/// The state of one issued permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PermitState {
    /// Issued and not withdrawn.
    Valid = 0,
    /// Temporarily withdrawn; may be reinstated.
    Suspended = 1,
    /// Withdrawn for good.
    Revoked = 2,
    /// Its export endorsement is recorded: it has served its one shipment.
    Used = 3,
    /// The importing Party's authority confirmed the import and cancelled the document: it can
    /// serve no further crossing (format 2 only; format 1 writes it as `Used`).
    CancelledOnImport = 4,
}

impl PermitState {
    /// All states in wire order.
    pub const ALL: [PermitState; 5] = [
        PermitState::Valid,
        PermitState::Suspended,
        PermitState::Revoked,
        PermitState::Used,
        PermitState::CancelledOnImport,
    ];

    /// The wire value, 0–4 (4 only in format 2).
    pub fn wire(self) -> u8 {
        self as u8
    }

    /// The state for a wire value.
    pub fn from_wire(v: u8) -> Option<PermitState> {
        PermitState::ALL.get(usize::from(v)).copied()
    }

    /// Snake-case name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            PermitState::Valid => "valid",
            PermitState::Suspended => "suspended",
            PermitState::Revoked => "revoked",
            PermitState::Used => "used",
            PermitState::CancelledOnImport => "cancelled_on_import",
        }
    }

    /// The state a format-1 reader is told: cancelled on import is written as used, the
    /// nearest state it knows (the document has served its shipment).
    pub fn in_format_1(self) -> PermitState {
        match self {
            PermitState::CancelledOnImport => PermitState::Used,
            s => s,
        }
    }

    /// The states a body of this format holds.
    fn of_format(format: u8) -> &'static [PermitState] {
        if format == STATUS_FORMAT {
            &PermitState::ALL[..4]
        } else {
            &PermitState::ALL
        }
    }
}

/// The format a body needs: 1 unless a state of format 2 appears.
fn format_for(mut states: impl Iterator<Item = PermitState>) -> u8 {
    if states.any(|s| s == PermitState::CancelledOnImport) {
        STATUS_FORMAT_V2
    } else {
        STATUS_FORMAT
    }
}

fn namespaces(format: u8) -> (Namespace, Namespace) {
    if format == STATUS_FORMAT {
        (Namespace::StatusList, Namespace::StatusDelta)
    } else {
        (Namespace::StatusListV2, Namespace::StatusDeltaV2)
    }
}

/// The states of an authority's permits at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusList {
    /// The authority (trust-list id).
    pub authority: u32,
    /// Increases with every change.
    pub version: u64,
    /// When this version was signed (Unix seconds).
    pub issued_at: i64,
    /// Indexes `0..size` are issued; anything above is not (yet) issued.
    pub size: u32,
    /// The state of indexes not listed in `exceptions`.
    pub default_state: PermitState,
    /// Indexes whose state differs from `default_state`.
    #[serde(skip)]
    pub exceptions: BTreeMap<u32, PermitState>,
}

/// What a list says of one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexStatus {
    /// Issued, in this state.
    Issued(PermitState),
    /// Beyond the list's size: not issued as of the list's time.
    NotIssued,
}

/// Why a status list or delta was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose: the mobile bindings map every variant, so a new one forces a decision.
pub enum StatusError {
    /// The bytes are malformed.
    #[error("malformed status data: {0}")]
    Malformed(#[from] WireError),
    /// No key of the named authority in the trust list signed it.
    #[error("status data is not signed by a key of its authority")]
    NotSigned,
    /// Signed by a key after its compromise time or outside its validity.
    #[error("status data is signed by a key that was not valid at its issue time")]
    KeyNotValid,
    /// A delta that does not start at the list's version or goes backwards.
    #[error("delta from version {from} does not apply to version {have}")]
    VersionMismatch {
        /// The delta's base version.
        from: u64,
        /// The list's version.
        have: u64,
    },
    /// A delta for another authority, or one that shrinks the list.
    #[error("delta does not fit this list")]
    Mismatch,
}

impl StatusList {
    /// An empty list for an authority.
    pub fn new(authority: u32, version: u64, issued_at: i64) -> StatusList {
        StatusList {
            authority,
            version,
            issued_at,
            size: 0,
            default_state: PermitState::Valid,
            exceptions: BTreeMap::new(),
        }
    }

    /// A list from the state of every issued index (`states[i]` for index `i`).
    pub fn from_states(
        authority: u32,
        version: u64,
        issued_at: i64,
        states: &[PermitState],
    ) -> StatusList {
        let mut counts = [0usize; PermitState::ALL.len()];
        for s in states {
            counts[usize::from(s.wire())] += 1;
        }
        // The commonest state is the default; ties go to the lower state.
        let default_state = PermitState::ALL
            .iter()
            .copied()
            .max_by_key(|s| (counts[usize::from(s.wire())], std::cmp::Reverse(s.wire())))
            .unwrap_or(PermitState::Valid);
        let exceptions = states
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != default_state)
            .map(|(i, s)| (i as u32, *s))
            .collect();
        StatusList {
            authority,
            version,
            issued_at,
            size: states.len() as u32,
            default_state,
            exceptions,
        }
    }

    /// What the list says of `index`.
    pub fn get(&self, index: u32) -> IndexStatus {
        if index >= self.size {
            return IndexStatus::NotIssued;
        }
        IndexStatus::Issued(
            self.exceptions
                .get(&index)
                .copied()
                .unwrap_or(self.default_state),
        )
    }

    /// Sets the state of an index, growing the list to cover it.
    pub fn set(&mut self, index: u32, state: PermitState) {
        if index >= self.size {
            // Indexes between the old size and this one become issued in the default state.
            self.size = index + 1;
        }
        if state == self.default_state {
            self.exceptions.remove(&index);
        } else {
            self.exceptions.insert(index, state);
        }
    }

    /// The format this list is written in: 1 unless it holds a state of format 2.
    pub fn format(&self) -> u8 {
        format_for(std::iter::once(self.default_state).chain(self.exceptions.values().copied()))
    }

    /// The same list as a format-1 reader must be told it: states beyond format 1 written as
    /// their nearest format-1 state ([`PermitState::in_format_1`]), the default state kept the
    /// commonest. What the server serves to readers that did not ask for format 2.
    pub fn in_format_1(&self) -> StatusList {
        let mut counts = [0u64; 4];
        let listed = self.exceptions.len() as u64;
        counts[usize::from(self.default_state.in_format_1().wire())] +=
            u64::from(self.size).saturating_sub(listed);
        for s in self.exceptions.values() {
            counts[usize::from(s.in_format_1().wire())] += 1;
        }
        let default_state = PermitState::ALL[..4]
            .iter()
            .copied()
            .max_by_key(|s| (counts[usize::from(s.wire())], std::cmp::Reverse(s.wire())))
            .unwrap_or(PermitState::Valid);
        let state_of = |i: u32| {
            self.exceptions
                .get(&i)
                .copied()
                .unwrap_or(self.default_state)
                .in_format_1()
        };
        let exceptions = if default_state == self.default_state.in_format_1() {
            self.exceptions
                .keys()
                .map(|&i| (i, state_of(i)))
                .filter(|(_, s)| *s != default_state)
                .collect()
        } else {
            (0..self.size)
                .map(|i| (i, state_of(i)))
                .filter(|(_, s)| *s != default_state)
                .collect()
        };
        StatusList {
            default_state,
            exceptions,
            ..self.clone()
        }
    }

    fn encode_body(&self, key: KeyId) -> Vec<u8> {
        let format = self.format();
        let mut w = Writer::default();
        w.bytes(&key.0);
        w.u8(format);
        w.varint(u64::from(self.authority));
        w.varint(self.version);
        w.varint(self.issued_at.max(0) as u64);
        w.varint(u64::from(self.size));
        w.u8(self.default_state.wire());
        for state in PermitState::of_format(format)
            .iter()
            .filter(|s| **s != self.default_state)
        {
            let idx: Vec<u32> = self
                .exceptions
                .iter()
                .filter(|(_, s)| *s == state)
                .map(|(i, _)| *i)
                .collect();
            w.varint(idx.len() as u64);
            if !idx.is_empty() {
                let k = rice_parameter(&idx, self.size);
                let bits = rice_encode(&idx, k);
                w.u8(k);
                w.varint(bits.len() as u64);
                w.bytes(&bits);
            }
        }
        w.buf
    }

    /// Signs the list with an authority key: `kid ‖ body ‖ signature`.
    pub fn sign(&self, key: &SecretKey) -> Vec<u8> {
        let mut buf = self.encode_body(key.id());
        let sig = key.sign(namespaces(self.format()).0, &[&buf]);
        buf.extend_from_slice(&sig);
        buf
    }

    /// Parses a signed list and checks it is signed by a key of its own authority that was
    /// valid (and not compromised) at the list's issue time.
    pub fn from_signed(bytes: &[u8], trust: &TrustList) -> Result<StatusList, StatusError> {
        let (kid, body, sig) = split_signed(bytes)?;
        let mut r = Reader::new(body);
        r.take(KEY_ID_LEN, "key_id")?;
        let (format, list) = decode_list(&mut r)?;
        r.finish("status_list")?;
        check_signer(
            trust,
            kid,
            list.authority,
            list.issued_at,
            namespaces(format).0,
            body,
            &sig,
        )?;
        Ok(list)
    }

    /// Applies a verified delta, returning the next version.
    pub fn apply(&self, delta: &StatusDelta) -> Result<StatusList, StatusError> {
        if delta.authority != self.authority
            || delta.size < self.size
            || delta.issued_at < self.issued_at
        {
            return Err(StatusError::Mismatch);
        }
        if delta.from_version != self.version {
            return Err(StatusError::VersionMismatch {
                from: delta.from_version,
                have: self.version,
            });
        }
        // One version has one content: a refresh cannot change the size either.
        if delta.to_version == delta.from_version && delta.size != self.size {
            return Err(StatusError::Mismatch);
        }
        let mut next = self.clone();
        next.size = delta.size;
        for (&i, &s) in &delta.changes {
            next.set(i, s);
        }
        next.version = delta.to_version;
        next.issued_at = delta.issued_at;
        Ok(next)
    }
}

/// The changes between two versions of an authority's status list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusDelta {
    /// The authority.
    pub authority: u32,
    /// The version it applies to.
    pub from_version: u64,
    /// The version it produces; equal to `from_version` for a refresh (no changes, a newer
    /// `issued_at`).
    pub to_version: u64,
    /// When the new version was signed.
    pub issued_at: i64,
    /// The size of the new version.
    pub size: u32,
    /// New states by index.
    #[serde(skip)]
    pub changes: BTreeMap<u32, PermitState>,
}

impl StatusDelta {
    /// The delta that turns `old` into `new` (same authority, `new` later).
    pub fn between(old: &StatusList, new: &StatusList) -> StatusDelta {
        let state_of = |l: &StatusList, i: u32| match l.get(i) {
            IndexStatus::Issued(s) => Some(s),
            IndexStatus::NotIssued => None,
        };
        // With the same default, only indexes that are an exception in either list can
        // differ (newly issued default-state indexes come with the larger size); with a
        // new default, any issued index may have changed.
        let candidates: Vec<u32> = if old.default_state == new.default_state {
            let set: std::collections::BTreeSet<u32> = old
                .exceptions
                .keys()
                .chain(new.exceptions.keys())
                .copied()
                .collect();
            set.into_iter().collect()
        } else {
            (0..new.size).collect()
        };
        let changes = candidates
            .into_iter()
            .filter(|&i| state_of(old, i) != state_of(new, i))
            .filter_map(|i| state_of(new, i).map(|s| (i, s)))
            .collect();
        StatusDelta {
            authority: new.authority,
            from_version: old.version,
            to_version: new.version,
            issued_at: new.issued_at,
            size: new.size,
            changes,
        }
    }

    /// The format this delta is written in: 1 unless a change is to a state of format 2.
    pub fn format(&self) -> u8 {
        format_for(self.changes.values().copied())
    }

    /// The same delta for a format-1 reader (states as [`PermitState::in_format_1`]). A change
    /// that format 1 cannot tell apart (used to cancelled on import) stays in it, harmless: it
    /// sets the state the reader already holds.
    pub fn in_format_1(&self) -> StatusDelta {
        StatusDelta {
            changes: self
                .changes
                .iter()
                .map(|(&i, s)| (i, s.in_format_1()))
                .collect(),
            ..self.clone()
        }
    }

    /// Signs the delta with an authority key: `kid ‖ body ‖ signature`.
    pub fn sign(&self, key: &SecretKey) -> Vec<u8> {
        let format = self.format();
        // Format 1 has two bits of state per change, format 2 three.
        let bits = if format == STATUS_FORMAT { 2 } else { 3 };
        let mut w = Writer::default();
        w.bytes(&key.id().0);
        w.u8(format);
        w.varint(u64::from(self.authority));
        w.varint(self.from_version);
        w.varint(self.to_version);
        w.varint(self.issued_at.max(0) as u64);
        w.varint(u64::from(self.size));
        w.varint(self.changes.len() as u64);
        let mut prev: Option<u32> = None;
        for (&i, &s) in &self.changes {
            let gap = match prev {
                None => i,
                Some(p) => i - p - 1,
            };
            w.varint((u64::from(gap) << bits) | u64::from(s.wire()));
            prev = Some(i);
        }
        let sig = key.sign(namespaces(format).1, &[&w.buf]);
        w.bytes(&sig);
        w.buf
    }

    /// Parses a signed delta and checks its signer like [`StatusList::from_signed`].
    pub fn from_signed(bytes: &[u8], trust: &TrustList) -> Result<StatusDelta, StatusError> {
        let (kid, body, sig) = split_signed(bytes)?;
        let mut r = Reader::new(body);
        r.take(KEY_ID_LEN, "key_id")?;
        let format = r.u8("format")?;
        if format != STATUS_FORMAT && format != STATUS_FORMAT_V2 {
            return Err(err("format", Problem::Reserved).into());
        }
        let bits = if format == STATUS_FORMAT { 2 } else { 3 };
        let authority = r.varint_max("authority", u64::from(u32::MAX))? as u32;
        let from_version = r.varint("from_version")?;
        let to_version = r.varint("to_version")?;
        if to_version < from_version {
            return Err(err("to_version", Problem::BadValue).into());
        }
        let issued_at = r.varint_max("issued_at", i64::MAX as u64)? as i64;
        let size = r.varint_max("size", u64::from(MAX_SIZE))? as u32;
        // A delta within one version is a refresh: "still current at issued_at", no changes.
        let most = if to_version == from_version {
            0
        } else {
            u64::from(size)
        };
        let n = r.varint_max("changes", most)? as usize;
        let mut changes = BTreeMap::new();
        let mut next: u64 = 0;
        for c in 0..n {
            let v = r.varint(&format!("changes[{c}]"))?;
            let index = next + (v >> bits);
            if index >= u64::from(size) {
                return Err(err(format!("changes[{c}]"), Problem::BadValue).into());
            }
            // Format 2's three bits name states 0–4; 5–7 are refused. Format 1's two bits name
            // every state it has.
            let state = PermitState::from_wire((v & ((1 << bits) - 1)) as u8)
                .ok_or_else(|| err(format!("changes[{c}]"), Problem::BadValue))?;
            changes.insert(index as u32, state);
            next = index + 1;
        }
        r.finish("status_delta")?;
        check_signer(
            trust,
            kid,
            authority,
            issued_at,
            namespaces(format).1,
            body,
            &sig,
        )?;
        Ok(StatusDelta {
            authority,
            from_version,
            to_version,
            issued_at,
            size,
            changes,
        })
    }
}

fn split_signed(bytes: &[u8]) -> Result<(KeyId, &[u8], [u8; 64]), StatusError> {
    if bytes.len() < KEY_ID_LEN + 64 {
        return Err(err("status", Problem::Truncated).into());
    }
    let (body, sig) = bytes.split_at(bytes.len() - 64);
    let mut kid = [0u8; KEY_ID_LEN];
    kid.copy_from_slice(&body[..KEY_ID_LEN]);
    let mut s = [0u8; 64];
    s.copy_from_slice(sig);
    Ok((KeyId(kid), body, s))
}

fn check_signer(
    trust: &TrustList,
    kid: KeyId,
    authority: u32,
    issued_at: i64,
    ns: Namespace,
    body: &[u8],
    sig: &[u8; 64],
) -> Result<(), StatusError> {
    let mut verified_but_invalid = false;
    for m in trust.keys_for(kid).filter(|m| m.authority.id == authority) {
        if !m.key.key.verify(ns, &[body], sig) {
            continue;
        }
        let k = m.key;
        let compromised =
            matches!(k.status, KeyStatus::Compromised { since } if issued_at >= since);
        if issued_at < k.valid_from || k.valid_until.is_some_and(|u| issued_at > u) || compromised {
            verified_but_invalid = true;
            continue;
        }
        return Ok(());
    }
    Err(if verified_but_invalid {
        StatusError::KeyNotValid
    } else {
        StatusError::NotSigned
    })
}

fn decode_list(r: &mut Reader<'_>) -> Result<(u8, StatusList), StatusError> {
    let format = r.u8("format")?;
    if format != STATUS_FORMAT && format != STATUS_FORMAT_V2 {
        return Err(err("format", Problem::Reserved).into());
    }
    let states = PermitState::of_format(format);
    let authority = r.varint_max("authority", u64::from(u32::MAX))? as u32;
    let version = r.varint("version")?;
    let issued_at = r.varint_max("issued_at", i64::MAX as u64)? as i64;
    let size = r.varint_max("size", u64::from(MAX_SIZE))? as u32;
    let default_state = PermitState::from_wire(r.u8("default_state")?)
        .filter(|s| states.contains(s))
        .ok_or_else(|| err("default_state", Problem::BadValue))?;
    let mut exceptions = BTreeMap::new();
    for state in states.iter().filter(|s| **s != default_state) {
        let field = format!("{}_indexes", state.name());
        let n = r.varint_max(&field, u64::from(size))? as usize;
        if n == 0 {
            continue;
        }
        let k = r.u8(&field)?;
        if k > 31 {
            return Err(err(field, Problem::BadValue).into());
        }
        let len = r.varint_max(&field, u64::from(size) + 8)? as usize;
        let bits = r.take(len, &field)?;
        let idx =
            rice_decode(bits, k, n, size).ok_or_else(|| err(field.clone(), Problem::BadValue))?;
        for i in idx {
            if exceptions.insert(i, *state).is_some() {
                return Err(err(field, Problem::BadValue).into());
            }
        }
    }
    Ok((
        format,
        StatusList {
            authority,
            version,
            issued_at,
            size,
            default_state,
            exceptions,
        },
    ))
}

/// The Rice parameter close to optimal for these gaps: ⌊log2(mean gap · ln 2)⌋.
fn rice_parameter(idx: &[u32], size: u32) -> u8 {
    let mean = f64::from(size.max(1)) / idx.len().max(1) as f64;
    let k = (mean * std::f64::consts::LN_2).log2().floor();
    k.clamp(0.0, 31.0) as u8
}

/// Rice-codes the gaps of strictly increasing indexes (first gap from −1), MSB first.
fn rice_encode(idx: &[u32], k: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut nbits = 0u32;
    let mut push = |bit: u64, out: &mut Vec<u8>| {
        acc = (acc << 1) | bit;
        nbits += 1;
        if nbits == 8 {
            out.push(acc as u8);
            acc = 0;
            nbits = 0;
        }
    };
    let mut prev: i64 = -1;
    for &i in idx {
        let gap = (i64::from(i) - prev - 1) as u64;
        prev = i64::from(i);
        for _ in 0..(gap >> k) {
            push(1, &mut out);
        }
        push(0, &mut out);
        for b in (0..k).rev() {
            push((gap >> b) & 1, &mut out);
        }
    }
    if nbits > 0 {
        out.push((acc << (8 - nbits)) as u8);
    }
    out
}

/// Decodes exactly `n` indexes, all below `size`; padding bits must be zero and no whole
/// byte may be left over.
fn rice_decode(bits: &[u8], k: u8, n: usize, size: u32) -> Option<Vec<u32>> {
    let total = bits.len() * 8;
    let bit = |p: usize| (bits[p / 8] >> (7 - p % 8)) & 1;
    let mut pos = 0usize;
    let mut out = Vec::with_capacity(n);
    let mut prev: i64 = -1;
    for _ in 0..n {
        let mut q: u64 = 0;
        loop {
            if pos >= total {
                return None;
            }
            let b = bit(pos);
            pos += 1;
            if b == 0 {
                break;
            }
            q += 1;
            if q > u64::from(size) {
                return None;
            }
        }
        let mut rem: u64 = 0;
        for _ in 0..k {
            if pos >= total {
                return None;
            }
            rem = (rem << 1) | u64::from(bit(pos));
            pos += 1;
        }
        let gap = (q << k) | rem;
        let i = prev + 1 + gap as i64;
        if i >= i64::from(size) {
            return None;
        }
        out.push(i as u32);
        prev = i;
    }
    if total - pos >= 8 || (pos..total).any(|p| bit(p) != 0) {
        return None;
    }
    Some(out)
}

/// The status lists a verifier holds, by authority id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusSet {
    lists: HashMap<u32, StatusList>,
}

impl StatusSet {
    /// An empty set.
    pub fn new() -> StatusSet {
        StatusSet::default()
    }

    /// Adds or replaces an authority's list; an older version never replaces a newer one.
    pub fn insert(&mut self, list: StatusList) {
        match self.lists.get(&list.authority) {
            Some(have) if have.version > list.version => {}
            _ => {
                self.lists.insert(list.authority, list);
            }
        }
    }

    /// Checks a signed delta against `trust` and moves its authority's list forward,
    /// returning the list as it now is. A delta for an authority without a list here is
    /// `Mismatch`; on any error nothing changes.
    pub fn apply_delta(
        &mut self,
        bytes: &[u8],
        trust: &TrustList,
    ) -> Result<&StatusList, StatusError> {
        let delta = StatusDelta::from_signed(bytes, trust)?;
        let list = self
            .lists
            .get_mut(&delta.authority)
            .ok_or(StatusError::Mismatch)?;
        *list = list.apply(&delta)?;
        Ok(list)
    }

    /// The list of an authority.
    pub fn get(&self, authority: u32) -> Option<&StatusList> {
        self.lists.get(&authority)
    }

    /// All lists.
    pub fn iter(&self) -> impl Iterator<Item = &StatusList> {
        self.lists.values()
    }

    /// The newest issue time among the lists.
    pub fn newest_issued_at(&self) -> Option<i64> {
        self.lists.values().map(|l| l.issued_at).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::tests::authority;
    use proptest::prelude::*;

    fn setup() -> (SecretKey, TrustList) {
        let key = SecretKey::from_seed(&[5; 32]);
        let trust = TrustList::new(1, 100, vec![authority(7, "ZA", "DFFE", &[&key])]).unwrap();
        (key, trust)
    }

    #[test]
    fn million_permits_one_percent_revoked_fit_16kb() {
        let mut states = vec![PermitState::Valid; 1_000_000];
        // Deterministic, well spread: every index whose hash falls in 1 %.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for s in states.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(100) {
                *s = PermitState::Revoked;
            }
        }
        let (key, trust) = setup();
        let list = StatusList::from_states(7, 1, 200, &states);
        let signed = list.sign(&key);
        assert!(signed.len() <= 16 * 1024, "{} bytes", signed.len());
        let back = StatusList::from_signed(&signed, &trust).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn deltas_move_a_list_forward() {
        let (key, trust) = setup();
        let mut v1 = StatusList::new(7, 1, 200);
        for i in 0..50 {
            v1.set(i, PermitState::Valid);
        }
        v1.set(10, PermitState::Revoked);
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.issued_at = 300;
        v2.set(10, PermitState::Valid);
        v2.set(11, PermitState::Suspended);
        v2.set(60, PermitState::Used);
        let delta = StatusDelta::between(&v1, &v2);
        let signed = delta.sign(&key);
        let delta = StatusDelta::from_signed(&signed, &trust).unwrap();
        assert_eq!(delta.changes.len(), 3);
        let applied = v1.apply(&delta).unwrap();
        assert_eq!(applied, v2);
        assert_eq!(applied.get(55), IndexStatus::Issued(PermitState::Valid));
        assert_eq!(applied.get(61), IndexStatus::NotIssued);
        assert!(matches!(
            v2.apply(&delta),
            Err(StatusError::VersionMismatch { .. })
        ));
    }

    /// State 4 needs format 2 (three bits per delta change, the v2 namespaces); a list or
    /// delta without it keeps format 1's bytes; a format-1 reader is served state 4 as used.
    #[test]
    fn cancelled_on_import_is_written_in_format_2_and_folded_for_format_1() {
        let (key, trust) = setup();
        let mut v1 = StatusList::new(7, 1, 200);
        for i in 0..50 {
            v1.set(i, PermitState::Valid);
        }
        v1.set(20, PermitState::Used);
        assert_eq!(v1.format(), STATUS_FORMAT);
        assert_eq!(v1.sign(&key)[KEY_ID_LEN], 1);
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.issued_at = 300;
        v2.set(20, PermitState::CancelledOnImport);
        v2.set(21, PermitState::Used);
        let signed = v2.sign(&key);
        assert_eq!(signed[KEY_ID_LEN], STATUS_FORMAT_V2);
        assert_eq!(StatusList::from_signed(&signed, &trust).unwrap(), v2);
        // The v2 body under the v1 namespace does not verify.
        let mut forged = signed[..signed.len() - 64].to_vec();
        let sig = key.sign(Namespace::StatusList, &[&forged]);
        forged.extend_from_slice(&sig);
        assert_eq!(
            StatusList::from_signed(&forged, &trust),
            Err(StatusError::NotSigned)
        );

        let delta = StatusDelta::between(&v1, &v2);
        assert_eq!(delta.format(), STATUS_FORMAT_V2);
        let back = StatusDelta::from_signed(&delta.sign(&key), &trust).unwrap();
        assert_eq!(v1.apply(&back).unwrap(), v2);

        let old = v2.in_format_1();
        assert_eq!(old.format(), STATUS_FORMAT);
        assert_eq!(old.get(20), IndexStatus::Issued(PermitState::Used));
        let old_delta = delta.in_format_1();
        let back = StatusDelta::from_signed(&old_delta.sign(&key), &trust).unwrap();
        assert_eq!(back.sign(&key)[KEY_ID_LEN], STATUS_FORMAT);
        assert_eq!(v1.apply(&back).unwrap(), old);

        // Mostly cancelled: the folded default becomes used and the exceptions follow.
        let mut many = StatusList::new(7, 3, 400);
        for i in 0..10 {
            many.set(i, PermitState::CancelledOnImport);
        }
        many.set(3, PermitState::Valid);
        let folded = many.in_format_1();
        assert_eq!(folded.default_state, PermitState::Used);
        assert_eq!(folded.exceptions.len(), 1);
        assert_eq!(folded.get(3), IndexStatus::Issued(PermitState::Valid));
    }

    /// A format-1 body cannot name state 4; a format-2 delta cannot name states 5–7.
    #[test]
    fn states_beyond_the_format_are_refused() {
        let (key, trust) = setup();
        let mut list = StatusList::new(7, 1, 200);
        list.set(0, PermitState::Valid);
        let mut body = list.encode_body(key.id());
        // default_state, after format, authority, version, issued_at (two bytes) and size
        body[KEY_ID_LEN + 6] = 4;
        let sig = key.sign(Namespace::StatusList, &[&body]);
        body.extend_from_slice(&sig);
        assert!(matches!(
            StatusList::from_signed(&body, &trust),
            Err(StatusError::Malformed(_))
        ));
        let mut w = Writer::default();
        w.bytes(&key.id().0);
        for v in [2u64, 7, 1, 2, 300, 1, 1, 5] {
            w.varint(v); // format 2, authority 7, versions 1→2, time, size 1, one change: state 5
        }
        let sig = key.sign(Namespace::StatusDeltaV2, &[&w.buf]);
        w.bytes(&sig);
        assert!(matches!(
            StatusDelta::from_signed(&w.buf, &trust),
            Err(StatusError::Malformed(_))
        ));
    }

    #[test]
    fn a_list_signed_by_another_authority_is_refused() {
        let (_, trust) = setup();
        let stranger = SecretKey::from_seed(&[6; 32]);
        let list = StatusList::new(7, 1, 200);
        assert_eq!(
            StatusList::from_signed(&list.sign(&stranger), &trust),
            Err(StatusError::NotSigned)
        );
        let other = StatusList::new(8, 1, 200);
        let (key, _) = setup();
        assert_eq!(
            StatusList::from_signed(&other.sign(&key), &trust),
            Err(StatusError::NotSigned)
        );
    }

    #[test]
    fn default_state_flips_when_most_are_used() {
        let mut states = vec![PermitState::Used; 1000];
        states[3] = PermitState::Valid;
        let l = StatusList::from_states(7, 1, 1, &states);
        assert_eq!(l.default_state, PermitState::Used);
        assert_eq!(l.exceptions.len(), 1);
        let (key, trust) = setup();
        assert_eq!(StatusList::from_signed(&l.sign(&key), &trust).unwrap(), l);
    }

    #[test]
    fn a_refresh_delta_keeps_the_version_and_moves_the_time() {
        let (key, trust) = setup();
        let mut v4 = StatusList::new(7, 4, 200);
        v4.set(9, PermitState::Revoked);
        let mut later = v4.clone();
        later.issued_at = 900;
        let d = StatusDelta::between(&v4, &later);
        assert_eq!((d.from_version, d.to_version, d.changes.len()), (4, 4, 0));
        let d = StatusDelta::from_signed(&d.sign(&key), &trust).unwrap();
        assert_eq!(v4.apply(&d).unwrap(), later);
        let mut grown = d.clone();
        grown.size += 1;
        assert_eq!(v4.apply(&grown), Err(StatusError::Mismatch));
        let mut changed = d.clone();
        changed.changes.insert(0, PermitState::Revoked);
        assert!(matches!(
            StatusDelta::from_signed(&changed.sign(&key), &trust),
            Err(StatusError::Malformed(_))
        ));
        let mut back = d;
        back.to_version = 3;
        assert!(matches!(
            StatusDelta::from_signed(&back.sign(&key), &trust),
            Err(StatusError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn rice_round_trips(mut idx in proptest::collection::btree_set(0u32..100_000, 0..400)) {
            let idx: Vec<u32> = std::mem::take(&mut idx).into_iter().collect();
            let k = rice_parameter(&idx, 100_000);
            let bits = rice_encode(&idx, k);
            prop_assert_eq!(rice_decode(&bits, k, idx.len(), 100_000), Some(idx));
        }

        #[test]
        fn random_status_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let (_, trust) = setup();
            let _ = StatusList::from_signed(&data, &trust);
            let _ = StatusDelta::from_signed(&data, &trust);
        }
    }
}
