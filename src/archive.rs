//! Archives and compressed streams: recognising them by their magic bytes and unpacking one layer
//! at a time under limits against hostile input.
//!
//! Formats: gzip, bzip2, xz and zstd streams (one decompressed "member" with no name of its own);
//! zip (and everything that is a zip: jar, war, docx, xlsx, apk, whl, nupkg) and tar (members with
//! names). A compressed tar is a stream whose content is a tar, so it takes two layers. The
//! caller ([`crate::content`]) scans each member as a file and decides what to do with members
//! that are themselves archives.
//!
//! Limits ([`Limits`]), each with a default and a flag: how deeply archives may nest, how many
//! bytes one top-level input may decompress to in all ([`Budget`] is shared by every layer
//! inside it), and how much larger than its compressed form a stream or member may grow
//! (checked once it is past [`RATIO_FLOOR`], so that small, highly compressible files pass).
//! Decompression stops at the first byte over a limit: nothing is ever inflated past the caps.
//!
//! Flow position: `source -> archive (unpack) -> content -> engine`.

use std::fmt;
use std::io::{self, Read};

/// Default of `--max-archive-depth`: archives inside archives deeper than this are skipped.
pub const DEFAULT_MAX_DEPTH: u32 = 4;
/// Default of `--max-archive-bytes`: bytes one input may decompress to, all layers together.
pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;
/// Default of `--max-archive-ratio`: largest decompressed / compressed size of one stream or
/// member.
pub const DEFAULT_MAX_RATIO: u64 = 100;
/// The ratio limit applies only once a stream or member has decompressed past this many bytes.
pub const RATIO_FLOOR: u64 = 1024 * 1024;
/// Bytes of an input needed to recognise every format ([`sniff`]): a tar header block.
pub const SNIFF_LEN: usize = 512;

/// The leading magic bytes of the stream formats and zip.
const MAGICS: [&[u8]; 6] = [
    &[0x1f, 0x8b, 0x08],
    b"BZh",
    &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
    &[0x28, 0xb5, 0x2f, 0xfd],
    b"PK\x03\x04",
    b"PK\x05\x06",
];

/// Whether the first bytes of a stream, `head`, are too few to tell an archive from text: a
/// prefix of a magic number, or bytes with a NUL (a tar header) short of a whole header block.
/// Text (no NUL, no magic) is decided at once, so a stream's first line is not held back.
pub fn undecided(head: &[u8]) -> bool {
    if head.len() >= SNIFF_LEN || sniff(head).is_some() {
        return false;
    }
    MAGICS
        .iter()
        .any(|m| head.len() < m.len() && m.starts_with(head))
        || head.len() < 10 && head.starts_with(b"BZh")
        || memchr::memchr(0, head).is_some()
}

/// Limits on what one input may unpack to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Archive layers that may nest (a `.tar.gz` is two); 0 turns unpacking off.
    pub max_depth: u32,
    /// Total decompressed bytes of one top-level input.
    pub max_bytes: u64,
    /// Largest decompressed / compressed size of one stream or member past [`RATIO_FLOOR`].
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_bytes: DEFAULT_MAX_BYTES,
            max_ratio: DEFAULT_MAX_RATIO,
        }
    }
}

/// A recognised container or compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// gzip (RFC 1952), possibly several members back to back.
    Gzip,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// Zstandard.
    Zstd,
    /// zip and its relatives (jar, docx, apk, ...).
    Zip,
    /// POSIX / GNU tar.
    Tar,
}

impl Kind {
    /// The name used in decoding chains and messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Zstd => "zstd",
            Kind::Zip => "zip",
            Kind::Tar => "tar",
        }
    }

    /// A single compressed stream (no member names) rather than a container.
    pub fn is_stream(self) -> bool {
        !matches!(self, Kind::Zip | Kind::Tar)
    }
}

