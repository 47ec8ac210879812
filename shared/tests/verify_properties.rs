//! Property tests over every verification scheme: arbitrary requests never panic, and nothing is
//! delivered or answered from a secret without knowing the secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use shared::{
    config::Config,
    secret::SecretResolver,
    verify::{Clock, Decision, Verifier, WebhookRequest},
};

/// The instant every generated request is judged at; timestamps are generated around it.
const NOW: u64 = 1_763_900_000;

struct Pinned;

impl Clock for Pinned {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }
}

/// One route per scheme, all with secrets the generated requests cannot know.
const ROUTES: &str = r#"
[[route]]
path = "/github"
verify = "github"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/stripe"
verify = "stripe"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/slack"
verify = "slack"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/standard-webhooks"
verify = "standard-webhooks"
secrets = ["env:PROP_WHSEC"]
public_keys = ["env:PROP_WHPK"]
algorithm = "a/b"
[[route]]
path = "/shopify"
verify = "shopify"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/meta"
verify = "meta"
secrets = ["env:PROP_SECRET"]
verify_token = "env:PROP_SECRET"
algorithm = "a/b"
[[route]]
path = "/zoom"
verify = "zoom"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/twilio"
verify = "twilio"
secrets = ["env:PROP_SECRET"]
public_url = "https://example.com/hooks/twilio"
algorithm = "a/b"
[[route]]
path = "/cal"
verify = "cal"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/hmac"
verify = "hmac"
secrets = ["env:PROP_SECRET"]
hmac = { header = "x-signature", algorithm = "sha256", encoding = "hex", prefix = "sha256=", content = "{timestamp}.{body}", timestamp_header = "x-timestamp" }
algorithm = "a/b"
[[route]]
path = "/token"
verify = "token"
secrets = ["env:PROP_SECRET"]
algorithm = "a/b"
[[route]]
path = "/basic"
verify = "basic"
secrets = ["env:PROP_BASIC"]
algorithm = "a/b"
"#;

/// Header names the schemes read, so generated values reach their parsers.
const HEADER_NAMES: &[&str] = &[
    "x-hub-signature-256",
    "stripe-signature",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "x-zm-signature",
    "x-zm-request-timestamp",
    "x-twilio-signature",
    "x-cal-signature-256",
    "x-signature",
    "x-timestamp",
    "x-webhook-token",
    "authorization",
    "content-type",
];

fn verifiers() -> Vec<Verifier> {
    std::env::set_var("PROP_SECRET", "a secret nobody generates");
    std::env::set_var("PROP_WHSEC", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    std::env::set_var("PROP_WHPK", "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    std::env::set_var("PROP_BASIC", "user:a password nobody generates");
    let config = Config::from_toml(ROUTES).expect("the property routes are valid");
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let resolver = SecretResolver::new(None);
    config
        .routes
        .iter()
        .map(|route| {
            runtime
                .block_on(Verifier::for_route(route, &resolver))
                .expect("every scheme builds")
        })
        .collect()
}

/// Values shaped like real signature headers (and plain garbage), around the pinned clock.
fn header_value() -> impl Strategy<Value = String> {
    let timestamp = (NOW - 400..NOW + 400).prop_map(|t| t.to_string());
    prop_oneof![
        "[ -~]{0,80}",
        "[0-9a-f]{64}".prop_map(|h| format!("sha256={h}")),
        "[0-9a-f]{64}".prop_map(|h| format!("v0={h}")),
        (timestamp.clone(), "[0-9a-f]{64}").prop_map(|(t, h)| format!("t={t},v1={h},v1={h}")),
        "[A-Za-z0-9+/]{43}=".prop_map(|b| format!("v1,{b} v1a,{b}{b}")),
        "[A-Za-z0-9+/]{27}=",
        "[A-Za-z0-9+/]{0,40}={0,2}".prop_map(|b| format!("Basic {b}")),
        timestamp,
    ]
}

/// (is a GET, headers as (index into HEADER_NAMES, value), query, body).
type RequestParts = (bool, Vec<(usize, String)>, Option<String>, Vec<u8>);

fn request_parts() -> impl Strategy<Value = RequestParts> {
    (
        any::<bool>(),
        prop::collection::vec((0..HEADER_NAMES.len(), header_value()), 0..8),
        prop::option::of("[ -~]{0,60}"),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            Just(br#"{"type":"url_verification","challenge":"c"}"#.to_vec()),
            Just(br#"{"event":"endpoint.url_validation","payload":{"plainToken":"p"}}"#.to_vec()),
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_request_without_the_secret_is_delivered_or_answered(
        (is_get, pairs, query, body) in request_parts()
    ) {
        thread_local! { static VERIFIERS: Vec<Verifier> = verifiers(); }
        let mut headers = HeaderMap::new();
        for (name, value) in &pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(HeaderName::from_static(HEADER_NAMES[*name]), value);
            }
        }
        let method = if is_get { Method::GET } else { Method::POST };
        let request = WebhookRequest { method: &method, headers: &headers, query: query.as_deref(), body: &body };
        VERIFIERS.with(|verifiers| {
            for verifier in verifiers {
                match verifier.verify(request, &Pinned) {
                    Err(_) => {}
                    Ok(Decision::Deliver(_)) => panic!("delivered without the secret: {request:?}"),
                    Ok(Decision::Reply(reply)) => panic!("answered {reply:?} without the secret: {request:?}"),
                }
            }
        });
    }
}
