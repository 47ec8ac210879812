//! De-duplication end to end: a repeated delivery is one job, through a FIFO queue's
//! de-duplication id or, on a standard queue, through the DynamoDB ledger (and not at all with
//! `dedup_window_secs = 0`). (Conventions of the route tests: `routes.rs`.)

use std::collections::BTreeSet;

use hookrelay_e2e::{GithubDelivery, Stack};
use serde_json::json;

use crate::routes::{
    epoch_secs, fail_on, github, options, queued_id, queued_total, reply_json, settled_calls, GITHUB_SECRETS,
};
use crate::start;

const DEDUP_ROUTE: &str = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
message_group = "/repository/full_name"
"#;

/// Send `d` three times: the first answer must be `queued`, the others `repeat_status` with the
/// first id. Returns the first id. (A FIFO queue drops repeats itself and the ingress cannot tell,
/// so there repeats answer `queued` with the same id, derived from the delivery id.)
async fn send_three_times(
    s: &Stack,
    d: &GithubDelivery,
    repeat_status: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let url = s.url("/hooks/github");
    let first = d.send(&s.http, &url).await;
    let id = queued_id("first delivery", &first, problems);
    for attempt in 2..=3 {
        let r = d.send(&s.http, &url).await;
        let want = json!({"id": id, "status": repeat_status});
        if r.status != 200 || reply_json(&r) != Some(want.clone()) {
            problems.push(format!(
                "repeat #{attempt} of delivery {}: expected 200 {want}, got {r}",
                d.delivery_id
            ));
        }
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_queue_deduplicates_a_repeated_delivery() {
    // Paused worker while sending: moto drops a repeated MessageDeduplicationId only while the
    // first message is still in the queue (real SQS remembers it for five minutes either way).
    let mut s = start(options(DEDUP_ROUTE, None).fifo_jobs_queue().worker_source_paused()).await;
    assert!(s.jobs.url.ends_with(".fifo"), "{}", s.jobs.url);
    let mut problems = Vec::new();

    let body = r#"{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"}}"#;
    let a = github("push", body);
    let id_a = send_three_times(&s, &a, "queued", &mut problems).await;
    // Same body, another delivery: a different job.
    let b = github("push", body);
    let r = b.send(&s.http, &s.url("/hooks/github")).await;
    let id_b = queued_id("another delivery with the same body", &r, &mut problems);

    let total = queued_total(&s).await;
    if total != 2 {
        problems.push(format!(
            "expected 2 messages in the FIFO queue (one per delivery id), found {total}"
        ));
    }
    // The FIFO keys: the message group from /repository/full_name, a de-duplication id per delivery.
    let peeked = s.moto.receive(&s.jobs.url, 1, 0).await.unwrap_or_default();
    let mut dedup_ids = BTreeSet::new();
    for m in &peeked {
        use aws_sdk_sqs::types::MessageSystemAttributeName as A;
        let attr = |k: A| m.attributes().and_then(|a| a.get(&k)).cloned();
        if attr(A::MessageGroupId).as_deref() != Some("octo/hello") {
            problems.push(format!(
                "MessageGroupId {:?} (expected \"octo/hello\")",
                attr(A::MessageGroupId)
            ));
        }
        match attr(A::MessageDeduplicationId) {
            Some(d) if !d.is_empty() && d.len() <= 128 => {
                dedup_ids.insert(d);
            }
            other => problems.push(format!(
                "MessageDeduplicationId {other:?} (expected 1..=128 characters)"
            )),
        }
    }
    if peeked.is_empty() {
        problems.push("could not receive a message from the FIFO queue to check its keys".into());
    }
    fail_on(&s, &problems, "").await;

    s.start_worker_source();
    let calls = settled_calls(&s, 2).await;
    let keys: BTreeSet<Option<&str>> = calls.iter().map(|c| c.header("idempotency-key")).collect();
    let want: BTreeSet<Option<&str>> = [id_a.as_deref(), id_b.as_deref()].into_iter().collect();
    if calls.len() != 2 || keys != want {
        problems.push(format!(
            "expected one algorithm call per delivery (job ids {want:?}), got {} with Idempotency-Keys {keys:?}",
            calls.len()
        ));
    }
    assert!(s.dlq_is_empty().await, "{}", s.diagnostics().await);
    fail_on(&s, &problems, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_queue_deduplicates_through_the_dynamodb_ledger() {
    const TABLE: &str = "hookrelay-dedup";
    let routes = format!(
        r#"{DEDUP_ROUTE}
[[route]]
path = "/hooks/nodedup"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
dedup_window_secs = 0
"#
    );
    let s = start(options(&routes, None).dedup_table(TABLE)).await;
    assert!(!s.jobs.url.ends_with(".fifo"));
    let mut problems = Vec::new();

    let before = epoch_secs();
    let body = r#"{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"}}"#;
    let a = github("push", body);
    let id_a = send_three_times(&s, &a, "duplicate", &mut problems).await;
    let b = github("push", body);
    let r = b.send(&s.http, &s.url("/hooks/github")).await;
    let id_b = queued_id("another delivery with the same body", &r, &mut problems);
    let after = epoch_secs();

    // dedup_window_secs = 0: the same delivery twice is two jobs.
    let c = github("push", r#"{"ref":"refs/heads/main","window":0}"#);
    let mut no_window_ids = BTreeSet::new();
    for attempt in 1..=2 {
        let r = c.send(&s.http, &s.url("/hooks/nodedup")).await;
        if let Some(id) = queued_id(&format!("dedup_window_secs = 0, send #{attempt}"), &r, &mut problems) {
            no_window_ids.insert(id);
        }
    }
    if no_window_ids.len() != 2 {
        problems.push(format!(
            "dedup_window_secs = 0 must queue both sends as two jobs, got ids {no_window_ids:?}"
        ));
    }

    let calls = settled_calls(&s, 4).await;
    let a_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.body.as_ref() == body.as_bytes())
        .map(|c| c.header("idempotency-key").map(str::to_string))
        .collect();
    let mut want = vec![id_a.clone(), id_b.clone()];
    let mut got = a_calls.clone();
    want.sort();
    got.sort();
    if got != want {
        problems.push(format!(
            "deliveries A (sent 3 times) and B: expected one algorithm call each (job ids {want:?}), got Idempotency-Keys {got:?}"
        ));
    }
    if calls.len() != 4 {
        problems.push(format!(
            "expected 4 algorithm calls in all (A, B and 2 without window), got {}",
            calls.len()
        ));
    }

    // The ledger: one item per deduplicated delivery, remembering the job id until now + window.
    let items = s
        .moto
        .dedup_items(TABLE)
        .await
        .unwrap_or_else(|e| panic!("Scan {TABLE}: {e}"));
    for (d, id) in [(&a, &id_a), (&b, &id_b)] {
        let mine: Vec<_> = items.iter().filter(|i| i.pk.contains(&d.delivery_id)).collect();
        match mine.as_slice() {
            [item] => {
                if !item.pk.contains("/hooks/github") {
                    problems.push(format!("ledger key {:?} does not name the route", item.pk));
                }
                if item.job_id != *id {
                    problems.push(format!("ledger job_id {:?} (expected {id:?})", item.job_id));
                }
                let window = 300;
                if !item
                    .expires_at
                    .is_some_and(|e| (before + window..=after + window + 1).contains(&e))
                {
                    problems.push(format!(
                        "ledger expires_at {:?} (expected received time + {window} s, within [{}, {}])",
                        item.expires_at,
                        before + window,
                        after + window + 1
                    ));
                }
            }
            other => problems.push(format!(
                "expected one ledger item for delivery {}, found {}",
                d.delivery_id,
                other.len()
            )),
        }
    }
    if items.iter().any(|i| i.pk.contains(&c.delivery_id)) {
        problems.push("a route with dedup_window_secs = 0 wrote to the ledger".into());
    }
    assert!(s.dlq_is_empty().await, "{}", s.diagnostics().await);
    fail_on(&s, &problems, "").await;
}
