//! The pattern language against AWS's documentation pages and event-ruler's README examples.

use serde_json::json;

use super::*;

#[track_caller]
pub(super) fn filter(pattern: Value) -> Filter {
    Filter::compile(&pattern).unwrap_or_else(|e| panic!("{pattern} was rejected: {e}"))
}

#[track_caller]
pub(super) fn matches(pattern: Value, event: Value) {
    assert!(
        filter(pattern.clone()).matches(&event),
        "{pattern} should match {event}"
    );
}

#[track_caller]
pub(super) fn misses(pattern: Value, event: Value) {
    assert!(
        !filter(pattern.clone()).matches(&event),
        "{pattern} should not match {event}"
    );
}

#[track_caller]
pub(super) fn rejected(pattern: Value) -> FilterError {
    match Filter::compile(&pattern) {
        Ok(_) => panic!("{pattern} should be rejected"),
        Err(e) => e,
    }
}

#[track_caller]
pub(super) fn rejected_at(pattern: Value, path: &str, reason_contains: &str) {
    let e = rejected(pattern.clone());
    assert_eq!(e.path, path, "{pattern}: {e}");
    assert!(
        e.reason.contains(reason_contains),
        "{pattern}: `{e}` should mention `{reason_contains}`"
    );
}

/// The sample event of aws/event-ruler's README ("Ruler by Example"), which the EventBridge
/// "Comparison operators" page's patterns (c-count, d-count, x-limit, source-ip) are written for.
fn ruler_event() -> Value {
    json!({
      "version": "0",
      "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
      "detail-type": "EC2 Instance State-change Notification",
      "source": "aws.ec2",
      "account": "012345679012",
      "time": "2017-10-02T16:24:49Z",
      "region": "us-east-1",
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running"
      }
    })
}

fn with_detail(detail: Value) -> Value {
    json!({"source": "aws.ec2", "detail": detail})
}

// ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html ----------

#[test]
fn event_patterns_page_ec2_termination() {
    let event = json!({
      "version": "0",
      "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      "detail-type": "EC2 Instance State-change Notification",
      "source": "aws.ec2",
      "account": "111122223333",
      "time": "2017-12-22T18:43:48Z",
      "region": "us-west-1",
      "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
      "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
    });
    let pattern = json!({
      "source": ["aws.ec2"],
      "detail-type": ["EC2 Instance State-change Notification"],
      "detail": {"state": ["terminated"]}
    });
    matches(pattern.clone(), event.clone());
    let mut running = event.clone();
    running["detail"]["state"] = json!("running");
    misses(pattern.clone(), running);
    // "the event must contain all the field names listed in the event pattern"
    let mut no_detail = event;
    no_detail.as_object_mut().unwrap().remove("detail");
    misses(pattern, no_detail);
}

#[test]
fn event_patterns_page_match_values_are_ored() {
    let pattern = json!({"source": ["aws.ec2", "aws.fargate"]});
    matches(pattern.clone(), json!({"source": "aws.ec2"}));
    matches(pattern.clone(), json!({"source": "aws.fargate"}));
    misses(pattern, json!({"source": "aws.s3"}));
}

#[test]
fn event_patterns_page_macie_value_matching() {
    let event = json!({
      "version": "0",
      "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
      "detail-type": "Macie Alert",
      "source": "aws.macie",
      "account": "123456789012",
      "time": "2017-04-24T22:28:49Z",
      "region": "us-east-1",
      "resources": [
        "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
        "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id"
      ],
      "detail": {
        "notification-type": "ALERT_CREATED",
        "name": "Scanning bucket policies",
        "tags": ["Custom_Alert", "Insider"],
        "risk-score": 80,
        "trigger": {"rule-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id", "alert-type": "basic", "risk": 8}
      }
    });
    let pattern = json!({
      "source": ["aws.macie"],
      "detail-type": ["Macie Alert"],
      "detail": {"risk-score": [80], "trigger": {"risk": [8]}}
    });
    matches(pattern.clone(), event.clone());
    let mut low = event.clone();
    low["detail"]["trigger"]["risk"] = json!(7);
    misses(pattern.clone(), low);
    // Type mismatch: the number 80 is not the string "80".
    let mut stringly = event;
    stringly["detail"]["risk-score"] = json!("80");
    misses(pattern, stringly);
}

