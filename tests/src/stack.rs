//! A whole hookrelay pipeline on loopback, assembled in one call:
//!
//! ```text
//! HTTP ─► function URL gateway ─► ingress ─► SQS jobs queue (moto, + DLQ) ─► event source ─► worker ─► demo algorithm
//! S3 bucket (moto) ─► SQS s3-events queue ─► event source ─► s3-relay ─► SQS jobs queue ─► ...
//! ```
//!
//! Every piece listens on its own free port, so tests build one stack each and run in
//! parallel. `[downstream] base_url = "${ALGO_URL}"` in the config is replaced by the demo
//! algorithm's URL.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::algorithm::AlgorithmServer;
use crate::function::{self, FunctionConfig, FunctionProcess};
use crate::function_url::{FunctionUrl, FunctionUrlConfig};
use crate::moto::{Moto, Queue};
use crate::private_ca::PrivateCa;
use crate::runtime_api::RuntimeApi;
use crate::sqs_source::{EventSourceConfig, SqsEventSource};
use crate::util::{self, DEADLINE};

/// Placeholder in the config replaced by the demo algorithm's base URL.
pub const ALGO_URL_PLACEHOLDER: &str = "${ALGO_URL}";

/// `make dev`'s webhook secret (`GITHUB_WEBHOOK_SECRET`) and algorithm key (`ALGO_API_KEY`).
pub const DEV_WEBHOOK_SECRET: &str = "dev-secret";
pub const DEV_ALGO_API_KEY: &str = "dev-algo-key";
/// `make dev`'s function timeout: the template's shortest `WorkerTimeout`, which dev/hookrelay.toml's
/// `downstream.timeout_secs` (25) fits with the worker's margin.
pub const DEV_FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a function may take from spawn to its first `/next` poll.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct StackOptions {
    /// The TOML config (`HOOKRELAY_CONFIG`) of all three functions; `${ALGO_URL}` is replaced.
    pub config_toml: String,
    /// Extra environment for all three functions (secrets such as `GITHUB_WEBHOOK_SECRET`,
    /// `ALGO_API_KEY`).
    pub env: BTreeMap<String, String>,
    /// Extra environment for the ingress only (added after [`Self::env`]).
    pub ingress_env: BTreeMap<String, String>,
    /// Secrets Manager secrets (name, value) created before the functions start.
    pub secrets: Vec<(String, String)>,
    /// A DynamoDB de-duplication table to create; its name is given to the ingress as
    /// `HOOKRELAY_DEDUP_TABLE`.
    pub dedup_table: Option<String>,
    /// The jobs queue and its DLQ; names ending in `.fifo` make FIFO queues
    /// (see [`Self::fifo_jobs_queue`]).
    pub jobs_queue: String,
    pub jobs_dlq: String,
    pub s3_queue: String,
    pub s3_dlq: String,
    pub bucket: String,
    /// VisibilityTimeout of the queues (seconds).
    pub visibility_timeout_secs: u32,
    /// Redrive policy maxReceiveCount of the queues.
    pub max_receive_count: u32,
    /// Worker event source batch size.
    pub batch_size: i32,
    /// Start the worker's event source right away (else call [`Stack::start_worker_source`]).
    pub start_worker_source: bool,
    /// Where the function URL listens.
    pub function_url_bind: SocketAddr,
    /// Timeout of every function.
    pub invoke_timeout: Duration,
    /// Echo function output live with a `[name] ` prefix.
    pub echo_logs: bool,
    /// Print each demo algorithm call.
    pub algorithm_log: bool,
    /// A fixed port for moto (default: any free port).
    pub moto_port: Option<u16>,
    /// The AWS endpoint the functions and the event sources use instead of moto's own, e.g. a
    /// [`crate::tcp_proxy::TcpProxy`] in front of moto that can take the service away and bring
    /// it back with its state (default: moto).
    pub aws_endpoint_url: Option<String>,
    /// Serve the algorithm over HTTPS with a certificate from a private CA, which the functions
    /// trust through `SSL_CERT_FILE`.
    pub algorithm_tls: bool,
}

