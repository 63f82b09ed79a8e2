//! Fixtures shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use verifier_core::keys::SecretKey;
use verifier_core::status::{PermitState, StatusList, StatusSet};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};

/// One authority (id 1) whose only key is `key`, a trust list and a status list signed at
/// `signed_at` in which `index` is issued and valid.
pub fn one_authority(
    key: &SecretKey,
    country: &str,
    name: &str,
    index: u32,
    signed_at: i64,
) -> (TrustList, StatusSet) {
    let trust = TrustList::new(
        1,
        signed_at,
        vec![Authority {
            id: 1,
            country: country.parse().unwrap(),
            name: name.into(),
            keys: vec![TrustedKey {
                key: key.public().clone(),
                valid_from: 0,
                valid_until: None,
                status: KeyStatus::Good,
            }],
        }],
    )
    .unwrap();
    let mut list = StatusList::new(1, 1, signed_at);
    list.set(index, PermitState::Valid);
    let mut status = StatusSet::new();
    status.insert(list);
    (trust, status)
}
