//! Sources: where bytes come from. `fs` walks directories in parallel and scans each file as one
//! buffer (memory-mapped when large); `stream` reads stdin or any non-seekable input in pieces and
//! feeds the [`crate::chunk::StreamScanner`] (an archive on stdin is buffered whole instead);
//! `git` reads blobs. Whole buffers go through [`crate::content::Layers`] (archives, decoding).
//! All send [`crate::scan::Event`]s to the reporter.
//!
//! Flow position: `source -> chunk -> engine`.

pub mod fs;
pub mod git;
pub mod stream;

use std::path::Path;

use crossbeam_channel::Sender;

use crate::content::Output;
use crate::scan::Event;

/// Send one input's warnings and findings to the reporter; false if it hung up.
pub fn send_output(tx: &Sender<Event>, out: Output) -> bool {
    for w in out.warnings {
        if tx.send(Event::Warning(w)).is_err() {
            return false;
        }
    }
    out.findings.is_empty() || tx.send(Event::Findings(out.findings)).is_ok()
}

/// The name an input is reported under: the path as given, `/`-separated, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let s = if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    };
    let mut t = s.as_str();
    while let Some(rest) = t.strip_prefix("./") {
        t = rest.trim_start_matches('/');
    }
    if t.is_empty() {
        ".".to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths() {
        assert_eq!(display_path(Path::new("./a/b")), "a/b");
        assert_eq!(display_path(Path::new("a/b")), "a/b");
        assert_eq!(display_path(Path::new("/x/y")), "/x/y");
        assert_eq!(display_path(Path::new(".")), ".");
    }
}
