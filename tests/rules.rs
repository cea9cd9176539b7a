//! The built-in rule library as data under test: every rule compiles, has examples and negative
//! examples that the real engine finds and does not find, declares keywords, and the repository
//! itself (rule files included) scans clean.

mod util;

use leakhound::rules::{check, RuleSet};

#[test]
fn builtin_rules_pass_their_examples() {
    let set = RuleSet::builtin().expect("built-in rules compile");
    let report = check::check(&set);
    assert!(
        report.ok(),
        "rules check failed:\n{}",
        report.errors.join("\n")
    );
    assert!(set.len() >= 30, "only {} rules", set.len());
}

#[test]
fn builtin_rules_all_have_declared_keywords() {
    let set = RuleSet::builtin().unwrap();
    let without: Vec<_> = set
        .rules()
        .iter()
        .filter(|r| r.keywords_derived || r.keywords.is_empty())
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        without.is_empty(),
        "rules without declared keywords: {without:?}"
    );
}

#[test]
fn rules_check_command_passes_on_builtins() {
    let (code, out, err) = util::Cmd::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["rules", "check"])
        .run();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(": ok\n"), "{out}");
}

#[test]
fn rules_list_shows_every_rule() {
    let set = RuleSet::builtin().unwrap();
    let (code, out, _) = util::Cmd::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["rules", "list"])
        .run();
    assert_eq!(code, 0);
    assert!(out.ends_with(&format!("{} rules\n", set.len())), "{out}");
    for r in set.rules() {
        assert!(out.contains(&r.id), "{} missing", r.id);
    }
}

/// Regression: fake credentials in the repository trip push protection and other scanners, so
/// tests build them at run time and rule examples are stored split.
#[test]
fn repository_scans_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = util::Cmd::new(root).args(["scan", "."]).run();
    assert_eq!(code, 0, "the repository has findings:\n{out}\n{err}");
}
