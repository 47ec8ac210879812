//! `ingress`: the function URL that verifies webhooks and queues them. Wiring only; see handler.rs.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use hookrelay::{
    config::ConfigError,
    dedup::{DynamoLedger, DEDUP_TABLE_ENV},
    delivery::targets::Targets,
    foundation::secret::SecretResolver,
    queue::{SqsJobQueue, QUEUE_URL_ENV},
    startup,
};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

use ingress::handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init_tracing();
    let ingress = match init().await {
        Ok(ingress) => ingress,
        Err(e) => startup::fail_init(e).await,
    };
    let ingress = &ingress;
    // The raw function URL event, converted by `ingress::event` (not lambda_http, which panics
    // on some inputs: docs/behaviour.md, "Known library bugs worked around").
    run(service_fn(move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
        Ok::<_, Error>(ingress.handle_event(event).await)
    }))
    .await
}

async fn init() -> Result<handler::Ingress<SqsJobQueue, Option<DynamoLedger>, Targets>, ConfigError> {
    let config = startup::load_config().await?;
    let queue_url = hookrelay::queue::queue_url_from_env(QUEUE_URL_ENV)?;
    let sdk_config = startup::aws_sdk_config().await?;
    let queue = SqsJobQueue::new(startup::sqs_client(&sdk_config), queue_url);
    // Standard queues de-duplicate through this table when it is configured; FIFO queues need none.
    let ledger = std::env::var(DEDUP_TABLE_ENV)
        .ok()
        .filter(|table| !table.is_empty())
        .map(|table| DynamoLedger::new(startup::dynamodb_client(&sdk_config), table));
    hookrelay::dedup::warn_if_off(&config, hookrelay::queue::JobQueue::is_fifo(&queue), ledger.is_some());
    let resolver = SecretResolver::new(Some(sdk_config));
    let targets = match handler::needs_targets(&config) {
        true => Some(Targets::from_config(&config, &resolver).await?),
        false => None,
    };
    handler::Ingress::from_config(&config, &resolver, queue, ledger, targets).await
}
