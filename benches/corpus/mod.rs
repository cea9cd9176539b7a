//! Deterministic benchmark inputs, shared by the criterion benches (`benches/*.rs`, as a module)
//! and the CI instruction-count gate (`examples/bench_corpus.rs` writes them to disk for
//! `.ci/bench-gate`).
//!
//! Everything is generated from fixed seeds with a xorshift generator, so two runs on any machine
//! produce the same bytes, and every credential is generated here at run time (none is stored in
//! the repository). Each generator returns how many secrets it planted, which is exactly the
//! number of findings a correct scan reports:
//!
//! - [`code`]: code-like text (functions, comments, config lookups, URLs) with a chosen share of
//!   identifiers holding the generic rules' keywords (`token`, `password`, `secret`, `api_key`)
//!   but no secret, so the prefilter hits and the regexes run but nothing matches: as few as in
//!   real code ([`REALISTIC`]) or as many as in a secrets scanner's own source.
//! - [`source_tree`]: files of that text in nested directories, with secrets planted in some.
//! - [`log_lines`]: log lines with a credential every fourth line (the dense case).
//! - [`history`]: a `git fast-import` stream of a few hundred commits editing such a tree, with
//!   secrets added in their own files and deleted some commits later.

#![allow(dead_code)]

use leakhound::verify::{base62, entropy};

/// A xorshift64 generator: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An AWS access key id (above the rule's entropy floor).
pub fn aws_key_id(rng: &mut Rng) -> String {
    loop {
        let id = format!("{}{}", "AK", "IA") + &rng.chars(16, B32);
        if entropy(id.as_bytes()) >= 3.3 {
            return id;
        }
    }
}

/// A classic GitHub token with a valid checksum.
pub fn github_token(rng: &mut Rng) -> String {
    let body = rng.chars(30, B62);
    let crc = base62(u64::from(crc32fast::hash(body.as_bytes())), 6);
    format!("{}{body}{crc}", "ghp_")
}

/// One line that plants one secret, in one of three shapes.
pub fn secret_line(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("    aws_access_key_id = \"{}\"\n", aws_key_id(rng)),
        1 => format!("    let client = Client::new(\"{}\");\n", github_token(rng)),
        _ => loop {
            let pw = rng.chars(20, B62);
            if entropy(pw.as_bytes()) >= 3.5 {
                break format!("    db_password = \"{pw}\"\n");
            }
        },
    }
}

/// Identifiers that hold a generic rule's keyword (`token`, `password`, `secret`, ...).
const KEYWORD_IDENTS: &[&str] = &[
    "token",
    "password",
    "secret",
    "api_key",
    "access_token",
    "private_key",
    "credential",
    "session_token",
];
/// Identifiers that hold none.
const PLAIN_IDENTS: &[&str] = &[
    "config", "client", "request", "response", "session", "user", "account", "buffer", "reader",
    "handle", "timeout", "retries", "endpoint", "offset", "index", "count", "entry", "node",
    "state", "value", "parser", "output", "writer", "cursor", "limit", "header", "record",
];
const TYPES: &[&str] = &[
    "String",
    "u64",
    "Vec<u8>",
    "Option<String>",
    "bool",
    "Duration",
];
const WORDS: &[&str] = &[
    "the",
    "value",
    "is",
    "read",
    "from",
    "environment",
    "and",
    "never",
    "logged",
    "when",
    "rotate",
    "every",
    "request",
    "retries",
    "with",
    "backoff",
    "cache",
    "expires",
    "after",
    "buffer",
    "grows",
    "server",
    "returns",
    "error",
    "missing",
    "offset",
    "length",
    "node",
];

/// How many of [`code`]'s identifiers hold a keyword, in percent: at 10, a directory scan costs
/// about the instructions per byte of real Rust and C code (65 against 63 for 6 MB of the
/// vendored crates of `benches/macro.sh`, under valgrind, start-up subtracted); at 100 (a secrets
/// scanner's own source) it costs 6.5 times that.
pub const REALISTIC: usize = 10;
pub const KEYWORD_HEAVY: usize = 100;

