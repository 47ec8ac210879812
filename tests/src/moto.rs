//! A `moto_server` process (AWS service emulator) on a free loopback port, with the real
//! aws-sdk clients pointed at it and helpers to create the resources a test needs (SQS queues,
//! standard or FIFO by name; S3 buckets; secrets; the ingress's DynamoDB de-duplication table).
//!
//! The server is `$HOOKRELAY_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`
//! (`make venv` creates it). If neither exists, [`Moto::start`] panics: tests never skip.
//! [`Moto::stop`] and [`Moto::restart`] (same port, empty state) emulate an outage.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::logs::{LogBuffer, Stream};
use crate::runtime_api::{ACCOUNT_ID, REGION};
use crate::util;

/// How long moto may take to answer after being spawned (Python start-up on a busy 2-core box).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Path of the moto_server executable; panics with instructions when it is missing.
pub fn moto_server_path() -> PathBuf {
    let (path, origin) = match std::env::var_os("HOOKRELAY_MOTO_SERVER") {
        Some(p) => (PathBuf::from(p), "HOOKRELAY_MOTO_SERVER"),
        None => (
            util::workspace_root().join(".venv/bin/moto_server"),
            "the default location",
        ),
    };
    if !path.is_file() {
        panic!(
            "moto_server not found at {} ({origin}). The e2e tests need it and never skip: run \
             `make venv` (python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt), \
             or set HOOKRELAY_MOTO_SERVER to a moto_server executable.",
            path.display()
        );
    }
    path
}

/// An SQS queue created in moto.
#[derive(Clone, Debug)]
pub struct Queue {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// Approximate message counts of a queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

impl QueueCounts {
    pub fn total(&self) -> u64 {
        self.visible + self.in_flight + self.delayed
    }
}

/// The moto server process and SDK clients for it.
pub struct Moto {
    port: u16,
    program: PathBuf,
    child: Mutex<Option<Child>>,
    logs: LogBuffer,
    sdk: SdkConfig,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    secrets: aws_sdk_secretsmanager::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

impl std::fmt::Debug for Moto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moto").field("port", &self.port).finish()
    }
}

/// An SDK configuration for `endpoint` with the harness's test credentials and region.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let creds = aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "hookrelay-e2e");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(25))
                .build(),
        )
        .load()
        .await
}

impl Moto {
    /// Start moto on a free loopback port and wait until it answers.
    pub async fn start() -> Moto {
        let program = moto_server_path();
        let logs = LogBuffer::new(None);
        // The port is only reserved until moto binds it; retry if another process took it.
        let mut last_err = String::new();
        for _ in 0..3 {
            let port = util::free_port();
            match spawn_and_wait(&program, port, &logs).await {
                Ok(child) => return Moto::with_child(port, program, child, logs).await,
                Err(e) => last_err = e,
            }
        }
        panic!("moto_server did not start: {last_err}\n{}", logs.tail(60));
    }

    /// Start moto on a fixed loopback port (e.g. for `make dev`); panics if it cannot.
    pub async fn start_on(port: u16) -> Moto {
        let program = moto_server_path();
        let logs = LogBuffer::new(None);
        match spawn_and_wait(&program, port, &logs).await {
            Ok(child) => Moto::with_child(port, program, child, logs).await,
            Err(e) => panic!(
                "moto_server did not start on port {port} (in use?): {e}\n{}",
                logs.tail(60)
            ),
        }
    }

