//! Criterion benchmarks of the engine's stages. Every group declares `Throughput::Bytes` and
//! asserts the number of findings it expects, so a benchmark that silently stopped finding
//! anything fails instead of getting faster.
//!
//! Inputs are built in memory: "sparse" is this repository's own Rust sources repeated (real code,
//! almost no secrets), "dense" is log-like text with a generated credential every few lines,
//! "encoded" is sparse with a base64-encoded credential every 64 KiB.

mod corpus;

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leakhound::chunk::StreamScanner;
use leakhound::finding::FindingOptions;
use leakhound::rules::RuleSet;
use leakhound::verify::entropy;
use leakhound::Scanner;

const SIZE: usize = 8 << 20;

/// Real source code (this crate's), repeated to `SIZE` bytes.
fn sparse() -> Vec<u8> {
    let src: Vec<u8> = corpus::crate_sources()
        .into_iter()
        .flat_map(|(_, data)| data)
        .collect();
    src.iter().copied().cycle().take(SIZE).collect()
}

/// Log lines with a generated AWS key id or GitHub token every fourth line, and how many.
fn dense() -> (Vec<u8>, usize) {
    corpus::log_lines(SIZE)
}

fn scanner() -> Scanner {
    Scanner::new(Arc::new(
        RuleSet::builtin().expect("built-in rules compile"),
    ))
}

/// The keyword search as scans run it, and by the automaton alone (what the shift-or filter
/// replaced), on sparse and on dense text.
fn bench_prefilter(c: &mut Criterion) {
    let sc = scanner();
    let pf = sc.prefilter();
    let mut g = c.benchmark_group("prefilter");
    for (name, data) in [("sparse", sparse()), ("dense", dense().0)] {
        let hits = pf.count(&data);
        assert_eq!(pf.occurrences(&data, true).len(), hits);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| assert_eq!(pf.count(black_box(&data)), hits))
        });
        g.bench_function(format!("{name}/automaton"), |b| {
            b.iter(|| {
                let mut n = 0;
                pf.for_each_occurrence(black_box(&data), true, |_, _, _| n += 1);
                assert_eq!(n, hits)
            })
        });
    }
    g.finish();
}

fn bench_scan(c: &mut Criterion) {
    let sc = scanner();
    let mut scratch = sc.scratch();
    let sparse = sparse();
    let (dense, secrets) = dense();
    let found = sc.scan(&dense, &mut scratch).to_vec();
    if found.len() != secrets {
        let mut per = std::collections::BTreeMap::new();
        for m in &found {
            *per.entry(sc.rules().get(m.rule as usize).id.clone())
                .or_insert(0) += 1;
        }
        panic!("dense: {} found, {secrets} planted: {per:?}", found.len());
    }
    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(sparse.len() as u64));
    g.bench_function("sparse", |b| {
        b.iter(|| assert_eq!(sc.scan(black_box(&sparse), &mut scratch).len(), 0))
    });
    g.throughput(Throughput::Bytes(dense.len() as u64));
    g.bench_function("dense", |b| {
        b.iter(|| assert_eq!(sc.scan(black_box(&dense), &mut scratch).len(), secrets))
    });
    g.finish();
}

fn bench_stream(c: &mut Criterion) {
    let sc = Arc::new(scanner());
    let (dense, secrets) = dense();
    let sparse = sparse();
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Bytes(dense.len() as u64));
    for (name, data, want, piece) in [
        ("sparse", &sparse, 0, 64 * 1024),
        ("sparse", &sparse, 0, 1 << 20),
        ("dense", &dense, secrets, 1 << 20),
    ] {
        g.bench_with_input(BenchmarkId::new(name, piece), &piece, |b, &piece| {
            b.iter(|| {
                let mut s = StreamScanner::new(
                    Arc::clone(&sc),
                    "<stdin>",
                    FindingOptions {
                        no_redact: false,
                        policy: None,
                    },
                );
                let mut out = Vec::new();
                for chunk in data.chunks(piece) {
                    s.push(chunk, &mut out);
                }
                s.finish(&mut out);
                assert_eq!(out.len(), want);
            })
        });
    }
    g.finish();
}

fn bench_entropy(c: &mut Criterion) {
    let data: Vec<u8> = (0..40u8).map(|i| b'A' + (i * 7) % 26).collect();
    let mut g = c.benchmark_group("entropy");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("40-byte secret", |b| {
        b.iter(|| assert!(entropy(black_box(&data)) > 3.0))
    });
    g.finish();
}

fn bench_compile(c: &mut Criterion) {
    let n = RuleSet::builtin().unwrap().len();
    let bytes: usize = leakhound::rules::builtin_files()
        .map(|(_, t)| t.len())
        .sum();
    let mut g = c.benchmark_group("compile");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("builtin rules + prefilter", |b| {
        b.iter(|| {
            let s = scanner();
            assert_eq!(s.rules().len(), n);
        })
    });
    g.finish();
}

/// `sparse()` with a line holding a base64-encoded AWS key id every 64 KiB (the shape of a
/// Kubernetes Secret value): a source tree with a few encoded secrets. Returns it and how many.
fn encoded() -> (Vec<u8>, usize) {
    let b32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let src = sparse();
    let mut out = Vec::with_capacity(src.len() + src.len() / 512);
    let mut planted = 0;
    for piece in src.chunks(64 * 1024) {
        out.extend_from_slice(piece);
        let mut id = String::new();
        while id.is_empty() || entropy(format!("AKIA{id}").as_bytes()) < 3.3 {
            id = (0..16)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b32[(x % 32) as usize] as char
                })
                .collect();
        }
        let text = format!("aws_access_key_id = AKIA{id}\n");
        let enc = corpus::base64(text.as_bytes());
        out.extend_from_slice(format!("\n  blob: {enc}\n").as_bytes());
        planted += 1;
    }
    (out, planted)
}

/// The decoder: the run finder alone, and whole inputs through the content layer with decoding
/// on and off (the reference, measured in the same run).
fn bench_decode(c: &mut Criterion) {
    use leakhound::content::{Layers, Output};
    use leakhound::scan::{Counters, ScanConfig};
    let sc = scanner();
    let mut scratch = sc.scratch();
    let (data, planted) = encoded();
    let mut runs = Vec::new();
    leakhound::decode::find_runs(&data, &mut runs);
    let n_runs = runs.len();
    let counters = Counters::default();
    let on = ScanConfig::default();
    let off = ScanConfig {
        decode_depth: 0,
        ..ScanConfig::default()
    };
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("find_runs", |b| {
        b.iter(|| {
            runs.clear();
            leakhound::decode::find_runs(black_box(&data), &mut runs);
            assert_eq!(runs.len(), n_runs);
        })
    });
    for (name, cfg, want) in [("layers/on", &on, planted), ("layers/off", &off, 0)] {
        let layers = Layers {
            scanner: &sc,
            cfg,
            counters: &counters,
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Output::default();
                layers.scan(&mut scratch, "bench", black_box(&data), &mut out);
                assert_eq!(out.findings.len(), want);
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_decode,
    bench_prefilter,
    bench_scan,
    bench_stream,
    bench_entropy,
    bench_compile
);
criterion_main!(benches);
