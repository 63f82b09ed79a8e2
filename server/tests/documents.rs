//! Paper permits against a real server: the PDF of a 1-line and a 6-line permit is rendered to
//! PNG by poppler's `pdftoppm`, its QR code is read back by the core's decoder and by `zbarimg`
//! and verified by the core against the server's bundle, also from a degraded copy; `pdftotext`
//! finds every field of the record in each language. Plus the authority's paper settings, a
//! revoked permit's document, and bad input.
//!
//! Needs poppler-utils and zbar-tools (`.ci/run` installs them); the tests fail, saying so,
//! when the programs are missing.

// Scenarios run as tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Backend, TestServer, enc, valid_until};
use reqwest::StatusCode;
use serde_json::{Value, json};
use verifier_core::Verdict;

on_both_backends!(paper_settings_revocation_and_bad_input);

const ONE_LINE: &str = include_str!("data/permit-1-line.json");
const SIX_LINES: &str = include_str!("data/permit-6-lines.json");
const VERIFY_URL: &str = "https://permits.example.org/verify";

/// A sample draft with a validity that suits today.
fn draft(json: &str) -> Value {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v["valid_until"] = json!(valid_until());
    v
}

fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed (poppler-utils, zbar-tools): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The text layer of a PDF (all pages, or one), without any whitespace: wrapping moves line
/// breaks, never characters.
fn text_of(pdf: &Path, page: Option<u32>) -> String {
    let page = page.map(|p| p.to_string());
    let mut args = vec![];
    if let Some(p) = &page {
        args.extend(["-f", p, "-l", p]);
    }
    let path = pdf.to_str().unwrap();
    args.extend([path, "-"]);
    String::from_utf8(run("pdftotext", &args))
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every value of a draft that the document must show.
fn record_values(d: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: &Value| {
        match v {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            _ => {}
        };
    };
    for key in [
        "number",
        "valid_until",
        "purpose",
        "security_stamp",
        "special_conditions",
    ] {
        push(&d[key]);
    }
    for party in ["exporter", "importer"] {
        for key in ["name", "country", "address"] {
            push(&d[party][key]);
        }
    }
    for line in d["lines"].as_array().unwrap() {
        for key in [
            "scientific_name",
            "common_name",
            "description",
            "term",
            "appendix",
            "source",
            "quantity",
            "unit",
        ] {
            push(&line[key]);
        }
    }
    out
}

async fn fetch_pdf(s: &TestServer, issuer: &str, number: &str, lang: Option<&str>) -> Vec<u8> {
    let mut path = format!(
        "/api/v1/authorities/KE/permits/{}/document.pdf",
        enc(number)
    );
    if let Some(l) = lang {
        path.push_str(&format!("?lang={l}"));
    }
    let resp = s
        .client
        .get(s.url(&path))
        .bearer_auth(issuer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert_eq!(resp.headers()["content-type"], "application/pdf", "{path}");
    let pdf = resp.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"), "{path}");
    pdf
}

/// Reads the QR code of page 1 both ways and checks what the phone makes of it.
async fn read_back(s: &TestServer, png: &Path, qr_text: &str, what: &str) {
    let bytes = std::fs::read(png).unwrap();
    let ours = verifier_core::qr::decode_image(&bytes)
        .unwrap_or_else(|e| panic!("{what}: the core's decoder: {e}"));
    assert_eq!(ours, qr_text, "{what}: the core's decoder");
    let zbar = run("zbarimg", &["--raw", "-q", png.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8(zbar).unwrap().trim_end(),
        qr_text,
        "{what}: zbarimg"
    );
    let v = s.phone_verify(&ours).await;
    assert_eq!(v.verdict, Verdict::Valid, "{what}: {:?}", v.codes());
}

/// A phone photo of a printout, roughly: 100 dpi instead of 150 (`image`'s triangle filter)
/// and blurred by a Gaussian of one pixel. The whole page, form lines and text included, as a
/// phone that frames the sheet sees it.
fn degrade(png: &Path, out: &Path) {
    let img = image::open(png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let small = image::imageops::resize(
        &img,
        w * 2 / 3,
        h * 2 / 3,
        image::imageops::FilterType::Triangle,
    );
    image::imageops::blur(&small, 1.0).save(out).unwrap();
}

/// What can be checked of PDF/A-2b without a validator (none is packaged for this machine's
/// registries): the XMP metadata claims part 2, conformance B; an sRGB output intent; every
/// font embedded (as a subset, with a ToUnicode map); no encryption.
fn check_archival(pdf: &Path, raw: &[u8], what: &str) {
    let raw = String::from_utf8_lossy(raw);
    assert!(
        raw.contains("pdfaid:part>2<") && raw.contains("pdfaid:conformance>B<"),
        "{what}: XMP"
    );
    assert!(
        raw.contains("/OutputIntents") && raw.contains("/GTS_PDFA1"),
        "{what}: output intent"
    );
    let path = pdf.to_str().unwrap();
    let fonts = String::from_utf8(run("pdffonts", &[path])).unwrap();
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{what}: regular and bold\n{fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "{what}: embedded, subset, ToUnicode\n{fonts}"
        );
    }
    let info = String::from_utf8(run("pdfinfo", &[path])).unwrap();
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().eq(["Encrypted:", "no"])),
        "{what}: {info}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_round_trip() {
    let s = TestServer::start(Backend::Sqlite).await;
    let issuer = s.issuing_authority("KE").await;
    let me = Some(issuer.as_str());
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/authorities/KE/paper",
            me,
            Some(json!({"language": "fr", "address": "P.O. Box 40241-00100, Langata Road, Nairobi", "issue_place": "Nairobi"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["language"], "fr");
    let year =
        verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now())
            .ymd()
            .0;
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/authorities/KE/quotas",
            me,
            Some(json!({"year": year, "scientific_name": "Aloe ferox", "unit": "KIL", "quantity": "2000"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let dir = tempfile::tempdir().unwrap();
    for (name, json, pages) in [("one", ONE_LINE, 1), ("six", SIX_LINES, 2)] {
        let d = draft(json);
        let issued = s.issue(&issuer, "KE", d.clone()).await;
        let number = d["number"].as_str().unwrap();
        let qr_text = issued["qr_text"].as_str().unwrap();

        for (lang, label) in [
            (Some("en"), "Valid until"),
            (Some("fr"), "Date de validité"),
            (Some("es"), "Válido hasta"),
            (None, "Date de validité"),
        ] {
            let pdf = fetch_pdf(&s, &issuer, number, lang).await;
            let path = dir
                .path()
                .join(format!("{name}.{}.pdf", lang.unwrap_or("default")));
            std::fs::write(&path, &pdf).unwrap();
            let what = format!("{name}, {lang:?}");
            let info = String::from_utf8(run("pdfinfo", &[path.to_str().unwrap()])).unwrap();
            assert!(
                info.lines()
                    .any(|l| l.split_whitespace().eq(["Pages:", &pages.to_string()])),
                "{what}: {info}"
            );
            let all = text_of(&path, None);
            assert!(all.contains(&squeeze(label)), "{what}: label {label:?}");
            for value in record_values(&d) {
                assert!(
                    all.contains(&squeeze(&value)),
                    "{what}: {value:?} not on the page"
                );
            }
            for value in ["Nairobi", "LangataRoad", VERIFY_URL] {
                assert!(all.contains(value), "{what}: {value:?}");
            }
            assert!(
                !all.contains("REVOKED") && !all.contains("RÉVOQUÉ"),
                "{what}"
            );
            if name == "one" {
                assert!(all.contains("125.5/2000"), "{what}: box 11a");
            } else {
                // Page 1 carries the form's four blocks A to D; the annex page repeats the
                // permit number and carries blocks E and F.
                let first = text_of(&path, Some(1));
                let annex = text_of(&path, Some(2));
                for line in &d["lines"].as_array().unwrap()[..4] {
                    let species = squeeze(line["scientific_name"].as_str().unwrap());
                    assert!(first.contains(&species), "{what}: {species} on page 1");
                    assert!(!annex.contains(&species), "{what}: {species} on page 2");
                }
                assert!(annex.contains(&squeeze(number)), "{what}: annex number");
                assert!(annex.contains("Prunusafricana"), "{what}: annex block");
            }
            // krilla validated PDF/A-2b while writing; check what can be seen from outside.
            check_archival(&path, &pdf, &what);
        }

        let pdf = dir.path().join(format!("{name}.en.pdf"));
        let prefix = dir.path().join(format!("{name}-150"));
        run(
            "pdftoppm",
            &[
                "-r",
                "150",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                pdf.to_str().unwrap(),
                prefix.to_str().unwrap(),
            ],
        );
        let png = prefix.with_extension("png");
        read_back(&s, &png, qr_text, &format!("{name} at 150 dpi")).await;
        let degraded = dir.path().join(format!("{name}-degraded.png"));
        degrade(&png, &degraded);
        read_back(&s, &degraded, qr_text, &format!("{name} degraded")).await;
    }
}

async fn paper_settings_revocation_and_bad_input(backend: Backend) {
    let s = TestServer::start(backend).await;
    let issuer = s.issuing_authority("KE").await;
    let me = Some(issuer.as_str());

    // An authority created with its paper settings; a bad language is refused.
    let (status, body) = s
        .post(
            "/api/v1/authorities",
            Some(&s.admin),
            json!({"id": "ES", "country": "ES", "name": "Dirección General de Biodiversidad", "language": "es", "issue_place": "Madrid"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["language"], "es");
    assert_eq!(body["issue_place"], "Madrid");
    let (status, body) = s.get("/api/v1/authorities/KE", me).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["language"], "en", "the default");
    let (status, body) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/authorities/KE/paper",
            me,
            Some(json!({"language": "de"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_language");
    let es_issuer = s.token("issuer", Some("ES"), None).await;
    let (status, _) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/authorities/KE/paper",
            Some(&es_issuer),
            Some(json!({"language": "es"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another authority's issuer");

    let d = draft(ONE_LINE);
    let number = d["number"].as_str().unwrap().to_owned();
    s.issue(&issuer, "KE", d).await;
    let path = format!(
        "/api/v1/authorities/KE/permits/{}/document.pdf",
        enc(&number)
    );

    // Bad input: JSON errors with a 4xx.
    for (query, token, want) in [
        ("?lang=de", me, StatusCode::BAD_REQUEST),
        ("?lang=", me, StatusCode::BAD_REQUEST),
        ("?language=fr", me, StatusCode::BAD_REQUEST),
        ("", None, StatusCode::UNAUTHORIZED),
        ("", Some(es_issuer.as_str()), StatusCode::FORBIDDEN),
    ] {
        let (status, body) = s.get(&format!("{path}{query}"), token).await;
        assert_eq!(status, want, "{query}: {body}");
    }
    let (status, body) = s
        .get("/api/v1/authorities/KE/permits/NOPE-1/document.pdf", me)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "permit not found");
    let (status, _) = s
        .get(
            "/api/v1/authorities/ZZZ/permits/NOPE-1/document.pdf",
            Some(&s.admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A name the font cannot print is refused with the field and the character, not dropped.
    let mut cjk = draft(ONE_LINE);
    cjk["number"] = json!("KE/2026/DOC-CJK");
    cjk["importer"]["name"] = json!("山田商事株式会社");
    s.issue(&issuer, "KE", cjk).await;
    let (status, body) = s
        .get(
            &format!(
                "/api/v1/authorities/KE/permits/{}/document.pdf",
                enc("KE/2026/DOC-CJK")
            ),
            me,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "unprintable_character");
    assert!(
        body["message"].as_str().unwrap().contains("importer.name"),
        "{body}"
    );

    // A revoked permit is still printed for its issuer, REVOKED across every page.
    let (status, _) = s
        .post(
            &format!("/api/v1/authorities/KE/permits/{}/revoke", enc(&number)),
            me,
            json!({"reason": "shipment cancelled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    for (lang, word) in [("en", "REVOKED"), ("fr", "RÉVOQUÉ"), ("es", "REVOCADO")] {
        let pdf = fetch_pdf(&s, &issuer, &number, Some(lang)).await;
        let file = dir.path().join(format!("revoked.{lang}.pdf"));
        std::fs::write(&file, pdf).unwrap();
        assert!(text_of(&file, Some(1)).contains(word), "{lang}");
    }
}
