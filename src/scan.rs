//! The scan's plumbing shared by every source: the options of a scan ([`ScanConfig`]), the
//! events workers send to the single reporter ([`Event`]), and the statistics they count
//! ([`Counters`], summarised as [`Stats`]).
//!
//! Threads: a source enumerates its inputs and scans them on N workers (each with its own
//! [`crate::engine::Scratch`]); every worker sends [`Event`]s on one bounded crossbeam channel to
//! the reporter, which alone writes output. Counters are atomics touched once per file, never per
//! byte.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::finding::{Finding, FindingOptions};

/// Default largest file scanned, in bytes (larger ones are skipped and counted).
pub const DEFAULT_MAX_FILESIZE: u64 = 100 * 1024 * 1024;

/// Files at least this large are memory-mapped; smaller ones are read into a reused buffer.
/// Measured on the development machine (see README, "Performance").
pub const DEFAULT_MMAP_THRESHOLD: u64 = 1024 * 1024;

/// A text at least this large is cut into one part per thread (see [`ScanConfig::parallel_threshold`]).
pub const DEFAULT_PARALLEL_THRESHOLD: u64 = 16 * 1024 * 1024;

/// How many leading bytes are searched for a NUL to call a file binary.
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// Options of one scan.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Worker threads.
    pub threads: usize,
    /// Whether `threads` was asked for (`-j`). Without it, a stream from a pipe or FIFO is
    /// scanned on one thread fewer: its producer runs beside the scan and needs a core too.
    pub threads_asked: bool,
    /// Skip files larger than this.
    pub max_filesize: u64,
    /// Memory-map files at least this large.
    pub mmap_threshold: u64,
    /// Scan a file (or an input read whole from stdin) at least this large on all `threads`,
    /// one part each, rather than on the one worker that opened it. Below it, the thread starts
    /// would cost more than they save, and a directory scan's other workers are busy anyway.
    pub parallel_threshold: u64,
    /// Scan files that look binary (NUL in the first 8 KiB).
    pub binary: bool,
    /// Follow symbolic links.
    pub follow_links: bool,
    /// Skip what `.gitignore` files (and git's exclude files) ignore.
    pub respect_gitignore: bool,
    /// How findings are shaped (redaction).
    pub findings: FindingOptions,
    /// How many times decoded content is searched for encoded runs again; 0: no decoding.
    pub decode_depth: u32,
    /// Limits on unpacking archives and compressed files (depth 0: none are unpacked).
    pub archive: crate::archive::Limits,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads_asked: false,
            max_filesize: DEFAULT_MAX_FILESIZE,
            mmap_threshold: DEFAULT_MMAP_THRESHOLD,
            parallel_threshold: DEFAULT_PARALLEL_THRESHOLD,
            binary: false,
            follow_links: false,
            respect_gitignore: false,
            findings: FindingOptions {
                no_redact: false,
                policy: None,
            },
            decode_depth: crate::decode::DEFAULT_MAX_DEPTH,
            archive: crate::archive::Limits::default(),
        }
    }
}

/// What workers tell the reporter.
#[derive(Debug)]
pub enum Event {
    /// Findings of one file or of one piece of a stream.
    Findings(Vec<Finding>),
    /// A problem with one input; the scan goes on. The message names the input.
    Warning(String),
    /// Git history: for each reported blob id, the other commits and paths that hold it.
    Occurrences(std::collections::HashMap<String, Vec<crate::source::git::Occurrence>>),
}

/// Why an input was not scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// It looks binary.
    Binary,
    /// It is larger than the size limit.
    TooLarge,
    /// A Git LFS pointer (the content lives outside the repository).
    LfsPointer,
    /// An archive (or a member) over an unpacking limit: too deep, too large, or too high a
    /// compression ratio.
    ArchiveLimit,
}

/// Counters shared by the workers of one scan.
#[derive(Debug, Default)]
pub struct Counters {
    /// Files (or streams) scanned.
    pub files: AtomicU64,
    /// Bytes scanned.
    pub bytes: AtomicU64,
    /// Inputs skipped as binary.
    pub skipped_binary: AtomicU64,
    /// Inputs skipped as too large.
    pub skipped_too_large: AtomicU64,
    /// Git LFS pointer files skipped.
    pub skipped_lfs: AtomicU64,
    /// Archives (or members) stopped by an unpacking limit.
    pub skipped_archive_limit: AtomicU64,
    /// Inputs that could not be read.
    pub errors: AtomicU64,
}

impl Counters {
    /// Count one scanned input of `bytes` bytes.
    pub fn scanned(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Count one skipped input.
    pub fn skipped(&self, why: SkipReason) {
        let c = match why {
            SkipReason::Binary => &self.skipped_binary,
            SkipReason::TooLarge => &self.skipped_too_large,
            SkipReason::LfsPointer => &self.skipped_lfs,
            SkipReason::ArchiveLimit => &self.skipped_archive_limit,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one input that failed.
    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot, with the scan's duration and the findings the reporter counted.
    pub fn stats(&self, elapsed: Duration, findings: u64) -> Stats {
        let bytes = self.bytes.load(Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        Stats {
            files_scanned: self.files.load(Ordering::Relaxed),
            bytes_scanned: bytes,
            skipped: Skipped {
                binary: self.skipped_binary.load(Ordering::Relaxed),
                too_large: self.skipped_too_large.load(Ordering::Relaxed),
                lfs_pointer: self.skipped_lfs.load(Ordering::Relaxed),
                archive_limit: self.skipped_archive_limit.load(Ordering::Relaxed),
            },
            errors: self.errors.load(Ordering::Relaxed),
            findings,
            duration_ms: elapsed.as_millis() as u64,
            throughput_mb_s: if secs > 0.0 {
                ((bytes as f64 / 1e6 / secs) * 10.0).round() / 10.0
            } else {
                0.0
            },
        }
    }
}

/// Skipped inputs by reason.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Skipped {
    /// Looked binary.
    pub binary: u64,
    /// Over the size limit.
    pub too_large: u64,
    /// Git LFS pointers (history scans).
    pub lfs_pointer: u64,
    /// Archives or members stopped by an unpacking limit (each got a warning).
    pub archive_limit: u64,
}

/// The summary of a scan, in every output format.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Files (or streams) scanned.
    pub files_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Inputs not scanned, by reason.
    pub skipped: Skipped,
    /// Inputs that could not be read (each got a warning).
    pub errors: u64,
    /// Findings reported.
    pub findings: u64,
    /// Wall-clock duration.
    pub duration_ms: u64,
    /// Bytes scanned per second of wall-clock time, in MB/s.
    pub throughput_mb_s: f64,
}

/// Parse a size: bytes, or a number with a `K`, `M` or `G` suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("'{s}' is not a size (examples: 4096, 512K, 100M, 2G)"))
}
