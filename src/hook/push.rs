//! What a push introduces, and scanning it: the blobs of the commits that a set of ref updates
//! adds to a repository, each scanned once, with the commit that introduced it.
//!
//! The walk starts from each update's new value (annotated tags peeled) and stops at every commit
//! the repository already had (each existing ref is hidden, as in `git rev-list NEW --not
//! --all`). Each new commit is diffed against its first parent, recursing only into subtrees whose
//! id changed; a merge keeps only paths that differ from every parent. A blob is scanned at most
//! once per push, attributed to the oldest new commit that holds it, and not at all when the
//! repository held it before the push: during `pre-receive` the pushed objects sit in a
//! quarantine directory, so a blob found in the repository's own object store was there before.
//!
//! Nothing here writes to the repository; blobs are read raw (no filters, no hooks).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository, Sort, Tree};

use super::protocol::RefUpdate;
use super::HookError;
use crate::engine::Scanner;
use crate::finding::Finding;
use crate::scan::{Counters, ScanConfig};
use crate::source::git::{blob_findings, commit_info, CommitInfo};

/// Where a hook finds the repository and the objects of the push.
#[derive(Clone, Debug, Default)]
pub struct RepoLocation {
    /// The repository's git directory.
    pub git_dir: PathBuf,
    /// Object directories to read besides the repository's own: the push quarantine
    /// (`GIT_QUARANTINE_PATH`, `GIT_OBJECT_DIRECTORY`) and `GIT_ALTERNATE_OBJECT_DIRECTORIES`.
    pub extra_objects: Vec<PathBuf>,
    /// Whether `extra_objects` holds everything the push brought (a quarantine): then any
    /// object found in the repository's own store existed before the push.
    pub quarantined: bool,
}

impl RepoLocation {
    /// Open a handle that sees the repository and the pushed objects.
    pub fn open(&self) -> Result<Repository, HookError> {
        let repo = Repository::open(&self.git_dir).map_err(|e| HookError::Repo {
            path: self.git_dir.display().to_string(),
            msg: e.message().to_string(),
        })?;
        if !self.extra_objects.is_empty() {
            let odb = repo.odb().map_err(|e| HookError::Repo {
                path: self.git_dir.display().to_string(),
                msg: e.message().to_string(),
            })?;
            for dir in &self.extra_objects {
                odb.add_disk_alternate(&dir.to_string_lossy())
                    .map_err(|e| HookError::Repo {
                        path: dir.display().to_string(),
                        msg: e.message().to_string(),
                    })?;
            }
        }
        Ok(repo)
    }

    /// A handle on the repository as it was before the push (its own object store only), when
    /// the push is quarantined.
    pub(crate) fn open_before(&self) -> Option<Repository> {
        if self.quarantined {
            Repository::open(&self.git_dir).ok()
        } else {
            None
        }
    }
}

/// One blob the push introduces.
#[derive(Clone, Debug)]
pub struct NewBlob {
    /// The blob.
    pub oid: Oid,
    /// Its path in `commit`.
    pub path: String,
    /// The oldest pushed commit that holds it there.
    pub commit: Arc<CommitInfo>,
}

/// What a push introduces.
#[derive(Debug, Default)]
pub struct PushContent {
    /// New commits, oldest first.
    pub commits: usize,
    /// New blobs, in commit order.
    pub blobs: Vec<NewBlob>,
    /// Problems with single objects (each names it); the rest was enumerated.
    pub warnings: Vec<String>,
}

fn repo_err(what: impl Into<String>, e: git2::Error) -> HookError {
    HookError::Repo {
        path: what.into(),
        msg: e.message().to_string(),
    }
}

