//! Compiling a [`RuleSpec`] into a [`Rule`]: the regex (ASCII/bytes mode), its keywords (declared,
//! or derived from the regex's required prefix literals), the window the engine searches around a
//! keyword hit, and the checks on the captured secret.

use regex_automata::meta;
use regex_syntax::hir::Hir;

use super::analysis::{analyze, normalize_keywords, parse_pattern, Facts};
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
    /// The opt-in pack the rule belongs to (`pii`, `infra`), if any.
    pub pack: Option<String>,
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
    /// The byte sets a match must begin with (see [`super::analysis::head_sets`]): checked
    /// before each anchored attempt, which most of them then need not make.
    pub(crate) head: Box<[[u64; 4]]>,
    /// Every match starts at a start of line and none spans one (see
    /// [`super::analysis::starts_at_line_start`]): one anchored attempt per line with hits.
    pub(crate) line_start: bool,
    min_entropy: Option<f64>,
    min_len: usize,
    validator: Option<Validator>,
    allow_regexes: Vec<LazyRegex>,
    stopwords: Vec<String>,
}

/// A regex compiled on first use. Built-in rules are compiled only when a scan first needs them
/// (their keyword hit), which keeps start-up and memory proportional to what a scan touches;
/// `rules check` in the test suite compiles every one of them, and `build.rs` parses every
/// built-in pattern. User rules are compiled when loaded, so that a bad one is reported before
/// the scan starts.
#[derive(Clone, Debug)]
pub(crate) struct LazyRegex {
    pattern: std::sync::Arc<str>,
    cell: std::sync::OnceLock<meta::Regex>,
}

impl LazyRegex {
    fn new(pattern: &str) -> LazyRegex {
        LazyRegex {
            pattern: pattern.into(),
            cell: std::sync::OnceLock::new(),
        }
    }

    /// Compile now, reporting failure (used for user rules at load time).
    fn force(&self) -> Result<&meta::Regex, String> {
        if let Some(r) = self.cell.get() {
            return Ok(r);
        }
        let r = build_regex(&parse_pattern(&self.pattern)?)?;
        Ok(self.cell.get_or_init(|| r))
    }

    /// The compiled regex.
    pub(crate) fn get(&self) -> &meta::Regex {
        self.cell.get_or_init(|| {
            parse_pattern(&self.pattern).and_then(|h| build_regex(&h)).expect(
                "a rule's regex compiles: user rules are compiled when loaded, built-in ones are parsed by build.rs and compiled by rules check in the test suite",
            )
        })
    }
}

/// What `build.rs` read off a built-in rule's regex (see [`Facts`]), so that loading the
/// built-in rules parses no regex.
#[derive(Debug)]
pub(crate) struct BuiltinFacts {
    /// The rule's id, to check that the facts belong to it.
    pub(crate) id: &'static str,
    pub(crate) groups: usize,
    pub(crate) max_len: Option<usize>,
    pub(crate) lead: Option<usize>,
    pub(crate) multiline: bool,
    pub(crate) derived_keywords: &'static [&'static str],
    pub(crate) head: &'static [[u64; 4]],
    pub(crate) line_start: bool,
}

impl BuiltinFacts {
    fn facts(&self) -> Facts {
        Facts {
            groups: self.groups,
            max_len: self.max_len,
            lead: self.lead,
            multiline: self.multiline,
            derived_keywords: self
                .derived_keywords
                .iter()
                .map(|k| k.to_string())
                .collect(),
            head: self.head.to_vec(),
            line_start: self.line_start,
        }
    }
}

/// Compile a parsed pattern for searching bytes.
pub(crate) fn build_regex(hir: &Hir) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(20 * (1 << 20)))
                .hybrid_cache_capacity(2 * (1 << 20))
                // Captures are only taken on a confirmed match's own span, a few dozen bytes,
                // where the bounded backtracker is quick; the one-pass DFA would cost more to
                // build (7.5% of the instructions of scanning this crate's sources) than it saves.
                .onepass(false),
        )
        .build_from_hir(hir)
        .map_err(|e| format!("regex too large or unsupported: {e}"))
}

impl Rule {
    /// Compile and validate one rule from `file`. `known` holds what `build.rs` computed for a
    /// built-in rule; without it the regex is parsed here.
    pub(crate) fn compile(
        file: &str,
        spec: RuleSpec,
        eager: bool,
        known: Option<&BuiltinFacts>,
    ) -> Result<Rule, RuleError> {
        let err = |msg: String| RuleError::Rule {
            file: file.to_string(),
            id: spec.id.clone(),
            msg,
        };
        if spec.id.trim().is_empty() {
            return Err(err("empty id".into()));
        }
        let mut keywords = normalize_keywords(&spec.keywords).map_err(&err)?;
        let facts = match known.filter(|k| k.id == spec.id) {
            Some(k) => k.facts(),
            None => analyze(&parse_pattern(&spec.regex).map_err(&err)?, &keywords),
        };
        let groups = facts.groups;
        let secret_group = match spec.secret_group {
            Some(g) if g > groups => {
                return Err(err(format!(
                    "secret_group is {g} but the regex has {groups} capture group(s)"
                )))
            }
            Some(g) => g,
            None => usize::from(groups > 0),
        };
        let window = match (facts.max_len, spec.max_len) {
            (Some(n), _) => n,
            (None, Some(m)) => m,
            (None, None) => DEFAULT_MAX_LEN,
        }
        .clamp(1, MAX_WINDOW);
        let keywords_derived = keywords.is_empty();
        if keywords_derived {
            keywords = facts.derived_keywords;
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
                if known.is_none() {
                    parse_pattern(r).map_err(|m| err(format!("allowlist: {m}")))?;
                }
                allow_regexes.push(LazyRegex::new(r));
            }
            stopwords = al
                .stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect();
        }
        let (lead, multiline, head) = (facts.lead, facts.multiline, facts.head);
        let line_start = facts.line_start && !multiline;
        let regex = LazyRegex::new(&spec.regex);
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
            pack: None,
            keywords,
            keywords_derived,
            pattern: spec.regex,
            examples: spec.examples,
            negative_examples: spec.negative_examples,
            multiline,
            head: head.into(),
            line_start,
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

    /// Whether a match may start at `hay[p..]`, judged by its first bytes alone.
    #[inline]
    pub(crate) fn may_start(&self, hay: &[u8], p: usize) -> bool {
        super::analysis::may_start(&self.head, hay, p)
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