impl StackOptions {
    pub fn new(config_toml: &str) -> Self {
        Self {
            config_toml: config_toml.to_string(),
            env: BTreeMap::new(),
            ingress_env: BTreeMap::new(),
            secrets: Vec::new(),
            dedup_table: None,
            jobs_queue: "hookrelay-jobs".into(),
            jobs_dlq: "hookrelay-dlq".into(),
            s3_queue: "hookrelay-s3-events".into(),
            s3_dlq: "hookrelay-s3-dlq".into(),
            bucket: "hookrelay-uploads".into(),
            visibility_timeout_secs: 5,
            max_receive_count: 3,
            batch_size: 10,
            start_worker_source: true,
            function_url_bind: util::any_loopback(),
            invoke_timeout: Duration::from_secs(30),
            echo_logs: crate::logs::echo_from_env(),
            algorithm_log: false,
            moto_port: None,
            aws_endpoint_url: None,
            algorithm_tls: false,
        }
    }

    /// What `make dev` runs (tests/src/bin/devstack.rs) with its config (dev/hookrelay.toml):
    /// the secrets it references, every function's timeout [`DEV_FUNCTION_TIMEOUT`], a 10 s
    /// visibility timeout and 3 receives before the DLQ. The devstack adds its ports and logging.
    pub fn dev(config_toml: &str) -> Self {
        let mut opts = StackOptions::new(config_toml)
            .env("GITHUB_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
            .env("ALGO_API_KEY", DEV_ALGO_API_KEY)
            .visibility_timeout(10)
            .max_receive_count(3);
        opts.invoke_timeout = DEV_FUNCTION_TIMEOUT;
        opts
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// An environment variable for the ingress only.
    pub fn ingress_env(mut self, key: &str, value: &str) -> Self {
        self.ingress_env.insert(key.into(), value.into());
        self
    }

    /// Create the DynamoDB de-duplication table `table` and give it to the ingress
    /// (`HOOKRELAY_DEDUP_TABLE`).
    pub fn dedup_table(mut self, table: &str) -> Self {
        self.dedup_table = Some(table.into());
        self
    }

    /// Make the jobs queue a FIFO queue (`hookrelay-jobs.fifo`) with a FIFO dead-letter queue
    /// (`hookrelay-dlq.fifo`).
    pub fn fifo_jobs_queue(mut self) -> Self {
        self.jobs_queue = "hookrelay-jobs.fifo".into();
        self.jobs_dlq = "hookrelay-dlq.fifo".into();
        self
    }

    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.secrets.push((name.into(), value.into()));
        self
    }

    pub fn visibility_timeout(mut self, secs: u32) -> Self {
        self.visibility_timeout_secs = secs;
        self
    }

    pub fn max_receive_count(mut self, n: u32) -> Self {
        self.max_receive_count = n;
        self
    }

    pub fn worker_source_paused(mut self) -> Self {
        self.start_worker_source = false;
        self
    }
}

/// A running pipeline. Everything stops when it is dropped.
pub struct Stack {
    pub moto: Moto,
    pub algorithm: AlgorithmServer,
    /// The CA of an HTTPS algorithm server ([`StackOptions::algorithm_tls`]).
    pub private_ca: Option<PrivateCa>,
    pub jobs: Queue,
    pub dlq: Queue,
    pub s3_events: Queue,
    pub s3_dlq: Queue,
    pub bucket: String,
    /// The de-duplication table, when [`StackOptions::dedup_table`] asked for one.
    pub dedup_table: Option<String>,
    pub ingress_api: RuntimeApi,
    pub ingress: FunctionProcess,
    pub function_url: FunctionUrl,
    pub worker_api: RuntimeApi,
    pub worker: FunctionProcess,
    pub worker_source: Option<SqsEventSource>,
    pub s3_relay_api: RuntimeApi,
    pub s3_relay: FunctionProcess,
    pub s3_source: SqsEventSource,
    /// A plain HTTP client for requests to the function URL.
    pub http: reqwest::Client,
    config: String,
    opts: StackOptions,
    /// The SQS client of the event sources (the Lambda service's view of SQS).
    service_sqs: aws_sdk_sqs::Client,
    /// Environment of the ingress, and of the other functions.
    ingress_env: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
}

impl Stack {
    /// Start everything; `Err` (with all logs) if a function fails to initialise.
    pub async fn start(opts: StackOptions) -> Result<Stack, String> {
        let moto = match opts.moto_port {
            Some(port) => Moto::start_on(port).await,
            None => Moto::start().await,
        };
        let (jobs, dlq, s3_events, s3_dlq) = create_resources(&moto, &opts).await;
        for (name, value) in &opts.secrets {
            moto.create_secret(name, value).await;
        }

        let private_ca = opts.algorithm_tls.then(PrivateCa::new);
        let algorithm = match &private_ca {
            Some(ca) => AlgorithmServer::start_tls(ca).await,
            None => AlgorithmServer::start_with(util::any_loopback(), opts.algorithm_log).await,
        };
        let config = opts.config_toml.replace(ALGO_URL_PLACEHOLDER, &algorithm.url());

        let mut env = opts.env.clone();
        if let Some(ca) = &private_ca {
            env.insert("SSL_CERT_FILE".into(), ca.cert_file().display().to_string());
        }
        env.insert("HOOKRELAY_CONFIG".into(), config.clone());
        env.insert("HOOKRELAY_QUEUE_URL".into(), jobs.url.clone());
        // The worker dead-letters permanent failures itself, straight into the jobs queue's DLQ.
        env.insert("HOOKRELAY_DLQ_URL".into(), dlq.url.clone());
        let aws_endpoint = opts.aws_endpoint_url.clone().unwrap_or_else(|| moto.endpoint_url());
        env.insert("AWS_ENDPOINT_URL".into(), aws_endpoint.clone());
        let mut ingress_env = env.clone();
        ingress_env.extend(opts.ingress_env.clone());
        if let Some(table) = &opts.dedup_table {
            ingress_env.insert("HOOKRELAY_DEDUP_TABLE".into(), table.clone());
        }
        let fcfg = |name: &str| {
            let env = if name == "ingress" { &ingress_env } else { &env };
            let mut c = FunctionConfig::new(name, function::binary(name)).envs(env.clone());
            if opts.echo_logs {
                c = c.echo_logs(format!("[{name}] "));
            }
            c
        };

        let ingress_api = RuntimeApi::start("ingress").await;
        let worker_api = RuntimeApi::start("worker").await;
        let s3_relay_api = RuntimeApi::start("s3-relay").await;
        let ingress = FunctionProcess::spawn(&ingress_api, fcfg("ingress")).await;
        let worker = FunctionProcess::spawn(&worker_api, fcfg("worker")).await;
        let s3_relay = FunctionProcess::spawn(&s3_relay_api, fcfg("s3-relay")).await;

        let mut problems = Vec::new();
        for f in [&ingress, &worker, &s3_relay] {
            if let Err(e) = f.wait_ready(READY_TIMEOUT).await {
                problems.push(e);
            }
        }
        if !problems.is_empty() {
            let mut msg = format!("stack did not start: {}\n", problems.join("\n"));
            for (api, f) in [
                (&ingress_api, &ingress),
                (&worker_api, &worker),
                (&s3_relay_api, &s3_relay),
            ] {
                for e in api.init_errors() {
                    msg.push_str(&format!("init error of {}: {:?} {}\n", f.name(), e.error_type, e.body));
                }
                msg.push_str(&f.report());
            }
            return Err(msg);
        }

        let function_url = FunctionUrl::start(
            ingress_api.clone(),
            FunctionUrlConfig {
                bind: opts.function_url_bind,
                invoke_timeout: opts.invoke_timeout,
            },
        )
        .await;

        let source_cfg = |url: &str| {
            let mut c = EventSourceConfig::new(url).batch_size(opts.batch_size);
            c.invoke_timeout = opts.invoke_timeout;
            c
        };
        let service_sqs = match &opts.aws_endpoint_url {
            Some(url) => aws_sdk_sqs::Client::new(&crate::moto::sdk_config(url).await),
            None => moto.sqs().clone(),
        };
        let worker_source = opts
            .start_worker_source
            .then(|| SqsEventSource::start(service_sqs.clone(), worker_api.clone(), source_cfg(&jobs.url)));
        let s3_source = SqsEventSource::start(service_sqs.clone(), s3_relay_api.clone(), source_cfg(&s3_events.url));

        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        Ok(Stack {
            moto,
            algorithm,
            private_ca,
            jobs,
            dlq,
            s3_events,
            s3_dlq,
            bucket: opts.bucket.clone(),
            dedup_table: opts.dedup_table.clone(),
            ingress_api,
            ingress,
            function_url,
            worker_api,
            worker,
            worker_source,
            s3_relay_api,
            s3_relay,
            s3_source,
            http,
            config,
            opts,
            service_sqs,
            ingress_env,
            env,
        })
    }

