//! Policy: what a team decided about findings, applied between the findings and the report.
//!
//! This module owns the policy file (`.leakhound.toml`: the same file holds custom `[[rules]]`
//! and `packs`, read by [`crate::rules`], the `[[allowlist]]` entries read here, and a `[hook]`
//! table kept opaque for the git hooks), inline `leakhound:allow` comments, baselines
//! ([`baseline`]), the severity gate and the summary every format carries ([`summary`]).
//!
//! Flow position: `engine -> finding -> policy -> report`. Workers mark each finding with what
//! only they can see (the raw secret for `regexes` and `stopwords` entries, the raw line for an
//! inline comment; see [`Policy::secret_hits`] and [`Marks`]); the single reporter thread then
//! runs each batch through an [`Enforcer`], which splits it into reported, suppressed and
//! baselined findings and counts everything for the [`summary::Summary`].

pub mod baseline;
mod date;
pub mod summary;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex_automata::meta;
use serde::{Deserialize, Serialize};

pub use baseline::Baseline;
pub use date::Date;
pub use summary::{Scope, Summary};

use crate::finding::Finding;
use crate::rules::Severity;

/// The file name looked for at the scan root.
pub const POLICY_FILE: &str = ".leakhound.toml";

/// The marker of an inline suppression comment.
pub const INLINE_MARKER: &[u8] = b"leakhound:allow";

/// An exception that expires within this many days is reported as expiring.
pub const EXPIRING_DAYS: i64 = 30;

/// An error reading a policy file or a baseline. Every variant names the file, and the line
/// where there is one.
#[derive(Debug)]
pub enum PolicyError {
    /// The file could not be read or written.
    Io { file: String, err: std::io::Error },
    /// The file is not valid TOML (or JSON, for a baseline) or has an unknown key.
    Parse {
        file: String,
        line: Option<usize>,
        msg: String,
    },
    /// One allowlist entry is invalid (no reason, bad glob, bad regex, bad date, no criterion).
    Entry {
        file: String,
        line: usize,
        msg: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Io { file, err } => write!(f, "{file}: {err}"),
            PolicyError::Parse {
                file,
                line: Some(line),
                msg,
            } => write!(f, "{file}:{line}: {msg}"),
            PolicyError::Parse {
                file,
                line: None,
                msg,
            } => write!(f, "{file}: {msg}"),
            PolicyError::Entry { file, line, msg } => {
                write!(f, "{file}:{line}: allowlist entry: {msg}")
            }
        }
    }
}

impl std::error::Error for PolicyError {}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A TOML error as `(line, message)`, the message on one line.
fn toml_error(text: &str, e: &toml::de::Error) -> (Option<usize>, String) {
    let line = e.span().map(|s| line_of(text, s.start));
    (line, e.message().trim().replace('\n', " "))
}

/// The policy keys of the file, as written. `rules` belongs to the rule reader, which checks it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    /// Custom rules (read by [`crate::rules`]).
    #[serde(default)]
    #[allow(dead_code)]
    rules: Option<toml::Value>,
    /// Opt-in rule packs (read by [`crate::rules`]).
    #[serde(default)]
    #[allow(dead_code)]
    packs: Option<toml::Value>,
    /// Allowlist entries.
    #[serde(default)]
    allowlist: Vec<toml::Spanned<EntrySpec>>,
    /// Git hook settings, read by the hook code.
    #[serde(default)]
    hook: Option<toml::Table>,
}

/// One `[[allowlist]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntrySpec {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    fingerprints: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    /// A `"YYYY-MM-DD"` string or a bare TOML date.
    #[serde(default)]
    expires: Option<toml::Value>,
}

/// One compiled allowlist entry. A finding matches when every kind of criterion the entry has
/// matches (paths AND rules AND ...), each kind matching when any of its values does.
#[derive(Debug)]
pub struct AllowEntry {
    /// The policy file.
    pub file: String,
    /// The line of the entry's `[[allowlist]]` header.
    pub line: usize,
    /// Path globs, relative to the scan root.
    pub paths: Vec<String>,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Regexes searched in the secret.
    pub regexes: Vec<String>,
    /// Words looked for in the secret, ASCII letters case-insensitively (kept lower-cased).
    pub stopwords: Vec<String>,
    /// Finding fingerprints.
    pub fingerprints: Vec<String>,
    /// Why the findings are accepted.
    pub reason: String,
    /// Who answers for the exception.
    pub owner: Option<String>,
    /// The last day the entry suppresses.
    pub expires: Option<Date>,
    globs: Option<GlobSet>,
    compiled: Vec<meta::Regex>,
}

