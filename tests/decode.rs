//! Decoding through the real binary: base64 (standard, URL-safe, nested), hex and
//! percent-encoded secrets, the structured cases (Kubernetes Secrets, Docker configs, kubeconfig,
//! JWTs, data URIs), exact locations of the encoded runs, and random encoded blobs that must stay
//! silent. Every fixture is built at run time from generated values.

mod util;

use serde_json::Value;
use util::{aws_key_id, b64, b64url, github_pat, rsa_pem, Dir, Gen};

/// Scan `file` in `d` with the built-in rules (plus `extra` arguments) as JSON: exit code and
/// findings.
fn scan(d: &Dir, file: &str, extra: &[&str]) -> (i32, Vec<Value>) {
    let (code, out, err) = d.cmd().args(["scan", "-f", "json", file]).args(extra).run();
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let v: Value = serde_json::from_str(&out).expect("json output");
    (code, v["findings"].as_array().unwrap().clone())
}

/// (rule, line, column, end_line, end_column, decoded) of a finding.
fn loc(f: &Value) -> (&str, u64, u64, u64, u64, &str) {
    (
        f["rule_id"].as_str().unwrap(),
        f["line"].as_u64().unwrap(),
        f["column"].as_u64().unwrap(),
        f["end_line"].as_u64().unwrap(),
        f["end_column"].as_u64().unwrap(),
        f["decoded"].as_str().unwrap_or(""),
    )
}

#[test]
fn kubernetes_secret_value_in_base64_in_yaml() {
    let mut g = Gen::new(81);
    let token = github_pat(&mut g);
    let enc = b64(token.as_bytes());
    let d = Dir::new();
    d.create(
        "deploy/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {enc}\n"
        ),
    );
    let (code, f) = scan(&d, "deploy/secret.yaml", &["--no-redact"]);
    assert_eq!(code, 1);
    // One finding: the decoded token outranks the Secret-manifest rule's match of the same run.
    assert_eq!(f.len(), 1, "{f:#?}");
    let n = enc.chars().count() as u64;
    assert_eq!(
        loc(&f[0]),
        ("github-pat-classic", 7, 17, 7, 16 + n, "base64")
    );
    assert_eq!(f[0]["secret"], token.as_str());
    assert_eq!(f[0]["path"], "deploy/secret.yaml");
}

#[test]
fn decoding_off_keeps_only_the_clear_match() {
    let mut g = Gen::new(82);
    let enc = b64(github_pat(&mut g).as_bytes());
    let d = Dir::new();
    d.create(
        "s.yaml",
        format!("kind: Secret\nmetadata:\n  name: ci\ndata:\n  GITHUB_TOKEN: {enc}\n"),
    );
    let (_, f) = scan(&d, "s.yaml", &["--max-decode-depth", "0"]);
    assert_eq!(f.len(), 1);
    assert_eq!(loc(&f[0]).0, "kubernetes-secret-data");
    assert!(f[0].get("decoded").is_none());
}

#[test]
fn double_encoded_secret() {
    let mut g = Gen::new(83);
    let key = aws_key_id(&mut g);
    let inner = b64(format!("aws_access_key_id = {key}\n").as_bytes());
    let outer = b64(inner.as_bytes());
    let d = Dir::new();
    d.create("blob.txt", format!("header\n  payload {outer} end\n"));
    let (code, f) = scan(&d, "blob.txt", &[]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1, "{f:#?}");
    let n = outer.len() as u64;
    assert_eq!(
        loc(&f[0]),
        ("aws-access-key-id", 2, 11, 2, 10 + n, "base64>base64")
    );
    // Depth 1 decodes once: the inner base64 is text but holds no key in clear.
    let (code, f) = scan(&d, "blob.txt", &["--max-decode-depth", "1"]);
    assert_eq!((code, f.len()), (0, 0));
}

