//! Import of gitleaks configuration files, so that `--config gitleaks.toml` works for users who
//! switch. A user file is read as the native format first; only a file that the native format
//! rejects and that carries gitleaks' own keys (a top-level `title`, `[extend]`, `[allowlist]`,
//! `[[allowlists]]`, or rules with `path`, `tags`, `secretGroup`, `[[rules.allowlists]]`, ...)
//! is read as gitleaks. Each gitleaks rule becomes a [`RuleSpec`]: its Go (RE2) regex rewritten
//! in the rule dialect, its secret-targeted allowlist regexes and stopwords kept, and everything
//! leakhound cannot honour yet reported as a [`RuleWarning`] rather than dropped in silence.
//! Whatever is left out makes leakhound report more than gitleaks would, never less, except for
//! the rules it skips (path-only rules and `skipReport` helpers), which each get a warning.
//!
//! Flow position: `rules` (loading, before compilation): `RuleSetBuilder::add_toml -> here ->
//! RuleSpec -> compile`.

use std::fmt;

use toml::{Table, Value};

use super::spec::{self, RuleAllowlistSpec, RuleSpec};
use super::{Confidence, RuleError, Severity};

/// A problem in a rule file that does not stop loading it: a field leakhound cannot honour yet,
/// a rule it skips, a difference in meaning worth knowing. The binary prints each one as
/// `leakhound: warning: <warning>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleWarning {
    /// The rule file the warning is about.
    pub file: String,
    /// The id of the rule concerned, if the warning is about one rule.
    pub rule: Option<String>,
    /// The key concerned as written in the file (e.g. `allowlists[0].paths`), if there is one.
    pub field: Option<String>,
    /// What was found and what leakhound does instead.
    pub msg: String,
}

impl fmt::Display for RuleWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(id) = &self.rule {
            write!(f, "rule '{id}': ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.msg)
    }
}

/// One user rule file as the builder takes it in.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// The rules, in file order.
    pub(crate) rules: Vec<RuleSpec>,
    /// Rule ids the file asks to leave out (gitleaks' `[extend] disabledRules`).
    pub(crate) disabled: Vec<String>,
    /// Opt-in packs the file turns on (`packs = [...]`, native files only).
    pub(crate) packs: Vec<String>,
    /// What could not be carried over, in the order found.
    pub(crate) warnings: Vec<RuleWarning>,
}

/// Load a user rule file: the native format, or else a gitleaks configuration. A file that is
/// neither gets the native format's error, which names the offending key.
pub(crate) fn load(file: &str, text: &str) -> Result<Loaded, RuleError> {
    let native_err = match spec::parse_file_with_packs(file, text) {
        Ok((rules, packs)) => {
            return Ok(Loaded {
                rules,
                packs,
                ..Loaded::default()
            })
        }
        Err(e) => e,
    };
    match toml::from_str::<Table>(text) {
        Ok(top) if is_gitleaks(&top) => Import::new(file).run(&top),
        _ => Err(native_err),
    }
}

/// Rule keys of the native format that gitleaks does not have: a file using any is native.
const NATIVE_ONLY: &[&str] = &[
    "name",
    "severity",
    "confidence",
    "min_len",
    "max_len",
    "validate",
    "examples",
    "negative_examples",
    "secret_group",
];

/// Whether a TOML document is a gitleaks configuration: no native-only rule key, and at least
/// one key that only gitleaks has. Keys compare case-insensitively, as gitleaks reads them.
fn is_gitleaks(top: &Table) -> bool {
    // A leakhound policy file (`[[allowlist]]` entries, `[hook]`) gets the native error.
    if crate::policy::is_policy_file(top) {
        return false;
    }
    let rules: Vec<&Table> = match get(top, "rules") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_table).collect(),
        Some(_) => return false,
    };
    if rules
        .iter()
        .any(|r| r.keys().any(|k| NATIVE_ONLY.contains(&k.as_str())))
    {
        return false;
    }
    let top_marker = top.keys().any(|k| {
        matches!(
            k.to_ascii_lowercase().as_str(),
            "title" | "description" | "extend" | "allowlist" | "allowlists"
        )
    });
    let allowlist_marker = |v: &Value| {
        v.as_table().is_some_and(|a| {
            a.keys().any(|k| {
                matches!(
                    k.to_ascii_lowercase().as_str(),
                    "condition" | "commits" | "paths" | "regextarget"
                )
            })
        })
    };
    let rule_marker = rules.iter().any(|r| {
        r.iter()
            .any(|(k, v)| match k.to_ascii_lowercase().as_str() {
                "path" | "tags" | "allowlists" | "required" | "skipreport" | "secretgroup" => true,
                "allowlist" => allowlist_marker(v),
                _ => false,
            })
    });
    top_marker || rule_marker
}