/// "For strings, EventBridge uses exact character-by-character matching without case-folding
/// or any other string normalization. For numbers, EventBridge uses string representation. For
/// example, 300, 300.0, and 3.0e2 are not considered equal." (Considerations.) serde_json keeps
/// integers apart from floats, but `300.0` and `3.0e2` both become the float 300.
#[test]
fn considerations_numbers_compare_by_representation() {
    let event = |n: Value| json!({"n": n});
    let int_300: Value = serde_json::from_str("300").unwrap();
    let float_300: Value = serde_json::from_str("300.0").unwrap();
    let exp_300: Value = serde_json::from_str("3.0e2").unwrap();
    matches(json!({"n": [300]}), event(int_300.clone()));
    misses(json!({"n": [300]}), event(float_300.clone()));
    misses(json!({"n": [300]}), event(exp_300.clone()));
    misses(json!({"n": [300.0]}), event(int_300.clone()));
    matches(json!({"n": [300.0]}), event(float_300.clone()));
    misses(json!({"n": ["300"]}), event(int_300.clone()));
    misses(json!({"s": ["Alice"]}), json!({"s": "alice"}));
    // `numeric` compares values, so it is the way to match 300 however it is written.
    for n in [int_300, float_300, exp_300] {
        matches(json!({"n": [{"numeric": ["=", 300]}]}), event(n));
    }
}

/// "When EventBridge compiles event patterns for use, it uses dot (.) as the joining
/// character", so these patterns are the same and both match both events (Considerations).
#[test]
fn considerations_dot_joined_field_names() {
    let nested = json!({"detail": {"state": {"status": ["running"]}}});
    let dotted = json!({"detail": {"state.status": ["running"]}});
    for pattern in [nested, dotted] {
        matches(pattern.clone(), json!({"detail": {"state": {"status": "running"}}}));
        matches(pattern.clone(), json!({"detail": {"state.status": "running"}}));
        misses(pattern, json!({"detail": {"state": {"status": "stopped"}}}));
    }
    // Fields of one pattern may be found along different spellings.
    matches(json!({"a": {"x": [1], "y": [2]}}), json!({"a": {"y": 2}, "a.x": 1}));
    // Ambiguous routes: `a.b` is found through `a.b`, not through `a` → `b`.
    matches(json!({"a": {"b": [2]}}), json!({"a": {"b": 1}, "a.b": 2}));
    misses(json!({"a": {"b": [3]}}), json!({"a": {"b": 1}, "a.b": 2}));
    misses(
        json!({"a": {"b": [{"exists": false}]}}),
        json!({"a": {"c": 1}, "a.b": 2}),
    );
}

// ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html

fn autoscaling_event() -> Value {
    json!({
      "version": "0",
      "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
      "detail-type": "EC2 Instance Launch Successful",
      "source": "aws.autoscaling",
      "account": "123456789012",
      "time": "2015-11-11T21:31:47Z",
      "region": "us-east-1",
      "resources": [],
      "detail": {"eventVersion": "", "responseElements": null}
    })
}

#[test]
fn null_values_page() {
    matches(json!({"detail": {"eventVersion": [""]}}), autoscaling_event());
    matches(json!({"detail": {"responseElements": [null]}}), autoscaling_event());
    // "Null values and empty strings are not interchangeable in pattern matching."
    misses(json!({"detail": {"responseElements": [""]}}), autoscaling_event());
    misses(json!({"detail": {"eventVersion": [null]}}), autoscaling_event());
    // null is a value, missing is not: [null] needs the field.
    misses(json!({"detail": {"other": [null]}}), autoscaling_event());
    // An empty event array holds no value at all, not even null.
    misses(json!({"resources": [null]}), autoscaling_event());
    misses(json!({"resources": [{"exists": true}]}), autoscaling_event());
    matches(json!({"resources": [{"exists": false}]}), autoscaling_event());
    // ... and the event-patterns page's field-matching example on the same event.
    matches(
        json!({
          "source": ["aws.autoscaling"],
          "detail-type": ["EC2 Instance Launch Successful"],
          "detail": {"responseElements": [null]}
        }),
        autoscaling_event(),
    );
}

// ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html ---

