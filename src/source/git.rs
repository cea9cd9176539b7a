//! Git history: every blob reachable from every ref (or from the refs and range asked for), each
//! scanned once, with the commit that introduced it.
//!
//! One enumerator walks the commits oldest first (topological, then time) and diffs each commit's
//! tree against its parents': a `(path, blob)` that no parent has at that path is *introduced* by
//! that commit. The first time a blob id is seen it goes, with that commit and path (its
//! provenance), on a bounded channel to N workers; each worker opens its own repository handle
//! (libgit2 handles are not shared across threads), reads and decompresses the blob, and scans it.
//! Later occurrences of the same blob are only recorded, for `--all-occurrences`.
//!
//! Safety: the repository is opened read-only in effect: nothing is checked out, no index or lock
//! file is written, blobs are read raw (no filters, no textconv, no hooks run).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::{bounded, Sender};
use git2::{ObjectType, Oid, Repository, Sort};
use serde::Serialize;

use crate::content::{Layers, Output};
use crate::engine::Scanner;
use crate::scan::{Counters, Event, ScanConfig, SkipReason};

/// What part of the history to scan.
#[derive(Clone, Debug, Default)]
pub struct GitScope {
    /// Start from these refs only (default: every ref).
    pub branches: Vec<String>,
    /// Only commits in `A..B`.
    pub range: Option<String>,
    /// Only commits after this: a date (`YYYY-MM-DD`, committer time, UTC) or a revision (its
    /// history is excluded, as in `REV..`).
    pub since: Option<String>,
    /// Also walk commits no ref reaches (dangling), and scan unreachable blobs.
    pub all_objects: bool,
    /// List every commit and path that holds a reported blob.
    pub all_occurrences: bool,
}

/// A commit, as findings cite it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CommitInfo {
    /// Full hex id.
    pub commit: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, ISO 8601 with offset.
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

/// Where else a reported blob occurs (`--all-occurrences`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Occurrence {
    /// Commit id.
    pub commit: String,
    /// Path in that commit.
    pub path: String,
}

