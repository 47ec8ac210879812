//! `filter` in the config, as a TOML table and as a JSON string (an EventBridge pattern copied
//! from AWS): the same filter, the same errors at the same keys; and `null` matching, which only
//! the JSON form can write.

use hookrelay::{config::Config, filter::Filter};
use serde_json::{json, Value};

fn config(filter_line: &str) -> String {
    format!("[[route]]\npath = \"/hooks/x\"\nverify = \"none\"\nalgorithm = \"a/b\"\n{filter_line}\n")
}

fn compiled(filter_line: &str) -> Result<Filter, hookrelay::config::ConfigError> {
    Config::from_toml(&config(filter_line))
        .map(|mut c| c.routes.remove(0).filter.unwrap_or_else(|| panic!("no filter")))
}

/// `filter = { .. }` and `filter = '''<json>'''` for the same pattern.
const PAIRS: &[(&str, &str)] = &[
    (
        r#"filter = { body = { detail = { state = ["running"] } } }"#,
        r#"{"body": {"detail": {"state": ["running"]}}}"#,
    ),
    (
        r#"filter = { headers = { "x-github-event" = ["push"] }, body = { ref = [{ prefix = "refs/heads/" }] } }"#,
        r#"{"headers": {"x-github-event": ["push"]}, "body": {"ref": [{"prefix": "refs/heads/"}]}}"#,
    ),
    (
        r#"filter = { body = { n = [{ numeric = [">", 0, "<=", 5] }], s = [{ anything-but = { prefix = "x" } }] } }"#,
        r#"{"body": {"n": [{"numeric": [">", 0, "<=", 5]}], "s": [{"anything-but": {"prefix": "x"}}]}}"#,
    ),
    (
        r#"filter = { "$or" = [{ body = { a = ["1"] } }, { query = { b = [{ exists = true }] } }] }"#,
        r#"{"$or": [{"body": {"a": ["1"]}}, {"query": {"b": [{"exists": true}]}}]}"#,
    ),
];

fn events() -> Vec<Value> {
    vec![
        json!({"method": "POST", "body": {"detail": {"state": "running"}}}),
        json!({"body": {"detail": {"state": ["stopped", "running"]}}}),
        json!({"body": {"detail": {"state": "stopped"}}}),
        json!({"headers": {"x-github-event": "push"}, "body": {"ref": "refs/heads/main"}}),
        json!({"headers": {"x-github-event": "ping"}, "body": {"ref": "refs/heads/main"}}),
        json!({"body": {"n": 5, "s": "y"}}),
        json!({"body": {"n": 5.5, "s": "y"}}),
        json!({"body": {"n": 1, "s": "xy"}}),
        json!({"body": {"a": "1"}}),
        json!({"query": {"b": ""}}),
        json!({}),
    ]
}

#[test]
fn a_json_string_filter_is_the_table_filter() {
    for (table, text) in PAIRS {
        let from_table = compiled(table).unwrap_or_else(|e| panic!("{table}: {e}"));
        let from_json = compiled(&format!("filter = '''{text}'''")).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut matched = 0;
        for event in events() {
            let verdict = from_table.matches(&event);
            assert_eq!(verdict, from_json.matches(&event), "{text} on {event}");
            matched += usize::from(verdict);
        }
        assert!(matched > 0, "{text} matched none of the events");
    }
}

#[test]
fn a_json_string_filter_fails_with_the_table_forms_errors() {
    // (table form, JSON form, the key both errors name)
    let cases = [
        (
            r#"filter = { body = { ref = [{ prefixx = "a" }] } }"#,
            r#"{"body": {"ref": [{"prefixx": "a"}]}}"#,
            "route[0].filter.body.ref[0]",
        ),
        (
            r#"filter = { detail = { state = ["running"] } }"#,
            r#"{"detail": {"state": ["running"]}}"#,
            "route[0].filter.detail",
        ),
        (
            r#"filter = { body = { n = [{ numeric = ["<", 1, ">", 0] }] } }"#,
            r#"{"body": {"n": [{"numeric": ["<", 1, ">", 0]}]}}"#,
            "route[0].filter.body.n[0]",
        ),
        (
            r#"filter = { body = { a = [] } }"#,
            r#"{"body": {"a": []}}"#,
            "route[0].filter.body.a",
        ),
        (
            r#"filter = { "$or" = [{ body = { a = ["1"] } }] }"#,
            r#"{"$or": [{"body": {"a": ["1"]}}]}"#,
            "route[0].filter.\"$or\"",
        ),
        (
            r#"filter = { body = { a = { b = ["1"] }, "a.b" = ["2"] } }"#,
            r#"{"body": {"a": {"b": ["1"]}, "a.b": ["2"]}}"#,
            "route[0].filter.body",
        ),
    ];
    for (table, text, key) in cases {
        let from_table = compiled(table).err().unwrap_or_else(|| panic!("{table} was accepted"));
        let from_json = compiled(&format!("filter = '''{text}'''"))
            .err()
            .unwrap_or_else(|| panic!("{text} was accepted"));
        assert_eq!(from_table, from_json, "{text}");
        assert!(from_json.key.starts_with(key), "{text}: {from_json}");
    }
}

#[test]
fn a_json_string_that_is_not_a_pattern_names_the_filter_key() {
    for (text, says) in [
        (r#"{"body": {"state": ["running"]"#, "is not valid JSON"),
        (r#"{"body": {"a": ["1"], "a": ["2"]}}"#, "given twice"),
        (r#"["body"]"#, "must be a table"),
        (r#""body""#, "must be a table"),
        ("", "is not valid JSON"),
    ] {
        let e = compiled(&format!("filter = '''{text}'''"))
            .err()
            .unwrap_or_else(|| panic!("{text:?} was accepted"));
        assert_eq!(e.key, "route[0].filter", "{text:?}: {e}");
        assert!(e.reason.contains(says), "{text:?}: {e}");
    }
}

/// EventBridge's "Matching events on null values and empty strings": `[null]` matches a field
/// whose value is null, not an empty string and not a missing field; `""` does not match null.
#[test]
fn null_matching_through_the_json_form() {
    let null = compiled(r#"filter = '''{"body": {"detail": {"responseElements": [null]}}}'''"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let empty =
        compiled(r#"filter = '''{"body": {"detail": {"eventVersion": [""]}}}'''"#).unwrap_or_else(|e| panic!("{e}"));
    let event = json!({"body": {
        "version": "0",
        "detail-type": "EC2 Instance Launch Successful",
        "source": "aws.autoscaling",
        "resources": [],
        "detail": {"eventVersion": "", "responseElements": null}
    }});
    assert!(null.matches(&event));
    assert!(empty.matches(&event));
    let swapped = json!({"body": {"detail": {"eventVersion": null, "responseElements": ""}}});
    assert!(!null.matches(&swapped));
    assert!(!empty.matches(&swapped));
    assert!(!null.matches(&json!({"body": {"detail": {}}})));
    assert!(null.matches(&json!({"body": {"detail": {"responseElements": [1, null]}}})));
    // null ORed with values, and `exists` sees null as a value.
    let or = compiled(r#"filter = '''{"body": {"x": [null, "a"]}, "headers": {"h": [{"exists": false}]}}'''"#)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(or.matches(&json!({"body": {"x": null}})));
    assert!(or.matches(&json!({"body": {"x": "a"}})));
    assert!(!or.matches(&json!({"body": {"x": "b"}})));
    assert!(!or.matches(&json!({"body": {"x": null}, "headers": {"h": "1"}})));
}
