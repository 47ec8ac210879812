//! Custom acknowledgements end to end: an `ack` answers accepted requests (queued or duplicate),
//! while refusals and filtered events keep their own answers. (Conventions of the route tests:
//! `routes.rs`.)

use hookrelay_e2e::{webhook::Reply, GithubDelivery};

use crate::routes::{expect_filtered, fail_on, github, is_json, options, settled_calls, GITHUB_SECRETS};
use crate::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_ack_answers_queued_and_duplicate_requests() {
    let routes = format!(
        r#"
[[route]]
path = "/hooks/acked"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
filter = {{ headers = {{ "x-github-event" = ["push"] }} }}
ack = {{ status = 202, body = "ok", content_type = "text/plain" }}
"#
    );
    let s = start(options(&routes, None).dedup_table("hookrelay-dedup")).await;
    let mut problems = Vec::new();
    let url = s.url("/hooks/acked");
    let expect_ack = |what: &str, r: &Reply, problems: &mut Vec<String>| {
        if r.status != 202 || r.body != "ok" || r.header("content-type") != Some("text/plain") {
            problems.push(format!("{what}: expected 202 text/plain \"ok\", got {r}"));
        }
    };

    let body = r#"{"ref":"refs/heads/main","after":"e5f6"}"#;
    let d = github("push", body);
    let r = d.send(&s.http, &url).await;
    expect_ack("queued request", &r, &mut problems);
    let r = d.send(&s.http, &url).await;
    expect_ack("repeated delivery (duplicate)", &r, &mut problems);

    // The ack is for accepted requests only: refusals and filtered events keep their answers.
    let forged = GithubDelivery {
        secret: "not-the-secret".into(),
        ..github("push", body)
    };
    let r = forged.send(&s.http, &url).await;
    if r.status != 401 || !is_json(&r) {
        problems.push(format!("forged request: expected 401 application/json, got {r}"));
    }
    let r = github("ping", body).send(&s.http, &url).await;
    expect_filtered("filtered event on an acked route", &r, &mut problems);

    let calls = settled_calls(&s, 1).await;
    if calls.len() != 1 || calls[0].body.as_ref() != body.as_bytes() {
        problems.push(format!(
            "expected exactly one algorithm call with the pushed body, got {}",
            calls.len()
        ));
    }
    fail_on(&s, &problems, "").await;
}
