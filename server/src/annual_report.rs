//! The annual trade report a Party submits to the CITES Trade Database, in the Database's
//! electronic upload format: one CSV row per permit line, columns in the order of its upload
//! template (`appendix, species_name, term_code, quantity, unit_code, trading_partner,
//! country_of_origin, import_permit, export_permit, origin_permit, ifs_permit, purpose_code,
//! source_code, year`). An exporter-reported file leaves out `import_permit`.
//!
//! Two bases, as the Database's submission asks: *trade* (what actually crossed the border:
//! quantities endorsed by export officers, or confirmed received by the importing country) and
//! *permits* (what was authorised: quantities on the documents issued in the year, revoked
//! ones left out). The Trade Database recommends reporting actual trade where possible.
//!
//! A cell that opens with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
//! apostrophe, so that a spreadsheet shows it as text instead of running it as a formula.

use serde::Deserialize;
use verifier_core::codes::{Purpose, Source as SourceCode, Term, Unit};
use verifier_core::date::Date;
use verifier_core::permit::PermitDraft;

use crate::domain::issuing::{format_micro, micro};
use crate::storage::annual_report::{Source, TradeSource};
use crate::storage::{Db, StorageError};

/// The year CITES entered into force: no report is older.
pub const FIRST_YEAR: i32 = 1975;

/// Whose point of view the report takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum View {
    /// Exporter-reported (`E`): what the authority's country exported and re-exported.
    Exports,
    /// Importer-reported (`I`): what the authority's country imported.
    Imports,
}

/// What the quantities are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Basis {
    /// Actual trade: endorsed or confirmed quantities, in the year they happened.
    Trade,
    /// Permits issued in the year, with the quantities they allow.
    Permits,
}

impl View {
    /// The name in queries, commands and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Exports => "exports",
            View::Imports => "imports",
        }
    }
}

impl Basis {
    /// The name in queries, commands and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Trade => "trade",
            Basis::Permits => "permits",
        }
    }
}

impl std::str::FromStr for View {
    type Err = String;

    fn from_str(s: &str) -> Result<View, String> {
        [View::Exports, View::Imports]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("view must be exports or imports, not {s:?}"))
    }
}

impl std::str::FromStr for Basis {
    type Err = String;

    fn from_str(s: &str) -> Result<Basis, String> {
        [Basis::Trade, Basis::Permits]
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| format!("basis must be trade or permits, not {s:?}"))
    }
}

/// Reads a report year: four digits, [`FIRST_YEAR`] or later.
pub fn parse_year(text: &str) -> Result<i32, String> {
    Some(text)
        .filter(|t| t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|y| *y >= FIRST_YEAR)
        .ok_or_else(|| format!("year must be four digits, {FIRST_YEAR} or later, not {text:?}"))
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A stored document could not be read back.
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
}

/// The report of `authority` (of `country`) for `year`, as CSV text.
pub async fn build(
    db: &Db,
    authority: &str,
    country: &str,
    year: i32,
    view: View,
    basis: Basis,
) -> Result<String, ReportError> {
    // `parse_year` keeps years to four digits, where every year has bounds.
    let (from, until) = year_bounds(year).unwrap_or((0, 0));
    let source = match (view, basis) {
        (View::Exports, Basis::Trade) => Source::ExportsEndorsed,
        (View::Exports, Basis::Permits) => Source::ExportsIssued,
        (View::Imports, Basis::Trade) => Source::ImportsConfirmed,
        (View::Imports, Basis::Permits) => Source::ImportsIssued,
    };
    // Rows are made as the database streams the documents: memory holds the CSV text, not
    // every stored draft of the year.
    let mut out = csv_header(view);
    db.annual_sources(source, authority, country, from, until, |document| {
        for row in rows(view, &document)? {
            push_row(&mut out, view, &row);
        }
        Ok::<(), ReportError>(())
    })
    .await?;
    Ok(out)
}

