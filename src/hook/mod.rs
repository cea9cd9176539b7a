//! Git hooks: block a secret before it lands. `pre-receive` runs on a git server for every push
//! and scans only what the push introduces; `pre-push` does the same on the client against the
//! remote's refs; `pre-commit` scans what is staged. All three answer in milliseconds for a
//! typical change: the scan is the same engine as everywhere else, and the git side reads only new
//! objects ([`push`], [`staged`]).
//!
//! Flow position: `hook input (protocol) -> push/staged (source) -> engine -> policy -> verdict`.
//! The hook's settings ([`HookSettings`]) come from the `[hook]` table of a leakhound config file;
//! its time budget is enforced here: when it runs out the hook answers as configured (accept or
//! reject) without waiting for the scan.

pub mod install;
pub mod protocol;
pub mod push;
pub mod staged;

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::engine::Scanner;
use crate::finding::Finding;
use crate::policy::{EnforcerBuilder, Policy};
use crate::scan::{Counters, ScanConfig};
use protocol::RefUpdate;
use push::RepoLocation;

/// Default largest blob a hook scans: what hosting platforms' secret scanning uses.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 1024 * 1024;
/// Default time budget, under GitHub Enterprise Server's 5 s for all hooks together.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(4);
/// Default number of findings printed in a rejection.
pub const DEFAULT_MAX_SHOWN: usize = 20;

/// A problem that stops a hook (as opposed to a per-object warning).
#[derive(Debug)]
pub enum HookError {
    /// The hook input is malformed.
    Input(protocol::ParseError),
    /// The repository or an object of the push cannot be read.
    Repo {
        /// The repository, ref or object.
        path: String,
        /// libgit2's message.
        msg: String,
    },
    /// The `[hook]` settings are invalid.
    Settings {
        /// The config file.
        file: String,
        /// What is wrong.
        msg: String,
    },
    /// Writing a hook script or a log failed.
    Io {
        /// The file.
        path: String,
        /// The error.
        err: std::io::Error,
    },
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookError::Input(e) => write!(f, "{e}"),
            HookError::Repo { path, msg } => write!(f, "{path}: {msg}"),
            HookError::Settings { file, msg } => write!(f, "{file}: [hook]: {msg}"),
            HookError::Io { path, err } => write!(f, "{path}: {err}"),
        }
    }
}

impl std::error::Error for HookError {}

/// What the hook does when its time budget runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnTimeout {
    /// Fail open: accept the push, with a warning (and a log line).
    Accept,
    /// Fail closed: reject the push.
    Reject,
}

/// The `[hook]` table of a config file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HookSettings {
    /// Largest blob scanned (bytes, or `"512K"`, `"1M"`); larger ones are skipped and counted.
    #[serde(deserialize_with = "de_size")]
    pub max_blob_size: u64,
    /// Scan blobs that look binary.
    pub binary: bool,
    /// Time budget (`"4s"`, `"500ms"`, or seconds as a number).
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// What happens when the budget runs out.
    pub on_timeout: OnTimeout,
    /// Honour `git push -o leakhound.skip=<reason>`.
    pub allow_bypass: bool,
    /// Append one line per push (verdict, counts, bypass reasons) to this file.
    pub log_file: Option<PathBuf>,
    /// Findings printed in a rejection; the rest are counted.
    pub max_findings_shown: usize,
    /// Honour `leakhound:allow` comments in pushed or staged content. Whoever commits a secret
    /// can also write the comment; turn this off to accept only the server's allowlist.
    pub inline_allow: bool,
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings {
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
            binary: false,
            timeout: DEFAULT_TIMEOUT,
            on_timeout: OnTimeout::Accept,
            allow_bypass: false,
            log_file: None,
            max_findings_shown: DEFAULT_MAX_SHOWN,
            inline_allow: true,
        }
    }
}

impl HookSettings {
    /// The `[hook]` table of a config file's text (defaults when there is none). Other tables
    /// are left to their own readers.
    pub fn from_toml(file: &str, text: &str) -> Result<HookSettings, HookError> {
        let err = |msg: String| HookError::Settings {
            file: file.to_string(),
            msg,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| err(e.message().to_string()))?;
        match table.get("hook") {
            None => Ok(HookSettings::default()),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| err(e.message().to_string())),
        }
    }
}

fn de_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum S {
        N(u64),
        S(String),
    }
    match S::deserialize(d)? {
        S::N(n) => Ok(n),
        S::S(s) => crate::scan::parse_size(&s).map_err(serde::de::Error::custom),
    }
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum T {
        N(f64),
        S(String),
    }
    match T::deserialize(d)? {
        T::N(n) if n.is_finite() && n >= 0.0 => Ok(Duration::from_secs_f64(n)),
        T::N(n) => Err(serde::de::Error::custom(format!("bad duration {n}"))),
        T::S(s) => parse_duration(&s).map_err(serde::de::Error::custom),
    }
}

