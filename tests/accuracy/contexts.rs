//! Contexts: the files a value is placed in. Each context renders one whole, realistic file
//! (source in several languages, config formats, CI files, logs, shell) around one slot, with
//! filler lines that are themselves typical non-secrets (env lookups, ids, digests, settings).
//! The slot holds a literal value ([`Slot::Lit`], true secret or hard negative) or, for the
//! env-lookup negative, the language's own way of reading the variable ([`Slot::Env`]).
//!
//! A context draws the same random numbers whatever the slot holds, so a true secret and its
//! hard negatives are rendered into the same file.

use crate::doc::{Doc, Val};
use crate::gen::*;
use crate::util::Gen;

/// What goes into a context's slot.
pub enum Slot<'a> {
    Lit(&'a Val),
    /// The language's environment / secret-store lookup instead of a literal.
    Env,
}

/// One placement: which kind's value, under which name.
pub struct Case<'a> {
    pub kind: usize,
    /// Name in `UPPER_SNAKE`.
    pub name: &'a str,
    pub slot: Slot<'a>,
    /// Path for contexts that take it from the kind (files, keys).
    pub path: &'a str,
}

pub type CtxFn = fn(&mut Gen, &Case) -> Doc;

pub struct Ctx {
    pub name: &'static str,
    pub f: CtxFn,
}

/// Append the slot: `quote` + literal + `quote`, or `env` for the lookup.
fn q(d: &mut Doc, c: &Case, quote: &str, env: &str) {
    match c.slot {
        Slot::Lit(v) => {
            d.push(quote).val(v, c.kind).push(quote);
        }
        Slot::Env => {
            d.push(env);
        }
    }
}

/// `n` lines drawn from `pool`, each once at most.
fn fill(g: &mut Gen, d: &mut Doc, pool: &[&str], n: usize) {
    let mut used = Vec::new();
    for _ in 0..n.min(pool.len()) {
        let mut i = (g.next() % pool.len() as u64) as usize;
        while used.contains(&i) {
            i = (i + 1) % pool.len();
        }
        used.push(i);
        d.line(pool[i]);
    }
}

fn few(g: &mut Gen) -> usize {
    range(g, 1, 4)
}

// ---- filler pools: realistic lines that hold no secret -------------------------------------

const ENV_FILL: &[&str] = &[
    "NODE_ENV=production",
    "PORT=8080",
    "LOG_LEVEL=info",
    "DATABASE_POOL_SIZE=10",
    "APP_URL=https://app.acme.io",
    "AWS_REGION=eu-west-1",
    "S3_BUCKET=acme-prod-assets",
    "SESSION_COOKIE_SECURE=true",
    "FEATURE_FLAGS=beta-search,new-checkout",
    "SENTRY_ENVIRONMENT=production",
    "SMTP_HOST=smtp.mailgun.org",
    "SMTP_PORT=587",
    "REDIS_HOST=cache-01.corp.local",
    "TZ=UTC",
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4317",
    "STRIPE_PUBLISHABLE_KEY_ENABLED=true",
    "GOOGLE_CLIENT_ID=123456789012-abc123def456.apps.googleusercontent.com",
    "AUTH0_DOMAIN=acme.eu.auth0.com",
    "CACHE_TTL_SECONDS=300",
    "PASSWORD_MIN_LENGTH=12",
    "TOKEN_EXPIRY_MINUTES=60",
];

const PY_FILL: &[&str] = &[
    "import os",
    "import logging",
    "from pathlib import Path",
    "BASE_DIR = Path(__file__).resolve().parent.parent",
    "DEBUG = False",
    "ALLOWED_HOSTS = [\"api.acme.io\", \"localhost\"]",
    "SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]",
    "LOG = logging.getLogger(__name__)",
    "TIMEOUT_SECONDS = 30",
    "CACHE_KEY_PREFIX = \"acme:v2\"",
    "SESSION_COOKIE_NAME = \"sid\"",
    "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.Argon2PasswordHasher\"]",
    "AUTH_PASSWORD_VALIDATORS = [{\"NAME\": \"django.contrib.auth.password_validation.MinimumLengthValidator\"}]",
    "DB_PASSWORD = os.getenv(\"DB_PASSWORD\", \"\")",
    "REQUEST_ID_HEADER = \"X-Request-Id\"",
    "DEFAULT_AUTO_FIELD = \"django.db.models.BigAutoField\"",
    "TOKEN_URL = \"https://oauth2.googleapis.com/token\"",
];

const JS_FILL: &[&str] = &[
    "import axios from 'axios';",
    "const express = require('express');",
    "const PORT = process.env.PORT || 3000;",
    "const apiBase = 'https://api.acme.io/v2';",
    "const retryDelays = [100, 250, 500, 1000];",
    "const sessionSecret = process.env.SESSION_SECRET;",
    "const passwordField = document.querySelector('#password');",
    "const tokenStorageKey = 'acme.auth.token';",
    "export const CACHE_TTL = 60 * 5;",
    "const requestId = crypto.randomUUID();",
    "// TODO: rotate credentials via the secrets manager, never commit them",
    "const headers = { 'Content-Type': 'application/json' };",
    "const githubClientId = 'Iv1.8a61f9b3a7aba766';",
];

