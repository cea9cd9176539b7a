//! Property tests of the engine's contracts: a spliced secret is found at exactly its span; a
//! stream pushed in pieces of any size (down to one byte) gives exactly the whole-buffer findings;
//! the mmap, read and stream paths agree; the prefilter never drops a real match.

mod util;

use std::sync::Arc;

use leakhound::chunk::StreamScanner;
use leakhound::finding::{Finding, FindingBuilder, FindingOptions, LineIndex};
use leakhound::rules::RuleSet;
use leakhound::Scanner;
use proptest::prelude::*;
use util::{aws_key_id, github_pat, Gen, BASE62};

fn scanner() -> Arc<Scanner> {
    let rules = RuleSet::from_toml("test-rules.toml", util::TEST_RULES).unwrap();
    Arc::new(Scanner::new(Arc::new(rules)))
}

const OPTS: FindingOptions = FindingOptions {
    no_redact: true,
    policy: None,
};

fn whole(scanner: &Arc<Scanner>, data: &[u8]) -> Vec<Finding> {
    let mut scratch = scanner.scratch();
    let matches = scanner.scan(data, &mut scratch).to_vec();
    let mut out = Vec::new();
    FindingBuilder {
        rules: scanner.rules(),
        opts: OPTS,
    }
    .build("x", data, 0, &mut LineIndex::new(1, 0), &matches, &mut out);
    out
}

fn streamed(scanner: &Arc<Scanner>, data: &[u8], sizes: &[usize]) -> Vec<Finding> {
    let mut s = StreamScanner::new(Arc::clone(scanner), "x", OPTS);
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = sizes[i % sizes.len()].max(1).min(data.len() - at);
        if i % 2 == 1 {
            // Handed over in a buffer with room before the data and bytes after it: the
            // scanner keeps its context in the room (a large one) or copies the data (a small
            // one), and reads nothing past the data.
            let room = if i % 4 == 1 {
                1 << 17
            } else {
                sizes[(i + 1) % sizes.len()]
            };
            let mut buf = vec![b'x'; room];
            buf.extend_from_slice(&data[at..at + n]);
            let end = buf.len();
            buf.extend_from_slice(format!(" {}\n", aws_key_id(&mut Gen::new(99))).as_bytes());
            s.feed_buffer(buf, room, end);
            s.flush(&mut out);
        } else {
            s.push(&data[at..at + n], &mut out);
        }
        at += n;
        i += 1;
    }
    s.finish(&mut out);
    out.sort_by_key(|f| (f.offset, f.rule_id.clone()));
    out
}

/// A secret of one of the test rules, and the byte range of the secret inside the returned text.
fn secret(g: &mut Gen, kind: u8) -> (String, std::ops::Range<usize>) {
    match kind % 5 {
        0 => {
            let k = aws_key_id(g);
            (k.clone(), 0..k.len())
        }
        1 => {
            let k = github_pat(g);
            (k.clone(), 0..k.len())
        }
        2 => {
            let v = g.string(BASE62, 20);
            let t = format!("password = \"{v}\"");
            (t, 12..32)
        }
        3 => {
            let v = g.string(BASE62, 24);
            (format!("deploy_token = \"{v}\""), 16..40)
        }
        _ => {
            let body: String = (0..3).map(|_| g.string(BASE62, 40) + "\n").collect();
            let head = "-----BEGIN TEST PRIVATE KEY-----\n";
            let t = format!("{head}{body}-----END TEST PRIVATE KEY-----");
            (t, head.len()..head.len() + body.len())
        }
    }
}

/// Text made of filler words, line breaks, near-miss keywords and secrets.
fn document(seed: u64, parts: usize) -> Vec<u8> {
    let mut g = Gen::new(seed);
    let mut out = String::new();
    for _ in 0..parts {
        match g.next() % 7 {
            0 => out.push('\n'),
            1 => out.push_str(" AKIA ghp_ password: x_token = "),
            2 => {
                out.push('\n');
                let kind = (g.next() % 5) as u8;
                out.push_str(&secret(&mut g, kind).0);
                out.push('\n');
            }
            _ => {
                let n = (g.next() % 12) as usize + 1;
                out.push_str(&g.string("abcdefgh ijk_=:\"", n));
            }
        }
    }
    out.into_bytes()
}

