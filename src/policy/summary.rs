//! The summary every output format carries, as audit evidence that the control ran: findings by
//! severity and rule, suppressions by reason, exceptions (and those expiring within 30 days),
//! the gate's verdict and the scan's scope. It is serialized into json (`summary`), jsonl (the
//! last line), SARIF (`runs[0].properties.summary`) and printed under human output; `leakhound
//! report` reads it back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Counts, Date, Policy, EXPIRING_DAYS};
use crate::rules::{RuleSet, Severity};

/// What was scanned, with what.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Scope {
    /// `files` or `git`.
    pub source: String,
    /// Paths given (files mode) or the repository (git mode).
    pub paths: Vec<String>,
    /// Git refs scanned (empty: every ref).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// Git commit range (`A..B`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Git: commits after this date or revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// leakhound's version, the number of rules and a hash of their definitions.
    pub rules_version: String,
    /// Policy files read.
    pub policy_files: Vec<String>,
    /// The baseline applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The date expiry was judged on.
    pub date: String,
}

impl Scope {
    /// `leakhound VERSION, N rules, sha256:PREFIX` where the hash covers every rule's id, regex,
    /// severity and confidence: two scans with the same string ran the same rules.
    pub fn rules_version(rules: &RuleSet) -> String {
        let mut h = Sha256::new();
        for r in rules.rules() {
            for part in [
                r.id.as_str(),
                r.pattern.as_str(),
                r.severity.as_str(),
                r.confidence.as_str(),
            ] {
                h.update(part.as_bytes());
                h.update([0]);
            }
        }
        format!(
            "leakhound {}, {} rules, sha256:{}",
            env!("CARGO_PKG_VERSION"),
            rules.len(),
            crate::finding::hex(&h.finalize()[..8])
        )
    }
}

/// One allowlist entry and what it did in this scan.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Exception {
    /// `file:line`.
    pub entry: String,
    /// Why.
    pub reason: String,
    /// Who answers for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its last day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Days until it expires (negative: expired that long ago).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// `permanent`, `active`, `expiring` (within 30 days) or `expired`.
    pub status: String,
    /// Findings it suppressed.
    pub suppressed: u64,
    /// Findings it matched after expiring (reported again).
    pub expired_matches: u64,
}

/// The gate's verdict.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Gate {
    /// The lowest severity that fails.
    pub fail_on: String,
    /// Reported findings at or above it.
    pub blocking: u64,
    /// Whether the scan fails the gate.
    pub failed: bool,
}

/// The summary of one scan after the policy.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Summary {
    /// Findings reported.
    pub findings: u64,
    /// Reported findings by severity.
    pub by_severity: BTreeMap<String, u64>,
    /// Reported findings by rule.
    pub by_rule: BTreeMap<String, u64>,
    /// Findings suppressed (allowlist entries and inline comments).
    pub suppressed: u64,
    /// Of those, by inline comment.
    pub suppressed_inline: u64,
    /// Suppressed findings by reason.
    pub suppressed_by_reason: BTreeMap<String, u64>,
    /// Findings left out because the baseline has them.
    pub baselined: u64,
    /// The gate.
    pub gate: Gate,
    /// Every allowlist entry, soonest expiry first.
    pub exceptions: Vec<Exception>,
    /// The entries of `exceptions` that expire within 30 days (not yet expired).
    pub expiring_soon: Vec<Exception>,
    /// What was scanned.
    pub scope: Scope,
}

