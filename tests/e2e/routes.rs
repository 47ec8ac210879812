//! Shared by the tests of routes that decide: their config, secrets and request helpers. The
//! tests, end to end through the real binaries, are one file per topic: filters
//! (`route_filters`), input mapping (`route_input`), named targets, i.e. a generic HTTP endpoint and
//! a second algorithm API (`route_targets`), S3 rules (`route_s3_rules`), sync mode
//! (`route_sync`), de-duplication with a FIFO queue and with a standard queue + DynamoDB ledger
//! (`route_dedup`), and custom acknowledgements (`route_ack`).
//!
//! Where "nothing was queued" is asserted, the worker's event source is paused, so whatever the
//! ingress queued stays visible in the queue; the same observation is then shown to see a queued
//! job (so the check can fail). Counts of algorithm calls are taken after the jobs queue is empty:
//! once every message is deleted nothing can deliver again, so the count is final.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use hookrelay_e2e::{
    webhook::{read_reply, Reply},
    AlgoRequest, GithubDelivery, Stack, StackOptions,
};
use serde_json::{json, Value};

use crate::{ALGO_KEY, GITHUB_SECRET};

/// `CAL_SECRET` of the functions (Cal.com route).
pub(crate) const CAL_SECRET: &str = "e2e-cal-routes-secret-7c1d";
/// `NOTIFY_KEY`: a secret header value of the generic HTTP target.
pub(crate) const NOTIFY_KEY: &str = "e2e-notify-key-3f9a61";
/// `OTHER_KEY`: the API key of the second algorithm API.
pub(crate) const OTHER_KEY: &str = "sim-e2e-other-algorithm-key";

/// The routes' secrets, as `secrets = [...]` of a GitHub-verified route.
pub(crate) const GITHUB_SECRETS: &str = r#"secrets = ["env:GITHUB_WEBHOOK_SECRET"]"#;

/// A full config: `[downstream]` (the demo algorithm), `body` (targets and routes), the `[s3]`
/// table (`s3`, or the default catch-all), `[worker]`.
fn config(body: &str, s3: Option<&str>) -> String {
    let s3 = s3.unwrap_or("[s3]\nalgorithm = \"demo/Hello/0.1.0\"\n");
    format!(
        r#"
[downstream]
base_url = "${{ALGO_URL}}"
api_key = "env:ALGO_API_KEY"
timeout_secs = 30

{body}

{s3}

[worker]
concurrency = 10
"#
    )
}

/// Stack options for `config(body, s3)` with every secret the routes and targets use.
pub(crate) fn options(body: &str, s3: Option<&str>) -> StackOptions {
    StackOptions::new(&config(body, s3))
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY)
        .env("CAL_SECRET", CAL_SECRET)
        .env("NOTIFY_KEY", NOTIFY_KEY)
        .env("OTHER_KEY", OTHER_KEY)
}

/// A GitHub delivery of `event` with a JSON body, signed with the functions' secret.
pub(crate) fn github(event: &str, body: &str) -> GithubDelivery {
    GithubDelivery {
        event: event.into(),
        ..GithubDelivery::json(GITHUB_SECRET, body)
    }
}

/// POST a Cal.com-signed JSON body (`X-Cal-Signature-256: <hex HMAC-SHA256>`).
pub(crate) async fn send_cal(s: &Stack, path: &str, body: &str, secret: &str) -> Reply {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let resp = s
        .http
        .post(s.url(path))
        .header("content-type", "application/json")
        .header("x-cal-signature-256", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    read_reply(resp).await
}

pub(crate) fn reply_json(reply: &Reply) -> Option<Value> {
    serde_json::from_str(&reply.body).ok()
}

pub(crate) fn is_json(reply: &Reply) -> bool {
    reply
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
}

/// `200 {"id": <non-empty>, "status": "queued"}` → the id; else a problem is recorded.
pub(crate) fn queued_id(what: &str, reply: &Reply, problems: &mut Vec<String>) -> Option<String> {
    let v = reply_json(reply).unwrap_or(Value::Null);
    let id = v["id"].as_str().filter(|id| !id.is_empty()).map(str::to_string);
    if reply.status != 200 || v["status"] != json!("queued") || id.is_none() || !is_json(reply) {
        problems.push(format!(
            "{what}: expected 200 application/json {{\"id\": ..., \"status\": \"queued\"}}, got {reply}"
        ));
        return None;
    }
    id
}

/// The reply must be `200 {"status": "filtered"}`.
pub(crate) fn expect_filtered(what: &str, reply: &Reply, problems: &mut Vec<String>) {
    if reply.status != 200 || reply_json(reply) != Some(json!({"status": "filtered"})) || !is_json(reply) {
        problems.push(format!(
            "{what}: expected 200 application/json {{\"status\": \"filtered\"}}, got {reply}"
        ));
    }
}

pub(crate) async fn fail_on(s: &Stack, problems: &[String], extra: &str) {
    if !problems.is_empty() {
        s.fail(&format!(
            "{} problem(s):\n  - {}\n{extra}",
            problems.len(),
            problems.join("\n  - ")
        ))
        .await;
    }
}

/// Total messages in the jobs queue (visible, in flight, delayed).
pub(crate) async fn queued_total(s: &Stack) -> u64 {
    s.moto
        .queue_counts(&s.jobs.url)
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes: {e}"))
        .total()
}

/// Wait until the demo algorithm got at least `n` calls and the jobs queue is empty; returns
/// every call (final: nothing is left to deliver).
pub(crate) async fn settled_calls(s: &Stack, n: usize) -> Vec<AlgoRequest> {
    s.wait_for(&format!("{n} algorithm call(s)"), || async {
        (s.algorithm.requests().len() >= n).then_some(())
    })
    .await;
    s.wait_queue_empty(&s.jobs).await;
    s.algorithm.requests()
}

pub(crate) fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
