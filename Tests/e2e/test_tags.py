"""ListTags, TagResource and UntagResource on mapping ARNs, on the wire with boto3 and the AWS CLI,
and tag changes as audited events: timeline, exports, replay --at, restart."""
import csv
import io
import json
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import BINARY, Server, run_cli, wait_gone, wait_state
from test_sigv4 import ACCOUNT_A, KEY_A, KEY_B, SECRET_A, SECRET_B, client as signed_client, signed_server  # noqa: F401

SQS = "arn:aws:sqs:us-east-1:123456789012:orders"


def error(exc):
    return (exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"],
            exc.value.response["Error"]["Message"])


def make(lam, tags=None, source=SQS):
    m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=source, **({"Tags": tags} if tags else {}))
    return m


def test_tags_given_on_create_are_listed_and_never_in_esm_responses(lam):
    m = make(lam, {"team": "payments"})
    assert "Tags" not in m
    assert lam.list_tags(Resource=m["EventSourceMappingArn"])["Tags"] == {"team": "payments"}
    assert "Tags" not in lam.get_event_source_mapping(UUID=m["UUID"])
    bare = make(lam, source=SQS + "-2")
    assert lam.list_tags(Resource=bare["EventSourceMappingArn"])["Tags"] == {}


def test_tag_merges_untag_removes_and_both_answer_204(lam):
    m = make(lam, {"team": "payments", "tier": "1"})
    arn = m["EventSourceMappingArn"]
    r = lam.tag_resource(Resource=arn, Tags={"owner": "checkout", "team": "payments"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "payments", "tier": "1", "owner": "checkout"}
    r = lam.untag_resource(Resource=arn, TagKeys=["tier", "absent"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "payments", "owner": "checkout"}
    # Tags are not configuration: LastModified and State stay. Compared once the system's
    # Creating -> Enabled transition is done, so that it cannot fall between the two reads.
    before = wait_state(lam, m["UUID"], ("Enabled",))
    lam.tag_resource(Resource=arn, Tags={"x": "y"})
    after = lam.get_event_source_mapping(UUID=m["UUID"])
    assert (after["LastModified"], after["State"]) == (before["LastModified"], before["State"])


def test_unknown_and_deleted_mapping_arns_are_404_with_awss_text(lam):
    missing = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:00000000-0000-4000-8000-000000000000"
    for call in (lambda: lam.list_tags(Resource=missing), lambda: lam.tag_resource(Resource=missing, Tags={"a": "b"}),
                 lambda: lam.untag_resource(Resource=missing, TagKeys=["a"])):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("ResourceNotFoundException", 404, f"Event source mapping not found: {missing}")
    m = make(lam)
    wait_state(lam, m["UUID"], {"Enabled"})
    lam.delete_event_source_mapping(UUID=m["UUID"])
    wait_gone(lam, m["UUID"])
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource=m["EventSourceMappingArn"])
    assert error(e)[:2] == ("ResourceNotFoundException", 404)


def test_other_resources_and_bad_tags_get_a_clear_4xx_and_store_nothing(lam, server):
    m = make(lam)
    arn = m["EventSourceMappingArn"]
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource="arn:aws:lambda:us-east-1:123456789012:function:worker")
    assert error(e)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        lam.list_tags(Resource="arn:aws:sqs:us-east-1:123456789012:q")
    assert error(e)[:2] == ("ValidationException", 400)
    for tags, code in [({"k" * 129: "v"}, "ValidationException"), ({"k": "v" * 257}, "ValidationException"),
                       ({"aws:reserved": "v"}, "InvalidParameterValueException"),
                       ({f"k{i}": "v" for i in range(51)}, "InvalidParameterValueException")]:
        with pytest.raises(ClientError) as e:
            lam.tag_resource(Resource=arn, Tags=tags)
        assert error(e)[:2] == (code, 400), tags
    assert lam.list_tags(Resource=arn)["Tags"] == {}
    events = json.loads(run_cli("timeline", "--data-dir", server.data_dir, m["UUID"], "--format", "json").stdout)["Events"]
    assert [e["Operation"] for e in events if e["Operation"] in ("TagResource", "UntagResource")] == []


