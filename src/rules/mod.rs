//! Rules: the data that says what a secret looks like.
//!
//! This module owns the rule file format (TOML, see `patterns/FORMAT.md`), the built-in rule files
//! embedded at build time, and their compilation into [`Rule`]s: a parsed and validated regex, its
//! prefilter keywords, the length window the engine searches around each keyword hit, and the
//! checks (entropy, minimum length, validator, allowlist) applied to each captured secret. A
//! [`RuleSet`] is the compiled whole, built once per scan by [`RuleSetBuilder`] and shared
//! read-only by every worker; the prefilter and verifier are built from it.
//!
//! Flow position: `rules -> prefilter + verify` (built once) `-> engine` (per buffer).

mod analysis;
pub mod check;
mod compile;
mod gitleaks;
mod spec;

use std::fmt;
use std::path::Path;

pub use compile::Rule;
pub use gitleaks::RuleWarning;
pub use spec::{Confidence, Example, RuleSpec, Severity};

use compile::BuiltinFacts;

/// An embedded rule file: its name, its TOML, the same as JSON without the rules' examples
/// (empty if `build.rs` could not make it), and what `build.rs` computed of each rule, in file
/// order.
type Embedded = (
    &'static str,
    &'static str,
    &'static str,
    &'static [BuiltinFacts],
);

/// The built-in rule files, embedded by `build.rs`.
const BUILTIN: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The opt-in rule packs (`patterns/packs/<name>.toml`), embedded the same way; off unless
/// asked for with [`RuleSetBuilder::pack`] or `packs = [...]` in a rule file.
const PACKS: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/builtin_packs.rs"));

/// The names of the opt-in rule packs, sorted.
pub fn pack_names() -> Vec<&'static str> {
    PACKS
        .iter()
        .map(|(file, _, _, _)| file.strip_suffix(".toml").unwrap_or(file))
        .collect()
}

/// The embedded pack named `name`, if there is one.
fn find_pack(name: &str) -> Option<&'static Embedded> {
    PACKS
        .iter()
        .find(|(file, _, _, _)| file.strip_suffix(".toml") == Some(name))
}

/// An error loading or compiling rules. Every variant names the file and, where there is one, the
/// rule, so that a user can find the line to fix.
#[derive(Debug)]
pub enum RuleError {
    /// The file could not be read.
    Io { file: String, err: std::io::Error },
    /// The file is not valid TOML or does not have the rule file's shape.
    Parse { file: String, msg: String },
    /// One rule is invalid (bad regex, bad field value, duplicate id, ...).
    Rule {
        file: String,
        id: String,
        msg: String,
    },
    /// A pack name that no pack has, from `--pack` (`file` is `None`) or a file's `packs`.
    UnknownPack { file: Option<String>, name: String },
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Io { file, err } => write!(f, "{file}: {err}"),
            RuleError::Parse { file, msg } => write!(f, "{file}: {msg}"),
            RuleError::Rule { file, id, msg } => write!(f, "{file}: rule '{id}': {msg}"),
            RuleError::UnknownPack { file, name } => {
                if let Some(file) = file {
                    write!(f, "{file}: packs: ")?;
                }
                write!(
                    f,
                    "unknown pack '{name}' (known packs: {})",
                    pack_names().join(", ")
                )
            }
        }
    }
}

impl std::error::Error for RuleError {}

/// The compiled rules of one scan, in a stable order (built-in files by name, then the packs
/// asked for, then user files in the order given). A rule's index in [`RuleSet::rules`] is its
/// identity inside the engine.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// All rules, indexed by the engine's rule number.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this engine index.
    pub fn get(&self, idx: usize) -> &Rule {
        &self.rules[idx]
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True if there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A rule set of the given compiled rules.
    pub fn from_rules(rules: Vec<Rule>) -> RuleSet {
        RuleSet { rules }
    }

    /// The built-in rules alone.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSetBuilder::new().build()
    }

    /// A rule set from TOML text, as if it were a user file named `file` (without the built-ins).
    pub fn from_toml(file: &str, text: &str) -> Result<RuleSet, RuleError> {
        let mut b = RuleSetBuilder::new();
        b.builtin(false);
        b.add_toml(file, text)?;
        b.build()
    }
}

