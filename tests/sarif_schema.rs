//! SARIF output validates against the OASIS SARIF 2.1.0 schema, read in place from
//! `../shared/schemas/sarif-schema-2.1.0.json` (the test says it skipped when the file is absent).

mod util;

use util::{aws_key_id, github_pat, Dir, Gen};

/// The SARIF 2.1.0 schema validator, or `None` (the test says it skipped) without the file.
fn validator() -> Option<jsonschema::JSONSchema> {
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&schema_path) else {
        eprintln!("SKIPPED: {} not found", schema_path.display());
        return None;
    };
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    Some(
        jsonschema::JSONSchema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .compile(&schema)
            .expect("the SARIF schema compiles"),
    )
}

fn assert_valid(validator: &jsonschema::JSONSchema, doc: &serde_json::Value) {
    if let Err(errors) = validator.validate(doc) {
        let msgs: Vec<String> = errors
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        panic!("SARIF does not validate:\n{}", msgs.join("\n"));
    }
}

#[test]
fn sarif_with_suppressions_baseline_and_summary_validates() {
    let Some(validator) = validator() else { return };
    let mut g = Gen::new(22);
    let d = Dir::new();
    d.create(
        ".leakhound.toml",
        format!(
            "{}\n[[allowlist]]\npaths = [\"fixtures/**\"]\nreason = \"revoked test keys\"\nowner = \"sec\"\nexpires = \"2027-05-01\"\n\n[[allowlist]]\nrules = [\"test-ghp\"]\nreason = \"expired one\"\nexpires = \"2020-01-01\"\n",
            util::TEST_RULES
        ),
    );
    d.create("fixtures/k.txt", format!("k = {}\n", aws_key_id(&mut g)));
    d.create(
        "inline.py",
        format!(
            "k = '{}'  # leakhound:allow reason=\"demo\"\n",
            aws_key_id(&mut g)
        ),
    );
    d.create("old.py", format!("k = '{}'\n", aws_key_id(&mut g)));
    let (code, _, err) = d
        .cmd()
        .args([
            "scan",
            "--no-builtin-rules",
            "--baseline-out",
            "base.json",
            ".",
        ])
        .run();
    assert_eq!(code, 1, "{err}");
    d.create("new.txt", format!("t = {}\n", github_pat(&mut g)));
    let (code, out, err) = d
        .cmd()
        .args([
            "scan",
            "--no-builtin-rules",
            "--baseline",
            "base.json",
            "-f",
            "sarif",
            ".",
        ])
        .run();
    assert_eq!(code, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(&validator, &doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    // fixtures (external) and inline.py (inSource) suppressed; new.txt new; old.py baselined.
    assert_eq!(results.len(), 3, "{out}");
    let kinds: Vec<&str> = results
        .iter()
        .filter_map(|r| r["suppressions"][0]["kind"].as_str())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"external") && kinds.contains(&"inSource"));
    let new: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["baselineState"], "new");
    assert_eq!(
        new[0]["properties"]["expiredExceptions"][0]["reason"],
        "expired one"
    );
    assert_eq!(doc["runs"][0]["properties"]["summary"]["baselined"], 1);
    // The validator is not vacuous: a bad suppression kind fails.
    let mut broken = doc.clone();
    let i = results
        .iter()
        .position(|r| r.get("suppressions").is_some())
        .unwrap();
    broken["runs"][0]["results"][i]["suppressions"][0]["kind"] = serde_json::json!("dismissed");
    assert!(validator.validate(&broken).is_err());
}

#[test]
fn sarif_output_validates_against_schema() {
    let Some(validator) = validator() else { return };

    let mut g = Gen::new(21);
    let d = Dir::new();
    d.create("rules.toml", util::TEST_RULES);
    d.create("src/a.py", format!("KEY = \"{}\"\n", aws_key_id(&mut g)));
    d.create(
        "src/b c.txt",
        format!("x\n\ttoken={}\n", github_pat(&mut g)),
    );
    for (args, want) in [
        (vec!["src"], 2),
        (vec!["src/a.py"], 1),
        (vec!["rules.toml"], 0),
    ] {
        let (code, out, err) = d
            .cmd()
            .args([
                "scan",
                "--no-builtin-rules",
                "--config",
                "rules.toml",
                "-f",
                "sarif",
            ])
            .args(args)
            .run();
        assert!(code <= 1, "{err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_valid(&validator, &doc);
        assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), want);
        // The validator is not vacuous: a broken copy fails.
        let mut broken = doc.clone();
        broken["runs"][0]["columnKind"] = serde_json::json!("bytes");
        assert!(validator.validate(&broken).is_err());
    }
}
