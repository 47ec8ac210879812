use super::fields::opt_u64;
use super::*;
use serde_json::json;

/// A sample event of `fixtures/aws/` (fixtures/aws/README.md says where each comes from).
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/aws/", $name))
    };
}

/// S3 User Guide, "Event message structure", "Example message when an object is created using a
/// PUT request" (verbatim).
const DOCS_PUT_EVENT: &str = fixture!("s3-put.json");

/// S3 User Guide, "Event message structure", "Amazon S3 test message" (verbatim).
const DOCS_TEST_EVENT: &str = fixture!("s3-test-event.json");

/// S3 User Guide, "EventBridge event message structure", "Object created" (verbatim).
const DOCS_EVENTBRIDGE_CREATED: &str = fixture!("s3-eventbridge-object-created.json");

/// S3 User Guide, "EventBridge event message structure", "Object deleted (using DeleteObject)"
/// (verbatim).
const DOCS_EVENTBRIDGE_DELETED: &str = fixture!("s3-eventbridge-object-deleted.json");

/// Lambda Developer Guide, "Using AWS Lambda with Amazon SQS", "Example Amazon SQS Message Event"
/// record (verbatim but for the message id and the body, substituted per test).
fn docs_sqs_record(message_id: &str, body: &str) -> Value {
    let mut record: Value = serde_json::from_str(fixture!("sqs-record.json")).unwrap();
    record["messageId"] = json!(message_id);
    record["body"] = json!(body);
    record
}

/// What moto sends: no eventSource/userIdentity/requestParameters/responseElements, no eTag,
/// sequencer or versionId.
fn moto_minimal(bucket: &str, key: &str) -> Value {
    json!({
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-23T15:00:00.123Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 12}}
    })
}

fn parse(text: &str) -> S3Invocation {
    parse_invocation(&serde_json::from_str(text).unwrap()).unwrap()
}

fn direct(inv: S3Invocation) -> Vec<Result<S3Object, S3EventError>> {
    match inv {
        S3Invocation::Direct(records) => records,
        other => panic!("expected Direct, got {other:?}"),
    }
}

fn via_sqs(inv: S3Invocation) -> Vec<SqsDelivery> {
    match inv {
        S3Invocation::ViaSqs(deliveries) => deliveries,
        other => panic!("expected ViaSqs, got {other:?}"),
    }
}

fn eventbridge(inv: S3Invocation) -> Result<Option<S3Object>, S3EventError> {
    match inv {
        S3Invocation::EventBridge(result) => result,
        other => panic!("expected EventBridge, got {other:?}"),
    }
}

fn docs_put_object() -> S3Object {
    S3Object {
        bucket: "mybucket".into(),
        key: "HappyFace.jpg".into(),
        size: Some(1024),
        etag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
        sequencer: Some("0055AED6DCD90281E5".into()),
        version_id: Some("096fKKXTRTtl3on89fVO.nfljtsv6qko".into()),
        event_time: Some("1970-01-01T00:00:00.000Z".into()),
        event_name: Some("ObjectCreated:Put".into()),
        region: Some("us-west-2".into()),
    }
}

#[test]
fn docs_direct_put_event() {
    assert_eq!(direct(parse(DOCS_PUT_EVENT)), vec![Ok(docs_put_object())]);
}

#[test]
fn docs_test_event_yields_nothing_directly_and_via_sqs() {
    assert!(direct(parse(DOCS_TEST_EVENT)).is_empty());
    let batch = json!({"Records": [docs_sqs_record("m-1", DOCS_TEST_EVENT)]});
    let deliveries = via_sqs(parse_invocation(&batch).unwrap());
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].message_id, "m-1");
    assert_eq!(deliveries[0].objects, Ok(vec![]));
}

#[test]
fn docs_eventbridge_object_created() {
    let object = eventbridge(parse(DOCS_EVENTBRIDGE_CREATED)).unwrap().unwrap();
    assert_eq!(
        object,
        S3Object {
            bucket: "amzn-s3-demo-bucket1".into(),
            key: "example-key".into(),
            size: Some(5),
            etag: Some("b1946ac92492d2347c6235b4d2611184".into()),
            sequencer: Some("617f08299329d189".into()),
            version_id: Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e".into()),
            event_time: Some("2021-11-12T00:00:00Z".into()),
            event_name: Some("Object Created".into()),
            region: Some("ca-central-1".into()),
        }
    );
}

#[test]
fn docs_eventbridge_object_deleted_is_skipped() {
    assert_eq!(eventbridge(parse(DOCS_EVENTBRIDGE_DELETED)), Ok(None));
}

