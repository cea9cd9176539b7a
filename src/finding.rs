//! Findings: an engine [`Match`] turned into what a user sees. This module owns the location
//! arithmetic (1-based lines and columns, columns counted in characters), the fingerprint, and
//! redaction: a [`Finding`] never holds a secret in clear unless the scan was asked for that
//! (`--no-redact`), so nothing downstream (reports, logs, `Debug`) can leak it by accident.
//!
//! Flow position: `engine -> finding -> policy -> report`.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::rules::{Confidence, Rule, RuleSet, Severity};
use crate::verify::Match;

/// One reported secret.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's human name.
    pub rule_name: String,
    /// Impact of a leak.
    pub severity: Severity,
    /// Likelihood that the match is real.
    pub confidence: Confidence,
    /// Where: a path relative to the scan root, or `<stdin>`.
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: u64,
    /// 1-based column (in characters) of the secret's first character.
    pub column: u64,
    /// 1-based line of the secret's last byte.
    pub end_line: u64,
    /// 1-based column of the secret's last character (inclusive).
    pub end_column: u64,
    /// Byte offset of the secret from the start of the file or stream.
    pub offset: u64,
    /// The secret, redacted unless the scan was run with `--no-redact`.
    pub secret: String,
    /// Stable identity of (rule, path, secret); see [`fingerprint`].
    pub fingerprint: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// The line around the secret, with every secret on it redacted (human output only).
    #[serde(skip)]
    pub context: String,
    /// The layers decoded to reach the secret, outermost first (`base64`, `base64>gzip`), when it
    /// was not in clear text; the location is then the encoded run's (see [`crate::content`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    /// Git history: the commit that introduced the blob at `path`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub git: Option<crate::source::git::CommitInfo>,
    /// Git history: the blob's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// Git history with `--all-occurrences`: the other commits and paths holding the blob.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<crate::source::git::Occurrence>,
    /// What the policy said: inline comment and secret matches (set by [`FindingBuilder`]), then
    /// `suppression` and `expired_exceptions` (set by [`crate::policy::Enforcer`]).
    #[serde(flatten)]
    pub policy: crate::policy::Marks,
}

/// The stable fingerprint of a finding: the first 32 hex digits of
/// `SHA-256(rule_id || 0x00 || path || 0x00 || SHA-256(secret))`. It survives line moves and
/// re-runs and changes when the secret changes; it never reveals the secret.
pub fn fingerprint(rule_id: &str, path: &str, secret: &[u8]) -> String {
    let secret_hash = Sha256::digest(secret);
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(secret_hash);
    hex(&h.finalize()[..16])
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// The redacted form of a secret: a short prefix (at most 4 characters and a quarter of the
/// secret) and a marker.
pub fn redact(secret: &[u8]) -> String {
    let s = String::from_utf8_lossy(secret);
    let n = s.chars().count();
    let keep = (n / 4).min(4);
    let prefix: String = s.chars().take(keep).filter(|c| !c.is_control()).collect();
    format!("{prefix}****")
}

/// Longest context line shown, in characters on each side of the secret.
const CONTEXT_CHARS: usize = 60;

/// Walks a buffer forward, turning byte offsets into line and character columns.
#[derive(Clone, Debug)]
pub struct LineIndex {
    pos: usize,
    line: u64,
    line_start: usize,
    /// Characters before `line_start` on its line that lie before the buffer (streams).
    carry_chars: u64,
}

impl LineIndex {
    /// Start at offset 0 of a buffer whose first byte is on `line`, preceded on that line by
    /// `carry_chars` characters that are not in the buffer.
    pub fn new(line: u64, carry_chars: u64) -> LineIndex {
        LineIndex {
            pos: 0,
            line,
            line_start: 0,
            carry_chars,
        }
    }

    /// Advance to `off` (not before the last position) and return its (line, column).
    pub fn advance(&mut self, buf: &[u8], off: usize) -> (u64, u64) {
        debug_assert!(off >= self.pos);
        let off = off.min(buf.len());
        let span = &buf[self.pos..off];
        if let Some(last) = memchr::memrchr(b'\n', span) {
            self.line += count_newlines(span);
            self.line_start = self.pos + last + 1;
            self.carry_chars = 0;
        }
        self.pos = off;
        let col = self.carry_chars + char_count(&buf[self.line_start..off]) + 1;
        (self.line, col)
    }

    /// The line and the carried characters at the end of `buf`, for the next buffer of a stream.
    pub fn at_end(&mut self, buf: &[u8]) -> (u64, u64) {
        let (line, col) = self.advance(buf, buf.len());
        (line, col - 1)
    }
}

/// Number of `\n` bytes in `b`. Summing byte-wide flags in blocks of 255 lets the compiler use
/// full-width SIMD adds; iterating over matches would cost a branch per line.
fn count_newlines(b: &[u8]) -> u64 {
    b.chunks(255)
        .map(|c| {
            u64::from(
                c.iter()
                    .fold(0u8, |n, &x| n.wrapping_add(u8::from(x == b'\n'))),
            )
        })
        .sum()
}

/// Number of UTF-8 characters (non-continuation bytes) in `b`.
fn char_count(b: &[u8]) -> u64 {
    b.iter().filter(|&&x| (x & 0xC0) != 0x80).count() as u64
}

/// Options that shape findings.
#[derive(Clone, Debug)]
pub struct FindingOptions {
    /// Show secrets in clear.
    pub no_redact: bool,
    /// The policy whose `regexes` and `stopwords` entries are tried on each raw secret, before
    /// it is redacted (see [`crate::policy::Policy::secret_hits`]).
    pub policy: Option<std::sync::Arc<crate::policy::Policy>>,
}

/// Turns engine matches into findings for one scan's rules and options.
#[derive(Clone, Debug)]
pub struct FindingBuilder<'a> {
    /// The rules the matches refer to.
    pub rules: &'a RuleSet,
    /// How findings are shaped.
    pub opts: FindingOptions,
}

