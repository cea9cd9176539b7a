//! Fuzz the reporters: findings with arbitrary text (control characters, U+FFFD from invalid
//! UTF-8, quotes, backslashes), locations, severities and git metadata (commit, blob, other
//! occurrences of the blob), delivered in batches, must come out of the json, jsonl and sarif
//! reporters as valid JSON that says exactly what went in: one entry per finding with the same
//! fields, json sorted, jsonl in arrival order then one line per blob with other occurrences,
//! SARIF results pointing at the right rule and a URI that decodes back to the path. The human
//! reporter must not fail and writes the expected number of lines.

#![no_main]

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, OnceLock};

use arbitrary::Arbitrary;
use leakhound::finding::{fingerprint, Finding};
use leakhound::report::{self, Format};
use leakhound::rules::{Confidence, RuleSet, Severity};
use leakhound::scan::Stats;
use leakhound::source::git::{CommitInfo, Occurrence};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Rules the SARIF reporter describes; findings name one of them or an unknown id.
const RULES: &str = r#"
[[rules]]
id = "fz-one"
regex = '''fz1_([a-z]{8})'''
description = "First \"fuzz\" rule\twith\ncontrol characters"

[[rules]]
id = "fz-two"
name = "Fuzz rule <two> & 'more'"
keywords = ["fz2"]
regex = '''fz2_([a-z]{8})'''
severity = "critical"
confidence = "high"
"#;

const MAX_FINDINGS: usize = 64;
const MAX_TEXT: usize = 256;

fn rules() -> &'static Arc<RuleSet> {
    static R: OnceLock<Arc<RuleSet>> = OnceLock::new();
    R.get_or_init(|| {
        Arc::new(RuleSet::from_toml("fuzz-report.toml", RULES).expect("rules compile"))
    })
}

/// Text from arbitrary bytes: invalid UTF-8 becomes U+FFFD, as it does for secrets and paths.
#[derive(Arbitrary, Debug)]
struct Text<'a>(&'a [u8]);

impl Text<'_> {
    fn get(&self) -> String {
        String::from_utf8_lossy(&self.0[..self.0.len().min(MAX_TEXT)]).into_owned()
    }
}

/// A commit id as git reports it: 40 lower-case hex digits (from 20 bytes).
#[derive(Arbitrary, Debug)]
struct CommitId([u8; 20]);

impl CommitId {
    fn get(&self) -> String {
        leakhound::finding::hex(&self.0)
    }
}

#[derive(Arbitrary, Debug)]
struct Git<'a> {
    commit: CommitId,
    author: Text<'a>,
    email: Text<'a>,
    date: Text<'a>,
    summary: Text<'a>,
}

#[derive(Arbitrary, Debug)]
enum BlobRef<'a> {
    /// The blob of the finding with this index (modulo their number), if it has one.
    OfFinding(u8),
    Other(Text<'a>),
}

#[derive(Arbitrary, Debug)]
struct Occurrences<'a> {
    blob: BlobRef<'a>,
    at: Vec<(CommitId, Text<'a>)>,
}

#[derive(Arbitrary, Debug)]
enum RuleRef<'a> {
    Known(u8),
    Unknown(Text<'a>),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    rule: RuleRef<'a>,
    rule_name: Text<'a>,
    path: Text<'a>,
    secret: Text<'a>,
    context: Text<'a>,
    /// Locations as a scan produces them: 32-bit lines and columns are plenty.
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    offset: u64,
    severity: u8,
    confidence: u8,
    entropy: f64,
    git: Option<Git<'a>>,
    blob: Option<Text<'a>>,
    /// Start a new `Reporter::findings` batch at this finding.
    new_batch: bool,
}

#[derive(Arbitrary, Debug)]
struct Case<'a> {
    findings: Vec<Input<'a>>,
    /// Passed to `Reporter::occurrences` after the findings, if any.
    occurrences: Vec<Occurrences<'a>>,
    files_scanned: u64,
    bytes_scanned: u64,
    throughput_mb_s: f64,
}

/// A `Write + Send` sink whose bytes the caller can read after the reporter is done.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];
const CONFIDENCES: [Confidence; 3] = [Confidence::Low, Confidence::Medium, Confidence::High];

fn finding(i: &Input<'_>, rules: &RuleSet) -> Finding {
    let rule_id = match &i.rule {
        RuleRef::Known(k) => rules.get(usize::from(*k) % rules.len()).id.clone(),
        RuleRef::Unknown(t) => t.get(),
    };
    let path = i.path.get();
    let secret = i.secret.get();
    Finding {
        fingerprint: fingerprint(&rule_id, &path, secret.as_bytes()),
        rule_id,
        rule_name: i.rule_name.get(),
        severity: SEVERITIES[usize::from(i.severity) % 5],
        confidence: CONFIDENCES[usize::from(i.confidence) % 3],
        path,
        line: u64::from(i.line),
        column: u64::from(i.column),
        end_line: u64::from(i.end_line),
        end_column: u64::from(i.end_column),
        offset: i.offset,
        secret,
        entropy: i.entropy,
        context: i.context.get(),
        decoded: None,
        git: i.git.as_ref().map(|g| CommitInfo {
            commit: g.commit.get(),
            author: g.author.get(),
            email: g.email.get(),
            date: g.date.get(),
            summary: g.summary.get(),
        }),
        blob: i.blob.as_ref().map(Text::get),
        occurrences: Vec::new(),
        policy: Default::default(),
    }
}

