//! The field stories of docs/STORIES.md, each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use permitseal_e2e::{
    Backend, Phone, Story, World, codes, croc_export, describe, now, on_both_backends,
};
use permitseal_mobile::{BundleSync, CheckpointKind, SdkFailure, UploadOutcome, VerdictKind};
use serde_json::{Value, json};
use verifier_core::keys::SecretKey;
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::wire::{base45_decode, base45_encode};

on_both_backends!(
    story_1_issue_and_check_at_the_border,
    story_2_reuse_at_another_port,
    story_3_revocation_reaches_the_field,
    story_4_forgery_and_tampering,
    story_5_importing_country,
    story_6_faults,
    story_7_key_rotation,
    story_8_root_key_rotation,
    story_9_year_end_reports,
    story_10_a_trader_applies_and_the_border_checks,
);

const DAY: i64 = 86_400;

fn story_1_issue_and_check_at_the_border(backend: Backend) {
    let story = Story::new("1 issue and check at the border", backend);
    let mut w = World::new(&story, backend);
    let draft = croc_export("ZA/GP/2026/004512");
    let permit = w.issue(draft.clone());
    let qr_text = permit["qr_text"].as_str().unwrap().to_owned();

    let (status, png) = w.d.call_bytes(
        "GET",
        &format!("{}/qr.png", w.permit_path("ZA/GP/2026/004512")),
        Some(&w.clerk),
        None,
    );
    assert_eq!(status, 200);
    let scanned = verifier_core::qr::decode_image(&png).unwrap();
    assert_eq!(scanned, qr_text);
    story.step(format!(
        "QR printed as a {}-byte PNG and read back from the image: {} characters",
        png.len(),
        scanned.len()
    ));

    let mut durban = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    durban.sync(&story);
    let mut cape_town = Phone::enrol(&w.d, "Cape Town officer", &w.officer_za);
    cape_town.sync(&story);

    w.d.kill();
    story.step("no network at the quay: the server is unreachable from here on");
    let v = durban.scan(&story, &scanned);
    assert_eq!(v.verdict, VerdictKind::Valid, "{}", describe(&v));
    let p = v.permit.as_ref().unwrap();
    assert_eq!(p.number, draft["number"]);
    assert_eq!(p.exporter.name, draft["exporter"]["name"]);
    assert_eq!(p.exporter.country.code, "ZA");
    let importer = p.importer.as_ref().unwrap();
    assert_eq!(importer.name, draft["importer"]["name"]);
    assert_eq!(importer.country.code, "FR");
    assert_eq!(p.valid_until, draft["valid_until"]);
    assert_eq!(p.lines.len(), 1);
    let line = &p.lines[0];
    assert_eq!(
        (
            line.scientific_name.as_str(),
            line.term.code.as_str(),
            line.quantity.as_str()
        ),
        ("Crocodylus niloticus", "SKI", "250")
    );
    assert_eq!(
        (line.appendix.code.as_str(), line.source.code.as_str()),
        ("II", "C")
    );
    story.step(format!(
        "fields match the issued permit: {} {} {} {} from {} to {}, valid until {}",
        p.number,
        line.quantity,
        line.term.name,
        line.scientific_name,
        p.exporter.name,
        importer.name,
        p.valid_until
    ));

    durban.endorse(&scanned, "ZADUR", &[("A", "250")]);
    story.step("officer records the export endorsement offline: block A, 250 skins");
    let r = durban.upload(&story);
    assert!(matches!(r.outcome, UploadOutcome::Offline { .. }), "{r:?}");
    assert_eq!(
        durban.outbox.pending_count(),
        1,
        "the endorsement waits in the outbox"
    );

    w.d.restart();
    story.step("connectivity returns");
    let r = durban.upload(&story);
    assert_eq!(
        (r.outcome.clone(), r.uploaded),
        (UploadOutcome::Done, 1),
        "{r:?}"
    );
    assert_eq!(durban.outbox.pending_count(), 0);
    let server_view = w.d.ok(
        "GET",
        &w.permit_path("ZA/GP/2026/004512"),
        Some(&w.clerk),
        None,
    );
    assert_eq!(server_view["state"], "used");
    story.step("the server marked the permit used");

    cape_town.sync(&story);
    let v = cape_town.scan(&story, &scanned);
    assert_eq!(v.verdict, VerdictKind::Invalid);
    assert!(codes(&v).contains(&"USED".to_owned()), "{}", describe(&v));
}

