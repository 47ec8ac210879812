//! `worker`: SQS-triggered; delivers each queued job to its algorithm. Wiring only; see handler.rs.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use shared::{algorithm::AlgorithmClient, config::Config, secret::SecretResolver, startup};

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init_tracing();
    let worker = match init().await {
        Ok(worker) => worker,
        Err(e) => startup::fail_init(e).await,
    };
    let worker = &worker;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(worker.handle(event.payload).await)
    }))
    .await
}

async fn init() -> Result<handler::Worker<AlgorithmClient>, shared::config::ConfigError> {
    let config = Config::from_env()?;
    let api_key = match &config.downstream.api_key {
        Some(reference) => Some(
            SecretResolver::new(None)
                .resolve("downstream.api_key", reference)
                .await?,
        ),
        None => None,
    };
    let client = AlgorithmClient::new(&config.downstream, api_key)?;
    Ok(handler::Worker::new(client, config.worker.concurrency))
}