/// A problem that stops the whole history scan (the repository cannot be opened or walked).
#[derive(Debug)]
pub struct GitError {
    /// What failed, naming the repository or ref.
    pub msg: String,
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for GitError {}

fn git_err(what: &str, e: git2::Error) -> GitError {
    GitError {
        msg: format!("{what}: {}", e.message()),
    }
}

struct Job {
    oid: Oid,
    path: String,
    commit: Arc<CommitInfo>,
}

/// Scan the history of the repository at `repo_path`. Findings go to `tx` as blobs are scanned;
/// per-object problems are warnings. Returns the later occurrences of blobs when asked for.
pub fn scan_history(
    repo_path: &Path,
    scope: &GitScope,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Arc<Counters>,
    tx: &Sender<Event>,
) -> Result<(), GitError> {
    tune_libgit2();
    let repo = Repository::open_ext(
        repo_path,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|e| git_err(&repo_path.display().to_string(), e))?;
    let git_dir = repo.path().to_path_buf();
    if repo.is_shallow() {
        let _ = tx.send(Event::Warning(format!(
            "{}: shallow clone: history before the shallow boundary is not scanned",
            repo_path.display()
        )));
    }
    let (jobs_tx, jobs_rx) = bounded::<Job>(1024);
    let workers: Vec<_> = (0..cfg.threads.max(1))
        .map(|_| {
            let (jobs_rx, tx, scanner, counters, cfg, git_dir) = (
                jobs_rx.clone(),
                tx.clone(),
                Arc::clone(scanner),
                Arc::clone(counters),
                cfg.clone(),
                git_dir.clone(),
            );
            std::thread::spawn(move || {
                let repo = match Repository::open(&git_dir) {
                    Ok(r) => r,
                    Err(e) => {
                        counters.error();
                        let _ = tx.send(Event::Warning(format!(
                            "{}: {}",
                            git_dir.display(),
                            e.message()
                        )));
                        return;
                    }
                };
                let mut scratch = scanner.scratch();
                for job in jobs_rx {
                    if !scan_blob(&repo, &job, &scanner, &mut scratch, &cfg, &counters, &tx) {
                        return;
                    }
                }
            })
        })
        .collect();
    drop(jobs_rx);
    let walked = walk(&repo, scope, &jobs_tx, counters, tx);
    drop(jobs_tx);
    for w in workers {
        let _ = w.join();
    }
    let occurrences = walked?;
    if scope.all_occurrences && !occurrences.is_empty() {
        let _ = tx.send(Event::Occurrences(occurrences));
    }
    Ok(())
}

/// Process-wide libgit2 settings for scanning: objects are only read, once each.
pub(crate) fn tune_libgit2() {
    // Objects are only read, to be scanned: re-hashing every object on read (libgit2's default,
    // with SHA-1 collision detection) would cost a third of the scan. A corrupt object still
    // fails to inflate and is reported.
    git2::opts::strict_hash_verification(false);
    // Every blob and tree is read once (the walk skips trees it has seen), so libgit2's object
    // cache, one per repository handle, would only cost memory.
    git2::opts::enable_caching(false);
    // SAFETY: this sets a libgit2 global option before any repository is opened here; nothing
    // else in the process uses libgit2 concurrently at this point. It caps the pack windows
    // mapped at once, so a multi-GB pack is not mapped whole.
    unsafe {
        let _ = git2::opts::set_mwindow_mapped_limit(256 << 20);
    }
}

/// Read and scan one blob; false if the reporter hung up.
fn scan_blob(
    repo: &Repository,
    job: &Job,
    scanner: &Scanner,
    scratch: &mut crate::engine::Scratch,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) -> bool {
    match blob_findings(repo, job.oid, &job.path, scanner, scratch, cfg, counters) {
        Ok(mut out) => {
            for f in &mut out.findings {
                f.git = Some((*job.commit).clone());
                f.blob = Some(job.oid.to_string());
            }
            super::send_output(tx, out)
        }
        Err(e) => {
            counters.error();
            tx.send(Event::Warning(format!(
                "blob {} ({} in {}): {}",
                job.oid,
                job.path,
                job.commit.commit.get(..12).unwrap_or(&job.commit.commit),
                e.message()
            )))
            .is_ok()
        }
    }
}

/// Read the blob `oid` and scan it as the file `path`, through archives and encodings: the
/// findings (without git provenance) and warnings about skipped parts. The size and LFS checks
/// here, and the binary check in [`Layers`], count what they skip. An object that cannot be read
/// is an error for the caller to report (it is not counted here).
pub(crate) fn blob_findings(
    repo: &Repository,
    oid: Oid,
    path: &str,
    scanner: &Scanner,
    scratch: &mut crate::engine::Scratch,
    cfg: &ScanConfig,
    counters: &Counters,
) -> Result<Output, git2::Error> {
    let odb = repo.odb()?;
    let (size, _) = odb.read_header(oid)?;
    if size as u64 > cfg.max_filesize {
        counters.skipped(SkipReason::TooLarge);
        return Ok(Output::default());
    }
    let blob = repo.find_blob(oid)?;
    let data = blob.content();
    if data.starts_with(b"version https://git-lfs.github.com/spec/") {
        counters.skipped(SkipReason::LfsPointer);
        return Ok(Output::default());
    }
    let mut out = Output::default();
    Layers {
        scanner,
        cfg,
        counters,
    }
    .scan(scratch, path, data, &mut out);
    Ok(out)
}

/// Walk the commits in scope oldest first, send each new blob to the workers, and return every
/// later `(blob, commit, path)` occurrence of blobs already sent.
fn walk(
    repo: &Repository,
    scope: &GitScope,
    jobs: &Sender<Job>,
    counters: &Counters,
    tx: &Sender<Event>,
) -> Result<HashMap<String, Vec<Occurrence>>, GitError> {
    let mut rw = repo.revwalk().map_err(|e| git_err("revwalk", e))?;
    rw.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(|e| git_err("revwalk", e))?;
    if let Some(range) = &scope.range {
        rw.push_range(range)
            .map_err(|e| git_err(&format!("range '{range}'"), e))?;
    } else if !scope.branches.is_empty() {
        for b in &scope.branches {
            let obj = repo
                .revparse_single(b)
                .map_err(|e| git_err(&format!("ref '{b}'"), e))?;
            let commit = obj
                .peel_to_commit()
                .map_err(|e| git_err(&format!("ref '{b}'"), e))?;
            rw.push(commit.id()).map_err(|e| git_err("revwalk", e))?;
        }
    } else {
        push_all_refs(repo, &mut rw, tx);
    }
    if scope.all_objects {
        push_all_commits(repo, &mut rw);
    }
    let since_time = match &scope.since {
        None => None,
        Some(s) => match parse_date(s) {
            Some(t) => Some(t),
            None => {
                let rev = repo
                    .revparse_single(s)
                    .and_then(|o| o.peel_to_commit())
                    .map_err(|e| {
                        git_err(&format!("--since '{s}' (neither a date nor a revision)"), e)
                    })?;
                rw.hide(rev.id()).map_err(|e| git_err("revwalk", e))?;
                None
            }
        },
    };
    let order: Vec<Oid> = rw
        .filter_map(|oid| match oid {
            Ok(o) => Some(o),
            Err(e) => {
                counters.error();
                let _ = tx.send(Event::Warning(format!("revwalk: {}", e.message())));
                None
            }
        })
        .collect();
    let in_walk: HashSet<Oid> = order.iter().copied().collect();
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut seen_trees: HashSet<Oid> = HashSet::new();
    let mut later: HashMap<String, Vec<Occurrence>> = HashMap::new();
    for oid in order {
        let commit = match repo.find_commit(oid) {
            Ok(c) => c,
            Err(e) => {
                counters.error();
                let _ = tx.send(Event::Warning(format!("commit {oid}: {}", e.message())));
                continue;
            }
        };
        // A parent outside the walk (a range's boundary): what it holds is not introduced here.
        for p in commit.parents() {
            if !in_walk.contains(&p.id()) {
                if let Ok(t) = p.tree() {
                    let _ = walk_tree(repo, t.id(), &mut seen_trees, &mut |blob, _| {
                        seen.insert(blob);
                    });
                }
            }
        }
        if since_time.is_some_and(|t| commit.time().seconds() < t) {
            // Before the window: what it holds is not introduced by a commit in scope.
            let _ = walk_tree(repo, commit.tree_id(), &mut seen_trees, &mut |blob, _| {
                seen.insert(blob);
            });
            continue;
        }
        let info = Arc::new(commit_info(&commit));
        let mut stop = false;
        let result = walk_tree(
            repo,
            commit.tree_id(),
            &mut seen_trees,
            &mut |blob, path| {
                if stop {
                    return;
                }
                if seen.insert(blob) {
                    let job = Job {
                        oid: blob,
                        path,
                        commit: Arc::clone(&info),
                    };
                    stop = jobs.send(job).is_err();
                } else if scope.all_occurrences {
                    later.entry(blob.to_string()).or_default().push(Occurrence {
                        commit: info.commit.clone(),
                        path,
                    });
                }
            },
        );
        if let Err(e) = result {
            counters.error();
            let _ = tx.send(Event::Warning(format!("commit {oid}: {}", e.message())));
        }
        if stop {
            return Ok(later);
        }
    }
    if scope.all_objects {
        scan_unreachable_blobs(repo, &seen, jobs);
    }
    Ok(later)
}

fn push_all_refs(repo: &Repository, rw: &mut git2::Revwalk<'_>, tx: &Sender<Event>) {
    let Ok(refs) = repo.references() else {
        return;
    };
    for r in refs {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Event::Warning(format!("ref: {}", e.message())));
                continue;
            }
        };
        let name = r.name().unwrap_or("(non-UTF-8 ref)").to_string();
        match r.peel(ObjectType::Commit) {
            Ok(c) => {
                let _ = rw.push(c.id());
            }
            Err(e) => {
                // Refs to trees or blobs (rare) are skipped; a broken ref is worth a warning.
                if e.code() != git2::ErrorCode::InvalidSpec {
                    let _ = tx.send(Event::Warning(format!("ref {name}: {}", e.message())));
                }
            }
        }
    }
}

