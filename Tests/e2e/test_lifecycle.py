"""Create, get, list, update and delete through boto3, for each kind of source."""
import http.client
import json

import pytest

from conftest import ACCOUNT, strip, wait_gone, wait_state

SQS = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
KINESIS = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"
DYNAMO = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/users/stream/2024-01-01T00:00:00.000"
KAFKA = dict(
    Topics=["payments"],
    SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["broker-2:9092", "broker-1:9092"]}},
    SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:kafka"}],
)

SOURCES = {
    "sqs": dict(EventSourceArn=SQS),
    "kinesis": dict(EventSourceArn=KINESIS, StartingPosition="LATEST"),
    "dynamodb": dict(EventSourceArn=DYNAMO, StartingPosition="TRIM_HORIZON"),
    "kafka": KAFKA,
}


@pytest.mark.parametrize("source", SOURCES)
def test_full_lifecycle(lam, source):
    created = lam.create_event_source_mapping(FunctionName="worker", **SOURCES[source])
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["ResponseMetadata"]["RequestId"]
    assert created["State"] == "Creating"
    uuid = created["UUID"]
    assert created["EventSourceMappingArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{uuid}"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker"

    enabled = wait_state(lam, uuid, {"Enabled"})
    assert enabled["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert enabled["LastModified"] > created["LastModified"]

    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=7)
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["State"] == "Updating"
    assert wait_state(lam, uuid, {"Enabled"})["BatchSize"] == 7

    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    wait_state(lam, uuid, {"Disabled"})
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    settled = wait_state(lam, uuid, {"Enabled"})

    listed = lam.list_event_source_mappings()["EventSourceMappings"]
    assert [strip(m) for m in listed] == [strip(settled)]

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    assert deleted["BatchSize"] == 7
    wait_gone(lam, uuid)
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []


def test_create_disabled_is_disabled_at_once(lam):
    m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=SQS, Enabled=False)
    assert m["State"] == "Disabled"
    assert "Enabled" not in m and "FunctionName" not in m


def test_unknown_uuid_is_not_found_on_get_update_delete(lam):
    unknown = "0b3a8c1e-5d7f-4a2b-9c6d-1e2f3a4b5c6d"
    for call, kwargs in [(lam.get_event_source_mapping, {}), (lam.update_event_source_mapping, {"BatchSize": 5}),
                         (lam.delete_event_source_mapping, {})]:
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
            call(UUID=unknown, **kwargs)
        err = e.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert err["Error"]["Message"] == "The resource you requested does not exist."
        assert err["Type"] == "User"


def test_update_while_creating_is_in_use(server):
    slow = server.__class__(server.data_dir + "-slow", transition_delay=30).start()
    try:
        lam = slow.client()
        m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=SQS)
        with pytest.raises(lam.exceptions.ResourceInUseException) as e:
            lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=3)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert e.value.response["Error"]["Message"] == "Cannot update the event source mapping because it is in use."
        with pytest.raises(lam.exceptions.ResourceInUseException):
            lam.delete_event_source_mapping(UUID=m["UUID"])
    finally:
        slow.stop()


def test_duplicate_is_a_conflict_naming_the_existing_uuid(lam):
    first = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=SQS)
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=SQS)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert e.value.response["Error"]["Message"] == (
        f'An event source mapping with SQS arn (" {SQS} ") and function (" worker ") already exists. '
        f"Please update or delete the existing mapping with UUID {first['UUID']}")


@pytest.mark.parametrize("path", ["/2015-03-31/event-source-mappings", "/2015-03-31/event-source-mappings/"])
def test_collection_path_with_and_without_trailing_slash(server, path):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = json.dumps({"FunctionName": "worker", "EventSourceArn": SQS + path.count("/").__str__()})
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    created = json.loads(r.read())
    assert r.status == 202
    assert r.getheader("x-amzn-RequestId")
    conn.request("GET", path)
    r = conn.getresponse()
    assert r.status == 200
    assert [m["UUID"] for m in json.loads(r.read())["EventSourceMappings"]] == [created["UUID"]]
    conn.request("GET", f"/2015-03-31/event-source-mappings/{created['UUID']}/")
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read())["UUID"] == created["UUID"]
