//! `leakhound scan` and `leakhound git`: the source runs on its own thread and sends events;
//! this thread applies the policy and writes the report (with a progress spinner on a terminal).

use super::*;

pub(super) fn run_scan(args: ScanArgs) -> Result<u8> {
    let cfg = ScanConfig {
        mmap_threshold: args.mmap_threshold,
        parallel_threshold: args.parallel_threshold,
        follow_links: args.follow,
        respect_gitignore: args.respect_gitignore,
        ..scan_config(&args.out)
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // The scan root: the one directory given, or else the current directory.
    let root = match paths.as_slice() {
        [p] if p.is_dir() => p.clone(),
        _ => PathBuf::from("."),
    };
    let scope = Scope {
        source: "files".into(),
        paths: paths.iter().map(|p| source::display_path(p)).collect(),
        ..Scope::default()
    };
    // A single missing path is a usage error; with several, each missing one is a warning.
    if let [p] = paths.as_slice() {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    run_pipeline(
        &args.rules,
        &args.out,
        &args.policy,
        PolicyRoot {
            dir: Some(root.clone()),
            prefix: source::display_path(&root),
            scope,
        },
        cfg,
        move |scanner, cfg, counters, tx| {
            let (stdin, files): (Vec<_>, Vec<_>) =
                paths.into_iter().partition(|p| p.as_os_str() == "-");
            if !stdin.is_empty() {
                let listening = match source::fs::scan_stdin_file(scanner, cfg, counters, tx) {
                    Some(listening) => listening,
                    None => {
                        source::stream::enlarge_stdin_pipe();
                        source::stream::scan_stream(
                            io::stdin(),
                            "<stdin>",
                            scanner,
                            cfg,
                            counters,
                            tx,
                        )
                    }
                };
                if !listening {
                    return Ok(());
                }
            }
            source::fs::scan_paths(&files, scanner, cfg, counters, tx);
            Ok(())
        },
    )
}

pub(super) fn run_git(args: GitArgs) -> Result<u8> {
    let cfg = scan_config(&args.out);
    let repo = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let scope = GitScope {
        branches: args.branches.clone(),
        range: args.range.clone(),
        since: args.since.clone(),
        all_objects: args.all_objects,
        all_occurrences: args.all_occurrences,
    };
    let summary_scope = Scope {
        source: "git".into(),
        paths: vec![source::display_path(&repo)],
        refs: args.branches.clone(),
        range: args.range.clone(),
        since: args.since.clone(),
        ..Scope::default()
    };
    run_pipeline(
        &args.rules,
        &args.out,
        &args.policy,
        PolicyRoot {
            dir: leakhound::policy::work_tree_root(&repo),
            prefix: String::new(),
            scope: summary_scope,
        },
        cfg,
        move |scanner, cfg, counters, tx| {
            source::git::scan_history(&repo, &scope, scanner, cfg, counters, tx)?;
            Ok(())
        },
    )
}

/// The source function of a pipeline: enumerate inputs and scan them, sending events to `tx`.
type SourceFn =
    dyn FnOnce(&Arc<Scanner>, &ScanConfig, &Arc<Counters>, &Sender<Event>) -> Result<()> + Send;

/// Where a scan's policy file is looked for and what the summary says was scanned.
struct PolicyRoot {
    /// The directory whose `.leakhound.toml` applies (none for a bare repository).
    dir: Option<PathBuf>,
    /// The scan root as reported paths spell it; allowlist path globs are relative to it.
    prefix: String,
    /// The scope for the summary (rules, policy files, baseline and date are filled in here).
    scope: Scope,
}

/// Load rules, run `source` on its own thread and report its events on this one; the exit code.
fn run_pipeline(
    rule_args: &RuleArgs,
    args: &OutputArgs,
    policy_args: &PolicyArgs,
    root: PolicyRoot,
    mut cfg: ScanConfig,
    source: impl FnOnce(&Arc<Scanner>, &ScanConfig, &Arc<Counters>, &Sender<Event>) -> Result<()>
        + Send
        + 'static,
) -> Result<u8> {
    let discovered = root
        .dir
        .as_ref()
        .map(|d| {
            if d.as_os_str() == "." {
                PathBuf::from(POLICY_FILE)
            } else {
                d.join(POLICY_FILE)
            }
        })
        .filter(|p| !policy_args.no_policy_file && p.is_file())
        // Named with --config too: read it once.
        .filter(|p| {
            let canon = std::fs::canonicalize(p).ok();
            !rule_args
                .config
                .iter()
                .any(|c| std::fs::canonicalize(c).ok() == canon)
        });
    let rules = load_rules(rule_args, discovered.as_deref())?;
    let mut policy = Policy::empty();
    for f in rule_args.config.iter().chain(&discovered) {
        policy.merge(Policy::load(f)?);
    }
    let today = policy_args.today.unwrap_or_else(Date::today);
    if !args.quiet {
        // Expiring entries are listed in the summary; an expired one deserves a warning now.
        for w in policy.review(today).iter().filter(|w| w.expired) {
            eprintln!("leakhound: warning: {w}");
        }
    }
    let policy = Arc::new(policy);
    cfg.findings.policy = Some(Arc::clone(&policy));
    let mut enforcer = EnforcerBuilder::new();
    enforcer
        .today(today)
        .fail_on(policy_args.fail_on.severity())
        .root(&root.prefix);
    if let Some(b) = &policy_args.baseline {
        enforcer.baseline(Baseline::load(b)?);
    }
    let mut enforcer = enforcer.build(Arc::clone(&policy));
    let mut baseline_out = policy_args
        .baseline_out
        .as_ref()
        .map(|_| BaselineWriter::new());
    let scope = Scope {
        rules_version: Scope::rules_version(&rules),
        policy_files: policy.files().to_vec(),
        baseline: policy_args
            .baseline
            .as_ref()
            .map(|b| source::display_path(b)),
        ..root.scope
    };
    let scanner = Arc::new(Scanner::new(Arc::clone(&rules)));
    let (out, to_terminal): (Box<dyn Write + Send>, bool) = match &args.output {
        Some(p) => (
            Box::new(io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("{}", p.display()))?,
            )),
            false,
        ),
        None => (
            Box::new(io::BufWriter::new(io::stdout())),
            io::stdout().is_terminal(),
        ),
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
    };
    let mut reporter = report::reporter(format, out, color, Arc::clone(&rules));

    let counters = Arc::new(Counters::default());
    let (tx, rx) = bounded::<Event>(256);
    let start = Instant::now();
    let worker = {
        let (scanner, counters) = (Arc::clone(&scanner), Arc::clone(&counters));
        let source: Box<SourceFn> = Box::new(source);
        std::thread::Builder::new()
            .name("leakhound-source".into())
            .spawn(move || source(&scanner, &cfg, &counters, &tx))
            .context("starting the scan thread")?
    };
    let progress = Progress::start(
        !args.no_progress
            && !args.quiet
            && io::stderr().is_terminal()
            && std::env::var_os("CI").is_none(),
        Arc::clone(&counters),
    );

    let show_suppressed = policy_args.show_suppressed || format == Format::Sarif;
    let mut findings = 0u64;
    let mut write_error = None;
    for event in rx.iter() {
        let written = match event {
            Event::Findings(found) => {
                let split = enforcer.apply(found);
                findings += split.reported.len() as u64;
                if let Some(w) = &mut baseline_out {
                    w.add(&split.reported);
                    w.add(&split.baselined);
                }
                reporter.findings(&split.reported).and_then(|()| {
                    if show_suppressed && !split.suppressed.is_empty() {
                        reporter.suppressed(&split.suppressed)
                    } else {
                        Ok(())
                    }
                })
            }
            Event::Occurrences(map) => reporter.occurrences(&map),
            Event::Warning(msg) => {
                if !args.quiet {
                    progress.suspend(|| eprintln!("leakhound: {msg}"));
                }
                Ok(())
            }
        };
        if let Err(e) = written {
            write_error = Some(e);
            break;
        }
    }
    drop(rx);
    let source_result = worker
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the scan thread panicked")));
    progress.finish();
    if let Some(e) = write_error {
        return Err(e).context("writing results");
    }
    source_result?;
    let stats = counters.stats(start.elapsed(), findings);
    let summary = enforcer.summary(scope);
    reporter.summary(&summary).context("writing results")?;
    reporter.finish(&stats).context("writing results")?;
    if let (Some(w), Some(path)) = (&baseline_out, &policy_args.baseline_out) {
        w.write(path)?;
        if !args.quiet {
            eprintln!(
                "leakhound: wrote a baseline of {} finding(s) to {}",
                w.len(),
                path.display()
            );
        }
    }
    if !args.quiet && format == Format::Human {
        eprintln!(
            "leakhound: {} finding(s) in {} file(s), {} scanned in {:.2}s ({} MB/s); skipped {} binary, {} too large, {} LFS pointers, {} over archive limits; {} error(s)",
            stats.findings,
            stats.files_scanned,
            human_bytes(stats.bytes_scanned),
            stats.duration_ms as f64 / 1000.0,
            stats.throughput_mb_s,
            stats.skipped.binary,
            stats.skipped.too_large,
            stats.skipped.lfs_pointer,
            stats.skipped.archive_limit,
            stats.errors,
        );
        for line in summary.lines() {
            eprintln!("leakhound: {line}");
        }
    }
    Ok(if enforcer.gate_failed() {
        args.exit_code
    } else if stats.errors > 0 {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    })
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A spinner on stderr with files and bytes scanned, for terminals only.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<(crossbeam_channel::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    fn start(enabled: bool, counters: Arc<Counters>) -> Progress {
        if !enabled {
            return Progress {
                bar: None,
                ticker: None,
            };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .expect("the template is valid"),
        );
        let (stop, stopped) = bounded::<()>(0);
        let b = bar.clone();
        let handle = std::thread::spawn(move || loop {
            let files = counters.files.load(std::sync::atomic::Ordering::Relaxed);
            let bytes = counters.bytes.load(std::sync::atomic::Ordering::Relaxed);
            b.set_message(format!("{files} files, {}", human_bytes(bytes)));
            b.tick();
            if stopped.recv_timeout(Duration::from_millis(100)).is_ok()
                || matches!(
                    stopped.try_recv(),
                    Err(crossbeam_channel::TryRecvError::Disconnected)
                )
            {
                return;
            }
        });
        Progress {
            bar: Some(bar),
            ticker: Some((stop, handle)),
        }
    }

    fn suspend(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    fn finish(self) {
        if let Some((stop, handle)) = self.ticker {
            drop(stop);
            let _ = handle.join();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
