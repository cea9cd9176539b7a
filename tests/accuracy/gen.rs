//! Random building blocks for the accuracy corpus: alphabets, encoders (hex, base64, base64url,
//! base62 checksums), UUIDs, passwords and names in the casings that different languages use.
//! Everything draws from the deterministic [`Gen`] of `tests/util`, so a seed gives one corpus.

use crate::util::Gen;

pub const B62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const HEX: &str = "0123456789abcdef";
pub const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const LOWER_DIGITS: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
pub const B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const B32_LOWER: &str = "abcdefghijklmnopqrstuvwxyz234567";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub const DIGITS: &str = "0123456789";
pub const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
/// Bech32 data characters (age keys).
pub const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// A number in `lo..=hi`.
pub fn range(g: &mut Gen, lo: usize, hi: usize) -> usize {
    lo + (g.next() % (hi - lo + 1) as u64) as usize
}

/// True with probability `pct` percent.
pub fn chance(g: &mut Gen, pct: u64) -> bool {
    g.next() % 100 < pct
}

/// One element of `xs`.
pub fn pick<T: Copy>(g: &mut Gen, xs: &[T]) -> T {
    xs[(g.next() % xs.len() as u64) as usize]
}

/// `lo..=hi` characters of `alphabet`.
pub fn sr(g: &mut Gen, alphabet: &str, lo: usize, hi: usize) -> String {
    let n = range(g, lo, hi);
    g.string(alphabet, n)
}

/// `n` characters of `alphabet`.
pub fn s(g: &mut Gen, alphabet: &str, n: usize) -> String {
    g.string(alphabet, n)
}

/// `n` random bytes.
pub fn bytes(g: &mut Gen, n: usize) -> Vec<u8> {
    (0..n).map(|_| g.next() as u8).collect()
}

/// `n` lower-case hex digits.
pub fn hex(g: &mut Gen, n: usize) -> String {
    g.string(HEX, n)
}

/// A random (version 4 shaped) UUID.
pub fn uuid(g: &mut Gen) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(g, 8),
        hex(g, 4),
        hex(g, 3),
        pick(g, &["8", "9", "a", "b"]),
        hex(g, 3),
        hex(g, 12)
    )
}

