//! hookrelay-shaped requests: webhook headers and bodies, methods, paths and query parameters.

use serde_json::json;

use super::*;

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
