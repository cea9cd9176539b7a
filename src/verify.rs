//! Verify: confirm prefilter candidates. For one rule, search the windows around its keyword hits
//! with the rule's regex (as spans of the whole haystack, so anchors and word boundaries at window
//! edges see the real neighbouring bytes), keep only matches that contain a keyword hit, then check
//! the captured secret (length, Shannon entropy, checksum/structure validator, allowlist).
//!
//! Flow position: `prefilter -> verify -> engine's merge`. The regex caches used here belong to
//! the calling worker's [`crate::engine::Scratch`].

use regex_automata::{meta, util::captures::Captures, Anchored, Input};

use crate::rules::Rule;

/// One confirmed match of one rule, as byte offsets into the haystack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    /// Engine index of the rule.
    pub rule: u32,
    /// Start of the whole regex match.
    pub start: usize,
    /// End of the whole regex match.
    pub end: usize,
    /// Start of the secret (the rule's secret group).
    pub secret_start: usize,
    /// End of the secret.
    pub secret_end: usize,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
}

/// A keyword occurrence attributed to a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Hit {
    pub rule: u32,
    pub start: usize,
    pub end: usize,
}

/// How many times one window may restart after a match that held no keyword, before the rest of
/// that window is given up (bounds the work on hostile input).
const MAX_RESTARTS: usize = 64;

/// Confirm the candidates of `rule` (number `ri`): `hits` are its keyword hits sorted by start.
/// Matches are appended to `out` in order of start, never overlapping each other.
pub(crate) fn verify_rule(
    rule: &Rule,
    ri: u32,
    hay: &[u8],
    hits: &[Hit],
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Match>,
) {
    if let Some(lead) = rule.lead {
        return verify_anchored(rule, ri, lead, hay, hits, cache, caps, out);
    }
    let w = rule.window;
    let mut i = 0;
    // `floor`: no match may start before it (the end of the last accepted match).
    let mut floor = 0;
    // The window of one hit: as far as a match of `w` bytes holding it can reach, and, for a
    // rule that cannot match a line break, no further than the hit's own line.
    let window = |h: &Hit| -> (usize, usize) {
        // Never narrower than the hit itself: a regex whose longest match is shorter than its
        // keyword (an empty pattern, say) cannot match here, but must not make a bad slice.
        let lo = h.end.saturating_sub(w).min(h.start);
        let hi = h.start.saturating_add(w).max(h.end).min(hay.len());
        if rule.multiline {
            return (lo, hi);
        }
        let lo = memchr::memrchr(b'\n', &hay[lo..h.start]).map_or(lo, |i| lo + i + 1);
        let hi = memchr::memchr(b'\n', &hay[h.end..hi]).map_or(hi, |i| h.end + i);
        (lo, hi)
    };
    while i < hits.len() {
        // Merge the windows of hits that overlap into one region.
        let (mut lo, mut hi) = window(&hits[i]);
        let mut j = i + 1;
        while j < hits.len() {
            let (l, h) = window(&hits[j]);
            if l > hi {
                break;
            }
            hi = hi.max(h);
            j += 1;
        }
        lo = lo.max(floor);
        let region = &hits[i..j];
        i = j;
        let mut at = lo;
        let mut restarts = 0;
        while at < hi {
            let input = Input::new(hay).span(at..hi);
            let Some(m) = rule.regex.get().search_with(cache, &input) else {
                break;
            };
            let (s, e) = (m.start(), m.end());
            // A match longer than the rule's window is not reported (documented; a streamed
            // scan could not settle it): look again from where a match ending there would fit.
            if e - s > w {
                restarts += 1;
                if restarts > MAX_RESTARTS {
                    break;
                }
                at = (s + 1).max(e - w);
                continue;
            }
            if !contains_hit(region, s, e) {
                restarts += 1;
                if restarts > MAX_RESTARTS {
                    break;
                }
                at = s + 1;
                continue;
            }
            if let Some(found) = confirm(rule, ri, hay, s, e, cache, caps) {
                out.push(found);
                floor = e;
                at = if e > s { e } else { s + 1 };
            } else {
                // The regex matched but the secret failed a check: look for another match that
                // starts later (a shorter overlapping one could still be real).
                restarts += 1;
                if restarts > MAX_RESTARTS {
                    break;
                }
                at = s + 1;
            }
        }
    }
}

