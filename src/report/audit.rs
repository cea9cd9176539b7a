//! `leakhound report RESULT.json`: a saved json result turned into evidence for people. A text
//! table (the summary, the findings, the exceptions), the summary alone as JSON for machines, or
//! one self-contained HTML page (inline CSS, no script, no external resource; every string
//! escaped) with the findings table, counts per severity and rule, and exceptions by age.
//!
//! Flow position: after `report`, reading what a json reporter wrote.

use std::fmt::{self, Write as _};

use serde_json::Value;

use crate::policy::summary::Exception;
use crate::policy::Summary;
use crate::rules::Severity;

/// A result file that cannot be read as a leakhound json result.
#[derive(Debug)]
pub struct AuditError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.msg)
    }
}

impl std::error::Error for AuditError {}

/// A parsed json result (`leakhound scan -f json`).
#[derive(Debug, Clone)]
pub struct ResultDoc {
    /// The policy summary (derived from the findings for results written without one).
    pub summary: Summary,
    /// The scan statistics, as written.
    pub stats: Value,
    /// Reported findings, as written.
    pub findings: Vec<Value>,
    /// Suppressed findings, present when the scan ran with `--show-suppressed`.
    pub suppressed: Vec<Value>,
}

impl ResultDoc {
    /// Parse the json result `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<ResultDoc, AuditError> {
        let err = |msg: String| AuditError {
            file: file.to_string(),
            msg,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| {
            err(format!(
                "not a leakhound json result (write one with `scan -f json -o FILE`): {e}"
            ))
        })?;
        let findings = match v.get("findings") {
            Some(Value::Array(a)) => a.clone(),
            _ => {
                return Err(err(
                    "not a leakhound json result: no \"findings\" array (write one with `scan -f json -o FILE`)"
                        .into(),
                ))
            }
        };
        let suppressed = match v.get("suppressed") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let summary = match v.get("summary") {
            Some(s) => serde_json::from_value(s.clone())
                .map_err(|e| err(format!("\"summary\" is not a leakhound summary: {e}")))?,
            None => derived_summary(&findings),
        };
        Ok(ResultDoc {
            summary,
            stats: v.get("stats").cloned().unwrap_or(Value::Null),
            findings,
            suppressed,
        })
    }
}

/// Counts from the findings alone, for results written before summaries existed.
fn derived_summary(findings: &[Value]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        *s.by_severity.entry(text(f, "severity")).or_insert(0) += 1;
        *s.by_rule.entry(text(f, "rule_id")).or_insert(0) += 1;
        s.findings += 1;
    }
    s
}

/// A string field of a finding, or `""`.
fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// `path:line` of a finding.
fn location(f: &Value) -> String {
    format!("{}:{}", text(f, "path"), text(f, "line"))
}

/// The summary alone, for machines.
pub fn summary_json(doc: &ResultDoc) -> Value {
    serde_json::json!({ "summary": doc.summary, "stats": doc.stats })
}

/// `s` with control characters replaced, so a hostile path cannot drive a terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The text report: summary lines, then the findings and exceptions as aligned tables.
pub fn table(doc: &ResultDoc) -> String {
    let mut out = String::new();
    for line in doc.summary.lines() {
        let _ = writeln!(out, "{}", clean(&line));
    }
    let rows: Vec<[String; 4]> = doc
        .findings
        .iter()
        .chain(&doc.suppressed)
        .map(|f| {
            [
                text(f, "severity"),
                text(f, "rule_id"),
                location(f),
                status(f),
            ]
            .map(|c| clean(&c))
        })
        .collect();
    write_table(
        &mut out,
        "findings",
        ["SEVERITY", "RULE", "LOCATION", "STATUS"],
        &rows,
    );
    let rows: Vec<[String; 4]> = doc
        .summary
        .exceptions
        .iter()
        .map(|e| {
            [
                e.entry.clone(),
                exception_age(e),
                e.suppressed.to_string(),
                e.reason.clone(),
            ]
            .map(|c| clean(&c))
        })
        .collect();
    write_table(
        &mut out,
        "exceptions",
        ["ENTRY", "EXPIRES", "SUPPRESSED", "REASON"],
        &rows,
    );
    out
}

fn write_table(out: &mut String, title: &str, head: [&str; 4], rows: &[[String; 4]]) {
    let _ = writeln!(out, "\n{title}: {}", rows.len());
    if rows.is_empty() {
        return;
    }
    let mut w = head.map(|h| h.chars().count());
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 3 {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<width$}  ", width = w[i]);
            }
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(head));
    for r in rows {
        let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3]]));
    }
}

/// `reported`, or how the finding was suppressed.
fn status(f: &Value) -> String {
    match f.get("suppression") {
        Some(s) => match s.get("entry").and_then(Value::as_str) {
            Some(entry) => format!("suppressed by {entry}"),
            None => "suppressed inline".to_string(),
        },
        None if f.get("expired_exceptions").is_some() => "reported (exception expired)".into(),
        None => "reported".into(),
    }
}

/// When an exception ends, relative to the scan's date.
fn exception_age(e: &Exception) -> String {
    match (&e.expires, e.days_left) {
        (Some(d), Some(n)) if n < 0 => format!("{d} (expired {} day(s) ago)", -n),
        (Some(d), Some(n)) => format!("{d} (in {n} day(s))"),
        _ => "never".to_string(),
    }
}

