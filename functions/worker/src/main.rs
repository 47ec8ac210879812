//! `worker`: SQS-triggered; delivers each queued job to its target. Wiring only; see handler.rs.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hookrelay::{
    config::ConfigError,
    delivery::callback::Callbacks,
    delivery::retry::{Class, RetryPolicy},
    delivery::targets::Targets,
    foundation::secret::SecretResolver,
    queue::QUEUE_URL_ENV,
    startup,
};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

use worker::{
    actions::SqsActions,
    handler::{self, CallTimeouts, Settings, Worker},
};

/// The dead-letter queue permanent failures are sent to (required).
const DLQ_URL_ENV: &str = "HOOKRELAY_DLQ_URL";

/// How long `[worker] warm_up` waits for a target; Lambda allows 10 s for the whole init.
const WARM_UP_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init_tracing();
    let worker = match init().await {
        Ok(worker) => worker,
        Err(e) => startup::fail_init(e).await,
    };
    let worker = &worker;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = handler::deadline_from_epoch_ms(event.context.deadline);
        Ok::<SqsBatchResponse, Error>(worker.handle(event.payload, deadline).await)
    }))
    .await
}

async fn init() -> Result<Worker<Targets, Callbacks, SqsActions>, ConfigError> {
    let config = startup::load_config().await?;
    // One SDK config for the SQS client and any `secretsmanager:` secret.
    let sdk_config = startup::aws_sdk_config().await?;
    let resolver = SecretResolver::new(Some(sdk_config.clone()));
    let targets = Targets::from_config(&config, &resolver).await?;
    if config.worker.warm_up {
        let in_use = config.targets_in_use();
        let opened = targets.warm_up(in_use.iter().copied(), WARM_UP_WITHIN).await;
        tracing::info!(
            opened,
            targets = in_use.len(),
            "connections opened ahead of the first job"
        );
    }
    // Each route's callback secret, checked here: a bad key fails the cold start, not a job.
    let callbacks = Callbacks::from_config(&config, &resolver).await?;
    let dlq_url = hookrelay::queue::queue_url_from_env(DLQ_URL_ENV)?;
    // Optional: without it, each record's queue is found from its eventSourceARN (also where
    // follow-up callback jobs are queued).
    let queue_url = hookrelay::queue::optional_queue_url_from_env(QUEUE_URL_ENV)?;
    let sqs = startup::sqs_client(&sdk_config);
    let settings = Settings {
        concurrency: config.worker.concurrency,
        retry: RetryPolicy {
            base: config.worker.retry_base,
            cap: config.worker.retry_max,
            algorithm_errors: if config.worker.retry_algorithm_errors {
                Class::Transient
            } else {
                Class::Permanent
            },
        },
        call_timeouts: CallTimeouts::from_config(&config),
    };
    Ok(Worker::new(
        targets,
        callbacks,
        SqsActions::new(sqs, dlq_url, queue_url),
        settings,
    ))
}
