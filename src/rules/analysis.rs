//! What can be read off a rule's regex without compiling it: its capture groups, longest match,
//! whether it can span lines, keywords derived from its required prefix, the keyword "lead"
//! (how far into a match a keyword must begin) and the byte sets a match must begin with. Pure functions over `regex-syntax`, shared with
//! `build.rs`, which runs them on the built-in rules at build time so that a scan's start-up
//! parses none of their regexes (see [`Facts`]).
//!
//! This file is compiled twice (as `crate::rules::analysis` and inside `build.rs`), so it uses
//! nothing but `std` and `regex_syntax`.

use regex_syntax::hir::{self, Hir, HirKind};

/// The facts about one rule's regex that a scan needs before the regex is compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Explicit capture groups.
    pub groups: usize,
    /// Longest possible match in bytes, if bounded.
    pub max_len: Option<usize>,
    /// See [`keyword_lead`].
    pub lead: Option<usize>,
    /// Whether a match can contain `\n`.
    pub multiline: bool,
    /// Keywords derived from the regex, when the rule declares none.
    pub derived_keywords: Vec<String>,
    /// See [`head_sets`].
    pub head: Vec<[u64; 4]>,
    /// See [`starts_at_line_start`].
    pub line_start: bool,
}

/// Lower-case and de-duplicate declared keywords; an empty one is an error.
pub fn normalize_keywords(declared: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for k in declared {
        let k = k.to_ascii_lowercase();
        if k.is_empty() {
            return Err("empty keyword".into());
        }
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

/// The facts of a parsed regex, given its normalized declared keywords.
pub fn analyze(hir: &Hir, keywords: &[String]) -> Facts {
    let derived_keywords = if keywords.is_empty() {
        derive_keywords(hir)
    } else {
        Vec::new()
    };
    let effective = if keywords.is_empty() {
        &derived_keywords
    } else {
        keywords
    };
    Facts {
        groups: hir.properties().explicit_captures_len(),
        max_len: hir.properties().maximum_len(),
        lead: keyword_lead(hir, effective),
        multiline: can_match_newline(hir),
        derived_keywords,
        head: head_sets(hir),
        line_start: starts_at_line_start(hir),
    }
}

/// Whether every match begins with a multi-line `^` (a start of line: after `\n` or at the
/// haystack's start), so that, in a rule that cannot match `\n`, a match holding a hit starts
/// at the start of the hit's line.
pub fn starts_at_line_start(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(hir::Look::StartLF) => true,
        HirKind::Capture(c) => starts_at_line_start(&c.sub),
        HirKind::Concat(hs) => hs.first().is_some_and(starts_at_line_start),
        _ => false,
    }
}

/// Parse a pattern in the rule dialect: ASCII classes, byte-oriented (`(?u)` opts back in).
pub fn parse_pattern(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| format!("invalid regex: {e}"))
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Keywords for a rule that declares none: the regex's required prefix literals, if there are
/// few and they are long enough to be selective. Empty means the rule scans every byte.
pub fn derive_keywords(hir: &Hir) -> Vec<String> {
    let mut ex = hir::literal::Extractor::new();
    ex.kind(hir::literal::ExtractKind::Prefix).limit_total(64);
    let seq = ex.extract(hir);
    let Some(lits) = seq.literals() else {
        return Vec::new();
    };
    if lits.is_empty() || lits.len() > 32 || lits.iter().any(|l| l.as_bytes().len() < 3) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for l in lits {
        let k = String::from_utf8_lossy(l.as_bytes()).to_ascii_lowercase();
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// How far into a match one of `keywords` is guaranteed to begin: walk the regex's top-level
/// sequence and find the first suffix whose every possible prefix literal holds a keyword; the
/// answer is the longest the elements before it can be plus the keyword's offset in those
/// literals. `None` when no such suffix exists or an element before it is unbounded.
pub fn keyword_lead(hir: &Hir, keywords: &[String]) -> Option<usize> {
    if keywords.is_empty() {
        return None;
    }
    // Keywords match case-insensitively, so fold `[Pp]`-style classes to one lower-case byte:
    // `(?i)password` then yields one literal instead of 256.
    let folded = fold_case(hir);
    // The top-level sequence, with capture groups and nested sequences spliced in.
    fn flatten(h: &Hir, out: &mut Vec<Hir>) {
        match h.kind() {
            HirKind::Capture(c) => flatten(&c.sub, out),
            HirKind::Concat(v) => v.iter().for_each(|x| flatten(x, out)),
            _ => out.push(h.clone()),
        }
    }
    let mut parts = Vec::new();
    flatten(&folded, &mut parts);
    let mut ex = hir::literal::Extractor::new();
    ex.kind(hir::literal::ExtractKind::Prefix)
        .limit_total(1024)
        .limit_class(64)
        .limit_repeat(64)
        .limit_literal_len(64);
    // Smaller limits for whole suffixes, whose cross products grow fast.
    let mut tail_ex = ex.clone();
    tail_ex.limit_total(128).limit_class(8).limit_repeat(8);
    // The largest offset of a keyword across a set of literals, if each literal holds one.
    let keyword_offset = |seq: hir::literal::Seq| -> Option<usize> {
        let lits = seq.literals()?;
        let offsets: Option<Vec<usize>> = lits
            .iter()
            .map(|l| {
                let low = l.as_bytes().to_ascii_lowercase();
                keywords
                    .iter()
                    .filter_map(|k| find(&low, k.as_bytes()))
                    .min()
            })
            .collect();
        offsets.filter(|o| !o.is_empty())?.into_iter().max()
    };
    let mut lead = 0usize;
    for i in 0..parts.len() {
        // The element alone first, then the rest of the regex (a keyword spanning elements),
        // with limits that keep rule compilation fast; last, an alternation whose every branch
        // has a lead of its own (`(?:name: ...password|"name": "...password")`).
        let found = keyword_offset(ex.extract(&parts[i]))
            .or_else(|| keyword_offset(tail_ex.extract(&Hir::concat(parts[i..].to_vec()))))
            .or_else(|| match parts[i].kind() {
                HirKind::Alternation(branches) => branches
                    .iter()
                    .map(|b| keyword_lead(b, keywords))
                    .collect::<Option<Vec<usize>>>()?
                    .into_iter()
                    .max(),
                _ => None,
            });
        if let Some(off) = found {
            return Some(lead + off);
        }
        lead = lead.checked_add(parts[i].properties().maximum_len()?)?;
    }
    None
}

/// The most positions [`head_sets`] describes.
pub const HEAD_MAX: usize = 24;

/// The bytes a match must begin with: set `i` (256 bits) holds every byte that may be a match's
/// `i`-th, for as many positions (at most [`HEAD_MAX`]) as the regex fixes through its literals,
/// classes, repetitions of them, and alternations (their branches' sets joined, as far as the
/// shortest branch). Look-arounds take no position and are not described. A byte outside its
/// set proves that no match starts there, which is cheaper to check than to search.
pub fn head_sets(hir: &Hir) -> Vec<[u64; 4]> {
    let mut out = Vec::new();
    head(hir, &mut out);
    out.truncate(HEAD_MAX);
    out
}

/// Append to `out` the sets of `hir`'s first positions; whether `hir` is described whole (fixed
/// length, every position's set known), so that what follows it may be appended too.
fn head(hir: &Hir, out: &mut Vec<[u64; 4]>) -> bool {
    if out.len() >= HEAD_MAX {
        return false;
    }
    let set_of = |c: &hir::Class| -> Option<[u64; 4]> {
        let mut set = [0u64; 4];
        let mut add = |lo: u32, hi: u32| {
            for b in lo..=hi {
                set[b as usize / 64] |= 1 << (b % 64);
            }
        };
        match c {
            hir::Class::Bytes(c) => c
                .ranges()
                .iter()
                .for_each(|r| add(r.start().into(), r.end().into())),
            // Past ASCII a character is several bytes: not described.
            hir::Class::Unicode(c) => {
                for r in c.ranges() {
                    if !r.end().is_ascii() {
                        return None;
                    }
                    add(r.start().into(), r.end().into());
                }
            }
        }
        Some(set)
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => {
            for &b in l.0.iter() {
                let mut set = [0u64; 4];
                set[usize::from(b / 64)] |= 1 << (b % 64);
                out.push(set);
            }
            true
        }
        HirKind::Class(c) => match set_of(c) {
            Some(set) => {
                out.push(set);
                true
            }
            None => false,
        },
        HirKind::Capture(c) => head(&c.sub, out),
        HirKind::Concat(hs) => hs.iter().all(|h| head(h, out)),
        HirKind::Repetition(r) => {
            for _ in 0..r.min.min(HEAD_MAX as u32) {
                if !head(&r.sub, out) {
                    return false;
                }
            }
            r.min as usize <= HEAD_MAX && r.max == Some(r.min)
        }
        HirKind::Alternation(hs) => {
            let branches: Vec<(Vec<[u64; 4]>, bool)> = hs
                .iter()
                .map(|h| {
                    let mut v = Vec::new();
                    let whole = head(h, &mut v);
                    (v, whole)
                })
                .collect();
            let n = branches.iter().map(|b| b.0.len()).min().unwrap_or(0);
            for i in 0..n {
                let mut set = [0u64; 4];
                for (v, _) in &branches {
                    for (w, x) in set.iter_mut().zip(v[i]) {
                        *w |= x;
                    }
                }
                out.push(set);
            }
            branches.iter().all(|(v, whole)| *whole && v.len() == n)
        }
    }
}

/// Whether a match whose first positions have the byte sets `head` may start at `hay[p..]`.
pub fn may_start(head: &[[u64; 4]], hay: &[u8], p: usize) -> bool {
    let Some(bytes) = hay.get(p..p + head.len()) else {
        return false;
    };
    head.iter()
        .zip(bytes)
        .all(|(set, &b)| set[usize::from(b / 64)] >> (b % 64) & 1 == 1)
}

/// `hir` with ASCII letters case-folded: a class of exactly one letter in both cases becomes that
/// lower-case letter, and literals are lower-cased. Used only to reason about keywords.
fn fold_case(hir: &Hir) -> Hir {
    // The two single characters of a two-element class, as code points.
    let pair = |c: &hir::Class| -> Option<(u32, u32)> {
        match c {
            hir::Class::Bytes(c) => match c.ranges() {
                [x, y] if x.start() == x.end() && y.start() == y.end() => {
                    Some((u32::from(x.start()), u32::from(y.start())))
                }
                _ => None,
            },
            hir::Class::Unicode(c) => match c.ranges() {
                [x, y] if x.start() == x.end() && y.start() == y.end() => {
                    Some((u32::from(x.start()), u32::from(y.start())))
                }
                _ => None,
            },
        }
    };
    let letter = |(a, b): (u32, u32)| -> Option<u8> {
        let (a, b) = (u8::try_from(a).ok()?, u8::try_from(b).ok()?);
        (a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) && a != b)
            .then(|| a.to_ascii_lowercase())
    };
    match hir.kind() {
        HirKind::Literal(l) => Hir::literal(l.0.to_ascii_lowercase()),
        HirKind::Class(c) => match pair(c).and_then(letter) {
            Some(b) => Hir::literal([b]),
            None => hir.clone(),
        },
        HirKind::Repetition(r) => Hir::repetition(hir::Repetition {
            sub: Box::new(fold_case(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(hir::Capture {
            sub: Box::new(fold_case(&c.sub)),
            ..c.clone()
        }),
        HirKind::Concat(hs) => Hir::concat(hs.iter().map(fold_case).collect()),
        HirKind::Alternation(hs) => Hir::alternation(hs.iter().map(fold_case).collect()),
        HirKind::Empty | HirKind::Look(_) => hir.clone(),
    }
}

/// Whether any match of `hir` can contain a `\n` byte.
pub fn can_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.contains(&b'\n'),
        HirKind::Class(hir::Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Class(hir::Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Repetition(r) => can_match_newline(&r.sub),
        HirKind::Capture(c) => can_match_newline(&c.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().any(can_match_newline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(p: &str) -> Vec<String> {
        derive_keywords(&parse_pattern(p).unwrap())
    }

    #[test]
    fn derives_prefix_keywords() {
        assert_eq!(kw(r"sk_live_[0-9a-z]{24}"), vec!["sk_live_"]);
        assert_eq!(kw(r"(?:AKIA|ASIA)[A-Z0-9]{16}"), vec!["akia", "asia"]);
        assert!(kw(r"[a-f0-9]{32}").is_empty());
        assert!(kw(r"a[0-9]+").is_empty(), "too short to be selective");
    }

    #[test]
    fn line_start_detection() {
        let at = |p: &str| starts_at_line_start(&parse_pattern(p).unwrap());
        assert!(at(r"(?im)^[ \t]*token[=:](\S+)"));
        assert!(at(r"(?m)(^key)=x"));
        assert!(!at(r"^key=x"), "without (?m), ^ is the haystack's start");
        assert!(!at(r"(?m)x^key"));
        assert!(!at(r"(?m)^a|b"), "one branch only");
        assert!(
            !at(r"(?mR)^key"),
            "CRLF mode: a start of line can follow \r"
        );
    }

    #[test]
    fn head_sets_from_regex() {
        let head = |p: &str| head_sets(&parse_pattern(p).unwrap());
        let bytes = |set: &[u64; 4]| -> Vec<u8> {
            (0..=255u8)
                .filter(|&b| set[usize::from(b / 64)] >> (b % 64) & 1 == 1)
                .collect()
        };
        let h = head(r"\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b");
        assert_eq!(h.len(), HEAD_MAX, "3 + 14 + 1 + hex, cut at the maximum");
        assert_eq!(bytes(&h[0]), b"p");
        assert_eq!(bytes(&h[3]).len(), 62);
        assert_eq!(bytes(&h[17]), b".");
        assert_eq!(bytes(&h[18]), b"0123456789abcdef");
        // Alternation: joined as far as the shortest branch; (?i) letters take both cases.
        let h = head(r"(?i:https?|ftps?|ssh)://");
        assert_eq!(h.len(), 3);
        assert_eq!(bytes(&h[0]), b"FHSfhs");
        assert_eq!(bytes(&h[2]), b"HPThpt");
        // A variable-length element ends the head after its fixed part.
        assert_eq!(head(r"ab{2,5}c").len(), 3);
        assert_eq!(head(r"[a-z]{0,40}secret").len(), 0);
        assert_eq!(head(r"(?m)^key=").len(), 4, "look-arounds take no position");
        assert_eq!(
            head(r"(?u)[é-ü]x").len(),
            0,
            "non-ASCII classes are not described"
        );
        // The check: bytes outside a set, or the haystack's end, rule a start out.
        let h = head(r"ab[0-9]");
        assert!(may_start(&h, b"xab7", 1));
        assert!(!may_start(&h, b"xab7", 0));
        assert!(!may_start(&h, b"xabc", 1));
        assert!(!may_start(&h, b"xab", 1), "too short for the head");
        assert!(may_start(&[], b"", 0), "an empty head rules nothing out");
    }

    #[test]
    fn keyword_lead_from_regex() {
        let lead = |p: &str, k: &[&str]| {
            let k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            keyword_lead(&parse_pattern(p).unwrap(), &k)
        };
        assert_eq!(lead(r"\b(AKIA[A-Z0-9]{16})\b", &["akia"]), Some(0));
        assert_eq!(
            lead(r"(?i)(?:api|app)_datadog_key=([a-f0-9]{32})", &["datadog"]),
            Some(4)
        );
        assert_eq!(
            lead(r"[a-z_]{0,40}(?i:password)\s*=\s*(\S+)", &["password"]),
            Some(40)
        );
        assert_eq!(
            lead(r"[a-z_]+password=(\S+)", &["password"]),
            None,
            "unbounded lead"
        );
        assert_eq!(
            lead(
                r"(?:name: [a-z]{0,9}secret|key=[a-z]{0,3}token)=(\S+)",
                &["secret", "token"]
            ),
            Some(15),
            "the longest lead of the branches"
        );
        assert_eq!(
            lead(
                r"(?:name: [a-z]{0,9}secret|key=[a-z]*token)=(\S+)",
                &["secret", "token"]
            ),
            None,
            "a branch with an unbounded lead"
        );
        assert_eq!(
            lead(r"(\d{4})[a-z]+", &["x"]),
            None,
            "no keyword in any literal"
        );
    }

    #[test]
    fn newline_detection() {
        let nl = |p: &str| can_match_newline(&parse_pattern(p).unwrap());
        assert!(!nl(r"AKIA[A-Z0-9]{16}"));
        assert!(!nl(r"a.b"));
        assert!(nl(r"(?s)a.b"));
        assert!(nl(r"a\sb"));
        assert!(!nl(r"a[ \t]b"));
        assert!(nl(r"-----BEGIN[\s\S]+END"));
    }
}
