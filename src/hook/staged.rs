//! `pre-commit`: scan what is staged. The index is compared with `HEAD` (with git's own index
//! file, `GIT_INDEX_FILE`, which `git commit -a` and `git commit <path>` point at a temporary
//! index); each added or changed blob is scanned, and a finding counts only when it lies on a
//! line the commit adds or changes, so a secret committed long ago (a job for the history audit
//! and a baseline) does not block every later commit touching that file.

use std::ops::RangeInclusive;
use std::sync::Arc;

use git2::{Delta, DiffOptions, Oid, Repository};

use super::HookError;
use crate::engine::Scanner;
use crate::finding::Finding;
use crate::scan::{Counters, ScanConfig};
use crate::source::git::blob_findings;

/// One staged file: its new blob and, when it changed, the blob it replaces.
#[derive(Clone, Debug)]
pub struct StagedFile {
    /// Path in the work tree.
    pub path: String,
    /// The staged blob.
    pub new: Oid,
    /// The blob in `HEAD`, if the file existed there.
    pub old: Option<Oid>,
}

fn repo_err(what: &str, e: git2::Error) -> HookError {
    HookError::Repo {
        path: what.to_string(),
        msg: e.message().to_string(),
    }
}

/// The files staged in `repo`'s index that differ from `HEAD` (all of them before the first
/// commit). Deletions, symbolic links and submodules hold no content to scan.
pub fn staged_files(repo: &Repository) -> Result<Vec<StagedFile>, HookError> {
    let head_tree = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().map_err(|e| repo_err("HEAD", e))?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(repo_err("HEAD", e)),
    };
    let index = repo.index().map_err(|e| repo_err("index", e))?;
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(true);
    let diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
        .map_err(|e| repo_err("index", e))?;
    let mut out = Vec::new();
    for d in diff.deltas() {
        if !matches!(
            d.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let new = d.new_file();
        if new.mode() != git2::FileMode::Blob && new.mode() != git2::FileMode::BlobExecutable {
            continue;
        }
        let old = d.old_file();
        let old = (d.status() != Delta::Added
            && matches!(
                old.mode(),
                git2::FileMode::Blob | git2::FileMode::BlobExecutable
            ))
        .then(|| old.id());
        let path = new
            .path_bytes()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        out.push(StagedFile {
            path,
            new: new.id(),
            old,
        });
    }
    Ok(out)
}

/// The line ranges (1-based, inclusive) of `new` that are added or changed relative to `old`.
fn added_lines(
    repo: &Repository,
    old: Option<Oid>,
    new: Oid,
) -> Result<Vec<RangeInclusive<u64>>, git2::Error> {
    let Some(old) = old else {
        return Ok(vec![1..=u64::MAX]);
    };
    let (old, new) = (repo.find_blob(old)?, repo.find_blob(new)?);
    let mut opts = DiffOptions::new();
    opts.context_lines(0).force_text(true);
    let patch = git2::Patch::from_blobs(&old, None, &new, None, Some(&mut opts))?;
    let mut out = Vec::new();
    for h in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(h)?;
        if hunk.new_lines() > 0 {
            let start = u64::from(hunk.new_start());
            out.push(start..=start + u64::from(hunk.new_lines()) - 1);
        }
    }
    Ok(out)
}

/// Scan the staged files of `repo`: findings on added or changed lines, and warnings for blobs
/// that could not be read.
pub fn scan_staged(
    repo: &Repository,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
) -> Result<(Vec<Finding>, Vec<String>), HookError> {
    let files = staged_files(repo)?;
    let mut scratch = scanner.scratch();
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    for f in files {
        let found = match blob_findings(repo, f.new, &f.path, scanner, &mut scratch, cfg, counters)
        {
            Ok(mut out) => {
                warnings.append(&mut out.warnings);
                out.findings
            }
            Err(e) => {
                counters.error();
                warnings.push(format!(
                    "{} (staged blob {}): {}",
                    f.path,
                    f.new,
                    e.message()
                ));
                continue;
            }
        };
        if found.is_empty() {
            continue;
        }
        let ranges = match added_lines(repo, f.old, f.new) {
            Ok(r) => r,
            // Without a diff, every finding in the file counts: better a stale report than a miss.
            Err(_) => vec![1..=u64::MAX],
        };
        findings.extend(found.into_iter().filter(|x| {
            ranges
                .iter()
                .any(|r| *r.start() <= x.end_line && x.line <= *r.end())
        }));
    }
    Ok((findings, warnings))
}
