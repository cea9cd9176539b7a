//! Decoding: finding base64 (standard and URL-safe, padded or not), hex and percent-encoded runs
//! cheaply, and decoding them into bytes worth scanning.
//!
//! The finder never runs a regex over every byte. For base64 and hex it probes one byte in every
//! [`MIN_RUN`]: a run of at least that many alphabet bytes must cover a probe, so a probe outside
//! the alphabet skips [`MIN_RUN`] bytes at once, and one inside is extended both ways by a
//! byte-class table and the scan resumes [`MIN_RUN`] bytes past the run's end. On source code
//! (short identifiers broken by spaces and punctuation) that touches about half the bytes, each
//! with one table load. Percent-encoding is found from its `%` bytes with `memchr`.
//!
//! A decoding is kept only if it is worth scanning: mostly printable UTF-8 text, or the magic
//! bytes of a compressed stream or archive (see [`crate::archive::sniff`]). Random base64 (image
//! bytes, certificates, hashes) decodes to binary and is dropped, as are data URIs whose media
//! type is not text. Where a base64 or hex run is the value of a key (`password: <run>`,
//! `"token": "<run>"`, `key=<run>`), the decoded text is presented as `key: "<decoded>"`, so that
//! rules which need a name before a value (generic passwords, Kubernetes `data:` entries) see one.
//!
//! Flow position: `content -> decode -> engine` (the caller, [`crate::content`], scans what this
//! module decodes, recursively up to `--max-decode-depth`).

/// Default of `--max-decode-depth`: decoded content is searched for encoded runs again this many
/// times (so `base64>base64` is found); 0 turns decoding off.
pub const DEFAULT_MAX_DEPTH: u32 = 2;

/// Shortest base64 or hex run considered (20 base64 characters are 15 bytes).
pub const MIN_RUN: usize = 20;
/// Shortest hex run considered (32 digits are 16 bytes).
const MIN_HEX: usize = 32;
/// Shortest percent-encoded run considered.
const MIN_PERCENT: usize = 12;
/// Longest run decoded; longer ones are cut here (a credential is far shorter, and a huge run is
/// an embedded blob).
pub const MAX_RUN: usize = 16 * 1024 * 1024;

/// An encoding of text in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 4648 base64 (`+/`).
    Base64,
    /// RFC 4648 base64url (`-_`).
    Base64Url,
    /// Hexadecimal digits, two per byte.
    Hex,
    /// `%XX` escapes (and `+` for space, as in form posts).
    Percent,
}

impl Encoding {
    /// The name used in decoding chains.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 | Encoding::Base64Url => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
        }
    }
}

/// A candidate run: `hay[start..end]` in `encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First byte of the run.
    pub start: usize,
    /// One past its last byte (padding included).
    pub end: usize,
    /// How it is encoded.
    pub encoding: Encoding,
}

const STD: u8 = 1;
const URL: u8 = 2;
const HEX: u8 = 4;
const FORM: u8 = 8;

/// Byte classes: which alphabets each byte belongs to.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut v = 0;
        if c.is_ascii_alphanumeric() {
            v |= STD | URL | FORM;
        }
        if c.is_ascii_hexdigit() {
            v |= HEX;
        }
        if c == b'+' || c == b'/' {
            v |= STD;
        }
        if c == b'-' || c == b'_' {
            v |= URL;
        }
        if matches!(
            c,
            b'%' | b'+'
                | b'-'
                | b'_'
                | b'.'
                | b'~'
                | b'&'
                | b'='
                | b'!'
                | b'*'
                | b'('
                | b')'
                | b';'
                | b':'
                | b'@'
                | b'/'
                | b','
                | b'?'
                | b'$'
                | b'\''
        ) {
            v |= FORM;
        }
        t[b] = v;
        b += 1;
    }
    t
};

