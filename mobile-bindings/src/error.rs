//! The one error the app sees. Each variant is something the app does differently; the
//! core's and the I/O layer's rich errors are mapped into it variant by variant, here, so that
//! a new core variant forces a decision in this file.
//!
//! Messages carry technical detail for support (a field name, an offset, an OS error) and
//! never personal data: no permit text, no names, no tokens.

use verifier_core::bundle::BundleError;
use verifier_core::log::CheckpointError;
use verifier_core::status::StatusError;
use verifier_core::trust::TrustError;

/// Why an SDK call failed: a sealed exception class in Kotlin, an `Error` enum in Swift.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum SdkFailure {
    /// A root public key given to `Verifier::new` is not a usable Ed25519 key.
    /// App: this is a build or configuration error; ship the deployment's real root keys.
    #[error("root public key {index} is not a usable Ed25519 key")]
    BadRootKey {
        /// Position of the key in the list given.
        index: u32,
    },
    /// The bundle bytes are malformed or internally inconsistent. Nothing of it was used;
    /// the verifier keeps the bundle it had.
    /// App: keep working offline with the old bundle, report it, and fetch again later.
    #[error("bundle refused: {reason}")]
    BadBundle {
        /// What is wrong, for support.
        reason: String,
    },
    /// The bundle is well-formed but not signed by a pinned root key (trust list, the log's
    /// tree head) or by a key of the authority it speaks for (status list). Nothing of it was
    /// used.
    /// App: treat as an attack or a misconfigured server; keep the old bundle and alert.
    #[error("bundle not trusted: {reason}")]
    NotTrusted {
        /// Which part, for support.
        reason: String,
    },
    /// No bundle has been loaded yet, so nothing can be verified.
    /// App: load the stored bundle or sync before scanning.
    #[error("no bundle loaded")]
    NoBundle,
    /// An argument is out of its domain (an unknown country code, a malformed UN/LOCODE, a
    /// quantity that is not a positive decimal, a URL that is not https…).
    /// App: a programming or input error; show it and let the user correct the input.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument or field concerned.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The on-device queue could not be read or written (disk full, permissions, a damaged
    /// file, or the queue directory already open elsewhere).
    /// App: show a storage warning; nothing acknowledged earlier is lost.
    #[error("storage: {reason}")]
    Storage {
        /// The operation and the OS error, for support.
        reason: String,
    },
    /// The device signer (`DeviceSigner`) could not sign or gave something unusable: the key
    /// is gone or invalidated, the device is locked, or the signer is not ECDSA P-256.
    /// Nothing was queued.
    /// App: ask the officer to unlock and retry; if the key is gone, enrol the device again
    /// with a new key (the server's admin clears the old binding).
    #[error("device signing: {reason}")]
    Signing {
        /// The signer's reason, for support.
        reason: String,
    },
}

impl SdkFailure {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> SdkFailure {
        SdkFailure::InvalidInput {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn storage(what: &str, e: &std::io::Error) -> SdkFailure {
        SdkFailure::Storage {
            reason: format!("{what}: {e}"),
        }
    }
}

impl From<BundleError> for SdkFailure {
    fn from(e: BundleError) -> SdkFailure {
        let reason = e.to_string();
        match e {
            BundleError::Malformed(_) | BundleError::DuplicateStatus { .. } => {
                SdkFailure::BadBundle { reason }
            }
            BundleError::Trust(t) => trust_failure(t, reason),
            BundleError::Status { error, .. } => status_failure(error, reason),
            BundleError::TreeHead(CheckpointError::Malformed) => SdkFailure::BadBundle { reason },
            BundleError::TreeHead(CheckpointError::BadSignature) => {
                SdkFailure::NotTrusted { reason }
            }
        }
    }
}

fn trust_failure(e: TrustError, reason: String) -> SdkFailure {
    match e {
        TrustError::Malformed(_) | TrustError::Inconsistent(_) => SdkFailure::BadBundle { reason },
        TrustError::NotSigned => SdkFailure::NotTrusted { reason },
    }
}

impl From<StatusError> for SdkFailure {
    fn from(e: StatusError) -> SdkFailure {
        let reason = e.to_string();
        status_failure(e, reason)
    }
}

fn status_failure(e: StatusError, reason: String) -> SdkFailure {
    match e {
        StatusError::Malformed(_) | StatusError::VersionMismatch { .. } | StatusError::Mismatch => {
            SdkFailure::BadBundle { reason }
        }
        StatusError::NotSigned | StatusError::KeyNotValid => SdkFailure::NotTrusted { reason },
    }
}
