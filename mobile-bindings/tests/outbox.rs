//! The outbox: its API, its validation, and crash safety under SIGKILL.
//!
//! The crash tests re-run this test binary as a child (`child_*` tests do nothing unless
//! their environment variable is set), kill it with SIGKILL at a point it does not choose,
//! and check from the files alone that every id the child was given back is present exactly
//! once, and every id it acknowledged is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use permitseal_mobile::{
    EndorsedLine, ExportEndorsement, Outbox, OutboxItemKind, Place, ScanReport, SdkFailure,
    VerdictKind,
};

const T: i64 = 1_796_000_000;

fn scan(i: i64) -> ScanReport {
    ScanReport {
        qr_text: format!("PS1:SCAN{i}"),
        scanned_at: T + i,
        place: Place::Locode {
            code: "KEMBA".into(),
        },
        verdict: VerdictKind::Valid,
        device_id: "device-1".into(),
        officer_id: Some("officer-7".into()),
    }
}

fn endorsement() -> ExportEndorsement {
    ExportEndorsement {
        qr_text: "PS1:ABC".into(),
        lines: vec![
            EndorsedLine {
                block: "A".into(),
                quantity: "12.50".into(),
            },
            EndorsedLine {
                block: "C".into(),
                quantity: "3".into(),
            },
        ],
        port: "KEMBA".into(),
        transport_document: Some("MSKU1234567".into()),
        endorsed_at: T,
        device_id: "device-1".into(),
        officer_id: None,
    }
}

#[test]
fn enqueue_list_ack_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox").to_str().unwrap().to_string();
    let ob = Outbox::open(path.clone()).unwrap();
    assert_eq!(ob.pending_count(), 0);
    assert_eq!(ob.oldest_pending_age_seconds(T), None);
    let a = ob.enqueue_scan(scan(5)).unwrap();
    let b = ob.enqueue_endorsement(endorsement()).unwrap();
    let c = ob.enqueue_scan(scan(1)).unwrap();
    // Random version-4 UUIDs.
    for id in [&a, &b, &c] {
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]));
    }
    assert_eq!(HashSet::from([&a, &b, &c]).len(), 3);
    let stats = ob.stats();
    assert_eq!(stats.pending, 3);
    assert_eq!(stats.oldest_queued_at, Some(T));
    assert_eq!(stats.rejected, 0);
    assert_eq!(ob.oldest_pending_age_seconds(T + 100), Some(100));
    let listed = ob.list_pending(10);
    assert_eq!(
        listed.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(listed[1].kind, OutboxItemKind::ExportEndorsement);
    assert_eq!(ob.list_pending(1).len(), 1);
    // Quantities are normalised on the way in.
    let stored = ob.peek(3);
    match &stored[1].payload {
        permitseal_mobile::outbox::Payload::Endorsement(e) => {
            assert_eq!(e.lines[0].quantity, "12.5")
        }
        other => panic!("{other:?}"),
    }

    // A second instance on the same directory is refused while this one lives.
    assert!(matches!(
        Outbox::open(path.clone()).unwrap_err(),
        SdkFailure::Storage { .. }
    ));

    ob.ack(&[b.clone(), "not-an-id".into()]).unwrap();
    assert_eq!(ob.pending_count(), 2);
    drop(ob);
    let ob = Outbox::open(path.clone()).unwrap();
    assert_eq!(
        ob.peek(10).into_iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![a.clone(), c.clone()]
    );
    ob.ack(&[a, c]).unwrap();
    assert_eq!(ob.pending_count(), 0);
    // Everything acknowledged: both files are compacted to nothing.
    for f in ["items.log", "acks.log"] {
        let len = std::fs::metadata(dir.path().join("outbox").join(f))
            .unwrap()
            .len();
        assert_eq!(len, 0, "{f}");
    }
    drop(ob);
    assert_eq!(Outbox::open(path).unwrap().pending_count(), 0);
}

