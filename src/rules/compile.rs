//! Compiling a [`RuleSpec`] into a [`Rule`]: the regex (ASCII/bytes mode), its keywords (declared,
//! or derived from the regex's required prefix literals), the window the engine searches around a
//! keyword hit, and the checks on the captured secret.

use regex_automata::meta;
use regex_syntax::hir::{self, Hir, HirKind};

use super::spec::{Example, RuleSpec};
use super::{Confidence, RuleError, Severity};
use crate::verify::{entropy, Validator};

/// Window used for rules whose regex has no upper bound on its match length and that set no
/// `max_len`: a match longer than this is not reported.
pub const DEFAULT_MAX_LEN: usize = 512;

/// Hard cap on any rule's window, so that a rule cannot make the engine search whole files.
pub const MAX_WINDOW: usize = 64 * 1024;

/// A compiled rule. Cheap to share: workers hold the [`crate::RuleSet`] behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// What it finds.
    pub description: String,
    /// Impact of a leak.
    pub severity: Severity,
    /// Likelihood a match is real.
    pub confidence: Confidence,
    /// The file the rule came from (`patterns/x.toml` for built-ins).
    pub file: String,
    /// Lower-case prefilter literals; empty for a rule that must scan everything.
    pub keywords: Vec<String>,
    /// True if `keywords` were derived from the regex rather than declared.
    pub keywords_derived: bool,
    /// The regex as written.
    pub pattern: String,
    /// Texts the rule must find.
    pub examples: Vec<Example>,
    /// Texts the rule must not find.
    pub negative_examples: Vec<Example>,
    pub(crate) regex: LazyRegex,
    pub(crate) secret_group: usize,
    /// The longest match the engine looks for, in bytes: the search window on each side of a
    /// keyword hit.
    pub(crate) window: usize,
    /// At most how many bytes after the start of any match one of the rule's keywords begins,
    /// when that can be read off the regex (`None`: anywhere in the match). With it, the engine
    /// tries anchored matches at the few positions before each keyword hit instead of searching
    /// a window around it.
    pub(crate) lead: Option<usize>,
    /// Whether a match can span a line break (decides when a streamed match is final).
    pub(crate) multiline: bool,
    min_entropy: Option<f64>,
    min_len: usize,
    validator: Option<Validator>,
    allow_regexes: Vec<LazyRegex>,
    stopwords: Vec<String>,
}

/// A regex compiled on first use. Built-in rules are compiled only when a scan first needs them
/// (their keyword hit), which keeps start-up and memory proportional to what a scan touches;
/// `rules check` in the test suite compiles every one of them. User rules are compiled when
/// loaded, so that a bad one is reported before the scan starts.
#[derive(Clone, Debug)]
pub(crate) struct LazyRegex {
    hir: std::sync::Arc<Hir>,
    cell: std::sync::OnceLock<meta::Regex>,
}

impl LazyRegex {
    fn new(hir: Hir) -> LazyRegex {
        LazyRegex {
            hir: std::sync::Arc::new(hir),
            cell: std::sync::OnceLock::new(),
        }
    }

    /// Compile now, reporting failure (used for user rules at load time).
    fn force(&self) -> Result<&meta::Regex, String> {
        if let Some(r) = self.cell.get() {
            return Ok(r);
        }
        let r = build_regex(&self.hir)?;
        Ok(self.cell.get_or_init(|| r))
    }

    /// The compiled regex.
    pub(crate) fn get(&self) -> &meta::Regex {
        self.cell.get_or_init(|| {
            build_regex(&self.hir).expect(
                "a rule's regex compiles: user rules are compiled when loaded, built-in ones by rules check in the test suite",
            )
        })
    }
}

/// Parse a pattern in the rule dialect: ASCII classes, byte-oriented (`(?u)` opts back in).
pub(crate) fn parse_pattern(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| format!("invalid regex: {e}"))
}

/// Compile a parsed pattern for searching bytes.
pub(crate) fn build_regex(hir: &Hir) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(20 * (1 << 20)))
                .hybrid_cache_capacity(2 * (1 << 20)),
        )
        .build_from_hir(hir)
        .map_err(|e| format!("regex too large or unsupported: {e}"))
}

