//! The UniFFI binding generator, pinned to the same UniFFI version as the library it reads.
//!
//! `cargo run -p uniffi-bindgen -- generate --library <libpermitseal_mobile.so> --language kotlin
//! --out-dir <dir>`; `mobile-bindings/scripts/generate.sh` wraps it.

fn main() {
    uniffi::uniffi_bindgen_main()
}
