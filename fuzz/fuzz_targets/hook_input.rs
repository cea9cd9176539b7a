//! Fuzz what git hands the hooks: the `pre-receive` and `pre-push` stdin protocols, push options
//! from the environment, and the `[hook]` settings table. Invariants beyond "no panic": a parsed
//! update has well-formed, lower-case object ids of equal length and a ref name without spaces
//! or control characters; writing the updates back out and parsing them again gives the same
//! updates; an error names a line that exists; a skip reason has no control characters and is
//! bounded.

#![no_main]

use arbitrary::Arbitrary;
use leakhound::hook::protocol::{
    is_zero, parse_pre_push, parse_pre_receive, push_options, skip_request, RefUpdate,
};
use leakhound::hook::HookSettings;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    stdin: &'a [u8],
    options: Vec<String>,
    count: Option<String>,
    settings: &'a str,
}

fn check_update(u: &RefUpdate) {
    for oid in [&u.old, &u.new] {
        assert!(oid.len() == 40 || oid.len() == 64, "{oid}");
        assert!(
            oid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{oid}"
        );
    }
    assert_eq!(u.old.len(), u.new.len());
    assert!(!u.name.is_empty());
    assert!(
        !u.name.chars().any(|c| c == ' ' || c.is_control()),
        "{:?}",
        u.name
    );
    assert_eq!(u.is_create(), is_zero(&u.old));
}

fn lines(b: &[u8]) -> usize {
    b.split(|&c| c == b'\n').count()
}

fuzz_target!(|input: Input<'_>| {
    if input.stdin.len() > 64 * 1024 || input.settings.len() > 16 * 1024 {
        return;
    }
    match parse_pre_receive(input.stdin) {
        Ok(updates) => {
            let mut text = String::new();
            for u in &updates {
                check_update(u);
                text.push_str(&format!("{} {} {}\n", u.old, u.new, u.name));
            }
            assert_eq!(parse_pre_receive(text.as_bytes()).unwrap(), updates);
        }
        Err(e) => {
            assert!(e.line >= 1 && e.line <= lines(input.stdin), "{e}");
            assert!(e.to_string().starts_with("hook input line "));
        }
    }
    match parse_pre_push(input.stdin) {
        Ok(lines) => {
            for l in &lines {
                check_update(&l.update);
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= lines(input.stdin), "{e}"),
    }
    let env = |k: &str| -> Option<String> {
        if k == "GIT_PUSH_OPTION_COUNT" {
            return input.count.clone();
        }
        let i: usize = k.strip_prefix("GIT_PUSH_OPTION_")?.parse().ok()?;
        input.options.get(i).cloned()
    };
    let opts = push_options(&env);
    assert!(opts.len() <= input.options.len());
    if let Some(reason) = skip_request(&opts) {
        assert!(!reason.chars().any(char::is_control), "{reason:?}");
        assert!(reason.chars().count() <= 83, "{reason:?}");
    }
    if let Err(e) = HookSettings::from_toml("fuzz.toml", input.settings) {
        assert!(e.to_string().starts_with("fuzz.toml: [hook]: "), "{e}");
    }
});