impl AllowEntry {
    /// `file:line`, how output names the entry.
    pub fn label(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Whether the entry looks at the secret itself (regexes or stopwords).
    pub fn needs_secret(&self) -> bool {
        !self.regexes.is_empty() || !self.stopwords.is_empty()
    }

    /// Whether it has expired on `today` (it suppresses through its `expires` day).
    pub fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today > e)
    }

    fn secret_matches(&self, secret: &[u8]) -> bool {
        let by_regex = self.compiled.iter().any(|r| r.is_match(secret));
        let by_word = self
            .stopwords
            .iter()
            .any(|w| contains_ascii_ci(secret, w.as_bytes()));
        by_regex || by_word
    }

    /// Whether `f` (with `rel_path`, its path relative to the scan root) matches, ignoring expiry.
    fn matches(&self, idx: u32, f: &Finding, rel_path: &str) -> bool {
        (self.globs.as_ref().is_none_or(|g| g.is_match(rel_path)))
            && (self.rules.is_empty() || self.rules.contains(&f.rule_id))
            && (!self.needs_secret() || f.policy.secret_hits.contains(&idx))
            && (self.fingerprints.is_empty() || self.fingerprints.contains(&f.fingerprint))
    }

    fn compile(
        file: &str,
        text: &str,
        spec: toml::Spanned<EntrySpec>,
    ) -> Result<AllowEntry, PolicyError> {
        let line = line_of(text, spec.span().start);
        let spec = spec.into_inner();
        let err = |msg: String| PolicyError::Entry {
            file: file.to_string(),
            line,
            msg,
        };
        let reason = match spec.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            Some(_) => {
                return Err(err(
                    "`reason` is empty; say why these findings are accepted".into(),
                ))
            }
            None => {
                return Err(err(
                    "`reason` is required; say why these findings are accepted".into(),
                ))
            }
        };
        if spec.paths.is_empty()
            && spec.rules.is_empty()
            && spec.regexes.is_empty()
            && spec.stopwords.is_empty()
            && spec.fingerprints.is_empty()
        {
            return Err(err(
                "no criterion: give at least one of paths, rules, regexes, stopwords, fingerprints"
                    .into(),
            ));
        }
        let globs = if spec.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in &spec.paths {
                b.add(path_glob(p).map_err(|m| err(format!("path glob '{p}': {m}")))?);
            }
            Some(b.build().map_err(|e| err(format!("path globs: {e}")))?)
        };
        let mut compiled = Vec::with_capacity(spec.regexes.len());
        for r in &spec.regexes {
            compiled.push(meta::Regex::new(r).map_err(|e| err(format!("regex '{r}': {e}")))?);
        }
        for fp in &spec.fingerprints {
            if fp.len() != 32 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(format!(
                    "fingerprint '{fp}' is not 32 hex digits (as leakhound prints them)"
                )));
            }
        }
        if let Some(w) = spec.stopwords.iter().find(|w| w.is_empty()) {
            return Err(err(format!("stopword {w:?} is empty")));
        }
        let expires =
            match &spec.expires {
                None => None,
                Some(v) => {
                    let s = match v {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Datetime(d) => d.to_string(),
                        other => other.to_string(),
                    };
                    Some(Date::parse(&s).ok_or_else(|| {
                        err(format!("expires = {s}: not a date (write YYYY-MM-DD)"))
                    })?)
                }
            };
        Ok(AllowEntry {
            file: file.to_string(),
            line,
            paths: spec.paths,
            rules: spec.rules,
            regexes: spec.regexes,
            stopwords: spec
                .stopwords
                .iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
            fingerprints: spec
                .fingerprints
                .iter()
                .map(|f| f.to_ascii_lowercase())
                .collect(),
            reason,
            owner: spec.owner.filter(|o| !o.trim().is_empty()),
            expires,
            globs,
            compiled,
        })
    }
}

