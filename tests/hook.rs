//! The git hooks with real git: a bare "server" repository with `leakhound hook install
//! --pre-receive`, and a clone pushing to it over the local transport (so pushed objects arrive
//! in git's quarantine, as on a real server); the pre-push and pre-commit hooks in a clone.

mod util;

use std::path::{Path, PathBuf};
use util::{aws_key_id, git_command, github_pat, Dir, Gen};

/// Run git in `dir` with a fixed identity and dates; (success, stdout, stderr).
fn git_try(dir: &Path, home: &Path, args: &[&str]) -> (bool, String, String) {
    let out = git_command(dir, home)
        .args(args)
        .output()
        .expect("git runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server and a client clone in one temp dir.
struct World {
    d: Dir,
    server: PathBuf,
    client: PathBuf,
}

impl World {
    /// A bare server holding one clean commit, pushed from a clone, and then given the
    /// pre-receive hook (with `config`, where `{dir}` stands for the temp dir, if any).
    fn new(config: Option<&str>) -> World {
        let d = Dir::new();
        let server = d.path().join("server.git");
        let client = d.path().join("client");
        let w = World { d, server, client };
        w.git(w.d.path(), &["init", "-q", "--bare", "server.git"]);
        w.git(w.d.path(), &["clone", "-q", "server.git", "client"]);
        w.commit("README", "hello\n", "initial");
        w.push_ok(&["origin", "HEAD:refs/heads/main"]);
        let mut args = vec!["hook".to_string(), "install".into(), "--pre-receive".into()];
        if let Some(c) = config {
            let c = c.replace("{dir}", &w.d.path().display().to_string());
            let p = w.d.create("hook.toml", c);
            args.push("--config".into());
            args.push(p.display().to_string());
        }
        args.push(w.server.display().to_string());
        let (code, _, err) = w.d.cmd().args(&args).run();
        assert_eq!(code, 0, "{err}");
        w
    }

    /// `leakhound hook install FLAGS REPO`: (exit code, stdout, stderr).
    fn install(&self, flags: &[&str], repo: &Path) -> (i32, String, String) {
        self.d
            .cmd()
            .args(["hook", "install"])
            .args(flags)
            .args([repo])
            .run()
    }

    /// Install the hooks `flags` name (none: pre-commit) into the client, which must succeed.
    fn install_in_client(&self, flags: &[&str]) {
        let (code, _, err) = self.install(flags, &self.client);
        assert_eq!(code, 0, "{err}");
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let (ok, out, err) = git_try(dir, self.d.path(), args);
        assert!(ok, "git {args:?}: {err}");
        out
    }

    fn client_git(&self, args: &[&str]) -> String {
        self.git(&self.client, args)
    }

    fn commit(&self, path: &str, content: &str, msg: &str) -> String {
        let p = self.client.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        self.client_git(&["add", "-A"]);
        self.client_git(&["commit", "-q", "-m", msg]);
        self.client_git(&["rev-parse", "HEAD"])
    }

    /// Push from the client; (accepted, stderr).
    fn push(&self, args: &[&str]) -> (bool, String) {
        let mut a = vec!["push"];
        a.extend_from_slice(args);
        let (ok, _, err) = git_try(&self.client, self.d.path(), &a);
        (ok, err)
    }

    fn push_ok(&self, args: &[&str]) -> String {
        let (ok, err) = self.push(args);
        assert!(ok, "push {args:?} was rejected:\n{err}");
        err
    }

    fn push_rejected(&self, args: &[&str]) -> String {
        let (ok, err) = self.push(args);
        assert!(!ok, "push {args:?} was accepted:\n{err}");
        assert!(err.contains("pre-receive hook declined"), "{err}");
        err
    }

    /// The server's value of `r`, if it has the ref.
    fn server_ref(&self, r: &str) -> Option<String> {
        let (ok, out, _) = git_try(
            &self.server,
            self.d.path(),
            &["rev-parse", "--verify", "-q", r],
        );
        ok.then_some(out)
    }
}

fn secret_file(g: &mut Gen) -> String {
    format!("AWS_ACCESS_KEY_ID={}\n", aws_key_id(g))
}

#[test]
fn clean_push_is_accepted() {
    let w = World::new(None);
    let c = w.commit("src/lib.rs", "pub fn f() -> u32 { 42 }\n", "clean");
    w.push_ok(&["origin", "HEAD:main"]);
    assert_eq!(w.server_ref("refs/heads/main").as_deref(), Some(c.as_str()));
}

#[test]
fn push_with_a_secret_is_rejected_and_the_ref_is_not_updated() {
    let w = World::new(None);
    let before = w.server_ref("refs/heads/main");
    let mut g = Gen::new(1);
    let key = aws_key_id(&mut g);
    let bad = w.commit(
        "deploy/prod.env",
        &format!("# prod\nAWS_ACCESS_KEY_ID={key}\n"),
        "add env",
    );
    w.commit("notes.txt", "later work\n", "later");
    let err = w.push_rejected(&["origin", "HEAD:main"]);
    assert!(err.contains("push rejected: 1 secret found"), "{err}");
    // Commit, path, line and column, rule, severity, redacted secret.
    assert!(
        err.contains(&format!(
            "{} deploy/prod.env:2:19  aws-access-key-id (high)  AKIA****",
            &bad[..12]
        )),
        "{bad}\n{err}"
    );
    assert!(!err.contains(&key), "the secret is shown in clear:\n{err}");
    assert!(err.contains("git rebase -i"), "{err}");
    assert!(err.contains("leakhound:allow"), "{err}");
    assert_eq!(w.server_ref("refs/heads/main"), before);
}

#[test]
fn pushing_commits_the_server_already_has_reports_nothing_new() {
    // The secret reached the server before the hook existed.
    let w = World::new(None);
    let hook = w.server.join("hooks/pre-receive");
    let saved = std::fs::read(&hook).unwrap();
    std::fs::remove_file(&hook).unwrap();
    let mut g = Gen::new(2);
    let old = w.commit("legacy.env", &secret_file(&mut g), "legacy secret");
    w.push_ok(&["origin", "HEAD:main"]);
    std::fs::write(&hook, saved).unwrap();
    set_executable(&hook);
    // A new branch at a commit the server has: nothing new.
    w.push_ok(&["origin", "HEAD:refs/heads/copy"]);
    assert_eq!(
        w.server_ref("refs/heads/copy").as_deref(),
        Some(old.as_str())
    );
    // A new commit that leaves the old file as it is: its blob is not new.
    w.commit("other.txt", "unrelated\n", "unrelated");
    w.push_ok(&["origin", "HEAD:main"]);
    // The same old blob under a new path in a new commit: it existed on the server.
    w.client_git(&["mv", "legacy.env", "moved.env"]);
    w.client_git(&["commit", "-q", "-m", "move"]);
    w.push_ok(&["origin", "HEAD:main"]);
}

#[test]
fn force_push_of_rewritten_history_is_checked() {
    let w = World::new(None);
    w.commit("a.txt", "one\n", "one");
    w.push_ok(&["origin", "HEAD:main"]);
    w.client_git(&["reset", "-q", "--hard", "HEAD~1"]);
    let mut g = Gen::new(3);
    w.commit("b.env", &secret_file(&mut g), "rewrite with secret");
    let err = w.push_rejected(&["--force", "origin", "HEAD:main"]);
    assert!(err.contains("b.env:1:"), "{err}");
    w.client_git(&["reset", "-q", "--hard", "HEAD~1"]);
    let clean = w.commit("b.txt", "fine\n", "rewrite clean");
    w.push_ok(&["--force", "origin", "HEAD:main"]);
    assert_eq!(
        w.server_ref("refs/heads/main").as_deref(),
        Some(clean.as_str())
    );
}

#[test]
fn annotated_tags_are_followed_to_their_commits() {
    let w = World::new(None);
    // A tag of a commit the server has: nothing new.
    w.client_git(&["tag", "-a", "-m", "release", "v1"]);
    w.push_ok(&["origin", "refs/tags/v1"]);
    // A tag of a new commit holding a secret, pushed without any branch.
    let mut g = Gen::new(4);
    w.client_git(&["checkout", "-q", "--orphan", "side"]);
    w.commit(
        "t.yml",
        &format!("token: {}\n", github_pat(&mut g)),
        "tagged only",
    );
    w.client_git(&["tag", "-a", "-m", "secret release", "v2"]);
    let err = w.push_rejected(&["origin", "refs/tags/v2"]);
    assert!(err.contains("t.yml:1:8"), "{err}");
    assert_eq!(w.server_ref("refs/tags/v2"), None);
}

#[test]
fn deleting_a_ref_is_accepted() {
    let w = World::new(None);
    w.push_ok(&["origin", "HEAD:refs/heads/topic"]);
    w.push_ok(&["origin", "--delete", "topic"]);
    assert_eq!(w.server_ref("refs/heads/topic"), None);
}

#[test]
fn a_push_of_many_refs_is_rejected_whole_when_one_holds_a_secret() {
    let w = World::new(None);
    let mut g = Gen::new(5);
    w.client_git(&["checkout", "-q", "-b", "a"]);
    w.commit("a.txt", "a\n", "a");
    w.client_git(&["checkout", "-q", "-b", "b"]);
    w.commit("b.env", &secret_file(&mut g), "b");
    w.client_git(&["checkout", "-q", "-b", "c", "main"]);
    w.commit("c.txt", "c\n", "c");
    let err = w.push_rejected(&["origin", "a", "b", "c"]);
    assert!(err.contains("b.env:1:"), "{err}");
    assert!(err.contains("1 secret found"), "{err}");
    for r in ["a", "b", "c"] {
        assert_eq!(w.server_ref(&format!("refs/heads/{r}")), None, "{r}");
    }
    // Without the secret's branch, the rest goes through.
    w.push_ok(&["origin", "a", "c"]);
}

#[test]
fn a_large_push_arrives_as_a_pack_in_quarantine_and_is_scanned() {
    let w = World::new(None);
    let mut g = Gen::new(6);
    for i in 0..260 {
        let p = w.client.join(format!("gen/f{i:03}.txt"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("file {i}\n{}\n", "x".repeat(i))).unwrap();
    }
    std::fs::write(
        w.client.join("gen/f137.txt"),
        format!("k\n{}", secret_file(&mut g)),
    )
    .unwrap();
    w.client_git(&["add", "-A"]);
    w.client_git(&["commit", "-q", "-m", "bulk"]);
    // More objects than receive.unpackLimit (100): git keeps the pack as it is.
    let before = w.server_ref("refs/heads/main");
    let err = w.push_rejected(&["origin", "HEAD:main"]);
    assert!(err.contains("gen/f137.txt:2:19"), "{err}");
    assert_eq!(w.server_ref("refs/heads/main"), before);
}

fn set_executable(p: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn bypass_push_option_is_honoured_and_logged_when_allowed() {
    let w = World::new(Some(
        "[hook]\nallow_bypass = true\nlog_file = \"{dir}/bypass.log\"\n",
    ));
    let log_path = w.d.path().join("bypass.log");
    w.git(
        &w.server,
        &["config", "receive.advertisePushOptions", "true"],
    );
    let mut g = Gen::new(7);
    let c = w.commit("x.env", &secret_file(&mut g), "known test key");
    let err = w.push_ok(&[
        "-o",
        "leakhound.skip=revoked test key, SEC-42",
        "origin",
        "HEAD:main",
    ]);
    assert!(
        err.contains("secret scan skipped at the pusher's request: revoked test key, SEC-42"),
        "{err}"
    );
    assert_eq!(w.server_ref("refs/heads/main").as_deref(), Some(c.as_str()));
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logged.contains("verdict=bypass reason=\"revoked test key, SEC-42\""),
        "{logged}"
    );
}

#[test]
fn bypass_push_option_is_refused_when_not_allowed() {
    let w = World::new(None);
    w.git(
        &w.server,
        &["config", "receive.advertisePushOptions", "true"],
    );
    let mut g = Gen::new(8);
    w.commit("x.env", &secret_file(&mut g), "secret");
    let (ok, err) = w.push(&["-o", "leakhound.skip=please", "origin", "HEAD:main"]);
    assert!(!ok, "{err}");
    assert!(err.contains("does not allow that"), "{err}");
    assert!(err.contains("x.env:1:"), "{err}");
}

/// A push too big for any build to scan in a millisecond: 11 MB in 40 distinct blobs (identical
/// files would be one blob, which a release build did scan within the budget).
fn big_clean_push(w: &World) {
    for i in 0..40 {
        let line = format!("let value_{i} = compute(alpha, beta, gamma); // an ordinary line\n");
        std::fs::create_dir_all(w.client.join("big")).unwrap();
        std::fs::write(w.client.join(format!("big/f{i}.rs")), line.repeat(4000)).unwrap();
    }
    w.client_git(&["add", "-A"]);
    w.client_git(&["commit", "-q", "-m", "big"]);
}

#[test]
fn time_budget_exceeded_fails_closed_when_configured() {
    let w = World::new(Some("[hook]\ntimeout = \"1ms\"\non_timeout = \"reject\"\n"));
    big_clean_push(&w);
    let err = w.push_rejected(&["origin", "HEAD:main"]);
    assert!(
        err.contains("did not finish within its time budget; the push is rejected"),
        "{err}"
    );
}

#[test]
fn time_budget_exceeded_fails_open_by_default() {
    let w = World::new(Some("[hook]\ntimeout = \"1ms\"\n"));
    big_clean_push(&w);
    let err = w.push_ok(&["origin", "HEAD:main"]);
    assert!(err.contains("the push is accepted unchecked"), "{err}");
}

#[test]
fn pre_receive_input_errors_name_the_line() {
    let d = Dir::new();
    let (code, _, err) = d
        .cmd()
        .args(["hook", "pre-receive"])
        .stdin("garbage line\n")
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("hook input line 1"), "{err}");
}

#[test]
fn install_refuses_to_replace_a_hook_without_force() {
    let w = World::new(None);
    let (code, _, err) = w.install(&["--pre-receive"], &w.server);
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    let (code, out, err) = w.install(&["--pre-receive", "--force"], &w.server);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("installed pre-receive hook"), "{out}");
}

#[test]
fn pre_push_hook_blocks_a_secret_before_it_leaves() {
    let w = World::new(None);
    w.install_in_client(&["--pre-push"]);
    let mut g = Gen::new(9);
    w.commit("ok.txt", "fine\n", "ok");
    w.push_ok(&["origin", "HEAD:main"]);
    w.commit("leak.env", &secret_file(&mut g), "leak");
    let (ok, err) = w.push(&["origin", "HEAD:main"]);
    assert!(!ok, "{err}");
    assert!(err.contains("leak.env:1:"), "{err}");
    assert!(err.contains("failed to push"), "{err}");
    // Stopped by the client's hook: the server never saw the push.
    assert!(!err.contains("pre-receive hook declined"), "{err}");
}

#[test]
fn pre_commit_scans_staged_changes_only() {
    let w = World::new(None);
    w.install_in_client(&[]);
    let mut g = Gen::new(10);
    // An unstaged secret does not block a commit of something else.
    std::fs::write(w.client.join("unstaged.env"), secret_file(&mut g)).unwrap();
    std::fs::write(w.client.join("ok.txt"), "fine\n").unwrap();
    w.client_git(&["add", "ok.txt"]);
    w.client_git(&["commit", "-q", "-m", "ok"]);
    // A staged one does.
    w.client_git(&["add", "unstaged.env"]);
    let (ok, _, err) = git_try(&w.client, w.d.path(), &["commit", "-q", "-m", "leak"]);
    assert!(!ok, "{err}");
    assert!(err.contains("commit rejected: 1 secret found"), "{err}");
    assert!(err.contains("unstaged.env:1:19"), "{err}");
    w.client_git(&["reset", "-q"]);
    std::fs::remove_file(w.client.join("unstaged.env")).unwrap();
    // `git commit -a` stages through a temporary index, which the hook reads.
    std::fs::write(
        w.client.join("ok.txt"),
        format!("fine\n{}", secret_file(&mut g)),
    )
    .unwrap();
    let (ok, _, err) = git_try(&w.client, w.d.path(), &["commit", "-q", "-a", "-m", "leak"]);
    assert!(!ok, "{err}");
    assert!(err.contains("ok.txt:2:19"), "{err}");
}

#[test]
fn pre_commit_ignores_secrets_already_committed_on_untouched_lines() {
    let w = World::new(None);
    let mut g = Gen::new(11);
    // Committed before the hook was installed.
    w.commit(
        "legacy.env",
        &format!("A=1\n{}", secret_file(&mut g)),
        "legacy",
    );
    w.install_in_client(&[]);
    // Changing another line of the file is fine.
    std::fs::write(
        w.client.join("legacy.env"),
        format!("A=2\n{}", secret_file(&mut Gen::new(11))),
    )
    .unwrap();
    w.client_git(&["commit", "-q", "-a", "-m", "edit"]);
    // Adding a second secret is not.
    let mut text = std::fs::read_to_string(w.client.join("legacy.env")).unwrap();
    text.push_str(&format!("TOKEN={}\n", github_pat(&mut g)));
    std::fs::write(w.client.join("legacy.env"), text).unwrap();
    let (ok, _, err) = git_try(&w.client, w.d.path(), &["commit", "-q", "-a", "-m", "more"]);
    assert!(!ok, "{err}");
    assert!(err.contains("legacy.env:3:"), "{err}");
    assert!(!err.contains("legacy.env:2:"), "{err}");
}

#[test]
fn pre_commit_framework_manifest_runs_the_hook() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .expect(".pre-commit-hooks.yaml at the repository root");
    assert!(text.contains("- id: leakhound"), "{text}");
    assert!(text.contains("language: rust"), "{text}");
    assert!(text.contains("entry: leakhound hook pre-commit"), "{text}");
    assert!(text.contains("pass_filenames: false"), "{text}");
}