/// Options for [`RuleSetBuilder`].
#[derive(Clone, Debug)]
struct Config {
    /// Whether the embedded rule files are loaded.
    builtin: bool,
    /// Rule ids to leave out.
    disabled: Vec<String>,
    /// Rules whose confidence is below this are left out.
    min_confidence: Confidence,
    /// Opt-in packs to load (known names, each once, in the order first asked for).
    packs: Vec<&'static str>,
    /// Whether built-in and pack rules keep their examples (only `rules check` runs them).
    examples: bool,
}

/// Builds a [`RuleSet`] from the built-in files and any user files.
#[derive(Debug)]
pub struct RuleSetBuilder {
    config: Config,
    user: Vec<(String, RuleSpec)>,
    warnings: Vec<RuleWarning>,
}

impl Default for RuleSetBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RuleSetBuilder {
    /// A builder that loads the built-in rules and nothing else.
    pub fn new() -> RuleSetBuilder {
        RuleSetBuilder {
            config: Config {
                builtin: true,
                disabled: Vec::new(),
                min_confidence: Confidence::Low,
                packs: Vec::new(),
                examples: true,
            },
            user: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether to load the built-in rules (default: yes).
    pub fn builtin(&mut self, yes: bool) -> &mut Self {
        self.config.builtin = yes;
        self
    }

    /// Whether built-in and pack rules keep their examples (default: yes). Without them the
    /// embedded rules load from a JSON copy made at build time, several times faster than
    /// parsing their TOML; a scan needs no examples.
    pub fn examples(&mut self, yes: bool) -> &mut Self {
        self.config.examples = yes;
        self
    }

    /// Leave out the rule with this id (built-in or user).
    pub fn disable(&mut self, id: &str) -> &mut Self {
        self.config.disabled.push(id.to_string());
        self
    }

    /// Leave out rules whose confidence is below `min` (default: keep all).
    pub fn min_confidence(&mut self, min: Confidence) -> &mut Self {
        self.config.min_confidence = min;
        self
    }

    /// Load the opt-in pack `name` (see [`pack_names`]) after the built-in rules, whether or not
    /// those are loaded. An unknown name is an error that lists the known ones.
    pub fn pack(&mut self, name: &str) -> Result<&mut Self, RuleError> {
        self.add_pack(None, name)
    }

    fn add_pack(&mut self, file: Option<&str>, name: &str) -> Result<&mut Self, RuleError> {
        let Some((pack_file, _, _, _)) = find_pack(name) else {
            return Err(RuleError::UnknownPack {
                file: file.map(str::to_string),
                name: name.to_string(),
            });
        };
        let name = pack_file.strip_suffix(".toml").unwrap_or(pack_file);
        if !self.config.packs.contains(&name) {
            self.config.packs.push(name);
        }
        Ok(self)
    }

    /// Add the rules of a user file from disk.
    pub fn add_file(&mut self, path: &Path) -> Result<&mut Self, RuleError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| RuleError::Io {
            file: file.clone(),
            err,
        })?;
        self.add_toml(&file, &text)
    }

    /// Add the rules of TOML text; `file` names it in errors. The text is a native rule file or
    /// a gitleaks configuration (converted, with [`RuleSetBuilder::warnings`] for what is not).
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<&mut Self, RuleError> {
        let loaded = gitleaks::load(file, text)?;
        for spec in loaded.rules {
            self.user.push((file.to_string(), spec));
        }
        for id in &loaded.disabled {
            self.disable(id);
        }
        for name in &loaded.packs {
            self.add_pack(Some(file), name)?;
        }
        self.warnings.extend(loaded.warnings);
        Ok(self)
    }

    /// What the files added so far asked for that leakhound cannot do (yet), in file order.
    pub fn warnings(&self) -> &[RuleWarning] {
        &self.warnings
    }

