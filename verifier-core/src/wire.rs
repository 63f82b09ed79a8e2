//! The byte-level building blocks shared by every signed object: canonical varints, the
//! three text modes, packed three-letter codes and Base45. docs/FORMAT.md specifies each.

use std::fmt;

/// Why a byte string is not a well-formed object. `field` names where decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct WireError {
    /// The field being read, e.g. `lines[0].quantity`.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// The kinds of malformation a decoder reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The data ends before the field does.
    #[error("truncated")]
    Truncated,
    /// Bytes remain after the last field.
    #[error("{0} unexpected trailing byte(s)")]
    TrailingBytes(usize),
    /// A varint longer than needed or than 64 bits.
    #[error("non-canonical or overlong varint")]
    BadVarint,
    /// Text whose bytes do not decode in its mode.
    #[error("malformed text")]
    BadText,
    /// Text encoded in a longer mode than the canonical one.
    #[error("text not in its canonical mode")]
    NonCanonicalText,
    /// A value outside the range or code list of its field.
    #[error("invalid value")]
    BadValue,
    /// A reserved bit or format number this version does not define.
    #[error("unsupported or reserved value")]
    Reserved,
}

pub(crate) fn err(field: impl Into<String>, problem: Problem) -> WireError {
    WireError {
        field: field.into(),
        problem,
    }
}

/// Alphabet of text mode 1: digits, upper-case letters, space and `-./`.
pub(crate) const UPPER40: &[u8; 40] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -./";
/// Alphabet of text mode 2: digits, upper- and lower-case letters, space and `.`.
pub(crate) const MIXED64: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .";

/// Longest text (in bytes or characters) any field may carry.
pub(crate) const MAX_TEXT: usize = 1024;

fn index_in(alphabet: &[u8], c: u8) -> Option<u8> {
    alphabet.iter().position(|&a| a == c).map(|i| i as u8)
}

fn upper40_len(n: usize) -> usize {
    2 * (n / 3) + n % 3
}

fn mixed64_len(n: usize) -> usize {
    (6 * n).div_ceil(8)
}

/// The canonical mode for `s`: the one with the fewest bytes, the lowest mode on a tie.
pub(crate) fn text_mode(s: &str) -> u8 {
    let b = s.as_bytes();
    let mut best = (b.len(), 0u8);
    if b.iter().all(|&c| index_in(UPPER40, c).is_some()) && upper40_len(b.len()) < best.0 {
        best = (upper40_len(b.len()), 1);
    }
    if b.iter().all(|&c| index_in(MIXED64, c).is_some()) && mixed64_len(b.len()) < best.0 {
        best = (mixed64_len(b.len()), 2);
    }
    best.1
}

/// True for text the format accepts: non-empty, no leading or trailing white space, no
/// control characters, at most [`MAX_TEXT`] bytes.
pub(crate) fn text_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_TEXT && s.trim() == s && !s.chars().any(char::is_control)
}

/// Appends canonical encodings to a buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    pub(crate) fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// Writes `s` in its canonical mode. Callers pass only text that satisfies [`text_ok`].
    pub(crate) fn text(&mut self, s: &str) {
        let b = s.as_bytes();
        let mode = text_mode(s);
        self.varint(((b.len() as u64) << 2) | u64::from(mode));
        match mode {
            1 => {
                let idx: Vec<u16> = b
                    .iter()
                    .map(|&c| u16::from(index_in(UPPER40, c).unwrap_or(0)))
                    .collect();
                for chunk in idx.chunks(3) {
                    match *chunk {
                        [a, b, c] => self.bytes(&(a * 1600 + b * 40 + c).to_be_bytes()),
                        [a, b] => self.bytes(&(a * 40 + b).to_be_bytes()),
                        [a] => self.u8(a as u8),
                        _ => {}
                    }
                }
            }
            2 => {
                let mut acc: u32 = 0;
                let mut bits = 0;
                for &c in b {
                    acc = (acc << 6) | u32::from(index_in(MIXED64, c).unwrap_or(0));
                    bits += 6;
                    while bits >= 8 {
                        bits -= 8;
                        self.u8((acc >> bits) as u8);
                    }
                    acc &= (1 << bits) - 1;
                }
                if bits > 0 {
                    self.u8((acc << (8 - bits)) as u8);
                }
            }
            _ => self.bytes(b),
        }
    }
}

