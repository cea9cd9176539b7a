//! Archives and compressed files through the real binary: every format, members named
//! `outer!inner` at their own line and column, archives in archives, stdin and git history, and
//! the limits (ratio, total size, nesting) stopping hostile input with a message, a count and an
//! honest exit code. Archives are built at test time with the same crates leakhound reads them
//! with (and the git CLI for history); no binary fixture is stored.

mod util;

use std::io::Write;
use std::process::Command;

use serde_json::Value;
use util::{aws_key_id, gzip, Dir, Gen};

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut std::io::BufReader::new(data), &mut out).unwrap();
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// An `.env` with a fake AWS key on line 3, column 19.
fn env_file(g: &mut Gen) -> (String, Vec<u8>) {
    let key = aws_key_id(g);
    let text = format!("# app\nDEBUG=0\nAWS_ACCESS_KEY_ID={key}\n");
    (key, text.into_bytes())
}

/// `scan -f json` of `args` in `d`: exit code, findings, stats, stderr.
fn scan(d: &Dir, args: &[&str]) -> (i32, Vec<Value>, Value, String) {
    let (code, out, err) = d.cmd().args(["scan", "-f", "json"]).args(args).run();
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (
        code,
        v["findings"].as_array().unwrap().clone(),
        v["stats"].clone(),
        err,
    )
}

/// (path, line, column, decoded) of each finding.
fn places(f: &[Value]) -> Vec<(String, u64, u64, String)> {
    f.iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["decoded"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn place(path: &str, line: u64, col: u64, decoded: &str) -> (String, u64, u64, String) {
    (path.to_string(), line, col, decoded.to_string())
}

#[test]
fn every_compression_format() {
    let mut g = Gen::new(1);
    let (_, env) = env_file(&mut g);
    let d = Dir::new();
    d.create("a.env.gz", gzip(&env));
    d.create("b.env.bz2", bzip2(&env));
    d.create("c.env.xz", xz(&env));
    d.create("d.env.zst", zstd(&env));
    // Detected by magic bytes, not by name.
    d.create("e.txt", gzip(&env));
    let (code, f, stats, err) = scan(&d, &["."]);
    assert_eq!(code, 1, "{err}");
    let mut got = places(&f);
    got.sort();
    assert_eq!(
        got,
        vec![
            place("a.env.gz", 3, 19, "gzip"),
            place("b.env.bz2", 3, 19, "bzip2"),
            place("c.env.xz", 3, 19, "xz"),
            place("d.env.zst", 3, 19, "zstd"),
            place("e.txt", 3, 19, "gzip"),
        ]
    );
    assert_eq!(stats["files_scanned"], 5);
    assert_eq!(stats["errors"], 0);
}

#[test]
fn zip_inside_tar_gz_and_a_jar() {
    let mut g = Gen::new(2);
    let (_, env) = env_file(&mut g);
    let (_, props) = env_file(&mut g);
    let inner = zip(&[("README.md", b"hello\n"), ("config/.env", &env)]);
    let outer = gzip(&tar(&[
        ("release/notes.txt", b"v1\n"),
        ("release/app.zip", &inner),
    ]));
    let jar = zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("BOOT-INF/classes/application.properties", &props),
    ]);
    let d = Dir::new();
    d.create("dist/release.tar.gz", outer);
    d.create("dist/app.jar", jar);
    let (code, f, stats, err) = scan(&d, &["dist"]);
    assert_eq!(code, 1, "{err}");
    let mut got = places(&f);
    got.sort();
    assert_eq!(
        got,
        vec![
            place(
                "dist/app.jar!BOOT-INF/classes/application.properties",
                3,
                19,
                ""
            ),
            place("dist/release.tar.gz!release/app.zip!config/.env", 3, 19, ""),
        ]
    );
    // Text members count as files: notes, README, .env, MANIFEST, properties.
    assert_eq!(stats["files_scanned"], 5);
}

#[test]
fn archive_on_stdin() {
    let mut g = Gen::new(3);
    let (_, env) = env_file(&mut g);
    let d = Dir::new();
    let data = gzip(&tar(&[("app/.env", &env)]));
    let (code, f, _, err) = {
        let (code, out, err) = d.cmd().args(["scan", "-f", "json", "-"]).stdin(data).run();
        let v: Value = serde_json::from_str(&out).unwrap();
        (code, v["findings"].as_array().unwrap().clone(), v, err)
    };
    assert_eq!(code, 1, "{err}");
    assert_eq!(places(&f), vec![place("<stdin>!app/.env", 3, 19, "")]);
}

