//! The verify page: served from memory with its root keys and a strict content security policy.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::{Backend, TestServer};
use reqwest::StatusCode;

on_both_backends!(the_page_pins_the_root_keys_and_locks_itself_down);

async fn the_page_pins_the_root_keys_and_locks_itself_down(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (_, root) = s.get("/api/v1/trust/root-key", None).await;
    let root_hex = hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(root["public_key"].as_str().unwrap())
            .unwrap(),
    );

    let page = s.client.get(s.url("/verify")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"name="permitseal-root-keys" content="{root_hex}""#
        )),
        "the page carries the server's root key"
    );
    assert!(!html.contains("{{"), "every slot of the page is filled");

    for (name, media) in [
        ("app.js", "text/javascript"),
        ("sw.js", "text/javascript"),
        ("permitseal_web.js", "text/javascript"),
        ("permitseal_web_bg.wasm", "application/wasm"),
        ("manifest.webmanifest", "application/manifest+json"),
        ("icon-192.png", "image/png"),
        ("icon-512.png", "image/png"),
    ] {
        let answer = s
            .client
            .get(s.url(&format!("/verify/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{name}");
        assert_eq!(answer.headers()["content-type"], media, "{name}");
        assert!(
            answer.headers().contains_key("content-security-policy"),
            "{name}"
        );
        let bytes = answer.bytes().await.unwrap();
        if name.ends_with(".wasm") {
            assert_eq!(&bytes[..4], b"\0asm", "a WebAssembly module");
        }
        if let Some(size) = name
            .strip_prefix("icon-")
            .and_then(|n| n.strip_suffix(".png"))
        {
            // A PNG whose IHDR says size × size, as the manifest declares it.
            let size: u32 = size.parse().unwrap();
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
            assert_eq!(bytes[16..20], size.to_be_bytes(), "{name} width");
            assert_eq!(bytes[20..24], size.to_be_bytes(), "{name} height");
        }
    }
    let sw = s.client.get(s.url("/verify/sw.js")).send().await.unwrap();
    assert_eq!(sw.headers()["service-worker-allowed"], "/verify");

    // Anything else under /verify/ is a JSON 404, not a file of the server's disk.
    for path in [
        "/verify/nope.js",
        "/verify/..%2fCargo.toml",
        "/verify/index.html",
    ] {
        let (status, body) = s.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "not_found", "{path}");
    }
    s.stop().await;
}
