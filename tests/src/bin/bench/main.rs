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
use std::path::PathBuf;
use std::process::{Command, Stdio};

use hookrelay_e2e::Moto;

mod cold_start;
mod concurrency;
mod events;
mod footprint;
mod hot_path;
mod latency;
mod machine;
mod report;
mod stats;

use cold_start::{cold_starts, lambda_env, rust_launch, Launch};
use concurrency::worker_concurrency;
use footprint::footprints;
use machine::load_average;
use stats::{stats, Stats};

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
    report::header(w, started, &load_before, &load_after);
    report::cold_start(w, runs, python_ok, &cold_stats, &missing);
    report::first_invocation(w, first_runs, &first);
    report::warm_overhead(w, &warm);
    report::hot_path(w, &criterion_dir);
    report::worker_concurrency(w, worker_runs, &worker);
    report::footprint(w, invocations, &fps, &root, &lambda_dir);
    if let Ok(text) = std::fs::read_to_string(&notes) {
        writeln!(w, "{}", text.trim_end()).unwrap();
    }
    std::fs::write(&out_path, md).map_err(|e| format!("{}: {e}", out_path.display()))?;
    eprintln!("bench: wrote {}", out_path.display());
    Ok(())
}
