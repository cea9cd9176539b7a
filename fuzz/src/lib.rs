//! Invariant checks shared by the fuzz targets: what must hold for any engine result, checked
//! from outside the engine. [`Oracle`] re-runs every rule's regex (compiled here, in the same
//! dialect as leakhound's rule compiler) on each reported match; [`check_matches`] checks spans,
//! order and overlap; [`check_findings`] recomputes lines and columns independently ([`Lines`]).
//!
//! Flow position: none; this crate drives `engine -> finding` the way a user of the library does.

use leakhound::finding::Finding;
use leakhound::rules::RuleSet;
use leakhound::verify::{entropy, Match};
use regex_automata::{meta, Anchored, Input};

/// Each rule's regex compiled independently of leakhound: ASCII/bytes mode, as
/// `patterns/FORMAT.md` documents the dialect.
pub struct Oracle {
    regexes: Vec<meta::Regex>,
}

impl Oracle {
    /// Compile every rule of `rules`. leakhound accepted these patterns, so they must compile here
    /// too; a failure is reported as a panic (a dialect mismatch is worth knowing about).
    pub fn new(rules: &RuleSet) -> Oracle {
        let regexes = rules
            .rules()
            .iter()
            .map(|r| {
                let hir = regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(&r.pattern)
                    .unwrap_or_else(|e| {
                        panic!("rule {}: leakhound accepted {:?}: {e}", r.id, r.pattern)
                    });
                meta::Builder::new()
                    .configure(
                        meta::Config::new()
                            .utf8_empty(false)
                            .nfa_size_limit(Some(20 * (1 << 20))),
                    )
                    .build_from_hir(&hir)
                    .unwrap_or_else(|e| panic!("rule {}: {e}", r.id))
            })
            .collect();
        Oracle { regexes }
    }

