//! Filters as users already write them, through the real ingress: a `filter` given as an
//! EventBridge JSON pattern string with `null` matching, and bodies that only look like JSON to a
//! skipping parser (invalid UTF-8, a lone surrogate escape in a field no filter reads), which must
//! be filtered as not JSON, exactly as input mapping refuses them.
//!
//! The worker's event source is paused, so what the ingress queued stays in the queue to count.

use hookrelay_e2e::{webhook::Reply, GithubDelivery, Stack};
use serde_json::{json, Value};

use crate::{options, start, GITHUB_SECRET};

const ROUTES: &str = r#"
[[route]]
path = "/hooks/json-filter"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
filter = '''{"headers": {"x-github-event": ["push"]},
             "body": {"ref": ["refs/heads/main"], "pusher": {"email": [null]}}}'''

[[route]]
path = "/hooks/mapped"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
input = "/ref"
"#;

async fn push(s: &Stack, path: &str, body: &[u8]) -> Reply {
    GithubDelivery {
        event: "push".into(),
        body: body.to_vec(),
        ..GithubDelivery::json(GITHUB_SECRET, "")
    }
    .send(&s.http, &s.url(path))
    .await
}

fn reply_json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or(Value::Null)
}

async fn queued_total(s: &Stack) -> u64 {
    s.moto
        .queue_counts(&s.jobs.url)
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes: {e}"))
        .total()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_pattern_filters_with_null_and_bodies_that_are_not_json() {
    let s = start(options(ROUTES).worker_source_paused()).await;
    let mut problems = Vec::new();

    // Not JSON to a full parse, in a field the filter does not read: filtered, not queued; the
    // same body on a route with input mapping is 422 "not JSON".
    let not_json: [(&str, &[u8]); 3] = [
        (
            "invalid UTF-8",
            b"{\"ref\":\"refs/heads/main\",\"pusher\":{\"email\":null},\"note\":\"caf\xe9\"}",
        ),
        (
            "a lone surrogate",
            br#"{"ref":"refs/heads/main","pusher":{"email":null},"note":"\ud800"}"#,
        ),
        (
            "a number out of range",
            br#"{"ref":"refs/heads/main","pusher":{"email":null},"size":1e400}"#,
        ),
    ];
    for (what, body) in not_json {
        let r = push(&s, "/hooks/json-filter", body).await;
        if r.status != 200 || reply_json(&r) != json!({"status": "filtered"}) {
            problems.push(format!(
                "body with {what}: expected 200 {{\"status\": \"filtered\"}}, got {r}"
            ));
        }
        let r = push(&s, "/hooks/mapped", body).await;
        if r.status != 422 {
            problems.push(format!(
                "body with {what} on the input-mapping route: expected 422, got {r}"
            ));
        }
    }
    // null matches null only: not a string, not a missing field.
    for (what, body) in [
        (
            "email is a string",
            json!({"ref": "refs/heads/main", "pusher": {"email": "a@example.com"}}),
        ),
        ("email is missing", json!({"ref": "refs/heads/main", "pusher": {}})),
        (
            "email is empty",
            json!({"ref": "refs/heads/main", "pusher": {"email": ""}}),
        ),
    ] {
        let r = push(&s, "/hooks/json-filter", body.to_string().as_bytes()).await;
        if r.status != 200 || reply_json(&r) != json!({"status": "filtered"}) {
            problems.push(format!("{what}: expected 200 {{\"status\": \"filtered\"}}, got {r}"));
        }
    }
    let total = queued_total(&s).await;
    if total != 0 {
        problems.push(format!("filtered events were queued: {total} message(s)"));
    }

    // A push whose pusher email is null matches, and is queued (the same count sees it).
    let matching = json!({"ref": "refs/heads/main", "pusher": {"name": "bot", "email": null}}).to_string();
    let r = push(&s, "/hooks/json-filter", matching.as_bytes()).await;
    if r.status != 200 || reply_json(&r)["status"] != json!("queued") {
        problems.push(format!("push with a null email: expected 200 queued, got {r}"));
    }
    let total = queued_total(&s).await;
    if total != 1 {
        problems.push(format!("expected the one matching push in the queue, found {total}"));
    }
    if !problems.is_empty() {
        s.fail(&format!(
            "{} problem(s):\n  - {}",
            problems.len(),
            problems.join("\n  - ")
        ))
        .await;
    }
}
