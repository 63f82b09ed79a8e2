//! The verifier core in the browser: the `/verify` page's engine, compiled to WebAssembly.
//!
//! This crate holds no verification rule of its own. [`Verifier`] keeps what the phone SDK's
//! verifier keeps — the pinned root keys, the bundle in use and the newest signed time seen —
//! and follows the same rules: a refused bundle changes nothing, an older bundle never replaces
//! a newer one, checks never run before the newest signed time seen, and stale data comes back
//! as `valid_with_warnings` (the core's `STALE_STATUS` / `STALE_TRUST`), never plain `valid`.
//! The page stores the bundle and the time floor in IndexedDB and gives them back here on
//! every start.
//!
//! Times cross the boundary as JavaScript numbers of Unix seconds (exact up to 2^53).

use verifier_core::bundle::Bundle;
use verifier_core::i18n::Lang;
use verifier_core::keys::PublicKey;
use verifier_core::verify::{Checkpoint, Policy, Verdict, verify_with};
use wasm_bindgen::prelude::wasm_bindgen;

pub mod view;

/// Why a call was refused, as the page shows it. On the JavaScript side it is an `Error`
/// whose message starts with a stable code (`bad_root_key: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code the page matches on.
    pub code: &'static str,
    /// What went wrong, for the screen; never permit data.
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<Refusal> for wasm_bindgen::JsError {
    fn from(r: Refusal) -> wasm_bindgen::JsError {
        wasm_bindgen::JsError::new(&r.to_string())
    }
}

/// The offline verifier of the page.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    roots: Vec<PublicKey>,
    bundle: Option<Bundle>,
    floor: Option<i64>,
}

/// A JavaScript number of Unix seconds as an `i64`; refuses NaN and infinities.
fn seconds(field: &str, t: f64) -> Result<i64, Refusal> {
    if t.is_finite() {
        // `as` saturates at the ends of i64; every finite f64 of real clocks is far inside.
        Ok(t.trunc() as i64)
    } else {
        Err(Refusal::new(
            "bad_time",
            format!("{field} must be a finite number of Unix seconds"),
        ))
    }
}

impl Verifier {
    /// A verifier pinned to the root keys in `roots_hex`: 64 hex digits each, separated by
    /// commas or spaces (as the page carries them).
    pub fn with_roots(roots_hex: &str) -> Result<Verifier, Refusal> {
        let mut roots = Vec::new();
        for (index, text) in roots_hex
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .enumerate()
        {
            let bad = || {
                Refusal::new(
                    "bad_root_key",
                    format!("root key {index} is not 32 bytes of hex"),
                )
            };
            let bytes: [u8; 32] = hex::decode(text)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(bad)?;
            roots.push(PublicKey::from_bytes(&bytes).map_err(|_| bad())?);
        }
        if roots.is_empty() {
            return Err(Refusal::new(
                "bad_root_key",
                "at least one root key is needed",
            ));
        }
        Ok(Verifier {
            roots,
            bundle: None,
            floor: None,
        })
    }

