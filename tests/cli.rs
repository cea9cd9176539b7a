//! The real binary on trees made in temp dirs: every output format, exit code and input problem.

mod util;

use util::{aws_key_id, github_pat, Dir, Gen};

fn rules_dir() -> (Dir, String) {
    let d = Dir::new();
    d.create("rules.toml", util::TEST_RULES);
    let rules = d.path().join("rules.toml").display().to_string();
    (d, rules)
}

fn scan_args(rules: &str) -> Vec<String> {
    vec![
        "scan".into(),
        "--no-builtin-rules".into(),
        "--config".into(),
        rules.into(),
    ]
}

#[test]
fn clean_tree_exits_zero() {
    let (d, rules) = rules_dir();
    d.create("src/main.rs", "fn main() { println!(\"hello\"); }\n");
    let (code, out, _) = d.cmd().args(scan_args(&rules)).args(["src"]).run();
    assert_eq!(code, 0);
    assert_eq!(out, "");
}

#[test]
fn human_output_is_redacted_and_exit_one() {
    let mut g = Gen::new(1);
    let key = aws_key_id(&mut g);
    let (d, rules) = rules_dir();
    d.create("app/config.py", format!("# config\nKEY = \"{key}\"\n"));
    let (code, out, err) = d.cmd().args(scan_args(&rules)).args(["app"]).run();
    assert_eq!(code, 1, "stderr: {err}");
    assert_eq!(
        out,
        "app/config.py:2:8: test-akia [high, confidence high] test-akia\n    KEY = \"AKIA****\"\n"
    );
    assert!(!out.contains(&key) && !err.contains(&key));
}

#[test]
fn no_redact_shows_secret() {
    let mut g = Gen::new(2);
    let key = aws_key_id(&mut g);
    let (d, rules) = rules_dir();
    d.create("a.env", format!("AWS_KEY={key}\n"));
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["--no-redact", "-f", "jsonl", "a.env"])
        .run();
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["secret"], key.as_str());
}

#[test]
fn json_document_has_findings_and_stats() {
    let mut g = Gen::new(3);
    let (d, rules) = rules_dir();
    let gh = github_pat(&mut g);
    d.create("b.txt", format!("token: {gh}\n"));
    d.create("a.txt", format!("x\ny = {}\n", aws_key_id(&mut g)));
    d.create("clean.txt", "nothing here\n");
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "json", "a.txt", "b.txt", "clean.txt"])
        .run();
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    // Sorted by path.
    assert_eq!(f[0]["path"], "a.txt");
    assert_eq!(f[0]["rule_id"], "test-akia");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["column"], 5);
    assert_eq!(f[0]["end_line"], 2);
    assert_eq!(f[0]["end_column"], 24);
    assert_eq!(f[0]["secret"], "AKIA****");
    assert_eq!(f[1]["path"], "b.txt");
    assert_eq!(f[1]["rule_id"], "test-ghp");
    assert_eq!(f[1]["severity"], "critical");
    for key in [
        "fingerprint",
        "entropy",
        "rule_name",
        "confidence",
        "offset",
    ] {
        assert!(f[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["stats"]["files_scanned"], 3);
    assert_eq!(v["stats"]["findings"], 2);
    assert!(!out.contains(&gh));
}

#[test]
fn invalid_github_checksum_is_not_reported() {
    let mut g = Gen::new(4);
    let mut gh = github_pat(&mut g);
    let last = gh.pop().unwrap();
    gh.push(if last == 'a' { 'b' } else { 'a' });
    let (d, rules) = rules_dir();
    d.create("x.txt", format!("token: {gh}\n"));
    let (code, out, _) = d.cmd().args(scan_args(&rules)).args(["x.txt"]).run();
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn custom_exit_code() {
    let mut g = Gen::new(5);
    let (d, rules) = rules_dir();
    d.create("x.txt", aws_key_id(&mut g));
    let (code, _, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["--exit-code", "42", "x.txt"])
        .run();
    assert_eq!(code, 42);
}

#[test]
fn stdin_is_scanned_with_line_numbers() {
    let mut g = Gen::new(6);
    let (d, rules) = rules_dir();
    let input = format!("line one\nline two\n  {}\n", aws_key_id(&mut g));
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "jsonl", "-"])
        .stdin(input)
        .run();
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["path"], "<stdin>");
    assert_eq!(v["line"], 3);
    assert_eq!(v["column"], 3);
}