/// Parse `4s`, `500ms`, `1.5s`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 && n * scale < 1e9 => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        _ => Err(format!(
            "'{s}' is not a duration (examples: 4s, 500ms, 1.5s, 2m)"
        )),
    }
}

/// What a hook decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing found: accept.
    Accept,
    /// Findings: reject.
    Reject,
    /// The pusher asked to skip the scan and the server allows it; the reason.
    Bypass(String),
    /// The time budget ran out; accepted or rejected per [`OnTimeout`].
    TimedOut(OnTimeout),
}

impl Verdict {
    /// Whether the push (or commit) goes ahead.
    pub fn accepts(&self) -> bool {
        matches!(
            self,
            Verdict::Accept | Verdict::Bypass(_) | Verdict::TimedOut(OnTimeout::Accept)
        )
    }
}

/// The result of a hook run.
#[derive(Debug)]
pub struct Outcome {
    /// The decision.
    pub verdict: Verdict,
    /// What was found and not allowed by the policy (empty unless rejected).
    pub findings: Vec<Finding>,
    /// Findings the policy allowed (an allowlist entry or an inline comment).
    pub suppressed: Vec<Finding>,
    /// Per-object problems.
    pub warnings: Vec<String>,
    /// Ref updates in the push.
    pub refs: usize,
    /// New commits walked.
    pub commits: usize,
    /// New blobs found.
    pub blobs: usize,
    /// Bytes scanned.
    pub bytes: u64,
    /// A bypass was asked for but the server does not allow it.
    pub bypass_refused: bool,
    /// Wall time of the hook's work.
    pub elapsed: Duration,
}

/// Everything a pre-receive (or pre-push) run needs.
pub struct PushCheck {
    /// The repository and the pushed objects.
    pub location: RepoLocation,
    /// The hook's settings.
    pub settings: HookSettings,
    /// The compiled rules.
    pub scanner: Arc<Scanner>,
    /// Scan options (threads, redaction); the size and binary limits come from `settings`.
    pub scan: ScanConfig,
    /// Push options (`git push -o`).
    pub push_options: Vec<String>,
    /// Only refs under this prefix count as already known (pre-push: `refs/remotes/<remote>/`);
    /// `None`: every ref.
    pub known_prefix: Option<String>,
    /// The allowlist applied to what is found (the server's, never one from the push).
    pub policy: Arc<Policy>,
}

impl PushCheck {
    /// Check the ref updates of one push within the time budget.
    pub fn run(self, updates: Vec<RefUpdate>) -> Result<Outcome, HookError> {
        let start = Instant::now();
        let mut outcome = Outcome {
            verdict: Verdict::Accept,
            findings: Vec::new(),
            suppressed: Vec::new(),
            warnings: Vec::new(),
            refs: updates.len(),
            commits: 0,
            blobs: 0,
            bytes: 0,
            bypass_refused: false,
            elapsed: Duration::ZERO,
        };
        if let Some(reason) = protocol::skip_request(&self.push_options) {
            if self.settings.allow_bypass {
                outcome.verdict = Verdict::Bypass(reason);
                outcome.elapsed = start.elapsed();
                return Ok(outcome);
            }
            outcome.bypass_refused = true;
        }
        let deadline = start + self.settings.timeout;
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = crossbeam_channel::bounded(1);
        let worker = {
            let cancel = Arc::clone(&cancel);
            let counters = Arc::new(Counters::default());
            let cfg = ScanConfig {
                max_filesize: self.settings.max_blob_size,
                binary: self.settings.binary,
                ..self.scan.clone()
            };
            let (loc, scanner, prefix) = (self.location, self.scanner, self.known_prefix);
            let cfg = ScanConfig {
                findings: crate::finding::FindingOptions {
                    policy: Some(Arc::clone(&self.policy)),
                    ..cfg.findings
                },
                ..cfg
            };
            move || {
                let result = check_push(
                    &loc,
                    &updates,
                    prefix.as_deref(),
                    &scanner,
                    &cfg,
                    &counters,
                    &cancel,
                );
                let _ = tx.send(result.map(|r| (r, counters.bytes.load(Ordering::Relaxed))));
            }
        };
        std::thread::Builder::new()
            .name("leakhound-hook".into())
            .spawn(worker)
            .map_err(|err| HookError::Io {
                path: "(hook thread)".into(),
                err,
            })?;
        match rx.recv_deadline(deadline) {
            Ok(result) => {
                let (r, bytes) = result?;
                outcome.commits = r.commits;
                outcome.blobs = r.blobs;
                outcome.bytes = bytes;
                outcome.warnings = r.warnings;
                let (reported, suppressed) =
                    apply_policy(&self.policy, self.settings.inline_allow, r.findings);
                outcome.verdict = if reported.is_empty() {
                    Verdict::Accept
                } else {
                    Verdict::Reject
                };
                outcome.findings = reported;
                outcome.suppressed = suppressed;
            }
            Err(_) => {
                cancel.store(true, Ordering::Relaxed);
                outcome.verdict = Verdict::TimedOut(self.settings.on_timeout);
            }
        }
        outcome.elapsed = start.elapsed();
        Ok(outcome)
    }
}