/// The file name a report is offered under, e.g. `KE-2026-exports-trade.csv`.
pub fn file_name(authority: &str, year: i32, view: View, basis: Basis) -> String {
    format!(
        "{authority}-{year}-{}-{}.csv",
        view.as_str(),
        basis.as_str()
    )
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `I`, `II` or `III`.
    pub appendix: String,
    /// Scientific name as on the permit.
    pub species_name: String,
    /// Term code.
    pub term_code: String,
    /// Decimal quantity.
    pub quantity: String,
    /// Unit code; blank for number of specimens, as the Trade Database writes it.
    pub unit_code: String,
    /// The other country of the trade: the importer in an export report, the exporter in an
    /// import report.
    pub trading_partner: String,
    /// Country of origin for re-exports; blank when the exporter is the origin.
    pub country_of_origin: String,
    /// Import permit number.
    pub import_permit: String,
    /// Export permit or re-export certificate number.
    pub export_permit: String,
    /// Permit number in the country of origin.
    pub origin_permit: String,
    /// Purpose code.
    pub purpose_code: String,
    /// Source code.
    pub source_code: String,
    /// Calendar year (UTC) of the trade or the issue.
    pub year: i32,
}

/// A stored document that cannot be read back: the report would be incomplete, so it fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored permit {number} cannot be read for the report: {why}")]
pub struct Unreadable {
    number: String,
    why: String,
}

#[derive(Debug, Deserialize)]
struct TradedLine {
    block: String,
    quantity_micro: i64,
}

#[derive(Debug, Deserialize)]
struct ImportPermitRef {
    number: String,
}

/// Start and end (exclusive) of a calendar year in unix seconds, UTC.
pub fn year_bounds(year: i32) -> Option<(i64, i64)> {
    let start = Date::from_ymd(year, 1, 1)?;
    let end = Date::from_ymd(year.checked_add(1)?, 1, 1)?;
    Some((start.start_unix(), end.start_unix()))
}

/// The report's rows for one document, in block order.
pub fn rows(view: View, source: &TradeSource) -> Result<Vec<Row>, Unreadable> {
    let mut out = Vec::new();
    let unreadable = |why: String| Unreadable {
        number: source.number.clone(),
        why,
    };
    let draft: PermitDraft =
        serde_json::from_str(&source.draft).map_err(|e| unreadable(e.to_string()))?;
    let year = Date::from_unix(source.at).ymd().0;
    // (line index, quantity in millionths) for each line to report.
    let quantities: Vec<(usize, i64)> = match &source.traded {
        None => draft
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let q = l
                    .quantity
                    .parse()
                    .map_err(|_| unreadable(format!("line {i} has an unreadable quantity")))?;
                let q = micro(q)
                    .ok_or_else(|| unreadable(format!("line {i} has a quantity beyond 64 bits")))?;
                Ok((i, q))
            })
            .collect::<Result<_, Unreadable>>()?,
        Some(json) => {
            let traded: Vec<TradedLine> =
                serde_json::from_str(json).map_err(|e| unreadable(e.to_string()))?;
            // A block the permit does not have was accepted from the field with a
            // `quantity_exceeded` alert; it describes no species, so it is not reported.
            traded
                .iter()
                .filter(|t| t.quantity_micro > 0)
                .filter_map(|t| {
                    block_index(&t.block)
                        .filter(|&i| i < draft.lines.len())
                        .map(|i| (i, t.quantity_micro))
                })
                .collect()
        }
    };
    let import_permit = match view {
        View::Exports => String::new(),
        View::Imports if source.document_type == "import" => source.number.clone(),
        View::Imports => source
            .import_permit
            .as_deref()
            .and_then(|j| serde_json::from_str::<ImportPermitRef>(j).ok())
            .map(|r| r.number)
            .unwrap_or_default(),
    };
    let export_permit = if source.document_type == "import" {
        String::new()
    } else {
        source.number.clone()
    };
    let trading_partner = match view {
        View::Exports => source.import_country.clone().unwrap_or_default(),
        View::Imports => draft.exporter.country.to_ascii_uppercase(),
    };
    for (i, quantity) in quantities {
        let Some(line) = draft.lines.get(i) else {
            continue;
        };
        let unit = match line.unit.as_deref().map(str::parse::<Unit>) {
            None | Some(Ok(Unit::Number)) => String::new(),
            Some(Ok(u)) => u.code().to_string(),
            Some(Err(_)) => line.unit.clone().unwrap_or_default(),
        };
        // The Trade Database leaves the origin blank when the exporter is the origin (and
        // refuses exporter = origin), so an issuer who filled box 12 with its own country
        // reports no origin.
        let (origin_country, origin_permit) = match &line.origin {
            Some(o) if !o.country.eq_ignore_ascii_case(&source.export_country) => {
                (o.country.to_ascii_uppercase(), o.number.clone())
            }
            _ => (String::new(), String::new()),
        };
        out.push(Row {
            appendix: line.appendix.to_ascii_uppercase(),
            species_name: line.scientific_name.clone(),
            term_code: normalise::<Term>(&line.term),
            quantity: format_micro(quantity),
            unit_code: unit,
            trading_partner: trading_partner.clone(),
            country_of_origin: origin_country,
            import_permit: import_permit.clone(),
            export_permit: export_permit.clone(),
            origin_permit,
            purpose_code: normalise::<Purpose>(&draft.purpose),
            source_code: normalise::<SourceCode>(&line.source),
            year,
        });
    }
    Ok(out)
}

