//! Self-tests of the harness, against `echo-lambda` (built with this package) and moto.
//! They need no hookrelay function binary.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use hookrelay_e2e::function_url::{build_event, is_textual, EventInput};
use hookrelay_e2e::sqs_source::{interpret_response, sqs_event};
use hookrelay_e2e::util::{wait_for, DEADLINE};
use hookrelay_e2e::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(30);

fn echo_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_echo-lambda"))
}

async fn echo_function(name: &str) -> (RuntimeApi, FunctionProcess) {
    let api = RuntimeApi::start(name).await;
    let f = FunctionProcess::spawn(
        &api,
        FunctionConfig::new(name, echo_bin()).env("HOOKRELAY_TEST_VAR", "42"),
    )
    .await;
    f.wait_ready(T).await.unwrap_or_else(|e| panic!("{e}\n{}", f.report()));
    (api, f)
}

#[tokio::test]
async fn invoke_round_trip_with_lambda_context_env_and_logs() {
    let (api, f) = echo_function("echo").await;

    let out = api
        .invoke(json!({"cmd": "echo", "value": {"a": [1, 2]}}), T)
        .await
        .unwrap();
    assert_eq!(out, json!({"a": [1, 2]}));

    let before = hookrelay_e2e::util::now_ms();
    let ctx = api.invoke(json!({"cmd": "context"}), T).await.unwrap();
    assert!(!ctx["request_id"].as_str().unwrap().is_empty(), "{ctx}");
    assert_eq!(
        ctx["invoked_function_arn"],
        json!("arn:aws:lambda:us-east-1:123456789012:function:echo")
    );
    assert_eq!(ctx["function_name"], json!("echo"));
    assert_eq!(ctx["memory"], json!(128));
    assert_eq!(ctx["version"], json!("$LATEST"));
    assert_eq!(ctx["log_group"], json!("/aws/lambda/echo"));
    assert!(ctx["log_stream"].as_str().unwrap().contains("[$LATEST]"), "{ctx}");
    assert!(ctx["xray_trace_id"].as_str().unwrap().starts_with("Root=1-"), "{ctx}");
    assert!(
        ctx["deadline"].as_u64().unwrap() > before,
        "deadline must be in the future: {ctx}"
    );

    // The caller's env reaches the function; the test runner's does not leak.
    assert_eq!(
        api.invoke(json!({"cmd": "env", "name": "HOOKRELAY_TEST_VAR"}), T)
            .await
            .unwrap(),
        json!("42")
    );
    assert_eq!(
        api.invoke(json!({"cmd": "env", "name": "AWS_REGION"}), T)
            .await
            .unwrap(),
        json!("us-east-1")
    );
    assert_eq!(
        api.invoke(json!({"cmd": "env", "name": "CARGO_MANIFEST_DIR"}), T)
            .await
            .unwrap(),
        Value::Null
    );

    api.invoke(json!({"cmd": "log", "message": "hello logs"}), T)
        .await
        .unwrap();
    let seen = wait_for(T, || async {
        (f.logs().contains("stdout: hello logs") && f.logs().contains("stderr: hello logs")).then_some(())
    })
    .await;
    assert!(seen.is_some(), "log lines not captured:\n{}", f.report());
    assert!(f
        .logs()
        .stream_text(logs::Stream::Stdout)
        .contains("echo-lambda starting"));
    assert!(f
        .logs()
        .stream_text(logs::Stream::Stderr)
        .contains("stderr: hello logs"));
    assert!(f.is_running());
    assert_eq!(api.invocation_count(), 6);
}

