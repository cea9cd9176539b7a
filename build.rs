//! Embeds every `patterns/*.toml` rule file, and every opt-in pack (`patterns/packs/*.toml`),
//! into the binary, so that it works standalone, with the facts a scan needs about each rule's
//! regex (capture groups, longest match, keyword lead, whether it spans lines, derived keywords),
//! computed here by the same code the library uses (`src/rules/analysis.rs`), and a JSON copy of
//! each file without its examples. A scan then parses no regex and no TOML to load the built-in
//! rules, which was most of its start-up; a built-in rule with an invalid regex fails the build.

use std::{env, fmt::Write as _, fs, path::Path};

#[allow(dead_code)]
#[path = "src/rules/analysis.rs"]
mod analysis;

fn main() {
    let root = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).to_path_buf();
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    println!("cargo:rerun-if-changed=src/rules/analysis.rs");
    // The default rules, then the opt-in packs (one file per pack, named after it).
    let builtin = embed(&root.join("patterns"), "");
    fs::write(out_dir.join("builtin_rules.rs"), builtin).expect("OUT_DIR is writable");
    let packs = embed(&root.join("patterns").join("packs"), "packs/");
    fs::write(out_dir.join("builtin_packs.rs"), packs).expect("OUT_DIR is writable");
}

/// The `.toml` files of `dir`, sorted by name, as the source of a
/// `&[(file name, contents, lean JSON copy, &[BuiltinFacts])]` constant; `prefix` goes before
/// each file name in build errors (`patterns/<prefix><name>`).
fn embed(dir: &Path, prefix: &str) -> String {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("patterns/ and patterns/packs/ exist in the package")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        let text = fs::read_to_string(path).expect("rule files are UTF-8");
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?}), {:?}, &[",
            name,
            path.display().to_string(),
            lean(&text),
        );
        for rule in rules(&format!("{prefix}{name}"), &text) {
            out.push_str(&rule);
        }
        out.push_str("    ]),\n");
    }
    out.push(']');
    out
}

/// The file as JSON without its rules' examples, which only `rules check` reads: a scan loads
/// this copy, parsed in a small part of the time the TOML takes (three quarters of a process's
/// instructions went to parsing the rule files when it scanned one small file). Empty when the
/// file does not parse, or holds a date (which JSON cannot carry): the loader then reads the
/// TOML and reports any problem itself.
fn lean(text: &str) -> String {
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else {
        return String::new();
    };
    fn has_date(v: &toml::Value) -> bool {
        match v {
            toml::Value::Datetime(_) => true,
            toml::Value::Array(a) => a.iter().any(has_date),
            toml::Value::Table(t) => t.values().any(has_date),
            _ => false,
        }
    }
    if let Some(rules) = table.get_mut("rules").and_then(|r| r.as_array_mut()) {
        for r in rules.iter_mut().filter_map(|r| r.as_table_mut()) {
            r.remove("examples");
            r.remove("negative_examples");
        }
    }
    if table.values().any(has_date) {
        return String::new();
    }
    serde_json::to_string(&table).expect("a TOML table without dates is JSON")
}

/// One `BuiltinFacts { .. },` per rule of a file, in file order. Rules whose shape is wrong are
/// left to the library's loader, which reports them with its own messages (and the tests fail).
fn rules(file: &str, text: &str) -> Vec<String> {
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(_) => return Vec::new(),
    };
    let Some(rules) = table.get("rules").and_then(|r| r.as_array()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in rules {
        let id = r.get("id").and_then(|v| v.as_str()).unwrap_or("");
        let Some(pattern) = r.get("regex").and_then(|v| v.as_str()) else {
            // No facts: the loader parses it and reports the problem.
            out.push("        BuiltinFacts { id: \"\", groups: 0, max_len: None, lead: None, multiline: false, derived_keywords: &[], head: &[], line_start: false },\n".into());
            continue;
        };
        let declared: Vec<String> = r
            .get("keywords")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let hir = analysis::parse_pattern(pattern)
            .unwrap_or_else(|e| panic!("patterns/{file}: rule '{id}': {e}"));
        for allowed in r
            .get("allowlist")
            .and_then(|a| a.get("regexes"))
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(p) = allowed.as_str() {
                if let Err(e) = analysis::parse_pattern(p) {
                    panic!("patterns/{file}: rule '{id}': allowlist: {e}");
                }
            }
        }
        let keywords = analysis::normalize_keywords(&declared)
            .unwrap_or_else(|e| panic!("patterns/{file}: rule '{id}': {e}"));
        let f = analysis::analyze(&hir, &keywords);
        out.push(format!(
            "        BuiltinFacts {{ id: {id:?}, groups: {}, max_len: {:?}, lead: {:?}, multiline: {}, derived_keywords: &{:?}, head: &{:?}, line_start: {} }},\n",
            f.groups, f.max_len, f.lead, f.multiline, f.derived_keywords, f.head, f.line_start
        ));
    }
    out
}
