//! Section 5, worker concurrency: the real `worker` binary under the harness's Runtime API,
//! calling the harness's algorithm server with 200 ms per call, for batches of 1, 10 and 100
//! records.

use std::time::{Duration, Instant};

use hookrelay_e2e::{AlgorithmServer, FunctionConfig, FunctionProcess, Moto, RuntimeApi};

use crate::events::{failures, invoke_ok, sqs_batch};
use crate::{config_toml, function_binary};

pub struct WorkerResult {
    pub one: Vec<f64>,
    pub ten: Vec<f64>,
    pub hundred: Vec<f64>,
}

pub async fn worker_concurrency(moto: &Moto, runs: usize) -> Result<WorkerResult, String> {
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
