//! The sync client against the real permitseal server, started in-process on port 0 over
//! SQLite in a temporary directory (its demo data gives an authority, a signing key and an
//! officer token). No stand-in: every request is answered by the server's own handlers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use permitseal_mobile::{
    BundleLoad, BundleSync, CheckpointKind, EndorsedLine, ExportEndorsement, HttpRequest,
    HttpResponse, HttpTransport, Language, Outbox, Place, RustTransport, ScanReport, SdkFailure,
    SyncClient, TransportError, UploadOutcome, VerdictKind, Verifier, clock,
};
use serde_json::json;

mod support;
use support::{Server, outbox_dir, rust, scan};

#[test]
fn bundle_sync_verify_upload_and_reuse_detection() {
    let server = Server::start();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let client = server.client(&server.officer);
    let qr = server.issue("KE/2026/0001");

    // First fetch: a new bundle, verified and installed.
    let etag = match client.sync_bundle(verifier.clone(), None).unwrap() {
        BundleSync::Updated {
            etag,
            load,
            newest_signed_time,
            bundle,
        } => {
            assert_eq!(load, BundleLoad::Installed);
            assert!(newest_signed_time > 0);
            assert!(!bundle.is_empty());
            etag.expect("the server sends an ETag")
        }
        other => panic!("{other:?}"),
    };
    let r = verifier.verify(qr.clone(), Language::En).unwrap();
    assert_eq!(r.verdict, VerdictKind::Valid, "{:?}", r.reasons);
    assert_eq!(r.permit.unwrap().issuing_country.code, "KE");
    // The bundle carried the log's signed tree head, which covers the permit's issuance.
    let head = verifier
        .log_tree_head()
        .expect("the bundle carries the tree head");
    assert!(head.size > 0, "{head:?}");
    assert_eq!(head.root_hex.len(), 64);
    // Same ETag: nothing to download.
    assert_eq!(
        client
            .sync_bundle(verifier.clone(), Some(etag.clone()))
            .unwrap(),
        BundleSync::UpToDate
    );

    // Queue scans and the export endorsement; upload in batches of 2.
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    for i in 0..5 {
        outbox.enqueue_scan(scan(&qr, i)).unwrap();
    }
    let endorsement_id = outbox
        .enqueue_endorsement(ExportEndorsement {
            qr_text: qr.clone(),
            lines: vec![EndorsedLine {
                block: "A".into(),
                quantity: "12.5".into(),
            }],
            port: "KEMBA".into(),
            transport_document: Some("MSKU1234567".into()),
            endorsed_at: clock::now() - 60,
            device_id: "test-device".into(),
            officer_id: Some("officer-1".into()),
        })
        .unwrap();
    outbox.enqueue_scan(scan(&qr, 9)).unwrap();
    let report = client.upload(outbox.clone(), 2).unwrap();
    assert_eq!(report.outcome, UploadOutcome::Done);
    assert_eq!((report.uploaded, report.rejected), (7, 0));
    assert_eq!(outbox.pending_count(), 0);

    // The endorsement marked the permit used: the next bundle says so, and a second export
    // of the same permit is refused as re-use.
    match client.sync_bundle(verifier.clone(), Some(etag)).unwrap() {
        BundleSync::Updated { load, .. } => assert_eq!(load, BundleLoad::Installed),
        other => panic!("{other:?}"),
    }
    let r = verifier
        .verify_at(
            qr.clone(),
            clock::now(),
            CheckpointKind::Export,
            Language::En,
        )
        .unwrap();
    assert_eq!(r.verdict, VerdictKind::Invalid);
    assert!(
        r.reasons.iter().any(|x| x.code == "USED"),
        "{:?}",
        r.reasons
    );
    let r = verifier
        .verify_at(
            qr.clone(),
            clock::now(),
            CheckpointKind::Import,
            Language::En,
        )
        .unwrap();
    assert!(
        r.reasons.iter().any(|x| x.code == "ENDORSED"),
        "{:?}",
        r.reasons
    );

    // Sending the same endorsement again (a batch whose answer was lost) is not counted twice.
    let again = json!({"endorsements": [{
        "id": endorsement_id, "device_id": "test-device",
        "endorsed_at": verifier_core::date::format_unix(clock::now() - 60),
        "place": {"locode": "KEMBA"}, "lines": [{"block": "A", "quantity": "12.5"}], "qr": qr}]});
    let (status, v) = server.call("POST", "/api/v1/endorsements", &server.officer, Some(again));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["accepted"].as_u64(), v["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn refusals_and_failures_are_results() {
    let server = Server::start();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let qr = server.issue("KE/2026/0002");
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    outbox.enqueue_scan(scan(&qr, 0)).unwrap();

    // A token the server does not know: nothing leaves the queue.
    let stranger = server.client("pst_not_a_real_token");
    let report = stranger.upload(outbox.clone(), 10).unwrap();
    assert_eq!(report.outcome, UploadOutcome::AuthFailed);
    assert_eq!(outbox.pending_count(), 1);
    // An issuer's token may not upload scans.
    let report = server
        .client(&server.issuer)
        .upload(outbox.clone(), 10)
        .unwrap();
    assert_eq!(report.outcome, UploadOutcome::AuthFailed);
    assert_eq!(outbox.pending_count(), 1);

    // An item the server refuses (a time more than a day ahead of the server's clock) is
    // set aside; the good items around it go through. Such an item is refused when recorded,
    // so it is put in the queue's file as an earlier app version (that did not check) left it.
    let mut future = scan(&qr, 0);
    future.scanned_at = clock::now() + 3 * 86_400;
    assert!(outbox.enqueue_scan(future.clone()).is_err());
    drop(outbox);
    let bad = "0b0e0a0d-0000-4000-8000-000000000001".to_string();
    let stored = permitseal_mobile::outbox::StoredItem {
        id: bad.clone(),
        queued_at: future.scanned_at,
        payload: permitseal_mobile::outbox::Payload::Scan(future),
        signature: None,
    };
    let frame = permitseal_mobile::outbox::encode(&serde_json::to_vec(&stored).unwrap());
    let mut items = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("outbox").join("items.log"))
        .unwrap();
    std::io::Write::write_all(&mut items, &frame).unwrap();
    drop(items);
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    outbox.enqueue_scan(scan(&qr, 1)).unwrap();
    let report = server
        .client(&server.officer)
        .upload(outbox.clone(), 10)
        .unwrap();
    assert_eq!(report.outcome, UploadOutcome::Done);
    assert_eq!((report.uploaded, report.rejected), (2, 1));
    assert_eq!(outbox.stats().rejected, 1);
    let kept = std::fs::read(dir.path().join("outbox").join("rejected.log")).unwrap();
    let (frames, _) = permitseal_mobile::outbox::decode_all(&kept);
    let item: permitseal_mobile::outbox::RejectedItem = serde_json::from_slice(frames[0]).unwrap();
    assert_eq!((item.item.id.as_str(), item.status), (bad.as_str(), 422));

    // Nothing listens: offline, for both calls.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let offline = SyncClient::new(format!("http://{closed}"), "pst_x".into(), 2, rust()).unwrap();
    assert!(matches!(
        offline.sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::Offline { .. }
    ));
    outbox.enqueue_scan(scan(&qr, 2)).unwrap();
    assert!(matches!(
        offline.upload(outbox.clone(), 10).unwrap().outcome,
        UploadOutcome::Offline { .. }
    ));
    assert_eq!(outbox.pending_count(), 1);

    // A path the server does not have: a server error with its status.
    let wrong = SyncClient::new(
        format!("{}/nothing-here", server.url()),
        server.officer.clone(),
        5,
        rust(),
    )
    .unwrap();
    assert_eq!(
        wrong.sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::ServerError { status: 404 }
    );
    assert!(!verifier.has_bundle());
}

