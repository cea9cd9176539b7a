//! Opt-in pattern packs through the real binary: off by default, turned on with `--pack` or
//! `packs = [...]` in a policy or `--config` file, exact locations, checksums (Luhn, IBAN mod-97)
//! deciding what is reported, redaction, and clear errors for unknown pack names. Card numbers
//! and IBANs are built at run time with their check digits, so none is stored in the repository.

mod util;

use leakhound::rules::{check, pack_names, RuleSetBuilder};
use leakhound::verify::{iban_mod97, luhn_check_digit};
use util::{Dir, Gen};

/// A Visa-like card number: `4` and random digits, 16 long, with its Luhn check digit; and the
/// same number with its last digit changed (which the Luhn check always catches).
fn card(g: &mut Gen) -> (String, String) {
    let mut digits = vec![4u8];
    digits.extend((0..14).map(|_| (g.next() % 10) as u8));
    digits.push(luhn_check_digit(&digits));
    let text = |d: &[u8]| d.iter().map(|d| char::from(b'0' + d)).collect::<String>();
    let good = text(&digits);
    *digits.last_mut().unwrap() = (digits[15] + 1) % 10;
    (good, text(&digits))
}

/// A German IBAN with random account digits and right check digits; and one with a digit off.
fn iban(g: &mut Gen) -> (String, String) {
    let bban = g.string("0123456789", 18);
    let check = 98 - iban_mod97(format!("DE00{bban}").as_bytes()).unwrap();
    let good = format!("DE{check:02}{bban}");
    let mut bad = good.clone().into_bytes();
    bad[10] = if bad[10] == b'9' { b'0' } else { bad[10] + 1 };
    (good, String::from_utf8(bad).unwrap())
}

/// A directory holding `data.txt`: a valid card on line 2, a valid IBAN on line 3, an email on
/// line 4, the invalid variants on lines 5 and 6. Returns the dir and the two valid values.
fn pii_dir(seed: u64) -> (Dir, String, String) {
    let mut g = Gen::new(seed);
    let (card, bad_card) = card(&mut g);
    let (iban, bad_iban) = iban(&mut g);
    let d = Dir::new();
    d.create(
        "data.txt",
        format!(
            "customer export\ncard: {card}\n  iban = \"{iban}\"\ncontact <ana.lima@{host}>\nold card: {bad_card}\nold iban: {bad_iban}\n",
            host = "fastmail.fm",
        ),
    );
    (d, card, iban)
}

/// A finding as `(rule id, line, column, end column)`.
type Row = (String, u64, u64, u64);

