//! The SQS batch: its records fanned out with bounded concurrency, each in its own task (a panic
//! fails only its record), the answer sent before the invocation deadline whatever is still
//! running, listing exactly the records that must come back (the partial-batch response).

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hookrelay::delivery::{callback::CallbackSender, targets::JobTarget};
use tokio::{sync::Semaphore, task::JoinSet, time::Instant};

use crate::{actions::RecordActions, job::Job, record::RecordHandler, settings::Settings, timeout_fit::FitCheck};

/// The batch answer is sent this long before the deadline, whatever is still running.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(250);

/// The worker handler: one per execution environment, handling each batch Lambda sends.
pub struct Worker<T, C, A> {
    pub(crate) target: Arc<T>,
    pub(crate) callbacks: Arc<C>,
    pub(crate) actions: Arc<A>,
    pub(crate) settings: Arc<Settings>,
    /// Whether the call timeout fits the function's: decided at the first batch.
    fit: Arc<FitCheck>,
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
            let worker = self.record_handler();
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

    /// The parts one record's task needs (shared, not copied).
    fn record_handler(&self) -> RecordHandler<T, C, A> {
        RecordHandler {
            target: Arc::clone(&self.target),
            callbacks: Arc::clone(&self.callbacks),
            actions: Arc::clone(&self.actions),
            settings: Arc::clone(&self.settings),
        }
    }
}
