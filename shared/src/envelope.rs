//! The queue message: a versioned JSON envelope, the only thing that crosses the queue.
//! See `shared/ENVELOPE.md` for the wire format.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    config::{AlgorithmOptions, AlgorithmPath, S3Input, TargetRef, DOWNSTREAM},
    s3_event::S3Object,
    verify::Verified,
};

pub const ENVELOPE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    pub id: String,
    pub source: Source,
    pub route: String,
    #[serde(with = "rfc3339_millis")]
    pub received_at: DateTime<Utc>,
    pub delivery_id: Option<String>,
    pub content_type: Option<String>,
    pub target: Target,
    pub payload: Payload,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Details>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Webhook,
    S3,
    /// A follow-up job carrying a route's callback (see [`crate::callback`]): the worker sends its
    /// payload to the route's callback URL and never calls a target for it.
    Callback,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `downstream` (omitted on the wire) or a `[targets.<name>]` key.
    #[serde(default = "downstream", skip_serializing_if = "is_downstream")]
    pub name: String,
    /// For algorithm targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmPath>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub options: AlgorithmOptions,
}

fn downstream() -> String {
    DOWNSTREAM.to_owned()
}

fn is_downstream(name: &str) -> bool {
    name == DOWNSTREAM
}

fn is_default(options: &AlgorithmOptions) -> bool {
    *options == AlgorithmOptions::default()
}

impl From<&TargetRef> for Target {
    fn from(target: &TargetRef) -> Self {
        Target {
            name: target.name.clone(),
            algorithm: target.algorithm.clone(),
            options: target.options.clone(),
        }
    }
}

/// The job's input bytes: text when they are UTF-8 (readable in the console), else base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Payload {
    Text(String),
    Base64(String),
}