const GO_FILL: &[&str] = &["\t\"context\"", "\t\"net/http\"", "\t\"os\"", "\t\"time\""];

const JAVA_FILL: &[&str] = &[
    "    private static final int TIMEOUT_MS = 30_000;",
    "    private static final String API_BASE = \"https://api.acme.io/v2\";",
    "    private static final String PASSWORD_PARAM = \"password\";",
    "    private static final Logger log = LoggerFactory.getLogger(ApiConfig.class);",
    "    private static final String TOKEN_HEADER = \"X-Auth-Token\";",
    "    private final String dbPassword = System.getenv(\"DB_PASSWORD\");",
];

const YAML_FILL: &[&str] = &[
    "log_level: info",
    "port: 8080",
    "region: eu-west-1",
    "retries: 3",
    "timeout: 30s",
    "bucket: acme-prod-assets",
    "cluster_id: 6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "image: ghcr.io/acme/api@sha256:9b2f8e4c1a7d6e5f4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a29180f1e2d3c",
    "password_min_length: 12",
    "token_ttl: 3600",
    "existing_secret: app-credentials",
    "secret_name: prod/api/credentials",
];

const PROPS_FILL: &[&str] = &[
    "server.port=8080",
    "spring.application.name=orders",
    "spring.datasource.url=jdbc:postgresql://db.prod.internal:5432/orders",
    "spring.datasource.username=orders_app",
    "spring.datasource.password=${DB_PASSWORD}",
    "management.endpoints.web.exposure.include=health,info",
    "logging.level.root=INFO",
    "spring.jpa.hibernate.ddl-auto=validate",
    "app.security.token-validity-seconds=3600",
];

const LOG_FILL: &[&str] = &[
    "2024-05-02T09:14:07.118Z INFO  [main] o.s.b.w.embedded.tomcat.TomcatWebServer: Tomcat started on port(s): 8080 (http)",
    "2024-05-02T09:14:07.531Z INFO  [worker-3] OrdersJob: processed batch id=7f3e9c2a-51d4-4e8b-9a0c-3d2f1e0b9c8a size=500",
    "2024-05-02T09:14:08.002Z WARN  [http-nio-8080-exec-2] RateLimiter: client 10.20.4.17 exceeded 100 req/min",
    "2024-05-02T09:14:09.771Z DEBUG [cache] redis GET session:4b9f1c2e hit=true ttl=1793",
    "2024-05-02T09:14:10.404Z INFO  [auth] login ok user=jdoe@acme.io method=password mfa=totp",
    "2024-05-02T09:14:11.915Z ERROR [payments] charge failed code=card_declined request_id=req_8fKq2LmN3pXz",
    "2024-05-02T09:14:12.330Z INFO  [deploy] image digest sha256:3c1f0e9d8b7a6f5e4d3c2b1a09f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a190",
];

const SH_FILL: &[&str] = &[
    "set -euo pipefail",
    "cd \"$(dirname \"$0\")/..\"",
    "echo \"deploying ${GIT_SHA:-unknown} to ${ENVIRONMENT}\"",
    "aws s3 sync ./dist \"s3://${BUCKET}/\" --delete",
    "kubectl rollout status deploy/api -n prod --timeout=120s",
    "docker build -t ghcr.io/acme/api:\"${GIT_SHA}\" .",
    "read -r -s -p \"Password: \" PASSWORD",
    "TOKEN=$(vault kv get -field=token secret/ci/deploy)",
];

// ---- assignment contexts (a name and a single-line value) -----------------------------------

fn dotenv(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                ".env",
                ".env.production",
                "config/.env.local",
                "docker/.env",
            ],
        ),
        "dotenv",
    );
    d.line("# Application settings");
    let n = few(g);
    fill(g, &mut d, ENV_FILL, n);
    d.push(c.name).push("=");
    if chance(g, 30) {
        q(&mut d, c, "\"", "")
    } else {
        q(&mut d, c, "", "")
    }
    d.line("");
    let n = few(g);
    fill(g, &mut d, ENV_FILL, n);
    d
}

fn shell_export(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &["scripts/deploy.sh", "bin/setup-env.sh", "ci/release.sh"],
        ),
        "shell",
    );
    d.line("#!/usr/bin/env bash");
    let n = few(g);
    fill(g, &mut d, SH_FILL, n);
    let env = format!("\"$(aws secretsmanager get-secret-value --secret-id prod/{} --query SecretString --output text)\"", kebab(c.name));
    d.push("export ").push(c.name).push("=");
    if chance(g, 50) {
        q(&mut d, c, "\"", &env)
    } else {
        q(&mut d, c, "'", &env)
    }
    d.line("");
    let n = few(g);
    fill(g, &mut d, SH_FILL, n);
    d
}

