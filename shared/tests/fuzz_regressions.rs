//! Inputs the fuzz targets (fuzz/, FUZZING.md) found, kept as tests of the public API.

use hookrelay::{
    config::Config,
    filter::Filter,
    foundation::secret::SecretResolver,
    inbound::route::RequestView,
    inbound::verify::{Decision, SystemClock, Verifier, WebhookRequest},
};
use http::{HeaderMap, Method};
use serde_json::json;

/// The filter decision the ingress takes (its fast path) and the one on the fully parsed event.
async fn decisions(pattern: serde_json::Value, body: &[u8]) -> (bool, bool) {
    let config = Config::from_toml("[[route]]\npath = \"/f\"\nverify = \"none\"\nalgorithm = \"a/b\"\n").unwrap();
    let verifier = Verifier::for_route(&config.routes[0], &SecretResolver::new(None))
        .await
        .unwrap();
    let filter = Filter::compile(&pattern).unwrap();
    let headers = HeaderMap::new();
    let request = WebhookRequest {
        method: &Method::POST,
        headers: &headers,
        query: None,
        body,
    };
    let Ok(Decision::Deliver(verified)) = verifier.verify(request, &SystemClock) else {
        panic!("verify = \"none\" delivers every POST");
    };
    let fast = RequestView::new(&verified, "/f").passes(&filter);
    let full = filter.matches(&RequestView::new(&verified, "/f").filter_event());
    (fast, full)
}

/// filter_match, crash-4417244d: invalid UTF-8 inside a string of a field the filter does not
/// read made the fast path see a JSON body (serde_json skips such strings unchecked) where a full
/// parse sees none, so a filter on another field passed a body that input mapping calls "not JSON".
#[tokio::test]
async fn invalid_utf8_in_an_unread_field_decides_as_a_full_parse() {
    let body = b"{\"received_at\": \"2026-11-23T15:00\xff00.123Z\", \"v\": 1}";
    let (fast, full) = decisions(json!({"body": {"v": [1]}}), body).await;
    assert!(!full, "a body with invalid UTF-8 is not JSON");
    assert_eq!(fast, full);
    // The same body without the bad byte passes both ways.
    let (fast, full) = decisions(json!({"body": {"v": [1]}}), b"{\"received_at\": \"x\", \"v\": 1}").await;
    assert!(fast && full);
}

/// worker_records, crash-79937195: an envelope whose `received_at` has more than millisecond
/// precision parsed, but written again (as the worker does for a callback job) it lost the extra
/// digits, so it no longer read back the same.
#[test]
fn an_envelope_with_finer_than_millisecond_time_round_trips() {
    use hookrelay::wire::envelope::Envelope;
    let text = r#"{"v":1,"id":"j-1","source":"webhook","route":"/hooks/x","received_at":"2026-11-22T15:00:00.1213Z",
        "delivery_id":null,"content_type":null,"target":{"algorithm":"demo/Hello/0.1.0"},"payload":{"text":"hi"}}"#;
    let parsed = Envelope::from_json(text).unwrap();
    let again = Envelope::from_json(&parsed.to_json()).unwrap();
    assert_eq!(again, parsed);
    assert_eq!(parsed.received_at.timestamp_subsec_millis(), 121);
}