impl Rule {
    /// Compile and validate one rule from `file`.
    pub(crate) fn compile(file: &str, spec: RuleSpec, eager: bool) -> Result<Rule, RuleError> {
        let err = |msg: String| RuleError::Rule {
            file: file.to_string(),
            id: spec.id.clone(),
            msg,
        };
        if spec.id.trim().is_empty() {
            return Err(err("empty id".into()));
        }
        let hir = parse_pattern(&spec.regex).map_err(&err)?;
        let groups = hir.properties().explicit_captures_len();
        let secret_group = match spec.secret_group {
            Some(g) if g > groups => {
                return Err(err(format!(
                    "secret_group is {g} but the regex has {groups} capture group(s)"
                )))
            }
            Some(g) => g,
            None => usize::from(groups > 0),
        };
        let window = match (hir.properties().maximum_len(), spec.max_len) {
            (Some(n), _) => n,
            (None, Some(m)) => m,
            (None, None) => DEFAULT_MAX_LEN,
        }
        .clamp(1, MAX_WINDOW);

        let mut keywords: Vec<String> = Vec::new();
        for k in &spec.keywords {
            let k = k.to_ascii_lowercase();
            if k.is_empty() {
                return Err(err("empty keyword".into()));
            }
            if !keywords.contains(&k) {
                keywords.push(k);
            }
        }
        let keywords_derived = keywords.is_empty();
        if keywords_derived {
            keywords = derive_keywords(&hir);
        }

        let validator = match &spec.validate {
            None => None,
            Some(name) => Some(Validator::parse(name).ok_or_else(|| {
                err(format!(
                    "unknown validator '{name}' (known: {})",
                    Validator::NAMES.join(", ")
                ))
            })?),
        };
        if let Some(e) = spec.entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(err(format!("entropy {e} is outside 0..8 bits per byte")));
            }
        }
        let mut allow_regexes = Vec::new();
        let mut stopwords = Vec::new();
        if let Some(al) = &spec.allowlist {
            for r in &al.regexes {
                let h = parse_pattern(r).map_err(|m| err(format!("allowlist: {m}")))?;
                allow_regexes.push(LazyRegex::new(h));
            }
            stopwords = al
                .stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect();
        }
        let lead = keyword_lead(&hir, &keywords);
        let multiline = can_match_newline(&hir);
        let regex = LazyRegex::new(hir);
        if eager {
            regex.force().map_err(&err)?;
            for a in &allow_regexes {
                a.force().map_err(|m| err(format!("allowlist: {m}")))?;
            }
        }
        Ok(Rule {
            lead,
            name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
            id: spec.id,
            description: spec.description,
            severity: spec.severity,
            confidence: spec.confidence,
            file: file.to_string(),
            keywords,
            keywords_derived,
            pattern: spec.regex,
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            multiline,
            regex,
            secret_group,
            window,
            min_entropy: spec.entropy,
            min_len: spec.min_len.unwrap_or(0),
            validator,
            allow_regexes,
            stopwords,
        })
    }

    /// How far into a match a keyword is guaranteed to begin, if known (see the field).
    pub fn lead(&self) -> Option<usize> {
        self.lead
    }

    /// Whether a captured secret passes this rule's checks; returns its entropy if it does.
    pub(crate) fn accept_secret(&self, secret: &[u8]) -> Option<f64> {
        if secret.len() < self.min_len {
            return None;
        }
        let h = entropy(secret);
        if let Some(min) = self.min_entropy {
            if h < min {
                return None;
            }
        }
        if let Some(v) = self.validator {
            if !v.check(secret) {
                return None;
            }
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if self
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
            {
                return None;
            }
        }
        if self.allow_regexes.iter().any(|r| r.get().is_match(secret)) {
            return None;
        }
        Some(h)
    }
}

/// Keywords for a rule that declares none: the regex's required prefix literals, if there are
/// few and they are long enough to be selective. Empty means the rule scans every byte.
fn derive_keywords(hir: &Hir) -> Vec<String> {
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
fn keyword_lead(hir: &Hir, keywords: &[String]) -> Option<usize> {
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
                    .filter_map(|k| memchr::memmem::find(&low, k.as_bytes()))
                    .min()
            })
            .collect();
        offsets.filter(|o| !o.is_empty())?.into_iter().max()
    };
    let mut lead = 0usize;
    for i in 0..parts.len() {
        // The element alone first, then the rest of the regex (a keyword spanning elements),
        // with limits that keep rule compilation fast.
        let found = keyword_offset(ex.extract(&parts[i]))
            .or_else(|| keyword_offset(tail_ex.extract(&Hir::concat(parts[i..].to_vec()))));
        if let Some(off) = found {
            return Some(lead + off);
        }
        lead = lead.checked_add(parts[i].properties().maximum_len()?)?;
    }
    None
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
fn can_match_newline(hir: &Hir) -> bool {
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