#[test]
fn the_server_allowlist_applies_and_a_pushed_policy_file_does_not() {
    let w = World::new(Some(
        "[[allowlist]]\npaths = [\"fixtures/**\"]\nreason = \"revoked keys used by tests\"\n",
    ));
    let mut g = Gen::new(12);
    w.commit("fixtures/aws.env", &secret_file(&mut g), "fixture");
    let err = w.push_ok(&["origin", "HEAD:main"]);
    assert!(err.contains("1 finding(s) allowed by policy"), "{err}");
    // A pusher cannot allowlist their own secret by pushing a policy file.
    w.commit(
        ".leakhound.toml",
        "[[allowlist]]\npaths = [\"**\"]\nreason = \"trust me\"\n",
        "policy",
    );
    w.commit("app.env", &secret_file(&mut g), "leak");
    let err = w.push_rejected(&["origin", "HEAD:main"]);
    assert!(err.contains("app.env:1:19"), "{err}");
}

#[test]
fn inline_allow_comments_are_honoured_unless_the_server_turns_them_off() {
    let mut g = Gen::new(13);
    let line = format!(
        "AWS_ACCESS_KEY_ID={} # leakhound:allow reason=\"doc example\"\n",
        aws_key_id(&mut g)
    );
    let w = World::new(None);
    w.commit("docs/example.env", &line, "documented example");
    w.push_ok(&["origin", "HEAD:main"]);
    let strict = World::new(Some("[hook]\ninline_allow = false\n"));
    strict.commit("docs/example.env", &line, "documented example");
    let err = strict.push_rejected(&["origin", "HEAD:main"]);
    assert!(err.contains("docs/example.env:1:19"), "{err}");
}

