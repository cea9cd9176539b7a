//! gitleaks configuration files given to `--config`: converted into rules through the library's
//! builder and through the real binary, with a warning naming every field that is not carried
//! over. The config below is written for these tests (a made-up provider, "Zorp"); every value
//! that looks like a credential is generated at test time.

mod util;

use std::sync::Arc;

use leakhound::rules::{Confidence, RuleError, RuleSet, RuleSetBuilder, Severity};
use leakhound::{Scanner, Scratch};
use util::{Dir, Gen, BASE62};

/// A gitleaks config using most of what gitleaks offers.
const CONFIG: &str = r#"
title = "Zorp secret scanning"

[extend]
useDefault = true
disabledRules = ["aws-session-token", "generic-api-key"]

# Global: leakhound warns and reports what it would allow.
[[allowlists]]
description = "vendored code"
paths = ['''(^|/)vendor/''']

# Targeted: becomes part of the rule's own allowlist.
[[allowlists]]
targetRules = ["zorp-session"]
stopwords = ["placeholder"]

[[rules]]
id = "zorp-live-key"
description = "Zorp live API key"
regex = '''\b(zorp_live_[0-9A-Za-z]{32})\b'''
secretGroup = 1
keywords = ["ZORP_LIVE_"]
tags = ["zorp", "key"]

  [[rules.allowlists]]
  description = "the documented test key"
  regexes = ['''^zorp_live_0{8}''']
  stopwords = ["sample"]

  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''zorp:ignore''']
  paths = ['''fixtures/''']

[[rules]]
id = "zorp-webhook-secret"
description = "Zorp webhook signing secret"
regex = '''(?i)(zorp[\w-.]{0,20}hook)\s*[:=]\s*["']?([0-9a-f]{40})\b'''
secretGroup = 2
entropy = 3.0
keywords = ["zorp"]
tags = ["zorp", "webhook"]

  [rules.allowlist]
  regexes = ['''^0123456789abcdef''']
  commits = ["4b825dc642cb6eb9a060e54bf8d69288fbee4904"]

[[rules]]
id = "zorp-keystore-file"
description = "Zorp keystore file"
path = '''\.zks$'''

[[rules]]
id = "zorp-session"
description = "Zorp session cookie"
regex = '''zsess=([A-Za-z0-9]{24})'''
keywords = ["zsess="]

  [[rules.allowlists]]
  condition = "AND"
  paths = ['''test/''']
  regexes = ['''^A{4}''']

[[rules]]
id = "zorp-account-id"
description = "Zorp account id"
regex = '''\bZA-\Q(\E[0-9]{10}\)'''
keywords = ["zorp"]
"#;

fn builder(file: &str, text: &str) -> Result<RuleSetBuilder, RuleError> {
    let mut b = RuleSetBuilder::new();
    b.add_toml(file, text)?;
    Ok(b)
}

fn warnings(b: &RuleSetBuilder) -> Vec<String> {
    b.warnings().iter().map(ToString::to_string).collect()
}

/// Planted values: found by the converted rules.
struct Planted {
    live_key: String,
    webhook: String,
    session: String,
    account: String,
}

impl Planted {
    fn new(g: &mut Gen) -> Planted {
        Planted {
            live_key: format!("zorp_live_{}", g.string(BASE62, 32)),
            webhook: g.string("0123456789abcdef", 40),
            session: g.string(BASE62, 24),
            account: format!("ZA-({})", g.string("0123456789", 10)),
        }
    }

    fn text(&self) -> String {
        format!(
            "ZORP_LIVE={}\nzorp_webhook: \"{}\"\nCookie: zsess={}\n{}\n",
            self.live_key, self.webhook, self.session, self.account
        )
    }
}

/// Values each rule's allowlist drops, and the secrets they hold.
fn allowlisted(g: &mut Gen) -> (String, Vec<String>) {
    let secrets = vec![
        format!("zorp_live_{}{}", "0".repeat(8), g.string(BASE62, 24)),
        format!("zorp_live_Sample{}", g.string(BASE62, 26)),
        format!("0123456789abcdef{}", g.string("0123456789abcdef", 24)),
        format!("Placeholder{}", g.string(BASE62, 13)),
    ];
    let text = format!(
        "ZORP_LIVE={}\nZORP_LIVE={}\nZORP_WEBHOOK={}\nCookie: zsess={}\n",
        secrets[0], secrets[1], secrets[2], secrets[3]
    );
    (text, secrets)
}

#[test]
fn converts_rules_through_the_builder() {
    let b = builder("gitleaks.toml", CONFIG).expect("the gitleaks config loads");
    let set = b.build().expect("the converted rules compile");
    let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    for id in [
        "zorp-live-key",
        "zorp-webhook-secret",
        "zorp-session",
        "zorp-account-id",
    ] {
        assert!(ids.contains(&id), "{id} missing");
    }
    assert!(!ids.contains(&"zorp-keystore-file"), "path-only rule kept");
    assert!(!ids.contains(&"aws-session-token"), "disabledRules ignored");
    assert!(
        ids.contains(&"aws-access-key-id"),
        "built-ins kept (useDefault)"
    );

    let live = set
        .rules()
        .iter()
        .find(|r| r.id == "zorp-live-key")
        .unwrap();
    assert_eq!(live.name, "Zorp live API key");
    assert_eq!(live.description, "Zorp live API key");
    assert_eq!(live.severity, Severity::Medium);
    assert_eq!(live.confidence, Confidence::Medium);
    assert_eq!(live.keywords, ["zorp_live_"]);
    assert!(!live.keywords_derived);
    assert!(live.examples.is_empty() && live.negative_examples.is_empty());
    assert_eq!(live.file, "gitleaks.toml");
    // The keyword "zorp" never appears in the account id regex: dropped, and derived instead.
    let account = set
        .rules()
        .iter()
        .find(|r| r.id == "zorp-account-id")
        .unwrap();
    assert!(account.keywords_derived, "{:?}", account.keywords);
}

#[test]
fn warnings_name_file_rule_and_field() {
    let b = builder("gitleaks.toml", CONFIG).unwrap();
    let got = warnings(&b);
    let expected = [
        "gitleaks.toml: [[allowlists]][0]: global allowlists are not supported yet",
        "gitleaks.toml: rule 'zorp-live-key': allowlists[1].paths: not supported per rule yet",
        "gitleaks.toml: rule 'zorp-live-key': allowlists[1].regexTarget: allowlist regexes on \
         the line are not supported yet",
        "gitleaks.toml: rule 'zorp-webhook-secret': allowlist.commits: not supported per rule \
         yet",
        "gitleaks.toml: rule 'zorp-keystore-file': path: rules that match only a file path are \
         not supported yet; skipped",
        "gitleaks.toml: rule 'zorp-session': allowlists[0].condition: AND across paths and \
         regexes is not supported yet",
        "gitleaks.toml: rule 'zorp-account-id': keywords: none of them appears in the regex",
        "gitleaks.toml: tags: not supported; ignored on every rule: zorp, key, webhook",
        "gitleaks.toml: extend.disabledRules: no built-in rule and no rule of this file has id \
         'generic-api-key'",
    ];
    for e in expected {
        assert!(
            got.iter().any(|w| w.starts_with(e)),
            "no warning starting with {e:?} in:\n{}",
            got.join("\n")
        );
    }
    assert_eq!(got.len(), expected.len(), "{}", got.join("\n"));
}

#[test]
fn converted_rules_find_planted_values_and_honour_allowlists() {
    let mut g = Gen::new(0x9177);
    let mut b = builder("gitleaks.toml", CONFIG).unwrap();
    b.builtin(false);
    let set = Arc::new(b.build().unwrap());
    let scanner = Scanner::new(Arc::clone(&set));
    let mut scratch = scanner.scratch();
    let secrets = |hay: &str, scratch: &mut Scratch| -> Vec<(String, String)> {
        scanner
            .scan(hay.as_bytes(), scratch)
            .iter()
            .map(|m| {
                (
                    set.get(m.rule as usize).id.clone(),
                    hay[m.secret_start..m.secret_end].to_string(),
                )
            })
            .collect()
    };

    let planted = Planted::new(&mut g);
    let found = secrets(&planted.text(), &mut scratch);
    let want = [
        ("zorp-live-key", planted.live_key.clone()),
        ("zorp-webhook-secret", planted.webhook.clone()),
        ("zorp-session", planted.session.clone()),
        ("zorp-account-id", planted.account.clone()),
    ];
    for (id, secret) in &want {
        assert!(
            found.iter().any(|(i, s)| i == id && s == secret),
            "{id} not found in {found:?}"
        );
    }
    assert_eq!(found.len(), want.len(), "{found:?}");

    let (text, hidden) = allowlisted(&mut g);
    let found = secrets(&text, &mut scratch);
    assert!(found.is_empty(), "allowlisted values reported: {found:?}");

    // Without the allowlists the same values are found: the allowlists are what drops them.
    let bare = CONFIG
        .replace("'''^zorp_live_0{8}'''", "")
        .replace("\"sample\"", "")
        .replace("'''^0123456789abcdef'''", "")
        .replace("\"placeholder\"", "");
    let set = Arc::new(RuleSet::from_toml("bare.toml", &bare).unwrap());
    let scanner = Scanner::new(Arc::clone(&set));
    let found: Vec<String> = scanner
        .scan(text.as_bytes(), &mut scanner.scratch())
        .iter()
        .map(|m| text[m.secret_start..m.secret_end].to_string())
        .collect();
    assert_eq!(found, hidden);
}

#[test]
fn binary_scans_with_a_gitleaks_config() {
    let mut g = Gen::new(0x51ee);
    let planted = Planted::new(&mut g);
    let (quiet, hidden) = allowlisted(&mut g);
    let d = Dir::new();
    d.create("gitleaks.toml", CONFIG);
    d.create("app/settings.env", planted.text());
    d.create("docs/keys.md", quiet);
    let (code, out, err) = d
        .cmd()
        .args([
            "scan",
            "--config",
            "gitleaks.toml",
            "--no-redact",
            "-f",
            "jsonl",
            "app",
            "docs",
        ])
        .run();
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    let findings: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let has = |id: &str, secret: &str| {
        findings
            .iter()
            .any(|f| f["rule_id"] == id && f["secret"] == secret && f["path"] == "app/settings.env")
    };
    assert!(has("zorp-live-key", &planted.live_key), "{out}");
    assert!(has("zorp-webhook-secret", &planted.webhook), "{out}");
    assert!(has("zorp-session", &planted.session), "{out}");
    assert!(has("zorp-account-id", &planted.account), "{out}");
    assert!(
        findings.iter().all(|f| f["path"] != "docs/keys.md"),
        "allowlisted values reported: {out}"
    );
    for secret in &hidden {
        assert!(!out.contains(secret.as_str()));
    }

    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("leakhound: warning: gitleaks.toml: "))
        .collect();
    assert_eq!(warnings.len(), 9, "stderr: {err}");
    for field in [
        "[[allowlists]][0]:",
        "allowlists[1].paths:",
        "allowlists[1].regexTarget:",
        "allowlist.commits:",
        "rule 'zorp-keystore-file': path:",
        "allowlists[0].condition:",
        "keywords:",
        "tags:",
        "extend.disabledRules:",
    ] {
        assert!(err.contains(field), "no warning about {field} in:\n{err}");
    }
    assert!(!err.contains(&planted.live_key));
}

