//! What goes in which box, and where the boxes go on the page.
//!
//! Everything is measured before anything is drawn: boxes grow with their text (names and
//! addresses are printed in full), page 1 holds the header boxes, the QR code and as many of
//! the form's four blocks as fit, and further blocks go onto annex pages that repeat the
//! permit number. Boxes 13, 14 and 15 close every page, so each annex page has its own date,
//! signature and stamp as the Convention requires. Units are PDF points, y grows downwards.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};
use verifier_core::codes::{Country, DocumentType, Unit};
use verifier_core::i18n::Lang;
use verifier_core::permit::{DocRef, LineDetails};
use verifier_core::qr::Matrix;

use super::labels::{Labels, labels};
use super::{DocumentError, MODULE_MM, PermitDocument, QUIET_ZONE_MODULES};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const MARGIN: f32 = 10.0 * MM;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_H - MARGIN;
/// Blocks on the form itself (A to D); more go onto annex pages.
const FORM_BLOCKS: usize = 4;

const PAD: f32 = 2.5;
const LABEL_SIZE: f32 = 5.6;
const VALUE_SIZE: f32 = 8.0;
const NUMBER_SIZE: f32 = 12.0;
const LINE: f32 = 1.2;
/// Baseline below the top of a line, as a share of the font size (DejaVu's ascender).
const ASCENT: f32 = 0.93;
/// Room for a signature or a stamp.
const INK_SPACE: f32 = 22.0;

/// Columns of the block table: block letter, 7/8, 9, 10, 11/11a, 12/12a/12b, 14.
const COLUMNS: [f32; 7] = [14.0, 100.0, 124.0, 40.0, 62.0, 118.0, CONTENT_W - 458.0];

/// A font face: krilla's handle for drawing, skrifa's tables for measuring.
pub(super) struct Face {
    font: Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    /// Glyph and advance of the characters below [`CACHED`] (Latin with its extensions,
    /// Greek, Cyrillic, punctuation), looked up once: the charmap search was a tenth of the
    /// rendering time.
    cache: Vec<Option<(u32, f32)>>,
}

/// Characters whose glyph and advance each face keeps at hand.
const CACHED: u32 = 0x2100;

impl Face {
    pub(super) fn new(bytes: &'static [u8], font: Font) -> Option<Face> {
        let font_ref = FontRef::new(bytes).ok()?;
        let mut face = Face {
            font,
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::new(1.0), LocationRef::default()),
            cache: Vec::new(),
        };
        face.cache = (0..CACHED)
            .map(|c| char::from_u32(c).and_then(|ch| face.lookup(ch)))
            .collect();
        Some(face)
    }

    fn lookup(&self, ch: char) -> Option<(u32, f32)> {
        let g = self.charmap.map(ch)?;
        Some((g.to_u32(), self.metrics.advance_width(g).unwrap_or(0.5)))
    }

    fn glyph(&self, ch: char) -> Option<(u32, f32)> {
        match self.cache.get(ch as usize) {
            Some(cached) => *cached,
            None => self.lookup(ch),
        }
    }

    fn covers(&self, ch: char) -> bool {
        self.glyph(ch).is_some()
    }

    /// Width of `text` at `size`: the sum of the advances, exactly as [`Face::glyphs`] sets it.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// Advance of `ch` in ems (half an em for a character the font lacks, which the
    /// printable check keeps out of every value).
    fn advance(&self, ch: char) -> f32 {
        self.glyph(ch).map_or(0.5, |(_, a)| a)
    }

    /// `text` as a run of glyphs, one per character at its advance, each mapped back to its
    /// character for the text layer. No shaping: the form's values are Latin, Greek and
    /// Cyrillic in precomposed form, which need neither ligatures nor reordering, and
    /// shaping every line was a fifth of the rendering time. Kerning is not applied, so what
    /// is measured is what is drawn.
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, ch)| KrillaGlyph {
                glyph_id: GlyphId::new(self.glyph(ch).map_or(0, |(g, _)| g)),
                text_range: i..i + ch.len_utf8(),
                x_advance: self.advance(ch),
                x_offset: 0.0,
                y_offset: 0.0,
                y_advance: 0.0,
                location: None,
            })
            .collect()
    }
}

/// The two faces of the document.
pub(super) struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

