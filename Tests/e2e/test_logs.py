"""Structured logs: one logfmt line per request on stderr, and lines for storage events."""
import re
import shlex

from conftest import Server

SQS = "arn:aws:sqs:us-east-1:123456789012:q"


def lines(server):
    with open(server.stderr_path) as f:
        return [dict(parse(line)) for line in f if line.strip()]


def parse(line):
    """logfmt: key=value, values with spaces or quotes in double quotes."""
    for token in shlex.split(line.replace("\\n", "\n")):
        key, _, value = token.partition("=")
        yield key, value


def test_one_line_per_request_with_operation_status_duration_and_request_id(data_dir):
    server = Server(data_dir).start()
    try:
        lam = server.client()
        m = lam.create_event_source_mapping(FunctionName="f", EventSourceArn=SQS)
        got = lam.get_event_source_mapping(UUID=m["UUID"])
        try:
            lam.get_event_source_mapping(UUID="00000000-0000-4000-8000-000000000000")
        except lam.exceptions.ResourceNotFoundException:
            pass
    finally:
        server.stop()
    requests = [entry for entry in lines(server) if entry.get("msg") == "request"]
    assert [(r["esm.operation"], r["http.status"]) for r in requests] == [
        ("CreateEventSourceMapping", "202"), ("GetEventSourceMapping", "200"), ("GetEventSourceMapping", "404")]
    assert requests[0]["aws.request_id"] == m["ResponseMetadata"]["RequestId"]
    assert requests[1]["aws.request_id"] == got["ResponseMetadata"]["RequestId"]
    for r in requests:
        assert r["level"] == "info"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"])
        assert int(r["duration_us"]) >= 0


def test_an_unknown_route_is_logged_with_its_method_and_path(server):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("PATCH", "/2015-03-31/functions/f/nothing-here?x=1")
    response = conn.getresponse()
    response.read()
    conn.close()
    assert (response.status, response.getheader("x-amzn-ErrorType")) == (404, "UnknownOperationException")
    server.stop()
    requests = [entry for entry in lines(server) if entry.get("msg") == "request"]
    assert [(r["esm.operation"], r["http.status"], r["http.method"], r["http.path"]) for r in requests] == [
        ("UnknownOperation", "404", "PATCH", "/2015-03-31/functions/f/nothing-here")]


def test_storage_events_are_logged(data_dir):
    server = Server(data_dir, extra=["--snapshot-every-events", "2"]).start()
    try:
        lam = server.client()
        lam.create_event_source_mapping(FunctionName="f", EventSourceArn=SQS)
    finally:
        server.stop()
    messages = [entry.get("msg") for entry in lines(server)]
    assert "store opened" in messages
    assert "snapshot written" in messages
    assert "stopped" in messages
    opened = next(entry for entry in lines(server) if entry.get("msg") == "store opened")
    assert opened["wal.events"] == "0"