#[tokio::test]
async fn function_error_and_timeout() {
    let (api, f) = echo_function("echo-errors").await;

    let err = api
        .invoke(json!({"cmd": "fail", "message": "nope"}), T)
        .await
        .unwrap_err();
    match &err {
        InvokeError::Function { error_type, body } => {
            assert!(error_type.is_some(), "{err}");
            assert_eq!(body["errorMessage"], json!("nope"), "{err}");
        }
        other => panic!("expected a function error, got {other}"),
    }
    assert_eq!(err.error_message().as_deref(), Some("nope"));

    // The function cannot answer within 200 ms when it sleeps 1.5 s.
    let err = api
        .invoke(json!({"cmd": "sleep", "ms": 1500}), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(err, InvokeError::Timeout(Duration::from_millis(200)));

    // The late response is discarded; the function serves the next invocation.
    let out = api.invoke(json!({"cmd": "echo", "value": "after"}), T).await.unwrap();
    assert_eq!(out, json!("after"), "{}", f.report());
}

#[tokio::test]
async fn dying_process_fails_its_invocation() {
    let (api, f) = echo_function("echo-dies").await;
    let err = api.invoke(json!({"cmd": "exit", "code": 7}), T).await.unwrap_err();
    assert!(matches!(err, InvokeError::ProcessDied(_)), "{err}");
    let status = f.wait(T).await.expect("process exited");
    assert_eq!(status.code(), Some(7));
    assert!(!f.is_running());
    // No instance left: fails at once rather than waiting for the timeout.
    let err = api
        .invoke(json!({"cmd": "echo", "value": 1}), Duration::from_secs(600))
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::ProcessDied(_)), "{err}");
}

#[tokio::test]
async fn init_error_is_recorded_and_process_exits_non_zero() {
    let api = RuntimeApi::start("echo-init").await;
    let f = FunctionProcess::spawn(
        &api,
        FunctionConfig::new("echo-init", echo_bin()).env("ECHO_INIT_ERROR", "config: route 1 is missing `path`"),
    )
    .await;
    let status = f
        .wait(T)
        .await
        .unwrap_or_else(|| panic!("did not exit\n{}", f.report()));
    assert_eq!(status.code(), Some(2));
    let init = api.wait_for_init_error(T).await.expect("init error recorded");
    assert_eq!(init.message(), "config: route 1 is missing `path`");
    assert_eq!(init.error_type.as_deref(), Some("Runtime.ConfigError"));
    assert_eq!(init.instance, Some(f.instance()));
    assert!(f.wait_ready(T).await.is_err());
    assert!(f.output().contains("init failed"), "{}", f.report());
}

#[tokio::test]
async fn several_instances_poll_the_same_emulator() {
    let api = RuntimeApi::start("echo-pool").await;
    let a = FunctionProcess::spawn(&api, FunctionConfig::new("echo-pool", echo_bin())).await;
    let b = FunctionProcess::spawn(&api, FunctionConfig::new("echo-pool", echo_bin())).await;
    a.wait_ready(T).await.unwrap();
    b.wait_ready(T).await.unwrap();

    // Each instance handles one invocation at a time, so two concurrent sleeps occupy both.
    let calls = (0..4).map(|i| {
        let api = api.clone();
        async move { api.invoke(json!({"cmd": "sleep", "ms": 300 + i}), T).await }
    });
    let results = futures_join_all(calls).await;
    let pids: HashSet<u64> = results
        .iter()
        .map(|r| r.as_ref().expect("invocation")["pid"].as_u64().expect("pid"))
        .collect();
    let expected: HashSet<u64> = [a.pid().unwrap() as u64, b.pid().unwrap() as u64].into();
    assert_eq!(pids, expected, "both instances must take work");
    // Kill one: the other keeps serving.
    a.kill().await.expect("killed");
    assert!(!a.is_running());
    let out = api
        .invoke(json!({"cmd": "echo", "value": "still here"}), T)
        .await
        .unwrap();
    assert_eq!(out, json!("still here"));
    assert!(b.is_running());
}

