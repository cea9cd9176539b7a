//! JSON output: one document `{ "findings": [...], "stats": {...} }` with findings sorted; and
//! JSON Lines: one finding object per line, written as soon as it is found.

use std::io::{self, Write};

use serde::Serialize;

use std::collections::HashMap;

use super::{attach_occurrences, sort_findings, Reporter};
use crate::finding::Finding;
use crate::policy::Summary;
use crate::scan::Stats;
use crate::source::git::Occurrence;

/// Collects findings and writes one JSON document at the end.
pub struct Json {
    out: Box<dyn Write + Send>,
    all: Vec<Finding>,
    suppressed: Vec<Finding>,
    summary: Option<Summary>,
}

impl Json {
    /// A reporter writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Json {
        Json {
            out,
            all: Vec::new(),
            suppressed: Vec::new(),
            summary: None,
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "<[Finding]>::is_empty")]
    suppressed: &'a [Finding],
    stats: &'a Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a Summary>,
}

impl Reporter for Json {
    fn findings(&mut self, found: &[Finding]) -> io::Result<()> {
        self.all.extend_from_slice(found);
        Ok(())
    }

    fn occurrences(&mut self, map: &HashMap<String, Vec<Occurrence>>) -> io::Result<()> {
        attach_occurrences(&mut self.all, map);
        attach_occurrences(&mut self.suppressed, map);
        Ok(())
    }

    fn suppressed(&mut self, found: &[Finding]) -> io::Result<()> {
        self.suppressed.extend_from_slice(found);
        Ok(())
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }

    fn finish(&mut self, stats: &Stats) -> io::Result<()> {
        sort_findings(&mut self.all);
        sort_findings(&mut self.suppressed);
        let doc = Document {
            findings: &self.all,
            suppressed: &self.suppressed,
            stats,
            summary: self.summary.as_ref(),
        };
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// Streams one JSON object per finding per line, then one last line
/// `{"summary": {...}, "stats": {...}}` (no finding has a `summary` key).
pub struct Jsonl {
    out: Box<dyn Write + Send>,
    summary: Option<Summary>,
}

impl Jsonl {
    /// A reporter writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Jsonl {
        Jsonl { out, summary: None }
    }
}

impl Reporter for Jsonl {
    fn findings(&mut self, found: &[Finding]) -> io::Result<()> {
        for f in found {
            serde_json::to_writer(&mut self.out, f)?;
            writeln!(self.out)?;
        }
        self.out.flush()
    }

    fn occurrences(&mut self, map: &HashMap<String, Vec<Occurrence>>) -> io::Result<()> {
        let mut blobs: Vec<_> = map.iter().collect();
        blobs.sort_by(|a, b| a.0.cmp(b.0));
        for (blob, occurrences) in blobs {
            let line = serde_json::json!({ "blob": blob, "occurrences": occurrences });
            serde_json::to_writer(&mut self.out, &line)?;
            writeln!(self.out)?;
        }
        self.out.flush()
    }

    fn suppressed(&mut self, found: &[Finding]) -> io::Result<()> {
        self.findings(found)
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }

    fn finish(&mut self, stats: &Stats) -> io::Result<()> {
        if let Some(summary) = &self.summary {
            #[derive(Serialize)]
            struct Last<'a> {
                summary: &'a Summary,
                stats: &'a Stats,
            }
            serde_json::to_writer(&mut self.out, &Last { summary, stats })?;
            writeln!(self.out)?;
        }
        self.out.flush()
    }
}
