//! docs/FORMAT-codes.md is the code lists of the format, rendered from `codes.rs`: the test
//! fails when the two differ. `PERMITSEAL_WRITE_CODE_LISTS=1 cargo test -p verifier-core
//! --test code_lists` writes the file again after a change to the lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use verifier_core::codes::{Appendix, Country, DocumentType, Kingdom, Purpose, Source, Term, Unit};

/// The 15-bit packing of FORMAT.md §1, as an outside reader computes it.
fn code3(code: &str) -> String {
    let b = code.as_bytes();
    let v = (u16::from(b[0] - 64) << 10) | (u16::from(b[1] - 64) << 5) | u16::from(b[2] - 64);
    format!("0x{v:04X}")
}

fn render() -> String {
    let mut s = String::new();
    let mut line = |t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    line("# permitseal format v1: code lists".into());
    line(String::new());
    line(
        "Normative part of docs/FORMAT.md (§1, §3.4, §3.6). Generated from \
         `verifier-core/src/codes.rs` by `PERMITSEAL_WRITE_CODE_LISTS=1 cargo test -p \
         verifier-core --test code_lists`; the same test fails when this file and the code \
         differ. A code not listed here is `MALFORMED`."
            .into(),
    );
    line(String::new());
    line("## Document types (high nibble of `head`)".into());
    line(String::new());
    line("| value | type | box-1 tick | longest validity (months) | multi-use |".into());
    line("|---|---|---|---|---|".into());
    for t in DocumentType::ALL {
        line(format!(
            "| {} | `{}` | {} | {} | {} |",
            t.wire(),
            t.code(),
            t.form_box_code(),
            t.max_validity_months(),
            if t.is_multi_use() { "yes" } else { "no" }
        ));
    }
    line(String::new());
    line("## Appendix (line header bits 7–6)".into());
    line(String::new());
    line("| value | appendix |".into());
    line("|---|---|".into());
    for a in Appendix::ALL {
        line(format!("| {} | `{}` |", a.wire(), a.code()));
    }
    line(String::new());
    line("## Kingdom (line header bit 5)".into());
    line(String::new());
    line("| bit | kingdom |".into());
    line("|---|---|".into());
    for (i, k) in Kingdom::ALL.iter().enumerate() {
        line(format!("| {i} | `{}` |", k.code()));
    }
    line(String::new());
    line("## Purpose (box 5a, one ASCII byte)".into());
    line(String::new());
    line("| code | byte | meaning |".into());
    line("|---|---|---|".into());
    for p in Purpose::ALL {
        line(format!(
            "| `{}` | 0x{:02X} | {} |",
            p.code(),
            p.letter(),
            p.name_en()
        ));
    }
    line(String::new());
    line("## Source (box 10, one ASCII byte)".into());
    line(String::new());
    line("| code | byte | meaning | animals | plants |".into());
    line("|---|---|---|---|---|".into());
    let yes = |b: bool| if b { "yes" } else { "no" };
    for src in Source::ALL {
        line(format!(
            "| `{}` | 0x{:02X} | {} | {} | {} |",
            src.code(),
            src.letter(),
            src.name_en(),
            yes(src.allowed_for(Kingdom::Animal)),
            yes(src.allowed_for(Kingdom::Plant))
        ));
    }
    line(String::new());
    line(format!(
        "## Terms (box 9, code3): {} codes",
        Term::ALL.len()
    ));
    line(String::new());
    line("| code | code3 | description |".into());
    line("|---|---|---|".into());
    for t in Term::ALL {
        line(format!(
            "| `{}` | {} | {} |",
            t.code(),
            code3(t.code()),
            t.name_en()
        ));
    }
    line(String::new());
    line("## Units (box 11, code3)".into());
    line(String::new());
    line(
        "`NAR` (number of specimens) is never written: a line without a unit counts specimens."
            .into(),
    );
    line(String::new());
    line("| code | code3 | unit |".into());
    line("|---|---|---|".into());
    for u in Unit::ALL.iter().filter(|u| **u != Unit::Number) {
        line(format!(
            "| `{}` | {} | {} |",
            u.code(),
            code3(u.code()),
            u.name_en()
        ));
    }
    line(String::new());
    line(format!(
        "## Countries (ISO 3166-1 alpha-2): {} codes",
        Country::ALL_CODES.len()
    ));
    line(String::new());
    line("| code | name |".into());
    line("|---|---|".into());
    for c in Country::ALL_CODES {
        let country: Country = c.parse().unwrap();
        line(format!("| `{c}` | {} |", country.name_en()));
    }
    s
}

#[test]
fn the_code_lists_in_the_docs_are_the_ones_in_the_code() {
    let path = format!("{}/../docs/FORMAT-codes.md", env!("CARGO_MANIFEST_DIR"));
    let want = render();
    if std::env::var_os("PERMITSEAL_WRITE_CODE_LISTS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let first = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "docs/FORMAT-codes.md differs from codes.rs at line {}: run \
             PERMITSEAL_WRITE_CODE_LISTS=1 cargo test -p verifier-core --test code_lists",
            first + 1
        );
    }
}

/// The short lists FORMAT.md spells out inline are the code's too.
#[test]
fn the_inline_lists_in_format_md_are_the_ones_in_the_code() {
    let spec = std::fs::read_to_string(format!("{}/../docs/FORMAT.md", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let purposes: String = Purpose::ALL.iter().map(|p| p.code()).collect();
    let sources: String = Source::ALL.iter().map(|s| s.code()).collect();
    assert!(spec.contains(&format!("one of `{purposes}`")), "{purposes}");
    assert!(spec.contains(&format!("one of `{sources}`")), "{sources}");
    assert!(spec.contains(&format!("{} terms", Term::ALL.len())));
    assert!(spec.contains(&format!("({} codes;", Country::ALL_CODES.len())));
}