/// Push every commit object in the database (dangling ones included).
fn push_all_commits(repo: &Repository, rw: &mut git2::Revwalk<'_>) {
    let Ok(odb) = repo.odb() else {
        return;
    };
    let mut commits = Vec::new();
    let _ = odb.foreach(|oid| {
        if let Ok((_, ObjectType::Commit)) = odb.read_header(*oid) {
            commits.push(*oid);
        }
        true
    });
    for c in commits {
        let _ = rw.push(c);
    }
}

/// Blobs in the database that no walked tree holds.
fn scan_unreachable_blobs(repo: &Repository, seen: &HashSet<Oid>, jobs: &Sender<Job>) {
    let Ok(odb) = repo.odb() else {
        return;
    };
    let mut blobs = Vec::new();
    let _ = odb.foreach(|oid| {
        if !seen.contains(oid) {
            if let Ok((_, ObjectType::Blob)) = odb.read_header(*oid) {
                blobs.push(*oid);
            }
        }
        true
    });
    let none = Arc::new(CommitInfo {
        commit: "0".repeat(40),
        author: String::new(),
        email: String::new(),
        date: String::new(),
        summary: "(unreachable blob: no commit holds it)".into(),
    });
    for oid in blobs {
        let job = Job {
            oid,
            path: format!("(unreachable blob {oid})"),
            commit: Arc::clone(&none),
        };
        if jobs.send(job).is_err() {
            return;
        }
    }
}