#[test]
fn arrays_page_intersection() {
    let pattern = json!({"resources": [
       "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
       "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
       "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"
    ]});
    let event = json!({"resources": [
       "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
       "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"
    ]});
    matches(pattern.clone(), event);
    misses(
        pattern,
        json!({"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}),
    );
}

/// aws/event-ruler README, "JSON Array Matching": objects in arrays are matched as if they were
/// the value of the parent field, and fields from different elements do not combine.
#[test]
fn arrays_of_objects_are_matched_element_by_element() {
    let event = json!({"employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"}
    ]});
    matches(json!({"employees": {"firstName": ["Anna"]}}), event.clone());
    matches(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
        event.clone(),
    );
    misses(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
        event,
    );
    let nested = json!({"employees": [
        [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones"}]
    ]});
    matches(json!({"employees": {"firstName": ["Anna"]}}), nested.clone());
    misses(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
        nested,
    );
    // Fields outside the array still combine with any element.
    matches(
        json!({"team": ["x"], "employees": {"lastName": ["Jones"]}}),
        json!({"team": "x", "employees": [{"lastName": "Doe"}, {"lastName": "Jones"}]}),
    );
}

// ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html

#[test]
fn operators_prefix() {
    let pattern = json!({"time": [{"prefix": "2017-10-02"}]});
    matches(pattern.clone(), json!({"time": "2017-10-02T18:43:48Z"}));
    matches(pattern.clone(), ruler_event());
    misses(pattern.clone(), json!({"time": "2017-10-03T18:43:48Z"}));
    misses(pattern.clone(), json!({"time": "2017-10-0"}));
    misses(pattern.clone(), json!({"other": "2017-10-02"}));
    misses(json!({"n": [{"prefix": "12"}]}), json!({"n": 123})); // strings only
    misses(pattern, json!({"time": ["2017-10-01", "x"]}));
    matches(
        json!({"time": [{"prefix": "2017"}]}),
        json!({"time": ["1999", "2017-01"]}),
    );
    // Case-sensitive unless asked otherwise.
    misses(json!({"r": [{"prefix": "us-"}]}), json!({"r": "US-east-1"}));
}

#[test]
fn operators_prefix_ignore_case() {
    let pattern = json!({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}});
    for service in ["EventBridge", "EVENTBRIDGE", "eventbridge", "eventB"] {
        matches(pattern.clone(), with_detail(json!({"service": service})));
    }
    misses(pattern.clone(), with_detail(json!({"service": "Event Bridge"})));
    misses(pattern, with_detail(json!({"service": 1})));
}

#[test]
fn operators_suffix() {
    let pattern = json!({"FileName": [{"suffix": ".png"}]});
    matches(pattern.clone(), json!({"FileName": "image.png"}));
    misses(pattern.clone(), json!({"FileName": "image.PNG"}));
    misses(pattern.clone(), json!({"FileName": "image.png.txt"}));
    misses(pattern, json!({"FileName": null}));
}

#[test]
fn operators_suffix_ignore_case() {
    let pattern = json!({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}});
    matches(pattern.clone(), with_detail(json!({"FileName": "image.png"})));
    matches(pattern.clone(), with_detail(json!({"FileName": "IMAGE.PNG"})));
    matches(pattern.clone(), with_detail(json!({"FileName": "x.PnG"})));
    misses(pattern, with_detail(json!({"FileName": "image.jpg"})));
}

#[test]
fn operators_equals_ignore_case() {
    let pattern = json!({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]});
    matches(pattern.clone(), ruler_event());
    matches(
        pattern.clone(),
        json!({"detail-type": "EC2 INSTANCE STATE-CHANGE NOTIFICATION"}),
    );
    misses(
        pattern.clone(),
        json!({"detail-type": "EC2 Instance State-change Notifications"}),
    );
    misses(pattern, json!({"detail-type": ["nope"]}));
    // Lambda comparison table: Equals (ignore case).
    matches(
        json!({"Name": [{"equals-ignore-case": "alice"}]}),
        json!({"Name": "Alice"}),
    );
}

#[test]
fn operators_anything_but_string_and_number() {
    let state = json!({"detail": {"state": [{"anything-but": "initializing"}]}});
    matches(state.clone(), ruler_event()); // "running"
    misses(state.clone(), with_detail(json!({"state": "initializing"})));
    // Not case-insensitive.
    matches(state.clone(), with_detail(json!({"state": "Initializing"})));
    // A missing field is not "anything but": there is nothing to compare.
    misses(state.clone(), with_detail(json!({})));
    misses(state.clone(), json!({"source": "aws.ec2"}));
    // ... but null and other types are values that are not "initializing".
    matches(state.clone(), with_detail(json!({"state": null})));
    matches(state.clone(), with_detail(json!({"state": 12})));
    // An object is not a leaf.
    misses(state, with_detail(json!({"state": {"name": "x"}})));

    let limit = json!({"detail": {"x-limit": [{"anything-but": 123}]}});
    matches(limit.clone(), ruler_event()); // 301.8
    misses(limit.clone(), with_detail(json!({"x-limit": 123})));
    misses(limit.clone(), with_detail(json!({"x-limit": 123.0}))); // compared as numbers
    matches(limit.clone(), with_detail(json!({"x-limit": "123"}))); // a string is not 123
    misses(limit, with_detail(json!({})));
}

