//! SQS event source mapping with `FunctionResponseTypes: [ReportBatchItemFailures]`.
//!
//! Long-polls a queue with the real SQS client, builds the `aws:sqs` event Lambda sends,
//! invokes the function through its [`RuntimeApi`], then deletes exactly the messages that the
//! response does not list in `batchItemFailures`. As on AWS:
//! - a function error (or timeout, or dead process) deletes nothing;
//! - a failure entry with an empty/missing `itemIdentifier` or one that is not in the batch
//!   fails the whole batch;
//! - a response without `batchItemFailures` (or an empty list) is a full success.
//!
//! Messages not deleted become visible again after the queue's visibility timeout; the queue's
//! redrive policy (in moto) moves them to the DLQ. Every batch is recorded
//! ([`SqsEventSource::invocations`]) for assertions.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::moto::{aws_err, queue_arn_from_url};
use crate::runtime_api::{InvokeError, RuntimeApi, REGION};

#[derive(Clone, Debug)]
pub struct EventSourceConfig {
    pub queue_url: String,
    /// Records per invocation (1..=10; one ReceiveMessage call).
    pub batch_size: i32,
    /// ReceiveMessage long-poll wait.
    pub wait_time_secs: i32,
    /// The function's timeout.
    pub invoke_timeout: Duration,
    /// Pause after a ReceiveMessage error (e.g. the queue service is down).
    pub error_backoff: Duration,
}

impl EventSourceConfig {
    pub fn new(queue_url: &str) -> Self {
        Self {
            queue_url: queue_url.to_string(),
            batch_size: 10,
            wait_time_secs: 1,
            invoke_timeout: Duration::from_secs(30),
            error_backoff: Duration::from_millis(250),
        }
    }

    pub fn batch_size(mut self, n: i32) -> Self {
        self.batch_size = n;
        self
    }
}

/// One record of a batch, as sent to the function.
#[derive(Clone, Debug)]
pub struct BatchRecord {
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
}

/// What came of one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchOutcome {
    /// The function answered; these message ids were reported failed (maybe none).
    Completed { failures: Vec<String> },
    /// The function answered, but its failure report was invalid: whole batch failed.
    InvalidReport { reason: String, response: Value },
    /// The invocation failed: whole batch failed.
    Failed(InvokeError),
}

/// One invocation of the function by the event source.
#[derive(Clone, Debug)]
pub struct BatchInvocation {
    pub records: Vec<BatchRecord>,
    pub outcome: BatchOutcome,
    /// Message ids deleted from the queue after the invocation.
    pub deleted: Vec<String>,
    /// Problems deleting messages, if any.
    pub delete_errors: Vec<String>,
}

impl BatchInvocation {
    /// Message ids the function reported as failed (empty unless [`BatchOutcome::Completed`]).
    pub fn reported_failures(&self) -> &[String] {
        match &self.outcome {
            BatchOutcome::Completed { failures } => failures,
            _ => &[],
        }
    }
}

#[derive(Default)]
struct Log {
    invocations: Vec<BatchInvocation>,
    receive_errors: Vec<String>,
}

/// A running event source. Stops when dropped or with [`Self::stop`].
pub struct SqsEventSource {
    log: Arc<Mutex<Log>>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    queue_url: String,
}

