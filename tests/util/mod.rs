//! Helpers shared by the integration tests: a temporary directory, a builder around the real
//! binary, and fake credentials generated at test time (so that no realistic secret is stored in
//! the repository).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary directory that is removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("a temp dir can be created"),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Write `contents` to `rel`, creating parent directories.
    pub fn create(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.tmp.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// A `leakhound` command running in this directory.
    pub fn cmd(&self) -> Cmd {
        Cmd::new(self.path())
    }
}

/// A builder for one run of the binary.
pub struct Cmd {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    stdin_file: Option<std::fs::File>,
}

impl Cmd {
    pub fn new(dir: &Path) -> Cmd {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakhound"));
        cmd.current_dir(dir).env_remove("NO_COLOR").env("CI", "1");
        Cmd {
            cmd,
            stdin: None,
            stdin_file: None,
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Cmd {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(data.into());
        self
    }

    /// Redirect stdin from the file at `path` (`leakhound scan - < path`).
    pub fn stdin_file(mut self, path: &Path) -> Cmd {
        self.stdin_file = Some(std::fs::File::open(path).expect("the stdin file opens"));
        self
    }

    pub fn output(mut self) -> Output {
        use std::io::Write;
        self.cmd
            .stdin(match self.stdin_file.take() {
                Some(f) => Stdio::from(f),
                None if self.stdin.is_some() => Stdio::piped(),
                None => Stdio::null(),
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("the binary runs");
        if let Some(data) = self.stdin.take() {
            let mut si = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = si.write_all(&data);
            });
        }
        child.wait_with_output().unwrap()
    }

    /// Start with stdin and stdout piped, for a test that talks to the process as it runs.
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs")
    }

    /// Run and return (exit code, stdout, stderr).
    pub fn run(self) -> (i32, String, String) {
        let o = self.output();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

/// A small deterministic generator (xorshift), so tests need no extra crate and fail reproducibly.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n)
            .map(|_| a[(self.next() % a.len() as u64) as usize] as char)
            .collect()
    }
}

pub const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fake AWS access key id: `AKIA` + 16 upper-case letters and digits.
pub fn aws_key_id(g: &mut Gen) -> String {
    format!("AKIA{}", g.string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

/// A fake GitHub classic token with a valid CRC32 checksum.
pub fn github_pat(g: &mut Gen) -> String {
    let random = g.string(BASE62, 30);
    let crc = leakhound::verify::base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
    format!("ghp_{random}{crc}")
}

/// A rule file for engine tests, independent of the built-in library.
pub const TEST_RULES: &str = r#"
[[rules]]
id = "test-akia"
keywords = ["akia"]
regex = '''\b(AKIA[A-Z2-7]{16})\b'''
severity = "high"
confidence = "high"

[[rules]]
id = "test-ghp"
keywords = ["ghp_"]
regex = '''\b(ghp_[A-Za-z0-9]{36})\b'''
validate = "github-crc32"
severity = "critical"
confidence = "high"

[[rules]]
id = "test-password"
keywords = ["password"]
regex = '''(?i)password\s*[:=]\s*"([^"\s]{8,64})"'''
entropy = 2.5
confidence = "low"

[[rules]]
# An unbounded name before the keyword: no keyword lead, so the windowed search path is used.
id = "test-token"
keywords = ["_token"]
regex = '''[a-z_]+_token\s*=\s*"([A-Za-z0-9]{12,40})"'''
max_len = 200

[[rules]]
id = "test-pem"
keywords = ["-----begin test private key-----"]
regex = '''-----BEGIN TEST PRIVATE KEY-----\n([A-Za-z0-9+/=\n]{16,2000})-----END TEST PRIVATE KEY-----'''
severity = "critical"
"#;

/// A `git` command in `dir` with a fixed identity, fixed author and committer dates (so commit
/// ids are deterministic), no system config and `home` as `HOME`.
pub fn git_command(dir: &Path, home: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .args([
            "-c",
            "user.name=Test Author",
            "-c",
            "user.email=author@example.test",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00+01:00")
        .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00+01:00")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .env_remove("LEAKHOUND_HOOK_CONFIG");
    c
}

/// Standard base64 with padding (the tests build encoded fixtures at run time, so that no encoded
/// secret is stored in the repository either).
pub fn b64(data: &[u8]) -> String {
    encode64(
        data,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        true,
    )
}

/// URL-safe base64 without padding (JWT parts).
pub fn b64url(data: &[u8]) -> String {
    encode64(
        data,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        false,
    )
}

fn encode64(data: &[u8], alphabet: &[u8], pad: bool) -> String {
    let mut o = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                o.push(alphabet[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else if pad {
                o.push('=');
            }
        }
    }
    o
}

/// A gzip stream of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A fake PEM RSA private key with a random body (64-character base64 lines).
pub fn rsa_pem(g: &mut Gen) -> String {
    const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut body = String::from("MIIEow");
    body.push_str(&g.string(A, 58));
    body.push('\n');
    for _ in 0..8 {
        body.push_str(&g.string(A, 64));
        body.push('\n');
    }
    let kind = "RSA PRIVATE KEY";
    format!("-----BEGIN {kind}-----\n{body}-----END {kind}-----\n")
}