/// The findings of a JSON report.
fn rows(json: &str) -> Vec<Row> {
    let v: serde_json::Value = serde_json::from_str(json).expect("json output");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["end_column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Findings of a JSON scan, with the exit code and stderr.
fn findings(d: &Dir, args: &[&str]) -> (i32, Vec<Row>, String) {
    let (code, out, err) = d.cmd().args(["scan", "-f", "json"]).args(args).run();
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, rows(&out), err)
}

fn row(id: &str, line: u64, col: u64, end: u64) -> Row {
    (id.to_string(), line, col, end)
}

#[test]
fn packs_are_off_by_default() {
    let (d, _, _) = pii_dir(1);
    let (code, found, err) = findings(&d, &["data.txt"]);
    assert_eq!((code, found), (0, vec![]), "{err}");
}

#[test]
fn pack_pii_finds_cards_ibans_and_emails_at_exact_locations() {
    let (d, card, iban) = pii_dir(2);
    let (code, mut found, err) = findings(&d, &["--pack", "pii", "data.txt"]);
    assert_eq!(code, 1, "{err}");
    found.sort();
    let mut want = vec![
        row("pii-credit-card", 2, 7, 22),
        row("pii-iban", 3, 11, 32),
        row("pii-email", 4, 10, 29),
    ];
    want.sort();
    assert_eq!(
        found, want,
        "the invalid card and IBAN on lines 5-6 are not found"
    );
    // Redacted by default, in every output.
    let (_, human, err) = d.cmd().args(["scan", "--pack", "pii", "data.txt"]).run();
    for secret in [&card, &iban] {
        assert!(!human.contains(secret.as_str()) && !err.contains(secret.as_str()));
    }
}

#[test]
fn grouped_card_and_printed_iban_are_found() {
    let mut g = Gen::new(3);
    let (card, _) = card(&mut g);
    let (iban, _) = iban(&mut g);
    let fours = |s: &str| {
        s.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let d = Dir::new();
    d.create(
        "form.txt",
        format!("PAN {}\nIBAN {}\n", fours(&card), fours(&iban)),
    );
    let (_, found, err) = findings(&d, &["--pack", "pii", "form.txt"]);
    // 16 digits in four groups: 19 bytes; 22 characters in six groups: 27 bytes (the end
    // column is inclusive).
    assert_eq!(
        found,
        vec![row("pii-credit-card", 1, 5, 23), row("pii-iban", 2, 6, 32)],
        "{err}"
    );
}

#[test]
fn invalid_checksums_are_not_found() {
    let mut g = Gen::new(4);
    let d = Dir::new();
    let mut text = String::new();
    for _ in 0..20 {
        let (_, bad_card) = card(&mut g);
        let (_, bad_iban) = iban(&mut g);
        text.push_str(&format!("card {bad_card} iban {bad_iban}\n"));
    }
    d.create("bad.txt", text);
    let (code, found, err) = findings(&d, &["--pack", "pii", "bad.txt"]);
    assert_eq!((code, found), (0, vec![]), "{err}");
}

#[test]
fn policy_file_packs_key_turns_a_pack_on() {
    let (d, _, _) = pii_dir(5);
    // A policy file (it has an allowlist) that turns the pack on and allows one of its rules.
    d.create(
        ".leakhound.toml",
        "packs = [\"pii\"]\n\n[[allowlist]]\nrules = [\"pii-email\"]\nreason = \"contacts are public\"\n",
    );
    let (code, found, err) = findings(&d, &["."]);
    assert_eq!(code, 1, "{err}");
    let ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(ids, ["pii-credit-card", "pii-iban"], "{err}");
    // --no-policy-file leaves it off again.
    let (code, found, _) = findings(&d, &["--no-policy-file", "."]);
    assert_eq!((code, found.len()), (0, 0));
}

#[test]
fn config_file_with_rules_and_packs() {
    let (d, _, _) = pii_dir(6);
    d.create(
        "extra.toml",
        "packs = [\"infra\", \"pii\"]\n\n[[rules]]\nid = \"ticket\"\nkeywords = [\"tkt-\"]\nregex = '''\\b(TKT-[0-9]{6})\\b'''\nexamples = [\"TKT-123456\"]\nnegative_examples = [\"TKT-1\"]\n",
    );
    d.create("notes.txt", "see TKT-424242 on http://10.1.2.3:8080/x\n");
    let (code, mut found, err) = findings(&d, &["--config", "extra.toml", "data.txt", "notes.txt"]);
    assert_eq!(code, 1, "{err}");
    found.sort();
    let ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "infra-private-ip-url",
            "pii-credit-card",
            "pii-email",
            "pii-iban",
            "ticket"
        ]
    );
}

#[test]
fn unknown_pack_is_a_clear_error() {
    let (d, _, _) = pii_dir(7);
    let (code, out, err) = d.cmd().args(["scan", "--pack", "pci", "data.txt"]).run();
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("unknown pack 'pci' (known packs: infra, pii)"),
        "{err}"
    );
    d.create(".leakhound.toml", "packs = [\"PII\"]\n");
    let (code, _, err) = d.cmd().args(["scan", "."]).run();
    assert_eq!(code, 2);
    assert!(
        err.contains(".leakhound.toml: packs: unknown pack 'PII' (known packs: infra, pii)"),
        "{err}"
    );
    let (code, _, err) = d.cmd().args(["rules", "list", "--pack", "nope"]).run();
    assert_eq!(code, 2);
    assert!(err.contains("unknown pack 'nope'"), "{err}");
}