/// Code-like text of about `size` bytes, with no secret in it; `keywords` percent of its
/// identifiers hold a generic rule's keyword (see [`REALISTIC`]).
pub fn code(rng: &mut Rng, size: usize, keywords: usize) -> String {
    let mut out = String::with_capacity(size + 256);
    let ident = |rng: &mut Rng| {
        if rng.below(100) < keywords {
            rng.pick(KEYWORD_IDENTS)
        } else {
            rng.pick(PLAIN_IDENTS)
        }
    };
    while out.len() < size {
        let a = ident(rng);
        let b = ident(rng);
        let line = match rng.below(10) {
            0 => {
                let n = 4 + rng.below(8);
                let words: Vec<&str> = (0..n).map(|_| rng.pick(WORDS)).collect();
                format!("    // {}.\n", words.join(" "))
            }
            1 => format!(
                "pub fn load_{a}(&self, {b}: &{}) -> Result<{}, Error> {{\n",
                rng.pick(TYPES),
                rng.pick(TYPES)
            ),
            2 => format!("    let {a} = self.{b}.get(\"{a}\").cloned().unwrap_or_default();\n"),
            3 => format!(
                "    let {a} = std::env::var(\"APP_{}\")?;\n",
                b.to_ascii_uppercase()
            ),
            4 => format!("    if {a}.is_empty() {{ return Err(Error::Missing(\"{b}\")); }}\n"),
            5 if rng.below(100) < keywords => format!(
                "    const URL_{}: &str = \"https://api.example.com/v{}/{a}/{b}\";\n",
                rng.below(100),
                1 + rng.below(3)
            ),
            6 => format!(
                "    {a}_{b}: {}, // {} {}\n",
                rng.pick(TYPES),
                rng.pick(WORDS),
                rng.pick(WORDS)
            ),
            7 => "    }\n}\n\n".to_string(),
            8 => format!(
                "    for {a} in self.{b}s.iter().filter(|x| x.len() > {}) {{ total += 1; }}\n",
                rng.below(64)
            ),
            _ => format!(
                "    log::debug!(\"{a} refreshed for {{}} after {{}} ms\", {b}.id, {});\n",
                rng.below(5000)
            ),
        };
        out.push_str(&line);
    }
    out
}

/// Insert `line` at a line boundary of `text` chosen by `rng`.
fn plant(rng: &mut Rng, text: &mut String, line: &str) {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();
    let at = starts[rng.below(starts.len())];
    text.insert_str(at, line);
}

const DIRS: &[&str] = &[
    "src",
    "src/api",
    "src/db",
    "lib/net",
    "cmd/server",
    "internal/auth",
];
const EXTS: &[&str] = &["rs", "go", "py", "ts"];

/// `files` files of about `file_size` bytes each of [`code`] with `keywords` percent keyword
/// identifiers, in nested directories, with `secrets` secrets planted in files chosen at random
/// (one line each). Returns `(relative path, contents)`.
pub fn source_tree(
    seed: u64,
    files: usize,
    file_size: usize,
    keywords: usize,
    secrets: usize,
) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    let mut tree: Vec<(String, String)> = (0..files)
        .map(|i| {
            let dir = DIRS[i % DIRS.len()];
            let path = format!("{dir}/m{i:04}.{}", EXTS[i % EXTS.len()]);
            let size = file_size / 2 + rng.below(file_size);
            (path, code(&mut rng, size, keywords))
        })
        .collect();
    for _ in 0..secrets {
        let line = secret_line(&mut rng);
        let f = rng.below(files);
        plant(&mut rng, &mut tree[f].1, &line);
    }
    tree
}

/// Log lines of about `size` bytes with a generated AWS key id or GitHub token every fourth
/// line. Returns the text and how many secrets it holds.
pub fn log_lines(size: usize) -> (Vec<u8>, usize) {
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    let mut out = String::with_capacity(size + 256);
    let mut secrets = 0;
    let mut line = 0u64;
    while out.len() < size {
        line += 1;
        out.push_str(&format!(
            "2026-11-26T12:00:{:02}Z INFO worker={} request served path=/api/v1/items/{} status=200\n",
            line % 60,
            line % 7,
            line
        ));
        if line.is_multiple_of(4) {
            if line.is_multiple_of(8) {
                out.push_str(&format!(
                    "WARN aws_access_key_id={} leaked\n",
                    aws_key_id(&mut rng)
                ));
            } else {
                out.push_str(&format!(
                    "DEBUG auth token {} used\n",
                    github_token(&mut rng)
                ));
            }
            secrets += 1;
        }
    }
    (out.into_bytes(), secrets)
}