/// One labelled part of a box: a small bold label over regular text, or over room for ink.
struct Section {
    label: String,
    values: Vec<String>,
    ink: bool,
}

impl Section {
    fn new(label: impl Into<String>, values: Vec<String>) -> Section {
        Section {
            label: label.into(),
            values,
            ink: false,
        }
    }

    /// A label over empty room for a signature, stamp or handwritten entry.
    fn ink(label: impl Into<String>) -> Section {
        Section {
            label: label.into(),
            values: Vec::new(),
            ink: true,
        }
    }
}

/// A box of the form.
struct Cell {
    sections: Vec<Section>,
}

impl Cell {
    fn of(sections: Vec<Section>) -> Cell {
        Cell { sections }
    }
}

/// One block (line item) as printed.
struct Block {
    letter: String,
    cells: [Cell; 6],
}

/// Every value of the document, in its language, ready to place.
pub(super) struct Content<'a> {
    l: &'static Labels,
    doc: &'a PermitDocument<'a>,
    doc_type: &'static str,
    header: [[Cell; 2]; 3],
    blocks: Vec<Block>,
    /// Every value taken from the record, with its field name, for the font check.
    values: Vec<(String, String)>,
}

fn country(c: Country) -> String {
    format!("{} — {}", c, c.name_en())
}

fn doc_ref(r: &DocRef) -> String {
    format!("{} · {} · {}", country(r.country), r.number, r.date)
}