#[test]
fn percent_encoded_form_data_in_a_log_line() {
    let mut g = Gen::new(84);
    let pw = format!(
        "{}!{}",
        g.string(util::BASE62, 8),
        g.string(util::BASE62, 6)
    );
    let form = format!("postgres://app:{pw}@db.internal:5432/orders")
        .replace(':', "%3A")
        .replace('/', "%2F")
        .replace('@', "%40")
        .replace('!', "%21");
    let line = format!(
        "10.0.0.7 - - [01/Mar/2024:12:00:00 +0000] \"POST /admin/setup?name=orders&dsn={form} HTTP/1.1\" 302 0\n"
    );
    let d = Dir::new();
    d.create("access.log", format!("GET / 200\n{line}"));
    let (code, f) = scan(&d, "access.log", &["--no-redact"]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1, "{f:#?}");
    let start = line.find("/admin").unwrap() as u64 + 1;
    let end = line.find(" HTTP").unwrap() as u64;
    assert_eq!(
        loc(&f[0]),
        ("postgres-connection-string", 2, start, 2, end, "percent")
    );
    assert_eq!(f[0]["secret"], pw.as_str());
}

#[test]
fn hex_and_url_safe_base64() {
    let mut g = Gen::new(85);
    let key = aws_key_id(&mut g);
    let text = format!("key_id={key}");
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    let d = Dir::new();
    d.create(
        "c.h",
        format!(
            "static const char *blob = \"{hex}\";\nuint8_t k[] = 0x{hex};\nurl = {}\n",
            b64url(text.as_bytes())
        ),
    );
    let (_, f) = scan(&d, "c.h", &[]);
    let got: Vec<_> = f.iter().map(loc).collect();
    let h = hex.len() as u64;
    let u = b64url(text.as_bytes()).len() as u64;
    assert_eq!(
        got,
        vec![
            ("aws-access-key-id", 1, 28, 1, 27 + h, "hex"),
            ("aws-access-key-id", 2, 17, 2, 16 + h, "hex"),
            ("aws-access-key-id", 3, 7, 3, 6 + u, "base64"),
        ]
    );
}

