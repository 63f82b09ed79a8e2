//! The signed compact payload: `PS1:` + Base45(kid ‖ body ‖ signature).
//!
//! docs/FORMAT.md specifies every byte. The signer serializes; callers never build bodies.

use crate::codes::{Appendix, Country, DocumentType, Kingdom, Purpose, Source, Term, Unit};
use crate::date::Date;
use crate::keys::{KEY_ID_LEN, KeyId, Namespace, SecretKey};
use crate::permit::{
    DETAILS_DIGEST_LEN, DocRef, LineItem, MAX_LINES, MAX_MANTISSA, MAX_SCALE, Party, Permit,
    PermitData, Quantity,
};
use crate::wire::{
    Base45Error, Problem, Reader, WireError, Writer, base45_decode, base45_encode, err, pack_code3,
    unpack_code3,
};

/// The text every version-1 payload starts with.
pub const PREFIX: &str = "PS1:";
/// Longest text accepted: the capacity of the largest QR code in alphanumeric mode.
pub const MAX_TEXT_LEN: usize = 4296;
/// Length of the signature at the end of the payload.
pub const SIGNATURE_LEN: usize = 64;

const FLAG_IMPORTER: u8 = 1;
const FLAG_STAMP: u8 = 2;
const FLAG_DIGEST: u8 = 4;

const LINE_ORIGIN: u8 = 1;
const LINE_LAST_REEXPORT: u8 = 2;
const LINE_OPERATION: u8 = 4;
const LINE_ACQUISITION: u8 = 8;
const LINE_UNIT: u8 = 16;

/// A payload taken apart but not yet verified: which key claims it, what it says, and the
/// bytes the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Key id the payload names.
    pub key_id: KeyId,
    /// The decoded permit data (not yet trusted).
    pub data: PermitData,
    /// `kid ‖ body`: the bytes after the namespace in the signed message.
    pub signed: Vec<u8>,
    /// The Ed25519 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

