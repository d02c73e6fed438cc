"""Bad input gets a clean AWS-style 4xx, never a 5xx or a dropped connection, and changes nothing."""
import http.client
import json

import pytest

from conftest import ACCOUNT, run_cli, wait_state

PATH = "/2015-03-31/event-source-mappings"
SQS = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"


def send(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), payload


def state(server):
    status, _, body = send(server, "GET", PATH + "?MaxItems=100")
    assert status == 200
    return json.loads(body)


CREATE_CASES = [
    ("malformed json", b'{"FunctionName": "f",', "InvalidRequestContentException"),
    ("not an object", b'["FunctionName"]', "InvalidRequestContentException"),
    ("wrong type", json.dumps({"FunctionName": "f", "EventSourceArn": SQS, "BatchSize": "ten"}).encode(), "InvalidRequestContentException"),
    ("wrong nested type", json.dumps({"FunctionName": "f", "EventSourceArn": SQS, "ScalingConfig": [1]}).encode(), "InvalidRequestContentException"),
    ("invalid utf-8", b'{"FunctionName": "\xc3\x28", "EventSourceArn": "' + SQS.encode() + b'"}', "InvalidRequestContentException"),
    ("deep nesting", b"[" * 100_000, "InvalidRequestContentException"),
    ("huge number", b'{"FunctionName": "f", "BatchSize": 1e400}', "InvalidRequestContentException"),
    ("out of range", json.dumps({"FunctionName": "f", "EventSourceArn": SQS, "BatchSize": 10001, "MaximumBatchingWindowInSeconds": 1}).encode(), "ValidationException"),
    ("unknown enum", json.dumps({"FunctionName": "f", "EventSourceArn": SQS, "FunctionResponseTypes": ["Nope"]}).encode(), "ValidationException"),
    ("too long", json.dumps({"FunctionName": "f" * 300, "EventSourceArn": SQS}).encode(), "ValidationException"),
    ("bad pattern", json.dumps({"FunctionName": "not a name!", "EventSourceArn": SQS}).encode(), "ValidationException"),
    ("bare name over 64", json.dumps({"FunctionName": "f" * 65, "EventSourceArn": SQS}).encode(), "InvalidParameterValueException"),
    ("no source", json.dumps({"FunctionName": "f"}).encode(), "InvalidParameterValueException"),
    ("missing function", json.dumps({"EventSourceArn": SQS}).encode(), "ValidationException"),
    ("empty body", b"", "ValidationException"),
]


@pytest.mark.parametrize("name,body,code", CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_bad_create_is_a_clean_4xx_and_changes_nothing(server, name, body, code):
    _, _, made = send(server, "POST", PATH, json.dumps({"FunctionName": "keep", "EventSourceArn": SQS}).encode())
    # Settled first: the system's Creating → Enabled must not land between the two reads.
    wait_state(server.client(), json.loads(made)["UUID"], {"Enabled"})
    before = state(server)
    status, headers, payload = send(server, "POST", PATH, body)
    assert 400 <= status < 500, (status, payload)
    assert headers["x-amzn-errortype"] == code
    assert headers["x-amzn-requestid"]
    message = json.loads(payload)
    assert message.get("message") or message.get("Message")
    assert state(server) == before


def test_body_over_the_limit_is_413_with_an_answer(server):
    before = state(server)
    big = json.dumps({"FunctionName": "f", "EventSourceArn": SQS, "Tags": {"k": "v" * (1 << 20)}}).encode()
    status, headers, _ = send(server, "POST", PATH, big)
    assert status == 413
    assert headers["x-amzn-errortype"] == "RequestTooLargeException"
    assert state(server) == before


def test_bad_update_leaves_the_mapping_as_it_was(server, lam):
    m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=SQS)
    wait_state(lam, m["UUID"], {"Enabled"})
    before = state(server)
    for body in [b"{", b'{"BatchSize": 0}', b'{"BatchSize": 11}', b'{"BatchSize": true}', b'{"Enabled": "yes"}',
                 b'{"FilterCriteria": {"Filters": [{"Pattern": "null"}]}}']:
        status, headers, payload = send(server, "PUT", f"{PATH}/{m['UUID']}", body)
        assert 400 <= status < 500, (body, status, payload)
        assert headers["x-amzn-errortype"]
    assert state(server) == before
    server.stop()
    replay = json.loads(run_cli("replay", "--data-dir", server.data_dir).stdout)
    assert [x["BatchSize"] for x in replay["EventSourceMappings"]] == [10]
    server.start()


@pytest.mark.parametrize("method,path,code", [
    ("GET", "/2015-03-31/functions", "UnknownOperationException"),
    ("PATCH", PATH, "UnknownOperationException"),
    ("POST", PATH + "/abc", "UnknownOperationException"),
    ("GET", PATH + "/a/b", "UnknownOperationException"),
    ("GET", PATH + "?MaxItems=abc", "ValidationException"),
    ("GET", PATH + "?MaxItems=0", "ValidationException"),
    ("GET", PATH + "?Marker=garbage", "InvalidParameterValueException"),
    ("GET", PATH + "/not-a-uuid", "ResourceNotFoundException"),
    ("DELETE", PATH + "/not-a-uuid", "ResourceNotFoundException"),
])
def test_bad_routes_and_queries(server, method, path, code):
    status, headers, _ = send(server, method, path)
    assert 400 <= status < 500
    assert headers["x-amzn-errortype"] == code


def test_a_slowly_sent_oversized_body_still_gets_its_413(server):
    import socket
    import time
    body = b'{"FunctionName": "f", "Tags": {"k": "' + b"v" * (2 << 20) + b'"}}'
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    s.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    for i in range(0, len(body), 64 * 1024):
        s.sendall(body[i:i + 64 * 1024])  # would fail with a reset if the server had given up
        time.sleep(0.002)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = s.recv(65536)
        assert chunk, "connection closed without an answer"
        answer += chunk
    s.close()
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"x-amzn-errortype: RequestTooLargeException" in answer.lower().replace(b"requesttoolargeexception", b"RequestTooLargeException")
