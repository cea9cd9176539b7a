//! Writes the CI instruction-count gate's inputs (`.ci/bench-gate`) into a directory: a source
//! tree, a tree of encoded content, one stream file, a dense log, a tiny file and a bare git repository, all generated from
//! fixed seeds by `benches/corpus` (the same bytes on every machine), plus `expected.tsv`: how
//! many findings each input must give (the secrets planted in it).
//!
//! ```sh
//! cargo run --example bench_corpus -- DIR
//! ```

#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::fs;
use std::path::Path;
use std::process::ExitCode;

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, bytes)
}

fn run(out: &Path) -> std::io::Result<()> {
    if out.exists() {
        fs::remove_dir_all(out)?;
    }
    fs::create_dir_all(out)?;
    let mut expected = String::new();

    // The directory scan: 320 files of code with as many keywords as real code, about 8 MB, 36
    // secrets (the prefilter's case); and 80 files of code full of the generic rules' keywords,
    // about 2 MB, 12 secrets (the regexes' case).
    for (dir, seed, files, keywords, secrets) in [
        ("tree", 1, 320, corpus::REALISTIC, 36),
        ("keywords", 5, 80, corpus::KEYWORD_HEAVY, 12),
    ] {
        for (path, text) in corpus::source_tree(seed, files, 24 << 10, keywords, secrets) {
            write(&out.join(dir).join(path), text)?;
        }
        expected.push_str(&format!("{dir}\t{secrets}\n"));
    }

    // Decoding: 100 files of about 24 KB of code, generated bindings, manifests with base64
    // values, PEM blocks and hex checksums; 20 secrets encoded five ways (see `encoded_tree`).
    let (tree, secrets) = corpus::encoded_tree(6, 100, 24 << 10, 20);
    for (path, bytes) in tree {
        write(&out.join("encoded").join(path), bytes)?;
    }
    expected.push_str(&format!("encoded\t{secrets}\n"));

    // The stream: another tree's files concatenated, about 4 MB, 24 secrets.
    let stream: String = corpus::source_tree(2, 160, 24 << 10, corpus::REALISTIC, 24)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    write(&out.join("stream.txt"), stream)?;
    expected.push_str("stream.txt\t24\n");

    // Dense: 2 MB of log lines, a credential every fourth line.
    let (dense, n) = corpus::log_lines(2 << 20);
    write(&out.join("dense.log"), dense)?;
    expected.push_str(&format!("dense.log\t{n}\n"));

    // Start-up: one small file with one secret.
    let mut rng = corpus::Rng::new(3);
    let tiny = format!(
        "[service]\nname = \"billing\"\n{}",
        corpus::secret_line(&mut rng)
    );
    write(&out.join("tiny.txt"), tiny)?;
    expected.push_str("tiny.txt\t1\n");

    // History: 300 commits over 60 files of about 8 KB, a secret every 10th commit.
    let (stream, secrets, _) = corpus::history(4, 300, 60, 8 << 10, 10);
    corpus::import(&out.join("repo.git"), &stream)?;
    expected.push_str(&format!("repo.git\t{secrets}\n"));

    write(&out.join("expected.tsv"), expected)
}

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: bench_corpus DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_corpus: {}: {e}", Path::new(&out).display());
            ExitCode::FAILURE
        }
    }
}