impl FindingBuilder<'_> {
    /// Turn the matches of one buffer into findings. `matches` are sorted by secret start (as
    /// the engine returns them); `base` is the buffer's offset in its file or stream, `lines` its
    /// line index positioned at the buffer start.
    pub fn build(
        &self,
        path: &str,
        buf: &[u8],
        base: u64,
        lines: &mut LineIndex,
        matches: &[Match],
        out: &mut Vec<Finding>,
    ) {
        let (rules, opts) = (self.rules, &self.opts);
        for m in matches {
            let rule: &Rule = rules.get(m.rule as usize);
            let secret = &buf[m.secret_start..m.secret_end];
            let (line, column) = lines.advance(buf, m.secret_start);
            let mut end_idx = lines.clone();
            let last = m.secret_end - 1;
            let (end_line, end_column) = end_idx.advance(buf, last);
            let shown = if opts.no_redact {
                String::from_utf8_lossy(secret).into_owned()
            } else {
                redact(secret)
            };
            out.push(Finding {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                severity: rule.severity,
                confidence: rule.confidence,
                path: path.to_string(),
                line,
                column,
                end_line,
                end_column,
                offset: base + m.secret_start as u64,
                fingerprint: fingerprint(&rule.id, path, secret),
                entropy: (m.entropy * 100.0).round() / 100.0,
                context: context_line(buf, m, matches, opts),
                secret: shown,
                decoded: None,
                git: None,
                blob: None,
                occurrences: Vec::new(),
                policy: crate::policy::Marks {
                    inline: crate::policy::inline_allow(buf, m.secret_start, m.secret_end),
                    secret_hits: opts
                        .policy
                        .as_ref()
                        .map_or_else(Vec::new, |p| p.secret_hits(secret)),
                    ..Default::default()
                },
            });
        }
    }
}

/// The line holding the start of `m`'s secret, trimmed around it, with every secret that touches
/// it redacted (unless `no_redact`).
fn context_line(buf: &[u8], m: &Match, all: &[Match], opts: &FindingOptions) -> String {
    // Only bytes near the secret can be shown, so look no further (keeps many findings on one
    // long line linear rather than quadratic).
    const REACH: usize = CONTEXT_CHARS * 4;
    let from = m.secret_start.saturating_sub(REACH);
    let to = m.secret_start.saturating_add(REACH).min(buf.len());
    let ls = memchr::memrchr(b'\n', &buf[from..m.secret_start]).map_or(from, |i| from + i + 1);
    let le = memchr::memchr(b'\n', &buf[m.secret_start..to]).map_or(to, |i| m.secret_start + i);
    let mut out = String::new();
    let mut center = 0;
    let mut at = ls;
    // Secrets are disjoint and sorted by start, hence also by end: those on the line are a run.
    let first = all.partition_point(|o| o.secret_end <= ls);
    let last = all.partition_point(|o| o.secret_start < le);
    for o in &all[first..last.max(first)] {
        if o.secret_start < at {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&buf[at..o.secret_start]));
        if o.secret_start == m.secret_start {
            center = out.chars().count();
        }
        if opts.no_redact {
            out.push_str(&String::from_utf8_lossy(
                &buf[o.secret_start..o.secret_end.min(le)],
            ));
        } else {
            out.push_str(&redact(&buf[o.secret_start..o.secret_end]));
        }
        at = o.secret_end.min(le);
    }
    out.push_str(&String::from_utf8_lossy(&buf[at.min(le)..le]));
    let chars: Vec<char> = out
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let lead = chars
        .iter()
        .take_while(|c| c.is_whitespace())
        .count()
        .min(center);
    let from = center.saturating_sub(CONTEXT_CHARS).max(lead);
    let to = (center + CONTEXT_CHARS).min(chars.len());
    let mut shown = String::new();
    if from > lead {
        shown.push('…');
    }
    shown.extend(&chars[from..to]);
    let mut shown = shown.trim_end().to_string();
    if to < chars.len() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_most() {
        let key = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
        assert_eq!(redact(key.as_bytes()), "AKIA****");
        assert_eq!(redact(b"abc"), "****");
        assert_eq!(redact(b"abcdefgh"), "ab****");
    }

    #[test]
    fn fingerprint_is_stable_and_secret_sensitive() {
        let a = fingerprint("r", "p", b"s1");
        assert_eq!(a, fingerprint("r", "p", b"s1"));
        assert_ne!(a, fingerprint("r", "p", b"s2"));
        assert_ne!(a, fingerprint("r", "q", b"s1"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn line_index_counts_chars() {
        let buf = "ab\nçd\nxyz".as_bytes();
        let mut li = LineIndex::new(1, 0);
        assert_eq!(li.advance(buf, 1), (1, 2));
        assert_eq!(li.advance(buf, 3), (2, 1));
        assert_eq!(li.advance(buf, 5), (2, 2), "ç is two bytes, one column");
        assert_eq!(li.advance(buf, 8), (3, 2));
        let mut li = LineIndex::new(7, 10);
        assert_eq!(li.advance(b"abc", 2), (7, 13));
    }
}