#[test]
fn many_acks_compact_the_item_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let ob = Outbox::open(path.clone()).unwrap();
    let ids: Vec<String> = (0..300)
        .map(|i| ob.enqueue_scan(scan(i)).unwrap())
        .collect();
    let before = std::fs::metadata(dir.path().join("items.log"))
        .unwrap()
        .len();
    ob.ack(&ids[..280]).unwrap();
    let after = std::fs::metadata(dir.path().join("items.log"))
        .unwrap()
        .len();
    assert!(after < before / 10, "{before} → {after}");
    assert_eq!(
        std::fs::metadata(dir.path().join("acks.log"))
            .unwrap()
            .len(),
        0
    );
    drop(ob);
    let ob = Outbox::open(path).unwrap();
    let left: Vec<String> = ob.peek(100).into_iter().map(|i| i.id).collect();
    assert_eq!(left, ids[280..].to_vec());
}

#[test]
fn invalid_items_are_refused_and_not_queued() {
    let dir = tempfile::tempdir().unwrap();
    let ob = Outbox::open(dir.path().to_str().unwrap().into()).unwrap();
    let field = |r: Result<String, SdkFailure>| match r.unwrap_err() {
        SdkFailure::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let mut s = scan(1);
    s.place = Place::Locode {
        code: "XXMBA".into(),
    };
    assert_eq!(field(ob.enqueue_scan(s)), "place.code");
    let mut s = scan(1);
    s.place = Place::Locode {
        code: "KEmba".into(),
    };
    assert_eq!(field(ob.enqueue_scan(s)), "place.code");
    let mut s = scan(1);
    s.place = Place::Coordinates {
        latitude: f64::NAN,
        longitude: 0.0,
    };
    assert_eq!(field(ob.enqueue_scan(s)), "place.latitude");
    let mut s = scan(1);
    s.place = Place::Coordinates {
        latitude: -4.05,
        longitude: 181.0,
    };
    assert_eq!(field(ob.enqueue_scan(s)), "place.longitude");
    let mut s = scan(1);
    s.scanned_at = 0;
    assert_eq!(field(ob.enqueue_scan(s)), "scanned_at");
    let mut s = scan(1);
    s.device_id = "d".repeat(65);
    assert_eq!(field(ob.enqueue_scan(s)), "device_id");
    let mut s = scan(1);
    s.device_id = String::new();
    assert_eq!(field(ob.enqueue_scan(s)), "device_id");
    let mut s = scan(1);
    s.qr_text = " PS1:".into();
    assert_eq!(field(ob.enqueue_scan(s)), "qr_text");
    let mut s = scan(1);
    s.qr_text = "A".repeat(4297);
    assert_eq!(field(ob.enqueue_scan(s)), "qr_text");

    let mut e = endorsement();
    e.lines[1].block = "A".into();
    assert_eq!(field(ob.enqueue_endorsement(e)), "lines.block");
    let mut e = endorsement();
    e.lines[0].block = "AB".into();
    assert_eq!(field(ob.enqueue_endorsement(e)), "lines.block");
    let mut e = endorsement();
    e.lines[0].quantity = "0".into();
    assert_eq!(field(ob.enqueue_endorsement(e)), "lines.quantity");
    let mut e = endorsement();
    e.lines.clear();
    assert_eq!(field(ob.enqueue_endorsement(e)), "lines");
    let mut e = endorsement();
    e.port = "KE".into();
    assert_eq!(field(ob.enqueue_endorsement(e)), "port");
    let mut e = endorsement();
    e.transport_document = Some("x".repeat(71));
    assert_eq!(field(ob.enqueue_endorsement(e)), "transport_document");
    let mut e = endorsement();
    e.lines = (0..27)
        .map(|_| EndorsedLine {
            block: "A".into(),
            quantity: "1".into(),
        })
        .collect();
    assert_eq!(field(ob.enqueue_endorsement(e)), "lines");
    assert_eq!(ob.pending_count(), 0);
    let mut s = scan(1);
    s.place = Place::Coordinates {
        latitude: -4.05,
        longitude: 39.66,
    };
    s.verdict = VerdictKind::ValidWithWarnings;
    ob.enqueue_scan(s.clone()).unwrap();
    match &ob.peek(1)[0].payload {
        permitseal_mobile::outbox::Payload::Scan(back) => assert_eq!(back, &s),
        other => panic!("{other:?}"),
    }
}

#[test]
fn threads_enqueue_and_ack_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let ob = Outbox::open(path.clone()).unwrap();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let ob = ob.clone();
                s.spawn(move || {
                    (0..40)
                        .map(|i| ob.enqueue_scan(scan(t * 100 + i)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let acker = {
            let ob = ob.clone();
            s.spawn(move || {
                let mut acked = Vec::new();
                for _ in 0..20 {
                    let ids: Vec<String> = ob.peek(3).into_iter().map(|p| p.id).collect();
                    ob.ack(&ids).unwrap();
                    acked.extend(ids);
                }
                acked
            })
        };
        let mut all: Vec<String> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let acked = acker.join().unwrap();
        all.retain(|id| !acked.contains(id));
        all
    });
    drop(ob);
    let ob = Outbox::open(path).unwrap();
    let mut pending: Vec<String> = ob.peek(1000).into_iter().map(|p| p.id).collect();
    let mut want = ids;
    pending.sort();
    want.sort();
    assert_eq!(pending, want);
}

#[test]
fn refused_items_move_aside_durably() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let ob = Outbox::open(path.clone()).unwrap();
    let a = ob.enqueue_scan(scan(1)).unwrap();
    let b = ob.enqueue_scan(scan(2)).unwrap();
    let item = ob.peek(1).remove(0);
    assert_eq!(item.id, a);
    ob.reject(permitseal_mobile::outbox::RejectedItem {
        item,
        status: 422,
        answer: r#"{"error":"invalid_time"}"#.into(),
    })
    .unwrap();
    assert_eq!(ob.stats().rejected, 1);
    assert_eq!(ob.list_pending(10).len(), 1);
    drop(ob);
    let ob = Outbox::open(path).unwrap();
    assert_eq!(ob.stats().rejected, 1);
    assert_eq!(ob.list_pending(10)[0].id, b);
    let kept = std::fs::read(dir.path().join("rejected.log")).unwrap();
    let (frames, _) = permitseal_mobile::outbox::decode_all(&kept);
    let back: permitseal_mobile::outbox::RejectedItem = serde_json::from_slice(frames[0]).unwrap();
    assert_eq!((back.item.id.as_str(), back.status), (a.as_str(), 422));
}

#[test]
fn a_file_that_is_not_a_directory_is_a_storage_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        Outbox::open(file.to_str().unwrap().into()).unwrap_err(),
        SdkFailure::Storage { .. }
    ));
}