/// Append the candidate runs of `hay` to `out`, in order and disjoint.
pub fn find_runs(hay: &[u8], out: &mut Vec<Run>) {
    let first = out.len();
    find_alphabet_runs(hay, out);
    find_percent_runs(hay, out);
    out[first..].sort_by_key(|r| r.start);
    // A percent run may contain an alphabet run; keep the earlier (longer-reaching) one.
    let mut keep = first;
    for i in first..out.len() {
        if keep > first && out[i].start < out[keep - 1].end {
            continue;
        }
        out[keep] = out[i];
        keep += 1;
    }
    out.truncate(keep);
}

const B64ANY: u8 = STD | URL;

fn find_alphabet_runs(hay: &[u8], out: &mut Vec<Run>) {
    let n = hay.len();
    let mut floor = 0;
    let mut i = MIN_RUN - 1;
    while i < n {
        if CLASS[hay[i] as usize] & B64ANY == 0 {
            i += MIN_RUN;
            continue;
        }
        let mut and = CLASS[hay[i] as usize];
        let mut s = i;
        while s > floor {
            let c = CLASS[hay[s - 1] as usize];
            if c & B64ANY == 0 {
                break;
            }
            and &= c;
            s -= 1;
        }
        let mut e = i + 1;
        while e < n {
            let c = CLASS[hay[e] as usize];
            if c & B64ANY == 0 {
                break;
            }
            and &= c;
            e += 1;
        }
        floor = e;
        i = e + MIN_RUN;
        if e - s < MIN_RUN {
            continue;
        }
        if let Some(run) = classify(hay, s, e, and) {
            out.push(run);
        }
    }
}

/// Decide what the alphabet run `hay[s..e]` is, given the AND of its bytes' classes.
fn classify(hay: &[u8], mut s: usize, e: usize, and: u8) -> Option<Run> {
    // `0x` before hex digits.
    if and & HEX == 0
        && e - s > 2
        && hay[s] == b'0'
        && (hay[s + 1] | 0x20) == b'x'
        && hay[s + 2..e].iter().all(|&b| CLASS[b as usize] & HEX != 0)
    {
        s += 2;
        return ((e - s) >= MIN_HEX && (e - s) % 2 == 0).then_some(Run {
            start: s,
            end: e,
            encoding: Encoding::Hex,
        });
    }
    if and & HEX != 0 {
        return ((e - s) >= MIN_HEX && (e - s) % 2 == 0).then_some(Run {
            start: s,
            end: e,
            encoding: Encoding::Hex,
        });
    }
    // Base64 of anything has both upper- and lower-case letters; a run without is a word or a
    // constant, not an encoding.
    let run = &hay[s..e];
    let has_upper = run.iter().any(u8::is_ascii_uppercase);
    let has_lower = run.iter().any(u8::is_ascii_lowercase);
    if !(has_upper && has_lower) {
        return None;
    }
    let encoding = if and & STD != 0 {
        Encoding::Base64
    } else if and & URL != 0 {
        Encoding::Base64Url
    } else {
        return None;
    };
    let mut end = e;
    if encoding == Encoding::Base64 || encoding == Encoding::Base64Url {
        let mut pad = 0;
        while pad < 2 && end < hay.len() && hay[end] == b'=' {
            end += 1;
            pad += 1;
        }
    }
    Some(Run {
        start: s,
        end,
        encoding,
    })
}

fn find_percent_runs(hay: &[u8], out: &mut Vec<Run>) {
    let mut floor = 0;
    for p in memchr::memchr_iter(b'%', hay) {
        if p < floor || p + 2 >= hay.len() {
            continue;
        }
        if CLASS[hay[p + 1] as usize] & HEX == 0 || CLASS[hay[p + 2] as usize] & HEX == 0 {
            continue;
        }
        let mut s = p;
        while s > floor && CLASS[hay[s - 1] as usize] & FORM != 0 {
            s -= 1;
        }
        let mut e = p + 3;
        while e < hay.len() && CLASS[hay[e] as usize] & FORM != 0 {
            e += 1;
        }
        floor = e;
        if e - s >= MIN_PERCENT {
            out.push(Run {
                start: s,
                end: e,
                encoding: Encoding::Percent,
            });
        }
    }
}