/// A transport over the Rust one that fails or alters exchanges as a platform stack might.
struct Faulty {
    inner: Arc<dyn HttpTransport>,
    /// Errors for the next calls, in order; then the real exchange.
    fail: std::sync::Mutex<Vec<TransportError>>,
    /// A status to give instead of the real one.
    status: Option<u16>,
    /// Bytes to add to every body.
    pad: usize,
    calls: AtomicUsize,
}

impl Faulty {
    fn new(fail: Vec<TransportError>, status: Option<u16>, pad: usize) -> Arc<Faulty> {
        Arc::new(Faulty {
            inner: rust(),
            fail: std::sync::Mutex::new(fail),
            status,
            pad,
            calls: AtomicUsize::new(0),
        })
    }
}

impl HttpTransport for Faulty {
    fn send(
        &self,
        request: HttpRequest,
        authorization: String,
    ) -> Result<HttpResponse, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = {
            let mut fail = self.fail.lock().unwrap();
            (!fail.is_empty()).then(|| fail.remove(0))
        };
        if let Some(e) = next {
            return Err(e);
        }
        let mut response = self.inner.send(request, authorization)?;
        response.status = self.status.unwrap_or(response.status);
        response.body.resize(response.body.len() + self.pad, b' ');
        Ok(response)
    }
}

