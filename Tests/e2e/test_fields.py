"""Every request member of the API document round-trips to the response."""
import datetime

import pytest

from conftest import ACCOUNT, wait_state

SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:creds"
FILTERS = {"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}, {"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]}

CASES = {
    "sqs": (dict(
        EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders", BatchSize=50, MaximumBatchingWindowInSeconds=5,
        FilterCriteria=FILTERS, FunctionResponseTypes=["ReportBatchItemFailures"], ScalingConfig={"MaximumConcurrency": 20},
        KMSKeyArn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd", MetricsConfig={"Metrics": ["EventCount"]},
        ProvisionedPollerConfig={"MinimumPollers": 2, "MaximumPollers": 50}, Tags={"team": "payments"},
    ), {}),
    "kinesis": (dict(
        EventSourceArn=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks", StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        BatchSize=500, MaximumBatchingWindowInSeconds=10, ParallelizationFactor=4, BisectBatchOnFunctionError=True,
        MaximumRecordAgeInSeconds=3600, MaximumRetryAttempts=5, TumblingWindowInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"}},
        FunctionResponseTypes=["ReportBatchItemFailures"], FilterCriteria=FILTERS,
    ), {"LastProcessingResult": "No records processed"}),
    "dynamodb": (dict(
        EventSourceArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/users/stream/2024-01-01T00:00:00.000",
        StartingPosition="LATEST", MaximumRetryAttempts=0,
    ), {"DestinationConfig": {"OnFailure": {}}, "BatchSize": 100}),
    "self-managed-kafka": (dict(
        Topics=["payments"], StartingPosition="LATEST", BatchSize=1,
        SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b-2.example:9092", "b-1.example:9092"]}},
        SourceAccessConfigurations=[{"Type": "SASL_SCRAM_512_AUTH", "URI": SECRET}, {"Type": "VPC_SUBNET", "URI": "subnet:subnet-1"}],
        SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": "group-1"},
        ProvisionedPollerConfig={"MinimumPollers": 1, "MaximumPollers": 3},
    ), {"SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b-1.example:9092", "b-2.example:9092"]}}}),
    "msk": (dict(
        EventSourceArn=f"arn:aws:kafka:us-east-1:{ACCOUNT}:cluster/demo/abcd-1234", Topics=["events"], StartingPosition="TRIM_HORIZON",
        AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": "msk-group"},
    ), {"BatchSize": 100}),
    "mq": (dict(
        EventSourceArn=f"arn:aws:mq:us-east-1:{ACCOUNT}:broker:demo:b-1234", Queues=["jobs"],
        SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": SECRET}],
    ), {"BatchSize": 100}),
    "documentdb": (dict(
        EventSourceArn=f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:docs", StartingPosition="LATEST",
        DocumentDBEventSourceConfig={"DatabaseName": "shop", "CollectionName": "orders", "FullDocument": "UpdateLookup"},
    ), {}),
}
NOT_ECHOED = {"Tags", "Enabled", "FunctionName"}


@pytest.mark.parametrize("name", CASES)
def test_every_member_round_trips(lam, name):
    request, extra = CASES[name]
    created = lam.create_event_source_mapping(FunctionName="worker", **request)
    got = wait_state(lam, created["UUID"], {"Enabled"})
    for key, value in request.items():
        if key in NOT_ECHOED:
            assert key not in got
        elif key == "SelfManagedEventSource":
            continue
        else:
            assert got[key] == value, key
    for key, value in extra.items():
        assert got[key] == value, key
    lam.update_event_source_mapping(UUID=created["UUID"], BatchSize=9)
    assert wait_state(lam, created["UUID"], {"Enabled"})["BatchSize"] == 9


def test_update_members_round_trip(lam):
    m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:q")
    wait_state(lam, m["UUID"], {"Enabled"})
    lam.update_event_source_mapping(
        UUID=m["UUID"], FunctionName="other:live", BatchSize=100, MaximumBatchingWindowInSeconds=1,
        FilterCriteria=FILTERS, ScalingConfig={"MaximumConcurrency": 5}, MetricsConfig={"Metrics": ["EventCount"]},
        ProvisionedPollerConfig={"MinimumPollers": 3, "MaximumPollers": 9}, FunctionResponseTypes=["ReportBatchItemFailures"])
    got = wait_state(lam, m["UUID"], {"Enabled"})
    assert got["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:other:live"
    assert got["FilterCriteria"] == FILTERS
    assert got["ProvisionedPollerConfig"] == {"MinimumPollers": 3, "MaximumPollers": 9}
    lam.update_event_source_mapping(UUID=m["UUID"], FilterCriteria={"Filters": []})
    assert "FilterCriteria" not in wait_state(lam, m["UUID"], {"Enabled"})


def test_region_comes_from_the_credential_scope(server):
    lam = server.client(region="eu-west-1")
    m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q")
    assert m["FunctionArn"] == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker"
    assert m["EventSourceMappingArn"].startswith(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:event-source-mapping:")
