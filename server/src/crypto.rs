//! Secrets at rest: the master key, sealed Ed25519 seeds, and API tokens.
//!
//! Private signing keys never leave this module in the clear except as a [`SecretSeed`], which
//! zeroizes on drop and prints as `SecretSeed(..)`. Seeds are sealed with XChaCha20-Poly1305 under
//! the deployment's master key; the associated data binds each sealed seed to the key id it
//! belongs to, so a sealed blob copied onto another key's row fails to open.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// Length of the random nonce stored in front of every sealed seed.
const NONCE_LEN: usize = 24;
/// Domain separation for the associated data of sealed seeds.
const SEAL_AD_PREFIX: &[u8] = b"permitseal/sealed-seed/v1/";
/// Prefix that makes tokens recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "pst_";

/// Errors of the secret-handling code.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The master key text is not base64 of exactly 32 bytes.
    #[error("master key must be base64 of exactly 32 bytes")]
    BadMasterKey,
    /// The master key file could not be read or written.
    #[error("master key file {path}: {source}")]
    MasterKeyFile {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A sealed seed did not open: wrong master key, wrong key id or corrupted data.
    #[error("sealed key did not open (wrong master key or corrupted data)")]
    Unseal,
    /// The operating system's random source failed.
    #[error("random source failed")]
    Random,
    /// Argon2 refused to hash (parameters or salt out of its range).
    #[error("password hashing failed")]
    PasswordHash,
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError::Random)
}

/// The 32-byte key that seals every private key of the deployment.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// Parses base64 text (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let mut raw = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| CryptoError::BadMasterKey)?,
        );
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::BadMasterKey)?;
        raw.zeroize();
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// Reads base64 text from a file.
    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            CryptoError::MasterKeyFile {
                path: path.display().to_string(),
                source,
            }
        })?);
        Self::from_base64(&text)
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random_bytes(bytes.as_mut())?;
        Ok(Self(bytes))
    }

    /// Writes the key as base64 to a new file readable by its owner only. Fails if the file exists,
    /// so an existing key is never overwritten.
    pub fn write_new_file(&self, path: &Path) -> Result<(), CryptoError> {
        use std::io::Write as _;
        let file_err = |source| CryptoError::MasterKeyFile {
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(file_err)?;
        let text = Zeroizing::new(STANDARD.encode(self.0.as_ref()));
        file.write_all(text.as_bytes()).map_err(file_err)?;
        file.write_all(b"\n").map_err(file_err)?;
        file.sync_all().map_err(file_err)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.0).into())
    }

    /// Seals a secret for the row identified by `key_id`: `nonce || ciphertext+tag`.
    pub fn seal(&self, key_id: &str, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let ad = associated_data(key_id);
        let ciphertext = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &ad,
                },
            )
            .map_err(|_| CryptoError::Unseal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Opens what [`MasterKey::seal`] produced for the same `key_id`.
    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Unseal)?;
        let ad = associated_data(key_id);
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &ad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Unseal)
    }

    /// Seals a 32-byte signing seed.
    pub fn seal_seed(&self, key_id: &str, seed: &SecretSeed) -> Result<Vec<u8>, CryptoError> {
        self.seal(key_id, seed.0.as_ref())
    }

    /// Opens a sealed 32-byte signing seed.
    pub fn open_seed(&self, key_id: &str, sealed: &[u8]) -> Result<SecretSeed, CryptoError> {
        let plain = self.open(key_id, sealed)?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Unseal)?;
        Ok(SecretSeed(Zeroizing::new(bytes)))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

fn associated_data(key_id: &str) -> Vec<u8> {
    let mut ad = Vec::with_capacity(SEAL_AD_PREFIX.len() + key_id.len());
    ad.extend_from_slice(SEAL_AD_PREFIX);
    ad.extend_from_slice(key_id.as_bytes());
    ad
}

/// A 32-byte Ed25519 seed. Zeroized on drop; never printed.
pub struct SecretSeed(Zeroizing<[u8; 32]>);

impl SecretSeed {
    /// A fresh seed from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random_bytes(bytes.as_mut())?;
        Ok(Self(bytes))
    }

    /// The seed bytes, for handing to a signer.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The Ed25519 public key of this seed.
    pub fn public_key(&self) -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(&self.0)
            .verifying_key()
            .to_bytes()
    }
}

impl fmt::Debug for SecretSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretSeed(..)")
    }
}

/// A freshly minted API token: the text is shown once, only the hash is stored.
pub struct NewToken {
    /// The secret text handed to the caller (`pst_` + 43 base64url characters).
    pub secret: Zeroizing<String>,
    /// SHA-256 of the secret text, as stored.
    pub hash: [u8; 32],
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("hash", &hex::encode(self.hash))
            .finish_non_exhaustive()
    }
}