fn python_const(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "settings.py",
                "app/config.py",
                "src/acme/settings/production.py",
            ],
        ),
        "python",
    );
    d.line("\"\"\"Production settings.\"\"\"");
    let n = few(g) + 1;
    fill(g, &mut d, PY_FILL, n);
    d.push(c.name).push(" = ");
    let env = if chance(g, 50) {
        format!("os.environ[\"{}\"]", c.name)
    } else {
        format!("os.getenv(\"{}\")", c.name)
    };
    q(&mut d, c, if chance(g, 60) { "\"" } else { "'" }, &env);
    d.line("");
    let n = few(g);
    fill(g, &mut d, PY_FILL, n);
    d
}

fn python_dict(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["app/config.py", "conf/local_settings.py"]),
        "python-dict",
    );
    d.line("import os\n");
    d.line("CONFIG = {");
    d.line("    \"region\": \"eu-west-1\",");
    d.push("    \"").push(&snake(c.name)).push("\": ");
    q(&mut d, c, "\"", &format!("os.environ.get(\"{}\")", c.name));
    d.line(",");
    d.line("    \"timeout\": 30,");
    d.line("}");
    d
}

fn python_client(g: &mut Gen, c: &Case) -> Doc {
    let (sec, leaf) = section_leaf(c.name);
    let mut d = Doc::new(
        pick(
            g,
            &["scripts/sync.py", "jobs/export.py", "notebooks/explore.py"],
        ),
        "python-call",
    );
    d.line("import logging\n");
    d.line(&format!("from {sec} import Client\n"));
    d.line("log = logging.getLogger(__name__)\n");
    d.line("def main() -> None:");
    d.push(&format!("    client = Client({leaf}="));
    q(&mut d, c, "\"", &format!("os.environ[\"{}\"]", c.name));
    d.line(", timeout=30)");
    d.line("    for page in client.list(limit=100):");
    d.line("        log.info(\"page %s\", page.cursor)");
    d
}

fn js_const(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["src/config.js", "server/index.js", "lib/client.mjs"]),
        "javascript",
    );
    let n = few(g);
    fill(g, &mut d, JS_FILL, n);
    d.push(pick(g, &["const ", "let ", "export const "]))
        .push(&camel(c.name))
        .push(" = ");
    q(
        &mut d,
        c,
        if chance(g, 50) { "'" } else { "\"" },
        &format!("process.env.{}", c.name),
    );
    d.line(";");
    let n = few(g);
    fill(g, &mut d, JS_FILL, n);
    d
}

fn js_object(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["config/default.js", "next.config.js", "src/env.ts"]),
        "js-object",
    );
    d.line("module.exports = {");
    d.line("  port: Number(process.env.PORT) || 3000,");
    d.push("  ").push(&camel(c.name)).push(": ");
    q(&mut d, c, "'", &format!("process.env.{} ?? ''", c.name));
    d.line(",");
    d.line("  retries: 3,");
    d.line("};");
    d
}

fn typescript(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["src/config.ts", "apps/api/src/settings.ts"]),
        "typescript",
    );
    d.line("import { z } from 'zod';\n");
    d.push("export const ")
        .push(&camel(c.name))
        .push(": string = ");
    q(&mut d, c, "\"", &format!("process.env.{}!", c.name));
    d.line(";");
    d.line("export const apiTimeoutMs = 15_000;");
    d
}

fn go_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "internal/config/config.go",
                "cmd/worker/main.go",
                "pkg/client/client.go",
            ],
        ),
        "go",
    );
    d.line("package config\n");
    d.line("import (");
    let n = few(g);
    fill(g, &mut d, GO_FILL, n);
    d.line(")\n");
    let env = format!("os.Getenv(\"{}\")", c.name);
    if chance(g, 50) {
        let kw = if matches!(c.slot, Slot::Env) {
            "var "
        } else {
            "const "
        };
        d.push(kw).push(&camel(c.name)).push(" = ");
        q(&mut d, c, "\"", &env);
        d.line("");
    } else {
        d.line("func Load() Config {");
        d.line("\treturn Config{");
        d.line("\t\tTimeout: 30 * time.Second,");
        d.push("\t\t").push(&pascal(c.name)).push(": ");
        q(&mut d, c, "\"", &env);
        d.line(",");
        d.line("\t}");
        d.line("}");
    }
    d
}

fn java_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "src/main/java/com/acme/ApiConfig.java",
                "app/src/main/java/io/acme/Client.java",
            ],
        ),
        "java",
    );
    d.line("package com.acme;\n");
    d.line("public final class ApiConfig {");
    let n = few(g);
    fill(g, &mut d, JAVA_FILL, n);
    d.push("    private static final String ")
        .push(c.name)
        .push(" = ");
    q(&mut d, c, "\"", &format!("System.getenv(\"{}\")", c.name));
    d.line(";");
    d.line("}");
    d
}