/// Confirm the candidates of a rule whose keywords begin at most `lead` bytes into any match:
/// every match starts in `[hit.start - lead, hit.start]` for one of its hits, so anchored
/// attempts at those positions (each tried once, left to right) find exactly the leftmost-first
/// matches a windowed search would, without scanning the window.
#[allow(clippy::too_many_arguments)]
fn verify_anchored(
    rule: &Rule,
    ri: u32,
    lead: usize,
    hay: &[u8],
    hits: &[Hit],
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Match>,
) {
    let w = rule.window;
    // Positions before `next` were tried already or lie inside an accepted match.
    let mut next = 0;
    for h in hits {
        let mut p = h.start.saturating_sub(lead).max(next);
        if !rule.multiline && p < h.start {
            // A single-line match holding this hit starts on the hit's line.
            p = memchr::memrchr(b'\n', &hay[p..h.start]).map_or(p, |i| p + i + 1);
        }
        while p <= h.start {
            let input = Input::new(hay)
                .span(p..p.saturating_add(w).min(hay.len()))
                .anchored(Anchored::Yes);
            if let Some(m) = rule.regex.get().search_with(cache, &input) {
                let (s, e) = (m.start(), m.end());
                if contains_hit(hits, s, e) {
                    if let Some(found) = confirm(rule, ri, hay, s, e, cache, caps) {
                        out.push(found);
                        p = e.max(s + 1);
                        break;
                    }
                }
            }
            p += 1;
        }
        next = next.max(p);
    }
}

/// Confirm a rule that has no keyword by searching all of `hay` (the slow path; `rules check`
/// warns about such rules and the built-in ones have none).
pub(crate) fn verify_unfiltered(
    rule: &Rule,
    ri: u32,
    hay: &[u8],
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Match>,
) {
    let mut at = 0;
    let mut failures = 0;
    while at < hay.len() {
        let input = Input::new(hay).span(at..hay.len());
        let Some(m) = rule.regex.get().search_with(cache, &input) else {
            break;
        };
        let (s, e) = (m.start(), m.end());
        let found = if e - s > rule.window {
            None
        } else {
            confirm(rule, ri, hay, s, e, cache, caps)
        };
        if let Some(found) = found {
            out.push(found);
            failures = 0;
            at = if e > s { e } else { s + 1 };
        } else {
            failures += 1;
            at = if failures > MAX_RESTARTS {
                e.max(s + 1)
            } else {
                s + 1
            };
        }
    }
}

/// Whether some hit lies entirely inside `[s, e)`. `hits` is sorted by start.
fn contains_hit(hits: &[Hit], s: usize, e: usize) -> bool {
    let first = hits.partition_point(|h| h.start < s);
    hits[first..]
        .iter()
        .take_while(|h| h.start < e)
        .any(|h| h.end <= e)
}

/// Extract the secret of the match `[s, e)` and run the rule's checks on it.
fn confirm(
    rule: &Rule,
    ri: u32,
    hay: &[u8],
    s: usize,
    e: usize,
    cache: &mut meta::Cache,
    caps: &mut Captures,
) -> Option<Match> {
    let (mut ss, mut se) = (s, e);
    if rule.secret_group > 0 {
        let input = Input::new(hay).span(s..e).anchored(Anchored::Yes);
        rule.regex.get().search_captures_with(cache, &input, caps);
        if let Some(sp) = caps.get_group(rule.secret_group) {
            (ss, se) = (sp.start, sp.end);
        }
    }
    if ss >= se {
        return None;
    }
    let entropy = rule.accept_secret(&hay[ss..se])?;
    Some(Match {
        rule: ri,
        start: s,
        end: e,
        secret_start: ss,
        secret_end: se,
        entropy,
    })
}

