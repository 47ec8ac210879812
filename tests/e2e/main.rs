//! End-to-end tests: the real `ingress`, `s3-relay` and `worker` binaries on the local Lambda
//! harness (see `hookrelay_e2e`). Build them first: `cargo build --workspace`.
//!
//! Every test starts its own stack (moto, demo algorithm, the three functions) on free loopback
//! ports, polls with an overall deadline and prints all logs when it fails.

mod alarms;
mod batch;
mod callbacks;
mod config_errors;
mod config_sources;
mod edges;
mod filters;
mod outage;
mod providers;
mod redrive;
mod route_ack;
mod route_dedup;
mod route_filters;
mod route_input;
mod route_s3_rules;
mod route_sync;
mod route_targets;
mod routes;
mod s3;
mod secrets_manager;
mod webhook;
mod worker_faults;

use hookrelay_e2e::{Stack, StackOptions};

/// `GITHUB_WEBHOOK_SECRET` of the functions.
pub const GITHUB_SECRET: &str = "e2e-github-webhook-secret";
/// `ALGO_API_KEY` of the functions (`Authorization: Simple <key>`).
pub const ALGO_KEY: &str = "sim-e2e-algorithm-key";
/// The algorithm every route and S3 job targets.
pub const ALGORITHM: &str = "demo/Hello/0.1.0";
pub const ALGORITHM_PATH: &str = "/v1/algo/demo/Hello/0.1.0";

/// The GitHub route of most tests.
pub const GITHUB_ROUTE: &str = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
"#;

/// A full config with the given `[[route]]` tables (the algorithm URL is filled in by the stack).
pub fn config(routes: &str) -> String {
    format!(
        r#"
[downstream]
base_url = "${{ALGO_URL}}"
api_key = "env:ALGO_API_KEY"
timeout_secs = 30
{routes}
[s3]
algorithm = "demo/Hello/0.1.0"

[worker]
concurrency = 10
"#
    )
}

/// Stack options with the default config and the secrets in the functions' environment.
pub fn options(routes: &str) -> StackOptions {
    StackOptions::new(&config(routes))
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY)
}

/// Start a stack or fail with every log.
pub async fn start(opts: StackOptions) -> Stack {
    match Stack::start(opts).await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// Assert that a request reached the algorithm as the worker must send it.
pub async fn assert_algorithm_call(s: &Stack, req: &hookrelay_e2e::AlgoRequest, content_type: &str) {
    let auth = format!("Simple {ALGO_KEY}");
    let mut problems = Vec::new();
    if req.method != "POST" {
        problems.push(format!("method {} (expected POST)", req.method));
    }
    if req.path != ALGORITHM_PATH {
        problems.push(format!("path {} (expected {ALGORITHM_PATH})", req.path));
    }
    if !req
        .header("content-type")
        .is_some_and(|ct| ct.starts_with(content_type))
    {
        problems.push(format!(
            "content-type {:?} (expected {content_type})",
            req.header("content-type")
        ));
    }
    if req.header("authorization") != Some(auth.as_str()) {
        problems.push(format!(
            "authorization {:?} (expected \"{auth}\")",
            req.header("authorization")
        ));
    }
    if !problems.is_empty() {
        s.fail(&format!("algorithm call is wrong: {}", problems.join("; ")))
            .await;
    }
}
