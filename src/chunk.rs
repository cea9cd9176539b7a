//! Chunk: scanning a stream that cannot be read whole (stdin, pipes, FIFOs) in bounded memory.
//!
//! [`StreamScanner`] keeps a buffer of the stream's recent bytes. Each time data arrives it scans
//! the new bytes together with enough earlier context, and reports a match as soon as it is
//! *final*: no later byte can change it. A match is final when the stream has ended, when it
//! starts more than the longest rule window (`W`) before the end of the data seen so far, or,
//! for a rule whose regex cannot cross a line break, as soon as the line that holds its end is
//! complete (so `tail -f app.log | leakhound scan -` reports each line as it arrives).
//!
//! Exactly-once: matches are owned by their start offset. Everything starting before the
//! `decided` mark has been settled; a pass re-finds matches from `decided - (2W + 2)` on (all
//! keyword hits and windows that can produce a match starting at `decided` lie there) and skips
//! those already reported. Memory is bounded by that context plus one pass of input.
//!
//! Decoding ([`StreamScanner::decoding`]): once a line is complete, the encoded runs of the
//! lines completed since the last pass go through [`crate::content::Layers::decode_window`],
//! which reports what they hold at the run, as in a file. A run holds no line break but in a
//! wrapped block, whose lines wait until a line ends it ([`crate::decode::wrapped_tail`]), so
//! each run is decoded once; the buffer keeps the incomplete last line, or the lines of a block
//! not ended yet (up to 4 MiB), for it.
//!
//! Flow position: `source (stdin) -> chunk -> engine -> finding`.

use std::collections::HashSet;
use std::sync::Arc;

use crate::content::{Layers, Output};
use crate::engine::{Scanner, Scratch};
use crate::finding::{Finding, FindingBuilder, FindingOptions, LineIndex};
use crate::scan::{Counters, ScanConfig};
use crate::verify::Match;

/// Longest stretch of a stream without a line break whose encoded runs wait for the break. Past
/// it, the runs seen so far are given up but the last 64 KiB's, so of a longer line only the
/// runs near its end (its last 64 KiB to 4 MiB) are decoded, and memory stays bounded.
const MAX_UNDECODED_LINE: u64 = 4 * 1024 * 1024;

/// Scans a stream pushed to it piece by piece.
#[derive(Debug)]
pub struct StreamScanner {
    scanner: Arc<Scanner>,
    /// One scratch per thread a large pass is split across (at least one).
    scratches: Vec<Scratch>,
    /// This pass's matches.
    found: Vec<Match>,
    path: String,
    opts: FindingOptions,
    /// The stream's recent bytes are `buf[head..end]` (a buffer handed over whole by
    /// [`StreamScanner::feed_buffer`] is longer than its data).
    buf: Vec<u8>,
    head: usize,
    end: usize,
    /// Stream offset of `buf[head]`.
    base: u64,
    /// Line of `buf[head]`, and characters before it on that line.
    base_line: (u64, u64),
    /// Matches that start before this stream offset are settled.
    decided: u64,
    /// (rule, start, end) of reported matches that start at or after `decided`.
    reported: HashSet<(u32, u64, u64)>,
    /// Reusable list of this pass's final matches.
    ready: Vec<Match>,
    /// Bytes pushed so far.
    total: u64,
    /// Per rule: the stream offsets where its last settled accepted match started and ended
    /// ((0, 0): none, or unknown after a pass cut across threads). The next pass starts the
    /// rule's matches at that match when its context holds it, so that the match is found
    /// again and resolves overlaps with other rules' later matches as in a scan of the whole
    /// stream; otherwise at its end. Either way a chain of overlapping candidates longer than the
    /// context (`key: "k3ykey: ...` repeated) is cut the same way as in a scan of the whole
    /// stream.
    last_settled: Vec<(u64, u64)>,
    /// Decoding of encoded runs, when on (see [`StreamScanner::decoding`]).
    decoding: Option<Decoding>,
}

/// A stream's decoding state: its encoded runs are found and decoded a line at a time.
#[derive(Debug)]
struct Decoding {
    /// The scan's options, with this stream's finding options.
    cfg: ScanConfig,
    counters: Counters,
    /// Stream offset up to which runs were handed to the decoder (always a line start).
    from: u64,
    /// Stream offset up to which the lines from `from` are known to be a wrapped block waiting
    /// for its end (see [`crate::decode::wrapped_tail`]), so that each pass looks at new lines
    /// only.
    held: u64,
    /// Warnings from decoding (archive limits inside decoded runs), for the caller.
    warnings: Vec<String>,
}