#[test]
fn operators_anything_but_lists() {
    let strings = json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}});
    matches(strings.clone(), ruler_event());
    misses(strings.clone(), with_detail(json!({"state": "stopped"})));
    misses(strings.clone(), with_detail(json!({"state": "overloaded"})));
    misses(strings, with_detail(json!({})));

    let numbers = json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}});
    matches(numbers.clone(), ruler_event());
    misses(numbers.clone(), with_detail(json!({"x-limit": 200})));
    misses(numbers.clone(), with_detail(json!({"x-limit": 3.0e2})));
    matches(numbers, with_detail(json!({"x-limit": 100.5})));

    // Lambda comparison table: "Not".
    let weather = json!({"Weather": [{"anything-but": ["Raining"]}]});
    matches(weather.clone(), json!({"Weather": "Sunny"}));
    misses(weather, json!({"Weather": "Raining"}));
}

/// An event array matches when any element does, so `anything-but` matches an array that
/// holds the excluded value next to any other value.
#[test]
fn operators_anything_but_with_event_arrays() {
    let pattern = json!({"tags": [{"anything-but": "secret"}]});
    matches(pattern.clone(), json!({"tags": ["secret", "public"]}));
    misses(pattern.clone(), json!({"tags": ["secret"]}));
    misses(pattern, json!({"tags": []}));
}

#[test]
fn operators_anything_but_prefix() {
    let pattern = json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}});
    matches(pattern.clone(), ruler_event());
    misses(pattern.clone(), with_detail(json!({"state": "initializing"})));
    matches(pattern.clone(), with_detail(json!({"state": 12})));
    misses(pattern.clone(), with_detail(json!({})));
    let region = json!({"Region": [{"anything-but": {"prefix": "us-"}}]});
    matches(region.clone(), json!({"Region": "eu-west-1"}));
    misses(region, json!({"Region": "us-east-1"}));
    matches(
        json!({"s": [{"anything-but": {"prefix": ["a", "b"]}}]}),
        json!({"s": "c"}),
    );
    misses(
        json!({"s": [{"anything-but": {"prefix": ["a", "b"]}}]}),
        json!({"s": "bc"}),
    );
}

#[test]
fn operators_anything_but_suffix() {
    let pattern = json!({"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}});
    matches(pattern.clone(), with_detail(json!({"FileName": "file.png"})));
    misses(pattern.clone(), with_detail(json!({"FileName": "file.txt"})));
    matches(pattern.clone(), with_detail(json!({"FileName": "file.TXT"})));
    misses(pattern, with_detail(json!({})));
}

#[test]
fn operators_anything_but_ignore_case() {
    let pattern = json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}});
    matches(pattern.clone(), ruler_event());
    misses(pattern.clone(), with_detail(json!({"state": "stopped"})));
    misses(pattern.clone(), with_detail(json!({"state": "OVERLOADED"})));
    matches(pattern.clone(), with_detail(json!({"state": null})));
    misses(pattern, with_detail(json!({})));
    let single = json!({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]});
    misses(single.clone(), json!({"state": "INITIALIZING"}));
    matches(single, json!({"state": "running"}));
}

