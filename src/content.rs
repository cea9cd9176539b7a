//! Content: one whole input (a file, a git blob, a buffered stdin archive) through every layer
//! below its surface. [`Layers::scan`] unpacks archives and compressed streams (members become
//! inputs named `outer!inner/path`), skips binary data, scans text with the engine, and then
//! decodes the text's encoded runs ([`crate::decode`]) and scans what they decode to, recursively
//! up to `--max-decode-depth`.
//!
//! Locations: a finding in a member is at its line and column in the member; a finding in
//! decoded content is at the encoded run (the outermost one, in the file or member it lies in),
//! and its `decoded` field names the layers in between (`base64`, `base64>gzip`, `gzip>hex`).
//!
//! One secret, one finding: a decoded finding is dropped where the same secret (same
//! fingerprint) was found in clear inside the run; where a clear finding's secret *is* the
//! encoded run (a rule that matches the encoded value), the better-ranked of the two is kept
//! (confidence, then severity; the clear one on a tie).
//!
//! Flow position: `source -> content (archive, decode) -> engine -> finding`.

use crate::archive::{self, ArchiveError, Budget, Kind, LimitHit};
use crate::decode::{self, Encoding, Run};
use crate::engine::{Scanner, Scratch};
use crate::finding::{Finding, FindingBuilder, LineIndex};
use crate::scan::{Counters, ScanConfig, SkipReason, BINARY_SNIFF_LEN};

/// What scanning one input produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Findings, in the input's order (members in archive order).
    pub findings: Vec<Finding>,
    /// Messages about parts that were skipped or unreadable; each names the input or member.
    pub warnings: Vec<String>,
}

/// Scans whole inputs through archives and encodings, counting what it does in `counters`.
#[derive(Clone, Copy, Debug)]
pub struct Layers<'a> {
    /// The compiled rules.
    pub scanner: &'a Scanner,
    /// The scan's options (binary, decoding depth, archive limits, redaction).
    pub cfg: &'a ScanConfig,
    /// Where files, bytes, skips and errors are counted.
    pub counters: &'a Counters,
}

/// Where a decoded finding is reported: the outermost encoded run of a text.
#[derive(Clone, Copy, Debug)]
struct Origin {
    start: usize,
    end: usize,
}

/// The mutable state of one input's walk through its layers.
struct Walk<'w> {
    /// The worker's scratch first; more for a large input cut across threads.
    scratches: &'w mut [Scratch],
    out: &'w mut Output,
}

/// A decoded finding waiting to be placed at its run.
struct Pending {
    finding: Finding,
    origin: Origin,
}

