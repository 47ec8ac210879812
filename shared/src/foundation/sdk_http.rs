//! The AWS SDK's HTTP client: reqwest over the shared TLS config ([`crate::foundation::tls`]).
//!
//! The SDK's default client is a second hyper stack with its own TLS setup, which loads the
//! platform certificate store when the first SDK client is built. Running the SDK over the
//! reqwest stack the algorithm calls already use leaves one HTTP stack and one root store in each
//! binary: a faster cold start and a smaller deploy zip (BENCHMARKS.md).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use crate::foundation::ConfigError;

/// Idle pooled connections are dropped before SQS/DynamoDB front ends would close them.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The client to give `aws_config::defaults(..).http_client(..)`.
pub fn http_client() -> Result<SharedHttpClient, ConfigError> {
    // Fails here, at cold start, rather than on the first request.
    crate::foundation::tls::client_config()?;
    Ok(SharedHttpClient::new(ReqwestClient::default()))
}

type TimeoutKey = (Option<Duration>, Option<Duration>);

/// One reqwest client per distinct (connect, read) timeout pair the SDK asks for: in practice
/// one or two per process.
#[derive(Debug, Default)]
struct ReqwestClient {
    connectors: Mutex<Vec<(TimeoutKey, SharedHttpConnector)>>,
}

impl HttpClient for ReqwestClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, connector)) = connectors.iter().find(|(k, _)| *k == key) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(ReqwestConnector {
            client: build_client(key).map_err(Arc::new),
        });
        connectors.push((key, connector.clone()));
        connector
    }
}

fn build_client((connect, read): TimeoutKey) -> Result<reqwest::Client, String> {
    let mut builder = crate::foundation::tls::http_client_builder()
        .map_err(|e| e.to_string())?
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        // The SDK signs the exact request; a redirect would resend it somewhere else.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(timeout) = connect {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(timeout) = read {
        builder = builder.read_timeout(timeout);
    }
    builder.build().map_err(|e| e.to_string())
}

#[derive(Debug)]
struct ReqwestConnector {
    client: Result<reqwest::Client, Arc<String>>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|e| ConnectorError::other(e.to_string().into(), None))?;
            let request = into_reqwest(request)?;
            let response = client.execute(request).await.map_err(classify)?;
            into_sdk(response).await
        })
    }
}

fn into_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request.into_parts();
    // Every operation hookrelay calls (SQS, DynamoDB, Secrets Manager) has an in-memory body.
    let bytes = body
        .bytes()
        .ok_or_else(|| ConnectorError::user("streaming request bodies are not supported".into()))?
        .to_vec();
    reqwest::Request::try_from(http::Request::from_parts(parts, bytes)).map_err(|e| ConnectorError::user(e.into()))
}

async fn into_sdk(response: reqwest::Response) -> Result<HttpResponse, ConnectorError> {
    let mut builder = http::Response::builder().status(response.status());
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers().clone();
    }
    let body = response.bytes().await.map_err(classify)?;
    let response = builder
        .body(SdkBody::from(body))
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
}

/// Timeouts and I/O failures are transient for the SDK's retry strategy; the rest are not.
fn classify(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || error.is_request() || error.is_body() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

/// The SDK config from the standard environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials),
/// over hookrelay's HTTP client ([`http_client`]).
pub async fn aws_sdk_config() -> Result<aws_config::SdkConfig, ConfigError> {
    Ok(aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client()?)
        .load()
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn connector(connect: Duration, read: Duration) -> ReqwestConnector {
        ReqwestConnector {
            client: build_client((Some(connect), Some(read))).map_err(Arc::new),
        }
    }

    fn post(url: &str, body: &'static str) -> HttpRequest {
        let request = http::Request::builder()
            .method("POST")
            .uri(url)
            .header("x-amz-target", "AmazonSQS.SendMessage")
            .body(SdkBody::from(body))
            .unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    #[tokio::test]
    async fn a_request_and_its_response_cross_unchanged() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut chunk = [0u8; 1024];
            while !String::from_utf8_lossy(&seen).contains("{\"QueueUrl\":\"q\"}") {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "connection closed before the body arrived");
                seen.extend_from_slice(&chunk[..n]);
            }
            let body = r#"{"MessageId":"m-1"}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: r-1\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
            String::from_utf8_lossy(&seen).to_lowercase()
        });
        let response = connector(Duration::from_secs(2), Duration::from_secs(5))
            .call(post(&url, r#"{"QueueUrl":"q"}"#))
            .await
            .expect("a response");
        let request = server.join().unwrap();
        assert!(request.starts_with("post / http/1.1"), "{request}");
        assert!(request.contains("x-amz-target: amazonsqs.sendmessage"), "{request}");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r-1"));
        assert_eq!(response.body().bytes(), Some(&br#"{"MessageId":"m-1"}"#[..]));
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = connector(Duration::from_secs(2), Duration::from_secs(2))
            .call(post(&format!("http://127.0.0.1:{port}/"), "{}"))
            .await
            .expect_err("nothing listens there");
        assert!(error.is_io(), "{error:?}");
    }

    #[tokio::test]
    async fn a_silent_server_is_a_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let error = connector(Duration::from_secs(2), Duration::from_millis(200))
            .call(post(&url, "{}"))
            .await
            .expect_err("the server never answers");
        assert!(error.is_timeout(), "{error:?}");
        drop(listener);
    }
}