impl StreamScanner {
    /// A scanner for one stream, reported under `path`.
    pub fn new(scanner: Arc<Scanner>, path: &str, opts: FindingOptions) -> StreamScanner {
        StreamScanner {
            scratches: vec![scanner.scratch()],
            found: Vec::new(),
            scanner,
            path: path.to_string(),
            opts,
            buf: Vec::new(),
            head: 0,
            end: 0,
            base: 0,
            base_line: (1, 0),
            decided: 0,
            reported: HashSet::new(),
            ready: Vec::new(),
            total: 0,
            last_settled: Vec::new(),
            decoding: None,
        }
    }

    /// Decode the stream's encoded runs as `cfg` says (`decode_depth`, archive limits), each
    /// once its line is complete, and report what they hold at the run, as in a file.
    pub fn decoding(&mut self, cfg: &ScanConfig) -> &mut Self {
        self.decoding = (cfg.decode_depth > 0).then(|| Decoding {
            cfg: ScanConfig {
                findings: self.opts.clone(),
                ..cfg.clone()
            },
            counters: Counters::default(),
            from: self.total,
            held: self.total,
            warnings: Vec::new(),
        });
        self
    }

    /// Warnings from decoding since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.decoding
            .as_mut()
            .map(|d| std::mem::take(&mut d.warnings))
            .unwrap_or_default()
    }

    /// Split large passes across `threads` threads (default 1).
    pub fn threads(&mut self, threads: usize) -> &mut Self {
        while self.scratches.len() < threads {
            self.scratches.push(self.scanner.scratch());
        }
        self.scratches.truncate(threads.max(1));
        self
    }

    /// Bytes pushed so far.
    pub fn bytes(&self) -> u64 {
        self.total
    }

    /// Bytes held in memory now.
    pub fn buffered(&self) -> usize {
        self.end - self.head
    }

    /// Add `data` and append the findings that became final to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Finding>) {
        self.feed(data);
        self.flush(out);
    }

    /// Add `data` without scanning yet (see [`StreamScanner::flush`]).
    pub fn feed(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        self.append(data);
    }

    /// [`StreamScanner::feed`] the bytes `buf[from..end]` without copying them: the bytes this
    /// scanner keeps are copied into `buf` before `from` (when they fit there) and `buf` becomes
    /// its buffer. Returns a buffer the caller may fill again (`buf` itself when the kept bytes
    /// did not fit and the new ones were copied).
    ///
    /// # Panics
    /// Unless `from <= end <= buf.len()`.
    pub fn feed_buffer(&mut self, mut buf: Vec<u8>, from: usize, end: usize) -> Vec<u8> {
        self.total += (end - from) as u64;
        let kept = self.end - self.head;
        if kept > from {
            self.append(&buf[from..end]);
            return buf;
        }
        buf[from - kept..from].copy_from_slice(&self.buf[self.head..self.end]);
        self.head = from - kept;
        self.end = end;
        std::mem::replace(&mut self.buf, buf)
    }

    /// Copy `data` after the kept bytes, which first move to the front of the buffer.
    fn append(&mut self, data: &[u8]) {
        self.buf.truncate(self.end);
        self.buf.drain(..self.head);
        self.buf.extend_from_slice(data);
        self.head = 0;
        self.end = self.buf.len();
    }

    /// Scan what was fed and append the findings that became final to `out`.
    pub fn flush(&mut self, out: &mut Vec<Finding>) {
        self.pass(false, out);
    }

    /// End of stream: append every remaining finding to `out`.
    pub fn finish(&mut self, out: &mut Vec<Finding>) {
        self.pass(true, out);
    }

    fn pass(&mut self, eof: bool, out: &mut Vec<Finding>) {
        let w = self.scanner.max_window() as u64;
        let ctx = 2 * w + 2;
        let end = self.base + (self.end - self.head) as u64;
        let from = self.base.max(self.decided.saturating_sub(ctx));
        let off = (from - self.base) as usize;
        let slice = &self.buf[self.head + off..self.end];
        let rules = self.scanner.rules();
        self.ready.clear();
        self.found.clear();
        let decided = if eof {
            end
        } else {
            self.decided.max(end.saturating_sub(w + 1))
        };
        let whole = !self.scanner.splits(slice.len(), self.scratches.len());
        if whole {
            let floors = (0..rules.rules().len()).map(|r| {
                let (s, e) = self.last_settled.get(r).copied().unwrap_or((0, 0));
                let floor = if s >= from { s } else { e };
                floor.saturating_sub(from).min(slice.len() as u64) as usize
            });
            self.scratches[0].set_floors(floors);
        } else {
            self.scratches[0].set_floors([]);
        }
        self.scanner
            .scan_parallel(slice, &mut self.scratches, &mut self.found);
        self.last_settled.resize(rules.rules().len(), (0, 0));
        if whole {
            for m in self.scratches[0].accepted() {
                let (start, e) = (from + m.start as u64, from + m.end as u64);
                let last = &mut self.last_settled[m.rule as usize];
                if start < decided && e > last.1 {
                    *last = (start, e);
                }
            }
        } else {
            self.last_settled.iter_mut().for_each(|l| *l = (0, 0));
        }
        for m in &self.found {
            let start = from + m.start as u64;
            let key = (m.rule, start, from + m.end as u64);
            if start < self.decided || self.reported.contains(&key) {
                continue;
            }
            let single_line = !rules.get(m.rule as usize).multiline;
            let is_final = eof
                || start + w < end
                || (single_line && memchr::memchr(b'\n', &slice[m.end..]).is_some());
            if !is_final {
                continue;
            }
            self.reported.insert(key);
            let mut shifted = *m;
            shifted.start += off;
            shifted.end += off;
            shifted.secret_start += off;
            shifted.secret_end += off;
            self.ready.push(shifted);
        }
        let first = out.len();
        if !self.ready.is_empty() {
            let mut lines = LineIndex::new(self.base_line.0, self.base_line.1);
            FindingBuilder {
                rules,
                opts: self.opts.clone(),
            }
            .build(
                &self.path,
                &self.buf[self.head..self.end],
                self.base,
                &mut lines,
                &self.ready,
                out,
            );
        }
        self.decode_lines(eof, first, out);
        self.decided = decided;
        self.reported.retain(|r| r.1 >= decided);
        // Drop what no later pass needs (lines whose runs wait for their end are kept).
        let mut keep_from = self.base.max(self.decided.saturating_sub(ctx));
        if let Some(d) = &self.decoding {
            keep_from = keep_from.min(d.from);
        }
        let drop = (keep_from - self.base) as usize;
        if drop > 0 {
            let mut lines = LineIndex::new(self.base_line.0, self.base_line.1);
            self.base_line = lines.at_end(&self.buf[self.head..self.head + drop]);
            self.head += drop;
            self.base = keep_from;
        }
    }

    /// Decode the encoded runs of the lines completed since the last pass (all of them at the
    /// end of the stream) and append what they hold to `out`; `out[first..]` are this pass's
    /// clear findings.
    fn decode_lines(&mut self, eof: bool, first: usize, out: &mut Vec<Finding>) {
        let Some(d) = &mut self.decoding else {
            return;
        };
        let live = &self.buf[self.head..self.end];
        let end = self.base + live.len() as u64;
        let at = (d.from - self.base) as usize;
        let upto = if eof {
            end
        } else {
            match memchr::memrchr(b'\n', &live[at..]) {
                // A wrapped block that may go on waits for its end, as a long line does.
                Some(i) => {
                    let lines = &live[at..at + i + 1];
                    let known = d.held.saturating_sub(d.from) as usize;
                    let tail = crate::decode::wrapped_tail(lines, known);
                    d.held = d.from + lines.len() as u64;
                    if (end - d.from) - tail as u64 <= MAX_UNDECODED_LINE {
                        d.from + tail as u64
                    } else {
                        d.from + i as u64 + 1
                    }
                }
                // A line this long: give up its runs so far but the last 64 KiB's.
                None if end - d.from > MAX_UNDECODED_LINE => {
                    d.from = end - 64 * 1024;
                    return;
                }
                None => return,
            }
        };
        let text = &live[at..(upto - self.base) as usize];
        let line_at = LineIndex::new(self.base_line.0, self.base_line.1).at_end(&live[..at]);
        let clear: Vec<(u64, String)> = out[first..]
            .iter()
            .map(|f| (f.offset, f.fingerprint.clone()))
            .collect();
        let threads = self.scratches.len();
        let mut decoded = Output::default();
        // Decoded texts are whole inputs: no floor of this stream's chains applies to them.
        self.scratches[0].set_floors([]);
        Layers {
            scanner: &self.scanner,
            cfg: &d.cfg,
            counters: &d.counters,
        }
        .decode_window(
            &mut self.scratches[0],
            threads,
            &self.path,
            text,
            d.from,
            line_at,
            &clear,
            &mut decoded,
        );
        out.extend(decoded.findings);
        d.warnings.extend(decoded.warnings);
        d.from = upto;
    }
}