/// The value of `key` in `t`, compared case-insensitively as gitleaks (viper) does.
fn get<'t>(t: &'t Table, key: &str) -> Option<&'t Value> {
    t.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// A string value; absent is `None`.
fn string<'t>(t: &'t Table, key: &str) -> Result<Option<&'t str>, String> {
    match get(t, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

/// An array of strings; absent is empty.
fn strings(t: &Table, key: &str) -> Result<Vec<String>, String> {
    let bad = || format!("`{key}` must be an array of strings");
    match get(t, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// A number (integer or float); absent is `None`.
fn number(t: &Table, key: &str) -> Result<Option<f64>, String> {
    match get(t, key) {
        None => Ok(None),
        Some(Value::Float(x)) => Ok(Some(*x)),
        // Rule values are small; an i64 beyond 2^53 is rejected later as out of range anyway.
        Some(Value::Integer(n)) => Ok(Some(*n as f64)),
        Some(_) => Err(format!("`{key}` must be a number")),
    }
}

/// A boolean; absent is `None`.
fn boolean(t: &Table, key: &str) -> Result<Option<bool>, String> {
    match get(t, key) {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("`{key}` must be true or false")),
    }
}

/// A table or an array of tables (`[x]` or `[[x]]`), as a list.
fn tables<'t>(v: &'t Value, key: &str) -> Result<Vec<&'t Table>, String> {
    let bad = || format!("`{key}` must be a table or an array of tables");
    match v {
        Value::Table(t) => Ok(vec![t]),
        Value::Array(a) => a.iter().map(|v| v.as_table().ok_or_else(bad)).collect(),
        _ => Err(bad()),
    }
}

/// The keys a gitleaks rule may have, lower-cased.
const RULE_KEYS: &[&str] = &[
    "id",
    "description",
    "regex",
    "secretgroup",
    "entropy",
    "keywords",
    "path",
    "tags",
    "allowlist",
    "allowlists",
    "required",
    "skipreport",
];

/// The keys a gitleaks allowlist may have, lower-cased (`targetrules` only at the top level).
const ALLOWLIST_KEYS: &[&str] = &[
    "description",
    "condition",
    "commits",
    "paths",
    "regextarget",
    "regexes",
    "stopwords",
];

/// The keys of gitleaks' `[extend]`, lower-cased.
const EXTEND_KEYS: &[&str] = &["usedefault", "path", "url", "disabledrules"];

/// A top-level allowlist that names the rules it applies to, kept until the rules are read.
struct Targeted<'t> {
    /// How the file names it, e.g. `[[allowlists]][1]`.
    label: String,
    /// Rule ids it applies to.
    targets: Vec<String>,
    /// The allowlist itself.
    table: &'t Table,
}

/// The conversion of one gitleaks file, collecting warnings as it goes.
struct Import<'f> {
    /// The file name used in errors and warnings.
    file: &'f str,
    /// Warnings so far.
    warnings: Vec<RuleWarning>,
    /// Every distinct tag seen, reported once at the end.
    tags: Vec<String>,
}

