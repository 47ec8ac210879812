//! The worker handler: each SQS record is one job, delivered to its target concurrently (bounded).
//!
//! Every failure is classified ([`hookrelay::delivery::retry`]) and decided here, so a job is never lost and
//! never retried pointlessly:
//!
//! | outcome                                 | action                                  | reported failed? |
//! |-----------------------------------------|-----------------------------------------|------------------|
//! | delivered                               | —                                       | no (deleted)     |
//! | transient failure                       | hide it for the backoff / `Retry-After` | yes (retried)    |
//! | permanent failure, or a poison message  | send it to the DLQ with the reason      | no (deleted)     |
//! | … but the DLQ send failed               | —                                       | yes (retried)    |
//! | not started (it could not end in time)  | —                                       | yes (retried)    |
//! | unfinished at the deadline, or panicked | —                                       | yes (retried)    |
//!
//! A record is reported failed unless it was delivered or is safely on the DLQ.
//!
//! **Callbacks.** When the job's route has a `callback`, its final outcome (delivered, or
//! dead-lettered for a permanent failure) is then POSTed to the callback URL, signed
//! ([`hookrelay::delivery::callback`]). A callback that fails is never retried by calling the target again:
//! a transient failure (or no time left to try) queues a follow-up job (source `callback`) on the
//! record's queue, which is retried, backed off and dead-lettered like any job; a permanent one
//! dead-letters that follow-up job at once. Either way the record is done. Only when SQS takes
//! neither is the record reported failed, so the whole job comes back (its `Idempotency-Key`
//! lets the target absorb the repeat, the callback's `webhook-id` lets its receiver absorb its
//! own): the callback is never lost. A follow-up job only sends its callback.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime},
};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use hookrelay::{
    config::{Config, TargetSpec},
    delivery::call::{CallError, Delivered},
    delivery::callback::{self, CallbackSender, CALLBACK_TIMEOUT},
    delivery::retry::{self, Class, RetryPolicy},
    delivery::targets::JobTarget,
    wire::callback::{self as callback_body, Outcome},
    wire::envelope::{Envelope, EnvelopeError, Source},
};
use tokio::{sync::Semaphore, task::JoinSet, time::Instant};
use tracing::{error, info, warn};

pub use crate::timeout_fit::CALL_MARGIN;
use crate::{
    actions::{DeadLetter, RecordActions, RecordRef},
    timeout_fit::FitCheck,
};

/// The batch answer is sent this long before the deadline, whatever is still running.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(250);
/// When no call timeout fits the invocation at all, a call still starts if it gets this long.
const MIN_CALL_BUDGET: Duration = Duration::from_secs(1);
/// Used when the runtime gives no deadline (never on Lambda).
const NO_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The longest a call to each target may take (its client's timeout), by target name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTimeouts {
    default: Duration,
    by_target: HashMap<String, Duration>,
}

impl CallTimeouts {
    /// `[downstream] timeout_secs`, and each `[targets.<name>]`'s own timeout.
    pub fn from_config(config: &Config) -> Self {
        let by_target = config
            .targets
            .iter()
            .map(|(name, spec)| {
                let timeout = match spec {
                    TargetSpec::Algorithm(api) => api.timeout,
                    TargetSpec::Http(http) => http.timeout,
                };
                (name.clone(), timeout)
            })
            .collect();
        CallTimeouts {
            default: config.downstream.timeout,
            by_target,
        }
    }

    #[cfg(test)]
    pub fn uniform(timeout: Duration) -> Self {
        CallTimeouts {
            default: timeout,
            by_target: HashMap::new(),
        }
    }

    fn for_target(&self, name: &str) -> Duration {
        self.by_target.get(name).copied().unwrap_or(self.default)
    }
}

/// Everything that shapes the handler's decisions, fixed at cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Records of one batch in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub call_timeouts: CallTimeouts,
}

pub struct Worker<T, C, A> {
    target: Arc<T>,
    callbacks: Arc<C>,
    actions: Arc<A>,
    settings: Arc<Settings>,
    /// Whether the call timeout fits the function's: decided at the first batch.
    fit: Arc<FitCheck>,
}

/// The invocation deadline (`Lambda-Runtime-Deadline-Ms`, epoch milliseconds) as an [`Instant`].
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let now = Instant::now();
    if deadline_ms == 0 {
        return now + NO_DEADLINE;
    }
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    now + deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}