#[test]
fn bad_regex_names_file_and_rule() {
    // Look-around is in neither RE2 nor the rule dialect.
    let config = "title = \"t\"\n[[rules]]\nid = \"zorp-bad\"\nregex = '''zorp(?=x)'''\n";
    let err = builder("bad.toml", config).unwrap().build().unwrap_err();
    assert!(
        err.to_string().starts_with("bad.toml: rule 'zorp-bad': "),
        "{err}"
    );

    let d = Dir::new();
    d.create("bad.toml", config);
    d.create("a.txt", "nothing\n");
    let (code, _, err) = d
        .cmd()
        .args(["scan", "--config", "bad.toml", "a.txt"])
        .run();
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml: rule 'zorp-bad': "), "{err}");
}

#[test]
fn native_files_stay_native() {
    // A typo in a native file gets the native error, not a gitleaks conversion.
    let typo = "[[rules]]\nid = \"x\"\nregex = 'zorp_[a-z]{8}'\nkeyword = [\"zorp_\"]\n";
    let err = builder("mine.toml", typo).expect_err("an unknown key fails");
    assert!(
        matches!(&err, RuleError::Parse { .. }) && err.to_string().contains("keyword"),
        "{err}"
    );
    // A native file with a gitleaks-only key is still native (and wrong).
    let mixed = "[[rules]]\nid = \"x\"\nregex = 'zorp_[a-z]{8}'\nseverity = \"high\"\ntags = []\n";
    let err = builder("mine.toml", mixed).expect_err("tags is not native");
    assert!(err.to_string().contains("tags"), "{err}");
    // A valid native file loads without warnings.
    let ok = "[[rules]]\nid = \"x\"\nregex = 'zorp_[a-z]{8}'\nsecretGroup = 0\n";
    let b = builder("mine.toml", ok).unwrap();
    assert!(b.warnings().is_empty());
    assert!(b.build().is_ok());
}

