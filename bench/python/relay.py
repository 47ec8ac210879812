"""Python baseline for `make bench` (BENCHMARKS.md): the seed's relay as a Python Lambda.

Equivalent work to hookrelay's ingress for one GitHub route: the secret from the environment and a
boto3 SQS client built at import (cold start), then per request an HMAC-SHA256 check of the raw
body, a JSON job envelope and SendMessage. Run under awslambdaric (`python -m awslambdaric
relay.handler`), which polls the same loopback Runtime API as the Rust functions.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import uuid

import boto3

SECRET = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
QUEUE_URL = os.environ["HOOKRELAY_QUEUE_URL"]
ALGORITHM = os.environ.get("RELAY_ALGORITHM", "demo/Hello/0.1.0")
sqs = boto3.client("sqs")


def handler(event, context):
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = event.get("headers") or {}
    expected = "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("x-hub-signature-256", ""), expected):
        return {"statusCode": 401, "body": json.dumps({"error": "invalid signature"})}
    job = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "source": "webhook",
        "route": event.get("rawPath", "/"),
        "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "delivery_id": headers.get("x-github-delivery"),
        "content_type": headers.get("content-type"),
        "target": {"algorithm": ALGORITHM},
        "payload": {"text": raw.decode("utf-8", "replace")},
        "s3": None,
    }
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps(job))
    return {"statusCode": 200, "body": json.dumps({"id": job["id"], "status": "queued"})}
