//! Rule accuracy: score the built-in rules on a generated, labelled corpus.
//!
//! The corpus (`tests/accuracy/`) holds, for every provider family of the built-in rules, true
//! secrets of the documented format made at run time and placed in realistic files (source in a
//! dozen languages, `.env`, YAML, JSON, XML, properties, INI/TOML, Dockerfiles, Terraform, CI
//! files, logs, shell commands, connection strings, PEM blocks, `.netrc`, Kubernetes Secrets,
//! ...), each with three hard negatives in the same file: a near miss of the format (wrong
//! length, alphabet or checksum, a documented example key), a placeholder or masked value, and
//! an environment lookup or template reference. Stand-alone negative files (lock-file hashes,
//! UUIDs, public keys, minified code, fixtures) come on top. Every file records the byte spans
//! of its true secrets.
//!
//! A finding is a true positive if its secret overlaps a labelled secret, else a false positive;
//! a labelled secret that no finding overlaps is a false negative; findings on text labelled
//! neutral (a user name beside a password) count neither way. The test prints per-provider recall
//! and the misses (values redacted to 4 characters) and asserts the targets.
//!
//! `ACCURACY_PER_KIND=N` changes the number of true secrets per kind (default 10; generic kinds get
//! four times as many);
//! `ACCURACY_SEED=N` the seed; `ACCURACY_VERBOSE=1` lists every miss instead of the first 40;
//! `ACCURACY_RULES_DIR=DIR` scores the rule files in DIR instead of the built-in ones;
//! `ACCURACY_REPEAT=N` adds N timing-only scans and reports the fastest (compare rule libraries
//! with `cargo test --release`).

mod util;

#[path = "accuracy/contexts.rs"]
mod contexts;
#[path = "accuracy/corpus.rs"]
mod corpus;
#[path = "accuracy/doc.rs"]
mod doc;
#[path = "accuracy/gen.rs"]
mod gen;
#[path = "accuracy/kinds.rs"]
mod kinds;
#[path = "accuracy/noise.rs"]
mod noise;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use leakhound::rules::RuleSet;
use leakhound::Scanner;

const RECALL_TARGET: f64 = 0.95;
const PRECISION_TARGET: f64 = 0.90;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first four characters and a marker: enough to recognise, never the secret.
fn redact(s: &str) -> String {
    let head: String = s.chars().take(4).filter(|c| !c.is_control()).collect();
    format!("{head}…")
}

#[derive(Default)]
struct Family {
    secrets: usize,
    found: usize,
    /// Found by the rule written for this kind (rather than a generic or neighbouring one).
    by_own_rule: usize,
}

struct Score {
    report: String,
    recall: f64,
    precision: f64,
}

