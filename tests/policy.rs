//! Policy as code through the real binary: `.leakhound.toml` allowlist entries of every kind,
//! reasons and expiry (with an injected date, never the wall clock), inline `leakhound:allow`
//! comments, baselines, the severity gate, `--show-suppressed`, `policy check` and `report`.

mod util;

use serde_json::Value;
use util::{aws_key_id, github_pat, Dir, Gen};

/// A tree with the test rules and `allowlist` (TOML appended to them) as its `.leakhound.toml`.
fn tree(allowlist: &str) -> Dir {
    let d = Dir::new();
    d.create(
        ".leakhound.toml",
        format!("{}\n{allowlist}", util::TEST_RULES),
    );
    d
}

/// Scan `.` with the tree's policy; (exit code, stdout, stderr).
fn scan(d: &Dir, args: &[&str]) -> (i32, String, String) {
    d.cmd()
        .args(["scan", "--no-builtin-rules", "-q"])
        .args(args)
        .run()
}

/// The json result of scanning `.`: (exit code, document).
fn scan_json(d: &Dir, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = scan(d, &[&["-f", "json"], args, &["."]].concat());
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, serde_json::from_str(&out).expect("a json document"))
}

/// `path:line rule` of each finding in `list`, sorted.
fn locs(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{}:{} {}",
                        f["path"].as_str().unwrap(),
                        f["line"],
                        f["rule_id"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Two AWS keys and a GitHub token in three files; returns the first key.
fn plant(d: &Dir, g: &mut Gen) -> String {
    let key = aws_key_id(g);
    d.create("src/app.py", format!("# app\nKEY = \"{key}\"\n"));
    d.create(
        "tests/fixtures/keys.txt",
        format!("old = {}\n", aws_key_id(g)),
    );
    d.create("deploy/ci.yml", format!("token: {}\n", github_pat(g)));
    key
}

#[test]
fn each_kind_of_allowlist_entry_suppresses_what_it_names() {
    let mut g = Gen::new(60);
    // The fingerprint of the fixture finding, from a run without an allowlist.
    let probe = tree("");
    let key = plant(&probe, &mut g);
    let (_, doc) = scan_json(&probe, &[]);
    let fixture = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "tests/fixtures/keys.txt")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let all = [
        "deploy/ci.yml:1 test-ghp",
        "src/app.py:2 test-akia",
        "tests/fixtures/keys.txt:1 test-akia",
    ];
    let key_middle = &key[6..14];
    for (name, entry, suppressed) in [
        (
            "paths",
            "paths = [\"tests/fixtures/**\"]".to_string(),
            vec![2],
        ),
        ("name-only glob", "paths = [\"*.yml\"]".to_string(), vec![0]),
        ("rules", "rules = [\"test-ghp\"]".to_string(), vec![0]),
        (
            "paths and rules",
            "paths = [\"src/**\", \"deploy/**\"]\nrules = [\"test-akia\"]".to_string(),
            vec![1],
        ),
        ("regexes", format!("regexes = ['{key_middle}']"), vec![1]),
        (
            "stopwords",
            format!("stopwords = [\"{}\"]", key_middle.to_lowercase()),
            vec![1],
        ),
        (
            "fingerprints",
            format!("fingerprints = [\"{fixture}\"]"),
            vec![2],
        ),
    ] {
        let d = tree(&format!(
            "[[allowlist]]\n{entry}\nreason = \"accepted: {name}\"\n"
        ));
        let mut g2 = Gen::new(60);
        plant(&d, &mut g2);
        let (code, doc) = scan_json(&d, &["--show-suppressed"]);
        let want_sup: Vec<String> = suppressed.iter().map(|&i| all[i].to_string()).collect();
        let want_rep: Vec<String> = (0..3)
            .filter(|i| !suppressed.contains(i))
            .map(|i| all[i].to_string())
            .collect();
        assert_eq!(locs(&doc["findings"]), want_rep, "{name}: reported");
        assert_eq!(locs(&doc["suppressed"]), want_sup, "{name}: suppressed");
        for s in doc["suppressed"].as_array().unwrap() {
            assert_eq!(s["suppression"]["kind"], "allowlist", "{name}");
            assert_eq!(s["suppression"]["entry"], ".leakhound.toml:37", "{name}");
            assert_eq!(
                s["suppression"]["reason"],
                format!("accepted: {name}").as_str()
            );
        }
        assert_eq!(code, 1, "{name}: the rest still fails");
        assert_eq!(doc["summary"]["suppressed"], suppressed.len());
        assert_eq!(
            doc["summary"]["suppressed_by_reason"][format!("accepted: {name}")],
            suppressed.len()
        );
        assert_eq!(doc["summary"]["findings"], 3 - suppressed.len());
    }
}

#[test]
fn path_globs_are_relative_to_the_scan_root() {
    let mut g = Gen::new(61);
    let d = Dir::new();
    d.create(
        "repo/.leakhound.toml",
        format!(
            "{}\n[[allowlist]]\npaths = [\"tests/**\"]\nreason = \"fixtures\"\n",
            util::TEST_RULES
        ),
    );
    d.create("repo/tests/k.txt", format!("k = {}\n", aws_key_id(&mut g)));
    let (code, out, err) = d.cmd().args(["scan", "--no-builtin-rules", "repo"]).run();
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("suppressed: 1 (\"fixtures\" 1)"), "{err}");
    assert!(err.contains("policy repo/.leakhound.toml"), "{err}");
    // --no-policy-file ignores it (and then the test rules must come from --config).
    let (code, _, err) = d
        .cmd()
        .args([
            "scan",
            "--no-builtin-rules",
            "--no-policy-file",
            "-c",
            "repo/.leakhound.toml",
            "repo",
        ])
        .run();
    assert_eq!(code, 0, "--config carries the allowlist too: {err}");
    // The discovered file named again with --config is read once (no duplicate rule ids).
    let (code, _, err) = d
        .cmd()
        .args([
            "scan",
            "--no-builtin-rules",
            "-c",
            "repo/.leakhound.toml",
            "repo",
        ])
        .run();
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = d.cmd().args(["scan", "--no-policy-file", "repo"]).run();
    assert_eq!(code, 1, "built-in rules find it with no policy");
}