impl<'a> Content<'a> {
    pub(super) fn new(doc: &'a PermitDocument<'a>, lang: Lang) -> Content<'a> {
        let l = labels(lang);
        let p = doc.permit;
        let d = doc.details;
        let mut values: Vec<(String, String)> = Vec::new();
        let mut take = |field: &str, text: &str| {
            values.push((field.to_owned(), text.to_owned()));
            text.to_owned()
        };
        let doc_type = match lang {
            Lang::En => p.document_type.name_en(),
            Lang::Fr => p.document_type.name_fr(),
            Lang::Es => p.document_type.name_es(),
        };
        let ticked = match p.document_type {
            DocumentType::Export => 0,
            DocumentType::ReExport => 1,
            DocumentType::Import => 2,
            _ => 3,
        };
        let types = l
            .doc_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mark = if i == ticked { "[X]" } else { "[  ]" };
                if i == 3 && ticked == 3 {
                    format!("{mark} {t}: {doc_type}")
                } else {
                    format!("{mark} {t}")
                }
            })
            .collect::<Vec<_>>()
            .join("   ");
        let number = take("number", &p.number);
        let box1 = Cell::of(vec![
            Section::new(format!("1  {}", l.permit_no), vec![number]),
            Section::new("", vec![types]),
        ]);
        let box2 = Cell::of(vec![
            Section::new(
                format!("2  {}", l.valid_until),
                vec![p.valid_until.to_string()],
            ),
            Section::new(l.valid_from, vec![p.valid_from.to_string()]),
        ]);

        let mut importer = Vec::new();
        let mut import_country = vec!["—".to_owned()];
        if let Some(party) = &p.importer {
            importer.push(take("importer.name", &party.name));
            if let Some(a) = &d.importer_address {
                importer.push(take("importer.address", a));
            }
            import_country = vec![country(party.country)];
        } else {
            importer.push("—".to_owned());
        }
        let box3 = Cell::of(vec![
            Section::new(format!("3  {}", l.importer), importer),
            Section::new(format!("3a  {}", l.import_country), import_country),
        ]);
        let mut exporter = vec![take("exporter.name", &p.exporter.name)];
        if let Some(a) = &d.exporter_address {
            exporter.push(take("exporter.address", a));
        }
        exporter.push(country(p.exporter.country));
        let box4 = Cell::of(vec![
            Section::new(format!("4  {}", l.exporter), exporter),
            Section::ink(l.applicant_signature),
        ]);

        let conditions = match &d.special_conditions {
            Some(s) => take("special_conditions", s),
            None => "—".to_owned(),
        };
        let stamp = match &p.security_stamp {
            Some(s) => take("security_stamp", s),
            None => "—".to_owned(),
        };
        let mut box5 = vec![
            Section::new(format!("5  {}", l.special_conditions), vec![conditions]),
            Section::new(format!("5a  {}", l.purpose), vec![p.purpose.to_string()]),
            Section::new(format!("5b  {}", l.security_stamp), vec![stamp]),
        ];
        if let Some((c, n)) = doc.import_permit {
            let n = take("import_permit.number", n);
            box5.push(Section::new(l.import_permit, vec![format!("{c} · {n}")]));
        }
        let mut authority = vec![take("authority.name", doc.authority.name)];
        if let Some(a) = doc.authority.address {
            authority.push(take("authority.address", a));
        }
        authority.push(country(doc.authority.country));
        let box6 = Cell::of(vec![Section::new(format!("6  {}", l.authority), authority)]);

        let empty = LineDetails::default();
        let blocks = p
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let det = d.lines.get(i).unwrap_or(&empty);
                let f = |name: &str| format!("lines[{i}].{name}");
                let mut names = vec![take(&f("scientific_name"), &line.scientific_name)];
                if let Some(c) = &det.common_name {
                    names.push(take(&f("common_name"), c));
                }
                let mut description = vec![line.term.to_string()];
                if let Some(t) = &det.description {
                    description.push(take(&f("description"), t));
                }
                let unit = if line.unit == Unit::Number {
                    l.specimens.to_owned()
                } else {
                    line.unit.to_string()
                };
                let mut quantity = vec![format!("{} {unit}", line.quantity)];
                if let Some(Some(q)) = doc.quotas.get(i) {
                    quantity.push(format!("11a  {}/{}", q.used, q.total));
                }
                let mut refs = Vec::new();
                if let Some(r) = &line.origin {
                    take(&f("origin.number"), &r.number);
                    refs.push(format!("12  {}", doc_ref(r)));
                }
                if let Some(r) = &line.last_reexport {
                    take(&f("last_reexport.number"), &r.number);
                    refs.push(format!("12a  {}", doc_ref(r)));
                }
                if let Some(o) = &line.operation_number {
                    refs.push(format!("12b  {}", take(&f("operation_number"), o)));
                }
                if let Some(a) = line.acquisition_date {
                    refs.push(format!("12b  {a}"));
                }
                if let Some(j) = &det.justification {
                    refs.push(format!(
                        "{}: {}",
                        l.justification,
                        take(&f("justification"), j)
                    ));
                }
                if refs.is_empty() {
                    refs.push("—".to_owned());
                }
                Block {
                    letter: line.block.to_string(),
                    cells: [
                        Cell::of(vec![Section::new("", names)]),
                        Cell::of(vec![Section::new("", description)]),
                        Cell::of(vec![Section::new(
                            "",
                            vec![format!("{} / {}", line.appendix, line.source)],
                        )]),
                        Cell::of(vec![Section::new("", quantity)]),
                        Cell::of(vec![Section::new("", refs)]),
                        Cell::of(vec![Section::ink("")]),
                    ],
                }
            })
            .collect();
        Content {
            l,
            doc,
            doc_type,
            header: [[box1, box2], [box3, box4], [Cell::of(box5), box6]],
            blocks,
            values,
        }
    }

    /// Refuses a value with a character the regular face cannot draw.
    pub(super) fn check_printable(&self, face: &Face) -> Result<(), DocumentError> {
        for (field, text) in &self.values {
            if let Some(ch) = text.chars().find(|&c| !face.covers(c)) {
                return Err(DocumentError::Unprintable {
                    field: field.clone(),
                    ch,
                });
            }
        }
        Ok(())
    }
}

/// Breaks `text` into lines no wider than `width`; explicit line breaks are kept and a word
/// longer than a line is cut between characters.
fn wrap(face: &Face, size: f32, text: &str, width: f32) -> Vec<String> {
    let space = face.width(" ", size);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        for word in para.split_whitespace() {
            let word_w = face.width(word, size);
            let joined = if line.is_empty() {
                word_w
            } else {
                line_w + space + word_w
            };
            if joined <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w = joined;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            line_w = 0.0;
            for ch in word.chars() {
                let w = face.advance(ch) * size;
                if line_w + w > width && !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(ch);
                line_w += w;
            }
        }
        out.push(line);
    }
    out
}

/// A cell's text broken into lines for a width, and its height.
struct Placed {
    lines: Vec<(bool, f32, String, f32)>,
    height: f32,
}