/// The format of `data`, from its first bytes (the extension is never consulted).
pub fn sniff(data: &[u8]) -> Option<Kind> {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if starts(b"BZh")
        && data.len() >= 10
        && (b'1'..=b'9').contains(&data[3])
        && (data[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || data[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
    {
        Some(Kind::Bzip2)
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Kind::Xz)
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Kind::Zstd)
    } else if starts(MAGICS[4]) || starts(MAGICS[5]) {
        Some(Kind::Zip)
    } else if data.len() >= 263
        && &data[257..262] == b"ustar"
        && tar_checksum_ok(&data[..512.min(data.len())])
    {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// The header checksum of a tar block: the sum of its bytes with the checksum field as spaces.
fn tar_checksum_ok(h: &[u8]) -> bool {
    if h.len() < 512 {
        return false;
    }
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Some(want) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| u64::from_str_radix(s, 8).ok())
    else {
        return false;
    };
    let sum: u64 = h[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == want
}

/// A limit that stopped unpacking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitHit {
    /// Archives nested deeper than this.
    Depth(u32),
    /// The input decompressed to more than this many bytes in all.
    Bytes(u64),
    /// A stream or member grew more than this many times its compressed size.
    Ratio(u64),
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitHit::Depth(n) => write!(
                f,
                "archives nested more than {n} deep (--max-archive-depth)"
            ),
            LimitHit::Bytes(n) => write!(
                f,
                "decompresses to more than {n} bytes (--max-archive-bytes)"
            ),
            LimitHit::Ratio(n) => write!(
                f,
                "compression ratio over {n}:1, a likely decompression bomb (--max-archive-ratio)"
            ),
        }
    }
}

/// Why an archive could not be (fully) unpacked.
#[derive(Debug)]
pub enum ArchiveError {
    /// A limit was reached; what was unpacked before it was still scanned.
    Limit(LimitHit),
    /// The data is not a valid archive of its kind (truncated, corrupt, unsupported method).
    Corrupt {
        /// The format it claimed to be.
        kind: Kind,
        /// What the decoder said.
        msg: String,
    },
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Limit(l) => write!(f, "skipped: {l}"),
            ArchiveError::Corrupt { kind, msg } => write!(f, "corrupt {} data: {msg}", kind.name()),
        }
    }
}

impl std::error::Error for ArchiveError {}

/// What one top-level input may still decompress to.
#[derive(Clone, Debug)]
pub struct Budget {
    limits: Limits,
    left: u64,
}

impl Budget {
    /// A fresh budget for one input.
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            left: limits.max_bytes,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes that may still be decompressed.
    pub fn left(&self) -> u64 {
        self.left
    }
}

/// One unpacked member: `name` is `None` for the content of a compressed stream.
#[derive(Debug)]
pub struct Member {
    /// The path inside the archive (`/`-separated), or `None` for a stream's content.
    pub name: Option<String>,
    /// The decompressed bytes.
    pub data: Vec<u8>,
}

/// Unpack one layer of `data` (of format `kind`), calling `visit` with each member in archive
/// order; `visit` returns false to stop. Directories, links and other non-file entries are not
/// members. On a limit, the members visited so far stay visited and the error says which limit.
pub fn unpack(
    kind: Kind,
    data: &[u8],
    budget: &mut Budget,
    visit: &mut dyn FnMut(Member, &mut Budget) -> bool,
) -> Result<(), ArchiveError> {
    let corrupt = |e: &dyn fmt::Display| ArchiveError::Corrupt {
        kind,
        msg: e.to_string(),
    };
    let out = match kind {
        Kind::Gzip | Kind::Bzip2 | Kind::Zstd => {
            let reader: Box<dyn Read + '_> = match kind {
                Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
                Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
                _ => Box::new(
                    ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| corrupt(&e))?,
                ),
            };
            inflate(reader, data.len() as u64, budget).map_err(|e| e.into(kind))?
        }
        Kind::Xz => {
            let mut w = Capped::new(data.len() as u64, budget);
            let r = lzma_rs::xz_decompress(&mut io::BufReader::new(data), &mut w);
            let hit = w.hit;
            let out = w.finish(budget);
            if let Some(hit) = hit {
                return Err(ArchiveError::Limit(hit));
            }
            r.map_err(|e| corrupt(&e))?;
            out
        }
        Kind::Zip => return unzip(data, budget, visit),
        Kind::Tar => return untar(data, budget, visit),
    };
    visit(
        Member {
            name: None,
            data: out,
        },
        budget,
    );
    Ok(())
}

