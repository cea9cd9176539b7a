//! The `leakhound` command: argument parsing, wiring sources to the reporter, exit codes. All the
//! work lives in the library.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use crossbeam_channel::{bounded, Sender};

use leakhound::archive;
use leakhound::finding::FindingOptions;
use leakhound::hook::{self, install::HookKind, push::RepoLocation, HookSettings, PushCheck};
use leakhound::policy::baseline::BaselineWriter;
use leakhound::policy::{Baseline, Date, EnforcerBuilder, Policy, Scope, POLICY_FILE};
use leakhound::report::{self, audit, Format};
use leakhound::rules::{check, Confidence, RuleSet, RuleSetBuilder, Severity};
use leakhound::scan::{Counters, Event, ScanConfig};
use leakhound::source;
use leakhound::source::git::GitScope;
use leakhound::Scanner;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keep the heap on small pages, also where transparent huge pages are on for every mapping
/// (`always`; the `no_thp` feature of mimalloc covers `madvise`). A huge page is 2 MiB of memory
/// touched and zeroed at its first write: a worker's buffers and regex caches rounded up to huge
/// pages doubled the peak RSS of a scan and cost time in short runs such as the hooks.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer argument and changes no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Exit code: no findings.
const EXIT_CLEAN: u8 = 0;
/// Exit code: an error stopped the scan, or some inputs could not be read and nothing was found.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "leakhound",
    version,
    about = "A high-throughput streaming secrets and pattern scanner",
    long_about = "leakhound finds leaked credentials, and any pattern you define, in files, \
directories and endless streams.\n\nExit codes: 0 no findings at or above --fail-on; 1 findings \
that fail the gate (see --exit-code); 2 error (bad arguments, rules or policy, or inputs that \
could not be read while nothing failed the gate)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files, directories or stdin (`-`) for secrets.
    Scan(ScanArgs),
    /// Scan the full history of a git repository: every blob on every ref, each once.
    Git(GitArgs),
    /// Git hooks: block secrets in pushes (server or client) and commits.
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },
    /// List or check rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Check a policy file.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Turn a saved json result into a summary table, JSON summary or HTML page.
    Report(ReportArgs),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy file (default: ./.leakhound.toml): unknown keys, bad globs or regexes,
    /// entries without a reason, entries past expiry (errors) or expiring within 30 days
    /// (warnings), and its rules' examples. Errors name the line.
    Check {
        /// The policy file.
        file: Option<PathBuf>,
        /// Judge expiry on this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE", hide = true, value_parser = parse_date)]
        today: Option<Date>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
    Html,
}

