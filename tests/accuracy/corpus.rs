//! The labelled corpus: for every kind, `per_kind` true secrets, each in a context chosen so that
//! a kind's cases spread over many file types, and for each true secret three hard negatives in
//! the very same file (same context, same name, same filler): a near miss of the kind's format,
//! a placeholder or masked value, and an environment lookup or template reference. Stand-alone
//! negative files (lock files, public keys, fixtures, ...) are added on top.

use crate::contexts::{self, Case, Ctx, Slot};
use crate::doc::{Doc, Val};
use crate::gen::*;
use crate::kinds::{self, Kind, Shape};
use crate::util::Gen;

pub struct Corpus {
    pub kinds: Vec<Kind>,
    pub docs: Vec<Doc>,
    /// Number of true-secret cases and of hard-negative documents.
    pub positives: usize,
    pub negatives: usize,
}

/// What a context's slot receives before the kind's structure is built around it.
enum Value {
    /// A value for the kind's structure (true secret or fake).
    Lit(Val),
    /// Already complete (a public key in place of a private one): no structure built.
    Whole(Val),
    /// The language's environment lookup (assignment contexts of unstructured kinds only).
    Env,
}

/// The contexts that fit a kind.
fn pool(kind: &Kind) -> Vec<&'static Ctx> {
    let mut p: Vec<&'static Ctx> = Vec::new();
    match kind.shape {
        Shape::Token => {
            p.extend(contexts::ASSIGN);
            p.extend(contexts::NAMED_EXTRA);
            p.extend(contexts::BARE_TOKEN);
        }
        Shape::Named => {
            p.extend(contexts::ASSIGN);
            p.extend(contexts::NAMED_EXTRA);
        }
        Shape::Line => {
            p.extend(contexts::ASSIGN);
            p.extend(contexts::BARE_LINE);
        }
        Shape::Command => p.extend(contexts::COMMAND),
        Shape::Block => p.extend(contexts::BLOCK),
        Shape::File => p.extend(contexts::FILE),
    }
    p
}

/// Whether a context is an assignment with a name (where an env lookup makes sense).
fn is_assign(ctx: &Ctx) -> bool {
    contexts::ASSIGN
        .iter()
        .chain(contexts::NAMED_EXTRA)
        .any(|c| c.name == ctx.name)
}

/// Names a person uses for a token whatever its provider.
const GENERIC_NAMES: &[&str] = &[
    "API_KEY",
    "TOKEN",
    "SECRET",
    "CREDENTIALS",
    "AUTH_TOKEN",
    "ACCESS_TOKEN",
];

#[allow(clippy::too_many_arguments)]
fn render(
    kind: &Kind,
    ki: usize,
    ctx: &Ctx,
    name: &str,
    path: &str,
    seed: u64,
    value: Value,
) -> Doc {
    let mut g = Gen::new(seed);
    match value {
        Value::Lit(v) => {
            let built = kind.build(&mut g, &v);
            let case = Case {
                kind: ki,
                name,
                slot: Slot::Lit(&built),
                path,
            };
            (ctx.f)(&mut g, &case)
        }
        Value::Whole(v) => {
            // Draw what building would have drawn, so the context renders the same file.
            let _ = kind.build(&mut g, &Val::plain(""));
            let case = Case {
                kind: ki,
                name,
                slot: Slot::Lit(&v),
                path,
            };
            (ctx.f)(&mut g, &case)
        }
        Value::Env => {
            let _ = kind.build(&mut g, &Val::plain(""));
            let case = Case {
                kind: ki,
                name,
                slot: Slot::Env,
                path,
            };
            (ctx.f)(&mut g, &case)
        }
    }
}

/// The true secret with most of it masked the way people redact: prefix kept.
fn masked(g: &mut Gen, kind: &Kind, secret: &str) -> String {
    if kind.shape != Shape::Token {
        // No format prefix to keep: the whole value is masked.
        return pick(g, &["********", "xxxxxxxxxxxx", "<redacted>", "***"]).to_string();
    }
    let pre = Kind::prefix_of(secret);
    let rest = secret.len() - pre.len();
    match range(g, 0, 3) {
        0 => format!("{pre}{}", "x".repeat(rest)),
        1 => format!("{pre}{}", "*".repeat(rest.min(16))),
        2 => format!("{pre}..."),
        _ => format!("{pre}XXXXXXXX"),
    }
}

