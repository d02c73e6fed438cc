"""Timelines and exports of a known history built through the API by several callers."""
import csv
import datetime
import io
import json
import os
import re
import shutil
import time

import pytest

from conftest import ACCOUNT, Server, run_cli, wait_gone, wait_state

NOTE = 'line one\nline two, with "quotes"'


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """alice and bob create, update, disable, enable, change nested fields and delete."""
    server = Server(str(tmp_path_factory.mktemp("audit") / "data"), transition_delay=0.02).start()
    alice = server.client(access_key="AKIAALICE0000000001")
    bob = server.client(access_key="AKIABOB00000000000002", region="eu-west-1")
    req = {}
    sqs = alice.create_event_source_mapping(
        FunctionName="orders", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders", Tags={"note": NOTE},
        ProvisionedPollerConfig={"MinimumPollers": 2, "MaximumPollers": 10},
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": ["a,b", "say \\"hi\\""]}}'}]})
    req["create"] = sqs["ResponseMetadata"]["RequestId"]
    u = sqs["UUID"]
    wait_state(alice, u, {"Enabled"})
    mid = time.time()
    time.sleep(0.05)
    r = bob.update_event_source_mapping(UUID=u, BatchSize=50, MaximumBatchingWindowInSeconds=5)
    req["update"] = r["ResponseMetadata"]["RequestId"]
    wait_state(alice, u, {"Enabled"})
    alice.update_event_source_mapping(UUID=u, ProvisionedPollerConfig={"MinimumPollers": 2, "MaximumPollers": 40})
    wait_state(alice, u, {"Enabled"})
    alice.update_event_source_mapping(UUID=u, Enabled=False)
    wait_state(alice, u, {"Disabled"})
    bob.update_event_source_mapping(UUID=u, Enabled=True)
    wait_state(alice, u, {"Enabled"})
    other = bob.create_event_source_mapping(FunctionName="clicks", EventSourceArn=f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/c",
                                            StartingPosition="LATEST")["UUID"]
    wait_state(alice, other, {"Enabled"})
    r = bob.delete_event_source_mapping(UUID=u)
    req["delete"] = r["ResponseMetadata"]["RequestId"]
    wait_gone(alice, u)
    server.stop()
    yield {"dir": server.data_dir, "uuid": u, "other": other, "requests": req, "mid": mid}


def head_hash(data_dir):
    return re.search(r"head hash: (\w+)", run_cli("verify", "--data-dir", data_dir).stdout).group(1)


def test_timeline_text_shows_changes_states_and_actors_in_order(history):
    out = run_cli("timeline", "--data-dir", history["dir"], history["uuid"]).stdout
    lines = out.splitlines()
    assert lines[0].startswith("log events 1-") and head_hash(history["dir"]) in lines[0]
    assert "\x1b[" not in out  # no colour when not a terminal
    ops = [l.split()[2] for l in lines[1:] if not l.startswith(" ")]
    assert ops == ["CreateEventSourceMapping", "Creating", "UpdateEventSourceMapping", "Updating", "UpdateEventSourceMapping",
                   "Updating", "UpdateEventSourceMapping", "Disabling", "UpdateEventSourceMapping", "Enabling",
                   "DeleteEventSourceMapping", "Deleting"]
    assert "      BatchSize: 10 → 50" in lines
    assert "      Tags.note: (none) → " + json.dumps(NOTE) in lines
    assert "      ProvisionedPollerConfig.MaximumPollers: 10 → 40" in lines
    update = next(l for l in lines if "UpdateEventSourceMapping" in l and history["requests"]["update"] in l)
    assert "AKIABOB00000000000002 from 127.0.0.1" in update and "Enabled → Updating" in update


def test_timeline_json_and_time_filters(history):
    doc = json.loads(run_cli("timeline", "--data-dir", history["dir"], "--format", "json").stdout)
    seqs = [e["Sequence"] for e in doc["Events"]]
    assert seqs == sorted(seqs) and seqs[0] == 1
    assert doc["Coverage"]["HeadHash"] == head_hash(history["dir"])
    update = next(e for e in doc["Events"] if e.get("Actor", {}).get("RequestId") == history["requests"]["update"])
    assert {"Field": "BatchSize", "Before": 10, "After": 50} in update["Changes"]
    assert update["Actor"]["AccessKeyId"] == "AKIABOB00000000000002" and update["Actor"]["Region"] == "eu-west-1"
    assert update["StateBefore"] == "Enabled" and update["StateAfter"] == "Updating"
    since = datetime.datetime.fromtimestamp(history["mid"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    later = json.loads(run_cli("timeline", "--data-dir", history["dir"], "--format", "json", "--since", since).stdout)["Events"]

    def parse(t):
        return datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    assert later and all(parse(e["Time"]) >= parse(since) for e in later)
    assert len(later) < len(doc["Events"])
    assert all(e["Operation"] != "CreateEventSourceMapping" or e["UUID"] == history["other"] for e in later)


def test_export_jsonl_is_one_event_per_line_after_its_coverage(history):
    out = run_cli("export", "--data-dir", history["dir"], "--format", "jsonl", "--mapping", history["uuid"]).stdout
    lines = [json.loads(l) for l in out.splitlines()]
    assert lines[0]["RecordType"] == "ExportCoverage" and lines[0]["HeadHash"] == head_hash(history["dir"])
    assert lines[0]["Filter"] == f"mapping {history['uuid']}"
    assert all(l["RecordType"] == "Event" and l["UUID"] == history["uuid"] for l in lines[1:])
    assert len(lines) - 1 == 12


def without_coverage(command, out):
    """What a command printed after the coverage it states, and that coverage's verification."""
    if command == ["timeline", "--format", "json"]:
        doc = json.loads(out)
        return doc["Events"], doc["Coverage"]["Verification"], doc["Coverage"]["HeadHash"]
    lines = out.splitlines()
    if command[:3] == ["export", "--format", "jsonl"]:
        first = json.loads(lines[0])
        return lines[1:], first["Verification"], first["HeadHash"]
    said = lines[0].split("verification: ")[1].split(", filter: ")[0]  # csv states its filter after it
    return lines[1:], said, re.search(r"head hash (\w+)", lines[0]).group(1)


@pytest.mark.parametrize("command", [["timeline"], ["timeline", "--format", "json"], ["export", "--format", "jsonl"],
                                     ["export", "--format", "csv"], ["export", "--format", "cloudtrail"]])
def test_one_mappings_history_through_the_index_is_what_walking_the_whole_log_says(history, command, tmp_path):
    data = str(tmp_path / "data")
    shutil.copytree(history["dir"], data)
    index = os.path.join(data, "index", "mappings.idx")
    if os.path.exists(index):  # made by an earlier test's read of the same folder
        os.remove(index)

    def read(uuid, *extra):
        args = command[:1] + ["--data-dir", data] + command[1:] + (["--mapping", uuid] if command[0] == "export" else [uuid])
        return run_cli(*args, *extra).stdout

    # The first read walks the whole log (and says so) and writes the index; the next ones use it.
    first = read(history["uuid"])
    assert os.path.exists(index)
    if command[-1] != "cloudtrail":
        assert without_coverage(command, first)[1] == "ok"
    for uuid in (history["uuid"], history["other"]):
        if command[-1] == "cloudtrail":
            fast, walked = json.loads(read(uuid)), json.loads(read(uuid, "--verify"))
            assert fast["Records"] == walked["Records"] and len(fast["Records"]) >= 2
            assert walked["EsmlogExport"]["Verification"] == "ok"
            assert "not walked" in fast["EsmlogExport"]["Verification"]
            continue
        events, said, head = without_coverage(command, read(uuid))
        walked_events, walked_said, walked_head = without_coverage(command, read(uuid, "--verify"))
        assert events == walked_events and len(events) >= 2
        assert head == walked_head == head_hash(data)
        assert walked_said == "ok"
        assert "the chain before it was not walked" in said and "checked through the mapping index" in said

    # A damaged index is not used: the log is walked (and says so), and the index written again.
    with open(index, "r+b") as f:
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 0xFF]))
    if command[-1] != "cloudtrail":
        events, said, _ = without_coverage(command, read(history["uuid"]))
        assert said == "ok" and events == without_coverage(command, read(history["uuid"], "--verify"))[0]
        assert "not walked" in without_coverage(command, read(history["uuid"]))[1]