/// The `Reporter::occurrences` map of a case, or `None` to not call it.
fn occurrence_map(
    list: &[Occurrences<'_>],
    findings: &[Finding],
) -> Option<HashMap<String, Vec<Occurrence>>> {
    if list.is_empty() {
        return None;
    }
    let mut map = HashMap::new();
    for o in list.iter().take(MAX_FINDINGS) {
        let blob = match &o.blob {
            BlobRef::OfFinding(k) if !findings.is_empty() => {
                match &findings[usize::from(*k) % findings.len()].blob {
                    Some(b) => b.clone(),
                    None => continue,
                }
            }
            BlobRef::OfFinding(_) => continue,
            BlobRef::Other(t) => t.get(),
        };
        let at =
            o.at.iter()
                .take(16)
                .map(|(c, p)| Occurrence {
                    commit: c.get(),
                    path: p.get(),
                })
                .collect();
        map.insert(blob, at);
    }
    Some(map)
}

/// `f` as the sorted formats see it: with its blob's other occurrences attached.
fn attached(f: &Finding, map: Option<&HashMap<String, Vec<Occurrence>>>) -> Finding {
    let mut f = f.clone();
    if let Some(o) = f.blob.as_ref().and_then(|b| map?.get(b)) {
        f.occurrences = o.clone();
    }
    f
}

/// Run `findings` through the reporter for `format`, batch by batch, and return its output.
fn render(
    format: Format,
    findings: &[Finding],
    batches: &[usize],
    map: Option<&HashMap<String, Vec<Occurrence>>>,
    stats: &Stats,
) -> Vec<u8> {
    let out = Shared::default();
    let mut r = report::reporter(format, Box::new(out.clone()), true, Arc::clone(rules()));
    let mut from = 0;
    for &to in batches.iter().chain([&findings.len()]) {
        r.findings(&findings[from..to]).expect("writing to memory");
        from = to;
    }
    if let Some(map) = map {
        r.occurrences(map).expect("writing to memory");
    }
    r.finish(stats).expect("writing to memory");
    drop(r);
    let bytes = out.0.lock().expect("not poisoned").clone();
    bytes
}

/// What a JSON finding object says, to compare with the input.
fn fields(v: &Value) -> (String, String, String, String, u64, u64, u64, u64, u64) {
    let s = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {v}"))
            .to_string()
    };
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (
        s("rule_id"),
        s("path"),
        s("secret"),
        s("rule_name"),
        n("line"),
        n("column"),
        n("end_line"),
        n("end_column"),
        n("offset"),
    )
}

fn expected(f: &Finding) -> (String, String, String, String, u64, u64, u64, u64, u64) {
    (
        f.rule_id.clone(),
        f.path.clone(),
        f.secret.clone(),
        f.rule_name.clone(),
        f.line,
        f.column,
        f.end_line,
        f.end_column,
        f.offset,
    )
}

fn check_object(v: &Value, f: &Finding) {
    assert_eq!(fields(v), expected(f));
    assert_eq!(v["severity"], f.severity.as_str());
    assert_eq!(v["confidence"], f.confidence.as_str());
    assert_eq!(v["fingerprint"], f.fingerprint.as_str());
    assert!(
        v.get("context").is_none(),
        "context is for human output only"
    );
    match &f.git {
        Some(g) => {
            assert_eq!(v["commit"], g.commit.as_str());
            assert_eq!(v["author"], g.author.as_str());
            assert_eq!(v["email"], g.email.as_str());
            assert_eq!(v["date"], g.date.as_str());
            assert_eq!(v["summary"], g.summary.as_str());
        }
        None => assert!(v.get("commit").is_none() && v.get("author").is_none()),
    }
    match &f.blob {
        Some(b) => assert_eq!(v["blob"], b.as_str()),
        None => assert!(v.get("blob").is_none()),
    }
    check_occurrences(v.get("occurrences"), &f.occurrences);
    match v["entropy"].as_f64() {
        Some(e) => assert_eq!(e, f.entropy),
        None => assert!(!f.entropy.is_finite(), "entropy {} lost", f.entropy),
    }
}

fn check_occurrences(v: Option<&Value>, want: &[Occurrence]) {
    if want.is_empty() {
        assert!(v.is_none(), "no occurrences, but {v:?}");
        return;
    }
    let got = v.and_then(Value::as_array).expect("occurrences array");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g["commit"], w.commit.as_str());
        assert_eq!(g["path"], w.path.as_str());
    }
}

