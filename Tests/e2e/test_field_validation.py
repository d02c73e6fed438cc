"""Bad input on every field, on create and on update: the AWS error, never a 5xx, nothing stored changes."""
import http.client
import json

import pytest

from conftest import ACCOUNT, run_cli, wait_state

PATH = "/2015-03-31/event-source-mappings"
SQS = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"

# member path -> (kind, constraint); paths use '[]' for "first item of a list".
INTS = {
    "BatchSize": (1, 10000), "MaximumBatchingWindowInSeconds": (0, 300), "ParallelizationFactor": (1, 10),
    "MaximumRecordAgeInSeconds": (-1, 604800), "MaximumRetryAttempts": (-1, 10000), "TumblingWindowInSeconds": (0, 900),
    "ScalingConfig.MaximumConcurrency": (2, 1000), "ProvisionedPollerConfig.MinimumPollers": (1, 200),
    "ProvisionedPollerConfig.MaximumPollers": (1, 2000),
}
STRINGS = {
    "FunctionName": 256, "EventSourceArn": 1024, "FilterCriteria.Filters[].Pattern": 4096,
    "DestinationConfig.OnFailure.Destination": 350, "SourceAccessConfigurations[].URI": 200,
    "ProvisionedPollerConfig.PollerGroupName": 128, "AmazonManagedKafkaEventSourceConfig.ConsumerGroupId": 200,
    "SelfManagedKafkaEventSourceConfig.ConsumerGroupId": 200, "DocumentDBEventSourceConfig.DatabaseName": 63,
    "DocumentDBEventSourceConfig.CollectionName": 57,
}
ENUMS = {
    "StartingPosition": "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]", "SourceAccessConfigurations[].Type": None,
    "DocumentDBEventSourceConfig.FullDocument": "[UpdateLookup, Default]", "LoggingConfig.SystemLogLevel": "[DEBUG, INFO, WARN]",
}
ENUM_LISTS = {"FunctionResponseTypes": "[ReportBatchItemFailures]", "MetricsConfig.Metrics": "[EventCount, ErrorCount, KafkaMetrics]"}
STRING_LISTS = {"Topics": 249, "Queues": 1000}
BOOLS = ["Enabled", "BisectBatchOnFunctionError"]
STRUCTS = ["FilterCriteria", "DestinationConfig", "ScalingConfig", "SelfManagedEventSource", "DocumentDBEventSourceConfig",
           "MetricsConfig", "ProvisionedPollerConfig", "AmazonManagedKafkaEventSourceConfig", "LoggingConfig"]
