//! Criterion benchmarks of git history scans through the library (`source::git::scan_history`),
//! on a repository generated at start in a temporary directory: `benches/corpus` writes a
//! `git fast-import` stream (fixed identities and dates, so the same commits every run) that the
//! git CLI imports. Two benchmarks, both `Throughput::Bytes` of the unique blob content:
//!
//! - `git/enumerate`: the walk and the blob reads alone (no rules: nothing to verify);
//! - `git/scan`: the full history scan with the built-in rules, asserting exactly the planted
//!   secrets are found.

mod corpus;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound::rules::RuleSet;
use leakhound::scan::{Counters, Event, ScanConfig};
use leakhound::source::git::{scan_history, GitScope};
use leakhound::Scanner;

/// One history scan: returns (findings, bytes scanned, blobs scanned); fails on any warning.
fn scan(repo: &Path, scanner: &Arc<Scanner>) -> (usize, u64, u64) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let counters = Arc::new(Counters::default());
    scan_history(
        repo,
        &GitScope::default(),
        scanner,
        &ScanConfig::default(),
        &counters,
        &tx,
    )
    .expect("the generated repository scans");
    drop(tx);
    let mut findings = 0;
    for event in rx {
        match event {
            Event::Findings(f) => findings += f.len(),
            Event::Warning(w) => panic!("warning on the generated repository: {w}"),
            Event::Occurrences(_) => {}
        }
    }
    (
        findings,
        counters.bytes.load(Ordering::Relaxed),
        counters.files.load(Ordering::Relaxed),
    )
}

fn bench_git(c: &mut Criterion) {
    // 400 commits over 80 files of about 16 KB; a secret every 8th commit, deleted 3 later.
    let (stream, planted, _) = corpus::history(7, 400, 80, 16 << 10, 8);
    let dir = tempfile::tempdir().expect("a temp dir");
    let repo = dir.path().join("history.git");
    corpus::import(&repo, &stream).expect("git fast-import builds the repository");

    let builtin = Arc::new(Scanner::new(Arc::new(
        RuleSet::builtin().expect("built-in rules compile"),
    )));
    let none = Arc::new(Scanner::new(Arc::new(RuleSet::from_rules(Vec::new()))));
    let (found, bytes, blobs) = scan(&repo, &builtin);
    assert_eq!(found, planted, "findings in the generated history");
    assert_eq!(scan(&repo, &none), (0, bytes, blobs));
    eprintln!("git: 400 commits, {blobs} unique blobs, {bytes} bytes, {planted} secrets");

    let mut g = c.benchmark_group("git");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function("enumerate", |b| {
        b.iter(|| assert_eq!(scan(&repo, &none).0, 0))
    });
    g.bench_function("scan", |b| {
        b.iter(|| assert_eq!(scan(&repo, &builtin).0, planted))
    });
    g.finish();
}

criterion_group!(benches, bench_git);
criterion_main!(benches);