impl<'f> Import<'f> {
    fn new(file: &'f str) -> Import<'f> {
        Import {
            file,
            warnings: Vec::new(),
            tags: Vec::new(),
        }
    }

    fn warn(&mut self, rule: Option<&str>, field: &str, msg: impl Into<String>) {
        self.warnings.push(RuleWarning {
            file: self.file.to_string(),
            rule: rule.map(str::to_string),
            field: (!field.is_empty()).then(|| field.to_string()),
            msg: msg.into(),
        });
    }

    fn parse_err(&self, msg: impl Into<String>) -> RuleError {
        RuleError::Parse {
            file: self.file.to_string(),
            msg: msg.into(),
        }
    }

    fn rule_err(&self, id: &str, msg: impl Into<String>) -> RuleError {
        RuleError::Rule {
            file: self.file.to_string(),
            id: id.to_string(),
            msg: msg.into(),
        }
    }

    /// Convert the whole file.
    fn run(mut self, top: &Table) -> Result<Loaded, RuleError> {
        let mut out = Loaded::default();
        let mut targeted = Vec::new();
        for (key, value) in top {
            match key.to_ascii_lowercase().as_str() {
                // Metadata with no effect on matching.
                "title" | "description" | "rules" => {}
                "extend" => self.extend(value, &mut out.disabled)?,
                "allowlist" | "allowlists" => {
                    for (i, t) in tables(value, key)
                        .map_err(|m| self.parse_err(m))?
                        .into_iter()
                        .enumerate()
                    {
                        let label = match value {
                            Value::Array(_) => format!("[[{key}]][{i}]"),
                            _ => format!("[{key}]"),
                        };
                        self.global_allowlist(label, t, &mut targeted)?;
                    }
                }
                _ => self.warn(None, key, "unknown gitleaks key; ignored"),
            }
        }
        if let Some(rules) = get(top, "rules") {
            let rules = tables(rules, "rules").map_err(|m| self.parse_err(m))?;
            for (n, t) in rules.into_iter().enumerate() {
                if let Some(spec) = self.rule(n, t)? {
                    out.rules.push(spec);
                }
            }
        }
        for t in targeted {
            for id in &t.targets {
                match out.rules.iter_mut().find(|r| &r.id == id) {
                    Some(spec) => {
                        let al = spec.allowlist.get_or_insert_with(Default::default);
                        self.allowlist(id, &t.label, t.table, al)?;
                    }
                    None => self.warn(
                        None,
                        &format!("{}.targetRules", t.label),
                        format!("'{id}' is not a rule of this file; ignored for it"),
                    ),
                }
            }
        }
        if !self.tags.is_empty() {
            let msg = format!(
                "not supported; ignored on every rule: {}",
                self.tags.join(", ")
            );
            self.warn(None, "tags", msg);
        }
        self.check_disabled(&out);
        out.warnings = self.warnings;
        Ok(out)
    }

    /// `[extend]`: built-ins are kept anyway (`useDefault`); other files are not followed.
    fn extend(&mut self, value: &Value, disabled: &mut Vec<String>) -> Result<(), RuleError> {
        let t = value
            .as_table()
            .ok_or_else(|| self.parse_err("`extend` must be a table"))?;
        boolean(t, "useDefault").map_err(|m| self.parse_err(m))?;
        for key in ["path", "url"] {
            if let Some(p) = string(t, key).map_err(|m| self.parse_err(m))? {
                if !p.is_empty() {
                    let msg = format!(
                        "'{p}' is not followed; pass it with another --config if it is a rule file"
                    );
                    self.warn(None, &format!("extend.{key}"), msg);
                }
            }
        }
        disabled.extend(strings(t, "disabledRules").map_err(|m| self.parse_err(m))?);
        for key in t.keys() {
            if !EXTEND_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                self.warn(None, &format!("extend.{key}"), "unknown key; ignored");
            }
        }
        Ok(())
    }

