#![no_main]
// Any camera frame: the QR decoder must answer, never panic. The first byte sets the width.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&w, luma)) = data.split_first() {
        let width = u32::from(w.max(1));
        let height = u32::try_from(luma.len()).unwrap_or(u32::MAX) / width;
        let pixels = (width * height) as usize;
        let _ = verifier_core::qr::decode_luma(width, height, &luma[..pixels]);
    }
});
