//! A permit's lifecycle: five states and the actions that move between them.
//!
//! ```text
//!            suspend            endorse (export)      confirm (import, single-use documents)
//!   valid ──────────▶ suspended       valid ──▶ used          valid | used ──▶ cancelled_on_import
//!   valid ◀────────── suspended
//!            reinstate
//!   valid | suspended | used | cancelled_on_import ──revoke──▶ revoked (final)
//! ```

use serde::{Deserialize, Serialize};

use super::stored_as_text;

/// Where a permit is in its lifecycle, as stored and as sent.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PermitState {
    /// Issued and usable.
    Valid,
    /// Held by the authority; may be reinstated.
    Suspended,
    /// Withdrawn for good.
    Revoked,
    /// Its export was endorsed: one permit, one shipment.
    Used,
    /// The importing Party's authority confirmed the import: the document is cancelled and
    /// serves no further crossing (single-use documents only; a multi-use certificate stays
    /// valid).
    CancelledOnImport,
}

/// Why a permit was revoked (Res. Conf. 12.3: the Parties concerned are told when a document
/// is cancelled, lost, stolen or destroyed, and a replacement names what it replaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// Withdrawn by the authority (the application was withdrawn, the trade did not happen).
    Cancelled,
    /// The document was lost.
    Lost,
    /// The document was stolen.
    Stolen,
    /// The document was destroyed.
    Destroyed,
    /// Another permit replaces it (`replaced_by`).
    Replaced,
    /// Obtained or used fraudulently.
    Fraud,
    /// Issued in error.
    Error,
}

impl RevocationReason {
    /// Every reason.
    pub const ALL: [Self; 7] = [
        Self::Cancelled,
        Self::Lost,
        Self::Stolen,
        Self::Destroyed,
        Self::Replaced,
        Self::Fraud,
        Self::Error,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::Lost => "lost",
            Self::Stolen => "stolen",
            Self::Destroyed => "destroyed",
            Self::Replaced => "replaced",
            Self::Fraud => "fraud",
            Self::Error => "error",
        }
    }

    /// Checks a state change's reason kind and replacement: a kind only on a revocation, a
    /// replacement exactly when the kind is `replaced`. The message names the field.
    pub fn check(
        action: StateAction,
        kind: Option<Self>,
        replacement: Option<&str>,
    ) -> Result<(), &'static str> {
        match (action, kind, replacement) {
            (StateAction::Revoke, Some(Self::Replaced), None) => {
                Err("replacement: a permit revoked as replaced names the permit that replaces it")
            }
            (StateAction::Revoke, Some(Self::Replaced), Some(_))
            | (StateAction::Revoke, _, None)
            | (_, None, None) => Ok(()),
            (StateAction::Revoke, _, Some(_)) => {
                Err("replacement: only a permit revoked as replaced has a replacement")
            }
            (_, Some(_), _) => Err("kind: only a revocation has a kind"),
            (_, None, Some(_)) => Err("replacement: only a revocation has a replacement"),
        }
    }
}

stored_as_text!(RevocationReason, "revocation kind");

impl PermitState {
    /// Every state.
    pub const ALL: [Self; 5] = [
        Self::Valid,
        Self::Suspended,
        Self::Revoked,
        Self::Used,
        Self::CancelledOnImport,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
            Self::Used => "used",
            Self::CancelledOnImport => "cancelled_on_import",
        }
    }

    /// The state a verifier sees in signed status lists.
    pub fn to_core(self) -> verifier_core::status::PermitState {
        use verifier_core::status::PermitState as Core;
        match self {
            Self::Valid => Core::Valid,
            Self::Suspended => Core::Suspended,
            Self::Revoked => Core::Revoked,
            Self::Used => Core::Used,
            Self::CancelledOnImport => Core::CancelledOnImport,
        }
    }

    /// True when the authority has withdrawn the permit, for now or for good: a field report
    /// of it raises an alert.
    pub fn is_withdrawn(self) -> bool {
        matches!(self, Self::Suspended | Self::Revoked)
    }

    /// The state after an export endorsement: a valid permit becomes used; any other state
    /// stays (an endorsement of a withdrawn or used permit is an alert, not a change).
    pub fn after_endorsement(self) -> Option<Self> {
        (self == Self::Valid).then_some(Self::Used)
    }

    /// The state after the importing authority's confirmation of a single-use document: valid
    /// (imported without a recorded endorsement, itself an alert) or used becomes cancelled on
    /// import; a withdrawn or already cancelled document stays as it is.
    pub fn after_import_confirmation(self) -> Option<Self> {
        matches!(self, Self::Valid | Self::Used).then_some(Self::CancelledOnImport)
    }

    /// True when the document has served its shipment (endorsed for export, or imported).
    pub fn is_used_up(self) -> bool {
        matches!(self, Self::Used | Self::CancelledOnImport)
    }
}

stored_as_text!(PermitState, "permit state");

/// An authority's action on a permit's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAction {
    /// valid → suspended.
    Suspend,
    /// suspended → valid.
    Reinstate,
    /// valid, suspended, used or cancelled on import → revoked (final).
    Revoke,
}