fn b64_with(data: &[u8], table: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for ch in data.chunks(3) {
        let n = ch
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
        for i in 0..=ch.len() {
            out.push(table[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        if pad {
            for _ in ch.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding.
pub fn b64(data: &[u8]) -> String {
    b64_with(data, B64.as_bytes(), true)
}

/// base64url without padding (JWT parts).
pub fn b64url(data: &[u8]) -> String {
    b64_with(data, B64URL.as_bytes(), false)
}

/// A GitHub/npm style token: `prefix` + 30 base62 + base62(CRC32) in 6 digits.
pub fn crc_token(g: &mut Gen, prefix: &str) -> String {
    let random = s(g, B62, 30);
    let crc = leakhound::verify::base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
    format!("{prefix}{random}{crc}")
}

/// The same shape as [`crc_token`] with a checksum that does not match.
pub fn crc_token_bad(g: &mut Gen, prefix: &str) -> String {
    let good = crc_token(g, prefix);
    let mut b = good.into_bytes();
    let i = b.len() - 1 - range(g, 0, 5);
    b[i] = if b[i] == b'Q' { b'R' } else { b'Q' };
    String::from_utf8(b).expect("ascii")
}

/// Base64url JSON, for JWTs and JSON-carrying tokens.
pub fn b64url_json(json: &str) -> String {
    b64url(json.as_bytes())
}

/// A signed-looking JWT with a JSON header and payload.
pub fn jwt(g: &mut Gen) -> String {
    let alg = pick(g, &["HS256", "RS256", "ES256", "HS512"]);
    let header = if chance(g, 50) {
        format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)
    } else {
        format!(r#"{{"alg":"{alg}","kid":"{}","typ":"JWT"}}"#, hex(g, 16))
    };
    let iat = 1_700_000_000 + range(g, 0, 60_000_000);
    let payload = format!(
        r#"{{"sub":"{}","iss":"https://auth.{}.io","iat":{iat},"exp":{},"scope":"{}"}}"#,
        pick(
            g,
            &[
                "svc-billing",
                "user-1842",
                "ci-deployer",
                "api-gateway",
                "7731"
            ]
        ),
        pick(g, &["acme", "globex", "initech", "umbrella"]),
        iat + 3600 * range(g, 1, 9000),
        pick(
            g,
            &[
                "read write",
                "orders:write",
                "admin",
                "openid profile email"
            ]
        )
    );
    let sig_len = if alg.starts_with('H') { 43 } else { 342 };
    format!(
        "{}.{}.{}",
        b64url_json(&header),
        b64url_json(&payload),
        s(g, B64URL, sig_len)
    )
}

/// A password as a password manager or an operator would make it: mostly random, sometimes a
/// word with digits and symbols around it.
pub fn password(g: &mut Gen) -> String {
    const SYM: &str = "!*+-._~";
    if chance(g, 75) {
        let n = range(g, 12, 24);
        let mut p = s(
            g,
            "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
            n,
        );
        // One or two symbols and a digit at random places, as password rules demand.
        for _ in 0..range(g, 1, 2) {
            let at = range(g, 1, p.len() - 1);
            let c = s(g, SYM, 1);
            p.replace_range(at..at + 1, &c);
        }
        let at = range(g, 0, p.len() - 1);
        p.replace_range(at..at + 1, &s(g, DIGITS, 1));
        p
    } else {
        let w = pick(
            g,
            &[
                "Maple", "falcon", "Orbit", "quartz", "Juniper", "cobalt", "Harbor", "tundra",
            ],
        );
        format!(
            "{}{}{w}{}{}",
            s(g, "ABCDEFGHJKMNPQRSTUVWXYZ", 1),
            sr(g, DIGITS, 1, 2),
            s(g, SYM, 1),
            sr(g, "abcdefghjkmnpqrstuvwxyz23456789", 4, 7)
        )
    }
}

/// A password that is safe inside a URL's userinfo without percent-encoding most of the time.
pub fn url_password(g: &mut Gen) -> String {
    let p = password(g);
    if chance(g, 15) {
        // Operators do percent-encode the odd character.
        format!("{}%21{}", &p[..p.len() / 2], &p[p.len() / 2..])
    } else {
        p
    }
}

/// A user name.
pub fn user(g: &mut Gen) -> String {
    let base = pick(
        g,
        &[
            "app",
            "svc_orders",
            "deploy",
            "ci-bot",
            "backup",
            "reporting",
            "etl",
            "billing",
            "admin_ro",
            "grafana",
        ],
    );
    if chance(g, 40) {
        format!("{base}{}", range(g, 1, 99))
    } else {
        base.to_string()
    }
}

/// A host name.
pub fn host(g: &mut Gen) -> String {
    let h = pick(
        g,
        &[
            "db.prod.internal",
            "pg-main.cluster-c9x2.eu-west-1.rds.amazonaws.com",
            "10.20.4.17",
            "mysql.svc.cluster.local",
            "orders-db",
            "cache-01.corp.local",
            "mq.staging.example.net",
            "data.acme.io",
        ],
    );
    h.to_string()
}

/// Words of a `SNAKE_CASE` name.
fn words(name: &str) -> Vec<String> {
    name.split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// `snake_case`.
pub fn snake(name: &str) -> String {
    words(name).join("_")
}

/// `kebab-case`.
pub fn kebab(name: &str) -> String {
    words(name).join("-")
}

/// `dotted.case`.
pub fn dotted(name: &str) -> String {
    words(name).join(".")
}

/// `camelCase`.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for (i, w) in words(name).iter().enumerate() {
        if i == 0 {
            out.push_str(w);
        } else {
            out.push_str(&w[..1].to_ascii_uppercase());
            out.push_str(&w[1..]);
        }
    }
    out
}

/// `PascalCase`.
pub fn pascal(name: &str) -> String {
    let c = camel(name);
    c[..1].to_ascii_uppercase() + &c[1..]
}

/// A name split into its first word (a section) and the rest (the key inside it).
pub fn section_leaf(name: &str) -> (String, String) {
    let w = words(name);
    if w.len() < 2 {
        return ("app".to_string(), w.join("_"));
    }
    (w[0].clone(), w[1..].join("_"))
}