/// Reads canonical encodings, naming the field in every error.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(err(field, Problem::Truncated));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &str) -> Result<u8, WireError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &str) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn varint(&mut self, field: &str) -> Result<u64, WireError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8(field)?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(err(field, Problem::BadVarint));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                // A last byte of zero after the first means the value had a shorter form.
                if i > 0 && b == 0 {
                    return Err(err(field, Problem::BadVarint));
                }
                return Ok(v);
            }
        }
        Err(err(field, Problem::BadVarint))
    }

    /// A varint that must fit in `max`.
    pub(crate) fn varint_max(&mut self, field: &str, max: u64) -> Result<u64, WireError> {
        let v = self.varint(field)?;
        if v > max {
            return Err(err(field, Problem::BadValue));
        }
        Ok(v)
    }

    pub(crate) fn zigzag(&mut self, field: &str) -> Result<i64, WireError> {
        let v = self.varint(field)?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    pub(crate) fn text(&mut self, field: &str) -> Result<String, WireError> {
        let header = self.varint(field)?;
        let (n, mode) = ((header >> 2) as usize, (header & 3) as u8);
        if n == 0 || n > MAX_TEXT {
            return Err(err(field, Problem::BadText));
        }
        let s = match mode {
            0 => {
                let raw = self.take(n, field)?;
                String::from_utf8(raw.to_vec()).map_err(|_| err(field, Problem::BadText))?
            }
            1 => {
                let raw = self.take(upper40_len(n), field)?;
                let mut out = Vec::with_capacity(n);
                let mut chunks = raw.chunks(2);
                let mut left = n;
                while left > 0 {
                    let chunk = chunks.next().ok_or_else(|| err(field, Problem::BadText))?;
                    let (v, k) = match (left, chunk) {
                        (1, [a]) => (u16::from(*a), 1),
                        (2, [a, b]) => (u16::from_be_bytes([*a, *b]), 2),
                        (_, [a, b]) if left >= 3 => (u16::from_be_bytes([*a, *b]), 3),
                        _ => return Err(err(field, Problem::BadText)),
                    };
                    let limit = [40u16, 1600, 64_000][k - 1];
                    if v >= limit {
                        return Err(err(field, Problem::BadText));
                    }
                    let digits = [v / 1600, (v / 40) % 40, v % 40];
                    for d in &digits[3 - k..] {
                        out.push(UPPER40[*d as usize]);
                    }
                    left -= k;
                }
                String::from_utf8(out).map_err(|_| err(field, Problem::BadText))?
            }
            2 => {
                let raw = self.take(mixed64_len(n), field)?;
                let mut out = Vec::with_capacity(n);
                let mut acc: u32 = 0;
                let mut bits = 0;
                let mut bytes = raw.iter();
                while out.len() < n {
                    if bits < 6 {
                        let b = bytes.next().ok_or_else(|| err(field, Problem::BadText))?;
                        acc = (acc << 8) | u32::from(*b);
                        bits += 8;
                    }
                    bits -= 6;
                    out.push(MIXED64[((acc >> bits) & 0x3f) as usize]);
                    acc &= (1 << bits) - 1;
                }
                if acc & ((1 << bits) - 1) != 0 {
                    return Err(err(field, Problem::BadText));
                }
                String::from_utf8(out).map_err(|_| err(field, Problem::BadText))?
            }
            _ => return Err(err(field, Problem::Reserved)),
        };
        if !text_ok(&s) {
            return Err(err(field, Problem::BadText));
        }
        if text_mode(&s) != mode {
            return Err(err(field, Problem::NonCanonicalText));
        }
        Ok(s)
    }

    pub(crate) fn finish(&self, field: &str) -> Result<(), WireError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(err(field, Problem::TrailingBytes(n))),
        }
    }
}

/// Packs a code of three upper-case ASCII letters into 15 bits (five per letter, A = 1).
pub(crate) fn pack_code3(code: &str) -> u16 {
    code.bytes().fold(0u16, |acc, c| {
        (acc << 5) | u16::from(c.saturating_sub(b'A') + 1)
    })
}

/// Unpacks [`pack_code3`]; `None` unless all three letters are A–Z and the top bit is clear.
pub(crate) fn unpack_code3(v: u16) -> Option<String> {
    if v & 0x8000 != 0 {
        return None;
    }
    let letters = [(v >> 10) & 31, (v >> 5) & 31, v & 31];
    letters
        .iter()
        .map(|&l| {
            (1..=26)
                .contains(&l)
                .then(|| char::from(b'A' + l as u8 - 1))
        })
        .collect()
}

/// The Base45 alphabet of RFC 9285, which is also the QR alphanumeric character set.
pub const BASE45: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Base45-encodes bytes (RFC 9285).
pub fn base45_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(2) * 3);
    for chunk in data.chunks(2) {
        let (v, n) = match *chunk {
            [a, b] => (u32::from(a) * 256 + u32::from(b), 3),
            [a] => (u32::from(a), 2),
            _ => (0, 0),
        };
        let digits = [v % 45, (v / 45) % 45, v / 2025];
        for d in &digits[..n] {
            out.push(char::from(BASE45[*d as usize]));
        }
    }
    out
}

/// Why a string is not strict Base45.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base45Error {
    /// A character outside the 45-character alphabet, at this character offset.
    #[error("character {0} is not Base45")]
    BadCharacter(usize),
    /// A length that leaves one dangling character.
    #[error("length is not a valid Base45 length")]
    BadLength,
    /// A group whose value does not fit the bytes it stands for, at this character offset.
    #[error("group at character {0} is out of range")]
    OutOfRange(usize),
}

