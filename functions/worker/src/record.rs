//! One record: parse the envelope, deliver it, classify the outcome with the retry policy, then
//! retry it later, dead-letter it, or report it to its callback (or a follow-up callback job).
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

use std::sync::Arc;

use hookrelay::{
    delivery::call::{CallError, Delivered},
    delivery::callback::{self, CallbackSender, CALLBACK_TIMEOUT},
    delivery::retry::{self, Class},
    delivery::targets::JobTarget,
    wire::callback::{self as callback_body, Outcome},
    wire::envelope::{Envelope, Source},
};
use tokio::time::Instant;

use crate::{
    actions::{DeadLetter, RecordActions},
    budget::{call_budget, CALL_MARGIN, MIN_CALL_BUDGET},
    job::{CallbackDecision, Decision, Failure, Job},
    settings::Settings,
};

/// What one record's processing needs: shared by the records of a batch, each task its own copy.
pub(crate) struct RecordHandler<T, C, A> {
    pub(crate) target: Arc<T>,
    pub(crate) callbacks: Arc<C>,
    pub(crate) actions: Arc<A>,
    pub(crate) settings: Arc<Settings>,
}

impl<T: JobTarget, C: CallbackSender, A: RecordActions> RecordHandler<T, C, A> {
    /// Delivers one record and acts on the outcome. `true` when the record may be deleted.
    pub(crate) async fn process(&self, job: &Job, invocation_start: Instant, deadline: Instant) -> bool {
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
