//! A CITES checklist in the shape of a Species+ checklist export (CSV), read into reference
//! taxa (docs/RULES.md T4, docs/CHECKLIST.md). Reading is all or nothing: every bad row is
//! reported with its line number and why, and a checklist with any is not stored at all.
//!
//! Columns are found by their header (case and spaces ignored, order free, other columns
//! ignored): `Kingdom` (Animalia, Plantae), `Full Name` (or `Scientific Name`), `Listing`
//! (`I`, `II`, `III`, `I/II`; `NC` rows are skipped), and optionally `Party` (the Appendix-III
//! listing Party, ISO alpha-2), `Listed On` (or `Effective At`; YYYY-MM-DD or DD/MM/YYYY),
//! `Synonyms` (`;`-separated), `English Names` (`,`-separated: the first is kept) and
//! `Annotation` (or `Full Note`).

use std::collections::HashMap;

use crate::storage::taxa::TaxonRow;
use crate::views::{TaxonDto, parse_taxon as parse};

/// At most this many bad rows are listed in the answer (the rest are counted).
const LISTED_PROBLEMS: usize = 20;
/// An annotation longer than this is refused (characters).
const MAX_ANNOTATION: usize = 1000;

/// A checklist read: the rows to store (accepted names and synonyms) and how many were skipped
/// as not listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// Taxa, in file order, each synonym after its accepted name.
    pub rows: Vec<TaxonRow>,
    /// Rows whose listing is `NC` (not listed).
    pub skipped: u64,
}

/// Why a checklist was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecklistError {
    /// The file is not CSV with a header naming the required columns.
    #[error("{0}")]
    Shape(String),
    /// Some rows are bad: `(line, reason)` for each, in file order.
    #[error("{}", describe(.0))]
    BadRows(Vec<(u64, String)>),
}

fn describe(problems: &[(u64, String)]) -> String {
    let mut text: Vec<String> = problems
        .iter()
        .take(LISTED_PROBLEMS)
        .map(|(line, why)| format!("line {line}: {why}"))
        .collect();
    if problems.len() > LISTED_PROBLEMS {
        text.push(format!(
            "and {} more bad rows",
            problems.len() - LISTED_PROBLEMS
        ));
    }
    format!(
        "{} bad rows, nothing imported: {}",
        problems.len(),
        text.join("; ")
    )
}

/// The header's key for a column name: lower case, without spaces, `_` or `#`.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '#'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A date as the API takes it: YYYY-MM-DD as is; DD/MM/YYYY turned into it.
fn iso_date(text: &str) -> String {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [d, m, y] if y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => text.to_owned(),
    }
}

