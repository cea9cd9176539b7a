//! The rule file format as data: what a TOML rule file may say, parsed with serde and checked for
//! unknown keys. Compilation into matchers happens in `compile`.

use serde::{Deserialize, Serialize};

use super::RuleError;

/// How bad it is if this secret leaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not a secret by itself; worth knowing.
    Info,
    /// Limited impact.
    Low,
    /// Real but bounded impact.
    Medium,
    /// Access to a service or data.
    High,
    /// Broad or administrative access.
    Critical,
}

impl Severity {
    /// The lower-case name, as in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parse a lower-case name.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// How likely a match is a live secret rather than a look-alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Often a false positive (generic patterns).
    Low,
    /// Usually a secret.
    Medium,
    /// Almost certainly a secret (distinctive prefix, valid checksum).
    High,
}

impl Confidence {
    /// The lower-case name, as in rule files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Parse a lower-case name.
    pub fn parse(s: &str) -> Option<Confidence> {
        Some(match s.to_ascii_lowercase().as_str() {
            "low" => Confidence::Low,
            "medium" => Confidence::Medium,
            "high" => Confidence::High,
            _ => return None,
        })
    }
}

/// An example text: one string, or parts joined with nothing between them (a split keeps the rule
/// file itself from looking like a leak to scanners).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Example {
    /// The text as written.
    Text(String),
    /// Parts to concatenate.
    Parts(Vec<String>),
}

impl Example {
    /// The example's text with any parts joined.
    pub fn text(&self) -> String {
        match self {
            Example::Text(s) => s.clone(),
            Example::Parts(p) => p.concat(),
        }
    }
}

/// A rule's own allowlist: matches whose secret fits are dropped.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleAllowlistSpec {
    /// Regexes tried against the secret.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Words looked for in the secret, case-insensitively.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Why these are allowed (documentation only).
    #[serde(default)]
    pub description: Option<String>,
}

/// One rule as written in a rule file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique kebab-case id.
    pub id: String,
    /// Human name; defaults to the id.
    #[serde(default)]
    pub name: Option<String>,
    /// What the secret is and why it matters.
    #[serde(default)]
    pub description: String,
    /// Impact of a leak.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Likelihood that a match is real.
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    /// Prefilter literals, case-insensitive; every match contains one.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The pattern; a capture group marks the secret.
    pub regex: String,
    /// The capture group holding the secret.
    #[serde(default, alias = "secretGroup")]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy of the secret, in bits per byte.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Minimum secret length in bytes.
    #[serde(default)]
    pub min_len: Option<usize>,
    /// Longest match in bytes, for unbounded regexes.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Name of a checksum or structure validator.
    #[serde(default)]
    pub validate: Option<String>,
    /// Texts this rule must find.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Texts this rule must not find.
    #[serde(default)]
    pub negative_examples: Vec<Example>,
    /// Secrets to drop.
    #[serde(default)]
    pub allowlist: Option<RuleAllowlistSpec>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// A rule file. The policy file `.leakhound.toml` is also a rule file: its `[[allowlist]]`
/// entries and `[hook]` table belong to [`crate::policy`], which checks them; here they are only
/// allowed. (An `[allowlist]` table, gitleaks' shape, is not: such a file goes to the importer.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<RuleSpec>,
    /// Opt-in rule packs to turn on (`packs = ["pii"]`), checked by the builder.
    #[serde(default)]
    packs: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    allowlist: Option<Vec<toml::Table>>,
    /// The git hooks' settings, read by `crate::hook`.
    #[serde(default)]
    #[allow(dead_code)]
    hook: Option<toml::Table>,
}

/// Parse a rule file's text; `file` names it in errors.
pub(crate) fn parse_file(file: &str, text: &str) -> Result<Vec<RuleSpec>, RuleError> {
    parse_file_with_packs(file, text).map(|(rules, _)| rules)
}

/// Parse the JSON copy of an embedded rule file that `build.rs` made (see
/// [`super::RuleSetBuilder::examples`]).
pub(crate) fn parse_json(file: &str, json: &str) -> Result<Vec<RuleSpec>, RuleError> {
    let parsed: RuleFile = serde_json::from_str(json).map_err(|e| RuleError::Parse {
        file: file.to_string(),
        msg: e.to_string(),
    })?;
    Ok(parsed.rules)
}

/// Parse a rule file's text: its rules and the packs it turns on.
pub(crate) fn parse_file_with_packs(
    file: &str,
    text: &str,
) -> Result<(Vec<RuleSpec>, Vec<String>), RuleError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| RuleError::Parse {
        file: file.to_string(),
        msg: e.to_string().trim_end().to_string(),
    })?;
    Ok((parsed.rules, parsed.packs))
}
