//! The EventBridge comparison-operators page: the string operators (`prefix`, `suffix`,
//! `equals-ignore-case`, `anything-but`, `wildcard`).

use serde_json::json;

use super::*;

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
