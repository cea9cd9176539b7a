//! The secret kinds: for every provider family of the built-in rules, how a true secret of the
//! documented format is made at run time, which variable names carry it, what near misses of the
//! same shape look like (wrong length, alphabet or checksum; documented example values; fixture
//! fills), and, for secrets that live inside a larger structure (a connection string, a PEM block,
//! a `.netrc`), how that structure is built around the value.
//!
//! Values are generated, never stored: this file holds formats, not credentials.

use crate::doc::Val;
use crate::gen::*;
use crate::util::Gen;

/// Where a kind's value can be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A token with a distinctive prefix or structure: any assignment, and bare in logs,
    /// headers and URLs.
    Token,
    /// A value without a distinctive format: only beside one of the kind's names.
    Named,
    /// A self-contained line (URL, connection string): assignments and bare text.
    Line,
    /// A shell command line.
    Command,
    /// Multi-line armored text (PEM and friends).
    Block,
    /// A whole file of its own format.
    File,
}

/// Makes a value from nothing.
pub type MakeFn = fn(&mut Gen) -> String;
/// Makes near misses.
pub type NearFn = fn(&mut Gen) -> Vec<String>;
/// Builds the carrying structure around a value (draws the same randomness for any value).
pub type WrapFn = fn(&mut Gen, &Val) -> Val;

pub struct Kind {
    /// Provider family, as the report groups it.
    pub provider: &'static str,
    /// The built-in rules written for it, `|`-separated (reported, not required: any
    /// overlapping finding counts).
    pub rule: &'static str,
    pub shape: Shape,
    /// Variable names in `UPPER_SNAKE`; contexts re-case them.
    pub names: &'static [&'static str],
    pub secret: MakeFn,
    pub near: NearFn,
    pub wrap: Option<WrapFn>,
    /// File names, for [`Shape::File`] and [`Shape::Block`] kinds.
    pub paths: &'static [&'static str],
}

fn k(
    provider: &'static str,
    rule: &'static str,
    shape: Shape,
    names: &'static [&'static str],
    secret: MakeFn,
    near: NearFn,
) -> Kind {
    Kind {
        provider,
        rule,
        shape,
        names,
        secret,
        near,
        wrap: None,
        paths: &[],
    }
}

impl Kind {
    fn wrap(mut self, f: WrapFn) -> Kind {
        self.wrap = Some(f);
        self
    }

    fn paths(mut self, p: &'static [&'static str]) -> Kind {
        self.paths = p;
        self
    }

    /// Whether `id` is one of the rules written for this kind.
    pub fn is_own_rule(&self, id: &str) -> bool {
        self.rule.split('|').any(|r| r == id)
    }

    /// The first of its rules, for reports.
    pub fn main_rule(&self) -> &'static str {
        self.rule.split('|').next().unwrap_or(self.rule)
    }

    /// `secret` carried by its structure.
    pub fn build(&self, g: &mut Gen, v: &Val) -> Val {
        match self.wrap {
            Some(w) => w(g, v),
            None => v.clone(),
        }
    }

    /// The leading characters that identify the format (kept when a value is masked).
    pub fn prefix_of(value: &str) -> &str {
        let b = value.as_bytes();
        let limit = b.len().min(16);
        let mut end = 0;
        for (i, &c) in b.iter().enumerate().take(limit) {
            if (c == b'_' || c == b'-' || c == b'.' || c == b'$') && i >= 2 {
                end = i + 1;
            }
        }
        if end == 0 {
            end = 4.min(b.len());
        }
        &value[..end]
    }
}

use Shape::*;

// ---- near-miss helpers -------------------------------------------------------------------

/// `prefix` + the alphabet in order, cycled to `n` characters: a fixture fill.
fn seq(prefix: &str, alphabet: &str, n: usize) -> String {
    let a = alphabet.as_bytes();
    let fill: String = (0..n).map(|i| a[i % a.len()] as char).collect();
    format!("{prefix}{fill}")
}

/// `pattern` repeated to `n` characters: a fixture of the right length and alphabet.
fn rep(pattern: &str, n: usize) -> String {
    pattern.repeat(n / pattern.len() + 1)[..n].to_string()
}

/// Fill patterns people type for a fake value of the right length, by alphabet.
const FIX_ALNUM: &[&str] = &[
    "abcd1234",
    "a1b2c3d4e5",
    "1234abcd",
    "xyz789XYZ",
    "AbCd1234",
    "qwertyuiop",
];
const FIX_HEX: &[&str] = &["deadbeef", "0123abcd", "a1b2c3d4", "cafebabe", "1234abcd"];
const FIX_B32: &[&str] = &["abcd2345", "aaaa2222", "wxyz7777"];

/// One of `patterns` repeated to `n` characters: a test fixture of the right length.
fn fixture(g: &mut Gen, patterns: &[&str], n: usize) -> String {
    rep(pick(g, patterns), n)
}

/// A token truncated the way documentation shows one: `prefix` + a few characters + `...`.
fn dots(g: &mut Gen, prefix: &str, alphabet: &str) -> String {
    let n = range(g, 4, 8);
    format!("{prefix}{}...", s(g, alphabet, n))
}

/// `prefix` + `n` characters of `alphabet`: used with a length the format does not allow.
fn len(g: &mut Gen, prefix: &str, alphabet: &str, n: usize) -> String {
    format!("{prefix}{}", s(g, alphabet, n))
}

// ---- structures ----------------------------------------------------------------------------

fn db_name(g: &mut Gen) -> &'static str {
    pick(
        g,
        &[
            "orders",
            "app",
            "billing",
            "analytics",
            "users",
            "inventory",
        ],
    )
}

/// `scheme://user:` + v + `@host:port/db`.
fn db_url(g: &mut Gen, v: &Val, scheme: &str, port: u16) -> Val {
    let pre = format!("{scheme}://{}:", user(g));
    let h = host(g);
    let d = db_name(g);
    let post = if chance(g, 50) {
        format!("@{h}:{port}/{d}")
    } else {
        format!("@{h}:{port}/{d}?sslmode=require")
    };
    Val::around(&pre, v, &post)
}

fn pem_lines(body: &str) -> String {
    let mut out = String::new();
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out
}

/// Base64 of `prefix` bytes followed by `n` random bytes, wrapped at 64 columns.
fn der_body(g: &mut Gen, prefix: &[u8], n: usize) -> String {
    let mut data = prefix.to_vec();
    data.extend(bytes(g, n));
    pem_lines(&b64(&data))
}

/// `-----BEGIN {label}-----` + body + `-----END {label}-----`, body labelled.
fn armor(label: &str, v: &Val) -> Val {
    let mut out = Val::plain(format!("-----BEGIN {label}-----\n"));
    out.push_val(v);
    out.push(&format!("-----END {label}-----\n"));
    out
}

/// A fake key body of the right look but with a placeholder inside: `MIIE...snip...`.
fn pem_placeholder(g: &mut Gen) -> Vec<String> {
    vec![
        format!("MIIEpAIBAAKCAQEA{}\n...\n", s(g, B64, 20)),
        "<paste the private key here>\n".to_string(),
    ]
}

// ---- the kinds -----------------------------------------------------------------------------

/// Every kind, in a stable order (a kind's index is its identity in labels).
pub fn all() -> Vec<Kind> {
    let mut v = Vec::new();
    v.extend(ai());
    v.extend(aws());
    v.extend(azure());
    v.extend(cloud_other());
    v.extend(code_hosting());
    v.extend(config_files());
    v.extend(database());
    v.extend(gcp());
    v.extend(generic());
    v.extend(jwt_kinds());
    v.extend(messaging());
    v.extend(payments());
    v.extend(private_keys());
    v.extend(registries());
    v.extend(saas());
    v.extend(urls_headers());
    v
}

fn ai() -> Vec<Kind> {
    vec![
        k(
            "openai",
            "openai-project-key",
            Token,
            &["OPENAI_API_KEY", "OPENAI_KEY"],
            |g| {
                let (a, b) = (range(g, 40, 80), range(g, 40, 80));
                format!("sk-proj-{}T3BlbkFJ{}", s(g, B64URL, a), s(g, B64URL, b))
            },
            |g| vec![dots(g, "sk-proj-", B62), len(g, "sk-proj-", B62, 12)],
        ),
        k(
            "openai",
            "openai-service-account-key",
            Token,
            &["OPENAI_API_KEY"],
            |g| {
                let (a, b) = (range(g, 40, 80), range(g, 40, 80));
                format!("sk-svcacct-{}T3BlbkFJ{}", s(g, B64URL, a), s(g, B64URL, b))
            },
            |g| vec![dots(g, "sk-svcacct-", B62)],
        ),
        k(
            "openai",
            "openai-admin-key",
            Token,
            &["OPENAI_ADMIN_KEY"],
            |g| {
                let (a, b) = (range(g, 40, 80), range(g, 40, 80));
                format!("sk-admin-{}T3BlbkFJ{}", s(g, B64URL, a), s(g, B64URL, b))
            },
            |g| vec![dots(g, "sk-admin-", B62)],
        ),
        k(
            "openai",
            "openai-api-key-legacy",
            Token,
            &["OPENAI_API_KEY"],
            |g| format!("sk-{}T3BlbkFJ{}", s(g, B62, 20), s(g, B62, 20)),
            |g| vec![format!("sk-{}T3BlbkFJ{}", s(g, B62, 12), s(g, B62, 12))],
        ),
        k(
            "anthropic",
            "anthropic-api-key",
            Token,
            &["ANTHROPIC_API_KEY", "CLAUDE_API_KEY"],
            |g| format!("sk-ant-api03-{}AA", s(g, B64URL, 93)),
            |g| {
                vec![
                    dots(g, "sk-ant-api03-", B62),
                    len(g, "sk-ant-api03-", B62, 40),
                ]
            },
        ),
        k(
            "anthropic",
            "anthropic-admin-key",
            Token,
            &["ANTHROPIC_ADMIN_KEY"],
            |g| format!("sk-ant-admin01-{}AA", s(g, B64URL, 93)),
            |g| vec![dots(g, "sk-ant-admin01-", B62)],
        ),
        k(
            "huggingface",
            "huggingface-token",
            Token,
            &["HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"],
            |g| format!("hf_{}", s(g, B62, 34)),
            |g| vec![len(g, "hf_", B62, 20), seq("hf_", "x", 34)],
        ),
        k(
            "huggingface",
            "huggingface-org-token",
            Token,
            &["HF_ORG_TOKEN"],
            |g| format!("api_org_{}", s(g, B62, 34)),
            |g| vec![len(g, "api_org_", B62, 16)],
        ),
        k(
            "cohere",
            "cohere-api-key",
            Named,
            &["COHERE_API_KEY", "CO_API_KEY"],
            |g| s(g, B62, 40),
            |g| vec![fixture(g, FIX_ALNUM, 40), seq("", "x", 40)],
        ),
        k(
            "replicate",
            "replicate-api-token",
            Token,
            &["REPLICATE_API_TOKEN"],
            |g| format!("r8_{}", s(g, B62, 37)),
            |g| vec![len(g, "r8_", B62, 20)],
        ),
        k(
            "groq",
            "groq-api-key",
            Token,
            &["GROQ_API_KEY"],
            |g| format!("gsk_{}", s(g, B62, 52)),
            |g| vec![len(g, "gsk_", B62, 30), dots(g, "gsk_", B62)],
        ),
        k(
            "mistral",
            "mistral-api-key",
            Named,
            &["MISTRAL_API_KEY"],
            |g| s(g, B62, 32),
            |g| vec![seq("", "x", 32), s(g, LOWER, 6)],
        ),
        k(
            "perplexity",
            "perplexity-api-key",
            Token,
            &["PERPLEXITY_API_KEY", "PPLX_API_KEY"],
            |g| format!("pplx-{}", s(g, B62, 48)),
            |g| vec![len(g, "pplx-", B62, 24), dots(g, "pplx-", B62)],
        ),
        k(
            "xai",
            "xai-api-key",
            Token,
            &["XAI_API_KEY", "GROK_API_KEY"],
            |g| format!("xai-{}", s(g, B62, 80)),
            |g| vec![len(g, "xai-", B62, 40)],
        ),
        k(
            "deepseek",
            "deepseek-api-key",
            Named,
            &["DEEPSEEK_API_KEY"],
            |g| format!("sk-{}", hex(g, 32)),
            |g| {
                vec![
                    format!("sk-{}", fixture(g, FIX_HEX, 32)),
                    dots(g, "sk-", HEX),
                ]
            },
        ),
        k(
            "openrouter",
            "openrouter-api-key",
            Token,
            &["OPENROUTER_API_KEY"],
            |g| format!("sk-or-v1-{}", hex(g, 64)),
            |g| vec![len(g, "sk-or-v1-", HEX, 40), dots(g, "sk-or-v1-", HEX)],
        ),
        k(
            "langsmith",
            "langsmith-api-key",
            Token,
            &["LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"],
            |g| {
                format!(
                    "lsv2_{}_{}_{}",
                    pick(g, &["pt", "sk"]),
                    hex(g, 32),
                    hex(g, 10)
                )
            },
            |g| vec![format!("lsv2_pt_{}", hex(g, 32)), dots(g, "lsv2_pt_", HEX)],
        ),
        k(
            "wandb",
            "wandb-api-key",
            Named,
            &["WANDB_API_KEY"],
            |g| hex(g, 40),
            |g| vec![fixture(g, FIX_HEX, 40), seq("", "0", 40)],
        ),
    ]
}

