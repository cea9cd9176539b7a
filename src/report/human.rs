//! Human output: one `path:line:column: rule (severity)` header per finding and the redacted line
//! under it, coloured only when writing to a terminal.

use std::io::{self, Write};

use super::Reporter;
use crate::finding::Finding;
use crate::policy::Summary;
use crate::rules::Severity;
use crate::scan::Stats;

/// Writes findings for people.
pub struct Human {
    out: Box<dyn Write + Send>,
    color: bool,
}

impl Human {
    /// A reporter writing to `out`, with ANSI colours if `color`.
    pub fn new(out: Box<dyn Write + Send>, color: bool) -> Human {
        Human { out, color }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The first `n` characters of `s` (a short commit id).
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `s` quoted for a POSIX shell when it holds anything but plain path characters.
fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low | Severity::Info => "36",
    }
}

impl Human {
    fn write_one(&mut self, f: &Finding) -> io::Result<()> {
        let loc = self.paint("35", &format!("{}:{}:{}", f.path, f.line, f.column));
        let rule = self.paint("1", &f.rule_id);
        let sev = self.paint(severity_color(f.severity), f.severity.as_str());
        let tag = if f.policy.suppression.is_some() {
            self.paint("2", " (suppressed)")
        } else {
            String::new()
        };
        let decoded = match &f.decoded {
            Some(chain) => format!(" (decoded: {chain})"),
            None => String::new(),
        };
        writeln!(
            self.out,
            "{loc}: {rule} [{sev}, confidence {}] {}{decoded}{tag}",
            f.confidence.as_str(),
            f.rule_name
        )?;
        writeln!(self.out, "    {}", f.context)?;
        if let Some(s) = &f.policy.suppression {
            match &s.entry {
                Some(entry) => writeln!(self.out, "    suppressed by {entry}: {}", s.reason)?,
                None => writeln!(self.out, "    suppressed inline: {}", s.reason)?,
            }
        }
        for e in &f.policy.expired_exceptions {
            writeln!(
                self.out,
                "    exception {} expired on {} ({}); reported again",
                e.entry.as_deref().unwrap_or("?"),
                e.expires.as_deref().unwrap_or("?"),
                e.reason
            )?;
        }
        Ok(())
    }
}

impl Reporter for Human {
    fn suppressed(&mut self, found: &[Finding]) -> io::Result<()> {
        self.findings(found)
    }

    fn summary(&mut self, _summary: &Summary) -> io::Result<()> {
        // The footer goes to stderr with the scan's statistics (see `cli::scan` in the binary), so that stdout
        // holds findings only.
        Ok(())
    }

    fn findings(&mut self, found: &[Finding]) -> io::Result<()> {
        for f in found {
            self.write_one(f)?;
            if let Some(g) = &f.git {
                let short = prefix(&g.commit, 12);
                writeln!(
                    self.out,
                    "    commit {short} by {} <{}> on {}: {}",
                    g.author, g.email, g.date, g.summary
                )?;
                writeln!(self.out, "    git show {short}:{}", shell_quote(&f.path))?;
            }
        }
        self.out.flush()
    }

    fn occurrences(
        &mut self,
        map: &std::collections::HashMap<String, Vec<crate::source::git::Occurrence>>,
    ) -> io::Result<()> {
        let mut blobs: Vec<_> = map.iter().collect();
        blobs.sort_by(|a, b| a.0.cmp(b.0));
        for (blob, occurrences) in blobs {
            writeln!(self.out, "blob {blob} is also in:")?;
            for o in occurrences {
                writeln!(self.out, "    {}:{}", prefix(&o.commit, 12), o.path)?;
            }
        }
        self.out.flush()
    }

    fn finish(&mut self, _stats: &Stats) -> io::Result<()> {
        self.out.flush()
    }
}