fn kotlin_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["app/src/main/kotlin/Config.kt", "build.gradle.kts"]),
        "kotlin",
    );
    d.line("object Config {");
    d.push("    val ").push(&camel(c.name)).push(" = ");
    q(
        &mut d,
        c,
        "\"",
        &format!("System.getenv(\"{}\") ?: \"\"", c.name),
    );
    d.line("");
    d.line("    const val TIMEOUT_MS = 30_000L");
    d.line("}");
    d
}

fn spring_props(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "src/main/resources/application.properties",
                "config/application-prod.properties",
            ],
        ),
        "properties",
    );
    let n = few(g);
    fill(g, &mut d, PROPS_FILL, n);
    d.push(&dotted(c.name)).push("=");
    q(&mut d, c, "", &format!("${{{}}}", c.name));
    d.line("");
    let n = few(g);
    fill(g, &mut d, PROPS_FILL, n);
    d
}

fn ruby_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "config/initializers/acme.rb",
                "lib/tasks/sync.rake",
                "config/application.rb",
            ],
        ),
        "ruby",
    );
    d.line("# frozen_string_literal: true\n");
    let env = format!("ENV.fetch(\"{}\")", c.name);
    if chance(g, 50) {
        d.push(c.name).push(" = ");
        q(&mut d, c, "'", &env);
        d.line("");
    } else {
        d.line("Rails.application.configure do");
        d.push("  config.x.").push(&snake(c.name)).push(" = ");
        q(&mut d, c, "\"", &env);
        d.line("");
        d.line("  config.x.timeout = 30");
        d.line("end");
    }
    d
}

fn php_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &["config/services.php", "wp-config.php", "app/config.php"],
        ),
        "php",
    );
    d.line("<?php\n");
    let env = format!("getenv('{}')", c.name);
    if chance(g, 60) {
        d.line("return [");
        d.line("    'region' => 'eu-west-1',");
        d.push("    '").push(&snake(c.name)).push("' => ");
        q(&mut d, c, "'", &format!("env('{}')", c.name));
        d.line(",");
        d.line("];");
    } else {
        d.line("define('WP_DEBUG', false);");
        d.push("define('").push(c.name).push("', ");
        q(&mut d, c, "'", &env);
        d.line(");");
    }
    d
}

fn csharp_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &["src/Acme.Api/Settings.cs", "Services/PaymentClient.cs"],
        ),
        "csharp",
    );
    d.line("namespace Acme.Api;\n");
    d.line("public static class Settings");
    d.line("{");
    let decl = if matches!(c.slot, Slot::Env) {
        "    public static readonly string "
    } else {
        "    public const string "
    };
    d.push(decl).push(&pascal(c.name)).push(" = ");
    q(
        &mut d,
        c,
        "\"",
        &format!("Environment.GetEnvironmentVariable(\"{}\")", c.name),
    );
    d.line(";");
    d.line("    public const int TimeoutSeconds = 30;");
    d.line("}");
    d
}

fn appsettings(g: &mut Gen, c: &Case) -> Doc {
    let (sec, leaf) = section_leaf(c.name);
    let mut d = Doc::new(
        pick(g, &["appsettings.json", "appsettings.Production.json"]),
        "appsettings-json",
    );
    d.line("{");
    d.line("  \"Logging\": { \"LogLevel\": { \"Default\": \"Information\" } },");
    d.push(&format!(
        "  \"{}\": {{\n    \"{}\": ",
        pascal(&sec),
        pascal(&leaf)
    ));
    q(&mut d, c, "\"", "\"\"");
    d.line("");
    d.line("  },");
    d.line("  \"AllowedHosts\": \"*\"");
    d.line("}");
    d
}

fn yaml_flat(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &["config.yml", "config/production.yaml", "settings.yaml"],
        ),
        "yaml",
    );
    let n = few(g);
    fill(g, &mut d, YAML_FILL, n);
    d.push(&snake(c.name)).push(": ");
    q(
        &mut d,
        c,
        if chance(g, 50) { "" } else { "\"" },
        &format!("${{{}}}", c.name),
    );
    d.line("");
    let n = few(g);
    fill(g, &mut d, YAML_FILL, n);
    d
}

fn yaml_nested(g: &mut Gen, c: &Case) -> Doc {
    let (sec, leaf) = section_leaf(c.name);
    let mut d = Doc::new(
        pick(
            g,
            &["values.yaml", "config/app.yml", "helm/values-prod.yaml"],
        ),
        "yaml-nested",
    );
    d.line("replicaCount: 2");
    d.line("image:\n  repository: ghcr.io/acme/api\n  tag: \"1.8.3\"");
    d.push(&sec).line(":");
    d.line("  enabled: true");
    d.push("  ").push(&camel(&leaf)).push(": ");
    q(&mut d, c, if chance(g, 50) { "" } else { "\"" }, "\"\"");
    d.line("");
    d.line("resources:\n  limits:\n    memory: 512Mi");
    d
}

