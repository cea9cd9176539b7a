//! `leakhound git` on real repositories built with the git CLI in temp dirs, with fixed author and
//! committer dates so that commits (and so the expected output) are deterministic.

mod util;

use std::path::Path;
use std::process::Command;

use util::{aws_key_id, github_pat, Dir, Gen};

/// Run git in `dir` with a fixed identity and date; panics with git's stderr on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = util::git_command(dir, dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit_file(dir: &Path, path: &str, content: &str, msg: &str) -> String {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

fn new_repo() -> (Dir, std::path::PathBuf) {
    let d = Dir::new();
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    (d, repo)
}

/// Findings of `leakhound git` as JSON values, with the exit code.
fn scan(d: &Dir, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let (code, out, err) = d.cmd().args(["git", "-f", "json"]).args(args).run();
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json output");
    (code, v["findings"].as_array().unwrap().clone())
}

#[test]
fn secret_added_then_deleted_names_the_introducing_commit() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(1);
    let key = aws_key_id(&mut g);
    commit_file(&repo, "README", "hello\n", "initial");
    let added = commit_file(
        &repo,
        "app/config.py",
        &format!("KEY = \"{key}\"\n"),
        "add config",
    );
    commit_file(&repo, "app/config.py", "KEY = None\n", "remove key");
    let (code, f) = scan(&d, &["repo"]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["commit"], added.as_str());
    assert_eq!(f[0]["path"], "app/config.py");
    assert_eq!(f[0]["line"], 1);
    assert_eq!(f[0]["summary"], "add config");
    assert_eq!(f[0]["author"], "Test Author");
    assert_eq!(f[0]["email"], "author@example.test");
    assert_eq!(f[0]["date"], "2024-03-01T12:00:00+01:00");
    assert_eq!(f[0]["secret"], "AKIA****");
}

#[test]
fn side_branch_and_tag_only_history_is_scanned() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(2);
    commit_file(&repo, "a.txt", "base\n", "base");
    git(&repo, &["checkout", "-q", "-b", "side"]);
    let on_side = commit_file(
        &repo,
        "side.env",
        &format!("K={}\n", aws_key_id(&mut g)),
        "side",
    );
    git(&repo, &["checkout", "-q", "main"]);
    git(&repo, &["checkout", "-q", "--orphan", "tmp"]);
    let tagged = commit_file(
        &repo,
        "t.txt",
        &format!("token: {}\n", github_pat(&mut g)),
        "tagged",
    );
    git(&repo, &["tag", "v1"]);
    git(&repo, &["checkout", "-q", "main"]);
    git(&repo, &["branch", "-q", "-D", "tmp"]);
    let (_, f) = scan(&d, &["repo"]);
    let commits: Vec<_> = f.iter().map(|x| x["commit"].as_str().unwrap()).collect();
    assert!(commits.contains(&on_side.as_str()), "{f:?}");
    assert!(commits.contains(&tagged.as_str()), "{f:?}");
    assert_eq!(f.len(), 2);
    // Narrowed to main, neither is reachable.
    let (code, f) = scan(&d, &["repo", "--branch", "main"]);
    assert_eq!((code, f.len()), (0, 0));
}

#[test]
fn secret_introduced_by_a_merge_is_attributed_to_the_merge() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(3);
    commit_file(&repo, "c.txt", "one\n", "base");
    git(&repo, &["checkout", "-q", "-b", "other"]);
    commit_file(&repo, "c.txt", "two\n", "other side");
    git(&repo, &["checkout", "-q", "main"]);
    commit_file(&repo, "c.txt", "three\n", "main side");
    let _ = Command::new("git")
        .current_dir(&repo)
        .args([
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@e.test",
            "merge",
            "-q",
            "other",
        ])
        .output();
    std::fs::write(
        repo.join("c.txt"),
        format!("resolved {}\n", aws_key_id(&mut g)),
    )
    .unwrap();
    git(&repo, &["add", "c.txt"]);
    git(&repo, &["commit", "-q", "-m", "merge other"]);
    let merge = git(&repo, &["rev-parse", "HEAD"]);
    let (_, f) = scan(&d, &["repo"]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["commit"], merge.as_str());
    assert_eq!(f[0]["summary"], "merge other");
}

