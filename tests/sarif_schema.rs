//! SARIF output validates against the OASIS SARIF 2.1.0 schema, read in place from
//! `../shared/schemas/sarif-schema-2.1.0.json` (the test says it skipped when the file is absent).

mod util;

use util::{aws_key_id, github_pat, Dir, Gen};

#[test]
fn sarif_output_validates_against_schema() {
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&schema_path) else {
        eprintln!("SKIPPED: {} not found", schema_path.display());
        return;
    };
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::JSONSchema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .compile(&schema)
        .expect("the SARIF schema compiles");

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
        if let Err(errors) = validator.validate(&doc) {
            let msgs: Vec<String> = errors
                .map(|e| format!("{e} at {}", e.instance_path))
                .collect();
            panic!("SARIF does not validate:\n{}", msgs.join("\n"));
        }
        assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), want);
        // The validator is not vacuous: a broken copy fails.
        let mut broken = doc.clone();
        broken["runs"][0]["columnKind"] = serde_json::json!("bytes");
        assert!(validator.validate(&broken).is_err());
    }
}