    /// Compile every rule. Errors name the file and rule.
    pub fn build(&self) -> Result<RuleSet, RuleError> {
        // (file, pack, rule, whether to compile its regex now, what build.rs knows of it):
        // built-in and pack rules compile on first use.
        type Entry<'a> = (
            String,
            Option<&'a str>,
            RuleSpec,
            bool,
            Option<&'a BuiltinFacts>,
        );
        let mut specs: Vec<Entry> = Vec::new();
        let lean = !self.config.examples;
        let embedded = |specs: &mut Vec<Entry>, file: String, pack, e: &'static Embedded| {
            let (_, text, json, facts) = *e;
            let parsed = if lean && !json.is_empty() {
                spec::parse_json(&file, json)?
            } else {
                spec::parse_file(&file, text)?
            };
            for (i, spec) in parsed.into_iter().enumerate() {
                specs.push((file.clone(), pack, spec, false, facts.get(i)));
            }
            Ok::<_, RuleError>(())
        };
        if self.config.builtin {
            for e in BUILTIN {
                embedded(&mut specs, format!("patterns/{}", e.0), None, e)?;
            }
        }
        for &pack in &self.config.packs {
            let e = find_pack(pack).expect("packs are checked when added");
            embedded(&mut specs, format!("patterns/packs/{}", e.0), Some(pack), e)?;
        }
        specs.extend(
            self.user
                .iter()
                .map(|(f, s)| (f.clone(), None, s.clone(), true, None)),
        );
        let mut seen = std::collections::HashMap::new();
        let mut rules = Vec::with_capacity(specs.len());
        for (file, pack, spec, eager, known) in specs {
            if self.config.disabled.contains(&spec.id)
                || spec.confidence < self.config.min_confidence
            {
                continue;
            }
            if let Some(prev) = seen.insert(spec.id.clone(), file.clone()) {
                return Err(RuleError::Rule {
                    file,
                    id: spec.id,
                    msg: format!("duplicate rule id (first defined in {prev})"),
                });
            }
            let mut rule = Rule::compile(&file, spec, eager, known)?;
            rule.pack = pack.map(str::to_string);
            rules.push(rule);
        }
        Ok(RuleSet { rules })
    }
}

/// The embedded rule files as `(file name, TOML text)`, sorted by name.
pub fn builtin_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    BUILTIN.iter().map(|(name, text, _, _)| (*name, *text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON copy a scan loads holds every embedded file's rules exactly as its TOML does,
    /// less the examples; no file falls back to its TOML (which would only be slower).
    #[test]
    fn lean_copies_equal_the_rule_files_less_examples() {
        let mut rules = 0;
        for (name, text, json, _) in BUILTIN.iter().chain(PACKS) {
            assert!(!json.is_empty(), "{name}: build.rs made no JSON copy");
            let mut full = spec::parse_file(name, text).expect("embedded files parse");
            let lean = spec::parse_json(name, json).expect("the JSON copies parse");
            assert!(full.iter().all(|r| !r.examples.is_empty()), "{name}");
            for r in &mut full {
                r.examples.clear();
                r.negative_examples.clear();
            }
            assert_eq!(format!("{full:?}"), format!("{lean:?}"), "{name}");
            rules += lean.len();
        }
        assert!(rules > 200, "{rules} rules");
        // And the builder's two ways give the same rule set.
        let load = |examples: bool| {
            let mut b = RuleSetBuilder::new();
            b.examples(examples);
            for p in pack_names() {
                b.pack(p).expect("embedded packs exist");
            }
            let set = b.build().expect("the embedded rules build");
            set.rules()
                .iter()
                .map(|r| (r.id.clone(), r.keywords.clone(), r.examples.len()))
                .collect::<Vec<_>>()
        };
        let (full, lean) = (load(true), load(false));
        assert_eq!(full.len(), lean.len());
        for (f, l) in full.iter().zip(&lean) {
            assert_eq!((&f.0, &f.1), (&l.0, &l.1));
            assert!(f.2 > 0 && l.2 == 0, "{}", f.0);
        }
    }
}