    /// Start the worker's event source (when started with [`StackOptions::worker_source_paused`]).
    pub fn start_worker_source(&mut self) {
        assert!(self.worker_source.is_none(), "worker event source already running");
        let mut c = EventSourceConfig::new(&self.jobs.url).batch_size(self.opts.batch_size);
        c.invoke_timeout = self.opts.invoke_timeout;
        self.worker_source = Some(SqsEventSource::start(
            self.service_sqs.clone(),
            self.worker_api.clone(),
            c,
        ));
    }

    /// One more event source polling the jobs queue for the worker (Lambda runs several pollers
    /// and invocations at once); the caller keeps it and stops it.
    pub fn extra_worker_source(&self) -> SqsEventSource {
        let mut c = EventSourceConfig::new(&self.jobs.url).batch_size(self.opts.batch_size);
        c.invoke_timeout = self.opts.invoke_timeout;
        SqsEventSource::start(self.service_sqs.clone(), self.worker_api.clone(), c)
    }

    /// Start one more instance (execution environment) of `ingress`, `worker` or `s3-relay` with
    /// the stack's configuration, e.g. after killing one; returns once it polls for work.
    pub async fn spawn_instance(&self, name: &str) -> FunctionProcess {
        let (api, env) = match name {
            "ingress" => (&self.ingress_api, &self.ingress_env),
            "worker" => (&self.worker_api, &self.env),
            "s3-relay" => (&self.s3_relay_api, &self.env),
            other => panic!("unknown function {other}"),
        };
        let mut c = FunctionConfig::new(name, function::binary(name)).envs(env.clone());
        if self.opts.echo_logs {
            c = c.echo_logs(format!("[{name}] "));
        }
        let process = FunctionProcess::spawn(api, c).await;
        if let Err(e) = process.wait_ready(READY_TIMEOUT).await {
            panic!("another {name} instance did not start: {e}\n{}", process.report());
        }
        process
    }