/// `s` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.n{text-align:right}code{font-family:ui-monospace,monospace;font-size:.95em}\
.bar{display:inline-block;height:.8em;background:#888}\
.critical{color:#a00;font-weight:bold}.high{color:#c33}.medium{color:#b70}.low,.info{color:#277}\
.failed{color:#a00;font-weight:bold}.passed{color:#070;font-weight:bold}\
.expired{color:#a00}.expiring{color:#b70}.muted{color:#777}";

/// The HTML page.
pub fn html(doc: &ResultDoc) -> String {
    let s = &doc.summary;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>leakhound report</title><style>{CSS}</style></head><body>\n<h1>leakhound report</h1>\n"
    );
    let verdict = if s.gate.failed { "failed" } else { "passed" };
    let _ = writeln!(
        h,
        "<p id=\"verdict\">Gate (fail on {} and above): <span class=\"{verdict}\">{verdict}</span>, \
{} reported finding(s), {} blocking, {} suppressed, {} in baseline.</p>",
        escape(&s.gate.fail_on),
        s.findings,
        s.gate.blocking,
        s.suppressed,
        s.baselined
    );
    let sc = &s.scope;
    let _ = writeln!(
        h,
        "<p class=\"muted\" id=\"scope\">Scope: {} {}{}{}{}; policy: {}; baseline: {}; {}; date {}.</p>",
        escape(&sc.source),
        escape(&sc.paths.join(" ")),
        if sc.refs.is_empty() { String::new() } else { format!("; refs {}", escape(&sc.refs.join(" "))) },
        sc.range.as_deref().map_or(String::new(), |r| format!("; range {}", escape(r))),
        sc.since.as_deref().map_or(String::new(), |r| format!("; since {}", escape(r))),
        if sc.policy_files.is_empty() { "none".to_string() } else { escape(&sc.policy_files.join(" ")) },
        sc.baseline.as_deref().map_or("none".to_string(), escape),
        escape(&sc.rules_version),
        escape(&sc.date),
    );

    // Counts per severity, with bars.
    let max = s.by_severity.values().copied().max().unwrap_or(0).max(1);
    h.push_str("<h2>Findings by severity</h2>\n<table id=\"by-severity\"><tr><th>Severity</th><th>Findings</th><th></th></tr>\n");
    for (sev, n) in s.severities() {
        let _ = writeln!(
            h,
            "<tr><td class=\"{c}\">{e}</td><td class=\"n\">{n}</td><td><span class=\"bar\" style=\"width:{w}px\"></span></td></tr>",
            c = severity_class(sev),
            e = escape(sev),
            w = 1 + n * 200 / max
        );
    }
    h.push_str("</table>\n<h2>Findings by rule</h2>\n<table id=\"by-rule\"><tr><th>Rule</th><th>Findings</th></tr>\n");
    for (rule, n) in &s.by_rule {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"n\">{n}</td></tr>",
            escape(rule)
        );
    }
    h.push_str("</table>\n");

    let _ = writeln!(
        h,
        "<h2>Findings</h2>\n<table id=\"findings\">\n<tr><th>Severity</th><th>Rule</th><th>Location</th><th>Secret (redacted)</th><th>Fingerprint</th><th>Status</th></tr>"
    );
    for f in doc.findings.iter().chain(&doc.suppressed) {
        let sev = text(f, "severity");
        let _ = writeln!(
            h,
            "<tr class=\"finding\"><td class=\"{}\">{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            severity_class(&sev),
            escape(&sev),
            escape(&text(f, "rule_id")),
            escape(&location(f)),
            escape(&text(f, "secret")),
            escape(&text(f, "fingerprint")),
            escape(&status(f)),
        );
    }
    if doc.findings.is_empty() && doc.suppressed.is_empty() {
        h.push_str("<tr><td colspan=\"6\" class=\"muted\">No findings.</td></tr>\n");
    }
    h.push_str("</table>\n");

    if !s.suppressed_by_reason.is_empty() {
        h.push_str("<h2>Suppressed by reason</h2>\n<table id=\"suppressed-by-reason\"><tr><th>Reason</th><th>Findings</th></tr>\n");
        for (reason, n) in &s.suppressed_by_reason {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{n}</td></tr>",
                escape(reason)
            );
        }
        h.push_str("</table>\n");
    }

    h.push_str("<h2>Exceptions by age</h2>\n<table id=\"exceptions\"><tr><th>Entry</th><th>Expires</th><th>Status</th><th>Owner</th><th>Suppressed</th><th>Reason</th></tr>\n");
    for e in &s.exceptions {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"{st}\">{st}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&e.entry),
            escape(&exception_age(e)),
            escape(e.owner.as_deref().unwrap_or("")),
            e.suppressed,
            escape(&e.reason),
            st = escape(&e.status),
        );
    }
    if s.exceptions.is_empty() {
        h.push_str("<tr><td colspan=\"6\" class=\"muted\">No allowlist entries.</td></tr>\n");
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

/// The CSS class of a severity name (only known names; anything else gets none).
fn severity_class(s: &str) -> &'static str {
    Severity::parse(s).map_or("", Severity::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_markup_could_use() {
        assert_eq!(
            escape("<a href=\"x\" onclick='y'>&\u{7}"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;\u{fffd}"
        );
    }

    #[test]
    fn hostile_strings_are_escaped_in_the_page() {
        let text = r#"{"findings":[{"rule_id":"<script>alert(1)</script>","path":"a<b>.txt","line":1,"severity":"<i>","secret":"x\"y"}],"stats":{}}"#;
        let doc = ResultDoc::parse("r.json", text).unwrap();
        let page = html(&doc);
        assert!(!page.contains("<script>"));
        assert!(!page.contains("a<b>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<i>"));
    }

    #[test]
    fn rejects_other_json_naming_the_file() {
        for text in [
            "",
            "[]",
            "{\"runs\": []}",
            "{\"findings\": [], \"summary\": 3}",
        ] {
            let e = ResultDoc::parse("r.json", text).unwrap_err().to_string();
            assert!(e.starts_with("r.json: "), "{e}");
        }
    }
}
