//! Patterns AWS rejects are rejected, with where and why; odd events never panic.

use serde_json::{json, Map};

use super::*;
use crate::filter::number::Scaled;

#[test]
fn rejects_malformed_structure() {
    rejected_at(json!(["a"]), "", "must be an object");
    rejected_at(json!("a"), "", "must be an object");
    rejected_at(json!({}), "", "empty objects");
    rejected_at(json!({"a": {}}), "a", "empty objects");
    rejected_at(json!({"a": "x"}), "a", "array of match values");
    rejected_at(json!({"a": 1}), "a", "array of match values");
    rejected_at(json!({"a": null}), "a", "array of match values");
    rejected_at(json!({"body": {"x": []}}), "body.x", "empty arrays");
    rejected_at(json!({"a": [["x"]]}), "a[0]", "not an array");
    rejected_at(json!({"a": ["x", {}]}), "a[1]", "needs an operator");
    rejected_at(
        json!({"a": [{"prefix": "x", "suffix": "y"}]}),
        "a[0]",
        "exactly one operator",
    );
    rejected_at(
        json!({"a.b": {"c": [{"nope": 1}]}}),
        "\"a.b\".c[0]",
        "unknown operator `nope`",
    );
}

#[test]
fn rejects_unknown_operators_with_their_path() {
    let e = rejected(json!({"body": {"triggerEvent": [{"prefixx": "BOOKING_"}]}}));
    assert_eq!(e.path, "body.triggerEvent[0]");
    assert_eq!(e.to_string(), "at `body.triggerEvent[0]`: unknown operator `prefixx`");
    // Operator names are case-sensitive.
    rejected_at(json!({"a": [{"Prefix": "x"}]}), "a[0]", "unknown operator `Prefix`");
    rejected_at(json!({"a": [{"exactly": "x"}]}), "a[0]", "unknown operator `exactly`");
    rejected_at(json!({"a": [{"regex": "x"}]}), "a[0]", "unknown operator `regex`");
}

#[test]
fn rejects_bad_operator_arguments() {
    for (bad, reason) in [
        (json!({"prefix": 1}), "must be a string"),
        (json!({"prefix": null}), "must be a string"),
        (json!({"prefix": ["a"]}), "must be a string"),
        (json!({"prefix": {"suffix": "a"}}), "equals-ignore-case"),
        (json!({"prefix": {"equals-ignore-case": 1}}), "must be a string"),
        (
            json!({"prefix": {"equals-ignore-case": "a", "x": "b"}}),
            "equals-ignore-case",
        ),
        (json!({"suffix": 1}), "must be a string"),
        (json!({"suffix": {"wildcard": "a"}}), "equals-ignore-case"),
        (json!({"equals-ignore-case": 1}), "must be a string"),
        (json!({"equals-ignore-case": ["a"]}), "must be a string"),
        (json!({"wildcard": 1}), "must be a string"),
        (json!({"exists": "true"}), "true or false"),
        (json!({"exists": 1}), "true or false"),
        (json!({"exists": null}), "true or false"),
        (json!({"cidr": 10}), "must be a string"),
        (json!({"cidr": "10.0.0.0"}), "one `/`"),
        (json!({"cidr": "10.0.0.0/33"}), "mask"),
        (json!({"cidr": "10.0.0.0/x"}), "mask"),
        (json!({"cidr": "10.0.0/8"}), "not an IP address"),
        (json!({"cidr": "2001:db8::/129"}), "mask"),
    ] {
        rejected_at(json!({"f": [bad]}), "f[0]", reason);
    }
}

