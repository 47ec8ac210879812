//! The fault-injection proof: nothing acknowledged is ever lost, whatever the target, the queue
//! service and the worker do.
//!
//! Thousands of GitHub-signed webhooks (through the function URL and the real `ingress`) and S3
//! object events (direct S3 notifications invoked on the real `s3-relay`) flow to a target that
//! misbehaves on a seeded schedule ([`hookrelay_e2e::chaos`]: 5xx, 429 with `Retry-After: 1`,
//! answers slower than the worker's call timeout, dropped connections; poison jobs always get a
//! permanent 400). Meanwhile the queue service goes away for a while (a [`TcpProxy`] in front
//! of moto refuses and cuts every connection of the functions and of the event sources, and
//! comes back with the queued jobs intact: a real SQS outage loses no messages, a restarted moto
//! would) and worker processes are killed mid-batch and replaced.
//!
//! Then every acknowledged job (an ingress `200` id, an S3 record of an invocation s3-relay
//! answered) must be delivered to the target at least once (a `200` the worker saw, recorded
//! with its `Idempotency-Key`) or be in the DLQ with a `hookrelay-error` reason.
//!
//! Rules, each a failure when broken:
//! - **lost = 0**: acknowledged, never delivered and not dead-lettered with a reason.
//! - **no 200 during the outage**: a webhook request that started after the queue service went
//!   away and was answered before it came back must not get a `200` (it cannot have been
//!   queued). Requests answered `503` are not acknowledged; the sender resends them later.
//! - **permanent failures are not retried**: a poison job reaches the target once per attempt
//!   the worker could decide on. A second call is excused only by an earlier attempt the worker
//!   never finished (its process was killed, or it reported the record failed because the DLQ did
//!   not take it: retrying is the documented alternative to losing it); poison jobs end in the
//!   DLQ with `hookrelay-status = 400`.
//! - **no non-poison job in the DLQ**: every misbehaviour of the schedule is transient and stops
//!   from a job's `calm_after`-th call on, and maxReceiveCount (20) leaves room for receives
//!   without a call (killed worker, outage), so a non-poison dead letter means a transient failure
//!   was classified permanent, or retries were burnt for nothing.
//!
//! Sizes come from the environment, so `make soak` runs the same code at ≥ 10,000 jobs:
//! `HOOKRELAY_SOAK_WEBHOOKS` (default 2000), `HOOKRELAY_SOAK_S3_EVENTS` (500),
//! `HOOKRELAY_CHAOS_SEED` (fixed default), `HOOKRELAY_SOAK_DEADLINE_SECS` (overall limit for a
//! hung pipeline, never a performance threshold; default 900).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookrelay_e2e::chaos::{Act, ChaosSchedule, ChaosTarget, POISON_MARKER};
use hookrelay_e2e::tcp_proxy::TcpProxy;
use hookrelay_e2e::{github_signature, util, BatchOutcome, FunctionProcess, InvokeError, SqsEventSource, Stack};
use hookrelay_e2e::{BatchInvocation, StackOptions};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

const GITHUB_SECRET: &str = "faults-github-webhook-secret";
const ALGO_KEY: &str = "sim-faults-algorithm-key";
const ROUTE: &str = "/hooks/github";
/// The worker's per-call timeout; slow answers take longer.
const CALL_TIMEOUT_SECS: u64 = 2;
/// The functions' timeout: a call plus the worker's 2 s margin fits, with room to spare.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Twice the function's timeout. AWS refuses an SQS event source whose queue's visibility
/// timeout is shorter than the function's timeout (and advises 6x): a dead-lettered record is
/// deleted by the event source only after its whole batch, so with a shorter visibility timeout a
/// batch held up by a slow call (or a slow DeleteMessageBatch) lets the record become visible
/// again, and another poller calls the target with it again, poison jobs included. Transient
/// failures come back sooner anyway: the worker sets their visibility to the backoff (1-2 s here)
/// or to the target's `Retry-After`; only records of a killed worker wait for this timeout.
const VISIBILITY_TIMEOUT_SECS: u32 = 10;
const MAX_RECEIVE_COUNT: u32 = 20;
/// Every this-many-th webhook and S3 object is a poison job.
const POISON_EVERY: usize = 50;
const S3_RECORDS_PER_EVENT: usize = 5;
const WEBHOOKS_IN_FLIGHT: usize = 24;
const S3_EVENTS_IN_FLIGHT: usize = 4;
/// Worker pollers and instances, and ingress instances (Lambda runs several at once).
const WORKERS: usize = 6;
const INGRESSES: usize = 4;
const OUTAGE: Duration = Duration::from_secs(8);

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