fn aws() -> Vec<Kind> {
    vec![
        k(
            "aws",
            "aws-access-key-id",
            Token,
            &["AWS_ACCESS_KEY_ID", "ACCESS_KEY_ID"],
            |g| format!("AKIA{}", s(g, B32, 16)),
            |_| {
                vec![
                    ["AKIA", "IOSFODNN7", "EXAMPLE"].concat(),
                    "AKIAXXXXXXXXXXXXXXXX".into(),
                ]
            },
        ),
        k(
            "aws",
            "aws-temporary-access-key-id",
            Token,
            &["AWS_ACCESS_KEY_ID"],
            |g| {
                format!(
                    "{}{}",
                    pick(g, &["ASIA", "ASIA", "ABIA", "ACCA"]),
                    s(g, B32, 16)
                )
            },
            |g| {
                vec![
                    ["ASIA", "IOSFODNN7", "EXAMPLE"].concat(),
                    len(g, "ASIA", B32, 10),
                ]
            },
        ),
        k(
            "aws",
            "aws-secret-access-key",
            Named,
            &[
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SECRET_KEY",
                "SECRET_ACCESS_KEY",
            ],
            |g| {
                s(
                    g,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    40,
                )
            },
            |_| {
                vec![
                    ["wJalrXUtnFEMI", "/K7MDENG/bPxRfiCY", "EXAMPLEKEY"].concat(),
                    seq("", "x", 40),
                ]
            },
        ),
        k(
            "aws",
            "aws-session-token|aws-session-token-prefixed",
            Named,
            &["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"],
            |g| {
                let n = range(g, 300, 600);
                format!("IQoJb3JpZ2luX2Vj{}", s(g, B64, n))
            },
            |g| vec![dots(g, "IQoJb3JpZ2luX2Vj", B64)],
        ),
        k(
            "aws",
            "aws-bedrock-api-key",
            Token,
            &["AWS_BEARER_TOKEN_BEDROCK"],
            |g| {
                let body = format!(
                    "BedrockAPIKey-{}-at-{}:{}",
                    s(g, LOWER, 4),
                    s(g, DIGITS, 12),
                    s(g, B64, 40)
                );
                format!("ABSK{}", b64(body.as_bytes()))
            },
            |g| {
                vec![
                    format!("ABSK{}", b64(b"BedrockAPIKey-")),
                    dots(g, "ABSKQmVkcm9ja0FQSUtleS", B64),
                ]
            },
        ),
    ]
}

fn azure_conn(g: &mut Gen, v: &Val) -> Val {
    let acct = format!(
        "{}{}",
        pick(g, &["acme", "prod", "logs", "media"]),
        s(g, LOWER_DIGITS, 6)
    );
    Val::around(
        &format!("DefaultEndpointsProtocol=https;AccountName={acct};AccountKey="),
        v,
        ";EndpointSuffix=core.windows.net",
    )
}