#[test]
fn entry_without_reason_is_rejected_naming_the_line() {
    let d = tree("[[allowlist]]\npaths = [\"x/**\"]\nowner = \"team\"\n");
    d.create("a.txt", "nothing\n");
    let (code, out, err) = scan(&d, &["."]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err.trim(),
        "leakhound: error: .leakhound.toml:37: allowlist entry: `reason` is required; say why these findings are accepted"
    );
    let (code, _, err) = d.cmd().args(["policy", "check"]).run();
    assert_eq!(code, 1);
    assert!(
        err.contains(".leakhound.toml:37: allowlist entry: `reason` is required"),
        "{err}"
    );
}

#[test]
fn expired_entry_stops_suppressing_and_says_which() {
    let mut g = Gen::new(62);
    let d = tree(
        "[[allowlist]]\nrules = [\"test-akia\"]\nreason = \"legacy keys, rotating\"\nowner = \"team-payments\"\nexpires = \"2027-03-31\"\n",
    );
    d.create("a.py", format!("k = \"{}\"\n", aws_key_id(&mut g)));
    // On its last day it still suppresses, and the summary lists it as expiring.
    let (code, doc) = scan_json(&d, &["--today", "2027-03-31"]);
    assert_eq!(code, 0);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(
        doc["summary"]["expiring_soon"][0]["entry"],
        ".leakhound.toml:37"
    );
    assert_eq!(doc["summary"]["expiring_soon"][0]["days_left"], 0);
    // The day after, the finding is back and names the expired entry.
    let (code, doc) = scan_json(&d, &["--today", "2027-04-01"]);
    assert_eq!(code, 1);
    let f = &doc["findings"][0];
    assert_eq!(f["expired_exceptions"][0]["entry"], ".leakhound.toml:37");
    assert_eq!(f["expired_exceptions"][0]["expires"], "2027-03-31");
    assert_eq!(doc["summary"]["exceptions"][0]["status"], "expired");
    assert_eq!(doc["summary"]["exceptions"][0]["expired_matches"], 1);
    // Human output says it too, on stdout under the finding and as a warning on stderr.
    let (code, out, err) = d
        .cmd()
        .args(["scan", "--no-builtin-rules", "--today", "2027-04-01", "."])
        .run();
    assert_eq!(code, 1);
    assert!(
        out.contains("exception .leakhound.toml:37 expired on 2027-03-31 (legacy keys, rotating); reported again"),
        "{out}"
    );
    assert!(
        err.contains(
            "warning: .leakhound.toml:37: allowlist entry expired on 2027-03-31 (1 day(s) ago)"
        ),
        "{err}"
    );
}