/// Minimal join_all (no futures crate needed).
async fn futures_join_all<F: std::future::Future + Send + 'static>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn function_url_builds_v2_events_and_maps_responses() {
    let (api, f) = echo_function("echo-url").await;
    let url = FunctionUrl::start(api.clone(), FunctionUrlConfig::default()).await;
    let http = reqwest::Client::new();

    let resp = http
        .post(format!("{}/some/path?x=1&y=a%20b&x=2", url.url()))
        .header("content-type", "application/json")
        .header("x-multi", "1")
        .header("x-multi", "2")
        .header("cookie", "c1=v1; c2=v2")
        .header("user-agent", "selftest/1")
        .body(r#"{"k":"v"}"#)
        .send()
        .await
        .unwrap();
    let reply = webhook::read_reply(resp).await;
    assert_eq!(reply.status, 201, "{reply}\n{}", f.report());
    assert_eq!(reply.header("x-echo"), Some("yes"));
    let cookies: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, vec!["a=1; Path=/", "b=2"]);
    let ev = reply.json();
    assert_eq!(ev["version"], json!("2.0"));
    assert_eq!(ev["routeKey"], json!("$default"));
    assert_eq!(ev["rawPath"], json!("/some/path"));
    assert_eq!(ev["rawQueryString"], json!("x=1&y=a%20b&x=2"));
    assert_eq!(ev["queryStringParameters"], json!({"x": "1,2", "y": "a b"}));
    assert_eq!(ev["headers"]["x-multi"], json!("1,2"));
    assert_eq!(ev["headers"]["content-type"], json!("application/json"));
    assert!(ev["headers"].get("cookie").is_none(), "{ev}");
    assert_eq!(ev["cookies"], json!(["c1=v1", "c2=v2"]));
    assert_eq!(ev["body"], json!(r#"{"k":"v"}"#));
    assert_eq!(ev["isBase64Encoded"], json!(false));
    let rc = &ev["requestContext"];
    assert_eq!(rc["accountId"], json!("anonymous"));
    assert_eq!(rc["stage"], json!("$default"));
    assert_eq!(rc["http"]["method"], json!("POST"));
    assert_eq!(rc["http"]["path"], json!("/some/path"));
    assert_eq!(rc["http"]["protocol"], json!("HTTP/1.1"));
    assert_eq!(rc["http"]["sourceIp"], json!("127.0.0.1"));
    assert_eq!(rc["http"]["userAgent"], json!("selftest/1"));
    assert!(rc["domainName"]
        .as_str()
        .unwrap()
        .ends_with(".lambda-url.us-east-1.on.aws"));
    assert!(rc["timeEpoch"].as_i64().unwrap() > 0);
    assert!(rc["time"].as_str().unwrap().ends_with("+0000"), "{rc}");

    // Binary and non-UTF-8 bodies are base64-encoded; no body, no field.
    let bin = http
        .post(format!("{}/bin", url.url()))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 1, 2, 255])
        .send()
        .await
        .unwrap();
    let ev = webhook::read_reply(bin).await.json();
    assert_eq!(ev["isBase64Encoded"], json!(true));
    assert_eq!(ev["body"], json!("AAEC/w=="));
    let bad_text = http
        .post(format!("{}/t", url.url()))
        .header("content-type", "text/plain")
        .body(vec![b'a', 0xff])
        .send()
        .await
        .unwrap();
    let ev = webhook::read_reply(bad_text).await.json();
    assert_eq!(ev["isBase64Encoded"], json!(true));
    let get = webhook::read_reply(http.get(format!("{}/g", url.url())).send().await.unwrap())
        .await
        .json();
    assert!(get.get("body").is_none(), "{get}");
    assert!(get.get("queryStringParameters").is_none(), "{get}");
    assert_eq!(get["rawQueryString"], json!(""));

    // A JSON answer without statusCode: 200 application/json.
    let plain = webhook::read_reply(http.get(format!("{}/plain", url.url())).send().await.unwrap()).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), Some("application/json"));
    assert_eq!(plain.json(), json!({"hello": "world"}));

    // A base64 answer is decoded.
    let bin = http.get(format!("{}/binary", url.url())).send().await.unwrap();
    assert_eq!(bin.headers()["content-type"], "application/octet-stream");
    assert_eq!(bin.bytes().await.unwrap().as_ref(), &[0u8, 159, 146, 150]);

    // A function error is a 502.
    let err = webhook::read_reply(http.get(format!("{}/error", url.url())).send().await.unwrap()).await;
    assert_eq!(err.status, 502, "{err}");
    let x = url.exchanges();
    assert_eq!(x.last().unwrap().status, 502);
    assert!(
        x.last().unwrap().invoke_error.as_deref().unwrap().contains("boom"),
        "{x:?}"
    );
}

