//! The queue message: a versioned JSON envelope, the only thing that crosses the queue.
//! See `docs/wire-formats.md` ("Queue envelope, version 1") for the wire format.

use std::sync::Mutex;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    config::{AlgorithmOptions, AlgorithmPath, S3Input, TargetRef, DOWNSTREAM},
    inbound::s3_event::S3Object,
    inbound::verify::Verified,
};

/// The envelope version this build writes and reads (`"v"`); any other is a poison message.
pub const ENVELOPE_VERSION: u32 = 1;

/// The target name of follow-up callback jobs (informational: they never go to a target).
pub const CALLBACK_TARGET: &str = "callback";

/// One job on the queue (`docs/wire-formats.md`, "Queue envelope"). Never carries secrets or
/// signature headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The envelope version, [`ENVELOPE_VERSION`].
    pub v: u32,
    /// Unique per job, and the target's `Idempotency-Key`; S3 jobs and de-duplicated deliveries
    /// derive it from what identifies them, so a repeat keeps it.
    pub id: String,
    /// What made the job.
    pub source: Source,
    /// The ingress route path, or `s3`.
    pub route: String,
    /// When the ingress or s3-relay received it (milliseconds, UTC).
    #[serde(with = "rfc3339_millis")]
    pub received_at: DateTime<Utc>,
    /// The provider's delivery id, when it sends one (`X-GitHub-Delivery`).
    pub delivery_id: Option<String>,
    /// The Content-Type the sender declared.
    pub content_type: Option<String>,
    /// Where the job goes.
    pub target: Target,
    /// The target's input: exactly the bytes the sender signed, or the mapped input.
    pub payload: Payload,
    /// The object, for S3 jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Details>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// What made a job.
pub enum Source {
    /// A verified webhook, from the ingress.
    Webhook,
    /// An S3 object event, from the s3-relay.
    S3,
    /// A follow-up job carrying a route's callback (see [`crate::delivery::callback`]): the worker sends its
    /// payload to the route's callback URL and never calls a target for it.
    Callback,
}

/// Where a job goes: a target of the config, with the algorithm and options of algorithm targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `downstream` (omitted on the wire) or a `[targets.<name>]` key.
    #[serde(default = "downstream", skip_serializing_if = "is_downstream")]
    pub name: String,
    /// For algorithm targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmPath>,
    /// The algorithm call's options (omitted when default).
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
    /// `{"text": ...}`: UTF-8 bytes as they are.
    Text(String),
    /// `{"base64": ...}`: any other bytes.
    Base64(String),
}

impl Payload {
    /// The payload of a copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Payload {
        Payload::from_vec(bytes.to_vec())
    }

    /// Takes the bytes over: a UTF-8 body becomes the text without being copied.
    pub fn from_vec(bytes: Vec<u8>) -> Payload {
        match String::from_utf8(bytes) {
            Ok(text) => Payload::Text(text),
            Err(e) => Payload::Base64(BASE64.encode(e.as_bytes())),
        }
    }

    /// The bytes again; an error only for base64 that is not (a forged or damaged message).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        match self {
            Payload::Text(text) => Ok(text.as_bytes().to_vec()),
            Payload::Base64(data) => BASE64.decode(data).map_err(|_| EnvelopeError::BadPayload),
        }
    }
}

/// The object an S3 job is about, as its event described it (fields S3 or moto left out are `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Details {
    /// The bucket's name.
    pub bucket: String,
    /// The object key, URL-decoded.
    pub key: String,
    /// The object's size in bytes.
    pub size: Option<u64>,
    /// The object's ETag.
    pub etag: Option<String>,
    /// S3's ordering token for events of one key.
    pub sequencer: Option<String>,
    /// When S3 emitted the event (RFC 3339, as the event gave it).
    pub event_time: Option<String>,
    /// The event's name, e.g. `ObjectCreated:Put`.
    pub event_name: Option<String>,
}

/// Why a queue message is not a job this worker can run: each is permanent (dead-lettered).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not JSON, or not this shape.
    #[error("message is not a hookrelay envelope: {0}")]
    Malformed(String),
    /// A `v` other than [`ENVELOPE_VERSION`].
    #[error("unsupported envelope version {0} (this worker reads version {ENVELOPE_VERSION})")]
    UnsupportedVersion(u64),
    /// A `base64` payload that does not decode.
    #[error("envelope payload is not valid base64")]
    BadPayload,
}