/// An error while inflating: a limit, or the decoder's own.
enum InflateError {
    Limit(LimitHit),
    Io(io::Error),
}

impl InflateError {
    fn into(self, kind: Kind) -> ArchiveError {
        match self {
            InflateError::Limit(l) => ArchiveError::Limit(l),
            InflateError::Io(e) => ArchiveError::Corrupt {
                kind,
                msg: e.to_string(),
            },
        }
    }
}

/// Read `reader` to its end into memory, charging `budget`; `compressed` is the size it came
/// from, for the ratio limit.
fn inflate(
    mut reader: impl Read,
    compressed: u64,
    budget: &mut Budget,
) -> Result<Vec<u8>, InflateError> {
    let mut w = Capped::new(compressed, budget);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                w.finish(budget);
                return Err(InflateError::Io(e));
            }
        };
        if io::Write::write_all(&mut w, &buf[..n]).is_err() {
            let hit = w.hit.expect("Capped only fails on a limit");
            w.finish(budget);
            return Err(InflateError::Limit(hit));
        }
    }
    Ok(w.finish(budget))
}

/// A writer into memory that refuses the first byte over the budget or the ratio.
struct Capped {
    out: Vec<u8>,
    cap_bytes: u64,
    max_bytes: u64,
    ratio_cap: u64,
    max_ratio: u64,
    hit: Option<LimitHit>,
}

impl Capped {
    fn new(compressed: u64, budget: &Budget) -> Capped {
        let ratio_cap = compressed
            .max(1)
            .saturating_mul(budget.limits.max_ratio)
            .max(RATIO_FLOOR);
        Capped {
            out: Vec::new(),
            cap_bytes: budget.left,
            max_bytes: budget.limits.max_bytes,
            ratio_cap,
            max_ratio: budget.limits.max_ratio,
            hit: None,
        }
    }

