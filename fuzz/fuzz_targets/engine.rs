//! Fuzz the engine: one buffer scanned whole must satisfy the result contract (spans, order,
//! overlap, regex re-run; see `leakhound_fuzz::check_matches`), its findings must locate the
//! secret exactly, and the same bytes pushed to a `StreamScanner` in the given piece sizes must
//! give exactly the whole-buffer findings, in bounded memory.
//!
//! Input: piece sizes (1..=4096 bytes, each optionally followed by a flush), which rule set to
//! use (the fixed rules below, or the built-in library), then up to 64 KiB of data.

#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use leakhound::chunk::StreamScanner;
use leakhound::finding::{FindingBuilder, FindingOptions, LineIndex};
use leakhound::rules::RuleSet;
use leakhound::Scanner;
use leakhound_fuzz::{check_findings, check_matches, keys, Oracle};
use libfuzzer_sys::fuzz_target;

/// A small rule set that covers each verification path: anchored at a keyword (`fz-akia`), a
/// keyword after a bounded lead (`fz-fuzz-key`), a keyword after an unbounded prefix (windowed
/// search, `fz-token`), a match across lines (`fz-pem`), no keyword at all (whole-buffer search,
/// `fz-serial`), secret checks (entropy, min_len, allowlist, stopwords), and rules whose matches
/// overlap (`fz-fuzz-key` and `fz-generic-key`). Every rule's secret is capture group 1.
const RULES: &str = r#"
[[rules]]
id = "fz-akia"
keywords = ["akia"]
regex = '''\b(AKIA[A-Z2-7]{16})\b'''
severity = "high"
confidence = "high"

[[rules]]
id = "fz-password"
keywords = ["password"]
regex = '''(?i)password\s*[:=]\s*"([^"\s]{8,64})"'''
entropy = 2.5
confidence = "low"

[[rules]]
id = "fz-token"
keywords = ["_token"]
regex = '''[a-z_]+_token\s*=\s*"([A-Za-z0-9]{12,40})"'''
max_len = 200

[[rules]]
id = "fz-pem"
keywords = ["-----begin"]
regex = '''-----BEGIN [A-Z ]{0,20}KEY-----\n([A-Za-z0-9+/=\n]{16,1000})-----END [A-Z ]{0,20}KEY-----'''
severity = "critical"

[[rules]]
id = "fz-serial"
regex = '''\b([0-9]{4}-FZ-[a-f]{4})\b'''
severity = "info"
confidence = "low"

[[rules]]
id = "fz-fuzz-key"
keywords = ["fuzz_key"]
regex = '''(?i)(?:api|app)_fuzz_key\s*[:=]\s*"?([a-f0-9]{16})'''
confidence = "high"
min_len = 16

[[rules]]
id = "fz-generic-key"
keywords = ["key"]
regex = '''(?i)[a-z_]{0,20}key\s*[:=]\s*"?([a-z0-9]{8,32})'''
confidence = "low"
severity = "low"
  [rules.allowlist]
  regexes = ['''^0+$''']
  stopwords = ["example"]
"#;

/// Largest input scanned.
const MAX_DATA: usize = 64 * 1024;
/// Most pieces pushed one by one; the rest of the input follows in one piece. Bounds the cost of
/// an input (each pass rescans up to three windows of context).
const MAX_PIECES: usize = 256;

struct Setup {
    scanner: Arc<Scanner>,
    oracle: Oracle,
    /// The secret's capture group, when every rule uses the same one.
    group: Option<usize>,
}

impl Setup {
    fn new(rules: RuleSet, group: Option<usize>) -> Setup {
        Setup {
            oracle: Oracle::new(&rules),
            scanner: Arc::new(Scanner::new(Arc::new(rules))),
            group,
        }
    }
}

fn fixed() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let rules = RuleSet::from_toml("fuzz-engine.toml", RULES).expect("the fixed rules compile");
        Setup::new(rules, Some(1))
    })
}

fn builtin() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| Setup::new(RuleSet::builtin().expect("the built-in rules compile"), None))
}

#[derive(Arbitrary, Debug)]
struct Piece {
    /// Size of the piece, taken modulo 4096 plus one.
    size: u16,
    /// Feed only (scan later, with the next flush or push).
    feed_only: bool,
}

#[derive(Arbitrary, Debug)]
struct Case<'a> {
    pieces: Vec<Piece>,
    builtin: bool,
    /// Last, so that it takes the rest of the fuzzer's bytes as they are (a byte slice, not a
    /// `Vec<u8>`, whose `take_rest` would interleave "keep going" bytes).
    data: &'a [u8],
}

const OPTS: FindingOptions = FindingOptions { no_redact: true };

fuzz_target!(|case: Case| {
    let Case {
        pieces,
        builtin: use_builtin,
        data,
    } = case;
    let data = &data[..data.len().min(MAX_DATA)];
    let setup = if use_builtin { builtin() } else { fixed() };
    let scanner = &setup.scanner;
    let rules = scanner.rules();

    // The whole buffer.
    let mut scratch = scanner.scratch();
    let matches = scanner.scan(data, &mut scratch).to_vec();
    check_matches(rules, &setup.oracle, data, &matches, setup.group);
    // The same scratch gives the same answer again (nothing leaks from one scan to the next).
    assert_eq!(scanner.scan(data, &mut scratch), &matches[..], "rescan");
    let mut whole = Vec::new();
    FindingBuilder { rules, opts: OPTS }.build(
        "fuzz",
        data,
        0,
        &mut LineIndex::new(1, 0),
        &matches,
        &mut whole,
    );
    check_findings(rules, data, &matches, &whole);

    // The same bytes as a stream.
    let sizes: Vec<(usize, bool)> = if pieces.is_empty() {
        vec![(data.len().max(1), false)]
    } else {
        pieces
            .iter()
            .map(|p| (usize::from(p.size) % 4096 + 1, p.feed_only))
            .collect()
    };
    let w = scanner.max_window();
    let mut stream = StreamScanner::new(Arc::clone(scanner), "fuzz", OPTS);
    let mut streamed = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let (size, feed_only) = sizes[i % sizes.len()];
        let n = if i + 1 >= MAX_PIECES {
            data.len() - at
        } else {
            size.min(data.len() - at)
        };
        if feed_only {
            stream.feed(&data[at..at + n]);
        } else {
            stream.push(&data[at..at + n], &mut streamed);
            assert!(
                stream.buffered() <= 3 * w + 3,
                "{} bytes held after a pass (window {w})",
                stream.buffered()
            );
        }
        at += n;
        i += 1;
    }
    stream.finish(&mut streamed);
    assert_eq!(stream.bytes(), data.len() as u64);
    assert_eq!(
        keys(&streamed),
        keys(&whole),
        "stream in pieces of {sizes:?} != whole buffer"
    );
});