impl Envelope {
    /// A verified webhook becomes a job, whose payload the caller then moves in with
    /// [`WebhookJob::with_payload`]: the request body (or the mapped input, `mapped`), taken over
    /// once nothing borrows the request any more, so the body is never copied. Only the body and a
    /// few identifying headers travel: never signatures or other headers.
    pub fn for_webhook(
        verified: &Verified<'_>,
        route: &str,
        target: &TargetRef,
        mapped: bool,
        now: DateTime<Utc>,
    ) -> WebhookJob {
        let content_type = match mapped {
            true => Some("application/json".to_owned()),
            false => verified
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        WebhookJob(Envelope {
            v: ENVELOPE_VERSION,
            id: random_job_id(),
            source: Source::Webhook,
            route: route.to_owned(),
            received_at: now.trunc_subsecs(3),
            delivery_id: verified.delivery_id().map(str::to_owned),
            content_type,
            target: target.into(),
            payload: Payload::Text(String::new()),
            s3: None,
        })
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
                name: CALLBACK_TARGET.to_owned(),
                algorithm: None,
                options: AlgorithmOptions::default(),
            },
            payload: Payload::from_bytes(body),
            s3: None,
        }
    }

    /// The queue message: the JSON `serde_json::to_string(self)` writes, but with U+FFFE and U+FFFF
    /// escaped as `\ufffe` / `\uffff` (SQS refuses them raw), and written faster.
    ///
    /// The payload is the one field that grows with the request, and escaping it is most of the
    /// ingress's own work on a large body (BENCHMARKS.md, section 4), so it goes through a SIMD
    /// escaper straight into a buffer sized for the whole message; serde writes the rest.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Head<'a> {
            v: u32,
            id: &'a str,
            source: Source,
            route: &'a str,
            #[serde(with = "rfc3339_millis")]
            received_at: DateTime<Utc>,
            delivery_id: Option<&'a str>,
            content_type: Option<&'a str>,
            target: &'a Target,
        }
        let head = Head {
            v: self.v,
            id: &self.id,
            source: self.source,
            route: &self.route,
            received_at: self.received_at,
            delivery_id: self.delivery_id.as_deref(),
            content_type: self.content_type.as_deref(),
            target: &self.target,
        };
        let (kind, text) = match &self.payload {
            Payload::Text(text) => ("text", text),
            Payload::Base64(data) => ("base64", data),
        };
        // Room for the head and the payload with a tenth of its bytes escaped, the JSON norm.
        let mut out = Vec::with_capacity(512 + text.len() + text.len() / 8);
        serde_json::to_writer(&mut out, &head).expect("an envelope head always serialises");
        out.pop(); // the head's closing brace: the payload and the S3 details follow
        out.extend_from_slice(b",\"payload\":{\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\":");
        json_escape_simd::escape_into(text, &mut out);
        out.push(b'}');
        if let Some(s3) = &self.s3 {
            out.extend_from_slice(b",\"s3\":");
            serde_json::to_writer(&mut out, s3).expect("S3 details always serialise");
        }
        out.push(b'}');
        String::from_utf8(escape_noncharacters(out)).expect("serde_json and the escaper write UTF-8")
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

/// A random (v4) UUID. The randomness comes from the OS as for `Uuid::new_v4`, but 4 KiB at a time:
/// one `getrandom` call per 256 ids instead of one per id, which measured as 7% of the ingress's
/// own work per request (BENCHMARKS.md, "Tuning log").
fn random_job_id() -> String {
    const POOL_BYTES: usize = 4096;
    struct Pool {
        bytes: [u8; POOL_BYTES],
        used: usize,
    }
    static POOL: Mutex<Pool> = Mutex::new(Pool {
        bytes: [0; POOL_BYTES],
        used: POOL_BYTES,
    });
    let mut random = [0u8; 16];
    {
        // A panic elsewhere cannot leave the pool half-written: bytes are consumed, never shared.
        let mut pool = POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.used == POOL_BYTES {
            getrandom::fill(&mut pool.bytes).expect("the operating system's random source");
            pool.used = 0;
        }
        let at = pool.used;
        random.copy_from_slice(&pool.bytes[at..at + 16]);
        pool.bytes[at..at + 16].fill(0);
        pool.used += 16;
    }
    uuid::Builder::from_random_bytes(random).into_uuid().to_string()
}

/// SQS refuses a message holding U+FFFE or U+FFFF (outside the characters it accepts), which JSON
/// strings may carry raw; written as `\ufffe` / `\uffff` they read back the same, and a body holding
/// them is queued instead of being refused (as 503) on every retry.
fn escape_noncharacters(json: Vec<u8>) -> Vec<u8> {
    // In UTF-8 they are EF BF BE and EF BF BF; JSON's structure is ASCII, so these bytes are in strings.
    let forbidden = |at: usize| json.get(at + 1) == Some(&0xBF) && matches!(json.get(at + 2), Some(0xBE | 0xBF));
    if !memchr::memchr_iter(0xEF, &json).any(forbidden) {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 32);
    let mut copied = 0;
    for at in memchr::memchr_iter(0xEF, &json).filter(|&at| forbidden(at)) {
        out.extend_from_slice(&json[copied..at]);
        out.extend_from_slice(if json[at + 2] == 0xBE { b"\\ufffe" } else { b"\\uffff" });
        copied = at + 3;
    }
    out.extend_from_slice(&json[copied..]);
    out
}