/// `tail -f app.log | leakhound scan -`: each finding is written while the stream is still
/// open, before the next line is sent.
#[test]
fn stdin_findings_are_written_as_their_lines_arrive() {
    use std::io::{BufRead, Write};
    let mut g = Gen::new(61);
    let (d, rules) = rules_dir();
    let mut child = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "jsonl", "-"])
        .spawn();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    for i in 1..=3u64 {
        writeln!(stdin, "request {i} ok").unwrap();
        writeln!(stdin, "  key={}", aws_key_id(&mut g)).unwrap();
        stdin.flush().unwrap();
        // Generous: only a finding held back until more input or the end fails this.
        let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("no finding for line {} while the stream stayed open", 2 * i);
        };
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["line"], 2 * i);
        assert_eq!(v["column"], 7);
    }
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(1));
    let last: serde_json::Value = serde_json::from_str(&rx.recv().unwrap()).unwrap();
    assert_eq!(last["summary"]["findings"], 3, "the summary line follows");
}

#[test]
fn binary_files_skipped_unless_asked() {
    let mut g = Gen::new(7);
    let (d, rules) = rules_dir();
    let mut data = b"\x00\x01\x02 ".to_vec();
    data.extend_from_slice(aws_key_id(&mut g).as_bytes());
    d.create("blob.bin", &data);
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "json", "blob.bin"])
        .run();
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["skipped"]["binary"], 1);
    let (code, _, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["--binary", "blob.bin"])
        .run();
    assert_eq!(code, 1);
}

#[test]
fn large_files_skipped_and_counted() {
    let mut g = Gen::new(8);
    let (d, rules) = rules_dir();
    d.create(
        "big.log",
        format!("{}{}", "x".repeat(5000), aws_key_id(&mut g)),
    );
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "json", "--max-filesize", "4K", "big.log"])
        .run();
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["skipped"]["too_large"], 1);
}

#[test]
fn git_dir_not_scanned_but_gitignored_files_are() {
    let mut g = Gen::new(9);
    let (d, rules) = rules_dir();
    d.create("repo/.git/config", aws_key_id(&mut g));
    d.create("repo/.gitignore", ".env\n");
    d.create("repo/.env", format!("K={}\n", aws_key_id(&mut g)));
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "jsonl", "repo"])
        .run();
    assert_eq!(code, 1);
    // One finding, then the summary line.
    assert_eq!(out.lines().count(), 2);
    assert!(out.lines().nth(1).unwrap().starts_with("{\"summary\":"));
    assert!(out.contains("repo/.env"));
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["--respect-gitignore", "repo"])
        .run();
    assert_eq!(
        (code, out.as_str()),
        (0, ""),
        "--respect-gitignore skips .env"
    );
}

#[test]
fn leakhoundignore_is_obeyed() {
    let mut g = Gen::new(10);
    let (d, rules) = rules_dir();
    d.create("t/.leakhoundignore", "fixtures/\n");
    d.create("t/fixtures/key.txt", aws_key_id(&mut g));
    let (code, out, _) = d.cmd().args(scan_args(&rules)).args(["t"]).run();
    assert_eq!((code, out.as_str()), (0, ""));
}

#[cfg(unix)]
#[test]
fn unreadable_file_warns_and_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let mut g = Gen::new(11);
    let (d, rules) = rules_dir();
    let p = d.create("t/secret.txt", aws_key_id(&mut g));
    d.create("t/ok.txt", "fine\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&p).is_ok() {
        // Running as root: permissions do not stop reads. Use a dangling symlink instead.
        std::fs::remove_file(&p).unwrap();
        std::os::unix::fs::symlink("/nonexistent/leakhound", d.path().join("t/dangling")).unwrap();
        let (code, _, err) = d
            .cmd()
            .args(scan_args(&rules))
            .args(["--follow", "-f", "json", "t"])
            .run();
        assert_eq!(code, 2, "an unreadable input and no findings exit 2: {err}");
        assert!(err.contains("dangling"), "{err}");
        return;
    }
    let (code, out, err) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "json", "t"])
        .run();
    assert_eq!(code, 2);
    assert!(err.contains("secret.txt"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["errors"], 1);
    assert_eq!(v["stats"]["files_scanned"], 1, "{v}");
}