#[test]
fn renamed_file_reports_the_original_commit_and_path_once() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(4);
    let first = commit_file(
        &repo,
        "old/name.yml",
        &format!("key: {}\n", aws_key_id(&mut g)),
        "add",
    );
    git(&repo, &["mv", "old/name.yml", "new.yml"]);
    git(&repo, &["commit", "-q", "-m", "rename"]);
    let renamed = git(&repo, &["rev-parse", "HEAD"]);
    let (_, f) = scan(&d, &["repo"]);
    assert_eq!(f.len(), 1, "one blob, one finding: {f:?}");
    assert_eq!(f[0]["commit"], first.as_str());
    assert_eq!(f[0]["path"], "old/name.yml");
    let (_, f) = scan(&d, &["repo", "--all-occurrences"]);
    assert_eq!(f[0]["occurrences"][0]["commit"], renamed.as_str());
    assert_eq!(f[0]["occurrences"][0]["path"], "new.yml");
}

#[test]
fn rotated_secret_reports_each_value_once() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(5);
    let c1 = commit_file(
        &repo,
        "k.env",
        &format!("AWS={}\n", aws_key_id(&mut g)),
        "v1",
    );
    let c2 = commit_file(
        &repo,
        "k.env",
        &format!("AWS={}\n", aws_key_id(&mut g)),
        "v2",
    );
    git(&repo, &["checkout", "-q", "-b", "copy"]);
    commit_file(&repo, "other.txt", "unrelated\n", "unrelated");
    let (_, f) = scan(&d, &["repo"]);
    let mut commits: Vec<_> = f
        .iter()
        .map(|x| x["commit"].as_str().unwrap().to_string())
        .collect();
    commits.sort();
    let mut want = vec![c1, c2];
    want.sort();
    assert_eq!(commits, want);
}

#[test]
fn large_blob_is_scanned_and_size_cap_skips_it() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(6);
    let mut big = "log line without secrets\n".repeat(120_000);
    big.push_str(&format!("key={}\n", aws_key_id(&mut g)));
    commit_file(&repo, "big.log", &big, "big");
    let (_, f) = scan(&d, &["repo"]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["line"], 120_001);
    let (code, out, _) = d
        .cmd()
        .args(["git", "-f", "json", "--max-filesize", "1M", "repo"])
        .run();
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["skipped"]["too_large"], 1);
}

#[test]
fn dangling_commit_found_only_with_all_objects() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(7);
    commit_file(&repo, "a.txt", "a\n", "base");
    let dangling = commit_file(&repo, "s.txt", &format!("{}\n", aws_key_id(&mut g)), "oops");
    git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    git(&repo, &["reflog", "expire", "--expire=now", "--all"]);
    let (code, f) = scan(&d, &["repo"]);
    assert_eq!((code, f.len()), (0, 0));
    let (code, f) = scan(&d, &["repo", "--all-objects"]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["commit"], dangling.as_str());
}

#[test]
fn range_reports_only_what_the_range_introduces() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(8);
    let a = commit_file(
        &repo,
        "one.txt",
        &format!("{}\n", aws_key_id(&mut g)),
        "one",
    );
    let b = commit_file(
        &repo,
        "two.txt",
        &format!("{}\n", aws_key_id(&mut g)),
        "two",
    );
    let (_, f) = scan(&d, &["repo", "--range", &format!("{a}..{b}")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["commit"], b.as_str());
}