fn azure() -> Vec<Kind> {
    vec![
        k("azure", "azure-storage-account-key", Line,
          &["AZURE_STORAGE_CONNECTION_STRING", "STORAGE_CONNECTION_STRING"],
          |g| format!("{}==", s(g, B64, 86)),
          |g| vec![format!("{}==", s(g, B64, 40)), "<storage-account-key>".into()])
            .wrap(azure_conn),
        k("azure", "azure-sas-token", Line, &["AZURE_BLOB_SAS_URL", "SAS_URL"],
          |g| format!("{}%3D", s(g, B62, 43)),
          |g| vec![s(g, B62, 10), "<signature>".into()])
            .wrap(|g, v| {
                let acct = s(g, LOWER, 8);
                Val::around(
                    &format!("https://{acct}.blob.core.windows.net/exports/report.csv?sp=r&st=2024-01-01T00:00:00Z&se=2025-12-31T00:00:00Z&spr=https&sv=2022-11-02&sr=b&sig="),
                    v, "")
            }),
        k("azure", "azure-entra-client-secret", Named,
          &["AZURE_CLIENT_SECRET", "CLIENT_SECRET", "AAD_CLIENT_SECRET"],
          |g| format!("{}{}Q~{}", s(g, B62, 3), s(g, DIGITS, 1), s(g, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-", 34)),
          |_| vec![format!("abc1Q~{}", rep("abcd", 34))]),
        k("azure", "azure-devops-pat", Token, &["AZURE_DEVOPS_EXT_PAT", "AZDO_PAT"],
          |g| format!("{}AZDO{}", s(g, B62, 76), s(g, B62, 4)),
          |g| vec![format!("{}AZDO", s(g, B62, 20))]),
        k("azure", "azure-devops-pat-legacy", Named, &["AZURE_DEVOPS_PAT", "AZURE_DEVOPS_TOKEN", "VSTS_TOKEN"],
          |g| s(g, B32_LOWER, 52),
          |g| vec![fixture(g, FIX_B32, 52), seq("", "a", 52)]),
        k("azure", "azure-devops-pat-in-url", Line, &["AZDO_REPO_URL"],
          |g| s(g, B32_LOWER, 52),
          |_| vec!["${AZDO_PAT}".into()])
            .wrap(|g, v| {
                let org = pick(g, &["contoso", "fabrikam", "acme"]);
                Val::around(&format!("https://{org}:"), v, &format!("@dev.azure.com/{org}/app/_git/app"))
            }),
        k("azure", "azure-shared-access-key", Line,
          &["SERVICEBUS_CONNECTION_STRING", "EVENTHUB_CONNECTION_STRING"],
          |g| format!("{}=", s(g, B64, 43)),
          |_| vec!["<key>".into()])
            .wrap(|g, v| {
                let ns = s(g, LOWER, 7);
                Val::around(
                    &format!("Endpoint=sb://{ns}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey="),
                    v, "")
            }),
        k("azure", "azure-app-configuration-connection-string", Line, &["APP_CONFIG_CONNECTION_STRING"],
          |g| format!("{}=", s(g, B64, 43)),
          |_| vec!["<secret>".into()])
            .wrap(|g, v| {
                let n = s(g, LOWER, 6);
                let id = format!("{}-l0-s0:{}", s(g, B62, 4), s(g, B62, 20));
                Val::around(&format!("Endpoint=https://{n}.azconfig.io;Id={id};Secret="), v, "")
            }),
    ]
}

fn cloud_other() -> Vec<Kind> {
    vec![
        k(
            "digitalocean",
            "digitalocean-personal-access-token",
            Token,
            &["DIGITALOCEAN_TOKEN", "DO_TOKEN"],
            |g| format!("dop_v1_{}", hex(g, 64)),
            |g| vec![len(g, "dop_v1_", HEX, 40), dots(g, "dop_v1_", HEX)],
        ),
        k(
            "digitalocean",
            "digitalocean-oauth-token",
            Token,
            &["DIGITALOCEAN_ACCESS_TOKEN"],
            |g| format!("{}_v1_{}", pick(g, &["doo", "dor"]), hex(g, 64)),
            |g| vec![len(g, "doo_v1_", HEX, 32)],
        ),
        k(
            "alibaba",
            "alibaba-access-key-id",
            Token,
            &["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_ID"],
            |g| format!("LTAI5t{}", s(g, B62, 18)),
            |g| vec![len(g, "LTAI", B62, 6)],
        ),
        k(
            "alibaba",
            "alibaba-access-key-secret",
            Named,
            &[
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                "ALIYUN_ACCESS_KEY_SECRET",
            ],
            |g| s(g, B62, 30),
            |g| vec![fixture(g, FIX_ALNUM, 30), seq("", "x", 30)],
        ),
        k(
            "ibm",
            "ibm-cloud-api-key",
            Named,
            &["IBMCLOUD_API_KEY", "IC_API_KEY", "IBM_CLOUD_API_KEY"],
            |g| s(g, B64URL, 44),
            |g| vec![fixture(g, FIX_ALNUM, 44)],
        ),
        k(
            "oracle",
            "oracle-oci-credential",
            Named,
            &["OCI_CUSTOMER_SECRET_KEY", "OCI_AUTH_TOKEN"],
            |g| format!("{}=", s(g, B64, 43)),
            |g| vec![fixture(g, FIX_ALNUM, 20)],
        ),
        k(
            "cloudflare",
            "cloudflare-global-api-key",
            Token,
            &["CLOUDFLARE_API_KEY", "CF_API_KEY"],
            |g| format!("cfk_{}{}", s(g, B62, 40), hex(g, 8)),
            |g| vec![len(g, "cfk_", B62, 20)],
        ),
        k(
            "cloudflare",
            "cloudflare-api-token",
            Token,
            &["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"],
            |g| {
                format!(
                    "{}_{}{}",
                    pick(g, &["cfut", "cfat"]),
                    s(g, B62, 40),
                    hex(g, 8)
                )
            },
            |g| vec![len(g, "cfut_", B62, 20)],
        ),
        k(
            "cloudflare",
            "cloudflare-api-credential-legacy",
            Named,
            &["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CF_API_TOKEN"],
            |g| {
                if chance(g, 50) {
                    s(g, B64URL, 40)
                } else {
                    hex(g, 37)
                }
            },
            |g| vec![fixture(g, FIX_ALNUM, 40), seq("", "x", 40)],
        ),
        k(
            "cloudflare",
            "cloudflare-origin-ca-key",
            Token,
            &["CF_ORIGIN_CA_KEY"],
            |g| format!("v1.0-{}-{}", hex(g, 24), hex(g, 146)),
            |g| vec![format!("v1.0-{}-{}", hex(g, 24), hex(g, 40))],
        ),
        k(
            "heroku",
            "heroku-api-key",
            Token,
            &["HEROKU_API_KEY"],
            |g| format!("HRKU-{}", s(g, B64URL, 60)),
            |g| vec![len(g, "HRKU-", B62, 20)],
        ),
        k(
            "heroku",
            "heroku-api-key-legacy",
            Named,
            &["HEROKU_API_KEY", "HEROKU_AUTH_TOKEN"],
            uuid,
            |_| vec!["00000000-0000-0000-0000-000000000000".into()],
        ),
        k(
            "fly",
            "flyio-access-token",
            Token,
            &["FLY_API_TOKEN", "FLY_ACCESS_TOKEN"],
            |g| format!("fo1_{}", s(g, B64URL, 43)),
            |g| vec![len(g, "fo1_", B62, 20)],
        ),
        k(
            "fly",
            "flyio-macaroon-token",
            Token,
            &["FLY_API_TOKEN"],
            |g| {
                let n = range(g, 200, 400);
                let m = range(g, 60, 120);
                format!("FlyV1 fm2_{},fm2_{}", s(g, B64, n), s(g, B64, m))
            },
            |g| vec![dots(g, "FlyV1 fm2_", B64)],
        ),
        k(
            "vercel",
            "vercel-access-token",
            Named,
            &["VERCEL_TOKEN", "VERCEL_API_TOKEN"],
            |g| s(g, B62, 24),
            |g| vec![fixture(g, FIX_ALNUM, 24), seq("", "x", 24)],
        ),
        k(
            "netlify",
            "netlify-personal-access-token",
            Token,
            &["NETLIFY_AUTH_TOKEN"],
            |g| format!("nfp_{}", s(g, B62, 36)),
            |g| vec![len(g, "nfp_", B62, 16)],
        ),
        k(
            "hashicorp",
            "hashicorp-vault-token",
            Token,
            &["VAULT_TOKEN"],
            |g| {
                let n = range(g, 24, 90);
                format!(
                    "{}.{}",
                    pick(g, &["hvs", "hvs", "hvb", "hvr"]),
                    s(g, B64URL, n)
                )
            },
            |g| vec![len(g, "hvs.", B62, 12)],
        ),
        k(
            "hashicorp",
            "hashicorp-vault-token-legacy",
            Named,
            &["VAULT_TOKEN", "VAULT_ROOT_TOKEN"],
            |g| format!("s.{}", s(g, B62, 24)),
            |g| vec![len(g, "s.", B62, 10)],
        ),
        k(
            "hashicorp",
            "terraform-cloud-api-token",
            Token,
            &["TFE_TOKEN", "TF_API_TOKEN"],
            |g| {
                format!(
                    "{}.atlasv1.{}",
                    s(g, B62, 14),
                    s(
                        g,
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                        67
                    )
                )
            },
            |g| vec![format!("{}.atlasv1.{}", s(g, B62, 14), s(g, B62, 20))],
        ),
        k(
            "doppler",
            "doppler-token",
            Token,
            &["DOPPLER_TOKEN"],
            |g| {
                format!(
                    "dp.{}.{}",
                    pick(g, &["pt", "st", "ct", "sa"]),
                    s(g, B62, 43)
                )
            },
            |g| vec![len(g, "dp.pt.", B62, 20)],
        ),
        k(
            "pulumi",
            "pulumi-access-token",
            Token,
            &["PULUMI_ACCESS_TOKEN"],
            |g| format!("pul-{}", hex(g, 40)),
            |g| vec![len(g, "pul-", HEX, 20)],
        ),
    ]
}

fn code_hosting() -> Vec<Kind> {
    vec![
        k(
            "github",
            "github-pat-classic",
            Token,
            &["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"],
            |g| crc_token(g, "ghp_"),
            |g| vec![crc_token_bad(g, "ghp_"), seq("ghp_", B62, 36)],
        ),
        k(
            "github",
            "github-oauth-token",
            Token,
            &["GITHUB_OAUTH_TOKEN", "GH_OAUTH_TOKEN"],
            |g| {
                let p = pick(g, &["gho_", "ghu_"]);
                crc_token(g, p)
            },
            |g| vec![crc_token_bad(g, "gho_")],
        ),
        k(
            "github",
            "github-app-installation-token",
            Token,
            &["GITHUB_TOKEN", "GH_TOKEN"],
            |g| crc_token(g, "ghs_"),
            |g| vec![crc_token_bad(g, "ghs_")],
        ),
        k(
            "github",
            "github-app-installation-token-stateless",
            Token,
            &["GITHUB_TOKEN"],
            |g| {
                let app = s(g, DIGITS, 7);
                let j = jwt(g);
                format!("ghs_{app}_{j}")
            },
            |g| vec![format!("ghs_{}_eyJ...", s(g, DIGITS, 7))],
        ),
        k(
            "github",
            "github-refresh-token",
            Token,
            &["GITHUB_REFRESH_TOKEN"],
            |g| format!("ghr_{}", s(g, B62, 76)),
            |g| vec![len(g, "ghr_", B62, 50)],
        ),
        k(
            "github",
            "github-fine-grained-pat",
            Token,
            &["GITHUB_TOKEN", "GH_PAT"],
            |g| format!("github_pat_{}_{}", s(g, B62, 22), s(g, B62, 59)),
            |g| vec![format!("github_pat_{}_{}", s(g, B62, 22), s(g, B62, 30))],
        ),
        k(
            "gitlab",
            "gitlab-personal-access-token",
            Token,
            &["GITLAB_TOKEN", "GL_TOKEN", "GITLAB_PAT"],
            |g| format!("glpat-{}", s(g, B64URL, 20)),
            |g| vec![len(g, "glpat-", B62, 12), seq("glpat-", "x", 20)],
        ),
        k(
            "gitlab",
            "gitlab-deploy-token",
            Token,
            &["CI_DEPLOY_PASSWORD", "GITLAB_DEPLOY_TOKEN"],
            |g| format!("gldt-{}", s(g, B64URL, 20)),
            |g| vec![len(g, "gldt-", B62, 10)],
        ),
        k(
            "gitlab",
            "gitlab-runner-authentication-token",
            Token,
            &["RUNNER_TOKEN", "CI_SERVER_TOKEN"],
            |g| format!("glrt-{}", s(g, B64URL, 20)),
            |g| vec![len(g, "glrt-", B62, 10)],
        ),
        k(
            "gitlab",
            "gitlab-runner-registration-token",
            Token,
            &["REGISTRATION_TOKEN"],
            |g| format!("GR1348941{}", s(g, B64URL, 20)),
            |g| vec![len(g, "GR1348941", B62, 8)],
        ),
        k(
            "gitlab",
            "gitlab-pipeline-trigger-token",
            Token,
            &["TRIGGER_TOKEN"],
            |g| format!("glptt-{}", s(g, B64URL, 40)),
            |g| vec![len(g, "glptt-", B62, 10)],
        ),
        k(
            "gitlab",
            "gitlab-oauth-application-secret",
            Token,
            &["GITLAB_OAUTH_SECRET"],
            |g| format!("gloas-{}", hex(g, 64)),
            |g| vec![len(g, "gloas-", HEX, 30)],
        ),
        k(
            "gitlab",
            "gitlab-scim-token",
            Token,
            &["SCIM_TOKEN"],
            |g| format!("glsoat-{}", s(g, B64URL, 20)),
            |g| vec![len(g, "glsoat-", B62, 10)],
        ),
        k(
            "gitlab",
            "gitlab-agent-token",
            Token,
            &["AGENT_TOKEN", "GITLAB_AGENT_TOKEN"],
            |g| format!("glagent-{}", s(g, B64URL, 50)),
            |g| vec![len(g, "glagent-", B62, 20)],
        ),
        k(
            "gitlab",
            "gitlab-limited-token",
            Token,
            &["CI_JOB_TOKEN"],
            |g| format!("glcbt-{}_{}", hex(g, 2), s(g, B64URL, 20)),
            |g| vec![len(g, "glcbt-", B62, 8)],
        ),
        k(
            "atlassian",
            "atlassian-api-token",
            Token,
            &[
                "JIRA_API_TOKEN",
                "CONFLUENCE_API_TOKEN",
                "ATLASSIAN_API_TOKEN",
            ],
            |g| {
                format!(
                    "ATATT3xFfGF0{}={}",
                    s(g, B64URL, 170),
                    s(g, "0123456789ABCDEF", 8)
                )
            },
            |g| vec![dots(g, "ATATT3xFfGF0", B62)],
        ),
        k(
            "atlassian",
            "bitbucket-app-password",
            Token,
            &["BITBUCKET_APP_PASSWORD"],
            |g| format!("ATBB{}", s(g, B62, 32)),
            |g| vec![len(g, "ATBB", B62, 12)],
        ),
        k(
            "atlassian",
            "bitbucket-app-password-legacy",
            Named,
            &["BITBUCKET_APP_PASSWORD", "BITBUCKET_TOKEN"],
            |g| s(g, B62, 20),
            |g| vec![fixture(g, FIX_ALNUM, 20), seq("", "x", 20)],
        ),
        k(
            "circleci",
            "circleci-api-token",
            Token,
            &["CIRCLECI_TOKEN", "CIRCLE_TOKEN"],
            |g| format!("CCIPAT_{}_{}", s(g, B62, 22), hex(g, 40)),
            |g| vec![format!("CCIPAT_{}_{}", s(g, B62, 22), hex(g, 10))],
        ),
        k(
            "travis",
            "travis-ci-api-token",
            Named,
            &["TRAVIS_API_TOKEN", "TRAVIS_TOKEN"],
            |g| s(g, B64URL, 22),
            |g| vec![fixture(g, FIX_ALNUM, 22), seq("", "x", 22)],
        ),
        k(
            "jenkins",
            "jenkins-api-token",
            Named,
            &["JENKINS_API_TOKEN", "JENKINS_TOKEN"],
            |g| format!("11{}", hex(g, 32)),
            |g| vec![fixture(g, FIX_HEX, 34), seq("", "0", 34)],
        ),
        k(
            "buildkite",
            "buildkite-api-token",
            Token,
            &["BUILDKITE_API_TOKEN"],
            |g| format!("bkua_{}", hex(g, 40)),
            |g| vec![len(g, "bkua_", HEX, 20)],
        ),
    ]
}

/// base64 of `user:value` (all of it secret when the value is); a placeholder stays as written.
fn b64_userpass(g: &mut Gen, v: &Val) -> Val {
    let u = user(g);
    if v.is_secret() {
        Val::secret(b64(format!("{u}:{}", v.text).as_bytes()))
    } else if v.raw {
        v.clone()
    } else {
        // Fakes come from documentation: `username:password`, `user:token`.
        Val::plain(b64(format!("username:{}", v.text).as_bytes()))
    }
}

/// base64 of the value (all of it secret when the value is); a placeholder stays as written.
fn b64_val(v: &Val) -> Val {
    if v.is_secret() {
        Val::secret(b64(v.text.as_bytes()))
    } else if v.raw {
        v.clone()
    } else {
        Val::plain(b64(v.text.as_bytes()))
    }
}

fn config_files() -> Vec<Kind> {
    vec![
        k("npm", "npmrc-auth-token", File, &[],
          |g| if chance(g, 50) { uuid(g) } else { s(g, B64URL, 40) },
          |_| vec!["${NPM_TOKEN}".into(), "00000000-0000-0000-0000-000000000000".into()])
            .paths(&[".npmrc", "frontend/.npmrc", ".yarnrc"])
            .wrap(|g, v| {
                let reg = pick(g, &["//registry.npmjs.org/", "//npm.pkg.github.com/", "//nexus.corp.local/repository/npm-private/"]);
                let mut out = Val::plain(format!("registry=https:{reg}\n"));
                let line = format!("{reg}:_authToken=");
                out.push(&line).push_val(v).push("\nalways-auth=true\n");
                out
            }),
        k("npm", "npmrc-auth-basic", File, &[],
          password,
          |_| vec!["${NPM_AUTH}".into()])
            .paths(&[".npmrc"])
            .wrap(|g, v| {
                let inner = b64_userpass(g, v);
                let mut out = Val::plain("registry=https://nexus.corp.local/repository/npm-group/\n_auth=");
                out.push_val(&inner).push("\nalways-auth=true\nemail=ci@acme.io\n");
                out
            }),
        k("npm", "npmrc-password", File, &[],
          password,
          |_| vec!["${NPM_PASSWORD}".into()])
            .paths(&[".npmrc"])
            .wrap(|g, v| {
                let feed = "//pkgs.dev.azure.com/acme/_packaging/feed/npm/registry/";
                let inner = b64_val(v);
                let mut out = Val::plain(format!("registry=https:{feed}\nalways-auth=true\n{feed}:username={}\n{feed}:_password=", user(g)));
                out.push_val(&inner).push(&format!("\n{feed}:email=npm@acme.io\n"));
                out
            }),
        k("pypi", "pypirc-password", File, &[],
          password,
          |_| vec!["<your password>".into(), "%(PYPI_PASSWORD)s".into()])
            .paths(&[".pypirc"])
            .wrap(|g, v| {
                let mut out = Val::plain(format!(
                    "[distutils]\nindex-servers =\n    pypi\n    internal\n\n[pypi]\nusername = {}\npassword = ",
                    user(g)));
                out.push_val(v).push("\n\n[internal]\nrepository = https://pypi.corp.local/simple/\nusername = ci\n");
                out
            }),
        k("netrc", "netrc-password", File, &[],
          |g| if chance(g, 30) { crc_token(g, "ghp_") } else { password(g) },
          |_| vec!["x-oauth-basic".into(), "$GITHUB_TOKEN".into()])
            .paths(&[".netrc", "_netrc", "ci/netrc"])
            .wrap(|g, v| {
                let m = pick(g, &["api.heroku.com", "github.com", "artifactory.corp.local", "ftp.partner.net"]);
                let u = user(g);
                let mut out = Val::plain(format!("machine {m}\n  login {u}\n  password "));
                out.push_val(v).push("\nmachine backup.corp.local login ops password-file /etc/ops.pw\n");
                out
            }),
        k("docker", "docker-config-auth", File, &[],
          password,
          |_| vec!["password".into(), "token".into()])
            .paths(&[".docker/config.json", "dockerconfig.json"])
            .wrap(|g, v| {
                let reg = pick(g, &["https://index.docker.io/v1/", "registry.gitlab.com", "ghcr.io", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"]);
                let inner = b64_userpass(g, v);
                let mut out = Val::plain(format!("{{\n  \"auths\": {{\n    \"{reg}\": {{\n      \"auth\": \""));
                out.push_val(&inner).push("\"\n    }\n  },\n  \"credsStore\": \"\",\n  \"experimental\": \"disabled\"\n}\n");
                out
            }),
        k("kubernetes", "kubernetes-secret-data|kubernetes-secret-data-kubectl", File, &[],
          password,
          |_| vec!["changeme".into(), "password".into()])
            .paths(&["k8s/secret.yaml", "deploy/db-secret.yml", "manifests/app-secret.yaml"])
            .wrap(|g, v| {
                let name = pick(g, &["db-credentials", "api-keys", "smtp", "app-env"]);
                let key = pick(g, &["password", "api-key", "token", "DB_PASSWORD"]);
                let inner = b64_val(v);
                // The user name is not a secret, nor a negative: findings there do not count.
                let u = b64(user(g).as_bytes());
                let order = range(g, 0, 2);
                let mut out = Val::default();
                if order == 0 {
                    // kubectl get secret -o yaml: keys sorted, data: before kind:.
                    out.push(&format!("apiVersion: v1\ndata:\n  {key}: ")).push_val(&inner)
                        .push("\n  username: ").push_neutral(&u)
                        .push(&format!("\nkind: Secret\nmetadata:\n  creationTimestamp: \"2024-04-11T08:12:55Z\"\n  name: {name}\n  namespace: prod\n  resourceVersion: \"{}\"\n  uid: {}\ntype: Opaque\n", s(g, DIGITS, 8), uuid(g)));
                } else {
                    out.push(&format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: prod\n  labels:\n    app.kubernetes.io/name: {name}\ntype: Opaque\ndata:\n"));
                    if order == 1 {
                        out.push(&format!("  {key}: ")).push_val(&inner).push("\n  username: ").push_neutral(&u).push("\n");
                    } else {
                        out.push("  username: ").push_neutral(&u).push(&format!("\n  {key}: ")).push_val(&inner).push("\n");
                    }
                }
                out
            }),
        k("kubernetes", "kubernetes-secret-stringdata", File, &[],
          password,
          |_| vec!["changeme".into(), "${DB_PASSWORD}".into()])
            .paths(&["k8s/secret.yaml", "charts/app/templates/secret.yaml"])
            .wrap(|g, v| {
                let name = pick(g, &["smtp", "db", "queue"]);
                let key = pick(g, &["SMTP_PASSWORD", "DB_PASS", "password", "RABBITMQ_PASSWORD"]);
                let mut out = Val::plain(format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: Opaque\nstringData:\n  {key}: \""));
                out.push_val(v).push(&format!("\"\n  {}_HOST: {}\n", name.to_uppercase(), host(g)));
                out
            }),
        k("htpasswd", "htpasswd-hash", File, &[],
          |g| match range(g, 0, 2) {
              0 => format!("$2y$10${}", s(g, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 53)),
              1 => format!("$apr1${}${}", s(g, B62, 8), s(g, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 22)),
              _ => format!("{{SHA}}{}=", s(g, B64, 27)),
          },
          |_| vec!["*".into(), "!".into()])
            .paths(&[".htpasswd", "nginx/htpasswd"])
            .wrap(|g, v| {
                let mut out = Val::plain(format!("{}:", user(g)));
                out.push_val(v).push("\n");
                out
            }),
        k("docker", "docker-login-password", Command, &[],
          password,
          |_| vec!["$REGISTRY_PASSWORD".into(), "\"${CI_REGISTRY_PASSWORD}\"".into()])
            .wrap(|g, v| {
                let reg = pick(g, &["registry.corp.local", "ghcr.io", "docker.io"]);
                let flag = pick(g, &["-p ", "--password ", "--password="]);
                let mut out = Val::plain(format!("docker login -u {} {flag}", user(g)));
                out.push_val(v).push(&format!(" {reg}"));
                out
            }),
    ]
}

fn database() -> Vec<Kind> {
    fn pw_near(_: &mut Gen) -> Vec<String> {
        vec![
            "postgres".into(),
            "password".into(),
            "${DB_PASSWORD}".into(),
        ]
    }
    vec![
        k("postgres", "postgres-connection-string", Line, &["DATABASE_URL", "POSTGRES_URL", "PG_DSN"],
          url_password, pw_near)
            .wrap(|g, v| { let sch = pick(g, &["postgres", "postgresql", "postgresql+psycopg2"]); db_url(g, v, sch, 5432) }),
        k("mysql", "mysql-connection-string", Line, &["DATABASE_URL", "MYSQL_URL"],
          url_password, |_| vec!["root".into(), "mysql".into()])
            .wrap(|g, v| { let sch = pick(g, &["mysql", "mysql2", "mariadb", "mysql+pymysql"]); db_url(g, v, sch, 3306) }),
        k("mongodb", "mongodb-connection-string", Line, &["MONGO_URI", "MONGODB_URL"],
          url_password, |_| vec!["<password>".into(), "mongo".into()])
            .wrap(|g, v| { let sch = pick(g, &["mongodb", "mongodb+srv"]); db_url(g, v, sch, 27017) }),
        k("redis", "redis-connection-string", Line, &["REDIS_URL", "CACHE_URL"],
          url_password, |_| vec!["redis".into(), "${REDIS_PASSWORD}".into()])
            .wrap(|g, v| { let sch = pick(g, &["redis", "rediss"]); db_url(g, v, sch, 6379) }),
        k("rabbitmq", "amqp-connection-string", Line, &["AMQP_URL", "BROKER_URL", "CELERY_BROKER_URL"],
          url_password, |_| vec!["guest".into()])
            .wrap(|g, v| { let sch = pick(g, &["amqp", "amqps"]); db_url(g, v, sch, 5672) }),
        k("mssql", "mssql-connection-string", Line, &["MSSQL_URL", "SQLSERVER_DSN"],
          url_password, |_| vec!["<sa-password>".into()])
            .wrap(|g, v| { let sch = pick(g, &["mssql", "sqlserver", "mssql+pyodbc"]); db_url(g, v, sch, 1433) }),
        k("dotnet", "dotnet-connection-string-password", Line, &["CONNECTION_STRING", "DEFAULT_CONNECTION"],
          password, |_| vec!["{your_password}".into(), "$(DbPassword)".into()])
            .wrap(|g, v| {
                let (pre, post) = if chance(g, 50) {
                    (format!("Server=tcp:{}.database.windows.net,1433;Initial Catalog={};Persist Security Info=False;User ID={};Password=", s(g, LOWER, 8), db_name(g), user(g)),
                     ";MultipleActiveResultSets=False;Encrypt=True;Connection Timeout=30;".to_string())
                } else {
                    (format!("Data Source={};Initial Catalog={};User Id={};Password=", host(g), db_name(g), user(g)), ";".to_string())
                };
                Val::around(&pre, v, &post)
            }),
        k("mssql", "mssql-jdbc-connection-string", Line, &["SPRING_DATASOURCE_URL", "JDBC_URL"],
          password, |_| vec!["${DB_PASSWORD}".into()])
            .wrap(|g, v| Val::around(
                &format!("jdbc:sqlserver://{}:1433;databaseName={};user={};password=", host(g), db_name(g), user(g)),
                v, ";encrypt=true;trustServerCertificate=false")),
        k("jdbc", "jdbc-connection-string-password", Line, &["JDBC_URL", "DB_URL"],
          |g| { let mut p = password(g); p.retain(|c| c != '#'); p },
          |_| vec!["${DB_PASSWORD}".into(), "secret".into()])
            .wrap(|g, v| {
                let sub = pick(g, &["postgresql", "mysql", "mariadb"]);
                Val::around(&format!("jdbc:{sub}://{}:5432/{}?user={}&password=", host(g), db_name(g), user(g)), v, "&ssl=true")
            }),
        k("oracle", "oracle-jdbc-connection-string", Line, &["ORACLE_URL", "JDBC_URL"],
          |g| { let mut p = password(g); p.retain(|c| c != '/' && c != '@'); p },
          |_| vec!["tiger".into()])
            .wrap(|g, v| {
                let u = pick(g, &["APPS", "SCOTT_RO", "HR"]).to_string();
                Val::around(&format!("jdbc:oracle:thin:{u}/"), v, &format!("@{}:1521/ORCLPDB1", host(g)))
            }),
        k("snowflake", "snowflake-connection-string", Line, &["SNOWFLAKE_URL"],
          url_password, |_| vec!["snowflake".into()])
            .wrap(|g, v| Val::around(&format!("snowflake://{}:", user(g).to_uppercase()), v,
                &format!("@{}.eu-central-1/ANALYTICS/PUBLIC?warehouse=LOAD_WH", s(g, LOWER_DIGITS, 7)))),
        k("clickhouse", "clickhouse-connection-string", Line, &["CLICKHOUSE_DSN"],
          url_password, |_| vec!["clickhouse".into()])
            .wrap(|g, v| db_url(g, v, "clickhouse", 9000)),
        k("cockroachdb", "cockroachdb-connection-string", Line, &["COCKROACH_URL"],
          url_password, |_| vec!["${COCKROACH_PASSWORD}".into()])
            .wrap(|g, v| db_url(g, v, "cockroachdb", 26257)),
        k("mysql", "mysql-cli-password", Command, &[],
          |g| { let mut p = password(g); p.retain(|c| c != '-'); p },
          |_| vec!["$MYSQL_PWD".into(), "\"${DB_PASSWORD}\"".into()])
            .wrap(|g, v| {
                let tool = pick(g, &["mysql", "mysqldump", "mysqladmin"]);
                let mut out = Val::plain(format!("{tool} -h {} -u {} -p", host(g), user(g)));
                out.push_val(v).push(&format!(" {}", db_name(g)));
                out
            }),
    ]
}

fn gcp_sa(g: &mut Gen, v: &Val) -> Val {
    let proj = format!(
        "{}-{}",
        pick(g, &["acme", "data", "ml"]),
        range(g, 100000, 999999)
    );
    let kid = hex(g, 40);
    let key = armor("PRIVATE KEY", v).map(|t| t.replace('\n', "\\n"));
    let mut out = Val::plain(format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"{proj}\",\n  \"private_key_id\": \"{kid}\",\n  \"private_key\": \""));
    out.push_val(&key);
    out.push(&format!(
        "\",\n  \"client_email\": \"deployer@{proj}.iam.gserviceaccount.com\",\n  \"client_id\": \"{}\",\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}}\n",
        s(g, DIGITS, 21)));
    out
}

fn gcp() -> Vec<Kind> {
    vec![
        k(
            "gcp",
            "gcp-api-key",
            Token,
            &["GOOGLE_API_KEY", "FIREBASE_API_KEY", "MAPS_API_KEY"],
            |g| format!("AIza{}", s(g, B64URL, 35)),
            |g| vec![len(g, "AIza", B62, 20)],
        ),
        k(
            "gcp",
            "gcp-service-account-key",
            File,
            &[],
            |g| {
                der_body(
                    g,
                    &[
                        0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09,
                    ],
                    900,
                )
            },
            pem_placeholder,
        )
        .paths(&[
            "service-account.json",
            "credentials/gcp-sa.json",
            "terraform/key.json",
        ])
        .wrap(gcp_sa),
        k(
            "gcp",
            "gcp-oauth-client-secret",
            Token,
            &["GOOGLE_CLIENT_SECRET", "OAUTH_CLIENT_SECRET"],
            |g| format!("GOCSPX-{}", s(g, B64URL, 28)),
            |g| vec![len(g, "GOCSPX-", B62, 12)],
        ),
        k(
            "gcp",
            "gcp-oauth-refresh-token",
            Token,
            &["GOOGLE_REFRESH_TOKEN"],
            |g| format!("1//0{}{}", s(g, B62, 2), s(g, B64URL, 97)),
            |g| vec![len(g, "1//0", B62, 20)],
        ),
        k(
            "gcp",
            "gcp-oauth-access-token",
            Token,
            &["GOOGLE_ACCESS_TOKEN"],
            |g| {
                let n = range(g, 150, 220);
                format!("ya29.a0{}", s(g, B64URL, n))
            },
            |g| vec![len(g, "ya29.", B62, 20), dots(g, "ya29.", B62)],
        ),
    ]
}

fn generic() -> Vec<Kind> {
    vec![
        k(
            "generic-password",
            "generic-password-assignment|generic-password-config|generic-xml-password-element|generic-xml-password-attribute|generic-cli-secret-flag|generic-env-name-value",
            Named,
            &[
                "DB_PASSWORD",
                "PASSWORD",
                "SMTP_PASSWORD",
                "ADMIN_PASS",
                "REDIS_PASSWD",
                "LDAP_BIND_PASSWORD",
                "KEYSTORE_PASSWORD",
                "MAIL_PWD",
            ],
            password,
            |_| {
                vec![
                    "password".into(),
                    "P@ssw0rd".into(),
                    "hunter2".into(),
                    "admin123".into(),
                ]
            },
        ),
        k(
            "generic-secret",
            "generic-secret-assignment|generic-secret-config|generic-xml-password-element|generic-xml-password-attribute|generic-env-name-value",
            Named,
            &[
                "CLIENT_SECRET",
                "APP_SECRET",
                "SECRET_KEY",
                "JWT_SECRET",
                "SESSION_SECRET",
                "WEBHOOK_SECRET",
                "ENCRYPTION_KEY_SECRET",
                "PARTNER_API_KEY",
                "INTERNAL_API_KEY",
                "SIGNING_PRIVATE_KEY",
            ],
            |g| {
                if chance(g, 50) {
                    sr(g, B62, 24, 48)
                } else {
                    sr(g, B64URL, 32, 64)
                }
            },
            |g| {
                vec![
                    "your-secret-key".into(),
                    "super-secret".into(),
                    "not-a-real-secret".into(),
                    fixture(g, FIX_ALNUM, 32),
                ]
            },
        ),
        k(
            "generic-token",
            "generic-token-assignment|generic-token-config|generic-xml-password-element|generic-xml-password-attribute|generic-env-name-value",
            Named,
            &[
                "ACCESS_TOKEN",
                "AUTH_TOKEN",
                "API_TOKEN",
                "BOT_TOKEN",
                "REFRESH_TOKEN",
                "DEPLOY_TOKEN",
                "BEARER_TOKEN",
                "SERVICE_AUTH_TOKEN",
            ],
            |g| sr(g, B64URL, 32, 64),
            |g| {
                vec![
                    "dummy-token".into(),
                    "test-token-123".into(),
                    "TOKEN_GOES_HERE".into(),
                    fixture(g, FIX_ALNUM, 40),
                ]
            },
        ),
        k(
            "generic-cli",
            "generic-cli-secret-flag",
            Command,
            &[],
            password,
            |_| vec!["\"$DB_PASSWORD\"".into(), "${{ secrets.API_TOKEN }}".into()],
        )
        .wrap(|g, v| {
            let (pre, flag) = pick(
                g,
                &[
                    (
                        "helm upgrade --install app ./chart --set image.tag=1.4.2",
                        "--db-password=",
                    ),
                    ("./bin/migrate --host db.internal --user app", "--password "),
                    (
                        "vault-sync run --endpoint https://vault.corp.local",
                        "--client-secret=",
                    ),
                    ("acme-cli deploy --env prod", "--api-key "),
                ],
            );
            let mut out = Val::plain(format!("{pre} {flag}"));
            out.push_val(v).push(" --verbose");
            let _ = g;
            out
        }),
        k(
            "sshpass",
            "sshpass-password",
            Command,
            &[],
            |g| {
                let mut p = password(g);
                p.retain(|c| c != '-');
                p
            },
            |_| vec!["\"$SSH_PASS\"".into()],
        )
        .wrap(|g, v| {
            let mut out = Val::plain("sshpass -p '");
            out.push_val(v).push(&format!(
                "' ssh -o StrictHostKeyChecking=no {}@10.0.{}.{} 'systemctl restart app'",
                user(g),
                range(g, 0, 9),
                range(g, 2, 250)
            ));
            out
        }),
    ]
}

fn jwt_kinds() -> Vec<Kind> {
    vec![k(
        "jwt",
        "jwt",
        Token,
        &["JWT", "ID_TOKEN", "SERVICE_JWT", "AUTH_JWT"],
        jwt,
        |_| {
            vec![
                // The jwt.io sample token, split so that this file does not carry it whole.
                [
                    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
                    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
                ]
                .concat(),
                "eyJhbGciOiJIUzI1NiJ9.eyJ...".into(),
            ]
        },
    )]
}

fn slack_hook(g: &mut Gen) -> String {
    format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        s(g, UPPER_DIGITS, 10),
        s(g, UPPER_DIGITS, 10),
        s(g, B62, 24)
    )
}

fn messaging() -> Vec<Kind> {
    vec![
        k(
            "slack",
            "slack-bot-token",
            Token,
            &["SLACK_BOT_TOKEN", "SLACK_TOKEN"],
            |g| {
                format!(
                    "xoxb-{}-{}-{}",
                    s(g, DIGITS, 12),
                    s(g, DIGITS, 13),
                    s(g, B62, 24)
                )
            },
            |g| {
                vec![
                    ["xoxb-", "not-a-real-token-this-will-not-work"].concat(),
                    dots(g, "xoxb-", DIGITS),
                ]
            },
        ),
        k(
            "slack",
            "slack-user-token",
            Token,
            &["SLACK_USER_TOKEN"],
            |g| {
                format!(
                    "xoxp-{}-{}-{}-{}",
                    s(g, DIGITS, 12),
                    s(g, DIGITS, 12),
                    s(g, DIGITS, 13),
                    hex(g, 32)
                )
            },
            |g| vec![format!("xoxp-{}-{}", s(g, DIGITS, 12), hex(g, 8))],
        ),
        k(
            "slack",
            "slack-rotating-token",
            Token,
            &["SLACK_TOKEN"],
            |g| format!("xoxe.xoxp-1-{}", s(g, B64URL, 140)),
            |g| vec![dots(g, "xoxe.xoxp-1-", B62)],
        ),
        k(
            "slack",
            "slack-legacy-token",
            Token,
            &["SLACK_LEGACY_TOKEN"],
            |g| {
                format!(
                    "{}-{}-{}-{}",
                    pick(g, &["xoxa", "xoxs", "xoxo", "xoxr"]),
                    s(g, DIGITS, 10),
                    s(g, DIGITS, 11),
                    s(g, B62, 32)
                )
            },
            |g| vec![format!("xoxs-{}", s(g, DIGITS, 6))],
        ),
        k(
            "slack",
            "slack-app-token",
            Token,
            &["SLACK_APP_TOKEN"],
            |g| {
                format!(
                    "xapp-1-A{}-{}-{}",
                    s(g, UPPER_DIGITS, 10),
                    s(g, DIGITS, 13),
                    hex(g, 64)
                )
            },
            |g| vec![format!("xapp-1-A{}-{}", s(g, UPPER_DIGITS, 10), hex(g, 8))],
        ),
        k(
            "slack",
            "slack-webhook-url",
            Line,
            &["SLACK_WEBHOOK_URL", "SLACK_WEBHOOK"],
            slack_hook,
            |_| {
                vec![
                    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
                        .into(),
                ]
            },
        ),
        k(
            "slack",
            "slack-workflow-webhook-url",
            Line,
            &["SLACK_WORKFLOW_URL"],
            |g| {
                format!(
                    "https://hooks.slack.com/workflows/T{}/A{}/{}/{}",
                    s(g, UPPER_DIGITS, 10),
                    s(g, UPPER_DIGITS, 10),
                    s(g, DIGITS, 18),
                    s(g, B62, 32)
                )
            },
            |_| {
                vec!["https://hooks.slack.com/workflows/TXXXXXXXXX/AXXXXXXXXX/000000000000000000/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into()]
            },
        ),
        k(
            "discord",
            "discord-webhook-url",
            Line,
            &["DISCORD_WEBHOOK_URL", "DISCORD_WEBHOOK"],
            |g| {
                format!(
                    "https://discord.com/api/webhooks/{}/{}",
                    s(g, DIGITS, 19),
                    s(g, B64URL, 68)
                )
            },
            |_| vec!["https://discord.com/api/webhooks/<id>/<token>".into()],
        ),
        k(
            "discord",
            "discord-bot-token",
            Named,
            &["DISCORD_TOKEN", "DISCORD_BOT_TOKEN"],
            |g| {
                let id = format!("1{}", s(g, DIGITS, 18));
                format!(
                    "{}.{}.{}",
                    b64url(id.as_bytes()),
                    s(g, B64URL, 6),
                    s(g, B64URL, 38)
                )
            },
            |g| {
                vec![format!(
                    "{}.xxxxxx.xxxxxxxx",
                    b64url(format!("1{}", s(g, DIGITS, 18)).as_bytes())
                )]
            },
        ),
        k(
            "telegram",
            "telegram-bot-token",
            Named,
            &["TELEGRAM_BOT_TOKEN", "TELEGRAM_TOKEN"],
            |g| format!("{}:AA{}", s(g, DIGITS, 10), s(g, B64URL, 33)),
            |g| {
                vec![
                    format!("110201543:AA{}", s(g, B64URL, 33)),
                    format!("{}:AAxxxxxxxx", s(g, DIGITS, 10)),
                ]
            },
        ),
        k(
            "twilio",
            "twilio-api-key-sid",
            Named,
            &["TWILIO_API_KEY", "TWILIO_API_KEY_SID"],
            |g| format!("SK{}", hex(g, 32)),
            |_| vec!["SKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into()],
        ),
        k(
            "twilio",
            "twilio-api-key-secret",
            Named,
            &["TWILIO_API_SECRET", "TWILIO_SECRET"],
            |g| s(g, B62, 32),
            |_| vec!["your_api_secret".into()],
        ),
        k(
            "twilio",
            "twilio-auth-token",
            Named,
            &["TWILIO_AUTH_TOKEN"],
            |g| hex(g, 32),
            |_| vec!["your_auth_token".into(), "[AuthToken]".into()],
        ),
        k(
            "twilio",
            "twilio-credentials-in-url",
            Line,
            &["TWILIO_URL"],
            |g| format!("AC{}:{}", hex(g, 32), hex(g, 32)),
            |_| vec!["$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN".into()],
        )
        .wrap(|_, v| Val::around("https://", v, "@api.twilio.com/2010-04-01/Accounts.json")),
        k(
            "sendgrid",
            "sendgrid-api-key",
            Token,
            &["SENDGRID_API_KEY"],
            |g| format!("SG.{}.{}", s(g, B64URL, 22), s(g, B64URL, 43)),
            |g| vec![format!("SG.{}", s(g, B62, 12)), dots(g, "SG.", B62)],
        ),
        k(
            "mailgun",
            "mailgun-api-key",
            Named,
            &["MAILGUN_API_KEY", "MAILGUN_KEY"],
            |g| {
                if chance(g, 50) {
                    format!("key-{}", hex(g, 32))
                } else {
                    format!("{}-{}-{}", hex(g, 32), hex(g, 8), hex(g, 8))
                }
            },
            |_| vec!["key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into()],
        ),
        k(
            "mailchimp",
            "mailchimp-api-key",
            Token,
            &["MAILCHIMP_API_KEY"],
            |g| format!("{}-us{}", hex(g, 32), range(g, 1, 21)),
            |g| vec![format!("{}-us6", hex(g, 16))],
        ),
        k(
            "postmark",
            "postmark-api-token",
            Named,
            &["POSTMARK_SERVER_TOKEN", "POSTMARK_API_TOKEN"],
            uuid,
            |_| {
                vec![
                    "POSTMARK_API_TEST".into(),
                    "00000000-0000-0000-0000-000000000000".into(),
                ]
            },
        ),
        k(
            "microsoft-teams",
            "microsoft-teams-webhook-url",
            Line,
            &["TEAMS_WEBHOOK_URL"],
            |g| {
                let (a, b, c, d) = (uuid(g), uuid(g), hex(g, 32), uuid(g));
                format!(
                    "https://{}.webhook.office.com/webhookb2/{a}@{b}/IncomingWebhook/{c}/{d}",
                    s(g, LOWER, 7)
                )
            },
            |_| vec!["https://outlook.office.com/webhook/<id>/IncomingWebhook/<id>/<id>".into()],
        ),
    ]
}

fn payments() -> Vec<Kind> {
    vec![
        k(
            "stripe",
            "stripe-secret-key-live",
            Token,
            &["STRIPE_SECRET_KEY", "STRIPE_API_KEY"],
            |g| {
                if chance(g, 50) {
                    format!("sk_live_51{}", s(g, B62, 97))
                } else {
                    format!("sk_live_{}", s(g, B62, 24))
                }
            },
            |g| vec![dots(g, "sk_live_", B62), len(g, "sk_live_", B62, 10)],
        ),
        k(
            "stripe",
            "stripe-restricted-key-live",
            Token,
            &["STRIPE_RESTRICTED_KEY"],
            |g| format!("rk_live_51{}", s(g, B62, 97)),
            |g| vec![dots(g, "rk_live_", B62)],
        ),
        k(
            "stripe",
            "stripe-test-key",
            Token,
            &["STRIPE_SECRET_KEY", "STRIPE_TEST_KEY"],
            |g| format!("sk_test_51{}", s(g, B62, 97)),
            |_| vec![["sk_test_4eC39Hq", "LyjWDarjtT1zdp7dc"].concat()],
        ),
        k(
            "stripe",
            "stripe-webhook-secret",
            Token,
            &["STRIPE_WEBHOOK_SECRET"],
            |g| format!("whsec_{}", s(g, B62, 32)),
            |g| vec![dots(g, "whsec_", B62), len(g, "whsec_", B62, 16)],
        ),
        k(
            "square",
            "square-access-token",
            Named,
            &["SQUARE_ACCESS_TOKEN"],
            |g| format!("EAAA{}", s(g, B64URL, 60)),
            |g| vec![dots(g, "EAAA", B62)],
        ),
        k(
            "square",
            "square-oauth-token-legacy",
            Token,
            &["SQUARE_TOKEN"],
            |g| format!("sq0atp-{}", s(g, B64URL, 22)),
            |g| vec![len(g, "sq0atp-", B62, 10)],
        ),
        k(
            "square",
            "square-oauth-secret",
            Token,
            &["SQUARE_APPLICATION_SECRET"],
            |g| format!("sq0csp-{}", s(g, B64URL, 43)),
            |g| vec![len(g, "sq0csp-", B62, 20)],
        ),
        k(
            "braintree",
            "braintree-access-token",
            Token,
            &["BRAINTREE_ACCESS_TOKEN"],
            |g| {
                format!(
                    "access_token$production${}${}",
                    s(g, LOWER_DIGITS, 16),
                    hex(g, 32)
                )
            },
            |g| {
                vec![format!(
                    "access_token$sandbox${}${}",
                    s(g, LOWER_DIGITS, 16),
                    hex(g, 32)
                )]
            },
        ),
        k(
            "braintree",
            "braintree-private-key",
            Named,
            &["BRAINTREE_PRIVATE_KEY"],
            |g| hex(g, 32),
            |_| vec!["your_private_key".into()],
        ),
        k(
            "paypal",
            "paypal-client-secret",
            Named,
            &["PAYPAL_CLIENT_SECRET", "PAYPAL_SECRET"],
            |g| format!("E{}", s(g, B64URL, 79)),
            |_| vec!["<PAYPAL_CLIENT_SECRET>".into()],
        ),
        k(
            "shopify",
            "shopify-access-token",
            Token,
            &["SHOPIFY_ACCESS_TOKEN", "SHOPIFY_ADMIN_TOKEN"],
            |g| format!("{}_{}", pick(g, &["shpat", "shpca", "shppa"]), hex(g, 32)),
            |g| vec![len(g, "shpat_", HEX, 16)],
        ),
        k(
            "shopify",
            "shopify-shared-secret",
            Token,
            &["SHOPIFY_API_SECRET"],
            |g| format!("shpss_{}", hex(g, 32)),
            |g| vec![len(g, "shpss_", HEX, 16)],
        ),
        k(
            "adyen",
            "adyen-api-key",
            Named,
            &["ADYEN_API_KEY"],
            |g| format!("AQE{}", s(g, B64, 110)),
            |_| vec!["AQE...".into()],
        ),
        k(
            "plaid",
            "plaid-access-token",
            Token,
            &["PLAID_ACCESS_TOKEN"],
            |g| format!("access-production-{}", uuid(g)),
            |g| vec![format!("access-sandbox-{}", uuid(g))],
        ),
        k(
            "plaid",
            "plaid-secret",
            Named,
            &["PLAID_SECRET"],
            |g| hex(g, 30),
            |_| vec!["<plaid-secret>".into()],
        ),
        k(
            "razorpay",
            "razorpay-key-secret",
            Named,
            &["RAZORPAY_KEY_SECRET", "RZP_SECRET"],
            |g| s(g, B62, 24),
            |_| vec!["<key-secret>".into()],
        ),
        k(
            "razorpay",
            "razorpay-live-key-pair",
            Line,
            &["RAZORPAY_AUTH"],
            |g| format!("rzp_live_{}:{}", s(g, B62, 14), s(g, B62, 24)),
            |g| vec![format!("rzp_test_{}:{}", s(g, B62, 14), s(g, B62, 24))],
        ),
        k(
            "flutterwave",
            "flutterwave-secret-key-live",
            Token,
            &["FLW_SECRET_KEY"],
            |g| format!("FLWSECK-{}-X", hex(g, 32)),
            |g| vec![format!("FLWSECK_TEST-{}-X", hex(g, 32))],
        ),
    ]
}

fn private_keys() -> Vec<Kind> {
    const PATHS_KEY: &[&str] = &[
        "id_rsa",
        "certs/server.key",
        "deploy/key.pem",
        "secrets/signing.pem",
    ];
    vec![
        k("private-key", "private-key-rsa", Block, &["PRIVATE_KEY", "RSA_PRIVATE_KEY", "SSH_PRIVATE_KEY"],
          |g| der_body(g, &[0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00], 1180),
          pem_placeholder)
            .paths(PATHS_KEY)
            .wrap(|_, v| armor("RSA PRIVATE KEY", v)),
        k("private-key", "private-key-dsa", Block, &["DSA_PRIVATE_KEY"],
          |g| der_body(g, &[0x30, 0x82, 0x01, 0xbb, 0x02, 0x01, 0x00, 0x02, 0x81, 0x81], 430),
          pem_placeholder)
            .paths(&["id_dsa", "keys/legacy_dsa.pem"])
            .wrap(|_, v| armor("DSA PRIVATE KEY", v)),
        k("private-key", "private-key-ec", Block, &["EC_PRIVATE_KEY", "SIGNING_KEY"],
          |g| der_body(g, &[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20], 110),
          pem_placeholder)
            .paths(&["certs/ec.key", "apns/AuthKey.pem"])
            .wrap(|_, v| armor("EC PRIVATE KEY", v)),
        k("private-key", "private-key-pkcs8", Block, &["PRIVATE_KEY", "TLS_KEY"],
          |g| der_body(g, &[0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00], 1190),
          pem_placeholder)
            .paths(&["tls/tls.key", "server.key", "config/jwt/private.pem"])
            .wrap(|_, v| armor("PRIVATE KEY", v)),
        k("private-key", "private-key-pkcs8-encrypted", Block, &["ENCRYPTED_PRIVATE_KEY"],
          |g| der_body(g, &[0x30, 0x82, 0x05, 0x1c, 0x30, 0x4e, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d], 1290),
          pem_placeholder)
            .paths(&["certs/key.enc.pem"])
            .wrap(|_, v| armor("ENCRYPTED PRIVATE KEY", v)),
        k("private-key", "private-key-openssh", Block, &["SSH_PRIVATE_KEY", "DEPLOY_KEY"],
          |g| { let mut d = b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none\0\0\0\0\0\0\0\x01\0\0\0\x33\0\0\0\x0bssh-ed25519".to_vec();
                d.extend(bytes(g, 300)); pem_lines(&b64(&d)).replace('\n', "").as_bytes().chunks(70)
                  .map(|c| format!("{}\n", std::str::from_utf8(c).expect("ascii"))).collect() },
          |_| vec!["b3BlbnNzaC1rZXktdjEAAAAA...\n".into()])
            .paths(&["id_ed25519", ".ssh/deploy_key", "ci/deploy_key"])
            .wrap(|_, v| armor("OPENSSH PRIVATE KEY", v)),
        k("private-key", "pgp-private-key-block", Block, &["GPG_PRIVATE_KEY", "SIGNING_KEY"],
          |g| { let mut d = vec![0x95, 0x03, 0xc6, 0x04]; d.extend(bytes(g, 700)); format!("{}={}\n", pem_lines(&b64(&d)), s(g, B64, 4)) },
          |_| vec!["...\n".into()])
            .paths(&["release-signing.asc", "keys/private.gpg.asc"])
            .wrap(|_, v| {
                let mut out = Val::plain("-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: release signing key\n\n");
                out.push_val(v).push("-----END PGP PRIVATE KEY BLOCK-----\n");
                out
            }),
        k("private-key", "putty-private-key", File, &[],
          |g| { let n = range(g, 1, 3); (0..n).map(|i| if i + 1 < n { format!("{}\n", s(g, B64, 64)) } else { format!("{}\n", s(g, B64, 44)) }).collect() },
          |_| vec![]).paths(&["keys/deploy.ppk", "putty/id.ppk"])
            .wrap(|g, v| {
                let mut out = Val::plain(format!(
                    "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-2024{}\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: {}\n",
                    s(g, DIGITS, 4), s(g, B64, 64), s(g, B64, 4), v.text.lines().count().max(1)));
                out.push_val(v).push(&format!("Private-MAC: {}\n", hex(g, 64)));
                out
            }),
        k("private-key", "ssh2-encrypted-private-key", Block, &["SSH2_KEY"],
          |g| { let mut d = vec![0x3f, 0x6f, 0xf9, 0xeb, 0x00, 0x00, 0x02, 0x5c]; d.extend(bytes(g, 600)); pem_lines(&b64(&d)) },
          |_| vec![]).paths(&["keys/ssh2.key"])
            .wrap(|_, v| {
                let mut out = Val::plain("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"rsa-key-20240101\"\n");
                out.push_val(v).push("---- END SSH2 ENCRYPTED PRIVATE KEY ----\n");
                out
            }),
        k("age", "age-secret-key", Token, &["AGE_SECRET_KEY", "SOPS_AGE_KEY"],
          |g| format!("AGE-SECRET-KEY-1{}", s(g, BECH32, 58)),
          |_| vec!["AGE-SECRET-KEY-1...".into()]),
        k("jwk", "jwk-private-key|jwk-private-key-sorted", File, &[],
          |g| s(g, B64URL, 43),
          |_| vec![])
            .paths(&["jwks/private.json", "config/signing-key.jwk"])
            .wrap(|g, v| {
                let (x, y) = (s(g, B64URL, 43), s(g, B64URL, 43));
                let kid = hex(g, 8);
                if chance(g, 70) {
                    let mut out = Val::plain(format!("{{\"keys\": [{{\"kty\": \"EC\", \"crv\": \"P-256\", \"use\": \"sig\", \"kid\": \"{kid}\", \"x\": \"{x}\", \"y\": \"{y}\", \"d\": \""));
                    out.push_val(v).push("\"}]}\n");
                    out
                } else {
                    let mut out = Val::plain("{\"crv\": \"P-256\", \"d\": \"");
                    out.push_val(v).push(&format!("\", \"kid\": \"{kid}\", \"kty\": \"EC\", \"x\": \"{x}\", \"y\": \"{y}\"}}\n"));
                    out
                }
            }),
    ]
}

fn registries() -> Vec<Kind> {
    vec![
        k(
            "npm",
            "npm-access-token",
            Token,
            &["NPM_TOKEN", "NODE_AUTH_TOKEN"],
            |g| crc_token(g, "npm_"),
            |g| vec![crc_token_bad(g, "npm_")],
        ),
        k(
            "pypi",
            "pypi-api-token",
            Token,
            &["PYPI_API_TOKEN", "TWINE_PASSWORD", "PYPI_TOKEN"],
            |g| {
                let n = range(g, 120, 170);
                format!("pypi-AgEIcHlwaS5vcmc{}", s(g, B64URL, n))
            },
            |g| vec![dots(g, "pypi-AgEIcHlwaS5vcmc", B62)],
        ),
        k(
            "pypi",
            "pypi-test-api-token",
            Token,
            &["TEST_PYPI_API_TOKEN"],
            |g| {
                let n = range(g, 120, 170);
                format!("pypi-AgENdGVzdC5weXBpLm9yZ{}", s(g, B64URL, n))
            },
            |g| vec![dots(g, "pypi-AgENdGVzdC5weXBpLm9yZ", B62)],
        ),
        k(
            "rubygems",
            "rubygems-api-key",
            Token,
            &["GEM_HOST_API_KEY", "RUBYGEMS_API_KEY"],
            |g| format!("rubygems_{}", hex(g, 48)),
            |g| vec![len(g, "rubygems_", HEX, 20)],
        ),
        k(
            "nuget",
            "nuget-api-key",
            Token,
            &["NUGET_API_KEY"],
            |g| format!("oy2{}", s(g, LOWER_DIGITS, 43)),
            |g| vec![len(g, "oy2", LOWER_DIGITS, 20)],
        ),
        k(
            "docker",
            "docker-hub-access-token",
            Token,
            &["DOCKERHUB_TOKEN", "DOCKER_PASSWORD"],
            |g| format!("dckr_pat_{}", s(g, B64URL, 27)),
            |g| vec![len(g, "dckr_pat_", B62, 10)],
        ),
        k(
            "jfrog",
            "jfrog-api-key",
            Token,
            &["ARTIFACTORY_API_KEY", "JFROG_API_KEY"],
            |g| format!("AKCp{}{}", s(g, DIGITS, 1), s(g, B62, 68)),
            |g| vec![len(g, "AKCp", B62, 30)],
        ),
        k(
            "jfrog",
            "jfrog-reference-token",
            Named,
            &["JFROG_ACCESS_TOKEN", "ARTIFACTORY_ACCESS_TOKEN"],
            |g| format!("cmVmdGtuOjAx{}", s(g, B62, 52)),
            |g| vec![dots(g, "cmVmdGtuOjAx", B62)],
        ),
        k(
            "crates",
            "crates-io-api-token",
            Token,
            &["CARGO_REGISTRY_TOKEN", "CRATES_IO_TOKEN"],
            |g| format!("cio{}", s(g, B62, 32)),
            |g| vec![len(g, "cio", B62, 12)],
        ),
        k(
            "hex",
            "hex-api-key",
            Named,
            &["HEX_API_KEY", "HEXPM_KEY"],
            |g| hex(g, 32),
            |_| vec!["<hex-api-key>".into()],
        ),
        k(
            "packagist",
            "packagist-token",
            Token,
            &["PACKAGIST_TOKEN", "COMPOSER_AUTH_TOKEN"],
            |g| {
                format!(
                    "packagist_{}_{}",
                    pick(g, &["ort", "out", "uut"]),
                    hex(g, 68)
                )
            },
            |g| vec![len(g, "packagist_ort_", HEX, 20)],
        ),
        k(
            "clojars",
            "clojars-deploy-token",
            Token,
            &["CLOJARS_PASSWORD", "CLOJARS_TOKEN"],
            |g| format!("CLOJARS_{}", hex(g, 60)),
            |g| vec![len(g, "CLOJARS_", HEX, 30)],
        ),
    ]
}

fn saas() -> Vec<Kind> {
    vec![
        k(
            "datadog",
            "datadog-api-key",
            Named,
            &["DD_API_KEY", "DATADOG_API_KEY"],
            |g| hex(g, 32),
            |_| vec!["<DATADOG_API_KEY>".into(), seq("", "0", 32)],
        ),
        k(
            "datadog",
            "datadog-application-key",
            Named,
            &["DD_APP_KEY", "DATADOG_APP_KEY", "DD_APPLICATION_KEY"],
            |g| hex(g, 40),
            |_| vec!["<DATADOG_APP_KEY>".into()],
        ),
        k(
            "newrelic",
            "newrelic-user-api-key",
            Token,
            &["NEW_RELIC_API_KEY", "NEWRELIC_API_KEY"],
            |g| format!("NRAK-{}", s(g, UPPER_DIGITS, 27)),
            |g| vec![len(g, "NRAK-", UPPER_DIGITS, 12)],
        ),
        k(
            "newrelic",
            "newrelic-insights-key",
            Token,
            &["NEW_RELIC_INSERT_KEY"],
            |g| format!("{}-{}", pick(g, &["NRII", "NRIQ"]), s(g, B64URL, 32)),
            |g| vec![len(g, "NRII-", B62, 12)],
        ),
        k(
            "newrelic",
            "newrelic-admin-api-key",
            Token,
            &["NEW_RELIC_ADMIN_KEY"],
            |g| format!("NRAA-{}", hex(g, 27)),
            |g| vec![len(g, "NRAA-", HEX, 12)],
        ),
        k(
            "newrelic",
            "newrelic-license-key",
            Token,
            &["NEW_RELIC_LICENSE_KEY"],
            |g| format!("{}NRAL", hex(g, 36)),
            |g| vec![format!("{}NRAL", hex(g, 20))],
        ),
        k(
            "sentry",
            "sentry-org-auth-token",
            Token,
            &["SENTRY_AUTH_TOKEN"],
            |g| {
                let org = pick(g, &["acme", "globex", "initech"]);
                let json = format!(
                    r#"{{"iat":{},"url":"https://sentry.io","region_url":"https://us.sentry.io","org":"{org}"}}"#,
                    1_700_000_000 + range(g, 0, 9_999_999)
                );
                format!(
                    "sntrys_{}_{}",
                    b64(json.as_bytes()).trim_end_matches('='),
                    s(g, B64, 43)
                )
            },
            |_| vec!["sntrys_eyJ...".into()],
        ),
        k(
            "sentry",
            "sentry-user-auth-token",
            Token,
            &["SENTRY_AUTH_TOKEN"],
            |g| format!("sntryu_{}", hex(g, 64)),
            |g| vec![len(g, "sntryu_", HEX, 32)],
        ),
        k(
            "sentry",
            "sentry-dsn-secret-key",
            Line,
            &["SENTRY_DSN"],
            |g| hex(g, 32),
            |_| vec![],
        )
        .wrap(|g, v| {
            let mut out = Val::plain(format!("https://{}:", hex(g, 32)));
            out.push_val(v).push(&format!(
                "@o{}.ingest.sentry.io/{}",
                s(g, DIGITS, 6),
                s(g, DIGITS, 7)
            ));
            out
        }),
        k(
            "pagerduty",
            "pagerduty-api-key",
            Named,
            &["PAGERDUTY_API_KEY", "PAGERDUTY_TOKEN"],
            |g| {
                s(
                    g,
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_-",
                    20,
                )
            },
            |_| vec!["<pagerduty-token>".into()],
        ),
        k(
            "grafana",
            "grafana-cloud-token",
            Token,
            &["GRAFANA_CLOUD_TOKEN", "GRAFANA_CLOUD_API_KEY"],
            |g| {
                let json = format!(
                    r#"{{"o":"{}","n":"stack-{}-hm-read-{}","k":"{}","m":{{"r":"prod-us-east-0"}}}}"#,
                    s(g, DIGITS, 6),
                    s(g, DIGITS, 6),
                    s(g, LOWER, 6),
                    s(g, B62, 24)
                );
                format!("glc_{}", b64(json.as_bytes()))
            },
            |_| vec!["glc_eyJ...".into()],
        ),
        k(
            "grafana",
            "grafana-service-account-token",
            Token,
            &["GRAFANA_TOKEN", "GRAFANA_SA_TOKEN"],
            |g| format!("glsa_{}_{}", s(g, B62, 32), hex(g, 8)),
            |g| vec![len(g, "glsa_", B62, 20)],
        ),
        k(
            "honeycomb",
            "honeycomb-api-key",
            Named,
            &["HONEYCOMB_API_KEY", "HONEYCOMB_WRITEKEY"],
            |g| {
                if chance(g, 60) {
                    s(g, B62, 22)
                } else {
                    format!("hcaik_{}", s(g, LOWER_DIGITS, 58))
                }
            },
            |_| vec!["<honeycomb-key>".into()],
        ),
        k(
            "okta",
            "okta-api-token",
            Named,
            &["OKTA_API_TOKEN", "OKTA_TOKEN"],
            |g| format!("00{}", s(g, B64URL, 40)),
            |_| vec!["00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into()],
        ),
        k(
            "auth0",
            "auth0-client-secret",
            Named,
            &["AUTH0_CLIENT_SECRET"],
            |g| s(g, B64URL, 64),
            |_| vec!["YOUR_AUTH0_CLIENT_SECRET".into()],
        ),
        k(
            "twitch",
            "twitch-api-token",
            Named,
            &["TWITCH_CLIENT_SECRET", "TWITCH_OAUTH_TOKEN"],
            |g| s(g, LOWER_DIGITS, 30),
            |_| vec!["<client secret>".into()],
        ),
        k(
            "dropbox",
            "dropbox-short-lived-token",
            Token,
            &["DROPBOX_ACCESS_TOKEN"],
            |g| {
                let n = range(g, 140, 200);
                format!("sl.{}", s(g, B64URL, n))
            },
            |g| vec![dots(g, "sl.", B62)],
        ),
        k(
            "dropbox",
            "dropbox-api-token",
            Named,
            &["DROPBOX_ACCESS_TOKEN", "DROPBOX_TOKEN"],
            |g| s(g, B64URL, 64),
            |_| vec!["<dropbox token>".into()],
        ),
        k(
            "notion",
            "notion-integration-token",
            Token,
            &["NOTION_TOKEN", "NOTION_API_KEY"],
            |g| format!("ntn_{}{}", s(g, DIGITS, 11), s(g, B62, 35)),
            |g| vec![len(g, "ntn_", B62, 20)],
        ),
        k(
            "notion",
            "notion-integration-token-legacy",
            Token,
            &["NOTION_API_KEY"],
            |g| format!("secret_{}", s(g, B62, 43)),
            |g| vec![len(g, "secret_", B62, 20)],
        ),
        k(
            "linear",
            "linear-api-key",
            Token,
            &["LINEAR_API_KEY"],
            |g| format!("lin_api_{}", s(g, B62, 40)),
            |g| vec![len(g, "lin_api_", B62, 20)],
        ),
        k(
            "asana",
            "asana-personal-access-token",
            Named,
            &["ASANA_ACCESS_TOKEN", "ASANA_PAT"],
            |g| {
                if chance(g, 50) {
                    format!("1/{}:{}", s(g, DIGITS, 16), hex(g, 32))
                } else {
                    format!("2/{}/{}:{}", s(g, DIGITS, 16), s(g, DIGITS, 16), hex(g, 32))
                }
            },
            |_| vec!["0/0000000000000000:00000000000000000000000000000000".into()],
        ),
        k(
            "airtable",
            "airtable-personal-access-token",
            Token,
            &["AIRTABLE_API_KEY", "AIRTABLE_TOKEN"],
            |g| format!("pat{}.{}", s(g, B62, 14), hex(g, 64)),
            |g| vec![format!("pat{}.{}", s(g, B62, 14), hex(g, 20))],
        ),
        k(
            "hubspot",
            "hubspot-private-app-token",
            Token,
            &["HUBSPOT_ACCESS_TOKEN"],
            |g| {
                format!(
                    "pat-{}{}-{}",
                    pick(g, &["na", "eu"]),
                    range(g, 1, 2),
                    uuid(g)
                )
            },
            |g| vec![format!("pat-na1-{}", hex(g, 8))],
        ),
        k(
            "zendesk",
            "zendesk-api-token",
            Named,
            &["ZENDESK_API_TOKEN", "ZENDESK_TOKEN"],
            |g| s(g, B62, 40),
            |_| vec!["<zendesk token>".into()],
        ),
        k(
            "contentful",
            "contentful-personal-access-token",
            Token,
            &["CONTENTFUL_MANAGEMENT_TOKEN"],
            |g| format!("CFPAT-{}", s(g, B64URL, 43)),
            |g| vec![len(g, "CFPAT-", B62, 20)],
        ),
        k(
            "algolia",
            "algolia-admin-api-key",
            Named,
            &["ALGOLIA_ADMIN_API_KEY", "ALGOLIA_WRITE_API_KEY"],
            |g| hex(g, 32),
            |_| vec!["<ALGOLIA_ADMIN_KEY>".into()],
        ),
        k(
            "mapbox",
            "mapbox-secret-token",
            Token,
            &["MAPBOX_SECRET_TOKEN", "MAPBOX_DOWNLOADS_TOKEN"],
            |g| {
                let json = format!(
                    r#"{{"u":"{}","a":"{}"}}"#,
                    pick(g, &["acme-maps", "fleet", "geo-team"]),
                    s(g, LOWER_DIGITS, 25)
                );
                format!("sk.{}.{}", b64url(json.as_bytes()), s(g, B64URL, 22))
            },
            |_| vec!["sk.eyJ1Ijoi...".into()],
        ),
        k(
            "firebase",
            "firebase-cloud-messaging-server-key",
            Token,
            &["FCM_SERVER_KEY"],
            |g| format!("AAAA{}:APA91b{}", s(g, B64URL, 7), s(g, B64URL, 134)),
            |g| vec![format!("AAAA{}:APA91b...", s(g, B64URL, 7))],
        ),
        k(
            "postman",
            "postman-api-key",
            Token,
            &["POSTMAN_API_KEY"],
            |g| format!("PMAK-{}-{}", hex(g, 24), hex(g, 34)),
            |g| vec![format!("PMAK-{}", hex(g, 24))],
        ),
        k(
            "typeform",
            "typeform-personal-access-token",
            Token,
            &["TYPEFORM_TOKEN"],
            |g| format!("tfp_{}", s(g, B64URL, 44)),
            |g| vec![len(g, "tfp_", B62, 20)],
        ),
        k(
            "intercom",
            "intercom-access-token",
            Named,
            &["INTERCOM_ACCESS_TOKEN", "INTERCOM_TOKEN"],
            |g| {
                let raw = format!("tok:{}:{}", uuid(g), hex(g, 8));
                b64(raw.as_bytes())
            },
            |_| vec!["<intercom token>".into()],
        ),
        k(
            "mixpanel",
            "mixpanel-api-secret",
            Named,
            &["MIXPANEL_API_SECRET", "MIXPANEL_SECRET"],
            |g| hex(g, 32),
            |_| vec!["<mixpanel secret>".into()],
        ),
        k(
            "frameio",
            "frameio-developer-token",
            Token,
            &["FRAMEIO_TOKEN"],
            |g| format!("fio-u-{}", s(g, B64URL, 64)),
            |g| vec![len(g, "fio-u-", B62, 20)],
        ),
        k(
            "figma",
            "figma-personal-access-token",
            Token,
            &["FIGMA_TOKEN", "FIGMA_ACCESS_TOKEN"],
            |g| format!("figd_{}", s(g, B64URL, 40)),
            |g| vec![len(g, "figd_", B62, 20)],
        ),
    ]
}

fn urls_headers() -> Vec<Kind> {
    vec![
        k(
            "url-credentials",
            "url-embedded-credentials",
            Line,
            &["REPO_URL", "ARTIFACT_URL", "PROXY_URL", "SMTP_URL"],
            url_password,
            |_| {
                vec![
                    "password".into(),
                    "${PASSWORD}".into(),
                    "x-oauth-basic".into(),
                ]
            },
        )
        .wrap(|g, v| {
            let (sch, h) = pick(
                g,
                &[
                    ("https", "nexus.corp.local/repository/maven-releases/"),
                    ("https", "github.com/acme/infra.git"),
                    ("ftp", "ftp.partner.net/incoming/"),
                    ("smtp", "smtp.mailgun.org:587"),
                    ("http", "proxy.corp.local:3128"),
                ],
            );
            Val::around(&format!("{sch}://{}:", user(g)), v, &format!("@{h}"))
        }),
        k(
            "http-basic",
            "http-basic-auth-header",
            Line,
            &["AUTH_HEADER"],
            password,
            |_| vec!["$BASIC_AUTH".into()],
        )
        .wrap(|g, v| {
            let inner = b64_userpass(g, v);
            Val::around("Authorization: Basic ", &inner, "")
        }),
        k(
            "http-bearer",
            "http-bearer-token-header",
            Line,
            &["AUTH_HEADER"],
            |g| sr(g, B62, 32, 48),
            |_| {
                vec![
                    "$TOKEN".into(),
                    "<token>".into(),
                    "YOUR_ACCESS_TOKEN".into(),
                ]
            },
        )
        .wrap(|_, v| Val::around("Authorization: Bearer ", v, "")),
        k(
            "curl",
            "curl-user-password",
            Command,
            &[],
            |g| {
                let mut p = password(g);
                p.retain(|c| c != '#');
                p
            },
            |_| vec!["$NEXUS_PASSWORD".into(), "\"${API_PASS}\"".into()],
        )
        .wrap(|g, v| {
            let mut out = Val::plain(format!(
                "curl -sSf {} {}:",
                pick(g, &["-u", "--user"]),
                user(g)
            ));
            out.push_val(v).push(&format!(
                " https://{}/api/v1/status",
                pick(
                    g,
                    &["nexus.corp.local", "jenkins.corp.local", "api.partner.io"]
                )
            ));
            out
        }),
    ]
}
