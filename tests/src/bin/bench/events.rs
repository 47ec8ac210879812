//! The Lambda events the bench invokes the functions with, and reading their answers.

use std::time::Duration;

use hookrelay_e2e::RuntimeApi;
use serde_json::{json, Value};

pub fn envelope_json(i: usize) -> String {
    json!({
        "v": 1,
        "id": uuid::Uuid::new_v4().to_string(),
        "source": "webhook",
        "route": "/hooks/github",
        "received_at": "2026-01-01T00:00:00.000Z",
        "delivery_id": format!("bench-{i}"),
        "content_type": "application/json",
        "target": {"algorithm": "demo/Hello/0.1.0"},
        "payload": {"text": format!("\"record {i}\"")},
        "s3": null,
    })
    .to_string()
}

pub fn sqs_batch(n: usize) -> Value {
    let now = hookrelay_e2e::util::now_ms().to_string();
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "messageId": uuid::Uuid::new_v4().to_string(),
                "receiptHandle": format!("bench-receipt-{i}"),
                "body": envelope_json(i),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

pub async fn invoke_ok(api: &RuntimeApi, payload: Value) -> Result<Value, String> {
    let out = api
        .invoke(payload, Duration::from_secs(120))
        .await
        .map_err(|e| e.to_string())?;
    Ok(out)
}

pub fn failures(response: &Value) -> usize {
    response
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

pub fn s3_event(key: &str, i: usize) -> Value {
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "bench",
                "bucket": {"name": "bench-bucket", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::bench-bucket"},
                "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": format!("0055AED6DCD9{i:08X}")},
            },
        }]
    })
}