proptest! {
    // 64 cases in CI; PROPTEST_CASES=N for a longer run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn spliced_secret_found_at_exact_span(
        noise in proptest::collection::vec(any::<u8>(), 0..1500),
        at in any::<prop::sample::Index>(),
        seed in any::<u64>(),
        kind in 0u8..5,
    ) {
        let scanner = scanner();
        let mut g = Gen::new(seed);
        let (text, span) = secret(&mut g, kind);
        let cut = at.index(noise.len() + 1);
        let mut data = noise[..cut].to_vec();
        data.push(b'\n');
        let base = data.len();
        data.extend_from_slice(text.as_bytes());
        data.push(b'\n');
        data.extend_from_slice(&noise[cut..]);
        let found = whole(&scanner, &data);
        let want = (base + span.start) as u64;
        let hit = found.iter().find(|f| f.offset == want);
        prop_assert!(hit.is_some(), "no finding at {want}: {found:?}");
        let hit = hit.unwrap();
        prop_assert_eq!(hit.secret.as_bytes(), &text.as_bytes()[span.clone()]);
    }

    #[test]
    fn stream_pieces_equal_whole_buffer(
        seed in any::<u64>(),
        parts in 1usize..120,
        sizes in proptest::collection::vec(1usize..700, 1..8),
    ) {
        let scanner = scanner();
        let data = document(seed, parts);
        let mut want = whole(&scanner, &data);
        want.sort_by_key(|f| (f.offset, f.rule_id.clone()));
        let got = streamed(&scanner, &data, &sizes);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn prefilter_never_drops_a_real_match(seed in any::<u64>(), parts in 1usize..150) {
        let data = document(seed, parts);
        let rules = RuleSet::from_toml("t.toml", util::TEST_RULES).unwrap();
        for rule in rules.rules() {
            let with = Scanner::new(Arc::new(RuleSet::from_rules(vec![rule.clone()])));
            let mut bare_rule = rule.clone();
            bare_rule.keywords.clear();
            let bare = Scanner::new(Arc::new(RuleSet::from_rules(vec![bare_rule])));
            let a = with.scan(&data, &mut with.scratch()).to_vec();
            let lower = data.to_ascii_lowercase();
            let b: Vec<_> = bare
                .scan(&data, &mut bare.scratch())
                .iter()
                .filter(|m| {
                    let s = &lower[m.start..m.end];
                    rule.keywords.iter().any(|k| memchr::memmem::find(s, k.as_bytes()).is_some())
                })
                .copied()
                .collect();
            prop_assert_eq!(a, b, "rule {}", rule.id);
        }
    }
}

#[test]
fn one_byte_pieces_equal_whole_buffer() {
    let scanner = scanner();
    for seed in 0..4 {
        let data = document(seed, 60);
        let mut want = whole(&scanner, &data);
        want.sort_by_key(|f| (f.offset, f.rule_id.clone()));
        assert!(!want.is_empty() || seed > 0);
        assert_eq!(streamed(&scanner, &data, &[1]), want, "seed {seed}");
    }
}

#[test]
fn single_line_findings_are_reported_when_their_line_completes() {
    let scanner = scanner();
    let mut g = Gen::new(77);
    let key = aws_key_id(&mut g);
    let mut s = StreamScanner::new(Arc::clone(&scanner), "log", OPTS);
    let mut out = Vec::new();
    s.push(format!("INFO started\nWARN key={key}").as_bytes(), &mut out);
    assert!(out.is_empty(), "the line is not complete yet");
    s.push(b"\n", &mut out);
    assert_eq!(out.len(), 1, "reported without waiting for more data");
    assert_eq!((out[0].line, out[0].column), (2, 10));
    s.push(b"more log lines\n", &mut out);
    s.finish(&mut out);
    assert_eq!(out.len(), 1, "reported exactly once");
}

#[test]
fn stream_memory_is_bounded() {
    let scanner = scanner();
    let mut s = StreamScanner::new(Arc::clone(&scanner), "log", OPTS);
    let mut out = Vec::new();
    let line = b"2026-11-26T12:00:00Z INFO request served path=/api/v1/items status=200\n";
    let piece: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    let mut peak = 0;
    for _ in 0..400 {
        s.push(&piece, &mut out);
        peak = peak.max(s.buffered());
    }
    s.finish(&mut out);
    assert!(out.is_empty());
    assert_eq!(s.bytes(), 400 * 64 * 1024);
    let bound = piece.len() + 3 * scanner.max_window() + 8;
    assert!(peak <= bound, "peak buffer {peak} > {bound}");
}