fn story_2_reuse_at_another_port(backend: Backend) {
    let story = Story::new("2 re-use at another port", backend);
    let w = World::new(&story, backend);
    let qr = w.issue(croc_export("ZA/GP/2026/004513"))["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut durban = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    durban.sync(&story);
    assert_eq!(durban.scan(&story, &qr).verdict, VerdictKind::Valid);
    durban.report_scan(&qr, "ZADUR", VerdictKind::Valid);
    durban.endorse(&qr, "ZADUR", &[("A", "250")]);
    assert_eq!(durban.upload(&story).outcome, UploadOutcome::Done);

    let mut port_elizabeth = Phone::enrol(&w.d, "Port Elizabeth officer", &w.officer_za);
    port_elizabeth.sync(&story);
    let v = port_elizabeth.scan(&story, &qr);
    assert_eq!(
        v.verdict,
        VerdictKind::Invalid,
        "the phone warns from its last sync"
    );
    assert!(codes(&v).contains(&"USED".to_owned()));
    port_elizabeth.report_scan(&qr, "ZAPLZ", v.verdict);
    let r = port_elizabeth.upload(&story);
    assert_eq!(r.outcome, UploadOutcome::Done);
    assert!(
        r.alerts >= 1,
        "the server raises an alert on the upload: {r:?}"
    );

    let alerts = w.d.ok(
        "GET",
        &format!("/api/v1/authorities/{}/alerts", w.za),
        Some(&w.clerk),
        None,
    );
    let kinds: Vec<&str> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    story.step(format!("the issuing authority's alert list: {kinds:?}"));
    assert!(
        kinds.contains(&"used_permit_scanned"),
        "re-use alert expected: {alerts}"
    );

    // The second port endorses anyway: a second endorsement is re-use beyond doubt.
    port_elizabeth.endorse(&qr, "ZAPLZ", &[("A", "250")]);
    port_elizabeth.upload(&story);
    let alerts = w.d.ok(
        "GET",
        &format!(
            "/api/v1/authorities/{}/alerts?kind=second_endorsement",
            w.za
        ),
        Some(&w.clerk),
        None,
    );
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "{alerts}");
    story.step("a second endorsement raised a second_endorsement alert");
}

fn story_3_revocation_reaches_the_field(backend: Backend) {
    let story = Story::new("3 revocation reaches the field", backend);
    let w = World::new(&story, backend);
    let issued = w.issue(croc_export("ZA/GP/2026/004514"));
    let qr = issued["qr_text"].as_str().unwrap().to_owned();
    let mut synced = Phone::enrol(&w.d, "Richards Bay officer", &w.officer_za);
    let mut offline = Phone::enrol(&w.d, "Kruger ranger", &w.officer_za);
    synced.sync(&story);
    offline.sync(&story);
    assert_eq!(synced.scan(&story, &qr).verdict, VerdictKind::Valid);

    w.d.ok(
        "POST",
        &format!("{}/revoke", w.permit_path("ZA/GP/2026/004514")),
        Some(&w.clerk),
        Some(json!({"reason": "obtained by false declaration"})),
    );
    story.step("the authority revoked the permit");
    synced.sync(&story);
    let v = synced.scan(&story, &qr);
    assert_eq!(v.verdict, VerdictKind::Invalid);
    assert!(codes(&v).contains(&"REVOKED".to_owned()));

    // The ranger's phone has not synced for four days (the limit is three).
    let later = now() + 4 * DAY;
    let v = offline.check(&qr, later, CheckpointKind::Export);
    story.step(format!(
        "Kruger ranger, four days without sync, scans: {}",
        describe(&v)
    ));
    assert_ne!(
        v.verdict,
        VerdictKind::Valid,
        "never plain valid on stale data"
    );
    assert!(codes(&v).contains(&"STALE_STATUS".to_owned()));
}