fn config(target_url: &str) -> String {
    format!(
        r#"
[downstream]
base_url = "{target_url}"
api_key = "env:ALGO_API_KEY"
timeout_secs = {CALL_TIMEOUT_SECS}

[[route]]
path = "{ROUTE}"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"

[s3]
algorithm = "demo/Hello/0.1.0"

[worker]
concurrency = 10
retry_base_secs = 1
retry_max_secs = 2
"#
    )
}

/// The outage as a generation counter: even while SQS is reachable, odd while it is cut.
#[derive(Default)]
struct Outage {
    generation: AtomicU64,
    /// 200s of requests that started and ended within one outage (must stay 0).
    acked_during: AtomicUsize,
    /// 503s answered while the queue service was cut (proof the outage was felt).
    refused_during: AtomicUsize,
    /// All 503s.
    refused: AtomicUsize,
}

/// What the senders got acknowledged.
#[derive(Default)]
struct Acks {
    /// Ingress job id → (webhook number, poison).
    webhooks: Mutex<HashMap<String, (usize, bool)>>,
    /// Object key → poison.
    s3: Mutex<HashMap<String, bool>>,
    /// Webhooks that were never acknowledged within the deadline.
    given_up: Mutex<Vec<String>>,
    /// Unexpected answers (status and body), by kind.
    unexpected: Mutex<BTreeMap<String, usize>>,
    count: AtomicUsize,
}

impl Acks {
    fn unexpected(&self, what: String) {
        *self.unexpected.lock().unwrap().entry(what).or_default() += 1;
    }
}