def test_the_aws_cli_tags_and_lists(server, lam):
    m = make(lam)
    env = {"AWS_ACCESS_KEY_ID": "AKIDCLI", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    import os
    env["PATH"] = os.environ["PATH"]
    base = ["aws", "lambda", "--endpoint-url", server.endpoint]
    subprocess.run(base + ["tag-resource", "--resource", m["EventSourceMappingArn"], "--tags", "env=staging,owner=cli"],
                   check=True, env=env, capture_output=True, timeout=60)
    out = subprocess.run(base + ["list-tags", "--resource", m["EventSourceMappingArn"]], check=True, env=env, capture_output=True,
                         text=True, timeout=60)
    assert json.loads(out.stdout)["Tags"] == {"env": "staging", "owner": "cli"}


def test_tag_changes_are_audited_events_with_their_actor(server, lam, data_dir):
    m = make(lam, {"team": "payments"})
    arn = m["EventSourceMappingArn"]
    wait_state(lam, m["UUID"], {"Enabled"})
    bob = server.client(access_key="AKIDBOB")
    tagged = bob.tag_resource(Resource=arn, Tags={"owner": "checkout"})
    time.sleep(0.01)
    at_tagged = json.loads(run_cli("replay", "--data-dir", data_dir).stdout)
    untagged = lam.untag_resource(Resource=arn, TagKeys=["team"])
    server.stop()

    timeline = json.loads(run_cli("timeline", "--data-dir", data_dir, m["UUID"], "--format", "json").stdout)["Events"]
    tag_events = [e for e in timeline if e["Operation"] in ("TagResource", "UntagResource")]
    assert [(e["Operation"], e["Actor"]["AccessKeyId"], e["Actor"]["RequestId"], e["Changes"]) for e in tag_events] == [
        ("TagResource", "AKIDBOB", tagged["ResponseMetadata"]["RequestId"], [{"Field": "Tags.owner", "Before": None, "After": "checkout"}]),
        ("UntagResource", "AKIDEXAMPLE", untagged["ResponseMetadata"]["RequestId"], [{"Field": "Tags.team", "Before": "payments", "After": None}]),
    ]
    text = run_cli("timeline", "--data-dir", data_dir, m["UUID"]).stdout
    assert "Tags.owner: (none) → checkout" in text and "Tags.team: payments → (none)" in text

    rows = list(csv.reader(io.StringIO(run_cli("export", "--data-dir", data_dir, "--format", "csv").stdout)))
    assert any("TagResource" in r and "Tags.owner" in r and "AKIDBOB" in r for r in rows)
    trail = json.loads(run_cli("export", "--data-dir", data_dir, "--format", "cloudtrail").stdout)["Records"]
    names = [r["eventName"] for r in trail]
    assert "TagResource20170331v2" in names and "UntagResource20170331v2" in names
    record = next(r for r in trail if r["eventName"] == "TagResource20170331v2")
    assert record["requestParameters"] == {"resource": arn, "tags": {"owner": "checkout"}}
    assert record["requestID"] == tagged["ResponseMetadata"]["RequestId"]

    # Time travel: the tags as they were, beside the mappings.
    seq = next(e["Sequence"] for e in tag_events if e["Operation"] == "TagResource")
    then = json.loads(run_cli("replay", "--data-dir", data_dir, "--at-seq", str(seq)).stdout)
    assert then["Tags"][m["UUID"]] == {"team": "payments", "owner": "checkout"} == at_tagged["Tags"][m["UUID"]]
    now = json.loads(run_cli("replay", "--data-dir", data_dir).stdout)
    assert now["Tags"][m["UUID"]] == {"owner": "checkout"}

    # Tags survive a restart, from the log and from a snapshot.
    run_cli("snapshot", "--data-dir", data_dir)
    again = Server(data_dir).start()
    try:
        assert again.client().list_tags(Resource=arn)["Tags"] == {"owner": "checkout"}
    finally:
        again.stop()
    assert "ok" in run_cli("verify", "--data-dir", data_dir).stdout.splitlines()


def test_with_sigv4_a_key_tags_only_its_own_accounts_mappings(signed_server):  # noqa: F811
    a = signed_client(signed_server, KEY_A, SECRET_A)
    b = signed_client(signed_server, KEY_B, SECRET_B)
    m = a.create_event_source_mapping(FunctionName="f", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT_A}:q")
    arn = m["EventSourceMappingArn"]
    assert f":{ACCOUNT_A}:" in arn
    with pytest.raises(ClientError) as e:
        b.tag_resource(Resource=arn, Tags={"stolen": "yes"})
    assert error(e)[:2] == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        b.list_tags(Resource=arn)
    assert error(e)[:2] == ("ResourceNotFoundException", 404)
    a.tag_resource(Resource=arn, Tags={"mine": "yes"})
    assert a.list_tags(Resource=arn)["Tags"] == {"mine": "yes"}