#[test]
fn stdin_and_files_agree() {
    let (d, _, _) = pii_dir(8);
    let text = std::fs::read(d.path().join("data.txt")).unwrap();
    let (_, from_file, _) = findings(&d, &["--pack", "pii", "data.txt"]);
    let (code, out, err) = d
        .cmd()
        .args(["scan", "-f", "json", "--pack", "pii", "-"])
        .stdin(text)
        .run();
    assert_eq!(code, 1, "{err}");
    assert_eq!(rows(&out), from_file);
}

#[test]
fn git_history_scan_takes_packs() {
    let (d, card, _) = pii_dir(9);
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = util::git_command(&repo, &repo).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("orders.csv"), format!("id,card\n1,{card}\n")).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "orders"]);
    let (code, _, err) = d.cmd().args(["git", "repo"]).run();
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = d
        .cmd()
        .args(["git", "-f", "jsonl", "--pack", "pii", "repo"])
        .run();
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["rule_id"], "pii-credit-card");
    assert_eq!(
        (v["line"].as_u64(), v["column"].as_u64()),
        (Some(2), Some(3))
    );
}

#[test]
fn infra_pack_finds_private_urls_hostnames_and_kubeconfig_servers() {
    let d = Dir::new();
    d.create(
        "deploy.yaml",
        "clusters:\n- cluster:\n    server: https://10.20.0.1:6443\n  name: prod\nbackend: http://192.168.4.2:8080/api\ndb_host: pg.prod.internal\npublic: https://example.com\n",
    );
    let (code, mut found, err) = findings(&d, &["--pack", "infra", "deploy.yaml"]);
    assert_eq!(code, 1, "{err}");
    found.sort();
    // Locations are the secret's (end column inclusive): the kubeconfig URL, the host and port
    // of the private URL, the hostname. The private address inside the kubeconfig URL overlaps
    // that finding and is reported once.
    assert_eq!(
        found,
        vec![
            row("infra-internal-hostname", 6, 10, 25),
            row("infra-kubeconfig-server", 3, 13, 34),
            row("infra-private-ip-url", 5, 17, 32),
        ],
        "{err}"
    );
}

#[test]
fn rules_list_and_check_take_packs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = util::Cmd::new(root)
        .args(["rules", "check", "--pack", "pii", "--pack", "infra"])
        .run();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(": ok\n"), "{out}");
    let (code, out, _) = util::Cmd::new(root)
        .args(["rules", "list", "--pack", "pii"])
        .run();
    assert_eq!(code, 0);
    let card = out
        .lines()
        .find(|l| l.starts_with("pii-credit-card "))
        .unwrap();
    assert!(card.ends_with("[pack:pii]"), "{card}");
    let aws = out.lines().find(|l| l.starts_with("aws-access-key-id"));
    assert!(
        aws.is_some_and(|l| l.ends_with("[patterns/aws.toml]")),
        "{out}"
    );
    let (_, plain, _) = util::Cmd::new(root).args(["rules", "list"]).run();
    assert!(!plain.contains("pii-"), "packs are off by default");
}

#[test]
fn every_pack_passes_its_examples() {
    assert_eq!(pack_names(), ["infra", "pii"]);
    for name in pack_names() {
        let mut b = RuleSetBuilder::new();
        b.builtin(false);
        b.pack(name).unwrap();
        let set = b.build().unwrap();
        assert!(set.len() >= 3, "{name}: {} rules", set.len());
        assert!(set.rules().iter().all(|r| r.pack.as_deref() == Some(name)));
        let report = check::check(&set);
        assert!(report.ok(), "{name}:\n{}", report.errors.join("\n"));
    }
}
