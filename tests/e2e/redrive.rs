//! `make redrive` / `hookrelay redrive`: dead-lettered jobs go back to the jobs queue unchanged,
//! without the worker's failure attributes, and the DLQ ends empty.

use std::collections::BTreeSet;

use aws_sdk_sqs::types::MessageAttributeValue;
use hookrelay_e2e::{function, Moto};

fn attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_moves_dead_letters_back_unchanged() {
    let moto = Moto::start().await;
    let (jobs, dlq) = moto.create_queue_with_dlq("redrive-jobs", "redrive-dlq", 30, 3).await;
    let bodies: BTreeSet<String> = (0..13).map(|i| format!(r#"{{"v":1,"id":"job-{i}"}}"#)).collect();
    for body in &bodies {
        moto.sqs()
            .send_message()
            .queue_url(&dlq.url)
            .message_body(body)
            .message_attributes("hookrelay-error", attribute("algorithm API answered 400: bad input"))
            .message_attributes("trace", attribute("kept"))
            .send()
            .await
            .unwrap();
    }

    let output = tokio::process::Command::new(function::binary("hookrelay"))
        .args(["redrive", &dlq.url, &jobs.url])
        .env("AWS_ENDPOINT_URL", moto.endpoint_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .expect("run hookrelay redrive");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "redrive failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("moved 13 message(s)"), "{stdout}");

    let mut moved = Vec::new();
    for _ in 0..10 {
        let batch = moto.receive(&jobs.url, 1, 60).await.unwrap();
        if batch.is_empty() {
            break;
        }
        moved.extend(batch);
    }
    let moved_bodies: BTreeSet<String> = moved.iter().map(|m| m.body().unwrap_or_default().to_owned()).collect();
    assert_eq!(moved_bodies, bodies, "every dead letter is back, byte for byte");
    assert_eq!(moved.len(), bodies.len(), "each exactly once");
    for m in &moved {
        let attributes = m.message_attributes().cloned().unwrap_or_default();
        assert!(
            !attributes.contains_key("hookrelay-error"),
            "failure attributes are dropped: {attributes:?}"
        );
        assert_eq!(attributes.get("trace").and_then(|a| a.string_value()), Some("kept"));
    }
    assert!(
        moto.receive(&dlq.url, 1, 0).await.unwrap().is_empty(),
        "the DLQ is empty"
    );
}
