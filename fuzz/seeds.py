#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into fuzz/seeds/<target>/ (gitignored; `make fuzz-seeds`).

Sources: fuzz/regressions/<target>/ (inputs that once crashed a target), events/ (sample Lambda events), fixtures/aws/ (AWS's documented samples), the e2e fixtures (JSON and TOML raw strings in
tests/e2e/*.rs), tests/vectors/signer.py (the bodies the provider libraries sign), examples/ and
dev/ configs, the example envelopes of docs/wire-formats.md, and a few hand-written bodies that reach the filtered routes.
Request seeds use the byte format of fuzz/src/input.rs: 4 control bytes, header lines, a blank
line, the body. The route byte indexes `harness::routes()`: 3 variants x 13 schemes.
Standard library only; deterministic output.
"""

import hashlib
import json
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz" / "seeds"

SCHEMES = 13  # fuzz/src/signing.rs SCHEMES
VARIANTS = 3  # fuzz/src/harness.rs VARIANTS
TWILIO = 7  # index of twilio in SCHEMES


def raw_strings(path):
    """The contents of the Rust raw string literals (r"..", r#".."#) in a file."""
    text = path.read_text(encoding="utf-8")
    return [m.group(2) for m in re.finditer(r'r(#*)"(.*?)"\1', text, re.S)]


def json_documents():
    docs = []
    for path in sorted((ROOT / "events").glob("*.json")) + sorted((ROOT / "fixtures" / "aws").glob("*.json")):
        docs.append(path.read_bytes())
    for path in sorted((ROOT / "tests" / "e2e").glob("*.rs")) + sorted((ROOT / "tests" / "src").glob("*.rs")):
        for text in raw_strings(path):
            try:
                json.loads(text)
            except ValueError:
                continue
            docs.append(text.encode())
    signer = (ROOT / "tests" / "vectors" / "signer.py").read_text(encoding="utf-8")
    for m in re.finditer(r"'(\{.*?\})'", signer):
        try:
            json.loads(m.group(1))
        except ValueError:
            continue
        docs.append(m.group(1).encode())
    # The example envelopes: the JSON blocks of docs/wire-formats.md's envelope section.
    wire_md = (ROOT / "docs" / "wire-formats.md").read_text(encoding="utf-8")
    envelope_section = wire_md.split("\n## Queue envelope", 1)[1].split("\n## ", 1)[0]
    for m in re.finditer(r"```json\n(.*?)```", envelope_section, re.S):
        docs.append(m.group(1).encode())
    return docs


def request_bodies(docs):
    """Webhook bodies: the function URL events' bodies, e2e bodies, and bodies the filters pass."""
    bodies = []
    for doc in docs:
        try:
            value = json.loads(doc)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("body"), str) and "rawPath" in value:
            bodies.append(value["body"].encode())
        elif len(doc) < 2000:
            bodies.append(doc)
    bodies += [
        b'{"action":"opened","pull_request":{"number":7}}',
        b'{"action":"closed","pull_request":{"number":8}}',
        b'{"action":"merged"}',
        b'{"size":5,"type":"push","payload":{"repo":"o/r"}}',
        b'{"size":-1,"type":"ping","payload":null}',
        b'{"type":"url_verification","challenge":"abc"}',
        b'{"event":"endpoint.url_validation","payload":{"plainToken":"tok"}}',
        b"From=%2B15551234567&Body=hello+there&To=%2B1555",
        b"",
        b"not json",
        b'{"a":"\xff"}',
    ]
    return bodies


def request_seeds(bodies):
    seeds = []
    extra = [b"", b"x-fuzz-kind: a", b"?kind=a&x=1"]
    routes = SCHEMES * VARIANTS
    for route in range(routes):
        scheme = route % SCHEMES
        # Every route gets the hand-written bodies and a share of the fixtures.
        chosen = list(enumerate(bodies))
        chosen = chosen[route % 4 : -11 : 4] + chosen[-11:]
        for n, body in chosen:
            # Every route gets every body signed; a few unsigned and mutated variants each.
            form = 2 if scheme == TWILIO and body.startswith(b"From=") else 0
            kinds = [0] if n % 4 else [0, 1, 2, 3, 4, 5, 7]
            for kind in kinds:
                flags = 1 | form | (4 if n % 3 == 0 else 0)
                seeds.append(bytes([route, flags, kind, n % 251]) + extra[n % 3] + b"\n\n" + body)
        seeds.append(bytes([route, 0, 0, 0]) + b"\n\n" + bodies[0])
    return seeds


FILTER_PATTERNS = [
    {"body": {"action": ["opened"]}},
    {"body": {"ref": ["refs/heads/main"]}, "headers": {"x-github-event": ["push"]}},
    {"body": {"triggerEvent": ["BOOKING_CREATED", "BOOKING_RESCHEDULED"]}},
    {"body": {"type": [{"prefix": "invoice.payment_failed"}]}},
    {"body": {"detail": {"state": ["running"]}}},
    {"body": {"size": [{"numeric": [">", 0, "<=", 5]}]}},
    {"body": {"a": [{"exists": True}], "b": [{"exists": False}]}},
    {"body": {"name": [{"equals-ignore-case": "ALICE"}, {"suffix": ".png"}, {"wildcard": "*.jp*g"}]}},
    {"body": {"ip": [{"cidr": "10.0.0.0/24"}]}},
    {"body": {"state": [{"anything-but": {"prefix": "init"}}]}},
    {"$or": [{"body": {"a": [1]}}, {"body": {"b": [2]}}]},
    {"body": {"responseElements": [None]}},
    {"query": {"kind": ["a"]}, "method": ["POST"]},
    {"body": {"Records": {"eventName": [{"prefix": "ObjectCreated:"}]}}},
    {"body": {"v": [1], "payload": {"text": [{"exists": True}]}}},
]


def filter_seeds(docs):
    bodies = [d for d in docs if len(d) < 6000] + [
        b'{"action":"opened"}',
        b'{"a":"\xff"}',
        b'{"a":1,"a":2}',
        b'{"size":5.0}',
        b'{"name":"\xe1\xbf\x86"}',
    ]
    seeds = []
    for i, pattern in enumerate(FILTER_PATTERNS):
        for body in bodies[i % 3 :: 3]:
            seeds.append(json.dumps(pattern).encode() + b"\0" + body)
    return seeds


def config_seeds():
    seeds = [p.read_bytes() for p in sorted((ROOT / "examples").glob("*.toml")) + sorted((ROOT / "dev").glob("*.toml"))]
    for path in sorted((ROOT / "tests" / "e2e").glob("*.rs")) + sorted((ROOT / "shared" / "src" / "config").glob("*.rs")):
        for text in raw_strings(path):
            if "[[route]]" in text or "[s3]" in text or "[downstream]" in text or "[targets." in text:
                seeds.append(text.encode())
    return seeds


SCHEME_NAMES = ["github", "stripe", "slack", "standard-webhooks", "shopify", "meta", "zoom", "twilio", "cal",
                "hmac", "token", "basic", "none"]  # fuzz/src/signing.rs Scheme::name, in SCHEMES order


def event_seeds(docs):
    """Function URL events (payload format 2.0): the sample and e2e ones, each also aimed at every
    route of the fuzzed ingress, and the shapes lambda_http panicked on (docs/behaviour.md)."""
    events = []
    for doc in docs:
        try:
            event = json.loads(doc)
        except ValueError:
            continue
        if isinstance(event, dict) and "requestContext" in event and "rawPath" in event:
            events.append(event)
    seeds = [json.dumps(e).encode() for e in events]
    base = events[0] if events else {"version": "2.0", "rawPath": "/", "rawQueryString": "", "headers": {},
                                     "requestContext": {"http": {"method": "POST", "path": "/"}, "timeEpoch": 0},
                                     "body": "{}", "isBase64Encoded": False}
    for variant in ["plain", "mapped", "pointer"]:
        for scheme in SCHEME_NAMES:
            event = json.loads(json.dumps(base))
            event["rawPath"] = f"/{variant}/{scheme}"
            event["requestContext"]["http"]["path"] = event["rawPath"]
            seeds.append(json.dumps(event).encode())
    for odd in [{"rawQueryString": 'a="b" <c>'}, {"headers": {"host": "[::1"}}, {"rawPath": ":99999/x"},
                {"isBase64Encoded": True, "body": "not base64!"}, {"cookies": ["a=1", "b=2"]}]:
        event = json.loads(json.dumps(base))
        event["rawPath"] = "/plain/none"
        event.update(odd)
        seeds.append(json.dumps(event).encode())
    return seeds


def write(target, seeds):
    # Inputs that once crashed a target (fuzz/regressions/<target>/, committed) are replayed too.
    seeds = seeds + [p.read_bytes() for p in sorted((ROOT / "fuzz" / "regressions" / target).glob("*"))]
    folder = OUT / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    unique = {hashlib.sha1(s).hexdigest(): s for s in seeds}
    for name, seed in sorted(unique.items()):
        (folder / name).write_bytes(seed)
    print(f"{target}: {len(unique)} seeds")


def main():
    docs = json_documents()
    requests = request_seeds(request_bodies(docs))
    write("ingress_accept", requests)
    write("ingress_event", event_seeds(docs))
    write("verify_schemes", requests)
    write("filter_match", filter_seeds(docs))
    s3 = [d for d in docs if b"s3" in d or b"S3" in d]
    write("s3_events", s3)
    envelopes = [
        b'{"v":1,"id":"j-1","source":"s3","route":"","received_at":"2026-11-23T15:00:00.123Z","delivery_id":null,'
        b'"content_type":null,"target":{"algorithm":"demo/Hello/0.1.0"},"payload":{"text":"\\"k\\""},'
        b'"s3":{"bucket":"b","key":"k","size":1,"etag":null,"sequencer":null,"event_time":null,"event_name":null}}',
        b'{"v":1,"id":"j-2","source":"callback","route":"/hooks/callback","received_at":"2026-11-23T15:00:00.123Z",'
        b'"delivery_id":"d","content_type":"application/json","target":{"name":"callback"},"payload":{"base64":"AAEC"}}',
        b'{"v":2,"id":"x"}',
    ]
    write("worker_records", [d for d in docs if b'"v"' in d or b"Records" in d] + envelopes)
    write("config_toml", config_seeds())


if __name__ == "__main__":
    main()