#[test]
fn mmap_read_and_stream_paths_agree() {
    use leakhound::scan::{Counters, Event, ScanConfig};
    let scanner = scanner();
    let dir = util::Dir::new();
    let mut g = Gen::new(99);
    let mut data = document(5, 400);
    data.extend_from_slice(format!("\n{}\n", github_pat(&mut g)).as_bytes());
    let path = dir.create("f.txt", &data);
    let run = |threshold: u64| {
        let cfg = ScanConfig {
            mmap_threshold: threshold,
            findings: OPTS,
            threads: 1,
            ..ScanConfig::default()
        };
        let (tx, rx) = crossbeam_channel::unbounded();
        leakhound::source::fs::scan_paths(
            std::slice::from_ref(&path),
            &scanner,
            &cfg,
            &Counters::default(),
            &tx,
        );
        drop(tx);
        let mut all = Vec::new();
        for e in rx {
            if let Event::Findings(f) = e {
                all.extend(f);
            }
        }
        all.sort_by_key(|f| (f.offset, f.rule_id.clone()));
        all
    };
    let read = run(u64::MAX);
    let mapped = run(0);
    assert!(!read.is_empty());
    assert_eq!(read, mapped);
    let (tx, rx) = crossbeam_channel::unbounded();
    let cfg = ScanConfig {
        findings: OPTS,
        ..ScanConfig::default()
    };
    let name = path.display().to_string();
    leakhound::source::stream::scan_stream(
        std::io::Cursor::new(data.clone()),
        &name,
        &scanner,
        &cfg,
        &Counters::default(),
        &tx,
    );
    drop(tx);
    let mut streamed: Vec<Finding> = rx
        .into_iter()
        .flat_map(|e| match e {
            Event::Findings(f) => f,
            _ => Vec::new(),
        })
        .collect();
    streamed.sort_by_key(|f| (f.offset, f.rule_id.clone()));
    let strip = |v: &[Finding]| -> Vec<(String, u64, u64, u64, String)> {
        v.iter()
            .map(|f| {
                (
                    f.rule_id.clone(),
                    f.offset,
                    f.line,
                    f.column,
                    f.secret.clone(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&streamed), strip(&read));
}

#[test]
fn parallel_split_equals_single_scan() {
    let scanner = scanner();
    let mut data = Vec::new();
    let mut seed = 0;
    while data.len() < 3 << 20 {
        data.extend(document(seed, 400));
        seed += 1;
    }
    let mut scratch = scanner.scratch();
    let want = scanner.scan(&data, &mut scratch).to_vec();
    assert!(want.len() > 100, "the document holds many secrets");
    for threads in [2, 3, 4] {
        let mut scratches: Vec<_> = (0..threads).map(|_| scanner.scratch()).collect();
        let mut got = Vec::new();
        scanner.scan_parallel(&data, &mut scratches, &mut got);
        assert_eq!(got, want, "{threads} threads");
    }
}

/// Regression: a keyword hit inside an already accepted match (here the value of a password
/// assignment contains the keyword again) panicked the anchored path with an inverted range.
#[test]
fn regression_hit_inside_accepted_match() {
    let scanner = scanner();
    let mut g = Gen::new(3);
    let text = format!(
        "password = \"Password{}password\"\nnext_token = \"{}\"\n",
        g.string(BASE62, 10),
        g.string(BASE62, 20)
    );
    let found = whole(&scanner, text.as_bytes());
    let ids: Vec<_> = found.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["test-password", "test-token"]);
}

/// A file at least `parallel_threshold` long is cut across threads, its encoded runs found by
/// one finder per part: the findings, clear and decoded, are those of one thread.
#[test]
fn large_file_cut_across_threads_equals_one_thread() {
    use leakhound::scan::{Counters, Event, ScanConfig};
    let scanner = scanner();
    let dir = util::Dir::new();
    let mut g = Gen::new(7);
    let mut data = Vec::new();
    let mut seed = 0;
    let min = 3 * (8 * scanner.max_window() + 64 * 1024) + 1;
    while data.len() < min {
        data.extend_from_slice(&document(seed, 300));
        // A secret in clear and one in base64, on lines of their own.
        let clear = aws_key_id(&mut g);
        let encoded = util::b64(format!("token: {}", github_pat(&mut g)).as_bytes());
        data.extend_from_slice(format!("\n{clear}\nvalue: {encoded}\n").as_bytes());
        seed += 1;
    }
    let path = dir.create("big.txt", &data);
    let run = |threads: usize| {
        let cfg = ScanConfig {
            findings: OPTS,
            threads,
            parallel_threshold: 0,
            ..ScanConfig::default()
        };
        let (tx, rx) = crossbeam_channel::unbounded();
        let counters = Counters::default();
        leakhound::source::fs::scan_paths(
            std::slice::from_ref(&path),
            &scanner,
            &cfg,
            &counters,
            &tx,
        );
        drop(tx);
        let mut all: Vec<Finding> = rx
            .into_iter()
            .flat_map(|e| match e {
                Event::Findings(f) => f,
                _ => Vec::new(),
            })
            .collect();
        all.sort_by_key(|f| (f.offset, f.rule_id.clone()));
        all
    };
    let one = run(1);
    assert!(one.iter().any(|f| f.decoded.is_some()), "decoded findings");
    assert!(one.len() as u64 > 2 * seed, "{} findings", one.len());
    for threads in [2, 3] {
        assert_eq!(run(threads), one, "{threads} threads");
    }
}

/// A stream with decoding on finds what a whole-file scan finds, clear and decoded, at the same
/// places, whatever the piece sizes (down to one byte): runs are decoded a line at a time, and a
/// wrapped block once its last line has come.
#[test]
fn streamed_decoding_equals_the_whole_file() {
    use leakhound::content::{Layers, Output};
    use leakhound::scan::{Counters, ScanConfig};
    let scanner = scanner();
    let cfg = ScanConfig {
        findings: OPTS,
        ..ScanConfig::default()
    };
    let mut g = Gen::new(23);
    let mut data = Vec::new();
    for seed in 0..6 {
        data.extend_from_slice(&document(100 + seed, 60));
        let inner = format!("token: {}", github_pat(&mut g));
        let double = util::b64(format!("key = {}", util::b64(inner.as_bytes())).as_bytes());
        let line = format!(
            "\nvalue: {}\nnested: {double} tail\n{}\n",
            util::b64(format!("aws {}", aws_key_id(&mut g)).as_bytes()),
            aws_key_id(&mut g)
        );
        data.extend_from_slice(line.as_bytes());
        // A wrapped block (as `base64` writes it): its lines wait for the one that ends it.
        let env = format!("A={}\nB={}\n", aws_key_id(&mut g), github_pat(&mut g));
        for l in util::b64(env.as_bytes()).as_bytes().chunks(76) {
            data.extend_from_slice(l);
            data.push(b'\n');
        }
    }
    data.extend_from_slice(b"last: ");
    data.extend_from_slice(util::b64(format!("id={}", aws_key_id(&mut g)).as_bytes()).as_bytes());
    let key = |f: &Finding| {
        (
            f.offset,
            f.rule_id.clone(),
            f.line,
            f.column,
            f.end_line,
            f.end_column,
            f.decoded.clone(),
            f.secret.clone(),
        )
    };
    let mut whole = Output::default();
    Layers {
        scanner: &scanner,
        cfg: &cfg,
        counters: &Counters::default(),
    }
    .scan(&mut scanner.scratch(), "x", &data, &mut whole);
    let mut want: Vec<_> = whole.findings.iter().map(key).collect();
    want.sort();
    assert!(
        want.iter().filter(|k| k.6.is_some()).count() >= 12,
        "decoded findings: {want:#?}"
    );
    for sizes in [vec![1], vec![5, 1, 64], vec![4096], vec![data.len()]] {
        let mut s = StreamScanner::new(Arc::clone(&scanner), "x", OPTS);
        s.decoding(&cfg);
        let mut out = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < data.len() {
            let n = sizes[i % sizes.len()].min(data.len() - at);
            s.push(&data[at..at + n], &mut out);
            at += n;
            i += 1;
        }
        s.finish(&mut out);
        let mut got: Vec<_> = out.iter().map(key).collect();
        got.sort();
        assert_eq!(got, want, "pieces {sizes:?}");
    }
}

/// With decoding on, a stream keeps its incomplete last line, and the lines of a wrapped block,
/// for the decoder, but a line or block without end is given up at 4 MiB: memory stays bounded,
/// with or without line breaks.
#[test]
fn decoding_stream_memory_is_bounded() {
    use leakhound::scan::ScanConfig;
    let scanner = scanner();
    let cfg = ScanConfig::default();
    for piece in [
        b"log line with a token: QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= ok\n".repeat(1024),
        b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo".repeat(2048),
        // A wrapped block without end: its lines wait, up to 4 MiB.
        b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpBQkNE\n".repeat(1024),
    ] {
        let mut s = StreamScanner::new(Arc::clone(&scanner), "log", OPTS);
        s.decoding(&cfg);
        let mut out = Vec::new();
        let mut peak = 0;
        for _ in 0..300 {
            s.push(&piece, &mut out);
            peak = peak.max(s.buffered());
        }
        s.finish(&mut out);
        let bound = 4 * 1024 * 1024 + piece.len() + 3 * scanner.max_window() + 8;
        assert!(peak <= bound, "peak buffer {peak} > {bound}");
    }
}
