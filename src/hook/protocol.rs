//! What git hands a hook: the ref updates of a push on stdin (`pre-receive`, `pre-push`) and the
//! push options in the environment. Parsing is strict about shape and forgiving about count: an
//! empty line is skipped, a malformed one is an error naming its line number, and object ids may
//! be SHA-1 (40 hex digits) or SHA-256 (64).

use std::fmt;

/// One ref update of a push: `<old-oid> <new-oid> <refname>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    /// The ref's value before the push; all zeros when the ref is created.
    pub old: String,
    /// The ref's value after the push; all zeros when the ref is deleted.
    pub new: String,
    /// The full ref name, e.g. `refs/heads/main`.
    pub name: String,
}

impl RefUpdate {
    /// The push creates this ref.
    pub fn is_create(&self) -> bool {
        is_zero(&self.old)
    }

    /// The push deletes this ref.
    pub fn is_delete(&self) -> bool {
        is_zero(&self.new)
    }
}

/// A malformed line of hook input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hook input line {}: {}", self.line, self.msg)
    }
}

impl std::error::Error for ParseError {}

/// True for an object id made only of zeros (git's "no object").
pub fn is_zero(oid: &str) -> bool {
    !oid.is_empty() && oid.bytes().all(|b| b == b'0')
}

fn is_oid(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parse the `pre-receive` (and `post-receive`) input: one `<old> <new> <ref>` per line.
pub fn parse_pre_receive(input: &[u8]) -> Result<Vec<RefUpdate>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in lines(input) {
        let err = |msg: &str| ParseError {
            line: i,
            msg: msg.to_string(),
        };
        let mut f = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (f.next(), f.next(), f.next()) else {
            return Err(err("expected '<old-oid> <new-oid> <refname>'"));
        };
        check_update(old, new, name).map_err(|m| err(&m))?;
        out.push(RefUpdate {
            old: old.to_ascii_lowercase(),
            new: new.to_ascii_lowercase(),
            name: name.to_string(),
        });
    }
    Ok(out)
}

/// One line of `pre-push` input: `<local-ref> <local-oid> <remote-ref> <remote-oid>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushLine {
    /// The local ref being pushed (`(delete)` for a deletion).
    pub local_ref: String,
    /// What is pushed: the update's new value (zeros for a deletion).
    pub update: RefUpdate,
}

/// Parse the `pre-push` input. The update's `old` is the remote's current value (zeros when the
/// remote does not have the ref).
pub fn parse_pre_push(input: &[u8]) -> Result<Vec<PushLine>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in lines(input) {
        let err = |msg: &str| ParseError {
            line: i,
            msg: msg.to_string(),
        };
        let f: Vec<&str> = line.split(' ').collect();
        let [local_ref, local, remote_ref, remote] = f.as_slice() else {
            return Err(err(
                "expected '<local-ref> <local-oid> <remote-ref> <remote-oid>'",
            ));
        };
        check_update(remote, local, remote_ref).map_err(|m| err(&m))?;
        out.push(PushLine {
            local_ref: local_ref.to_string(),
            update: RefUpdate {
                old: remote.to_ascii_lowercase(),
                new: local.to_ascii_lowercase(),
                name: remote_ref.to_string(),
            },
        });
    }
    Ok(out)
}

fn check_update(old: &str, new: &str, name: &str) -> Result<(), String> {
    for (what, oid) in [("old", old), ("new", new)] {
        if !is_oid(oid) {
            return Err(format!(
                "{what} object id '{}' is not 40 or 64 hex digits",
                shorten(oid)
            ));
        }
    }
    if old.len() != new.len() {
        return Err("old and new object ids have different lengths".into());
    }
    // Any control character, C1 ones (U+0080..U+009F) included: the name ends up in messages.
    if name.is_empty() || name.chars().any(|c| c.is_control() || c == ' ') {
        return Err("the ref name is empty or holds spaces or control characters".into());
    }
    Ok(())
}

/// At most 80 characters of untrusted input, for messages.
fn shorten(s: &str) -> String {
    let t: String = s.chars().take(80).filter(|c| !c.is_control()).collect();
    if s.chars().count() > 80 {
        format!("{t}...")
    } else {
        t
    }
}

