//! Ingress hot path vs a bare HMAC-SHA256 of the same body (`make bench`, see BENCHMARKS.md).
//!
//! One iteration is what the ingress does per request before the SendMessage call: route lookup,
//! signature verification, the route filter, input mapping and the envelope serialised to the JSON
//! that goes on the queue. Everything goes through the library's public API; the config is parsed with
//! `Config::from_toml` and the verifiers are built with `Verifier::for_route`, as at cold start.
//!
//! Cases, each for a 1 KiB and a 64 KiB JSON body:
//! - `github`: `X-Hub-Signature-256`, filter on a header and a body field (as examples/hookrelay.toml);
//! - `github_nofilter`: the same route without a filter (the raw body travels, no JSON tree is cloned);
//! - `stripe`: `Stripe-Signature` (`t=..,v1=..`), filter on the body's `type` by prefix;
//! - `hmac_sha256`: the floor, one HMAC-SHA256 of the body with the same key.
//!
//! `filter_matches`: `Filter::matches` alone on a parsed GitHub-like event, for case-sensitive
//! operators (exact, prefix, suffix, wildcard) and their ignore-case forms, to see that full case
//! folding costs only the ignore-case operators.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use hookrelay::{
    config::{Config, Route},
    foundation::secret::SecretResolver,
    inbound::route::{RequestView, RouteTable},
    inbound::verify::{Decision, SystemClock, Verifier, WebhookRequest},
    wire::envelope::Envelope,
};
use http::{HeaderMap, HeaderValue, Method};
use sha2::Sha256;

const SECRET: &str = "It's a Secret to Everybody";
const SIZES: [usize; 2] = [1024, 64 * 1024];

const CONFIG: &str = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:HOOKRELAY_BENCH_SECRET"]
algorithm = "acme/BuildIndexer/1.2.0"
filter = { headers = { "x-github-event" = ["push"] }, body = { ref = ["refs/heads/main"] } }

[[route]]
path = "/hooks/github-nofilter"
verify = "github"
secrets = ["env:HOOKRELAY_BENCH_SECRET"]
algorithm = "acme/BuildIndexer/1.2.0"

[[route]]
path = "/hooks/stripe"
verify = "stripe"
secrets = ["env:HOOKRELAY_BENCH_SECRET"]
algorithm = "acme/Billing/0.1.0"
filter = { body = { type = [{ prefix = "invoice.payment_failed" }] } }
"#;