#[test]
fn rejects_bad_anything_but() {
    for (bad, reason) in [
        (json!(null), "`anything-but` takes"),
        (json!(true), "`anything-but` takes"),
        (json!([]), "`anything-but` takes"),
        (json!(["a", 1]), "only strings or only numbers"),
        (json!([null]), "`anything-but` takes"),
        (json!([true, false]), "`anything-but` takes"),
        (json!([["a"]]), "`anything-but` takes"),
        (json!({}), "`anything-but` takes"),
        (json!({"prefix": "a", "suffix": "b"}), "`anything-but` takes"),
        (
            json!({"numeric": [">", 1]}),
            "unknown operator `numeric` in `anything-but`",
        ),
        (json!({"exists": true}), "unknown operator `exists` in `anything-but`"),
        (json!({"prefix": ""}), "must not be empty"),
        (json!({"suffix": ["a", ""]}), "must not be empty"),
        (json!({"prefix": 1}), "takes a string or a non-empty list"),
        (json!({"prefix": []}), "takes a string or a non-empty list"),
        (json!({"equals-ignore-case": [1]}), "must be strings"),
        (json!({"wildcard": "a**"}), "consecutive"),
        (json!({"wildcard": ["ok", "\\x"]}), "invalid escape"),
        (json!(1e10), "outside"),
        (json!([1, 0.0000001]), "six digits"),
    ] {
        rejected_at(json!({"f": [{"anything-but": bad}]}), "f[0]", reason);
    }
    // Allowed: an empty wildcard (LocalStack's AWS-validated `content_anything_wildcard_empty`).
    filter(json!({"f": [{"anything-but": {"wildcard": ""}}]}));
}

#[test]
fn rejects_bad_numeric() {
    for (bad, reason) in [
        (json!(5), "must be an array"),
        (json!([]), "expects an operator"),
        (json!([5]), "expects an operator"),
        (json!(["=="]), "unknown `numeric` operator `==`"),
        (json!(["!=", 5]), "unknown `numeric` operator `!=`"),
        (json!(["="]), "followed by a number"),
        (json!(["=", "5"]), "followed by a number"),
        (json!(["=", null]), "followed by a number"),
        (json!(["=", 5, "<", 6]), "too many elements"),
        (json!(["<", 5, ">", 0]), "too many elements"),
        (json!(["<=", 5, 6]), "too many elements"),
        (json!([">", 0, ">", 5]), "continues with `<` or `<=`"),
        (json!([">", 0, "=", 5]), "continues with `<` or `<=`"),
        (json!([">", 0, 5]), "expects an operator"),
        (json!([">", 0, "<"]), "followed by a number"),
        (json!([">", 0, "<", 5, "x"]), "too many elements"),
        (json!([">", 5, "<", 5]), "less than its top"),
        (json!([">=", 6, "<=", 5]), "less than its top"),
        (json!([">", 5000000001u64]), "outside"),
        (json!(["<", -5.0e9 - 1.0]), "outside"),
        (json!(["=", 0.0000001]), "six digits"),
    ] {
        rejected_at(json!({"f": [{"numeric": bad}]}), "f[0]", reason);
    }
    filter(json!({"f": [{"numeric": ["=", 5e9]}]}));
    filter(json!({"f": [{"numeric": [">", -5e9, "<", 0.000001]}]}));
}

#[test]
fn rejects_bad_wildcards() {
    // "consecutive wildcard characters are not supported"; "Using the backslash to escape
    // other characters is not supported" (wildcard matching, comparison operators page).
    rejected_at(
        json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}),
        "EventBusArn[0]",
        "consecutive `*` at byte 25",
    );
    rejected_at(json!({"f": [{"wildcard": "a\\b"}]}), "f[0]", "invalid escape at byte 1");
    rejected_at(json!({"f": [{"wildcard": "trailing\\"}]}), "f[0]", "invalid escape");
    filter(json!({"f": [{"wildcard": "\\**"}]})); // a literal star, then a wildcard
    filter(json!({"f": [{"wildcard": "*\\*"}]}));
    filter(json!({"f": [{"wildcard": ""}]}));
}

