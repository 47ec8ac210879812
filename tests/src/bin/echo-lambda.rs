//! A tiny Lambda for the harness self-tests (lambda_runtime, like the real functions).
//!
//! - `ECHO_INIT_ERROR=<msg>`: post `<msg>` to `/runtime/init/error` and exit 2.
//! - SQS events (`Records[].eventSource == "aws:sqs"`): report records whose body contains
//!   `FAIL` in `batchItemFailures`; `CRASH` fails the invocation; `BOGUS` reports an id not in
//!   the batch.
//! - Function URL events (`requestContext` + `routeKey`), by `rawPath`: `/error` fails,
//!   `/plain` answers a JSON object without `statusCode`, `/binary` a base64 body, anything
//!   else `201` with the event as the body, a header and two cookies.
//! - Otherwise commands: `{"cmd": "echo"|"fail"|"sleep"|"exit"|"env"|"log"|"context", ...}`;
//!   any other payload is echoed back.

use std::time::Duration;

use base64::Engine as _;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    if let Ok(msg) = std::env::var("ECHO_INIT_ERROR") {
        let api = std::env::var("AWS_LAMBDA_RUNTIME_API")?;
        let body = json!({"errorType": "Runtime.ConfigError", "errorMessage": msg});
        let resp = reqwest::Client::new()
            .post(format!("http://{api}/2018-06-01/runtime/init/error"))
            .header("lambda-runtime-function-error-type", "Runtime.ConfigError")
            .json(&body)
            .send()
            .await?;
        eprintln!(
            "echo-lambda: init failed: {msg} (runtime API answered {})",
            resp.status()
        );
        std::process::exit(2);
    }
    println!(
        "echo-lambda starting (function {})",
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default()
    );
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, ctx) = event.into_parts();
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        if records
            .iter()
            .all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
        {
            return sqs(records);
        }
    }
    if payload.get("requestContext").is_some() && payload.get("routeKey").is_some() {
        return http(payload);
    }
    let cmd = payload.get("cmd").and_then(Value::as_str).unwrap_or("");
    match cmd {
        "echo" => Ok(payload.get("value").cloned().unwrap_or(Value::Null)),
        "fail" => Err(payload
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("failed on request")
            .into()),
        "sleep" => {
            let ms = payload.get("ms").and_then(Value::as_u64).unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({"slept": ms, "pid": std::process::id()}))
        }
        "exit" => {
            let code = payload.get("code").and_then(Value::as_i64).unwrap_or(3) as i32;
            eprintln!("echo-lambda: exiting with {code} on request");
            std::process::exit(code);
        }
        "env" => {
            let name = payload.get("name").and_then(Value::as_str).unwrap_or("");
            Ok(std::env::var(name).map(Value::String).unwrap_or(Value::Null))
        }
        "log" => {
            let msg = payload.get("message").and_then(Value::as_str).unwrap_or("");
            println!("stdout: {msg}");
            eprintln!("stderr: {msg}");
            Ok(Value::Null)
        }
        "context" => Ok(json!({
            "request_id": ctx.request_id,
            "deadline": ctx.deadline,
            "invoked_function_arn": ctx.invoked_function_arn,
            "xray_trace_id": ctx.xray_trace_id,
            "function_name": ctx.env_config.function_name,
            "memory": ctx.env_config.memory,
            "version": ctx.env_config.version,
            "log_group": ctx.env_config.log_group,
            "log_stream": ctx.env_config.log_stream,
        })),
        _ => Ok(payload),
    }
}

fn sqs(records: &[Value]) -> Result<Value, Error> {
    let mut failures = Vec::new();
    for r in records {
        let body = r.get("body").and_then(Value::as_str).unwrap_or("");
        let id = r.get("messageId").and_then(Value::as_str).unwrap_or("");
        if body.contains("CRASH") {
            return Err(format!("crash requested by message {id}").into());
        }
        if body.contains("BOGUS") {
            failures.push(json!({"itemIdentifier": "not-in-this-batch"}));
        }
        if body.contains("FAIL") {
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    Ok(json!({"batchItemFailures": failures}))
}

fn http(event: Value) -> Result<Value, Error> {
    let path = event.get("rawPath").and_then(Value::as_str).unwrap_or("/");
    match path {
        "/error" => Err("boom".into()),
        "/plain" => Ok(json!({"hello": "world"})),
        "/binary" => Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "body": base64::engine::general_purpose::STANDARD.encode([0u8, 159, 146, 150]),
            "isBase64Encoded": true,
        })),
        _ => Ok(json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-echo": "yes"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": event.to_string(),
            "isBase64Encoded": false,
        })),
    }
}
