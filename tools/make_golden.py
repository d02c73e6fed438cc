#!/usr/bin/env python3
"""Writes a golden log fixture through a real `esmlog serve` with boto3.

    tools/make_golden.py data/golden-vN

Two callers in two regions create SQS, Kinesis, DynamoDB and self-managed Kafka mappings, update,
disable, enable, move one to another function, tag and untag (format version 2), and delete,
with 4 KiB segments so the log rolls over. Then `replay.json` and `verify.txt` are written beside it. Run it once per format version,
never again over an existing folder.
"""
import os
import subprocess
import sys
import time

import boto3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BINARY = os.path.join(ROOT, ".build", "debug", "esmlog")
A = "123456789012"


def main():
    folder = sys.argv[1]
    if os.path.exists(folder):
        sys.exit(f"{folder} exists: golden logs are never rewritten")
    server = subprocess.Popen([BINARY, "serve", "--data-dir", folder, "--port", "0", "--transition-delay", "0", "--log-level", "warning",
                               "--segment-size-bytes", "4096", "--account", A], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().rsplit(":", 1)[1])

    def client(key, region="us-east-1"):
        return boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
                            aws_access_key_id=key, aws_secret_access_key="x")

    alice, bob = client("AKIDALICE"), client("AKIDBOB", "eu-west-1")

    def settle(u):
        for _ in range(500):
            if alice.get_event_source_mapping(UUID=u)["State"] in ("Enabled", "Disabled"):
                return
            time.sleep(0.01)

    def gone(u):
        for _ in range(500):
            try:
                alice.get_event_source_mapping(UUID=u)
                time.sleep(0.01)
            except alice.exceptions.ResourceNotFoundException:
                return

    sqs = alice.create_event_source_mapping(
        FunctionName="orders-worker", EventSourceArn=f"arn:aws:sqs:us-east-1:{A}:orders",
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]}, ScalingConfig={"MaximumConcurrency": 10},
        Tags={"team": "payments"})["UUID"]
    kin = alice.create_event_source_mapping(
        FunctionName="clicks:live", EventSourceArn=f"arn:aws:kinesis:us-east-1:{A}:stream/clicks", StartingPosition="TRIM_HORIZON",
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{A}:dlq"}})["UUID"]
    ddb = bob.create_event_source_mapping(
        FunctionName="users", EventSourceArn=f"arn:aws:dynamodb:eu-west-1:{A}:table/users/stream/2024-01-01T00:00:00.000",
        StartingPosition="LATEST", Enabled=False)["UUID"]
    kaf = bob.create_event_source_mapping(
        FunctionName="payments", Topics=["payments"],
        SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b-2:9092", "b-1:9092"]}},
        SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": f"arn:aws:secretsmanager:eu-west-1:{A}:secret:k"}],
        ProvisionedPollerConfig={"MinimumPollers": 1, "MaximumPollers": 4})["UUID"]
    for u in (sqs, kin, kaf):
        settle(u)
    alice.update_event_source_mapping(UUID=sqs, BatchSize=50, MaximumBatchingWindowInSeconds=5)
    settle(sqs)
    bob.update_event_source_mapping(UUID=sqs, FilterCriteria={"Filters": []})
    settle(sqs)
    alice.update_event_source_mapping(UUID=kin, Enabled=False)
    settle(kin)
    bob.update_event_source_mapping(UUID=ddb, Enabled=True)
    settle(ddb)
    alice.update_event_source_mapping(UUID=kaf, FunctionName="payments-v2")
    settle(kaf)
    extra = [alice.create_event_source_mapping(FunctionName="bulk", EventSourceArn=f"arn:aws:sqs:us-east-1:{A}:bulk{i}")["UUID"]
             for i in range(12)]
    for u in extra:
        settle(u)
    arn = alice.get_event_source_mapping(UUID=sqs)["EventSourceMappingArn"]
    bob.tag_resource(Resource=arn, Tags={"owner": "checkout", "team": "payments"})
    alice.untag_resource(Resource=arn, TagKeys=["team"])
    alice.tag_resource(Resource=alice.get_event_source_mapping(UUID=kin)["EventSourceMappingArn"], Tags={"doomed": "yes"})
    alice.delete_event_source_mapping(UUID=kin)
    gone(kin)
    alice.delete_event_source_mapping(UUID=extra[0])
    gone(extra[0])
    server.terminate()
    server.wait(timeout=10)
    for name, command in [("replay.json", "replay"), ("verify.txt", "verify")]:
        with open(os.path.join(folder, name), "w") as out:
            subprocess.run([BINARY, command, "--data-dir", folder], stdout=out, check=True)


if __name__ == "__main__":
    main()