/// Decodes strict Base45: every character in the alphabet, every group in range.
pub fn base45_decode(s: &str) -> Result<Vec<u8>, Base45Error> {
    let b = s.as_bytes();
    if b.len() % 3 == 1 {
        return Err(Base45Error::BadLength);
    }
    let mut out = Vec::with_capacity(b.len() / 3 * 2 + 1);
    for (i, chunk) in b.chunks(3).enumerate() {
        let mut digits = [0u32; 3];
        for (j, &c) in chunk.iter().enumerate() {
            digits[j] = BASE45
                .iter()
                .position(|&a| a == c)
                .ok_or(Base45Error::BadCharacter(i * 3 + j))? as u32;
        }
        let v = digits[0] + digits[1] * 45 + digits[2] * 2025;
        if chunk.len() == 3 {
            if v > 0xffff {
                return Err(Base45Error::OutOfRange(i * 3));
            }
            out.extend_from_slice(&(v as u16).to_be_bytes());
        } else {
            if v > 0xff {
                return Err(Base45Error::OutOfRange(i * 3));
            }
            out.push(v as u8);
        }
    }
    Ok(out)
}

/// Lower-case hex, for key ids and digests in JSON and messages.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(b[2 * i])? << 4 | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(s: &str) -> (Vec<u8>, String) {
        let mut w = Writer::default();
        w.text(s);
        let mut r = Reader::new(&w.buf);
        let back = r.text("t").unwrap();
        r.finish("t").unwrap();
        (w.buf, back)
    }

    #[test]
    fn text_modes_pick_the_shortest() {
        assert_eq!(text_mode("KE/2026/004512"), 1);
        assert_eq!(text_mode("Crocodylus niloticus"), 2);
        assert_eq!(text_mode("Nile Crocodile Farming (Pty) Ltd"), 0);
        assert_eq!(text_mode("Société"), 0);
        // Two characters cost two bytes in every mode: raw wins the tie.
        assert_eq!(text_mode("AB"), 0);
        let (bytes, back) = round_trip("KE/2026/004512");
        assert_eq!(back, "KE/2026/004512");
        assert_eq!(bytes.len(), 1 + 10);
        let (bytes, back) = round_trip("Crocodylus niloticus");
        assert_eq!(back, "Crocodylus niloticus");
        assert_eq!(bytes.len(), 1 + 15);
    }

    #[test]
    fn rfc9285_examples() {
        assert_eq!(base45_encode(b"AB"), "BB8");
        assert_eq!(base45_encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(base45_encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(base45_decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(base45_decode("GGW"), Err(Base45Error::OutOfRange(0)));
        assert_eq!(base45_decode("ZZZ"), Err(Base45Error::OutOfRange(0)));
        assert_eq!(base45_decode("BB8a"), Err(Base45Error::BadLength));
        assert_eq!(base45_decode("BB8aa"), Err(Base45Error::BadCharacter(3)));
    }

    #[test]
    fn non_canonical_varints_are_rejected() {
        assert!(Reader::new(&[0x80, 0x00]).varint("v").is_err());
        assert!(Reader::new(&[0xff; 11]).varint("v").is_err());
        assert_eq!(Reader::new(&[0x80, 0x01]).varint("v"), Ok(128));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max).varint("v"), Ok(u64::MAX));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Reader::new(&over).varint("v").is_err());
    }

    #[test]
    fn non_canonical_text_is_rejected() {
        // "KE/2026" written raw (mode 0) although mode 1 is shorter.
        let mut w = Writer::default();
        w.varint(7 << 2); // mode 0
        w.bytes(b"KE/2026");
        assert_eq!(
            Reader::new(&w.buf).text("t").unwrap_err().problem,
            Problem::NonCanonicalText
        );
        // Padding bits in mode 2 must be zero.
        let (mut bytes, _) = round_trip("abcde");
        if let Some(last) = bytes.last_mut() {
            *last |= 1;
        }
        assert!(Reader::new(&bytes).text("t").is_err());
        // Leading white space and control characters are never text.
        let mut w = Writer::default();
        w.varint(3 << 2); // mode 0
        w.bytes(b"a\tb");
        assert!(Reader::new(&w.buf).text("t").is_err());
    }

    #[test]
    fn code3_packing() {
        assert_eq!(unpack_code3(pack_code3("SKI")).as_deref(), Some("SKI"));
        assert_eq!(unpack_code3(pack_code3("AAA")).as_deref(), Some("AAA"));
        assert_eq!(unpack_code3(0), None);
        assert_eq!(unpack_code3(0x8000 | pack_code3("SKI")), None);
    }

    proptest! {
        #[test]
        fn any_text_round_trips(s in "[ -~é]{1,60}") {
            let s = s.trim().to_string();
            prop_assume!(!s.is_empty());
            let (_, back) = round_trip(&s);
            prop_assert_eq!(back, s);
        }

        #[test]
        fn base45_round_trips(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(base45_decode(&base45_encode(&data)).unwrap(), data);
        }

        #[test]
        fn varints_round_trip(v in any::<u64>(), z in any::<i64>()) {
            let mut w = Writer::default();
            w.varint(v);
            w.zigzag(z);
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!(r.varint("v").unwrap(), v);
            prop_assert_eq!(r.zigzag("z").unwrap(), z);
        }
    }
}
