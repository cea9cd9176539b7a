//! Fuzz rule loading: any text given as a user rule file (native or gitleaks) must load or fail
//! with an error, never panic. A rule set that builds must be well formed (ids unique and not
//! empty, keywords lower-case and distinct), `rules check` must run on it, and the engine,
//! scanning every example and negative example with all the rules at once, must keep its result
//! contract (`leakhound_fuzz::check_matches`), with each rule's regex re-run by the oracle.

#![no_main]

use std::collections::HashSet;
use std::sync::Arc;

use leakhound::rules::{check, RuleSetBuilder};
use leakhound::Scanner;
use leakhound_fuzz::{check_matches, Oracle};
use libfuzzer_sys::fuzz_target;

/// Largest rule file tried.
const MAX_TEXT: usize = 16 * 1024;

fuzz_target!(|text: &str| {
    if text.len() > MAX_TEXT {
        return;
    }
    let mut b = RuleSetBuilder::new();
    b.builtin(false);
    if let Err(e) = b.add_toml("fuzz.toml", text) {
        assert!(!e.to_string().is_empty());
        return;
    }
    for w in b.warnings() {
        assert!(w.to_string().starts_with("fuzz.toml: "), "{w}");
    }
    let set = match b.build() {
        Ok(set) => set,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml: "), "{e}");
            return;
        }
    };
    let mut ids = HashSet::new();
    for r in set.rules() {
        assert!(!r.id.trim().is_empty(), "empty id");
        assert!(ids.insert(r.id.as_str()), "duplicate id {}", r.id);
        let mut kw = HashSet::new();
        for k in &r.keywords {
            assert!(!k.is_empty(), "rule {}: empty keyword", r.id);
            assert_eq!(
                *k,
                k.to_ascii_lowercase(),
                "rule {}: keyword not lower-case",
                r.id
            );
            assert!(kw.insert(k), "rule {}: keyword {k:?} twice", r.id);
        }
    }
    let report = check::check(&set);
    assert_eq!(report.rules, set.len());
    let examples: usize = set
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    assert_eq!(report.examples, examples);

    let oracle = Oracle::new(&set);
    let set = Arc::new(set);
    let scanner = Scanner::new(Arc::clone(&set));
    let mut scratch = scanner.scratch();
    for r in set.rules() {
        for ex in r.examples.iter().chain(&r.negative_examples) {
            let hay = ex.text();
            let hay = hay.as_bytes();
            let matches = scanner.scan(hay, &mut scratch).to_vec();
            check_matches(&set, &oracle, hay, &matches, None);
        }
    }
});
