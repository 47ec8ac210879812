//! `ingress`: the function URL that verifies webhooks and queues them. Wiring only; see handler.rs.

use lambda_http::{run, service_fn, Error, Request};
use shared::{config::Config, queue::SqsJobQueue, secret::SecretResolver, startup};

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    startup::init_tracing();
    let ingress = match init().await {
        Ok(ingress) => ingress,
        Err(e) => startup::fail_init(e).await,
    };
    let ingress = &ingress;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(ingress.handle(request).await)
    }))
    .await
}

async fn init() -> Result<handler::Ingress<SqsJobQueue>, shared::config::ConfigError> {
    let config = Config::from_env()?;
    let queue_url = startup::required_env(shared::queue::QUEUE_URL_ENV)?;
    let sdk_config = startup::aws_sdk_config().await;
    let queue = SqsJobQueue::new(startup::sqs_client(&sdk_config), queue_url);
    handler::Ingress::from_config(&config, &SecretResolver::new(Some(sdk_config)), queue).await
}