/// A path glob: `/`-separated, `*` stays within a directory, `**` crosses them; a glob without
/// `/` matches the file name at any depth (as in `.gitignore`).
fn path_glob(p: &str) -> Result<Glob, String> {
    let p = p.trim_start_matches("./");
    let full = if p.contains('/') {
        p.trim_start_matches('/').to_string()
    } else {
        format!("**/{p}")
    };
    globset::GlobBuilder::new(&full)
        .literal_separator(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

/// The allowlist and hook settings of one or more policy files.
#[derive(Debug, Default)]
pub struct Policy {
    files: Vec<String>,
    entries: Vec<AllowEntry>,
    hook: Option<toml::Table>,
}

impl Policy {
    /// No entries: only inline comments suppress.
    pub fn empty() -> Policy {
        Policy::default()
    }

    /// Read and parse a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let file = crate::source::display_path(path);
        let text = std::fs::read_to_string(path).map_err(|err| PolicyError::Io {
            file: file.clone(),
            err,
        })?;
        Policy::from_toml(&file, &text)
    }

    /// Parse policy TOML; `file` names it in errors. A file with neither `[[allowlist]]` nor
    /// `[hook]` is a plain rule file (perhaps a gitleaks one) and gives an empty policy: the rule
    /// reader checks it.
    pub fn from_toml(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let parse_err = |e: toml::de::Error| {
            let (line, msg) = toml_error(text, &e);
            PolicyError::Parse {
                file: file.to_string(),
                line,
                msg,
            }
        };
        let top: toml::Table = toml::from_str(text).map_err(parse_err)?;
        if !is_policy_file(&top) {
            return Ok(Policy {
                files: vec![file.to_string()],
                ..Policy::default()
            });
        }
        let spec: FileSpec = toml::from_str(text).map_err(parse_err)?;
        let mut entries = Vec::with_capacity(spec.allowlist.len());
        for e in spec.allowlist {
            entries.push(AllowEntry::compile(file, text, e)?);
        }
        Ok(Policy {
            files: vec![file.to_string()],
            entries,
            hook: spec.hook,
        })
    }

    /// Add the entries of `other` after this policy's (several `--config` files).
    pub fn merge(&mut self, other: Policy) {
        self.files.extend(other.files);
        self.entries.extend(other.entries);
        if self.hook.is_none() {
            self.hook = other.hook;
        }
    }

    /// The files read, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The allowlist entries, in file order.
    pub fn entries(&self) -> &[AllowEntry] {
        &self.entries
    }

    /// The `[hook]` table as written, for the git hooks.
    pub fn hook(&self) -> Option<&toml::Table> {
        self.hook.as_ref()
    }

    /// The indices of entries whose `regexes` or `stopwords` match this raw secret. Workers call
    /// it while the secret is still in clear (see [`crate::finding::FindingOptions::policy`]).
    pub fn secret_hits(&self, secret: &[u8]) -> Vec<u32> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.needs_secret() && e.secret_matches(secret))
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Entries worth a reviewer's eye on `today`: already expired, or expiring within
    /// [`EXPIRING_DAYS`]. Errors (bad syntax) are reported by [`Policy::from_toml`] instead.
    pub fn review(&self, today: Date) -> Vec<ReviewNote> {
        let mut out = Vec::new();
        for e in &self.entries {
            let Some(exp) = e.expires else { continue };
            let left = exp.days_since(today);
            if left < 0 {
                out.push(ReviewNote {
                    expired: true,
                    msg: format!(
                        "{}: allowlist entry expired on {exp} ({} day(s) ago); it no longer suppresses",
                        e.label(),
                        -left
                    ),
                });
            } else if left <= EXPIRING_DAYS {
                out.push(ReviewNote {
                    expired: false,
                    msg: format!(
                        "{}: allowlist entry expires on {exp} (in {left} day(s))",
                        e.label()
                    ),
                });
            }
        }
        out
    }
}

/// One entry found by [`Policy::review`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewNote {
    /// Past its expiry (it no longer suppresses); otherwise expiring soon.
    pub expired: bool,
    /// `file:line: ...`, naming the entry and the date.
    pub msg: String,
}

impl fmt::Display for ReviewNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

