//! Report: the single writer of results. Workers' findings arrive here in completion order; each
//! [`Reporter`] decides whether it streams them (human, jsonl) or collects and sorts them for one
//! document at the end (json, sarif: sorted by path, line, column, rule id, so that two runs can
//! be diffed whatever the thread count).
//!
//! Flow position: `policy -> report -> exit code`.

pub mod audit;
mod human;
mod json;
mod sarif;

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use crate::finding::Finding;
use crate::policy::Summary;
use crate::rules::RuleSet;
use crate::scan::Stats;
use crate::source::git::Occurrence;

pub use human::Human;
pub use json::{Json, Jsonl};
pub use sarif::{sarif_document, Sarif};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `path:line:column` lines for people.
    Human,
    /// One JSON document with findings and stats.
    Json,
    /// One JSON finding per line, streamed.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
}

impl Format {
    /// Parse a format name.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "human" | "text" => Format::Human,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::Jsonl,
            "sarif" => Format::Sarif,
            _ => return None,
        })
    }
}

/// A sink for findings and the final summary.
pub trait Reporter {
    /// Findings of one input.
    fn findings(&mut self, found: &[Finding]) -> io::Result<()>;
    /// Git history with `--all-occurrences`: the other commits and paths of each reported blob,
    /// known once the walk is done. Sorted formats attach them to their findings; streaming ones
    /// write them as they come.
    fn occurrences(&mut self, map: &HashMap<String, Vec<Occurrence>>) -> io::Result<()>;
    /// Findings the policy suppressed, each with its `policy.suppression`. The caller sends them
    /// when they are to be shown (`--show-suppressed`, and always to SARIF, which marks them
    /// as dismissed).
    fn suppressed(&mut self, found: &[Finding]) -> io::Result<()>;
    /// The policy summary, sent once just before [`Reporter::finish`].
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
    /// The end of the scan.
    fn finish(&mut self, stats: &Stats) -> io::Result<()>;
}

/// The reporter for `format`, writing to `out`.
pub fn reporter(
    format: Format,
    out: Box<dyn Write + Send>,
    color: bool,
    rules: Arc<RuleSet>,
) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(Human::new(out, color)),
        Format::Json => Box::new(Json::new(out)),
        Format::Jsonl => Box::new(Jsonl::new(out)),
        Format::Sarif => Box::new(Sarif::new(out, rules)),
    }
}

/// Attach each blob's other occurrences to the findings in that blob.
pub fn attach_occurrences(all: &mut [Finding], map: &HashMap<String, Vec<Occurrence>>) {
    for f in all {
        if let Some(o) = f.blob.as_ref().and_then(|b| map.get(b)) {
            f.occurrences = o.clone();
        }
    }
}

/// Sort findings the way every sorted format presents them.
pub fn sort_findings(f: &mut [Finding]) {
    f.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
}
