"""`--auth sigv4`: AWS Signature Version 4 verified on every request.

Requests are signed by botocore's own signer (through boto3, through the AWS CLI, and through
`SigV4Auth` directly so that each signed part can be tampered with after signing)."""
import datetime
import http.client
import json
import os
import subprocess
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import ACCOUNT, BINARY, Server, run_cli, wait_state

KEY_A, SECRET_A, ACCOUNT_A = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "111122223333"
KEY_B, SECRET_B = "AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
PATH = "/2015-03-31/event-source-mappings/"
BODY = json.dumps({"FunctionName": "f", "EventSourceArn": "arn:aws:sqs:us-east-1:111122223333:q"}).encode()
BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
                 "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


@pytest.fixture
def signed_server(data_dir, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text(f"""# keys for the tests
[team-a]
aws_access_key_id = {KEY_A}
aws_secret_access_key = {SECRET_A}
aws_account_id = {ACCOUNT_A}

[team-b]
aws_access_key_id = {KEY_B}
aws_secret_access_key = {SECRET_B}
""")
    s = Server(data_dir, extra=["--auth", "sigv4", "--credentials-file", str(creds)]).start()
    yield s
    s.stop()


def client(server, key, secret, region="us-east-1"):
    return boto3.client("lambda", endpoint_url=server.endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def sign(server, method=None, path=PATH, body=BODY, key=KEY_A, secret=SECRET_A, service="lambda",
         region="us-east-1", when=None, headers=None):
    """Headers botocore's SigV4 signer adds for this request (optionally at another time)."""
    method = method or ("POST" if body else "GET")
    request = AWSRequest(method=method, url=server.endpoint + path, data=body,
                         headers={"Content-Type": "application/json", **(headers or {})})
    signer = SigV4Auth(Credentials(key, secret), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda: when):
            signer.add_auth(request)
    return dict(request.headers.items())


def send(server, method, path, headers, body=b"", host=None):
    """Sends exactly these headers; returns (status, error type header, parsed body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, path, skip_host=host is not None, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", host)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    return response.status, response.getheader("x-amzn-ErrorType"), json.loads(raw) if raw else None


def assert_denied(result, code, message=None):
    status, error_type, body = result
    assert (status, error_type) == (403, code), result
    if message is not None:
        assert body == {"message": message}


def mappings(server):
    """Every mapping in the log, read with the replay tool (not through the API)."""
    return json.loads(run_cli("replay", "--data-dir", server.data_dir).stdout)["EventSourceMappings"]


def test_boto3_with_a_known_key_works_and_the_log_records_a_verified_actor(signed_server):
    lam = client(signed_server, KEY_A, SECRET_A, region="eu-west-1")
    m = lam.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:eu-west-1:111122223333:q")
    assert m["FunctionArn"] == f"arn:aws:lambda:eu-west-1:{ACCOUNT_A}:function:f"
    assert m["EventSourceMappingArn"].startswith(f"arn:aws:lambda:eu-west-1:{ACCOUNT_A}:event-source-mapping:")
    assert lam.get_event_source_mapping(UUID=m["UUID"])["UUID"] == m["UUID"]
    wait_state(lam, m["UUID"], {"Enabled"})
    lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=7)
    wait_state(lam, m["UUID"], {"Enabled"})
    assert [x["UUID"] for x in lam.list_event_source_mappings()["EventSourceMappings"]] == [m["UUID"]]
    lam.delete_event_source_mapping(UUID=m["UUID"])
    events = [json.loads(line) for line in run_cli("export", "--data-dir", signed_server.data_dir, "--format", "jsonl").stdout.splitlines()]
    users = [e["Actor"] for e in events if e.get("Initiator") == "User"]
    assert len(users) == 3
    for actor in users:
        assert actor["AccessKeyId"] == KEY_A and actor["Authentication"] == "SigV4" and actor["AccountId"] == ACCOUNT_A
        assert actor["Region"] == "eu-west-1"


def test_a_key_without_an_account_uses_the_server_account(signed_server):
    m = client(signed_server, KEY_B, SECRET_B).create_event_source_mapping(
        FunctionName="g", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    assert m["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:g"


def test_each_key_sees_only_its_own_accounts_mappings(signed_server):
    a, b = client(signed_server, KEY_A, SECRET_A), client(signed_server, KEY_B, SECRET_B)
    ma = a.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:111122223333:q")
    mb = b.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    wait_state(a, ma["UUID"], {"Enabled"})
    assert [m["UUID"] for m in a.list_event_source_mappings()["EventSourceMappings"]] == [ma["UUID"]]
    assert [m["UUID"] for m in b.list_event_source_mappings()["EventSourceMappings"]] == [mb["UUID"]]
    for call in (lambda: b.get_event_source_mapping(UUID=ma["UUID"]),
                 lambda: b.update_event_source_mapping(UUID=ma["UUID"], BatchSize=5),
                 lambda: b.delete_event_source_mapping(UUID=ma["UUID"])):
        with pytest.raises(b.exceptions.ResourceNotFoundException):
            call()
    assert a.get_event_source_mapping(UUID=ma["UUID"])["BatchSize"] == 10


def test_unknown_key_is_unrecognized(signed_server):
    lam = client(signed_server, "AKIAUNKNOWNEXAMPLE00", SECRET_A)
    with pytest.raises(lam.exceptions.ClientError) as e:
        lam.list_event_source_mappings()
    error = e.value.response
    assert error["Error"]["Code"] == "UnrecognizedClientException"
    assert error["Error"]["Message"] == "The security token included in the request is invalid."
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_wrong_secret_is_an_invalid_signature_and_stores_nothing(signed_server):
    lam = client(signed_server, KEY_A, SECRET_B)
    with pytest.raises(lam.exceptions.ClientError) as e:
        lam.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:111122223333:q")
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert e.value.response["Error"]["Message"] == BAD_SIGNATURE
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert mappings(signed_server) == []


def test_the_untampered_request_is_accepted(signed_server):
    status, _, body = send(signed_server, "POST", PATH, sign(signed_server), BODY)
    assert status == 202 and body["FunctionArn"].endswith(":function:f")


@pytest.mark.parametrize("part", ["method", "path", "query", "body", "signed header", "host", "signature", "date"])
def test_tampering_with_any_signed_part_is_refused(signed_server, part):
    method, path, body, host = "POST", PATH, BODY, None
    headers = sign(signed_server, headers={"X-Custom": "one"})
    assert "x-custom" in headers["Authorization"]
    if part == "method":
        method = "PUT"
        path = PATH + "a6fcd4ba-1bd8-4a3a-8d64-1a1c8f1b9d31"
    elif part == "path":
        path = "/2015-03-31/event-source-mappings"
    elif part == "query":
        path = PATH + "?MaxItems=5"
    elif part == "body":
        body = BODY.replace(b'"f"', b'"h"')
    elif part == "signed header":
        headers["X-Custom"] = "two"
    elif part == "host":
        host = f"localhost:{signed_server.port}"
    elif part == "signature":
        auth = headers["Authorization"]
        last = auth[-1]
        headers["Authorization"] = auth[:-1] + ("0" if last != "0" else "1")
    elif part == "date":
        stamp = headers["X-Amz-Date"]
        headers["X-Amz-Date"] = stamp[:-3] + ("00Z" if stamp[-3:-1] != "00" else "01Z")
    assert_denied(send(signed_server, method, path, headers, body, host=host), "InvalidSignatureException", BAD_SIGNATURE)
    assert mappings(signed_server) == []


@pytest.mark.parametrize("value", ["a, b", "  a,   b  ", "x  y"])
def test_a_signed_header_with_spaces_and_commas_verifies(signed_server, value):
    """botocore signs the trimmed value with runs of spaces made one; the space after a comma
    is part of the value."""
    headers = sign(signed_server, headers={"X-Custom": value})
    assert "x-custom" in headers["Authorization"]
    status, _, body = send(signed_server, "POST", PATH, headers, BODY)
    assert status == 202, body


def test_an_unsigned_header_may_change(signed_server):
    headers = sign(signed_server)
    headers["User-Agent"] = "something else"
    assert send(signed_server, "POST", PATH, headers, BODY)[0] == 202


def test_missing_authorization(signed_server):
    assert_denied(send(signed_server, "GET", PATH, {}), "MissingAuthenticationTokenException", "Missing Authentication Token")


def test_incomplete_authorization(signed_server):
    headers = sign(signed_server, body=b"")
    headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
    status, code, body = send(signed_server, "GET", PATH, headers)
    assert (status, code) == (403, "IncompleteSignatureException")
    assert body["message"].startswith("Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 ")


def test_host_must_be_signed(signed_server):
    headers = sign(signed_server, body=b"")
    auth = headers["Authorization"]
    headers["Authorization"] = auth.replace("SignedHeaders=content-type;host;x-amz-date", "SignedHeaders=content-type;x-amz-date")
    assert headers["Authorization"] != auth
    assert_denied(send(signed_server, "GET", PATH, headers), "IncompleteSignatureException",
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")


def test_credential_scoped_to_another_service(signed_server):
    headers = sign(signed_server, body=b"", service="s3")
    assert_denied(send(signed_server, "GET", PATH, headers), "InvalidSignatureException",
                  "Credential should be scoped to correct service: 'lambda'. ")


def test_scope_date_must_match_x_amz_date(signed_server):
    headers = sign(signed_server, body=b"")
    stamp = headers["X-Amz-Date"]
    day = datetime.datetime.strptime(stamp[:8], "%Y%m%d")
    other = (day - datetime.timedelta(days=1)).strftime("%Y%m%d")
    headers["X-Amz-Date"] = other + stamp[8:]
    assert_denied(send(signed_server, "GET", PATH, headers), "InvalidSignatureException",
                  f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                  f"'{stamp[:8]}' != '{other}', from '{other + stamp[8:]}'.")


@pytest.mark.parametrize("minutes,accepted", [(-20, False), (-14, True), (14, True), (20, False)])
def test_x_amz_date_must_be_within_15_minutes(signed_server, minutes, accepted):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    headers = sign(signed_server, body=b"", when=when)
    status, code, body = send(signed_server, "GET", PATH, headers)
    if accepted:
        assert status == 200, body
    else:
        assert (status, code) == (403, "InvalidSignatureException")
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        expected = "Signature expired: " if minutes < 0 else "Signature not yet current: "
        assert body["message"].startswith(expected + stamp), body
        assert body["message"].endswith(" - 15 min.)" if minutes < 0 else " + 15 min.)")


def aws_cli(server, key, secret, *args):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    env.pop("AWS_SESSION_TOKEN", None)
    return subprocess.run(["aws", "lambda", *args, "--endpoint-url", server.endpoint, "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_aws_cli_signs_and_is_verified(signed_server):
    created = aws_cli(signed_server, KEY_A, SECRET_A, "create-event-source-mapping", "--function-name", "f",
                      "--event-source-arn", "arn:aws:sqs:us-east-1:111122223333:q")
    assert created.returncode == 0, created.stderr
    listed = aws_cli(signed_server, KEY_A, SECRET_A, "list-event-source-mappings")
    assert [m["UUID"] for m in json.loads(listed.stdout)["EventSourceMappings"]] == [json.loads(created.stdout)["UUID"]]
    refused = aws_cli(signed_server, KEY_A, SECRET_B, "list-event-source-mappings")
    assert refused.returncode != 0 and "InvalidSignatureException" in refused.stderr


def test_sigv4_needs_a_credentials_file(data_dir, tmp_path):
    r = subprocess.run([BINARY, "serve", "--data-dir", data_dir, "--auth", "sigv4"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "--auth sigv4 needs --credentials-file" in r.stderr
    bad = tmp_path / "bad"
    bad.write_text("[a]\naws_access_key_id = AKIA1\n")
    r = subprocess.run([BINARY, "serve", "--data-dir", data_dir, "--auth", "sigv4", "--credentials-file", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "line 1: section [a] has no aws_secret_access_key" in r.stderr