    /// A top-level allowlist: kept for later if it targets rules, otherwise warned about.
    fn global_allowlist<'t>(
        &mut self,
        label: String,
        t: &'t Table,
        targeted: &mut Vec<Targeted<'t>>,
    ) -> Result<(), RuleError> {
        let targets = strings(t, "targetRules").map_err(|m| self.parse_err(m))?;
        if targets.is_empty() {
            self.warn(
                None,
                &label,
                "global allowlists are not supported yet (they come with the policy file \
                 feature); ignored, so what it allows is reported",
            );
        } else {
            targeted.push(Targeted {
                label,
                targets,
                table: t,
            });
        }
        Ok(())
    }

    /// Convert one `[[rules]]` entry; `None` if the rule is skipped (with a warning).
    fn rule(&mut self, n: usize, t: &Table) -> Result<Option<RuleSpec>, RuleError> {
        let id = match string(t, "id") {
            Ok(Some(id)) if !id.trim().is_empty() => id.to_string(),
            Ok(_) => return Err(self.rule_err(&format!("rules[{n}]"), "missing `id`")),
            Err(m) => return Err(self.rule_err(&format!("rules[{n}]"), m)),
        };
        let e = |m: String| self.rule_err(&id, m);
        let description = string(t, "description").map_err(e)?.unwrap_or("");
        let regex = string(t, "regex").map_err(e)?.unwrap_or("");
        let path = string(t, "path").map_err(e)?.unwrap_or("");
        let secret_group = match get(t, "secretGroup") {
            None => None,
            Some(Value::Integer(0)) => None, // gitleaks' "not set"
            Some(Value::Integer(g)) => Some(
                usize::try_from(*g)
                    .map_err(|_| self.rule_err(&id, format!("`secretGroup` {g} is negative")))?,
            ),
            Some(_) => return Err(self.rule_err(&id, "`secretGroup` must be an integer")),
        };
        let entropy = number(t, "entropy").map_err(e)?.filter(|&x| x != 0.0);
        let keywords = strings(t, "keywords").map_err(e)?;
        let skip_report = boolean(t, "skipReport").map_err(e)?.unwrap_or(false);
        for tag in strings(t, "tags").map_err(e)? {
            if !self.tags.contains(&tag) {
                self.tags.push(tag);
            }
        }
        for key in t.keys() {
            if !RULE_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                self.warn(Some(&id), key, "unknown key; ignored");
            }
        }

        if skip_report {
            self.warn(
                Some(&id),
                "skipReport",
                "the rule only serves composite rules, which are not supported; skipped",
            );
            return Ok(None);
        }
        if regex.is_empty() {
            if path.is_empty() {
                return Err(self.rule_err(
                    &id,
                    "both `regex` and `path` are empty; the rule would match nothing",
                ));
            }
            self.warn(
                Some(&id),
                "path",
                "rules that match only a file path are not supported yet; skipped",
            );
            return Ok(None);
        }
        if !path.is_empty() {
            self.warn(
                Some(&id),
                "path",
                "restricting a rule to some paths is not supported yet; the rule runs on every file",
            );
        }
        if get(t, "required").is_some() {
            self.warn(
                Some(&id),
                "required",
                "composite rules are not supported; the rule reports matches without its \
                 required rules",
            );
        }
        let pattern = go_to_rust(regex).map_err(|m| self.rule_err(&id, format!("regex: {m}")))?;
        if secret_group.is_none() {
            let groups = super::analysis::parse_pattern(&pattern)
                .map(|h| h.properties().explicit_captures_len())
                .unwrap_or(0);
            if groups > 1 {
                self.warn(
                    Some(&id),
                    "secretGroup",
                    format!(
                        "not set and the regex has {groups} groups: leakhound takes group 1 as \
                         the secret, gitleaks the first group that matched; set it to be sure"
                    ),
                );
            }
        }
        let keywords = self.keywords(&id, regex, keywords);

        let mut allowlist = RuleAllowlistSpec::default();
        for key in ["allowlist", "allowlists"] {
            let Some(v) = get(t, key) else { continue };
            let list = tables(v, key).map_err(|m| self.rule_err(&id, m))?;
            for (i, a) in list.into_iter().enumerate() {
                let label = match v {
                    Value::Array(_) => format!("{key}[{i}]"),
                    _ => key.to_string(),
                };
                self.allowlist(&id, &label, a, &mut allowlist)?;
            }
        }
        let has_allowlist = !allowlist.regexes.is_empty() || !allowlist.stopwords.is_empty();

        Ok(Some(RuleSpec {
            name: (!description.is_empty()).then(|| description.to_string()),
            description: description.to_string(),
            severity: Severity::Medium,
            confidence: Confidence::Medium,
            keywords,
            regex: pattern,
            secret_group,
            entropy,
            min_len: None,
            max_len: None,
            validate: None,
            examples: Vec::new(),
            negative_examples: Vec::new(),
            allowlist: has_allowlist.then_some(allowlist),
            id,
        }))
    }

    /// Lower-cased keywords, or none where gitleaks' meaning cannot be kept: leakhound reports
    /// only matches that contain a keyword, gitleaks any match in a file that contains one.
    /// Without keywords leakhound finds every match, a superset of what gitleaks finds.
    fn keywords(&mut self, id: &str, regex: &str, keywords: Vec<String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in keywords {
            let k = k.to_ascii_lowercase();
            if k.is_empty() {
                self.warn(
                    Some(id),
                    "keywords",
                    "an empty keyword matches every file; the rule's keywords are dropped",
                );
                return Vec::new();
            }
            if !out.contains(&k) {
                out.push(k);
            }
        }
        let text = literal_text(regex);
        if !out.is_empty() && !out.iter().any(|k| text.contains(k.as_str())) {
            self.warn(
                Some(id),
                "keywords",
                "none of them appears in the regex, and leakhound reports only matches that \
                 contain a keyword; dropped, so the rule searches every file",
            );
            return Vec::new();
        }
        out
    }

    /// Merge one gitleaks allowlist of rule `id` into `into`: regexes on the secret and
    /// stopwords are kept; anything else is warned about and left out.
    fn allowlist(
        &mut self,
        id: &str,
        label: &str,
        t: &Table,
        into: &mut RuleAllowlistSpec,
    ) -> Result<(), RuleError> {
        let e = |m: String| self.rule_err(id, format!("{label}: {m}"));
        let and = match string(t, "condition")
            .map_err(e)?
            .unwrap_or("")
            .to_ascii_uppercase()
            .as_str()
        {
            "" | "OR" | "||" => false,
            "AND" | "&&" => true,
            other => {
                return Err(self.rule_err(
                    id,
                    format!("{label}: unknown condition '{other}' (expected AND or OR)"),
                ))
            }
        };
        let target = string(t, "regexTarget")
            .map_err(e)?
            .unwrap_or("secret")
            .to_ascii_lowercase();
        if !matches!(target.as_str(), "secret" | "match" | "line") {
            return Err(self.rule_err(
                id,
                format!("{label}: unknown regexTarget '{target}' (expected secret, match or line)"),
            ));
        }
        let description = string(t, "description").map_err(e)?;
        let regexes = strings(t, "regexes").map_err(e)?;
        let stopwords = strings(t, "stopwords").map_err(e)?;
        let paths = strings(t, "paths").map_err(e)?;
        let commits = strings(t, "commits").map_err(e)?;
        for key in t.keys() {
            let k = key.to_ascii_lowercase();
            if !ALLOWLIST_KEYS.contains(&k.as_str()) && k != "targetrules" {
                self.warn(Some(id), &format!("{label}.{key}"), "unknown key; ignored");
            }
        }

        let present: Vec<&str> = [
            ("commits", commits.len()),
            ("paths", paths.len()),
            ("regexes", regexes.len()),
            ("stopwords", stopwords.len()),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(name, _)| name)
        .collect();
        if and && present.len() > 1 {
            let msg = format!(
                "AND across {} is not supported yet; the whole allowlist is ignored, so what it \
                 allows is reported",
                present.join(" and ")
            );
            self.warn(Some(id), &format!("{label}.condition"), msg);
            return Ok(());
        }
        for (key, n) in [("paths", paths.len()), ("commits", commits.len())] {
            if n > 0 {
                let msg = format!(
                    "not supported per rule yet; ignored, so matches in those {key} are reported"
                );
                self.warn(Some(id), &format!("{label}.{key}"), msg);
            }
        }
        if !regexes.is_empty() {
            if target == "secret" {
                for r in &regexes {
                    let p = go_to_rust(r)
                        .map_err(|m| self.rule_err(id, format!("{label}: allowlist regex: {m}")))?;
                    into.regexes.push(p);
                }
            } else {
                let msg = format!(
                    "allowlist regexes on the {target} are not supported yet (only on the \
                     secret); its {} regex(es) are ignored",
                    regexes.len()
                );
                self.warn(Some(id), &format!("{label}.regexTarget"), msg);
            }
        }
        into.stopwords.extend(stopwords);
        if into.description.is_none() {
            into.description = description.map(str::to_string);
        }
        Ok(())
    }

    /// Warn about disabled ids that name no built-in rule and no rule of this file: gitleaks'
    /// built-in ids are not leakhound's.
    fn check_disabled(&mut self, out: &Loaded) {
        if out.disabled.is_empty() {
            return;
        }
        let mut known: Vec<String> = out.rules.iter().map(|r| r.id.clone()).collect();
        for (name, text) in super::builtin_files() {
            if let Ok(specs) = spec::parse_file(name, text) {
                known.extend(specs.into_iter().map(|s| s.id));
            }
        }
        for id in &out.disabled {
            if !known.contains(id) {
                let msg = format!(
                    "no built-in rule and no rule of this file has id '{id}' (leakhound's \
                     built-in ids are not gitleaks'); it disables nothing unless another rule \
                     file defines it"
                );
                self.warn(None, "extend.disabledRules", msg);
            }
        }
    }
}

