//! Section 6, footprint: `VmHWM` after N invocations of each function through the harness (moto
//! for SQS).

use std::time::{Duration, Instant};

use hookrelay_e2e::{
    github_signature, AlgorithmServer, FunctionConfig, FunctionProcess, FunctionUrl, FunctionUrlConfig, Moto,
    RuntimeApi,
};
use serde_json::json;

use crate::events::{failures, invoke_ok, s3_event, sqs_batch};
use crate::stats::{stats, Stats};
use crate::{config_toml, function_binary, SECRET};

pub fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

pub struct Footprint {
    pub name: String,
    pub invocations: usize,
    pub hwm_kib: u64,
    pub rss_kib: u64,
    pub per_invocation_ms: Stats,
}

pub async fn footprints(moto: &Moto, invocations: usize, missing: &[&str]) -> Result<Vec<Footprint>, String> {
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