#[test]
fn bare_repository_and_read_only() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(9);
    commit_file(&repo, "x.txt", &format!("{}\n", github_pat(&mut g)), "x");
    let bare = d.path().join("bare.git");
    git(d.path(), &["clone", "-q", "--bare", "repo", "bare.git"]);
    let snapshot = |p: &Path| -> Vec<(String, u64, std::time::SystemTime)> {
        let mut v = Vec::new();
        let mut stack = vec![p.to_path_buf()];
        while let Some(x) = stack.pop() {
            for e in std::fs::read_dir(&x).unwrap() {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    stack.push(e.path());
                } else {
                    v.push((
                        e.path().display().to_string(),
                        m.len(),
                        m.modified().unwrap(),
                    ));
                }
            }
        }
        v.sort();
        v
    };
    let before = (snapshot(&bare), snapshot(&repo));
    let (code, f) = scan(&d, &["bare.git"]);
    assert_eq!((code, f.len()), (1, 1));
    let (code, _) = scan(&d, &["repo"]);
    assert_eq!(code, 1);
    assert_eq!(
        (snapshot(&bare), snapshot(&repo)),
        before,
        "the scan wrote nothing"
    );
}

#[test]
fn not_a_repository_is_an_error() {
    let d = Dir::new();
    let (code, _, err) = d.cmd().args(["git", "."]).run();
    assert_eq!(code, 2);
    assert!(err.contains("leakhound: error:"), "{err}");
}

/// libgit2 (through git2) cannot read SHA-256 repositories yet: the scan must say so plainly,
/// not report a clean history.
#[test]
fn sha256_repository_is_a_clear_error() {
    let d = Dir::new();
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "--object-format=sha256"]);
    commit_file(&repo, "a.txt", "hello\n", "first");
    let (code, out, err) = d.cmd().args(["git", "repo"]).run();
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("unknown object format 'sha256'"), "{err}");
    let (code, _, err) = d
        .cmd()
        .args(["hook", "pre-receive"])
        .env("GIT_DIR", repo.join(".git"))
        .stdin(format!(
            "{} {} refs/heads/x\n",
            "0".repeat(64),
            "a".repeat(64)
        ))
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown object format 'sha256'"), "{err}");
}

fn commit_at(dir: &Path, path: &str, content: &str, msg: &str, date: &str) -> String {
    std::fs::write(dir.join(path), content).unwrap();
    git(dir, &["add", "-A"]);
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test Author",
            "-c",
            "user.email=author@example.test",
        ])
        .args(["commit", "-q", "-m", msg])
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(out.status.success());
    git(dir, &["rev-parse", "HEAD"])
}

#[test]
fn since_date_or_revision_limits_the_commits() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(10);
    let old = commit_at(
        &repo,
        "a.txt",
        &format!("{}\n", aws_key_id(&mut g)),
        "old",
        "2023-01-01T00:00:00Z",
    );
    let new = commit_at(
        &repo,
        "b.txt",
        &format!("{}\n", aws_key_id(&mut g)),
        "new",
        "2024-06-01T00:00:00Z",
    );
    let (_, f) = scan(&d, &["repo", "--since", "2024-01-01"]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["commit"], new.as_str());
    let (_, f) = scan(&d, &["repo", "--since", &old]);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["commit"], new.as_str());
    let (code, _, err) = d
        .cmd()
        .args(["git", "repo", "--since", "no-such-thing"])
        .run();
    assert_eq!(code, 2);
    assert!(err.contains("--since 'no-such-thing'"), "{err}");
}

#[test]
fn shallow_clone_is_scanned_with_a_warning() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(11);
    commit_file(&repo, "a.txt", &format!("{}\n", aws_key_id(&mut g)), "one");
    commit_file(&repo, "b.txt", &format!("{}\n", aws_key_id(&mut g)), "two");
    let url = format!("file://{}", repo.display());
    git(d.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let (code, out, err) = d.cmd().args(["git", "-f", "json", "shallow"]).run();
    assert_eq!(code, 1);
    assert!(err.contains("shallow"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        2,
        "both files are in the one commit"
    );
}

#[test]
fn lfs_pointers_and_submodules_are_skipped() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(12);
    let pointer = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 12345\n",
        "ab".repeat(32)
    );
    commit_file(&repo, "model.bin", &pointer, "lfs");
    let (sub_dir, sub) = new_repo();
    commit_file(&sub, "s.txt", "sub\n", "sub");
    let head = git(&sub, &["rev-parse", "HEAD"]);
    git(
        &repo,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},vendor/sub"),
        ],
    );
    git(&repo, &["commit", "-q", "-m", "add submodule"]);
    commit_file(&repo, "k.txt", &format!("{}\n", aws_key_id(&mut g)), "key");
    let (code, out, err) = d.cmd().args(["git", "-f", "json", "repo"]).run();
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("error"), "a gitlink is not an error: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["skipped"]["lfs_pointer"], 1);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    drop(sub_dir);
}

