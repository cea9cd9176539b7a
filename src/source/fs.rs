//! Files and directories. The `ignore` crate's parallel walker enumerates; each of its threads is
//! a worker that owns a [`Scratch`] and a read buffer and scans whole files: small files are read
//! into the reused buffer, large ones memory-mapped. Defaults, chosen for a secrets scanner:
//!
//! - `.git` directories are never walked (history is `leakhound git`'s job);
//! - hidden files are scanned, and so are files that `.gitignore` ignores (`.env` is where secrets
//!   live); `--respect-gitignore` skips them; `.leakhoundignore` files are always obeyed;
//! - archives and compressed files are recognised by their magic bytes and unpacked, and text is
//!   decoded, by [`crate::content::Layers`]; other files with a NUL byte in the first 8 KiB are
//!   skipped as binary (`--binary` scans them);
//! - files over 100 MiB are skipped (`--max-filesize`);
//! - symbolic links are not followed (`--follow` follows them; loops are reported);
//! - a FIFO or character device named on the command line is read as a stream; found while
//!   walking, it is skipped, since reading it could block forever.
//!
//! Every problem with one file is a warning naming it; the walk goes on.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;
use ignore::{WalkBuilder, WalkState};
use memmap2::Mmap;

use super::display_path;
use super::send_output;
use crate::content::{Layers, Output};
use crate::engine::{Scanner, Scratch};
use crate::scan::{Counters, Event, ScanConfig, SkipReason};

/// Walk `paths` and scan every file. Returns when the walk is done or the reporter hung up.
pub fn scan_paths(
    paths: &[PathBuf],
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) {
    let Some((first, rest)) = paths.split_first() else {
        return;
    };
    let mut wb = WalkBuilder::new(first);
    for p in rest {
        wb.add(p);
    }
    let gi = cfg.respect_gitignore;
    wb.standard_filters(false)
        .hidden(false)
        .git_ignore(gi)
        .git_exclude(gi)
        .git_global(gi)
        .ignore(gi)
        .parents(gi)
        .follow_links(cfg.follow_links)
        .threads(cfg.threads.max(1))
        .add_custom_ignore_filename(".leakhoundignore")
        .filter_entry(|e| e.file_name() != ".git");
    let spares = Spares::new(cfg.threads);
    wb.build_parallel().run(|| {
        let mut worker = Worker::new(scanner, cfg, counters, tx, &spares);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    counters.error();
                    return worker.warn(err.to_string());
                }
            };
            let Some(ft) = entry.file_type() else {
                // stdin is handled by the caller; nothing else lacks a type.
                return WalkState::Continue;
            };
            if ft.is_dir() || ft.is_symlink() {
                return WalkState::Continue;
            }
            if !ft.is_file() {
                if entry.depth() == 0 {
                    return worker.stream(entry.path());
                }
                return WalkState::Continue;
            }
            worker.file(entry.path())
        })
    });
}

/// Scan stdin as a file when it is one (`leakhound scan - < file`) of at most `--max-filesize`
/// bytes: whole, memory-mapped when large, so its encoded runs are decoded and its archives
/// unpacked as in any file, reported as `<stdin>`. Returns `None` when stdin is not a regular
/// file or is larger (the caller streams it), else whether the reporter still listens.
pub fn scan_stdin_file(
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) -> Option<bool> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        let f = File::from(fd);
        let meta = f.metadata().ok()?;
        if !meta.is_file() || meta.len() > cfg.max_filesize {
            return None;
        }
        // A file read partly by an earlier command (`{ head -1; leakhound scan -; } < f`) goes
        // on from where that stopped, as a stream does.
        use std::io::Seek;
        if (&f).stream_position().ok()? != 0 {
            return None;
        }
        let spares = Spares::new(cfg.threads);
        let mut worker = Worker::new(scanner, cfg, counters, tx, &spares);
        Some(worker.open_file(f, "<stdin>") == WalkState::Continue)
    }
    #[cfg(not(unix))]
    {
        let _ = (scanner, cfg, counters, tx);
        None
    }
}

/// The scratches that large files are cut across besides their worker's own, shared by the
/// workers of one scan: at most `threads - 1` are ever made, so however many large files the
/// workers meet at once, a scan holds at most twice as many scratches as it has threads (the
/// extra ones keep their regex caches from file to file).
struct Spares {
    /// Made and not lent out now; and how many may still be made.
    free: Mutex<(Vec<Scratch>, usize)>,
}

impl Spares {
    fn new(threads: usize) -> Spares {
        Spares {
            free: Mutex::new((Vec::new(), threads.saturating_sub(1))),
        }
    }

    /// Up to `n` scratches (fewer, or none, while other workers hold them).
    fn take(&self, n: usize, scanner: &Scanner) -> Vec<Scratch> {
        let mut guard = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let (free, unmade) = &mut *guard;
        let mut got: Vec<Scratch> = free.drain(free.len().saturating_sub(n)..).collect();
        while got.len() < n && *unmade > 0 {
            *unmade -= 1;
            got.push(scanner.scratch());
        }
        got
    }

