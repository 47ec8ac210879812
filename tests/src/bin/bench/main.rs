//! `make bench`: process-level measurements of the release binaries, written to BENCHMARKS.md.
//!
//! 1. Cold start: process spawn → the first `GET /2018-06-01/runtime/invocation/next` on a
//!    loopback listener, for each function with a real config, a minimal `lambda_runtime` floor
//!    (`echo-lambda`) and a Python relay under awslambdaric. Runs are interleaved.
//! 2. First invocation after init: a fresh `worker` (and a Python worker under awslambdaric)
//!    calling an HTTPS algorithm server with a private CA: the first TLS handshake included.
//! 3. Ingress warm overhead: warm requests against an instant SQS stub, minus `echo-lambda`'s
//!    Runtime API round trip (latency.rs).
//! 4. Ingress hot path: read from criterion's output (`cargo bench -p hookrelay --bench hot_path`).
//! 5. Worker concurrency: the real `worker` binary under the harness's Runtime API, calling the
//!    harness's algorithm server with 200 ms per call.
//! 6. Footprint: `VmHWM` after N invocations through the harness (moto for SQS), binary and zip
//!    sizes.
//!
//! Settings (environment): `BENCH_RUNS` (cold start runs per binary, default 30),
//! `BENCH_INVOCATIONS` (default 1000), `BENCH_WARM_REQUESTS` (default 2000), `BENCH_PYTHON` (python with awslambdaric and boto3; default
//! `target/bench-py/bin/python`), `BENCH_OUT` (default `BENCHMARKS.md`), `BENCH_CRITERION_DIR`
//! (default `target/criterion`), `BENCH_LAMBDA_DIR` (default `target/lambda`), `BENCH_NOTES`
//! (a markdown file appended verbatim, default `bench/NOTES.md`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hookrelay_e2e::function::binary;
use hookrelay_e2e::{
    github_signature, AlgorithmServer, FunctionConfig, FunctionProcess, FunctionUrl, FunctionUrlConfig, Moto,
    RuntimeApi,
};
use serde_json::{json, Value};

mod latency;

const SECRET: &str = "It's a Secret to Everybody";

/// Where the measured function binaries are: `BENCH_FUNCTION_DIR` (`make bench` builds them there
/// with only the functions' own features, as cargo-lambda builds what is deployed; a workspace
/// build would unify in the test harness's features), else the workspace binaries.
fn function_dir() -> PathBuf {
    std::env::var_os("BENCH_FUNCTION_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(hookrelay_e2e::function::bin_dir)
}

fn function_binary(name: &str) -> PathBuf {
    function_dir().join(name)
}

/// Whether a function binary has been built (a part whose binary is missing is reported, not run).
fn built(name: &str) -> bool {
    function_binary(name).is_file()
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

// ---- statistics ---------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Stats {
    n: usize,
    median: f64,
    p25: f64,
    p75: f64,
    min: f64,
    max: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn stats(samples: &[f64]) -> Stats {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Stats {
        n: s.len(),
        median: quantile(&s, 0.5),
        p25: quantile(&s, 0.25),
        p75: quantile(&s, 0.75),
        min: s[0],
        max: s[s.len() - 1],
    }
}

fn ms(st: &Stats) -> String {
    format!("{:.2} ms", st.median)
}

fn spread(st: &Stats) -> String {
    format!(
        "IQR {:.2}–{:.2}, min–max {:.2}–{:.2} (n={})",
        st.p25, st.p75, st.min, st.max, st.n
    )
}

// ---- 1. cold start ------------------------------------------------------------------------------

/// One way to start a Lambda process: program, args, environment, working directory.
#[derive(Clone)]
struct Launch {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
}

fn lambda_env(function_name: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]bench"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("TZ", ":UTC"),
        // Never reached at init; SendMessage is not part of a cold start.
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("HOOKRELAY_QUEUE_URL", "http://127.0.0.1:9/123456789012/jobs"),
        ("HOOKRELAY_DLQ_URL", "http://127.0.0.1:9/123456789012/jobs-dlq"),
        ("GITHUB_WEBHOOK_SECRET", SECRET),
        ("STRIPE_WEBHOOK_SECRET", "whsec_bench"),
        ("ALGO_API_KEY", "simBenchKey"),
    ] {
        env.insert(k.to_string(), v.to_string());
    }
    if let Some(path) = std::env::var_os("PATH") {
        env.insert("PATH".into(), path.to_string_lossy().into_owned());
    }
    env
}

