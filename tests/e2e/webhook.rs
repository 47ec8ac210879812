//! (a) signed webhooks reach the algorithm exactly once; (b) tampered ones are refused and
//! never queued; plus the ingress's other HTTP errors.

use hookrelay_e2e::{GithubDelivery, Stack, StackOptions};
use serde_json::{json, Value};

use crate::{assert_algorithm_call, config, options, start, ALGORITHM, ALGO_KEY, GITHUB_ROUTE, GITHUB_SECRET};

/// Send a delivery and require `200 {"id": <non-empty string>, "status": "queued"}`.
async fn send_queued(s: &Stack, d: &GithubDelivery, path: &str) -> String {
    let reply = d.send(&s.http, &s.url(path)).await;
    if reply.status != 200 {
        s.fail(&format!("expected 200 for a signed webhook, got {reply}")).await;
    }
    let v = reply.json();
    let id = v["id"].as_str().unwrap_or_default().to_string();
    if v["status"] != json!("queued") || id.is_empty() {
        s.fail(&format!(
            "expected {{\"id\": ..., \"status\": \"queued\"}}, got {reply}"
        ))
        .await;
    }
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{reply}"
    );
    id
}

/// Wait for exactly one algorithm call with `body`, after the job left the queue for good.
async fn delivered_once(s: &Stack, body: &[u8]) -> hookrelay_e2e::AlgoRequest {
    let req = s
        .wait_for("the webhook to reach the algorithm", || async {
            s.algorithm.requests_with_body(body).into_iter().next()
        })
        .await;
    // Once the job's message is deleted nothing can deliver it again, so the count is final.
    s.wait_queue_empty(&s.jobs).await;
    let n = s.algorithm.requests_with_body(body).len();
    if n != 1 {
        s.fail(&format!("expected exactly one algorithm call, got {n}")).await;
    }
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_webhook_reaches_the_algorithm_exactly_once() {
    let s = start(options(GITHUB_ROUTE)).await;
    let body = r#"{"zen":"Design for failure.","hook_id":42,"hook":{"type":"Repository","events":["push"]}}"#;
    let d = GithubDelivery::json(GITHUB_SECRET, body);
    send_queued(&s, &d, "/hooks/github").await;

    let req = delivered_once(&s, body.as_bytes()).await;
    assert_algorithm_call(&s, &req, "application/json").await;

    let batches = s.worker_source().invocations();
    if batches.len() != 1 || batches[0].records.len() != 1 || !batches[0].reported_failures().is_empty() {
        s.fail("expected one worker invocation with one record and no failure")
            .await;
    }
    assert!(s.dlq_is_empty().await, "{}", s.diagnostics().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_webhook_arrives_as_text_plain() {
    let s = start(options(GITHUB_ROUTE)).await;
    let body = "just some plain text\nwith two lines";
    let d = GithubDelivery::json(GITHUB_SECRET, body).content_type("text/plain");
    send_queued(&s, &d, "/hooks/github").await;
    let req = delivered_once(&s, body.as_bytes()).await;
    assert_algorithm_call(&s, &req, "text/plain").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_webhook_is_refused_and_never_queued() {
    // No worker polling: whatever the ingress queues stays observable in the queue.
    let s = start(options(GITHUB_ROUTE).worker_source_paused()).await;
    let url = s.url("/hooks/github");
    let original = r#"{"action":"opened","number":1,"amount":10}"#;
    let tampered = r#"{"action":"opened","number":1,"amount":99}"#;
    let d = GithubDelivery::json(GITHUB_SECRET, original);

    let mut refused = Vec::new();
    // Body changed after signing.
    let forged = GithubDelivery {
        body: tampered.as_bytes().to_vec(),
        ..d.clone()
    };
    refused.push((
        "tampered body",
        forged.send_signing(&s.http, &url, Some(original.as_bytes())).await,
    ));
    // Signed with another secret.
    let wrong = GithubDelivery {
        secret: "not-the-secret".into(),
        ..d.clone()
    };
    refused.push(("wrong secret", wrong.send(&s.http, &url).await));
    // No signature at all.
    let unsigned = s
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "no-signature")
        .body(original)
        .send()
        .await
        .unwrap();
    refused.push(("no signature", hookrelay_e2e::webhook::read_reply(unsigned).await));

    for (what, reply) in &refused {
        let error = serde_json::from_str::<Value>(&reply.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string));
        if reply.status != 401 || error.is_none_or(|e| e.is_empty()) {
            s.fail(&format!("{what}: expected 401 {{\"error\": ...}}, got {reply}"))
                .await;
        }
    }

    // The queue stays empty: no message visible, in flight or delayed, and none to receive.
    let counts = s.moto.queue_counts(&s.jobs.url).await.unwrap();
    let received = s.moto.receive(&s.jobs.url, 1, 0).await.unwrap();
    if counts.total() != 0 || !received.is_empty() {
        s.fail(&format!(
            "refused webhooks were queued: {counts:?}, received {:?}",
            received.iter().map(|m| m.body()).collect::<Vec<_>>()
        ))
        .await;
    }

    // The same observation sees a correctly signed delivery (so the check above can fail).
    let id = send_queued(&s, &d, "/hooks/github").await;
    let msg = s
        .wait_for("the valid webhook's message in the queue", || async {
            s.moto
                .receive(&s.jobs.url, 1, 0)
                .await
                .ok()
                .and_then(|m| m.into_iter().next())
        })
        .await;
    // And the envelope follows docs/wire-formats.md.
    let env: Value = serde_json::from_str(msg.body().unwrap_or("")).unwrap();
    let expected = [
        ("v", json!(1)),
        ("id", json!(id)),
        ("source", json!("webhook")),
        ("route", json!("/hooks/github")),
        ("delivery_id", json!(d.delivery_id)),
        ("content_type", json!("application/json")),
        ("target", json!({ "algorithm": ALGORITHM })),
        ("payload", json!({ "text": original })),
    ];
    for (key, want) in expected {
        if env[key] != want {
            s.fail(&format!("envelope `{key}` is {} (expected {want}): {env}", env[key]))
                .await;
        }
    }
    let raw = msg.body().unwrap_or("");
    assert!(!raw.contains(GITHUB_SECRET), "the envelope holds the secret: {raw}");
    assert!(
        !raw.to_ascii_lowercase().contains("x-hub-signature"),
        "the envelope holds the signature: {raw}"
    );
    assert!(s.algorithm.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_path_wrong_method_and_oversized_body_are_json_errors() {
    let s = start(options(GITHUB_ROUTE).worker_source_paused()).await;

    let unknown = GithubDelivery::json(GITHUB_SECRET, "{}")
        .send(&s.http, &s.url("/hooks/nope"))
        .await;
    let get = hookrelay_e2e::webhook::read_reply(s.http.get(s.url("/hooks/github")).send().await.unwrap()).await;
    // Over the default ingress.max_body_bytes (256 KiB), signed correctly.
    let big = format!("\"{}\"", "x".repeat(300 * 1024));
    let oversized = GithubDelivery::json(GITHUB_SECRET, &big)
        .send(&s.http, &s.url("/hooks/github"))
        .await;

    for (what, reply, status) in [
        ("unknown path", &unknown, 404),
        ("GET", &get, 405),
        ("oversized body", &oversized, 413),
    ] {
        let is_json_error = serde_json::from_str::<Value>(&reply.body)
            .ok()
            .is_some_and(|v| v["error"].as_str().is_some_and(|e| !e.is_empty()));
        if reply.status != status || !is_json_error {
            s.fail(&format!("{what}: expected {status} {{\"error\": ...}}, got {reply}"))
                .await;
        }
    }
    let counts = s.moto.queue_counts(&s.jobs.url).await.unwrap();
    assert_eq!(counts.total(), 0, "{}", s.diagnostics().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_algorithm_is_reached_over_https_trusted_through_ssl_cert_file() {
    let mut opts = options(GITHUB_ROUTE);
    opts.algorithm_tls = true;
    let s = start(opts).await;
    assert!(s.algorithm.url().starts_with("https://"), "{}", s.algorithm.url());
    let body = r#"{"zen":"Encourage flow.","hook_id":7}"#;
    let d = GithubDelivery::json(GITHUB_SECRET, body);
    send_queued(&s, &d, "/hooks/github").await;
    let req = delivered_once(&s, body.as_bytes()).await;
    assert_algorithm_call(&s, &req, "application/json").await;
}

/// `[worker] warm_up = true`: the worker opens its HTTPS connection to the algorithm during init,
/// and its first job travels over that same connection (same client port).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warmed_up_worker_sends_its_first_job_over_the_connection_opened_at_init() {
    let warm = config(GITHUB_ROUTE).replace("[worker]\n", "[worker]\nwarm_up = true\n");
    let mut opts = StackOptions::new(&warm)
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY);
    opts.algorithm_tls = true;
    let s = start(opts).await;
    let warm_up = s
        .wait_for("the worker's warm-up request at init", || async {
            s.algorithm.stray_requests().into_iter().next()
        })
        .await;
    assert_eq!(
        (warm_up.method.as_str(), warm_up.path.as_str()),
        ("HEAD", "/"),
        "{warm_up:?}"
    );
    assert!(
        s.algorithm.requests().is_empty(),
        "the warm-up must not call an algorithm"
    );
    let body = r#"{"zen":"Warm.","hook_id":8}"#;
    send_queued(&s, &GithubDelivery::json(GITHUB_SECRET, body), "/hooks/github").await;
    let req = delivered_once(&s, body.as_bytes()).await;
    assert_eq!(req.peer, warm_up.peer, "the first job opened a new connection");
    assert_eq!(s.algorithm.stray_requests().len(), 1, "one warm-up per cold start");
}