/// Block letter `A`… → line index.
fn block_index(block: &str) -> Option<usize> {
    match block.as_bytes() {
        [c @ b'A'..=b'Z'] => Some(usize::from(c - b'A')),
        _ => None,
    }
}

/// A code as its table writes it (the draft was checked at issuance, so it parses).
fn normalise<C: std::str::FromStr + std::fmt::Display>(text: &str) -> String {
    text.parse::<C>()
        .map(|c| c.to_string())
        .unwrap_or_else(|_| text.to_string())
}

/// The header row for a view, with its CRLF line end (RFC 4180).
pub fn csv_header(view: View) -> String {
    let header: &[&str] = match view {
        View::Exports => &[
            "appendix",
            "species_name",
            "term_code",
            "quantity",
            "unit_code",
            "trading_partner",
            "country_of_origin",
            "export_permit",
            "origin_permit",
            "ifs_permit",
            "purpose_code",
            "source_code",
            "year",
        ],
        View::Imports => &[
            "appendix",
            "species_name",
            "term_code",
            "quantity",
            "unit_code",
            "trading_partner",
            "country_of_origin",
            "import_permit",
            "export_permit",
            "origin_permit",
            "ifs_permit",
            "purpose_code",
            "source_code",
            "year",
        ],
    };
    let mut out = String::new();
    push_record(&mut out, header.iter().copied());
    out
}

/// Appends one row in the view's columns.
pub fn push_row(out: &mut String, view: View, r: &Row) {
    let year = r.year.to_string();
    let mut fields = vec![
        r.appendix.as_str(),
        &r.species_name,
        &r.term_code,
        &r.quantity,
        &r.unit_code,
        &r.trading_partner,
        &r.country_of_origin,
    ];
    if view == View::Imports {
        fields.push(&r.import_permit);
    }
    fields.extend([
        r.export_permit.as_str(),
        &r.origin_permit,
        "",
        &r.purpose_code,
        &r.source_code,
        &year,
    ]);
    push_record(out, fields.into_iter());
}