/// Why an action does not apply to a permit's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct TransitionRefused {
    /// The action tried.
    pub action: StateAction,
    /// The state the permit is in.
    pub from: PermitState,
}

impl TransitionRefused {
    /// What the authority is told.
    pub fn message(self) -> &'static str {
        match self.action {
            StateAction::Suspend => "only a valid permit can be suspended",
            StateAction::Reinstate => "only a suspended permit can be reinstated",
            StateAction::Revoke => "the permit is already revoked",
        }
    }
}

impl StateAction {
    /// Stable name (audit trail).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Revoke => "revoke",
        }
    }

    /// The state this action leads to from `from`, or why it does not apply.
    pub fn apply(self, from: PermitState) -> Result<PermitState, TransitionRefused> {
        use PermitState::{CancelledOnImport, Revoked, Suspended, Used, Valid};
        match (self, from) {
            (Self::Suspend, Valid) => Ok(Suspended),
            (Self::Reinstate, Suspended) => Ok(Valid),
            (Self::Revoke, Valid | Suspended | Used | CancelledOnImport) => Ok(Revoked),
            _ => Err(TransitionRefused { action: self, from }),
        }
    }

    /// True when revoking from `from` gives the permit's quantities back to its quotas: a used
    /// permit's goods were exported, so they stay counted.
    pub fn releases_quota(self, from: PermitState) -> bool {
        self == Self::Revoke && !from.is_used_up()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PermitState::{Revoked, Suspended, Used, Valid};

    #[test]
    fn transitions() {
        assert_eq!(StateAction::Suspend.apply(Valid), Ok(Suspended));
        assert!(StateAction::Suspend.apply(Used).is_err());
        assert!(StateAction::Reinstate.apply(Valid).is_err());
        assert_eq!(StateAction::Reinstate.apply(Suspended), Ok(Valid));
        assert_eq!(StateAction::Revoke.apply(Used), Ok(Revoked));
        let refused = StateAction::Revoke.apply(Revoked).unwrap_err();
        assert_eq!(refused.to_string(), "the permit is already revoked");
        // Revoked is final: no action leads out of it.
        for action in [
            StateAction::Suspend,
            StateAction::Reinstate,
            StateAction::Revoke,
        ] {
            assert!(action.apply(Revoked).is_err(), "{action:?}");
        }
    }

    #[test]
    fn endorsement_and_quota() {
        assert_eq!(Valid.after_endorsement(), Some(Used));
        for s in [Suspended, Revoked, Used] {
            assert_eq!(s.after_endorsement(), None, "{s}");
        }
        assert!(StateAction::Revoke.releases_quota(Valid));
        assert!(StateAction::Revoke.releases_quota(Suspended));
        assert!(!StateAction::Revoke.releases_quota(Used));
        assert!(!StateAction::Revoke.releases_quota(PermitState::CancelledOnImport));
        assert_eq!(
            Valid.after_import_confirmation(),
            Some(PermitState::CancelledOnImport)
        );
        assert_eq!(
            Used.after_import_confirmation(),
            Some(PermitState::CancelledOnImport)
        );
        for s in [Suspended, Revoked, PermitState::CancelledOnImport] {
            assert_eq!(s.after_import_confirmation(), None, "{s}");
        }
        assert_eq!(
            StateAction::Revoke.apply(PermitState::CancelledOnImport),
            Ok(Revoked)
        );
        assert!(
            StateAction::Suspend
                .apply(PermitState::CancelledOnImport)
                .is_err()
        );
        assert!(!StateAction::Suspend.releases_quota(Valid));
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_errors() {
        for s in PermitState::ALL {
            assert_eq!(s.as_str().parse::<PermitState>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        let err = "expired".parse::<PermitState>().unwrap_err();
        assert_eq!(err.to_string(), "unknown stored permit state: \"expired\"");
        assert!("Valid".parse::<PermitState>().is_err());
    }

    #[test]
    fn states_map_to_the_core_wire_values() {
        assert_eq!(
            PermitState::ALL.map(PermitState::to_core),
            verifier_core::status::PermitState::ALL
        );
    }

    #[test]
    fn revocation_reasons() {
        for r in RevocationReason::ALL {
            assert_eq!(r.as_str().parse::<RevocationReason>(), Ok(r));
        }
        assert!("misplaced".parse::<RevocationReason>().is_err());
        use RevocationReason as R;
        let check = RevocationReason::check;
        assert!(check(StateAction::Revoke, Some(R::Replaced), Some("KE/2")).is_ok());
        assert!(check(StateAction::Revoke, Some(R::Replaced), None).is_err());
        assert!(check(StateAction::Revoke, Some(R::Lost), Some("KE/2")).is_err());
        assert!(check(StateAction::Revoke, Some(R::Stolen), None).is_ok());
        assert!(check(StateAction::Revoke, None, None).is_ok());
        assert!(check(StateAction::Suspend, Some(R::Fraud), None).is_err());
        assert!(check(StateAction::Suspend, None, Some("KE/2")).is_err());
        assert!(check(StateAction::Suspend, None, None).is_ok());
    }
}
