//! The EventBridge comparison-operators page: `numeric`, `cidr`, `exists`, `$or` and the page's
//! complex example.

use serde_json::json;

use super::*;

// ---- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html

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