impl Summary {
    pub(crate) fn build(
        policy: &Policy,
        counts: &Counts,
        today: Date,
        fail_on: Severity,
        mut scope: Scope,
    ) -> Summary {
        scope.date = today.to_string();
        let mut exceptions: Vec<Exception> = policy
            .entries()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let days_left = e.expires.map(|d| d.days_since(today));
                let status = match days_left {
                    None => "permanent",
                    Some(d) if d < 0 => "expired",
                    Some(d) if d <= EXPIRING_DAYS => "expiring",
                    Some(_) => "active",
                };
                Exception {
                    entry: e.label(),
                    reason: e.reason.clone(),
                    owner: e.owner.clone(),
                    expires: e.expires.map(|d| d.to_string()),
                    days_left,
                    status: status.to_string(),
                    suppressed: counts.entry_suppressed.get(i).copied().unwrap_or(0),
                    expired_matches: counts.entry_expired.get(i).copied().unwrap_or(0),
                }
            })
            .collect();
        exceptions.sort_by_key(|e| e.days_left.unwrap_or(i64::MAX));
        let expiring_soon = exceptions
            .iter()
            .filter(|e| e.status == "expiring")
            .cloned()
            .collect();
        Summary {
            findings: counts.by_severity.values().sum(),
            by_severity: counts
                .by_severity
                .iter()
                .map(|(s, n)| (s.as_str().to_string(), *n))
                .collect(),
            by_rule: counts.by_rule.clone(),
            suppressed: counts.suppressed,
            suppressed_inline: counts.inline,
            suppressed_by_reason: counts.suppressed_by_reason.clone(),
            baselined: counts.baselined,
            gate: Gate {
                fail_on: fail_on.as_str().to_string(),
                blocking: counts.blocking,
                failed: counts.blocking > 0,
            },
            exceptions,
            expiring_soon,
            scope,
        }
    }

    /// Reported findings by severity, most severe first.
    pub fn severities(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .by_severity
            .iter()
            .map(|(s, n)| (s.as_str(), *n))
            .collect();
        v.sort_by_key(|(s, _)| std::cmp::Reverse(Severity::parse(s)));
        v
    }

    /// The summary as lines of text for people (human output's footer, `leakhound report`).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let join = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        out.push(format!(
            "findings: {} ({}); gate: fail on {} and above: {}",
            self.findings,
            join(
                self.severities()
                    .iter()
                    .map(|(s, n)| format!("{s} {n}"))
                    .collect()
            ),
            self.gate.fail_on,
            if self.gate.failed {
                format!("FAILED ({} blocking)", self.gate.blocking)
            } else {
                "passed".to_string()
            }
        ));
        if !self.by_rule.is_empty() {
            out.push(format!(
                "by rule: {}",
                join(
                    self.by_rule
                        .iter()
                        .map(|(r, n)| format!("{r} {n}"))
                        .collect()
                )
            ));
        }
        if self.suppressed > 0 {
            out.push(format!(
                "suppressed: {} ({})",
                self.suppressed,
                join(
                    self.suppressed_by_reason
                        .iter()
                        .map(|(r, n)| format!("{r:?} {n}"))
                        .collect()
                )
            ));
        }
        if self.baselined > 0 {
            out.push(format!("in baseline (not reported): {}", self.baselined));
        }
        for e in &self.exceptions {
            match e.status.as_str() {
                "expired" => out.push(format!(
                    "exception {} expired on {}{}",
                    e.entry,
                    e.expires.as_deref().unwrap_or("?"),
                    if e.expired_matches > 0 {
                        format!(
                            "; {} finding(s) it matched are reported again",
                            e.expired_matches
                        )
                    } else {
                        String::new()
                    }
                )),
                "expiring" => out.push(format!(
                    "exception {} expires on {} (in {} day(s)): {}",
                    e.entry,
                    e.expires.as_deref().unwrap_or("?"),
                    e.days_left.unwrap_or(0),
                    e.reason
                )),
                _ => {}
            }
        }
        let s = &self.scope;
        let mut scope = format!("scope: {} {}", s.source, s.paths.join(" "));
        if !s.refs.is_empty() {
            scope.push_str(&format!("; refs {}", s.refs.join(" ")));
        }
        if let Some(r) = &s.range {
            scope.push_str(&format!("; range {r}"));
        }
        if let Some(r) = &s.since {
            scope.push_str(&format!("; since {r}"));
        }
        if !s.policy_files.is_empty() {
            scope.push_str(&format!("; policy {}", s.policy_files.join(" ")));
        }
        if let Some(b) = &s.baseline {
            scope.push_str(&format!("; baseline {b}"));
        }
        scope.push_str(&format!("; {}; date {}", s.rules_version, s.date));
        out.push(scope);
        out
    }
}
