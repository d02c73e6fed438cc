"""Network limits: in-flight requests (429), request and idle timeouts, header sizes."""
import json
import socket
import time

import pytest

from conftest import Server

PATH = "/2015-03-31/event-source-mappings/"
BODY = json.dumps({"FunctionName": "f", "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q"}).encode()


@pytest.fixture
def limited(data_dir):
    s = Server(data_dir, extra=["--in-flight-max", "2", "--request-timeout", "1", "--idle-timeout", "2"]).start()
    yield s
    s.stop()


def connect(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def head(method, path, length, extra=""):
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


def read_response(sock):
    """Reads one HTTP/1.1 response with a Content-Length; returns (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, json.loads(rest) if rest else None


def test_requests_over_the_in_flight_limit_get_429_and_the_others_finish(limited):
    # Two creates whose bodies are still arriving hold both in-flight places.
    slow = [connect(limited) for _ in range(2)]
    bodies = [BODY.replace(b'"f"', f'"f{i}"'.encode()) for i in range(2)]
    for s, body in zip(slow, bodies):
        s.sendall(head("POST", PATH, len(body)) + body[:5])
    time.sleep(0.3)
    third = connect(limited)
    third.sendall(head("GET", PATH, 0))
    status, headers, body = read_response(third)
    assert status == 429
    assert headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert headers["retry-after"] == "1"
    assert body == {"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}
    for s, body in zip(slow, bodies):
        s.sendall(body[5:])
        assert read_response(s)[0] == 202
    # The places are free again.
    third.sendall(head("GET", PATH, 0))
    status, _, body = read_response(third)
    assert status == 200 and len(body["EventSourceMappings"]) == 2
    for s in [*slow, third]:
        s.close()


def test_a_body_that_trickles_past_the_request_timeout_gets_408(limited):
    sock = connect(limited)
    sock.sendall(head("POST", PATH, len(BODY)))
    started = time.time()
    sent = 0
    while sent < len(BODY) - 1 and time.time() - started < 5:
        sock.sendall(BODY[sent:sent + 1])
        sent += 1
        time.sleep(0.25)
        sock.setblocking(False)
        try:
            if sock.recv(1, socket.MSG_PEEK):
                break
        except BlockingIOError:
            pass
        finally:
            sock.setblocking(True)
    status, headers, body = read_response(sock)
    assert status == 408, body
    assert headers["x-amzn-errortype"] == "RequestTimeoutException"
    assert 1 <= time.time() - started < 4
    sock.close()


def test_a_silent_connection_is_closed_after_the_idle_timeout(limited):
    sock = connect(limited)
    started = time.time()
    sock.settimeout(10)
    assert sock.recv(1) == b""  # closed by the server, without an answer: nothing was asked
    assert 1.5 <= time.time() - started < 6
    sock.close()


@pytest.mark.parametrize("header", ["X-Big: " + "a" * 20_000, "".join(f"X-H{i}: v\r\n" for i in range(150)).rstrip("\r\n")])
def test_headers_over_the_limits_get_a_4xx_answer(server, header):
    sock = connect(server)
    sock.sendall(head("GET", PATH, 0, header + "\r\n"))
    status, _, _ = read_response(sock)
    assert status == 400
    sock.close()
