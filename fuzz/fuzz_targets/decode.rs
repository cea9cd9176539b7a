//! Fuzz the decoder: the run finder, the decoders and the content layer that scans what they
//! decode.
//!
//! Invariants beyond "no panic": runs are sorted, disjoint, inside the input, at least the
//! minimum length and made of their alphabet (and, in a wrapped block, line breaks and
//! indentation), the same from every block loop the CPU can run
//! (portable, AVX2, AVX-512), and the same when the input is cut into parts after line breaks
//! (`find_runs_split`, one finder per thread); decoded output is no longer than the run allows
//! (3/4 for base64, 1/2 for hex, 1 for percent); a base64 encoding of an arbitrary payload
//! spliced between spaces is found at exactly its span and decodes back to the payload; and the
//! findings of a full `Layers::scan` lie inside the input, with a decoded finding placed at the
//! start of one of the input's runs (or of a line of a wrapped block) and a clear one at its
//! secret's line and column.
//!
//! Input: a payload to splice as base64 (at most 4 KiB), where to splice it, then the data (at
//! most 64 KiB).

#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use leakhound::content::{Layers, Output};
use leakhound::decode::{self, Encoding, Run, MIN_RUN};
use leakhound::scan::{Counters, ScanConfig};
use leakhound::Scanner;
use leakhound_fuzz::{b64, scanner_once, Lines};
use libfuzzer_sys::fuzz_target;

const RULES: &str = r#"
[[rules]]
id = "fz-akia"
keywords = ["akia"]
regex = '''\b(AKIA[A-Z2-7]{16})\b'''

[[rules]]
id = "fz-password"
keywords = ["password"]
regex = '''(?i)password\s*[:=]\s*"([^"\s]{8,64})"'''
"#;

const MAX_DATA: usize = 64 * 1024;
const MAX_PAYLOAD: usize = 4 * 1024;

fn scanner() -> &'static Arc<Scanner> {
    static S: OnceLock<Arc<Scanner>> = OnceLock::new();
    scanner_once(&S, "fuzz-decode.toml", RULES)
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    payload: &'a [u8],
    at: u16,
    data: &'a [u8],
}