impl Drop for SqsEventSource {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl SqsEventSource {
    /// Start polling `config.queue_url` and invoking `function`.
    pub fn start(sqs: aws_sdk_sqs::Client, function: RuntimeApi, config: EventSourceConfig) -> SqsEventSource {
        assert!((1..=10).contains(&config.batch_size), "batch_size must be 1..=10");
        let log = Arc::new(Mutex::new(Log::default()));
        let (stop, stop_rx) = watch::channel(false);
        let queue_url = config.queue_url.clone();
        let task = tokio::spawn(poll_loop(sqs, function, config, log.clone(), stop_rx));
        SqsEventSource {
            log,
            stop,
            task: Some(task),
            queue_url,
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// All invocations so far, in order.
    pub fn invocations(&self) -> Vec<BatchInvocation> {
        self.log.lock().unwrap().invocations.clone()
    }

    /// ReceiveMessage errors so far (e.g. during an outage).
    pub fn receive_errors(&self) -> Vec<String> {
        self.log.lock().unwrap().receive_errors.clone()
    }

    /// Every delivery of one message id, in order.
    pub fn deliveries_of(&self, message_id: &str) -> Vec<BatchRecord> {
        self.invocations()
            .iter()
            .flat_map(|i| i.records.iter().filter(|r| r.message_id == message_id).cloned())
            .collect()
    }

    /// Stop polling; an invocation in progress completes first.
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// A failure-message summary of every batch.
    pub fn summary(&self) -> String {
        let log = self.log.lock().unwrap();
        let mut out = format!("event source on {}:\n", self.queue_url);
        for (i, inv) in log.invocations.iter().enumerate() {
            out.push_str(&format!("  batch #{i}: {inv}\n"));
        }
        if !log.receive_errors.is_empty() {
            out.push_str(&format!(
                "  {} ReceiveMessage errors, last: {}\n",
                log.receive_errors.len(),
                log.receive_errors.last().unwrap()
            ));
        }
        out
    }
}

impl fmt::Display for BatchInvocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let recs: Vec<String> = self
            .records
            .iter()
            .map(|r| {
                let body: String = r.body.chars().take(160).collect();
                format!("{} (receive #{}) {body}", r.message_id, r.receive_count)
            })
            .collect();
        let outcome = match &self.outcome {
            BatchOutcome::Completed { failures } => {
                format!("completed, batchItemFailures={failures:?}")
            }
            BatchOutcome::InvalidReport { reason, response } => {
                format!("invalid report ({reason}): {response}")
            }
            BatchOutcome::Failed(e) => format!("failed: {e}"),
        };
        write!(f, "{outcome}; deleted {:?}", self.deleted)?;
        if !self.delete_errors.is_empty() {
            write!(f, "; delete errors {:?}", self.delete_errors)?;
        }
        for r in recs {
            write!(f, "\n      - {r}")?;
        }
        Ok(())
    }
}

async fn poll_loop(
    sqs: aws_sdk_sqs::Client,
    function: RuntimeApi,
    config: EventSourceConfig,
    log: Arc<Mutex<Log>>,
    mut stop: watch::Receiver<bool>,
) {
    let arn = queue_arn_from_url(&config.queue_url);
    loop {
        if *stop.borrow() {
            return;
        }
        let receive = sqs
            .receive_message()
            .queue_url(&config.queue_url)
            .max_number_of_messages(config.batch_size)
            .wait_time_seconds(config.wait_time_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send();
        let received = tokio::select! {
            r = receive => r,
            _ = stop.changed() => return,
        };
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                log.lock().unwrap().receive_errors.push(aws_err(&e));
                tokio::select! {
                    _ = tokio::time::sleep(config.error_backoff) => {},
                    _ = stop.changed() => return,
                }
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        process_batch(&sqs, &function, &config, &arn, messages, &log).await;
    }
}

async fn process_batch(
    sqs: &aws_sdk_sqs::Client,
    function: &RuntimeApi,
    config: &EventSourceConfig,
    arn: &str,
    messages: Vec<Message>,
    log: &Mutex<Log>,
) {
    let event = sqs_event(&messages, arn);
    let records: Vec<BatchRecord> = messages
        .iter()
        .map(|m| BatchRecord {
            message_id: m.message_id().unwrap_or_default().to_string(),
            body: m.body().unwrap_or_default().to_string(),
            receive_count: m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
        })
        .collect();
    let ids: HashSet<&str> = records.iter().map(|r| r.message_id.as_str()).collect();

    let outcome = match function.invoke(event, config.invoke_timeout).await {
        Err(e) => BatchOutcome::Failed(e),
        Ok(response) => interpret_response(&response, &ids),
    };

    let failed: HashSet<String> = match &outcome {
        BatchOutcome::Completed { failures } => failures.iter().cloned().collect(),
        _ => ids.iter().map(|s| s.to_string()).collect(),
    };
    // Recorded before the queue changes, so whoever sees the queue drained also sees the batch.
    let index = {
        let mut log = log.lock().unwrap();
        log.invocations.push(BatchInvocation {
            records: records.clone(),
            outcome,
            deleted: Vec::new(),
            delete_errors: Vec::new(),
        });
        log.invocations.len() - 1
    };
    let to_delete: Vec<&Message> = messages
        .iter()
        .filter(|m| !failed.contains(m.message_id().unwrap_or_default()))
        .collect();

    let mut deleted = Vec::new();
    let mut delete_errors = Vec::new();
    if !to_delete.is_empty() {
        let entries: Vec<DeleteMessageBatchRequestEntry> = to_delete
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .expect("delete entry")
            })
            .collect();
        match sqs
            .delete_message_batch()
            .queue_url(&config.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                for ok in out.successful() {
                    if let Ok(i) = ok.id().parse::<usize>() {
                        deleted.push(to_delete[i].message_id().unwrap_or_default().to_string());
                    }
                }
                for err in out.failed() {
                    delete_errors.push(format!("{}: {} {:?}", err.id(), err.code(), err.message()));
                }
            }
            Err(e) => delete_errors.push(aws_err(&e)),
        }
    }
    let mut log = log.lock().unwrap();
    let entry = &mut log.invocations[index];
    entry.deleted = deleted;
    entry.delete_errors = delete_errors;
}

