//! Criterion benchmark of scan throughput against rule count: the same realistic sparse input
//! (this repository's Rust sources repeated to 8 MiB, with a generated AWS key id or GitHub
//! token planted every 64 KiB) scanned with the first 30 and 150 built-in rules by sorted id,
//! with all of them, and with all of them plus the opt-in packs. `Throughput::Bytes` makes the
//! report read in MB/s, so the cost of each added rule is the drop between rows.
//!
//! Every row asserts its finding count: the planted secrets whose rule is in the subset (computed
//! from the subset, so a subset that silently lost a rule fails), and for the packs row the same
//! plus a count of pack findings that must not change between iterations.

mod corpus;

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leakhound::rules::{pack_names, Rule, RuleSet, RuleSetBuilder};
use leakhound::verify::{base62, entropy};
use leakhound::Scanner;

const SIZE: usize = 8 << 20;
/// One planted secret per this many bytes of source.
const EVERY: usize = 64 << 10;
const AWS: &str = "aws-access-key-id";
const GITHUB: &str = "github-pat-classic";

/// This crate's sources repeated to `SIZE` bytes, with a secret line inserted at the first line
/// break after every `EVERY` bytes, alternately an AWS key id and a GitHub token. Returns the
/// text and how many of each were planted.
fn input() -> (Vec<u8>, usize, usize) {
    let src: Vec<u8> = corpus::crate_sources()
        .into_iter()
        .flat_map(|(_, data)| data)
        .collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut draw = |n: usize, alphabet: &[u8]| -> String {
        (0..n)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
            .collect()
    };
    let (mut aws, mut github) = (0, 0);
    let mut out = Vec::with_capacity(SIZE + SIZE / EVERY * 64);
    let mut next_plant = EVERY;
    for &b in src.iter().cycle().take(SIZE) {
        out.push(b);
        if b == b'\n' && out.len() >= next_plant {
            next_plant += EVERY;
            if (aws + github) % 2 == 0 {
                // Resample the rare draw whose entropy is below the rule's floor.
                let mut id = draw(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
                while entropy(format!("AKIA{id}").as_bytes()) < 3.3 {
                    id = draw(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
                }
                out.extend(format!("    let aws_access_key_id = \"AKIA{id}\";\n").bytes());
                aws += 1;
            } else {
                let r = draw(
                    30,
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                );
                let crc = base62(u64::from(crc32fast::hash(r.as_bytes())), 6);
                out.extend(format!("    // token ghp_{r}{crc} in a comment\n").bytes());
                github += 1;
            }
        }
    }
    (out, aws, github)
}

/// The first `n` built-in rules by sorted id.
fn first_by_id(all: &[Rule], n: usize) -> Vec<Rule> {
    let mut rules = all.to_vec();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    rules.truncate(n);
    rules
}

fn bench_rule_count(c: &mut Criterion) {
    let (data, aws, github) = input();
    let builtin = RuleSet::builtin().expect("built-in rules compile");
    let all = builtin.rules();
    let mut with_packs = RuleSetBuilder::new();
    for p in pack_names() {
        with_packs.pack(p).expect("pack names are known");
    }
    let with_packs = with_packs.build().expect("packs compile");
    let rows = [
        ("30", first_by_id(all, 30)),
        ("150", first_by_id(all, 150)),
        ("all", all.to_vec()),
        ("all+packs", with_packs.rules().to_vec()),
    ];
    let mut g = c.benchmark_group("rule_count");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    g.measurement_time(std::time::Duration::from_secs(8));
    for (name, rules) in rows {
        let n = rules.len();
        let has = |id: &str| rules.iter().any(|r| r.id == id);
        let planted = usize::from(has(AWS)) * aws + usize::from(has(GITHUB)) * github;
        let sc = Scanner::new(Arc::new(RuleSet::from_rules(rules)));
        let mut scratch = sc.scratch();
        // Findings of rules outside the default set (the packs row only): counted once here,
        // then required to stay the same.
        let count = |found: &[leakhound::verify::Match]| -> (usize, usize) {
            let pack = found
                .iter()
                .filter(|m| sc.rules().get(m.rule as usize).pack.is_some())
                .count();
            (found.len() - pack, pack)
        };
        let (default_found, pack_found) = count(sc.scan(&data, &mut scratch));
        assert_eq!(default_found, planted, "{name}: default-rule findings");
        if name != "all+packs" {
            assert_eq!(pack_found, 0);
        }
        eprintln!("rule_count/{name}: {n} rules, {planted} planted secrets found, {pack_found} pack findings");
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{name} ({n} rules)")),
            &n,
            |b, _| {
                b.iter(|| {
                    let found = sc.scan(black_box(&data), &mut scratch);
                    assert_eq!(count(found), (planted, pack_found));
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench_rule_count);
criterion_main!(benches);