#[test]
fn rejects_bad_or() {
    rejected_at(json!({"$or": {"a": ["x"]}}), "\"$or\"", "at least two objects");
    rejected_at(json!({"$or": [{"a": ["x"]}]}), "\"$or\"", "at least two objects");
    rejected_at(json!({"$or": []}), "\"$or\"", "at least two objects");
    rejected_at(json!({"$or": [{"a": ["x"]}, "b"]}), "\"$or\"[1]", "must be an object");
    rejected_at(json!({"$or": [{"a": ["x"]}, {}]}), "\"$or\"[1]", "empty objects");
    rejected_at(
        json!({"$or": [{"a": ["x"]}, {"b": []}]}),
        "\"$or\"[1].b",
        "empty arrays",
    );
    // event-ruler's reserved words cannot be field names inside `$or` (but can outside).
    rejected_at(
        json!({"$or": [{"numeric": [123]}, {"prefix": ["abc"]}]}),
        "\"$or\"[0].numeric",
        "operator name",
    );
    rejected_at(
        json!({"d": {"$or": [{"a": {"exists": [1]}}, {"b": [2]}]}}),
        "d.\"$or\"[0].a.exists",
        "operator name",
    );
    filter(json!({"detail": {"prefix": ["abc"]}}));
    // Too many combinations.
    let pair = json!([{"a": ["x"]}, {"b": ["y"]}]);
    let mut pattern = json!({});
    for level in 0..11 {
        pattern[format!("k{level}")] = json!({"$or": pair.clone()});
    }
    rejected_at(pattern, "k9", "more than 1024 alternatives");
}

#[test]
fn rejects_a_field_given_twice_in_one_alternative() {
    rejected_at(
        json!({"a": {"b": [1]}, "a.b": [2]}),
        "\"a.b\"",
        "field `a.b` is also given at `a.b`",
    );
    rejected_at(
        json!({"a": [1], "$or": [{"a": [2]}, {"b": [3]}]}),
        "a",
        "field `a` is also given at `\"$or\"[0].a`",
    );
    // Across alternatives a field may repeat.
    filter(json!({"$or": [{"a": [2]}, {"a": [3]}]}));
}

#[test]
fn error_display() {
    assert_eq!(rejected(json!(1)).to_string(), "a filter pattern must be an object");
    assert_eq!(
        rejected(json!({"a": []})).to_string(),
        "at `a`: empty arrays are not allowed"
    );
}

#[test]
fn never_panics_on_odd_events() {
    let f = filter(json!({"a": {"b": [{"numeric": [">", 0]}], "c": [{"exists": false}]}, "d": [{"wildcard": "*x*"}]}));
    for event in [
        json!(null),
        json!(1),
        json!("a"),
        json!([]),
        json!([[[[{"a": {"b": 1}}]]]]),
        json!({"a": [[[{"b": 1}]]], "d": ["x"]}),
        json!({"a": {"b": 1e308}, "d": "\u{0}x\u{10ffff}"}),
        json!({"a": {"b": -1e-308}, "d": "x"}),
        json!({"a": {"b": u64::MAX}, "d": "x"}),
        json!({"a": {"b": i64::MIN}, "d": "x"}),
    ] {
        let _ = f.matches(&event);
    }
    // Deeper than any parsed body can be (serde_json stops at 128): no match, no stack overflow.
    let mut deep = json!(1);
    for _ in 0..2000 {
        deep = Value::Array(vec![deep]);
    }
    let mut event = Map::new();
    event.insert("a".into(), deep);
    assert!(!filter(json!({"a": [1]})).matches(&Value::Object(event)));
}

#[test]
fn scaled_numbers_are_exact() {
    let s = |v: Value| Scaled::of(v.as_number().unwrap());
    let check = |v: Value, floor: i128, exact: bool| {
        let scaled = s(v.clone()).unwrap_or_else(|| panic!("{v} out of range"));
        assert_eq!((scaled.floor, scaled.exact), (floor, exact), "{v}");
    };
    check(json!(0.1), 100_000, true);
    check(json!(301.8), 301_800_000, true);
    check(json!(-0.0000005), -1, false);
    check(json!(0.0000005), 0, false);
    check(json!(-2), -2_000_000, true);
    check(json!(5e9), 5_000_000_000_000_000, true);
    check(json!(1e-300), 0, false);
    assert!(s(json!(5.000001e9)).is_none());
    assert!(s(json!(u64::MAX)).is_none());
}