fn webhook_body(n: usize, seed: u64) -> String {
    if n % POISON_EVERY == POISON_EVERY - 1 {
        format!(r#"{{"n":{n},"seed":{seed},"{POISON_MARKER}":true}}"#)
    } else {
        format!(r#"{{"n":{n},"seed":{seed}}}"#)
    }
}

fn object_key(n: usize) -> String {
    if n % POISON_EVERY == POISON_EVERY - 1 {
        format!("chaos/{POISON_MARKER}-{n:06}.bin")
    } else {
        format!("chaos/object-{n:06}.bin")
    }
}

/// Send one webhook until it is acknowledged (resending after 503s and gateway errors).
async fn send_webhook(http: reqwest::Client, url: String, n: usize, seed: u64, outage: Arc<Outage>, acks: Arc<Acks>) {
    let body = webhook_body(n, seed);
    let poison = body.contains(POISON_MARKER);
    let delivery = uuid::Uuid::new_v4().to_string();
    let signature = github_signature(GITHUB_SECRET, body.as_bytes());
    let give_up = Instant::now() + Duration::from_secs(300);
    while Instant::now() < give_up {
        let before = outage.generation.load(Ordering::SeqCst);
        let sent = http
            .post(&url)
            .header("content-type", "application/json")
            .header("user-agent", "GitHub-Hookshot/faults")
            .header("x-github-event", "push")
            .header("x-github-delivery", &delivery)
            .header("x-hub-signature-256", &signature)
            .body(body.clone())
            .send()
            .await;
        let reply = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                Ok((status, retry_after, resp.text().await.unwrap_or_default()))
            }
            Err(e) => Err(e),
        };
        let after = outage.generation.load(Ordering::SeqCst);
        let within_outage = before == after && before % 2 == 1;
        match reply {
            Ok((200, _, text)) => {
                if within_outage {
                    outage.acked_during.fetch_add(1, Ordering::SeqCst);
                }
                let id = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_string));
                match id {
                    Some(id) => {
                        acks.webhooks.lock().unwrap().insert(id, (n, poison));
                        acks.count.fetch_add(1, Ordering::SeqCst);
                    }
                    None => acks.unexpected(format!("200 without a job id: {text}")),
                }
                return;
            }
            Ok((503, retry_after, _)) => {
                outage.refused.fetch_add(1, Ordering::SeqCst);
                if after % 2 == 1 {
                    outage.refused_during.fetch_add(1, Ordering::SeqCst);
                }
                // Honour Retry-After, but no need to wait 5 s on loopback: 1 s at most.
                tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1).min(1))).await;
            }
            Ok((status, _, text)) => {
                acks.unexpected(format!(
                    "webhook {status} {}",
                    text.chars().take(120).collect::<String>()
                ));
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => {
                acks.unexpected(format!("webhook transport error: {}", e.without_url()));
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    acks.given_up.lock().unwrap().push(format!("webhook {n}"));
}

/// A direct S3 notification with one record per object number.
fn s3_event(bucket: &str, numbers: &[usize]) -> Value {
    let records: Vec<Value> = numbers
        .iter()
        .map(|&n| {
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
                    "object": {
                        "key": object_key(n),
                        "size": 1024 + n,
                        "eTag": format!("{n:032x}"),
                        "sequencer": format!("{:018X}", 0x55AE_D6DC_D902_81E5_u64 + n as u64),
                    },
                },
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Invoke s3-relay with one event until it succeeds (it fails the invocation when a record could
/// not be queued, and Lambda retries the same event: same job ids).
async fn send_s3_event(stack: Arc<Stack>, numbers: Vec<usize>, acks: Arc<Acks>) {
    let event = s3_event(&stack.bucket, &numbers);
    let give_up = Instant::now() + Duration::from_secs(300);
    while Instant::now() < give_up {
        match stack.s3_relay_api.invoke(event.clone(), FUNCTION_TIMEOUT).await {
            Ok(_) => {
                let mut s3 = acks.s3.lock().unwrap();
                for &n in &numbers {
                    let key = object_key(n);
                    let poison = key.contains(POISON_MARKER);
                    s3.insert(key, poison);
                }
                acks.count.fetch_add(numbers.len(), Ordering::SeqCst);
                return;
            }
            Err(e) => {
                let kind = match &e {
                    InvokeError::Function { error_type, .. } => {
                        format!(
                            "s3-relay error {error_type:?}: {}",
                            e.error_message().unwrap_or_default()
                        )
                    }
                    other => format!("s3-relay invoke: {other}"),
                };
                acks.unexpected(kind);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    acks.given_up.lock().unwrap().push(format!("s3 event {numbers:?}"));
}

/// Who a queued job is: the ingress job id, or the S3 object key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum JobKey {
    Webhook(String),
    S3(String),
}

fn job_key_of_envelope(body: &str) -> Option<JobKey> {
    let v: Value = serde_json::from_str(body).ok()?;
    match v["s3"]["key"].as_str() {
        Some(key) => Some(JobKey::S3(key.to_string())),
        None => v["id"].as_str().map(|id| JobKey::Webhook(id.to_string())),
    }
}

/// Deliveries of one job to the worker.
#[derive(Clone, Debug, Default)]
struct Attempts {
    /// Decided deliveries by SQS message id (a job may sit in several messages: a sender resent
    /// it, or the ingress's SDK retried a SendMessage whose answer was lost).
    decided: HashMap<String, usize>,
    /// Deliveries the worker did not settle: the invocation failed as a whole (killed process,
    /// timeout), the worker reported the record failed, or the event source could not delete it
    /// afterwards (the queue service was cut): the record comes back.
    undecided: usize,
}

/// Deliveries of each job to the worker.
fn attempts_by_job(invocations: &[BatchInvocation]) -> HashMap<JobKey, Attempts> {
    let mut out: HashMap<JobKey, Attempts> = HashMap::new();
    for inv in invocations {
        for r in &inv.records {
            let Some(key) = job_key_of_envelope(&r.body) else {
                continue;
            };
            // Decided and settled: the worker kept it out of batchItemFailures (delivered, or on
            // the DLQ) and the event source deleted it. A record whose delete failed (the queue
            // service was cut just then) comes back, as on AWS.
            let decided = match &inv.outcome {
                BatchOutcome::Completed { failures } => {
                    !failures.contains(&r.message_id) && inv.deleted.contains(&r.message_id)
                }
                _ => false,
            };
            let e = out.entry(key).or_default();
            if decided {
                *e.decided.entry(r.message_id.clone()).or_default() += 1;
            } else {
                e.undecided += 1;
            }
        }
    }
    out
}

async fn all_dead_letters(s: &Stack) -> Vec<aws_sdk_sqs::types::Message> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut empty = 0;
    while empty < 3 {
        let batch = s.moto.receive(&s.dlq.url, 0, 900).await.unwrap_or_default();
        if batch.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        for m in batch {
            if seen.insert(m.message_id().unwrap_or_default().to_string()) {
                out.push(m);
            }
        }
    }
    out
}

fn attribute(m: &aws_sdk_sqs::types::Message, name: &str) -> Option<String> {
    m.message_attributes()?.get(name)?.string_value().map(str::to_string)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_job_is_delivered_or_dead_lettered_under_faults() {
    let started = Instant::now();
    let webhooks = env_num("HOOKRELAY_SOAK_WEBHOOKS", 2000) as usize;
    let s3_objects = env_num("HOOKRELAY_SOAK_S3_EVENTS", 500) as usize;
    let seed = env_num("HOOKRELAY_CHAOS_SEED", 20_261_123);
    let deadline = Duration::from_secs(env_num("HOOKRELAY_SOAK_DEADLINE_SECS", 900));
    println!("faults: {webhooks} webhooks, {s3_objects} S3 objects, seed {seed}");

    let target = ChaosTarget::start(ChaosSchedule::new(seed, Duration::from_secs(CALL_TIMEOUT_SECS + 1))).await;
    // moto on a port of our choosing, behind the outage switch.
    let (moto_port, proxy) = loop {
        let port = util::free_port();
        let proxy = TcpProxy::start(([127, 0, 0, 1], port).into()).await;
        // The proxy must not have been given the port just reserved for moto.
        if proxy.addr().port() != port && port != target.url().rsplit(':').next().unwrap().parse::<u16>().unwrap() {
            break (port, proxy);
        }
    };
    let mut opts = StackOptions::new(&config(&target.url()))
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY)
        .visibility_timeout(VISIBILITY_TIMEOUT_SECS)
        .max_receive_count(MAX_RECEIVE_COUNT);
    opts.moto_port = Some(moto_port);
    opts.aws_endpoint_url = Some(proxy.url());
    opts.invoke_timeout = FUNCTION_TIMEOUT;
    let s = Arc::new(Stack::start(opts).await.unwrap_or_else(|e| panic!("{e}")));

    // More worker pollers and instances, as Lambda scales out.
    let mut sources: Vec<SqsEventSource> = (1..WORKERS).map(|_| s.extra_worker_source()).collect();
    let mut workers: Vec<FunctionProcess> = Vec::new();
    for _ in 1..WORKERS {
        workers.push(s.spawn_instance("worker").await);
    }
    let mut ingresses: Vec<FunctionProcess> = Vec::new();
    for _ in 1..INGRESSES {
        ingresses.push(s.spawn_instance("ingress").await);
    }

    let outage = Arc::new(Outage::default());
    let acks = Arc::new(Acks::default());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");

    // Senders: webhooks through the function URL, S3 events straight into s3-relay.
    let mut senders = tokio::task::JoinSet::new();
    let webhook_slots = Arc::new(Semaphore::new(WEBHOOKS_IN_FLIGHT));
    let s3_slots = Arc::new(Semaphore::new(S3_EVENTS_IN_FLIGHT));
    let url = s.url(ROUTE);
    let numbers: Vec<usize> = (0..s3_objects).collect();
    let mut s3_batches = numbers.chunks(S3_RECORDS_PER_EVENT).map(<[usize]>::to_vec);
    for n in 0..webhooks.max(s3_objects.div_ceil(S3_RECORDS_PER_EVENT)) {
        if n < webhooks {
            let (http, url, outage, acks) = (http.clone(), url.clone(), outage.clone(), acks.clone());
            let slots = webhook_slots.clone();
            senders.spawn(async move {
                let _slot = slots.acquire_owned().await;
                send_webhook(http, url, n, seed, outage, acks).await;
            });
        }
        // S3 events interleaved with the webhooks, so both flow through the faults.
        if n % (webhooks / s3_objects.div_ceil(S3_RECORDS_PER_EVENT)).max(1) == 0 {
            if let Some(batch) = s3_batches.next() {
                let (stack, acks, slots) = (s.clone(), acks.clone(), s3_slots.clone());
                senders.spawn(async move {
                    let _slot = slots.acquire_owned().await;
                    send_s3_event(stack, batch, acks).await;
                });
            }
        }
    }
    for batch in s3_batches {
        let (stack, acks, slots) = (s.clone(), acks.clone(), s3_slots.clone());
        senders.spawn(async move {
            let _slot = slots.acquire_owned().await;
            send_s3_event(stack, batch, acks).await;
        });
    }
    let total = webhooks + s3_objects;

    let worker_invocations = |sources: &[SqsEventSource]| -> Vec<BatchInvocation> {
        let mut all = s.worker_source().invocations();
        for src in sources {
            all.extend(src.invocations());
        }
        all
    };
    let killed_mid_batch = |invocations: &[BatchInvocation]| {
        invocations
            .iter()
            .filter(|i| matches!(i.outcome, BatchOutcome::Failed(InvokeError::ProcessDied(_))))
            .count()
    };

    // 1. The queue service goes away for a while, a quarter of the way in.
    let wait_acked = |fraction: f64| {
        let acks = acks.clone();
        async move {
            util::wait_for(deadline, || async {
                (acks.count.load(Ordering::SeqCst) as f64 >= total as f64 * fraction).then_some(())
            })
            .await
        }
    };
    wait_acked(0.25).await;
    outage.generation.fetch_add(1, Ordering::SeqCst);
    proxy.cut();
    let outage_started = started.elapsed();
    tokio::time::sleep(OUTAGE).await;
    proxy.restore().await;
    outage.generation.fetch_add(1, Ordering::SeqCst);
    println!(
        "faults: SQS outage from {:.1}s for {OUTAGE:?}",
        outage_started.as_secs_f64()
    );

    // 2. Kill a worker mid-batch (until a kill lands on an invocation in flight) and replace it.
    wait_acked(0.5).await;
    let mut kills = 0;
    let mut victims: Vec<FunctionProcess> = Vec::new();
    while kills < 5 && killed_mid_batch(&worker_invocations(&sources)) == 0 {
        util::wait_for(deadline, || async { (target.in_flight() > 0).then_some(()) }).await;
        let victim = if kills == 0 {
            s.worker.kill().await;
            None
        } else {
            let v = workers.remove(0);
            v.kill().await;
            Some(v)
        };
        victims.extend(victim);
        kills += 1;
        workers.push(s.spawn_instance("worker").await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "faults: killed {kills} worker instance(s) at {:.1}s",
        started.elapsed().as_secs_f64()
    );

    while let Some(joined) = senders.join_next().await {
        joined.expect("sender task");
    }
    println!(
        "faults: all sent and acknowledged at {:.1}s; waiting for the queue to drain",
        started.elapsed().as_secs_f64()
    );

    // Quiescence: the jobs queue holds nothing (visible, in flight or delayed), twice in a row.
    let drained = util::wait_for(deadline, || async {
        let empty = |c: Result<hookrelay_e2e::QueueCounts, String>| matches!(c, Ok(c) if c.total() == 0);
        if !empty(s.moto.queue_counts(&s.jobs.url).await) {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        empty(s.moto.queue_counts(&s.jobs.url).await).then_some(())
    })
    .await;
    let elapsed = started.elapsed();

    // ---- accounting ------------------------------------------------------------------------
    let mut problems: Vec<String> = Vec::new();
    if drained.is_none() {
        problems.push(format!(
            "the jobs queue did not drain within {deadline:?}: {:?}",
            s.moto.queue_counts(&s.jobs.url).await
        ));
    }
    let acked_webhooks = acks.webhooks.lock().unwrap().clone();
    let acked_s3 = acks.s3.lock().unwrap().clone();
    let mut acked: HashMap<JobKey, bool> = HashMap::new();
    for (id, (_, poison)) in &acked_webhooks {
        acked.insert(JobKey::Webhook(id.clone()), *poison);
    }
    for (key, poison) in &acked_s3 {
        acked.insert(JobKey::S3(key.clone()), *poison);
    }
    let by_number: HashMap<usize, &String> = acked_webhooks.iter().map(|(id, (n, _))| (*n, id)).collect();

    // Calls at the target, by job: webhooks by Idempotency-Key (the job id), S3 jobs by input.
    let calls = target.calls();
    let mut calls_by_job: HashMap<JobKey, Vec<&hookrelay_e2e::chaos::ChaosCall>> = HashMap::new();
    let mut foreign_calls = 0;
    let mut key_mismatches = 0;
    for c in &calls {
        let job = match serde_json::from_slice::<Value>(&c.body) {
            Ok(Value::String(key)) => Some(JobKey::S3(key)),
            Ok(v) => {
                let n = v["n"].as_u64().map(|n| n as usize);
                // The Idempotency-Key must be the job id the ingress answered for this webhook.
                match (n.and_then(|n| by_number.get(&n)), &c.idempotency_key) {
                    (Some(id), Some(key)) if *id == key => {}
                    (Some(_), _) => key_mismatches += 1,
                    (None, _) => {}
                }
                c.idempotency_key.clone().map(JobKey::Webhook)
            }
            Err(_) => None,
        };
        match job {
            Some(job) => calls_by_job.entry(job).or_default().push(c),
            None => foreign_calls += 1,
        }
    }

    let dead = all_dead_letters(&s).await;
    let mut dead_by_job: HashMap<JobKey, Vec<&aws_sdk_sqs::types::Message>> = HashMap::new();
    for m in &dead {
        match job_key_of_envelope(m.body().unwrap_or_default()) {
            Some(job) => dead_by_job.entry(job).or_default().push(m),
            None => problems.push(format!("unreadable dead letter {:?}", m.body())),
        }
    }

    let invocations = worker_invocations(&sources);
    let attempts = attempts_by_job(&invocations);
    let (mut delivered, mut duplicates, mut extra_deliveries, mut dead_lettered, mut lost) = (0, 0, 0, 0, 0);
    let mut lost_examples = Vec::new();
    let (mut poison_jobs, mut poison_retried_excused, mut poison_concurrent_calls) = (0, 0, 0);
    for (job, poison) in &acked {
        let job_calls = calls_by_job.get(job).map(Vec::as_slice).unwrap_or_default();
        let oks = job_calls.iter().filter(|c| c.delivered()).count();
        let letters = dead_by_job.get(job).map(Vec::as_slice).unwrap_or_default();
        let with_reason = letters.iter().any(|m| attribute(m, "hookrelay-error").is_some());
        if oks > 0 {
            delivered += 1;
        }
        if oks > 1 {
            duplicates += 1;
            extra_deliveries += oks - 1;
        }
        if !letters.is_empty() {
            dead_lettered += 1;
        }
        if oks == 0 && !with_reason {
            lost += 1;
            if lost_examples.len() < 10 {
                let acts: Vec<String> = job_calls.iter().map(|c| c.act.label()).collect();
                lost_examples.push(format!(
                    "{job:?}: calls {acts:?}, worker attempts {:?}, {} dead letter(s)",
                    attempts.get(job),
                    letters.len()
                ));
            }
        }
        if *poison {
            poison_jobs += 1;
            let a = attempts.get(job).cloned().unwrap_or_default();
            // Each call needs a delivery the worker did not settle before it, or a message of its
            // own. A settled message comes back only after its visibility timeout, so its next call
            // is at least VISIBILITY - FUNCTION_TIMEOUT after the previous one; calls closer than
            // that are one delivery handed out twice at once by the queue (SQS delivers at least
            // once; moto's ReceiveMessage does so under concurrent pollers), not a retry.
            let overlap = Duration::from_secs(u64::from(VISIBILITY_TIMEOUT_SECS)) - FUNCTION_TIMEOUT;
            let mut times: Vec<f64> = job_calls.iter().map(|c| c.at).collect();
            times.sort_by(f64::total_cmp);
            let sequential = 1 + times
                .windows(2)
                .filter(|w| w[1] - w[0] >= overlap.as_secs_f64())
                .count();
            if !times.is_empty() && sequential > a.decided.len() + a.undecided {
                let deliveries: Vec<String> = invocations
                    .iter()
                    .flat_map(|inv| {
                        inv.records
                            .iter()
                            .filter(|r| a.decided.contains_key(&r.message_id))
                            .map(move |r| format!("receive #{} in a batch that {inv}", r.receive_count))
                    })
                    .collect();
                let at: Vec<String> = job_calls.iter().map(|c| format!("{:.1}s", c.at)).collect();
                problems.push(format!(
                    "permanent failure retried: poison job {job:?} reached the target {} times (at {at:?}); worker \
                     attempts {a:?}; deliveries:\n    {}",
                    job_calls.len(),
                    deliveries.join("\n    ")
                ));
            } else if job_calls.len() > 1 {
                poison_retried_excused += 1;
                poison_concurrent_calls += job_calls.len() - sequential;
            }
            let status_400 = letters
                .iter()
                .any(|m| attribute(m, "hookrelay-status").as_deref() == Some("400"));
            if !status_400 {
                problems.push(format!(
                    "poison job {job:?} is not in the DLQ with hookrelay-status 400 ({} letters)",
                    letters.len()
                ));
            }
            if oks > 0 {
                problems.push(format!("poison job {job:?} was answered 200?"));
            }
        } else if !letters.is_empty() {
            let reasons: Vec<String> = letters
                .iter()
                .map(|m| {
                    attribute(m, "hookrelay-error")
                        .unwrap_or_else(|| "<no hookrelay-error: moved by the redrive policy>".into())
                })
                .collect();
            problems.push(format!(
                "non-poison job {job:?} was dead-lettered ({reasons:?}); its calls: {:?}",
                job_calls.iter().map(|c| c.act.label()).collect::<Vec<_>>()
            ));
        }
    }
    let unacked_delivered = calls_by_job.keys().filter(|job| !acked.contains_key(job)).count();
    let kill_count = killed_mid_batch(&invocations);

    println!(
        "faults: ===== accounting (seed {seed}, {:.1}s) =====",
        elapsed.as_secs_f64()
    );
    println!(
        "faults: acked {} ({} webhooks, {} S3 objects), delivered {delivered}, duplicates {duplicates} \
         (+{extra_deliveries} extra deliveries), dead-lettered {dead_lettered} (poison {poison_jobs}), lost {lost}",
        acked.len(),
        acked_webhooks.len(),
        acked_s3.len()
    );
    println!(
        "faults: target calls {} {:?}; worker invocations {} ({kill_count} killed mid-batch); DLQ messages {}",
        calls.len(),
        target.act_counts(),
        invocations.len(),
        dead.len()
    );
    println!(
        "faults: ingress 503s {} ({} inside the outage), 200s inside the outage {}; delivered but never acked \
         {unacked_delivered} (calls for a webhook under another job id: {key_mismatches}); poison jobs called more than \
         once, each call justified {poison_retried_excused} ({poison_concurrent_calls} call(s) of a delivery handed out \
         twice at once)",
        outage.refused.load(Ordering::SeqCst),
        outage.refused_during.load(Ordering::SeqCst),
        outage.acked_during.load(Ordering::SeqCst)
    );
    println!(
        "faults: other answers while sending: {:?}",
        acks.unexpected.lock().unwrap()
    );

    if lost > 0 {
        problems.push(format!(
            "{lost} acknowledged job(s) lost, e.g.:\n  {}",
            lost_examples.join("\n  ")
        ));
    }
    if acked.len() != total {
        problems.push(format!(
            "{} of {total} jobs acknowledged; given up: {:?}",
            acked.len(),
            acks.given_up.lock().unwrap()
        ));
    }
    let during = outage.acked_during.load(Ordering::SeqCst);
    if during > 0 {
        problems.push(format!(
            "the ingress answered 200 {during} time(s) while SQS was unreachable"
        ));
    }
    if outage.refused_during.load(Ordering::SeqCst) == 0 {
        problems.push("no webhook was refused during the outage: the outage was not exercised".into());
    }
    if kill_count == 0 {
        problems.push(format!("none of {kills} worker kill(s) landed mid-batch"));
    }
    if foreign_calls > 0 {
        problems.push(format!("{foreign_calls} call(s) the test cannot attribute to a job"));
    }
    for act in [Act::Ok, Act::TooManyRequests, Act::Slow, Act::Drop, Act::Poison] {
        if !calls.iter().any(|c| c.act == act) {
            problems.push(format!(
                "the schedule never produced {act:?}: the run proves less than it claims"
            ));
        }
    }

    if !problems.is_empty() {
        let mut report = String::new();
        for f in std::iter::once(&s.worker).chain(workers.iter()).chain(victims.iter()) {
            report.push_str(&format!(
                "--- {} pid {:?} (tail) ---\n{}\n",
                f.name(),
                f.pid(),
                tail(&f.output(), 40)
            ));
        }
        report.push_str(&format!("--- ingress (tail) ---\n{}\n", tail(&s.ingress.output(), 20)));
        report.push_str(&format!(
            "--- s3-relay (tail) ---\n{}\n",
            tail(&s.s3_relay.output(), 20)
        ));
        panic!("fault-injection proof failed:\n- {}\n{report}", problems.join("\n- "));
    }

    for src in sources.iter_mut() {
        src.stop().await;
    }
    for f in workers.iter().chain(ingresses.iter()) {
        f.kill().await;
    }
    if let Ok(s) = Arc::try_unwrap(s) {
        s.shutdown().await;
    }
}
