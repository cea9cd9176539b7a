//! `leakhound hook`: the pre-receive, pre-push and pre-commit hooks, and their installer.

use super::*;

/// Exit code of a hook that rejects.
const EXIT_REJECT: u8 = 1;

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// What a hook runs with.
struct HookSetup {
    scanner: Arc<Scanner>,
    settings: HookSettings,
    cfg: ScanConfig,
    policy: Arc<Policy>,
}

/// Rules, policy and `[hook]` settings for a hook: the --config files, else
/// $LEAKHOUND_HOOK_CONFIG; for client hooks (`work_tree`), also the work tree's
/// `.leakhound.toml`. The server hook never reads a policy from the pushed content.
fn hook_setup(args: &mut HookArgs, work_tree: Option<&std::path::Path>) -> Result<HookSetup> {
    if args.rules.config.is_empty() {
        if let Some(c) = env_var("LEAKHOUND_HOOK_CONFIG") {
            args.rules.config.push(PathBuf::from(c));
        }
    }
    let mut settings = HookSettings::default();
    let mut policy = Policy::empty();
    for f in &args.rules.config {
        let text = std::fs::read_to_string(f).with_context(|| format!("{}", f.display()))?;
        settings = HookSettings::from_toml(&f.display().to_string(), &text)?;
        policy.merge(Policy::from_toml(&f.display().to_string(), &text)?);
    }
    let policy_file = work_tree
        .map(|w| w.join(POLICY_FILE))
        .filter(|p| p.is_file() && !args.rules.config.contains(p));
    if let Some(p) = &policy_file {
        policy.merge(Policy::load(p)?);
    }
    if let Some(t) = args.timeout {
        settings.timeout = t;
    }
    let rules = load_rules(&args.rules, policy_file.as_deref())?;
    let policy = Arc::new(policy);
    let defaults = ScanConfig::default();
    let cfg = ScanConfig {
        threads: args.threads.unwrap_or(defaults.threads),
        max_filesize: settings.max_blob_size,
        binary: settings.binary,
        findings: FindingOptions {
            no_redact: args.no_redact,
            policy: Some(Arc::clone(&policy)),
        },
        ..defaults
    };
    Ok(HookSetup {
        scanner: Arc::new(Scanner::new(rules)),
        settings,
        cfg,
        policy,
    })
}

/// Print a hook's outcome on stderr, log it, and turn it into the exit code.
fn finish_hook(kind: &str, outcome: &hook::Outcome, settings: &HookSettings) -> Result<u8> {
    eprint!(
        "{}",
        hook::render(outcome, settings.max_findings_shown, kind)
    );
    if let Some(log) = &settings.log_file {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let line = hook::log_line(kind, outcome, now, &env_var);
        if let Err(e) = hook::append_log(log, &line) {
            eprintln!("leakhound: warning: log: {e}");
        }
    }
    Ok(if outcome.verdict.accepts() {
        EXIT_CLEAN
    } else {
        EXIT_REJECT
    })
}

/// The repository and pushed objects of a pre-receive hook, from git's environment.
fn push_location() -> RepoLocation {
    let git_dir = PathBuf::from(env_var("GIT_DIR").unwrap_or_else(|| ".".into()));
    let mut extra = Vec::new();
    for k in ["GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY"] {
        if let Some(v) = env_var(k) {
            extra.push(PathBuf::from(v));
        }
    }
    let quarantined = !extra.is_empty();
    if let Some(alts) = env_var("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        extra.extend(std::env::split_paths(&alts));
    }
    extra.dedup();
    RepoLocation {
        git_dir,
        extra_objects: extra,
        quarantined,
    }
}

