"""A bounded, seeded fuzz run over the HTTP API: no 5xx, no dropped connection, and a rejected
request never leaves a trace in the log."""
import http.client
import json
import os
import random
import sys

from conftest import ACCOUNT, ROOT, Server

sys.path.insert(0, os.path.join(ROOT, "tools"))
import logdump  # noqa: E402

PATH = "/2015-03-31/event-source-mappings"
REQUESTS = int(os.environ.get("ESMLOG_FUZZ_REQUESTS", "1500"))
VALID = [
    {"FunctionName": "fn", "EventSourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"},
    {"FunctionName": "fn", "EventSourceArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s", "StartingPosition": "LATEST",
     "DestinationConfig": {"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"}}},
    {"BatchSize": 5, "FilterCriteria": {"Filters": [{"Pattern": '{"a": [1]}'}]}, "ScalingConfig": {"MaximumConcurrency": 3}},
]
ODD = [None, True, False, 0, -1, 2**63, 1e308, -1e-308, "", "x" * 5000, [], {}, [None], {"": ""}, "\u0000", "é", "\ud7ff"]


def mutate(rng, value, depth=0):
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        out = dict(value)
        choice = rng.random()
        if choice < 0.3:
            del out[key]
        elif choice < 0.5:
            out[key + rng.choice(["", "x", "\u00e9"])] = rng.choice(ODD)
        else:
            out[key] = mutate(rng, out[key], depth + 1)
        return out
    if isinstance(value, list) and value and rng.random() < 0.6:
        out = list(value)
        out[rng.randrange(len(out))] = mutate(rng, out[0], depth + 1)
        return out
    return rng.choice(ODD + [value])


def body_for(rng):
    kind = rng.random()
    if kind < 0.5:
        return json.dumps(mutate(rng, rng.choice(VALID))).encode()
    if kind < 0.6:
        raw = bytearray(json.dumps(rng.choice(VALID)).encode())
        for _ in range(rng.randint(1, 5)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if kind < 0.7:
        depth = rng.choice([10, 63, 65, 1000, 50000])
        return ("[" * depth + "]" * depth).encode() if rng.random() < 0.5 else ('{"a":' * depth + "1" + "}" * depth).encode()
    if kind < 0.8:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if kind < 0.9:
        return json.dumps({"FunctionName": "fn", "EventSourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q",
                           "Tags": {f"k{i}": "v" * 200 for i in range(rng.choice([10, 2000]))}}).encode()
    return json.dumps(rng.choice(ODD)).encode()


def test_fuzzed_requests_get_clean_answers_and_rejections_leave_no_trace(data_dir):
    seed = int(os.environ.get("ESMLOG_FUZZ_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    server = Server(data_dir, transition_delay=0).start()
    accepted, rejected, statuses, methods = set(), set(), {}, {}
    uuids = []
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        for n in range(REQUESTS):
            method = rng.choice(["POST", "POST", "PUT", "PUT", "GET", "DELETE", "PATCH", "HEAD"])
            if method == "PUT" and uuids and rng.random() < 0.8:
                path = f"{PATH}/{rng.choice(uuids)}"
            else:
                path = rng.choice([PATH, PATH + "/", f"{PATH}/{rng.choice(uuids) if uuids else 'x'}", f"{PATH}/%00",
                                   f"{PATH}?MaxItems={rng.choice(['0', '-1', 'x', '99999999999999999999', '5'])}",
                                   f"{PATH}?Marker=%ff%fe", "/", "/2015-03-31/functions", PATH + "/a/b/c"])
            body = body_for(rng) if method in ("POST", "PUT") else None
            headers = {"Content-Type": rng.choice(["application/json", "text/plain", "application/x-amz-json-1.1"])}
            if rng.random() < 0.2:
                headers["Authorization"] = rng.choice(["AWS4-HMAC-SHA256 Credential=", "garbage", "AWS4-HMAC-SHA256 Credential=K/1/2/3/4"])
            if rng.random() < 0.05:
                headers["X-Junk"] = "j" * rng.choice([100, 4000])
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                payload = r.read()
            except (ConnectionError, http.client.HTTPException) as e:
                raise AssertionError(f"request {n} dropped the connection: {method} {path} {body[:80] if body else None} (seed {seed}): {e}")
            statuses[r.status] = statuses.get(r.status, 0) + 1
            assert r.status < 500, f"request {n}: {r.status} {payload[:200]} for {method} {path} {body[:200] if body else None} (seed {seed})"
            request_id = r.getheader("x-amzn-RequestId")
            assert request_id or method == "HEAD", f"request {n}: no request id (seed {seed})"
            if r.status >= 400 and method != "HEAD":
                assert r.getheader("x-amzn-ErrorType"), f"request {n}: a {r.status} without an error type (seed {seed})"
            if method in ("POST", "PUT", "DELETE") and request_id:
                (accepted if r.status == 202 else rejected).add(request_id)
                methods[request_id] = method
                if method == "POST" and r.status == 202:
                    uuids.append(json.loads(payload)["UUID"])
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    finally:
        server.stop()
    logged = {e["Actor"]["RequestId"] for _, e in logdump.read_log(data_dir) if "Actor" in e}
    assert not (rejected & logged), f"rejected requests left events (seed {seed})"
    # A delete of a mapping that is already Deleting is answered 202 and changes nothing.
    unlogged = {methods[r] for r in accepted - logged}
    assert unlogged <= {"DELETE"}, f"accepted {unlogged} requests missing from the log (seed {seed})"
    print(f"http fuzz: {REQUESTS} requests (seed {seed}), statuses {sorted(statuses.items())}, "
          f"{len(accepted)} accepted mutations all logged, {len(rejected)} rejected none logged")