    /// The bytes written, charged to `budget`.
    fn finish(self, budget: &mut Budget) -> Vec<u8> {
        budget.left = budget.left.saturating_sub(self.out.len() as u64);
        self.out
    }
}

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let after = self.out.len() as u64 + buf.len() as u64;
        if after > self.cap_bytes {
            self.hit = Some(LimitHit::Bytes(self.max_bytes));
        } else if after > self.ratio_cap {
            self.hit = Some(LimitHit::Ratio(self.max_ratio));
        }
        if self.hit.is_some() {
            return Err(io::Error::other("archive limit"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Read one named member of `compressed` bytes and visit it; false if the visitor said stop.
fn member(
    kind: Kind,
    name: String,
    reader: impl Read,
    compressed: u64,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Member, &mut Budget) -> bool,
) -> Result<bool, ArchiveError> {
    let data = inflate(reader, compressed, budget).map_err(|e| match e {
        InflateError::Limit(l) => ArchiveError::Limit(l),
        InflateError::Io(e) => ArchiveError::Corrupt {
            kind,
            msg: format!("{name}: {e}"),
        },
    })?;
    Ok(visit(
        Member {
            name: Some(name),
            data,
        },
        budget,
    ))
}

fn unzip(
    data: &[u8],
    budget: &mut Budget,
    visit: &mut dyn FnMut(Member, &mut Budget) -> bool,
) -> Result<(), ArchiveError> {
    let corrupt = |e: &dyn fmt::Display| ArchiveError::Corrupt {
        kind: Kind::Zip,
        msg: e.to_string(),
    };
    let mut zip = zip::ZipArchive::new(io::Cursor::new(data)).map_err(|e| corrupt(&e))?;
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(|e| corrupt(&e))?;
        if !file.is_file() {
            continue;
        }
        let name = file.name().to_string();
        let compressed = file.compressed_size();
        if !member(Kind::Zip, name, &mut file, compressed, budget, visit)? {
            break;
        }
    }
    Ok(())
}

fn untar(
    data: &[u8],
    budget: &mut Budget,
    visit: &mut dyn FnMut(Member, &mut Budget) -> bool,
) -> Result<(), ArchiveError> {
    let corrupt = |e: &dyn fmt::Display| ArchiveError::Corrupt {
        kind: Kind::Tar,
        msg: e.to_string(),
    };
    let mut tar = tar::Archive::new(data);
    for entry in tar.entries().map_err(|e| corrupt(&e))? {
        let mut entry = entry.map_err(|e| corrupt(&e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        // A tar member is stored, not compressed: its size counts against the budget, and the
        // ratio cannot be exceeded (its compressed size is its size).
        let size = entry.size();
        if !member(Kind::Tar, name, &mut entry, size, budget, visit)? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn members(kind: Kind, data: &[u8], limits: Limits) -> (Vec<Member>, Result<(), ArchiveError>) {
        let mut got = Vec::new();
        let mut budget = Budget::new(limits);
        let r = unpack(kind, data, &mut budget, &mut |m, _| {
            got.push(m);
            true
        });
        (got, r)
    }

    #[test]
    fn sniffs_by_magic_not_name() {
        assert_eq!(sniff(&gzip(b"hello")), Some(Kind::Gzip));
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Some(Kind::Zstd));
        assert_eq!(sniff(b"BZh9 not really"), None);
        assert_eq!(sniff(b"plain text"), None);
        let mut fake_tar = vec![0u8; 512];
        fake_tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&fake_tar), None, "a bad checksum is not a tar");
    }

    #[test]
    fn stream_heads_are_decided_early_for_text() {
        assert!(
            !undecided(b"2026-11-26 GET / 200\n"),
            "text streams at once"
        );
        assert!(undecided(&[0x1f]), "a magic prefix waits");
        assert!(undecided(b"PK"));
        assert!(!undecided(&gzip(b"x")), "a whole magic is decided");
        assert!(undecided(b"name\0\0\0"), "NULs may be a tar header");
        assert!(
            !undecided(&[0u8; SNIFF_LEN]),
            "a whole header block is decided"
        );
    }

    #[test]
    fn gzip_round_trip() {
        let (m, r) = members(Kind::Gzip, &gzip(b"KEY=value\n"), Limits::default());
        r.unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].name, None);
        assert_eq!(m[0].data, b"KEY=value\n");
    }

    #[test]
    fn ratio_and_bytes_limits_stop_inflating() {
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let gz = gzip(&zeros);
        let (m, r) = members(Kind::Gzip, &gz, Limits::default());
        assert!(m.is_empty());
        assert!(matches!(r, Err(ArchiveError::Limit(LimitHit::Ratio(100)))));
        let limits = Limits {
            max_bytes: 1000,
            max_ratio: u64::MAX,
            ..Limits::default()
        };
        let (_, r) = members(Kind::Gzip, &gz, limits);
        assert!(matches!(r, Err(ArchiveError::Limit(LimitHit::Bytes(1000)))));
    }

    #[test]
    fn truncated_gzip_is_corrupt() {
        let gz = gzip(&b"some text that is long enough to matter ".repeat(100));
        let (_, r) = members(Kind::Gzip, &gz[..gz.len() / 2], Limits::default());
        assert!(
            matches!(
                r,
                Err(ArchiveError::Corrupt {
                    kind: Kind::Gzip,
                    ..
                })
            ),
            "{r:?}"
        );
    }
}
