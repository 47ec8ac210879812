//! The AWS SDK clients of the functions, each over hookrelay's HTTP stack
//! ([`crate::foundation::sdk_http`]) and with timeouts a webhook sender can wait for.

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
