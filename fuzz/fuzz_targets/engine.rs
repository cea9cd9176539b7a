//! Fuzz the engine: the prefilter's two keyword matchers must find the same occurrences; one
//! buffer scanned whole must satisfy the result contract (spans, order, overlap, regex re-run;
//! see `leakhound_fuzz::check_matches`); its findings must locate the secret exactly; and the
//! same bytes pushed to a `StreamScanner` in the given piece sizes must give exactly the
//! whole-buffer findings, in bounded memory.
//!
//! Input: piece sizes (1..=4096 bytes, each optionally fed without a scan), which rule set to use
//! (the fixed rules below, or the built-in library), a few repeats, then the data. A repeat
//! copies a short run of the data many times in place, so that small fuzzer inputs reach the
//! sizes where windows, stream context and dropped buffer prefixes matter (long lines, long PEM
//! bodies, many keyword hits); the data is at most 64 KiB after the repeats.

#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use leakhound::chunk::StreamScanner;
use leakhound::finding::{FindingBuilder, FindingOptions, LineIndex};
use leakhound::rules::RuleSet;
use leakhound::Scanner;
use leakhound_fuzz::{check_findings, check_matches, keys, Lines, Oracle};
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
/// an input (each pass rescans up to three windows of context; the built-in rules' window is
/// much longer than the fixed rules').
const MAX_PIECES: usize = 256;
const MAX_PIECES_BUILTIN: usize = 24;
/// Most repeats applied.
const MAX_REPEATS: usize = 8;

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
    S.get_or_init(|| {
        Setup::new(
            RuleSet::builtin().expect("the built-in rules compile"),
            None,
        )
    })
}

#[derive(Arbitrary, Debug)]
struct Piece {
    /// Size of the piece, taken modulo 4096 plus one.
    size: u16,
    /// Feed only (scan later, with the next flush or push).
    feed_only: bool,
}

#[derive(Arbitrary, Debug)]
struct Repeat {
    /// Where the run starts (modulo the data's length).
    at: u16,
    /// Its length, modulo 64, plus one.
    len: u8,
    /// How many copies are inserted, modulo 4096.
    times: u16,
}

/// `data` with each repeat applied in turn, cut to [`MAX_DATA`].
fn expand(data: &[u8], repeats: &[Repeat]) -> Vec<u8> {
    let mut out = data[..data.len().min(MAX_DATA)].to_vec();
    for r in repeats.iter().take(MAX_REPEATS) {
        if out.is_empty() {
            break;
        }
        let at = usize::from(r.at) % out.len();
        let len = (usize::from(r.len) % 64 + 1).min(out.len() - at);
        let add = (len * (usize::from(r.times) % 4096)).min(MAX_DATA - out.len());
        let copies: Vec<u8> = out[at..at + len]
            .iter()
            .cycle()
            .take(add)
            .copied()
            .collect();
        out.splice(at..at, copies);
    }
    out
}

#[derive(Arbitrary, Debug)]
struct Case<'a> {
    pieces: Vec<Piece>,
    builtin: bool,
    repeats: Vec<Repeat>,
    /// Last, so that it takes the rest of the fuzzer's bytes as they are (a byte slice, not a
    /// `Vec<u8>`, whose `take_rest` would interleave "keep going" bytes).
    data: &'a [u8],
}

const OPTS: FindingOptions = FindingOptions {
    no_redact: true,
    policy: None,
};

/// Known bug, `fuzz_engine_long_line_of_hits_match_longer_than_window` in
/// `tests/fuzz_regressions.rs`: a windowed rule can give a match longer than its window, and the
/// stream then misses it. While this is `true`, an input with such a match skips the checks that
/// rely on the bound (the match length and the stream comparison) so that fuzzing goes on
/// finding other problems; set it to `false` with the fix.
const KNOWN_BUG_LONG_MATCHES: bool = false;

/// Known bug, `fuzz_engine_many_findings_on_one_line_is_quadratic` in
/// `tests/fuzz_regressions.rs`: building findings costs the length of the secret's line for each
/// finding, so thousands of findings on one long line take seconds (minutes for a 1 MB line).
/// While this is `true`, inputs whose findings would cost more than [`CONTEXT_BUDGET`] bytes of
/// context work stop after the engine checks, so that they do not turn into libFuzzer timeouts.
const KNOWN_BUG_QUADRATIC_CONTEXT: bool = false;
const CONTEXT_BUDGET: usize = 4 << 20;

fuzz_target!(|case: Case| {
    let Case {
        pieces,
        builtin: use_builtin,
        repeats,
        data,
    } = case;
    let data = &expand(data, &repeats)[..];
    let setup = if use_builtin { builtin() } else { fixed() };
    let scanner = &setup.scanner;
    let rules = scanner.rules();

    // The keyword matchers: the shift-or filter (on inputs of any length) finds exactly
    // what the automaton finds.
    let pf = scanner.prefilter();
    assert_eq!(
        pf.occurrences(data, false),
        pf.occurrences(data, true),
        "keyword occurrences"
    );

    // The whole buffer.
    let mut scratch = scanner.scratch();
    let matches = scanner.scan(data, &mut scratch).to_vec();
    check_matches(rules, &setup.oracle, data, &matches, setup.group);
    if KNOWN_BUG_QUADRATIC_CONTEXT {
        let lines = Lines::new(data);
        let cost: usize = matches
            .iter()
            .map(|m| {
                let (s, e) = lines.line_span(m.secret_start);
                e - s
            })
            .sum();
        if cost > CONTEXT_BUDGET {
            return;
        }
    }
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
    // No match is longer than the longest rule window (`max_len`; what streaming relies on).
    let w = scanner.max_window();
    if let Some(m) = matches.iter().find(|m| m.end - m.start > w) {
        if KNOWN_BUG_LONG_MATCHES {
            return;
        }
        panic!("{m:?}: longer than the window ({w} bytes)");
    }

    // The same bytes as a stream.
    let sizes: Vec<(usize, bool)> = if pieces.is_empty() {
        vec![(data.len().max(1), false)]
    } else {
        pieces
            .iter()
            .map(|p| (usize::from(p.size) % 4096 + 1, p.feed_only))
            .collect()
    };
    let mut stream = StreamScanner::new(Arc::clone(scanner), "fuzz", OPTS);
    let mut streamed = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let (size, feed_only) = sizes[i % sizes.len()];
        let max_pieces = if use_builtin {
            MAX_PIECES_BUILTIN
        } else {
            MAX_PIECES
        };
        let n = if i + 1 >= max_pieces {
            data.len() - at
        } else {
            size.min(data.len() - at)
        };
        if feed_only {
            stream.feed(&data[at..at + n]);
        } else {
            if size % 3 == 0 {
                // Handed over in a buffer, bytes after the data: the scanner's context goes in
                // the room before it, or (when it does not fit) the data is copied.
                let room = size * 29;
                let mut buf = vec![b'='; room + n + 64];
                buf[room..room + n].copy_from_slice(&data[at..at + n]);
                stream.feed_buffer(buf, room, room + n);
                stream.flush(&mut streamed);
            } else {
                stream.push(&data[at..at + n], &mut streamed);
            }
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