#[test]
fn clear_secret_inside_an_encoded_run_is_reported_once() {
    let mut g = Gen::new(86);
    let token = github_pat(&mut g);
    let d = Dir::new();
    // The percent run holds the token in clear: decoding finds it again at the same place.
    d.create(
        "a.log",
        format!("GET /hook?token={token}&note=hello%20world HTTP/1.1\n"),
    );
    let (_, f) = scan(&d, "a.log", &[]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(loc(&f[0]).0, "github-pat-classic");
    assert!(f[0].get("decoded").is_none(), "the clear finding is kept");
}

#[test]
fn docker_config_json_inside_a_kubernetes_secret() {
    let mut g = Gen::new(87);
    let user_pw = format!("deploy:{}", g.string(util::BASE62, 24));
    let config = format!(
        "{{\"auths\":{{\"registry.example.io\":{{\"auth\":\"{}\"}}}}}}",
        b64(user_pw.as_bytes())
    );
    let enc = b64(config.as_bytes());
    let d = Dir::new();
    d.create(
        "pull.yaml",
        format!("kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {enc}\n"),
    );
    let (code, f) = scan(&d, "pull.yaml", &[]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1, "{f:#?}");
    let n = enc.len() as u64;
    assert_eq!(
        loc(&f[0]),
        ("docker-config-auth", 4, 22, 4, 21 + n, "base64")
    );
}

#[test]
fn kubeconfig_client_key_data() {
    let mut g = Gen::new(88);
    let enc = b64(rsa_pem(&mut g).as_bytes());
    let d = Dir::new();
    d.create(
        "kubeconfig",
        format!(
            "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: {enc}\n"
        ),
    );
    let (code, f) = scan(&d, "kubeconfig", &[]);
    assert_eq!(code, 1);
    assert_eq!(f.len(), 1, "{f:#?}");
    let n = enc.len() as u64;
    assert_eq!(loc(&f[0]), ("private-key-rsa", 6, 22, 6, 21 + n, "base64"));
}

#[test]
fn jwt_payload_is_decoded() {
    let mut g = Gen::new(89);
    let token = github_pat(&mut g);
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(format!("{{\"sub\":\"ci\",\"gh\":\"{token}\"}}").as_bytes());
    let sig = b64url(&(0..32u8).map(|i| i.wrapping_mul(37)).collect::<Vec<_>>());
    let d = Dir::new();
    d.create(
        "req.txt",
        format!("Authorization: Bearer {header}.{payload}.{sig}\n"),
    );
    let (_, f) = scan(&d, "req.txt", &[]);
    let rules: Vec<_> = f.iter().map(|f| loc(f).0).collect();
    assert!(rules.contains(&"github-pat-classic"), "{f:#?}");
    let gh = f
        .iter()
        .find(|f| f["rule_id"] == "github-pat-classic")
        .unwrap();
    let col = "Authorization: Bearer ".len() as u64 + header.len() as u64 + 2;
    assert_eq!(
        loc(gh),
        (
            "github-pat-classic",
            1,
            col,
            1,
            col + payload.len() as u64 - 1,
            "base64"
        )
    );
}

#[test]
fn data_uris_only_when_text() {
    let mut g = Gen::new(90);
    let key = aws_key_id(&mut g);
    let enc = b64(format!("aws_key = {key}").as_bytes());
    let d = Dir::new();
    d.create(
        "page.html",
        format!("<a href=\"data:image/png;base64,{enc}\">x</a>\n<a href=\"data:text/plain;base64,{enc}\">y</a>\n"),
    );
    let (_, f) = scan(&d, "page.html", &[]);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(loc(&f[0]).1, 2);
}

#[test]
fn random_encoded_blobs_give_no_findings() {
    let mut g = Gen::new(91);
    let mut bytes = |n: usize| (0..n).map(|_| g.next() as u8).collect::<Vec<u8>>();
    // A PNG header and random pixels, a DER-like certificate body, hashes and random base64.
    let mut png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10];
    png.extend(bytes(3000));
    let cert: String = b64(&bytes(1200))
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let hashes: String = (0..50)
        .map(|i| {
            let h: String = bytes(32).iter().map(|b| format!("{b:02x}")).collect();
            format!("\"dep-{i}\" = \"sha256:{h}\"\n")
        })
        .collect();
    let d = Dir::new();
    d.create(
        "assets.css",
        format!(
            ".logo {{ background: url(data:image/png;base64,{}) }}\n",
            b64(&png)
        ),
    );
    d.create(
        "cert.pem",
        format!("-----BEGIN CERTIFICATE-----\n{cert}-----END CERTIFICATE-----\n"),
    );
    d.create("Cargo.lock", hashes);
    d.create("random.txt", format!("blob: {}\n", b64(&bytes(4096))));
    d.create(
        "url.txt",
        format!("https://cdn.example/{}.bin\n", b64url(&bytes(48))),
    );
    let (code, out, err) = d.cmd().args(["scan", "-f", "json", "."]).run();
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["stats"]["files_scanned"], 5);
}

#[test]
fn human_and_sarif_name_the_chain() {
    let mut g = Gen::new(92);
    let key = aws_key_id(&mut g);
    let d = Dir::new();
    d.create(
        "a.txt",
        format!("v: {}\n", b64(format!("id={key}").as_bytes())),
    );
    let (_, out, _) = d.cmd().args(["scan", "a.txt"]).run();
    assert!(
        out.starts_with(
            "a.txt:1:4: aws-access-key-id [high, confidence high] AWS access key ID (decoded: base64)\n"
        ),
        "{out}"
    );
    assert!(!out.contains(&key));
    let (_, out, _) = d.cmd().args(["scan", "-f", "sarif", "a.txt"]).run();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["runs"][0]["results"][0]["properties"]["decoded"],
        "base64"
    );
}

/// `text` wrapped at `width` characters, each line after `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    text.as_bytes()
        .chunks(width)
        .map(|l| format!("{indent}{}\n", std::str::from_utf8(l).unwrap()))
        .collect()
}

