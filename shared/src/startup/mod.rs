//! Cold-start plumbing every function shares: logging, the AWS SDK config, and reporting init
//! failures to the Lambda Runtime API so a bad deploy fails loudly with a message naming the key.

use std::fmt::Display;

use crate::config::{Config, ConfigError, ConfigSource};

/// Logging that follows Lambda's controls, as `lambda_runtime::tracing::init_default_subscriber`
/// does: JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, no timestamps (CloudWatch adds them), the level
/// from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO. `RUST_LOG` takes `target=level`
/// directives (`info,hookrelay=debug`) but not span or field filters: those need `EnvFilter`, whose
/// regex engine cost each deploy zip about 0.2 MB (BENCHMARKS.md, "Tuning log").
pub fn init_tracing() {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};
    let var = |key| std::env::var(key).ok();
    let filter = log_filter(var("AWS_LAMBDA_LOG_LEVEL").as_deref(), var("RUST_LOG").as_deref());
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|format| format.eq_ignore_ascii_case("json"));
    let lines = tracing_subscriber::fmt::layer().with_target(false).without_time();
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry.with(lines.json()).init();
    } else {
        registry.with(lines).init();
    }
}

fn log_filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    // Lambda's advanced logging controls set TRACE, DEBUG, INFO, WARN, ERROR or FATAL.
    let lambda_level = lambda_level.and_then(|level| match level.to_ascii_uppercase().as_str() {
        "FATAL" => Some(LevelFilter::ERROR),
        other => other.parse::<LevelFilter>().ok(),
    });
    match (
        lambda_level,
        rust_log.and_then(|directives| renamed_targets(directives).parse::<Targets>().ok()),
    ) {
        (Some(level), _) => Targets::new().with_default(level),
        // As with `EnvFilter`, targets not named log at INFO unless a bare level says otherwise.
        (None, Some(targets)) if targets.default_level().is_none() => targets.with_default(LevelFilter::INFO),
        (None, Some(targets)) => targets,
        (None, None) => Targets::new().with_default(LevelFilter::INFO),
    }
}

/// The library was called `shared` before 0.2 (CHANGELOG.md): `RUST_LOG=shared=debug` keeps
/// meaning this crate's events, whose target is now `hookrelay`.
fn renamed_targets(directives: &str) -> String {
    directives
        .split(',')
        .map(|directive| match directive.trim().strip_prefix("shared") {
            Some(rest) if rest.is_empty() || rest.starts_with('=') || rest.starts_with("::") => {
                format!("hookrelay{rest}")
            }
            _ => directive.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub use crate::foundation::sdk_http::aws_sdk_config;

/// The config, from the one source the environment names ([`ConfigSource`]): `HOOKRELAY_CONFIG`,
/// or `HOOKRELAY_CONFIG_FILE` as a packaged file or an `s3://` object (read here, once).
pub async fn load_config() -> Result<Config, ConfigError> {
    load_config_from(&ConfigSource::from_env()?).await
}

/// The config from `source`, read and checked exactly as at cold start (`hookrelay check-config`).
pub async fn load_config_from(source: &ConfigSource) -> Result<Config, ConfigError> {
    let text = match source {
        ConfigSource::S3(object) => crate::config::s3_source::read(object, &aws_sdk_config().await?).await?,
        local => local.read_local()?,
    };
    source.parse(&text)
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

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::filter::LevelFilter;

    use super::log_filter;

    #[test]
    fn the_log_level_follows_lambda_then_rust_log() {
        let enabled = |lambda: Option<&str>, rust_log: Option<&str>, target: &str, level: Level| {
            log_filter(lambda, rust_log).would_enable(target, &level)
        };
        assert!(enabled(None, None, "hookrelay", Level::INFO));
        assert!(!enabled(None, None, "hookrelay", Level::DEBUG));
        assert!(enabled(Some("DEBUG"), Some("error"), "hookrelay", Level::DEBUG));
        assert!(!enabled(Some("FATAL"), None, "hookrelay", Level::WARN));
        assert!(enabled(Some("FATAL"), None, "hookrelay", Level::ERROR));
        assert!(enabled(None, Some("warn"), "hookrelay", Level::WARN));
        assert!(!enabled(None, Some("warn"), "hookrelay", Level::INFO));
        assert!(enabled(
            None,
            Some("hookrelay=debug"),
            "hookrelay::inbound::route",
            Level::DEBUG
        ));
        assert!(!enabled(None, Some("hookrelay=debug"), "ingress", Level::DEBUG));
        // The library's old name still selects it.
        assert!(enabled(
            None,
            Some("shared=debug"),
            "hookrelay::inbound::route",
            Level::DEBUG
        ));
        assert!(enabled(
            None,
            Some("warn,shared::inbound::route=trace"),
            "hookrelay::inbound::route",
            Level::TRACE
        ));
        assert!(!enabled(
            None,
            Some("warn,shared::inbound::route=trace"),
            "hookrelay::inbound::verify",
            Level::INFO
        ));
        assert!(!enabled(
            None,
            Some("sharedx=debug"),
            "hookrelay::inbound::route",
            Level::DEBUG
        ));
        assert!(enabled(None, Some("shared=debug"), "aws_smithy_runtime", Level::INFO));
        assert!(!enabled(None, Some("shared=debug"), "aws_smithy_runtime", Level::DEBUG));
        assert!(!enabled(
            None,
            Some("info,aws_smithy_runtime=off"),
            "aws_smithy_runtime",
            Level::ERROR
        ));
        assert_eq!(
            log_filter(Some("nonsense"), Some("also{nonsense")).default_level(),
            Some(LevelFilter::INFO)
        );
    }
}