#[test]
fn eventbridge_key_is_decoded() {
    let mut event: Value = serde_json::from_str(DOCS_EVENTBRIDGE_CREATED).unwrap();
    event["detail"]["object"]["key"] = json!("in/my+photo%281%29.jpg");
    let object = eventbridge(parse_invocation(&event).unwrap()).unwrap().unwrap();
    assert_eq!(object.key, "in/my photo(1).jpg");
}

#[test]
fn moto_style_eventbridge_event() {
    // moto: `eTag` instead of `etag`, numeric Unix `time`, raw key, `reason` "ObjectCreated".
    let event = json!({
        "version": "0", "id": "x", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": 1_700_000_000.5, "region": "us-east-1",
        "resources": ["arn:aws:s3:::b"],
        "detail": {"version": "0", "bucket": {"name": "b"},
                   "object": {"key": "my photo(1).jpg", "size": 3, "eTag": "abc",
                              "version-id": null, "sequencer": "617f08299329d189"},
                   "reason": "ObjectCreated"}
    });
    let object = eventbridge(parse_invocation(&event).unwrap()).unwrap().unwrap();
    assert_eq!(object.key, "my photo(1).jpg");
    assert_eq!(object.etag.as_deref(), Some("abc"));
    assert_eq!(object.version_id, None);
    assert_eq!(object.event_time.as_deref(), Some("2023-11-14T22:13:20.500Z"));
}

#[test]
fn eventbridge_missing_key_is_an_error() {
    let mut event: Value = serde_json::from_str(DOCS_EVENTBRIDGE_CREATED).unwrap();
    event["detail"]["object"].as_object_mut().unwrap().remove("key");
    assert_eq!(
        eventbridge(parse_invocation(&event).unwrap()),
        Err(S3EventError::MissingField("detail.object.key"))
    );
}

#[test]
fn moto_minimal_record_parses() {
    let event = json!({"Records": [moto_minimal("bkt", "uploads%2Fmy+photo%281%29.jpg")]});
    let records = direct(parse_invocation(&event).unwrap());
    assert_eq!(
        records,
        vec![Ok(S3Object {
            bucket: "bkt".into(),
            key: "uploads/my photo(1).jpg".into(),
            size: Some(12),
            etag: None,
            sequencer: None,
            version_id: None,
            event_time: Some("2026-11-23T15:00:00.123Z".into()),
            event_name: Some("ObjectCreated:Put".into()),
            region: None,
        })]
    );
}

#[test]
fn every_record_is_parsed_and_non_created_ones_are_skipped() {
    let mut removed = moto_minimal("bkt", "gone.txt");
    removed["eventName"] = json!("ObjectRemoved:Delete");
    let mut no_name = moto_minimal("bkt", "c.txt");
    no_name.as_object_mut().unwrap().remove("eventName");
    let mut minio_style = moto_minimal("bkt", "d.txt");
    minio_style["eventName"] = json!("s3:ObjectCreated:CompleteMultipartUpload");
    let event = json!({"Records": [
        moto_minimal("bkt", "a.txt"), removed, moto_minimal("bkt", "b.txt"), no_name, minio_style
    ]});
    let keys: Vec<String> = direct(parse_invocation(&event).unwrap())
        .into_iter()
        .map(|r| r.unwrap().key)
        .collect();
    assert_eq!(keys, ["a.txt", "b.txt", "c.txt", "d.txt"]);
}

#[test]
fn record_missing_bucket_or_key_is_an_error_for_that_record_only() {
    let mut no_key = moto_minimal("bkt", "x");
    no_key["s3"]["object"].as_object_mut().unwrap().remove("key");
    let mut no_bucket = moto_minimal("", "y");
    no_bucket["s3"]["bucket"]["name"] = json!("");
    let mut numeric_key = moto_minimal("bkt", "z");
    numeric_key["s3"]["object"]["key"] = json!(7);
    let event = json!({"Records": [
        no_key, moto_minimal("bkt", "ok.txt"), no_bucket, numeric_key, "junk"
    ]});
    let records = direct(parse_invocation(&event).unwrap());
    assert_eq!(records.len(), 5);
    assert_eq!(records[0], Err(S3EventError::MissingField("s3.object.key")));
    assert_eq!(records[1].as_ref().unwrap().key, "ok.txt");
    assert_eq!(records[2], Err(S3EventError::MissingField("s3.bucket.name")));
    assert_eq!(records[3], Err(S3EventError::WrongType("s3.object.key")));
    assert_eq!(records[4], Err(S3EventError::WrongType("Records[]")));
}

