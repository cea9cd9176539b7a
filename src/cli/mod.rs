//! The command line: arguments (clap), the dispatch of each command, and what the commands
//! share (loading rules, the scan options). Part of the binary, not of the library, and the only
//! place `anyhow` is used: library errors are typed, and become messages here.
//!
//! - [`scan`]: `scan` and `git`: a source on its own thread, the reporter on this one.
//! - [`hooks`]: the git hooks (`pre-receive`, `pre-push`, `pre-commit`) and their installer.
//! - [`commands`]: `rules`, `policy` and `report`.

mod commands;
mod hooks;
mod scan;

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
    /// Worker threads (default: all cores; one fewer for a stream from a pipe or FIFO, whose
    /// producer needs a core too).
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
    /// Cut a file at least this large into one part per thread (for tests and measurements).
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = leakhound::scan::parse_size, hide = true)]
    parallel_threshold: u64,
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

/// Parse the command line, run the command and turn its result into the exit code.
pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run_scan(args),
        Command::Git(args) => scan::run_git(args),
        Command::Hook { command } => hooks::run_hook(command),
        Command::Rules { command } => commands::run_rules(command),
        Command::Policy { command } => commands::run_policy(command),
        Command::Report(args) => commands::run_report(args),
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
    b.builtin(!args.no_builtin_rules).examples(false);
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
    let set = Arc::new(set);
    // Never freed: a process scans with one rule set to its end, and freeing the compiled
    // regexes (their NFAs and DFAs) was 6% of the instructions of a scan of 128 small files, a
    // cost every hook call would pay on its way out.
    std::mem::forget(Arc::clone(&set));
    Ok(set)
}

fn scan_config(out: &OutputArgs) -> ScanConfig {
    let defaults = ScanConfig::default();
    ScanConfig {
        threads: out.threads.unwrap_or(defaults.threads),
        threads_asked: out.threads.is_some(),
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