fn place(fonts: &Fonts, cell: &Cell, width: f32, big_first_value: bool) -> Placed {
    let inner = width - 2.0 * PAD;
    let mut lines = Vec::new();
    let mut y = PAD;
    for (si, section) in cell.sections.iter().enumerate() {
        if !section.label.is_empty() {
            for text in wrap(&fonts.bold, LABEL_SIZE, &section.label, inner) {
                lines.push((true, LABEL_SIZE, text, y));
                y += LABEL_SIZE * LINE;
            }
        }
        for (vi, value) in section.values.iter().enumerate() {
            let size = if big_first_value && si == 0 && vi == 0 {
                NUMBER_SIZE
            } else {
                VALUE_SIZE
            };
            for text in wrap(&fonts.regular, size, value, inner) {
                lines.push((size == NUMBER_SIZE, size, text, y));
                y += size * LINE;
            }
        }
        if section.ink {
            y += INK_SPACE;
        }
        y += 1.0;
    }
    Placed {
        lines,
        height: y + PAD,
    }
}

fn draw_placed(surface: &mut Surface<'_>, fonts: &Fonts, placed: &Placed, x: f32, y: f32) {
    for (bold, size, text, dy) in &placed.lines {
        if text.is_empty() {
            continue;
        }
        let face = if *bold { &fonts.bold } else { &fonts.regular };
        self::text(surface, face, *size, x + PAD, y + dy + size * ASCENT, text);
    }
}

fn black_fill() -> Fill {
    Fill {
        paint: rgb::Color::black().into(),
        ..Fill::default()
    }
}

fn frame(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32) {
    let mut pb = PathBuilder::new();
    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(rect);
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::black().into(),
            width: 0.6,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
        surface.set_fill(Some(black_fill()));
    }
}

fn text(surface: &mut Surface<'_>, face: &Face, size: f32, x: f32, baseline: f32, s: &str) {
    surface.draw_glyphs(
        Point::from_xy(x, baseline),
        &face.glyphs(s),
        face.font.clone(),
        s,
        size,
        false,
    );
}

/// Draws a row of cells with equal height; returns the height.
fn row(surface: &mut Surface<'_>, fonts: &Fonts, cells: &[(&Cell, f32, bool)], y: f32) -> f32 {
    let placed: Vec<Placed> = cells
        .iter()
        .map(|(c, w, big)| place(fonts, c, *w, *big))
        .collect();
    let h = placed.iter().map(|p| p.height).fold(0.0, f32::max);
    let mut x = MARGIN;
    for ((_, w, _), p) in cells.iter().zip(&placed) {
        frame(surface, x, y, *w, h);
        draw_placed(surface, fonts, p, x, y);
        x += w;
    }
    h
}

fn row_height(fonts: &Fonts, cells: &[(&Cell, f32, bool)]) -> f32 {
    cells
        .iter()
        .map(|(c, w, big)| place(fonts, c, *w, *big).height)
        .fold(0.0, f32::max)
}

/// The block table's heading: the box numbers and labels of each column.
fn block_heading(l: &Labels) -> [Cell; 7] {
    let one = |s: String| Cell::of(vec![Section::new(s, Vec::new())]);
    [
        one(String::new()),
        one(format!("7/8  {}", l.names)),
        one(format!("9  {}", l.description)),
        one(format!("10  {}", l.appendix_source)),
        one(format!("11  {} · 11a  {}", l.quantity, l.quota)),
        one(format!(
            "12  {} · 12a  {} · 12b  {}",
            l.origin, l.last_reexport, l.operation
        )),
        one(l.exported.to_owned()),
    ]
}

fn block_cells(block: &Block) -> Vec<(&Cell, f32, bool)> {
    block
        .cells
        .iter()
        .zip(&COLUMNS[1..])
        .map(|(c, w)| (c, *w, false))
        .collect()
}

fn block_height(fonts: &Fonts, block: &Block) -> f32 {
    row_height(fonts, &block_cells(block)).max(VALUE_SIZE * LINE + 2.0 * PAD)
}

