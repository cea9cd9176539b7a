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
#[allow(clippy::too_many_arguments)]
pub(crate) fn verify_rule(
    rule: &Rule,
    ri: u32,
    hay: &[u8],
    hits: &[Hit],
    floor: usize,
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Match>,
) {
    if let Some(lead) = rule.lead {
        return verify_anchored(rule, ri, lead, hay, hits, floor, cache, caps, out);
    }
    let w = rule.window;
    let mut i = 0;
    // `floor`: no match may start before it (the end of the last accepted match; at first, the
    // caller's: where a stream's earlier pass accepted its last match of this rule).
    let mut floor = floor;
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
    // The window of `hits[i]`, when the last region computed it.
    let mut next = None;
    while i < hits.len() {
        // Merge the windows of hits that overlap into one region.
        let (mut lo, mut hi) = next.take().unwrap_or_else(|| window(&hits[i]));
        let mut j = i + 1;
        while j < hits.len() {
            let (l, h) = window(&hits[j]);
            if l > hi {
                next = Some((l, h));
                break;
            }
            // (A later hit's window can start earlier: its keyword may end earlier.)
            lo = lo.min(l);
            hi = hi.max(h);
            j += 1;
        }
        lo = lo.max(floor);
        let region = &hits[i..j];
        i = j;
        if rule.line_start {
            // A region is part of one line, and a match can only start at the line's start:
            // one anchored attempt there, if the region reaches it. (The search below would
            // find the same match, after searching the whole region.)
            if lo < hi && (lo == 0 || hay[lo - 1] == b'\n') {
                let input = Input::new(hay).span(lo..hi).anchored(Anchored::Yes);
                if let Some(m) = rule.regex.get().search_with(cache, &input) {
                    let (s, e) = (m.start(), m.end());
                    if e - s <= w && contains_hit(region, s, e) {
                        if let Some(found) = confirm(rule, ri, hay, s, e, cache, caps) {
                            out.push(found);
                            floor = e;
                        }
                    }
                }
            }
            continue;
        }
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
///
/// Where more than [`ANCHORED_TRIES`] positions are left to try, one unanchored search stands
/// in for them: it returns the leftmost position that has a match, and that position's own
/// match (see [`first_anchored`]).
#[allow(clippy::too_many_arguments)]
fn verify_anchored(
    rule: &Rule,
    ri: u32,
    lead: usize,
    hay: &[u8],
    hits: &[Hit],
    floor: usize,
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Match>,
) {
    // Positions before `next` were tried already or lie inside an accepted match (or before
    // the caller's floor).
    let mut next = floor;
    for h in hits {
        let mut p = h.start.saturating_sub(lead).max(next);
        if !rule.multiline && p < h.start {
            // A single-line match holding this hit starts on the hit's line.
            p = memchr::memrchr(b'\n', &hay[p..h.start]).map_or(p, |i| p + i + 1);
        }
        while p <= h.start {
            let Some((s, e)) = first_anchored(rule, hay, p, h, cache) else {
                p = h.start + 1;
                break;
            };
            if contains_hit(hits, s, e) {
                if let Some(found) = confirm(rule, ri, hay, s, e, cache, caps) {
                    out.push(found);
                    p = e.max(s + 1);
                    break;
                }
            }
            p = s + 1;
        }
        next = next.max(p);
    }
}

/// Below this many candidate start positions, [`first_anchored`] tries each with an anchored
/// search (each attempt stops where the regex fails, usually within a few bytes); above it, one
/// unanchored search replaces the attempts (the generic assignment rules have a lead of 40).
const ANCHORED_TRIES: usize = 4;

/// How many bytes of unanchored search one anchored attempt is worth (mostly the cost of a call).
/// A multi-line rule with a wide window keeps its attempts rather than searching the window.
const BYTES_PER_TRY: usize = 128;

/// The first position `s` in `[p, hit.start]` where an anchored search of `rule` over
/// `s..s + window` matches, and that match `(s, e)`; `None` if there is none.
///
/// With few positions, each is tried in turn. Otherwise one unanchored search runs over
/// `p..end`, where `end` (`hit.start + window`, or the hit's line end for a single-line rule) is
/// at least as far as any of those anchored searches can reach. Its match `(s, e)` starts at
/// the leftmost position that has a match and, if it is no longer than the window, is also the
/// anchored search's match at `s`: that search's candidates are a subset of the unanchored
/// one's, and they include this one, the most preferred. A longer match is settled by the
/// anchored search at `s` itself.
fn first_anchored(
    rule: &Rule,
    hay: &[u8],
    mut p: usize,
    hit: &Hit,
    cache: &mut meta::Cache,
) -> Option<(usize, usize)> {
    // Positions where the match's first bytes cannot be are passed over.
    while p <= hit.start && !rule.may_start(hay, p) {
        p += 1;
    }
    // (Past the hit also when a window narrower than the keyword let a match at the hit itself
    // be too long.)
    if p > hit.start {
        return None;
    }
    let w = rule.window;
    let anchored_at = |s: usize, cache: &mut meta::Cache| {
        let input = Input::new(hay)
            .span(s..s.saturating_add(w).min(hay.len()))
            .anchored(Anchored::Yes);
        rule.regex
            .get()
            .search_with(cache, &input)
            .map(|m| (m.start(), m.end()))
    };
    let tries = hit.start - p + 1;
    // Where the unanchored search would end (found only when there are enough tries for it to
    // be considered: the line's end costs a `memchr`).
    let end = (tries > ANCHORED_TRIES).then(|| {
        let end = hit.start.saturating_add(w).min(hay.len()).max(hit.end);
        if rule.multiline {
            return end;
        }
        memchr::memchr(b'\n', &hay[hit.end..end]).map_or(end, |i| hit.end + i)
    });
    let Some(end) = end.filter(|&end| end - p <= tries * BYTES_PER_TRY) else {
        while p <= hit.start {
            if rule.may_start(hay, p) {
                if let Some(m) = anchored_at(p, cache) {
                    return Some(m);
                }
            }
            p += 1;
        }
        return None;
    };
    let m = rule
        .regex
        .get()
        .search_with(cache, &Input::new(hay).span(p..end))?;
    let (s, e) = (m.start(), m.end());
    if s > hit.start {
        None
    } else if e - s <= w {
        Some((s, e))
    } else {
        anchored_at(s, cache).or_else(|| first_anchored(rule, hay, s + 1, hit, cache))
    }
}

/// Confirm a rule that has no keyword by searching all of `hay` (the slow path; `rules check`
/// warns about such rules and the built-in ones have none).
pub(crate) fn verify_unfiltered(
    rule: &Rule,
    ri: u32,
    hay: &[u8],
    floor: usize,
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Match>,
) {
    let mut at = floor;
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
    /// Payment card number: 12 to 19 digits (spaces and dashes ignored) passing the Luhn check.
    Luhn,
    /// IBAN (ISO 13616): a known country code, that country's length, and mod-97 remainder 1.
    Iban,
}

impl Validator {
    /// The names accepted in rule files.
    pub const NAMES: &'static [&'static str] = &["github-crc32", "jwt", "luhn", "iban"];

    /// The validator with this name.
    pub fn parse(name: &str) -> Option<Validator> {
        match name {
            "github-crc32" => Some(Validator::GithubCrc32),
            "jwt" => Some(Validator::Jwt),
            "luhn" => Some(Validator::Luhn),
            "iban" => Some(Validator::Iban),
            _ => None,
        }
    }

    /// Whether `secret` passes.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubCrc32 => github_crc32_ok(secret),
            Validator::Jwt => jwt_ok(secret),
            Validator::Luhn => luhn_ok(secret),
            Validator::Iban => iban_ok(secret),
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

/// The Luhn check digit that makes `digits` (values 0-9, without the check digit) valid: double
/// every second digit from the right, starting with the last, and sum the digits.
pub fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// 12 to 19 digits, separated by nothing, spaces or dashes, whose last digit is their Luhn check
/// digit; a number of one repeated digit is not a card.
fn luhn_ok(secret: &[u8]) -> bool {
    let mut digits = Vec::with_capacity(secret.len());
    for &b in secret {
        match b {
            b'0'..=b'9' => digits.push(b - b'0'),
            b' ' | b'-' => {}
            _ => return false,
        }
    }
    let Some((&check, body)) = digits.split_last() else {
        return false;
    };
    (12..=19).contains(&digits.len())
        && digits.iter().any(|&d| d != digits[0])
        && luhn_check_digit(body) == check
}

/// IBAN length by country (ISO 13616 registry): the countries that issue IBANs.
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20), (b"BE", 16),
    (b"BG", 22), (b"BH", 22), (b"BI", 27), (b"BR", 29), (b"BY", 28), (b"CH", 21), (b"CR", 22),
    (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DJ", 27), (b"DK", 18), (b"DO", 28), (b"EE", 20),
    (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FK", 18), (b"FO", 18), (b"FR", 27), (b"GB", 22),
    (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27), (b"GT", 28), (b"HR", 21), (b"HU", 28),
    (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26), (b"IT", 27), (b"JO", 30), (b"KW", 30),
    (b"KZ", 20), (b"LB", 28), (b"LC", 32), (b"LI", 21), (b"LT", 20), (b"LU", 20), (b"LV", 21),
    (b"LY", 25), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MN", 20), (b"MR", 27),
    (b"MT", 31), (b"MU", 30), (b"NI", 28), (b"NL", 18), (b"NO", 15), (b"OM", 23), (b"PK", 24),
    (b"PL", 28), (b"PS", 29), (b"PT", 25), (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"RU", 33),
    (b"SA", 24), (b"SC", 31), (b"SD", 18), (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27),
    (b"SO", 23), (b"ST", 25), (b"SV", 28), (b"TL", 23), (b"TN", 24), (b"TR", 26), (b"UA", 29),
    (b"VA", 22), (b"VG", 24), (b"XK", 20), (b"YE", 30),
];

/// The IBAN's remainder mod 97 after moving its first four characters to the end and reading
/// letters as 10-35 (spaces ignored); `None` on any other character. A valid IBAN gives 1.
pub fn iban_mod97(iban: &[u8]) -> Option<u32> {
    let compact: Vec<u8> = iban.iter().copied().filter(|&b| b != b' ').collect();
    if compact.len() < 4 {
        return None;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem = 0u32;
    for &b in tail.iter().chain(head) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return None,
        };
    }
    Some(rem)
}

/// A known country code, that country's IBAN length, two check digits, mod-97 remainder 1.
fn iban_ok(secret: &[u8]) -> bool {
    let len = secret.iter().filter(|&&b| b != b' ').count();
    let Some(country) = secret.get(..2) else {
        return false;
    };
    IBAN_LENGTHS
        .iter()
        .any(|(cc, n)| cc.as_slice() == country && *n == len)
        && secret
            .get(2..4)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && iban_mod97(secret) == Some(1)
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

    /// A card number of `prefix` and deterministic filler digits, `len` digits long, with its
    /// Luhn check digit; and the same number with one digit changed.
    fn card(prefix: &str, len: usize, seed: u64) -> (String, String) {
        let mut x = seed;
        let mut digits: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
        while digits.len() < len - 1 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            digits.push(((x >> 33) % 10) as u8);
        }
        digits.push(luhn_check_digit(&digits));
        let good: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let mut off = digits.clone();
        off[len / 2] = (off[len / 2] + 1) % 10;
        let bad: String = off.iter().map(|d| char::from(b'0' + d)).collect();
        (good, bad)
    }

    #[test]
    fn luhn_cards() {
        let rows: &[(&str, &str, usize)] = &[
            ("visa 16", "4", 16),
            ("visa 13", "4", 13),
            ("visa 19", "4", 19),
            ("mastercard", "53", 16),
            ("mastercard 2-series", "2720", 16),
            ("amex", "37", 15),
            ("discover", "6011", 16),
            ("diners", "36", 14),
        ];
        for (seed, &(name, prefix, len)) in rows.iter().enumerate() {
            let (good, bad) = card(prefix, len, seed as u64 + 1);
            assert!(Validator::Luhn.check(good.as_bytes()), "{name}: {good}");
            assert!(
                !Validator::Luhn.check(bad.as_bytes()),
                "{name}: one digit off: {bad}"
            );
            // Grouped in fours with spaces or dashes: the same verdicts.
            let grouped = |s: &str, sep: char| -> String {
                s.as_bytes()
                    .chunks(4)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join(&sep.to_string())
            };
            assert!(
                Validator::Luhn.check(grouped(&good, ' ').as_bytes()),
                "{name}"
            );
            assert!(
                Validator::Luhn.check(grouped(&good, '-').as_bytes()),
                "{name}"
            );
            assert!(
                !Validator::Luhn.check(grouped(&bad, ' ').as_bytes()),
                "{name}"
            );
        }
        // Every single-digit change of a valid number is caught.
        let (good, _) = card("4", 16, 99);
        for i in 0..good.len() {
            for d in b'0'..=b'9' {
                let mut b = good.clone().into_bytes();
                if b[i] == d {
                    continue;
                }
                b[i] = d;
                assert!(
                    !Validator::Luhn.check(&b),
                    "{}",
                    String::from_utf8_lossy(&b)
                );
            }
        }
        for (name, s) in [
            ("too short", "42"),
            ("letters", "4111a11111111111"),
            ("all zeros", "0000000000000000"),
            ("20 digits", "41111111111111111111"),
            ("empty", ""),
        ] {
            assert!(!Validator::Luhn.check(s.as_bytes()), "{name}");
        }
    }

    /// An IBAN of `country` and `bban` with its check digits computed here.
    fn iban(country: &str, bban: &str) -> String {
        let zero = format!("{country}00{bban}");
        let check = 98 - iban_mod97(zero.as_bytes()).unwrap();
        format!("{country}{check:02}{bban}")
    }

    #[test]
    fn iban_checksums() {
        let rows = [
            ("germany", "DE", "370400440532013000"),
            ("britain", "GB", "NWBK60161331926819"),
            ("norway, shortest", "NO", "86011117947"),
            ("france, letter in bban", "FR", "20041010050500013M02606"),
            ("malta, long", "MT", "MALT011000012345MTLCAST001S"),
        ];
        for (name, cc, bban) in rows {
            let good = iban(cc, bban);
            assert!(Validator::Iban.check(good.as_bytes()), "{name}: {good}");
            // Printed form: groups of four.
            let printed = good
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                Validator::Iban.check(printed.as_bytes()),
                "{name}: {printed}"
            );
            // One digit off (the last digit of the bban).
            let mut bad = good.clone().into_bytes();
            let i = bad.iter().rposition(u8::is_ascii_digit).unwrap();
            bad[i] = if bad[i] == b'9' { b'0' } else { bad[i] + 1 };
            assert!(!Validator::Iban.check(&bad), "{name}: one digit off");
            // Right checksum, wrong length for the country.
            let long = iban(cc, &format!("{bban}1"));
            assert!(!Validator::Iban.check(long.as_bytes()), "{name}: too long");
        }
        // A right checksum for a country that has no IBAN.
        assert!(!Validator::Iban.check(iban("XX", "370400440532013000").as_bytes()));
        assert!(!Validator::Iban.check(b"DE"));
        assert!(!Validator::Iban.check(b"de89370400440532013000"));
    }

    /// The old form of [`verify_anchored`]: one anchored attempt per start position, left to
    /// right. The unanchored shortcut of [`first_anchored`] must give exactly its matches.
    fn anchored_reference(rule: &Rule, lead: usize, hay: &[u8], hits: &[Hit]) -> Vec<Match> {
        let regex = rule.regex.get();
        let (mut cache, mut caps) = (regex.create_cache(), regex.create_captures());
        let mut out = Vec::new();
        let mut next = 0;
        for h in hits {
            let mut p = h.start.saturating_sub(lead).max(next);
            if !rule.multiline && p < h.start {
                p = memchr::memrchr(b'\n', &hay[p..h.start]).map_or(p, |i| p + i + 1);
            }
            while p <= h.start {
                let input = Input::new(hay)
                    .span(p..p.saturating_add(rule.window).min(hay.len()))
                    .anchored(Anchored::Yes);
                if let Some(m) = regex.search_with(&mut cache, &input) {
                    let (s, e) = (m.start(), m.end());
                    if contains_hit(hits, s, e) {
                        if let Some(f) = confirm(rule, 0, hay, s, e, &mut cache, &mut caps) {
                            out.push(f);
                            p = e.max(s + 1);
                            break;
                        }
                    }
                }
                p += 1;
            }
            next = next.max(p);
        }
        out
    }

    /// A xorshift generator of numbers in `0..n`.
    fn xorshift(seed: u64) -> impl FnMut(usize) -> usize {
        let mut state = seed;
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        }
    }

    /// A text of 1 to `max` pieces drawn at random.
    fn text_of(pieces: &[&str], max: usize, next: &mut impl FnMut(usize) -> usize) -> Vec<u8> {
        let len = 1 + next(max);
        (0..len)
            .flat_map(|_| pieces[next(pieces.len())].bytes())
            .collect()
    }

    #[test]
    fn unanchored_shortcut_equals_anchored_attempts() {
        // Long leads (the shortcut's case), short windows (so matches longer than the window
        // exist), a secret check that fails (entropy), single- and multi-line rules.
        let rules = crate::rules::RuleSet::from_toml(
            "t.toml",
            r#"
[[rules]]
id = "lead-line"
name = "n"
description = "d"
severity = "high"
keywords = ["secret"]
regex = '''(?i)[a-z_.\-]{0,40}secret[a-z_]{0,3}\s{0,2}[:=]\s{0,2}"?([a-z0-9]{4,})"?'''
max_len = 48
entropy = 1.5
examples = ['my_secret = "q8x2k9w3m1"']

[[rules]]
id = "lead-multiline"
name = "n"
description = "d"
severity = "high"
keywords = ["key"]
regex = '''(?s)[a-z\n]{0,12}key[=\n]{1,2}([a-z0-9\n]{4,30})'''
examples = ["apikey=a8d9k2j3"]

[[rules]]
id = "lead-head"
name = "n"
description = "d"
severity = "high"
keywords = ["key"]
regex = '''(?i)(?:se|ap)[a-z]{2}key[=:]"?([a-z0-9]{4,})'''
examples = ["secrkey=a8d9k2j3"]
"#,
        )
        .unwrap();
        let pf = crate::prefilter::Prefilter::new(&rules);
        let pieces: &[&str] = &[
            "secret",
            "SECRET",
            "my_",
            "api.",
            "-",
            "_",
            "x",
            "q",
            "=",
            ":",
            " ",
            "\"",
            "\n",
            "a8k2",
            "0000",
            "zzzzzzzzzzzz",
            "key",
            "k",
            "9f3a",
            "secret_key",
            "\t",
            "apqr",
            "se",
            "apqrkey:",
        ];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut shortcuts = 0;
        let (mut heads_passed, mut heads_failed) = (0, 0);
        for _ in 0..3000 {
            let hay = text_of(pieces, 60, &mut next);
            let mut hits = Vec::new();
            pf.find(&hay, &mut hits);
            hits.sort_unstable();
            for (ri, rule) in rules.rules().iter().enumerate() {
                let lead = rule.lead.expect("both rules have a bounded lead");
                let regex = rule.regex.get();
                let mine: Vec<Hit> = hits
                    .iter()
                    .filter(|h| h.rule == ri as u32)
                    .copied()
                    .collect();
                shortcuts += mine.iter().filter(|h| h.start >= ANCHORED_TRIES).count();
                if !rule.head.is_empty() {
                    for h in &mine {
                        let p = h.start.saturating_sub(lead);
                        match rule.may_start(&hay, p) {
                            true => heads_passed += 1,
                            false => heads_failed += 1,
                        }
                    }
                }
                let (mut cache, mut caps) = (regex.create_cache(), regex.create_captures());
                let mut got = Vec::new();
                verify_anchored(
                    rule, 0, lead, &hay, &mine, 0, &mut cache, &mut caps, &mut got,
                );
                let want = anchored_reference(rule, lead, &hay, &mine);
                let text = String::from_utf8_lossy(&hay);
                assert_eq!(got, want, "rule {} on {text:?}", rule.id);
            }
        }
        assert!(shortcuts > 1000, "the inputs exercise the shortcut");
        assert!(
            heads_passed > 300 && heads_failed > 300,
            "the inputs exercise the head check both ways ({heads_passed}, {heads_failed})"
        );
    }

    /// Regression (found reading the code): with a window narrower than the keyword, the
    /// unanchored search can match at the hit itself and be too long; the positions after the
    /// hit are then none, and counting them underflowed (a panic in debug builds).
    #[test]
    fn window_narrower_than_the_keyword() {
        let rules = crate::rules::RuleSet::from_toml(
            "t.toml",
            r#"
[[rules]]
id = "narrow"
name = "n"
description = "d"
severity = "high"
keywords = ["secret"]
regex = '''[a-z]{0,40}secret[a-z]*'''
max_len = 3
"#,
        )
        .unwrap();
        let rule = &rules.rules()[0];
        let lead = rule.lead.expect("a bounded lead");
        let regex = rule.regex.get();
        let hay = format!("{}secret and more", " ".repeat(20));
        let hits = [Hit {
            rule: 0,
            start: 20,
            end: 26,
        }];
        let (mut cache, mut caps) = (regex.create_cache(), regex.create_captures());
        let mut got = Vec::new();
        let hay = hay.as_bytes();
        verify_anchored(
            rule, 0, lead, hay, &hits, 0, &mut cache, &mut caps, &mut got,
        );
        assert_eq!(got, anchored_reference(rule, lead, hay, &hits));
        assert!(got.is_empty(), "no match fits the window");
    }

    /// Regression (found reading the code): hits of one rule merge into a region that must
    /// start where the earliest of their windows does, which need not be the first hit's. Here
    /// the first hit is a long keyword that a short one, starting later, lies inside; the match
    /// holds the short one only and starts before the long one's window.
    #[test]
    fn region_starts_at_its_earliest_window() {
        let long = format!("ppxyz{}", "q".repeat(25));
        let toml = format!(
            "[[rules]]\nid = \"nested-keywords\"\nname = \"n\"\ndescription = \"d\"\n\
             severity = \"high\"\nkeywords = [\"xyz\", \"{long}\"]\nregex = '[0-9]+ppxyz'\n\
             max_len = 39\n"
        );
        let rules = crate::rules::RuleSet::from_toml("t.toml", &toml).unwrap();
        let scanner = crate::engine::Scanner::new(std::sync::Arc::new(rules));
        let hay = format!("{}{}{long} tail", " ".repeat(66), "7".repeat(34));
        let mut scratch = scanner.scratch();
        let got: Vec<(usize, usize)> = scanner
            .scan(hay.as_bytes(), &mut scratch)
            .iter()
            .map(|m| (m.start, m.end))
            .collect();
        assert_eq!(got, [(66, 105)]);
    }

    /// A rule whose matches start at a start of line gets one anchored attempt per region; the
    /// region's search finds exactly the same matches (random lines, floors and short windows).
    #[test]
    fn line_start_attempt_equals_region_search() {
        let rules = crate::rules::RuleSet::from_toml(
            "t.toml",
            r#"
[[rules]]
id = "line-start"
name = "n"
description = "d"
severity = "high"
keywords = ["token", "key"]
regex = '''(?im)^[ \t]*(?:export[ \t]+)?[a-z_]*(?:token|key)[ \t]*[=:][ \t]*([a-z0-9]{4,})'''
max_len = 40
entropy = 1.0
"#,
        )
        .unwrap();
        let rule = &rules.rules()[0];
        assert!(rule.line_start && rule.lead.is_none());
        let mut searched = rule.clone();
        searched.line_start = false;
        let pf = crate::prefilter::Prefilter::new(&rules);
        let pieces: &[&str] = &[
            "token",
            "KEY",
            "export ",
            "api_",
            "my",
            " ",
            "\t",
            "=",
            ":",
            "\n",
            "a8k2",
            "0000",
            "x9q7w3",
            "zzzzzzzzzzzzzzzzzzzzzzzz",
            "-",
            "token=",
            "\nkey: ",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut found = 0;
        for _ in 0..3000 {
            let hay = text_of(pieces, 40, &mut next);
            let floor = if next(3) == 0 { next(hay.len() + 1) } else { 0 };
            let mut hits = Vec::new();
            pf.find(&hay, &mut hits);
            hits.sort_unstable();
            let regex = rule.regex.get();
            let run = |r: &Rule| {
                let (mut cache, mut caps) = (regex.create_cache(), regex.create_captures());
                let mut got = Vec::new();
                verify_rule(r, 0, &hay, &hits, floor, &mut cache, &mut caps, &mut got);
                got
            };
            let got = run(rule);
            found += got.len();
            let text = String::from_utf8_lossy(&hay);
            assert_eq!(got, run(&searched), "{text:?} from {floor}");
        }
        assert!(found > 300, "the inputs have matches ({found})");
    }
}
