//! The Algorithmia-compatible client: `POST {base_url}/v1/algo/{owner}/{name}[/{version}]?timeout=N`
//! with `Authorization: Simple <key>`.

use std::time::Duration;

use http::{header, HeaderValue};
use serde::Deserialize;

use crate::{
    config::{AlgorithmOptions, AlgorithmPath, ConfigError, Downstream, OutputMode},
    delivery::call::{
        content_type_for, idempotency_key_value, raw_answer, transport_error, Answer, CallError, Delivered,
        IDEMPOTENCY_KEY,
    },
    foundation::secret::Secret,
};

/// One Algorithmia-compatible API (`[downstream]` or a `[targets.<name>]` with `base_url`).
pub struct AlgorithmClient {
    http: reqwest::Client,
    base_url: reqwest::Url,
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl std::fmt::Debug for AlgorithmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlgorithmClient")
            .field("base_url", &self.base_url.as_str())
            .field("authorization", &self.authorization.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl AlgorithmClient {
    /// Built once at cold start; the connection pool is reused across invocations.
    pub fn new(downstream: &Downstream, api_key: Option<Secret>) -> Result<Self, ConfigError> {
        let authorization = match api_key {
            None => None,
            Some(key) => {
                let mut value = HeaderValue::from_bytes(&[b"Simple ", key.expose()].concat()).map_err(|_| {
                    ConfigError::new("downstream.api_key", "contains characters not allowed in a header")
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let http = crate::foundation::tls::http_client_builder()?
            .timeout(downstream.timeout)
            .connect_timeout(Duration::from_secs(10).min(downstream.timeout))
            .build()
            .map_err(|e| ConfigError::new("downstream", format!("cannot build the HTTP client: {e}")))?;
        Ok(AlgorithmClient {
            http,
            base_url: downstream.base_url.clone(),
            authorization,
            timeout: downstream.timeout,
        })
    }

    /// A `HEAD` of the base URL, for [`crate::delivery::targets::Targets::warm_up`].
    pub(crate) fn head(&self) -> reqwest::RequestBuilder {
        self.http.head(self.base_url.clone())
    }

    fn url_for(&self, algorithm: &AlgorithmPath, options: &AlgorithmOptions) -> reqwest::Url {
        let mut url = self.base_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .push("v1")
                .push("algo")
                .extend(algorithm.as_str().split('/'));
        }
        {
            let timeout = options.timeout.unwrap_or(self.timeout.as_secs());
            let mut query = url.query_pairs_mut();
            query.append_pair("timeout", &timeout.to_string());
            if let Some(stdout) = options.stdout {
                query.append_pair("stdout", if stdout { "true" } else { "false" });
            }
            match options.output {
                Some(OutputMode::Raw) => query.append_pair("output", "raw"),
                Some(OutputMode::Void) => query.append_pair("output", "void"),
                None => &mut query,
            };
        }
        url
    }

    /// Calls `algorithm` with `input` (sent as its content type), `Idempotency-Key: <job id>`.
    pub async fn call(
        &self,
        algorithm: &AlgorithmPath,
        options: &AlgorithmOptions,
        input: Vec<u8>,
        idempotency_key: &str,
    ) -> Result<Delivered, CallError> {
        let mut request = self
            .http
            .post(self.url_for(algorithm, options))
            .header(header::CONTENT_TYPE, content_type_for(&input))
            .header(header::ACCEPT, "application/json")
            .header(IDEMPOTENCY_KEY, idempotency_key_value(idempotency_key)?)
            .body(input);
        if let Some(auth) = &self.authorization {
            request = request.header(header::AUTHORIZATION, auth.clone());
        }
        let answer = Answer::read(request.send().await.map_err(transport_error)?).await?;
        if options.output == Some(OutputMode::Raw) && answer.is_success() {
            // Raw output is the algorithm's own bytes, not the JSON wrapper.
            return Ok(raw_answer(answer.status, answer.content_type.as_deref(), &answer.body));
        }
        interpret(answer.status, &answer.body).map_err(|e| e.with_retry_after(answer.retry_after))
    }
}

/// `{"result": ..., "metadata": ...}` is success; `{"error": {"message": ...}}` or a non-2xx
/// status is a failure.
pub(crate) fn interpret(status: u16, body: &[u8]) -> Result<Delivered, CallError> {
    #[derive(Deserialize)]
    struct Answer {
        result: Option<serde_json::Value>,
        #[serde(default)]
        metadata: serde_json::Value,
        error: Option<AlgoError>,
    }
    #[derive(Deserialize)]
    struct AlgoError {
        message: Option<String>,
    }
    let answer: Option<Answer> = serde_json::from_slice(body).ok();
    let error_message = answer
        .as_ref()
        .and_then(|a| a.error.as_ref())
        .map(|e| e.message.clone().unwrap_or_else(|| "unspecified error".to_owned()));
    if !(200..300).contains(&status) {
        let message = error_message.unwrap_or_else(|| {
            http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_owned()
        });
        return Err(CallError::Status {
            status,
            message: truncate(message),
            retry_after: None,
        });
    }
    if let Some(message) = error_message {
        return Err(CallError::Algorithm(truncate(message)));
    }
    match answer {
        Some(Answer {
            result: Some(result),
            metadata,
            ..
        }) => Ok(Delivered {
            status,
            result,
            metadata,
        }),
        // `output=void` answers carry no result; treat a 2xx JSON answer without one as success.
        Some(Answer {
            result: None, metadata, ..
        }) => Ok(Delivered {
            status,
            result: serde_json::Value::Null,
            metadata,
        }),
        None => Err(CallError::InvalidResponse { status }),
    }
}

fn truncate(mut message: String) -> String {
    const MAX: usize = 300;
    if message.len() > MAX {
        let mut cut = MAX;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::retry_after::RetryAfter;

    fn client(base: &str, key: Option<&str>) -> AlgorithmClient {
        let downstream = Downstream {
            base_url: reqwest::Url::parse(base).unwrap(),
            api_key: None,
            timeout: Duration::from_secs(42),
        };
        AlgorithmClient::new(&downstream, key.map(Secret::new)).unwrap()
    }

    #[test]
    fn content_types_follow_the_input() {
        assert_eq!(content_type_for(b"{\"a\":1}"), "application/json");
        assert_eq!(content_type_for(b"\"my photo.jpg\""), "application/json");
        assert_eq!(content_type_for(b"hello world"), "text/plain");
        assert_eq!(content_type_for(&[0xff, 0xfe]), "application/octet-stream");
    }

    #[test]
    fn urls_keep_a_base_path_and_set_the_timeout() {
        let algo = AlgorithmPath::parse("k", "demo/Hello/0.1.0").unwrap();
        let none = AlgorithmOptions::default();
        assert_eq!(
            client("https://api.algorithmia.com", None)
                .url_for(&algo, &none)
                .as_str(),
            "https://api.algorithmia.com/v1/algo/demo/Hello/0.1.0?timeout=42"
        );
        assert_eq!(
            client("http://127.0.0.1:9/prefix/", None)
                .url_for(&algo, &none)
                .as_str(),
            "http://127.0.0.1:9/prefix/v1/algo/demo/Hello/0.1.0?timeout=42"
        );
        let options = AlgorithmOptions {
            timeout: Some(7),
            stdout: Some(true),
            output: Some(OutputMode::Raw),
        };
        assert_eq!(
            client("https://x.test", None).url_for(&algo, &options).as_str(),
            "https://x.test/v1/algo/demo/Hello/0.1.0?timeout=7&stdout=true&output=raw"
        );
    }

    #[test]
    fn debug_redacts_the_key() {
        let c = client("https://x.test", Some("simABCDEF"));
        assert!(!format!("{c:?}").contains("simABCDEF"));
    }

    #[test]
    fn a_key_that_cannot_be_a_header_names_the_config_key() {
        let downstream = Downstream {
            base_url: reqwest::Url::parse("https://x.test").unwrap(),
            api_key: None,
            timeout: Duration::from_secs(1),
        };
        let err = AlgorithmClient::new(&downstream, Some(Secret::new("bad\nkey"))).unwrap_err();
        assert_eq!(err.key, "downstream.api_key");
        assert!(!err.to_string().contains("bad\nkey"));
    }

    #[test]
    fn interprets_answers() {
        let ok = interpret(200, br#"{"result":"Hello x","metadata":{"content_type":"text"}}"#).unwrap();
        assert_eq!(ok.result, "Hello x");
        assert_eq!(ok.metadata["content_type"], "text");
        assert_eq!(
            interpret(200, br#"{"error":{"message":"boom"}}"#),
            Err(CallError::Algorithm("boom".into()))
        );
        assert_eq!(
            interpret(400, br#"{"error":{"message":"bad input"}}"#),
            Err(CallError::Status {
                status: 400,
                message: "bad input".into(),
                retry_after: None,
            })
        );
        assert_eq!(
            interpret(503, b"<html>"),
            Err(CallError::Status {
                status: 503,
                message: "Service Unavailable".into(),
                retry_after: None,
            })
        );
        assert_eq!(
            interpret(200, b"not json"),
            Err(CallError::InvalidResponse { status: 200 })
        );
        assert_eq!(
            interpret(200, br#"{"metadata":{}}"#).unwrap().result,
            serde_json::Value::Null
        );
    }

    #[test]
    fn retry_after_attaches_to_status_errors_only() {
        let after = Some(RetryAfter::Delay(Duration::from_secs(9)));
        let status = interpret(503, b"busy").unwrap_err().with_retry_after(after);
        assert_eq!(status.retry_after(), after);
        assert_eq!(status.status(), Some(503));
        assert_eq!(CallError::Timeout.with_retry_after(after).retry_after(), None);
        assert_eq!(
            interpret(200, br#"{"error":{"message":"boom"}}"#)
                .unwrap_err()
                .with_retry_after(after)
                .retry_after(),
            None
        );
    }

    #[tokio::test]
    async fn a_job_id_that_cannot_be_a_header_is_a_bad_job_not_a_transport_error() {
        // Nothing listens on port 9: the call never gets that far.
        let algo = AlgorithmPath::parse("k", "demo/Hello/0.1.0").unwrap();
        let result = client("http://127.0.0.1:9", None)
            .call(&algo, &AlgorithmOptions::default(), b"{}".to_vec(), "job\0id")
            .await;
        let error = result.unwrap_err();
        assert!(matches!(error, CallError::BadJob(_)), "{error:?}");
        assert_eq!(
            crate::delivery::retry::RetryPolicy::default().classify(&error),
            crate::delivery::retry::Class::Permanent
        );
        assert!(idempotency_key_value("7f1c0a6e-job").is_ok());
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_permanent() {
        let error = crate::foundation::tls::http_client_builder()
            .unwrap()
            .build()
            .unwrap()
            .get("http://127.0.0.1:9/")
            .header("x-bad", "a\nb")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(transport_error(error), CallError::BadJob(_)));
    }

    #[test]
    fn long_messages_are_truncated_on_a_char_boundary() {
        let t = truncate("é".repeat(400));
        assert!(t.len() <= 304 && t.ends_with('…'));
    }
}