#[derive(Args)]
struct ReportArgs {
    /// A result written by `scan -f json` or `git -f json`.
    result: PathBuf,
    /// table (for people), json (the summary, for machines) or html (one self-contained page).
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    format: ReportFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Policy, baseline and gate options shared by `scan` and `git`.
#[derive(Args)]
struct PolicyArgs {
    /// Report only findings whose fingerprint is not in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the findings of this scan (all not suppressed, baselined or not) as a baseline.
    #[arg(long, value_name = "FILE")]
    baseline_out: Option<PathBuf>,
    /// Fail (exit with --exit-code) only for findings at or above this severity; findings below
    /// it are still reported.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value = "low")]
    fail_on: SeverityArg,
    /// Also list suppressed findings, each with the reason that suppressed it (SARIF always
    /// carries them, marked as suppressed).
    #[arg(long)]
    show_suppressed: bool,
    /// Do not read the .leakhound.toml found at the scan root.
    #[arg(long)]
    no_policy_file: bool,
    /// Judge exception expiry on this date (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE", hide = true, value_parser = parse_date)]
    today: Option<Date>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityArg {
    fn severity(self) -> Severity {
        match self {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

#[derive(Subcommand)]
enum HookCommand {
    /// Server side: read git's pre-receive input on stdin and reject a push that adds a secret.
    #[command(
        long_about = "Server side: read git's pre-receive input on stdin and reject a push \
that adds a secret.\n\nScans only what the push introduces (commits no existing ref reaches, blobs \
the repository did not have), including objects still in the push quarantine. Settings come from \
the [hook] table of the --config file(s) or of $LEAKHOUND_HOOK_CONFIG. Exit 0 accepts, 1 rejects."
    )]
    PreReceive(HookArgs),
    /// Client side (git's pre-push hook): scan the commits the remote does not have yet.
    PrePush {
        /// The remote's name (git passes it).
        remote: Option<String>,
        /// The remote's URL (git passes it; unused).
        url: Option<String>,
        #[command(flatten)]
        args: HookArgs,
    },
    /// Client side (git's pre-commit hook): scan the staged changes.
    PreCommit(HookArgs),
    /// Write a hook script into a repository's hooks directory.
    Install {
        /// The repository (default: the current directory).
        repo: Option<PathBuf>,
        /// Install the pre-commit hook (the default).
        #[arg(long, group = "kind")]
        pre_commit: bool,
        /// Install the pre-push hook.
        #[arg(long, group = "kind")]
        pre_push: bool,
        /// Install the server-side pre-receive hook (into a bare repository).
        #[arg(long, group = "kind")]
        pre_receive: bool,
        /// Pass this config file to the hook.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Replace an existing hook.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
struct HookArgs {
    #[command(flatten)]
    rules: RuleArgs,
    /// Time budget (overrides the config's [hook] timeout), e.g. 4s, 500ms.
    #[arg(long, value_name = "DURATION", value_parser = leakhound::hook::parse_duration)]
    timeout: Option<Duration>,
    /// Show secrets in clear in the hook's messages (default: redacted).
    #[arg(long)]
    no_redact: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List the rules in effect: id, severity, confidence, keywords, name, and the pack or file
    /// each comes from.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Compile rules and run every example and negative example through the engine.
    /// With no FILE, checks the built-in rules (and the packs named with --pack).
    Check {
        /// Rule files to check instead of the built-in rules.
        files: Vec<PathBuf>,
        /// Also check the rules of this opt-in pack (repeatable).
        #[arg(long = "pack", value_name = "NAME")]
        packs: Vec<String>,
    },
}

#[derive(Args)]
struct RuleArgs {
    /// Add the rules, and the allowlist if it has one, of a TOML rule or policy file
    /// (repeatable). Scans also read .leakhound.toml at the scan root unless --no-policy-file.
    #[arg(long = "config", short = 'c', value_name = "FILE")]
    config: Vec<PathBuf>,
    /// Use only the rules from --config files (and --pack), not the built-in ones.
    #[arg(long)]
    no_builtin_rules: bool,
    /// Turn on an opt-in rule pack, off by default (repeatable): pii, infra.
    #[arg(long = "pack", value_name = "NAME")]
    packs: Vec<String>,
    /// Turn off a rule by id (repeatable).
    #[arg(long = "disable-rule", value_name = "ID")]
    disable: Vec<String>,
    /// Use only rules of at least this confidence.
    #[arg(long, value_enum, default_value = "low")]
    min_confidence: ConfidenceArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum ConfidenceArg {
    Low,
    Medium,
    High,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Jsonl,
    Sarif,
}

/// Output and resource options shared by `scan` and `git`.
#[derive(Args)]
struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    format: FormatArg,
    /// Write results to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Show secrets in clear in every format (default: redacted).
    #[arg(long)]
    no_redact: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// Skip files (or blobs) larger than SIZE (bytes, or with K, M, G suffix).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = leakhound::scan::parse_size)]
    max_filesize: u64,
    /// Scan files that look binary (a NUL byte in the first 8 KiB).
    #[arg(long)]
    binary: bool,
    /// Exit code when there are findings.
    #[arg(long, value_name = "CODE", default_value_t = 1)]
    exit_code: u8,
    /// When to colour human output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Print no summary or warnings on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Decode base64, hex and percent-encoded runs and scan what they hold, searching decoded
    /// content again up to N layers deep (0: no decoding).
    #[arg(long, value_name = "N", default_value_t = leakhound::decode::DEFAULT_MAX_DEPTH)]
    max_decode_depth: u32,
    /// Unpack archives and compressed files nested up to N deep (a .tar.gz is 2; 0: none).
    #[arg(long, value_name = "N", default_value_t = archive::DEFAULT_MAX_DEPTH)]
    max_archive_depth: u32,
    /// Stop unpacking an input once it has decompressed to SIZE in all.
    #[arg(long, value_name = "SIZE", default_value = "512M", value_parser = leakhound::scan::parse_size)]
    max_archive_bytes: u64,
    /// Stop unpacking a stream or member that grows more than N times its compressed size
    /// (checked past 1 MiB; a decompression bomb).
    #[arg(long, value_name = "N", default_value_t = archive::DEFAULT_MAX_RATIO)]
    max_archive_ratio: u64,
}

#[derive(Args)]
struct ScanArgs {
    /// Files or directories to scan; `-` reads stdin. Default: the current directory.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Memory-map files at least this large; read smaller ones (for measuring the crossover).
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = leakhound::scan::parse_size, hide = true)]
    mmap_threshold: u64,
    /// Follow symbolic links.
    #[arg(long, short = 'L')]
    follow: bool,
    /// Skip files ignored by .gitignore and git's exclude files (default: scan them, since
    /// ignored files such as .env are where secrets live).
    #[arg(long)]
    respect_gitignore: bool,
}

#[derive(Args)]
struct GitArgs {
    /// The repository (work tree or bare). Default: the current directory.
    repo: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Scan only history reachable from REF (repeatable). Default: every ref.
    #[arg(long = "branch", value_name = "REF")]
    branches: Vec<String>,
    /// Scan only the commits of A..B and the blobs they introduce.
    #[arg(long, value_name = "A..B")]
    range: Option<String>,
    /// Scan only commits after a date (YYYY-MM-DD, committer time) or after a revision.
    #[arg(long, value_name = "DATE|REV")]
    since: Option<String>,
    /// Also scan objects no ref reaches (dangling commits, unreachable blobs).
    #[arg(long)]
    all_objects: bool,
    /// List every commit and path that holds each reported blob, not only the first.
    #[arg(long)]
    all_occurrences: bool,
}

fn main() -> ExitCode {
    no_huge_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Git(args) => run_git(args),
        Command::Hook { command } => run_hook(command),
        Command::Rules { command } => run_rules(command),
        Command::Policy { command } => run_policy(command),
        Command::Report(args) => run_report(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_CLEAN);
            }
            eprintln!("leakhound: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Load rules from the built-ins, `--config` files and `policy_file` (the discovered
/// `.leakhound.toml`, if any).
fn load_rules(args: &RuleArgs, policy_file: Option<&std::path::Path>) -> Result<Arc<RuleSet>> {
    let mut b = RuleSetBuilder::new();
    b.builtin(!args.no_builtin_rules);
    b.min_confidence(match args.min_confidence {
        ConfidenceArg::Low => Confidence::Low,
        ConfidenceArg::Medium => Confidence::Medium,
        ConfidenceArg::High => Confidence::High,
    });
    for id in &args.disable {
        b.disable(id);
    }
    for p in &args.packs {
        b.pack(p)?;
    }
    for f in args.config.iter().map(PathBuf::as_path).chain(policy_file) {
        b.add_file(f)?;
    }
    for w in b.warnings() {
        eprintln!("leakhound: warning: {w}");
    }
    let set = b.build()?;
    if set.is_empty() {
        bail!("no rules to scan with");
    }
    Ok(Arc::new(set))
}

fn scan_config(out: &OutputArgs) -> ScanConfig {
    let defaults = ScanConfig::default();
    ScanConfig {
        threads: out.threads.unwrap_or(defaults.threads),
        max_filesize: out.max_filesize,
        binary: out.binary,
        findings: FindingOptions {
            no_redact: out.no_redact,
            policy: None,
        },
        decode_depth: out.max_decode_depth,
        archive: archive::Limits {
            max_depth: out.max_archive_depth,
            max_bytes: out.max_archive_bytes,
            max_ratio: out.max_archive_ratio.max(1),
        },
        ..defaults
    }
}

fn run_scan(args: ScanArgs) -> Result<u8> {
    let cfg = ScanConfig {
        mmap_threshold: args.mmap_threshold,
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

fn run_git(args: GitArgs) -> Result<u8> {
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

fn run_hook(cmd: HookCommand) -> Result<u8> {
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

fn run_rules(cmd: RulesCommand) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules, json } => {
            let set = load_rules(&rules, None)?;
            let mut out = io::BufWriter::new(io::stdout().lock());
            if json {
                let list: Vec<_> = set
                    .rules()
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "name": r.name, "severity": r.severity,
                            "confidence": r.confidence, "keywords": r.keywords, "file": r.file,
                            "pack": r.pack,
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &list)?;
                writeln!(out)?;
            } else {
                for r in set.rules() {
                    let from = match &r.pack {
                        Some(p) => format!("pack:{p}"),
                        None => r.file.clone(),
                    };
                    writeln!(
                        out,
                        "{:<40} {:<9} {:<7} {:<40} {} [{from}]",
                        r.id,
                        r.severity.as_str(),
                        r.confidence.as_str(),
                        r.keywords.join(","),
                        r.name,
                    )?;
                }
                writeln!(out, "{} rules", set.len())?;
            }
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Check { files, packs } => {
            let mut b = RuleSetBuilder::new();
            b.builtin(files.is_empty());
            for p in &packs {
                b.pack(p)?;
            }
            for f in &files {
                b.add_file(f)?;
            }
            let set = b.build()?;
            let report = check::check(&set);
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            println!(
                "{} rules, {} examples: {}",
                report.rules,
                report.examples,
                if report.ok() {
                    "ok".to_string()
                } else {
                    format!("{} error(s)", report.errors.len())
                }
            );
            Ok(if report.ok() { EXIT_CLEAN } else { 1 })
        }
    }
}

fn run_policy(cmd: PolicyCommand) -> Result<u8> {
    let PolicyCommand::Check { file, today } = cmd;
    let file = file.unwrap_or_else(|| PathBuf::from(POLICY_FILE));
    let name = file.display().to_string();
    let policy = match Policy::load(&file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    let mut b = RuleSetBuilder::new();
    b.builtin(false);
    let rules = match b.add_file(&file).and_then(|b| b.build()) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    for w in b.warnings() {
        eprintln!("warning: {w}");
    }
    // A rule id that no rule has (built-in or in the file) is most likely a typo: the entry
    // would never match on it.
    let builtin = RuleSet::builtin()?;
    for e in policy.entries() {
        for id in &e.rules {
            let known = |set: &RuleSet| set.rules().iter().any(|r| r.id == *id);
            if !known(&builtin) && !known(&rules) {
                eprintln!(
                    "warning: {}: allowlist entry names rule '{id}', which no rule has",
                    e.label()
                );
            }
        }
    }
    let today = today.unwrap_or_else(Date::today);
    let mut errors = 0;
    for note in policy.review(today) {
        if note.expired {
            errors += 1;
            eprintln!("error: {note}");
        } else {
            eprintln!("warning: {note}");
        }
    }
    if !rules.is_empty() {
        eprintln!("note: the rules compile; `leakhound rules check {name}` runs their examples");
    }
    println!(
        "{name}: {} allowlist entr{}, {} rule(s), hook settings: {}: {}",
        policy.entries().len(),
        if policy.entries().len() == 1 {
            "y"
        } else {
            "ies"
        },
        rules.len(),
        if policy.hook().is_some() { "yes" } else { "no" },
        if errors == 0 {
            "ok".to_string()
        } else {
            format!("{errors} error(s)")
        }
    );
    Ok(if errors == 0 { EXIT_CLEAN } else { 1 })
}

fn run_report(args: ReportArgs) -> Result<u8> {
    let name = args.result.display().to_string();
    let text = std::fs::read_to_string(&args.result).with_context(|| name.clone())?;
    let doc = audit::ResultDoc::parse(&name, &text)?;
    let out = match args.format {
        ReportFormat::Table => audit::table(&doc),
        ReportFormat::Json => {
            let mut s = serde_json::to_string_pretty(&audit::summary_json(&doc))?;
            s.push('\n');
            s
        }
        ReportFormat::Html => audit::html(&doc),
    };
    match &args.output {
        Some(p) => std::fs::write(p, out).with_context(|| p.display().to_string())?,
        None => {
            let mut so = io::stdout().lock();
            so.write_all(out.as_bytes())?;
            so.flush()?;
        }
    }
    Ok(EXIT_CLEAN)
}
