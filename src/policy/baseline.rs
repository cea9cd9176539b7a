//! Baselines: the fingerprints of findings a team has accepted for now (an old repository's
//! legacy), so that only new findings are reported. A baseline file is JSON and holds no secret,
//! only fingerprints (hashes) and, for reviewers, the rule, path and severity of each.
//!
//! ```json
//! { "leakhound_baseline": 1, "findings": [
//!   { "fingerprint": "…32 hex…", "rule_id": "aws-access-key-id", "path": "old/config.py", "severity": "high" } ] }
//! ```
//!
//! Flow position: part of `policy`, applied by [`super::Enforcer`] after the allowlist.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::PolicyError;
use crate::finding::Finding;

/// The format version written and read.
const VERSION: u64 = 1;

/// One accepted finding.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaselineEntry {
    /// The finding's fingerprint, the only field matched.
    pub fingerprint: String,
    /// For reviewers: the rule.
    #[serde(default)]
    pub rule_id: String,
    /// For reviewers: the path.
    #[serde(default)]
    pub path: String,
    /// For reviewers: the severity.
    #[serde(default)]
    pub severity: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    leakhound_baseline: u64,
    findings: Vec<BaselineEntry>,
}

/// A loaded baseline: a set of fingerprints.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    file: String,
    fingerprints: Arc<HashSet<String>>,
}

impl Baseline {
    /// Read a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, PolicyError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| PolicyError::Io {
            file: file.clone(),
            err,
        })?;
        Baseline::from_json(&file, &text)
    }

    /// Parse baseline JSON; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Baseline, PolicyError> {
        let parsed: File = serde_json::from_str(text).map_err(|e| PolicyError::Parse {
            file: file.to_string(),
            line: Some(e.line()),
            msg: format!("not a leakhound baseline: {e}"),
        })?;
        if parsed.leakhound_baseline != VERSION {
            return Err(PolicyError::Parse {
                file: file.to_string(),
                line: None,
                msg: format!(
                    "baseline format {} is not supported (this leakhound reads {VERSION})",
                    parsed.leakhound_baseline
                ),
            });
        }
        Ok(Baseline {
            file: file.to_string(),
            fingerprints: Arc::new(
                parsed
                    .findings
                    .into_iter()
                    .map(|e| e.fingerprint.to_ascii_lowercase())
                    .collect(),
            ),
        })
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The number of fingerprints.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// True if it holds no fingerprint.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Whether the baseline accepts this fingerprint.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }
}

/// Collects findings into a baseline file, one entry per fingerprint, sorted by path.
#[derive(Debug, Default)]
pub struct BaselineWriter {
    entries: BTreeMap<String, BaselineEntry>,
}

impl BaselineWriter {
    /// An empty baseline.
    pub fn new() -> BaselineWriter {
        BaselineWriter::default()
    }

    /// Add findings.
    pub fn add(&mut self, found: &[Finding]) {
        for f in found {
            self.entries
                .entry(f.fingerprint.clone())
                .or_insert_with(|| BaselineEntry {
                    fingerprint: f.fingerprint.clone(),
                    rule_id: f.rule_id.clone(),
                    path: f.path.clone(),
                    severity: f.severity.as_str().to_string(),
                });
        }
    }

    /// The number of distinct fingerprints.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The baseline as pretty JSON, entries sorted by path, rule and fingerprint.
    pub fn to_json(&self) -> String {
        let mut findings: Vec<BaselineEntry> = self.entries.values().cloned().collect();
        findings.sort_by(|a, b| {
            (&a.path, &a.rule_id, &a.fingerprint).cmp(&(&b.path, &b.rule_id, &b.fingerprint))
        });
        let doc = File {
            leakhound_baseline: VERSION,
            findings,
        };
        let mut s = serde_json::to_string_pretty(&doc).expect("a baseline always serializes");
        s.push('\n');
        s
    }

    /// Write the baseline to `path`.
    pub fn write(&self, path: &Path) -> Result<(), PolicyError> {
        std::fs::write(path, self.to_json()).map_err(|err| PolicyError::Io {
            file: path.display().to_string(),
            err,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_other_documents_naming_the_file() {
        for (text, want) in [
            ("{}", "b.json:1: not a leakhound baseline"),
            ("[1]", "b.json:1: not a leakhound baseline"),
            (
                "{\"leakhound_baseline\": 9, \"findings\": []}",
                "b.json: baseline format 9",
            ),
            (
                "{\"leakhound_baseline\": 1,\n \"findings\": [], \"x\": 1}",
                "b.json:2: not a leakhound baseline",
            ),
        ] {
            let e = Baseline::from_json("b.json", text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text}: {e}");
        }
    }
}