CREATE_ONLY = {"EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "Topics", "Queues", "SelfManagedEventSource", "Tags"}


def camel(path):
    parts = []
    for p in path.split("."):
        item = p.endswith("[]")
        name = p[:-2] if item else p
        parts.append(name[0].lower() + name[1:])
        if item:
            parts.append("1.member")
    return ".".join(parts)


def put(body, path, value):
    """Sets `path` in `body` (creating structures and one-item lists on the way)."""
    parts = path.split(".")
    node = body
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        if p.endswith("[]"):
            name = p[:-2]
            node.setdefault(name, [{}])
            if last:
                node[name] = [value]
                return body
            node = node[name][0]
        elif last:
            node[p] = value
        else:
            node = node.setdefault(p, {})
    return body


def cases():
    out = []
    for path, (lo, hi) in INTS.items():
        out.append((path, "wrong type", "seven", "InvalidRequestContentException", None))
        out.append((path, "below range", lo - 1, "ValidationException",
                    f"Value '{lo - 1}' at '{camel(path)}' failed to satisfy constraint: Member must have value greater than or equal to {lo}"))
        out.append((path, "above range", hi + 1, "ValidationException",
                    f"Value '{hi + 1}' at '{camel(path)}' failed to satisfy constraint: Member must have value less than or equal to {hi}"))
    for path, n in STRINGS.items():
        out.append((path, "wrong type", 7, "InvalidRequestContentException", None))
        out.append((path, "too long", "a" * (n + 1), "ValidationException",
                    f"at '{camel(path)}' failed to satisfy constraint: Member must have length less than or equal to {n}"))
    for path, shown in ENUMS.items():
        out.append((path, "wrong type", 1, "InvalidRequestContentException", None))
        out.append((path, "unknown enum", "NOPE", "ValidationException",
                    f"Value 'NOPE' at '{camel(path)}' failed to satisfy constraint: Member must satisfy enum value set: {shown or '['}"))
    for path, shown in ENUM_LISTS.items():
        out.append((path, "wrong type", "ReportBatchItemFailures", "InvalidRequestContentException", None))
        out.append((path, "unknown enum", ["NOPE"], "ValidationException",
                    f"Value '[NOPE]' at '{camel(path)}' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: {shown}]"))
    for path, n in STRING_LISTS.items():
        out.append((path, "wrong type", "one", "InvalidRequestContentException", None))
        out.append((path, "item too long", ["a" * (n + 1)], "ValidationException",
                    f"at '{camel(path)}' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to {n}"))
        out.append((path, "too many items", ["abc", "abd"], "ValidationException",
                    f"Value '[abc, abd]' at '{camel(path)}' failed to satisfy constraint: Member must have length less than or equal to 1"))
    for path in BOOLS:
        out.append((path, "wrong type", "yes", "InvalidRequestContentException", None))
    for path in STRUCTS:
        out.append((path, "wrong type", [1], "InvalidRequestContentException", None))
    out.append(("Tags", "wrong type", ["a"], "InvalidRequestContentException", None))
    out.append(("Tags", "value too long", {"k": "v" * 257}, "ValidationException",
                "at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256]"))
    out.append(("Tags", "key too long", {"k" * 129: "v"}, "ValidationException",
                "at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128]"))
    out.append(("StartingPositionTimestamp", "wrong type", "yesterday", "InvalidRequestContentException", None))
    out.append(("SourceAccessConfigurations", "too many items", [{"Type": "BASIC_AUTH", "URI": "u"}] * 23, "ValidationException",
                "at 'sourceAccessConfigurations' failed to satisfy constraint: Member must have length less than or equal to 22"))
    return out


CASES = cases()


def send(server, method, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    conn.request(method, path, body=json.dumps(body))
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    return r.status, r.getheader("x-amzn-ErrorType"), json.loads(payload)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    from conftest import Server
    server = Server(str(tmp_path_factory.mktemp("fields") / "data")).start()
    lam = server.client()
    m = lam.create_event_source_mapping(FunctionName="keep", EventSourceArn=SQS, BatchSize=5)
    wait_state(lam, m["UUID"], {"Enabled"})
    yield server, lam, m["UUID"]
    server.stop()


def mapping(lam, uuid):
    return {k: v for k, v in lam.get_event_source_mapping(UUID=uuid).items() if k != "ResponseMetadata"}


def check(server, lam, uuid, method, path, body, code, message):
    before = mapping(lam, uuid)
    status, got_code, payload = send(server, method, path, body)
    assert status == 400, payload
    assert got_code == code, payload
    text = payload.get("message") or payload.get("Message")
    if message:
        assert message in text
    assert mapping(lam, uuid) == before


@pytest.mark.parametrize("path,what,value,code,message", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_field_on_create(shared, path, what, value, code, message):
    server, lam, uuid = shared
    body = put({"FunctionName": "fn", "EventSourceArn": SQS}, path, value)
    check(server, lam, uuid, "POST", PATH, body, code, message)


UPDATE_CASES = [c for c in CASES if c[0].split(".")[0].rstrip("[]") not in CREATE_ONLY]


@pytest.mark.parametrize("path,what,value,code,message", UPDATE_CASES, ids=[f"{c[0]}-{c[1]}" for c in UPDATE_CASES])
def test_bad_field_on_update(shared, path, what, value, code, message):
    server, lam, uuid = shared
    check(server, lam, uuid, "PUT", f"{PATH}/{uuid}", put({}, path, value), code, message)


def test_zz_replay_shows_only_the_one_good_mapping(shared):
    server, lam, uuid = shared
    replay = json.loads(run_cli("replay", "--data-dir", server.data_dir).stdout)
    assert [m["UUID"] for m in replay["EventSourceMappings"]] == [uuid]
    assert replay["EventSourceMappings"][0]["BatchSize"] == 5
    assert replay["Sequence"] == 2  # Created and StateChanged: no rejected request wrote anything