fn check_runs(hay: &[u8], runs: &[Run]) {
    let mut prev_end = 0;
    let mut out = Vec::new();
    for r in runs {
        assert!(
            r.start >= prev_end && r.start < r.end && r.end <= hay.len(),
            "{r:?}"
        );
        prev_end = r.end;
        // A wrapped block's run holds its line breaks and indentation.
        let joined: Vec<u8>;
        let mut s = &hay[r.start..r.end];
        if r.encoding != Encoding::Percent && s.contains(&b'\n') {
            assert!(
                s[0].is_ascii_alphanumeric() || b"+/-_".contains(&s[0]),
                "{r:?}"
            );
            joined = s
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            s = &joined;
        }
        match r.encoding {
            Encoding::Base64 | Encoding::Base64Url => {
                let body = s.iter().position(|&b| b == b'=').map_or(s, |i| &s[..i]);
                assert!(body.len() >= MIN_RUN, "{r:?}");
                assert!(s[body.len()..].iter().all(|&b| b == b'=') && s.len() - body.len() <= 2);
                let extra: &[u8] = if r.encoding == Encoding::Base64 {
                    b"+/"
                } else {
                    b"-_"
                };
                assert!(body
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || extra.contains(b)));
                assert!(decode::decode(hay, r, &mut out), "{r:?}");
                assert!(out.len() <= body.len() * 3 / 4, "{r:?}");
            }
            Encoding::Hex => {
                assert!(s.len() >= 32 && s.len() % 2 == 0 && s.iter().all(u8::is_ascii_hexdigit));
                assert!(decode::decode(hay, r, &mut out));
                assert_eq!(out.len(), s.len() / 2);
            }
            Encoding::Percent => {
                assert!(s
                    .windows(3)
                    .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit()));
                assert!(decode::decode(hay, r, &mut out));
                assert!(out.len() < s.len());
            }
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    let data = &input.data[..input.data.len().min(MAX_DATA)];
    let payload = &input.payload[..input.payload.len().min(MAX_PAYLOAD)];

    // Runs found in arbitrary data keep their contract, and a large input cut into parts after
    // line breaks (one finder per thread) gives the same runs.
    let mut runs = Vec::new();
    decode::find_runs(data, &mut runs);
    check_runs(data, &runs);
    let mut split = Vec::new();
    decode::find_runs_split(data, 1 + usize::from(input.at) % 4, &mut split);
    assert_eq!(split, runs, "runs found in parts");
    // Every block loop the CPU can run (portable, AVX2, AVX-512) finds the same runs.
    for (name, find) in decode::block_loops() {
        let mut each = Vec::new();
        find(data, &mut each);
        decode::merge_runs(data, &mut each);
        assert_eq!(each, runs, "the {name} loop");
    }

    // A spliced base64 payload is found at its span and decodes back.
    let enc = b64(payload);
    let at = if data.is_empty() {
        0
    } else {
        usize::from(input.at) % (data.len() + 1)
    };
    let mut hay = data[..at].to_vec();
    hay.push(b'\n');
    let start = hay.len();
    hay.extend_from_slice(enc.as_bytes());
    let end = hay.len();
    hay.push(b'\n');
    hay.extend_from_slice(&data[at..]);
    runs.clear();
    decode::find_runs(&hay, &mut runs);
    check_runs(&hay, &runs);
    let body = enc.trim_end_matches('=');
    // What the finder promises to find: long enough, both letter cases, not hex (with or
    // without `0x`), `+/` no denser than one in 16 (denser is what identifiers look like), and
    // a payload whose first 12 bytes are text (a cut last character allowed) or the magic of a
    // compressed stream or archive.
    let syms = body.bytes().filter(|b| matches!(b, b'+' | b'/')).count();
    let head = &payload[..payload.len().min(12)];
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    } && !head
        .iter()
        .any(|&c| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f);
    let findable = body.len() >= MIN_RUN
        && (text || decode::MAGIC.iter().any(|m| payload.starts_with(m)))
        && body.bytes().any(|b| b.is_ascii_uppercase())
        && body.bytes().any(|b| b.is_ascii_lowercase())
        && !body.bytes().all(|b| b.is_ascii_hexdigit())
        && !(body.starts_with("0x") || body.starts_with("0X"))
        && syms * 16 <= body.len();
    if findable {
        // At its span, or joined into a wrapped block: the lines before it (whole groups of
        // four characters) and after.
        let r = runs
            .iter()
            .find(|r| r.start <= start && start < r.end)
            .unwrap_or_else(|| panic!("spliced run not found: {runs:?}"));
        let mut out = Vec::new();
        assert!(decode::decode(&hay, r, &mut out));
        if (r.start, r.end) == (start, end) {
            assert_eq!(r.encoding, Encoding::Base64);
            assert_eq!(out, payload);
        } else {
            assert!(r.start < start || r.end > end, "{r:?}");
            assert!(hay[r.start..r.end].contains(&b'\n'), "joined: {r:?}");
            let before = hay[r.start..start]
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .count();
            assert_eq!(before % 4, 0, "{r:?}");
            let k = before / 4 * 3;
            assert_eq!(out.get(k..k + payload.len()), Some(payload), "{r:?}");
        }
    }

    // The content layer: findings lie inside the input, at a run or at their secret.
    let scanner = scanner();
    let cfg = ScanConfig {
        threads: 1,
        findings: leakhound::finding::FindingOptions {
            no_redact: true,
            policy: None,
        },
        binary: true,
        ..ScanConfig::default()
    };
    let counters = Counters::default();
    let mut scratch = scanner.scratch();
    let mut out = Output::default();
    Layers {
        scanner,
        cfg: &cfg,
        counters: &counters,
    }
    .scan(&mut scratch, "f", &hay, &mut out);
    let lines = Lines::new(&hay);
    // A decoded finding is at its run's start, or in a wrapped block at a line of it.
    let at_run = |off: usize| {
        runs.iter().any(|r| {
            off == r.start
                || (r.start < off
                    && off < r.end
                    && hay[r.start..off].contains(&b'\n')
                    && matches!(hay[off - 1], b' ' | b'\t' | b'\n'))
        })
    };
    for f in &out.findings {
        let off = f.offset as usize;
        assert!(off < hay.len(), "{f:?}");
        assert_eq!((f.line, f.column), lines.line_col(off), "{f:?}");
        assert!((f.end_line, f.end_column) >= (f.line, f.column), "{f:?}");
        match &f.decoded {
            Some(chain) => {
                assert!(at_run(off), "decoded finding not at a run: {f:?}");
                assert!(!chain.is_empty());
            }
            // Secrets are shown lossily (invalid UTF-8 becomes U+FFFD).
            None => assert!(
                String::from_utf8_lossy(&hay[off..]).starts_with(&f.secret),
                "{f:?}"
            ),
        }
    }
});