fn compose(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "docker-compose.yml",
                "compose.yaml",
                "deploy/docker-compose.prod.yml",
            ],
        ),
        "docker-compose",
    );
    d.line("services:");
    d.line("  api:");
    d.line("    image: ghcr.io/acme/api:1.8.3");
    d.line("    ports:\n      - \"8080:8080\"");
    d.line("    environment:");
    d.line("      - LOG_LEVEL=info");
    if chance(g, 50) {
        d.push("      - ").push(c.name).push("=");
        q(&mut d, c, "", &format!("${{{}}}", c.name));
    } else {
        d.push("      ").push(c.name).push(": ");
        q(&mut d, c, "\"", &format!("${{{}}}", c.name));
    }
    d.line("");
    d.line("    depends_on:\n      - db");
    d
}

fn gh_actions(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[".github/workflows/deploy.yml", ".github/workflows/ci.yaml"],
        ),
        "github-actions",
    );
    d.line("name: deploy\non:\n  push:\n    branches: [main]\n");
    d.line("env:");
    d.line("  NODE_VERSION: 20");
    d.push("  ").push(c.name).push(": ");
    q(&mut d, c, "", &format!("${{{{ secrets.{} }}}}", c.name));
    d.line("");
    d.line("jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make deploy");
    d
}

fn k8s_env(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["k8s/deployment.yaml", "manifests/api.yaml"]),
        "k8s-env",
    );
    d.line("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.8.3\n          env:");
    d.line("            - name: LOG_LEVEL\n              value: info");
    d.push("            - name: ").line(c.name);
    match c.slot {
        Slot::Lit(_) => {
            d.push("              value: ");
            q(&mut d, c, "\"", "");
            d.line("");
        }
        Slot::Env => {
            d.line(&format!("              valueFrom:\n                secretKeyRef:\n                  name: api-secrets\n                  key: {}", kebab(c.name)));
        }
    }
    let _ = g;
    d
}

fn json_flat(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "config.json",
                "config/production.json",
                "secrets.json",
                ".vscode/settings.json",
            ],
        ),
        "json",
    );
    d.line("{");
    d.line("  \"name\": \"acme-api\",");
    d.line("  \"version\": \"1.8.3\",");
    let key = if chance(g, 50) {
        camel(c.name)
    } else {
        snake(c.name)
    };
    d.push("  \"").push(&key).push("\": ");
    q(&mut d, c, "\"", "\"${env:API_CREDENTIAL}\"");
    d.line(",");
    d.line("  \"timeoutMs\": 30000");
    d.line("}");
    d
}

fn json_nested(g: &mut Gen, c: &Case) -> Doc {
    let (sec, leaf) = section_leaf(c.name);
    let mut d = Doc::new(
        pick(
            g,
            &[
                "config/default.json",
                "firebase.json",
                "terraform.tfvars.json",
            ],
        ),
        "json-nested",
    );
    d.line("{");
    d.push("  \"").push(&sec).line("\": {");
    d.line("    \"enabled\": true,");
    d.push("    \"").push(&camel(&leaf)).push("\": ");
    q(&mut d, c, "\"", "null");
    d.line("");
    d.line("  }");
    d.line("}");
    d
}

fn xml_cfg(g: &mut Gen, c: &Case) -> Doc {
    let esc = |v: &Val| v.map(|t| t.replace('&', "&amp;").replace('<', "&lt;"));
    let mut d = Doc::new(
        pick(
            g,
            &["web.config", "App.config", "src/main/resources/config.xml"],
        ),
        "xml",
    );
    d.line("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    d.line("<configuration>");
    match (chance(g, 50), &c.slot) {
        (true, Slot::Lit(v)) => {
            d.line("  <appSettings>");
            d.push("    <add key=\"")
                .push(&pascal(c.name))
                .push("\" value=\"")
                .val(&esc(v), c.kind)
                .line("\" />");
            d.line("  </appSettings>");
        }
        (false, Slot::Lit(v)) => {
            let tag = camel(c.name);
            d.push("  <")
                .push(&tag)
                .push(">")
                .val(&esc(v), c.kind)
                .push("</")
                .push(&tag)
                .line(">");
        }
        (_, Slot::Env) => {
            d.push("  <")
                .push(&camel(c.name))
                .push(">${")
                .push(c.name)
                .push("}</")
                .push(&camel(c.name))
                .line(">");
        }
    }
    d.line("  <timeoutSeconds>30</timeoutSeconds>");
    d.line("</configuration>");
    d
}

fn ini_cfg(g: &mut Gen, c: &Case) -> Doc {
    let (sec, leaf) = section_leaf(c.name);
    let mut d = Doc::new(
        pick(g, &["config.ini", "setup.cfg", "conf/app.conf"]),
        "ini",
    );
    d.line("[server]\nhost = 0.0.0.0\nport = 8080\n");
    d.push("[").push(&sec).line("]");
    d.push(&leaf).push(" = ");
    q(&mut d, c, "", &format!("%({})s", c.name));
    d.line("");
    d
}

fn toml_cfg(g: &mut Gen, c: &Case) -> Doc {
    let (sec, leaf) = section_leaf(c.name);
    let mut d = Doc::new(
        pick(g, &["config.toml", "netlify.toml", ".cargo/config.toml"]),
        "toml",
    );
    d.line("[server]\nport = 8080\n");
    d.push("[").push(&sec).line("]");
    d.push(&leaf).push(" = ");
    q(&mut d, c, "\"", "\"\"");
    d.line("");
    d
}

fn dockerfile(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["Dockerfile", "docker/api.Dockerfile"]),
        "dockerfile",
    );
    d.line("FROM node:20-alpine AS build\nWORKDIR /app\nCOPY package*.json ./");
    match c.slot {
        Slot::Env => {
            d.line(&format!("ARG {}\nENV {}=${}", c.name, c.name, c.name));
        }
        Slot::Lit(_) => {
            let form = pick(g, &["ENV {}=", "ARG {}=", "ENV {} "]);
            d.push(&form.replace("{}", c.name));
            q(&mut d, c, "", "");
            d.line("");
        }
    }
    d.line("RUN npm ci && npm run build\nCMD [\"node\", \"dist/server.js\"]");
    d
}