/// A `.env` whose keys fall across line breaks once it is encoded and wrapped (`base64 .env`,
/// `openssl base64`, `xxd -p`, a YAML block): every key is found, at the lines of the block
/// that hold it, and through a pipe too.
#[test]
fn wrapped_blocks_are_decoded_whole() {
    let mut g = Gen::new(95);
    let mut env = String::from("# production\nLOG_LEVEL=info\n");
    let mut keys = Vec::new();
    for i in 0..8 {
        let key = aws_key_id(&mut g);
        env.push_str(&format!(
            "AWS_ACCESS_KEY_ID_{i}={key}\nREGION_{i}=eu-west-{i}\n"
        ));
        keys.push(key);
    }
    let hex: String = env.bytes().map(|b| format!("{b:02x}")).collect();
    // (file, contents, lines before the block, width, characters per byte)
    let cases = [
        (
            "env.b64",
            wrap(&b64(env.as_bytes()), 76, ""),
            0,
            76,
            4.0 / 3.0,
        ),
        (
            "env.pem",
            wrap(&b64(env.as_bytes()), 64, ""),
            0,
            64,
            4.0 / 3.0,
        ),
        ("env.hex", wrap(&hex, 60, ""), 0, 60, 2.0),
        (
            "values.yaml",
            format!("env: |\n{}", wrap(&b64(env.as_bytes()), 76, "  ")),
            1,
            76,
            4.0 / 3.0,
        ),
    ];
    let d = Dir::new();
    for (file, contents, before, width, per_byte) in cases {
        d.create(file, &contents);
        let (code, f) = scan(&d, file, &["--no-redact"]);
        assert_eq!(code, 1, "{file}");
        assert_eq!(f.len(), keys.len(), "{file}: {f:#?}");
        for (finding, key) in f.iter().zip(&keys) {
            assert_eq!(finding["secret"], key.as_str(), "{file}");
            assert_eq!(finding["rule_id"], "aws-access-key-id", "{file}");
            // The lines that hold the key's characters, wherever the wrapping cut it.
            let at = env.find(key.as_str()).unwrap();
            let first = (at as f64 * per_byte) as usize / width;
            let last = (((at + key.len()) as f64 * per_byte).ceil() as usize - 1) / width;
            let (line, end_line) = (
                finding["line"].as_u64().unwrap(),
                finding["end_line"].as_u64().unwrap(),
            );
            assert!(
                line <= (before + first + 1) as u64 && end_line >= (before + last + 1) as u64,
                "{file}: {key} on lines {}-{}, reported {line}-{end_line}",
                before + first + 1,
                before + last + 1
            );
            assert!(
                end_line - line <= 2,
                "{file}: at most the lines around the key"
            );
        }
    }
    // Streamed: the block arrives in one read and is joined as in a file.
    let contents = wrap(&b64(env.as_bytes()), 76, "");
    let (code, out, err) = d
        .cmd()
        .args(["scan", "-f", "json", "-"])
        .stdin(contents)
        .run();
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json output");
    assert_eq!(v["findings"].as_array().unwrap().len(), keys.len(), "{out}");
}

/// `scan - < file` reads stdin as the file it is, and the same bytes through a pipe are streamed
/// and decoded a line at a time: both find the encoded key at its run.
#[test]
fn stdin_is_decoded_from_a_redirected_file_and_from_a_pipe() {
    let mut g = Gen::new(91);
    let key = aws_key_id(&mut g);
    let enc = b64(format!("export AWS_ACCESS_KEY_ID={key}").as_bytes());
    let d = Dir::new();
    let text = format!("# deploy notes\nbootstrap: {enc}\n");
    let file = d.create("notes.txt", &text);
    let json = |out: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(out).expect("json output");
        v["findings"].as_array().unwrap().clone()
    };
    let (code, out, err) = d
        .cmd()
        .args(["scan", "-f", "json", "-"])
        .stdin_file(&file)
        .run();
    assert_eq!(code, 1, "{err}");
    let f = json(&out);
    assert_eq!(f.len(), 1, "{f:#?}");
    let n = enc.chars().count() as u64;
    assert_eq!(
        loc(&f[0]),
        ("aws-access-key-id", 2, 12, 2, 11 + n, "base64")
    );
    assert_eq!(f[0]["path"], "<stdin>");
    let (code, out, err) = d
        .cmd()
        .args(["scan", "-f", "json", "-"])
        .stdin(text.clone())
        .run();
    assert_eq!(code, 1, "{err}");
    let p = json(&out);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(loc(&p[0]), loc(&f[0]));
    assert_eq!(p[0]["path"], "<stdin>");
    let (code, out, err) = d
        .cmd()
        .args(["scan", "-f", "json", "--max-decode-depth", "0", "-"])
        .stdin(text)
        .run();
    assert_eq!(code, 0, "{err}");
    assert!(json(&out).is_empty(), "decoding off: only clear text");
}
