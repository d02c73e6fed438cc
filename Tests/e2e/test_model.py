"""esmlog's request shapes against the Lambda model botocore ships: a member (or an enum value) in
the model that esmlog does not check and store fails here, so a newer model cannot be dropped
silently. Also every member a response can carry is one the model's output shape has."""
import json

import botocore.session

from conftest import run_cli

MODEL = botocore.session.get_session().get_service_model("lambda")


def paths(shape, prefix=""):
    """Member paths as `esmlog shapes` writes them: a.b, list items as [], map values as {}."""
    out = {}
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if member.serialization.get("location") in ("uri", "querystring", "header"):
                continue
            path = f"{prefix}.{name}" if prefix else name
            out[path] = sorted(member.enum) if member.type_name == "string" and member.enum else []
            out.update(paths(member, path))
    elif shape.type_name == "list":
        item = shape.member
        if item.type_name == "string" and item.enum:
            out[prefix + "[]"] = sorted(item.enum)
        out.update({k: v for k, v in paths(item, prefix + "[]").items() if k not in out})
    elif shape.type_name == "map":
        out.update(paths(shape.value, prefix + "{}"))
    return out


def test_every_request_member_of_the_model_is_handled():
    ours = json.loads(run_cli("shapes").stdout)
    for operation in ("CreateEventSourceMapping", "UpdateEventSourceMapping"):
        model = paths(MODEL.operation_model(operation).input_shape)
        mine = ours[operation]
        missing = sorted(set(model) - set(mine))
        assert missing == [], f"{operation}: members of botocore's model esmlog does not handle: {missing}"
        extra = sorted(set(mine) - set(model))
        assert extra == [], f"{operation}: members esmlog accepts that the model does not have: {extra}"
        enums = {p: (model[p], mine[p]) for p in model if model[p] != mine[p]}
        assert enums == {}, f"{operation}: enum values differ (model, esmlog): {enums}"


def test_every_response_member_is_in_the_models_output_shape(lam):
    output = set(MODEL.operation_model("GetEventSourceMapping").output_shape.members)
    made = [
        lam.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q",
                                        ScalingConfig={"MaximumConcurrency": 2}, FilterCriteria={"Filters": [{"Pattern": '{"a": ["b"]}'}]}),
        lam.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
                                        StartingPosition="LATEST"),
        lam.create_event_source_mapping(
            FunctionName="f", Topics=["orders"], SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b:9092"]}},
            SourceAccessConfigurations=[{"Type": "VPC_SUBNET", "URI": "subnet:s"}],
            SelfManagedKafkaEventSourceConfig={"SchemaRegistryConfig": {"SchemaRegistryURI": "https://registry.example.com",
                                                                        "EventRecordFormat": "JSON"}}),
    ]
    for m in made:
        got = set(m) - {"ResponseMetadata"}
        assert got <= output, sorted(got - output)


def test_schema_registry_config_is_validated_stored_returned_updated_and_diffed(lam, server):
    import pytest
    from botocore.exceptions import ClientError
    from conftest import wait_state
    registry = {"SchemaRegistryURI": "arn:aws:glue:us-east-1:123456789012:registry/orders", "EventRecordFormat": "JSON",
                "AccessConfigs": [{"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:reg"}],
                "SchemaValidationConfigs": [{"Attribute": "KEY"}, {"Attribute": "VALUE"}]}
    m = lam.create_event_source_mapping(
        FunctionName="f", Topics=["orders"], SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b:9092"]}},
        SourceAccessConfigurations=[{"Type": "VPC_SUBNET", "URI": "subnet:s"}],
        SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": "group-1", "SchemaRegistryConfig": registry})
    assert m["SelfManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "group-1", "SchemaRegistryConfig": registry}
    msk = lam.create_event_source_mapping(
        FunctionName="f", EventSourceArn="arn:aws:kafka:us-east-1:123456789012:cluster/c/1", Topics=["orders"],
        StartingPosition="LATEST", AmazonManagedKafkaEventSourceConfig={"SchemaRegistryConfig": {"EventRecordFormat": "SOURCE"}})
    assert msk["AmazonManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": msk["UUID"], "SchemaRegistryConfig": {"EventRecordFormat": "SOURCE"}}
    for bad in ({"EventRecordFormat": "XML"}, {"SchemaValidationConfigs": [{"Attribute": "BODY"}]},
                {"AccessConfigs": [{"Type": "VPC_SUBNET", "URI": "x"}]}, {"SchemaRegistryURI": "has space"}):
        with pytest.raises(ClientError) as e:
            lam.update_event_source_mapping(UUID=m["UUID"], SelfManagedKafkaEventSourceConfig={"SchemaRegistryConfig": bad})
        assert e.value.response["Error"]["Code"] == "ValidationException", bad
    wait_state(lam, m["UUID"], {"Enabled"})
    changed = dict(registry, EventRecordFormat="SOURCE")
    u = lam.update_event_source_mapping(UUID=m["UUID"], SelfManagedKafkaEventSourceConfig={"SchemaRegistryConfig": changed})
    assert u["SelfManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "group-1", "SchemaRegistryConfig": changed}
    text = run_cli("timeline", "--data-dir", server.data_dir, m["UUID"]).stdout
    assert "SelfManagedKafkaEventSourceConfig.SchemaRegistryConfig.EventRecordFormat: JSON → SOURCE" in text, text
