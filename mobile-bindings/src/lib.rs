#![doc = include_str!("../README.md")]

uniffi::setup_scaffolding!();

pub mod clock;
pub mod device;
pub mod error;
pub mod outbox;
pub mod records;
pub mod support;
pub mod sync;
pub mod verifier;

pub use device::{DeviceSigner, SignerError, device_key_id};
pub use error::SdkFailure;
pub use outbox::{
    EndorsedLine, ExportEndorsement, Outbox, OutboxItemKind, OutboxStats, PendingItem, Place,
    ScanReport,
};
pub use records::{
    CheckpointKind, CodedValue, DocumentRefRecord, Language, LineRecord, PartyRecord, PermitRecord,
    ReasonRecord, ReasonSeverity, StatusRecord, VerdictKind, VerificationResult,
};
#[cfg(feature = "rust-http")]
pub use sync::RustTransport;
pub use sync::transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError,
};
pub use sync::{BundleSync, Enrolment, SyncClient, UploadOutcome, UploadReport};
pub use verifier::{BundleLoad, Verifier};

/// The message language for an IETF/ISO 639-1 tag such as `fr-CA`; English for anything else.
#[uniffi::export]
pub fn language_for_tag(tag: String) -> Language {
    verifier_core::i18n::Lang::from_tag(&tag)
        .map(Language::from)
        .unwrap_or_default()
}

/// Every reason code the verifier can give, as stable strings (e.g. `REVOKED`), so an app can
/// check at start-up that it has a screen or icon for each.
#[uniffi::export]
pub fn all_reason_codes() -> Vec<String> {
    verifier_core::verify::ReasonCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect()
}

/// The officer-facing message for a reason code in a language; absent for an unknown code.
#[uniffi::export]
pub fn reason_message(code: String, lang: Language) -> Option<String> {
    verifier_core::verify::ReasonCode::parse(&code)
        .map(|c| verifier_core::i18n::message(c, lang.into()).to_string())
}