/// A slow producer: the first reads hold too few bytes to tell an archive, so they are
/// gathered until the magic bytes can be judged.
#[test]
fn archive_on_stdin_whose_first_bytes_arrive_apart() {
    let mut g = Gen::new(5);
    let (_, env) = env_file(&mut g);
    let d = Dir::new();
    let data = gzip(&tar(&[("app/.env", &env)]));
    let mut child = d.cmd().args(["scan", "-f", "json", "-"]).spawn();
    let mut stdin = child.stdin.take().unwrap();
    for piece in [&data[..1], &data[1..3], &data[3..]] {
        stdin.write_all(piece).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap().clone();
    assert_eq!(places(&f), vec![place("<stdin>!app/.env", 3, 19, "")]);
}

#[test]
fn archive_in_git_history() {
    let mut g = Gen::new(4);
    let (_, env) = env_file(&mut g);
    let d = Dir::new();
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join("backup.zip"), zip(&[("prod/.env", &env)])).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.test"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", d.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "backup"]);
    std::fs::remove_file(repo.join("backup.zip")).unwrap();
    git(&["commit", "-q", "-a", "-m", "remove backup"]);
    let (code, out, err) = d.cmd().args(["git", "-f", "json", "repo"]).run();
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(places(f), vec![place("backup.zip!prod/.env", 3, 19, "")]);
    assert_eq!(f[0]["summary"], "backup");
}

#[test]
fn zip_bomb_is_stopped_by_the_ratio_limit() {
    let mut g = Gen::new(5);
    let (_, env) = env_file(&mut g);
    let zeros = vec![0u8; 16 * 1024 * 1024];
    // The .env comes first and is scanned; the bomb member stops the archive.
    let bomb = zip(&[("a/.env", &env), ("b/zeros.bin", &zeros), ("c/.env", &env)]);
    assert!(bomb.len() < 100_000);
    let d = Dir::new();
    d.create("bomb.zip", bomb);
    let (code, f, stats, err) = scan(&d, &["bomb.zip"]);
    assert_eq!(code, 1);
    assert_eq!(places(&f), vec![place("bomb.zip!a/.env", 3, 19, "")]);
    assert_eq!(
        err.lines().next().unwrap(),
        "leakhound: bomb.zip: skipped: compression ratio over 100:1, a likely decompression bomb (--max-archive-ratio)"
    );
    assert_eq!(stats["skipped"]["archive_limit"], 1);
    // Raising the limit lets it through (the zeros are binary and skipped as such).
    let (code, f, stats, _) = scan(&d, &["bomb.zip", "--max-archive-ratio", "100000"]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 2);
    assert_eq!(stats["skipped"]["archive_limit"], 0);
    assert_eq!(stats["skipped"]["binary"], 1);
}

#[test]
fn total_size_limit() {
    let d = Dir::new();
    let text = b"nothing secret here, just text\n".repeat(10_000);
    d.create(
        "logs.tar.gz",
        gzip(&tar(&[("a.log", &text), ("b.log", &text)])),
    );
    let (code, f, stats, err) = scan(&d, &["logs.tar.gz", "--max-archive-bytes", "200K"]);
    assert_eq!((code, f.len()), (0, 0));
    assert_eq!(
        err.lines().next().unwrap(),
        "leakhound: logs.tar.gz: skipped: decompresses to more than 204800 bytes (--max-archive-bytes)"
    );
    assert_eq!(stats["skipped"]["archive_limit"], 1);
}

#[test]
fn deep_nesting_is_stopped_by_the_depth_limit() {
    let mut g = Gen::new(6);
    let (_, env) = env_file(&mut g);
    let mut data = env.clone();
    for _ in 0..6 {
        data = gzip(&data);
    }
    let d = Dir::new();
    d.create("deep.gz", &data);
    let (code, f, stats, err) = scan(&d, &["deep.gz"]);
    assert_eq!((code, f.len()), (0, 0), "{err}");
    assert_eq!(
        err.lines().next().unwrap(),
        "leakhound: deep.gz: skipped: archives nested more than 4 deep (--max-archive-depth)"
    );
    assert_eq!(stats["skipped"]["archive_limit"], 1);
    let (code, f, _, _) = scan(&d, &["deep.gz", "--max-archive-depth", "6"]);
    assert_eq!(code, 1);
    assert_eq!(
        places(&f),
        vec![place("deep.gz", 3, 19, "gzip>gzip>gzip>gzip>gzip>gzip")]
    );
    // Depth 0: archives are not unpacked, only skipped as binary.
    let (code, f, stats, _) = scan(&d, &["deep.gz", "--max-archive-depth", "0"]);
    assert_eq!((code, f.len()), (0, 0));
    assert_eq!(stats["skipped"]["binary"], 1);
}

#[test]
fn corrupt_archive_is_an_error_naming_it() {
    let mut g = Gen::new(7);
    let (_, env) = env_file(&mut g);
    let gz = gzip(&env.repeat(50));
    let d = Dir::new();
    d.create("broken.gz", &gz[..gz.len() / 2]);
    let (code, f, stats, err) = scan(&d, &["broken.gz"]);
    assert_eq!((code, f.len()), (2, 0));
    assert!(
        err.starts_with("leakhound: broken.gz: corrupt gzip data: "),
        "{err}"
    );
    assert_eq!(stats["errors"], 1);
}

#[test]
fn base64_of_gzip_in_a_config() {
    let mut g = Gen::new(8);
    let (_, env) = env_file(&mut g);
    let enc = util::b64(&gzip(&env));
    let d = Dir::new();
    d.create("values.yaml", format!("bootstrap:\n  envGz: {enc}\n"));
    let (code, f, _, _) = scan(&d, &["values.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(places(&f), vec![place("values.yaml", 2, 10, "base64>gzip")]);
    assert_eq!(f[0]["end_column"], 9 + enc.len() as u64);
}