fn placeholder(g: &mut Gen, kind: &Kind, name: &str, secret: &str) -> Val {
    let text = match range(g, 0, 7) {
        0 => format!("<YOUR_{name}>"),
        1 => format!("your-{}-here", kebab(name)),
        2 => "REDACTED".to_string(),
        3 => "changeme".to_string(),
        4 => "xxxxxxxxxxxxxxxxxxxxxxxx".to_string(),
        5 => format!("<{}>", kebab(name)),
        _ => masked(g, kind, secret),
    };
    Val::placeholder(text)
}

fn template(g: &mut Gen, name: &str) -> Val {
    let text = match range(g, 0, 4) {
        0 => format!("${{{name}}}"),
        1 => format!("{{{{ .Values.{} }}}}", camel(name)),
        2 => format!("${{{{ secrets.{name} }}}}"),
        3 => format!("$({name})"),
        _ => format!("%{}%", name),
    };
    Val::placeholder(text)
}

/// A public counterpart of a private-key block: same context, public armor.
fn public_block(g: &mut Gen) -> Val {
    let label = pick(g, &["PUBLIC KEY", "CERTIFICATE", "RSA PUBLIC KEY"]);
    let mut body = vec![0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09];
    body.extend(bytes(g, 280));
    let text = b64(&body);
    let mut out = format!("-----BEGIN {label}-----\n");
    for ch in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(ch).expect("ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    Val::plain(out)
}

/// Build the corpus: `per_kind` true secrets per kind, three negatives each, and about one
/// stand-alone negative file per four true secrets.
pub fn build(seed: u64, per_kind: usize) -> Corpus {
    let kinds = kinds::all();
    let mut g = Gen::new(seed);
    let mut docs = Vec::new();
    let (mut positives, mut negatives) = (0, 0);
    for (ki, kind) in kinds.iter().enumerate() {
        let ctxs = pool(kind);
        // Walk the contexts from a random start with a stride coprime to the pool size, so a
        // kind's few cases land in different file types.
        let start = range(&mut g, 0, ctxs.len() - 1);
        let stride = [7usize, 5, 3, 1]
            .into_iter()
            .find(|s| !ctxs.len().is_multiple_of(*s))
            .unwrap_or(1);
        // Credentials without a provider format are the most common leak: weigh them more.
        let n = if kind.provider.starts_with("generic") {
            4 * per_kind
        } else {
            per_kind
        };
        for i in 0..n {
            let ctx = ctxs[(start + i * stride) % ctxs.len()];
            let name: &str = if kind.names.is_empty() {
                "SECRET"
            } else if kind.shape == Shape::Token && chance(&mut g, 15) {
                pick(&mut g, GENERIC_NAMES)
            } else {
                pick(&mut g, kind.names)
            };
            let path: &str = if kind.paths.is_empty() {
                ""
            } else {
                pick(&mut g, kind.paths)
            };
            let ctx_seed = g.next();
            let secret = (kind.secret)(&mut g);
            docs.push(render(
                kind,
                ki,
                ctx,
                name,
                path,
                ctx_seed,
                Value::Lit(Val::secret(secret.clone())),
            ));
            positives += 1;

            // 1: a near miss of the kind's own format, else a masked copy.
            let near = (kind.near)(&mut g);
            let first = if near.is_empty() {
                Value::Lit(Val::placeholder(masked(&mut g, kind, &secret)))
            } else {
                let v = near[i % near.len()].clone();
                // A reference or placeholder among the near misses is written as is.
                if v.starts_with(['$', '<', '{', '%']) {
                    Value::Lit(Val::placeholder(v))
                } else {
                    Value::Lit(Val::plain(v))
                }
            };
            // 2: a placeholder; for key blocks, the public key in the private key's place.
            let second = if kind.shape == Shape::Block && i % 2 == 0 {
                Value::Whole(public_block(&mut g))
            } else {
                Value::Lit(placeholder(&mut g, kind, name, &secret))
            };
            // 3: the environment lookup, or a template reference where the value is structured.
            let third = if is_assign(ctx) && kind.wrap.is_none() {
                Value::Env
            } else {
                Value::Lit(template(&mut g, name))
            };
            for v in [first, second, third] {
                docs.push(render(kind, ki, ctx, name, path, ctx_seed, v));
                negatives += 1;
            }
        }
    }
    let n_noise = positives / 4;
    docs.extend(crate::noise::docs(&mut g, n_noise));
    negatives += n_noise;
    Corpus {
        kinds,
        docs,
        positives,
        negatives,
    }
}
