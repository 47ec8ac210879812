//! Property tests over every verification scheme: arbitrary requests never panic, and nothing is
//! delivered or answered from a secret without knowing the secret. For the schemes that carry a
//! list of signatures (Stripe, Standard Webhooks): a valid signature is found wherever it sits among
//! entries that do not parse, and a list without one is "malformed" exactly when nothing in it is
//! usable. Standard Webhooks secrets verify the same with or without `whsec_` and padding.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{KeyInit, Mac};
use hookrelay::{
    config::Config,
    foundation::secret::SecretResolver,
    inbound::verify::{Clock, Decision, Rejection, Verifier, WebhookRequest},
};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;

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

/// Builds the verifiers of `routes` (secrets from the environment).
fn build(routes: &str) -> Vec<Verifier> {
    let config = Config::from_toml(routes).expect("the property routes are valid");
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let resolver = SecretResolver::new(None);
    config
        .routes
        .iter()
        .map(|route| runtime.block_on(Verifier::for_route(route, &resolver)))
        .collect::<Result<_, _>>()
        .expect("every scheme builds")
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The verdict on a POST with these headers at [`NOW`].
fn verdict(verifier: &Verifier, pairs: &[(&'static str, String)], body: &[u8]) -> Result<(), Rejection> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("generated header values are visible ASCII"),
        );
    }
    let request = WebhookRequest {
        method: &Method::POST,
        headers: &headers,
        query: None,
        body,
    };
    match verifier.verify(request, &Pinned)? {
        Decision::Deliver(_) => Ok(()),
        Decision::Reply(reply) => panic!("a delivery was answered as a handshake: {reply:?}"),
    }
}

const STRIPE_SECRET: &str = "whsec_property_stripe_secret";
const SW_KEY: &[u8] = b"property standard webhooks key!!";

fn known_secret_verifiers() -> (Verifier, Verifier) {
    std::env::set_var("PROP_KNOWN_STRIPE", STRIPE_SECRET);
    std::env::set_var("PROP_KNOWN_WHSEC", format!("whsec_{}", BASE64.encode(SW_KEY)));
    std::env::set_var("PROP_KNOWN_WHPK", "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    let mut built = build(
        r#"
[[route]]
path = "/stripe"
verify = "stripe"
secrets = ["env:PROP_KNOWN_STRIPE"]
algorithm = "a/b"
[[route]]
path = "/standard-webhooks"
verify = "standard-webhooks"
secrets = ["env:PROP_KNOWN_WHSEC"]
public_keys = ["env:PROP_KNOWN_WHPK"]
algorithm = "a/b"
"#,
    );
    let standard_webhooks = built.pop().unwrap();
    (built.pop().unwrap(), standard_webhooks)
}

/// `Stripe-Signature` items that are not the signature: garbage, `v1` values that are not a
/// digest, well-formed wrong digests, other schemes. Never a second `t=`.
fn stripe_item() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -+\\--~]{0,24}",
        "[ -+\\--~]{0,70}".prop_map(|v| format!("v1={v}")),
        "[0-9a-fA-F]{60,68}".prop_map(|v| format!("v1={v}")),
        "[0-9a-f]{64}".prop_map(|v| format!("v1={v}")),
        "[0-9a-f]{64}".prop_map(|v| format!("v0={v}")),
        "[a-z0-9]{1,3}=[ -+\\--~]{0,20}",
    ]
    .prop_filter("a second timestamp is malformed on purpose", |item| {
        !item.trim().starts_with("t=")
    })
}