/// The work tree root of the repository at `repo` (the nearest directory, `repo` or above, that
/// holds a `.git` entry), where its `.leakhound.toml` lives; `None` for a bare repository. Only
/// the file system is read: nothing of the repository runs.
pub fn work_tree_root(repo: &Path) -> Option<std::path::PathBuf> {
    let start = if repo.as_os_str().is_empty() {
        Path::new(".")
    } else {
        repo
    };
    let abs = std::fs::canonicalize(start).ok()?;
    let found = abs.ancestors().find(|d| d.join(".git").exists())?;
    // Keep the spelling the user gave when it is the root itself (shorter messages).
    if found == abs {
        Some(start.to_path_buf())
    } else {
        Some(found.to_path_buf())
    }
}

/// Whether a parsed TOML document is a policy file: it has `[hook]` or `[[allowlist]]` entries
/// (an array; gitleaks' own `[allowlist]` is a single table).
pub fn is_policy_file(top: &toml::Table) -> bool {
    top.contains_key("hook") || matches!(top.get("allowlist"), Some(toml::Value::Array(_)))
}

/// An inline `leakhound:allow` comment on a finding's line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineAllow {
    /// The text of `reason="..."`, if the comment has one.
    pub reason: Option<String>,
}

/// How far from the secret, on its line, an inline comment is looked for (bytes each side).
const INLINE_REACH: usize = 4096;

/// The inline comment on the line of `buf[start..end]`, if any. Looks at most
/// `INLINE_REACH` bytes either side of the secret, so a long minified line costs no more.
pub fn inline_allow(buf: &[u8], start: usize, end: usize) -> Option<InlineAllow> {
    let end = end.min(buf.len());
    let start = start.min(end);
    let from = start.saturating_sub(INLINE_REACH);
    let to = end.saturating_add(INLINE_REACH).min(buf.len());
    let ls = memchr::memrchr(b'\n', &buf[from..start]).map_or(from, |i| from + i + 1);
    let le = memchr::memchr(b'\n', &buf[end..to]).map_or(to, |i| end + i);
    let line = &buf[ls..le];
    let at = memchr::memmem::find(line, INLINE_MARKER)?;
    let rest = &line[at + INLINE_MARKER.len()..];
    let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let reason = rest
        .strip_prefix(b"reason=\"")
        .and_then(|r| memchr::memchr(b'"', r).map(|q| &r[..q]))
        .map(|r| {
            String::from_utf8_lossy(r)
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
        })
        .filter(|r| !r.trim().is_empty());
    Some(InlineAllow { reason })
}

/// Why a finding is not reported.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Suppression {
    /// `allowlist` (an entry of a policy file) or `inline` (a comment on the line).
    pub kind: &'static str,
    /// The entry as `file:line`, for allowlist entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// The justification.
    pub reason: String,
    /// Who answers for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When the entry stops suppressing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// The reason recorded for an inline comment without `reason="..."`.
pub const INLINE_DEFAULT_REASON: &str = "inline leakhound:allow";

/// What the policy said about one finding. Workers fill the first two fields; the
/// [`Enforcer`] the last two, which are the only ones serialized.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Marks {
    /// An inline comment on the finding's line.
    #[serde(skip)]
    pub inline: Option<InlineAllow>,
    /// Entries whose regexes or stopwords match the secret (see [`Policy::secret_hits`]).
    #[serde(skip)]
    pub secret_hits: Vec<u32>,
    /// Set when the finding is suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// Entries that matched but have expired, so the finding is reported again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expired_exceptions: Vec<Suppression>,
}

/// `path` relative to the scan root `root`, when it lies under it.
fn relative<'p>(root: Option<&str>, path: &'p str) -> &'p str {
    match root {
        Some(root) => path
            .strip_prefix(root)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path),
        None => path,
    }
}

/// Whether `hay` contains `needle` (lower-case), ASCII letters compared case-insensitively.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Options of an [`Enforcer`].
#[derive(Clone, Debug)]
struct Config {
    /// The date expiry is judged on.
    today: Date,
    /// Findings at or above this severity fail the gate.
    fail_on: Severity,
    /// The scan root as findings spell it (`repo` for `repo/a.py`); path globs are relative to it.
    root: Option<String>,
}