impl Layers<'_> {
    /// Scan `data`, reported under `path`: archives are unpacked, binary data is skipped (unless
    /// `--binary`), text is scanned and decoded.
    pub fn scan(&self, scratch: &mut Scratch, path: &str, data: &[u8], out: &mut Output) {
        self.scan_split(std::slice::from_mut(scratch), path, data, out);
    }

    /// [`Layers::scan`] with a scratch per thread: an input that is text of at least
    /// [`ScanConfig::parallel_threshold`] bytes is searched in one part per scratch, on as many
    /// threads ([`Scanner::scan_parallel`]); everything else uses the first scratch.
    pub fn scan_split(&self, scratches: &mut [Scratch], path: &str, data: &[u8], out: &mut Output) {
        assert!(!scratches.is_empty(), "scan_split needs a scratch");
        let mut budget = Budget::new(self.cfg.archive);
        let mut w = Walk { scratches, out };
        self.input(&mut w, &mut budget, path, "", data, 0);
    }

    /// Decode the encoded runs of `text`, a window of a stream (`text[0]` is at stream offset
    /// `base`, on line `at.0` after `at.1` characters of it), scan what they hold as in a file
    /// (nested encodings, archives inside decoded runs), and append the findings to `out`,
    /// placed at their runs. `clear` holds the stream offset and fingerprint of each secret found
    /// in clear in this window: a decoded finding of a secret found in clear inside its run is
    /// dropped. A run holds no line break but in a wrapped block, so a stream can hand over each
    /// run of complete lines once, holding back a block not ended yet
    /// ([`decode::wrapped_tail`]). A window of 1 MiB or more is searched for runs on `threads`
    /// threads.
    #[allow(clippy::too_many_arguments)]
    pub fn decode_window(
        &self,
        scratch: &mut Scratch,
        threads: usize,
        path: &str,
        text: &[u8],
        base: u64,
        at: (u64, u64),
        clear: &[(u64, String)],
        out: &mut Output,
    ) {
        if self.cfg.decode_depth == 0 {
            return;
        }
        let mut runs = Vec::new();
        if text.len() >= 1024 * 1024 {
            decode::find_runs_split(text, threads, &mut runs);
        } else {
            decode::find_runs(text, &mut runs);
        }
        if runs.is_empty() {
            return;
        }
        let mut budget = Budget::new(self.cfg.archive);
        let mut w = Walk {
            scratches: std::slice::from_mut(scratch),
            out,
        };
        let (mut pending, mut buf) = (Vec::new(), Vec::new());
        for run in &runs {
            let depth = self.cfg.decode_depth;
            self.run(
                &mut w,
                &mut budget,
                path,
                "",
                text,
                run,
                None,
                depth,
                0,
                &mut buf,
                &mut pending,
            );
        }
        pending.sort_by_key(|p| p.origin.start);
        let mut lines = LineIndex::new(at.0, at.1);
        let first = out.findings.len();
        for Pending {
            mut finding,
            origin,
        } in pending
        {
            let (s, e) = (base + origin.start as u64, base + origin.end as u64);
            let in_clear =
                |(o, fp): &(u64, String)| *fp == finding.fingerprint && (s..e).contains(o);
            let placed = |f: &Finding| f.offset == s && f.fingerprint == finding.fingerprint;
            if clear.iter().any(in_clear) || out.findings[first..].iter().any(placed) {
                continue;
            }
            at_run(&mut finding, &mut lines, text, origin, base);
            out.findings.push(finding);
        }
    }

    /// One input at archive nesting `depth`, with `chain` the layers decoded since `path`.
    #[allow(clippy::too_many_arguments)]
    fn input(
        &self,
        w: &mut Walk<'_>,
        budget: &mut Budget,
        path: &str,
        chain: &str,
        data: &[u8],
        depth: u32,
    ) {
        if self.cfg.archive.max_depth > 0 {
            if let Some(kind) = archive::sniff(data) {
                self.unpack(w, budget, path, chain, kind, data, depth);
                return;
            }
        }
        let sniff = &data[..data.len().min(BINARY_SNIFF_LEN)];
        if !self.cfg.binary && memchr::memchr(0, sniff).is_some() {
            self.counters.skipped(SkipReason::Binary);
            return;
        }
        self.counters.scanned(data.len() as u64);
        self.text(w, budget, path, chain, data, depth);
    }

    #[allow(clippy::too_many_arguments)]
    fn unpack(
        &self,
        w: &mut Walk<'_>,
        budget: &mut Budget,
        path: &str,
        chain: &str,
        kind: Kind,
        data: &[u8],
        depth: u32,
    ) {
        if depth >= self.cfg.archive.max_depth {
            self.limit(path, LimitHit::Depth(self.cfg.archive.max_depth), w.out);
            return;
        }
        let result = archive::unpack(kind, data, budget, &mut |m, budget| {
            match m.name {
                None => {
                    let chain = join(chain, kind.name());
                    self.input(w, budget, path, &chain, &m.data, depth + 1);
                }
                Some(name) => {
                    let inner = format!("{path}!{name}");
                    self.input(w, budget, &inner, "", &m.data, depth + 1);
                }
            }
            true
        });
        match result {
            Ok(()) => {}
            Err(ArchiveError::Limit(hit)) => self.limit(path, hit, w.out),
            Err(e) => {
                self.counters.error();
                w.out.warnings.push(format!("{path}: {e}"));
            }
        }
    }

    fn limit(&self, path: &str, hit: LimitHit, out: &mut Output) {
        self.counters.skipped(SkipReason::ArchiveLimit);
        out.warnings.push(format!("{path}: skipped: {hit}"));
    }

    /// Scan one text, then its encoded runs.
    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        w: &mut Walk<'_>,
        budget: &mut Budget,
        path: &str,
        chain: &str,
        data: &[u8],
        depth: u32,
    ) {
        let first = w.out.findings.len();
        let mut clear_spans = Vec::new();
        // The whole input (not a member or a decoded text), large: cut across threads.
        let split = depth == 0
            && chain.is_empty()
            && w.scratches.len() > 1
            && data.len() as u64 >= self.cfg.parallel_threshold;
        {
            let mut parts = Vec::new();
            let matches = if split {
                self.scanner.scan_parallel(data, w.scratches, &mut parts);
                &parts[..]
            } else {
                self.scanner.scan(data, &mut w.scratches[0])
            };
            if !matches.is_empty() {
                let builder = FindingBuilder {
                    rules: self.scanner.rules(),
                    opts: self.cfg.findings.clone(),
                };
                clear_spans.extend(matches.iter().map(|m| (m.secret_start, m.secret_end)));
                builder.build(
                    path,
                    data,
                    0,
                    &mut LineIndex::new(1, 0),
                    matches,
                    &mut w.out.findings,
                );
            }
        }
        if !chain.is_empty() {
            for f in &mut w.out.findings[first..] {
                f.decoded = Some(chain.to_string());
            }
        }
        if self.cfg.decode_depth == 0 {
            return;
        }
        let mut runs = Vec::new();
        if split {
            decode::find_runs_split(data, w.scratches.len(), &mut runs);
        } else {
            decode::find_runs(data, &mut runs);
        }
        if runs.is_empty() {
            return;
        }
        let mut pending = Vec::new();
        let mut buf = Vec::new();
        for run in &runs {
            self.run(
                w,
                budget,
                path,
                chain,
                data,
                run,
                None,
                self.cfg.decode_depth,
                depth,
                &mut buf,
                &mut pending,
            );
        }
        if pending.is_empty() {
            return;
        }
        self.place(data, first, &clear_spans, pending, w.out);
    }

    /// Decode one run of `hay` and scan what it decodes to; findings go to `pending`, placed at
    /// `origin`, or with `None` at the run itself (`hay` is the file or member it is reported
    /// in): in a wrapped block, at the lines that hold each finding's secret. `left` is the
    /// decoding depth still allowed (at least 1).
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        w: &mut Walk<'_>,
        budget: &mut Budget,
        path: &str,
        chain: &str,
        hay: &[u8],
        run: &Run,
        origin: Option<Origin>,
        left: u32,
        depth: u32,
        buf: &mut Vec<u8>,
        pending: &mut Vec<Pending>,
    ) {
        let own = origin.is_none();
        let origin = origin.unwrap_or(Origin {
            start: run.start,
            end: run.end,
        });
        // `find_runs` only returns plausible runs.
        let b64 = matches!(run.encoding, Encoding::Base64 | Encoding::Base64Url);
        if b64 && decode::data_uri_is_text(hay, run) == Some(false) {
            return;
        }
        if !decode::decode(hay, run, buf) {
            return;
        }
        let chain = join(chain, run.encoding.name());
        let decoded = std::mem::take(buf);
        if let Some(kind) = archive::sniff(&decoded).filter(|_| self.cfg.archive.max_depth > 0) {
            self.decoded_archive(
                w, budget, path, &chain, kind, &decoded, origin, left, depth, pending,
            );
        } else if decode::is_text(&decoded) {
            // Give a keyed value its key, so rules that need a name before the value see one.
            let (text, prefix) =
                match decode::key_of(hay, run).filter(|_| run.encoding != Encoding::Percent) {
                    Some(key) => {
                        let mut t = Vec::with_capacity(key.len() + decoded.len() + 4);
                        t.extend_from_slice(key);
                        t.extend_from_slice(b": \"");
                        t.extend_from_slice(&decoded);
                        t.push(b'"');
                        (t, key.len() + 3)
                    }
                    None => (decoded.clone(), 0),
                };
            // A wrapped block in its own file: each finding at the lines that hold it.
            let wrapped = own && memchr::memchr(b'\n', &hay[run.start..run.end]).is_some();
            let at = |s: usize, e: usize| {
                if !wrapped {
                    return origin;
                }
                let (s, e) = (s.saturating_sub(prefix), e.saturating_sub(prefix));
                let (start, end) = decode::lines_holding(hay, run, s, e.max(s + 1));
                Origin { start, end }
            };
            self.decoded_text(w, budget, path, &chain, &text, &at, left, depth, pending);
        }
        *buf = decoded;
    }

    /// Scan decoded text and, depth allowing, its own encoded runs; `at` places a finding or a
    /// nested run by its span in `text`.
    #[allow(clippy::too_many_arguments)]
    fn decoded_text(
        &self,
        w: &mut Walk<'_>,
        budget: &mut Budget,
        path: &str,
        chain: &str,
        text: &[u8],
        at: &dyn Fn(usize, usize) -> Origin,
        left: u32,
        depth: u32,
        pending: &mut Vec<Pending>,
    ) {
        let matches = self.scanner.scan(text, &mut w.scratches[0]);
        if !matches.is_empty() {
            let mut found = Vec::new();
            FindingBuilder {
                rules: self.scanner.rules(),
                opts: self.cfg.findings.clone(),
            }
            .build(
                path,
                text,
                0,
                &mut LineIndex::new(1, 0),
                matches,
                &mut found,
            );
            // One finding per match, in order.
            for (mut finding, m) in found.into_iter().zip(matches) {
                finding.decoded = Some(chain.to_string());
                let origin = at(m.secret_start, m.secret_end);
                pending.push(Pending { finding, origin });
            }
        }
        if left <= 1 {
            return;
        }
        let mut runs = Vec::new();
        decode::find_runs(text, &mut runs);
        let mut buf = Vec::new();
        for run in &runs {
            self.run(
                w,
                budget,
                path,
                chain,
                text,
                run,
                Some(at(run.start, run.end)),
                left - 1,
                depth,
                &mut buf,
                pending,
            );
        }
    }

    /// A decoded run that is an archive or compressed stream: unpack it under the same limits.
    #[allow(clippy::too_many_arguments)]
    fn decoded_archive(
        &self,
        w: &mut Walk<'_>,
        budget: &mut Budget,
        path: &str,
        chain: &str,
        kind: Kind,
        data: &[u8],
        origin: Origin,
        left: u32,
        depth: u32,
        pending: &mut Vec<Pending>,
    ) {
        let here = format!("{path} (decoded {chain})");
        if depth >= self.cfg.archive.max_depth {
            self.limit(&here, LimitHit::Depth(self.cfg.archive.max_depth), w.out);
            return;
        }
        let result = archive::unpack(kind, data, budget, &mut |m, budget| {
            let chain = match &m.name {
                None => join(chain, kind.name()),
                Some(name) => join(chain, &format!("{}!{name}", kind.name())),
            };
            if let Some(inner) = archive::sniff(&m.data) {
                self.decoded_archive(
                    w,
                    budget,
                    path,
                    &chain,
                    inner,
                    &m.data,
                    origin,
                    left,
                    depth + 1,
                    pending,
                );
            } else if decode::is_text(&m.data) {
                self.decoded_text(
                    w,
                    budget,
                    path,
                    &chain,
                    &m.data,
                    &|_, _| origin,
                    left,
                    depth + 1,
                    pending,
                );
            }
            true
        });
        match result {
            Ok(()) => {}
            Err(ArchiveError::Limit(hit)) => self.limit(&here, hit, w.out),
            // Base64 that happens to start with a magic number and is not an archive is just
            // not an archive: nothing to report.
            Err(ArchiveError::Corrupt { .. }) => {}
        }
    }

    /// Place decoded findings at their runs in `data` and resolve them against the clear
    /// findings `out.findings[first..]` (whose secret spans are `clear`).
    fn place(
        &self,
        data: &[u8],
        first: usize,
        clear: &[(usize, usize)],
        mut pending: Vec<Pending>,
        out: &mut Output,
    ) {
        pending.sort_by_key(|p| p.origin.start);
        let mut lines = LineIndex::new(1, 0);
        let mut dropped_clear = vec![false; clear.len()];
        let mut placed: Vec<Finding> = Vec::new();
        'next: for Pending {
            mut finding,
            origin,
        } in pending
        {
            let rank = (finding.confidence, finding.severity);
            for (i, &(s, e)) in clear.iter().enumerate() {
                let c = &out.findings[first + i];
                if c.fingerprint == finding.fingerprint && s < origin.end && origin.start < e {
                    continue 'next;
                }
                let same_run = s == origin.start && e <= origin.end && e + 2 >= origin.end;
                if same_run && !dropped_clear[i] {
                    if (c.confidence, c.severity) >= rank {
                        continue 'next;
                    }
                    dropped_clear[i] = true;
                }
            }
            if placed
                .iter()
                .any(|p| p.offset == origin.start as u64 && p.fingerprint == finding.fingerprint)
            {
                continue;
            }
            at_run(&mut finding, &mut lines, data, origin, 0);
            placed.push(finding);
        }
        if dropped_clear.iter().any(|&d| d) {
            let mut i = 0;
            let mut k = first;
            out.findings.retain(|_| {
                let keep = k < first || !dropped_clear[i];
                if k >= first {
                    i += 1;
                }
                k += 1;
                keep
            });
        }
        // Findings stay in offset order: clear and decoded ones interleaved.
        out.findings.extend(placed);
        out.findings[first..].sort_by_key(|f| f.offset);
    }
}

/// Place `finding` at the run `origin` of `text`, which starts at offset `base` of its file or
/// stream; `lines` walks `text` forward, so runs are placed in order.
fn at_run(finding: &mut Finding, lines: &mut LineIndex, text: &[u8], origin: Origin, base: u64) {
    let (line, column) = lines.advance(text, origin.start);
    let (end_line, end_column) = lines.clone().advance(text, origin.end - 1);
    finding.line = line;
    finding.column = column;
    finding.end_line = end_line;
    finding.end_column = end_column;
    finding.offset = base + origin.start as u64;
}

/// `chain` with `layer` appended.
fn join(chain: &str, layer: &str) -> String {
    if chain.is_empty() {
        layer.to_string()
    } else {
        format!("{chain}>{layer}")
    }
}
