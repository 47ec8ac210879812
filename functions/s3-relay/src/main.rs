//! `s3-relay`: S3 object events (direct, via SQS, or EventBridge) → queued jobs. Wiring only.

use hookrelay::{config::ConfigError, queue::SqsJobQueue, startup};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::Value;

use s3_relay::handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init_tracing();
    let relay = match init().await {
        Ok(relay) => relay,
        Err(e) => startup::fail_init(e).await,
    };
    let relay = &relay;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        relay.handle(event.payload).await
    }))
    .await
}

async fn init() -> Result<handler::S3Relay<SqsJobQueue>, ConfigError> {
    let config = startup::load_config().await?;
    let s3 = config
        .s3
        .ok_or_else(|| ConfigError::new("s3.algorithm", "s3-relay needs an `[s3]` table"))?;
    let queue_url = hookrelay::queue::queue_url_from_env(hookrelay::queue::QUEUE_URL_ENV)?;
    let sdk_config = startup::aws_sdk_config().await?;
    let queue = SqsJobQueue::new(startup::sqs_client(&sdk_config), queue_url);
    Ok(handler::S3Relay::new(queue, s3.rules))
}