/// Enumerate what `updates` bring into the repository, hiding every commit reachable from
/// `known` (the refs the receiving side already has).
pub fn enumerate(
    repo: &Repository,
    before: Option<&Repository>,
    updates: &[RefUpdate],
    known: &[Oid],
) -> Result<PushContent, HookError> {
    let mut out = PushContent::default();
    let mut rw = repo.revwalk().map_err(|e| repo_err("revwalk", e))?;
    rw.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(|e| repo_err("revwalk", e))?;
    let mut pushed = 0;
    let mut seen: HashSet<Oid> = HashSet::new();
    let before_odb = before.and_then(|r| r.odb().ok());
    let existed = |oid: Oid| before_odb.as_ref().is_some_and(|o| o.exists(oid));
    for u in updates.iter().filter(|u| !u.is_delete()) {
        let oid = Oid::from_str(&u.new).map_err(|e| repo_err(u.name.clone(), e))?;
        let obj = repo
            .find_object(oid, None)
            .map_err(|e| repo_err(format!("{} ({})", u.name, u.new), e))?;
        // Peeling with `Any` turns a tag into what it names, but a commit into its tree.
        let target = if obj.kind() == Some(ObjectType::Tag) {
            obj.peel(ObjectType::Any)
                .map_err(|e| repo_err(format!("{} ({})", u.name, u.new), e))?
        } else {
            obj
        };
        match target.kind() {
            Some(ObjectType::Commit) => {
                rw.push(target.id()).map_err(|e| repo_err("revwalk", e))?;
                pushed += 1;
            }
            Some(ObjectType::Tag) | None | Some(ObjectType::Any) => {}
            // A tag of a tree or a blob: its content is pushed without a commit.
            Some(ObjectType::Tree | ObjectType::Blob) => {
                let info = Arc::new(CommitInfo {
                    commit: u.new.clone(),
                    author: String::new(),
                    email: String::new(),
                    date: String::new(),
                    summary: format!("({} points at a {})", u.name, kind_name(target.kind())),
                });
                let mut visit = |blob: Oid, path: String| {
                    if !existed(blob) && seen.insert(blob) {
                        out.blobs.push(NewBlob {
                            oid: blob,
                            path,
                            commit: Arc::clone(&info),
                        });
                    }
                };
                if target.kind() == Some(ObjectType::Blob) {
                    visit(target.id(), format!("({})", u.name));
                } else if let Some(tree) = target.as_tree() {
                    diff_trees(repo, None, tree, "", &mut visit)
                        .map_err(|e| repo_err(u.name.clone(), e))?;
                }
            }
        }
    }
    if pushed == 0 {
        return Ok(out);
    }
    for k in known {
        // A known ref whose commit is missing is the repository's problem, not the push's.
        let _ = rw.hide(*k);
    }
    for u in updates.iter().filter(|u| !u.is_create() && !u.is_delete()) {
        if let Ok(old) = Oid::from_str(&u.old) {
            let _ = rw.hide(old);
        }
    }
    for oid in rw {
        let oid = oid.map_err(|e| repo_err("revwalk", e))?;
        let commit = match repo.find_commit(oid) {
            Ok(c) => c,
            Err(e) => {
                out.warnings.push(format!("commit {oid}: {}", e.message()));
                continue;
            }
        };
        out.commits += 1;
        let info = Arc::new(commit_info(&commit));
        let tree = match commit.tree() {
            Ok(t) => t,
            Err(e) => {
                out.warnings.push(format!("commit {oid}: {}", e.message()));
                continue;
            }
        };
        let parents: Vec<Tree<'_>> = commit.parents().filter_map(|p| p.tree().ok()).collect();
        let mut visit = |blob: Oid, path: String| {
            // In a merge, a path that matches any other parent is not new here.
            let in_other_parent = parents.iter().skip(1).any(|p| {
                p.get_path(std::path::Path::new(&path))
                    .is_ok_and(|e| e.id() == blob)
            });
            if !in_other_parent && !existed(blob) && seen.insert(blob) {
                out.blobs.push(NewBlob {
                    oid: blob,
                    path,
                    commit: Arc::clone(&info),
                });
            }
        };
        if let Err(e) = diff_trees(repo, parents.first(), &tree, "", &mut visit) {
            out.warnings.push(format!("commit {oid}: {}", e.message()));
        }
    }
    Ok(out)
}