// ---------------------------------------------------------------------------------------
// Crash safety.

const CHILD_DIR: &str = "PERMITSEAL_TEST_OUTBOX_CHILD";

/// Child: enqueue forever, printing `ENQ <id>` once each enqueue has returned, and every
/// third item acknowledging the oldest pending ones, printing `ACKING <id>` before and
/// `ACK <id>` after `ack` returned.
#[test]
fn child_enqueue_and_ack_forever() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let ob = Outbox::open(dir).unwrap();
    let mut out = std::io::stdout().lock();
    // The harness has printed `test … ... ` without a newline: start a line of our own.
    writeln!(out).unwrap();
    for i in 0.. {
        let id = if i % 5 == 4 {
            ob.enqueue_endorsement(endorsement()).unwrap()
        } else {
            ob.enqueue_scan(scan(i)).unwrap()
        };
        writeln!(out, "ENQ {id}").unwrap();
        out.flush().unwrap();
        if i % 3 == 2 {
            let ids: Vec<String> = ob.peek(2).into_iter().map(|p| p.id).collect();
            for id in &ids {
                writeln!(out, "ACKING {id}").unwrap();
            }
            out.flush().unwrap();
            ob.ack(&ids).unwrap();
            for id in ids {
                writeln!(out, "ACK {id}").unwrap();
            }
            out.flush().unwrap();
        }
    }
}