/// Builds an [`Enforcer`].
#[derive(Debug)]
pub struct EnforcerBuilder {
    config: Config,
    baseline: Option<Baseline>,
}

impl Default for EnforcerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EnforcerBuilder {
    /// Today's date, gate at `low`, no baseline, paths matched as reported.
    pub fn new() -> EnforcerBuilder {
        EnforcerBuilder {
            config: Config {
                today: Date::today(),
                fail_on: Severity::Low,
                root: None,
            },
            baseline: None,
        }
    }

    /// Judge expiry on this date instead of today (tests, reproducible audits).
    pub fn today(&mut self, d: Date) -> &mut Self {
        self.config.today = d;
        self
    }

    /// The lowest severity that fails the gate (default: low).
    pub fn fail_on(&mut self, s: Severity) -> &mut Self {
        self.config.fail_on = s;
        self
    }

    /// The scan root as a path prefix of findings (e.g. `repo` when scanning `repo`).
    pub fn root(&mut self, root: &str) -> &mut Self {
        let r = root.trim_end_matches('/');
        self.config.root = (!r.is_empty() && r != ".").then(|| r.to_string());
        self
    }

    /// Leave out findings whose fingerprint is in `b`.
    pub fn baseline(&mut self, b: Baseline) -> &mut Self {
        self.baseline = Some(b);
        self
    }

    /// The enforcer for `policy`.
    pub fn build(&self, policy: Arc<Policy>) -> Enforcer {
        let n = policy.entries.len();
        Enforcer {
            config: self.config.clone(),
            baseline: self.baseline.clone(),
            policy,
            counts: Counts {
                entry_suppressed: vec![0; n],
                entry_expired: vec![0; n],
                ..Counts::default()
            },
        }
    }
}

/// One batch after the policy: what to report, what was suppressed and what the baseline knew.
#[derive(Debug, Default)]
pub struct Split {
    /// Findings to report (possibly with `expired_exceptions`).
    pub reported: Vec<Finding>,
    /// Findings an entry or an inline comment suppressed, each with its [`Suppression`].
    pub suppressed: Vec<Finding>,
    /// Findings left out because the baseline has them.
    pub baselined: Vec<Finding>,
}

/// Running counts for the summary.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counts {
    pub(crate) by_severity: BTreeMap<Severity, u64>,
    pub(crate) by_rule: BTreeMap<String, u64>,
    pub(crate) suppressed_by_reason: BTreeMap<String, u64>,
    pub(crate) suppressed: u64,
    pub(crate) inline: u64,
    pub(crate) baselined: u64,
    pub(crate) blocking: u64,
    pub(crate) entry_suppressed: Vec<u64>,
    pub(crate) entry_expired: Vec<u64>,
}

/// Applies a [`Policy`], a baseline and the gate to batches of findings, counting as it goes.
#[derive(Debug)]
pub struct Enforcer {
    config: Config,
    policy: Arc<Policy>,
    baseline: Option<Baseline>,
    counts: Counts,
}

impl Enforcer {
    /// Split one batch. Order: an inline comment, then the first live matching entry, suppress;
    /// of the rest, what the baseline holds is left out; everything else is reported.
    pub fn apply(&mut self, batch: Vec<Finding>) -> Split {
        let mut split = Split::default();
        for mut f in batch {
            if let Some(s) = self.suppression(&mut f) {
                *self
                    .counts
                    .suppressed_by_reason
                    .entry(s.reason.clone())
                    .or_insert(0) += 1;
                self.counts.suppressed += 1;
                if s.kind == "inline" {
                    self.counts.inline += 1;
                }
                f.policy.suppression = Some(s);
                split.suppressed.push(f);
                continue;
            }
            if self
                .baseline
                .as_ref()
                .is_some_and(|b| b.contains(&f.fingerprint))
            {
                self.counts.baselined += 1;
                split.baselined.push(f);
                continue;
            }
            *self.counts.by_severity.entry(f.severity).or_insert(0) += 1;
            match self.counts.by_rule.get_mut(&f.rule_id) {
                Some(n) => *n += 1,
                None => {
                    self.counts.by_rule.insert(f.rule_id.clone(), 1);
                }
            }
            if f.severity >= self.config.fail_on {
                self.counts.blocking += 1;
            }
            split.reported.push(f);
        }
        split
    }