fn terraform(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["main.tf", "infra/variables.tf", "terraform.tfvars"]),
        "terraform",
    );
    let env = format!("var.{}", snake(c.name));
    match range(g, 0, 2) {
        0 => {
            d.push("variable \"").push(&snake(c.name)).line("\" {");
            d.line("  type      = string");
            d.line("  sensitive = true");
            d.push("  default   = ");
            q(&mut d, c, "\"", "null");
            d.line("\n}");
        }
        1 => {
            let (sec, leaf) = section_leaf(c.name);
            d.push("provider \"").push(&sec).line("\" {");
            d.line("  region = \"eu-west-1\"");
            d.push("  ").push(&leaf).push(" = ");
            q(&mut d, c, "\"", &env);
            d.line("\n}");
        }
        _ => {
            d.line("environment = \"prod\"");
            d.push(&snake(c.name)).push(" = ");
            q(&mut d, c, "\"", "\"\"");
            d.line("");
        }
    }
    d
}

fn c_header(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["include/config.h", "firmware/secrets.h"]),
        "c-header",
    );
    d.line("#pragma once\n");
    d.line("#define WIFI_RETRIES 5");
    match c.slot {
        Slot::Env => {
            d.line(&format!("#define {} getenv(\"{}\")", c.name, c.name));
        }
        Slot::Lit(_) => {
            let define = chance(g, 50);
            if define {
                d.push("#define ").push(c.name).push(" ");
            } else {
                d.push("static const char *")
                    .push(&snake(c.name))
                    .push(" = ");
            }
            q(&mut d, c, "\"", "");
            d.line(if define { "" } else { ";" });
        }
    }
    d
}

fn rust_src(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(pick(g, &["src/config.rs", "examples/client.rs"]), "rust");
    d.line("use std::time::Duration;\n");
    match c.slot {
        Slot::Env => {
            d.line(&format!(
                "fn {}() -> String {{\n    std::env::var(\"{}\").expect(\"set {}\")\n}}",
                snake(c.name),
                c.name,
                c.name
            ));
        }
        Slot::Lit(_) => {
            d.push("const ").push(c.name).push(": &str = ");
            q(&mut d, c, "\"", "");
            d.line(";");
        }
    }
    d.line("pub const TIMEOUT: Duration = Duration::from_secs(30);");
    let _ = g;
    d
}

fn notebook(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["notebooks/analysis.ipynb", "explore.ipynb"]),
        "notebook",
    );
    d.line("{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"execution_count\": 3,\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": [");
    d.line("    \"import pandas as pd\\n\",");
    d.push("    \"").push(c.name).push(" = ");
    q(
        &mut d,
        c,
        "\\\"",
        &format!("os.environ[\\\"{}\\\"]", c.name),
    );
    d.line("\\n\",");
    d.line("    \"df = pd.read_csv('orders.csv')\"");
    d.line("   ]\n  }\n ],\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}");
    let _ = g;
    d
}

// ---- bare contexts (no name: the value must speak for itself) --------------------------------

fn log_line(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(
            g,
            &[
                "logs/app.log",
                "var/log/api-2024-05-02.log",
                "build-output.txt",
            ],
        ),
        "log",
    );
    let n = few(g);
    fill(g, &mut d, LOG_FILL, n);
    let pre = pick(g, &[
        "2024-05-02T09:15:01.204Z DEBUG [http] outgoing request headers={'Authorization': 'Bearer ",
        "2024-05-02T09:15:01.204Z INFO  [bootstrap] using credential ",
        "2024-05-02T09:15:01.204Z ERROR [client] request failed for token=",
        "2024-05-02T09:15:01.204Z DEBUG [config] loaded value ",
    ]);
    d.push(pre);
    q(&mut d, c, "", "<unset>");
    d.line(if pre.ends_with("Bearer ") {
        "', 'User-Agent': 'python-requests/2.31.0'}"
    } else {
        " (source=env)"
    });
    let n = few(g);
    fill(g, &mut d, LOG_FILL, n);
    d
}