/// `bytes` in standard base64, padded.
pub fn base64(bytes: &[u8]) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            out.push(if k <= c.len() {
                B64[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// `bytes` in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Words for [`bindings`]' CamelCase names.
const NAME_PARTS: &[&str] = &[
    "Get",
    "Set",
    "Create",
    "Query",
    "Enum",
    "Window",
    "Process",
    "Thread",
    "Handle",
    "Proxy",
    "Settings",
    "Information",
    "Security",
    "Descriptor",
    "Registry",
    "Value",
    "Device",
    "Interface",
    "Notification",
    "Callback",
    "Buffer",
    "Ex",
    "Http",
    "Credential",
    "Token",
];

/// Text like generated FFI bindings (the `windows-sys` crates), about `size` bytes: long
/// CamelCase names and upper-case constants, which are runs of the base64 alphabet that the
/// decoder's finder must look at and reject one by one (its most expensive code). No secret.
pub fn bindings(rng: &mut Rng, size: usize) -> String {
    let mut out = String::with_capacity(size + 256);
    let name = |rng: &mut Rng| -> String {
        let n = 3 + rng.below(4);
        (0..n).map(|_| rng.pick(NAME_PARTS)).collect()
    };
    while out.len() < size {
        let line = match rng.below(4) {
            0 => format!(
                "pub const {}: u32 = {}u32;\n",
                name(rng).to_ascii_uppercase(),
                rng.below(1 << 16)
            ),
            1 => format!(
                "pub type PFN_{} = Option<unsafe extern \"system\" fn(param0: *mut core::ffi::c_void) -> i32>;\n",
                name(rng)
            ),
            _ => format!(
                "windows_targets::link!(\"kernel32.dll\" \"system\" fn {}(h{}: HANDLE, dw{}: u32) -> BOOL);\n",
                name(rng),
                rng.pick(NAME_PARTS).to_ascii_lowercase(),
                rng.pick(NAME_PARTS)
            ),
        };
        out.push_str(&line);
    }
    out
}

/// A tree of `files` files of about `file_size` bytes for the decoder (`.ci/bench-gate`'s
/// `encoded` workload): code, generated bindings, Kubernetes `ConfigMap`s whose `binaryData`
/// values are base64 of harmless configuration and of random bytes, PEM blocks and base64 of random bytes (which decode to
/// nothing worth scanning), lock files of hex checksums; and one secret in each of `secrets`
/// files, encoded in turn as a base64 `data:` value, base64 inside base64, hex, percent-encoded
/// form data in a log line, and a gzip-compressed `.env.gz`. Returns `(relative path, contents)`
/// and how many secrets were planted: each gives exactly one finding.
pub fn encoded_tree(
    seed: u64,
    files: usize,
    file_size: usize,
    secrets: usize,
) -> (Vec<(String, Vec<u8>)>, usize) {
    use std::io::Write;
    let mut rng = Rng::new(seed);
    let random =
        |rng: &mut Rng, n: usize| -> Vec<u8> { (0..n).map(|_| rng.next() as u8).collect() };
    let mut tree: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| {
            let size = file_size / 2 + rng.below(file_size);
            let (path, text) = match i % 5 {
                0 | 1 => (format!("src/m{i:04}.rs"), code(&mut rng, size, REALISTIC)),
                2 => (format!("bindings/b{i:04}.rs"), bindings(&mut rng, size)),
                3 => {
                    let mut t = String::new();
                    while t.len() < size {
                        let config = format!(
                            "replicas: {}\nimage: registry.example.com/app:{}\n",
                            1 + rng.below(9),
                            rng.below(1000)
                        );
                        t.push_str(&format!(
                            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{}\nbinaryData:\n  config.yaml: {}\n  seed.bin: {}\n",
                            rng.below(1000),
                            base64(config.as_bytes()),
                            base64(&random(&mut rng, 96))
                        ));
                        let pem = base64(&random(&mut rng, 300));
                        t.push_str("# -----BEGIN CERTIFICATE-----\n");
                        for line in pem.as_bytes().chunks(64) {
                            t.push_str(&format!("# {}\n", std::str::from_utf8(line).expect("base64")));
                        }
                    }
                    (format!("deploy/k{i:04}.yaml"), t)
                }
                _ => {
                    let mut t = String::new();
                    while t.len() < size {
                        t.push_str(&format!(
                            "[[package]]\nname = \"{}\"\nchecksum = \"{}\"\n\n",
                            rng.pick(PLAIN_IDENTS),
                            hex(&random(&mut rng, 32))
                        ));
                    }
                    (format!("lock/l{i:04}.lock"), t)
                }
            };
            (path, text.into_bytes())
        })
        .collect();
    for k in 0..secrets {
        let id = aws_key_id(&mut rng);
        let line = format!("aws_access_key_id = {id}\n");
        let planted = match k % 5 {
            0 => format!("  credentials: {}\n", base64(line.as_bytes())),
            1 => format!("  nested: {}\n", base64(base64(line.as_bytes()).as_bytes())),
            2 => format!("// fixture {}\n", hex(line.as_bytes())),
            3 => {
                // Every byte escaped, as some clients send it: found only by decoding.
                let body: String = line
                    .trim_end()
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect();
                format!("POST /login 200 body={body}\n")
            }
            _ => {
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(line.as_bytes()).expect("writing to a Vec");
                let bytes = gz.finish().expect("writing to a Vec");
                tree.push((format!("env/e{k:04}.env.gz"), bytes));
                continue;
            }
        };
        let f = rng.below(files);
        let mut text = String::from_utf8(std::mem::take(&mut tree[f].1)).expect("generated text");
        plant(&mut rng, &mut text, &planted);
        tree[f].1 = text.into_bytes();
    }
    (tree, secrets)
}

/// A repository's history as a `git fast-import` stream (branch `refs/heads/main`, fixed
/// identities and dates, so the commit ids are the same on every run): `commits` commits editing
/// a tree of `files` files of about `file_size` bytes of [`REALISTIC`] code (each commit rewrites a run of lines in two
/// files), and every `secret_every`th commit adds a secret in a file of its own, deleted again
/// three commits later (so it survives only in history). Returns the stream, how many secrets
/// were planted (each in exactly one blob) and the total size of the unique blobs it writes.
pub fn history(
    seed: u64,
    commits: usize,
    files: usize,
    file_size: usize,
    secret_every: usize,
) -> (Vec<u8>, usize, u64) {
    let mut rng = Rng::new(seed);
    let mut tree: Vec<(String, Vec<String>)> =
        source_tree(seed ^ 0x5EED, files, file_size, REALISTIC, 0)
            .into_iter()
            .map(|(p, text)| (p, text.lines().map(|l| format!("{l}\n")).collect()))
            .collect();
    let mut out = Vec::new();
    let mut secrets = 0;
    let mut blob_bytes = 0u64;
    let mut pending_delete: Vec<(usize, String)> = Vec::new();
    for c in 0..commits {
        let time = 1_700_000_000 + 3_600 * c as u64;
        let mut changes: Vec<(String, Option<String>)> = Vec::new();
        if c == 0 {
            for (path, lines) in &tree {
                changes.push((path.clone(), Some(lines.concat())));
            }
        } else {
            for _ in 0..2 {
                let f = rng.below(files);
                let lines = &mut tree[f].1;
                let at = rng.below(lines.len());
                let n = (1 + rng.below(12)).min(lines.len() - at);
                let fresh: Vec<String> = code(&mut rng, 60 * n, REALISTIC)
                    .lines()
                    .map(|l| format!("{l}\n"))
                    .collect();
                lines.splice(at..at + n, fresh);
                let text = lines.concat();
                changes.push((tree[f].0.clone(), Some(text)));
            }
        }
        if secret_every > 0 && c % secret_every == secret_every - 1 {
            let path = format!("deploy/env-{c:04}.conf");
            let text = format!(
                "# deployment settings, commit {c}\nregion = \"eu-west-{}\"\n{}replicas = {}\n",
                1 + rng.below(3),
                secret_line(&mut rng).trim_start(),
                1 + rng.below(9)
            );
            changes.push((path.clone(), Some(text)));
            pending_delete.push((c + 3, path));
            secrets += 1;
        }
        pending_delete.retain(|(when, path)| {
            if *when == c {
                changes.push((path.clone(), None));
                false
            } else {
                true
            }
        });
        let msg = format!("change {c}: {}\n", rng.pick(WORDS));
        out.extend_from_slice(
            format!(
                "commit refs/heads/main\nauthor Bench <bench@example.invalid> {time} +0000\n\
                 committer Bench <bench@example.invalid> {time} +0000\ndata {}\n{msg}",
                msg.len()
            )
            .as_bytes(),
        );
        for (path, content) in changes {
            match content {
                Some(text) => {
                    blob_bytes += text.len() as u64;
                    out.extend_from_slice(
                        format!("M 100644 inline {path}\ndata {}\n", text.len()).as_bytes(),
                    );
                    out.extend_from_slice(text.as_bytes());
                    out.push(b'\n');
                }
                None => out.extend_from_slice(format!("D {path}\n").as_bytes()),
            }
        }
        out.push(b'\n');
    }
    (out, secrets, blob_bytes)
}

/// Build a bare repository at `dir` from a [`history`] stream with the git CLI.
pub fn import(dir: &std::path::Path, stream: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let git = |args: &[&str]| {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        cmd
    };
    let ok = |s: std::process::ExitStatus, what: &str| {
        if s.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("git {what} failed: {s}")))
        }
    };
    let d = dir.to_str().expect("a UTF-8 path");
    ok(
        git(&["init", "--quiet", "--bare", "-b", "main", d]).status()?,
        "init",
    )?;
    let mut child = git(&["-C", d, "fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(stream)?;
    ok(child.wait()?, "fast-import")
}

/// This crate's own sources (`src/`, recursively), sorted by path: `(path relative to the crate
/// root, contents)`. The "real code" input of the engine, rule-count and pre-receive benchmarks.
#[allow(dead_code)]
pub fn crate_sources() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join("src")];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                files.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}
