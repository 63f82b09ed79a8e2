//! Length-prefixed, CRC-checked records in an append-only file.
//!
//! A frame is `len: u32 LE ‖ crc32(payload): u32 LE ‖ payload`. A reader stops at the first
//! frame that is incomplete or fails its CRC. When that frame ends the file, it is the torn
//! tail of a write that never returned (so never acknowledged) and is cut off; when valid-length
//! data follows it, the file was damaged after the fact, and the unreadable rest is kept aside
//! in a `.damaged-<offset>` file for support before the cut, so nothing is silently destroyed.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes before the payload.
pub const HEADER: usize = 8;
/// Largest payload accepted; anything longer is damage, not data.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// Encodes one frame.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    // Callers keep payloads under MAX_PAYLOAD, far below u32::MAX.
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// How a scan of a frame file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Every byte belongs to a good frame.
    Clean,
    /// An incomplete last frame (a write cut short) starts at this offset.
    Torn(u64),
    /// A bad frame with more data after it starts at this offset.
    Damaged(u64),
}

/// Splits `bytes` into good frame payloads and says how the data ended.
pub fn decode_all(bytes: &[u8]) -> (Vec<&[u8]>, Tail) {
    let mut out = Vec::new();
    let mut rest = bytes;
    let offset = |rest: &[u8]| (bytes.len() - rest.len()) as u64;
    loop {
        if rest.is_empty() {
            return (out, Tail::Clean);
        }
        let Some((header, body)) = rest.split_first_chunk::<HEADER>() else {
            return (out, Tail::Torn(offset(rest)));
        };
        let [l0, l1, l2, l3, c0, c1, c2, c3] = *header;
        let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
        if len > MAX_PAYLOAD {
            return (out, Tail::Damaged(offset(rest)));
        }
        let Some((payload, after)) = body.split_at_checked(len) else {
            return (out, Tail::Torn(offset(rest)));
        };
        if crc32(payload) != crc {
            let tail = if after.is_empty() {
                Tail::Torn(offset(rest))
            } else {
                Tail::Damaged(offset(rest))
            };
            return (out, tail);
        }
        out.push(payload);
        rest = after;
    }
}

/// CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, the zlib and PNG checksum), one table
/// lookup per byte. Outbox frames are a few hundred bytes, written and read once each, so speed
/// does not matter here; a 1 KiB table in the phone library instead of the 24 KiB of tables and
/// the CPU-feature dispatch that a slice-by-16 or carry-less-multiply implementation carries.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        CRC32_TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}

/// `CRC32_TABLE[i]` is the CRC register after shifting the byte `i` through it.
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// An append-only frame file whose length in memory is the length of its good frames.
#[derive(Debug)]
pub struct FrameFile {
    path: PathBuf,
    file: File,
    len: u64,
}

impl FrameFile {
    /// Opens (creating if missing) and reads every good payload, cutting a torn or damaged
    /// tail off so that the next append follows the last good frame.
    pub fn open(path: &Path) -> io::Result<(FrameFile, Vec<Vec<u8>>)> {
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if !existed && let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (payloads, tail) = decode_all(&bytes);
        let payloads: Vec<Vec<u8>> = payloads.into_iter().map(<[u8]>::to_vec).collect();
        let good = match tail {
            Tail::Clean => bytes.len() as u64,
            Tail::Torn(at) => at,
            Tail::Damaged(at) => {
                let aside = path.with_extension(format!("damaged-{at}"));
                let from = usize::try_from(at).unwrap_or(bytes.len()).min(bytes.len());
                write_new(&aside, bytes.get(from..).unwrap_or_default())?;
                at
            }
        };
        if good != bytes.len() as u64 {
            file.set_len(good)?;
            file.sync_all()?;
        }
        Ok((
            FrameFile {
                path: path.to_path_buf(),
                file,
                len: good,
            },
            payloads,
        ))
    }

    /// Appends frames and makes them durable before returning. On failure the file is cut
    /// back to its previous length, so a half-written frame never precedes later ones.
    pub fn append(&mut self, payloads: &[&[u8]]) -> io::Result<()> {
        let mut buf = Vec::new();
        for p in payloads {
            buf.extend_from_slice(&encode(p));
        }
        let result = self
            .file
            .seek(SeekFrom::Start(self.len))
            .and_then(|_| self.file.write_all(&buf))
            .and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Best effort: if this fails too, the next open cuts the bad tail off.
                let _ = self.file.set_len(self.len);
                Err(e)
            }
        }
    }

    /// Empties the file durably.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.len = 0;
        Ok(())
    }

    /// Replaces the contents with these payloads atomically: a new file is written, made
    /// durable and renamed over the old one, then the directory is made durable.
    pub fn replace(&mut self, payloads: &[&[u8]]) -> io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        let mut buf = Vec::new();
        for p in payloads {
            buf.extend_from_slice(&encode(p));
        }
        write_new(&tmp, &buf)?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir)?;
        }
        self.file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        self.len = buf.len() as u64;
        Ok(())
    }
}