/// The config each function reads at cold start: two routes, secrets from the environment, an
/// API key, S3 settings.
fn config_toml(algo_base: &str, concurrency: u32) -> String {
    format!(
        r#"
[downstream]
base_url = "{algo_base}"
api_key = "env:ALGO_API_KEY"
timeout_secs = 30

[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/stripe"
verify = "stripe"
secrets = ["env:STRIPE_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
filter = {{ body = {{ type = [{{ prefix = "invoice." }}] }} }}

[s3]
algorithm = "demo/Hello/0.1.0"

[worker]
concurrency = {concurrency}
"#
    )
}

fn rust_launch(name: &str, config: &str) -> Launch {
    let mut env = lambda_env(name);
    env.insert("HOOKRELAY_CONFIG".into(), config.to_string());
    Launch {
        name: name.to_string(),
        program: if name == "echo-lambda" {
            binary(name)
        } else {
            function_binary(name)
        },
        args: vec![],
        env,
        cwd: None,
    }
}

/// Spawn → first `GET .../invocation/next`. The listener is std and blocking, in its own thread,
/// so nothing in this process competes with the child for the CPU while it starts.
fn cold_start_once(launch: &Launch) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel::<Result<Instant, String>>();
    let acceptor = std::thread::spawn(move || {
        let result = (|| {
            let (mut stream, _) = listener.accept().map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed before a request".to_string());
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(2).any(|w| w == b"\r\n") {
                    let at = Instant::now();
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.lines().next().unwrap_or("");
                    return if line.starts_with("GET /2018-06-01/runtime/invocation/next") {
                        Ok(at)
                    } else {
                        Err(format!("first request was {line:?}"))
                    };
                }
            }
        })();
        let _ = tx.send(result);
    });
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .env_clear()
        .envs(&launch.env)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(dir) = &launch.cwd {
        cmd.current_dir(dir);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", launch.program.display()))?;
    let got = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let status = child.wait();
    if got.is_err() {
        // Unblock the acceptor.
        let _ = std::net::TcpStream::connect(addr);
    }
    let _ = acceptor.join();
    match got {
        Ok(Ok(at)) => Ok(at.duration_since(start).as_secs_f64() * 1000.0),
        Ok(Err(e)) => Err(format!("{}: {e} (exit {status:?})", launch.name)),
        Err(_) => Err(format!("{}: no /next within 20 s (exit {status:?})", launch.name)),
    }
}

fn cold_starts(launches: &[Launch], runs: usize) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    // Warm the page cache and check each one works before timing anything.
    for l in launches {
        cold_start_once(l)?;
    }
    for run in 0..runs {
        // Interleaved, and the order rotates so no binary always follows the same one.
        for i in 0..launches.len() {
            let l = &launches[(i + run) % launches.len()];
            let t = cold_start_once(l)?;
            out.entry(l.name.clone()).or_default().push(t);
        }
    }
    Ok(out)
}

// ---- 3. worker concurrency ----------------------------------------------------------------------