/// Split findings into (reported, suppressed) by `policy`; inline `leakhound:allow` comments
/// count only when `inline_allow`.
pub fn apply_policy(
    policy: &Arc<Policy>,
    inline_allow: bool,
    mut findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<Finding>) {
    if !inline_allow {
        for f in &mut findings {
            f.policy.inline = None;
        }
    }
    let split = EnforcerBuilder::new()
        .build(Arc::clone(policy))
        .apply(findings);
    (split.reported, split.suppressed)
}

struct Checked {
    commits: usize,
    blobs: usize,
    findings: Vec<Finding>,
    warnings: Vec<String>,
}

fn check_push(
    loc: &RepoLocation,
    updates: &[RefUpdate],
    known_prefix: Option<&str>,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    cancel: &AtomicBool,
) -> Result<Checked, HookError> {
    crate::source::git::tune_libgit2();
    let repo = loc.open()?;
    let before = loc.open_before();
    let known = push::ref_tips(before.as_ref().unwrap_or(&repo), known_prefix);
    let content = push::enumerate(&repo, before.as_ref(), updates, &known)?;
    let (findings, mut warnings) =
        push::scan_blobs(loc, &repo, &content.blobs, scanner, cfg, counters, cancel);
    warnings.extend(content.warnings);
    Ok(Checked {
        commits: content.commits,
        blobs: content.blobs.len(),
        findings,
        warnings,
    })
}

/// What the hook prints on stderr (git relays it as `remote:` lines): the findings, at most
/// `max_shown`, and the way out. Secrets are shown as the findings hold them (redacted unless
/// the hook was run with `--no-redact`).
pub fn render(outcome: &Outcome, max_shown: usize, kind: &str) -> String {
    let mut s = String::new();
    for w in &outcome.warnings {
        let _ = writeln!(s, "leakhound: warning: {w}");
    }
    if outcome.bypass_refused {
        let _ = writeln!(
            s,
            "leakhound: the push asked to skip the secret scan (leakhound.skip), but this server does not allow that; scanning"
        );
    }
    if !outcome.suppressed.is_empty() {
        let _ = writeln!(
            s,
            "leakhound: {} finding(s) allowed by policy (allowlist or leakhound:allow comments)",
            outcome.suppressed.len()
        );
    }
    match &outcome.verdict {
        Verdict::Accept => {}
        Verdict::Bypass(reason) => {
            let reason = if reason.is_empty() {
                "(no reason given)"
            } else {
                reason
            };
            let _ = writeln!(
                s,
                "leakhound: secret scan skipped at the pusher's request: {reason} (this is logged)"
            );
        }
        Verdict::TimedOut(on) => {
            let _ = writeln!(
                s,
                "leakhound: the secret scan did not finish within its time budget; the push is {} (server setting on_timeout = \"{}\")",
                if *on == OnTimeout::Accept { "accepted unchecked" } else { "rejected" },
                if *on == OnTimeout::Accept { "accept" } else { "reject" },
            );
        }
        Verdict::Reject => render_rejection(&mut s, outcome, max_shown, kind),
    }
    s
}

