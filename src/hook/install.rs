//! `leakhound hook install`: write a small hook script into a repository's hooks directory
//! (`core.hooksPath` when set, else `<git-dir>/hooks`). An existing hook is never overwritten
//! unless asked, since it may be someone's work.

use std::path::{Path, PathBuf};

use git2::Repository;

use super::HookError;

/// Which hook to install.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// Client side, before each commit: scans what is staged.
    PreCommit,
    /// Client side, before each push: scans the commits the remote does not have.
    PrePush,
    /// Server side, for every push received.
    PreReceive,
}

impl HookKind {
    /// git's file name for the hook.
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PreCommit => "pre-commit",
            HookKind::PrePush => "pre-push",
            HookKind::PreReceive => "pre-receive",
        }
    }
}

/// Single-quote `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The script for `kind`, running `exe` (falling back to `leakhound` on `PATH` when `exe` is
/// gone), with `config` passed along when given.
pub fn script(kind: HookKind, exe: &Path, config: Option<&Path>) -> String {
    let exe = shell_quote(&exe.to_string_lossy());
    let config = config
        .map(|c| format!(" --config {}", shell_quote(&c.to_string_lossy())))
        .unwrap_or_default();
    let args = if kind == HookKind::PrePush {
        " \"$@\""
    } else {
        ""
    };
    format!(
        "#!/bin/sh\n\
         # leakhound {name} hook, written by `leakhound hook install` (leakhound {version}).\n\
         # Delete this file to remove it.\n\
         exe={exe}\n\
         [ -x \"$exe\" ] || exe=leakhound\n\
         exec \"$exe\" hook {name}{config}{args}\n",
        name = kind.file_name(),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// The hooks directory of the repository at `repo` (work tree or git dir).
pub fn hooks_dir(repo: &Path) -> Result<PathBuf, HookError> {
    let r = Repository::open(repo).map_err(|e| HookError::Repo {
        path: repo.display().to_string(),
        msg: e.message().to_string(),
    })?;
    if let Ok(cfg) = r.config() {
        if let Ok(p) = cfg.get_path("core.hooksPath") {
            let base = r.workdir().unwrap_or_else(|| r.path());
            return Ok(if p.is_absolute() { p } else { base.join(p) });
        }
    }
    Ok(r.path().join("hooks"))
}

/// Install the `kind` hook into the repository at `repo`; the path written.
pub fn install(
    repo: &Path,
    kind: HookKind,
    exe: &Path,
    config: Option<&Path>,
    force: bool,
) -> Result<PathBuf, HookError> {
    let dir = hooks_dir(repo)?;
    let io = |path: &Path, err| HookError::Io {
        path: path.display().to_string(),
        err,
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let path = dir.join(kind.file_name());
    if !force && std::fs::symlink_metadata(&path).is_ok() {
        return Err(io(
            &path,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a hook is already installed here; pass --force to replace it",
            ),
        ));
    }
    let tmp = dir.join(format!(".{}.leakhound-tmp", kind.file_name()));
    std::fs::write(&tmp, script(kind, exe, config)).map_err(|e| io(&tmp, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_quote_paths() {
        let s = script(
            HookKind::PrePush,
            Path::new("/opt/it's here/leakhound"),
            Some(Path::new("/etc/leakhound.toml")),
        );
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains(r"exe='/opt/it'\''s here/leakhound'"), "{s}");
        assert!(
            s.contains("hook pre-push --config '/etc/leakhound.toml' \"$@\""),
            "{s}"
        );
        let s = script(HookKind::PreCommit, Path::new("/x/leakhound"), None);
        assert!(s.ends_with("exec \"$exe\" hook pre-commit\n"), "{s}");
    }
}
