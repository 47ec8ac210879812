//! (c) An object event whose key is `my+photo%281%29.jpg` (the object `my photo(1).jpg`)
//! reaches the algorithm with the JSON string body `"my photo(1).jpg"`, in each of the three
//! shapes s3-relay accepts. s3-relay queues the job; the worker calls the algorithm.

use std::time::Duration;

use hookrelay_e2e::Stack;
use serde_json::{json, Value};

use crate::{assert_algorithm_call, options, start, GITHUB_ROUTE};

const KEY_IN_EVENT: &str = "my+photo%281%29.jpg";
const OBJECT_KEY: &str = "my photo(1).jpg";
const EXPECTED_BODY: &[u8] = br#""my photo(1).jpg""#;
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Wait for the job to reach the algorithm exactly once, with the decoded key as a JSON string.
async fn expect_delivery(s: &Stack) {
    let req = s
        .wait_for("the S3 job to reach the algorithm", || async {
            s.algorithm.requests_with_body(EXPECTED_BODY).into_iter().next()
        })
        .await;
    assert_algorithm_call(s, &req, "application/json").await;
    s.wait_queue_empty(&s.jobs).await;
    let all = s.algorithm.requests();
    if all.len() != 1 {
        s.fail(&format!(
            "expected exactly one algorithm call with body {}, got {}",
            String::from_utf8_lossy(EXPECTED_BODY),
            all.len()
        ))
        .await;
    }
    // The queued envelope carried the S3 metadata (checked through what the worker consumed).
    let batches = s.worker_source().invocations();
    let record = batches.iter().flat_map(|b| b.records.iter()).next();
    let env: Value = record
        .and_then(|r| serde_json::from_str(&r.body).ok())
        .unwrap_or(Value::Null);
    if env["source"] != json!("s3")
        || env["route"] != json!("s3")
        || env["s3"]["bucket"] != json!(s.bucket)
        || env["s3"]["key"] != json!(OBJECT_KEY)
        || env["payload"] != json!({ "text": "\"my photo(1).jpg\"" })
    {
        s.fail(&format!("unexpected S3 job envelope: {env}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_s3_notification_event() {
    let s = start(options(GITHUB_ROUTE)).await;
    let event = json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-23T15:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "hookrelay-uploads",
                "bucket": {
                    "name": s.bucket,
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": format!("arn:aws:s3:::{}", s.bucket),
                },
                "object": {
                    "key": KEY_IN_EVENT,
                    "size": 1024,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }]
    });
    if let Err(e) = s.s3_relay_api.invoke(event, INVOKE_TIMEOUT).await {
        s.fail(&format!("s3-relay failed the direct S3 event: {e}")).await;
    }
    expect_delivery(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_notification_through_sqs() {
    // moto: PutObject → bucket notification → SQS (hookrelay-s3-events) → event source → s3-relay.
    let s = start(options(GITHUB_ROUTE)).await;
    s.moto
        .put_object(&s.bucket, OBJECT_KEY, b"\xff\xd8\xff not really a jpeg".to_vec())
        .await;
    expect_delivery(&s).await;

    // Every S3 message was consumed without a failure report, including the s3:TestEvent that
    // S3 (and moto) sends when the notification configuration is saved.
    s.wait_queue_empty(&s.s3_events).await;
    let batches = s.s3_source.invocations();
    let failed: Vec<_> = batches
        .iter()
        .filter(|b| {
            !b.reported_failures().is_empty() || !matches!(b.outcome, hookrelay_e2e::BatchOutcome::Completed { .. })
        })
        .collect();
    let saw_object = batches
        .iter()
        .flat_map(|b| b.records.iter())
        .any(|r| r.body.contains(KEY_IN_EVENT));
    if !failed.is_empty() || !saw_object {
        s.fail("s3-relay must consume the notification (and the test event) without failures")
            .await;
    }
    let s3_dlq = s.moto.queue_counts(&s.s3_dlq.url).await.unwrap();
    assert_eq!(s3_dlq.total(), 0, "{}", s.diagnostics().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_object_created_event() {
    let s = start(options(GITHUB_ROUTE)).await;
    let event = json!({
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-23T15:00:00Z",
        "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{}", s.bucket)],
        "detail": {
            "version": "0",
            "bucket": {"name": s.bucket},
            "object": {
                "key": KEY_IN_EVENT,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "sequencer": "617f08299329d189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject",
        },
    });
    if let Err(e) = s.s3_relay_api.invoke(event, INVOKE_TIMEOUT).await {
        s.fail(&format!("s3-relay failed the EventBridge event: {e}")).await;
    }
    expect_delivery(&s).await;
}