/// Decode a SARIF artifact URI (percent-encoded bytes).
fn uri_decode(uri: &str) -> Vec<u8> {
    let b = uri.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ASCII hex");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
            i += 3;
        } else {
            assert!(
                b[i].is_ascii_alphanumeric() || b"-._~/".contains(&b[i]),
                "unencoded {:?} in uri {uri:?}",
                b[i] as char
            );
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|case: Case| {
    let rules = rules();
    let inputs = &case.findings[..case.findings.len().min(MAX_FINDINGS)];
    let findings: Vec<Finding> = inputs.iter().map(|i| finding(i, rules)).collect();
    let batches: Vec<usize> = (1..inputs.len()).filter(|&k| inputs[k].new_batch).collect();
    let stats = Stats {
        files_scanned: case.files_scanned,
        bytes_scanned: case.bytes_scanned,
        findings: findings.len() as u64,
        throughput_mb_s: case.throughput_mb_s,
        ..Stats::default()
    };
    let map = occurrence_map(&case.occurrences, &findings);
    let map = map.as_ref();
    let mut sorted: Vec<Finding> = findings.iter().map(|f| attached(f, map)).collect();
    report::sort_findings(&mut sorted);

    // json: one document, findings sorted.
    let out = render(Format::Json, &findings, &batches, map, &stats);
    let doc: Value = serde_json::from_slice(&out).expect("json output parses");
    let arr = doc["findings"].as_array().expect("findings array");
    assert_eq!(arr.len(), findings.len());
    for (v, f) in arr.iter().zip(&sorted) {
        check_object(v, f);
    }
    assert_eq!(doc["stats"]["findings"], findings.len() as u64);

    // jsonl: one object per line, findings in arrival order, then one line per blob (sorted).
    let out = render(Format::Jsonl, &findings, &batches, map, &stats);
    let text = std::str::from_utf8(&out).expect("jsonl is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    let mut blobs: Vec<_> = map.into_iter().flatten().collect();
    blobs.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        lines.len(),
        findings.len() + blobs.len(),
        "one line per finding and blob"
    );
    assert!(out.is_empty() || out.ends_with(b"\n"));
    for (line, f) in lines.iter().zip(&findings) {
        let v: Value = serde_json::from_str(line).expect("jsonl line parses");
        check_object(&v, f);
    }
    for (line, (blob, at)) in lines[findings.len()..].iter().zip(blobs) {
        let v: Value = serde_json::from_str(line).expect("jsonl line parses");
        assert_eq!(v["blob"], blob.as_str());
        assert_eq!(v["occurrences"].as_array().map(Vec::len), Some(at.len()));
        if !at.is_empty() {
            check_occurrences(v.get("occurrences"), at);
        }
    }

    // sarif: one run, one result per finding, sorted, each pointing at its rule.
    let out = render(Format::Sarif, &findings, &batches, map, &stats);
    let doc: Value = serde_json::from_slice(&out).expect("sarif output parses");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver_rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), findings.len());
    for (res, f) in results.iter().zip(&sorted) {
        assert_eq!(res["ruleId"], f.rule_id.as_str());
        let known = rules.rules().iter().any(|r| r.id == f.rule_id);
        match res.get("ruleIndex").and_then(Value::as_u64) {
            Some(i) => assert_eq!(driver_rules[i as usize]["id"], f.rule_id.as_str()),
            None => assert!(!known, "{} has no ruleIndex", f.rule_id),
        }
        assert_eq!(
            res["message"]["text"],
            format!("{} found: {}", f.rule_name, f.secret)
        );
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert_eq!(uri_decode(uri), f.path.as_bytes(), "uri {uri:?}");
        let region = &loc["region"];
        assert_eq!(region["startLine"], f.line);
        assert_eq!(region["startColumn"], f.column);
        assert_eq!(region["endLine"], f.end_line);
        assert_eq!(region["endColumn"], f.end_column + 1);
        assert_eq!(
            res["partialFingerprints"]["leakhound/v1"],
            f.fingerprint.as_str()
        );
    }
    let mut ids: Vec<&str> = driver_rules
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "a rule listed twice");
    for id in ids {
        assert!(
            findings.iter().any(|f| f.rule_id == id),
            "unused rule {id} listed"
        );
    }

    // human: must not fail; when no field breaks a line: two lines per finding, two more with a
    // commit, and for each blob a header and one line per occurrence.
    let out = render(Format::Human, &findings, &batches, map, &stats);
    let text = String::from_utf8(out).expect("human output is UTF-8");
    let breaks = |s: &str| s.contains(['\n', '\r']);
    let one_line = findings.iter().all(|f| {
        !breaks(&f.path)
            && !breaks(&f.rule_id)
            && !breaks(&f.rule_name)
            && !breaks(&f.context)
            && f.git.as_ref().is_none_or(|g| {
                !breaks(&g.author) && !breaks(&g.email) && !breaks(&g.date) && !breaks(&g.summary)
            })
    }) && map
        .into_iter()
        .flatten()
        .all(|(b, at)| !breaks(b) && at.iter().all(|o| !breaks(&o.path)));
    if one_line {
        let want = findings
            .iter()
            .map(|f| if f.git.is_some() { 4 } else { 2 })
            .sum::<usize>()
            + map
                .into_iter()
                .flatten()
                .map(|(_, at)| 1 + at.len())
                .sum::<usize>();
        assert_eq!(text.lines().count(), want);
    }
});