/// The value of one base64 character, or 0xff.
static B64: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0xff,
    }
}

/// Decode `run` of `hay` into `out` (cleared first). False if it is not valid in its encoding.
pub fn decode(hay: &[u8], run: &Run, out: &mut Vec<u8>) -> bool {
    out.clear();
    let end = run.end.min(run.start.saturating_add(MAX_RUN));
    let src = &hay[run.start..end];
    match run.encoding {
        Encoding::Base64 | Encoding::Base64Url => {
            let body = match src.iter().position(|&b| b == b'=') {
                Some(i) => &src[..i],
                None => src,
            };
            // A trailing single character holds no whole byte.
            let body = if body.len() % 4 == 1 {
                &body[..body.len() - 1]
            } else {
                body
            };
            out.reserve(body.len() / 4 * 3 + 3);
            let mut acc: u32 = 0;
            let mut bits = 0;
            for &b in body {
                let v = B64[b as usize];
                if v == 0xff {
                    return false;
                }
                acc = (acc << 6) | u32::from(v);
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    out.push((acc >> bits) as u8);
                }
            }
            true
        }
        Encoding::Hex => {
            if src.len() % 2 != 0 {
                return false;
            }
            out.reserve(src.len() / 2);
            for pair in src.chunks_exact(2) {
                let (h, l) = (hex_val(pair[0]), hex_val(pair[1]));
                if h == 0xff || l == 0xff {
                    return false;
                }
                out.push(h << 4 | l);
            }
            true
        }
        Encoding::Percent => {
            let mut escapes = 0;
            let mut i = 0;
            out.reserve(src.len());
            while i < src.len() {
                let b = src[i];
                if b == b'%' && i + 2 < src.len() {
                    let (h, l) = (
                        src.get(i + 1).map_or(0xff, |&c| hex_val(c)),
                        src.get(i + 2).map_or(0xff, |&c| hex_val(c)),
                    );
                    if h != 0xff && l != 0xff {
                        out.push(h << 4 | l);
                        escapes += 1;
                        i += 3;
                        continue;
                    }
                }
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
            escapes > 0
        }
    }
}

/// Whether decoded bytes look like text worth scanning: valid UTF-8 with almost no control
/// characters (tab, line breaks allowed; at most one in 32 bytes otherwise).
pub fn is_text(b: &[u8]) -> bool {
    if b.is_empty() || std::str::from_utf8(b).is_err() {
        return false;
    }
    let controls = b
        .iter()
        .filter(|&&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f)
        .count();
    controls == 0 || (b.len() >= 64 && controls * 32 <= b.len())
}

/// For a base64 run that ends a data URI (`data:<type>;base64,<run>`): whether the media type is
/// text. `None` when the run is not in a data URI.
pub fn data_uri_is_text(hay: &[u8], run: &Run) -> Option<bool> {
    let before = &hay[run.start.saturating_sub(128)..run.start];
    let head = before.strip_suffix(b";base64,")?;
    let at = memchr::memmem::rfind(head, b"data:")?;
    let media = &head[at + 5..];
    let media = media.split(|&b| b == b';').next().unwrap_or(media);
    let m = String::from_utf8_lossy(media).to_ascii_lowercase();
    Some(
        m.is_empty()
            || m.starts_with("text/")
            || m.ends_with("json")
            || m.ends_with("xml")
            || m.ends_with("yaml")
            || m.ends_with("javascript")
            || m == "application/x-sh"
            || m == "application/x-www-form-urlencoded",
    )
}