/// The non-empty lines of `input` with their 1-based numbers, `\r\n` tolerated. Lines that are
/// not UTF-8 are decoded lossily, so they fail the shape checks with a message.
fn lines(input: &[u8]) -> impl Iterator<Item = (usize, String)> + '_ {
    input
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            (!l.is_empty()).then(|| (i + 1, String::from_utf8_lossy(l).into_owned()))
        })
}

/// The push options of this push (`git push -o KEY=VALUE`), from `GIT_PUSH_OPTION_COUNT` and
/// `GIT_PUSH_OPTION_<i>` as git sets them for `pre-receive` when the server advertises them.
pub fn push_options(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let n: usize = env("GIT_PUSH_OPTION_COUNT")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    // git caps push options far lower; the cap keeps a hostile environment from costing time.
    (0..n.min(1000))
        .filter_map(|i| env(&format!("GIT_PUSH_OPTION_{i}")))
        .collect()
}

/// The reason given with `-o leakhound.skip=<reason>` (or `leakhound.skip` alone: an empty
/// reason), if any.
pub fn skip_request(options: &[String]) -> Option<String> {
    options.iter().find_map(|o| {
        if o == "leakhound.skip" {
            Some(String::new())
        } else {
            o.strip_prefix("leakhound.skip=").map(|r| shorten(r.trim()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn pre_receive_lines() {
        let input =
            format!("{A} {B} refs/heads/main\n\n{Z} {B} refs/tags/v1\r\n{A} {Z} refs/heads/old");
        let u = parse_pre_receive(input.as_bytes()).unwrap();
        assert_eq!(u.len(), 3);
        assert_eq!(u[0].name, "refs/heads/main");
        assert!(!u[0].is_create() && !u[0].is_delete());
        assert!(u[1].is_create());
        assert_eq!(u[1].name, "refs/tags/v1");
        assert!(u[2].is_delete());
    }

    #[test]
    fn sha256_ids() {
        let a = "a".repeat(64);
        let u = parse_pre_receive(format!("{a} {a} refs/heads/x\n").as_bytes()).unwrap();
        assert_eq!(u[0].old, a);
    }

    #[test]
    fn malformed_lines_name_their_number() {
        let table: &[(&str, &str)] = &[
            ("two fields", "\nabc def\n"),
            ("short oid", "\n1234 5678 refs/heads/x\n"),
            (
                "mixed lengths",
                &format!("\n{A} {} refs/heads/x", "a".repeat(64)),
            ),
            ("space in ref", &format!("\n{A} {B} refs/heads/a b")),
            ("not hex", &format!("\n{} {B} refs/heads/x", "g".repeat(40))),
        ];
        for (name, input) in table {
            let e = parse_pre_receive(input.as_bytes()).unwrap_err();
            assert_eq!(e.line, 2, "{name}: {e}");
        }
    }

    #[test]
    fn pre_push_lines() {
        let input =
            format!("refs/heads/main {B} refs/heads/main {A}\n(delete) {Z} refs/heads/gone {A}\n");
        let p = parse_pre_push(input.as_bytes()).unwrap();
        assert_eq!(p[0].update.old, A);
        assert_eq!(p[0].update.new, B);
        assert!(p[1].update.is_delete());
        assert!(parse_pre_push(format!("refs/heads/x {A} refs/heads/x").as_bytes()).is_err());
    }

    #[test]
    fn push_option_skip() {
        let env = |k: &str| match k {
            "GIT_PUSH_OPTION_COUNT" => Some("2".to_string()),
            "GIT_PUSH_OPTION_0" => Some("ci.skip".to_string()),
            "GIT_PUSH_OPTION_1" => Some("leakhound.skip=rotated already, ticket SEC-1".to_string()),
            _ => None,
        };
        let opts = push_options(&env);
        assert_eq!(opts.len(), 2);
        assert_eq!(
            skip_request(&opts).as_deref(),
            Some("rotated already, ticket SEC-1")
        );
        assert_eq!(skip_request(&["other".into()]), None);
        assert_eq!(
            skip_request(&["leakhound.skip".into()]).as_deref(),
            Some("")
        );
    }
}