#[test]
fn invalid_utf8_is_scanned() {
    let mut g = Gen::new(12);
    let (d, rules) = rules_dir();
    let mut data = vec![0xff, 0xfe, b'\n', 0xc3];
    data.extend_from_slice(format!(" {} ", aws_key_id(&mut g)).as_bytes());
    data.extend_from_slice(b"\xe9\n");
    d.create("latin1.txt", &data);
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "jsonl", "latin1.txt"])
        .run();
    assert_eq!(code, 1);
    assert!(out.contains("\"line\":2"));
}

#[test]
fn invalid_rule_file_names_file_rule_and_problem() {
    let d = Dir::new();
    d.create(
        "bad.toml",
        "[[rules]]\nid = \"broken\"\nkeywords = [\"x\"]\nregex = '''(unclosed'''\n",
    );
    let (code, _, err) = d.cmd().args(["scan", "--config", "bad.toml", "."]).run();
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("broken"), "{err}");
    assert!(err.contains("invalid regex"), "{err}");
}

#[test]
fn unknown_key_in_rule_file_is_an_error() {
    let d = Dir::new();
    d.create(
        "bad.toml",
        "[[rules]]\nid = \"x\"\nregex = 'abc'\nsevertiy = \"high\"\n",
    );
    let (code, _, err) = d.cmd().args(["scan", "--config", "bad.toml", "."]).run();
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml") && err.contains("severtiy"),
        "{err}"
    );
}

#[test]
fn missing_path_is_an_error() {
    let d = Dir::new();
    let (code, _, err) = d.cmd().args(["scan", "does-not-exist"]).run();
    assert_eq!(code, 2);
    assert!(err.contains("does-not-exist"));
}

#[test]
fn sarif_has_rules_and_relative_uris() {
    let mut g = Gen::new(13);
    let (d, rules) = rules_dir();
    d.create("dir with space/k.txt", aws_key_id(&mut g));
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "sarif", "dir with space"])
        .run();
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "test-akia");
    let r = &run["results"][0];
    assert_eq!(r["ruleIndex"], 0);
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "dir%20with%20space/k.txt"
    );
    assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
}

#[test]
fn output_file_option() {
    let mut g = Gen::new(14);
    let (d, rules) = rules_dir();
    d.create("k.txt", aws_key_id(&mut g));
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "json", "-o", "out.json", "k.txt"])
        .run();
    assert_eq!((code, out.as_str()), (1, ""));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out.json")).unwrap()).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn rules_check_reports_failing_examples() {
    let d = Dir::new();
    d.create(
        "r.toml",
        r#"
[[rules]]
id = "demo"
keywords = ["demo_", "unused"]
regex = '''\b(demo_[a-z]{8})\b'''
examples = ["demo_abcdefgh", "nothing"]
negative_examples = ["demo_abcdefghij", "demo_bbbbbbbb"]
"#,
    );
    let (code, out, err) = d.cmd().args(["rules", "check", "r.toml"]).run();
    assert_eq!(code, 1);
    assert!(
        err.contains("r.toml: rule 'demo': example 2 is not found"),
        "{err}"
    );
    assert!(err.contains("negative example 2 is found"), "{err}");
    assert!(err.contains("keyword 'unused' occurs in none"), "{err}");
    assert!(out.contains("1 rules"));
}

#[test]
fn min_confidence_drops_low_confidence_rules() {
    let (d, rules) = rules_dir();
    let mut g = Gen::new(15);
    d.create(
        "app.py",
        format!("password = \"{}\"\n", g.string(util::BASE62, 16)),
    );
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["-f", "jsonl", "app.py"])
        .run();
    assert_eq!(code, 1);
    assert!(out.contains("test-password"), "{out}");
    let (code, out, _) = d
        .cmd()
        .args(scan_args(&rules))
        .args(["--min-confidence", "medium", "app.py"])
        .run();
    assert_eq!((code, out.as_str()), (0, ""));
}