/// Why a text is not a well-formed permit payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text does not start with a permitseal prefix: some other QR code.
    #[error("not a permitseal permit code")]
    NotAPermit,
    /// A permitseal prefix of a version this verifier does not know.
    #[error("permit format version {0} is not supported by this verifier")]
    UnsupportedVersion(String),
    /// The text after the prefix is not strict Base45.
    #[error("damaged code: {0}")]
    Base45(#[from] Base45Error),
    /// Too short to hold a key id and a signature.
    #[error("damaged code: too short")]
    TooShort,
    /// A field is malformed, truncated, or followed by trailing bytes.
    #[error("damaged code: {0}")]
    Malformed(#[from] WireError),
}

/// Signs a checked permit with an authority key and returns the QR text.
pub fn sign(permit: &Permit, key: &SecretKey) -> String {
    let mut w = Writer::default();
    w.bytes(&key.id().0);
    encode_body(&mut w, permit.data());
    let sig = key.sign(Namespace::Permit, &[&w.buf]);
    w.bytes(&sig);
    format!("{PREFIX}{}", base45_encode(&w.buf))
}

/// The length of the text [`sign`] gives for `permit`, whatever the key: the key id and the
/// signature are of fixed size. Issuance measures a draft against the printed code's capacity
/// with it, without deriving a key and signing.
pub fn signed_text_len(permit: &Permit) -> usize {
    let mut w = Writer::default();
    encode_body(&mut w, permit.data());
    let bytes = KEY_ID_LEN + w.buf.len() + SIGNATURE_LEN;
    // Base45: three characters per two bytes, two for a last odd byte.
    PREFIX.len() + bytes / 2 * 3 + bytes % 2 * 2
}

/// The characters scanners, forms and files add around a code: space, tab, line feed,
/// carriage return. Removing them never changes a code: the text starts with its prefix, and
/// the last Base45 character of any byte string is at most `W` (value 32), never the space.
const SCAN_NOISE: &[char] = &[' ', '\t', '\n', '\r'];

/// The text a reader checks: `text` without leading or trailing spaces, tabs, line feeds and
/// carriage returns (FORMAT.md §3.1); other white space (U+00A0, …) stays and fails. Every
/// entry point (CLI, HTTP, phone) goes through [`decode`], which applies this, so they agree
/// on what was scanned.
pub fn scanned_text(text: &str) -> &str {
    text.trim_matches(SCAN_NOISE)
}

/// Takes a QR text apart. Checks the encoding only; [`crate::verify`] checks the rest.
///
/// Order of checks (FORMAT.md §3.1): surrounding tabs and line ends removed, then the prefix
/// (`NOT_A_PERMIT`, `UNSUPPORTED_VERSION`), then the length (`MALFORMED` above
/// [`MAX_TEXT_LEN`] bytes), then Base45.
pub fn decode(text: &str) -> Result<Envelope, DecodeError> {
    let text = scanned_text(text);
    let rest = match text.strip_prefix(PREFIX) {
        Some(rest) => rest,
        None => return Err(classify_prefix(text)),
    };
    if text.len() > MAX_TEXT_LEN {
        return Err(DecodeError::Malformed(err(
            "text",
            Problem::TrailingBytes(text.len() - MAX_TEXT_LEN),
        )));
    }
    let bytes = base45_decode(rest)?;
    if bytes.len() < KEY_ID_LEN + SIGNATURE_LEN {
        return Err(DecodeError::TooShort);
    }
    let (signed, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    let mut r = Reader::new(signed);
    let key_id = KeyId(r.array("key_id")?);
    let data = decode_body(&mut r)?;
    r.finish("body")?;
    let mut signature = [0u8; SIGNATURE_LEN];
    signature.copy_from_slice(sig);
    Ok(Envelope {
        key_id,
        data,
        signed: signed.to_vec(),
        signature,
    })
}

fn classify_prefix(text: &str) -> DecodeError {
    // `PS` + version digits + `:` is ours, of another version.
    let b = text.as_bytes();
    if b.starts_with(b"PS") {
        let digits = b[2..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && b.get(2 + digits) == Some(&b':') {
            return DecodeError::UnsupportedVersion(text[2..2 + digits].to_string());
        }
    }
    DecodeError::NotAPermit
}

fn encode_party(w: &mut Writer, p: &Party, issuing_side: bool) {
    w.text(&p.name);
    if !issuing_side {
        w.bytes(&p.country.bytes());
    }
}

fn encode_ref(w: &mut Writer, r: &DocRef) {
    w.bytes(&r.country.bytes());
    w.text(&r.number);
    w.zigzag(i64::from(r.date.days()));
}

fn encode_body(w: &mut Writer, d: &PermitData) {
    let mut flags = 0;
    if d.importer.is_some() {
        flags |= FLAG_IMPORTER;
    }
    if d.security_stamp.is_some() {
        flags |= FLAG_STAMP;
    }
    if d.details_digest.is_some() {
        flags |= FLAG_DIGEST;
    }
    w.u8((d.document_type.wire() << 4) | flags);
    w.bytes(&d.issuing_country.bytes());
    w.text(&d.number);
    // Permit invariants keep these non-negative: issued_at ≥ 0 and valid_from ≥ issue day.
    let issue_day = Date::from_unix(d.issued_at);
    w.varint((d.issued_at / 60) as u64);
    w.varint((d.valid_from.days() - issue_day.days()) as u64);
    w.varint((d.valid_until.days() - d.valid_from.days()) as u64);
    w.varint(u64::from(d.status_index));
    w.u8(d.purpose.letter());
    if let Some(s) = &d.security_stamp {
        w.text(s);
    }
    // The party on the issuing side is in the issuing country: its country is not repeated.
    let importer_issues = d.document_type.issuer_is_importer();
    encode_party(w, &d.exporter, !importer_issues);
    if let Some(p) = &d.importer {
        encode_party(w, p, importer_issues);
    }
    for l in &d.lines {
        let mut lf = 0;
        if l.origin.is_some() {
            lf |= LINE_ORIGIN;
        }
        if l.last_reexport.is_some() {
            lf |= LINE_LAST_REEXPORT;
        }
        if l.operation_number.is_some() {
            lf |= LINE_OPERATION;
        }
        if l.acquisition_date.is_some() {
            lf |= LINE_ACQUISITION;
        }
        if l.unit != Unit::Number {
            lf |= LINE_UNIT;
        }
        let kingdom = match l.kingdom {
            Kingdom::Animal => 0,
            Kingdom::Plant => 0x20,
        };
        w.u8((l.appendix.wire() << 6) | kingdom | lf);
        w.u8(l.source.letter());
        w.text(&l.scientific_name);
        w.bytes(&pack_code3(l.term.code()).to_be_bytes());
        if l.unit != Unit::Number {
            w.bytes(&pack_code3(l.unit.code()).to_be_bytes());
        }
        w.varint((l.quantity.mantissa() << 3) | u64::from(l.quantity.scale()));
        if let Some(r) = &l.origin {
            encode_ref(w, r);
        }
        if let Some(r) = &l.last_reexport {
            encode_ref(w, r);
        }
        if let Some(s) = &l.operation_number {
            w.text(s);
        }
        if let Some(date) = l.acquisition_date {
            w.zigzag(i64::from(date.days()));
        }
    }
    if let Some(digest) = &d.details_digest {
        w.bytes(digest);
    }
}

fn country(r: &mut Reader<'_>, field: &str) -> Result<Country, WireError> {
    Country::from_bytes(r.array(field)?).ok_or_else(|| err(field, Problem::BadValue))
}

fn party(r: &mut Reader<'_>, field: &str, issuing: Option<Country>) -> Result<Party, WireError> {
    let name = r.text(&format!("{field}.name"))?;
    let country = match issuing {
        Some(c) => c,
        None => country(r, &format!("{field}.country"))?,
    };
    Ok(Party { name, country })
}

fn day(r: &mut Reader<'_>, field: &str) -> Result<Date, WireError> {
    let days = r.zigzag(field)?;
    let days = i32::try_from(days).map_err(|_| err(field, Problem::BadValue))?;
    // Years 1..=9999 only, like every date the model accepts.
    let d = Date::from_days(days);
    let (y, _, _) = d.ymd();
    if !(1..=9999).contains(&y) {
        return Err(err(field, Problem::BadValue));
    }
    Ok(d)
}

fn doc_ref(r: &mut Reader<'_>, field: &str) -> Result<DocRef, WireError> {
    Ok(DocRef {
        country: country(r, &format!("{field}.country"))?,
        number: r.text(&format!("{field}.number"))?,
        date: day(r, &format!("{field}.date"))?,
    })
}

fn code3<T: std::str::FromStr>(r: &mut Reader<'_>, field: &str) -> Result<T, WireError> {
    let v = r.u16(field)?;
    unpack_code3(v)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(field, Problem::BadValue))
}

fn decode_body(r: &mut Reader<'_>) -> Result<PermitData, WireError> {
    let head = r.u8("document_type")?;
    let document_type = DocumentType::from_wire(head >> 4)
        .ok_or_else(|| err("document_type", Problem::BadValue))?;
    let flags = head & 0x0f;
    if flags & !(FLAG_IMPORTER | FLAG_STAMP | FLAG_DIGEST) != 0 {
        return Err(err("flags", Problem::Reserved));
    }
    let issuing_country = country(r, "issuing_country")?;
    let number = r.text("number")?;
    // Minutes up to the end of year 9999.
    let minutes = r.varint_max("issued_at", 253_402_300_800 / 60 - 1)?;
    let issued_at = minutes as i64 * 60;
    let issue_day = Date::from_unix(issued_at);
    let offset = r.varint_max("valid_from", 40 * 366)?;
    let valid_from = issue_day.add_days(offset as i32);
    let length = r.varint_max("valid_until", 40 * 366)?;
    let valid_until = valid_from.add_days(length as i32);
    let status_index = r.varint_max("status_index", u64::from(u32::MAX))? as u32;
    let purpose =
        Purpose::from_letter(r.u8("purpose")?).ok_or_else(|| err("purpose", Problem::BadValue))?;
    let security_stamp = if flags & FLAG_STAMP != 0 {
        Some(r.text("security_stamp")?)
    } else {
        None
    };
    let importer_issues = document_type.issuer_is_importer();
    let exporter = party(r, "exporter", (!importer_issues).then_some(issuing_country))?;
    let importer = if flags & FLAG_IMPORTER != 0 {
        Some(party(
            r,
            "importer",
            importer_issues.then_some(issuing_country),
        )?)
    } else {
        None
    };
    // Lines run to the end of the body, less the digest when there is one.
    let tail = if flags & FLAG_DIGEST != 0 {
        DETAILS_DIGEST_LEN
    } else {
        0
    };
    let mut lines = Vec::new();
    while r.remaining() > tail || lines.is_empty() {
        let i = lines.len();
        if i == MAX_LINES {
            return Err(err("lines", Problem::BadValue));
        }
        let f = |name: &str| format!("lines[{i}].{name}");
        let head = r.u8(&f("header"))?;
        let appendix =
            Appendix::from_wire(head >> 6).ok_or_else(|| err(f("appendix"), Problem::BadValue))?;
        let kingdom = if head & 0x20 != 0 {
            Kingdom::Plant
        } else {
            Kingdom::Animal
        };
        let source = Source::from_letter(r.u8(&f("source"))?)
            .ok_or_else(|| err(f("source"), Problem::BadValue))?;
        let scientific_name = r.text(&f("scientific_name"))?;
        let term: Term = code3(r, &f("term"))?;
        let unit = if head & LINE_UNIT != 0 {
            code3::<Unit>(r, &f("unit"))?
        } else {
            Unit::Number
        };
        if head & LINE_UNIT != 0 && unit == Unit::Number {
            return Err(err(f("unit"), Problem::BadValue));
        }
        let q = r.varint(&f("quantity"))?;
        let (mantissa, scale) = (q >> 3, (q & 7) as u8);
        let quantity = Quantity::new(mantissa, scale)
            .filter(|x| x.mantissa() == mantissa && mantissa <= MAX_MANTISSA && scale <= MAX_SCALE)
            .ok_or_else(|| err(f("quantity"), Problem::BadValue))?;
        let origin = (head & LINE_ORIGIN != 0)
            .then(|| doc_ref(r, &f("origin")))
            .transpose()?;
        let last_reexport = (head & LINE_LAST_REEXPORT != 0)
            .then(|| doc_ref(r, &f("last_reexport")))
            .transpose()?;
        let operation_number = (head & LINE_OPERATION != 0)
            .then(|| r.text(&f("operation_number")))
            .transpose()?;
        let acquisition_date = (head & LINE_ACQUISITION != 0)
            .then(|| day(r, &f("acquisition_date")))
            .transpose()?;
        lines.push(LineItem {
            block: char::from(b'A' + i as u8),
            scientific_name,
            kingdom,
            term,
            appendix,
            source,
            quantity,
            unit,
            origin,
            last_reexport,
            operation_number,
            acquisition_date,
        });
    }
    let details_digest = if flags & FLAG_DIGEST != 0 {
        Some(r.array::<DETAILS_DIGEST_LEN>("details_digest")?)
    } else {
        None
    };
    Ok(PermitData {
        document_type,
        number,
        issuing_country,
        issued_at,
        valid_from,
        valid_until,
        purpose,
        security_stamp,
        status_index,
        exporter,
        importer,
        lines,
        details_digest,
    })
}

/// Decodes a payload and checks the permit rules of its data, without any signature check.
/// For tools that display a code; the verdict always comes from [`crate::verify`].
pub fn decode_permit(text: &str) -> Result<(Envelope, Permit), DecodeError> {
    let env = decode(text)?;
    let permit = Permit::from_decoded(env.data.clone())
        .map_err(|e| DecodeError::Malformed(err(e.field, Problem::BadValue)))?;
    Ok((env, permit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permit::tests::{croc_draft, ctx};
    use proptest::prelude::*;

    fn signed() -> (String, SecretKey) {
        let key = SecretKey::from_seed(&[3u8; 32]);
        let p = Permit::new(&croc_draft(), ctx()).unwrap();
        (sign(&p, &key), key)
    }

    #[test]
    fn signed_text_len_is_the_length_of_the_signed_text() {
        let key = SecretKey::from_seed(&[5u8; 32]);
        // Names of every length from 1 to 12 bytes: bodies of odd and even length.
        for n in 1..=12 {
            let mut draft = croc_draft();
            draft.exporter.name = "x".repeat(n);
            let p = Permit::new(&draft, ctx()).unwrap();
            assert_eq!(
                signed_text_len(&p),
                sign(&p, &key).len(),
                "name of {n} bytes"
            );
        }
    }

    #[test]
    fn round_trip() {
        let (text, key) = signed();
        assert!(text.starts_with("PS1:"));
        let (env, permit) = decode_permit(&text).unwrap();
        assert_eq!(env.key_id, key.id());
        let original = Permit::new(&croc_draft(), ctx()).unwrap();
        assert_eq!(permit.data(), original.data());
        assert!(
            key.public()
                .verify(Namespace::Permit, &[&env.signed], &env.signature)
        );
    }

    #[test]
    fn line_ends_and_tabs_around_the_text_are_not_part_of_it() {
        let (text, _) = signed();
        let want = decode(&text).unwrap();
        assert_eq!(decode(&format!(" \t{text} \r\n")).unwrap(), want);
        assert_eq!(
            decode(&format!("\u{a0}{text}")),
            Err(DecodeError::NotAPermit)
        );
        // No Base45 text ends in a space: the last character of a triple is at most 65535 / 45²,
        // of a pair at most 255 / 45.
        let last_max = base45_encode(&[0xff, 0xff, 0xff]);
        assert_eq!(last_max, "FGWU5");
        assert_eq!(&base45_encode(&[0xff, 0xff])[2..], "W");
    }

    #[test]
    fn length_is_checked_after_the_prefix_and_before_base45() {
        let long = "a".repeat(MAX_TEXT_LEN);
        assert_eq!(decode(&format!("HC1:{long}")), Err(DecodeError::NotAPermit));
        assert!(matches!(
            decode(&format!("PS1:{long}")),
            Err(DecodeError::Malformed(_))
        ));
        let exact = format!("PS1:{}", "a".repeat(MAX_TEXT_LEN - 4));
        assert!(matches!(decode(&exact), Err(DecodeError::Base45(_))));
    }

    #[test]
    fn prefixes() {
        assert_eq!(decode("HC1:ABC"), Err(DecodeError::NotAPermit));
        assert_eq!(decode("https://example.org"), Err(DecodeError::NotAPermit));
        assert_eq!(
            decode("PS2:ABC"),
            Err(DecodeError::UnsupportedVersion("2".into()))
        );
        assert_eq!(decode("ps1:ABC"), Err(DecodeError::NotAPermit));
        assert_eq!(decode(""), Err(DecodeError::NotAPermit));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let (text, key) = signed();
        let env = decode(&text).unwrap();
        // Re-sign a body with one extra byte so only the trailing byte is wrong.
        let mut signed = env.signed.clone();
        signed.push(0);
        let sig = key.sign(Namespace::Permit, &[&signed]);
        signed.extend_from_slice(&sig);
        let text = format!("{PREFIX}{}", base45_encode(&signed));
        // Lines run to the end of the body, so the extra byte is read as a malformed line.
        match decode(&text) {
            Err(DecodeError::Malformed(e)) => assert!(e.field.starts_with("lines[1]"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_text_never_panics(s in "PS1:[0-9A-Z $%*+./:-]{0,400}") {
            let _ = decode_permit(&s);
        }

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_permit(&format!("{PREFIX}{}", base45_encode(&data)));
        }
    }
}
