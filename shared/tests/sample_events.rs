//! The sample events in `events/` (what users invoke the functions with: `sam local invoke -e`,
//! docs/deploy.md; written by `events/generate.py`) stay valid: every `events/*.json` is read,
//! found with `read_dir` so a new sample is covered without editing this test, and parsed as what
//! its name says it is for. A name that matches no known kind fails the test, so no sample goes
//! unchecked.

use std::path::{Path, PathBuf};

use aws_lambda_events::event::{lambda_function_urls::LambdaFunctionUrlRequest, sqs::SqsEvent};
use hookrelay::inbound::s3_event::{parse_invocation, S3Invocation};
use hookrelay::wire::envelope::Envelope;
use serde_json::Value;

/// What a sample event is for, from its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `s3-*.json`: an `s3-relay` invocation, in any of the shapes `parse_invocation` reads.
    S3Relay,
    /// `worker-*.json`: the worker's SQS batch, whose every body is a queue envelope.
    Worker,
    /// `ingress-*.json`: a function URL request (payload format 2.0) to `ingress`.
    Ingress,
}

fn kind_of(file_name: &str) -> Option<Kind> {
    let stem = file_name.strip_suffix(".json")?;
    if stem.starts_with("s3-") {
        Some(Kind::S3Relay)
    } else if stem.starts_with("worker-") {
        Some(Kind::Worker)
    } else if stem.starts_with("ingress-") {
        Some(Kind::Ingress)
    } else {
        None
    }
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// Every `*.json` of `events/`, sorted, as (file name, text).
fn sample_events() -> Vec<(String, String)> {
    let dir = events_dir();
    let mut samples = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        samples.push((name, text));
    }
    samples.sort();
    samples
}

/// An `s3-relay` sample yields its objects with no per-record or per-message error. Returns how
/// many objects it carries.
fn check_s3_relay(text: &str) -> Result<usize, String> {
    let event: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let invocation = parse_invocation(&event).map_err(|e| e.to_string())?;
    match invocation {
        S3Invocation::Direct(records) => records
            .into_iter()
            .map(|r| r.map_err(|e| format!("record: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(|objects| objects.len()),
        S3Invocation::ViaSqs(deliveries) => {
            let mut count = 0;
            for delivery in deliveries {
                if delivery.message_id.is_empty() {
                    return Err("an SQS record without messageId".to_owned());
                }
                let objects = delivery
                    .objects
                    .map_err(|e| format!("message {}: {e}", delivery.message_id))?;
                count += objects.len();
            }
            Ok(count)
        }
        S3Invocation::EventBridge(result) => result.map(|o| usize::from(o.is_some())).map_err(|e| e.to_string()),
    }
}

fn check_worker(text: &str) -> Result<(), String> {
    let event: SqsEvent = serde_json::from_str(text).map_err(|e| format!("not an SqsEvent: {e}"))?;
    if event.records.is_empty() {
        return Err("no records".to_owned());
    }
    for record in &event.records {
        let id = record.message_id.as_deref().unwrap_or("(no messageId)");
        let body = record.body.as_deref().ok_or_else(|| format!("message {id}: no body"))?;
        Envelope::from_json(body).map_err(|e| format!("message {id}: not an envelope: {e}"))?;
    }
    Ok(())
}

fn check_ingress(text: &str) -> Result<(), String> {
    let event: LambdaFunctionUrlRequest =
        serde_json::from_str(text).map_err(|e| format!("not a function URL request: {e}"))?;
    if event.request_context.http.method.is_none() {
        return Err("no requestContext.http.method".to_owned());
    }
    if !event.raw_path.as_deref().is_some_and(|p| p.starts_with('/')) {
        return Err(format!("rawPath {:?} is not a path", event.raw_path));
    }
    if event.body.is_none() {
        return Err("no body".to_owned());
    }
    Ok(())
}

#[test]
fn every_sample_event_parses_as_what_its_name_says() {
    let samples = sample_events();
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for (name, text) in &samples {
        let result = match kind_of(name) {
            None => Err("matches no known kind (s3-*, worker-*, ingress-*): add its check here".to_owned()),
            Some(kind) => {
                seen.push(kind);
                match kind {
                    // The s3:TestEvent is a valid invocation that relays nothing; every other
                    // S3 sample must relay at least one object (not be silently skipped).
                    Kind::S3Relay => {
                        check_s3_relay(text).and_then(|count| match (name.contains("test-event"), count) {
                            (true, 0) | (false, 1..) => Ok(()),
                            (true, n) => Err(format!("the test event yields {n} objects, expected none")),
                            (false, 0) => Err("yields no object (skipped)".to_owned()),
                        })
                    }
                    Kind::Worker => check_worker(text),
                    Kind::Ingress => check_ingress(text),
                }
            }
        };
        if let Err(why) = result {
            failures.push(format!("events/{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for kind in [Kind::S3Relay, Kind::Worker, Kind::Ingress] {
        assert!(seen.contains(&kind), "no {kind:?} sample in {}", events_dir().display());
    }
}

#[test]
fn sample_names_are_classified_by_prefix_and_unknown_ones_are_refused() {
    assert_eq!(kind_of("s3-put.json"), Some(Kind::S3Relay));
    assert_eq!(kind_of("s3-test-event.json"), Some(Kind::S3Relay));
    assert_eq!(kind_of("worker-sqs.json"), Some(Kind::Worker));
    assert_eq!(kind_of("ingress-github.json"), Some(Kind::Ingress));
    assert_eq!(kind_of("redrive-dlq.json"), None);
    assert_eq!(kind_of("s3.json"), None);
    assert_eq!(kind_of("s3-put.yaml"), None);
}
