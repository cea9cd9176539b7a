//! leakhound: a high-throughput streaming secrets and pattern scanner.
//!
//! Data flows in one line, and the modules mirror it:
//!
//! ```text
//! source ──> content ──> chunk ──> prefilter ──> verify ──> finding ──> policy ──> report ──> exit code
//! (files,    (unpack    (whole    (one Aho-     (regex on   (location,  (allowlist,  (human, json,  (gate)
//!  stdin,     archives, file or   Corasick      a window    redaction,  inline       jsonl, sarif;
//!  git        decode    stream    automaton     per hit,    fingerprint) allow,       summary)
//!  blobs)     runs)     pieces)   over all      entropy,                 baseline)
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
//! - [`policy`]: [`policy::Policy`] (the `.leakhound.toml` allowlist), [`policy::Enforcer`]
//!   (allowlist, inline comments, baseline and severity gate applied to batches of findings) and
//!   [`policy::Summary`], the audit summary every format carries.
//! - [`report`]: the output formats, and `leakhound report`'s table and HTML page.
//! - [`scan`]: options, events and counters shared by the sources and the reporter.
//! - [`hook`]: git hooks (`pre-receive`, `pre-push`, `pre-commit`): the objects a push or a
//!   commit adds, scanned within a time budget, and the verdict.
//!
//! Threads: an enumerator feeds N workers, each owning its scratch; all send events on one
//! bounded crossbeam channel to a single reporter. Nothing on the hot path takes a lock.

pub mod archive;
pub mod chunk;
pub mod content;
pub mod decode;
pub mod engine;
pub mod finding;
pub mod hook;
pub mod policy;
pub mod prefilter;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod verify;

pub use engine::{Scanner, Scratch};
pub use finding::Finding;
pub use rules::{RuleSet, RuleSetBuilder};
