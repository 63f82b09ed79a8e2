//! The rules of the service, free of SQL and HTTP: what a permit's state may become, which
//! field reports raise which alert, and what issuing a permit must satisfy. Each rule takes
//! the facts it needs as values and returns its result as a value; storage fetches the facts
//! and records the results inside its transactions, HTTP and the command line call storage.
//!
//! Values stored in the database as text ([`PermitState`], [`AlertKind`]) decode strictly:
//! a stored name this code does not know is an error, never a default.

pub mod alerts;
pub mod applications;
pub mod issuing;
pub mod lifecycle;
pub mod rates;
pub mod reports;
pub mod trail;
pub mod webhooks;

pub use alerts::AlertKind;
pub use lifecycle::{PermitState, RevocationReason, StateAction};

/// A value read from storage that this code does not know: data written by a newer version
/// or damaged. Operations that meet one fail rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stored {what}: {value:?}")]
pub struct UnknownStoredValue {
    /// What kind of value (e.g. `permit state`).
    pub what: &'static str,
    /// The text found.
    pub value: String,
}

/// Names an enum by text, on both backends and in `FromStr`/`Display`: encodes its `as_str`
/// and parses by comparing with the names of its `ALL` variants; an unknown name is an
/// [`UnknownStoredValue`] of `$what`, which makes a read from the database fail.
macro_rules! stored_as_text {
    ($ty:ty, $what:literal) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::domain::UnknownStoredValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| $crate::domain::UnknownStoredValue {
                        what: $what,
                        value: text.to_owned(),
                    })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?.parse::<$ty>()?)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            &'static str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'static str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }
    };
}
pub(crate) use stored_as_text;
