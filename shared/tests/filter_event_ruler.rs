//! A representative set of cases from AWS's own engine's test suite (aws/event-ruler,
//! `RulerTest`: the events and the rules it expects to match or not), rewritten as data and run
//! through `hookrelay::filter::Filter`, the matcher the ingress uses. Each case is (pattern, event,
//! expected); a divergence from event-ruler is a bug here, fixed with its case kept below.

use hookrelay::filter::Filter;
use serde_json::{json, Value};

/// RFC 7159's example object, the event of event-ruler's field-combination tests.
fn rfc_image() -> Value {
    json!({"Image": {
        "Width": 800, "Height": 600, "Title": "View from 15th Floor",
        "Thumbnail": {"Url": "http://www.example.com/image/481989943", "Height": 125, "Width": 100},
        "Animated": false, "IDs": [116, 943, 234, 38793]
    }})
}

/// event-ruler's README event, with dotted keys inside `detail`.
fn readme_event() -> Value {
    json!({
        "version": "0", "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "account": "012345679012", "time": "2017-10-02T16:24:49Z", "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:012345679012:instance/i-000000aaaaaa00000"],
        "detail": {"c.count": 5, "d.count": 3, "x.limit": 301.8, "source-ip": "10.0.0.33",
                   "instance-id": "i-000000aaaaaa00000", "state": "running"}
    })
}