/// Shannon entropy of `data` in bits per byte (0 for empty input), computed as
/// `log2(n) - (1/n) * sum(c * log2(c))` over the byte counts `c`, with `c * log2(c)` from a table.
pub fn entropy(data: &[u8]) -> f64 {
    static C_LOG_C: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
    let table = C_LOG_C.get_or_init(|| {
        let mut t = [0.0; 256];
        for (c, v) in t.iter_mut().enumerate().skip(1) {
            *v = c as f64 * (c as f64).log2();
        }
        t
    });
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    let mut sum = 0.0;
    // Visit each distinct byte once, via the data itself rather than all 256 counters.
    for &b in data {
        let c = std::mem::take(&mut counts[b as usize]) as usize;
        if c > 0 {
            sum += table
                .get(c)
                .copied()
                .unwrap_or_else(|| c as f64 * (c as f64).log2());
        }
    }
    (n.log2() - sum / n).max(0.0)
}

/// A checksum or structure check on a secret, named in rule files by `validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// GitHub/npm token: `prefix_` + 30 random base62 + 6 base62 digits of their CRC32.
    GithubCrc32,
    /// JSON Web Token: header and payload are base64url JSON objects, the header has `alg`.
    Jwt,
}

impl Validator {
    /// The names accepted in rule files.
    pub const NAMES: &'static [&'static str] = &["github-crc32", "jwt"];

    /// The validator with this name.
    pub fn parse(name: &str) -> Option<Validator> {
        match name {
            "github-crc32" => Some(Validator::GithubCrc32),
            "jwt" => Some(Validator::Jwt),
            _ => None,
        }
    }

    /// Whether `secret` passes.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubCrc32 => github_crc32_ok(secret),
            Validator::Jwt => jwt_ok(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encode `n` in base62, left-padded with '0' to `width` digits.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

/// The last 6 characters are base62(CRC32(the 30 before them)).
fn github_crc32_ok(secret: &[u8]) -> bool {
    let Some(us) = memchr::memrchr(b'_', secret) else {
        return false;
    };
    let body = &secret[us + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62(u64::from(crc32fast::hash(random)), 6).as_bytes() == check
}

/// Decode base64url (padding optional); `None` on a bad character.
pub fn base64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn jwt_ok(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let json = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = base64url_decode(part)?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    matches!(json(h), Some(hdr) if hdr.contains_key("alg")) && json(p).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!((entropy(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn github_checksum() {
        let random = "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ";
        let good = format!(
            "ghp_{random}{}",
            base62(u64::from(crc32fast::hash(random.as_bytes())), 6)
        );
        assert!(Validator::GithubCrc32.check(good.as_bytes()));
        let mut bad = good.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert!(!Validator::GithubCrc32.check(&bad));
        assert!(!Validator::GithubCrc32.check(b"ghp_short"));
    }

    #[test]
    fn jwt_structure() {
        let enc = |s: &str| {
            // base64url without padding, for the test only.
            let t = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for ch in s.as_bytes().chunks(3) {
                let n = ch
                    .iter()
                    .enumerate()
                    .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
                for i in 0..=ch.len() {
                    out.push(t[(n >> (18 - 6 * i) & 63) as usize] as char);
                }
            }
            out
        };
        let tok = format!(
            "{}.{}.c2ln",
            enc(r#"{"alg":"HS256"}"#),
            enc(r#"{"sub":"1"}"#)
        );
        assert!(Validator::Jwt.check(tok.as_bytes()));
        let bad = format!("{}.{}.c2ln", enc(r#"{"typ":"x"}"#), enc(r#"{"sub":"1"}"#));
        assert!(!Validator::Jwt.check(bad.as_bytes()));
        assert!(!Validator::Jwt.check(b"eyJub3QganNvbg.eyJ9.x"));
    }
}
