//! `hookrelay test-filter`, run as the real binary: `match` / `no match: ..` on stdout with exit
//! 0 / 1, and exit 2 with a terse reason on stderr for input it cannot use.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run hookrelay: {e}"))
}

fn test_filter(pattern: &str, event: &str) -> (Option<i32>, String, String) {
    let out = run(&["test-filter", "--pattern", pattern, "--event", event]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PATTERN: &str = r#"{"headers": {"x-github-event": ["push"]}, "body": {"ref": [{"prefix": "refs/heads/"}], "repository": {"name": [{"equals-ignore-case": "STRASSE"}]}}}"#;

#[test]
fn prints_match_and_exits_0() {
    let event = r#"{"headers": {"x-github-event": "push"}, "body": {"ref": "refs/heads/main", "repository": {"name": "straße"}}}"#;
    assert_eq!(test_filter(PATTERN, event), (Some(0), "match\n".into(), String::new()));
}

#[test]
fn prints_the_first_failing_field_and_exits_1() {
    let event =
        r#"{"headers": {"x-github-event": "push"}, "body": {"ref": "refs/tags/v1", "repository": {"name": "x"}}}"#;
    let (code, out, err) = test_filter(PATTERN, event);
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(
        out,
        "no match: `body.ref` is \"refs/tags/v1\"; the pattern wants [{\"prefix\":\"refs/heads/\"}]\n"
    );
    assert_eq!(err, "");
}

#[test]
fn reads_pattern_and_event_from_files_in_either_order() {
    let dir = std::env::temp_dir().join(format!("hookrelay-test-filter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let pattern = dir.join("pattern.json");
    let event = dir.join("event.json");
    // Null matching, which only the JSON form of a pattern can write.
    std::fs::write(&pattern, r#"{"body": {"detail": {"responseElements": [null]}}}"#).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        &event,
        r#"{"body": {"detail": {"eventVersion": "", "responseElements": null}}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (pattern, event) = (
        pattern.to_string_lossy().into_owned(),
        event.to_string_lossy().into_owned(),
    );
    let out = run(&["test-filter", "--event", &event, "--pattern", &pattern]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "match\n");
    let (code, out, _) = test_filter(&pattern, r#"{"body": {"detail": {"responseElements": ""}}}"#);
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        "no match: `body.detail.responseElements` is \"\"; the pattern wants [null]\n"
    );
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    for (pattern, event, stderr) in [
        (
            r#"{"body": {"ref": [{"prefixx": "a"}]}}"#,
            "{}",
            "pattern: at `body.ref[0]`: unknown operator `prefixx`\n",
        ),
        (
            r#"{"detail": {"state": ["running"]}}"#,
            "{}",
            "pattern: at `detail`: filters look at `method`, `path`, `query`, `headers` and `body` only\n",
        ),
        (
            r#"{"body": {"a": ["1"], "a": ["2"]}}"#,
            "{}",
            "pattern: is not valid JSON: key `a` is given twice at line 1 column 33\n",
        ),
        (
            "/nonexistent/pattern.json",
            "{}",
            "pattern: cannot read `/nonexistent/pattern.json`: No such file or directory (os error 2)\n",
        ),
        (
            r#"{"body": {"a": ["1"]}}"#,
            r#"{"body": "#,
            "event: is not valid JSON: EOF while parsing a value at line 1 column 9\n",
        ),
    ] {
        let (code, out, err) = test_filter(pattern, event);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(2), "", stderr),
            "{pattern} / {event}"
        );
    }
    let usage = run(&["test-filter", "--pattern", "{}"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr)
        .contains("hookrelay test-filter --pattern <json|file> --event <json|file>"));
}

/// The binary decides as the library's `Filter::matches`, the ingress's matcher, on the same input.
#[test]
fn decides_as_the_ingress_matcher() {
    let filter = hookrelay::filter::json_pattern::compile_for_request(
        &hookrelay::filter::json_pattern::parse(PATTERN).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for event in [
        r#"{"headers": {"x-github-event": "push"}, "body": {"ref": "refs/heads/a", "repository": {"name": "Strasse"}}}"#,
        r#"{"headers": {"x-github-event": "ping"}, "body": {"ref": "refs/heads/a", "repository": {"name": "strasse"}}}"#,
        r#"{"headers": {"x-github-event": ["push"]}, "body": {"ref": ["x", "refs/heads/b"], "repository": [{"name": "STRAẞE"}]}}"#,
        r#"{"body": {}}"#,
    ] {
        let expected = filter.matches(&serde_json::from_str(event).unwrap_or_else(|e| panic!("{e}")));
        let (code, out, _) = test_filter(PATTERN, event);
        assert_eq!(code, Some(if expected { 0 } else { 1 }), "{event}: {out}");
    }
}
