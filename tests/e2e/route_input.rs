//! Input mapping end to end: a JSON pointer and a template (pointers, a header, the delivery id, a
//! query parameter, method and path) shape what the algorithm receives; a non-JSON body is a 422.
//! (Conventions of the route tests: `routes.rs`.)

use serde_json::json;

use crate::routes::{fail_on, github, options, queued_id, reply_json, settled_calls, GITHUB_SECRETS};
use crate::{assert_algorithm_call, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_mapping_shapes_what_the_algorithm_receives() {
    let routes = format!(
        r#"
[[route]]
path = "/hooks/pointer"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
input = "/payload"

[[route]]
path = "/hooks/template"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
input = {{ repo = "/repository/full_name", stars = "/repository/stars", event = "header:x-github-event", delivery = "delivery_id", who = "query:who", method = "method", path = "path", missing = "/nope" }}
"#
    );
    let s = start(options(&routes, None)).await;
    let mut problems = Vec::new();

    // A pointer: the value at /payload, as JSON.
    let pointer_body = r#"{"payload":{"a":1,"b":[true,null],"s":"x\"y"},"other":"not sent"}"#;
    let r = github("push", pointer_body)
        .send(&s.http, &s.url("/hooks/pointer"))
        .await;
    let pointer_id = queued_id("pointer route", &r, &mut problems);

    // A template: pointers, a header, the delivery id, a query parameter, method and path.
    let template_body = r#"{"repository":{"full_name":"octo/hello","stars":42},"sender":{"login":"octocat"}}"#;
    let d = github("push", template_body);
    let r = d
        .send(&s.http, &format!("{}?who=alice%20b", s.url("/hooks/template")))
        .await;
    let template_id = queued_id("template route", &r, &mut problems);

    // Input mapping needs a JSON body: 422, nothing queued.
    let not_json = github("push", "this is not json").content_type("text/plain");
    let r = not_json.send(&s.http, &s.url("/hooks/pointer")).await;
    let error = reply_json(&r).and_then(|v| v["error"].as_str().map(str::to_string));
    if r.status != 422 || error.is_none_or(|e| e.is_empty()) {
        problems.push(format!(
            "non-JSON body on an input-mapped route: expected 422 {{\"error\": ...}}, got {r}"
        ));
    }
    fail_on(&s, &problems, "").await;

    let calls = settled_calls(&s, 2).await;
    if calls.len() != 2 {
        problems.push(format!(
            "expected 2 algorithm calls (the 422 queues nothing), got {}",
            calls.len()
        ));
    }
    let by_key = |id: &Option<String>| {
        calls
            .iter()
            .find(|c| c.header("idempotency-key") == id.as_deref())
            .cloned()
    };
    match by_key(&pointer_id) {
        Some(call) => {
            assert_algorithm_call(&s, &call, "application/json").await;
            let want = json!({"a": 1, "b": [true, null], "s": "x\"y"});
            if call.body_json() != Some(want.clone()) {
                problems.push(format!(
                    "pointer input: algorithm got {}, expected {want}",
                    call.body_text()
                ));
            }
        }
        None => problems.push("the pointer route's job never reached the algorithm".into()),
    }
    match by_key(&template_id) {
        Some(call) => {
            assert_algorithm_call(&s, &call, "application/json").await;
            let want = json!({
                "repo": "octo/hello",
                "stars": 42,
                "event": "push",
                "delivery": d.delivery_id,
                "who": "alice b",
                "method": "POST",
                "path": "/hooks/template",
                "missing": null,
            });
            if call.body_json() != Some(want.clone()) {
                problems.push(format!(
                    "template input: algorithm got {}, expected {want}",
                    call.body_text()
                ));
            }
        }
        None => problems.push("the template route's job never reached the algorithm".into()),
    }
    fail_on(&s, &problems, "").await;
}
