//! (e) SQS outage: while the queue service is down the ingress answers 503 with `Retry-After`
//! (the sender retries later) instead of acknowledging a webhook it could not queue; once the
//! service is back, webhooks flow again.

use hookrelay_e2e::GithubDelivery;

use crate::{options, start, GITHUB_ROUTE, GITHUB_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_outage_gives_503_with_retry_after_then_recovers() {
    let s = start(options(GITHUB_ROUTE)).await;
    let url = s.url("/hooks/github");

    s.moto.stop().await;
    let during = r#"{"zen":"during the outage"}"#;
    let reply = GithubDelivery::json(GITHUB_SECRET, during).send(&s.http, &url).await;
    let retry_after = reply.header("retry-after").map(str::to_string);
    let is_json_error = serde_json::from_str::<serde_json::Value>(&reply.body)
        .ok()
        .is_some_and(|v| v["error"].is_string());
    if reply.status != 503 || retry_after.as_deref().is_none_or(|r| r.trim().is_empty()) || !is_json_error {
        s.fail(&format!(
            "expected 503 {{\"error\": ...}} with Retry-After while SQS is down, got {reply}"
        ))
        .await;
    }
    if let Some(r) = &retry_after {
        assert!(
            r.trim().parse::<u64>().is_ok(),
            "Retry-After must be delay-seconds, got {r:?}"
        );
    }

    s.restart_moto().await;
    let after = r#"{"zen":"after the outage"}"#;
    let reply = GithubDelivery::json(GITHUB_SECRET, after).send(&s.http, &url).await;
    if reply.status != 200 {
        s.fail(&format!("expected 200 once SQS is back, got {reply}")).await;
    }
    s.wait_for("the post-outage webhook to reach the algorithm", || async {
        s.algorithm.requests_with_body(after.as_bytes()).into_iter().next()
    })
    .await;
    // The refused one was never acknowledged, so it must not have been delivered.
    assert!(
        s.algorithm.requests_with_body(during.as_bytes()).is_empty(),
        "{}",
        s.diagnostics().await
    );
}
