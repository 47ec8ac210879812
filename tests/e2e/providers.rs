//! Every verification scheme, end to end through the real ingress, against requests signed by the
//! providers' OWN libraries: `tests/vectors/signer.py` signs with stripe, standardwebhooks, svix,
//! slack-sdk, twilio, PyNaCl and requests (PyPI, `requirements-dev.txt`) and
//! `@octokit/webhooks-methods` (npm, `make vectors-deps`), and uses the published examples and
//! documented HMACs for Shopify, Meta, Zoom and Cal.com.
//!
//! One stack serves one route per scheme (`/hooks/<key>`), plus `standard-webhooks-bare` whose
//! secrets have no `whsec_` prefix (one unpadded, as the Python library takes them), secrets from the
//! environment, two secrets on most routes (rotation). Signature lists with entries that do not
//! parse (Stripe's `v1=bad_signature`, Standard Webhooks' unknown versions and bad base64) are
//! accepted when one entry is valid, as the libraries accept them, and malformed otherwise. The worker is paused while every case is sent, so the queue
//! shows exactly what the ingress accepted: each `queued` case's job and nothing else (no refused
//! request and no handshake is queued). The envelopes are checked (route, delivery id, content
//! type, exact body), then the worker runs and every job must reach the algorithm once, with the
//! exact body, the right content type and `Idempotency-Key` = the job id.
//!
//! The signer needs the project venv: `$HOOKRELAY_PYTHON`, else `<workspace>/.venv/bin/python`
//! (`make venv`), and node 20+ (`$HOOKRELAY_NODE`, else `node`). A missing one fails the test.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{KeyInit, Mac};
use hookrelay_e2e::{
    util::{workspace_root, DEADLINE, POLL_INTERVAL},
    webhook::{read_reply, Reply},
    Stack,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{assert_algorithm_call, start, ALGORITHM, ALGO_KEY, GITHUB_SECRET};

/// The routes, one per scheme. Every secret is an `env:` reference (see [`SECRETS`]).
const ROUTES: &str = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET", "env:GITHUB_DOC_SECRET"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/stripe"
verify = "stripe"
secrets = ["env:STRIPE_SECRET_OLD", "env:STRIPE_SECRET_NEW"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/slack"
verify = "slack"
secrets = ["env:SLACK_SIGNING_SECRET", "env:SLACK_DOC_SECRET"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/standard-webhooks"
verify = "standard-webhooks"
secrets = ["env:SW_SECRET", "env:SW_SECRET_NEXT"]
public_keys = ["env:SW_PUBLIC_KEY"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/standard-webhooks-bare"
verify = "standard-webhooks"
secrets = ["env:SW_BARE_SECRET", "env:SW_BARE_SECRET_UNPADDED"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/svix"
verify = "svix"
secrets = ["env:SVIX_SECRET", "env:SVIX_SECRET_BARE"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/shopify"
verify = "shopify"
secrets = ["env:SHOPIFY_SECRET", "env:SHOPIFY_SECRET_NEXT"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/meta"
verify = "meta"
secrets = ["env:META_APP_SECRET"]
verify_token = "env:META_VERIFY_TOKEN"
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/zoom"
verify = "zoom"
secrets = ["env:ZOOM_SECRET_OLD", "env:ZOOM_SECRET_NEW"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/twilio"
verify = "twilio"
secrets = ["env:TWILIO_AUTH_TOKEN", "env:TWILIO_DOC_TOKEN"]
public_url = "https://mycompany.com/myapp.php"
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/cal"
verify = "cal"
secrets = ["env:CAL_SECRET"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/hmac"
verify = "hmac"
secrets = ["env:GENERIC_SHA1_SECRET"]
hmac = { header = "x-hub-signature", algorithm = "sha1", encoding = "hex", prefix = "sha1=" }
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/hmac-ts"
verify = "hmac"
secrets = ["env:GENERIC_TS_SECRET", "env:GENERIC_TS_SECRET_NEXT"]
hmac = { header = "webhook-signature", algorithm = "sha256", encoding = "base64", prefix = "v1,", content = "{header:webhook-id}.{timestamp}.{body}", timestamp_header = "webhook-timestamp" }
challenge = { query = "challenge" }
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/token"
verify = "token"
secrets = ["env:TOKEN_ONE", "env:TOKEN_TWO"]
algorithm = "demo/Hello/0.1.0"

[[route]]
path = "/hooks/basic"
verify = "basic"
secrets = ["env:BASIC_CREDENTIALS"]
algorithm = "demo/Hello/0.1.0"
"#;

/// One secret of a route: its environment variable, value, and whether it is a published example
/// (which may legitimately appear in payloads and logs).
struct SecretVar {
    env: &'static str,
    value: &'static str,
    published: bool,
}

const fn own(env: &'static str, value: &'static str) -> SecretVar {
    SecretVar {
        env,
        value,
        published: false,
    }
}

const fn published(env: &'static str, value: &'static str) -> SecretVar {
    SecretVar {
        env,
        value,
        published: true,
    }
}

/// Route key (`/hooks/<key>`) → its secrets, in the order of the route's `secrets`.
const SECRETS: &[(&str, &[SecretVar])] = &[
    (
        "github",
        &[
            own("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
            // GitHub's "Validating webhook deliveries" example.
            published("GITHUB_DOC_SECRET", "It's a Secret to Everybody"),
        ],
    ),
    (
        "stripe",
        &[
            own("STRIPE_SECRET_OLD", "whsec_e2eStripeOldN7fQx2LmZ8rT4vKp9WsYb3"),
            own("STRIPE_SECRET_NEW", "whsec_e2eStripeNewH5kP8dQv2XzR6mTa1CeLw7"),
        ],
    ),
    (
        "slack",
        &[
            own("SLACK_SIGNING_SECRET", "e2e5a1c9f0d3b7e2a6c4f8d1b9e3a7c2"),
            // Slack's "Verifying requests from Slack" example.
            published("SLACK_DOC_SECRET", "8f742231b10e8888abcd99yyyzzz85a5"),
        ],
    ),
    (
        "standard-webhooks",
        &[
            own("SW_SECRET", "whsec_ZTJlLXN0YW5kYXJkLXdlYmhvb2tzLWtleS0x"),
            own(
                "SW_SECRET_NEXT",
                "whsec_ZTJlLXN0YW5kYXJkLXdlYmhvb2tzLWtleS0yLXJvdGF0ZWQ=",
            ),
        ],
    ),
    (
        // Bare base64, as the Standard Webhooks libraries also take secrets; one without padding.
        "standard-webhooks-bare",
        &[
            own("SW_BARE_SECRET", "ZTJlLXN0YW5kYXJkLXdlYmhvb2tzLWJhcmUta2V5LTE="),
            own("SW_BARE_SECRET_UNPADDED", "ZTJlLXN3LXVucGFkZGVkLWJhcmUta2V5LTAwMDAwNA"),
        ],
    ),
    (
        "svix",
        &[
            own("SVIX_SECRET", "whsec_ZTJlLXN2aXgtc2lnbmluZy1rZXktMDAwMQ=="),
            own("SVIX_SECRET_BARE", "ZTJlLXN2aXgtYmFyZS1zaWduaW5nLWtleS0wMDAwMg=="),
        ],
    ),
    (
        "shopify",
        &[
            own("SHOPIFY_SECRET", "e2e-shopify-client-secret-4d7c1a"),
            own("SHOPIFY_SECRET_NEXT", "e2e-shopify-client-secret-9b2e6f"),
        ],
    ),
    ("meta", &[own("META_APP_SECRET", "e2e0meta0app0secret0c0ffee1234")]),
    (
        "zoom",
        &[
            own("ZOOM_SECRET_OLD", "e2eZoomSecretTokenOld_8s7d6f"),
            own("ZOOM_SECRET_NEW", "e2eZoomSecretTokenNew_3k2j1h"),
        ],
    ),
    (
        "twilio",
        &[
            own("TWILIO_AUTH_TOKEN", "e2e0twilio0auth0token00000000001"),
            // The auth token of twilio-python's own test vectors.
            published("TWILIO_DOC_TOKEN", "12345"),
        ],
    ),
    ("cal", &[own("CAL_SECRET", "e2e-cal-webhook-secret-51f0")]),
    ("hmac", &[own("GENERIC_SHA1_SECRET", "e2e-generic-sha1-secret-a8d2")]),
    (
        "hmac-ts",
        &[
            own("GENERIC_TS_SECRET", "e2e-generic-timestamped-key-0001"),
            own("GENERIC_TS_SECRET_NEXT", "e2e-generic-timestamped-key-0002"),
        ],
    ),
    (
        "token",
        &[
            own("TOKEN_ONE", "e2e-token-one-7c1d0f"),
            own("TOKEN_TWO", "e2e-token-two-2b9e4a"),
        ],
    ),
    (
        "basic",
        &[own("BASIC_CREDENTIALS", "hookrelay-e2e:correct horse battery staple")],
    ),
];

const META_VERIFY_TOKEN: &str = "e2e-meta-verify-token-6a1f";
/// The Ed25519 seed of the Standard Webhooks `v1a` sender (the signer derives `whpk_...`).
const ED25519_SEED: [u8; 32] = *b"hookrelay-e2e-ed25519-seed-00001";
const TWILIO_PUBLIC_URL: &str = "https://mycompany.com/myapp.php";

/// Header names that carry a signature or credential: never in an envelope.
const SIGNATURE_HEADERS: &[&str] = &[
    "x-hub-signature",
    "stripe-signature",
    "x-slack-signature",
    "webhook-signature",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "x-zm-signature",
    "x-twilio-signature",
    "x-cal-signature-256",
    "x-webhook-token",
    "authorization",
];

#[derive(Debug, Deserialize)]
struct Vectors {
    libraries: BTreeMap<String, String>,
    derived: Derived,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Derived {
    standard_webhooks_public_key: String,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    route: String,
    method: String,
    query: String,
    headers: Vec<(String, String)>,
    body: CaseBody,
    expect: Expect,
    /// A known disagreement with the provider's library, reported instead of failing.
    gap: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum CaseBody {
    Text(String),
    Base64(String),
}

#[derive(Debug, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
enum Expect {
    Queued {
        delivery_id: Option<String>,
    },
    Refused {
        status: u16,
        error: String,
    },
    Reply {
        status: u16,
        content_type: String,
        body: String,
    },
}

impl Case {
    fn path(&self) -> String {
        format!("/hooks/{}", self.route)
    }

    fn body(&self) -> Vec<u8> {
        match &self.body {
            CaseBody::Text(text) => text.as_bytes().to_vec(),
            CaseBody::Base64(b64) => BASE64.decode(b64).expect("signer sent bad base64"),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn python() -> PathBuf {
    match std::env::var_os("HOOKRELAY_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join(".venv/bin/python"),
    }
}

/// Runs `tests/vectors/signer.py` for these secrets and `now`; panics with its stderr on failure.
fn sign_cases(now: u64) -> Vectors {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run `make venv` (requirements-dev.txt has the provider libraries) or set \
         HOOKRELAY_PYTHON; this test never skips",
        python.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/signer.py");
    let secrets: serde_json::Map<String, Value> = SECRETS
        .iter()
        .map(|(route, vars)| {
            (
                route.to_string(),
                json!(vars.iter().map(|v| v.value).collect::<Vec<_>>()),
            )
        })
        .collect();
    let input = json!({
        "now": now,
        "secrets": secrets,
        "settings": {
            "ed25519_seed": BASE64.encode(ED25519_SEED),
            "meta_verify_token": META_VERIFY_TOKEN,
            "twilio_public_url": TWILIO_PUBLIC_URL,
        },
    });
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", python.display(), script.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write the signer's input");
    let out = child.wait_with_output().expect("signer output");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "signer output is not the expected JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

async fn send(s: &Stack, case: &Case) -> Reply {
    let mut url = s.url(&case.path());
    if !case.query.is_empty() {
        url.push('?');
        url.push_str(&case.query);
    }
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
    let mut request = s.http.request(method, &url);
    for (name, value) in &case.headers {
        request = request.header(name, value);
    }
    let body = case.body();
    if !body.is_empty() {
        request = request.body(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {} {url}: {e}", case.name, case.method));
    read_reply(response).await
}

fn hmac_sha256_hex(key: &str, message: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn secrets_of(route: &str) -> &'static [SecretVar] {
    SECRETS
        .iter()
        .find(|(r, _)| *r == route)
        .map(|(_, v)| *v)
        .unwrap_or_default()
}

/// Zoom's answer, checked here independently of the signer: `encryptedToken` is the hex
/// HMAC-SHA256 of `plainToken` under the secret that signed the request.
fn check_zoom_answer(case: &Case, reply: &Reply) -> Result<(), String> {
    let body = case.body();
    let signature = case.header("x-zm-signature").ok_or("unsigned")?;
    let timestamp = case.header("x-zm-request-timestamp").ok_or("no timestamp")?;
    let message = [format!("v0:{timestamp}:").as_bytes(), &body].concat();
    let signer = secrets_of("zoom")
        .iter()
        .find(|s| format!("v0={}", hmac_sha256_hex(s.value, &message)) == signature)
        .ok_or("signed by none of the route's secrets")?;
    let request: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let plain = request["payload"]["plainToken"].as_str().ok_or("no plainToken")?;
    let want = json!({ "plainToken": plain, "encryptedToken": hmac_sha256_hex(signer.value, plain.as_bytes()) });
    let got: Value = serde_json::from_str(&reply.body).map_err(|e| format!("not JSON: {e}"))?;
    if got != want {
        return Err(format!("answer {got} (expected {want})"));
    }
    Ok(())
}

/// What was wrong with the answer to `case`, if anything; `Ok(Some(job id))` for a queued one.
fn check_answer(case: &Case, reply: &Reply) -> Result<Option<String>, String> {
    let content_type = reply.header("content-type").unwrap_or("");
    match &case.expect {
        Expect::Queued { .. } => {
            let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
            let id = v["id"].as_str().unwrap_or_default();
            if reply.status != 200
                || v["status"] != json!("queued")
                || id.is_empty()
                || !content_type.starts_with("application/json")
            {
                return Err(format!("expected 200 {{\"id\", \"status\": \"queued\"}}, got {reply}"));
            }
            Ok(Some(id.to_owned()))
        }
        Expect::Refused { status, error } => {
            let want = json!({ "error": error });
            let got: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
            if reply.status != *status || got != want || !content_type.starts_with("application/json") {
                return Err(format!("expected {status} {want}, got {reply}"));
            }
            if *status == 405 && reply.header("allow") != Some("POST") {
                return Err(format!("405 without `Allow: POST`: {reply}"));
            }
            Ok(None)
        }
        Expect::Reply {
            status,
            content_type: want_type,
            body,
        } => {
            let body_matches = if want_type == "application/json" {
                serde_json::from_str::<Value>(&reply.body).ok() == serde_json::from_str::<Value>(body).ok()
            } else {
                reply.body == *body
            };
            if reply.status != *status || !content_type.starts_with(want_type.as_str()) || !body_matches {
                return Err(format!("expected {status} {want_type} {body:?}, got {reply}"));
            }
            if case.route == "zoom" {
                check_zoom_answer(case, reply).map_err(|e| format!("Zoom's answer, checked in Rust: {e}"))?;
            }
            Ok(None)
        }
    }
}

/// The content type the worker must send the algorithm for this input (docs/behaviour.md, "worker").
fn algorithm_content_type(body: &[u8]) -> &'static str {
    if serde_json::from_slice::<Value>(body).is_ok() {
        "application/json"
    } else if std::str::from_utf8(body).is_ok() {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

fn payload_bytes(envelope: &Value) -> Option<Vec<u8>> {
    match (
        envelope["payload"]["text"].as_str(),
        envelope["payload"]["base64"].as_str(),
    ) {
        (Some(text), None) => Some(text.as_bytes().to_vec()),
        (None, Some(b64)) => BASE64.decode(b64).ok(),
        _ => None,
    }
}

/// Problems with one job's envelope.
fn check_envelope(case: &Case, raw: &str, envelope: &Value) -> Vec<String> {
    let Expect::Queued { delivery_id } = &case.expect else {
        unreachable!("only queued cases have jobs")
    };
    let mut problems = Vec::new();
    let expected = [
        ("v", json!(1)),
        ("source", json!("webhook")),
        ("route", json!(case.path())),
        ("delivery_id", json!(delivery_id)),
        ("content_type", json!(case.header("content-type"))),
        ("target", json!({ "algorithm": ALGORITHM })),
    ];
    for (key, want) in expected {
        if envelope[key] != want {
            problems.push(format!("envelope `{key}` is {} (expected {want})", envelope[key]));
        }
    }
    if payload_bytes(envelope).as_deref() != Some(case.body().as_slice()) {
        problems.push(format!("envelope payload {} is not the body sent", envelope["payload"]));
    }
    let lower = raw.to_ascii_lowercase();
    for name in SIGNATURE_HEADERS {
        if lower.contains(name) {
            problems.push(format!("envelope mentions `{name}`"));
        }
    }
    problems
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheme_verifies_requests_signed_by_the_providers_libraries() {
    let vectors = sign_cases(now_secs());
    eprintln!(
        "providers: {} cases signed by {:?}",
        vectors.cases.len(),
        vectors.libraries
    );

    let mut opts = crate::options(ROUTES)
        .worker_source_paused()
        .env("SW_PUBLIC_KEY", &vectors.derived.standard_webhooks_public_key)
        .env("META_VERIFY_TOKEN", META_VERIFY_TOKEN);
    for (_, vars) in SECRETS {
        for var in *vars {
            opts = opts.env(var.env, var.value);
        }
    }
    let mut s = start(opts).await;

    // 1. Every case through the function URL, answers checked as they come.
    let mut problems: Vec<String> = Vec::new();
    let mut gaps: Vec<String> = Vec::new();
    let mut jobs: HashMap<String, usize> = HashMap::new();
    for (index, case) in vectors.cases.iter().enumerate() {
        let reply = send(&s, case).await;
        match (check_answer(case, &reply), &case.gap) {
            (Ok(Some(id)), _) => {
                jobs.insert(id, index);
            }
            (Ok(None), _) => {}
            (Err(e), None) => problems.push(format!("{}: {e}", case.name)),
            (Err(e), Some(gap)) => gaps.push(format!("{}: {e}\n    library: {gap}", case.name)),
        }
    }
    if !problems.is_empty() {
        s.fail(&format!(
            "{} of {} cases were answered wrongly:\n  {}\n",
            problems.len(),
            vectors.cases.len(),
            problems.join("\n  ")
        ))
        .await;
    }

    // 2. The queue holds exactly the accepted jobs: nothing refused and no handshake was queued.
    let sqs = s.moto.sqs().clone();
    let mut messages: HashMap<String, aws_sdk_sqs::types::Message> = HashMap::new();
    let started = Instant::now();
    while messages.len() < jobs.len() {
        if started.elapsed() > DEADLINE {
            s.fail(&format!(
                "timed out after {DEADLINE:?} reading the queue: {} of {} jobs",
                messages.len(),
                jobs.len()
            ))
            .await;
        }
        for m in s.moto.receive(&s.jobs.url, 0, 300).await.unwrap_or_default() {
            messages.insert(m.message_id().unwrap_or_default().to_owned(), m);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    for m in s.moto.receive(&s.jobs.url, 0, 300).await.unwrap_or_default() {
        messages.insert(m.message_id().unwrap_or_default().to_owned(), m);
    }
    let counts = s.moto.queue_counts(&s.jobs.url).await.unwrap();
    if counts.total() != jobs.len() as u64 {
        problems.push(format!("queue holds {counts:?}, expected exactly {} jobs", jobs.len()));
    }
    let own_secrets: Vec<&str> = SECRETS
        .iter()
        .flat_map(|(_, vars)| vars.iter())
        .filter(|v| !v.published)
        .map(|v| v.value)
        .collect();
    for m in messages.values() {
        let raw = m.body().unwrap_or_default();
        let envelope: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
        let Some(&index) = envelope["id"].as_str().and_then(|id| jobs.get(id)) else {
            let payload: String = String::from_utf8_lossy(&payload_bytes(&envelope).unwrap_or_default())
                .chars()
                .take(120)
                .collect();
            problems.push(format!(
                "queued without a 200 for it (a refused request or a handshake?): route {} payload {payload:?}",
                envelope["route"]
            ));
            continue;
        };
        let case = &vectors.cases[index];
        for p in check_envelope(case, raw, &envelope) {
            problems.push(format!("{}: {p}", case.name));
        }
        if let Some(secret) = own_secrets.iter().find(|sec| raw.contains(**sec)) {
            problems.push(format!("{}: the envelope holds the secret {secret:?}", case.name));
        }
    }
    if !problems.is_empty() {
        s.fail(&format!("the queue is wrong:\n  {}\n", problems.join("\n  ")))
            .await;
    }
    // Hand the jobs back (visible again at once) and let the worker run.
    for m in messages.values() {
        sqs.change_message_visibility()
            .queue_url(&s.jobs.url)
            .receipt_handle(m.receipt_handle().unwrap_or_default())
            .visibility_timeout(0)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ChangeMessageVisibility: {e:?}"));
    }
    s.start_worker_source();

    // 3. Every job reaches the algorithm once: exact body, right content type, its id as key.
    s.wait_for("every job to reach the algorithm", || async {
        let calls = s.algorithm.requests();
        jobs.keys()
            .all(|id| calls.iter().any(|r| r.header("idempotency-key") == Some(id.as_str())))
            .then_some(())
    })
    .await;
    s.wait_queue_empty(&s.jobs).await;
    let calls = s.algorithm.requests();
    if calls.len() != jobs.len() {
        problems.push(format!("{} algorithm calls for {} jobs", calls.len(), jobs.len()));
    }
    for (id, &index) in &jobs {
        let case = &vectors.cases[index];
        let mine: Vec<_> = calls
            .iter()
            .filter(|r| r.header("idempotency-key") == Some(id.as_str()))
            .collect();
        let [call] = mine.as_slice() else {
            problems.push(format!("{}: {} algorithm calls for job {id}", case.name, mine.len()));
            continue;
        };
        let body = case.body();
        if call.body.as_ref() != body.as_slice() {
            problems.push(format!(
                "{}: the algorithm got {:?}, not the body sent",
                case.name,
                call.body_text()
            ));
        }
        assert_algorithm_call(&s, call, algorithm_content_type(&body)).await;
        if call.header("authorization") != Some(format!("Simple {ALGO_KEY}").as_str()) {
            problems.push(format!("{}: wrong authorization", case.name));
        }
    }
    let failures: Vec<_> = s
        .worker_source()
        .invocations()
        .iter()
        .flat_map(|b| b.reported_failures().to_vec())
        .collect();
    if !failures.is_empty() {
        problems.push(format!("the worker reported failures: {failures:?}"));
    }
    if !s.dlq_is_empty().await {
        problems.push("the dead-letter queue is not empty".into());
    }
    let ingress_log = s.ingress.output();
    if let Some(secret) = own_secrets.iter().find(|sec| ingress_log.contains(**sec)) {
        problems.push(format!("the ingress logged the secret {secret:?}"));
    }
    if !problems.is_empty() {
        s.fail(&format!("delivery is wrong:\n  {}\n", problems.join("\n  ")))
            .await;
    }
    if !gaps.is_empty() {
        eprintln!(
            "providers: {} known gap(s) where hookrelay and the provider's library disagree:\n  {}",
            gaps.len(),
            gaps.join("\n  ")
        );
    }
    eprintln!(
        "providers: {} cases passed ({} queued and delivered once)",
        vectors.cases.len() - gaps.len(),
        jobs.len()
    );
}
