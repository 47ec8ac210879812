//! Webhook senders: GitHub-style HMAC signatures and a small HTTP client wrapper whose replies
//! are easy to assert on and to print.

use std::fmt;

use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Hub-Signature-256` value.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

type Hmac = hmac::Hmac<Sha256>;

/// An HTTP answer, fully read.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON; panics with the reply when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("reply body is not JSON ({e}): {self}"))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {:?} {}", self.status, self.headers, self.body)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A GitHub delivery to send.
#[derive(Clone, Debug)]
pub struct GithubDelivery {
    pub event: String,
    pub delivery_id: String,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The secret to sign with (the signature covers `body` exactly).
    pub secret: String,
}

impl GithubDelivery {
    /// A `ping` delivery with a JSON body signed with `secret`.
    pub fn json(secret: &str, body: &str) -> Self {
        Self {
            event: "ping".into(),
            delivery_id: uuid::Uuid::new_v4().to_string(),
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
            secret: secret.into(),
        }
    }

    pub fn content_type(mut self, ct: &str) -> Self {
        self.content_type = ct.into();
        self
    }

    /// Send to `url`, signing `signed_body` but transmitting `self.body` (pass `None` to sign
    /// what is sent).
    pub async fn send_signing(&self, client: &reqwest::Client, url: &str, signed_body: Option<&[u8]>) -> Reply {
        let signature = github_signature(&self.secret, signed_body.unwrap_or(&self.body));
        let resp = client
            .post(url)
            .header("content-type", &self.content_type)
            .header("user-agent", "GitHub-Hookshot/e2e")
            .header("x-github-event", &self.event)
            .header("x-github-delivery", &self.delivery_id)
            .header("x-hub-signature-256", signature)
            .body(self.body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        read_reply(resp).await
    }

    pub async fn send(&self, client: &reqwest::Client, url: &str) -> Reply {
        self.send_signing(client, url, None).await
    }
}

/// Read a reqwest response fully.
pub async fn read_reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_else(|e| format!("<unreadable body: {e}>"));
    Reply { status, headers, body }
}