/// Apply Lambda's rules to a `ReportBatchItemFailures` response.
pub fn interpret_response(response: &Value, batch_ids: &HashSet<&str>) -> BatchOutcome {
    let failures = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchOutcome::Completed { failures: vec![] },
        Some(Value::Array(items)) => items,
        Some(_) => {
            return BatchOutcome::InvalidReport {
                reason: "batchItemFailures is not a list".into(),
                response: response.clone(),
            }
        }
    };
    let mut out = Vec::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && batch_ids.contains(id) => {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
            Some(id) if !id.is_empty() => {
                return BatchOutcome::InvalidReport {
                    reason: format!("itemIdentifier {id:?} is not in the batch"),
                    response: response.clone(),
                }
            }
            _ => {
                return BatchOutcome::InvalidReport {
                    reason: "empty or missing itemIdentifier".into(),
                    response: response.clone(),
                }
            }
        }
    }
    BatchOutcome::Completed { failures: out }
}

/// The event Lambda sends for a batch of SQS messages.
pub fn sqs_event(messages: &[Message], queue_arn: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut attributes = Map::new();
            if let Some(attrs) = m.attributes() {
                for (k, v) in attrs {
                    attributes.insert(k.as_str().to_string(), Value::String(v.clone()));
                }
            }
            let mut message_attributes = Map::new();
            if let Some(attrs) = m.message_attributes() {
                for (name, a) in attrs {
                    let b64 = |b: &aws_sdk_sqs::primitives::Blob| {
                        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
                    };
                    message_attributes.insert(
                        name.clone(),
                        json!({
                            "stringValue": a.string_value(),
                            "binaryValue": a.binary_value().map(b64),
                            "stringListValues": a.string_list_values(),
                            "binaryListValues": a.binary_list_values().iter().map(b64).collect::<Vec<_>>(),
                            "dataType": a.data_type(),
                        }),
                    );
                }
            }
            let mut record = json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body().unwrap_or_default(),
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            });
            if let Some(md5) = m.md5_of_message_attributes() {
                record["md5OfMessageAttributes"] = Value::String(md5.to_string());
            }
            record
        })
        .collect();
    json!({ "Records": records })
}
