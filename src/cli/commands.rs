//! `leakhound rules`, `leakhound policy` and `leakhound report`.

use super::*;

pub(super) fn run_rules(cmd: RulesCommand) -> Result<u8> {
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

pub(super) fn run_policy(cmd: PolicyCommand) -> Result<u8> {
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

pub(super) fn run_report(args: ReportArgs) -> Result<u8> {
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