    async fn with_child(port: u16, program: PathBuf, child: Child, logs: LogBuffer) -> Moto {
        let endpoint = format!("http://127.0.0.1:{port}");
        let sdk = sdk_config(&endpoint).await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        Moto {
            port,
            program,
            child: Mutex::new(Some(child)),
            logs,
            sdk,
            sqs,
            s3,
            secrets,
            dynamodb,
        }
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    pub fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        &self.secrets
    }

    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        &self.dynamodb
    }

    /// moto's own output (request log, tracebacks).
    pub fn logs(&self) -> &LogBuffer {
        &self.logs
    }

    /// Kill the server (all state is lost). Clients now get connection errors.
    pub async fn stop(&self) {
        let mut guard = self.child.lock().await;
        if let Some(mut child) = guard.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Start a fresh server on the same port (after [`Self::stop`]); resources must be recreated.
    pub async fn restart(&self) {
        self.stop().await;
        let child = spawn_and_wait(&self.program, self.port, &self.logs)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "moto_server did not restart on port {}: {e}\n{}",
                    self.port,
                    self.logs.tail(60)
                )
            });
        *self.child.lock().await = Some(child);
    }

    pub async fn is_running(&self) -> bool {
        let mut guard = self.child.lock().await;
        match guard.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    // ---- SQS -----------------------------------------------------------------------------------

    /// Create a queue with the given visibility timeout: a FIFO queue (`FifoQueue=true`, explicit
    /// de-duplication ids) when the name ends in `.fifo`, as SQS requires, else a standard one.
    pub async fn create_queue(&self, name: &str, visibility_timeout_secs: u32) -> Queue {
        let out = fifo_attributes(
            name,
            self.sqs.create_queue().queue_name(name).attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility_timeout_secs.to_string(),
            ),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateQueue {name}: {}", aws_err(&e)));
        let url = out.queue_url().expect("queue url").to_string();
        let arn = self.queue_arn(&url).await;
        Queue {
            name: name.to_string(),
            url,
            arn,
        }
    }

    /// Create `dlq_name`, then `name` with a redrive policy to it after `max_receive_count`
    /// receives. Returns (queue, dlq). Both are FIFO queues when their names end in `.fifo` (a FIFO
    /// queue's dead-letter queue must be FIFO too).
    pub async fn create_queue_with_dlq(
        &self,
        name: &str,
        dlq_name: &str,
        visibility_timeout_secs: u32,
        max_receive_count: u32,
    ) -> (Queue, Queue) {
        let dlq = self.create_queue(dlq_name, 30).await;
        let policy = serde_json::json!({
            "deadLetterTargetArn": dlq.arn,
            "maxReceiveCount": max_receive_count.to_string(),
        })
        .to_string();
        let out = fifo_attributes(
            name,
            self.sqs
                .create_queue()
                .queue_name(name)
                .attributes(
                    QueueAttributeName::VisibilityTimeout,
                    visibility_timeout_secs.to_string(),
                )
                .attributes(QueueAttributeName::RedrivePolicy, policy),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateQueue {name}: {}", aws_err(&e)));
        let url = out.queue_url().expect("queue url").to_string();
        let arn = self.queue_arn(&url).await;
        (
            Queue {
                name: name.to_string(),
                url,
                arn,
            },
            dlq,
        )
    }

    pub async fn queue_arn(&self, url: &str) -> String {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetQueueAttributes {url}: {}", aws_err(&e)));
        out.attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_else(|| queue_arn_from_url(url))
    }

    /// ApproximateNumberOfMessages / NotVisible / Delayed.
    pub async fn queue_counts(&self, url: &str) -> Result<QueueCounts, String> {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| aws_err(&e))?;
        let attrs = out.attributes().cloned().unwrap_or_default();
        let get = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(QueueCounts {
            visible: get(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        })
    }

    /// Receive up to 10 messages (all attributes), waiting up to `wait_secs`, hiding them for
    /// `visibility_timeout_secs` (0 leaves them visible for others).
    pub async fn receive(
        &self,
        url: &str,
        wait_secs: i32,
        visibility_timeout_secs: i32,
    ) -> Result<Vec<aws_sdk_sqs::types::Message>, String> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .visibility_timeout(visibility_timeout_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| aws_err(&e))?;
        Ok(out.messages.unwrap_or_default())
    }

    pub async fn send_message(&self, url: &str, body: &str) -> String {
        let out = self
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("SendMessage {url}: {}", aws_err(&e)));
        out.message_id().unwrap_or_default().to_string()
    }

    // ---- DynamoDB ------------------------------------------------------------------------------

    /// Create the ingress's de-duplication table as `template.yaml` declares it: partition key
    /// `pk` (S), on-demand billing, TTL on `expires_at`.
    pub async fn create_dedup_table(&self, table: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
        };
        self.dynamodb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key schema"),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateTable {table}: {}", aws_err(&e)));
        self.dynamodb
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .expect("TTL specification"),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateTimeToLive {table}: {}", aws_err(&e)));
    }

    /// Every item of a de-duplication table (a full scan; tables in tests are tiny).
    pub async fn dedup_items(&self, table: &str) -> Result<Vec<DedupItem>, String> {
        let out = self
            .dynamodb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_err(&e))?;
        Ok(out
            .items()
            .iter()
            .map(|item| {
                let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                DedupItem {
                    pk: s("pk").unwrap_or_default(),
                    job_id: s("job_id"),
                    expires_at: item
                        .get("expires_at")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse().ok()),
                    attribute_names: {
                        let mut names: Vec<String> = item.keys().cloned().collect();
                        names.sort();
                        names
                    },
                }
            })
            .collect())
    }

    // ---- Secrets Manager -----------------------------------------------------------------------

    pub async fn create_secret(&self, name: &str, value: &str) {
        self.secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateSecret {name}: {}", aws_err(&e)));
    }

    // ---- S3 ------------------------------------------------------------------------------------

    pub async fn create_bucket(&self, bucket: &str) {
        self.s3
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateBucket {bucket}: {}", aws_err(&e)));
    }

    /// Send `s3:ObjectCreated:*` notifications of `bucket` to the queue `queue_arn` (moto then
    /// also sends an `s3:TestEvent` message to the queue, as S3 does).
    pub async fn notify_queue_on_object_created(&self, bucket: &str, queue_arn: &str) {
        use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
        let queue = QueueConfiguration::builder()
            .id("hookrelay-object-created")
            .queue_arn(queue_arn)
            .events(Event::S3ObjectCreated)
            .build()
            .expect("queue configuration");
        self.s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue).build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutBucketNotificationConfiguration {bucket}: {}", aws_err(&e)));
    }

    /// Turn on versioning of `bucket` (every put then returns a version id).
    pub async fn enable_versioning(&self, bucket: &str) {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        let versioning = VersioningConfiguration::builder()
            .status(BucketVersioningStatus::Enabled)
            .build();
        self.s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(versioning)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutBucketVersioning {bucket}: {}", aws_err(&e)));
    }

    /// Put an object into a versioned bucket ([`Self::enable_versioning`]); returns its version id.
    pub async fn put_object_version(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> String {
        self.put(bucket, key, body)
            .await
            .version_id()
            .unwrap_or_else(|| panic!("PutObject {bucket}/{key}: no version id (is versioning on?)"))
            .to_owned()
    }

    pub async fn put_object(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
        self.put(bucket, key, body).await;
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<Vec<u8>>,
    ) -> aws_sdk_s3::operation::put_object::PutObjectOutput {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(body.into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {bucket}/{key}: {}", aws_err(&e)))
    }
}

/// One item of the de-duplication table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DedupItem {
    pub pk: String,
    pub job_id: Option<String>,
    /// Epoch seconds (the TTL attribute).
    pub expires_at: Option<u64>,
    /// Every attribute name of the item, sorted.
    pub attribute_names: Vec<String>,
}

