"""The rules of AWS's ESM behaviour, one test each, named after the rule, over the wire."""
import http.client
import json
import os
import sys

import pytest

from conftest import ACCOUNT, ROOT, run_cli, wait_gone, wait_state

sys.path.insert(0, os.path.join(ROOT, "tools"))
import logdump  # noqa: E402

SQS = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
FIFO = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders.fifo"
KINESIS = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"
DYNAMO = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/users/stream/2024-01-01T00:00:00.000"
KAFKA = dict(
    Topics=["payments"], SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["kafka:1000"]}},
    SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:k"}])
PATH = "/2015-03-31/event-source-mappings"


def raw(server, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    conn.request(method, path, body=None if body is None else json.dumps(body))
    r = conn.getresponse()
    payload = json.loads(r.read() or b"null")
    headers = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, headers, payload


def error_of(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Message"]


def test_R1_1_status_codes(lam):
    m = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=SQS)
    assert m["ResponseMetadata"]["HTTPStatusCode"] == 202
    wait_state(lam, m["UUID"], {"Enabled"})
    assert lam.get_event_source_mapping(UUID=m["UUID"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert lam.list_event_source_mappings()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=2)["ResponseMetadata"]["HTTPStatusCode"] == 202
    wait_state(lam, m["UUID"], {"Enabled"})
    assert lam.delete_event_source_mapping(UUID=m["UUID"])["ResponseMetadata"]["HTTPStatusCode"] == 202


def test_R1_2_last_modified_is_epoch_seconds_with_a_fraction(server):
    status, _, body = raw(server, "POST", PATH, {"FunctionName": "fn", "EventSourceArn": SQS})
    assert status == 202
    assert isinstance(body["LastModified"], (int, float)) and body["LastModified"] > 1.7e9


@pytest.mark.parametrize("request_,code,status,members", [
    (("GET", PATH + "/2d2b8e36-0000-4000-8000-000000000000", None), "ResourceNotFoundException", 404, {"Type", "Message"}),
    (("POST", PATH, {"FunctionName": "fn"}), "InvalidParameterValueException", 400, {"Type", "message"}),
    (("POST", PATH, {"FunctionName": "fn", "EventSourceArn": SQS, "BatchSize": 0}), "ValidationException", 400, {"message"}),
])
def test_R1_3_error_bodies_carry_the_members_aws_sends(server, request_, code, status, members):
    got_status, headers, body = raw(server, *request_)
    assert got_status == status
    assert headers["x-amzn-errortype"] == code
    assert set(body) == members
    if "Type" in members:
        assert body["Type"] == "User"


def test_R1_3_conflict_and_in_use_bodies(server):
    raw(server, "POST", PATH, {"FunctionName": "fn", "EventSourceArn": SQS})
    status, headers, body = raw(server, "POST", PATH, {"FunctionName": "fn", "EventSourceArn": SQS})
    assert (status, headers["x-amzn-errortype"], set(body)) == (409, "ResourceConflictException", {"Type", "message"})
    slow = server.__class__(server.data_dir + "-slow", transition_delay=30).start()
    try:
        _, _, m = raw(slow, "POST", PATH, {"FunctionName": "fn", "EventSourceArn": SQS})
        status, headers, body = raw(slow, "PUT", f"{PATH}/{m['UUID']}", {"BatchSize": 3})
        assert (status, headers["x-amzn-errortype"], set(body)) == (400, "ResourceInUseException", {"Type", "Message"})
    finally:
        slow.stop()


SQS_KEYS = {"BatchSize", "EventSourceArn", "EventSourceMappingArn", "FunctionArn", "FunctionResponseTypes", "LastModified",
            "MaximumBatchingWindowInSeconds", "State", "StateTransitionReason", "UUID"}
STREAM_KEYS = {"BatchSize", "BisectBatchOnFunctionError", "DestinationConfig", "EventSourceArn", "EventSourceMappingArn", "FunctionArn",
               "FunctionResponseTypes", "LastModified", "LastProcessingResult", "MaximumBatchingWindowInSeconds",
               "MaximumRecordAgeInSeconds", "MaximumRetryAttempts", "ParallelizationFactor", "StartingPosition", "State",
               "StateTransitionReason", "TumblingWindowInSeconds", "UUID"}
KAFKA_KEYS = {"BatchSize", "EventSourceMappingArn", "FunctionArn", "LastModified", "LastProcessingResult", "SelfManagedEventSource",
              "SelfManagedKafkaEventSourceConfig", "SourceAccessConfigurations", "StartingPosition", "State",
              "StateTransitionReason", "Topics", "UUID"}


@pytest.mark.parametrize("rule,request_,keys", [
    ("R3.2 SQS", dict(EventSourceArn=SQS), SQS_KEYS),
    ("R3.3 Kinesis", dict(EventSourceArn=KINESIS, StartingPosition="LATEST"), STREAM_KEYS),
    ("R3.3 DynamoDB", dict(EventSourceArn=DYNAMO, StartingPosition="LATEST"), STREAM_KEYS),
    ("R3.4 self-managed Kafka", KAFKA, KAFKA_KEYS),
])
def test_R3_responses_have_exactly_the_recorded_members(server, rule, request_, keys):
    status, _, body = raw(server, "POST", PATH, {"FunctionName": "fn", **request_})
    assert status == 202
    assert set(body) == keys, rule


@pytest.mark.parametrize("sent,arn", [
    ("my-fn", "arn:aws:lambda:us-east-1:123456789012:function:my-fn"),
    ("my-fn:$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST"),
    ("my-fn:1", "arn:aws:lambda:us-east-1:123456789012:function:my-fn:1"),
    ("my-fn:myalias", "arn:aws:lambda:us-east-1:123456789012:function:my-fn:myalias"),
    ("arn:aws:lambda:us-east-1:123456789012:function:my-fn", "arn:aws:lambda:us-east-1:123456789012:function:my-fn"),
    ("arn:aws:lambda:us-east-1:123456789012:function:my-fn:1", "arn:aws:lambda:us-east-1:123456789012:function:my-fn:1"),
    ("123456789012:function:my-fn", "arn:aws:lambda:us-east-1:123456789012:function:my-fn"),
])
def test_R4_function_arn_keeps_the_qualifier(lam, sent, arn):
    assert lam.create_event_source_mapping(FunctionName=sent, EventSourceArn=SQS)["FunctionArn"] == arn


def test_R5_states_reasons_and_last_modified(lam):
    m = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=KINESIS, StartingPosition="LATEST")
    times = [m["LastModified"]]
    seen = [m["State"]]
    for change, states in [({}, None), ({"BatchSize": 5}, "Updating"), ({"Enabled": False}, "Disabling"), ({"Enabled": True}, "Enabling")]:
        if change:
            r = lam.update_event_source_mapping(UUID=m["UUID"], **change)
            seen.append(r["State"])
            times.append(r["LastModified"])
        settled = wait_state(lam, m["UUID"], {"Enabled", "Disabled"})
        seen.append(settled["State"])
        times.append(settled["LastModified"])
        assert settled["StateTransitionReason"] == "User action"
        assert settled["LastProcessingResult"] == "No records processed"
    assert seen == ["Creating", "Enabled", "Updating", "Enabled", "Disabling", "Disabled", "Enabling", "Enabled"]
    assert times == sorted(times) and len(set(times)) == len(times)
    d = lam.delete_event_source_mapping(UUID=m["UUID"])
    assert d["State"] == "Deleting" and d["LastModified"] > times[-1]
    wait_gone(lam, m["UUID"])


R6_1 = [
    ("no event source", dict(), "InvalidParameterValueException", "Unrecognized event source."),
    ("SQS OnSuccess", dict(EventSourceArn=SQS, DestinationConfig={"OnSuccess": {"Destination": SQS}}), "InvalidParameterValueException",
     "Unsupported DestinationConfig parameter for given event source mapping type."),
    ("stream without StartingPosition", dict(EventSourceArn=KINESIS), "InvalidParameterValueException",
     "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null."),
    ("StartingPosition not in the enum", dict(EventSourceArn=KINESIS, StartingPosition="invalid"), "ValidationException",
     "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"),
    ("DynamoDB AT_TIMESTAMP", dict(EventSourceArn=DYNAMO, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1700000000),
     "InvalidParameterValueException", f"Unsupported starting position for arn type: {DYNAMO}"),
    ("SQS batch over 10 without window", dict(EventSourceArn=SQS, BatchSize=11), "InvalidParameterValueException",
     "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"),
    ("filter leaf not an array", dict(EventSourceArn=SQS, FilterCriteria={"Filters": [{"Pattern": '{"eventSource": "aws:sqs"}'}]}),
     "InvalidParameterValueException", "Invalid filter pattern definition."),
    ("filter empty array", dict(EventSourceArn=SQS, FilterCriteria={"Filters": [{"Pattern": '{"eventSource": []}'}]}),
     "InvalidParameterValueException", "Invalid filter pattern definition."),
    ("filter null", dict(EventSourceArn=SQS, FilterCriteria={"Filters": [{"Pattern": "null"}]}),
     "InvalidParameterValueException", "Invalid filter pattern definition."),
    ("filter plain string", dict(EventSourceArn=SQS, FilterCriteria={"Filters": [{"Pattern": "simple string"}]}),
     "InvalidParameterValueException", "Invalid filter pattern definition."),
    ("filter not JSON", dict(EventSourceArn=SQS, FilterCriteria={"Filters": [{"Pattern": '[{"eventName": ["INSERT"=123}]'}]}),
     "InvalidParameterValueException", "Invalid filter pattern definition."),
    ("Kafka without access configurations", {k: v for k, v in KAFKA.items() if k != "SourceAccessConfigurations"},
     "InvalidParameterValueException", "Required 'sourceAccessConfigurations' parameter is missing."),
    ("FIFO batching window", dict(EventSourceArn=FIFO, BatchSize=10, MaximumBatchingWindowInSeconds=5),
     "InvalidParameterValueException", "Batching window is not supported for FIFO queues"),
]


@pytest.mark.parametrize("name,request_,code,message", R6_1, ids=[c[0] for c in R6_1])
def test_R6_1_recorded_errors(server, name, request_, code, message):
    status, headers, body = raw(server, "POST", PATH, {"FunctionName": "fn", **request_})
    assert (status, headers["x-amzn-errortype"]) == (400, code)
    assert (body.get("message") or body.get("Message")) == message


def test_R6_1_sqs_window_rule_applies_on_update(lam):
    m = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=SQS)
    wait_state(lam, m["UUID"], {"Enabled"})
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=11)
    assert error_of(e.value) == ("InvalidParameterValueException", 400,
                                 "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")