    /// The worker's event source (panics when paused).
    pub fn worker_source(&self) -> &SqsEventSource {
        self.worker_source.as_ref().expect("worker event source not started")
    }

    /// The function URL for `path` (e.g. `/hooks/github`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.function_url.url())
    }

    /// The config the functions got (placeholder replaced).
    pub fn config_toml(&self) -> &str {
        &self.config
    }

    /// After `moto.stop()`: start moto again on the same port and recreate the queues, bucket,
    /// de-duplication table and secrets (same names, hence the same queue URLs).
    pub async fn restart_moto(&self) {
        self.moto.restart().await;
        let (jobs, ..) = create_resources(&self.moto, &self.opts).await;
        assert_eq!(jobs.url, self.jobs.url, "recreated queue has a different URL");
        for (name, value) in &self.opts.secrets {
            self.moto.create_secret(name, value).await;
        }
    }

    /// Everything useful when a test fails: function output, init errors, event sources,
    /// gateway exchanges, algorithm requests, queue depths, the tail of moto's log.
    pub async fn diagnostics(&self) -> String {
        let mut out = String::from("\n======== stack diagnostics ========\n");
        out.push_str(&format!("config:\n{}\n", self.config));
        for (api, f) in [
            (&self.ingress_api, &self.ingress),
            (&self.worker_api, &self.worker),
            (&self.s3_relay_api, &self.s3_relay),
        ] {
            for e in api.init_errors() {
                out.push_str(&format!("init error of {}: {:?} {}\n", f.name(), e.error_type, e.body));
            }
            out.push_str(&f.report());
        }
        out.push_str("--- function URL exchanges ---\n");
        for x in self.function_url.exchanges() {
            out.push_str(&format!(
                "  {} {} -> {} {}\n",
                x.method,
                x.path,
                x.status,
                x.invoke_error.unwrap_or_default()
            ));
        }
        out.push_str("--- worker ");
        match &self.worker_source {
            Some(s) => out.push_str(&s.summary()),
            None => out.push_str("event source: not started\n"),
        }
        out.push_str("--- s3-relay ");
        out.push_str(&self.s3_source.summary());
        out.push_str("--- ");
        out.push_str(&self.algorithm.summary());
        out.push_str("--- queues ---\n");
        for q in [&self.jobs, &self.dlq, &self.s3_events, &self.s3_dlq] {
            let counts = self.moto.queue_counts(&q.url).await;
            out.push_str(&format!("  {}: {counts:?}\n", q.name));
        }
        if let Some(table) = &self.dedup_table {
            out.push_str(&format!(
                "--- de-duplication table {table} ---\n  {:?}\n",
                self.moto.dedup_items(table).await
            ));
        }
        out.push_str(&format!("--- moto (tail) ---\n{}", self.moto.logs().tail(40)));
        out.push_str("===================================\n");
        out
    }