/// Adds `FifoQueue=true` to a CreateQueue request for a `.fifo` name.
fn fifo_attributes(
    name: &str,
    request: aws_sdk_sqs::operation::create_queue::builders::CreateQueueFluentBuilder,
) -> aws_sdk_sqs::operation::create_queue::builders::CreateQueueFluentBuilder {
    if name.ends_with(".fifo") {
        request.attributes(QueueAttributeName::FifoQueue, "true")
    } else {
        request
    }
}

/// `arn:aws:sqs:<region>:<account>:<name>` from a moto queue URL `http://host/<account>/<name>`.
pub fn queue_arn_from_url(url: &str) -> String {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts
        .next()
        .filter(|a| a.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or(ACCOUNT_ID);
    format!("arn:aws:sqs:{REGION}:{account}:{name}")
}

/// An SDK error with its service detail (Display alone says only "service error").
pub fn aws_err<E: std::error::Error + 'static>(e: &E) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

async fn spawn_and_wait(program: &PathBuf, port: u16, logs: &LogBuffer) -> Result<Child, String> {
    let mut cmd = Command::new(program);
    util::die_with_parent(&mut cmd);
    let mut child = cmd
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    logs.capture(Stream::Stdout, child.stdout.take().expect("stdout"));
    logs.capture(Stream::Stderr, child.stderr.take().expect("stderr"));

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    let url = format!("http://127.0.0.1:{port}/moto-api/data.json");
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("moto_server exited during start-up ({status}) on port {port}"));
        }
        if let Ok(resp) = http.get(&url).send().await {
            if resp.status().is_success() {
                return Ok(child);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = child.start_kill();
            return Err(format!(
                "moto_server did not answer on port {port} within {READY_TIMEOUT:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
