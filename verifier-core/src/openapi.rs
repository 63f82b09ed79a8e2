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
        // Greater than zero: a non-zero digit before the point, or one among the decimals
        // (at most six, so the first non-zero one is in one of six places).
        debug_assert_eq!(MAX_SCALE, 6);
        let fraction = "(?:[1-9][0-9]{0,5}|0[1-9][0-9]{0,4}|00[1-9][0-9]{0,3}|000[1-9][0-9]{0,2}\
                        |0000[1-9][0-9]?|00000[1-9])";
        let pattern = format!(
            "^(?:[0-9]{{0,18}}[1-9][0-9]{{0,18}}(?:\\.[0-9]{{1,{MAX_SCALE}}})?|[0-9]{{1,19}}\\.{fraction})$"
        );
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
                "Greater than zero, at most six decimals; a string keeps it exact. On a permit \
                 line and an annual quota at most 1000000000000 (FORMAT.md §11.5).",
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