#[test]
fn policy_check_names_the_line_of_each_problem() {
    for (name, body, code, want) in [
        (
            "unknown key",
            "[[allowlist]]\nrules = [\"a\"]\nreason = \"r\"\npath = [\"x\"]\n",
            1,
            "error: p.toml:4: unknown field `path`",
        ),
        (
            "unknown top-level key",
            "[[allowlist]]\nrules = [\"a\"]\nreason = \"r\"\n\n[hooks]\nx = 1\n",
            1,
            "error: p.toml:5: unknown field `hooks`",
        ),
        (
            "bad glob",
            "\n[[allowlist]]\npaths = [\"src/[a\"]\nreason = \"r\"\n",
            1,
            "error: p.toml:2: allowlist entry: path glob 'src/[a'",
        ),
        (
            "bad regex",
            "[[allowlist]]\nrules = [\"a\"]\nreason = \"r\"\n\n[[allowlist]]\nregexes = [\"a(\"]\nreason = \"r\"\n",
            1,
            "error: p.toml:5: allowlist entry: regex 'a('",
        ),
        (
            "expired",
            "[[allowlist]]\nrules = [\"a\"]\nreason = \"r\"\nexpires = 2027-01-01\n",
            1,
            "error: p.toml:1: allowlist entry expired on 2027-01-01 (40 day(s) ago)",
        ),
        (
            "expiring",
            "[[allowlist]]\nrules = [\"a\"]\nreason = \"r\"\nexpires = \"2027-03-01\"\n",
            0,
            "warning: p.toml:1: allowlist entry expires on 2027-03-01 (in 19 day(s))",
        ),
        (
            "unknown rule id",
            "[[allowlist]]\nrules = [\"aws-acess-key-id\"]\nreason = \"r\"\n",
            0,
            "warning: p.toml:1: allowlist entry names rule 'aws-acess-key-id', which no rule has",
        ),
        (
            "bad rule",
            "[[rules]]\nid = \"r1\"\nregex = 'a('\n\n[[allowlist]]\nrules = [\"r1\"]\nreason = \"r\"\n",
            1,
            "error: p.toml: rule 'r1'",
        ),
    ] {
        let d = Dir::new();
        d.create("p.toml", body);
        let (got, out, err) = d
            .cmd()
            .args(["policy", "check", "p.toml", "--today", "2027-02-10"])
            .run();
        assert_eq!(got, code, "{name}: {out}{err}");
        assert!(err.contains(want), "{name}: {err}");
    }
    // A good file with rules, an allowlist and hook settings passes both readers.
    let d = tree(
        "[[allowlist]]\nrules = [\"test-akia\"]\nreason = \"r\"\n\n[hook]\nmode = \"block\"\n[hook.limits]\nmax_blob = 1\n",
    );
    let (code, out, err) = d.cmd().args(["policy", "check"]).run();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        ".leakhound.toml: 1 allowlist entry, 5 rule(s), hook settings: yes: ok\n"
    );
    let (code, out, err) = d
        .cmd()
        .args([
            "rules",
            "list",
            "--no-builtin-rules",
            "-c",
            ".leakhound.toml",
        ])
        .run();
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("5 rules\n"), "{out}");
}