#[test]
fn odd_optional_fields_do_not_drop_the_record() {
    let mut record = moto_minimal("bkt", "k");
    record["s3"]["object"]["size"] = json!("not a number");
    record["s3"]["object"]["eTag"] = json!("\"abc\"");
    record["s3"]["object"]["sequencer"] = json!(42);
    record["s3"]["object"]["versionId"] = json!(null);
    record["eventTime"] = json!({"weird": true});
    record["unknownField"] = json!([1, 2, 3]);
    let object = direct(parse_invocation(&json!({"Records": [record]})).unwrap())
        .pop()
        .unwrap()
        .unwrap();
    assert_eq!(object.size, None);
    assert_eq!(object.etag.as_deref(), Some("abc"));
    assert_eq!(object.sequencer, None);
    assert_eq!(object.event_time, None);
}

#[test]
fn size_accepts_integral_float_and_string() {
    assert_eq!(opt_u64(Some(&json!(1024.0))), Some(1024));
    assert_eq!(opt_u64(Some(&json!("2048"))), Some(2048));
    assert_eq!(opt_u64(Some(&json!(1.5))), None);
    assert_eq!(opt_u64(Some(&json!(-1))), None);
}

#[test]
fn sqs_with_malformed_body_among_good_ones() {
    let two_records = json!({"Records": [moto_minimal("bkt", "a.txt"), moto_minimal("bkt", "b+c.txt")]});
    let mut missing_key = moto_minimal("bkt", "x");
    missing_key["s3"]["object"].as_object_mut().unwrap().remove("key");
    let batch = json!({"Records": [
        docs_sqs_record("m-1", DOCS_PUT_EVENT),
        // The Lambda docs' own sample body: not JSON.
        docs_sqs_record("m-2", "test"),
        docs_sqs_record("m-3", &two_records.to_string()),
        docs_sqs_record("m-4", &json!({"Records": [moto_minimal("bkt", "ok"), missing_key]}).to_string()),
        docs_sqs_record("m-5", r#"{"hello": "world"}"#),
        docs_sqs_record("m-6", DOCS_EVENTBRIDGE_CREATED),
    ]});
    let deliveries = via_sqs(parse_invocation(&batch).unwrap());
    let ids: Vec<&str> = deliveries.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(ids, ["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]);
    assert_eq!(deliveries[0].objects, Ok(vec![docs_put_object()]));
    assert!(matches!(deliveries[1].objects, Err(S3EventError::BodyNotJson(_))));
    let keys: Vec<&str> = deliveries[2]
        .objects
        .as_ref()
        .unwrap()
        .iter()
        .map(|o| o.key.as_str())
        .collect();
    assert_eq!(keys, ["a.txt", "b c.txt"]);
    assert_eq!(deliveries[3].objects, Err(S3EventError::MissingField("s3.object.key")));
    assert!(matches!(deliveries[4].objects, Err(S3EventError::UnknownBody(_))));
    assert_eq!(deliveries[5].objects.as_ref().unwrap()[0].key, "example-key");
}

#[test]
fn sqs_record_without_message_id_or_body() {
    let mut no_id = docs_sqs_record("", DOCS_PUT_EVENT);
    no_id.as_object_mut().unwrap().remove("messageId");
    let mut no_body = docs_sqs_record("m-2", "");
    no_body.as_object_mut().unwrap().remove("body");
    let deliveries = via_sqs(parse_invocation(&json!({"Records": [no_id, no_body]})).unwrap());
    assert_eq!(deliveries[0].message_id, "");
    assert_eq!(deliveries[0].objects, Err(S3EventError::MissingField("messageId")));
    assert_eq!(deliveries[1].objects, Err(S3EventError::MissingField("body")));
}

#[test]
fn sns_wrapped_body() {
    let sns = json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Subject": "Amazon S3 Notification",
        "Message": DOCS_PUT_EVENT,
        "Timestamp": "2012-05-02T00:54:06.655Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"
    });
    let sns_test = json!({"Type": "Notification", "TopicArn": "arn:x", "Message": DOCS_TEST_EVENT});
    let sns_garbage = json!({"Type": "Notification", "TopicArn": "arn:x", "Message": "nope"});
    let batch = json!({"Records": [
        docs_sqs_record("m-1", &sns.to_string()),
        docs_sqs_record("m-2", &sns_test.to_string()),
        docs_sqs_record("m-3", &sns_garbage.to_string()),
    ]});
    let deliveries = via_sqs(parse_invocation(&batch).unwrap());
    assert_eq!(deliveries[0].objects, Ok(vec![docs_put_object()]));
    assert_eq!(deliveries[1].objects, Ok(vec![]));
    assert!(matches!(deliveries[2].objects, Err(S3EventError::BodyNotJson(_))));
}

#[test]
fn unknown_shapes_are_errors_naming_the_expected_shapes() {
    for event in [
        json!([1, 2]),
        json!({"hello": "world"}),
        json!({"Records": "nope"}),
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}),
        json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}),
    ] {
        let err = parse_invocation(&event).unwrap_err();
        assert!(matches!(err, S3EventError::UnknownShape(_)), "{event}: {err:?}");
        assert!(err.to_string().contains("expected an S3 notification"), "{err}");
    }
    assert!(direct(parse_invocation(&json!({"Records": []})).unwrap()).is_empty());
}