/// Nested arrays of objects: array consistency across elements.
fn employees() -> Value {
    json!({"employees": [
        [{"firstName": "John", "lastName": "Doe", "ids": [1234, 1000, 9999]},
         {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones", "ids": []}]
    ]})
}

/// The anything-but rule of event-ruler's `WHEN_WeTryAnythingButRules_THEN_Theywork`.
fn anything_but_rule() -> Value {
    json!({
        "a": [{"anything-but": ["dad0", "dad1", "dad2"]}],
        "b": [{"anything-but": [111, 222, 333]}],
        "c": [{"anything-but": "zdd"}],
        "d": [{"anything-but": 444}],
        "z": [{"numeric": [">", 0, "<", 1]}],
        "w": [{"anything-but": {"prefix": "zax"}}],
        "n": [{"anything-but": {"suffix": "ing"}}],
        "o": [{"anything-but": {"equals-ignore-case": "CamelCase"}}],
        "p": [{"anything-but": {"equals-ignore-case": ["CamelCase", "AbC"]}}]
    })
}

/// The event that passes `anything_but_rule`, with one field changed.
fn anything_but_event(field: &str, value: Value) -> Value {
    let mut event = json!({"a": "child1", "b": "444", "c": "child1", "d": 123, "w": "xaz", "z": 0.001,
                           "n": "nomatch", "o": "nomatch", "p": "nomatch"});
    if !field.is_empty() {
        event[field] = value;
    }
    event
}

fn cases() -> Vec<(&'static str, Value, Value, bool)> {
    let mut cases = vec![
        // Field combinations on the RFC example.
        (
            "width and one of two heights",
            json!({"Image": {"Width": [800], "Thumbnail": {"Height": [125, 300]}}}),
            rfc_image(),
            true,
        ),
        (
            "prefix",
            json!({"Image": {"Thumbnail": {"Url": [{"prefix": "http"}]}}}),
            rfc_image(),
            true,
        ),
        (
            "prefix ignore case",
            json!({"Image": {"Title": [{"prefix": {"equals-ignore-case": "VIeW"}}]}}),
            rfc_image(),
            true,
        ),
        (
            "suffix ignore case",
            json!({"Image": {"Title": [{"suffix": {"equals-ignore-case": "LoOr"}}]}}),
            rfc_image(),
            true,
        ),
        (
            "suffix",
            json!({"Image": {"Title": [{"suffix": "loor"}]}}),
            rfc_image(),
            true,
        ),
        (
            "everything at once",
            json!({"Image": {
                "Width": [{"numeric": ["<", 1000]}], "Height": [{"numeric": ["<=", 600]}],
                "Title": [{"anything-but": "View from 15th Flood"}],
                "Thumbnail": {"Url": [{"prefix": "http"}], "Height": [{"numeric": [">", 124, "<", 126]}],
                              "Width": [{"numeric": [">=", 99.999, "<=", 100]}]},
                "Animated": [false]
            }}),
            rfc_image(),
            true,
        ),
        (
            "numeric below",
            json!({"Image": {"Width": [{"numeric": ["<", 800]}]}}),
            rfc_image(),
            false,
        ),
        (
            "numeric at most",
            json!({"Image": {"Height": [{"numeric": ["<", 599]}]}}),
            rfc_image(),
            false,
        ),
        (
            "anything-but the value",
            json!({"Image": {"Title": [{"anything-but": "View from 15th Floor"}]}}),
            rfc_image(),
            false,
        ),
        (
            "longer prefix",
            json!({"Image": {"Thumbnail": {"Url": [{"prefix": "https"}]}}}),
            rfc_image(),
            false,
        ),
        (
            "open range",
            json!({"Image": {"Thumbnail": {"Height": [{"numeric": [">", 124, "<", 125]}]}}}),
            rfc_image(),
            false,
        ),
        (
            "range above",
            json!({"Image": {"Thumbnail": {"Width": [{"numeric": [">=", 100.00001, "<=", 1001]}]}}}),
            rfc_image(),
            false,
        ),
        ("boolean", json!({"Image": {"Animated": [true]}}), rfc_image(), false),
        (
            "number in an array",
            json!({"Image": {"IDs": [943]}}),
            rfc_image(),
            true,
        ),
        // Arrays of objects: fields combine only within one element.
        (
            "one field in an array element",
            json!({"employees": {"firstName": ["Anna"]}}),
            employees(),
            true,
        ),
        (
            "two fields, same element",
            json!({"employees": {"firstName": ["John"], "ids": [1000]}}),
            employees(),
            true,
        ),
        (
            "exists false in the same element",
            json!({"employees": {"firstName": ["Anna"], "ids": [{"exists": false}]}}),
            employees(),
            true,
        ),
        (
            "no such value",
            json!({"employees": {"firstName": ["Alice"]}}),
            employees(),
            false,
        ),
        (
            "two fields, different elements",
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            employees(),
            false,
        ),
        (
            "neither",
            json!({"employees": {"firstName": ["Alice"], "lastName": ["Bob"]}}),
            employees(),
            false,
        ),
        ("missing field", json!({"a": ["b"]}), employees(), false),
        (
            "an object is not a leaf",
            json!({"employees": ["b"]}),
            employees(),
            false,
        ),
        (
            "value of another element",
            json!({"employees": {"firstName": ["Anna"], "ids": [1000]}}),
            employees(),
            false,
        ),
        (
            "exists true, other element",
            json!({"employees": {"firstName": ["Anna"], "ids": [{"exists": true}]}}),
            employees(),
            false,
        ),
        // The README's rules, including dotted keys inside `detail`.
        (
            "readme: values and arrays",
            json!({"detail-type": ["EC2 Instance State-change Notification"],
                   "resources": ["arn:aws:ec2:us-east-1:012345679012:instance/i-000000aaaaaa00000"],
                   "detail": {"state": ["initializing", "running"]}}),
            readme_event(),
            true,
        ),
        (
            "readme: prefix and anything-but",
            json!({"time": [{"prefix": "2017-10-02"}], "detail": {"state": [{"anything-but": "initializing"}]}}),
            readme_event(),
            true,
        ),
        (
            "readme: cidr and numeric on dotted keys",
            json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}], "c.count": [{"numeric": [">", 0, "<=", 5]}],
                              "d.count": [{"numeric": ["<", 10]}], "x.limit": [{"numeric": ["=", 3.018e2]}]}}),
            readme_event(),
            true,
        ),
        (
            "readme: anything-but prefix",
            json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}),
            readme_event(),
            true,
        ),
        (
            "readme: prefix ignore case",
            json!({"detail": {"state": [{"prefix": {"equals-ignore-case": "RuNn"}}]}}),
            readme_event(),
            true,
        ),
        (
            "readme: suffix",
            json!({"detail": {"state": [{"suffix": "ning"}]}}),
            readme_event(),
            true,
        ),
        (
            "readme: suffix ignore case",
            json!({"detail": {"state": [{"suffix": {"equals-ignore-case": "nInG"}}]}}),
            readme_event(),
            true,
        ),
        (
            "readme: cidr /8",
            json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}),
            readme_event(),
            true,
        ),
        // exists and simple values.
        ("exists true", json!({"a": [{"exists": true}]}), json!({"a": 1}), true),
        ("exists false", json!({"b": [{"exists": false}]}), json!({"a": 1}), true),
        (
            "exists true, missing",
            json!({"x": [{"exists": true}]}),
            json!({"a": 1}),
            false,
        ),
        (
            "exists true, other field",
            json!({"a": [{"exists": true}]}),
            json!({"b": 2}),
            false,
        ),
        (
            "exists false, present",
            json!({"b": [{"exists": false}]}),
            json!({"b": 2}),
            false,
        ),
        (
            "exists true, string",
            json!({"x": [{"exists": true}]}),
            json!({"x": "X"}),
            true,
        ),
        (
            "exists false, string",
            json!({"x": [{"exists": false}]}),
            json!({"x": "X"}),
            false,
        ),
        ("number", json!({"a": [1]}), json!({"a": 1}), true),
        ("string", json!({"x": ["X"]}), json!({"x": "X"}), true),
        (
            "a boolean is not a number",
            json!({"a": [1]}),
            json!({"x": true}),
            false,
        ),
        (
            "a boolean is not a string",
            json!({"x": ["X"]}),
            json!({"x": true}),
            false,
        ),
        // equals-ignore-case on several fields.
        (
            "ignore case, all equal",
            json!({"a": [{"equals-ignore-case": "aBc"}], "b": [{"equals-ignore-case": "Def"}], "c": [{"equals-ignore-case": "xyZ"}]}),
            json!({"a": "ABC", "b": "def", "c": "xYz", "d": "rst"}),
            true,
        ),
        (
            "ignore case, one longer",
            json!({"a": [{"equals-ignore-case": "aBc"}], "b": [{"equals-ignore-case": "Def"}], "c": [{"equals-ignore-case": "xyZ"}]}),
            json!({"a": "ABC", "b": "defx", "c": "xYz", "d": "rst"}),
            false,
        ),
        (
            "ignore case, one missing",
            json!({"a": [{"equals-ignore-case": "aBc"}], "b": [{"equals-ignore-case": "Def"}], "c": [{"equals-ignore-case": "xyZ"}]}),
            json!({"a": "ABC", "c": "xYz", "d": "rst"}),
            false,
        ),
        // Wildcards.
        (
            "wildcards",
            json!({"a": [{"wildcard": "*bc"}], "b": [{"wildcard": "d*f"}], "c": [{"wildcard": "xy*"}], "d": [{"wildcard": "xy*"}]}),
            json!({"a": "abcbc", "b": "deeeef", "c": "xy", "d": "xyzzz"}),
            true,
        ),
        (
            "wildcard, trailing character",
            json!({"a": [{"wildcard": "*bc"}], "b": [{"wildcard": "d*f"}], "c": [{"wildcard": "xy*"}], "d": [{"wildcard": "xy*"}]}),
            json!({"a": "abcbc", "b": "deeeefx", "c": "xy", "d": "xyzzz"}),
            false,
        ),
        (
            "wildcard, missing field",
            json!({"a": [{"wildcard": "*bc"}], "b": [{"wildcard": "d*f"}], "c": [{"wildcard": "xy*"}], "d": [{"wildcard": "xy*"}]}),
            json!({"a": "abcbc", "b": "deeeef", "d": "xyzzz"}),
            false,
        ),
    ];
    // anything-but: the base event passes; changing any one field to an excluded value fails it.
    cases.push((
        "anything-but, base event",
        anything_but_rule(),
        anything_but_event("", Value::Null),
        true,
    ));
    for (field, value) in [
        ("a", json!("dad1")),
        ("b", json!(333)),
        ("c", json!("zdd")),
        ("d", json!(444)),
        ("z", json!(1.01)),
        ("w", json!("zaxonie")),
        ("n", json!("matching")),
        ("o", json!("camelcase")),
        ("p", json!("abc")),
    ] {
        cases.push((
            "anything-but, one excluded value",
            anything_but_rule(),
            anything_but_event(field, value),
            false,
        ));
    }
    // Values of another type are never excluded: "444" is not the number 444.
    cases.push((
        "anything-but, other types",
        anything_but_rule(),
        anything_but_event("b", json!("111")),
        true,
    ));
    cases
}

#[test]
fn event_ruler_cases() {
    let mut failures = Vec::new();
    for (name, pattern, event, expected) in cases() {
        match Filter::compile(&pattern) {
            Ok(filter) if filter.matches(&event) == expected => {}
            Ok(_) => failures.push(format!("{name}: expected {expected} for {pattern} on {event}")),
            Err(e) => failures.push(format!("{name}: {pattern} was rejected: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) diverge from event-ruler:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
