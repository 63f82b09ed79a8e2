//! The device key: the app's signer behind a foreign trait, so that the private key stays in
//! the platform's key store (Android Keystore, the iOS Secure Enclave) and never enters this
//! library.
//!
//! The algorithm is ECDSA P-256 with SHA-256 (FORMAT.md §10), the only one the Secure Enclave
//! offers and one every Android Keystore has. This library builds the bytes to sign (the core's
//! `device` module), hands them to the signer, and turns the platform's DER signature into the
//! wire form (`r ‖ s`, low `s`). It links no elliptic-curve code: the SDK's Kotlin and Swift
//! sources ship the signers (`AndroidKeystoreDeviceSigner` with a software fallback,
//! `SecureEnclaveDeviceSigner` / `SoftwareDeviceSigner` on iOS).

use std::sync::Arc;

use verifier_core::device::{self as core_device, DeviceKeyId, DeviceSignature};

use crate::error::SdkFailure;

/// Why the signer could not sign. The app maps its platform's failures onto these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SignerError {
    /// The key is gone or can no longer be used (the key store was cleared, the key was
    /// invalidated, the hardware refused it).
    #[error("device key unavailable: {reason}")]
    KeyUnavailable {
        /// The platform's reason, for support.
        reason: String,
    },
    /// The key needs the user first (the device is locked, or the key requires a fresh
    /// authentication).
    #[error("device key needs the user: {reason}")]
    UserActionRequired {
        /// The platform's reason, for support.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SignerError {
    /// A foreign signer that threw something other than a `SignerError`.
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> SignerError {
        SignerError::KeyUnavailable {
            reason: format!("the signer failed: {}", e.reason),
        }
    }
}

/// The device's key pair, implemented by the app over its platform's key store. Generate the
/// key on the device at enrolment and keep it for the life of the device token.
#[uniffi::export(with_foreign)]
pub trait DeviceSigner: Send + Sync {
    /// The public key: SEC1 uncompressed, 65 bytes `0x04 ‖ x ‖ y` (Java: the affine
    /// coordinates of `ECPublicKey.getW()`, each left-padded to 32 bytes; CryptoKit:
    /// `publicKey.x963Representation`).
    fn public_key(&self) -> Result<Vec<u8>, SignerError>;

    /// ECDSA P-256 over SHA-256 of `message` (the signer hashes: Java `SHA256withECDSA`,
    /// CryptoKit `signature(for:)`), as X9.62 DER (Java's output as is; CryptoKit's
    /// `derRepresentation`).
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SignerError>;
}

/// A signer as the outbox holds it, with the id of its key.
#[derive(Clone)]
pub(crate) struct BoundSigner {
    signer: Arc<dyn DeviceSigner>,
    key_id: DeviceKeyId,
}

impl std::fmt::Debug for BoundSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn signing(e: SignerError) -> SdkFailure {
    SdkFailure::Signing {
        reason: e.to_string(),
    }
}

/// A platform DER signature in the wire form.
fn wire_signature(der: &[u8]) -> Result<[u8; core_device::SIGNATURE_LEN], SdkFailure> {
    core_device::signature_from_der(der).ok_or_else(|| SdkFailure::Signing {
        reason: "the signer's answer is not a DER ECDSA P-256 signature".into(),
    })
}

/// The public key the signer gives, checked for its shape.
fn public_key(signer: &dyn DeviceSigner) -> Result<[u8; core_device::PUBLIC_KEY_LEN], SdkFailure> {
    let key = signer.public_key().map_err(signing)?;
    core_device::public_key_shape(&key).ok_or_else(|| SdkFailure::Signing {
        reason: "the signer's public key is not a 65-byte SEC1 uncompressed P-256 key".into(),
    })
}

impl BoundSigner {
    pub(crate) fn new(signer: Arc<dyn DeviceSigner>) -> Result<BoundSigner, SdkFailure> {
        let key = public_key(signer.as_ref())?;
        Ok(BoundSigner {
            key_id: DeviceKeyId::of(&key),
            signer,
        })
    }

    pub(crate) fn key_id(&self) -> DeviceKeyId {
        self.key_id
    }

    /// Signs `message` and returns the wire signature.
    pub(crate) fn sign(&self, message: Vec<u8>) -> Result<DeviceSignature, SdkFailure> {
        let der = self.signer.sign(message).map_err(signing)?;
        Ok(DeviceSignature {
            key_id: self.key_id,
            signature: wire_signature(&der)?,
        })
    }
}

/// What enrolment sends: the public key and the proof that the device holds its private key
/// (a signature over FORMAT.md §10.4's message).
pub(crate) struct EnrolmentRequest {
    pub public_key: [u8; core_device::PUBLIC_KEY_LEN],
    pub key_id: DeviceKeyId,
    pub proof: [u8; core_device::SIGNATURE_LEN],
}

pub(crate) fn enrolment(signer: &dyn DeviceSigner) -> Result<EnrolmentRequest, SdkFailure> {
    let public_key = public_key(signer)?;
    let der = signer
        .sign(core_device::enrolment_message(&public_key))
        .map_err(signing)?;
    Ok(EnrolmentRequest {
        key_id: DeviceKeyId::of(&public_key),
        public_key,
        proof: wire_signature(&der)?,
    })
}

/// The id the server and the permit's history show for a device public key (65 bytes, SEC1
/// uncompressed): 32 hex digits.
#[uniffi::export]
pub fn device_key_id(public_key: Vec<u8>) -> Result<String, SdkFailure> {
    core_device::public_key_shape(&public_key)
        .map(|k| DeviceKeyId::of(&k).to_string())
        .ok_or_else(|| SdkFailure::invalid("public_key", "must be 65 bytes, SEC1 uncompressed"))
}