#[test]
fn key_decoding() {
    let ok = |raw: &str| decode_key(raw).unwrap();
    assert_eq!(ok("my+photo%281%29.jpg"), "my photo(1).jpg");
    assert_eq!(ok("a%2Bb"), "a+b");
    assert_eq!(ok("a+%2B+b"), "a + b");
    assert_eq!(ok("dir%2Fsub%2Ffile.txt"), "dir/sub/file.txt");
    assert_eq!(ok("dir/sub/file.txt"), "dir/sub/file.txt");
    assert_eq!(ok("caf%C3%A9.txt"), "café.txt");
    assert_eq!(ok("%E2%82%AC%F0%9F%93%B7"), "€📷");
    assert_eq!(ok("x%3Dy%26z%3A1"), "x=y&z:1");
    assert_eq!(ok("plain"), "plain");
    // Invalid escapes are kept literally.
    assert_eq!(ok("100%ZZ"), "100%ZZ");
    assert_eq!(ok("trailing%"), "trailing%");
    assert_eq!(ok("trailing%4"), "trailing%4");
    assert_eq!(ok("%%41"), "%A");
    // Escapes that are not UTF-8 are an error, never a panic or a lossy guess.
    assert_eq!(decode_key("bad%FF"), Err(S3EventError::KeyNotUtf8("bad%FF".into())));
    assert!(decode_key("truncated%C3").is_err());
    assert!(decode_key("%C3%28").is_err());
}

#[test]
fn non_utf8_key_is_an_error_for_that_record() {
    let event = json!({"Records": [moto_minimal("bkt", "bad%FF"), moto_minimal("bkt", "ok")]});
    let records = direct(parse_invocation(&event).unwrap());
    assert!(matches!(records[0], Err(S3EventError::KeyNotUtf8(_))));
    assert!(records[1].is_ok());
}

#[test]
fn job_id_is_stable_and_uuid_shaped() {
    let object = docs_put_object();
    let id = object.job_id();
    assert_eq!(id, object.clone().job_id());
    // The same event parsed again (a redelivery) keeps the id.
    let again = direct(parse(DOCS_PUT_EVENT)).pop().unwrap().unwrap();
    assert_eq!(again.job_id(), id);
    // Fields outside the identity do not matter.
    let mut other_meta = object.clone();
    other_meta.region = None;
    other_meta.size = Some(1);
    assert_eq!(other_meta.job_id(), id);

    let bytes: Vec<&str> = id.split('-').collect();
    assert_eq!(bytes.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    assert!(id
        .chars()
        .all(|c| c == '-' || (c.is_ascii_hexdigit() && !c.is_ascii_uppercase())));
    assert_eq!(&id[14..15], "8", "version 8");
    assert!("89ab".contains(&id[19..20]), "RFC 9562 variant");
}

#[test]
fn job_id_differs_when_identity_differs() {
    let base = docs_put_object();
    let variants = [
        S3Object {
            bucket: "otherbucket".into(),
            ..base.clone()
        },
        S3Object {
            key: "HappyFace.jpeg".into(),
            ..base.clone()
        },
        S3Object {
            version_id: None,
            ..base.clone()
        },
        S3Object {
            sequencer: Some("0055AED6DCD90281E6".into()),
            ..base.clone()
        },
        // Field boundaries are unambiguous.
        S3Object {
            bucket: "mybucketH".into(),
            key: "appyFace.jpg".into(),
            ..base.clone()
        },
    ];
    let mut ids: Vec<String> = variants.iter().map(S3Object::job_id).collect();
    ids.push(base.job_id());
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");

    // Without a sequencer the ETag, then the event time, tells two uploads apart.
    let moto = |time: &str, etag: Option<&str>| S3Object {
        etag: etag.map(str::to_owned),
        sequencer: None,
        version_id: None,
        event_time: Some(time.to_owned()),
        ..base.clone()
    };
    assert_ne!(moto("t1", None).job_id(), moto("t2", None).job_id());
    assert_ne!(moto("t1", Some("e1")).job_id(), moto("t1", Some("e2")).job_id());
    assert_eq!(moto("t1", Some("e1")).job_id(), moto("t2", Some("e1")).job_id());
}