def test_export_csv_has_a_row_per_changed_field_and_quotes_properly(history, tmp_path):
    path = tmp_path / "out.csv"
    run_cli("export", "--data-dir", history["dir"], "--format", "csv", "--output", str(path))
    raw = path.read_bytes().decode()
    assert raw.startswith("# esmlog export: log events 1-")
    rows = list(csv.reader(io.StringIO(raw.split("\r\n", 1)[1], newline="")))
    header, rows = rows[0], rows[1:]
    assert header[:4] == ["sequence", "time", "uuid", "operation"] and header[-3:] == ["field", "before", "after"]
    note = next(r for r in rows if r[header.index("field")] == "Tags.note")
    assert note[header.index("after")] == NOTE
    pattern = next(r for r in rows if r[header.index("field")] == "FilterCriteria.Filters")
    assert json.loads(pattern[header.index("after")]) == [{"Pattern": '{"body": {"kind": ["a,b", "say \\"hi\\""]}}'}]
    batch = next(r for r in rows if r[header.index("field")] == "BatchSize" and r[header.index("before")] == "10")
    assert batch[header.index("after")] == "50" and batch[header.index("access_key_id")] == "AKIABOB00000000000002"
    assert all(len(r) == len(header) for r in rows)


def test_export_html_is_self_contained_with_diffs_filters_and_coverage(history, tmp_path):
    path = tmp_path / "out.html"
    run_cli("export", "--data-dir", history["dir"], "--format", "html", "--output", str(path))
    page = path.read_text()
    assert head_hash(history["dir"]) in page and "verification: <span class=\"ok\">ok</span>" in page
    # Nothing from elsewhere: links only to places in the page itself (the timeline's dots).
    assert not re.search(r"src\s*=|href\s*=\s*\"(?!#ev-\d+\")|https?://|@import|url\(", page)
    for target in re.findall(r'href="#(ev-\d+)"', page):
        assert f'id="{target}"' in page
    assert "<del>10</del> → <ins>50</ins>" in page
    assert history["uuid"] in page and history["other"] in page
    assert 'id="f-mapping"' in page and 'id="f-actor"' in page and 'data-actor="AKIABOB00000000000002"' in page