/// The key a base64 or hex run is the value of, if any: `key: run`, `key = run`, `"key": "run"`,
/// `key="run"` on the same line (a YAML, JSON, TOML, .env or INI entry).
pub fn key_of<'h>(hay: &'h [u8], run: &Run) -> Option<&'h [u8]> {
    let line_start = memchr::memrchr(b'\n', &hay[run.start.saturating_sub(256)..run.start])
        .map_or(run.start.saturating_sub(256), |i| {
            run.start.saturating_sub(256) + i + 1
        });
    let before = &hay[line_start..run.start];
    let mut i = before.len();
    let skip = |i: &mut usize, set: &[u8]| {
        while *i > 0 && set.contains(&before[*i - 1]) {
            *i -= 1;
        }
    };
    skip(&mut i, b" \t\"'");
    if i == 0 || !matches!(before[i - 1], b':' | b'=') {
        return None;
    }
    i -= 1;
    skip(&mut i, b" \t\"'");
    let end = i;
    while i > 0 && (before[i - 1].is_ascii_alphanumeric() || b"_.-".contains(&before[i - 1])) {
        i -= 1;
    }
    (end > i).then(|| &before[i..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut o = String::new();
        for c in s.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= c.len() {
                    o.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    o.push('=');
                }
            }
        }
        o
    }

    fn runs(hay: &[u8]) -> Vec<Run> {
        let mut v = Vec::new();
        find_runs(hay, &mut v);
        v
    }

    #[test]
    fn finds_each_encoding_at_its_span() {
        let text = b"some plain text that decodes to itself";
        let enc = b64(text);
        let hay = format!("value: {enc}\nnext line");
        let r = runs(hay.as_bytes());
        assert_eq!(
            r,
            vec![Run {
                start: 7,
                end: 7 + enc.len(),
                encoding: Encoding::Base64
            }]
        );
        let mut out = Vec::new();
        assert!(decode(hay.as_bytes(), &r[0], &mut out));
        assert_eq!(out, text);

        let hex: String = text.iter().map(|b| format!("{b:02x}")).collect();
        let hay = format!("x = 0x{hex};");
        let r = runs(hay.as_bytes());
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].encoding), (6, Encoding::Hex));
        assert!(decode(hay.as_bytes(), &r[0], &mut out));
        assert_eq!(out, text);

        let hay = b"GET /login?user=bob&pass=a%21b%40c+d HTTP/1.1";
        let r = runs(hay);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].start, r[0].encoding), (4, Encoding::Percent));
        assert!(decode(hay, &r[0], &mut out));
        assert_eq!(out, b"/login?user=bob&pass=a!b@c d");
    }

    #[test]
    fn unpadded_and_url_safe() {
        // 0xfb 0xff in the middle gives `-` and `_` in base64url.
        let mut out = Vec::new();
        let hay = b"tok=eyJzdWIiOiJhYmMiLCJ4Ijoi-_8ifQ";
        let r = runs(hay);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].encoding, Encoding::Base64Url);
        assert!(decode(hay, &r[0], &mut out));
        assert!(out.starts_with(b"{\"sub\":\"abc\",\"x\":\""));
    }

    #[test]
    fn short_runs_and_words_are_not_candidates() {
        assert!(runs(b"a short SGVsbG8= run").is_empty());
        assert!(runs(b"averyveryverylongidentifierwithoutcaps here").is_empty());
        assert!(runs(b"printf(\"%d %s\\n\", x, y); 100% done").is_empty());
    }

    #[test]
    fn text_check() {
        assert!(is_text(b"user:password"));
        assert!(is_text("naïve café text\n".as_bytes()));
        assert!(!is_text(&[
            0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13
        ]));
        assert!(!is_text(b"abc\x01def"));
    }

    #[test]
    fn keys_and_data_uris() {
        let hay = b"  password: \"cGFzc3dvcmQ=\"";
        let run = Run {
            start: 13,
            end: 25,
            encoding: Encoding::Base64,
        };
        assert_eq!(key_of(hay, &run), Some(&b"password"[..]));
        let hay = b"src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\"";
        let r = runs(hay);
        assert_eq!(data_uri_is_text(hay, &r[0]), Some(false));
        let hay = b"data:text/plain;charset=utf-8;base64,aGVsbG8gd29ybGQgaGVsbG8=";
        let r = runs(hay);
        assert_eq!(data_uri_is_text(hay, &r[0]), Some(true));
    }
}