    fn give(&self, back: impl IntoIterator<Item = Scratch>) {
        let mut guard = self.free.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.extend(back);
    }
}

/// One walker thread's state.
struct Worker<'a> {
    scanner: &'a Arc<Scanner>,
    cfg: &'a ScanConfig,
    counters: &'a Counters,
    tx: &'a Sender<Event>,
    /// This worker's scratch; while a file of `--parallel-threshold` bytes is scanned, followed
    /// by the spares it is cut across.
    scratches: Vec<Scratch>,
    spares: &'a Spares,
    buf: Vec<u8>,
}

impl<'a> Worker<'a> {
    fn new(
        scanner: &'a Arc<Scanner>,
        cfg: &'a ScanConfig,
        counters: &'a Counters,
        tx: &'a Sender<Event>,
        spares: &'a Spares,
    ) -> Worker<'a> {
        Worker {
            scanner,
            cfg,
            counters,
            tx,
            scratches: vec![scanner.scratch()],
            spares,
            buf: Vec::new(),
        }
    }

    fn warn(&self, msg: String) -> WalkState {
        if self.tx.send(Event::Warning(msg)).is_err() {
            WalkState::Quit
        } else {
            WalkState::Continue
        }
    }

    fn fail(&self, path: &Path, err: impl std::fmt::Display) -> WalkState {
        self.counters.error();
        self.warn(format!("{}: {err}", path.display()))
    }

    fn stream(&self, path: &Path) -> WalkState {
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) => return self.fail(path, e),
        };
        let name = display_path(path);
        if super::stream::scan_stream(f, &name, self.scanner, self.cfg, self.counters, self.tx) {
            WalkState::Continue
        } else {
            WalkState::Quit
        }
    }

    fn file(&mut self, path: &Path) -> WalkState {
        match File::open(path) {
            Ok(f) => self.open_file(f, &display_path(path)),
            Err(e) => self.fail(path, e),
        }
    }

    /// Scan the open regular file `f`, reported as `name`.
    fn open_file(&mut self, f: File, name: &str) -> WalkState {
        let mut f = f;
        let path = Path::new(name);
        let len = match f.metadata() {
            Ok(m) => m.len(),
            Err(e) => return self.fail(path, e),
        };
        if len > self.cfg.max_filesize {
            self.counters.skipped(SkipReason::TooLarge);
            return WalkState::Continue;
        }
        let map;
        let data: &[u8] = if len >= self.cfg.mmap_threshold {
            // SAFETY: the map is only read, and only while `f` is open in this function. Another
            // process truncating the file meanwhile could fault the read (SIGBUS), the same risk
            // that ripgrep accepts for its mmap searcher; leakhound never writes to scanned files.
            map = match unsafe { Mmap::map(&f) } {
                Ok(m) => m,
                Err(e) => return self.fail(path, e),
            };
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            &map
        } else if len == 0 {
            // A size of 0 may be wrong (`/proc` files report it): read to the end.
            self.buf.clear();
            if let Err(e) = f.read_to_end(&mut self.buf) {
                return self.fail(path, e);
            }
            &self.buf
        } else {
            // The size is known: read that much into the reused buffer (whose length is what
            // was ever written of it, so nothing is zeroed twice), without the size probes and
            // the final empty read of `read_to_end`: open, stat, read, close, four system calls
            // for a small file instead of seven. A file that grows meanwhile is scanned as it
            // was when it was opened.
            let want = usize::try_from(len).unwrap_or(usize::MAX);
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            let mut got = 0;
            while got < want {
                match f.read(&mut self.buf[got..want]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return self.fail(path, e),
                }
            }
            &self.buf[..got]
        };
        if len >= self.cfg.parallel_threshold {
            let want = self.cfg.threads.saturating_sub(1);
            self.scratches.extend(self.spares.take(want, self.scanner));
        }
        let mut out = Output::default();
        Layers {
            scanner: self.scanner,
            cfg: self.cfg,
            counters: self.counters,
        }
        .scan_split(&mut self.scratches, name, data, &mut out);
        if self.scratches.len() > 1 {
            self.spares.give(self.scratches.drain(1..));
        }
        if !send_output(self.tx, out) {
            return WalkState::Quit;
        }
        WalkState::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn spares_are_bounded_and_lent_once() {
        let scanner = Scanner::new(Arc::new(RuleSet::builtin().unwrap()));
        let spares = Spares::new(3);
        let a = spares.take(5, &scanner);
        assert_eq!(a.len(), 2, "at most threads - 1 are made");
        assert!(spares.take(2, &scanner).is_empty(), "all are lent out");
        spares.give(a);
        assert_eq!(spares.take(1, &scanner).len(), 1);
        assert_eq!(
            spares.take(5, &scanner).len(),
            1,
            "one left, none more made"
        );
        assert!(
            Spares::new(1).take(4, &scanner).is_empty(),
            "one thread: no spares"
        );
    }
}