#[test]
fn operators_anything_but_wildcard() {
    let pattern = json!({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}});
    matches(pattern.clone(), with_detail(json!({"FilePath": "/usr/bin/app"})));
    misses(pattern.clone(), with_detail(json!({"FilePath": "/usr/lib/libc.so"})));
    matches(pattern.clone(), with_detail(json!({"FilePath": 123})));
    misses(pattern, with_detail(json!({})));
    let list = json!({"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}});
    misses(list.clone(), with_detail(json!({"FilePath": "/usr/bin/app"})));
    matches(list, with_detail(json!({"FilePath": "/etc/passwd"})));
}

#[test]
fn operators_numeric() {
    let pattern = json!({"detail": {
        "c-count": [{"numeric": [">", 0, "<=", 5]}],
        "d-count": [{"numeric": ["<", 10]}],
        "x-limit": [{"numeric": ["=", 3.018e2]}]
    }});
    matches(pattern.clone(), ruler_event());
    let with = |c: Value, d: Value, x: Value| with_detail(json!({"c-count": c, "d-count": d, "x-limit": x}));
    matches(pattern.clone(), with(json!(0.000001), json!(-1e9), json!(301.8)));
    misses(pattern.clone(), with(json!(0), json!(3), json!(301.8))); // > 0 is open
    matches(pattern.clone(), with(json!(5), json!(3), json!(301.8))); // <= 5 is closed
    misses(pattern.clone(), with(json!(5.000001), json!(3), json!(301.8)));
    misses(pattern.clone(), with(json!(5), json!(10), json!(301.8))); // < 10 is open
    misses(pattern.clone(), with(json!(5), json!(3), json!(301.800001)));
    misses(pattern.clone(), with(json!("5"), json!(3), json!(301.8))); // numbers only
    misses(pattern.clone(), with(json!(null), json!(3), json!(301.8)));
    misses(pattern, with_detail(json!({"d-count": 3, "x-limit": 301.8}))); // missing

    // Lambda developer guide: "Temperature" between 50 (open) and 60 (closed).
    let temperature = json!({"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}});
    matches(temperature.clone(), json!({"data": {"Temperature": 60}}));
    misses(temperature.clone(), json!({"data": {"Temperature": 50}}));
    misses(temperature, json!({"data": {"Temperature": "55"}}));
    // Lambda comparison table: Numeric (equals).
    matches(json!({"Price": [{"numeric": ["=", 100]}]}), json!({"Price": 100.0}));
    misses(
        json!({"Price": [{"numeric": ["=", 100]}]}),
        json!({"Price": 100.000001}),
    );
    // ">=" and "<=" are closed.
    let closed = json!({"n": [{"numeric": [">=", -1.5, "<=", 1.5]}]});
    matches(closed.clone(), json!({"n": -1.5}));
    matches(closed.clone(), json!({"n": 1.5}));
    misses(closed.clone(), json!({"n": -1.5000001}));
    misses(closed, json!({"n": 1.5000001}));
    // AWS's range is ±5.0e9; values beyond it never match a range.
    matches(json!({"n": [{"numeric": ["<=", 5e9]}]}), json!({"n": 5_000_000_000u64}));
    misses(json!({"n": [{"numeric": [">", 0]}]}), json!({"n": 5_000_000_001u64}));
    misses(json!({"n": [{"numeric": ["<", 0]}]}), json!({"n": -1e300}));
    // Any element of an event array may be the one in range.
    matches(json!({"n": [{"numeric": [">", 10]}]}), json!({"n": [1, 2, 30]}));
}

#[test]
fn operators_cidr() {
    let pattern = json!({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}});
    matches(pattern.clone(), with_detail(json!({"sourceIPAddress": "10.0.0.0"})));
    matches(pattern.clone(), with_detail(json!({"sourceIPAddress": "10.0.0.255"})));
    misses(pattern.clone(), with_detail(json!({"sourceIPAddress": "10.0.1.0"})));
    misses(pattern.clone(), with_detail(json!({"sourceIPAddress": "not an ip"})));
    misses(
        pattern.clone(),
        with_detail(json!({"sourceIPAddress": "::ffff:10.0.0.1"})),
    );
    misses(pattern, with_detail(json!({"sourceIPAddress": 167772161})));
    matches(
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}),
        ruler_event(),
    );
    let v6 = json!({"ip": [{"cidr": "2001:db8::/32"}]});
    matches(v6.clone(), json!({"ip": "2001:db8:1234::1"}));
    misses(v6.clone(), json!({"ip": "2001:db9::1"}));
    misses(v6, json!({"ip": "10.0.0.1"}));
    matches(json!({"ip": [{"cidr": "0.0.0.0/0"}]}), json!({"ip": "8.8.8.8"}));
}