    /// Verifies a bundle against the pinned roots and installs it unless the one in use is
    /// newer: `installed` or `kept_newer`. A refused bundle changes nothing.
    pub fn install(&mut self, bytes: &[u8]) -> Result<&'static str, Refusal> {
        let bundle = Bundle::from_bytes(bytes, &self.roots)
            .map_err(|e| Refusal::new("bundle_refused", e.to_string()))?;
        if let Some(have) = &self.bundle
            && (bundle.trust.version < have.trust.version
                || bundle.newest_signed_time() < have.newest_signed_time())
        {
            return Ok("kept_newer");
        }
        self.raise_floor(bundle.newest_signed_time());
        self.bundle = Some(bundle);
        Ok("installed")
    }

    /// Applies a signed status delta to the bundle in use (FORMAT.md §5): answers the status
    /// list's new version. A delta that does not verify or does not follow the list in use
    /// changes nothing.
    pub fn apply_delta(&mut self, bytes: &[u8]) -> Result<u64, Refusal> {
        let have = self
            .bundle
            .as_ref()
            .ok_or_else(|| Refusal::new("no_bundle", "no bundle is installed"))?;
        let mut next = have.clone();
        let list = next
            .status
            .apply_delta(bytes, &next.trust)
            .map_err(|e| Refusal::new("delta_refused", e.to_string()))?;
        let (version, issued_at) = (list.version, list.issued_at);
        self.bundle = Some(next);
        self.raise_floor(issued_at);
        Ok(version)
    }

    fn raise_floor(&mut self, t: i64) {
        self.floor = Some(self.floor.map_or(t, |f| f.max(t)));
    }

    /// The transparency log's signed tree head in the bundle in use, verified against the
    /// pinned roots when it was installed (FORMAT.md §6), as JSON `{size, root, time}` (the
    /// root in lower-case hex); `None` without a bundle or for a bundle of container 1.
    pub fn tree_head(&self) -> Option<String> {
        let head = self.bundle.as_ref()?.tree_head?;
        // Written out rather than through `serde_json::Value`, whose serialiser this module
        // does not otherwise carry: numbers and hex digits need no escaping.
        Some(format!(
            "{{\"size\":{},\"root\":\"{}\",\"time\":{}}}",
            head.size,
            hex::encode(head.root),
            head.time
        ))
    }

    /// Verifies QR text at `now` and `checkpoint`; the page's view of the verdict.
    pub fn check(
        &mut self,
        qr: &str,
        now: i64,
        checkpoint: Checkpoint,
        lang: Lang,
    ) -> Result<view::VerificationView, Refusal> {
        let bundle = self.bundle.as_ref().ok_or_else(|| {
            Refusal::new(
                "no_bundle",
                "no verified data yet: open this page once online",
            )
        })?;
        let policy = Policy {
            checkpoint,
            ..Policy::default()
        };
        let v = verify_with(qr, now, &bundle.trust, &bundle.status, &policy, self.floor);
        let age = now.saturating_sub(bundle.oldest_signed_time());
        let out = view::VerificationView::new(&v, lang, age);
        // As on the phone: a permit that verified and is not refused carries a signed issue
        // time, and no later check may run before it.
        if let (Some(p), false) = (&v.permit, v.verdict == Verdict::Invalid) {
            self.raise_floor(p.issued_at);
        }
        Ok(out)
    }
}

#[wasm_bindgen]
impl Verifier {
    /// See [`Verifier::with_roots`].
    #[wasm_bindgen(constructor)]
    pub fn new(roots_hex: &str) -> Result<Verifier, wasm_bindgen::JsError> {
        Ok(Verifier::with_roots(roots_hex)?)
    }

    /// See [`Verifier::install`].
    #[wasm_bindgen(js_name = loadBundle)]
    pub fn load_bundle(&mut self, bytes: &[u8]) -> Result<String, wasm_bindgen::JsError> {
        Ok(self.install(bytes)?.to_string())
    }

    /// See [`Verifier::apply_delta`]: the status list's new version.
    #[wasm_bindgen(js_name = applyStatusDelta)]
    pub fn apply_status_delta(&mut self, bytes: &[u8]) -> Result<f64, wasm_bindgen::JsError> {
        Ok(self.apply_delta(bytes)? as f64)
    }

    /// True once a bundle is installed.
    #[wasm_bindgen(js_name = hasBundle)]
    pub fn has_bundle(&self) -> bool {
        self.bundle.is_some()
    }

    /// Seconds between `now` and the bundle's oldest signed part; absent without a bundle.
    #[wasm_bindgen(js_name = bundleAge)]
    pub fn bundle_age(&self, now: f64) -> Option<f64> {
        let now = seconds("now", now).ok()?;
        self.bundle
            .as_ref()
            .map(|b| now.saturating_sub(b.oldest_signed_time()) as f64)
    }

    /// See [`Verifier::tree_head`]: the head as JSON, absent without one.
    #[wasm_bindgen(js_name = treeHead)]
    pub fn tree_head_js(&self) -> Option<String> {
        self.tree_head()
    }

    /// The newest signed time seen, to store and give back with `setTimeFloor` on the next
    /// start, so a clock set back cannot revive an expired permit.
    #[wasm_bindgen(js_name = newestSignedTime)]
    pub fn newest_signed_time(&self) -> Option<f64> {
        self.floor.map(|t| t as f64)
    }

    /// Raises the time floor (never lowers it).
    #[wasm_bindgen(js_name = setTimeFloor)]
    pub fn set_time_floor(&mut self, t: f64) -> Result<(), wasm_bindgen::JsError> {
        let t = seconds("time floor", t)?;
        self.raise_floor(t);
        Ok(())
    }