/// Mints a token with 256 bits of entropy.
pub fn new_token() -> Result<NewToken, CryptoError> {
    let mut raw = Zeroizing::new([0u8; 32]);
    random_bytes(raw.as_mut())?;
    let secret = Zeroizing::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(*raw)));
    let hash = hash_token(&secret);
    Ok(NewToken { secret, hash })
}

/// The stored form of a token. Tokens carry 256 random bits, so a plain SHA-256 is enough: there
/// is nothing to brute-force.
pub fn hash_token(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A short random identifier with a readable prefix, e.g. `tok_1f3a9c0b2d4e6f80`.
pub fn random_id(prefix: &str) -> Result<String, CryptoError> {
    let mut raw = [0u8; 8];
    random_bytes(&mut raw)?;
    Ok(format!("{prefix}_{}", hex::encode(raw)))
}

/// Strict ECDSA P-256 verification of a device signature (docs/FORMAT.md §10.1): the public key
/// a valid SEC1 point (not the identity), `r` and `s` in `[1, n − 1]`, `s` low, and the
/// signature over SHA-256 of `message`. Answers only yes or no.
pub fn verify_device_signature(public_key: &[u8], message: &[u8], signature: &[u8; 64]) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else {
        return false;
    };
    sig.normalize_s() == sig && key.verify(message, &sig).is_ok()
}

/// Prefix of a user's session secret: an auth header is a session or an API token by it.
pub const SESSION_PREFIX: &str = "pss_";

/// A new session: its bearer secret (as a token) and the per-session CSRF secret that browser
/// forms will be checked against.
pub struct NewSession {
    /// The bearer secret and its stored hash.
    pub token: NewToken,
    /// 32 random bytes, kept in the session row.
    pub csrf_secret: Zeroizing<[u8; 32]>,
}

/// Mints a session secret (`pss_` + 43 base64url characters) and its CSRF secret.
pub fn new_session() -> Result<NewSession, CryptoError> {
    let mut raw = Zeroizing::new([0u8; 32]);
    random_bytes(raw.as_mut())?;
    let secret = Zeroizing::new(format!("{SESSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(*raw)));
    let hash = hash_token(&secret);
    let mut csrf_secret = Zeroizing::new([0u8; 32]);
    random_bytes(csrf_secret.as_mut())?;
    Ok(NewSession {
        token: NewToken { secret, hash },
        csrf_secret,
    })
}

/// Compares two secrets in time that depends on their length only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The CSRF token a session's forms carry: SHA-256 over a domain string and the session's
/// secret, which never leaves the server, so only the server can make it.
pub fn csrf_token(csrf_secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"permitseal/csrf/v1/");
    h.update(csrf_secret);
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Hashes a password with Argon2id (the crate's default parameters: 19 MiB, 2 passes) and a
/// random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let mut salt = [0u8; 16];
    random_bytes(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| CryptoError::PasswordHash)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| CryptoError::PasswordHash)
}

/// True when `password` matches the stored PHC string; a string that does not parse matches
/// nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
    PasswordHash::new(stored).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding_to_key_id() {
        let master = MasterKey::generate().unwrap();
        let seed = SecretSeed::generate().unwrap();
        let sealed = master.seal_seed("kid-a", &seed).unwrap();
        assert_eq!(
            master.open_seed("kid-a", &sealed).unwrap().expose(),
            seed.expose()
        );
        assert!(matches!(
            master.open_seed("kid-b", &sealed),
            Err(CryptoError::Unseal)
        ));
        let other = MasterKey::generate().unwrap();
        assert!(matches!(
            other.open_seed("kid-a", &sealed),
            Err(CryptoError::Unseal)
        ));
        let mut tampered = sealed.clone();
        tampered[30] ^= 1;
        assert!(master.open_seed("kid-a", &tampered).is_err());
        assert!(master.open_seed("kid-a", &sealed[..10]).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let master = MasterKey::generate().unwrap();
        let seed = SecretSeed::generate().unwrap();
        assert_eq!(format!("{master:?}"), "MasterKey(..)");
        assert_eq!(format!("{seed:?}"), "SecretSeed(..)");
        let token = new_token().unwrap();
        assert!(!format!("{token:?}").contains(token.secret.as_str()));
    }

    #[test]
    fn master_key_parsing() {
        let text = STANDARD.encode([7u8; 32]);
        assert!(MasterKey::from_base64(&format!("  {text}\n")).is_ok());
        assert!(MasterKey::from_base64(&STANDARD.encode([7u8; 31])).is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn master_key_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::generate().unwrap();
        key.write_new_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(
            MasterKey::generate()
                .unwrap()
                .write_new_file(&path)
                .is_err()
        );
        let read = MasterKey::from_file(&path).unwrap();
        let seed = SecretSeed::generate().unwrap();
        let sealed = key.seal_seed("k", &seed).unwrap();
        assert!(read.open_seed("k", &sealed).is_ok());
    }

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a.secret.as_str(), b.secret.as_str());
        assert!(a.secret.starts_with(TOKEN_PREFIX));
        assert_eq!(a.secret.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_token(&a.secret), a.hash);
    }
}