#[test]
fn corrupt_object_is_a_warning_and_the_scan_goes_on() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(13);
    commit_file(
        &repo,
        "good.txt",
        &format!("{}\n", aws_key_id(&mut g)),
        "good",
    );
    std::fs::write(repo.join("bad.txt"), "this blob gets corrupted\n").unwrap();
    git(&repo, &["add", "bad.txt"]);
    let bad = git(&repo, &["rev-parse", ":bad.txt"]);
    git(&repo, &["commit", "-q", "-m", "bad"]);
    let obj = repo.join(".git/objects").join(&bad[..2]).join(&bad[2..]);
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"not zlib at all").unwrap();
    let (code, out, err) = d.cmd().args(["git", "-f", "json", "repo"]).run();
    assert_eq!(code, 1, "the good secret is still reported: {err}");
    assert!(
        err.contains(&bad[..12]) || err.contains(&bad),
        "the warning names the object: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["errors"], 1);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn same_secret_in_many_commits_is_one_baseline_entry() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(40);
    let key = aws_key_id(&mut g);
    commit_file(&repo, "app.env", &format!("AWS={key}\n"), "add");
    commit_file(
        &repo,
        "app.env",
        &format!("# moved\n\nAWS={key}\n"),
        "move it",
    );
    commit_file(&repo, "app.env", &format!("X=1\nAWS={key}\n"), "again");
    let (code, f) = scan(&d, &["repo"]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 3, "three blobs hold it: {f:?}");
    assert!(f.iter().all(|x| x["fingerprint"] == f[0]["fingerprint"]));
    let (code, _, err) = d
        .cmd()
        .args(["git", "-q", "--baseline-out", "base.json", "repo"])
        .run();
    assert_eq!(code, 1, "{err}");
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("base.json")).unwrap())
            .unwrap();
    assert_eq!(base["findings"].as_array().unwrap().len(), 1);
    // A new commit holding the same secret is not new; a rotated one is.
    commit_file(&repo, "app.env", &format!("AWS={key}\nY=2\n"), "fourth");
    let (code, f) = scan(&d, &["--baseline", "base.json", "repo"]);
    assert_eq!((code, f.len()), (0, 0), "{f:?}");
    commit_file(
        &repo,
        "app.env",
        &format!("AWS={}\n", aws_key_id(&mut g)),
        "rotate",
    );
    let (code, f) = scan(&d, &["--baseline", "base.json", "repo"]);
    assert_eq!((code, f.len()), (1, 1), "{f:?}");
}

#[test]
fn policy_file_is_read_from_the_work_tree_not_from_history() {
    let (d, repo) = new_repo();
    let mut g = Gen::new(41);
    commit_file(
        &repo,
        "fixtures/k.env",
        &format!("AWS={}\n", aws_key_id(&mut g)),
        "add",
    );
    // Only in the work tree, never committed: read from the file system.
    std::fs::write(
        repo.join(".leakhound.toml"),
        "[[allowlist]]\npaths = [\"fixtures/**\"]\nreason = \"revoked test keys\"\n",
    )
    .unwrap();
    let (code, out, err) = d.cmd().args(["git", "-f", "json", "repo"]).run();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["summary"]["suppressed"], 1);
    assert_eq!(v["summary"]["scope"]["source"], "git");
    assert_eq!(
        v["summary"]["scope"]["policy_files"][0],
        "repo/.leakhound.toml"
    );
    let (code, _, _) = d.cmd().args(["git", "--no-policy-file", "repo"]).run();
    assert_eq!(code, 1);
}