impl<T: JobTarget + 'static, C: CallbackSender + 'static, A: RecordActions + 'static> Worker<T, C, A> {
    pub fn new(target: T, callbacks: C, actions: A, settings: Settings) -> Self {
        Worker {
            target: Arc::new(target),
            callbacks: Arc::new(callbacks),
            actions: Arc::new(actions),
            settings: Arc::new(Settings {
                concurrency: settings.concurrency.max(1),
                ..settings
            }),
            fit: Arc::default(),
        }
    }

    /// Handles one batch; the answer lists exactly the records that must come back.
    pub async fn handle(&self, event: SqsEvent, deadline: Instant) -> SqsBatchResponse {
        let started = Instant::now();
        let invocation = deadline.saturating_duration_since(started);
        let timeout = self.settings.call_timeouts.default;
        if !event.records.is_empty() {
            // Static configuration: warned about once, not on every batch.
            self.fit.check_once(timeout, invocation);
        }
        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut tasks = JoinSet::new();
        let mut pending: HashMap<tokio::task::Id, Arc<Job>> = HashMap::with_capacity(event.records.len());
        for record in event.records {
            let job = Arc::new(Job::from_record(record));
            let worker = self.clone_parts();
            let permits = Arc::clone(&permits);
            let task_job = Arc::clone(&job);
            let handle = tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                worker.process(&task_job, started, deadline).await
            });
            pending.insert(handle.id(), job);
        }

        let mut failures = Vec::new();
        let answer_by = deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline);
        loop {
            let joined = match tokio::time::timeout_at(answer_by, tasks.join_next_with_id()).await {
                Ok(Some(joined)) => joined,
                Ok(None) => break,
                Err(_) => {
                    // Calls only start if they end in time, so only a stalled SQS action (visibility
                    // change, DLQ send) gets here. Answer now, or Lambda fails the whole batch; the
                    // unfinished records come back (one cut mid-DLQ-send may be dead-lettered twice).
                    tasks.abort_all();
                    for job in pending.values() {
                        job.log_unfinished("unfinished at the invocation deadline");
                    }
                    failures.extend(pending.drain().map(|(_, job)| job.failure()));
                    break;
                }
            };
            let (task_id, succeeded) = match joined {
                Ok((task_id, succeeded)) => (task_id, succeeded),
                Err(join_error) => {
                    // A panic fails this record only; the rest of the batch carries on.
                    if let Some(job) = pending.get(&join_error.id()) {
                        job.log_unfinished(&format!("record handler panicked: {join_error}"));
                    }
                    (join_error.id(), false)
                }
            };
            if let Some(job) = pending.remove(&task_id) {
                if !succeeded {
                    failures.push(job.failure());
                }
            }
        }
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }

    fn clone_parts(&self) -> Worker<T, C, A> {
        Worker {
            target: Arc::clone(&self.target),
            callbacks: Arc::clone(&self.callbacks),
            actions: Arc::clone(&self.actions),
            settings: Arc::clone(&self.settings),
            fit: Arc::clone(&self.fit),
        }
    }

    /// Delivers one record and acts on the outcome. `true` when the record may be deleted.
    async fn process(&self, job: &Job, invocation_start: Instant, deadline: Instant) -> bool {
        let started = Instant::now();
        let envelope = match &job.envelope {
            Ok(envelope) => envelope,
            Err(e) => {
                // Poison: no attempt can ever read it. Straight to the DLQ (if there is time).
                if started + CALL_MARGIN > deadline {
                    job.log(
                        None,
                        None,
                        Decision::NotStarted("no time left to dead-letter".into()),
                        started,
                    );
                    return false;
                }
                let failure = Failure {
                    class: Class::Permanent,
                    reason: e.to_string(),
                    status: None,
                };
                return self.dead_letter(job, failure, started).await;
            }
        };

        let is_callback = envelope.source == Source::Callback;
        let timeout = if is_callback {
            CALLBACK_TIMEOUT
        } else {
            self.settings.call_timeouts.for_target(&envelope.target.name)
        };
        let Some(budget) = call_budget(timeout, invocation_start, started, deadline) else {
            let left = deadline.saturating_duration_since(started);
            let reason = format!(
                "the call may take {}s + {}s margin, {}s left before the deadline",
                timeout.as_secs(),
                CALL_MARGIN.as_secs(),
                left.as_secs()
            );
            job.log(None, None, Decision::NotStarted(reason), started);
            return false;
        };
        let outcome = match tokio::time::timeout(budget, self.deliver(envelope)).await {
            Ok(outcome) => outcome,
            // Only when the configured timeout cannot fit the invocation (see `call_budget`).
            Err(_) => Err(CallError::Timeout),
        };
        let reports = !is_callback && self.callbacks.has_callback(&envelope.route);
        let error = match outcome {
            Ok(delivered) => {
                job.log(Some(delivered.status), None, Decision::Delivered, started);
                if reports {
                    return self
                        .callback(
                            job,
                            envelope,
                            Outcome::Succeeded {
                                result: &delivered.result,
                                metadata: &delivered.metadata,
                            },
                            deadline,
                        )
                        .await;
                }
                return true;
            }
            Err(error) => error,
        };
        let class = self.settings.retry.classify(&error);
        let failure = Failure {
            class,
            reason: if is_callback {
                callback::describe(&error)
            } else {
                error.to_string()
            },
            status: error.status(),
        };
        match class {
            Class::Permanent => {
                let (reason, status) = (failure.reason.clone(), failure.status);
                // Dead-lettered first: if that fails the record comes back, and reports then.
                let dead = self.dead_letter(job, failure, started).await;
                if dead && reports {
                    let outcome = Outcome::Failed {
                        message: &reason,
                        status,
                    };
                    return self.callback(job, envelope, outcome, deadline).await;
                }
                dead
            }
            Class::Transient => {
                let delay =
                    self.settings
                        .retry
                        .retry_delay(&error, job.attempt, chrono::Utc::now(), retry::random_unit());
                let decision = match self.actions.retry_later(&job.record, delay).await {
                    Ok(()) => Decision::RetryIn(delay),
                    Err(e) => Decision::RetryUnchanged(e.to_string()),
                };
                job.log(failure.status, Some(&failure), decision, started);
                false
            }
        }
    }

    /// A job goes to its target; a follow-up callback job only sends its callback.
    async fn deliver(&self, envelope: &Envelope) -> Result<Delivered, CallError> {
        if envelope.source != Source::Callback {
            return self.target.deliver(envelope).await;
        }
        let body = envelope
            .payload
            .to_bytes()
            .map_err(|e| CallError::BadJob(e.to_string()))?;
        let status = self.callbacks.send(&envelope.route, &envelope.id, &body).await?;
        Ok(Delivered {
            status,
            result: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
        })
    }

    /// Reports a job's final outcome to its route's callback, or leaves it to a follow-up job
    /// (see the module docs). `true` once the callback is sent, queued or dead-lettered: the
    /// record may then be deleted without the target ever being called again.
    async fn callback(&self, job: &Job, envelope: &Envelope, outcome: Outcome<'_>, deadline: Instant) -> bool {
        let started = Instant::now();
        let body = callback_body::body(envelope, &outcome);
        // Keep the margin for queueing the follow-up job if this attempt fails.
        let left = deadline.saturating_duration_since(started).saturating_sub(CALL_MARGIN);
        let error = if left < MIN_CALL_BUDGET {
            // Not tried: a transient "failure", so the follow-up job sends it.
            CallError::Transport("no time left to send it in this invocation".into())
        } else {
            let send = self.callbacks.send(&envelope.route, &envelope.id, &body);
            match tokio::time::timeout(left.min(CALLBACK_TIMEOUT), send).await {
                Ok(Ok(status)) => {
                    job.log_callback(Some(status), None, CallbackDecision::Sent, started);
                    return true;
                }
                Ok(Err(error)) => error,
                Err(_) => CallError::Timeout,
            }
        };
        let followup = Envelope::for_callback(envelope, &body);
        let class = self.settings.retry.classify(&error);
        let reason = callback::describe(&error);
        let done = match class {
            Class::Transient => self
                .actions
                .enqueue(&job.record, &followup, job.group_id.as_deref())
                .await
                .map(|()| CallbackDecision::Queued),
            Class::Permanent => {
                let letter = DeadLetter {
                    body: followup.to_json(),
                    message_id: format!("{}:callback", job.record.message_id),
                    group_id: job.group_id.clone(),
                    error: reason.clone(),
                    status: error.status(),
                    route: job.route.clone(),
                    attempts: 1,
                    failed_at: chrono::Utc::now(),
                };
                self.actions
                    .dead_letter(&letter)
                    .await
                    .map(|()| CallbackDecision::DeadLettered)
            }
        };
        let decision = done.unwrap_or_else(|e| CallbackDecision::NotQueued(e.to_string()));
        let ok = !matches!(decision, CallbackDecision::NotQueued(_));
        job.log_callback(error.status(), Some(&reason), decision, started);
        ok
    }

    async fn dead_letter(&self, job: &Job, failure: Failure, started: Instant) -> bool {
        let letter = DeadLetter {
            body: job.body.clone(),
            message_id: job.record.message_id.clone(),
            group_id: job.group_id.clone(),
            error: failure.reason.clone(),
            status: failure.status,
            route: job.route.clone(),
            attempts: job.attempt,
            failed_at: chrono::Utc::now(),
        };
        match self.actions.dead_letter(&letter).await {
            Ok(()) => {
                job.log(failure.status, Some(&failure), Decision::DeadLettered, started);
                if let Err(e) = self.actions.delete(&job.record).await {
                    // The event source deletes it too once the batch answers; only a slow batch repeats it.
                    tracing::warn!(message_id = %job.record.message_id, error = %e, "could not delete a dead-lettered record");
                }
                true
            }
            Err(e) => {
                job.log(
                    failure.status,
                    Some(&failure),
                    Decision::DeadLetterFailed(e.to_string()),
                    started,
                );
                false
            }
        }
    }
}

