#!/usr/bin/env python3
"""Writes the sample events in this folder. Run it after changing one: `python3 events/generate.py`.

The shapes follow AWS's documented examples (function URL payload 2.0, S3 event notification 2.1,
S3 -> SQS, S3 -> EventBridge `Object Created`, `s3:TestEvent`); the GitHub signature is computed here,
so the body and its `x-hub-signature-256` always agree. Standard library only.
"""

import hashlib
import hmac
import json
import pathlib
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent

WEBHOOK_SECRET = b"dev-secret"
REGION = "us-east-1"
ACCOUNT = "123456789012"
URL_ID = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"
TIME = "2026-11-23T15:00:00.123Z"
TIME_EPOCH_MS = 1795446000123  # TIME in milliseconds
DELIVERY_ID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

BUCKET = "hookrelay-uploadsbucket-1x2y3z4w5v6u"
OBJECT_NAME = "my photo(1).jpg"  # what the uploader named it
OBJECT_KEY_IN_NOTIFICATION = urllib.parse.quote_plus(OBJECT_NAME)  # my+photo%281%29.jpg
OBJECT_SIZE = 1024
OBJECT_ETAG = "0123456789abcdef0123456789abcdef"
OBJECT_SEQUENCER = "0A1B2C3D4E5F678901"


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def write(name, obj):
    (HERE / name).write_text(json.dumps(obj, indent=2) + "\n")


# ---- ingress: a GitHub `ping` delivery through the function URL ------------------------------
github_body = compact(
    {
        "zen": "Design for failure.",
        "hook_id": 123456789,
        "hook": {
            "type": "Repository",
            "id": 123456789,
            "name": "web",
            "active": True,
            "events": ["push"],
            "config": {
                "content_type": "json",
                "insecure_ssl": "0",
                "url": f"https://{URL_ID}.lambda-url.{REGION}.on.aws/hooks/github",
            },
        },
        "repository": {"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World", "private": False},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }
)
body_bytes = github_body.encode()
sig256 = "sha256=" + hmac.new(WEBHOOK_SECRET, body_bytes, hashlib.sha256).hexdigest()
sig1 = "sha1=" + hmac.new(WEBHOOK_SECRET, body_bytes, hashlib.sha1).hexdigest()
domain = f"{URL_ID}.lambda-url.{REGION}.on.aws"
source_ip = "140.82.115.1"
user_agent = "GitHub-Hookshot/2b2f1f5"

write(
    "ingress-github.json",
    {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/hooks/github",
        "rawQueryString": "",
        "headers": {
            "accept": "*/*",
            "content-length": str(len(body_bytes)),
            "content-type": "application/json",
            "host": domain,
            "user-agent": user_agent,
            "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
            "x-amzn-tls-version": "TLSv1.3",
            "x-amzn-trace-id": "Root=1-6923214f-0123456789abcdef01234567",
            "x-forwarded-for": source_ip,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "x-github-delivery": DELIVERY_ID,
            "x-github-event": "ping",
            "x-github-hook-id": "123456789",
            "x-github-hook-installation-target-id": "1296269",
            "x-github-hook-installation-target-type": "repository",
            "x-hub-signature": sig1,
            "x-hub-signature-256": sig256,
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": domain,
            "domainPrefix": URL_ID,
            "http": {
                "method": "POST",
                "path": "/hooks/github",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": "5b8a6bd0-6f43-4a4b-9a8f-3e1c2d9f0a11",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:15:00:00 +0000",
            "timeEpoch": TIME_EPOCH_MS,
        },
        "body": github_body,
        "isBase64Encoded": False,
    },
)


# ---- s3-relay: the same object announced four ways --------------------------------------------
def s3_record():
    """One record of an S3 event notification (eventVersion 2.1); the key is URL-encoded."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": TIME,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "hookrelay-object-created",
            "bucket": {
                "name": BUCKET,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{BUCKET}",
            },
            "object": {
                "key": OBJECT_KEY_IN_NOTIFICATION,
                "size": OBJECT_SIZE,
                "eTag": OBJECT_ETAG,
                "sequencer": OBJECT_SEQUENCER,
            },
        },
    }


def sqs_event(body, message_id, queue="hookrelay-s3-notifications", sender="AIDAJHIPRHEMV73VRJEBU"):
    """An SQS event with one record whose body is `body` (a string)."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a/dk6aH1BExampleReceiptHandle==",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(TIME_EPOCH_MS + 40),
                    "SenderId": sender,
                    "ApproximateFirstReceiveTimestamp": str(TIME_EPOCH_MS + 52),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
                "awsRegion": REGION,
            }
        ]
    }


# S3 -> Lambda directly (the template's bucket).
write("s3-put.json", {"Records": [s3_record()]})

# S3 -> SQS -> Lambda (an existing bucket notifying a queue): the body is the notification JSON.
write("s3-via-sqs.json", sqs_event(compact({"Records": [s3_record()]}), "2e1424d4-f796-459a-8184-9c92662be6da"))

# S3 -> EventBridge -> Lambda. The key is URL-encoded as in notifications (the AWS docs do not say;
# AWS's own consumers, e.g. Powertools' S3EventBridgeNotificationObject, decode it; see
# shared/src/inbound/s3_event/eventbridge.rs). moto sends it raw; decoding "my photo(1).jpg" leaves it unchanged.
write(
    "s3-eventbridge.json",
    {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-23T15:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {
                "key": OBJECT_KEY_IN_NOTIFICATION,
                "size": OBJECT_SIZE,
                "etag": OBJECT_ETAG,
                "sequencer": OBJECT_SEQUENCER,
            },
            "request-id": "C3D13FE58DE4C810",
            "requester": ACCOUNT,
            "source-ip-address": "203.0.113.10",
            "reason": "PutObject",
        },
    },
)

# The message S3 sends a queue when a notification to it is configured. It only ever arrives
# through SQS (or SNS), so it is an SQS event here; s3-relay must accept and skip it.
write(
    "s3-test-event.json",
    sqs_event(
        compact(
            {
                "Service": "Amazon S3",
                "Event": "s3:TestEvent",
                "Time": "2026-11-23T14:59:00.000Z",
                "Bucket": BUCKET,
                "RequestId": "5582815E1AEA5ADF",
                "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
            }
        ),
        "c0ffee00-1d7e-4a53-9a51-0d6f5f1b2a77",
    ),
)

# ---- worker: the job the ingress enqueued for the GitHub delivery above ---------------------
envelope = {
    "v": 1,
    "id": "5f0c3c8e-1d7e-4a53-9a51-0d6f5f1b2a77",
    "source": "webhook",
    "route": "/hooks/github",
    "received_at": TIME,
    "delivery_id": DELIVERY_ID,
    "content_type": "application/json",
    "target": {"algorithm": "demo/Hello/0.1.0"},
    "payload": {"text": github_body},
    "s3": None,
}
write(
    "worker-sqs.json",
    sqs_event(compact(envelope), "059f36b4-87a3-44ab-83d2-661975830a7d", queue="hookrelay-JobsQueue-AbCdEf123456",
              sender="AROAEXAMPLEINGRESSROLE:hookrelay-IngressFunction-AbCdEf123456"),
)

print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.json"))))
print("x-hub-signature-256:", sig256)