    /// Verifies QR text. `checkpoint` is `export` or `import`; `lang` a language tag (`en`,
    /// `fr`, `es`; others fall back to English). Answers the verdict view as JSON.
    #[wasm_bindgen(js_name = verify)]
    pub fn verify_js(
        &mut self,
        qr: &str,
        now: f64,
        checkpoint: &str,
        lang: &str,
    ) -> Result<String, wasm_bindgen::JsError> {
        let checkpoint = match checkpoint {
            "export" => Checkpoint::Export,
            "import" => Checkpoint::Import,
            "inspection" => Checkpoint::Inspection,
            _ => {
                return Err(Refusal::new(
                    "bad_checkpoint",
                    "checkpoint must be export, import or inspection",
                )
                .into());
            }
        };
        let lang = Lang::from_tag(lang).unwrap_or_default();
        let view = self.check(qr, seconds("now", now)?, checkpoint, lang)?;
        serde_json::to_string(&view).map_err(|e| Refusal::new("internal", e.to_string()).into())
    }
}

/// Reads the first QR code in a greyscale frame of `width × height` bytes.
#[wasm_bindgen(js_name = decodeLuma)]
pub fn decode_luma(width: u32, height: u32, luma: &[u8]) -> Result<String, wasm_bindgen::JsError> {
    verifier_core::qr::decode_luma(width, height, luma)
        .map_err(|e| Refusal::new("no_code", e.to_string()).into())
}

/// Reads the first QR code in an RGBA frame (a canvas's `ImageData`), converted to grey here:
/// the page hands over camera frames and photos as they come.
#[wasm_bindgen(js_name = decodeRgba)]
pub fn decode_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<String, wasm_bindgen::JsError> {
    Ok(decode_rgba_frame(width, height, rgba)?)
}

/// [`decode_rgba`] without the JavaScript error type.
pub fn decode_rgba_frame(width: u32, height: u32, rgba: &[u8]) -> Result<String, Refusal> {
    let luma = grey(rgba);
    verifier_core::qr::decode_luma(width, height, &luma)
        .map_err(|e| Refusal::new("no_code", e.to_string()))
}

/// ITU-R BT.601 luma of RGBA pixels, in integers (alpha ignored).
fn grey(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_parsed_strictly() {
        let key = "abef26aaea81232cd39038176c20e48051950125bdac857d672a56d9ec95cd91";
        assert_eq!(Verifier::with_roots(key).unwrap().roots.len(), 1);
        assert_eq!(
            Verifier::with_roots(&format!("{key}, {key}"))
                .unwrap()
                .roots
                .len(),
            2
        );
        for bad in ["", " , ", "abef", &format!("{key}00"), "zz"] {
            assert_eq!(
                Verifier::with_roots(bad).unwrap_err().code,
                "bad_root_key",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn no_bundle_and_bad_bundle_are_refusals() {
        let key = "abef26aaea81232cd39038176c20e48051950125bdac857d672a56d9ec95cd91";
        let mut v = Verifier::with_roots(key).unwrap();
        assert_eq!(
            v.check("PS1:AAA", 0, Checkpoint::Export, Lang::En)
                .unwrap_err()
                .code,
            "no_bundle"
        );
        assert_eq!(v.install(b"PSB1").unwrap_err().code, "bundle_refused");
        assert!(v.bundle.is_none());
        assert_eq!(v.tree_head(), None);
        assert_eq!(seconds("now", f64::NAN).unwrap_err().code, "bad_time");
        assert_eq!(seconds("now", 1.9).unwrap(), 1);
    }

    #[test]
    fn a_bundle_of_container_2_shows_its_tree_head() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/v1/vectors-6.json"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let roots = doc["root_public_keys"][0].as_str().unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let mut v = Verifier::with_roots(roots).unwrap();
            let bytes = hex::decode(case["bundle"].as_str().unwrap()).unwrap();
            let want = &case["expected"];
            match v.install(&bytes) {
                Ok(_) => assert_eq!(
                    v.tree_head()
                        .map(|h| serde_json::from_str::<serde_json::Value>(&h).unwrap()),
                    Some(want["tree_head"].clone()).filter(|h| !h.is_null())
                ),
                Err(e) => {
                    assert_eq!(want["bundle"], "refused", "{}", case["name"]);
                    assert_eq!(e.code, "bundle_refused");
                    assert_eq!(v.tree_head(), None);
                }
            }
        }
    }

    #[test]
    fn grey_weights_sum_to_white() {
        assert_eq!(grey(&[255, 255, 255, 0, 0, 0, 0, 255]), vec![255, 0]);
        assert_eq!(
            decode_rgba_frame(2, 1, &[0; 8]).unwrap_err().code,
            "no_code"
        );
    }
}