/// Visit every `(blob, path)` under the tree `root` whose subtree was not visited before (by this
/// or an earlier call sharing `seen_trees`). Walking commits oldest first, the first commit whose
/// tree holds a blob at a path is the one that introduced it there; a subtree seen before holds
/// nothing new, so each unique tree is read once for the whole history. Submodule gitlinks and
/// symbolic links are not file content and are skipped.
fn walk_tree(
    repo: &Repository,
    root: Oid,
    seen_trees: &mut HashSet<Oid>,
    visit: &mut dyn FnMut(Oid, String),
) -> Result<(), git2::Error> {
    let mut stack = vec![(root, String::new())];
    while let Some((oid, prefix)) = stack.pop() {
        if !seen_trees.insert(oid) {
            continue;
        }
        let tree = repo.find_tree(oid)?;
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes());
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            match entry.kind() {
                Some(ObjectType::Tree) => stack.push((entry.id(), path)),
                Some(ObjectType::Blob) if entry.filemode() != 0o120000 => visit(entry.id(), path),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A commit as findings cite it.
pub(crate) fn commit_info(c: &git2::Commit<'_>) -> CommitInfo {
    let a = c.author();
    let t = a.when();
    let offset = t.offset_minutes();
    CommitInfo {
        commit: c.id().to_string(),
        author: String::from_utf8_lossy(a.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(a.email_bytes()).into_owned(),
        date: iso8601(t.seconds(), offset),
        summary: String::from_utf8_lossy(c.summary_bytes().unwrap_or_default()).into_owned(),
    }
}

/// Seconds since the epoch of `YYYY-MM-DD` (UTC midnight), or `None` if `s` is not such a date.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), the inverse of `iso8601`'s.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// `YYYY-MM-DDTHH:MM:SS+HH:MM` for a Unix time and an offset in minutes.
pub fn iso8601(secs: i64, offset_min: i32) -> String {
    let local = secs + i64::from(offset_min) * 60;
    let days = local.div_euclid(86_400);
    let sod = local.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let sign = if offset_min < 0 { '-' } else { '+' };
    let o = offset_min.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        o / 60,
        o % 60
    )
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn parse_dates() {
        use super::parse_date;
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(951_868_800));
        assert_eq!(
            iso8601(parse_date("2024-02-29").unwrap(), 0),
            "2024-02-29T00:00:00+00:00"
        );
        assert_eq!(parse_date("main"), None);
        assert_eq!(parse_date("2024-13-01"), None);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_700_000_000, 60), "2023-11-14T23:13:20+01:00");
        assert_eq!(iso8601(951_782_400, -300), "2000-02-28T19:00:00-05:00");
    }
}