/// A webhook's job waiting for its payload ([`Envelope::for_webhook`]).
#[derive(Debug)]
pub struct WebhookJob(Envelope);

impl WebhookJob {
    /// The job with its payload: `bytes` taken over, not copied.
    pub fn with_payload(self, bytes: Vec<u8>) -> Envelope {
        Envelope {
            payload: Payload::from_vec(bytes),
            ..self.0
        }
    }
}

mod rfc3339_millis {
    use super::*;

    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        // The wire carries milliseconds: finer digits from another writer are cut on reading, so
        // an envelope read and written again is read back the same (found by fuzz/worker_records).
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc).trunc_subsecs(3))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

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
        Envelope::for_webhook(&v, "/hooks/x", &target, false, Utc::now()).with_payload(body.to_vec())
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

    fn with_payload(payload: Payload) -> Envelope {
        Envelope {
            payload,
            ..webhook(b"{}", &[])
        }
    }

    #[test]
    fn to_json_writes_what_serde_writes() {
        let bodies: [&[u8]; 7] = [
            br#"{"zen":"Keep it \"logically\" awesome.","n":[1,2.5e3,null]}"#,
            "tab\tnew\nline\r\u{0}\u{1f}\u{7f} é ü 😀 \u{fffe}\u{ffff} \\ / </script>".as_bytes(),
            b"",
            &[0xff, 0x00, 0x80],
            &[b'"'; 100],
            &[b'x'; 4096],
            &[0x1b; 33],
        ];
        let mut envelopes: Vec<Envelope> = bodies
            .iter()
            .map(|body| webhook(body, &[("x-github-delivery", "72d3162e-\"cc78")]))
            .collect();
        envelopes.push(Envelope {
            source: Source::S3,
            delivery_id: None,
            content_type: None,
            target: Target {
                name: "resizer".into(),
                algorithm: None,
                options: AlgorithmOptions {
                    timeout: Some(30),
                    stdout: Some(true),
                    output: None,
                },
            },
            s3: Some(S3Details {
                bucket: "uploads".into(),
                key: "my \"photo\"(1).jpg".into(),
                size: Some(1024),
                etag: None,
                sequencer: Some("0055AED6DCD90281E5".into()),
                event_time: None,
                event_name: Some("ObjectCreated:Put".into()),
            }),
            ..webhook(b"\"my photo(1).jpg\"", &[])
        });
        envelopes.push(Envelope::for_callback(&envelopes[0], br#"{"status":"succeeded"}"#));
        for env in envelopes {
            let fast = env.to_json();
            assert_eq!(fast, serde_then_noncharacters(&env));
            assert_eq!(Envelope::from_json(&fast).unwrap(), env);
        }
    }

    /// What `to_json` must write: serde's JSON with U+FFFE / U+FFFF escaped.
    fn serde_then_noncharacters(env: &Envelope) -> String {
        serde_json::to_string(env)
            .unwrap()
            .replace('\u{fffe}', "\\ufffe")
            .replace('\u{ffff}', "\\uffff")
    }

    #[test]
    fn no_character_sqs_refuses_reaches_the_queue() {
        let env = webhook("a\u{fffe}b\u{ffff}\u{ffef}\u{fffd}\u{0}\u{1}".as_bytes(), &[]);
        let json = env.to_json();
        let refused = |c: char| !matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
        assert!(!json.chars().any(refused), "{json:?}");
        assert!(json.contains(r"a\ufffeb\uffff"), "{json}");
        assert_eq!(Envelope::from_json(&json).unwrap(), env);
    }

    proptest::proptest! {
        #[test]
        fn any_text_payload_serialises_as_serde_does(text in ".*", raw in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let env = with_payload(Payload::Text(text));
            proptest::prop_assert_eq!(env.to_json(), serde_then_noncharacters(&env));
            let env = with_payload(Payload::from_bytes(&raw));
            proptest::prop_assert_eq!(env.to_json(), serde_then_noncharacters(&env));
        }
    }

    #[test]
    fn job_ids_are_distinct_v4_uuids_across_pool_refills() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| random_job_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random), "{id}");
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }

    #[test]
    fn bad_base64_payload_is_an_error() {
        assert_eq!(Payload::Base64("!!".into()).to_bytes(), Err(EnvelopeError::BadPayload));
    }
}