#[test]
fn inline_allow_in_several_comment_syntaxes() {
    let mut g = Gen::new(63);
    let d = tree("");
    let files = [
        ("a.py", "KEY = \"{}\"  # leakhound:allow", None),
        (
            "b.js",
            "const k = \"{}\"; // leakhound:allow reason=\"revoked demo key\"",
            Some("revoked demo key"),
        ),
        ("c.c", "char *k = \"{}\"; /* leakhound:allow */", None),
        (
            "d.html",
            "<meta key=\"{}\"> <!-- leakhound:allow reason=\"docs\" -->",
            Some("docs"),
        ),
        (
            "e.sql",
            "INSERT INTO k VALUES ('{}'); -- leakhound:allow",
            None,
        ),
    ];
    for (path, tpl, _) in &files {
        d.create(
            path,
            format!("x\n{}\n", tpl.replace("{}", &aws_key_id(&mut g))),
        );
    }
    // A marker on another line does not count.
    d.create(
        "f.sh",
        format!("# leakhound:allow\nK={}\n", aws_key_id(&mut g)),
    );
    let (code, doc) = scan_json(&d, &["--show-suppressed"]);
    assert_eq!(code, 1);
    assert_eq!(locs(&doc["findings"]), ["f.sh:2 test-akia"]);
    let sup = doc["suppressed"].as_array().unwrap();
    assert_eq!(sup.len(), files.len());
    for (path, _, reason) in &files {
        let s = sup.iter().find(|s| s["path"] == *path).unwrap();
        assert_eq!(s["suppression"]["kind"], "inline", "{path}");
        assert_eq!(
            s["suppression"]["reason"],
            reason.unwrap_or("inline leakhound:allow"),
            "{path}"
        );
    }
    assert_eq!(doc["summary"]["suppressed_inline"], 5);
}

#[test]
fn show_suppressed_lists_them_with_the_reason() {
    let mut g = Gen::new(64);
    let d = tree("[[allowlist]]\npaths = [\"fixtures/**\"]\nreason = \"revoked test keys\"\n");
    d.create("fixtures/k.txt", format!("k = {}\n", aws_key_id(&mut g)));
    let (code, out, _) = scan(&d, &["."]);
    assert_eq!(
        (code, out.as_str()),
        (0, ""),
        "suppressed: not listed, no failure"
    );
    let (code, out, _) = scan(&d, &["--show-suppressed", "."]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "fixtures/k.txt:1:5: test-akia [high, confidence high] test-akia (suppressed)\n    k = AKIA****\n    suppressed by .leakhound.toml:37: revoked test keys\n"
    );
    let (_, out, _) = scan(&d, &["--show-suppressed", "-f", "jsonl", "."]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["suppression"]["reason"], "revoked test keys");
    assert_eq!(lines[1]["summary"]["suppressed"], 1);
    assert_eq!(lines[1]["stats"]["findings"], 0);
}

#[test]
fn fail_on_gates_the_exit_code_but_reports_everything() {
    let mut g = Gen::new(65);
    let d = tree("");
    // test-akia is high, test-token medium.
    d.create("a.txt", format!("k = {}\n", aws_key_id(&mut g)));
    d.create("b.txt", "api_token = \"Zx81QwErTy7uIo2p\"\n");
    for (fail_on, code, blocking) in [
        ("low", 1, 2),
        ("medium", 1, 2),
        ("high", 1, 1),
        ("critical", 0, 0),
    ] {
        let (got, doc) = scan_json(&d, &["--fail-on", fail_on]);
        assert_eq!(got, code, "--fail-on {fail_on}");
        assert_eq!(doc["findings"].as_array().unwrap().len(), 2, "{fail_on}");
        assert_eq!(doc["summary"]["gate"]["blocking"], blocking, "{fail_on}");
        assert_eq!(doc["summary"]["gate"]["failed"], code == 1, "{fail_on}");
    }
    let (code, _, _) = scan(&d, &["--fail-on", "high", "--exit-code", "7", "."]);
    assert_eq!(code, 7, "--exit-code is the code used when the gate trips");
    let (code, out, _) = scan(&d, &["--fail-on", "critical", "."]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().filter(|l| !l.starts_with(' ')).count(), 2);
}