fn draw_block(surface: &mut Surface<'_>, fonts: &Fonts, block: &Block, y: f32) -> f32 {
    let h = block_height(fonts, block);
    frame(surface, MARGIN, y, COLUMNS[0], h);
    text(
        surface,
        &fonts.bold,
        10.0,
        MARGIN + 3.0,
        y + PAD + 10.0 * ASCENT,
        &block.letter,
    );
    let mut x = MARGIN + COLUMNS[0];
    for (cell, w, _) in block_cells(block) {
        let p = place(fonts, cell, w, false);
        frame(surface, x, y, w, h);
        draw_placed(surface, fonts, &p, x, y);
        x += w;
    }
    h
}

/// Boxes 13, 14 and 15, which close every page.
fn footer_cells(content: &Content<'_>) -> (Cell, Cell, Cell) {
    let l = content.l;
    let doc = content.doc;
    let place_value = doc
        .authority
        .issue_place
        .map_or_else(Vec::new, |p| vec![p.to_owned()]);
    let issued = verifier_core::date::Date::from_unix(doc.permit.issued_at).to_string();
    let mut b13 = vec![Section::new(
        format!("13  {}", l.issued_by),
        vec![doc.authority.name.to_owned()],
    )];
    if place_value.is_empty() {
        b13.push(Section::ink(l.place));
    } else {
        b13.push(Section::new(l.place, place_value));
    }
    b13.push(Section::new(l.date, vec![issued]));
    b13.push(Section::ink(l.signatory));
    b13.push(Section::ink(l.seal));
    let b14 = vec![
        Section::new(format!("14  {}", l.endorsement), Vec::new()),
        Section::ink(l.port),
        Section::ink(l.date),
        Section::ink(l.signature),
        Section::ink(l.stamp_title),
    ];
    let b15 = vec![Section::ink(format!("15  {}", l.bill_of_lading))];
    (Cell::of(b13), Cell::of(b14), Cell::of(b15))
}

fn footer_height(fonts: &Fonts, f: &(Cell, Cell, Cell)) -> f32 {
    let half = CONTENT_W / 2.0;
    row_height(fonts, &[(&f.0, half, false), (&f.1, half, false)])
        + row_height(fonts, &[(&f.2, CONTENT_W, false)])
}

fn draw_footer(surface: &mut Surface<'_>, fonts: &Fonts, f: &(Cell, Cell, Cell)) {
    let half = CONTENT_W / 2.0;
    let h15 = row_height(fonts, &[(&f.2, CONTENT_W, false)]);
    let h13 = row_height(fonts, &[(&f.0, half, false), (&f.1, half, false)]);
    row(
        surface,
        fonts,
        &[(&f.0, half, false), (&f.1, half, false)],
        BOTTOM - h15 - h13,
    );
    row(surface, fonts, &[(&f.2, CONTENT_W, false)], BOTTOM - h15);
}

/// The QR code's panel at the right of boxes 3 to 6: the code with its quiet zone, the line
/// under it, then the number again and how to verify.
struct QrPanel {
    side: f32,
    under: Vec<String>,
    beside: Cell,
}

const SMALL: f32 = 6.5;

fn qr_panel(content: &Content<'_>, fonts: &Fonts, matrix: &Matrix) -> QrPanel {
    let l = content.l;
    let modules = matrix.width() + 2 * QUIET_ZONE_MODULES;
    let side = modules as f32 * MODULE_MM * MM;
    let under = wrap(&fonts.regular, SMALL, l.qr_checks, side);
    let beside = Cell::of(vec![
        Section::new(
            format!("1  {}", l.permit_no),
            vec![content.doc.permit.number.clone()],
        ),
        Section::new(
            "",
            vec![
                l.how_to_verify.to_owned(),
                content.doc.verify_url.to_owned(),
            ],
        ),
    ]);
    QrPanel {
        side,
        under,
        beside,
    }
}

impl QrPanel {
    /// The panel's width: the code with its quiet zone and the cell padding.
    fn width(&self) -> f32 {
        self.side + 2.0 * PAD
    }

    /// Its height: the code, the line under it, then the number and how to verify.
    fn height(&self, fonts: &Fonts) -> f32 {
        self.side
            + self.under.len() as f32 * SMALL * LINE
            + PAD
            + place(fonts, &self.beside, self.width(), true).height
    }
}

