//! `[[s3.rule]]` end to end: each object of one S3 event goes to the algorithm of the first rule
//! its bucket, prefix and suffix match (with that rule's input), the rest to the `[s3]` catch-all.
//! (Conventions of the route tests: `routes.rs`.)

use std::time::Duration;

use hookrelay_e2e::StackOptions;
use serde_json::{json, Value};

use crate::routes::{fail_on, options, settled_calls, GITHUB_SECRETS};
use crate::{start, ALGORITHM, ALGORITHM_PATH};

fn s3_record(bucket: &str, key: &str, size: u64, sequencer: &str) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T15:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "hookrelay-uploads",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": sequencer},
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_rules_send_objects_to_their_algorithms() {
    let opts = StackOptions::new("");
    let bucket = opts.bucket.clone();
    let s3 = format!(
        r#"
[s3]
algorithm = "demo/Hello/0.1.0"

# Same prefix as the csv rule, other bucket: must not match.
[[s3.rule]]
bucket = "some-other-bucket"
prefix = "data/"
algorithm = "demo/Wrong/0.0.1"

[[s3.rule]]
prefix = "uploads/"
suffix = ".jpg"
algorithm = "demo/Resize/1.0"
input = "uri"

[[s3.rule]]
bucket = "{bucket}"
prefix = "data/"
suffix = ".csv"
algorithm = "demo/Csv/2.1"
input = "record"
"#
    );
    let body = format!(
        "[[route]]\npath = \"/hooks/github\"\nverify = \"github\"\n{GITHUB_SECRETS}\nalgorithm = \"{ALGORITHM}\"\n"
    );
    let s = start(options(&body, Some(&s3))).await;
    let event = json!({"Records": [
        s3_record(&bucket, "uploads/a.jpg", 2048, "0055AED6DCD90281E5"),
        s3_record(&bucket, "data/b.csv", 12, "0055AED6DCD90281E6"),
        s3_record(&bucket, "other/c.txt", 5, "0055AED6DCD90281E7"),
    ]});
    if let Err(e) = s.s3_relay_api.invoke(event, Duration::from_secs(30)).await {
        s.fail(&format!("s3-relay failed the S3 event: {e}")).await;
    }
    let calls = settled_calls(&s, 3).await;
    let mut problems = Vec::new();
    let to = |path: &str| calls.iter().filter(|c| c.path == path).cloned().collect::<Vec<_>>();

    match to("/v1/algo/demo/Resize/1.0").as_slice() {
        [call] => {
            let want = format!("\"s3://{bucket}/uploads/a.jpg\"");
            if call.body_text() != want {
                problems.push(format!(
                    "uploads/a.jpg: Resize got {} (expected {want})",
                    call.body_text()
                ));
            }
        }
        other => problems.push(format!(
            "uploads/a.jpg: Resize was called {} time(s), expected once",
            other.len()
        )),
    }
    match to("/v1/algo/demo/Csv/2.1").as_slice() {
        [call] => {
            let record = call.body_json().unwrap_or(Value::Null);
            if record["bucket"] != json!(bucket) || record["key"] != json!("data/b.csv") || record["size"] != json!(12)
            {
                problems.push(format!(
                    "data/b.csv: Csv got {} (expected a record with bucket {bucket}, key data/b.csv, size 12)",
                    call.body_text()
                ));
            }
            if !call
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
            {
                problems.push(format!("data/b.csv: content-type {:?}", call.header("content-type")));
            }
        }
        other => problems.push(format!(
            "data/b.csv: Csv was called {} time(s), expected once",
            other.len()
        )),
    }
    match to(ALGORITHM_PATH).as_slice() {
        [call] => {
            if call.body_text() != "\"other/c.txt\"" {
                problems.push(format!(
                    "other/c.txt: the catch-all got {} (expected \"other/c.txt\")",
                    call.body_text()
                ));
            }
        }
        other => problems.push(format!(
            "other/c.txt: the [s3] catch-all was called {} time(s), expected once",
            other.len()
        )),
    }
    if calls.len() != 3 {
        problems.push(format!("expected 3 algorithm calls, got {}", calls.len()));
    }
    if !to("/v1/algo/demo/Wrong/0.0.1").is_empty() {
        problems.push("a rule for another bucket matched".into());
    }
    fail_on(&s, &problems, "").await;
}
