//! Init failures, reported to the Lambda Runtime API so a bad deploy fails loudly.

use std::fmt::Display;

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