fn score(c: &corpus::Corpus, set: &Arc<RuleSet>, verbose: bool) -> Score {
    let scanner = Scanner::new(Arc::clone(set));
    let mut scratch = scanner.scratch();
    let mut fam: BTreeMap<&str, Family> = BTreeMap::new();
    let (mut tp, mut fp, mut secrets, mut found) = (0usize, 0usize, 0usize, 0usize);
    let mut neutral = 0usize;
    // (rule, context) -> (count, example)
    let mut fps: BTreeMap<(String, &str), (usize, String)> = BTreeMap::new();
    let mut fns: BTreeMap<(&str, &str), (usize, String)> = BTreeMap::new();
    let mut bytes = 0usize;
    // `ACCURACY_REPEAT=N`: N timing-only passes first (the first also compiles lazy regexes);
    // the fastest is reported, for comparing the speed of rule libraries.
    let mut fastest: Option<std::time::Duration> = None;
    for _ in 0..env_num("ACCURACY_REPEAT", 0) {
        let t = Instant::now();
        for d in &c.docs {
            scanner.scan(d.text.as_bytes(), &mut scratch);
        }
        let e = t.elapsed();
        fastest = Some(fastest.map_or(e, |f| f.min(e)));
    }
    let t0 = Instant::now();
    for d in &c.docs {
        bytes += d.text.len();
        let hay = d.text.as_bytes();
        let matches = scanner.scan(hay, &mut scratch);
        let mut hit = vec![false; d.labels.len()];
        let mut own = vec![false; d.labels.len()];
        for m in matches {
            let rule = set.get(m.rule as usize);
            let mut is_tp = false;
            for (li, l) in d.labels.iter().enumerate() {
                if m.secret_start < l.span.end && l.span.start < m.secret_end {
                    is_tp = true;
                    hit[li] = true;
                    if c.kinds[l.kind].is_own_rule(&rule.id) {
                        own[li] = true;
                    }
                }
            }
            if is_tp {
                tp += 1;
            } else if d
                .neutral
                .iter()
                .any(|n| m.secret_start < n.end && n.start < m.secret_end)
            {
                neutral += 1;
            } else {
                fp += 1;
                let val = String::from_utf8_lossy(&hay[m.secret_start..m.secret_end]);
                let e = fps
                    .entry((rule.id.clone(), d.ctx))
                    .or_insert((0, format!("{} in {}", redact(&val), d.path)));
                e.0 += 1;
            }
        }
        for (li, l) in d.labels.iter().enumerate() {
            let k = &c.kinds[l.kind];
            let f = fam.entry(k.provider).or_default();
            f.secrets += 1;
            secrets += 1;
            if hit[li] {
                f.found += 1;
                found += 1;
            } else {
                let val = &d.text[l.span.clone()];
                let e = fns
                    .entry((k.main_rule(), d.ctx))
                    .or_insert((0, format!("{} in {}", redact(val), d.path)));
                e.0 += 1;
            }
            if own[li] {
                f.by_own_rule += 1;
            }
        }
    }
    let elapsed = t0.elapsed();
    let recall = found as f64 / secrets.max(1) as f64;
    let precision = tp as f64 / (tp + fp).max(1) as f64;

    let mut r = String::new();
    let _ = writeln!(
        r,
        "accuracy corpus: {} files, {:.1} MB, {} kinds in {} provider families; {} true-secret cases \
         ({} labelled secrets), {} negative files; scanned in {:.2?}",
        c.docs.len(),
        bytes as f64 / 1e6,
        c.kinds.len(),
        fam.len(),
        c.positives,
        secrets,
        c.negatives,
        elapsed
    );
    if let Some(f) = fastest {
        let mbs = bytes as f64 / 1e6 / f.as_secs_f64();
        let _ = writeln!(r, "fastest timing pass: {f:.2?} ({mbs:.1} MB/s)");
    }
    let _ = writeln!(
        r,
        "\n{:<22} {:>7} {:>6} {:>7} {:>9}",
        "provider", "secrets", "found", "recall", "own-rule"
    );
    for (p, f) in &fam {
        let _ = writeln!(
            r,
            "{:<22} {:>7} {:>6} {:>6.1}% {:>8.1}%{}",
            p,
            f.secrets,
            f.found,
            100.0 * f.found as f64 / f.secrets.max(1) as f64,
            100.0 * f.by_own_rule as f64 / f.secrets.max(1) as f64,
            if f.found < f.secrets { "  <" } else { "" }
        );
    }
    let _ = writeln!(
        r,
        "\noverall: recall {:.2}% ({found}/{secrets}), precision {:.2}% ({tp} true / {fp} false findings; \
         {neutral} on neutral text not counted)",
        100.0 * recall,
        100.0 * precision
    );
    let limit = if verbose { usize::MAX } else { 40 };
    let mut fpv: Vec<_> = fps.into_iter().collect();
    fpv.sort_by_key(|e| std::cmp::Reverse(e.1 .0));
    let _ = writeln!(
        r,
        "\nfalse positives by (rule, context): {} groups",
        fpv.len()
    );
    for ((rule, ctx), (n, ex)) in fpv.iter().take(limit) {
        let _ = writeln!(r, "  {n:>4}  {rule:<40} {ctx:<20} e.g. {ex}");
    }
    let mut fnv: Vec<_> = fns.into_iter().collect();
    fnv.sort_by_key(|e| std::cmp::Reverse(e.1 .0));
    let _ = writeln!(
        r,
        "\nfalse negatives by (expected rule, context): {} groups",
        fnv.len()
    );
    for ((rule, ctx), (n, ex)) in fnv.iter().take(limit) {
        let _ = writeln!(r, "  {n:>4}  {rule:<40} {ctx:<20} e.g. {ex}");
    }
    Score {
        report: r,
        recall,
        precision,
    }
}