def test_export_cloudtrail_records_carry_the_documented_fields(history):
    doc = json.loads(run_cli("export", "--data-dir", history["dir"], "--format", "cloudtrail").stdout)
    records = doc["Records"]
    assert doc["EsmlogExport"]["HeadHash"] == head_hash(history["dir"])
    calls = [r for r in records if r["eventType"] == "AwsApiCall"]
    by_request = {r["requestID"]: r for r in calls}
    create = by_request[history["requests"]["create"]]
    assert create["eventName"] == "CreateEventSourceMapping20150331"
    assert create["eventSource"] == "lambda.amazonaws.com" and create["awsRegion"] == "us-east-1"
    assert create["userIdentity"] == {"type": "IAMUser", "accessKeyId": "AKIAALICE0000000001", "accountId": ACCOUNT}
    assert create["requestParameters"]["FunctionName"] == "orders" and create["readOnly"] is False
    assert create["responseElements"]["UUID"] == history["uuid"] and create["recipientAccountId"] == ACCOUNT
    assert by_request[history["requests"]["update"]]["eventName"] == "UpdateEventSourceMapping20150331"
    assert by_request[history["requests"]["update"]]["requestParameters"] == {"BatchSize": 50, "MaximumBatchingWindowInSeconds": 5, "uUID": history["uuid"]}
    assert by_request[history["requests"]["delete"]]["eventName"] == "DeleteEventSourceMapping20150331"
    for r in records:
        for key in ["eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
                    "userIdentity", "eventID", "readOnly", "eventType", "managementEvent"]:
            assert key in r, key
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["eventTime"])
    assert len({r["eventID"] for r in records}) == len(records)
    assert {r["eventType"] for r in records} == {"AwsApiCall", "AwsServiceEvent"}


def test_bad_time_is_refused(history):
    r = run_cli("export", "--data-dir", history["dir"], "--format", "jsonl", "--since", "last tuesday", check=False)
    assert r.returncode != 0 and "RFC 3339" in r.stderr