/// How long a call starting at `now` may take, or `None` when it must not start.
///
/// A call starts only if its whole timeout (plus [`CALL_MARGIN`]) fits before the deadline. When
/// the timeout does not even fit the whole invocation (`timeout_secs` longer than the function
/// timeout allows: a misconfiguration), waiting would never help and every job would be
/// dead-lettered by the redrive policy untried; the call then starts with the time left instead.
fn call_budget(timeout: Duration, invocation_start: Instant, now: Instant, deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(now).checked_sub(CALL_MARGIN)?;
    if left >= timeout {
        return Some(timeout);
    }
    let invocation = deadline.saturating_duration_since(invocation_start);
    let never_fits = invocation < timeout + CALL_MARGIN;
    (never_fits && left >= MIN_CALL_BUDGET).then_some(left)
}

/// One record and what is known about it before any attempt.
struct Job {
    record: RecordRef,
    body: String,
    group_id: Option<String>,
    /// `ApproximateReceiveCount`: 1 on the first attempt.
    attempt: u32,
    envelope: Result<Envelope, EnvelopeError>,
    /// From the envelope, or best effort from the JSON of one that cannot be read.
    route: Option<String>,
    id: Option<String>,
    delivery_id: Option<String>,
    /// The envelope's `source` (`webhook`, `s3`, `callback`), when readable.
    source: Option<&'static str>,
}

impl Job {
    fn from_record(record: SqsMessage) -> Job {
        let attempt = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let group_id = record.attributes.get("MessageGroupId").cloned();
        let body = record.body.unwrap_or_default();
        let envelope = Envelope::from_json(&body);
        let source = envelope.as_ref().ok().map(|e| match e.source {
            Source::Webhook => "webhook",
            Source::S3 => "s3",
            Source::Callback => "callback",
        });
        let (route, id, delivery_id) = match &envelope {
            Ok(e) => (Some(e.route.clone()), Some(e.id.clone()), e.delivery_id.clone()),
            Err(_) => loose_fields(&body),
        };
        Job {
            record: RecordRef {
                // An empty id, if ever reported, makes Lambda retry the whole batch: safe, never lossy.
                message_id: record.message_id.unwrap_or_default(),
                receipt_handle: record.receipt_handle,
                queue_arn: record.event_source_arn,
            },
            body,
            group_id,
            attempt,
            envelope,
            route,
            id,
            delivery_id,
            source,
        }
    }

    fn failure(&self) -> BatchItemFailure {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = self.record.message_id.clone();
        failure
    }