def test_R6_2_every_violation_is_listed(server):
    status, headers, body = raw(server, "POST", PATH, {
        "FunctionName": "fn", "EventSourceArn": KINESIS, "StartingPosition": "LATEST", "BatchSize": 10001,
        "ParallelizationFactor": 11, "FunctionResponseTypes": ["Nope"]})
    assert (status, headers["x-amzn-errortype"]) == (400, "ValidationException")
    assert body["message"] == (
        "3 validation errors detected: "
        "Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000; "
        "Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have value less than or equal to 10; "
        "Value '[Nope]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must satisfy enum value set: [ReportBatchItemFailures]]")


@pytest.mark.parametrize("source,request_,text", [
    ("SQS", dict(EventSourceArn=SQS), 'An event source mapping with SQS arn (" {arn} ") and function (" fn ") already exists. '
                                      'Please update or delete the existing mapping with UUID {uuid}'),
    ("Kinesis", dict(EventSourceArn=KINESIS, StartingPosition="LATEST"),
     'The event source arn (" {arn} ") and function (" fn ") provided mapping already exists. '
     'Please update or delete the existing mapping with UUID {uuid}'),
    ("DynamoDB", dict(EventSourceArn=DYNAMO, StartingPosition="LATEST"),
     'The event source arn (" {arn} ") and function (" fn ") provided mapping already exists. '
     'Please update or delete the existing mapping with UUID {uuid}'),
    ("Kafka", KAFKA, 'An event source mapping with event source ("kafka:1000"), function ("arn:aws:lambda:us-east-1:123456789012:function:fn"), '
                     'topics ("payments") already exists. Please update or delete the existing mapping with UUID {uuid}'),
])
def test_R7_duplicates_are_conflicts_naming_the_existing_mapping(lam, source, request_, text):
    first = lam.create_event_source_mapping(FunctionName="fn", **request_)
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.create_event_source_mapping(FunctionName="fn", **request_)
    assert error_of(e.value) == ("ResourceConflictException", 409, text.format(arn=request_.get("EventSourceArn"), uuid=first["UUID"]))
    lam.create_event_source_mapping(FunctionName="other-fn", **request_)


def test_R8_unknown_filters_give_an_empty_list_not_an_error(lam):
    assert lam.list_event_source_mappings(FunctionName="doesnotexist")["EventSourceMappings"] == []
    assert lam.list_event_source_mappings(EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:somequeue")["EventSourceMappings"] == []


def test_R9_tags_are_accepted_kept_in_the_log_and_never_returned(server, lam):
    m = lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=SQS, Tags={"team": "payments", "env": "test"})
    assert "Tags" not in m
    assert "Tags" not in lam.get_event_source_mapping(UUID=m["UUID"])
    server.stop()
    created = [e for _, e in logdump.read_log(server.data_dir) if e["Type"] == "Created"]
    assert created[0]["Tags"] == {"team": "payments", "env": "test"}
    server.start()
