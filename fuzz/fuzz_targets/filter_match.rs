//! Filter compilation and matching (shared/src/filter/, through the ingress's RequestView).
//!
//! Input: a pattern (JSON), a NUL byte, a body (raw bytes). Invariants: compiling never panics;
//! the decision the ingress takes on the raw body (its fast path parses only the fields the
//! filter reads) equals the decision on the fully parsed event and the decision on the
//! re-serialised body (parsed, then `serde_json::to_vec`).
#![no_main]

use std::sync::OnceLock;

use hookrelay::{
    config::Config,
    filter::Filter,
    foundation::secret::SecretResolver,
    inbound::route::RequestView,
    inbound::verify::{Decision, SystemClock, Verifier, WebhookRequest},
};
use http::{HeaderMap, HeaderValue, Method};

const PATH: &str = "/hooks/filter";

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let config = Config::from_toml(&format!(
            "[[route]]\npath = \"{PATH}\"\nverify = \"none\"\nalgorithm = \"fuzz/Filter/1\"\n"
        ))
        .expect("config");
        hookrelay_fuzz::block_on(Verifier::for_route(&config.routes[0], &SecretResolver::new(None))).expect("verifier")
    })
}

/// The ingress's decision on `body` (fast path), and the decision on the fully parsed event.
fn decide(filter: &Filter, headers: &HeaderMap, body: &[u8]) -> (bool, bool) {
    let request = WebhookRequest {
        method: &Method::POST,
        headers,
        query: Some("kind=a&kind=b&x=%20y"),
        body,
    };
    let Ok(Decision::Deliver(verified)) = verifier().verify(request, &SystemClock) else {
        panic!("verify = \"none\" delivers every POST");
    };
    let fast = RequestView::new(&verified, PATH).passes(filter);
    let full = filter.matches(&RequestView::new(&verified, PATH).filter_event());
    (fast, full)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (pattern, body) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(pattern) = serde_json::from_slice::<serde_json::Value>(pattern) else {
        return;
    };
    let Ok(filter) = Filter::compile(&pattern) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-github-event", HeaderValue::from_static("push"));
    let (fast, full) = decide(&filter, &headers, body);
    assert_eq!(
        fast,
        full,
        "the fast path decides {fast} but the full parse {full} on body {:?}",
        String::from_utf8_lossy(body)
    );
    if let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(body) {
        let reserialised = serde_json::to_vec(&parsed).expect("a JSON value serialises");
        let (again, _) = decide(&filter, &headers, &reserialised);
        assert_eq!(
            fast,
            again,
            "raw body decides {fast}, re-serialised body {again}: {:?}",
            String::from_utf8_lossy(body)
        );
    }
});