    /// The one log line of a record: identifiers, outcome, decision, duration; never the payload.
    fn log(&self, status: Option<u16>, failure: Option<&Failure>, decision: Decision, started: Instant) {
        let duration_ms = started.elapsed().as_millis() as u64;
        let (route, id, delivery_id) = (self.route.as_deref(), self.id.as_deref(), self.delivery_id.as_deref());
        let message_id = self.record.message_id.as_str();
        let source = self.source;
        let attempt = self.attempt;
        let classification = failure.map(|f| f.class.as_str());
        let error = failure.map(|f| f.reason.as_str());
        let level = decision.level();
        let decision = decision.to_string();
        let decision = decision.as_str();
        match level {
            tracing::Level::INFO => info!(
                route,
                id,
                delivery_id,
                message_id,
                source,
                attempt,
                status,
                classification,
                decision,
                duration_ms,
                error,
                "record done"
            ),
            tracing::Level::WARN => warn!(
                route,
                id,
                delivery_id,
                message_id,
                source,
                attempt,
                status,
                classification,
                decision,
                duration_ms,
                error,
                "record done"
            ),
            _ => error!(
                route,
                id,
                delivery_id,
                message_id,
                source,
                attempt,
                status,
                classification,
                decision,
                duration_ms,
                error,
                "record done"
            ),
        }
    }

    /// The log line of a job's callback: identifiers, the callback's status and what became of
    /// it; never the body or the URL.
    fn log_callback(&self, status: Option<u16>, error: Option<&str>, decision: CallbackDecision, started: Instant) {
        let duration_ms = started.elapsed().as_millis() as u64;
        let (route, id, delivery_id) = (self.route.as_deref(), self.id.as_deref(), self.delivery_id.as_deref());
        let message_id = self.record.message_id.as_str();
        let level = decision.level();
        let decision = decision.to_string();
        let decision = decision.as_str();
        macro_rules! line {
            ($level:ident) => {
                $level!(
                    route,
                    id,
                    delivery_id,
                    message_id,
                    status,
                    decision,
                    duration_ms,
                    error,
                    "callback"
                )
            };
        }
        match level {
            tracing::Level::INFO => line!(info),
            tracing::Level::WARN => line!(warn),
            _ => line!(error),
        }
    }

    /// The log line of a record whose task did not finish (panic, or the invocation deadline).
    fn log_unfinished(&self, reason: &str) {
        error!(
            route = self.route.as_deref(),
            id = self.id.as_deref(),
            delivery_id = self.delivery_id.as_deref(),
            message_id = self.record.message_id.as_str(),
            attempt = self.attempt,
            decision = "retry after the visibility timeout",
            error = reason,
            "record done"
        );
    }
}

/// `route`, `id` and `delivery_id` of a message that is not a readable envelope, if it is a JSON
/// object carrying them as strings (for the log line and the dead letter's attributes).
fn loose_fields(body: &str) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, None, None);
    };
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(|s| s.chars().take(256).collect::<String>())
    };
    (text("route"), text("id"), text("delivery_id"))
}

/// Why a record failed.
struct Failure {
    class: Class,
    reason: String,
    status: Option<u16>,
}

/// What became of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Delivered,
    /// Hidden for this long, then retried.
    RetryIn(Duration),
    /// Retried after the queue's visibility timeout: the visibility change failed.
    RetryUnchanged(String),
    DeadLettered,
    /// Retried after the queue's visibility timeout: the DLQ did not take it.
    DeadLetterFailed(String),
    /// Not attempted; retried after the queue's visibility timeout.
    NotStarted(String),
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Delivered => write!(f, "delivered"),
            Decision::RetryIn(delay) => write!(f, "retry in {}s", delay.as_secs()),
            Decision::RetryUnchanged(e) => {
                write!(f, "retry after the visibility timeout (visibility unchanged: {e})")
            }
            Decision::DeadLettered => write!(f, "dead-lettered"),
            Decision::DeadLetterFailed(e) => {
                write!(f, "retry after the visibility timeout (dead-lettering failed: {e})")
            }
            Decision::NotStarted(why) => write!(f, "not started, retry after the visibility timeout ({why})"),
        }
    }
}

impl Decision {
    /// Delivered: info. Coming back for another attempt: warn. Failed for good (dead-lettered, or
    /// meant to be and the DLQ did not take it): error, someone has to look.
    fn level(&self) -> tracing::Level {
        match self {
            Decision::Delivered => tracing::Level::INFO,
            Decision::RetryIn(_) | Decision::RetryUnchanged(_) | Decision::NotStarted(_) => tracing::Level::WARN,
            Decision::DeadLettered | Decision::DeadLetterFailed(_) => tracing::Level::ERROR,
        }
    }
}

/// What became of a job's callback.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallbackDecision {
    Sent,
    /// A follow-up callback job retries it.
    Queued,
    /// Failed for good: the follow-up callback job is on the DLQ.
    DeadLettered,
    /// SQS took neither: the whole record is retried.
    NotQueued(String),
}

impl std::fmt::Display for CallbackDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallbackDecision::Sent => write!(f, "callback sent"),
            CallbackDecision::Queued => write!(f, "callback queued for retry"),
            CallbackDecision::DeadLettered => write!(f, "callback dead-lettered"),
            CallbackDecision::NotQueued(e) => {
                write!(f, "callback not queued ({e}): the record is retried")
            }
        }
    }
}