/// Reads a checklist; `now` bounds listing dates (none in the future).
pub fn read(bytes: &[u8], now: i64) -> Result<Checklist, ChecklistError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| ChecklistError::Shape(format!("the header row does not read: {e}")))?
        .clone();
    let columns: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (key(name), i))
        .collect();
    let find = |names: &[&str]| names.iter().find_map(|n| columns.get(*n).copied());
    let required = |names: &[&str], shown: &str| {
        find(names)
            .ok_or_else(|| ChecklistError::Shape(format!("the header row has no column {shown:?}")))
    };
    let kingdom_at = required(&["kingdom"], "Kingdom")?;
    let name_at = required(&["fullname", "scientificname"], "Full Name")?;
    let listing_at = required(&["listing", "currentlisting"], "Listing")?;
    let party_at = find(&["party"]);
    let date_at = find(&["listedon", "effectiveat"]);
    let synonyms_at = find(&["synonyms"]);
    let english_at = find(&["englishnames", "commonname"]);
    let note_at = find(&["annotation", "fullnote"]);

    let mut rows = Vec::new();
    let mut skipped = 0;
    let mut problems = Vec::new();
    // Each name once: where it was first given, to name in the problem.
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push((line, format!("does not read as CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let field = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let listing = field(Some(listing_at)).unwrap_or_default();
        if listing.eq_ignore_ascii_case("NC") {
            skipped += 1;
            continue;
        }
        let kingdom = match field(Some(kingdom_at)).as_deref().map(key).as_deref() {
            Some("animalia" | "animal") => "animal".to_owned(),
            Some("plantae" | "plant") => "plant".to_owned(),
            other => {
                problems.push((
                    line,
                    format!(
                        "Kingdom {:?}: Animalia or Plantae",
                        other.unwrap_or_default()
                    ),
                ));
                continue;
            }
        };
        let name = field(Some(name_at)).unwrap_or_default();
        let annotation = field(note_at);
        if annotation
            .as_ref()
            .is_some_and(|a| a.chars().count() > MAX_ANNOTATION || a.chars().any(char::is_control))
        {
            problems.push((
                line,
                format!("Annotation: plain text of at most {MAX_ANNOTATION} characters"),
            ));
            continue;
        }
        let dto = TaxonDto {
            kingdom,
            appendices: listing.split('/').map(|a| a.trim().to_owned()).collect(),
            common_name: field(english_at)
                .and_then(|e| e.split(',').next().map(|f| f.trim().to_owned()))
                .filter(|e| !e.is_empty()),
            listed_on: field(date_at).map(|d| iso_date(&d)),
            app3_party: field(party_at),
        };
        let accepted = match parse(&name, &dto, now) {
            Ok(row) => TaxonRow { annotation, ..row },
            Err(e) => {
                problems.push((line, format!("{name:?}: {}", e.message)));
                continue;
            }
        };
        let mut these = vec![accepted.clone()];
        let mut bad = false;
        for synonym in field(synonyms_at)
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match parse(synonym, &dto, now) {
                Ok(row) => these.push(TaxonRow {
                    accepted_name: Some(accepted.scientific_name.clone()),
                    annotation: accepted.annotation.clone(),
                    // A synonym carries the accepted name's listing, not its common name.
                    common_name: None,
                    ..row
                }),
                Err(e) => {
                    problems.push((line, format!("synonym {synonym:?}: {}", e.message)));
                    bad = true;
                }
            }
        }
        for t in &these {
            if let Some(first) = seen.insert(t.scientific_name.clone(), line) {
                problems.push((
                    line,
                    format!(
                        "{:?} is given again (first on line {first})",
                        t.scientific_name
                    ),
                ));
                bad = true;
            }
        }
        if !bad {
            rows.extend(these);
        }
    }
    if !problems.is_empty() {
        return Err(ChecklistError::BadRows(problems));
    }
    if rows.is_empty() && skipped == 0 {
        return Err(ChecklistError::Shape("the checklist has no rows".into()));
    }
    Ok(Checklist { rows, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        verifier_core::date::Date::from_ymd(2026, 6, 1)
            .map(|d| d.start_unix())
            .unwrap_or(0)
    }

    #[test]
    fn rows_synonyms_and_skipped_ones() {
        let csv = "Kingdom,Full Name,Listing,Party,Listed On,Synonyms,English Names,Extra\n\
                   Animalia,Testudo testa,I/II,,01/07/1975,Testudo probata; Testudo vetus,\"Test tortoise, Tester\",x\n\
                   Plantae,Aloe probata,NC,,,,,\n\
                   Animalia,Civetta probata,III,GH,1976-02-26,,,\n";
        let c = read(csv.as_bytes(), now()).unwrap();
        assert_eq!(c.skipped, 1);
        let names: Vec<&str> = c.rows.iter().map(|r| r.scientific_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Testudo testa",
                "Testudo probata",
                "Testudo vetus",
                "Civetta probata"
            ]
        );
        assert_eq!(c.rows[0].listed_on.as_deref(), Some("1975-07-01"));
        assert_eq!(c.rows[0].common_name.as_deref(), Some("Test tortoise"));
        assert_eq!(c.rows[1].accepted_name.as_deref(), Some("Testudo testa"));
        assert_eq!(c.rows[1].appendices, "I/II");
        assert_eq!(c.rows[3].app3_party.as_deref(), Some("GH"));
    }

    #[test]
    fn bad_rows_are_all_reported_with_their_line() {
        let csv = "kingdom,scientific_name,listing\n\
                   Fungi,Amanita probata,II\n\
                   Animalia,Testudo testa,IV\n\
                   Animalia,Testudo testa,II\n\
                   Animalia,Testudo testa,II\n";
        let Err(ChecklistError::BadRows(problems)) = read(csv.as_bytes(), now()) else {
            panic!("bad rows are refused");
        };
        let lines: Vec<u64> = problems.iter().map(|p| p.0).collect();
        assert_eq!(lines, [2, 3, 5], "{problems:?}");
        assert!(problems[0].1.contains("Kingdom"), "{problems:?}");
        assert!(problems[1].1.contains("appendices"), "{problems:?}");
        assert!(problems[2].1.contains("first on line 4"), "{problems:?}");
        assert!(matches!(
            read(b"Name,Appendix\nx,I\n", now()),
            Err(ChecklistError::Shape(_))
        ));
        assert!(matches!(
            read(b"Kingdom,Full Name,Listing\n", now()),
            Err(ChecklistError::Shape(_))
        ));
    }
}
