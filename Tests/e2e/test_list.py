"""ListEventSourceMappings: filters, paging, and the AWS CLI."""
import json
import os
import subprocess

import pytest

from conftest import ACCOUNT


def create_many(lam, n, function="worker", prefix="q"):
    return [lam.create_event_source_mapping(FunctionName=function, EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:{prefix}{i}")["UUID"]
            for i in range(n)]


def test_paging_over_250_sees_each_mapping_exactly_once(lam):
    made = create_many(lam, 250)
    pages = list(lam.get_paginator("list_event_source_mappings").paginate(PaginationConfig={"PageSize": 100}))
    assert [len(p["EventSourceMappings"]) for p in pages] == [100, 100, 50]
    assert "NextMarker" not in pages[-1]
    seen = [m["UUID"] for p in pages for m in p["EventSourceMappings"]]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 250


def test_writes_between_pages_do_not_repeat_or_skip(lam):
    made = create_many(lam, 120)
    seen, marker, extra = [], None, 0
    while True:
        kwargs = {"MaxItems": 25, **({"Marker": marker} if marker else {})}
        page = lam.list_event_source_mappings(**kwargs)
        seen += [m["UUID"] for m in page["EventSourceMappings"]]
        extra += 1
        lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:late{extra}")
        marker = page.get("NextMarker")
        if not marker:
            break
    assert len(seen) == len(set(seen))
    assert set(made) <= set(seen)


def test_max_items_above_100_still_pages_at_100(lam):
    create_many(lam, 130)
    page = lam.list_event_source_mappings(MaxItems=1000)
    assert len(page["EventSourceMappings"]) == 100 and "NextMarker" in page


def test_filters_by_source_and_by_function_in_any_form(lam):
    a = create_many(lam, 3, function="alpha", prefix="a")
    b = create_many(lam, 2, function="beta", prefix="b")
    for form in ["alpha", f"{ACCOUNT}:function:alpha", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:alpha"]:
        got = [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=form)["EventSourceMappings"]]
        assert got == a, form
    src = f"arn:aws:sqs:us-east-1:{ACCOUNT}:b1"
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=src)["EventSourceMappings"]] == [b[1]]
    assert lam.list_event_source_mappings(EventSourceArn=src, FunctionName="alpha")["EventSourceMappings"] == []
    assert lam.list_event_source_mappings(FunctionName="doesnotexist")["EventSourceMappings"] == []
    assert lam.list_event_source_mappings(EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:somequeue")["EventSourceMappings"] == []


def test_max_items_out_of_range_is_a_validation_error(server):
    lam = server.client()
    with pytest.raises(lam.exceptions.ClientError) as e:
        lam.list_event_source_mappings(MaxItems=10001)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_aws_cli_lists_mappings(server, lam):
    made = create_many(lam, 3)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDCLI", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(["aws", "lambda", "list-event-source-mappings", "--endpoint-url", server.endpoint, "--output", "json"],
                         capture_output=True, text=True, env=env, timeout=60, check=True)
    assert sorted(m["UUID"] for m in json.loads(out.stdout)["EventSourceMappings"]) == sorted(made)