    /// The suppression for `f`, recording expired entries that matched on it.
    fn suppression(&mut self, f: &mut Finding) -> Option<Suppression> {
        if let Some(inline) = &f.policy.inline {
            return Some(Suppression {
                kind: "inline",
                entry: None,
                reason: inline
                    .reason
                    .clone()
                    .unwrap_or_else(|| INLINE_DEFAULT_REASON.to_string()),
                owner: None,
                expires: None,
            });
        }
        let rel = relative(self.config.root.as_deref(), &f.path);
        let mut expired = Vec::new();
        let mut live = None;
        for (i, e) in self.policy.entries.iter().enumerate() {
            if !e.matches(i as u32, f, rel) {
                continue;
            }
            if e.expired(self.config.today) {
                expired.push(i);
                continue;
            }
            live = Some(i);
            break;
        }
        let suppression = |e: &AllowEntry| Suppression {
            kind: "allowlist",
            entry: Some(e.label()),
            reason: e.reason.clone(),
            owner: e.owner.clone(),
            expires: e.expires.map(|d| d.to_string()),
        };
        for i in expired {
            self.counts.entry_expired[i] += 1;
            f.policy
                .expired_exceptions
                .push(suppression(&self.policy.entries[i]));
        }
        let i = live?;
        self.counts.entry_suppressed[i] += 1;
        Some(suppression(&self.policy.entries[i]))
    }

    /// Whether a reported finding is at or above the gate.
    pub fn gate_failed(&self) -> bool {
        self.counts.blocking > 0
    }