    /// The regex of rule `ri`, anchored at `m.start`, run on `hay[m.start..m.end]` (with the
    /// bytes around it visible to `\b`, `^` and `$`) must match exactly `m.start..m.end`, and the
    /// secret must be the span of capture group `group` (or, with `None`, of some group).
    pub fn recheck(&self, hay: &[u8], m: &Match, group: Option<usize>) {
        let re = &self.regexes[m.rule as usize];
        let mut caps = re.create_captures();
        let input = Input::new(hay).span(m.start..m.end).anchored(Anchored::Yes);
        re.search_captures(&input, &mut caps);
        let whole = caps.get_match().unwrap_or_else(|| {
            panic!(
                "{m:?}: the rule's regex does not match {:?}",
                lossy(&hay[m.start..m.end])
            )
        });
        assert_eq!(
            (whole.start(), whole.end()),
            (m.start, m.end),
            "{m:?}: the regex re-run gives another match"
        );
        let secret = Some(m.secret_start..m.secret_end);
        match group {
            Some(g) => assert_eq!(
                caps.get_group(g).map(|s| s.range()),
                secret,
                "{m:?}: the secret is not group {g}"
            ),
            None => assert!(
                (0..caps.group_len()).any(|g| caps.get_group(g).map(|s| s.range()) == secret),
                "{m:?}: the secret is no capture group of the match"
            ),
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The engine's result contract for `matches` of `rules` on `hay` (see `src/engine.rs`): spans
/// inside the input with the secret inside the match; sorted by (secret start, secret end, rule);
/// matches of one rule disjoint; secrets disjoint (one secret, one finding); entropy as
/// `verify::entropy` computes it; every match holds one of its rule's keywords; and the rule's
/// regex, re-run by `oracle`, gives the same match and secret.
pub fn check_matches(
    rules: &RuleSet,
    oracle: &Oracle,
    hay: &[u8],
    matches: &[Match],
    group: Option<usize>,
) {
    let mut rule_end = vec![0usize; rules.len()];
    let mut secrets_end = 0;
    let lower = hay.to_ascii_lowercase();
    for (i, m) in matches.iter().enumerate() {
        let r = m.rule as usize;
        assert!(r < rules.len(), "{m:?}: no such rule");
        assert!(
            m.start <= m.secret_start
                && m.secret_start < m.secret_end
                && m.secret_end <= m.end
                && m.end <= hay.len(),
            "{m:?}: span outside the input ({} bytes) or secret outside the match",
            hay.len()
        );
        if i > 0 {
            let p = &matches[i - 1];
            assert!(
                (p.secret_start, p.secret_end, p.rule) < (m.secret_start, m.secret_end, m.rule),
                "not sorted: {p:?} before {m:?}"
            );
        }
        assert!(
            m.secret_start >= secrets_end,
            "{m:?}: its secret overlaps an earlier finding's (ends at {secrets_end})"
        );
        secrets_end = m.secret_end;
        assert!(
            m.start >= rule_end[r],
            "{m:?}: overlaps an earlier match of the same rule (ends at {})",
            rule_end[r]
        );
        rule_end[r] = m.end;
        let secret = &hay[m.secret_start..m.secret_end];
        assert_eq!(
            m.entropy.to_bits(),
            entropy(secret).to_bits(),
            "{m:?}: entropy"
        );
        let rule = rules.get(r);
        if !rule.keywords.is_empty() {
            let text = &lower[m.start..m.end];
            assert!(
                rule.keywords
                    .iter()
                    .any(|k| text.windows(k.len()).any(|w| w == k.as_bytes())),
                "{m:?}: holds none of the keywords {:?}",
                rule.keywords
            );
        }
        oracle.recheck(hay, m, group);
    }
}

/// Line and column arithmetic for one buffer, done the slow, obvious way once (positions of line
/// breaks and a running count of characters: bytes that are not UTF-8 continuation bytes), then
/// answered by lookup, so that checking many findings stays linear.
pub struct Lines {
    /// Offsets of the `\n` bytes.
    breaks: Vec<usize>,
    /// `chars[i]`: characters in `hay[..i]`.
    chars: Vec<u64>,
}

impl Lines {
    pub fn new(hay: &[u8]) -> Lines {
        let breaks = (0..hay.len()).filter(|&i| hay[i] == b'\n').collect();
        let mut chars = Vec::with_capacity(hay.len() + 1);
        let mut n = 0;
        chars.push(0);
        for &b in hay {
            n += u64::from(b & 0xC0 != 0x80);
            chars.push(n);
        }
        Lines { breaks, chars }
    }

    /// Start and end (exclusive, before its `\n`) of the line holding byte `off`.
    pub fn line_span(&self, off: usize) -> (usize, usize) {
        let k = self.breaks.partition_point(|&b| b < off);
        let start = if k == 0 { 0 } else { self.breaks[k - 1] + 1 };
        let end = self.breaks.get(k).copied().unwrap_or(self.chars.len() - 1);
        (start, end)
    }

    /// 1-based line and column (in characters) of byte `off`.
    pub fn line_col(&self, off: usize) -> (u64, u64) {
        let k = self.breaks.partition_point(|&b| b < off);
        let start = if k == 0 { 0 } else { self.breaks[k - 1] + 1 };
        (k as u64 + 1, self.chars[off] - self.chars[start] + 1)
    }
}

/// Findings built with `no_redact` from `matches` on `hay` (at stream offset 0) say what the
/// matches say: rule, offset, the secret's bytes, and its first and last character's position.
pub fn check_findings(rules: &RuleSet, hay: &[u8], matches: &[Match], findings: &[Finding]) {
    assert_eq!(findings.len(), matches.len(), "one finding per match");
    let lines = Lines::new(hay);
    for (m, f) in matches.iter().zip(findings) {
        assert_eq!(f.rule_id, rules.get(m.rule as usize).id, "{m:?}");
        assert_eq!(f.offset, m.secret_start as u64, "{m:?}");
        assert_eq!(
            f.secret,
            lossy(&hay[m.secret_start..m.secret_end]),
            "{m:?}: secret"
        );
        assert_eq!(
            (f.line, f.column),
            lines.line_col(m.secret_start),
            "{m:?}: start"
        );
        assert_eq!(
            (f.end_line, f.end_column),
            lines.line_col(m.secret_end - 1),
            "{m:?}: end"
        );
    }
}

/// The fields of a finding that the stream and the whole-buffer scan must agree on.
pub type Key = (String, u64, u64, u64, u64, u64, String);

/// [`Key`]s of `findings`, sorted by offset and rule.
pub fn keys(findings: &[Finding]) -> Vec<Key> {
    let mut k: Vec<Key> = findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.offset,
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                f.secret.clone(),
            )
        })
        .collect();
    k.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    k
}

/// A scanner over the rules of `toml`, compiled once per process (`cell` is the target's static).
pub fn scanner_once(
    cell: &'static std::sync::OnceLock<std::sync::Arc<leakhound::Scanner>>,
    name: &str,
    toml: &str,
) -> &'static std::sync::Arc<leakhound::Scanner> {
    cell.get_or_init(|| {
        let rules = leakhound::rules::RuleSet::from_toml(name, toml).expect("the rules compile");
        std::sync::Arc::new(leakhound::Scanner::new(std::sync::Arc::new(rules)))
    })
}

/// Standard padded base64 of `data`, written the obvious way (the oracle for the decoder).
pub fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            o.push(if k <= c.len() {
                A[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    o
}