fn curl_header(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["README.md", "docs/api.md", "scripts/smoke-test.sh"]),
        "curl",
    );
    d.line("## Smoke test\n\n```sh");
    let h = pick(
        g,
        &[
            "Authorization: Bearer ",
            "X-Api-Key: ",
            "Authorization: token ",
        ],
    );
    d.push("curl -sS -H \"").push(h);
    q(&mut d, c, "", "$API_TOKEN");
    d.line("\" https://api.acme.io/v2/orders?limit=10");
    d.line("```");
    d
}

fn url_query(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["docs/integrations.md", "notes.txt", "src/urls.py"]),
        "url-query",
    );
    d.line("Export endpoint (paste into the browser):\n");
    d.push(&format!(
        "https://api.{}.io/v1/export?format=csv&{}=",
        pick(g, &["acme", "partner", "reports"]),
        pick(g, &["access_token", "api_key", "token", "key"])
    ));
    q(&mut d, c, "", "${API_TOKEN}");
    d.line("");
    d
}

fn bare_line(g: &mut Gen, c: &Case) -> Doc {
    // A self-contained value (URL, connection string) on its own in prose, a log or code.
    let mut d = Doc::new(
        pick(g, &["logs/worker.log", "docs/runbook.md", "src/db.go"]),
        "bare-line",
    );
    let pre = pick(
        g,
        &[
            "2024-05-02T09:15:01.204Z ERROR [db] connection refused: ",
            "Connect with: ",
            "\tdsn := \"",
        ],
    );
    d.push(pre);
    q(&mut d, c, "", "os.Getenv(\"DSN\")");
    d.line(if pre.ends_with('"') { "\"" } else { "" });
    d
}

// ---- command contexts ------------------------------------------------------------------------

fn cmd_shell(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["scripts/deploy.sh", "bin/backup.sh", ".bash_history"]),
        "shell-command",
    );
    d.line("#!/bin/sh");
    let n = few(g);
    fill(g, &mut d, SH_FILL, n);
    q(&mut d, c, "", "");
    d.line("");
    d
}

fn cmd_dockerfile(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["Dockerfile", "build/Dockerfile.ci"]),
        "dockerfile-run",
    );
    d.line("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates");
    d.push("RUN ");
    q(&mut d, c, "", "");
    d.line("");
    let _ = g;
    d
}

fn cmd_ci(g: &mut Gen, c: &Case) -> Doc {
    let gitlab = chance(g, 50);
    let mut d = Doc::new(
        if gitlab {
            ".gitlab-ci.yml"
        } else {
            ".github/workflows/release.yml"
        },
        "ci-command",
    );
    if gitlab {
        d.line("stages: [deploy]\n\ndeploy:\n  stage: deploy\n  image: alpine:3.19\n  script:");
        d.line("    - apk add --no-cache curl");
        d.push("    - ");
    } else {
        d.line("name: release\non: workflow_dispatch\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4");
        d.push("      - run: ");
    }
    q(&mut d, c, "", "");
    d.line("");
    d
}

fn cmd_readme(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["README.md", "docs/setup.md", "CONTRIBUTING.md"]),
        "markdown-command",
    );
    d.line("# Setup\n\nRun the following once:\n\n```bash");
    q(&mut d, c, "", "");
    d.line("\n```\n\nThen open http://localhost:8080.");
    d
}

// ---- block contexts (multi-line PEM-like values) ----------------------------------------------

fn block_file(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(c.path, "key-file");
    q(&mut d, c, "", "");
    let _ = g;
    d
}

fn block_yaml(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["k8s/tls-secret.yaml", "config/keys.yml"]),
        "yaml-block",
    );
    d.line(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: signing-key\ntype: Opaque\nstringData:",
    );
    d.push("  ").push(&snake(c.name)).line(": |");
    if let Slot::Lit(v) = c.slot {
        let ind = v.map(|t| t.replace('\n', "\n    "));
        d.push("    ").val(&ind, c.kind);
    }
    d.line("");
    d
}

fn block_json(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["config/keys.json", "secrets/dev.json"]),
        "json-escaped-block",
    );
    d.line("{");
    d.push("  \"").push(&camel(c.name)).push("\": \"");
    if let Slot::Lit(v) = c.slot {
        d.val(&v.map(|t| t.replace('\n', "\\n")), c.kind);
    }
    d.line("\",");
    d.line("  \"algorithm\": \"RS256\"\n}");
    d
}

fn block_python(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["tests/conftest.py", "app/keys.py"]),
        "python-block",
    );
    d.line("import jwt\n");
    d.push(c.name).push(" = \"\"\"");
    if let Slot::Lit(v) = c.slot {
        d.val(v, c.kind);
    }
    d.line("\"\"\"\n");
    d.line(&format!(
        "def sign(claims):\n    return jwt.encode(claims, {}, algorithm=\"RS256\")",
        c.name
    ));
    d
}

