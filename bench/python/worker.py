"""Python baseline for `make bench` (BENCHMARKS.md, "First invocation"): hookrelay's worker as a
Python Lambda.

Same work as the Rust worker for an SQS batch of queued jobs: read each envelope, POST its payload
to the Algorithmia-compatible API with `Authorization: Simple <key>`, report failed records as
`batchItemFailures`. The HTTPS pool and a boto3 SQS client (for the dead-letter queue) are built at
import, as hookrelay builds its clients at init. Trust comes from `SSL_CERT_FILE`, like hookrelay.
"""

import base64
import json
import os
import ssl

import boto3
import urllib3

BASE_URL = os.environ["ALGO_URL"].rstrip("/")
AUTHORIZATION = "Simple " + os.environ["ALGO_API_KEY"]
http = urllib3.PoolManager(ssl_context=ssl.create_default_context(), timeout=urllib3.Timeout(total=30))
sqs = boto3.client("sqs")


def payload(envelope):
    data = envelope.get("payload") or {}
    if "json" in data:
        return json.dumps(data["json"]).encode(), "application/json"
    if "base64" in data:
        return base64.b64decode(data["base64"]), "application/octet-stream"
    return (data.get("text") or "").encode(), envelope.get("content_type") or "text/plain"


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            envelope = json.loads(record["body"])
            body, content_type = payload(envelope)
            url = "%s/v1/algo/%s" % (BASE_URL, envelope["target"]["algorithm"])
            response = http.request(
                "POST",
                url,
                body=body,
                headers={"Authorization": AUTHORIZATION, "Content-Type": content_type},
            )
            if response.status >= 300 or "error" in json.loads(response.data or b"{}"):
                failures.append({"itemIdentifier": record["messageId"]})
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
