//! OpenAPI schemas of the wire types whose JSON the derive cannot describe on its own (closed
//! code lists, the three spellings of a quantity). Built only with the `openapi` feature, for
//! the server's API document.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};

use crate::permit::{MAX_MANTISSA, MAX_SCALE, QuantityInput};

/// A string that is one of `codes` (every accepted spelling, aliases included).
pub(crate) fn code_list(what: &str, codes: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().copied()))
        .description(Some(format!("A {what} code")))
        .into()
}

impl utoipa::PartialSchema for QuantityInput {
    fn schema() -> RefOr<Schema> {
        let pattern = format!("^[0-9]+(\\.[0-9]{{1,{MAX_SCALE}}})?$");
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(pattern))
                    .description(Some("Exact decimal text")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_MANTISSA)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .exclusive_minimum(Some(0)),
            )
            .description(Some(
                "Greater than zero, at most six decimals; a string keeps it exact",
            ))
            .into()
    }
}

impl utoipa::ToSchema for QuantityInput {}

/// The schema of a verdict's wire name (`ScanWire::verdict`).
pub(crate) struct VerdictName;

impl utoipa::PartialSchema for VerdictName {
    fn schema() -> RefOr<Schema> {
        use crate::verify::Verdict;
        let names = [Verdict::Valid, Verdict::ValidWithWarnings, Verdict::Invalid]
            .map(crate::report::verdict_name);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some("What the officer saw"))
            .into()
    }
}

impl utoipa::ToSchema for VerdictName {}