fn block_terraform(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(
        pick(g, &["main.tf", "modules/bastion/keys.tf"]),
        "terraform-heredoc",
    );
    d.push("resource \"tls_locally_signed_cert\" \"")
        .push(&snake(c.name))
        .line("\" {");
    d.line("  private_key_pem = <<-EOT");
    if let Slot::Lit(v) = c.slot {
        d.push("    ")
            .val(&v.map(|t| t.replace('\n', "\n    ")), c.kind);
    }
    d.line("\n  EOT\n}");
    d
}

fn block_env(g: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(pick(g, &[".env", ".env.local"]), "dotenv-block");
    d.line("APP_ENV=production");
    d.push(c.name).push("=\"");
    if let Slot::Lit(v) = c.slot {
        d.val(&v.map(|t| t.replace('\n', "\\n")), c.kind);
    }
    d.line("\"");
    d
}

// ---- whole files -------------------------------------------------------------------------------

fn raw_file(_: &mut Gen, c: &Case) -> Doc {
    let mut d = Doc::new(c.path, "own-format-file");
    q(&mut d, c, "", "");
    d
}

/// Contexts for a value with a name (all shapes that are one line).
pub const ASSIGN: &[Ctx] = &[
    Ctx {
        name: "dotenv",
        f: dotenv,
    },
    Ctx {
        name: "shell",
        f: shell_export,
    },
    Ctx {
        name: "python",
        f: python_const,
    },
    Ctx {
        name: "python-dict",
        f: python_dict,
    },
    Ctx {
        name: "javascript",
        f: js_const,
    },
    Ctx {
        name: "js-object",
        f: js_object,
    },
    Ctx {
        name: "typescript",
        f: typescript,
    },
    Ctx {
        name: "go",
        f: go_src,
    },
    Ctx {
        name: "java",
        f: java_src,
    },
    Ctx {
        name: "kotlin",
        f: kotlin_src,
    },
    Ctx {
        name: "properties",
        f: spring_props,
    },
    Ctx {
        name: "ruby",
        f: ruby_src,
    },
    Ctx {
        name: "php",
        f: php_src,
    },
    Ctx {
        name: "csharp",
        f: csharp_src,
    },
    Ctx {
        name: "appsettings-json",
        f: appsettings,
    },
    Ctx {
        name: "yaml",
        f: yaml_flat,
    },
    Ctx {
        name: "yaml-nested",
        f: yaml_nested,
    },
    Ctx {
        name: "docker-compose",
        f: compose,
    },
    Ctx {
        name: "github-actions",
        f: gh_actions,
    },
    Ctx {
        name: "k8s-env",
        f: k8s_env,
    },
    Ctx {
        name: "json",
        f: json_flat,
    },
    Ctx {
        name: "json-nested",
        f: json_nested,
    },
    Ctx {
        name: "xml",
        f: xml_cfg,
    },
    Ctx {
        name: "ini",
        f: ini_cfg,
    },
    Ctx {
        name: "toml",
        f: toml_cfg,
    },
    Ctx {
        name: "dockerfile",
        f: dockerfile,
    },
    Ctx {
        name: "terraform",
        f: terraform,
    },
    Ctx {
        name: "c-header",
        f: c_header,
    },
    Ctx {
        name: "rust",
        f: rust_src,
    },
    Ctx {
        name: "notebook",
        f: notebook,
    },
];

/// Contexts with a name that fit named, single-token values (a client constructor argument).
pub const NAMED_EXTRA: &[Ctx] = &[Ctx {
    name: "python-call",
    f: python_client,
}];

/// Contexts without a name: for values that identify themselves.
pub const BARE_TOKEN: &[Ctx] = &[
    Ctx {
        name: "log",
        f: log_line,
    },
    Ctx {
        name: "curl",
        f: curl_header,
    },
    Ctx {
        name: "url-query",
        f: url_query,
    },
];

/// Bare contexts for whole lines (URLs, connection strings).
pub const BARE_LINE: &[Ctx] = &[Ctx {
    name: "bare-line",
    f: bare_line,
}];

pub const COMMAND: &[Ctx] = &[
    Ctx {
        name: "shell-command",
        f: cmd_shell,
    },
    Ctx {
        name: "dockerfile-run",
        f: cmd_dockerfile,
    },
    Ctx {
        name: "ci-command",
        f: cmd_ci,
    },
    Ctx {
        name: "markdown-command",
        f: cmd_readme,
    },
];

pub const BLOCK: &[Ctx] = &[
    Ctx {
        name: "key-file",
        f: block_file,
    },
    Ctx {
        name: "yaml-block",
        f: block_yaml,
    },
    Ctx {
        name: "json-escaped-block",
        f: block_json,
    },
    Ctx {
        name: "python-block",
        f: block_python,
    },
    Ctx {
        name: "terraform-heredoc",
        f: block_terraform,
    },
    Ctx {
        name: "dotenv-block",
        f: block_env,
    },
];

pub const FILE: &[Ctx] = &[Ctx {
    name: "own-format-file",
    f: raw_file,
}];