pub(super) fn run_hook(cmd: HookCommand) -> Result<u8> {
    match cmd {
        HookCommand::PreReceive(mut args) => {
            let HookSetup {
                scanner,
                settings,
                cfg,
                policy,
            } = hook_setup(&mut args, None)?;
            let mut input = Vec::new();
            io::stdin()
                .read_to_end(&mut input)
                .context("reading stdin")?;
            let updates = hook::protocol::parse_pre_receive(&input)?;
            let check = PushCheck {
                location: push_location(),
                settings: settings.clone(),
                scanner,
                scan: cfg,
                push_options: hook::protocol::push_options(&env_var),
                known_prefix: None,
                policy,
            };
            let outcome = check.run(updates)?;
            finish_hook("push", &outcome, &settings)
        }
        HookCommand::PrePush {
            remote,
            args: mut a,
            ..
        } => {
            let repo = git2::Repository::open_from_env().context("opening the repository")?;
            let HookSetup {
                scanner,
                settings,
                cfg,
                policy,
            } = hook_setup(&mut a, repo.workdir())?;
            let mut input = Vec::new();
            io::stdin()
                .read_to_end(&mut input)
                .context("reading stdin")?;
            let updates: Vec<_> = hook::protocol::parse_pre_push(&input)?
                .into_iter()
                .map(|p| p.update)
                .collect();
            // What the remote is known to have: its remote-tracking refs. A push to a URL
            // rather than a named remote has none of its own; every remote-tracking ref is the
            // closest approximation (never the local branches, which hold what is pushed).
            let known_prefix = Some(match remote {
                Some(r) if !r.contains('/') && !r.contains(':') => format!("refs/remotes/{r}/"),
                _ => "refs/remotes/".to_string(),
            });
            let check = PushCheck {
                location: RepoLocation {
                    git_dir: repo.path().to_path_buf(),
                    extra_objects: Vec::new(),
                    quarantined: false,
                },
                settings: settings.clone(),
                scanner,
                scan: cfg,
                push_options: Vec::new(),
                known_prefix,
                policy,
            };
            let outcome = check.run(updates)?;
            finish_hook("push", &outcome, &settings)
        }
        HookCommand::PreCommit(mut args) => {
            let start = Instant::now();
            let repo = git2::Repository::open_from_env().context("opening the repository")?;
            let HookSetup {
                scanner,
                settings,
                cfg,
                policy,
            } = hook_setup(&mut args, repo.workdir())?;
            let counters = Counters::default();
            let (found, warnings) = hook::staged::scan_staged(&repo, &scanner, &cfg, &counters)?;
            let (findings, suppressed) = hook::apply_policy(&policy, settings.inline_allow, found);
            let outcome = hook::Outcome {
                suppressed,
                verdict: if findings.is_empty() {
                    hook::Verdict::Accept
                } else {
                    hook::Verdict::Reject
                },
                findings,
                warnings,
                refs: 0,
                commits: 0,
                blobs: counters.files.load(std::sync::atomic::Ordering::Relaxed) as usize,
                bytes: counters.bytes.load(std::sync::atomic::Ordering::Relaxed),
                bypass_refused: false,
                elapsed: start.elapsed(),
            };
            finish_hook("commit", &outcome, &settings)
        }
        HookCommand::Install {
            repo,
            pre_commit: _,
            pre_push,
            pre_receive,
            config,
            force,
        } => {
            let kind = if pre_push {
                HookKind::PrePush
            } else if pre_receive {
                HookKind::PreReceive
            } else {
                HookKind::PreCommit
            };
            let repo = repo.unwrap_or_else(|| PathBuf::from("."));
            let exe = std::env::current_exe().context("locating the leakhound binary")?;
            let config = match config {
                Some(c) => {
                    Some(std::fs::canonicalize(&c).with_context(|| format!("{}", c.display()))?)
                }
                None => None,
            };
            let path = hook::install::install(&repo, kind, &exe, config.as_deref(), force)?;
            println!("installed {} hook: {}", kind.file_name(), path.display());
            if kind == HookKind::PreReceive {
                println!(
                    "to let pushers skip the scan with `git push -o leakhound.skip=<reason>`, set allow_bypass = true under [hook] and run `git config receive.advertisePushOptions true` in the repository"
                );
            }
            Ok(EXIT_CLEAN)
        }
    }
}