/// The SDK's own rules over any transport: one more try after `Offline`, none after a
/// timeout or a TLS failure, and no answer taken that is not final or larger than allowed.
#[test]
fn the_sdk_retries_offline_once_and_checks_what_the_transport_gives() {
    let server = Server::start();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let qr = server.issue("KE/2026/0009");
    let offline = || TransportError::Offline {
        reason: "connection reset".into(),
    };
    let client = |t: &Arc<Faulty>| {
        SyncClient::new(server.url(), server.officer.clone(), 5, t.clone()).unwrap()
    };

    // A reset once: tried again, and the bundle comes.
    let t = Faulty::new(vec![offline()], None, 0);
    assert!(matches!(
        client(&t).sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::Updated { .. }
    ));
    assert_eq!(t.calls.load(Ordering::SeqCst), 2);
    // Twice: offline, with the platform's reason, after two tries.
    let t = Faulty::new(vec![offline(), offline()], None, 0);
    match client(&t).sync_bundle(verifier.clone(), None).unwrap() {
        BundleSync::Offline { reason } => assert_eq!(reason, "connection reset"),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.calls.load(Ordering::SeqCst), 2);
    // A timeout or a TLS failure is reported at once, as what it is.
    for (e, want) in [
        (
            TransportError::Timeout {
                reason: "read".into(),
            },
            "timed out: read",
        ),
        (
            TransportError::Tls {
                reason: "pin mismatch".into(),
            },
            "TLS failure: pin mismatch",
        ),
    ] {
        let t = Faulty::new(vec![e], None, 0);
        match client(&t).sync_bundle(verifier.clone(), None).unwrap() {
            BundleSync::Offline { reason } => assert_eq!(reason, want),
            other => panic!("{other:?}"),
        }
        assert_eq!(t.calls.load(Ordering::SeqCst), 1);
    }

    // An upload answer larger than the SDK reads, or an interim status, is no answer: the
    // items stay queued, and go up with a transport that behaves.
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    let ids: Vec<String> = (0..3)
        .map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap())
        .collect();
    for t in [
        Faulty::new(vec![], None, 1 << 20),
        Faulty::new(vec![], Some(100), 0),
    ] {
        let report = client(&t).upload(outbox.clone(), 10).unwrap();
        assert!(
            matches!(report.outcome, UploadOutcome::Offline { .. }),
            "{report:?}"
        );
        assert_eq!((report.uploaded, outbox.pending_count()), (0, 3));
    }
    let report = server
        .client(&server.officer)
        .upload(outbox.clone(), 10)
        .unwrap();
    assert_eq!((report.outcome, report.uploaded), (UploadOutcome::Done, 3));
    server.assert_each_stored_once(&ids, &qr);
}

// ---------------------------------------------------------------------------------------
// Over TLS: the server behind a TLS-terminating proxy, as deployed.

#[test]
fn sync_over_tls_with_a_pinned_ca_reuses_one_connection() {
    let server = Server::start();
    let front = server.tls_front();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let qr = server.issue("KE/2026/0003");
    let client = SyncClient::new(
        front.url("localhost"),
        server.officer.clone(),
        10,
        RustTransport::with_certificate_authorities(vec![front.ca.clone()]).unwrap(),
    )
    .unwrap();

    let etag = match client.sync_bundle(verifier.clone(), None).unwrap() {
        BundleSync::Updated { etag, load, .. } => {
            assert_eq!(load, BundleLoad::Installed);
            etag.unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        verifier.verify(qr.clone(), Language::En).unwrap().verdict,
        VerdictKind::Valid
    );
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    let mut ids: Vec<String> = (0..6)
        .map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap())
        .collect();
    // Six batches of one and the bundle check: one TLS connection, kept alive.
    let report = client.upload(outbox.clone(), 1).unwrap();
    assert_eq!((report.outcome, report.uploaded), (UploadOutcome::Done, 6));
    assert_eq!(
        client
            .sync_bundle(verifier.clone(), Some(etag.clone()))
            .unwrap(),
        BundleSync::UpToDate
    );
    assert_eq!(front.accepted.load(Ordering::SeqCst), 1);

    // The proxy drops its idle connections: the next call notices before any answer and
    // goes again on a new connection, and nothing is lost or doubled.
    front.drop_connections();
    std::thread::sleep(Duration::from_millis(100));
    ids.extend((6..9).map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap()));
    let report = client.upload(outbox.clone(), 10).unwrap();
    assert_eq!((report.outcome, report.uploaded), (UploadOutcome::Done, 3));
    assert_eq!(front.accepted.load(Ordering::SeqCst), 2);
    server.assert_each_stored_once(&ids, &qr);
}