impl CallbackDecision {
    fn level(&self) -> tracing::Level {
        match self {
            CallbackDecision::Sent => tracing::Level::INFO,
            CallbackDecision::Queued => tracing::Level::WARN,
            CallbackDecision::DeadLettered | CallbackDecision::NotQueued(_) => tracing::Level::ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    };

    use hookrelay::{
        config::{AlgorithmOptions, AlgorithmPath, DOWNSTREAM},
        delivery::call::Delivered,
        delivery::retry_after::RetryAfter,
        wire::envelope::{Payload, Source, Target},
    };

    use hookrelay::delivery::callback::memory::MemoryCallbacks;

    use super::*;
    use crate::actions::memory::MemoryActions;

    /// A target scripted by the job's input: `ok`, `sleep:<secs>`, `status:<code>`,
    /// `retry-after:<secs>` (a 429 with `Retry-After`), `algorithm-error`, `timeout`,
    /// `connection`, `unreadable`, `panic`. Tracks calls and concurrency.
    #[derive(Default)]
    struct ScriptedTarget {
        delivered: Mutex<Vec<String>>,
        calls: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
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

    fn envelope_json(input: &str) -> String {
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
    fn record(id: &str, body: &str, receive_count: u32) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.receipt_handle = Some(format!("rh-{id}"));
        m.body = Some(body.into());
        m.event_source_arn = Some("arn:aws:sqs:eu-west-1:123456789012:hookrelay-jobs".into());
        m.attributes
            .insert("ApproximateReceiveCount".into(), receive_count.to_string());
        m
    }

    fn event(records: Vec<SqsMessage>) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = records;
        event
    }

    /// Records whose body is the envelope of each input, ids `m-<input>`, first receive.
    fn jobs(inputs: &[&str]) -> SqsEvent {
        event(
            inputs
                .iter()
                .map(|input| record(&format!("m-{input}"), &envelope_json(input), 1))
                .collect(),
        )
    }

    fn settings(concurrency: usize, timeout_secs: u64) -> Settings {
        Settings {
            concurrency,
            retry: RetryPolicy::default(),
            call_timeouts: CallTimeouts::uniform(Duration::from_secs(timeout_secs)),
        }
    }

    fn worker() -> Worker<ScriptedTarget, MemoryCallbacks, MemoryActions> {
        Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::default(),
            MemoryActions::default(),
            settings(4, 30),
        )
    }