fn kind_name(k: Option<ObjectType>) -> &'static str {
    match k {
        Some(ObjectType::Blob) => "blob",
        Some(ObjectType::Tree) => "tree",
        Some(ObjectType::Commit) => "commit",
        Some(ObjectType::Tag) => "tag",
        _ => "object",
    }
}

/// Visit every `(blob, path)` in `new` that `old` does not hold at the same path, recursing only
/// into subtrees whose id differs. Symbolic links and submodules are not file content.
fn diff_trees(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
    prefix: &str,
    visit: &mut dyn FnMut(Oid, String),
) -> Result<(), git2::Error> {
    for entry in new.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes());
        let before = old.and_then(|t| t.get_name_bytes(entry.name_bytes()));
        if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id())?;
                let old_sub = match &before {
                    Some(b) if b.kind() == Some(ObjectType::Tree) => repo.find_tree(b.id()).ok(),
                    _ => None,
                };
                diff_trees(repo, old_sub.as_ref(), &sub, &path, visit)?;
            }
            Some(ObjectType::Blob) if entry.filemode() != 0o120000 => visit(entry.id(), path),
            _ => {}
        }
    }
    Ok(())
}

/// Every commit the repository's refs point at (peeled): what the receiving side already has.
pub fn ref_tips(repo: &Repository, prefix: Option<&str>) -> Vec<Oid> {
    let mut out = Vec::new();
    let Ok(refs) = repo.references() else {
        return out;
    };
    for r in refs.flatten() {
        if let Some(p) = prefix {
            if !r.name_bytes().starts_with(p.as_bytes()) {
                continue;
            }
        }
        if let Ok(c) = r.peel(ObjectType::Commit) {
            out.push(c.id());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The findings of scanning `blobs`, in blob order, and the warnings of blobs that could not be
/// read. Small pushes are scanned on this thread; larger ones on up to `cfg.threads` workers,
/// each with its own repository handle. Stops early (leaving the rest unscanned) once `cancel`
/// is set.
pub fn scan_blobs(
    loc: &RepoLocation,
    repo: &Repository,
    blobs: &[NewBlob],
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    cancel: &AtomicBool,
) -> (Vec<Finding>, Vec<String>) {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Finding>)>> = Mutex::new(Vec::new());
    let warnings: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let work = |repo: &Repository| {
        let mut scratch = scanner.scratch();
        let mut mine = Vec::new();
        let mut warned = Vec::new();
        loop {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(b) = blobs.get(i) else { break };
            match blob_findings(repo, b.oid, &b.path, scanner, &mut scratch, cfg, counters) {
                Ok(mut out) => {
                    warned.append(&mut out.warnings);
                    if !out.findings.is_empty() {
                        for f in &mut out.findings {
                            f.git = Some((*b.commit).clone());
                            f.blob = Some(b.oid.to_string());
                        }
                        mine.push((i, out.findings));
                    }
                }
                Err(e) => {
                    counters.error();
                    warned.push(format!(
                        "blob {} ({} in {}): {}",
                        b.oid,
                        b.path,
                        b.commit.commit.get(..12).unwrap_or(&b.commit.commit),
                        e.message()
                    ));
                }
            }
        }
        results.lock().expect("no worker panics").extend(mine);
        warnings.lock().expect("no worker panics").extend(warned);
    };
    // Below this many blobs, starting threads and opening handles costs more than it saves.
    const PARALLEL_MIN_BLOBS: usize = 64;
    let threads = if blobs.len() < PARALLEL_MIN_BLOBS {
        1
    } else {
        cfg.threads.clamp(1, blobs.len() / 16 + 1)
    };
    if threads == 1 {
        work(repo);
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads - 1 {
                s.spawn(|| match loc.open() {
                    Ok(r) => work(&r),
                    Err(e) => warnings
                        .lock()
                        .expect("no worker panics")
                        .push(e.to_string()),
                });
            }
            work(repo);
        });
    }
    let mut results = results.into_inner().expect("no worker panics");
    results.sort_by_key(|(i, _)| *i);
    let findings = results.into_iter().flat_map(|(_, f)| f).collect();
    (findings, warnings.into_inner().expect("no worker panics"))
}