#[test]
fn a_server_the_phone_cannot_authenticate_is_offline_not_trusted() {
    let server = Server::start();
    let front = server.tls_front();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let offline_reason =
        |client: Arc<SyncClient>| match client.sync_bundle(verifier.clone(), None).unwrap() {
            BundleSync::Offline { reason } => reason,
            other => panic!("{other:?}"),
        };

    // The public web roots do not include the test CA (an interception proxy looks alike).
    let public =
        SyncClient::new(front.url("localhost"), server.officer.clone(), 5, rust()).unwrap();
    let reason = offline_reason(public);
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    // The right CA, but the certificate is for `localhost`, not `127.0.0.1`.
    let pinned = |host: &str| {
        SyncClient::new(
            front.url(host),
            server.officer.clone(),
            5,
            RustTransport::with_certificate_authorities(vec![front.ca.clone()]).unwrap(),
        )
        .unwrap()
    };
    let reason = offline_reason(pinned("127.0.0.1"));
    assert!(reason.contains("not valid for name"), "{reason}");
    // Plain HTTP to the TLS port: the proxy's refusal is not mistaken for an answer.
    let plain = SyncClient::new(
        format!("http://127.0.0.1:{}", front.addr.port()),
        server.officer.clone(),
        5,
        rust(),
    )
    .unwrap();
    assert!(matches!(
        plain.sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::Offline { .. }
    ));
    assert!(!verifier.has_bundle());
    // A CA list that is not a certificate is refused when the client is made.
    let bad = RustTransport::with_certificate_authorities(vec![b"not a certificate".to_vec()]);
    assert!(
        matches!(bad, Err(SdkFailure::InvalidInput { .. })),
        "{bad:?}"
    );
    assert!(matches!(
        RustTransport::with_certificate_authorities(vec![]),
        Err(SdkFailure::InvalidInput { .. })
    ));
}

/// A server that accepts connections and never answers (a black-holed network, a stuck
/// proxy): every call ends by its timeout as `Offline`, over plain HTTP and in the TLS handshake.
#[test]
fn a_server_that_never_answers_is_offline_after_the_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in silent.incoming().take(2) {
            open.push(conn.unwrap());
        }
        std::thread::sleep(Duration::from_secs(4));
    });
    // Any valid root key: the Ed25519 base point.
    let mut base_point = vec![0x66u8; 32];
    base_point[0] = 0x58;
    let verifier = Verifier::new(vec![base_point]).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
    ] {
        let client = SyncClient::new(url.clone(), "pst_x".into(), 1, rust()).unwrap();
        let start = Instant::now();
        let result = client.sync_bundle(verifier.clone(), None).unwrap();
        let took = start.elapsed();
        match result {
            BundleSync::Offline { reason } => {
                assert!(reason.contains("timed out"), "{url}: {reason}")
            }
            other => panic!("{url}: {other:?}"),
        }
        assert!(took < Duration::from_secs(3), "{url}: {took:?}");
    }
    held.join().unwrap();
}

// ---------------------------------------------------------------------------------------
// One contract for field reports.

