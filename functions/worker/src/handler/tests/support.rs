//! What the handler tests share: a scripted target, records and batches as Lambda sends them,
//! workers with in-memory callbacks and SQS actions.

pub(super) use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    time::Duration,
};

pub(super) use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
pub(super) use hookrelay::{
    config::{AlgorithmOptions, AlgorithmPath, DOWNSTREAM},
    delivery::call::{CallError, Delivered},
    delivery::callback::memory::MemoryCallbacks,
    delivery::retry::RetryPolicy,
    delivery::retry_after::RetryAfter,
    delivery::targets::JobTarget,
    wire::envelope::{Envelope, Payload, Source, Target},
};
pub(super) use tokio::time::Instant;

pub(super) use crate::actions::{memory::MemoryActions, DeadLetter, RecordActions, RecordRef};
pub(super) use crate::handler::{CallTimeouts, Settings, Worker, ANSWER_MARGIN};

/// A target scripted by the job's input: `ok`, `sleep:<secs>`, `status:<code>`,
/// `retry-after:<secs>` (a 429 with `Retry-After`), `algorithm-error`, `timeout`,
/// `connection`, `unreadable`, `panic`. Tracks calls and concurrency.
#[derive(Default)]
pub(super) struct ScriptedTarget {
    pub(super) delivered: Mutex<Vec<String>>,
    pub(super) calls: AtomicUsize,
    pub(super) in_flight: AtomicUsize,
    pub(super) max_in_flight: AtomicUsize,
}

impl JobTarget for ScriptedTarget {
    async fn deliver(&self, envelope: &Envelope) -> Result<Delivered, CallError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let input = envelope
            .payload
            .to_bytes()
            .map_err(|e| CallError::BadJob(e.to_string()))?;
        let input = String::from_utf8(input).unwrap();
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let secs = input
            .strip_prefix("sleep:")
            .map_or(0.005, |s| s.parse::<f64>().unwrap());
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let status = |status: u16, retry_after| CallError::Status {
            status,
            message: "scripted".into(),
            retry_after,
        };
        let result = match input.as_str() {
            "panic" => panic!("scripted panic"),
            "algorithm-error" => Err(CallError::Algorithm("scripted failure".into())),
            "timeout" => Err(CallError::Timeout),
            "connection" => Err(CallError::Transport("connection refused".into())),
            "unreadable" => Err(CallError::InvalidResponse { status: 200 }),
            other => match (other.strip_prefix("status:"), other.strip_prefix("retry-after:")) {
                (Some(code), _) => Err(status(code.parse().unwrap(), None)),
                (_, Some(secs)) => Err(status(429, RetryAfter::parse(secs))),
                _ => Ok(()),
            },
        };
        result?;
        self.delivered.lock().unwrap().push(input);
        Ok(Delivered {
            status: 200,
            result: "ok".into(),
            metadata: serde_json::Value::Null,
        })
    }
}

pub(super) fn envelope_json(input: &str) -> String {
    Envelope {
        v: 1,
        id: format!("job-{input}"),
        source: Source::Webhook,
        route: "/hooks/x".into(),
        received_at: chrono::Utc::now(),
        delivery_id: Some("d-1".into()),
        content_type: None,
        target: Target {
            name: DOWNSTREAM.into(),
            algorithm: Some(AlgorithmPath::parse("k", "demo/Hello").unwrap()),
            options: AlgorithmOptions::default(),
        },
        payload: Payload::Text(input.into()),
        s3: None,
    }
    .to_json()
}

/// A record as Lambda delivers it: id, body, receive count, queue ARN.
pub(super) fn record(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.receipt_handle = Some(format!("rh-{id}"));
    m.body = Some(body.into());
    m.event_source_arn = Some("arn:aws:sqs:eu-west-1:123456789012:hookrelay-jobs".into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m
}

pub(super) fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

/// Records whose body is the envelope of each input, ids `m-<input>`, first receive.
pub(super) fn jobs(inputs: &[&str]) -> SqsEvent {
    event(
        inputs
            .iter()
            .map(|input| record(&format!("m-{input}"), &envelope_json(input), 1))
            .collect(),
    )
}

pub(super) fn settings(concurrency: usize, timeout_secs: u64) -> Settings {
    Settings {
        concurrency,
        retry: RetryPolicy::default(),
        call_timeouts: CallTimeouts::uniform(Duration::from_secs(timeout_secs)),
    }
}

pub(super) fn worker() -> Worker<ScriptedTarget, MemoryCallbacks, MemoryActions> {
    Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::default(),
        MemoryActions::default(),
        settings(4, 30),
    )
}

pub(super) fn in_a_minute() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

pub(super) fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

pub(super) fn reporting_worker() -> Worker<ScriptedTarget, MemoryCallbacks, MemoryActions> {
    Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::for_routes(&["/hooks/x"]),
        MemoryActions::default(),
        settings(4, 30),
    )
}

pub(super) fn unavailable() -> CallError {
    CallError::Status {
        status: 503,
        message: "Service Unavailable".into(),
        retry_after: None,
    }
}

/// The follow-up callback job of `job-<input>` with the given callback body.
pub(super) fn callback_job_json(input: &str, body: &serde_json::Value) -> String {
    let job = Envelope::from_json(&envelope_json(input)).unwrap();
    Envelope::for_callback(&job, body.to_string().as_bytes()).to_json()
}