#[test]
fn operators_exists() {
    let exists = json!({"detail": {"c-count": [{"exists": true}]}});
    let absent = json!({"detail": {"c-count": [{"exists": false}]}});
    matches(exists.clone(), ruler_event());
    misses(absent.clone(), ruler_event());

    // The page's example events for `exists: false`.
    let without = json!({
      "detail-type": ["EC2 Instance State-change Notification"],
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
      "detail": {"state": ["initializing", "running"]}
    });
    matches(absent.clone(), without.clone());
    misses(exists.clone(), without);
    // "also matches the following event because c-count isn't a leaf node"
    let intermediate = json!({
      "detail-type": ["EC2 Instance State-change Notification"],
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
      "detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}
    });
    matches(absent.clone(), intermediate.clone());
    misses(exists.clone(), intermediate);

    // null is present; a missing parent means a missing field.
    matches(exists.clone(), with_detail(json!({"c-count": null})));
    misses(absent.clone(), with_detail(json!({"c-count": null})));
    matches(absent.clone(), json!({"source": "aws.ec2"}));
    misses(exists, json!({"source": "aws.ec2"}));
    // Lambda comparison table: Exists / Does not exist.
    matches(json!({"ProductName": [{"exists": true}]}), json!({"ProductName": ""}));
    matches(json!({"ProductName": [{"exists": false}]}), json!({"Product": "x"}));
    // A leaf that is not at the path's end does not make the path exist.
    matches(absent, with_detail(json!("just a string")));
}

/// `exists: false` on fields inside event arrays: with nothing else picking an element, the
/// field must be missing from every element; alongside fields that pick an element, only that
/// element counts.
#[test]
fn operators_exists_false_in_arrays() {
    let event = json!({"items": [{"id": 1, "tag": "x"}, {"id": 2}]});
    misses(json!({"items": {"tag": [{"exists": false}]}}), event.clone());
    matches(json!({"items": {"tag": [{"exists": true}]}}), event.clone());
    matches(json!({"items": {"id": [2], "tag": [{"exists": false}]}}), event.clone());
    misses(json!({"items": {"id": [1], "tag": [{"exists": false}]}}), event.clone());
    matches(json!({"items": {"missing": [{"exists": false}]}}), event);
    // Arrays of leaves: present when any element is there.
    misses(json!({"tags": [{"exists": false}]}), json!({"tags": ["a"]}));
    matches(json!({"tags": [{"exists": false}]}), json!({"tags": []}));
    matches(json!({"tags": [{"exists": false}]}), json!({"tags": [{"k": "v"}]}));
}

/// LocalStack's AWS-validated `or-exists` case: `exists: false` ORed with another operator in
/// one field.
#[test]
fn operators_exists_false_ored_with_a_value() {
    let pattern = json!({"dynamodb": {"NewImage": {"homemade": {"S": [
        {"anything-but": ["roses"]},
        {"exists": false}
    ]}}}});
    matches(
        pattern.clone(),
        json!({"dynamodb": {"NewImage": {"homemade": {"N": "789"}}}}),
    );
    matches(
        pattern.clone(),
        json!({"dynamodb": {"NewImage": {"purchased": {"N": "789"}}}}),
    );
    matches(
        pattern.clone(),
        json!({"dynamodb": {"NewImage": {"homemade": {"S": "tulips"}}}}),
    );
    misses(pattern, json!({"dynamodb": {"NewImage": {"homemade": {"S": "roses"}}}}));
}

#[test]
fn operators_wildcard() {
    let pattern = json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]});
    matches(
        pattern.clone(),
        json!({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}),
    );
    matches(
        pattern.clone(),
        json!({"EventBusArn": "arn:aws:events:us-east-1::event-bus/"}),
    ); // * may be empty
    misses(
        pattern.clone(),
        json!({"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"}),
    );
    misses(pattern, json!({"EventBusArn": 1}));
    // `*` crosses `/` and matches any run, including none.
    let png = json!({"f": [{"wildcard": "dir/*.png"}]});
    matches(png.clone(), json!({"f": "dir/a/b.png"}));
    matches(png.clone(), json!({"f": "dir/.png"}));
    misses(png, json!({"f": "dir/a.png.bak"}));
    // No wildcard: exact.
    matches(json!({"f": [{"wildcard": "abc"}]}), json!({"f": "abc"}));
    misses(json!({"f": [{"wildcard": "abc"}]}), json!({"f": "abcd"}));
    // Escapes: `\*` is a literal star, `\\` a literal backslash.
    matches(json!({"f": [{"wildcard": "a\\*b"}]}), json!({"f": "a*b"}));
    misses(json!({"f": [{"wildcard": "a\\*b"}]}), json!({"f": "axb"}));
    matches(json!({"f": [{"wildcard": "a\\\\*"}]}), json!({"f": "a\\whatever"}));
    // Greedy matching is still right when a part repeats.
    matches(json!({"f": [{"wildcard": "*ab*ab"}]}), json!({"f": "xabyabab"}));
    misses(json!({"f": [{"wildcard": "a*a"}]}), json!({"f": "a"}));
    matches(json!({"f": [{"wildcard": "*"}]}), json!({"f": ""}));
}