/// Writes a whole new file durably (file and directory entry).
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Makes a directory's entries durable (a created or renamed file survives power loss).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    // Other systems cannot open a directory as a file; their file systems journal metadata.
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_standard_one() {
        // The check value of CRC-32/ISO-HDLC, and the empty input.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // Frames written by earlier SDK versions (crc32fast) must keep reading: the same
        // function over every length up to a few KiB and every byte value.
        let data: Vec<u8> = (0..4099u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(
                crc32(&data[..len]),
                crc32fast::hash(&data[..len]),
                "length {len}"
            );
        }
    }

    #[test]
    fn a_frame_written_before_reads() {
        // `encode(b"scan")` as the crc32fast-based encoder wrote it.
        let old = [4, 0, 0, 0, 0xae, 0xb3, 0xb3, 0xc4, b's', b'c', b'a', b'n'];
        assert_eq!(encode(b"scan"), old);
        assert_eq!(decode_all(&old), (vec![&b"scan"[..]], Tail::Clean));
    }

    #[test]
    fn round_trip_and_tails() {
        let mut bytes = encode(b"one");
        bytes.extend(encode(b""));
        bytes.extend(encode(b"three"));
        let (p, t) = decode_all(&bytes);
        assert_eq!(p, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(t, Tail::Clean);
        let two = (HEADER + 3 + HEADER) as u64;
        // Every cut inside the last frame is a torn tail at its start.
        for cut in two as usize + 1..bytes.len() {
            let (p, t) = decode_all(&bytes[..cut]);
            assert_eq!(p.len(), 2, "cut {cut}");
            assert_eq!(t, Tail::Torn(two), "cut {cut}");
        }
        // A flipped payload byte in the last frame is torn; in the first, damage.
        let mut last = bytes.clone();
        *last.last_mut().unwrap() ^= 1;
        assert_eq!(decode_all(&last).1, Tail::Torn(two));
        let mut first = bytes.clone();
        first[HEADER] ^= 1;
        assert_eq!(decode_all(&first), (vec![], Tail::Damaged(0)));
        // An absurd length is damage, never an allocation.
        let mut huge = vec![0xff; 4];
        huge.extend([0; 8]);
        assert_eq!(decode_all(&huge).1, Tail::Damaged(0));
    }

    #[test]
    fn open_cuts_torn_tail_and_keeps_damage_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        let (mut f, p) = FrameFile::open(&path).unwrap();
        assert!(p.is_empty());
        f.append(&[b"a", b"bb"]).unwrap();
        drop(f);
        // A torn append.
        let mut raw = std::fs::read(&path).unwrap();
        let good = raw.len();
        raw.extend(&encode(b"ccc")[..5]);
        std::fs::write(&path, &raw).unwrap();
        let (mut f, p) = FrameFile::open(&path).unwrap();
        assert_eq!(p, vec![b"a".to_vec(), b"bb".to_vec()]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good as u64);
        f.append(&[b"d"]).unwrap();
        drop(f);
        let (_, p) = FrameFile::open(&path).unwrap();
        assert_eq!(p.len(), 3);
        // Damage in the middle: the rest is kept aside.
        let mut raw = std::fs::read(&path).unwrap();
        raw[HEADER + 1 + HEADER] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        let (mut f, p) = FrameFile::open(&path).unwrap();
        assert_eq!(p, vec![b"a".to_vec()]);
        let aside = path.with_extension(format!("damaged-{}", HEADER + 1));
        assert_eq!(std::fs::read(&aside).unwrap(), raw[HEADER + 1..]);
        f.replace(&[b"x", b"y"]).unwrap();
        f.append(&[b"z"]).unwrap();
        drop(f);
        let (mut f, p) = FrameFile::open(&path).unwrap();
        assert_eq!(p, vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]);
        f.clear().unwrap();
        drop(f);
        assert!(FrameFile::open(&path).unwrap().1.is_empty());
    }
}