#[test]
fn pre_commit_reads_the_work_tree_policy_file() {
    let w = World::new(None);
    w.install_in_client(&[]);
    std::fs::write(
        w.client.join(".leakhound.toml"),
        "[[allowlist]]\npaths = [\"testdata/**\"]\nreason = \"revoked keys for tests\"\n",
    )
    .unwrap();
    let mut g = Gen::new(14);
    w.commit("testdata/k.env", &secret_file(&mut g), "test data");
    std::fs::write(w.client.join("k.env"), secret_file(&mut g)).unwrap();
    w.client_git(&["add", "k.env"]);
    let (ok, _, err) = git_try(&w.client, w.d.path(), &["commit", "-q", "-m", "leak"]);
    assert!(!ok, "{err}");
    assert!(err.contains("k.env:1:19"), "{err}");
}

#[test]
fn pre_push_to_a_url_still_scans_the_pushed_commits() {
    let w = World::new(None);
    w.install_in_client(&["--pre-push"]);
    let mut g = Gen::new(15);
    w.commit("leak.env", &secret_file(&mut g), "leak");
    // A path instead of a remote name: the local branch must not count as "already pushed".
    let url = w.server.display().to_string();
    let (ok, err) = w.push(&[&url, "HEAD:main"]);
    assert!(!ok, "{err}");
    assert!(err.contains("leak.env:1:19"), "{err}");
    assert!(!err.contains("pre-receive hook declined"), "{err}");
}
