//! Generic HTTP targets (`[targets.<name>] url = ...`): the job's input as the body, with the
//! configured headers, and the answer kept as it came.

use http::{header, HeaderMap, HeaderValue};

use crate::{
    config::{ConfigError, HeaderValueSpec, HttpTargetSpec},
    delivery::call::{
        content_type_for, idempotency_key_value, raw_answer, transport_error, Answer, CallError, Delivered,
        IDEMPOTENCY_KEY,
    },
    foundation::secret::SecretResolver,
    wire::envelope::Envelope,
};

/// A generic HTTP endpoint: the job's input as the body, plus configured headers.
pub struct HttpTarget {
    http: reqwest::Client,
    url: reqwest::Url,
    method: http::Method,
    headers: HeaderMap,
}

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTarget")
            .field("url", &self.url.as_str())
            .field("headers", &"<redacted>")
            .finish()
    }
}

impl HttpTarget {
    /// The target `[targets.<name>]` describes, its secret headers resolved.
    pub async fn new(name: &str, spec: &HttpTargetSpec, resolver: &SecretResolver) -> Result<HttpTarget, ConfigError> {
        let mut headers = HeaderMap::new();
        for (header, value) in &spec.headers {
            let key = format!("targets.{name}.headers.{header}");
            let value = match value {
                HeaderValueSpec::Literal(text) => HeaderValue::from_str(text),
                HeaderValueSpec::Secret(reference) => {
                    let secret = resolver.resolve(&key, reference).await?;
                    HeaderValue::from_bytes(secret.expose()).map(|mut v| {
                        v.set_sensitive(true);
                        v
                    })
                }
            }
            .map_err(|_| ConfigError::new(&key, "is not a valid header value"))?;
            headers.insert(header.clone(), value);
        }
        let http = crate::foundation::tls::http_client_builder()?
            .timeout(spec.timeout)
            .build()
            .map_err(|e| ConfigError::new(format!("targets.{name}"), format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTarget {
            http,
            url: spec.url.clone(),
            method: spec.method.clone(),
            headers,
        })
    }

    /// Sends the job's input; any 2xx is success, the answer kept as it came.
    pub async fn send(&self, input: Vec<u8>, envelope: &Envelope) -> Result<Delivered, CallError> {
        let content_type = envelope
            .content_type
            .clone()
            .unwrap_or_else(|| content_type_for(&input).to_owned());
        let response = self
            .http
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .header(header::CONTENT_TYPE, content_type)
            .header(IDEMPOTENCY_KEY, idempotency_key_value(&envelope.id)?)
            .body(input)
            .send()
            .await
            .map_err(transport_error)?;
        let answer = Answer::read(response).await?;
        if !answer.is_success() {
            let reason = http::StatusCode::from_u16(answer.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error");
            return Err(CallError::Status {
                status: answer.status,
                message: reason.to_owned(),
                retry_after: answer.retry_after,
            });
        }
        Ok(raw_answer(answer.status, answer.content_type.as_deref(), &answer.body))
    }

    /// A `HEAD` of the URL, for [`super::targets::Targets::warm_up`].
    pub(crate) fn head(&self) -> reqwest::RequestBuilder {
        self.http.head(self.url.clone())
    }
}