fn draw_qr(surface: &mut Surface<'_>, matrix: &Matrix, x: f32, y: f32) {
    let m = MODULE_MM * MM;
    let q = QUIET_ZONE_MODULES as f32;
    // Drawn in module units under one scaling transform, so the path's coordinates are small
    // whole numbers: less than half the bytes of page units in the page's largest stream,
    // and compressing that stream was most of the rendering time. Each run of dark modules
    // in a row is one filled rectangle (a run stroked a module wide would be shorter still,
    // but poppler then rasterises modules thin enough that zbar misses the degraded copy),
    // overlapping the next row by a hair so no renderer shows seams between rows.
    let seam = 0.01;
    let mut pb = PathBuilder::new();
    for row in 0..matrix.width() {
        let mut col = 0;
        while col < matrix.width() {
            if !matrix.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < matrix.width() && matrix.is_dark(col, row) {
                col += 1;
            }
            if let Some(rect) =
                Rect::from_xywh(start as f32, row as f32, (col - start) as f32, 1.0 + seam)
            {
                pb.push_rect(rect);
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.push_transform(&Transform::from_row(m, 0.0, 0.0, m, x + q * m, y + q * m));
        surface.set_stroke(None);
        surface.set_fill(Some(black_fill()));
        surface.draw_path(&path);
        surface.pop();
    }
}

/// The panel in its frame at the right edge of the page, `h` high.
fn draw_qr_panel(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    panel: &QrPanel,
    matrix: &Matrix,
    y: f32,
    h: f32,
) {
    let w = panel.width();
    let x = MARGIN + CONTENT_W - w;
    frame(surface, x, y, w, h);
    draw_qr(surface, matrix, x + PAD, y + PAD);
    let mut ty = y + PAD + panel.side;
    for line in &panel.under {
        text(
            surface,
            &fonts.regular,
            SMALL,
            x + PAD,
            ty + SMALL * ASCENT,
            line,
        );
        ty += SMALL * LINE;
    }
    let placed = place(fonts, &panel.beside, w, true);
    draw_placed(surface, fonts, &placed, x, ty);
}

/// The title band; returns its height.
fn title(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    content: &Content<'_>,
    annex: Option<usize>,
    page: usize,
    pages: usize,
) -> f32 {
    let l = content.l;
    let y = MARGIN;
    for (i, line) in wrap(&fonts.bold, 7.0, l.convention, CONTENT_W)
        .iter()
        .enumerate()
    {
        let w = fonts.bold.width(line, 7.0);
        text(
            surface,
            &fonts.bold,
            7.0,
            MARGIN + (CONTENT_W - w) / 2.0,
            y + 7.0 + i as f32 * 8.4,
            line,
        );
    }
    let base = y + 28.0;
    text(surface, &fonts.bold, 16.0, MARGIN, base, "CITES");
    let heading = match annex {
        None => content.doc_type.to_owned(),
        Some(n) => format!(
            "{} {n} {} {}",
            l.annex, l.annex_to, content.doc.permit.number
        ),
    };
    text(surface, &fonts.bold, 10.0, MARGIN + 56.0, base, &heading);
    let right = format!("{}  ·  {} {page} {} {pages}", l.original, l.page, l.of);
    let w = fonts.regular.width(&right, 7.5);
    text(
        surface,
        &fonts.regular,
        7.5,
        MARGIN + CONTENT_W - w,
        base,
        &right,
    );
    36.0
}

/// REVOKED across the page in outline letters (the text under them stays legible), and once
/// more level in the top margin, where text extraction and screen readers find it.
fn revoked_stamp(surface: &mut Surface<'_>, fonts: &Fonts, word: &str) {
    let red = rgb::Color::new(200, 0, 0);
    surface.set_fill(Some(Fill {
        paint: red.into(),
        ..Fill::default()
    }));
    let banner = 9.0;
    let w = fonts.bold.width(word, banner);
    text(
        surface,
        &fonts.bold,
        banner,
        (PAGE_W - w) / 2.0,
        MARGIN * 0.7,
        word,
    );
    let size = 96.0;
    let w = fonts.bold.width(word, size);
    surface.push_transform(&Transform::from_rotate_at(
        -50.0,
        PAGE_W / 2.0,
        PAGE_H / 2.0,
    ));
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: red.into(),
        width: 2.5,
        ..Stroke::default()
    }));
    text(
        surface,
        &fonts.bold,
        size,
        (PAGE_W - w) / 2.0,
        PAGE_H / 2.0 + size * 0.35,
        word,
    );
    surface.pop();
    surface.set_stroke(None);
    surface.set_fill(Some(black_fill()));
}