    fn in_a_minute() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
        let mut ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn delivered_records_are_not_reported() {
        let w = worker();
        let response = w.handle(jobs(&["a", "b"]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty());
        assert_eq!(w.target.delivered.lock().unwrap().len(), 2);
        assert!(w.actions.retries().is_empty() && w.actions.dead_letters().is_empty());
    }

    #[tokio::test]
    async fn permanent_failures_are_dead_lettered_at_once_and_not_reported() {
        let w = worker();
        let mut records = vec![record("m-400", &envelope_json("status:400"), 3)];
        records.push(record("m-404", &envelope_json("status:404"), 1));
        records.push(record("m-algo", &envelope_json("algorithm-error"), 1));
        let response = w.handle(event(records), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty(), "{response:?}");
        assert!(w.actions.retries().is_empty());
        let letters = w.actions.dead_letters();
        let ids: Vec<_> = letters.iter().map(|l| l.message_id.as_str()).collect();
        assert_eq!(ids, ["m-400", "m-404", "m-algo"]);

        let first = &letters[0];
        assert!(first.body.contains(r#""id":"job-status:400""#), "{}", first.body);
        assert_eq!(first.status, Some(400));
        assert_eq!(first.route.as_deref(), Some("/hooks/x"));
        assert_eq!(first.attempts, 3);
        assert!(first.error.contains("400"), "{}", first.error);
        assert!((chrono::Utc::now() - first.failed_at).num_seconds().abs() < 60);
        assert_eq!(letters[2].status, None);
        assert!(letters[2].error.contains("scripted failure"), "{}", letters[2].error);
        assert_eq!(w.target.calls.load(Ordering::SeqCst), 3, "one attempt each");
    }

    #[tokio::test]
    async fn the_dead_letter_carries_the_original_body_unchanged() {
        let w = worker();
        let body = envelope_json("status:422");
        w.handle(event(vec![record("m1", &body, 1)]), in_a_minute()).await;
        assert_eq!(w.actions.dead_letters()[0].body, body);
    }

    #[tokio::test]
    async fn poison_messages_are_dead_lettered_without_a_call() {
        let w = worker();
        let mut unknown_version: serde_json::Value = serde_json::from_str(&envelope_json("a")).unwrap();
        unknown_version["v"] = 9.into();
        let mut bad_base64: serde_json::Value = serde_json::from_str(&envelope_json("a")).unwrap();
        bad_base64["payload"] = serde_json::json!({"base64": "!!"});
        let records = vec![
            record("m1-garbage", "not an envelope", 1),
            record("m2-version", &unknown_version.to_string(), 1),
            record("m3-empty", "", 1),
            record("m4-base64", &bad_base64.to_string(), 1),
        ];
        let response = w.handle(event(records), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty(), "{response:?}");
        let letters = w.actions.dead_letters();
        assert_eq!(letters.len(), 4);
        assert!(
            letters[0].error.contains("not a hookrelay envelope"),
            "{}",
            letters[0].error
        );
        assert_eq!(letters[0].route, None);
        assert!(
            letters[1].error.contains("unsupported envelope version 9"),
            "{}",
            letters[1].error
        );
        assert_eq!(
            letters[1].route.as_deref(),
            Some("/hooks/x"),
            "best effort from the JSON"
        );
        assert_eq!(letters[1].body, unknown_version.to_string());
        assert!(letters[3].error.contains("base64"), "{}", letters[3].error);
        // Only the bad-base64 job reached the target (whose client refuses it as a bad job).
        assert_eq!(w.target.calls.load(Ordering::SeqCst), 1);
        assert!(w.target.delivered.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn transient_failures_are_reported_and_hidden_for_the_backoff() {
        let w = worker();
        let inputs = [
            "status:500",
            "status:503",
            "status:429",
            "status:408",
            "timeout",
            "connection",
            "unreadable",
        ];
        let receive_count = 4;
        let records = inputs
            .iter()
            .map(|input| record(&format!("m-{input}"), &envelope_json(input), receive_count))
            .collect();
        let response = w.handle(event(records), in_a_minute()).await;
        let mut expected: Vec<String> = inputs.iter().map(|i| format!("m-{i}")).collect();
        expected.sort();
        assert_eq!(failed_ids(&response), expected);
        assert!(w.actions.dead_letters().is_empty());
        let retries = w.actions.retries();
        assert_eq!(retries.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), expected);
        let ceiling = RetryPolicy::default().backoff_ceiling(receive_count);
        assert_eq!(ceiling, Duration::from_secs(16));
        for (id, delay) in retries {
            assert!(delay <= ceiling, "{id}: {delay:?}");
        }
    }

    #[tokio::test]
    async fn retry_after_from_the_target_is_honoured() {
        let w = worker();
        let response = w
            .handle(jobs(&["retry-after:120", "retry-after:999999"]), in_a_minute())
            .await;
        assert_eq!(failed_ids(&response).len(), 2);
        assert_eq!(
            w.actions.retries(),
            [
                ("m-retry-after:120".to_owned(), Duration::from_secs(120)),
                (
                    "m-retry-after:999999".to_owned(),
                    hookrelay::delivery::retry_after::SQS_MAX_VISIBILITY
                ),
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_visibility_change_still_reports_the_record() {
        let w = worker();
        w.actions.visibility_down.store(true, Ordering::SeqCst);
        let response = w.handle(jobs(&["status:503"]), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-status:503"]);
    }

    #[tokio::test]
    async fn a_failed_dlq_send_reports_the_record_so_it_is_not_lost() {
        let w = worker();
        w.actions.dlq_down.store(true, Ordering::SeqCst);
        let mut records = jobs(&["status:400", "ok"]).records;
        records.push(record("m-poison", "{}", 1));
        let response = w.handle(event(records), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-poison", "m-status:400"]);
        assert!(w.actions.dead_letters().is_empty() && w.actions.retries().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn records_that_cannot_finish_before_the_deadline_are_not_started() {
        // One at a time, 4 s each, 10 s call timeout, 15 s left: the first starts (10 + 2 fit),
        // the others would have 11 s left when their turn comes, so they do not start.
        let w = Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::default(),
            MemoryActions::default(),
            settings(1, 10),
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        let response = w.handle(jobs(&["sleep:4", "sleep:4.0", "sleep:4.00"]), deadline).await;
        assert_eq!(w.target.calls.load(Ordering::SeqCst), 1);
        assert_eq!(failed_ids(&response).len(), 2, "{response:?}");
        assert!(!failed_ids(&response).contains(&format!("m-{}", w.target.delivered.lock().unwrap()[0])));
        assert!(
            w.actions.retries().is_empty(),
            "unstarted records keep their visibility"
        );
        assert!(w.actions.dead_letters().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_starts_past_the_deadline_not_even_dead_lettering() {
        let w = worker();
        let mut records = jobs(&["ok"]).records;
        records.push(record("m-poison", "not an envelope", 1));
        let response = w.handle(event(records), Instant::now() + Duration::from_secs(1)).await;
        assert_eq!(failed_ids(&response), ["m-ok", "m-poison"]);
        assert_eq!(w.target.calls.load(Ordering::SeqCst), 0);
        assert!(w.actions.dead_letters().is_empty() && w.actions.retries().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_longer_than_the_invocation_still_lets_jobs_be_tried() {
        // timeout_secs 60 can never fit a 20 s invocation: calls get the time left instead.
        let w = Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::default(),
            MemoryActions::default(),
            settings(4, 60),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let response = w.handle(jobs(&["ok", "sleep:30"]), deadline).await;
        assert_eq!(failed_ids(&response), ["m-sleep:30"]);
        assert_eq!(*w.target.delivered.lock().unwrap(), ["ok"]);
        let retries = w.actions.retries();
        assert_eq!(retries.len(), 1, "cut short as a timeout: transient");
        assert!(Instant::now() <= deadline);
    }

    #[tokio::test(start_paused = true)]
    async fn the_answer_is_sent_before_the_deadline_even_if_sqs_stalls() {
        #[derive(Default)]
        struct StalledActions;
        impl RecordActions for StalledActions {
            async fn retry_later(&self, _: &RecordRef, _: Duration) -> Result<(), crate::actions::ActionError> {
                std::future::pending().await
            }
            async fn dead_letter(&self, _: &DeadLetter) -> Result<(), crate::actions::ActionError> {
                std::future::pending().await
            }
            async fn enqueue(
                &self,
                _: &RecordRef,
                _: &Envelope,
                _: Option<&str>,
            ) -> Result<(), crate::actions::ActionError> {
                std::future::pending().await
            }
        }
        let w = Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::default(),
            StalledActions,
            settings(4, 10),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let response = w.handle(jobs(&["ok", "status:503", "status:400"]), deadline).await;
        assert_eq!(failed_ids(&response), ["m-status:400", "m-status:503"]);
        assert!(Instant::now() <= deadline - ANSWER_MARGIN);
    }

    #[tokio::test]
    async fn a_panic_fails_only_its_record() {
        let w = worker();
        let response = w.handle(jobs(&["a", "panic", "b"]), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-panic"]);
        assert!(w.actions.retries().is_empty() && w.actions.dead_letters().is_empty());
        assert_eq!(w.target.delivered.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_mixed_batch_reports_exactly_the_records_that_must_come_back() {
        let w = worker();
        let mut records = jobs(&["a", "status:400", "status:503", "panic", "b"]).records;
        records.push(record("m-garbage", "not an envelope", 1));
        let response = w.handle(event(records), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-panic", "m-status:503"]);
        let letters: Vec<_> = w.actions.dead_letters().into_iter().map(|l| l.message_id).collect();
        assert_eq!(letters, ["m-garbage", "m-status:400"]);
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let w = Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::default(),
            MemoryActions::default(),
            settings(3, 30),
        );
        let inputs: Vec<String> = (0..20).map(|i| format!("x{i}")).collect();
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let response = w.handle(jobs(&inputs), in_a_minute()).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(w.target.delivered.lock().unwrap().len(), 20);
        let max = w.target.max_in_flight.load(Ordering::SeqCst);
        assert!((2..=3).contains(&max), "max in flight was {max}");
    }

    #[tokio::test]
    async fn an_empty_batch_succeeds() {
        assert!(worker()
            .handle(SqsEvent::default(), in_a_minute())
            .await
            .batch_item_failures
            .is_empty());
    }

    // ---- callbacks -------------------------------------------------------------------------

    fn reporting_worker() -> Worker<ScriptedTarget, MemoryCallbacks, MemoryActions> {
        Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::for_routes(&["/hooks/x"]),
            MemoryActions::default(),
            settings(4, 30),
        )
    }

    fn unavailable() -> CallError {
        CallError::Status {
            status: 503,
            message: "Service Unavailable".into(),
            retry_after: None,
        }
    }

    /// The follow-up callback job of `job-<input>` with the given callback body.
    fn callback_job_json(input: &str, body: &serde_json::Value) -> String {
        let job = Envelope::from_json(&envelope_json(input)).unwrap();
        Envelope::for_callback(&job, body.to_string().as_bytes()).to_json()
    }

    #[tokio::test]
    async fn the_result_is_sent_to_the_callback_after_success() {
        let w = reporting_worker();
        let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty(), "{response:?}");
        let sent = w.callbacks.delivered();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!((sent[0].route.as_str(), sent[0].id.as_str()), ("/hooks/x", "job-hello"));
        assert_eq!(
            sent[0].body,
            serde_json::json!({
                "id": "job-hello",
                "route": "/hooks/x",
                "delivery_id": "d-1",
                "status": "succeeded",
                "result": "ok",
            })
        );
        assert!(w.actions.queued().is_empty() && w.actions.dead_letters().is_empty());
    }

    #[tokio::test]
    async fn routes_without_a_callback_send_none() {
        let w = Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::for_routes(&["/hooks/other"]),
            MemoryActions::default(),
            settings(4, 30),
        );
        let response = w.handle(jobs(&["a", "status:400"]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty());
        assert!(w.callbacks.attempts().is_empty());
    }

    #[tokio::test]
    async fn a_failed_callback_queues_a_follow_up_job_and_the_job_is_done() {
        let w = reporting_worker();
        w.callbacks.then(Err(unavailable()));
        let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty(), "the job itself is done: {response:?}");
        assert_eq!(w.target.calls.load(Ordering::SeqCst), 1);
        assert!(w.actions.retries().is_empty() && w.actions.dead_letters().is_empty());
        let queued = w.actions.queued();
        assert_eq!(queued.len(), 1);
        let (message_id, followup) = &queued[0];
        assert_eq!(message_id, "m-hello");
        assert_eq!(followup.source, Source::Callback);
        assert_eq!(
            (followup.id.as_str(), followup.route.as_str()),
            ("job-hello", "/hooks/x")
        );
        assert_eq!(followup.target.name, "callback");
        assert_eq!(followup.target.algorithm, None);
        let body: serde_json::Value = serde_json::from_slice(&followup.payload.to_bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            w.callbacks.attempts()[0].body,
            "the follow-up carries the same callback"
        );
    }

    #[tokio::test]
    async fn a_callback_job_sends_its_callback_and_never_calls_the_target() {
        let w = reporting_worker();
        let body = serde_json::json!({"id": "job-x", "route": "/hooks/x", "status": "succeeded", "result": 1});
        let records = vec![record("m-cb", &callback_job_json("x", &body), 2)];
        let response = w.handle(event(records), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty(), "{response:?}");
        assert_eq!(
            w.target.calls.load(Ordering::SeqCst),
            0,
            "the algorithm is never called again"
        );
        let sent = w.callbacks.delivered();
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].id.as_str(), &sent[0].body), ("job-x", &body));
        assert!(w.actions.queued().is_empty());
    }

    #[tokio::test]
    async fn a_failing_callback_job_is_retried_with_backoff_then_dead_lettered_like_any_job() {
        let w = reporting_worker();
        let body = serde_json::json!({"id": "job-x", "status": "succeeded", "result": 1});
        w.callbacks.then(Err(unavailable()));
        w.callbacks.then(Err(CallError::Status {
            status: 410,
            message: "Gone".into(),
            retry_after: None,
        }));
        let transient = record("m-cb1", &callback_job_json("x", &body), 3);
        let response = w.handle(event(vec![transient]), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-cb1"]);
        assert_eq!(w.actions.retries().len(), 1);
        let permanent = record("m-cb2", &callback_job_json("y", &body), 1);
        let response = w.handle(event(vec![permanent.clone()]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty());
        let letters = w.actions.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(Some(letters[0].body.as_str()), permanent.body.as_deref());
        assert_eq!(letters[0].status, Some(410));
        assert_eq!(w.target.calls.load(Ordering::SeqCst), 0);
        assert!(
            w.actions.queued().is_empty(),
            "a callback job is retried itself, not re-queued"
        );
    }

    #[tokio::test]
    async fn a_permanent_failure_is_dead_lettered_then_reported_as_failed() {
        let w = reporting_worker();
        let response = w.handle(jobs(&["status:400"]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty());
        assert_eq!(w.actions.dead_letters().len(), 1);
        let sent = w.callbacks.delivered();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].body["status"], "failed");
        assert_eq!(sent[0].body["error"]["status"], 400);
        assert!(sent[0].body["error"]["message"].as_str().unwrap().contains("400"));
        assert!(sent[0].body.get("result").is_none());
    }

    #[tokio::test]
    async fn transient_failures_send_no_callback_yet() {
        let w = reporting_worker();
        let response = w.handle(jobs(&["status:503"]), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-status:503"]);
        assert!(w.callbacks.attempts().is_empty());
    }

    #[tokio::test]
    async fn a_callback_refused_for_good_is_dead_lettered_as_a_follow_up_job() {
        let w = reporting_worker();
        w.callbacks.then(Err(CallError::Status {
            status: 401,
            message: "Unauthorized".into(),
            retry_after: None,
        }));
        let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
        assert!(failed_ids(&response).is_empty());
        assert!(w.actions.queued().is_empty());
        let letters = w.actions.dead_letters();
        assert_eq!(letters.len(), 1);
        let followup = Envelope::from_json(&letters[0].body).unwrap();
        assert_eq!((followup.source, followup.id.as_str()), (Source::Callback, "job-hello"));
        assert_eq!(letters[0].message_id, "m-hello:callback");
        assert_eq!(letters[0].status, Some(401));
        assert!(
            letters[0].error.starts_with("callback URL answered 401"),
            "{}",
            letters[0].error
        );
    }

    #[tokio::test]
    async fn when_sqs_takes_no_follow_up_the_record_comes_back_so_the_callback_is_not_lost() {
        let w = reporting_worker();
        w.callbacks.then(Err(CallError::Timeout));
        w.actions.queue_down.store(true, Ordering::SeqCst);
        let response = w.handle(jobs(&["hello"]), in_a_minute()).await;
        assert_eq!(failed_ids(&response), ["m-hello"]);
    }

    #[tokio::test(start_paused = true)]
    async fn without_time_left_for_the_callback_it_is_queued_untried() {
        // The call takes 13.5 s of 16: 2.5 s left, minus the 2 s margin kept for queueing, is
        // under the 1 s a call needs: the callback is queued without an attempt.
        let w = Worker::new(
            ScriptedTarget::default(),
            MemoryCallbacks::for_routes(&["/hooks/x"]),
            MemoryActions::default(),
            settings(4, 14),
        );
        let deadline = Instant::now() + Duration::from_secs(16);
        let response = w.handle(jobs(&["sleep:13.5"]), deadline).await;
        assert!(failed_ids(&response).is_empty(), "{response:?}");
        assert!(w.callbacks.attempts().is_empty());
        assert_eq!(w.actions.queued().len(), 1);
    }

    #[test]
    fn call_budgets() {
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let timeout = Duration::from_secs(10);
        // Fits: the whole timeout.
        assert_eq!(call_budget(timeout, start, start, at(12)), Some(timeout));
        assert_eq!(call_budget(timeout, start, at(3), at(20)), Some(timeout));
        // Would fit a fresh invocation but not this late in one: not started.
        assert_eq!(call_budget(timeout, start, at(9), at(20)), None);
        // Never fits the invocation: the time left, while there is at least a second of it.
        assert_eq!(call_budget(timeout, start, at(1), at(8)), Some(Duration::from_secs(5)));
        assert_eq!(call_budget(timeout, start, at(5), at(8)), Some(Duration::from_secs(1)));
        assert_eq!(call_budget(timeout, start, at(6), at(8)), None);
        assert_eq!(call_budget(timeout, start, at(9), at(8)), None);
    }

    #[test]
    fn deadlines_from_the_runtime() {
        let now = Instant::now();
        let epoch_ms = |offset_ms: i64| {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
            (now.as_millis() as i64 + offset_ms) as u64
        };
        let in_30s = deadline_from_epoch_ms(epoch_ms(30_000));
        assert!(in_30s > now + Duration::from_secs(29) && in_30s <= Instant::now() + Duration::from_secs(30));
        assert!(
            deadline_from_epoch_ms(epoch_ms(-5_000)) <= Instant::now(),
            "past: no time left"
        );
        assert!(
            deadline_from_epoch_ms(0) >= now + NO_DEADLINE,
            "unknown: Lambda's longest"
        );
    }

    #[test]
    fn call_timeouts_follow_each_targets_config() {
        let config = Config::from_toml(
            r#"
[downstream]
timeout_secs = 30

[targets.hook]
type = "http"
url = "https://hooks.example.test/in"
timeout_secs = 5

[targets.other-api]
type = "algorithm"
base_url = "https://api.example.test"
timeout_secs = 7
"#,
        )
        .unwrap();
        let timeouts = CallTimeouts::from_config(&config);
        assert_eq!(timeouts.for_target(DOWNSTREAM), Duration::from_secs(30));
        assert_eq!(timeouts.for_target("hook"), Duration::from_secs(5));
        assert_eq!(timeouts.for_target("other-api"), Duration::from_secs(7));
        assert_eq!(timeouts.for_target("unknown"), Duration::from_secs(30));
    }

    #[test]
    fn loose_fields_of_unreadable_messages() {
        assert_eq!(
            loose_fields(r#"{"v":7,"route":"/hooks/a","id":"j1","delivery_id":"d1"}"#),
            (Some("/hooks/a".into()), Some("j1".into()), Some("d1".into()))
        );
        assert_eq!(loose_fields(r#"{"route":5}"#), (None, None, None));
        assert_eq!(loose_fields("[1]"), (None, None, None));
        assert_eq!(loose_fields("garbage"), (None, None, None));
    }
}
