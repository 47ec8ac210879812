//! Cold-start plumbing every function shares: logging, the AWS SDK config, and reporting init
//! failures to the Lambda Runtime API so a bad deploy fails loudly with a message naming the key.

use std::fmt::Display;

/// Logging that follows Lambda's controls: JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, level from
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// The SDK config from the standard environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials),
/// over hookrelay's HTTP client ([`crate::sdk_http`]).
pub async fn aws_sdk_config() -> Result<aws_config::SdkConfig, crate::config::ConfigError> {
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::sdk_http::http_client()?)
        .load()
        .await)
}

/// Bounded timeouts for calls a webhook sender waits on: a stalled queue or table must become a
/// prompt 503 (the sender retries), not a Lambda timeout.
fn bounded_timeouts() -> aws_config::timeout::TimeoutConfig {
    use std::time::Duration;
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// The SQS client used to enqueue jobs.
pub fn sqs_client(sdk_config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::config::Builder::from(sdk_config)
        .timeout_config(bounded_timeouts())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The DynamoDB client of the de-duplication ledger.
pub fn dynamodb_client(sdk_config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .timeout_config(bounded_timeouts())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Reads a required environment variable, naming it when missing.
pub fn required_env(name: &str) -> Result<String, crate::config::ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| crate::config::ConfigError::new(name, "environment variable is not set"))
}

/// Reports an init failure to the Runtime API's `/runtime/init/error` and exits non-zero.
/// Lambda then shows the message in the init error, and the next invocation retries the init.
pub async fn fail_init(error: impl Display) -> ! {
    let message = error.to_string();
    tracing::error!(error = %message, "init failed");
    if let Err(e) = post_init_error(&message).await {
        eprintln!("could not report the init error to the Runtime API: {e}");
    }
    std::process::exit(1)
}

async fn post_init_error(message: &str) -> Result<(), lambda_runtime::Error> {
    use lambda_runtime_api_client::{body::Body, build_request, PooledClient};
    let body = serde_json::json!({ "errorMessage": message, "errorType": "Runtime.InitError" }).to_string();
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let response = PooledClient::builder().build().call(request).await?;
    if !response.status().is_success() {
        return Err(format!("Runtime API answered {}", response.status()).into());
    }
    Ok(())
}
