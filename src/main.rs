//! The `leakhound` command: argument parsing, wiring sources to the reporter, exit codes. All the
//! work lives in the library.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use crossbeam_channel::{bounded, Sender};

use leakhound::archive;
use leakhound::finding::FindingOptions;
use leakhound::report::{self, Format};
use leakhound::rules::{check, Confidence, RuleSet, RuleSetBuilder};
use leakhound::scan::{Counters, Event, ScanConfig};
use leakhound::source;
use leakhound::source::git::GitScope;
use leakhound::Scanner;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
directories and endless streams.\n\nExit codes: 0 no findings; 1 findings (see --exit-code); \
2 error (bad arguments or rules, or inputs that could not be read while nothing was found)."
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
    /// List or check rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List the rules in effect: id, severity, confidence, keywords, name.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Compile rules and run every example and negative example through the engine.
    /// With no FILE, checks the built-in rules.
    Check {
        /// Rule files to check instead of the built-in rules.
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct RuleArgs {
    /// Add the rules of a TOML rule file (repeatable).
    #[arg(long = "config", short = 'c', value_name = "FILE")]
    config: Vec<PathBuf>,
    /// Use only the rules from --config files, not the built-in ones.
    #[arg(long)]
    no_builtin_rules: bool,
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
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
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
    #[arg(long, value_name = "SIZE", default_value = "512M", value_parser = parse_size)]
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
    /// Memory-map files at least this large; read smaller ones (for measuring the crossover).
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size, hide = true)]
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

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&s[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("'{s}' is not a size (examples: 4096, 512K, 100M, 2G)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(args),
        Command::Git(args) => run_git(args),
        Command::Rules { command } => run_rules(command),
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

fn load_rules(args: &RuleArgs) -> Result<Arc<RuleSet>> {
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
    for f in &args.config {
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
    // A single missing path is a usage error; with several, each missing one is a warning.
    if let [p] = paths.as_slice() {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    run_pipeline(
        &args.rules,
        &args.out,
        cfg,
        move |scanner, cfg, counters, tx| {
            let (stdin, files): (Vec<_>, Vec<_>) =
                paths.into_iter().partition(|p| p.as_os_str() == "-");
            if !stdin.is_empty() {
                source::stream::enlarge_stdin_pipe();
                if !source::stream::scan_stream(io::stdin(), "<stdin>", scanner, cfg, counters, tx)
                {
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
    run_pipeline(
        &args.rules,
        &args.out,
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

/// Load rules, run `source` on its own thread and report its events on this one; the exit code.
fn run_pipeline(
    rule_args: &RuleArgs,
    args: &OutputArgs,
    cfg: ScanConfig,
    source: impl FnOnce(&Arc<Scanner>, &ScanConfig, &Arc<Counters>, &Sender<Event>) -> Result<()>
        + Send
        + 'static,
) -> Result<u8> {
    let rules = load_rules(rule_args)?;
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

    let mut findings = 0u64;
    let mut write_error = None;
    for event in rx.iter() {
        let written = match event {
            Event::Findings(found) => {
                findings += found.len() as u64;
                reporter.findings(&found)
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
    reporter.finish(&stats).context("writing results")?;
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
    }
    Ok(if stats.findings > 0 {
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

fn run_rules(cmd: RulesCommand) -> Result<u8> {
    match cmd {
        RulesCommand::List { rules, json } => {
            let set = load_rules(&rules)?;
            let mut out = io::BufWriter::new(io::stdout().lock());
            if json {
                let list: Vec<_> = set
                    .rules()
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "name": r.name, "severity": r.severity,
                            "confidence": r.confidence, "keywords": r.keywords, "file": r.file,
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut out, &list)?;
                writeln!(out)?;
            } else {
                for r in set.rules() {
                    writeln!(
                        out,
                        "{:<40} {:<9} {:<7} {:<40} {}",
                        r.id,
                        r.severity.as_str(),
                        r.confidence.as_str(),
                        r.keywords.join(","),
                        r.name
                    )?;
                }
                writeln!(out, "{} rules", set.len())?;
            }
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Check { files } => {
            let set = if files.is_empty() {
                RuleSet::builtin()?
            } else {
                let mut b = RuleSetBuilder::new();
                b.builtin(false);
                for f in &files {
                    b.add_file(f)?;
                }
                b.build()?
            };
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
