//! Per-request measurements: the first invocation after init (a TLS handshake to a private-CA
//! algorithm server, hookrelay's worker against a Python worker) and the ingress's warm overhead
//! against an instant SQS stub.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, Uri, Version};
use axum::Router;
use hookrelay_e2e::function::binary;
use hookrelay_e2e::function_url::{build_event, EventInput};
use hookrelay_e2e::{github_signature, AlgorithmServer, FunctionConfig, FunctionProcess, PrivateCa, RuntimeApi};
use serde_json::{json, Value};

use crate::events::{failures, sqs_batch};
use crate::{config_toml, function_binary, SECRET};

const READY: Duration = Duration::from_secs(30);
const INVOKE: Duration = Duration::from_secs(60);
/// Queue URLs the measured paths never call (the worker's success path makes no SQS call).
const NOWHERE: &str = "http://127.0.0.1:9";

/// First invocation after init, milliseconds, per run.
pub struct FirstCalls {
    pub rust: Vec<f64>,
    /// With `[worker] warm_up = true`: the handshake happened during init.
    pub rust_warmed_up: Vec<f64>,
    pub python: Option<Vec<f64>>,
}

/// Which worker a run measures.
#[derive(Clone, Copy)]
enum Worker<'a> {
    Rust { warm_up: bool },
    Python { interpreter: &'a Path, dir: &'a Path },
}

/// A worker process waiting for its first event; `worker.py` under awslambdaric when `python` is
/// given, else the release `worker` binary.
async fn ready_worker(
    api: &RuntimeApi,
    algo: &AlgorithmServer,
    ca: &PrivateCa,
    worker: Worker<'_>,
) -> Result<FunctionProcess, String> {
    let common = [
        ("SSL_CERT_FILE", ca.cert_file().display().to_string()),
        ("ALGO_API_KEY", "simBenchKey".to_string()),
        ("HOOKRELAY_DLQ_URL", format!("{NOWHERE}/123456789012/jobs-dlq")),
        ("HOOKRELAY_QUEUE_URL", format!("{NOWHERE}/123456789012/jobs")),
        ("AWS_ENDPOINT_URL", NOWHERE.to_string()),
    ];
    let config = match worker {
        Worker::Rust { warm_up } => FunctionConfig::new("worker", function_binary("worker")).env(
            "HOOKRELAY_CONFIG",
            // The config ends in its [worker] table.
            format!("{}warm_up = {warm_up}\n", config_toml(&algo.url(), 10)),
        ),
        Worker::Python { interpreter, dir } => FunctionConfig::new("python-worker", interpreter)
            .args(["-m", "awslambdaric", "worker.handler"])
            .current_dir(dir)
            .env("ALGO_URL", algo.url())
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    }
    .envs(common);
    let process = FunctionProcess::spawn(api, config).await;
    process
        .wait_ready(READY)
        .await
        .map_err(|e| format!("{e}\n{}", process.report()))?;
    Ok(process)
}

async fn first_call(algo: &AlgorithmServer, ca: &PrivateCa, worker: Worker<'_>) -> Result<f64, String> {
    let api = RuntimeApi::start("first-call").await;
    let process = ready_worker(&api, algo, ca, worker).await?;
    let event = sqs_batch(1);
    let started = Instant::now();
    let response = api
        .invoke(event, INVOKE)
        .await
        .map_err(|e| format!("{e}\n{}", process.report()))?;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    process.kill().await;
    if failures(&response) != 0 {
        return Err(format!("first invocation failed: {response}\n{}", process.report()));
    }
    Ok(took)
}

/// `runs` fresh processes of each, interleaved; each timed from the first event to its response.
pub async fn first_invocations(runs: usize, python: Option<(PathBuf, PathBuf)>) -> Result<FirstCalls, String> {
    let ca = PrivateCa::new();
    let algo = AlgorithmServer::start_tls(&ca).await;
    let python = python
        .as_ref()
        .map(|(interpreter, dir)| Worker::Python { interpreter, dir });
    let (cold, warmed_up) = (Worker::Rust { warm_up: false }, Worker::Rust { warm_up: true });
    let mut out = FirstCalls {
        rust: Vec::with_capacity(runs),
        rust_warmed_up: Vec::with_capacity(runs),
        python: python.map(|_| Vec::with_capacity(runs)),
    };
    // One untimed run of each (page cache, .pyc-less imports warmed by the OS).
    let workers: Vec<Worker> = [Some(cold), Some(warmed_up), python].into_iter().flatten().collect();
    for &worker in &workers {
        first_call(&algo, &ca, worker).await?;
    }
    for _ in 0..runs {
        out.rust.push(first_call(&algo, &ca, cold).await?);
        out.rust_warmed_up.push(first_call(&algo, &ca, warmed_up).await?);
        if let (Some(samples), Some(python)) = (out.python.as_mut(), python) {
            samples.push(first_call(&algo, &ca, python).await?);
        }
    }
    let calls = algo.requests().len();
    let expected = (1 + runs) * workers.len();
    if calls != expected {
        return Err(format!("the algorithm saw {calls} calls, expected {expected}"));
    }
    let warm_ups = algo.stray_requests().len();
    if warm_ups != 1 + runs {
        return Err(format!(
            "expected {} warm-up requests, the algorithm saw {warm_ups}",
            1 + runs
        ));
    }
    Ok(out)
}