#[test]
fn sigkill_at_any_point_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q").to_str().unwrap().to_string();
    // What the children were told of each id.
    let mut told: HashMap<String, State> = HashMap::new();
    let exe = std::env::current_exe().unwrap();
    for round in 0..12u64 {
        let mut child = Command::new(&exe)
            .args(["child_enqueue_and_ack_forever", "--exact", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(CHILD_DIR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Even rounds kill after a number of returned enqueues; odd rounds after a time, so
        // the kill lands inside a write, an fsync or a compaction rather than between lines.
        let target = 20 + round * 23;
        let deadline = Duration::from_millis(3 + (round * 11) % 37);
        let mut start = None;
        let mut enqueued = 0;
        loop {
            let line = lines.next().unwrap().unwrap();
            let started = *start.get_or_insert_with(Instant::now);
            if note(&mut told, &line) {
                enqueued += 1;
            }
            let done = if round % 2 == 0 {
                enqueued >= target
            } else {
                started.elapsed() >= deadline
            };
            if done {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        // Whatever the child printed before dying was returned to it: count it too.
        for line in lines {
            note(&mut told, &line.unwrap());
        }
        child.wait().unwrap();

        // Reopen (recovering any torn record) and compare with what was acknowledged.
        let ob = Outbox::open(path.clone()).unwrap();
        let pending: Vec<String> = ob.peek(usize::MAX).into_iter().map(|p| p.id).collect();
        let unique: HashSet<&String> = pending.iter().collect();
        assert_eq!(
            unique.len(),
            pending.len(),
            "round {round}: an id appears twice"
        );
        for (id, state) in &mut told {
            match state {
                State::Acked => {
                    assert!(!unique.contains(id), "round {round}: acked {id} came back")
                }
                State::Queued => assert!(unique.contains(id), "round {round}: lost {id}"),
                // Killed inside `ack`: either outcome is right; settle it for later rounds.
                State::Acking if unique.contains(id) => *state = State::Queued,
                State::Acking => *state = State::Acked,
            }
        }
        // At most the one item the child was enqueuing (or acking) when killed is extra.
        let unknown: Vec<&String> = pending
            .iter()
            .filter(|id| !told.contains_key(*id))
            .collect();
        assert!(
            unknown.len() <= 1,
            "round {round}: unknown items {unknown:?} of {pending:?}"
        );
        for id in &pending {
            told.entry(id.clone()).or_insert(State::Queued);
        }
        assert!(told.len() >= 20, "round {round}");
        drop(ob);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `enqueue` returned this id.
    Queued,
    /// `ack` was called with it but had not returned.
    Acking,
    /// `ack` returned.
    Acked,
}

/// Records one line of the child's output; true for a returned enqueue.
fn note(told: &mut HashMap<String, State>, line: &str) -> bool {
    if let Some(id) = line.strip_prefix("ENQ ") {
        told.entry(id.to_string()).or_insert(State::Queued);
        true
    } else if let Some(id) = line.strip_prefix("ACKING ") {
        told.insert(id.to_string(), State::Acking);
        false
    } else if let Some(id) = line.strip_prefix("ACK ") {
        told.insert(id.to_string(), State::Acked);
        false
    } else {
        false
    }
}

/// An endorsement after the last valid day that the code itself states is refused at record
/// time, as the server would refuse it; one within the dates is queued.
#[test]
fn endorsements_outside_the_permits_dates_are_refused() {
    use verifier_core::keys::SecretKey;
    use verifier_core::payload;
    use verifier_core::permit::{IssueContext, Permit, PermitDraft};
    let code = |valid_until: &str| {
        let draft: PermitDraft = serde_json::from_value(serde_json::json!({
            "document_type": "export", "number": "KE/2026/0001", "valid_until": valid_until,
            "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
            "importer": {"name": "Importer GmbH", "country": "DE"},
            "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                       "appendix": "II", "source": "A", "quantity": "12.50", "unit": "KIL"}]}))
        .unwrap();
        let ctx = IssueContext {
            issuing_country: "KE".parse().unwrap(),
            // 2026-06-01: months before `T`.
            issued_at: 1_780_272_000,
            status_index: 0,
        };
        payload::sign(
            &Permit::new(&draft, ctx).unwrap(),
            &SecretKey::from_seed(&[4; 32]),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let ob = Outbox::open(dir.path().to_str().unwrap().into()).unwrap();
    let mut e = endorsement();
    e.lines.truncate(1);
    e.qr_text = code("2026-11-01");
    match ob.enqueue_endorsement(e.clone()).unwrap_err() {
        SdkFailure::InvalidInput { field, reason } => {
            assert_eq!(field, "endorsed_at");
            assert!(reason.contains("2026-11-01"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ob.pending_count(), 0);
    e.qr_text = code("2026-11-30");
    ob.enqueue_endorsement(e).unwrap();
    assert_eq!(ob.pending_count(), 1);
}
