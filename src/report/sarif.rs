//! SARIF 2.1.0 output, shaped for GitHub code scanning: the rules that produced results under
//! `tool.driver.rules` (with `security-severity`), results with relative URIs, character-based
//! regions (`columnKind: unicodeCodePoints`) and `partialFingerprints`. Findings the policy
//! suppressed are always included, with `suppressions` (`external` for an allowlist entry,
//! `inSource` for an inline comment, `status: accepted`, the reason as `justification`), so that
//! dashboards show them as dismissed rather than open; with a baseline, reported results carry
//! `baselineState: new`. The policy summary is `runs[0].properties.summary`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use serde_json::{json, Value};

use super::{attach_occurrences, sort_findings, Reporter};
use crate::finding::Finding;
use crate::policy::Summary;
use crate::rules::{RuleSet, Severity};
use crate::scan::Stats;
use crate::source::git::Occurrence;

/// Collects findings and writes one SARIF log at the end.
pub struct Sarif {
    out: Box<dyn Write + Send>,
    rules: Arc<RuleSet>,
    all: Vec<Finding>,
    summary: Option<Summary>,
}

impl Sarif {
    /// A reporter writing to `out`; `rules` supplies the rule metadata.
    pub fn new(out: Box<dyn Write + Send>, rules: Arc<RuleSet>) -> Sarif {
        Sarif {
            out,
            rules,
            all: Vec::new(),
            summary: None,
        }
    }
}

impl Reporter for Sarif {
    fn findings(&mut self, found: &[Finding]) -> io::Result<()> {
        self.all.extend_from_slice(found);
        Ok(())
    }

    fn occurrences(
        &mut self,
        map: &std::collections::HashMap<String, Vec<Occurrence>>,
    ) -> io::Result<()> {
        attach_occurrences(&mut self.all, map);
        Ok(())
    }

    fn suppressed(&mut self, found: &[Finding]) -> io::Result<()> {
        self.all.extend_from_slice(found);
        Ok(())
    }

    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }

    fn finish(&mut self, stats: &Stats) -> io::Result<()> {
        sort_findings(&mut self.all);
        let mut doc = sarif_document(&self.rules, &self.all, stats);
        if let Some(summary) = &self.summary {
            doc["runs"][0]["properties"]["summary"] = json!(summary);
            if summary.scope.baseline.is_some() {
                if let Some(results) = doc["runs"][0]["results"].as_array_mut() {
                    for r in results
                        .iter_mut()
                        .filter(|r| r.get("suppressions").is_none())
                    {
                        r["baselineState"] = json!("new");
                    }
                }
            }
        }
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A relative URI reference for a reported path: `/`-separated, with characters outside the
/// unreserved set and `/` percent-encoded.
pub fn path_uri(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// The SARIF log for `findings` (already sorted).
pub fn sarif_document(rules: &RuleSet, findings: &[Finding], stats: &Stats) -> Value {
    // Only the rules that produced results, in rule-set order, each with its index.
    let mut used: BTreeMap<usize, usize> = BTreeMap::new();
    let by_id: BTreeMap<&str, usize> = rules
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    for f in findings {
        if let Some(&i) = by_id.get(f.rule_id.as_str()) {
            used.insert(i, 0);
        }
    }
    for (n, v) in used.values_mut().enumerate() {
        *v = n;
    }
    let sarif_rules: Vec<Value> = used
        .keys()
        .map(|&i| {
            let r = rules.get(i);
            let desc = if r.description.is_empty() {
                r.name.clone()
            } else {
                r.description.clone()
            };
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.name },
                "fullDescription": { "text": desc },
                "help": {
                    "text": format!("{desc}\nRevoke and rotate the credential, then remove it from the file (and from git history if it was committed)."),
                },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": ["security", "secret"],
                    "security-severity": security_severity(r.severity),
                    "precision": match r.confidence {
                        crate::rules::Confidence::High => "very-high",
                        crate::rules::Confidence::Medium => "high",
                        crate::rules::Confidence::Low => "medium",
                    },
                },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let idx = by_id
                .get(f.rule_id.as_str())
                .and_then(|i| used.get(i))
                .copied();
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": level(f.severity),
                "message": {
                    "text": format!("{} found: {}", f.rule_name, f.secret),
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": path_uri(&f.path), "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column.saturating_add(1),
                        },
                    },
                }],
                "partialFingerprints": {
                    "primaryLocationLineHash": format!(
                        "{}:1",
                        f.fingerprint.get(..16).unwrap_or(&f.fingerprint)
                    ),
                    "leakhound/v1": f.fingerprint,
                },
                "properties": {
                    "severity": f.severity.as_str(),
                    "confidence": f.confidence.as_str(),
                    "entropy": f.entropy,
                },
            });
            if let Some(i) = idx {
                result["ruleIndex"] = json!(i);
            }
            if let Some(s) = &f.policy.suppression {
                let mut sup = json!({
                    "kind": if s.kind == "inline" { "inSource" } else { "external" },
                    "status": "accepted",
                    "justification": s.reason,
                });
                if s.entry.is_some() {
                    // The entry, owner and expiry, each only when there is one.
                    sup["properties"] = json!(s);
                }
                result["suppressions"] = json!([sup]);
            }
            if !f.policy.expired_exceptions.is_empty() {
                result["properties"]["expiredExceptions"] = json!(f.policy.expired_exceptions);
            }
            if let Some(chain) = &f.decoded {
                result["properties"]["decoded"] = json!(chain);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "leakhound",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": sarif_rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": { "stats": stats },
        }],
    })
}
