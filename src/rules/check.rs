//! `leakhound rules check`: every rule is run, alone, through the real engine (prefilter, windowed
//! regex, secret checks) on its examples, which must be found, and its negative examples, which
//! must not. It also lints what would make a rule silently weak: a declared keyword that no example
//! contains, an example whose plain regex match the prefilter path misses (a match without a
//! keyword), and rules with no keyword at all (they search every byte).

use std::sync::Arc;

use super::{Rule, RuleSet};
use crate::engine::Scanner;

/// The outcome of checking a rule set.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Rules checked.
    pub rules: usize,
    /// Examples run (positive and negative).
    pub examples: usize,
    /// Problems that make the check fail, each naming file and rule.
    pub errors: Vec<String>,
    /// Problems worth a look.
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// True if nothing failed.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Check every rule of `set`.
pub fn check(set: &RuleSet) -> CheckReport {
    let mut report = CheckReport::default();
    for rule in set.rules() {
        check_rule(rule, &mut report);
    }
    report
}

fn check_rule(rule: &Rule, report: &mut CheckReport) {
    report.rules += 1;
    let at = format!("{}: rule '{}'", rule.file, rule.id);
    let mut err = |m: String| report.errors.push(format!("{at}: {m}"));
    if rule.examples.is_empty() {
        err("has no examples".into());
    }
    if rule.negative_examples.is_empty() {
        err("has no negative_examples".into());
    }
    let scanner = Scanner::new(Arc::new(RuleSet::from_rules(vec![rule.clone()])));
    let mut scratch = scanner.scratch();
    let mut keyword_seen = vec![false; rule.keywords.len()];
    for (i, ex) in rule.examples.iter().enumerate() {
        let text = ex.text();
        let lower = text.to_ascii_lowercase();
        for (k, kw) in rule.keywords.iter().enumerate() {
            keyword_seen[k] |= lower.contains(kw.as_str());
        }
        let found = scanner.scan(text.as_bytes(), &mut scratch).len();
        if found == 0 {
            err(format!("example {} is not found", i + 1));
        }
        let plain = plain_matches(rule, text.as_bytes());
        if plain > found {
            err(format!(
                "example {}: the regex matches {plain} time(s) but only {found} match(es) contain a keyword",
                i + 1
            ));
        }
    }
    for (i, ex) in rule.negative_examples.iter().enumerate() {
        let text = ex.text();
        if !scanner.scan(text.as_bytes(), &mut scratch).is_empty() {
            err(format!("negative example {} is found", i + 1));
        }
    }
    if !rule.keywords_derived {
        for (k, seen) in keyword_seen.iter().enumerate() {
            if !seen {
                err(format!(
                    "keyword '{}' occurs in none of the examples",
                    rule.keywords[k]
                ));
            }
        }
    }
    report.examples += rule.examples.len() + rule.negative_examples.len();
    if rule.keywords.is_empty() {
        report.warnings.push(format!(
            "{at}: no keywords, and none could be derived from the regex: it searches every byte"
        ));
    } else if rule.keywords_derived {
        report.warnings.push(format!(
            "{at}: no keywords declared; using the regex's prefixes {:?}",
            rule.keywords
        ));
    }
}

/// Matches of the bare regex over the whole text whose secret passes the rule's checks, found
/// without the prefilter: the reference the prefilter path must equal.
fn plain_matches(rule: &Rule, text: &[u8]) -> usize {
    let mut bare = rule.clone();
    bare.keywords.clear();
    let scanner = Scanner::new(Arc::new(RuleSet::from_rules(vec![bare])));
    let mut scratch = scanner.scratch();
    scanner.scan(text, &mut scratch).len()
}