#[test]
fn wildcard_is_linear_on_adversarial_input() {
    let text = format!("{}c", "a".repeat(200_000));
    let pattern = format!("{}*b*c", "*a".repeat(30));
    let started = std::time::Instant::now();
    misses(json!({"f": [{"wildcard": pattern}]}), json!({"f": text}));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn operators_or() {
    let pattern = json!({"$or": [
        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
        {"d-count": [{"numeric": ["<", 10]}]},
        {"x-limit": [{"numeric": ["=", 3.018e2]}]}
    ]});
    matches(pattern.clone(), json!({"c-count": 3}));
    matches(pattern.clone(), json!({"d-count": 9, "c-count": 100}));
    matches(pattern.clone(), json!({"x-limit": 301.8}));
    misses(pattern.clone(), json!({"c-count": 6, "d-count": 10, "x-limit": 1}));
    misses(pattern, json!({}));

    let cloudwatch = json!({
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"namespace": ["AWS/EC2", "AWS/ES"]}
        ]
    });
    matches(
        cloudwatch.clone(),
        json!({"source": "aws.cloudwatch", "metricName": "ReadLatency"}),
    );
    matches(
        cloudwatch.clone(),
        json!({"source": "aws.cloudwatch", "namespace": "AWS/ES"}),
    );
    misses(cloudwatch.clone(), json!({"source": "aws.ec2", "namespace": "AWS/ES"}));
    misses(cloudwatch, json!({"source": "aws.cloudwatch", "namespace": "AWS/S3"}));

    // event-ruler README: "$or" nested in an object and inside another "$or".
    let nested = json!({
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"], "$or": [
                {"metricId": [1234]},
                {"spaceId": [1000]}
            ]},
            {"scope": ["Service"]}
        ],
        "detail": {"$or": [{"source": ["a"]}, {"detail-type": ["b"]}]}
    });
    let base = |extra: Value| {
        let mut event = json!({"source": "aws.cloudwatch", "detail": {"detail-type": "b"}});
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        event
    };
    matches(nested.clone(), base(json!({"scope": "Service"})));
    matches(
        nested.clone(),
        base(json!({"metricType": "MetricType", "namespace": "AWS/ES", "spaceId": 1000})),
    );
    misses(
        nested.clone(),
        base(json!({"metricType": "MetricType", "namespace": "AWS/ES"})),
    );
    misses(
        nested,
        json!({"source": "aws.cloudwatch", "scope": "Service", "detail": {"source": "z"}}),
    );
}

#[test]
fn operators_complex_example() {
    let pattern = json!({
      "time": [{"prefix": "2017-10-02"}],
      "detail": {
        "state": [{"anything-but": "initializing"}],
        "c-count": [{"numeric": [">", 0, "<=", 5]}],
        "d-count": [{"numeric": ["<", 10]}],
        "x-limit": [{"anything-but": [100, 200, 300]}],
        "source-ip": [{"cidr": "10.0.0.0/8"}]
      }
    });
    matches(pattern.clone(), ruler_event());
    let mut wrong_ip = ruler_event();
    wrong_ip["detail"]["source-ip"] = json!("11.0.0.1");
    misses(pattern, wrong_ip);
}

// ---- https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html ------------