#[test]
fn baseline_round_trip() {
    let mut g = Gen::new(66);
    let d = tree("");
    let key = aws_key_id(&mut g);
    d.create("old/config.py", format!("# legacy\nKEY = \"{key}\"\n"));
    d.create("old/ci.yml", format!("token: {}\n", github_pat(&mut g)));
    let (code, _, err) = scan(&d, &["--baseline-out", "base.json", "."]);
    assert_eq!(code, 1, "{err}");
    let base = std::fs::read_to_string(d.path().join("base.json")).unwrap();
    let parsed: Value = serde_json::from_str(&base).unwrap();
    assert_eq!(parsed["leakhound_baseline"], 1);
    assert_eq!(parsed["findings"].as_array().unwrap().len(), 2);
    assert!(!base.contains(&key), "no secret in clear in a baseline");
    // Re-run with the baseline: nothing new.
    let (code, out, _) = scan(&d, &["--baseline", "base.json", "."]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (_, doc) = scan_json(&d, &["--baseline", "base.json"]);
    assert_eq!(doc["summary"]["baselined"], 2);
    assert_eq!(doc["summary"]["scope"]["baseline"], "base.json");
    // Move the secret to another line: still known.
    d.create(
        "old/config.py",
        format!("# legacy\n\n\nimport os\nKEY = \"{key}\"\n"),
    );
    let (code, out, _) = scan(&d, &["--baseline", "base.json", "."]);
    assert_eq!((code, out.as_str()), (0, ""), "a moved line is not new");
    // Change the secret: new.
    d.create(
        "old/config.py",
        format!("KEY = \"{}\"\n", aws_key_id(&mut g)),
    );
    let (code, doc) = scan_json(&d, &["--baseline", "base.json"]);
    assert_eq!(code, 1);
    assert_eq!(locs(&doc["findings"]), ["old/config.py:1 test-akia"]);
    assert_eq!(doc["summary"]["baselined"], 1);
    // A broken baseline is an error naming it.
    d.create("bad.json", "{\"findings\": 3}");
    let (code, _, err) = scan(&d, &["--baseline", "bad.json", "."]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.json:1: not a leakhound baseline"),
        "{err}"
    );
}

#[test]
fn fingerprints_are_stable_across_runs_threads_and_line_moves() {
    let mut g = Gen::new(67);
    let d = tree("");
    let keys: Vec<String> = (0..40).map(|_| aws_key_id(&mut g)).collect();
    for (i, k) in keys.iter().enumerate() {
        d.create(&format!("d{}/f{i}.txt", i % 5), format!("k = {k}\n"));
    }
    let prints = |args: &[&str]| -> Vec<(String, String)> {
        let (_, doc) = scan_json(&d, args);
        let mut v: Vec<(String, String)> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["fingerprint"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let one = prints(&["-j1"]);
    assert_eq!(one.len(), 40);
    assert_eq!(one, prints(&["-j2"]));
    assert_eq!(one, prints(&["-j2"]));
    // Every line moves down: same fingerprints.
    for (i, k) in keys.iter().enumerate() {
        d.create(
            &format!("d{}/f{i}.txt", i % 5),
            format!("\n\n  x\nk = {k}\n"),
        );
    }
    assert_eq!(one, prints(&["-j2"]));
}

#[test]
fn sarif_carries_suppressions_and_the_summary() {
    let mut g = Gen::new(68);
    let d = tree("[[allowlist]]\npaths = [\"fixtures/**\"]\nreason = \"revoked test keys\"\nowner = \"sec\"\n");
    d.create("fixtures/k.txt", format!("k = {}\n", aws_key_id(&mut g)));
    d.create(
        "inline.py",
        format!(
            "k = '{}'  # leakhound:allow reason=\"demo\"\n",
            aws_key_id(&mut g)
        ),
    );
    d.create("app.py", format!("k = '{}'\n", aws_key_id(&mut g)));
    let (code, out, _) = scan(&d, &["-f", "sarif", "."]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let by_uri = |u: &str| {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == u)
            .unwrap()
    };
    assert!(by_uri("app.py").get("suppressions").is_none());
    let s = &by_uri("fixtures/k.txt")["suppressions"][0];
    assert_eq!(
        (s["kind"].as_str(), s["status"].as_str()),
        (Some("external"), Some("accepted"))
    );
    assert_eq!(s["justification"], "revoked test keys");
    assert_eq!(s["properties"]["entry"], ".leakhound.toml:37");
    let s = &by_uri("inline.py")["suppressions"][0];
    assert_eq!(
        (s["kind"].as_str(), s["justification"].as_str()),
        (Some("inSource"), Some("demo"))
    );
    let summary = &doc["runs"][0]["properties"]["summary"];
    assert_eq!(summary["suppressed"], 2);
    assert_eq!(summary["findings"], 1);
}

fn report_fixture() -> Dir {
    let mut g = Gen::new(69);
    let d = tree(
        "[[allowlist]]\npaths = [\"fixtures/**\"]\nreason = \"revoked <test> keys\"\nowner = \"sec\"\nexpires = \"2027-01-15\"\n\n[[allowlist]]\nrules = [\"test-pem\"]\nreason = \"never used\"\n",
    );
    d.create("fixtures/k.txt", format!("k = {}\n", aws_key_id(&mut g)));
    d.create("src/app.py", format!("k = '{}'\n", aws_key_id(&mut g)));
    d.create("src/<b>.txt", format!("t = {}\n", github_pat(&mut g)));
    let (code, _, err) = scan(
        &d,
        &[
            "-f",
            "json",
            "-o",
            "result.json",
            "--show-suppressed",
            "--today",
            "2027-01-01",
            ".",
        ],
    );
    assert_eq!(code, 1, "{err}");
    d
}

#[test]
fn report_prints_a_table_and_a_json_summary() {
    let d = report_fixture();
    let (code, out, err) = d.cmd().args(["report", "result.json"]).run();
    assert_eq!(code, 0, "{err}");
    let want_head =
        "findings: 2 (critical 1, high 1); gate: fail on low and above: FAILED (2 blocking)\n\
by rule: test-akia 1, test-ghp 1\n\
suppressed: 1 (\"revoked <test> keys\" 1)\n\
exception .leakhound.toml:37 expires on 2027-01-15 (in 14 day(s)): revoked <test> keys\n";
    assert!(out.starts_with(want_head), "{out}");
    assert!(
        out.contains("\nfindings: 3\nSEVERITY  RULE       LOCATION          STATUS\n"),
        "{out}"
    );
    assert!(
        out.contains("high      test-akia  fixtures/k.txt:1  suppressed by .leakhound.toml:37\n"),
        "{out}"
    );
    assert!(
        out.contains(
            ".leakhound.toml:37  2027-01-15 (in 14 day(s))  1           revoked <test> keys\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(".leakhound.toml:43  never                      0           never used\n"),
        "{out}"
    );
    let (code, out, _) = d.cmd().args(["report", "result.json", "-f", "json"]).run();
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["by_severity"]["critical"], 1);
    assert_eq!(
        v["summary"]["expiring_soon"][0]["entry"],
        ".leakhound.toml:37"
    );
    assert_eq!(v["stats"]["findings"], 2);
    // Not a result: an error naming the file.
    d.create("other.json", "{\"runs\": []}");
    let (code, _, err) = d.cmd().args(["report", "other.json"]).run();
    assert_eq!(code, 2);
    assert!(
        err.contains("other.json: not a leakhound json result"),
        "{err}"
    );
}

/// Headless Chromium, or `None` when the run opts out with `LEAKHOUND_SKIP_BROWSER_TESTS=1`.
/// Missing otherwise is a failure, not a silent pass.
fn chromium() -> Option<String> {
    if std::env::var_os("LEAKHOUND_SKIP_BROWSER_TESTS").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED: LEAKHOUND_SKIP_BROWSER_TESTS=1");
        return None;
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return Some(name.to_string());
        }
    }
    panic!(
        "headless Chromium is needed for the HTML report test: `apt-get install chromium`, or set \
LEAKHOUND_SKIP_BROWSER_TESTS=1 to skip it"
    );
}

#[test]
fn html_report_opens_in_headless_chromium_and_shows_the_findings() {
    let d = report_fixture();
    let (code, _, err) = d
        .cmd()
        .args(["report", "result.json", "-f", "html", "-o", "report.html"])
        .run();
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    // Self-contained: nothing to fetch, no script.
    for banned in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(banned), "{banned}");
    }
    assert!(page.contains("src/&lt;b&gt;.txt:1"), "paths are escaped");
    let Some(browser) = chromium() else { return };
    let profile = d.path().join("chromium-profile");
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", d.path().join("report.html").display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The browser parsed a findings table with one row per finding, suppressed included.
    let table = dom
        .split("<table id=\"findings\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no findings table in the DOM:\n{dom}"));
    assert_eq!(
        table.matches("<tr class=\"finding\">").count(),
        3,
        "{table}"
    );
    assert!(table.contains("<tbody>"), "parsed by the browser: {table}");
    assert!(table.contains("src/&lt;b&gt;.txt:1"), "{table}");
    assert!(
        table.contains("suppressed by .leakhound.toml:37"),
        "{table}"
    );
    assert!(dom.contains("<table id=\"by-severity\">"));
    assert!(dom.contains("<table id=\"exceptions\">"));
}