fn render_rejection(s: &mut String, outcome: &Outcome, max_shown: usize, kind: &str) {
    let n = outcome.findings.len();
    let _ = writeln!(
        s,
        "leakhound: {kind} rejected: {n} secret{} found",
        if n == 1 { "" } else { "s" }
    );
    let _ = writeln!(s);
    for f in outcome.findings.iter().take(max_shown) {
        let commit = f
            .git
            .as_ref()
            .map(|g| g.commit.get(..12).unwrap_or(&g.commit).to_string());
        let _ = writeln!(
            s,
            "  {}{}:{}:{}  {} ({})  {}",
            commit.map(|c| format!("{c} ")).unwrap_or_default(),
            f.path,
            f.line,
            f.column,
            f.rule_id,
            f.severity.as_str(),
            f.secret
        );
        let _ = writeln!(s, "      fingerprint {}", f.fingerprint);
    }
    if n > max_shown {
        let _ = writeln!(s, "  ... and {} more", n - max_shown);
    }
    let _ = writeln!(s);
    if kind == "commit" {
        let _ = writeln!(
            s,
            "Remove the secret from the staged files (git add them again), load it from the environment or a secret manager instead, then commit."
        );
    } else {
        let _ = writeln!(
            s,
            "Remove the secret from every pushed commit, then push again:\n  in the last commit:   edit the file, `git add` it, `git commit --amend`\n  in an older commit:   `git rebase -i <commit>~1`, mark that commit `edit`, fix the file,\n                        `git commit --amend`, `git rebase --continue`\nThe server discards a rejected push; if the secret was shared anywhere else, rotate it."
        );
    }
    let _ = writeln!(
        s,
        "Not a secret? Add a `leakhound:allow` comment on its line (optionally `leakhound:allow reason=\"...\"`),\nor ask the repository's admins to allowlist its fingerprint with a reason."
    );
}

/// One line for the hook's log file: time, hook, verdict, counts and, for a bypass, the reason
/// and who pushed (from the environment variables hosting servers set).
pub fn log_line(
    kind: &str,
    outcome: &Outcome,
    now_unix: i64,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let verdict = match &outcome.verdict {
        Verdict::Accept => "accept".to_string(),
        Verdict::Reject => "reject".to_string(),
        Verdict::Bypass(r) => format!("bypass reason={}", quote(r)),
        Verdict::TimedOut(OnTimeout::Accept) => "timeout-accept".to_string(),
        Verdict::TimedOut(OnTimeout::Reject) => "timeout-reject".to_string(),
    };
    let user = ["GL_USERNAME", "GITHUB_USER", "REMOTE_USER", "USER"]
        .iter()
        .find_map(|k| env(k))
        .unwrap_or_default();
    format!(
        "{} {kind} verdict={verdict} user={} refs={} commits={} blobs={} bytes={} findings={} ms={}",
        crate::source::git::iso8601(now_unix, 0),
        quote(&user),
        outcome.refs,
        outcome.commits,
        outcome.blobs,
        outcome.bytes,
        outcome.findings.len(),
        outcome.elapsed.as_millis()
    )
}

/// A value for a log line: quoted, control characters and quotes escaped.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars().take(200) {
        match c {
            '"' | '\\' => {
                q.push('\\');
                q.push(c);
            }
            c if c.is_control() => {
                let _ = write!(q, "\\u{{{:x}}}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Append `line` to the log file.
pub fn append_log(path: &std::path::Path, line: &str) -> Result<(), HookError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|err| HookError::Io {
            path: path.display().to_string(),
            err,
        })?;
    writeln!(f, "{line}").map_err(|err| HookError::Io {
        path: path.display().to_string(),
        err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, ms) in [
            ("4s", 4000),
            ("500ms", 500),
            ("1.5s", 1500),
            ("2m", 120_000),
            ("3", 3000),
        ] {
            assert_eq!(parse_duration(s).unwrap(), Duration::from_millis(ms), "{s}");
        }
        for bad in ["", "fast", "-1s", "1e300s", "NaN"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_from_toml() {
        let s = HookSettings::from_toml(
            "c.toml",
            "[hook]\nmax_blob_size = \"2M\"\ntimeout = \"250ms\"\non_timeout = \"reject\"\nallow_bypass = true\n[[rules]]\nid = \"x\"\nregex = \"x\"\n",
        )
        .unwrap();
        assert_eq!(s.max_blob_size, 2 << 20);
        assert_eq!(s.timeout, Duration::from_millis(250));
        assert_eq!(s.on_timeout, OnTimeout::Reject);
        assert!(s.allow_bypass);
        assert_eq!(s.max_findings_shown, DEFAULT_MAX_SHOWN);
        let d = HookSettings::from_toml("c.toml", "").unwrap();
        assert_eq!(d.timeout, DEFAULT_TIMEOUT);
        assert_eq!(d.on_timeout, OnTimeout::Accept);
        let e = HookSettings::from_toml("c.toml", "[hook]\ntimeot = 3\n").unwrap_err();
        assert!(e.to_string().contains("timeot"), "{e}");
        let e = HookSettings::from_toml("c.toml", "[hook]\ntimeout = \"soon\"\n").unwrap_err();
        assert!(e.to_string().contains("soon"), "{e}");
    }

    #[test]
    fn log_values_are_quoted() {
        assert_eq!(quote("a \"b\"\n"), "\"a \\\"b\\\"\\u{a}\"");
    }
}
