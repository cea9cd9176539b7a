//! Sources: where bytes come from. `fs` walks directories in parallel and scans each file as one
//! buffer (memory-mapped when large); `stream` reads stdin or any non-seekable input in pieces and
//! feeds the [`crate::chunk::StreamScanner`]. Both send [`crate::scan::Event`]s to the reporter.
//!
//! Flow position: `source -> chunk -> engine`.

pub mod fs;
pub mod git;
pub mod stream;

use std::path::Path;

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
