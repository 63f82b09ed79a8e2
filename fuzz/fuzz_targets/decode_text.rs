#![no_main]
// Any text a scanner hands over: the decoder must answer, never panic.
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = verifier_core::payload::decode_permit(text);
});