/// A `v1` digest hookrelay can check: exactly 64 hex digits (either case).
fn usable_stripe_item(item: &str) -> bool {
    item.trim()
        .strip_prefix("v1=")
        .is_some_and(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `webhook-signature` entries that are not the signature (no spaces: spaces separate entries).
fn sw_entry() -> impl Strategy<Value = String> {
    prop_oneof![
        "[!-~]{0,40}",
        "[A-Za-z0-9+/=]{0,50}".prop_map(|v| format!("v1,{v}")),
        "[A-Za-z0-9+/]{43}=".prop_map(|v| format!("v1,{v}")),
        "[A-Za-z0-9+/=]{0,90}".prop_map(|v| format!("v1a,{v}")),
        "[A-Za-z0-9+/]{86}==".prop_map(|v| format!("v1a,{v}")),
        "[a-z0-9]{1,3},[A-Za-z0-9+/=]{0,44}",
    ]
}

/// A `v1` / `v1a` entry hookrelay can check: standard base64 of 32 / 64 bytes.
fn usable_sw_entry(entry: &str) -> bool {
    let length = |v: &str| BASE64.decode(v).map(|b| b.len()).ok();
    match entry.split_once(',') {
        Some(("v1", v)) => length(v) == Some(32),
        Some(("v1a", v)) => length(v) == Some(64),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn stripe_finds_its_signature_among_unparsable_items(
        junk in prop::collection::vec(stripe_item(), 0..8),
        at in any::<prop::sample::Index>(),
        t_at in any::<prop::sample::Index>(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        thread_local! { static VERIFIERS: (Verifier, Verifier) = known_secret_verifiers(); }
        let t = NOW.to_string();
        let signature = hex::encode(hmac_sha256(STRIPE_SECRET.as_bytes(), &[t.as_bytes(), b".", &body]));
        let mut items = junk.clone();
        items.insert(t_at.index(items.len() + 1), format!("t={t}"));
        let without = items.join(",");
        items.insert(at.index(items.len() + 1), format!("v1={signature}"));
        let with = items.join(",");
        VERIFIERS.with(|(stripe, _)| {
            prop_assert_eq!(verdict(stripe, &[("stripe-signature", with.clone())], &body), Ok(()), "{}", with);
            let expected = if junk.iter().any(|i| usable_stripe_item(i)) {
                Rejection::SignatureMismatch
            } else {
                Rejection::MalformedSignature
            };
            prop_assert_eq!(verdict(stripe, &[("stripe-signature", without.clone())], &body), Err(expected), "{}", without);
            Ok(())
        })?;
    }

    #[test]
    fn standard_webhooks_finds_its_signature_among_unparsable_entries(
        junk in prop::collection::vec(sw_entry(), 0..10),
        at in any::<prop::sample::Index>(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        thread_local! { static VERIFIERS: (Verifier, Verifier) = known_secret_verifiers(); }
        let (id, t) = ("msg_property", NOW.to_string());
        let signature = BASE64.encode(hmac_sha256(SW_KEY, &[id.as_bytes(), b".", t.as_bytes(), b".", &body]));
        let mut entries = junk.clone();
        let without = entries.join(" ");
        entries.insert(at.index(entries.len() + 1), format!("v1,{signature}"));
        let with = entries.join(" ");
        let headers = |signatures: &str| [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", t.clone()),
            ("webhook-signature", signatures.to_owned()),
        ];
        VERIFIERS.with(|(_, standard_webhooks)| {
            prop_assert_eq!(verdict(standard_webhooks, &headers(&with), &body), Ok(()), "{}", with);
            let expected = if junk.iter().any(|e| usable_sw_entry(e)) {
                Rejection::SignatureMismatch
            } else {
                Rejection::MalformedSignature
            };
            // An empty list is an empty header: malformed as well.
            prop_assert_eq!(verdict(standard_webhooks, &headers(&without), &body), Err(expected), "{}", without);
            Ok(())
        })?;
    }

    #[test]
    fn standard_webhooks_secrets_verify_with_or_without_prefix_and_padding(
        key in prop::collection::vec(any::<u8>(), 1..48),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let padded = BASE64.encode(&key);
        let unpadded = padded.trim_end_matches('=').to_owned();
        let forms = [format!("whsec_{padded}"), padded.clone(), unpadded.clone(), format!("whsec_{unpadded}")];
        for (i, form) in forms.iter().enumerate() {
            std::env::set_var(format!("PROP_SECRET_FORM_{i}"), form);
        }
        let routes: String = (0..forms.len())
            .map(|i| format!("[[route]]\npath = \"/f{i}\"\nverify = \"standard-webhooks\"\nsecrets = [\"env:PROP_SECRET_FORM_{i}\"]\nalgorithm = \"a/b\"\n"))
            .collect();
        let (id, t) = ("msg_forms", NOW.to_string());
        let signature = BASE64.encode(hmac_sha256(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", &body]));
        let headers = [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", t.clone()),
            ("webhook-signature", format!("v1,{signature}")),
        ];
        for (verifier, form) in build(&routes).iter().zip(&forms) {
            prop_assert_eq!(verdict(verifier, &headers, &body), Ok(()), "{}", form);
        }
    }
}
