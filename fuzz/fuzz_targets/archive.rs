//! Fuzz the archive reader and the content layer on archives.
//!
//! Invariants beyond "no panic": unpacking never produces more bytes in all than the byte limit,
//! a stream's content is never more than its ratio allows (or the ratio floor), the budget is
//! charged at least what was produced; a full `Layers::scan` names members under the input
//! (`in!member...`), nests no deeper than the depth limit, and every finding lies inside the
//! member it names.
//!
//! Input: limits (small, so that they are reached), how to wrap the data (as it is, or as a
//! gzip stream, a zip or a tar of up to four members), then the data (at most 64 KiB). Wrapping
//! lets small inputs reach members, nesting and the limits; raw data exercises the parsers on
//! hostile headers.

#![no_main]

use std::io::Write;
use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use leakhound::archive::{self, Budget, Limits, RATIO_FLOOR};
use leakhound::content::{Layers, Output};
use leakhound::scan::{Counters, ScanConfig};
use leakhound::Scanner;
use leakhound_fuzz::scanner_once;
use libfuzzer_sys::fuzz_target;

const RULES: &str = r#"
[[rules]]
id = "fz-akia"
keywords = ["akia"]
regex = '''\b(AKIA[A-Z2-7]{16})\b'''
"#;

const MAX_DATA: usize = 64 * 1024;

fn scanner() -> &'static Arc<Scanner> {
    static S: OnceLock<Arc<Scanner>> = OnceLock::new();
    scanner_once(&S, "fuzz-archive.toml", RULES)
}

#[derive(Arbitrary, Debug)]
enum Wrap {
    Raw,
    Gzip,
    /// Members cut from the data at these points, then zipped (or tarred); the last member of
    /// a zip may itself be gzipped.
    Zip(Vec<u16>, bool),
    Tar(Vec<u16>, bool),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    max_depth: u8,
    max_bytes: u32,
    max_ratio: u16,
    wrap: Wrap,
    data: &'a [u8],
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn members<'a>(data: &'a [u8], cuts: &[u16], gz_last: bool) -> Vec<(String, Vec<u8>)> {
    let mut points: Vec<usize> = cuts
        .iter()
        .take(3)
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    let mut out: Vec<(String, Vec<u8>)> = points
        .windows(2)
        .enumerate()
        .map(|(i, w)| (format!("d{i}/m{i}.txt"), data[w[0]..w[1]].to_vec()))
        .collect();
    if gz_last {
        if let Some(last) = out.last_mut() {
            last.1 = gzip(&last.1);
        }
    }
    out
}

fn wrap(w: &Wrap, data: &[u8]) -> Vec<u8> {
    match w {
        Wrap::Raw => data.to_vec(),
        Wrap::Gzip => gzip(data),
        Wrap::Zip(cuts, gz) => {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, m) in members(data, cuts, *gz) {
                z.start_file(name, opts).unwrap();
                z.write_all(&m).unwrap();
            }
            z.finish().unwrap().into_inner()
        }
        Wrap::Tar(cuts, gz) => {
            let mut b = tar::Builder::new(Vec::new());
            for (name, m) in members(data, cuts, *gz) {
                let mut h = tar::Header::new_gnu();
                h.set_size(m.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, name, &m[..]).unwrap();
            }
            b.into_inner().unwrap()
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    let data = &input.data[..input.data.len().min(MAX_DATA)];
    let limits = Limits {
        max_depth: u32::from(input.max_depth % 6),
        max_bytes: u64::from(input.max_bytes % (4 << 20)),
        max_ratio: u64::from(input.max_ratio).max(1),
    };
    let bytes = wrap(&input.wrap, data);

    // One layer: the caps hold and the budget accounts for what came out.
    if let Some(kind) = archive::sniff(&bytes) {
        let mut budget = Budget::new(limits);
        let mut produced = 0u64;
        let _ = archive::unpack(kind, &bytes, &mut budget, &mut |m, _| {
            produced += m.data.len() as u64;
            if m.name.is_none() {
                let cap = (bytes.len() as u64)
                    .saturating_mul(limits.max_ratio)
                    .max(RATIO_FLOOR);
                assert!(m.data.len() as u64 <= cap, "ratio cap exceeded");
            }
            true
        });
        // What was charged covers what was visited (a member cut off by a limit is charged
        // but not visited) and never exceeds the cap.
        let charged = limits.max_bytes - budget.left();
        assert!(
            produced <= charged,
            "visited {produced} > charged {charged}"
        );
        assert!(
            charged <= limits.max_bytes,
            "{charged} > {}",
            limits.max_bytes
        );
    }

    // The whole content layer.
    let scanner = scanner();
    let cfg = ScanConfig {
        threads: 1,
        archive: limits,
        findings: leakhound::finding::FindingOptions {
            no_redact: true,
            policy: None,
        },
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
    .scan(&mut scratch, "in", &bytes, &mut out);
    for f in &out.findings {
        assert!(f.path == "in" || f.path.starts_with("in!"), "{f:?}");
        // Nesting, where every member name is one this target made (`dN/mN.txt`, no `!`).
        let parts: Vec<&str> = f.path.split('!').collect();
        if parts[1..]
            .iter()
            .all(|p| p.starts_with('d') && p.ends_with(".txt"))
        {
            assert!(parts.len() as u32 - 1 <= limits.max_depth, "{f:?}");
        }
        assert!(f.line >= 1 && f.column >= 1);
    }
    for w in &out.warnings {
        assert!(w.starts_with("in"), "{w}");
    }
});