/// Named rows: one small gitleaks config each, with the warning (or error) it must give.
#[test]
fn smaller_configs() {
    const ROWS: &[(&str, &str, Result<&str, &str>)] = &[
        (
            "legacy-global-allowlist",
            "[allowlist]\nregexes = ['''x''']\n[[rules]]\nid = \"r\"\nregex = 'zorp_[a-z]{8}'\n",
            Ok("g.toml: [allowlist]: global allowlists are not supported yet"),
        ),
        (
            "extend-path",
            "[extend]\npath = \"base.toml\"\n",
            Ok("g.toml: extend.path: 'base.toml' is not followed"),
        ),
        (
            "skip-report",
            "[[rules]]\nid = \"r\"\nregex = 'zorp'\nskipReport = true\n",
            Ok("g.toml: rule 'r': skipReport: "),
        ),
        (
            "required",
            "[[rules]]\nid = \"r\"\nregex = 'zorp'\n[[rules.required]]\nid = \"s\"\n",
            Ok("g.toml: rule 'r': required: composite rules are not supported"),
        ),
        (
            "path-and-regex",
            "[[rules]]\nid = \"r\"\nregex = 'zorp'\npath = 'x$'\n",
            Ok("g.toml: rule 'r': path: restricting a rule to some paths"),
        ),
        (
            "unknown-rule-key",
            "title = \"t\"\n[[rules]]\nid = \"r\"\nregex = 'zorp'\nseverityLevel = 3\n",
            Ok("g.toml: rule 'r': severityLevel: unknown key; ignored"),
        ),
        (
            "match-target",
            "[[rules]]\nid = \"r\"\nregex = 'zorp'\n[[rules.allowlists]]\nregexTarget = \"match\"\nregexes = ['x']\n",
            Ok("g.toml: rule 'r': allowlists[0].regexTarget: allowlist regexes on the match"),
        ),
        (
            "missing-target-rule",
            "[[allowlists]]\ntargetRules = [\"nope\"]\nstopwords = [\"x\"]\n",
            Ok("g.toml: [[allowlists]][0].targetRules: 'nope' is not a rule of this file"),
        ),
        (
            "many-groups",
            "[[rules]]\nid = \"r\"\nregex = '(zorp)_(\\w+)'\ntags = []\n",
            Ok("g.toml: rule 'r': secretGroup: not set and the regex has 2 groups"),
        ),
        (
            "missing-id",
            "title = \"t\"\n[[rules]]\nregex = 'zorp'\n",
            Err("g.toml: rule 'rules[0]': missing `id`"),
        ),
        (
            "nothing-to-match",
            "[[rules]]\nid = \"r\"\ntags = []\n",
            Err("g.toml: rule 'r': both `regex` and `path` are empty"),
        ),
        (
            "bad-condition",
            "[[rules]]\nid = \"r\"\nregex = 'zorp'\n[[rules.allowlists]]\ncondition = \"XOR\"\n",
            Err("g.toml: rule 'r': allowlists[0]: unknown condition 'XOR'"),
        ),
        (
            "quote-in-class",
            "[[rules]]\nid = \"r\"\nregex = '[\\Qa\\E]'\ntags = []\n",
            Err("g.toml: rule 'r': regex: \\Q...\\E inside a character class"),
        ),
    ];
    for &(name, config, want) in ROWS {
        let got = builder("g.toml", config).and_then(|mut b| {
            b.builtin(false).build()?;
            Ok(warnings(&b))
        });
        match (want, got) {
            (Ok(w), Ok(ws)) => assert!(
                ws.iter().any(|x| x.starts_with(w)),
                "{name}: no warning {w:?} in {ws:?}"
            ),
            (Err(w), Err(e)) => assert!(e.to_string().starts_with(w), "{name}: {e}"),
            (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn from_toml_reads_gitleaks_too() {
    let set = RuleSet::from_toml("g.toml", CONFIG).unwrap();
    assert_eq!(set.len(), 4);
}