fn envelope_json(i: usize) -> String {
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

fn sqs_batch(n: usize) -> Value {
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

async fn invoke_ok(api: &RuntimeApi, payload: Value) -> Result<Value, String> {
    let out = api
        .invoke(payload, Duration::from_secs(120))
        .await
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn failures(response: &Value) -> usize {
    response
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

struct WorkerResult {
    one: Vec<f64>,
    ten: Vec<f64>,
    hundred: Vec<f64>,
}

async fn worker_concurrency(moto: &Moto, runs: usize) -> Result<WorkerResult, String> {
    let algo = AlgorithmServer::start().await;
    algo.delay_when(|_| true, Duration::from_millis(200));
    let dlq = moto.create_queue("bench-worker-dlq", 30).await;
    let queue = moto.create_queue("bench-worker-jobs", 30).await;
    let api = RuntimeApi::start("worker").await;
    let config = FunctionConfig::new("worker", function_binary("worker")).envs([
        ("HOOKRELAY_CONFIG", config_toml(&algo.url(), 10)),
        ("HOOKRELAY_DLQ_URL", dlq.url.clone()),
        ("HOOKRELAY_QUEUE_URL", queue.url.clone()),
        ("AWS_ENDPOINT_URL", moto.endpoint_url()),
        ("ALGO_API_KEY", "simBenchKey".into()),
    ]);
    let worker = FunctionProcess::spawn(&api, config).await;
    worker
        .wait_ready(Duration::from_secs(30))
        .await
        .map_err(|e| format!("{e}\n{}", worker.report()))?;
    // One warm-up batch (connection pool, first allocation).
    invoke_ok(&api, sqs_batch(10)).await?;
    let mut r = WorkerResult {
        one: vec![],
        ten: vec![],
        hundred: vec![],
    };
    for _ in 0..runs {
        for (n, into) in [(1, &mut r.one), (10, &mut r.ten), (100, &mut r.hundred)] {
            let event = sqs_batch(n);
            let t = Instant::now();
            let resp = invoke_ok(&api, event).await?;
            let took = t.elapsed().as_secs_f64() * 1000.0;
            if failures(&resp) != 0 {
                return Err(format!("worker reported failures: {resp}\n{}", worker.report()));
            }
            into.push(took);
        }
    }
    worker.kill().await;
    Ok(r)
}

// ---- 4. footprint -------------------------------------------------------------------------------

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

struct Footprint {
    name: String,
    invocations: usize,
    hwm_kib: u64,
    rss_kib: u64,
    per_invocation_ms: Stats,
}

async fn footprints(moto: &Moto, invocations: usize, missing: &[&str]) -> Result<Vec<Footprint>, String> {
    let algo = AlgorithmServer::start().await;
    let dlq = moto.create_queue("bench-fp-dlq", 30).await;
    let mut out = Vec::new();
    for name in ["ingress", "s3-relay", "worker"] {
        if missing.contains(&name) {
            continue;
        }
        // A fresh queue per function: moto's SendMessage slows as a queue fills.
        let queue = moto.create_queue(&format!("bench-fp-{name}"), 30).await;
        let api = RuntimeApi::start(name).await;
        let config = FunctionConfig::new(name, function_binary(name)).envs([
            ("HOOKRELAY_CONFIG", config_toml(&algo.url(), 10)),
            ("HOOKRELAY_DLQ_URL", dlq.url.clone()),
            ("HOOKRELAY_QUEUE_URL", queue.url.clone()),
            ("AWS_ENDPOINT_URL", moto.endpoint_url()),
            ("ALGO_API_KEY", "simBenchKey".into()),
            ("GITHUB_WEBHOOK_SECRET", SECRET.into()),
            ("STRIPE_WEBHOOK_SECRET", "whsec_bench".into()),
            // INFO logs go to a pipe the harness drains; keep them, as on Lambda.
        ]);
        let process = FunctionProcess::spawn(&api, config).await;
        process
            .wait_ready(Duration::from_secs(30))
            .await
            .map_err(|e| format!("{e}\n{}", process.report()))?;
        let pid = process.pid().ok_or("no pid")?;
        let mut times = Vec::with_capacity(invocations);
        match name {
            "ingress" => {
                let url = FunctionUrl::start(api.clone(), FunctionUrlConfig::default()).await;
                let client = reqwest::Client::new();
                let body =
                    json!({"ref": "refs/heads/main", "zen": "Keep it logically awesome.", "pad": "x".repeat(900)})
                        .to_string();
                let sig = github_signature(SECRET, body.as_bytes());
                for i in 0..invocations {
                    let t = Instant::now();
                    let resp = client
                        .post(format!("{}/hooks/github", url.url()))
                        .header("content-type", "application/json")
                        .header("x-github-event", "push")
                        .header("x-github-delivery", format!("bench-{i}"))
                        .header("x-hub-signature-256", &sig)
                        .body(body.clone())
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    if !status.is_success() {
                        return Err(format!("ingress answered {status}: {text}\n{}", process.report()));
                    }
                }
            }
            "s3-relay" => {
                for i in 0..invocations {
                    let event = s3_event(&format!("uploads/object-{i}.bin"), i);
                    let t = Instant::now();
                    let resp = invoke_ok(&api, event)
                        .await
                        .map_err(|e| format!("{e}\n{}", process.report()))?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    if failures(&resp) != 0 {
                        return Err(format!("s3-relay: {resp}"));
                    }
                }
            }
            _ => {
                for _ in 0..invocations {
                    let event = sqs_batch(1);
                    let t = Instant::now();
                    let resp = invoke_ok(&api, event)
                        .await
                        .map_err(|e| format!("{e}\n{}", process.report()))?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    if failures(&resp) != 0 {
                        return Err(format!("worker: {resp}"));
                    }
                }
            }
        }
        let hwm = proc_status_kib(pid, "VmHWM:").ok_or("no VmHWM")?;
        let rss = proc_status_kib(pid, "VmRSS:").ok_or("no VmRSS")?;
        process.kill().await;
        out.push(Footprint {
            name: name.to_string(),
            invocations,
            hwm_kib: hwm,
            rss_kib: rss,
            per_invocation_ms: stats(&times),
        });
    }
    Ok(out)
}

fn s3_event(key: &str, i: usize) -> Value {
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

// ---- 2. criterion results -----------------------------------------------------------------------

/// (median ns, lower, upper of its 95% confidence interval) from criterion's estimates.json.
fn criterion_median(dir: &Path, group: &str, case: &str) -> Option<(f64, f64, f64)> {
    let text = std::fs::read_to_string(dir.join(group).join(case).join("new/estimates.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let m = v.get("median")?;
    Some((
        m["point_estimate"].as_f64()?,
        m["confidence_interval"]["lower_bound"].as_f64()?,
        m["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

fn us(ns: f64) -> String {
    format!("{:.2} µs", ns / 1000.0)
}

// ---- machine ------------------------------------------------------------------------------------

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or("?".into(), |kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0));
    format!(
        "{cpu}, {cores} cores, {mem} RAM, Linux {}, {}",
        command_line("uname", &["-r"]),
        command_line("rustc", &["--version"])
    )
}

/// `/proc/loadavg`'s 1-minute figure: how busy the machine was around the measurements.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// When a file was last written, UTC, for telling a fresh zip from a stale one.
fn modified(path: &Path) -> Option<String> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(
        chrono::DateTime::<chrono::Utc>::from(t)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
    )
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

// ---- main ---------------------------------------------------------------------------------------

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let root = hookrelay_e2e::util::workspace_root();
    let runs: usize = env_or("BENCH_RUNS", "30").parse().map_err(|_| "BENCH_RUNS")?;
    let invocations: usize = env_or("BENCH_INVOCATIONS", "1000")
        .parse()
        .map_err(|_| "BENCH_INVOCATIONS")?;
    let python = root.join(env_or("BENCH_PYTHON", "target/bench-py/bin/python"));
    let out_path = root.join(env_or("BENCH_OUT", "BENCHMARKS.md"));
    let criterion_dir = root.join(env_or("BENCH_CRITERION_DIR", "target/criterion"));
    let lambda_dir = root.join(env_or("BENCH_LAMBDA_DIR", "target/lambda"));
    let notes = root.join(env_or("BENCH_NOTES", "bench/NOTES.md"));
    let started = chrono::Utc::now();
    let load_before = load_average();

    // 1. cold start
    eprintln!("bench: cold start, {runs} interleaved runs each");
    let config = config_toml("http://127.0.0.1:9", 10);
    let mut hello = rust_launch("echo-lambda", &config);
    hello.env.remove("HOOKRELAY_CONFIG");
    let mut launches = vec![hello];
    let mut missing = Vec::new();
    for name in ["ingress", "s3-relay", "worker"] {
        if built(name) {
            launches.push(rust_launch(name, &config));
        } else {
            eprintln!("bench: {name} is not built; BENCHMARKS.md reports it as not measured");
            missing.push(name);
        }
    }
    let python_ok = python.is_file()
        && Command::new(&python)
            .args(["-c", "import awslambdaric, boto3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if python_ok {
        let mut env = lambda_env("python-relay");
        env.insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
        launches.push(Launch {
            name: "python-relay".into(),
            program: python.clone(),
            args: vec!["-m".into(), "awslambdaric".into(), "relay.handler".into()],
            env,
            cwd: Some(root.join("bench/python")),
        });
    } else {
        eprintln!(
            "bench: {} has no awslambdaric/boto3; Python baseline skipped",
            python.display()
        );
    }
    let cold = cold_starts(&launches, runs)?;
    let cold_stats: BTreeMap<String, Stats> = cold.iter().map(|(k, v)| (k.clone(), stats(v))).collect();

    // 2 and 3: per-request latency
    let first_runs = (runs / 2).max(5);
    eprintln!("bench: first invocation after init over TLS, {first_runs} runs each");
    let first = match built("worker") {
        true => Some(
            latency::first_invocations(
                first_runs,
                python_ok.then(|| (python.clone(), root.join("bench/python"))),
            )
            .await?,
        ),
        false => None,
    };
    let warm_requests: usize = env_or("BENCH_WARM_REQUESTS", "2000")
        .parse()
        .map_err(|_| "BENCH_WARM_REQUESTS")?;
    eprintln!("bench: ingress warm overhead, {warm_requests} requests against an instant SQS stub");
    let warm = match built("ingress") {
        true => Some(latency::warm_overhead(warm_requests).await?),
        false => None,
    };

    // 5 and 6 need moto
    eprintln!("bench: worker concurrency and footprint (moto, harness Runtime API)");
    let moto = Moto::start().await;
    let worker_runs = (runs / 3).max(5);
    let worker = match built("worker") {
        true => Some(worker_concurrency(&moto, worker_runs).await?),
        false => None,
    };
    eprintln!("bench: footprint, {invocations} invocations each");
    let fps = footprints(&moto, invocations, &missing).await?;
    moto.stop().await;
    let load_after = load_average();

    // ---- report ----
    let mut md = String::new();
    let w = &mut md;
    writeln!(w, "# Benchmarks").unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "Written by `make bench` ({}). Machine: {}. Release profile as in the root `Cargo.toml`. \
         Numbers are from this one machine and run; compare ratios, not absolute times. \
         1-minute load average before/after the process-level runs: {load_before}/{load_after}.",
        started.format("%Y-%m-%d %H:%M UTC"),
        machine()
    )
    .unwrap();
    writeln!(w).unwrap();

    // 1
    writeln!(
        w,
        "## 1. Cold start: process spawn → first `GET /runtime/invocation/next`\n"
    )
    .unwrap();
    writeln!(
        w,
        "Each binary is spawned with a clean Lambda environment and its real config (two routes, secrets \
         from `env:`, API key, S3 settings; SDK clients built) and timed until its first request line \
         reaches a blocking loopback listener. {runs} runs each, interleaved with rotating order, after \
         one untimed warm-up run each. Floor: `echo-lambda` (a minimal `lambda_runtime` function, \
         tests/src/bin/echo-lambda.rs). Python: bench/python/relay.py (HMAC check, boto3 SQS client \
         at import) under awslambdaric{}.\n",
        if python_ok {
            ""
        } else {
            " — **not run: awslambdaric/boto3 not installed**"
        }
    )
    .unwrap();
    writeln!(w, "| binary | median | spread (ms) | vs floor | Python ÷ this |").unwrap();
    writeln!(w, "|---|---|---|---|---|").unwrap();
    let floor = cold_stats.get("echo-lambda").map(|s| s.median);
    let py = cold_stats.get("python-relay").map(|s| s.median);
    for name in ["echo-lambda", "ingress", "s3-relay", "worker", "python-relay"] {
        if let Some(st) = cold_stats.get(name) {
            writeln!(
                w,
                "| {name} | {} | {} | {} | {} |",
                ms(st),
                spread(st),
                floor.map_or("—".into(), |f| format!("{:.2}x", st.median / f)),
                py.map_or("—".into(), |p| format!("{:.1}x", p / st.median)),
            )
            .unwrap();
        }
    }
    for name in &missing {
        writeln!(w, "| {name} | **not measured: binary not built** | | | |").unwrap();
    }
    writeln!(w).unwrap();
    for name in ["ingress", "s3-relay", "worker"] {
        if let (Some(st), Some(f)) = (cold_stats.get(name), floor) {
            let r = st.median / f;
            write!(w, "- {name}: {:.2}x the floor (goal ≤ 1.5x: {})", r, verdict(r <= 1.5)).unwrap();
            if let Some(p) = py {
                let x = p / st.median;
                write!(w, "; {:.1}x faster than Python (goal ≥ 30x: {})", x, verdict(x >= 30.0)).unwrap();
            }
            writeln!(w).unwrap();
        }
    }
    writeln!(w).unwrap();

    // 2
    writeln!(w, "## 2. First invocation after init, with a TLS handshake\n").unwrap();
    writeln!(
        w,
        "A fresh worker process per run, trusting a private CA through `SSL_CERT_FILE`; once it polls \
         `/next`, one SQS record is invoked and timed until the function's response. The call goes to an \
         HTTPS algorithm server on loopback (the harness's, certificate signed by that CA), so the time \
         includes the process's first TLS handshake. Python: bench/python/worker.py (urllib3 pool and a \
         boto3 SQS client built at import) under awslambdaric, same server, same CA. {first_runs} runs each, \
         interleaved, after one untimed run each. The warm-up row is the same worker with `[worker] \
         warm_up = true`: it opens its connection during init (a HEAD of the base URL), so the handshake \
         is in its init, which section 1 does not time, instead of here.\n"
    )
    .unwrap();
    match &first {
        None => writeln!(w, "**Not measured**: the `worker` binary was not built.\n").unwrap(),
        Some(first) => {
            let rust = stats(&first.rust);
            writeln!(w, "| worker | median | spread (ms) |").unwrap();
            writeln!(w, "|---|---|---|").unwrap();
            writeln!(w, "| hookrelay `worker` | {} | {} |", ms(&rust), spread(&rust)).unwrap();
            let warmed = stats(&first.rust_warmed_up);
            writeln!(
                w,
                "| hookrelay `worker` with `[worker] warm_up = true` (handshake during init) | {} | {} |",
                ms(&warmed),
                spread(&warmed)
            )
            .unwrap();
            match &first.python {
                Some(py) => {
                    let py = stats(py);
                    writeln!(w, "| Python worker.py | {} | {} |\n", ms(&py), spread(&py)).unwrap();
                    writeln!(
                        w,
                        "- hookrelay's first invocation takes {:.2}x Python's (goal ≤ 1x: {})\n",
                        rust.median / py.median,
                        verdict(rust.median <= py.median)
                    )
                    .unwrap();
                }
                None => writeln!(w, "\n**Python baseline not run**: awslambdaric/boto3 not installed.\n").unwrap(),
            }
        }
    }

    // 3
    writeln!(w, "## 3. Ingress warm overhead\n").unwrap();
    writeln!(
        w,
        "Warm requests invoked straight through the harness's Runtime API (no HTTP gateway): a signed 1 KiB \
         GitHub delivery as a function URL event, to the release `ingress` whose SQS endpoint is an instant \
         stub on loopback (it answers every call at once), and the same event to `echo-lambda`, which only \
         echoes it: the Runtime API round trip. Blocks of 100, interleaved (with a block of SendMessage \
         calls from the runner to the same stub through the functions' own SQS client), after 100 of \
         each to warm up. Ingress minus echo is hookrelay's time per request with the SQS call; minus \
         the SendMessage median, outside it.\n"
    )
    .unwrap();
    match &warm {
        None => writeln!(w, "**Not measured**: the `ingress` binary was not built.\n").unwrap(),
        Some(warm) => {
            let (ing, floor, send) = (stats(&warm.ingress), stats(&warm.floor), stats(&warm.send_message));
            writeln!(w, "| measured | median per request | spread (ms) |").unwrap();
            writeln!(w, "|---|---|---|").unwrap();
            for (label, st) in [
                ("ingress (instant SQS stub)", &ing),
                ("echo-lambda (round trip)", &floor),
                ("one SendMessage to the stub through the functions' SQS client", &send),
            ] {
                writeln!(w, "| {label} | {:.3} ms | {} |", st.median, spread(st)).unwrap();
            }
            let total = ing.median - floor.median;
            let outside = total - send.median;
            writeln!(
                w,
                "\n- ingress time per request: {total:.3} ms with the SQS call, {outside:.3} ms outside it \
                 (goal ≤ 0.35 ms outside the SQS call: {})\n",
                verdict(outside <= 0.35)
            )
            .unwrap();
        }
    }

    // 4
    writeln!(w, "## 4. Ingress hot path (criterion)\n").unwrap();
    writeln!(
        w,
        "`cargo bench -p hookrelay --bench hot_path` (shared/benches/hot_path.rs): route lookup + \
         verification + filter + input mapping + envelope JSON, through the library's public API, vs one \
         bare HMAC-SHA256 of the same JSON body. Medians of criterion's bootstrap; spread is the \
         95% confidence interval of the median.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| body | case | hookrelay median (95% CI) | bare HMAC median | ratio | goal |"
    )
    .unwrap();
    writeln!(w, "|---|---|---|---|---|---|").unwrap();
    let mut any_criterion = false;
    for (label, goal) in [("1KiB", 3.0), ("64KiB", 1.2)] {
        let group = format!("ingress_hot_path_{label}");
        let Some(base) = criterion_median(&criterion_dir, &group, "hmac_sha256") else {
            continue;
        };
        any_criterion = true;
        for case in ["github", "github_nofilter", "stripe"] {
            if let Some((m, lo, hi)) = criterion_median(&criterion_dir, &group, case) {
                let r = m / base.0;
                writeln!(
                    w,
                    "| {label} | {case} | {} ({}–{}) | {} | {:.2}x | ≤ {goal}x: {} |",
                    us(m),
                    us(lo),
                    us(hi),
                    us(base.0),
                    r,
                    verdict(r <= goal)
                )
                .unwrap();
            }
        }
    }
    if !any_criterion {
        writeln!(
            w,
            "\n**Not measured**: no criterion output under {}.",
            criterion_dir.display()
        )
        .unwrap();
    }
    writeln!(w).unwrap();

    // 5
    writeln!(w, "## 5. Worker concurrency\n").unwrap();
    writeln!(
        w,
        "The real `worker` release binary under the harness's Runtime API emulator, `[worker] concurrency = 10`, \
         calling the harness's algorithm server, which holds every call 200 ms. Time from invoke to \
         the function's response, {worker_runs} runs of each batch size, interleaved, after one warm-up batch. \
         Every record succeeded (no `batchItemFailures`).\n"
    )
    .unwrap();
    match &worker {
        None => writeln!(w, "**Not measured**: the `worker` binary was not built.\n").unwrap(),
        Some(worker) => {
            let (one, ten, hundred) = (stats(&worker.one), stats(&worker.ten), stats(&worker.hundred));
            writeln!(w, "| batch | median | spread (ms) | ÷ one call | goal |").unwrap();
            writeln!(w, "|---|---|---|---|---|").unwrap();
            writeln!(w, "| 1 record | {} | {} | 1.00x | — |", ms(&one), spread(&one)).unwrap();
            let r10 = ten.median / one.median;
            let r100 = hundred.median / one.median;
            writeln!(
                w,
                "| 10 records | {} | {} | {:.2}x | ≤ 1.3x: {} |",
                ms(&ten),
                spread(&ten),
                r10,
                verdict(r10 <= 1.3)
            )
            .unwrap();
            writeln!(
                w,
                "| 100 records, bound 10 | {} | {} | {:.2}x | ≤ 11x: {} |",
                ms(&hundred),
                spread(&hundred),
                r100,
                verdict(r100 <= 11.0)
            )
            .unwrap();
            writeln!(w).unwrap();
        }
    }

    // 6
    writeln!(w, "## 6. Footprint\n").unwrap();
    writeln!(
        w,
        "Peak RSS is `VmHWM` from `/proc/<pid>/status` after {invocations} sequential invocations through the \
         harness (ingress: signed 1 KiB GitHub webhooks through the function URL gateway; s3-relay: one-record \
         S3 notifications; worker: one-record SQS batches to the algorithm server), each function with a fresh \
         moto queue. Latency per invocation is end to end through the harness and moto, shown for context only.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| function | VmHWM | VmRSS at end | goal ≤ 12 MiB | per invocation (median, IQR) |"
    )
    .unwrap();
    writeln!(w, "|---|---|---|---|---|").unwrap();
    for f in &fps {
        let mib = f.hwm_kib as f64 / 1024.0;
        writeln!(
            w,
            "| {} | {:.2} MiB | {:.2} MiB | {} | {:.2} ms ({:.2}–{:.2}), n={} |",
            f.name,
            mib,
            f.rss_kib as f64 / 1024.0,
            verdict(mib <= 12.0),
            f.per_invocation_ms.median,
            f.per_invocation_ms.p25,
            f.per_invocation_ms.p75,
            f.invocations
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    let bin_dir = function_dir();
    writeln!(
        w,
        "Sizes: the release binary in {} and `cargo lambda build --release --output-format zip` output in {} \
         (`bootstrap.zip`; 1 MB = 10^6 bytes).\n",
        bin_dir.strip_prefix(&root).unwrap_or(&bin_dir).display(),
        lambda_dir.strip_prefix(&root).unwrap_or(&lambda_dir).display()
    )
    .unwrap();
    writeln!(w, "| function | release binary | zip | goal ≤ 4 MB | zip written |").unwrap();
    writeln!(w, "|---|---|---|---|---|").unwrap();
    for name in ["ingress", "s3-relay", "worker"] {
        let bin = file_size(&bin_dir.join(name));
        let zip = file_size(&lambda_dir.join(name).join("bootstrap.zip"));
        writeln!(
            w,
            "| {name} | {} | {} | {} | {} |",
            bin.map_or("—".into(), mb),
            zip.map_or("not built".into(), mb),
            zip.map_or("—", |b| verdict(b <= 4_000_000)),
            modified(&lambda_dir.join(name).join("bootstrap.zip")).unwrap_or_else(|| "—".into()),
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    if let Ok(text) = std::fs::read_to_string(&notes) {
        writeln!(w, "{}", text.trim_end()).unwrap();
    }
    std::fs::write(&out_path, md).map_err(|e| format!("{}: {e}", out_path.display()))?;
    eprintln!("bench: wrote {}", out_path.display());
    Ok(())
}