/// Each report is recorded on the phone and, whatever the phone said, also posted as the
/// phone would send it to the server: whatever the server refuses the phone refused when the
/// officer recorded it (a fast clock's report among them), and whatever the phone queued the
/// server stores.
#[test]
fn the_phone_refuses_at_record_time_what_the_server_would_refuse() {
    use permitseal_mobile::outbox::report::{endorsement_wire, scan_wire};
    let server = Server::start();
    let qr = server.issue("KE/2026/0009");
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    let now = clock::now();
    let hour = 3600;
    let scans: Vec<(&str, ScanReport)> = vec![
        ("good", scan(&qr, 0)),
        (
            "23 h ahead",
            ScanReport {
                scanned_at: now + 23 * hour,
                ..scan(&qr, 0)
            },
        ),
        (
            "25 h ahead",
            ScanReport {
                scanned_at: now + 25 * hour,
                ..scan(&qr, 0)
            },
        ),
        (
            "a year ahead",
            ScanReport {
                scanned_at: now + 365 * 24 * hour,
                ..scan(&qr, 0)
            },
        ),
        (
            "1999",
            ScanReport {
                scanned_at: 946_684_799,
                ..scan(&qr, 0)
            },
        ),
        (
            "unassigned country",
            ScanReport {
                place: Place::Locode {
                    code: "XXMBA".into(),
                },
                ..scan(&qr, 0)
            },
        ),
        (
            "latitude",
            ScanReport {
                place: Place::Coordinates {
                    latitude: 90.5,
                    longitude: 0.0,
                },
                ..scan(&qr, 0)
            },
        ),
        (
            "coordinates",
            ScanReport {
                place: Place::Coordinates {
                    latitude: -4.05,
                    longitude: 39.66,
                },
                ..scan(&qr, 0)
            },
        ),
        (
            "long device id",
            ScanReport {
                device_id: "d".repeat(65),
                ..scan(&qr, 0)
            },
        ),
        (
            "long officer",
            ScanReport {
                officer_id: Some("o".repeat(101)),
                ..scan(&qr, 0)
            },
        ),
        (
            "control character",
            ScanReport {
                officer_id: Some("a\tb".into()),
                ..scan(&qr, 0)
            },
        ),
        (
            "empty qr",
            ScanReport {
                qr_text: String::new(),
                ..scan(&qr, 0)
            },
        ),
        (
            "long qr",
            ScanReport {
                qr_text: "A".repeat(4297),
                ..scan(&qr, 0)
            },
        ),
    ];
    let mut refused_by_both = 0;
    for (i, (name, report)) in scans.into_iter().enumerate() {
        let id = format!("contract-scan-{i}");
        let phone = outbox.enqueue_scan(report.clone());
        let (status, answer) = server.call(
            "POST",
            "/api/v1/scans",
            &server.officer,
            Some(json!({ "scans": [scan_wire(&id, &report, None)] })),
        );
        match (&phone, status) {
            (Ok(_), 200) => assert_eq!(answer["accepted"], 1, "{name}: {answer}"),
            (Err(SdkFailure::InvalidInput { .. }), 422) => refused_by_both += 1,
            _ => panic!("{name}: phone {phone:?}, server {status} {answer}"),
        }
    }
    assert_eq!(refused_by_both, 10);

    let endorsement = |lines: &[(&str, &str)], at: i64| ExportEndorsement {
        qr_text: qr.clone(),
        lines: lines
            .iter()
            .map(|(b, q)| EndorsedLine {
                block: (*b).into(),
                quantity: (*q).into(),
            })
            .collect(),
        port: "KEMBA".into(),
        transport_document: None,
        endorsed_at: at,
        device_id: "test-device".into(),
        officer_id: None,
    };
    let cases = [
        (
            "25 h ahead",
            endorsement(&[("A", "1")], now + 25 * hour),
            false,
        ),
        (
            "repeated block",
            endorsement(&[("A", "1"), ("A", "2")], now),
            false,
        ),
        (
            "seven decimals",
            endorsement(&[("A", "0.0000001")], now),
            false,
        ),
        ("good", endorsement(&[("A", "12.50")], now - 60), true),
    ];
    for (i, (name, e, ok)) in cases.into_iter().enumerate() {
        let phone = outbox.enqueue_endorsement(e.clone());
        let (status, answer) = server.call(
            "POST",
            "/api/v1/endorsements",
            &server.officer,
            Some(
                json!({ "endorsements": [endorsement_wire(&format!("contract-e-{i}"), &e, None)] }),
            ),
        );
        assert_eq!(
            (phone.is_ok(), status == 200),
            (ok, ok),
            "{name}: {phone:?} {answer}"
        );
        if !ok {
            assert_eq!(status, 422, "{name}: {answer}");
        }
    }
    // The phone queued exactly what it accepted, and all of it uploads.
    assert_eq!(outbox.pending_count(), 4);
    let report = server.client(&server.officer).upload(outbox, 10).unwrap();
    assert_eq!((report.uploaded, report.rejected), (4, 0));
}

// ---------------------------------------------------------------------------------------
// Killed mid-upload.

const CHILD_ENV: &str = "PERMITSEAL_TEST_UPLOAD_CHILD";

/// Child: uploads the outbox in `dir` to `url` one item per request, then says so.
#[test]
fn child_upload() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '\n');
    let (dir, url, token) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let outbox = Outbox::open(dir.into()).unwrap();
    let client = SyncClient::new(url.into(), token.into(), 10, rust()).unwrap();
    println!("\nSTARTED {}", outbox.pending_count());
    let report = client.upload(outbox, 1).unwrap();
    println!("DONE {report:?}");
}

#[test]
fn sigkill_mid_upload_loses_nothing_and_doubles_nothing_on_the_server() {
    let server = Server::start();
    let exe = std::env::current_exe().unwrap();
    support::kill_mid_upload(&server, 120, &[10, 25, 40], &|path: &str| {
        let mut child = Command::new(&exe);
        child
            .args([
                "child_upload",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(
                CHILD_ENV,
                format!("{path}\n{}\n{}", server.url(), server.officer),
            );
        child
    });
}
