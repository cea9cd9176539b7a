//! leakhound: a high-throughput streaming secrets and pattern scanner.
//!
//! Data flows in one line, and the modules mirror it:
//!
//! ```text
//! source ──> content ──> chunk ──> prefilter ──> verify ──> finding ──> report ──> exit code
//! (files,    (unpack    (whole    (one Aho-     (regex on   (location,  (human, json,
//!  stdin,     archives, file or   Corasick      a window    redaction,  jsonl, sarif)
//!  git        decode    stream    automaton     per hit,    fingerprint)
//!  blobs)     runs)     pieces)   over all      entropy,
//!                                 keywords)     checksums)
//! ```
//!
//! - [`source`]: [`source::fs::scan_paths`] walks directories in parallel (the `ignore` crate),
//!   memory-maps large files and reads small ones into a reused buffer;
//!   [`source::stream::scan_stream`] reads stdin and other non-seekable inputs in pieces.
//! - [`content`]: [`content::Layers`] takes one whole input through [`archive`] (gzip, bzip2, xz,
//!   zstd, zip, tar under limits) and [`decode`] (base64, hex and percent-encoded runs, scanned
//!   again recursively), so secrets one layer below the surface are found.
//! - [`chunk`]: [`chunk::StreamScanner`] scans a stream in bounded memory, exactly once per match.
//! - [`prefilter`]: [`prefilter::Prefilter`], the keyword automaton.
//! - [`verify`]: regex confirmation in windows around keyword hits, entropy and validators.
//! - [`engine`]: [`engine::Scanner`] (shared, compiled) and [`engine::Scratch`] (per worker) tie
//!   the prefilter and verification together for one buffer.
//! - [`rules`]: the rule format, the built-in rule files and [`rules::RuleSet`].
//! - [`finding`]: [`finding::Finding`], what a user sees, redacted by default.
//! - [`report`]: the output formats.
//! - [`scan`]: options, events and counters shared by the sources and the reporter.
//!
//! Threads: an enumerator feeds N workers, each owning its scratch; all send events on one
//! bounded crossbeam channel to a single reporter. Nothing on the hot path takes a lock.

pub mod archive;
pub mod chunk;
pub mod content;
pub mod decode;
pub mod engine;
pub mod finding;
pub mod prefilter;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod verify;

pub use engine::{Scanner, Scratch};
pub use finding::Finding;
pub use rules::{RuleSet, RuleSetBuilder};