/// A regex's text, lower-cased, with escaped punctuation unescaped (`hooks\.slack` becomes
/// `hooks.slack`): good enough to tell whether a keyword is spelled out in it.
fn literal_text(regex: &str) -> String {
    let mut out = String::with_capacity(regex.len());
    let mut chars = regex.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if n.is_ascii_punctuation() {
                    continue;
                }
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Rewrite a Go (RE2) pattern in the rule dialect (Rust `regex` syntax, Unicode off): `\Q...\E`
/// becomes escaped text, octal escapes and code points above ASCII become `\x{..}`, Unicode
/// classes and classes holding non-ASCII get `(?u:...)` (with `\d`, `\w`, `\s` kept ASCII, as in
/// Go), a `{` that is not a repetition is escaped, and inside classes the characters that are
/// set operators or nesting in Rust (`[`, `&&`, `--`, `~~`) are escaped, as are dashes that Go
/// reads literally. Everything else means the same in both and is copied.
pub(crate) fn go_to_rust(pat: &str) -> Result<String, String> {
    let cs: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len() + 8);
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' => i = escape(&cs, i, &mut out)?,
            '[' => i = class(&cs, i, &mut out)?,
            '{' => match repetition_end(&cs, i) {
                Some(end) => {
                    out.extend(&cs[i..=end]);
                    i = end + 1;
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// If `cs[i]` (a `{`) starts a repetition as Go reads it (`{n}`, `{n,}`, `{n,m}`), the index
/// of its `}`. Otherwise Go takes the `{` literally.
fn repetition_end(cs: &[char], i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        let start = j;
        while cs.get(j).is_some_and(char::is_ascii_digit) {
            j += 1;
        }
        (j, j > start)
    };
    let (mut j, min) = digits(i + 1);
    if !min {
        return None;
    }
    if cs.get(j) == Some(&',') {
        j = digits(j + 1).0;
    }
    (cs.get(j) == Some(&'}')).then_some(j)
}

/// A code point as an escape; above ASCII it must be `(?u:...)`, or the bytes mode would read
/// it as one byte.
fn code_point(v: u32, in_class: bool, unicode: &mut bool) -> String {
    if v < 0x80 {
        format!(r"\x{v:02X}")
    } else if in_class {
        *unicode = true;
        format!(r"\x{{{v:X}}}")
    } else {
        format!(r"(?u:\x{{{v:X}}})")
    }
}

/// Read an octal (`\0`, `\12`, `\101`) or hex (`\x41`, `\x{263a}`) escape at `cs[i]`; its
/// value and the index after it, or `None` if it is neither (left for the parser to judge).
fn numeric_escape(cs: &[char], i: usize) -> Option<(u32, usize)> {
    let n = *cs.get(i + 1)?;
    let is_oct = |c: Option<&char>| c.is_some_and(|c| ('0'..='7').contains(c));
    match n {
        '0'..='7' => {
            // Go: `\1`..`\7` alone would be a backreference; with a following digit, octal.
            if n != '0' && !is_oct(cs.get(i + 2)) {
                return None;
            }
            let mut v = 0;
            let mut j = i + 1;
            while j < i + 4 && is_oct(cs.get(j)) {
                v = v * 8 + cs[j].to_digit(8)?;
                j += 1;
            }
            Some((v, j))
        }
        'x' if cs.get(i + 2) == Some(&'{') => {
            let close = (i + 3..cs.len()).find(|&j| cs[j] == '}')?;
            let hex: String = cs[i + 3..close].iter().collect();
            Some((u32::from_str_radix(&hex, 16).ok()?, close + 1))
        }
        'x' => {
            let hex: String = cs.get(i + 2..i + 4)?.iter().collect();
            Some((u32::from_str_radix(&hex, 16).ok()?, i + 4))
        }
        _ => None,
    }
}

/// A Unicode class escape at `cs[i]` (`\pL`, `\p{Greek}`, `\P{^Greek}`) in Rust spelling, and
/// the index after it.
fn unicode_class(cs: &[char], i: usize) -> Result<(String, usize), String> {
    let mut negate = cs.get(i + 1) == Some(&'P');
    match cs.get(i + 2) {
        Some('{') => {
            let close = (i + 3..cs.len())
                .find(|&j| cs[j] == '}')
                .ok_or("missing } in a Unicode class")?;
            let mut name: String = cs[i + 3..close].iter().collect();
            if let Some(rest) = name.strip_prefix('^') {
                negate = !negate;
                name = rest.to_string();
            }
            let p = if negate { 'P' } else { 'p' };
            Ok((format!(r"\{p}{{{name}}}"), close + 1))
        }
        Some(&c) => Ok((format!(r"\{}{c}", cs[i + 1]), i + 3)),
        None => Err("missing name after \\p".into()),
    }
}

/// Rewrite the escape at `cs[i]` (outside a class) into `out`; the index after it.
fn escape(cs: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let Some(&n) = cs.get(i + 1) else {
        return Err("trailing backslash at end of expression".into());
    };
    match n {
        'Q' => {
            let start = i + 2;
            let end = (start..cs.len())
                .find(|&j| cs[j] == '\\' && cs.get(j + 1) == Some(&'E'))
                .unwrap_or(cs.len());
            let text: String = cs[start..end].iter().collect();
            out.push_str(&regex_syntax::escape(&text));
            Ok((end + 2).min(cs.len()))
        }
        'p' | 'P' => {
            let (class, next) = unicode_class(cs, i)?;
            out.push_str(&format!("(?u:{class})"));
            Ok(next)
        }
        _ => {
            if let Some((v, next)) = numeric_escape(cs, i) {
                out.push_str(&code_point(v, false, &mut false));
                return Ok(next);
            }
            out.push('\\');
            out.push(n);
            Ok(i + 2)
        }
    }
}

/// One part of a character class.
enum ClassItem {
    /// Text copied into the Rust class as is.
    Text(String),
    /// A Perl class letter (`d`, `w`, `s` and upper-case), written as an ASCII POSIX class if
    /// the class must be Unicode-aware.
    Perl(char),
}

/// Rewrite the class starting at `cs[i]` (a `[`) into `out`; the index after its `]`.
fn class(cs: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let mut j = i + 1;
    let negated = cs.get(j) == Some(&'^');
    if negated {
        j += 1;
    }
    let mut items = Vec::new();
    let mut unicode = false;
    let mut first = true;
    loop {
        let Some(&c) = cs.get(j) else {
            return Err("missing closing ] of a character class".into());
        };
        if c == ']' && !first {
            j += 1;
            break;
        }
        first = false;
        if c == '[' && cs.get(j + 1) == Some(&':') {
            if let Some(end) =
                (j + 2..cs.len()).find(|&k| cs[k] == ':' && cs.get(k + 1) == Some(&']'))
            {
                items.push(ClassItem::Text(cs[j..end + 2].iter().collect()));
                j = end + 2;
                continue;
            }
        }
        if c == '\\' {
            match cs.get(j + 1) {
                Some(&p @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) => {
                    items.push(ClassItem::Perl(p));
                    j += 2;
                    continue;
                }
                Some('p' | 'P') => {
                    let (text, next) = unicode_class(cs, j)?;
                    items.push(ClassItem::Text(text));
                    unicode = true;
                    j = next;
                    continue;
                }
                _ => {}
            }
        }
        let (lo, next) = class_char(cs, j, &mut unicode)?;
        j = next;
        // Go reads `-` as a range only after a single character and before anything but `]`.
        if cs.get(j) == Some(&'-') && cs.get(j + 1).is_some_and(|&c| c != ']') {
            let (hi, next) = class_char(cs, j + 1, &mut unicode)?;
            items.push(ClassItem::Text(format!("{lo}-{hi}")));
            j = next;
        } else {
            items.push(ClassItem::Text(lo));
        }
    }
    let body: String = items
        .iter()
        .map(|it| match it {
            ClassItem::Text(s) => s.clone(),
            ClassItem::Perl(p) if unicode => match p {
                'd' => "[:digit:]",
                'D' => "[:^digit:]",
                's' => "[:space:]",
                'S' => "[:^space:]",
                'w' => "[:word:]",
                _ => "[:^word:]",
            }
            .to_string(),
            ClassItem::Perl(p) => format!(r"\{p}"),
        })
        .collect();
    let neg = if negated { "^" } else { "" };
    if unicode {
        out.push_str(&format!("(?u:[{neg}{body}])"));
    } else {
        out.push_str(&format!("[{neg}{body}]"));
    }
    Ok(j)
}

/// One character of a class (a range end), in Rust spelling, and the index after it.
fn class_char(cs: &[char], j: usize, unicode: &mut bool) -> Result<(String, usize), String> {
    let c = cs[j];
    if c != '\\' {
        if !c.is_ascii() {
            *unicode = true;
            return Ok((c.to_string(), j + 1));
        }
        // Set operators, nesting and range dashes in Rust; plain characters in Go.
        if matches!(c, '[' | ']' | '&' | '~' | '-' | '^') {
            return Ok((format!(r"\{c}"), j + 1));
        }
        return Ok((c.to_string(), j + 1));
    }
    match cs.get(j + 1) {
        None => Err("trailing backslash in a character class".into()),
        Some('d' | 'D' | 's' | 'S' | 'w' | 'W' | 'p' | 'P') => {
            Err("a class like \\w cannot end a character class range".into())
        }
        Some('Q') => Err("\\Q...\\E inside a character class is not supported".into()),
        Some(&n) => match numeric_escape(cs, j) {
            Some((v, next)) => Ok((code_point(v, true, unicode), next)),
            None => Ok((format!(r"\{n}"), j + 2)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::analysis::parse_pattern;
    use crate::rules::compile::build_regex;

    /// Named rows: a Go pattern, texts it must match and texts it must not, as Go reads it.
    const ROWS: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "plain",
            r"(?i)\bab_[0-9a-f]{4}\b",
            &["AB_00ff"],
            &["ab_00fz"],
        ),
        ("quoted", r"\Qa.b*\E[0-9]", &["a.b*1"], &["axb*1", "a.bb1"]),
        ("quoted-to-end", r"x\Q+(", &["x+("], &["x"]),
        ("octal", r"\101\0\12", &["A\0\n"], &["A\0"]),
        ("hex", r"\x41\x{42}", &["AB"], &["ab"]),
        ("hex-above-ascii", r"\x{e9}", &["\u{e9}"], &["\u{c9}"]),
        ("literal-brace", r"\$\{a{2}}", &["${aa}"], &["${a}"]),
        ("brace-no-number", r"a{,3}", &["a{,3}"], &["aaa"]),
        ("perl-then-dash", r"^[\w-.]+$", &["a-b.c"], &["a/b"]),
        ("range-then-dash", r"^[a-c-x]+$", &["a-x"], &["d"]),
        ("double-dash", r"^[!--]+$", &["!,-"], &["a"]),
        ("ampersands", r"^[a&&b]+$", &["a&b"], &["c"]),
        ("tildes", r"^[a~~b]+$", &["~ab"], &["c"]),
        ("open-bracket", r"^[[a]+$", &["[a"], &["b"]),
        ("close-bracket-first", r"^[]a]+$", &["]a"], &["b"]),
        ("posix", r"^[[:alpha:]_]+$", &["ab_"], &["a1"]),
        (
            "unicode-class",
            r"^\p{Greek}+$",
            &["\u{3b1}\u{3b2}"],
            &["ab"],
        ),
        ("negated-unicode", r"^\p{^Greek}$", &["a"], &["\u{3b1}"]),
        ("unicode-in-class", r"^[\pL\d]+$", &["a\u{e9}1"], &["-"]),
        ("non-ascii-in-class", r"^[é\w]+$", &["\u{e9}a_"], &["-"]),
        (
            "ascii-digit-in-unicode-class",
            r"^[\d\x{e9}]+$",
            &["1\u{e9}"],
            &["\u{664}"],
        ),
        ("escaped-punct", r"\/\_\#\'", &["/_#'"], &["x"]),
    ];

    #[test]
    fn go_patterns_mean_the_same() {
        for &(name, go, yes, no) in ROWS {
            let rust = go_to_rust(go).unwrap_or_else(|e| panic!("{name}: {e}"));
            let hir = parse_pattern(&rust).unwrap_or_else(|e| panic!("{name}: {rust}: {e}"));
            let re = build_regex(&hir).unwrap();
            for y in yes {
                assert!(
                    re.is_match(y.as_bytes()),
                    "{name}: {rust} should match {y:?}"
                );
            }
            for n in no {
                assert!(
                    !re.is_match(n.as_bytes()),
                    "{name}: {rust} should not match {n:?}"
                );
            }
        }
    }

    #[test]
    fn go_patterns_that_stay_errors() {
        for (name, go) in [
            ("unclosed-class", r"[a-z"),
            ("trailing-backslash", "ab\\"),
            ("quote-in-class", r"[\Qa\E]"),
            ("class-as-range-end", r"[a-\w]"),
        ] {
            assert!(go_to_rust(go).is_err(), "{name}");
        }
        // Backreferences are left for the parser, whose message says what is wrong.
        let rust = go_to_rust(r"(a)\1").unwrap();
        assert!(parse_pattern(&rust).unwrap_err().contains("backreference"));
    }

    /// Random strings of regex punctuation: the rewrite returns, never panics, and what it
    /// returns the parser takes or rejects without panicking.
    #[test]
    fn rewrite_never_panics() {
        let alphabet: Vec<char> = r"\[]{}()-^:&~pPQEx0179a,|*é".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 14) as usize;
            let pat: String = (0..len)
                .map(|k| alphabet[((state >> (k * 4 % 60)) as usize) % alphabet.len()])
                .collect();
            if let Ok(rust) = go_to_rust(&pat) {
                let _ = parse_pattern(&rust);
            }
        }
    }

    #[test]
    fn detection() {
        let native = "[[rules]]\nid = \"a\"\nregex = 'x'\nseverity = \"high\"\ntags = [\"t\"]\n";
        let gitleaks = "title = \"t\"\n[[rules]]\nid = \"a\"\nregex = 'x'\n";
        let rule_marker = "[[rules]]\nid = \"a\"\nregex = 'x'\ntags = [\"t\"]\n";
        let typo = "[[rules]]\nid = \"a\"\nregex = 'x'\nkeyword = [\"t\"]\n";
        let is = |s: &str| is_gitleaks(&toml::from_str::<Table>(s).unwrap());
        assert!(!is(native), "a native-only key wins");
        assert!(is(gitleaks));
        assert!(is(rule_marker));
        assert!(!is(typo), "a typo in a native file is not gitleaks");
    }
}