struct Entry {
    route: Route,
    verifier: Verifier,
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A JSON body of exactly `size` bytes with the fields the filters look at.
fn body(size: usize) -> Vec<u8> {
    let head = r#"{"id":"evt_1NbenchAAAAAAAAAAAAAAAAA","type":"invoice.payment_failed","ref":"refs/heads/main","repository":{"full_name":"acme/app"},"commits":["#;
    let mut s = String::from(head);
    let mut i = 0;
    while s.len() + 200 < size {
        s.push_str(&format!(
            r#"{{"id":"{i:040x}","message":"commit message number {i}"}},"#
        ));
        i += 1;
    }
    s.push_str(r#"{"id":"last"}],"pad":""#);
    while s.len() + 2 < size {
        s.push('x');
    }
    s.push_str("\"}");
    assert_eq!(s.len(), size);
    serde_json::from_str::<serde_json::Value>(&s).expect("valid JSON");
    s.into_bytes()
}

fn headers(case: &str, body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("user-agent", HeaderValue::from_static("GitHub-Hookshot/abc123"));
    match case {
        "stripe" => {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                .to_string();
            let sig = hex::encode(hmac_sha256(SECRET.as_bytes(), &[t.as_bytes(), b".", body]));
            h.insert("stripe-signature", format!("t={t},v1={sig}").parse().unwrap());
        }
        _ => {
            let sig = hex::encode(hmac_sha256(SECRET.as_bytes(), &[body]));
            h.insert("x-hub-signature-256", format!("sha256={sig}").parse().unwrap());
            h.insert("x-github-event", HeaderValue::from_static("push"));
            h.insert(
                "x-github-delivery",
                HeaderValue::from_static("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            );
        }
    }
    h
}

/// Everything the ingress does for one request before SendMessage; returns the message body. As
/// in the ingress, the request's body is moved into the job once verification and the filter
/// are done with it.
fn hot_path(routes: &RouteTable<Entry>, path: &str, method: &Method, headers: &HeaderMap, body: Vec<u8>) -> String {
    let entry = routes.get(path).expect("route");
    let (job, input) = {
        let request = WebhookRequest {
            method,
            headers,
            query: None,
            body: &body,
        };
        let verified = match entry.verifier.verify(request, &SystemClock) {
            Ok(Decision::Deliver(v)) => v,
            other => panic!("not delivered: {other:?}"),
        };
        let view = RequestView::new(&verified, &entry.route.path);
        if let Some(filter) = &entry.route.filter {
            assert!(view.passes(filter), "filtered out");
        }
        let input = view.input(&entry.route.input).expect("input");
        let now = chrono::Utc::now();
        let job = Envelope::for_webhook(&verified, &entry.route.path, &entry.route.target, input.is_some(), now);
        (job, input)
    };
    job.with_payload(input.unwrap_or(body)).to_json()
}

fn bench(c: &mut Criterion) {
    // Edition 2021: set_var is safe; this runs before any other thread reads the environment.
    std::env::set_var("HOOKRELAY_BENCH_SECRET", SECRET);
    let config = Config::from_toml(CONFIG).expect("bench config");
    let resolver = SecretResolver::new(None);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let entries: Vec<(String, Entry)> = config
        .routes
        .iter()
        .map(|route| {
            let verifier = rt.block_on(Verifier::for_route(route, &resolver)).expect("verifier");
            (
                route.path.clone(),
                Entry {
                    route: route.clone(),
                    verifier,
                },
            )
        })
        .collect();
    let routes = RouteTable::new(entries);
    let method = Method::POST;

    for size in SIZES {
        let label = if size >= 1024 * 64 { "64KiB" } else { "1KiB" };
        let body = body(size);
        let mut group = c.benchmark_group(format!("ingress_hot_path_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("hmac_sha256", |b| {
            b.iter(|| hmac_sha256(black_box(SECRET.as_bytes()), &[black_box(&body)]))
        });
        for case in ["github", "github_nofilter", "stripe"] {
            let path = match case {
                "github_nofilter" => "/hooks/github-nofilter",
                "stripe" => "/hooks/stripe",
                _ => "/hooks/github",
            };
            let h = headers(case, &body);
            // Sanity: the path delivers before it is timed.
            hot_path(&routes, path, &method, &h, body.clone());
            // The request's body is the ingress's to take: a fresh copy, hot in cache as lambda_http
            // leaves it, made before each timed iteration.
            group.bench_with_input(BenchmarkId::from_parameter(case), &body, |b, body| {
                b.iter_batched(
                    || body.clone(),
                    |body| hot_path(&routes, black_box(path), &method, &h, black_box(body)),
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
}

fn bench_filter_matches(c: &mut Criterion) {
    use hookrelay::filter::Filter;
    let event = serde_json::json!({
        "method": "POST",
        "headers": {"x-github-event": "push", "content-type": "application/json"},
        "body": {
            "ref": "refs/heads/main",
            "repository": {"full_name": "acme/Strasse-App", "name": "Strasse-App"},
            "commits": [{"id": "a1", "message": "one"}, {"id": "b2", "message": "two"}],
        },
    });
    let cases = [
        (
            "exact",
            serde_json::json!({"headers": {"x-github-event": ["push"]}, "body": {"ref": ["refs/heads/main"]}}),
        ),
        (
            "prefix_suffix",
            serde_json::json!({"body": {"ref": [{"prefix": "refs/heads/"}], "repository": {"name": [{"suffix": "-App"}]}}}),
        ),
        (
            "wildcard",
            serde_json::json!({"body": {"repository": {"full_name": [{"wildcard": "acme/*-App"}]}}}),
        ),
        (
            "equals_ignore_case",
            serde_json::json!({"body": {"repository": {"name": [{"equals-ignore-case": "STRASSE-APP"}]}}}),
        ),
        (
            "prefix_suffix_ignore_case",
            serde_json::json!({"body": {"ref": [{"prefix": {"equals-ignore-case": "REFS/HEADS/"}}], "repository": {"name": [{"suffix": {"equals-ignore-case": "SSE-APP"}}]}}}),
        ),
    ];
    let mut group = c.benchmark_group("filter_matches");
    for (name, pattern) in cases {
        let filter = Filter::compile(&pattern).expect("bench pattern");
        assert!(filter.matches(&event), "{name} must match");
        group.bench_function(name, |b| b.iter(|| filter.matches(black_box(&event))));
    }
    group.finish();
}

criterion_group!(benches, bench, bench_filter_matches);
criterion_main!(benches);
