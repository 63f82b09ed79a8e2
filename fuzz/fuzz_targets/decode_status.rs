#![no_main]
// Any bytes a network hands over as trust, status or bundle data: refused cleanly, never a panic.
use std::sync::OnceLock;

use verifier_core::keys::SecretKey;
use verifier_core::status::{StatusDelta, StatusList};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};

fn trust() -> &'static TrustList {
    static TRUST: OnceLock<TrustList> = OnceLock::new();
    TRUST.get_or_init(|| {
        let key = SecretKey::from_seed(&[5; 32]);
        let authority = Authority {
            id: 1,
            country: "KE".parse().unwrap_or_else(|_| unreachable!()),
            name: "Kenya Wildlife Service".into(),
            keys: vec![TrustedKey { key: key.public().clone(), valid_from: 0, valid_until: None, status: KeyStatus::Good }],
        };
        TrustList::new(1, 0, vec![authority]).unwrap_or_else(|_| unreachable!())
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = StatusList::from_signed(data, trust());
    let _ = StatusDelta::from_signed(data, trust());
    let _ = TrustList::from_signed(data, &[]);
    let _ = verifier_core::bundle::split(data);
});
