//! The EventBridge event-patterns page, its "Considerations", and the null-values and arrays pages.

use serde_json::json;

use super::*;

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