fn story_4_forgery_and_tampering(backend: Backend) {
    let story = Story::new("4 forgery and tampering", backend);
    // The server starts three minutes behind, so that a permit it signs before the theft lies
    // in an earlier minute than the theft, whenever the story runs.
    let w = World::with_clock_offset(&story, backend, -180);
    let genuine = w.issue(croc_export("ZA/GP/2026/004515"))["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut phone = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    phone.sync(&story);

    // A forger with their own key.
    let forger = SecretKey::from_seed(&[0x66; 32]);
    let draft: PermitDraft = serde_json::from_value(croc_export("ZA/GP/2026/009999")).unwrap();
    let ctx = IssueContext {
        issuing_country: "ZA".parse().unwrap(),
        issued_at: now() - 3600,
        status_index: 0,
    };
    let forged = verifier_core::payload::sign(&Permit::new(&draft, ctx).unwrap(), &forger);
    let v = phone.scan(&story, &forged);
    assert_eq!(
        (v.verdict, codes(&v)),
        (VerdictKind::Invalid, vec!["UNKNOWN_KEY".to_owned()])
    );
    assert!(v.permit.is_none(), "a forgery's fields are never shown");

    // One character changed in the QR text.
    let mut bytes = base45_decode(&genuine[4..]).unwrap();
    bytes[60] ^= 0x04;
    let altered = format!("PS1:{}", base45_encode(&bytes));
    let changed = genuine
        .chars()
        .zip(altered.chars())
        .filter(|(a, b)| a != b)
        .count();
    story.step(format!(
        "a genuine permit with {changed} character(s) of its QR changed"
    ));
    let v = phone.scan(&story, &altered);
    assert_eq!(v.verdict, VerdictKind::Invalid);
    assert!(
        codes(&v)
            .iter()
            .any(|c| c == "BAD_SIGNATURE" || c == "MALFORMED"),
        "{}",
        describe(&v)
    );

    // A key is stolen: permits it signed from the theft on are forgeries.
    let before = w.issue(croc_export("ZA/GP/2026/004516"));
    w.d.set_clock_offset(0);
    let since = (now() / 60) * 60;
    let after = w.issue(croc_export("ZA/GP/2026/004517"));
    let stolen = after["kid"].as_str().unwrap().to_owned();
    w.d.ok(
        "POST",
        &format!("/api/v1/authorities/{}/keys/rotate", w.za),
        Some(&w.clerk),
        None,
    );
    let since_text = verifier_core::date::format_unix(since);
    w.d.ok(
        "POST",
        &format!("/api/v1/authorities/{}/keys/{stolen}/compromise", w.za),
        Some(&w.clerk),
        Some(json!({"since": since_text})),
    );
    story.step(format!(
        "the authority rotated its key and reported key {stolen} stolen since {since_text}"
    ));
    phone.sync(&story);
    let v = phone.scan(&story, after["qr_text"].as_str().unwrap());
    assert_eq!(v.verdict, VerdictKind::Invalid);
    assert!(
        codes(&v).contains(&"KEY_COMPROMISED".to_owned()),
        "{}",
        describe(&v)
    );
    let v = phone.scan(&story, before["qr_text"].as_str().unwrap());
    assert_eq!(
        v.verdict,
        VerdictKind::ValidWithWarnings,
        "documented: confirm with the issuer"
    );
    assert!(
        codes(&v).contains(&"KEY_COMPROMISED_LATER".to_owned()),
        "{}",
        describe(&v)
    );
}

fn story_5_importing_country(backend: Backend) {
    let story = Story::new("5 importing country", backend);
    let w = World::new(&story, backend);
    let qr = w.issue(croc_export("ZA/GP/2026/004518"))["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut durban = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    durban.sync(&story);
    durban.endorse(&qr, "ZADUR", &[("A", "240")]);
    assert_eq!(durban.upload(&story).outcome, UploadOutcome::Done);
    story.step("exported: 240 of 250 skins endorsed at Durban");

    let body = json!({"qr": qr, "checkpoint": "import"});
    let fr = w.d.ok(
        "POST",
        "/api/v1/verify",
        Some(&w.importer_fr),
        Some(body.clone()),
    );
    story.step(format!(
        "France verifies online: {} {:?}, server state {}",
        fr["verification"]["verdict"],
        fr["verification"]["reasons"].as_array().map(|r| r.len()),
        fr["server"]["state"]
    ));
    assert_eq!(fr["verification"]["verdict"], "valid");
    assert_eq!(fr["server"]["state"], "used");
    let endorsements = fr["usage"]["endorsements"].as_array().unwrap();
    assert_eq!(endorsements.len(), 1);
    let e = serde_json::to_string(&endorsements[0]).unwrap();
    assert!(
        e.contains("ZADUR") && e.contains("240"),
        "usage shows port and quantity: {e}"
    );
    story.step(format!("France sees the usage history: {e}"));

    let de =
        w.d.ok("POST", "/api/v1/verify", Some(&w.importer_de), Some(body));
    assert_eq!(de["verification"]["verdict"], "valid");
    assert!(
        de["usage"].is_null(),
        "a third country sees the verdict only: {de}"
    );
    story.step("Germany (not a party to this trade) sees the verdict only");
}

fn story_6_faults(backend: Backend) {
    let story = Story::new("6 faults", backend);
    let mut w = World::new(&story, backend);
    let qr = w.issue(croc_export("ZA/GP/2026/004519"))["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut phones: Vec<Phone> = (1..=3)
        .map(|i| Phone::enrol(&w.d, &format!("handheld {i}"), &w.officer_za))
        .collect();
    for p in &mut phones {
        p.sync(&story);
    }
    let mut ids = std::collections::BTreeSet::new();
    for p in &phones {
        for _ in 0..200 {
            ids.insert(p.report_scan(&qr, "ZADUR", VerdictKind::Valid));
        }
    }
    story.step(format!("three phones queued {} scan reports", ids.len()));

    let mut uploads = vec![];
    for p in phones {
        let story = story.clone();
        uploads.push(std::thread::spawn(move || {
            let mut reports = vec![];
            for _ in 0..40 {
                let r = p.upload(&story);
                let done = r.outcome == UploadOutcome::Done;
                reports.push(r);
                if done {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            (p, reports)
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    w.d.kill();
    std::thread::sleep(std::time::Duration::from_millis(500));
    w.d.restart();
    let mut interrupted = 0;
    for h in uploads {
        let (p, reports) = h.join().unwrap();
        interrupted += reports
            .iter()
            .filter(|r| r.outcome != UploadOutcome::Done)
            .count();
        assert_eq!(
            reports.last().unwrap().outcome,
            UploadOutcome::Done,
            "{} never finished",
            p.name
        );
        assert_eq!(p.outbox.pending_count(), 0);
    }
    story.step(format!(
        "uploads interrupted {interrupted} time(s) by the kill, then completed"
    ));

    let admin = w.d.admin.clone();
    let v = w.d.ok(
        "POST",
        "/api/v1/verify",
        Some(&admin),
        Some(json!({"qr": qr})),
    );
    let stored: Vec<String> = v["usage"]["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: std::collections::BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), unique.len(), "no scan stored twice");
    assert_eq!(unique, ids, "every scan stored, exactly once");
    story.step(format!(
        "server holds all {} scans, each once",
        stored.len()
    ));

    // Wrong clocks.
    let mut phone = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    phone.sync(&story);
    let v = phone.check(&qr, now() - 2 * DAY, CheckpointKind::Export);
    story.step(format!(
        "a phone with its clock two days back: {}",
        describe(&v)
    ));
    assert_eq!(v.verdict, VerdictKind::ValidWithWarnings);
    assert!(codes(&v).contains(&"CLOCK_BEHIND".to_owned()));
    let v = phone.check(&qr, now() + 365 * DAY, CheckpointKind::Export);
    story.step(format!(
        "a phone with its clock a year ahead: {}",
        describe(&v)
    ));
    assert_eq!(v.verdict, VerdictKind::Invalid);
    assert!(
        codes(&v).contains(&"EXPIRED".to_owned()) && codes(&v).contains(&"STALE_STATUS".to_owned())
    );
}

fn story_7_key_rotation(backend: Backend) {
    let story = Story::new("7 key rotation", backend);
    let w = World::new(&story, backend);
    let old = w.issue(croc_export("ZA/GP/2026/004520"));
    let mut phone = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    phone.sync(&story);
    let rotation = w.d.ok(
        "POST",
        &format!("/api/v1/authorities/{}/keys/rotate", w.za),
        Some(&w.clerk),
        None,
    );
    story.step(format!(
        "the authority rotated its key: {} retired, {} active",
        rotation["retired"]["kid"], rotation["active"]["kid"]
    ));
    let new = w.issue(croc_export("ZA/GP/2026/004521"));
    assert_ne!(
        old["kid"], new["kid"],
        "new permits are signed with the new key"
    );
    assert_eq!(new["kid"], rotation["active"]["kid"]);

    let v = phone.scan(&story, new["qr_text"].as_str().unwrap());
    assert_eq!(
        (v.verdict, codes(&v)),
        (VerdictKind::Invalid, vec!["UNKNOWN_KEY".to_owned()]),
        "before its next sync the phone does not know the key"
    );
    phone.sync(&story);
    for p in [&old, &new] {
        let v = phone.scan(&story, p["qr_text"].as_str().unwrap());
        assert_eq!(
            v.verdict,
            VerdictKind::Valid,
            "{}: {}",
            p["number"],
            describe(&v)
        );
    }
}

/// Syncs until `done` accepts the result (signed lists follow database changes within about a
/// second); panics after 10 s.
fn sync_until(
    phone: &mut Phone,
    done: impl Fn(&Result<BundleSync, SdkFailure>) -> bool,
) -> Result<BundleSync, SdkFailure> {
    for _ in 0..100 {
        let r = phone.try_sync();
        if done(&r) {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{}: the sync never gave the expected result", phone.name);
}

fn story_8_root_key_rotation(backend: Backend) {
    let story = Story::new("8 root key rotation", backend);
    let w = World::new(&story, backend);
    let permit = w.issue(croc_export("ZA/GP/2026/004530"));
    let qr = permit["qr_text"].as_str().unwrap().to_owned();
    let mut old_app = Phone::enrol(&w.d, "Durban officer (old app)", &w.officer_za);
    old_app.sync(&story);

    let incoming: serde_json::Value = serde_json::from_str(&w.d.cli(&["root", "rotate"])).unwrap();
    story.step(format!(
        "operator began a root key rotation: incoming root {}",
        incoming["kid"]
    ));
    let roots = w.d.root_keys();
    assert_eq!(roots.len(), 2, "the root-key endpoint lists both keys");
    let new_root = roots[1].clone();

    // An app release that pins only the new root works during the rotation, and so does the
    // old app: the trust list carries both signatures.
    let mut new_app = Phone::enrol_pinning(
        &w.d,
        "Cape Town officer (new app)",
        &w.officer_za,
        vec![new_root],
    );
    sync_until(&mut new_app, |r| {
        matches!(r, Ok(BundleSync::Updated { .. }))
    })
    .unwrap();
    story.step("the new app (new root only) synced during the rotation");
    sync_until(&mut old_app, |r| {
        matches!(r, Ok(BundleSync::Updated { .. } | BundleSync::UpToDate))
    })
    .unwrap();
    story.step("the old app (old root only) still syncs during the rotation");
    for phone in [&old_app, &new_app] {
        let v = phone.scan(&story, &qr);
        assert_eq!(v.verdict, VerdictKind::Valid, "{}", describe(&v));
    }

    let finished = w.d.cli(&["root", "finish"]);
    story.step(format!(
        "operator finished the rotation: {}",
        finished.trim().replace('\n', " ")
    ));
    // Phones still on the old app now refuse new bundles as not signed by their root, and keep
    // working offline with the last bundle they accepted; the new app carries on.
    let refused = sync_until(&mut old_app, |r| {
        matches!(r, Err(SdkFailure::NotTrusted { .. }))
    });
    story.step(format!("the old app's next sync is refused: {refused:?}"));
    let v = old_app.scan(&story, &qr);
    assert_eq!(v.verdict, VerdictKind::Valid, "{}", describe(&v));
    sync_until(&mut new_app, |r| {
        matches!(r, Ok(BundleSync::Updated { .. } | BundleSync::UpToDate))
    })
    .unwrap();
    let v = new_app.scan(&story, &qr);
    assert_eq!(v.verdict, VerdictKind::Valid, "{}", describe(&v));
}

fn story_9_year_end_reports(backend: Backend) {
    let story = Story::new("9 year-end reports", backend);
    let w = World::new(&story, backend);
    let fr =
        w.d.create_authority("FR", "Ministère de la Transition écologique");
    let permit = w.issue(croc_export("ZA/GP/2026/004540"));
    let number = permit["number"].as_str().unwrap().to_owned();
    let qr = permit["qr_text"].as_str().unwrap().to_owned();
    let mut durban = Phone::enrol(&w.d, "Durban officer", &w.officer_za);
    durban.sync(&story);
    durban.endorse(&qr, "ZADUR", &[("A", "240")]);
    assert_eq!(durban.upload(&story).outcome, UploadOutcome::Done);
    story.step("exported: 240 of the 250 skins allowed, endorsed at Durban");
    let received_at = verifier_core::date::format_unix(now() - 60);
    w.d.ok(
        "POST",
        "/api/v1/confirmations",
        Some(&w.importer_fr),
        Some(
            json!({"confirmations": [{"id": "fr-reception-1", "received_at": received_at,
            "place": {"locode": "FRLEH"}, "lines": [{"block": "A", "quantity": "238"}], "qr": qr}]}),
        ),
    );
    story.step("France confirmed receipt of 238 skins at Le Havre");

    let year = verifier_core::date::Date::from_unix(now()).ymd().0;
    let report = |authority: &str, token: &str, query: &str| -> String {
        let (status, bytes) = w.d.call_bytes(
            "GET",
            &format!("/api/v1/authorities/{authority}/reports/annual?year={year}{query}"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        String::from_utf8(bytes).unwrap()
    };
    let exports = report(&w.za, &w.clerk, "");
    story.step(format!(
        "South Africa's export report (actual trade) row: {}",
        exports.lines().last().unwrap_or_default()
    ));
    assert!(
        exports.ends_with(&format!(
            "II,Crocodylus niloticus,SKI,240,,FR,,{number},,,T,C,{year}\r\n"
        )),
        "{exports}"
    );
    let issued = report(&w.za, &w.clerk, "&basis=permits");
    assert!(issued.contains(",SKI,250,,FR,"), "{issued}");
    let imports = report(&fr, &w.importer_fr, "&view=imports");
    story.step(format!(
        "France's import report (actual trade) row: {}",
        imports.lines().last().unwrap_or_default()
    ));
    assert!(
        imports.ends_with(&format!(
            "II,Crocodylus niloticus,SKI,238,,ZA,,,{number},,,T,C,{year}\r\n"
        )),
        "{imports}"
    );
    story.step(
        "the two Parties' reports of the same permit differ by 2 skins: what the Trade Database's \
         comparative tabulation shows for follow-up",
    );
}

fn story_10_a_trader_applies_and_the_border_checks(backend: Backend) {
    let story = Story::new("10 a trader applies and the border checks", backend);
    let w = World::new(&story, backend);
    let d = &w.d;
    let za = w.za.as_str();
    let password = "correct horse battery staple";
    let login = |email: &str| -> String {
        let v = d.ok(
            "POST",
            "/api/v1/sessions",
            None,
            Some(json!({"email": email, "password": password})),
        );
        v["token"].as_str().unwrap().to_owned()
    };
    let mut staff = Vec::new();
    for (email, role) in [
        ("clerk@dffe.example", "clerk"),
        ("sa@sanbi.example", "scientific_authority"),
        ("signatory@dffe.example", "signatory"),
    ] {
        d.ok(
            "POST",
            &format!("/api/v1/authorities/{za}/users"),
            Some(&d.admin),
            Some(json!({"email": email, "password": password, "name": email, "roles": [role]})),
        );
        staff.push(login(email));
    }
    let (clerk, advisor, signatory) = (&staff[0], &staff[1], &staff[2]);
    story.step("the authority has a clerk, a Scientific Authority and a signatory with accounts");

    let trader = d.ok(
        "POST",
        &format!("/api/v1/authorities/{za}/registrations"),
        None,
        Some(
            json!({"email": "exports@nilecroc.example", "password": password,
                    "name": "T. Mokoena", "company": "Nile Crocodile Farming Pty Ltd",
                    "address": "Plot 14, Hartbeespoort", "country": "ZA"}),
        ),
    );
    let (status, _) = d.call(
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"email": "exports@nilecroc.example", "password": password})),
    );
    assert_eq!(status, 403, "no login before approval");
    d.ok(
        "POST",
        &format!(
            "/api/v1/authorities/{za}/users/{}/approve",
            trader["id"].as_str().unwrap()
        ),
        Some(clerk),
        None,
    );
    let trader = login("exports@nilecroc.example");
    story.step("a trader registered and the clerk approved the registration");

    let mut permit = croc_export("unused");
    permit.as_object_mut().unwrap().remove("number");
    let app = d.ok(
        "POST",
        &format!("/api/v1/authorities/{za}/applications"),
        Some(&trader),
        Some(json!({"permit": permit})),
    );
    assert_eq!(app["rules"], json!([]), "{app}");
    let id = app["id"].as_str().unwrap().to_owned();
    let step = |who: &str, action: &str, version: &Value, extra: Value| -> Value {
        let mut body = json!({"version": version});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        d.ok(
            "POST",
            &format!("/api/v1/authorities/{za}/applications/{id}/{action}"),
            Some(who),
            Some(body),
        )
    };
    let app = step(&trader, "submit", &app["version"], json!({}));
    let app = step(clerk, "review", &app["version"], json!({}));
    let app = step(
        clerk,
        "request-advice",
        &app["version"],
        json!({"comment": "bred in captivity; please confirm"}),
    );
    let app = step(
        advisor,
        "advice",
        &app["version"],
        json!({"opinion": "positive", "text": "Registered captive-breeding operation"}),
    );
    let app = step(signatory, "approve", &app["version"], json!({}));
    let number = app["permit_number"].as_str().unwrap().to_owned();
    let app = step(signatory, "issue", &app["version"], json!({}));
    assert_eq!(app["state"], "issued");
    story.step(format!(
        "the application went through review and advice; the signatory issued permit {number}"
    ));

    let server_view = d.ok("GET", &w.permit_path(&number), Some(&w.clerk), None);
    assert_eq!(server_view["application_id"], id.as_str());
    let (status, png) = d.call_bytes(
        "GET",
        &format!("{}/qr.png", w.permit_path(&number)),
        Some(&w.clerk),
        None,
    );
    assert_eq!(status, 200);
    let scanned = verifier_core::qr::decode_image(&png).unwrap();
    assert_eq!(scanned, server_view["qr_text"].as_str().unwrap());
    story.step("the permit's QR was printed and read back from the image");

    let mut phone = Phone::enrol(d, "Durban officer", &w.officer_za);
    phone.sync(&story);
    let v = phone.scan(&story, &scanned);
    assert_eq!(v.verdict, VerdictKind::Valid, "{}", describe(&v));
    let p = v.permit.as_ref().unwrap();
    assert_eq!(p.number, number);
    assert_eq!(p.exporter.name, "Nile Crocodile Farming Pty Ltd");
    story.step(format!(
        "the officer's phone reads {} as valid, offline",
        p.number
    ));
}