/// Answers every SQS JSON-protocol call at once with a SendMessage result.
async fn instant_sqs() -> (String, tokio::task::AbortHandle) {
    async fn send_message() -> ([(&'static str, &'static str); 1], String) {
        let body = json!({
            "MessageId": uuid::Uuid::new_v4().to_string(),
            "MD5OfMessageBody": "00000000000000000000000000000000",
        });
        ([("content-type", "application/x-amz-json-1.0")], body.to_string())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the SQS stub");
    let url = format!("http://{}", listener.local_addr().expect("local_addr"));
    let app = Router::new().fallback(send_message);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task.abort_handle())
}

/// A signed 1 KiB GitHub delivery as a function URL event (payload format 2.0).
fn webhook_event() -> Value {
    let body = json!({"ref": "refs/heads/main", "zen": "Mind your words, they are important.", "pad": "x".repeat(940)})
        .to_string();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("content-type", "application/json".to_string()),
        ("x-github-event", "push".to_string()),
        ("x-github-delivery", "bench-warm".to_string()),
        ("x-hub-signature-256", github_signature(SECRET, body.as_bytes())),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("header"));
    }
    let uri: Uri = "/hooks/github".parse().expect("uri");
    build_event(&EventInput {
        method: &Method::POST,
        uri: &uri,
        version: Version::HTTP_11,
        headers: &headers,
        body: body.as_bytes(),
        source_ip: "127.0.0.1",
        api_id: "bench",
        request_id: "bench-warm",
    })
}

pub struct WarmOverhead {
    pub ingress: Vec<f64>,
    pub floor: Vec<f64>,
    /// One SendMessage of the same envelope size to the stub, through the SQS client the
    /// functions build (hookrelay::startup), from this process.
    pub send_message: Vec<f64>,
}

/// The functions' own SQS client, pointed at `endpoint`.
async fn functions_sqs_client(endpoint: &str) -> Result<aws_sdk_sqs::Client, String> {
    let http = hookrelay::foundation::sdk_http::http_client().map_err(|e| e.to_string())?;
    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .endpoint_url(endpoint)
        .load()
        .await;
    Ok(hookrelay::startup::sqs_client(&sdk_config))
}

/// Warm ingress requests against an instant SQS stub, and the same event through `echo-lambda`
/// (the harness and Runtime API round trip), interleaved in blocks.
pub async fn warm_overhead(requests: usize) -> Result<WarmOverhead, String> {
    let (sqs_url, stub) = instant_sqs().await;
    let ingress_api = RuntimeApi::start("ingress").await;
    let ingress = FunctionProcess::spawn(
        &ingress_api,
        FunctionConfig::new("ingress", function_binary("ingress")).envs([
            ("HOOKRELAY_CONFIG", config_toml(NOWHERE, 10)),
            ("HOOKRELAY_QUEUE_URL", format!("{sqs_url}/123456789012/jobs")),
            ("AWS_ENDPOINT_URL", sqs_url.clone()),
            ("ALGO_API_KEY", "simBenchKey".into()),
            ("GITHUB_WEBHOOK_SECRET", SECRET.into()),
            ("STRIPE_WEBHOOK_SECRET", "whsec_bench".into()),
        ]),
    )
    .await;
    let echo_api = RuntimeApi::start("echo-lambda").await;
    let echo = FunctionProcess::spawn(&echo_api, FunctionConfig::new("echo-lambda", binary("echo-lambda"))).await;
    for p in [&ingress, &echo] {
        p.wait_ready(READY).await.map_err(|e| format!("{e}\n{}", p.report()))?;
    }
    let event = webhook_event();
    let sqs = functions_sqs_client(&sqs_url).await?;
    let queue_url = format!("{sqs_url}/123456789012/jobs");
    // About the size of the ingress's envelope for this event.
    let message =
        json!({"v": 1, "payload": {"text": event["body"].as_str().unwrap_or_default()}, "pad": "x".repeat(300)})
            .to_string();
    let mut out = WarmOverhead {
        ingress: Vec::with_capacity(requests),
        floor: Vec::with_capacity(requests),
        send_message: Vec::with_capacity(requests),
    };
    const BLOCK: usize = 100;
    let warm_up = BLOCK;
    let mut done = 0;
    while done < requests + warm_up {
        for (api, process, into, expect) in [
            (&ingress_api, &ingress, &mut out.ingress, 200),
            (&echo_api, &echo, &mut out.floor, 201),
        ] {
            for _ in 0..BLOCK {
                let started = Instant::now();
                let response = api
                    .invoke(event.clone(), INVOKE)
                    .await
                    .map_err(|e| format!("{e}\n{}", process.report()))?;
                let took = started.elapsed().as_secs_f64() * 1000.0;
                if response["statusCode"] != json!(expect) {
                    return Err(format!("{}: {response}\n{}", process.name(), process.report()));
                }
                if done >= warm_up {
                    into.push(took);
                }
            }
        }
        for _ in 0..BLOCK {
            let started = Instant::now();
            sqs.send_message()
                .queue_url(&queue_url)
                .message_body(&message)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "SendMessage to the stub: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(e)
                    )
                })?;
            if done >= warm_up {
                out.send_message.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        done += BLOCK;
    }
    ingress.kill().await;
    echo.kill().await;
    stub.abort();
    Ok(out)
}