#[test]
fn lambda_event_filtering_examples() {
    let kinesis = json!({
        "partitionKey": "1",
        "data": {"City": "Seattle", "State": "WA", "Temperature": 46, "Location": "Los Angeles"}
    });
    matches(
        json!({"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}),
        kinesis.clone(),
    );
    misses(
        json!({"partitionKey": ["2"], "data": {"Location": ["Los Angeles"]}}),
        kinesis,
    );
    let dynamodb = json!({"dynamodb": {
        "Keys": {"Id": {"N": "101"}},
        "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
        "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"
    }});
    matches(json!({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}), dynamodb.clone());
    misses(json!({"dynamodb": {"Keys": {"Id": {"N": [101]}}}}), dynamodb);
    // The console example `{ "a" : [ 1, 2 ] }`.
    matches(json!({"a": [1, 2]}), json!({"a": 2}));
    misses(json!({"a": [1, 2]}), json!({"a": 3}));
    // The comparison table rows not covered elsewhere.
    matches(json!({"UserID": [null]}), json!({"UserID": null}));
    matches(json!({"LastName": [""]}), json!({"LastName": ""}));
    misses(json!({"LastName": [""]}), json!({"LastName": null}));
    matches(
        json!({"PaymentType": ["Credit", "Debit"]}),
        json!({"PaymentType": "Debit"}),
    );
    matches(
        json!({"Location": ["New York"], "Day": ["Monday"]}),
        json!({"Location": "New York", "Day": "Monday"}),
    );
    misses(
        json!({"Location": ["New York"], "Day": ["Monday"]}),
        json!({"Location": "New York", "Day": "Friday"}),
    );
    matches(json!({"Region": [{"prefix": "us-"}]}), json!({"Region": "us-west-2"}));
    matches(json!({"b": [true]}), json!({"b": true}));
    misses(json!({"b": [true]}), json!({"b": "true"}));
}

// ---- hookrelay-shaped -----------------------------------------------------------------------

fn request(headers: Value, body: Option<Value>) -> Value {
    let mut event = json!({"method": "POST", "path": "/hooks", "query": {}, "headers": headers});
    if let Some(body) = body {
        event["body"] = body;
    }
    event
}

#[test]
fn cal_com_trigger_events() {
    let pattern = json!({"body": {"triggerEvent": ["BOOKING_CREATED", "BOOKING_RESCHEDULED"]}});
    let cal = |trigger: &str| {
        request(
            json!({}),
            Some(json!({"triggerEvent": trigger, "payload": {"uid": "x"}})),
        )
    };
    matches(pattern.clone(), cal("BOOKING_CREATED"));
    matches(pattern.clone(), cal("BOOKING_RESCHEDULED"));
    misses(pattern.clone(), cal("BOOKING_CANCELLED"));
    misses(pattern.clone(), cal("booking_created"));
    misses(pattern.clone(), request(json!({}), None)); // no JSON body
    misses(pattern, request(json!({}), Some(json!(["BOOKING_CREATED"])))); // not an object
}

#[test]
fn github_pushes_to_main() {
    let pattern = json!({"headers": {"x-github-event": ["push"]}, "body": {"ref": ["refs/heads/main"]}});
    let github = |event: &str, git_ref: &str| {
        request(
            json!({"x-github-event": event, "content-type": "application/json"}),
            Some(json!({"ref": git_ref, "commits": [{"id": "abc"}]})),
        )
    };
    matches(pattern.clone(), github("push", "refs/heads/main"));
    misses(pattern.clone(), github("push", "refs/heads/feature"));
    misses(pattern.clone(), github("ping", "refs/heads/main"));
    misses(
        pattern.clone(),
        request(json!({}), Some(json!({"ref": "refs/heads/main"}))),
    );
    // Tags or any branch under release/.
    let releases = json!({"headers": {"x-github-event": ["push"]}, "body": {"ref": [
        {"prefix": "refs/tags/"}, {"wildcard": "refs/heads/release/*"}
    ]}});
    matches(releases.clone(), github("push", "refs/tags/v1.2.3"));
    matches(releases.clone(), github("push", "refs/heads/release/2024.1"));
    misses(releases, github("push", "refs/heads/main"));
    // Methods, paths and query parameters are fields too.
    let mut query = github("push", "refs/heads/main");
    query["query"] = json!({"token": "abc"});
    matches(
        json!({"method": ["POST"], "path": [{"prefix": "/hooks"}], "query": {"token": [{"exists": true}]}}),
        query,
    );
}

/// `exists` only sees leaves, so it cannot test for "a JSON body" directly.
#[test]
fn body_exists_only_sees_leaves() {
    let object_body = request(json!({}), Some(json!({"action": "opened"})));
    let no_body = request(json!({}), None);
    misses(json!({"body": [{"exists": true}]}), object_body.clone());
    matches(json!({"body": [{"exists": false}]}), object_body.clone());
    matches(json!({"body": [{"exists": false}]}), no_body.clone());
    matches(json!({"body": {"action": [{"exists": true}]}}), object_body);
    misses(json!({"body": {"action": [{"exists": true}]}}), no_body);
    // A scalar JSON body is a leaf.
    matches(
        json!({"body": [{"exists": true}]}),
        request(json!({}), Some(json!("text"))),
    );
}

mod validation;