impl Payload {
    pub fn from_bytes(bytes: &[u8]) -> Payload {
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::Text(text.to_owned()),
            Err(_) => Payload::Base64(BASE64.encode(bytes)),
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        match self {
            Payload::Text(text) => Ok(text.as_bytes().to_vec()),
            Payload::Base64(data) => BASE64.decode(data).map_err(|_| EnvelopeError::BadPayload),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Details {
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub event_time: Option<String>,
    pub event_name: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("message is not a hookrelay envelope: {0}")]
    Malformed(String),
    #[error("unsupported envelope version {0} (this worker reads version {ENVELOPE_VERSION})")]
    UnsupportedVersion(u64),
    #[error("envelope payload is not valid base64")]
    BadPayload,
}

impl Envelope {
    /// A verified webhook becomes a job. `input` is the mapped input, or `None` for the raw body.
    /// Only the body and a few identifying headers travel: never signatures or other headers.
    pub fn for_webhook(
        verified: &Verified<'_>,
        route: &str,
        target: &TargetRef,
        input: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Self {
        let content_type = match input {
            Some(_) => Some("application/json".to_owned()),
            None => verified
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        Envelope {
            v: ENVELOPE_VERSION,
            id: uuid::Uuid::new_v4().to_string(),
            source: Source::Webhook,
            route: route.to_owned(),
            received_at: now.trunc_subsecs(3),
            delivery_id: verified.delivery_id().map(str::to_owned),
            content_type,
            target: target.into(),
            payload: Payload::from_bytes(input.unwrap_or(verified.body())),
            s3: None,
        }
    }

    /// An S3 object becomes a job whose input is the decoded key as a JSON string (by default),
    /// its `s3://` URI, or the whole record. The id is derived from the object event, so a
    /// retried event keeps its job id.
    pub fn for_s3_object(object: &S3Object, target: &TargetRef, input: S3Input, now: DateTime<Utc>) -> Self {
        let details = S3Details {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            size: object.size,
            etag: object.etag.clone(),
            sequencer: object.sequencer.clone(),
            event_time: object.event_time.clone(),
            event_name: object.event_name.clone(),
        };
        let input = match input {
            S3Input::Key => serde_json::Value::String(object.key.clone()),
            S3Input::Uri => serde_json::Value::String(format!("s3://{}/{}", object.bucket, object.key)),
            S3Input::Record => {
                let mut record = serde_json::to_value(&details).expect("S3 details always serialise");
                record["region"] = object.region.clone().into();
                record["version_id"] = object.version_id.clone().into();
                record
            }
        };
        Envelope {
            v: ENVELOPE_VERSION,
            id: object.job_id(),
            source: Source::S3,
            route: "s3".to_owned(),
            received_at: now.trunc_subsecs(3),
            delivery_id: object.sequencer.clone(),
            content_type: Some("application/json".to_owned()),
            target: target.into(),
            payload: Payload::Text(input.to_string()),
            s3: Some(details),
        }
    }

    /// The follow-up job of a callback the worker could not send at once: `body` (the callback
    /// body, JSON) to be POSTed to the route's callback URL. It keeps the job's id (the callback's
    /// `webhook-id`, so receivers de-duplicate), route, delivery id and time received.
    pub fn for_callback(job: &Envelope, body: &[u8]) -> Self {
        Envelope {
            v: ENVELOPE_VERSION,
            id: job.id.clone(),
            source: Source::Callback,
            route: job.route.clone(),
            received_at: job.received_at,
            delivery_id: job.delivery_id.clone(),
            content_type: Some("application/json".to_owned()),
            target: Target {
                name: crate::callback::CALLBACK_TARGET.to_owned(),
                algorithm: None,
                options: AlgorithmOptions::default(),
            },
            payload: Payload::from_bytes(body),
            s3: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serialises")
    }

    /// Parses a queue message, refusing versions this code does not know instead of guessing.
    pub fn from_json(text: &str) -> Result<Envelope, EnvelopeError> {
        #[derive(Deserialize)]
        struct Version {
            v: Option<serde_json::Value>,
        }
        let version: Version = serde_json::from_str(text).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        match version.v {
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(ENVELOPE_VERSION.into()) => {}
            Some(serde_json::Value::Number(n)) => {
                return Err(EnvelopeError::UnsupportedVersion(n.as_u64().unwrap_or(u64::MAX)))
            }
            _ => return Err(EnvelopeError::Malformed("missing numeric `v`".into())),
        }
        serde_json::from_str(text).map_err(|e| EnvelopeError::Malformed(e.to_string()))
    }
}

mod rfc3339_millis {
    use super::*;

    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{testing::*, SystemClock, Verifier};

    fn webhook(body: &[u8], extra: &[(&str, &str)]) -> Envelope {
        let mut pairs = vec![("content-type", "application/json")];
        pairs.extend_from_slice(extra);
        let h = headers(&pairs);
        let v = delivered(Verifier::none_for_tests().verify(post(&h, body), &SystemClock)).unwrap();
        let target = TargetRef {
            name: DOWNSTREAM.into(),
            algorithm: Some(AlgorithmPath::parse("k", "demo/Hello/0.1.0").unwrap()),
            options: AlgorithmOptions::default(),
        };
        Envelope::for_webhook(&v, "/hooks/x", &target, None, Utc::now())
    }

    #[test]
    fn text_and_binary_payloads_round_trip() {
        for body in [&b"{\"a\":1}"[..], b"plain text", &[0xff, 0x00, 0x80, 0x7f], b""] {
            let env = webhook(body, &[]);
            let back = Envelope::from_json(&env.to_json()).unwrap();
            assert_eq!(back, env);
            assert_eq!(back.payload.to_bytes().unwrap(), body);
        }
        assert!(matches!(webhook(&[0xff], &[]).payload, Payload::Base64(_)));
        assert!(matches!(webhook(b"hi", &[]).payload, Payload::Text(_)));
    }

    #[test]
    fn carries_no_signature_or_other_headers() {
        let json = webhook(
            b"{}",
            &[
                ("x-hub-signature-256", "sha256=abcdef"),
                ("authorization", "Bearer t0k"),
            ],
        )
        .to_json();
        assert!(!json.contains("abcdef") && !json.contains("t0k"), "{json}");
        assert!(json.contains("\"content_type\":\"application/json\""), "{json}");
    }

    #[test]
    fn wire_format_is_stable() {
        let env = webhook(b"{}", &[]);
        let value: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
        assert_eq!(value["v"], 1);
        assert_eq!(value["source"], "webhook");
        assert_eq!(value["route"], "/hooks/x");
        assert_eq!(value["target"]["algorithm"], "demo/Hello/0.1.0");
        assert_eq!(value["payload"]["text"], "{}");
        assert!(value["received_at"].as_str().unwrap().ends_with('Z'));
        assert!(value.get("s3").is_none());
        assert!(value["target"].get("name").is_none(), "the default target is implicit");
    }

    #[test]
    fn older_v1_targets_read_as_downstream() {
        let mut value: serde_json::Value = serde_json::from_str(&webhook(b"{}", &[]).to_json()).unwrap();
        value["target"] = serde_json::json!({"algorithm": "demo/Hello/0.1.0"});
        let env = Envelope::from_json(&value.to_string()).unwrap();
        assert_eq!(env.target.name, DOWNSTREAM);
        assert_eq!(env.target.options, AlgorithmOptions::default());
    }

    #[test]
    fn refuses_unknown_versions_and_garbage() {
        let mut value: serde_json::Value = serde_json::from_str(&webhook(b"{}", &[]).to_json()).unwrap();
        value["v"] = 2.into();
        assert_eq!(
            Envelope::from_json(&value.to_string()),
            Err(EnvelopeError::UnsupportedVersion(2))
        );
        value["v"] = "1".into();
        assert!(matches!(
            Envelope::from_json(&value.to_string()),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::from_json("not json"),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::from_json(r#"{"v":1}"#),
            Err(EnvelopeError::Malformed(_))
        ));
    }

    #[test]
    fn callback_jobs_keep_the_jobs_identity() {
        let job = webhook(b"{}", &[]);
        let body = br#"{"id":"x","status":"succeeded","result":1}"#;
        let followup = Envelope::for_callback(&job, body);
        let value: serde_json::Value = serde_json::from_str(&followup.to_json()).unwrap();
        assert_eq!(value["source"], "callback");
        assert_eq!(value["target"]["name"], "callback");
        assert!(value["target"].get("algorithm").is_none());
        assert_eq!(value["id"], job.id.as_str());
        assert_eq!(value["route"], "/hooks/x");
        let back = Envelope::from_json(&followup.to_json()).unwrap();
        assert_eq!(back, followup);
        assert_eq!(back.payload.to_bytes().unwrap(), body);
    }

    #[test]
    fn bad_base64_payload_is_an_error() {
        assert_eq!(Payload::Base64("!!".into()).to_bytes(), Err(EnvelopeError::BadPayload));
    }
}