#[test]
fn textual_content_types() {
    for ct in [
        "text/plain",
        "text/html; charset=utf-8",
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
        "application/vnd.github+json",
        "application/atom+xml",
    ] {
        assert!(is_textual(Some(ct)), "{ct}");
    }
    for ct in [
        None,
        Some("application/octet-stream"),
        Some("image/png"),
        Some("multipart/form-data; boundary=x"),
    ] {
        assert!(!is_textual(ct), "{ct:?}");
    }
    let headers = axum::http::HeaderMap::new();
    let ev = build_event(&EventInput {
        method: &axum::http::Method::POST,
        uri: &"/x".parse().unwrap(),
        version: axum::http::Version::HTTP_11,
        headers: &headers,
        body: b"hello",
        source_ip: "127.0.0.1",
        api_id: "abc",
        request_id: "r",
    });
    // No content type: base64, as AWS does.
    assert_eq!(ev["isBase64Encoded"], json!(true));
    assert_eq!(ev["body"], json!("aGVsbG8="));
}

#[test]
fn batch_item_failure_rules() {
    let ids: HashSet<&str> = ["m1", "m2"].into_iter().collect();
    assert_eq!(
        interpret_response(&json!(null), &ids),
        BatchOutcome::Completed { failures: vec![] }
    );
    assert_eq!(
        interpret_response(&json!({}), &ids),
        BatchOutcome::Completed { failures: vec![] }
    );
    assert_eq!(
        interpret_response(&json!({"batchItemFailures": []}), &ids),
        BatchOutcome::Completed { failures: vec![] }
    );
    assert_eq!(
        interpret_response(&json!({"batchItemFailures": [{"itemIdentifier": "m2"}]}), &ids),
        BatchOutcome::Completed {
            failures: vec!["m2".into()]
        }
    );
    for bad in [
        json!({"batchItemFailures": [{"itemIdentifier": "m3"}]}),
        json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
        json!({"batchItemFailures": [{}]}),
        json!({"batchItemFailures": "m1"}),
    ] {
        assert!(
            matches!(interpret_response(&bad, &ids), BatchOutcome::InvalidReport { .. }),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn algorithm_server_answers_records_and_fails_on_demand() {
    let algo = AlgorithmServer::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/algo/demo/Hello/0.1.0?timeout=30", algo.url());
    let r = http
        .post(&url)
        .header("authorization", "Simple k")
        .header("content-type", "application/json")
        .body(r#""World""#)
        .send()
        .await
        .unwrap();
    let r = webhook::read_reply(r).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"], json!("Hello World"));
    assert_eq!(r.json()["metadata"]["content_type"], json!("text"));
    let r = webhook::read_reply(
        http.post(format!("{}/v1/algo/demo/Hello", algo.url()))
            .header("content-type", "text/plain")
            .body("raw text")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.json()["result"], json!("Hello raw text"));

    algo.fail_when(
        |r| r.body_text().contains("poison"),
        Failure::AlgorithmError("bad input".into()),
    );
    algo.fail_when(
        |r| r.body_text().contains("crash"),
        Failure::Status(500, "internal".into()),
    );
    let r = webhook::read_reply(http.post(&url).body("poison").send().await.unwrap()).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": {"message": "bad input", "error_type": "AlgorithmError"}})
    );
    let r = webhook::read_reply(http.post(&url).body("crash").send().await.unwrap()).await;
    assert_eq!(r.status, 500);

    let reqs = algo.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].path, "/v1/algo/demo/Hello/0.1.0");
    assert_eq!(reqs[0].algorithm(), "demo/Hello/0.1.0");
    assert_eq!(reqs[0].query.as_deref(), Some("timeout=30"));
    assert_eq!(reqs[0].header("Authorization"), Some("Simple k"));
    assert_eq!(reqs[0].body.as_ref(), br#""World""#);
    assert_eq!(reqs[1].version, None);
    assert_eq!(algo.requests_with_body(b"poison").len(), 1);
}

#[tokio::test]
async fn moto_queues_redrive_and_restart_on_same_port() {
    let moto = Moto::start().await;
    let (q, dlq) = moto.create_queue_with_dlq("q", "q-dlq", 1, 2).await;
    assert!(q.url.ends_with("/123456789012/q"), "{}", q.url);
    assert_eq!(dlq.arn, "arn:aws:sqs:us-east-1:123456789012:q-dlq");
    moto.send_message(&q.url, "hello").await;
    assert_eq!(moto.queue_counts(&q.url).await.unwrap().visible, 1);

    // Lambda's event shape from real ReceiveMessage output.
    let msgs = moto.receive(&q.url, 1, 0).await.unwrap();
    assert_eq!(msgs.len(), 1);
    let ev = sqs_event(&msgs, &q.arn);
    let rec = &ev["Records"][0];
    assert_eq!(rec["body"], json!("hello"));
    assert_eq!(rec["eventSource"], json!("aws:sqs"));
    assert_eq!(rec["eventSourceARN"], json!(q.arn));
    assert_eq!(rec["awsRegion"], json!("us-east-1"));
    assert_eq!(rec["md5OfBody"], json!("5d41402abc4b2a76b9719d911017c592"));
    for attr in [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    ] {
        assert!(rec["attributes"][attr].is_string(), "{attr} missing: {rec}");
    }

    moto.stop().await;
    assert!(!moto.is_running().await);
    assert!(moto.queue_counts(&q.url).await.is_err());
    moto.restart().await;
    assert!(
        moto.queue_counts(&q.url).await.is_err(),
        "state must be gone after a restart"
    );
    let q2 = moto.create_queue("q", 1).await;
    assert_eq!(q2.url, q.url);
    assert_eq!(moto.queue_counts(&q.url).await.unwrap(), QueueCounts::default());
}

#[tokio::test]
async fn sqs_source_deletes_successes_and_redrives_failures() {
    let moto = Moto::start().await;
    let (q, dlq) = moto.create_queue_with_dlq("jobs", "jobs-dlq", 1, 2).await;
    let ok1 = moto.send_message(&q.url, "ok-1").await;
    let bad = moto.send_message(&q.url, "FAIL-2").await;
    let ok3 = moto.send_message(&q.url, "ok-3").await;

    let (api, f) = echo_function("echo-sqs").await;
    let source = SqsEventSource::start(moto.sqs().clone(), api.clone(), EventSourceConfig::new(&q.url));

    let dead = wait_for(DEADLINE, || async {
        let msgs = moto.receive(&dlq.url, 0, 0).await.ok()?;
        msgs.into_iter().next()
    })
    .await
    .unwrap_or_else(|| panic!("no message in the DLQ\n{}\n{}", source.summary(), f.report()));
    assert_eq!(dead.body(), Some("FAIL-2"));
    assert_eq!(dead.message_id(), Some(bad.as_str()));

    let empty = wait_for(DEADLINE, || async {
        (moto.queue_counts(&q.url).await.ok()?.total() == 0).then_some(())
    })
    .await;
    assert!(empty.is_some(), "queue not drained\n{}", source.summary());

    let first = &source.invocations()[0];
    assert_eq!(first.records.len(), 3, "{}", source.summary());
    assert_eq!(first.reported_failures(), std::slice::from_ref(&bad));
    let mut deleted = first.deleted.clone();
    deleted.sort();
    let mut expected = vec![ok1.clone(), ok3.clone()];
    expected.sort();
    assert_eq!(deleted, expected);

    let deliveries = source.deliveries_of(&bad);
    assert_eq!(
        deliveries.iter().map(|d| d.receive_count).collect::<Vec<_>>(),
        vec![1, 2],
        "{}",
        source.summary()
    );
    assert_eq!(source.deliveries_of(&ok1).len(), 1);
    assert_eq!(source.deliveries_of(&ok3).len(), 1);
}

#[tokio::test]
async fn sqs_source_fails_whole_batch_on_error_or_invalid_report() {
    let moto = Moto::start().await;
    let (q, dlq) = moto.create_queue_with_dlq("jobs", "jobs-dlq", 1, 1).await;
    let bogus = moto.send_message(&q.url, "BOGUS").await;
    let ok = moto.send_message(&q.url, "ok").await;

    let (api, _f) = echo_function("echo-sqs-bogus").await;
    let mut source = SqsEventSource::start(moto.sqs().clone(), api.clone(), EventSourceConfig::new(&q.url));
    // maxReceiveCount 1: both messages go to the DLQ since the batch failed as a whole.
    let moved = wait_for(DEADLINE, || async {
        let c = moto.queue_counts(&dlq.url).await.ok()?;
        (c.visible == 2).then_some(())
    })
    .await;
    assert!(moved.is_some(), "{}", source.summary());
    source.stop().await;
    let first = &source.invocations()[0];
    assert!(
        matches!(first.outcome, BatchOutcome::InvalidReport { .. }),
        "{}",
        source.summary()
    );
    assert!(first.deleted.is_empty());
    let ids: HashSet<String> = first.records.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(ids, [bogus, ok].into_iter().collect());

    // A function error deletes nothing either. (A fresh queue: the stopped source's abandoned
    // long poll may still take a message from the old one, as on SQS.)
    let q2 = moto.create_queue("jobs-2", 1).await;
    let crash = moto.send_message(&q2.url, "CRASH").await;
    let source = SqsEventSource::start(moto.sqs().clone(), api.clone(), EventSourceConfig::new(&q2.url));
    let inv = wait_for(DEADLINE, || async { source.invocations().into_iter().next() })
        .await
        .unwrap_or_else(|| panic!("not invoked\n{}", source.summary()));
    assert!(
        matches!(inv.outcome, BatchOutcome::Failed(InvokeError::Function { .. })),
        "{}",
        source.summary()
    );
    assert!(inv.deleted.is_empty());
    assert_eq!(inv.records[0].message_id, crash);
}

#[tokio::test]
async fn moto_s3_notifications_reach_sqs_url_encoded() {
    let moto = Moto::start().await;
    let q = moto.create_queue("s3-events", 5).await;
    moto.create_bucket("uploads").await;
    moto.notify_queue_on_object_created("uploads", &q.arn).await;
    moto.put_object("uploads", "my photo(1).jpg", b"jpeg".to_vec()).await;

    let mut keys = Vec::new();
    let mut test_events = 0;
    let deadline = std::time::Instant::now() + DEADLINE;
    while keys.is_empty() && std::time::Instant::now() < deadline {
        for m in moto.receive(&q.url, 1, 30).await.unwrap() {
            let v: Value = serde_json::from_str(m.body().unwrap_or("")).unwrap();
            if v["Event"] == json!("s3:TestEvent") {
                test_events += 1;
            }
            if let Some(k) = v["Records"][0]["s3"]["object"]["key"].as_str() {
                keys.push(k.to_string());
            }
        }
    }
    let found = (!keys.is_empty()).then_some(());
    assert!(
        found.is_some(),
        "no S3 notification in the queue\n{}",
        moto.logs().tail(30)
    );
    assert_eq!(keys, vec!["my+photo%281%29.jpg".to_string()]);
    assert_eq!(
        test_events, 1,
        "moto sends an s3:TestEvent when notifications are configured"
    );
}