/// The built-in rules, or with `ACCURACY_RULES_DIR=DIR` the rule files in DIR instead (to compare
/// a rule library against the built-in one on the same corpus).
fn rules() -> RuleSet {
    let Some(dir) = std::env::var_os("ACCURACY_RULES_DIR") else {
        return RuleSet::builtin().expect("built-in rules compile");
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("ACCURACY_RULES_DIR can be read")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut b = leakhound::RuleSetBuilder::new();
    b.builtin(false);
    for f in &files {
        b.add_file(f).expect("rule file loads");
    }
    b.build().expect("rules compile")
}

#[test]
fn builtin_rules_meet_recall_and_precision_targets() {
    let seed = env_num("ACCURACY_SEED", 0x1ea4_4a0d);
    let per_kind = env_num("ACCURACY_PER_KIND", 10) as usize;
    let verbose = std::env::var_os("ACCURACY_VERBOSE").is_some();
    let t0 = Instant::now();
    let c = corpus::build(seed, per_kind);
    let built = t0.elapsed();
    let set = Arc::new(rules());
    let s = score(&c, &set, verbose);
    println!("{}", s.report);
    println!("corpus built in {built:.2?} (seed {seed:#x}, {per_kind} per kind)");
    assert!(
        s.recall >= RECALL_TARGET,
        "recall {:.2}% is below the {:.0}% target",
        100.0 * s.recall,
        100.0 * RECALL_TARGET
    );
    assert!(
        s.precision >= PRECISION_TARGET,
        "precision {:.2}% is below the {:.0}% target",
        100.0 * s.precision,
        100.0 * PRECISION_TARGET
    );
}

/// The generators are right about the formats: each kind's true secret, on its own line
/// (`NAME=value`, or its own structure), is found by the rule written for it alone. A failure
/// here is a generator bug (or a rule that no longer accepts its documented format).
#[test]
fn every_kind_is_found_by_its_own_rule_in_a_plain_setting() {
    let set = RuleSet::builtin().expect("built-in rules compile");
    let kinds = kinds::all();
    let mut g = util::Gen::new(7);
    let mut bad = Vec::new();
    for k in &kinds {
        let own: Vec<_> = set
            .rules()
            .iter()
            .filter(|r| k.is_own_rule(&r.id))
            .cloned()
            .collect();
        if own.len() != k.rule.split('|').count() {
            bad.push(format!("{}: no such rule", k.rule));
            continue;
        }
        let scanner = Scanner::new(Arc::new(RuleSet::from_rules(own)));
        let mut scratch = scanner.scratch();
        for _ in 0..4 {
            let secret = (k.secret)(&mut g);
            let v = k.build(&mut g, &doc::Val::secret(secret));
            let (text, at) = match k.shape {
                kinds::Shape::Token | kinds::Shape::Named | kinds::Shape::Line => {
                    let pre = format!("{}=", k.names[0]);
                    (format!("{pre}{}\n", v.text), pre.len())
                }
                _ => (format!("{}\n", v.text), 0),
            };
            let ok = v.spans.iter().all(|sp| {
                scanner
                    .scan(text.as_bytes(), &mut scratch)
                    .iter()
                    .any(|m| m.secret_start < sp.end + at && sp.start + at < m.secret_end)
            });
            if !ok {
                bad.push(format!("{}: {}", k.main_rule(), redact(&v.text)));
            }
        }
    }
    // Every built-in rule has a kind.
    for r in set.rules() {
        if !kinds.iter().any(|k| k.is_own_rule(&r.id)) {
            bad.push(format!("{}: no kind generates secrets for this rule", r.id));
        }
    }
    assert!(
        bad.is_empty(),
        "generator/rule mismatches:\n{}",
        bad.join("\n")
    );
}