/// Characters that make a spreadsheet read a cell as a formula (or, for tab and carriage return,
/// shift it), when they open the cell.
const FORMULA_PREFIXES: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn push_record<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A text the issuer typed (a permit number, a name) opening with `=` would run as a
        // formula in the spreadsheet a Party opens the report in; a leading apostrophe makes
        // it text. Quantities and codes never start with these characters.
        let neutral;
        let field = if field.starts_with(FORMULA_PREFIXES) {
            neutral = format!("'{field}");
            neutral.as_str()
        } else {
            field
        };
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_utc_calendar_years() {
        let (from, until) = year_bounds(2026).unwrap();
        assert_eq!(
            verifier_core::date::format_unix(from),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(until - from, 365 * 86_400);
        let (from, until) = year_bounds(2028).unwrap();
        assert_eq!(until - from, 366 * 86_400);
    }

    fn source(draft: serde_json::Value, traded: Option<&str>) -> TradeSource {
        TradeSource {
            number: "KE/9".into(),
            document_type: draft["document_type"].as_str().unwrap().into(),
            export_country: "KE".into(),
            import_country: Some("DE".into()),
            draft: draft.to_string(),
            import_permit: None,
            at: year_bounds(2026).unwrap().0 + 86_400,
            traded: traded.map(str::to_string),
        }
    }

    fn line(origin: &str) -> serde_json::Value {
        serde_json::json!({"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
            "appendix": "II", "source": "A", "quantity": "2.5", "unit": "KIL",
            "origin": {"country": origin, "number": "X/1", "date": "2025-01-01"}})
    }

    fn draft(lines: Vec<serde_json::Value>) -> serde_json::Value {
        serde_json::json!({"document_type": "re_export", "number": "KE/9",
            "valid_until": "2026-06-01", "purpose": "T",
            "exporter": {"name": "E", "country": "KE"}, "importer": {"name": "I", "country": "DE"},
            "lines": lines})
    }

    #[test]
    fn origin_is_blank_when_the_exporter_is_the_origin() {
        let rows = rows(
            View::Exports,
            &source(draft(vec![line("KE"), line("mg")]), None),
        )
        .unwrap();
        assert_eq!(
            (
                rows[0].country_of_origin.as_str(),
                rows[0].origin_permit.as_str()
            ),
            ("", "")
        );
        assert_eq!(
            (
                rows[1].country_of_origin.as_str(),
                rows[1].origin_permit.as_str()
            ),
            ("MG", "X/1")
        );
    }

    #[test]
    fn traded_quantities_name_their_block() {
        let d = draft(vec![line("MG"), line("MG")]);
        let traded =
            r#"[{"block": "B", "quantity_micro": 1500000}, {"block": "A", "quantity_micro": 0}]"#;
        let rows = rows(View::Exports, &source(d.clone(), Some(traded))).unwrap();
        assert_eq!(rows.len(), 1, "a zero quantity is no trade");
        assert_eq!((rows[0].quantity.as_str(), rows[0].year), ("1.5", 2026));
        // A block the permit does not have (an officer's slip, raised as an alert when it was
        // uploaded) describes no species: left out, the rest of the report stands.
        let slip =
            r#"[{"block": "C", "quantity_micro": 1}, {"block": "A", "quantity_micro": 2000000}]"#;
        let rows = super::rows(View::Exports, &source(d.clone(), Some(slip))).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].quantity, "2");
        // A stored record that is not even JSON fails the report rather than shrink it.
        assert!(super::rows(View::Exports, &source(d, Some("not json"))).is_err());
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_as_formulas_are_text() {
        let mut out = String::new();
        push_record(
            &mut out,
            [
                "=HYPERLINK(\"http://x\")",
                "+1",
                "-2+3",
                "@SUM(A1)",
                "\tx",
                "250",
                "ZA/1=2",
            ]
            .into_iter(),
        );
        assert_eq!(
            out,
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2+3,'@SUM(A1),'\tx,250,ZA/1=2\r\n"
        );
    }

    #[test]
    fn fields_with_separators_are_quoted() {
        let mut out = String::new();
        push_record(&mut out, ["a", "b,c", "say \"hi\"", "x\ny"].into_iter());
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\r\n");
    }
}