    /// The policy applied.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The summary of everything applied so far.
    pub fn summary(&self, scope: Scope) -> Summary {
        summary::Summary::build(
            &self.policy,
            &self.counts,
            self.config.today,
            self.config.fail_on,
            scope,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_comments_in_several_syntaxes() {
        for (name, line, reason) in [
            ("hash", "KEY=SECRET # leakhound:allow", None),
            (
                "slashes",
                "let k = \"SECRET\"; // leakhound:allow reason=\"test key\"",
                Some("test key"),
            ),
            ("block", "k = \"SECRET\" /* leakhound:allow */", None),
            (
                "html",
                "<k v=\"SECRET\"/> <!-- leakhound:allow reason=\"docs\" -->",
                Some("docs"),
            ),
            (
                "sql",
                "SELECT 'SECRET'; -- leakhound:allow reason=\"\"",
                None,
            ),
        ] {
            let buf = format!("before\n{line}\nafter leakhound:allow\n");
            let s = buf.find("SECRET").unwrap();
            let got = inline_allow(buf.as_bytes(), s, s + 6);
            assert_eq!(
                got,
                Some(InlineAllow {
                    reason: reason.map(str::to_string)
                }),
                "{name}"
            );
        }
        let buf = b"# leakhound:allow\nKEY=SECRET\n";
        assert_eq!(
            inline_allow(buf, 22, 28),
            None,
            "a comment on another line does not count"
        );
    }

    #[test]
    fn entries_need_a_reason_and_a_criterion() {
        for (name, body, want) in [
            ("no reason", "rules = [\"x\"]", "`reason` is required"),
            (
                "empty reason",
                "rules = [\"x\"]\nreason = \" \"",
                "`reason` is empty",
            ),
            ("no criterion", "reason = \"r\"", "no criterion"),
            (
                "bad glob",
                "paths = [\"a/[\"]\nreason = \"r\"",
                "path glob 'a/['",
            ),
            (
                "bad regex",
                "regexes = [\"(\"]\nreason = \"r\"",
                "regex '('",
            ),
            (
                "bad date",
                "rules = [\"x\"]\nreason = \"r\"\nexpires = \"2027-02-30\"",
                "not a date",
            ),
            (
                "bad fingerprint",
                "fingerprints = [\"abc\"]\nreason = \"r\"",
                "not 32 hex digits",
            ),
        ] {
            let text = format!("# policy\n\n[[allowlist]]\n{body}\n");
            let e = Policy::from_toml("p.toml", &text).unwrap_err().to_string();
            assert!(e.starts_with("p.toml:3: allowlist entry: "), "{name}: {e}");
            assert!(e.contains(want), "{name}: {e}");
        }
        let e = Policy::from_toml(
            "p.toml",
            "[[allowlist]]\nrules = [\"x\"]\nreason = \"r\"\nowner = \"o\"\npathz = []\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("p.toml:5: unknown field `pathz`"), "{e}");
    }

    /// The library path the git hooks take, without the binary's `cli` module: one file holds the rules and
    /// the policy; workers mark findings; the enforcer splits a batch and counts it.
    #[test]
    fn library_api_splits_a_batch() {
        let text = r#"
[[rules]]
id = "tok"
keywords = ["tok_"]
regex = '''\b(tok_[a-z0-9]{12})\b'''
severity = "high"

[[allowlist]]
paths = ["fixtures/**"]
reason = "fixtures"

[[allowlist]]
stopwords = ["sample"]
reason = "samples"
expires = "2027-01-31"

[hook]
mode = "warn"
"#;
        let policy = Arc::new(Policy::from_toml("p.toml", text).unwrap());
        let rules = crate::RuleSet::from_toml("p.toml", text).unwrap();
        let scanner = crate::Scanner::new(Arc::new(rules));
        let opts = crate::finding::FindingOptions {
            no_redact: false,
            policy: Some(Arc::clone(&policy)),
        };
        let mut batch = Vec::new();
        for (path, body) in [
            ("fixtures/a.txt", "x = tok_abcdefgh1234\n"),
            ("src/b.txt", "x = tok_sample000000\n"),
            ("src/c.txt", "x = tok_zyxwvu987654 // leakhound:allow\n"),
            ("src/d.txt", "x = tok_qwertyuiop12\n"),
        ] {
            let mut scratch = scanner.scratch();
            let matches = scanner.scan(body.as_bytes(), &mut scratch).to_vec();
            crate::finding::FindingBuilder {
                rules: scanner.rules(),
                opts: opts.clone(),
            }
            .build(
                path,
                body.as_bytes(),
                0,
                &mut crate::finding::LineIndex::new(1, 0),
                &matches,
                &mut batch,
            );
        }
        assert_eq!(batch.len(), 4);
        let paths = |v: &[Finding]| v.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        let json = format!(
            "{{\"leakhound_baseline\": 1, \"findings\": [{{\"fingerprint\": \"{}\"}}]}}",
            batch[3].fingerprint
        );
        let mut b = EnforcerBuilder::new();
        b.today(Date::parse("2027-01-20").unwrap())
            .baseline(Baseline::from_json("b.json", &json).unwrap());
        let mut enforcer = b.build(Arc::clone(&policy));
        let split = enforcer.apply(batch.clone());
        assert_eq!(
            paths(&split.suppressed),
            ["fixtures/a.txt", "src/b.txt", "src/c.txt"]
        );
        assert_eq!(paths(&split.baselined), ["src/d.txt"]);
        assert!(split.reported.is_empty());
        assert!(!enforcer.gate_failed());
        let summary = enforcer.summary(Scope::default());
        assert_eq!(summary.suppressed_inline, 1);
        assert_eq!(summary.expiring_soon.len(), 1);
        assert_eq!(summary.expiring_soon[0].entry, "p.toml:12");
        // After the stopword entry expires, its finding is reported and fails the gate.
        let mut enforcer = EnforcerBuilder::new()
            .today(Date::parse("2027-02-01").unwrap())
            .build(Arc::clone(&policy));
        let split = enforcer.apply(batch);
        assert_eq!(paths(&split.reported), ["src/b.txt", "src/d.txt"]);
        assert_eq!(
            split.reported[0].policy.expired_exceptions[0].reason,
            "samples"
        );
        assert!(enforcer.gate_failed());
        assert_eq!(policy.hook().unwrap()["mode"].as_str(), Some("warn"));
    }

    #[test]
    fn hook_table_is_kept_opaque() {
        let p = Policy::from_toml(
            "p.toml",
            "[hook]\nmode = \"block\"\n[hook.anything]\nx = 1\n\n[[rules]]\nid = \"a\"\nregex = 'a(b)'\n",
        )
        .unwrap();
        assert_eq!(p.hook().unwrap()["mode"].as_str(), Some("block"));
        assert!(p.entries().is_empty());
    }
}
