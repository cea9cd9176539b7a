//! Criterion benchmark of the pre-receive path without process start or git's own work: a
//! repository generated at bench start (a base commit on `main`, then ten commits that no ref
//! reaches, as a push's commits are before the hook accepts them), and one `PushCheck::run` per
//! iteration over the update `main -> tip`: walking the new commits, diffing their trees, reading
//! and scanning the new blobs. `Throughput::Bytes` is the new content; three planted secrets
//! must be found. `benches/hook.sh` measures the whole thing with real pushes.

mod corpus;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound::hook::protocol::RefUpdate;
use leakhound::hook::push::RepoLocation;
use leakhound::hook::{HookSettings, PushCheck, Verdict};
use leakhound::policy::Policy;
use leakhound::rules::RuleSet;
use leakhound::scan::ScanConfig;
use leakhound::Scanner;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// (repository dir, old, new, bytes of new content)
fn make_repo(dir: &Path) -> (String, String, u64) {
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("README"), "base\n").unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let old = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "--detach"]);
    let files = corpus::crate_sources();
    let mut bytes = 0u64;
    for c in 0..10 {
        for (i, (path, data)) in files.iter().enumerate() {
            if i % 10 != c {
                continue;
            }
            let p = dir.join(format!("v{c}")).join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, data).unwrap();
            bytes += data.len() as u64;
        }
        if c % 4 == 1 {
            // A planted AWS key id in commits 1, 5 and 9, each distinct.
            let key = format!("AKIAQ3EGRIWBHJ4T7NZ{}", (b'A' + c as u8) as char);
            let text = format!("AWS_ACCESS_KEY_ID={key}\n");
            bytes += text.len() as u64;
            std::fs::write(dir.join(format!("deploy{c}.env")), text).unwrap();
        }
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", &format!("change {c}")]);
    }
    let new = git(dir, &["rev-parse", "HEAD"]);
    // No ref reaches the new commits, as during a push.
    git(dir, &["checkout", "-q", "main"]);
    (old, new, bytes)
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new, bytes) = make_repo(tmp.path());
    let scanner = Arc::new(Scanner::new(Arc::new(RuleSet::builtin().unwrap())));
    let check = || PushCheck {
        location: RepoLocation {
            git_dir: tmp.path().join(".git"),
            extra_objects: Vec::new(),
            quarantined: false,
        },
        settings: HookSettings {
            timeout: std::time::Duration::from_secs(600),
            ..HookSettings::default()
        },
        scanner: Arc::clone(&scanner),
        scan: ScanConfig {
            threads: 1,
            ..ScanConfig::default()
        },
        push_options: Vec::new(),
        known_prefix: None,
        policy: Arc::new(Policy::empty()),
    };
    let update = RefUpdate {
        old,
        new,
        name: "refs/heads/main".into(),
    };
    let mut g = c.benchmark_group("pre_receive");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("ten_commits", |b| {
        b.iter(|| {
            let o = check().run(vec![update.clone()]).unwrap();
            assert_eq!(o.verdict, Verdict::Reject);
            assert_eq!(o.commits, 10);
            assert_eq!(o.findings.len(), 3, "{:?}", o.findings);
            o
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