    /// Poll `probe` until it returns `Some` within the overall [`DEADLINE`]; panic with
    /// `what` and the diagnostics otherwise.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        match util::wait_for(DEADLINE, probe).await {
            Some(v) => v,
            None => panic!(
                "timed out after {DEADLINE:?} waiting for {what}{}",
                self.diagnostics().await
            ),
        }
    }

    /// Wait until a queue holds no message at all (visible, in flight or delayed).
    pub async fn wait_queue_empty(&self, queue: &Queue) {
        self.wait_for(&format!("queue {} to be empty", queue.name), || async {
            match self.moto.queue_counts(&queue.url).await {
                Ok(c) if c.total() == 0 => Some(()),
                _ => None,
            }
        })
        .await
    }

    /// Stop everything it started: event sources first, then the functions, then moto.
    pub async fn shutdown(mut self) {
        if let Some(source) = self.worker_source.as_mut() {
            source.stop().await;
        }
        self.s3_source.stop().await;
        for f in [&self.ingress, &self.worker, &self.s3_relay] {
            f.kill().await;
        }
        self.moto.stop().await;
    }

    /// Whether the jobs DLQ holds no message.
    pub async fn dlq_is_empty(&self) -> bool {
        matches!(self.moto.queue_counts(&self.dlq.url).await, Ok(c) if c.total() == 0)
    }

    /// Panic with `message` and the diagnostics.
    pub async fn fail(&self, message: &str) -> ! {
        panic!("{message}{}", self.diagnostics().await)
    }
}

async fn create_resources(moto: &Moto, opts: &StackOptions) -> (Queue, Queue, Queue, Queue) {
    let (jobs, dlq) = moto
        .create_queue_with_dlq(
            &opts.jobs_queue,
            &opts.jobs_dlq,
            opts.visibility_timeout_secs,
            opts.max_receive_count,
        )
        .await;
    let (s3_events, s3_dlq) = moto
        .create_queue_with_dlq(
            &opts.s3_queue,
            &opts.s3_dlq,
            opts.visibility_timeout_secs,
            opts.max_receive_count,
        )
        .await;
    moto.create_bucket(&opts.bucket).await;
    moto.notify_queue_on_object_created(&opts.bucket, &s3_events.arn).await;
    if let Some(table) = &opts.dedup_table {
        moto.create_dedup_table(table).await;
    }
    (jobs, dlq, s3_events, s3_dlq)
}