/// Lays the document out and draws every page.
pub(super) fn draw(
    pdf: &mut Document,
    fonts: &Fonts,
    content: &Content<'_>,
    matrix: &Matrix,
) -> Result<(), DocumentError> {
    let l = content.l;
    let half = CONTENT_W / 2.0;
    let panel = qr_panel(content, fonts, matrix);
    let footer = footer_cells(content);
    let footer_h = footer_height(fonts, &footer);
    let heading = block_heading(l);
    let heading_cells: Vec<(&Cell, f32, bool)> = heading
        .iter()
        .zip(COLUMNS)
        .map(|(c, w)| (c, w, false))
        .collect();
    let heading_h = row_height(fonts, &heading_cells);
    // Page 1: boxes 1 and 2 across the page, then boxes 3 to 6 stacked on the left beside the
    // QR panel, so the code takes no height of its own and the form's four blocks fit under
    // it. The last of the stacked boxes stretches to the panel's height.
    let [[box1, box2], [box3, box4], [box5, box6]] = &content.header;
    let top_row = [(box1, half, true), (box2, half, false)];
    let top_h = row_height(fonts, &top_row);
    let left_w = CONTENT_W - panel.width();
    let stacked: Vec<(&Cell, Placed)> = [box3, box4, box5, box6]
        .into_iter()
        .map(|c| (c, place(fonts, c, left_w, false)))
        .collect();
    let stacked_h: f32 = stacked.iter().map(|(_, p)| p.height).sum();
    let band_h = stacked_h.max(panel.height(fonts));
    let header_h = top_h + band_h;
    let title_h = 36.0;
    let note_h = VALUE_SIZE * LINE + 4.0;

    // Pagination: page 1 takes up to the form's four blocks, as many as fit above the
    // footer; annex pages take the rest, at least one block each.
    let heights: Vec<f32> = content
        .blocks
        .iter()
        .map(|b| block_height(fonts, b))
        .collect();
    let mut pages: Vec<std::ops::Range<usize>> = Vec::new();
    let first_room = BOTTOM - footer_h - MARGIN - title_h - header_h - heading_h - note_h;
    let annex_room = BOTTOM - footer_h - MARGIN - title_h - heading_h;
    let mut next = 0;
    let mut used = 0.0;
    while next < heights.len() && next < FORM_BLOCKS && used + heights[next] <= first_room {
        used += heights[next];
        next += 1;
    }
    pages.push(0..next);
    while next < heights.len() {
        let start = next;
        let mut used = heights[next];
        next += 1;
        while next < heights.len() && used + heights[next] <= annex_room {
            used += heights[next];
            next += 1;
        }
        pages.push(start..next);
    }
    let total = pages.len();

    for (page_no, range) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| DocumentError::Pdf("bad page size".to_owned()))?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(black_fill()));
        let annex = (page_no > 0).then_some(page_no);
        let mut y = MARGIN + title(&mut surface, fonts, content, annex, page_no + 1, total);
        if page_no == 0 {
            y += row(&mut surface, fonts, &top_row, y);
            draw_qr_panel(&mut surface, fonts, &panel, matrix, y, band_h);
            let mut sy = y;
            for (i, (_, placed)) in stacked.iter().enumerate() {
                let h = if i + 1 == stacked.len() {
                    y + band_h - sy
                } else {
                    placed.height
                };
                frame(&mut surface, MARGIN, sy, left_w, h);
                draw_placed(&mut surface, fonts, placed, MARGIN, sy);
                sy += h;
            }
            y += band_h;
        }
        if !range.is_empty() {
            y += row(&mut surface, fonts, &heading_cells, y);
            for block in &content.blocks[range.clone()] {
                y += draw_block(&mut surface, fonts, block, y);
            }
        }
        if page_no == 0 && total > 1 {
            text(
                &mut surface,
                &fonts.regular,
                VALUE_SIZE,
                MARGIN,
                y + VALUE_SIZE + 2.0,
                &format!("{} ({} 2–{total})", l.continued, l.page),
            );
        }
        draw_footer(&mut surface, fonts, &footer);
        if content.doc.revoked {
            revoked_stamp(&mut surface, fonts, l.revoked);
        }
        surface.finish();
        page.finish();
    }
    Ok(())
}
